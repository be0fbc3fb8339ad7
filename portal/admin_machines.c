/* SPDX-License-Identifier: Apache-2.0 */
/* admin_machines: the lab's machines and their services (admin.h), as WAP's admin site
 * and services.msc show them: status from ws_lab_status (svc/supervisor.h), and
 * Start/Stop/Restart as `wapsim service ACTION MACHINE` run on the lab (admin_run), so
 * a restart from the browser writes the same events as one typed in a shell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "lab/machine.h"
#include "svc/supervisor.h"

/* The service command waits for the process to be healthy; the page waits a little longer. */
#define SERVICE_DEADLINE_S 70

static const char *const actions[] = {"start", "stop", "restart"};

typedef struct rows {
    web_page *w;
    const admin_req *a;
    ws_proc_status *ps;
    int np;
} rows;

static const ws_proc_status *status_of(const rows *r, const char *machine)
{
    for (int i = 0; i < r->np; i++)
        if (strcmp(r->ps[i].machine, machine) == 0)
            return &r->ps[i];
    return NULL;
}

static void service_buttons(web_page *w, const admin_req *a, const char *machine)
{
    web_raw(w, "<td class=\"actions\">");
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        admin_form(w, a, "/machines/service");
        web_raw(w, "<input type=\"hidden\" name=\"machine\" value=\"");
        web_esc(w, machine);
        web_raw(w, "\"><button type=\"submit\" name=\"action\" value=\"%s\" class=\"cmd %s\">%c%s</button></form>",
                actions[i], actions[i], actions[i][0] - 32, actions[i] + 1);
    }
    web_raw(w, "</td>");
}

static int row(const ws_machine *m, void *arg)
{
    rows *r = arg;
    web_page *w = r->w;
    const ws_role *role = ws_role_find(m->role);
    const ws_proc_status *p = status_of(r, m->name);
    const char *state = !p ? "none" : p->pid == 0 || p->stopped ? "stopped" : p->healthy ? "running" : "unhealthy";
    web_raw(w, "<tr class=\"machine-row\" data-machine=\"");
    web_esc(w, m->name);
    web_raw(w, "\" data-state=\"%s\"><td><strong>", state);
    web_esc(w, m->name);
    web_raw(w, "</strong><div class=\"sub\">");
    web_esc(w, m->fqdn);
    web_raw(w, "</div>");
    if (strcmp(m->role, "portal") == 0)
        web_raw(w, "<div class=\"note\">This site runs on this machine: stopping it stops this site.</div>");
    web_raw(w, "</td><td>");
    web_esc(w, m->role);
    web_raw(w, "</td><td>");
    if (role && role->program) {
        web_esc(w, role->service_name);
        web_raw(w, "<div class=\"sub\">%s</div>", role->program);
    } else {
        web_raw(w, "<span class=\"sub\">no service</span>");
    }
    web_raw(w, "</td><td>");
    web_esc(w, m->address);
    if (m->port)
        web_raw(w, ":%d", m->port);
    if (p)
        web_raw(w, "</td><td>%ld</td><td><span class=\"badge %s\">%s</span></td><td>%d</td><td>%s</td>",
                (long)p->pid, state, p->pid == 0 ? "stopped" : p->healthy ? "healthy" : "unhealthy", p->restarts,
                p->stopped ? "yes" : "no");
    else
        web_raw(w, "</td><td>-</td><td>-</td><td>-</td><td>-</td>");
    if (p)
        service_buttons(w, r->a, m->name);
    else
        web_raw(w, "<td></td>");
    web_raw(w, "<td class=\"links\"><a href=\"/events?machine=");
    web_esc(w, m->name);
    web_raw(w, "\">Events</a> <a href=\"/certs?machine=");
    web_esc(w, m->name);
    web_raw(w, "\">Certificates</a></td></tr>\n");
    return 0;
}

static enum MHD_Result page(const admin_req *a, unsigned status, const admin_outcome *o, const char *notice)
{
    web_page w;
    web_init(&w);
    admin_begin(&w, a, "Machines", "Machines");
    if (notice) {
        web_raw(&w, "<p class=\"notice\" role=\"alert\">");
        web_esc(&w, notice);
        web_raw(&w, "</p>\n");
    }
    if (o)
        admin_outcome_html(&w, o);
    rows r = {.w = &w, .a = a};
    ws_error e;
    if (ws_lab_status(a->rq->st, &r.ps, &r.np, &e) != 0)
        r.np = 0;
    web_raw(&w, "<table class=\"grid machines\"><thead><tr><th>Machine</th><th>Role</th><th>Service</th>"
                "<th>Address</th><th>PID</th><th>Health</th><th>Restarts</th><th>Stopped by operator</th>"
                "<th>Actions</th><th></th></tr></thead><tbody>\n");
    ws_machine_foreach(a->rq->st, row, &r, &e);
    web_raw(&w, "</tbody></table>\n<p class=\"hint\">Each button runs <code>wapsim service ACTION MACHINE</code> "
                "on the lab, as an operator would in a shell (Restart-Service).</p>\n");
    free(r.ps);
    admin_end(&w, a);
    return web_send(a->rq, status, &w, NULL);
}

/* POST /machines/service: machine and action checked against the lab before anything runs. */
static enum MHD_Result service(const admin_req *a)
{
    char machine[64], action[16], notice[200];
    if (web_field(a->rq, "machine", machine, sizeof machine) != 0 ||
        web_field(a->rq, "action", action, sizeof action) != 0)
        return page(a, 400, NULL, "Give a machine and an action (start, stop or restart).");
    int known = 0;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        known |= strcmp(action, actions[i]) == 0;
    ws_machine m;
    ws_error e;
    const ws_role *role = ws_machine_get(a->rq->st, machine, &m, &e) == 0 ? ws_role_find(m.role) : NULL;
    if (!known || !role || !role->program) {
        snprintf(notice, sizeof notice, known ? "No machine '%.64s' runs a service in this lab." :
                                                "Unknown action '%.16s' (start, stop or restart).",
                 known ? machine : action);
        return page(a, 400, NULL, notice);
    }
    const char *args[] = {"service", action, machine, NULL};
    admin_outcome o;
    admin_run(a->rq, args, SERVICE_DEADLINE_S, &o);
    enum MHD_Result r = page(a, 200, &o, NULL);
    admin_outcome_free(&o);
    return r;
}

enum MHD_Result admin_machines(const admin_req *a)
{
    if (strcmp(a->rq->method, "POST") == 0) {
        if (strcmp(a->path, "/machines/service") == 0)
            return service(a);
        return ws_httpd_reply(a->rq->conn, 404, "text/plain", "no such page\n", 13);
    }
    if (strcmp(a->path, "/machines") != 0)
        return ws_httpd_reply(a->rq->conn, 404, "text/plain", "no such page\n", 13);
    return page(a, 200, NULL, NULL);
}
