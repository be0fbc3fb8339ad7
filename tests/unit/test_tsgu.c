/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/tsgu.c: the MS-TSGU HTTP transport packets (REFERENCE.md section 7),
 * checked against the bytes captured from xfreerdp 2.11.7, round-tripped, truncated at
 * every byte, fed malformed fields and random bytes. Every packet handed to a decoder
 * sits in a heap block of exactly its length, so AddressSanitizer sees any overread. */

#include "harness.h"

#include "wire/tsgu.h"
#include "base/util.h"

/* ---- helpers ---- */

/* A heap copy of exactly n bytes (at least one byte allocated, none readable past n). */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n)
        memcpy(c, p, n);
    return c;
}

/* A packet builder for hand-made packets. */
typedef struct pb {
    uint8_t b[70000];
    size_t n;
} pb;

static void pb_u8(pb *p, unsigned v)
{
    p->b[p->n++] = (uint8_t)v;
}

static void pb_u16(pb *p, unsigned v)
{
    pb_u8(p, v & 0xFF);
    pb_u8(p, v >> 8 & 0xFF);
}

static void pb_u32(pb *p, uint32_t v)
{
    pb_u16(p, v & 0xFFFF);
    pb_u16(p, v >> 16);
}

static void pb_bytes(pb *p, const void *d, size_t n)
{
    memcpy(p->b + p->n, d, n);
    p->n += n;
}

/* ASCII string as u16 cb + UTF-16LE + NUL. */
static void pb_str(pb *p, const char *s)
{
    size_t n = strlen(s);
    pb_u16(p, (unsigned)(2 * n + 2));
    for (size_t i = 0; i < n; i++)
        pb_u16(p, (unsigned char)s[i]);
    pb_u16(p, 0);
}

static void pb_start(pb *p, unsigned type)
{
    p->n = 0;
    pb_u16(p, type);
    pb_u16(p, 0);
    pb_u32(p, 0);
}

/* Sets packetLength to the bytes written. */
static void pb_done(pb *p)
{
    p->b[4] = (uint8_t)p->n;
    p->b[5] = (uint8_t)(p->n >> 8);
    p->b[6] = (uint8_t)(p->n >> 16);
    p->b[7] = (uint8_t)(p->n >> 24);
}

static void set_len(uint8_t *p, size_t n)
{
    p[4] = (uint8_t)n;
    p[5] = (uint8_t)(n >> 8);
    p[6] = (uint8_t)(n >> 16);
    p[7] = (uint8_t)(n >> 24);
}

/* Any decoder, by packet type (CLOSE_CHANNEL and its response share one). */
static int decode_any(uint16_t type, const uint8_t *p, size_t len, ws_error *e)
{
    switch (type) {
    case WS_TSGU_HANDSHAKE_REQUEST: {
        ws_tsgu_handshake_request o;
        return ws_tsgu_decode_handshake_request(p, len, &o, e);
    }
    case WS_TSGU_HANDSHAKE_RESPONSE: {
        ws_tsgu_handshake_response o;
        return ws_tsgu_decode_handshake_response(p, len, &o, e);
    }
    case WS_TSGU_TUNNEL_CREATE: {
        static ws_tsgu_tunnel_create o;
        int rc = ws_tsgu_decode_tunnel_create(p, len, &o, e);
        assert_true(strlen(o.cookie) <= WS_TSGU_COOKIE_MAX);
        return rc;
    }
    case WS_TSGU_TUNNEL_RESPONSE: {
        ws_tsgu_tunnel_response o;
        return ws_tsgu_decode_tunnel_response(p, len, &o, e);
    }
    case WS_TSGU_TUNNEL_AUTH: {
        ws_tsgu_tunnel_auth o;
        int rc = ws_tsgu_decode_tunnel_auth(p, len, &o, e);
        assert_true(strlen(o.client_name) <= WS_TSGU_NAME_MAX);
        return rc;
    }
    case WS_TSGU_TUNNEL_AUTH_RESPONSE: {
        ws_tsgu_tunnel_auth_response o;
        return ws_tsgu_decode_tunnel_auth_response(p, len, &o, e);
    }
    case WS_TSGU_CHANNEL_CREATE: {
        ws_tsgu_channel_create o;
        int rc = ws_tsgu_decode_channel_create(p, len, &o, e);
        assert_true(strlen(o.resource) <= WS_TSGU_NAME_MAX);
        return rc;
    }
    case WS_TSGU_CHANNEL_RESPONSE: {
        ws_tsgu_channel_response o;
        return ws_tsgu_decode_channel_response(p, len, &o, e);
    }
    case WS_TSGU_DATA: {
        ws_tsgu_data o;
        int rc = ws_tsgu_decode_data(p, len, &o, e);
        if (rc == 0)
            assert_true(o.data + o.len == p + len);
        return rc;
    }
    case WS_TSGU_CLOSE_CHANNEL:
    case WS_TSGU_CLOSE_CHANNEL_RESPONSE: {
        ws_tsgu_close_channel o;
        return ws_tsgu_decode_close_channel(p, len, type, &o, e);
    }
    default:
        fail_msg("no decoder for type 0x%x", type);
        return -2;
    }
}

static const uint16_t decodable[] = {
    WS_TSGU_HANDSHAKE_REQUEST,    WS_TSGU_HANDSHAKE_RESPONSE, WS_TSGU_TUNNEL_CREATE,
    WS_TSGU_TUNNEL_RESPONSE,      WS_TSGU_TUNNEL_AUTH,        WS_TSGU_TUNNEL_AUTH_RESPONSE,
    WS_TSGU_CHANNEL_CREATE,       WS_TSGU_CHANNEL_RESPONSE,   WS_TSGU_DATA,
    WS_TSGU_CLOSE_CHANNEL,        WS_TSGU_CLOSE_CHANNEL_RESPONSE,
};
#define N_DECODABLE (sizeof decodable / sizeof decodable[0])

/* Decodes a buffer through an exact heap copy; returns the decoder's result. */
static int decode_exact(uint16_t type, const uint8_t *p, size_t len, ws_error *e)
{
    uint8_t *c = dup_exact(p, len);
    int rc = decode_any(type, c, len, e);
    free(c);
    return rc;
}

/* The bytes captured from xfreerdp 2.11.7 (REFERENCE.md section 7). */
static const uint8_t cap_handshake[] = {0x01, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
                                        0x00};
static const uint8_t cap_tunnel_create_head[] = {0x04, 0x00, 0x00, 0x00, 0x36, 0x00, 0x00, 0x00, 0x0d,
                                                 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x24, 0x00,
                                                 0x50, 0x00, 0x41, 0x00, 0x41, 0x00};
static const uint8_t cap_tunnel_create_tail[] = {0x3d, 0x00, 0x3d, 0x00, 0x00, 0x00};
static const uint8_t cap_tunnel_auth[] = {0x06, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x00,
                                          0x00, 0x06, 0x00, 0x76, 0x00, 0x6d, 0x00, 0x00, 0x00};
static const uint8_t cap_channel_create_head[] = {0x08, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x01, 0x00, 0x83, 0x08,
                                                  0x03, 0x00, 0x24, 0x00, 0x68, 0x00, 0x76, 0x00, 0x30, 0x00, 0x31, 0x00};

/* One valid sample of every decodable type, for truncation and fuzzing. */
typedef struct sample {
    uint16_t type;
    uint8_t b[256];
    size_t n;
} sample;

