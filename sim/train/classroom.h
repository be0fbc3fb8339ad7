/* SPDX-License-Identifier: Apache-2.0 */
/* classroom: many trainees' labs on one machine (`wapsim classroom ...`).
 *
 * A classroom is a folder DIR holding classroom.json (mode 0600: the seats, their
 * accounts and passwords, the trainer's account, the exercise plan) and one lab per
 * seat, DIR/seat01 ... DIR/seatNN, each on its own /24, all from the one key template.
 * Each seat's lab has the default world plus two accounts of role fabric-admin: the
 * seat's trainee (CONTOSO\trainee07) and the classroom's trainer (CONTOSO\trainer, the
 * same password in every seat); its lab_meta "classroom" holds DIR's absolute path,
 * which is how a seat's admin site finds the trainer's page's data. A seat keeps a
 * snapshot of its healthy state (DIR/seatNN/baseline.db, made by init) so reset puts
 * the world back in place without stopping the seat's portal: the trainer's page, on
 * any seat's admin site, survives resetting that seat. Attempts (the exercises table)
 * are never reset: they are the seat's history.
 *
 * classroom.json:
 *   {"version":1, "created":"2026-12-07T10:00:00Z",
 *    "trainer":{"account":"CONTOSO\\trainer","password":"..."},
 *    "plan":{"level":1, "seed":42 | null, "same":false, "mistakes":null | "m3a"},
 *    "seats":[{"seat":"seat01","subnet":"127.90.1.0/24","account":"CONTOSO\\trainee01",
 *              "password":"..."}, ...]}
 * Read as untrusted input (bounded, every field checked, one-line errors naming it). */
#ifndef WAPSIM_CLASSROOM_H
#define WAPSIM_CLASSROOM_H

#include <limits.h>
#include <stdint.h>

#include "base/buf.h"
#include "lab/state.h"
#include "train/exercise.h"

#define WS_CLASSROOM_MAX_SEATS 99
#define WS_CLASSROOM_FILE "classroom.json"

typedef struct ws_seat {
    char name[16];       /* "seat07" */
    char dir[PATH_MAX];  /* DIR/seat07, absolute */
    char subnet[32];
    char account[64];    /* "CONTOSO\\trainee07" */
    char password[64];
} ws_seat;

typedef struct ws_classroom {
    char dir[PATH_MAX]; /* absolute */
    char trainer[64];
    char trainer_password[64];
    int level;                /* the plan: what `classroom assign` hands out by default */
    int has_seed;
    unsigned long long seed;
    int same;                 /* every seat the same exercise (one seed for all) */
    char mistakes[64];        /* "" or "m3a,m1b" */
    int nseats;
    ws_seat *seats;
    char created[32];         /* when init made it, "2026-12-07T10:00:00Z" (kept by save) */
} ws_classroom;

/* The seat's number (1..99) from "seat07", "07" or "7"; 0 when it is none. */
int ws_classroom_seat_number(const char *name);
/* A mistake list as classroom.json, --mistake and the trainer's page take it: ids of
 * lower-case letters and digits between single commas ("m3a" or "m3a,m1b"). 1 or 0. */
int ws_classroom_mistakes_ok(const char *s);
/* A plan's seed is at most this (classroom.json's numbers are doubles: exact below 2^53). */
#define WS_CLASSROOM_MAX_SEED ((1ULL << 53) - 1)
/* Parses classroom.json's text (len bytes, at most WS_CLASSROOM_MAX_JSON) for the classroom
 * in dir (absolute; the seats' folders are dir/seatNN, never taken from the file). 0, or -1
 * with e naming the JSON path. The caller frees out with ws_classroom_free. */
#define WS_CLASSROOM_MAX_JSON (256u << 10)
int ws_classroom_parse(const char *dir, const char *text, size_t len, ws_classroom *out, ws_error *e);
/* Writes DIR/classroom.json (mode 0600, replaced whole). 0, or -1 with e. */
int ws_classroom_save(const ws_classroom *c, ws_error *e);
/* Reads DIR/classroom.json. 0, or -1 with e naming the field ("seats[3].subnet: ..."). */
int ws_classroom_load(const char *dir, ws_classroom *out, ws_error *e);
void ws_classroom_free(ws_classroom *c);
/* The seat named name ("seat07" or "7"); NULL when there is none. */
const ws_seat *ws_classroom_seat(const ws_classroom *c, const char *name);
/* The classroom this lab is a seat of (lab_meta "classroom"): 0 with dir filled, -1 when
 * the lab is no seat. */
int ws_classroom_of_lab(ws_state *st, char *dir, size_t n);
/* account is the trainer of the classroom this lab is a seat of. */
int ws_classroom_is_trainer(ws_state *st, const char *account);

