/* SPDX-License-Identifier: Apache-2.0 */
/* host: Remote Desktop Connection and the Hyper-V host, through the gateway's channel
 * (or straight to the host on the administrator's path): the pre-connection PDU with
 * the VM's id and the X.224 Connection Request in one DATA packet, TLS with the host
 * (its certificate judged by the .rdp file's authentication level: a warning the tenant
 * accepts, or 0x607), then RDSTLS with the VMToken
 * (REFERENCE.md section 8). See client_int.h. */
#include "client/client_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/cert.h"
#include "crypto/tls.h"
#include "svc/machine_tls.h"
#include "wire/disconnect.h"
#include "wire/mcs.h"
#include "wire/rdpneg.h"
#include "wire/rdstls.h"
#include "wire/tsgu.h"

/* ---- the byte stream to the host ---- */

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
        size_t m = ws_tsgu_encode_data(data, part, h->g->pkt, WS_TSGU_PACKET_MAX);
        if (m == 0 || ws_gwlink_send(h->g, h->g->pkt, m) != 0)
            return -1;
        data += part;
        n -= part;
    }
    return 0;
}

static int host_add(hostlink *h, const uint8_t *data, size_t n, ws_error *e)
{
    if (ws_buf_add(&h->in, data, n) != 0)
        return ws_seterr(e, "the host sent more than %u bytes ahead", WS_BUF_MAX_CLIENT_LINK);
    return 0;
}

/* More bytes from the host (DATA payloads); -1 when the channel closed. */
static int host_fill(hostlink *h, ws_error *e)
{
    if (!h->g) {
        uint8_t chunk[16384];
        ssize_t n = read(h->direct_fd, chunk, sizeof chunk);
        if (n <= 0) {
            h->closed = 1;
            return ws_seterr(e, "the host closed the connection");
        }
        return host_add(h, chunk, (size_t)n, e);
    }
    uint8_t *pkt = h->g->pkt;
    for (;;) {
        size_t len;
        if (ws_gwlink_recv(h->g, pkt, WS_TSGU_PACKET_MAX, &len, e) != 0)
            return -1;
        ws_tsgu_header hd;
        ws_tsgu_header_decode(pkt, len, &hd, e);
        if (hd.type == WS_TSGU_DATA) {
            ws_tsgu_data d;
            if (ws_tsgu_decode_data(pkt, len, &d, e) != 0)
                return -1;
            return host_add(h, d.data, d.len, e);
        }
        if (hd.type == WS_TSGU_CLOSE_CHANNEL) {
            size_t m = ws_tsgu_encode_close_channel(WS_TSGU_CLOSE_CHANNEL_RESPONSE, 0, pkt, WS_TSGU_PACKET_MAX);
            ws_gwlink_send(h->g, pkt, m);
            h->closed = 1;
            return ws_seterr(e, "the host closed the connection");
        }
        if (hd.type == WS_TSGU_KEEPALIVE) {
            size_t m = ws_tsgu_encode_empty(WS_TSGU_KEEPALIVE, pkt, WS_TSGU_PACKET_MAX);
            ws_gwlink_send(h->g, pkt, m);
        }
    }
}

/* A whole TPKT from the host stream (before TLS). */
static int host_tpkt(hostlink *h, uint8_t *out, size_t cap, size_t *len, ws_error *e)
{
    for (;;) {
        long tl = ws_tpkt_length(ws_buf_data(&h->in), ws_buf_len(&h->in), cap);
        if (tl < 0)
            return ws_seterr(e, "the host's answer is not a TPKT");
        if (tl > 0 && ws_buf_len(&h->in) >= (size_t)tl) {
            memcpy(out, ws_buf_data(&h->in), (size_t)tl);
            *len = (size_t)tl;
            ws_buf_consume(&h->in, (size_t)tl);
            return 0;
        }
        if (host_fill(h, e) != 0)
            return -1;
    }
}

/* ---- TLS with the host over the stream ---- */

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
    if (ws_buf_len(&t->h->in) == 0 && host_fill(t->h, e) != 0)
        return -1;
    BIO_write(t->rbio, ws_buf_data(&t->h->in), (int)ws_buf_len(&t->h->in));
    ws_buf_reset(&t->h->in);
    return 0;
}

int ws_hosttls_read(hosttls *t, uint8_t *buf, size_t n, ws_error *e)
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

int ws_hosttls_write(hosttls *t, const uint8_t *buf, size_t n)
{
    if (SSL_write(t->ssl, buf, (int)n) != (int)n)
        return -1;
    return ht_pump_out(t);
}

