/* SPDX-License-Identifier: Apache-2.0 */
/* scenario: the parser of scenario files (scenarios/NAME.scn), one struct per line
 * kind; runner.h replays a parsed scenario in a lab. The format is documented in one
 * place, ws_scenario_format_help in scenario.c (`wapsim scenario format` prints it).
 * Every error is one line, "file:line: message". Parsing never touches a lab; ${...}
 * facts are expanded at run time, against the scenario's lab. A ws_scenario is the
 * caller's, freed with ws_scenario_free; ws_scn_errors with ws_scn_errors_free. */
#ifndef WAPSIM_SCENARIO_H
#define WAPSIM_SCENARIO_H

#include "base/buf.h"
#include "lab/state.h"

typedef enum ws_scn_kind { WS_SCN_STEP, WS_SCN_CONNECT, WS_SCN_EXPECT } ws_scn_kind;

/* `step ARGS...` / `step! ARGS...`: a wapsim command against the scenario's lab. */
typedef struct ws_scn_step {
    int expect_failure; /* step!: a zero exit fails the scenario */
    int argc;
    char **argv; /* split shell-like; ${...} not yet expanded */
} ws_scn_step;

/* `connect tenant=T vm=V [client=VERSION] [password=P] [transport=legacy|websocket] [repeat=N]` or
 * `connect admin=1 vm=V [repeat=N]`: the tenant's (or the administrator's) client, N
 * times in a row (connects.* count them). */
typedef struct ws_scn_connect {
    char *tenant, *vm, *client, *password; /* NULL when not given; ${...} unexpanded */
    int admin, legacy_gateway;
    int repeat; /* 1..WS_SCN_MAX_REPEAT connections, one after another */
} ws_scn_connect;

#define WS_SCN_MAX_REPEAT 200

typedef enum ws_scn_target {
    WS_SCN_CONNECT_OK,
    WS_SCN_CONNECT_STAGE,
    WS_SCN_CONNECT_CODE,
    WS_SCN_CONNECT_MESSAGE,
    WS_SCN_PORTAL_STATUS,
    WS_SCN_PORTAL_CONTENT_TYPE,
    WS_SCN_PORTAL_BODY,
    WS_SCN_EVENT,    /* event MACHINE ID [op TEXT] */
    WS_SCN_NO_EVENT, /* no event MACHINE ID */
    WS_SCN_TRACE,    /* trace MACHINE [op TEXT] */
    WS_SCN_DIAGNOSE, /* expect diagnose OP ID[,ID...]: the finding ids of `wapsim diagnose` */
    WS_SCN_CONNECTS_FAILED, /* expect connects.failed OP N|N%: of the last connect line's repeats */
    WS_SCN_CONNECTS_OK,     /* expect connects.ok OP N|N% */
    WS_SCN_CONNECTS_CODES,  /* expect connects.codes OP TEXT: the failures' codes, "50331654,50331701" */
} ws_scn_target;

typedef enum ws_scn_op {
    WS_SCN_OP_NONE, /* event/trace without operator: present */
    WS_SCN_OP_EQ,
    WS_SCN_OP_NE,
    WS_SCN_OP_CONTAINS,
    WS_SCN_OP_NOT_CONTAINS,
    WS_SCN_OP_LT, /* <, <=, >, >=: numbers only (connects.*) */
    WS_SCN_OP_LE,
    WS_SCN_OP_GT,
    WS_SCN_OP_GE,
} ws_scn_op;

/* `expect WHAT OP VALUE`. */
typedef struct ws_scn_expect {
    ws_scn_target target;
    char *machine; /* event, no event, trace */
    int event_id;  /* event, no event */
    ws_scn_op op;
    char *value; /* "" without operator; ${...} unexpanded; for diagnose the rest of the line */
    /* connects.failed, connects.ok: = and != take alternatives ("0%,100%": one of them) */
    int nnumbers;
    long numbers[4]; /* each a count, or a percentage (0..100) when percent[i] */
    int percent[4];
} ws_scn_expect;

typedef struct ws_scn_line {
    ws_scn_kind kind;
    int lineno;
    char *text; /* the line as written (trimmed), for messages and transcripts */
    union {
        ws_scn_step step;
        ws_scn_connect connect;
        ws_scn_expect expect;
    } u;
} ws_scn_line;

typedef struct ws_scenario {
    char *path;    /* as given */
    char *name;    /* file name without directory and ".scn" */
    char *title;   /* NULL when not given */
    char *mistake; /* NULL when not given */
    char *doc;     /* NULL when not given; continuation lines joined with '\n' */
    char *ticket;  /* the customer's report (exercises); NULL when not given; as doc */
    ws_strv tags;  /* for --filter */
    ws_scn_line *lines;
    int nlines;
} ws_scenario;

/* Parse errors, each "file:line: message" (v[0..n)). */
typedef ws_strv ws_scn_errors;

/* Parse text as the file path; 0 and *out, or -1 with every error appended to errs
 * (the parser goes on after an error, so one run names them all). */
int ws_scenario_parse(const char *path, const char *text, ws_scenario **out, ws_scn_errors *errs);
/* Read and parse a file; an unreadable file is one error. */
int ws_scenario_load(const char *path, ws_scenario **out, ws_scn_errors *errs);
void ws_scenario_free(ws_scenario *s);
void ws_scn_errors_free(ws_scn_errors *errs);
int ws_scenario_has_tag(const ws_scenario *s, const char *tag);

/* Split a line into words: spaces and tabs separate them; "..." (in which \" and \\
 * stand for " and \) and '...' group; a backslash elsewhere is itself. */
int ws_scn_split(const char *in, int *argc, char ***argv, ws_error *e);
void ws_scn_free_argv(int argc, char **argv);

/* Check the ${...} references in a string without a lab (unknown kind, unterminated). */
int ws_scn_check_facts(const char *in, ws_error *e);
/* Expand ${thumbprint:CERT} ${fqdn:MACHINE} ${address:MACHINE} ${vmid:VM} from the lab;
 * an unknown fact is an error naming it. *out is malloc'ed. */
int ws_scn_expand(ws_state *st, const char *in, char **out, ws_error *e);

/* The format's reference, printed by `wapsim scenario format`. */
extern const char ws_scenario_format_help[];

/* "connect.ok", "event", ...; "=", "!=", "~", "!~" ("" for none). */
const char *ws_scn_target_name(ws_scn_target t);
const char *ws_scn_op_name(ws_scn_op op);

#endif
