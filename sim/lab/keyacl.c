/* SPDX-License-Identifier: Apache-2.0 */
/* keyacl: see keyacl.h. */
#include "lab/keyacl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lab/accounts.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/store.h"

const char *ws_keyacl_rights_name(const char *text)
{
    if (!text)
        return NULL;
    if (!strcasecmp(text, "read"))
        return WS_KEYACL_READ;
    if (!strcasecmp(text, "full") || !strcasecmp(text, "full control") || !strcasecmp(text, "fullcontrol"))
        return WS_KEYACL_FULL;
    return NULL;
}

/* Well-known principals, each with the spellings an administrator types. */
static const struct {
    const char *alias, *canon;
} well_known[] = {
    {"NETWORK SERVICE", WS_ACCOUNT_NETWORK_SERVICE},
    {"NT AUTHORITY\\NETWORK SERVICE", WS_ACCOUNT_NETWORK_SERVICE},
    {"NetworkService", WS_ACCOUNT_NETWORK_SERVICE},
    {"NT AUTHORITY\\NetworkService", WS_ACCOUNT_NETWORK_SERVICE},
    {"SYSTEM", WS_ACCOUNT_SYSTEM},
    {"NT AUTHORITY\\SYSTEM", WS_ACCOUNT_SYSTEM},
    {"LocalSystem", WS_ACCOUNT_SYSTEM},
    {"Administrators", WS_ACCOUNT_ADMINISTRATORS},
    {"BUILTIN\\Administrators", WS_ACCOUNT_ADMINISTRATORS},
    {"Everyone", WS_ACCOUNT_EVERYONE},
    {"Authenticated Users", WS_ACCOUNT_AUTHENTICATED_USERS},
    {"NT AUTHORITY\\Authenticated Users", WS_ACCOUNT_AUTHENTICATED_USERS},
};

int ws_keyacl_account_canon(const char *text, char out[WS_KEYACL_ACCOUNT_MAX], ws_error *e)
{
    if (!text || !*text)
        return ws_seterr(e, "empty account name");
    size_t len = strlen(text);
    if (len >= WS_KEYACL_ACCOUNT_MAX)
        return ws_seterr(e, "account name '%.40s...' is too long (at most %d characters)", text,
                         WS_KEYACL_ACCOUNT_MAX - 1);
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ',')
            return ws_seterr(e, "account name '%s' has a control character or a comma", text);
    for (size_t i = 0; i < sizeof well_known / sizeof well_known[0]; i++)
        if (!strcasecmp(text, well_known[i].alias)) {
            snprintf(out, WS_KEYACL_ACCOUNT_MAX, "%s", well_known[i].canon);
            return 0;
        }
    snprintf(out, WS_KEYACL_ACCOUNT_MAX, "%s", text);
    return 0;
}

int ws_keyacl_service_account(ws_state *st, const char *machine, char out[WS_KEYACL_ACCOUNT_MAX], ws_error *e)
{
    ws_machine m;
    if (ws_machine_get(st, machine, &m, e) != 0)
        return -1;
    if (ws_setting_get(st, machine, WS_SET_SERVICE_ACCOUNT, out, WS_KEYACL_ACCOUNT_MAX) == 0 && out[0])
        return 0;
    snprintf(out, WS_KEYACL_ACCOUNT_MAX, "%s",
             strcmp(m.role, "gateway") == 0 ? WS_ACCOUNT_NETWORK_SERVICE : WS_ACCOUNT_SYSTEM);
    return 0;
}

int ws_keyacl_local_admin(ws_state *st, const char *machine, const char *account)
{
    if (!strcasecmp(account, WS_ACCOUNT_SYSTEM))
        return 1;
    char list[1024];
    if (ws_setting_get(st, machine, WS_SET_LOCAL_ADMINS, list, sizeof list) != 0)
        return 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (!strcasecmp(tok, account))
            return 1;
    }
    return 0;
}

