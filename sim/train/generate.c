/* SPDX-License-Identifier: Apache-2.0 */
/* generate: see generate.h. This file reads the lab, draws the faults, assembles the
 * exercise text and writes the ticket; gen_faults.c holds the fault table and
 * gen_history.c the background steps. */
#include "train/generate.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "lab/lab.h"
#include "lab/settings.h"
#include "lab/vm.h"
#include "train/gen_int.h"

#define TICKET_PLACEHOLDER "(written when the exercise starts, from what the tenants see)"

/* ---- the seed's PRNG: splitmix64, the same numbers on every platform ---- */

unsigned long long gen_next(gen_ctx *c)
{
    unsigned long long z = (c->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

int gen_below(gen_ctx *c, int n)
{
    return n <= 1 ? 0 : (int)(gen_next(c) % (unsigned long long)n);
}

void gen_keep(gen_ctx *c, const char *machine)
{
    if (c->nkeep < (int)(sizeof c->keep / sizeof c->keep[0]))
        snprintf(c->keep[c->nkeep++], GEN_NAME, "%s", machine);
}

int gen_kept(const gen_ctx *c, const char *machine)
{
    for (int i = 0; i < c->nkeep; i++)
        if (strcmp(c->keep[i], machine) == 0)
            return 1;
    return 0;
}

const char *ws_gen_mistakes(void)
{
    static char list[256];
    if (!list[0]) {
        int n;
        const gen_kind *k = gen_kinds(&n);
        for (int i = 0; i < n; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", k[i].id);
    }
    return list;
}

/* ---- the lab ---- */

/* The template's default lab, for a generator without a lab (unit tests). */
static void default_lab(gen_ctx *c)
{
    static const gen_vm vms[] = {{"app01", "bob", "hv02"}, {"db01", "alice", "hv02"}, {"web01", "alice", "hv01"}};
    snprintf(c->hosts[0], GEN_NAME, "hv01");
    snprintf(c->hosts[1], GEN_NAME, "hv02");
    c->nhosts = 2;
    memcpy(c->vms, vms, sizeof vms);
    c->nvms = 3;
    snprintf(c->gateway, GEN_NAME, "rdgw01");
    snprintf(c->vmm, GEN_NAME, "vmm01");
    snprintf(c->spf, GEN_NAME, "spf01");
    snprintf(c->portal, GEN_NAME, "portal");
}

static int read_lab(ws_state *st, gen_ctx *c, ws_error *e)
{
    sqlite3_stmt *q = ws_state_prepare(st, "SELECT name, role FROM machines ORDER BY name", e);
    if (!q)
        return -1;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0), *role = (const char *)sqlite3_column_text(q, 1);
        if (!name || !role)
            continue;
        if (strcmp(role, "host") == 0 && c->nhosts < GEN_MAX_HOSTS)
            snprintf(c->hosts[c->nhosts++], GEN_NAME, "%s", name);
        char *slot = strcmp(role, "gateway") == 0 ? c->gateway
                     : strcmp(role, "vmm") == 0   ? c->vmm
                     : strcmp(role, "spf") == 0   ? c->spf
                     : strcmp(role, "portal") == 0 ? c->portal : NULL;
        if (slot && !slot[0])
            snprintf(slot, GEN_NAME, "%s", name);
    }
    sqlite3_finalize(q);
    ws_vm *vms;
    size_t n;
    if (ws_vm_list(st, NULL, &vms, &n, e) != 0)
        return -1;
    for (size_t i = 0; i < n && c->nvms < GEN_MAX_VMS; i++) {
        gen_vm *v = &c->vms[c->nvms++];
        snprintf(v->name, sizeof v->name, "%s", vms[i].name);
        snprintf(v->tenant, sizeof v->tenant, "%s", vms[i].tenant);
        snprintf(v->host, sizeof v->host, "%s", vms[i].host);
    }
    free(vms);
    if (!c->nhosts || !c->gateway[0] || !c->vmm[0] || !c->nvms)
        return ws_seterr(e, "the generator needs a lab with a VMM, a host, an RD Gateway and a VM "
                            "(as the template's: wapsim lab init)");
    char v[128];
    if (ws_setting_get(st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, v, sizeof v) == 0 && v[0])
        snprintf(c->public_fqdn, sizeof c->public_fqdn, "%s", v);
    if (ws_setting_get(st, c->vmm, WS_SET_VMM_HYPERV_CERT, v, sizeof v) == 0 && v[0])
        snprintf(c->console, sizeof c->console, "%s", v);
    if (ws_setting_get(st, c->gateway, WS_SET_SSL_CERT, v, sizeof v) == 0 && v[0])
        snprintf(c->gwcert, sizeof c->gwcert, "%s", v);
    return 0;
}

/* ---- choosing the faults ---- */

static int level_of(const gen_kind *k)
{
    for (int l = 1; l <= 3; l++)
        if (k->levels & (1u << l))
            return l;
    return 0;
}

/* The kinds of req->mistakes ("m3a,m1b") into k[]; 0, or -1 with e. */
static int parse_mistakes(const char *list, const gen_kind **k, int *n, ws_error *e)
{
    *n = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const gen_kind *x = gen_kind_find(t);
        if (!x)
            return ws_seterr(e, "no mistake '%s' (known: %s)", t, ws_gen_mistakes());
        if (*n == WS_GEN_MAX_FAULTS)
            return ws_seterr(e, "at most %d mistakes at once, not '%s'", WS_GEN_MAX_FAULTS, list);
        k[(*n)++] = x;
    }
    if (*n == 0)
        return ws_seterr(e, "no mistake in '%s' (known: %s)", list, ws_gen_mistakes());
    return 0;
}

