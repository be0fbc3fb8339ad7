/* SPDX-License-Identifier: Apache-2.0 */
/* httpd: the HTTP(S) servers of the portal, SPF, VMM and the hosts' VMM agent, on
 * libmicrohttpd. With TLS, the service's certificate must be in its machine's
 * LocalMachine\My with its private key, and is read once, at start (libmicrohttpd's
 * TLS is GnuTLS, so it is handed PEM: DESIGN.md "The state file").
 *
 * A small pool of threads polls all connections; each thread has its own connection to
 * the state file (SQLite transactions do not share a connection across threads), and a
 * handler runs on one of them. A connection silent for some seconds is closed, and one
 * client address may hold only so many connections (httpd.c's [model] values). A request
 * body is collected up to a limit (beyond it: 413) before the handler sees the request.
 *
 * Connections are kept alive between requests (HTTP/1.1). A connection whose caller has
 * authenticated (ws_httpd_authenticated) may then stay idle as long as IIS keeps one
 * (120 s), longer than its clients' own idle timeouts (svc/httpc.h); before that it has
 * the short deadline above. The server counts the connections that carried a request
 * and the requests in run/<machine>.counters (JSON: connections_total, requests_total;
 * `wapsim status --json` shows them), rewritten at most once a second. */
#ifndef WAPSIM_HTTPD_H
#define WAPSIM_HTTPD_H

#include <microhttpd.h>

#include "base/buf.h"
#include "lab/events.h"
#include "svc/component.h"

typedef struct ws_httpd_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const unsigned char *body; /* NUL-terminated; body_len bytes */
    size_t body_len;
    char peer[64];  /* the client's address */
    ws_state *st;   /* this thread's connection to the state file */
    ws_component *c;
    void *cls;
} ws_httpd_req;

typedef enum MHD_Result (*ws_httpd_handler)(ws_httpd_req *rq);

typedef struct ws_httpd_opts {
    int port;          /* 0: the machine's port */
    const char *ssl_cert; /* certificate name for HTTPS, or NULL for plain HTTP */
    size_t max_body;   /* 0: 64 KiB */
    ws_httpd_handler handler;
    void *cls;
} ws_httpd_opts;

struct MHD_Daemon *ws_httpd_start(ws_component *c, const ws_httpd_opts *o, ws_error *e);
/* A component's whole life as an HTTP(S) server: with https, the certificate its
 * machine's ssl_cert setting names (ws_httpd_ssl_cert) is bound once, now; then
 * serve until told to stop, and close the component. Returns the exit status; a
 * server that cannot start ends the process with ws_component_fail. */
int ws_httpd_serve(ws_component *c, ws_httpd_opts *o, int https);
/* The name of the TLS certificate a machine's service is configured with (its
 * ssl_cert setting), checked to be in its My store with its key. */
int ws_httpd_ssl_cert(ws_component *c, char *name, size_t n, ws_error *e);

const char *ws_httpd_header(ws_httpd_req *rq, const char *name);
const char *ws_httpd_cookie(ws_httpd_req *rq, const char *name);
const char *ws_httpd_arg(ws_httpd_req *rq, const char *name);

/* Queue a complete response. extra: "Name", "Value", ..., NULL (or NULL). */
enum MHD_Result ws_httpd_reply(struct MHD_Connection *conn, unsigned status, const char *content_type,
                               const void *body, size_t len);
/* Queue a JSON response (application/json) of o, and free o. */
struct cJSON;
enum MHD_Result ws_httpd_reply_json(struct MHD_Connection *conn, unsigned status, struct cJSON *o);
/* A service call's two factors: the caller is at the address of one of the machines in
 * callers (its service's lab address; anyone on the computer can bind any 127/8
 * address, so this alone proves nothing) and presents one of their service accounts
 * (ws_service_credential_check). 1 when both hold (the connection is then
 * ws_httpd_authenticated); else 0 with *refusal queued: 403 and ev_address logged (no
 * such machine there), or 401 and ev_credentials logged with the reason. Both events
 * take the caller's address, ev_credentials then the reason. */
int ws_httpd_caller_check(ws_httpd_req *rq, const ws_strv *callers, ws_ev ev_address, ws_ev ev_credentials,
                          const char *realm, enum MHD_Result *refusal);
/* The caller of rq has proved who it is (a password, a signed-in session): its
 * connection may now wait for its next request as long as IIS's connectionTimeout. */
void ws_httpd_authenticated(ws_httpd_req *rq);
/* 401 with {"error":"access denied"} and WWW-Authenticate: Basic realm="realm": a
 * caller that did not prove who it is. */
enum MHD_Result ws_httpd_reply_unauthorized(struct MHD_Connection *conn, const char *realm);
enum MHD_Result ws_httpd_reply_ex(struct MHD_Connection *conn, unsigned status, const char *content_type,
                                  const void *body, size_t len, const char *const *extra);

#endif
