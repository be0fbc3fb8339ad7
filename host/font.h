/* SPDX-License-Identifier: Apache-2.0 */
/* font: a Linux console font (PSF1 or PSF2, gzip-compressed as Debian ships them in
 * /usr/share/consolefonts), read at start, to draw the VM console in a real bitmap
 * font. */
#ifndef WAPSIM_HOST_FONT_H
#define WAPSIM_HOST_FONT_H

#include <stdint.h>

#include "base/util.h"

#define HOST_FONT_DEFAULT "/usr/share/consolefonts/Lat15-VGA16.psf.gz"

typedef struct host_font {
    int width, height;    /* pixels of one glyph */
    int count;            /* glyphs */
    int bytes_per_row;
    uint8_t *glyphs;      /* count * height * bytes_per_row */
    uint16_t map[256];    /* Latin-1 code point -> glyph (from the font's Unicode table) */
} host_font;

int host_font_load(const char *path, host_font *f, ws_error *e);
void host_font_free(host_font *f);
/* 1 when pixel (x, y) of the glyph for code point c is set. */
int host_font_pixel(const host_font *f, unsigned c, int x, int y);

#endif
