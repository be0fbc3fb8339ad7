/* SPDX-License-Identifier: Apache-2.0 */
/* store: see store.h. */
#include "lab/store.h"

#include <string.h>
#include <strings.h>

#include "crypto/cert.h"
#include "lab/machine.h"
#include "lab/vault.h"

const char *ws_store_name(const char *text)
{
    if (!text)
        return NULL;
    if (!strcasecmp(text, "My") || !strcasecmp(text, "Personal"))
        return "My";
    if (!strcasecmp(text, "Root") || !strcasecmp(text, "TrustedRoot"))
        return "Root";
    return NULL;
}

static int check_names(ws_state *st, const char *machine, const char *store, ws_error *e)
{
    if (!ws_machine_exists(st, machine))
        return ws_seterr(e, "unknown machine '%s'", machine);
    if (!store || (strcmp(store, "My") != 0 && strcmp(store, "Root") != 0))
        return ws_seterr(e, "unknown store '%s' (use My or Root)", store ? store : "");
    return 0;
}

int ws_store_add(ws_state *st, const char *machine, const char *store, const char *cert_name,
                 int with_private_key, ws_error *e)
{
    if (check_names(st, machine, store, e) != 0)
        return -1;
    EVP_PKEY *key = NULL;
    int rc = ws_vault_get(st, cert_name, NULL, with_private_key ? &key : NULL, NULL, e);
    if (rc != 0)
        return rc;
    if (with_private_key && !key)
        return ws_seterr(e, "certificate '%s' has no private key to import", cert_name);
    EVP_PKEY_free(key);
    sqlite3_stmt *s = ws_state_query(st, e,
                                     "INSERT INTO store_entries(machine, store, certificate, has_private_key)"
                                     " VALUES(?, ?, ?, ?) ON CONFLICT(machine, store, certificate)"
                                     " DO UPDATE SET has_private_key = excluded.has_private_key",
                                     3, machine, store, cert_name);
    if (!s)
        return -1;
    sqlite3_bind_int(s, 4, with_private_key ? 1 : 0);
    return ws_state_finish(st, s, sqlite3_step(s), e);
}

int ws_store_install(ws_state *st, const char *machine, const char *store, const char *cert_name,
                     int with_private_key, int *installed, ws_error *e)
{
    int had_key = 0;
    *installed = 0;
    if (ws_store_contains(st, machine, store, cert_name, &had_key) && (had_key || !with_private_key))
        return 0;
    if (ws_store_add(st, machine, store, cert_name, with_private_key, e) != 0)
        return -1;
    *installed = 1;
    return 0;
}

int ws_store_remove(ws_state *st, const char *machine, const char *store, const char *cert_name, ws_error *e)
{
    if (check_names(st, machine, store, e) != 0)
        return -1;
    if (ws_state_exec(st, e, "DELETE FROM store_entries WHERE machine = ? AND store = ? AND certificate = ?", 3,
                      machine, store, cert_name) != 0)
        return -1;
    if (sqlite3_changes(st->db) == 0) {
        ws_seterr(e, "certificate '%s' is not in %s\\%s", cert_name, machine, store);
        return WS_NOT_FOUND;
    }
    return 0;
}

int ws_store_contains(ws_state *st, const char *machine, const char *store, const char *cert_name, int *has_key)
{
    sqlite3_stmt *s = ws_state_query(st, NULL,
                                     "SELECT has_private_key FROM store_entries"
                                     " WHERE machine = ? AND store = ? AND certificate = ?",
                                     3, machine, store, cert_name);
    if (!s)
        return 0;
    int found = sqlite3_step(s) == SQLITE_ROW;
    if (found && has_key)
        *has_key = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return found;
}

