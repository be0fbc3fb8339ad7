/* SPDX-License-Identifier: Apache-2.0 */
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

/* A port as text: 1..65535, digits only. */
static int parse_port(const char *s, int *port)
{
    long v = 0;
    if (!*s || strlen(s) > 5)
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

/* The span [s, s+len) into host (WS_HOSTPORT_HOST_MAX bytes); -1 when too long. */
static int take_host(char *host, const char *s, size_t len)
{
    if (len >= WS_HOSTPORT_HOST_MAX)
        return -1;
    memcpy(host, s, len);
    host[len] = '\0';
    return 0;
}

int ws_hostport_parse(const char *text, int default_port, ws_hostport *out, ws_error *e)
{
    ws_hostport hp = {.port = default_port};
    unsigned char a6[16];
    if (!text || !*text)
        return ws_seterr(e, "an empty server name");
    size_t len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c <= ' ' || c == 0x7f || c == '/' || c == '\\' || c == '@')
            return ws_seterr(e, "'%.80s': character 0x%02X at offset %zu is not allowed in a server name", text, c,
                             i);
    }
    const char *port_text = NULL, *colon = strchr(text, ':');
    int toolong;
    if (text[0] == '[') { /* "[v6]" or "[v6]:port" */
        const char *close = strchr(text, ']');
        if (!close)
            return ws_seterr(e, "'%.80s': '[' without ']'", text);
        if (close[1] && close[1] != ':')
            return ws_seterr(e, "'%.80s': only ':port' may follow ']'", text);
        toolong = take_host(hp.host, text + 1, (size_t)(close - text - 1));
        if (!toolong && inet_pton(AF_INET6, hp.host, a6) != 1)
            return ws_seterr(e, "'%.80s': brackets hold an IPv6 address, not '%s'", text, hp.host);
        port_text = close[1] ? close + 2 : NULL;
    } else if (strchr(text, ']')) {
        return ws_seterr(e, "'%.80s': ']' without '['", text);
    } else if (colon && strchr(colon + 1, ':')) { /* two or more: a bare IPv6 address, no port */
        toolong = take_host(hp.host, text, len);
        if (!toolong && inet_pton(AF_INET6, hp.host, a6) != 1)
            return ws_seterr(e, "'%.80s' is neither name:port nor an IPv6 address (an IPv6 address goes in "
                                "brackets before a port: [address]:port)",
                             text);
    } else {
        toolong = take_host(hp.host, text, colon ? (size_t)(colon - text) : len);
        port_text = colon ? colon + 1 : NULL;
    }
    if (toolong)
        return ws_seterr(e, "'%.80s...': a server name of at most %d characters", text, WS_HOSTPORT_HOST_MAX - 1);
    if (!hp.host[0])
        return ws_seterr(e, "'%.80s' names no server before the port", text);
    if (port_text && parse_port(port_text, &hp.port) != 0)
        return ws_seterr(e, "'%.80s': bad port '%.16s' (1..65535)", text, port_text);
    hp.is_address = ws_is_ip_literal(hp.host);
    *out = hp;
    return 0;
}

size_t ws_hostport_format(const char *host, int port, int default_port, char *out, size_t n)
{
    unsigned char a6[16];
    int v6 = inet_pton(AF_INET6, host, a6) == 1;
    int r;
    if (port == default_port)
        r = snprintf(out, n, "%s", host);
    else
        r = snprintf(out, n, v6 ? "[%s]:%d" : "%s:%d", host, port);
    return r < 0 ? 0 : (size_t)r;
}
