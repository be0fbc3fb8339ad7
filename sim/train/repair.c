/* SPDX-License-Identifier: Apache-2.0 */
/* repair: see repair.h. */
#include "train/repair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/scenario.h"
#include "train/subprocess.h"

#define WAPSIM_PREFIX "wapsim "

/* The first shell operator or expansion outside quotes, or 0: a fix line is a plain
 * command, so one with any of these is not run (a shell would do more than run it). */
static char shell_operator(const char *s)
{
    char quote = 0;
    for (const char *p = s; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            else if (quote == '"' && *p == '\\' && p[1])
                p++;
            else if (quote == '"' && (*p == '$' || *p == '`'))
                return *p;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
            return 0; /* a comment: the rest is not read */
        } else if (strchr(";|&<>()$`\\", *p)) {
            return *p;
        }
    }
    return 0;
}

int ws_fix_line_argv(const char *line, ws_strv *argv, ws_error *e)
{
    memset(argv, 0, sizeof *argv);
    if (strncmp(line, WAPSIM_PREFIX, strlen(WAPSIM_PREFIX)) != 0)
        return ws_seterr(e, "not a wapsim command");
    char op = shell_operator(line);
    if (op)
        return ws_seterr(e, "not a plain command ('%c' outside quotes)", op);
    int argc = 0;
    char **words = NULL;
    if (ws_scn_split(line, &argc, &words, e) != 0)
        return -1;
    /* words[0] is "wapsim"; a word that starts with '#' begins a comment, as in sh. */
    for (int i = 1; i < argc && words[i][0] != '#'; i++)
        if (ws_strv_add(argv, words[i]) != 0)
            abort();
    ws_scn_free_argv(argc, words);
    if (argv->n == 0)
        return ws_seterr(e, "no command after wapsim");
    return 0;
}

/* Whether a finding has a line diagnose --fix can run. */
static int runnable(const ws_finding *f)
{
    for (int k = 0; k < f->fix.n; k++) {
        ws_strv argv;
        ws_error ignored;
        int ok = ws_fix_line_argv(f->fix.v[k], &argv, &ignored) == 0;
        ws_strv_free(&argv);
        if (ok)
            return 1;
    }
    return 0;
}

static ws_fix_step *new_step(ws_fix_report *r, const ws_finding *f, const char *line)
{
    ws_fix_step *grown = realloc(r->steps, (size_t)(r->nsteps + 1) * sizeof *grown);
    if (!grown)
        abort();
    r->steps = grown;
    ws_fix_step *s = &r->steps[r->nsteps++];
    memset(s, 0, sizeof *s);
    s->finding = f->id;
    snprintf(s->machine, sizeof s->machine, "%s", f->machine);
    s->line = ws_strdup(line);
    s->status = -1;
    return s;
}

/* Runs one line (a repeat of an earlier one is skipped); 0, or -1 when it failed. */
static int run_line(ws_fix_report *r, const ws_finding *f, const char *line, const char *lab, ws_strv *ran,
                    ws_fix_progress progress, void *arg)
{
    ws_fix_step *s = new_step(r, f, line);
    if (ws_strv_has(ran, line)) {
        s->output = ws_strdup("");
        if (progress)
            progress(arg, s, 1);
        return 0;
    }
    if (progress)
        progress(arg, s, 0);
    ws_strv argv;
    ws_error e;
    if (ws_fix_line_argv(line, &argv, &e) != 0) {
        s->status = WS_EXIT_USAGE;
        s->output = ws_printf("wapsim: cannot run this line: %s\n", e.msg);
    } else {
        ws_subprocess p = {.lab = lab, .args = argv.v, .nargs = argv.n, .timeout_s = WS_FIX_TIMEOUT_S, .merge = 1};
        ws_subprocess_result res;
        s->status = ws_subprocess_run(&p, &res);
        s->output = ws_strdup(ws_buf_str(&res.out));
        ws_subprocess_result_free(&res);
        ws_strv_free(&argv);
        if (ws_strv_add(ran, line) != 0)
            abort();
    }
    if (progress)
        progress(arg, s, 1);
    return s->status == 0 ? 0 : -1;
}

