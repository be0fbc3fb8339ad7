/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/csp.c: the provider table, HRESULT messages, and signing as
 * CryptSignHash would through each provider (REFERENCE.md section 2), checked with
 * OpenSSL and with the openssl command line. */
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "harness.h"

#include "crypto/cert.h"
#include "crypto/csp.h"
#include "base/util.h"

#define CSP_BASE "Microsoft Base Cryptographic Provider v1.0"
#define CSP_STRONG "Microsoft Strong Cryptographic Provider"
#define CSP_ENHANCED "Microsoft Enhanced Cryptographic Provider v1.0"
#define CSP_SMART_CARD "Microsoft Base Smart Card Crypto Provider"
#define CSP_KSP "Microsoft Software Key Storage Provider"
#define CSP_PLATFORM "Microsoft Platform Crypto Provider"

/* A HostToken payload, as the gateway would check it (REFERENCE.md section 3). */
static const char payload[] = "Host=hv01.contoso.com&Port=2179&ExpiresOn=1700000600";

static X509 *vmm_cert;
static EVP_PKEY *vmm_key;

static int group_setup(void **state)
{
    (void)state;
    ws_error e = {""};
    const ws_cert_spec spec = {
        .subject = "CN=Remote Console Connect",
        .eku = "clientAuth",
        .key_usage = "digitalSignature",
        .key_bits = 2048,
        .not_before = 1700000000LL,
        .not_after = 1700000000LL + 365LL * 86400,
    };
    if (ws_cert_create(&spec, NULL, NULL, &vmm_cert, &vmm_key, &e) != 0) {
        fprintf(stderr, "group setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(vmm_cert);
    EVP_PKEY_free(vmm_key);
    return 0;
}

/* Verify sig over data with the certificate's public key, PKCS#1 v1.5. */
static int verifies(const EVP_MD *md, const unsigned char *sig, size_t sig_len, const void *data, size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, X509_get0_pubkey(vmm_cert)) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

/* ---- the provider table ------------------------------------------------------ */

static void test_provider_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int type, sha256;
    } want[] = {
        {CSP_BASE, WS_PROV_RSA_FULL, 0},
        {CSP_STRONG, WS_PROV_RSA_FULL, 0},
        {CSP_ENHANCED, WS_PROV_RSA_FULL, 0},
        {CSP_SMART_CARD, WS_PROV_RSA_FULL, 0},
        {WS_CSP_ENHANCED_RSA_AES, WS_PROV_RSA_AES, 1},
        {WS_CSP_SCHANNEL, WS_PROV_RSA_SCHANNEL, 1},
        {CSP_KSP, WS_PROV_CNG_KSP, 1},
        {CSP_PLATFORM, WS_PROV_CNG_KSP, 1},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const ws_csp *c = ws_csp_find(want[i].name);
        assert_non_null(c);
        assert_string_equal(c->name, want[i].name);
        assert_int_equal(c->prov_type, want[i].type);
        assert_int_equal(c->sha256, want[i].sha256);
    }
    /* PROV_RSA_AES is type 24, PROV_RSA_FULL type 1 (REFERENCE.md section 2). */
    assert_int_equal(ws_csp_find(WS_CSP_ENHANCED_RSA_AES)->prov_type, 24);
    assert_int_equal(ws_csp_find(CSP_STRONG)->prov_type, 1);
}

static void test_find_case_insensitive(void **state)
{
    (void)state;
    const ws_csp *c = ws_csp_find("microsoft enhanced rsa and aes cryptographic provider");
    assert_non_null(c);
    assert_string_equal(c->name, WS_CSP_ENHANCED_RSA_AES);
    assert_ptr_equal(ws_csp_find("MICROSOFT STRONG CRYPTOGRAPHIC PROVIDER"), ws_csp_find(CSP_STRONG));
    assert_null(ws_csp_find("Foo"));
    assert_null(ws_csp_find(""));
    assert_null(ws_csp_find(NULL));
    assert_null(ws_csp_find("Microsoft Enhanced RSA and AES Cryptographic Provider "));
    assert_null(ws_csp_find("Microsoft Enhanced RSA and AES"));
}

static void test_default_provider(void **state)
{
    (void)state;
    assert_string_equal(ws_csp_default_name(), "Microsoft Enhanced Cryptographic Provider v1.0");
    const ws_csp *c = ws_csp_find(ws_csp_default_name());
    assert_non_null(c);
    assert_int_equal(c->prov_type, WS_PROV_RSA_FULL);
    assert_false(c->sha256);
}

