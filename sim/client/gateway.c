/* SPDX-License-Identifier: Apache-2.0 */
/* gateway: Remote Desktop Connection and the RD Gateway. TLS to gatewayhostname from
 * the client machine's address, RDG_OUT_DATA upgraded to a websocket (or the legacy
 * RDG_OUT_DATA + RDG_IN_DATA pair), then the MS-TSGU tunnel (REFERENCE.md section 7):
 * handshake, TUNNEL_CREATE with the HostToken as PAA cookie, TUNNEL_AUTH and
 * CHANNEL_CREATE. See client_int.h. */
#include "client/client_int.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/cert.h"
#include "crypto/tls.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "svc/machine_tls.h"
#include "wire/disconnect.h"
#include "wire/tsgu.h"
#include "wire/websocket.h"

/* ---- the link ---- */

void ws_gwlink_init(gwlink *g)
{
    memset(g, 0, sizeof *g);
    g->out_fd = g->in_fd = -1;
    ws_buf_init(&g->buf, WS_BUF_MAX_CLIENT_LINK);
    ws_buf_init(&g->stream, WS_BUF_MAX_CLIENT_LINK);
}

void ws_gwlink_free(gwlink *g)
{
    if (g->out)
        SSL_free(g->out);
    if (g->in)
        SSL_free(g->in);
    if (g->out_fd >= 0)
        close(g->out_fd);
    if (g->in_fd >= 0)
        close(g->in_fd);
    ws_buf_free(&g->buf);
    ws_buf_free(&g->stream);
    free(g->pkt);
    ws_gwlink_init(g);
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
    uint8_t chunk[16384];
    int n = SSL_read(g->out, chunk, (int)sizeof chunk);
    if (n <= 0) {
        ERR_clear_error();
        return ws_seterr(e, "the gateway closed the connection");
    }
    if (ws_buf_add(&g->buf, chunk, (size_t)n) != 0)
        return ws_seterr(e, "the gateway sent more than %u bytes ahead", WS_BUF_MAX_CLIENT_LINK);
    return 0;
}

/* An HTTP response head from ssl into head (n bytes): its status code. */
static int read_head(SSL *ssl, char *head, size_t n, ws_error *e)
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
    int status = 0;
    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1)
        return ws_seterr(e, "the gateway's answer is not HTTP");
    return status;
}

/* One packet as the gateway reads it: head (a frame header, or a chunk's size line), the
 * packet (masked while it is copied when mask is given), tail (a chunk's CRLF), staged
 * through one TLS record's worth of memory: no allocation and no second pass, and the
 * records are as full as one write of the whole would make them. */
static int write_framed(SSL *ssl, const uint8_t *head, size_t hl, const uint8_t *pkt, size_t n,
                        const uint8_t *mask, const char *tail)
{
    uint8_t stage[16384]; /* a TLS record's plaintext at most (RFC 8446 section 5.1) */
    size_t tl = strlen(tail), fill = hl, off = 0;
    memcpy(stage, head, hl);
    for (;;) {
        size_t k = n - off < sizeof stage - fill ? n - off : sizeof stage - fill;
        if (mask)
            ws_websocket_mask_copy(stage + fill, pkt + off, k, mask, off);
        else
            memcpy(stage + fill, pkt + off, k);
        fill += k;
        off += k;
        if (off == n && fill + tl <= sizeof stage) {
            memcpy(stage + fill, tail, tl);
            return ssl_write_all(ssl, stage, fill + tl);
        }
        if (ssl_write_all(ssl, stage, fill) != 0)
            return -1;
        fill = 0;
    }
}

int ws_gwlink_send(gwlink *g, const uint8_t *pkt, size_t n)
{
    if (g->legacy) { /* one HTTP chunk */
        char line[24];
        int sl = snprintf(line, sizeof line, "%zX\r\n", n);
        return write_framed(g->in, (const uint8_t *)line, (size_t)sl, pkt, n, NULL, "\r\n");
    }
    /* One masked binary frame (RFC 6455 section 5.3: a client masks every frame). */
    uint8_t mask[4], h[WS_WEBSOCKET_HEADER_MAX];
    ws_random(mask, sizeof mask);
    size_t hl = ws_websocket_encode_header(WS_WEBSOCKET_OP_BINARY, n, mask, h);
    return write_framed(g->out, h, hl, pkt, n, mask, "");
}

