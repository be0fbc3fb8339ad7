/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor: see supervisor.h. */
#include "svc/supervisor.h"

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

#include "lab/events.h"
#include "lab/machine.h"
#include "base/net.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define STABLE_AFTER_MS 1000 /* a process that ran this long restarts with the first backoff again */
#define STOP_GRACE_MS 3000
#define PROBE_TIMEOUT_MS 300
#define REQUEST_TIMEOUT_MS 5000     /* the supervisor takes a request within one loop */
#define RUNNING_EVENT_WAIT_MS 2000  /* a healthy component writes its running event at once */
/* How often the commands that wait look again (up: every machine healthy; down: the
 * supervisor gone; service: the request taken, the process stopped or healthy). Each
 * look is a few file reads and at most one TCP connect per machine: cheap, and a scenario
 * runs dozens of these waits (issue 16: the suite's time). */
#define UP_POLL_MS 10
#define WAIT_POLL_MS 5

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

/* ---- the operator's wishes for a service (service stop|start|restart) ----
 * run/<machine>.stopped   the service stays stopped until service start or restart, or
 *                         the next supervisor (up after down);
 * run/<machine>.request   one request, "stop", "start" or "restart", that the supervisor
 *                         takes (renames away) when it reads the wishes.
 * The command writes them and sends the supervisor SIGUSR1; the supervisor reads every
 * machine's wishes then (and each second besides). A request taken is the supervisor's
 * acknowledgement: from then on it acts on the wish. */
static void wish_path(const char *lab_dir, const char *machine, const char *kind, char *out, size_t n)
{
    snprintf(out, n, "%s/run/%s.%s", lab_dir, machine, kind);
}

static int wish_stopped(const char *lab_dir, const char *machine)
{
    char path[4200];
    wish_path(lab_dir, machine, "stopped", path, sizeof path);
    return access(path, F_OK) == 0;
}

static void wish_clear(const char *lab_dir, const char *machine)
{
    static const char *const kinds[] = {"stopped", "request", "request.taken"};
    char path[4200];
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        wish_path(lab_dir, machine, kinds[i], path, sizeof path);
        unlink(path);
    }
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
    int held;           /* the operator stopped it (service stop): not started again */
    int gone;           /* its machine left the lab (fabric remove-*): stopped, never started */
    int stopping;       /* we sent SIGTERM (service stop or restart): its exit is expected */
    int64_t kill_at_ms; /* SIGKILL then if it has not exited */
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

static void stop_child(child *ch);

/* Machines that joined the lab since we started (wapsim fabric add-gateway,
 * add-balancer) become children,
 * started at once; a child whose machine left is stopped and kept out. A state file
 * that cannot be read changes nothing. */
static void adopt_machines(ws_state *st, child **kids, int *n)
{
    child *now = NULL;
    int m = 0;
    void *args[2] = {&now, &m};
    ws_error e;
    if (ws_machine_foreach(st, collect_child, args, &e) != 0) {
        free(now);
        return;
    }
    for (int i = 0; i < *n; i++) {
        int present = 0, j = 0;
        for (; j < m && !present; j++)
            present = strcmp(now[j].machine, (*kids)[i].machine) == 0;
        if (!present && !(*kids)[i].gone) {
            fprintf(stderr, "supervisor: %s left the lab\n", (*kids)[i].machine);
            (*kids)[i].gone = 1;
            stop_child(&(*kids)[i]);
        } else if (present && (*kids)[i].gone) {
            fprintf(stderr, "supervisor: %s joined the lab again\n", (*kids)[i].machine);
            /* The name may come back with another role (lb01 removed, then added as a
             * gateway): it runs what its role runs now, from a fresh start. */
            child *k = &(*kids)[i], *fresh = &now[j - 1];
            memcpy(k->program, fresh->program, sizeof k->program);
            memcpy(k->service, fresh->service, sizeof k->service);
            memcpy(k->path, fresh->path, sizeof k->path);
            k->backoff_ms = fresh->backoff_ms;
            k->restarts = 0;
            k->held = 0;
            k->gone = 0;
            k->next_start_ms = ws_mono_ms();
        }
    }
    for (int j = 0; j < m; j++) {
        int known = 0;
        for (int i = 0; i < *n && !known; i++)
            known = strcmp(now[j].machine, (*kids)[i].machine) == 0;
        if (known)
            continue;
        child *grown = realloc(*kids, (size_t)(*n + 1) * sizeof *grown);
        if (!grown)
            abort();
        *kids = grown;
        (*kids)[*n] = now[j];
        fprintf(stderr, "supervisor: %s joined the lab\n", now[j].machine);
        (*n)++;
    }
    free(now);
}