static void test_hresult_messages(void **state)
{
    (void)state;
    assert_string_equal(ws_hresult_message(WS_NTE_BAD_ALGID), "Invalid algorithm specified.");
    assert_string_equal(ws_hresult_message(0x80090008u), "Invalid algorithm specified.");
    assert_string_equal(ws_hresult_message(WS_NTE_KEYSET_NOT_DEF), "The keyset is not defined.");
    assert_string_equal(ws_hresult_message(WS_NTE_BAD_KEY), "Bad Key.");
    assert_string_equal(ws_hresult_message(0), "");
    assert_string_equal(ws_hresult_message(0x12345678u), "");
}

/* ---- signing ----------------------------------------------------------------- */

static void test_aes_provider_signs_sha256(void **state)
{
    (void)state;
    ws_error e = {""};
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    uint32_t hr = 0xdeadbeef;
    assert_int_equal(ws_csp_sign(WS_CSP_ENHANCED_RSA_AES, vmm_key, "SHA256", payload, strlen(payload), &sig,
                                 &sig_len, &hr, &e),
                     0);
    assert_int_equal(hr, 0);
    assert_int_equal(sig_len, 256); /* RSA-2048 */
    assert_true(verifies(EVP_sha256(), sig, sig_len, payload, strlen(payload)));
    assert_false(verifies(EVP_sha1(), sig, sig_len, payload, strlen(payload)));
    assert_false(verifies(EVP_sha256(), sig, sig_len, payload, strlen(payload) - 1));

    /* PKCS#1 v1.5 is deterministic: the same input gives the same bytes. */
    unsigned char *again = NULL;
    size_t again_len = 0;
    assert_int_equal(ws_csp_sign("microsoft enhanced rsa and aes cryptographic provider", vmm_key, "SHA256",
                                 payload, strlen(payload), &again, &again_len, NULL, &e),
                     0);
    assert_int_equal(again_len, sig_len);
    assert_memory_equal(again, sig, sig_len);
    OPENSSL_free(sig);
    OPENSSL_free(again);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_sha256_providers_sign(void **state)
{
    (void)state;
    const char *names[] = {WS_CSP_SCHANNEL, CSP_KSP, CSP_PLATFORM};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ws_error e = {""};
        unsigned char *sig = NULL;
        size_t sig_len = 0;
        uint32_t hr = 1;
        assert_int_equal(ws_csp_sign(names[i], vmm_key, "SHA256", payload, strlen(payload), &sig, &sig_len, &hr, &e),
                         0);
        assert_int_equal(hr, 0);
        assert_true(verifies(EVP_sha256(), sig, sig_len, payload, strlen(payload)));
        OPENSSL_free(sig);
    }
}

/* Mistake 2 of the seed: a key in a PROV_RSA_FULL provider cannot hash SHA-256. */
static void test_rsa_full_providers_refuse_sha256(void **state)
{
    (void)state;
    const char *names[] = {CSP_STRONG, CSP_BASE, CSP_ENHANCED, CSP_SMART_CARD,
                           "microsoft strong cryptographic provider"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ws_error e = {""};
        unsigned char *sig = (unsigned char *)"untouched";
        size_t sig_len = 99;
        uint32_t hr = 0;
        assert_int_equal(ws_csp_sign(names[i], vmm_key, "SHA256", payload, strlen(payload), &sig, &sig_len, &hr, &e),
                         -1);
        assert_int_equal(hr, 0x80090008u);
        /* Exactly the Windows text: VMM writes it verbatim in its trace. */
        assert_string_equal(e.msg, "Invalid algorithm specified.");
        assert_null(sig);
        assert_int_equal(sig_len, 0);
    }
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_default_provider_refuses_sha256(void **state)
{
    (void)state;
    ws_error e = {""};
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    uint32_t hr = 0;
    assert_int_equal(ws_csp_sign(NULL, vmm_key, "SHA256", payload, strlen(payload), &sig, &sig_len, &hr, &e), -1);
    assert_int_equal(hr, WS_NTE_BAD_ALGID);
    assert_string_equal(e.msg, "Invalid algorithm specified.");
    assert_null(sig);

    /* ... but SHA-1 it can. */
    assert_int_equal(ws_csp_sign(NULL, vmm_key, "SHA1", payload, strlen(payload), &sig, &sig_len, &hr, &e), 0);
    assert_true(verifies(EVP_sha1(), sig, sig_len, payload, strlen(payload)));
    OPENSSL_free(sig);
}

static void test_sha1_works_on_rsa_providers(void **state)
{
    (void)state;
    const char *names[] = {CSP_STRONG, CSP_BASE, CSP_ENHANCED, CSP_SMART_CARD, WS_CSP_ENHANCED_RSA_AES,
                           WS_CSP_SCHANNEL};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ws_error e = {""};
        unsigned char *sig = NULL;
        size_t sig_len = 0;
        uint32_t hr = 1;
        assert_int_equal(ws_csp_sign(names[i], vmm_key, "SHA1", payload, strlen(payload), &sig, &sig_len, &hr, &e),
                         0);
        assert_int_equal(hr, 0);
        assert_true(verifies(EVP_sha1(), sig, sig_len, payload, strlen(payload)));
        assert_false(verifies(EVP_sha256(), sig, sig_len, payload, strlen(payload)));
        OPENSSL_free(sig);
    }
}

