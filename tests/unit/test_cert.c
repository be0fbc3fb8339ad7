/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/cert.c: creating certificates, describing them, thumbprints,
 * PFX/PEM/DER round trips with the CSP attribute, refusals, chain verification. */
#include <ctype.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "harness.h"

#include "crypto/cert.h"
#include "crypto/tls.h"
#include "base/util.h"

/* ---- shared certificates, made once ------------------------------------------ */

#define CA_NOT_BEFORE 1600000000LL   /* 2020-09-13 */
#define CA_NOT_AFTER 2000000000LL    /* 2033-05-18 */
#define LEAF_NOT_BEFORE 1700000000LL /* 2023-11-14 */
#define LEAF_NOT_AFTER (LEAF_NOT_BEFORE + 365LL * 86400)

static X509 *ca_cert, *leaf_cert, *client_cert;
static EVP_PKEY *ca_key, *leaf_key, *client_key;

static const ws_cert_spec ca_spec = {
    .subject = "CN=Contoso Root CA, O=Contoso",
    .is_ca = 1,
    .key_bits = 1024,
    .not_before = CA_NOT_BEFORE,
    .not_after = CA_NOT_AFTER,
};

static const ws_cert_spec leaf_spec = {
    .subject = "CN=rdgw.contoso.com",
    .san = "DNS:rdgw.contoso.com,IP:127.0.0.1",
    .eku = "serverAuth",
    .key_usage = "digitalSignature,keyEncipherment",
    .key_bits = 1024,
    .not_before = LEAF_NOT_BEFORE,
    .not_after = LEAF_NOT_AFTER,
};

/* key_bits 0: the default, 2048 (checked below). */
static const ws_cert_spec client_spec = {
    .subject = "CN=Remote Console Connect",
    .eku = "clientAuth",
    .key_usage = "digitalSignature",
    .not_before = LEAF_NOT_BEFORE,
    .not_after = LEAF_NOT_AFTER,
};

