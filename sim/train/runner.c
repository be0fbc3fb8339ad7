/* SPDX-License-Identifier: Apache-2.0 */
/* runner: see runner.h. The transcript is what a reader of a failure needs: each line
 * as written, each command as it ran (facts expanded) with its output, and each
 * expectation with what it found. */
#include "train/runner.h"

#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/util.h"
#include "lab/eventlog.h"
#include "lab/lab.h"
#include "svc/supervisor.h"
#include "train/subnet.h"
#include "train/subprocess.h"

#define UP_TIMEOUT_MS 30000
#define LAB_ATTEMPTS 3          /* a subnet taken between the check and `up`: try another */
#define TEMPLATE_MAX_AGE_S (20 * 86400)

/* ---- text ---- */

void ws_runner_indent(ws_buf *b, const char *prefix, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        ws_buf_adds(b, prefix);
        ws_buf_add(b, p, n);
        ws_buf_adds(b, "\n");
        p += n + (nl ? 1 : 0);
    }
}

/* A value for a one-line message: newlines as \n, at most about max bytes; malloc'ed. */
static char *one_line(const char *s, size_t max)
{
    ws_buf b;
    ws_buf_init(&b, max + 8);
    for (const char *p = s; *p && ws_buf_len(&b) < max; p++) {
        if (*p == '\n')
            ws_buf_add(&b, "\\n", 2);
        else if (*p != '\r')
            ws_buf_add(&b, p, 1);
    }
    if (strlen(s) > max)
        ws_buf_add(&b, "...", 3);
    char *out = ws_buf_take(&b, NULL);
    ws_buf_free(&b);
    if (!out)
        abort();
    return out;
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

/* The arguments as a shell would need them, each after a space. */
static void add_quoted(ws_buf *b, char **args, int n)
{
    for (int i = 0; i < n; i++) {
        const char *a = args[i];
        int plain = *a != '\0';
        for (const char *p = a; *p; p++)
            if (!(isalnum((unsigned char)*p) || strchr("-_./:=,@%+", *p)))
                plain = 0;
        if (plain) {
            ws_buf_addf(b, " %s", a);
            continue;
        }
        ws_buf_adds(b, " '");
        for (const char *p = a; *p; p++)
            if (*p == '\'')
                ws_buf_adds(b, "'\\''");
            else
                ws_buf_add(b, p, 1);
        ws_buf_adds(b, "'");
    }
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

/* ---- one replay ---- */

void ws_scn_run_init(ws_scn_run *r, const ws_scenario *sc, ws_state *st, const char *work, int timeout_s,
                     volatile sig_atomic_t *stop)
{
    memset(r, 0, sizeof *r);
    r->sc = sc;
    r->st = st;
    r->work = work;
    r->timeout_s = timeout_s > 0 ? timeout_s : WS_RUNNER_TIMEOUT_S;
    r->stop = stop;
    r->fail_exit = -1;
    ws_buf_init(&r->log, WS_BUF_MAX_REPORT);
}

static void clear_last(ws_scn_last *lc)
{
    free(lc->message);
    free(lc->portal_content_type);
    free(lc->portal_body);
    memset(lc, 0, sizeof *lc);
}

void ws_scn_run_clear(ws_scn_run *r)
{
    clear_last(&r->lc);
    ws_buf_free(&r->log);
    free(r->failure);
    free(r->fail_what);
    r->failure = r->fail_what = NULL;
}

static int stopped(const ws_scn_run *r)
{
    return r->stop ? (int)*r->stop : 0;
}

static int fail_at(ws_scn_run *r, const ws_scn_line *l, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(ws_scn_run *r, const ws_scn_line *l, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        abort();
    va_end(ap);
    char *flat = one_line(msg, 600);
    free(msg);
    free(r->failure);
    free(r->fail_what);
    if (l)
        r->failure = ws_printf("%s:%d: %s: %s", r->sc->path, l->lineno, l->text, flat);
    else
        r->failure = ws_printf("%s: %s", r->sc->path, flat);
    r->fail_lineno = l ? l->lineno : 0;
    r->fail_what = flat;
    ws_buf_addf(&r->log, "FAIL %s\n", r->failure);
    return -1;
}

/* Keeps a command's output next to the lab, as work/line-N.SUFFIX. */
static void save_output(const ws_scn_run *r, const ws_scn_line *l, const char *suffix, const ws_buf *b)
{
    if (!r->work)
        return;
    char path[4400];
    snprintf(path, sizeof path, "%s/line-%d.%s", r->work, l->lineno, suffix);
    ws_write_file(path, ws_buf_data(b), ws_buf_len(b), 0600, NULL);
}

/* Runs `wapsim --lab <lab> args...` for line l. */
static int run_command(ws_scn_run *r, char **args, int n, int merge, ws_subprocess_result *res)
{
    char lab[4200];
    snprintf(lab, sizeof lab, "%s", r->st->lab_dir);
    ws_subprocess p = {.lab = lab,
                       .args = args,
                       .nargs = n,
                       .timeout_s = r->timeout_s,
                       .merge = merge,
                       .stop = r->stop,
                       .no_exec = r->own_lab};
    if (!r->own_lab)
        return ws_subprocess_run(&p, res);
    /* The command runs in a forked copy of this program: no SQLite connection may cross
     * the fork (its locks and WAL index are per process), so the lab is closed meanwhile. */
    ws_state_close(r->st);
    r->st = NULL;
    int status = ws_subprocess_run(&p, res);
    ws_error e;
    if (ws_lab_open(lab, &r->st, &e) != 0) {
        fprintf(stderr, "wapsim: scenario: cannot open the lab again after a command: %s\n", e.msg);
        _exit(1);
    }
    return status;
}

static int64_t max_event_id(ws_state *st)
{
    return ws_event_newest_id(st, NULL);
}

/* ---- step ---- */

static int do_step(ws_scn_run *r, const ws_scn_line *l)
{
    const ws_scn_step *s = &l->u.step;
    ws_strv args = {0};
    ws_error e;
    int rc = 0;
    for (int i = 0; i < s->argc && rc == 0; i++) {
        char *v;
        if (ws_scn_expand(r->st, s->argv[i], &v, &e) != 0)
            rc = fail_at(r, l, "%s", e.msg);
        else if (ws_strv_add(&args, v) != 0)
            abort();
        else
            free(v);
    }
    if (rc != 0) {
        ws_strv_free(&args);
        return rc;
    }
    ws_buf_adds(&r->log, "$ wapsim");
    add_quoted(&r->log, args.v, args.n);
    ws_buf_adds(&r->log, "\n");
    ws_subprocess_result res;
    int status = run_command(r, args.v, args.n, 1, &res);
    save_output(r, l, "out", &res.out);
    const char *text = ws_buf_str(&res.out);
    ws_runner_indent(&r->log, "  | ", text);
    if (status >= WS_SUBPROCESS_SIGNAL)
        ws_buf_addf(&r->log, "  killed by signal %d\n", status - WS_SUBPROCESS_SIGNAL);
    else
        ws_buf_addf(&r->log, "  exit %d\n", status);
    char last[300];
    last_line(text, last, sizeof last);
    if (stopped(r))
        rc = fail_at(r, l, "interrupted (signal %d)", stopped(r));
    else if (status == WS_SUBPROCESS_TIMED_OUT)
        rc = fail_at(r, l, "no answer after %d s (killed)", r->timeout_s);
    else if (status < 0 || status == WS_SUBPROCESS_NO_EXEC)
        rc = fail_at(r, l, "cannot run wapsim (%s)", ws_subprocess_self());
    else if (status >= WS_SUBPROCESS_SIGNAL)
        rc = fail_at(r, l, "wapsim was killed by signal %d%s%s", status - WS_SUBPROCESS_SIGNAL, last[0] ? ": " : "",
                     last);
    else if (s->expect_failure && status == 0)
        rc = fail_at(r, l, "exited 0, but step! expects it to fail");
    else if (!s->expect_failure && status != 0)
        rc = fail_at(r, l, "exit %d%s%s", status, last[0] ? ": " : "", last);
    if (rc != 0 && !stopped(r) && status != WS_SUBPROCESS_TIMED_OUT)
        r->fail_exit = status;
    ws_subprocess_result_free(&res);
    ws_strv_free(&args);
    return rc;
}

/* ---- connect ---- */

/* What the browser got from the portal: `wapsim rdp-file --json`. */
static void read_portal(ws_scn_run *r, const ws_scn_line *l, const char *tenant, const char *vm, const char *password)
{
    char rdp[4400];
    char *args[10] = {"rdp-file", "--json", "--tenant", (char *)tenant, "--vm", (char *)vm};
    int n = 6;
    if (r->work) {
        snprintf(rdp, sizeof rdp, "%s/line-%d.portal.rdp", r->work, l->lineno);
        args[n++] = "--out";
        args[n++] = rdp;
    }
    if (password) {
        args[n++] = "--password";
        args[n++] = (char *)password;
    }
    ws_subprocess_result res;
    run_command(r, args, n, 0, &res);
    save_output(r, l, "portal.json", &res.out);
    save_output(r, l, "portal.err", &res.err);
    cJSON *j = cJSON_Parse(ws_buf_str(&res.out));
    ws_subprocess_result_free(&res);
    ws_scn_last *lc = &r->lc;
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
        ws_buf_addf(&r->log, "  portal answered HTTP %ld (%s): %s\n", lc->portal_status, lc->portal_content_type,
                    lc->portal_body);
    else
        ws_buf_adds(&r->log, "  the browser got no answer from the portal\n");
}

/* The connect's JSON into r->lc, its hops into the transcript; 1 when the portal hop passed. */
static int read_connect(ws_scn_run *r, const cJSON *j)
{
    ws_scn_last *lc = &r->lc;
    lc->have = 1;
    lc->ok = cJSON_IsTrue(cJSON_GetObjectItem(j, "ok"));
    snprintf(lc->stage, sizeof lc->stage, "%s", cJSON_GetObjectItem(j, "stage")->valuestring);
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
        ws_buf_addf(&r->log, "  %-14s %-4s %s\n", hs ? hs : "?", hok ? "ok" : "FAIL", detail ? detail : "");
        if (hs && strcmp(hs, "portal") == 0 && hok)
            portal_ok = 1;
    }
    if (lc->ok)
        ws_buf_addf(&r->log, "  connected (stage %s)\n", lc->stage);
    else if (lc->has_code)
        ws_buf_addf(&r->log, "  stopped at %s, code %llu (0x%llX): %s\n", lc->stage, lc->code, lc->code,
                    lc->message);
    else
        ws_buf_addf(&r->log, "  stopped at %s: %s\n", lc->stage, lc->message);
    return portal_ok;
}

static int connect_once(ws_scn_run *r, const ws_scn_line *l, char **args, int n, int *portal_ok);

static int do_connect(ws_scn_run *r, const ws_scn_line *l)
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
    char rdp[4400];
    char *args[16];
    int n = 0;
    args[n++] = "connect";
    args[n++] = "--json";
    if (c->admin) {
        args[n++] = "--admin";
    } else {
        args[n++] = "--tenant";
        args[n++] = tenant;
        if (r->work) {
            snprintf(rdp, sizeof rdp, "%s/line-%d.rdp", r->work, l->lineno);
            args[n++] = "--save-rdp";
            args[n++] = rdp;
        }
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
    r->mark = max_event_id(r->st);
    r->connects_total = r->connects_failed = r->ncodes = 0;
    int portal_ok = 0;
    for (int i = 0; i < c->repeat && rc == 0; i++) {
        if (c->repeat > 1)
            ws_buf_addf(&r->log, "  (%d of %d)\n", i + 1, c->repeat);
        rc = connect_once(r, l, args, n, &portal_ok);
    }
    if (rc != 0)
        goto out;
    if (c->repeat > 1)
        ws_buf_addf(&r->log, "  %d of %d connections failed\n", r->connects_failed, r->connects_total);
    ws_scn_last *lc = &r->lc;
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

/* One `wapsim connect` of a connect line into r->lc, counted in r->connects_*; 0, or
 * the line's failure when it gave no result. *portal_ok: its portal hop passed. */
static int connect_once(ws_scn_run *r, const ws_scn_line *l, char **args, int n, int *portal_ok)
{
    int rc = 0;
    clear_last(&r->lc);
    ws_buf_adds(&r->log, "$ wapsim");
    add_quoted(&r->log, args, n);
    ws_buf_adds(&r->log, "\n");
    ws_subprocess_result res;
    int status = run_command(r, args, n, 0, &res);
    save_output(r, l, "json", &res.out);
    save_output(r, l, "err", &res.err);
    const char *text = ws_buf_str(&res.out), *etext = ws_buf_str(&res.err);
    ws_runner_indent(&r->log, "  ! ", etext);
    cJSON *j = cJSON_Parse(text);
    if (!cJSON_IsString(cJSON_GetObjectItem(j, "stage"))) {
        char last[300];
        last_line(etext[0] ? etext : text, last, sizeof last);
        rc = stopped(r) ? fail_at(r, l, "interrupted (signal %d)", stopped(r))
             : status == WS_SUBPROCESS_TIMED_OUT ? fail_at(r, l, "no answer after %d s (killed)", r->timeout_s)
             : status >= WS_SUBPROCESS_SIGNAL
                 ? fail_at(r, l, "wapsim connect was killed by signal %d", status - WS_SUBPROCESS_SIGNAL)
                 : fail_at(r, l, "wapsim connect exited %d without a result%s%s", status, last[0] ? ": " : "", last);
        cJSON_Delete(j);
        ws_subprocess_result_free(&res);
        return rc;
    }
    *portal_ok = read_connect(r, j);
    cJSON_Delete(j);
    ws_subprocess_result_free(&res);
    r->connects_total++;
    r->connects_failed += !r->lc.ok;
    if (!r->lc.ok && r->lc.has_code) { /* kept sorted, each once */
        int at = 0;
        while (at < r->ncodes && r->codes[at] < r->lc.code)
            at++;
        if ((at == r->ncodes || r->codes[at] != r->lc.code) && r->ncodes < 16) {
            memmove(&r->codes[at + 1], &r->codes[at], (size_t)(r->ncodes - at) * sizeof r->codes[0]);
            r->codes[at] = r->lc.code;
            r->ncodes++;
        }
    }
    return 0;
}

/* ---- expect ---- */

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

/* The texts of the events (or trace blocks) x names, since the mark. */
static void events_since(ws_scn_run *r, const ws_scn_expect *x, ws_strv *out)
{
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
        const unsigned char *t = sqlite3_column_text(s, 0);
        if (ws_strv_add(out, t ? (const char *)t : "") != 0)
            abort();
    }
    sqlite3_finalize(s);
}

static int do_expect_events(ws_scn_run *r, const ws_scn_line *l, const char *value)
{
    const ws_scn_expect *x = &l->u.expect;
    ws_strv ev = {0};
    events_since(r, x, &ev);
    char what[128];
    if (x->target == WS_SCN_TRACE)
        snprintf(what, sizeof what, "trace block on %s", x->machine);
    else
        snprintf(what, sizeof what, "event %d on %s", x->event_id, x->machine);
    const char *since = r->lc.have ? "since the last connect" : "since the lab was created";
    int rc = 0, match = -1;
    ws_scn_op op = x->op == WS_SCN_OP_NE             ? WS_SCN_OP_EQ
                   : x->op == WS_SCN_OP_NOT_CONTAINS ? WS_SCN_OP_CONTAINS
                                                     : x->op;
    for (int i = 0; i < ev.n && match < 0; i++)
        if (op == WS_SCN_OP_NONE || holds(op, ev.v[i], value, 0))
            match = i;
    char *first = ev.n ? one_line(ev.v[match >= 0 ? match : 0], 300) : NULL;
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
    int expanded = strcmp(value, x->value) != 0;
    if (rc == 0)
        ws_buf_addf(&r->log, "ok   [%d] %s%s%s%s (%d %s%s %s)\n", l->lineno, l->text, expanded ? " (value: " : "",
                    expanded ? value : "", expanded ? ")" : "", ev.n,
                    x->target == WS_SCN_TRACE ? "trace block" : "event", ev.n == 1 ? "" : "s", since);
    free(first);
    ws_strv_free(&ev);
    return rc;
}

/* Whether the findings hold against x: a set for = and !=, one id for ~ and !~. ids:
 * every id found; errors: the ids of error findings. A warning (it does not stop a
 * console) counts for = and != only when named: "= none" means no error, so the default
 * lab's host certificate warnings do not hide what a scenario asserts. */
static int diagnosis_holds(const ws_scn_expect *x, const ws_strv *ids, const ws_strv *errors)
{
    char *want = ws_strdup(x->value);
    ws_strv named = {0};
    int all_found = 1, any_missing = 0, none = 0;
    for (char *save = NULL, *id = strtok_r(want, ", \t", &save); id; id = strtok_r(NULL, ", \t", &save)) {
        if (strcmp(id, "none") == 0) {
            none = 1;
            continue;
        }
        if (ws_strv_add(&named, id) != 0)
            abort();
        if (!ws_strv_has(ids, id))
            all_found = 0, any_missing = 1;
    }
    free(want);
    int unnamed_errors = 0;
    for (int i = 0; i < errors->n; i++)
        unnamed_errors += !ws_strv_has(&named, errors->v[i]);
    ws_strv_free(&named);
    int exact = (none || all_found) && unnamed_errors == 0;
    switch (x->op) {
    case WS_SCN_OP_EQ: return exact;
    case WS_SCN_OP_NE: return !exact;
    case WS_SCN_OP_CONTAINS: return !any_missing;
    default: return any_missing; /* !~ */
    }
}

/* `expect diagnose`: runs `wapsim diagnose --json` against the lab, as an operator
 * would, and compares the set of finding ids. */
static int do_expect_diagnose(ws_scn_run *r, const ws_scn_line *l)
{
    const ws_scn_expect *x = &l->u.expect;
    if (x->op == WS_SCN_OP_NONE) {
        r->skipped++;
        ws_buf_addf(&r->log, "skip [%d] %s: skipped (no operator: expect diagnose = ID|none, ~ ID or !~ ID)\n",
                    l->lineno, l->text);
        return 0;
    }
    char *args[] = {"diagnose", "--json"};
    ws_buf_adds(&r->log, "$ wapsim diagnose --json\n");
    ws_subprocess_result res;
    int status = run_command(r, args, 2, 0, &res);
    save_output(r, l, "diagnose.json", &res.out);
    save_output(r, l, "diagnose.err", &res.err);
    const char *text = ws_buf_str(&res.out), *etext = ws_buf_str(&res.err);
    ws_runner_indent(&r->log, "  ! ", etext);
    cJSON *j = cJSON_Parse(text);
    const cJSON *findings = cJSON_GetObjectItem(j, "findings");
    int rc = 0;
    if ((status != 0 && status != 1) || !cJSON_IsArray(findings)) {
        char last[300];
        last_line(etext[0] ? etext : text, last, sizeof last);
        rc = stopped(r) ? fail_at(r, l, "interrupted (signal %d)", stopped(r))
             : status == WS_SUBPROCESS_TIMED_OUT
                 ? fail_at(r, l, "wapsim diagnose gave no answer after %d s (killed)", r->timeout_s)
                 : fail_at(r, l, "wapsim diagnose exited %d without a result%s%s", status, last[0] ? ": " : "", last);
        goto out;
    }
    /* The set of ids found, and "id on machine" for the messages. */
    ws_strv ids = {0}, errors = {0};
    ws_buf found;
    ws_buf_init(&found, WS_BUF_MAX_REPORT);
    const cJSON *f;
    cJSON_ArrayForEach(f, findings)
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(f, "id"));
        const char *machine = cJSON_GetStringValue(cJSON_GetObjectItem(f, "machine"));
        const char *summary = cJSON_GetStringValue(cJSON_GetObjectItem(f, "summary"));
        const char *severity = cJSON_GetStringValue(cJSON_GetObjectItem(f, "severity"));
        if (!id)
            continue;
        if ((!severity || strcmp(severity, "warning") != 0) && !ws_strv_has(&errors, id) &&
            ws_strv_add(&errors, id) != 0)
            abort();
        ws_buf_addf(&r->log, "  %-30s %-8s %s\n", id, machine ? machine : "?", summary ? summary : "");
        ws_buf_addf(&found, "%s%s on %s", ws_buf_len(&found) ? ", " : "", id, machine ? machine : "?");
        if (!ws_strv_has(&ids, id) && ws_strv_add(&ids, id) != 0)
            abort();
    }
    const char *found_text = ws_buf_len(&found) ? ws_buf_str(&found) : "nothing";
    if (diagnosis_holds(x, &ids, &errors))
        ws_buf_addf(&r->log, "ok   [%d] %s (found: %s)\n", l->lineno, l->text, found_text);
    else
        rc = fail_at(r, l, "diagnose found %s", found_text);
    ws_strv_free(&ids);
    ws_strv_free(&errors);
    ws_buf_free(&found);
out:
    cJSON_Delete(j);
    ws_subprocess_result_free(&res);
    return rc;
}

