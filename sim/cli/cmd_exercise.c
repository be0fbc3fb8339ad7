/* wapsim exercise: training on the running lab (exercise.h has the model). list,
 * start, hint, status, check, give-up, history. Exit 0 on success, 1 when check finds
 * consoles still failing (or the attempt void), 2 for a usage error or no exercise. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "cli/cmd.h"
#include "train/diagnose.h"
#include "train/exercise.h"
#include "svc/supervisor.h"
#include "lab/vm.h"

static const struct option common_opts[] = {{"lab", required_argument, NULL, 'l'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"trainer", no_argument, NULL, 't'},
                                            {"catalogue", required_argument, NULL, 'c'},
                                            {"level", required_argument, NULL, 'L'},
                                            {"seed", required_argument, NULL, 's'},
                                            {"scenario", required_argument, NULL, 'S'},
                                            {"allow-diagnose", no_argument, NULL, 'a'},
                                            {0, 0, 0, 0}};

typedef struct xopts {
    const char *lab, *catalogue, *scenario;
    int json, trainer, level, allow_diagnose, has_seed;
    unsigned long long seed;
} xopts;

/* allowed: the option letters this subcommand takes. */
static int parse_opts(int argc, char **argv, const char *allowed, xopts *o)
{
    memset(o, 0, sizeof *o);
    int ch;
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", common_opts, NULL)) != -1) {
        if (ch != '?' && ch != ':' && !strchr(allowed, ch) && ch != 'l')
            return ws_cmd_usage_error("option '%s' does not apply to exercise %s", argv[optind - 1], argv[0]);
        switch (ch) {
        case 'l': o->lab = optarg; break;
        case 'j': o->json = 1; break;
        case 't': o->trainer = 1; break;
        case 'c': o->catalogue = optarg; break;
        case 'S': o->scenario = optarg; break;
        case 'a': o->allow_diagnose = 1; break;
        case 'L':
            if (strcmp(optarg, "1") && strcmp(optarg, "2") && strcmp(optarg, "3"))
                return ws_cmd_usage_error("option '--level' is 1, 2 or 3, not '%s'", optarg);
            o->level = atoi(optarg);
            break;
        case 's': {
            char *end;
            errno = 0;
            o->seed = strtoull(optarg, &end, 10);
            if (!*optarg || *end || errno)
                return ws_cmd_usage_error("option '--seed' needs a number, not '%s'", optarg);
            o->has_seed = 1;
            break;
        }
        default: return ws_cmd_bad_option(ch, argv);
        }
    }
    if (optind < argc)
        return ws_cmd_usage_error("unexpected argument '%s'", argv[optind]);
    return 0;
}

static void marker_path(ws_state *st, char *out, size_t n)
{
    snprintf(out, n, "%s/exercise.active", st->lab_dir);
}

/* ---- the connect flow for every VM ---- */

typedef struct vm_result {
    char vm[64], tenant[64];
    ws_connect_result r;
} vm_result;

static int connect_all(ws_state *st, vm_result **out, int *n)
{
    ws_error e;
    *out = NULL;
    *n = 0;
    ws_vm *vms;
    size_t count;
    if (ws_vm_list(st, NULL, &vms, &count, &e) != 0)
        return -1;
    if (count) {
        *out = calloc(count, sizeof **out);
        if (!*out)
            abort();
    }
    for (size_t i = 0; i < count; i++) {
        vm_result *v = &(*out)[(*n)++];
        snprintf(v->vm, sizeof v->vm, "%s", vms[i].name);
        snprintf(v->tenant, sizeof v->tenant, "%s", vms[i].tenant);
    }
    free(vms);
    for (int i = 0; i < *n; i++) {
        ws_connect_opts co;
        memset(&co, 0, sizeof co);
        co.tenant = (*out)[i].tenant;
        co.vm = (*out)[i].vm;
        co.direct_fd = -1;
        ws_connect(st, &co, &(*out)[i].r);
    }
    return 0;
}

/* ---- running the break as wapsim subprocesses ---- */

static int run_step(const char *lab, char **args, int nargs)
{
    char **argv = calloc((size_t)nargs + 4, sizeof *argv);
    if (!argv)
        abort();
    argv[0] = "wapsim";
    argv[1] = "--lab";
    argv[2] = (char *)lab;
    for (int i = 0; i < nargs; i++)
        argv[3 + i] = args[i];
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        free(argv);
        return -1;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    free(argv);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 256;
}