static int group_setup(void **state)
{
    (void)state;
    ws_error e = {""};
    if (ws_cert_create(&ca_spec, NULL, NULL, &ca_cert, &ca_key, &e) != 0 ||
        ws_cert_create(&leaf_spec, ca_cert, ca_key, &leaf_cert, &leaf_key, &e) != 0 ||
        ws_cert_create(&client_spec, NULL, NULL, &client_cert, &client_key, &e) != 0) {
        fprintf(stderr, "group setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(ca_cert);
    X509_free(leaf_cert);
    X509_free(client_cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(client_key);
    return 0;
}

static void thumbprint_of(X509 *cert, char out[41])
{
    ws_cert_thumbprint(cert, out);
    assert_int_equal(strlen(out), 40);
}

/* ---- creation and description ------------------------------------------------ */

static void test_ca(void **state)
{
    (void)state;
    assert_owned_string(ws_cert_subject(ca_cert), "CN=Contoso Root CA, O=Contoso");
    assert_owned_string(ws_cert_issuer(ca_cert), "CN=Contoso Root CA, O=Contoso");
    assert_true(ws_cert_self_signed(ca_cert));
    assert_int_equal(X509_check_ca(ca_cert), 1);
    assert_owned_string(ws_cert_key_usage(ca_cert), "keyCertSign,cRLSign");
    assert_owned_string(ws_cert_ekus(ca_cert), "");
    assert_owned_string(ws_cert_sans(ca_cert), "");
    assert_int_equal(ws_cert_not_before(ca_cert), CA_NOT_BEFORE);
    assert_int_equal(ws_cert_not_after(ca_cert), CA_NOT_AFTER);
    assert_int_equal(EVP_PKEY_get_bits(ca_key), 1024);
    assert_int_equal(X509_check_private_key(ca_cert, ca_key), 1);
    assert_int_equal(X509_get_version(ca_cert), X509_VERSION_3);
    /* Signed with SHA-256 by its own key. */
    assert_int_equal(X509_get_signature_nid(ca_cert), NID_sha256WithRSAEncryption);
    assert_int_equal(X509_verify(ca_cert, ca_key), 1);
}

static void test_ca_issued_leaf(void **state)
{
    (void)state;
    assert_owned_string(ws_cert_subject(leaf_cert), "CN=rdgw.contoso.com");
    assert_owned_string(ws_cert_issuer(leaf_cert), "CN=Contoso Root CA, O=Contoso");
    assert_owned_string(ws_cert_sans(leaf_cert), "DNS:rdgw.contoso.com,IP:127.0.0.1");
    assert_owned_string(ws_cert_ekus(leaf_cert), "serverAuth");
    assert_owned_string(ws_cert_key_usage(leaf_cert), "digitalSignature,keyEncipherment");
    assert_int_equal(ws_cert_not_before(leaf_cert), LEAF_NOT_BEFORE);
    assert_int_equal(ws_cert_not_after(leaf_cert), LEAF_NOT_AFTER);
    assert_false(ws_cert_self_signed(leaf_cert));
    assert_int_equal(X509_check_ca(leaf_cert), 0);
    /* Signed by the CA's key, not its own; carries its own public key. */
    assert_int_equal(X509_verify(leaf_cert, ca_key), 1);
    assert_int_equal(X509_verify(leaf_cert, leaf_key), 0);
    ERR_clear_error();
    assert_int_equal(X509_check_private_key(leaf_cert, leaf_key), 1);
    assert_int_equal(X509_check_issued(ca_cert, leaf_cert), X509_V_OK);
    /* Name matching as the gateway's clients do it (REFERENCE.md section 5). */
    assert_int_equal(X509_check_host(leaf_cert, "rdgw.contoso.com", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(leaf_cert, "rdgw01", 0, 0, NULL), 0);
    assert_int_equal(X509_check_ip_asc(leaf_cert, "127.0.0.1", 0), 1);
}

static void test_self_signed_client(void **state)
{
    (void)state;
    assert_owned_string(ws_cert_subject(client_cert), "CN=Remote Console Connect");
    assert_owned_string(ws_cert_issuer(client_cert), "CN=Remote Console Connect");
    assert_owned_string(ws_cert_ekus(client_cert), "clientAuth");
    assert_owned_string(ws_cert_key_usage(client_cert), "digitalSignature");
    assert_owned_string(ws_cert_sans(client_cert), "");
    assert_true(ws_cert_self_signed(client_cert));
    assert_int_equal(X509_check_ca(client_cert), 0);
    assert_int_equal(ws_cert_not_before(client_cert), LEAF_NOT_BEFORE);
    assert_int_equal(ws_cert_not_after(client_cert), LEAF_NOT_AFTER);
    assert_int_equal(EVP_PKEY_get_bits(client_key), 2048); /* key_bits 0 */
    assert_int_equal(X509_verify(client_cert, client_key), 1);
    /* Two certificates never share a serial number or a key. */
    assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(client_cert), X509_get0_serialNumber(leaf_cert)),
                         0);
    assert_int_not_equal(EVP_PKEY_eq(client_key, leaf_key), 1);
}

static void test_subject_order_round_trips(void **state)
{
    (void)state;
    static const char *const subjects[] = {
        "CN=a, O=b",
        "CN=rdgw.contoso.com, OU=IT, O=Contoso, L=Redmond, ST=WA, C=US",
        "E=admin@contoso.com, CN=vmm01.fabric.contoso.local",
    };
    ws_error e = {""};
    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
        ws_cert_spec spec = leaf_spec;
        spec.subject = subjects[i];
        spec.san = NULL;
        X509 *c = NULL;
        EVP_PKEY *k = NULL;
        if (ws_cert_create(&spec, NULL, NULL, &c, &k, &e) != 0)
            fail_msg("%s: %s", subjects[i], e.msg);
        char *got = ws_cert_subject(c);
        char *issuer = ws_cert_issuer(c);
        int ok = strcmp(got, subjects[i]) == 0 && strcmp(issuer, subjects[i]) == 0;
        if (!ok)
            fprintf(stderr, "subject %s came back as %s (issuer %s)\n", subjects[i], got, issuer);
        /* DER holds the most specific part last, as Windows' CertNameToStr reverses. */
        X509_NAME *name = X509_get_subject_name(c);
        int last = X509_NAME_entry_count(name) - 1;
        int last_nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, last)));
        int first_nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, 0)));
        free(got);
        free(issuer);
        X509_free(c);
        EVP_PKEY_free(k);
        assert_true(ok);
        if (i == 0) {
            assert_int_equal(last, 1);
            assert_int_equal(last_nid, NID_commonName);
            assert_int_equal(first_nid, NID_organizationName);
        }
    }
}

/* ---- thumbprints --------------------------------------------------------------- */

