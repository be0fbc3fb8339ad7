/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/certreq.c: what each role requires of a certificate. The
 * certificates are made with ws_cert_create (and re-signed with SHA-1 or MD5 where
 * the signature algorithm is the point); "now" is a fixed time. */

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "harness.h"

#include "crypto/cert.h"
#include "crypto/certreq.h"
#include "crypto/csp.h"
#include "crypto/tls.h"
#include "base/util.h"

#define NOW 1750000000LL /* 2025-06-15 */
#define DAY 86400LL
#define NB (NOW - 100 * DAY)
#define NA (NOW + 300 * DAY)

#define AES WS_CSP_ENHANCED_RSA_AES
#define STRONG "Microsoft Strong Cryptographic Provider"

static X509 *ca_cert;
static EVP_PKEY *ca_key;

static int group_setup(void **state)
{
    (void)state;
    ws_cert_spec spec = {.subject = "CN=Contoso Root CA, O=Contoso", .is_ca = 1, .not_before = NOW - 1000 * DAY,
                         .not_after = NOW + 3000 * DAY};
    ws_error e;
    if (ws_cert_create(&spec, NULL, NULL, &ca_cert, &ca_key, &e) != 0) {
        fprintf(stderr, "group setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(ca_cert);
    EVP_PKEY_free(ca_key);
    return 0;
}

/* One certificate under test with its key; freed by done(). */
typedef struct made {
    X509 *cert;
    EVP_PKEY *key;
} made;

static made mk(const char *subject, const char *san, const char *eku, const char *ku, int bits, int64_t nb,
               int64_t na, int issued)
{
    ws_cert_spec spec = {.subject = subject, .san = san, .eku = eku, .key_usage = ku, .key_bits = bits,
                         .not_before = nb, .not_after = na};
    made m = {0};
    ws_error e;
    if (ws_cert_create(&spec, issued ? ca_cert : NULL, issued ? ca_key : NULL, &m.cert, &m.key, &e) != 0)
        fail_msg("ws_cert_create %s: %s", subject, e.msg);
    return m;
}

static made vmm_cert(void)
{
    return mk("CN=Remote Console Connect", NULL, "clientAuth", "digitalSignature", 0, NB, NA, 0);
}

static made gw_cert(const char *subject, const char *san)
{
    return mk(subject, san, "serverAuth", "digitalSignature,keyEncipherment", 0, NB, NA, 1);
}

static void done(made *m)
{
    X509_free(m->cert);
    EVP_PKEY_free(m->key);
}

/* The problems' ids in order, space-separated ("" when none), and checks that every
 * stored problem has an id, a one-line text and a severity. */
static int run(made *m, int with_key, const char *csp, int has_csp, ws_certreq_role role, const char *fqdn,
               int64_t now, ws_certreq_problem *p, char *ids, size_t n)
{
    int count = ws_certreq_check(m->cert, with_key ? m->key : NULL, csp, has_csp, role, fqdn, now, p,
                                 WS_CERTREQ_MAX_PROBLEMS);
    assert_true(count >= 0 && count <= WS_CERTREQ_MAX_PROBLEMS);
    ids[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < count; i++) {
        assert_non_null(p[i].id);
        assert_true(strlen(p[i].text) > 10);
        assert_null(strchr(p[i].text, '\n'));
        assert_true(p[i].severity == WS_CERTREQ_ERROR || p[i].severity == WS_CERTREQ_WARNING);
        used += (size_t)snprintf(ids + used, n - used, "%s%s", i ? " " : "", p[i].id);
    }
    assert_int_equal(ERR_peek_error(), 0);
    return count;
}

/* The problem with that id, or fail. */
static const ws_certreq_problem *find(const ws_certreq_problem *p, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (strcmp(p[i].id, id) == 0)
            return &p[i];
    fail_msg("no problem %s", id);
    return NULL;
}

/* ---- vmm ------------------------------------------------------------------------ */

static void test_vmm_fit(void **state)
{
    (void)state;
    made m = vmm_cert();
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    int n = run(&m, 1, AES, 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "self-signed-root");
    assert_int_equal(p[0].severity, WS_CERTREQ_WARNING);
    assert_string_equal(p[0].id, WS_CERTREQ_ID_SELF_SIGNED_ROOT);
    assert_contains(p[0].text, "LocalMachine\\Root on each Hyper-V host and on the gateway");
    char tp[41];
    ws_cert_thumbprint(m.cert, tp);
    assert_contains(p[0].text, tp);
    assert_false(ws_certreq_has_error(p, n));
    /* The SChannel provider and CNG KSPs hash SHA-256 too; csp names are case-insensitive. */
    assert_int_equal(run(&m, 1, WS_CSP_SCHANNEL, 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids), 1);
    assert_int_equal(run(&m, 1, "microsoft software key storage provider", 1, WS_CERTREQ_VMM, NULL, NOW, p, ids,
                         sizeof ids),
                     1);
    /* The FQDN plays no part for vmm. */
    assert_int_equal(run(&m, 1, AES, 1, WS_CERTREQ_VMM, "rdgw.contoso.com", NOW, p, ids, sizeof ids), 1);
    done(&m);
}

static void test_vmm_ca_issued_has_no_root_note(void **state)
{
    (void)state;
    made m = mk("CN=Remote Console Connect", NULL, "clientAuth", "digitalSignature", 0, NB, NA, 1);
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    assert_int_equal(run(&m, 1, AES, 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids), 0);
    done(&m);
}

static void test_vmm_csp(void **state)
{
    (void)state;
    made m = vmm_cert();
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    int n = run(&m, 1, STRONG, 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "csp self-signed-root");
    const ws_certreq_problem *c = find(p, n, WS_CERTREQ_ID_CSP);
    assert_int_equal(c->severity, WS_CERTREQ_ERROR);
    assert_contains(c->text, "\"" STRONG "\" (ProviderType 1) cannot hash SHA-256");
    assert_contains(c->text, "Invalid algorithm specified.");
    assert_contains(c->text, AES);
    assert_true(ws_certreq_has_error(p, n));

    /* A PFX without the attribute: the key lands in the default PROV_RSA_FULL provider. */
    n = run(&m, 1, NULL, 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "csp self-signed-root");
    assert_contains(p[0].text, "the PFX names no CSP");
    assert_contains(p[0].text, ws_csp_default_name());

    /* A provider Windows does not have. */
    n = run(&m, 1, "Contoso HSM Provider", 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "csp self-signed-root");
    assert_contains(p[0].text, "\"Contoso HSM Provider\" is not a provider");

    /* Every PROV_RSA_FULL provider fails. */
    static const char *const full[] = {"Microsoft Base Cryptographic Provider v1.0",
                                       "Microsoft Enhanced Cryptographic Provider v1.0"};
    for (size_t i = 0; i < 2; i++) {
        run(&m, 1, full[i], 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
        assert_string_equal(ids, "csp self-signed-root");
    }
    done(&m);
}

static void test_vmm_pem_der_csp_unknown(void **state)
{
    (void)state;
    made m = vmm_cert();
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    /* PEM/DER: no CSP to judge, with or without the key; a warning, still fit. */
    int n = run(&m, 0, NULL, 0, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "csp-unknown self-signed-root");
    assert_int_equal(p[0].severity, WS_CERTREQ_WARNING);
    assert_false(ws_certreq_has_error(p, n));
    run(&m, 1, NULL, 0, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "csp-unknown self-signed-root");
    done(&m);
}

static void test_vmm_no_private_key(void **state)
{
    (void)state;
    made m = vmm_cert();
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    /* A PFX without its key: one problem, not also the CSP. */
    int n = run(&m, 0, AES, 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "no-private-key self-signed-root");
    assert_true(ws_certreq_has_error(p, n));
    run(&m, 0, NULL, 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "no-private-key self-signed-root");
    /* Other roles do not need the key in the file. */
    assert_int_equal(run(&m, 0, NULL, 1, WS_CERTREQ_HOST, NULL, NOW, p, ids, sizeof ids), 1); /* eku */
    assert_string_equal(ids, "eku");
    done(&m);
}

static void test_vmm_eku_and_key_usage(void **state)
{
    (void)state;
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    made m = mk("CN=Remote Console Connect", NULL, "serverAuth", "digitalSignature", 0, NB, NA, 0);
    int n = run(&m, 1, AES, 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "eku self-signed-root");
    assert_contains(find(p, n, "eku")->text,
                    "enhanced key usage is serverAuth; the vmm role requires Client Authentication (1.3.6.1.5.5.7.3.2)");
    done(&m);

    m = mk("CN=Remote Console Connect", NULL, "clientAuth", "keyEncipherment", 0, NB, NA, 0);
    n = run(&m, 1, AES, 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "key-usage self-signed-root");
    assert_contains(p[0].text, "key usage is keyEncipherment");
    assert_contains(p[0].text, "Digital Signature");
    done(&m);

    /* Without the extensions: every use, as on Windows. */
    m = mk("CN=Remote Console Connect", NULL, NULL, NULL, 0, NB, NA, 0);
    run(&m, 1, AES, 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "self-signed-root");
    run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "no-dns-san self-signed-root");
    done(&m);

    /* Both EKUs: fit for either use. */
    m = mk("CN=x.contoso.com", NULL, "serverAuth,clientAuth", "digitalSignature", 0, NB, NA, 1);
    assert_int_equal(run(&m, 1, AES, 1, WS_CERTREQ_VMM, NULL, NOW, p, ids, sizeof ids), 0);
    assert_int_equal(run(&m, 1, AES, 1, WS_CERTREQ_GATEWAY, "x.contoso.com", NOW, p, ids, sizeof ids), 0);
    done(&m);
}

/* ---- validity --------------------------------------------------------------------- */

static void test_validity(void **state)
{
    (void)state;
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    made m = mk("CN=hv01.contoso.com", NULL, "serverAuth", NULL, 0, NOW - 400 * DAY, NOW - 35 * DAY, 1);
    int n = run(&m, 0, NULL, 0, WS_CERTREQ_HOST, "hv01.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "expired");
    assert_contains(p[0].text, "expired on 2025-05-11");
    assert_contains(p[0].text, "now 2025-06-15");
    assert_true(ws_certreq_has_error(p, n));
    /* Judged at the time given: the same certificate one day before it expired. */
    run(&m, 0, NULL, 0, WS_CERTREQ_HOST, "hv01.contoso.com", NOW - 36 * DAY, p, ids, sizeof ids);
    assert_string_equal(ids, "expires-soon");
    assert_int_equal(p[0].severity, WS_CERTREQ_WARNING);
    assert_contains(p[0].text, "in 1 day(s)");
    /* On the second it expires, it is expired. */
    run(&m, 0, NULL, 0, WS_CERTREQ_HOST, NULL, NOW - 35 * DAY, p, ids, sizeof ids);
    assert_string_equal(ids, "expired");
    /* Exactly 30 days left: soon; 31: fine. */
    run(&m, 0, NULL, 0, WS_CERTREQ_HOST, NULL, NOW - 65 * DAY, p, ids, sizeof ids);
    assert_string_equal(ids, "expires-soon");
    run(&m, 0, NULL, 0, WS_CERTREQ_HOST, NULL, NOW - 66 * DAY, p, ids, sizeof ids);
    assert_string_equal(ids, "");
    /* Before its start. */
    run(&m, 0, NULL, 0, WS_CERTREQ_HOST, NULL, NOW - 401 * DAY, p, ids, sizeof ids);
    assert_string_equal(ids, "not-yet-valid");
    assert_contains(p[0].text, "not valid before");
    done(&m);
}

/* ---- key size and signature ------------------------------------------------------- */

static void test_key_size(void **state)
{
    (void)state;
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    made m = mk("CN=rdgw.contoso.com", "DNS:rdgw.contoso.com", "serverAuth", NULL, 1024, NB, NA, 1);
    for (int role = WS_CERTREQ_VMM; role <= WS_CERTREQ_HOST; role++) {
        int n = run(&m, 1, AES, 1, (ws_certreq_role)role, "rdgw.contoso.com", NOW, p, ids, sizeof ids);
        assert_contains(ids, "key-size");
        assert_contains(find(p, n, "key-size")->text, "RSA key of 1024 bits; at least 2048");
    }
    done(&m);
}

/* Sign again with the same key (the CA's for an issued certificate), another digest. */
static void resign(made *m, EVP_PKEY *key, const EVP_MD *md)
{
    assert_true(X509_sign(m->cert, key, md) > 0);
}

static void test_signature_algorithm(void **state)
{
    (void)state;
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    made m = gw_cert("CN=rdgw.contoso.com", "DNS:rdgw.contoso.com");
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids), 0);
    resign(&m, ca_key, EVP_sha1());
    int n = run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "signature-algorithm");
    assert_contains(p[0].text, "signed with sha1WithRSAEncryption (SHA1)");
    assert_true(ws_certreq_has_error(p, n));
    resign(&m, ca_key, EVP_md5());
    run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "signature-algorithm");
    assert_contains(p[0].text, "md5WithRSAEncryption");
    resign(&m, ca_key, EVP_sha384());
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids), 0);
    done(&m);
}

