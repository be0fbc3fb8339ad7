/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/token.c: building, formatting, parsing and verifying the
 * HostToken and VMToken (REFERENCE.md section 3), signed through sim/csp.c. */

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "harness.h"

#include "crypto/cert.h"
#include "crypto/csp.h"
#include "wire/token.h"
#include "base/util.h"

#define THUMB "14590DC5C3AAF238FCFD7785B4B93F4071402C34" /* REFERENCE.md section 5's example */
#define VMID "0db667c1-712e-401b-b5ae-47c76a7fc955"
/* A syntactically valid Signature field (the bytes 00 01 02 03), for parse tests. */
#define SIG_OK "&Signature=1|SHA256|" THUMB "|AAECAw%3D%3D"
#define HOST_OK "Host=hv01.contoso.com&Port=2179&ExpiresOn=1700000600"
#define VM_OK "VMID=" VMID "&Host=hv01.contoso.com&ExpiresOn=1700000600"

static X509 *vmm_cert, *other_cert;
static EVP_PKEY *vmm_key, *other_key;
static char vmm_thumb[41], other_thumb[41];

static int group_setup(void **state)
{
    (void)state;
    ws_error e = {""};
    ws_cert_spec spec = {
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
    spec.subject = "CN=Someone Else";
    spec.key_bits = 1024;
    if (ws_cert_create(&spec, NULL, NULL, &other_cert, &other_key, &e) != 0) {
        fprintf(stderr, "group setup: %s\n", e.msg);
        return -1;
    }
    ws_cert_thumbprint(vmm_cert, vmm_thumb);
    ws_cert_thumbprint(other_cert, other_thumb);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(vmm_cert);
    X509_free(other_cert);
    EVP_PKEY_free(vmm_key);
    EVP_PKEY_free(other_key);
    return 0;
}

static ws_token host_fields(void)
{
    ws_token t = {.kind = WS_TOKEN_HOST, .port = 2179, .expires_on = 1700000600};
    snprintf(t.host, sizeof t.host, "hv01.contoso.com");
    return t;
}

static ws_token vm_fields(void)
{
    ws_token t = {.kind = WS_TOKEN_VM, .expires_on = 1700000600};
    snprintf(t.host, sizeof t.host, "hv01.contoso.com");
    snprintf(t.vmid, sizeof t.vmid, VMID);
    return t;
}

/* What VMM does: payload, signed through the key's provider, formatted. Caller frees. */
static char *issue(const ws_token *fields, const char *csp, const char *hash_alg, EVP_PKEY *key)
{
    char *payload = ws_token_payload(fields);
    assert_non_null(payload);
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    uint32_t hr = 0;
    ws_error e = {""};
    if (ws_csp_sign(csp, key, hash_alg, payload, strlen(payload), &sig, &sig_len, &hr, &e) != 0) {
        free(payload);
        fail_msg("ws_csp_sign: %s (0x%08X)", e.msg, hr);
    }
    char *token = ws_token_format(payload, hash_alg, vmm_thumb, sig, sig_len);
    free(payload);
    OPENSSL_free(sig);
    assert_non_null(token);
    return token;
}

/* Parse text; if it parses, return whether the signature verifies with vmm_cert. */
static int parse_and_verify(const char *text, size_t len, int *parsed)
{
    ws_token t;
    ws_error e = {""};
    *parsed = ws_token_parse(text, len, &t, &e) == 0;
    int ok = *parsed && ws_token_verify_signature(&t, vmm_cert, &e) == 0;
    ws_token_free(&t);
    return ok;
}

/* ---- building ---------------------------------------------------------------- */

static void test_payload(void **state)
{
    (void)state;
    ws_token h = host_fields(), v = vm_fields();
    char *p = ws_token_payload(&h);
    assert_string_equal(p, "Host=hv01.contoso.com&Port=2179&ExpiresOn=1700000600");
    free(p);
    p = ws_token_payload(&v);
    assert_string_equal(p, "VMID=0db667c1-712e-401b-b5ae-47c76a7fc955&Host=hv01.contoso.com&ExpiresOn=1700000600");
    free(p);

    /* IPv4 and IPv6 identification modes. */
    snprintf(h.host, sizeof h.host, "10.0.0.5");
    p = ws_token_payload(&h);
    assert_string_equal(p, "Host=10.0.0.5&Port=2179&ExpiresOn=1700000600");
    free(p);
    snprintf(v.host, sizeof v.host, "[fe80::1]");
    p = ws_token_payload(&v);
    assert_string_equal(p, "VMID=" VMID "&Host=[fe80::1]&ExpiresOn=1700000600");
    free(p);
}

static void test_payload_refuses_what_would_not_parse(void **state)
{
    (void)state;
    ws_token t = host_fields();
    t.port = 0;
    assert_null(ws_token_payload(&t));
    t.port = 65536;
    assert_null(ws_token_payload(&t));
    t = host_fields();
    t.host[0] = '\0';
    assert_null(ws_token_payload(&t));
    snprintf(t.host, sizeof t.host, "a&Port=1");
    assert_null(ws_token_payload(&t));
    t = host_fields();
    memset(t.host, 'a', sizeof t.host); /* no terminating NUL */
    assert_null(ws_token_payload(&t));
    t = host_fields();
    t.expires_on = -1;
    assert_null(ws_token_payload(&t));
    t = vm_fields();
    snprintf(t.vmid, sizeof t.vmid, "not-a-guid");
    assert_null(ws_token_payload(&t));
    t = vm_fields();
    t.kind = (ws_token_kind)7;
    assert_null(ws_token_payload(&t));
    assert_null(ws_token_payload(NULL));
}

static void test_known_token_format(void **state)
{
    (void)state;
    /* Base64 "++++////AAECAw==": every character that needs escaping. */
    static const unsigned char sig[] = {0xFB, 0xEF, 0xBE, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x02, 0x03};
    char *token = ws_token_format(HOST_OK, "SHA256", THUMB, sig, sizeof sig);
    assert_string_equal(token, "Host=hv01.contoso.com&Port=2179&ExpiresOn=1700000600&Signature=1|SHA256|"
                               "14590DC5C3AAF238FCFD7785B4B93F4071402C34|%2B%2B%2B%2B%2F%2F%2F%2FAAECAw%3D%3D");
    free(token);
    token = ws_token_format(VM_OK, "SHA256", THUMB, sig, sizeof sig);
    assert_string_equal(token, "VMID=0db667c1-712e-401b-b5ae-47c76a7fc955&Host=hv01.contoso.com&ExpiresOn=1700000600"
                               "&Signature=1|SHA256|14590DC5C3AAF238FCFD7785B4B93F4071402C34|"
                               "%2B%2B%2B%2B%2F%2F%2F%2FAAECAw%3D%3D");
    free(token);
}

static void test_url_escaping(void **state)
{
    (void)state;
    static const unsigned char plus[] = {0xFB}, slash[] = {0xFF, 0xFF, 0xFF}, one[] = {0x00};
    char *token = ws_token_format("Host=a&Port=1&ExpiresOn=2", "SHA256", THUMB, plus, sizeof plus);
    assert_string_equal(token, "Host=a&Port=1&ExpiresOn=2&Signature=1|SHA256|" THUMB "|%2Bw%3D%3D"); /* "+w==" */
    free(token);
    token = ws_token_format("Host=a&Port=1&ExpiresOn=2", "SHA256", THUMB, slash, sizeof slash);
    assert_string_equal(token, "Host=a&Port=1&ExpiresOn=2&Signature=1|SHA256|" THUMB "|%2F%2F%2F%2F"); /* "////" */
    free(token);
    token = ws_token_format("Host=a&Port=1&ExpiresOn=2", "SHA1", THUMB, one, sizeof one);
    assert_string_equal(token, "Host=a&Port=1&ExpiresOn=2&Signature=1|SHA1|" THUMB "|AA%3D%3D"); /* "AA==" */
    free(token);

    /* Every byte value, escaped and decoded back. */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    token = ws_token_format(HOST_OK, "SHA256", THUMB, all, sizeof all);
    assert_non_null(token);
    const char *escaped = strrchr(token, '|') + 1;
    for (const char *c = escaped; *c; c++)
        assert_true(strchr("+/=", *c) == NULL);
    ws_token t;
    ws_error e = {""};
    assert_int_equal(ws_token_parse(token, strlen(token), &t, &e), 0);
    assert_int_equal(t.signature_len, sizeof all);
    assert_memory_equal(t.signature, all, sizeof all);
    ws_token_free(&t);
    free(token);
}

static void test_format_refusals(void **state)
{
    (void)state;
    static const unsigned char sig[4] = {1, 2, 3, 4};
    unsigned char big[1025] = {0};
    assert_null(ws_token_format(NULL, "SHA256", THUMB, sig, sizeof sig));
    assert_null(ws_token_format(HOST_OK, NULL, THUMB, sig, sizeof sig));
    assert_null(ws_token_format(HOST_OK, "SHA256", NULL, sig, sizeof sig));
    assert_null(ws_token_format(HOST_OK, "SHA256", THUMB, NULL, sizeof sig));
    assert_null(ws_token_format(HOST_OK, "SHA256", THUMB, sig, 0));
    assert_null(ws_token_format(HOST_OK, "SHA256", THUMB, big, sizeof big));
    assert_null(ws_token_format(HOST_OK, "sha256", THUMB, sig, sizeof sig));
    assert_null(ws_token_format(HOST_OK, "SHA256|X", THUMB, sig, sizeof sig));
    assert_null(ws_token_format(HOST_OK, "SHA256", "14590DC5", sig, sizeof sig));
    assert_null(ws_token_format(HOST_OK, "SHA256", THUMB "00", sig, sizeof sig));
    char *huge = malloc(WS_TOKEN_MAX + 2);
    memset(huge, 'a', WS_TOKEN_MAX + 1);
    huge[WS_TOKEN_MAX + 1] = '\0';
    assert_null(ws_token_format(huge, "SHA256", THUMB, sig, sizeof sig));
    huge[WS_TOKEN_MAX - 60] = '\0'; /* short enough alone, too long with the Signature */
    assert_null(ws_token_format(huge, "SHA256", THUMB, sig, sizeof sig));
    free(huge);
    char *ok = ws_token_format(HOST_OK, "SHA256", THUMB, big, 1024);
    assert_non_null(ok);
    free(ok);
}

/* ---- round trips ------------------------------------------------------------- */

static void test_round_trip_host_token(void **state)
{
    (void)state;
    ws_token fields = host_fields();
    char *text = issue(&fields, WS_CSP_ENHANCED_RSA_AES, "SHA256", vmm_key);
    ws_token t;
    ws_error e = {""};
    assert_int_equal(ws_token_parse(text, strlen(text), &t, &e), 0);
    assert_int_equal(t.kind, WS_TOKEN_HOST);
    assert_string_equal(t.host, "hv01.contoso.com");
    assert_int_equal(t.port, 2179);
    assert_int_equal(t.expires_on, 1700000600);
    assert_string_equal(t.vmid, "");
    assert_int_equal(t.sig_version, 1);
    assert_string_equal(t.hash_alg, "SHA256");
    assert_string_equal(t.thumbprint, vmm_thumb);
    assert_int_equal(t.signature_len, 256);
    assert_string_equal(t.signed_part, HOST_OK);
    assert_int_equal(ws_token_verify_signature(&t, vmm_cert, &e), 0);
    ws_token_free(&t);
    free(text);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_round_trip_vm_token(void **state)
{
    (void)state;
    ws_token fields = vm_fields();
    char *text = issue(&fields, WS_CSP_ENHANCED_RSA_AES, "SHA256", vmm_key);
    ws_token t;
    ws_error e = {""};
    assert_int_equal(ws_token_parse(text, strlen(text), &t, &e), 0);
    assert_int_equal(t.kind, WS_TOKEN_VM);
    assert_string_equal(t.vmid, VMID);
    assert_string_equal(t.host, "hv01.contoso.com");
    assert_int_equal(t.port, 0);
    assert_int_equal(t.expires_on, 1700000600);
    assert_string_equal(t.hash_alg, "SHA256");
    assert_string_equal(t.thumbprint, vmm_thumb);
    assert_string_equal(t.signed_part, VM_OK);
    assert_int_equal(ws_token_verify_signature(&t, vmm_cert, &e), 0);

    /* The parsed fields rebuild the same payload. */
    char *again = ws_token_payload(&t);
    assert_string_equal(again, t.signed_part);
    free(again);
    ws_token_free(&t);
    free(text);
}

static void test_round_trip_sha1(void **state)
{
    (void)state;
    ws_token fields = host_fields();
    char *text = issue(&fields, "Microsoft Strong Cryptographic Provider", "SHA1", vmm_key);
    assert_contains(text, "&Signature=1|SHA1|");
    ws_token t;
    ws_error e = {""};
    assert_int_equal(ws_token_parse(text, strlen(text), &t, &e), 0);
    assert_string_equal(t.hash_alg, "SHA1");
    assert_int_equal(ws_token_verify_signature(&t, vmm_cert, &e), 0);

    /* Claiming SHA256 for a SHA-1 signature does not verify. */
    snprintf(t.hash_alg, sizeof t.hash_alg, "SHA256");
    assert_int_equal(ws_token_verify_signature(&t, vmm_cert, &e), -1);
    assert_contains(e.msg, "does not verify");
    ws_token_free(&t);
    free(text);
}

/* One altered character anywhere in the signed part: it either no longer parses or no longer verifies. */
static void test_altered_payload_fails(void **state)
{
    (void)state;
    ws_token kinds[2] = {host_fields(), vm_fields()};
    for (int k = 0; k < 2; k++) {
        char *text = issue(&kinds[k], WS_CSP_ENHANCED_RSA_AES, "SHA256", vmm_key);
        size_t len = strlen(text), signed_len = (size_t)(strstr(text, "&Signature=") - text);
        int parsed, verified_after_parse = 0, refused_by_signature = 0;
        assert_true(parse_and_verify(text, len, &parsed));
        for (size_t i = 0; i < signed_len; i++) {
            /* A replacement that keeps the syntax where it can: digit for digit, letter for letter. */
            char was = text[i];
            text[i] = was >= '0' && was <= '8' ? (char)(was + 1)
                      : was == '9'             ? '0'
                      : was >= 'a' && was < 'z' ? (char)(was + 1)
                      : was >= 'A' && was < 'Z' ? (char)(was + 1)
                                                : 'x';
            int ok = parse_and_verify(text, len, &parsed);
            if (ok)
                fail_msg("token %d still verifies with character %zu changed: %s", k, i, text);
            verified_after_parse += parsed;
            refused_by_signature += parsed && !ok;
            text[i] = was;
        }
        /* Most changes (every value character) parse and are caught by the signature. */
        assert_true(refused_by_signature >= 25);
        assert_int_equal(verified_after_parse, refused_by_signature);
        free(text);
    }

    /* The message names the signer it was checked against. */
    ws_token fields = host_fields();
    char *text = issue(&fields, WS_CSP_ENHANCED_RSA_AES, "SHA256", vmm_key);
    text[strlen("Host=hv01.contoso.com&Port=217")] = '8';
    ws_token t;
    ws_error e = {""};
    assert_int_equal(ws_token_parse(text, strlen(text), &t, &e), 0);
    assert_int_equal(t.port, 2178);
    assert_int_equal(ws_token_verify_signature(&t, vmm_cert, &e), -1);
    char want[128];
    snprintf(want, sizeof want, "signature does not verify with %s", vmm_thumb);
    assert_string_equal(e.msg, want);
    ws_token_free(&t);
    free(text);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_altered_signature_fails(void **state)
{
    (void)state;
    ws_token fields = vm_fields();
    char *text = issue(&fields, WS_CSP_ENHANCED_RSA_AES, "SHA256", vmm_key);
    ws_token t;
    ws_error e = {""};
    assert_int_equal(ws_token_parse(text, strlen(text), &t, &e), 0);
    for (size_t i = 0; i < t.signature_len; i += 17) {
        t.signature[i] ^= 0x01;
        assert_int_equal(ws_token_verify_signature(&t, vmm_cert, &e), -1);
        t.signature[i] ^= 0x01;
    }
    t.signature_len--;
    assert_int_equal(ws_token_verify_signature(&t, vmm_cert, &e), -1);
    t.signature_len++;
    assert_int_equal(ws_token_verify_signature(&t, vmm_cert, &e), 0);
    ws_token_free(&t);
    free(text);
}

static void test_wrong_key_fails(void **state)
{
    (void)state;
    ws_token fields = host_fields();
    char *text = issue(&fields, WS_CSP_ENHANCED_RSA_AES, "SHA256", other_key);
    ws_token t;
    ws_error e = {""};
    assert_int_equal(ws_token_parse(text, strlen(text), &t, &e), 0);
    /* Signed by another key, checked against the VMM certificate. */
    assert_int_equal(ws_token_verify_signature(&t, vmm_cert, &e), -1);
    char want[128];
    snprintf(want, sizeof want, "signature does not verify with %s", vmm_thumb);
    assert_string_equal(e.msg, want);
    assert_int_equal(ws_token_verify_signature(&t, other_cert, &e), 0);
    ws_token_free(&t);
    free(text);

    /* Signed by the VMM key, checked against another certificate. */
    text = issue(&fields, WS_CSP_ENHANCED_RSA_AES, "SHA256", vmm_key);
    assert_int_equal(ws_token_parse(text, strlen(text), &t, &e), 0);
    assert_int_equal(ws_token_verify_signature(&t, other_cert, &e), -1);
    snprintf(want, sizeof want, "signature does not verify with %s", other_thumb);
    assert_string_equal(e.msg, want);
    ws_token_free(&t);
    free(text);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_verify_refusals(void **state)
{
    (void)state;
    ws_error e = {""};
    ws_token t;
    const char md5[] = HOST_OK "&Signature=1|MD5|" THUMB "|AAECAw%3D%3D";
    assert_int_equal(ws_token_parse(md5, strlen(md5), &t, &e), 0);
    assert_int_equal(ws_token_verify_signature(&t, vmm_cert, &e), -1);
    assert_contains(e.msg, "'MD5'");
    assert_contains(e.msg, "not supported");
    snprintf(t.hash_alg, sizeof t.hash_alg, "SHA512");
    assert_int_equal(ws_token_verify_signature(&t, vmm_cert, &e), -1);
    assert_contains(e.msg, "'SHA512'");
    assert_int_equal(ws_token_verify_signature(&t, NULL, &e), -1);
    assert_contains(e.msg, "signer");
    ws_token_free(&t);

    ws_token zero = {0};
    assert_int_equal(ws_token_verify_signature(&zero, vmm_cert, &e), -1);
    assert_contains(e.msg, "no signature");
    assert_int_equal(ws_token_verify_signature(NULL, vmm_cert, &e), -1);
    assert_int_equal(ws_token_verify_signature(NULL, NULL, NULL), -1);
}

/* ---- parsing ----------------------------------------------------------------- */

static void test_parse_accepts(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *host;
        int port;
        int64_t expires_on;
        const char *vmid;
    } cases[] = {
        {"Host=10.0.0.5&Port=1&ExpiresOn=0" SIG_OK, "10.0.0.5", 1, 0, ""},
        {"Host=[fe80::1]&Port=65535&ExpiresOn=9223372036854775807" SIG_OK, "[fe80::1]", 65535, INT64_MAX, ""},
        {"Host=[::ffff:10.0.0.5]&Port=02179&ExpiresOn=1" SIG_OK, "[::ffff:10.0.0.5]", 2179, 1, ""},
        {"Host=fe80::1&Port=2179&ExpiresOn=1" SIG_OK, "fe80::1", 2179, 1, ""},
        {"Host=HV01&Port=2179&ExpiresOn=1" SIG_OK, "HV01", 2179, 1, ""},
        {"VMID=0DB667C1-712E-401B-B5AE-47C76A7FC955&Host=hv-01.contoso.com&ExpiresOn=1" SIG_OK,
         "hv-01.contoso.com", 0, 1, "0DB667C1-712E-401B-B5AE-47C76A7FC955"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ws_token t;
        ws_error e = {""};
        if (ws_token_parse(cases[i].text, strlen(cases[i].text), &t, &e) != 0)
            fail_msg("case %zu refused: %s", i, e.msg);
        assert_string_equal(t.host, cases[i].host);
        assert_int_equal(t.port, cases[i].port);
        assert_true(t.expires_on == cases[i].expires_on);
        assert_string_equal(t.vmid, cases[i].vmid);
        assert_int_equal(t.signature_len, 4);
        assert_memory_equal(t.signature, "\x00\x01\x02\x03", 4);
        ws_token_free(&t);
    }

    /* The thumbprint is stored upper-case; escapes in either case; unescaped base64 passes through. */
    const char *sig_variants[] = {
        "&Signature=1|SHA256|14590dc5c3aaf238fcfd7785b4b93f4071402c34|AAECAw%3d%3d",
        "&Signature=1|SHA256|14590dc5c3aaf238fcfd7785b4b93f4071402c34|AAECAw==",
        "&Signature=1|SHA256|14590DC5C3AAF238FCFD7785B4B93F4071402C34|%41%41%45%43%41%77%3D%3D",
    };
    for (size_t i = 0; i < sizeof sig_variants / sizeof sig_variants[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "%s%s", HOST_OK, sig_variants[i]);
        ws_token t;
        ws_error e = {""};
        if (ws_token_parse(text, strlen(text), &t, &e) != 0)
            fail_msg("variant %zu refused: %s", i, e.msg);
        assert_string_equal(t.thumbprint, THUMB);
        assert_int_equal(t.signature_len, 4);
        assert_memory_equal(t.signature, "\x00\x01\x02\x03", 4);
        assert_string_equal(t.signed_part, HOST_OK);
        ws_token_free(&t);
    }

    /* len bounds the text: what follows it is not read. */
    char text[] = HOST_OK SIG_OK "&Trailing=1";
    ws_token t;
    ws_error e = {""};
    assert_int_equal(ws_token_parse(text, strlen(HOST_OK SIG_OK), &t, &e), 0);
    ws_token_free(&t);
}

/* A signature of n bytes (value 0x41), base64 and escaped, after HOST_OK. Caller frees. */
static char *token_with_signature_bytes(size_t n)
{
    unsigned char *sig = calloc(1, n + 1);
    memset(sig, 0x41, n);
    char *b64 = malloc(4 * (n / 3 + 1) + 1);
    EVP_EncodeBlock((unsigned char *)b64, sig, (int)n);
    char *text = ws_printf(HOST_OK "&Signature=1|SHA256|" THUMB "|%s", b64);
    free(sig);
    free(b64);
    return text;
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        /* Kind, and the Signature's presence. */
        {"Foo=1&Port=2179&ExpiresOn=1" SIG_OK, "token: unknown first field 'Foo'"},
        {"host=a&Port=2179&ExpiresOn=1" SIG_OK, "token: unknown first field 'host'"},
        {"Port=2179&Host=a&ExpiresOn=1" SIG_OK, "token: unknown first field 'Port'"},
        {"Signature=1|SHA256|" THUMB "|AAECAw%3D%3D", "token: unknown first field 'Signature'"},
        {"garbage", "token: unknown first field 'garbage'"},
        {HOST_OK, "token: no Signature"},
        {HOST_OK "&signature=1|SHA256|" THUMB "|AAECAw%3D%3D", "token: no Signature"},
        {VM_OK, "token: no Signature"},
        /* Fields, their order and their number. */
        {"Host=a&ExpiresOn=1&Port=2179" SIG_OK,
         "HostToken: field 'ExpiresOn' out of order or repeated (expected Port)"},
        {"Host=a&Host=b&Port=2179&ExpiresOn=1" SIG_OK, "HostToken: field 'Host' out of order or repeated"},
        {"Host=a&Foo=1&Port=2179&ExpiresOn=1" SIG_OK, "HostToken: unknown field 'Foo' (expected Port)"},
        {"Host=a&port=2179&ExpiresOn=1" SIG_OK, "HostToken: unknown field 'port'"},
        {"Host=a&Port=2179" SIG_OK, "HostToken: no ExpiresOn before Signature"},
        {"Host=a" SIG_OK, "HostToken: no Port before Signature"},
        {"Host=a&Port=2179&ExpiresOn=1&Extra=1" SIG_OK, "HostToken: unexpected field 'Extra' before Signature"},
        {"Host=a&Port=2179&ExpiresOn=1&" SIG_OK, "HostToken: unexpected field '' before Signature"},
        {HOST_OK SIG_OK "&Foo=1", "HostToken: unexpected field 'Foo' after Signature"},
        {HOST_OK SIG_OK SIG_OK, "HostToken: unexpected field 'Signature' after Signature"},
        {"Host=a&Port&ExpiresOn=1" SIG_OK, "HostToken: Port has no '='"},
        {"VMID=" VMID "&ExpiresOn=1&Host=a" SIG_OK,
         "VMToken: field 'ExpiresOn' out of order or repeated (expected Host)"},
        {"VMID=" VMID "&Host=a&Port=2179&ExpiresOn=1" SIG_OK, "VMToken: unknown field 'Port' (expected ExpiresOn)"},
        {"VMID=" VMID "&Host=a" SIG_OK, "VMToken: no ExpiresOn before Signature"},
        /* Host. */
        {"Host=&Port=2179&ExpiresOn=1" SIG_OK, "HostToken: Host is empty"},
        {"Host=hv_01&Port=2179&ExpiresOn=1" SIG_OK, "HostToken: Host 'hv_01' is not a host name or address"},
        {"Host=hv 01&Port=2179&ExpiresOn=1" SIG_OK, "HostToken: Host 'hv 01' is not a host name or address"},
        {"Host=[fe80::1&Port=2179&ExpiresOn=1" SIG_OK, "HostToken: Host '[fe80::1' is not"},
        {"Host=a[b]&Port=2179&ExpiresOn=1" SIG_OK, "HostToken: Host 'a[b]' is not"},
        {"Host=[]&Port=2179&ExpiresOn=1" SIG_OK, "HostToken: Host '[]' is not"},
        {"Host=[hv01]&Port=2179&ExpiresOn=1" SIG_OK, "HostToken: Host '[hv01]' is not"},
        {"Host=h\xc3\xa9&Port=2179&ExpiresOn=1" SIG_OK, "HostToken: Host 'h\\xC3\\xA9' is not"},
        {"VMID=" VMID "&Host=&ExpiresOn=1" SIG_OK, "VMToken: Host is empty"},
        /* Port. */
        {"Host=a&Port=0&ExpiresOn=1" SIG_OK, "HostToken: Port '0' is out of range (1..65535)"},
        {"Host=a&Port=65536&ExpiresOn=1" SIG_OK, "HostToken: Port '65536' is out of range"},
        {"Host=a&Port=99999999999999999999999&ExpiresOn=1" SIG_OK, "HostToken: Port '99999999999999999999999' is out"},
        {"Host=a&Port=abc&ExpiresOn=1" SIG_OK, "HostToken: Port 'abc' is not a number"},
        {"Host=a&Port=&ExpiresOn=1" SIG_OK, "HostToken: Port '' is not a number"},
        {"Host=a&Port=+80&ExpiresOn=1" SIG_OK, "HostToken: Port '+80' is not a number"},
        {"Host=a&Port=-1&ExpiresOn=1" SIG_OK, "HostToken: Port '-1' is not a number"},
        /* ExpiresOn. */
        {"Host=a&Port=2179&ExpiresOn=abc" SIG_OK, "HostToken: ExpiresOn 'abc' is not a number"},
        {"Host=a&Port=2179&ExpiresOn=" SIG_OK, "HostToken: ExpiresOn '' is not a number"},
        {"Host=a&Port=2179&ExpiresOn=-1700000600" SIG_OK, "HostToken: ExpiresOn '-1700000600' is not a number"},
        {"Host=a&Port=2179&ExpiresOn=+1700000600" SIG_OK, "HostToken: ExpiresOn '+1700000600' is not a number"},
        {"Host=a&Port=2179&ExpiresOn=1700000600.5" SIG_OK, "HostToken: ExpiresOn '1700000600.5' is not a number"},
        {"Host=a&Port=2179&ExpiresOn=9223372036854775808" SIG_OK,
         "HostToken: ExpiresOn '9223372036854775808' is out of range"},
        {"Host=a&Port=2179&ExpiresOn=00000000000000000001" SIG_OK,
         "HostToken: ExpiresOn '00000000000000000001' is out of range"},
        {"VMID=" VMID "&Host=a&ExpiresOn=soon" SIG_OK, "VMToken: ExpiresOn 'soon' is not a number"},
        /* VMID. */
        {"VMID=xyz&Host=a&ExpiresOn=1" SIG_OK, "VMToken: VMID 'xyz' is not a GUID"},
        {"VMID=&Host=a&ExpiresOn=1" SIG_OK, "VMToken: VMID '' is not a GUID"},
        {"VMID={0db667c1-712e-401b-b5ae-47c76a7fc955}&Host=a&ExpiresOn=1" SIG_OK, "VMToken: VMID '{0db667c1"},
        {"VMID=0db667c1712e401bb5ae47c76a7fc955&Host=a&ExpiresOn=1" SIG_OK, "VMToken: VMID '0db667c1712e"},
        {"VMID=0db667c1-712e-401b-b5ae-47c76a7fc95g&Host=a&ExpiresOn=1" SIG_OK, "VMToken: VMID '0db667c1"},
        {"VMID=0db667c1-712e-401b-b5ae-47c76a7fc9555&Host=a&ExpiresOn=1" SIG_OK, "is not a GUID"},
        /* Signature: its four parts. */
        {HOST_OK "&Signature=", "HostToken: Signature '' has 1 parts, not 4"},
        {HOST_OK "&Signature=1|SHA256|" THUMB, "HostToken: Signature '1|SHA256|" THUMB "' has 3 parts, not 4"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|AAECAw%3D%3D|x", "HostToken: Signature '1|SHA256"},
        {HOST_OK "&Signature=2|SHA256|" THUMB "|AAECAw%3D%3D", "HostToken: Signature version '2' is not 1"},
        {HOST_OK "&Signature=v1|SHA256|" THUMB "|AAECAw%3D%3D", "HostToken: Signature version 'v1' is not 1"},
        {HOST_OK "&Signature=|SHA256|" THUMB "|AAECAw%3D%3D", "HostToken: Signature version '' is not 1"},
        {HOST_OK "&Signature=1|sha256|" THUMB "|AAECAw%3D%3D", "HostToken: Signature hash algorithm 'sha256'"},
        {HOST_OK "&Signature=1||" THUMB "|AAECAw%3D%3D", "HostToken: Signature hash algorithm ''"},
        {HOST_OK "&Signature=1|SHA-256|" THUMB "|AAECAw%3D%3D", "HostToken: Signature hash algorithm 'SHA-256'"},
        {HOST_OK "&Signature=1|SHA256SHA256SHA256|" THUMB "|AAECAw%3D%3D", "Signature hash algorithm 'SHA256SHA2"},
        {HOST_OK "&Signature=1|SHA256|14590DC5|AAECAw%3D%3D", "HostToken: Signature thumbprint '14590DC5' is not 40"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "0|AAECAw%3D%3D", "HostToken: Signature thumbprint '" THUMB "0'"},
        {HOST_OK "&Signature=1|SHA256|G4590DC5C3AAF238FCFD7785B4B93F4071402C34|AAECAw%3D%3D",
         "HostToken: Signature thumbprint 'G4590"},
        {HOST_OK "&Signature=1|SHA256|14:59:0D:C5:C3:AA:F2:38:FC:FD:77:85:B4:B9:3F:40:71:40:2C:34|AAECAw%3D%3D",
         "HostToken: Signature thumbprint '14:59"},
        /* Signature: the escaped base64. */
        {HOST_OK "&Signature=1|SHA256|" THUMB "|", "HostToken: Signature value is empty"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|AAECAw%3D%3", "HostToken: Signature value has a bad % escape at '%3'"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|AAECAw%", "HostToken: Signature value has a bad % escape at '%'"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|AAECAw%G1%3D",
         "HostToken: Signature value has a bad % escape at '%G1'"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|AAECAw%3", "bad % escape"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|AAECA", "HostToken: Signature value is not base64 (length"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|AA!CAw%3D%3D", "HostToken: Signature value is not base64 (invalid"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|AAEC%00w%3D%3D", "HostToken: Signature value is not base64 (invalid"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|AAEC%7Cw%3D%3D", "HostToken: Signature value is not base64 (invalid"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|A%3DAA", "HostToken: Signature value is not base64 (misplaced '=')"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|A%3D%3D%3D", "HostToken: Signature value is not base64 (misplaced"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|%3D%3D%3D%3D", "HostToken: Signature value is not base64"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|AAF%3D", "HostToken: Signature value is not base64 (non-zero padding"},
        {HOST_OK "&Signature=1|SHA256|" THUMB "|AB%3D%3D", "HostToken: Signature value is not base64 (non-zero"},
        {VM_OK "&Signature=1|SHA256|" THUMB "|AB%3D%3D", "VMToken: Signature value is not base64"},
        /* Bytes no token has. */
        {"", "token: empty"},
        {"Host=a\n&Port=2179&ExpiresOn=1" SIG_OK, "token: control character 0x0A at offset 6"},
        {"Host=a&Port=2179&ExpiresOn=1\r" SIG_OK, "token: control character 0x0D"},
        {"Host=a&Port=2179&ExpiresOn=1" SIG_OK "\x7f", "token: control character 0x7F"},
        {"\tHost=a&Port=2179&ExpiresOn=1" SIG_OK, "token: control character 0x09 at offset 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ws_token t;
        ws_error e = {""};
        memset(&t, 0xA5, sizeof t); /* garbage in: the parser must reset it */
        if (ws_token_parse(cases[i].text, strlen(cases[i].text), &t, &e) != -1)
            fail_msg("case %zu accepted: %s", i, cases[i].text);
        if (!strstr(e.msg, cases[i].want))
            fail_msg("case %zu (%s): message \"%s\" does not contain \"%s\"", i, cases[i].text, e.msg, cases[i].want);
        /* Left safe to free, and empty. */
        assert_null(t.signature);
        assert_null(t.signed_part);
        assert_int_equal(t.signature_len, 0);
        ws_token_free(&t);
    }
}

static void test_parse_limits(void **state)
{
    (void)state;
    ws_token t;
    ws_error e = {""};

    /* NUL inside the given length. */
    const char nul[] = "Host=a\0&Port=2179&ExpiresOn=1" SIG_OK;
    assert_int_equal(ws_token_parse(nul, sizeof nul - 1, &t, &e), -1);
    assert_string_equal(e.msg, "token: NUL byte at offset 6");
    const char trailing_nul[] = HOST_OK SIG_OK;
    assert_int_equal(ws_token_parse(trailing_nul, sizeof trailing_nul, &t, &e), -1);
    assert_contains(e.msg, "NUL byte");

    assert_int_equal(ws_token_parse(NULL, 10, &t, &e), -1);
    assert_contains(e.msg, "token:");
    assert_int_equal(ws_token_parse(HOST_OK SIG_OK, strlen(HOST_OK SIG_OK), NULL, &e), -1);
    assert_int_equal(ws_token_parse("x", 1, &t, NULL), -1);

    /* Host: 255 characters accepted, 256 refused. */
    char host[300];
    memset(host, 'h', sizeof host);
    host[256] = '\0';
    char *long_host = ws_printf("Host=%s&Port=2179&ExpiresOn=1%s", host, SIG_OK);
    assert_int_equal(ws_token_parse(long_host, strlen(long_host), &t, &e), -1);
    assert_string_equal(e.msg, "HostToken: Host is longer than 255 characters");
    free(long_host);
    host[255] = '\0';
    long_host = ws_printf("Host=%s&Port=2179&ExpiresOn=1%s", host, SIG_OK);
    assert_int_equal(ws_token_parse(long_host, strlen(long_host), &t, &e), 0);
    assert_int_equal(strlen(t.host), 255);
    ws_token_free(&t);
    free(long_host);

    /* Over WS_TOKEN_MAX: refused before anything else is looked at. */
    char *big = malloc(WS_TOKEN_MAX + 1);
    memset(big, 'A', WS_TOKEN_MAX + 1);
    assert_int_equal(ws_token_parse(big, WS_TOKEN_MAX + 1, &t, &e), -1);
    assert_string_equal(e.msg, "token: longer than 8192 characters");
    /* Exactly WS_TOKEN_MAX is looked at (and refused for its content). */
    assert_int_equal(ws_token_parse(big, WS_TOKEN_MAX, &t, &e), -1);
    assert_contains(e.msg, "unknown first field 'AAAAAAAA");
    assert_contains(e.msg, "...'"); /* a long value is cut in the message */
    assert_true(strlen(e.msg) < 120);
    free(big);

    /* Signature bytes: 1024 accepted, 1025 refused. */
    char *text = token_with_signature_bytes(1024);
    assert_int_equal(ws_token_parse(text, strlen(text), &t, &e), 0);
    assert_int_equal(t.signature_len, 1024);
    ws_token_free(&t);
    free(text);
    text = token_with_signature_bytes(1025);
    assert_int_equal(ws_token_parse(text, strlen(text), &t, &e), -1);
    assert_string_equal(e.msg, "HostToken: Signature value is longer than 1024 bytes");
    free(text);
    text = token_with_signature_bytes(1026); /* 1368 base64 characters without padding */
    assert_int_equal(ws_token_parse(text, strlen(text), &t, &e), -1);
    assert_string_equal(e.msg, "HostToken: Signature value is longer than 1024 bytes");
    free(text);
    text = token_with_signature_bytes(3000);
    assert_int_equal(ws_token_parse(text, strlen(text), &t, &e), -1);
    assert_string_equal(e.msg, "HostToken: Signature value is longer than 1024 bytes");
    free(text);
}

static void test_free_is_safe(void **state)
{
    (void)state;
    ws_token t = {0};
    ws_token_free(&t);
    ws_token_free(NULL);
    ws_error e = {""};
    assert_int_equal(ws_token_parse(HOST_OK SIG_OK, strlen(HOST_OK SIG_OK), &t, &e), 0);
    ws_token_free(&t);
    assert_null(t.signature);
    assert_null(t.signed_part);
    ws_token_free(&t); /* twice */

    /* Partially filled by hand. */
    t.signature = malloc(3);
    t.signature_len = 3;
    ws_token_free(&t);
    t.signed_part = ws_strdup("Host=a");
    ws_token_free(&t);
}

/* Every one-character change and every truncation of real tokens: no crash, no leak,
 * and nothing that parses still verifies unless the change was outside the signed bytes. */
static void test_mutations(void **state)
{
    (void)state;
    ws_token kinds[2] = {host_fields(), vm_fields()};
    static const char subst[] = "&=|%+/ A0zG[]:-.~\x80\xff";
    for (int k = 0; k < 2; k++) {
        char *text = issue(&kinds[k], WS_CSP_ENHANCED_RSA_AES, "SHA256", vmm_key);
        size_t len = strlen(text);
        size_t signed_len = (size_t)(strstr(text, "&Signature=") - text);
        for (size_t i = 0; i < len; i++) {
            char was = text[i];
            for (size_t s = 0; s < sizeof subst - 1; s++) {
                if (subst[s] == was)
                    continue;
                text[i] = subst[s];
                int parsed;
                int ok = parse_and_verify(text, len, &parsed);
                if (ok && i < signed_len)
                    fail_msg("still verifies with character %zu changed to 0x%02X", i, (unsigned char)subst[s]);
            }
            text[i] = was;
        }
        for (size_t n = 0; n < len; n++) {
            int parsed;
            assert_false(parse_and_verify(text, n, &parsed)); /* a cut signature never verifies */
        }
        free(text);
    }
    assert_int_equal(ERR_peek_error(), 0);
}

/* ---- signing (ws_token_sign) --------------------------------------------------- */

/* ws_token_sign is VMM's payload, provider signature and format in one call: the same
 * text as the steps one by one (PKCS#1 v1.5 signatures are deterministic). */
static void test_sign_matches_the_steps(void **state)
{
    (void)state;
    ws_token kinds[2] = {host_fields(), vm_fields()};
    for (int k = 0; k < 2; k++) {
        char *want = issue(&kinds[k], WS_CSP_ENHANCED_RSA_AES, "SHA256", vmm_key);
        char *got = NULL;
        uint32_t hr = 0;
        ws_error e = {""};
        assert_int_equal(ws_token_sign(&kinds[k], "SHA256", WS_CSP_ENHANCED_RSA_AES, vmm_key, vmm_thumb, &got, &hr, &e),
                         WS_TOKEN_SIGNED);
        assert_non_null(got);
        assert_string_equal(got, want);
        int parsed;
        assert_true(parse_and_verify(got, strlen(got), &parsed));
        free(got);
        free(want);
    }
    /* SHA1 through a PROV_RSA_FULL provider signs too (what the provider can hash decides). */
    ws_token fields = vm_fields();
    char *text = NULL;
    ws_error e = {""};
    assert_int_equal(ws_token_sign(&fields, "SHA1", "Microsoft Strong Cryptographic Provider", vmm_key, vmm_thumb,
                                   &text, NULL, &e),
                     WS_TOKEN_SIGNED);
    assert_contains(text, "&Signature=1|SHA1|");
    free(text);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_sign_refusals(void **state)
{
    (void)state;
    char *text = (char *)"untouched";
    uint32_t hr = 0;
    ws_error e = {""};

    /* Fields that would not parse back. */
    ws_token fields = host_fields();
    fields.port = 0;
    assert_int_equal(ws_token_sign(&fields, "SHA256", WS_CSP_ENHANCED_RSA_AES, vmm_key, vmm_thumb, &text, &hr, &e),
                     WS_TOKEN_SIGN_FIELDS);
    assert_null(text);
    assert_contains(e.msg, "do not form a HostToken");
    fields = vm_fields();
    snprintf(fields.vmid, sizeof fields.vmid, "not-a-guid");
    assert_int_equal(ws_token_sign(&fields, "SHA256", WS_CSP_ENHANCED_RSA_AES, vmm_key, vmm_thumb, &text, &hr, &e),
                     WS_TOKEN_SIGN_FIELDS);
    assert_contains(e.msg, "do not form a VMToken");

    /* A PROV_RSA_FULL provider cannot hash SHA-256: NTE_BAD_ALGID and Windows' text. */
    fields = host_fields();
    assert_int_equal(ws_token_sign(&fields, "SHA256", "Microsoft Base Cryptographic Provider v1.0", vmm_key,
                                   vmm_thumb, &text, &hr, &e),
                     WS_TOKEN_SIGN_PROVIDER);
    assert_null(text);
    assert_int_equal(hr, WS_NTE_BAD_ALGID);
    assert_string_equal(e.msg, ws_hresult_message(WS_NTE_BAD_ALGID));

    /* A thumbprint that is not 40 hex digits cannot be formatted. */
    assert_int_equal(ws_token_sign(&fields, "SHA256", WS_CSP_ENHANCED_RSA_AES, vmm_key, "ABC", &text, &hr, &e),
                     WS_TOKEN_SIGN_FORMAT);
    assert_null(text);
    assert_contains(e.msg, "thumbprint 'ABC'");
    assert_int_equal(ERR_peek_error(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payload),
        cmocka_unit_test(test_payload_refuses_what_would_not_parse),
        cmocka_unit_test(test_known_token_format),
        cmocka_unit_test(test_url_escaping),
        cmocka_unit_test(test_format_refusals),
        cmocka_unit_test(test_round_trip_host_token),
        cmocka_unit_test(test_round_trip_vm_token),
        cmocka_unit_test(test_round_trip_sha1),
        cmocka_unit_test(test_altered_payload_fails),
        cmocka_unit_test(test_altered_signature_fails),
        cmocka_unit_test(test_wrong_key_fails),
        cmocka_unit_test(test_verify_refusals),
        cmocka_unit_test(test_parse_accepts),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_free_is_safe),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_sign_matches_the_steps),
        cmocka_unit_test(test_sign_refusals),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
