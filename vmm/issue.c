/* SPDX-License-Identifier: Apache-2.0 */
/* issue: see issue.h. The steps follow the issue "Issue console access":
 *   1. the VM and its host;  2. the signing certificates (validity, key usage, EKU);
 *   3. signing through the key's CryptoAPI provider;  4. the host confirms it can
 *   validate the signer;  5. the two tokens;  6. the signed .rdp file.
 * VMM's events are [model] ids on the "VMM" channel; the CSP failure also writes the
 * trace block of REFERENCE.md section 6, verbatim. */
#include "issue.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <inttypes.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/net.h"
#include "crypto/cert.h"
#include "lab/clock.h"
#include "lab/dns.h"
#include "crypto/csp.h"
#include "lab/events.h"
#include "lab/keyacl.h"
#include "lab/store.h"
#include "svc/httpc.h"
#include "lab/machine.h"
#include "wire/rdpfile.h"
#include "lab/settings.h"
#include "wire/token.h"
#include "lab/vault.h"
#include "lab/vm.h"

#define AGENT_PORT 5985

typedef struct signer {
    const char *role; /* "gateway" or "Hyper-V", as Set-SCVMMServer names them */
    char name[128];
    char thumbprint[41];
    X509 *cert;
    EVP_PKEY *key;
    char *csp;
} signer;

static void signer_free(signer *s)
{
    X509_free(s->cert);
    EVP_PKEY_free(s->key);
    free(s->csp);
}

/* Log ev (its template's arguments follow e) and fail with its text. */
static int refuse(ws_state *st, const char *vmm, ws_ev ev, ws_error *e, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, e);
    ws_event_vformat(ev, msg, sizeof msg, ap);
    va_end(ap);
    ws_event_put(st, vmm, ev, NULL, msg);
    return ws_seterr(e, "%s", msg);
}

/* Step 2's last check: VMM opens the key as its service account. A certificate in the
 * VMM server's LocalMachine\My with its key is used from there, so the key's access
 * list must let the account in (lab/keyacl.h); one only in VMM's database is used from
 * the database [model]. CryptoAPI answers a key container it may not open with
 * NTE_BAD_KEYSET, "Keyset does not exist": VMM's trace says so, and the error VMM returns
 * is that text alone, which SPF then logs in the field's very line (REFERENCE.md
 * sections 6 and 9). */
static int key_usable(ws_state *st, const char *vmm, const char *param, const signer *s, ws_error *e)
{
    int has_key = 0;
    if (!ws_store_contains(st, vmm, "My", s->name, &has_key) || !has_key)
        return 0;
    char account[WS_KEYACL_ACCOUNT_MAX];
    ws_error why;
    if (ws_keyacl_service_account(st, vmm, account, &why) != 0)
        return ws_seterr(e, "%s", why.msg);
    if (ws_keyacl_can_use(st, vmm, "My", s->name, account, &why))
        return 0;
    ws_event_write(st, vmm, WS_EV_VMM_TRACE_CRYPTO, "Keyset does not exist");
    ws_event_write(st, vmm, WS_EV_VMM_12001_KEY_ACCESS, param, s->name, s->thumbprint, "My", account, why.msg);
    return ws_seterr(e, "Keyset does not exist");
}

