/* SPDX-License-Identifier: Apache-2.0 */
/* exercise: training (`wapsim exercise ...`). An exercise is a scenario file with a
 * `ticket` header (the customer's report). Its "break" is the step lines before its
 * first `expect diagnose` that names a finding (before its first connect when it has
 * none): `exercise start` runs them against the running lab as `wapsim` subprocesses,
 * so the lab carries only the traces an administrator's commands leave. Its repair is
 * the step lines after that point.
 *
 * The catalogue is the .scn files of DIR and of DIR/exercises (DIR: --catalogue, else
 * $WAPSIM_SCENARIOS, else the scenarios/ directory next to the build directory, else an
 * installed wapsim's PREFIX/share/wapsim/scenarios, else ./scenarios). `scenario run`
 * without a path runs the same DIR's *.scn files. An exercise's level is its tag level-1, level-2 or level-3; without
 * one, 2 or 3 for a file named l2-... or l3-... (scenarios/exercises' convention: level 2
 * one member or one host, level 3 combined with a documented mistake), else 1.
 *
 * An attempt is a row of the exercises table (schema 3) that names the scenario only
 * by the SHA-256 of its text, plus <lab>/exercise.active holding the attempt's nonce.
 * The text itself is kept outside the lab, in the cache (<cache>/exercises/HASH.scn).
 * An attempt whose row is missing, or whose lab_instance differs from lab_meta's, is
 * void: the lab was re-created or lab.db restored from a copy. */
#ifndef WAPSIM_EXERCISE_H
#define WAPSIM_EXERCISE_H

#include <stdint.h>

#include "client/client.h"
#include "lab/state.h"
#include "train/scenario.h"

#define WS_EXERCISE_HINTS 3

typedef struct ws_exercise {
    char *path;
    char hash[65]; /* SHA-256 of the file's text, lower-case hex */
    char id[13];   /* the first 12 digits of hash: what `exercise list` shows */
    int level;
    ws_scenario *sc;
    char *generated; /* a generated exercise's generator line (train/generate.h); NULL for a file */
} ws_exercise;

/* The catalogue directory: dir when given, else as described above. */
void ws_exercise_catalogue_dir(const char *dir, char *out, size_t n);
/* Every scenario with a ticket in the catalogue, sorted by level then path. Files that
 * do not parse are skipped (their errors appended to errs when not NULL). */
int ws_exercise_catalogue(const char *dir, ws_exercise **out, int *n, ws_scn_errors *errs);
void ws_exercise_catalogue_free(ws_exercise *c, int n);
/* Load one file as an exercise; -1 with errs filled (no ticket is an error too). */
int ws_exercise_load(const char *path, ws_exercise *out, ws_scn_errors *errs);
void ws_exercise_clear(ws_exercise *x);
/* Find an exercise by hash (64 lower-case hex digits): the cache copy, then the catalogue.
 * The copy's level is not the catalogue's for an untagged l2-/l3- file (its name is the hash):
 * callers take the level from the attempt. */
int ws_exercise_find(const char *dir, const char *hash, ws_exercise *out);
/* Keep the exercise's text in the cache, so it can be found by hash later. */
void ws_exercise_cache(const ws_exercise *x);

/* A generated exercise's text (train/generate.h) as an exercise, x->generated its
 * generator line; with keep, the text is put in the cache at once and x->path names
 * that copy. -1 with errs filled when it does not parse or has no ticket. */
int ws_exercise_from_text(const char *text, const char *generated, int keep, ws_exercise *out, ws_scn_errors *errs);

int ws_exercise_level(const ws_scenario *sc);
/* The index of the first line after the break (see above). */
int ws_exercise_break_end(const ws_scenario *sc);

typedef struct ws_attempt {
    int64_t id;
    char hash[65];
    int level;
    int64_t started_at, ended_at; /* wall seconds; ended_at 0 while active */
    int has_ended;                /* ended_at was recorded */
    int hints;
    char state[16]; /* active, solved, given-up, void */
    int score, has_score;
    int allow_diagnose;
    char lab_instance[40];
    char nonce[40];
    int checks;          /* times `exercise check` was tried */
    char generated[160]; /* the generator line of a generated exercise, "" for a file */
} ws_attempt;

typedef enum ws_attempt_status {
    WS_ATTEMPT_NONE = 0,   /* no exercise in progress */
    WS_ATTEMPT_ACTIVE = 1, /* *a is the attempt */
    WS_ATTEMPT_VOID = 2,   /* one was started, but the lab is not the one it broke */
} ws_attempt_status;

/* Picks one exercise of the catalogue at level (0: any level): the seed's choice, or a
 * random one when seed is NULL. 0 and *out (the caller's, freed with
 * ws_exercise_clear), or -1 with e. */
int ws_exercise_pick(const char *dir, int level, const unsigned long long *seed, ws_exercise *out, ws_error *e);
/* Runs the exercise's break against the running lab, each step a `wapsim` subprocess
 * (runner.h, with its timeout). 0, or -1 with e naming the line ("line 4: exit 2"). */
int ws_exercise_break(ws_state *st, const ws_exercise *x, ws_error *e);
/* Records a new attempt at x (its row and <lab>/exercise.active); 0, or -1 with e. */
int ws_exercise_begin(ws_state *st, const ws_exercise *x, int allow_diagnose, ws_error *e);
/* Marks a void attempt so (when it has a row) and removes the marker. */
void ws_exercise_void(ws_state *st, const ws_attempt *a);
/* Ends the attempt: state "solved" or "given-up", its score; removes the marker. */
void ws_exercise_end(ws_state *st, const ws_attempt *a, const char *state, int score);
/* Counts one more `exercise check` of the attempt. */
void ws_exercise_count_check(ws_state *st, const ws_attempt *a);
/* Spends the attempt's next hint; returns its number (a->hints + 1). */
int ws_exercise_take_hint(ws_state *st, const ws_attempt *a);
/* What a hint names for a finding id: the part of the deployment to look at. */
const char *ws_exercise_hint_area(const char *finding_id);
/* Every attempt the lab's table holds, oldest first; *out is the caller's (free).
 * 0, or -1 with e. */
int ws_exercise_history(ws_state *st, ws_attempt **out, int *n, ws_error *e);

/* One VM's console, as its tenant's client reached it. */
typedef struct ws_exercise_vm {
    char vm[64], tenant[64];
    ws_connect_result r;
} ws_exercise_vm;

/* The connect flow for every VM of the lab, by name; *out is the caller's (free).
 * 0, or -1 when the lab's VMs cannot be read. */
int ws_exercise_connect_all(ws_state *st, ws_exercise_vm **out, int *n);

/* The attempt in progress in this lab, per <lab>/exercise.active and the table. */
ws_attempt_status ws_exercise_current(ws_state *st, ws_attempt *a);
/* The lab's identity (lab_meta lab_instance), made when missing. */
int ws_exercise_lab_instance(ws_state *st, char *out, size_t n, ws_error *e);
/* The score: 100 less each hint's cost (15, 25, 40). */
int ws_exercise_score(int hints);

#endif
