/* SPDX-License-Identifier: Apache-2.0 */
/* tunnel: one MS-TSGU tunnel through the gateway (REFERENCE.md section 7): the
 * handshake, TUNNEL_CREATE with the PAA cookie (fedauth.c decides), TUNNEL_AUTH,
 * CHANNEL_CREATE to the host the cookie names, and then DATA relayed both ways,
 * untouched. Packets out of order end the tunnel. The gateway's events are those of
 * REFERENCE.md section 6 on the TerminalServices-Gateway channel; with a PAA cookie
 * the "user" is reported as "FedAuth" [model]. */
#include "gateway.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/net.h"
#include "wire/disconnect.h"
#include "lab/events.h"
#include "lab/lab.h"
#include "fedauth.h"
#include "lab/machine.h"
#include "wire/tsgu.h"

#define GW_USER "FedAuth"

static gw_tunnel *tunnels;
/* Tunnels ended during this loop round: their callers up the stack may still hold
 * them, so they are freed by tunnel_reap after the round, as connections are. */
static gw_tunnel *ended;
static uint32_t next_id = 1;
static uint8_t packet[WS_TSGU_PACKET_MAX];

int tunnel_count(void)
{
    int n = 0;
    for (gw_tunnel *t = tunnels; t; t = t->next)
        n++;
    return n;
}

gw_tunnel *tunnel_new(gw_conn *c, const char *connection_id)
{
    gw_tunnel *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    t->kind = GW_KIND_UPSTREAM;
    t->state = T_HANDSHAKE;
    t->out = c;
    t->in = c->mode == MODE_WEBSOCKET ? c : NULL;
    snprintf(t->connection_id, sizeof t->connection_id, "%s", connection_id);
    snprintf(t->peer, sizeof t->peer, "%s", c->peer);
    t->id = next_id++;
    t->up_fd = -1;
    t->opened_ms = ws_wall_ms();
    t->next = tunnels;
    tunnels = t;
    return t;
}

gw_tunnel *tunnel_find_legacy(const char *connection_id)
{
    for (gw_tunnel *t = tunnels; t; t = t->next)
        if (!t->in && t->out && t->out->mode == MODE_LEGACY_OUT && strcmp(t->connection_id, connection_id) == 0)
            return t;
    return NULL;
}

static const char *peer(const gw_tunnel *t)
{
    return t->out ? t->out->peer : t->in ? t->in->peer : t->peer;
}

/* Log ev with its text, formatted by ws_event_format. */
static void event(gw_tunnel *t, ws_ev ev, const char *text)
{
    ws_event_put(gw.st, gw.machine.name, ev, NULL, text);
    fprintf(stderr, "wapsim-gateway: tunnel %u (%s): event %d: %s\n", t->id, peer(t), ws_event_def_get(ev)->event_id,
            text);
}

/* End the tunnel: the host connection and both transport connections now; its memory
 * after this loop round (tunnel_reap), so that every caller may still look at it and
 * see T_CLOSED. */
