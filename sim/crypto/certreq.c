/* SPDX-License-Identifier: Apache-2.0 */
/* certreq: see certreq.h. Each check reads the certificate itself (OpenSSL) and
 * names, in its one line, the values it saw and what the role needs instead. */
#include "crypto/certreq.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cert.h"
#include "base/time.h"
#include "crypto/csp.h"
#include "crypto/tls.h"
#include "base/net.h"
#include "base/util.h"

#define OID_CLIENT_AUTH "1.3.6.1.5.5.7.3.2"
#define OID_SERVER_AUTH "1.3.6.1.5.5.7.3.1"

typedef struct collect {
    ws_certreq_problem *out;
    int max;
    int n;
} collect;

static void add(collect *c, const char *id, ws_certreq_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(collect *c, const char *id, ws_certreq_severity sev, const char *fmt, ...)
{
    if (c->out && c->n < c->max) {
        ws_certreq_problem *p = &c->out[c->n];
        p->id = id;
        p->severity = sev;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->text, sizeof p->text, fmt, ap);
        va_end(ap);
    }
    c->n++;
}

const char *ws_certreq_role_name(ws_certreq_role role)
{
    switch (role) {
    case WS_CERTREQ_VMM: return "vmm";
    case WS_CERTREQ_GATEWAY: return "gateway";
    case WS_CERTREQ_HOST: return "host";
    }
    return NULL;
}

int ws_certreq_role_parse(const char *s, ws_certreq_role *role)
{
    static const ws_certreq_role roles[] = {WS_CERTREQ_VMM, WS_CERTREQ_GATEWAY, WS_CERTREQ_HOST};
    if (!s)
        return -1;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (ws_streq_ci(s, ws_certreq_role_name(roles[i]))) {
            *role = roles[i];
            return 0;
        }
    return -1;
}

const char *ws_certreq_severity_name(ws_certreq_severity s)
{
    return s == WS_CERTREQ_WARNING ? "warning" : "error";
}

int ws_certreq_has_error(const ws_certreq_problem *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i].severity == WS_CERTREQ_ERROR)
            return 1;
    return 0;
}

/* The subject's (last) CN, or "" when it has none. */
static void common_name(X509 *cert, char *out, size_t n)
{
    X509_NAME *name = X509_get_subject_name(cert);
    int i = -1, last = -1;
    while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0)
        last = i;
    out[0] = '\0';
    if (last < 0)
        return;
    ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, s);
    if (len >= 0)
        snprintf(out, n, "%.*s", len, (const char *)utf8);
    OPENSSL_free(utf8);
}

/* The certificate's DNS SANs as "a, b" into out; returns how many, and how many of
 * them are wildcards in *wildcards. */
static int dns_sans(X509 *cert, char *out, size_t n, int *wildcards)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int count = 0;
    size_t used = 0;
    out[0] = '\0';
    *wildcards = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type != GEN_DNS)
            continue;
        int len = ASN1_STRING_length(gn->d.dNSName);
        const char *d = (const char *)ASN1_STRING_get0_data(gn->d.dNSName);
        if (len > 0 && d[0] == '*')
            (*wildcards)++;
        if (used < n) {
            int w = snprintf(out + used, n - used, "%s%.*s", count ? ", " : "", len, d);
            used += w > 0 ? (size_t)w : 0;
        }
        count++;
    }
    GENERAL_NAMES_free(names);
    ERR_clear_error();
    return count;
}

static void check_validity(collect *c, X509 *cert, int64_t now)
{
    int64_t nb = ws_cert_not_before(cert), na = ws_cert_not_after(cert);
    char nbs[32], nas[32], nows[32];
    ws_time_format(nb, nbs, sizeof nbs);
    ws_time_format(na, nas, sizeof nas);
    ws_time_format(now, nows, sizeof nows);
    if (na <= now)
        add(c, WS_CERTREQ_ID_EXPIRED, WS_CERTREQ_ERROR, "expired on %s (valid %s to %s; now %s)", nas, nbs, nas,
            nows);
    else if (nb > now)
        add(c, WS_CERTREQ_ID_NOT_YET_VALID, WS_CERTREQ_ERROR, "not valid before %s (now %s)", nbs, nows);
    else if (na - now <= WS_CERTREQ_SOON_SECONDS)
        add(c, WS_CERTREQ_ID_EXPIRES_SOON, WS_CERTREQ_WARNING, "expires on %s, in %lld day(s): renew it", nas,
            (long long)((na - now) / 86400));
}

