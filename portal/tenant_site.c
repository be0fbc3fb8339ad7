/* SPDX-License-Identifier: Apache-2.0 */
/* tenant_site: the WAP tenant site and tenant API, HTTPS on the portal's port (30081)
 * with portal-ssl. A tenant signs in, lists its VMs and asks for a VM's console; the
 * portal asks SPF (as its registered service account, for that tenant) and hands the
 * browser SPF's answer unchanged: the .rdp file, or the JSON error body that the real
 * portal passed through "instead of an RDP file" (REFERENCE.md section 1).
 *   GET  /                         the sign-in page (signed in: 303 to /vms)
 *   POST /login, /logout           the sign-in form and sign-out (form posts with the token)
 *   GET  /vms                      HTML: the tenant's VMs (name, OS, status; never the host)
 *   GET  /vms/{id}                 HTML: the VM's dashboard, Connect in the bottom bar
 *   GET  /vms/{id}/console         HTML: the security warning before the console's file
 *   POST /vms/{id}/console         the form on it: answered as POST /api/vms/{id}/console
 *   GET  /tenant.css, /tenant.js   the site's own style and script (tenant_assets.c)
 *   POST /api/login                {"user","password"} -> session cookie (401; 429 when throttled)
 *   GET  /api/vms                  [{"name","id","os","state"}]
 *   POST /api/vms/{id}/console     application/x-rdp attachment "<vm>.rdp", or SPF's status and body
 *                                  as an attachment "<vm>.json" [model]
 * The HTML pages share the API's functions (tenant_vms, find_vm, api_console): one path
 * to SPF. Their layout follows the WAP tenant site's (notes/tenant-README.md) [model]. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/accounts.h"
#include "lab/events.h"
#include "svc/httpc.h"
#include "svc/httpd.h"
#include "lab/machine.h"
#include "request.h"
#include "session.h"
#include "lab/settings.h"
#include "sites.h"
#include "web.h"

#define SPF_ROOT "/SC2012R2/VMM/Microsoft.Management.Odata.svc"

/* A VM as SPF's VirtualMachines answer gives it (spf/main.c list_vms). */
typedef struct vm_entry {
    char id[37], stamp[37], name[64], os[64], state[32], owner[64], subscription[64];
} vm_entry;

static enum MHD_Result reply_text(ws_httpd_req *rq, unsigned status, const char *ctype, const char *text)
{
    return ws_httpd_reply(rq->conn, status, ctype, text, strlen(text));
}

static enum MHD_Result reply_error(ws_httpd_req *rq, unsigned status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    enum MHD_Result r = reply_text(rq, status, "application/json; charset=utf-8", text);
    cJSON_free(text);
    return r;
}

static enum MHD_Result sign_in_page(ws_httpd_req *rq, unsigned status, const char *notice);

/* The answer to a refused sign-in: the form's page with a notice, or the API's 401;
 * a throttled address gets 429 with Retry-After (RFC 6585) either way. */
static enum MHD_Result refuse_sign_in(ws_httpd_req *rq, enum web_sign_in why, int retry_after, int form)
{
    if (why == WEB_SIGN_IN_THROTTLED) {
        char seconds[16], text[120], msg[160];
        snprintf(seconds, sizeof seconds, "%d", retry_after);
        snprintf(text, sizeof text, "Too many failed sign-ins from this address. Try again in %d seconds.", retry_after);
        snprintf(msg, sizeof msg, form ? "%s\n" : "{\"error\":\"%s\"}", text);
        const char *extra[] = {"Retry-After", seconds, NULL};
        return ws_httpd_reply_ex(rq->conn, 429, form ? "text/plain; charset=utf-8" : "application/json; charset=utf-8",
                                 msg, strlen(msg), extra);
    }
    return form ? sign_in_page(rq, 200, web_sign_in_text(why)) : reply_error(rq, 401, web_sign_in_text(why));
}

/* A request to SPF for a tenant, as the portal's registered service account, over the
 * pool of connections the portal keeps to SPF as the tenant site's .NET client does
 * (svc/httpc.h): a console request's two calls, and the next tenant's, reuse one. */
