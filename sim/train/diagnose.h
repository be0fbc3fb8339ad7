/* SPDX-License-Identifier: Apache-2.0 */
/* diagnose: `wapsim diagnose`, the answer to "why can't my tenants open a console?".
 * It checks every requirement of the field note and of REFERENCE.md by reading the
 * lab's configuration (settings, vault, stores, machines' clocks) and by probing the
 * running lab as an administrator would: the processes' status, a TLS handshake with
 * the RD Gateway from the tenant's PC (which certificate does it really serve?), and
 * a question to each Hyper-V host's VMM agent from the VMM server's address (what is
 * in its TrustedIssuerCertificateHashes and stores?). It never asks which scenario or
 * command ran: the same checks find a fault nobody scripted.
 *
 * Each finding names one cause, once, at the machine where it is: its stable id, the
 * machine, the severity, the evidence (the values seen: thumbprints, names, CSP,
 * dates) and the repair, as wapsim commands and as the real PowerShell or portal step.
 * Where one cause explains several symptoms it is reported at the cause only (a
 * renewed gateway certificate that is bound but not served is gateway-cert-stale,
 * not also gateway-cert-expired for the old one it still serves). */
#ifndef WAPSIM_DIAGNOSE_H
#define WAPSIM_DIAGNOSE_H

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "lab/state.h"

/* Finding ids: a contract (add more, never rename). */
#define WS_DIAG_LAB_DOWN "lab-down"                       /* the lab is not running at all */
#define WS_DIAG_PROCESS_DOWN "process-down"               /* a machine's service is not running */
#define WS_DIAG_CLOCK_SKEW "clock-skew"                   /* a clock off by more than the token TTL */
#define WS_DIAG_VMM_CERT_MISSING "vmm-cert-missing"       /* no VMConnect*Certificate, or not in the vault */
#define WS_DIAG_VMM_CERT_NO_KEY "vmm-cert-no-key"         /* VMM has no private key for it */
#define WS_DIAG_VMM_CERT_EXPIRED "vmm-cert-expired"
#define WS_DIAG_VMM_CERT_NOT_YET_VALID "vmm-cert-not-yet-valid"
#define WS_DIAG_VMM_CERT_EXPIRES_SOON "vmm-cert-expires-soon" /* warning: within 30 days */
#define WS_DIAG_VMM_CERT_KEY_USAGE "vmm-cert-key-usage"
#define WS_DIAG_VMM_CERT_EKU "vmm-cert-eku"
#define WS_DIAG_VMM_CERT_CSP "vmm-cert-csp"
#define WS_DIAG_VMM_CERT_KEY_SIZE "vmm-cert-key-size"
#define WS_DIAG_VMM_CERT_SIGNATURE_ALGORITHM "vmm-cert-signature-algorithm"
#define WS_DIAG_VMM_HOST_ID_MODE "vmm-host-id-mode"       /* no longer reported: a name the certificate
                                                             lacks is each host's host-cert-name-mismatch,
                                                             whose repair names the mode too */
#define WS_DIAG_HOST_AGENT_UNREACHABLE "host-agent-unreachable" /* the host runs but does not answer VMM */
#define WS_DIAG_HOST_TRUST_LIST_STALE "host-trust-list-stale"   /* TrustedIssuerCertificateHashes lacks the
                                                                   VMM certificate: not refreshed; or has it,
                                                                   but the host's VMMS was not restarted since
                                                                   (diag_trust.c) */
#define WS_DIAG_VMM_CERT_NOT_IN_HOST_MY "vmm-cert-not-in-host-my"
#define WS_DIAG_VMM_CERT_NOT_TRUSTED_ON_HOST "vmm-cert-not-trusted-on-host"
#define WS_DIAG_GATEWAY_ISSUER_NOT_TRUSTED "gateway-issuer-not-trusted" /* thumbprint not registered */
#define WS_DIAG_VMM_CERT_NOT_TRUSTED_ON_GATEWAY "vmm-cert-not-trusted-on-gateway" /* registered, but the
                                                             gateway cannot find or chain the certificate */
