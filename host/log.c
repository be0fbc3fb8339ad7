/* SPDX-License-Identifier: Apache-2.0 */
/* log: see log.h. */
#include "log.h"

#include <stdio.h>

void host_log_v(const ws_component *c, const char *host, ws_state *st, ws_ev ev, va_list ap)
{
    char msg[3072];
    ws_event_vformat(ev, msg, sizeof msg, ap);
    fprintf(stderr, "%s: %s: %s\n", c->program, host, msg); /* msg names the client */
    if (st)
        ws_event_put(st, host, ev, NULL, msg);
}

void host_printable(const char *in, char *out, size_t n)
{
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++) {
        unsigned char ch = (unsigned char)in[i];
        out[i] = (ch < 0x20 || ch >= 0x7F || ch == '\'') ? '?' : (char)ch;
    }
    out[i] = '\0';
}
