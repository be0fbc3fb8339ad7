/* supervisor: see supervisor.h. */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eventlog.h"
#include "machine.h"
#include "net.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define STABLE_AFTER_MS 1000 /* a process that ran this long restarts with the first backoff again */
#define STOP_GRACE_MS 3000
#define PROBE_TIMEOUT_MS 300

int ws_program_path(const char *program, char *out, size_t n)
{
    char dir[4096];
    if (ws_self_dir(dir, sizeof dir) != 0)
        return -1;
    snprintf(out, n, "%s/%s", dir, program);
    if (access(out, X_OK) == 0)
        return 0;
    snprintf(out, n, "%s/../libexec/wapsim/%s", dir, program);
    if (access(out, X_OK) == 0)
        return 0;
    snprintf(out, n, "%s/%s", dir, program);
    return -1;
}

static void run_path(const char *lab_dir, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/run/%s.pid", lab_dir, name);
}

static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid > 1 ? (pid_t)pid : 0;
}

static void write_pid(const char *path, pid_t pid)
{
    char text[32];
    snprintf(text, sizeof text, "%ld\n", (long)pid);
    ws_write_file(path, text, strlen(text), 0600, NULL);
}

/* A pid is ours when the process is alive (not a zombie) and its command line
 * carries this lab's directory: a recycled pid is never signalled. */
static int pid_is_ours(pid_t pid, const char *lab_dir)
{
    if (pid <= 1)
        return 0;
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *paren = strrchr(buf, ')');
    if (!paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X')
        return 0;
    snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
        if (strcmp(buf + i, lab_dir) == 0)
            return 1;
    return 0;
}

/* ---- the supervisor daemon ---- */

typedef struct child {
    char machine[64];
    char program[64];
    char service[96];
    char path[4200];
    pid_t pid;
    int restarts;
    int backoff_ms;
    int64_t started_ms;
    int64_t next_start_ms;
} child;

static void record(ws_state *st, const child *ch)
{
    sqlite3_stmt *s = ws_state_prepare(st,
                                       "INSERT INTO processes(machine, program, pid, restarts, started_at_ms)"
                                       " VALUES(?, ?, ?, ?, ?) ON CONFLICT(machine) DO UPDATE SET"
                                       " program = excluded.program, pid = excluded.pid,"
                                       " restarts = excluded.restarts, started_at_ms = excluded.started_at_ms",
                                       NULL);
    if (!s)
        return;
    sqlite3_bind_text(s, 1, ch->machine, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, ch->program, -1, SQLITE_STATIC);
    if (ch->pid)
        sqlite3_bind_int64(s, 3, ch->pid);
    sqlite3_bind_int(s, 4, ch->restarts);
    sqlite3_bind_int64(s, 5, ch->started_ms);
    sqlite3_step(s);
    sqlite3_finalize(s);
}

static void spawn(ws_state *st, child *ch, const char *lab_dir, const sigset_t *oldmask)
{
    char log[4200];
    snprintf(log, sizeof log, "%s/log/%s.log", lab_dir, ch->machine);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "supervisor: cannot start %s: %s\n", ch->machine, strerror(errno));
        ch->next_start_ms = ws_mono_ms() + BACKOFF_MAX_MS;
        return;
    }
    if (pid == 0) {
        /* A component never outlives its supervisor. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        (void)oldmask;
        /* A component starts with default signal handling, whatever ours or our caller's. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
            if (sig != SIGKILL && sig != SIGSTOP)
                signal(sig, SIG_DFL);
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in >= 0) {
            dup2(in, 0);
            if (in > 2)
                close(in);
        }
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
            if (out > 2)
                close(out);
        }
        char *argv[] = {ch->program, "--lab", (char *)lab_dir, "--machine", ch->machine, NULL};
        execv(ch->path, argv);
        fprintf(stderr, "supervisor: cannot run %s: %s\n", ch->path, strerror(errno));
        _exit(127);
    }
    ch->pid = pid;
    ch->started_ms = ws_mono_ms();
    char pidfile[4200];
    run_path(lab_dir, ch->machine, pidfile, sizeof pidfile);
    write_pid(pidfile, pid);
    record(st, ch);
    fprintf(stderr, "supervisor: started %s (%s) pid %ld\n", ch->machine, ch->program, (long)pid);
}

static int collect_child(const ws_machine *m, void *arg)
{
    child **list = ((child ***)arg)[0];
    int *n = ((int **)arg)[1];
    const ws_role *r = ws_role_find(m->role);
    if (!r || !r->program)
        return 0;
    *list = realloc(*list, (size_t)(*n + 1) * sizeof **list);
    if (!*list)
        abort();
    child *ch = &(*list)[(*n)++];
    memset(ch, 0, sizeof *ch);
    snprintf(ch->machine, sizeof ch->machine, "%s", m->name);
    snprintf(ch->program, sizeof ch->program, "%s", r->program);
    snprintf(ch->service, sizeof ch->service, "%s", r->service_name);
    ws_program_path(r->program, ch->path, sizeof ch->path);
    ch->backoff_ms = BACKOFF_FIRST_MS;
    return 0;
}

static void reap(ws_state *st, child *kids, int n, const char *lab_dir, int stopping)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < n; i++) {
            child *ch = &kids[i];
            if (ch->pid != pid)
                continue;
            ch->pid = 0;
            char pidfile[4200];
            run_path(lab_dir, ch->machine, pidfile, sizeof pidfile);
            unlink(pidfile);
            if (stopping) {
                record(st, ch);
                break;
            }
            int64_t now = ws_mono_ms();
            if (now - ch->started_ms > STABLE_AFTER_MS)
                ch->backoff_ms = BACKOFF_FIRST_MS;
            ch->restarts++;
            ch->next_start_ms = now + ch->backoff_ms;
            if (WIFSIGNALED(status))
                fprintf(stderr, "supervisor: %s (pid %ld) killed by signal %d\n", ch->machine, (long)pid,
                        WTERMSIG(status));
            else
                fprintf(stderr, "supervisor: %s (pid %ld) exited with status %d\n", ch->machine, (long)pid,
                        WEXITSTATUS(status));
            /* The Service Control Manager's text for a service with a restart action. */
            ws_event(st, ch->machine, WS_CHANNEL_SYSTEM, "Service Control Manager", 7031, WS_LEVEL_ERROR,
                     "The %s service terminated unexpectedly.  It has done this %d time(s).  The following "
                     "corrective action will be taken in %d milliseconds: Restart the service.",
                     ch->service, ch->restarts, ch->backoff_ms);
            record(st, ch);
            ch->backoff_ms = ch->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ch->backoff_ms * 2;
            break;
        }
    }
}

