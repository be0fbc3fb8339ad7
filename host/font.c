/* SPDX-License-Identifier: Apache-2.0 */
/* font: see font.h. PSF layouts: PSF1 (magic 36 04, mode, charsize; 256 or 512 glyphs
 * of 8 x charsize; an optional Unicode table of u16 entries ending in FFFF) and PSF2
 * (magic 72 B5 4A 86, then u32 version, headersize, flags, length, charsize, height,
 * width; an optional UTF-8 Unicode table ending in FF per glyph). */
#include "font.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FONT_FILE_MAX (4 * 1024 * 1024)

static uint32_t u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int read_gz(const char *path, uint8_t **out, size_t *len, ws_error *e)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return ws_seterr(e, "cannot open the console font %s", path);
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= FONT_FILE_MAX) {
                gzclose(gz);
                free(buf);
                return ws_seterr(e, "the console font %s is too large", path);
            }
            cap *= 2;
            buf = realloc(buf, cap);
        }
        if (!buf)
            abort();
        int r = gzread(gz, buf + n, (unsigned)(cap - n));
        if (r < 0) {
            gzclose(gz);
            free(buf);
            return ws_seterr(e, "cannot read the console font %s", path);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    gzclose(gz);
    *out = buf;
    *len = n;
    return 0;
}

int host_font_load(const char *path, host_font *f, ws_error *e)
{
    memset(f, 0, sizeof *f);
    uint8_t *d = NULL;
    size_t len = 0;
    if (read_gz(path, &d, &len, e) != 0)
        return -1;
    size_t glyph_off, table_off = 0;
    int has_table = 0, psf2 = 0;
    if (len >= 4 && d[0] == 0x36 && d[1] == 0x04) {
        f->count = (d[2] & 0x01) ? 512 : 256;
        has_table = (d[2] & 0x06) != 0;
        f->height = d[3];
        f->width = 8;
        f->bytes_per_row = 1;
        glyph_off = 4;
    } else if (len >= 32 && u32le(d) == 0x864AB572u) {
        psf2 = 1;
        glyph_off = u32le(d + 8);
        has_table = u32le(d + 12) & 1;
        f->count = (int)u32le(d + 16);
        f->height = (int)u32le(d + 24);
        f->width = (int)u32le(d + 28);
        f->bytes_per_row = (f->width + 7) / 8;
        if (u32le(d + 20) != (uint32_t)(f->height * f->bytes_per_row)) {
            free(d);
            return ws_seterr(e, "%s: inconsistent PSF2 glyph size", path);
        }
    } else {
        free(d);
        return ws_seterr(e, "%s is not a PSF console font", path);
    }
    size_t glyph_bytes = (size_t)f->height * (size_t)f->bytes_per_row;
    if (f->count <= 0 || f->count > 4096 || f->height <= 0 || f->height > 64 || f->width <= 0 || f->width > 32 ||
        glyph_off > len || (len - glyph_off) / glyph_bytes < (size_t)f->count) {
        free(d);
        return ws_seterr(e, "%s: glyphs out of bounds", path);
    }
    f->glyphs = malloc(glyph_bytes * (size_t)f->count);
    if (!f->glyphs)
        abort();
    memcpy(f->glyphs, d + glyph_off, glyph_bytes * (size_t)f->count);
    for (int c = 0; c < 256; c++)
        f->map[c] = (uint16_t)(c < f->count ? c : 0);
    table_off = glyph_off + glyph_bytes * (size_t)f->count;
    if (has_table) {
        /* Map Latin-1 code points to glyphs through the font's own Unicode table. */
        int g = 0;
        size_t p = table_off;
        while (p < len && g < f->count) {
            if (!psf2) {
                if (p + 1 >= len)
                    break;
                unsigned v = d[p] | (unsigned)d[p + 1] << 8;
                p += 2;
                if (v == 0xFFFF) {
                    g++;
                    continue;
                }
                if (v < 256 && v != 0xFFFE)
                    f->map[v] = (uint16_t)g;
            } else {
                uint8_t b = d[p];
                if (b == 0xFF) {
                    g++;
                    p++;
                    continue;
                }
                unsigned v;
                if (b < 0x80) {
                    v = b;
                    p++;
                } else if ((b & 0xE0) == 0xC0 && p + 1 < len) {
                    v = (unsigned)(b & 0x1F) << 6 | (d[p + 1] & 0x3F);
                    p += 2;
                } else {
                    p++;
                    while (p < len && (d[p] & 0xC0) == 0x80)
                        p++;
                    continue;
                }
                if (v < 256)
                    f->map[v] = (uint16_t)g;
            }
        }
    }
    free(d);
    return 0;
}

void host_font_free(host_font *f)
{
    free(f->glyphs);
    memset(f, 0, sizeof *f);
}

int host_font_pixel(const host_font *f, unsigned c, int x, int y)
{
    unsigned g = c < 256 ? f->map[c] : f->map['?'];
    const uint8_t *row = f->glyphs + ((size_t)g * (size_t)f->height + (size_t)y) * (size_t)f->bytes_per_row;
    return (row[x / 8] >> (7 - x % 8)) & 1;
}
