/* SPDX-License-Identifier: Apache-2.0 */
/* schedule: see schedule.h. A scenario's process hands its result to the parent as a
 * file of six parts: PASS or FAIL, seconds, the kept lab or -, the failure or -, the
 * note or -, each on a line, then the transcript. */
#include "train/schedule.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "train/subprocess.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

int ws_sched_interrupted(void)
{
    return (int)interrupted;
}

/* ---- which scenarios ---- */

static int scn_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".scn") == 0;
}

static void add_path(ws_strv *paths, char *path)
{
    int seen = 0;
    for (int i = 0; i < paths->n && !seen; i++)
        seen = strcmp(paths->v[i], path) == 0;
    if (!seen && ws_strv_add(paths, path) != 0)
        abort();
    free(path);
}

int ws_sched_collect(int argc, char **argv, ws_strv *paths, ws_error *e)
{
    for (int i = 0; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0)
            return ws_seterr(e, "no such file or directory '%s'", argv[i]);
        if (!S_ISDIR(sb.st_mode)) {
            add_path(paths, ws_strdup(argv[i]));
            continue;
        }
        struct dirent **list;
        int k = scandir(argv[i], &list, scn_file, alphasort);
        if (k < 0)
            return ws_seterr(e, "cannot read directory '%s': %s", argv[i], strerror(errno));
        size_t len = strlen(argv[i]);
        const char *sep = len && argv[i][len - 1] == '/' ? "" : "/";
        for (int j = 0; j < k; j++) {
            add_path(paths, ws_printf("%s%s%s", argv[i], sep, list[j]->d_name));
            free(list[j]);
        }
        free(list);
    }
    return 0;
}

int ws_sched_load(const ws_strv *paths, ws_scenario ***all, ws_scn_errors *errs)
{
    *all = calloc((size_t)(paths->n ? paths->n : 1), sizeof **all);
    if (!*all)
        abort();
    int before = errs->n;
    for (int i = 0; i < paths->n; i++)
        ws_scenario_load(paths->v[i], &(*all)[i], errs);
    return errs->n != before ? -1 : 0;
}

int ws_sched_select(ws_scenario **all, int n, const ws_strv *tags, int shard_i, int shard_n, ws_scenario **sel)
{
    int count = 0, k = 0;
    for (int i = 0; i < n; i++) {
        int want = tags->n == 0;
        for (int f = 0; f < tags->n; f++)
            want |= ws_scenario_has_tag(all[i], tags->v[f]);
        if (want && k++ % shard_n == shard_i - 1)
            sel[count++] = all[i];
    }
    return count;
}

/* ---- results through files ---- */

static void write_result(const char *path, const ws_scn_result *res)
{
    char *text = ws_printf("%s\n%.3f\n%s\n%s\n%s\n%s", res->passed ? "PASS" : "FAIL", res->seconds,
                           res->lab ? res->lab : "-", res->message ? res->message : "-", res->note ? res->note : "-",
                           res->transcript ? res->transcript : "");
    ws_write_file(path, text, strlen(text), 0600, NULL);
    free(text);
}

static void read_result(const char *path, ws_scn_result *res)
{
    unsigned char *data = NULL;
    size_t len = 0;
    ws_error e;
    if (ws_read_file(path, WS_BUF_MAX_REPORT, &data, &len, &e) != 0)
        data = (unsigned char *)ws_strdup("");
    for (size_t i = 0; i < len; i++)
        if (data[i] == '\0')
            data[i] = ' ';
    char *text = (char *)data;
    char *fields[5] = {0};
    char *p = text;
    for (int i = 0; i < 5 && p; i++) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        fields[i] = p;
        p = nl ? nl + 1 : NULL;
    }
    res->done = 1;
    if (!fields[4]) {
        res->passed = 0;
        res->message = ws_strdup("the scenario's process ended without a result");
        res->transcript = ws_strdup("");
    } else {
        res->passed = strcmp(fields[0], "PASS") == 0;
        res->seconds = atof(fields[1]);
        res->lab = strcmp(fields[2], "-") ? ws_strdup(fields[2]) : NULL;
        res->message = strcmp(fields[3], "-") ? ws_strdup(fields[3]) : NULL;
        res->note = strcmp(fields[4], "-") ? ws_strdup(fields[4]) : NULL;
        res->transcript = ws_strdup(p ? p : "");
    }
    free(text);
}