/* ---- gateway names ----------------------------------------------------------------- */

static void test_gateway_names(void **state)
{
    (void)state;
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    const char *fqdn = "rdgw.contoso.com";

    made m = gw_cert("CN=rdgw.contoso.com", "DNS:rdgw.contoso.com,IP:10.0.0.5");
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, fqdn, NOW, p, ids, sizeof ids), 0);
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "RDGW.CONTOSO.COM", NOW, p, ids, sizeof ids), 0);
    int n = run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw2.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "name-mismatch");
    assert_contains(p[0].text, "rdgw2.contoso.com does not match the certificate's DNS names (rdgw.contoso.com;");
    assert_true(ws_certreq_has_error(p, n));
    /* No FQDN: no name checks. */
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, NULL, NOW, p, ids, sizeof ids), 0);
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "", NOW, p, ids, sizeof ids), 0);
    done(&m);

    /* The name in the CN, no SAN: matches (RFC 6125). */
    m = gw_cert("CN=rdgw.contoso.com, O=Contoso", NULL);
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, fqdn, NOW, p, ids, sizeof ids), 0);
    done(&m);
    /* Only an IP SAN: the CN still counts for a DNS name. */
    m = gw_cert("CN=rdgw.contoso.com", "IP:10.0.0.5");
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, fqdn, NOW, p, ids, sizeof ids), 0);
    done(&m);

    /* The NetBIOS name in the CN, no SAN: the field's case. */
    m = gw_cert("CN=RDGW01", NULL);
    run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, fqdn, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "no-dns-san");
    assert_contains(p[0].text, "the CN \"RDGW01\" is not rdgw.contoso.com");
    assert_contains(p[0].text, "DNS:rdgw.contoso.com");
    /* A host certificate may carry its name in the CN: there it is a plain mismatch. */
    run(&m, 1, NULL, 0, WS_CERTREQ_HOST, fqdn, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "name-mismatch");
    assert_contains(p[0].text, "CN \"RDGW01\"");
    done(&m);

    /* DNS SANs present: the CN does not count. */
    m = gw_cert("CN=rdgw.contoso.com", "DNS:rdgw01.contoso.local");
    run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, fqdn, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "name-mismatch");
    done(&m);
}

