/* SPDX-License-Identifier: Apache-2.0 */
/* diag_keys: private keys their services cannot use (lab/keyacl.h, the one rule VMM and
 * the gateway apply). VMM's signing certificate on the VMM server (vmm-cert-key-access)
 * and each RD Gateway's bound TLS certificate (gateway-cert-key-access), judged for the
 * service's logon account from the key's access list in the configuration: what the
 * service meets when it next opens the key. One cause once: a key VMM does not have at
 * all is vmm-cert-no-key (diagnose.c), and a gateway whose handshakes fail because of
 * this is not also gateway-tls-failed. */
#include <stdio.h>
#include <string.h>

#include "lab/keyacl.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "train/diagnose_int.h"

/* The repair lines: wapsim's, certlm.msc's Manage Private Keys, and icacls on the key's
 * file (CryptoAPI keys under MachineKeys, CNG keys under Crypto\Keys). */
static void fix_grant(ws_finding *f, const char *cert, const char *tp, const ws_machine *m, const char *account)
{
    char q[300];
    ws_diag_fix(f, "wapsim cert grant %s --machine %s --account %s", cert, m->name, ws_diag_shq(account, q, sizeof q));
    ws_diag_fix(f, "Console: certlm.msc on %s > Personal > Certificates > %s > All Tasks > Manage Private Keys > Add "
                   "%s, Allow Read",
                m->fqdn, tp, account);
    ws_diag_fix(f, "PowerShell: $k = [Security.Cryptography.X509Certificates.RSACertificateExtensions]::"
                   "GetRSAPrivateKey((Get-Item Cert:\\LocalMachine\\My\\%s)); icacls "
                   "\"$env:ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\\$($k.Key.UniqueName)\" /grant '%s:R'   # "
                   "on %s (a CNG key: ...\\Microsoft\\Crypto\\Keys\\)",
                tp, account, m->fqdn);
}

/* Evidence shared by both findings: the list, the account and its membership. */
static void evidence_acl(diag *g, ws_finding *f, const ws_machine *m, const char *cert, const char *account)
{
    char acl[600];
    ws_keyacl_describe(g->st, m->name, "My", cert, acl, sizeof acl);
    ws_diag_evidence(f, "%s\\LocalMachine\\My\\%s's private key allows {%s}; the service runs as %s, which is %sa "
                        "member of %s's local Administrators.",
                     m->name, cert, acl, account, ws_keyacl_local_admin(g->st, m->name, account) ? "" : "not ",
                     m->name);
}

static void check_vmm_key(diag *g, const signer *s, const signer *other)
{
    if (!s->name[0] || !s->key || (other && strcmp(other->name, s->name) == 0))
        return; /* not configured, or no key at all (vmm-cert-no-key), or judged with the other signer */
    const ws_machine *m = &g->vmm;
    int has_key = 0;
    char account[WS_KEYACL_ACCOUNT_MAX];
    if (!ws_store_contains(g->st, m->name, "My", s->name, &has_key) || !has_key ||
        ws_keyacl_service_account(g->st, m->name, account, NULL) != 0 ||
        ws_keyacl_can_use(g->st, m->name, "My", s->name, account, NULL))
        return;
    ws_finding *f = ws_diag_add(g, WS_DIAG_VMM_CERT_KEY_ACCESS, m->name, WS_DIAG_ERROR,
                                "VMM's service account %s cannot use the private key of its %s %s.", account,
                                s->param, s->name);
    evidence_acl(g, f, m, s->name, account);
    ws_diag_evidence(f, "VMM cannot sign console tokens: its trace says \"Exception Message=Keyset does not exist\", "
                        "SPF logs \"... failed with error messsage 'Keyset does not exist'\" and the tenant's browser "
                        "gets a JSON file instead of the .rdp file.");
    fix_grant(f, s->name, s->tp, m, account);
}

static void check_gateway_key(diag *g, const ws_machine *m)
{
    char cert[128] = "", account[WS_KEYACL_ACCOUNT_MAX], tp[41] = "?";
    int has_key = 0;
    if (ws_setting_get(g->st, m->name, WS_SET_SSL_CERT, cert, sizeof cert) != 0 || !cert[0] ||
        !ws_store_contains(g->st, m->name, "My", cert, &has_key) || !has_key ||
        ws_keyacl_service_account(g->st, m->name, account, NULL) != 0 ||
        ws_keyacl_can_use(g->st, m->name, "My", cert, account, NULL))
        return; /* no binding or no key there: gateway-cert-missing */
    ws_state_text(g->st, tp, sizeof tp, NULL, "SELECT thumbprint FROM certificates WHERE name = ?", 1, cert);
    ws_finding *f = ws_diag_add(g, WS_DIAG_GATEWAY_CERT_KEY_ACCESS, m->name, WS_DIAG_ERROR,
                                "The RD Gateway service on %s (%s) cannot use the private key of its SSL certificate %s.",
                                m->name, account, cert);
    evidence_acl(g, f, m, cert, account);
    ws_diag_evidence(f, "At its start the service logs event 103 (\"does not have sufficient permissions to access the "
                        "Secure Sockets Layer (SSL) certificate\") and then completes no TLS handshake: each one "
                        "logs Schannel 36870 (0x8009030D) and Remote Desktop Connection cannot reach the gateway.");
    fix_grant(f, cert, tp, m, account);
    ws_diag_fix(f, "wapsim service restart %s", m->name);
    ws_diag_fix(f, "PowerShell: Restart-Service TSGateway   # on %s (or map the certificate again in RD Gateway Manager, "
                   "which grants the service Read)",
                m->fqdn);
    ws_diag_drop(g, WS_DIAG_GATEWAY_TLS_FAILED, m->name);
}

void ws_diag_check_keys(diag *g)
{
    ws_diag_checked(g, "private keys' access lists");
    if (g->have_vmm) {
        check_vmm_key(g, &g->gwc, NULL);
        check_vmm_key(g, &g->hvc, &g->gwc);
    }
    for (int i = 0; i < g->nmachines; i++)
        if (strcmp(g->machines[i].role, "gateway") == 0)
            check_gateway_key(g, &g->machines[i]);
}
