/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim vmm set | refresh-host | fedauth: the VMM server's Console Connect
 * configuration as Set-SCVMMServer changes it, Read-SCVMHost pushing it to the
 * Hyper-V hosts, and New-SCVMConnectFedAuth asking for a VM's tokens.
 *
 * Set-SCVMMServer does not reconfigure the hosts: a new Hyper-V certificate reaches a
 * host only with Read-SCVMHost, which installs its public part in the host's
 * LocalMachine\My and sets the host's TrustedIssuerCertificateHashes to its
 * thumbprint. Neither touches a host's Root store: a self-signed certificate must be
 * put there by the administrator (REFERENCE.md section 2). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/cert.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/events.h"
#include "svc/httpc.h"
#include "lab/machine.h"
#include "base/net.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "lab/vault.h"
#include "lab/vm.h"

#define AGENT_PORT 5985        /* the host's VMM agent (WinRM) */
#define AGENT_TIMEOUT_MS 2000

static const char *const host_id_modes[] = {"FQDN", "IPv4", "IPv6", "HostName"};

/* Logs a certificate just put in a machine's store, as wapsim cert import does. */
static void log_installed(ws_state *st, const char *machine, const char *store, const char *name, int with_key)
{
    X509 *c = NULL;
    if (ws_vault_get(st, name, &c, NULL, NULL, NULL) != 0)
        return;
    char tp[41];
    ws_cert_thumbprint(c, tp);
    char *subject = ws_cert_subject(c);
    X509_free(c);
    ws_event_write(st, machine, WS_EV_CERT_1006, store, subject, tp, with_key ? "with its private key" : "public key only");
    free(subject);
}

/* Install a certificate in a store unless it is there already (keeping a key that is
 * there); logs the install on that machine. *installed says whether it did. */
static int install(ws_state *st, const char *machine, const char *store, const char *name, int with_key,
                   int *installed, ws_error *e)
{
    if (ws_store_install(st, machine, store, name, with_key, installed, e) != 0)
        return -1;
    if (*installed)
        log_installed(st, machine, store, name, with_key);
    return 0;
}

/* --host-id-mode: one of host_id_modes, in its canonical spelling. */
static int take_host_id_mode(void *dest, const char *value)
{
    for (size_t i = 0; i < sizeof host_id_modes / sizeof host_id_modes[0]; i++)
        if (ws_streq_ci(value, host_id_modes[i])) {
            *(const char **)dest = host_id_modes[i];
            return 0;
        }
    return ws_cmd_usage_error("bad --host-id-mode '%s' (FQDN, IPv4, IPv6 or HostName)", value);
}

/* A certificate Set-SCVMMServer accepts: in the vault (named or by thumbprint,
 * ws_vault_resolve; name gets the vault's name), with its private key (VMM imports the
 * PFX's key into its database). */
static int check_vmm_cert(ws_state *st, const char *option, const char *text, char name[128], char tp[41])
{
    EVP_PKEY *k = NULL;
    X509 *c = NULL;
    ws_error e;
    if (ws_vault_resolve(st, text, name, 128, tp, &e) != 0 || ws_vault_get(st, name, &c, &k, NULL, &e) != 0)
        return ws_cmd_usage_error("%s: %s", option, e.msg);
    X509_free(c);
    if (!k)
        return ws_cmd_usage_error("%s: certificate '%s' (%s) has no private key in the vault: the certificate's "
                                  "private key is required (VMM imports it into its database)",
                                  option, name, tp);
    EVP_PKEY_free(k);
    return 0;
}

typedef struct vmm_change {
    const char *param;   /* the Set-SCVMMServer parameter */
    const char *key;     /* the setting */
    const char *value;   /* NULL: not given */
    char old[128];
} vmm_change;

