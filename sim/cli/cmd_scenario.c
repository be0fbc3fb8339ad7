/* wapsim scenario run | check | format: the scenario runner (scenario.h is the file
 * format). Each scenario runs in a process of its own (fork), in a fresh lab of its
 * own: a temporary directory made with ws_lab_init (keys copied from the template), on
 * a subnet no other lab of this machine uses (a per-subnet lock file, and
 * ws_subnet_in_use for labs started by hand), brought up, replayed line by line, taken
 * down and removed. Its steps and connects are the wapsim program itself, run as
 * subprocesses against that lab, so a scenario can do nothing an operator cannot.
 * The child writes its result to a file; the parent prints the results in file order
 * as they come in, and the summary, TAP or JUnit XML. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "lab/lab.h"
#include "train/scenario.h"
#include "svc/supervisor.h"

#define DEFAULT_TIMEOUT_S 120 /* one step or connect */
#define UP_TIMEOUT_MS 30000
#define MAX_JOBS 64
/* Scenario labs live in 127.160.0.0 - 127.191.255.0, away from the subnets lab init
 * picks for hand-made labs (127.64 - 127.126). */
#define SUBNET_FIRST 160
#define SUBNET_COUNT (32 * 256)

/* ---- a growable string ---- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2 + 256;
        char *grown = realloc(b->s, b->cap);
        if (!grown)
            abort();
        b->s = grown;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    sb_add(b, out, (size_t)n);
    free(out);
}

/* Each line of text, prefixed. */
static void sb_indent(sbuf *b, const char *prefix, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        sb_add(b, prefix, strlen(prefix));
        sb_add(b, p, n);
        sb_add(b, "\n", 1);
        p += n + (nl ? 1 : 0);
    }
}

/* A value for a one-line message: newlines as \n, at most max bytes. */
static char *one_line(const char *s, size_t max)
{
    sbuf b = {0};
    sb_add(&b, "", 0);
    for (const char *p = s; *p && b.len < max; p++) {
        if (*p == '\n')
            sb_add(&b, "\\n", 2);
        else if (*p != '\r')
            sb_add(&b, p, 1);
    }
    if (strlen(s) > max)
        sb_add(&b, "...", 3);
    return b.s;
}

/* ---- options and the set of scenarios ---- */

typedef struct run_opts {
    int jobs;
    int shard_i, shard_n;
    const char *junit;
    int tap, keep, verbose;
    int timeout_s;
    char **filters;
    int nfilters;
} run_opts;

typedef struct result {
    int done, passed;
    double seconds;
    char *message; /* "file:line: ..." when it failed */
    char *note;    /* "1 expect diagnose skipped (no operator)" or NULL */
    char *lab;     /* the kept lab, or NULL */
    char *transcript;
} result;

static int scn_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".scn") == 0;
}

static void add_path(char ***paths, int *n, char *path)
{
    for (int i = 0; i < *n; i++)
        if (strcmp((*paths)[i], path) == 0) {
            free(path);
            return;
        }
    char **grown = realloc(*paths, (size_t)(*n + 1) * sizeof *grown);
    if (!grown)
        abort();
    *paths = grown;
    (*paths)[(*n)++] = path;
}

/* FILES and DIRS to the list of files: a directory's *.scn files, sorted. */
static int collect(int argc, char **argv, char ***paths, int *n)
{
    for (int i = 0; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0)
            return ws_cmd_usage_error("no such file or directory '%s'", argv[i]);
        if (!S_ISDIR(sb.st_mode)) {
            add_path(paths, n, ws_strdup(argv[i]));
            continue;
        }
        struct dirent **list;
        int k = scandir(argv[i], &list, scn_file, alphasort);
        if (k < 0)
            return ws_cmd_usage_error("cannot read directory '%s': %s", argv[i], strerror(errno));
        size_t len = strlen(argv[i]);
        const char *sep = len && argv[i][len - 1] == '/' ? "" : "/";
        for (int j = 0; j < k; j++) {
            add_path(paths, n, ws_printf("%s%s%s", argv[i], sep, list[j]->d_name));
            free(list[j]);
        }
        free(list);
    }
    return 0;
}

/* Parse every file; all errors are printed, and any makes it exit 2. */
static int load_all(char **paths, int n, ws_scenario ***out)
{
    ws_scn_errors errs = {0};
    *out = calloc((size_t)(n ? n : 1), sizeof **out);
    if (!*out)
        abort();
    for (int i = 0; i < n; i++)
        ws_scenario_load(paths[i], &(*out)[i], &errs);
    for (int i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msgs[i]);
    int bad = errs.n;
    ws_scn_errors_free(&errs);
    return bad ? WS_EXIT_USAGE : 0;
}

/* ---- running wapsim as a subprocess ---- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

static char self_exe[4200];

/* Runs `wapsim --lab LAB ARGS...` with stdout to out_path and stderr to err_path (or
 * the same file). Returns the exit status (256+N after signal N; 124 after the
 * timeout; -1 when it could not start). */
