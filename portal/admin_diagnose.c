/* SPDX-License-Identifier: Apache-2.0 */
/* admin_diagnose: the Diagnose page (admin.h). GET /diagnose runs `wapsim diagnose
 * --json` on the lab as an operator would (so its rules hold here too: refused during
 * an exercise without --allow-diagnose) and shows each finding as
 * <section class="finding" data-id="ID" data-machine="M">: severity, summary, evidence
 * and its fix lines. A line that is a wapsim command an operator may run from the site
 * (allowed[] below) gets a <button class="fix"> in a form posting to /diagnose/fix;
 * PowerShell and portal steps are shown as text.
 *
 * POST /diagnose/fix (finding, line: indexes; text: the line) diagnoses again, takes
 * that finding's line by index, and runs it only when its text is the posted text and
 * it is a plain wapsim command on the list: split as diagnose --fix splits it
 * (train/repair.h ws_fix_line_argv: quotes honoured, no shell, a line with a shell
 * operator never runs), run through admin_run. The page then shows fresh findings with
 * the outcome box on top. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "admin.h"
#include "admin_settings.h"
#include "base/util.h"
#include "train/repair.h"

#define DIAGNOSE_TIMEOUT_S 90
#define FIX_TEXT_MAX 1024 /* a fix line as posted */

/* The commands a fix button may run: what diagnose prints as repairs (sim/train/diag*.c)
 * that change the lab's configuration or services, never the lab's life (up, down) or
 * anything outside it. */
static const char *const allowed[][2] = {
    {"gateway", "set"},  {"vmm", "set"},     {"vmm", "refresh-host"},  {"cloud", "set"},
    {"host", "set"},     {"service", "restart"}, {"service", "start"}, {"cert", "import"},
    {"cert", "grant"},   {"cert", "new"},    {"clock", "skew"},        {"dns", "set"},
    {"fabric", "set-balancer"},
};

/* 0 with argv (the words after "wapsim") when line may run from the site, else -1 with why. */
static int fix_argv(const char *line, ws_strv *argv, char *why, size_t n)
{
    ws_error e;
    if (ws_fix_line_argv(line, argv, &e) != 0) {
        snprintf(why, n, "not a plain wapsim command: %s", e.msg);
        return -1;
    }
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (argv->n >= 2 && strcmp(argv->v[0], allowed[i][0]) == 0 && strcmp(argv->v[1], allowed[i][1]) == 0)
            return 0;
    snprintf(why, n, "'wapsim %s%s%s' is not among the commands the admin site runs (run it from a shell)",
             argv->n ? argv->v[0] : "", argv->n > 1 ? " " : "", argv->n > 1 ? argv->v[1] : "");
    ws_strv_free(argv);
    return -1;
}

/* Run diagnose: the parsed JSON, or NULL with *run holding what happened. The output
 * merges standard error, so the JSON is the first line that opens an object. */