static void test_unknown_provider(void **state)
{
    (void)state;
    ws_error e = {""};
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    uint32_t hr = 0;
    assert_int_equal(ws_csp_sign("Foo", vmm_key, "SHA256", payload, strlen(payload), &sig, &sig_len, &hr, &e), -1);
    assert_int_equal(hr, 0x80090019u);
    assert_string_equal(e.msg, "CSP 'Foo' is not a provider on this machine: The keyset is not defined. (0x80090019)");
    assert_null(sig);

    /* Unknown provider wins over an unknown algorithm: CryptAcquireContext comes first. */
    assert_int_equal(ws_csp_sign("Contoso HSM", vmm_key, "MD5", "x", 1, &sig, &sig_len, &hr, &e), -1);
    assert_int_equal(hr, WS_NTE_KEYSET_NOT_DEF);
    assert_contains(e.msg, "'Contoso HSM'");

    /* A very long name is cut in the message, not overflowing it. */
    char longname[2000];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(ws_csp_sign(longname, vmm_key, "SHA256", "x", 1, &sig, &sig_len, &hr, &e), -1);
    assert_int_equal(hr, WS_NTE_KEYSET_NOT_DEF);
    assert_contains(e.msg, "CSP 'AAAA");
    assert_contains(e.msg, "(0x80090019)");
}

static void test_other_hash_algorithms_refused(void **state)
{
    (void)state;
    const char *algs[] = {"MD5", "SHA384", "SHA512", "sha256", "SHA-256", "", NULL};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        ws_error e = {""};
        unsigned char *sig = NULL;
        size_t sig_len = 0;
        uint32_t hr = 0;
        assert_int_equal(
            ws_csp_sign(WS_CSP_ENHANCED_RSA_AES, vmm_key, algs[i], payload, strlen(payload), &sig, &sig_len, &hr, &e),
            -1);
        assert_int_equal(hr, WS_NTE_BAD_ALGID);
        assert_string_equal(e.msg, "Invalid algorithm specified.");
        assert_null(sig);
    }
}

static void test_bad_keys_refused(void **state)
{
    (void)state;
    ws_error e = {""};
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    uint32_t hr = 0;

    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(ec);
    assert_int_equal(ws_csp_sign(WS_CSP_ENHANCED_RSA_AES, ec, "SHA256", "x", 1, &sig, &sig_len, &hr, &e), -1);
    assert_int_equal(hr, 0x80090003u);
    assert_string_equal(e.msg, "Bad Key.");
    assert_null(sig);
    EVP_PKEY_free(ec);

    hr = 0;
    assert_int_equal(ws_csp_sign(WS_CSP_ENHANCED_RSA_AES, NULL, "SHA256", "x", 1, &sig, &sig_len, &hr, &e), -1);
    assert_int_equal(hr, WS_NTE_BAD_KEY);

    /* A public key alone cannot sign (read back from DER: the certificate's own
     * cached key object would still hold the private half). */
    hr = 0;
    unsigned char *der = NULL;
    int der_len = i2d_PUBKEY(X509_get0_pubkey(vmm_cert), &der);
    assert_true(der_len > 0);
    const unsigned char *p = der;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, der_len);
    OPENSSL_free(der);
    assert_non_null(pub);
    int rc = ws_csp_sign(WS_CSP_ENHANCED_RSA_AES, pub, "SHA256", "x", 1, &sig, &sig_len, &hr, &e);
    EVP_PKEY_free(pub);
    assert_int_equal(rc, -1);
    assert_int_equal(hr, WS_NTE_BAD_KEY);
    assert_string_equal(e.msg, "Bad Key.");
    assert_null(sig);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    ws_error e = {""};
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    uint32_t hr = 0;
    assert_int_equal(ws_csp_sign(WS_CSP_ENHANCED_RSA_AES, vmm_key, "SHA256", NULL, 5, &sig, &sig_len, &hr, &e), -1);
    assert_int_equal(hr, 0x80070057u);
    assert_int_equal(ws_csp_sign(WS_CSP_ENHANCED_RSA_AES, vmm_key, "SHA256", "x", 1, NULL, &sig_len, &hr, &e), -1);
    assert_int_equal(ws_csp_sign(WS_CSP_ENHANCED_RSA_AES, vmm_key, "SHA256", "x", 1, &sig, NULL, &hr, &e), -1);
    /* NULL hresult and NULL error are allowed. */
    assert_int_equal(ws_csp_sign("Foo", vmm_key, "SHA256", "x", 1, &sig, &sig_len, NULL, NULL), -1);
    assert_int_equal(ws_csp_sign(CSP_STRONG, vmm_key, "SHA256", "x", 1, &sig, &sig_len, NULL, NULL), -1);

    /* Empty data is signable. */
    assert_int_equal(ws_csp_sign(WS_CSP_ENHANCED_RSA_AES, vmm_key, "SHA256", "", 0, &sig, &sig_len, &hr, &e), 0);
    assert_true(verifies(EVP_sha256(), sig, sig_len, "", 0));
    OPENSSL_free(sig);
}