static int cmd_vmm_set(int argc, char **argv)
{
    vmm_change ch_[5] = {
        {"VMConnectGatewayCertificate", WS_SET_VMM_GATEWAY_CERT, NULL, ""},
        {"VMConnectHyperVCertificate", WS_SET_VMM_HYPERV_CERT, NULL, ""},
        {"VMConnectHostIdentificationMode", WS_SET_VMM_HOST_ID_MODE, NULL, ""},
        {"VMConnectTimeToLiveInMinutes", WS_SET_VMM_TTL_MINUTES, NULL, ""},
        {"VMConnectDefaultPort", WS_SET_VMM_DEFAULT_PORT, NULL, ""},
    };
    int ttl_minutes = 0, default_port = 0;
    const ws_opt opts[] = {WS_OPT_STR("gateway-cert", &ch_[0].value),
                           WS_OPT_STR("hyperv-cert", &ch_[1].value),
                           WS_OPT_CALL("host-id-mode", &ch_[2].value, take_host_id_mode),
                           WS_OPT_INT("ttl-minutes", &ttl_minutes, 1, 60, "minutes"),
                           WS_OPT_INT("default-port", &default_port, 1, 65535, "a TCP port"),
                           WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, 0, 0, 0, &cli);
    if (rc)
        return rc;
    char ttl[16], port[16];
    if (ttl_minutes) {
        snprintf(ttl, sizeof ttl, "%d", ttl_minutes);
        ch_[3].value = ttl;
    }
    if (default_port) {
        snprintf(port, sizeof port, "%d", default_port);
        ch_[4].value = port;
    }
    int any = 0;
    for (int i = 0; i < 5; i++)
        any |= ch_[i].value != NULL;
    if (!any)
        return ws_cmd_usage_error("nothing to set (give --gateway-cert, --hyperv-cert, --host-id-mode, "
                                  "--ttl-minutes or --default-port)");
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    ws_machine vmm;
    ws_error e;
    char tps[2][41] = {"", ""}, names[2][128] = {"", ""};
    if ((rc = ws_cmd_role_machine(st, "vmm", &vmm)))
        return ws_cmd_close(st, rc);
    /* Everything is checked before anything changes. */
    if ((ch_[0].value && (rc = check_vmm_cert(st, "--gateway-cert", ch_[0].value, names[0], tps[0]))) ||
        (ch_[1].value && (rc = check_vmm_cert(st, "--hyperv-cert", ch_[1].value, names[1], tps[1]))))
        return ws_cmd_close(st, rc);
    for (int i = 0; i < 2; i++)
        if (ch_[i].value)
            ch_[i].value = names[i];
    for (int i = 0; i < 5; i++)
        if (ws_setting_get(st, vmm.name, ch_[i].key, ch_[i].old, sizeof ch_[i].old) != 0)
            snprintf(ch_[i].old, sizeof ch_[i].old, "(not set)");
    char summary[1024] = "";
    size_t len = 0;
    int installed[2] = {0, 0};
    int ok = ws_state_begin(st, &e) == 0;
    for (int i = 0; ok && i < 5; i++) {
        if (!ch_[i].value)
            continue;
        /* The VMM server holds the certificates it signs with, with their keys. */
        ok = ws_setting_set(st, vmm.name, ch_[i].key, ch_[i].value, &e) == 0 &&
             (i >= 2 || install(st, vmm.name, "My", ch_[i].value, 1, &installed[i], &e) == 0);
        len += (size_t)snprintf(summary + len, sizeof summary - len, "%s-%s %s%s%s%s (was %s)",
                                len ? "; " : "", ch_[i].param, ch_[i].value, i < 2 ? " (" : "", i < 2 ? tps[i] : "",
                                i < 2 ? ")" : "", ch_[i].old);
        if (len >= sizeof summary)
            len = sizeof summary - 1;
    }
    if (ok && ws_event_write(st, vmm.name, WS_EV_VMM_12020, summary) != 0) {
        ws_seterr(&e, "cannot write the event log");
        ok = 0;
    }
    if ((rc = ws_cmd_commit(st, ok, &e)) != 0)
        return ws_cmd_close(st, rc);
    for (int i = 0; i < 5; i++) {
        if (!ch_[i].value)
            continue;
        if (i < 2)
            printf("%s: %s = %s (%s), was %s%s\n", vmm.name, ch_[i].param, ch_[i].value, tps[i], ch_[i].old,
                   installed[i] ? "; installed with its private key in LocalMachine\\My" : "");
        else
            printf("%s: %s = %s, was %s\n", vmm.name, ch_[i].param, ch_[i].value, ch_[i].old);
    }
    if (ch_[1].value)
        printf("The hosts are not reconfigured: they keep their TrustedIssuerCertificateHashes until refreshed "
               "(wapsim vmm refresh-host --all, as Read-SCVMHost).\n");
    if (ch_[0].value)
        printf("The RD Gateway admits HostTokens only from the thumbprints it trusts "
               "(wapsim gateway set --add-trusted-issuer %s).\n",
               tps[0]);
    return ws_cmd_close(st, 0);
}

typedef struct host_list {
    ws_machine m[64];
    int n;
} host_list;

static int collect_host(const ws_machine *m, void *arg)
{
    host_list *l = arg;
    if (strcmp(m->role, "host") == 0 && l->n < 64)
        l->m[l->n++] = *m;
    return 0;
}

/* The host's TrustedIssuerCertificateHashes, comma-separated. */
static void trusted_list(ws_state *st, const char *machine, char *out, size_t n)
{
    ws_strv l = {0};
    size_t len = 0;
    out[0] = '\0';
    ws_trusted_issuer_list(st, machine, &l, NULL);
    for (int i = 0; i < l.n && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "", l.v[i]);
    ws_strv_free(&l);
}

