/* SPDX-License-Identifier: Apache-2.0 */
/* buf: see buf.h. */
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char empty[1];

void ws_buf_init(ws_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

/* Room for more bytes plus the NUL; slides unread bytes down before growing. */
static int reserve(ws_buf *b, size_t more)
{
    size_t unread = b->len - b->off;
    if (more > b->max || unread > b->max - more) {
        ws_buf_free(b);
        return -1;
    }
    if (b->len + more + 1 <= b->cap)
        return 0;
    if (b->off) {
        memmove(b->p, b->p + b->off, unread);
        b->len = unread;
        b->off = 0;
        b->p[b->len] = 0;
        if (b->len + more + 1 <= b->cap)
            return 0;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
        ws_buf_free(b);
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int ws_buf_add(ws_buf *b, const void *data, size_t n)
{
    if (reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

int ws_buf_adds(ws_buf *b, const char *s)
{
    return ws_buf_add(b, s, strlen(s));
}

int ws_buf_vaddf(ws_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || reserve(b, (size_t)n) != 0)
        return -1;
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int ws_buf_addf(ws_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ws_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

unsigned char *ws_buf_data(const ws_buf *b)
{
    return b->p ? b->p + b->off : (unsigned char *)empty;
}

const char *ws_buf_str(const ws_buf *b)
{
    return (const char *)ws_buf_data(b);
}

size_t ws_buf_len(const ws_buf *b)
{
    return b->len - b->off;
}

void ws_buf_consume(ws_buf *b, size_t n)
{
    if (n >= b->len - b->off) {
        ws_buf_reset(b);
        return;
    }
    b->off += n;
}

void ws_buf_reset(ws_buf *b)
{
    b->off = b->len = 0;
    if (b->p)
        b->p[0] = 0;
}

char *ws_buf_take(ws_buf *b, size_t *len)
{
    size_t n = ws_buf_len(b);
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, ws_buf_data(b), n);
        out[n] = 0;
    }
    if (len)
        *len = out ? n : 0;
    ws_buf_reset(b);
    return out;
}

void ws_buf_free(ws_buf *b)
{
    free(b->p);
    size_t max = b->max;
    memset(b, 0, sizeof *b);
    b->max = max;
}

int ws_strv_add(ws_strv *l, const char *s)
{
    char *copy = strdup(s);
    char **v = copy ? realloc(l->v, (size_t)(l->n + 2) * sizeof *v) : NULL;
    if (!v) {
        free(copy);
        return -1;
    }
    v[l->n++] = copy;
    v[l->n] = NULL;
    l->v = v;
    return 0;
}

int ws_strv_addf(ws_strv *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    int rc = ws_strv_add(l, s);
    free(s);
    return rc;
}

int ws_strv_has(const ws_strv *l, const char *s)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

void ws_strv_free(ws_strv *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
