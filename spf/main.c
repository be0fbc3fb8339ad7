/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim-spf: Service Provider Foundation, the OData v3 service (WCF Data Services)
 * between the tenant portal and VMM, HTTPS on 8090 with spf-ssl and basic
 * authentication of the portal's service account. The tenant the portal acts for is
 * named by the x-ms-principal-id header.
 *   GET <root>/VirtualMachines                                    the tenant's VMs
 *   GET <root>/VirtualMachines(ID=guid'..',StampId=guid'..')/VMConnection   application/x-rdp
 * Errors are OData JSON error bodies (REFERENCE.md section 1 [model]); the underlying
 * VMM error goes to SPF's own log. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/accounts.h"
#include "lab/events.h"
#include "svc/httpc.h"
#include "svc/httpd.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/vm.h"
#include "request.h"

#define ROOT SPF_ROOT

static enum MHD_Result odata_error(ws_httpd_req *rq, unsigned status, const char *value)
{
    cJSON *o = cJSON_CreateObject(), *err = cJSON_AddObjectToObject(o, "odata.error");
    cJSON_AddStringToObject(err, "code", "");
    cJSON *msg = cJSON_AddObjectToObject(err, "message");
    cJSON_AddStringToObject(msg, "lang", "en-US");
    cJSON_AddStringToObject(msg, "value", value);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    const char *extra[] = {"DataServiceVersion", "1.0;", NULL, NULL, NULL};
    if (status == 401) {
        extra[2] = "WWW-Authenticate";
        extra[3] = "Basic realm=\"Service Provider Foundation\"";
    }
    enum MHD_Result r =
        ws_httpd_reply_ex(rq->conn, status, "application/json;odata=verbose;charset=utf-8", text, strlen(text), extra);
    cJSON_free(text);
    return r;
}

/* Basic authentication of a service account (role "service"), under the lockout
 * policy: WS_LOGON_OK, or why not. */
static ws_logon authenticated(ws_httpd_req *rq, char *user, size_t n)
{
    char role[32];
    ws_logon_site site = {rq->c->machine.name, rq->peer};
    ws_logon r =
        ws_account_check_basic(rq->st, &site, ws_httpd_header(rq, "Authorization"), user, n, role, sizeof role);
    return r == WS_LOGON_OK && strcmp(role, "service") != 0 ? WS_LOGON_BAD : r;
}

static int is_tenant(ws_state *st, const char *name)
{
    sqlite3_stmt *s = ws_state_prepare(st, "SELECT 1 FROM accounts WHERE name = ? AND role = 'tenant'", NULL);
    if (!s)
        return 0;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int ok = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return ok;
}

static enum MHD_Result list_vms(ws_httpd_req *rq, const char *tenant, const char *stamp)
{
    ws_vm *vms;
    size_t n;
    if (ws_vm_list(rq->st, tenant, &vms, &n, NULL) != 0)
        return odata_error(rq, 500, "An error occurred while processing this request.");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "odata.metadata", "https://spf01:8090" ROOT "/$metadata#VirtualMachines");
    cJSON *arr = cJSON_AddArrayToObject(o, "value");
    for (size_t i = 0; i < n; i++) {
        cJSON *vm = cJSON_CreateObject();
        cJSON_AddStringToObject(vm, "ID", vms[i].id);
        cJSON_AddStringToObject(vm, "StampId", stamp);
        cJSON_AddStringToObject(vm, "Name", vms[i].name);
        cJSON_AddStringToObject(vm, "OperatingSystem", vms[i].os);
        cJSON_AddStringToObject(vm, "Status", vms[i].state);
        cJSON_AddStringToObject(vm, "OwnerUserName", tenant);
        cJSON_AddStringToObject(vm, "SubscriptionId", vms[i].subscription);
        cJSON_AddItemToArray(arr, vm);
    }
    free(vms);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    enum MHD_Result r = ws_httpd_reply(rq->conn, 200, "application/json;odata=minimalmetadata;charset=utf-8", text,
                                       strlen(text));
    cJSON_free(text);
    return r;
}

static int tenant_owns(ws_state *st, const char *tenant, const char *vm_id)
{
    ws_vm vm;
    return ws_vm_get(st, vm_id, &vm, NULL) == 0 && strcmp(vm.tenant, tenant) == 0;
}