static int run_break(ws_state *st, const ws_scenario *sc, int end, char *why, size_t whyn)
{
    for (int i = 0; i < end; i++) {
        const ws_scn_line *l = &sc->lines[i];
        if (l->kind != WS_SCN_STEP)
            continue;
        const ws_scn_step *s = &l->u.step;
        char **args = calloc((size_t)s->argc + 1, sizeof *args);
        if (!args)
            abort();
        ws_error e;
        int rc = 0;
        for (int k = 0; k < s->argc && rc == 0; k++)
            if (ws_scn_expand(st, s->argv[k], &args[k], &e) != 0) {
                snprintf(why, whyn, "line %d: %s", l->lineno, e.msg);
                rc = -1;
            }
        if (rc == 0) {
            int status = run_step(st->lab_dir, args, s->argc);
            if (s->expect_failure ? status == 0 : status != 0) {
                snprintf(why, whyn, "line %d: exit %d", l->lineno, status);
                rc = -1;
            }
        }
        for (int k = 0; k < s->argc; k++)
            free(args[k]);
        free(args);
        if (rc)
            return -1;
    }
    return 0;
}

/* ---- list ---- */

static int ex_list(int argc, char **argv)
{
    xopts o;
    int rc = parse_opts(argc, argv, "jtc", &o);
    if (rc)
        return rc;
    ws_exercise *c;
    int n;
    ws_exercise_catalogue(o.catalogue, &c, &n, NULL);
    if (o.json) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < n; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "id", c[i].id);
            cJSON_AddNumberToObject(x, "level", c[i].level);
            if (o.trainer) {
                cJSON_AddStringToObject(x, "title", c[i].sc->title ? c[i].sc->title : "");
                cJSON_AddStringToObject(x, "file", c[i].path);
            }
            cJSON_AddItemToArray(arr, x);
        }
        ws_cmd_print_json(arr);
    } else {
        printf("%-14s %-6s%s\n", "ID", "LEVEL", o.trainer ? "TITLE (FILE)" : "");
        for (int i = 0; i < n; i++) {
            if (o.trainer)
                printf("%-14s %-6d%s (%s)\n", c[i].id, c[i].level, c[i].sc->title ? c[i].sc->title : "",
                       c[i].path);
            else
                printf("%-14s %d\n", c[i].id, c[i].level);
        }
        printf("%d exercise%s\n", n, n == 1 ? "" : "s");
    }
    ws_exercise_catalogue_free(c, n);
    return 0;
}

/* ---- start ---- */