static int spf_get(ws_httpd_req *rq, const char *tenant, const char *path, ws_http_response *rs, ws_error *e)
{
    ws_machine spf;
    char spf_name[64] = "", user[128] = "", password[128] = "";
    sqlite3_stmt *s = ws_state_prepare(rq->st, "SELECT name FROM machines WHERE role = 'spf' ORDER BY name", NULL);
    if (s && sqlite3_step(s) == SQLITE_ROW)
        snprintf(spf_name, sizeof spf_name, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (ws_machine_get(rq->st, spf_name, &spf, e) != 0)
        return -1;
    ws_setting_get(rq->st, rq->c->machine.name, "spf_user", user, sizeof user);
    ws_setting_get(rq->st, rq->c->machine.name, "spf_password", password, sizeof password);
    char url[1024], resolve[512], principal[128];
    snprintf(url, sizeof url, "https://%s:%d%s%s", spf.fqdn, spf.port, SPF_ROOT, path);
    snprintf(resolve, sizeof resolve, "%s:%d:%s", spf.fqdn, spf.port, spf.address);
    snprintf(principal, sizeof principal, "x-ms-principal-id: %s", tenant);
    const char *headers[] = {principal, "Accept: application/json", NULL};
    ws_http_request hrq = {.method = "GET", .url = url, .user = user, .password = password, .headers = headers,
                           .resolve = resolve, .st = rq->st, .from_machine = rq->c->machine.name,
                           .timeout_ms = 30000, .pooled = 1};
    return ws_http(&hrq, rs, e);
}

static void field(const cJSON *o, const char *name, char *out, size_t n)
{
    const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(o, name));
    snprintf(out, n, "%s", f ? f : "");
}

/* The tenant's VMs, from SPF. Caller frees *vms. */
static int tenant_vms(ws_httpd_req *rq, const char *tenant, vm_entry **vms, int *n, ws_error *e)
{
    ws_http_response rs;
    *vms = NULL;
    *n = 0;
    if (spf_get(rq, tenant, "/VirtualMachines", &rs, e) != 0)
        return -1;
    cJSON *o = cJSON_ParseWithLength((const char *)rs.body, rs.body_len);
    cJSON *arr = cJSON_GetObjectItem(o, "value");
    int rc = 0;
    if (rs.status != 200 || !cJSON_IsArray(arr)) {
        rc = ws_seterr(e, "SPF answered %ld", rs.status);
    } else {
        int count = cJSON_GetArraySize(arr);
        *vms = calloc((size_t)count + 1, sizeof **vms);
        cJSON *vm;
        cJSON_ArrayForEach(vm, arr)
        {
            vm_entry *v = &(*vms)[(*n)++];
            field(vm, "ID", v->id, sizeof v->id);
            field(vm, "StampId", v->stamp, sizeof v->stamp);
            field(vm, "Name", v->name, sizeof v->name);
            field(vm, "OperatingSystem", v->os, sizeof v->os);
            field(vm, "Status", v->state, sizeof v->state);
            field(vm, "OwnerUserName", v->owner, sizeof v->owner);
            field(vm, "SubscriptionId", v->subscription, sizeof v->subscription);
        }
    }
    cJSON_Delete(o);
    ws_http_response_free(&rs);
    return rc;
}

static enum MHD_Result api_vms(ws_httpd_req *rq, const char *tenant)
{
    vm_entry *vms;
    int n;
    ws_error e;
    if (tenant_vms(rq, tenant, &vms, &n, &e) != 0)
        return reply_error(rq, 502, e.msg);
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", vms[i].name);
        cJSON_AddStringToObject(o, "id", vms[i].id);
        cJSON_AddStringToObject(o, "os", vms[i].os);
        cJSON_AddStringToObject(o, "state", vms[i].state);
        cJSON_AddItemToArray(arr, o);
    }
    free(vms);
    char *text = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    enum MHD_Result r = reply_text(rq, 200, "application/json; charset=utf-8", text);
    cJSON_free(text);
    return r;
}

