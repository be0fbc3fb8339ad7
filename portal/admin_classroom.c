/* SPDX-License-Identifier: Apache-2.0 */
/* admin_classroom: the trainer's page (admin.h), on any seat's admin site, for the
 * classroom's trainer only (admin_site.c answers 404 to anyone else, as for a page that
 * is not there). The classroom is the one this lab is a seat of (train/classroom.h:
 * lab_meta "classroom" names its folder); each seat's row is ws_classroom_seat_view,
 * read from that seat's state file:
 *   GET  /classroom                        every seat: trainee, exercise, time, hints, checks,
 *                                          score, state, the faults revealed, its history
 *   GET  /classroom/results.csv            every attempt of every seat (ws_classroom_results_csv)
 *   GET  /classroom/SEAT/events            that seat's Event Viewer and Topology, drawn by
 *   GET  /classroom/SEAT/topology[.svg]    admin_events.c and admin_topology.c from its state
 *                                          file opened read-only (PRAGMA query_only)
 *   POST /classroom/reset, /classroom/assign   `wapsim classroom reset|assign DIR SEAT|all ...`
 *                                          (classroom_form.h builds it from the fields)
 * A change for one seat runs as the other pages' changes do, its outcome at the top. A
 * change for every seat runs on a thread of the site's own (30 seats' assign takes longer
 * than a browser waits): the page returns at once and shows it running, then its outcome;
 * one such change at a time. Attempts are never removed: a reset or a new exercise leaves
 * the seat's history (the CSV) as it was.
 *
 * DOM contract (COMMON.md): <table id="seats"> with a <tr class="seat" data-seat=
 * "seat01" data-state="none|active|solved|given-up|void" data-score="N or empty"> per
 * seat, the faults in td.faults, links to /classroom/seat01/events and /topology. The
 * page's script (admin_assets.c) fetches the page every few seconds and swaps the
 * table's rows and the running change's box. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "base/util.h"
#include "classroom_form.h"
#include "train/classroom.h"

#define SEAT_RUN_TIMEOUT_S 300   /* one seat's reset, or its reset and a generated exercise */
#define ALL_RUN_TIMEOUT_S 3600   /* every seat's, on the site's thread */
#define REFRESH_S 5              /* how often the page's script fetches the rows again */

/* The change for every seat, running or done; one per portal process. */
static struct {
    pthread_mutex_t mu;
    int running, has_result;
    char *command;   /* as typed */
    int64_t started; /* wall seconds */
    admin_outcome done;
} job = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *job_main(void *arg)
{
    classroom_cmd *cmd = arg; /* its args point into itself */
    admin_outcome o;
    admin_run_in(NULL, cmd->args, ALL_RUN_TIMEOUT_S, &o);
    pthread_mutex_lock(&job.mu);
    admin_outcome_free(&job.done);
    job.done = o;
    job.running = 0;
    job.has_result = 1;
    pthread_mutex_unlock(&job.mu);
    free(cmd);
    return NULL;
}

/* "wapsim" and args, as the outcome box shows a command (every argument is plain:
 * classroom_form.h). */
static char *typed_line(const char *const *args)
{
    char *s = ws_strdup("wapsim");
    for (int i = 0; args[i]; i++) {
        char *t = ws_printf("%s %s", s, args[i]);
        free(s);
        s = t;
    }
    return s;
}

/* Starts cmd (the caller's, handed over) on a thread; -1 when one is running or no thread. */
static int job_start(classroom_cmd *cmd, const char *line)
{
    pthread_mutex_lock(&job.mu);
    if (job.running) {
        pthread_mutex_unlock(&job.mu);
        return -1;
    }
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &at, job_main, cmd);
    pthread_attr_destroy(&at);
    if (rc == 0) {
        job.running = 1;
        job.has_result = 0;
        free(job.command);
        job.command = ws_strdup(line);
        job.started = ws_wall_ms() / 1000;
    }
    pthread_mutex_unlock(&job.mu);
    return rc == 0 ? 0 : -1;
}

