/* SPDX-License-Identifier: Apache-2.0 */
/* diag_trust: host-trust-list-stale when a host's TrustedIssuerCertificateHashes is
 * right but its Hyper-V Virtual Machine Management service (VMMS) has not been
 * restarted since the list changed, so it still checks VMTokens against the list it
 * loaded at its start (host/trust.h; marcvaneijk.com 2013-09-10: restart the service
 * on each host after the certificate change; REFERENCE.md section 9: "VMMS not
 * restarted: hosts keep the old thumbprint"; the loaded list is [model]).
 *
 * The evidence is what an administrator has: the host's event log. The System log's
 * newest "entered the running state" (7036) for the service is its start; the first
 * TrustedIssuerCertificateHashes change after it (14170, written by Read-SCVMHost)
 * names the list the service had been running with ("was {...}"). When the VMM
 * certificate's thumbprint is in the configured list and not in that one, the running
 * service refuses the tokens VMM issues. Records are ordered by their id (Windows'
 * EventRecordID), not their time, so moving the lab's clock cannot reorder them.
 *
 * One finding per cause: a host whose configured list lacks the thumbprint already has
 * host-trust-list-stale from check_host_trust (diagnose.c), whose repair is a refresh
 * and then this restart; it gets no second one here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "lab/events.h"
#include "lab/settings.h"
#include "lab/vault.h"
#include "train/diagnose_int.h"

/* An event of the host's log: its record id and time; id 0 when there is none. */
typedef struct rec {
    int64_t id, time_ms;
    char *text;
} rec;

/* The host's newest 7036 saying its service entered the running state. */
static rec service_started(diag *g, const ws_machine *h)
{
    rec r = {0};
    const ws_role *role = ws_role_find("host");
    char text[256];
    if (!role || ws_event_format(WS_EV_SCM_7036_RUNNING, text, sizeof text, role->service_name) < 0)
        return r;
    sqlite3_stmt *s = ws_state_prepare(g->st,
                                       "SELECT id, time_ms FROM events WHERE machine = ? AND event_id = 7036"
                                       " AND text = ? ORDER BY id DESC LIMIT 1",
                                       NULL);
    if (!s)
        return r;
    sqlite3_bind_text(s, 1, h->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) {
        r.id = sqlite3_column_int64(s, 0);
        r.time_ms = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    return r;
}

/* The first TrustedIssuerCertificateHashes change on the host after record after_id:
 * its text starts as the catalogue's template up to its first argument. */
static rec first_change_after(diag *g, const ws_machine *h, int64_t after_id)
{
    rec r = {0};
    const ws_event_def *d = ws_event_def_get(WS_EV_HYPERV_14170_TRUSTED_ISSUERS);
    if (!d)
        return r;
    size_t plen = strcspn(d->text, "%");
    sqlite3_stmt *s = ws_state_prepare(g->st,
                                       "SELECT id, time_ms, text FROM events WHERE machine = ? AND event_id = ?"
                                       " AND id > ? AND substr(text, 1, ?) = substr(?, 1, ?) ORDER BY id LIMIT 1",
                                       NULL);
    if (!s)
        return r;
    sqlite3_bind_text(s, 1, h->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, d->event_id);
    sqlite3_bind_int64(s, 3, after_id);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)plen);
    sqlite3_bind_text(s, 5, d->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)plen);
    if (sqlite3_step(s) == SQLITE_ROW) {
        r.id = sqlite3_column_int64(s, 0);
        r.time_ms = sqlite3_column_int64(s, 1);
        r.text = ws_strdup((const char *)sqlite3_column_text(s, 2));
    }
    sqlite3_finalize(s);
    return r;
}

/* The "was {A,B}" list of a 14170 text into *out; 0, or -1 when the text has none. */
static int was_list(const char *text, ws_strv *out)
{
    const char *p = text ? strstr(text, "(was {") : NULL;
    if (!p)
        return -1;
    p += strlen("(was {");
    const char *end = strstr(p, "})");
    if (!end)
        return -1;
    while (p < end) {
        size_t n = strcspn(p, ",}");
        if ((size_t)(end - p) < n)
            n = (size_t)(end - p);
        if (n > 0 && ws_strv_addf(out, "%.*s", (int)n, p) != 0)
            abort();
        p += n + 1;
    }
    return 0;
}

/* "TP (name), TP (no certificate in the lab has it)": thumbprints as evidence names them. */
static char *named_list(diag *g, const ws_strv *l)
{
    char *out = ws_strdup("");
    for (int i = 0; i < l->n; i++) {
        char d[384];
        ws_diag_thumbprint(g->st, l->v[i], d, sizeof d);
        char *grown = ws_printf("%s%s%s", out, i ? ", " : "", d);
        free(out);
        out = grown;
    }
    return out;
}


static void check_host_loaded(diag *g, const ws_machine *h)
{
    const char *tp = g->hvc.tp;
    ws_strv configured = {0}, at_start = {0};
    rec start = service_started(g, h), change = {0};
    if (!start.id || !ws_trusted_issuer_has(g->st, h->name, tp))
        goto out;
    change = first_change_after(g, h, start.id);
    if (!change.id || was_list(change.text, &at_start) != 0 || ws_strv_has(&at_start, tp))
        goto out;
    ws_trusted_issuer_list(g->st, h->name, &configured, NULL);
    char *desc = ws_diag_describe(g->st, g->hvc.cert, g->hvc.name);
    char *now_list = named_list(g, &configured), *old_list = named_list(g, &at_start);
    char started[32], changed[32];
    ws_finding *f = ws_diag_add(g, WS_DIAG_HOST_TRUST_LIST_STALE, h->name, WS_DIAG_ERROR,
                                "%s's Hyper-V Virtual Machine Management service was not restarted after its "
                                "TrustedIssuerCertificateHashes changed: it still trusts the old thumbprint.",
                                h->name);
    ws_diag_evidence(f,
                     "VMM signs VMTokens with %s; %s's TrustedIssuerCertificateHashes (as WMI shows it) holds {%s}. "
                     "But its Hyper-V Virtual Machine Management service last entered the running state at %s "
                     "(System event 7036), and the list changed after that, at %s (event 14170: it was {%s}). The "
                     "service reads the list when it starts [model]: until it restarts it checks VMTokens against "
                     "that old list and refuses the ones VMM issues now (RDSTLS ACCESS_DENIED, event 14162), "
                     "although VMM and the gateway accept them.",
                     desc, h->name, now_list, ws_diag_when(start.time_ms / 1000, started),
                     ws_diag_when(change.time_ms / 1000, changed), old_list);
    ws_diag_fix(f, "wapsim service restart %s", h->name);
    ws_diag_fix(f, "PowerShell: Restart-Service vmms   # on %s", h->fqdn);
    free(desc);
    free(now_list);
    free(old_list);
out:
    free(change.text);
    ws_strv_free(&configured);
    ws_strv_free(&at_start);
}

void ws_diag_check_trust(diag *g)
{
    if (!g->have_vmm || !g->hvc.cert || !g->lab_running)
        return;
    for (int i = 0; i < g->nmachines; i++) {
        const ws_machine *h = &g->machines[i];
        if (strcmp(h->role, "host") != 0 || !ws_diag_host_selected(g, h->name) || ws_diag_machine_down(g, h->name) ||
            ws_diag_has_finding(g, WS_DIAG_HOST_TRUST_LIST_STALE, h->name))
            continue;
        ws_diag_checked(g, "%s's service runs with its current TrustedIssuerCertificateHashes", h->name);
        check_host_loaded(g, h);
    }
}
