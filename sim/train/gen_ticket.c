/* SPDX-License-Identifier: Apache-2.0 */
/* gen_ticket: a generated exercise's ticket and its exercise (train/generate.h). The
 * ticket is written after the break from what each VM's tenant gets when they press
 * Connect (ws_exercise_connect_all), in the customer's words: which VMs, the message
 * Remote Desktop Connection showed or the file the browser saved. It never names the
 * fault: the lab's own explanation, the client's message after " [", is left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "train/gen_int.h"

#define TICKET_HEAD "ticket  (written when the exercise starts, from what the tenants see)\n"
#define ROUNDS_WITH_BALANCER 4 /* a balancer without affinity alternates its members */

typedef struct seen {
    char vm[64], tenant[64], stage[24], message[600];
    int fails, tries;
    unsigned code;
} seen;

/* What the tenant reads: the client's message without the lab's " [why]". */
static void tenant_words(const ws_exercise_vm *v, seen *s)
{
    snprintf(s->stage, sizeof s->stage, "%s", v->r.stage);
    s->code = v->r.code;
    if (strcmp(v->r.stage, "portal") == 0) {
        snprintf(s->message, sizeof s->message, "my browser saves %s.json, a small file with an error in it "
                                                "(HTTP %u), instead of the Remote Desktop file", v->vm, v->r.code);
        return;
    }
    snprintf(s->message, sizeof s->message, "%s", v->r.message);
    char *why = strstr(s->message, " [");
    if (why)
        *why = '\0';
}

static int has_balancer(ws_state *st)
{
    ws_error e;
    sqlite3_stmt *q = ws_state_prepare(st, "SELECT count(*) FROM machines WHERE role = 'balancer'", &e);
    int n = q && sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
    sqlite3_finalize(q);
    return n > 0;
}

/* Appends words to the ticket, wrapped as a scenario's continuation lines. */
static void wrap(ws_buf *t, int *col, const char *text)
{
    const char *p = text;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (*col > 8 && *col + 1 + (int)w > 100) {
            ws_buf_adds(t, "\n        ");
            *col = 8;
        } else if (*col > 8) {
            ws_buf_adds(t, " ");
            (*col)++;
        }
        ws_buf_add(t, p, w);
        *col += (int)w;
        p += w;
        while (*p == ' ')
            p++;
    }
}

static void compose(ws_buf *t, const seen *s, int n, unsigned long long seed)
{
    static const char *const since[] = {"Since yesterday", "Since this morning", "Since the weekend",
                                        "Since last night", "For a few days now"};
    int col = 8;
    char line[1024];
    ws_buf ok;
    ws_buf_init(&ok, 4096);
    int nok = 0, nfail = 0;
    for (int i = 0; i < n; i++)
        if (s[i].fails)
            nfail++;
    snprintf(line, sizeof line, "%s some of our consoles do not open.", since[seed % 5]);
    if (nfail == n)
        snprintf(line, sizeof line, "%s none of our consoles opens.", since[seed % 5]);
    wrap(t, &col, line);
    for (int i = 0; i < n; i++) {
        if (!s[i].fails) {
            ws_buf_addf(&ok, "%s%s", nok++ ? ", " : "", s[i].vm);
            continue;
        }
        const char *often = s[i].fails < s[i].tries ? "sometimes opens, but other times" : "does not open:";
        if (strcmp(s[i].stage, "portal") == 0)
            snprintf(line, sizeof line, "%s (%s): when I click Connect in the portal, %s%s.", s[i].vm, s[i].tenant,
                     s[i].fails < s[i].tries ? "it sometimes works, but other times " : "", s[i].message);
        else
            snprintf(line, sizeof line, "%s (%s) %s I get the Remote Desktop file, but Remote Desktop Connection "
                                        "says \"%s\"", s[i].vm, s[i].tenant, often, s[i].message);
        wrap(t, &col, line);
    }
    if (nok) {
        snprintf(line, sizeof line, "%s open%s fine.", ws_buf_str(&ok), nok == 1 ? "s" : "");
        wrap(t, &col, line);
    }
    if (!nfail)
        wrap(t, &col, "Some tenants say their consoles failed now and then; we could not make it happen again.");
    ws_buf_adds(t, "\n");
    ws_buf_free(&ok);
}

int ws_gen_ticket(ws_state *st, ws_generated *g, ws_error *e)
{
    char *at = g->text ? strstr(g->text, TICKET_HEAD) : NULL;
    if (!at)
        return ws_seterr(e, "the generated text has no ticket to write");
    int rounds = has_balancer(st) ? ROUNDS_WITH_BALANCER : 1, n = 0;
    seen *s = NULL;
    for (int r = 0; r < rounds; r++) {
        ws_exercise_vm *v;
        int nv;
        if (ws_exercise_connect_all(st, &v, &nv) != 0) {
            free(s);
            return ws_seterr(e, "cannot read the lab's VMs");
        }
        if (!s) {
            n = nv;
            s = calloc((size_t)(n ? n : 1), sizeof *s);
            if (!s)
                abort();
            for (int i = 0; i < n; i++) {
                snprintf(s[i].vm, sizeof s[i].vm, "%s", v[i].vm);
                snprintf(s[i].tenant, sizeof s[i].tenant, "%s", v[i].tenant);
            }
        }
        for (int i = 0; i < n && i < nv; i++) {
            s[i].tries++;
            if (!v[i].r.ok && s[i].fails++ == 0)
                tenant_words(&v[i], &s[i]);
        }
        free(v);
    }
    ws_buf t;
    ws_buf_init(&t, WS_BUF_MAX_REPORT);
    ws_buf_add(&t, g->text, (size_t)(at - g->text));
    ws_buf_adds(&t, "ticket  ");
    compose(&t, s, n, g->seed);
    ws_buf_adds(&t, at + strlen(TICKET_HEAD));
    free(s);
    size_t len;
    free(g->text);
    g->text = ws_buf_take(&t, &len);
    ws_buf_free(&t);
    if (!g->text)
        abort();
    g->has_ticket = 1;
    return 0;
}

int ws_gen_exercise(const ws_generated *g, ws_exercise *x, ws_error *e)
{
    ws_scn_errors errs = {0};
    int rc = ws_exercise_from_text(g->text, g->line, g->has_ticket, x, &errs);
    if (rc != 0)
        ws_seterr(e, "the generated exercise does not parse: %s", errs.n ? errs.v[0] : "?");
    ws_scn_errors_free(&errs);
    return rc;
}
