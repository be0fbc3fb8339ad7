/* SPDX-License-Identifier: Apache-2.0 */
/* connects: the lab's record of recent console connects (connects.h). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "lab/clock.h"
#include "lab/connects.h"

int ws_connects_add(ws_state *st, const ws_connect_row *row, ws_error *e)
{
    sqlite3_stmt *s = ws_state_query(st, e,
                                     "INSERT INTO connects(time_ms, tenant, vm, ok, stage, code, message, gateway,"
                                     " computer, hops) VALUES(?4, ?1, ?2, ?5, ?3, ?6, ?7, ?8, ?9, ?10)",
                                     3, row->tenant, row->vm ? row->vm : "", row->stage ? row->stage : "");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 4, ws_clock_now_ms(st, "client"));
    sqlite3_bind_int(s, 5, row->ok ? 1 : 0);
    if (row->has_code)
        sqlite3_bind_int64(s, 6, (sqlite3_int64)row->code);
    sqlite3_bind_text(s, 7, row->message ? row->message : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 8, row->gateway ? row->gateway : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 9, row->computer ? row->computer : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 10, row->hops_json ? row->hops_json : "[]", -1, SQLITE_TRANSIENT);
    if (ws_state_finish(st, s, sqlite3_step(s), e) != 0)
        return -1;
    /* Keep the newest only: the record is a view, not a log. */
    char keep[32];
    snprintf(keep, sizeof keep, "%d", WS_CONNECTS_KEPT);
    return ws_state_exec(st, e, "DELETE FROM connects WHERE id <= (SELECT max(id) FROM connects) - ?1", 1, keep);
}

static void add_text(cJSON *o, const char *key, sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    if (t)
        cJSON_AddStringToObject(o, key, t);
    else
        cJSON_AddNullToObject(o, key);
}

int ws_connects_recent(ws_state *st, int limit, cJSON **out, ws_error *e)
{
    *out = NULL;
    if (limit < 1 || limit > WS_CONNECTS_KEPT)
        limit = WS_CONNECTS_KEPT;
    char n[16];
    snprintf(n, sizeof n, "%d", limit);
    sqlite3_stmt *s = ws_state_query(st, e,
                                     "SELECT id, time_ms, tenant, vm, ok, stage, code, message, gateway, computer,"
                                     " hops FROM connects ORDER BY id DESC LIMIT ?1",
                                     1, n);
    if (!s)
        return -1;
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
        cJSON_AddNumberToObject(o, "time_ms", (double)sqlite3_column_int64(s, 1));
        add_text(o, "tenant", s, 2);
        add_text(o, "vm", s, 3);
        cJSON_AddBoolToObject(o, "ok", sqlite3_column_int(s, 4));
        add_text(o, "stage", s, 5);
        if (sqlite3_column_type(s, 6) == SQLITE_NULL)
            cJSON_AddNullToObject(o, "code");
        else
            cJSON_AddNumberToObject(o, "code", (double)sqlite3_column_int64(s, 6));
        add_text(o, "message", s, 7);
        add_text(o, "gateway", s, 8);
        add_text(o, "computer", s, 9);
        const char *hops = (const char *)sqlite3_column_text(s, 10);
        cJSON *h = hops ? cJSON_Parse(hops) : NULL;
        cJSON_AddItemToObject(o, "hops", cJSON_IsArray(h) ? h : (cJSON_Delete(h), cJSON_CreateArray()));
        cJSON_AddItemToArray(arr, o);
    }
    if (ws_state_finish(st, s, rc, e) != 0) {
        cJSON_Delete(arr);
        return -1;
    }
    *out = arr;
    return 0;
}

int64_t ws_connects_newest_id(ws_state *st)
{
    sqlite3_stmt *s = ws_state_prepare(st, "SELECT coalesce(max(id), 0) FROM connects", NULL);
    int64_t id = 0;
    if (s && sqlite3_step(s) == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return id;
}
