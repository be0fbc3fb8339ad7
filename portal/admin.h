/* SPDX-License-Identifier: Apache-2.0 */
/* admin: the admin site's parts (admin_site.c routes each request to one):
 *   admin_topology.c  the chain as an SVG, each hop of the newest connects green or red
 *   admin_machines.c  machines and their services; admin_events.c the event viewer;
 *   admin_certs.c     certificate stores
 *   admin_settings.c  the settings as the real consoles name them, and Diagnose
 *   admin_run.c       a change: the wapsim command an operator would type, run on the lab
 *   admin_exercise.c  the exercise in progress (every administrator, e.g. a trainee)
 *   admin_classroom.c the trainer's page: every seat of the classroom this lab is a seat of
 * Every change the site makes is a wapsim command run on the lab (admin_run), so it has
 * the command's validation and events and is indistinguishable from one typed in a shell
 * [model: WAP's admin site calls the same service management API as the PowerShell
 * cmdlets]; the page shows the command it ran and what it printed, as a lesson. Reads
 * (status, events, stores, the connects) come from the state file directly. */
#ifndef WAPSIM_PORTAL_ADMIN_H
#define WAPSIM_PORTAL_ADMIN_H

#include "svc/httpd.h"
#include "web.h"

/* A signed-in administrator's request. */
typedef struct admin_req {
    ws_httpd_req *rq;
    const char *user;
    const char *csrf; /* the session's anti-forgery token: every form carries it */
    const char *path; /* rq->url without its query */
    int trainer;      /* user is the trainer of the classroom this lab is a seat of */
} admin_req;

/* The page around every admin page: title, the navigation (Topology, Machines, Settings,
 * Diagnose, Exercise, and Classroom for the classroom's trainer; tab is the current one),
 * the signed-in user and sign-out. */
void admin_begin(web_page *w, const admin_req *a, const char *title, const char *tab);
void admin_end(web_page *w, const admin_req *a);
/* A form's opening tag with its anti-forgery field: <form method="post" action="action">. */
void admin_form(web_page *w, const admin_req *a, const char *action);

/* The outcome of a change, shown at the top of the page it returns to. */
typedef struct admin_outcome {
    char *command; /* the command line as an operator would type it */
    char *output;  /* what it printed (standard output and error) */
    int status;    /* its exit status; -1: it could not run */
} admin_outcome;
/* Run `wapsim --lab <this lab> args...` (args NULL-terminated, without "wapsim") with a
 * deadline of timeout_s, collecting its output (at most 256 KiB). 0 when it ran (its exit
 * status in out->status), -1 when it could not start. out: free with admin_outcome_free. */
int admin_run(ws_httpd_req *rq, const char *const *args, int timeout_s, admin_outcome *out);
/* The same for a command that names its own folder (`wapsim classroom ... DIR`): lab NULL
 * runs it without --lab. Needs no request, so a thread of the site's own may run it. */
int admin_run_in(const char *lab, const char *const *args, int timeout_s, admin_outcome *out);
void admin_outcome_free(admin_outcome *o);
/* The outcome as a box: the command, ok or failed, the output. */
void admin_outcome_html(web_page *w, const admin_outcome *o);

/* Pages. A GET returns the page; a POST makes its change and returns the page with the
 * outcome. Each returns MHD_NO only on an internal failure. */
enum MHD_Result admin_topology(const admin_req *a);     /* GET / and /topology */
enum MHD_Result admin_topology_svg(const admin_req *a); /* GET /topology.svg: the picture alone (polled) */
enum MHD_Result admin_machines(const admin_req *a);     /* GET /machines, POST /machines/service */
enum MHD_Result admin_events(const admin_req *a);       /* GET /events?machine=&level=&id= */
enum MHD_Result admin_certs(const admin_req *a);        /* GET /certs?machine=&store=, POST /certs/import|remove */
enum MHD_Result admin_settings(const admin_req *a);     /* GET /settings, POST /settings/... */
enum MHD_Result admin_diagnose(const admin_req *a);     /* GET /diagnose, POST /diagnose/fix */
enum MHD_Result admin_exercise(const admin_req *a);     /* GET /exercise, POST /exercise/check|hint|give-up */
enum MHD_Result admin_classroom(const admin_req *a);    /* GET /classroom..., POST /classroom/reset|assign */

/* A lab's event viewer and topology drawn from st: this lab's (admin_events,
 * admin_topology), or a classroom seat's opened read-only (admin_classroom.c). base is
 * the page's own path, which its links, filter form and polled picture hang off
 * ("/events", "/classroom/seat07/events"); label (NULL: none) heads the title. */
typedef struct admin_view {
    ws_state *st;
    const char *base;
    const char *label;
    const char *tab; /* the navigation's current tab */
} admin_view;
enum MHD_Result admin_events_view(const admin_req *a, const admin_view *v);
enum MHD_Result admin_topology_view(const admin_req *a, const admin_view *v);
enum MHD_Result admin_topology_svg_of(const admin_req *a, ws_state *st);

#endif
