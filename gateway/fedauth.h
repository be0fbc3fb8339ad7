/* SPDX-License-Identifier: Apache-2.0 */
/* fedauth: the RD Gateway's FedAuth plug-in ("Microsoft System Center Virtual Machine
 * Manager Console Connect Gateway"): its check of the PAA cookie (the HostToken)
 * against the gateway's own configuration and stores. */
#ifndef WAPSIM_GATEWAY_FEDAUTH_H
#define WAPSIM_GATEWAY_FEDAUTH_H

#include "lab/state.h"
#include "wire/token.h"

/* 0 when the cookie is a HostToken the gateway accepts (*tok filled, caller frees
 * with ws_token_free); -1 with the reason, as event 201 quotes it, in e. The steps are
 * the lab's token rule (lab/fedauth.h): the signer's thumbprint is in
 * FedAuthSettings.TrustedIssuerCertificates; the certificate with that thumbprint is
 * in the gateway's My or Root store (WS_FEDAUTH_STORES_GATEWAY) and chains to its
 * Root; the signature verifies; the hash is SHA256; ExpiresOn has not passed on the
 * gateway's clock. */
int fedauth_check_cookie(ws_state *st, const char *gateway, const char *cookie, ws_token *tok, ws_error *e);

#endif
