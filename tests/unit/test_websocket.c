/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/websocket.c: the RFC 6455 accept key and frame headers that
 * MS-TSGU runs over (REFERENCE.md section 7), checked against the RFC's own examples. */

#include "harness.h"

#include "base/util.h"
#include "wire/websocket.h"

#define NO_LIMIT (UINT64_MAX >> 1)

/* Decodes through a heap copy of exactly len bytes, so ASan sees any overread. */
static int decode_exact(const uint8_t *b, size_t len, uint64_t max, ws_websocket_frame *f, ws_error *e)
{
    uint8_t *c = malloc(len ? len : 1);
    assert_non_null(c);
    if (len)
        memcpy(c, b, len);
    int rc = ws_websocket_decode_header(c, len, max, f, e);
    free(c);
    return rc;
}

static void test_accept_key(void **state)
{
    (void)state;
    char out[29];
    /* RFC 6455 section 1.3. */
    assert_int_equal(ws_websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /* FreeRDP's key is not base64 and is hashed as sent (REFERENCE.md section 7). */
    assert_int_equal(ws_websocket_accept_key("M_QNLNQBLGKPAFE", out), 0);
    assert_string_equal(out, "TcxZ6f1IlP/1ThY3GwFrlwgq8DU=");
    assert_int_equal(strlen(out), 28);

    char key[200];
    memset(key, 'k', sizeof key);
    key[128] = '\0';
    assert_int_equal(ws_websocket_accept_key(key, out), 0);
    assert_int_equal(strlen(out), 28);
    key[128] = 'k';
    key[129] = '\0';
    memset(out, 'X', sizeof out);
    assert_int_equal(ws_websocket_accept_key(key, out), -1);
    assert_int_equal(ws_websocket_accept_key("", out), -1);
    assert_int_equal(ws_websocket_accept_key(NULL, out), -1);
    assert_int_equal(ws_websocket_accept_key("ab\r\ncd", out), -1);
    assert_int_equal(ws_websocket_accept_key("ab\x7f", out), -1);
    assert_int_equal(ws_websocket_accept_key("caf\xc3\xa9", out), -1);
    assert_int_equal(ws_websocket_accept_key("x", out), 0);
    assert_int_equal(ws_websocket_accept_key("a key with spaces ~!", out), 0);
}

/* The frames of RFC 6455 section 5.7, header by header. */
static void test_rfc_examples(void **state)
{
    (void)state;
    ws_error e = {""};
    ws_websocket_frame f;
    uint8_t out[WS_WEBSOCKET_HEADER_MAX];
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};

    /* A single-frame unmasked text message, "Hello". */
    static const uint8_t hello[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    assert_int_equal(ws_websocket_encode_header(WS_WEBSOCKET_OP_TEXT, 5, NULL, out), 2);
    assert_memory_equal(out, hello, 2);
    assert_int_equal(decode_exact(hello, sizeof hello, 125, &f, &e), 0);
    assert_int_equal(f.fin, 1);
    assert_int_equal(f.opcode, WS_WEBSOCKET_OP_TEXT);
    assert_int_equal(f.masked, 0);
    assert_int_equal(f.payload_len, 5);
    assert_int_equal(f.header_len, 2);

    /* The same, masked. */
    static const uint8_t mhello[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    assert_int_equal(ws_websocket_encode_header(WS_WEBSOCKET_OP_TEXT, 5, mask, out), 6);
    assert_memory_equal(out, mhello, 6);
    assert_int_equal(decode_exact(mhello, sizeof mhello, 125, &f, &e), 0);
    assert_int_equal(f.masked, 1);
    assert_memory_equal(f.mask, mask, 4);
    assert_int_equal(f.header_len, 6);
    uint8_t payload[5];
    memcpy(payload, mhello + 6, 5);
    ws_websocket_unmask(payload, 5, f.mask, 0);
    assert_memory_equal(payload, "Hello", 5);

    /* A fragmented text message: "Hel" (FIN clear), then "lo" (continuation, FIN). */
    static const uint8_t frag1[] = {0x01, 0x03, 0x48, 0x65, 0x6c};
    static const uint8_t frag2[] = {0x80, 0x02, 0x6c, 0x6f};
    assert_int_equal(decode_exact(frag1, sizeof frag1, 125, &f, &e), 0);
    assert_int_equal(f.fin, 0);
    assert_int_equal(f.opcode, WS_WEBSOCKET_OP_TEXT);
    assert_int_equal(f.payload_len, 3);
    assert_int_equal(decode_exact(frag2, sizeof frag2, 125, &f, &e), 0);
    assert_int_equal(f.fin, 1);
    assert_int_equal(f.opcode, WS_WEBSOCKET_OP_CONTINUATION);

    /* Unmasked ping "Hello" and masked pong. */
    static const uint8_t ping[] = {0x89, 0x05};
    static const uint8_t pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d};
    assert_int_equal(ws_websocket_encode_header(WS_WEBSOCKET_OP_PING, 5, NULL, out), 2);
    assert_memory_equal(out, ping, 2);
    assert_int_equal(ws_websocket_encode_header(WS_WEBSOCKET_OP_PONG, 5, mask, out), 6);
    assert_memory_equal(out, pong, 6);
    assert_int_equal(decode_exact(ping, 2, 125, &f, &e), 0);
    assert_int_equal(f.opcode, WS_WEBSOCKET_OP_PING);
    assert_int_equal(decode_exact(pong, 6, 125, &f, &e), 0);
    assert_int_equal(f.opcode, WS_WEBSOCKET_OP_PONG);

    /* 256 bytes binary in a single unmasked frame; 64 KiB likewise. */
    static const uint8_t b256[] = {0x82, 0x7E, 0x01, 0x00};
    static const uint8_t b64k[] = {0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00};
    assert_int_equal(ws_websocket_encode_header(WS_WEBSOCKET_OP_BINARY, 256, NULL, out), 4);
    assert_memory_equal(out, b256, 4);
    assert_int_equal(ws_websocket_encode_header(WS_WEBSOCKET_OP_BINARY, 65536, NULL, out), 10);
    assert_memory_equal(out, b64k, 10);
    assert_int_equal(decode_exact(b256, 4, 65536, &f, &e), 0);
    assert_int_equal(f.payload_len, 256);
    assert_int_equal(decode_exact(b64k, 10, 65536, &f, &e), 0);
    assert_int_equal(f.payload_len, 65536);
}

/* Encode then decode at the length boundaries, masked and not; every shorter prefix
 * of the header asks for more. */
static void test_header_roundtrip(void **state)
{
    (void)state;
    ws_error e = {""};
    static const uint64_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 65545, 0xFFFFFFFFull, 0x100000005ull,
                                    NO_LIMIT};
    static const int ops[] = {WS_WEBSOCKET_OP_BINARY, WS_WEBSOCKET_OP_TEXT, WS_WEBSOCKET_OP_CONTINUATION};
    static const uint8_t mask[4] = {0xde, 0xad, 0xbe, 0xef};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            for (int m = 0; m < 2; m++) {
                uint8_t out[WS_WEBSOCKET_HEADER_MAX + 4];
                memset(out, 0xCC, sizeof out);
                size_t n = ws_websocket_encode_header(ops[o], lens[i], m ? mask : NULL, out);
                size_t want = (lens[i] < 126 ? 2 : lens[i] <= 0xFFFF ? 4 : 10) + (m ? 4 : 0);
                assert_int_equal(n, want);
                assert_true(n <= WS_WEBSOCKET_HEADER_MAX);
                assert_int_equal(out[n], 0xCC); /* nothing written past the header */
                assert_int_equal(out[0], 0x80 | ops[o]);
                assert_int_equal(out[1] >> 7, m);

                ws_websocket_frame f;
                memset(&f, 0x55, sizeof f);
                assert_int_equal(decode_exact(out, n, NO_LIMIT, &f, &e), 0);
                assert_int_equal(f.fin, 1);
                assert_int_equal(f.opcode, ops[o]);
                assert_int_equal(f.masked, m);
                assert_int_equal(f.payload_len, lens[i]);
                assert_int_equal(f.header_len, n);
                if (m)
                    assert_memory_equal(f.mask, mask, 4);

                /* Exactly the payload as the limit passes, one less fails. */
                assert_int_equal(decode_exact(out, n, lens[i], &f, &e), 0);
                if (lens[i]) {
                    assert_int_equal(decode_exact(out, n, lens[i] - 1, &f, &e), -1);
                    assert_contains(e.msg, "exceeds");
                }
                for (size_t k = 0; k < n; k++)
                    assert_int_equal(decode_exact(out, k, NO_LIMIT, &f, &e), 1);
                /* Extra bytes after the header (the payload) change nothing. */
                assert_int_equal(decode_exact(out, n + 4, NO_LIMIT, &f, &e), 0);
                assert_int_equal(f.header_len, n);
            }
        }
    }
    /* Control frames at their largest. */
    uint8_t out[WS_WEBSOCKET_HEADER_MAX];
    ws_websocket_frame f;
    for (int op = WS_WEBSOCKET_OP_CLOSE; op <= WS_WEBSOCKET_OP_PONG; op++) {
        size_t n = ws_websocket_encode_header(op, 125, mask, out);
        assert_int_equal(n, 6);
        assert_int_equal(decode_exact(out, n, 125, &f, &e), 0);
        assert_int_equal(f.opcode, op);
        assert_int_equal(f.payload_len, 125);
    }
}