int ws_hosttls_readable(hosttls *t, int timeout_ms)
{
    if (SSL_pending(t->ssl) > 0 || BIO_ctrl_pending(t->rbio) > 0 || ws_buf_len(&t->h->in) > 0)
        return 1;
    if (t->h->g && ws_gwlink_buffered(t->h->g))
        return 1;
    struct pollfd p = {.fd = t->h->g ? ws_gwlink_fd(t->h->g) : t->h->direct_fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms) > 0;
}

/* ---- host-tls ---- */

/* The pre-connection PDU with the VM's id and the X.224 Connection Request, in one DATA
 * packet; the host's Connection Confirm into *cc. */
static int host_negotiate(hostlink *h, const char *pcb, const ws_connect_opts *o, ws_x224_cc *cc,
                          ws_connect_result *r)
{
    ws_error e;
    uint8_t first[2048];
    size_t n = ws_pcb_encode(pcb ? pcb : "", first, sizeof first);
    ws_x224_cr cr = {.has_neg = 1,
                     .requested_protocols = o->no_rdstls ? WS_PROTOCOL_SSL : WS_PROTOCOL_RDSTLS | WS_PROTOCOL_SSL};
    size_t m = n ? ws_x224_cr_encode(&cr, first + n, sizeof first - n) : 0;
    if (!n || !m || host_send(h, first, n + m) != 0)
        return ws_client_fail(r, "host-tls", 0, "cannot send the pre-connection PDU");
    uint8_t tpkt[1024];
    size_t tl = 0;
    if (host_tpkt(h, tpkt, sizeof tpkt, &tl, &e) != 0 || ws_x224_cc_decode(tpkt, tl, cc, &e) != 0)
        return ws_client_fail(r, "host-tls", 0, "no Connection Confirm from the host: %s", e.msg);
    if (!cc->has_neg || cc->neg_type != WS_NEG_TYPE_RSP)
        return ws_client_fail(r, "host-tls", cc->value, "the host refused the security negotiation (failure code 0x%08X)",
                              cc->value);
    return 0;
}

/* TLS with the host, then its certificate judged as Remote Desktop Connection does:
 * against full_address (a name or an IP address), with the client's trust, under the
 * file's authentication level (wire/rdpfile.h ws_rdp_server_auth). A warning the tenant
 * accepts goes into *warning (n bytes; "" when none). t->ssl is set when made (the
 * caller frees it). */
static int host_tls(ws_state *st, hosttls *t, const char *full_address, int auth_level, int strict, char *warning,
                    size_t n, ws_connect_result *r)
{
    ws_error e;
    warning[0] = '\0';
    SSL_CTX *ctx = ws_tls_client_ctx(st, "client", &e);
    if (!ctx)
        return ws_client_fail(r, "host-tls", 0, "%s", e.msg);
    t->ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_connect_state(t->ssl);
    ws_peer_check peer;
    ws_tls_record_peer(t->ssl, full_address, &peer);
    for (;;) {
        int hr = SSL_do_handshake(t->ssl);
        if (hr == 1)
            break;
        int err = SSL_get_error(t->ssl, hr);
        if (err == SSL_ERROR_WANT_READ) {
            if (ht_pump_out(t) != 0 || ht_pump_in(t, &e) != 0)
                return ws_client_fail(r, "host-tls", 0, "TLS with the host: %s", e.msg);
            continue;
        }
        ERR_clear_error();
        ht_pump_out(t);
        return ws_client_fail(r, "host-tls", 0, "the TLS handshake with the host failed");
    }
    ht_pump_out(t);
    char why[600];
    ws_tls_peer_text(&peer, why, sizeof why);
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    char *subject = cert ? ws_cert_subject(cert) : NULL;
    ws_srvauth verdict = ws_rdp_server_auth(auth_level, peer.problems, strict);
    int rc = 0;
    if (verdict == WS_SRVAUTH_FAIL) {
        /* [field] 0x607 for a name the certificate does not carry; [model] the same
         * code when server authentication is required (level 1, --strict). */
        rc = ws_client_fail(r, "host-tls", WS_DISC_HOST_AUTH, "the host's certificate %s, for '%s': %s%s",
                            subject ? subject : "?", full_address, why,
                            auth_level == 1 || strict ? "; server authentication is required" : "");
    } else if (verdict == WS_SRVAUTH_WARN) {
        snprintf(warning, n, "warning: %s: %s (the host's certificate %s)",
                 auth_level == 0 ? "accepted without a prompt (authentication level 0)"
                                 : "The identity of the remote computer cannot be verified; the tenant connects anyway",
                 why, subject ? subject : "?");
    }
    free(subject);
    return rc;
}

/* ---- host-auth ---- */

/* The host chose TLS without RDSTLS: there is no VMToken to hand over, only credentials
 * in the Client Info (the administrator's path); the host decides. */
