/* SPDX-License-Identifier: Apache-2.0 */
/* tls: see tls.h. */
#include "crypto/tls.h"

#include <openssl/err.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <openssl/x509v3.h>

X509_STORE *ws_tls_store_new(STACK_OF(X509) *roots, ws_error *e)
{
    X509_STORE *store = X509_STORE_new();
    if (!store) {
        ws_seterr(e, "cannot create a certificate store");
        return NULL;
    }
    for (int i = 0; i < sk_X509_num(roots); i++)
        X509_STORE_add_cert(store, sk_X509_value(roots, i));
    ERR_clear_error(); /* a root listed twice is no error */
    return store;
}

void ws_tls_trust_store(SSL_CTX *ctx, X509_STORE *store, int64_t now)
{
    SSL_CTX_set1_cert_store(ctx, store); /* takes a reference, frees the old store */
    X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(ctx), (time_t)now);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
}

int ws_tls_trust(SSL_CTX *ctx, STACK_OF(X509) *roots, int64_t now, ws_error *e)
{
    X509_STORE *store = ws_tls_store_new(roots, e);
    if (!store)
        return -1;
    ws_tls_trust_store(ctx, store, now);
    X509_STORE_free(store);
    return 0;
}

SSL_CTX *ws_tls_client_ctx_new(ws_error *e)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        ws_seterr(e, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    return ctx;
}

SSL_CTX *ws_tls_server_ctx_new(X509 *cert, EVP_PKEY *key, STACK_OF(X509) *candidates, const char *name,
                               ws_error *e)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || !key || SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ws_seterr(e, "cannot use certificate '%s' for TLS", name);
        SSL_CTX_free(ctx);
        ERR_clear_error();
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Send the issuing chain when the candidates hold it. */
    for (int i = 0; i < sk_X509_num(candidates); i++) {
        X509 *c = sk_X509_value(candidates, i);
        if (X509_check_issued(c, cert) == X509_V_OK && X509_cmp(c, cert) != 0)
            SSL_CTX_add1_chain_cert(ctx, c);
    }
    ERR_clear_error();
    return ctx;
}


/* The expected name on a verification's parameters: one rule for a connection and
 * for a check without one. */
/* X509_check_host's flags for ours. */
static unsigned int host_flags(unsigned flags)
{
    return flags & WS_PEER_NO_WILDCARDS ? X509_CHECK_FLAG_NO_WILDCARDS : 0;
}

static int expect_param(X509_VERIFY_PARAM *p, const char *name, unsigned flags)
{
    if (ws_is_ip_literal(name))
        return X509_VERIFY_PARAM_set1_ip_asc(p, name) == 1 ? 0 : -1;
    X509_VERIFY_PARAM_set_hostflags(p, host_flags(flags));
    return X509_VERIFY_PARAM_set1_host(p, name, 0) == 1 ? 0 : -1;
}

int ws_tls_expect_peer_flags(SSL *ssl, const char *name, unsigned flags)
{
    if (!ws_is_ip_literal(name))
        SSL_set_tlsext_host_name(ssl, name);
    return expect_param(SSL_get0_param(ssl), name, flags);
}

/* ---- the peer's certificate, judged after the handshake ---- */

static unsigned peer_problem_of(int err)
{
    switch (err) {
    case X509_V_OK: return 0;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return WS_PEER_NAME;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID: return WS_PEER_VALIDITY;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED: return WS_PEER_UNTRUSTED;
    default: return WS_PEER_OTHER;
    }
}

static int peer_index = -1;
static pthread_once_t peer_once = PTHREAD_ONCE_INIT;
static void peer_index_new(void)
{
    peer_index = SSL_get_ex_new_index(0, "ws_peer_check", NULL, NULL, NULL);
}

/* Record the problem and go on: the client judges the whole certificate afterwards. */
static int record_cb(int ok, X509_STORE_CTX *x)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    ws_peer_check *c = ssl ? SSL_get_ex_data(ssl, peer_index) : X509_STORE_CTX_get_app_data(x);
    if (!ok && c) {
        int err = X509_STORE_CTX_get_error(x);
        c->problems |= peer_problem_of(err);
        if (!c->first_error)
            c->first_error = err;
    }
    return 1;
}