static void test_header_errors(void **state)
{
    (void)state;
    ws_error e = {""};
    ws_websocket_frame f;

    /* Reserved bits: each one alone, known even from the first byte. */
    for (int bit = 0x10; bit <= 0x40; bit <<= 1) {
        uint8_t b[2] = {(uint8_t)(0x82 | bit), 0x00};
        assert_int_equal(decode_exact(b, 2, NO_LIMIT, &f, &e), -1);
        assert_contains(e.msg, "reserved bits");
        assert_int_equal(decode_exact(b, 1, NO_LIMIT, &f, &e), -1);
    }
    /* Unknown opcodes. */
    static const int bad_ops[] = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        uint8_t b[2] = {(uint8_t)(0x80 | bad_ops[i]), 0x00};
        assert_int_equal(decode_exact(b, 2, NO_LIMIT, &f, &e), -1);
        assert_contains(e.msg, "unknown opcode");
        char hex[8];
        snprintf(hex, sizeof hex, "0x%x", bad_ops[i]);
        assert_contains(e.msg, hex);
    }
    /* Fragmented control frames; data frames may be fragmented. */
    for (int op = WS_WEBSOCKET_OP_CLOSE; op <= WS_WEBSOCKET_OP_PONG; op++) {
        uint8_t b[2] = {(uint8_t)op, 0x00};
        assert_int_equal(decode_exact(b, 2, NO_LIMIT, &f, &e), -1);
        assert_contains(e.msg, "fragmented");
    }
    for (int op = WS_WEBSOCKET_OP_CONTINUATION; op <= WS_WEBSOCKET_OP_BINARY; op++) {
        uint8_t b[2] = {(uint8_t)op, 0x00};
        assert_int_equal(decode_exact(b, 2, NO_LIMIT, &f, &e), 0);
        assert_int_equal(f.fin, 0);
    }
    /* Control frames over 125 bytes, 16- and 64-bit forms. */
    static const uint8_t ping126[] = {0x89, 0x7E, 0x00, 0x7E};
    static const uint8_t close127[] = {0x88, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x7E, 1, 2, 3, 4};
    assert_int_equal(decode_exact(ping126, sizeof ping126, NO_LIMIT, &f, &e), -1);
    assert_contains(e.msg, "control frame");
    assert_contains(e.msg, "125");
    assert_int_equal(decode_exact(ping126, 2, NO_LIMIT, &f, &e), -1);
    assert_int_equal(decode_exact(close127, sizeof close127, NO_LIMIT, &f, &e), -1);
    assert_contains(e.msg, "control frame");
    /* The 64-bit length's high bit. */
    static const uint8_t hi[] = {0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0x01};
    assert_int_equal(decode_exact(hi, sizeof hi, UINT64_MAX, &f, &e), -1);
    assert_contains(e.msg, "most significant bit");
    for (size_t k = 0; k < sizeof hi; k++)
        assert_int_equal(decode_exact(hi, k, UINT64_MAX, &f, &e), 1);
    /* Over max_payload: the message names both sizes, known before the mask key. */
    static const uint8_t big[] = {0x82, 0xFE, 0xFF, 0xFF, 1, 2, 3, 4};
    assert_int_equal(decode_exact(big, sizeof big, 65545, &f, &e), 0);
    assert_int_equal(decode_exact(big, sizeof big, 1000, &f, &e), -1);
    assert_string_equal(e.msg, "websocket: payload of 65535 bytes exceeds the 1000 allowed");
    assert_int_equal(decode_exact(big, 4, 1000, &f, &e), -1);
    static const uint8_t big64[] = {0x82, 0x7F, 0, 0, 0, 1, 0, 0, 0, 0};
    assert_int_equal(decode_exact(big64, sizeof big64, 65545, &f, &e), -1);
    assert_string_equal(e.msg, "websocket: payload of 4294967296 bytes exceeds the 65545 allowed");
    /* Non-minimal length encodings are accepted. */
    static const uint8_t nm16[] = {0x82, 0x7E, 0x00, 0x05};
    static const uint8_t nm64[] = {0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0x00, 0xC8, 9, 9, 9, 9};
    assert_int_equal(decode_exact(nm16, sizeof nm16, NO_LIMIT, &f, &e), 0);
    assert_int_equal(f.payload_len, 5);
    assert_int_equal(f.header_len, 4);
    assert_int_equal(decode_exact(nm64, sizeof nm64, NO_LIMIT, &f, &e), 0);
    assert_int_equal(f.payload_len, 200);
    assert_int_equal(f.header_len, 14);
    assert_true(f.masked);
    /* Nothing at all. */
    assert_int_equal(ws_websocket_decode_header(NULL, 0, NO_LIMIT, &f, &e), 1);
}

