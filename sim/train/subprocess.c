/* SPDX-License-Identifier: Apache-2.0 */
/* subprocess: see subprocess.h. Pipes read with poll while the child runs, so a child
 * that writes more than a pipe holds is not blocked; the exit is seen through a pidfd
 * polled with the pipes (so the wait ends when the child does, not at the next look),
 * and reaped with waitpid, so no SIGCHLD handler is needed. Without pidfds (Linux before
 * 5.3) the exit is looked at every POLL_MS. */
#include "train/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"

#define POLL_MS 20 /* the longest wait between two looks at the clock (and the child, without a pidfd) */

/* A descriptor that becomes readable when the child exits; -1 when the kernel has none. */
static int pid_fd(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

const char *ws_subprocess_self(void)
{
    static char self[PATH_MAX];
    if (!self[0]) {
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        self[len > 0 ? len : 0] = '\0';
    }
    return self;
}

/* Reads what fd has now into b, up to its maximum; 1 at end of file, 0 otherwise. */
static int drain(int fd, ws_buf *b, int *truncated)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n == 0)
            return 1;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
        for (ssize_t i = 0; i < n; i++)
            if (chunk[i] == '\0')
                chunk[i] = ' ';
        size_t room = b->max - ws_buf_len(b);
        size_t take = (size_t)n < room ? (size_t)n : room;
        if (take < (size_t)n)
            *truncated = 1;
        if (take && ws_buf_add(b, chunk, take) != 0)
            *truncated = 1;
    }
}

static ws_subprocess_main self_main;

void ws_subprocess_set_main(ws_subprocess_main fn)
{
    self_main = fn;
}

/* The command in this copy of the program: what exec would give it, without loading the
 * program and its 46 libraries again (about 40 ms of CPU per command: issue 16). Signal
 * handlers go back to the defaults, as across exec; the descriptors this process holds
 * (close-on-exec ones included) are closed from 3 up. */
static void run_here(char **argv, int argc)
{
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    exit(self_main(argc, argv));
}

static void child(const ws_subprocess *p, char **argv, int out_fd, int err_fd)
{
    setpgid(0, 0);
    /* The command runs in its lab's folder, so the files a step writes by relative
     * path (--out, --screenshot) stay in that lab; the lab is then named absolutely.
     * A lab that is not a folder is left to the command to refuse. */
    static char abs[PATH_MAX];
    if (realpath(p->lab, abs) && chdir(abs) == 0)
        argv[2] = abs;
    int in = open("/dev/null", O_RDONLY);
    if (in < 0)
        _exit(WS_SUBPROCESS_NO_EXEC);
    dup2(in, 0);
    dup2(out_fd, 1);
    dup2(p->merge ? out_fd : err_fd, 2);
    if (p->no_exec && self_main)
        run_here(argv, p->nargs + 3);
    execv("/proc/self/exe", argv);
    _exit(WS_SUBPROCESS_NO_EXEC);
}

int ws_subprocess_run(const ws_subprocess *p, ws_subprocess_result *r)
{
    memset(r, 0, sizeof *r);
    ws_buf_init(&r->out, WS_BUF_MAX_SUBPROCESS);
    ws_buf_init(&r->err, WS_BUF_MAX_SUBPROCESS);
    r->status = -1;
    char **argv = calloc((size_t)p->nargs + 4, sizeof *argv);
    if (!argv)
        return -1;
    argv[0] = "wapsim";
    argv[1] = "--lab";
    argv[2] = (char *)p->lab;
    for (int i = 0; i < p->nargs; i++)
        argv[3 + i] = p->args[i];
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) != 0 || (!p->merge && pipe2(pe, O_CLOEXEC) != 0)) {
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0)
                close(po[i]);
        }
        free(argv);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0)
        child(p, argv, po[1], pe[1]);
    free(argv);
    close(po[1]);
    if (pe[1] >= 0)
        close(pe[1]);
    if (pid < 0) {
        close(po[0]);
        if (pe[0] >= 0)
            close(pe[0]);
        return -1;
    }
    setpgid(pid, pid);
    int fds[2] = {po[0], pe[0]};
    ws_buf *bufs[2] = {&r->out, &r->err};
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    int64_t deadline = ws_mono_ms() + (int64_t)p->timeout_s * 1000;
    int status = 0, timed_out = 0, reaped = 0;
    int pfd = pid_fd(pid);
    while (!reaped) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        int stop = p->stop && *p->stop;
        if (stop || ws_mono_ms() > deadline) {
            timed_out = !stop;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            reaped = 1;
            break;
        }
        struct pollfd pf[3];
        int n = 0;
        for (int i = 0; i < 2; i++)
            if (fds[i] >= 0)
                pf[n++] = (struct pollfd){fds[i], POLLIN, 0};
        if (pfd >= 0)
            pf[n++] = (struct pollfd){pfd, POLLIN, 0};
        if (n == 0)
            ws_sleep_ms(POLL_MS);
        else if (poll(pf, (nfds_t)n, POLL_MS) > 0)
            for (int i = 0; i < 2; i++)
                if (fds[i] >= 0 && drain(fds[i], bufs[i], &r->truncated)) {
                    close(fds[i]);
                    fds[i] = -1;
                }
    }
    if (pfd >= 0)
        close(pfd);
    /* What the child wrote before it ended; a process it left behind may hold the pipe
     * open, so this takes only what is there now. */
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0) {
            drain(fds[i], bufs[i], &r->truncated);
            close(fds[i]);
        }
    if (status == -1)
        r->status = -1;
    else if (timed_out)
        r->status = WS_SUBPROCESS_TIMED_OUT;
    else if (WIFEXITED(status))
        r->status = WEXITSTATUS(status);
    else
        r->status = WS_SUBPROCESS_SIGNAL + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return r->status;
}

void ws_subprocess_result_free(ws_subprocess_result *r)
{
    ws_buf_free(&r->out);
    ws_buf_free(&r->err);
}