static void result_path(const ws_sched *s, int i, char *out, size_t n)
{
    snprintf(out, n, "%s/%d.result", s->run_dir, i);
}

/* ---- the run ---- */

int ws_sched_begin(ws_sched *s, int n, ws_error *e)
{
    memset(s, 0, sizeof *s);
    if (!ws_subprocess_self()[0])
        return ws_seterr(e, "scenario run: cannot find the wapsim program itself");
    snprintf(s->run_dir, sizeof s->run_dir, "%s/wapsim-scn-run.XXXXXX", ws_runner_tmp_dir());
    if (!mkdtemp(s->run_dir))
        return ws_seterr(e, "scenario run: cannot make a directory in %s: %s", ws_runner_tmp_dir(), strerror(errno));
    if (n > 0)
        ws_runner_warm_template();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &s->old_int);
    sigaction(SIGTERM, &sa, &s->old_term);
    s->started = 1;
    return 0;
}

void ws_sched_end(ws_sched *s)
{
    if (!s->started)
        return;
    ws_runner_rm_rf(s->run_dir);
    sigaction(SIGINT, &s->old_int, NULL);
    sigaction(SIGTERM, &s->old_term, NULL);
    s->started = 0;
}

/* The child: one scenario, its result to a file. Never returns. */
static void run_child(const ws_sched *s, const ws_scenario *sc, int index, unsigned base, const ws_sched_opts *o,
                      pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(1);
    ws_runner_opts ro = {
        .timeout_s = o->timeout_s, .keep = o->keep, .base = base, .index = index, .stop = &interrupted};
    ws_scn_result res;
    ws_runner_run(sc, &ro, &res);
    char path[4300];
    result_path(s, index, path, sizeof path);
    write_result(path, &res);
    ws_scn_result_clear(&res);
    _exit(0);
}

/* A result that never ran. */
static void not_run(ws_scn_result *res, char *message)
{
    res->done = 1;
    res->message = message;
    res->transcript = ws_strdup("");
}

int ws_sched_run(ws_sched *s, ws_scenario **sel, int n, const ws_sched_opts *o, ws_scn_result *res,
                 ws_sched_result_fn fn, void *ctx)
{
    pid_t *pids = calloc((size_t)(n ? n : 1), sizeof *pids);
    if (!pids)
        abort();
    memset(res, 0, (size_t)n * sizeof *res);
    unsigned base = ((unsigned)getpid() * 2654435761u) ^ (unsigned)time(NULL);
    int next = 0, running = 0, reported = 0, failed = 0;
    pid_t parent = getpid();
    while (reported < n) {
        while (!interrupted && running < o->jobs && next < n) {
            fflush(stdout);
            fflush(stderr);
            pid_t pid = fork();
            if (pid == 0)
                run_child(s, sel[next], next, base, o, parent);
            if (pid < 0) {
                not_run(&res[next], ws_printf("%s: fork: %s", sel[next]->path, strerror(errno)));
            } else {
                pids[next] = pid;
                running++;
            }
            next++;
        }
        if (running > 0) {
            int status;
            pid_t pid = waitpid(-1, &status, 0);
            if (pid < 0) {
                if (errno == EINTR) {
                    for (int i = 0; i < n; i++)
                        if (pids[i] > 0 && !res[i].done)
                            kill(pids[i], SIGTERM);
                    continue;
                }
                break;
            }
            for (int i = 0; i < n; i++)
                if (pids[i] == pid && !res[i].done) {
                    char path[4300];
                    result_path(s, i, path, sizeof path);
                    read_result(path, &res[i]);
                    running--;
                }
        } else if (interrupted) {
            /* Scenarios never started: reported as not run. */
            for (int i = next; i < n; i++)
                not_run(&res[i], ws_printf("%s: not run (interrupted)", sel[i]->path));
            next = n;
        }
        while (reported < n && res[reported].done) {
            failed += !res[reported].passed;
            if (fn)
                fn(ctx, reported, sel[reported], &res[reported]);
            reported++;
        }
    }
    free(pids);
    return failed;
}
