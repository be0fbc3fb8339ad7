/* clock: see clock.h. */
#include "clock.h"

#include <ctype.h>
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
        return ws_seterr(e, "state file: %s", sqlite3_errmsg(st->db));
    if (sqlite3_changes(st->db) == 0)
        return ws_seterr(e, "unknown machine '%s'", machine);
    return 0;
}

int ws_duration_parse(const char *text, int64_t *seconds, ws_error *e)
{
    const char *p = text;
    int sign = 1;
    if (!p || !*p)
        return ws_seterr(e, "empty duration (write it like 90s, 15m, 2h or 31d)");
    if (*p == '-' || *p == '+')
        sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p))
        return ws_seterr(e, "bad duration '%s' (write it like 90s, 15m, 2h or 31d)", text);
    int64_t total = 0;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return ws_seterr(e, "bad duration '%s' (write it like 90s, 15m, 2h or 31d)", text);
        errno = 0;
        char *end;
        long long n = strtoll(p, &end, 10);
        if (errno || n > 100LL * 366 * 86400)
            return ws_seterr(e, "duration '%s' is too long", text);
        int64_t unit;
        switch (*end) {
        case '\0':
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default: return ws_seterr(e, "bad duration '%s': unknown unit '%c' (use s, m, h, d or w)", text, *end);
        }
        total += n * unit;
        if (total > 100LL * 366 * 86400)
            return ws_seterr(e, "duration '%s' is too long", text);
        p = *end ? end + 1 : end;
    }
    *seconds = sign * total;
    return 0;
}

void ws_time_format(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(out, n, "@%" PRId64, t);
        return;
    }
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int ws_time_parse(const char *text, int64_t *t, ws_error *e)
{
    if (!text || !*text)
        return ws_seterr(e, "empty time");
    if (text[0] == '@') {
        char *end;
        errno = 0;
        long long v = strtoll(text + 1, &end, 10);
        if (errno || *end || end == text + 1)
            return ws_seterr(e, "bad time '%s'", text);
        *t = v;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) {
        memset(&tm, 0, sizeof tm);
        end = strptime(text, "%Y-%m-%d %H:%M:%S", &tm);
    }
    if (!end) {
        memset(&tm, 0, sizeof tm);
        end = strptime(text, "%Y-%m-%d", &tm);
    }
    if (!end || (*end && strcmp(end, "Z") != 0))
        return ws_seterr(e, "bad time '%s' (write it like 2026-11-25T18:00:00Z)", text);
    *t = (int64_t)timegm(&tm);
    return 0;
}
