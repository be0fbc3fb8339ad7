/* SPDX-License-Identifier: Apache-2.0 */
/* token: the claim tokens VMM issues for one console connection (REFERENCE.md
 * section 3), owned here because VMM writes them and the gateway and hosts read them.
 *
 *   HostToken (to the RD Gateway, as the PAA cookie):
 *     Host={host}&Port={port}&ExpiresOn={unix seconds}&Signature=1|SHA256|{thumbprint}|{url-escaped base64}
 *   VMToken (to the Hyper-V host, inside RDSTLS) [model]:
 *     VMID={guid}&Host={host}&ExpiresOn={unix seconds}&Signature=1|SHA256|{thumbprint}|{url-escaped base64}
 *
 * The signed bytes are the ASCII before "&Signature=", RSA PKCS#1 v1.5 with SHA-256
 * by the VMM certificate's key, named by its SHA-1 thumbprint. */
#ifndef WAPSIM_TOKEN_H
#define WAPSIM_TOKEN_H

#include <openssl/x509.h>
#include <stdint.h>

#include "base/util.h"

#define WS_TOKEN_MAX 8192 /* longest token text accepted */

typedef enum ws_token_kind { WS_TOKEN_HOST, WS_TOKEN_VM } ws_token_kind;

typedef struct ws_token {
    ws_token_kind kind;
    char vmid[37];      /* VMToken: the VM's GUID as written */
    char host[256];     /* the host's name or address as VMM identified it */
    int port;           /* HostToken: the host's port */
    int64_t expires_on; /* unix seconds */
    int sig_version;    /* the "1" of "1|SHA256|..." */
    char hash_alg[16];  /* "SHA256" */
    char thumbprint[41];
    unsigned char *signature; /* decoded from base64 */
    size_t signature_len;
    char *signed_part; /* the text before "&Signature=" */
} ws_token;

/* The text a token signs, from its fields: "Host=h&Port=p&ExpiresOn=t" or
 * "VMID=g&Host=h&ExpiresOn=t". Caller frees. */
char *ws_token_payload(const ws_token *t);
/* payload + "&Signature=1|<hash_alg>|<thumbprint>|<url-escaped base64 of sig>". Caller frees. */
char *ws_token_format(const char *payload, const char *hash_alg, const char *thumbprint, const unsigned char *sig,
                      size_t sig_len);

/* What ws_token_sign stopped at. */
typedef enum ws_token_sign_step {
    WS_TOKEN_SIGNED = 0,    /* *out holds the token */
    WS_TOKEN_SIGN_FIELDS,   /* the fields do not form a payload (ws_token_payload refused them) */
    WS_TOKEN_SIGN_PROVIDER, /* the key's provider refused to sign (*hresult, e: its message) */
    WS_TOKEN_SIGN_FORMAT,   /* the signature or thumbprint cannot be formatted (ws_token_format refused) */
} ws_token_sign_step;

/* Issue a token as VMM does: fields' payload (ws_token_payload, the kind from
 * fields->kind), hashed with hash_alg ("SHA256"; "SHA1" for tests) and signed with key
 * through its CryptoAPI provider csp (ws_csp_sign; NULL: the default provider), then
 * formatted with the signer's thumbprint (ws_token_format). Returns WS_TOKEN_SIGNED
 * with the token in *out (caller frees), or the step that failed with *out NULL, e set
 * and, for the provider, *hresult (when not NULL) its HRESULT. */
ws_token_sign_step ws_token_sign(const ws_token *fields, const char *hash_alg, const char *csp, EVP_PKEY *key,
                                 const char *thumbprint, char **out, uint32_t *hresult, ws_error *e);

/* Parse a token of either kind (decided by its first field). Checks every field's
 * syntax and length; e says which part is wrong ("ExpiresOn is not a number").
 * Fields in a different order, unknown or repeated fields are refused. */
int ws_token_parse(const char *text, size_t len, ws_token *out, ws_error *e);
void ws_token_free(ws_token *t);

/* Verify the signature over signed_part with the signer certificate's public key
 * and the token's hash algorithm (SHA256 or SHA1; anything else refused). */
int ws_token_verify_signature(const ws_token *t, X509 *signer, ws_error *e);

#endif
