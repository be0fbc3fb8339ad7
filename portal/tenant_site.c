/* SPDX-License-Identifier: Apache-2.0 */
/* tenant_site: the WAP tenant site and tenant API, HTTPS on the portal's port (30081)
 * with portal-ssl. A tenant signs in, lists its VMs and asks for a VM's console; the
 * portal asks SPF (as its registered service account, for that tenant) and hands the
 * browser SPF's answer unchanged: the .rdp file, or the JSON error body that the real
 * portal passed through "instead of an RDP file" (REFERENCE.md section 1).
 *   GET  /                         HTML: sign-in form, or the tenant's VMs with Connect buttons
 *   POST /login, /logout           the HTML form's sign-in and sign-out
 *   POST /api/login                {"user","password"} -> session cookie (401; 429 when throttled)
 *   GET  /api/vms                  [{"name","id","os","state"}]
 *   POST /api/vms/{id}/console     application/x-rdp attachment "<vm>.rdp", or SPF's status and body
 *                                  as an attachment "<vm>.json" [model] */
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

typedef struct vm_entry {
    char id[37], stamp[37], name[64], os[64], state[32];
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

/* HTML-escape what a tenant or the state supplies. Caller frees. */
static char *html(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += strchr("<>&\"'", *p) ? 6 : 1;
    char *out = malloc(n + 1), *o = out;
    if (!out)
        abort();
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '<': o += sprintf(o, "&lt;"); break;
        case '>': o += sprintf(o, "&gt;"); break;
        case '&': o += sprintf(o, "&amp;"); break;
        case '"': o += sprintf(o, "&quot;"); break;
        case '\'': o += sprintf(o, "&#39;"); break;
        default: *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static int signed_in(ws_httpd_req *rq, char *tenant, size_t n)
{
    return session_tenant(ws_httpd_cookie(rq, SESSION_COOKIE), tenant, n) == 0;
}

enum sign_in { SIGN_IN_OK, SIGN_IN_BAD, SIGN_IN_LOCKED_OUT, SIGN_IN_THROTTLED };

static enum sign_in sign_in(ws_httpd_req *rq, const char *user, const char *password, char id[65], int *retry_after)
{
    char csrf[65];
    return (enum sign_in)web_sign_in(rq, SITE_TENANT, "tenant", user, password, id, csrf, retry_after);
}

static enum MHD_Result page(ws_httpd_req *rq, const char *tenant, const char *notice);

/* The answer to a refused sign-in: the form's page with a notice, or the API's 401;
 * a throttled address gets 429 with Retry-After (RFC 6585) either way. */
static enum MHD_Result refuse_sign_in(ws_httpd_req *rq, enum sign_in why, int retry_after, int form)
{
    if (why == SIGN_IN_THROTTLED) {
        char seconds[16], text[120], msg[160];
        snprintf(seconds, sizeof seconds, "%d", retry_after);
        snprintf(text, sizeof text, "Too many failed sign-ins from this address. Try again in %d seconds.", retry_after);
        snprintf(msg, sizeof msg, form ? "%s\n" : "{\"error\":\"%s\"}", text);
        const char *extra[] = {"Retry-After", seconds, NULL};
        return ws_httpd_reply_ex(rq->conn, 429, form ? "text/plain; charset=utf-8" : "application/json; charset=utf-8",
                                 msg, strlen(msg), extra);
    }
    const char *msg = why == SIGN_IN_LOCKED_OUT
                          ? "The referenced account is currently locked out and may not be logged on to."
                          : "The user name or password is incorrect.";
    return form ? page(rq, NULL, msg) : reply_error(rq, 401, msg);
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
            const char *f;
            snprintf(v->id, sizeof v->id, "%s", (f = cJSON_GetStringValue(cJSON_GetObjectItem(vm, "ID"))) ? f : "");
            snprintf(v->stamp, sizeof v->stamp, "%s",
                     (f = cJSON_GetStringValue(cJSON_GetObjectItem(vm, "StampId"))) ? f : "");
            snprintf(v->name, sizeof v->name, "%s", (f = cJSON_GetStringValue(cJSON_GetObjectItem(vm, "Name"))) ? f : "");
            snprintf(v->os, sizeof v->os, "%s",
                     (f = cJSON_GetStringValue(cJSON_GetObjectItem(vm, "OperatingSystem"))) ? f : "");
            snprintf(v->state, sizeof v->state, "%s",
                     (f = cJSON_GetStringValue(cJSON_GetObjectItem(vm, "Status"))) ? f : "");
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

static enum MHD_Result api_console(ws_httpd_req *rq, const char *tenant, const char *vm_id)
{
    vm_entry *vms;
    int n;
    ws_error e;
    if (tenant_vms(rq, tenant, &vms, &n, &e) != 0)
        return reply_error(rq, 502, e.msg);
    const vm_entry *vm = NULL;
    for (int i = 0; i < n; i++)
        if (strcasecmp(vms[i].id, vm_id) == 0)
            vm = &vms[i];
    if (!vm) {
        ws_event_write(rq->st, rq->c->machine.name, WS_EV_PORTAL_403, tenant, vm_id);
        free(vms);
        return reply_error(rq, 404, "The virtual machine was not found.");
    }
    char path[256];
    snprintf(path, sizeof path, "/VirtualMachines(ID=guid'%s',StampId=guid'%s')/VMConnection", vm->id, vm->stamp);
    char name[64];
    snprintf(name, sizeof name, "%s", vm->name);
    free(vms);
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

static enum MHD_Result page(ws_httpd_req *rq, const char *tenant, const char *notice)
{
    size_t cap = 8192, len = 0;
    char *out = malloc(cap);
    if (!out)
        abort();
#define APPEND(...)                                                                                                    \
    do {                                                                                                               \
        int w_ = snprintf(out + len, cap - len, __VA_ARGS__);                                                          \
        if (w_ > 0 && (size_t)w_ >= cap - len) {                                                                       \
            cap = (len + (size_t)w_) * 2;                                                                              \
            out = realloc(out, cap);                                                                                   \
            if (!out)                                                                                                  \
                abort();                                                                                               \
            w_ = snprintf(out + len, cap - len, __VA_ARGS__);                                                          \
        }                                                                                                              \
        len += (size_t)(w_ > 0 ? w_ : 0);                                                                              \
    } while (0)
    APPEND("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Contoso Cloud - Virtual "
           "Machines</title>\n<style>body{font-family:Segoe UI,Arial,sans-serif;margin:2em}table{border-collapse:"
           "collapse}td,th{padding:.4em 1em;border-bottom:1px solid #ccc;text-align:left}.notice{color:#a00}</style>"
           "</head><body>\n<h1>Contoso Cloud</h1>\n");
    if (notice) {
        char *n = html(notice);
        APPEND("<p class=\"notice\">%s</p>\n", n);
        free(n);
    }
    if (!tenant) {
        APPEND("<form method=\"post\" action=\"/login\">\n<p><label>User <input name=\"user\" "
               "autocomplete=\"username\"></label></p>\n<p><label>Password <input name=\"password\" "
               "type=\"password\" autocomplete=\"current-password\"></label></p>\n<p><button type=\"submit\">Sign "
               "in</button></p>\n</form>\n</body></html>\n");
    } else {
        char *t = html(tenant);
        APPEND("<p>Signed in as %s. <form method=\"post\" action=\"/logout\" style=\"display:inline\"><button "
               "type=\"submit\">Sign out</button></form></p>\n<h2>Virtual machines</h2>\n",
               t);
        free(t);
        vm_entry *vms;
        int n;
        ws_error e;
        if (tenant_vms(rq, tenant, &vms, &n, &e) != 0) {
            char *m = html(e.msg);
            APPEND("<p class=\"notice\">The virtual machines cannot be listed: %s</p>\n", m);
            free(m);
        } else {
            APPEND("<table><tr><th>Name</th><th>Operating system</th><th>Status</th><th></th></tr>\n");
            for (int i = 0; i < n; i++) {
                char *name = html(vms[i].name), *os = html(vms[i].os), *state = html(vms[i].state),
                     *id = html(vms[i].id);
                APPEND("<tr><td>%s</td><td>%s</td><td>%s</td><td><form method=\"post\" "
                       "action=\"/api/vms/%s/console\"><button type=\"submit\">Connect</button></form></td></tr>\n",
                       name, os, state, id);
                free(name), free(os), free(state), free(id);
            }
            APPEND("</table>\n");
            free(vms);
        }
        APPEND("</body></html>\n");
    }
#undef APPEND
    enum MHD_Result r = ws_httpd_reply(rq->conn, 200, "text/html; charset=utf-8", out, len);
    free(out);
    return r;
}

static enum MHD_Result set_session(ws_httpd_req *rq, unsigned status, const char *id, const char *location,
                                   const char *json)
{
    char cookie[160];
    if (id)
        snprintf(cookie, sizeof cookie, SESSION_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict", id);
    else
        snprintf(cookie, sizeof cookie, SESSION_COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
    const char *extra[] = {"Set-Cookie", cookie, location ? "Location" : NULL, location, NULL};
    return ws_httpd_reply_ex(rq->conn, status, json ? "application/json; charset=utf-8" : "text/plain",
                             json ? json : "", json ? strlen(json) : 0, extra);
}

enum MHD_Result tenant_handle(ws_httpd_req *rq)
{
    char tenant[64];
    int in = signed_in(rq, tenant, sizeof tenant);
    int get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
    if (in)
        ws_httpd_authenticated(rq);

    if (get && strcmp(rq->url, "/health") == 0)
        return reply_text(rq, 200, "text/plain", "OK\n");
    if (get && strcmp(rq->url, "/") == 0)
        return page(rq, in ? tenant : NULL, NULL);
    if (post && strcmp(rq->url, "/login") == 0) {
        portal_login l;
        char id[65];
        ws_error e;
        if (portal_login_form(rq->body, rq->body_len, &l, &e) != 0) {
            fprintf(stderr, "wapsim-portal: refused a sign-in form from %s: %s\n", rq->peer, e.msg);
            return reply_error(rq, 400, "the form needs user and password");
        }
        int retry_after;
        enum sign_in r = sign_in(rq, l.user, l.password, id, &retry_after);
        if (r != SIGN_IN_OK)
            return refuse_sign_in(rq, r, retry_after, 1);
        return set_session(rq, 303, id, "/", NULL);
    }
    if (post && strcmp(rq->url, "/logout") == 0) {
        session_end(ws_httpd_cookie(rq, SESSION_COOKIE));
        return set_session(rq, 303, NULL, "/", NULL);
    }
    if (post && strcmp(rq->url, "/api/login") == 0) {
        portal_login l;
        ws_error e;
        if (portal_login_json(rq->body, rq->body_len, &l, &e) != 0) {
            fprintf(stderr, "wapsim-portal: refused a sign-in body from %s: %s\n", rq->peer, e.msg);
            return reply_error(rq, 400, "the body must be {\"user\":\"...\",\"password\":\"...\"}");
        }
        char id[65], body[160];
        int retry_after;
        enum sign_in r = sign_in(rq, l.user, l.password, id, &retry_after);
        snprintf(body, sizeof body, "{\"user\":\"%s\"}", r == SIGN_IN_OK ? l.user : "");
        if (r != SIGN_IN_OK)
            return refuse_sign_in(rq, r, retry_after, 0);
        return set_session(rq, 200, id, NULL, body);
    }
    if (strncmp(rq->url, "/api/", 5) == 0) {
        if (!in)
            return reply_error(rq, 401, "sign in first (POST /api/login)");
        if (get && strcmp(rq->url, "/api/vms") == 0)
            return api_vms(rq, tenant);
        char vm_id[PORTAL_VM_ID_MAX + 1];
        if (post && portal_console_path(rq->url + 5, vm_id))
            return api_console(rq, tenant, vm_id);
    }
    return reply_error(rq, 404, "no such page");
}