/* Move what the OUT connection brought into the MS-TSGU stream: raw packets (legacy),
 * or one websocket frame's payload, answering pings. */
static int gl_pull(gwlink *g, ws_error *e)
{
    if (g->legacy) { /* raw packets on the OUT connection */
        if (ws_buf_len(&g->buf) == 0 && gl_fill(g, e) != 0)
            return -1;
        if (ws_buf_add(&g->stream, ws_buf_data(&g->buf), ws_buf_len(&g->buf)) != 0)
            return ws_seterr(e, "the gateway sent more than %u bytes ahead", WS_BUF_MAX_CLIENT_LINK);
        ws_buf_reset(&g->buf);
        return 0;
    }
    ws_websocket_frame f;
    int fr = ws_websocket_decode_header(ws_buf_data(&g->buf), ws_buf_len(&g->buf), WS_TSGU_PACKET_MAX, &f, e);
    if (fr < 0)
        return -1;
    if (fr == 1 || ws_buf_len(&g->buf) < f.header_len + f.payload_len)
        return gl_fill(g, e);
    if (f.masked)
        return ws_seterr(e, "the gateway sent a masked frame");
    const uint8_t *payload = ws_buf_data(&g->buf) + f.header_len;
    if (f.opcode == WS_WEBSOCKET_OP_BINARY || f.opcode == WS_WEBSOCKET_OP_CONTINUATION) {
        if (ws_buf_add(&g->stream, payload, f.payload_len) != 0)
            return ws_seterr(e, "the gateway sent more than %u bytes ahead", WS_BUF_MAX_CLIENT_LINK);
    } else if (f.opcode == WS_WEBSOCKET_OP_PING) {
        uint8_t h2[WS_WEBSOCKET_HEADER_MAX], mask[4] = {0, 0, 0, 0};
        size_t hl = ws_websocket_encode_header(WS_WEBSOCKET_OP_PONG, f.payload_len, mask, h2);
        ssl_write_all(g->out, h2, hl);
        ssl_write_all(g->out, payload, f.payload_len);
    } else if (f.opcode == WS_WEBSOCKET_OP_CLOSE) {
        return ws_seterr(e, "the gateway closed the websocket");
    }
    ws_buf_consume(&g->buf, f.header_len + (size_t)f.payload_len);
    return 0;
}

/* The gateway sends one packet per frame: when nothing waits in the stream and a whole
 * binary frame holding exactly one packet is in, the packet is taken from the frame
 * itself (one copy fewer); 1 when taken. Anything else goes the general way (gl_pull). */
static int whole_frame_packet(gwlink *g, uint8_t *pkt, size_t cap, size_t *len)
{
    ws_websocket_frame f;
    ws_tsgu_header h;
    ws_error e;
    const uint8_t *b = ws_buf_data(&g->buf);
    size_t blen = ws_buf_len(&g->buf);
    if (g->legacy || ws_buf_len(&g->stream) ||
        ws_websocket_decode_header(b, blen, WS_TSGU_PACKET_MAX, &f, &e) != 0 || f.masked ||
        f.opcode != WS_WEBSOCKET_OP_BINARY || blen - f.header_len < f.payload_len ||
        ws_tsgu_header_decode(b + f.header_len, (size_t)f.payload_len, &h, &e) != 0 || h.length != f.payload_len ||
        h.length > cap)
        return 0;
    memcpy(pkt, b + f.header_len, h.length);
    *len = h.length;
    ws_buf_consume(&g->buf, f.header_len + h.length);
    return 1;
}

int ws_gwlink_recv(gwlink *g, uint8_t *pkt, size_t cap, size_t *len, ws_error *e)
{
    for (;;) {
        if (whole_frame_packet(g, pkt, cap, len))
            return 0;
        ws_tsgu_header h;
        const uint8_t *s = ws_buf_data(&g->stream);
        size_t slen = ws_buf_len(&g->stream);
        int r = ws_tsgu_header_decode(s, slen, &h, e);
        if (r < 0)
            return -1;
        if (r == 0 && slen >= h.length) {
            if (h.length > cap)
                return ws_seterr(e, "a packet too large");
            memcpy(pkt, s, h.length);
            *len = h.length;
            ws_buf_consume(&g->stream, h.length);
            return 0;
        }
        if (gl_pull(g, e) != 0)
            return -1;
    }
}

