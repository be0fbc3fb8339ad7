/* SPDX-License-Identifier: Apache-2.0 */
/* eventlog: see eventlog.h. */
#include "lab/eventlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lab/clock.h"

static int insert(ws_state *st, const char *machine, const char *channel, const char *source, int event_id,
                  const char *level, const char *text)
{
    sqlite3_stmt *s = ws_state_query(st, NULL,
                                     "INSERT INTO events(machine, channel, source, level, text, time_ms, event_id)"
                                     " VALUES(?, ?, ?, ?, ?, ?, ?)",
                                     5, machine, channel, source, level, text);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 6, ws_clock_now_ms(st, machine));
    sqlite3_bind_int(s, 7, event_id);
    return ws_state_finish(st, s, sqlite3_step(s), NULL);
}

int ws_eventv(ws_state *st, const char *machine, const char *channel, const char *source, int event_id,
              const char *level, const char *fmt, va_list ap)
{
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        abort();
    int rc = insert(st, machine, channel, source, event_id, level, text);
    free(text);
    return rc;
}

int ws_event(ws_state *st, const char *machine, const char *channel, const char *source, int event_id,
             const char *level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ws_eventv(st, machine, channel, source, event_id, level, fmt, ap);
    va_end(ap);
    return rc;
}

int ws_trace(ws_state *st, const char *machine, const char *source, const char *text)
{
    return insert(st, machine, WS_CHANNEL_TRACE, source, 0, WS_LEVEL_ERROR, text);
}

int ws_event_foreach(ws_state *st, const ws_event_filter *f, int (*fn)(const ws_event_rec *, void *), void *arg,
                     ws_error *e)
{
    sqlite3_stmt *s = ws_state_query(st, e,
                                     "SELECT id, time_ms, machine, channel, source, event_id, level, text"
                                     " FROM events WHERE (?1 IS NULL OR machine = ?1)"
                                     " AND (?2 IS NULL OR channel = ?2) AND (?3 = 0 OR time_ms >= ?3) AND id > ?4"
                                     " ORDER BY id",
                                     2, f->machine, f->channel);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 3, f->since_ms);
    sqlite3_bind_int64(s, 4, f->after_id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        /* The schema says NOT NULL; a file edited or damaged by hand may not. */
        for (int c = 2; c <= 7; c++)
            if (c != 5 && sqlite3_column_type(s, c) == SQLITE_NULL) {
                ws_seterr(e, "the state file is damaged: event %lld has no %s", (long long)sqlite3_column_int64(s, 0),
                          sqlite3_column_name(s, c));
                sqlite3_finalize(s);
                return WS_EVENTLOG_DAMAGED;
            }
        ws_event_rec r = {
            .id = sqlite3_column_int64(s, 0),
            .time_ms = sqlite3_column_int64(s, 1),
            .machine = (const char *)sqlite3_column_text(s, 2),
            .channel = (const char *)sqlite3_column_text(s, 3),
            .source = (const char *)sqlite3_column_text(s, 4),
            .event_id = sqlite3_column_int(s, 5),
            .level = (const char *)sqlite3_column_text(s, 6),
            .text = (const char *)sqlite3_column_text(s, 7),
        };
        if (fn(&r, arg))
            break;
    }
    if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
        ws_state_error(st, e); /* "<lab.db> is damaged: ..." */
        sqlite3_finalize(s);
        return WS_EVENTLOG_DAMAGED;
    }
    return ws_state_finish(st, s, rc, e);
}

int64_t ws_event_newest_id(ws_state *st, const char *machine)
{
    sqlite3_stmt *s = machine
                          ? ws_state_query(st, NULL, "SELECT coalesce(max(id), 0) FROM events WHERE machine = ?", 1,
                                           machine)
                          : ws_state_query(st, NULL, "SELECT coalesce(max(id), 0) FROM events", 0);
    int64_t id = 0;
    if (s && sqlite3_step(s) == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return id;
}
