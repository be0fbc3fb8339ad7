/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for stand-ins (sim/crypto/standin.c, lab/vault.h): a certificate remade with a
 * new key keeps every field an operator or a check reads, chains to its issuer's stand-in,
 * and the vault names both thumbprints. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "harness.h"

#include "crypto/cert.h"
#include "lab/vault.h"

static X509 *ca, *leaf, *sha1_leaf;
static EVP_PKEY *ca_key, *leaf_key, *sha1_key;

static int setup(void **state)
{
    (void)state;
    ws_error e = {""};
    ws_cert_spec ca_spec = {.subject = "CN=Fabrikam Root CA, O=Fabrikam", .is_ca = 1, .key_bits = 1024,
                            .not_before = 1735689600, .not_after = 2051222400};
    ws_cert_spec leaf_spec = {.subject = "CN=rdgw.fabrikam.net",
                              .san = "DNS:rdgw.fabrikam.net,DNS:rdgw01.corp.fabrikam.local",
                              .eku = "serverAuth",
                              .key_usage = "digitalSignature,keyEncipherment",
                              .key_bits = 1024,
                              .not_before = 1735689600,
                              .not_after = 1767225600};
    if (ws_cert_create(&ca_spec, NULL, NULL, &ca, &ca_key, &e) != 0 ||
        ws_cert_create(&leaf_spec, ca, ca_key, &leaf, &leaf_key, &e) != 0 ||
        ws_cert_create(&leaf_spec, ca, ca_key, &sha1_leaf, &sha1_key, &e) != 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    /* The same leaf signed with SHA-1, as an old CA would have. */
    return X509_sign(sha1_leaf, ca_key, EVP_sha1()) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    X509_free(ca);
    X509_free(leaf);
    X509_free(sha1_leaf);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(sha1_key);
    return 0;
}

#define assert_same_text(fn, a, b)                                                                          \
    do {                                                                                                    \
        char *x_ = fn(a), *y_ = fn(b);                                                                      \
        assert_non_null(x_);                                                                                \
        assert_non_null(y_);                                                                                \
        assert_string_equal(x_, y_);                                                                        \
        free(x_);                                                                                           \
        free(y_);                                                                                           \
    } while (0)

static void test_fields_kept_key_new(void **state)
{
    (void)state;
    ws_error e = {""};
    X509 *ca2 = NULL, *leaf2 = NULL;
    EVP_PKEY *ca2_key = NULL, *leaf2_key = NULL;
    assert_int_equal(ws_cert_standin(ca, NULL, NULL, &ca2, &ca2_key, &e), 0);
    assert_int_equal(ws_cert_standin(leaf, ca2, ca2_key, &leaf2, &leaf2_key, &e), 0);
    assert_same_text(ws_cert_subject, leaf, leaf2);
    assert_same_text(ws_cert_issuer, leaf, leaf2);
    assert_same_text(ws_cert_sans, leaf, leaf2);
    assert_same_text(ws_cert_ekus, leaf, leaf2);
    assert_same_text(ws_cert_key_usage, leaf, leaf2);
    assert_same_text(ws_cert_subject, ca, ca2);
    assert_int_equal(ws_cert_not_before(leaf), ws_cert_not_before(leaf2));
    assert_int_equal(ws_cert_not_after(leaf), ws_cert_not_after(leaf2));
    assert_int_equal(ASN1_INTEGER_cmp(X509_get_serialNumber(leaf), X509_get_serialNumber(leaf2)), 0);
    assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(leaf2)), 1024);
    /* A new key, so a new thumbprint. */
    assert_int_not_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf), X509_get0_pubkey(leaf2)), 1);
    char a[41], b[41];
    ws_cert_thumbprint(leaf, a);
    ws_cert_thumbprint(leaf2, b);
    assert_string_not_equal(a, b);
    /* The stand-in chains to its issuer's stand-in, not to the original issuer. */
    STACK_OF(X509) *roots = sk_X509_new_null();
    sk_X509_push(roots, ca2);
    assert_int_equal(ws_cert_verify_chain(leaf2, NULL, roots, 1750000000, &e), 0);
    sk_X509_set(roots, 0, ca);
    assert_int_not_equal(ws_cert_verify_chain(leaf2, NULL, roots, 1750000000, &e), 0);
    /* An expired original stays expired. */
    sk_X509_set(roots, 0, ca2);
    assert_int_not_equal(ws_cert_verify_chain(leaf2, NULL, roots, 1800000000, &e), 0);
    assert_contains(e.msg, "expired");
    sk_X509_free(roots);
    X509_free(ca2);
    X509_free(leaf2);
    EVP_PKEY_free(ca2_key);
    EVP_PKEY_free(leaf2_key);
}

