/* SPDX-License-Identifier: Apache-2.0 */
/* csp: Windows' CryptoAPI providers, as far as Console Connect depends on them.
 *
 * A key on Windows lives in a Cryptographic Service Provider, named in a PFX by the
 * key bag's "Microsoft CSP Name" attribute (cert.h). What the provider can hash
 * decides whether VMM can sign its SHA-256 tokens: PROV_RSA_AES providers can,
 * PROV_RSA_FULL providers (Base, Strong, Enhanced v1.0) cannot and fail with
 * NTE_BAD_ALGID, "Invalid algorithm specified." (REFERENCE.md section 2). Signing
 * goes through ws_csp_sign so that the failure comes from the provider's real
 * capability table, not from a flag. */
#ifndef WAPSIM_CSP_H
#define WAPSIM_CSP_H

#include <openssl/evp.h>
#include <stdint.h>

#include "base/util.h"

#define WS_PROV_RSA_FULL 1
#define WS_PROV_RSA_SCHANNEL 12
#define WS_PROV_RSA_AES 24
#define WS_PROV_CNG_KSP 0 /* a CNG key storage provider, not a CryptoAPI type */

/* HRESULTs and their Windows messages (FormatMessage text). */
#define WS_NTE_BAD_ALGID 0x80090008u      /* "Invalid algorithm specified." */
#define WS_NTE_KEYSET_NOT_DEF 0x80090019u /* "The keyset is not defined." */
#define WS_NTE_BAD_KEY 0x80090003u        /* "Bad Key." */

typedef struct ws_csp {
    const char *name;
    int prov_type;
    int sha256; /* can hash SHA-256 (and SHA-384/512) */
} ws_csp;

/* The provider of that name (case-insensitive), or NULL when Windows has none. */
const ws_csp *ws_csp_find(const char *name);
/* The provider a key without a CSP attribute lands in on import: the default
 * PROV_RSA_FULL provider [model: CryptImportPFX without PKCS12_ALWAYS_CNG_KSP]. */
const char *ws_csp_default_name(void);
/* "Invalid algorithm specified." for WS_NTE_BAD_ALGID, etc.; "" when unknown. */
const char *ws_hresult_message(uint32_t hresult);

/* Sign data as CryptSignHash through provider csp_name would (csp_name NULL: the
 * default provider): hash_alg is "SHA256" or "SHA1"; RSA PKCS#1 v1.5. On failure
 * returns -1 with *hresult set (when not NULL) and e holding the Windows message.
 * *sig is freed with OPENSSL_free. */
int ws_csp_sign(const char *csp_name, EVP_PKEY *key, const char *hash_alg, const void *data, size_t len,
                unsigned char **sig, size_t *sig_len, uint32_t *hresult, ws_error *e);

#endif
