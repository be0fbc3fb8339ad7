/* SPDX-License-Identifier: Apache-2.0 */
/* bytes: see bytes.h. */
#include "base/bytes.h"

#include <string.h>

#include "base/utf16.h"

/* The fixed-width integers read and written (ws_rd_<sfx>, ws_wr_<sfx>): suffix, type,
 * bytes, big-endian. */
#define UINTS(X)                                                                                                      \
    X(u16, uint16_t, 2, 0)                                                                                            \
    X(u32, uint32_t, 4, 0)                                                                                            \
    X(u64, uint64_t, 8, 0)                                                                                            \
    X(u16_be, uint16_t, 2, 1)                                                                                         \
    X(u32_be, uint32_t, 4, 1)                                                                                         \
    X(u64_be, uint64_t, 8, 1)

const char *ws_bytes_err(int code)
{
    switch (code) {
    case 0:
        return "ok";
    case WS_BYTES_TRUNCATED:
        return "truncated";
    case WS_BYTES_FULL:
        return "no room";
    default:
        return "unknown error";
    }
}

/* ---- reader ---- */

void ws_rd_init(ws_rd *r, const void *p, size_t len, const char *name, ws_error *e)
{
    r->p = p;
    r->len = p ? len : 0;
    r->off = 0;
    r->base = 0;
    r->name = name;
    r->e = e;
}

ws_rd ws_rd_new(const void *p, size_t len, const char *name, ws_error *e)
{
    ws_rd r;
    ws_rd_init(&r, p, len, name, e);
    return r;
}

size_t ws_rd_remaining(const ws_rd *r)
{
    return r->len - r->off;
}

size_t ws_rd_offset(const ws_rd *r)
{
    return r->base + r->off;
}

const uint8_t *ws_rd_ptr(const ws_rd *r)
{
    return r->p + r->off;
}

int ws_rd_need(ws_rd *r, size_t n, const char *field)
{
    if (ws_rd_remaining(r) >= n)
        return 0;
    ws_seterr(r->e, "%s: truncated in %s at offset %zu (%zu bytes needed, %zu left)", r->name, field,
              ws_rd_offset(r), n, ws_rd_remaining(r));
    return WS_BYTES_TRUNCATED;
}

/* An unsigned integer of n bytes, little- or big-endian. */
static int get_uint(ws_rd *r, const char *field, size_t n, int be, uint64_t *v)
{
    if (ws_rd_need(r, n, field))
        return WS_BYTES_TRUNCATED;
    const uint8_t *q = r->p + r->off;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)q[i] << (8 * (be ? n - 1 - i : i));
    r->off += n;
    *v = x;
    return 0;
}

int ws_rd_u8(ws_rd *r, const char *field, uint8_t *v)
{
    if (ws_rd_need(r, 1, field))
        return WS_BYTES_TRUNCATED;
    *v = r->p[r->off++];
    return 0;
}

#define GETTER(sfx, type, n, be)                                                                                      \
    int ws_rd_##sfx(ws_rd *r, const char *field, type *v)                                                             \
    {                                                                                                                 \
        uint64_t x;                                                                                                   \
        if (get_uint(r, field, n, be, &x))                                                                            \
            return WS_BYTES_TRUNCATED;                                                                                \
        *v = (type)x;                                                                                                 \
        return 0;                                                                                                     \
    }

UINTS(GETTER)

int ws_rd_bytes(ws_rd *r, size_t n, const char *field, const uint8_t **out)
{
    if (ws_rd_need(r, n, field))
        return WS_BYTES_TRUNCATED;
    if (out)
        *out = r->p + r->off;
    r->off += n;
    return 0;
}

int ws_rd_copy(ws_rd *r, size_t n, const char *field, void *out)
{
    if (ws_rd_need(r, n, field))
        return WS_BYTES_TRUNCATED;
    if (n)
        memcpy(out, r->p + r->off, n);
    r->off += n;
    return 0;
}

int ws_rd_skip(ws_rd *r, size_t n, const char *field)
{
    return ws_rd_bytes(r, n, field, NULL);
}

int ws_rd_sub(ws_rd *r, size_t n, const char *field, const char *name, ws_rd *out)
{
    if (ws_rd_need(r, n, field))
        return WS_BYTES_TRUNCATED;
    out->p = r->p + r->off;
    out->len = n;
    out->off = 0;
    out->base = ws_rd_offset(r);
    out->name = name ? name : r->name;
    out->e = r->e;
    r->off += n;
    return 0;
}