/* The tenant's VM of that id, as SPF lists it: 0 (*vm set; *count: the tenant's VMs), 1
 * when the tenant has none of that id (event 403 written: bob asking for alice's VM
 * finds nothing, as SPF shows each tenant only its own), or -1 when SPF cannot say (e). */
static int find_vm(ws_httpd_req *rq, const char *tenant, const char *vm_id, vm_entry *vm, int *count, ws_error *e)
{
    vm_entry *vms;
    int n, found = 0;
    if (tenant_vms(rq, tenant, &vms, &n, e) != 0)
        return -1;
    for (int i = 0; i < n && !found; i++)
        if (strcasecmp(vms[i].id, vm_id) == 0) {
            *vm = vms[i];
            found = 1;
        }
    free(vms);
    if (count)
        *count = n;
    if (!found)
        ws_event_write(rq->st, rq->c->machine.name, WS_EV_PORTAL_403, tenant, vm_id);
    return found ? 0 : 1;
}

static enum MHD_Result api_console(ws_httpd_req *rq, const char *tenant, const char *vm_id)
{
    vm_entry vm;
    ws_error e;
    int found = find_vm(rq, tenant, vm_id, &vm, NULL, &e);
    if (found < 0)
        return reply_error(rq, 502, e.msg);
    if (found > 0)
        return reply_error(rq, 404, "The virtual machine was not found.");
    char path[256];
    snprintf(path, sizeof path, "/VirtualMachines(ID=guid'%s',StampId=guid'%s')/VMConnection", vm.id, vm.stamp);
    char name[64];
    snprintf(name, sizeof name, "%s", vm.name);
    ws_http_response rs;
    if (spf_get(rq, tenant, path, &rs, &e) != 0)
        return reply_error(rq, 502, e.msg);
    enum MHD_Result r;
    char disposition[160];
    for (char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            *p = '_';
    int rdp = rs.status == 200 && strcmp(rs.content_type, "application/x-rdp") == 0;
    /* Both answers are downloads named after the VM. [model] The real tenant site's headers
     * are not published: the field says its browser is offered the .rdp file to open or
     * save (miru.ch 2014; marcvaneijk 2014, REFERENCE.md section 9) and, when VMM cannot
     * make the token, "will get a JSON file" (the seed, REFERENCE.md section 1). A browser
     * shows a JSON error inline unless told to save it, hence the attachment and its name. */
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s.%s\"", name, rdp ? "rdp" : "json");
    const char *extra[] = {"Content-Disposition", disposition, NULL};
    if (rdp)
        r = ws_httpd_reply_ex(rq->conn, 200, "application/x-rdp", rs.body, rs.body_len, extra);
    else /* SPF's status and body, unchanged */
        r = ws_httpd_reply_ex(rq->conn, (unsigned)rs.status, rs.content_type[0] ? rs.content_type : NULL, rs.body,
                              rs.body_len, extra);
    ws_http_response_free(&rs);
    return r;
}


/* ---- The HTML pages. Layout after the WAP tenant site [model: notes/tenant-README.md]:
 * a dark masthead, a dark left navigation, white content, a dark command bar at the
 * bottom. No inline script or style (the CSP of web.h): /tenant.css and /tenant.js. */

typedef struct tenant_view {
    ws_httpd_req *rq;
    const char *tenant, *csrf;
    int vm_count; /* the nav's count, -1 when unknown */
} tenant_view;

