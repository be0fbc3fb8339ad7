/* SPDX-License-Identifier: Apache-2.0 */
/* planar: see planar.h (MS-RDPEGDI 2.2.2.5.1, 3.1.9.2). */
#include "wire/planar.h"

#include <string.h>

/* The planes in stream order (2.2.2.5.1: AlphaPlane, then red, green, blue) as byte offsets in a
 * B, G, R, A pixel, and their names for errors. */
static const int plane_channel[4] = {3, 2, 1, 0};
static const char *const plane_name[4] = {"alpha", "red", "green", "blue"};

/* ---- encoding ---------------------------------------------------------------------------- */

typedef struct planar_out {
    uint8_t *p;
    size_t cap, n;
    int over; /* something did not fit */
} planar_out;

static void put(planar_out *o, uint8_t b)
{
    if (o->n < o->cap)
        o->p[o->n++] = b;
    else
        o->over = 1;
}

/* controlByte (2.2.2.5.1.3): nRunLength in the low nibble, cRawBytes in the high one. */
static void put_control(planar_out *o, unsigned run, unsigned raw)
{
    put(o, (uint8_t)((run & 0x0F) | ((raw & 0x0F) << 4)));
}

/* One segment: raw (0-15) values, then a run of n (0, or at least 3) copies of the last value. A
 * run of 1 or 2 cannot be written (those nibbles mean 16+ and 32+), so the caller never asks for
 * one and the splitting below never leaves one: a run over 15 after raw values, or over 47 alone,
 * goes on in segments without raw values, each 3 to 47 long. */
static void put_segment(planar_out *o, const uint8_t *raw, unsigned r, unsigned n)
{
    if (r > 0) {
        unsigned c = n <= 15 ? n : (n - 15 < 3 ? 12 : 15);
        put_control(o, c, r);
        for (unsigned i = 0; i < r; i++)
            put(o, raw[i]);
        n -= c;
    }
    while (n > 0) {
        unsigned c = n <= 47 ? n : (n - 47 < 3 ? 44 : 47);
        if (c >= 32)
            put_control(o, 2, c - 32);
        else if (c >= 16)
            put_control(o, 1, c - 16);
        else
            put_control(o, c, 0);
        n -= c;
    }
}

/* One scanline of plane bytes b (w of them) as segments: raw values until at least 3 bytes repeat
 * the last one (0 at the scanline's start, as the decoder starts), then that run. */
static void put_scanline(planar_out *o, const uint8_t *b, unsigned w)
{
    unsigned pos = 0, start = 0;
    while (pos < w) {
        uint8_t last = pos ? b[pos - 1] : 0;
        unsigned k = 0;
        while (pos + k < w && b[pos + k] == last)
            k++;
        if (k >= 3) {
            put_segment(o, b + start, pos - start, k);
            pos += k;
            start = pos;
            continue;
        }
        pos++;
        if (pos - start == 15) {
            put_segment(o, b + start, 15, 0);
            start = pos;
        }
    }
    if (pos > start)
        put_segment(o, b + start, pos - start, 0);
}

/* Scanline y of channel ch as the RLE plane holds it: values on the first scanline, on the others
 * the delta to the scanline before, modulo 256, in the sign-magnitude byte of 3.1.9.2.3. */
static void plane_scanline(const uint8_t *bits, unsigned w, unsigned y, int ch, uint8_t *line)
{
    const uint8_t *row = bits + (size_t)y * w * 4 + ch;
    if (y == 0) {
        for (unsigned x = 0; x < w; x++)
            line[x] = row[4 * (size_t)x];
        return;
    }
    const uint8_t *prev = row - (size_t)w * 4;
    for (unsigned x = 0; x < w; x++) {
        int d = (int8_t)(uint8_t)(row[4 * (size_t)x] - prev[4 * (size_t)x]);
        line[x] = d >= 0 ? (uint8_t)(d << 1) : (uint8_t)(((-d) << 1) - 1);
    }
}

size_t ws_planar_encode(const uint8_t *bits, unsigned w, unsigned h, uint8_t *out, size_t cap)
{
    if (!w || !h || w > WS_PLANAR_DIM_MAX || h > WS_PLANAR_DIM_MAX)
        return 0;
    uint8_t line[WS_PLANAR_DIM_MAX];
    planar_out o = {.p = out, .cap = cap};
    put(&o, WS_PLANAR_RLE); /* CLL 0 (RGB), no CS, RLE, alpha present */
    for (int i = 0; i < 4; i++)
        for (unsigned y = 0; y < h && !o.over; y++) {
            plane_scanline(bits, w, y, plane_channel[i], line);
            put_scanline(&o, line, w);
        }
    return o.over ? 0 : o.n;
}

/* ---- decoding ---------------------------------------------------------------------------- */

/* Pixel x of a scanline from its plane byte v: a value on the first scanline (prev NULL), else a
 * delta to prev. */
