/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/rdpfile.c: reading UTF-16LE and UTF-8 .rdp files, refusals with
 * line numbers, byte-exact writing, and signing/verifying as rdpsign.exe does
 * (REFERENCE.md section 4), checked against the openssl command line both ways. */
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "harness.h"

#include "crypto/cert.h"
#include "crypto/tls.h"
#include "wire/rdpfile.h"
#include "base/util.h"

/* ---- shared certificates, made once ------------------------------------------ */

#define CA_NOT_BEFORE 1600000000LL   /* 2020-09-13 */
#define CA_NOT_AFTER 2000000000LL    /* 2033-05-18 */
#define LEAF_NOT_BEFORE 1700000000LL /* 2023-11-14 */
#define LEAF_NOT_AFTER (LEAF_NOT_BEFORE + 365LL * 86400)
#define NOW (LEAF_NOT_BEFORE + 86400)

static X509 *ca_cert, *signer_cert, *other_ca_cert, *self_cert;
static EVP_PKEY *ca_key, *signer_key, *other_ca_key, *self_key;
static STACK_OF(X509) * roots, *other_roots, *no_roots;

static int group_setup(void **state)
{
    (void)state;
    const ws_cert_spec ca = {.subject = "CN=Contoso Root CA, O=Contoso",
                             .is_ca = 1,
                             .key_bits = 1024,
                             .not_before = CA_NOT_BEFORE,
                             .not_after = CA_NOT_AFTER};
    ws_cert_spec other = ca;
    other.subject = "CN=Fabrikam Root CA";
    /* The VMM certificate as section 2 asks for it: Digital Signature, Client Authentication. */
    const ws_cert_spec leaf = {.subject = "CN=Remote Console Connect",
                               .eku = "clientAuth",
                               .key_usage = "digitalSignature",
                               .key_bits = 1024,
                               .not_before = LEAF_NOT_BEFORE,
                               .not_after = LEAF_NOT_AFTER};
    ws_error e = {""};
    if (ws_cert_create(&ca, NULL, NULL, &ca_cert, &ca_key, &e) != 0 ||
        ws_cert_create(&other, NULL, NULL, &other_ca_cert, &other_ca_key, &e) != 0 ||
        ws_cert_create(&leaf, ca_cert, ca_key, &signer_cert, &signer_key, &e) != 0 ||
        ws_cert_create(&leaf, NULL, NULL, &self_cert, &self_key, &e) != 0) {
        fprintf(stderr, "group setup: %s\n", e.msg);
        return -1;
    }
    roots = sk_X509_new_null();
    other_roots = sk_X509_new_null();
    no_roots = sk_X509_new_null();
    sk_X509_push(roots, ca_cert);
    sk_X509_push(other_roots, other_ca_cert);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sk_X509_free(roots);
    sk_X509_free(other_roots);
    sk_X509_free(no_roots);
    X509_free(ca_cert);
    X509_free(other_ca_cert);
    X509_free(signer_cert);
    X509_free(self_cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(other_ca_key);
    EVP_PKEY_free(signer_key);
    EVP_PKEY_free(self_key);
    return 0;
}

/* ---- helpers ----------------------------------------------------------------- */

/* UTF-8 (trusted, well formed) to UTF-16LE, with a BOM when asked; written apart from
 * the library so that the two converters check each other. */
static unsigned char *to_u16(const char *s, int bom, size_t *len)
{
    size_t n = strlen(s);
    unsigned char *o = malloc(2 + 4 * n + 1), *q = o;
    assert_non_null(o);
    if (bom) {
        *q++ = 0xFF;
        *q++ = 0xFE;
    }
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        int l;
        if (*p < 0x80)
            cp = *p, l = 1;
        else if (*p < 0xE0)
            cp = *p & 0x1F, l = 2;
        else if (*p < 0xF0)
            cp = *p & 0x0F, l = 3;
        else
            cp = *p & 0x07, l = 4;
        for (int i = 1; i < l; i++)
            cp = cp << 6 | (p[i] & 0x3F);
        p += l;
        uint32_t units[2] = {cp, 0};
        int nu = 1;
        if (cp >= 0x10000) {
            units[0] = 0xD800 | ((cp - 0x10000) >> 10);
            units[1] = 0xDC00 | ((cp - 0x10000) & 0x3FF);
            nu = 2;
        }
        for (int i = 0; i < nu; i++) {
            *q++ = (unsigned char)(units[i] & 0xFF);
            *q++ = (unsigned char)(units[i] >> 8);
        }
    }
    *len = (size_t)(q - o);
    return o;
}

static int parse_text(const char *s, ws_rdp_file *f, ws_error *e)
{
    return ws_rdp_parse((const unsigned char *)s, strlen(s), f, e);
}

/* Parse bytes that must be refused with a message containing want. */
static void expect_refused(const unsigned char *data, size_t len, const char *want)
{
    ws_rdp_file f;
    ws_error e = {""};
    int rc = ws_rdp_parse(data, len, &f, &e);
    if (rc == 0)
        ws_rdp_free(&f);
    if (rc != -1)
        fail_msg("accepted, want refusal containing \"%s\"", want);
    /* A refused parse leaves an empty file behind. */
    assert_int_equal(f.n, 0);
    assert_null(f.items);
    assert_contains(e.msg, want);
}

static void expect_text_refused(const char *s, const char *want)
{
    expect_refused((const unsigned char *)s, strlen(s), want);
}

static void expect_u16_refused(const char *s, const char *want)
{
    size_t n;
    unsigned char *b = to_u16(s, 1, &n);
    expect_refused(b, n, want);
    free(b);
}

/* The WAP console file of REFERENCE.md section 4, with lab tokens. */
static const char wap_file[] = "full address:s:hv01.provider.net\r\n"
                               "gatewaycredentialssource:i:5\r\n"
                               "gatewayprofileusagemethod:i:1\r\n"
                               "endpointfedauth:s:VMID=0db667c1-712e-401b-b5ae-47c76a7fc955&Host=hv01&Signature=1|x\r\n"
                               "pcb:s:0DB667C1-712E-401B-B5AE-47C76A7FC955\r\n"
                               "server port:i:2179\r\n"
                               "gatewayusagemethod:i:2\r\n"
                               "gatewayhostname:s:gateway.provider.net\r\n"
                               "gatewayaccesstoken:s:Host=hv01&Port=2179&ExpiresOn=1700000100"
                               "&Signature=1|SHA256|AB|c%3D\r\n"
                               "enablecredsspsupport:i:0\r\n"
                               "userdstls:i:1\r\n";

#define WAP_SCOPE                                                                                           \
    "Full Address,Alternate Full Address,PCB,Server Port,EnableCredSspSupport,GatewayHostname,"             \
    "GatewayUsageMethod,GatewayProfileUsageMethod,GatewayCredentialsSource"

static void load(const char *text, ws_rdp_file *f)
{
    ws_error e = {""};
    if (parse_text(text, f, &e) != 0)
        fail_msg("parse: %s", e.msg);
}

static void load_signed(const char *text, X509 *cert, EVP_PKEY *key, ws_rdp_file *f)
{
    ws_error e = {""};
    load(text, f);
    if (ws_rdp_sign(f, cert, key, &e) != 0)
        fail_msg("sign: %s", e.msg);
}

/* Verify expecting success; returns the signature (caller frees signer). */
static ws_rdp_signature verify_ok(const ws_rdp_file *f, STACK_OF(X509) * r, int64_t at)
{
    ws_rdp_signature sig;
    ws_error e = {""};
    if (ws_rdp_verify(f, r, at, &sig, &e) != 0)
        fail_msg("verify: %s", e.msg);
    assert_non_null(sig.signer);
    return sig;
}

static void verify_refused(const ws_rdp_file *f, const char *want)
{
    ws_rdp_signature sig;
    ws_error e = {""};
    int rc = ws_rdp_verify(f, roots, NOW, &sig, &e);
    X509_free(sig.signer);
    if (rc != -1)
        fail_msg("verified, want refusal containing \"%s\"", want);
    assert_null(sig.signer);
    assert_int_equal(sig.trusted, 0);
    assert_contains(e.msg, want);
    assert_int_equal(ERR_peek_error(), 0);
}

/* The decoded signature blob of a signed file. */
static unsigned char *blob_of(const ws_rdp_file *f, size_t *len)
{
    const char *b64 = ws_rdp_get(f, "signature");
    assert_non_null(b64);
    size_t n = strlen(b64);
    unsigned char *out = malloc(n);
    assert_non_null(out);
    int got = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    assert_true(got > 0);
    *len = (size_t)got - (n > 0 && b64[n - 1] == '=') - (n > 1 && b64[n - 2] == '=');
    return out;
}