/* A random kind of the level (group: that level-3 group, or any when 0). */
static const gen_kind *draw(gen_ctx *c, int level, int group)
{
    int n, cand[32], k = 0;
    const gen_kind *all = gen_kinds(&n);
    for (int i = 0; i < n && k < 32; i++)
        if ((all[i].levels & (1u << level)) && (!group || all[i].group == group))
            cand[k++] = i;
    return k ? &all[cand[gen_below(c, k)]] : NULL;
}

/* The faults for the request: req's mistakes checked against the level, or drawn. */
static int choose(gen_ctx *c, const ws_gen_request *req, int *level, const gen_kind **k, int *n, ws_error *e)
{
    *n = 0;
    if (req->mistakes && parse_mistakes(req->mistakes, k, n, e) != 0)
        return -1;
    if (!*level)
        *level = *n == 2 ? 3 : *n == 1 ? level_of(k[0]) : 1;
    if (*level < 1 || *level > 3)
        return ws_seterr(e, "level %d: the levels are 1, 2 and 3", *level);
    for (int i = 0; i < *n; i++)
        if (!(k[i]->levels & (1u << *level)))
            return ws_seterr(e, "mistake %s is not generated at level %d (it is a level-%d mistake)", k[i]->id,
                             *level, level_of(k[i]));
    if (*level < 3 && *n > 1)
        return ws_seterr(e, "level %d has one fault, not %d (level 3 combines two)", *level, *n);
    if (*level == 3 && *n == 2 && k[0]->group == k[1]->group)
        return ws_seterr(e, "mistakes %s and %s cannot be combined: level 3 pairs a gateway-side mistake with a "
                            "host's (m1a or m1b)", k[0]->id, k[1]->id);
    c->level = *level;
    if (*level < 3 && *n == 0)
        k[(*n)++] = draw(c, *level, 0);
    if (*level == 3 && *n == 0)
        k[(*n)++] = draw(c, 3, GEN_GROUP_GATEWAY);
    if (*level == 3 && *n == 1)
        k[(*n)++] = draw(c, 3, k[0]->group == GEN_GROUP_HOST ? GEN_GROUP_GATEWAY : GEN_GROUP_HOST);
    if (*level == 3 && k[0]->group == GEN_GROUP_HOST) { /* the gateway's first: host faults name the console cert */
        const gen_kind *t = k[0];
        k[0] = k[1];
        k[1] = t;
    }
    return 0;
}

/* ---- the text ---- */

