/* SPDX-License-Identifier: Apache-2.0 */
/* admin_events: Event Viewer for one machine (admin.h) of this lab, or of a classroom
 * seat's lab (admin_events_view with that seat's state): the records `wapsim logs
 * --machine M` prints (every channel, trace blocks too: lab/eventlog.h), newest first,
 * the newest EVENTS_SHOWN of those the filters let through. The filters are a GET form,
 * so they work without script; a bad value is named in a notice, never a failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "base/util.h"
#include "base/time.h"
#include "lab/eventlog.h"
#include "lab/machine.h"

#define EVENTS_SHOWN 200

typedef struct kept {
    int64_t time_ms;
    int event_id;
    char *channel, *source, *level, *text;
} kept;

typedef struct collect {
    const char *level; /* NULL: any */
    int event_id;      /* -1: any */
    kept ring[EVENTS_SHOWN];
    long seen; /* matching records so far; the ring holds the newest */
} collect;

static void drop(kept *k)
{
    free(k->channel), free(k->source), free(k->level), free(k->text);
    memset(k, 0, sizeof *k);
}

static int keep(const ws_event_rec *r, void *arg)
{
    collect *c = arg;
    if ((c->level && strcasecmp(r->level, c->level) != 0) || (c->event_id >= 0 && r->event_id != c->event_id))
        return 0;
    kept *k = &c->ring[c->seen++ % EVENTS_SHOWN];
    drop(k);
    *k = (kept){r->time_ms, r->event_id, ws_strdup(r->channel), ws_strdup(r->source), ws_strdup(r->level),
                ws_strdup(r->text)};
    return 0;
}

static void option(web_page *w, const char *value, const char *label, const char *current)
{
    web_raw(w, "<option value=\"");
    web_esc(w, value);
    web_raw(w, "\"%s>", current && strcasecmp(value, current) == 0 ? " selected" : "");
    web_esc(w, label);
    web_raw(w, "</option>");
}

static int machine_option(const ws_machine *m, void *arg)
{
    void **a = arg;
    option(a[0], m->name, m->name, a[1]);
    return 0;
}

/* The filter form (GET to the page itself, base): machine, level, event id. */
static void filters(web_page *w, ws_state *st, const char *base, const char *machine, const char *level, const char *id)
{
    ws_error e;
    void *args[2] = {w, (void *)machine};
    web_raw(w, "<form method=\"get\" action=\"");
    web_esc(w, base);
    web_raw(w, "\" class=\"filters\"><label>Machine <select name=\"machine\">");
    ws_machine_foreach(st, machine_option, args, &e);
    web_raw(w, "</select></label> <label>Level <select name=\"level\">");
    option(w, "", "Any", level);
    option(w, "Information", "Information", level);
    option(w, "Warning", "Warning", level);
    option(w, "Error", "Error", level);
    web_raw(w, "</select></label> <label>Event ID <input name=\"id\" inputmode=\"numeric\" size=\"6\" value=\"");
    web_esc(w, id ? id : "");
    web_raw(w, "\"></label> <button type=\"submit\">Filter</button></form>\n");
}

static void event_row(web_page *w, const kept *k)
{
    char when[32], base[32];
    ws_time_format(k->time_ms / 1000, base, sizeof base);
    base[strlen(base) - 1] = '\0';
    snprintf(when, sizeof when, "%s.%03dZ", base, (int)(k->time_ms % 1000));
    web_raw(w, "<tr class=\"event level-");
    web_esc(w, k->level);
    web_raw(w, "\" data-id=\"%d\" data-level=\"", k->event_id);
    web_esc(w, k->level);
    web_raw(w, "\"><td class=\"nowrap\">%s</td><td><span class=\"lvl\">", when);
    web_esc(w, k->level);
    web_raw(w, "</span></td><td>%d</td><td>", k->event_id);
    web_esc(w, k->source);
    web_raw(w, "</td><td class=\"channel\">");
    web_esc(w, k->channel);
    /* A trace block (and any text of several lines) keeps its lines. */
    web_raw(w, "</td><td class=\"text\">%s", strchr(k->text, '\n') ? "<pre>" : "");
    web_esc(w, k->text);
    web_raw(w, "%s</td></tr>\n", strchr(k->text, '\n') ? "</pre>" : "");
}