/* Read-SCVMHost for one host: reachable, then its store and trust list. 0 or exit 1. */
static int refresh_one(ws_state *st, const ws_machine *vmm, const ws_machine *host, const char *cert,
                       const char *tp)
{
    ws_error e;
    int fd = ws_tcp_connect(host->address, AGENT_PORT, AGENT_TIMEOUT_MS, &e);
    if (fd < 0) {
        ws_event_write(st, vmm->name, WS_EV_VMM_12004_READ_HOST, host->name, host->fqdn, AGENT_PORT, e.msg);
        printf("%s: not refreshed: the host did not answer VMM (WinRM) at %s:%d within %d s (%s); nothing changed "
               "on it.\n",
               host->name, host->address, AGENT_PORT, AGENT_TIMEOUT_MS / 1000, e.msg);
        return WS_EXIT_FAIL;
    }
    close(fd);
    char old[1024];
    trusted_list(st, host->name, old, sizeof old);
    int installed = 0;
    if (ws_state_begin(st, &e) != 0)
        goto fail;
    if (ws_trusted_issuer_refresh_host(st, host->name, cert, &installed, &e) != 0)
        goto rollback;
    if (installed)
        log_installed(st, host->name, "My", cert, 0);
    ws_event_write(st, host->name, WS_EV_HYPERV_14170_TRUSTED_ISSUERS, vmm->name, tp, old);
    ws_event_write(st, vmm->name, WS_EV_VMM_12021, host->name, cert, tp, installed ? "installed in" : "already in",
                   tp);
    if (ws_state_commit(st, &e) != 0)
        goto fail;
    printf("%s: refreshed: %s (%s) %s LocalMachine\\My; TrustedIssuerCertificateHashes = {%s} (was {%s}).\n",
           host->name, cert, tp, installed ? "installed in" : "already in", tp, old);
    return 0;
rollback:
    ws_state_rollback(st);
fail:
    printf("%s: not refreshed: %s\n", host->name, e.msg);
    return WS_EXIT_FAIL;
}

static int cmd_vmm_refresh_host(int argc, char **argv)
{
    int all = 0;
    const ws_opt opts[] = {WS_OPT_FLAG("all", &all), WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, 0, 0, 1, &cli);
    if (rc)
        return rc;
    if (all == (cli.argc > 0))
        return ws_cmd_usage_error(all ? "give a HOST or --all, not both" : "which host? (wapsim vmm refresh-host "
                                                                           "HOST|--all)");
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    ws_error e;
    host_list *hosts = calloc(1, sizeof *hosts);
    ws_machine vmm;
    char cert[128], tp[41];
    if (!hosts)
        abort();
    if ((rc = ws_cmd_role_machine(st, "vmm", &vmm)))
        goto out;
    if (all) {
        ws_machine_foreach(st, collect_host, hosts, &e);
        if (hosts->n == 0) {
            rc = ws_cmd_usage_error("the lab has no Hyper-V hosts");
            goto out;
        }
    } else {
        if ((rc = ws_cmd_machine(st, cli.argv[0], "host", &hosts->m[0])))
            goto out;
        hosts->n = 1;
    }
    rc = WS_EXIT_FAIL;
    if (ws_setting_get(st, vmm.name, WS_SET_VMM_HYPERV_CERT, cert, sizeof cert) != 0) {
        ws_warn("%s has no VMConnectHyperVCertificate (wapsim vmm set --hyperv-cert NAME)", vmm.name);
        goto out;
    }
    if (ws_vault_thumbprint(st, cert, tp) != 0) {
        ws_warn("%s's VMConnectHyperVCertificate '%s' is not in the vault", vmm.name, cert);
        goto out;
    }
    rc = 0;
    for (int i = 0; i < hosts->n; i++)
        if (refresh_one(st, &vmm, &hosts->m[i], cert, tp) != 0)
            rc = WS_EXIT_FAIL;
out:
    free(hosts);
    return ws_cmd_close(st, rc);
}

