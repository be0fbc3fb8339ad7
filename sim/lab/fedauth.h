/* SPDX-License-Identifier: Apache-2.0 */
/* fedauth: the one rule by which a lab machine accepts a console token VMM signed
 * (REFERENCE.md section 3): the RD Gateway's FedAuth plug-in checks the HostToken, a
 * Hyper-V host the VMToken, each with its own trusted list, stores and clock. The steps,
 * in order, the first failure being the answer:
 *   1. parse          the text is a token (wire/token.h)
 *   2. kind           HostToken or VMToken, as the caller expects
 *   3. trusted list   the signer's thumbprint is in the machine's list (the gateway's
 *                     FedAuthSettings.TrustedIssuerCertificates, a host's
 *                     TrustedIssuerCertificateHashes)
 *   4. store lookup   a certificate with that thumbprint is in one of the stores the
 *                     machine searches (a parameter: WS_FEDAUTH_IN_*)
 *   5. chain          that certificate chains to the machine's Root on its clock
 *   6. signature      the signature verifies with that certificate's public key
 *   7. hash algorithm SHA256
 *   8. expiry         ExpiresOn is later than the machine's now
 * The caller maps the failed step to its protocol's code and text. Steps 3 to 5 are
 * also functions of their own, for whoever asks about a signer without a token (a
 * host's agent answering VMM, diagnose). A ws_fedauth_result holds the parsed token
 * and the trusted list; the caller frees it with ws_fedauth_result_free. */
#ifndef WAPSIM_LAB_FEDAUTH_H
#define WAPSIM_LAB_FEDAUTH_H

#include <openssl/x509.h>
#include <stdint.h>

#include "base/buf.h"
#include "lab/state.h"
#include "wire/token.h"

/* The step that failed, in the order they run; WS_FEDAUTH_OK when all passed. */
typedef enum ws_fedauth_step {
    WS_FEDAUTH_OK = 0,
    WS_FEDAUTH_PARSE,     /* not a token */
    WS_FEDAUTH_KIND,      /* a token of the other kind */
    WS_FEDAUTH_UNTRUSTED, /* the signer's thumbprint is not in the machine's trusted list */
    WS_FEDAUTH_NO_CERT,   /* no certificate with that thumbprint in the searched stores */
    WS_FEDAUTH_CHAIN,     /* the certificate does not chain to the machine's Root */
    WS_FEDAUTH_SIGNATURE, /* the signature does not verify */
    WS_FEDAUTH_HASH,      /* signed with another hash than SHA256 */
    WS_FEDAUTH_EXPIRED,   /* ExpiresOn is not later than the machine's now */
} ws_fedauth_step;

/* The stores a machine looks for the signer in: a set of these flags, searched in
 * this order. */
#define WS_FEDAUTH_IN_MY 0x1u   /* LocalMachine\My (Personal) */
#define WS_FEDAUTH_IN_ROOT 0x2u /* LocalMachine\Root (Trusted Root) */

/* Each role's set, named once so the component and diagnose agree.
 * The host: Read-SCVMHost "installs the certificate in the host's Personal store"
 * (REFERENCE.md section 2), so the host looks in My only.
 * The gateway: the VMM certificate's public key is imported into LocalMachine\My, a
 * self-signed one also into Root (section 2); the plug-in looking in Root as well, so
 * that a signer only in Root is still found, is [model]. */
#define WS_FEDAUTH_STORES_HOST WS_FEDAUTH_IN_MY
#define WS_FEDAUTH_STORES_GATEWAY (WS_FEDAUTH_IN_MY | WS_FEDAUTH_IN_ROOT)

/* What a check saw. Fields after the failed step keep their zero value. */
typedef struct ws_fedauth_result {
    ws_fedauth_step failed; /* WS_FEDAUTH_OK when the token (or signer) is accepted */
    ws_token token;         /* as parsed: thumbprint, kind, expires_on (zero when parsing failed) */
    char thumbprint[41];    /* the signer's SHA-1 thumbprint, upper case; "" before step 3 */
    int64_t now;            /* the machine's clock when checked, unix seconds */
    const char *store;      /* "My" or "Root", where the signer was found; NULL when not */
    ws_strv trusted;        /* the machine's trusted thumbprints, in order (from step 3 on) */
    char detail[512];       /* the failed step's own error (parse, chain, signature); "" otherwise */
    ws_error error;         /* one line naming the failed step and the bad value; "" when accepted */
} ws_fedauth_result;

/* The whole check of token text on machine, expecting kind, looking for the signer in
 * stores (WS_FEDAUTH_IN_* flags), on the machine's clock. Returns r->failed. r is
 * filled either way; the caller frees it with ws_fedauth_result_free. */
ws_fedauth_step ws_fedauth_check(ws_state *st, const char *machine, const char *text, ws_token_kind kind,
                                 unsigned stores, ws_fedauth_result *r);
/* The same check with step 3 against trusted, the list the checking service holds in
 * memory, instead of the machine's configured list in the state file (a Hyper-V host's
 * VMMS checks against the TrustedIssuerCertificateHashes it loaded when it started:
 * host/trust.h). trusted NULL: the configured list, as ws_fedauth_check. */
ws_fedauth_step ws_fedauth_check_with(ws_state *st, const char *machine, const char *text, ws_token_kind kind,
                                      unsigned stores, const ws_strv *trusted, ws_fedauth_result *r);

/* Steps 3 to 5 for a signer's thumbprint alone, at now (the machine's clock time).
 * Returns r->failed; when OK and signer is not NULL, *signer is the certificate found
 * (caller frees with X509_free). The caller frees r with ws_fedauth_result_free. */
ws_fedauth_step ws_fedauth_check_signer(ws_state *st, const char *machine, const char *thumbprint, unsigned stores,
                                        int64_t now, X509 **signer, ws_fedauth_result *r);

/* Step 3: 1 when thumbprint is in machine's trusted list, 0 when not. The list into
 * *list when not NULL (appended; the caller frees it with ws_strv_free). */
int ws_fedauth_signer_listed(ws_state *st, const char *machine, const char *thumbprint, ws_strv *list);
/* Step 4: 0 with the certificate (caller frees with X509_free) and, when store is not
 * NULL, the store's name; WS_NOT_FOUND when none of stores holds it. */
int ws_fedauth_signer_find(ws_state *st, const char *machine, const char *thumbprint, unsigned stores, X509 **cert,
                           const char **store);
/* Step 5: 0 when cert chains to machine's Root store (intermediates from its My) at
 * now; -1 with the chain's error in e. */
int ws_fedauth_signer_chains(ws_state *st, const char *machine, X509 *cert, int64_t now, ws_error *e);

/* "parse", "kind", "trusted list", ...: the step's name, for messages and tests. */
const char *ws_fedauth_step_name(ws_fedauth_step step);
void ws_fedauth_result_free(ws_fedauth_result *r);

#endif
