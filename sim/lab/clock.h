/* SPDX-License-Identifier: Apache-2.0 */
/* clock: the lab clock. Every component asks it for "now": wall time plus the lab's
 * offset (lab_meta clock_offset_seconds) plus its machine's skew (machines.skew_seconds).
 * Scenarios move time instead of sleeping, so expiry runs in milliseconds. */
#ifndef WAPSIM_CLOCK_H
#define WAPSIM_CLOCK_H

#include <stdint.h>

#include "base/time.h"
#include "lab/state.h"

/* Now on a machine's clock (machine NULL: the lab's clock, without skew). */
int64_t ws_clock_now(ws_state *st, const char *machine);
int64_t ws_clock_now_ms(ws_state *st, const char *machine);

int64_t ws_clock_offset(ws_state *st);
int ws_clock_set_offset(ws_state *st, int64_t seconds, ws_error *e);
int ws_clock_set_skew(ws_state *st, const char *machine, int64_t seconds, ws_error *e);

#endif
