/* SPDX-License-Identifier: Apache-2.0 */
/* admin_settings: the Settings page (admin.h), the settings as the real consoles name
 * them, each group a form whose post runs the wapsim command an operator would type:
 *   form#cloud-rdgateway               WAP admin portal, VM Clouds -> Clouds -> the VMM server -> Edit:
 *                                      "Remote Desktop Gateway FQDN"   (wapsim cloud set)
 *   form#vmm-console                   Set-SCVMMServer -VMConnect*     (wapsim vmm set)
 *   form#gateway-ssl-M                 RD Gateway Manager -> Properties -> SSL Certificate
 *                                      (wapsim gateway set --machine M --ssl-cert)
 *   form#gateway-trusted-issuers-M     FedAuthSettings.TrustedIssuerCertificates
 *                                      (wapsim gateway set --machine M --add/--remove-trusted-issuer)
 * Current values are read from the state file; validation is the command's alone (a bad
 * value is its one-line error and exit 2, and nothing changes). A field is only ever an
 * option's value: argv arrays, no shell, and a value starting with '-' is refused here,
 * so no field can become an option. Diagnose is admin_diagnose.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_settings.h"
#include "base/util.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "lab/vault.h"

const char admin_settings_css[] =
    /* Settings: one panel per console, each setting a labelled row. */
    ".settings-group{border:1px solid #c8cdd3;background:#fff;margin:0 0 1.2em;max-width:64em}\n"
    ".settings-group>h2{margin:0;padding:.5em .8em;font-size:1.05em;font-weight:600;background:#eef1f4;"
    "border-bottom:1px solid #c8cdd3}\n"
    ".settings-group .where{margin:.5em .8em 0;color:#5a6470;font-size:.9em}\n"
    ".settings-group form{padding:.6em .8em .8em;border-top:1px dashed #dde1e5}\n"
    ".settings-group form:first-of-type{border-top:0}\n"
    ".settings-group h3{margin:.2em 0 .5em;font-size:.95em;font-weight:600}\n"
    ".setting{display:flex;align-items:center;margin:.35em 0}\n"
    ".setting label{flex:0 0 23.5em;color:#2b333b}\n"
    ".setting input,.setting select{flex:0 1 26em;margin-right:.6em;padding:.25em .4em;"
    "border:1px solid #9aa4ae;font:inherit}\n"
    ".setting .current{margin-left:.8em;color:#5a6470;font-size:.85em}\n"
    ".settings-group .note{color:#5a6470;font-size:.85em;margin:.4em 0}\n"
    ".settings-group button,.diagnose-again,.finding button.fix{background:#0072c6;color:#fff;border:0;"
    "padding:.35em 1.1em;font:inherit;cursor:pointer}\n"
    ".settings-group button.remove{background:#fff;color:#a4262c;border:1px solid #a4262c;padding:.15em .7em}\n"
    "table.issuers{border-collapse:collapse;margin:.5em 0;min-width:40em}\n"
    "table.issuers th,table.issuers td{text-align:left;padding:.25em .6em;border-bottom:1px solid #e3e6e9}\n"
    "table.issuers td.tp{font-family:Consolas,monospace;font-size:.9em}\n"
    /* The outcome box of a change (admin_outcome_html). */
    "section.outcome{border-left:6px solid #107c10;background:#f1f8f1;padding:.4em .9em;margin:0 0 1.2em;"
    "max-width:64em}\n"
    "section.outcome.failed{border-left-color:#a4262c;background:#fbf0f0}\n"
    "section.outcome h2{margin:.2em 0;font-size:1em}\n"
    "section.outcome pre{white-space:pre-wrap;margin:.3em 0;font-family:Consolas,monospace;font-size:.88em}\n"
    "section.outcome pre.command{color:#2b333b;font-weight:600}\n"
    /* Diagnose: each finding a card, red for an error, amber for a warning. */
    ".diagnose-bar{display:flex;align-items:center;gap:1.2em;margin:0 0 1em}\n"
    ".diagnose-again{text-decoration:none;display:inline-block;white-space:nowrap;flex:none}\n"
    ".diagnose-summary{color:#2b333b}\n"
    "section.finding{border:1px solid #c8cdd3;border-left:6px solid #a4262c;background:#fff;padding:.4em .9em;"
    "margin:0 0 1em;max-width:64em}\n"
    "section.finding.warning{border-left-color:#d08000}\n"
    "section.finding h2{font-size:1em;margin:.3em 0}\n"
    "section.finding .severity{display:inline-block;min-width:5.5em;font-weight:700;color:#a4262c}\n"
    "section.finding.warning .severity{color:#a86800}\n"
    "section.finding .machine{color:#5a6470;font-weight:400}\n"
    "section.finding .evidence{color:#3b444d;font-size:.92em}\n"
    "section.finding ol.fixes{padding-left:1.4em}\n"
    "section.finding ol.fixes li{margin:.3em 0}\n"
    "section.finding ol.fixes code{font-family:Consolas,monospace;font-size:.88em;white-space:pre-wrap}\n"
    "section.finding ol.fixes form{display:flex;align-items:center;gap:.8em}\n"
    "section.finding button.fix{padding:.15em .8em}\n"
    ".no-findings{border-left:6px solid #107c10;background:#f1f8f1;padding:.6em .9em;max-width:64em}\n";

