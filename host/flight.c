/* SPDX-License-Identifier: Apache-2.0 */
/* flight: see flight.h. */
#include "flight.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

typedef struct flight {
    int fd;
    uint8_t *buf;
    size_t len, cap;
    unsigned long sends;
} flight;

static BIO_METHOD *method;
static int method_type;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Everything kept, in as few send() calls as the socket takes (one, unless it is full). */
static int flush_all(flight *f)
{
    int64_t end = mono_ms() + HOST_FLIGHT_WRITE_TIMEOUT_MS;
    size_t off = 0;
    while (off < f->len) {
        ssize_t n = send(f->fd, f->buf + off, f->len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            f->sends++;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int64_t left = end - mono_ms();
            if (left <= 0) {
                errno = ETIMEDOUT;
                break;
            }
            struct pollfd p = {.fd = f->fd, .events = POLLOUT};
            poll(&p, 1, left < 250 ? (int)left : 250);
            continue;
        }
        break; /* errno says why */
    }
    memmove(f->buf, f->buf + off, f->len - off);
    f->len -= off;
    return f->len ? -1 : 0;
}

static int flight_write(BIO *b, const char *data, int n)
{
    flight *f = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0)
        return 0;
    if (f->len + (size_t)n > HOST_FLIGHT_MAX && flush_all(f) != 0)
        return -1;
    if (f->len + (size_t)n > f->cap) {
        size_t cap = f->cap ? f->cap : 16384;
        while (cap < f->len + (size_t)n)
            cap *= 2;
        uint8_t *p = realloc(f->buf, cap);
        if (!p) {
            errno = ENOMEM;
            return -1;
        }
        f->buf = p;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, data, (size_t)n);
    f->len += (size_t)n;
    return n;
}

/* The host turns to read: its flight is over, so it leaves first. */
static int flight_read(BIO *b, char *out, int n)
{
    flight *f = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (f->len && flush_all(f) != 0)
        return -1;
    ssize_t r;
    do
        r = recv(f->fd, out, (size_t)n, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(b);
    return (int)r;
}

static long flight_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    flight *f = BIO_get_data(b);
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1; /* OpenSSL's flush at the end of each message: kept for the flight */
    case BIO_CTRL_WPENDING: return (long)f->len;
    case BIO_CTRL_PENDING: return 0;
    default: return 0;
    }
}

static int flight_create(BIO *b)
{
    BIO_set_init(b, 0);
    return 1;
}

static int flight_destroy(BIO *b)
{
    flight *f = BIO_get_data(b);
    if (f) {
        /* Best effort, never waiting: whatever the host wrote last (an alert) may still go. */
        if (f->len)
            (void)send(f->fd, f->buf, f->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        free(f->buf);
        free(f);
    }
    BIO_set_data(b, NULL);
    return 1;
}

static void method_init(void)
{
    method_type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
    method = BIO_meth_new(method_type, "wapsim host flight");
    if (!method)
        return;
    BIO_meth_set_write(method, flight_write);
    BIO_meth_set_read(method, flight_read);
    BIO_meth_set_ctrl(method, flight_ctrl);
    BIO_meth_set_create(method, flight_create);
    BIO_meth_set_destroy(method, flight_destroy);
}

BIO *host_flight_bio(int fd)
{
    pthread_once(&method_once, method_init);
    if (!method)
        return NULL;
    flight *f = calloc(1, sizeof *f);
    BIO *b = f ? BIO_new(method) : NULL;
    if (!b) {
        free(f);
        return NULL;
    }
    f->fd = fd;
    BIO_set_data(b, f);
    BIO_set_init(b, 1);
    return b;
}

/* ssl's write BIO when it is a flight BIO, else NULL. */
static flight *flight_of(SSL *ssl)
{
    BIO *b = ssl ? SSL_get_wbio(ssl) : NULL;
    return b && method && BIO_method_type(b) == method_type ? BIO_get_data(b) : NULL;
}

int host_flight_flush(SSL *ssl)
{
    flight *f = flight_of(ssl);
    return f && f->len ? flush_all(f) : 0;
}

unsigned long host_flight_sends(SSL *ssl)
{
    flight *f = flight_of(ssl);
    return f ? f->sends : 0;
}
