/* SPDX-License-Identifier: Apache-2.0 */
/* vm: see vm.h. */
#include "lab/vm.h"

#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VM_SELECT                                                                                           \
    "SELECT v.id, v.name, v.os, v.state, v.subscription, s.tenant, v.host FROM vms v"                      \
    " JOIN subscriptions s ON s.id = v.subscription"

static void copy_column(sqlite3_stmt *s, int i, char *out, size_t n)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(out, n, "%s", t ? (const char *)t : "");
}

static void row_to_vm(sqlite3_stmt *s, ws_vm *vm)
{
    memset(vm, 0, sizeof *vm);
    copy_column(s, 0, vm->id, sizeof vm->id);
    copy_column(s, 1, vm->name, sizeof vm->name);
    copy_column(s, 2, vm->os, sizeof vm->os);
    copy_column(s, 3, vm->state, sizeof vm->state);
    copy_column(s, 4, vm->subscription, sizeof vm->subscription);
    copy_column(s, 5, vm->tenant, sizeof vm->tenant);
    copy_column(s, 6, vm->host, sizeof vm->host);
}

/* The first row where ... matches key (bound as ?1). */
static int find_one(ws_state *st, const char *where, const char *key, ws_vm *vm, ws_error *e)
{
    char sql[512];
    snprintf(sql, sizeof sql, VM_SELECT " WHERE %s", where);
    sqlite3_stmt *s = ws_state_prepare(st, sql, e);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, key ? key : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        row_to_vm(s, vm);
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return ws_state_error(st, e);
    ws_seterr(e, "unknown VM '%s'", key ? key : "");
    return WS_NOT_FOUND;
}

int ws_vm_find(ws_state *st, const char *id_or_name, ws_vm *vm, ws_error *e)
{
    return find_one(st, "v.name = ?1 OR v.id = ?1 COLLATE NOCASE", id_or_name, vm, e);
}

int ws_vm_get(ws_state *st, const char *id, ws_vm *vm, ws_error *e)
{
    return find_one(st, "v.id = ?1 COLLATE NOCASE", id, vm, e);
}

int ws_vm_list(ws_state *st, const char *tenant, ws_vm **vms, size_t *n, ws_error *e)
{
    *vms = NULL;
    *n = 0;
    sqlite3_stmt *s = ws_state_prepare(st, VM_SELECT " WHERE ?1 IS NULL OR s.tenant = ?1 ORDER BY v.name", e);
    if (!s)
        return -1;
    if (tenant)
        sqlite3_bind_text(s, 1, tenant, -1, SQLITE_STATIC);
    ws_buf b;
    ws_buf_init(&b, WS_BUF_MAX_VM_LIST);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ws_vm vm;
        row_to_vm(s, &vm);
        if (ws_buf_add(&b, &vm, sizeof vm) != 0) {
            sqlite3_finalize(s);
            return ws_seterr(e, "the lab's VMs: more than %u bytes", WS_BUF_MAX_VM_LIST);
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        ws_buf_free(&b);
        return ws_state_error(st, e);
    }
    size_t len = ws_buf_len(&b);
    if (len == 0) {
        ws_buf_free(&b);
        return 0;
    }
    char *taken = ws_buf_take(&b, NULL); /* malloc'ed, so aligned for ws_vm */
    ws_buf_free(&b);
    if (!taken)
        abort();
    *n = len / sizeof(ws_vm);
    *vms = (ws_vm *)(void *)taken;
    return 0;
}

int ws_vm_add(ws_state *st, const ws_vm *vm, ws_error *e)
{
    return ws_state_exec(st, e, "INSERT INTO vms(id, name, os, state, subscription, host) VALUES(?,?,?,?,?,?)", 6,
                         vm->id, vm->name, vm->os, vm->state, vm->subscription, vm->host);
}
