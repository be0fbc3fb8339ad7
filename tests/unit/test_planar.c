/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/wire/planar.c: the RDP 6.0 Planar codec (MS-RDPEGDI 2.2.2.5.1, 3.1.9.2) the
 * host compresses its console tiles with. The spec's own decoding example (3.1.9.2.3), round trips
 * of random, screen-like and run-edge images at every awkward size, and refusals naming where. */

#include "harness.h"

#include "base/util.h"
#include "wire/planar.h"

/* Decodes through a heap copy of exactly len bytes, so ASan sees any overread. */
static int decode_exact(const uint8_t *b, size_t len, unsigned w, unsigned h, uint8_t *out, ws_error *e)
{
    uint8_t *c = malloc(len ? len : 1);
    assert_non_null(c);
    if (len)
        memcpy(c, b, len);
    int rc = ws_planar_decode(c, len, w, h, out, (size_t)w * h * 4, e);
    free(c);
    return rc;
}

static uint32_t rng = 12345;
static uint8_t rnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return (uint8_t)(rng >> 16);
}

/* Encode, check the bound, decode, compare; returns the encoded length. */
static size_t roundtrip(const uint8_t *bits, unsigned w, unsigned h)
{
    size_t cap = WS_PLANAR_MAX_SIZE(w, h);
    uint8_t *enc = malloc(cap), *dec = malloc((size_t)w * h * 4);
    assert_non_null(enc);
    assert_non_null(dec);
    size_t n = ws_planar_encode(bits, w, h, enc, cap);
    if (n == 0)
        fail_msg("cannot encode %ux%u", w, h);
    ws_error e = {{0}};
    if (decode_exact(enc, n, w, h, dec, &e) != 0)
        fail_msg("%ux%u: %s", w, h, e.msg);
    if (memcmp(bits, dec, (size_t)w * h * 4) != 0)
        fail_msg("%ux%u: the decoded bitmap differs", w, h);
    /* The encoder says 0 when one byte less than it needs is all there is. */
    assert_int_equal(ws_planar_encode(bits, w, h, enc, n - 1), 0);
    free(enc);
    free(dec);
    return n;
}

/* MS-RDPEGDI 3.1.9.2.3: the bytes of one color plane of a 6 x 3 bitmap, decoded by hand from the
 * spec's walk-through: first scanline 255 255 255 255 254 253, then the deltas applied. Here the
 * same plane is each of red, green and blue, without alpha (NA). */
static void test_spec_example(void **state)
{
    (void)state;
    static const uint8_t plane[] = {0x13, 0xFF, 0x20, 0xFE, 0xFD, 0x60, 0x01, 0x7D, 0xF5, 0xC2,
                                    0x9A, 0x38, 0x60, 0x01, 0x67, 0x8B, 0xA3, 0x78, 0xAF};
    static const uint8_t want[3][6] = {
        {255, 255, 255, 255, 254, 253},
        {254, 192, 132, 96, 75, 25},  /* deltas -1, -63, -123, +97, +77, +28 */
        {253, 140, 62, 14, 135, 193}, /* deltas -1, -52, -70, -82, +60, -88 */
    };
    uint8_t stream[1 + 3 * sizeof plane];
    stream[0] = WS_PLANAR_RLE | WS_PLANAR_NA;
    for (int i = 0; i < 3; i++)
        memcpy(stream + 1 + i * sizeof plane, plane, sizeof plane);
    uint8_t out[6 * 3 * 4];
    ws_error e = {{0}};
    assert_int_equal(decode_exact(stream, sizeof stream, 6, 3, out, &e), 0);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 6; x++) {
            const uint8_t *px = out + (y * 6 + x) * 4;
            assert_int_equal(px[0], want[y][x]);
            assert_int_equal(px[1], want[y][x]);
            assert_int_equal(px[2], want[y][x]);
            assert_int_equal(px[3], 0xFF);
        }
    /* And the encoder writes the first scanline as the spec segments it: RAW [FF] RUN [3], RAW [FE FD]. */
    uint8_t bits[6 * 3 * 4], enc[WS_PLANAR_MAX_SIZE(6, 3)];
    memcpy(bits, out, sizeof bits);
    size_t n = ws_planar_encode(bits, 6, 3, enc, sizeof enc);
    assert_true(n > 0);
    assert_int_equal(enc[0], WS_PLANAR_RLE);
    size_t off = 1;
    /* alpha, first scanline: RAW [FF] RUN [5] */
    assert_int_equal(enc[off], 0x15);
    assert_int_equal(enc[off + 1], 0xFF);
    /* alpha, scanlines 2 and 3: RUN [6] of zero deltas */
    assert_int_equal(enc[off + 2], 0x06);
    assert_int_equal(enc[off + 3], 0x06);
    off += 4;
    /* red: its first scanline as the spec segments it */
    assert_int_equal(enc[off], 0x13);
    assert_int_equal(enc[off + 1], 0xFF);
    assert_int_equal(enc[off + 2], 0x20);
    assert_int_equal(enc[off + 3], 0xFE);
    assert_int_equal(enc[off + 4], 0xFD);
    /* the deltas: the same bytes as the spec's */
    assert_memory_equal(enc + off + 5, plane + 5, sizeof plane - 5);
    assert_int_equal(n, 1 + 4 + 3 * sizeof plane);
}

