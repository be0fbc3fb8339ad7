/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim-gateway: the RD Gateway with the FedAuth plug-in, TLS on 8443.
 *
 * Like TSGateway it binds its TLS certificate (the configured binding, with its key
 * from its own My store) when it starts and serves that one until restarted. It speaks
 * MS-TSGU's HTTP transport as FreeRDP 2.11 and Remote Desktop Connection do
 * (REFERENCE.md section 7): RDG_OUT_DATA upgraded to a websocket, or the legacy pair
 * RDG_OUT_DATA (200, a 10-byte seed, then raw packets) + RDG_IN_DATA (chunked). One
 * epoll loop serves every connection, so an idle tunnel costs a socket, an SSL object
 * and no buffers; a slow client only ever waits on its own socket. The tunnel itself
 * (handshake, FedAuth, channel, relay) is tunnel.c. */
#include "gateway.h"
#include "httphead.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "base/net.h"
#include "crypto/tls.h"
#include "lab/events.h"
#include "lab/keyacl.h"
#include "lab/settings.h"
#include "svc/machine_tls.h"
#include "wire/tsgu.h"
#include "lab/vault.h"

#define SEED_LEN 10
#define GW_READ_MAX 16384 /* a TLS record's plaintext at most (RFC 8446 section 5.1) */
/* Deadlines for each phase before the client has authenticated, from the
 * connection's accept: [model] lab values, short so that a test sees them pass
 * (the real gateway's idle and session timeouts apply after authorization). */
#define TLS_TIMEOUT_MS 5000      /* [model] TLS handshake done */
#define HTTP_TIMEOUT_MS 10000    /* [model] RDG_OUT_DATA / RDG_IN_DATA head read */
#define PREAUTH_TIMEOUT_MS 15000 /* [model] MS-TSGU handshake through TUNNEL_AUTH */
/* [model] A legacy RDG_OUT_DATA answered with 200 and its seed waits this long for the
 * RDG_IN_DATA of its RDG-Connection-Id, which the client sends at once: an OUT whose IN
 * went to another member (a balancer without affinity) holds nothing longer. */
#define IN_CHANNEL_TIMEOUT_MS 5000
/* [model] Connections one source address may hold before it authenticates; an
 * authorized tunnel does not count, so many tenants behind one address still fit. */
#define PREAUTH_PER_SOURCE 64

ws_component gw;
static int epfd = -1;
static SSL_CTX *tls_ctx;
static int listen_fd = -1;
static int listener_kind = GW_KIND_LISTENER;
/* A descriptor held in reserve: out of descriptors, it is closed to accept and close
 * the pending connection, so the ready listener is drained instead of spun on. */
static int spare_fd = -1;
static int overloaded;      /* accept failed for want of descriptors; health says so */
static int listener_paused; /* out of the epoll set until the next sweep */

/* Every connection, for timeouts; and those closed during this round, freed after it
 * (bury), with the tunnels ended in it: a handler up the stack may still hold either. */
typedef struct conn_node {
    gw_conn *c;
    struct conn_node *next;
} conn_node;
static conn_node *conns;
static gw_conn *graveyard[4096];
static size_t graveyard_n;

/* ---- buffers ---- */

void gw_queue_init(gw_queue *q)
{
    memset(q, 0, sizeof *q);
}

void gw_queue_free(gw_queue *q)
{
    free(q->p);
    gw_queue_init(q);
}

size_t gw_queue_len(const gw_queue *q)
{
    return q->len - q->off;
}

uint8_t *gw_queue_data(const gw_queue *q)
{
    static uint8_t none[1];
    return q->p ? q->p + q->off : none;
}

uint8_t *gw_queue_reserve(gw_queue *q, size_t n)
{
    size_t unread = q->len - q->off;
    if (n > WS_BUF_MAX_GATEWAY_QUEUE || unread > WS_BUF_MAX_GATEWAY_QUEUE - n) {
        gw_queue_free(q);
        return NULL;
    }
    if (q->cap - q->len >= n)
        return q->p + q->len;
    /* Slide down only what is no more than was consumed: each byte moves at most once. */
    if (q->off >= unread && q->cap - unread >= n) {
        memmove(q->p, q->p + q->off, unread);
        q->off = 0;
        q->len = unread;
        return q->p + q->len;
    }
    size_t cap = q->cap ? q->cap : 1024;
    while (cap - unread < n)
        cap *= 2;
    uint8_t *p = malloc(cap); /* the unread bytes alone move over */
    if (!p)
        abort();
    if (unread)
        memcpy(p, q->p + q->off, unread);
    free(q->p);
    q->p = p;
    q->cap = cap;
    q->off = 0;
    q->len = unread;
    return q->p + q->len;
}