static int cmd_vmm_fedauth(int argc, char **argv)
{
    const char *vm = NULL;
    const ws_opt opts[] = {WS_OPT_STR("vm", &vm), WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, WS_OPT_JSON, 0, 0, &cli);
    if (rc)
        return rc;
    if (!vm)
        return ws_cmd_usage_error("which VM? (wapsim vmm fedauth --vm NAME)");
    int json = cli.json;
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    char id[64] = "";
    ws_vm found;
    if (ws_vm_find(st, vm, &found, NULL) == 0)
        snprintf(id, sizeof id, "%s", found.id);
    if (!id[0])
        return ws_cmd_close(st, ws_cmd_usage_error("unknown VM '%s'", vm));
    /* The cmdlet runs on the VMM server: the request leaves from its address. */
    ws_machine vmm;
    ws_error e;
    if ((rc = ws_cmd_role_machine(st, "vmm", &vmm)))
        return ws_cmd_close(st, rc);
    char url[300], body[100];
    snprintf(url, sizeof url, "http://%s:%d/fedauth", vmm.address, vmm.port);
    snprintf(body, sizeof body, "{\"vm\":\"%s\"}", id);
    ws_http_request rq = {.method = "POST", .url = url, .body = body, .body_len = strlen(body),
                          .content_type = "application/json", .st = st, .from_machine = vmm.name,
                          .timeout_ms = 30000};
    ws_http_response rs;
    if (ws_http(&rq, &rs, &e) != 0) {
        ws_state_close(st);
        ws_warn("VMM server %s is not reachable: %s", vmm.name, e.msg);
        return WS_EXIT_FAIL;
    }
    cJSON *o = cJSON_ParseWithLength((const char *)rs.body, rs.body_len);
    rc = 0;
    if (rs.status != 200 || !cJSON_IsObject(o)) {
        const char *msg = ws_cmd_json_str(o, "error");
        ws_warn("New-SCVMConnectFedAuth failed: %s", msg ? msg : (const char *)rs.body);
        cJSON_Delete(o);
        rc = WS_EXIT_FAIL;
    } else if (json) {
        ws_cmd_print_json(o);
    } else {
        static const char *const keys[] = {"Host", "VMRCPort", "HostToken", "VMID", "VMToken"};
        for (int i = 0; i < 5; i++) {
            cJSON *item = cJSON_GetObjectItem(o, keys[i]);
            if (cJSON_IsNumber(item))
                printf("%-9s : %d\n", keys[i], item->valueint);
            else
                printf("%-9s : %s\n", keys[i], cJSON_GetStringValue(item) ? cJSON_GetStringValue(item) : "");
        }
        cJSON_Delete(o);
    }
    ws_http_response_free(&rs);
    return ws_cmd_close(st, rc);
}

const ws_cmd ws_cmds_vmm[] = {
    {"vmm", "set", cmd_vmm_set,
     "[--gateway-cert NAME] [--hyperv-cert NAME] [--host-id-mode FQDN|IPv4|IPv6|HostName]\n"
     "       [--ttl-minutes 1..60] [--default-port N]",
     "Set-SCVMMServer -VMConnect*: the VMM server's Console Connect settings.",
     "  --gateway-cert NAME  -VMConnectGatewayCertificatePath: signs the HostToken and the .rdp file\n"
     "  --hyperv-cert NAME   -VMConnectHyperVCertificatePath: signs the VMToken\n"
     "                       Both need the certificate's private key (VMM imports it into its\n"
     "                       database); the lab installs it with its key in the VMM server's\n"
     "                       LocalMachine\\My. NAME may also be the certificate's thumbprint;\n"
     "                       the thumbprint used is printed.\n"
     "  --host-id-mode MODE  -VMConnectHostIdentificationMode: what the .rdp file's full address\n"
     "                       names: FQDN, IPv4, IPv6 or HostName\n"
     "  --ttl-minutes N      -VMConnectTimeToLiveInMinutes: token life, 1..60\n"
     "  --default-port N     -VMConnectDefaultPort: the hosts' console port (2179)\n"
     "Everything is checked before anything changes. Changing a certificate does not\n"
     "reconfigure the hosts (wapsim vmm refresh-host) or the RD Gateway (wapsim gateway set).\n"
     "Logs event 12020 [model] on the VMM server's VMM channel.\n"},
    {"vmm", "refresh-host", cmd_vmm_refresh_host, "HOST|--all",
     "Read-SCVMHost: push the Hyper-V certificate to hosts and make them trust it.",
     "For each host (role host; --all: every one): checks that it answers VMM on 5985 (its\n"
     "agent, WinRM in the product) within 2 s, else that host fails with the reason, nothing\n"
     "changes on it, and the command exits 1. Then installs the VMConnectHyperVCertificate's\n"
     "public part in the host's LocalMachine\\My and sets its TrustedIssuerCertificateHashes to\n"
     "exactly that thumbprint. The host's Root store is not touched: a self-signed\n"
     "certificate must be imported there by the administrator (wapsim cert import).\n"
     "Logs events 14170 and 1006 [model] on the host and 12021 (12004 on failure) on VMM.\n"},
    {"vmm", "fedauth", cmd_vmm_fedauth, "--vm V [--json]",
     "New-SCVMConnectFedAuth: the tokens VMM issues for a VM, with the same checks.",
     "  --json   {\"Host\",\"VMRCPort\",\"HostToken\",\"VMID\",\"VMToken\"}\n"},
    {0},
};