static void tunnel_end(gw_tunnel *t)
{
    if (t->state == T_CLOSED)
        return;
    int was_open = t->state == T_OPEN;
    t->state = T_CLOSED;
    if (was_open) {
        char text[600];
        ws_event_format(WS_EV_GATEWAY_303, text, sizeof text, GW_USER, peer(t), t->resource,
                        (unsigned long long)t->bytes_to_host, (unsigned long long)t->bytes_to_client,
                        (long long)((ws_wall_ms() - t->opened_ms) / 1000));
        event(t, WS_EV_GATEWAY_303, text);
    }
    if (t->up_fd >= 0) {
        gw_unwatch(t->up_fd);
        close(t->up_fd);
        t->up_fd = -1;
    }
    gw_queue_free(&t->up_out);
    gw_conn *in = t->in, *out = t->out;
    t->in = t->out = NULL;
    if (in) {
        in->tunnel = NULL;
        in->closing = 1;
        gw_update_events(in);
        if (!gw_queue_len(&in->out))
            gw_close_conn(in);
    }
    if (out && out != in) {
        out->tunnel = NULL;
        out->closing = 1;
        gw_update_events(out);
        if (!gw_queue_len(&out->out))
            gw_close_conn(out);
    }
    for (gw_tunnel **p = &tunnels; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->next = ended;
    ended = t;
}

void tunnel_reap(void)
{
    while (ended) {
        gw_tunnel *t = ended;
        ended = t->next;
        ws_token_free(&t->cookie);
        free(t);
    }
}

/* One packet to the client: -1 when sending it ended the tunnel (the client is gone). */
static int send_packet(gw_tunnel *t, size_t len)
{
    gw_send(t, packet, len);
    return t->state == T_CLOSED ? -1 : 0;
}

void tunnel_detach(gw_tunnel *t, gw_conn *c)
{
    if (t->in == c)
        t->in = NULL;
    if (t->out == c)
        t->out = NULL;
    tunnel_end(t);
}

/* After the last packet to the client is queued, close once it is written. */
static void close_after_send(gw_tunnel *t)
{
    if (t->out)
        t->out->closing = 1;
    if (t->out && !gw_queue_len(&t->out->out))
        tunnel_end(t);
}

static int refuse(gw_tunnel *t, const char *what)
{
    fprintf(stderr, "wapsim-gateway: tunnel %u (%s): refused: %s\n", t->id, peer(t), what);
    return -1;
}

static int on_handshake(gw_tunnel *t, const uint8_t *p, size_t len)
{
    ws_tsgu_handshake_request rq;
    ws_error e;
    if (ws_tsgu_decode_handshake_request(p, len, &rq, &e) != 0)
        return refuse(t, e.msg);
    ws_tsgu_handshake_response rs = {.ver_major = 1, .ver_minor = 0, .server_version = 0,
                                     .extended_auth = WS_TSGU_EXTAUTH_PAA};
    if (rq.ver_major != 1 || !(rq.extended_auth & WS_TSGU_EXTAUTH_PAA)) {
        rs.error_code = WS_E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD;
        size_t n = ws_tsgu_encode_handshake_response(&rs, packet, sizeof packet);
        gw_send(t, packet, n);
        close_after_send(t);
        return refuse(t, "the client does not offer PAA cookie authentication");
    }
    size_t n = ws_tsgu_encode_handshake_response(&rs, packet, sizeof packet);
    if (send_packet(t, n) != 0)
        return -1;
    t->state = T_CREATE;
    return 0;
}

static int on_tunnel_create(gw_tunnel *t, const uint8_t *p, size_t len)
{
    static ws_tsgu_tunnel_create rq; /* large (the cookie): one at a time on this loop */
    ws_error e;
    ws_tsgu_tunnel_response rs = {.server_version = 1};
    char reason[700];
    int ok = 0;
    if (ws_tsgu_decode_tunnel_create(p, len, &rq, &e) != 0) {
        rs.status_code = WS_E_PROXY_COOKIE_BADPACKET;
        snprintf(reason, sizeof reason, "%s", e.msg);
    } else if (!(rq.fields_present & WS_TSGU_TUNNEL_CREATE_PAA_COOKIE)) {
        rs.status_code = WS_E_PROXY_COOKIE_BADPACKET;
        snprintf(reason, sizeof reason, "TUNNEL_CREATE carries no PAA cookie");
    } else if (fedauth_check_cookie(gw.st, gw.machine.name, rq.cookie, &t->cookie, &e) != 0) {
        rs.status_code = WS_E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED;
        snprintf(reason, sizeof reason, "%s", e.msg);
    } else {
        ok = 1;
    }
    if (!ok) {
        char text[1000];
        ws_event_format(WS_EV_GATEWAY_201, text, sizeof text, GW_USER, peer(t), rs.status_code,
                        ws_hresult_name(rs.status_code), reason);
        event(t, WS_EV_GATEWAY_201, text);
        size_t n = ws_tsgu_encode_tunnel_response(&rs, packet, sizeof packet);
        gw_send(t, packet, n);
        close_after_send(t);
        return 0;
    }
    rs.fields_present = WS_TSGU_TUNNEL_RESPONSE_TUNNEL_ID | WS_TSGU_TUNNEL_RESPONSE_CAPS;
    rs.tunnel_id = t->id;
    rs.caps = rq.caps & 0x3; /* no consent or service messages: they would prompt the user */
    size_t n = ws_tsgu_encode_tunnel_response(&rs, packet, sizeof packet);
    if (send_packet(t, n) != 0)
        return -1;
    t->state = T_AUTH;
    return 0;
}

static int on_tunnel_auth(gw_tunnel *t, const uint8_t *p, size_t len)
{
    ws_tsgu_tunnel_auth rq;
    ws_error e;
    if (ws_tsgu_decode_tunnel_auth(p, len, &rq, &e) != 0)
        return refuse(t, e.msg);
    snprintf(t->client_name, sizeof t->client_name, "%s", rq.client_name);
    char text[600];
    ws_event_format(WS_EV_GATEWAY_200, text, sizeof text, GW_USER, peer(t));
    event(t, WS_EV_GATEWAY_200, text);
    ws_tsgu_tunnel_auth_response rs = {.error_code = 0};
    size_t n = ws_tsgu_encode_tunnel_auth_response(&rs, packet, sizeof packet);
    if (send_packet(t, n) != 0)
        return -1;
    t->state = T_CHANNEL;
    return 0;
}

static void channel_refused(gw_tunnel *t, int event_id, uint32_t code, const char *why)
{
    char text[900];
    ws_ev ev = event_id == 301 ? WS_EV_GATEWAY_301 : WS_EV_GATEWAY_304;
    ws_event_format(ev, text, sizeof text, GW_USER, peer(t), t->resource, code, why);
    event(t, ev, text);
    ws_tsgu_channel_response rs = {.error_code = code};
    size_t n = ws_tsgu_encode_channel_response(&rs, packet, sizeof packet);
    gw_send(t, packet, n);
    close_after_send(t);
}

static int on_channel_create(gw_tunnel *t, const uint8_t *p, size_t len)
{
    ws_tsgu_channel_create rq;
    ws_error e;
    if (ws_tsgu_decode_channel_create(p, len, &rq, &e) != 0)
        return refuse(t, e.msg);
    snprintf(t->resource, sizeof t->resource, "%s", rq.resource);
    t->port = rq.port;
    /* The cookie grants one host and port: the resource must be exactly that. */
    if (strcasecmp(rq.resource, t->cookie.host) != 0 || rq.port != t->cookie.port) {
        char why[600];
        snprintf(why, sizeof why, "the cookie grants %s:%d, not %s:%d", t->cookie.host, t->cookie.port, rq.resource,
                 rq.port);
        channel_refused(t, 301, WS_E_PROXY_RAP_ACCESSDENIED, why);
        return 0;
    }
    /* The resource as this gateway's machine resolves a name, through its own view (its
     * hosts file, its DNS server: sim/lab/dns.h); an address (IPv4 identification mode) is
     * connected to as is (ws_lab_resolve). A name it cannot resolve is event 304 with
     * E_PROXY_TS_CONNECTFAILED, the channel's status (REFERENCE.md section 6: 304 "could
     * not connect to resource"; [model] the error's text, WSAHOST_NOT_FOUND's). */
    char address[64];
    ws_error ce;
    if (ws_lab_resolve(gw.st, gw.machine.name, rq.resource, address, sizeof address, &ce) != 0) {
        channel_refused(t, 304, WS_E_PROXY_TS_CONNECTFAILED, ce.msg);
        return 0;
    }
    snprintf(t->host_address, sizeof t->host_address, "%s", address);
    /* Leave from the gateway's own address, as the real gateway's traffic does; the event
     * loop sees the connect finish (T_CONNECTING). */
    int fd = ws_tcp_connect_from(gw.machine.address, address, rq.port, 0, WS_TCP_NONBLOCK | WS_TCP_NODELAY, &ce);
    if (fd < 0) {
        channel_refused(t, 304, WS_E_PROXY_TS_CONNECTFAILED, ce.msg);
        return 0;
    }
    t->up_fd = fd;
    t->state = T_CONNECTING;
    t->up_events = EPOLLOUT;
    gw_watch(fd, EPOLLOUT, t);
    return 0;
}

static void upstream_events(gw_tunnel *t)
{
    if (t->up_fd < 0)
        return;
    uint32_t ev = 0;
    if (t->state == T_OPEN && !t->host_paused)
        ev |= EPOLLIN;
    if (gw_queue_len(&t->up_out) || t->state == T_CONNECTING)
        ev |= EPOLLOUT;
    if (ev != t->up_events) {
        t->up_events = ev;
        /* Waiting for nothing (paused, nothing to write): out of the epoll set, or a host's
         * hang-up, always reported, would wake the loop until the client catches up. */
        if (ev)
            gw_watch(t->up_fd, ev, t);
        else
            gw_unwatch(t->up_fd);
    }
}

static int flush_upstream(gw_tunnel *t)
{
    while (gw_queue_len(&t->up_out)) {
        ssize_t n = write(t->up_fd, gw_queue_data(&t->up_out), gw_queue_len(&t->up_out));
        if (n > 0) {
            gw_queue_consume(&t->up_out, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        return -1;
    }
    upstream_events(t);
    return 0;
}

/* Client -> host: n bytes of DATA, written at once while nothing waits before them (no
 * copy), the rest queued for EPOLLOUT. */
static int to_host(gw_tunnel *t, const uint8_t *p, size_t n)
{
    if (t->up_fd < 0) {
        tunnel_end(t);
        return -1;
    }
    t->bytes_to_host += n;
    if (!gw_queue_len(&t->up_out)) {
        ssize_t w = write(t->up_fd, p, n);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            tunnel_end(t);
            return -1;
        }
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        }
    }
    if (!n)
        return 0;
    if (gw_queue_add(&t->up_out, p, n) != 0)
        return refuse(t, "more bytes queued for the host than the gateway holds (4 MiB)");
    upstream_events(t);
    return 0;
}

/* One whole packet other than DATA. */
static int on_packet(gw_tunnel *t, gw_conn *c, const uint8_t *p, const ws_tsgu_header *h)
{
    /* Each state takes only the packet that comes next (MS-TSGU 3.3.5). */
    switch (h->type) {
    case WS_TSGU_HANDSHAKE_REQUEST:
        return t->state == T_HANDSHAKE ? on_handshake(t, p, h->length) : refuse(t, "HANDSHAKE_REQUEST out of order");
    case WS_TSGU_TUNNEL_CREATE:
        return t->state == T_CREATE ? on_tunnel_create(t, p, h->length) : refuse(t, "TUNNEL_CREATE out of order");
    case WS_TSGU_TUNNEL_AUTH:
        return t->state == T_AUTH ? on_tunnel_auth(t, p, h->length) : refuse(t, "TUNNEL_AUTH out of order");
    case WS_TSGU_CHANNEL_CREATE:
        return t->state == T_CHANNEL ? on_channel_create(t, p, h->length) : refuse(t, "CHANNEL_CREATE out of order");
    case WS_TSGU_KEEPALIVE: {
        size_t n = ws_tsgu_encode_empty(WS_TSGU_KEEPALIVE, packet, sizeof packet);
        gw_send(t, packet, n);
        return 0;
    }
    case WS_TSGU_CLOSE_CHANNEL:
    case WS_TSGU_CLOSE_CHANNEL_RESPONSE: {
        gw_queue_consume(&c->pkt, h->length);
        if (h->type == WS_TSGU_CLOSE_CHANNEL) {
            size_t n = ws_tsgu_encode_close_channel(WS_TSGU_CLOSE_CHANNEL_RESPONSE, 0, packet, sizeof packet);
            gw_send(t, packet, n);
        }
        close_after_send(t);
        return -1;
    }
    default: {
        char why[80];
        snprintf(why, sizeof why, "unexpected %s packet", ws_tsgu_type_name(h->type));
        return refuse(t, why);
    }
    }
}

/* The head of a DATA packet, whole in c->pkt: its data follows. */
static int on_data_head(gw_tunnel *t, gw_conn *c)
{
    uint32_t plen;
    uint16_t cb;
    ws_error e;
    if (t->state != T_OPEN)
        return refuse(t, "DATA before the channel");
    if (ws_tsgu_decode_data_head(gw_queue_data(&c->pkt), gw_queue_len(&c->pkt), &plen, &cb, &e) != 0)
        return refuse(t, e.msg);
    gw_queue_consume(&c->pkt, gw_queue_len(&c->pkt));
    c->data_left = cb;
    return 0;
}

int tunnel_feed(gw_tunnel *t, gw_conn *c, const uint8_t *p, size_t n)
{
    for (;;) {
        if (c->data_left) {
            if (!n)
                return 0;
            size_t k = n < c->data_left ? n : c->data_left;
            if (to_host(t, p, k) != 0)
                return -1;
            p += k;
            n -= k;
            c->data_left -= (uint32_t)k;
            continue;
        }
        /* The next packet's header, then its head (DATA) or all of it (any other). */
        size_t have = gw_queue_len(&c->pkt), need = WS_TSGU_HEADER_LEN;
        ws_tsgu_header h = {0};
        if (have >= WS_TSGU_HEADER_LEN) {
            ws_error e;
            if (ws_tsgu_header_decode(gw_queue_data(&c->pkt), have, &h, &e) != 0)
                return refuse(t, e.msg);
            need = h.type == WS_TSGU_DATA && h.length >= WS_TSGU_DATA_HEAD_LEN ? WS_TSGU_DATA_HEAD_LEN : h.length;
        }
        if (have < need) {
            if (!n)
                return 0;
            size_t k = need - have < n ? need - have : n;
            if (gw_queue_add(&c->pkt, p, k) != 0)
                return -1;
            p += k;
            n -= k;
            continue;
        }
        int rc = h.type == WS_TSGU_DATA ? on_data_head(t, c) : on_packet(t, c, gw_queue_data(&c->pkt), &h);
        if (rc < 0)
            return -1;
        /* Ended, or refused with its last packet queued: take nothing more from it. */
        if (t->state == T_CLOSED || !t->in || c->closing || (t->out && t->out->closing))
            return -1;
        if (h.type != WS_TSGU_DATA)
            gw_queue_consume(&c->pkt, h.length);
    }
}

void tunnel_resume_upstream(gw_tunnel *t)
{
    t->host_paused = 0;
    upstream_events(t);
}

void tunnel_on_upstream(gw_tunnel *t, uint32_t events)
{
    if (t->state == T_CONNECTING) {
        int err = 0;
        socklen_t sl = sizeof err;
        getsockopt(t->up_fd, SOL_SOCKET, SO_ERROR, &err, &sl);
        if (err) {
            gw_unwatch(t->up_fd);
            close(t->up_fd);
            t->up_fd = -1;
            channel_refused(t, 304, WS_E_PROXY_TS_CONNECTFAILED, strerror(err));
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        t->state = T_OPEN;
        t->opened_ms = ws_wall_ms();
        char text[500];
        ws_event_format(WS_EV_GATEWAY_302, text, sizeof text, GW_USER, peer(t), t->resource);
        event(t, WS_EV_GATEWAY_302, text);
        ws_tsgu_channel_response rs = {.error_code = 0, .fields_present = WS_TSGU_CHANNEL_RESPONSE_CHANNEL_ID,
                                       .channel_id = t->id};
        size_t n = ws_tsgu_encode_channel_response(&rs, packet, sizeof packet);
        if (send_packet(t, n) != 0)
            return;
        upstream_events(t);
        return;
    }
    if (t->state != T_OPEN)
        return;
    if (events & EPOLLOUT) {
        if (flush_upstream(t) != 0) {
            tunnel_end(t);
            return;
        }
        if (t->in && gw_queue_len(&t->up_out) <= GW_BACKLOG_MAX)
            gw_update_events(t->in);
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        /* Host -> client: each read becomes one DATA packet, until the client's queue is
         * full (then the host waits: flush() resumes it once the client has caught up). */
        while (t->up_fd >= 0 && t->state == T_OPEN) {
            if (gw_client_backlogged(t)) {
                t->host_paused = 1;
                break;
            }
            int r = gw_relay_from_host(t);
            if (r == 1)
                continue;
            if (r == 0)
                break;
            if (r == -2 || t->state != T_OPEN)
                return;
            /* The host closed: tell the client, as MS-TSGU 3.3.5.x does with CLOSE_CHANNEL. */
            size_t m = ws_tsgu_encode_close_channel(WS_TSGU_CLOSE_CHANNEL, 0, packet, sizeof packet);
            if (send_packet(t, m) != 0)
                return;
            gw_unwatch(t->up_fd);
            close(t->up_fd);
            t->up_fd = -1;
            close_after_send(t);
            return;
        }
        upstream_events(t);
    }
}