static void head(web_page *w, const char *title)
{
    web_raw(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    web_esc(w, title);
    web_raw(w, " - Contoso Cloud</title><link rel=\"stylesheet\" href=\"/tenant.css\">"
               "<script src=\"/tenant.js\" defer></script></head>\n");
}

static void hidden_csrf(web_page *w, const char *token)
{
    web_raw(w, "<input type=\"hidden\" name=\"" CSRF_FIELD "\" value=\"");
    web_esc(w, token);
    web_raw(w, "\">");
}

/* The masthead and the left navigation, then the content area opens. */
static void shell_begin(web_page *w, const tenant_view *v, const char *title)
{
    head(w, title);
    web_raw(w, "<body class=\"tenant\"><header class=\"masthead\"><a class=\"product\" href=\"/vms\">Contoso Cloud"
               "<span class=\"product-sub\">Service Management Portal</span></a><span class=\"user\">");
    web_esc(w, v->tenant);
    web_raw(w, "</span><form method=\"post\" action=\"/logout\" class=\"signout\">");
    hidden_csrf(w, v->csrf);
    web_raw(w, "<button type=\"submit\">Sign out</button></form></header>\n<div class=\"shell\">"
               "<nav class=\"side\" aria-label=\"Services\"><a class=\"nav-item current\" href=\"/vms\">"
               "<span class=\"nav-icon vm-icon\" aria-hidden=\"true\"></span><span class=\"nav-label\">VIRTUAL "
               "MACHINES</span>");
    if (v->vm_count >= 0)
        web_raw(w, "<span class=\"nav-count\">%d</span>", v->vm_count);
    web_raw(w, "</a><p class=\"nav-note\">The lab's plan offers virtual machines only.</p></nav>\n"
               "<main class=\"content\">\n");
}

/* The content area closes; the command bar follows (cmdbar_begin .. cmdbar_end). */
static void shell_end(web_page *w)
{
    web_raw(w, "</main></div>\n");
}

static void cmdbar_begin(web_page *w)
{
    web_raw(w, "<footer class=\"commandbar\" aria-label=\"Commands\">");
}

static void cmdbar_end(web_page *w)
{
    web_raw(w, "</footer></body></html>\n");
}

static enum MHD_Result sign_in_page(ws_httpd_req *rq, unsigned status, const char *notice)
{
    char token[65], set_cookie[160];
    if (web_signin_token(rq, token, set_cookie) != 0)
        return reply_text(rq, 500, "text/plain", "no randomness\n");
    web_page w;
    web_init(&w);
    head(&w, "Sign in");
    web_raw(&w, "<body class=\"tenant signin\"><main class=\"signin-box\"><p class=\"signin-brand\">Contoso Cloud</p>"
                "<h1>Sign in</h1><p class=\"subtitle\">Service Management Portal</p>\n");
    if (notice) {
        web_raw(&w, "<p class=\"notice\" role=\"alert\">");
        web_esc(&w, notice);
        web_raw(&w, "</p>\n");
    }
    web_raw(&w, "<form method=\"post\" action=\"/login\">");
    hidden_csrf(&w, token);
    web_raw(&w, "<p><label for=\"user\">User name</label><input id=\"user\" name=\"user\" autocomplete=\"username\" "
                "required></p><p><label for=\"password\">Password</label><input id=\"password\" name=\"password\" "
                "type=\"password\" autocomplete=\"current-password\" required></p>"
                "<p><button type=\"submit\" class=\"primary\">Sign in</button></p></form></main></body></html>\n");
    const char *extra[] = {set_cookie[0] ? "Set-Cookie" : NULL, set_cookie, NULL};
    return web_send(rq, status, &w, extra);
}

/* A page of the site saying what went wrong (the VM not found: 404; SPF: 502). */
static enum MHD_Result message_page(const tenant_view *v, unsigned status, const char *title, const char *text)
{
    web_page w;
    web_init(&w);
    shell_begin(&w, v, title);
    web_raw(&w, "<section class=\"message\" id=\"message\" data-status=\"%u\"><h1>", status);
    web_esc(&w, title);
    web_raw(&w, "</h1><p>");
    web_esc(&w, text);
    web_raw(&w, "</p><p><a class=\"button\" href=\"/vms\">Back to virtual machines</a></p></section>\n");
    shell_end(&w);
    cmdbar_begin(&w);
    cmdbar_end(&w);
    return web_send(v->rq, status, &w, NULL);
}

static enum MHD_Result spf_error_page(tenant_view *v, const char *why)
{
    return message_page(v, 502, "The virtual machines cannot be listed", why);
}

static enum MHD_Result not_found_page(tenant_view *v)
{
    return message_page(v, 404, "The virtual machine was not found",
                        "There is no virtual machine with this ID in your subscriptions.");
}

/* A VM's status as the list and the dashboard show it: a dot and the word SPF gave. */
static void status_cell(web_page *w, const char *state)
{
    web_raw(w, "<span class=\"status\" data-state=\"");
    web_esc(w, state);
    web_raw(w, "\"><span class=\"dot\" aria-hidden=\"true\"></span>");
    web_esc(w, state[0] ? state : "Unknown");
    web_raw(w, "</span>");
}

static enum MHD_Result vms_page(tenant_view *v)
{
    vm_entry *vms;
    int n;
    ws_error e;
    if (tenant_vms(v->rq, v->tenant, &vms, &n, &e) != 0)
        return spf_error_page(v, e.msg);
    v->vm_count = n;
    web_page w;
    web_init(&w);
    shell_begin(&w, v, "Virtual machines");
    web_raw(&w, "<div class=\"page-head\"><h1>virtual machines</h1></div>\n<table class=\"grid\" id=\"vms\"><thead>"
                "<tr><th>Name</th><th>Status</th><th>Operating system</th><th>Subscription</th></tr></thead>"
                "<tbody>\n");
    for (int i = 0; i < n; i++) {
        web_raw(&w, "<tr class=\"vm\" data-vm=\"");
        web_esc(&w, vms[i].name);
        web_raw(&w, "\"><td><a class=\"vm-name\" href=\"/vms/");
        web_esc(&w, vms[i].id);
        web_raw(&w, "\"><span class=\"row-icon vm-icon\" aria-hidden=\"true\"></span>");
        web_esc(&w, vms[i].name);
        web_raw(&w, "</a></td><td>");
        status_cell(&w, vms[i].state);
        web_raw(&w, "</td><td>");
        web_esc(&w, vms[i].os);
        web_raw(&w, "</td><td class=\"muted\">");
        web_esc(&w, vms[i].subscription);
        web_raw(&w, "</td></tr>\n");
    }
    if (n == 0)
        web_raw(&w, "<tr><td colspan=\"4\" class=\"muted\">You have no virtual machines.</td></tr>\n");
    web_raw(&w, "</tbody></table>\n");
    free(vms);
    shell_end(&w);
    cmdbar_begin(&w);
    web_raw(&w, "<p class=\"cmd-hint\">Open a virtual machine to connect to its console.</p>");
    cmdbar_end(&w);
    return web_send(v->rq, 200, &w, NULL);
}

/* The VM's heading and its one pivot, as a WAP item page has (DASHBOARD, CONFIGURE, ...). */
static void vm_head(web_page *w, const vm_entry *vm)
{
    web_raw(w, "<div class=\"page-head\"><p class=\"kind\">virtual machine</p><h1 id=\"vm-name\">");
    web_esc(w, vm->name);
    web_raw(w, "</h1><nav class=\"pivots\"><a class=\"current\" href=\"/vms/");
    web_esc(w, vm->id);
    web_raw(w, "\">DASHBOARD</a></nav></div>\n");
}

static void fact(web_page *w, const char *name, const char *value, int lab)
{
    web_raw(w, "<dt>%s%s</dt><dd>", name, lab ? " <span class=\"lab\">lab</span>" : "");
    web_esc(w, value[0] ? value : "-");
    web_raw(w, "</dd>");
}

/* What the dashboard can honestly say: SPF's fields for the VM, and how Console Connect
 * reaches it (the lab's chain, REFERENCE.md section 1). Nothing else is shown as real:
 * the real dashboard's usage charts, disks and addresses have nothing behind them here. */
static void dashboard_body(web_page *w, const vm_entry *vm)
{
    web_raw(w, "<div class=\"dash\"><section class=\"dash-main\"><h2>status</h2><p class=\"big-status\">");
    status_cell(w, vm->state);
    web_raw(w, "</p><h2>console connect</h2><p>Choose <strong>Connect</strong> and then <strong>Console</strong> in "
               "the bar below to open this virtual machine's console with Remote Desktop Connection, even when its "
               "network or operating system does not answer.</p>"
               "<ol class=\"chain\" aria-label=\"How the console is reached\"><li>portal</li><li>SPF</li>"
               "<li>VMM signs a token</li><li>RD Gateway</li><li>Hyper-V host</li><li>console</li></ol>"
               "<p class=\"lab-note\"><span class=\"lab\">lab</span> The chain of this lab; the real dashboard's "
               "usage charts, disks and addresses are not simulated.</p></section>\n"
               "<aside class=\"glance\"><h2>quick glance</h2><dl>");
    fact(w, "STATUS", vm->state, 0);
    fact(w, "OPERATING SYSTEM", vm->os, 0);
    fact(w, "OWNER", vm->owner, 0);
    fact(w, "SUBSCRIPTION ID", vm->subscription, 1);
    fact(w, "VM ID", vm->id, 1);
    fact(w, "STAMP ID", vm->stamp, 1);
    web_raw(w, "</dl><p class=\"lab-note\"><span class=\"lab\">lab</span> From SPF's answer, shown by the lab: "
               "not said to be on the real dashboard.</p></aside></div>\n");
}

/* Connect with its two choices (REFERENCE.md section 9): Console, through the warning
 * page; Desktop, shown but off: it would be an .rdp to one of the VM's addresses, and
 * the lab's VMs have none a tenant's PC reaches [model]. A <details> works without script. */
static void connect_menu(web_page *w, const vm_entry *vm)
{
    web_raw(w, "<details class=\"cmd-menu\" id=\"connect\"><summary class=\"cmd\"><span class=\"glyph connect-glyph\" "
               "aria-hidden=\"true\"></span><span class=\"cmd-label\">CONNECT</span></summary><div class=\"menu\">"
               "<a class=\"menu-item\" id=\"connect-console\" href=\"/vms/");
    web_esc(w, vm->id);
    web_raw(w, "/console\">Console<small>the virtual machine's console, through the RD Gateway</small></a>"
               "<span class=\"menu-item disabled\" id=\"connect-desktop\" aria-disabled=\"true\">Desktop<small>not in "
               "the lab: the VM has no address your PC can reach</small></span></div></details>");
}

static enum MHD_Result dashboard_page(tenant_view *v, const char *vm_id)
{
    vm_entry vm;
    ws_error e;
    int found = find_vm(v->rq, v->tenant, vm_id, &vm, &v->vm_count, &e);
    if (found != 0)
        return found < 0 ? spf_error_page(v, e.msg) : not_found_page(v);
    web_page w;
    web_init(&w);
    shell_begin(&w, v, vm.name);
    vm_head(&w, &vm);
    dashboard_body(&w, &vm);
    shell_end(&w);
    cmdbar_begin(&w);
    connect_menu(&w, &vm);
    cmdbar_end(&w);
    return web_send(v->rq, 200, &w, NULL);
}

/* Before the console's file, the security warning the tenant site shows (marcvaneijk
 * 2014, REFERENCE.md section 9: do not save the RDP file to a shared location); the
 * wording here is ours [model]. Its form posts to /vms/{id}/console with the token. */
static enum MHD_Result warning_page(tenant_view *v, const char *vm_id)
{
    vm_entry vm;
    ws_error e;
    int found = find_vm(v->rq, v->tenant, vm_id, &vm, &v->vm_count, &e);
    if (found != 0)
        return found < 0 ? spf_error_page(v, e.msg) : not_found_page(v);
    web_page w;
    web_init(&w);
    shell_begin(&w, v, "Security warning");
    vm_head(&w, &vm);
    web_raw(&w, "<section class=\"dialog\" id=\"console-warning\" role=\"alertdialog\" aria-labelledby=\"warn-title\">"
                "<h2 id=\"warn-title\"><span class=\"warn-glyph\" aria-hidden=\"true\">!</span>Security warning</h2>"
                "<p>Connect will give you a Remote Desktop (.rdp) file for the console of <strong>");
    web_esc(&w, vm.name);
    web_raw(&w, "</strong>. Until it expires, the file lets whoever opens it reach this virtual machine's console.</p>"
                "<p class=\"strong\">Do not save the RDP file to a shared location. Open it, or keep it where only "
                "you can read it.</p><form method=\"post\" id=\"console-form\" action=\"/vms/");
    web_esc(&w, vm.id);
    web_raw(&w, "/console\">");
    hidden_csrf(&w, v->csrf);
    web_raw(&w, "<button type=\"submit\" class=\"primary\" id=\"console-open\">Connect</button> <a class=\"button\" "
                "href=\"/vms/");
    web_esc(&w, vm.id);
    web_raw(&w, "\">Cancel</a></form><p id=\"console-status\" role=\"status\"></p></section>\n");
    shell_end(&w);
    cmdbar_begin(&w);
    cmdbar_end(&w);
    return web_send(v->rq, 200, &w, NULL);
}

/* A refused post: 403 and one line in the portal's log saying why. */
static enum MHD_Result refuse(ws_httpd_req *rq, const char *why, const char *text)
{
    fprintf(stderr, "wapsim-portal: refused %s %s from %s: %s\n", rq->method, rq->url, rq->peer, why);
    return reply_text(rq, 403, "text/plain; charset=utf-8", text);
}

/* Anti-forgery: a post a page of another site could make (a form type with a body, or
 * any post to the HTML pages' paths) carries the token: before sign-in the WapsimSignIn
 * cookie's (double submit), after it the session's. The API's JSON posts and body-less
 * posts stay as they are: scripts post the console request with no body, which libcurl
 * (sim/client/browser.c) labels application/x-www-form-urlencoded all the same, and
 * SameSite=Strict keeps the session cookie off other sites' requests. */
static int csrf_refused(ws_httpd_req *rq, const char *path, int in, const char *csrf, const char **why)
{
    int form = portal_form_type(ws_httpd_header(rq, "Content-Type"));
    if (strncmp(path, "/api/", 5) == 0 && (!form || rq->body_len == 0))
        return 0;
    const char *expected = strcmp(path, "/login") == 0 ? ws_httpd_cookie(rq, SIGNIN_COOKIE) : in ? csrf : NULL;
    if (web_csrf_ok(rq, expected))
        return 0;
    *why = !expected ? "a form post without a session or sign-in cookie"
                     : "the form's anti-forgery token is missing or wrong";
    return 1;
}

static enum MHD_Result login(ws_httpd_req *rq)
{
    portal_login l;
    char id[65], csrf[65], cookie[200];
    ws_error e;
    if (portal_login_form(rq->body, rq->body_len, &l, &e) != 0) {
        fprintf(stderr, "wapsim-portal: refused a sign-in form from %s: %s\n", rq->peer, e.msg);
        return sign_in_page(rq, 400, "Give a user name and a password.");
    }
    int retry_after;
    enum web_sign_in r = web_sign_in(rq, SITE_TENANT, "tenant", l.user, l.password, id, csrf, &retry_after);
    if (r != WEB_SIGN_IN_OK)
        return refuse_sign_in(rq, r, retry_after, 1);
    web_session_cookie(SESSION_COOKIE, id, cookie);
    return web_redirect(rq, "/vms", cookie);
}

static enum MHD_Result api_login(ws_httpd_req *rq)
{
    portal_login l;
    ws_error e;
    if (portal_login_json(rq->body, rq->body_len, &l, &e) != 0) {
        fprintf(stderr, "wapsim-portal: refused a sign-in body from %s: %s\n", rq->peer, e.msg);
        return reply_error(rq, 400, "the body must be {\"user\":\"...\",\"password\":\"...\"}");
    }
    char id[65], csrf[65], cookie[200];
    int retry_after;
    enum web_sign_in r = web_sign_in(rq, SITE_TENANT, "tenant", l.user, l.password, id, csrf, &retry_after);
    if (r != WEB_SIGN_IN_OK)
        return refuse_sign_in(rq, r, retry_after, 0);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "user", l.user);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    web_session_cookie(SESSION_COOKIE, id, cookie);
    const char *extra[] = {"Set-Cookie", cookie, NULL};
    enum MHD_Result res = ws_httpd_reply_ex(rq->conn, 200, "application/json; charset=utf-8", body, strlen(body), extra);
    cJSON_free(body);
    return res;
}

