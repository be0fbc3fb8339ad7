/* SPDX-License-Identifier: Apache-2.0 */
/* time: times and durations as operators write and read them. Pure text
 * conversion; "now" comes from the lab clock (lab/clock.h). */
#ifndef WAPSIM_TIME_H
#define WAPSIM_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* Durations as operators write them: "90s", "2h", "31d", "-1h30m", "15m"; a bare
 * number is seconds. */
int ws_duration_parse(const char *text, int64_t *seconds, ws_error *e);
/* "2026-11-25T18:51:11Z" */
void ws_time_format(int64_t t, char *out, size_t n);
/* Accepts the format above, "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS", or "@<unix>". */
int ws_time_parse(const char *text, int64_t *t, ws_error *e);

#endif