static void set_blob(ws_rdp_file *f, const unsigned char *blob, size_t len)
{
    char *b64 = malloc(4 * ((len + 2) / 3) + 1);
    assert_non_null(b64);
    EVP_EncodeBlock((unsigned char *)b64, blob, (int)len);
    assert_int_equal(ws_rdp_set(f, "signature", 's', b64), 0);
    free(b64);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- parsing ------------------------------------------------------------------- */

static void test_parse_utf16_bom(void **state)
{
    (void)state;
    size_t n;
    unsigned char *b = to_u16(wap_file, 1, &n);
    ws_rdp_file f;
    ws_error e = {""};
    int rc = ws_rdp_parse(b, n, &f, &e);
    free(b);
    if (rc != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(f.n, 11);
    assert_string_equal(f.items[0].key, "full address");
    assert_int_equal(f.items[0].type, 's');
    assert_string_equal(f.items[0].value, "hv01.provider.net");
    assert_string_equal(f.items[5].key, "server port");
    assert_int_equal(f.items[5].type, 'i');
    assert_string_equal(f.items[5].value, "2179");
    assert_string_equal(ws_rdp_get(&f, "pcb"), "0DB667C1-712E-401B-B5AE-47C76A7FC955");
    assert_string_equal(ws_rdp_get(&f, "userdstls"), "1");
    assert_null(ws_rdp_get(&f, "signature"));
    ws_rdp_free(&f);
    assert_int_equal(f.n, 0);
    ws_rdp_free(&f); /* twice is harmless */
}

static void test_parse_utf8_with_and_without_bom(void **state)
{
    (void)state;
    ws_rdp_file a, b;
    load(wap_file, &a);
    char *bom = ws_printf("\xEF\xBB\xBF%s", wap_file);
    load(bom, &b);
    free(bom);
    assert_int_equal(a.n, 11);
    assert_int_equal(b.n, a.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_string_equal(a.items[i].key, b.items[i].key);
        assert_int_equal(a.items[i].type, b.items[i].type);
        assert_string_equal(a.items[i].value, b.items[i].value);
    }
    /* The BOM is not part of the first key. */
    assert_string_equal(b.items[0].key, "full address");
    ws_rdp_free(&a);
    ws_rdp_free(&b);

    /* Empty files, with or without a BOM, hold no settings. */
    static const unsigned char u16bom[] = {0xFF, 0xFE}, u8bom[] = {0xEF, 0xBB, 0xBF};
    ws_error e = {""};
    assert_int_equal(ws_rdp_parse(u16bom, 2, &a, &e), 0);
    assert_int_equal(a.n, 0);
    assert_int_equal(ws_rdp_parse(u8bom, 3, &a, &e), 0);
    assert_int_equal(a.n, 0);
    assert_int_equal(ws_rdp_parse(u8bom, 0, &a, &e), 0);
    assert_int_equal(a.n, 0);
}

static void test_value_with_colons(void **state)
{
    (void)state;
    ws_rdp_file f;
    load("full address:s:host:3389\nsupport url:s:https://x.example:8443/a?b=c:d\nempty:s:\ncolon:s::\n", &f);
    assert_int_equal(f.n, 4);
    assert_string_equal(f.items[0].key, "full address");
    assert_string_equal(f.items[0].value, "host:3389");
    assert_string_equal(ws_rdp_get(&f, "support url"), "https://x.example:8443/a?b=c:d");
    assert_string_equal(ws_rdp_get(&f, "empty"), "");
    assert_string_equal(ws_rdp_get(&f, "colon"), ":");
    ws_rdp_free(&f);
}

static void test_keys_case_insensitive(void **state)
{
    (void)state;
    ws_rdp_file f;
    load("Full Address:s:HV01\r\nGatewayHostname:s:GW.Contoso.COM\r\n", &f);
    /* Stored lower case; values keep their case. */
    assert_string_equal(f.items[0].key, "full address");
    assert_string_equal(f.items[1].key, "gatewayhostname");
    assert_string_equal(f.items[1].value, "GW.Contoso.COM");
    assert_string_equal(ws_rdp_get(&f, "FULL ADDRESS"), "HV01");
    assert_string_equal(ws_rdp_get(&f, "gatewayHostName"), "GW.Contoso.COM");
    /* The same key in two spellings is one key, set twice. */
    ws_rdp_free(&f);
    expect_text_refused("full address:s:a\r\nFULL ADDRESS:s:b\r\n", "line 2: \"full address\" is set twice");
}

static void test_blank_lines_and_line_ends(void **state)
{
    (void)state;
    ws_rdp_file f;
    /* LF, CRLF, blank and whitespace-only lines, and a last line without an end. */
    load("\n\r\na:s:1\n  \t\r\nb:i:2\r\n\nc:s:3", &f);
    assert_int_equal(f.n, 3);
    assert_string_equal(ws_rdp_get(&f, "a"), "1");
    assert_string_equal(ws_rdp_get(&f, "b"), "2");
    assert_string_equal(ws_rdp_get(&f, "c"), "3");
    ws_rdp_free(&f);
    /* A CR that does not end a line is refused, not kept in a value. */
    expect_text_refused("a:s:1\r\nb:s:x\ry\r\n", "line 2: carriage return");
    expect_text_refused("a:s:1\r\r\n", "line 1: carriage return");
}

static void test_errors_name_line(void **state)
{
    (void)state;
    expect_text_refused("a:s:1\n\nnocolon\n", "line 3: no type");
    expect_text_refused("a:s:1\nkey:\n", "line 2: no type");
    expect_text_refused(":s:value\n", "line 1: empty key");
    expect_text_refused("a:s:1\nb:x:2\n", "line 2: bad type \"x\"");
    expect_text_refused("a:ss:1\n", "line 1: bad type \"ss\"");
    expect_text_refused("a:S:1\n", "line 1: bad type \"S\"");
    expect_text_refused("a::1\n", "line 1: bad type \"\"");
    expect_text_refused("a:s\n", "line 1: no ':' after the type");
    expect_text_refused("a:s:1\r\nb:i\r\n", "line 2: no ':' after the type");
    /* The same in UTF-16, and the message says what types are allowed. */
    expect_u16_refused("a:s:1\r\n\r\n\r\nb:q:2\r\n", "line 4: bad type \"q\" (want s, i or b)");
    expect_u16_refused("a:s:1\r\nno type here\r\n", "line 2: no type");
}

static void test_integer_values(void **state)
{
    (void)state;
    ws_rdp_file f;
    load("a:i:0\nb:i:-5\nc:i:2179\nd:i:007\ne:i:-2147483648\n", &f);
    assert_int_equal(f.n, 5);
    assert_string_equal(ws_rdp_get(&f, "b"), "-5");
    assert_string_equal(ws_rdp_get(&f, "d"), "007");
    ws_rdp_free(&f);
    expect_text_refused("a:s:x\nserver port:i:21x9\n", "line 2: \"server port\" is not an integer: \"21x9\"");
    expect_text_refused("a:i:\n", "line 1: \"a\" is not an integer");
    expect_text_refused("a:i:-\n", "is not an integer");
    expect_text_refused("a:i:+1\n", "is not an integer");
    expect_text_refused("a:i: 1\n", "is not an integer");
    expect_text_refused("a:i:1 \n", "is not an integer");
    expect_text_refused("a:i:1.5\n", "is not an integer");
    expect_text_refused("a:i:0x10\n", "is not an integer");
    /* 's' and 'b' values are not numbers. */
    load("a:s:abc\nb:b:0100FF\n", &f);
    assert_int_equal(f.n, 2);
    ws_rdp_free(&f);
}

static void test_utf16_odd_bytes(void **state)
{
    (void)state;
    static const unsigned char odd[] = {0xFF, 0xFE, 'a', 0, ':', 0, 's', 0, ':', 0, 'b'};
    expect_refused(odd, sizeof odd, "odd number of bytes");
    static const unsigned char bom_and_one[] = {0xFF, 0xFE, 'a'};
    expect_refused(bom_and_one, sizeof bom_and_one, "odd number of bytes");
}

static void test_utf16_unpaired_surrogates(void **state)
{
    (void)state;
    /* "a:s:" then a high surrogate at the very end. */
    static const unsigned char high_end[] = {0xFF, 0xFE, 'a', 0, ':', 0, 's', 0, ':', 0, 0x3D, 0xD8};
    expect_refused(high_end, sizeof high_end, "line 1: unpaired UTF-16 high surrogate D83D");
    /* Line 2: a high surrogate followed by 'x'. */
    static const unsigned char high_x[] = {0xFF, 0xFE, 'a', 0,   ':', 0,    's', 0,    ':', 0, 'b', 0,
                                           '\r', 0,    '\n', 0,  'c', 0,    ':', 0,    's', 0, ':', 0,
                                           0x00, 0xD8, 'x', 0};
    expect_refused(high_x, sizeof high_x, "line 2: unpaired UTF-16 high surrogate D800");
    /* Two high surrogates in a row. */
    static const unsigned char high_high[] = {0xFF, 0xFE, 'a', 0, ':', 0, 's', 0, ':', 0, 0x00, 0xD8, 0x00, 0xD8};
    expect_refused(high_high, sizeof high_high, "unpaired UTF-16 high surrogate");
    /* A low surrogate with no high one before it. */
    static const unsigned char low[] = {0xFF, 0xFE, 'a', 0, ':', 0, 's', 0, ':', 0, 0x00, 0xDC, 'x', 0};
    expect_refused(low, sizeof low, "line 1: unpaired UTF-16 low surrogate DC00");
    /* Reversed pair. */
    static const unsigned char reversed[] = {0xFF, 0xFE, 'a', 0, ':', 0, 's', 0, ':', 0, 0x00, 0xDE, 0x3D, 0xD8};
    expect_refused(reversed, sizeof reversed, "unpaired UTF-16 low surrogate");
}

static void test_utf16_big_endian_refused(void **state)
{
    (void)state;
    static const unsigned char be[] = {0xFE, 0xFF, 0, 'a', 0, ':', 0, 's', 0, ':', 0, 'b'};
    expect_refused(be, sizeof be, "big-endian");
}

static void test_nul_refused(void **state)
{
    (void)state;
    static const char u8[] = "a:s:1\nb:s:x\0y\n";
    expect_refused((const unsigned char *)u8, sizeof u8 - 1, "line 2: NUL character");
    static const unsigned char u16[] = {0xFF, 0xFE, 'a', 0, ':', 0, 's', 0, ':', 0, 0, 0, '\n', 0};
    expect_refused(u16, sizeof u16, "line 1: NUL character");
    /* A UTF-16 file without its BOM reads as UTF-8 full of NULs: refused, not misread. */
    size_t n;
    unsigned char *b = to_u16("a:s:1\r\n", 0, &n);
    expect_refused(b, n, "line 1: NUL character");
    free(b);
}

static void test_invalid_utf8_refused(void **state)
{
    (void)state;
    expect_text_refused("a:s:1\nb:s:\xFF\n", "line 2: invalid UTF-8");
    expect_text_refused("a:s:\xC0\x80\n", "line 1: invalid UTF-8");        /* overlong NUL */
    expect_text_refused("a:s:\xED\xA0\x80\n", "line 1: invalid UTF-8");    /* encoded surrogate */
    expect_text_refused("a:s:\xE2\x82\n", "line 1: invalid UTF-8");        /* truncated */
    expect_text_refused("a:s:\xF4\x90\x80\x80\n", "line 1: invalid UTF-8"); /* beyond U+10FFFF */
    expect_text_refused("a:s:\x80\n", "line 1: invalid UTF-8");            /* lone continuation */
}

static void test_non_bmp_round_trip(void **state)
{
    (void)state;
    /* é (2 bytes), 中 (3), U+1F600 and U+1D11E (4 bytes; surrogate pairs in UTF-16). */
    static const char value[] = "caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80 \xF0\x9D\x84\x9E!";
    char *text = ws_printf("full address:s:hv01\r\nsupport url:s:%s\r\nclé \xF0\x9F\x98\x80:s:x\r\n", value);
    size_t n;
    unsigned char *in = to_u16(text, 1, &n);
    free(text);
    ws_rdp_file f;
    ws_error e = {""};
    if (ws_rdp_parse(in, n, &f, &e) != 0)
        fail_msg("%s", e.msg);
    assert_string_equal(ws_rdp_get(&f, "support url"), value);
    assert_string_equal(f.items[2].key, "clé \xF0\x9F\x98\x80");
    unsigned char *out = NULL;
    size_t olen = 0;
    assert_int_equal(ws_rdp_serialize(&f, &out, &olen), 0);
    assert_int_equal(olen, n);
    assert_memory_equal(out, in, n);
    /* U+1F600 is D83D DE00: little-endian 3D D8 00 DE. */
    static const unsigned char pair[] = {0x3D, 0xD8, 0x00, 0xDE};
    assert_non_null(memmem(out, olen, pair, sizeof pair));
    free(in);
    free(out);
    ws_rdp_free(&f);
}

static void test_oversize_input(void **state)
{
    (void)state;
    /* One byte over the file limit, of otherwise valid lines. */
    size_t n = WS_RDP_FILE_MAX + 1;
    unsigned char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (i % 64 == 63) ? '\n' : 'a';
    expect_refused(big, n, "at most 1048576");
    free(big);

    /* A line of exactly WS_RDP_LINE_MAX bytes is read; one more byte is refused. */
    size_t vlen = WS_RDP_LINE_MAX - 4;
    char *line = malloc(vlen + 32);
    assert_non_null(line);
    memcpy(line, "a:s:1\nb:s:", 10);
    memset(line + 10, 'v', vlen);
    strcpy(line + 10 + vlen, "\r\n");
    ws_rdp_file f;
    load(line, &f);
    assert_int_equal(strlen(ws_rdp_get(&f, "b")), vlen);
    /* What was read can be written: ws_rdp_set accepts it too. */
    assert_int_equal(ws_rdp_set(&f, "b", 's', ws_rdp_get(&f, "b")), 0);
    ws_rdp_free(&f);
    memset(line + 10, 'v', vlen + 1);
    strcpy(line + 10 + vlen + 1, "\r\n");
    expect_text_refused(line, "line 2: longer than 65536 bytes");
    free(line);
}

static void test_too_many_settings(void **state)
{
    (void)state;
    size_t cap = (WS_RDP_SETTINGS_MAX + 1) * 24;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = 0;
    for (int i = 0; i < WS_RDP_SETTINGS_MAX; i++)
        len += (size_t)snprintf(text + len, cap - len, "k%d:i:%d\r\n", i, i);
    ws_rdp_file f;
    load(text, &f);
    assert_int_equal(f.n, WS_RDP_SETTINGS_MAX);
    /* ws_rdp_set keeps the same bound: replacing works, adding does not. */
    assert_int_equal(ws_rdp_set(&f, "k0", 's', "x"), 0);
    assert_int_equal(ws_rdp_set(&f, "one more", 's', "x"), -1);
    assert_int_equal(f.n, WS_RDP_SETTINGS_MAX);
    ws_rdp_free(&f);
    snprintf(text + len, cap - len, "one more:s:x\r\n");
    expect_text_refused(text, "line 1025: more than 1024 settings");
    free(text);
}

static void test_serialize_byte_exact(void **state)
{
    (void)state;
    /* A file as the library writes it reads back and writes out to the same bytes. */
    size_t n;
    unsigned char *canonical = to_u16(wap_file, 1, &n);
    ws_rdp_file f;
    ws_error e = {""};
    assert_int_equal(ws_rdp_parse(canonical, n, &f, &e), 0);
    unsigned char *out = NULL;
    size_t olen = 0;
    assert_int_equal(ws_rdp_serialize(&f, &out, &olen), 0);
    assert_int_equal(olen, n);
    assert_memory_equal(out, canonical, n);
    assert_int_equal(out[0], 0xFF);
    assert_int_equal(out[1], 0xFE);
    free(out);
    free(canonical);
    ws_rdp_free(&f);

    /* UTF-8, mixed-case keys, LF ends and blank lines come out canonical. */
    load("\xEF\xBB\xBF" "Full Address:s:Host:3389\n\nServer Port:i:-1\nX:b:00\n", &f);
    assert_int_equal(ws_rdp_serialize(&f, &out, &olen), 0);
    unsigned char *want = to_u16("full address:s:Host:3389\r\nserver port:i:-1\r\nx:b:00\r\n", 1, &n);
    assert_int_equal(olen, n);
    assert_memory_equal(out, want, n);
    free(out);
    free(want);
    ws_rdp_free(&f);

    /* An empty file is just the BOM. */
    ws_rdp_init(&f);
    assert_int_equal(ws_rdp_serialize(&f, &out, &olen), 0);
    assert_int_equal(olen, 2);
    assert_int_equal(out[0], 0xFF);
    assert_int_equal(out[1], 0xFE);
    free(out);
}

static void test_serialize_refuses_what_cannot_be_read_back(void **state)
{
    (void)state;
    ws_rdp_file f;
    load("a:s:one\n", &f);
    unsigned char *out = NULL;
    size_t olen = 0;
    /* Settings poked into the structure directly, bypassing ws_rdp_set's checks. */
    char *old = f.items[0].value;
    char bad_value[] = "x\r\ny:s:z";
    f.items[0].value = bad_value;
    assert_int_equal(ws_rdp_serialize(&f, &out, &olen), -1);
    char bad_utf8[] = "\xFF";
    f.items[0].value = bad_utf8;
    assert_int_equal(ws_rdp_serialize(&f, &out, &olen), -1);
    f.items[0].value = old;
    f.items[0].type = 'x';
    assert_int_equal(ws_rdp_serialize(&f, &out, &olen), -1);
    f.items[0].type = 'i';
    assert_int_equal(ws_rdp_serialize(&f, &out, &olen), -1);
    f.items[0].type = 's';
    assert_int_equal(ws_rdp_serialize(&f, &out, &olen), 0);
    free(out);
    ws_rdp_free(&f);
}

static void test_set_get_remove(void **state)
{
    (void)state;
    ws_rdp_file f;
    ws_rdp_init(&f);
    assert_null(ws_rdp_get(&f, "a"));
    assert_int_equal(ws_rdp_set(&f, "Full Address", 's', "hv01"), 0);
    assert_int_equal(ws_rdp_set(&f, "server port", 'i', "2179"), 0);
    assert_int_equal(ws_rdp_set(&f, "pcb", 's', "X"), 0);
    assert_string_equal(f.items[0].key, "full address");
    /* Replacing keeps the position and takes the new type. */
    assert_int_equal(ws_rdp_set(&f, "SERVER PORT", 's', "two"), 0);
    assert_int_equal(f.n, 3);
    assert_string_equal(f.items[1].key, "server port");
    assert_int_equal(f.items[1].type, 's');
    assert_string_equal(f.items[1].value, "two");
    /* What could not be written as one line is refused and changes nothing. */
    assert_int_equal(ws_rdp_set(&f, "a:b", 's', "x"), -1);
    assert_int_equal(ws_rdp_set(&f, "", 's', "x"), -1);
    assert_int_equal(ws_rdp_set(&f, "a", 'x', "x"), -1);
    assert_int_equal(ws_rdp_set(&f, "a", 'i', "x"), -1);
    assert_int_equal(ws_rdp_set(&f, "a", 's', "x\ny"), -1);
    assert_int_equal(ws_rdp_set(&f, "a", 's', "x\ry"), -1);
    assert_int_equal(ws_rdp_set(&f, "a\n", 's', "x"), -1);
    assert_int_equal(ws_rdp_set(&f, "a", 's', "\xC3"), -1);
    assert_int_equal(ws_rdp_set(&f, "a", 's', NULL), -1);
    assert_int_equal(ws_rdp_set(&f, NULL, 's', "x"), -1);
    assert_int_equal(ws_rdp_set(&f, "pcb", 'i', "x"), -1);
    assert_string_equal(ws_rdp_get(&f, "pcb"), "X");
    assert_int_equal(f.n, 3);
    /* Remove: the others keep their order. */
    assert_int_equal(ws_rdp_remove(&f, "Server Port"), 0);
    assert_int_equal(ws_rdp_remove(&f, "server port"), -1);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.items[0].key, "full address");
    assert_string_equal(f.items[1].key, "pcb");
    assert_null(ws_rdp_get(&f, "server port"));
    assert_null(ws_rdp_get(&f, NULL));
    assert_null(ws_rdp_get(NULL, "pcb"));
    ws_rdp_free(&f);
}

/* ---- signed text ---------------------------------------------------------------- */

static void test_signed_text_layout(void **state)
{
    (void)state;
    ws_rdp_file f;
    load("userdstls:i:1\r\nPCB:s:VM-1\r\nfull address:s:h:1\r\nserver port:i:2179\r\n", &f);
    unsigned char *text = NULL;
    size_t n = 0;
    ws_error e = {""};
    /* The scope's order, the file's own lower-case keys, the scope line as given, U+0000. */
    assert_int_equal(ws_rdp_signed_text(&f, "full address,Server Port,PCB", &text, &n, &e), 0);
    size_t wn;
    unsigned char *want =
        to_u16("full address:s:h:1\r\nserver port:i:2179\r\npcb:s:VM-1\r\nsignscope:s:full address,Server Port,PCB\r\n",
               0, &wn);
    assert_int_equal(n, wn + 2);
    assert_memory_equal(text, want, wn);
    assert_int_equal(text[wn], 0);
    assert_int_equal(text[wn + 1], 0);
    free(text);
    free(want);

    /* Refusals: unknown names, names absent from the file, repeats, empty scope. */
    text = NULL;
    assert_int_equal(ws_rdp_signed_text(&f, "Full Address,UserDSTLS", &text, &n, &e), -1);
    assert_contains(e.msg, "signscope names \"UserDSTLS\", which is not a secure setting");
    assert_int_equal(ws_rdp_signed_text(&f, "Full Address,GatewayHostname", &text, &n, &e), -1);
    assert_contains(e.msg, "\"GatewayHostname\" but the file has no such setting");
    assert_int_equal(ws_rdp_signed_text(&f, "PCB,Full Address,PCB", &text, &n, &e), -1);
    assert_contains(e.msg, "twice");
    assert_int_equal(ws_rdp_signed_text(&f, "", &text, &n, &e), -1);
    assert_contains(e.msg, "empty");
    assert_int_equal(ws_rdp_signed_text(&f, "PCB,", &text, &n, &e), -1);
    assert_int_equal(ws_rdp_signed_text(&f, " PCB", &text, &n, &e), -1);
    assert_null(text);
    ws_rdp_free(&f);
}

/* ---- signing and verifying ---------------------------------------------------- */

static void test_sign_and_verify_wap_file(void **state)
{
    (void)state;
    ws_rdp_file f;
    load_signed(wap_file, signer_cert, signer_key, &f);
    /* Step 1 added alternate full address; signscope and signature come last. */
    assert_int_equal(f.n, 14);
    assert_string_equal(f.items[11].key, "alternate full address");
    assert_string_equal(f.items[11].value, "hv01.provider.net");
    assert_string_equal(f.items[12].key, "signscope");
    assert_string_equal(f.items[12].value, WAP_SCOPE);
    assert_string_equal(f.items[13].key, "signature");
    assert_int_equal(f.items[13].type, 's');
    const char *b64 = f.items[13].value;
    assert_null(strpbrk(b64, " \t\r\n"));
    assert_string_equal(ws_rdp_get(&f, "endpointfedauth"),
                        "VMID=0db667c1-712e-401b-b5ae-47c76a7fc955&Host=hv01&Signature=1|x");

    ws_rdp_signature sig = verify_ok(&f, roots, NOW);
    assert_int_equal(sig.trusted, 1);
    assert_string_equal(sig.trust_error, "");
    char tp[41];
    ws_cert_thumbprint(signer_cert, tp);
    assert_string_equal(sig.thumbprint, tp);
    assert_int_equal(X509_cmp(sig.signer, signer_cert), 0);
    X509_free(sig.signer);

    /* Written and read back, the signature still holds. */
    unsigned char *bytes = NULL;
    size_t n = 0;
    ws_error e = {""};
    assert_int_equal(ws_rdp_serialize(&f, &bytes, &n), 0);
    ws_rdp_file g;
    assert_int_equal(ws_rdp_parse(bytes, n, &g, &e), 0);
    free(bytes);
    sig = verify_ok(&g, roots, NOW);
    assert_int_equal(sig.trusted, 1);
    X509_free(sig.signer);
    /* sig may be NULL when only the verdict matters. */
    assert_int_equal(ws_rdp_verify(&g, roots, NOW, NULL, &e), 0);
    ws_rdp_free(&g);
    ws_rdp_free(&f);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_cms_shape(void **state)
{
    (void)state;
    ws_rdp_file f;
    load_signed(wap_file, signer_cert, signer_key, &f);
    size_t n;
    unsigned char *blob = blob_of(&f, &n);
    /* Step 4: 01 00 01 00, 01 00 00 00, length, then the DER. */
    static const unsigned char magic[8] = {0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00};
    assert_true(n > 12);
    assert_memory_equal(blob, magic, 8);
    uint32_t dlen = blob[8] | (uint32_t)blob[9] << 8 | (uint32_t)blob[10] << 16 | (uint32_t)blob[11] << 24;
    assert_int_equal(dlen, n - 12);
    const unsigned char *p = blob + 12;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)dlen);
    assert_non_null(cms);
    assert_int_equal(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_signed);
    ASN1_OCTET_STRING **content = CMS_get0_content(cms);
    int detached = !content || !*content;
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
    int nsi = sk_CMS_SignerInfo_num(sis);
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
    int nattr = CMS_signed_get_attr_count(si);
    X509_ALGOR *dig = NULL;
    CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
    int dnid = OBJ_obj2nid(dig->algorithm);
    STACK_OF(X509) *certs = CMS_get1_certs(cms);
    int ncerts = sk_X509_num(certs);
    int has_signer = ncerts == 1 && X509_cmp(sk_X509_value(certs, 0), signer_cert) == 0;
    sk_X509_pop_free(certs, X509_free);
    CMS_ContentInfo_free(cms);
    free(blob);
    ws_rdp_free(&f);
    assert_true(detached);
    assert_int_equal(nsi, 1);
    assert_true(nattr <= 0); /* no signed attributes */
    assert_int_equal(dnid, NID_sha256);
    assert_true(has_signer); /* the signer certificate, and only it */
}