static void test_gateway_wildcard(void **state)
{
    (void)state;
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    made m = gw_cert("CN=*.contoso.com", "DNS:*.contoso.com");
    int n = run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "wildcard");
    assert_int_equal(p[0].severity, WS_CERTREQ_ERROR);
    assert_contains(p[0].text, "rdgw.contoso.com matches only the wildcard name (*.contoso.com)");
    assert_true(ws_certreq_has_error(p, n));
    /* Another domain: no match, and the wildcard would not work anyway. */
    run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.fabrikam.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "name-mismatch wildcard");
    /* No FQDN: still a wildcard certificate. */
    run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, NULL, NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "wildcard");
    /* Hosts are not held to it. */
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_HOST, "hv01.contoso.com", NOW, p, ids, sizeof ids), 0);
    done(&m);

    /* Wildcard in the CN without SAN. */
    m = gw_cert("CN=*.contoso.com", NULL);
    run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "wildcard");
    done(&m);

    /* The exact name beside a wildcard: a warning only. */
    m = gw_cert("CN=rdgw.contoso.com", "DNS:rdgw.contoso.com,DNS:*.contoso.com");
    n = run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "wildcard");
    assert_int_equal(p[0].severity, WS_CERTREQ_WARNING);
    assert_false(ws_certreq_has_error(p, n));
    done(&m);
}