void gw_queue_commit(gw_queue *q, size_t n)
{
    q->len += n;
}

int gw_queue_add(gw_queue *q, const void *data, size_t n)
{
    uint8_t *room = gw_queue_reserve(q, n);
    if (!room)
        return -1;
    if (n)
        memcpy(room, data, n);
    gw_queue_commit(q, n);
    return 0;
}

void gw_queue_consume(gw_queue *q, size_t n)
{
    q->off += n < q->len - q->off ? n : q->len - q->off;
    if (q->off == q->len)
        q->off = q->len = 0;
}

void gw_queue_trim(gw_queue *q, int keep)
{
    if (q->p && q->off == q->len && !keep)
        gw_queue_free(q);
}

/* A connection whose tunnel relays keeps its emptied buffers until the sweep. */
static int relaying(const gw_conn *c)
{
    return c->tunnel && c->tunnel->state == T_OPEN;
}

static void trim_conn(gw_conn *c)
{
    int keep = relaying(c);
    gw_queue_trim(&c->in, keep);
    gw_queue_trim(&c->out, keep);
    gw_queue_trim(&c->pkt, keep);
}

/* ---- epoll ---- */

int gw_watch(int fd, uint32_t events, void *ptr)
{
    struct epoll_event ev = {.events = events, .data.ptr = ptr};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

void gw_unwatch(int fd)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

int gw_client_backlogged(const gw_tunnel *t)
{
    return t->out && gw_queue_len(&t->out->out) > GW_BACKLOG_MAX;
}

void gw_update_events(gw_conn *c)
{
    if (c->fd < 0)
        return;
    uint32_t ev = 0;
    int host_backlogged = c->tunnel && gw_queue_len(&c->tunnel->up_out) > GW_BACKLOG_MAX;
    if (!c->closing && !host_backlogged)
        ev |= EPOLLIN;
    if (gw_queue_len(&c->out) || !c->tls_done)
        ev |= EPOLLOUT;
    if (!c->tls_done)
        ev |= EPOLLIN;
    if (ev != c->events) {
        c->events = ev;
        gw_watch(c->fd, ev, c);
    }
}

/* ---- connections ---- */

void gw_close_conn(gw_conn *c)
{
    if (c->fd < 0)
        return;
    gw_unwatch(c->fd);
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    close(c->fd);
    c->fd = -1;
    if (c->tunnel)
        tunnel_detach(c->tunnel, c);
    c->tunnel = NULL;
    gw_queue_free(&c->in);
    gw_queue_free(&c->out);
    gw_queue_free(&c->pkt);
    if (graveyard_n < sizeof graveyard / sizeof graveyard[0])
        graveyard[graveyard_n++] = c;
}

static void bury(void)
{
    for (size_t i = 0; i < graveyard_n; i++) {
        for (conn_node **n = &conns; *n; n = &(*n)->next) {
            if ((*n)->c == graveyard[i]) {
                conn_node *dead = *n;
                *n = dead->next;
                free(dead);
                break;
            }
        }
        free(graveyard[i]);
    }
    graveyard_n = 0;
    tunnel_reap();
}

/* Write what is pending; a broken connection is closed. */
static void flush(gw_conn *c)
{
    while (c->fd >= 0 && c->tls_done && gw_queue_len(&c->out)) {
        size_t pending = gw_queue_len(&c->out);
        int n = SSL_write(c->ssl, gw_queue_data(&c->out), (int)(pending > 65536 ? 65536 : pending));
        if (n > 0) {
            gw_queue_consume(&c->out, (size_t)n);
            continue;
        }
        int err = SSL_get_error(c->ssl, n);
        ERR_clear_error();
        if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
            break;
        gw_close_conn(c);
        return;
    }
    if (c->fd >= 0 && c->closing && !gw_queue_len(&c->out)) {
        gw_close_conn(c);
        return;
    }
    if (c->fd < 0)
        return;
    gw_queue_trim(&c->out, relaying(c));
    gw_update_events(c);
    /* The client caught up: read from the host again (it stopped past GW_BACKLOG_MAX). */
    if (c->tunnel && c->tunnel->out == c && c->tunnel->host_paused && gw_queue_len(&c->out) <= GW_RESUME_MARK)
        tunnel_resume_upstream(c->tunnel);
}

void gw_send(gw_tunnel *t, const uint8_t *pkt, size_t len)
{
    gw_conn *c = t->out;
    if (!c || c->fd < 0)
        return;
    uint8_t h[WS_WEBSOCKET_HEADER_MAX];
    size_t hl = c->mode == MODE_WEBSOCKET ? ws_websocket_encode_header(WS_WEBSOCKET_OP_BINARY, len, NULL, h) : 0;
    uint8_t *room = gw_queue_reserve(&c->out, hl + len);
    if (!room) {
        fprintf(stderr, "wapsim-gateway: closing %s: over %u bytes queued for it\n", c->peer,
                WS_BUF_MAX_GATEWAY_QUEUE);
        gw_close_conn(c);
        return;
    }
    memcpy(room, h, hl);
    memcpy(room + hl, pkt, len);
    gw_queue_commit(&c->out, hl + len);
    flush(c);
}

/* The frame and DATA heads are written in place in front of the bytes read: a websocket
 * payload (the 10-byte DATA head and the data) of 126..65535 bytes has a 4-byte frame
 * header (RFC 6455 section 5.2: the shortest length encoding), so at most 65525 bytes are
 * read behind 14 bytes of room; a payload under 126 bytes (a read of under 116) has a
 * 2-byte header and its few bytes move down by 2. The legacy OUT channel carries the
 * packets bare. */
int gw_relay_from_host(gw_tunnel *t)
{
    gw_conn *c = t->out;
    if (!c || c->fd < 0)
        return -2;
    int ws = c->mode == MODE_WEBSOCKET;
    size_t room_head = (ws ? 4 : 0) + WS_TSGU_DATA_HEAD_LEN;
    size_t max = ws ? 65535 - WS_TSGU_DATA_HEAD_LEN : 65535;
    uint8_t *slot = gw_queue_reserve(&c->out, room_head + max);
    if (!slot) {
        fprintf(stderr, "wapsim-gateway: closing %s: over %u bytes queued for it\n", c->peer,
                WS_BUF_MAX_GATEWAY_QUEUE);
        gw_close_conn(c);
        return -2;
    }
    ssize_t n = read(t->up_fd, slot + room_head, max);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return -1;
    size_t hl = 0;
    if (ws) {
        uint8_t h[WS_WEBSOCKET_HEADER_MAX];
        hl = ws_websocket_encode_header(WS_WEBSOCKET_OP_BINARY, WS_TSGU_DATA_HEAD_LEN + (size_t)n, NULL, h);
        if (hl != 4)
            memmove(slot + hl + WS_TSGU_DATA_HEAD_LEN, slot + room_head, (size_t)n);
        memcpy(slot, h, hl);
    }
    ws_tsgu_encode_data_head((size_t)n, slot + hl);
    gw_queue_commit(&c->out, hl + WS_TSGU_DATA_HEAD_LEN + (size_t)n);
    t->bytes_to_client += (uint64_t)n;
    flush(c);
    return c->fd >= 0 ? 1 : -2;
}

static void http_reply(gw_conn *c, const char *status, const char *extra)
{
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %s\r\nServer: Microsoft-HTTPAPI/2.0\r\n%sContent-Length: 0\r\n\r\n",
                     status, extra ? extra : "");
    if (gw_queue_add(&c->out, head, (size_t)n) != 0)
        c->closing = 1;
}

