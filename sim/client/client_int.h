/* SPDX-License-Identifier: Apache-2.0 */
/* client_int: what the parts of the tenant's PC share, for sim/client only.
 *   browser.c  the portal: the .rdp file (or the JSON error), and the file's signature
 *   gateway.c  TLS to the RD Gateway and the MS-TSGU tunnel (websocket or legacy pair)
 *   host.c     through the channel: pre-connection PDU, X.224, TLS with the host, RDSTLS
 *   console.c  the RDP connection sequence to the first frame, typed keys, the hold
 *   client.c   ws_connect: the hops in order, and the administrator's direct path
 * Nothing here is static or global: each connection's state lives in its own structs
 * (on the caller's stack or freed before ws_connect returns), so flows may run on
 * threads.
 *
 * Blocking I/O: every socket the client opens gives up after WS_CLIENT_IO_TIMEOUT_MS,
 * connecting, reading or writing (SO_RCVTIMEO/SO_SNDTIMEO); TLS over it inherits that. */
#ifndef WAPSIM_CLIENT_INT_H
#define WAPSIM_CLIENT_INT_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "client/client.h"
#include "wire/rdpfile.h"

#define WS_CLIENT_IO_TIMEOUT_MS 15000

/* ---- hops (client.c) ---- */

/* Append a hop to r (ignored past WS_MAX_HOPS); r's stage follows, and a failed hop's
 * detail becomes r's message. */
void ws_client_hop(ws_connect_result *r, const char *stage, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A failed hop; a non-zero code becomes r's code. Always -1. */
int ws_client_fail(ws_connect_result *r, const char *stage, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A TCP connection from the lab address src (NULL: any), with the client's timeouts
 * and TCP_NODELAY; the socket, or -1 (e says which call failed). */
int ws_client_tcp(const char *src, const char *address, int port, ws_error *e);

/* ---- the browser (browser.c) ---- */

/* The portal hop: the .rdp file from o->rdp_file or from the portal, into *bytes
 * (malloc'ed, the caller frees) and *len. 0, or -1 with the hop failed in r. */
int ws_client_portal(ws_state *st, const ws_connect_opts *o, ws_connect_result *r, unsigned char **bytes,
                     size_t *len);
/* The rdp-signature hop: f's signature against the client's Root store on its clock. */
int ws_client_rdp_signature(ws_state *st, const ws_rdp_file *f, ws_connect_result *r);

/* ---- the gateway link (gateway.c): MS-TSGU packets over a websocket or the legacy pair ---- */

typedef struct gwlink {
    SSL *out;      /* RDG_OUT_DATA: packets from the gateway (and to it, with a websocket) */
    SSL *in;       /* legacy RDG_IN_DATA: packets to the gateway */
    int out_fd;    /* -1 when not open */
    int in_fd;     /* -1 when not open */
    int legacy;    /* 1: RDG_OUT_DATA + RDG_IN_DATA, 0: a websocket */
    ws_buf buf;    /* bytes read from the gateway, not yet used */
    ws_buf stream; /* the MS-TSGU byte stream (frame payloads) */
    uint8_t *pkt;  /* WS_TSGU_PACKET_MAX bytes to build and take packets in; NULL when closed */
} gwlink;

/* An unopened link (nothing to free yet). */
void ws_gwlink_init(gwlink *g);
/* Close the connections and free the buffers; the link is then as after init. */
void ws_gwlink_free(gwlink *g);
/* Send one MS-TSGU packet. 0, or -1 when the gateway connection failed. */
int ws_gwlink_send(gwlink *g, const uint8_t *pkt, size_t n);
/* The next whole packet from the gateway into pkt (cap bytes); its length in *len. */
int ws_gwlink_recv(gwlink *g, uint8_t *pkt, size_t cap, size_t *len, ws_error *e);
/* The socket packets from the gateway arrive on. */
int ws_gwlink_fd(const gwlink *g);
/* 1 when bytes from the gateway wait in TLS or in the link's buffers. */
int ws_gwlink_buffered(const gwlink *g);

/* The gateway an .rdp file names, as the tenant's PC resolves it: name (n bytes),
 * *port, address (an bytes). */
int ws_client_gateway_of(ws_state *st, const ws_rdp_file *f, char *name, size_t n, int *port, char *addr, size_t an,
                         ws_error *e);
/* The gateway-tls hop, then the gateway-auth hop's HTTP part: g connected from
 * client_addr, RDG_OUT_DATA (and RDG_IN_DATA when legacy) answered. */
int ws_client_gateway_open(gwlink *g, SSL_CTX *ctx, const char *gw_name, const char *gw_addr, int gw_port,
                           const char *client_addr, int legacy, ws_connect_result *r);
/* The rest of gateway-auth (handshake, TUNNEL_CREATE with cookie, TUNNEL_AUTH), then
 * with_channel the channel hop: CHANNEL_CREATE to resource:port. */
int ws_client_tunnel_open(gwlink *g, const char *cookie, const char *resource, int port, int with_channel,
                          ws_connect_result *r);

/* ---- the host (host.c) ---- */

/* The byte stream to the host: DATA packets through the gateway's channel, or a
 * socket straight to the host. */
typedef struct hostlink {
    gwlink *g;     /* through the gateway's channel, or NULL and */
    int direct_fd; /* straight to the host (the administrator's path) */
    ws_buf in;     /* bytes from the host, not yet used */
    int closed;    /* the host closed the connection */
} hostlink;

/* TLS with the host over a hostlink: OpenSSL reads and writes memory BIOs, whose
 * bytes travel in DATA packets. */
typedef struct hosttls {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    hostlink *h;
} hosttls;

/* Exactly n bytes from the host inside TLS. 0, or -1 (e says why). */
int ws_hosttls_read(hosttls *t, uint8_t *buf, size_t n, ws_error *e);
/* Send n bytes inside TLS. 0, or -1. */
int ws_hosttls_write(hosttls *t, const uint8_t *buf, size_t n);
/* 1 when the host has sent something (decrypted bytes pending, bytes buffered, or the
 * socket readable within timeout_ms), else 0. */
int ws_hosttls_readable(hosttls *t, int timeout_ms);

/* The host-tls and host-auth hops, then the console (through g, or o->direct_fd when
 * g is NULL). */
int ws_client_host_hops(ws_state *st, gwlink *g, const ws_rdp_file *f, const ws_connect_opts *o,
                        ws_connect_result *r);

/* ---- the console (console.c) ---- */

/* The console hop over TLS with the host: the RDP connection sequence with Client Info
 * credentials domain\user (NULL: none, with a VMToken), to the first whole frame, then
 * o's typing, hold and screenshot. selected: the protocol the host chose. */
int ws_client_console(hosttls *t, uint32_t selected, const char *domain, const char *user, const char *password,
                      const ws_connect_opts *o, ws_connect_result *r);

#endif
