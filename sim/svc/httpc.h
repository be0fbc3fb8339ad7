/* SPDX-License-Identifier: Apache-2.0 */
/* httpc: HTTP(S) requests between lab machines and from the tenant's PC, on libcurl.
 * A request goes out from the calling machine's address, names resolve as that
 * machine resolves them (given as curl resolve entries), and HTTPS trusts only the
 * calling machine's Root store on its lab clock (tls.h). A request from a machine whose
 * services run under a service account carries that account's credential (its logon,
 * lab/accounts.h) unless it names a user [model: Windows integrated authentication
 * presents the calling service's account; here as HTTP basic authentication]. */
#ifndef WAPSIM_HTTPC_H
#define WAPSIM_HTTPC_H

#include <stddef.h>

#include "lab/state.h"

#define WS_HTTP_RESPONSE_MAX (4 * 1024 * 1024)

typedef struct ws_http_request {
    const char *method; /* "GET", "POST" */
    const char *url;
    const void *body;
    size_t body_len;
    const char *content_type;
    const char *user, *password;  /* basic authentication when user is set (else the logon's) */
    const char *const *headers;   /* extra "Name: value" lines, NULL-terminated, or NULL */
    const char *resolve;          /* "host:port:address", or NULL */
    const char *cookie;           /* "name=value", or NULL */
    ws_state *st;                 /* with from_machine: TLS trust and source address */
    const char *from_machine;     /* the machine the request leaves from */
    int timeout_ms;               /* 0: 15 s */
    int pooled;                   /* 1: over a connection of this process's pool (below) */
} ws_http_request;

typedef struct ws_http_response {
    long status;
    char content_type[128];
    char content_disposition[256];
    char set_cookie[256]; /* the first Set-Cookie's "name=value" */
    unsigned char *body;  /* NUL-terminated for convenience */
    size_t body_len;
    int connections;      /* connections (with HTTPS: full TLS handshakes) opened for it; 0: one was reused */
} ws_http_response;

/* Returns 0 when an HTTP answer came back (whatever its status); -1 when there was
 * none (e: the transport's reason, e.g. the TLS verification failure). Without pooled,
 * the request has a connection of its own, closed after it. */
int ws_http(const ws_http_request *rq, ws_http_response *rs, ws_error *e);
void ws_http_response_free(ws_http_response *rs);

/* Keep-alive (RFC 9112 section 9.3, persistent connections): a client keeps its
 * connection to a server open after an answer and sends the next request over it, until
 * it has been idle for its timeout. A reused connection was verified when it was made
 * (a pool does not ask again: a Root store changed since does not close it); every new
 * connection verifies the server against the calling machine's Root store and lab clock
 * as of then. TLS sessions are never resumed: each new connection is a full handshake.
 *
 * A browser's connection (ws_http_conn): one at a time, for one tenant's visit, closed
 * after WS_HTTP_BROWSER_IDLE_S idle [Internet Explorer's KeepAliveTimeout, one minute:
 * Microsoft KB 813827, "How to change the default keep-alive time-out value in Internet
 * Explorer"]. The pool (requests with pooled set): the connections a service keeps to
 * the services it calls, as the WAP tenant site's .NET client keeps them per server
 * (ServicePoint): shared by the process's threads, each connection used by one request
 * at a time, at most WS_HTTP_POOL_PER_SERVER idle per (calling machine, server) and
 * WS_HTTP_POOL_MAX in all, each closed after WS_HTTP_POOL_IDLE_S idle [.NET's
 * ServicePointManager.MaxServicePointIdleTime, 100,000 ms by default (Microsoft Learn,
 * System.Net.ServicePointManager)]. Both are shorter than the servers' idle timeout once
 * the caller has authenticated (IIS's 120 s, svc/httpd.h), so the client closes first,
 * as Microsoft KB 833301 advises. */
#define WS_HTTP_BROWSER_IDLE_S 60  /* Internet Explorer's KeepAliveTimeout, seconds */
#define WS_HTTP_POOL_IDLE_S 100    /* .NET's MaxServicePointIdleTime, seconds */
#define WS_HTTP_POOL_PER_SERVER 8  /* [model] idle connections kept per (machine, server) */
#define WS_HTTP_POOL_MAX 32        /* [model] idle connections kept by a process */

typedef struct ws_http_conn ws_http_conn;
/* A browser's connection, opened by its first request; NULL when out of memory. */
ws_http_conn *ws_http_conn_open(void);
/* ws_http over c's connection (a new one when there is none, or it is closed or stale). */
int ws_http_on(ws_http_conn *c, const ws_http_request *rq, ws_http_response *rs, ws_error *e);
/* Closes the connection (NULL: nothing). */
void ws_http_conn_close(ws_http_conn *c);

#endif