static void refuse_http(gw_conn *c, const char *status, const char *why)
{
    fprintf(stderr, "wapsim-gateway: refused %s: %s\n", c->peer, why);
    http_reply(c, status, "Connection: close\r\n");
    c->closing = 1;
}

/* A request head (RDG_OUT_DATA, RDG_IN_DATA), read by httphead.c: 1 when handled, 0
 * when incomplete, -1 when refused. */
static int http_head(gw_conn *c)
{
    gw_http_head h;
    size_t used;
    int r = gw_http_head_read(gw_queue_data(&c->in), gw_queue_len(&c->in), c->mode == MODE_LEGACY_IN, &h, &used);
    if (used)
        gw_queue_consume(&c->in, used);
    if (r < 0)
        refuse_http(c, h.status, h.why);
    if (r <= 0)
        return r;
    switch (h.kind) {
    case GW_REQ_LEGACY_IN_BODY: c->mode = MODE_LEGACY_IN_BODY; return 1;
    case GW_REQ_WEBSOCKET: {
        char head[200];
        int len = snprintf(head, sizeof head,
                           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: %s\r\n\r\n",
                           h.accept);
        if (gw_queue_add(&c->out, head, (size_t)len) != 0)
            return -1;
        c->mode = MODE_WEBSOCKET;
        c->tunnel = tunnel_new(c, h.connection_id);
        return 1;
    }
    case GW_REQ_LEGACY_OUT: {
        /* Legacy: 200, then the 10-byte seed MS-TSGU 3.3.5.1 describes, then raw packets. */
        static const char ok[] = "HTTP/1.1 200 OK\r\nServer: Microsoft-HTTPAPI/2.0\r\n"
                                 "Content-Type: application/octet-stream\r\n\r\n";
        uint8_t seed[SEED_LEN];
        ws_random(seed, sizeof seed);
        if (gw_queue_add(&c->out, ok, sizeof ok - 1) != 0 || gw_queue_add(&c->out, seed, sizeof seed) != 0)
            return -1;
        c->mode = MODE_LEGACY_OUT;
        c->tunnel = tunnel_new(c, h.connection_id);
        return 1;
    }
    case GW_REQ_LEGACY_IN: break;
    }
    gw_tunnel *t = tunnel_find_legacy(h.connection_id);
    if (!t) {
        /* The pair is tied by RDG-Connection-Id inside one gateway (REFERENCE.md section
         * 7): an IN whose OUT went to another member is event 210 [field], refused
         * [model: the real status code is not public]. */
        char text[300];
        ws_event_format(WS_EV_GATEWAY_ADMIN_210, text, sizeof text, h.connection_id, c->peer);
        ws_event_put(gw.st, gw.machine.name, WS_EV_GATEWAY_ADMIN_210, NULL, text);
        refuse_http(c, "400 Bad Request", "RDG_IN_DATA for no RDG_OUT_DATA connection (event 210)");
        return -1;
    }
    http_reply(c, "200 OK", NULL);
    t->in = c;
    c->tunnel = t;
    c->mode = MODE_LEGACY_IN;
    return 1;
}

