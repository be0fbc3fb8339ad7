/* net: see net.h. */
#include "base/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int make_addr(const char *address, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (port < 0 || port > 65535)
        return -1;
    if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof *in6;
        return 0;
    }
    return -1;
}

int ws_tcp_listen(const char *address, int port, int backlog, ws_error *e)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (make_addr(address, port, &ss, &len) != 0)
        return ws_seterr(e, "bad address %s:%d", address, port);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ws_seterr(e, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0) {
        int err = errno;
        close(fd);
        return ws_seterr(e, "cannot listen on %s:%d: %s", address, port, strerror(err));
    }
    return fd;
}

/* Close fd (when open), say in e what failed, and leave errno as err: -1. */
static int connect_fail(int fd, int err, ws_error *e, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int connect_fail(int fd, int err, ws_error *e, const char *fmt, ...)
{
    if (fd >= 0)
        close(fd);
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    errno = err;
    return -1;
}

/* Wait for a non-blocking connect to finish within timeout_ms; 0 when it did. */
static int connect_wait(int fd, const char *address, int port, int timeout_ms, ws_error *e)
{
    int64_t deadline = ws_mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - ws_mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n = poll(&p, 1, left > 0 ? (int)left : 0);
        if (n > 0)
            break;
        if (n == 0)
            return connect_fail(fd, ETIMEDOUT, e, "cannot connect to %s:%d: timed out", address, port);
        if (errno != EINTR)
            return connect_fail(fd, errno, e, "poll %s:%d: %s", address, port, strerror(errno));
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        return connect_fail(fd, errno, e, "getsockopt SO_ERROR %s:%d: %s", address, port, strerror(errno));
    if (soerr)
        return connect_fail(fd, soerr, e, "cannot connect to %s:%d: %s", address, port, strerror(soerr));
    return 0;
}

int ws_tcp_connect_from(const char *src, const char *address, int port, int timeout_ms, int flags, ws_error *e)
{
    struct sockaddr_storage ss, from;
    socklen_t len, from_len = 0;
    if (make_addr(address, port, &ss, &len) != 0)
        return connect_fail(-1, EINVAL, e, "bad address %s:%d", address, port);
    if (src && (make_addr(src, 0, &from, &from_len) != 0 || from.ss_family != ss.ss_family))
        return connect_fail(-1, EINVAL, e, "bad source address %s for %s", src, address);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return connect_fail(-1, errno, e, "socket: %s", strerror(errno));
    int one = 1;
    if ((flags & WS_TCP_NODELAY) && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        return connect_fail(fd, errno, e, "setsockopt TCP_NODELAY: %s", strerror(errno));
    if (src) {
        /* Choose the port at connect time, so many connections from one address can share ports
         * with different peers. */
        if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) != 0)
            return connect_fail(fd, errno, e, "setsockopt IP_BIND_ADDRESS_NO_PORT: %s", strerror(errno));
        if (bind(fd, (struct sockaddr *)&from, from_len) != 0)
            return connect_fail(fd, errno, e, "bind %s: %s", src, strerror(errno));
    }
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        if (errno != EINPROGRESS)
            return connect_fail(fd, errno, e, "cannot connect to %s:%d: %s", address, port, strerror(errno));
        if (flags & WS_TCP_NONBLOCK)
            return fd;
        if (connect_wait(fd, address, port, timeout_ms, e) != 0)
            return -1;
    }
    if (flags & WS_TCP_NONBLOCK)
        return fd;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        return connect_fail(fd, errno, e, "fcntl O_NONBLOCK: %s", strerror(errno));
    if (flags & WS_TCP_IO_TIMEOUT) {
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
            return connect_fail(fd, errno, e, "setsockopt SO_RCVTIMEO: %s", strerror(errno));
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
            return connect_fail(fd, errno, e, "setsockopt SO_SNDTIMEO: %s", strerror(errno));
    }
    return fd;
}

int ws_tcp_connect(const char *address, int port, int timeout_ms, ws_error *e)
{
    return ws_tcp_connect_from(NULL, address, port, timeout_ms, 0, e);
}

int ws_tcp_port_free(const char *address, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (make_addr(address, port, &ss, &len) != 0)
        return 0;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
    close(fd);
    return ok;
}

int ws_is_ip_literal(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}