static void fill_random(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = rnd();
}

/* A console-like tile: a background, "glyphs" of foreground pixels in 8 x 16 cells, opaque. */
static void fill_screen(uint8_t *b, unsigned w, unsigned h)
{
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++) {
            uint8_t *px = b + ((size_t)y * w + x) * 4;
            unsigned cx = x % 8, cy = y % 16; /* strokes of a letter in some cells */
            int on = ((x / 8 + y / 16) % 3 == 0) && cy >= 3 && cy <= 12 && (cx == 2 || cx == 5 || cy == 7);
            px[0] = on ? 0xFF : 0x8C;
            px[1] = on ? 0xFF : 0x3C;
            px[2] = on ? 0xFF : 0x00;
            px[3] = 0xFF;
        }
}

static void test_roundtrip_sizes(void **state)
{
    (void)state;
    static const unsigned sizes[][2] = {{1, 1},   {1, 2},   {2, 1},    {3, 3},    {7, 5},   {15, 1}, {16, 1},
                                        {17, 2},  {31, 3},  {32, 4},   {33, 5},   {47, 2},  {48, 2}, {49, 3},
                                        {50, 1},  {63, 63}, {64, 64},  {65, 17},  {1, 64},  {64, 1}, {100, 7},
                                        {640, 16}, {4096, 1}, {1, 4096}, {13, 61}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned w = sizes[i][0], h = sizes[i][1];
        size_t n = (size_t)w * h * 4;
        uint8_t *b = malloc(n);
        assert_non_null(b);
        fill_random(b, n);
        roundtrip(b, w, h);
        fill_screen(b, w, h);
        roundtrip(b, w, h);
        memset(b, 0, n); /* all zero: runs from the scanline's implicit 0 */
        roundtrip(b, w, h);
        memset(b, 0xFF, n);
        roundtrip(b, w, h);
        free(b);
    }
}

/* Every run length from 1 to 100 after 0 to 16 raw values, and a second scanline that repeats,
 * shifts or negates it: the run splits (16+, 32+, over 47, never a leftover of 1 or 2). */
static void test_roundtrip_runs(void **state)
{
    (void)state;
    for (unsigned raw = 0; raw <= 16; raw++)
        for (unsigned run = 1; run <= 100; run++) {
            unsigned w = raw + run + 1, h = 3;
            uint8_t *b = calloc((size_t)w * h, 4);
            assert_non_null(b);
            for (unsigned x = 0; x < w; x++) {
                uint8_t v = x < raw ? (uint8_t)(x * 37 + 1) : x < raw + run ? 0x42 : 0x99;
                for (int c = 0; c < 4; c++) {
                    b[x * 4 + c] = (uint8_t)(v + c);
                    b[(w + x) * 4 + c] = (uint8_t)(v + c + 128); /* delta -128 / +128 */
                    b[(2 * w + x) * 4 + c] = (uint8_t)(v + c + 128 - x);
                }
            }
            roundtrip(b, w, h);
            free(b);
        }
}

/* What the host relies on: a console tile is a small fraction of its raw size. */
static void test_screen_compresses(void **state)
{
    (void)state;
    uint8_t *b = malloc(64 * 64 * 4);
    assert_non_null(b);
    fill_screen(b, 64, 64);
    size_t n = roundtrip(b, 64, 64);
    assert_true(n < 64 * 64 * 4 / 4);
    memset(b, 0x20, 64 * 64 * 4);
    n = roundtrip(b, 64, 64); /* one color: a few bytes per scanline and plane */
    assert_true(n < 4 * 64 * 3);
    free(b);
}