/* Step 2: the configured certificate, as VMM holds it (key imported into its database). */
static int load_signer(ws_state *st, const char *vmm, const char *setting, signer *s, ws_error *e)
{
    const char *param = strcmp(s->role, "gateway") == 0 ? "VMConnectGatewayCertificate" : "VMConnectHyperVCertificate";
    if (ws_setting_get(st, vmm, setting, s->name, sizeof s->name) != 0)
        return refuse(st, vmm, WS_EV_VMM_12001_NOT_SET, e, param, param);
    ws_error inner;
    if (ws_vault_get(st, s->name, &s->cert, &s->key, &s->csp, &inner) != 0)
        return refuse(st, vmm, WS_EV_VMM_12001_NOT_LOADED, e, param, s->name, inner.msg);
    ws_cert_thumbprint(s->cert, s->thumbprint);
    if (!s->key)
        return refuse(st, vmm, WS_EV_VMM_12001_NO_KEY, e, param, s->name, s->thumbprint);
    int64_t now = ws_clock_now(st, vmm);
    char when[32];
    if (ws_cert_not_after(s->cert) < now) {
        ws_time_format(ws_cert_not_after(s->cert), when, sizeof when);
        return refuse(st, vmm, WS_EV_VMM_12001_EXPIRED, e, param, s->name, s->thumbprint, when);
    }
    if (ws_cert_not_before(s->cert) > now) {
        ws_time_format(ws_cert_not_before(s->cert), when, sizeof when);
        return refuse(st, vmm, WS_EV_VMM_12001_NOT_YET, e, param, s->name, s->thumbprint, when);
    }
    /* A certificate without the extension allows every use, as on Windows. */
    uint32_t ku = X509_get_key_usage(s->cert);
    if (ku != UINT32_MAX && !(ku & KU_DIGITAL_SIGNATURE))
        return refuse(st, vmm, WS_EV_VMM_12001_KEY_USAGE, e, param, s->name, s->thumbprint);
    if ((X509_get_extension_flags(s->cert) & EXFLAG_XKUSAGE) && !(X509_get_extended_key_usage(s->cert) & XKU_SSL_CLIENT))
        return refuse(st, vmm, WS_EV_VMM_12001_EKU, e, param, s->name, s->thumbprint);
    return key_usable(st, vmm, param, s, e);
}

/* Step 3: one token signed through the key's provider, which decides what it can hash
 * (wire/token.h ws_token_sign). */
static char *sign_token(ws_state *st, const char *vmm, const signer *s, const ws_token *fields, const vmm_grant *g,
                        ws_error *e)
{
    char *token = NULL;
    uint32_t hr = 0;
    ws_error inner;
    switch (ws_token_sign(fields, "SHA256", s->csp, s->key, s->thumbprint, &token, &hr, &inner)) {
    case WS_TOKEN_SIGNED:
        return token;
    case WS_TOKEN_SIGN_FIELDS:
        refuse(st, vmm, WS_EV_VMM_12001_NO_TOKENS, e, g->host, g->port);
        return NULL;
    case WS_TOKEN_SIGN_PROVIDER:
        if (hr == WS_NTE_BAD_ALGID)
            ws_event_write(st, vmm, WS_EV_VMM_TRACE_CRYPTO, inner.msg);
        /* The provider's message; an unknown provider's already names itself and its code. */
        if (hr == WS_NTE_KEYSET_NOT_DEF)
            refuse(st, vmm, WS_EV_VMM_12002_KEYSET, e, s->name, s->thumbprint, inner.msg);
        else
            refuse(st, vmm, WS_EV_VMM_12002_CSP, e, s->name, s->thumbprint, s->csp ? s->csp : ws_csp_default_name(),
                   inner.msg, hr);
        return NULL;
    case WS_TOKEN_SIGN_FORMAT:
        break;
    }
    refuse(st, vmm, WS_EV_VMM_12002_FORMAT, e, s->name, s->thumbprint);
    return NULL;
}

/* Step 4: ask the host's agent whether it can validate tokens from this signer. The
 * request carries VMM's service account, its machine's logon (svc/httpc.h), which the
 * agent checks. */
static int host_confirms(ws_state *st, const char *vmm, const ws_machine *host, const signer *s, ws_error *e)
{
    char url[512], resolve[512];
    snprintf(url, sizeof url, "http://%s:%d/wsman/console-trust?thumbprint=%s", host->fqdn, AGENT_PORT, s->thumbprint);
    snprintf(resolve, sizeof resolve, "%s:%d:%s", host->fqdn, AGENT_PORT, host->address);
    ws_http_request rq = {.method = "GET", .url = url, .resolve = resolve, .st = st, .from_machine = vmm,
                          .timeout_ms = 5000};
    ws_http_response rs;
    ws_error inner;
    if (ws_http(&rq, &rs, &inner) != 0)
        return refuse(st, vmm, WS_EV_VMM_12004, e, host->name, inner.msg);
    cJSON *o = cJSON_ParseWithLength((const char *)rs.body, rs.body_len);
    int rc = 0;
    if (rs.status != 200 || !cJSON_IsTrue(cJSON_GetObjectItem(o, "trusted"))) {
        const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(o, "reason"));
        rc = refuse(st, vmm, WS_EV_VMM_12003, e, host->name, s->name, s->thumbprint, reason ? reason : "no answer");
    }
    cJSON_Delete(o);
    ws_http_response_free(&rs);
    return rc;
}

