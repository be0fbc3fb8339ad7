/* tls: see tls.h. */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "store.h"
#include "vault.h"

int ws_tls_trust_machine(SSL_CTX *ctx, ws_state *st, const char *machine, ws_error *e)
{
    STACK_OF(X509) *roots = ws_store_certs(st, machine, "Root", e);
    if (!roots)
        return -1;
    X509_STORE *store = X509_STORE_new();
    for (int i = 0; i < sk_X509_num(roots); i++)
        X509_STORE_add_cert(store, sk_X509_value(roots, i));
    sk_X509_pop_free(roots, X509_free);
    SSL_CTX_set_cert_store(ctx, store); /* takes ownership, frees the old store */
    X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(ctx), (time_t)ws_clock_now(st, machine));
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return 0;
}

SSL_CTX *ws_tls_client_ctx(ws_state *st, const char *machine, ws_error *e)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        ws_seterr(e, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (ws_tls_trust_machine(ctx, st, machine, e) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL_CTX *ws_tls_server_ctx(ws_state *st, const char *machine, const char *cert_name, ws_error *e)
{
    int has_key = 0;
    if (!ws_store_contains(st, machine, "My", cert_name, &has_key) || !has_key) {
        ws_seterr(e, "certificate '%s' is not in %s's LocalMachine\\My with its private key", cert_name, machine);
        return NULL;
    }
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    if (ws_vault_get(st, cert_name, &cert, &key, NULL, e) != 0)
        return NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || !key || SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ws_seterr(e, "cannot use certificate '%s' for TLS", cert_name);
        SSL_CTX_free(ctx);
        ctx = NULL;
    } else {
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        /* Send the issuing chain from the machine's stores when there is one. */
        STACK_OF(X509) *mine = ws_store_certs(st, machine, "My", NULL);
        for (int i = 0; i < sk_X509_num(mine); i++) {
            X509 *c = sk_X509_value(mine, i);
            if (X509_check_issued(c, cert) == X509_V_OK && X509_cmp(c, cert) != 0)
                SSL_CTX_add1_chain_cert(ctx, c);
        }
        sk_X509_pop_free(mine, X509_free);
    }
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    return ctx;
}
