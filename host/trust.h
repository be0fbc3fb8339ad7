/* trust: whether this Hyper-V host can validate tokens from a signer, from its own
 * state only, as Msvm_TerminalServiceSettingData and the machine's stores decide:
 * the signer's thumbprint is in TrustedIssuerCertificateHashes, the certificate is in
 * LocalMachine\My, and it chains to a root in LocalMachine\Root on the host's clock.
 * VMM asks this before issuing tokens (the VMM agent, agent.c); the RDSTLS check of a
 * VMToken asks it again. */
#ifndef WAPSIM_HOST_TRUST_H
#define WAPSIM_HOST_TRUST_H

#include <openssl/x509.h>

#include "lab/state.h"

/* 0 when trusted (and *signer set when not NULL); -1 with the missing piece in e. */
int host_trusts_signer(ws_state *st, const char *host, const char *thumbprint, X509 **signer, ws_error *e);

#endif
