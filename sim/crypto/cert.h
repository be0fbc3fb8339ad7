/* SPDX-License-Identifier: Apache-2.0 */
/* cert: X.509 certificates and their keys, with OpenSSL 3. Creating a CA, self-signed
 * and CA-issued RSA certificates (subject, DNS/IP SANs, EKUs, key usage, validity);
 * the Windows thumbprint; PFX files that carry the key's Cryptographic Service
 * Provider as the "Microsoft CSP Name" bag attribute (REFERENCE.md section 5); and
 * reading PEM, DER or PFX back. Knows nothing of the lab: see vault.h and store.h. */
#ifndef WAPSIM_CERT_H
#define WAPSIM_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>

#include "base/util.h"

/* The CSP Windows puts on a key made by Microsoft's enhanced provider (PROV_RSA_AES). */
#define WS_CSP_ENHANCED_RSA_AES "Microsoft Enhanced RSA and AES Cryptographic Provider"
#define WS_CSP_SCHANNEL "Microsoft RSA SChannel Cryptographic Provider"

typedef struct ws_cert_spec {
    const char *subject;   /* "CN=Remote Console Connect" or "CN=a, O=b" (most specific first) */
    const char *san;       /* "DNS:rdgw.contoso.com,IP:127.0.0.1" or NULL */
    const char *eku;       /* "serverAuth,clientAuth" or NULL for none */
    const char *key_usage; /* "digitalSignature,keyEncipherment" or NULL for none */
    int is_ca;             /* a CA: basicConstraints CA:TRUE, keyCertSign and cRLSign */
    int key_bits;          /* 0: 2048 */
    int64_t not_before;    /* unix seconds */
    int64_t not_after;     /* unix seconds */
} ws_cert_spec;

/* A new RSA key and certificate. With issuer NULL it is self-signed; otherwise the
 * issuer's certificate and key sign it. SHA-256 signature. */
int ws_cert_create(const ws_cert_spec *spec, X509 *issuer, EVP_PKEY *issuer_key, X509 **cert_out,
                   EVP_PKEY **key_out, ws_error *e);

/* A stand-in for a certificate whose private key did not travel (a customer's, from a
 * deployment file: lab/deployment.h): the same version, serial, subject, issuer name,
 * validity and extensions, a new key of the same kind and size (RSA bits, EC curve),
 * signed with the same digest by issuer_key (issuer's stand-in), or by its own new key
 * when issuer is NULL (self-signed, or an issuer the deployment lacks: then a stand-in
 * of that issuer is made by the caller). Key identifiers are made anew from the new
 * keys (subjectKeyIdentifier, authorityKeyIdentifier: only when the original had them).
 * 0, or -1 with e naming what could not be copied (a key type the lab cannot make). */
int ws_cert_standin(X509 *orig, X509 *issuer, EVP_PKEY *issuer_key, X509 **cert_out, EVP_PKEY **key_out,
                    ws_error *e);
/* The two halves of ws_cert_standin: a new key like orig's (RSA above WS_STANDIN_MAX_RSA_BITS
 * gets that size, [model]), and the stand-in signed for a key the caller has (and keeps): a
 * deployment's certificates sharing one public key (a renewal) share one stand-in key. */
#define WS_STANDIN_MAX_RSA_BITS 4096
EVP_PKEY *ws_cert_standin_key(X509 *orig, ws_error *e);
int ws_cert_standin_with_key(X509 *orig, X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key, X509 **cert_out,
                             ws_error *e);

/* Thumbprint: SHA-1 of the DER, upper-case hex, no separators (41 bytes). */
void ws_cert_thumbprint(X509 *cert, char out[41]);
int ws_thumbprint_valid(const char *s);
/* Canonical form of a thumbprint an operator typed (spaces and colons removed,
 * upper case); -1 when it is not 40 hex digits. */
int ws_thumbprint_normalize(const char *in, char out[41]);

/* Descriptions, in Windows' spelling where it has one. Caller frees. */
char *ws_cert_subject(X509 *cert);   /* "CN=rdgw.contoso.com, O=Contoso" */
char *ws_cert_issuer(X509 *cert);
char *ws_cert_sans(X509 *cert);      /* "DNS:a,IP:1.2.3.4" or "" */
char *ws_cert_ekus(X509 *cert);      /* "serverAuth,clientAuth" or "" */
char *ws_cert_key_usage(X509 *cert); /* "digitalSignature,keyEncipherment" or "" */
int64_t ws_cert_not_before(X509 *cert);
int64_t ws_cert_not_after(X509 *cert);
int ws_cert_self_signed(X509 *cert);

/* DER and PKCS#8 DER encodings, for the vault. Caller frees with OPENSSL_free. */
int ws_cert_to_der(X509 *cert, unsigned char **der, size_t *len);
X509 *ws_cert_from_der(const unsigned char *der, size_t len);
int ws_key_to_der(EVP_PKEY *key, unsigned char **der, size_t *len);
EVP_PKEY *ws_key_from_der(const unsigned char *der, size_t len);

/* PEM text of a certificate, and of a key (PKCS#8). Caller frees. */
char *ws_cert_to_pem(X509 *cert);
char *ws_key_to_pem(EVP_PKEY *key);

/* A PFX (PKCS#12) holding the certificate and, when given, its key, whose bag
 * carries the CSP name when csp is not NULL. Caller frees *der with OPENSSL_free. */
int ws_pfx_export(X509 *cert, EVP_PKEY *key, const char *csp, const char *password, unsigned char **der,
                  size_t *len, ws_error *e);

/* Read a certificate file as an administrator would hand it over: PEM (certificate,
 * optionally followed by its key), DER, or PFX (with password; its CSP attribute is
 * returned in *csp, or NULL). key and csp may be NULL when not wanted. */
int ws_cert_read(const unsigned char *data, size_t len, const char *password, X509 **cert, EVP_PKEY **key,
                 char **csp, ws_error *e);

/* Verify leaf against trust anchors (roots) with intermediates (untrusted may be
 * NULL) at time at. On failure e holds OpenSSL's reason, e.g. "unable to get local
 * issuer certificate" or "certificate has expired". */
int ws_cert_verify_chain(X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509) *roots, int64_t at,
                         ws_error *e);

#endif