/* Level: Information, Warning or Error (any case); id: 0..65535. NULL, or the notice. */
static const char *check_filters(const char *level, const char *id, collect *c, char *notice, size_t n)
{
    static const char *const levels[] = {WS_LEVEL_INFO, WS_LEVEL_WARNING, WS_LEVEL_ERROR};
    c->level = NULL;
    c->event_id = -1;
    if (level && *level) {
        for (size_t i = 0; i < 3; i++)
            if (strcasecmp(level, levels[i]) == 0)
                c->level = levels[i];
        if (!c->level) {
            snprintf(notice, n, "Unknown level '%.40s': use Information, Warning or Error.", level);
            return notice;
        }
    }
    if (id && *id) {
        char *end;
        errno = 0;
        long v = strtol(id, &end, 10);
        if (errno || *end || end == id || v < 0 || v > 65535) {
            snprintf(notice, n, "Bad event ID '%.40s': a number from 0 to 65535.", id);
            return notice;
        }
        c->event_id = (int)v;
    }
    return NULL;
}

enum MHD_Result admin_events(const admin_req *a)
{
    admin_view v = {.st = a->rq->st, .base = "/events", .tab = "Machines"};
    return admin_events_view(a, &v);
}

enum MHD_Result admin_events_view(const admin_req *a, const admin_view *v)
{
    ws_state *st = v->st;
    const char *machine = ws_httpd_arg(a->rq, "machine"), *level = ws_httpd_arg(a->rq, "level"),
               *id = ws_httpd_arg(a->rq, "id");
    char notice[200];
    const char *bad = NULL;
    collect *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    if (!machine || !*machine)
        machine = "portal";
    if (!ws_machine_exists(st, machine)) {
        snprintf(notice, sizeof notice, "No machine '%.64s' in this lab.", machine);
        bad = notice;
    } else {
        bad = check_filters(level, id, c, notice, sizeof notice);
    }
    web_page w;
    web_init(&w);
    char title[128];
    snprintf(title, sizeof title, "%.16s%sEvent Viewer%s%.64s", v->label ? v->label : "", v->label ? ": " : "",
             ws_machine_exists(st, machine) ? ": " : "", ws_machine_exists(st, machine) ? machine : "");
    admin_begin(&w, a, title, v->tab);
    filters(&w, st, v->base, machine, level, id);
    ws_error e;
    if (bad) {
        web_raw(&w, "<p class=\"notice\" role=\"alert\">");
        web_esc(&w, bad);
        web_raw(&w, "</p>\n");
    } else {
        ws_event_filter f = {.machine = machine};
        if (ws_event_foreach(st, &f, keep, c, &e) != 0) {
            web_raw(&w, "<p class=\"notice\" role=\"alert\">The event log cannot be read: ");
            web_esc(&w, e.msg);
            web_raw(&w, "</p>\n");
        }
        long shown = c->seen < EVENTS_SHOWN ? c->seen : EVENTS_SHOWN;
        web_raw(&w, "<p class=\"hint\">%ld of %ld matching records, newest first (times on the machine's lab clock). "
                    "The same records as <code>wapsim ", shown, c->seen);
        if (v->label) { /* another lab's (a classroom seat's): the command names it */
            web_raw(&w, "--lab ");
            web_esc(&w, st->lab_dir);
            web_raw(&w, " ");
        }
        web_raw(&w, "logs --machine ");
        web_esc(&w, machine);
        web_raw(&w, "</code>.</p>\n<table class=\"grid events\"><thead><tr><th>Date and Time</th><th>Level</th>"
                    "<th>Event ID</th><th>Source</th><th>Log</th><th>General</th></tr></thead><tbody>\n");
        for (long i = 0; i < shown; i++)
            event_row(&w, &c->ring[(c->seen - 1 - i) % EVENTS_SHOWN]);
        if (shown == 0)
            web_raw(&w, "<tr><td colspan=\"6\">No records match.</td></tr>\n");
        web_raw(&w, "</tbody></table>\n");
    }
    for (int i = 0; i < EVENTS_SHOWN; i++)
        drop(&c->ring[i]);
    free(c);
    admin_end(&w, a);
    return web_send(a->rq, bad ? 400 : 200, &w, NULL);
}
