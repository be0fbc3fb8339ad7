/* SPDX-License-Identifier: Apache-2.0 */
/* clock: see clock.h. */
#include "lab/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t ws_clock_offset(ws_state *st)
{
    char v[32];
    if (ws_meta_get(st, "clock_offset_seconds", v, sizeof v) != 0)
        return 0;
    return strtoll(v, NULL, 10);
}

static int64_t machine_skew(ws_state *st, const char *machine)
{
    if (!machine)
        return 0;
    sqlite3_stmt *s = ws_state_prepare(st, "SELECT skew_seconds FROM machines WHERE name = ?", NULL);
    if (!s)
        return 0;
    sqlite3_bind_text(s, 1, machine, -1, SQLITE_STATIC);
    int64_t skew = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return skew;
}

int64_t ws_clock_now_ms(ws_state *st, const char *machine)
{
    return ws_wall_ms() + (ws_clock_offset(st) + machine_skew(st, machine)) * 1000;
}

int64_t ws_clock_now(ws_state *st, const char *machine)
{
    int64_t ms = ws_clock_now_ms(st, machine);
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

int ws_clock_set_offset(ws_state *st, int64_t seconds, ws_error *e)
{
    char v[32];
    snprintf(v, sizeof v, "%" PRId64, seconds);
    return ws_meta_set(st, "clock_offset_seconds", v, e);
}

int ws_clock_set_skew(ws_state *st, const char *machine, int64_t seconds, ws_error *e)
{
    sqlite3_stmt *s = ws_state_prepare(st, "UPDATE machines SET skew_seconds = ? WHERE name = ?", e);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, seconds);
    sqlite3_bind_text(s, 2, machine, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return ws_state_error(st, e);
    if (sqlite3_changes(st->db) == 0)
        return ws_seterr(e, "unknown machine '%s'", machine);
    return 0;
}
