/* SPDX-License-Identifier: Apache-2.0 */
/* relaystall: a bulk transfer through one tunnel of a lab's RD Gateway whose reader is
 * slow at first, for the relay test. hv01 must be stopped: the tool listens in its place
 * (its address, port 2179, where the gateway's channel goes). The client opens the
 * tunnel and its channel with the lab's own client code (websocket, or the legacy pair).
 *   down  the sink writes MIB MiB to the gateway at once; the client reads nothing for
 *         PAUSE_MS (the gateway's queue for it passes its 1 MiB backlog mark and the
 *         gateway stops reading from the host), then reads all of it at full speed.
 *   up    the client sends MIB MiB; the sink reads nothing for PAUSE_MS (the gateway's
 *         queue for the host passes the mark and it stops reading from the client), then
 *         reads all of it and answers one byte, which the client waits for.
 *   usage: relaystall LAB RDPFILE down|up MIB [websocket|legacy]
 * Prints "down: N bytes in S s" and exits 0, or "down: stalled: N of M bytes, no byte
 * for 5 s" (or why it failed) and exits 1; 2 for bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/client_int.h"
#include "crypto/tls.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "svc/machine_tls.h"
#include "wire/rdpfile.h"
#include "wire/tsgu.h"

#define PAUSE_MS 1500
#define STALL_S 5 /* no byte moved for this long: stalled */
#define CHUNK 65535

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void timeouts(int fd, int seconds)
{
    struct timeval tv = {seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* The host's side: one connection on lfd; down: write n bytes; up: pause, read n, answer 'K'. */
static void sink(int lfd, int down, uint64_t n)
{
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        _exit(1);
    timeouts(fd, 30);
    static uint8_t buf[CHUNK];
    memset(buf, 'h', sizeof buf);
    if (down) {
        for (uint64_t left = n; left;) {
            ssize_t w = write(fd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
            if (w <= 0)
                _exit(1);
            left -= (uint64_t)w;
        }
    } else {
        usleep(PAUSE_MS * 1000);
        for (uint64_t left = n; left;) {
            ssize_t r = read(fd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
            if (r <= 0)
                _exit(1);
            left -= (uint64_t)r;
        }
        if (write(fd, "K", 1) != 1)
            _exit(1);
    }
    char c;
    while (read(fd, &c, 1) > 0) /* until the gateway closes the channel */
        ;
    _exit(0);
}

static int listen_on(const char *addr, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4) != 0)
        return -1;
    return fd;
}

/* The next DATA packet's byte count into *got (0 for another packet); -1 when the link failed. */
static int recv_data(gwlink *g, uint8_t *pkt, uint64_t *got, ws_error *e)
{
    size_t len;
    if (ws_gwlink_recv(g, pkt, WS_TSGU_PACKET_MAX, &len, e) != 0)
        return -1;
    ws_tsgu_data d;
    ws_error de;
    if (ws_tsgu_decode_data(pkt, len, &d, &de) == 0)
        *got += d.len;
    else if (len >= 2 && (pkt[0] | pkt[1] << 8) == WS_TSGU_CLOSE_CHANNEL)
        return ws_seterr(e, "the gateway closed the channel");
    return 0;
}

static int transfer(gwlink *g, int down, uint64_t n, double *secs)
{
    static uint8_t pkt[WS_TSGU_PACKET_MAX], data[CHUNK];
    ws_error e;
    uint64_t got = 0;
    double t0 = now_s();
    timeouts(ws_gwlink_fd(g), STALL_S);
    if (g->in_fd >= 0)
        timeouts(g->in_fd, STALL_S);
    if (down) {
        usleep(PAUSE_MS * 1000);
        while (got < n) {
            if (recv_data(g, pkt, &got, &e) != 0) {
                printf("down: stalled: %llu of %llu bytes after %.1f s (%s; no byte for %d s)\n",
                       (unsigned long long)got, (unsigned long long)n, now_s() - t0, e.msg, STALL_S);
                return 1;
            }
        }
    } else {
        memset(data, 'c', sizeof data);
        for (uint64_t left = n; left;) {
            size_t k = left < sizeof data ? (size_t)left : sizeof data;
            size_t m = ws_tsgu_encode_data(data, k, pkt, sizeof pkt);
            if (ws_gwlink_send(g, pkt, m) != 0) {
                printf("up: stalled: %llu of %llu bytes sent after %.1f s (no byte for %d s)\n",
                       (unsigned long long)(n - left), (unsigned long long)n, now_s() - t0, STALL_S);
                return 1;
            }
            left -= k;
        }
        while (got < 1) {
            if (recv_data(g, pkt, &got, &e) != 0) {
                printf("up: stalled: all %llu bytes sent, no answer after %.1f s (%s)\n", (unsigned long long)n,
                       now_s() - t0, e.msg);
                return 1;
            }
        }
    }
    *secs = now_s() - t0;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || (strcmp(argv[3], "down") != 0 && strcmp(argv[3], "up") != 0) || atoi(argv[4]) < 1 ||
        (argc > 5 && strcmp(argv[5], "websocket") != 0 && strcmp(argv[5], "legacy") != 0)) {
        fprintf(stderr, "usage: relaystall LAB RDPFILE down|up MIB [websocket|legacy]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int down = strcmp(argv[3], "down") == 0, legacy = argc > 5 && strcmp(argv[5], "legacy") == 0;
    uint64_t n = (uint64_t)atoi(argv[4]) << 20;
    ws_state *st;
    ws_error e;
    unsigned char *bytes;
    size_t blen;
    ws_rdp_file f;
    ws_machine hv, client;
    if (ws_state_open(argv[1], 0, &st, &e) != 0 || ws_read_file(argv[2], WS_RDP_FILE_MAX, &bytes, &blen, &e) != 0 ||
        ws_rdp_parse(bytes, blen, &f, &e) != 0 || ws_machine_get(st, "hv01", &hv, &e) != 0 ||
        ws_machine_get(st, "client", &client, &e) != 0) {
        printf("%s: %s\n", argv[3], e.msg);
        return 1;
    }
    int lfd = listen_on(hv.address, 2179);
    if (lfd < 0) {
        printf("%s: cannot listen on %s:2179 (is hv01 stopped?): %s\n", argv[3], hv.address, strerror(errno));
        return 1;
    }
    pid_t kid = fork();
    if (kid == 0)
        sink(lfd, down, n);
    close(lfd);
    char name[256], addr[64];
    int port, rc = 1;
    const char *cookie = ws_rdp_get(&f, "gatewayaccesstoken"), *resource = ws_rdp_get(&f, "full address");
    const char *port_text = ws_rdp_get(&f, "server port");
    SSL_CTX *ctx = ws_tls_client_ctx(st, "client", &e);
    gwlink g;
    ws_gwlink_init(&g);
    static ws_connect_result r;
    double secs = 0;
    if (!cookie || !resource || !ctx || ws_client_gateway_of(st, &f, name, sizeof name, &port, addr, sizeof addr, &e) != 0)
        printf("%s: %s\n", argv[3], !cookie || !resource ? "the .rdp file lacks its cookie or address" : e.msg);
    else if (ws_client_gateway_open(&g, ctx, name, addr, port, client.address, legacy, &r) != 0 ||
             ws_client_tunnel_open(&g, cookie, resource, port_text ? atoi(port_text) : 3389, 1, &r) != 0)
        printf("%s: the tunnel could not be opened: %s\n", argv[3], r.message);
    else if ((rc = transfer(&g, down, n, &secs)) == 0)
        printf("%s: %llu bytes in %.2f s\n", argv[3], (unsigned long long)n, secs);
    ws_gwlink_free(&g);
    SSL_CTX_free(ctx);
    kill(kid, SIGTERM);
    waitpid(kid, NULL, 0);
    ws_rdp_free(&f);
    ws_state_close(st);
    return rc;
}