static void test_scope_fixed_order(void **state)
{
    (void)state;
    /* The WAP file's lines in reverse: the scope does not follow the file. */
    static const char reversed[] = "userdstls:i:1\r\n"
                                   "enablecredsspsupport:i:0\r\n"
                                   "gatewayaccesstoken:s:t\r\n"
                                   "gatewayhostname:s:gateway.provider.net\r\n"
                                   "gatewayusagemethod:i:2\r\n"
                                   "server port:i:2179\r\n"
                                   "pcb:s:0DB667C1-712E-401B-B5AE-47C76A7FC955\r\n"
                                   "endpointfedauth:s:t\r\n"
                                   "gatewayprofileusagemethod:i:1\r\n"
                                   "gatewaycredentialssource:i:5\r\n"
                                   "full address:s:hv01.provider.net\r\n";
    ws_rdp_file f;
    load_signed(reversed, signer_cert, signer_key, &f);
    assert_string_equal(ws_rdp_get(&f, "signscope"), WAP_SCOPE);
    ws_rdp_signature sig = verify_ok(&f, roots, NOW);
    X509_free(sig.signer);
    ws_rdp_free(&f);

    /* Mixed-case keys sign under their lower-case form; later names of the list too. */
    load_signed("RedirectClipboard:i:0\r\nAlternate Shell:s:x\r\nKDCProxyName:s:kdc\r\nAudioMode:i:2\r\n"
                "RemoteApplicationMode:i:1\r\nRemoteApplicationProgram:s:||app\r\n",
                signer_cert, signer_key, &f);
    assert_string_equal(ws_rdp_get(&f, "signscope"),
                        "Alternate Shell,RemoteApplicationProgram,RemoteApplicationMode,AudioMode,RedirectClipboard,"
                        "KDCProxyName");
    sig = verify_ok(&f, roots, NOW);
    X509_free(sig.signer);
    ws_rdp_free(&f);
}