/* An address is matched only by an IP SAN: not by a DNS SAN or a CN that spells it
 * (the client's own rule, crypto/tls.h), for the gateway and for a host in IPv4 mode. */
static void test_an_address_matches_only_an_ip_san(void **state)
{
    (void)state;
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    made m = gw_cert("CN=rdgw.contoso.com", "DNS:rdgw.contoso.com");
    run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "127.64.0.13", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "name-mismatch");
    assert_contains(p[0].text, "127.64.0.13 is an IP address, which matches only an IP SAN: the certificate has no "
                               "IP SAN (SAN DNS:rdgw.contoso.com; CN=rdgw.contoso.com)");
    assert_false(ws_cert_matches_peer(m.cert, "127.64.0.13", 0));
    done(&m);

    m = gw_cert("CN=127.64.0.13", "DNS:127.64.0.13");
    run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "127.64.0.13", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "name-mismatch");
    done(&m);
    m = gw_cert("CN=127.64.0.13", NULL); /* no SAN at all: the CN is not consulted for an address */
    run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "127.64.0.13", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "name-mismatch");
    run(&m, 1, NULL, 0, WS_CERTREQ_HOST, "127.64.0.13", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "name-mismatch");
    done(&m);

    m = gw_cert("CN=rdgw.contoso.com", "DNS:rdgw.contoso.com,IP:127.64.0.14");
    run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "127.64.0.13", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "name-mismatch");
    assert_contains(p[0].text, "does not carry it as one");
    done(&m);

    m = gw_cert("CN=rdgw.contoso.com", "DNS:rdgw.contoso.com,IP:127.64.0.13,IP:2001:db8::7");
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "127.64.0.13", NOW, p, ids, sizeof ids), 0);
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids), 0);
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "2001:db8:0::7", NOW, p, ids, sizeof ids), 0);
    assert_true(ws_cert_matches_peer(m.cert, "2001:DB8::7", 0));
    assert_false(ws_cert_matches_peer(m.cert, "2001:db8::8", 0));
    done(&m);
}

