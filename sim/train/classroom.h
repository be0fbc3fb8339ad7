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
} ws_classroom;

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

#endif