static void test_thumbprint_is_sha1_of_der(void **state)
{
    (void)state;
    X509 *certs[] = {ca_cert, leaf_cert, client_cert};
    char seen[3][41];
    for (size_t c = 0; c < 3; c++) {
        char tp[41];
        thumbprint_of(certs[c], tp);
        for (int i = 0; i < 40; i++)
            assert_true(isdigit((unsigned char)tp[i]) || (tp[i] >= 'A' && tp[i] <= 'F'));
        assert_true(ws_thumbprint_valid(tp));

        unsigned char *der = NULL;
        int n = i2d_X509(certs[c], &der);
        assert_true(n > 0);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        int ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha1(), NULL);
        OPENSSL_free(der);
        assert_int_equal(ok, 1);
        assert_int_equal(mdlen, 20);
        char want[41];
        for (unsigned i = 0; i < mdlen; i++)
            snprintf(want + 2 * i, 3, "%02X", md[i]);
        assert_string_equal(tp, want);
        snprintf(seen[c], sizeof seen[c], "%s", tp);
    }
    assert_string_not_equal(seen[0], seen[1]);
    assert_string_not_equal(seen[1], seen[2]);
}

static void test_thumbprint_valid(void **state)
{
    (void)state;
    assert_true(ws_thumbprint_valid("14590DC5C3AAF238FCFD7785B4B93F4071402C34"));
    assert_false(ws_thumbprint_valid("14590DC5C3AAF238FCFD7785B4B93F4071402C3"));
    assert_false(ws_thumbprint_valid("14590DC5C3AAF238FCFD7785B4B93F4071402C345"));
    assert_false(ws_thumbprint_valid("14590DC5C3AAF238FCFD7785B4B93F4071402C3G"));
    assert_false(ws_thumbprint_valid(""));
    assert_false(ws_thumbprint_valid(NULL));
}

static void test_thumbprint_normalize(void **state)
{
    (void)state;
    const char *want = "14590DC5C3AAF238FCFD7785B4B93F4071402C34";
    static const char *const accepted[] = {
        "14590DC5C3AAF238FCFD7785B4B93F4071402C34",
        "14590dc5c3aaf238fcfd7785b4b93f4071402c34",
        "14 59 0d c5 c3 aa f2 38 fc fd 77 85 b4 b9 3f 40 71 40 2c 34",
        "14:59:0D:C5:C3:AA:F2:38:FC:FD:77:85:B4:B9:3F:40:71:40:2C:34",
        "  14590dc5 c3aaf238\tfcfd7785:b4b93f40 71402C34  ",
    };
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        char out[41] = "";
        if (ws_thumbprint_normalize(accepted[i], out) != 0)
            fail_msg("refused '%s'", accepted[i]);
        assert_string_equal(out, want);
    }

    static const char *const refused[] = {
        "14590DC5C3AAF238FCFD7785B4B93F4071402C3",               /* 39 digits */
        "14590DC5C3AAF238FCFD7785B4B93F4071402C345",             /* 41 digits */
        "14 59 0d c5 c3 aa f2 38 fc fd 77 85 b4 b9 3f 40 71 40 2c", /* 38 digits */
        "14590DC5C3AAF238FCFD7785B4B93F4071402C3G",              /* not hex */
        "14590DC5-C3AAF238FCFD7785B4B93F4071402C34",             /* a dash */
        "0x14590DC5C3AAF238FCFD7785B4B93F4071402C",              /* 0x prefix */
        "",
        "   ",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char out[41];
        if (ws_thumbprint_normalize(refused[i], out) != -1)
            fail_msg("accepted '%s'", refused[i]);
    }
    /* A real certificate's thumbprint, typed in lower case with spaces. */
    char tp[41], typed[80], out[41];
    thumbprint_of(leaf_cert, tp);
    size_t n = 0;
    for (int i = 0; i < 40; i += 2) {
        typed[n++] = (char)tolower((unsigned char)tp[i]);
        typed[n++] = (char)tolower((unsigned char)tp[i + 1]);
        typed[n++] = ' ';
    }
    typed[n - 1] = '\0';
    assert_int_equal(ws_thumbprint_normalize(typed, out), 0);
    assert_string_equal(out, tp);
}

/* ---- encodings ---------------------------------------------------------------- */

