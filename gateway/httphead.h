/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/httphead.h: the request head of MS-TSGU's HTTP transport, as the gateway reads
 * it (REFERENCE.md section 7): the request line and headers of RDG_OUT_DATA (upgraded to
 * a websocket, or legacy) and RDG_IN_DATA. Bytes in, a parsed head or a refusal (HTTP
 * status and one line saying why) out: no socket, no state, nothing allocated, so the
 * fuzz target and the unit tests call it as the epoll loop does (main.c http_head). */
#ifndef WAPSIM_GATEWAY_HTTPHEAD_H
#define WAPSIM_GATEWAY_HTTPHEAD_H

#include <stddef.h>
#include <stdint.h>

#define GW_HEAD_MAX 8192     /* a request head, through its blank line */
#define GW_HEAD_LINES 48     /* the request line and up to 47 header lines */
#define GW_CONN_ID_MAX 60    /* RDG-Connection-Id: FreeRDP sends a braced GUID (38) */

typedef enum gw_request_kind {
    GW_REQ_WEBSOCKET = 1, /* RDG_OUT_DATA with the websocket upgrade: answer 101 */
    GW_REQ_LEGACY_OUT,    /* RDG_OUT_DATA without it: 200, the seed, then raw packets */
    GW_REQ_LEGACY_IN,     /* RDG_IN_DATA: pairs with the OUT connection of its id */
    GW_REQ_LEGACY_IN_BODY /* the IN connection's second head: its chunked body follows */
} gw_request_kind;

typedef struct gw_http_head {
    gw_request_kind kind;                   /* set when read returns 1 */
    char method[32];                        /* an RFC 7230 token */
    char target[256];                       /* printable ASCII, no space */
    char connection_id[GW_CONN_ID_MAX + 1]; /* RDG-Connection-Id (not for LEGACY_IN_BODY) */
    char accept[29];                        /* Sec-WebSocket-Accept for the key (WEBSOCKET only) */
    const char *status;                     /* on refusal: "400 Bad Request" etc. (static) */
    char why[160];                          /* on refusal: the reason, quoting no control character */
} gw_http_head;

/* Reads one request head from the n bytes at p. Returns 0 when the head is not whole yet
 * (*used 0), 1 when it is accepted (h->kind and its fields set), -1 when refused
 * (h->status and h->why set). *used is the head's length, blank line included, whenever
 * the head was whole; a head not whole within GW_HEAD_MAX bytes is refused with *used 0.
 * again_in: the connection already sent RDG_IN_DATA and must now repeat that head. */
int gw_http_head_read(const uint8_t *p, size_t n, int again_in, gw_http_head *h, size_t *used);

#endif