/* The seat's lab for reading only, as the trainer's page, status and the CSV read another
 * seat's: PRAGMA query_only, so a write through st fails. 0, or -1 with e. */
int ws_classroom_seat_open(const ws_seat *s, ws_state **st, ws_error *e);

/* What the trainer's page, `classroom status` and the CSV show of one seat. */
typedef struct ws_seat_view {
    int running;            /* the seat's supervisor is up */
    int has_attempt;        /* a current or last attempt exists */
    ws_attempt attempt;     /* the newest attempt (state active, solved, given-up, void) */
    int64_t seconds;        /* time on it: until now while active, else until it ended */
    char exercise[13];      /* its id */
    char title[256];        /* the fault, revealed (the exercise's title); "" when unknown */
    char faults[512];       /* a generated exercise's faults, "m3a on rdgw01; m1b on hv02" */
    int attempts;           /* attempts in the seat's history */
    int solved;             /* attempts solved */
} ws_seat_view;

/* Opens the seat's lab read-only and fills v. 0, or -1 with e. */
int ws_classroom_seat_view(const ws_classroom *c, const ws_seat *s, ws_seat_view *v, ws_error *e);
/* Every attempt of every seat as CSV (RFC 4180, a header line first):
 * seat,account,attempt,exercise,level,generated,started_utc,ended_utc,minutes,hints,checks,outcome,score
 * 0, or -1 with e. */
int ws_classroom_results_csv(const ws_classroom *c, ws_buf *out, ws_error *e);

/* What the seat's exercise is generated from: the plan's seed for every seat when same,
 * else one derived from it and the seat's number (the trainer can make it again). */
unsigned long long ws_classroom_seat_seed(const ws_classroom *c, const ws_seat *s);

/* ---- the classroom's life (`wapsim classroom ...`); progress lines go to stderr ---- */
typedef struct ws_classroom_init_opts {
    const char *dir;
    int nseats;                /* 1..WS_CLASSROOM_MAX_SEATS */
    int level;                 /* the plan; 0: 1 */
    int has_seed;
    unsigned long long seed;   /* else a random one, recorded */
    int same;
    const char *mistakes;      /* NULL or "m3a,m1b" */
    int quiet;                 /* no progress lines */
} ws_classroom_init_opts;

/* Creates DIR (0700), its seats (each a lab from the key template on its own /24, with the
 * trainee's and the trainer's accounts and lab_meta "classroom"), each seat's baseline
 * (lab/baseline.h) and classroom.json. Nothing is left behind on failure. 0 with *out
 * filled (free it), or -1 with e. */
int ws_classroom_init(const ws_classroom_init_opts *o, ws_classroom *out, ws_error *e);
/* Starts (up) or stops (down) the seats seats[0..n) (indexes into c->seats), a few at a
 * time. 0, or -1 with e naming the first seat that failed (the others are still done). */
int ws_classroom_up(const ws_classroom *c, const int *seats, int n, int timeout_ms, int quiet, ws_error *e);
int ws_classroom_down(const ws_classroom *c, const int *seats, int n, int quiet, ws_error *e);
/* Puts the seat's world back to its baseline in place (lab/baseline.h): voids an active
 * attempt, stops every machine but the portal, restores, starts them again and waits until
 * healthy. The seat must be running. 0, or -1 with e. */
int ws_classroom_reset(const ws_classroom *c, const ws_seat *s, ws_error *e);
/* ws_classroom_reset of each of seats[0..n) in turn, a progress line each unless quiet; the
 * others are still reset after one fails. 0, or -1 with e naming the first that failed. */
int ws_classroom_reset_seats(const ws_classroom *c, const int *seats, int n, int quiet, ws_error *e);
/* Hands out the plan's exercise to seats[0..n), two at a time: each seat is reset unless
 * fresh, then `wapsim --lab SEAT exercise start --generate --level L --seed S [--mistake M]`
 * runs in it (S: ws_classroom_seat_seed). 0, or -1 with e naming the first seat that failed
 * (the others are still done). */
int ws_classroom_assign(const ws_classroom *c, const int *seats, int n, int quiet, ws_error *e);
/* 1 when the seat needs no reset before an exercise (no active attempt, its world its
 * baseline's, no service kept stopped), 0 when it does, -1 with e. */
int ws_classroom_seat_fresh(const ws_seat *s, ws_error *e);
/* Stops every seat and removes DIR: the seats' folders and classroom.json (nothing else
 * is there to remove; a folder that is not a classroom is refused). 0, or -1 with e. */
int ws_classroom_destroy(const char *dir, ws_error *e);

#endif
