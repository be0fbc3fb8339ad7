/* SPDX-License-Identifier: Apache-2.0 */
/* gateway: what the RD Gateway's two halves share. main.c carries MS-TSGU's HTTP
 * transport (TLS, the RDG_OUT_DATA / RDG_IN_DATA requests, websocket or legacy
 * chunked framing) on one epoll loop; tunnel.c is the tunnel itself (handshake,
 * FedAuth, channel, relay to the host) and its events. */
#ifndef WAPSIM_GATEWAY_H
#define WAPSIM_GATEWAY_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "base/buf.h"
#include "svc/component.h"
#include "wire/token.h"
#include "wire/websocket.h"

#define GW_KIND_LISTENER 1
#define GW_KIND_CONN 2
#define GW_KIND_UPSTREAM 3

/* Every queue of bytes is a gw_queue of at most WS_BUF_MAX_GATEWAY_QUEUE unread bytes.
 * Bytes are consumed by advancing an offset and slid down only when that moves no more
 * than has been consumed (so never while the queue keeps up). A relay reads straight
 * into a queue's free room (gw_queue_reserve, gw_queue_commit). An emptied queue gives
 * its memory back at once unless its tunnel is relaying (then at the next sweep, once a
 * second: a busy relay does not allocate per packet), so an idle tunnel holds no
 * buffers. A queue past GW_BACKLOG_MAX says "again": its producer stops reading until
 * it drains (gw_client_backlogged, and the host side in gw_update_events), so the
 * maximum is never reached by a peer that reads what it asked for. */
typedef struct gw_queue {
    uint8_t *p;
    size_t off; /* unread bytes are p[off..len) */
    size_t len;
    size_t cap;
} gw_queue;

typedef enum gw_mode {
    MODE_HTTP,       /* reading the request head */
    MODE_WEBSOCKET,  /* RDG_OUT_DATA upgraded: frames both ways */
    MODE_LEGACY_OUT, /* RDG_OUT_DATA answered 200: raw packets to the client */
    MODE_LEGACY_IN,  /* RDG_IN_DATA: the client's second request head, then chunks */
    MODE_LEGACY_IN_BODY,
} gw_mode;

struct gw_tunnel;

typedef struct gw_conn {
    int kind; /* GW_KIND_CONN: first, for the epoll dispatch */
    int fd;
    SSL *ssl;
    int tls_done;
    uint8_t first[32]; /* the client's first bytes, peeked before the TLS handshake reads them */
    size_t nfirst;
    gw_mode mode;
    char peer[64];
    gw_queue in;  /* plaintext from the client, not yet consumed */
    gw_queue out; /* plaintext to the client, not yet written */
    gw_queue pkt; /* an MS-TSGU packet being gathered from frames or chunks (a DATA packet: its head) */
    uint32_t data_left; /* bytes of the current DATA packet still to pass to the host as they come */
    ws_websocket_frame frame;
    int in_frame;
    uint64_t frame_got;
    size_t chunk_left; /* legacy: bytes of the current chunk still to come */
    int chunk_crlf;    /* legacy: the CRLF after a chunk is due */
    struct gw_tunnel *tunnel;
    int closing;  /* close once out is written */
    int64_t opened_ms;
    uint32_t events; /* what epoll watches now */
} gw_conn;

typedef enum gw_tstate {
    T_HANDSHAKE,  /* waiting for HANDSHAKE_REQUEST */
    T_CREATE,     /* waiting for TUNNEL_CREATE */
    T_AUTH,       /* waiting for TUNNEL_AUTH */
    T_CHANNEL,    /* waiting for CHANNEL_CREATE */
    T_CONNECTING, /* connecting to the host */
    T_OPEN,       /* relaying DATA */
    T_CLOSED,
} gw_tstate;

