/* client: see client.h. Blocking sockets and OpenSSL: one client, one connection. */
#include "client/client.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/select.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/net.h"
#include "crypto/cert.h"
#include "lab/clock.h"
#include "wire/disconnect.h"
#include "base/framebuffer.h"
#include "wire/mcs.h"
#include "wire/rdppdu.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "wire/rdpfile.h"
#include "wire/rdpneg.h"
#include "wire/rdstls.h"
#include "lab/store.h"
#include "svc/machine_tls.h"
#include "wire/tsgu.h"
#include "wire/websocket.h"

#define IO_TIMEOUT_S 15

/* ---- the browser ---- */

int ws_lab_password(ws_state *st, const char *account, char *out, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/accounts.json", st->lab_dir);
    unsigned char *data;
    size_t len;
    if (ws_read_file(path, 1 << 20, &data, &len, NULL) != 0)
        return -1;
    cJSON *arr = cJSON_ParseWithLength((const char *)data, len);
    free(data);
    int rc = -1;
    cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(a, "account"));
        const char *pw = cJSON_GetStringValue(cJSON_GetObjectItem(a, "password"));
        if (name && pw && strcmp(name, account) == 0) {
            snprintf(out, n, "%s", pw);
            rc = 0;
        }
    }
    cJSON_Delete(arr);
    return rc;
}

typedef struct browser {
    ws_state *st;
    char base[300];
    char resolve[400];
    char cookie[256];
} browser;

static int browser_open(browser *b, ws_state *st, ws_error *e)
{
    memset(b, 0, sizeof *b);
    b->st = st;
    ws_machine portal;
    if (ws_machine_by_role(st, "portal", &portal, e) != 0)
        return -1;
    const char *name = portal.public_fqdn[0] ? portal.public_fqdn : portal.fqdn;
    char address[64];
    if (ws_lab_hosts_lookup(st->lab_dir, name, address, sizeof address) != 0)
        return ws_seterr(e, "the tenant's PC cannot resolve %s", name);
    snprintf(b->base, sizeof b->base, "https://%s:%d", name, portal.port);
    snprintf(b->resolve, sizeof b->resolve, "%s:%d:%s", name, portal.port, address);
    return 0;
}

static int browser_do(browser *b, const char *method, const char *path, const char *json, ws_http_response *rs,
                      ws_error *e)
{
    char url[600];
    snprintf(url, sizeof url, "%s%s", b->base, path);
    ws_http_request rq = {.method = method, .url = url, .body = json, .body_len = json ? strlen(json) : 0,
                          .content_type = json ? "application/json" : NULL, .resolve = b->resolve,
                          .cookie = b->cookie[0] ? b->cookie : NULL, .st = b->st, .from_machine = "client",
                          .timeout_ms = 60000};
    return ws_http(&rq, rs, e);
}

int ws_browser_get_console(ws_state *st, const char *tenant, const char *password, const char *vm,
                           ws_http_response *rs, ws_error *e)
{
    browser b;
    memset(rs, 0, sizeof *rs);
    if (browser_open(&b, st, e) != 0)
        return -1;
    cJSON *login = cJSON_CreateObject();
    cJSON_AddStringToObject(login, "user", tenant);
    cJSON_AddStringToObject(login, "password", password);
    char *body = cJSON_PrintUnformatted(login);
    cJSON_Delete(login);
    int rc = browser_do(&b, "POST", "/api/login", body, rs, e);
    cJSON_free(body);
    if (rc != 0 || rs->status != 200 || !rs->set_cookie[0])
        return rc;
    snprintf(b.cookie, sizeof b.cookie, "%s", rs->set_cookie);
    ws_http_response_free(rs);
    if (browser_do(&b, "GET", "/api/vms", NULL, rs, e) != 0 || rs->status != 200)
        return rs->body ? 0 : -1;
    cJSON *vms = cJSON_ParseWithLength((const char *)rs->body, rs->body_len), *v;
    char vm_id[64] = "";
    cJSON_ArrayForEach(v, vms)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(v, "name"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(v, "id"));
        if (name && id && (strcmp(name, vm) == 0 || strcasecmp(id, vm) == 0))
            snprintf(vm_id, sizeof vm_id, "%s", id);
    }
    cJSON_Delete(vms);
    ws_http_response_free(rs);
    /* A VM the tenant does not see is asked for all the same (it may be someone else's). */
    if (!vm_id[0])
        snprintf(vm_id, sizeof vm_id, "%.63s", vm);
    char path[200];
    snprintf(path, sizeof path, "/api/vms/%s/console", vm_id);
    return browser_do(&b, "POST", path, NULL, rs, e);
}

/* ---- hops ---- */

static void hop(ws_connect_result *r, const char *stage, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void hop(ws_connect_result *r, const char *stage, int ok, const char *fmt, ...)
{
    if (r->nhops >= WS_MAX_HOPS)
        return;
    ws_hop *h = &r->hops[r->nhops++];
    snprintf(h->stage, sizeof h->stage, "%s", stage);
    h->ok = ok;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->detail, sizeof h->detail, fmt, ap);
    va_end(ap);
    snprintf(r->stage, sizeof r->stage, "%s", stage);
    r->ok = ok;
    if (!ok)
        snprintf(r->message, sizeof r->message, "%s", h->detail);
}

