/* SPDX-License-Identifier: Apache-2.0 */
/* bytes: the one bounded byte reader and writer every wire format is read and
 * written with (openssh's sshbuf getters, IronRDP's cursors). Neither allocates:
 * a reader looks into the caller's bytes, a writer fills the caller's array or
 * appends to the caller's ws_buf, and the caller frees whatever it owns.
 *
 * A reader covers (pointer, length) and carries the name of the structure being
 * read, so that every getter, on running out, fills ws_error with the one
 * truncation message of the code base:
 *     x224_cr: truncated in length at offset 2 (2 bytes needed, 1 left)
 * The offset counts from the start of the outermost reader, also inside a
 * sub-reader. Getters check the length first, leave their output untouched on
 * failure and return 0 or WS_BYTES_TRUNCATED. Little-endian by default; the _be
 * getters and puts are big-endian (network order).
 *
 * A writer's puts return 0 or WS_BYTES_FULL; once one has failed the writer stays
 * failed (every later put refuses too), so an encoder may write all its fields
 * and check once at the end with ws_wr_done. */
#ifndef WAPSIM_BYTES_H
#define WAPSIM_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/util.h"

#define WS_BYTES_TRUNCATED (-1) /* a reader ran out */
#define WS_BYTES_FULL (-2)      /* a writer would pass its capacity (or its ws_buf's max) */

/* "truncated" or "no room", for a WS_BYTES_* code. */
const char *ws_bytes_err(int code);

typedef struct ws_rd {
    const uint8_t *p; /* the bytes this reader may read: p[0..len) */
    size_t len;
    size_t off;       /* the next byte to read, from p */
    size_t base;      /* offset of p in the outermost reader, for messages */
    const char *name; /* the structure's name, first word of messages */
    ws_error *e;      /* where failures are written; may be NULL */
} ws_rd;

/* A reader over len bytes at p (p may be NULL when len is 0). */
void ws_rd_init(ws_rd *r, const void *p, size_t len, const char *name, ws_error *e);
/* The same, as a value: ws_rd r = ws_rd_new(p, len, "x224_cr", e). */
ws_rd ws_rd_new(const void *p, size_t len, const char *name, ws_error *e);
/* Bytes not yet read. */
size_t ws_rd_remaining(const ws_rd *r);
/* The position, counted from the start of the outermost reader. */
size_t ws_rd_offset(const ws_rd *r);
/* The next unread byte (valid for ws_rd_remaining bytes). */
const uint8_t *ws_rd_ptr(const ws_rd *r);
/* 0 when n bytes remain for field, else WS_BYTES_TRUNCATED with the message. */
int ws_rd_need(ws_rd *r, size_t n, const char *field);

int ws_rd_u8(ws_rd *r, const char *field, uint8_t *v);
int ws_rd_u16(ws_rd *r, const char *field, uint16_t *v);
int ws_rd_u32(ws_rd *r, const char *field, uint32_t *v);
int ws_rd_u64(ws_rd *r, const char *field, uint64_t *v);
int ws_rd_u16_be(ws_rd *r, const char *field, uint16_t *v);
int ws_rd_u32_be(ws_rd *r, const char *field, uint32_t *v);
int ws_rd_u64_be(ws_rd *r, const char *field, uint64_t *v);
/* n bytes in place: *out points into the reader's bytes (out may be NULL). */
int ws_rd_bytes(ws_rd *r, size_t n, const char *field, const uint8_t **out);
/* n bytes copied into out. */
int ws_rd_copy(ws_rd *r, size_t n, const char *field, void *out);
int ws_rd_skip(ws_rd *r, size_t n, const char *field);
/* The next n bytes as a reader of their own, capped at n, so an inner decoder cannot
 * read its parent's bytes; the parent moves past them. name NULL keeps the parent's. */
int ws_rd_sub(ws_rd *r, size_t n, const char *field, const char *name, ws_rd *out);
/* 0 when everything was read, else fills ws_error ("N unexpected bytes at offset O
 * after <after>") and returns -1. */
int ws_rd_end(ws_rd *r, const char *after);

typedef struct ws_wr {
    uint8_t *p;  /* the caller's array (NULL when writing to a ws_buf) */
    size_t cap;  /* its size */
    size_t off;  /* bytes written */
    ws_buf *buf; /* the ws_buf appended to, or NULL */
    size_t start; /* where this writer's bytes begin in buf */
    int failed;  /* a put refused: the writer refuses every later put */
} ws_wr;

/* A writer filling cap bytes at p. */
void ws_wr_init(ws_wr *w, void *p, size_t cap);
ws_wr ws_wr_new(void *p, size_t cap);
/* A writer appending to b (up to b's max; past it the ws_buf frees its contents). */
void ws_wr_init_buf(ws_wr *w, ws_buf *b);

int ws_wr_u8(ws_wr *w, uint8_t v);
int ws_wr_u16(ws_wr *w, uint16_t v);
int ws_wr_u32(ws_wr *w, uint32_t v);
int ws_wr_u64(ws_wr *w, uint64_t v);
int ws_wr_u16_be(ws_wr *w, uint16_t v);
int ws_wr_u32_be(ws_wr *w, uint32_t v);
int ws_wr_u64_be(ws_wr *w, uint64_t v);
/* src may overlap the writer's array (a payload moved into place behind a header). */
int ws_wr_bytes(ws_wr *w, const void *src, size_t n);
int ws_wr_zero(ws_wr *w, size_t n);
/* A u16 byte count, then s as UTF-16LE with its NUL (MS-TSGU HTTP_UNICODE_STRING, the
 * RDSTLS strings as FreeRDP's rdstls_write_string writes them). The writer fails when s
 * is NULL, not valid UTF-8, or over max_utf8 bytes, or when max_utf8 is over
 * WS_WR_UTF16_MAX. */
#define WS_WR_UTF16_MAX 8192
int ws_wr_utf16_counted(ws_wr *w, const char *s, size_t max_utf8);
/* Overwrite 2 bytes already written at offset at (a length known only at the end). */
int ws_wr_u16_at(ws_wr *w, size_t at, uint16_t v);
int ws_wr_u32_at(ws_wr *w, size_t at, uint32_t v);
int ws_wr_u16_be_at(ws_wr *w, size_t at, uint16_t v);
/* Bytes written so far. */
size_t ws_wr_len(const ws_wr *w);
/* Bytes left before the cap (SIZE_MAX-ish for a ws_buf: its max minus its length). */
size_t ws_wr_room(const ws_wr *w);
/* Mark the writer failed (an encoder's own check refused a value). */
void ws_wr_fail(ws_wr *w);
/* The bytes written, or 0 when any put refused: an encoder's return value. */
size_t ws_wr_done(const ws_wr *w);

#endif