#define VALUE_MAX 256 /* any one field: a name, an FQDN, a thumbprint, a number */

/* ------------------------------------------------------------------ reading the lab */

typedef struct name_list {
    ws_strv names;
    int need_key;
} name_list;

static int collect_name(const ws_store_entry *e, void *arg)
{
    name_list *l = arg;
    if (l->need_key && !e->has_private_key)
        return 0;
    if (!ws_strv_has(&l->names, e->cert_name) && ws_strv_add(&l->names, e->cert_name) != 0)
        abort();
    return 0;
}

/* The names of the lab's certificates (machine NULL: the whole vault), or of those in
 * machine's LocalMachine\My with their private key (what RD Gateway Manager lists). */
static void cert_names(ws_state *st, const char *machine, ws_strv *out)
{
    name_list l = {.need_key = machine != NULL};
    ws_error e;
    ws_store_foreach(st, machine, machine ? "My" : NULL, collect_name, &l, &e);
    *out = l.names;
}

typedef struct machine_list {
    ws_machine m[16];
    int n;
    const char *role;
} machine_list;

static int collect_machine(const ws_machine *m, void *arg)
{
    machine_list *l = arg;
    if (strcmp(m->role, l->role) == 0 && l->n < (int)(sizeof l->m / sizeof l->m[0]))
        l->m[l->n++] = *m;
    return 0;
}

static void current(ws_state *st, const char *scope, const char *key, char *out, size_t n)
{
    if (ws_setting_get(st, scope, key, out, n) != 0)
        out[0] = '\0';
}

/* ------------------------------------------------------------------ the page */

void settings_form(web_page *w, const admin_req *a, const char *id, const char *action)
{
    web_raw(w, "<form id=\"");
    web_esc(w, id);
    web_raw(w, "\" method=\"post\" action=\"");
    web_esc(w, action);
    web_raw(w, "\"><input type=\"hidden\" name=\"" CSRF_FIELD "\" value=\"%s\">", a->csrf);
}

void settings_refused(admin_outcome *o, const char *command, const char *why)
{
    memset(o, 0, sizeof *o);
    o->command = ws_strdup(command);
    o->output = ws_printf("The admin site did not run it: %s\n", why);
    o->status = 2;
}

