/* SPDX-License-Identifier: Apache-2.0 */
/* tunnels: hold N MS-TSGU tunnels open through a lab's RD Gateway, each created with
 * the HostToken of one .rdp file and authorized, for the concurrency test.
 *   usage: tunnels LAB RDPFILE N [--legacy]
 * Prints "open N" on standard output when all are open (or "failed at I: <stage>:
 * <message>"), flushed at once, then holds them until its standard input closes or it is
 * terminated. Progress ("opened I of N", every 100) goes to standard error. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "client/client.h"
#include "wire/rdpfile.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: tunnels LAB RDPFILE N [--legacy]\n");
        return 2;
    }
    int n = atoi(argv[3]), legacy = argc > 4 && strcmp(argv[4], "--legacy") == 0;
    if (n < 1 || n > 20000) {
        fprintf(stderr, "tunnels: bad N '%s'\n", argv[3]);
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    ws_state *st;
    ws_error e;
    if (ws_state_open(argv[1], 0, &st, &e) != 0) {
        fprintf(stderr, "tunnels: %s\n", e.msg);
        return 2;
    }
    unsigned char *data;
    size_t len;
    ws_rdp_file f;
    if (ws_read_file(argv[2], WS_RDP_FILE_MAX, &data, &len, &e) != 0 || ws_rdp_parse(data, len, &f, &e) != 0) {
        fprintf(stderr, "tunnels: %s\n", e.msg);
        return 2;
    }
    free(data);
    ws_gw_tunnel **open = calloc((size_t)n, sizeof *open);
    if (!open) {
        printf("failed at 0: memory: no room for %d tunnels\n", n);
        fflush(stdout);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        ws_connect_result r;
        open[i] = ws_gateway_tunnel_open(st, &f, legacy, &r);
        if (!open[i]) {
            printf("failed at %d: %s: %s\n", i, r.stage, r.message);
            fflush(stdout);
            return 1;
        }
        /* Progress on standard error, so a caller waiting for the answer on standard
         * output can tell a slow machine from a stuck tool. */
        if ((i + 1) % 100 == 0 && i + 1 < n)
            fprintf(stderr, "opened %d of %d\n", i + 1, n);
    }
    printf("open %d\n", n);
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    for (int i = 0; i < n; i++)
        ws_gateway_tunnel_close(open[i]);
    free(open);
    ws_rdp_free(&f);
    ws_state_close(st);
    return 0;
}