/* section#job: the change for every seat, running (data-state="running") or its outcome. */
static void job_box(web_page *w)
{
    pthread_mutex_lock(&job.mu);
    if (job.running) {
        web_raw(w, "<section id=\"job\" class=\"job running\" data-state=\"running\"><h2>Running for every seat "
                   "<span class=\"sub\">for %lld s</span></h2><pre class=\"command\">",
                (long long)(ws_wall_ms() / 1000 - job.started));
        web_esc(w, job.command);
        web_raw(w, "</pre><p class=\"hint\">The table follows the seats as the command reaches them.</p></section>\n");
    } else if (job.has_result) {
        web_raw(w, "<section id=\"job\" data-state=\"done\">");
        admin_outcome_html(w, &job.done);
        web_raw(w, "</section>\n");
    } else {
        web_raw(w, "<section id=\"job\" data-state=\"none\"></section>\n");
    }
    pthread_mutex_unlock(&job.mu);
}

static int job_running(void)
{
    pthread_mutex_lock(&job.mu);
    int r = job.running;
    pthread_mutex_unlock(&job.mu);
    return r;
}

/* ------------------------------------------------------------------ the table */

static void duration(web_page *w, int64_t secs)
{
    if (secs < 0)
        secs = 0;
    if (secs >= 3600)
        web_raw(w, "%lld h %02lld min", (long long)secs / 3600, (long long)secs % 3600 / 60);
    else
        web_raw(w, "%lld min %02lld s", (long long)secs / 60, (long long)secs % 60);
}

static void seat_form(web_page *w, const admin_req *a, const char *action, const char *seat, const char *label,
                      const char *cls)
{
    admin_form(w, a, action);
    web_raw(w, "<input type=\"hidden\" name=\"seat\" value=\"");
    web_esc(w, seat);
    web_raw(w, "\"><button type=\"submit\" class=\"%s\">%s</button></form>", cls, label);
}

/* The cells after the trainee's, from the seat's view. */
static void attempt_cells(web_page *w, const ws_seat_view *v, const char *state)
{
    const ws_attempt *at = &v->attempt;
    int active = strcmp(state, "active") == 0;
    if (!v->has_attempt) {
        web_raw(w, "<td class=\"exercise\">-</td><td class=\"time\"></td><td class=\"hints\"></td>"
                   "<td class=\"checks\"></td><td class=\"score\"></td>");
    } else {
        web_raw(w, "<td class=\"exercise\"><span class=\"mono\">");
        web_esc(w, v->exercise);
        web_raw(w, "</span><div class=\"sub\">level %d%s</div></td><td class=\"time nowrap\">", at->level,
                at->generated[0] ? ", generated" : "");
        duration(w, v->seconds);
        web_raw(w, "</td><td class=\"hints\">%d</td><td class=\"checks\">%d</td><td class=\"score\">", at->hints,
                at->checks);
        if (at->has_score)
            web_raw(w, "<b>%d</b>", at->score);
        else if (active)
            web_raw(w, "<span class=\"sub\">%d if solved now</span>", ws_exercise_score(at->hints));
        web_raw(w, "</td>");
    }
    /* state is the seat's own row: escaped like every value read from a seat's files. */
    web_raw(w, "<td class=\"state\"><span class=\"badge %s\">",
            strcmp(state, "solved") == 0 ? "ok" : active ? "running" : "stopped");
    web_esc(w, state);
    web_raw(w, "</span></td><td class=\"faults\">");
    web_esc(w, v->faults[0] ? v->faults : v->title);
    web_raw(w, "</td><td class=\"history nowrap\">%d attempt%s, %d solved</td>", v->attempts,
            v->attempts == 1 ? "" : "s", v->solved);
}