static void test_digest_kept(void **state)
{
    (void)state;
    ws_error e = {""};
    X509 *s = NULL;
    EVP_PKEY *k = NULL;
    assert_int_equal(ws_cert_standin(sha1_leaf, ca, ca_key, &s, &k, &e), 0);
    assert_int_equal(X509_get_signature_nid(s), NID_sha1WithRSAEncryption);
    X509_free(s);
    EVP_PKEY_free(k);
    assert_int_equal(ws_cert_standin(leaf, ca, ca_key, &s, &k, &e), 0);
    assert_int_equal(X509_get_signature_nid(s), NID_sha256WithRSAEncryption);
    X509_free(s);
    EVP_PKEY_free(k);
}

static void test_issuer_needs_key(void **state)
{
    (void)state;
    ws_error e = {""};
    X509 *s = NULL;
    EVP_PKEY *k = NULL;
    assert_int_equal(ws_cert_standin(leaf, ca, NULL, &s, &k, &e), -1);
    assert_contains(e.msg, "issuer");
}

static void test_vault_names_both(void **state)
{
    (void)state;
    char dir[128], name[64], orig[41], tp[41], text[200];
    ws_state *st = NULL;
    ws_error e = {""};
    assert_int_equal(ws_test_lab_open(dir, sizeof dir, "standin", &st), 0);
    ws_cert_thumbprint(leaf, orig);
    X509 *s = NULL;
    EVP_PKEY *k = NULL;
    assert_int_equal(ws_cert_standin(leaf, ca, ca_key, &s, &k, &e), 0);
    ws_cert_thumbprint(s, tp);
    assert_int_equal(ws_vault_put(st, "rdgw-ssl", s, k, NULL, &e), 0);
    assert_int_equal(ws_vault_original(st, "rdgw-ssl", name), WS_NOT_FOUND);
    assert_int_equal(ws_vault_set_original(st, "rdgw-ssl", orig, &e), 0);
    assert_int_equal(ws_vault_original(st, "rdgw-ssl", name), 0);
    assert_string_equal(name, orig);
    assert_int_equal(ws_vault_name_by_original(st, orig, name, sizeof name), 0);
    assert_string_equal(name, "rdgw-ssl");
    assert_int_equal(ws_vault_name_by_original(st, tp, name, sizeof name), WS_NOT_FOUND);
    ws_vault_describe_thumbprint(st, tp, text, sizeof text);
    char want[200];
    snprintf(want, sizeof want, "%s (stand-in for %s)", tp, orig);
    assert_string_equal(text, want);
    ws_vault_describe_thumbprint(st, orig, text, sizeof text);
    assert_contains(text, "no certificate in the lab has it");
    assert_int_not_equal(ws_vault_set_original(st, "rdgw-ssl", "8F3A", &e), 0);
    assert_contains(e.msg, "8F3A");
    X509_free(s);
    EVP_PKEY_free(k);
    ws_test_lab_close(st, dir);
}

/* An issuer without a subject key identifier (an old CA, makecert): the stand-in's authority key
 * identifier falls back to issuer and serial instead of failing. */
static void test_issuer_without_ski(void **state)
{
    (void)state;
    ws_error e = {""};
    X509 *old_ca = X509_dup(ca), *ca2 = NULL, *leaf2 = NULL;
    EVP_PKEY *ca2_key = NULL, *leaf2_key = NULL;
    assert_non_null(old_ca);
    int i = X509_get_ext_by_NID(old_ca, NID_subject_key_identifier, -1);
    assert_true(i >= 0);
    X509_EXTENSION_free(X509_delete_ext(old_ca, i));
    assert_true(X509_sign(old_ca, ca_key, EVP_sha256()) > 0);
    assert_int_equal(ws_cert_standin(old_ca, NULL, NULL, &ca2, &ca2_key, &e), 0);
    assert_int_equal(X509_get_ext_by_NID(ca2, NID_subject_key_identifier, -1), -1);
    assert_true(X509_get_ext_by_NID(leaf, NID_authority_key_identifier, -1) >= 0);
    assert_int_equal(ws_cert_standin(leaf, ca2, ca2_key, &leaf2, &leaf2_key, &e), 0);
    assert_true(X509_get_ext_by_NID(leaf2, NID_authority_key_identifier, -1) >= 0);
    STACK_OF(X509) *roots = sk_X509_new_null();
    sk_X509_push(roots, ca2);
    assert_int_equal(ws_cert_verify_chain(leaf2, NULL, roots, 1750000000, &e), 0);
    sk_X509_free(roots);
    X509_free(old_ca);
    X509_free(ca2);
    X509_free(leaf2);
    EVP_PKEY_free(ca2_key);
    EVP_PKEY_free(leaf2_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_kept_key_new),
        cmocka_unit_test(test_digest_kept),
        cmocka_unit_test(test_issuer_needs_key),
        cmocka_unit_test(test_vault_names_both),
        cmocka_unit_test(test_issuer_without_ski),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