static void write_text(gen_ctx *c, ws_generated *g, const ws_buf *before)
{
    ws_buf t;
    ws_buf_init(&t, WS_BUF_MAX_REPORT);
    ws_buf_addf(&t, "# Generated by wapsim exercise generate: %s\n", g->line);
    ws_buf_addf(&t, "title   %s\n", ws_buf_str(&c->title));
    ws_buf_addf(&t, "tags    generated, level-%d\n", g->level);
    ws_buf_addf(&t, "ticket  " TICKET_PLACEHOLDER "\n");
    ws_buf_addf(&t, "doc     %s\n", ws_buf_str(&c->doc));
    ws_buf_addf(&t, "        Generated (%s). The breaking change was made hours or days before the ticket on the "
                    "lab clock, among routine changes.\n\n",
                g->line);
    ws_buf_addf(&t, "%s", ws_buf_str(before));
    ws_buf_addf(&t, "\nexpect diagnose = ");
    for (int i = 0; i < g->nfaults; i++)
        ws_buf_addf(&t, "%s%s", i ? "," : "", g->faults[i].finding);
    ws_buf_addf(&t, "\n\n%s\n", ws_buf_str(&c->rep));
    for (int i = 0; i < c->nvms; i++)
        ws_buf_addf(&t, "connect tenant=%s vm=%s\nexpect connect.ok = true\n", c->vms[i].tenant, c->vms[i].name);
    ws_buf_addf(&t, "expect diagnose = none\n");
    size_t len;
    g->text = ws_buf_take(&t, &len);
    ws_buf_free(&t);
    if (!g->text)
        abort();
}

static void ctx_free(gen_ctx *c)
{
    ws_buf_free(&c->brk);
    ws_buf_free(&c->rep);
    ws_buf_free(&c->title);
    ws_buf_free(&c->doc);
}

int ws_gen_make(ws_state *st, const ws_gen_request *req, ws_generated *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    gen_ctx *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    ws_buf_init(&c->brk, WS_BUF_MAX_REPORT);
    ws_buf_init(&c->rep, WS_BUF_MAX_REPORT);
    ws_buf_init(&c->title, 4096);
    ws_buf_init(&c->doc, WS_BUF_MAX_REPORT);
    snprintf(c->public_fqdn, sizeof c->public_fqdn, "rdgw.contoso.com");
    snprintf(c->console, sizeof c->console, "vmm-console");
    snprintf(c->gwcert, sizeof c->gwcert, "rdgw-ssl");
    snprintf(c->domain, sizeof c->domain, "fabric.contoso.local");
    unsigned long long seed = req->seed;
    if (!req->has_seed && ws_random(&seed, sizeof seed) != 0)
        seed = (unsigned long long)ws_wall_ms();
    if (!req->has_seed)
        seed %= 1000000000ULL; /* short enough to read out to a class */
    c->rng = seed;
    int level = req->level, n;
    const gen_kind *k[WS_GEN_MAX_FAULTS];
    if ((st ? read_lab(st, c, e) : (default_lab(c), 0)) != 0 || choose(c, req, &level, k, &n, e) != 0) {
        ctx_free(c);
        free(c);
        return -1;
    }
    out->level = level;
    out->seed = seed;
    out->nfaults = n;
    ws_buf before;
    ws_buf_init(&before, WS_BUF_MAX_REPORT);
    gen_history_before(c, &before);
    for (int i = 0; i < n; i++) {
        snprintf(out->faults[i].mistake, sizeof out->faults[i].mistake, "%s", k[i]->id);
        if (i)
            gen_history_between(c, &c->brk);
        k[i]->apply(c, &out->faults[i]);
    }
    ws_buf_addf(&before, "%s", ws_buf_str(&c->brk));
    gen_history_after(c, &before);
    int off = snprintf(out->line, sizeof out->line, "level=%d seed=%llu faults=", level, seed);
    for (int i = 0; i < n && off < (int)sizeof out->line; i++)
        off += snprintf(out->line + off, sizeof out->line - (size_t)off, "%s%s@%s", i ? "," : "",
                        out->faults[i].mistake, out->faults[i].machine);
    write_text(c, out, &before);
    ws_buf_free(&before);
    ctx_free(c);
    free(c);
    return 0;
}

void ws_gen_free(ws_generated *g)
{
    free(g->text);
    memset(g, 0, sizeof *g);
}
