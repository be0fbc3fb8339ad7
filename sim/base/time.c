/* SPDX-License-Identifier: Apache-2.0 */
/* time: see time.h. */
#include "base/time.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
