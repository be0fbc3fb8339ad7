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

int ws_http(const ws_http_request *rq, ws_http_response *rs, ws_error *e)
{
    pthread_once(&curl_once, curl_init);
    memset(rs, 0, sizeof *rs);
    CURL *curl = curl_easy_init();
    if (!curl)
        return ws_seterr(e, "cannot start an HTTP request");
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL, *resolve = NULL;
    sink s = {.overflow = 0};
    ws_buf_init(&s.body, WS_BUF_MAX_HTTP_BODY);
    trust_arg trust = {rq->st, rq->from_machine};

    curl_easy_setopt(curl, CURLOPT_URL, rq->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(rq->timeout_ms ? rq->timeout_ms : 15000));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, rs);
    curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    if (rq->method && strcmp(rq->method, "GET") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
    if (rq->body || (rq->method && strcmp(rq->method, "POST") == 0)) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    }
    if (rq->content_type) {
        char h[200];
        snprintf(h, sizeof h, "Content-Type: %s", rq->content_type);
        headers = curl_slist_append(headers, h);
    }
    headers = curl_slist_append(headers, "Expect:");
    for (const char *const *h = rq->headers; h && *h; h++)
        headers = curl_slist_append(headers, *h);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    char logon_user[128], logon_password[128] = "";
    const char *user = rq->user, *password = rq->password;
    if (!user && rq->st && rq->from_machine &&
        ws_service_logon_get(rq->st, rq->from_machine, logon_user, sizeof logon_user, logon_password,
                             sizeof logon_password) == 0) {
        user = logon_user;
        password = logon_password;
    }
    if (user) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, password ? password : "");
    }
    if (rq->cookie)
        curl_easy_setopt(curl, CURLOPT_COOKIE, rq->cookie);
    if (rq->resolve) {
        resolve = curl_slist_append(resolve, rq->resolve);
        curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
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
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, &trust);
    }
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);

    CURLcode rc = curl_easy_perform(curl);
    int ret = 0;
    if (rc != CURLE_OK) {
        ret = ws_seterr(e, "%s", s.overflow ? "the answer is too large" : errbuf[0] ? errbuf : curl_easy_strerror(rc));
        ws_buf_free(&s.body);
        ws_http_response_free(rs);
    } else {
        char *ct = NULL;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &rs->status);
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
        if (ct)
            snprintf(rs->content_type, sizeof rs->content_type, "%s", ct);
        rs->body = (unsigned char *)ws_buf_take(&s.body, &rs->body_len);
        ws_buf_free(&s.body);
        if (!rs->body)
            abort();
    }
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
    curl_easy_cleanup(curl);
    OPENSSL_cleanse(logon_password, sizeof logon_password);
    return ret;
}

void ws_http_response_free(ws_http_response *rs)
{
    free(rs->body);
    rs->body = NULL;
    rs->body_len = 0;
}