/* Websocket frames from the client: masked; binary payloads carry the packet stream,
 * unmasked in place and passed on as they come (tunnel_feed), a frame split across
 * reads at its offset. */
static int websocket_input(gw_conn *c)
{
    for (;;) {
        size_t pending = gw_queue_len(&c->in);
        uint8_t *p = gw_queue_data(&c->in);
        if (!c->in_frame) {
            ws_error e;
            int r = ws_websocket_decode_header(p, pending, WS_TSGU_PACKET_MAX, &c->frame, &e);
            if (r == 1)
                return 0;
            if (r < 0 || !c->frame.masked) {
                fprintf(stderr, "wapsim-gateway: closing %s: %s\n", c->peer, r < 0 ? e.msg : "an unmasked client frame");
                return -1;
            }
            gw_queue_consume(&c->in, c->frame.header_len);
            c->in_frame = 1;
            c->frame_got = 0;
            continue;
        }
        int control = c->frame.opcode >= 8;
        uint64_t left = c->frame.payload_len - c->frame_got;
        if (control && pending < left)
            return 0; /* act on a control frame only when it is whole */
        size_t take = pending < left ? pending : (size_t)left;
        if (take == 0 && left > 0)
            return 0;
        ws_websocket_unmask(p, take, c->frame.mask, c->frame_got);
        switch (c->frame.opcode) {
        case WS_WEBSOCKET_OP_BINARY:
        case WS_WEBSOCKET_OP_CONTINUATION:
            if (c->tunnel && tunnel_feed(c->tunnel, c, p, take) < 0)
                return -1;
            break;
        case WS_WEBSOCKET_OP_PING: {
            uint8_t h[WS_WEBSOCKET_HEADER_MAX];
            size_t hl = ws_websocket_encode_header(WS_WEBSOCKET_OP_PONG, take, NULL, h);
            if (gw_queue_add(&c->out, h, hl) != 0 || gw_queue_add(&c->out, p, take) != 0)
                return -1;
            break;
        }
        case WS_WEBSOCKET_OP_PONG: break;
        case WS_WEBSOCKET_OP_CLOSE: {
            uint8_t h[WS_WEBSOCKET_HEADER_MAX];
            size_t hl = ws_websocket_encode_header(WS_WEBSOCKET_OP_CLOSE, 0, NULL, h);
            if (gw_queue_add(&c->out, h, hl) != 0)
                return -1;
            c->closing = 1;
            gw_queue_consume(&c->in, take);
            return 0;
        }
        default:
            fprintf(stderr, "wapsim-gateway: closing %s: websocket opcode %d carries no MS-TSGU\n", c->peer,
                    c->frame.opcode);
            return -1;
        }
        gw_queue_consume(&c->in, take);
        c->frame_got += take;
        if (c->frame_got == c->frame.payload_len)
            c->in_frame = 0;
    }
}

