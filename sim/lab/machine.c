/* SPDX-License-Identifier: Apache-2.0 */
/* machine: see machine.h. */
#include "lab/machine.h"

#include <stdio.h>
#include <string.h>

#include "lab/vault.h"

static const ws_role roles[] = {
    {"portal", "wapsim-portal", "MgmtSvc-TenantSite"},
    {"spf", "wapsim-spf", "Service Provider Foundation"},
    {"vmm", "wapsim-vmm", "System Center Virtual Machine Manager"},
    {"gateway", "wapsim-gateway", "Remote Desktop Gateway"},
    {"host", "wapsim-host", "Hyper-V Virtual Machine Management"},
    {"balancer", "wapsim-balancer", "[model] Load balancer"},
    {"client", NULL, NULL},
};

const ws_role *ws_role_find(const char *role)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (role && strcmp(roles[i].role, role) == 0)
            return &roles[i];
    return NULL;
}

#define MACHINE_COLUMNS "name, fqdn, public_fqdn, address, role, port, skew_seconds"

static void row_to_machine(sqlite3_stmt *s, ws_machine *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", (const char *)sqlite3_column_text(s, 0));
    snprintf(m->fqdn, sizeof m->fqdn, "%s", (const char *)sqlite3_column_text(s, 1));
    if (sqlite3_column_type(s, 2) != SQLITE_NULL)
        snprintf(m->public_fqdn, sizeof m->public_fqdn, "%s", (const char *)sqlite3_column_text(s, 2));
    snprintf(m->address, sizeof m->address, "%s", (const char *)sqlite3_column_text(s, 3));
    snprintf(m->role, sizeof m->role, "%s", (const char *)sqlite3_column_text(s, 4));
    m->port = sqlite3_column_int(s, 5);
    m->skew_seconds = sqlite3_column_int64(s, 6);
}

/* The first row of s (NULL: prepare failed, -1) into m; finalizes s. 0 or WS_NOT_FOUND. */
static int first_machine(sqlite3_stmt *s, ws_machine *m)
{
    if (!s)
        return -1;
    int found = sqlite3_step(s) == SQLITE_ROW;
    if (found)
        row_to_machine(s, m);
    sqlite3_finalize(s);
    return found ? 0 : WS_NOT_FOUND;
}

int ws_machine_get(ws_state *st, const char *name, ws_machine *m, ws_error *e)
{
    int rc =
        first_machine(ws_state_query(st, e, "SELECT " MACHINE_COLUMNS " FROM machines WHERE name = ?", 1, name), m);
    if (rc == WS_NOT_FOUND)
        ws_seterr(e, "unknown machine '%s'", name ? name : "");
    return rc;
}

int ws_machine_exists(ws_state *st, const char *name)
{
    ws_machine m;
    return name && ws_machine_get(st, name, &m, NULL) == 0;
}

int ws_machine_foreach(ws_state *st, int (*fn)(const ws_machine *, void *), void *arg, ws_error *e)
{
    sqlite3_stmt *s = ws_state_prepare(st, "SELECT " MACHINE_COLUMNS " FROM machines ORDER BY address", e);
    if (!s)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ws_machine m;
        row_to_machine(s, &m);
        if (fn(&m, arg))
            break;
    }
    return ws_state_finish(st, s, rc, e);
}

int ws_machine_by_role(ws_state *st, const char *role, ws_machine *m, ws_error *e)
{
    int rc = first_machine(
        ws_state_query(st, e, "SELECT " MACHINE_COLUMNS " FROM machines WHERE role = ? ORDER BY name", 1, role), m);
    if (rc == WS_NOT_FOUND)
        ws_seterr(e, "the lab has no machine with role %s", role);
    return rc;
}

int ws_machine_add(ws_state *st, const ws_machine *m, ws_error *e)
{
    if (!ws_role_find(m->role))
        return ws_seterr(e, "unknown role '%s'", m->role);
    sqlite3_stmt *s = ws_state_query(st, e, "INSERT INTO machines(" MACHINE_COLUMNS ") VALUES(?,?,?,?,?,?,?)", 5,
                                     m->name, m->fqdn, m->public_fqdn[0] ? m->public_fqdn : NULL, m->address,
                                     m->role);
    if (!s)
        return -1;
    if (m->port)
        sqlite3_bind_int(s, 6, m->port);
    sqlite3_bind_int64(s, 7, m->skew_seconds);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : ws_seterr(e, "cannot add machine '%s': %s", m->name,
                                                            sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return rc;
}

int ws_machine_names_at(ws_state *st, const char *address, const char *role, const char *also_name, ws_strv *names)
{
    sqlite3_stmt *s = ws_state_query(st, NULL,
                                     "SELECT name FROM machines WHERE address = ? AND (role = ? OR name = ?)"
                                     " ORDER BY name",
                                     3, address, role, also_name);
    int n = 0;
    while (s && sqlite3_step(s) == SQLITE_ROW)
        if (ws_strv_add(names, (const char *)sqlite3_column_text(s, 0)) == 0)
            n++;
    sqlite3_finalize(s);
    return n;
}