static enum MHD_Result vm_connection(ws_httpd_req *rq, const char *tenant, const char *vm_id)
{
    const char *spf = rq->c->machine.name;
    if (!tenant_owns(rq->st, tenant, vm_id)) {
        ws_event_write(rq->st, spf, WS_EV_SPF_403, tenant, vm_id);
        return odata_error(rq, 404, "Resource not found for the segment 'VirtualMachines'.");
    }
    ws_machine vmm;
    sqlite3_stmt *s = ws_state_prepare(rq->st, "SELECT name FROM machines WHERE role = 'vmm' ORDER BY name", NULL);
    char vmm_name[64] = "";
    if (s && sqlite3_step(s) == SQLITE_ROW)
        snprintf(vmm_name, sizeof vmm_name, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (ws_machine_get(rq->st, vmm_name, &vmm, NULL) != 0)
        return odata_error(rq, 500, "An error occurred while processing this request.");
    char url[512], resolve[512], body[128];
    snprintf(url, sizeof url, "http://%s:%d/console", vmm.fqdn, vmm.port);
    snprintf(resolve, sizeof resolve, "%s:%d:%s", vmm.fqdn, vmm.port, vmm.address);
    snprintf(body, sizeof body, "{\"vm\":\"%s\"}", vm_id);
    /* The request carries SPF's service account, its machine's logon (svc/httpc.h), over
     * a connection SPF keeps to VMM (the pool), as the VMM SDK keeps its session. */
    ws_http_request hrq = {.method = "POST", .url = url, .body = body, .body_len = strlen(body),
                           .content_type = "application/json", .resolve = resolve, .st = rq->st,
                           .from_machine = spf, .timeout_ms = 20000, .pooled = 1};
    ws_http_response hrs;
    ws_error e;
    if (ws_http(&hrq, &hrs, &e) != 0) {
        ws_event_write(rq->st, spf, WS_EV_SPF_1_VMM_UNREACHABLE, vmm.name, e.msg);
        return odata_error(rq, 500, "An error occurred while processing this request.");
    }
    enum MHD_Result r;
    if (hrs.status == 200 && strcmp(hrs.content_type, "application/x-rdp") == 0) {
        r = ws_httpd_reply(rq->conn, 200, "application/x-rdp", hrs.body, hrs.body_len);
    } else {
        char msg[1024];
        spf_vmm_error(hrs.body, hrs.body_len, msg, sizeof msg, &e);
        /* SPF's own text, "messsage" (sic) as the real one writes it (REFERENCE.md section 6). */
        ws_event_write(rq->st, spf, WS_EV_SPF_1_VMM_ERROR, msg);
        if (hrs.status == 404)
            r = odata_error(rq, 404, "Resource not found for the segment 'VirtualMachines'.");
        else if (hrs.status == 400)
            r = odata_error(rq, 400, "Bad Request - Error in query syntax.");
        else
            r = odata_error(rq, 500, "An error occurred while processing this request.");
    }
    ws_http_response_free(&hrs);
    return r;
}

static enum MHD_Result handle(ws_httpd_req *rq)
{
    const char *spf = rq->c->machine.name;
    char user[256];
    ws_logon logon = authenticated(rq, user, sizeof user);
    if (logon != WS_LOGON_OK) {
        ws_event_write(rq->st, spf, logon == WS_LOGON_LOCKED_OUT ? WS_EV_SPF_401_LOCKED : WS_EV_SPF_401, rq->peer,
                       user[0] ? user : "(none)");
        return odata_error(rq, 401, "Unauthorized");
    }
    ws_httpd_authenticated(rq);
    const char *tenant = ws_httpd_header(rq, "x-ms-principal-id");
    if (!tenant || strlen(tenant) > 64 || !is_tenant(rq->st, tenant))
        return odata_error(rq, 403, "The caller is not a tenant of this service.");
    if (strcmp(rq->method, "GET") != 0)
        return odata_error(rq, 405, "The method is not allowed on this resource.");
    spf_request req;
    ws_error e;
    if (spf_request_parse(rq->url, strlen(rq->url), &req, &e) != 0) {
        if (req.status == 404)
            return odata_error(rq, 404, "Resource not found.");
        fprintf(stderr, "wapsim-spf: refused a malformed resource path from %s: %s\n", rq->peer, e.msg);
        return odata_error(rq, 400, "Bad Request - Error in query syntax.");
    }
    char stamp[64] = "";
    ws_setting_get(rq->st, spf, "stamp_id", stamp, sizeof stamp);
    if (req.resource == SPF_RES_VMS)
        return list_vms(rq, tenant, stamp);
    if (strcasecmp(req.stamp, stamp) != 0)
        return odata_error(rq, 404, "Resource not found for the segment 'VirtualMachines'.");
    return vm_connection(rq, tenant, req.vm_id);
}

int main(int argc, char **argv)
{
    ws_component c;
    ws_component_init(&c, "wapsim-spf", "spf", "Service Provider Foundation (HTTPS, OData).", argc, argv);
    ws_error e;
    /* A lab made before SPF had its logon gets it now, from the owner's accounts.json. */
    int logon = ws_service_logon_ensure(c.st, c.machine.name, WS_SERVICE_ACCOUNT_SPF, &e);
    if (logon < 0)
        ws_component_fail(&c, "cannot give the SPF service its account: %s", e.msg);
    if (logon > 0)
        fprintf(stderr, "wapsim-spf: %s: the SPF service now runs as %s\n", c.machine.name, WS_SERVICE_ACCOUNT_SPF);
    ws_httpd_opts o = {.max_body = 16 * 1024, .handler = handle};
    return ws_httpd_serve(&c, &o, 1);
}
