/* SPDX-License-Identifier: Apache-2.0 */
/* component: see component.h. */
#include "svc/component.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lab/events.h"
#include "lab/lab.h"

volatile sig_atomic_t ws_component_stop;
/* SIGTERM may land on any thread (libmicrohttpd's workers too): the handler also writes
 * here, so ws_component_wait wakes at once rather than at its next look. */
static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    ws_component_stop = 1;
    if (stop_pipe[1] >= 0 && write(stop_pipe[1], "x", 1) < 0) {
        /* full or closed: the flag is set, the wait's timeout sees it */
    }
    errno = saved;
}

void ws_component_init(ws_component *c, const char *program, const char *role, const char *summary, int argc,
                       char **argv)
{
    memset(c, 0, sizeof *c);
    c->program = program;
    c->role = role;
    ws_progname = program;
    const char *lab = NULL, *machine = NULL;
    static const struct option opts[] = {
        {"lab", required_argument, NULL, 'l'},
        {"machine", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'l': lab = optarg; break;
        case 'm': machine = optarg; break;
        case 'h':
            printf("usage: %s --lab DIR --machine NAME\n\n%s\n\n"
                   "Started by `wapsim up`, one process per machine; it reads the lab's state file\n"
                   "and serves as that machine until SIGTERM.\n",
                   program, summary);
            exit(0);
        default: exit(WS_EXIT_USAGE);
        }
    }
    if (optind < argc) {
        ws_warn("unexpected argument '%s'", argv[optind]);
        exit(WS_EXIT_USAGE);
    }
    if (!machine) {
        ws_warn("--machine is required");
        exit(WS_EXIT_USAGE);
    }
    c->lab_dir = ws_lab_dir(lab);
    ws_error e;
    if (ws_lab_open(c->lab_dir, &c->st, &e) != 0) {
        ws_warn("%s", e.msg);
        exit(WS_EXIT_USAGE);
    }
    if (ws_machine_get(c->st, machine, &c->machine, &e) != 0) {
        ws_warn("%s", e.msg);
        exit(WS_EXIT_USAGE);
    }
    if (strcmp(c->machine.role, role) != 0) {
        ws_warn("machine '%s' has role %s, not %s", machine, c->machine.role, role);
        exit(WS_EXIT_USAGE);
    }
    if (stop_pipe[0] < 0 && pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        stop_pipe[0] = stop_pipe[1] = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stderr, NULL, _IOLBF, 0);
    setvbuf(stdout, NULL, _IOLBF, 0);
}

void ws_component_running(ws_component *c, const char *detail)
{
    const ws_role *r = ws_role_find(c->role);
    fprintf(stderr, "%s: %s running on %s:%d%s%s\n", c->program, c->machine.name, c->machine.address,
            c->machine.port, detail ? "; " : "", detail ? detail : "");
    ws_event_write(c->st, c->machine.name, WS_EV_SCM_7036_RUNNING,
                   r && r->service_name ? r->service_name : c->program);
}

void ws_component_fail(ws_component *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s: %s\n", c->program, c->machine.name, msg);
    if (c->st)
        ws_event_put(c->st, c->machine.name, WS_EV_APP_1_FAILED, c->program, msg);
    ws_component_close(c);
    exit(WS_EXIT_FAIL);
}

void ws_component_wait(void)
{
    while (!ws_component_stop) {
        if (stop_pipe[0] < 0) {
            ws_sleep_ms(100);
            continue;
        }
        struct pollfd p = {.fd = stop_pipe[0], .events = POLLIN};
        poll(&p, 1, 1000);
    }
}

void ws_component_idle_loop(ws_component *c, const int *fds, int nfds)
{
    (void)c;
    struct pollfd p[8];
    if (nfds > 8)
        nfds = 8;
    for (int i = 0; i < nfds; i++)
        p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    while (!ws_component_stop) {
        int n = poll(p, (nfds_t)nfds, 200);
        if (n <= 0)
            continue;
        for (int i = 0; i < nfds; i++) {
            if (!(p[i].revents & POLLIN))
                continue;
            int fd = accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0)
                close(fd);
        }
    }
}

void ws_component_overloaded(ws_component *c, int on, const char *why)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/run/%s.overload", c->lab_dir, c->machine.name);
    if (!on) {
        unlink(path);
        return;
    }
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%s\n", why ? why : "overloaded");
        fclose(f);
    }
}

void ws_component_close(ws_component *c)
{
    ws_state_close(c->st);
    c->st = NULL;
}
