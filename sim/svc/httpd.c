/* SPDX-License-Identifier: Apache-2.0 */
/* httpd: see httpd.h. */
#include "svc/httpd.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "crypto/cert.h"
#include "lab/accounts.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "lab/vault.h"

#define DEFAULT_MAX_BODY (64 * 1024)
#define DRAIN_MAX (1024 * 1024) /* [model] an oversize body up to this is read (and dropped) before the 413 */
/* Connection handling: a few threads poll every connection (an idle socket costs a
 * descriptor, not a thread), each with its own connection to the state file. */
#define POOL_THREADS 16        /* [model] handlers block (calls to the next service, password hashes) */
#define CONNECTION_TIMEOUT_S 10 /* [model] IIS waits 120 s (connectionTimeout); a lab need not */
#define MAX_CONNECTIONS 256    /* [model] */
#define MAX_PER_SOURCE 32      /* [model] connections open at once from one client address */
/* Once its caller has authenticated (ws_httpd_authenticated), a connection may wait for
 * its next request as long as IIS keeps an idle one: connectionTimeout, 00:02:00 by
 * default (Microsoft Learn, "Default Limits for Web Sites <limits>"), longer than its
 * clients' idle timeouts (svc/httpc.h), so a kept-alive connection is the client's to
 * close. Before that, the short deadline above holds. */
#define AUTHENTICATED_TIMEOUT_S 120
#define COUNTERS_MS 1000 /* run/<machine>.counters is written at most this often */

typedef struct server {
    ws_component *c;
    ws_httpd_opts o;
    char *cert_pem, *key_pem; /* MHD keeps pointers to them: they live as long as the server */
} server;

typedef struct pending {
    unsigned char *body;
    size_t len;
    int too_large;
} pending;

/* What one connection has carried, from libmicrohttpd's connection notification. */
typedef struct conn_info {
    unsigned long requests;
} conn_info;

/* ---- counters: run/<machine>.counters, for `wapsim status --json` [model: IIS's
 * "Web Service" performance counters, Total Connection Attempts and Total Method
 * Requests]: the connections that carried a request (with TLS: each a full handshake)
 * and the requests, since the service started. One process serves one machine. */
static struct {
    pthread_mutex_t lock;
    unsigned long connections, requests;
    int dirty;
    char path[4200];
} counters = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void counters_write(void)
{
    pthread_mutex_lock(&counters.lock);
    int dirty = counters.dirty;
    char text[128];
    snprintf(text, sizeof text, "{\"connections_total\":%lu,\"requests_total\":%lu}\n", counters.connections,
             counters.requests);
    counters.dirty = 0;
    pthread_mutex_unlock(&counters.lock);
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", counters.path);
    if (dirty && ws_write_file(tmp, text, strlen(text), 0600, NULL) == 0 && rename(tmp, counters.path) != 0)
        unlink(tmp);
}

