/* SPDX-License-Identifier: Apache-2.0 */
/* admin_run: a change from the admin site is the wapsim command an operator would type
 * (admin.h), run as its own process: posix_spawn, not fork, as the portal has threads.
 * The command runs in a session of its own, so restarting the portal's own service from
 * the site does not take the command down with the portal. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "base/util.h"

#define OUTPUT_MAX (256 * 1024)
#define MAX_ARGS 64

extern char **environ;

/* The wapsim program beside this one (a build), or the installed one (libexec/wapsim/.. /../bin). */
static int wapsim_path(char *out, size_t n)
{
    char dir[PATH_MAX];
    if (ws_self_dir(dir, sizeof dir) != 0)
        return -1;
    snprintf(out, n, "%s/wapsim", dir);
    if (access(out, X_OK) == 0)
        return 0;
    snprintf(out, n, "%s/../../bin/wapsim", dir);
    return access(out, X_OK) == 0 ? 0 : -1;
}

/* The command line as typed: wapsim and each argument, quoted when it needs it. */
static char *command_line(const char *const *args)
{
    size_t cap = 64;
    for (int i = 0; args[i]; i++)
        cap += strlen(args[i]) * 4 + 3;
    char *s = malloc(cap), *o = s;
    if (!s)
        abort();
    o += sprintf(o, "wapsim");
    for (int i = 0; args[i]; i++) {
        int plain = args[i][0] != '\0';
        for (const char *p = args[i]; *p; p++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/=@+", *p))
                plain = 0;
        if (plain) {
            o += sprintf(o, " %s", args[i]);
            continue;
        }
        *o++ = ' ', *o++ = '\'';
        for (const char *p = args[i]; *p; p++)
            o += *p == '\'' ? sprintf(o, "'\\''") : sprintf(o, "%c", *p);
        *o++ = '\'';
        *o = '\0';
    }
    return s;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n > OUTPUT_MAX)
        n = OUTPUT_MAX - *len;
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap)
            *cap *= 2;
        if (!(*buf = realloc(*buf, *cap)))
            abort();
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* Read the child's output until it closes or the deadline passes (then kill it). */
static char *collect(int fd, pid_t pid, int timeout_s)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap), chunk[4096];
    if (!buf)
        abort();
    buf[0] = '\0';
    long deadline = now_ms() + timeout_s * 1000L;
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0) {
            kill(-pid, SIGKILL); /* its process group: the command runs in a session of its own */
            kill(pid, SIGKILL);
            static const char msg[] = "\n(the admin site stopped the command: it ran past its deadline)\n";
            len = len > OUTPUT_MAX - sizeof msg ? OUTPUT_MAX - sizeof msg : len;
            append(&buf, &len, &cap, msg, sizeof msg - 1);
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno != EINTR)
            break; /* cannot wait on the pipe: stop reading, the caller reaps the child */
        if (r <= 0)
            continue;
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        append(&buf, &len, &cap, chunk, (size_t)n);
    }
    return buf;
}

int admin_run(ws_httpd_req *rq, const char *const *args, int timeout_s, admin_outcome *out)
{
    return admin_run_in(rq->c->lab_dir, args, timeout_s, out);
}

int admin_run_in(const char *lab_dir, const char *const *args, int timeout_s, admin_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->status = -1;
    out->command = command_line(args);
    char program[PATH_MAX], lab[PATH_MAX];
    if (wapsim_path(program, sizeof program) != 0 || (lab_dir && !realpath(lab_dir, lab))) {
        out->output = ws_strdup("the admin site cannot find the wapsim program beside it\n");
        return -1;
    }
    const char *argv[MAX_ARGS + 4] = {"wapsim", "--lab", lab};
    int n = lab_dir ? 3 : 1;
    for (int i = 0; args[i] && n < MAX_ARGS + 3; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        out->output = ws_strdup("no pipe for the command's output\n");
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    /* Nothing else of the portal's: libcurl's pooled connections to SPF are not
     * close-on-exec, and a command has no business with them (glibc 2.34). */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawn(&pid, program, &fa, &attr, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        char msg[256];
        snprintf(msg, sizeof msg, "%s could not start: %s\n", program, strerror(rc));
        out->output = ws_strdup(msg);
        return -1;
    }
    out->output = collect(pipefd[0], pid, timeout_s);
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    out->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    fprintf(stderr, "wapsim-portal: admin site ran: %s (exit %d)\n", out->command, out->status);
    return 0;
}

void admin_outcome_free(admin_outcome *o)
{
    free(o->command);
    free(o->output);
    memset(o, 0, sizeof *o);
}

void admin_outcome_html(web_page *w, const admin_outcome *o)
{
    web_raw(w, "<section class=\"outcome %s\" id=\"outcome\" data-status=\"%d\"><h2>%s</h2><pre class=\"command\">",
            o->status == 0 ? "ok" : "failed", o->status, o->status == 0 ? "Done" : "Failed");
    web_esc(w, o->command);
    web_raw(w, "</pre><pre class=\"output\">");
    web_esc(w, o->output);
    web_raw(w, "</pre></section>\n");
}
