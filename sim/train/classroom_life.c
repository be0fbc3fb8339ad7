/* SPDX-License-Identifier: Apache-2.0 */
/* classroom: init, up, down, reset and destroy of a classroom's seats (classroom.h). Work
 * on many seats runs in a few forked workers: a seat's lab init is mostly PBKDF2 (its
 * accounts' password hashes) and its up mostly the components' start, both CPU-bound,
 * so more workers than cores (each waiting on its seat's health now and then) keep
 * the cores busy without thrashing them. */
#include "train/classroom.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/accounts.h"
#include "lab/baseline.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "svc/supervisor.h"
#include "train/subprocess.h"

#define TRAINER_ACCOUNT "CONTOSO\\trainer"
#define SERVICE_TIMEOUT_MS 10000

/* ---- work on many seats at once ---- */

typedef int (*seat_fn)(const ws_classroom *c, int seat, int quiet, ws_error *e);

static int workers_for(int n, int per_core)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int k = (int)(cores > 0 ? cores : 1) * per_core;
    return k < n ? k : n;
}

/* fn on each seats[i], in `workers` forked processes (item i in worker i % workers). Each
 * failure comes back as one line "seat\tmessage" on a pipe; the first one is e. */
static int for_seats(const ws_classroom *c, const int *seats, int n, int workers, seat_fn fn, int quiet,
                     ws_error *e)
{
    int fds[2];
    if (n == 0)
        return 0;
    if (pipe(fds) != 0)
        return ws_seterr(e, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t *pids = calloc((size_t)workers, sizeof *pids);
    if (!pids)
        abort();
    int unforked = 0, fork_errno = 0;
    for (int w = 0; w < workers; w++) {
        pids[w] = fork();
        if (pids[w] < 0) { /* its share of the seats is not done: said below */
            pids[w] = 0;
            unforked++;
            fork_errno = errno;
            continue;
        }
        if (pids[w] == 0) {
            close(fds[0]);
            int failed = 0;
            for (int i = w; i < n; i += workers) {
                ws_error one = {""};
                if (fn(c, seats[i], quiet, &one) != 0) {
                    char line[sizeof one.msg + 16];
                    int len = snprintf(line, sizeof line, "%d\t%s\n", seats[i], one.msg);
                    failed = 1; /* the exit status says so when the line cannot be written */
                    if (write(fds[1], line, (size_t)len) < 0)
                        continue;
                }
            }
            _exit(failed);
        }
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[sizeof e->msg + 16];
    int failures = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        const char *name = c->seats[atoi(line)].name;
        size_t k = strlen(name);
        int named = strncmp(tab + 1, name, k) == 0 && tab[1 + k] == ':'; /* ws_classroom_reset's own */
        if (failures++ == 0)
            ws_seterr(e, "%s%s%s", named ? "" : name, named ? "" : ": ", tab + 1);
    }
    if (f)
        fclose(f);
    else
        close(fds[0]);
    int lost = 0;
    for (int w = 0; w < workers; w++) {
        int status = 0;
        if (pids[w] && (waitpid(pids[w], &status, 0) != pids[w] || WIFSIGNALED(status) ||
                        (WIFEXITED(status) && WEXITSTATUS(status) != 0 && failures == 0)))
            lost++;
    }
    free(pids);
    if (!failures && unforked)
        return ws_seterr(e, "cannot start a worker process (%s): some seats were not done", strerror(fork_errno));
    if (!failures && lost)
        return ws_seterr(e, "a worker process died or could not report a failed seat");
    return failures ? -1 : 0;
}

/* ---- init ---- */

/* The seats' block: 127.X.<seat>.0/24 with X from DIR's path (FNV-1a), 128 .. 227 (lab
 * init's own choice stays in 127.64-126), the first X whose N subnets no running lab uses. */
static int choose_block(const char *abs, int nseats, int *x_out, ws_error *e)
{
    uint32_t h = 2166136261u;
    for (const char *p = abs; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (unsigned t = 0; t < 100; t++) {
        int x = 128 + (int)((h + t) % 100), busy = 0;
        for (int s = 1; s <= nseats && !busy; s++) {
            char subnet[32];
            snprintf(subnet, sizeof subnet, "127.%d.%d.0/24", x, s);
            busy = ws_subnet_in_use(subnet);
        }
        if (!busy) {
            *x_out = x;
            return 0;
        }
    }
    return ws_seterr(e, "no free block of %d subnets in 127.128-227.x.0/24", nseats);
}

/* The trainer's password hash, made once by init before the workers fork: one PBKDF2 for
 * the one password every seat shares. */
static char trainer_hash[WS_PASSWORD_HASH_MAX];

/* One seat's lab: lab init's own code with the seat's accounts, then its baseline. */
static int init_seat(const ws_classroom *c, int i, int quiet, ws_error *e)
{
    const ws_seat *s = &c->seats[i];
    /* The trainer's password is not written into the seat (lab.h: NULL): a trainee's shell
     * there (lab accounts, accounts.json) must not give them every seat's trainer's page. */
    ws_lab_extra_account extra[2] = {{s->account, "fabric-admin", s->password, NULL},
                                     {c->trainer, "fabric-admin", NULL, trainer_hash}};
    ws_lab_init_opts o = {.dir = s->dir, .subnet = s->subnet, .extra = extra, .n_extra = 2, .classroom = c->dir};
    static ws_lab_init_result r;
    ws_state *st = NULL;
    int rc = ws_lab_init(&o, &r, e) != 0 || ws_lab_open(s->dir, &st, e) != 0 || ws_baseline_save(st, e) != 0 ? -1 : 0;
    ws_state_close(st);
    ws_lab_init_result_free(&r);
    if (rc == 0 && !quiet)
        fprintf(stderr, "classroom init: %s on %s\n", s->name, s->subnet);
    return rc;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT ? -1 : 0;
}

/* Removes a seat's folder (it must be a lab: DIR/seatNN with lab.db); links are not followed. */
static int remove_seat(const char *dir, ws_error *e)
{
    struct stat sb;
    if (lstat(dir, &sb) != 0)
        return errno == ENOENT ? 0 : ws_seterr(e, "%s: %s", dir, strerror(errno));
    char db[PATH_MAX + 16];
    snprintf(db, sizeof db, "%s/lab.db", dir);
    if (!S_ISDIR(sb.st_mode) || lstat(db, &sb) != 0)
        return ws_seterr(e, "%s is not a seat's lab: left as it is", dir);
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return ws_seterr(e, "cannot remove %s: %s", dir, strerror(errno));
    return 0;
}

static int check_empty_dir(const char *dir, int *created, ws_error *e)
{
    struct stat sb;
    *created = 0;
    if (stat(dir, &sb) != 0) {
        if (ws_mkdir_p(dir, 0700) != 0)
            return ws_seterr(e, "cannot create %s: %s", dir, strerror(errno));
        *created = 1;
        return 0;
    }
    if (!S_ISDIR(sb.st_mode))
        return ws_seterr(e, "%s exists and is not a folder", dir);
    DIR *d = opendir(dir);
    struct dirent *ent;
    int other = 0;
    while (d && (ent = readdir(d)))
        other |= strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0;
    if (d)
        closedir(d);
    if (other)
        return ws_seterr(e, "%s is not empty (a classroom is made in a new or empty folder)", dir);
    return chmod(dir, 0700) != 0 ? ws_seterr(e, "cannot use %s: %s", dir, strerror(errno)) : 0;
}

/* The classroom's accounts and plan, before any seat is made. */
static int plan_classroom(const ws_classroom_init_opts *o, const char *abs, int x, ws_classroom *c, char *hash,
                          ws_error *e)
{
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "%s", abs);
    snprintf(c->trainer, sizeof c->trainer, "%s", TRAINER_ACCOUNT);
    c->level = o->level ? o->level : 1;
    c->same = o->same;
    c->has_seed = 1; /* always recorded, so every seat's exercise can be made again */
    c->seed = o->has_seed ? o->seed : 0;
    if (!o->has_seed && ws_random(&c->seed, sizeof c->seed) != 0)
        return ws_seterr(e, "cannot read random bytes");
    c->seed &= WS_CLASSROOM_MAX_SEED;
    snprintf(c->mistakes, sizeof c->mistakes, "%s", o->mistakes ? o->mistakes : "");
    c->nseats = o->nseats;
    c->seats = calloc((size_t)o->nseats, sizeof *c->seats);
    if (!c->seats)
        abort();
    if (ws_password_new(c->trainer_password, 17) != 0 || ws_password_hash(c->trainer_password, hash) != 0)
        return ws_seterr(e, "cannot make the trainer's password");
    for (int i = 0; i < o->nseats; i++) {
        ws_seat *s = &c->seats[i];
        snprintf(s->name, sizeof s->name, "seat%02d", i + 1);
        snprintf(s->dir, sizeof s->dir, "%s/%s", abs, s->name);
        snprintf(s->subnet, sizeof s->subnet, "127.%d.%d.0/24", x, i + 1);
        snprintf(s->account, sizeof s->account, "CONTOSO\\trainee%02d", i + 1);
        if (ws_password_new(s->password, 17) != 0)
            return ws_seterr(e, "cannot make a password");
    }
    return 0;
}

int ws_classroom_init(const ws_classroom_init_opts *o, ws_classroom *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    if (o->nseats < 1 || o->nseats > WS_CLASSROOM_MAX_SEATS)
        return ws_seterr(e, "%d seats: a classroom has 1 to %d", o->nseats, WS_CLASSROOM_MAX_SEATS);
    int created, x = 0;
    char abs[PATH_MAX];
    if (check_empty_dir(o->dir, &created, e) != 0)
        return -1;
    if (!realpath(o->dir, abs) || strlen(abs) > PATH_MAX - 64) {
        ws_seterr(e, "cannot use %s", o->dir);
        goto fail;
    }
    if (choose_block(abs, o->nseats, &x, e) != 0 || plan_classroom(o, abs, x, out, trainer_hash, e) != 0)
        goto fail;
    int *all = calloc((size_t)o->nseats, sizeof *all);
    if (!all)
        abort();
    for (int i = 0; i < o->nseats; i++)
        all[i] = i;
    /* Seat 1 alone first: without a key template its lab init makes one (keygen) that the
     * others then copy. */
    int rc = init_seat(out, 0, o->quiet, e) != 0 ||
                     for_seats(out, all + 1, o->nseats - 1, workers_for(o->nseats - 1, 2), init_seat, o->quiet, e) != 0
                 ? -1
                 : 0;
    free(all);
    if (rc != 0 || ws_classroom_save(out, e) != 0)
        goto fail;
    return 0;
fail:
    for (int i = 0; out->seats && i < out->nseats; i++) {
        ws_error ignored;
        remove_seat(out->seats[i].dir, &ignored);
    }
    if (created)
        rmdir(o->dir);
    ws_classroom_free(out);
    return -1;
}

/* ---- up, down ---- */

static int up_timeout_ms = 20000;

static int up_seat(const ws_classroom *c, int i, int quiet, ws_error *e)
{
    ws_state *st;
    if (ws_lab_open(c->seats[i].dir, &st, e) != 0)
        return -1;
    int rc = ws_lab_up(st, up_timeout_ms, 1, e);
    ws_state_close(st);
    if (rc == 0 && !quiet)
        fprintf(stderr, "classroom up: %s healthy\n", c->seats[i].name);
    return rc;
}

static int down_seat(const ws_classroom *c, int i, int quiet, ws_error *e)
{
    ws_state *st;
    if (ws_lab_open(c->seats[i].dir, &st, e) != 0)
        return -1;
    int stopped = 0, rc = ws_lab_down(st, &stopped, e);
    ws_state_close(st);
    if (rc == 0 && !quiet && stopped)
        fprintf(stderr, "classroom down: %s stopped (%d processes)\n", c->seats[i].name, stopped);
    return rc;
}

int ws_classroom_up(const ws_classroom *c, const int *seats, int n, int timeout_ms, int quiet, ws_error *e)
{
    up_timeout_ms = timeout_ms;
    /* Three workers a core: a seat's up is its components' start (CPU) and then waits
     * for their health (idle). */
    return for_seats(c, seats, n, workers_for(n, 3), up_seat, quiet, e);
}

int ws_classroom_down(const ws_classroom *c, const int *seats, int n, int quiet, ws_error *e)
{
    return for_seats(c, seats, n, workers_for(n, 3), down_seat, quiet, e);
}

/* ---- reset in place ---- */

/* The machines running a process, with the portal's name (its own stays up). */
static int machines_now(ws_state *st, ws_proc_status **list, int *n, char *portal, size_t portal_n, ws_error *e)
{
    ws_machine m;
    portal[0] = '\0';
    if (ws_machine_by_role(st, "portal", &m, NULL) == 0)
        snprintf(portal, portal_n, "%s", m.name);
    return ws_lab_status(st, list, n, e);
}

static int service(ws_state *st, const char *machine, ws_service_action a, ws_error *e)
{
    ws_service_result r;
    return ws_service_control(st, machine, a, SERVICE_TIMEOUT_MS, &r, e);
}

/* After the restore: every machine of the baseline's world started (the portal's "was
 * already running" keeps its pid); a machine that left the world (a trainee's rdgw02,
 * lb01) is gone from the supervisor's children, and its operator's stop with it. */
static int start_again(ws_state *st, const ws_proc_status *before, int nbefore, ws_error *e)
{
    ws_proc_status *after = NULL;
    int n = 0, rc = 0;
    char portal[64];
    if (machines_now(st, &after, &n, portal, sizeof portal, e) != 0)
        return -1;
    for (int i = 0; rc == 0 && i < n; i++)
        rc = service(st, after[i].machine, WS_SERVICE_START, e);
    for (int i = 0; i < nbefore; i++) {
        int present = 0;
        for (int j = 0; j < n && !present; j++)
            present = strcmp(before[i].machine, after[j].machine) == 0;
        if (!present) { /* supervisor.h: run/<machine>.stopped holds a service stopped */
            char path[PATH_MAX + 96];
            snprintf(path, sizeof path, "%s/run/%s.stopped", st->lab_dir, before[i].machine);
            unlink(path);
        }
    }
    free(after);
    return rc;
}

static int reset_locked(ws_state *st, ws_error *e)
{
    if (!ws_supervisor_pid(st))
        return ws_seterr(e, "it is not running (wapsim classroom up)");
    ws_attempt a;
    if (ws_exercise_current(st, &a) != WS_ATTEMPT_NONE)
        ws_exercise_void(st, &a);
    ws_proc_status *before = NULL;
    int n = 0, rc = 0;
    char portal[64];
    if (machines_now(st, &before, &n, portal, sizeof portal, e) != 0)
        return -1;
    /* Nothing but the portal reads the world while it is replaced. */
    for (int i = 0; rc == 0 && i < n; i++)
        if (strcmp(before[i].machine, portal) != 0)
            rc = service(st, before[i].machine, WS_SERVICE_STOP, e);
    if (rc == 0)
        rc = ws_baseline_restore(st, e);
    /* Started again whatever happened: a failed restore changed nothing. */
    ws_error again = {""};
    if (start_again(st, before, n, &again) != 0 && rc == 0) {
        *e = again;
        rc = -1;
    }
    free(before);
    return rc;
}

int ws_classroom_reset(const ws_classroom *c, const ws_seat *s, ws_error *e)
{
    (void)c;
    ws_state *st;
    ws_error inner;
    if (ws_lab_open(s->dir, &st, &inner) != 0)
        return ws_seterr(e, "%s: %s", s->name, inner.msg);
    int lock = ws_lifecycle_lock(st);
    int rc = reset_locked(st, &inner);
    if (lock >= 0)
        close(lock);
    ws_state_close(st);
    return rc == 0 ? 0 : ws_seterr(e, "%s: %s", s->name, inner.msg);
}

/* 1 when a machine's service is kept stopped (service stop: a file under run/, not a row
 * the baseline compares), 0 when none is, -1 with e. */
static int any_stopped(ws_state *st, ws_error *e)
{
    ws_proc_status *list = NULL;
    int n = 0, stopped = 0;
    if (ws_lab_status(st, &list, &n, e) != 0)
        return -1;
    for (int i = 0; i < n && !stopped; i++)
        stopped = list[i].stopped;
    free(list);
    return stopped;
}

int ws_classroom_seat_fresh(const ws_seat *s, ws_error *e)
{
    ws_state *st;
    if (ws_lab_open(s->dir, &st, e) != 0)
        return -1;
    ws_attempt a;
    int fresh = ws_exercise_current(st, &a) != WS_ATTEMPT_NONE ? 0 : ws_baseline_is_fresh(st, e);
    if (fresh == 1) {
        int stopped = any_stopped(st, e);
        fresh = stopped < 0 ? -1 : !stopped;
    }
    ws_state_close(st);
    return fresh;
}

/* ---- destroy ---- */

int ws_classroom_destroy(const char *dir, ws_error *e)
{
    ws_classroom c;
    if (ws_classroom_load(dir, &c, e) != 0)
        return -1;
    int *all = calloc((size_t)c.nseats, sizeof *all);
    if (!all)
        abort();
    for (int i = 0; i < c.nseats; i++)
        all[i] = i;
    int rc = ws_classroom_down(&c, all, c.nseats, 1, e);
    free(all);
    for (int i = 0; rc == 0 && i < c.nseats; i++)
        rc = remove_seat(c.seats[i].dir, e);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/" WS_CLASSROOM_FILE, c.dir);
    if (rc == 0 && unlink(path) != 0)
        rc = ws_seterr(e, "cannot remove %s: %s", path, strerror(errno));
    if (rc == 0 && rmdir(c.dir) != 0)
        rc = ws_seterr(e, "%s: %s (files that are not the classroom's were left)", c.dir, strerror(errno));
    ws_classroom_free(&c);
    return rc;
}

/* ---- reset and assign of many seats ---- */

static int reset_seat(const ws_classroom *c, int i, int only_stale, int quiet, ws_error *e)
{
    const ws_seat *s = &c->seats[i];
    if (only_stale && ws_classroom_seat_fresh(s, e) == 1)
        return 0;
    int64_t t0 = ws_mono_ms();
    if (ws_classroom_reset(c, s, e) != 0)
        return -1;
    if (!quiet)
        fprintf(stderr, "classroom reset: %s back to its baseline (%.2f s)\n", s->name,
                (double)(ws_mono_ms() - t0) / 1000);
    return 0;
}

int ws_classroom_reset_seats(const ws_classroom *c, const int *seats, int n, int quiet, ws_error *e)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        ws_error one;
        if (reset_seat(c, seats[i], 0, quiet, &one) != 0) {
            if (!failed++)
                *e = one;
            else if (!quiet)
                fprintf(stderr, "classroom reset: %s\n", one.msg);
        }
    }
    return failed ? -1 : 0;
}

