/* trust: whether this Hyper-V host can validate tokens from a signer, from its own
 * state only, as Msvm_TerminalServiceSettingData and the machine's stores decide:
 * the signer's thumbprint is in TrustedIssuerCertificateHashes, the certificate is in
 * LocalMachine\My (WS_FEDAUTH_STORES_HOST), and it chains to a root in
 * LocalMachine\Root on the host's clock. These are steps 3 to 5 of the lab's token rule
 * (lab/fedauth.h). VMM asks this before issuing tokens (the VMM agent, agent.c); the
 * RDSTLS check of a VMToken (rdp.c) runs the whole rule and words these steps the
 * same way. */
#ifndef WAPSIM_HOST_TRUST_H
#define WAPSIM_HOST_TRUST_H

#include <openssl/x509.h>

#include "lab/fedauth.h"
#include "lab/state.h"

/* 0 when trusted (and *signer set when not NULL; caller frees with X509_free); -1 with
 * the missing piece in e. */
int host_trusts_signer(ws_state *st, const char *host, const char *thumbprint, X509 **signer, ws_error *e);

/* The host's words for a failed signer step (untrusted, not in My, no chain) of r,
 * into e: "thumbprint X is not in hv01's TrustedIssuerCertificateHashes", ... */
void host_signer_refusal(const ws_fedauth_result *r, const char *host, ws_error *e);

#endif