static int host_without_rdstls(hosttls *t, uint32_t selected, const char *full_address, const char *warning,
                               const ws_connect_opts *o, ws_connect_result *r)
{
    ws_client_hop(r, "host-tls", 1, "TLS with %s (the host selected TLS without RDSTLS)%s%s", full_address,
                  warning[0] ? "; " : "", warning);
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
    if (ws_client_console(t, selected, domain, user, o->admin_password, o, r) == 0)
        return 0;
    if (!o->admin_user && strcmp(r->stage, "console") == 0) {
        /* The tenant's client without RDSTLS: report it where Remote Desktop Connection does. */
        snprintf(r->stage, sizeof r->stage, "host-auth");
        snprintf(r->hops[r->nhops - 1].stage, sizeof r->hops[r->nhops - 1].stage, "host-auth");
    }
    return -1;
}

/* RDSTLS (REFERENCE.md section 8): the host's capabilities, the VMToken as a federated
 * authentication token, the host's result code. */
static int host_rdstls(hosttls *t, const char *token, ws_connect_result *r)
{
    ws_error e;
    uint8_t caps_pdu[8];
    ws_rdstls_capabilities caps;
    if (ws_hosttls_read(t, caps_pdu, sizeof caps_pdu, &e) != 0 ||
        ws_rdstls_decode_capabilities(caps_pdu, sizeof caps_pdu, &caps, &e) != 0)
        return ws_client_fail(r, "host-auth", 0, "RDSTLS capabilities: %s", e.msg);
    ws_rdstls_auth_request *ar = calloc(1, sizeof *ar);
    uint8_t *req = malloc(20000);
    size_t rl = 0;
    if (ar && req) {
        ar->version = WS_RDSTLS_VERSION_2;
        ar->data_type = WS_RDSTLS_DATA_FEDAUTH_TOKEN;
        snprintf(ar->token, sizeof ar->token, "%s", token ? token : "");
        rl = ws_rdstls_encode_auth_request(ar, req, 20000);
    }
    uint8_t rsp_pdu[10];
    ws_rdstls_auth_response rsp;
    int sent = rl != 0 && ws_hosttls_write(t, req, rl) == 0;
    free(ar);
    free(req);
    if (!sent || ws_hosttls_read(t, rsp_pdu, sizeof rsp_pdu, &e) != 0 ||
        ws_rdstls_decode_auth_response(rsp_pdu, sizeof rsp_pdu, &rsp, &e) != 0)
        return ws_client_fail(r, "host-auth", 0, "RDSTLS authentication: %s", e.msg);
    if (rsp.result_code != WS_RDSTLS_SUCCESS)
        return ws_client_fail(r, "host-auth", rsp.result_code, "the host refused the VMToken: %s (0x%X)",
                              ws_rdstls_result_name(rsp.result_code), rsp.result_code);
    ws_client_hop(r, "host-auth", 1, "the host accepted the VMToken (RDSTLS version %u answer)", rsp.version);
    return 0;
}

static int host_session(ws_state *st, hostlink *h, hosttls *t, const ws_rdp_file *f, const ws_connect_opts *o,
                        ws_connect_result *r)
{
    const char *full_address = ws_rdp_get(f, "full address");
    const char *pcb = ws_rdp_get(f, "pcb");
    ws_x224_cc cc;
    char warning[900];
    if (host_negotiate(h, pcb, o, &cc, r) != 0 ||
        host_tls(st, t, full_address, ws_rdp_auth_level(f), o->strict, warning, sizeof warning, r) != 0)
        return -1;
    if (cc.value != WS_PROTOCOL_RDSTLS)
        return host_without_rdstls(t, cc.value, full_address, warning, o, r);
    ws_client_hop(r, "host-tls", 1, "pre-connection PDU for %s, RDSTLS selected, TLS with %s%s%s", pcb ? pcb : "",
                  full_address, warning[0] ? "; " : "", warning);
    if (host_rdstls(t, ws_rdp_get(f, "endpointfedauth"), r) != 0 ||
        ws_client_console(t, cc.value, NULL, NULL, NULL, o, r) != 0)
        return -1;
    r->has_code = 1;
    r->code = 0;
    return 0;
}

int ws_client_host_hops(ws_state *st, gwlink *g, const ws_rdp_file *f, const ws_connect_opts *o,
                        ws_connect_result *r)
{
    hostlink h = {.g = g, .direct_fd = o->direct_fd};
    ws_buf_init(&h.in, WS_BUF_MAX_CLIENT_LINK);
    hosttls t = {.h = &h};
    int rc = host_session(st, &h, &t, f, o, r);
    if (t.ssl)
        SSL_free(t.ssl);
    ws_buf_free(&h.in);
    return rc;
}
