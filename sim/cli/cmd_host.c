/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim host set: a Hyper-V host's console settings, as an administrator changes
 * Msvm_TerminalServiceSettingData through WMI (Msvm_TerminalService.ModifyServiceSettings).
 * The host reads the RDSTLS answer at each console connection (host/rdp.c) and binds its
 * certificate (AuthCertificateHash) when its service starts. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/events.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "lab/vault.h"

/* --rdstls-reply-version: read at each console connection. */
static int set_reply_version(ws_state *st, const ws_machine *m, const char *version)
{
    ws_error e;
    char old[32] = "";
    if (ws_setting_get(st, m->name, WS_SET_RDSTLS_REPLY_VERSION, old, sizeof old) != 0)
        snprintf(old, sizeof old, "1");
    if (ws_setting_set(st, m->name, WS_SET_RDSTLS_REPLY_VERSION, version, &e) != 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_FAIL;
    }
    ws_event_write(st, m->name, WS_EV_HYPERV_14170_RDSTLS_VERSION, version, old);
    printf("%s: RDSTLS Auth response Version set to %s (was %s)%s; takes effect at the next console connection.\n",
           m->name, version, old,
           strcmp(version, "echo") == 0 ? ": the request's Version, as FreeRDP 3.30 and later need"
                                        : ": Version 1, as FreeRDP 3.29 needs");
    return 0;
}

/* --rdp-cert: AuthCertificateHash, the certificate the host presents on 2179. As Hyper-V
 * finds it: in the host's LocalMachine\My with its private key. The host binds it when
 * its service starts (REFERENCE.md section 2: a certificate change needs a restart of the
 * Hyper-V Virtual Machine Management service). NAME may be a thumbprint. */
static int set_rdp_cert(ws_state *st, const ws_machine *m, const char *cert)
{
    ws_error e;
    char name[128], tp[41];
    if (strlen(cert) == 40 && ws_vault_name_by_thumbprint(st, cert, name, sizeof name, &e) == 0)
        ; /* a thumbprint: the certificate's lab name */
    else
        snprintf(name, sizeof name, "%s", cert);
    int has_key = 0;
    if (ws_vault_thumbprint(st, name, tp) != 0)
        return ws_cmd_usage_error("unknown certificate '%s' (see wapsim cert list)", cert);
    if (!ws_store_contains(st, m->name, "My", name, &has_key) || !has_key)
        return ws_cmd_usage_error("certificate '%s' is not in %s's LocalMachine\\My with its private key (wapsim cert "
                                  "import %s --machine %s --store My)",
                                  name, m->name, name, m->name);
    char old[128] = "", old_tp[41] = "";
    if (ws_setting_get(st, m->name, WS_SET_AUTH_CERT, old, sizeof old) != 0 || ws_vault_thumbprint(st, old, old_tp) != 0)
        snprintf(old_tp, sizeof old_tp, "none");
    if (ws_setting_set(st, m->name, WS_SET_AUTH_CERT, name, &e) != 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_FAIL;
    }
    ws_event_write(st, m->name, WS_EV_HYPERV_14170_AUTH_CERT, tp, name, old_tp, old[0] ? old : "none");
    printf("%s: AuthCertificateHash set to %s (%s), was %s (%s); takes effect when the service restarts: wapsim "
           "service restart %s\n",
           m->name, tp, name, old_tp, old[0] ? old : "none", m->name);
    return 0;
}

static int cmd_host_set(int argc, char **argv)
{
    const char *version = NULL, *cert = NULL;
    const ws_opt opts[] = {WS_OPT_STR("rdstls-reply-version", &version), WS_OPT_STR("rdp-cert", &cert), WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, 0,
                              "which host? (wapsim host set HOST [--rdstls-reply-version 1|echo] [--rdp-cert NAME])",
                              &cli);
    if (rc)
        return rc;
    const char *host = cli.argv[0];
    if (!version && !cert)
        return ws_cmd_usage_error("nothing to set on '%s' (--rdstls-reply-version 1|echo, --rdp-cert NAME)", host);
    if (version && strcmp(version, "1") != 0 && strcmp(version, "echo") != 0)
        return ws_cmd_usage_error("bad --rdstls-reply-version '%s' (1 or echo)", version);
    if (cert && !*cert)
        return ws_cmd_usage_error("empty --rdp-cert (a certificate's name or thumbprint)");
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    ws_machine m;
    if ((rc = ws_cmd_machine(st, host, "host", &m)))
        return ws_cmd_close(st, rc);
    /* Refusals first: a bad certificate changes nothing, not even the other option. */
    if (cert && (rc = set_rdp_cert(st, &m, cert)))
        return ws_cmd_close(st, rc);
    if (version && (rc = set_reply_version(st, &m, version)))
        return ws_cmd_close(st, rc);
    return ws_cmd_close(st, 0);
}

const ws_cmd ws_cmds_host[] = {
    {"host", "set", cmd_host_set, "HOST [--rdstls-reply-version 1|echo] [--rdp-cert NAME]",
     "Change a Hyper-V host's console settings (Msvm_TerminalServiceSettingData).",
     "  --rdstls-reply-version 1|echo\n"
     "           the Version of the host's RDSTLS Auth response: 1 (the default; FreeRDP 3.29\n"
     "           accepts only Version 1) or echo (the request's Version; FreeRDP 3.30 and later\n"
     "           require it). Both clients send identical requests, so the host cannot tell\n"
     "           them apart (REFERENCE.md section 8). Read at each console connection.\n"
     "  --rdp-cert NAME\n"
     "           the certificate the host presents on 2179 (AuthCertificateHash, set through\n"
     "           Msvm_TerminalService.ModifyServiceSettings): its lab name or thumbprint; it must\n"
     "           be in the host's LocalMachine\\My with its private key. Prints the thumbprint\n"
     "           used. The host binds it when its service starts: wapsim service restart HOST.\n"
     "           The lab's hosts start with their own self-signed certificate (hvNN-selfsigned);\n"
     "           hvNN-rdp, issued by the lab root the tenant's PC trusts, is there to bind.\n"
     "HOST must be a machine with role host (hv01, hv02).\n"},
    {0},
};
