/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/base/bytes.c: every getter's value and byte order, truncation at
 * every byte with the one message and the output left untouched, sub-reader bounds,
 * and writers that refuse to overflow (an array and a ws_buf). */

#include "harness.h"

#include "base/bytes.h"

static const uint8_t sample[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

static void test_getters_read_little_and_big_endian(void **state)
{
    (void)state;
    ws_rd r;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    ws_rd_init(&r, sample, sizeof sample, "t", NULL);
    assert_int_equal(ws_rd_u8(&r, "a", &u8), 0);
    assert_int_equal(u8, 0x01);
    assert_int_equal(ws_rd_u16(&r, "b", &u16), 0);
    assert_int_equal(u16, 0x0302);
    assert_int_equal(ws_rd_u32(&r, "c", &u32), 0);
    assert_int_equal(u32, 0x07060504);
    assert_int_equal(ws_rd_offset(&r), 7);
    assert_int_equal(ws_rd_remaining(&r), 1);

    r = ws_rd_new(sample, sizeof sample, "t", NULL);
    assert_int_equal(ws_rd_u64(&r, "d", &u64), 0);
    assert_true(u64 == 0x0807060504030201ull);
    ws_rd_init(&r, sample, sizeof sample, "t", NULL);
    assert_int_equal(ws_rd_u64_be(&r, "d", &u64), 0);
    assert_true(u64 == 0x0102030405060708ull);
    ws_rd_init(&r, sample, sizeof sample, "t", NULL);
    assert_int_equal(ws_rd_u16_be(&r, "e", &u16), 0);
    assert_int_equal(u16, 0x0102);
    assert_int_equal(ws_rd_u32_be(&r, "f", &u32), 0);
    assert_int_equal(u32, 0x03040506);
    assert_int_equal(ws_rd_remaining(&r), 2);
    assert_int_equal(ws_rd_end(&r, "f"), -1);
}

static void test_bytes_copy_skip(void **state)
{
    (void)state;
    ws_rd r;
    const uint8_t *p = NULL;
    uint8_t c[3];
    ws_rd_init(&r, sample, sizeof sample, "t", NULL);
    assert_int_equal(ws_rd_skip(&r, 2, "pad"), 0);
    assert_int_equal(ws_rd_bytes(&r, 2, "x", &p), 0);
    assert_ptr_equal(p, sample + 2);
    assert_int_equal(ws_rd_copy(&r, 3, "y", c), 0);
    assert_memory_equal(c, sample + 4, 3);
    assert_ptr_equal(ws_rd_ptr(&r), sample + 7);
    assert_int_equal(ws_rd_skip(&r, 1, "z"), 0);
    assert_int_equal(ws_rd_end(&r, "z"), 0);
    assert_int_equal(ws_rd_bytes(&r, 0, "empty", &p), 0);
}

/* One getter of width n on every shorter input: the one message, the value untouched. */
typedef int (*getter)(ws_rd *, const char *, uint64_t *);

static int g8(ws_rd *r, const char *f, uint64_t *v)
{
    uint8_t x = 0xAA;
    int rc = ws_rd_u8(r, f, &x);
    *v = x;
    return rc;
}
#define G(name, fn, type, init)                                                                                      \
    static int name(ws_rd *r, const char *f, uint64_t *v)                                                            \
    {                                                                                                                \
        type x = init;                                                                                               \
        int rc = fn(r, f, &x);                                                                                       \
        *v = x;                                                                                                      \
        return rc;                                                                                                   \
    }
G(g16, ws_rd_u16, uint16_t, 0xAAAA)
G(g32, ws_rd_u32, uint32_t, 0xAAAAAAAAu)
G(g64, ws_rd_u64, uint64_t, 0xAAAAAAAAAAAAAAAAull)
G(g16be, ws_rd_u16_be, uint16_t, 0xAAAA)
G(g32be, ws_rd_u32_be, uint32_t, 0xAAAAAAAAu)
G(g64be, ws_rd_u64_be, uint64_t, 0xAAAAAAAAAAAAAAAAull)

static void test_truncation_at_every_byte(void **state)
{
    (void)state;
    static const struct {
        getter g;
        size_t n;
        uint64_t untouched;
    } gs[] = {{g8, 1, 0xAA},
              {g16, 2, 0xAAAA},
              {g32, 4, 0xAAAAAAAAu},
              {g64, 8, 0xAAAAAAAAAAAAAAAAull},
              {g16be, 2, 0xAAAA},
              {g32be, 4, 0xAAAAAAAAu},
              {g64be, 8, 0xAAAAAAAAAAAAAAAAull}};
    for (size_t i = 0; i < sizeof gs / sizeof gs[0]; i++) {
        for (size_t k = 0; k < gs[i].n; k++) {
            /* Two bytes read first, so the offset in the message is 2. */
            uint8_t *c = malloc(2 + k + 1);
            assert_non_null(c);
            memset(c, 0x11, 2 + k);
            ws_rd r;
            ws_error e = {{0}};
            uint16_t pre;
            uint64_t v;
            ws_rd_init(&r, c, 2 + k, "x224_cr", &e);
            assert_int_equal(ws_rd_u16(&r, "li", &pre), 0);
            assert_int_equal(gs[i].g(&r, "length", &v), WS_BYTES_TRUNCATED);
            assert_true(v == gs[i].untouched);
            char want[128];
            snprintf(want, sizeof want, "x224_cr: truncated in length at offset 2 (%zu bytes needed, %zu left)",
                     gs[i].n, k);
            assert_string_equal(e.msg, want);
            assert_int_equal(ws_rd_offset(&r), 2); /* nothing consumed */
            free(c);
        }
    }
    ws_rd r;
    ws_error e = {{0}};
    const uint8_t *p = (const uint8_t *)"keep";
    uint8_t c[4] = {9, 9, 9, 9};
    ws_rd_init(&r, sample, 3, "pdu", &e);
    assert_int_equal(ws_rd_bytes(&r, 4, "blob", &p), WS_BYTES_TRUNCATED);
    assert_string_equal((const char *)p, "keep");
    assert_int_equal(ws_rd_copy(&r, 4, "blob", c), WS_BYTES_TRUNCATED);
    assert_int_equal(c[0], 9);
    assert_int_equal(ws_rd_skip(&r, 4, "pad"), WS_BYTES_TRUNCATED);
    assert_string_equal(e.msg, "pdu: truncated in pad at offset 0 (4 bytes needed, 3 left)");
    assert_string_equal(ws_bytes_err(WS_BYTES_TRUNCATED), "truncated");
    /* A NULL pointer is an empty input. */
    ws_rd_init(&r, NULL, 5, "none", &e);
    assert_int_equal(ws_rd_remaining(&r), 0);
    assert_int_equal(ws_rd_u8(&r, "a", c), WS_BYTES_TRUNCATED);
}

static void test_sub_reader_is_capped(void **state)
{
    (void)state;
    ws_rd r, s, s2;
    ws_error e = {{0}};
    uint32_t v;
    uint16_t w;
    ws_rd_init(&r, sample, sizeof sample, "outer", &e);
    assert_int_equal(ws_rd_skip(&r, 1, "tag"), 0);
    assert_int_equal(ws_rd_sub(&r, 3, "value", "inner", &s), 0);
    assert_int_equal(ws_rd_offset(&r), 4); /* the parent moved past the child */
    assert_int_equal(ws_rd_remaining(&s), 3);
    assert_int_equal(ws_rd_offset(&s), 1);
    assert_int_equal(ws_rd_u32(&s, "field", &v), WS_BYTES_TRUNCATED); /* 4 bytes exist, but not in the child */
    assert_string_equal(e.msg, "inner: truncated in field at offset 1 (4 bytes needed, 3 left)");
    assert_int_equal(ws_rd_u16(&s, "field", &w), 0);
    assert_int_equal(w, 0x0302);
    assert_int_equal(ws_rd_end(&s, "field"), -1);
    assert_string_equal(e.msg, "inner: 1 unexpected bytes at offset 3 after field");
    /* A grandchild keeps the outer offsets and its parent's name when given none. */
    assert_int_equal(ws_rd_sub(&s, 1, "last", NULL, &s2), 0);
    assert_int_equal(ws_rd_offset(&s2), 3);
    assert_string_equal(s2.name, "inner");
    /* A child longer than what is left is refused. */
    assert_int_equal(ws_rd_sub(&r, 5, "value", "inner", &s), WS_BYTES_TRUNCATED);
    assert_string_equal(e.msg, "outer: truncated in value at offset 4 (5 bytes needed, 4 left)");
    assert_int_equal(ws_rd_sub(&r, 4, "value", NULL, &s), 0);
    assert_int_equal(ws_rd_remaining(&r), 0);
}

static void test_writer_puts_and_refuses_overflow(void **state)
{
    (void)state;
    uint8_t out[16];
    ws_wr w;
    ws_wr_init(&w, out, sizeof out);
    assert_int_equal(ws_wr_u8(&w, 0x01), 0);
    assert_int_equal(ws_wr_u16(&w, 0x0302), 0);
    assert_int_equal(ws_wr_u32(&w, 0x07060504), 0);
    assert_int_equal(ws_wr_u16_be(&w, 0x0809), 0);
    assert_int_equal(ws_wr_u32_be(&w, 0x0A0B0C0D), 0);
    assert_int_equal(ws_wr_zero(&w, 1), 0);
    assert_int_equal(ws_wr_bytes(&w, "\xEE\xFF", 2), 0);
    static const uint8_t want[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0, 0xEE, 0xFF};
    assert_int_equal(ws_wr_done(&w), 16);
    assert_memory_equal(out, want, 16);
    assert_int_equal(ws_wr_u16_at(&w, 1, 0xBBAA), 0);
    assert_int_equal(out[1], 0xAA);
    assert_int_equal(ws_wr_u16_be_at(&w, 1, 0xBBAA), 0);
    assert_int_equal(out[1], 0xBB);
    /* Full: the put is refused, nothing written past the end, and the writer stays failed. */
    assert_int_equal(ws_wr_room(&w), 0);
    assert_int_equal(ws_wr_u8(&w, 0x42), WS_BYTES_FULL);
    assert_int_equal(ws_wr_done(&w), 0);
    assert_int_equal(ws_wr_len(&w), 16);

    for (size_t cap = 0; cap < 8; cap++) {
        uint8_t small[9];
        memset(small, 0x5A, sizeof small);
        ws_wr_init(&w, small, cap);
        int rc = ws_wr_u64(&w, 0x1122334455667788ull);
        assert_int_equal(rc, WS_BYTES_FULL);
        assert_int_equal(small[0], 0x5A); /* refused whole, not written in part */
        assert_int_equal(ws_wr_u8(&w, 0), WS_BYTES_FULL); /* sticky */
        assert_int_equal(ws_wr_done(&w), 0);
    }
    w = ws_wr_new(out, 8);
    assert_int_equal(ws_wr_u64_be(&w, 0x0102030405060708ull), 0);
    assert_memory_equal(out, sample, 8);
    assert_int_equal(ws_wr_u32_at(&w, 4, 0x0A0B0C0D), 0);
    assert_int_equal(out[4], 0x0D);
    assert_int_equal(out[7], 0x0A);
    assert_int_equal(ws_wr_u32_at(&w, 5, 0), WS_BYTES_FULL); /* would pass what was written */
    ws_wr_init(&w, out, 8);
    assert_int_equal(ws_wr_u64_be(&w, 0x0102030405060708ull), 0);
    assert_int_equal(ws_wr_u16_at(&w, 7, 0), WS_BYTES_FULL); /* past what was written */
    ws_wr_init(&w, out, 8);
    ws_wr_fail(&w);
    assert_int_equal(ws_wr_done(&w), 0);
    assert_int_equal(ws_wr_zero(&w, 0), WS_BYTES_FULL);
}

static void test_writer_into_buf(void **state)
{
    (void)state;
    ws_buf b;
    ws_wr w;
    ws_buf_init(&b, 6);
    assert_int_equal(ws_buf_add(&b, "ab", 2), 0);
    ws_wr_init_buf(&w, &b);
    assert_int_equal(ws_wr_u16(&w, 0), 0);
    assert_int_equal(ws_wr_u8(&w, 'z'), 0);
    assert_int_equal(ws_wr_u16_at(&w, 0, 0x6463), 0); /* "cd", counted from the writer's start */
    assert_int_equal(ws_wr_room(&w), 1);
    assert_int_equal(ws_wr_u16(&w, 1), WS_BYTES_FULL); /* past the buffer's max: refused, contents kept */
    assert_int_equal(ws_wr_done(&w), 0);
    assert_int_equal(ws_buf_len(&b), 5);
    assert_string_equal(ws_buf_str(&b), "abcdz");
    ws_buf_free(&b);

    ws_buf_init(&b, 1024);
    ws_wr_init_buf(&w, &b);
    assert_int_equal(ws_wr_zero(&w, 600), 0);
    assert_int_equal(ws_wr_done(&w), 600);
    assert_int_equal(ws_buf_len(&b), 600);
    ws_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_getters_read_little_and_big_endian),
        cmocka_unit_test(test_bytes_copy_skip),
        cmocka_unit_test(test_truncation_at_every_byte),
        cmocka_unit_test(test_sub_reader_is_capped),
        cmocka_unit_test(test_writer_puts_and_refuses_overflow),
        cmocka_unit_test(test_writer_into_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