static size_t make_samples(sample *s)
{
    size_t k = 0;
    ws_tsgu_handshake_request hq = {1, 0, 0, WS_TSGU_EXTAUTH_PAA};
    ws_tsgu_handshake_response hr = {0, 1, 0, 0, WS_TSGU_EXTAUTH_PAA};
    ws_tsgu_tunnel_create tc = {.caps = 0x0D, .fields_present = WS_TSGU_TUNNEL_CREATE_PAA_COOKIE};
    strcpy(tc.cookie, "PAATOKEN-abc123==");
    ws_tsgu_tunnel_response tr = {0, 0, WS_TSGU_TUNNEL_RESPONSE_TUNNEL_ID | WS_TSGU_TUNNEL_RESPONSE_CAPS, 7, 0x3F};
    ws_tsgu_tunnel_auth ta = {.fields_present = 0};
    strcpy(ta.client_name, "vm");
    ws_tsgu_tunnel_auth_response tar = {0, 0};
    ws_tsgu_channel_create cc = {1, 0, 2179, 3, "hv01.fabric.local"};
    ws_tsgu_channel_response cr = {0, WS_TSGU_CHANNEL_RESPONSE_CHANNEL_ID, 42};
    const uint8_t payload[] = {0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0};

    s[k].type = WS_TSGU_HANDSHAKE_REQUEST;
    s[k].n = ws_tsgu_encode_handshake_request(&hq, s[k].b, sizeof s[k].b), k++;
    s[k].type = WS_TSGU_HANDSHAKE_RESPONSE;
    s[k].n = ws_tsgu_encode_handshake_response(&hr, s[k].b, sizeof s[k].b), k++;
    s[k].type = WS_TSGU_TUNNEL_CREATE;
    s[k].n = ws_tsgu_encode_tunnel_create(&tc, s[k].b, sizeof s[k].b), k++;
    s[k].type = WS_TSGU_TUNNEL_RESPONSE;
    s[k].n = ws_tsgu_encode_tunnel_response(&tr, s[k].b, sizeof s[k].b), k++;
    s[k].type = WS_TSGU_TUNNEL_AUTH;
    s[k].n = ws_tsgu_encode_tunnel_auth(&ta, s[k].b, sizeof s[k].b), k++;
    s[k].type = WS_TSGU_TUNNEL_AUTH_RESPONSE;
    s[k].n = ws_tsgu_encode_tunnel_auth_response(&tar, s[k].b, sizeof s[k].b), k++;
    s[k].type = WS_TSGU_CHANNEL_CREATE;
    s[k].n = ws_tsgu_encode_channel_create(&cc, s[k].b, sizeof s[k].b), k++;
    s[k].type = WS_TSGU_CHANNEL_RESPONSE;
    s[k].n = ws_tsgu_encode_channel_response(&cr, s[k].b, sizeof s[k].b), k++;
    s[k].type = WS_TSGU_DATA;
    s[k].n = ws_tsgu_encode_data(payload, sizeof payload, s[k].b, sizeof s[k].b), k++;
    s[k].type = WS_TSGU_CLOSE_CHANNEL;
    s[k].n = ws_tsgu_encode_close_channel(WS_TSGU_CLOSE_CHANNEL, 0x4CA, s[k].b, sizeof s[k].b), k++;
    s[k].type = WS_TSGU_CLOSE_CHANNEL_RESPONSE;
    s[k].n = ws_tsgu_encode_close_channel(WS_TSGU_CLOSE_CHANNEL_RESPONSE, 0, s[k].b, sizeof s[k].b), k++;

    /* Hand-made ones with every optional field this file only skips. */
    pb p;
    static const uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    pb_start(&p, WS_TSGU_TUNNEL_RESPONSE);
    pb_u16(&p, 0);
    pb_u32(&p, 0);
    pb_u16(&p, 0x17);
    pb_u16(&p, 0);
    pb_u32(&p, 9);
    pb_u32(&p, 0x1F);
    pb_bytes(&p, nonce, 16);
    pb_str(&p, "CERT");
    pb_str(&p, "consent");
    pb_done(&p);
    s[k].type = WS_TSGU_TUNNEL_RESPONSE;
    memcpy(s[k].b, p.b, p.n);
    s[k].n = p.n, k++;

    pb_start(&p, WS_TSGU_TUNNEL_AUTH);
    pb_u16(&p, 0x1);
    pb_str(&p, "client");
    pb_u16(&p, 3);
    pb_bytes(&p, "soh", 3);
    pb_done(&p);
    s[k].type = WS_TSGU_TUNNEL_AUTH;
    memcpy(s[k].b, p.b, p.n);
    s[k].n = p.n, k++;

    pb_start(&p, WS_TSGU_TUNNEL_AUTH_RESPONSE);
    pb_u32(&p, 0);
    pb_u16(&p, 0x7);
    pb_u16(&p, 0);
    pb_u32(&p, 0x80000000u);
    pb_u32(&p, 30);
    pb_u16(&p, 2);
    pb_bytes(&p, "ok", 2);
    pb_done(&p);
    s[k].type = WS_TSGU_TUNNEL_AUTH_RESPONSE;
    memcpy(s[k].b, p.b, p.n);
    s[k].n = p.n, k++;

    pb_start(&p, WS_TSGU_CHANNEL_RESPONSE);
    pb_u32(&p, 0);
    pb_u16(&p, 0x7);
    pb_u16(&p, 0);
    pb_u32(&p, 5);
    pb_u16(&p, 3391);
    pb_u16(&p, 4);
    pb_bytes(&p, "cook", 4);
    pb_done(&p);
    s[k].type = WS_TSGU_CHANNEL_RESPONSE;
    memcpy(s[k].b, p.b, p.n);
    s[k].n = p.n, k++;

    pb_start(&p, WS_TSGU_CHANNEL_CREATE);
    pb_u8(&p, 2);
    pb_u8(&p, 2);
    pb_u16(&p, 3389);
    pb_u16(&p, 3);
    pb_str(&p, "a");
    pb_str(&p, "bb");
    pb_str(&p, "alt1");
    pb_str(&p, "");
    pb_done(&p);
    s[k].type = WS_TSGU_CHANNEL_CREATE;
    memcpy(s[k].b, p.b, p.n);
    s[k].n = p.n, k++;

    pb_start(&p, WS_TSGU_TUNNEL_CREATE);
    pb_u32(&p, 0x1D);
    pb_u16(&p, 0x3);
    pb_u16(&p, 0);
    pb_bytes(&p, "CONTEXT8", 8);
    pb_str(&p, "tok");
    pb_done(&p);
    s[k].type = WS_TSGU_TUNNEL_CREATE;
    memcpy(s[k].b, p.b, p.n);
    s[k].n = p.n, k++;
    return k;
}

/* ---- tests ---- */