static int fail(ws_connect_result *r, const char *stage, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(ws_connect_result *r, const char *stage, uint32_t code, const char *fmt, ...)
{
    char detail[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    hop(r, stage, 0, "%s", detail);
    if (code) {
        r->has_code = 1;
        r->code = code;
    }
    return -1;
}

static int tcp_connect_from(const char *src, const char *address, int port, ws_error *e)
{
    return ws_tcp_connect_from(src, address, port, IO_TIMEOUT_S * 1000, WS_TCP_NODELAY | WS_TCP_IO_TIMEOUT, e);
}

/* ---- the gateway link: MS-TSGU packets over a websocket or the legacy pair ---- */

typedef struct gwlink {
    SSL *out;  /* RDG_OUT_DATA: packets from the gateway (and to it, with a websocket) */
    SSL *in;   /* legacy RDG_IN_DATA: packets to the gateway */
    int out_fd, in_fd;
    int legacy;
    uint8_t *buf; /* bytes read from the gateway, not yet used */
    size_t len, cap;
    uint8_t *stream; /* the MS-TSGU byte stream (frame payloads) */
    size_t slen, scap;
} gwlink;

static void gl_free(gwlink *g)
{
    if (g->out)
        SSL_free(g->out);
    if (g->in)
        SSL_free(g->in);
    if (g->out_fd >= 0)
        close(g->out_fd);
    if (g->in_fd >= 0)
        close(g->in_fd);
    free(g->buf);
    free(g->stream);
    memset(g, 0, sizeof *g);
    g->out_fd = g->in_fd = -1;
}

static void grow(uint8_t **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    *p = realloc(*p, c);
    if (!*p)
        abort();
    *cap = c;
}

static int ssl_write_all(SSL *ssl, const void *data, size_t n)
{
    const uint8_t *p = data;
    while (n) {
        int w = SSL_write(ssl, p, (int)n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read more bytes from the OUT connection into g->buf. */
static int gl_fill(gwlink *g, ws_error *e)
{
    grow(&g->buf, &g->cap, g->len + 16384);
    int n = SSL_read(g->out, g->buf + g->len, (int)(g->cap - g->len));
    if (n <= 0) {
        ERR_clear_error();
        return ws_seterr(e, "the gateway closed the connection");
    }
    g->len += (size_t)n;
    return 0;
}

static void gl_take(gwlink *g, size_t n)
{
    memmove(g->buf, g->buf + n, g->len - n);
    g->len -= n;
}

/* An HTTP response head from the OUT (or given) connection: status code. */
static int read_head(gwlink *g, SSL *ssl, char *head, size_t n, ws_error *e)
{
    size_t got = 0;
    while (got + 1 < n) {
        char ch;
        int r = SSL_read(ssl, &ch, 1);
        if (r <= 0) {
            ERR_clear_error();
            return ws_seterr(e, "the gateway closed the connection during the HTTP answer");
        }
        head[got++] = ch;
        if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    head[got] = '\0';
    (void)g;
    int status = 0;
    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1)
        return ws_seterr(e, "the gateway's answer is not HTTP");
    return status;
}

static int gl_send(gwlink *g, const uint8_t *pkt, size_t n)
{
    if (g->legacy) {
        uint8_t *chunk = malloc(n + 24);
        if (!chunk)
            abort();
        int sl = snprintf((char *)chunk, 24, "%zX\r\n", n);
        memcpy(chunk + sl, pkt, n);
        memcpy(chunk + sl + n, "\r\n", 2);
        int rc = ssl_write_all(g->in, chunk, (size_t)sl + n + 2);
        free(chunk);
        return rc;
    }
    /* One frame, one TLS record: header and masked payload written together. */
    uint8_t mask[4];
    ws_random(mask, sizeof mask);
    uint8_t *frame = malloc(WS_WS_HEADER_MAX + n);
    if (!frame)
        abort();
    size_t hl = ws_ws_encode_header(WS_WS_OP_BINARY, n, mask, frame);
    memcpy(frame + hl, pkt, n);
    ws_ws_unmask(frame + hl, n, mask, 0);
    int rc = ssl_write_all(g->out, frame, hl + n);
    free(frame);
    return rc;
}

/* The next whole packet from the gateway into pkt (cap bytes); its length in *len. */
static int gl_recv(gwlink *g, uint8_t *pkt, size_t cap, size_t *len, ws_error *e)
{
    for (;;) {
        ws_tsgu_header h;
        int r = ws_tsgu_header_decode(g->stream, g->slen, &h, e);
        if (r < 0)
            return -1;
        if (r == 0 && g->slen >= h.length) {
            if (h.length > cap)
                return ws_seterr(e, "a packet too large");
            memcpy(pkt, g->stream, h.length);
            *len = h.length;
            memmove(g->stream, g->stream + h.length, g->slen - h.length);
            g->slen -= h.length;
            return 0;
        }
        if (g->legacy) { /* raw packets on the OUT connection */
            if (g->len == 0 && gl_fill(g, e) != 0)
                return -1;
            grow(&g->stream, &g->scap, g->slen + g->len);
            memcpy(g->stream + g->slen, g->buf, g->len);
            g->slen += g->len;
            g->len = 0;
            continue;
        }
        ws_ws_frame f;
        int fr = ws_ws_decode_header(g->buf, g->len, WS_TSGU_PACKET_MAX, &f, e);
        if (fr < 0)
            return -1;
        if (fr == 1 || g->len < f.header_len + f.payload_len) {
            if (gl_fill(g, e) != 0)
                return -1;
            continue;
        }
        if (f.masked)
            return ws_seterr(e, "the gateway sent a masked frame");
        const uint8_t *payload = g->buf + f.header_len;
        if (f.opcode == WS_WS_OP_BINARY || f.opcode == WS_WS_OP_CONTINUATION) {
            grow(&g->stream, &g->scap, g->slen + f.payload_len);
            memcpy(g->stream + g->slen, payload, f.payload_len);
            g->slen += f.payload_len;
        } else if (f.opcode == WS_WS_OP_PING) {
            uint8_t h2[WS_WS_HEADER_MAX], mask[4] = {0, 0, 0, 0};
            size_t hl = ws_ws_encode_header(WS_WS_OP_PONG, f.payload_len, mask, h2);
            ssl_write_all(g->out, h2, hl);
            ssl_write_all(g->out, payload, f.payload_len);
        } else if (f.opcode == WS_WS_OP_CLOSE) {
            return ws_seterr(e, "the gateway closed the websocket");
        }
        gl_take(g, f.header_len + (size_t)f.payload_len);
    }
}

/* ---- hops ---- */

/* The TLS verification failure of the gateway, as Remote Desktop Connection reports it. */
static uint32_t gateway_tls_code(long verify)
{
    switch (verify) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return WS_DISC_GATEWAY_NAME_MISMATCH;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_REVOKED: return WS_DISC_GATEWAY_CERT_EXPIRED;
    default: return WS_DISC_GATEWAY_UNTRUSTED;
    }
}

static SSL *tls_to(SSL_CTX *ctx, int fd, const char *name, long *verify, ws_error *e)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl) {
        ws_seterr(e, "cannot create TLS");
        return NULL;
    }
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, name);
    SSL_set1_host(ssl, name);
    if (SSL_connect(ssl) != 1) {
        *verify = SSL_get_verify_result(ssl);
        unsigned long code = ERR_get_error();
        char reason[200] = "";
        ERR_error_string_n(code, reason, sizeof reason);
        ERR_clear_error();
        ws_seterr(e, "%s", *verify != X509_V_OK ? X509_verify_cert_error_string(*verify) : reason);
        SSL_free(ssl);
        return NULL;
    }
    *verify = X509_V_OK;
    return ssl;
}

static int gateway_open(ws_state *st, gwlink *g, SSL_CTX *ctx, const char *gw_name, const char *gw_addr, int gw_port,
                        const char *client_addr, int legacy, ws_connect_result *r)
{
    ws_error e;
    char head[2048];
    long verify;
    g->legacy = legacy;
    g->out_fd = tcp_connect_from(client_addr, gw_addr, gw_port, &e);
    if (g->out_fd < 0)
        return fail(r, "gateway-tls", 0, "%s", e.msg);
    g->out = tls_to(ctx, g->out_fd, gw_name, &verify, &e);
    if (!g->out) {
        uint32_t code = verify != X509_V_OK ? gateway_tls_code(verify) : 0;
        char text[400] = "";
        if (code)
            ws_disconnect_text(code, gw_name, text, sizeof text);
        return fail(r, "gateway-tls", code, "%s%s(%s)", text, text[0] ? " " : "", e.msg);
    }
    (void)st;
    hop(r, "gateway-tls", 1, "TLS with %s:%d, certificate trusted and named %s", gw_name, gw_port, gw_name);

    char conn_id[40], key[17];
    ws_guid_new(conn_id);
    /* FreeRDP's key: 15 characters in 0x40-0x5F, hashed verbatim (REFERENCE.md section 7). */
    uint8_t raw[15];
    ws_random(raw, sizeof raw);
    for (int i = 0; i < 15; i++)
        key[i] = (char)(0x40 + (raw[i] & 0x1F));
    key[15] = '\0';
    int n = snprintf(head, sizeof head,
                     "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nCache-Control: no-cache\r\nPragma: no-cache\r\n"
                     "Accept: */*\r\nUser-Agent: MS-RDGateway/1.0\r\nHost: %s\r\n%sRDG-Connection-Id: {%s}\r\n"
                     "RDG-Auth-Scheme: PAA\r\nContent-Length: 0\r\n\r\n",
                     gw_name, legacy ? "" : "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-Websocket-Version: 13\r\n",
                     conn_id);
    if (!legacy)
        n += 0;
    char full[2300];
    if (!legacy) {
        /* Put the key in before the connection id, as FreeRDP writes it. */
        char *at = strstr(head, "RDG-Connection-Id");
        snprintf(full, sizeof full, "%.*sSec-Websocket-Key: %s\r\n%s", (int)(at - head), head, key, at);
    } else {
        snprintf(full, sizeof full, "%s", head);
    }
    if (ssl_write_all(g->out, full, strlen(full)) != 0)
        return fail(r, "gateway-auth", 0, "cannot send RDG_OUT_DATA");
    int status = read_head(g, g->out, head, sizeof head, &e);
    if (status < 0)
        return fail(r, "gateway-auth", 0, "%s", e.msg);
    if (!legacy) {
        char accept[29], want[64];
        ws_ws_accept_key(key, accept);
        snprintf(want, sizeof want, "Sec-WebSocket-Accept: %s", accept);
        if (status != 101 || !strcasestr(head, want))
            return fail(r, "gateway-auth", 0, "the gateway answered HTTP %d to the websocket upgrade", status);
    } else {
        if (status != 200)
            return fail(r, "gateway-auth", 0, "the gateway answered HTTP %d to RDG_OUT_DATA", status);
        uint8_t seed[10];
        for (size_t got = 0; got < sizeof seed;) {
            int m = SSL_read(g->out, seed + got, (int)(sizeof seed - got));
            if (m <= 0)
                return fail(r, "gateway-auth", 0, "no seed after RDG_OUT_DATA");
            got += (size_t)m;
        }
        g->in_fd = tcp_connect_from(client_addr, gw_addr, gw_port, &e);
        if (g->in_fd < 0)
            return fail(r, "gateway-auth", 0, "%s", e.msg);
        g->in = tls_to(ctx, g->in_fd, gw_name, &verify, &e);
        if (!g->in)
            return fail(r, "gateway-auth", 0, "RDG_IN_DATA: %s", e.msg);
        snprintf(full, sizeof full,
                 "RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\nCache-Control: no-cache\r\nPragma: no-cache\r\n"
                 "Accept: */*\r\nUser-Agent: MS-RDGateway/1.0\r\nHost: %s\r\nRDG-Connection-Id: {%s}\r\n"
                 "RDG-Auth-Scheme: PAA\r\nContent-Length: 0\r\n\r\n",
                 gw_name, conn_id);
        if (ssl_write_all(g->in, full, strlen(full)) != 0 || read_head(g, g->in, head, sizeof head, &e) != 200)
            return fail(r, "gateway-auth", 0, "the gateway refused RDG_IN_DATA");
        snprintf(full, sizeof full,
                 "RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\nCache-Control: no-cache\r\nPragma: no-cache\r\n"
                 "Accept: */*\r\nUser-Agent: MS-RDGateway/1.0\r\nHost: %s\r\nRDG-Connection-Id: {%s}\r\n"
                 "RDG-Auth-Scheme: PAA\r\nTransfer-Encoding: chunked\r\n\r\n",
                 gw_name, conn_id);
        if (ssl_write_all(g->in, full, strlen(full)) != 0)
            return fail(r, "gateway-auth", 0, "cannot send RDG_IN_DATA");
    }
    return 0;
}

static uint8_t pkt[WS_TSGU_PACKET_MAX];

static int tunnel_open(gwlink *g, const char *cookie, const char *resource, int port, int with_channel,
                       ws_connect_result *r)
{
    ws_error e;
    size_t n, len;
    ws_tsgu_handshake_request hs = {.ver_major = 1, .extended_auth = WS_TSGU_EXTAUTH_PAA};
    ws_tsgu_handshake_response hr;
    n = ws_tsgu_encode_handshake_request(&hs, pkt, sizeof pkt);
    if (gl_send(g, pkt, n) != 0 || gl_recv(g, pkt, sizeof pkt, &len, &e) != 0 ||
        ws_tsgu_decode_handshake_response(pkt, len, &hr, &e) != 0)
        return fail(r, "gateway-auth", 0, "handshake: %s", e.msg);
    if (hr.error_code)
        return fail(r, "gateway-auth", hr.error_code, "the gateway refused the handshake: 0x%08X", hr.error_code);
    static ws_tsgu_tunnel_create tc;
    memset(&tc, 0, sizeof tc);
    tc.caps = 0x0D;
    tc.fields_present = WS_TSGU_TUNNEL_CREATE_PAA_COOKIE;
    if (strlen(cookie) > WS_TSGU_COOKIE_MAX)
        return fail(r, "gateway-auth", WS_DISC_COOKIE_TOO_LARGE, "%s",
                    ws_disconnect_text(WS_DISC_COOKIE_TOO_LARGE, NULL, NULL, 0));
    snprintf(tc.cookie, sizeof tc.cookie, "%s", cookie);
    n = ws_tsgu_encode_tunnel_create(&tc, pkt, sizeof pkt);
    ws_tsgu_tunnel_response tr;
    if (n == 0 || gl_send(g, pkt, n) != 0 || gl_recv(g, pkt, sizeof pkt, &len, &e) != 0 ||
        ws_tsgu_decode_tunnel_response(pkt, len, &tr, &e) != 0)
        return fail(r, "gateway-auth", 0, "tunnel: %s", e.msg);
    if (tr.status_code) {
        const char *name = ws_hresult_name(tr.status_code);
        uint32_t code = tr.status_code == WS_E_PROXY_COOKIE_BADPACKET ? WS_DISC_COOKIE_INVALID : WS_DISC_COOKIE_REJECTED;
        return fail(r, "gateway-auth", code, "%s (Tunnel creation error %s, 0x%08X)",
                    ws_disconnect_text(code, NULL, NULL, 0), name ? name : "?", tr.status_code);
    }
    ws_tsgu_tunnel_auth ta = {.fields_present = 0};
    snprintf(ta.client_name, sizeof ta.client_name, "CLIENT");
    ws_tsgu_tunnel_auth_response ar;
    n = ws_tsgu_encode_tunnel_auth(&ta, pkt, sizeof pkt);
    if (gl_send(g, pkt, n) != 0 || gl_recv(g, pkt, sizeof pkt, &len, &e) != 0 ||
        ws_tsgu_decode_tunnel_auth_response(pkt, len, &ar, &e) != 0)
        return fail(r, "gateway-auth", 0, "tunnel authorization: %s", e.msg);
    if (ar.error_code)
        return fail(r, "gateway-auth", ar.error_code, "the gateway refused the tunnel authorization: 0x%08X",
                    ar.error_code);
    hop(r, "gateway-auth", 1, "tunnel %u created with the HostToken as PAA cookie", tr.tunnel_id);
    if (!with_channel)
        return 0;

    ws_tsgu_channel_create cc = {.num_resources = 1, .port = (uint16_t)port, .protocol = 3};
    snprintf(cc.resource, sizeof cc.resource, "%s", resource);
    ws_tsgu_channel_response cr;
    n = ws_tsgu_encode_channel_create(&cc, pkt, sizeof pkt);
    if (n == 0 || gl_send(g, pkt, n) != 0 || gl_recv(g, pkt, sizeof pkt, &len, &e) != 0 ||
        ws_tsgu_decode_channel_response(pkt, len, &cr, &e) != 0)
        return fail(r, "channel", 0, "channel: %s", e.msg);
    if (cr.error_code) {
        const char *name = ws_hresult_name(cr.error_code);
        return fail(r, "channel", cr.error_code, "the gateway refused the channel to %s:%d: %s (0x%08X)", resource,
                    port, name ? name : "error", cr.error_code);
    }
    hop(r, "channel", 1, "channel %u to %s:%d", cr.channel_id, resource, port);
    return 0;
}

/* ---- the host, through the tunnel ---- */

typedef struct hostlink {
    gwlink *g;      /* through the gateway's channel, or */
    int direct_fd;  /* straight to the host (the administrator's path) */
    uint8_t *in; /* bytes from the host, not yet used */
    size_t len, cap;
    int closed;
} hostlink;

static int host_send(hostlink *h, const uint8_t *data, size_t n)
{
    if (!h->g) {
        while (n) {
            ssize_t w = write(h->direct_fd, data, n);
            if (w <= 0)
                return -1;
            data += w;
            n -= (size_t)w;
        }
        return 0;
    }
    while (n) {
        size_t part = n > 65535 ? 65535 : n;
        size_t m = ws_tsgu_encode_data(data, part, pkt, sizeof pkt);
        if (m == 0 || gl_send(h->g, pkt, m) != 0)
            return -1;
        data += part;
        n -= part;
    }
    return 0;
}

/* More bytes from the host (DATA payloads); -1 when the channel closed. */
static int host_fill(hostlink *h, ws_error *e)
{
    if (!h->g) {
        grow(&h->in, &h->cap, h->len + 16384);
        ssize_t n = read(h->direct_fd, h->in + h->len, h->cap - h->len);
        if (n <= 0) {
            h->closed = 1;
            return ws_seterr(e, "the host closed the connection");
        }
        h->len += (size_t)n;
        return 0;
    }
    for (;;) {
        size_t len;
        if (gl_recv(h->g, pkt, sizeof pkt, &len, e) != 0)
            return -1;
        ws_tsgu_header hd;
        ws_tsgu_header_decode(pkt, len, &hd, e);
        if (hd.type == WS_TSGU_DATA) {
            ws_tsgu_data d;
            if (ws_tsgu_decode_data(pkt, len, &d, e) != 0)
                return -1;
            grow(&h->in, &h->cap, h->len + d.len);
            memcpy(h->in + h->len, d.data, d.len);
            h->len += d.len;
            return 0;
        }
        if (hd.type == WS_TSGU_CLOSE_CHANNEL) {
            size_t m = ws_tsgu_encode_close_channel(WS_TSGU_CLOSE_CHANNEL_RESPONSE, 0, pkt, sizeof pkt);
            gl_send(h->g, pkt, m);
            h->closed = 1;
            return ws_seterr(e, "the host closed the connection");
        }
        if (hd.type == WS_TSGU_KEEPALIVE) {
            size_t m = ws_tsgu_encode_empty(WS_TSGU_KEEPALIVE, pkt, sizeof pkt);
            gl_send(h->g, pkt, m);
        }
    }
}

/* TLS with the host over the tunnel: OpenSSL reads and writes memory BIOs, whose
 * bytes travel in DATA packets. */
typedef struct hosttls {
    SSL *ssl;
    BIO *rbio, *wbio;
    hostlink *h;
} hosttls;

static int ht_pump_out(hosttls *t)
{
    uint8_t buf[16384];
    int n;
    while ((n = BIO_read(t->wbio, buf, sizeof buf)) > 0)
        if (host_send(t->h, buf, (size_t)n) != 0)
            return -1;
    return 0;
}

static int ht_pump_in(hosttls *t, ws_error *e)
{
    if (t->h->len == 0 && host_fill(t->h, e) != 0)
        return -1;
    BIO_write(t->rbio, t->h->in, (int)t->h->len);
    t->h->len = 0;
    return 0;
}

static int ht_read(hosttls *t, uint8_t *buf, size_t n, ws_error *e)
{
    size_t got = 0;
    while (got < n) {
        int r = SSL_read(t->ssl, buf + got, (int)(n - got));
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        int err = SSL_get_error(t->ssl, r);
        ERR_clear_error();
        if (err != SSL_ERROR_WANT_READ)
            return ws_seterr(e, "the host closed the TLS connection");
        if (ht_pump_out(t) != 0 || ht_pump_in(t, e) != 0)
            return -1;
    }
    return 0;
}

static int ht_write(hosttls *t, const uint8_t *buf, size_t n)
{
    if (SSL_write(t->ssl, buf, (int)n) != (int)n)
        return -1;
    return ht_pump_out(t);
}

/* A whole TPKT from the host stream (before TLS). */
static int host_tpkt(hostlink *h, uint8_t *out, size_t cap, size_t *len, ws_error *e)
{
    for (;;) {
        long tl = ws_tpkt_length(h->in, h->len, cap);
        if (tl < 0)
            return ws_seterr(e, "the host's answer is not a TPKT");
        if (tl > 0 && h->len >= (size_t)tl) {
            memcpy(out, h->in, (size_t)tl);
            *len = (size_t)tl;
            memmove(h->in, h->in + tl, h->len - (size_t)tl);
            h->len -= (size_t)tl;
            return 0;
        }
        if (host_fill(h, e) != 0)
            return -1;
    }
}

/* ---- the console: the RDP connection sequence (REFERENCE.md section 8) ---- */

#define PDU_BUF 70000

/* The next PDU from the host inside TLS: a TPKT (slow-path) or a fast-path PDU. */
static int console_read(hosttls *t, uint8_t *buf, size_t cap, size_t *len, int *fastpath, ws_error *e)
{
    if (ht_read(t, buf, 2, e) != 0)
        return -1;
    if (buf[0] == 0x03) {
        if (ht_read(t, buf + 2, 2, e) != 0)
            return -1;
        long n = ws_tpkt_length(buf, 4, cap);
        if (n <= 0)
            return ws_seterr(e, "a bad TPKT from the host");
        *fastpath = 0;
        *len = (size_t)n;
        return ht_read(t, buf + 4, (size_t)n - 4, e);
    }
    size_t have = 2;
    long n = ws_pdu_fastpath_length(buf, have);
    if (n == 0) {
        if (ht_read(t, buf + 2, 1, e) != 0)
            return -1;
        have = 3;
        n = ws_pdu_fastpath_length(buf, have);
    }
    if (n <= 0 || (size_t)n > cap)
        return ws_seterr(e, "a bad fast-path PDU from the host");
    *fastpath = 1;
    *len = (size_t)n;
    return ht_read(t, buf + have, (size_t)n - have, e);
}

/* Whether the host has sent something (decrypted bytes pending, or the transport readable). */
static int h_readable(hosttls *t, struct timeval *tv)
{
    if (SSL_pending(t->ssl) > 0 || BIO_ctrl_pending(t->rbio) > 0 || t->h->len > 0)
        return 1;
    int fd = t->h->g ? (t->h->g->legacy ? SSL_get_fd(t->h->g->out) : SSL_get_fd(t->h->g->out)) : t->h->direct_fd;
    if (t->h->g && (SSL_pending(t->h->g->out) > 0 || t->h->g->len > 0 || t->h->g->slen > 0))
        return 1;
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(fd, &rs);
    return select(fd + 1, &rs, NULL, NULL, tv) > 0;
}

/* Send an MCS Send Data Request on the I/O channel with a slow-path PDU. */
static int console_send(hosttls *t, uint16_t user, const uint8_t *pdu, size_t n)
{
    static uint8_t out[PDU_BUF];
    ws_mcs_send_data sd = {.initiator = user, .channel_id = WS_MCS_GLOBAL_CHANNEL_ID,
                           .flags = WS_MCS_DATA_PRIORITY_FLAGS, .data = pdu, .len = n};
    size_t m = ws_mcs_send_data_encode_tpkt(WS_MCS_SEND_DATA_REQUEST, &sd, out, sizeof out);
    return m ? ht_write(t, out, m) : -1;
}

static int console_send_domain(hosttls *t, const uint8_t *pdu, size_t n)
{
    uint8_t out[256];
    size_t m = ws_x224_data_encode(pdu, n, out, sizeof out);
    return m ? ht_write(t, out, m) : -1;
}

/* The MCS payload of a slow-path PDU from the host: a Send Data Indication's userData. */
static int console_indication(const uint8_t *tpkt, size_t len, ws_mcs_send_data *sd, int *ultimatum, ws_error *e)
{
    const uint8_t *payload;
    size_t n;
    *ultimatum = 0;
    if (ws_x224_data_decode(tpkt, len, &payload, &n, e) != 0)
        return -1;
    int type = ws_mcs_domain_pdu_type(payload, n);
    if (type == WS_MCS_DISCONNECT_PROVIDER_ULTIMATUM) {
        *ultimatum = 1;
        return ws_seterr(e, "the host ended the session (Disconnect Provider Ultimatum)");
    }
    return ws_mcs_send_data_decode(WS_MCS_SEND_DATA_INDICATION, payload, n, sd, e);
}

static int console_hops(hosttls *t, uint32_t selected, const char *domain, const char *user, const char *password,
                        const ws_connect_opts *o, ws_connect_result *r)
{
    static uint8_t buf[PDU_BUF], out[PDU_BUF];
    ws_error e;
    size_t len, n;
    int fastpath, ultimatum;
    const char *stage = "console";

    /* MCS Connect-Initial with the client's blocks, as FreeRDP 2.11 sends them. */
    static ws_gcc_client_data cd;
    static ws_mcs_connect_initial ci;
    ws_gcc_client_data_freerdp(&cd, 1024, 768, "TENANTPC", selected);
    ws_mcs_connect_initial_init(&ci, &cd);
    n = ws_mcs_connect_initial_encode_tpkt(&ci, out, sizeof out);
    static ws_mcs_connect_response cr;
    const uint8_t *payload;
    size_t plen;
    if (!n || ht_write(t, out, n) != 0 || console_read(t, buf, sizeof buf, &len, &fastpath, &e) != 0 || fastpath ||
        ws_x224_data_decode(buf, len, &payload, &plen, &e) != 0 ||
        ws_mcs_connect_response_decode(payload, plen, &cr, &e) != 0)
        return fail(r, stage, 0, "MCS connect: %s", fastpath ? "a fast-path PDU too early" : e.msg);
    if (cr.result != WS_MCS_RESULT_SUCCESSFUL)
        return fail(r, stage, cr.result, "the host refused the MCS connection (result %u)", cr.result);

    /* Erect Domain, Attach User, Channel Joins (the user channel, then the I/O channel). */
    ws_mcs_erect_domain ed = {0, 0};
    uint8_t dom[64];
    n = ws_mcs_erect_domain_encode(&ed, dom, sizeof dom);
    if (!n || console_send_domain(t, dom, n) != 0)
        return fail(r, stage, 0, "cannot send Erect Domain");
    n = ws_mcs_attach_user_request_encode(dom, sizeof dom);
    ws_mcs_attach_user_confirm auc;
    if (!n || console_send_domain(t, dom, n) != 0 || console_read(t, buf, sizeof buf, &len, &fastpath, &e) != 0 ||
        ws_x224_data_decode(buf, len, &payload, &plen, &e) != 0 ||
        ws_mcs_attach_user_confirm_decode(payload, plen, &auc, &e) != 0)
        return fail(r, stage, 0, "MCS attach user: %s", e.msg);
    uint16_t user_id = auc.initiator;
    uint16_t channels[2] = {user_id, WS_MCS_GLOBAL_CHANNEL_ID};
    for (int i = 0; i < 2; i++) {
        ws_mcs_channel_join_request jr = {.initiator = user_id, .channel_id = channels[i]};
        ws_mcs_channel_join_confirm jc;
        n = ws_mcs_channel_join_request_encode(&jr, dom, sizeof dom);
        if (!n || console_send_domain(t, dom, n) != 0 || console_read(t, buf, sizeof buf, &len, &fastpath, &e) != 0 ||
            ws_x224_data_decode(buf, len, &payload, &plen, &e) != 0 ||
            ws_mcs_channel_join_confirm_decode(payload, plen, &jc, &e) != 0)
            return fail(r, stage, 0, "MCS channel join %u: %s", channels[i], e.msg);
        if (jc.result != 0)
            return fail(r, stage, jc.result, "the host refused to join channel %u", channels[i]);
    }

    /* Client Info: the administrator's credentials, or none with a VMToken. */
    static ws_pdu_client_info info;
    memset(&info, 0, sizeof info);
    info.flags = WS_PDU_INFO_MOUSE | WS_PDU_INFO_UNICODE | WS_PDU_INFO_LOGONNOTIFY | WS_PDU_INFO_DISABLECTRLALTDEL;
    snprintf(info.domain, sizeof info.domain, "%s", domain ? domain : "");
    snprintf(info.user, sizeof info.user, "%s", user ? user : "");
    snprintf(info.password, sizeof info.password, "%s", password ? password : "");
    n = ws_pdu_encode_client_info(&info, out, sizeof out);
    if (!n || console_send(t, user_id, out, n) != 0)
        return fail(r, stage, 0, "cannot send the Client Info PDU");

    /* Licensing, then Demand Active; a Set Error Info may come instead. */
    int licensed = 0;
    static ws_pdu_demand_active da;
    uint32_t error_info = 0;
    for (;;) {
        ws_mcs_send_data sd;
        if (console_read(t, buf, sizeof buf, &len, &fastpath, &e) != 0 || fastpath ||
            console_indication(buf, len, &sd, &ultimatum, &e) != 0) {
            if (error_info)
                return fail(r, stage, error_info, "the host refused the session: %s (0x%08X)",
                            ws_pdu_errinfo_name(error_info), error_info);
            return fail(r, stage, 0, "before the Demand Active: %s", fastpath ? "a fast-path PDU" : e.msg);
        }
        if (!licensed) {
            ws_pdu_license lic;
            if (ws_pdu_decode_license(sd.data, sd.len, &lic, &e) == 0) {
                if (!lic.valid_client)
                    return fail(r, stage, 0, "the host asks for licensing this client does not do");
                licensed = 1;
                continue;
            }
        }
        ws_pdu_hdr hdr;
        if (ws_pdu_peek(sd.data, sd.len, &hdr, &e) != 0)
            return fail(r, stage, 0, "%s", e.msg);
        if ((hdr.pdu_type & 0xF) == WS_PDU_TYPE_DATA && hdr.pdu_type2 == 0x2F) {
            ws_pdu_decode_set_error_info(sd.data, sd.len, &hdr, &error_info, &e);
            continue;
        }
        if ((hdr.pdu_type & 0xF) == WS_PDU_TYPE_DEMANDACTIVE) {
            if (ws_pdu_decode_demand_active(sd.data, sd.len, &hdr, &da, &e) != 0)
                return fail(r, stage, 0, "Demand Active: %s", e.msg);
            break;
        }
    }
    int width = da.caps.desktop_width, height = da.caps.desktop_height;
    ws_pdu_share share = {.pdu_source = user_id, .share_id = da.share_id};
    static ws_pdu_confirm_active ca;
    memset(&ca, 0, sizeof ca);
    ca.share_id = da.share_id;
    ca.originator_id = WS_PDU_SERVER_CHANNEL_ID;
    snprintf(ca.source_descriptor, sizeof ca.source_descriptor, "MSTSC");
    ws_pdu_caps_client_default(&ca.caps, (uint16_t)width, (uint16_t)height);
    n = ws_pdu_encode_confirm_active(user_id, &ca, out, sizeof out);
    if (!n || console_send(t, user_id, out, n) != 0)
        return fail(r, stage, 0, "cannot send the Confirm Active PDU");
    ws_pdu_synchronize sync = {.message_type = WS_PDU_SYNCMSGTYPE_SYNC, .target_user = WS_PDU_SERVER_CHANNEL_ID};
    ws_pdu_control coop = {.action = WS_PDU_CTRLACTION_COOPERATE}, req = {.action = WS_PDU_CTRLACTION_REQUEST_CONTROL};
    ws_pdu_font fl = {.flags = WS_PDU_FONTLIST_FIRST | WS_PDU_FONTLIST_LAST, .entry_size = 0x0032};
    if (!(n = ws_pdu_encode_synchronize(&share, &sync, out, sizeof out)) || console_send(t, user_id, out, n) != 0 ||
        !(n = ws_pdu_encode_control(&share, &coop, out, sizeof out)) || console_send(t, user_id, out, n) != 0 ||
        !(n = ws_pdu_encode_control(&share, &req, out, sizeof out)) || console_send(t, user_id, out, n) != 0 ||
        !(n = ws_pdu_encode_font_list(&share, &fl, out, sizeof out)) || console_send(t, user_id, out, n) != 0)
        return fail(r, stage, 0, "cannot send the finalization PDUs");

    /* The first frame: bitmap updates until every pixel has been drawn once. */
    ws_frame frame;
    if (width <= 0 || height <= 0 || ws_frame_init(&frame, width, height) != 0)
        return fail(r, stage, 0, "the host announced a desktop of %dx%d", width, height);
    uint8_t *drawn = calloc((size_t)width * (size_t)height, 1);
    size_t covered = 0, total = (size_t)width * (size_t)height;
    int granted = 0, font_map = 0, rc = -1;
    static ws_pdu_bitmap_update up;
    while (covered < total) {
        ws_mcs_send_data sd;
        int got_update = 0;
        if (console_read(t, buf, sizeof buf, &len, &fastpath, &e) != 0) {
            fail(r, stage, error_info, "%s%s", error_info ? ws_pdu_errinfo_name(error_info) : "",
                 error_info ? ": the host ended the session" : e.msg);
            goto out;
        }
        if (fastpath) {
            if (ws_pdu_decode_fastpath_update(buf, len, &up, &e) != 0) {
                fail(r, stage, 0, "fast-path update: %s", e.msg);
                goto out;
            }
            got_update = 1;
        } else {
            if (console_indication(buf, len, &sd, &ultimatum, &e) != 0) {
                fail(r, stage, error_info, "%s", error_info ? ws_pdu_errinfo_name(error_info) : e.msg);
                goto out;
            }
            ws_pdu_hdr hdr;
            if (ws_pdu_peek(sd.data, sd.len, &hdr, &e) != 0) {
                fail(r, stage, 0, "%s", e.msg);
                goto out;
            }
            if ((hdr.pdu_type & 0xF) != WS_PDU_TYPE_DATA)
                continue;
            switch (hdr.pdu_type2) {
            case 0x14: {
                ws_pdu_control c;
                if (ws_pdu_decode_control(sd.data, sd.len, &hdr, &c, &e) == 0 &&
                    c.action == WS_PDU_CTRLACTION_GRANTED_CONTROL)
                    granted = 1;
                break;
            }
            case 0x28: font_map = 1; break;
            case 0x2F: ws_pdu_decode_set_error_info(sd.data, sd.len, &hdr, &error_info, &e); break;
            case 0x02:
                if (ws_pdu_decode_update_bitmap(sd.data, sd.len, &hdr, &up, &e) != 0) {
                    fail(r, stage, 0, "bitmap update: %s", e.msg);
                    goto out;
                }
                got_update = 1;
                break;
            default: break;
            }
        }
        if (!got_update)
            continue;
        for (int i = 0; i < up.count; i++) {
            const ws_pdu_bitmap_rect *rect = &up.rects[i];
            ws_pdu_bitmap_blit(rect, frame.bgrx, (size_t)width * 4, (unsigned)width, (unsigned)height);
            for (int y = rect->top; y <= rect->bottom && y < height; y++)
                for (int x = rect->left; x <= rect->right && x < width; x++)
                    if (!drawn[(size_t)y * (size_t)width + (size_t)x]) {
                        drawn[(size_t)y * (size_t)width + (size_t)x] = 1;
                        covered++;
                    }
        }
    }
    /* Typed text goes as fast-path Unicode events; the host answers with a new frame. */
    int typed = 0, ended = 0;
    if (o->type_text && *o->type_text) {
        static ws_pdu_input in;
        memset(&in, 0, sizeof in);
        for (const char *p = o->type_text; *p && in.count < WS_PDU_INPUT_MAX; p++) {
            in.events[in.count].type = WS_PDU_INPUT_UNICODE;
            in.events[in.count].code = (uint8_t)*p;
            in.count++;
        }
        n = ws_pdu_encode_fastpath_input(&in, out, sizeof out);
        if (!n || ht_write(t, out, n) != 0) {
            fail(r, stage, 0, "cannot send the typed keys");
            goto out;
        }
        typed = 1;
    }
    /* Keep the session for a while (typed keys, or to see it taken over), drawing what comes. */
    int64_t until = ws_mono_ms() + (typed ? 3000 : 0) + (int64_t)o->hold_seconds * 1000;
    int64_t quiet_since = ws_mono_ms();
    while (ws_mono_ms() < until) {
        if (typed && !o->hold_seconds && ws_mono_ms() - quiet_since > 500 && covered == total)
            break; /* the typed keys' frame has come and gone quiet */
        struct timeval tv = {0, 200000};
        if (!h_readable(t, &tv))
            continue;
        ws_mcs_send_data sd;
        if (console_read(t, buf, sizeof buf, &len, &fastpath, &e) != 0) {
            ended = 1;
            break;
        }
        int got = 0;
        if (fastpath) {
            got = ws_pdu_decode_fastpath_update(buf, len, &up, &e) == 0;
        } else if (console_indication(buf, len, &sd, &ultimatum, &e) == 0) {
            ws_pdu_hdr hdr;
            if (ws_pdu_peek(sd.data, sd.len, &hdr, &e) == 0 && (hdr.pdu_type & 0xF) == WS_PDU_TYPE_DATA) {
                if (hdr.pdu_type2 == 0x2F)
                    ws_pdu_decode_set_error_info(sd.data, sd.len, &hdr, &error_info, &e);
                else if (hdr.pdu_type2 == 0x02)
                    got = ws_pdu_decode_update_bitmap(sd.data, sd.len, &hdr, &up, &e) == 0;
            }
        } else if (ultimatum) {
            ended = 1;
            break;
        }
        for (int i = 0; got && i < up.count; i++)
            ws_pdu_bitmap_blit(&up.rects[i], frame.bgrx, (size_t)width * 4, (unsigned)width, (unsigned)height);
        if (got)
            quiet_since = ws_mono_ms();
    }
    if (o->screenshot && ws_frame_write_ppm(&frame, o->screenshot, &e) != 0) {
        fail(r, stage, 0, "%s", e.msg);
        goto out;
    }
    if (ended || error_info) {
        fail(r, stage, error_info, "the session ended%s%s", error_info ? ": " : "",
             error_info ? ws_pdu_errinfo_name(error_info) : "");
        goto out;
    }
    hop(r, stage, 1, "the console of %dx%d pixels is on screen%s%s%s%s", width, height,
        granted && font_map ? " (control granted, font map received)" : "", typed ? "; typed keys sent" : "",
        o->screenshot ? "; saved to " : "", o->screenshot ? o->screenshot : "");
    rc = 0;
out:
    free(drawn);
    ws_frame_free(&frame);
    return rc;
}

static int host_hops(ws_state *st, gwlink *g, const ws_rdp_file *f, const ws_connect_opts *o, ws_connect_result *r)
{
    ws_error e;
    const char *full_address = ws_rdp_get(f, "full address");
    const char *pcb = ws_rdp_get(f, "pcb");
    const char *token = ws_rdp_get(f, "endpointfedauth");
    hostlink h = {.g = g, .direct_fd = o->direct_fd};
    hosttls t = {0};
    int rc = -1;
    uint8_t first[2048];
    size_t n = ws_pcb_encode(pcb ? pcb : "", first, sizeof first);
    ws_x224_cr cr = {.has_neg = 1,
                     .requested_protocols = o->no_rdstls ? WS_PROTOCOL_SSL : WS_PROTOCOL_RDSTLS | WS_PROTOCOL_SSL};
    size_t m = n ? ws_x224_cr_encode(&cr, first + n, sizeof first - n) : 0;
    /* The pre-connection PDU and the Connection Request go in one DATA packet. */
    if (!n || !m || host_send(&h, first, n + m) != 0) {
        fail(r, "host-tls", 0, "cannot send the pre-connection PDU");
        goto out;
    }
    uint8_t tpkt[1024];
    size_t tl = 0;
    ws_x224_cc cc;
    if (host_tpkt(&h, tpkt, sizeof tpkt, &tl, &e) != 0 || ws_x224_cc_decode(tpkt, tl, &cc, &e) != 0) {
        fail(r, "host-tls", 0, "no Connection Confirm from the host: %s", e.msg);
        goto out;
    }
    if (!cc.has_neg || cc.neg_type != WS_NEG_TYPE_RSP) {
        fail(r, "host-tls", cc.value, "the host refused the security negotiation (failure code 0x%08X)", cc.value);
        goto out;
    }
    SSL_CTX *ctx = ws_tls_client_ctx(st, "client", &e);
    if (!ctx) {
        fail(r, "host-tls", 0, "%s", e.msg);
        goto out;
    }
    t.ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);
    t.rbio = BIO_new(BIO_s_mem());
    t.wbio = BIO_new(BIO_s_mem());
    t.h = &h;
    SSL_set_bio(t.ssl, t.rbio, t.wbio);
    SSL_set_connect_state(t.ssl);
    struct in_addr ip4;
    if (inet_pton(AF_INET, full_address, &ip4) == 1)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t.ssl), full_address);
    else
        SSL_set1_host(t.ssl, full_address);
    for (;;) {
        int hr = SSL_do_handshake(t.ssl);
        if (hr == 1)
            break;
        int err = SSL_get_error(t.ssl, hr);
        if (err == SSL_ERROR_WANT_READ) {
            if (ht_pump_out(&t) != 0 || ht_pump_in(&t, &e) != 0) {
                fail(r, "host-tls", 0, "TLS with the host: %s", e.msg);
                goto out;
            }
            continue;
        }
        long verify = SSL_get_verify_result(t.ssl);
        ERR_clear_error();
        ht_pump_out(&t);
        if (verify != X509_V_OK) {
            fail(r, "host-tls", WS_DISC_HOST_AUTH, "%s (%s: the host's certificate, for '%s')",
                 ws_disconnect_text(WS_DISC_HOST_AUTH, NULL, NULL, 0), X509_verify_cert_error_string(verify),
                 full_address);
            goto out;
        }
        fail(r, "host-tls", 0, "the TLS handshake with the host failed");
        goto out;
    }
    if (cc.value != WS_PROTOCOL_RDSTLS) {
        hop(r, "host-tls", 1, "TLS with %s (the host selected TLS without RDSTLS)", full_address);
        /* Without RDSTLS there is no VMToken to hand over: only credentials in the Client Info
         * (the administrator's path); the host decides. */
        char domain[128] = "", user[128] = "";
        if (o->admin_user) {
            const char *slash = strchr(o->admin_user, '\\');
            if (slash) {
                snprintf(domain, sizeof domain, "%.*s", (int)(slash - o->admin_user), o->admin_user);
                snprintf(user, sizeof user, "%s", slash + 1);
            } else {
                snprintf(user, sizeof user, "%s", o->admin_user);
            }
        }
        if (console_hops(&t, cc.value, domain, user, o->admin_password, o, r) != 0) {
            if (!o->admin_user && strcmp(r->stage, "console") == 0) {
                /* The tenant's client without RDSTLS: report it where Remote Desktop Connection does. */
                snprintf(r->stage, sizeof r->stage, "host-auth");
                snprintf(r->hops[r->nhops - 1].stage, sizeof r->hops[r->nhops - 1].stage, "host-auth");
            }
            goto out;
        }
        rc = 0;
        goto out;
    }
    hop(r, "host-tls", 1, "pre-connection PDU for %s, RDSTLS selected, TLS with %s", pcb ? pcb : "", full_address);

    uint8_t caps_pdu[8];
    ws_rdstls_capabilities caps;
    if (ht_read(&t, caps_pdu, sizeof caps_pdu, &e) != 0 ||
        ws_rdstls_decode_capabilities(caps_pdu, sizeof caps_pdu, &caps, &e) != 0) {
        fail(r, "host-auth", 0, "RDSTLS capabilities: %s", e.msg);
        goto out;
    }
    static ws_rdstls_auth_request ar;
    memset(&ar, 0, sizeof ar);
    ar.version = WS_RDSTLS_VERSION_2;
    ar.data_type = WS_RDSTLS_DATA_FEDAUTH_TOKEN;
    snprintf(ar.token, sizeof ar.token, "%s", token ? token : "");
    static uint8_t req[20000];
    size_t rl = ws_rdstls_encode_auth_request(&ar, req, sizeof req);
    uint8_t rsp_pdu[10];
    ws_rdstls_auth_response rsp;
    if (rl == 0 || ht_write(&t, req, rl) != 0 || ht_read(&t, rsp_pdu, sizeof rsp_pdu, &e) != 0 ||
        ws_rdstls_decode_auth_response(rsp_pdu, sizeof rsp_pdu, &rsp, &e) != 0) {
        fail(r, "host-auth", 0, "RDSTLS authentication: %s", e.msg);
        goto out;
    }
    if (rsp.result_code != WS_RDSTLS_SUCCESS) {
        fail(r, "host-auth", rsp.result_code, "the host refused the VMToken: %s (0x%X)",
             ws_rdstls_result_name(rsp.result_code), rsp.result_code);
        goto out;
    }
    hop(r, "host-auth", 1, "the host accepted the VMToken (RDSTLS version %u answer)", rsp.version);
    if (console_hops(&t, cc.value, NULL, NULL, NULL, o, r) != 0)
        goto out;
    r->has_code = 1;
    r->code = 0;
    rc = 0;
