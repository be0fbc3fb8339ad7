/* SPDX-License-Identifier: Apache-2.0 */
/* certreq: what each Console Connect role requires of a certificate (REFERENCE.md
 * sections 2 and 5), as a list of problems. Used by `wapsim cert check` on files from
 * a real deployment and by `wapsim diagnose` on the lab's own certificates. Knows
 * nothing of the lab or of files: the caller reads the certificate (cert.h) and
 * passes the time to judge validity at.
 *
 * Roles and their requirements:
 * - vmm (the certificate VMM signs console tokens with): Key Usage Digital
 *   Signature; EKU Client Authentication 1.3.6.1.5.5.7.3.2; its key's CSP can hash
 *   SHA-256 (PROV_RSA_AES; Base/Strong/Enhanced v1.0 are PROV_RSA_FULL: no); a PFX
 *   carries the private key; self-signed: must go into LocalMachine\Root on each
 *   Hyper-V host and on the gateway (a warning, not a fault).
 * - gateway (the RD Gateway's TLS certificate): EKU Server Authentication
 *   1.3.6.1.5.5.7.3.1; the gateway FQDN matches a DNS SAN, or the CN when there is
 *   no SAN (X509_check_host, RFC 6125), an address only an IP SAN: the client's own
 *   rule, ws_cert_matches_peer in tls.h; wildcard names do not work (tls.h,
 *   WS_PEER_RDGATEWAY, for the source).
 * - host (a Hyper-V host's TLS certificate on 2179): EKU Server Authentication;
 *   CN or SAN = the host FQDN (checked when an FQDN is given).
 * - every role: valid now (not expired, not yet valid), not expiring within 30
 *   days, RSA key of at least 2048 bits, not signed with SHA-1 or MD5. */
#ifndef WAPSIM_CERTREQ_H
#define WAPSIM_CERTREQ_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>

typedef enum ws_certreq_role {
    WS_CERTREQ_VMM = 0,
    WS_CERTREQ_GATEWAY = 1,
    WS_CERTREQ_HOST = 2,
} ws_certreq_role;

typedef enum ws_certreq_severity {
    WS_CERTREQ_ERROR = 0,   /* the role does not work with this certificate */
    WS_CERTREQ_WARNING = 1, /* works, but needs a step or will stop working soon */
} ws_certreq_severity;

/* Problem ids: a contract (add more, never rename). ws_certreq_problem.id points
 * at one of these strings, so callers may compare with strcmp. */
#define WS_CERTREQ_ID_EXPIRED "expired"             /* error: not_after <= now */
#define WS_CERTREQ_ID_NOT_YET_VALID "not-yet-valid" /* error: not_before > now */
#define WS_CERTREQ_ID_EXPIRES_SOON "expires-soon"   /* warning: expires within 30 days */
#define WS_CERTREQ_ID_EKU "eku"                     /* error: required EKU missing */
#define WS_CERTREQ_ID_KEY_USAGE "key-usage"         /* error: vmm without digitalSignature */
#define WS_CERTREQ_ID_CSP "csp"                     /* error: vmm key's CSP cannot hash SHA-256 */
#define WS_CERTREQ_ID_CSP_UNKNOWN "csp-unknown"     /* warning: vmm, the source carries no CSP (PEM/DER) */
#define WS_CERTREQ_ID_NO_PRIVATE_KEY "no-private-key" /* error: vmm from a PFX without its key */
#define WS_CERTREQ_ID_NAME_MISMATCH "name-mismatch" /* error: the FQDN matches no DNS SAN, nor the CN
                                                       when there is no DNS SAN (X509_check_host);
                                                       gateway without DNS SAN: no-dns-san instead;
                                                       an address that is no IP SAN (whatever the
                                                       DNS SANs and CN say) */
#define WS_CERTREQ_ID_NO_DNS_SAN "no-dns-san"       /* error: gateway without any DNS SAN whose CN is not
                                                       the FQDN (CN=RDGW01 for rdgw.contoso.com); a CN
                                                       that matches is fine. Exclusive with
                                                       name-mismatch: one name problem per certificate */
#define WS_CERTREQ_ID_WILDCARD "wildcard"           /* gateway with a wildcard DNS SAN (or CN without SAN):
                                                       error when the FQDN matches only through the
                                                       wildcard (or nothing matches), warning when an exact
                                                       name matches too */
#define WS_CERTREQ_ID_KEY_SIZE "key-size"           /* error: RSA key shorter than 2048 bits */
#define WS_CERTREQ_ID_SIGNATURE_ALGORITHM "signature-algorithm" /* error: signed with SHA-1 or MD5 */
#define WS_CERTREQ_ID_SELF_SIGNED_ROOT "self-signed-root" /* warning: vmm or gateway self-signed: must go
                                                              into Root (vmm: hosts and gateway; gateway:
                                                              clients) */

#define WS_CERTREQ_SOON_SECONDS (30 * 86400) /* "expires soon": within 30 days of now */
#define WS_CERTREQ_MIN_KEY_BITS 2048
#define WS_CERTREQ_MAX_PROBLEMS 32 /* more than any certificate can have: a safe array size */

typedef struct ws_certreq_problem {
    const char *id; /* one of WS_CERTREQ_ID_* (static string) */
    ws_certreq_severity severity;
    char text[384]; /* one line naming the values seen, e.g. "enhanced key usage is serverAuth; the vmm role
                       requires Client Authentication (1.3.6.1.5.5.7.3.2)" */
} ws_certreq_problem;

/* Check cert against what role requires, judging validity at now (unix seconds).
 * key: the private key when the source carries one, NULL otherwise.
 * has_csp_attr: nonzero when the source says where its key is stored, i.e. a PFX
 *   (or a lab vault entry): csp is then the "Microsoft CSP Name" attribute, or NULL
 *   when the bag has none (the key lands in ws_csp_default_name(), PROV_RSA_FULL).
 *   Zero for PEM/DER: the CSP is unknown (vmm: warning csp-unknown) and a missing
 *   key is not a problem (a certificate export need not carry one).
 * fqdn: the name clients connect to (gateway, host); NULL skips the name checks
 *   (`cert check` requires it for gateway); vmm: ignored.
 * A certificate without a Key Usage or EKU extension allows every use, as on Windows.
 * Stores at most max problems in out (errors and warnings in a fixed order: validity,
 * usage, key, name, signature, notes) and returns how many there are in all
 * (0: nothing to say); -1 when cert is NULL or role is unknown. The certificate
 * is fit for the role when none of them is an error (ws_certreq_has_error). */
int ws_certreq_check(X509 *cert, EVP_PKEY *key, const char *csp, int has_csp_attr, ws_certreq_role role,
                     const char *fqdn, int64_t now, ws_certreq_problem *out, int max);

/* Nonzero when any of the n problems in p is an error (not only warnings); n is at
 * most what ws_certreq_check stored (min of its result and max). */
int ws_certreq_has_error(const ws_certreq_problem *p, int n);

/* "vmm", "gateway", "host"; NULL for an unknown role. */
const char *ws_certreq_role_name(ws_certreq_role role);
/* The role named s (case-insensitive) into *role; -1 when unknown. */
int ws_certreq_role_parse(const char *s, ws_certreq_role *role);
/* "error" or "warning". */
const char *ws_certreq_severity_name(ws_certreq_severity s);

#endif
