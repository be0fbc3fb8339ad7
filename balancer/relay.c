/* SPDX-License-Identifier: Apache-2.0 */
/* relay: bytes both ways between a client and its member (balancer.h). Each side has
 * one bounded buffer of what is to be written to it; a side is read only while its
 * peer's buffer has room, so a peer that does not drain stops the reading and TCP's
 * own window pushes back on the sender (backpressure, as curl's bufq "again" does). An
 * end of stream is passed on once what came before it is written (half-close: FIN for
 * TCP, close_notify for TLS); the connection is over when both ways have ended. */
#include "balancer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (64u * 1024)

/* Read into dst's buffer: >0 bytes, 0 end of stream, -1 nothing now, -2 error. */
static int side_read(lb_side *s, unsigned char *into, size_t n)
{
    if (s->ssl) {
        s->ssl_want_write = 0;
        int r = SSL_read(s->ssl, into, (int)n);
        if (r > 0)
            return r;
        int err = SSL_get_error(s->ssl, r);
        if (err == SSL_ERROR_WANT_READ)
            return -1;
        if (err == SSL_ERROR_WANT_WRITE) {
            s->ssl_want_write = 1;
            return -1;
        }
        return err == SSL_ERROR_ZERO_RETURN ? 0 : -2;
    }
    ssize_t r = recv(s->fd, into, n, 0);
    if (r > 0)
        return (int)r;
    if (r == 0)
        return 0;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
}

/* Write: >0 bytes written, -1 not now, -2 error. */
static int side_write(lb_side *s, const unsigned char *from, size_t n)
{
    if (s->ssl) {
        int r = SSL_write(s->ssl, from, (int)n);
        if (r > 0)
            return r;
        int err = SSL_get_error(s->ssl, r);
        return err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ ? -1 : -2;
    }
    ssize_t r = send(s->fd, from, n, MSG_NOSIGNAL);
    if (r >= 0)
        return (int)r;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
}

static size_t room(const lb_side *s)
{
    return s->buf ? LB_BUF_SIZE - (s->len - s->off) : LB_BUF_SIZE;
}

/* src -> dst's buffer, while there is room; 1 when something moved, 0 not, -1 broken. */
static int pump_in(lb_side *src, lb_side *dst)
{
    int moved = 0;
    while (!src->rd_eof && room(dst) > 0) {
        if (!dst->buf && !(dst->buf = malloc(LB_BUF_SIZE)))
            return moved; /* no memory now: try at the next event */
        if (dst->off == dst->len)
            dst->off = dst->len = 0;
        else if (LB_BUF_SIZE - dst->len < READ_CHUNK && dst->off > 0) {
            memmove(dst->buf, dst->buf + dst->off, dst->len - dst->off);
            dst->len -= dst->off;
            dst->off = 0;
        }
        size_t want = LB_BUF_SIZE - dst->len;
        if (want == 0)
            break;
        int r = side_read(src, dst->buf + dst->len, want > READ_CHUNK ? READ_CHUNK : want);
        if (r == -2)
            return -1;
        if (r == -1)
            break;
        if (r == 0) {
            src->rd_eof = 1;
            moved = 1;
            break;
        }
        dst->len += (size_t)r;
        moved = 1;
    }
    return moved;
}

/* dst's buffer -> its socket; then, the peer's end of stream. 1 moved, 0 not, -1 broken. */
static int pump_out(lb_side *dst, const lb_side *src)
{
    int moved = 0;
    while (dst->buf && dst->off < dst->len) {
        int r = side_write(dst, dst->buf + dst->off, dst->len - dst->off);
        if (r == -2)
            return -1;
        if (r == -1)
            break;
        dst->off += (size_t)r;
        moved = 1;
    }
    if (dst->buf && dst->off == dst->len) { /* an idle connection holds no buffer */
        free(dst->buf);
        dst->buf = NULL;
        dst->off = dst->len = 0;
    }
    if (src->rd_eof && !dst->buf && !dst->wr_shut) {
        if (dst->ssl)
            SSL_shutdown(dst->ssl); /* close_notify */
        shutdown(dst->fd, SHUT_WR);
        dst->wr_shut = 1;
        moved = 1;
    }
    return moved;
}

int lb_relay(lb_conn *c)
{
    int any = 0;
    for (int round = 0; round < 64; round++) {
        int a = pump_in(&c->client, &c->member), b = pump_in(&c->member, &c->client);
        int d = pump_out(&c->member, &c->client), f = pump_out(&c->client, &c->member);
        if (a < 0 || b < 0 || d < 0 || f < 0)
            return -1;
        any |= a || b || d || f;
        if (c->client.wr_shut && c->member.wr_shut)
            return -1; /* both ways ended */
        if (!a && !b && !d && !f)
            break;
    }
    return any;
}

uint32_t lb_side_interest(const lb_side *s, const lb_side *peer)
{
    uint32_t ev = 0;
    if (!s->rd_eof && room(peer) > 0)
        ev |= EPOLLIN;
    if ((s->buf && s->off < s->len) || s->ssl_want_write)
        ev |= EPOLLOUT;
    return ev;
}

void lb_side_close(lb_side *s)
{
    if (s->ssl) {
        SSL_free(s->ssl);
        s->ssl = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    free(s->buf);
    s->buf = NULL;
    s->off = s->len = 0;
}
