/* SPDX-License-Identifier: Apache-2.0 */
/* buf: the one growable byte buffer, and a growable list of strings. A buffer gets
 * its maximum when it is made; growing past it frees the contents and fails, so a
 * peer cannot make a process hold more than its caller allowed (curl's dynbuf).
 * The contents always end in a NUL byte not counted in len, so text can be read
 * as a C string. Consumed bytes at the front are dropped lazily (an offset), so a
 * queue does not move memory on every read. The owner frees with ws_buf_free. */
#ifndef WAPSIM_BUF_H
#define WAPSIM_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* Each caller's limit, named once. */
#define WS_BUF_MAX_HTTP_BODY (4u << 20)   /* an HTTP body a lab client reads (a .rdp, JSON) */
#define WS_BUF_MAX_SUBPROCESS (1u << 20)  /* a wapsim child's output a runner keeps */
#define WS_BUF_MAX_TEXT_FILE (4u << 20)   /* a text file read whole (.scn, .rdp, .pem) */
#define WS_BUF_MAX_RELAY (1u << 20)       /* one direction of a relayed connection */
#define WS_BUF_MAX_REPORT (16u << 20)     /* a report a command writes (TAP, JUnit, JSON) */
#define WS_BUF_MAX_VM_LIST (4u << 20)     /* the lab's VMs as a ws_vm array (some 10,000) */
#define WS_BUF_MAX_GATEWAY_QUEUE (4u << 20) /* one gateway queue: its 1 MiB backlog mark and one round of reads */
#define WS_BUF_MAX_CERT_TEXT (1u << 20)   /* a certificate's subject, SAN or EKU list as text */
#define WS_BUF_MAX_RDP_SIGNED (4u << 20)  /* an .rdp file's signed text, UTF-16LE (2 x WS_RDP_FILE_MAX) */
#define WS_BUF_MAX_CLIENT_LINK (1u << 20) /* bytes a lab client has from a gateway or host, not yet used */

typedef struct ws_buf {
    unsigned char *p; /* the allocation; unread bytes are p[off..len) */
    size_t off;       /* bytes consumed at the front */
    size_t len;       /* end of the data, from p */
    size_t cap;       /* bytes allocated */
    size_t max;       /* the most unread bytes it may hold */
} ws_buf;

/* An empty buffer that will hold at most max bytes; allocates nothing yet. */
void ws_buf_init(ws_buf *b, size_t max);
/* Append n bytes. 0, or -1 when that would pass max (the buffer is then emptied and freed). */
int ws_buf_add(ws_buf *b, const void *data, size_t n);
int ws_buf_adds(ws_buf *b, const char *s);
int ws_buf_addf(ws_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ws_buf_vaddf(ws_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* The unread bytes, NUL-terminated (a valid empty string before the first add). */
unsigned char *ws_buf_data(const ws_buf *b);
const char *ws_buf_str(const ws_buf *b);
size_t ws_buf_len(const ws_buf *b);
/* Drop n unread bytes from the front (all of them when n >= len). */
void ws_buf_consume(ws_buf *b, size_t n);
/* Empty it, keeping the allocation. */
void ws_buf_reset(ws_buf *b);
/* Hand the contents to the caller as a malloc'ed NUL-terminated string (never
 * NULL: "" when empty) and leave the buffer empty; *len gets its length if given. */
char *ws_buf_take(ws_buf *b, size_t *len);
void ws_buf_free(ws_buf *b);

/* A list of strings, each its own copy. */
typedef struct ws_strv {
    char **v; /* n strings, then NULL (once anything was added) */
    int n;
} ws_strv;

/* Append a copy of s; 0, or -1 when out of memory. */
int ws_strv_add(ws_strv *l, const char *s);
int ws_strv_addf(ws_strv *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 when l holds a string equal to s. */
int ws_strv_has(const ws_strv *l, const char *s);
void ws_strv_free(ws_strv *l);

#endif