static void test_unmask_offsets(void **state)
{
    (void)state;
    static const uint8_t mask[4] = {0x12, 0x9a, 0xc3, 0x7e};
    uint8_t plain[1000], once[1000], pieces[1000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof plain; i++) {
        x = x * 1103515245u + 12345u;
        plain[i] = (uint8_t)(x >> 16);
    }
    memcpy(once, plain, sizeof once);
    ws_websocket_unmask(once, sizeof once, mask, 0);
    for (size_t i = 0; i < sizeof once; i++)
        assert_int_equal(once[i], plain[i] ^ mask[i % 4]);

    /* In pieces of every size 1..13, each at its offset: the same bytes. */
    for (size_t step = 1; step <= 13; step++) {
        memcpy(pieces, plain, sizeof pieces);
        for (size_t off = 0; off < sizeof pieces; off += step) {
            size_t n = off + step <= sizeof pieces ? step : sizeof pieces - off;
            ws_websocket_unmask(pieces + off, n, mask, off);
        }
        assert_memory_equal(pieces, once, sizeof once);
    }
    /* Irregular pieces. */
    static const size_t cuts[] = {0, 1, 4, 7, 8, 250, 251, 999, 1000};
    memcpy(pieces, plain, sizeof pieces);
    for (size_t i = 0; i + 1 < sizeof cuts / sizeof cuts[0]; i++)
        ws_websocket_unmask(pieces + cuts[i], cuts[i + 1] - cuts[i], mask, cuts[i]);
    assert_memory_equal(pieces, once, sizeof once);

    /* Offsets beyond 32 bits keep their residue mod 4; masking twice is the identity. */
    memcpy(pieces, plain + 3, 100);
    ws_websocket_unmask(pieces, 100, mask, 0x100000003ull);
    assert_memory_equal(pieces, once + 3, 100);
    ws_websocket_unmask(pieces, 100, mask, 3);
    assert_memory_equal(pieces, plain + 3, 100);
    ws_websocket_unmask(pieces, 0, mask, 7); /* nothing */
    assert_memory_equal(pieces, plain + 3, 100);
}