int ws_tls_record_peer(SSL *ssl, const char *name, ws_peer_check *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name ? name : "");
    pthread_once(&peer_once, peer_index_new);
    if (peer_index < 0 || SSL_set_ex_data(ssl, peer_index, out) != 1)
        return -1;
    SSL_set_verify(ssl, SSL_VERIFY_PEER, record_cb);
    return name ? ws_tls_expect_peer(ssl, name) : 0;
}

unsigned ws_tls_check_peer(X509 *leaf, STACK_OF(X509) *chain, STACK_OF(X509) *roots, int64_t now,
                           const char *name, ws_peer_check *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name ? name : "");
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *x = X509_STORE_CTX_new();
    if (!store || !x || X509_STORE_CTX_init(x, store, leaf, chain) != 1) {
        out->problems = WS_PEER_OTHER;
        goto end;
    }
    for (int i = 0; i < sk_X509_num(roots); i++)
        X509_STORE_add_cert(store, sk_X509_value(roots, i));
    /* As libssl verifies a server for a client. */
    X509_STORE_CTX_set_default(x, "ssl_server");
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(x), (time_t)now);
    if (name)
        expect_param(X509_STORE_CTX_get0_param(x), name, 0);
    X509_STORE_CTX_set_app_data(x, out);
    X509_STORE_CTX_set_verify_cb(x, record_cb);
    if (X509_verify_cert(x) != 1 && !out->problems)
        out->problems = WS_PEER_OTHER;
end:
    X509_STORE_CTX_free(x);
    X509_STORE_free(store);
    ERR_clear_error();
    return out->problems;
}

const char *ws_tls_peer_text(const ws_peer_check *c, char *buf, size_t n)
{
    /* The errors the identity dialog lists (Microsoft, "Remote Desktop Connection (RDP) -
     * Certificate Warnings", 2017); the exact wording is [model]. */
    static const struct {
        unsigned bit;
        const char *text;
    } rows[] = {
        {WS_PEER_UNTRUSTED, "the certificate is not from a trusted certifying authority"},
        {WS_PEER_VALIDITY, "the certificate has expired or is not yet valid"},
        {WS_PEER_NAME, "the name in the certificate does not match"},
        {WS_PEER_OTHER, "the certificate is not valid"},
    };
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (!(c->problems & rows[i].bit) || used >= n)
            continue;
        int w;
        if (rows[i].bit == WS_PEER_NAME)
            w = snprintf(buf + used, n - used, "%s%s '%s'", used ? "; " : "", rows[i].text, c->name);
        else if (rows[i].bit == WS_PEER_OTHER)
            w = snprintf(buf + used, n - used, "%s%s (%s)", used ? "; " : "", rows[i].text,
                         X509_verify_cert_error_string(c->first_error));
        else
            w = snprintf(buf + used, n - used, "%s%s", used ? "; " : "", rows[i].text);
        if (w > 0)
            used += (size_t)w;
    }
    return buf;
}

int ws_tls_expect_peer(SSL *ssl, const char *name)
{
    return ws_tls_expect_peer_flags(ssl, name, 0);
}

int ws_cert_matches_peer(X509 *cert, const char *name, unsigned flags)
{
    int r = ws_is_ip_literal(name) ? X509_check_ip_asc(cert, name, 0)
                                   : X509_check_host(cert, name, 0, host_flags(flags), NULL);
    ERR_clear_error();
    return r == 1;
}

int ws_tls_is_record(const uint8_t *p, size_t n)
{
    return n >= 2 && p[0] >= 20 && p[0] <= 23 && p[1] == 3;
}

const char *ws_tls_bytes_text(const uint8_t *p, size_t n, char *buf, size_t cap)
{
    size_t shown = n < 24 ? n : 24, printable = 0;
    while (printable < shown && p[printable] >= 0x20 && p[printable] < 0x7f)
        printable++;
    buf[0] = '\0';
    if (shown && printable == shown) {
        snprintf(buf, cap, "\"%.*s%s\"", (int)shown, (const char *)p, n > shown ? "..." : "");
        return buf;
    }
    size_t used = 0;
    for (size_t i = 0; i < shown && used + 4 < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%02x", i ? " " : "", p[i]);
    if (n > shown && used + 4 < cap)
        snprintf(buf + used, cap - used, " ...");
    return buf;
}