out:
    if (t.ssl)
        SSL_free(t.ssl);
    free(h.in);
    return rc;
}

/* ---- a tunnel held open (load tests) ---- */

/* The gateway an .rdp file names, as the tenant's PC resolves it. */
static int gateway_of(ws_state *st, const ws_rdp_file *f, char *name, size_t n, int *port, char *addr, size_t an,
                      ws_error *e)
{
    const char *gw_host = ws_rdp_get(f, "gatewayhostname");
    if (!gw_host)
        return ws_seterr(e, "the .rdp file names no gateway");
    snprintf(name, n, "%s", gw_host);
    *port = 443;
    char *colon = strrchr(name, ':');
    if (colon) {
        *port = atoi(colon + 1);
        *colon = '\0';
    }
    if (ws_lab_hosts_lookup(st->lab_dir, name, addr, an) != 0)
        return ws_seterr(e, "the tenant's PC cannot resolve the RD Gateway %s", name);
    return 0;
}

ws_gw_tunnel *ws_gateway_tunnel_open(ws_state *st, const ws_rdp_file *f, int legacy, ws_connect_result *r)
{
    memset(r, 0, sizeof *r);
    ws_error e;
    char name[256], addr[64];
    int port;
    ws_machine client;
    const char *cookie = ws_rdp_get(f, "gatewayaccesstoken");
    if (!cookie || gateway_of(st, f, name, sizeof name, &port, addr, sizeof addr, &e) != 0 ||
        ws_machine_get(st, "client", &client, &e) != 0) {
        fail(r, "gateway-tls", 0, "%s", cookie ? e.msg : "the .rdp file has no gatewayaccesstoken");
        return NULL;
    }
    SSL_CTX *ctx = ws_tls_client_ctx(st, "client", &e);
    if (!ctx) {
        fail(r, "gateway-tls", 0, "%s", e.msg);
        return NULL;
    }
    gwlink *g = calloc(1, sizeof *g);
    if (!g)
        abort();
    g->out_fd = g->in_fd = -1;
    int rc = gateway_open(st, g, ctx, name, addr, port, client.address, legacy, r);
    SSL_CTX_free(ctx);
    if (rc == 0)
        rc = tunnel_open(g, cookie, "", 0, 0, r);
    if (rc != 0) {
        gl_free(g);
        free(g);
        return NULL;
    }
    return g;
}

