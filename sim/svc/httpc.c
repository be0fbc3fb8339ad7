/* SPDX-License-Identifier: Apache-2.0 */
/* httpc: see httpc.h. */
#include "svc/httpc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/util.h"
#include "lab/accounts.h"
#include "lab/machine.h"
#include "svc/machine_tls.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The body as it arrives, at most WS_BUF_MAX_HTTP_BODY bytes. */
typedef struct sink {
    ws_buf body;
    int overflow;
} sink;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t len = size * n;
    if (ws_buf_add(&s->body, data, len) != 0) {
        s->overflow = 1;
        return 0;
    }
    return len;
}

/* Copies a header's value when its name matches. */
static void take_header(const char *line, size_t len, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && isspace((unsigned char)*v))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    size_t vl = (size_t)(end - v) < n - 1 ? (size_t)(end - v) : n - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    ws_http_response *rs = arg;
    size_t len = size * n;
    take_header(data, len, "Content-Disposition", rs->content_disposition, sizeof rs->content_disposition);
    if (!rs->set_cookie[0]) {
        take_header(data, len, "Set-Cookie", rs->set_cookie, sizeof rs->set_cookie);
        char *semi = strchr(rs->set_cookie, ';');
        if (semi)
            *semi = '\0';
    }
    return len;
}

typedef struct trust_arg {
    ws_state *st;
    const char *machine;
} trust_arg;

static CURLcode on_ssl_ctx(CURL *curl, void *ctx, void *arg)
{
    (void)curl;
    trust_arg *t = arg;
    return ws_tls_trust_machine(ctx, t->st, t->machine, NULL) == 0 ? CURLE_OK : CURLE_SSL_CERTPROBLEM;
}

/* What one transfer allocates, freed after it. */
typedef struct transfer {
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *headers, *resolve;
    sink body;
    trust_arg trust;
    char logon_user[128], logon_password[128];
} transfer;

/* The request's method, body and headers. */
static void set_message(CURL *curl, const ws_http_request *rq, transfer *t)
{
    if (rq->method && strcmp(rq->method, "GET") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
    if (rq->body || (rq->method && strcmp(rq->method, "POST") == 0)) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    }
    if (rq->content_type) {
        char h[200];
        snprintf(h, sizeof h, "Content-Type: %s", rq->content_type);
        t->headers = curl_slist_append(t->headers, h);
    }
    t->headers = curl_slist_append(t->headers, "Expect:");
    for (const char *const *h = rq->headers; h && *h; h++)
        t->headers = curl_slist_append(t->headers, *h);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, t->headers);
    const char *user = rq->user, *password = rq->password;
    if (!user && rq->st && rq->from_machine &&
        ws_service_logon_get(rq->st, rq->from_machine, t->logon_user, sizeof t->logon_user, t->logon_password,
                             sizeof t->logon_password) == 0) {
        user = t->logon_user;
        password = t->logon_password;
    }
    if (user) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, password ? password : "");
    }
    if (rq->cookie)
        curl_easy_setopt(curl, CURLOPT_COOKIE, rq->cookie);
}

/* Where the request goes from and whom it trusts: the calling machine's address, its
 * names, its Root store. A new connection is verified as of now, every time. */
static void set_route(CURL *curl, const ws_http_request *rq, transfer *t)
{
    if (rq->resolve) {
        t->resolve = curl_slist_append(t->resolve, rq->resolve);
        curl_easy_setopt(curl, CURLOPT_RESOLVE, t->resolve);
    }
    if (rq->st && rq->from_machine) {
        ws_machine m;
        if (ws_machine_get(rq->st, rq->from_machine, &m, NULL) == 0) {
            char iface[80];
            snprintf(iface, sizeof iface, "host!%s", m.address);
            curl_easy_setopt(curl, CURLOPT_INTERFACE, iface);
        }
        /* Trust exactly what the calling machine trusts: no system CA bundle. */
        curl_easy_setopt(curl, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, &t->trust);
    }
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    /* No resumed session: a resumed handshake would skip the chain check (httpc.h). And
     * no CA store kept by libcurl (7.87 and later keep the first connection's store for
     * a handle's next ones, CURLOPT_CA_CACHE_TIMEOUT): a kept handle's new connection
     * would trust the Root store as it was. */
    curl_easy_setopt(curl, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(curl, CURLOPT_CA_CACHE_TIMEOUT, 0L);
}

/* One request over curl's connection (or a new one, closed or kept as the caller
 * decides): idle_s is how long a kept connection may have been idle to be reused (0:
 * libcurl's default). curl's options are cleared after, its connection kept. */
static int perform(CURL *curl, const ws_http_request *rq, long idle_s, ws_http_response *rs, ws_error *e)
{
    pthread_once(&curl_once, curl_init);
    memset(rs, 0, sizeof *rs);
    transfer *t = calloc(1, sizeof *t);
    if (!t)
        return ws_seterr(e, "cannot start an HTTP request");
    ws_buf_init(&t->body.body, WS_BUF_MAX_HTTP_BODY);
    t->trust = (trust_arg){rq->st, rq->from_machine};
    curl_easy_setopt(curl, CURLOPT_URL, rq->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(rq->timeout_ms ? rq->timeout_ms : 15000));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t->body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, rs);
    curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(curl, CURLOPT_MAXCONNECTS, 1L);
    if (idle_s)
        curl_easy_setopt(curl, CURLOPT_MAXAGE_CONN, idle_s);
    set_message(curl, rq, t);
    set_route(curl, rq, t);

    CURLcode rc = curl_easy_perform(curl);
    long opened = 0;
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &opened);
    int ret = 0;
    if (rc != CURLE_OK) {
        const char *why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
        ret = ws_seterr(e, "%s", t->body.overflow ? "the answer is too large" : why);
        ws_http_response_free(rs);
    } else {
        char *ct = NULL;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &rs->status);
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
        if (ct)
            snprintf(rs->content_type, sizeof rs->content_type, "%s", ct);
        rs->body = (unsigned char *)ws_buf_take(&t->body.body, &rs->body_len);
        if (!rs->body)
            abort();
    }
    rs->connections = (int)opened;
    /* Nothing of this transfer stays pointed at: the handle may wait in a pool. */
    curl_easy_reset(curl);
    ws_buf_free(&t->body.body);
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->resolve);
    OPENSSL_cleanse(t->logon_password, sizeof t->logon_password);
    free(t);
    return ret;
}

