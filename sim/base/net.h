/* SPDX-License-Identifier: Apache-2.0 */
/* net: TCP on the lab's loopback addresses. Every simulated machine has its own
 * address in 127.0.0.0/8, so its services listen on their real ports, and a machine's
 * outgoing connections leave from its own address (the lab tells machines apart by
 * source address). Each function returns a socket the caller closes, or -1 with e
 * saying which call failed and why ("bind 127.64.3.20: Cannot assign requested
 * address"); errno is then that call's error. */
#ifndef WAPSIM_NET_H
#define WAPSIM_NET_H

#include "base/util.h"

/* A listening socket bound to address:port (IPv4 or IPv6 literal). */
int ws_tcp_listen(const char *address, int port, int backlog, ws_error *e);

/* Flags of ws_tcp_connect_from. */
#define WS_TCP_NODELAY 0x1    /* TCP_NODELAY: small PDUs leave at once */
#define WS_TCP_IO_TIMEOUT 0x2 /* blocking reads and writes also give up after timeout_ms (SO_RCVTIMEO, SO_SNDTIMEO) */
#define WS_TCP_NONBLOCK 0x4   /* for an event loop: return as soon as the connect is under way, the socket left
                                 non-blocking; the caller waits for it to be writable and reads SO_ERROR
                                 (timeout_ms is not used) */

/* Connect to address:port from the local address src (an IPv4 or IPv6 literal of the
 * same family; NULL: any), giving up after timeout_ms. Without WS_TCP_NONBLOCK the
 * socket returned is connected and blocking. */
int ws_tcp_connect_from(const char *src, const char *address, int port, int timeout_ms, int flags, ws_error *e);
/* ws_tcp_connect_from(NULL, address, port, timeout_ms, 0, e). */
int ws_tcp_connect(const char *address, int port, int timeout_ms, ws_error *e);
/* 1 when nothing listens on address:port and it can be bound. */
int ws_tcp_port_free(const char *address, int port);
/* 1 when s is an IPv4 or IPv6 address literal (a tenant's PC connects to it without a lookup). */
int ws_is_ip_literal(const char *s);

/* A server as a client is told to reach it (an .rdp file's gatewayhostname or full
 * address, the cloud's RD Gateway FQDN): "name", "name:port", "192.0.2.7",
 * "192.0.2.7:443", "[2001:db8::7]", "[2001:db8::7]:443", or a bare "2001:db8::7"
 * (no port: its colons are the address's). The usual URL authority spelling
 * (RFC 3986 s3.2.2: an IPv6 address in brackets before a port). */
#define WS_HOSTPORT_HOST_MAX 256
typedef struct ws_hostport {
    char host[WS_HOSTPORT_HOST_MAX]; /* the name, or the address without brackets */
    int port;                        /* 1..65535: the one given, else the default */
    int is_address;                  /* 1: an address literal: where to connect, never looked up; a
                                        certificate names it only by an IP SAN (ws_tls_expect_peer) */
} ws_hostport;
/* Parse text into *out (left untouched on failure): 0, or -1 with e naming the bad value
 * and why (empty, too long, spaces or control characters, a bad port, an unclosed or
 * misplaced bracket, brackets around something that is not an IPv6 address). */
int ws_hostport_parse(const char *text, int default_port, ws_hostport *out, ws_error *e);
/* The reverse: host, then ":port" unless port is default_port; an IPv6 address is put
 * in brackets when a port follows. Writes at most n bytes; returns the length it needed. */
size_t ws_hostport_format(const char *host, int port, int default_port, char *out, size_t n);

#endif