/* A number the last connect may lack, as text: v, or null without it. */
static const char *number_or_null(int has, long long v, char *num, size_t n)
{
    if (has)
        snprintf(num, n, "%lld", v);
    else
        snprintf(num, n, "null");
    return num;
}

/* The last connect's value for a connect.* or portal.* target; num is room for a number. */
static const char *connect_value(const ws_scn_last *lc, ws_scn_target t, char *num, size_t n, int *numeric)
{
    *numeric = 0;
    switch (t) {
    case WS_SCN_CONNECT_OK: return lc->ok ? "true" : "false";
    case WS_SCN_CONNECT_STAGE: return lc->stage;
    case WS_SCN_CONNECT_CODE:
        *numeric = 1;
        return number_or_null(lc->has_code, (long long)lc->code, num, n);
    case WS_SCN_CONNECT_MESSAGE: return lc->message ? lc->message : "";
    case WS_SCN_PORTAL_STATUS:
        *numeric = 1;
        return number_or_null(lc->portal_has_status, lc->portal_status, num, n);
    case WS_SCN_PORTAL_CONTENT_TYPE: return lc->portal_content_type ? lc->portal_content_type : "";
    case WS_SCN_PORTAL_BODY: return lc->portal_body ? lc->portal_body : "";
    default: return "";
    }
}

