/* SPDX-License-Identifier: Apache-2.0 */
/* fedauth: see fedauth.h. Nothing here logs: the gateway and the host each log the
 * failed step in their own words (event 201, the RDSTLS refusal). */
#include "lab/fedauth.h"

#include <stdio.h>
#include <string.h>

#include "base/time.h"
#include "crypto/cert.h"
#include "lab/clock.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "lab/vault.h"

static const char *const step_names[] = {
    [WS_FEDAUTH_OK] = "accepted",
    [WS_FEDAUTH_PARSE] = "parse",
    [WS_FEDAUTH_KIND] = "kind",
    [WS_FEDAUTH_UNTRUSTED] = "trusted list",
    [WS_FEDAUTH_NO_CERT] = "store lookup",
    [WS_FEDAUTH_CHAIN] = "chain",
    [WS_FEDAUTH_SIGNATURE] = "signature",
    [WS_FEDAUTH_HASH] = "hash algorithm",
    [WS_FEDAUTH_EXPIRED] = "expiry",
};

const char *ws_fedauth_step_name(ws_fedauth_step step)
{
    if ((unsigned)step >= sizeof step_names / sizeof step_names[0])
        return "unknown";
    return step_names[step];
}

static const char *kind_name(ws_token_kind k)
{
    return k == WS_TOKEN_HOST ? "HostToken" : "VMToken";
}

/* The searched stores as text: "LocalMachine\My", "LocalMachine\My or \Root". */
static void stores_text(unsigned stores, char *out, size_t n)
{
    int my = (stores & WS_FEDAUTH_IN_MY) != 0, root = (stores & WS_FEDAUTH_IN_ROOT) != 0;
    snprintf(out, n, "%s%s%s%s", my || root ? "LocalMachine\\" : "no store", my ? "My" : "",
             my && root ? " or \\" : "", root ? "Root" : "");
}

/* ---- steps 3 to 5 ------------------------------------------------------------------ */

int ws_fedauth_signer_listed(ws_state *st, const char *machine, const char *thumbprint, ws_strv *list)
{
    if (list) {
        sqlite3_stmt *s =
            ws_state_prepare(st, "SELECT thumbprint FROM trusted_issuers WHERE machine = ? ORDER BY rowid", NULL);
        if (s) {
            sqlite3_bind_text(s, 1, machine, -1, SQLITE_STATIC);
            while (sqlite3_step(s) == SQLITE_ROW)
                ws_strv_add(list, (const char *)sqlite3_column_text(s, 0));
            sqlite3_finalize(s);
        }
    }
    return ws_trusted_issuer_has(st, machine, thumbprint);
}

int ws_fedauth_signer_find(ws_state *st, const char *machine, const char *thumbprint, unsigned stores, X509 **cert,
                           const char **store)
{
    static const struct {
        unsigned flag;
        const char *name;
    } order[] = {{WS_FEDAUTH_IN_MY, "My"}, {WS_FEDAUTH_IN_ROOT, "Root"}};
    ws_error e;
    *cert = NULL;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(stores & order[i].flag))
            continue;
        if (ws_store_find(st, machine, order[i].name, thumbprint, cert, &e) == 0) {
            if (store)
                *store = order[i].name;
            return 0;
        }
        *cert = NULL;
    }
    return WS_NOT_FOUND;
}

int ws_fedauth_signer_chains(ws_state *st, const char *machine, X509 *cert, int64_t now, ws_error *e)
{
    return ws_store_verify_chain(st, machine, cert, now, e) == 0 ? 0 : -1;
}

/* Step 3 against a list the caller holds: 1 when thumbprint is in it (a copy of it
 * appended to *list). */
static int listed_in(const ws_strv *trusted, const char *thumbprint, ws_strv *list)
{
    char tp[41];
    int found = 0, normal = ws_thumbprint_normalize(thumbprint, tp) == 0;
    for (int i = 0; i < trusted->n; i++) {
        ws_strv_add(list, trusted->v[i]);
        if (normal && strcmp(trusted->v[i], tp) == 0)
            found = 1;
    }
    return found;
}

/* Steps 3 to 5 into r, which the caller has initialised; step 3 against trusted, or
 * the machine's configured list when NULL. */
