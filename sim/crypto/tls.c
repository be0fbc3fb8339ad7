/* tls: see tls.h. */
#include "crypto/tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

int ws_tls_trust(SSL_CTX *ctx, STACK_OF(X509) *roots, int64_t now, ws_error *e)
{
    X509_STORE *store = X509_STORE_new();
    if (!store)
        return ws_seterr(e, "cannot create a certificate store");
    for (int i = 0; i < sk_X509_num(roots); i++)
        X509_STORE_add_cert(store, sk_X509_value(roots, i));
    SSL_CTX_set_cert_store(ctx, store); /* takes ownership, frees the old store */
    X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(ctx), (time_t)now);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
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


/* X509_check_host's flags for ours. */
static unsigned int host_flags(unsigned flags)
{
    return flags & WS_PEER_NO_WILDCARDS ? X509_CHECK_FLAG_NO_WILDCARDS : 0;
}

int ws_tls_expect_peer_flags(SSL *ssl, const char *name, unsigned flags)
{
    if (ws_is_ip_literal(name))
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
    SSL_set_tlsext_host_name(ssl, name);
    SSL_set_hostflags(ssl, host_flags(flags));
    return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
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