int ws_gwlink_fd(const gwlink *g)
{
    return SSL_get_fd(g->out);
}

int ws_gwlink_buffered(const gwlink *g)
{
    return SSL_pending(g->out) > 0 || ws_buf_len(&g->buf) > 0 || ws_buf_len(&g->stream) > 0;
}

/* ---- gateway-tls and the HTTP part of gateway-auth ---- */

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

/* Keep the certificate being verified as the SSL's app data (one reference), to say
 * after a failed handshake what it carries: OpenSSL keeps no peer certificate then. */
static int keep_leaf(int ok, X509_STORE_CTX *x)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    X509 *leaf = X509_STORE_CTX_get0_cert(x);
    if (ssl && leaf && !SSL_get_app_data(ssl) && X509_up_ref(leaf) == 1)
        SSL_set_app_data(ssl, leaf);
    return ok;
}

/* Why the peer's certificate does not carry name, as the client checked it (tls.h). */
static void name_mismatch(X509 *peer, const char *name, long verify, ws_error *e)
{
    char *sans = peer ? ws_cert_sans(peer) : NULL;
    const char *what = X509_verify_cert_error_string(verify);
    if (!sans)
        ws_seterr(e, "%s: the certificate does not carry %s", what, name);
    else if (ws_is_ip_literal(name))
        ws_seterr(e, "%s: %s is an address, which matches only an IP SAN; the certificate's SAN is %s", what, name,
                  *sans ? sans : "empty");
    else if (ws_cert_matches_peer(peer, name, 0))
        ws_seterr(e, "%s: %s matches only a wildcard name of the certificate (SAN %s), which Remote Desktop "
                     "Connection does not accept for an RD Gateway",
                  what, name, sans);
    else
        ws_seterr(e, "%s: %s is not a name of the certificate (SAN %s)", what, name, *sans ? sans : "empty");
    free(sans);
}

/* TLS to the gateway over fd, expecting name (a DNS name or an address) as Remote
 * Desktop Connection checks an RD Gateway's certificate (WS_PEER_RDGATEWAY). */
static SSL *tls_to(SSL_CTX *ctx, int fd, const char *name, long *verify, ws_error *e)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl) {
        ws_seterr(e, "cannot create TLS");
        return NULL;
    }
    SSL_set_fd(ssl, fd);
    ws_tls_expect_peer_flags(ssl, name, WS_PEER_RDGATEWAY);
    SSL_set_verify(ssl, SSL_get_verify_mode(ssl), keep_leaf);
    int connected = SSL_connect(ssl) == 1;
    X509 *leaf = SSL_get_app_data(ssl);
    SSL_set_app_data(ssl, NULL);
    if (!connected) {
        *verify = SSL_get_verify_result(ssl);
        unsigned long code = ERR_get_error();
        char reason[200] = "";
        if (code)
            ERR_error_string_n(code, reason, sizeof reason);
        else /* no TLS alert: the gateway closed or reset the connection mid-handshake */
            snprintf(reason, sizeof reason, "the RD Gateway closed the connection during the TLS handshake");
        ERR_clear_error();
        if (*verify == X509_V_ERR_HOSTNAME_MISMATCH || *verify == X509_V_ERR_IP_ADDRESS_MISMATCH)
            name_mismatch(leaf, name, *verify, e);
        else
            ws_seterr(e, "%s", *verify != X509_V_OK ? X509_verify_cert_error_string(*verify) : reason);
        X509_free(leaf);
        SSL_free(ssl);
        return NULL;
    }
    X509_free(leaf);
    *verify = X509_V_OK;
    return ssl;
}

/* The Host header's value: the gateway's name without the port, as FreeRDP sends it; an
 * IPv6 address in brackets (RFC 7230 s5.4, RFC 3986 s3.2.2). */
static void http_host(const char *gw_name, char *out, size_t n)
{
    snprintf(out, n, strchr(gw_name, ':') ? "[%s]" : "%s", gw_name);
}