int ws_supervisor_run(const char *lab_dir)
{
    ws_state *st = NULL;
    ws_error e;
    /* Whatever the caller ignored or blocked: SIGCHLD must reach us to restart anything. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (ws_state_open(lab_dir, 0, &st, &e) != 0) {
        fprintf(stderr, "supervisor: %s\n", e.msg);
        return WS_EXIT_USAGE;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/run/supervisor.lock", st->lab_dir);
    int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "supervisor: another supervisor runs this lab\n");
        ws_state_close(st);
        return 0;
    }
    run_path(st->lab_dir, "supervisor", path, sizeof path);
    write_pid(path, getpid());
    ws_state_exec(st, NULL, "DELETE FROM processes", 0);

    child *kids = NULL;
    int n = 0;
    void *args[2] = {&kids, &n};
    if (ws_machine_foreach(st, collect_child, args, &e) != 0 || n == 0) {
        fprintf(stderr, "supervisor: no machines to run: %s\n", n == 0 ? "the lab has none" : e.msg);
        run_path(st->lab_dir, "supervisor", path, sizeof path);
        unlink(path);
        free(kids);
        ws_state_close(st);
        close(lock);
        return WS_EXIT_FAIL;
    }

    sigset_t mask, oldmask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, &oldmask);
    fprintf(stderr, "supervisor: pid %ld supervising %d machines of %s\n", (long)getpid(), n, st->lab_dir);

    int stopping = 0;
    while (!stopping) {
        int64_t now = ws_mono_ms();
        for (int i = 0; i < n; i++)
            if (!kids[i].pid && now >= kids[i].next_start_ms)
                spawn(st, &kids[i], st->lab_dir, &oldmask);
        struct timespec ts = {0, 50 * 1000000L};
        int sig = sigtimedwait(&mask, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
            stopping = 1;
        reap(st, kids, n, st->lab_dir, stopping);
    }

    /* Stop: SIGTERM each process, wait, then SIGKILL what is left. */
    fprintf(stderr, "supervisor: stopping\n");
    for (int i = 0; i < n; i++)
        if (kids[i].pid)
            kill(kids[i].pid, SIGTERM);
    int64_t deadline = ws_mono_ms() + STOP_GRACE_MS;
    for (;;) {
        reap(st, kids, n, st->lab_dir, 1);
        int alive = 0;
        for (int i = 0; i < n; i++)
            alive += kids[i].pid != 0;
        if (!alive)
            break;
        if (ws_mono_ms() > deadline) {
            for (int i = 0; i < n; i++)
                if (kids[i].pid) {
                    fprintf(stderr, "supervisor: %s did not stop, killing it\n", kids[i].machine);
                    kill(kids[i].pid, SIGKILL);
                }
            deadline = ws_mono_ms() + STOP_GRACE_MS;
        }
        ws_sleep_ms(20);
    }
    free(kids);
    run_path(st->lab_dir, "supervisor", path, sizeof path);
    unlink(path);
    fprintf(stderr, "supervisor: stopped\n");
    ws_state_close(st);
    close(lock);
    return 0;
}