static int run_wapsim(const char *lab, char **args, int nargs, const char *out_path, const char *err_path,
                      int timeout_s)
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
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
        int err = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600) : out;
        if (in < 0 || out < 0 || err < 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        /* The running program itself, even if a build has replaced the file since. */
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    free(argv);
    setpgid(pid, pid);
    int64_t deadline = ws_mono_ms() + (int64_t)timeout_s * 1000;
    int wait_ms = 1, status = 0, timed_out = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (interrupted || ws_mono_ms() > deadline) {
            timed_out = !interrupted;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        ws_sleep_ms(wait_ms);
        if (wait_ms < 20)
            wait_ms *= 2;
    }
    if (timed_out)
        return 124;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 256 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static char *read_text(const char *path)
{
    unsigned char *data;
    size_t len;
    ws_error e;
    if (ws_read_file(path, 4 << 20, &data, &len, &e) != 0)
        return ws_strdup("");
    for (size_t i = 0; i < len; i++)
        if (data[i] == '\0')
            data[i] = ' ';
    return (char *)data;
}

static void last_line(const char *text, char *out, size_t n)
{
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    snprintf(out, n, "%.*s", (int)(end - start), start);
}

/* ---- one scenario, in its own process ---- */

typedef struct last_connect {
    int have;
    int ok;
    char stage[32];
    int has_code;
    unsigned long long code;
    char *message;
    int portal_has_status;
    long portal_status;
    char *portal_content_type;
    char *portal_body;
} last_connect;

typedef struct scn_run {
    const ws_scenario *sc;
    const run_opts *o;
    ws_state *st;
    char lab[4200];
    char work[4300]; /* <lab>/scenario: outputs of steps and connects */
    sbuf log;        /* the transcript */
    char *failure;   /* first failure, "file:line: ..." */
    int skipped;     /* expect diagnose lines without an operator */
    int64_t mark;    /* events after this id are "since the last connect" */
    last_connect lc;
} scn_run;

static int fail_at(scn_run *r, const ws_scn_line *l, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(scn_run *r, const ws_scn_line *l, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        abort();
    va_end(ap);
    char *flat = one_line(msg, 600);
    free(msg);
    if (l)
        r->failure = ws_printf("%s:%d: %s: %s", r->sc->path, l->lineno, l->text, flat);
    else
        r->failure = ws_printf("%s: %s", r->sc->path, flat);
    sb_printf(&r->log, "FAIL %s\n", r->failure);
    free(flat);
    return -1;
}

static int64_t max_event_id(ws_state *st)
{
    sqlite3_stmt *s = ws_state_prepare(st, "SELECT coalesce(max(id), 0) FROM events", NULL);
    int64_t v = 0;
    if (s && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void quote_args(sbuf *b, char **args, int n)
{
    for (int i = 0; i < n; i++) {
        const char *a = args[i];
        int plain = *a != '\0';
        for (const char *p = a; *p; p++)
            if (!(isalnum((unsigned char)*p) || strchr("-_./:=,@%+", *p)))
                plain = 0;
        if (plain)
            sb_printf(b, " %s", a);
        else {
            sb_add(b, " '", 2);
            for (const char *p = a; *p; p++)
                if (*p == '\'')
                    sb_add(b, "'\\''", 4);
                else
                    sb_add(b, p, 1);
            sb_add(b, "'", 1);
        }
    }
}

static int do_step(scn_run *r, const ws_scn_line *l)
{
    const ws_scn_step *s = &l->u.step;
    char **args = calloc((size_t)s->argc + 1, sizeof *args);
    if (!args)
        abort();
    ws_error e;
    int rc = 0;
    for (int i = 0; i < s->argc && rc == 0; i++)
        if (ws_scn_expand(r->st, s->argv[i], &args[i], &e) != 0)
            rc = fail_at(r, l, "%s", e.msg);
    if (rc == 0) {
        sb_printf(&r->log, "$ wapsim");
        quote_args(&r->log, args, s->argc);
        sb_add(&r->log, "\n", 1);
        char out[4400];
        snprintf(out, sizeof out, "%s/line-%d.out", r->work, l->lineno);
        int status = run_wapsim(r->lab, args, s->argc, out, NULL, r->o->timeout_s);
        char *text = read_text(out);
        sb_indent(&r->log, "  | ", text);
        if (status >= 256)
            sb_printf(&r->log, "  killed by signal %d\n", status - 256);
        else
            sb_printf(&r->log, "  exit %d\n", status);
        char last[300];
        last_line(text, last, sizeof last);
        if (interrupted)
            rc = fail_at(r, l, "interrupted (signal %d)", (int)interrupted);
        else if (status == 124)
            rc = fail_at(r, l, "no answer after %d s (killed)", r->o->timeout_s);
        else if (status < 0 || status == 127)
            rc = fail_at(r, l, "cannot run wapsim (%s)", self_exe);
        else if (status >= 256)
            rc = fail_at(r, l, "wapsim was killed by signal %d%s%s", status - 256, last[0] ? ": " : "", last);
        else if (s->expect_failure && status == 0)
            rc = fail_at(r, l, "exited 0, but step! expects it to fail");
        else if (!s->expect_failure && status != 0)
            rc = fail_at(r, l, "exit %d%s%s", status, last[0] ? ": " : "", last);
        free(text);
    }
    for (int i = 0; i < s->argc; i++)
        free(args[i]);
    free(args);
    return rc;
}

static void clear_connect(last_connect *lc)
{
    free(lc->message);
    free(lc->portal_content_type);
    free(lc->portal_body);
    memset(lc, 0, sizeof *lc);
}

static char *json_text(const cJSON *item)
{
    if (!item || cJSON_IsNull(item))
        return ws_strdup("");
    if (cJSON_IsString(item))
        return ws_strdup(item->valuestring);
    char *t = cJSON_PrintUnformatted(item);
    char *copy = ws_strdup(t ? t : "");
    cJSON_free(t);
    return copy;
}

/* What the browser got from the portal: `wapsim rdp-file --json`. */
static void read_portal(scn_run *r, const ws_scn_line *l, const char *tenant, const char *vm, const char *password)
{
    char out[4400], err[4400], rdp[4400];
    snprintf(out, sizeof out, "%s/line-%d.portal.json", r->work, l->lineno);
    snprintf(err, sizeof err, "%s/line-%d.portal.err", r->work, l->lineno);
    snprintf(rdp, sizeof rdp, "%s/line-%d.portal.rdp", r->work, l->lineno);
    char *args[10] = {"rdp-file", "--json", "--tenant", (char *)tenant, "--vm", (char *)vm, "--out", rdp};
    int n = 8;
    if (password) {
        args[n++] = "--password";
        args[n++] = (char *)password;
    }
    run_wapsim(r->lab, args, n, out, err, r->o->timeout_s);
    char *text = read_text(out);
    cJSON *j = cJSON_Parse(text);
    free(text);
    last_connect *lc = &r->lc;
    if (cJSON_IsTrue(cJSON_GetObjectItem(j, "ok"))) {
        lc->portal_has_status = 1;
        lc->portal_status = 200;
        lc->portal_content_type = ws_strdup("application/x-rdp");
        lc->portal_body = ws_strdup("");
    } else {
        const cJSON *status = cJSON_GetObjectItem(j, "http_status");
        if (cJSON_IsNumber(status)) {
            lc->portal_has_status = 1;
            lc->portal_status = (long)status->valuedouble;
        }
        lc->portal_content_type = json_text(cJSON_GetObjectItem(j, "content_type"));
        lc->portal_body = json_text(cJSON_GetObjectItem(j, "body"));
    }
    cJSON_Delete(j);
    if (lc->portal_has_status)
        sb_printf(&r->log, "  portal answered HTTP %ld (%s): %s\n", lc->portal_status, lc->portal_content_type,
                  lc->portal_body);
    else
        sb_printf(&r->log, "  the browser got no answer from the portal\n");
}

static int do_connect(scn_run *r, const ws_scn_line *l)
{
    const ws_scn_connect *c = &l->u.connect;
    char *tenant = NULL, *vm = NULL, *client = NULL, *password = NULL;
    ws_error e;
    int rc = 0;
    const char *const in[4] = {c->tenant, c->vm, c->client, c->password};
    char **outs[4] = {&tenant, &vm, &client, &password};
    for (int i = 0; i < 4 && rc == 0; i++)
        if (in[i] && ws_scn_expand(r->st, in[i], outs[i], &e) != 0)
            rc = fail_at(r, l, "%s", e.msg);
    if (rc != 0)
        goto out;
    char rdp[4400], out[4400], err[4400];
    snprintf(rdp, sizeof rdp, "%s/line-%d.rdp", r->work, l->lineno);
    snprintf(out, sizeof out, "%s/line-%d.json", r->work, l->lineno);
    snprintf(err, sizeof err, "%s/line-%d.err", r->work, l->lineno);
    char *args[16];
    int n = 0;
    args[n++] = "connect";
    args[n++] = "--json";
    if (c->admin) {
        args[n++] = "--admin";
    } else {
        args[n++] = "--tenant";
        args[n++] = tenant;
        args[n++] = "--save-rdp";
        args[n++] = rdp;
    }
    args[n++] = "--vm";
    args[n++] = vm;
    if (client) {
        args[n++] = "--client";
        args[n++] = client;
    }
    if (password) {
        args[n++] = "--password";
        args[n++] = password;
    }
    if (c->legacy_gateway)
        args[n++] = "--legacy-gateway";
    clear_connect(&r->lc);
    r->mark = max_event_id(r->st);
    sb_printf(&r->log, "$ wapsim");
    quote_args(&r->log, args, n);
    sb_add(&r->log, "\n", 1);
    int status = run_wapsim(r->lab, args, n, out, err, r->o->timeout_s);
    char *text = read_text(out), *etext = read_text(err);
    sb_indent(&r->log, "  ! ", etext);
    cJSON *j = cJSON_Parse(text);
    const cJSON *stage = cJSON_GetObjectItem(j, "stage");
    if (!cJSON_IsString(stage)) {
        char last[300];
        last_line(etext[0] ? etext : text, last, sizeof last);
        rc = interrupted     ? fail_at(r, l, "interrupted (signal %d)", (int)interrupted)
             : status == 124 ? fail_at(r, l, "no answer after %d s (killed)", r->o->timeout_s)
             : status >= 256
                 ? fail_at(r, l, "wapsim connect was killed by signal %d", status - 256)
                 : fail_at(r, l, "wapsim connect exited %d without a result%s%s", status, last[0] ? ": " : "", last);
        cJSON_Delete(j);
        free(text);
        free(etext);
        goto out;
    }
    last_connect *lc = &r->lc;
    lc->have = 1;
    lc->ok = cJSON_IsTrue(cJSON_GetObjectItem(j, "ok"));
    snprintf(lc->stage, sizeof lc->stage, "%s", stage->valuestring);
    const cJSON *code = cJSON_GetObjectItem(j, "code");
    if (cJSON_IsNumber(code)) {
        lc->has_code = 1;
        lc->code = (unsigned long long)code->valuedouble;
    }
    lc->message = json_text(cJSON_GetObjectItem(j, "message"));
    const cJSON *hop;
    int portal_ok = 0;
    cJSON_ArrayForEach(hop, cJSON_GetObjectItem(j, "hops"))
    {
        const char *hs = cJSON_GetStringValue(cJSON_GetObjectItem(hop, "stage"));
        int hok = cJSON_IsTrue(cJSON_GetObjectItem(hop, "ok"));
        const char *detail = cJSON_GetStringValue(cJSON_GetObjectItem(hop, "detail"));
        sb_printf(&r->log, "  %-14s %-4s %s\n", hs ? hs : "?", hok ? "ok" : "FAIL", detail ? detail : "");
        if (hs && strcmp(hs, "portal") == 0 && hok)
            portal_ok = 1;
    }
    if (lc->ok)
        sb_printf(&r->log, "  connected (stage %s)\n", lc->stage);
    else if (lc->has_code)
        sb_printf(&r->log, "  stopped at %s, code %llu (0x%llX): %s\n", lc->stage, lc->code, lc->code, lc->message);
    else
        sb_printf(&r->log, "  stopped at %s: %s\n", lc->stage, lc->message);
    cJSON_Delete(j);
    free(text);
    free(etext);
    if (c->admin) {
        lc->portal_content_type = ws_strdup("");
        lc->portal_body = ws_strdup("");
    } else if (portal_ok) {
        lc->portal_has_status = 1;
        lc->portal_status = 200;
        lc->portal_content_type = ws_strdup("application/x-rdp");
        lc->portal_body = ws_strdup("");
    } else {
        /* The connect's own message holds only the start of the body: ask as the browser does. */
        read_portal(r, l, tenant, vm, password);
    }
out:
    free(tenant);
    free(vm);
    free(client);
    free(password);
    return rc;
}

static int parse_number(const char *s, unsigned long long *v)
{
    char *end;
    if (!*s || *s == '-')
        return -1;
    *v = strtoull(s, &end, 0);
    return *end ? -1 : 0;
}

/* actual OP expected, for strings (numbers when numeric is set and both parse). */
static int holds(ws_scn_op op, const char *actual, const char *expected, int numeric)
{
    unsigned long long a, b;
    int eq = numeric && parse_number(actual, &a) == 0 && parse_number(expected, &b) == 0
                 ? a == b
                 : strcmp(actual, expected) == 0;
    switch (op) {
    case WS_SCN_OP_EQ: return eq;
    case WS_SCN_OP_NE: return !eq;
    case WS_SCN_OP_CONTAINS: return strstr(actual, expected) != NULL;
    case WS_SCN_OP_NOT_CONTAINS: return strstr(actual, expected) == NULL;
    default: return 0;
    }
}

typedef struct ev_list {
    char **texts;
    int n;
} ev_list;

static void events_since(scn_run *r, const ws_scn_expect *x, ev_list *out)
{
    memset(out, 0, sizeof *out);
    const char *sql = x->target == WS_SCN_TRACE
                          ? "SELECT text FROM events WHERE id > ? AND machine = ? COLLATE NOCASE AND channel = 'Trace' "
                            "ORDER BY id"
                          : "SELECT text FROM events WHERE id > ? AND machine = ? COLLATE NOCASE AND event_id = ? "
                            "ORDER BY id";
    sqlite3_stmt *s = ws_state_prepare(r->st, sql, NULL);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, r->mark);
    sqlite3_bind_text(s, 2, x->machine, -1, SQLITE_STATIC);
    if (x->target != WS_SCN_TRACE)
        sqlite3_bind_int(s, 3, x->event_id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        char **grown = realloc(out->texts, (size_t)(out->n + 1) * sizeof *grown);
        if (!grown)
            abort();
        out->texts = grown;
        out->texts[out->n++] = ws_strdup((const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
}

static int do_expect_events(scn_run *r, const ws_scn_line *l, const char *value)
{
    const ws_scn_expect *x = &l->u.expect;
    ev_list ev;
    events_since(r, x, &ev);
    char what[128];
    if (x->target == WS_SCN_TRACE)
        snprintf(what, sizeof what, "trace block on %s", x->machine);
    else
        snprintf(what, sizeof what, "event %d on %s", x->event_id, x->machine);
    const char *since = r->lc.have ? "since the last connect" : "since the lab was created";
    int rc = 0, match = -1;
    for (int i = 0; i < ev.n && match < 0; i++) {
        ws_scn_op op = x->op == WS_SCN_OP_NE             ? WS_SCN_OP_EQ
                       : x->op == WS_SCN_OP_NOT_CONTAINS ? WS_SCN_OP_CONTAINS
                                                         : x->op;
        if (op == WS_SCN_OP_NONE || holds(op, ev.texts[i], value, 0))
            match = i;
    }
    char *first = ev.n ? one_line(ev.texts[match >= 0 ? match : 0], 300) : NULL;
    switch (x->op) {
    case WS_SCN_OP_NONE:
        if (x->target == WS_SCN_NO_EVENT) {
            if (ev.n)
                rc = fail_at(r, l, "found %s %s: '%s'", what, since, first);
        } else if (!ev.n) {
            rc = fail_at(r, l, "no %s %s", what, since);
        }
        break;
    case WS_SCN_OP_EQ:
    case WS_SCN_OP_CONTAINS:
        if (!ev.n)
            rc = fail_at(r, l, "no %s %s", what, since);
        else if (match < 0)
            rc = fail_at(r, l, "%s %s (%d found), none %s '%s' (first: '%s')", what, since, ev.n,
                         x->op == WS_SCN_OP_EQ ? "with the text" : "containing", value, first);
        break;
    default: /* != and !~: no event matches */
        if (match >= 0)
            rc = fail_at(r, l, "%s %s %s '%s': '%s'", what, since, x->op == WS_SCN_OP_NE ? "has the text" : "contains",
                         value, first);
        break;
    }
    if (rc == 0)
        sb_printf(&r->log, "ok   [%d] %s%s%s%s (%d %s%s %s)\n", l->lineno, l->text,
                  strcmp(value, x->value) ? " (value: " : "", strcmp(value, x->value) ? value : "",
                  strcmp(value, x->value) ? ")" : "", ev.n, x->target == WS_SCN_TRACE ? "trace block" : "event",
                  ev.n == 1 ? "" : "s", since);
    free(first);
    for (int i = 0; i < ev.n; i++)
        free(ev.texts[i]);
    free(ev.texts);
    return rc;
}

/* `expect diagnose`: runs `wapsim diagnose --json` against the scenario's lab, as an
 * operator would, and compares the set of finding ids. */
static int do_expect_diagnose(scn_run *r, const ws_scn_line *l)
{
    const ws_scn_expect *x = &l->u.expect;
    if (x->op == WS_SCN_OP_NONE) {
        r->skipped++;
        sb_printf(&r->log, "skip [%d] %s: skipped (no operator: expect diagnose = ID|none, ~ ID or !~ ID)\n",
                  l->lineno, l->text);
        return 0;
    }
    char out[4400], err[4400];
    snprintf(out, sizeof out, "%s/line-%d.diagnose.json", r->work, l->lineno);
    snprintf(err, sizeof err, "%s/line-%d.diagnose.err", r->work, l->lineno);
    char *args[] = {"diagnose", "--json"};
    sb_printf(&r->log, "$ wapsim diagnose --json\n");
    int status = run_wapsim(r->lab, args, 2, out, err, r->o->timeout_s);
    char *text = read_text(out), *etext = read_text(err);
    sb_indent(&r->log, "  ! ", etext);
    cJSON *j = cJSON_Parse(text);
    const cJSON *findings = cJSON_GetObjectItem(j, "findings");
    int rc = 0;
    if ((status != 0 && status != 1) || !cJSON_IsArray(findings)) {
        char last[300];
        last_line(etext[0] ? etext : text, last, sizeof last);
        rc = interrupted     ? fail_at(r, l, "interrupted (signal %d)", (int)interrupted)
             : status == 124 ? fail_at(r, l, "wapsim diagnose gave no answer after %d s (killed)", r->o->timeout_s)
                             : fail_at(r, l, "wapsim diagnose exited %d without a result%s%s", status,
                                       last[0] ? ": " : "", last);
        goto out;
    }
    /* The set of ids found, and "id on machine" for the messages. */
    char **ids = NULL;
    int nids = 0;
    sbuf found = {0};
    sb_add(&found, "", 0);
    const cJSON *f;
    cJSON_ArrayForEach(f, findings)
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(f, "id"));
        const char *machine = cJSON_GetStringValue(cJSON_GetObjectItem(f, "machine"));
        const char *summary = cJSON_GetStringValue(cJSON_GetObjectItem(f, "summary"));
        if (!id)
            continue;
        sb_printf(&r->log, "  %-30s %-8s %s\n", id, machine ? machine : "?", summary ? summary : "");
        sb_printf(&found, "%s%s on %s", found.len ? ", " : "", id, machine ? machine : "?");
        int seen = 0;
        for (int i = 0; i < nids; i++)
            seen |= strcmp(ids[i], id) == 0;
        if (!seen) {
            char **grown = realloc(ids, (size_t)(nids + 1) * sizeof *grown);
            if (!grown)
                abort();
            ids = grown;
            ids[nids++] = ws_strdup(id);
        }
    }
    /* The ids expected: a set for = and !=, one id for ~ and !~. */
    char *want = ws_strdup(x->value);
    int nwant = 0, all_found = 1, any_missing = 0, none = 0;
    for (char *save = NULL, *id = strtok_r(want, ", \t", &save); id; id = strtok_r(NULL, ", \t", &save)) {
        if (strcmp(id, "none") == 0) {
            none = 1;
            continue;
        }
        nwant++;
        int seen = 0;
        for (int i = 0; i < nids; i++)
            seen |= strcmp(ids[i], id) == 0;
        if (!seen)
            all_found = 0, any_missing = 1;
    }
    free(want);
    int holds_now;
    switch (x->op) {
    case WS_SCN_OP_EQ: holds_now = none ? nids == 0 : all_found && nids == nwant; break;
    case WS_SCN_OP_NE: holds_now = !(none ? nids == 0 : all_found && nids == nwant); break;
    case WS_SCN_OP_CONTAINS: holds_now = !any_missing; break;
    default: holds_now = any_missing; break; /* !~ */
    }
    if (holds_now)
        sb_printf(&r->log, "ok   [%d] %s (found: %s)\n", l->lineno, l->text, found.len ? found.s : "nothing");
    else
        rc = fail_at(r, l, "diagnose found %s", found.len ? found.s : "nothing");
    for (int i = 0; i < nids; i++)
        free(ids[i]);
    free(ids);
    free(found.s);
out:
    cJSON_Delete(j);
    free(text);
    free(etext);
    return rc;
}

static int do_expect(scn_run *r, const ws_scn_line *l)
{
    const ws_scn_expect *x = &l->u.expect;
    if (x->target == WS_SCN_DIAGNOSE)
        return do_expect_diagnose(r, l);
    char *value;
    ws_error e;
    if (ws_scn_expand(r->st, x->value, &value, &e) != 0)
        return fail_at(r, l, "%s", e.msg);
    int rc;
    if (x->target == WS_SCN_EVENT || x->target == WS_SCN_NO_EVENT || x->target == WS_SCN_TRACE) {
        rc = do_expect_events(r, l, value);
        free(value);
        return rc;
    }
    const last_connect *lc = &r->lc;
    if (!lc->have) {
        free(value);
        return fail_at(r, l, "the last connect gave no result");
    }
    char num[32];
    const char *actual = "";
    int numeric = 0;
    switch (x->target) {
    case WS_SCN_CONNECT_OK: actual = lc->ok ? "true" : "false"; break;
    case WS_SCN_CONNECT_STAGE: actual = lc->stage; break;
    case WS_SCN_CONNECT_CODE:
        if (lc->has_code)
            snprintf(num, sizeof num, "%llu", lc->code);
        else
            snprintf(num, sizeof num, "null");
        actual = num;
        numeric = 1;
        break;
    case WS_SCN_CONNECT_MESSAGE: actual = lc->message ? lc->message : ""; break;
    case WS_SCN_PORTAL_STATUS:
        if (lc->portal_has_status)
            snprintf(num, sizeof num, "%ld", lc->portal_status);
        else
            snprintf(num, sizeof num, "null");
        actual = num;
        numeric = 1;
        break;
    case WS_SCN_PORTAL_CONTENT_TYPE: actual = lc->portal_content_type ? lc->portal_content_type : ""; break;
    case WS_SCN_PORTAL_BODY: actual = lc->portal_body ? lc->portal_body : ""; break;
    default: break;
    }
    if (holds(x->op, actual, value, numeric)) {
        sb_printf(&r->log, "ok   [%d] %s%s%s%s\n", l->lineno, l->text, strcmp(value, x->value) ? " (value: " : "",
                  strcmp(value, x->value) ? value : "", strcmp(value, x->value) ? ")" : "");
        rc = 0;
    } else {
        char *got = one_line(actual, 300);
        if (strcmp(value, x->value) != 0)
            rc = fail_at(r, l, "got '%s' (the value is '%s')", got, value);
        else
            rc = fail_at(r, l, "got '%s'", got);
        free(got);
    }
    free(value);
    return rc;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

/* A subnet for this scenario's lab that no other lab on this machine uses: a lock
 * file per subnet (held until this process exits) among scenario runners, and
 * ws_subnet_in_use for any running lab. */
static char lock_path[4300]; /* the subnet lock this scenario process holds */

/* Unlink before unlocking: a process that opened the old file finds, after its flock,
 * that the path is gone or another file (pick_subnet's inode check). */
static void release_subnet(int fd)
{
    if (fd < 0)
        return;
    if (lock_path[0])
        unlink(lock_path);
    lock_path[0] = '\0';
    close(fd);
}

static int pick_subnet(unsigned base, int index, char *subnet, size_t n, int *lock_fd)
{
    /* Always in /tmp, whatever $TMPDIR says: runners with different TMPDIRs share it. */
    char dir[4200];
    snprintf(dir, sizeof dir, "/tmp/wapsim-subnets-%ld", (long)getuid());
    int have_dir = mkdir(dir, 0700) == 0 || errno == EEXIST;
    for (unsigned k = 0; k < 512; k++) {
        unsigned v = (base + (unsigned)index + k * 997u) % SUBNET_COUNT;
        snprintf(subnet, n, "127.%u.%u.0/24", SUBNET_FIRST + v / 256, v % 256);
        int fd = -1;
        if (have_dir) {
            snprintf(lock_path, sizeof lock_path, "%s/127.%u.%u.lock", dir, SUBNET_FIRST + v / 256, v % 256);
            fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            struct stat by_fd, by_path;
            if (fd >= 0 &&
                (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &by_fd) != 0 || stat(lock_path, &by_path) != 0 ||
                 by_fd.st_ino != by_path.st_ino || by_fd.st_dev != by_path.st_dev)) {
                close(fd); /* taken, or released and unlinked meanwhile */
                lock_path[0] = '\0';
                continue;
            }
            if (fd < 0)
                lock_path[0] = '\0';
        }
        if (ws_subnet_in_use(subnet)) {
            release_subnet(fd);
            continue;
        }
        *lock_fd = fd;
        return 0;
    }
    return -1;
}

static int run_lines(scn_run *r)
{
    for (int i = 0; i < r->sc->nlines; i++) {
        const ws_scn_line *l = &r->sc->lines[i];
        if (interrupted)
            return fail_at(r, l, "interrupted (signal %d) before this line", (int)interrupted);
        if (l->kind != WS_SCN_EXPECT)
            sb_printf(&r->log, "[%d] %s\n", l->lineno, l->text);
        int rc = l->kind == WS_SCN_STEP      ? do_step(r, l)
                 : l->kind == WS_SCN_CONNECT ? do_connect(r, l)
                                             : do_expect(r, l);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The child: runs one scenario and writes its result file. */
static void run_scenario(const ws_scenario *sc, int index, unsigned base, const run_opts *o, const char *result_path)
{
    int64_t t0 = ws_mono_ms();
    scn_run R;
    memset(&R, 0, sizeof R);
    scn_run *r = &R;
    r->sc = sc;
    r->o = o;
    sb_add(&r->log, "", 0);
    snprintf(r->lab, sizeof r->lab, "%s/wapsim-scn.XXXXXX", tmp_dir());
    int lock_fd = -1, made = 0;
    char subnet[32] = "";
    ws_error e;
    if (!mkdtemp(r->lab)) {
        fail_at(r, NULL, "cannot make a lab directory in %s: %s", tmp_dir(), strerror(errno));
        goto report;
    }
    made = 1;
    /* A subnet can be taken between the check and `up` by a lab started by hand: try
     * another one then. */
    for (int attempt = 0; attempt < 3 && !r->st && !r->failure; attempt++) {
        release_subnet(lock_fd);
        lock_fd = -1;
        if (pick_subnet(base + (unsigned)attempt * 4099u, index, subnet, sizeof subnet, &lock_fd) != 0) {
            fail_at(r, NULL, "no free subnet for the scenario's lab");
            break;
        }
        ws_lab_init_opts io = {.dir = r->lab, .subnet = subnet};
        ws_lab_init_result ir;
        if (ws_lab_init(&io, &ir, &e) != 0) {
            if (ws_subnet_in_use(subnet))
                continue;
            fail_at(r, NULL, "lab init: %s", e.msg);
            break;
        }
        sb_printf(&r->log, "lab %s on subnet %s (keys %s)\n", r->lab, subnet,
                  ir.keys_from_template ? "copied from the template" : "generated");
        if (ws_lab_open(r->lab, &r->st, &e) != 0) {
            fail_at(r, NULL, "%s", e.msg);
            break;
        }
        if (ws_lab_up(r->st, UP_TIMEOUT_MS, 1, &e) != 0) {
            int in_use = ws_subnet_in_use(subnet);
            ws_state_close(r->st);
            r->st = NULL;
            if (in_use && attempt < 2) {
                sb_printf(&r->log, "subnet %s was taken meanwhile: another lab\n", subnet);
                rm_rf(r->lab);
                mkdir(r->lab, 0700);
                continue;
            }
            fail_at(r, NULL, "the lab did not come up: %s", e.msg);
            break;
        }
    }
    if (!r->st || r->failure)
        goto report;
    snprintf(r->work, sizeof r->work, "%s/scenario", r->lab);
    mkdir(r->work, 0700);
    run_lines(r);
    clear_connect(&r->lc);
    int stopped;
    if (ws_lab_down(r->st, &stopped, &e) != 0 && !r->failure)
        fail_at(r, NULL, "down: %s", e.msg);
report:
    if (r->st)
        ws_state_close(r->st);
    int keep = made && r->failure && o->keep;
    if (keep) {
        char path[4400];
        snprintf(path, sizeof path, "%s/scenario/transcript.log", r->lab);
        mkdir(r->work[0] ? r->work : r->lab, 0700);
        ws_write_file(path, r->log.s, r->log.len, 0600, NULL);
    } else if (made) {
        rm_rf(r->lab);
    }
    release_subnet(lock_fd);
    double seconds = (double)(ws_mono_ms() - t0) / 1000.0;
    char *note = r->skipped ? ws_printf("%d expect diagnose skipped (no operator)", r->skipped) : NULL;
    char *text = ws_printf("%s\n%.3f\n%s\n%s\n%s\n%s", r->failure ? "FAIL" : "PASS", seconds, keep ? r->lab : "-",
                           r->failure ? r->failure : "-", note ? note : "-", r->log.s);
    ws_write_file(result_path, text, strlen(text), 0600, NULL);
    free(text);
    free(note);
    free(r->failure);
    free(r->log.s);
}

static void read_result(const char *path, result *res)
{
    char *text = read_text(path);
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

/* ---- reports ---- */

static void print_result(const run_opts *o, int number, const ws_scenario *sc, const result *res)
{
    sbuf b = {0};
    sb_add(&b, "", 0);
    if (o->tap) {
        if (res->passed)
            sb_printf(&b, "ok %d - %s (%.1f s)%s%s\n", number, sc->name, res->seconds, res->note ? " # " : "",
                      res->note ? res->note : "");
        else
            sb_printf(&b, "not ok %d - %s: %s\n", number, sc->name, res->message ? res->message : "failed");
        if (!res->passed || o->verbose)
            sb_indent(&b, "# ", res->transcript);
        if (res->lab)
            sb_printf(&b, "# lab kept: %s\n", res->lab);
    } else {
        if (res->passed)
            sb_printf(&b, "ok   %s (%.1f s)%s%s%s\n", sc->name, res->seconds, res->note ? " [" : "",
                      res->note ? res->note : "", res->note ? "]" : "");
        else
            sb_printf(&b, "FAIL %s: %s\n", sc->name, res->message ? res->message : "failed");
        if (!res->passed || o->verbose)
            sb_indent(&b, "    ", res->transcript);
        if (res->lab)
            sb_printf(&b, "     lab kept: %s (wapsim --lab %s up)\n", res->lab, res->lab);
    }
    fputs(b.s, stdout);
    fflush(stdout);
    free(b.s);
}

/* XML text: & < > " ' escaped, characters XML 1.0 forbids and bytes that are not
 * UTF-8 replaced by '?'. */
static void xml_escape(sbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x80) {
            switch (c) {
            case '&': sb_add(b, "&amp;", 5); break;
            case '<': sb_add(b, "&lt;", 4); break;
            case '>': sb_add(b, "&gt;", 4); break;
            case '"': sb_add(b, "&quot;", 6); break;
            case '\'': sb_add(b, "&apos;", 6); break;
            default:
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                    sb_add(b, "?", 1);
                else
                    sb_add(b, (const char *)p, 1);
            }
            p++;
            continue;
        }
        int len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
        int ok = len > 0;
        for (int i = 1; ok && i < len; i++)
            ok = (p[i] & 0xC0) == 0x80;
        if (ok && len == 3) {
            unsigned cp = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
            ok = cp >= 0x800 && !(cp >= 0xD800 && cp <= 0xDFFF) && cp != 0xFFFE && cp != 0xFFFF;
        } else if (ok && len == 4) {
            unsigned cp = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
            ok = cp >= 0x10000 && cp <= 0x10FFFF;
        }
        if (ok) {
            sb_add(b, (const char *)p, (size_t)len);
            p += len;
        } else {
            sb_add(b, "?", 1);
            p++;
        }
    }
}

static int write_junit(const char *path, ws_scenario **sel, result *res, int n, double total)
{
    int failures = 0;
    for (int i = 0; i < n; i++)
        failures += !res[i].passed;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    sbuf b = {0};
    sb_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sb_printf(&b, "<testsuites name=\"wapsim.scenarios\" tests=\"%d\" failures=\"%d\" errors=\"0\" time=\"%.3f\">\n", n,
              failures, total);
    sb_printf(&b,
              "  <testsuite name=\"wapsim.scenarios\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\" "
              "time=\"%.3f\" timestamp=\"%s\" hostname=\"",
              n, failures, total, stamp);
    xml_escape(&b, host);
    sb_printf(&b, "\">\n");
    for (int i = 0; i < n; i++) {
        sb_printf(&b, "    <testcase classname=\"wapsim.scenarios\" name=\"");
        xml_escape(&b, sel[i]->name);
        sb_printf(&b, "\" file=\"");
        xml_escape(&b, sel[i]->path);
        sb_printf(&b, "\" time=\"%.3f\">\n", res[i].seconds);
        if (!res[i].passed) {
            sb_printf(&b, "      <failure message=\"");
            xml_escape(&b, res[i].message ? res[i].message : "failed");
            sb_printf(&b, "\" type=\"scenario\">");
            xml_escape(&b, res[i].message ? res[i].message : "failed");
            if (res[i].lab) {
                sb_printf(&b, "\nlab kept: ");
                xml_escape(&b, res[i].lab);
            }
            sb_printf(&b, "</failure>\n");
        }
        sb_printf(&b, "      <system-out>");
        if (sel[i]->title) {
            xml_escape(&b, sel[i]->title);
            sb_add(&b, "\n", 1);
        }
        if (res[i].note) {
            xml_escape(&b, res[i].note);
            sb_add(&b, "\n", 1);
        }
        xml_escape(&b, res[i].transcript ? res[i].transcript : "");
        sb_printf(&b, "</system-out>\n    </testcase>\n");
    }
    sb_printf(&b, "  </testsuite>\n</testsuites>\n");
    ws_error e;
    int rc = ws_write_file(path, b.s, b.len, 0644, &e);
    if (rc != 0)
        ws_warn("--junit: %s", e.msg);
    free(b.s);
    return rc;
}

/* ---- the commands ---- */

/* Makes the key template once before the scenarios start, so parallel labs copy
 * it instead of each generating keys. */
static void warm_template(void)
{
    char path[4200];
    ws_template_path(path, sizeof path);
    struct stat sb;
    if (stat(path, &sb) == 0 && time(NULL) - sb.st_mtime < 20 * 86400)
        return;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/wapsim-scn-template.XXXXXX", tmp_dir());
    if (!mkdtemp(dir))
        return;
    ws_lab_init_opts io = {.dir = dir};
    ws_lab_init_result ir;
    ws_error e;
    ws_lab_init(&io, &ir, &e);
    rm_rf(dir);
}

static int parse_shard(const char *arg, int *i, int *n)
{
    char tail;
    if (sscanf(arg, "%d/%d%c", i, n, &tail) != 2 || *n < 1 || *i < 1 || *i > *n)
        return ws_cmd_usage_error("bad --shard '%s' (I/N with 1 <= I <= N, as 2/4)", arg);
    return 0;
}

static int scenario_run(int argc, char **argv)
{
    static const struct option opts[] = {{"jobs", required_argument, NULL, 'j'},
                                         {"shard", required_argument, NULL, 's'},
                                         {"junit", required_argument, NULL, 'J'},
                                         {"tap", no_argument, NULL, 'T'},
                                         {"keep", no_argument, NULL, 'k'},
                                         {"filter", required_argument, NULL, 'f'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {0, 0, 0, 0}};
    run_opts o = {.jobs = 1, .shard_i = 1, .shard_n = 1, .timeout_s = DEFAULT_TIMEOUT_S};
    int ch, rc;
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":j:v", opts, NULL)) != -1) {
        switch (ch) {
        case 'j': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > MAX_JOBS)
                return ws_cmd_usage_error("bad -j '%s' (1..%d scenarios at once)", optarg, MAX_JOBS);
            o.jobs = (int)v;
            break;
        }
        case 's':
            if ((rc = parse_shard(optarg, &o.shard_i, &o.shard_n)))
                return rc;
            break;
        case 'J': o.junit = optarg; break;
        case 'T': o.tap = 1; break;
        case 'k': o.keep = 1; break;
        case 'v': o.verbose = 1; break;
        case 'f': {
            char **grown = realloc(o.filters, (size_t)(o.nfilters + 1) * sizeof *grown);
            if (!grown)
                abort();
            o.filters = grown;
            o.filters[o.nfilters++] = optarg;
            break;
        }
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 3600)
                return ws_cmd_usage_error("bad --timeout '%s' (seconds, 1..3600)", optarg);
            o.timeout_s = (int)v;
            break;
        }
        default: return ws_cmd_bad_option(ch, argv);
        }
    }
    char *default_dir[] = {"scenarios"};
    char **paths = NULL;
    int npaths = 0;
    if ((rc = optind < argc ? collect(argc - optind, argv + optind, &paths, &npaths)
                            : collect(1, default_dir, &paths, &npaths))) {
        free(o.filters);
        return rc;
    }
    ws_scenario **all;
    rc = load_all(paths, npaths, &all);
    for (int i = 0; i < npaths; i++)
        free(paths[i]);
    free(paths);
    if (rc) {
        for (int i = 0; i < npaths; i++)
            ws_scenario_free(all[i]);
        free(all);
        free(o.filters);
        return rc;
    }
    /* --filter, then --shard: the k-th of the filtered list, in order, goes to shard k mod N. */
    ws_scenario **sel = calloc((size_t)(npaths ? npaths : 1), sizeof *sel);
    if (!sel)
        abort();
    int n = 0, k = 0;
    for (int i = 0; i < npaths; i++) {
        int want = o.nfilters == 0;
        for (int f = 0; f < o.nfilters; f++)
            want |= ws_scenario_has_tag(all[i], o.filters[f]);
        if (want && k++ % o.shard_n == o.shard_i - 1)
            sel[n++] = all[i];
    }

    ssize_t len = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (len <= 0) {
        ws_warn("scenario run: cannot find the wapsim program itself");
        rc = WS_EXIT_USAGE;
        goto done;
    }
    self_exe[len] = '\0';
    char run_dir[4200];
    snprintf(run_dir, sizeof run_dir, "%s/wapsim-scn-run.XXXXXX", tmp_dir());
    if (!mkdtemp(run_dir)) {
        ws_warn("scenario run: cannot make a directory in %s: %s", tmp_dir(), strerror(errno));
        rc = WS_EXIT_USAGE;
        goto done;
    }
    if (n > 0)
        warm_template();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    if (o.tap)
        printf("1..%d\n", n);
    result *res = calloc((size_t)(n ? n : 1), sizeof *res);
    pid_t *pids = calloc((size_t)(n ? n : 1), sizeof *pids);
    if (!res || !pids)
        abort();
    unsigned base = ((unsigned)getpid() * 2654435761u) ^ (unsigned)time(NULL);
    int64_t t0 = ws_mono_ms();
    int next = 0, running = 0, printed = 0, passed = 0, failed = 0;
    pid_t parent = getpid();
    while (printed < n) {
        while (!interrupted && running < o.jobs && next < n) {
            char result_path[4300];
            snprintf(result_path, sizeof result_path, "%s/%d.result", run_dir, next);
            fflush(stdout);
            fflush(stderr);
            pid_t pid = fork();
            if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent)
                    _exit(1);
                run_scenario(sel[next], next, base, &o, result_path);
                _exit(0);
            }
            if (pid < 0) {
                res[next].done = 1;
                res[next].message = ws_printf("%s: fork: %s", sel[next]->path, strerror(errno));
                res[next].transcript = ws_strdup("");
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
                    char result_path[4300];
                    snprintf(result_path, sizeof result_path, "%s/%d.result", run_dir, i);
                    read_result(result_path, &res[i]);
                    running--;
                }
        } else if (interrupted) {
            /* Scenarios never started: reported as not run. */
            for (int i = next; i < n; i++) {
                res[i].done = 1;
                res[i].message = ws_printf("%s: not run (interrupted)", sel[i]->path);
                res[i].transcript = ws_strdup("");
            }
            next = n;
        }
        while (printed < n && res[printed].done) {
            if (res[printed].passed)
                passed++;
            else
                failed++;
            print_result(&o, printed + 1, sel[printed], &res[printed]);
            printed++;
        }
    }
    double total = (double)(ws_mono_ms() - t0) / 1000.0;
    printf(o.tap ? "# %d passed, %d failed\n" : "%d passed, %d failed\n", passed, failed);
    if (o.junit && write_junit(o.junit, sel, res, n, total) != 0 && !failed)
        failed = 1;
    rm_rf(run_dir);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    for (int i = 0; i < n; i++) {
        free(res[i].message);
        free(res[i].note);
        free(res[i].lab);
        free(res[i].transcript);
    }
    free(res);
    free(pids);
    rc = interrupted ? 128 + (int)interrupted : failed ? WS_EXIT_FAIL : 0;