int ws_rd_end(ws_rd *r, const char *after)
{
    if (!ws_rd_remaining(r))
        return 0;
    return ws_seterr(r->e, "%s: %zu unexpected bytes at offset %zu after %s", r->name, ws_rd_remaining(r),
                     ws_rd_offset(r), after);
}

/* ---- writer ---- */

void ws_wr_init(ws_wr *w, void *p, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->p = p;
    w->cap = p ? cap : 0;
}

ws_wr ws_wr_new(void *p, size_t cap)
{
    ws_wr w;
    ws_wr_init(&w, p, cap);
    return w;
}

void ws_wr_init_buf(ws_wr *w, ws_buf *b)
{
    memset(w, 0, sizeof *w);
    w->buf = b;
    w->start = ws_buf_len(b);
}

size_t ws_wr_room(const ws_wr *w)
{
    if (w->failed)
        return 0;
    if (w->buf)
        return ws_buf_len(w->buf) >= w->buf->max ? 0 : w->buf->max - ws_buf_len(w->buf);
    return w->cap - w->off;
}

/* Room for n more bytes, or the writer fails (and the ws_buf is left as it was). */
static int room(ws_wr *w, size_t n)
{
    if (w->failed || ws_wr_room(w) < n) {
        w->failed = 1;
        return 0;
    }
    return 1;
}

int ws_wr_bytes(ws_wr *w, const void *src, size_t n)
{
    if (!room(w, n))
        return WS_BYTES_FULL;
    if (w->buf) {
        if (ws_buf_add(w->buf, src, n)) {
            w->failed = 1;
            return WS_BYTES_FULL;
        }
    } else if (n) {
        memmove(w->p + w->off, src, n); /* src may be the writer's own array (a payload wrapped in place) */
    }
    w->off += n;
    return 0;
}

int ws_wr_zero(ws_wr *w, size_t n)
{
    static const uint8_t zeros[256];
    while (n) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        if (!room(w, n) || ws_wr_bytes(w, zeros, k))
            return WS_BYTES_FULL;
        n -= k;
    }
    return w->failed ? WS_BYTES_FULL : 0;
}

/* An unsigned integer as n bytes, little- or big-endian. */
static int put_uint(ws_wr *w, uint64_t v, size_t n, int be)
{
    uint8_t q[8];
    for (size_t i = 0; i < n; i++)
        q[be ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
    return ws_wr_bytes(w, q, n);
}

int ws_wr_u8(ws_wr *w, uint8_t v)
{
    return ws_wr_bytes(w, &v, 1);
}

#define PUTTER(sfx, type, n, be)                                                                                      \
    int ws_wr_##sfx(ws_wr *w, type v)                                                                                 \
    {                                                                                                                 \
        return put_uint(w, v, n, be);                                                                                 \
    }

UINTS(PUTTER)

int ws_wr_utf16_counted(ws_wr *w, const char *s, size_t max_utf8)
{
    uint8_t u16[2 * WS_WR_UTF16_MAX + 2]; /* a UTF-8 byte is at most 2 UTF-16 bytes */
    long n;
    if (!s || max_utf8 > WS_WR_UTF16_MAX || strnlen(s, max_utf8 + 1) > max_utf8 ||
        (n = ws_utf8_to_utf16le(s, u16, sizeof u16 - 2)) < 0) {
        ws_wr_fail(w);
        return WS_BYTES_FULL;
    }
    u16[n] = u16[n + 1] = 0;
    ws_wr_u16(w, (uint16_t)(n + 2));
    return ws_wr_bytes(w, u16, (size_t)n + 2);
}

/* Overwrite n bytes already written at offset at with v, little- or big-endian. */
static int put_at(ws_wr *w, size_t at, uint64_t v, size_t n, int be)
{
    if (w->failed || at > w->off || w->off - at < n) {
        w->failed = 1;
        return WS_BYTES_FULL;
    }
    uint8_t *q = (w->buf ? ws_buf_data(w->buf) + w->start : w->p) + at;
    for (size_t i = 0; i < n; i++)
        q[be ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
    return 0;
}

int ws_wr_u16_at(ws_wr *w, size_t at, uint16_t v)
{
    return put_at(w, at, v, 2, 0);
}

int ws_wr_u32_at(ws_wr *w, size_t at, uint32_t v)
{
    return put_at(w, at, v, 4, 0);
}

int ws_wr_u16_be_at(ws_wr *w, size_t at, uint16_t v)
{
    return put_at(w, at, v, 2, 1);
}

size_t ws_wr_len(const ws_wr *w)
{
    return w->off;
}

void ws_wr_fail(ws_wr *w)
{
    w->failed = 1;
}

size_t ws_wr_done(const ws_wr *w)
{
    return w->failed ? 0 : w->off;
}