static void seat_row(web_page *w, const admin_req *a, const ws_classroom *c, const ws_seat *s)
{
    ws_seat_view v;
    ws_error e;
    memset(&v, 0, sizeof v);
    int ok = ws_classroom_seat_view(c, s, &v, &e) == 0;
    const char *state = ok && v.has_attempt ? v.attempt.state : "none";
    web_raw(w, "<tr class=\"seat\" data-seat=\"");
    web_esc(w, s->name);
    web_raw(w, "\" data-state=\"");
    web_esc(w, state);
    web_raw(w, "\" data-score=\"");
    if (ok && v.has_attempt && v.attempt.has_score)
        web_raw(w, "%d", v.attempt.score);
    web_raw(w, "\"><td class=\"nowrap\"><b>");
    web_esc(w, s->name);
    web_raw(w, "</b> <span class=\"badge %s\">%s</span></td><td class=\"trainee\">", ok && v.running ? "running" : "stopped",
            ok && v.running ? "up" : "down");
    web_esc(w, s->account);
    web_raw(w, "</td>");
    if (ok) {
        attempt_cells(w, &v, state);
    } else {
        web_raw(w, "<td colspan=\"8\" class=\"faults\"><span class=\"note\">");
        web_esc(w, e.msg);
        web_raw(w, "</span></td>");
    }
    web_raw(w, "<td class=\"links\"><a href=\"/classroom/");
    web_esc(w, s->name);
    web_raw(w, "/events\">Events</a><a href=\"/classroom/");
    web_esc(w, s->name);
    web_raw(w, "/topology\">Topology</a></td><td class=\"actions\">");
    seat_form(w, a, "/classroom/assign", s->name, "New exercise", "cmd");
    seat_form(w, a, "/classroom/reset", s->name, "Reset", "cmd danger");
    web_raw(w, "</td></tr>\n");
}

static void seats_table(web_page *w, const admin_req *a, const ws_classroom *c)
{
    web_raw(w, "<table class=\"grid seats\" id=\"seats\" data-refresh=\"%d\" data-src=\"/classroom\"><thead><tr>"
               "<th>Seat</th><th>Trainee</th><th>Exercise</th><th>Time</th><th>Hints</th><th>Checks</th>"
               "<th>Score</th><th>State</th><th>Faults</th><th>History</th><th>Lab</th><th></th></tr></thead>"
               "<tbody>\n",
            REFRESH_S);
    for (int i = 0; i < c->nseats; i++)
        seat_row(w, a, c, &c->seats[i]);
    web_raw(w, "</tbody></table>\n");
}

/* ------------------------------------------------------------------ the forms */

static void seat_select(web_page *w, const ws_classroom *c, const char *id)
{
    web_raw(w, "<label>Seat <select name=\"seat\" id=\"%s\"><option value=\"all\">every seat</option>", id);
    for (int i = 0; i < c->nseats; i++) {
        web_raw(w, "<option>");
        web_esc(w, c->seats[i].name);
        web_raw(w, "</option>");
    }
    web_raw(w, "</select></label> ");
}

