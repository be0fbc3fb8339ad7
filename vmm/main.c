/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim-vmm: the SCVMM server on 8100. It issues console access for a VM (issue.c):
 *   POST /console  {"vm":"<id>"}  ->  200 application/x-rdp (the signed .rdp file)
 *   POST /fedauth  {"vm":"<id>"}  ->  200 {"Host","VMRCPort","HostToken","VMID","VMToken"}
 * and answers a refusal with {"error":"<VMM's message>"} and 4xx/500.
 * Only SPF and the VMM server itself (an administrator's cmdlets) may call: from their
 * machine's address, presenting that machine's service account (lab/accounts.h), HTTP
 * basic authentication [model: the real service uses Windows authentication]. A caller
 * from elsewhere gets 403, one without the right credentials 401. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "lab/accounts.h"
#include "lab/events.h"
#include "svc/httpd.h"
#include "issue.h"

static enum MHD_Result error_json(ws_httpd_req *rq, unsigned status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    return ws_httpd_reply_json(rq->conn, status, o);
}

/* From an allowed machine, with its service account's credentials: the address alone
 * is not enough, as anyone on the computer can bind a socket to any 127/8 address.
 * 0 and *refusal queued (403 or 401, logged) when the caller may not call. */
static int caller_allowed(ws_httpd_req *rq, enum MHD_Result *refusal)
{
    ws_strv callers = {0};
    /* SPF's machine, or this VMM server's own (its commands run there). */
    ws_machine_names_at(rq->st, rq->peer, "spf", rq->c->machine.name, &callers);
    int ok = ws_httpd_caller_check(rq, &callers, WS_EV_VMM_1604, WS_EV_VMM_1604_CREDENTIALS, "VMM", refusal);
    ws_strv_free(&callers);
    return ok;
}

static enum MHD_Result handle(ws_httpd_req *rq)
{
    const char *vmm = rq->c->machine.name;
    int console = strcmp(rq->url, "/console") == 0, fedauth = strcmp(rq->url, "/fedauth") == 0;
    enum MHD_Result refusal;
    if (!caller_allowed(rq, &refusal))
        return refusal;
    if (!console && !fedauth)
        return error_json(rq, 404, "no such resource");
    if (strcmp(rq->method, "POST") != 0)
        return error_json(rq, 405, "use POST");
    cJSON *in = cJSON_ParseWithLength((const char *)rq->body, rq->body_len);
    const char *vm = cJSON_GetStringValue(cJSON_GetObjectItem(in, "vm"));
    if (!cJSON_IsObject(in) || !vm) {
        cJSON_Delete(in);
        fprintf(stderr, "wapsim-vmm: refused a request from %s: body is not {\"vm\":\"<id>\"}\n", rq->peer);
        return error_json(rq, 400, "the body must be {\"vm\":\"<virtual machine id>\"}");
    }
    vmm_grant g;
    unsigned status;
    ws_error e;
    int rc = vmm_issue(rq->st, vmm, vm, console, &g, &status, &e);
    cJSON_Delete(in);
    if (rc != 0)
        return error_json(rq, status, e.msg);
    enum MHD_Result r;
    if (console) {
        const char *extra[] = {"X-VMM-VM-Name", g.vm_name, NULL};
        r = ws_httpd_reply_ex(rq->conn, 200, "application/x-rdp", g.rdp, g.rdp_len, extra);
    } else {
        /* The object New-SCVMConnectFedAuth returns (REFERENCE.md section 3). */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Host", g.host);
        cJSON_AddNumberToObject(o, "VMRCPort", g.port);
        cJSON_AddStringToObject(o, "HostToken", g.host_token);
        cJSON_AddStringToObject(o, "VMID", g.vm_id);
        cJSON_AddStringToObject(o, "VMToken", g.vm_token);
        r = ws_httpd_reply_json(rq->conn, 200, o);
    }
    vmm_grant_free(&g);
    return r;
}

int main(int argc, char **argv)
{
    ws_component c;
    ws_component_init(&c, "wapsim-vmm", "vmm", "The SCVMM server: console tokens and .rdp files.", argc, argv);
    ws_error e;
    /* A lab made before VMM had a service account gets one now. */
    int logon = ws_service_logon_ensure(c.st, c.machine.name, WS_SERVICE_ACCOUNT_VMM, &e);
    if (logon < 0)
        ws_component_fail(&c, "cannot give the VMM service its account: %s", e.msg);
    if (logon > 0)
        fprintf(stderr, "wapsim-vmm: %s: the VMM service now runs as %s\n", c.machine.name, WS_SERVICE_ACCOUNT_VMM);
    ws_httpd_opts o = {.max_body = 4096, .handler = handle};
    return ws_httpd_serve(&c, &o, 0);
}
