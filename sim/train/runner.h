/* SPDX-License-Identifier: Apache-2.0 */
/* runner: replays a parsed scenario (scenario.h) against a lab, line by line, as an
 * operator would. Steps and connects are the wapsim program itself run as subprocesses
 * (subprocess.h), so a scenario can do nothing an operator cannot; expectations read the
 * last connect's result, the lab's events, or `wapsim diagnose --json`.
 *
 * A ws_scn_run is one replay against a lab the caller opened: its transcript, its first
 * failure and the last connect's result. The caller fills it with ws_scn_run_init and
 * frees what it holds with ws_scn_run_clear (the lab stays open: the caller's).
 *
 * ws_runner_run runs a whole scenario in a lab of its own: a temporary directory made
 * with ws_lab_init (keys copied from the template) on a subnet no other lab uses
 * (subnet.h), brought up, replayed, taken down and removed (kept, stopped, on failure
 * with keep). Its ws_scn_result is the caller's, freed with ws_scn_result_clear. */
#ifndef WAPSIM_RUNNER_H
#define WAPSIM_RUNNER_H

#include <signal.h>
#include <stdint.h>

#include "base/buf.h"
#include "lab/state.h"
#include "train/scenario.h"

#define WS_RUNNER_TIMEOUT_S 120 /* one step or connect, unless the caller says otherwise */

/* What the last connect line gave. */
typedef struct ws_scn_last {
    int have;                  /* 1 once a connect gave a result */
    int ok;                    /* it reached the console */
    char stage[32];            /* where it stopped, or the last hop */
    int has_code;
    unsigned long long code;   /* disconnect code, HRESULT, RDSTLS result or HTTP status */
    char *message;
    int portal_has_status;
    long portal_status;        /* HTTP status the browser got */
    char *portal_content_type;
    char *portal_body;
} ws_scn_last;

typedef struct ws_scn_run {
    const ws_scenario *sc;
    ws_state *st;                 /* the lab, the caller's */
    int own_lab;                  /* 1: st is the runner's own (ws_runner_run): it is closed while each
                                   * command runs in a forked copy of the program (no exec) and opened again */
    const char *work;             /* where each command's output is kept (line-N.out, ...), or NULL */
    int timeout_s;                /* one step or connect, seconds */
    volatile sig_atomic_t *stop;  /* the signal number once interrupted, or NULL */
    ws_buf log;                   /* the transcript */
    char *failure;                /* the first failure, "file:line: line: what happened", or NULL */
    int fail_lineno;              /* its line number (0: not a line's) */
    int fail_exit;                /* a step's exit status when that was the failure, else -1 */
    char *fail_what;              /* what happened, without the file and line */
    int skipped;                  /* expect diagnose lines without an operator */
    int64_t mark;                 /* events after this id are "since the last connect" */
    ws_scn_last lc;
    int connects_total;           /* the last connect line's connections (its repeat=) */
    int connects_failed;          /* ... of which did not reach the console */
    int ncodes;                   /* distinct codes of the failed ones, ascending */
    unsigned long long codes[16];
} ws_scn_run;

void ws_scn_run_init(ws_scn_run *r, const ws_scenario *sc, ws_state *st, const char *work, int timeout_s,
                     volatile sig_atomic_t *stop);
/* One line; 0, or -1 with r->failure set (and the transcript saying so). */
int ws_scn_run_line(ws_scn_run *r, const ws_scn_line *l);
/* Every line in order until the first that fails (or an interruption); 0 or -1. */
int ws_scn_run_lines(ws_scn_run *r);
void ws_scn_run_clear(ws_scn_run *r);

/* One scenario's outcome, as a report shows it. */
typedef struct ws_scn_result {
    int done, passed;
    double seconds;
    char *message;    /* "file:line: ..." when it failed */
    char *note;       /* "1 expect diagnose skipped (no operator)", or NULL */
    char *lab;        /* the kept lab, or NULL */
    char *transcript;
} ws_scn_result;

void ws_scn_result_clear(ws_scn_result *res);

typedef struct ws_runner_opts {
    int timeout_s;                /* one step or connect, seconds */
    int keep;                     /* keep a failed scenario's lab (stopped) */
    unsigned base;                /* where this run's subnets start (subnet.h) */
    int index;                    /* the scenario's place in the run */
    volatile sig_atomic_t *stop;  /* the signal number once interrupted, or NULL */
} ws_runner_opts;

/* Runs sc in a lab of its own; *res gets the outcome (never fails otherwise). */
void ws_runner_run(const ws_scenario *sc, const ws_runner_opts *o, ws_scn_result *res);

/* A broken lab to hand over (`wapsim scenario break`): the scenario's lines before its
 * first connect or expect line (its steps: the mistake) run in a lab made as
 * ws_runner_run makes one (the same init, a subnet of the same range), in dir or a new
 * folder of ws_runner_tmp_dir(); the lab is left running. Each command's output and
 * the transcript are kept in its scenario/ folder. */
typedef struct ws_runner_break_opts {
    const char *dir;              /* the lab's directory (missing or empty), or NULL: a new one */
    int timeout_s;                /* one step, seconds */
    volatile sig_atomic_t *stop;  /* the signal number once interrupted, or NULL */
} ws_runner_break_opts;

typedef struct ws_runner_break_result {
    char *lab;        /* the lab's absolute path (running, or stopped and kept), or NULL */
    char subnet[32];  /* its subnet, "" when none was made */
    int steps;        /* the lines run */
    char *message;    /* the failure, "file:line: line: what happened" as the runner says it, or NULL */
    char *transcript;
} ws_runner_break_result;

/* 0: the lab is up with the steps run. -1: a step (or `up`) failed: the lab is taken
 * down and kept (res->lab), res->message says why. -2: no lab was made (dir not usable,
 * res->message). The result is the caller's, freed with ws_runner_break_result_clear. */
int ws_runner_break(const ws_scenario *sc, const ws_runner_break_opts *o, ws_runner_break_result *res);
void ws_runner_break_result_clear(ws_runner_break_result *res);

/* The directory temporary labs go in: $TMPDIR, else /tmp. */
const char *ws_runner_tmp_dir(void);
/* Appends each line of text to b, after prefix: how a transcript quotes output. */
void ws_runner_indent(ws_buf *b, const char *prefix, const char *text);
/* Removes a directory and everything in it (best effort). */
void ws_runner_rm_rf(const char *dir);
/* Makes the key template when it is missing or old, so parallel labs copy it
 * instead of each generating keys. */
void ws_runner_warm_template(void);

#endif
