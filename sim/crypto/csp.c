/* SPDX-License-Identifier: Apache-2.0 */
/* csp: see csp.h. The provider table is what decides whether a key can sign a
 * SHA-256 token (REFERENCE.md section 2); the signature itself is OpenSSL's. */
#include "crypto/csp.h"

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <string.h>

#define WS_NTE_FAIL 0x80090020u     /* "An internal error occurred." */
#define WS_E_INVALIDARG 0x80070057u /* "The parameter is incorrect." */

/* The providers a stock Windows Server 2012 R2 has. PROV_RSA_FULL providers hash
 * MD5 and SHA-1 only; PROV_RSA_AES and the CNG key storage providers also hash
 * SHA-256 (REFERENCE.md section 2). */
static const ws_csp providers[] = {
    {"Microsoft Base Cryptographic Provider v1.0", WS_PROV_RSA_FULL, 0},
    {"Microsoft Strong Cryptographic Provider", WS_PROV_RSA_FULL, 0},
    {"Microsoft Enhanced Cryptographic Provider v1.0", WS_PROV_RSA_FULL, 0},
    {"Microsoft Base Smart Card Crypto Provider", WS_PROV_RSA_FULL, 0},
    {"Microsoft Enhanced RSA and AES Cryptographic Provider", WS_PROV_RSA_AES, 1},
    /* [model] PROV_RSA_SCHANNEL hashes SHA-2 in CryptoAPI, but whether VMM's token
     * signing succeeds with a key held there is not published; the lab lets it sign. */
    {"Microsoft RSA SChannel Cryptographic Provider", WS_PROV_RSA_SCHANNEL, 1},
    {"Microsoft Software Key Storage Provider", WS_PROV_CNG_KSP, 1},
    {"Microsoft Platform Crypto Provider", WS_PROV_CNG_KSP, 1},
};

static const struct {
    uint32_t hresult;
    const char *message;
} hresults[] = {
    {WS_NTE_BAD_KEY, "Bad Key."},
    {WS_NTE_BAD_ALGID, "Invalid algorithm specified."},
    {WS_NTE_KEYSET_NOT_DEF, "The keyset is not defined."},
    {WS_NTE_FAIL, "An internal error occurred."},
    {WS_E_INVALIDARG, "The parameter is incorrect."},
};

const ws_csp *ws_csp_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++)
        if (ws_streq_ci(providers[i].name, name))
            return &providers[i];
    return NULL;
}

/* [model] CryptImportPFX without a CSP attribute (and without PKCS12_ALWAYS_CNG_KSP)
 * puts the key in the default PROV_RSA_FULL provider, which on Windows Server 2012 R2
 * is the Enhanced v1.0 provider: such a PFX gives VMM a key that cannot hash SHA-256. */
const char *ws_csp_default_name(void)
{
    return "Microsoft Enhanced Cryptographic Provider v1.0";
}

const char *ws_hresult_message(uint32_t hresult)
{
    for (size_t i = 0; i < sizeof hresults / sizeof hresults[0]; i++)
        if (hresults[i].hresult == hresult)
            return hresults[i].message;
    return "";
}

/* Fail with a Windows HRESULT; e holds its message verbatim (VMM traces it as is). */
static int fail(uint32_t hr, uint32_t *hresult, ws_error *e)
{
    if (hresult)
        *hresult = hr;
    ERR_clear_error();
    return ws_seterr(e, "%s", ws_hresult_message(hr));
}

int ws_csp_sign(const char *csp_name, EVP_PKEY *key, const char *hash_alg, const void *data, size_t len,
                unsigned char **sig, size_t *sig_len, uint32_t *hresult, ws_error *e)
{
    if (!sig || !sig_len || (!data && len > 0))
        return fail(WS_E_INVALIDARG, hresult, e);
    *sig = NULL;
    *sig_len = 0;

    /* The checks run in CryptoAPI's order: CryptAcquireContext names the provider,
     * CryptCreateHash asks it for the algorithm, CryptSignHash then uses the key. */
    const char *name = csp_name ? csp_name : ws_csp_default_name();
    const ws_csp *csp = ws_csp_find(name);
    if (!csp) {
        if (hresult)
            *hresult = WS_NTE_KEYSET_NOT_DEF;
        return ws_seterr(e, "CSP '%.200s' is not a provider on this machine: %s (0x%08X)", name,
                         ws_hresult_message(WS_NTE_KEYSET_NOT_DEF), WS_NTE_KEYSET_NOT_DEF);
    }

    const EVP_MD *md = NULL;
    if (hash_alg && strcmp(hash_alg, "SHA1") == 0)
        md = EVP_sha1();
    else if (hash_alg && strcmp(hash_alg, "SHA256") == 0 && csp->sha256)
        md = EVP_sha256();
    if (!md)
        return fail(WS_NTE_BAD_ALGID, hresult, e);

    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
        return fail(WS_NTE_BAD_KEY, hresult, e);

    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *out = NULL;
    size_t out_len = 0;
    if (!ctx)
        return fail(WS_NTE_FAIL, hresult, e);
    /* A key the provider cannot sign with (a public key only) is a bad key too. */
    if (EVP_DigestSignInit(ctx, &pctx, md, NULL, key) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
        EVP_DigestSign(ctx, NULL, &out_len, data, len) != 1 || out_len == 0 || !(out = OPENSSL_malloc(out_len)) ||
        EVP_DigestSign(ctx, out, &out_len, data, len) != 1) {
        OPENSSL_free(out);
        EVP_MD_CTX_free(ctx);
        return fail(WS_NTE_BAD_KEY, hresult, e);
    }
    EVP_MD_CTX_free(ctx);
    *sig = out;
    *sig_len = out_len;
    if (hresult)
        *hresult = 0;
    return 0;
}