/* expect connects.failed|connects.ok OP N|N%: the last connect line's tally. */
static int do_expect_connects(ws_scn_run *r, const ws_scn_line *l)
{
    const ws_scn_expect *x = &l->u.expect;
    int total = r->connects_total;
    if (!r->lc.have || total == 0)
        return fail_at(r, l, "the last connect gave no result");
    long count = x->target == WS_SCN_CONNECTS_OK ? total - r->connects_failed : r->connects_failed;
    int any_equal = 0, ok = 0;
    for (int i = 0; i < x->nnumbers; i++) {
        /* A share compares count/total with number/100 exactly: count * 100 against number * total. */
        long a = x->percent[i] ? count * 100 : count, b = x->percent[i] ? x->numbers[i] * total : x->numbers[i];
        any_equal |= a == b;
        ok = x->op == WS_SCN_OP_LT ? a < b : x->op == WS_SCN_OP_LE ? a <= b : x->op == WS_SCN_OP_GT ? a > b : a >= b;
    }
    if (x->op == WS_SCN_OP_EQ || x->op == WS_SCN_OP_NE)
        ok = x->op == WS_SCN_OP_EQ ? any_equal : !any_equal;
    if (!ok)
        return fail_at(r, l, "got %ld of %d (%ld%%)", count, total, count * 100 / total);
    ws_buf_addf(&r->log, "ok   [%d] %s (%ld of %d)\n", l->lineno, l->text, count, total);
    return 0;
}