/* A select of certificate names, each shown with its thumbprint (certlm.msc's two columns). */
static void cert_select(web_page *w, ws_state *st, const char *id, const char *name, const ws_strv *names,
                        const char *cur)
{
    web_raw(w, "<select id=\"");
    web_esc(w, id);
    web_raw(w, "\" name=\"%s\">", name);
    if (!cur[0] || !ws_strv_has(names, cur)) {
        web_raw(w, "<option value=\"\"%s>(", cur[0] ? "" : " selected");
        web_esc(w, cur[0] ? cur : "not set");
        web_raw(w, ")</option>");
    }
    for (int i = 0; i < names->n; i++) {
        char tp[41] = "";
        ws_vault_thumbprint(st, names->v[i], tp);
        web_raw(w, "<option value=\"");
        web_esc(w, names->v[i]);
        web_raw(w, "\"%s>", strcmp(names->v[i], cur) == 0 ? " selected" : "");
        web_esc(w, names->v[i]);
        web_raw(w, " (%s)</option>", tp);
    }
    web_raw(w, "</select>");
}

/* One labelled row; label is the real parameter's or field's name. */
static void row_begin(web_page *w, const char *id, const char *label)
{
    web_raw(w, "<p class=\"setting\"><label for=\"");
    web_esc(w, id);
    web_raw(w, "\">");
    web_esc(w, label);
    web_raw(w, "</label>");
}

static void text_row(web_page *w, const char *id, const char *label, const char *value)
{
    row_begin(w, id, label);
    web_raw(w, "<input id=\"%s\" name=\"%s\" maxlength=\"%d\" value=\"", id, id, VALUE_MAX - 1);
    web_esc(w, value);
    web_raw(w, "\"></p>");
}

static void cloud_group(web_page *w, const admin_req *a, ws_state *st)
{
    char fqdn[256];
    current(st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, fqdn, sizeof fqdn);
    web_raw(w, "<section class=\"settings-group\"><h2>VM Clouds</h2><p class=\"where\">WAP admin portal: VM Clouds "
               "&rarr; Clouds &rarr; the VMM server &rarr; Edit (wapsim cloud set)</p>");
    settings_form(w, a, "cloud-rdgateway", "/settings/cloud-rdgateway");
    text_row(w, "rd_gateway_fqdn", "Remote Desktop Gateway FQDN", fqdn);
    web_raw(w, "<p class=\"note\">New .rdp files name it as gatewayhostname; the gateway's certificate must match "
               "it.</p><p><button type=\"submit\">Save</button></p></form></section>\n");
}

static void vmm_group(web_page *w, const admin_req *a, ws_state *st)
{
    ws_machine vmm;
    ws_error e;
    if (ws_machine_by_role(st, "vmm", &vmm, &e) != 0)
        return;
    char gw[128], hv[128], mode[32], ttl[16], port[16];
    current(st, vmm.name, WS_SET_VMM_GATEWAY_CERT, gw, sizeof gw);
    current(st, vmm.name, WS_SET_VMM_HYPERV_CERT, hv, sizeof hv);
    current(st, vmm.name, WS_SET_VMM_HOST_ID_MODE, mode, sizeof mode);
    current(st, vmm.name, WS_SET_VMM_TTL_MINUTES, ttl, sizeof ttl);
    current(st, vmm.name, WS_SET_VMM_DEFAULT_PORT, port, sizeof port);
    ws_strv names;
    cert_names(st, NULL, &names);
    web_raw(w, "<section class=\"settings-group\"><h2>Virtual Machine Manager: ");
    web_esc(w, vmm.name);
    web_raw(w, "</h2><p class=\"where\">Set-SCVMMServer -VMConnect* (wapsim vmm set)</p>");
    settings_form(w, a, "vmm-console", "/settings/vmm-console");
    row_begin(w, "gateway_cert", "VMConnectGatewayCertificatePath");
    cert_select(w, st, "gateway_cert", "gateway_cert", &names, gw);
    web_raw(w, "</p>");
    row_begin(w, "hyperv_cert", "VMConnectHyperVCertificatePath");
    cert_select(w, st, "hyperv_cert", "hyperv_cert", &names, hv);
    web_raw(w, "</p>");
    text_row(w, "ttl_minutes", "VMConnectTimeToLiveInMinutes", ttl);
    row_begin(w, "host_id_mode", "VMConnectHostIdentificationMode");
    static const char *const modes[] = {"FQDN", "IPv4", "IPv6", "HostName"};
    web_raw(w, "<select id=\"host_id_mode\" name=\"host_id_mode\">");
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        web_raw(w, "<option%s>%s</option>", strcmp(modes[i], mode) == 0 ? " selected" : "", modes[i]);
    web_raw(w, "</select></p>");
    text_row(w, "default_port", "VMConnectDefaultPort", port);
    web_raw(w, "<p class=\"note\">The gateway certificate signs the HostToken and the .rdp file, the Hyper-V "
               "certificate the VMToken; VMM needs each one's private key. Changing a certificate reconfigures "
               "neither the hosts (Read-SCVMHost: wapsim vmm refresh-host) nor the RD Gateway's trusted issuers "
               "(below). The real parameters take a .pfx file and its password; here a certificate of the lab, by "
               "name [model]. Only the values you change are passed.</p><p><button type=\"submit\">Save</button></p>"
               "</form></section>\n");
    ws_strv_free(&names);
}