static void test_pfx_round_trip_with_csp(void **state)
{
    (void)state;
    ws_error e = {""};
    unsigned char *der = NULL;
    size_t len = 0;
    assert_int_equal(ws_pfx_export(leaf_cert, leaf_key, WS_CSP_ENHANCED_RSA_AES, "P@ssw0rd!", &der, &len, &e), 0);
    assert_non_null(der);
    assert_true(len > 100);

    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    char *csp = NULL;
    int rc = ws_cert_read(der, len, "P@ssw0rd!", &cert, &key, &csp, &e);
    OPENSSL_free(der);
    if (rc != 0)
        fail_msg("ws_cert_read: %s", e.msg);
    char want[41], got[41];
    thumbprint_of(leaf_cert, want);
    thumbprint_of(cert, got);
    int key_ok = key && X509_check_private_key(cert, key) == 1 && EVP_PKEY_eq(key, leaf_key) == 1;
    int csp_ok = csp && strcmp(csp, WS_CSP_ENHANCED_RSA_AES) == 0;
    X509_free(cert);
    EVP_PKEY_free(key);
    free(csp);
    assert_string_equal(got, want);
    assert_true(key_ok);
    assert_true(csp_ok);

    /* The SChannel CSP too, and key and csp may be left out of the read. */
    assert_int_equal(ws_pfx_export(client_cert, client_key, WS_CSP_SCHANNEL, "x", &der, &len, &e), 0);
    assert_int_equal(ws_cert_read(der, len, "x", &cert, NULL, NULL, &e), 0);
    thumbprint_of(cert, got);
    X509_free(cert);
    cert = NULL;
    assert_int_equal(ws_cert_read(der, len, "x", &cert, &key, &csp, &e), 0);
    OPENSSL_free(der);
    csp_ok = csp && strcmp(csp, WS_CSP_SCHANNEL) == 0;
    key_ok = key && X509_check_private_key(cert, key) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    free(csp);
    thumbprint_of(client_cert, want);
    assert_string_equal(got, want);
    assert_true(csp_ok);
    assert_true(key_ok);
}

static void test_pfx_wrong_password_refused(void **state)
{
    (void)state;
    ws_error e = {""};
    unsigned char *der = NULL;
    size_t len = 0;
    assert_int_equal(ws_pfx_export(leaf_cert, leaf_key, WS_CSP_ENHANCED_RSA_AES, "right", &der, &len, &e), 0);
    static const char *const wrong[] = {"wrong", "Right", "", NULL};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        X509 *cert = (X509 *)1;
        EVP_PKEY *key = (EVP_PKEY *)1;
        char *csp = (char *)1;
        e.msg[0] = '\0';
        int rc = ws_cert_read(der, len, wrong[i], &cert, &key, &csp, &e);
        if (rc == 0) {
            X509_free(cert);
            EVP_PKEY_free(key);
            free(csp);
            OPENSSL_free(der);
            fail_msg("a PFX opened with password '%s'", wrong[i] ? wrong[i] : "(null)");
        }
        assert_null(cert);
        assert_null(key);
        assert_null(csp);
        assert_contains(e.msg, "password");
    }
    OPENSSL_free(der);
}

static void test_pfx_without_csp_or_password(void **state)
{
    (void)state;
    ws_error e = {""};
    unsigned char *der = NULL;
    size_t len = 0;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    char *csp = (char *)1;

    /* Key, no CSP. */
    assert_int_equal(ws_pfx_export(leaf_cert, leaf_key, NULL, "pw", &der, &len, &e), 0);
    assert_int_equal(ws_cert_read(der, len, "pw", &cert, &key, &csp, &e), 0);
    OPENSSL_free(der);
    int key_ok = key && X509_check_private_key(cert, key) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    assert_null(csp);
    assert_true(key_ok);

    /* No password at all, as "Export without password" would do. */
    cert = NULL;
    key = NULL;
    csp = NULL;
    assert_int_equal(ws_pfx_export(leaf_cert, leaf_key, WS_CSP_ENHANCED_RSA_AES, NULL, &der, &len, &e), 0);
    int rc = ws_cert_read(der, len, NULL, &cert, &key, &csp, &e);
    OPENSSL_free(der);
    if (rc != 0)
        fail_msg("passwordless PFX: %s", e.msg);
    key_ok = key && X509_check_private_key(cert, key) == 1;
    int csp_ok = csp && strcmp(csp, WS_CSP_ENHANCED_RSA_AES) == 0;
    X509_free(cert);
    EVP_PKEY_free(key);
    free(csp);
    assert_true(key_ok);
    assert_true(csp_ok);
}

/* A PFX holding only a certificate, as ws_pfx_export writes with key NULL:
 * OpenSSL 3's PKCS12_parse returns such a certificate in ca, not in cert. */