static void test_alternate_full_address(void **state)
{
    (void)state;
    ws_rdp_file f;
    /* Absent: added with the value of full address. */
    load_signed("full address:s:hv01:2179\r\npcb:s:X\r\n", signer_cert, signer_key, &f);
    assert_string_equal(ws_rdp_get(&f, "alternate full address"), "hv01:2179");
    assert_string_equal(ws_rdp_get(&f, "signscope"), "Full Address,Alternate Full Address,PCB");
    ws_rdp_free(&f);
    /* Present: kept as it is. */
    load_signed("alternate full address:s:other\r\nfull address:s:hv01\r\n", signer_cert, signer_key, &f);
    assert_int_equal(f.n, 4);
    assert_string_equal(ws_rdp_get(&f, "alternate full address"), "other");
    assert_string_equal(ws_rdp_get(&f, "signscope"), "Full Address,Alternate Full Address");
    ws_rdp_signature sig = verify_ok(&f, roots, NOW);
    X509_free(sig.signer);
    /* Pointing it elsewhere after signing breaks the signature. */
    assert_int_equal(ws_rdp_set(&f, "alternate full address", 's', "evil.example"), 0);
    verify_refused(&f, "signature does not match");
    ws_rdp_free(&f);
    /* No full address: none added. */
    load_signed("pcb:s:X\r\n", signer_cert, signer_key, &f);
    assert_null(ws_rdp_get(&f, "alternate full address"));
    assert_string_equal(ws_rdp_get(&f, "signscope"), "PCB");
    ws_rdp_free(&f);
}

