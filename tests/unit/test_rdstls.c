/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/rdstls.c: the RDSTLS PDUs (MS-RDPBCGR 2.2.17) and Hyper-V's FedAuth
 * token request, byte for byte as REFERENCE.md section 8 observed them; round trips;
 * lengths of truncated PDUs; refusals; random bytes into every decoder. */

#include "harness.h"

#include "wire/rdstls.h"
#include "base/util.h"

static ws_rdstls_auth_request req, got; /* large: kept off the stack */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* A copy of exactly len bytes, so ASan sees any read past the end. */
static uint8_t *exact(const uint8_t *p, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    assert_non_null(c);
    memcpy(c, p, len);
    return c;
}

/* Every proper prefix: pdu_length is 0 until the length fields are there and then the
 * whole length, never more; the decoder refuses. */
static void check_truncations(const uint8_t *p, size_t n, int (*decode)(const uint8_t *, size_t, ws_error *))
{
    for (size_t k = 0; k < n; k++) {
        uint8_t *c = exact(p, k);
        long l = ws_rdstls_pdu_length(c, k);
        if (k < 6)
            assert_int_equal(l, 0);
        else
            assert_true(l == 0 || l == (long)n);
        ws_error e = {{0}};
        assert_int_equal(decode(c, k, &e), -1);
        assert_true(e.msg[0] != '\0');
        free(c);
    }
    assert_int_equal(ws_rdstls_pdu_length(p, n), (long)n);
}

static int dec_caps(const uint8_t *p, size_t len, ws_error *e)
{
    ws_rdstls_capabilities c;
    return ws_rdstls_decode_capabilities(p, len, &c, e);
}

static int dec_req(const uint8_t *p, size_t len, ws_error *e)
{
    return ws_rdstls_decode_auth_request(p, len, &got, e);
}

static int dec_rsp(const uint8_t *p, size_t len, ws_error *e)
{
    ws_rdstls_auth_response r;
    return ws_rdstls_decode_auth_response(p, len, &r, e);
}

/* ---- the observed bytes ---------------------------------------------------------------- */

static void test_capabilities_exact(void **state)
{
    (void)state;
    uint8_t buf[16];
    ws_rdstls_capabilities caps = {.version = 1, .supported_versions = 0x0003};
    size_t n = ws_rdstls_encode_capabilities(&caps, buf, sizeof buf);
    static const uint8_t want[] = {0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x03, 0x00};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    assert_int_equal(ws_rdstls_pdu_length(buf, 6), 8);
    ws_rdstls_capabilities back;
    ws_error e = {{0}};
    assert_int_equal(ws_rdstls_decode_capabilities(want, sizeof want, &back, &e), 0);
    assert_int_equal(back.version, 1);
    assert_int_equal(back.supported_versions, 3);
    check_truncations(want, sizeof want, dec_caps);
    assert_int_equal(ws_rdstls_encode_capabilities(&caps, buf, 7), 0);
    caps.version = 0;
    assert_int_equal(ws_rdstls_encode_capabilities(&caps, buf, sizeof buf), 0);
}

