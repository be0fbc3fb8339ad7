/* SPDX-License-Identifier: Apache-2.0 */
/* report: the text of a scenario run's results, for the caller to print or keep: one
 * line per scenario (with its transcript when it failed), TAP, the summary, a
 * `scenario check` line, and JUnit XML written to a file. Each function appends to a
 * ws_buf the caller owns. */
#ifndef WAPSIM_REPORT_H
#define WAPSIM_REPORT_H

#include "base/buf.h"
#include "base/util.h"
#include "train/runner.h"
#include "train/scenario.h"

typedef struct ws_report_opts {
    int tap;     /* TAP instead of "ok   NAME (N s)" lines */
    int verbose; /* every scenario's transcript, not only failures' */
} ws_report_opts;

/* "1..N" for TAP, nothing otherwise. */
void ws_report_plan(ws_buf *out, const ws_report_opts *o, int n);
/* One scenario's result; number counts from 1. */
void ws_report_result(ws_buf *out, const ws_report_opts *o, int number, const ws_scenario *sc,
                      const ws_scn_result *res);
/* "N passed, N failed" (a TAP comment with tap). */
void ws_report_summary(ws_buf *out, const ws_report_opts *o, int passed, int failed);
/* "ok   FILE: N steps, N connects, N expects: TITLE" for scenario check. */
void ws_report_check(ws_buf *out, const char *path, const ws_scenario *sc);
/* JUnit XML of sel[0..n) and their results to path (total: the run's seconds);
 * 0, or -1 with e naming the file. */
int ws_report_junit(const char *path, ws_scenario **sel, const ws_scn_result *res, int n, double total, ws_error *e);

#endif