static void *counters_loop(void *arg)
{
    (void)arg;
    for (;;) {
        counters_write();
        struct timespec ts = {COUNTERS_MS / 1000, (COUNTERS_MS % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void counters_start(ws_component *c)
{
    pthread_mutex_lock(&counters.lock);
    int started = counters.path[0] != '\0';
    if (!started) {
        snprintf(counters.path, sizeof counters.path, "%s/run/%s.counters", c->lab_dir, c->machine.name);
        counters.dirty = 1;
    }
    pthread_mutex_unlock(&counters.lock);
    pthread_t t;
    if (!started && pthread_create(&t, NULL, counters_loop, NULL) == 0)
        pthread_detach(t);
}

/* A request begins on conn: counted, and its connection too when it is the first. */
static void counters_request(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_info *info = ci ? ci->socket_context : NULL;
    pthread_mutex_lock(&counters.lock);
    counters.requests++;
    if (info && info->requests++ == 0)
        counters.connections++;
    counters.dirty = 1;
    pthread_mutex_unlock(&counters.lock);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls, (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(conn_info));
    } else {
        free(*socket_context);
        *socket_context = NULL;
    }
}

static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

static void close_state(void *p)
{
    ws_state_close(p);
}

static void make_key(void)
{
    pthread_key_create(&state_key, close_state);
}

/* This thread's connection to the state file, opened on first use. */
static ws_state *thread_state(ws_component *c)
{
    pthread_once(&state_once, make_key);
    ws_state *st = pthread_getspecific(state_key);
    if (!st) {
        ws_error e;
        if (ws_state_open(c->lab_dir, 0, &st, &e) != 0)
            return NULL;
        pthread_setspecific(state_key, st);
    }
    return st;
}

int ws_httpd_ssl_cert(ws_component *c, char *name, size_t n, ws_error *e)
{
    if (ws_setting_get(c->st, c->machine.name, WS_SET_SSL_CERT, name, n) != 0)
        return ws_seterr(e, "no SSL certificate is configured for %s", c->machine.name);
    int has_key = 0;
    if (!ws_store_contains(c->st, c->machine.name, "My", name, &has_key) || !has_key)
        return ws_seterr(e, "SSL certificate '%s' is not in %s's LocalMachine\\My with its private key", name,
                         c->machine.name);
    return 0;
}

enum MHD_Result ws_httpd_reply_ex(struct MHD_Connection *conn, unsigned status, const char *content_type,
                                  const void *body, size_t len, const char *const *extra)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (const char *const *h = extra; h && h[0] && h[1]; h += 2)
        MHD_add_response_header(r, h[0], h[1]);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result ws_httpd_reply(struct MHD_Connection *conn, unsigned status, const char *content_type,
                               const void *body, size_t len)
{
    return ws_httpd_reply_ex(conn, status, content_type, body, len, NULL);
}

enum MHD_Result ws_httpd_reply_json(struct MHD_Connection *conn, unsigned status, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    enum MHD_Result r = ws_httpd_reply(conn, status, "application/json; charset=utf-8", text, strlen(text));
    cJSON_free(text);
    return r;
}

const char *ws_httpd_header(ws_httpd_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *ws_httpd_cookie(ws_httpd_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);
}

const char *ws_httpd_arg(ws_httpd_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* 1 when a Content-Length value is not a plain number or is over max. */
static int announced_over(const char *value, size_t max)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(value, &end, 10);
    return errno || end == value || *end || n > max;
}

static enum MHD_Result refuse_too_large(const server *srv, struct MHD_Connection *conn, const char *method,
                                        const char *url)
{
    static const char msg[] = "{\"error\":\"request body too large\"}";
    fprintf(stderr, "%s: refused a request body over the limit on %s %s\n", srv->c->program, method, url);
    return ws_httpd_reply(conn, 413, "application/json", msg, sizeof msg - 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    server *srv = cls;
    pending *p = *con_cls;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return MHD_NO;
        *con_cls = p;
        counters_request(conn);
        /* A body announced over the limit is refused from its Content-Length. One
         * under DRAIN_MAX is read and dropped first: closing with unread bytes resets
         * the connection, and the client may lose the 413 it was sent. A larger one is
         * refused before a byte of it is read (libmicrohttpd then closes). */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        size_t max = srv->o.max_body ? srv->o.max_body : DEFAULT_MAX_BODY;
        if (cl && announced_over(cl, max)) {
            p->too_large = 1;
            if (announced_over(cl, DRAIN_MAX))
                return refuse_too_large(srv, conn, method, url);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t max = srv->o.max_body ? srv->o.max_body : DEFAULT_MAX_BODY;
        if (!p->too_large && p->len + *upload_size <= max) {
            unsigned char *grown = realloc(p->body, p->len + *upload_size + 1);
            if (!grown)
                return MHD_NO;
            p->body = grown;
            memcpy(p->body + p->len, upload_data, *upload_size);
            p->len += *upload_size;
            p->body[p->len] = '\0';
        } else {
            p->too_large = 1;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (p->too_large)
        return refuse_too_large(srv, conn, method, url);
    ws_httpd_req rq = {
        .conn = conn,
        .method = method,
        .url = url,
        .body = p->body ? p->body : (const unsigned char *)"",
        .body_len = p->len,
        .c = srv->c,
        .cls = srv->o.cls,
    };
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, rq.peer, sizeof rq.peer);
    rq.st = thread_state(srv->c);
    if (!rq.st) {
        static const char msg[] = "{\"error\":\"state file unavailable\"}";
        return ws_httpd_reply(conn, 503, "application/json", msg, sizeof msg - 1);
    }
    return srv->o.handler(&rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    pending *p = *con_cls;
    if (p) {
        free(p->body);
        free(p);
        *con_cls = NULL;
    }
}

/* libmicrohttpd's error callback: fmt is libmicrohttpd's own printf format for ap. */
static void on_mhd_error(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    server *srv = cls;
    /* The supervisor's health probe opens and closes a TCP connection without TLS. */
    if (strstr(fmt, "handshake") || strstr(fmt, "TLS"))
        return;
    fprintf(stderr, "%s: ", srv->c->program);
    vfprintf(stderr, fmt, ap);
}

struct MHD_Daemon *ws_httpd_start(ws_component *c, const ws_httpd_opts *o, ws_error *e)
{
    server *srv = calloc(1, sizeof *srv);
    if (!srv)
        abort();
    srv->c = c;
    srv->o = *o;
    int port = o->port ? o->port : c->machine.port;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, c->machine.address, &sa.sin_addr) != 1) {
        ws_seterr(e, "bad address %s", c->machine.address);
        free(srv);
        return NULL;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (o->ssl_cert) {
        X509 *cert = NULL;
        EVP_PKEY *key = NULL;
        if (ws_vault_get(c->st, o->ssl_cert, &cert, &key, NULL, e) != 0) {
            free(srv);
            return NULL;
        }
        srv->cert_pem = ws_cert_to_pem(cert);
        srv->key_pem = key ? ws_key_to_pem(key) : NULL;
        X509_free(cert);
        EVP_PKEY_free(key);
        if (!srv->cert_pem || !srv->key_pem) {
            ws_seterr(e, "certificate '%s' has no private key", o->ssl_cert);
            free(srv->cert_pem);
            free(srv);
            return NULL;
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_Daemon *d;
    if (o->ssl_cert)
        d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
                             on_mhd_error, srv, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_HTTPS_MEM_CERT, srv->cert_pem,
                             MHD_OPTION_HTTPS_MEM_KEY, srv->key_pem, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                             MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_THREAD_POOL_SIZE,
                             (unsigned)POOL_THREADS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
                             MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MAX_PER_SOURCE, MHD_OPTION_END);
    else
        d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
                             on_mhd_error, srv, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                             srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_THREAD_POOL_SIZE,
                             (unsigned)POOL_THREADS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
                             MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MAX_PER_SOURCE, MHD_OPTION_END);
    if (!d) {
        ws_seterr(e, "cannot listen on %s:%d", c->machine.address, port);
        free(srv->cert_pem);
        free(srv->key_pem);
        free(srv);
        return NULL;
    }
    counters_start(c);
    return d;
}

int ws_httpd_serve(ws_component *c, ws_httpd_opts *o, int https)
{
    ws_error e;
    char cert[128];
    if (https) {
        if (ws_httpd_ssl_cert(c, cert, sizeof cert, &e) != 0)
            ws_component_fail(c, "%s", e.msg);
        o->ssl_cert = cert;
    }
    struct MHD_Daemon *d = ws_httpd_start(c, o, &e);
    if (!d)
        ws_component_fail(c, "%s", e.msg);
    ws_component_running(c, https ? "HTTPS" : "HTTP");
    ws_component_wait();
    MHD_stop_daemon(d);
    ws_component_close(c);
    return 0;
}

void ws_httpd_authenticated(ws_httpd_req *rq)
{
    MHD_set_connection_option(rq->conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)AUTHENTICATED_TIMEOUT_S);
}

enum MHD_Result ws_httpd_reply_unauthorized(struct MHD_Connection *conn, const char *realm)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", "access denied");
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char challenge[128];
    snprintf(challenge, sizeof challenge, "Basic realm=\"%s\"", realm);
    const char *extra[] = {"WWW-Authenticate", challenge, NULL};
    enum MHD_Result r = ws_httpd_reply_ex(conn, 401, "application/json; charset=utf-8", text, strlen(text), extra);
    cJSON_free(text);
    return r;
}

int ws_httpd_caller_check(ws_httpd_req *rq, const ws_strv *callers, ws_ev ev_address, ws_ev ev_credentials,
                          const char *realm, enum MHD_Result *refusal)
{
    const char *me = rq->c->machine.name;
    if (callers->n == 0) {
        ws_event_write(rq->st, me, ev_address, rq->peer);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", "access denied");
        *refusal = ws_httpd_reply_json(rq->conn, 403, o);
        return 0;
    }
    ws_error why;
    ws_logon_site site = {me, rq->peer};
    if (ws_service_credential_check(rq->st, &site, ws_httpd_header(rq, "Authorization"), callers, &why)) {
        ws_httpd_authenticated(rq);
        return 1;
    }
    ws_event_write(rq->st, me, ev_credentials, rq->peer, why.msg);
    *refusal = ws_httpd_reply_unauthorized(rq->conn, realm);
    return 0;
}