static void test_fedauth_exact(void **state)
{
    (void)state;
    uint8_t buf[64];
    memset(&req, 0, sizeof req);
    req.version = WS_RDSTLS_VERSION_2;
    req.data_type = WS_RDSTLS_DATA_FEDAUTH_TOKEN;
    snprintf(req.token, sizeof req.token, "%s", "eyJ.a-b");
    size_t n = ws_rdstls_encode_auth_request(&req, buf, sizeof buf);
    static const uint8_t want[] = {0x02, 0x00, 0x02, 0x00, 0x03, 0x00, 0x10, 0x00, 'e', 0, 'y', 0, 'J', 0,
                                   '.',  0,    'a',  0,    '-',  0,    'b',  0,    0,    0};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    assert_int_equal(ws_rdstls_pdu_length(want, 8), (long)sizeof want);
    ws_error e = {{0}};
    assert_int_equal(ws_rdstls_decode_auth_request(want, sizeof want, &got, &e), 0);
    assert_int_equal(got.version, 2);
    assert_int_equal(got.data_type, WS_RDSTLS_DATA_FEDAUTH_TOKEN);
    assert_string_equal(got.token, "eyJ.a-b");
    check_truncations(want, sizeof want, dec_req);
    assert_int_equal(ws_rdstls_encode_auth_request(&req, buf, sizeof want - 1), 0);
    assert_int_equal(ws_rdstls_encode_auth_request(&req, buf, sizeof want), sizeof want);

    /* An empty token is just the NUL. */
    req.token[0] = '\0';
    n = ws_rdstls_encode_auth_request(&req, buf, sizeof buf);
    assert_int_equal(n, 10);
    assert_int_equal(rd16(buf + 6), 2);
    assert_int_equal(ws_rdstls_decode_auth_request(buf, n, &got, &e), 0);
    assert_string_equal(got.token, "");
}