/* The certificate is in that store with its key: 0, else -1 with e. */
static int need_key(ws_state *st, const char *machine, const char *store, const char *cert, ws_error *e)
{
    int has_key = 0;
    if (!ws_store_contains(st, machine, store, cert, &has_key) || !has_key)
        return ws_seterr(e, "certificate '%s' is not in %s\\LocalMachine\\%s with its private key", cert, machine,
                         store);
    return 0;
}

static int count_rows(ws_state *st, const char *machine, const char *store, const char *cert)
{
    sqlite3_stmt *s = ws_state_query(st, NULL,
                                     "SELECT count(*) FROM key_access WHERE machine = ? AND store = ? AND certificate = ?",
                                     3, machine, store, cert);
    int n = s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    return n;
}

static int put_row(ws_state *st, const char *machine, const char *store, const char *cert, const char *account,
                   const char *rights, ws_error *e)
{
    return ws_state_exec(st, e,
                         "INSERT INTO key_access(machine, store, certificate, account, rights) VALUES(?, ?, ?, ?, ?)"
                         " ON CONFLICT(machine, store, certificate, account) DO UPDATE SET rights = excluded.rights",
                         5, machine, store, cert, account, rights);
}

int ws_keyacl_set_import_default(ws_state *st, const char *machine, const char *store, const char *cert,
                                 ws_error *e)
{
    if (need_key(st, machine, store, cert, e) != 0)
        return -1;
    if (ws_state_exec(st, e, "DELETE FROM key_access WHERE machine = ? AND store = ? AND certificate = ?", 3, machine,
                      store, cert) != 0)
        return -1;
    return put_row(st, machine, store, cert, WS_ACCOUNT_SYSTEM, WS_KEYACL_FULL, e) != 0 ||
                   put_row(st, machine, store, cert, WS_ACCOUNT_ADMINISTRATORS, WS_KEYACL_FULL, e) != 0
               ? -1
               : 0;
}

/* The rights account has by its own entry: 0 with rights filled, WS_NOT_FOUND. */
static int own_rights(ws_state *st, const char *machine, const char *store, const char *cert, const char *account,
                      char rights[16])
{
    return ws_state_text(st, rights, 16, NULL,
                         "SELECT rights FROM key_access WHERE machine = ? AND store = ? AND certificate = ?"
                         " AND account = ?",
                         4, machine, store, cert, account);
}

int ws_keyacl_grant(ws_state *st, const char *machine, const char *store, const char *cert, const char *account,
                    const char *rights, int *changed, ws_error *e)
{
    *changed = 0;
    if (need_key(st, machine, store, cert, e) != 0)
        return -1;
    if (count_rows(st, machine, store, cert) == 0 && ws_keyacl_set_import_default(st, machine, store, cert, e) != 0)
        return -1;
    char had[16] = "";
    if (own_rights(st, machine, store, cert, account, had) == 0 && strcmp(had, rights) == 0)
        return 0;
    if (put_row(st, machine, store, cert, account, rights, e) != 0)
        return -1;
    *changed = 1;
    return 0;
}

int ws_keyacl_revoke(ws_state *st, const char *machine, const char *store, const char *cert, const char *account,
                     ws_error *e)
{
    if (need_key(st, machine, store, cert, e) != 0)
        return -1;
    int rows = count_rows(st, machine, store, cert);
    if (rows == 0 && ws_keyacl_set_import_default(st, machine, store, cert, e) != 0)
        return -1;
    char had[16];
    if (own_rights(st, machine, store, cert, account, had) != 0) {
        ws_seterr(e, "%s has no entry in the access list of %s's private key on %s", account, cert, machine);
        return WS_NOT_FOUND;
    }
    if (count_rows(st, machine, store, cert) <= 1)
        return ws_seterr(e, "%s is the last entry of %s's private key access list on %s: grant another account "
                            "first",
                         account, cert, machine);
    return ws_state_exec(st, e,
                         "DELETE FROM key_access WHERE machine = ? AND store = ? AND certificate = ? AND account = ?",
                         4, machine, store, cert, account);
}