static void test_pfx_certificate_only(void **state)
{
    (void)state;
    ws_error e = {""};
    unsigned char *der = NULL;
    size_t len = 0;
    X509 *cert = NULL;
    EVP_PKEY *key = (EVP_PKEY *)1;
    char *csp = (char *)1;
    assert_int_equal(ws_pfx_export(ca_cert, NULL, NULL, "pw", &der, &len, &e), 0);
    int rc = ws_cert_read(der, len, "pw", &cert, &key, &csp, &e);
    OPENSSL_free(der);
    if (rc != 0)
        fail_msg("certificate-only PFX: %s", e.msg);
    char want[41], got[41];
    thumbprint_of(ca_cert, want);
    thumbprint_of(cert, got);
    X509_free(cert);
    assert_string_equal(got, want);
    assert_null(key);
    assert_null(csp);
}

static void test_pem_round_trip(void **state)
{
    (void)state;
    ws_error e = {""};
    char *cert_pem = ws_cert_to_pem(leaf_cert);
    char *key_pem = ws_key_to_pem(leaf_key);
    assert_non_null(cert_pem);
    assert_non_null(key_pem);
    assert_int_equal(strncmp(cert_pem, "-----BEGIN CERTIFICATE-----\n", 28), 0);
    assert_int_equal(strncmp(key_pem, "-----BEGIN PRIVATE KEY-----\n", 28), 0); /* PKCS#8 */
    char want[41], got[41];
    thumbprint_of(leaf_cert, want);

    /* Certificate then key, and key then certificate. */
    for (int order = 0; order < 2; order++) {
        char *both = order == 0 ? ws_printf("%s%s", cert_pem, key_pem) : ws_printf("%s%s", key_pem, cert_pem);
        X509 *cert = NULL;
        EVP_PKEY *key = NULL;
        char *csp = (char *)1;
        int rc = ws_cert_read((const unsigned char *)both, strlen(both), NULL, &cert, &key, &csp, &e);
        free(both);
        if (rc != 0)
            fail_msg("PEM order %d: %s", order, e.msg);
        thumbprint_of(cert, got);
        int key_ok = key && X509_check_private_key(cert, key) == 1 && EVP_PKEY_eq(key, leaf_key) == 1;
        X509_free(cert);
        EVP_PKEY_free(key);
        assert_string_equal(got, want);
        assert_true(key_ok);
        assert_null(csp);
    }

    /* Certificate alone: no key. */
    X509 *cert = NULL;
    EVP_PKEY *key = (EVP_PKEY *)1;
    assert_int_equal(ws_cert_read((const unsigned char *)cert_pem, strlen(cert_pem), NULL, &cert, &key, NULL, &e),
                     0);
    thumbprint_of(cert, got);
    X509_free(cert);
    assert_string_equal(got, want);
    assert_null(key);

    /* A key that belongs to another certificate is refused. */
    char *ca_key_pem = ws_key_to_pem(ca_key);
    char *mismatch = ws_printf("%s%s", cert_pem, ca_key_pem);
    cert = (X509 *)1;
    key = (EVP_PKEY *)1;
    e.msg[0] = '\0';
    int rc = ws_cert_read((const unsigned char *)mismatch, strlen(mismatch), NULL, &cert, &key, NULL, &e);
    free(mismatch);
    free(ca_key_pem);
    free(cert_pem);
    free(key_pem);
    assert_int_equal(rc, -1);
    assert_null(cert);
    assert_null(key);
    assert_contains(e.msg, "does not belong");
}

static void test_der_round_trip(void **state)
{
    (void)state;
    ws_error e = {""};
    unsigned char *der = NULL;
    size_t len = 0;
    assert_int_equal(ws_cert_to_der(client_cert, &der, &len), 0);
    assert_true(len > 0);

    X509 *cert = NULL;
    EVP_PKEY *key = (EVP_PKEY *)1;
    char *csp = (char *)1;
    int rc = ws_cert_read(der, len, NULL, &cert, &key, &csp, &e);
    if (rc != 0) {
        OPENSSL_free(der);
        fail_msg("DER: %s", e.msg);
    }
    char want[41], got[41];
    thumbprint_of(client_cert, want);
    thumbprint_of(cert, got);
    X509_free(cert);
    assert_string_equal(got, want);
    assert_null(key);
    assert_null(csp);

    /* ws_cert_from_der: exact, and refuses trailing bytes or truncation. */
    X509 *c = ws_cert_from_der(der, len);
    assert_non_null(c);
    assert_int_equal(X509_cmp(c, client_cert), 0);
    X509_free(c);
    unsigned char *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, der, len);
    longer[len] = 0;
    c = ws_cert_from_der(longer, len + 1);
    free(longer);
    assert_null(c);
    c = ws_cert_from_der(der, len - 1);
    assert_null(c);
    OPENSSL_free(der);
}