static void test_auth_response_exact(void **state)
{
    (void)state;
    uint8_t buf[16];
    ws_rdstls_auth_response rsp = {.version = 2, .result_code = WS_RDSTLS_SUCCESS};
    size_t n = ws_rdstls_encode_auth_response(&rsp, buf, sizeof buf);
    static const uint8_t want[] = {0x02, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    ws_rdstls_auth_response back;
    ws_error e = {{0}};
    assert_int_equal(ws_rdstls_decode_auth_response(want, sizeof want, &back, &e), 0);
    assert_int_equal(back.version, 2);
    assert_int_equal(back.result_code, 0);
    check_truncations(want, sizeof want, dec_rsp);

    rsp.version = 1;
    rsp.result_code = WS_RDSTLS_LOGON_FAILURE;
    n = ws_rdstls_encode_auth_response(&rsp, buf, sizeof buf);
    static const uint8_t fail[] = {0x01, 0x00, 0x04, 0x00, 0x01, 0x00, 0x2e, 0x05, 0x00, 0x00};
    assert_memory_equal(buf, fail, sizeof fail);
    assert_int_equal(ws_rdstls_decode_auth_response(buf, n, &back, &e), 0);
    assert_int_equal(back.version, 1);
    assert_int_equal(back.result_code, 0x52E);
    assert_int_equal(ws_rdstls_encode_auth_response(&rsp, buf, 9), 0);
    rsp.version = 3;
    assert_int_equal(ws_rdstls_encode_auth_response(&rsp, buf, sizeof buf), 0);
}

/* ---- round trips ------------------------------------------------------------------------- */

static void test_fedauth_long(void **state)
{
    (void)state;
    static uint8_t buf[WS_RDSTLS_PDU_MAX];
    memset(&req, 0, sizeof req);
    req.version = 2;
    req.data_type = WS_RDSTLS_DATA_FEDAUTH_TOKEN;
    for (int i = 0; i < 2000; i++)
        req.token[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."[i % 65];
    size_t n = ws_rdstls_encode_auth_request(&req, buf, sizeof buf);
    assert_int_equal(n, 8 + 4002);
    assert_int_equal(rd16(buf + 6), 4002);
    assert_int_equal(ws_rdstls_pdu_length(buf, 8), 4010);
    uint8_t *c = exact(buf, n);
    ws_error e = {{0}};
    assert_int_equal(ws_rdstls_decode_auth_request(c, n, &got, &e), 0);
    assert_int_equal(strlen(got.token), 2000);
    assert_string_equal(got.token, req.token);
    free(c);

    /* The longest token the struct holds: 8192 bytes of UTF-8. */
    memset(req.token, 'x', 8192);
    req.token[8192] = '\0';
    n = ws_rdstls_encode_auth_request(&req, buf, sizeof buf);
    assert_int_equal(n, 8 + 2 * 8192 + 2);
    assert_int_equal(ws_rdstls_decode_auth_request(buf, n, &got, &e), 0);
    assert_int_equal(strlen(got.token), 8192);
    /* Non-ASCII: two UTF-8 bytes, one UTF-16 unit. */
    snprintf(req.token, sizeof req.token, "%s", "t\xc3\xa9st\xf0\x9f\x98\x80");
    n = ws_rdstls_encode_auth_request(&req, buf, sizeof buf);
    assert_int_equal(rd16(buf + 6), 2 * 6 + 2);
    assert_int_equal(ws_rdstls_decode_auth_request(buf, n, &got, &e), 0);
    assert_string_equal(got.token, req.token);
}

static void test_password_creds(void **state)
{
    (void)state;
    static uint8_t buf[4096];
    memset(&req, 0, sizeof req);
    req.version = 1;
    req.data_type = WS_RDSTLS_DATA_PASSWORD_CREDS;
    for (int i = 0; i < 16; i++)
        req.redirection_guid[i] = (uint8_t)(0xA0 + i);
    req.redirection_guid_len = 16;
    snprintf(req.user, sizeof req.user, "%s", "hvadmin");
    snprintf(req.domain, sizeof req.domain, "%s", "CONTOSO");
    snprintf(req.password, sizeof req.password, "%s", "P\xc3\xa4sswort!");
    size_t n = ws_rdstls_encode_auth_request(&req, buf, sizeof buf);
    /* header, 2+16 guid, 2+16 user, 2+16 domain, 2+20 password (each string with its NUL) */
    assert_int_equal(n, 6 + 18 + 18 + 18 + 22);
    static const uint8_t head[] = {0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x10, 0x00, 0xA0};
    assert_memory_equal(buf, head, sizeof head);
    assert_int_equal(rd16(buf + 24), 16);
    assert_int_equal(buf[26], 'h');
    assert_int_equal(rd16(buf + 40), 0); /* user NUL */
    assert_int_equal(rd16(buf + 60), 20);
    assert_int_equal(buf[62 + 2], 0xE4); /* a-umlaut */
    assert_int_equal(rd16(buf + n - 2), 0);

    uint8_t *c = exact(buf, n);
    ws_error e = {{0}};
    assert_int_equal(ws_rdstls_decode_auth_request(c, n, &got, &e), 0);
    assert_int_equal(got.version, 1);
    assert_int_equal(got.data_type, WS_RDSTLS_DATA_PASSWORD_CREDS);
    assert_int_equal(got.redirection_guid_len, 16);
    assert_memory_equal(got.redirection_guid, req.redirection_guid, 16);
    assert_string_equal(got.user, "hvadmin");
    assert_string_equal(got.domain, "CONTOSO");
    assert_string_equal(got.password, req.password);
    free(c);
    check_truncations(buf, n, dec_req);

    /* Empty everything: strings are still their NUL, as FreeRDP writes them. */
    memset(&req, 0, sizeof req);
    req.version = 1;
    req.data_type = WS_RDSTLS_DATA_PASSWORD_CREDS;
    n = ws_rdstls_encode_auth_request(&req, buf, sizeof buf);
    assert_int_equal(n, 6 + 2 + 3 * 4);
    assert_int_equal(ws_rdstls_decode_auth_request(buf, n, &got, &e), 0);
    assert_string_equal(got.user, "");
    /* Strings without a NUL, or empty (length 0), are read too. */
    static const uint8_t nonul[] = {1, 0, 2, 0, 1, 0, 0, 0, 2, 0, 'u', 0, 0, 0, 4, 0, 'p', 0, 'w', 0};
    assert_int_equal(ws_rdstls_pdu_length(nonul, sizeof nonul), (long)sizeof nonul);
    assert_int_equal(ws_rdstls_decode_auth_request(nonul, sizeof nonul, &got, &e), 0);
    assert_string_equal(got.user, "u");
    assert_string_equal(got.domain, "");
    assert_string_equal(got.password, "pw");

    /* The largest fields the struct holds. */
    req.redirection_guid_len = sizeof req.redirection_guid;
    memset(req.user, 'u', 255);
    memset(req.domain, 'd', 255);
    memset(req.password, 'p', 255);
    n = ws_rdstls_encode_auth_request(&req, buf, sizeof buf);
    assert_int_equal(n, 6 + 2 + 512 + 3 * (2 + 512));
    assert_int_equal(ws_rdstls_decode_auth_request(buf, n, &got, &e), 0);
    assert_int_equal(strlen(got.password), 255);
    assert_int_equal(ws_rdstls_encode_auth_request(&req, buf, n - 1), 0);
    /* ... and not beyond */
    req.redirection_guid_len = sizeof req.redirection_guid + 1;
    assert_int_equal(ws_rdstls_encode_auth_request(&req, buf, sizeof buf), 0);
    req.redirection_guid_len = 0;
    memset(req.user, 'u', sizeof req.user); /* no NUL in the array */
    assert_int_equal(ws_rdstls_encode_auth_request(&req, buf, sizeof buf), 0);
}

static void test_autoreconnect(void **state)
{
    (void)state;
    uint8_t buf[64];
    memset(&req, 0, sizeof req);
    req.version = 1;
    req.data_type = WS_RDSTLS_DATA_AUTORECONNECT_COOKIE;
    req.session_id = 0x01020304;
    for (int i = 0; i < 28; i++)
        req.arc_cookie[i] = (uint8_t)(i * 7 + 1);
    size_t n = ws_rdstls_encode_auth_request(&req, buf, sizeof buf);
    assert_int_equal(n, 40);
    static const uint8_t head[] = {0x01, 0x00, 0x02, 0x00, 0x02, 0x00, 0x04, 0x03, 0x02, 0x01, 0x1c, 0x00};
    assert_memory_equal(buf, head, sizeof head);
    assert_memory_equal(buf + 12, req.arc_cookie, 28);
    ws_error e = {{0}};
    assert_int_equal(ws_rdstls_decode_auth_request(buf, n, &got, &e), 0);
    assert_int_equal(got.data_type, WS_RDSTLS_DATA_AUTORECONNECT_COOKIE);
    assert_int_equal(got.session_id, 0x01020304);
    assert_memory_equal(got.arc_cookie, req.arc_cookie, 28);
    check_truncations(buf, n, dec_req);
    assert_int_equal(ws_rdstls_encode_auth_request(&req, buf, 39), 0);

    buf[10] = 27;
    assert_int_equal(ws_rdstls_decode_auth_request(buf, n, &got, &e), -1);
    assert_contains(e.msg, "AutoReconnectCookieLength 27");
}

/* ---- refusals ------------------------------------------------------------------------------ */

static void test_pdu_length(void **state)
{
    (void)state;
    uint8_t b[16] = {1, 0};
    /* unknown PduType, and each type with an unknown DataType */
    wr16(b + 2, 3);
    wr16(b + 4, 1);
    assert_int_equal(ws_rdstls_pdu_length(b, 6), -1);
    wr16(b + 2, 0);
    assert_int_equal(ws_rdstls_pdu_length(b, 6), -1);
    wr16(b + 2, WS_RDSTLS_PDU_CAPABILITIES);
    wr16(b + 4, 2);
    assert_int_equal(ws_rdstls_pdu_length(b, 6), -1);
    wr16(b + 2, WS_RDSTLS_PDU_AUTHRSP);
    assert_int_equal(ws_rdstls_pdu_length(b, 6), -1);
    wr16(b + 2, WS_RDSTLS_PDU_AUTHREQ);
    wr16(b + 4, 0);
    assert_int_equal(ws_rdstls_pdu_length(b, 6), -1);
    wr16(b + 4, 4);
    assert_int_equal(ws_rdstls_pdu_length(b, 6), -1);
    /* FedAuth: up to WS_RDSTLS_PDU_MAX */
    wr16(b + 4, WS_RDSTLS_DATA_FEDAUTH_TOKEN);
    assert_int_equal(ws_rdstls_pdu_length(b, 7), 0);
    wr16(b + 6, WS_RDSTLS_PDU_MAX - 8);
    assert_int_equal(ws_rdstls_pdu_length(b, 8), WS_RDSTLS_PDU_MAX);
    wr16(b + 6, WS_RDSTLS_PDU_MAX - 7);
    assert_int_equal(ws_rdstls_pdu_length(b, 8), -1);
    wr16(b + 6, 0xFFFF);
    assert_int_equal(ws_rdstls_pdu_length(b, 8), -1);
    /* auto-reconnect: fixed */
    wr16(b + 4, WS_RDSTLS_DATA_AUTORECONNECT_COOKIE);
    assert_int_equal(ws_rdstls_pdu_length(b, 6), 40);
    /* password: the walk refuses once the sum is over the maximum */
    static uint8_t big[16];
    wr16(big, 1);
    wr16(big + 2, WS_RDSTLS_PDU_AUTHREQ);
    wr16(big + 4, WS_RDSTLS_DATA_PASSWORD_CREDS);
    wr16(big + 6, 0xFFFF);
    assert_int_equal(ws_rdstls_pdu_length(big, 8), -1);
    wr16(big + 6, 16000);
    assert_int_equal(ws_rdstls_pdu_length(big, 8), 0);
}

static void expect_req_error(const uint8_t *p, size_t len, const char *needle)
{
    uint8_t *c = exact(p, len);
    ws_error e = {{0}};
    assert_int_equal(ws_rdstls_decode_auth_request(c, len, &got, &e), -1);
    assert_contains(e.msg, needle);
    free(c);
}

/* A FedAuth request around the given UTF-16 units (byte length field = 2 * n). */
static size_t fedauth_raw(uint8_t *out, const uint16_t *units, size_t n)
{
    wr16(out, 2);
    wr16(out + 2, WS_RDSTLS_PDU_AUTHREQ);
    wr16(out + 4, WS_RDSTLS_DATA_FEDAUTH_TOKEN);
    wr16(out + 6, (uint16_t)(2 * n));
    for (size_t i = 0; i < n; i++)
        wr16(out + 8 + 2 * i, units[i]);
    return 8 + 2 * n;
}

static void test_decode_errors(void **state)
{
    (void)state;
    static uint8_t buf[WS_RDSTLS_PDU_MAX];
    ws_error e = {{0}};
    size_t n;

    /* the wrong decoder for a PDU, one byte too many, an unknown Version */
    static const uint8_t caps[] = {0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00};
    ws_rdstls_auth_response rsp;
    assert_int_equal(ws_rdstls_decode_auth_response(caps, 8, &rsp, &e), -1);
    assert_contains(e.msg, "PduType 0x0001");
    assert_int_equal(ws_rdstls_decode_auth_request(caps, 8, &got, &e), -1);
    ws_rdstls_capabilities cp;
    assert_int_equal(ws_rdstls_decode_capabilities(caps, 9, &cp, &e), -1);
    assert_contains(e.msg, "8 bytes but 9");
    uint8_t v[8];
    memcpy(v, caps, 8);
    v[0] = 0;
    assert_int_equal(ws_rdstls_decode_capabilities(v, 8, &cp, &e), -1);
    assert_contains(e.msg, "Version 0");
    v[0] = 3;
    assert_int_equal(ws_rdstls_decode_capabilities(v, 8, &cp, &e), -1);
    v[2] = 9;
    assert_int_equal(ws_rdstls_decode_capabilities(v, 8, &cp, &e), -1);
    assert_contains(e.msg, "not a PDU");

    /* FedAuth: odd, zero, no trailing NUL, a NUL inside, invalid UTF-16, too long */
    static const uint16_t tok[] = {'a', 'b', 0};
    n = fedauth_raw(buf, tok, 3);
    assert_int_equal(ws_rdstls_decode_auth_request(buf, n, &got, &e), 0);
    wr16(buf + 6, 5);
    expect_req_error(buf, 13, "length 5");
    wr16(buf + 6, 0);
    expect_req_error(buf, 8, "length 0");
    static const uint16_t nonul[] = {'a', 'b'};
    n = fedauth_raw(buf, nonul, 2);
    expect_req_error(buf, n, "does not end in a UTF-16 NUL");
    static const uint16_t half[] = {'a', 0x0100};
    n = fedauth_raw(buf, half, 2);
    expect_req_error(buf, n, "NUL");
    static const uint16_t inner[] = {'a', 0, 'b', 0};
    n = fedauth_raw(buf, inner, 4);
    expect_req_error(buf, n, "NUL inside the token at offset 10");
    static const uint16_t lone[] = {'a', 0xDC00, 0};
    n = fedauth_raw(buf, lone, 3);
    expect_req_error(buf, n, "UTF-16");
    static const uint16_t hi[] = {'a', 0xD800, 0};
    n = fedauth_raw(buf, hi, 3);
    expect_req_error(buf, n, "UTF-16");
    static uint16_t wide[8192 + 1];
    for (size_t i = 0; i < 4097; i++)
        wide[i] = 0xE9; /* two UTF-8 bytes each: 8194 > 8192 */
    wide[4097] = 0;
    n = fedauth_raw(buf, wide, 4098);
    expect_req_error(buf, n, "over 8192");
    for (size_t i = 0; i < 8192; i++)
        wide[i] = 'x';
    wide[8192] = 0;
    n = fedauth_raw(buf, wide, 8193);
    assert_int_equal(ws_rdstls_decode_auth_request(buf, n, &got, &e), 0);
    wide[8192] = 'x';
    n = fedauth_raw(buf, wide, 8193);
    buf[n++] = 0;
    buf[n++] = 0;
    wr16(buf + 6, (uint16_t)(n - 8));
    expect_req_error(buf, n, "over 8192");

    /* password: a GUID over 512 bytes, odd string lengths, invalid UTF-16, too long */
    memset(buf, 0, 2048);
    wr16(buf, 1);
    wr16(buf + 2, WS_RDSTLS_PDU_AUTHREQ);
    wr16(buf + 4, WS_RDSTLS_DATA_PASSWORD_CREDS);
    wr16(buf + 6, 513);
    n = 6 + 2 + 513 + 6;
    expect_req_error(buf, n, "RedirectionGuid of 513");
    static const uint8_t odd[] = {1, 0, 2, 0, 1, 0, 0, 0, 3, 0, 'a', 0, 'b', 0, 0, 0, 0};
    expect_req_error(odd, sizeof odd, "UserName at offset 8 has an odd length 3");
    static const uint8_t oddpw[] = {1, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 'p'};
    expect_req_error(oddpw, sizeof oddpw, "Password at offset 12");
    static const uint8_t baddom[] = {1, 0, 2, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0x00, 0xDC, 0, 0};
    expect_req_error(baddom, sizeof baddom, "Domain at offset 10");
    memset(buf, 0, 2048);
    wr16(buf, 1);
    wr16(buf + 2, WS_RDSTLS_PDU_AUTHREQ);
    wr16(buf + 4, WS_RDSTLS_DATA_PASSWORD_CREDS);
    wr16(buf + 8, 2 * 256);
    for (int i = 0; i < 256; i++)
        buf[10 + 2 * i] = 'u';
    n = 10 + 512 + 4;
    expect_req_error(buf, n, "UserName at offset 8 is not valid UTF-16LE or is over 255");
}

static void test_encode_refusals(void **state)
{
    (void)state;
    static uint8_t buf[WS_RDSTLS_PDU_MAX + 16];
    memset(&req, 0, sizeof req);
    req.version = 2;
    req.data_type = 4;
    assert_int_equal(ws_rdstls_encode_auth_request(&req, buf, sizeof buf), 0);
    req.data_type = WS_RDSTLS_DATA_FEDAUTH_TOKEN;
    assert_int_equal(ws_rdstls_encode_auth_request(&req, buf, 5), 0);
    snprintf(req.token, sizeof req.token, "%s", "bad \xff utf-8");
    assert_int_equal(ws_rdstls_encode_auth_request(&req, buf, sizeof buf), 0);
    memset(req.token, 'x', sizeof req.token); /* no NUL within the array */
    assert_int_equal(ws_rdstls_encode_auth_request(&req, buf, sizeof buf), 0);
    req.token[0] = '\0';
    req.version = 0;
    assert_int_equal(ws_rdstls_encode_auth_request(&req, buf, sizeof buf), 0);
    /* 8192 bytes of three-byte UTF-8 is 2731 units: fine; the PDU limit is not reached */
    req.version = 2;
    memset(req.token, 0, sizeof req.token);
    for (int i = 0; i + 3 <= 8192; i += 3)
        memcpy(req.token + i, "\xe2\x82\xac", 3);
    size_t n = ws_rdstls_encode_auth_request(&req, buf, sizeof buf);
    assert_int_equal(n, 8 + 2 * 2730 + 2);
    ws_error e = {{0}};
    assert_int_equal(ws_rdstls_decode_auth_request(buf, n, &got, &e), 0);
    assert_string_equal(got.token, req.token);
}

static void test_result_names(void **state)
{
    (void)state;
    assert_string_equal(ws_rdstls_result_name(WS_RDSTLS_SUCCESS), "SUCCESS");
    assert_string_equal(ws_rdstls_result_name(WS_RDSTLS_ACCESS_DENIED), "ACCESS_DENIED");
    assert_string_equal(ws_rdstls_result_name(WS_RDSTLS_LOGON_FAILURE), "LOGON_FAILURE");
    assert_string_equal(ws_rdstls_result_name(WS_RDSTLS_INVALID_LOGON_HOURS), "INVALID_LOGON_HOURS");
    assert_string_equal(ws_rdstls_result_name(WS_RDSTLS_PASSWORD_EXPIRED), "PASSWORD_EXPIRED");
    assert_string_equal(ws_rdstls_result_name(WS_RDSTLS_ACCOUNT_DISABLED), "ACCOUNT_DISABLED");
    assert_string_equal(ws_rdstls_result_name(WS_RDSTLS_PASSWORD_MUST_CHANGE), "PASSWORD_MUST_CHANGE");
    assert_string_equal(ws_rdstls_result_name(WS_RDSTLS_ACCOUNT_LOCKED_OUT), "ACCOUNT_LOCKED_OUT");
    assert_string_equal(ws_rdstls_result_name(0x12345678), "unknown");
    assert_string_equal(ws_rdstls_result_name(1), "unknown");
}

/* ---- random bytes into every decoder --------------------------------------------------------- */

static uint32_t rng_state = 0x9E3779B9u;

static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* Valid PDUs of every kind, for the mutations below. */
static size_t samples(uint8_t out[5][200], size_t lens[5])
{
    ws_rdstls_capabilities c = {.version = 1, .supported_versions = 3};
    lens[0] = ws_rdstls_encode_capabilities(&c, out[0], 200);
    memset(&req, 0, sizeof req);
    req.version = 2;
    req.data_type = WS_RDSTLS_DATA_FEDAUTH_TOKEN;
    snprintf(req.token, sizeof req.token, "%s", "eyJhbGciOi.J9Ã©");
    lens[1] = ws_rdstls_encode_auth_request(&req, out[1], 200);
    req.version = 1;
    req.data_type = WS_RDSTLS_DATA_PASSWORD_CREDS;
    req.redirection_guid_len = 4;
    snprintf(req.user, sizeof req.user, "%s", "u");
    snprintf(req.domain, sizeof req.domain, "%s", "dom");
    snprintf(req.password, sizeof req.password, "%s", "pw");
    lens[2] = ws_rdstls_encode_auth_request(&req, out[2], 200);
    req.data_type = WS_RDSTLS_DATA_AUTORECONNECT_COOKIE;
    lens[3] = ws_rdstls_encode_auth_request(&req, out[3], 200);
    ws_rdstls_auth_response r = {.version = 2, .result_code = WS_RDSTLS_ACCOUNT_DISABLED};
    lens[4] = ws_rdstls_encode_auth_response(&r, out[4], 200);
    for (int i = 0; i < 5; i++)
        assert_true(lens[i] > 0);
    return 5;
}

static void test_random_bytes(void **state)
{
    (void)state;
    uint8_t seed[200], valid[5][200];
    size_t vlen[5];
    size_t nvalid = samples(valid, vlen);
    for (int iter = 0; iter < 40000; iter++) {
        size_t len = rng() % sizeof seed;
        for (size_t i = 0; i < len; i++)
            seed[i] = (uint8_t)(rng() % 3 ? rng() % 8 : rng()); /* small values: plausible lengths */
        if (iter % 2) {
            /* a valid PDU with a few bytes changed, cut or extended */
            size_t k = rng() % nvalid;
            len = vlen[k];
            memcpy(seed, valid[k], len);
            for (int m = (int)(rng() % 3); m > 0; m--)
                seed[rng() % len] = (uint8_t)(rng() % 2 ? rng() : rng() % 4);
            if (rng() % 4 == 0)
                len = rng() % (len + 1);
            else if (rng() % 8 == 0)
                len += rng() % 4;
        } else if (len >= 6 && rng() % 4) {
            static const uint16_t kinds[][2] = {{1, 1}, {2, 1}, {2, 2}, {2, 3}, {4, 1}};
            int k = (int)(rng() % 5);
            wr16(seed, (uint16_t)(1 + rng() % 2));
            wr16(seed + 2, kinds[k][0]);
            wr16(seed + 4, kinds[k][1]);
            if (k == 3 && len >= 8 && rng() % 2)
                wr16(seed + 6, (uint16_t)(len - 8));
        }
        uint8_t *p = exact(seed, len);
        long l = ws_rdstls_pdu_length(p, len);
        assert_true(l >= -1 && l <= WS_RDSTLS_PDU_MAX);
        ws_error e;
        ws_rdstls_capabilities c;
        ws_rdstls_auth_response r;
        int rc = ws_rdstls_decode_capabilities(p, len, &c, &e);
        if (rc == 0)
            assert_int_equal(l, (long)len);
        rc = ws_rdstls_decode_auth_response(p, len, &r, &e);
        if (rc == 0)
            assert_int_equal(l, (long)len);
        if (ws_rdstls_decode_auth_request(p, len, &got, &e) == 0) {
            assert_int_equal(l, (long)len);
            static uint8_t re[WS_RDSTLS_PDU_MAX];
            size_t rn = ws_rdstls_encode_auth_request(&got, re, sizeof re);
            assert_true(rn > 0);
            memcpy(&req, &got, sizeof req);
            assert_int_equal(ws_rdstls_decode_auth_request(re, rn, &got, &e), 0);
            assert_string_equal(got.token, req.token);
            assert_string_equal(got.user, req.user);
            assert_string_equal(got.password, req.password);
        }
        free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capabilities_exact),
        cmocka_unit_test(test_fedauth_exact),
        cmocka_unit_test(test_auth_response_exact),
        cmocka_unit_test(test_fedauth_long),
        cmocka_unit_test(test_password_creds),
        cmocka_unit_test(test_autoreconnect),
        cmocka_unit_test(test_pdu_length),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_encode_refusals),
        cmocka_unit_test(test_result_names),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