static void test_type_names(void **state)
{
    (void)state;
    static const struct {
        uint16_t t;
        const char *name;
    } names[] = {
        {0x01, "HANDSHAKE_REQUEST"},  {0x02, "HANDSHAKE_RESPONSE"},   {0x03, "EXTENDED_AUTH"},
        {0x04, "TUNNEL_CREATE"},      {0x05, "TUNNEL_RESPONSE"},      {0x06, "TUNNEL_AUTH"},
        {0x07, "TUNNEL_AUTH_RESPONSE"}, {0x08, "CHANNEL_CREATE"},     {0x09, "CHANNEL_RESPONSE"},
        {0x0A, "DATA"},               {0x0B, "SERVICE_MESSAGE"},      {0x0C, "REAUTH_MESSAGE"},
        {0x0D, "KEEPALIVE"},          {0x10, "CLOSE_CHANNEL"},        {0x11, "CLOSE_CHANNEL_RESPONSE"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_string_equal(ws_tsgu_type_name(names[i].t), names[i].name);
    assert_string_equal(ws_tsgu_type_name(0), "unknown");
    assert_string_equal(ws_tsgu_type_name(0x0E), "unknown");
    assert_string_equal(ws_tsgu_type_name(0x0F), "unknown");
    assert_string_equal(ws_tsgu_type_name(0x12), "unknown");
    assert_string_equal(ws_tsgu_type_name(0xFFFF), "unknown");
}

static void test_header(void **state)
{
    (void)state;
    ws_error e = {""};
    ws_tsgu_header h = {0, 0};
    uint8_t b[8] = {0x0A, 0x00, 0xAB, 0xCD, 0x0B, 0x00, 0x00, 0x00}; /* reserved nonzero: ignored */
    for (size_t k = 0; k < 8; k++) {
        uint8_t *c = dup_exact(b, k);
        assert_int_equal(ws_tsgu_header_decode(c, k, &h, &e), 1);
        free(c);
    }
    assert_int_equal(ws_tsgu_header_decode(NULL, 0, &h, &e), 1);
    uint8_t *c = dup_exact(b, 8);
    assert_int_equal(ws_tsgu_header_decode(c, 8, &h, &e), 0);
    assert_int_equal(h.type, WS_TSGU_DATA);
    assert_int_equal(h.length, 11);
    free(c);

    set_len(b, 8);
    assert_int_equal(ws_tsgu_header_decode(b, 8, &h, &e), 0);
    assert_int_equal(h.length, 8);
    set_len(b, WS_TSGU_PACKET_MAX);
    assert_int_equal(ws_tsgu_header_decode(b, 8, &h, &e), 0);
    assert_int_equal(h.length, WS_TSGU_PACKET_MAX);

    set_len(b, 7);
    assert_int_equal(ws_tsgu_header_decode(b, 8, &h, &e), -1);
    assert_contains(e.msg, "packetLength 7");
    assert_contains(e.msg, "DATA");
    set_len(b, 0);
    assert_int_equal(ws_tsgu_header_decode(b, 8, &h, &e), -1);
    set_len(b, WS_TSGU_PACKET_MAX + 1);
    assert_int_equal(ws_tsgu_header_decode(b, 8, &h, &e), -1);
    assert_contains(e.msg, "65546");
    b[4] = b[5] = b[6] = b[7] = 0xFF;
    assert_int_equal(ws_tsgu_header_decode(b, 8, &h, &e), -1);
    assert_contains(e.msg, "4294967295");

    /* A longer buffer: only the first 8 bytes matter. */
    uint8_t big[20] = {0x0D, 0, 0, 0, 8, 0, 0, 0};
    assert_int_equal(ws_tsgu_header_decode(big, sizeof big, &h, &e), 0);
    assert_int_equal(h.type, WS_TSGU_KEEPALIVE);
    assert_int_equal(h.length, 8);
}

static void test_capture_handshake_request(void **state)
{
    (void)state;
    ws_error e = {""};
    ws_tsgu_handshake_request hq;
    memset(&hq, 0xAA, sizeof hq);
    uint8_t *c = dup_exact(cap_handshake, sizeof cap_handshake);
    assert_int_equal(ws_tsgu_decode_handshake_request(c, sizeof cap_handshake, &hq, &e), 0);
    free(c);
    assert_int_equal(hq.ver_major, 1);
    assert_int_equal(hq.ver_minor, 0);
    assert_int_equal(hq.client_version, 0);
    assert_int_equal(hq.extended_auth, WS_TSGU_EXTAUTH_PAA);

    uint8_t out[64];
    assert_int_equal(ws_tsgu_encode_handshake_request(&hq, out, sizeof out), sizeof cap_handshake);
    assert_memory_equal(out, cap_handshake, sizeof cap_handshake);

    ws_tsgu_header h;
    assert_int_equal(ws_tsgu_header_decode(cap_handshake, sizeof cap_handshake, &h, &e), 0);
    assert_int_equal(h.type, WS_TSGU_HANDSHAKE_REQUEST);
    assert_int_equal(h.length, 14);
}

static void test_capture_tunnel_create(void **state)
{
    (void)state;
    ws_error e = {""};
    static ws_tsgu_tunnel_create tc, back;
    memset(&tc, 0, sizeof tc);
    tc.caps = 0x0D;
    tc.fields_present = WS_TSGU_TUNNEL_CREATE_PAA_COOKIE;
    strcpy(tc.cookie, "PAATOKEN-abc123==");
    uint8_t out[256];
    size_t n = ws_tsgu_encode_tunnel_create(&tc, out, sizeof out);
    assert_int_equal(n, 0x36);
    assert_memory_equal(out, cap_tunnel_create_head, sizeof cap_tunnel_create_head);
    assert_memory_equal(out + n - sizeof cap_tunnel_create_tail, cap_tunnel_create_tail,
                        sizeof cap_tunnel_create_tail);
    /* The whole cookie, UTF-16LE. */
    const char *tok = "PAATOKEN-abc123==";
    for (size_t i = 0; i < strlen(tok); i++) {
        assert_int_equal(out[18 + 2 * i], (uint8_t)tok[i]);
        assert_int_equal(out[19 + 2 * i], 0);
    }

    memset(&back, 0x55, sizeof back);
    assert_int_equal(decode_exact(WS_TSGU_TUNNEL_CREATE, out, n, &e), 0);
    uint8_t *c = dup_exact(out, n);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, n, &back, &e), 0);
    free(c);
    assert_int_equal(back.caps, 0x0D);
    assert_int_equal(back.fields_present, WS_TSGU_TUNNEL_CREATE_PAA_COOKIE);
    assert_string_equal(back.cookie, "PAATOKEN-abc123==");
}

static void test_capture_tunnel_auth(void **state)
{
    (void)state;
    ws_error e = {""};
    ws_tsgu_tunnel_auth ta = {.fields_present = 0}, back;
    strcpy(ta.client_name, "vm");
    uint8_t out[64];
    size_t n = ws_tsgu_encode_tunnel_auth(&ta, out, sizeof out);
    assert_int_equal(n, sizeof cap_tunnel_auth);
    assert_memory_equal(out, cap_tunnel_auth, sizeof cap_tunnel_auth);

    memset(&back, 0x55, sizeof back);
    uint8_t *c = dup_exact(cap_tunnel_auth, sizeof cap_tunnel_auth);
    assert_int_equal(ws_tsgu_decode_tunnel_auth(c, sizeof cap_tunnel_auth, &back, &e), 0);
    free(c);
    assert_int_equal(back.fields_present, 0);
    assert_string_equal(back.client_name, "vm");
}

static void test_capture_channel_create(void **state)
{
    (void)state;
    ws_error e = {""};
    ws_tsgu_channel_create cc = {0}, back;
    cc.port = 2179;
    cc.protocol = 3;
    strcpy(cc.resource, "hv01.fabric.local");
    uint8_t out[128];
    size_t n = ws_tsgu_encode_channel_create(&cc, out, sizeof out);
    assert_int_equal(n, 0x34);
    assert_memory_equal(out, cap_channel_create_head, sizeof cap_channel_create_head);
    assert_int_equal(out[n - 2], 0);
    assert_int_equal(out[n - 1], 0);
    assert_int_equal(out[n - 4], 'l');

    memset(&back, 0x55, sizeof back);
    uint8_t *c = dup_exact(out, n);
    assert_int_equal(ws_tsgu_decode_channel_create(c, n, &back, &e), 0);
    free(c);
    assert_int_equal(back.num_resources, 1);
    assert_int_equal(back.num_alt, 0);
    assert_int_equal(back.port, 2179);
    assert_int_equal(back.protocol, 3);
    assert_string_equal(back.resource, "hv01.fabric.local");
}

static void test_roundtrip_fixed(void **state)
{
    (void)state;
    ws_error e = {""};
    uint8_t out[64], *c;

    ws_tsgu_handshake_response hr = {0x800759DA, 1, 0, 0x1234, WS_TSGU_EXTAUTH_PAA}, hr2;
    size_t n = ws_tsgu_encode_handshake_response(&hr, out, sizeof out);
    assert_int_equal(n, 18);
    static const uint8_t hr_bytes[] = {0x02, 0, 0, 0, 18, 0, 0, 0, 0xDA, 0x59, 0x07, 0x80, 1, 0, 0x34, 0x12, 2, 0};
    assert_memory_equal(out, hr_bytes, 18);
    c = dup_exact(out, n);
    assert_int_equal(ws_tsgu_decode_handshake_response(c, n, &hr2, &e), 0);
    free(c);
    assert_int_equal(hr2.error_code, 0x800759DA);
    assert_int_equal(hr2.ver_major, 1);
    assert_int_equal(hr2.ver_minor, 0);
    assert_int_equal(hr2.server_version, 0x1234);
    assert_int_equal(hr2.extended_auth, WS_TSGU_EXTAUTH_PAA);

    ws_tsgu_handshake_request hq = {2, 3, 0xBEEF, 0}, hq2;
    n = ws_tsgu_encode_handshake_request(&hq, out, sizeof out);
    c = dup_exact(out, n);
    assert_int_equal(ws_tsgu_decode_handshake_request(c, n, &hq2, &e), 0);
    free(c);
    assert_int_equal(hq2.ver_major, 2);
    assert_int_equal(hq2.ver_minor, 3);
    assert_int_equal(hq2.client_version, 0xBEEF);
    assert_int_equal(hq2.extended_auth, 0);

    ws_tsgu_tunnel_auth_response tar = {0x800759ED, 0x7}, tar2;
    n = ws_tsgu_encode_tunnel_auth_response(&tar, out, sizeof out);
    assert_int_equal(n, 16);
    static const uint8_t tar_bytes[] = {0x07, 0, 0, 0, 16, 0, 0, 0, 0xED, 0x59, 0x07, 0x80, 0, 0, 0, 0};
    assert_memory_equal(out, tar_bytes, 16);
    c = dup_exact(out, n);
    assert_int_equal(ws_tsgu_decode_tunnel_auth_response(c, n, &tar2, &e), 0);
    free(c);
    assert_int_equal(tar2.error_code, 0x800759ED);
    assert_int_equal(tar2.fields_present, 0); /* optional fields are not written */

    for (uint16_t type = WS_TSGU_CLOSE_CHANNEL; type <= WS_TSGU_CLOSE_CHANNEL_RESPONSE; type++) {
        ws_tsgu_close_channel cl = {0};
        n = ws_tsgu_encode_close_channel(type, 0x4CA, out, sizeof out);
        assert_int_equal(n, 12);
        assert_int_equal(out[0], type);
        assert_int_equal(out[4], 12);
        c = dup_exact(out, n);
        assert_int_equal(ws_tsgu_decode_close_channel(c, n, type, &cl, &e), 0);
        assert_int_equal(cl.status_code, 0x4CA);
        /* The other close type is refused. */
        uint16_t other = type == WS_TSGU_CLOSE_CHANNEL ? WS_TSGU_CLOSE_CHANNEL_RESPONSE : WS_TSGU_CLOSE_CHANNEL;
        assert_int_equal(ws_tsgu_decode_close_channel(c, n, other, &cl, &e), -1);
        assert_contains(e.msg, "packet type");
        free(c);
    }

    n = ws_tsgu_encode_empty(WS_TSGU_KEEPALIVE, out, sizeof out);
    assert_int_equal(n, 8);
    static const uint8_t ka[] = {0x0D, 0, 0, 0, 8, 0, 0, 0};
    assert_memory_equal(out, ka, 8);
    ws_tsgu_header h;
    assert_int_equal(ws_tsgu_header_decode(out, n, &h, &e), 0);
    assert_int_equal(h.type, WS_TSGU_KEEPALIVE);
    assert_int_equal(h.length, 8);
}