/* RDG_OUT_DATA, as FreeRDP sends it: with the websocket upgrade, its key written before
 * the connection id, unless legacy. */
static void rdg_out_data(char *out, size_t n, const char *gw_name, const char *conn_id, const char *key, int legacy)
{
    char head[2048], host[WS_HOSTPORT_HOST_MAX + 2];
    http_host(gw_name, host, sizeof host);
    snprintf(head, sizeof head,
             "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nCache-Control: no-cache\r\nPragma: no-cache\r\n"
             "Accept: */*\r\nUser-Agent: MS-RDGateway/1.0\r\nHost: %s\r\n%sRDG-Connection-Id: {%s}\r\n"
             "RDG-Auth-Scheme: PAA\r\nContent-Length: 0\r\n\r\n",
             host, legacy ? "" : "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-Websocket-Version: 13\r\n",
             conn_id);
    if (legacy) {
        snprintf(out, n, "%s", head);
        return;
    }
    char *at = strstr(head, "RDG-Connection-Id");
    snprintf(out, n, "%.*sSec-Websocket-Key: %s\r\n%s", (int)(at - head), head, key, at);
}

/* The legacy IN connection: after RDG_OUT_DATA's answer and seed, a second TLS
 * connection with RDG_IN_DATA, first with Content-Length 0, then chunked. */
static int legacy_in_open(gwlink *g, SSL_CTX *ctx, const char *gw_name, const char *gw_addr, int gw_port,
                          const char *client_addr, const char *conn_id, ws_connect_result *r)
{
    ws_error e;
    char head[2048], full[2300], host[WS_HOSTPORT_HOST_MAX + 2];
    long verify;
    uint8_t seed[10];
    http_host(gw_name, host, sizeof host);
    for (size_t got = 0; got < sizeof seed;) {
        int m = SSL_read(g->out, seed + got, (int)(sizeof seed - got));
        if (m <= 0)
            return ws_client_fail(r, "gateway-auth", 0, "no seed after RDG_OUT_DATA");
        got += (size_t)m;
    }
    g->in_fd = ws_client_tcp(client_addr, gw_addr, gw_port, &e);
    if (g->in_fd < 0)
        return ws_client_fail(r, "gateway-auth", 0, "%s", e.msg);
    g->in = tls_to(ctx, g->in_fd, gw_name, &verify, &e);
    if (!g->in)
        return ws_client_fail(r, "gateway-auth", 0, "RDG_IN_DATA: %s", e.msg);
    snprintf(full, sizeof full,
             "RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\nCache-Control: no-cache\r\nPragma: no-cache\r\n"
             "Accept: */*\r\nUser-Agent: MS-RDGateway/1.0\r\nHost: %s\r\nRDG-Connection-Id: {%s}\r\n"
             "RDG-Auth-Scheme: PAA\r\nContent-Length: 0\r\n\r\n",
             host, conn_id);
    int status = ssl_write_all(g->in, full, strlen(full)) != 0 ? -1 : read_head(g->in, head, sizeof head, &e);
    /* [model] The client's sending channel refused: "an error occurred while sending data"
     * (50331657). A gateway that holds no RDG_OUT_DATA of this RDG-Connection-Id (the pair
     * split across balanced members) answers so, with its event 210. */
    if (status != 200) {
        char got[64];
        snprintf(got, sizeof got, status > 0 ? "HTTP %d" : "no answer", status);
        return ws_client_fail(r, "gateway-auth", WS_DISC_GATEWAY_SEND_ERROR,
                              "the gateway refused RDG_IN_DATA of RDG-Connection-Id {%s}: %s", conn_id, got);
    }
    snprintf(full, sizeof full,
             "RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\nCache-Control: no-cache\r\nPragma: no-cache\r\n"
             "Accept: */*\r\nUser-Agent: MS-RDGateway/1.0\r\nHost: %s\r\nRDG-Connection-Id: {%s}\r\n"
             "RDG-Auth-Scheme: PAA\r\nTransfer-Encoding: chunked\r\n\r\n",
             host, conn_id);
    if (ssl_write_all(g->in, full, strlen(full)) != 0)
        return ws_client_fail(r, "gateway-auth", 0, "cannot send RDG_IN_DATA");
    return 0;
}