static int do_expect(ws_scn_run *r, const ws_scn_line *l)
{
    const ws_scn_expect *x = &l->u.expect;
    if (x->target == WS_SCN_DIAGNOSE)
        return do_expect_diagnose(r, l);
    if (x->target == WS_SCN_CONNECTS_FAILED || x->target == WS_SCN_CONNECTS_OK)
        return do_expect_connects(r, l);
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
    if (!r->lc.have) {
        free(value);
        return fail_at(r, l, "the last connect gave no result");
    }
    char num[32], codes[16 * 21 + 1] = "";
    int numeric;
    const char *actual = connect_value(&r->lc, x->target, num, sizeof num, &numeric);
    if (x->target == WS_SCN_CONNECTS_CODES) {
        size_t len = 0;
        for (int i = 0; i < r->ncodes; i++)
            len += (size_t)snprintf(codes + len, sizeof codes - len, "%s%llu", i ? "," : "", r->codes[i]);
        actual = codes;
    }
    int expanded = strcmp(value, x->value) != 0;
    if (holds(x->op, actual, value, numeric)) {
        ws_buf_addf(&r->log, "ok   [%d] %s%s%s%s\n", l->lineno, l->text, expanded ? " (value: " : "",
                    expanded ? value : "", expanded ? ")" : "");
        rc = 0;
    } else {
        char *got = one_line(actual, 300);
        if (expanded)
            rc = fail_at(r, l, "got '%s' (the value is '%s')", got, value);
        else
            rc = fail_at(r, l, "got '%s'", got);
        free(got);
    }
    free(value);
    return rc;
}