static unsigned long long next_rand(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static void print_ticket(const ws_exercise *x)
{
    printf("Ticket (level %d, exercise %s):\n\n", x->level, x->id);
    const char *p = x->sc->ticket;
    while (*p) {
        size_t k = strcspn(p, "\n");
        printf("  %.*s\n", (int)k, p);
        p += k;
        if (*p)
            p++;
    }
    printf("\nRepair the lab with operator commands, then run 'wapsim exercise check'.\n");
}

static int ex_start(int argc, char **argv)
{
    xopts o;
    int rc = parse_opts(argc, argv, "cLsSa", &o);
    if (rc)
        return rc;
    ws_state *st;
    if ((rc = ws_cmd_open_lab(o.lab, &st)) != 0)
        return rc;
    ws_attempt a;
    if (ws_exercise_current(st, &a) == WS_ATTEMPT_ACTIVE) {
        ws_state_close(st);
        return ws_cmd_usage_error("an exercise is already in progress (wapsim exercise check, or give-up)");
    }
    if (ws_supervisor_pid(st) == 0) {
        ws_state_close(st);
        return ws_cmd_usage_error("the lab is not running (wapsim up)");
    }
    ws_exercise x;
    memset(&x, 0, sizeof x);
    if (o.scenario) {
        ws_scn_errors errs = {0};
        if (ws_exercise_load(o.scenario, &x, &errs) != 0) {
            for (int i = 0; i < errs.n; i++)
                fprintf(stderr, "%s\n", errs.msgs[i]);
            ws_scn_errors_free(&errs);
            ws_state_close(st);
            return WS_EXIT_USAGE;
        }
        if (o.level && o.level != x.level) {
            ws_exercise_clear(&x);
            ws_state_close(st);
            return ws_cmd_usage_error("the file's exercise is level %d, not %d", x.level, o.level);
        }
    } else {
        ws_exercise *c;
        int n, k = 0;
        ws_exercise_catalogue(o.catalogue, &c, &n, NULL);
        int *pick = calloc((size_t)(n ? n : 1), sizeof *pick);
        if (!pick)
            abort();
        for (int i = 0; i < n; i++)
            if (!o.level || c[i].level == o.level)
                pick[k++] = i;
        if (k == 0) {
            free(pick);
            ws_exercise_catalogue_free(c, n);
            ws_state_close(st);
            return ws_cmd_usage_error("no exercise at level %d in the catalogue", o.level);
        }
        unsigned long long seed = o.seed;
        if (!o.has_seed && ws_random(&seed, sizeof seed) != 0)
            seed = (unsigned long long)getpid();
        int chosen = pick[next_rand(&seed) % (unsigned long long)k];
        x = c[chosen];
        memset(&c[chosen], 0, sizeof c[chosen]);
        free(pick);
        ws_exercise_catalogue_free(c, n);
    }
    ws_exercise_cache(&x);
    char why[600] = "";
    ws_error e;
    char inst[64], nonce[33];
    unsigned char r[16];
    if (run_break(st, x.sc, ws_exercise_break_end(x.sc), why, sizeof why) != 0) {
        fprintf(stderr, "wapsim: the exercise could not be set up (%s); the lab may be half broken: "
                        "re-create it with lab destroy and lab init\n", why);
        ws_exercise_clear(&x);
        ws_state_close(st);
        return WS_EXIT_FAIL;
    }
    if (ws_random(r, sizeof r) != 0)
        abort();
    ws_hex_upper(r, sizeof r, nonce);
    char started[32], level[8], allow[4];
    snprintf(started, sizeof started, "%lld", (long long)(ws_wall_ms() / 1000));
    snprintf(level, sizeof level, "%d", x.level);
    snprintf(allow, sizeof allow, "%d", o.allow_diagnose);
    if (ws_exercise_lab_instance(st, inst, sizeof inst, &e) != 0 ||
        ws_state_exec(st, &e,
                      "INSERT INTO exercises(scenario_hash, level, started_at, state, allow_diagnose, lab_instance, "
                      "nonce) VALUES(?, ?, ?, 'active', ?, ?, ?)",
                      6, x.hash, level, started, allow, inst, nonce) != 0) {
        ws_exercise_clear(&x);
        ws_state_close(st);
        return ws_cmd_usage_error("%s", e.msg);
    }
    char mpath[PATH_MAX + 32];
    marker_path(st, mpath, sizeof mpath);
    char *line = ws_printf("%s\n", nonce);
    if (ws_write_file(mpath, line, strlen(line), 0644, &e) != 0) {
        free(line);
        ws_exercise_clear(&x);
        ws_state_close(st);
        return ws_cmd_usage_error("%s", e.msg);
    }
    free(line);
    print_ticket(&x);
    ws_exercise_clear(&x);
    ws_state_close(st);
    return 0;
}

/* ---- the attempt in progress ---- */

/* Opens the lab and finds the attempt; prints the error and returns non-zero when
 * there is none (2) or it is void (1, after marking it so). */
static int open_attempt(const char *lab, ws_state **st, ws_attempt *a)
{
    int rc = ws_cmd_open_lab(lab, st);
    if (rc)
        return rc;
    ws_attempt_status s = ws_exercise_current(*st, a);
    if (s == WS_ATTEMPT_ACTIVE)
        return 0;
    if (s == WS_ATTEMPT_NONE) {
        ws_state_close(*st);
        return ws_cmd_usage_error("no exercise in progress (wapsim exercise start)");
    }
    ws_error e;
    char mpath[PATH_MAX + 32];
    marker_path(*st, mpath, sizeof mpath);
    if (a->id) {
        char now[32];
        snprintf(now, sizeof now, "%lld", (long long)(ws_wall_ms() / 1000));
        ws_state_exec(*st, &e, "UPDATE exercises SET state = 'void', ended_at = ?, score = 0 WHERE nonce = ?", 2,
                      now, a->nonce);
    }
    unlink(mpath);
    printf("The exercise is void: the lab was re-created or its lab.db replaced since the exercise started,\n"
           "so it was not repaired. Start a new one with 'wapsim exercise start'.\n");
    ws_state_close(*st);
    return WS_EXIT_FAIL;
}

static void end_attempt(ws_state *st, const ws_attempt *a, const char *state, int score)
{
    ws_error e;
    char now[32], sc[16];
    snprintf(now, sizeof now, "%lld", (long long)(ws_wall_ms() / 1000));
    snprintf(sc, sizeof sc, "%d", score);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    ws_state_exec(st, &e, "UPDATE exercises SET state = ?, ended_at = ?, score = ? WHERE id = ?", 4, state, now, sc,
                  id);
    char mpath[PATH_MAX + 32];
    marker_path(st, mpath, sizeof mpath);
    unlink(mpath);
}

static void print_indented(const char *text)
{
    const char *p = text;
    while (*p) {
        size_t k = strcspn(p, "\n");
        printf("  %.*s\n", (int)k, p);
        p += k;
        if (*p)
            p++;
    }
}

static void reveal(const ws_exercise *x, int with_repair)
{
    printf("The fault: %s\n", x->sc->title ? x->sc->title : x->id);
    if (x->sc->doc)
        print_indented(x->sc->doc);
    if (!with_repair)
        return;
    printf("The repair:\n");
    int end = ws_exercise_break_end(x->sc);
    for (int i = end; i < x->sc->nlines; i++)
        if (x->sc->lines[i].kind == WS_SCN_STEP)
            printf("  wapsim %s\n", x->sc->lines[i].text + (x->sc->lines[i].u.step.expect_failure ? 6 : 5));
}

/* ---- hint ---- */

static const char *area_of(const char *id)
{
    if (strstr(id, "fqdn"))
        return "the RD Gateway FQDN the cloud hands out, against the gateway's certificate names";
    if (strstr(id, "issuer"))
        return "which certificate thumbprints the gateway trusts";
    if (strstr(id, "gateway-cert") || strstr(id, "gateway-tls"))
        return "the certificate the gateway serves";
    if (strstr(id, "host"))
        return "the certificate stores and trust on that host";
    if (strstr(id, "vmm-cert"))
        return "the certificate VMM signs console tokens with";
    if (strstr(id, "clock"))
        return "the machine's clock";
    return "that machine's service and configuration";
}

static int ex_hint(int argc, char **argv)
{
    xopts o;
    int rc = parse_opts(argc, argv, "", &o);
    if (rc)
        return rc;
    ws_state *st;
    ws_attempt a;
    if ((rc = open_attempt(o.lab, &st, &a)) != 0)
        return rc;
    if (a.hints >= WS_EXERCISE_HINTS) {
        printf("No more hints: all %d are used. 'wapsim exercise give-up' reveals the fault.\n", WS_EXERCISE_HINTS);
        ws_state_close(st);
        return WS_EXIT_FAIL;
    }
    int h = a.hints + 1;
    ws_error e;
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)a.id);
    ws_state_exec(st, &e, "UPDATE exercises SET hints = hints + 1 WHERE id = ?", 1, id);
    printf("Hint %d of %d (the score is now %d):\n", h, WS_EXERCISE_HINTS, ws_exercise_score(h));
    if (h == 1) {
        vm_result *v;
        int n;
        connect_all(st, &v, &n);
        for (int i = 0; i < n; i++) {
            if (v[i].r.ok)
                printf("  %s (%s): the console opens\n", v[i].vm, v[i].tenant);
            else
                printf("  %s (%s): the client stops at the %s hop: %s\n", v[i].vm, v[i].tenant, v[i].r.stage,
                       v[i].r.message);
        }
        printf("  Look at the machine behind that hop, and at its log (wapsim logs).\n");
        free(v);
    } else {
        ws_diag_opts dopts = {0};
        ws_diagnosis d;
        if (ws_diagnose(st, &dopts, &d, &e) != 0) {
            printf("  (no hint: %s)\n", e.msg);
        } else {
            int shown = 0;
            for (int i = 0; i < d.n; i++) {
                const ws_finding *f = &d.findings[i];
                if (f->severity != WS_DIAG_ERROR)
                    continue;
                shown++;
                if (h == 2) {
                    printf("  On %s: look at %s.\n", f->machine, area_of(f->id));
                } else {
                    printf("  %s on %s: %s\n", f->id, f->machine, f->summary);
                    for (int k = 0; k < f->nfix; k++)
                        printf("    %s\n", f->fix[k]);
                }
            }
            if (!shown)
                printf("  Nothing is wrong any more as far as the checks see: run 'wapsim exercise check'.\n");
            ws_diagnosis_free(&d);
        }
    }
    ws_state_close(st);
    return 0;
}

