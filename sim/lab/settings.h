/* settings: the parameters of the real cmdlets and consoles, as (scope, key, value):
 * scope is the machine that holds the setting (vmm01 for Set-SCVMMServer's, rdgw01
 * for the gateway's TLS binding) or "cloud" for the WAP cloud's. Trusted issuer
 * lists, the gateway's FedAuthSettings.TrustedIssuerCertificates and each host's
 * TrustedIssuerCertificateHashes, are per machine lists of thumbprints. */
#ifndef WAPSIM_SETTINGS_H
#define WAPSIM_SETTINGS_H

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
#define WS_SCOPE_CLOUD "cloud"

/* 0 and the value in out, or WS_NOT_FOUND. */
int ws_setting_get(ws_state *st, const char *scope, const char *key, char *out, size_t n);
int ws_setting_set(ws_state *st, const char *scope, const char *key, const char *value, ws_error *e);

int ws_trusted_issuer_add(ws_state *st, const char *machine, const char *thumbprint, ws_error *e);
int ws_trusted_issuer_remove(ws_state *st, const char *machine, const char *thumbprint, ws_error *e);
int ws_trusted_issuer_has(ws_state *st, const char *machine, const char *thumbprint);

#endif
