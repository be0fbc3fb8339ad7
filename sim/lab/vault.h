/* SPDX-License-Identifier: Apache-2.0 */
/* vault: the lab's certificate vault, the certificates an administrator holds, each
 * with its private key (when there is one) and the key's CSP, by a name the operator
 * chose ("vmm-console"). Machines see certificates only through their stores
 * (store.h). */
#ifndef WAPSIM_VAULT_H
#define WAPSIM_VAULT_H

#include <openssl/x509.h>

#include "lab/state.h"

/* Add a certificate under a new name; refuses a name already taken. */
int ws_vault_put(ws_state *st, const char *name, X509 *cert, EVP_PKEY *key, const char *csp, ws_error *e);
/* Load by name. cert, key and csp may each be NULL when not wanted; *key is NULL
 * when the vault has no key. Returns WS_NOT_FOUND (with e set) for an unknown name. */
int ws_vault_get(ws_state *st, const char *name, X509 **cert, EVP_PKEY **key, char **csp, ws_error *e);
/* The name of a certificate with this thumbprint, or WS_NOT_FOUND. */
int ws_vault_name_by_thumbprint(ws_state *st, const char *thumbprint, char *name, size_t n, ws_error *e);
int ws_vault_exists(ws_state *st, const char *name);
int ws_vault_thumbprint(ws_state *st, const char *name, char out[41]);
/* A certificate as an operator names it on a command line: by its vault name or by its
 * thumbprint (40 hexadecimal digits; spaces, colons and case ignored, as certlm.msc
 * shows them). A name is tried first (a name could look like a thumbprint). 0 with
 * name (the vault's, n bytes) and tp filled. WS_NOT_FOUND with e naming text when the
 * vault has neither; then tp still holds the normalized thumbprint when text is one
 * (a trusted-issuer list may name a certificate the vault does not hold), else "".
 * Every command option that takes a certificate or a thumbprint resolves it here. */
int ws_vault_resolve(ws_state *st, const char *text, char *name, size_t n, char tp[41], ws_error *e);

/* Stand-ins (state migration 6, lab/deployment.h): a certificate made for a customer's,
 * whose thumbprint it keeps as original_thumbprint. */
int ws_vault_set_original(ws_state *st, const char *name, const char *original, ws_error *e);
/* 0 with out the customer's thumbprint when name is a stand-in; WS_NOT_FOUND when not. */
int ws_vault_original(ws_state *st, const char *name, char out[41]);
/* The vault name of the stand-in for the customer's certificate with thumbprint
 * original: 0, or WS_NOT_FOUND. */
int ws_vault_name_by_original(ws_state *st, const char *original, char *name, size_t n);
/* A thumbprint as evidence names it: "1D99…19 (stand-in for 8F3A…C2)" for a stand-in,
 * "8F3A…C2 (no certificate in the lab has it)" for one the vault lacks, else the
 * thumbprint alone. Full thumbprints, never shortened: an operator compares them. */
void ws_vault_describe_thumbprint(ws_state *st, const char *thumbprint, char *out, size_t n);

#endif
