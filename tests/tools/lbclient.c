/* SPDX-License-Identifier: Apache-2.0 */
/* lbclient: the load balancer test's client (test_balancer_load.sh), talking to
 * lbmember through the balancer. Each mode prints one line per result, "MODE: ...".
 *   lbclient who ADDRESS PORT COUNT [SOURCE]
 *       COUNT connections one after the other (from SOURCE, a local address, if given):
 *       "who: NAME NAME ..." the member that greeted each
 *   lbclient idle ADDRESS PORT N SECONDS
 *       N connections held open, each greeted; SECONDS later each sends PING:
 *       "idle: opened O greeted G answered A"
 *   lbclient xfer ADDRESS PORT BYTES SEED
 *       BYTES each way at once on one connection, SHA-256 on both ends:
 *       "xfer: member M sent S received R sent-sha OK|BAD received-sha OK|BAD"
 *   lbclient failover ADDRESS PORT N VICTIM PID NEW
 *       N connections; then SIGKILL to PID (the member VICTIM's tool); those on VICTIM
 *       must end, the others still answer PING, and NEW new connections are greeted:
 *       "failover: before V=x others=y", "failover: victim-closed c of x",
 *       "failover: survivors-answered a of y", "failover: new g of NEW on-victim v" */
#include <errno.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/net.h"
#include "lbstream.h"

#define IO_TIMEOUT_MS 10000
#define MAX_CONNS 5000

/* A line within timeout_ms into out (no newline); 0, or -1 (end, error, timeout). */
static int read_line(int fd, char *out, size_t n, int timeout_ms)
{
    size_t len = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) != 1)
            return -1;
        char ch;
        if (recv(fd, &ch, 1, 0) != 1)
            return -1;
        if (ch == '\n')
            break;
        if (len + 1 < n)
            out[len++] = ch;
    }
    out[len] = '\0';
    return 0;
}

static int dial(const char *src, const char *addr, int port)
{
    ws_error e;
    return ws_tcp_connect_from(src, addr, port, IO_TIMEOUT_MS, 0, &e);
}

/* The greeting's member name into name, or -1. */
static int greeted(int fd, char *name, size_t n)
{
    char line[128];
    if (read_line(fd, line, sizeof line, IO_TIMEOUT_MS) != 0 || strncmp(line, "HELLO ", 6) != 0)
        return -1;
    snprintf(name, n, "%s", line + 6);
    return 0;
}

static int ping(int fd, int timeout_ms)
{
    char line[128];
    return send(fd, "PING\n", 5, MSG_NOSIGNAL) == 5 && read_line(fd, line, sizeof line, timeout_ms) == 0 &&
                   strncmp(line, "PONG ", 5) == 0
               ? 0
               : -1;
}

static int mode_who(char **argv, int argc)
{
    int count = atoi(argv[4]);
    const char *src = argc > 5 ? argv[5] : NULL;
    printf("who:");
    for (int i = 0; i < count; i++) {
        char name[64] = "-";
        int fd = dial(src, argv[2], atoi(argv[3]));
        if (fd < 0 || greeted(fd, name, sizeof name) != 0)
            snprintf(name, sizeof name, "-");
        if (fd >= 0)
            close(fd);
        printf(" %s", name);
    }
    printf("\n");
    return 0;
}

static int mode_idle(char **argv)
{
    int n = atoi(argv[4]), seconds = atoi(argv[5]);
    if (n <= 0 || n > MAX_CONNS)
        return 2;
    int *fds = calloc((size_t)n, sizeof *fds);
    int opened = 0, greet = 0, answered = 0;
    for (int i = 0; i < n; i++) {
        char name[64];
        fds[i] = dial(NULL, argv[2], atoi(argv[3]));
        opened += fds[i] >= 0;
        if (fds[i] >= 0 && greeted(fds[i], name, sizeof name) == 0)
            greet++;
    }
    printf("idle: opened %d greeted %d\n", opened, greet);
    fflush(stdout);
    sleep((unsigned)seconds);
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0 && ping(fds[i], IO_TIMEOUT_MS) == 0)
            answered++;
    printf("idle: opened %d greeted %d answered %d\n", opened, greet, answered);
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    return 0;
}

static void hex(const unsigned char *d, char *out)
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* sha256 of the stream lbstream(seed), n bytes, as hex. */
static void stream_sha(unsigned long long seed, unsigned long long n, char *out)
{
    lbstream st;
    lbstream_init(&st, seed);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    unsigned char buf[65536], d[32];
    for (unsigned long long left = n; left;) {
        size_t k = left < sizeof buf ? (size_t)left : sizeof buf;
        lbstream_fill(&st, buf, k);
        EVP_DigestUpdate(md, buf, k);
        left -= k;
    }
    EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    hex(d, out);
}