static int record_token(ws_state *st, const char *kind, const vmm_grant *g, const char *tp, int64_t now,
                        int64_t expires, const char *token)
{
    sqlite3_stmt *s = ws_state_query(st, NULL,
                                     "INSERT INTO tokens(kind, vm, host, signer_thumbprint, token, issued_at, expires_on)"
                                     " VALUES(?, ?, ?, ?, ?, ?, ?)",
                                     5, kind, g->vm_id, g->host_machine, tp, token);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 6, now);
    sqlite3_bind_int64(s, 7, expires);
    return ws_state_finish(st, s, sqlite3_step(s), NULL);
}

/* The gateway's port (443 is left out of the name): the port of what the cloud's FQDN
 * names (a gateway, or the balancer in front of several), else the first RD Gateway
 * machine's. [model] VMM writes what the admin portal's cloud setting says; the lab's
 * gateways listen on 8443, so the port comes from the machine. */
static int gateway_port(ws_state *st, const char *fqdn)
{
    char port[16] = "";
    if (ws_state_text(st, port, sizeof port, NULL,
                      "SELECT port FROM machines WHERE role IN ('gateway', 'balancer') AND port IS NOT NULL AND"
                      " (public_fqdn = ?1 COLLATE NOCASE OR fqdn = ?1 COLLATE NOCASE OR address = ?1)"
                      " ORDER BY role = 'gateway', name LIMIT 1",
                      1, fqdn) == 0 &&
        atoi(port) > 0)
        return atoi(port);
    ws_machine m;
    return ws_machine_by_role(st, "gateway", &m, NULL) == 0 ? m.port : 443;
}

/* Step 6: the .rdp file with the key set of the real WAP file (REFERENCE.md section 4). */
static int build_rdp(ws_state *st, vmm_grant *g, const signer *gw, ws_error *e)
{
    char fqdn[256], gateway[300], port[16], pcb[40];
    if (ws_setting_get(st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, fqdn, sizeof fqdn) != 0)
        return ws_seterr(e, "the cloud has no Remote Desktop Gateway FQDN");
    /* host:port unless 443; an IPv6 address in brackets before the port (base/net.h). */
    ws_hostport_format(fqdn, gateway_port(st, fqdn), 443, gateway, sizeof gateway);
    snprintf(port, sizeof port, "%d", g->port);
    snprintf(pcb, sizeof pcb, "%s", g->vm_id);
    ws_rdp_file f;
    ws_rdp_init(&f);
    int rc = ws_rdp_set(&f, "full address", 's', g->host) || ws_rdp_set(&f, "gatewaycredentialssource", 'i', "5") ||
             ws_rdp_set(&f, "gatewayprofileusagemethod", 'i', "1") ||
             ws_rdp_set(&f, "endpointfedauth", 's', g->vm_token) || ws_rdp_set(&f, "pcb", 's', pcb) ||
             ws_rdp_set(&f, "server port", 'i', port) || ws_rdp_set(&f, "gatewayusagemethod", 'i', "2") ||
             ws_rdp_set(&f, "gatewayhostname", 's', gateway) ||
             ws_rdp_set(&f, "gatewayaccesstoken", 's', g->host_token) ||
             ws_rdp_set(&f, "enablecredsspsupport", 'i', "0") || ws_rdp_set(&f, "userdstls", 'i', "1");
    if (rc == 0)
        rc = ws_rdp_sign(&f, gw->cert, gw->key, e);
    else
        ws_seterr(e, "cannot build the RDP file");
    if (rc == 0 && ws_rdp_serialize(&f, &g->rdp, &g->rdp_len) != 0)
        rc = ws_seterr(e, "cannot write the RDP file");
    ws_rdp_free(&f);
    return rc;
}