static void test_roundtrip_tunnel_response(void **state)
{
    (void)state;
    ws_error e = {""};
    uint8_t out[64];
    for (uint16_t f = 0; f < 0x20; f++) {
        ws_tsgu_tunnel_response tr = {0x0001, 0x00000000, f, 0x11223344, 0x3F}, back;
        size_t n = ws_tsgu_encode_tunnel_response(&tr, out, sizeof out);
        uint16_t written = f & 0x3;
        assert_int_equal(n, 18 + (written & 1 ? 4 : 0) + (written & 2 ? 4 : 0));
        assert_int_equal(out[0], WS_TSGU_TUNNEL_RESPONSE);
        assert_int_equal(out[4], n);
        assert_int_equal(out[14] | out[15] << 8, written);
        memset(&back, 0x55, sizeof back);
        uint8_t *c = dup_exact(out, n);
        assert_int_equal(ws_tsgu_decode_tunnel_response(c, n, &back, &e), 0);
        free(c);
        assert_int_equal(back.server_version, 1);
        assert_int_equal(back.status_code, 0);
        assert_int_equal(back.fields_present, written);
        assert_int_equal(back.tunnel_id, written & 1 ? 0x11223344 : 0);
        assert_int_equal(back.caps, written & 2 ? 0x3F : 0);
    }
    /* Layout with both fields: tunnel id then caps. */
    ws_tsgu_tunnel_response tr = {5, 0x800759F8, 3, 0xAABBCCDD, 0x0D};
    static const uint8_t want[] = {0x05, 0, 0, 0, 26, 0, 0, 0, 5, 0, 0xF8, 0x59, 0x07, 0x80,
                                   3,    0, 0, 0, 0xDD, 0xCC, 0xBB, 0xAA, 0x0D, 0, 0, 0};
    assert_int_equal(ws_tsgu_encode_tunnel_response(&tr, out, sizeof out), sizeof want);
    assert_memory_equal(out, want, sizeof want);
}

static void test_roundtrip_channel_response(void **state)
{
    (void)state;
    ws_error e = {""};
    uint8_t out[64];
    ws_tsgu_channel_response cr = {0, WS_TSGU_CHANNEL_RESPONSE_CHANNEL_ID, 0x01020304}, back;
    size_t n = ws_tsgu_encode_channel_response(&cr, out, sizeof out);
    static const uint8_t want[] = {0x09, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4, 3, 2, 1};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    uint8_t *c = dup_exact(out, n);
    assert_int_equal(ws_tsgu_decode_channel_response(c, n, &back, &e), 0);
    free(c);
    assert_int_equal(back.error_code, 0);
    assert_int_equal(back.fields_present, 1);
    assert_int_equal(back.channel_id, 0x01020304);

    ws_tsgu_channel_response cr0 = {0x800759DD, 0x6, 99};
    n = ws_tsgu_encode_channel_response(&cr0, out, sizeof out);
    assert_int_equal(n, 16);
    c = dup_exact(out, n);
    memset(&back, 0x55, sizeof back);
    assert_int_equal(ws_tsgu_decode_channel_response(c, n, &back, &e), 0);
    free(c);
    assert_int_equal(back.error_code, 0x800759DD);
    assert_int_equal(back.fields_present, 0);
    assert_int_equal(back.channel_id, 0);
}

static void test_roundtrip_strings(void **state)
{
    (void)state;
    ws_error e = {""};
    static uint8_t out[WS_TSGU_PACKET_MAX];
    static ws_tsgu_tunnel_create tc, tc2;
    uint8_t *c;
    size_t n;

    /* Non-ASCII: 2-, 3- and 4-byte UTF-8 (a surrogate pair on the wire). */
    const char *names[] = {"", "x", "caf\xc3\xa9", "\xe6\x9d\xb1\xe4\xba\xac", "\xf0\x9f\x98\x80-vm"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ws_tsgu_tunnel_auth ta = {.fields_present = 0}, ta2;
        strcpy(ta.client_name, names[i]);
        n = ws_tsgu_encode_tunnel_auth(&ta, out, sizeof out);
        assert_true(n >= 14);
        c = dup_exact(out, n);
        assert_int_equal(ws_tsgu_decode_tunnel_auth(c, n, &ta2, &e), 0);
        free(c);
        assert_string_equal(ta2.client_name, names[i]);

        ws_tsgu_channel_create cc = {0}, cc2;
        strcpy(cc.resource, names[i]);
        cc.port = 3389;
        cc.protocol = 3;
        n = ws_tsgu_encode_channel_create(&cc, out, sizeof out);
        assert_true(n >= 16);
        c = dup_exact(out, n);
        assert_int_equal(ws_tsgu_decode_channel_create(c, n, &cc2, &e), 0);
        free(c);
        assert_string_equal(cc2.resource, names[i]);

        memset(&tc, 0, sizeof tc);
        tc.fields_present = WS_TSGU_TUNNEL_CREATE_PAA_COOKIE;
        strcpy(tc.cookie, names[i]);
        n = ws_tsgu_encode_tunnel_create(&tc, out, sizeof out);
        c = dup_exact(out, n);
        assert_int_equal(ws_tsgu_decode_tunnel_create(c, n, &tc2, &e), 0);
        free(c);
        assert_string_equal(tc2.cookie, names[i]);
    }

    /* No cookie: 16 bytes, fieldsPresent 0; other fieldsPresent bits are not written. */
    memset(&tc, 0, sizeof tc);
    tc.caps = 0x0D;
    tc.fields_present = 0x2;
    strcpy(tc.cookie, "ignored");
    n = ws_tsgu_encode_tunnel_create(&tc, out, sizeof out);
    assert_int_equal(n, 16);
    assert_int_equal(out[12], 0);
    c = dup_exact(out, n);
    memset(&tc2, 0x55, sizeof tc2);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, n, &tc2, &e), 0);
    free(c);
    assert_int_equal(tc2.fields_present, 0);
    assert_string_equal(tc2.cookie, "");

    /* The longest cookie and names accepted. */
    memset(&tc, 0, sizeof tc);
    tc.fields_present = WS_TSGU_TUNNEL_CREATE_PAA_COOKIE;
    memset(tc.cookie, 'C', WS_TSGU_COOKIE_MAX);
    tc.cookie[WS_TSGU_COOKIE_MAX] = '\0';
    n = ws_tsgu_encode_tunnel_create(&tc, out, sizeof out);
    assert_int_equal(n, 16 + 2 + 2 * WS_TSGU_COOKIE_MAX + 2);
    c = dup_exact(out, n);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, n, &tc2, &e), 0);
    free(c);
    assert_string_equal(tc2.cookie, tc.cookie);

    ws_tsgu_tunnel_auth ta = {0}, ta2;
    memset(ta.client_name, 'n', WS_TSGU_NAME_MAX);
    n = ws_tsgu_encode_tunnel_auth(&ta, out, sizeof out);
    c = dup_exact(out, n);
    assert_int_equal(ws_tsgu_decode_tunnel_auth(c, n, &ta2, &e), 0);
    free(c);
    assert_string_equal(ta2.client_name, ta.client_name);

    ws_tsgu_channel_create cc = {0}, cc2;
    memset(cc.resource, 'r', WS_TSGU_NAME_MAX);
    n = ws_tsgu_encode_channel_create(&cc, out, sizeof out);
    c = dup_exact(out, n);
    assert_int_equal(ws_tsgu_decode_channel_create(c, n, &cc2, &e), 0);
    free(c);
    assert_string_equal(cc2.resource, cc.resource);
}