static void test_resign_replaces_signature(void **state)
{
    (void)state;
    ws_rdp_file f;
    load_signed(wap_file, signer_cert, signer_key, &f);
    ws_error e = {""};
    assert_int_equal(ws_rdp_set(&f, "server port", 'i', "2180"), 0);
    assert_int_equal(ws_rdp_sign(&f, self_cert, self_key, &e), 0);
    assert_int_equal(f.n, 14);
    assert_string_equal(f.items[12].key, "signscope");
    assert_string_equal(f.items[13].key, "signature");
    ws_rdp_signature sig = verify_ok(&f, roots, NOW);
    assert_int_equal(X509_cmp(sig.signer, self_cert), 0);
    assert_int_equal(sig.trusted, 0); /* self-signed, not under the CA */
    X509_free(sig.signer);
    ws_rdp_free(&f);
}

static void test_tampered_secure_setting(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        char type;
        const char *value;
    } edits[] = {
        {"server port", 'i', "3389"},
        {"gatewayhostname", 's', "evil.example"},
        {"PCB", 's', "00000000-0000-0000-0000-000000000000"},
        {"full address", 's', "hv02.provider.net"},
        {"gatewaycredentialssource", 'i', "4"},
        {"enablecredsspsupport", 's', "0"}, /* the type is signed too */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        ws_rdp_file f;
        load_signed(wap_file, signer_cert, signer_key, &f);
        assert_int_equal(ws_rdp_set(&f, edits[i].key, edits[i].type, edits[i].value), 0);
        verify_refused(&f, "signature does not match");
        ws_rdp_free(&f);
    }
}

static void test_unsigned_settings_may_change(void **state)
{
    (void)state;
    ws_rdp_file f;
    load_signed(wap_file, signer_cert, signer_key, &f);
    /* Section 4: the tokens are not signed, so they can be swapped between files. */
    assert_int_equal(ws_rdp_set(&f, "gatewayaccesstoken", 's', "Host=other&Signature=forged"), 0);
    assert_int_equal(ws_rdp_set(&f, "EndpointFedAuth", 's', "VMID=someone-else"), 0);
    assert_int_equal(ws_rdp_remove(&f, "userdstls"), 0);
    assert_int_equal(ws_rdp_set(&f, "screen mode id", 'i', "2"), 0);
    ws_rdp_signature sig = verify_ok(&f, roots, NOW);
    assert_int_equal(sig.trusted, 1);
    X509_free(sig.signer);
    ws_rdp_free(&f);
}

static void test_scope_and_settings_must_agree(void **state)
{
    (void)state;
    ws_rdp_file f;
    load_signed(wap_file, signer_cert, signer_key, &f);
    /* A secure setting added after signing is outside the scope. */
    assert_int_equal(ws_rdp_set(&f, "alternate shell", 's', "cmd.exe"), 0);
    verify_refused(&f, "secure setting \"alternate shell\" is not covered by signscope");
    assert_int_equal(ws_rdp_remove(&f, "alternate shell"), 0);
    /* A signed setting removed. */
    assert_int_equal(ws_rdp_remove(&f, "pcb"), 0);
    verify_refused(&f, "signscope names \"PCB\" but the file has no such setting");
    ws_rdp_free(&f);

    load_signed(wap_file, signer_cert, signer_key, &f);
    /* A name dropped from the scope: that setting is no longer covered. */
    assert_int_equal(ws_rdp_set(&f, "signscope", 's',
                                "Full Address,Alternate Full Address,Server Port,EnableCredSspSupport,"
                                "GatewayHostname,GatewayUsageMethod,GatewayProfileUsageMethod,"
                                "GatewayCredentialsSource"),
                     0);
    verify_refused(&f, "secure setting \"pcb\" is not covered by signscope");
    /* The scope reordered: the signed text changes, so the signature does not match. */
    assert_int_equal(ws_rdp_set(&f, "signscope", 's',
                                "PCB,Full Address,Alternate Full Address,Server Port,EnableCredSspSupport,"
                                "GatewayHostname,GatewayUsageMethod,GatewayProfileUsageMethod,"
                                "GatewayCredentialsSource"),
                     0);
    verify_refused(&f, "signature does not match");
    /* Names outside the secure list. */
    assert_int_equal(ws_rdp_set(&f, "signscope", 's', WAP_SCOPE ",GatewayAccessToken"), 0);
    verify_refused(&f, "\"GatewayAccessToken\", which is not a secure setting");
    /* The scope in another case still names the same settings, but is other signed text. */
    assert_int_equal(ws_rdp_set(&f, "signscope", 's',
                                "full address,alternate full address,pcb,server port,enablecredsspsupport,"
                                "gatewayhostname,gatewayusagemethod,gatewayprofileusagemethod,"
                                "gatewaycredentialssource"),
                     0);
    verify_refused(&f, "signature does not match");
    assert_int_equal(ws_rdp_remove(&f, "signscope"), 0);
    verify_refused(&f, "no signscope");
    assert_int_equal(ws_rdp_set(&f, "signscope", 'i', "1"), 0);
    verify_refused(&f, "must be string (s) settings");
    ws_rdp_free(&f);
}