void ws_gateway_tunnel_close(ws_gw_tunnel *t)
{
    if (!t)
        return;
    gl_free(t);
    free(t);
}

/* ---- the administrator's path: straight to the host, as VMConnect ---- */

static int admin_connect(ws_state *st, const ws_connect_opts *o, ws_connect_result *r)
{
    ws_error e;
    char vm_id[40] = "", host[64] = "";
    sqlite3_stmt *s = ws_state_prepare(st, "SELECT upper(id), host FROM vms WHERE name = ? OR id = ? COLLATE NOCASE",
                                       NULL);
    if (s) {
        sqlite3_bind_text(s, 1, o->vm, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, o->vm, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            snprintf(vm_id, sizeof vm_id, "%s", (const char *)sqlite3_column_text(s, 0));
            snprintf(host, sizeof host, "%s", (const char *)sqlite3_column_text(s, 1));
        }
        sqlite3_finalize(s);
    }
    ws_machine m;
    if (!vm_id[0] || ws_machine_get(st, host, &m, &e) != 0)
        return fail(r, "direct", 0, "unknown VM '%s'", o->vm);
    int fd = tcp_connect_from(NULL, m.address, m.port, &e);
    if (fd < 0)
        return fail(r, "direct", 0, "%s", e.msg);
    hop(r, "direct", 1, "straight to %s (%s:%d) as %s", m.fqdn, m.address, m.port, o->admin_user);
    ws_rdp_file f;
    ws_rdp_init(&f);
    ws_rdp_set(&f, "full address", 's', m.fqdn);
    ws_rdp_set(&f, "pcb", 's', vm_id);
    ws_connect_opts direct = *o;
    direct.direct_fd = fd;
    direct.no_rdstls = 1;
    int rc = host_hops(st, NULL, &f, &direct, r);
    ws_rdp_free(&f);
    close(fd);
    return rc;
}