static int mode_xfer(char **argv)
{
    unsigned long long n = strtoull(argv[4], NULL, 10), seed = strtoull(argv[5], NULL, 10);
    int fd = dial(NULL, argv[2], atoi(argv[3]));
    char name[64] = "-", cmd[128];
    if (fd < 0 || greeted(fd, name, sizeof name) != 0) {
        printf("xfer: no member answered\n");
        return 1;
    }
    int len = snprintf(cmd, sizeof cmd, "XFER %llu %llu\n", n, seed);
    if (send(fd, cmd, (size_t)len, MSG_NOSIGNAL) != len)
        return 1;
    lbstream out;
    lbstream_init(&out, seed);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    static unsigned char sbuf[65536], rbuf[65536];
    size_t soff = 0, slen = 0;
    unsigned long long sent = 0, got = 0;
    while (got < n || sent < n) {
        if (soff == slen && sent < n) {
            slen = n - sent < sizeof sbuf ? (size_t)(n - sent) : sizeof sbuf;
            lbstream_fill(&out, sbuf, slen);
            soff = 0;
        }
        struct pollfd p = {.fd = fd, .events = (short)((got < n ? POLLIN : 0) | (soff < slen ? POLLOUT : 0))};
        if (poll(&p, 1, IO_TIMEOUT_MS) != 1)
            break;
        if ((p.revents & POLLOUT) && soff < slen) {
            ssize_t w = send(fd, sbuf + soff, slen - soff, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
                soff += (size_t)w;
                sent += (unsigned long long)w;
            } else if (w < 0 && errno != EAGAIN)
                break;
        }
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && got < n) {
            size_t want = n - got < sizeof rbuf ? (size_t)(n - got) : sizeof rbuf;
            ssize_t r = recv(fd, rbuf, want, MSG_DONTWAIT);
            if (r > 0) {
                EVP_DigestUpdate(md, rbuf, (size_t)r);
                got += (unsigned long long)r;
            } else if (r == 0 || errno != EAGAIN)
                break;
        }
    }
    unsigned char d[32];
    char got_sha[65], want_recv[65], want_sent[65], line[128] = "";
    EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    hex(d, got_sha);
    stream_sha(seed + 1, n, want_recv);
    stream_sha(seed, n, want_sent);
    read_line(fd, line, sizeof line, IO_TIMEOUT_MS);
    int sent_ok = strncmp(line, "SHA ", 4) == 0 && strcmp(line + 4, want_sent) == 0;
    int recv_ok = got == n && strcmp(got_sha, want_recv) == 0;
    printf("xfer: member %s sent %llu received %llu sent-sha %s received-sha %s\n", name, sent, got,
           sent_ok ? "OK" : "BAD", recv_ok ? "OK" : "BAD");
    close(fd);
    return sent_ok && recv_ok ? 0 : 1;
}

/* 1 when fd's peer has ended it (end of stream or error) within timeout_ms. */
static int ended(int fd, int timeout_ms)
{
    char buf[256];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        if (poll(&p, 1, timeout_ms) != 1)
            return 0;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            return 1;
    }
}

static int mode_failover(char **argv)
{
    int n = atoi(argv[4]), pid = atoi(argv[6]), fresh = atoi(argv[7]);
    const char *victim = argv[5];
    if (n <= 0 || n > MAX_CONNS || pid <= 1 || fresh < 0)
        return 2;
    int *fds = calloc((size_t)n, sizeof *fds), *on_victim = calloc((size_t)n, sizeof *on_victim);
    int v = 0, others = 0;
    for (int i = 0; i < n; i++) {
        char name[64];
        fds[i] = dial(NULL, argv[2], atoi(argv[3]));
        if (fds[i] >= 0 && greeted(fds[i], name, sizeof name) == 0) {
            on_victim[i] = strcmp(name, victim) == 0;
            v += on_victim[i];
            others += !on_victim[i];
        } else if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
    printf("failover: before %s=%d others=%d\n", victim, v, others);
    fflush(stdout);
    kill(pid, SIGKILL);
    int closed = 0, answered = 0;
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0 && on_victim[i])
            closed += ended(fds[i], 5000);
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0 && !on_victim[i])
            answered += ping(fds[i], 5000) == 0;
    printf("failover: victim-closed %d of %d\n", closed, v);
    printf("failover: survivors-answered %d of %d\n", answered, others);
    int ok = 0, to_victim = 0;
    for (int i = 0; i < fresh; i++) {
        char name[64];
        int fd = dial(NULL, argv[2], atoi(argv[3]));
        if (fd >= 0 && greeted(fd, name, sizeof name) == 0) {
            ok++;
            to_victim += strcmp(name, victim) == 0;
        }
        if (fd >= 0)
            close(fd);
    }
    printf("failover: new %d of %d on-victim %d\n", ok, fresh, to_victim);
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    free(on_victim);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (argc >= 5 && strcmp(argv[1], "who") == 0)
        return mode_who(argv, argc);
    if (argc == 6 && strcmp(argv[1], "idle") == 0)
        return mode_idle(argv);
    if (argc == 6 && strcmp(argv[1], "xfer") == 0)
        return mode_xfer(argv);
    if (argc == 8 && strcmp(argv[1], "failover") == 0)
        return mode_failover(argv);
    fprintf(stderr, "usage: lbclient who ADDRESS PORT COUNT [SOURCE] | idle ADDRESS PORT N SECONDS |\n"
                    "       xfer ADDRESS PORT BYTES SEED | failover ADDRESS PORT N VICTIM PID NEW\n");
    return 2;
}
