/* SPDX-License-Identifier: Apache-2.0 */
/* admin_exercise: the Exercise page (admin.h), every administrator's (in a classroom, the
 * seat's trainee). It shows the attempt in progress as `wapsim exercise status` does:
 * its ticket (the customer's report, from the exercise's text that the catalogue or the
 * cache holds under the attempt's hash: train/exercise.h), level, time on it, hints used,
 * checks tried and the score if it were solved now. The ticket only: the title, the doc
 * and a generated exercise's faults name the fault, so they stay hidden until the
 * attempt ends (as `exercise check` and `give-up` reveal them). Check, Hint and Give up
 * run `wapsim exercise check|hint|give-up` on the lab (admin_run): the outcome box shows
 * the command and what it printed, and its record is the command's own.
 *
 * DOM contract (COMMON.md): <section id="exercise" data-state="none|active|solved|
 * given-up|void"> with the ticket in <pre id="ticket">; the outcome in section#outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "base/util.h"
#include "train/exercise.h"

#define EXERCISE_RUN_TIMEOUT_S 180 /* a check connects to every VM; a hint may diagnose */

/* What the page shows: the attempt in progress, else the newest one, else none. */
typedef struct shown {
    const char *state; /* none, active, solved, given-up, void */
    ws_attempt a;
    int64_t seconds; /* time on it: until now while active, else until it ended */
} shown;

static void find_shown(ws_state *st, shown *s)
{
    memset(s, 0, sizeof *s);
    s->state = "none";
    ws_attempt_status now = ws_exercise_current(st, &s->a);
    int64_t wall = ws_wall_ms() / 1000;
    if (now == WS_ATTEMPT_ACTIVE) {
        s->state = "active";
        s->seconds = wall - s->a.started_at;
        return;
    }
    if (now == WS_ATTEMPT_VOID) {
        s->state = "void"; /* its marker names a lab this one is not: reset or re-created */
        return;
    }
    ws_attempt *all;
    int n;
    ws_error e;
    if (ws_exercise_history(st, &all, &n, &e) != 0 || n == 0) {
        free(all); /* NULL when the history could not be read */
        return;
    }
    s->a = all[n - 1];
    free(all);
    /* An ended attempt keeps its state; one still marked active without its marker
     * (the marker was removed under it) can no longer be checked: void. */
    static const char *const ended[] = {"solved", "given-up", "void"};
    s->state = "void";
    for (size_t i = 0; i < sizeof ended / sizeof ended[0]; i++)
        if (strcmp(s->a.state, ended[i]) == 0)
            s->state = ended[i];
    s->seconds = (s->a.has_ended ? s->a.ended_at : wall) - s->a.started_at;
}

static void fact(web_page *w, const char *id, const char *label, const char *value)
{
    web_raw(w, "<dt>%s</dt><dd id=\"%s\">", label, id);
    web_esc(w, value);
    web_raw(w, "</dd>");
}

static void facts(web_page *w, const shown *s)
{
    char v[64];
    int64_t secs = s->seconds < 0 ? 0 : s->seconds;
    web_raw(w, "<dl class=\"facts\">");
    snprintf(v, sizeof v, "%d", s->a.level);
    fact(w, "exercise-level", "Level", v);
    web_raw(w, "<dt>Time</dt><dd id=\"exercise-time\" data-seconds=\"%lld\"%s>%lld min %02lld s</dd>",
            (long long)secs, strcmp(s->state, "active") == 0 ? " data-ticking=\"1\"" : "", (long long)secs / 60,
            (long long)secs % 60);
    snprintf(v, sizeof v, "%d of %d", s->a.hints, WS_EXERCISE_HINTS);
    fact(w, "exercise-hints", "Hints used", v);
    snprintf(v, sizeof v, "%d", s->a.checks);
    fact(w, "exercise-checks", "Checks tried", v);
    if (strcmp(s->state, "active") == 0) {
        snprintf(v, sizeof v, "%d", ws_exercise_score(s->a.hints));
        fact(w, "exercise-score", "Score if solved now", v);
    } else if (s->a.has_score) {
        snprintf(v, sizeof v, "%d", s->a.score);
        fact(w, "exercise-score", "Score", v);
    }
    web_raw(w, "</dl>\n");
}