/* The last line of a command's output, for a one-line error. */
static void last_line(const ws_buf *b, char *out, size_t n)
{
    const char *text = (const char *)ws_buf_data(b);
    size_t len = ws_buf_len(b);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\0'))
        len--;
    size_t start = len;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    snprintf(out, n, "%.*s", (int)(len - start), text + start);
}

/* `wapsim --lab SEAT exercise start --generate --level L --seed S [--mistake M]` in the seat
 * (train/generate.h), as an operator would run it: a subprocess, its output kept for the error. */
static int start_exercise(const ws_classroom *c, const ws_seat *s, ws_error *e)
{
    char level[8], seed[32];
    snprintf(level, sizeof level, "%d", c->level);
    snprintf(seed, sizeof seed, "%llu", ws_classroom_seat_seed(c, s));
    char *args[12] = {"exercise", "start", "--generate", "--level", level, "--seed", seed};
    int n = 7;
    if (c->mistakes[0]) {
        args[n++] = "--mistake";
        args[n++] = (char *)c->mistakes;
    }
    ws_subprocess p = {.lab = s->dir, .args = args, .nargs = n, .timeout_s = 120, .merge = 1};
    ws_subprocess_result r;
    int status = ws_subprocess_run(&p, &r);
    char last[300];
    last_line(&r.out, last, sizeof last);
    ws_subprocess_result_free(&r);
    if (status != 0)
        return ws_seterr(e, "exercise start failed (exit %d): %s", status, last);
    return 0;
}

/* One seat: reset when it is not fresh, then its exercise. */
static int assign_seat(const ws_classroom *c, int i, int quiet, ws_error *e)
{
    if (reset_seat(c, i, 1, quiet, e) != 0 || start_exercise(c, &c->seats[i], e) != 0)
        return -1;
    if (!quiet)
        fprintf(stderr, "classroom assign: %s has its exercise (level %d, seed %llu)\n", c->seats[i].name, c->level,
                ws_classroom_seat_seed(c, &c->seats[i]));
    return 0;
}

int ws_classroom_assign(const ws_classroom *c, const int *seats, int n, int quiet, ws_error *e)
{
    /* Two seats at a time: an exercise's break is a run of wapsim commands, CPU-bound. */
    return for_seats(c, seats, n, n < 2 ? n : 2, assign_seat, quiet, e);
}