int ws_scn_run_line(ws_scn_run *r, const ws_scn_line *l)
{
    if (l->kind != WS_SCN_EXPECT)
        ws_buf_addf(&r->log, "[%d] %s\n", l->lineno, l->text);
    return l->kind == WS_SCN_STEP      ? do_step(r, l)
           : l->kind == WS_SCN_CONNECT ? do_connect(r, l)
                                       : do_expect(r, l);
}

int ws_scn_run_lines(ws_scn_run *r)
{
    for (int i = 0; i < r->sc->nlines; i++) {
        const ws_scn_line *l = &r->sc->lines[i];
        if (stopped(r))
            return fail_at(r, l, "interrupted (signal %d) before this line", stopped(r));
        if (ws_scn_run_line(r, l) != 0)
            return -1;
    }
    return 0;
}

/* ---- a scenario in a lab of its own ---- */

void ws_scn_result_clear(ws_scn_result *res)
{
    free(res->message);
    free(res->note);
    free(res->lab);
    free(res->transcript);
    memset(res, 0, sizeof *res);
}

const char *ws_runner_tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void ws_runner_rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void ws_runner_warm_template(void)
{
    char path[4200];
    ws_template_path(path, sizeof path);
    struct stat sb;
    if (stat(path, &sb) == 0 && time(NULL) - sb.st_mtime < TEMPLATE_MAX_AGE_S)
        return;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/wapsim-scn-template.XXXXXX", ws_runner_tmp_dir());
    if (!mkdtemp(dir))
        return;
    ws_lab_init_opts io = {.dir = dir};
    ws_lab_init_result ir;
    ws_error e;
    ws_lab_init(&io, &ir, &e);
    ws_runner_rm_rf(dir);
}

