/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/base/net.c: a connection leaves from the source address it is
 * given (the lab tells machines apart by it), and each failure names the call that
 * failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

#include "base/net.h"
#include "base/util.h"

#define assert_prefix(s, prefix)                                                                            \
    do {                                                                                                    \
        const char *s_ = (s), *p_ = (prefix);                                                               \
        if (strncmp(s_, p_, strlen(p_)) != 0)                                                               \
            fail_msg("expected \"%s\" to begin with \"%s\"", s_, p_);                                       \
    } while (0)

/* A listener on 127.0.0.1 with a port the kernel chose; its port in *port. */
static int listener(int *port)
{
    ws_error e;
    int fd = ws_tcp_listen("127.0.0.1", 0, 4, &e);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* The address the listener sees a connection come from. */
static void accepted_peer(int lfd, char *out, size_t n)
{
    struct sockaddr_in peer;
    socklen_t sl = sizeof peer;
    int afd = accept(lfd, (struct sockaddr *)&peer, &sl);
    assert_true(afd >= 0);
    assert_non_null(inet_ntop(AF_INET, &peer.sin_addr, out, (socklen_t)n));
    close(afd);
}

static void test_the_listener_sees_the_source_address(void **state)
{
    (void)state;
    int port;
    int lfd = listener(&port);
    ws_error e = {""};
    int fd = ws_tcp_connect_from("127.64.3.20", "127.0.0.1", port, 2000, WS_TCP_NODELAY | WS_TCP_IO_TIMEOUT, &e);
    if (fd < 0)
        fail_msg("connect: %s", e.msg);
    char peer[64];
    accepted_peer(lfd, peer, sizeof peer);
    assert_string_equal(peer, "127.64.3.20");
    /* Connected and blocking, with the options asked for. */
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    int nodelay = 0;
    socklen_t sl = sizeof nodelay;
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &sl), 0);
    assert_true(nodelay);
    struct timeval tv;
    sl = sizeof tv;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &sl), 0);
    assert_int_equal(tv.tv_sec, 2);
    close(fd);
    close(lfd);
}

static void test_without_a_source_the_kernel_chooses(void **state)
{
    (void)state;
    int port;
    int lfd = listener(&port);
    ws_error e = {""};
    int fd = ws_tcp_connect("127.0.0.1", port, 2000, &e);
    if (fd < 0)
        fail_msg("connect: %s", e.msg);
    char peer[64];
    accepted_peer(lfd, peer, sizeof peer);
    assert_string_equal(peer, "127.0.0.1");
    close(fd);
    close(lfd);
}

static void test_nonblocking_returns_while_connecting(void **state)
{
    (void)state;
    int port;
    int lfd = listener(&port);
    ws_error e = {""};
    int fd = ws_tcp_connect_from("127.64.3.21", "127.0.0.1", port, 0, WS_TCP_NONBLOCK, &e);
    if (fd < 0)
        fail_msg("connect: %s", e.msg);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    assert_int_equal(poll(&p, 1, 2000), 1);
    int soerr = -1;
    socklen_t sl = sizeof soerr;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl), 0);
    assert_int_equal(soerr, 0);
    char peer[64];
    accepted_peer(lfd, peer, sizeof peer);
    assert_string_equal(peer, "127.64.3.21");
    close(fd);
    close(lfd);
}

