/* SPDX-License-Identifier: Apache-2.0 */
/* repair: `wapsim diagnose --fix`, the repairs diagnose prints, run as printed. Each
 * finding's fix lines that start with "wapsim " are split into words as a POSIX shell
 * would split them (train/scenario.h's ws_scn_split; a word starting with '#' begins a
 * comment) and run in order, each as `wapsim --lab LAB ...`, a subprocess of the running
 * program (subprocess.h). The first that fails stops the run. Then the lab is diagnosed
 * again: the repair is complete when nothing is left.
 *
 * A line that is not a plain command (a shell operator or expansion outside quotes:
 * ; | & < > ( ) $ `) is never run. A line identical to one already run in this repair
 * is not run twice (two findings may share a step, such as a host's refresh).
 *
 * The report is the caller's; ws_fix_report_free frees what it holds. */
#ifndef WAPSIM_REPAIR_H
#define WAPSIM_REPAIR_H

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "lab/state.h"
#include "train/diagnose.h"

#define WS_FIX_TIMEOUT_S 120 /* one fix line (a service restart waits for the service) */

typedef struct ws_fix_step {
    const char *finding; /* the finding's id (static) */
    char machine[64];    /* the finding's machine */
    char *line;          /* the fix line as diagnose printed it */
    int status;          /* its exit status (subprocess.h); -1: not run, a repeat of an earlier line */
    char *output;        /* what it printed, stdout and stderr as a terminal shows them ("" when not run) */
} ws_fix_step;

typedef struct ws_fix_report {
    ws_diagnosis before;  /* the diagnosis the repair followed */
    ws_fix_step *steps;   /* the lines run (or skipped as repeats), in order */
    int nsteps;
    int failed;           /* the index of the step that failed, or -1 */
    ws_strv unfixable;    /* "id@machine" of each finding without a runnable wapsim line */
    int have_after;       /* 1 when the lab was diagnosed again */
    ws_diagnosis after;   /* what is left */
    int ok;               /* no step failed and after has no finding */
} ws_fix_report;

/* Called before a step runs (done 0) and after (done 1, s->status and s->output set). */
typedef void (*ws_fix_progress)(void *arg, const ws_fix_step *s, int done);

/* Splits a fix line into the words after "wapsim": 0 with *argv filled (the caller's,
 * ws_strv_free), or -1 with e when it is not a runnable wapsim command (it does not
 * start with "wapsim ", has a shell operator outside quotes, an open quote, or no
 * command). */
int ws_fix_line_argv(const char *line, ws_strv *argv, ws_error *e);

/* Diagnoses the lab (o as for ws_diagnose), runs the fixes against lab (the lab's
 * directory, as --lab names it), diagnoses again. 0 with *r filled (r->ok says whether
 * the repair is complete), or -1 with e when the first diagnosis cannot run. progress
 * may be NULL. */
int ws_diagnose_fix(ws_state *st, const char *lab, const ws_diag_opts *o, ws_fix_progress progress, void *arg,
                    ws_fix_report *r, ws_error *e);
void ws_fix_report_free(ws_fix_report *r);
/* {"ok","before":{diagnosis},"steps":[{"finding","machine","line","status","output"}],
 *  "failed":LINE|null,"unfixable":["id@machine"],"after":{diagnosis}|null} */
cJSON *ws_fix_report_json(const ws_fix_report *r);

#endif
