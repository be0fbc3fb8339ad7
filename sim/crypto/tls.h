/* SPDX-License-Identifier: Apache-2.0 */
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
/* A certificate store holding exactly roots (copied), the trust anchors of
 * ws_tls_trust_store. Filled once and then only read, it may be shared by many
 * contexts and threads (X509_STORE is reference-counted and locks its lookups).
 * The caller frees it with X509_STORE_free; NULL with e set. */
X509_STORE *ws_tls_store_new(STACK_OF(X509) *roots, ws_error *e);
/* Replace ctx's trust with store (ctx takes its own reference) and verify peers at
 * time now; turns peer verification on. */
void ws_tls_trust_store(SSL_CTX *ctx, X509_STORE *store, int64_t now);
/* A TLS 1.2+ client context, no trust yet (ws_tls_trust gives it). */
SSL_CTX *ws_tls_client_ctx_new(ws_error *e);
/* A TLS 1.2+ server context presenting cert with key; each certificate of
 * candidates that issued cert is sent as its chain. name is for the error. */
SSL_CTX *ws_tls_server_ctx_new(X509 *cert, EVP_PKEY *key, STACK_OF(X509) *candidates, const char *name,
                               ws_error *e);
/* How a client compares its peer's certificate with the name it was given: one rule,
 * for a live handshake (ws_tls_expect_peer*) and for a certificate in hand
 * (ws_cert_matches_peer, which certreq and diagnose use):
 * - an IP address literal (IPv4 or IPv6, what ws_is_ip_literal says) matches only an
 *   IP SAN: never a DNS SAN or a CN that spells it (RFC 6125 s1.7.2; OpenSSL
 *   X509_check_ip_asc); no SNI is sent for it (RFC 6066 s3: no literal addresses);
 * - a name matches a DNS SAN, or the CN when there is no DNS SAN (RFC 6125,
 *   X509_check_host), and is sent as SNI. */
#define WS_PEER_NO_WILDCARDS 0x1 /* a wildcard DNS name (*.contoso.com) does not stand for the name */
/* What Remote Desktop Connection accepts as the RD Gateway's name: no wildcard. Microsoft's
 * guide to the token-authenticated RD Gateway (the RDGatewayFedAuth plug-in that VMM ships):
 * "Wild-card TLS/SSL certificates don't work" (learn.microsoft.com, Azure DevTest Labs,
 * "Configure and use a remote desktop gateway", Gateway machine requirements; REFERENCE.md
 * section 2 says the same of the load-balanced gateway). [model] Where it fails is not
 * published: the lab fails it at the client's name check, 50331654, like any other name
 * the certificate does not carry; an exact DNS name beside the wildcard still matches. */
#define WS_PEER_RDGATEWAY WS_PEER_NO_WILDCARDS
/* Expect name (flags WS_PEER_*) on ssl's peer certificate; 0 or -1. */
int ws_tls_expect_peer_flags(SSL *ssl, const char *name, unsigned flags);
/* ws_tls_expect_peer_flags(ssl, name, 0). */
int ws_tls_expect_peer(SSL *ssl, const char *name);
/* 1 when cert carries name as a client with these flags accepts it, else 0. */
int ws_cert_matches_peer(X509 *cert, const char *name, unsigned flags);

/* What a client finds wrong with its peer's certificate, as bits. Remote Desktop
 * Connection completes TLS, then judges the certificate and, by the .rdp file's
 * "authentication level", warns or stops (wire/rdpfile.h ws_rdp_server_auth). */
#define WS_PEER_UNTRUSTED 0x1u /* no chain to a root the client trusts (self-signed, unknown issuer) */
#define WS_PEER_VALIDITY 0x2u  /* expired or not yet valid on the client's clock */
#define WS_PEER_NAME 0x4u      /* does not name what the client asked for (ws_tls_expect_peer) */
#define WS_PEER_OTHER 0x8u     /* anything else (wrong purpose, bad signature) */

typedef struct ws_peer_check {
    unsigned problems; /* WS_PEER_* bits; 0: the certificate is fine */
    int first_error;   /* the first X509_V_ERR_* seen (0: none) */
    char name[256];    /* the name expected, for the text */
} ws_peer_check;

/* Let ssl's handshake complete whatever is wrong with the peer's certificate (the
 * client decides afterwards), recording each problem in *out, which must outlive the
 * handshake. name: what the client asked for (ws_tls_expect_peer is called with it). */
int ws_tls_record_peer(SSL *ssl, const char *name, ws_peer_check *out);
/* The same judgement without a connection: leaf (chain: intermediates, may be NULL)
 * against roots at time now for name, as a TLS client would (purpose ssl_server).
 * Returns out->problems. */
unsigned ws_tls_check_peer(X509 *leaf, STACK_OF(X509) *chain, STACK_OF(X509) *roots, int64_t now,
                           const char *name, ws_peer_check *out);
/* One line, the certificate errors as Remote Desktop Connection lists them: "the
 * certificate is not from a trusted certifying authority; ..." ([model] wording). */
const char *ws_tls_peer_text(const ws_peer_check *c, char *buf, size_t n);

/* 1 when the n bytes at p (n >= 2) open a TLS record (RFC 5246 6.2.1: ContentType 20..23,
 * then ProtocolVersion major 3), 0 when they cannot: plain HTTP where TLS was due, or
 * an HTTP answer where a TLS peer would have sent an alert. */
int ws_tls_is_record(const uint8_t *p, size_t n);
/* The first bytes at p (at most n, cut at 24) as printable text for a message:
 * "RDG_OUT_DATA /remoteDeskt..." or hex "15 03 03 00 02 ...". Returns buf. */
const char *ws_tls_bytes_text(const uint8_t *p, size_t n, char *buf, size_t cap);

#endif