/* " (Server: X)" from a response head into out (n bytes), or "": who answered (a
 * balancer names itself). Returns out. */
static const char *server_says(const char *head, char *out, size_t n)
{
    const char *p = strcasestr(head, "\r\nServer:");
    out[0] = '\0';
    if (p) {
        p += 9;
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, "\r\n");
        snprintf(out, n, " (Server: %.*s)", (int)(len > 60 ? 60 : len), p);
    }
    return out;
}

int ws_client_gateway_open(gwlink *g, SSL_CTX *ctx, const char *gw_name, const char *gw_addr, int gw_port,
                           const char *client_addr, int legacy, ws_connect_result *r)
{
    ws_error e;
    char head[2048];
    long verify;
    g->legacy = legacy;
    if (!g->pkt && !(g->pkt = malloc(WS_TSGU_PACKET_MAX)))
        return ws_client_fail(r, "gateway-tls", 0, "out of memory");
    char where[WS_HOSTPORT_HOST_MAX + 16];
    ws_hostport_format(gw_name, gw_port, 0, where, sizeof where);
    g->out_fd = ws_client_tcp(client_addr, gw_addr, gw_port, &e);
    if (g->out_fd < 0) /* [model] a gateway that does not answer is "unreachable" (50331660) */
        return ws_client_fail(r, "gateway-tls", WS_DISC_GATEWAY_UNREACHABLE, "cannot reach the RD Gateway %s: %s",
                              where, e.msg);
    g->out = tls_to(ctx, g->out_fd, gw_name, &verify, &e);
    if (!g->out) /* the client's text for the code, then OpenSSL's reason (ws_client_fail) */
        return ws_client_fail(r, "gateway-tls", verify != X509_V_OK ? gateway_tls_code(verify) : 0, "%s", e.msg);
    ws_client_hop(r, "gateway-tls", 1, "TLS with %s, certificate trusted and named %s", where, gw_name);

    char conn_id[40], key[17], full[2300];
    ws_guid_new(conn_id);
    /* FreeRDP's key: 15 characters in 0x40-0x5F, hashed verbatim (REFERENCE.md section 7). */
    uint8_t raw[15];
    ws_random(raw, sizeof raw);
    for (int i = 0; i < 15; i++)
        key[i] = (char)(0x40 + (raw[i] & 0x1F));
    key[15] = '\0';
    rdg_out_data(full, sizeof full, gw_name, conn_id, key, legacy);
    if (ssl_write_all(g->out, full, strlen(full)) != 0)
        return ws_client_fail(r, "gateway-auth", 0, "cannot send RDG_OUT_DATA");
    int status = read_head(g->out, head, sizeof head, &e);
    /* [model] The receiving channel closed before any answer: "an error occurred while
     * receiving data" (50331658); a balancer does so when its member refused it. */
    if (status < 0)
        return ws_client_fail(r, "gateway-auth", WS_DISC_GATEWAY_RECV_ERROR, "RDG_OUT_DATA: %s", e.msg);
    /* [model] A server error (a balancer's 502 or 503 when its member did not answer) is
     * "the Remote Desktop Gateway server is temporarily unavailable" (50331661). */
    char who[96];
    if (status >= 500 && status <= 599)
        return ws_client_fail(r, "gateway-auth", WS_DISC_GATEWAY_UNAVAILABLE,
                              "the gateway answered HTTP %d to RDG_OUT_DATA%s", status,
                              server_says(head, who, sizeof who));
    if (legacy) {
        if (status != 200)
            return ws_client_fail(r, "gateway-auth", 0, "the gateway answered HTTP %d to RDG_OUT_DATA", status);
        return legacy_in_open(g, ctx, gw_name, gw_addr, gw_port, client_addr, conn_id, r);
    }
    char accept[29], want[64];
    ws_websocket_accept_key(key, accept);
    snprintf(want, sizeof want, "Sec-WebSocket-Accept: %s", accept);
    if (status != 101 || !strcasestr(head, want))
        return ws_client_fail(r, "gateway-auth", 0, "the gateway answered HTTP %d to the websocket upgrade", status);
    return 0;
}

/* ---- the MS-TSGU tunnel ---- */