extern const char tenant_css[], tenant_js[]; /* tenant_assets.c */

/* The pages of a signed-in tenant: 1 with *r its answer, or 0 when path is none of them. */
static int pages(tenant_view *v, const char *path, int get, int post, enum MHD_Result *r)
{
    char vm_id[PORTAL_VM_ID_MAX + 1];
    if (get && (strcmp(path, "/") == 0 || strcmp(path, "/login") == 0))
        *r = web_redirect(v->rq, "/vms", NULL);
    else if (get && strcmp(path, "/vms") == 0)
        *r = vms_page(v);
    else if (get && portal_vm_path(path + 1, vm_id))
        *r = dashboard_page(v, vm_id);
    else if (get && portal_console_path(path + 1, vm_id))
        *r = warning_page(v, vm_id);
    else if (post && portal_console_path(path + 1, vm_id))
        *r = api_console(v->rq, v->tenant, vm_id); /* the API's answer, byte for byte */
    else if (post && strcmp(path, "/logout") == 0) {
        char cookie[200];
        session_end(ws_httpd_cookie(v->rq, SESSION_COOKIE));
        web_session_cookie(SESSION_COOKIE, NULL, cookie);
        *r = web_redirect(v->rq, "/", cookie);
    } else
        return 0;
    return 1;
}