static void gateway_ssl_form(web_page *w, const admin_req *a, ws_state *st, const ws_machine *gw)
{
    char id[128], bound[128];
    ws_strv names;
    current(st, gw->name, WS_SET_SSL_CERT, bound, sizeof bound);
    cert_names(st, gw->name, &names);
    snprintf(id, sizeof id, "gateway-ssl-%s", gw->name);
    settings_form(w, a, id, "/settings/gateway-ssl");
    web_raw(w, "<h3>RD Gateway Manager &rarr; Properties &rarr; SSL Certificate</h3><input type=\"hidden\" "
               "name=\"machine\" value=\"");
    web_esc(w, gw->name);
    web_raw(w, "\">");
    snprintf(id, sizeof id, "ssl_cert-%s", gw->name);
    row_begin(w, id, "Certificate (LocalMachine\\My, with its private key)");
    cert_select(w, st, id, "ssl_cert", &names, bound);
    web_raw(w, "</p><p class=\"note\">The gateway binds its certificate when its service starts: a new one takes "
               "effect after a restart of the service (wapsim service restart ");
    web_esc(w, gw->name);
    web_raw(w, ", or Machines).</p><p><button type=\"submit\">Save</button></p></form>");
    ws_strv_free(&names);
}

static void issuer_rows(web_page *w, ws_state *st, const ws_strv *tps)
{
    web_raw(w, "<table class=\"issuers\"><thead><tr><th>Thumbprint</th><th>Certificate</th><th></th></tr></thead>"
               "<tbody>");
    for (int i = 0; i < tps->n; i++) {
        char name[128] = "";
        ws_error e;
        if (ws_vault_name_by_thumbprint(st, tps->v[i], name, sizeof name, &e) != 0)
            snprintf(name, sizeof name, "(no certificate in the lab has it)");
        web_raw(w, "<tr class=\"issuer\" data-thumbprint=\"");
        web_esc(w, tps->v[i]);
        web_raw(w, "\"><td class=\"tp\">");
        web_esc(w, tps->v[i]);
        web_raw(w, "</td><td>");
        web_esc(w, name);
        web_raw(w, "</td><td><button type=\"submit\" class=\"remove\" name=\"remove\" value=\"");
        web_esc(w, tps->v[i]);
        web_raw(w, "\">Remove</button></td></tr>");
    }
    if (tps->n == 0)
        web_raw(w, "<tr><td colspan=\"3\">(none: the FedAuth plug-in admits no HostToken)</td></tr>");
    web_raw(w, "</tbody></table>");
}

