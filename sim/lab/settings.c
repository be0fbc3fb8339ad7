/* SPDX-License-Identifier: Apache-2.0 */
/* settings: see settings.h. */
#include "lab/settings.h"

#include <stdio.h>

#include "crypto/cert.h"
#include "lab/store.h"
#include "lab/vault.h"

int ws_setting_get(ws_state *st, const char *scope, const char *key, char *out, size_t n)
{
    sqlite3_stmt *s = ws_state_prepare(st, "SELECT value FROM settings WHERE scope = ? AND key = ?", NULL);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    int found = sqlite3_step(s) == SQLITE_ROW;
    if (found)
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return found ? 0 : WS_NOT_FOUND;
}

int ws_setting_set(ws_state *st, const char *scope, const char *key, const char *value, ws_error *e)
{
    return ws_state_exec(st, e,
                         "INSERT INTO settings(scope, key, value) VALUES(?, ?, ?)"
                         " ON CONFLICT(scope, key) DO UPDATE SET value = excluded.value",
                         3, scope, key, value);
}

int ws_trusted_issuer_add(ws_state *st, const char *machine, const char *thumbprint, ws_error *e)
{
    char tp[41];
    if (ws_thumbprint_normalize(thumbprint, tp) != 0)
        return ws_seterr(e, "bad thumbprint '%s' (40 hexadecimal digits)", thumbprint ? thumbprint : "");
    return ws_state_exec(st, e,
                         "INSERT INTO trusted_issuers(machine, thumbprint) VALUES(?, ?)"
                         " ON CONFLICT(machine, thumbprint) DO NOTHING",
                         2, machine, tp);
}

int ws_trusted_issuer_remove(ws_state *st, const char *machine, const char *thumbprint, ws_error *e)
{
    char tp[41];
    if (ws_thumbprint_normalize(thumbprint, tp) != 0)
        return ws_seterr(e, "bad thumbprint '%s' (40 hexadecimal digits)", thumbprint ? thumbprint : "");
    return ws_state_exec(st, e, "DELETE FROM trusted_issuers WHERE machine = ? AND thumbprint = ?", 2, machine, tp);
}

int ws_trusted_issuer_has(ws_state *st, const char *machine, const char *thumbprint)
{
    sqlite3_stmt *s =
        ws_state_prepare(st, "SELECT 1 FROM trusted_issuers WHERE machine = ? AND thumbprint = ?", NULL);
    if (!s)
        return 0;
    sqlite3_bind_text(s, 1, machine, -1, SQLITE_STATIC);
    char tp[41];
    if (ws_thumbprint_normalize(thumbprint, tp) != 0) {
        sqlite3_finalize(s);
        return 0;
    }
    sqlite3_bind_text(s, 2, tp, -1, SQLITE_STATIC);
    int found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

int ws_trusted_issuer_list(ws_state *st, const char *machine, ws_strv *out, ws_error *e)
{
    sqlite3_stmt *s =
        ws_state_prepare(st, "SELECT thumbprint FROM trusted_issuers WHERE machine = ? ORDER BY rowid", e);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, machine, -1, SQLITE_STATIC);
    int rc = 0;
    while (rc == 0 && sqlite3_step(s) == SQLITE_ROW)
        if (ws_strv_add(out, (const char *)sqlite3_column_text(s, 0)) != 0)
            rc = ws_seterr(e, "out of memory reading %s's trusted issuers", machine);
    sqlite3_finalize(s);
    return rc;
}

int ws_trusted_issuer_replace(ws_state *st, const char *machine, const ws_strv *tps, ws_error *e)
{
    if (ws_state_exec(st, e, "DELETE FROM trusted_issuers WHERE machine = ?", 1, machine) != 0)
        return -1;
    for (int i = 0; i < tps->n; i++)
        if (ws_trusted_issuer_add(st, machine, tps->v[i], e) != 0)
            return -1;
    return 0;
}

int ws_trusted_issuer_refresh_host(ws_state *st, const char *host, const char *cert, int *installed, ws_error *e)
{
    char tp[41];
    *installed = 0;
    if (ws_vault_thumbprint(st, cert, tp) != 0)
        return ws_seterr(e, "certificate '%s' is not in the vault", cert);
    if (ws_store_install(st, host, "My", cert, 0, installed, e) != 0)
        return -1;
    char *one[] = {tp, NULL};
    ws_strv list = {one, 1};
    return ws_trusted_issuer_replace(st, host, &list, e);
}