/* The ticket from the exercise's text; once the attempt ended, the fault's title too. */
static void ticket(web_page *w, const shown *s)
{
    ws_exercise x;
    if (ws_exercise_find(NULL, s->a.hash, &x) != 0) {
        web_raw(w, "<pre id=\"ticket\" class=\"ticket missing\">(the exercise's text is no longer in the catalogue "
                   "or the cache: the command line's wapsim exercise status still shows the attempt)</pre>\n");
        return;
    }
    web_raw(w, "<h2>Ticket <span class=\"sub\">level %d, exercise %s</span></h2><pre id=\"ticket\" class=\"ticket\">",
            x.level, x.id);
    web_esc(w, x.sc->ticket ? x.sc->ticket : "");
    web_raw(w, "</pre>\n");
    if (strcmp(s->state, "solved") == 0 || strcmp(s->state, "given-up") == 0) {
        web_raw(w, "<p class=\"revealed\">The fault: ");
        web_esc(w, x.sc->title ? x.sc->title : x.id);
        web_raw(w, "</p>\n");
    }
    ws_exercise_clear(&x);
}

static void button(web_page *w, const admin_req *a, const char *verb, const char *label, const char *cls)
{
    char action[32];
    snprintf(action, sizeof action, "/exercise/%s", verb);
    web_raw(w, "<form method=\"post\" action=\"%s\" id=\"exercise-%s\"><input type=\"hidden\" name=\"" CSRF_FIELD
               "\" value=\"%s\"><button type=\"submit\" class=\"%s\">%s</button></form>",
            action, verb, a->csrf, cls, label);
}

static const char *const said[] = {
    "none", "No exercise in progress. Your trainer hands one out (the Classroom page), or from a shell: "
            "<code>wapsim exercise start</code>.",
    "void", "This exercise is void: the lab was reset or re-created since it started, so it can no longer be "
            "checked. It stays in your history; ask for a new one.",
    "solved", "Solved. The attempt is in your history; the next exercise comes from your trainer or "
              "<code>wapsim exercise start</code>.",
    "given-up", "Given up (score 0). The outcome of Give up names the fault and its repair.",
};

static enum MHD_Result page(const admin_req *a, const admin_outcome *o)
{
    shown s;
    find_shown(a->rq->st, &s);
    web_page w;
    web_init(&w);
    admin_begin(&w, a, "Exercise", "Exercise");
    if (o)
        admin_outcome_html(&w, o);
    web_raw(&w, "<section id=\"exercise\" data-state=\"%s\">\n", s.state);
    for (size_t i = 0; i < sizeof said / sizeof said[0]; i += 2)
        if (strcmp(s.state, said[i]) == 0)
            web_raw(&w, "<p class=\"lede\">%s</p>\n", said[i + 1]);
    if (strcmp(s.state, "active") == 0)
        web_raw(&w, "<p class=\"lede\">A customer's report: find the fault with the admin site (Topology, Event "
                    "Viewer, Certificates, Settings) or a shell, repair it, then press Check. Each hint costs "
                    "points; Check costs nothing.</p>\n");
    if (strcmp(s.state, "none") != 0 && s.a.hash[0]) {
        ticket(&w, &s);
        facts(&w, &s);
    }
    if (strcmp(s.state, "active") == 0) {
        web_raw(&w, "<div class=\"exercise-actions\">");
        button(&w, a, "check", "Check", "");
        button(&w, a, "hint", "Hint", "cmd");
        button(&w, a, "give-up", "Give up", "cmd danger");
        web_raw(&w, "</div>\n<p class=\"hint\">Each button runs <code>wapsim exercise check</code>, <code>hint"
                    "</code> or <code>give-up</code> on this lab: the same as a shell.</p>\n");
    }
    web_raw(&w, "</section>\n");
    admin_end(&w, a);
    return web_send(a->rq, 200, &w, NULL);
}

enum MHD_Result admin_exercise(const admin_req *a)
{
    if (strcmp(a->rq->method, "GET") == 0 && strcmp(a->path, "/exercise") == 0)
        return page(a, NULL);
    static const char *const verbs[] = {"check", "hint", "give-up"};
    for (size_t i = 0; strcmp(a->rq->method, "POST") == 0 && i < sizeof verbs / sizeof verbs[0]; i++) {
        if (strncmp(a->path, "/exercise/", 10) != 0 || strcmp(a->path + 10, verbs[i]) != 0)
            continue;
        const char *args[] = {"exercise", verbs[i], NULL};
        admin_outcome o;
        admin_run(a->rq, args, EXERCISE_RUN_TIMEOUT_S, &o);
        enum MHD_Result r = page(a, &o);
        admin_outcome_free(&o);
        return r;
    }
    return ws_httpd_reply(a->rq->conn, 404, "text/plain", "no such page\n", 13);
}
