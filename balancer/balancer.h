/* SPDX-License-Identifier: Apache-2.0 */
/* balancer: what wapsim-balancer's files share. main.c runs the listener, the limits,
 * the members' states and the counters; pick.c chooses a member (pure, unit-tested);
 * relay.c moves bytes both ways with bounded buffers; offload.c is TLS on either side.
 *
 * [model] The lab's values, each named once here: an appliance's (F5 BIG-IP, NetScaler)
 * are configurable and their defaults vary; README "Load balancer" lists them. */
#ifndef WAPSIM_BALANCER_H
#define WAPSIM_BALANCER_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "lab/balancer.h"

#define LB_CONNECT_TIMEOUT_MS 2000   /* [model] a member that does not answer the connect within this is skipped */
#define LB_MEMBER_DOWN_MS 10000      /* [model] a member that refused is not tried again for this long (unless
                                        every member is down): a health monitor's interval, passive here */
#define LB_IDLE_TIMEOUT_MS 3600000   /* [model] no byte either way for an hour: closed (FortiGate's tcp-idle
                                        default is 3600 s; BIG-IP's tcp profile has its own) */
#define LB_TLS_TIMEOUT_MS 10000      /* [model] tls-offload: the client's TLS handshake done within this */
#define LB_MAX_PER_SOURCE 1024       /* [model] connections one client address may hold (at most
                                        * half of all: one address never takes every slot) */
#define LB_MAX_TOTAL 8192            /* [model] connections in all (also bounded by descriptors) */
#define LB_BUF_SIZE (256u * 1024)    /* one direction's buffer: a side whose peer does not drain it stops
                                        being read when it is full (backpressure) */

/* pick.c: which member a new connection tries. */
/* A stable hash of a client address's text (FNV-1a, 32 bits). */
uint32_t lb_source_hash(const char *address);
/* Among n members (n <= 32) the one to try next, or -1 when every one is in tried (a
 * bit per member). usable[i] is 0 for a member marked down: it is tried only when no
 * usable untried member is left. affinity none: round robin from *rr (which moves past
 * the choice); source-ip: from hash % n, so one address reaches one member while that
 * member is up. */
int lb_pick(int n, const int *usable, uint32_t tried, ws_lb_affinity affinity, uint32_t hash, unsigned *rr);

/* One side of a relayed connection: a socket, its TLS (NULL: plain) and the bytes
 * waiting to be written to it. */
typedef struct lb_side {
    int kind;             /* LB_KIND_CLIENT or LB_KIND_MEMBER: first, for the epoll tag */
    struct lb_conn *conn;
    int fd;               /* -1: closed */
    SSL *ssl;             /* NULL: plain TCP */
    unsigned char *buf;   /* bytes to write to this side, LB_BUF_SIZE when allocated; NULL while empty */
    size_t off, len;      /* unwritten bytes are buf[off..len) */
    int rd_eof;           /* this side sent its end of stream (FIN or close_notify) */
    int wr_shut;          /* we passed the other side's end on to this one */
    int ssl_want_write;   /* the last TLS read needs the socket writable */
    uint32_t events;      /* what epoll watches now (watch() alone sets it) */
    uint32_t tls_want;    /* what a TLS handshake step waits for: EPOLLIN or EPOLLOUT */
    int watched;          /* in the epoll set */
} lb_side;

enum { LB_KIND_LISTENER = 1, LB_KIND_CLIENT, LB_KIND_MEMBER };
enum { LB_ST_CLIENT_TLS, LB_ST_CONNECTING, LB_ST_MEMBER_TLS, LB_ST_RELAY };

typedef struct lb_conn {
    lb_side client, member;
    int state;            /* LB_ST_* */
    int idx;              /* the member it is on, -1: none yet */
    uint32_t tried;       /* members tried, a bit each */
    uint32_t hash;        /* lb_source_hash(peer) */
    char peer[64];        /* the client's address */
    uint32_t peer_key;    /* its IPv4 address, for the per-source count */
    int64_t opened_ms, phase_ms, active_ms; /* accepted; this phase began; the last byte either way */
    int dead;             /* closed in this round, freed after it */
    struct lb_conn *next, *prev;
} lb_conn;

/* relay.c */
/* Move what can be moved both ways, pass ends of stream on: 1 when bytes moved, 0 when
 * none could, -1 when the connection is over (both ways done) or broken (an error on
 * either side). */
int lb_relay(lb_conn *c);
/* The epoll events each side needs now (read while the peer's buffer has room, write
 * while its own buffer has bytes). */
uint32_t lb_side_interest(const lb_side *s, const lb_side *peer);
void lb_side_close(lb_side *s);

/* offload.c: a step of a TLS handshake on a non-blocking side: 1 done, 0 in progress
 * (s->tls_want says what it waits for), -1 failed (why says why), -2 the peer closed the
 * connection without a word (not worth logging). */
int lb_tls_step(lb_side *s, int server, char *why, size_t n);

#endif
