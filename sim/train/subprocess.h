/* SPDX-License-Identifier: Apache-2.0 */
/* subprocess: one operator command, `wapsim --lab LAB ARGS...`, run as a child the way a
 * scenario's step or an exercise's break runs it. The child is the running program
 * itself (/proc/self/exe, even if a build has replaced the file since), in a process
 * group of its own, with stdin on /dev/null and its stdout and stderr captured, each
 * bounded by WS_BUF_MAX_SUBPROCESS (what comes after is dropped). When the timeout
 * passes, or *stop becomes non-zero, the whole group is killed.
 *
 * The caller owns the result's buffers and frees them with ws_subprocess_result_free. */
#ifndef WAPSIM_SUBPROCESS_H
#define WAPSIM_SUBPROCESS_H

#include <signal.h>

#include "base/buf.h"

#define WS_SUBPROCESS_TIMED_OUT 124 /* the status after the timeout, as timeout(1) says it */
#define WS_SUBPROCESS_SIGNAL 256    /* the status is 256 + N after signal N */
#define WS_SUBPROCESS_NO_EXEC 127   /* the child could not run the program */

typedef struct ws_subprocess {
    const char *lab;              /* the lab, given as --lab before the command; also its working folder */
    char **args;                  /* the command and its arguments */
    int nargs;
    int timeout_s;                /* seconds, at least 1 */
    int merge;                    /* 1: stderr goes into out, interleaved as a terminal shows it */
    volatile sig_atomic_t *stop;  /* kill the child once this is non-zero; NULL: never */
    int no_exec;                  /* 1: the child runs the command in its copy of this program (the function
                                   * given to ws_subprocess_set_main) rather than exec it again; the caller
                                   * holds no SQLite connection across the call (locks and the WAL index are
                                   * per process) */
} ws_subprocess;

/* The program's own main (ws_cli_main), for no_exec; without it every command is exec'd. */
typedef int (*ws_subprocess_main)(int argc, char **argv);
void ws_subprocess_set_main(ws_subprocess_main fn);

typedef struct ws_subprocess_result {
    int status;    /* the exit status, WS_SUBPROCESS_TIMED_OUT, 256 + N, or -1 when it could not start */
    int truncated; /* 1 when output past WS_BUF_MAX_SUBPROCESS was dropped */
    ws_buf out;    /* stdout (and stderr when merged); NUL bytes read as spaces */
    ws_buf err;    /* stderr; empty when merged */
} ws_subprocess_result;

/* Runs the command and waits for it (or kills it); returns r->status. */
int ws_subprocess_run(const ws_subprocess *p, ws_subprocess_result *r);
void ws_subprocess_result_free(ws_subprocess_result *r);

/* The path of the running program (for messages), or "" when it cannot be read. */
const char *ws_subprocess_self(void);

#endif
