/* SPDX-License-Identifier: Apache-2.0 */
/* log: how the host's connection threads report what happens: one line on stderr and a
 * row in the lab's event log, and names a client chose made safe to show there. Nothing
 * is allocated. */
#ifndef WAPSIM_HOST_LOG_H
#define WAPSIM_HOST_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "lab/events.h"
#include "svc/component.h"

/* ev formatted with its template's arguments ap, as "<program>: <host>: <text>" on
 * stderr, and in the event log through st when st is not NULL. */
void host_log_v(const ws_component *c, const char *host, ws_state *st, ws_ev ev, va_list ap);

/* A name a client chose (a pcb, a clientName, a channel name) as the log shows it, into
 * out (n bytes with the NUL): printable ASCII, anything else (control characters, quotes,
 * non-ASCII from a hostile client) as '?'. */
void host_printable(const char *in, char *out, size_t n);

#endif