static void hand_out_forms(web_page *w, const admin_req *a, const ws_classroom *c)
{
    web_raw(w, "<section class=\"import classroom-forms\"><h2>Hand out a new exercise</h2><form method=\"post\" "
               "action=\"/classroom/assign\" id=\"classroom-assign\"><input type=\"hidden\" name=\"" CSRF_FIELD
               "\" value=\"%s\">",
            a->csrf);
    seat_select(w, c, "assign-seat");
    web_raw(w, "<label>Level <select name=\"level\"><option value=\"\">the plan's (%d)</option><option>1</option>"
               "<option>2</option><option>3</option></select></label> <label>Seed <input name=\"seed\" size=\"12\" "
               "inputmode=\"numeric\" maxlength=\"20\"></label> <label class=\"check\"><input type=\"checkbox\" "
               "name=\"same\" value=\"1\"> the same exercise for every seat</label> <label>Mistake <input "
               "name=\"mistake\" size=\"10\" maxlength=\"63\" placeholder=\"m3a,m1b\"></label> <button "
               "type=\"submit\">Hand out</button></form><p class=\"hint\">Runs <code>wapsim classroom assign DIR "
               "SEAT|all [--level L] [--seed S | --same] [--mistake ID]</code>: the seat's lab back to its healthy "
               "baseline, then a generated exercise. An exercise in progress becomes void; the history stays.</p>",
            c->level);
    web_raw(w, "<h2>Reset</h2><form method=\"post\" action=\"/classroom/reset\" id=\"classroom-reset\"><input "
               "type=\"hidden\" name=\"" CSRF_FIELD "\" value=\"%s\">",
            a->csrf);
    seat_select(w, c, "reset-seat");
    web_raw(w, "<button type=\"submit\" class=\"danger\">Reset</button></form><p class=\"hint\">Runs <code>wapsim "
               "classroom reset DIR SEAT|all</code>: the seat's world back to its baseline in place; its portal "
               "keeps running.</p></section>\n");
}

static enum MHD_Result page(const admin_req *a, const ws_classroom *c, const admin_outcome *o)
{
    web_page w;
    web_init(&w);
    admin_begin(&w, a, "Classroom", "Classroom");
    if (o)
        admin_outcome_html(&w, o);
    job_box(&w);
    web_raw(&w, "<p class=\"lede\">Every seat of the classroom <code>");
    web_esc(&w, c->dir);
    web_raw(&w, "</code>: its exercise, time on it, hints and checks, score, and the faults it was given (shown "
                "here only). The table refreshes every %d seconds. <a id=\"results-csv\" "
                "href=\"/classroom/results.csv\" download>Export the results (CSV)</a></p>\n",
            REFRESH_S);
    seats_table(&w, a, c);
    hand_out_forms(&w, a, c);
    admin_end(&w, a);
    return web_send(a->rq, 200, &w, NULL);
}

/* ------------------------------------------------------------------ requests */

static enum MHD_Result results_csv(const admin_req *a, const ws_classroom *c)
{
    ws_buf csv;
    ws_error e;
    ws_buf_init(&csv, WS_BUF_MAX_REPORT);
    if (ws_classroom_results_csv(c, &csv, &e) != 0) {
        ws_buf_free(&csv);
        char *msg = ws_printf("the results cannot be read: %s\n", e.msg);
        enum MHD_Result r = ws_httpd_reply(a->rq->conn, 500, "text/plain; charset=utf-8", msg, strlen(msg));
        free(msg);
        return r;
    }
    const char *extra[] = {"Content-Disposition", "attachment; filename=\"classroom-results.csv\"", NULL};
    enum MHD_Result r = web_send_body(a->rq, 200, "text/csv; charset=utf-8", ws_buf_data(&csv), ws_buf_len(&csv), extra);
    ws_buf_free(&csv);
    return r;
}

/* GET /classroom/SEAT/events|topology|topology.svg: the seat's state file, read-only. */
static enum MHD_Result seat_lab(const admin_req *a, const ws_classroom *c, const char *rest)
{
    char name[16], base[64];
    size_t n = strcspn(rest, "/");
    const char *what = rest + n + (rest[n] == '/');
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : 0), rest);
    const ws_seat *s = name[0] ? ws_classroom_seat(c, name) : NULL;
    int events = strcmp(what, "events") == 0, topo = strcmp(what, "topology") == 0,
        svg = strcmp(what, "topology.svg") == 0;
    if (!s || strcmp(s->name, name) != 0 || !(events || topo || svg) || strcmp(a->rq->method, "GET") != 0)
        return ws_httpd_reply(a->rq->conn, 404, "text/plain", "no such page\n", 13);
    ws_state *st;
    ws_error e;
    if (ws_classroom_seat_open(s, &st, &e) != 0) {
        char *msg = ws_printf("%s's lab cannot be read: %s\n", s->name, e.msg);
        enum MHD_Result r = ws_httpd_reply(a->rq->conn, 503, "text/plain; charset=utf-8", msg, strlen(msg));
        free(msg);
        return r;
    }
    snprintf(base, sizeof base, "/classroom/%s/%s", s->name, events ? "events" : "topology");
    admin_view v = {.st = st, .base = base, .label = s->name, .tab = "Classroom"};
    enum MHD_Result r = events ? admin_events_view(a, &v) : topo ? admin_topology_view(a, &v)
                                                                 : admin_topology_svg_of(a, st);
    ws_state_close(st);
    return r;
}