/* Legacy IN channel: each packet is an HTTP chunk. */
static int chunked_input(gw_conn *c)
{
    for (;;) {
        size_t pending = gw_queue_len(&c->in);
        uint8_t *p = gw_queue_data(&c->in);
        if (c->chunk_crlf) {
            if (pending < 2)
                return 0;
            if (p[0] != '\r' || p[1] != '\n') {
                fprintf(stderr, "wapsim-gateway: closing %s: a chunk without its CRLF\n", c->peer);
                return -1;
            }
            gw_queue_consume(&c->in, 2);
            c->chunk_crlf = 0;
            continue;
        }
        if (c->chunk_left == 0) {
            const uint8_t *nl = pending ? memmem(p, pending < 20 ? pending : 20, "\r\n", 2) : NULL;
            if (!nl) {
                if (pending >= 20) {
                    fprintf(stderr, "wapsim-gateway: closing %s: a bad chunk size line\n", c->peer);
                    return -1;
                }
                return 0;
            }
            char size_text[24];
            size_t sl = (size_t)(nl - p);
            memcpy(size_text, p, sl);
            size_text[sl] = '\0';
            char *endp;
            unsigned long size = strtoul(size_text, &endp, 16);
            if (sl == 0 || (*endp && *endp != ';') || size > WS_TSGU_PACKET_MAX) {
                fprintf(stderr, "wapsim-gateway: closing %s: bad chunk size '%s'\n", c->peer, size_text);
                return -1;
            }
            gw_queue_consume(&c->in, sl + 2);
            if (size == 0)
                return -1; /* the client ended its body */
            c->chunk_left = size;
            continue;
        }
        if (!pending)
            return 0;
        size_t take = pending < c->chunk_left ? pending : c->chunk_left;
        if (c->tunnel && tunnel_feed(c->tunnel, c, p, take) < 0)
            return -1;
        gw_queue_consume(&c->in, take);
        c->chunk_left -= take;
        if (c->chunk_left == 0)
            c->chunk_crlf = 1;
    }
}

static int process(gw_conn *c)
{
    for (;;) {
        switch (c->mode) {
        case MODE_HTTP:
        case MODE_LEGACY_IN: {
            int r = http_head(c);
            if (r <= 0)
                return r;
            if (c->closing)
                return 0;
            continue;
        }
        case MODE_WEBSOCKET: return websocket_input(c);
        case MODE_LEGACY_IN_BODY: return chunked_input(c);
        case MODE_LEGACY_OUT:
            /* Nothing comes from the client on the OUT channel: discard. */
            gw_queue_consume(&c->in, gw_queue_len(&c->in));
            return 0;
        }
    }
}

/* The handshake failed on bytes that are no TLS record (plain HTTP from a balancer that
 * terminated TLS and did not re-encrypt): Schannel's event 36888 with alert 10 and
 * state 1203 [model: see the catalogue row], beside OpenSSL's reason. */