/* ---- the openssl command line agrees ---------------------------------------- */

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ws_error e;
    return ws_write_file(path, data, len, 0600, &e);
}

static int openssl_verify(const char *dir, const char *digest)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl dgst -%s -verify '%s/pub.pem' -signature '%s/sig.bin' '%s/payload.txt' >/dev/null 2>&1", digest,
             dir, dir, dir);
    return system(cmd);
}

static void test_openssl_command_line_verifies(void **state)
{
    (void)state;
    char dir[] = "/tmp/wapsim-test-csp-XXXXXX";
    assert_non_null(mkdtemp(dir));

    ws_error e = {""};
    unsigned char *sig = NULL, *sig1 = NULL;
    size_t sig_len = 0, sig1_len = 0;
    assert_int_equal(ws_csp_sign(WS_CSP_ENHANCED_RSA_AES, vmm_key, "SHA256", payload, strlen(payload), &sig,
                                 &sig_len, NULL, &e),
                     0);
    assert_int_equal(
        ws_csp_sign(CSP_STRONG, vmm_key, "SHA1", payload, strlen(payload), &sig1, &sig1_len, NULL, &e), 0);

    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, X509_get0_pubkey(vmm_cert)), 1);
    char *pem = NULL;
    long pem_len = BIO_get_mem_data(bio, &pem);

    int pem_ok = write_file(dir, "pub.pem", pem, (size_t)pem_len);
    int sig_ok = write_file(dir, "sig.bin", sig, sig_len);
    int payload_ok = write_file(dir, "payload.txt", payload, strlen(payload));
    int good = openssl_verify(dir, "sha256");
    int wrong_digest = openssl_verify(dir, "sha1");

    char altered[sizeof payload];
    memcpy(altered, payload, sizeof payload);
    altered[strlen("Host=hv01.contoso.com&Port=217")] = '8'; /* Port=2178 */
    int altered_ok = write_file(dir, "payload.txt", altered, strlen(altered));
    int bad = openssl_verify(dir, "sha256");

    /* The SHA-1 signature of the Strong provider verifies as SHA-1. */
    int restore_ok = write_file(dir, "payload.txt", payload, strlen(payload));
    int sig1_ok = write_file(dir, "sig.bin", sig1, sig1_len);
    int good_sha1 = openssl_verify(dir, "sha1");

    BIO_free(bio);
    OPENSSL_free(sig);
    OPENSSL_free(sig1);
    const char *files[] = {"pub.pem", "sig.bin", "payload.txt"};
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);

    assert_int_equal(pem_ok, 0);
    assert_int_equal(sig_ok, 0);
    assert_int_equal(payload_ok, 0);
    assert_int_equal(altered_ok, 0);
    assert_int_equal(restore_ok, 0);
    assert_int_equal(sig1_ok, 0);
    assert_int_equal(good, 0);
    assert_int_not_equal(wrong_digest, 0);
    assert_int_not_equal(bad, 0);
    assert_int_equal(good_sha1, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provider_table),
        cmocka_unit_test(test_find_case_insensitive),
        cmocka_unit_test(test_default_provider),
        cmocka_unit_test(test_hresult_messages),
        cmocka_unit_test(test_aes_provider_signs_sha256),
        cmocka_unit_test(test_sha256_providers_sign),
        cmocka_unit_test(test_rsa_full_providers_refuse_sha256),
        cmocka_unit_test(test_default_provider_refuses_sha256),
        cmocka_unit_test(test_sha1_works_on_rsa_providers),
        cmocka_unit_test(test_unknown_provider),
        cmocka_unit_test(test_other_hash_algorithms_refused),
        cmocka_unit_test(test_bad_keys_refused),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_openssl_command_line_verifies),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
