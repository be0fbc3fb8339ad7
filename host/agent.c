/* SPDX-License-Identifier: Apache-2.0 */
/* agent: the host's VMM agent on 5985 (WinRM in the real product). VMM asks it,
 * before issuing a console token, whether this host can validate tokens from a
 * signer; the host answers from its own state (trust.c) and logs a refusal.
 *   GET /wsman/console-trust?thumbprint=<40 hex>  ->  {"host","thumbprint","trusted","reason"}
 * and, for `wapsim diagnose` (VMM reading the host's settings and stores over WinRM:
 * Msvm_TerminalServiceSettingData and Cert:\LocalMachine), a question that logs nothing:
 *   GET /wsman/console-trust-settings?thumbprint=<40 hex>
 *     ->  {"host","thumbprint","trusted_issuer_certificate_hashes":[...],"in_trusted_issuers",
 *          "in_my","in_root","trusted","reason","time"}
 * Only a VMM server may ask: from its address, presenting its service account
 * (lab/accounts.h), HTTP basic authentication [model: WinRM's Kerberos authentication].
 * A caller from elsewhere gets 403, one without the right credentials 401.
 * Both answer from the configured TrustedIssuerCertificateHashes, as WMI
 * (Msvm_TerminalServiceSettingData) shows it, not from the list the running service
 * loaded at its start (trust.h): after a Read-SCVMHost without a restart of the
 * service, VMM sees the new thumbprint here and issues tokens the service still
 * refuses [model]. When the service last started is the System log's (event 7036). */
#include "agent.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cert.h"
#include "lab/accounts.h"
#include "lab/clock.h"
#include "lab/events.h"
#include "lab/fedauth.h"
#include "lab/machine.h"
#include "trust.h"

/* The caller must be a VMM server: a machine of role vmm at that address, presenting its
 * service account (the address alone can be had by anyone on the computer). 0 and
 * *refusal queued (403 or 401, logged) when it is not. */
static int caller_is_vmm(ws_httpd_req *rq, enum MHD_Result *refusal)
{
    ws_strv vmms = {0};
    ws_machine_names_at(rq->st, rq->peer, "vmm", NULL, &vmms);
    int ok = ws_httpd_caller_check(rq, &vmms, WS_EV_HYPERV_14090, WS_EV_HYPERV_14090_CREDENTIALS, "WSMAN", refusal);
    ws_strv_free(&vmms);
    return ok;
}

/* What the host holds for a signer: its TrustedIssuerCertificateHashes, whether the
 * certificate is in its My and Root stores (each asked on its own), and its own verdict
 * (trust.c); nothing is logged. */
static cJSON *trust_settings(ws_state *st, const char *host, const char *tp)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "host", host);
    cJSON_AddStringToObject(o, "thumbprint", tp);
    ws_strv hashes = {0};
    int listed = ws_fedauth_signer_listed(st, host, tp, &hashes);
    cJSON *list = cJSON_AddArrayToObject(o, "trusted_issuer_certificate_hashes");
    for (int i = 0; i < hashes.n; i++)
        cJSON_AddItemToArray(list, cJSON_CreateString(hashes.v[i]));
    ws_strv_free(&hashes);
    cJSON_AddBoolToObject(o, "in_trusted_issuers", listed);
    X509 *c = NULL;
    int in_my = ws_fedauth_signer_find(st, host, tp, WS_FEDAUTH_IN_MY, &c, NULL) == 0;
    X509_free(c);
    int in_root = ws_fedauth_signer_find(st, host, tp, WS_FEDAUTH_IN_ROOT, &c, NULL) == 0;
    X509_free(c);
    cJSON_AddBoolToObject(o, "in_my", in_my);
    cJSON_AddBoolToObject(o, "in_root", in_root);
    ws_error e;
    int trusted = host_trusts_signer(st, host, tp, NULL, &e) == 0;
    cJSON_AddBoolToObject(o, "trusted", trusted);
    if (!trusted)
        cJSON_AddStringToObject(o, "reason", e.msg);
    cJSON_AddNumberToObject(o, "time", (double)ws_clock_now(st, host));
    return o;
}

static enum MHD_Result handle(ws_httpd_req *rq)
{
    const char *host = rq->c->machine.name;
    enum MHD_Result refusal;
    if (!caller_is_vmm(rq, &refusal))
        return refusal;
    int settings = strcmp(rq->url, "/wsman/console-trust-settings") == 0;
    if (strcmp(rq->method, "GET") != 0 || (!settings && strcmp(rq->url, "/wsman/console-trust") != 0)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", "no such resource");
        return ws_httpd_reply_json(rq->conn, 404, o);
    }
    const char *arg = ws_httpd_arg(rq, "thumbprint");
    char tp[41];
    if (!arg || ws_thumbprint_normalize(arg, tp) != 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", "thumbprint must be 40 hexadecimal digits");
        return ws_httpd_reply_json(rq->conn, 400, o);
    }
    if (settings)
        return ws_httpd_reply_json(rq->conn, 200, trust_settings(rq->st, host, tp));
    ws_error e;
    int trusted = host_trusts_signer(rq->st, host, tp, NULL, &e) == 0;
    if (!trusted)
        ws_event_write(rq->st, host, WS_EV_HYPERV_14100, tp, e.msg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "host", host);
    cJSON_AddStringToObject(o, "thumbprint", tp);
    cJSON_AddBoolToObject(o, "trusted", trusted);
    if (!trusted)
        cJSON_AddStringToObject(o, "reason", e.msg);
    return ws_httpd_reply_json(rq->conn, 200, o);
}

struct MHD_Daemon *host_agent_start(ws_component *c, ws_error *e)
{
    ws_httpd_opts o = {.port = HOST_AGENT_PORT, .max_body = 4096, .handler = handle};
    return ws_httpd_start(c, &o, e);
}