static void set_value(uint8_t *row, const uint8_t *prev, unsigned x, uint8_t v)
{
    if (!prev) {
        row[4 * (size_t)x] = v;
        return;
    }
    int d = (v & 1) ? -(int)((v >> 1) + 1) : (int)(v >> 1);
    row[4 * (size_t)x] = (uint8_t)(prev[4 * (size_t)x] + d);
}

/* One RDP6_RLE_PLANE from p[*off] into channel ch of out. */
static int decode_rle_plane(const uint8_t *p, size_t len, size_t *off, unsigned w, unsigned h, uint8_t *out,
                            int plane, ws_error *e)
{
    const char *name = plane_name[plane];
    for (unsigned y = 0; y < h; y++) {
        uint8_t *row = out + (size_t)y * w * 4 + plane_channel[plane];
        const uint8_t *prev = y ? row - (size_t)w * 4 : NULL;
        uint8_t last = 0;
        for (unsigned x = 0; x < w;) {
            size_t at = *off;
            if (at >= len)
                return ws_seterr(e, "planar: %s plane: truncated in the controlByte of scanline %u at offset %zu "
                                    "(1 byte needed, 0 left)", name, y, at);
            uint8_t cb = p[(*off)++];
            unsigned run = cb & 0x0F, raw = cb >> 4;
            if (run == 1 || run == 2) {
                run = raw + (run == 1 ? 16 : 32);
                raw = 0;
            }
            if (!run && !raw)
                return ws_seterr(e, "planar: %s plane: the segment at offset %zu (controlByte 0x00) covers no pixel",
                                 name, at);
            if (raw + run > w - x)
                return ws_seterr(e, "planar: %s plane: the segment at offset %zu gives %u pixels, scanline %u has %u "
                                    "left", name, at, raw + run, y, w - x);
            if (raw > len - *off)
                return ws_seterr(e, "planar: %s plane: truncated in the raw values of scanline %u at offset %zu "
                                    "(%u bytes needed, %zu left)", name, y, *off, raw, len - *off);
            for (unsigned i = 0; i < raw; i++) {
                last = p[(*off)++];
                set_value(row, prev, x++, last);
            }
            for (unsigned i = 0; i < run; i++)
                set_value(row, prev, x++, last);
        }
    }
    return 0;
}

/* One raw plane (w * h values, no deltas) from p[*off] into its channel of out. */
static int decode_raw_plane(const uint8_t *p, size_t len, size_t *off, unsigned w, unsigned h, uint8_t *out,
                            int plane, ws_error *e)
{
    size_t need = (size_t)w * h;
    if (need > len - *off)
        return ws_seterr(e, "planar: %s plane: truncated raw plane at offset %zu (%zu bytes needed, %zu left)",
                         plane_name[plane], *off, need, len - *off);
    uint8_t *px = out + plane_channel[plane];
    for (size_t i = 0; i < need; i++)
        px[4 * i] = p[(*off)++];
    return 0;
}

int ws_planar_decode(const uint8_t *p, size_t len, unsigned w, unsigned h, uint8_t *out, size_t cap, ws_error *e)
{
    if (!w || !h || w > WS_PLANAR_DIM_MAX || h > WS_PLANAR_DIM_MAX)
        return ws_seterr(e, "planar: a bitmap of %ux%u (1 to %d pixels each way)", w, h, WS_PLANAR_DIM_MAX);
    if (cap < (size_t)w * h * 4)
        return ws_seterr(e, "planar: %zu bytes of output for a bitmap of %ux%u (%zu needed)", cap, w, h,
                         (size_t)w * h * 4);
    if (len < 1)
        return ws_seterr(e, "planar: truncated in FormatHeader at offset 0 (1 byte needed, 0 left)");
    uint8_t fh = p[0];
    if (fh & WS_PLANAR_CLL_MASK)
        return ws_seterr(e, "planar: FormatHeader 0x%02X: color loss level %u (YCoCg planes) was not announced "
                            "(DRAW_ALLOW_DYNAMIC_COLOR_FIDELITY)", fh, fh & WS_PLANAR_CLL_MASK);
    if (fh & WS_PLANAR_CS)
        return ws_seterr(e, "planar: FormatHeader 0x%02X: chroma subsampling needs YCoCg planes", fh);
    size_t off = 1;
    int alpha = !(fh & WS_PLANAR_NA);
    for (int i = alpha ? 0 : 1; i < 4; i++) {
        int rc = (fh & WS_PLANAR_RLE) ? decode_rle_plane(p, len, &off, w, h, out, i, e)
                                      : decode_raw_plane(p, len, &off, w, h, out, i, e);
        if (rc != 0)
            return -1;
    }
    if (!alpha)
        for (size_t i = 0; i < (size_t)w * h; i++)
            out[4 * i + 3] = 0xFF;
    if (len - off > 1) /* at most the Pad byte */
        return ws_seterr(e, "planar: %zu bytes after the planes at offset %zu (at most a Pad byte)", len - off, off);
    return 0;
}