/* Makes, opens and starts the lab in dir on a free subnet; 0, or -1 with the failure
 * in r. A subnet can be taken between the check and `up` by a lab started by hand:
 * then another one is tried. *made (may be NULL) says whether this call made a lab in dir:
 * only such a lab may be taken down (one that appeared meanwhile is someone else's). */
static int lab_up(ws_scn_run *r, const char *dir, const ws_runner_opts *o, ws_subnet_lock *lock, int *made)
{
    ws_error e;
    for (int attempt = 0; attempt < LAB_ATTEMPTS; attempt++) {
        ws_subnet_lock_release(lock);
        if (ws_subnet_lock_take(o->base + (unsigned)attempt * 4099u, o->index, lock) != 0)
            return fail_at(r, NULL, "no free subnet for the scenario's lab");
        ws_lab_init_opts io = {.dir = dir, .subnet = lock->subnet};
        ws_lab_init_result ir;
        if (ws_lab_init(&io, &ir, &e) != 0) {
            if (ws_subnet_in_use(lock->subnet))
                continue;
            return fail_at(r, NULL, "lab init: %s", e.msg);
        }
        if (made)
            *made = 1;
        ws_buf_addf(&r->log, "lab %s on subnet %s (keys %s)\n", dir, lock->subnet,
                    ir.keys_from_template ? "copied from the template" : "generated");
        if (ws_lab_open(dir, &r->st, &e) != 0)
            return fail_at(r, NULL, "%s", e.msg);
        if (ws_lab_up(r->st, UP_TIMEOUT_MS, 1, &e) == 0)
            return 0;
        int in_use = ws_subnet_in_use(lock->subnet);
        ws_state_close(r->st);
        r->st = NULL;
        if (in_use && attempt < LAB_ATTEMPTS - 1) {
            ws_buf_addf(&r->log, "subnet %s was taken meanwhile: another lab\n", lock->subnet);
            ws_runner_rm_rf(dir);
            mkdir(dir, 0700);
            continue;
        }
        return fail_at(r, NULL, "the lab did not come up: %s", e.msg);
    }
    return fail_at(r, NULL, "no free subnet for the scenario's lab");
}