static ws_fedauth_step signer_steps(ws_state *st, const char *machine, const char *thumbprint, unsigned stores,
                                    const ws_strv *trusted, X509 **signer, ws_fedauth_result *r)
{
    snprintf(r->thumbprint, sizeof r->thumbprint, "%.40s", thumbprint ? thumbprint : "");
    if (!(trusted ? listed_in(trusted, r->thumbprint, &r->trusted)
                  : ws_fedauth_signer_listed(st, machine, r->thumbprint, &r->trusted))) {
        ws_seterr(&r->error, "signer %s is not in %s's trusted issuers", r->thumbprint, machine);
        return r->failed = WS_FEDAUTH_UNTRUSTED;
    }
    X509 *cert = NULL;
    if (ws_fedauth_signer_find(st, machine, r->thumbprint, stores, &cert, &r->store) != 0) {
        char where[64];
        stores_text(stores, where, sizeof where);
        ws_seterr(&r->error, "signer %s is not in %s's %s store", r->thumbprint, machine, where);
        return r->failed = WS_FEDAUTH_NO_CERT;
    }
    ws_error inner;
    if (ws_fedauth_signer_chains(st, machine, cert, r->now, &inner) != 0) {
        X509_free(cert);
        snprintf(r->detail, sizeof r->detail, "%s", inner.msg);
        ws_seterr(&r->error, "signer %s does not chain to a root in %s's LocalMachine\\Root store: %s", r->thumbprint,
                  machine, r->detail);
        return r->failed = WS_FEDAUTH_CHAIN;
    }
    if (signer)
        *signer = cert;
    else
        X509_free(cert);
    return r->failed = WS_FEDAUTH_OK;
}

ws_fedauth_step ws_fedauth_check_signer(ws_state *st, const char *machine, const char *thumbprint, unsigned stores,
                                        int64_t now, X509 **signer, ws_fedauth_result *r)
{
    memset(r, 0, sizeof *r);
    r->now = now;
    if (signer)
        *signer = NULL;
    return signer_steps(st, machine, thumbprint, stores, NULL, signer, r);
}

/* ---- the whole check --------------------------------------------------------------- */

ws_fedauth_step ws_fedauth_check(ws_state *st, const char *machine, const char *text, ws_token_kind kind,
                                 unsigned stores, ws_fedauth_result *r)
{
    return ws_fedauth_check_with(st, machine, text, kind, stores, NULL, r);
}

ws_fedauth_step ws_fedauth_check_with(ws_state *st, const char *machine, const char *text, ws_token_kind kind,
                                      unsigned stores, const ws_strv *trusted, ws_fedauth_result *r)
{
    memset(r, 0, sizeof *r);
    r->now = ws_clock_now(st, machine);
    ws_error inner;
    if (ws_token_parse(text, text ? strlen(text) : 0, &r->token, &inner) != 0) {
        snprintf(r->detail, sizeof r->detail, "%s", inner.msg);
        ws_seterr(&r->error, "not a console token: %s", r->detail);
        return r->failed = WS_FEDAUTH_PARSE;
    }
    if (r->token.kind != kind) {
        ws_seterr(&r->error, "the token is a %s, not a %s", kind_name(r->token.kind), kind_name(kind));
        return r->failed = WS_FEDAUTH_KIND;
    }
    X509 *signer = NULL;
    if (signer_steps(st, machine, r->token.thumbprint, stores, trusted, &signer, r) != WS_FEDAUTH_OK)
        return r->failed;
    int bad = ws_token_verify_signature(&r->token, signer, &inner);
    X509_free(signer);
    if (bad) {
        snprintf(r->detail, sizeof r->detail, "%s", inner.msg);
        ws_seterr(&r->error, "the signature is not valid: %s", r->detail);
        return r->failed = WS_FEDAUTH_SIGNATURE;
    }
    if (strcmp(r->token.hash_alg, "SHA256") != 0) {
        ws_seterr(&r->error, "the token is signed with %s, not SHA256", r->token.hash_alg);
        return r->failed = WS_FEDAUTH_HASH;
    }
    if (r->token.expires_on <= r->now) {
        char when[32], at[32];
        ws_time_format(r->token.expires_on, when, sizeof when);
        ws_time_format(r->now, at, sizeof at);
        ws_seterr(&r->error, "the token expired at %s (%s's clock says %s)", when, machine, at);
        return r->failed = WS_FEDAUTH_EXPIRED;
    }
    return r->failed = WS_FEDAUTH_OK;
}

void ws_fedauth_result_free(ws_fedauth_result *r)
{
    if (!r)
        return;
    ws_token_free(&r->token);
    ws_strv_free(&r->trusted);
    r->store = NULL;
}
