/* SPDX-License-Identifier: Apache-2.0 */
/* lbmember: a stand-in pool member for the load balancer test (test_balancer_load.sh):
 * listens on ADDRESS:PORT (a gateway's, its service stopped) and answers each
 * connection, one thread each:
 *   on connect         "HELLO NAME\n"
 *   "PING\n"           "PONG NAME\n"
 *   "XFER N SEED\n"    reads N bytes while it sends N bytes of the stream lbstream(SEED + 1),
 *                      then "SHA <SHA-256 of what it read>\n"
 * It prints "lbmember NAME listening" once it listens, and runs until killed.
 *   usage: lbmember NAME ADDRESS PORT */
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/net.h"
#include "lbstream.h"

static const char *name;

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One line (without its newline) of at most n - 1 bytes, a byte at a time so that no
 * data after it is taken: 0, or -1 at end of stream or on an error. */
static int read_line(int fd, char *out, size_t n)
{
    size_t len = 0;
    for (;;) {
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

typedef struct sender {
    int fd;
    unsigned long long n, seed;
} sender;

static void *send_stream(void *arg)
{
    sender *s = arg;
    lbstream st;
    lbstream_init(&st, s->seed);
    unsigned char *chunk = malloc(65536);
    for (unsigned long long left = s->n; chunk && left;) {
        size_t k = left < 65536 ? (size_t)left : 65536;
        lbstream_fill(&st, chunk, k);
        if (send_all(s->fd, chunk, k) != 0)
            break;
        left -= k;
    }
    free(chunk);
    return NULL;
}

static void xfer(int fd, unsigned long long n, unsigned long long seed)
{
    sender s = {fd, n, seed + 1};
    pthread_t t;
    if (pthread_create(&t, NULL, send_stream, &s) != 0)
        return;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    unsigned char *buf = malloc(65536);
    unsigned long long got = 0;
    while (buf && got < n) {
        ssize_t r = recv(fd, buf, n - got < 65536 ? (size_t)(n - got) : 65536, 0);
        if (r <= 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)r);
        got += (unsigned long long)r;
    }
    free(buf);
    pthread_join(t, NULL);
    unsigned char d[32];
    char line[100];
    EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    int len = snprintf(line, sizeof line, "SHA ");
    for (int i = 0; i < 32; i++)
        len += snprintf(line + len, sizeof line - (size_t)len, "%02x", d[i]);
    line[len++] = '\n';
    if (got == n)
        send_all(fd, line, (size_t)len);
}

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char line[256];
    snprintf(line, sizeof line, "HELLO %s\n", name);
    if (send_all(fd, line, strlen(line)) == 0)
        while (read_line(fd, line, sizeof line) == 0) {
            unsigned long long n, seed;
            if (strcmp(line, "PING") == 0) {
                snprintf(line, sizeof line, "PONG %s\n", name);
                if (send_all(fd, line, strlen(line)) != 0)
                    break;
            } else if (sscanf(line, "XFER %llu %llu", &n, &seed) == 2) {
                xfer(fd, n, seed);
            } else {
                break;
            }
        }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: lbmember NAME ADDRESS PORT\n");
        return 2;
    }
    name = argv[1];
    signal(SIGPIPE, SIG_IGN);
    ws_error e;
    int lfd = ws_tcp_listen(argv[2], atoi(argv[3]), 4096, &e);
    if (lfd < 0) {
        fprintf(stderr, "lbmember: %s\n", e.msg);
        return 1;
    }
    printf("lbmember %s listening\n", name);
    fflush(stdout);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_t t;
        if (pthread_create(&t, &attr, serve, (void *)(intptr_t)fd) != 0)
            close(fd);
    }
}