static void gateway_issuers_form(web_page *w, const admin_req *a, ws_state *st, const ws_machine *gw)
{
    char id[128];
    ws_strv tps = {0};
    ws_error e;
    snprintf(id, sizeof id, "gateway-trusted-issuers-%s", gw->name);
    settings_form(w, a, id, "/settings/gateway-trusted-issuers");
    web_raw(w, "<h3>FedAuthSettings.TrustedIssuerCertificates</h3><input type=\"hidden\" name=\"machine\" value=\"");
    web_esc(w, gw->name);
    web_raw(w, "\">");
    /* The Add row comes first: Enter in its field submits with the form's first button. */
    snprintf(id, sizeof id, "add-%s", gw->name);
    row_begin(w, id, "Add (a thumbprint or a lab certificate's name)");
    web_raw(w, "<input id=\"");
    web_esc(w, id);
    web_raw(w, "\" name=\"add\" maxlength=\"%d\"> <button type=\"submit\" name=\"op\" value=\"add\" "
               "class=\"add\">Add</button></p>",
            VALUE_MAX - 1);
    if (ws_trusted_issuer_list(st, gw->name, &tps, &e) != 0) {
        web_raw(w, "<p class=\"note\">");
        web_esc(w, e.msg);
        web_raw(w, "</p>");
    } else {
        issuer_rows(w, st, &tps);
    }
    web_raw(w, "<p class=\"note\">The FedAuth plug-in admits a HostToken only when it is signed by one of these "
               "(VMConnectGatewayCertificate's thumbprint); it reads the list at each connection.</p></form>");
    ws_strv_free(&tps);
}

static void gateway_groups(web_page *w, const admin_req *a, ws_state *st)
{
    machine_list l = {.role = "gateway"};
    ws_error e;
    ws_machine_foreach(st, collect_machine, &l, &e);
    for (int i = 0; i < l.n; i++) {
        web_raw(w, "<section class=\"settings-group\" data-machine=\"");
        web_esc(w, l.m[i].name);
        web_raw(w, "\"><h2>Remote Desktop Gateway: ");
        web_esc(w, l.m[i].name);
        web_raw(w, "</h2><p class=\"where\">wapsim gateway set --machine ");
        web_esc(w, l.m[i].name);
        web_raw(w, "</p>");
        gateway_ssl_form(w, a, st, &l.m[i]);
        gateway_issuers_form(w, a, st, &l.m[i]);
        web_raw(w, "</section>\n");
    }
}

static enum MHD_Result settings_page(const admin_req *a, const admin_outcome *o)
{
    web_page w;
    web_init(&w);
    admin_begin(&w, a, "Settings", "Settings");
    if (o)
        admin_outcome_html(&w, o);
    web_raw(&w, "<p class=\"lead\">Each change runs the wapsim command an operator would type; the box at the top "
                "shows it and what it printed.</p>\n");
    cloud_group(&w, a, a->rq->st);
    vmm_group(&w, a, a->rq->st);
    gateway_groups(&w, a, a->rq->st);
    admin_end(&w, a);
    return web_send(a->rq, 200, &w, NULL);
}

/* ------------------------------------------------------------------ changes */

/* A change being built: argv for admin_run and the fields' fixed buffers. */
typedef struct change {
    const char *args[16];
    int n;
    char val[6][VALUE_MAX];
    int nval;
    char why[VALUE_MAX + 128]; /* set when refused */
} change;

static void arg(change *c, const char *s)
{
    if (c->n < (int)(sizeof c->args / sizeof c->args[0]) - 1)
        c->args[c->n++] = s;
    c->args[c->n] = NULL;
}

/* A posted field into one of c's buffers: the buffer ("" when the field is empty), or
 * NULL with c->why set: missing, longer than VALUE_MAX - 1, badly escaped, or starting
 * with '-' (it would become an option). */
static const char *field(const admin_req *a, change *c, const char *name)
{
    char *v = c->val[c->nval];
    if (c->why[0])
        return NULL;
    if (c->nval == (int)(sizeof c->val / sizeof c->val[0]) || web_field(a->rq, name, v, VALUE_MAX) != 0) {
        snprintf(c->why, sizeof c->why, "the form's field '%s' is missing or longer than %d characters", name,
                 VALUE_MAX - 1);
        return NULL;
    }
    c->nval++;
    if (v[0] == '-') {
        snprintf(c->why, sizeof c->why, "'%s' in field '%s' starts with '-': a field is a value, never an option",
                 v, name);
        return NULL;
    }
    return v;
}

