/* SPDX-License-Identifier: Apache-2.0 */
/* trust: whether this Hyper-V host can validate tokens from a signer, from its own
 * state only, as Msvm_TerminalServiceSettingData and the machine's stores decide:
 * the signer's thumbprint is in TrustedIssuerCertificateHashes, the certificate is in
 * LocalMachine\My (WS_FEDAUTH_STORES_HOST), and it chains to a root in
 * LocalMachine\Root on the host's clock. These are steps 3 to 5 of the lab's token rule
 * (lab/fedauth.h). VMM asks this before issuing tokens (the VMM agent, agent.c); the
 * RDSTLS check of a VMToken (rdp.c) runs the whole rule and words these steps the
 * same way.
 *
 * Two lists, as on a real host [model, below]: the configured
 * TrustedIssuerCertificateHashes (what WMI shows, what Read-SCVMHost writes: the state
 * file) and the list the running service loaded when it started, which is what a token
 * is checked against (host_trust_loaded). The field restarts the Hyper-V Virtual
 * Machine Management service on each host after changing the console certificate there
 * (marcvaneijk.com/2013/09/10/wapconsole.html: "Restart the Hyper-V Virtual Machine
 * Management Service after importing the certificate on each Hyper-V host"; REFERENCE.md
 * section 2 and section 9: "VMMS not restarted: hosts keep the old thumbprint"). That the
 * service reads TrustedIssuerCertificateHashes only at start, so a ModifyServiceSettings
 * change waits for the restart, is the lab's model of that advice: no source states it.
 * The agent (VMM's question, diagnose) answers from the configured list, as WMI does. */
#ifndef WAPSIM_HOST_TRUST_H
#define WAPSIM_HOST_TRUST_H

#include <openssl/x509.h>

#include "lab/fedauth.h"
#include "lab/state.h"

/* Loads host's configured TrustedIssuerCertificateHashes as the running service's list;
 * called once, as the service starts (main.c), before any console connection. 0, or -1
 * with e. */
int host_trust_load(ws_state *st, const char *host, ws_error *e);
/* The list the running service checks every VMToken against: the one it loaded at
 * start. Read-only after host_trust_load, so any thread may read it. */
const ws_strv *host_trust_loaded(void);
/* When it was loaded: the host's lab clock, unix seconds. */
int64_t host_trust_loaded_at(void);

/* 0 when trusted (and *signer set when not NULL; caller frees with X509_free); -1 with
 * the missing piece in e. */
int host_trusts_signer(ws_state *st, const char *host, const char *thumbprint, X509 **signer, ws_error *e);

/* The host's words for a failed signer step (untrusted, not in My, no chain) of r,
 * into e: "thumbprint X is not in hv01's TrustedIssuerCertificateHashes", ... r's
 * trusted list is the configured one (host_trusts_signer); for a token checked against
 * the loaded list, host_token_signer_refusal. */
void host_signer_refusal(const ws_fedauth_result *r, const char *host, ws_error *e);
/* The same for r of a token checked against host_trust_loaded(): an untrusted signer is
 * named as missing from the list the service loaded at its start. */
void host_token_signer_refusal(const ws_fedauth_result *r, const char *host, ws_error *e);

#endif