/* ---- operator side: up, down, status ---- */

pid_t ws_supervisor_pid(ws_state *st)
{
    char path[4200];
    run_path(st->lab_dir, "supervisor", path, sizeof path);
    pid_t pid = read_pid(path);
    return pid_is_ours(pid, st->lab_dir) ? pid : 0;
}

static int start_supervisor(ws_state *st, ws_error *e)
{
    char self[4200], log[4200];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return ws_seterr(e, "cannot find the wapsim program itself");
    self[len] = '\0';
    snprintf(log, sizeof log, "%s/log/supervisor.log", st->lab_dir);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/run", st->lab_dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/log", st->lab_dir);
    mkdir(dir, 0700);
    pid_t pid = fork();
    if (pid < 0)
        return ws_seterr(e, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* Detach twice: the supervisor belongs to no terminal and no caller. */
        setsid();
        pid_t inner = fork();
        if (inner != 0)
            _exit(inner < 0 ? 1 : 0);
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in >= 0)
            dup2(in, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        char *argv[] = {"wapsim", "__supervise", "--lab", st->lab_dir, NULL};
        execv(self, argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return 0;
}

static int status_row(const ws_machine *m, void *arg)
{
    void **a = arg;
    ws_state *st = a[0];
    ws_proc_status **list = a[1];
    int *n = a[2];
    const ws_role *r = ws_role_find(m->role);
    if (!r || !r->program)
        return 0;
    *list = realloc(*list, (size_t)(*n + 1) * sizeof **list);
    if (!*list)
        abort();
    ws_proc_status *p = &(*list)[(*n)++];
    memset(p, 0, sizeof *p);
    snprintf(p->machine, sizeof p->machine, "%s", m->name);
    snprintf(p->program, sizeof p->program, "%s", r->program);
    snprintf(p->address, sizeof p->address, "%s", m->address);
    p->port = m->port;
    char pidfile[4200];
    run_path(st->lab_dir, m->name, pidfile, sizeof pidfile);
    pid_t pid = read_pid(pidfile);
    p->pid = pid_is_ours(pid, st->lab_dir) ? pid : 0;
    sqlite3_stmt *s = ws_state_prepare(st, "SELECT restarts FROM processes WHERE machine = ?", NULL);
    if (s) {
        sqlite3_bind_text(s, 1, m->name, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            p->restarts = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    if (p->pid) {
        int fd = ws_tcp_connect(m->address, m->port, PROBE_TIMEOUT_MS, NULL);
        if (fd >= 0) {
            p->healthy = 1;
            close(fd);
        }
    }
    return 0;
}

int ws_lab_status(ws_state *st, ws_proc_status **out, int *n, ws_error *e)
{
    *out = NULL;
    *n = 0;
    void *args[3] = {st, out, n};
    return ws_machine_foreach(st, status_row, args, e);
}

static int check_ports(const ws_machine *m, void *arg)
{
    ws_error *e = arg;
    if (m->port && !ws_tcp_port_free(m->address, m->port)) {
        ws_seterr(e, "%s:%d (%s) is already in use: another lab on the same subnet, or a leftover process",
                  m->address, m->port, m->name);
        return 1;
    }
    return 0;
}

/* up and down of one lab run one at a time (run/lifecycle.lock), so a down never
 * races a supervisor that an up is starting. */
static int lifecycle_lock(ws_state *st)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/run", st->lab_dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/run/lifecycle.lock", st->lab_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        flock(fd, LOCK_EX);
    return fd;
}

/* The supervisor holds run/supervisor.lock for as long as it runs. */
static int supervisor_lock_held(ws_state *st)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/run/supervisor.lock", st->lab_dir);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int held = flock(fd, LOCK_EX | LOCK_NB) != 0;
    close(fd);
    return held;
}

static int lab_down_locked(ws_state *st, int *stopped, ws_error *e);

static int lab_up_locked(ws_state *st, int timeout_ms, int quiet, ws_error *e)
{
    int started = 0;
    if (!ws_supervisor_pid(st)) {
        e->msg[0] = '\0';
        ws_error ferr;
        if (ws_machine_foreach(st, check_ports, e, &ferr) != 0)
            return ws_seterr(e, "%s", ferr.msg);
        if (e->msg[0])
            return -1;
        char prog[4200];
        ws_proc_status *list = NULL;
        int n = 0;
        if (ws_lab_status(st, &list, &n, &ferr) != 0 || n == 0) {
            free(list);
            return ws_seterr(e, "%s", n == 0 ? "the lab has no machines to run" : ferr.msg);
        }
        for (int i = 0; i < n; i++) {
            if (ws_program_path(list[i].program, prog, sizeof prog) != 0) {
                ws_seterr(e, "cannot find %s next to wapsim (build it with make)", list[i].program);
                free(list);
                return -1;
            }
        }
        free(list);
        if (start_supervisor(st, e) != 0)
            return -1;
        started = 1;
        if (!quiet)
            fprintf(stderr, "up: starting the lab in %s\n", st->lab_dir);
    }
    int64_t t0 = ws_mono_ms(), deadline = t0 + timeout_ms;
    for (;;) {
        ws_proc_status *list = NULL;
        int n = 0, healthy = 0;
        if (ws_lab_status(st, &list, &n, e) != 0) {
            if (started) {
                int stopped;
                ws_error ignored;
                lab_down_locked(st, &stopped, &ignored);
            }
            return -1;
        }
        const ws_proc_status *bad = NULL;
        for (int i = 0; i < n; i++) {
            if (list[i].healthy)
                healthy++;
            else if (!bad)
                bad = &list[i];
        }
        if (!bad) {
            free(list);
            if (!quiet)
                fprintf(stderr, "up: %d machines healthy after %.2f s\n", n, (double)(ws_mono_ms() - t0) / 1000);
            return 0;
        }
        if (ws_mono_ms() > deadline) {
            char log[4200], last[512];
            snprintf(log, sizeof log, "%s/log/%s.log", st->lab_dir, bad->machine);
            ws_last_line(log, last, sizeof last);
            ws_seterr(e, "%s (%s) did not become healthy on %s:%d%s%s", bad->machine, bad->program, bad->address,
                      bad->port, last[0] ? ": " : "", last);
            free(list);
            if (started) {
                int stopped;
                ws_error ignored;
                lab_down_locked(st, &stopped, &ignored);
            }
            return -1;
        }
        free(list);
        ws_sleep_ms(50);
    }
}

int ws_lab_up(ws_state *st, int timeout_ms, int quiet, ws_error *e)
{
    int lock = lifecycle_lock(st);
    int rc = lab_up_locked(st, timeout_ms, quiet, e);
    if (lock >= 0)
        close(lock);
    return rc;
}

static int lab_down_locked(ws_state *st, int *stopped, ws_error *e)
{
    *stopped = 0;
    pid_t sup = ws_supervisor_pid(st);
    /* A supervisor that is starting holds its lock before its pid file exists. */
    for (int64_t until = ws_mono_ms() + 3000; !sup && supervisor_lock_held(st) && ws_mono_ms() < until;) {
        ws_sleep_ms(20);
        sup = ws_supervisor_pid(st);
    }
    ws_proc_status *before = NULL;
    int nbefore = 0;
    ws_lab_status(st, &before, &nbefore, NULL);
    for (int i = 0; i < nbefore; i++)
        *stopped += before[i].pid != 0;
    free(before);
    if (sup) {
        kill(sup, SIGTERM);
        int64_t deadline = ws_mono_ms() + 2 * STOP_GRACE_MS + 2000;
        while (pid_is_ours(sup, st->lab_dir) && ws_mono_ms() < deadline)
            ws_sleep_ms(20);
        if (pid_is_ours(sup, st->lab_dir))
            kill(sup, SIGKILL);
    }
    /* Whatever is left (a supervisor killed with -9 leaves its children to die by
     * PDEATHSIG, but be sure): stop each pid file's process. */
    ws_proc_status *list = NULL;
    int n = 0;
    ws_lab_status(st, &list, &n, NULL);
    for (int i = 0; i < n; i++)
        if (list[i].pid)
            kill(list[i].pid, SIGKILL);
    int64_t deadline = ws_mono_ms() + 2000;
    int survivors = 0;
    for (int i = 0; i < n; i++) {
        while (list[i].pid && pid_is_ours(list[i].pid, st->lab_dir) && ws_mono_ms() < deadline)
            ws_sleep_ms(10);
        char pidfile[4200];
        run_path(st->lab_dir, list[i].machine, pidfile, sizeof pidfile);
        if (list[i].pid && pid_is_ours(list[i].pid, st->lab_dir))
            survivors++;
        else
            unlink(pidfile); /* only once its process is gone */
    }
    free(list);
    char path[4200];
    run_path(st->lab_dir, "supervisor", path, sizeof path);
    if (sup && pid_is_ours(sup, st->lab_dir))
        survivors++;
    else if (!supervisor_lock_held(st))
        unlink(path);
    if (survivors)
        return ws_seterr(e, "%d process%s of the lab did not stop", survivors, survivors == 1 ? "" : "es");
    return 0;
}

int ws_lab_down(ws_state *st, int *stopped, ws_error *e)
{
    int lock = lifecycle_lock(st);
    int rc = lab_down_locked(st, stopped, e);
    if (lock >= 0)
        close(lock);
    return rc;
}