/* The byte-wise rule of RFC 6455 section 5.3, the reference the word-wise code must match. */
static void reference_mask(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4], uint64_t offset)
{
    for (size_t i = 0; i < len; i++)
        dst[i] = src[i] ^ mask[(offset + i) % 4];
}

/* Every length 0..64 at every start offset 0..15 of an unaligned buffer, at every phase
 * of the mask (a frame split across reads), in place and copying: the same bytes as the
 * reference, and not one byte outside the range touched. */
static void test_unmask_wordwise(void **state)
{
    (void)state;
    static const uint8_t mask[4] = {0xa5, 0x3c, 0x0f, 0xf1};
    uint8_t plain[128], want[128], got[128], src[128];
    uint32_t x = 777;
    for (size_t i = 0; i < sizeof plain; i++) {
        x = x * 1103515245u + 12345u;
        plain[i] = (uint8_t)(x >> 16);
    }
    for (size_t len = 0; len <= 64; len++) {
        for (size_t start = 0; start < 16; start++) {
            for (uint64_t phase = 0; phase < 8; phase++) {
                uint64_t offset = phase + (phase >= 4 ? 0xfffffffcull : 0); /* and beyond 32 bits */
                memcpy(want, plain, sizeof want);
                reference_mask(want + start, plain + start, len, mask, offset);
                memcpy(got, plain, sizeof got);
                ws_websocket_unmask(got + start, len, mask, offset);
                assert_memory_equal(got, want, sizeof want);
                /* Copying from another buffer, itself at another alignment. */
                memcpy(got, plain, sizeof got);
                memcpy(src + 1 + start % 7, plain + start, len);
                ws_websocket_mask_copy(got + start, src + 1 + start % 7, len, mask, offset);
                assert_memory_equal(got, want, sizeof want);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key),       cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_header_roundtrip), cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_unmask_offsets),   cmocka_unit_test(test_unmask_wordwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