/* ---- status ---- */

static int ex_status(int argc, char **argv)
{
    xopts o;
    int rc = parse_opts(argc, argv, "j", &o);
    if (rc)
        return rc;
    ws_state *st;
    ws_attempt a;
    if ((rc = open_attempt(o.lab, &st, &a)) != 0)
        return rc;
    long long secs = ws_wall_ms() / 1000 - a.started_at;
    if (o.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "level", a.level);
        cJSON_AddNumberToObject(j, "seconds", (double)secs);
        cJSON_AddNumberToObject(j, "hints", a.hints);
        cJSON_AddNumberToObject(j, "score", ws_exercise_score(a.hints));
        cJSON_AddBoolToObject(j, "allow_diagnose", a.allow_diagnose);
        ws_cmd_print_json(j);
    } else {
        printf("Exercise in progress: level %d, started %lld min %lld s ago, %d of %d hints used, "
               "score if solved now %d%s.\n",
               a.level, secs / 60, secs % 60, a.hints, WS_EXERCISE_HINTS, ws_exercise_score(a.hints),
               a.allow_diagnose ? ", diagnose allowed" : "");
    }
    ws_state_close(st);
    return 0;
}

/* ---- check ---- */

static int ex_check(int argc, char **argv)
{
    xopts o;
    int rc = parse_opts(argc, argv, "c", &o);
    if (rc)
        return rc;
    ws_state *st;
    ws_attempt a;
    if ((rc = open_attempt(o.lab, &st, &a)) != 0)
        return rc;
    vm_result *v;
    int n, failing = 0;
    connect_all(st, &v, &n);
    for (int i = 0; i < n; i++)
        if (!v[i].r.ok)
            failing++;
    if (n == 0 || failing) {
        printf("Not solved: %d of %d consoles still fail.\n", failing, n);
        for (int i = 0; i < n; i++)
            if (!v[i].r.ok)
                printf("  %s (%s): stops at %s: %s\n", v[i].vm, v[i].tenant, v[i].r.stage, v[i].r.message);
        free(v);
        ws_state_close(st);
        return WS_EXIT_FAIL;
    }
    free(v);
    int score = ws_exercise_score(a.hints);
    long long secs = ws_wall_ms() / 1000 - a.started_at;
    end_attempt(st, &a, "solved", score);
    printf("Solved: every console opens (%d VMs). Level %d, %d hint%s, %lld min %lld s. Score: %d.\n", n, a.level,
           a.hints, a.hints == 1 ? "" : "s", secs / 60, secs % 60, score);
    ws_exercise x;
    if (ws_exercise_find(o.catalogue, a.hash, &x) == 0) {
        reveal(&x, 0);
        ws_exercise_clear(&x);
    }
    ws_state_close(st);
    return 0;
}

