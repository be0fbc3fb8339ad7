/* net: TCP on the lab's loopback addresses. Every simulated machine has its own
 * address in 127.0.0.0/8, so its services listen on their real ports. */
#ifndef WAPSIM_NET_H
#define WAPSIM_NET_H

#include "base/util.h"

/* A listening socket bound to address:port (IPv4 or IPv6 literal). */
int ws_tcp_listen(const char *address, int port, int backlog, ws_error *e);
/* Connect within timeout_ms; returns the socket or -1 (e says why). */
int ws_tcp_connect(const char *address, int port, int timeout_ms, ws_error *e);
/* 1 when nothing listens on address:port and it can be bound. */
int ws_tcp_port_free(const char *address, int port);

#endif