static void check_usage(collect *c, X509 *cert, ws_certreq_role role)
{
    const char *role_name = ws_certreq_role_name(role);
    uint32_t flags = X509_get_extension_flags(cert);
    if (flags & EXFLAG_XKUSAGE) { /* without the extension: every use, as on Windows */
        uint32_t want = role == WS_CERTREQ_VMM ? XKU_SSL_CLIENT : XKU_SSL_SERVER;
        if (!(X509_get_extended_key_usage(cert) & want)) {
            char *ekus = ws_cert_ekus(cert);
            add(c, WS_CERTREQ_ID_EKU, WS_CERTREQ_ERROR, "enhanced key usage is %s; the %s role requires %s (%s)",
                *ekus ? ekus : "empty", role_name,
                role == WS_CERTREQ_VMM ? "Client Authentication" : "Server Authentication",
                role == WS_CERTREQ_VMM ? OID_CLIENT_AUTH : OID_SERVER_AUTH);
            free(ekus);
        }
    }
    if (role == WS_CERTREQ_VMM) {
        uint32_t ku = X509_get_key_usage(cert);
        if (ku != UINT32_MAX && !(ku & KU_DIGITAL_SIGNATURE)) {
            char *kus = ws_cert_key_usage(cert);
            add(c, WS_CERTREQ_ID_KEY_USAGE, WS_CERTREQ_ERROR,
                "key usage is %s; the vmm role signs tokens and requires Digital Signature", *kus ? kus : "empty");
            free(kus);
        }
    }
}

static void check_key(collect *c, X509 *cert, EVP_PKEY *key, const char *csp, int has_csp_attr,
                      ws_certreq_role role)
{
    if (role == WS_CERTREQ_VMM) {
        if (has_csp_attr && !key) {
            add(c, WS_CERTREQ_ID_NO_PRIVATE_KEY, WS_CERTREQ_ERROR,
                "the PFX holds no private key; VMM signs tokens with it: export with the private key "
                "(Export-PfxCertificate)");
        } else if (has_csp_attr) {
            const char *name = csp ? csp : ws_csp_default_name();
            const ws_csp *p = ws_csp_find(name);
            if (!p)
                add(c, WS_CERTREQ_ID_CSP, WS_CERTREQ_ERROR,
                    "the key's CSP \"%s\" is not a provider Windows Server 2012 R2 has; use \"%s\" (ProviderType 24)",
                    name, WS_CSP_ENHANCED_RSA_AES);
            else if (!p->sha256)
                add(c, WS_CERTREQ_ID_CSP, WS_CERTREQ_ERROR,
                    "%s\"%s\" (ProviderType %d) cannot hash SHA-256 (NTE_BAD_ALGID \"Invalid algorithm "
                    "specified.\"); the key must be in \"%s\" (ProviderType 24)",
                    csp ? "the key's CSP is " : "the PFX names no CSP, so the key lands in ", name, p->prov_type,
                    WS_CSP_ENHANCED_RSA_AES);
        } else {
            add(c, WS_CERTREQ_ID_CSP_UNKNOWN, WS_CERTREQ_WARNING,
                "PEM and DER files carry no CSP: check the PFX given to VMM, whose key must be in \"%s\"",
                WS_CSP_ENHANCED_RSA_AES);
        }
    }
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    if (pub) {
        int type = EVP_PKEY_get_base_id(pub), bits = EVP_PKEY_get_bits(pub);
        if ((type == EVP_PKEY_RSA || type == EVP_PKEY_RSA_PSS || type == EVP_PKEY_DSA) && bits > 0 &&
            bits < WS_CERTREQ_MIN_KEY_BITS)
            add(c, WS_CERTREQ_ID_KEY_SIZE, WS_CERTREQ_ERROR, "%s key of %d bits; at least %d are required",
                type == EVP_PKEY_DSA ? "DSA" : "RSA", bits, WS_CERTREQ_MIN_KEY_BITS);
    }
    ERR_clear_error();
}

/* The name checks use the client's own rule (tls.h: ws_cert_matches_peer): an address
 * matches only an IP SAN; a name a DNS SAN, or the CN without DNS SAN; the gateway's
 * name never through a wildcard. */