/* ---- give-up ---- */

static int ex_give_up(int argc, char **argv)
{
    xopts o;
    int rc = parse_opts(argc, argv, "c", &o);
    if (rc)
        return rc;
    ws_state *st;
    ws_attempt a;
    if ((rc = open_attempt(o.lab, &st, &a)) != 0)
        return rc;
    end_attempt(st, &a, "given-up", 0);
    printf("Given up (score 0).\n");
    ws_exercise x;
    if (ws_exercise_find(o.catalogue, a.hash, &x) == 0) {
        reveal(&x, 1);
        ws_exercise_clear(&x);
    } else {
        printf("(the exercise's file is no longer in the catalogue or the cache)\n");
    }
    ws_state_close(st);
    return 0;
}

/* ---- history ---- */

static int ex_history(int argc, char **argv)
{
    xopts o;
    int rc = parse_opts(argc, argv, "j", &o);
    if (rc)
        return rc;
    ws_state *st;
    if ((rc = ws_cmd_open_lab(o.lab, &st)) != 0)
        return rc;
    ws_error e;
    sqlite3_stmt *q = ws_state_prepare(st,
                                       "SELECT id, substr(scenario_hash,1,12), level, started_at, ended_at, hints, "
                                       "state, score FROM exercises ORDER BY id",
                                       &e);
    if (!q) {
        ws_state_close(st);
        return ws_cmd_usage_error("%s", e.msg);
    }
    cJSON *arr = o.json ? cJSON_CreateArray() : NULL;
    if (!o.json)
        printf("%-4s %-14s %-6s %-20s %-9s %-6s %-9s %s\n", "#", "EXERCISE", "LEVEL", "STARTED (UTC)", "MINUTES",
               "HINTS", "OUTCOME", "SCORE");
    int count = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        count++;
        long long started = sqlite3_column_int64(q, 3);
        int ended = sqlite3_column_type(q, 4) != SQLITE_NULL;
        long long mins = ended ? (sqlite3_column_int64(q, 4) - started) / 60 : -1;
        int has_score = sqlite3_column_type(q, 7) != SQLITE_NULL;
        const char *state = (const char *)sqlite3_column_text(q, 6);
        if (o.json) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "attempt", (double)sqlite3_column_int64(q, 0));
            cJSON_AddStringToObject(x, "exercise", (const char *)sqlite3_column_text(q, 1));
            cJSON_AddNumberToObject(x, "level", sqlite3_column_int(q, 2));
            cJSON_AddNumberToObject(x, "started_at", (double)started);
            if (ended)
                cJSON_AddNumberToObject(x, "ended_at", (double)sqlite3_column_int64(q, 4));
            else
                cJSON_AddNullToObject(x, "ended_at");
            cJSON_AddNumberToObject(x, "hints", sqlite3_column_int(q, 5));
            cJSON_AddStringToObject(x, "outcome", state);
            if (has_score)
                cJSON_AddNumberToObject(x, "score", sqlite3_column_int(q, 7));
            else
                cJSON_AddNullToObject(x, "score");
            cJSON_AddItemToArray(arr, x);
        } else {
            char when[32];
            time_t t = (time_t)started;
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
            char m[16] = "-", s[16] = "-";
            if (mins >= 0)
                snprintf(m, sizeof m, "%lld", mins);
            if (has_score)
                snprintf(s, sizeof s, "%d", sqlite3_column_int(q, 7));
            printf("%-4lld %-14s %-6d %-20s %-9s %-6d %-9s %s\n", (long long)sqlite3_column_int64(q, 0),
                   (const char *)sqlite3_column_text(q, 1), sqlite3_column_int(q, 2), when, m,
                   sqlite3_column_int(q, 5), state, s);
        }
    }
    sqlite3_finalize(q);
    if (o.json)
        ws_cmd_print_json(arr);
    else
        printf("%d attempt%s\n", count, count == 1 ? "" : "s");
    ws_state_close(st);
    return 0;
}