static void not_tls(gw_conn *c, const char *reason)
{
    char what[120], text[400];
    ws_tls_bytes_text(c->first, c->nfirst, what, sizeof what);
    ws_event_format(WS_EV_SCHANNEL_36888, text, sizeof text, 10, 1203, c->peer, what);
    ws_event_put(gw.st, gw.machine.name, WS_EV_SCHANNEL_36888, NULL, text);
    fprintf(stderr, "wapsim-gateway: TLS handshake with %s failed: %s: it sent %s, not a TLS record (event 36888)\n",
            c->peer, reason, what);
}

static void conn_io(gw_conn *c)
{
    if (!c->tls_done) {
        if (!c->nfirst) {
            ssize_t n = recv(c->fd, c->first, sizeof c->first, MSG_PEEK | MSG_DONTWAIT);
            c->nfirst = n > 0 ? (size_t)n : 0;
        }
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int err = SSL_get_error(c->ssl, r);
            if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
                gw_update_events(c);
                return;
            }
            unsigned long code = ERR_get_error();
            char reason[200] = "connection closed";
            if (code)
                ERR_error_string_n(code, reason, sizeof reason);
            ERR_clear_error();
            if (c->nfirst >= 2 && !ws_tls_is_record(c->first, c->nfirst))
                not_tls(c, reason);
            else
                fprintf(stderr, "wapsim-gateway: TLS handshake with %s failed: %s\n", c->peer, reason);
            gw_close_conn(c);
            return;
        }
        c->tls_done = 1;
    }
    int eof = 0;
    while (c->fd >= 0 && !c->closing) {
        if (c->tunnel && gw_queue_len(&c->tunnel->up_out) > GW_BACKLOG_MAX)
            break; /* the host is slow: leave the client's bytes in its socket */
        if (gw_queue_len(&c->in) > 4 * WS_TSGU_PACKET_MAX)
            break;
        /* Straight into the input queue: a TLS record's plaintext at most. */
        uint8_t *room = gw_queue_reserve(&c->in, GW_READ_MAX);
        if (!room) {
            c->closing = 1;
            break;
        }
        int n = SSL_read(c->ssl, room, GW_READ_MAX);
        if (n > 0) {
            gw_queue_commit(&c->in, (size_t)n);
            if (process(c) < 0) {
                c->closing = 1;
                break;
            }
            continue;
        }
        int err = SSL_get_error(c->ssl, n);
        ERR_clear_error();
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
            eof = 1;
        break;
    }
    if (c->fd < 0)
        return;
    trim_conn(c);
    if (eof && !gw_queue_len(&c->out)) {
        gw_close_conn(c);
        return;
    }
    flush(c);
}

/* Before TUNNEL_AUTH is answered: the client has not authenticated yet. */
static int preauth(const gw_conn *c)
{
    return !c->tunnel || c->tunnel->state < T_CHANNEL;
}

static int preauth_from(const char *peer)
{
    int n = 0;
    for (conn_node *node = conns; node; node = node->next)
        if (node->c->fd >= 0 && preauth(node->c) && strcmp(node->c->peer, peer) == 0)
            n++;
    return n;
}

static void set_overloaded(int on, const char *why)
{
    if (on == overloaded)
        return;
    overloaded = on;
    if (on)
        fprintf(stderr, "wapsim-gateway: cannot accept connections: %s; refusing them until descriptors free up\n",
                why);
    else
        fprintf(stderr, "wapsim-gateway: accepting connections again\n");
    ws_component_overloaded(&gw, on, why);
}

/* Out of descriptors: give up the spare to accept and close one pending connection.
 * 0 when one was taken off the backlog, -1 when even that failed (the listener then
 * leaves the epoll set until the next sweep, so the loop cannot spin). */
static int shed_one(int err)
{
    if (spare_fd >= 0) {
        close(spare_fd);
        spare_fd = -1;
    }
    set_overloaded(1, strerror(err)); /* its file takes the spare's slot for a moment */
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        close(fd);
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && spare_fd >= 0)
        return 0;
    gw_unwatch(listen_fd);
    listener_paused = 1;
    return -1;
}