static void check_name(collect *c, X509 *cert, ws_certreq_role role, const char *fqdn)
{
    if (role == WS_CERTREQ_VMM)
        return;
    char sans[300], cn[256];
    int wild = 0, nsans = dns_sans(cert, sans, sizeof sans, &wild);
    common_name(cert, cn, sizeof cn);
    if (role == WS_CERTREQ_GATEWAY && nsans == 0 && cn[0] == '*')
        wild = 1;
    int exact = 0, any = 0;
    if (fqdn) {
        exact = ws_cert_matches_peer(cert, fqdn, WS_PEER_NO_WILDCARDS);
        any = exact || ws_cert_matches_peer(cert, fqdn, 0);
        if (!any && ws_is_ip_literal(fqdn)) {
            char *all = ws_cert_sans(cert);
            add(c, WS_CERTREQ_ID_NAME_MISMATCH, WS_CERTREQ_ERROR,
                "%s is an IP address, which matches only an IP SAN: the certificate %s (SAN %s; CN=%s); reissue "
                "with IP:%s or name the server by a DNS name it carries",
                fqdn, strstr(all, "IP:") ? "does not carry it as one" : "has no IP SAN", *all ? all : "none",
                cn[0] ? cn : "none", fqdn);
            free(all);
        } else if (!any && nsans > 0)
            add(c, WS_CERTREQ_ID_NAME_MISMATCH, WS_CERTREQ_ERROR,
                "%s does not match the certificate's DNS names (%s; CN=%s)", fqdn, sans, cn[0] ? cn : "none");
        else if (!any && role == WS_CERTREQ_GATEWAY)
            add(c, WS_CERTREQ_ID_NO_DNS_SAN, WS_CERTREQ_ERROR,
                "no DNS subject alternative name and the CN \"%s\" is not %s: reissue with DNS:%s", cn, fqdn, fqdn);
        else if (!any)
            add(c, WS_CERTREQ_ID_NAME_MISMATCH, WS_CERTREQ_ERROR,
                "%s does not match the certificate's CN \"%s\" (no DNS subject alternative name)", fqdn, cn);
    }
    /* Wildcards and the gateway: tls.h, WS_PEER_RDGATEWAY (Microsoft: "Wild-card TLS/SSL
     * certificates don't work"; the client refuses the name, 50331654). */
    if (role == WS_CERTREQ_GATEWAY && wild) {
        const char *names = nsans ? sans : cn;
        if (fqdn && exact)
            add(c, WS_CERTREQ_ID_WILDCARD, WS_CERTREQ_WARNING,
                "wildcard name among %s; %s matches exactly, but wildcard certificates do not work on the gateway",
                names, fqdn);
        else if (fqdn && any)
            add(c, WS_CERTREQ_ID_WILDCARD, WS_CERTREQ_ERROR,
                "%s matches only the wildcard name (%s); wildcard certificates do not work on the gateway "
                "(Remote Desktop Connection: name mismatch, 50331654): reissue with DNS:%s",
                fqdn, names, fqdn);
        else
            add(c, WS_CERTREQ_ID_WILDCARD, WS_CERTREQ_ERROR,
                "wildcard name (%s); wildcard certificates do not work on the gateway", names);
    }
}

static void check_signature(collect *c, X509 *cert)
{
    int sig = X509_get_signature_nid(cert), md = NID_undef, pk = NID_undef;
    if (sig == NID_undef || !OBJ_find_sigid_algs(sig, &md, &pk))
        return;
    if (md == NID_sha1 || md == NID_md5 || md == NID_md4 || md == NID_md2)
        add(c, WS_CERTREQ_ID_SIGNATURE_ALGORITHM, WS_CERTREQ_ERROR,
            "signed with %s (%s); reissue it signed with SHA-256", OBJ_nid2ln(sig), OBJ_nid2sn(md));
}

static void check_self_signed(collect *c, X509 *cert, ws_certreq_role role)
{
    if (role == WS_CERTREQ_HOST || !ws_cert_self_signed(cert))
        return;
    char *subject = ws_cert_subject(cert);
    char tp[41];
    ws_cert_thumbprint(cert, tp);
    if (role == WS_CERTREQ_VMM)
        add(c, WS_CERTREQ_ID_SELF_SIGNED_ROOT, WS_CERTREQ_WARNING,
            "self-signed (%s, %s): import it into LocalMachine\\Root on each Hyper-V host and on the gateway",
            subject, tp);
    else
        add(c, WS_CERTREQ_ID_SELF_SIGNED_ROOT, WS_CERTREQ_WARNING,
            "self-signed (%s, %s): every client computer must have it in Trusted Root Certification Authorities",
            subject, tp);
    free(subject);
}

int ws_certreq_check(X509 *cert, EVP_PKEY *key, const char *csp, int has_csp_attr, ws_certreq_role role,
                     const char *fqdn, int64_t now, ws_certreq_problem *out, int max)
{
    if (!cert || !ws_certreq_role_name(role))
        return -1;
    collect c = {.out = out, .max = max < 0 ? 0 : max};
    check_validity(&c, cert, now);
    check_usage(&c, cert, role);
    check_key(&c, cert, key, csp, has_csp_attr, role);
    check_name(&c, cert, role, fqdn && *fqdn ? fqdn : NULL);
    check_signature(&c, cert);
    check_self_signed(&c, cert, role);
    ERR_clear_error();
    return c.n;
}