static void test_roundtrip_data(void **state)
{
    (void)state;
    ws_error e = {""};
    static uint8_t payload[65536], out[WS_TSGU_PACKET_MAX + 16];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 31 + 7);
    const size_t sizes[] = {0, 1, 2, 125, 4096, 65534, 65535};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t sz = sizes[i];
        size_t n = ws_tsgu_encode_data(payload, sz, out, sizeof out);
        assert_int_equal(n, 10 + sz);
        assert_int_equal(out[0], WS_TSGU_DATA);
        assert_int_equal(out[4] | out[5] << 8 | out[6] << 16, 10 + sz);
        assert_int_equal(out[8] | out[9] << 8, sz);
        uint8_t *c = dup_exact(out, n);
        ws_tsgu_data d;
        assert_int_equal(ws_tsgu_decode_data(c, n, &d, &e), 0);
        assert_int_equal(d.len, sz);
        assert_ptr_equal(d.data, c + 10);
        if (sz)
            assert_memory_equal(d.data, payload, sz);
        ws_tsgu_header h;
        assert_int_equal(ws_tsgu_header_decode(c, n, &h, &e), 0);
        assert_int_equal(h.length, n);
        free(c);
    }
    assert_int_equal(ws_tsgu_encode_data(NULL, 0, out, sizeof out), 10);
    assert_int_equal(ws_tsgu_encode_data(payload, 65536, out, sizeof out), 0);
    assert_int_equal(ws_tsgu_encode_data(NULL, 5, out, sizeof out), 0);
}

/* Every encoder: 0 for every cap short of the packet, the packet at exactly its size. */
static void test_encoder_caps(void **state)
{
    (void)state;
    uint8_t out[256];
    ws_tsgu_handshake_request hq = {1, 0, 0, 2};
    ws_tsgu_handshake_response hr = {0, 1, 0, 0, 2};
    static ws_tsgu_tunnel_create tc = {.caps = 0x0D, .fields_present = 1, .cookie = "PAATOKEN-abc123=="};
    ws_tsgu_tunnel_response tr = {0, 0, 3, 1, 2};
    ws_tsgu_tunnel_auth ta = {0, "vm"};
    ws_tsgu_tunnel_auth_response tar = {0, 0};
    ws_tsgu_channel_create cc = {1, 0, 2179, 3, "hv01.fabric.local"};
    ws_tsgu_channel_response cr = {0, 1, 1};
    const uint8_t d[3] = {1, 2, 3};
    for (int which = 0; which < 10; which++) {
        size_t full = 0;
        for (size_t cap = 0; cap <= 80; cap++) {
            size_t n = 0;
            switch (which) {
            case 0: n = ws_tsgu_encode_handshake_request(&hq, out, cap); break;
            case 1: n = ws_tsgu_encode_handshake_response(&hr, out, cap); break;
            case 2: n = ws_tsgu_encode_tunnel_create(&tc, out, cap); break;
            case 3: n = ws_tsgu_encode_tunnel_response(&tr, out, cap); break;
            case 4: n = ws_tsgu_encode_tunnel_auth(&ta, out, cap); break;
            case 5: n = ws_tsgu_encode_tunnel_auth_response(&tar, out, cap); break;
            case 6: n = ws_tsgu_encode_channel_create(&cc, out, cap); break;
            case 7: n = ws_tsgu_encode_channel_response(&cr, out, cap); break;
            case 8: n = ws_tsgu_encode_data(d, sizeof d, out, cap); break;
            case 9: n = ws_tsgu_encode_close_channel(WS_TSGU_CLOSE_CHANNEL, 0, out, cap); break;
            }
            if (!full) {
                if (n) {
                    assert_int_equal(n, cap);
                    full = n;
                }
            } else {
                assert_int_equal(n, full);
            }
        }
        assert_true(full >= 8);
    }
    for (size_t cap = 0; cap < 8; cap++)
        assert_int_equal(ws_tsgu_encode_empty(WS_TSGU_KEEPALIVE, out, cap), 0);
    assert_int_equal(ws_tsgu_encode_empty(WS_TSGU_KEEPALIVE, out, 8), 8);
    assert_int_equal(ws_tsgu_encode_close_channel(WS_TSGU_DATA, 0, out, sizeof out), 0);
}

static void test_encoder_refusals(void **state)
{
    (void)state;
    static uint8_t out[WS_TSGU_PACKET_MAX];
    static ws_tsgu_tunnel_create tc;
    memset(&tc, 0, sizeof tc);
    tc.fields_present = 1;
    strcpy(tc.cookie, "bad \xff utf-8");
    assert_int_equal(ws_tsgu_encode_tunnel_create(&tc, out, sizeof out), 0);
    strcpy(tc.cookie, "\xed\xa0\x80"); /* an encoded surrogate */
    assert_int_equal(ws_tsgu_encode_tunnel_create(&tc, out, sizeof out), 0);

    ws_tsgu_tunnel_auth ta = {0};
    strcpy(ta.client_name, "\xc3");
    assert_int_equal(ws_tsgu_encode_tunnel_auth(&ta, out, sizeof out), 0);
    ws_tsgu_channel_create cc = {0};
    strcpy(cc.resource, "\xf8\x88\x80\x80\x80");
    assert_int_equal(ws_tsgu_encode_channel_create(&cc, out, sizeof out), 0);
}

/* Every prefix of every sample is refused: as given (length mismatch) and with its
 * packetLength rewritten to the prefix (inner bounds). */
static void test_truncation(void **state)
{
    (void)state;
    static sample s[32];
    size_t ns = make_samples(s);
    assert_true(ns >= N_DECODABLE);
    ws_error e;
    for (size_t i = 0; i < ns; i++) {
        assert_true(s[i].n >= 8);
        e.msg[0] = '\0';
        if (decode_exact(s[i].type, s[i].b, s[i].n, &e) != 0)
            fail_msg("sample %zu (%s) does not decode: %s", i, ws_tsgu_type_name(s[i].type), e.msg);
        for (size_t k = 0; k < s[i].n; k++) {
            e.msg[0] = '\0';
            assert_int_equal(decode_exact(s[i].type, s[i].b, k, &e), -1);
            assert_true(e.msg[0] != '\0');
            if (k < 8)
                continue;
            uint8_t *c = dup_exact(s[i].b, k);
            set_len(c, k);
            e.msg[0] = '\0';
            if (decode_any(s[i].type, c, k, &e) != -1)
                fail_msg("sample %zu (%s) cut to %zu bytes decodes", i, ws_tsgu_type_name(s[i].type), k);
            assert_true(e.msg[0] != '\0');
            free(c);
        }
        /* One byte more than declared: a length mismatch. */
        uint8_t *c = malloc(s[i].n + 1);
        memcpy(c, s[i].b, s[i].n);
        c[s[i].n] = 0;
        assert_int_equal(decode_any(s[i].type, c, s[i].n + 1, &e), -1);
        assert_contains(e.msg, "packetLength");
        /* And declared one more with the byte present: trailing bytes, refused. */
        set_len(c, s[i].n + 1);
        e.msg[0] = '\0';
        assert_int_equal(decode_any(s[i].type, c, s[i].n + 1, &e), -1);
        assert_true(e.msg[0] != '\0');
        free(c);
    }
}