STACK_OF(X509) *ws_store_certs(ws_state *st, const char *machine, const char *store, ws_error *e)
{
    sqlite3_stmt *s = ws_state_query(st, e,
                                     "SELECT c.name, c.der FROM store_entries se"
                                     " JOIN certificates c ON c.name = se.certificate"
                                     " WHERE se.machine = ? AND se.store = ? ORDER BY c.name",
                                     2, machine, store);
    if (!s)
        return NULL;
    STACK_OF(X509) *certs = sk_X509_new_null();
    while (sqlite3_step(s) == SQLITE_ROW) {
        X509 *c = ws_cert_from_der(sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1));
        if (c)
            sk_X509_push(certs, c);
    }
    sqlite3_finalize(s);
    return certs;
}

int ws_store_find(ws_state *st, const char *machine, const char *store, const char *thumbprint, X509 **cert,
                  ws_error *e)
{
    sqlite3_stmt *s = ws_state_query(st, e,
                                     "SELECT c.der FROM store_entries se"
                                     " JOIN certificates c ON c.name = se.certificate"
                                     " WHERE se.machine = ? AND se.store = ? AND c.thumbprint = ?",
                                     3, machine, store, thumbprint);
    if (!s)
        return -1;
    int rc = WS_NOT_FOUND;
    if (sqlite3_step(s) == SQLITE_ROW) {
        *cert = ws_cert_from_der(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
        rc = *cert ? 0 : -1;
    }
    sqlite3_finalize(s);
    if (rc == WS_NOT_FOUND)
        ws_seterr(e, "no certificate with thumbprint %s in %s\\%s", thumbprint, machine, store);
    return rc;
}

int64_t ws_store_generation(ws_state *st, const char *machine, ws_error *e)
{
    /* A machine no trigger has bumped yet has the file's base value (state.c). */
    sqlite3_stmt *s = ws_state_query(st, e,
                                     "SELECT coalesce((SELECT generation FROM store_generations WHERE machine = ?1),"
                                     " (SELECT generation FROM store_generations WHERE machine = ''))",
                                     1, machine);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    int64_t g = rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL ? sqlite3_column_int64(s, 0) : -1;
    if (ws_state_finish(st, s, rc, e) != 0)
        return -1;
    if (g < 0)
        ws_seterr(e, "the state file has no store change counter");
    return g;
}

int ws_store_verify_chain(ws_state *st, const char *machine, X509 *leaf, int64_t at, ws_error *e)
{
    STACK_OF(X509) *roots = ws_store_certs(st, machine, "Root", e);
    STACK_OF(X509) *mine = roots ? ws_store_certs(st, machine, "My", e) : NULL;
    int rc = -1;
    if (roots && mine)
        rc = ws_cert_verify_chain(leaf, mine, roots, at, e);
    sk_X509_pop_free(roots, X509_free);
    sk_X509_pop_free(mine, X509_free);
    return rc;
}

int ws_store_foreach(ws_state *st, const char *machine, const char *store,
                     int (*fn)(const ws_store_entry *, void *), void *arg, ws_error *e)
{
    int unfiltered = !machine && !store;
    sqlite3_stmt *s = ws_state_query(st, e,
                                     "SELECT machine, store, certificate, has_private_key FROM store_entries"
                                     " WHERE (?1 IS NULL OR machine = ?1) AND (?2 IS NULL OR store = ?2)"
                                     " UNION ALL SELECT NULL, NULL, name, 0 FROM certificates WHERE ?3"
                                     " AND name NOT IN (SELECT certificate FROM store_entries)"
                                     " ORDER BY 1 NULLS LAST, 2, 3",
                                     2, machine, store);
    if (!s)
        return -1;
    sqlite3_bind_int(s, 3, unfiltered);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ws_store_entry ent = {
            .machine = (const char *)sqlite3_column_text(s, 0),
            .store = (const char *)sqlite3_column_text(s, 1),
            .cert_name = (const char *)sqlite3_column_text(s, 2),
            .has_private_key = sqlite3_column_int(s, 3),
        };
        if (fn(&ent, arg))
            break;
    }
    return ws_state_finish(st, s, rc, e);
}
