/* agent: the host's VMM agent on 5985 (WinRM in the real product). VMM asks it,
 * before issuing a console token, whether this host can validate tokens from a
 * signer; the host answers from its own state (trust.c) and logs a refusal.
 *   GET /wsman/console-trust?thumbprint=<40 hex>  ->  {"host","thumbprint","trusted","reason"}
 * Only vmm01's address may ask [model: WinRM's Kerberos authentication]. */
#include "agent.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "eventlog.h"
#include "machine.h"
#include "trust.h"

#define HYPERV_CHANNEL "Microsoft-Windows-Hyper-V-VMMS-Admin"

static enum MHD_Result reply_json(ws_httpd_req *rq, unsigned status, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    enum MHD_Result r = ws_httpd_reply(rq->conn, status, "application/json", text, strlen(text));
    cJSON_free(text);
    return r;
}

/* The caller must be a VMM server: a machine of role vmm at that address. */
static int caller_is_vmm(ws_httpd_req *rq)
{
    sqlite3_stmt *s = ws_state_prepare(rq->st, "SELECT 1 FROM machines WHERE role = 'vmm' AND address = ?", NULL);
    if (!s)
        return 0;
    sqlite3_bind_text(s, 1, rq->peer, -1, SQLITE_STATIC);
    int ok = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return ok;
}

static enum MHD_Result handle(ws_httpd_req *rq)
{
    const char *host = rq->c->machine.name;
    if (!caller_is_vmm(rq)) {
        ws_event(rq->st, host, HYPERV_CHANNEL, "Hyper-V-VMMS", 14090, WS_LEVEL_WARNING,
                 "Refused a management request from %s: not a VMM server.", rq->peer);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", "access denied");
        return reply_json(rq, 403, o);
    }
    if (strcmp(rq->method, "GET") != 0 || strcmp(rq->url, "/wsman/console-trust") != 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", "no such resource");
        return reply_json(rq, 404, o);
    }
    const char *arg = ws_httpd_arg(rq, "thumbprint");
    char tp[41];
    if (!arg || ws_thumbprint_normalize(arg, tp) != 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", "thumbprint must be 40 hexadecimal digits");
        return reply_json(rq, 400, o);
    }
    ws_error e;
    int trusted = host_trusts_signer(rq->st, host, tp, NULL, &e) == 0;
    if (!trusted)
        ws_event(rq->st, host, HYPERV_CHANNEL, "Hyper-V-VMMS", 14100, WS_LEVEL_ERROR,
                 "Console connections signed by %s cannot be validated: %s.", tp, e.msg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "host", host);
    cJSON_AddStringToObject(o, "thumbprint", tp);
    cJSON_AddBoolToObject(o, "trusted", trusted);
    if (!trusted)
        cJSON_AddStringToObject(o, "reason", e.msg);
    return reply_json(rq, 200, o);
}

struct MHD_Daemon *host_agent_start(ws_component *c, ws_error *e)
{
    ws_httpd_opts o = {.port = HOST_AGENT_PORT, .max_body = 4096, .handler = handle};
    return ws_httpd_start(c, &o, e);
}