/* Run the wapsim fix lines of r->before's findings, those of stopped services
 * (process-down) or all the others, until one fails. */
static void run_findings(ws_fix_report *r, const char *lab, int services, ws_strv *ran, ws_fix_progress progress,
                         void *arg)
{
    for (int i = 0; i < r->before.n && r->failed < 0; i++) {
        const ws_finding *f = &r->before.findings[i];
        if ((strcmp(f->id, WS_DIAG_PROCESS_DOWN) == 0) != services)
            continue;
        if (!runnable(f)) {
            if (ws_strv_addf(&r->unfixable, "%s@%s", f->id, f->machine) != 0)
                abort();
            continue;
        }
        for (int k = 0; k < f->fix.n && r->failed < 0; k++)
            if (strncmp(f->fix.v[k], WAPSIM_PREFIX, strlen(WAPSIM_PREFIX)) == 0 &&
                run_line(r, f, f->fix.v[k], lab, ran, progress, arg) != 0)
                r->failed = r->nsteps - 1;
    }
}

int ws_diagnose_fix(ws_state *st, const char *lab, const ws_diag_opts *o, ws_fix_progress progress, void *arg,
                    ws_fix_report *r, ws_error *e)
{
    memset(r, 0, sizeof *r);
    r->failed = -1;
    if (ws_diagnose(st, o, &r->before, e) != 0)
        return -1;
    ws_strv ran = {0};
    /* Configuration first, then the services: a service reads its configuration when it
     * starts, so starting it before the repair that lets it start would fail (and stop
     * --fix); a service a repair restarted is running by then, and `service start` of a
     * running service succeeds. */
    run_findings(r, lab, 0, &ran, progress, arg);
    run_findings(r, lab, 1, &ran, progress, arg);
    ws_strv_free(&ran);
    ws_error again;
    r->have_after = ws_diagnose(st, o, &r->after, &again) == 0;
    r->ok = r->failed < 0 && r->have_after && r->after.n == 0;
    return 0;
}

void ws_fix_report_free(ws_fix_report *r)
{
    ws_diagnosis_free(&r->before);
    if (r->have_after)
        ws_diagnosis_free(&r->after);
    for (int i = 0; i < r->nsteps; i++) {
        free(r->steps[i].line);
        free(r->steps[i].output);
    }
    free(r->steps);
    ws_strv_free(&r->unfixable);
    memset(r, 0, sizeof *r);
}

cJSON *ws_fix_report_json(const ws_fix_report *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", r->ok);
    cJSON_AddItemToObject(o, "before", ws_diagnosis_json(&r->before));
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    for (int i = 0; i < r->nsteps; i++) {
        const ws_fix_step *s = &r->steps[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "finding", s->finding);
        cJSON_AddStringToObject(j, "machine", s->machine);
        cJSON_AddStringToObject(j, "line", s->line);
        if (s->status >= 0)
            cJSON_AddNumberToObject(j, "status", s->status);
        else
            cJSON_AddNullToObject(j, "status");
        cJSON_AddBoolToObject(j, "repeat", s->status < 0);
        cJSON_AddStringToObject(j, "output", s->output ? s->output : "");
        cJSON_AddItemToArray(steps, j);
    }
    if (r->failed >= 0)
        cJSON_AddStringToObject(o, "failed", r->steps[r->failed].line);
    else
        cJSON_AddNullToObject(o, "failed");
    cJSON *unfix = cJSON_AddArrayToObject(o, "unfixable");
    for (int i = 0; i < r->unfixable.n; i++)
        cJSON_AddItemToArray(unfix, cJSON_CreateString(r->unfixable.v[i]));
    if (r->have_after)
        cJSON_AddItemToObject(o, "after", ws_diagnosis_json(&r->after));
    else
        cJSON_AddNullToObject(o, "after");
    return o;
}