/* SIGTERM a child on the operator's behalf; its exit is then no crash. */
static void stop_child(child *ch)
{
    if (!ch->pid || ch->stopping)
        return;
    fprintf(stderr, "supervisor: stopping %s (pid %ld) for the operator\n", ch->machine, (long)ch->pid);
    kill(ch->pid, SIGTERM);
    ch->stopping = 1;
    ch->kill_at_ms = ws_mono_ms() + STOP_GRACE_MS;
}

/* Read every machine's wishes and act: hold and stop, start at once, or stop and
 * start again at once (the expected exit is respawned without backoff by reap). */
static void read_wishes(child *kids, int n, const char *lab_dir)
{
    int64_t now = ws_mono_ms();
    for (int i = 0; i < n; i++) {
        child *ch = &kids[i];
        if (ch->gone)
            continue;
        char path[4200], taken[4300], req[16] = "";
        wish_path(lab_dir, ch->machine, "request", path, sizeof path);
        snprintf(taken, sizeof taken, "%s.taken", path);
        if (rename(path, taken) == 0) {
            FILE *f = fopen(taken, "r");
            if (f) {
                if (!fgets(req, sizeof req, f))
                    req[0] = '\0';
                fclose(f);
            }
            req[strcspn(req, "\r\n")] = '\0';
            unlink(taken);
            fprintf(stderr, "supervisor: %s: the operator asks to %s it\n", ch->machine, req[0] ? req : "(nothing)");
        }
        if (wish_stopped(lab_dir, ch->machine)) {
            ch->held = 1;
            stop_child(ch);
            continue;
        }
        int was_held = ch->held;
        ch->held = 0;
        if (ch->pid) {
            if (strcmp(req, "restart") == 0)
                stop_child(ch); /* not held: reap starts it again at once */
        } else if (was_held || req[0]) {
            ch->next_start_ms = now;
            ch->backoff_ms = BACKOFF_FIRST_MS;
        }
    }
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
            if (stopping) {
                unlink(pidfile);
                record(st, ch);
                break;
            }
            int64_t now = ws_mono_ms();
            if (ch->stopping) {
                /* Stopped for the operator: no crash, no restart counted, no backoff. The
                 * pid file goes last: the waiting command then finds the event written. */
                ch->stopping = 0;
                fprintf(stderr, "supervisor: %s (pid %ld) stopped%s\n", ch->machine, (long)pid,
                        ch->held ? "; held stopped" : "; starting it again");
                ws_event_write(st, ch->machine, WS_EV_SCM_7036_STOPPED, ch->service);
                ch->backoff_ms = BACKOFF_FIRST_MS;
                ch->next_start_ms = now;
                record(st, ch);
                unlink(pidfile);
                break;
            }
            unlink(pidfile);
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
            ws_event_write(st, ch->machine, WS_EV_SCM_7031, ch->service, ch->restarts, ch->backoff_ms);
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
    /* Whatever the caller ignored or blocked: SIGCHLD must reach us to restart anything.
     * The signals we wait for are blocked from the start, so a SIGUSR1 from `service`
     * never finds us with its default action (terminate). */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigset_t mask, oldmask;
    sigemptyset(&oldmask);
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_SETMASK, &mask, NULL);
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

    /* A new supervisor starts every machine: wishes of an earlier run are gone. */
    for (int i = 0; i < n; i++)
        wish_clear(st->lab_dir, kids[i].machine);
    fprintf(stderr, "supervisor: pid %ld supervising %d machines of %s\n", (long)getpid(), n, st->lab_dir);

    int stopping = 0;
    int64_t wishes_read_ms = ws_mono_ms();
    while (!stopping) {
        int64_t now = ws_mono_ms();
        for (int i = 0; i < n; i++) {
            child *ch = &kids[i];
            if (!ch->pid && !ch->held && !ch->gone && now >= ch->next_start_ms)
                spawn(st, ch, st->lab_dir, &oldmask);
            else if (ch->pid && ch->stopping && now >= ch->kill_at_ms) {
                fprintf(stderr, "supervisor: %s did not stop, killing it\n", ch->machine);
                kill(ch->pid, SIGKILL);
                ch->kill_at_ms = INT64_MAX;
            }
        }
        struct timespec ts = {0, 50 * 1000000L};
        int sig = sigtimedwait(&mask, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
            stopping = 1;
        reap(st, kids, n, st->lab_dir, stopping);
        /* The operator's wishes: on SIGUSR1 from `service`, and each second besides. */
        if (!stopping && (sig == SIGUSR1 || ws_mono_ms() - wishes_read_ms >= 1000)) {
            adopt_machines(st, &kids, &n);
            read_wishes(kids, n, st->lab_dir);
            wishes_read_ms = ws_mono_ms();
        }
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
        /* Until the next child exits (SIGCHLD is blocked: it waits here), at most 20 ms. */
        struct timespec ts = {0, 20 * 1000000L};
        sigtimedwait(&mask, NULL, &ts);
    }
    for (int i = 0; i < n; i++)
        wish_clear(st->lab_dir, kids[i].machine);
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

pid_t ws_supervisor_died(ws_state *st)
{
    char path[4200];
    run_path(st->lab_dir, "supervisor", path, sizeof path);
    pid_t pid = read_pid(path);
    return pid && !pid_is_ours(pid, st->lab_dir) ? pid : 0;
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
        /* The running image itself: a rebuild that replaced the file meanwhile does not matter. */
        execv("/proc/self/exe", argv);
        execv(self, argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return 0;
}

/* One machine's process: pid from its pid file (when the process is ours), restarts,
 * the operator's stop, and health: alive and accepting a TCP connection. */
static void probe(ws_state *st, const ws_machine *m, const ws_role *r, ws_proc_status *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->machine, sizeof p->machine, "%s", m->name);
    snprintf(p->program, sizeof p->program, "%s", r->program);
    snprintf(p->address, sizeof p->address, "%s", m->address);
    p->port = m->port;
    char pidfile[4200];
    run_path(st->lab_dir, m->name, pidfile, sizeof pidfile);
    pid_t pid = read_pid(pidfile);
    p->pid = pid_is_ours(pid, st->lab_dir) ? pid : 0;
    p->stopped = wish_stopped(st->lab_dir, m->name);
    sqlite3_stmt *s = ws_state_prepare(st, "SELECT restarts FROM processes WHERE machine = ?", NULL);
    if (s) {
        sqlite3_bind_text(s, 1, m->name, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            p->restarts = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    /* A component that cannot accept (out of descriptors) says so in run/<m>.overload:
     * the kernel still completes the TCP handshake into its backlog. */
    char overload[4200];
    snprintf(overload, sizeof overload, "%s/run/%s.overload", st->lab_dir, m->name);
    if (p->pid && access(overload, F_OK) != 0) {
        int fd = ws_tcp_connect(m->address, m->port, PROBE_TIMEOUT_MS, NULL);
        if (fd >= 0) {
            p->healthy = 1;
            close(fd);
        }
    }
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
    probe(st, m, r, &(*list)[(*n)++]);
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
int ws_lifecycle_lock(ws_state *st)
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

static int send_request(ws_state *st, pid_t sup, const char *machine, const char *request, ws_error *e);

/* up with the lab already running: services the operator stopped start again. */
static void release_holds(ws_state *st, int quiet)
{
    pid_t sup = ws_supervisor_pid(st);
    ws_proc_status *list = NULL;
    int n = 0;
    if (sup && ws_lab_status(st, &list, &n, NULL) == 0)
        for (int i = 0; i < n; i++) {
            if (!list[i].stopped)
                continue;
            if (!quiet)
                fprintf(stderr, "up: starting %s, stopped by the operator\n", list[i].machine);
            char path[4200];
            wish_path(st->lab_dir, list[i].machine, "stopped", path, sizeof path);
            unlink(path);
            ws_error ignored;
            send_request(st, sup, list[i].machine, "start", &ignored);
        }
    free(list);
}

/* A supervisor that died (kill -9) left its pid file, and machines that may still be
 * on their way out (PDEATHSIG) or alive: clear them away before a new one starts. */
static void clear_leftovers(ws_state *st, int quiet)
{
    pid_t dead = ws_supervisor_died(st);
    ws_proc_status *list = NULL;
    int n = 0, alive = 0;
    if (ws_lab_status(st, &list, &n, NULL) == 0)
        for (int i = 0; i < n; i++)
            alive += list[i].pid != 0;
    free(list);
    if (!dead && !alive)
        return;
    if (!quiet && dead)
        fprintf(stderr, "up: the supervisor (pid %ld) had died: clearing what is left of the lab\n", (long)dead);
    int stopped;
    ws_error ignored;
    lab_down_locked(st, &stopped, &ignored);
}

static int lab_up_locked(ws_state *st, int timeout_ms, int quiet, ws_error *e)
{
    int started = 0;
    if (!ws_supervisor_pid(st)) {
        clear_leftovers(st, quiet);
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
    } else {
        release_holds(st, quiet);
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
        ws_sleep_ms(UP_POLL_MS);
    }
}

int ws_lab_up(ws_state *st, int timeout_ms, int quiet, ws_error *e)
{
    int lock = ws_lifecycle_lock(st);
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
            ws_sleep_ms(WAIT_POLL_MS);
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
            ws_sleep_ms(WAIT_POLL_MS);
        char pidfile[4200];
        run_path(st->lab_dir, list[i].machine, pidfile, sizeof pidfile);
        if (list[i].pid && pid_is_ours(list[i].pid, st->lab_dir))
            survivors++;
        else
            unlink(pidfile); /* only once its process is gone */
        wish_clear(st->lab_dir, list[i].machine); /* the next up starts every machine */
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
    int lock = ws_lifecycle_lock(st);
    int rc = lab_down_locked(st, stopped, e);
    if (lock >= 0)
        close(lock);
    return rc;
}

/* ---- operator side: service stop | start | restart ---- */

/* Write a request for the supervisor and signal it; returns once the supervisor has
 * taken it (so it acts on the wishes from then on), or fails. */
static int send_request(ws_state *st, pid_t sup, const char *machine, const char *request, ws_error *e)
{
    char path[4200], text[32];
    wish_path(st->lab_dir, machine, "request", path, sizeof path);
    snprintf(text, sizeof text, "%s\n", request);
    if (ws_write_file(path, text, strlen(text), 0600, e) != 0)
        return -1;
    kill(sup, SIGUSR1);
    int64_t deadline = ws_mono_ms() + REQUEST_TIMEOUT_MS;
    while (access(path, F_OK) == 0) {
        if (!pid_is_ours(sup, st->lab_dir)) {
            unlink(path);
            return ws_seterr(e, "the lab stopped (the supervisor is gone) before %s could %s", machine, request);
        }
        if (ws_mono_ms() > deadline) {
            unlink(path);
            return ws_seterr(e, "the supervisor (pid %ld) did not take the request to %s %s", (long)sup, request,
                             machine);
        }
        ws_sleep_ms(WAIT_POLL_MS);
    }
    return 0;
}

static int newest_event_id(ws_state *st, const char *machine, int64_t *id)
{
    *id = ws_event_newest_id(st, machine);
    return 0;
}

/* The component's own "entered the running state" after event id `after`. */
static int running_event_since(ws_state *st, const char *machine, int64_t after)
{
    sqlite3_stmt *s = ws_state_query(st, NULL,
                                     "SELECT 1 FROM events WHERE machine = ?1 AND id > ?3 AND channel = ?2 AND"
                                     " event_id = 7036 AND text LIKE '%entered the running state.' LIMIT 1",
                                     2, machine, WS_CHANNEL_SYSTEM);
    if (!s)
        return 0;
    sqlite3_bind_int64(s, 3, after);
    int found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

int ws_service_control(ws_state *st, const char *machine, ws_service_action action, int timeout_ms,
                       ws_service_result *r, ws_error *e)
{
    memset(r, 0, sizeof *r);
    snprintf(r->machine, sizeof r->machine, "%s", machine);
    ws_machine m;
    if (ws_machine_get(st, machine, &m, e) != 0)
        return -1;
    const ws_role *role = ws_role_find(m.role);
    if (!role || !role->program)
        return ws_seterr(e, "machine '%s' runs no service (role %s)", machine, m.role);
    snprintf(r->service, sizeof r->service, "%s", role->service_name);
    snprintf(r->program, sizeof r->program, "%s", role->program);
    pid_t sup = ws_supervisor_pid(st);
    if (!sup)
        return ws_seterr(e, "the lab is not running (wapsim up)");
    int64_t t0 = ws_mono_ms(), deadline = t0 + timeout_ms;
    ws_proc_status p;
    probe(st, &m, role, &p);
    r->old_pid = p.pid;
    char stopped[4200], pidfile[4200];
    wish_path(st->lab_dir, machine, "stopped", stopped, sizeof stopped);
    run_path(st->lab_dir, machine, pidfile, sizeof pidfile);

    if (action == WS_SERVICE_STOP) {
        if (p.stopped && !p.pid) {
            r->result = "was already stopped";
            return 0;
        }
        if (ws_write_file(stopped, "stopped\n", 8, 0600, e) != 0 || send_request(st, sup, machine, "stop", e) != 0)
            return -1;
        /* The supervisor removes the pid file once the process is reaped and its
         * 7036 "stopped" event written. */
        while (access(pidfile, F_OK) == 0 || (p.pid && pid_is_ours(p.pid, st->lab_dir))) {
            if (ws_mono_ms() > deadline) {
                char log[4200], last[512];
                snprintf(log, sizeof log, "%s/log/%s.log", st->lab_dir, machine);
                ws_last_line(log, last, sizeof last);
                r->elapsed_ms = ws_mono_ms() - t0;
                return ws_seterr(e, "%s (%s) did not stop within %.0f s%s%s", machine, role->program,
                                 timeout_ms / 1000.0, last[0] ? ": " : "", last);
            }
            ws_sleep_ms(WAIT_POLL_MS);
        }
        r->result = "stopped";
        r->elapsed_ms = ws_mono_ms() - t0;
        return 0;
    }

    /* start or restart: then wait for a process that is not the old one to be healthy. */
    int64_t events_before = 0;
    newest_event_id(st, machine, &events_before);
    int act = action == WS_SERVICE_RESTART || p.stopped || !p.pid;
    if (act) {
        unlink(stopped);
        if (send_request(st, sup, machine, action == WS_SERVICE_RESTART ? "restart" : "start", e) != 0)
            return -1;
        r->result = action == WS_SERVICE_RESTART ? (p.pid ? "restarted" : "started") : "started";
    } else {
        r->result = "was already running";
    }
    pid_t old = act ? p.pid : 0;
    for (;;) {
        probe(st, &m, role, &p);
        if (p.pid && p.pid != old && p.healthy)
            break;
        if (ws_mono_ms() > deadline) {
            char log[4200], last[512];
            snprintf(log, sizeof log, "%s/log/%s.log", st->lab_dir, machine);
            ws_last_line(log, last, sizeof last);
            r->elapsed_ms = ws_mono_ms() - t0;
            return ws_seterr(e, "%s (%s) did not become healthy on %s:%d within %.0f s%s%s", machine, role->program,
                             m.address, m.port, timeout_ms / 1000.0, last[0] ? ": " : "", last);
        }
        ws_sleep_ms(WAIT_POLL_MS);
    }
    r->pid = p.pid;
    r->healthy = 1;
    /* Healthy means listening; the component writes its "running" event just after it
     * listens: wait a little for it, so the log is complete when the command returns. */
    if (act) {
        int64_t until = ws_mono_ms() + RUNNING_EVENT_WAIT_MS;
        while (!running_event_since(st, machine, events_before) && ws_mono_ms() < until)
            ws_sleep_ms(WAIT_POLL_MS);
    }
    r->elapsed_ms = ws_mono_ms() - t0;
    return 0;
}