static void test_a_bind_failure_names_bind(void **state)
{
    (void)state;
    int port;
    int lfd = listener(&port);
    ws_error e = {""};
    /* 192.0.2.1 (TEST-NET-1) is no address of this machine. */
    errno = 0;
    int fd = ws_tcp_connect_from("192.0.2.1", "127.0.0.1", port, 2000, 0, &e);
    assert_int_equal(fd, -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    assert_string_equal(e.msg, "bind 192.0.2.1: Cannot assign requested address");
    close(lfd);
}

static void test_a_refused_connect_names_connect(void **state)
{
    (void)state;
    int port;
    close(listener(&port)); /* a port nothing listens on any more */
    ws_error e = {""};
    int fd = ws_tcp_connect_from("127.64.3.20", "127.0.0.1", port, 2000, 0, &e);
    assert_int_equal(fd, -1);
    assert_int_equal(errno, ECONNREFUSED);
    char want[128];
    snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%d: Connection refused", port);
    assert_string_equal(e.msg, want);
}

static void test_bad_addresses_are_named(void **state)
{
    (void)state;
    ws_error e = {""};
    assert_int_equal(ws_tcp_connect_from(NULL, "rdgw01", 443, 100, 0, &e), -1);
    assert_string_equal(e.msg, "bad address rdgw01:443");
    assert_int_equal(ws_tcp_connect_from("::1", "127.0.0.1", 443, 100, 0, &e), -1);
    assert_string_equal(e.msg, "bad source address ::1 for 127.0.0.1");
    assert_int_equal(ws_tcp_connect_from("127.0.0.1", "127.0.0.1", 70000, 100, 0, &e), -1);
    assert_prefix(e.msg, "bad address 127.0.0.1:70000");
    /* No error buffer: still -1. */
    assert_int_equal(ws_tcp_connect_from(NULL, "nowhere", 1, 100, 0, NULL), -1);
}

/* One parse that must succeed: host, port and whether it is an address. */
static void parses(const char *text, int dflt, const char *host, int port, int is_address)
{
    ws_hostport hp;
    ws_error e = {""};
    if (ws_hostport_parse(text, dflt, &hp, &e) != 0)
        fail_msg("'%s' refused: %s", text, e.msg);
    assert_string_equal(hp.host, host);
    assert_int_equal(hp.port, port);
    assert_int_equal(hp.is_address, is_address);
}

/* One parse that must fail, with e naming what is wrong; out stays untouched. */
static void refuses(const char *text, const char *why)
{
    ws_hostport hp = {.host = "untouched", .port = 7};
    ws_error e = {""};
    assert_int_equal(ws_hostport_parse(text, 443, &hp, &e), -1);
    assert_contains(e.msg, why);
    assert_string_equal(hp.host, "untouched");
    assert_int_equal(hp.port, 7);
}

static void test_hostport_names_addresses_and_ports(void **state)
{
    (void)state;
    parses("rdgw.contoso.com", 443, "rdgw.contoso.com", 443, 0);
    parses("rdgw.contoso.com:8443", 443, "rdgw.contoso.com", 8443, 0);
    parses("127.64.0.13", 443, "127.64.0.13", 443, 1);
    parses("127.64.0.13:8443", 443, "127.64.0.13", 8443, 1);
    parses("[2001:db8::7]", 443, "2001:db8::7", 443, 1);
    parses("[2001:db8::7]:8443", 443, "2001:db8::7", 8443, 1);
    parses("2001:db8::7", 443, "2001:db8::7", 443, 1); /* bare: the colons are the address's */
    parses("::1", 3389, "::1", 3389, 1);
    parses("hv01", 2179, "hv01", 2179, 0);
    parses("127.1", 443, "127.1", 443, 0); /* not a literal inet_pton takes: a name, looked up */
}

static void test_hostport_refuses_garbage_naming_it(void **state)
{
    (void)state;
    refuses("", "empty");
    refuses(NULL, "empty");
    refuses("[::1", "'[::1': '[' without ']'");
    refuses("::1]", "']' without '['");
    refuses("[::1]x", "only ':port' may follow ']'");
    refuses("[rdgw.contoso.com]:443", "brackets hold an IPv6 address, not 'rdgw.contoso.com'");
    refuses("rdgw.contoso.com:0", "bad port '0'");
    refuses("rdgw.contoso.com:65536", "bad port '65536'");
    refuses("rdgw.contoso.com:", "bad port ''");
    refuses("rdgw.contoso.com:44x", "bad port '44x'");
    refuses("[::1]:", "bad port ''");
    refuses(":443", "names no server");
    refuses("a:b:c", "neither name:port nor an IPv6 address");
    refuses("rdgw contoso", "character 0x20 at offset 4");
    refuses("rdgw\x01", "character 0x01 at offset 4");
    refuses("user@rdgw", "character 0x40");
    char name[400], host[256];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    refuses(name, "at most 255 characters");
    memcpy(name + 255, ":443", 5); /* 255 characters and a port: the longest that fits */
    memset(host, 'a', 255);
    host[255] = '\0';
    parses(name, 1, host, 443, 0);
    memcpy(name + 256, ":443", 5);
    refuses(name, "at most 255 characters");
}

static void test_hostport_format_brackets_ipv6_before_a_port(void **state)
{
    (void)state;
    char out[300];
    ws_hostport_format("rdgw.contoso.com", 443, 443, out, sizeof out);
    assert_string_equal(out, "rdgw.contoso.com");
    ws_hostport_format("rdgw.contoso.com", 8443, 443, out, sizeof out);
    assert_string_equal(out, "rdgw.contoso.com:8443");
    ws_hostport_format("127.64.0.13", 8443, 443, out, sizeof out);
    assert_string_equal(out, "127.64.0.13:8443");
    ws_hostport_format("::1", 8443, 443, out, sizeof out);
    assert_string_equal(out, "[::1]:8443");
    ws_hostport_format("::1", 443, 443, out, sizeof out);
    assert_string_equal(out, "::1");
    /* What it writes, parse reads back. */
    ws_hostport hp;
    ws_hostport_format("2001:db8::7", 3389, 443, out, sizeof out);
    assert_int_equal(ws_hostport_parse(out, 443, &hp, NULL), 0);
    assert_string_equal(hp.host, "2001:db8::7");
    assert_int_equal(hp.port, 3389);
    /* Too small a buffer: cut, and the length it needed. */
    assert_int_equal(ws_hostport_format("rdgw.contoso.com", 8443, 443, out, 5), 21);
    assert_string_equal(out, "rdgw");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_listener_sees_the_source_address),
        cmocka_unit_test(test_without_a_source_the_kernel_chooses),
        cmocka_unit_test(test_nonblocking_returns_while_connecting),
        cmocka_unit_test(test_a_bind_failure_names_bind),
        cmocka_unit_test(test_a_refused_connect_names_connect),
        cmocka_unit_test(test_bad_addresses_are_named),
        cmocka_unit_test(test_hostport_names_addresses_and_ports),
        cmocka_unit_test(test_hostport_refuses_garbage_naming_it),
        cmocka_unit_test(test_hostport_format_brackets_ipv6_before_a_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
