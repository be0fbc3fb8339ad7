/* SPDX-License-Identifier: Apache-2.0 */
/* utf16: see utf16.h. */
#include "base/utf16.h"

#include <string.h>

long ws_utf16le_to_utf8(const uint8_t *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if (n % 2 || cap == 0)
        return -1;
    for (size_t i = 0; i + 1 < n; i += 2) {
        uint32_t c = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;
        if (c == 0)
            break;
        if (c >= 0xD800 && c <= 0xDBFF) {
            if (i + 3 >= n)
                return -1;
            uint32_t lo = (uint32_t)in[i + 2] | (uint32_t)in[i + 3] << 8;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return -1;
            c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        } else if (c >= 0xDC00 && c <= 0xDFFF) {
            return -1;
        }
        uint8_t buf[4];
        size_t len;
        if (c < 0x80) {
            buf[0] = (uint8_t)c;
            len = 1;
        } else if (c < 0x800) {
            buf[0] = (uint8_t)(0xC0 | c >> 6);
            buf[1] = (uint8_t)(0x80 | (c & 0x3F));
            len = 2;
        } else if (c < 0x10000) {
            buf[0] = (uint8_t)(0xE0 | c >> 12);
            buf[1] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
            buf[2] = (uint8_t)(0x80 | (c & 0x3F));
            len = 3;
        } else {
            buf[0] = (uint8_t)(0xF0 | c >> 18);
            buf[1] = (uint8_t)(0x80 | (c >> 12 & 0x3F));
            buf[2] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
            buf[3] = (uint8_t)(0x80 | (c & 0x3F));
            len = 4;
        }
        if (o + len + 1 > cap)
            return -1;
        memcpy(out + o, buf, len);
        o += len;
    }
    out[o] = '\0';
    return (long)o;
}

long ws_utf8_to_utf16le(const char *in, uint8_t *out, size_t cap)
{
    const uint8_t *p = (const uint8_t *)in;
    size_t o = 0;
    while (*p) {
        uint32_t c;
        int extra;
        if (*p < 0x80) {
            c = *p;
            extra = 0;
        } else if ((*p & 0xE0) == 0xC0) {
            c = *p & 0x1F;
            extra = 1;
        } else if ((*p & 0xF0) == 0xE0) {
            c = *p & 0x0F;
            extra = 2;
        } else if ((*p & 0xF8) == 0xF0) {
            c = *p & 0x07;
            extra = 3;
        } else {
            return -1;
        }
        p++;
        for (int k = 0; k < extra; k++, p++) {
            if ((*p & 0xC0) != 0x80)
                return -1;
            c = c << 6 | (*p & 0x3F);
        }
        static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
        if (c < min[extra] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return -1;
        if (c >= 0x10000) {
            if (o + 4 > cap)
                return -1;
            uint32_t v = c - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
            out[o++] = (uint8_t)hi;
            out[o++] = (uint8_t)(hi >> 8);
            out[o++] = (uint8_t)lo;
            out[o++] = (uint8_t)(lo >> 8);
        } else {
            if (o + 2 > cap)
                return -1;
            out[o++] = (uint8_t)c;
            out[o++] = (uint8_t)(c >> 8);
        }
    }
    return (long)o;
}