const ws_cmd ws_cmds_exercise[] = {
    {"exercise", "list", ex_list, "[--json] [--trainer] [--catalogue DIR]",
     "The exercises: id and level (--trainer: title and file too).",
     "The catalogue is every scenario with a ticket line in DIR and DIR/exercises (DIR:\n"
     "--catalogue, else $WAPSIM_SCENARIOS, else the shipped scenarios/). Its level is its\n"
     "tag level-1, level-2 or level-3 (1 without one).\n"},
    {"exercise", "start", ex_start,
     "[--level 1|2|3] [--seed N] [--scenario FILE] [--allow-diagnose] [--catalogue DIR]",
     "Break the running lab as an exercise, and print the customer's ticket.",
     "Picks an exercise (at random among the level, or by --seed; or FILE), runs its\n"
     "breaking commands as an operator would, and records the attempt. diagnose is refused\n"
     "until the attempt ends, unless --allow-diagnose.\n"},
    {"exercise", "hint", ex_hint, "", "The next of three hints; each lowers the score (15, 25, 40).", NULL},
    {"exercise", "status", ex_status, "[--json]", "The exercise in progress: level, time, hints used.", NULL},
    {"exercise", "check", ex_check, "[--catalogue DIR]",
     "Connect to every VM: solved when every console opens and the lab was repaired.",
     "Exit 0 when solved (prints the score and the fault), 1 when consoles still fail or the\n"
     "attempt is void (the lab was re-created or lab.db replaced), 2 without an exercise.\n"},
    {"exercise", "give-up", ex_give_up, "[--catalogue DIR]", "End the exercise and reveal the fault and its repair.",
     NULL},
    {"exercise", "history", ex_history, "[--json]", "Every attempt in this lab: level, hints, outcome, score.", NULL},
    {0},
};
