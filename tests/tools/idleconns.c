/* SPDX-License-Identifier: Apache-2.0 */
/* idleconns: a hostile local client's idle sockets, for the hostile-client test.
 * Opens N TCP connections to ADDRESS:PORT that never send a byte, prints
 * "idleconns: N of N connected" once the connects are done (a server that refuses
 * some closes them at once; they still count as opened), then holds them until
 * SECONDS have passed or it is sent SIGTERM, and prints "idleconns: K of N still
 * open": those the server has not closed.
 *   usage: idleconns ADDRESS PORT N SECONDS */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/net.h"

#define MAX_CONNS 1000
#define CONNECT_WAIT_MS 3000

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: idleconns ADDRESS PORT N SECONDS\n");
        return 2;
    }
    int port = atoi(argv[2]), n = atoi(argv[3]), seconds = atoi(argv[4]);
    if (port <= 0 || n <= 0 || n > MAX_CONNS || seconds <= 0) {
        fprintf(stderr, "idleconns: bad arguments\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    static int fds[MAX_CONNS];
    int opened = 0;
    for (int i = 0; i < n; i++) {
        ws_error e;
        fds[i] = ws_tcp_connect_from(NULL, argv[1], port, CONNECT_WAIT_MS, WS_TCP_NONBLOCK, &e);
        if (fds[i] >= 0)
            opened++;
    }
    /* Wait for the handshakes to finish: the connections are then established. */
    for (int i = 0; i < n; i++) {
        if (fds[i] < 0)
            continue;
        struct pollfd p = {.fd = fds[i], .events = POLLOUT};
        poll(&p, 1, 100);
    }
    printf("idleconns: %d of %d connected\n", opened, n);
    fflush(stdout);
    for (int t = 0; t < seconds * 10 && !stop; t++)
        usleep(100 * 1000);
    int open_now = 0;
    for (int i = 0; i < n; i++) {
        if (fds[i] < 0)
            continue;
        /* Readable with nothing to read (end of stream) or an error: the server closed it. */
        char c;
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (poll(&p, 1, 0) == 0 || (recv(fds[i], &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN))
            open_now++;
        close(fds[i]);
    }
    printf("idleconns: %d of %d still open\n", open_now, n);
    return 0;
}