/* The gateway's name never matches through a wildcard; other peers may. */
static void test_wildcards_and_the_peer_rule(void **state)
{
    (void)state;
    made m = gw_cert("CN=*.contoso.com", "DNS:*.contoso.com");
    assert_true(ws_cert_matches_peer(m.cert, "rdgw.contoso.com", 0));
    assert_false(ws_cert_matches_peer(m.cert, "rdgw.contoso.com", WS_PEER_RDGATEWAY));
    done(&m);
    m = gw_cert("CN=rdgw.contoso.com", "DNS:rdgw.contoso.com,DNS:*.contoso.com");
    assert_true(ws_cert_matches_peer(m.cert, "rdgw.contoso.com", WS_PEER_RDGATEWAY));
    assert_false(ws_cert_matches_peer(m.cert, "portal.contoso.com", WS_PEER_RDGATEWAY));
    done(&m);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_gateway_eku_and_self_signed(void **state)
{
    (void)state;
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    made m = mk("CN=rdgw.contoso.com", "DNS:rdgw.contoso.com", "clientAuth", NULL, 0, NB, NA, 1);
    int n = run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "eku");
    assert_contains(p[0].text, "the gateway role requires Server Authentication (1.3.6.1.5.5.7.3.1)");
    assert_true(ws_certreq_has_error(p, n));
    done(&m);

    m = mk("CN=rdgw.contoso.com", "DNS:rdgw.contoso.com", "serverAuth", NULL, 0, NB, NA, 0);
    n = run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "self-signed-root");
    assert_contains(p[0].text, "every client computer");
    assert_false(ws_certreq_has_error(p, n));
    done(&m);
}

/* ---- host --------------------------------------------------------------------------- */

static void test_host(void **state)
{
    (void)state;
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    /* Hyper-V's own: self-signed, CN = FQDN: no Root note for a host. */
    made m = mk("CN=hv01.contoso.com", NULL, "serverAuth", "digitalSignature,keyEncipherment", 0, NB, NA, 0);
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_HOST, "hv01.contoso.com", NOW, p, ids, sizeof ids), 0);
    assert_int_equal(run(&m, 1, NULL, 0, WS_CERTREQ_HOST, NULL, NOW, p, ids, sizeof ids), 0);
    run(&m, 1, NULL, 0, WS_CERTREQ_HOST, "hv02.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "name-mismatch");
    assert_contains(p[0].text, "hv02.contoso.com does not match the certificate's CN \"hv01.contoso.com\"");
    done(&m);

    m = mk("CN=hv01.contoso.com", NULL, "clientAuth", NULL, 0, NB, NA, 0);
    run(&m, 1, NULL, 0, WS_CERTREQ_HOST, "hv01.contoso.com", NOW, p, ids, sizeof ids);
    assert_string_equal(ids, "eku");
    assert_contains(p[0].text, "the host role requires Server Authentication");
    done(&m);
}