done:
    for (int i = 0; i < npaths; i++)
        ws_scenario_free(all[i]);
    free(all);
    free(sel);
    free(o.filters);
    return rc;
}

static int scenario_check(int argc, char **argv)
{
    static const struct option opts[] = {{0, 0, 0, 0}};
    int ch;
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1)
        return ws_cmd_bad_option(ch, argv);
    if (optind >= argc)
        return ws_cmd_usage_error("which files? (wapsim scenario check FILE|DIR...)");
    char **paths = NULL;
    int npaths = 0, rc = collect(argc - optind, argv + optind, &paths, &npaths);
    if (rc)
        return rc;
    ws_scn_errors errs = {0};
    int bad = 0;
    for (int i = 0; i < npaths; i++) {
        ws_scenario *sc;
        int before = errs.n;
        if (ws_scenario_load(paths[i], &sc, &errs) == 0) {
            int steps = 0, connects = 0, expects = 0;
            for (int j = 0; j < sc->nlines; j++) {
                steps += sc->lines[j].kind == WS_SCN_STEP;
                connects += sc->lines[j].kind == WS_SCN_CONNECT;
                expects += sc->lines[j].kind == WS_SCN_EXPECT;
            }
            printf("ok   %s: %d step%s, %d connect%s, %d expect%s%s%s\n", paths[i], steps, steps == 1 ? "" : "s",
                   connects, connects == 1 ? "" : "s", expects, expects == 1 ? "" : "s", sc->title ? ": " : "",
                   sc->title ? sc->title : "");
            ws_scenario_free(sc);
        } else {
            bad++;
            for (int j = before; j < errs.n; j++)
                fprintf(stderr, "%s\n", errs.msgs[j]);
        }
        free(paths[i]);
    }
    free(paths);
    ws_scn_errors_free(&errs);
    return bad ? WS_EXIT_USAGE : 0;
}

