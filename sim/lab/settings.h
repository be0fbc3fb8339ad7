/* SPDX-License-Identifier: Apache-2.0 */
/* settings: the parameters of the real cmdlets and consoles, as (scope, key, value):
 * scope is the machine that holds the setting (vmm01 for Set-SCVMMServer's, rdgw01
 * for the gateway's TLS binding) or "cloud" for the WAP cloud's. Trusted issuer
 * lists, the gateway's FedAuthSettings.TrustedIssuerCertificates and each host's
 * TrustedIssuerCertificateHashes, are per machine lists of thumbprints. */
#ifndef WAPSIM_SETTINGS_H
#define WAPSIM_SETTINGS_H

#include "base/buf.h"
#include "lab/state.h"

/* Keys, named after the parameters they model. */
#define WS_SET_VMM_GATEWAY_CERT "gateway_cert"      /* -VMConnectGatewayCertificatePath */
#define WS_SET_VMM_HYPERV_CERT "hyperv_cert"        /* -VMConnectHyperVCertificatePath */
#define WS_SET_VMM_HOST_ID_MODE "host_id_mode"      /* -VMConnectHostIdentificationMode */
#define WS_SET_VMM_TTL_MINUTES "ttl_minutes"        /* -VMConnectTimeToLiveInMinutes */
#define WS_SET_VMM_DEFAULT_PORT "default_port"      /* -VMConnectDefaultPort */
#define WS_SET_SSL_CERT "ssl_cert"                  /* a TLS listener's certificate */
#define WS_SET_AUTH_CERT "auth_cert"                /* a host's AuthCertificateHash, by name */
#define WS_SET_RDSTLS_REPLY_VERSION "rdstls_reply_version" /* a host's Auth response Version: "1" or "echo" [model] */
#define WS_SET_CLOUD_RD_GATEWAY_FQDN "rd_gateway_fqdn"
/* A load balancer's (scope: its machine, e.g. lb01) [model: an appliance's virtual server]. */
#define WS_SET_BALANCER_MEMBERS "members"           /* "rdgw01,rdgw02": machine names, in order */
#define WS_SET_BALANCER_MODE "mode"                 /* "tcp" or "tls-offload" */
#define WS_SET_BALANCER_AFFINITY "affinity"         /* "none" or "source-ip" */
#define WS_SET_BALANCER_REENCRYPT "reencrypt"       /* "1": tls-offload opens TLS to the member */
#define WS_SCOPE_CLOUD "cloud"

/* 0 and the value in out, or WS_NOT_FOUND. */
int ws_setting_get(ws_state *st, const char *scope, const char *key, char *out, size_t n);
int ws_setting_set(ws_state *st, const char *scope, const char *key, const char *value, ws_error *e);

int ws_trusted_issuer_add(ws_state *st, const char *machine, const char *thumbprint, ws_error *e);
int ws_trusted_issuer_remove(ws_state *st, const char *machine, const char *thumbprint, ws_error *e);
int ws_trusted_issuer_has(ws_state *st, const char *machine, const char *thumbprint);
/* A machine's trusted issuer thumbprints in the order they were added, appended to
 * out (the caller frees it with ws_strv_free). 0, or -1 with e set. */
int ws_trusted_issuer_list(ws_state *st, const char *machine, ws_strv *out, ws_error *e);
/* Makes a machine's list exactly the thumbprints in tps, in that order, as an
 * administrator sets the gateway's FedAuthSettings.TrustedIssuerCertificates as a
 * whole. Run it inside the caller's transaction, so a bad thumbprint changes nothing. */
int ws_trusted_issuer_replace(ws_state *st, const char *machine, const ws_strv *tps, ws_error *e);
/* Read-SCVMHost on one host (REFERENCE.md section 2): installs cert, the VMM server's
 * VMConnectHyperVCertificate, in the host's LocalMachine\My with its public part only,
 * unless it is there (*installed: 1 when it was put there now), and sets the host's
 * TrustedIssuerCertificateHashes to exactly its thumbprint. The host's Root store is
 * not touched: a self-signed certificate must be put there by the administrator.
 * Run it inside the caller's transaction; it logs nothing. 0, or -1 with e set. */
int ws_trusted_issuer_refresh_host(ws_state *st, const char *host, const char *cert, int *installed, ws_error *e);

#endif