/* ---- the whole connection ---- */

int ws_connect(ws_state *st, const ws_connect_opts *o, ws_connect_result *r)
{
    memset(r, 0, sizeof *r);
    ws_error e;
    unsigned char *bytes = NULL;
    size_t len = 0;
    ws_rdp_file f;
    ws_rdp_init(&f);
    gwlink g;
    memset(&g, 0, sizeof g);
    g.out_fd = g.in_fd = -1;
    SSL_CTX *ctx = NULL;
    int rc = -1;
    if (o->admin_user && !o->rdp_file) {
        ws_rdp_free(&f);
        return admin_connect(st, o, r);
    }

    /* portal */
    if (o->rdp_file) {
        if (ws_read_file(o->rdp_file, WS_RDP_FILE_MAX, &bytes, &len, &e) != 0) {
            fail(r, "portal", 0, "%s", e.msg);
            goto out;
        }
        hop(r, "portal", 1, "using %s", o->rdp_file);
    } else {
        char pw[128];
        const char *password = o->password;
        if (!password) {
            if (ws_lab_password(st, o->tenant, pw, sizeof pw) != 0) {
                fail(r, "portal", 0, "unknown tenant '%s'", o->tenant);
                goto out;
            }
            password = pw;
        }
        ws_http_response rs;
        if (ws_browser_get_console(st, o->tenant, password, o->vm, &rs, &e) != 0) {
            fail(r, "portal", 0, "the browser could not reach the portal: %s", e.msg);
            goto out;
        }
        if (rs.status != 200 || strcmp(rs.content_type, "application/x-rdp") != 0) {
            r->has_code = 1;
            r->code = (uint32_t)rs.status;
            fail(r, "portal", 0, "the browser received HTTP %ld (%s) instead of an .rdp file: %.400s", rs.status,
                 rs.content_type, (const char *)rs.body);
            ws_http_response_free(&rs);
            goto out;
        }
        bytes = rs.body;
        len = rs.body_len;
        rs.body = NULL;
        if (o->save_rdp)
            ws_write_file(o->save_rdp, bytes, len, 0600, NULL);
        hop(r, "portal", 1, "received %s.rdp (%zu bytes, application/x-rdp)", o->vm, len);
    }
    if (ws_rdp_parse(bytes, len, &f, &e) != 0) {
        fail(r, "rdp-signature", 0, "the .rdp file cannot be read: %s", e.msg);
        goto out;
    }

    /* rdp-signature */
    STACK_OF(X509) *roots = ws_store_certs(st, "client", "Root", NULL);
    ws_rdp_signature sig;
    memset(&sig, 0, sizeof sig);
    int valid = ws_rdp_verify(&f, roots, ws_clock_now(st, "client"), &sig, &e) == 0;
    sk_X509_pop_free(roots, X509_free);
    if (!valid) {
        X509_free(sig.signer);
        fail(r, "rdp-signature", 0, "the .rdp file's signature is not valid: %s", e.msg);
        goto out;
    }
    char *subject = sig.signer ? ws_cert_subject(sig.signer) : NULL;
    hop(r, "rdp-signature", 1, "signed by %s (%s)%s%s", subject ? subject : "?", sig.thumbprint,
        sig.trusted ? "" : "; unknown publisher: Remote Desktop Connection warns: ", sig.trusted ? "" : sig.trust_error);
    free(subject);
    X509_free(sig.signer);

    /* direct */
    const char *full_address = ws_rdp_get(&f, "full address");
    const char *gw_host = ws_rdp_get(&f, "gatewayhostname");
    const char *usage = ws_rdp_get(&f, "gatewayusagemethod");
    const char *port_text = ws_rdp_get(&f, "server port");
    const char *cookie = ws_rdp_get(&f, "gatewayaccesstoken");
    if (!full_address || !gw_host || !cookie) {
        fail(r, "direct", 0, "the .rdp file lacks full address, gatewayhostname or gatewayaccesstoken");
        goto out;
    }
    int port = port_text ? atoi(port_text) : 3389;
    char direct_addr[64];
    struct in_addr ip4;
    int resolvable = inet_pton(AF_INET, full_address, &ip4) == 1 ||
                     ws_lab_hosts_lookup(st->lab_dir, full_address, direct_addr, sizeof direct_addr) == 0;
    if (resolvable || (usage && atoi(usage) == 0)) {
        /* [model] A tenant's PC has no route into the fabric. */
        hop(r, "direct", 1, "%s is not reachable from the tenant's PC: using the RD Gateway", full_address);
    } else {
        hop(r, "direct", 1, "cannot resolve %s from the tenant's PC: using the RD Gateway %s", full_address, gw_host);
    }

    /* gateway-tls, gateway-auth, channel */
    char gw_name[256], gw_addr[64];
    int gw_port;
    if (gateway_of(st, &f, gw_name, sizeof gw_name, &gw_port, gw_addr, sizeof gw_addr, &e) != 0) {
        fail(r, "gateway-tls", 0, "%s", e.msg);
        goto out;
    }
    ctx = ws_tls_client_ctx(st, "client", &e);
    ws_machine client;
    if (!ctx || ws_machine_get(st, "client", &client, &e) != 0) {
        fail(r, "gateway-tls", 0, "%s", e.msg);
        goto out;
    }
    if (gateway_open(st, &g, ctx, gw_name, gw_addr, gw_port, client.address, o->legacy_gateway, r) != 0)
        goto out;
    if (tunnel_open(&g, cookie, full_address, port, 1, r) != 0)
        goto out;

    /* host-tls, host-auth */
    rc = host_hops(st, &g, &f, o, r);
out:
    if (g.out && rc == 0) {
        size_t m = ws_tsgu_encode_close_channel(WS_TSGU_CLOSE_CHANNEL, 0, pkt, sizeof pkt);
        gl_send(&g, pkt, m);
    }
    gl_free(&g);
    SSL_CTX_free(ctx);
    ws_rdp_free(&f);
    free(bytes);
    return rc;
}