int ws_keyacl_list(ws_state *st, const char *machine, const char *store, const char *cert, ws_keyacl_entry **out,
                   size_t *n, ws_error *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = ws_state_query(st, e,
                                     "SELECT account, rights FROM key_access"
                                     " WHERE machine = ? AND store = ? AND certificate = ?"
                                     " ORDER BY account <> '" WS_ACCOUNT_SYSTEM "', account <> '" WS_ACCOUNT_ADMINISTRATORS
                                     "', account COLLATE NOCASE",
                                     3, machine, store, cert);
    if (!s)
        return -1;
    int rc;
    size_t cap = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            ws_keyacl_entry *grown = realloc(*out, cap * sizeof **out);
            if (!grown)
                abort();
            *out = grown;
        }
        ws_keyacl_entry *en = &(*out)[(*n)++];
        snprintf(en->account, sizeof en->account, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(en->rights, sizeof en->rights, "%s", (const char *)sqlite3_column_text(s, 1));
    }
    if (ws_state_finish(st, s, rc, e) != 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int ws_keyacl_json(ws_state *st, const char *machine, const char *store, const char *cert, cJSON **out,
                   ws_error *e)
{
    ws_keyacl_entry *list = NULL;
    size_t n = 0;
    *out = NULL;
    if (ws_keyacl_list(st, machine, store, cert, &list, &n, e) != 0)
        return -1;
    if (n)
        *out = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "account", list[i].account);
        cJSON_AddStringToObject(o, "rights", list[i].rights);
        cJSON_AddItemToArray(*out, o);
    }
    free(list);
    return 0;
}

void ws_keyacl_describe(ws_state *st, const char *machine, const char *store, const char *cert, char *out, size_t n)
{
    ws_keyacl_entry *list = NULL;
    size_t k = 0, used = 0;
    out[0] = '\0';
    if (ws_keyacl_list(st, machine, store, cert, &list, &k, NULL) != 0 || k == 0) {
        snprintf(out, n, "not recorded");
        free(list);
        return;
    }
    for (size_t i = 0; i < k && used < n; i++) {
        int w = snprintf(out + used, n - used, "%s%s: %s", i ? ", " : "", list[i].account, list[i].rights);
        used += w > 0 ? (size_t)w : 0;
    }
    free(list);
}

/* Whether entry's principal covers account on machine. */
static int entry_covers(ws_state *st, const char *machine, const char *entry, const char *account)
{
    if (!strcasecmp(entry, account) || !strcasecmp(entry, WS_ACCOUNT_EVERYONE) ||
        !strcasecmp(entry, WS_ACCOUNT_AUTHENTICATED_USERS))
        return 1;
    return !strcasecmp(entry, WS_ACCOUNT_ADMINISTRATORS) && ws_keyacl_local_admin(st, machine, account);
}

int ws_keyacl_can_use(ws_state *st, const char *machine, const char *store, const char *cert, const char *account,
                      ws_error *why)
{
    if (need_key(st, machine, store, cert, why) != 0)
        return 0;
    ws_keyacl_entry *list = NULL;
    size_t n = 0;
    if (ws_keyacl_list(st, machine, store, cert, &list, &n, why) != 0)
        return 0;
    int ok = n == 0; /* never recorded: the machine's services may use it [model, keyacl.h] */
    for (size_t i = 0; i < n && !ok; i++)
        ok = entry_covers(st, machine, list[i].account, account);
    free(list);
    if (!ok) {
        char acl[512];
        ws_keyacl_describe(st, machine, store, cert, acl, sizeof acl);
        ws_seterr(why, "%s may not use the private key of %s on %s: its access list is {%s} and %s is %sa member of "
                       "%s's local Administrators",
                  account, cert, machine, acl, account, ws_keyacl_local_admin(st, machine, account) ? "" : "not ",
                  machine);
    }
    return ok;
}