/* Send the packet built in g->pkt (n bytes; 0: it could not be built) and take the answer
 * into g->pkt, its length in *len. */
static int gl_exchange(gwlink *g, size_t n, size_t *len, ws_error *e)
{
    if (n == 0)
        return ws_seterr(e, "the packet cannot be built");
    if (ws_gwlink_send(g, g->pkt, n) != 0)
        return ws_seterr(e, "cannot send to the gateway");
    return ws_gwlink_recv(g, g->pkt, WS_TSGU_PACKET_MAX, len, e);
}

/* TUNNEL_CREATE with the cookie; the tunnel's id in *tunnel_id. */
static int tunnel_create(gwlink *g, const char *cookie, uint32_t *tunnel_id, ws_connect_result *r)
{
    ws_error e;
    size_t len;
    ws_tsgu_tunnel_create *tc = calloc(1, sizeof *tc);
    if (!tc)
        return ws_client_fail(r, "gateway-auth", 0, "out of memory");
    tc->caps = 0x0D;
    tc->fields_present = WS_TSGU_TUNNEL_CREATE_PAA_COOKIE;
    if (strlen(cookie) > WS_TSGU_COOKIE_MAX) {
        free(tc);
        return ws_client_fail(r, "gateway-auth", WS_DISC_COOKIE_TOO_LARGE, "the cookie has %zu characters, at most %d",
                              strlen(cookie), (int)WS_TSGU_COOKIE_MAX);
    }
    snprintf(tc->cookie, sizeof tc->cookie, "%s", cookie);
    size_t n = ws_tsgu_encode_tunnel_create(tc, g->pkt, WS_TSGU_PACKET_MAX);
    free(tc);
    ws_tsgu_tunnel_response tr;
    if (gl_exchange(g, n, &len, &e) != 0 || ws_tsgu_decode_tunnel_response(g->pkt, len, &tr, &e) != 0)
        return ws_client_fail(r, "gateway-auth", 0, "tunnel: %s", e.msg);
    if (tr.status_code) {
        /* The status becomes its disconnect reason in ws_client_fail (50331700/50331701). */
        const char *name = ws_hresult_name(tr.status_code);
        return ws_client_fail(r, "gateway-auth", tr.status_code, "Tunnel creation error %s, 0x%08X", name ? name : "?",
                              tr.status_code);
    }
    *tunnel_id = tr.tunnel_id;
    return 0;
}

/* CHANNEL_CREATE to resource:port: the channel hop. */
static int channel_create(gwlink *g, const char *resource, int port, ws_connect_result *r)
{
    ws_error e;
    size_t len;
    ws_tsgu_channel_create cc = {.num_resources = 1, .port = (uint16_t)port, .protocol = 3};
    snprintf(cc.resource, sizeof cc.resource, "%s", resource);
    ws_tsgu_channel_response cr;
    size_t n = ws_tsgu_encode_channel_create(&cc, g->pkt, WS_TSGU_PACKET_MAX);
    if (gl_exchange(g, n, &len, &e) != 0 || ws_tsgu_decode_channel_response(g->pkt, len, &cr, &e) != 0)
        return ws_client_fail(r, "channel", 0, "channel: %s", e.msg);
    if (cr.error_code) {
        const char *name = ws_hresult_name(cr.error_code);
        return ws_client_fail(r, "channel", cr.error_code, "the gateway refused the channel to %s:%d: %s (0x%08X)",
                              resource, port, name ? name : "error", cr.error_code);
    }
    ws_client_hop(r, "channel", 1, "channel %u to %s:%d", cr.channel_id, resource, port);
    return 0;
}

