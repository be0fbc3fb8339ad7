/* machine_tls: see machine_tls.h. */
#include "svc/machine_tls.h"

#include "crypto/tls.h"
#include "lab/clock.h"
#include "lab/store.h"
#include "lab/vault.h"

int ws_tls_trust_machine(SSL_CTX *ctx, ws_state *st, const char *machine, ws_error *e)
{
    STACK_OF(X509) *roots = ws_store_certs(st, machine, "Root", e);
    if (!roots)
        return -1;
    int rc = ws_tls_trust(ctx, roots, ws_clock_now(st, machine), e);
    sk_X509_pop_free(roots, X509_free);
    return rc;
}

SSL_CTX *ws_tls_client_ctx(ws_state *st, const char *machine, ws_error *e)
{
    SSL_CTX *ctx = ws_tls_client_ctx_new(e);
    if (ctx && ws_tls_trust_machine(ctx, st, machine, e) != 0) {
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
    STACK_OF(X509) *mine = ws_store_certs(st, machine, "My", NULL);
    SSL_CTX *ctx = ws_tls_server_ctx_new(cert, key, mine, cert_name, e);
    sk_X509_pop_free(mine, X509_free);
    X509_free(cert);
    EVP_PKEY_free(key);
    return ctx;
}
