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
} ws_http_request;

typedef struct ws_http_response {
    long status;
    char content_type[128];
    char content_disposition[256];
    char set_cookie[256]; /* the first Set-Cookie's "name=value" */
    unsigned char *body;  /* NUL-terminated for convenience */
    size_t body_len;
} ws_http_response;

/* Returns 0 when an HTTP answer came back (whatever its status); -1 when there was
 * none (e: the transport's reason, e.g. the TLS verification failure). */
int ws_http(const ws_http_request *rq, ws_http_response *rs, ws_error *e);
void ws_http_response_free(ws_http_response *rs);

#endif