static void test_wrong_type_and_length(void **state)
{
    (void)state;
    static sample s[32];
    size_t ns = make_samples(s);
    ws_error e;
    for (size_t i = 0; i < ns; i++) {
        for (size_t d = 0; d < N_DECODABLE; d++) {
            if (decodable[d] == s[i].type)
                continue;
            e.msg[0] = '\0';
            assert_int_equal(decode_exact(decodable[d], s[i].b, s[i].n, &e), -1);
            assert_contains(e.msg, "packet type");
            assert_contains(e.msg, ws_tsgu_type_name(decodable[d]));
        }
        uint8_t *c = dup_exact(s[i].b, s[i].n);
        set_len(c, s[i].n + 100);
        assert_int_equal(decode_any(s[i].type, c, s[i].n, &e), -1);
        assert_contains(e.msg, "packetLength");
        set_len(c, 0);
        assert_int_equal(decode_any(s[i].type, c, s[i].n, &e), -1);
        free(c);
    }
    /* A NULL buffer, too. */
    for (size_t d = 0; d < N_DECODABLE; d++)
        assert_int_equal(decode_any(decodable[d], NULL, 0, &e), -1);
    /* CLOSE decoder with a type that is not a close packet. */
    ws_tsgu_close_channel cl;
    uint8_t b[12] = {0x0A, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(ws_tsgu_decode_close_channel(b, sizeof b, WS_TSGU_DATA, &cl, &e), -1);
    assert_contains(e.msg, "neither");
}

static void test_tunnel_create_errors(void **state)
{
    (void)state;
    ws_error e = {""};
    pb p;
    static ws_tsgu_tunnel_create tc;

    /* cbCookie odd. */
    pb_start(&p, WS_TSGU_TUNNEL_CREATE);
    pb_u32(&p, 0x0D);
    pb_u16(&p, 1);
    pb_u16(&p, 0);
    pb_u16(&p, 37);
    for (int i = 0; i < 37; i++)
        pb_u8(&p, i % 2 ? 0 : 'A');
    pb_done(&p);
    uint8_t *c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, p.n, &tc, &e), -1);
    assert_string_equal(e.msg, "TUNNEL_CREATE: cbCookie 37 is odd");
    free(c);

    /* Cookie longer than the packet. */
    pb_start(&p, WS_TSGU_TUNNEL_CREATE);
    pb_u32(&p, 0x0D);
    pb_u16(&p, 1);
    pb_u16(&p, 0);
    pb_u16(&p, 40);
    for (int i = 0; i < 10; i++)
        pb_u16(&p, 'A');
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, p.n, &tc, &e), -1);
    assert_contains(e.msg, "TUNNEL_CREATE: truncated in Cookie at offset 18 (40 bytes needed, 20 left)");
    free(c);

    /* Cookie field announced but absent. */
    pb_start(&p, WS_TSGU_TUNNEL_CREATE);
    pb_u32(&p, 0x0D);
    pb_u16(&p, 1);
    pb_u16(&p, 0);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, p.n, &tc, &e), -1);
    assert_contains(e.msg, "TUNNEL_CREATE");
    assert_contains(e.msg, "cbCookie");
    free(c);

    /* Cookie over WS_TSGU_COOKIE_MAX: refused, and named as too long. */
    pb_start(&p, WS_TSGU_TUNNEL_CREATE);
    pb_u32(&p, 0x0D);
    pb_u16(&p, 1);
    pb_u16(&p, 0);
    pb_u16(&p, 2 * (WS_TSGU_COOKIE_MAX + 1) + 2);
    for (int i = 0; i < WS_TSGU_COOKIE_MAX + 1; i++)
        pb_u16(&p, 'Z');
    pb_u16(&p, 0);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, p.n, &tc, &e), -1);
    assert_contains(e.msg, "TUNNEL_CREATE: Cookie is 8193 UTF-8 bytes, over the 8192 accepted");
    free(c);
    /* Also when the limit is crossed by multi-byte characters. */
    pb_start(&p, WS_TSGU_TUNNEL_CREATE);
    pb_u32(&p, 0x0D);
    pb_u16(&p, 1);
    pb_u16(&p, 0);
    pb_u16(&p, 2 * 2800);
    for (int i = 0; i < 2800; i++)
        pb_u16(&p, 0x6771); /* 3 UTF-8 bytes each: 8400 */
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, p.n, &tc, &e), -1);
    assert_contains(e.msg, "8400 UTF-8 bytes");
    free(c);

    /* Invalid UTF-16: an unpaired high surrogate, and a lone low one. */
    const unsigned bad[][2] = {{0xD800, 'A'}, {0xDC00, 'A'}, {'A', 0xD800}};
    for (size_t i = 0; i < 3; i++) {
        pb_start(&p, WS_TSGU_TUNNEL_CREATE);
        pb_u32(&p, 0x0D);
        pb_u16(&p, 1);
        pb_u16(&p, 0);
        pb_u16(&p, 4);
        pb_u16(&p, bad[i][0]);
        pb_u16(&p, bad[i][1]);
        pb_done(&p);
        c = dup_exact(p.b, p.n);
        assert_int_equal(ws_tsgu_decode_tunnel_create(c, p.n, &tc, &e), -1);
        assert_contains(e.msg, "not valid UTF-16");
        free(c);
    }

    /* Trailing bytes after the cookie; accepted only with unknown fieldsPresent bits. */
    pb_start(&p, WS_TSGU_TUNNEL_CREATE);
    pb_u32(&p, 0x0D);
    pb_u16(&p, 1);
    pb_u16(&p, 0);
    pb_str(&p, "tok");
    pb_u16(&p, 0xEEEE);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, p.n, &tc, &e), -1);
    assert_contains(e.msg, "2 trailing bytes");
    c[12] = 0x41; /* fieldsPresent 0x0041: an unknown bit */
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, p.n, &tc, &e), 0);
    assert_string_equal(tc.cookie, "tok");
    free(c);

    /* Reauth context truncated. */
    pb_start(&p, WS_TSGU_TUNNEL_CREATE);
    pb_u32(&p, 0x0D);
    pb_u16(&p, 3);
    pb_u16(&p, 0);
    pb_bytes(&p, "1234567", 7);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, p.n, &tc, &e), -1);
    assert_contains(e.msg, "reauthTunnelContext");
    free(c);

    /* A cookie with an embedded NUL stops there; an empty one is empty. */
    pb_start(&p, WS_TSGU_TUNNEL_CREATE);
    pb_u32(&p, 0x0D);
    pb_u16(&p, 1);
    pb_u16(&p, 0);
    pb_u16(&p, 8);
    pb_u16(&p, 'a');
    pb_u16(&p, 0);
    pb_u16(&p, 'b');
    pb_u16(&p, 0);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, p.n, &tc, &e), 0);
    assert_string_equal(tc.cookie, "a");
    free(c);
    pb_start(&p, WS_TSGU_TUNNEL_CREATE);
    pb_u32(&p, 0x0D);
    pb_u16(&p, 1);
    pb_u16(&p, 0);
    pb_u16(&p, 0);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_create(c, p.n, &tc, &e), 0);
    assert_string_equal(tc.cookie, "");
    free(c);
}

static void test_channel_create_errors(void **state)
{
    (void)state;
    ws_error e = {""};
    pb p;
    ws_tsgu_channel_create cc;
    uint8_t *c;

    /* numResources 0. */
    pb_start(&p, WS_TSGU_CHANNEL_CREATE);
    pb_u8(&p, 0);
    pb_u8(&p, 0);
    pb_u16(&p, 2179);
    pb_u16(&p, 3);
    pb_str(&p, "host");
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_channel_create(c, p.n, &cc, &e), -1);
    assert_contains(e.msg, "CHANNEL_CREATE: numResources is 0");
    free(c);

    /* Two resources and two alternates: the first is decoded, the rest skipped. */
    pb_start(&p, WS_TSGU_CHANNEL_CREATE);
    pb_u8(&p, 2);
    pb_u8(&p, 2);
    pb_u16(&p, 2179);
    pb_u16(&p, 3);
    pb_str(&p, "first");
    pb_str(&p, "second");
    pb_str(&p, "alt-a");
    pb_str(&p, "alt-b");
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_channel_create(c, p.n, &cc, &e), 0);
    assert_int_equal(cc.num_resources, 2);
    assert_int_equal(cc.num_alt, 2);
    assert_string_equal(cc.resource, "first");
    free(c);

    /* numAlt announces more names than there are. */
    pb_start(&p, WS_TSGU_CHANNEL_CREATE);
    pb_u8(&p, 1);
    pb_u8(&p, 3);
    pb_u16(&p, 2179);
    pb_u16(&p, 3);
    pb_str(&p, "first");
    pb_str(&p, "alt-a");
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_channel_create(c, p.n, &cc, &e), -1);
    assert_contains(e.msg, "cbAltResourceName");
    free(c);

    /* An alternate name with an odd or over-long count. */
    pb_start(&p, WS_TSGU_CHANNEL_CREATE);
    pb_u8(&p, 1);
    pb_u8(&p, 1);
    pb_u16(&p, 2179);
    pb_u16(&p, 3);
    pb_str(&p, "first");
    pb_u16(&p, 3);
    pb_bytes(&p, "abc", 3);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_channel_create(c, p.n, &cc, &e), -1);
    assert_string_equal(e.msg, "CHANNEL_CREATE: cbAltResourceName 3 is odd");
    c[p.n - 5] = 200;
    assert_int_equal(ws_tsgu_decode_channel_create(c, p.n, &cc, &e), -1);
    assert_contains(e.msg, "truncated in AltResourceName at offset 30 (200 bytes needed, 3 left)");
    free(c);

    /* Resource name too long for WS_TSGU_NAME_MAX; odd; trailing bytes. */
    pb_start(&p, WS_TSGU_CHANNEL_CREATE);
    pb_u8(&p, 1);
    pb_u8(&p, 0);
    pb_u16(&p, 2179);
    pb_u16(&p, 3);
    pb_u16(&p, 2 * (WS_TSGU_NAME_MAX + 1));
    for (int i = 0; i < WS_TSGU_NAME_MAX + 1; i++)
        pb_u16(&p, 'h');
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_channel_create(c, p.n, &cc, &e), -1);
    assert_contains(e.msg, "ResourceName is 257 UTF-8 bytes, over the 256 accepted");
    free(c);

    pb_start(&p, WS_TSGU_CHANNEL_CREATE);
    pb_u8(&p, 1);
    pb_u8(&p, 0);
    pb_u16(&p, 2179);
    pb_u16(&p, 3);
    pb_str(&p, "host");
    pb_u8(&p, 0);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_channel_create(c, p.n, &cc, &e), -1);
    assert_contains(e.msg, "CHANNEL_CREATE: 1 trailing bytes");
    free(c);
}

