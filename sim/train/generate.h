/* SPDX-License-Identifier: Apache-2.0 */
/* generate: exercises made from the documented mistakes and field pitfalls instead of
 * read from a file (`wapsim exercise start --generate`, `wapsim exercise generate`).
 *
 * A generated exercise is an ordinary exercise (train/exercise.h): the generator writes
 * scenario text, with the same operator commands scenario files use, and everything
 * after that (break, hints, check, give-up, history) is the exercise code's. What the
 * generator adds:
 *   - faults: each a mistake or pitfall (ids as the shipped scenarios' names: m1a, m1b,
 *     m2, m3a, m4a, m4b, p1 ... p7, clock) applied with parameters (which host, VM,
 *     member gateway, certificate name, PROV_RSA_FULL provider, clock offset), one at
 *     levels 1 and 2, two at level 3, all chosen by the seed;
 *   - a history: the faulty change lands hours or days before the ticket on the lab
 *     clock, among routine harmless changes (renewals done right, restarts, other
 *     tenants' connects, warnings that mean nothing), all operator commands;
 *   - its own repair (the lines after the break) and the finding ids diagnose must name;
 *   - the ticket, written at start from what each VM's tenant sees (ws_gen_ticket),
 *     never from the fault.
 * The same (level, seed, mistakes) always gives the same text but the ticket. */
#ifndef WAPSIM_GENERATE_H
#define WAPSIM_GENERATE_H

#include "lab/state.h"
#include "train/exercise.h"

#define WS_GEN_MAX_FAULTS 2

typedef struct ws_gen_request {
    int level;                      /* 1..3 */
    unsigned long long seed;
    int has_seed;                   /* else a random seed, reported in the generator line */
    const char *mistakes;           /* NULL, or "m3a" / "m3a,m1b": the fault kinds to use */
} ws_gen_request;

/* One fault as applied. */
typedef struct ws_gen_fault {
    char mistake[8];   /* "m1b" */
    char finding[48];  /* the diagnose finding id it causes: "vmm-cert-not-trusted-on-host" */
    char machine[64];  /* where diagnose reports it: "hv02" */
    char params[128];  /* what was chosen: "host=hv02" */
} ws_gen_fault;

typedef struct ws_generated {
    int level;
    unsigned long long seed;
    int nfaults;
    ws_gen_fault faults[WS_GEN_MAX_FAULTS];
    char line[160]; /* the generator line: "level=3 seed=42 faults=m3a,m1b@hv02" */
    char *text;     /* the scenario text (ticket line a placeholder until ws_gen_ticket) */
    int has_ticket; /* ws_gen_ticket wrote it: ws_gen_exercise then keeps the text in the cache */
} ws_generated;

/* Every mistake id the generator knows, for --help and errors: "m1a, m1b, ...". */
const char *ws_gen_mistakes(void);
/* Writes the exercise for req against the lab st (its machines, hosts, VMs and
 * gateways decide what can be chosen). 0, or -1 with e ("no mistake m9"). */
int ws_gen_make(ws_state *st, const ws_gen_request *req, ws_generated *out, ws_error *e);
void ws_gen_free(ws_generated *g);
/* After the break ran: connects to every VM as its tenant and puts the ticket the
 * tenants would write into g->text. 0 or -1 with e. */
int ws_gen_ticket(ws_state *st, ws_generated *g, ws_error *e);
/* The generated text as an exercise (x->generated = g->line), for ws_exercise_break
 * and ws_exercise_begin; once the ticket is written, also kept in the exercise cache
 * (x->path is that copy). 0 or -1 with e. */
int ws_gen_exercise(const ws_generated *g, ws_exercise *x, ws_error *e);

#endif