int ws_client_tunnel_open(gwlink *g, const char *cookie, const char *resource, int port, int with_channel,
                          ws_connect_result *r)
{
    ws_error e;
    size_t n, len;
    ws_tsgu_handshake_request hs = {.ver_major = 1, .extended_auth = WS_TSGU_EXTAUTH_PAA};
    ws_tsgu_handshake_response hr;
    n = ws_tsgu_encode_handshake_request(&hs, g->pkt, WS_TSGU_PACKET_MAX);
    if (gl_exchange(g, n, &len, &e) != 0 || ws_tsgu_decode_handshake_response(g->pkt, len, &hr, &e) != 0)
        return ws_client_fail(r, "gateway-auth", 0, "handshake: %s", e.msg);
    if (hr.error_code)
        return ws_client_fail(r, "gateway-auth", hr.error_code, "the gateway refused the handshake: 0x%08X",
                              hr.error_code);
    uint32_t tunnel_id = 0;
    if (tunnel_create(g, cookie, &tunnel_id, r) != 0)
        return -1;
    ws_tsgu_tunnel_auth ta = {.fields_present = 0};
    snprintf(ta.client_name, sizeof ta.client_name, "CLIENT");
    ws_tsgu_tunnel_auth_response ar;
    n = ws_tsgu_encode_tunnel_auth(&ta, g->pkt, WS_TSGU_PACKET_MAX);
    if (gl_exchange(g, n, &len, &e) != 0 || ws_tsgu_decode_tunnel_auth_response(g->pkt, len, &ar, &e) != 0)
        return ws_client_fail(r, "gateway-auth", 0, "tunnel authorization: %s", e.msg);
    if (ar.error_code)
        return ws_client_fail(r, "gateway-auth", ar.error_code,
                              "the gateway refused the tunnel authorization: 0x%08X", ar.error_code);
    ws_client_hop(r, "gateway-auth", 1, "tunnel %u created with the HostToken as PAA cookie", tunnel_id);
    if (!with_channel)
        return 0;
    return channel_create(g, resource, port, r);
}

/* ---- a tunnel held open (load tests) ---- */

int ws_client_gateway_of(ws_state *st, const ws_rdp_file *f, char *name, size_t n, int *port, char *addr, size_t an,
                         ws_error *e)
{
    const char *gw_host = ws_rdp_get(f, "gatewayhostname");
    if (!gw_host)
        return ws_seterr(e, "the .rdp file names no gateway");
    ws_hostport hp;
    ws_error pe;
    if (ws_hostport_parse(gw_host, 443, &hp, &pe) != 0) /* port 443 unless host:port (REFERENCE.md section 7) */
        return ws_seterr(e, "the .rdp file's gatewayhostname is unusable: %s", pe.msg);
    snprintf(name, n, "%s", hp.host);
    *port = hp.port;
    return ws_lab_resolve(st, WS_RESOLVE_TENANT_PC, hp.host, addr, an, e);
}

ws_gw_tunnel *ws_gateway_tunnel_open(ws_state *st, const ws_rdp_file *f, int legacy, ws_connect_result *r)
{
    memset(r, 0, sizeof *r);
    ws_error e;
    char name[256], addr[64];
    int port;
    ws_machine client;
    const char *cookie = ws_rdp_get(f, "gatewayaccesstoken");
    if (!cookie || ws_client_gateway_of(st, f, name, sizeof name, &port, addr, sizeof addr, &e) != 0 ||
        ws_machine_get(st, "client", &client, &e) != 0) {
        ws_client_fail(r, "gateway-tls", 0, "%s", cookie ? e.msg : "the .rdp file has no gatewayaccesstoken");
        return NULL;
    }
    SSL_CTX *ctx = ws_tls_client_ctx(st, "client", &e);
    if (!ctx) {
        ws_client_fail(r, "gateway-tls", 0, "%s", e.msg);
        return NULL;
    }
    gwlink *g = calloc(1, sizeof *g);
    if (!g) {
        SSL_CTX_free(ctx);
        ws_client_fail(r, "gateway-tls", 0, "out of memory");
        return NULL;
    }
    ws_gwlink_init(g);
    int rc = ws_client_gateway_open(g, ctx, name, addr, port, client.address, legacy, r);
    SSL_CTX_free(ctx);
    if (rc == 0)
        rc = ws_client_tunnel_open(g, cookie, "", 0, 0, r);
    if (rc != 0) {
        ws_gateway_tunnel_close(g);
        return NULL;
    }
    /* A held tunnel sends no more packets: give back their buffer. */
    free(g->pkt);
    g->pkt = NULL;
    return g;
}

void ws_gateway_tunnel_close(ws_gw_tunnel *t)
{
    if (!t)
        return;
    ws_gwlink_free(t);
    free(t);
}