#define WS_DIAG_GATEWAY_CERT_MISSING "gateway-cert-missing" /* no SSL certificate bound */
#define WS_DIAG_GATEWAY_TLS_FAILED "gateway-tls-failed"   /* the gateway runs; no TLS handshake completes */
#define WS_DIAG_GATEWAY_CERT_STALE "gateway-cert-stale"   /* the served certificate is not the bound one */
#define WS_DIAG_GATEWAY_CERT_EXPIRED "gateway-cert-expired"
#define WS_DIAG_GATEWAY_CERT_NOT_YET_VALID "gateway-cert-not-yet-valid"
#define WS_DIAG_GATEWAY_CERT_EXPIRES_SOON "gateway-cert-expires-soon" /* warning */
#define WS_DIAG_GATEWAY_CERT_EKU "gateway-cert-eku"
#define WS_DIAG_GATEWAY_CERT_UNTRUSTED "gateway-cert-untrusted" /* the tenant's PC cannot chain it */
#define WS_DIAG_GATEWAY_CERT_WILDCARD "gateway-cert-wildcard"
#define WS_DIAG_GATEWAY_CERT_KEY_SIZE "gateway-cert-key-size"
#define WS_DIAG_GATEWAY_CERT_SIGNATURE_ALGORITHM "gateway-cert-signature-algorithm"
#define WS_DIAG_GATEWAY_FQDN_MISSING "gateway-fqdn-missing" /* the cloud has no RD Gateway FQDN */
#define WS_DIAG_GATEWAY_FQDN_DNS "gateway-fqdn-dns"       /* the tenant's PC cannot resolve it to the gateway */
#define WS_DIAG_GATEWAY_FQDN_MISMATCH "gateway-fqdn-mismatch" /* the FQDN matches neither SAN nor CN */
#define WS_DIAG_GATEWAY_CERT_NO_DNS_SAN "gateway-cert-no-dns-san" /* names only in the CN, not the FQDN */
#define WS_DIAG_HOST_CERT_MISSING "host-cert-missing"     /* no certificate for the console port */
#define WS_DIAG_HOST_CERT_EXPIRED "host-cert-expired"
#define WS_DIAG_HOST_CERT_EKU "host-cert-eku"
#define WS_DIAG_HOST_CERT_NAME_MISMATCH "host-cert-name-mismatch" /* 0x607 */
#define WS_DIAG_HOST_CERT_UNTRUSTED "host-cert-untrusted" /* warning: the tenant's PC cannot verify it (the
                                                             default lab's self-signed host certificates) */
#define WS_DIAG_VMM_CERT_KEY_ACCESS "vmm-cert-key-access" /* VMM's service account cannot use its key */
#define WS_DIAG_GATEWAY_CERT_KEY_ACCESS "gateway-cert-key-access" /* the gateway's account cannot use its TLS key */
#define WS_DIAG_GATEWAY_CANNOT_RESOLVE_HOST "gateway-cannot-resolve-host" /* a gateway's view (its DNS, hosts
                                                             file) does not give a host's name its address */
#define WS_DIAG_BALANCER_TLS_OFFLOAD "balancer-tls-offload" /* terminates TLS, sends plain HTTP to TLS ports */
#define WS_DIAG_BALANCER_NO_AFFINITY "balancer-no-affinity" /* no affinity: legacy transport pairs split (an
                                                               error once a member logged event 210) */
#define WS_DIAG_PORTAL_CERT_UNTRUSTED "portal-cert-untrusted" /* the tenant's browser refuses the tenant site's
                                                                 certificate (chain, validity or name) */
#define WS_DIAG_SPF_CERT_UNTRUSTED "spf-cert-untrusted" /* the portal refuses SPF's (chain, validity or name):
                                                           HTTP 502 on Connect */

/* Every id above, NULL-terminated, in the order the checks run. */
extern const char *const ws_diag_ids[];
/* 1 when id is one of ws_diag_ids. */
int ws_diag_id_known(const char *id);

typedef enum ws_diag_severity {
    WS_DIAG_ERROR = 0,   /* consoles fail because of it */
    WS_DIAG_WARNING = 1, /* works now, will fail or is fragile */
} ws_diag_severity;

const char *ws_diag_severity_name(ws_diag_severity s); /* "error", "warning" */

typedef struct ws_finding {
    const char *id;      /* one of ws_diag_ids (static) */
    char machine[64];    /* where the cause is ("all" for lab-down) */
    ws_diag_severity severity;
    char *summary;       /* one line */
    char *evidence;      /* the values seen */
    ws_strv fix;         /* "wapsim ...", "PowerShell: ...", "Portal: ..." */
} ws_finding;

typedef struct ws_diagnosis {
    ws_finding *findings;
    int n;
    ws_strv checks; /* what was checked, in order ("processes", "clocks", ...) */
} ws_diagnosis;

typedef struct ws_diag_opts {
    const char *vm;  /* NULL: every host; else only VM's host (name or id) for host checks */
    int timeout_ms;  /* each probe; 0: 3000 */
} ws_diag_opts;

/* Run every check. 0 with *d filled (d->n == 0: nothing wrong); -1 when the
 * diagnosis itself cannot run (an unknown VM: e names it). */
int ws_diagnose(ws_state *st, const ws_diag_opts *o, ws_diagnosis *d, ws_error *e);
void ws_diagnosis_free(ws_diagnosis *d);
/* {"findings":[{"id","machine","severity","summary","evidence","fix":[...]}],"checks":[...]} */
cJSON *ws_diagnosis_json(const ws_diagnosis *d);

#endif