/* The service's TLS key, read as the service's account when it binds the certificate
 * (lab/keyacl.h): without access TSGateway starts without a usable certificate and
 * logs event 103, AAG_EVENT_STARTED_NOCERT_ACLS (technet ee907376). */
static int key_denied;

static int key_readable(const char *cert)
{
    char account[WS_KEYACL_ACCOUNT_MAX];
    ws_error why;
    if (ws_keyacl_service_account(gw.st, gw.machine.name, account, &why) != 0 ||
        !ws_keyacl_can_use(gw.st, gw.machine.name, "My", cert, account, &why)) {
        char err[700];
        snprintf(err, sizeof err, "Keyset does not exist (0x80090016): %s", why.msg);
        ws_event_write(gw.st, gw.machine.name, WS_EV_GATEWAY_103, err);
        fprintf(stderr, "wapsim-gateway: %s\n", err);
        return 0;
    }
    return 1;
}

/* [model] A connection to a gateway that could not acquire its TLS credential: when the
 * client's ClientHello arrives, the TLS layer cannot open the server key, writes Schannel
 * 36870 with SEC_E_UNKNOWN_CREDENTIALS 0x8009030D and internal state 10001 as the
 * field's IIS case shows it (the Microsoft IIS support blog, "Error HRESULT: 0x80070520
 * when adding SSL binding in IIS"), and resets the connection without answering. A
 * connection that sends nothing within NO_KEY_WAIT_MS (a health probe) is closed
 * quietly. The wait holds the loop, which has nothing else to serve: no connection to
 * this gateway can succeed. */
#define NO_KEY_WAIT_MS 500