/* POST /classroom/reset|assign: one seat now, every seat on the site's thread. */
static enum MHD_Result change(const admin_req *a, const ws_classroom *c, const char *verb)
{
    classroom_fields f;
    classroom_cmd *cmd = calloc(1, sizeof *cmd);
    if (!cmd)
        abort();
    admin_outcome o = {0};
    int built = classroom_fields_parse(a->rq->body, a->rq->body_len, &f, cmd->why, sizeof cmd->why) == 0 &&
                classroom_cmd_build(verb, c->dir, c->nseats, &f, cmd) == 0;
    if (!built) {
        o.command = ws_printf("wapsim classroom %s ...", verb);
        o.output = ws_printf("The admin site did not run it: %s\n", cmd->why);
        o.status = 2;
    } else if (job_running()) {
        o.command = ws_printf("wapsim classroom %s %s %s ...", verb, cmd->dir, cmd->seat);
        o.output = ws_strdup("The admin site did not run it: a change for every seat is still running (above).\n");
        o.status = 2;
    } else if (strcmp(cmd->seat, "all") == 0) {
        char *typed = typed_line(cmd->args);
        if (job_start(cmd, typed) == 0)
            cmd = NULL; /* the thread's now */
        else
            o = (admin_outcome){ws_strdup(typed),
                                ws_strdup("The admin site did not run it: another change for every seat has just "
                                          "started, or no thread could be made.\n"),
                                2};
        free(typed);
    } else {
        admin_run_in(NULL, cmd->args, SEAT_RUN_TIMEOUT_S, &o);
    }
    free(cmd);
    enum MHD_Result r = page(a, c, o.command ? &o : NULL);
    admin_outcome_free(&o);
    return r;
}

enum MHD_Result admin_classroom(const admin_req *a)
{
    char dir[PATH_MAX];
    ws_classroom c;
    ws_error e;
    if (ws_classroom_of_lab(a->rq->st, dir, sizeof dir) != 0)
        return ws_httpd_reply(a->rq->conn, 404, "text/plain", "no such page\n", 13);
    if (ws_classroom_load(dir, &c, &e) != 0) {
        char *msg = ws_printf("the classroom at %s cannot be read: %s\n", dir, e.msg);
        enum MHD_Result r = ws_httpd_reply(a->rq->conn, 503, "text/plain; charset=utf-8", msg, strlen(msg));
        free(msg);
        return r;
    }
    int get = strcmp(a->rq->method, "GET") == 0, post = strcmp(a->rq->method, "POST") == 0;
    enum MHD_Result r;
    if (get && strcmp(a->path, "/classroom") == 0)
        r = page(a, &c, NULL);
    else if (get && strcmp(a->path, "/classroom/results.csv") == 0)
        r = results_csv(a, &c);
    else if (post && strcmp(a->path, "/classroom/reset") == 0)
        r = change(a, &c, "reset");
    else if (post && strcmp(a->path, "/classroom/assign") == 0)
        r = change(a, &c, "assign");
    else if (strncmp(a->path, "/classroom/", 11) == 0)
        r = seat_lab(a, &c, a->path + 11);
    else
        r = ws_httpd_reply(a->rq->conn, 404, "text/plain", "no such page\n", 13);
    ws_classroom_free(&c);
    return r;
}
