/* SPDX-License-Identifier: Apache-2.0 */
/* schedule: a run of many scenarios. Which files (a directory stands for its *.scn
 * files, sorted), which of them (--filter tags, then --shard I/N), and running them N
 * at a time, each in a process of its own (fork) that runs it with ws_runner_run and
 * writes its result to a file in the run's directory. The results come back to the
 * caller in file order, as soon as each and those before it are done.
 *
 * SIGINT and SIGTERM are caught from ws_sched_begin to ws_sched_end: the running
 * scenarios fail as interrupted, those not started are reported as not run. */
#ifndef WAPSIM_SCHEDULE_H
#define WAPSIM_SCHEDULE_H

#include <signal.h>

#include "base/buf.h"
#include "base/util.h"
#include "train/runner.h"
#include "train/scenario.h"

#define WS_SCHED_MAX_JOBS 64

/* FILES and DIRS to the list of files (each once); 0, or -1 with e naming the path. */
int ws_sched_collect(int argc, char **argv, ws_strv *paths, ws_error *e);
/* Parses every file into *all (paths->n entries, the caller's: free each with
 * ws_scenario_free, then the array); 0, or -1 with every error in errs. */
int ws_sched_load(const ws_strv *paths, ws_scenario ***all, ws_scn_errors *errs);
/* The scenarios of all[0..n) with any of the tags (all when there is none), then of
 * those the k-th (from 0) when k mod shard_n is shard_i - 1; returns how many, in
 * sel (room for n). */
int ws_sched_select(ws_scenario **all, int n, const ws_strv *tags, int shard_i, int shard_n, ws_scenario **sel);

typedef struct ws_sched {
    char run_dir[4200];           /* where the results are written */
    struct sigaction old_int, old_term;
    int started;
} ws_sched;

typedef struct ws_sched_opts {
    int jobs;      /* scenarios side by side, 1..WS_SCHED_MAX_JOBS */
    int timeout_s; /* one step or connect, seconds */
    int keep;      /* keep failed scenarios' labs */
} ws_sched_opts;

/* Called for each result in file order; index from 0. */
typedef void (*ws_sched_result_fn)(void *ctx, int index, const ws_scenario *sc, const ws_scn_result *res);

/* Gets ready to run n scenarios (the run directory, the key template, the signals);
 * 0, or -1 with e saying why. */
int ws_sched_begin(ws_sched *s, int n, ws_error *e);
/* Runs sel[0..n); res (room for n, the caller's, each freed with ws_scn_result_clear)
 * gets every outcome, fn sees each. Returns the number that failed. */
int ws_sched_run(ws_sched *s, ws_scenario **sel, int n, const ws_sched_opts *o, ws_scn_result *res,
                 ws_sched_result_fn fn, void *ctx);
/* Removes the run directory and gives the signals back. */
void ws_sched_end(ws_sched *s);
/* The signal that interrupted the run, or 0. */
int ws_sched_interrupted(void);

#endif