void ws_runner_run(const ws_scenario *sc, const ws_runner_opts *o, ws_scn_result *res)
{
    int64_t t0 = ws_mono_ms();
    ws_scn_run R;
    ws_scn_run *r = &R;
    ws_scn_run_init(r, sc, NULL, NULL, o->timeout_s, o->stop);
    char lab[4200], work[4300] = "";
    snprintf(lab, sizeof lab, "%s/wapsim-scn.XXXXXX", ws_runner_tmp_dir());
    ws_subnet_lock lock = {.fd = -1};
    int made = 0;
    ws_error e;
    if (!mkdtemp(lab)) {
        fail_at(r, NULL, "cannot make a lab directory in %s: %s", ws_runner_tmp_dir(), strerror(errno));
        goto report;
    }
    made = 1;
    if (lab_up(r, lab, o, &lock, NULL) != 0)
        goto report;
    snprintf(work, sizeof work, "%s/scenario", lab);
    mkdir(work, 0700);
    r->work = work;
    r->own_lab = 1;
    ws_scn_run_lines(r);
    clear_last(&r->lc);
    int stopped_n;
    if (ws_lab_down(r->st, &stopped_n, &e) != 0 && !r->failure)
        fail_at(r, NULL, "down: %s", e.msg);
report:
    if (r->st)
        ws_state_close(r->st);
    int keep = made && r->failure && o->keep;
    if (keep) {
        char path[4400];
        snprintf(path, sizeof path, "%s/scenario/transcript.log", lab);
        mkdir(work[0] ? work : lab, 0700);
        ws_write_file(path, ws_buf_data(&r->log), ws_buf_len(&r->log), 0600, NULL);
    } else if (made) {
        ws_runner_rm_rf(lab);
    }
    ws_subnet_lock_release(&lock);
    memset(res, 0, sizeof *res);
    res->done = 1;
    res->passed = !r->failure;
    res->seconds = (double)(ws_mono_ms() - t0) / 1000.0;
    res->lab = keep ? ws_strdup(lab) : NULL;
    res->message = r->failure ? ws_strdup(r->failure) : NULL;
    res->note = r->skipped ? ws_printf("%d expect diagnose skipped (no operator)", r->skipped) : NULL;
    res->transcript = ws_buf_take(&r->log, NULL);
    if (!res->transcript)
        abort();
    ws_scn_run_clear(r);
}