static void refuse_without_key(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char hello[5];
    if (poll(&p, 1, NO_KEY_WAIT_MS) == 1 && recv(fd, hello, sizeof hello, MSG_PEEK) > 0) {
        ws_event_write(gw.st, gw.machine.name, WS_EV_SCHANNEL_36870, (uint32_t)0x8009030Du, 10001, "SYSTEM", 4);
        struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* reset, as a dropped handshake */
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(fd);
}

static void accept_all(void)
{
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(listen_fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (shed_one(errno) != 0)
                return;
            continue;
        }
        char peer[64];
        inet_ntop(AF_INET, &sa.sin_addr, peer, sizeof peer);
        if (preauth_from(peer) >= PREAUTH_PER_SOURCE) {
            fprintf(stderr, "wapsim-gateway: refused %s: %d connections from it have not authenticated yet\n", peer,
                    PREAUTH_PER_SOURCE);
            close(fd);
            continue;
        }
        if (key_denied) {
            refuse_without_key(fd);
            continue;
        }
        gw_conn *c = calloc(1, sizeof *c);
        conn_node *node = calloc(1, sizeof *node);
        SSL *ssl = SSL_new(tls_ctx);
        if (!c || !node || !ssl) {
            free(c);
            free(node);
            SSL_free(ssl);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->kind = GW_KIND_CONN;
        c->fd = fd;
        c->ssl = ssl;
        c->mode = MODE_HTTP;
        c->opened_ms = ws_wall_ms();
        snprintf(c->peer, sizeof c->peer, "%s", peer);
        SSL_set_fd(ssl, fd);
        SSL_set_accept_state(ssl);
        node->c = c;
        node->next = conns;
        conns = node;
        c->events = EPOLLIN;
        gw_watch(fd, EPOLLIN, c);
    }
}

/* Overload ends when a descriptor beside the spare can be had again. */
static void check_overload(void)
{
    if (spare_fd < 0)
        spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (overloaded) {
        int probe = spare_fd >= 0 ? dup(spare_fd) : -1;
        if (probe >= 0) {
            close(probe);
            set_overloaded(0, NULL);
        }
    }
    if (listener_paused && spare_fd >= 0) {
        listener_paused = 0;
        gw_watch(listen_fd, EPOLLIN, &listener_kind);
    }
}

/* Which pre-authentication deadline c has passed (what it waited for, and *ms), or NULL. */
static const char *past_deadline(const gw_conn *c, int64_t now, int *ms)
{
    int64_t age = now - c->opened_ms;
    if (!c->tls_done && age > (*ms = TLS_TIMEOUT_MS))
        return "no TLS handshake";
    if ((c->mode == MODE_HTTP || c->mode == MODE_LEGACY_IN) && age > (*ms = HTTP_TIMEOUT_MS))
        return "no request head";
    /* The wait for the IN counts from the OUT's answer (its tunnel's creation), not from accept. */
    if (c->mode == MODE_LEGACY_OUT && c->tunnel && !c->tunnel->in &&
        now - c->tunnel->opened_ms > (*ms = IN_CHANNEL_TIMEOUT_MS))
        return "no RDG_IN_DATA for its RDG_OUT_DATA (the legacy pair's IN went elsewhere or never came)";
    if (preauth(c) && age > (*ms = PREAUTH_TIMEOUT_MS))
        return "no authentication (TUNNEL_AUTH)";
    return NULL;
}

/* A connection past a deadline before authenticating is closed; the others give back
 * their empty buffers. */
static void expire_idle(void)
{
    int64_t now = ws_wall_ms();
    for (conn_node *n = conns; n; n = n->next) {
        gw_conn *c = n->c;
        int ms = 0;
        const char *why = c->fd >= 0 ? past_deadline(c, now, &ms) : NULL;
        if (why) {
            fprintf(stderr, "wapsim-gateway: closing %s: %s within %d s\n", c->peer, why, ms / 1000);
            gw_close_conn(c);
        } else if (c->fd >= 0) {
            /* A relay's emptied buffers, kept between packets, go back once a second. */
            gw_queue_trim(&c->in, 0);
            gw_queue_trim(&c->out, 0);
            gw_queue_trim(&c->pkt, 0);
            if (c->tunnel)
                gw_queue_trim(&c->tunnel->up_out, 0);
        }
    }
}

int main(int argc, char **argv)
{
    ws_component_init(&gw, "wapsim-gateway", "gateway", "The RD Gateway with the FedAuth plug-in (MS-TSGU).", argc,
                      argv);
    ws_error e;
    char cert[128], tp[41] = "", detail[256];
    if (ws_setting_get(gw.st, gw.machine.name, WS_SET_SSL_CERT, cert, sizeof cert) != 0)
        ws_component_fail(&gw, "no SSL certificate is bound (RD Gateway Manager: SSL Certificate)");
    /* The binding is read once: a certificate changed later takes effect at the next
     * start of the service, as with TSGateway. */
    tls_ctx = ws_tls_server_ctx(gw.st, gw.machine.name, cert, &e);
    if (!tls_ctx)
        ws_component_fail(&gw, "cannot bind the SSL certificate: %s", e.msg);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
    ws_vault_thumbprint(gw.st, cert, tp);
    key_denied = !key_readable(cert);
    listen_fd = ws_tcp_listen(gw.machine.address, gw.machine.port, 1024, &e);
    if (listen_fd < 0)
        ws_component_fail(&gw, "%s", e.msg);
    fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ws_component_overloaded(&gw, 0, NULL); /* a previous process's, if it died overloaded */
    gw_watch(listen_fd, EPOLLIN, &listener_kind);
    snprintf(detail, sizeof detail, "SSL certificate %s (%s) bound%s", cert, tp,
             key_denied ? ", but its private key cannot be used: no TLS connection is accepted (event 103)" : "");
    ws_component_running(&gw, detail);

    struct epoll_event evs[256];
    int64_t last_sweep = ws_wall_ms();
    while (!ws_component_stop) {
        int n = epoll_wait(epfd, evs, 256, 1000);
        for (int i = 0; i < n; i++) {
            int kind = *(int *)evs[i].data.ptr;
            if (kind == GW_KIND_LISTENER)
                accept_all();
            else if (kind == GW_KIND_CONN) {
                gw_conn *c = evs[i].data.ptr;
                if (c->fd >= 0)
                    conn_io(c);
            } else if (kind == GW_KIND_UPSTREAM)
                tunnel_on_upstream(evs[i].data.ptr, evs[i].events);
        }
        bury();
        if (ws_wall_ms() - last_sweep > 1000) {
            expire_idle();
            bury();
            check_overload();
            last_sweep = ws_wall_ms();
        }
    }
    for (conn_node *node = conns; node; node = node->next)
        gw_close_conn(node->c);
    bury();
    close(listen_fd);
    SSL_CTX_free(tls_ctx);
    ws_component_close(&gw);
    return 0;
}
