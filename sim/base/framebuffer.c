/* SPDX-License-Identifier: Apache-2.0 */
/* framebuffer: see framebuffer.h. */
#include "base/framebuffer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ws_framebuffer_init(ws_framebuffer *f, int width, int height)
{
    memset(f, 0, sizeof *f);
    if (width <= 0 || height <= 0 || width > 8192 || height > 8192)
        return -1;
    f->bgrx = calloc((size_t)width * (size_t)height, 4);
    if (!f->bgrx)
        return -1;
    f->width = width;
    f->height = height;
    return 0;
}

void ws_framebuffer_free(ws_framebuffer *f)
{
    free(f->bgrx);
    memset(f, 0, sizeof *f);
}

int ws_framebuffer_write_ppm(const ws_framebuffer *f, const char *path, ws_error *e)
{
    char head[64];
    int hl = snprintf(head, sizeof head, "P6\n%d %d\n255\n", f->width, f->height);
    size_t n = (size_t)hl + (size_t)f->width * (size_t)f->height * 3;
    uint8_t *out = malloc(n);
    if (!out)
        return ws_seterr(e, "out of memory");
    memcpy(out, head, (size_t)hl);
    uint8_t *p = out + hl;
    for (size_t i = 0; i < (size_t)f->width * (size_t)f->height; i++) {
        *p++ = f->bgrx[4 * i + 2];
        *p++ = f->bgrx[4 * i + 1];
        *p++ = f->bgrx[4 * i];
    }
    int rc = ws_write_file(path, out, n, 0644, e);
    free(out);
    return rc;
}

/* The next header number of a PPM, skipping whitespace and comments. */
static int ppm_number(const uint8_t *d, size_t len, size_t *pos, long *v)
{
    while (*pos < len) {
        if (d[*pos] == '#') {
            while (*pos < len && d[*pos] != '\n')
                (*pos)++;
        } else if (d[*pos] == ' ' || d[*pos] == '\n' || d[*pos] == '\r' || d[*pos] == '\t') {
            (*pos)++;
        } else {
            break;
        }
    }
    long n = 0;
    int digits = 0;
    while (*pos < len && d[*pos] >= '0' && d[*pos] <= '9' && digits < 6) {
        n = n * 10 + (d[*pos] - '0');
        (*pos)++;
        digits++;
    }
    *v = n;
    return digits ? 0 : -1;
}

int ws_framebuffer_read_ppm(const char *path, ws_framebuffer *f, ws_error *e)
{
    unsigned char *d;
    size_t len, pos = 2;
    if (ws_read_file(path, 64u * 1024 * 1024, &d, &len, e) != 0)
        return -1;
    long w, h, maxval;
    if (len < 2 || d[0] != 'P' || d[1] != '6' || ppm_number(d, len, &pos, &w) != 0 ||
        ppm_number(d, len, &pos, &h) != 0 || ppm_number(d, len, &pos, &maxval) != 0 || maxval != 255 ||
        pos >= len || ws_framebuffer_init(f, (int)w, (int)h) != 0) {
        free(d);
        return ws_seterr(e, "%s is not a P6 PPM with maxval 255", path);
    }
    pos++; /* the single whitespace after maxval */
    if (len - pos < (size_t)w * (size_t)h * 3) {
        free(d);
        ws_framebuffer_free(f);
        return ws_seterr(e, "%s is truncated", path);
    }
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
        f->bgrx[4 * i + 2] = d[pos++];
        f->bgrx[4 * i + 1] = d[pos++];
        f->bgrx[4 * i] = d[pos++];
    }
    free(d);
    return 0;
}

int ws_framebuffer_equal(const ws_framebuffer *a, const ws_framebuffer *b)
{
    if (a->width != b->width || a->height != b->height)
        return 0;
    for (size_t i = 0; i < (size_t)a->width * (size_t)a->height; i++)
        if (memcmp(a->bgrx + 4 * i, b->bgrx + 4 * i, 3) != 0)
            return 0;
    return 1;
}