static void test_trust(void **state)
{
    (void)state;
    ws_rdp_file f;
    load_signed(wap_file, signer_cert, signer_key, &f);
    /* The signature itself holds whatever the trust; the trust is reported apart. */
    ws_rdp_signature sig = verify_ok(&f, roots, NOW);
    assert_int_equal(sig.trusted, 1);
    X509_free(sig.signer);
    sig = verify_ok(&f, other_roots, NOW);
    assert_int_equal(sig.trusted, 0);
    assert_contains(sig.trust_error, "unable to get local issuer certificate");
    X509_free(sig.signer);
    sig = verify_ok(&f, no_roots, NOW);
    assert_int_equal(sig.trusted, 0);
    assert_contains(sig.trust_error, "unable to get local issuer certificate");
    X509_free(sig.signer);
    sig = verify_ok(&f, NULL, NOW);
    assert_int_equal(sig.trusted, 0);
    assert_contains(sig.trust_error, "no trusted roots");
    X509_free(sig.signer);
    ws_rdp_free(&f);

    /* A self-signed signer is trusted when it is itself a root (section 2), not otherwise. */
    load_signed(wap_file, self_cert, self_key, &f);
    STACK_OF(X509) *self_roots = sk_X509_new_null();
    sk_X509_push(self_roots, self_cert);
    sig = verify_ok(&f, self_roots, NOW);
    int self_trusted = sig.trusted;
    X509_free(sig.signer);
    sig = verify_ok(&f, roots, NOW);
    int self_under_ca = sig.trusted;
    char err[256];
    snprintf(err, sizeof err, "%s", sig.trust_error);
    X509_free(sig.signer);
    sk_X509_free(self_roots);
    ws_rdp_free(&f);
    assert_int_equal(self_trusted, 1);
    assert_int_equal(self_under_ca, 0);
    assert_contains(err, "self");
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_expired_signer(void **state)
{
    (void)state;
    ws_rdp_file f;
    load_signed(wap_file, signer_cert, signer_key, &f);
    /* Validity is judged at the time given, not the clock. */
    ws_rdp_signature sig = verify_ok(&f, roots, LEAF_NOT_AFTER + 1);
    assert_int_equal(sig.trusted, 0);
    assert_contains(sig.trust_error, "certificate has expired");
    X509_free(sig.signer);
    sig = verify_ok(&f, roots, LEAF_NOT_BEFORE - 1);
    assert_int_equal(sig.trusted, 0);
    assert_contains(sig.trust_error, "not yet valid");
    X509_free(sig.signer);
    /* The first and last seconds of validity (OpenSSL: expired at notAfter itself). */
    sig = verify_ok(&f, roots, LEAF_NOT_AFTER - 1);
    assert_int_equal(sig.trusted, 1);
    X509_free(sig.signer);
    sig = verify_ok(&f, roots, LEAF_NOT_BEFORE);
    assert_int_equal(sig.trusted, 1);
    X509_free(sig.signer);
    ws_rdp_free(&f);
}

static void test_bad_signatures(void **state)
{
    (void)state;
    ws_rdp_file f;
    load(wap_file, &f);
    verify_refused(&f, "not signed");
    ws_rdp_free(&f);

    load_signed(wap_file, signer_cert, signer_key, &f);
    size_t n;
    unsigned char *blob = blob_of(&f, &n);
    unsigned char *copy = malloc(n + 16);
    assert_non_null(copy);

    assert_int_equal(ws_rdp_set(&f, "signature", 's', "!!!!"), 0);
    verify_refused(&f, "not base64");
    assert_int_equal(ws_rdp_set(&f, "signature", 's', "QUJD="), 0);
    verify_refused(&f, "not base64");
    assert_int_equal(ws_rdp_set(&f, "signature", 's', "QU=D"), 0);
    verify_refused(&f, "not base64");
    assert_int_equal(ws_rdp_set(&f, "signature", 's', ""), 0);
    verify_refused(&f, "not base64");
    /* 5 bytes: shorter than the header. */
    assert_int_equal(ws_rdp_set(&f, "signature", 's', "AQABAAE="), 0);
    verify_refused(&f, "shorter than its 12-byte header");
    /* Wrong magic. */
    memcpy(copy, blob, n);
    copy[0] = 0x02;
    set_blob(&f, copy, n);
    verify_refused(&f, "header is 00010002 00000001");
    memcpy(copy, blob, n);
    copy[4] = 0x00;
    set_blob(&f, copy, n);
    verify_refused(&f, "header is");
    /* Truncated: the length says more than follows. */
    set_blob(&f, blob, n - 1);
    verify_refused(&f, "truncated");
    memcpy(copy, blob, n);
    put32(copy + 8, 0xFFFFFFFFu);
    set_blob(&f, copy, n);
    verify_refused(&f, "truncated");
    /* Oversized: bytes after the announced CMS. */
    memcpy(copy, blob, n);
    memset(copy + n, 0, 4);
    set_blob(&f, copy, n + 4);
    verify_refused(&f, "oversized");
    /* Length consistent with the bytes, but the DER is cut. */
    memcpy(copy, blob, n);
    put32(copy + 8, (uint32_t)(n - 12 - 10));
    set_blob(&f, copy, n - 10);
    verify_refused(&f, "not a DER CMS structure");
    /* Garbage where the DER should be. */
    memcpy(copy, blob, 12);
    memset(copy + 12, 0x41, n - 12);
    set_blob(&f, copy, n);
    verify_refused(&f, "not a DER CMS structure");
    /* A flipped bit in the RSA signature (the last bytes of the DER). */
    memcpy(copy, blob, n);
    copy[n - 1] ^= 0x01;
    set_blob(&f, copy, n);
    verify_refused(&f, "signature does not match");
    /* The original, with whitespace every 64 characters (step 5), still verifies. */
    set_blob(&f, blob, n);
    const char *b64 = ws_rdp_get(&f, "signature");
    size_t bl = strlen(b64);
    char *spaced = malloc(bl + bl / 64 * 2 + 4);
    assert_non_null(spaced);
    size_t k = 0;
    for (size_t i = 0; i < bl; i++) {
        if (i && i % 64 == 0) {
            spaced[k++] = ' ';
            spaced[k++] = ' ';
        }
        spaced[k++] = b64[i];
    }
    spaced[k++] = ' ';
    spaced[k] = '\0';
    assert_int_equal(ws_rdp_set(&f, "signature", 's', spaced), 0);
    free(spaced);
    ws_rdp_signature sig = verify_ok(&f, roots, NOW);
    X509_free(sig.signer);
    free(copy);
    free(blob);
    ws_rdp_free(&f);
}

/* A CMS with embedded content, or signed by someone whose certificate is absent. */
static void test_cms_variants_refused(void **state)
{
    (void)state;
    ws_rdp_file f;
    load_signed(wap_file, signer_cert, signer_key, &f);
    unsigned char *text = NULL;
    size_t tlen = 0;
    ws_error e = {""};
    assert_int_equal(ws_rdp_signed_text(&f, ws_rdp_get(&f, "signscope"), &text, &tlen, &e), 0);
    const unsigned int variants[] = {
        CMS_BINARY | CMS_NOATTR | CMS_NOSMIMECAP,                              /* not detached */
        CMS_BINARY | CMS_DETACHED | CMS_NOATTR | CMS_NOSMIMECAP | CMS_NOCERTS, /* no certificate */
        CMS_BINARY | CMS_DETACHED,                                             /* with signed attributes */
    };
    const char *want[] = {"not detached", "does not carry its signer's certificate", NULL};
    for (size_t v = 0; v < 3; v++) {
        BIO *in = BIO_new_mem_buf(text, (int)tlen);
        CMS_ContentInfo *cms = CMS_sign(signer_cert, signer_key, NULL, in, variants[v]);
        assert_non_null(cms);
        unsigned char *der = NULL;
        int dlen = i2d_CMS_ContentInfo(cms, &der);
        assert_true(dlen > 0);
        unsigned char *blob = malloc((size_t)dlen + 12);
        assert_non_null(blob);
        put32(blob, 0x00010001);
        put32(blob + 4, 1);
        put32(blob + 8, (uint32_t)dlen);
        memcpy(blob + 12, der, (size_t)dlen);
        set_blob(&f, blob, (size_t)dlen + 12);
        if (want[v]) {
            verify_refused(&f, want[v]);
        } else {
            /* Signed attributes are not what rdpsign makes, but the signature is sound. */
            ws_rdp_signature sig = verify_ok(&f, roots, NOW);
            X509_free(sig.signer);
            assert_int_equal(ws_rdp_set(&f, "server port", 'i', "1"), 0);
            verify_refused(&f, "signature does not match");
            assert_int_equal(ws_rdp_set(&f, "server port", 'i', "2179"), 0);
        }
        free(blob);
        OPENSSL_free(der);
        CMS_ContentInfo_free(cms);
        BIO_free(in);
    }
    free(text);
    ws_rdp_free(&f);
}

/* Malformed signatures that OpenSSL parses but cannot verify: an unknown digest
 * algorithm (in the SignedData's set, or everywhere) or signature algorithm. Each is
 * refused with a message; ASan's leak checker (make test) watches that the failing
 * CMS_verify path frees what it took (its copy of the content when CMS_dataInit fails). */
static void test_malformed_cms_refused(void **state)
{
    (void)state;
    ws_rdp_file f;
    load_signed(wap_file, signer_cert, signer_key, &f);
    size_t n;
    unsigned char *blob = blob_of(&f, &n);
    unsigned char *copy = malloc(n);
    assert_non_null(copy);
    /* SHA-256 is 2.16.840.1.101.3.4.2.1; rsaEncryption 1.2.840.113549.1.1.1. */
    static const unsigned char sha256[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
    static const unsigned char rsa[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
    struct {
        const unsigned char *oid;
        int which; /* 0: the first occurrence (the SignedData's set), -1: every one */
    } cases[] = {{sha256, 0}, {sha256, -1}, {rsa, -1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        memcpy(copy, blob, n);
        int seen = 0, changed = 0;
        for (size_t i = 12; i + 11 <= n; i++)
            if (memcmp(copy + i, cases[c].oid, 11) == 0) {
                if (cases[c].which < 0 || cases[c].which == seen) {
                    copy[i + 10] = 0x7f; /* an arc no algorithm has */
                    changed++;
                }
                seen++;
            }
        assert_true(changed > 0);
        set_blob(&f, copy, n);
        ws_rdp_signature sig;
        ws_error e = {""};
        for (int round = 0; round < 3; round++) {
            assert_int_equal(ws_rdp_verify(&f, roots, NOW, &sig, &e), -1);
            assert_null(sig.signer);
            assert_true(e.msg[0] != '\0');
        }
        assert_int_equal(ERR_peek_error(), 0);
    }
    free(copy);
    free(blob);
    ws_rdp_free(&f);
}

static void test_sign_refusals(void **state)
{
    (void)state;
    ws_rdp_file f;
    ws_error e = {""};
    load(wap_file, &f);
    /* A key that is not the certificate's: refused, the file untouched. */
    assert_int_equal(ws_rdp_sign(&f, signer_cert, self_key, &e), -1);
    assert_contains(e.msg, "key does not belong");
    assert_int_equal(f.n, 11);
    assert_null(ws_rdp_get(&f, "alternate full address"));
    assert_int_equal(ws_rdp_sign(&f, NULL, signer_key, &e), -1);
    ws_rdp_free(&f);
    /* Nothing secure to sign. */
    load("userdstls:i:1\r\ngatewayaccesstoken:s:x\r\n", &f);
    assert_int_equal(ws_rdp_sign(&f, signer_cert, signer_key, &e), -1);
    assert_contains(e.msg, "nothing to sign");
    assert_int_equal(f.n, 2);
    ws_rdp_free(&f);
    assert_int_equal(ERR_peek_error(), 0);
}

/* ---- interoperability with the openssl command line (section 4 "Verify") --------- */

static void write_or_fail(const char *path, const void *data, size_t len)
{
    ws_error e = {""};
    if (ws_write_file(path, data, len, 0600, &e) != 0)
        fail_msg("%s", e.msg);
}

static int run(const char *cmd)
{
    int st = system(cmd);
    return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_openssl_cli_verifies(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_rdpfile.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *signed_bin = ws_printf("%s/signed.bin", dir), *tampered_bin = ws_printf("%s/tampered.bin", dir);
    char *sig_der = ws_printf("%s/sig.der", dir), *ca_pem = ws_printf("%s/ca.pem", dir);

    /* openssl judges validity by the real clock: a signer valid now, under the CA. */
    int64_t now = (int64_t)time(NULL);
    const ws_cert_spec spec = {.subject = "CN=Remote Console Connect",
                               .eku = "clientAuth",
                               .key_usage = "digitalSignature",
                               .key_bits = 1024,
                               .not_before = now - 3600,
                               .not_after = now + 86400};
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    ws_error e = {""};
    if (ws_cert_create(&spec, ca_cert, ca_key, &cert, &key, &e) != 0)
        fail_msg("%s", e.msg);
    ws_rdp_file f;
    load_signed(wap_file, cert, key, &f);
    X509_free(cert);
    EVP_PKEY_free(key);
    unsigned char *text = NULL;
    size_t tlen = 0, n = 0;
    assert_int_equal(ws_rdp_signed_text(&f, ws_rdp_get(&f, "signscope"), &text, &tlen, &e), 0);
    unsigned char *blob = blob_of(&f, &n);
    write_or_fail(signed_bin, text, tlen);
    write_or_fail(sig_der, blob + 12, n - 12);
    char *pem = ws_cert_to_pem(ca_cert);
    write_or_fail(ca_pem, pem, strlen(pem));
    free(pem);
    /* The same text with the port changed. */
    assert_int_equal(ws_rdp_set(&f, "server port", 'i', "2178"), 0);
    unsigned char *tampered = NULL;
    size_t tamlen = 0;
    assert_int_equal(ws_rdp_signed_text(&f, ws_rdp_get(&f, "signscope"), &tampered, &tamlen, &e), 0);
    write_or_fail(tampered_bin, tampered, tamlen);

    char *good = ws_printf("openssl cms -verify -binary -inform DER -in %s -content %s -CAfile %s -purpose any "
                           "-out /dev/null 2>/dev/null",
                           sig_der, signed_bin, ca_pem);
    char *bad = ws_printf("openssl cms -verify -binary -inform DER -in %s -content %s -CAfile %s -purpose any "
                          "-out /dev/null 2>/dev/null",
                          sig_der, tampered_bin, ca_pem);
    int rc_good = run(good), rc_bad = run(bad);
    free(good);
    free(bad);
    unlink(signed_bin);
    unlink(tampered_bin);
    unlink(sig_der);
    unlink(ca_pem);
    rmdir(dir);
    free(signed_bin);
    free(tampered_bin);
    free(sig_der);
    free(ca_pem);
    free(text);
    free(tampered);
    free(blob);
    ws_rdp_free(&f);
    assert_int_equal(rc_good, 0);
    assert_int_not_equal(rc_bad, 0);
}

/* The other way: a signature made by `openssl cms -sign` as nfedera/rdpsign does it. */
static void test_openssl_cli_signature_verifies_here(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_rdpfile.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *msg = ws_printf("%s/msg.bin", dir), *der = ws_printf("%s/sig.der", dir);
    char *crt = ws_printf("%s/signer.pem", dir), *key = ws_printf("%s/signer.key", dir);

    ws_rdp_file f;
    load(wap_file, &f);
    assert_int_equal(ws_rdp_set(&f, "alternate full address", 's', "hv01.provider.net"), 0);
    assert_int_equal(ws_rdp_set(&f, "signscope", 's', WAP_SCOPE), 0);
    unsigned char *text = NULL;
    size_t tlen = 0;
    ws_error e = {""};
    assert_int_equal(ws_rdp_signed_text(&f, WAP_SCOPE, &text, &tlen, &e), 0);
    write_or_fail(msg, text, tlen);
    char *pem = ws_cert_to_pem(signer_cert), *kpem = ws_key_to_pem(signer_key);
    write_or_fail(crt, pem, strlen(pem));
    write_or_fail(key, kpem, strlen(kpem));
    free(pem);
    free(kpem);
    char *cmd = ws_printf("openssl cms -sign -binary -noattr -nosmimecap -md sha256 -outform DER -in %s -signer %s "
                          "-inkey %s -out %s 2>/dev/null",
                          msg, crt, key, der);
    int rc = run(cmd);
    free(cmd);
    unsigned char *d = NULL;
    size_t dlen = 0;
    int read_rc = rc == 0 ? ws_read_file(der, 65536, &d, &dlen, &e) : -1;
    unlink(msg);
    unlink(der);
    unlink(crt);
    unlink(key);
    rmdir(dir);
    free(msg);
    free(der);
    free(crt);
    free(key);
    free(text);
    assert_int_equal(rc, 0);
    assert_int_equal(read_rc, 0);
    unsigned char *blob = malloc(dlen + 12);
    assert_non_null(blob);
    put32(blob, 0x00010001);
    put32(blob + 4, 1);
    put32(blob + 8, (uint32_t)dlen);
    memcpy(blob + 12, d, dlen);
    set_blob(&f, blob, dlen + 12);
    free(blob);
    free(d);
    ws_rdp_signature sig = verify_ok(&f, roots, NOW);
    assert_int_equal(sig.trusted, 1);
    X509_free(sig.signer);
    assert_int_equal(ws_rdp_set(&f, "gatewayhostname", 's', "evil.example"), 0);
    verify_refused(&f, "signature does not match");
    ws_rdp_free(&f);
}

/* ---- robustness ---------------------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Mutated signed files and random bytes: every outcome is a clean 0 or -1. */
static void test_mutations_do_not_crash(void **state)
{
    (void)state;
    ws_rdp_file f;
    load_signed(wap_file, signer_cert, signer_key, &f);
    unsigned char *good = NULL, *good_text = NULL;
    size_t n = 0, good_tlen = 0;
    ws_error ge = {""};
    assert_int_equal(ws_rdp_serialize(&f, &good, &n), 0);
    assert_int_equal(ws_rdp_signed_text(&f, ws_rdp_get(&f, "signscope"), &good_text, &good_tlen, &ge), 0);
    ws_rdp_free(&f);
    unsigned char *buf = malloc(n + 64);
    assert_non_null(buf);
    int parsed = 0, verified = 0;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = n;
        memcpy(buf, good, n);
        int edits = 1 + (int)(next_rand() % 4);
        for (int k = 0; k < edits; k++) {
            size_t at = next_rand() % len;
            switch (next_rand() % 4) {
            case 0:
                buf[at] = (unsigned char)next_rand();
                break;
            case 1:
                buf[at] ^= (unsigned char)(1u << (next_rand() % 8));
                break;
            case 2:
                len = at > 2 ? at : len; /* cut */
                break;
            default:
                if (len + 2 <= n + 64) { /* insert one UTF-16 unit */
                    memmove(buf + at + 2, buf + at, len - at);
                    buf[at] = (unsigned char)next_rand();
                    buf[at + 1] = (unsigned char)(next_rand() % 3 ? 0 : next_rand());
                    len += 2;
                }
            }
        }
        ws_error e = {""};
        ws_rdp_file g;
        int rc = ws_rdp_parse(buf, len, &g, &e);
        assert_true(rc == 0 || rc == -1);
        if (rc == 0) {
            parsed++;
            ws_rdp_signature sig;
            int vr = ws_rdp_verify(&g, roots, NOW, &sig, &e);
            assert_true(vr == 0 || vr == -1);
            if (vr == 0) {
                /* Whatever changed, the signed settings are exactly the original ones. */
                unsigned char *t = NULL;
                size_t tl = 0;
                assert_int_equal(ws_rdp_signed_text(&g, ws_rdp_get(&g, "signscope"), &t, &tl, &e), 0);
                int same = tl == good_tlen && memcmp(t, good_text, tl) == 0;
                free(t);
                assert_true(same);
                verified++;
                X509_free(sig.signer);
            } else {
                assert_true(e.msg[0] != '\0');
            }
            unsigned char *out = NULL;
            size_t olen = 0;
            assert_int_equal(ws_rdp_serialize(&g, &out, &olen), 0);
            free(out);
            ws_rdp_free(&g);
        } else {
            assert_true(e.msg[0] != '\0');
        }
    }
    /* Random bytes, with and without a UTF-16 BOM. */
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = next_rand() % 64;
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)next_rand();
        if (iter % 2 && len >= 2)
            buf[0] = 0xFF, buf[1] = 0xFE;
        ws_error e = {""};
        ws_rdp_file g;
        if (ws_rdp_parse(buf, len, &g, &e) == 0)
            ws_rdp_free(&g);
    }
    free(buf);
    free(good);
    free(good_text);
    /* Some mutations land in unsigned settings or are refused; both paths ran. */
    assert_true(parsed > 0);
    assert_true(verified > 0);
    assert_true(verified < parsed);
    assert_int_equal(ERR_peek_error(), 0);
}

/* The authentication level rule (wire/rdpfile.h): a name mismatch is 0x607 unless level
 * 0; an untrusted certificate is a warning unless level 1 or strict. */
static void test_server_auth_levels(void **state)
{
    (void)state;
    assert_int_equal(ws_rdp_server_auth(3, 0, 1), WS_SRVAUTH_OK);
    assert_int_equal(ws_rdp_server_auth(3, WS_PEER_UNTRUSTED, 0), WS_SRVAUTH_WARN);
    assert_int_equal(ws_rdp_server_auth(2, WS_PEER_VALIDITY, 0), WS_SRVAUTH_WARN);
    assert_int_equal(ws_rdp_server_auth(3, WS_PEER_UNTRUSTED, 1), WS_SRVAUTH_FAIL);
    assert_int_equal(ws_rdp_server_auth(1, WS_PEER_UNTRUSTED, 0), WS_SRVAUTH_FAIL);
    assert_int_equal(ws_rdp_server_auth(3, WS_PEER_NAME, 0), WS_SRVAUTH_FAIL);
    assert_int_equal(ws_rdp_server_auth(2, WS_PEER_NAME | WS_PEER_UNTRUSTED, 0), WS_SRVAUTH_FAIL);
    assert_int_equal(ws_rdp_server_auth(0, WS_PEER_NAME | WS_PEER_UNTRUSTED, 0), WS_SRVAUTH_WARN);
    ws_rdp_file f;
    ws_rdp_init(&f);
    assert_int_equal(ws_rdp_auth_level(&f), WS_RDP_AUTH_LEVEL_DEFAULT);
    ws_rdp_set(&f, "authentication level", 'i', "0");
    assert_int_equal(ws_rdp_auth_level(&f), 0);
    ws_rdp_set(&f, "authentication level", 'i', "7");
    assert_int_equal(ws_rdp_auth_level(&f), WS_RDP_AUTH_LEVEL_DEFAULT);
    ws_rdp_free(&f);
}

/* The client's judgement of a certificate without a connection (crypto/tls.h): a
 * self-signed one is untrusted; an address matches only an IP SAN. */
static void test_check_peer(void **state)
{
    (void)state;
    ws_error e;
    X509 *c = NULL;
    EVP_PKEY *k = NULL;
    ws_cert_spec spec = {.subject = "CN=hv01.fabric.contoso.local", .san = "DNS:hv01.fabric.contoso.local,IP:127.1.2.15",
                         .eku = "serverAuth", .key_usage = "digitalSignature,keyEncipherment", .key_bits = 2048,
                         .not_before = time(NULL) - 60, .not_after = time(NULL) + 86400};
    assert_int_equal(ws_cert_create(&spec, NULL, NULL, &c, &k, &e), 0);
    STACK_OF(X509) *trust = sk_X509_new_null();
    ws_peer_check pc;
    assert_int_equal(ws_tls_check_peer(c, NULL, trust, time(NULL), "hv01.fabric.contoso.local", &pc), WS_PEER_UNTRUSTED);
    sk_X509_push(trust, c);
    assert_int_equal(ws_tls_check_peer(c, NULL, trust, time(NULL), "hv01.fabric.contoso.local", &pc), 0);
    assert_int_equal(ws_tls_check_peer(c, NULL, trust, time(NULL), "127.1.2.15", &pc), 0);
    assert_int_equal(ws_tls_check_peer(c, NULL, trust, time(NULL), "127.1.2.16", &pc), WS_PEER_NAME);
    assert_int_equal(ws_tls_check_peer(c, NULL, trust, time(NULL) + 2 * 86400, "127.1.2.15", &pc), WS_PEER_VALIDITY);
    char buf[300];
    ws_tls_check_peer(c, NULL, trust, time(NULL), "hv02.fabric.contoso.local", &pc);
    assert_non_null(strstr(ws_tls_peer_text(&pc, buf, sizeof buf), "does not match 'hv02.fabric.contoso.local'"));
    sk_X509_free(trust);
    X509_free(c);
    EVP_PKEY_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_utf16_bom),
        cmocka_unit_test(test_parse_utf8_with_and_without_bom),
        cmocka_unit_test(test_value_with_colons),
        cmocka_unit_test(test_keys_case_insensitive),
        cmocka_unit_test(test_blank_lines_and_line_ends),
        cmocka_unit_test(test_errors_name_line),
        cmocka_unit_test(test_integer_values),
        cmocka_unit_test(test_utf16_odd_bytes),
        cmocka_unit_test(test_utf16_unpaired_surrogates),
        cmocka_unit_test(test_utf16_big_endian_refused),
        cmocka_unit_test(test_nul_refused),
        cmocka_unit_test(test_invalid_utf8_refused),
        cmocka_unit_test(test_non_bmp_round_trip),
        cmocka_unit_test(test_oversize_input),
        cmocka_unit_test(test_too_many_settings),
        cmocka_unit_test(test_serialize_byte_exact),
        cmocka_unit_test(test_serialize_refuses_what_cannot_be_read_back),
        cmocka_unit_test(test_set_get_remove),
        cmocka_unit_test(test_signed_text_layout),
        cmocka_unit_test(test_sign_and_verify_wap_file),
        cmocka_unit_test(test_cms_shape),
        cmocka_unit_test(test_scope_fixed_order),
        cmocka_unit_test(test_alternate_full_address),
        cmocka_unit_test(test_resign_replaces_signature),
        cmocka_unit_test(test_tampered_secure_setting),
        cmocka_unit_test(test_unsigned_settings_may_change),
        cmocka_unit_test(test_scope_and_settings_must_agree),
        cmocka_unit_test(test_trust),
        cmocka_unit_test(test_expired_signer),
        cmocka_unit_test(test_bad_signatures),
        cmocka_unit_test(test_cms_variants_refused),
        cmocka_unit_test(test_malformed_cms_refused),
        cmocka_unit_test(test_sign_refusals),
        cmocka_unit_test(test_openssl_cli_verifies),
        cmocka_unit_test(test_openssl_cli_signature_verifies_here),
        cmocka_unit_test(test_mutations_do_not_crash),
        cmocka_unit_test(test_server_auth_levels),
        cmocka_unit_test(test_check_peer),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