static void test_garbage_refused(void **state)
{
    (void)state;
    ws_error e = {""};
    const char *bad_cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    char *key_only_pem = ws_key_to_pem(client_key);
    assert_non_null(key_only_pem);
    unsigned char noise[2000];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)((i * 131 + 7) ^ (i >> 3));
    struct {
        const unsigned char *data;
        size_t len;
        const char *msg;
    } cases[] = {
        {(const unsigned char *)"hello", 5, "not a certificate"},
        {noise, sizeof noise, "neither PEM, DER nor PFX"},
        {(const unsigned char *)"", 0, "not a certificate"},
        {(const unsigned char *)bad_cert_pem, strlen(bad_cert_pem), "holds no certificate"},
        {(const unsigned char *)key_only_pem, strlen(key_only_pem), "holds no certificate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        X509 *cert = (X509 *)1;
        EVP_PKEY *key = (EVP_PKEY *)1;
        char *csp = (char *)1;
        e.msg[0] = '\0';
        int rc = ws_cert_read(cases[i].data, cases[i].len, "pw", &cert, &key, &csp, &e);
        if (rc == 0) {
            X509_free(cert);
            EVP_PKEY_free(key);
            free(csp);
            free(key_only_pem);
            fail_msg("case %zu accepted", i);
        }
        assert_int_equal(rc, -1);
        assert_null(cert);
        assert_null(key);
        assert_null(csp);
        assert_contains(e.msg, cases[i].msg);
    }
    free(key_only_pem);
    /* OpenSSL's error queue is left clean. */
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_key_der_round_trip(void **state)
{
    (void)state;
    unsigned char *der = NULL;
    size_t len = 0;
    assert_int_equal(ws_key_to_der(leaf_key, &der, &len), 0);
    assert_true(len > 0);
    EVP_PKEY *k = ws_key_from_der(der, len);
    int eq = k && EVP_PKEY_eq(k, leaf_key) == 1 && X509_check_private_key(leaf_cert, k) == 1 &&
             X509_check_private_key(ca_cert, k) == 0;
    ERR_clear_error();
    EVP_PKEY_free(k);
    k = ws_key_from_der(der, len / 2);
    OPENSSL_free(der);
    assert_true(eq);
    assert_null(k);
    k = ws_key_from_der((const unsigned char *)"garbage", 7);
    assert_null(k);
}

/* ---- refusals when creating ----------------------------------------------------- */

static void expect_create_refused(const ws_cert_spec *spec, X509 *issuer, EVP_PKEY *issuer_key, const char *msg)
{
    ws_error e = {""};
    X509 *c = NULL;
    EVP_PKEY *k = NULL;
    int rc = ws_cert_create(spec, issuer, issuer_key, &c, &k, &e);
    if (rc == 0) {
        X509_free(c);
        EVP_PKEY_free(k);
        fail_msg("created a certificate for subject '%s' san '%s' eku '%s' ku '%s'",
                 spec->subject ? spec->subject : "(null)", spec->san ? spec->san : "(null)",
                 spec->eku ? spec->eku : "(null)", spec->key_usage ? spec->key_usage : "(null)");
    }
    assert_int_equal(rc, -1);
    assert_null(c);
    assert_null(k);
    assert_contains(e.msg, msg);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_bad_subject_refused(void **state)
{
    (void)state;
    ws_cert_spec spec = leaf_spec;
    spec.subject = "CN";
    expect_create_refused(&spec, NULL, NULL, "'CN' is not KEY=value");
    spec.subject = "XX=foo";
    expect_create_refused(&spec, NULL, NULL, "unknown attribute 'XX'");
    spec.subject = "CN=a, XX=foo";
    expect_create_refused(&spec, NULL, NULL, "unknown attribute 'XX'");
    spec.subject = "CN=";
    expect_create_refused(&spec, NULL, NULL, "bad subject");
    spec.subject = "=foo";
    expect_create_refused(&spec, NULL, NULL, "bad subject");
    spec.subject = "";
    expect_create_refused(&spec, NULL, NULL, "empty subject");
    spec.subject = NULL;
    expect_create_refused(&spec, NULL, NULL, "empty subject");
}

static void test_bad_extensions_refused(void **state)
{
    (void)state;
    ws_cert_spec spec = leaf_spec;
    spec.san = "FOO:bar";
    expect_create_refused(&spec, NULL, NULL, "FOO:bar");
    spec.san = "IP:999.1.1.1";
    expect_create_refused(&spec, NULL, NULL, "Subject Alternative Name");
    spec = leaf_spec;
    spec.eku = "fooAuth";
    expect_create_refused(&spec, NULL, NULL, "fooAuth");
    spec = leaf_spec;
    spec.key_usage = "digitalSignature,bogusUsage";
    expect_create_refused(&spec, NULL, NULL, "bogusUsage");
}

static void test_bad_spec_refused(void **state)
{
    (void)state;
    ws_cert_spec spec = leaf_spec;
    spec.not_after = spec.not_before;
    expect_create_refused(&spec, NULL, NULL, "expire before it starts");
    spec = leaf_spec;
    spec.key_bits = 512;
    expect_create_refused(&spec, NULL, NULL, "key size 512");
    spec.key_bits = 16384;
    expect_create_refused(&spec, NULL, NULL, "key size 16384");
    spec = leaf_spec;
    expect_create_refused(&spec, ca_cert, NULL, "both its certificate and its key");
    expect_create_refused(&spec, NULL, ca_key, "both its certificate and its key");
}

static void test_intermediate_ca(void **state)
{
    (void)state;
    ws_error e = {""};
    ws_cert_spec ispec = ca_spec;
    ispec.subject = "CN=Contoso Issuing CA 01, O=Contoso";
    ispec.key_usage = "digitalSignature";
    X509 *inter = NULL;
    EVP_PKEY *inter_key = NULL;
    assert_int_equal(ws_cert_create(&ispec, ca_cert, ca_key, &inter, &inter_key, &e), 0);
    char *ku = ws_cert_key_usage(inter);
    char *issuer = ws_cert_issuer(inter);
    int self = ws_cert_self_signed(inter);
    int is_ca = X509_check_ca(inter);
    int verified = X509_verify(inter, ca_key);

    X509 *leaf = NULL;
    EVP_PKEY *key = NULL;
    ws_cert_spec lspec = leaf_spec;
    lspec.subject = "CN=hv01.fabric.contoso.local";
    lspec.san = "DNS:hv01.fabric.contoso.local";
    int rc = ws_cert_create(&lspec, inter, inter_key, &leaf, &key, &e);
    char *leaf_issuer = rc == 0 ? ws_cert_issuer(leaf) : NULL;

    STACK_OF(X509) *roots = sk_X509_new_null();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    sk_X509_push(roots, ca_cert);
    sk_X509_push(untrusted, inter);
    int with_inter = rc == 0 ? ws_cert_verify_chain(leaf, untrusted, roots, LEAF_NOT_BEFORE + 10, &e) : -2;
    ws_error e2 = {""};
    int without_inter = rc == 0 ? ws_cert_verify_chain(leaf, NULL, roots, LEAF_NOT_BEFORE + 10, &e2) : -2;
    sk_X509_free(roots);
    sk_X509_free(untrusted);
    X509_free(leaf);
    EVP_PKEY_free(key);
    X509_free(inter);
    EVP_PKEY_free(inter_key);

    int ku_ok = strcmp(ku, "digitalSignature,keyCertSign,cRLSign") == 0;
    int issuer_ok = strcmp(issuer, "CN=Contoso Root CA, O=Contoso") == 0;
    int leaf_issuer_ok = leaf_issuer && strcmp(leaf_issuer, "CN=Contoso Issuing CA 01, O=Contoso") == 0;
    free(ku);
    free(issuer);
    free(leaf_issuer);
    assert_int_equal(rc, 0);
    assert_true(ku_ok);
    assert_true(issuer_ok);
    assert_true(leaf_issuer_ok);
    assert_false(self);
    assert_int_equal(is_ca, 1);
    assert_int_equal(verified, 1);
    assert_int_equal(with_inter, 0);
    assert_int_equal(without_inter, -1);
    assert_contains(e2.msg, "unable to get local issuer certificate");
}

static void test_verify_chain(void **state)
{
    (void)state;
    ws_error e = {""};
    STACK_OF(X509) *roots = sk_X509_new_null();
    STACK_OF(X509) *none = sk_X509_new_null();
    sk_X509_push(roots, ca_cert);
    int64_t inside = LEAF_NOT_BEFORE + 86400;

    int ok = ws_cert_verify_chain(leaf_cert, NULL, roots, inside, &e);
    ws_error e_noroot = {""}, e_expired = {""}, e_early = {""}, e_self = {""};
    int noroot = ws_cert_verify_chain(leaf_cert, NULL, none, inside, &e_noroot);
    int expired = ws_cert_verify_chain(leaf_cert, NULL, roots, LEAF_NOT_AFTER + 1, &e_expired);
    int last_second = ws_cert_verify_chain(leaf_cert, NULL, roots, LEAF_NOT_AFTER - 1, &e);
    int first_second = ws_cert_verify_chain(leaf_cert, NULL, roots, LEAF_NOT_BEFORE, &e);
    int early = ws_cert_verify_chain(leaf_cert, NULL, roots, LEAF_NOT_BEFORE - 1, &e_early);
    int self_untrusted = ws_cert_verify_chain(client_cert, NULL, roots, inside, &e_self);
    sk_X509_push(none, client_cert);
    int self_trusted = ws_cert_verify_chain(client_cert, NULL, none, inside, &e);
    sk_X509_free(roots);
    sk_X509_free(none);

    assert_int_equal(ok, 0);
    assert_int_equal(noroot, -1);
    assert_contains(e_noroot.msg, "unable to get local issuer certificate");
    assert_int_equal(expired, -1);
    assert_contains(e_expired.msg, "certificate has expired");
    assert_int_equal(last_second, 0);
    assert_int_equal(first_second, 0);
    assert_int_equal(early, -1);
    assert_contains(e_early.msg, "not yet valid");
    assert_int_equal(self_untrusted, -1);
    assert_contains(e_self.msg, "self");
    assert_int_equal(self_trusted, 0);
    assert_int_equal(ERR_peek_error(), 0);
}

/* The first bytes of a TLS record (RFC 5246 6.2.1) against what an offloading balancer
 * sends and what a TLS server answers to plain HTTP. */
static void test_tls_record_or_not(void **state)
{
    (void)state;
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01}, alert[] = {0x15, 0x03, 0x03, 0x00, 0x02,
                                                                                     0x02, 0x46};
    static const uint8_t http[] = "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\n";
    assert_true(ws_tls_is_record(hello, sizeof hello));
    assert_true(ws_tls_is_record(alert, sizeof alert));
    assert_false(ws_tls_is_record(http, sizeof http - 1));
    assert_false(ws_tls_is_record(hello, 1)); /* one byte cannot tell */
    assert_false(ws_tls_is_record((const uint8_t *)"HTTP/1.1 200", 12));
    char buf[120];
    assert_string_equal(ws_tls_bytes_text(http, sizeof http - 1, buf, sizeof buf), "\"RDG_OUT_DATA /remoteDesk...\"");
    assert_string_equal(ws_tls_bytes_text(alert, sizeof alert, buf, sizeof buf), "15 03 03 00 02 02 46");
    assert_string_equal(ws_tls_bytes_text(http, 3, buf, sizeof buf), "\"RDG\"");
    char small[10]; /* cut, never overrun */
    ws_tls_bytes_text(alert, sizeof alert, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ca),
        cmocka_unit_test(test_ca_issued_leaf),
        cmocka_unit_test(test_self_signed_client),
        cmocka_unit_test(test_subject_order_round_trips),
        cmocka_unit_test(test_thumbprint_is_sha1_of_der),
        cmocka_unit_test(test_thumbprint_valid),
        cmocka_unit_test(test_thumbprint_normalize),
        cmocka_unit_test(test_pfx_round_trip_with_csp),
        cmocka_unit_test(test_pfx_wrong_password_refused),
        cmocka_unit_test(test_pfx_without_csp_or_password),
        cmocka_unit_test(test_pfx_certificate_only),
        cmocka_unit_test(test_pem_round_trip),
        cmocka_unit_test(test_der_round_trip),
        cmocka_unit_test(test_garbage_refused),
        cmocka_unit_test(test_key_der_round_trip),
        cmocka_unit_test(test_bad_subject_refused),
        cmocka_unit_test(test_bad_extensions_refused),
        cmocka_unit_test(test_bad_spec_refused),
        cmocka_unit_test(test_intermediate_ca),
        cmocka_unit_test(test_verify_chain),
        cmocka_unit_test(test_tls_record_or_not),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