static void cloud_change(const admin_req *a, change *c)
{
    const char *fqdn = field(a, c, "rd_gateway_fqdn");
    arg(c, "cloud"), arg(c, "set"), arg(c, "--rd-gateway-fqdn"), arg(c, fqdn ? fqdn : "");
}

/* Only what differs from the current value is passed (each one logs in event 12020). */
static void vmm_change(const admin_req *a, change *c)
{
    static const struct {
        const char *field, *key, *option;
    } f[] = {{"gateway_cert", WS_SET_VMM_GATEWAY_CERT, "--gateway-cert"},
             {"hyperv_cert", WS_SET_VMM_HYPERV_CERT, "--hyperv-cert"},
             {"host_id_mode", WS_SET_VMM_HOST_ID_MODE, "--host-id-mode"},
             {"ttl_minutes", WS_SET_VMM_TTL_MINUTES, "--ttl-minutes"},
             {"default_port", WS_SET_VMM_DEFAULT_PORT, "--default-port"}};
    ws_machine vmm;
    ws_error e;
    arg(c, "vmm"), arg(c, "set");
    int have_vmm = ws_machine_by_role(a->rq->st, "vmm", &vmm, &e) == 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char cur[VALUE_MAX];
        const char *v = field(a, c, f[i].field);
        if (!v)
            return;
        if (have_vmm)
            current(a->rq->st, vmm.name, f[i].key, cur, sizeof cur);
        if (v[0] && (!have_vmm || strcmp(v, cur) != 0))
            arg(c, f[i].option), arg(c, v);
    }
}

static void gateway_ssl_change(const admin_req *a, change *c)
{
    const char *m = field(a, c, "machine"), *cert = field(a, c, "ssl_cert");
    arg(c, "gateway"), arg(c, "set"), arg(c, "--machine"), arg(c, m ? m : "");
    arg(c, "--ssl-cert"), arg(c, cert ? cert : "");
}

/* A Remove button posts remove=THUMBPRINT; the Add button, or Enter in the Add field
 * (the form's first button), posts add=X. */
static void gateway_issuers_change(const admin_req *a, change *c)
{
    char probe[VALUE_MAX];
    const char *m = field(a, c, "machine");
    int remove = web_field(a->rq, "remove", probe, sizeof probe) == 0;
    const char *v = field(a, c, remove ? "remove" : "add");
    arg(c, "gateway"), arg(c, "set"), arg(c, "--machine"), arg(c, m ? m : "");
    arg(c, remove ? "--remove-trusted-issuer" : "--add-trusted-issuer"), arg(c, v ? v : "");
}

static const struct {
    const char *path;
    void (*build)(const admin_req *a, change *c);
} changes[] = {
    {"/settings/cloud-rdgateway", cloud_change},
    {"/settings/vmm-console", vmm_change},
    {"/settings/gateway-ssl", gateway_ssl_change},
    {"/settings/gateway-trusted-issuers", gateway_issuers_change},
};

static enum MHD_Result settings_post(const admin_req *a)
{
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        if (strcmp(a->path, changes[i].path) != 0)
            continue;
        change c;
        memset(&c, 0, sizeof c);
        changes[i].build(a, &c);
        admin_outcome o;
        if (c.why[0]) {
            char *line = ws_printf("wapsim %s %s ...", c.args[0] ? c.args[0] : "", c.args[1] ? c.args[1] : "");
            settings_refused(&o, line, c.why);
            free(line);
        } else {
            admin_run(a->rq, c.args, SETTINGS_RUN_TIMEOUT_S, &o);
        }
        enum MHD_Result r = settings_page(a, &o);
        admin_outcome_free(&o);
        return r;
    }
    return ws_httpd_reply(a->rq->conn, 404, "text/plain", "no such setting\n", 16);
}

enum MHD_Result admin_settings(const admin_req *a)
{
    if (strcmp(a->rq->method, "POST") == 0)
        return settings_post(a);
    if (strcmp(a->path, "/settings") != 0)
        return ws_httpd_reply(a->rq->conn, 404, "text/plain", "no such page\n", 13);
    return settings_page(a, NULL);
}
