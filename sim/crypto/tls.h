/* tls: OpenSSL TLS contexts from certificates already in hand. A client context
 * trusts exactly the roots it is given and verifies at a given time (a machine's
 * lab clock, not the wall clock); a server context presents one certificate with
 * its key and the issuers found among candidates. svc/machine_tls.h builds these
 * from a lab machine's stores. The caller frees a returned context. */
#ifndef WAPSIM_CRYPTO_TLS_H
#define WAPSIM_CRYPTO_TLS_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "base/net.h"
#include "base/util.h"

/* Replace ctx's trust with roots (copied; the caller keeps its stack) and verify
 * peers at time now; turns peer verification on. */
int ws_tls_trust(SSL_CTX *ctx, STACK_OF(X509) *roots, int64_t now, ws_error *e);
/* A TLS 1.2+ client context, no trust yet (ws_tls_trust gives it). */
SSL_CTX *ws_tls_client_ctx_new(ws_error *e);
/* A TLS 1.2+ server context presenting cert with key; each certificate of
 * candidates that issued cert is sent as its chain. name is for the error. */
SSL_CTX *ws_tls_server_ctx_new(X509 *cert, EVP_PKEY *key, STACK_OF(X509) *candidates, const char *name,
                               ws_error *e);
/* The name a client expects its peer's certificate to carry: an IP address literal
 * (IPv4 or IPv6) matches only an IP SAN, anything else a DNS SAN or the CN (RFC 6125,
 * X509_check_host); SNI is sent only for a name (RFC 6066 s3: no literal addresses). */
int ws_tls_expect_peer(SSL *ssl, const char *name);

#endif