typedef struct gw_tunnel {
    int kind; /* GW_KIND_UPSTREAM: first, for the epoll dispatch of up_fd */
    gw_tstate state;
    gw_conn *out;  /* packets to the client go here */
    gw_conn *in;   /* packets from the client come from here (== out with websocket) */
    char connection_id[64]; /* RDG-Connection-Id, pairs legacy IN and OUT */
    char peer[64];          /* the client's address, for messages after both connections left */
    ws_token cookie;        /* the accepted HostToken */
    char client_name[64];
    char resource[256];
    char host_address[64]; /* where the channel goes: the resource, resolved by the fabric */
    int port;
    uint32_t id;
    int up_fd;
    gw_queue up_out; /* bytes for the host, not yet written */
    int host_paused; /* not reading from the host: the client's queue passed GW_BACKLOG_MAX */
    uint32_t up_events;
    uint64_t bytes_to_host, bytes_to_client;
    int64_t opened_ms;
    struct gw_tunnel *next; /* the list of tunnels */
} gw_tunnel;

/* The loop's services for tunnel.c. */
extern ws_component gw;
void gw_send(gw_tunnel *t, const uint8_t *pkt, size_t len); /* one MS-TSGU packet to the client */
/* Host -> client: one read from the host straight into the client's queue as one DATA
 * packet (and frame), written out at once. 1 when bytes came, 0 when none are ready, -1
 * when the host closed or failed, -2 when the client's connection was closed. */
int gw_relay_from_host(gw_tunnel *t);
void gw_close_conn(gw_conn *c);
void gw_update_events(gw_conn *c);
int gw_watch(int fd, uint32_t events, void *ptr);
void gw_unwatch(int fd);
/* A queue, empty. */
void gw_queue_init(gw_queue *q);
size_t gw_queue_len(const gw_queue *q);
uint8_t *gw_queue_data(const gw_queue *q);
/* Room for n more bytes after the unread ones, to be filled and then committed; NULL
 * past the queue's maximum (its bytes are then dropped and the caller closes). */
uint8_t *gw_queue_reserve(gw_queue *q, size_t n);
void gw_queue_commit(gw_queue *q, size_t n);
/* Append n bytes: 0, or -1 past the queue's maximum (as gw_queue_reserve). */
int gw_queue_add(gw_queue *q, const void *data, size_t n);
/* Drop n bytes from the front. */
void gw_queue_consume(gw_queue *q, size_t n);
/* Give an empty queue's memory back (keep: unless it is a relaying tunnel's). */
void gw_queue_trim(gw_queue *q, int keep);
void gw_queue_free(gw_queue *q);
/* The client's output queue passed GW_BACKLOG_MAX: stop reading from the host until it
 * is down to GW_RESUME_MARK (a gap, so that a backlogged relay does not switch reading
 * on and off for every packet). */
int gw_client_backlogged(const gw_tunnel *t);
#define GW_BACKLOG_MAX (1024 * 1024)
#define GW_RESUME_MARK (GW_BACKLOG_MAX / 2)

/* tunnel.c */
gw_tunnel *tunnel_new(gw_conn *c, const char *connection_id);
gw_tunnel *tunnel_find_legacy(const char *connection_id);
/* n bytes of the MS-TSGU stream from c (unframed, unmasked): DATA passed to the host as
 * it comes, other packets gathered in c->pkt and handled whole; -1 when the connection
 * must close (c's queues may then be gone: the caller touches nothing more of it). */
int tunnel_feed(gw_tunnel *t, gw_conn *c, const uint8_t *p, size_t n);
void tunnel_on_upstream(gw_tunnel *t, uint32_t events);
/* The client's queue drained to GW_RESUME_MARK: read from the host again. */
void tunnel_resume_upstream(gw_tunnel *t);
/* A transport connection went away: the tunnel ends with it (T_CLOSED at once, freed
 * by tunnel_reap). */
void tunnel_detach(gw_tunnel *t, gw_conn *c);
/* Free the tunnels ended during this loop round; called after it, when no caller
 * holds one. */
void tunnel_reap(void);
int tunnel_count(void);

#endif
