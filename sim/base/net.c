/* net: see net.h. */
#include "base/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
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

int ws_tcp_connect(const char *address, int port, int timeout_ms, ws_error *e)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (make_addr(address, port, &ss, &len) != 0)
        return ws_seterr(e, "bad address %s:%d", address, port);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return ws_seterr(e, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        if (errno != EINPROGRESS) {
            int err = errno;
            close(fd);
            return ws_seterr(e, "cannot connect to %s:%d: %s", address, port, strerror(err));
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (poll(&p, 1, timeout_ms) != 1) {
            close(fd);
            return ws_seterr(e, "cannot connect to %s:%d: timed out", address, port);
        }
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr) {
            close(fd);
            return ws_seterr(e, "cannot connect to %s:%d: %s", address, port, strerror(soerr));
        }
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
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