static void test_tunnel_auth_errors(void **state)
{
    (void)state;
    ws_error e = {""};
    pb p;
    ws_tsgu_tunnel_auth ta;
    uint8_t *c;

    /* With the statement of health (0x1): skipped. */
    pb_start(&p, WS_TSGU_TUNNEL_AUTH);
    pb_u16(&p, 1);
    pb_str(&p, "vm");
    pb_u16(&p, 4);
    pb_bytes(&p, "SOH!", 4);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_auth(c, p.n, &ta, &e), 0);
    assert_int_equal(ta.fields_present, 1);
    assert_string_equal(ta.client_name, "vm");
    c[p.n - 6] = 5; /* SoH longer than what is left */
    assert_int_equal(ws_tsgu_decode_tunnel_auth(c, p.n, &ta, &e), -1);
    assert_contains(e.msg, "TUNNEL_AUTH: truncated in statementOfHealth at offset 20 (5 bytes needed, 4 left)");
    free(c);

    /* Without 0x1 the same bytes are trailing. */
    pb_start(&p, WS_TSGU_TUNNEL_AUTH);
    pb_u16(&p, 0);
    pb_str(&p, "vm");
    pb_u16(&p, 0);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_auth(c, p.n, &ta, &e), -1);
    assert_contains(e.msg, "trailing");
    free(c);

    /* cbClientName odd, and beyond the packet. */
    pb_start(&p, WS_TSGU_TUNNEL_AUTH);
    pb_u16(&p, 0);
    pb_u16(&p, 5);
    pb_bytes(&p, "v\0m\0\0", 5);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_auth(c, p.n, &ta, &e), -1);
    assert_string_equal(e.msg, "TUNNEL_AUTH: cbClientName 5 is odd");
    c[10] = 6;
    assert_int_equal(ws_tsgu_decode_tunnel_auth(c, p.n, &ta, &e), -1);
    assert_contains(e.msg, "TUNNEL_AUTH: truncated in ClientName");
    free(c);
}

static void test_response_optional_fields(void **state)
{
    (void)state;
    ws_error e = {""};
    pb p;
    uint8_t *c;
    static const uint8_t nonce[16] = {0};

    /* TUNNEL_RESPONSE with all four optional fields. */
    ws_tsgu_tunnel_response tr;
    pb_start(&p, WS_TSGU_TUNNEL_RESPONSE);
    pb_u16(&p, 1);
    pb_u32(&p, 0);
    pb_u16(&p, 0x17);
    pb_u16(&p, 0);
    pb_u32(&p, 77);
    pb_u32(&p, 0x0D);
    pb_bytes(&p, nonce, 16);
    pb_str(&p, "certificate");
    pb_str(&p, "Do you consent?");
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_response(c, p.n, &tr, &e), 0);
    assert_int_equal(tr.fields_present, 0x17);
    assert_int_equal(tr.tunnel_id, 77);
    assert_int_equal(tr.caps, 0x0D);
    free(c);

    /* The nonce without its certificate. */
    pb_start(&p, WS_TSGU_TUNNEL_RESPONSE);
    pb_u16(&p, 1);
    pb_u32(&p, 0);
    pb_u16(&p, 0x4);
    pb_u16(&p, 0);
    pb_bytes(&p, nonce, 16);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_response(c, p.n, &tr, &e), -1);
    assert_contains(e.msg, "TUNNEL_RESPONSE: truncated in cbServerCert");
    free(c);

    /* A consent message with an odd count. */
    pb_start(&p, WS_TSGU_TUNNEL_RESPONSE);
    pb_u16(&p, 1);
    pb_u32(&p, 0);
    pb_u16(&p, 0x10);
    pb_u16(&p, 0);
    pb_u16(&p, 1);
    pb_u8(&p, 'x');
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_response(c, p.n, &tr, &e), -1);
    assert_string_equal(e.msg, "TUNNEL_RESPONSE: cbConsentMsg 1 is odd");
    free(c);

    /* Tunnel id announced, missing. */
    pb_start(&p, WS_TSGU_TUNNEL_RESPONSE);
    pb_u16(&p, 1);
    pb_u32(&p, 0);
    pb_u16(&p, 0x1);
    pb_u16(&p, 0);
    pb_u16(&p, 0);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_response(c, p.n, &tr, &e), -1);
    assert_contains(e.msg, "TUNNEL_RESPONSE: truncated in tunnelId");
    free(c);

    /* TUNNEL_AUTH_RESPONSE with redir flags, idle timeout and an SoH response. */
    ws_tsgu_tunnel_auth_response tar;
    pb_start(&p, WS_TSGU_TUNNEL_AUTH_RESPONSE);
    pb_u32(&p, 0);
    pb_u16(&p, 0x7);
    pb_u16(&p, 0);
    pb_u32(&p, 0x80000000u);
    pb_u32(&p, 0);
    pb_u16(&p, 3);
    pb_bytes(&p, "abc", 3);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_auth_response(c, p.n, &tar, &e), 0);
    assert_int_equal(tar.fields_present, 7);
    c[p.n - 5] = 4;
    assert_int_equal(ws_tsgu_decode_tunnel_auth_response(c, p.n, &tar, &e), -1);
    assert_contains(e.msg, "TUNNEL_AUTH_RESPONSE: truncated in SoHResponse");
    free(c);
    /* Idle timeout only, then trailing bytes: refused; with an unknown bit: accepted. */
    pb_start(&p, WS_TSGU_TUNNEL_AUTH_RESPONSE);
    pb_u32(&p, 0);
    pb_u16(&p, 0x2);
    pb_u16(&p, 0);
    pb_u32(&p, 30);
    pb_u16(&p, 0);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_tunnel_auth_response(c, p.n, &tar, &e), -1);
    assert_contains(e.msg, "TUNNEL_AUTH_RESPONSE: 2 trailing bytes");
    c[12] = 0x82;
    assert_int_equal(ws_tsgu_decode_tunnel_auth_response(c, p.n, &tar, &e), 0);
    free(c);

    /* CHANNEL_RESPONSE: channel id, UDP port (0x4), authn cookie (0x2), in that order. */
    ws_tsgu_channel_response cr;
    pb_start(&p, WS_TSGU_CHANNEL_RESPONSE);
    pb_u32(&p, 0);
    pb_u16(&p, 0x7);
    pb_u16(&p, 0);
    pb_u32(&p, 12);
    pb_u16(&p, 3391);
    pb_u16(&p, 2);
    pb_bytes(&p, "ck", 2);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_channel_response(c, p.n, &cr, &e), 0);
    assert_int_equal(cr.channel_id, 12);
    assert_int_equal(cr.fields_present, 7);
    free(c);
    /* UDP port alone, then the cookie alone. */
    pb_start(&p, WS_TSGU_CHANNEL_RESPONSE);
    pb_u32(&p, 0);
    pb_u16(&p, 0x4);
    pb_u16(&p, 0);
    pb_u16(&p, 3391);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_channel_response(c, p.n, &cr, &e), 0);
    assert_int_equal(cr.channel_id, 0);
    c[12] = 0x2; /* now the two bytes read as a cookie length of 3391 */
    assert_int_equal(ws_tsgu_decode_channel_response(c, p.n, &cr, &e), -1);
    assert_contains(e.msg, "CHANNEL_RESPONSE: truncated in authnCookie");
    free(c);
    /* Trailing bytes with only known bits: refused. */
    pb_start(&p, WS_TSGU_CHANNEL_RESPONSE);
    pb_u32(&p, 0);
    pb_u16(&p, 0x1);
    pb_u16(&p, 0);
    pb_u32(&p, 1);
    pb_u32(&p, 1);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_channel_response(c, p.n, &cr, &e), -1);
    assert_contains(e.msg, "CHANNEL_RESPONSE: 4 trailing bytes");
    free(c);
}

