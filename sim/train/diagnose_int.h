/* SPDX-License-Identifier: Apache-2.0 */
/* diagnose_int: what diagnose's checks share (diagnose.c runs them in order; a check
 * that belongs to one part of the fabric, such as a balancer or a machine's DNS view,
 * lives in a file of its own beside it). Not for use outside sim/train. */
#ifndef WAPSIM_DIAGNOSE_INT_H
#define WAPSIM_DIAGNOSE_INT_H

#include <openssl/x509.h>
#include <stdarg.h>
#include <stdint.h>

#include "lab/machine.h"
#include "lab/state.h"
#include "train/diagnose.h"

#define WS_DIAG_MAX_MACHINES 64

/* One of the VMM's signing certificates, as VMM holds it. */
typedef struct signer {
    const char *param;   /* "VMConnectGatewayCertificate" */
    const char *setting; /* WS_SET_VMM_GATEWAY_CERT */
    char name[128];      /* "" when not configured */
    char tp[41];
    X509 *cert;          /* NULL when it cannot be loaded */
    EVP_PKEY *key;
    char *csp;
    int expired;         /* not valid on the lab's clock: chain checks elsewhere leave it to vmm-cert-expired */
} signer;

typedef struct diag {
    ws_state *st;
    ws_diagnosis *d;
    int timeout_ms;
    int64_t now; /* the lab's clock, without any machine's skew */
    int ttl_minutes;
    char host_mode[16];
    ws_machine machines[WS_DIAG_MAX_MACHINES];
    int nmachines;
    int have_vmm, have_gw, have_client, have_portal;
    ws_machine vmm, gw, client, portal; /* portal: where the WAP cloud's settings live */
    const char *only_host; /* --vm: the VM's host */
    int lab_running;
    char down[WS_DIAG_MAX_MACHINES][64]; /* machines whose process is not running or not healthy */
    int ndown;
    signer gwc, hvc; /* the two certificates VMM signs with (often the same) */
} diag;

/* A new finding at machine, with its one-line summary. */
ws_finding *ws_diag_add(diag *g, const char *id, const char *machine, ws_diag_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Appends to a finding's evidence (values seen), its repair lines, or the list of checks made. */
void ws_diag_evidence(ws_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ws_diag_fix(ws_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ws_diag_checked(diag *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *ws_diag_vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

const char *ws_diag_when(int64_t t, char buf[32]);
void ws_diag_duration(int64_t s, char *out, size_t n);
/* A value quoted for a PowerShell line / for a shell line. */
char *ws_diag_q(const char *s, char *buf, size_t n);
char *ws_diag_shq(const char *s, char *buf, size_t n);
/* A certificate name not yet in the vault, from base (for a repair's new certificate). */
void ws_diag_new_cert_name(diag *g, const char *base, char *out, size_t n);
/* The machine's process is not running or not healthy (its finding is process-down). */
int ws_diag_machine_down(const diag *g, const char *name);
int ws_diag_host_selected(const diag *g, const char *name);
char *ws_diag_describe(ws_state *st, X509 *c, const char *name);
/* A thumbprint in a list of evidence: "TP (name)", a stand-in's "TP (name, stand-in for
 * ORIG)", one no certificate has "TP (no certificate in the lab has it)"
 * (ws_vault_describe_thumbprint); out holds at least 256 bytes. */
void ws_diag_thumbprint(ws_state *st, const char *tp, char *out, size_t n);
char *ws_diag_store_names(ws_state *st, const char *machine, const char *store);
const ws_machine *ws_diag_machine_named(const diag *g, const char *name);
/* A finding with this id at this machine is already reported. */
int ws_diag_has_finding(const diag *g, const char *id, const char *machine);
/* Removes the findings id at machine: another check found their cause. */
void ws_diag_drop(diag *g, const char *id, const char *machine);

/* The root, in the vault, that issued c (walking up issuers); "" when none. */
void ws_diag_vault_root_of(ws_state *st, X509 *c, char *out, size_t n);

/* The checks in files of their own. */
void ws_diag_check_keys(diag *g); /* diag_keys.c: private keys' access lists */

/* diag_dns.c: each gateway resolves the hosts' names (gateway-cannot-resolve-host). */
void ws_diag_check_dns(diag *g);

/* Checks in files of their own, each called once from ws_diagnose. */
void ws_diag_check_trust(diag *g); /* diag_trust.c: a host's VMMS not restarted after its trust list changed */

/* diag_balancer.c: each balancer's TLS offload and affinity (balancer-tls-offload,
 * balancer-no-affinity). */
void ws_diag_check_balancer(diag *g);

/* diag_https.c: the tenant's browser accepts the portal's certificate, the portal SPF's
 * (portal-cert-untrusted, spf-cert-untrusted). */
void ws_diag_check_https(diag *g);

#endif