enum MHD_Result tenant_handle(ws_httpd_req *rq)
{
    char tenant[64], csrf[65], path[256];
    const char *q = strchr(rq->url, '?'), *why;
    snprintf(path, sizeof path, "%.*s", (int)(q ? q - rq->url : (long)strlen(rq->url)), rq->url);
    int in = session_get(SITE_TENANT, ws_httpd_cookie(rq, SESSION_COOKIE), tenant, sizeof tenant, csrf) == 0;
    int get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
    if (in)
        ws_httpd_authenticated(rq);
    if (get && strcmp(path, "/health") == 0)
        return reply_text(rq, 200, "text/plain", "OK\n");
    if (get && strcmp(path, "/tenant.css") == 0)
        return web_asset(rq, "text/css; charset=utf-8", tenant_css);
    if (get && strcmp(path, "/tenant.js") == 0)
        return web_asset(rq, "text/javascript; charset=utf-8", tenant_js);
    if (post && csrf_refused(rq, path, in, csrf, &why))
        return refuse(rq, why, "The form's anti-forgery token is missing or wrong: open the page again and retry.\n");
    if (post && strcmp(path, "/login") == 0)
        return login(rq);
    if (post && strcmp(path, "/api/login") == 0)
        return api_login(rq);
    if (strncmp(path, "/api/", 5) == 0) {
        char vm_id[PORTAL_VM_ID_MAX + 1];
        if (!in)
            return reply_error(rq, 401, "sign in first (POST /api/login)");
        if (get && strcmp(path, "/api/vms") == 0)
            return api_vms(rq, tenant);
        if (post && portal_console_path(path + 5, vm_id))
            return api_console(rq, tenant, vm_id);
        return reply_error(rq, 404, "no such page");
    }
    if (!in && get && (strcmp(path, "/") == 0 || strcmp(path, "/login") == 0))
        return sign_in_page(rq, 200, NULL);
    if (!in && get && (strcmp(path, "/vms") == 0 || strncmp(path, "/vms/", 5) == 0))
        return web_redirect(rq, "/", NULL);
    tenant_view v = {.rq = rq, .tenant = tenant, .csrf = csrf, .vm_count = -1};
    enum MHD_Result r;
    if (in && pages(&v, path, get, post, &r))
        return r;
    return reply_error(rq, 404, "no such page");
}
