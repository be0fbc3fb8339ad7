/* SPDX-License-Identifier: Apache-2.0 */
/* cmd: what the `wapsim` command's subcommands (cmd_*.c) share: the dispatch table
 * entry, the global --lab option, opening the lab and checking a machine named on the
 * command line with a one-line error, and printing a result as JSON or text. A
 * command parses its options (opt.h), calls the library, prints. */
#ifndef WAPSIM_CMD_H
#define WAPSIM_CMD_H

#include <cjson/cJSON.h>

#include "cli/opt.h"
#include "lab/machine.h"
#include "lab/state.h"

typedef struct ws_cmd {
    const char *group;   /* "cert", or NULL for a top-level command */
    const char *name;    /* "list" */
    int (*run)(int argc, char **argv); /* argv[0] is the name; returns the exit status */
    const char *usage;   /* arguments after the name */
    const char *summary; /* one line */
    const char *help;    /* the rest of --help, or NULL */
} ws_cmd;

extern const ws_cmd ws_cmds_lab[], ws_cmds_supervise[], ws_cmds_cert[], ws_cmds_logs[], ws_cmds_rdpfile[], ws_cmds_host[],
    ws_cmds_connect[], ws_cmds_service[];

extern const ws_cmd ws_cmds_vmm[], ws_cmds_gateway[], ws_cmds_clock[];
extern const ws_cmd ws_cmds_scenario[];
extern const ws_cmd ws_cmds_diagnose[];
extern const ws_cmd ws_cmds_exercise[];
extern const ws_cmd ws_cmds_symptoms[];
extern const ws_cmd ws_cmds_fabric_gateway[], ws_cmds_fabric_balancer[], ws_cmds_dns[];
extern const ws_cmd ws_cmds_lab_export[];
extern const ws_cmd ws_cmds_classroom[];

/* --lab given before the command, if any. */
extern const char *ws_cli_lab;

/* Prints --help for a command. */
void ws_cmd_help(const ws_cmd *cmd);
/* Opens the lab for a command or prints the one-line error; returns 0 or exit 2. */
int ws_cmd_open_lab(const char *lab_option, ws_state **st);
/* ws_opt_parse, then ws_cmd_open_lab with its --lab: for a command with nothing to
 * check before it opens the lab. 0 with *st open (the caller closes it), or the exit
 * status with nothing open. */
int ws_cmd_parse_open(int argc, char **argv, const ws_opt *opts, unsigned flags, int min_pos, int max_pos,
                      ws_cli *cli, ws_state **st);
/* ws_opt_parse for a command of one argument (a name, a file): without it, missing
 * is the one-line error ("which file? (wapsim cert check FILE --role ...)"), exit 2. */
int ws_cmd_parse_arg(int argc, char **argv, const ws_opt *opts, unsigned flags, const char *missing, ws_cli *cli);
/* A command's result: o as JSON (--json), or text(o) for a person; frees o. Returns 0. */
int ws_cmd_output(int json, cJSON *o, void (*text)(const cJSON *o));
/* A member of the object o for a text printer: its number (0 when missing) or its
 * string (NULL when missing). */
double ws_cmd_json_num(const cJSON *o, const char *key);
const char *ws_cmd_json_str(const cJSON *o, const char *key);
/* NAME must be a machine of the lab, and of role (NULL: any role): 0 with *m filled
 * (m may be NULL), or one line ("unknown machine 'hv09'", "'rdgw01' is not a Hyper-V
 * host (its role is gateway)") and exit 2. The lab stays open either way. */
int ws_cmd_machine(ws_state *st, const char *name, const char *role, ws_machine *m);
/* "The" machine of a role (the VMM server, the gateway, the portal): 0 with *m
 * filled, or one line and exit 2. The lab stays open either way. */
int ws_cmd_role_machine(ws_state *st, const char *role, ws_machine *m);
/* The RD Gateway a `gateway` command's --machine names (NULL: the first gateway by
 * name, rdgw01): 0 with *m filled, or one line and exit 2. */
int ws_cmd_gateway_machine(ws_state *st, const char *name, ws_machine *m);
/* The end of a change of the lab begun with ws_state_begin: ok says whether the begin
 * and every write succeeded (e, what failed). Commits it then, else rolls it back;
 * 0, or e's one line on stderr and WS_EXIT_FAIL. The lab stays open either way. */
int ws_cmd_commit(ws_state *st, int ok, ws_error *e);
/* Closes the lab and returns status: a command's last word, "return ws_cmd_close(st, rc);". */
int ws_cmd_close(ws_state *st, int status);
/* Prints a JSON value on stdout followed by a newline, and frees it. */
void ws_cmd_print_json(cJSON *json);
/* text on stdout, each of its lines indented by two spaces. */
void ws_cmd_print_indented(const char *text);
/* One-line usage error naming the bad value: prints it and returns 2. */
int ws_cmd_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What main does: one `wapsim ARGS...` command, its exit status (a scenario's commands
 * run it in a forked copy of the runner: train/subprocess.h). */
int ws_cli_main(int argc, char **argv);

/* After getopt_long (optstring starting with ':') returned '?' or ':': one line
 * naming the bad option; returns 2. */
int ws_cmd_bad_option(int ch, char **argv);
#endif
