/* SPDX-License-Identifier: Apache-2.0 */
/* gen_int: what generate.c, gen_faults.c and gen_history.c share (not a public API).
 * A gen_ctx is the generator's working state for one exercise: the lab's names, the
 * seed's PRNG, and the text being written (break steps, repair steps, title, doc). */
#ifndef WAPSIM_GEN_INT_H
#define WAPSIM_GEN_INT_H

#include "base/buf.h"
#include "train/generate.h"

#define GEN_MAX_HOSTS 8
#define GEN_MAX_VMS 16
#define GEN_NAME 64

/* Level-3 pairs: one fault of each group (they must not hide or repair each other). */
enum { GEN_GROUP_NONE = 0, GEN_GROUP_GATEWAY = 1, GEN_GROUP_HOST = 2 };

typedef struct gen_vm {
    char name[GEN_NAME], tenant[GEN_NAME], host[GEN_NAME];
} gen_vm;

typedef struct gen_ctx {
    unsigned long long rng; /* splitmix64 state */
    int level;
    /* the lab: hosts sorted by name, the first gateway, the VMM, VMs by name */
    char hosts[GEN_MAX_HOSTS][GEN_NAME];
    int nhosts;
    char gateway[GEN_NAME], vmm[GEN_NAME], spf[GEN_NAME], portal[GEN_NAME];
    gen_vm vms[GEN_MAX_VMS];
    int nvms;
    char public_fqdn[128];  /* the cloud's RD Gateway FQDN: rdgw.contoso.com */
    char console[GEN_NAME]; /* the certificate VMM signs tokens with */
    char gwcert[GEN_NAME];  /* the certificate the gateway binds (a renewal changes it) */
    char domain[128];       /* the fabric's DNS domain: fabric.contoso.local */
    /* what the faults need the history to leave alone */
    char keep[6][GEN_NAME]; /* machines whose service must not be restarted after the break */
    int nkeep;
    int uses_balancer;      /* a fault adds or needs lb01 */
    /* the text */
    ws_buf brk, rep, title, doc;
} gen_ctx;

/* One mistake: its id, the levels it may be drawn at (bit n: level n), its level-3
 * group, and the function that writes its break and repair steps and fills f. */
typedef struct gen_kind {
    const char *id;
    unsigned levels;
    int group;
    void (*apply)(gen_ctx *c, ws_gen_fault *f);
} gen_kind;

/* gen_faults.c */
const gen_kind *gen_kinds(int *n);
const gen_kind *gen_kind_find(const char *id);

/* generate.c: the PRNG */
unsigned long long gen_next(gen_ctx *c);
int gen_below(gen_ctx *c, int n); /* 0..n-1 */
void gen_keep(gen_ctx *c, const char *machine);
int gen_kept(const gen_ctx *c, const char *machine);

/* gen_history.c: the steps before the first fault and after the last */
void gen_history_before(gen_ctx *c, ws_buf *out);
void gen_history_between(gen_ctx *c, ws_buf *out);
void gen_history_after(gen_ctx *c, ws_buf *out);

#endif