/* ---- the pool (httpc.h) ---- */

typedef struct idle_conn {
    CURL *curl;         /* an easy handle holding one open connection */
    char key[700];      /* calling machine | resolve entry | scheme://host:port */
    int64_t idle_since; /* monotonic ms */
} idle_conn;

static struct {
    pthread_mutex_t lock;
    idle_conn conn[WS_HTTP_POOL_MAX]; /* oldest first */
    int n;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void pool_key(const ws_http_request *rq, char *out, size_t n)
{
    const char *url = rq->url ? rq->url : "", *scheme = strstr(url, "://");
    const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
    int origin = path ? (int)(path - url) : (int)strlen(url);
    snprintf(out, n, "%s|%s|%.*s", rq->from_machine ? rq->from_machine : "", rq->resolve ? rq->resolve : "", origin,
             url);
}

/* Drops pool.conn[i] (under the lock), keeping the order. */
static CURL *pool_remove(int i)
{
    CURL *curl = pool.conn[i].curl;
    memmove(&pool.conn[i], &pool.conn[i + 1], (size_t)(pool.n - i - 1) * sizeof pool.conn[0]);
    pool.n--;
    return curl;
}

/* The most recently used idle connection for key (NULL: none); those idle too long are closed. */
static CURL *pool_take(const char *key)
{
    CURL *stale[WS_HTTP_POOL_MAX], *got = NULL;
    int nstale = 0;
    int64_t now = ws_mono_ms();
    pthread_mutex_lock(&pool.lock);
    for (int i = pool.n - 1; i >= 0; i--)
        if (now - pool.conn[i].idle_since >= WS_HTTP_POOL_IDLE_S * 1000LL)
            stale[nstale++] = pool_remove(i);
    for (int i = pool.n - 1; i >= 0 && !got; i--)
        if (strcmp(pool.conn[i].key, key) == 0)
            got = pool_remove(i);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < nstale; i++)
        curl_easy_cleanup(stale[i]);
    return got;
}

/* Keeps curl's connection for key's next request, or closes it when the pool is full. */
static void pool_give(const char *key, CURL *curl)
{
    pthread_mutex_lock(&pool.lock);
    int same = 0;
    for (int i = 0; i < pool.n; i++)
        same += strcmp(pool.conn[i].key, key) == 0;
    if (same < WS_HTTP_POOL_PER_SERVER && pool.n < WS_HTTP_POOL_MAX) {
        idle_conn *c = &pool.conn[pool.n++];
        c->curl = curl;
        snprintf(c->key, sizeof c->key, "%s", key);
        c->idle_since = ws_mono_ms();
        curl = NULL;
    }
    pthread_mutex_unlock(&pool.lock);
    if (curl)
        curl_easy_cleanup(curl);
}

int ws_http(const ws_http_request *rq, ws_http_response *rs, ws_error *e)
{
    pthread_once(&curl_once, curl_init);
    char key[700];
    if (rq->pooled)
        pool_key(rq, key, sizeof key);
    CURL *curl = rq->pooled ? pool_take(key) : NULL;
    if (!curl)
        curl = curl_easy_init();
    if (!curl) {
        memset(rs, 0, sizeof *rs);
        return ws_seterr(e, "cannot start an HTTP request");
    }
    int rc = perform(curl, rq, rq->pooled ? WS_HTTP_POOL_IDLE_S : 0, rs, e);
    if (rq->pooled && rc == 0)
        pool_give(key, curl);
    else
        curl_easy_cleanup(curl);
    return rc;
}

/* ---- a browser's connection (httpc.h) ---- */

struct ws_http_conn {
    CURL *curl;
};

ws_http_conn *ws_http_conn_open(void)
{
    pthread_once(&curl_once, curl_init);
    ws_http_conn *c = calloc(1, sizeof *c);
    if (c && !(c->curl = curl_easy_init())) {
        free(c);
        c = NULL;
    }
    return c;
}

int ws_http_on(ws_http_conn *c, const ws_http_request *rq, ws_http_response *rs, ws_error *e)
{
    return perform(c->curl, rq, WS_HTTP_BROWSER_IDLE_S, rs, e);
}

void ws_http_conn_close(ws_http_conn *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

void ws_http_response_free(ws_http_response *rs)
{
    free(rs->body);
    rs->body = NULL;
    rs->body_len = 0;
}