static cJSON *diagnose(const admin_req *a, admin_outcome *run)
{
    const char *args[] = {"diagnose", "--json", NULL};
    if (admin_run(a->rq, args, DIAGNOSE_TIMEOUT_S, run) != 0 || (run->status != 0 && run->status != 1))
        return NULL;
    const char *p = run->output;
    while (p && *p != '{') {
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    cJSON *j = p ? cJSON_Parse(p) : NULL;
    if (j && !cJSON_IsArray(cJSON_GetObjectItem(j, "findings"))) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

static const char *str(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
    return s ? s : "";
}

static void fix_line(web_page *w, const admin_req *a, int fi, int li, const char *line)
{
    ws_strv argv;
    char why[256];
    web_raw(w, "<li>");
    if (strncmp(line, "wapsim ", 7) != 0 || fix_argv(line, &argv, why, sizeof why) != 0) {
        web_raw(w, "<code>");
        web_esc(w, line);
        web_raw(w, "</code></li>");
        return;
    }
    ws_strv_free(&argv);
    admin_form(w, a, "/diagnose/fix");
    web_raw(w, "<input type=\"hidden\" name=\"finding\" value=\"%d\"><input type=\"hidden\" name=\"line\" "
               "value=\"%d\"><input type=\"hidden\" name=\"text\" value=\"",
            fi, li);
    web_esc(w, line);
    web_raw(w, "\"><button type=\"submit\" class=\"fix\">Run</button><code>");
    web_esc(w, line);
    web_raw(w, "</code></form></li>");
}

static void finding(web_page *w, const admin_req *a, int fi, const cJSON *f)
{
    const char *sev = str(f, "severity");
    web_raw(w, "<section class=\"finding %s\" data-id=\"", strcmp(sev, "warning") == 0 ? "warning" : "error");
    web_esc(w, str(f, "id"));
    web_raw(w, "\" data-machine=\"");
    web_esc(w, str(f, "machine"));
    web_raw(w, "\" data-severity=\"");
    web_esc(w, sev);
    web_raw(w, "\"><h2><span class=\"severity\">");
    web_esc(w, strcmp(sev, "warning") == 0 ? "Warning" : "Error");
    web_raw(w, "</span> ");
    web_esc(w, str(f, "id"));
    web_raw(w, " <span class=\"machine\">on ");
    web_esc(w, str(f, "machine"));
    web_raw(w, "</span></h2><p class=\"summary\">");
    web_esc(w, str(f, "summary"));
    web_raw(w, "</p>");
    if (*str(f, "evidence")) {
        web_raw(w, "<p class=\"evidence\"><strong>Evidence:</strong> ");
        web_esc(w, str(f, "evidence"));
        web_raw(w, "</p>");
    }
    const cJSON *fix = cJSON_GetObjectItem(f, "fix");
    if (cJSON_GetArraySize(fix) > 0) {
        web_raw(w, "<h3>Fix</h3><ol class=\"fixes\">");
        for (int li = 0; li < cJSON_GetArraySize(fix); li++)
            fix_line(w, a, fi, li, cJSON_GetStringValue(cJSON_GetArrayItem(fix, li)) ?: "");
        web_raw(w, "</ol>");
    }
    web_raw(w, "</section>\n");
}

static void findings(web_page *w, const admin_req *a, const cJSON *j, const admin_outcome *run)
{
    if (!j) {
        web_raw(w, "<section class=\"outcome failed diagnose-failed\"><h2>Diagnose did not run</h2><pre class=\""
                   "command\">");
        web_esc(w, run->command ? run->command : "wapsim diagnose --json");
        web_raw(w, "</pre><pre class=\"output\">");
        web_esc(w, run->output ? run->output : "");
        web_raw(w, "</pre></section>\n");
        return;
    }
    const cJSON *list = cJSON_GetObjectItem(j, "findings");
    int n = cJSON_GetArraySize(list), warnings = 0;
    for (int i = 0; i < n; i++)
        warnings += strcmp(str(cJSON_GetArrayItem(list, i), "severity"), "warning") == 0;
    web_raw(w, "<p class=\"diagnose-summary\">wapsim diagnose: %d finding%s (%d error%s, %d warning%s).</p>\n", n,
            n == 1 ? "" : "s", n - warnings, n - warnings == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    if (n == 0)
        web_raw(w, "<p class=\"no-findings\">No findings. Every requirement checked holds.</p>\n");
    for (int i = 0; i < n; i++)
        finding(w, a, i, cJSON_GetArrayItem(list, i));
}

static enum MHD_Result diagnose_page(const admin_req *a, const admin_outcome *change)
{
    admin_outcome run;
    cJSON *j = diagnose(a, &run);
    web_page w;
    web_init(&w);
    admin_begin(&w, a, "Diagnose", "Diagnose");
    if (change)
        admin_outcome_html(&w, change);
    web_raw(&w, "<div class=\"diagnose-bar\"><a class=\"diagnose-again\" id=\"diagnose-again\" href=\"/diagnose\">"
                "Diagnose again</a><span>Checks every requirement of Console Connect on the running lab, as "
                "<code>wapsim diagnose</code> does. A <em>Run</em> button runs that wapsim line on the lab.</span>"
                "</div>\n");
    findings(&w, a, j, &run);
    admin_end(&w, a);
    cJSON_Delete(j);
    admin_outcome_free(&run);
    return web_send(a->rq, 200, &w, NULL);
}

/* A posted index: 0..9999, or -1 (cJSON_GetArrayItem then gives NULL). */
static int index_of(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return !*s || *end || v < 0 || v > 9999 ? -1 : (int)v;
}

/* The fix line the form names, if diagnose still prints it there: 0 with argv, else -1 with why. */
static int posted_fix(const admin_req *a, char *text, ws_strv *argv, char *why, size_t n)
{
    char fs[16], ls[16];
    if (web_field(a->rq, "finding", fs, sizeof fs) != 0 || web_field(a->rq, "line", ls, sizeof ls) != 0 ||
        web_field(a->rq, "text", text, FIX_TEXT_MAX) != 0) {
        snprintf(why, n, "the form's finding, line or text is missing or too long");
        return -1;
    }
    admin_outcome run;
    cJSON *j = diagnose(a, &run);
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "findings"), index_of(fs));
    const char *line = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(f, "fix"), index_of(ls)));
    int rc = -1;
    if (!j)
        snprintf(why, n, "diagnose did not run (exit %d)", run.status);
    else if (!line || strcmp(line, text) != 0)
        snprintf(why, n, "diagnose no longer prints this line there (the lab changed): see the fresh findings");
    else if (strncmp(line, "wapsim ", 7) != 0)
        snprintf(why, n, "only wapsim lines run from the site");
    else
        rc = fix_argv(line, argv, why, n);
    cJSON_Delete(j);
    admin_outcome_free(&run);
    return rc;
}

static enum MHD_Result diagnose_fix(const admin_req *a)
{
    char text[FIX_TEXT_MAX] = "", why[512];
    ws_strv argv = {0};
    admin_outcome o;
    if (posted_fix(a, text, &argv, why, sizeof why) != 0) {
        settings_refused(&o, text[0] ? text : "(a fix line)", why);
    } else {
        const char *args[64];
        int n = 0;
        for (int i = 0; i < argv.n && n < 63; i++)
            args[n++] = argv.v[i];
        args[n] = NULL;
        admin_run(a->rq, args, WS_FIX_TIMEOUT_S, &o);
    }
    enum MHD_Result r = diagnose_page(a, &o);
    admin_outcome_free(&o);
    ws_strv_free(&argv);
    return r;
}

enum MHD_Result admin_diagnose(const admin_req *a)
{
    int post = strcmp(a->rq->method, "POST") == 0;
    if (post && strcmp(a->path, "/diagnose/fix") == 0)
        return diagnose_fix(a);
    if (post || strcmp(a->path, "/diagnose") != 0)
        return ws_httpd_reply(a->rq->conn, 404, "text/plain", "no such page\n", 13);
    return diagnose_page(a, NULL);
}