/* ---- several at once, order, truncation ---------------------------------------------- */

static void test_order_and_max(void **state)
{
    (void)state;
    ws_certreq_problem p[WS_CERTREQ_MAX_PROBLEMS];
    char ids[512];
    made m = mk("CN=RDGW01", NULL, "clientAuth", NULL, 1024, NOW - 400 * DAY, NOW - DAY, 0);
    resign(&m, m.key, EVP_sha1());
    int n = run(&m, 1, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, ids, sizeof ids);
    /* Validity, usage, key, name, signature, notes. */
    assert_string_equal(ids, "expired eku key-size no-dns-san signature-algorithm self-signed-root");
    assert_int_equal(n, 6);

    ws_certreq_problem one[2];
    memset(one, 0, sizeof one);
    one[1].text[0] = 'x';
    assert_int_equal(ws_certreq_check(m.cert, m.key, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, one, 1),
                     6);
    assert_string_equal(one[0].id, "expired");
    assert_null(one[1].id); /* untouched */
    assert_int_equal(one[1].text[0], 'x');
    assert_int_equal(ws_certreq_check(m.cert, m.key, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, NULL, 0),
                     6);
    assert_int_equal(ws_certreq_check(m.cert, m.key, NULL, 0, WS_CERTREQ_GATEWAY, "rdgw.contoso.com", NOW, p, -3),
                     6);
    done(&m);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    ws_certreq_problem p[4];
    assert_int_equal(ws_certreq_check(NULL, NULL, NULL, 0, WS_CERTREQ_VMM, NULL, NOW, p, 4), -1);
    made m = vmm_cert();
    assert_int_equal(ws_certreq_check(m.cert, NULL, NULL, 0, (ws_certreq_role)7, NULL, NOW, p, 4), -1);
    done(&m);
}

static void test_names(void **state)
{
    (void)state;
    ws_certreq_role r = WS_CERTREQ_HOST;
    assert_int_equal(ws_certreq_role_parse("vmm", &r), 0);
    assert_int_equal(r, WS_CERTREQ_VMM);
    assert_int_equal(ws_certreq_role_parse("Gateway", &r), 0);
    assert_int_equal(r, WS_CERTREQ_GATEWAY);
    assert_int_equal(ws_certreq_role_parse("host", &r), 0);
    assert_int_equal(r, WS_CERTREQ_HOST);
    assert_int_equal(ws_certreq_role_parse("portal", &r), -1);
    assert_int_equal(ws_certreq_role_parse("", &r), -1);
    assert_int_equal(ws_certreq_role_parse(NULL, &r), -1);
    assert_int_equal(r, WS_CERTREQ_HOST);
    assert_string_equal(ws_certreq_role_name(WS_CERTREQ_VMM), "vmm");
    assert_string_equal(ws_certreq_role_name(WS_CERTREQ_GATEWAY), "gateway");
    assert_string_equal(ws_certreq_role_name(WS_CERTREQ_HOST), "host");
    assert_null(ws_certreq_role_name((ws_certreq_role)9));
    assert_string_equal(ws_certreq_severity_name(WS_CERTREQ_ERROR), "error");
    assert_string_equal(ws_certreq_severity_name(WS_CERTREQ_WARNING), "warning");
    assert_false(ws_certreq_has_error(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vmm_fit),
        cmocka_unit_test(test_vmm_ca_issued_has_no_root_note),
        cmocka_unit_test(test_vmm_csp),
        cmocka_unit_test(test_vmm_pem_der_csp_unknown),
        cmocka_unit_test(test_vmm_no_private_key),
        cmocka_unit_test(test_vmm_eku_and_key_usage),
        cmocka_unit_test(test_validity),
        cmocka_unit_test(test_key_size),
        cmocka_unit_test(test_signature_algorithm),
        cmocka_unit_test(test_gateway_names),
        cmocka_unit_test(test_gateway_wildcard),
        cmocka_unit_test(test_an_address_matches_only_an_ip_san),
        cmocka_unit_test(test_wildcards_and_the_peer_rule),
        cmocka_unit_test(test_gateway_eku_and_self_signed),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_order_and_max),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
