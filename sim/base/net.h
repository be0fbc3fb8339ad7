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

#endif