static void test_truncated(void **state)
{
    (void)state;
    uint8_t bits[9 * 5 * 4], enc[WS_PLANAR_MAX_SIZE(9, 5)], out[9 * 5 * 4];
    fill_random(bits, sizeof bits);
    size_t n = ws_planar_encode(bits, 9, 5, enc, sizeof enc);
    assert_true(n > 0);
    for (size_t cut = 0; cut < n; cut++) {
        ws_error e = {{0}};
        assert_int_equal(decode_exact(enc, cut, 9, 5, out, &e), -1);
        assert_contains(e.msg, "truncated");
    }
}

static void test_refusals(void **state)
{
    (void)state;
    uint8_t out[4 * 2 * 4];
    ws_error e = {{0}};
    /* YCoCg (color loss level 3), chroma subsampling */
    static const uint8_t cll[] = {0x13};
    assert_int_equal(decode_exact(cll, sizeof cll, 4, 2, out, &e), -1);
    assert_contains(e.msg, "color loss level 3");
    static const uint8_t cs[] = {0x18};
    assert_int_equal(decode_exact(cs, sizeof cs, 4, 2, out, &e), -1);
    assert_contains(e.msg, "chroma subsampling");
    /* a controlByte of 0 */
    static const uint8_t zero[] = {0x30, 0x00};
    assert_int_equal(decode_exact(zero, sizeof zero, 4, 2, out, &e), -1);
    assert_contains(e.msg, "red plane: the segment at offset 1 (controlByte 0x00) covers no pixel");
    /* a run past the scanline: 1 raw + 4 for a width of 4 */
    static const uint8_t over[] = {0x30, 0x14, 0x07};
    assert_int_equal(decode_exact(over, sizeof over, 4, 2, out, &e), -1);
    assert_contains(e.msg, "gives 5 pixels, scanline 0 has 4 left");
    /* more than the Pad byte after the planes (NA: three planes of two scanlines, RUN [4] each) */
    static const uint8_t extra[] = {0x30, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x00};
    assert_int_equal(decode_exact(extra, sizeof extra, 4, 2, out, &e), -1);
    assert_contains(e.msg, "2 bytes after the planes at offset 7");
    assert_int_equal(decode_exact(extra, sizeof extra - 1, 4, 2, out, &e), 0);
    assert_int_equal(out[3], 0xFF);
    /* raw planes, with alpha and the Pad byte: 4 planes of 4 x 2 */
    uint8_t raw[1 + 32 + 1];
    raw[0] = 0x00;
    for (int i = 0; i < 32; i++)
        raw[1 + i] = (uint8_t)i;
    raw[33] = 0;
    assert_int_equal(decode_exact(raw, sizeof raw, 4, 2, out, &e), 0);
    assert_int_equal(out[3], 0);  /* alpha plane first */
    assert_int_equal(out[2], 8);  /* then red */
    assert_int_equal(out[1], 16); /* green */
    assert_int_equal(out[0], 24); /* blue */
    assert_int_equal(decode_exact(raw, 30, 4, 2, out, &e), -1);
    assert_contains(e.msg, "blue plane: truncated raw plane at offset 25 (8 bytes needed, 5 left)");
    /* sizes and room */
    assert_int_equal(ws_planar_decode(raw, sizeof raw, 0, 2, out, sizeof out, &e), -1);
    assert_contains(e.msg, "a bitmap of 0x2");
    assert_int_equal(ws_planar_decode(raw, sizeof raw, 4, 2, out, sizeof out - 1, &e), -1);
    assert_contains(e.msg, "31 bytes of output for a bitmap of 4x2 (32 needed)");
    assert_int_equal(ws_planar_encode(out, 0, 1, raw, sizeof raw), 0);
}

/* Random streams: refused or decoded, never read past their end (ASan build). */
static void test_random_bytes(void **state)
{
    (void)state;
    uint8_t in[300], out[16 * 8 * 4];
    for (int i = 0; i < 20000; i++) {
        size_t n = rnd() % sizeof in;
        fill_random(in, n);
        if (n && i % 2)
            in[0] = (uint8_t)(in[0] & 0x30); /* mostly past the FormatHeader checks */
        ws_error e = {{0}};
        (void)decode_exact(in, n, 1 + rnd() % 16, 1 + rnd() % 8, out, &e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example),      cmocka_unit_test(test_roundtrip_sizes),
        cmocka_unit_test(test_roundtrip_runs),    cmocka_unit_test(test_screen_compresses),
        cmocka_unit_test(test_truncated),         cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