int vmm_issue(ws_state *st, const char *vmm, const char *vm_id, int with_rdp, vmm_grant *g, unsigned *http_status,
              ws_error *e)
{
    memset(g, 0, sizeof *g);
    *http_status = 500;
    signer gw = {.role = "gateway"}, hv = {.role = "Hyper-V"};
    int rc = -1;

    /* 1. The VM and the host it runs on. */
    if (!ws_guid_valid(vm_id)) {
        *http_status = 400;
        return refuse(st, vmm, WS_EV_VMM_801_BAD_ID, e, vm_id);
    }
    ws_vm vm;
    int found = ws_vm_get(st, vm_id, &vm, e);
    if (found == -1)
        return -1;
    if (found != 0) {
        *http_status = 404;
        return refuse(st, vmm, WS_EV_VMM_801_NOT_FOUND, e, vm_id);
    }
    snprintf(g->vm_id, sizeof g->vm_id, "%s", vm.id);
    for (char *p = g->vm_id; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    snprintf(g->vm_name, sizeof g->vm_name, "%s", vm.name);
    snprintf(g->host_machine, sizeof g->host_machine, "%s", vm.host);
    ws_machine host;
    if (ws_machine_get(st, g->host_machine, &host, e) != 0)
        return -1;

    char mode[16] = "FQDN", value[32];
    ws_setting_get(st, vmm, WS_SET_VMM_HOST_ID_MODE, mode, sizeof mode);
    if (ws_dns_host_identifier(mode, host.name, host.fqdn, host.address, g->host, sizeof g->host) != 0)
        return refuse(st, vmm, WS_EV_VMM_12001_NO_ADDRESS, e, host.name, mode);
    g->port = 2179;
    if (ws_setting_get(st, vmm, WS_SET_VMM_DEFAULT_PORT, value, sizeof value) == 0)
        g->port = atoi(value);
    int ttl_minutes = 2;
    if (ws_setting_get(st, vmm, WS_SET_VMM_TTL_MINUTES, value, sizeof value) == 0)
        ttl_minutes = atoi(value);

    /* 2. The signing certificates. */
    if (load_signer(st, vmm, WS_SET_VMM_GATEWAY_CERT, &gw, e) != 0 ||
        load_signer(st, vmm, WS_SET_VMM_HYPERV_CERT, &hv, e) != 0)
        goto out;

    /* 3. Sign both tokens through the keys' providers. Fields that do not form the
     * HostToken cannot form the VMToken either (same host; the VM id is the database's
     * GUID), so "Cannot form tokens" still comes before any signing. */
    int64_t now = ws_clock_now(st, vmm), expires = now + (int64_t)ttl_minutes * 60;
    ws_token host_fields = {.kind = WS_TOKEN_HOST, .port = g->port, .expires_on = expires};
    ws_token vm_fields = {.kind = WS_TOKEN_VM, .expires_on = expires};
    snprintf(host_fields.host, sizeof host_fields.host, "%s", g->host);
    snprintf(vm_fields.host, sizeof vm_fields.host, "%s", g->host);
    snprintf(vm_fields.vmid, sizeof vm_fields.vmid, "%s", g->vm_id);
    g->host_token = sign_token(st, vmm, &gw, &host_fields, g, e);
    if (g->host_token)
        g->vm_token = sign_token(st, vmm, &hv, &vm_fields, g, e);
    if (!g->host_token || !g->vm_token)
        goto out;

    /* 4. The host must be able to validate what it will be handed. */
    if (host_confirms(st, vmm, &host, &hv, e) != 0)
        goto out;

    /* 5. Record the tokens. */
    if (record_token(st, "HostToken", g, gw.thumbprint, now, expires, g->host_token) != 0 ||
        record_token(st, "VMToken", g, hv.thumbprint, now, expires, g->vm_token) != 0) {
        ws_seterr(e, "cannot record the tokens: %s", sqlite3_errmsg(st->db));
        goto out;
    }

    /* 6. The signed .rdp file. */
    if (with_rdp && build_rdp(st, g, &gw, e) != 0) {
        refuse(st, vmm, WS_EV_VMM_12001_RDP_FILE, e, g->vm_name, e->msg);
        goto out;
    }
    char until[32];
    ws_time_format(expires, until, sizeof until);
    ws_event_write(st, vmm, WS_EV_VMM_12010, g->vm_name, g->vm_id, host.name, g->host, until);
    *http_status = 200;
    rc = 0;
out:
    signer_free(&gw);
    signer_free(&hv);
    if (rc != 0) {
        free(g->host_token);
        free(g->vm_token);
        g->host_token = g->vm_token = NULL;
    }
    return rc;
}

void vmm_grant_free(vmm_grant *g)
{
    free(g->host_token);
    free(g->vm_token);
    free(g->rdp);
    memset(g, 0, sizeof *g);
}