static void test_data_and_fixed_errors(void **state)
{
    (void)state;
    ws_error e = {""};
    pb p;
    uint8_t *c;
    ws_tsgu_data d;

    pb_start(&p, WS_TSGU_DATA);
    pb_u16(&p, 4);
    pb_bytes(&p, "abc", 3);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_data(c, p.n, &d, &e), -1);
    assert_string_equal(e.msg, "DATA: cbDataLen 4 but the packet carries 3 bytes of data");
    c[8] = 2;
    assert_int_equal(ws_tsgu_decode_data(c, p.n, &d, &e), -1);
    c[8] = 3;
    assert_int_equal(ws_tsgu_decode_data(c, p.n, &d, &e), 0);
    assert_memory_equal(d.data, "abc", 3);
    free(c);

    /* DATA without its length field. */
    pb_start(&p, WS_TSGU_DATA);
    pb_u8(&p, 0);
    pb_done(&p);
    c = dup_exact(p.b, p.n);
    assert_int_equal(ws_tsgu_decode_data(c, p.n, &d, &e), -1);
    assert_contains(e.msg, "DATA: truncated in cbDataLen");
    free(c);

    /* Over WS_TSGU_PACKET_MAX, consistent length field and all. */
    static uint8_t big[WS_TSGU_PACKET_MAX + 1];
    memset(big, 0, sizeof big);
    big[0] = WS_TSGU_DATA;
    set_len(big, sizeof big);
    big[8] = 0xFF;
    big[9] = 0xFF;
    c = dup_exact(big, sizeof big);
    assert_int_equal(ws_tsgu_decode_data(c, sizeof big, &d, &e), -1);
    assert_contains(e.msg, "exceeds 65545");
    free(c);

    /* HANDSHAKE_REQUEST with one extra byte declared. */
    uint8_t hq[15];
    memcpy(hq, cap_handshake, 14);
    hq[14] = 0;
    set_len(hq, 15);
    ws_tsgu_handshake_request req;
    c = dup_exact(hq, 15);
    assert_int_equal(ws_tsgu_decode_handshake_request(c, 15, &req, &e), -1);
    assert_string_equal(e.msg, "HANDSHAKE_REQUEST: 1 trailing bytes after the last field");
    free(c);

    /* Messages name the packet and field for a short fixed packet. */
    c = dup_exact(cap_handshake, 12);
    set_len(c, 12);
    assert_int_equal(ws_tsgu_decode_handshake_request(c, 12, &req, &e), -1);
    assert_string_equal(e.msg,
                        "HANDSHAKE_REQUEST: truncated in extendedAuth at offset 12 (2 bytes needed, 0 left)");
    free(c);
    c = dup_exact(cap_handshake, 13);
    assert_int_equal(ws_tsgu_decode_handshake_request(c, 13, &req, &e), -1);
    assert_string_equal(e.msg, "HANDSHAKE_REQUEST: packetLength 14 but 13 bytes given");
    free(c);
    c = dup_exact(cap_handshake, 5);
    assert_int_equal(ws_tsgu_decode_handshake_request(c, 5, &req, &e), -1);
    assert_string_equal(e.msg, "HANDSHAKE_REQUEST: 5 bytes is shorter than the 8-byte header");
    free(c);
}

/* A small deterministic generator (xorshift32). */
static uint32_t rng = 0x2545F491u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Random and mutated bytes into every decoder: results are 0 or -1, never a crash or
 * an overread (ASan), strings always terminated within their buffers. */
static void test_fuzz(void **state)
{
    (void)state;
    static sample s[32];
    size_t ns = make_samples(s);
    ws_error e;
    uint8_t buf[300];
    int accepted = 0;
    for (int iter = 0; iter < 40000; iter++) {
        size_t n;
        uint16_t type = decodable[rnd() % N_DECODABLE];
        int mode = (int)(rnd() % 4);
        if (mode == 0) { /* pure noise */
            n = rnd() % 64;
            for (size_t i = 0; i < n; i++)
                buf[i] = (uint8_t)rnd();
        } else { /* a valid sample, mutated, cut or extended */
            const sample *sm = &s[rnd() % ns];
            n = sm->n;
            memcpy(buf, sm->b, n);
            type = sm->type;
            int flips = 1 + (int)(rnd() % 4);
            for (int k = 0; k < flips; k++)
                buf[rnd() % n] = (uint8_t)rnd();
            if (mode == 2)
                n = rnd() % (n + 1);
            else if (mode == 3) {
                size_t extra = rnd() % 16;
                for (size_t k = 0; k < extra && n < sizeof buf; k++)
                    buf[n++] = (uint8_t)rnd();
            }
        }
        /* Mostly make the header consistent, so the inner checks are reached. */
        if (n >= 8 && rnd() % 8) {
            buf[0] = (uint8_t)type;
            buf[1] = 0;
            set_len(buf, n);
        }
        e.msg[0] = '\0';
        int rc = decode_exact(type, buf, n, &e);
        assert_true(rc == 0 || rc == -1);
        if (rc == -1)
            assert_true(e.msg[0] != '\0' && strlen(e.msg) < sizeof e.msg);
        else
            accepted++;
        ws_tsgu_header h;
        uint8_t *c = dup_exact(buf, n);
        rc = ws_tsgu_header_decode(c, n, &h, &e);
        free(c);
        assert_true(rc >= -1 && rc <= 1);
        if (rc == 0)
            assert_true(h.length >= 8 && h.length <= WS_TSGU_PACKET_MAX);
    }
    assert_true(accepted > 0);
}

/* A relay's view of DATA: the 10-byte head alone, as the gateway passes data on. */
static void test_data_head(void **state)
{
    (void)state;
    static uint8_t full[WS_TSGU_PACKET_MAX];
    uint8_t head[WS_TSGU_DATA_HEAD_LEN];
    uint32_t plen;
    uint16_t cb;
    ws_error e;
    /* The head of n bytes is the whole packet's first 10 bytes, for every n up to the largest. */
    static const size_t sizes[] = {0, 1, 300, 65535};
    static uint8_t big[65535];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        size_t m = ws_tsgu_encode_data(n ? big : NULL, n, full, sizeof full);
        assert_int_equal(m, n + 10);
        ws_tsgu_encode_data_head(n, head);
        assert_memory_equal(head, full, sizeof head);
        assert_int_equal(ws_tsgu_decode_data_head(full, m, &plen, &cb, &e), 0);
        assert_int_equal(plen, m);
        assert_int_equal(cb, n);
        assert_int_equal(ws_tsgu_decode_data_head(head, sizeof head, &plen, &cb, &e), 0); /* the head alone */
    }
    /* Refused: shorter than the head, another type, cbDataLen not packetLength - 10, a
     * packetLength below the head. */
    ws_tsgu_encode_data_head(300, head);
    assert_int_equal(ws_tsgu_decode_data_head(head, 9, &plen, &cb, &e), -1);
    assert_non_null(strstr(e.msg, "shorter than its 10-byte head"));
    head[0] = WS_TSGU_KEEPALIVE;
    assert_int_equal(ws_tsgu_decode_data_head(head, sizeof head, &plen, &cb, &e), -1);
    assert_non_null(strstr(e.msg, "expected 0x000a"));
    ws_tsgu_encode_data_head(300, head);
    head[8] = 0x2D; /* cbDataLen 301 */
    assert_int_equal(ws_tsgu_decode_data_head(head, sizeof head, &plen, &cb, &e), -1);
    assert_non_null(strstr(e.msg, "cbDataLen 301 but the packet carries 300 bytes"));
    ws_tsgu_encode_data_head(0, head);
    head[4] = 9; /* packetLength 9 */
    assert_int_equal(ws_tsgu_decode_data_head(head, sizeof head, &plen, &cb, &e), -1);
    assert_non_null(strstr(e.msg, "packetLength 9 is shorter"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_capture_handshake_request),
        cmocka_unit_test(test_capture_tunnel_create),
        cmocka_unit_test(test_capture_tunnel_auth),
        cmocka_unit_test(test_capture_channel_create),
        cmocka_unit_test(test_roundtrip_fixed),
        cmocka_unit_test(test_roundtrip_tunnel_response),
        cmocka_unit_test(test_roundtrip_channel_response),
        cmocka_unit_test(test_roundtrip_strings),
        cmocka_unit_test(test_roundtrip_data),
        cmocka_unit_test(test_encoder_caps),
        cmocka_unit_test(test_encoder_refusals),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_wrong_type_and_length),
        cmocka_unit_test(test_tunnel_create_errors),
        cmocka_unit_test(test_channel_create_errors),
        cmocka_unit_test(test_tunnel_auth_errors),
        cmocka_unit_test(test_response_optional_fields),
        cmocka_unit_test(test_data_and_fixed_errors),
        cmocka_unit_test(test_data_head),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