static int scenario_format(int argc, char **argv)
{
    if (argc > 1)
        return ws_cmd_usage_error("unexpected argument '%s'", argv[1]);
    fputs(ws_scenario_format_help, stdout);
    return 0;
}

const ws_cmd ws_cmds_scenario[] = {
    {"scenario", "run", scenario_run,
     "[FILE|DIR...] [-j N] [--shard I/N] [--junit FILE] [--tap] [--keep] [--filter TAG] [--timeout S] [-v]",
     "Replay scenario files, each in a fresh lab of its own; N passed, N failed.",
     "A DIR stands for its *.scn files (sorted, not recursive); the default is ./scenarios.\n"
     "Every file is parsed first: any syntax error is printed as FILE:LINE: MESSAGE and\n"
     "nothing runs (exit 2). Each scenario then gets a new lab in $TMPDIR (keys copied\n"
     "from the key template) on a subnet of 127.160.0.0-127.191.255.0 no other lab uses,\n"
     "brought up, its lines run in order until the first that fails, taken down and\n"
     "removed. One line per scenario, in file order:\n"
     "  ok   NAME (3.2 s)\n"
     "  FAIL NAME: FILE:LINE: LINE AS WRITTEN: what happened\n"
     "followed, for a failure, by its transcript (commands, their output, each expect);\n"
     "the last line is \"N passed, N failed\". Exit 1 when any failed.\n"
     "  -j, --jobs N      run N scenarios side by side (default 1)\n"
     "  --shard I/N       run only the I-th of N shares: the k-th selected scenario (in\n"
     "                    file order, counting from 0) belongs to share k mod N + 1, so\n"
     "                    --shard 1/N ... N/N on N machines run each scenario once\n"
     "  --junit FILE      also write JUnit XML (one testsuite, a testcase per scenario,\n"
     "                    classname wapsim.scenarios, the transcript as system-out)\n"
     "  --tap             TAP instead of the lines above (summary as a # comment)\n"
     "  --keep            keep a failed scenario's lab (stopped) and print its path; its\n"
     "                    scenario/ folder holds the transcript and each command's output\n"
     "  --filter TAG      only scenarios with this tag (repeat: any of them)\n"
     "  --timeout S       kill a step or connect after S seconds (default 120)\n"
     "  -v, --verbose     print every scenario's transcript, not only failures'\n"
     "The file format: wapsim scenario format.\n"},
    {"scenario", "check", scenario_check, "FILE|DIR...", "Parse scenario files without running them.",
     "Prints \"ok FILE: N steps, N connects, N expects\" for each good file and\n"
     "FILE:LINE: MESSAGE for each error; exit 2 when any file has an error.\n"
     "The file format: wapsim scenario format.\n"},
    {"scenario", "format", scenario_format, "", "The scenario file format: every line kind, target and operator.",
     NULL},
    {0},
};
