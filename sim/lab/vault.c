/* SPDX-License-Identifier: Apache-2.0 */
/* vault: see vault.h. */
#include "lab/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cert.h"
#include "lab/clock.h"

int ws_vault_put(ws_state *st, const char *name, X509 *cert, EVP_PKEY *key, const char *csp, ws_error *e)
{
    if (!name || !*name || strlen(name) > 64 || strpbrk(name, " \t\r\n/\\:,"))
        return ws_seterr(e, "bad certificate name '%s' (up to 64 characters, no spaces, slashes or colons)",
                         name ? name : "");
    if (ws_vault_exists(st, name))
        return ws_seterr(e, "a certificate named '%s' already exists", name);
    unsigned char *der = NULL, *kder = NULL;
    size_t dlen = 0, klen = 0;
    char tp[41];
    if (ws_cert_to_der(cert, &der, &dlen) != 0 || (key && ws_key_to_der(key, &kder, &klen) != 0)) {
        OPENSSL_free(der);
        return ws_seterr(e, "cannot encode certificate '%s'", name);
    }
    ws_cert_thumbprint(cert, tp);
    int rc = -1;
    sqlite3_stmt *s = ws_state_query(st, e,
                                     "INSERT INTO certificates(name, thumbprint, csp, der, key_der, created_at)"
                                     " VALUES(?, ?, ?, ?, ?, ?)",
                                     3, name, tp, csp);
    if (s) {
        sqlite3_bind_blob(s, 4, der, (int)dlen, SQLITE_STATIC);
        if (kder)
            sqlite3_bind_blob(s, 5, kder, (int)klen, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, ws_clock_now(st, NULL));
        if (sqlite3_step(s) == SQLITE_DONE)
            rc = 0;
        else
            ws_seterr(e, "cannot store certificate '%s': %s", name, sqlite3_errmsg(st->db));
        sqlite3_finalize(s);
    }
    OPENSSL_free(der);
    if (kder) {
        OPENSSL_cleanse(kder, klen);
        OPENSSL_free(kder);
    }
    return rc;
}

int ws_vault_get(ws_state *st, const char *name, X509 **cert, EVP_PKEY **key, char **csp, ws_error *e)
{
    sqlite3_stmt *s = ws_state_query(st, e, "SELECT der, key_der, csp FROM certificates WHERE name = ?", 1, name);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(s);
        if (rc == SQLITE_DONE) {
            ws_seterr(e, "unknown certificate '%s'", name);
            return WS_NOT_FOUND;
        }
        return ws_state_error(st, e);
    }
    if (cert) {
        *cert = ws_cert_from_der(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
        if (!*cert) {
            sqlite3_finalize(s);
            return ws_seterr(e, "certificate '%s' in the vault is damaged", name);
        }
    }
    if (key) {
        *key = NULL;
        if (sqlite3_column_type(s, 1) == SQLITE_BLOB) {
            *key = ws_key_from_der(sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1));
            if (!*key) {
                if (cert) {
                    X509_free(*cert);
                    *cert = NULL;
                }
                sqlite3_finalize(s);
                return ws_seterr(e, "the key of certificate '%s' in the vault is damaged", name);
            }
        }
    }
    if (csp)
        *csp = ws_strdup((const char *)sqlite3_column_text(s, 2));
    sqlite3_finalize(s);
    return 0;
}

int ws_vault_name_by_thumbprint(ws_state *st, const char *thumbprint, char *name, size_t n, ws_error *e)
{
    int rc = ws_state_text(st, name, n, e, "SELECT name FROM certificates WHERE thumbprint = ? ORDER BY name", 1,
                           thumbprint);
    if (rc == WS_NOT_FOUND)
        ws_seterr(e, "no certificate with thumbprint %s", thumbprint);
    return rc;
}

int ws_vault_exists(ws_state *st, const char *name)
{
    char tp[41];
    return ws_vault_thumbprint(st, name, tp) == 0;
}

int ws_vault_thumbprint(ws_state *st, const char *name, char out[41])
{
    return ws_state_text(st, out, 41, NULL, "SELECT thumbprint FROM certificates WHERE name = ?", 1, name);
}

int ws_vault_resolve(ws_state *st, const char *text, char *name, size_t n, char tp[41], ws_error *e)
{
    name[0] = '\0';
    tp[0] = '\0';
    if (!text || !*text)
        return ws_seterr(e, "empty certificate name or thumbprint");
    if (ws_vault_thumbprint(st, text, tp) == 0) {
        snprintf(name, n, "%s", text);
        return 0;
    }
    tp[0] = '\0';
    if (ws_thumbprint_normalize(text, tp) != 0) {
        tp[0] = '\0';
        ws_seterr(e, "unknown certificate '%s' (neither a certificate's name nor a thumbprint: wapsim cert list)",
                  text);
        return WS_NOT_FOUND;
    }
    int rc = ws_vault_name_by_thumbprint(st, tp, name, n, NULL);
    if (rc == WS_NOT_FOUND)
        ws_seterr(e, "no certificate with thumbprint %s in the vault", tp);
    else if (rc != 0)
        ws_seterr(e, "state file: cannot look up thumbprint %s", tp);
    return rc;
}

int ws_vault_set_original(ws_state *st, const char *name, const char *original, ws_error *e)
{
    char tp[41];
    if (ws_thumbprint_normalize(original, tp) != 0)
        return ws_seterr(e, "bad original thumbprint '%s' for '%s'", original, name);
    if (!ws_vault_exists(st, name))
        return ws_seterr(e, "unknown certificate '%s'", name);
    return ws_state_exec(st, e, "UPDATE certificates SET original_thumbprint = ? WHERE name = ?", 2, tp, name);
}

int ws_vault_original(ws_state *st, const char *name, char out[41])
{
    out[0] = '\0';
    int rc = ws_state_text(st, out, 41, NULL,
                           "SELECT original_thumbprint FROM certificates WHERE name = ?"
                           " AND original_thumbprint IS NOT NULL",
                           1, name);
    return rc == 0 && out[0] ? 0 : WS_NOT_FOUND;
}

int ws_vault_name_by_original(ws_state *st, const char *original, char *name, size_t n)
{
    char tp[41];
    if (ws_thumbprint_normalize(original, tp) != 0)
        return WS_NOT_FOUND;
    int rc = ws_state_text(st, name, n, NULL,
                           "SELECT name FROM certificates WHERE original_thumbprint = ? ORDER BY name LIMIT 1", 1,
                           tp);
    return rc == 0 ? 0 : WS_NOT_FOUND;
}

void ws_vault_describe_thumbprint(ws_state *st, const char *thumbprint, char *out, size_t n)
{
    char name[128], orig[41];
    if (ws_vault_name_by_thumbprint(st, thumbprint, name, sizeof name, NULL) != 0)
        snprintf(out, n, "%s (no certificate in the lab has it)", thumbprint);
    else if (ws_vault_original(st, name, orig) == 0)
        snprintf(out, n, "%s (stand-in for %s)", thumbprint, orig);
    else
        snprintf(out, n, "%s", thumbprint);
}