/* ---- a broken lab to hand over ---- */

void ws_runner_break_result_clear(ws_runner_break_result *res)
{
    free(res->lab);
    free(res->message);
    free(res->transcript);
    memset(res, 0, sizeof *res);
}

/* The lines before the first connect or expect: the scenario's mistake, made as its
 * replay makes it. 0, or -1 with the failure in r. */
static int run_break_lines(ws_scn_run *r, int *n)
{
    *n = 0;
    for (int i = 0; i < r->sc->nlines && r->sc->lines[i].kind == WS_SCN_STEP; i++) {
        const ws_scn_line *l = &r->sc->lines[i];
        if (stopped(r))
            return fail_at(r, l, "interrupted (signal %d) before this line", stopped(r));
        if (ws_scn_run_line(r, l) != 0)
            return -1;
        (*n)++;
    }
    return 0;
}

/* Takes the lab in dir down (best effort), saying so in the transcript. */
static void break_down(ws_scn_run *r, const char *dir)
{
    ws_error e;
    int n;
    ws_state *st = r->st;
    if (!st && ws_lab_open(dir, &st, &e) != 0)
        return;
    if (ws_lab_down(st, &n, &e) != 0)
        ws_buf_addf(&r->log, "down: %s\n", e.msg);
    else
        ws_buf_addf(&r->log, "lab taken down (%d processes stopped) and kept\n", n);
    ws_state_close(st);
    r->st = NULL;
}

int ws_runner_break(const ws_scenario *sc, const ws_runner_break_opts *o, ws_runner_break_result *res)
{
    memset(res, 0, sizeof *res);
    ws_scn_run R;
    ws_scn_run *r = &R;
    ws_scn_run_init(r, sc, NULL, NULL, o->timeout_s, o->stop);
    char lab[4200], work[4300], db[4300];
    struct stat sb;
    int created, rc;
    if (o->dir) {
        created = stat(o->dir, &sb) != 0;
        snprintf(lab, sizeof lab, "%s", o->dir);
        snprintf(db, sizeof db, "%s/lab.db", lab);
        if (access(db, F_OK) == 0) { /* never someone's lab: it is not this run's to take down */
            fail_at(r, NULL, "a lab already exists at %s", lab);
            rc = -2;
            goto out;
        }
    } else {
        snprintf(lab, sizeof lab, "%s/wapsim-break.XXXXXX", ws_runner_tmp_dir());
        if (!mkdtemp(lab)) {
            fail_at(r, NULL, "cannot make a lab directory in %s: %s", ws_runner_tmp_dir(), strerror(errno));
            rc = -2;
            goto out;
        }
        created = 1;
    }
    ws_runner_warm_template();
    ws_runner_opts ro = {.base = ((unsigned)getpid() * 2654435761u) ^ (unsigned)time(NULL)};
    ws_subnet_lock lock = {.fd = -1};
    int made = 0;
    rc = lab_up(r, lab, &ro, &lock, &made);
    if (rc != 0 && !made) { /* lab init refused (DIR not empty, a lab): nothing of ours to take down */
        if (created)
            ws_runner_rm_rf(lab);
        ws_subnet_lock_release(&lock);
        rc = -2;
        goto out;
    }
    snprintf(res->subnet, sizeof res->subnet, "%s", lock.subnet);
    char abs[4096];
    res->lab = ws_strdup(realpath(lab, abs) ? abs : lab);
    snprintf(work, sizeof work, "%s/scenario", lab);
    mkdir(work, 0700);
    if (rc == 0) {
        r->work = work;
        rc = run_break_lines(r, &res->steps);
    }
    if (rc != 0)
        break_down(r, lab);
    if (r->st)
        ws_state_close(r->st);
    r->st = NULL;
    /* A running lab keeps its subnet: ws_subnet_in_use sees it from now on. */
    ws_subnet_lock_release(&lock);
    char path[4400];
    snprintf(path, sizeof path, "%s/transcript.log", work);
    ws_write_file(path, ws_buf_data(&r->log), ws_buf_len(&r->log), 0600, NULL);
out:
    res->message = r->failure ? ws_strdup(r->failure) : NULL;
    res->transcript = ws_buf_take(&r->log, NULL);
    if (!res->transcript)
        abort();
    ws_scn_run_clear(r);
    return rc;
}
