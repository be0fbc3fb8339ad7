/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/vault.c, sim/store.c, sim/machine.c and sim/settings.c, in a
 * lab-like state: machines, a vault of certificates, and each machine's My and Root
 * stores with Windows-like chain building. */

#include <ctype.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "harness.h"

#include "crypto/cert.h"
#include "lab/clock.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/state.h"
#include "lab/store.h"
#include "base/util.h"
#include "lab/vault.h"

/* ---- certificates, made once ---------------------------------------------------- */

#define CA_NOT_BEFORE 1600000000LL
#define CA_NOT_AFTER 2000000000LL
#define LEAF_NOT_BEFORE 1700000000LL
#define LEAF_NOT_AFTER (LEAF_NOT_BEFORE + 365LL * 86400)
#define INSIDE (LEAF_NOT_BEFORE + 30LL * 86400) /* a time every certificate is valid at */

enum { ROOT, LEAF, VMM, INTER, HOSTLEAF, N_CERTS };
static const char *const cert_names[N_CERTS] = {"contoso-root", "rdgw", "vmm-console", "contoso-issuing",
                                                "hv01-auth"};
static X509 *certs[N_CERTS];
static EVP_PKEY *keys[N_CERTS];
static char thumbprints[N_CERTS][41];

static int make(int i, const ws_cert_spec *spec, int issuer)
{
    ws_error e = {""};
    if (ws_cert_create(spec, issuer >= 0 ? certs[issuer] : NULL, issuer >= 0 ? keys[issuer] : NULL, &certs[i],
                       &keys[i], &e) != 0) {
        fprintf(stderr, "creating %s: %s\n", cert_names[i], e.msg);
        return -1;
    }
    ws_cert_thumbprint(certs[i], thumbprints[i]);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    const ws_cert_spec root = {.subject = "CN=Contoso Root CA, O=Contoso",
                               .is_ca = 1,
                               .key_bits = 1024,
                               .not_before = CA_NOT_BEFORE,
                               .not_after = CA_NOT_AFTER};
    const ws_cert_spec leaf = {.subject = "CN=rdgw.contoso.com",
                               .san = "DNS:rdgw.contoso.com",
                               .eku = "serverAuth",
                               .key_usage = "digitalSignature,keyEncipherment",
                               .key_bits = 1024,
                               .not_before = LEAF_NOT_BEFORE,
                               .not_after = LEAF_NOT_AFTER};
    const ws_cert_spec vmm = {.subject = "CN=Remote Console Connect",
                              .eku = "clientAuth",
                              .key_usage = "digitalSignature",
                              .key_bits = 1024,
                              .not_before = LEAF_NOT_BEFORE,
                              .not_after = LEAF_NOT_AFTER};
    const ws_cert_spec inter = {.subject = "CN=Contoso Issuing CA, O=Contoso",
                                .is_ca = 1,
                                .key_bits = 1024,
                                .not_before = CA_NOT_BEFORE,
                                .not_after = CA_NOT_AFTER};
    const ws_cert_spec hostleaf = {.subject = "CN=hv01.fabric.contoso.local",
                                   .san = "DNS:hv01.fabric.contoso.local",
                                   .eku = "serverAuth",
                                   .key_usage = "digitalSignature,keyEncipherment",
                                   .key_bits = 1024,
                                   .not_before = LEAF_NOT_BEFORE,
                                   .not_after = LEAF_NOT_AFTER};
    if (make(ROOT, &root, -1) || make(LEAF, &leaf, ROOT) || make(VMM, &vmm, -1) || make(INTER, &inter, ROOT) ||
        make(HOSTLEAF, &hostleaf, INTER))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < N_CERTS; i++) {
        X509_free(certs[i]);
        EVP_PKEY_free(keys[i]);
    }
    return 0;
}

/* ---- a lab per test ------------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    ws_state *st;
} fixture;

static int add_machine_e(ws_state *st, const char *name, const char *public_fqdn, const char *address,
                         const char *role, int port, ws_error *e)
{
    ws_machine m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    snprintf(m.fqdn, sizeof m.fqdn, "%s.fabric.contoso.local", name);
    snprintf(m.public_fqdn, sizeof m.public_fqdn, "%s", public_fqdn ? public_fqdn : "");
    snprintf(m.address, sizeof m.address, "%s", address);
    snprintf(m.role, sizeof m.role, "%s", role);
    m.port = port;
    return ws_machine_add(st, &m, e);
}

static int add_machine(ws_state *st, const char *name, const char *public_fqdn, const char *address,
                       const char *role, int port)
{
    ws_error e = {""};
    if (add_machine_e(st, name, public_fqdn, address, role, port, &e) != 0) {
        fprintf(stderr, "adding %s: %s\n", name, e.msg);
        return -1;
    }
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    if (ws_test_lab_open(f->dir, sizeof f->dir, "store", &f->st) != 0)
        return -1;
    ws_error e = {""};
    if (add_machine(f->st, "vmm01", NULL, "127.77.0.12", "vmm", 8100) ||
        add_machine(f->st, "rdgw01", "rdgw.contoso.com", "127.77.0.13", "gateway", 443) ||
        add_machine(f->st, "hv01", NULL, "127.77.0.21", "host", 2179) ||
        add_machine(f->st, "pc01", NULL, "127.77.0.50", "client", 0))
        return -1;
    /* Every certificate with its key; the gateway's also as a public-only copy. */
    for (int i = 0; i < N_CERTS; i++)
        if (ws_vault_put(f->st, cert_names[i], certs[i], keys[i], i == LEAF ? WS_CSP_ENHANCED_RSA_AES : NULL, &e) !=
            0) {
            fprintf(stderr, "setup: %s\n", e.msg);
            return -1;
        }
    if (ws_vault_put(f->st, "rdgw-public", certs[LEAF], NULL, NULL, &e) != 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f)
        ws_test_lab_close(f->st, f->dir);
    free(f);
    return 0;
}

static void store_add(ws_state *st, const char *machine, const char *store, const char *name, int with_key)
{
    ws_error e = {""};
    if (ws_store_add(st, machine, store, name, with_key, &e) != 0)
        fail_msg("adding %s to %s\\%s: %s", name, machine, store, e.msg);
}

/* 0 when leaf verifies on machine at INSIDE, else -1 with the reason in why. */
static int verify_on(ws_state *st, const char *machine, int cert, int64_t at, char *why, size_t n)
{
    ws_error e = {""};
    int rc = ws_store_verify_chain(st, machine, certs[cert], at, &e);
    if (why)
        snprintf(why, n, "%s", rc == 0 ? "" : e.msg);
    return rc;
}

/* ---- stores ------------------------------------------------------------------- */

static void test_store_names(void **state)
{
    (void)state;
    assert_string_equal(ws_store_name("My"), "My");
    assert_string_equal(ws_store_name("my"), "My");
    assert_string_equal(ws_store_name("Personal"), "My");
    assert_string_equal(ws_store_name("ROOT"), "Root");
    assert_string_equal(ws_store_name("TrustedRoot"), "Root");
    assert_null(ws_store_name("CA"));
    assert_null(ws_store_name("Intermediate"));
    assert_null(ws_store_name(""));
    assert_null(ws_store_name(NULL));
}

static void test_store_add_contains_remove(void **state)
{
    fixture *f = *state;
    ws_state *st = f->st;
    ws_error e = {""};
    int has_key = -1;

    assert_int_equal(ws_store_contains(st, "rdgw01", "My", "rdgw", &has_key), 0);
    assert_int_equal(has_key, -1); /* untouched when absent */
    store_add(st, "rdgw01", "My", "rdgw", 1);
    assert_int_equal(ws_store_contains(st, "rdgw01", "My", "rdgw", &has_key), 1);
    assert_int_equal(has_key, 1);
    assert_int_equal(ws_store_contains(st, "rdgw01", "My", "rdgw", NULL), 1);
    /* Only in that machine's My store. */
    assert_int_equal(ws_store_contains(st, "rdgw01", "Root", "rdgw", NULL), 0);
    assert_int_equal(ws_store_contains(st, "hv01", "My", "rdgw", NULL), 0);

    store_add(st, "rdgw01", "Root", "contoso-root", 0);
    assert_int_equal(ws_store_contains(st, "rdgw01", "Root", "contoso-root", &has_key), 1);
    assert_int_equal(has_key, 0);

    /* Adding again replaces the entry (here: without its key). */
    store_add(st, "rdgw01", "My", "rdgw", 0);
    assert_int_equal(ws_store_contains(st, "rdgw01", "My", "rdgw", &has_key), 1);
    assert_int_equal(has_key, 0);

    assert_int_equal(ws_store_remove(st, "rdgw01", "My", "rdgw", &e), 0);
    assert_int_equal(ws_store_contains(st, "rdgw01", "My", "rdgw", NULL), 0);
    assert_int_equal(ws_store_contains(st, "rdgw01", "Root", "contoso-root", NULL), 1);
    e.msg[0] = '\0';
    assert_int_equal(ws_store_remove(st, "rdgw01", "My", "rdgw", &e), WS_NOT_FOUND);
    assert_contains(e.msg, "rdgw");
    e.msg[0] = '\0';
    assert_int_equal(ws_store_remove(st, "hv01", "Root", "contoso-root", &e), WS_NOT_FOUND);

    /* Unknown machine, store and certificate are refused and change nothing. */
    e.msg[0] = '\0';
    assert_int_equal(ws_store_add(st, "nope", "My", "rdgw", 0, &e), -1);
    assert_contains(e.msg, "unknown machine 'nope'");
    e.msg[0] = '\0';
    assert_int_equal(ws_store_add(st, "rdgw01", "CA", "contoso-root", 0, &e), -1);
    assert_contains(e.msg, "unknown store 'CA'");
    assert_int_equal(ws_store_contains(st, "rdgw01", "CA", "contoso-root", NULL), 0);
    e.msg[0] = '\0';
    assert_int_equal(ws_store_add(st, "rdgw01", NULL, "contoso-root", 0, &e), -1);
    assert_contains(e.msg, "unknown store");
    e.msg[0] = '\0';
    assert_int_equal(ws_store_add(st, "rdgw01", "My", "no-such-cert", 0, &e), WS_NOT_FOUND);
    assert_contains(e.msg, "no-such-cert");
    assert_int_equal(ws_store_contains(st, "rdgw01", "My", "no-such-cert", NULL), 0);
    e.msg[0] = '\0';
    assert_int_equal(ws_store_remove(st, "nope", "My", "rdgw", &e), -1);
    assert_contains(e.msg, "unknown machine 'nope'");
    e.msg[0] = '\0';
    assert_int_equal(ws_store_remove(st, "rdgw01", "CA", "rdgw", &e), -1);
    assert_contains(e.msg, "unknown store 'CA'");
}

static void test_private_key_required(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_store_add(f->st, "rdgw01", "My", "rdgw-public", 1, &e), -1);
    assert_contains(e.msg, "no private key");
    assert_int_equal(ws_store_contains(f->st, "rdgw01", "My", "rdgw-public", NULL), 0);
    /* Public only is fine. */
    store_add(f->st, "rdgw01", "My", "rdgw-public", 0);
    int has_key = -1;
    assert_int_equal(ws_store_contains(f->st, "rdgw01", "My", "rdgw-public", &has_key), 1);
    assert_int_equal(has_key, 0);
    /* The key a store entry has comes from the vault, and the vault still has it. */
    EVP_PKEY *key = NULL;
    assert_int_equal(ws_vault_get(f->st, "rdgw", NULL, &key, NULL, &e), 0);
    assert_non_null(key);
    int same = EVP_PKEY_eq(key, keys[LEAF]);
    EVP_PKEY_free(key);
    assert_int_equal(same, 1);
}

static void test_chain_with_root_ca(void **state)
{
    fixture *f = *state;
    char why[512];
    store_add(f->st, "rdgw01", "Root", "contoso-root", 0);
    assert_int_equal(verify_on(f->st, "rdgw01", LEAF, INSIDE, why, sizeof why), 0);
    /* hv01 has no Root certificate at all; pc01 has an unrelated one. */
    assert_int_equal(verify_on(f->st, "hv01", LEAF, INSIDE, why, sizeof why), -1);
    assert_contains(why, "unable to get local issuer certificate");
    store_add(f->st, "pc01", "Root", "vmm-console", 0);
    assert_int_equal(verify_on(f->st, "pc01", LEAF, INSIDE, why, sizeof why), -1);
    assert_contains(why, "unable to get local issuer certificate");
    /* The CA in My is not a trust anchor. */
    store_add(f->st, "hv01", "My", "contoso-root", 1);
    assert_int_equal(verify_on(f->st, "hv01", LEAF, INSIDE, why, sizeof why), -1);
    /* Removing the root breaks the chain again. */
    ws_error e = {""};
    assert_int_equal(ws_store_remove(f->st, "rdgw01", "Root", "contoso-root", &e), 0);
    assert_int_equal(verify_on(f->st, "rdgw01", LEAF, INSIDE, why, sizeof why), -1);
    assert_contains(why, "unable to get local issuer certificate");
    /* An unknown machine trusts nothing. */
    assert_int_equal(verify_on(f->st, "nope", LEAF, INSIDE, why, sizeof why), -1);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_chain_self_signed(void **state)
{
    fixture *f = *state;
    char why[512];
    /* In My (with its key) on vmm01: still not trusted. */
    store_add(f->st, "vmm01", "My", "vmm-console", 1);
    assert_int_equal(verify_on(f->st, "vmm01", VMM, INSIDE, why, sizeof why), -1);
    assert_contains(why, "self");
    assert_int_equal(verify_on(f->st, "rdgw01", VMM, INSIDE, why, sizeof why), -1);
    /* In rdgw01's Root: trusted there, and only there. */
    store_add(f->st, "rdgw01", "Root", "vmm-console", 0);
    assert_int_equal(verify_on(f->st, "rdgw01", VMM, INSIDE, why, sizeof why), 0);
    assert_int_equal(verify_on(f->st, "vmm01", VMM, INSIDE, why, sizeof why), -1);
    assert_int_equal(verify_on(f->st, "hv01", VMM, INSIDE, why, sizeof why), -1);
    /* A Root holding an unrelated CA does not help. */
    store_add(f->st, "hv01", "Root", "contoso-root", 0);
    assert_int_equal(verify_on(f->st, "hv01", VMM, INSIDE, why, sizeof why), -1);
    store_add(f->st, "hv01", "Root", "vmm-console", 0);
    assert_int_equal(verify_on(f->st, "hv01", VMM, INSIDE, why, sizeof why), 0);
}

static void test_chain_with_intermediate_in_my(void **state)
{
    fixture *f = *state;
    char why[512];
    store_add(f->st, "hv01", "Root", "contoso-root", 0);
    store_add(f->st, "hv01", "My", "hv01-auth", 1);
    /* Without the issuing CA the chain stops at the leaf. */
    assert_int_equal(verify_on(f->st, "hv01", HOSTLEAF, INSIDE, why, sizeof why), -1);
    assert_contains(why, "unable to get local issuer certificate");
    /* The issuing CA in My completes it. */
    store_add(f->st, "hv01", "My", "contoso-issuing", 0);
    assert_int_equal(verify_on(f->st, "hv01", HOSTLEAF, INSIDE, why, sizeof why), 0);
    /* On another machine with the same root but no intermediate: no. */
    store_add(f->st, "rdgw01", "Root", "contoso-root", 0);
    assert_int_equal(verify_on(f->st, "rdgw01", HOSTLEAF, INSIDE, why, sizeof why), -1);
    /* The intermediate alone, without the root, is not a trust anchor either. */
    store_add(f->st, "vmm01", "My", "contoso-issuing", 0);
    assert_int_equal(verify_on(f->st, "vmm01", HOSTLEAF, INSIDE, why, sizeof why), -1);
    /* The intermediate itself verifies against the root. */
    assert_int_equal(verify_on(f->st, "hv01", INTER, INSIDE, why, sizeof why), 0);
}

static void test_chain_time(void **state)
{
    fixture *f = *state;
    char why[512];
    store_add(f->st, "rdgw01", "Root", "contoso-root", 0);
    store_add(f->st, "rdgw01", "Root", "vmm-console", 0);
    assert_int_equal(verify_on(f->st, "rdgw01", LEAF, LEAF_NOT_AFTER - 1, why, sizeof why), 0);
    assert_int_equal(verify_on(f->st, "rdgw01", LEAF, LEAF_NOT_AFTER + 1, why, sizeof why), -1);
    assert_contains(why, "certificate has expired");
    assert_int_equal(verify_on(f->st, "rdgw01", VMM, LEAF_NOT_AFTER + 86400, why, sizeof why), -1);
    assert_contains(why, "certificate has expired");
    assert_int_equal(verify_on(f->st, "rdgw01", LEAF, LEAF_NOT_BEFORE - 60, why, sizeof why), -1);
    assert_contains(why, "not yet valid");
    /* The root expiring breaks a leaf that is itself still valid. */
    assert_int_equal(verify_on(f->st, "rdgw01", LEAF, CA_NOT_AFTER + 1, why, sizeof why), -1);
    assert_contains(why, "expired");

    /* With the lab clock: set to a day inside the leaf's validity it verifies; moved
     * on by a year (the leaf's lifetime), it has expired. */
    ws_error e = {""};
    int64_t offset = INSIDE - ws_clock_now(f->st, NULL);
    assert_int_equal(ws_clock_set_offset(f->st, offset, &e), 0);
    int64_t now = ws_clock_now(f->st, "rdgw01");
    assert_true(now >= INSIDE - 5 && now <= INSIDE + 5);
    assert_int_equal(verify_on(f->st, "rdgw01", LEAF, now, why, sizeof why), 0);
    assert_int_equal(ws_clock_set_offset(f->st, offset + 365LL * 86400, &e), 0);
    now = ws_clock_now(f->st, "rdgw01");
    assert_true(now > LEAF_NOT_AFTER);
    assert_int_equal(verify_on(f->st, "rdgw01", LEAF, now, why, sizeof why), -1);
    assert_contains(why, "certificate has expired");
}

static void test_store_find_and_certs(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    store_add(f->st, "rdgw01", "My", "rdgw", 1);
    store_add(f->st, "rdgw01", "Root", "contoso-root", 0);
    store_add(f->st, "rdgw01", "Root", "vmm-console", 0);

    X509 *c = NULL;
    assert_int_equal(ws_store_find(f->st, "rdgw01", "My", thumbprints[LEAF], &c, &e), 0);
    assert_non_null(c);
    char tp[41];
    ws_cert_thumbprint(c, tp);
    int same = X509_cmp(c, certs[LEAF]);
    X509_free(c);
    assert_string_equal(tp, thumbprints[LEAF]);
    assert_int_equal(same, 0);

    c = NULL;
    e.msg[0] = '\0';
    assert_int_equal(ws_store_find(f->st, "rdgw01", "Root", thumbprints[LEAF], &c, &e), WS_NOT_FOUND);
    assert_null(c);
    assert_contains(e.msg, thumbprints[LEAF]);
    assert_int_equal(ws_store_find(f->st, "hv01", "My", thumbprints[LEAF], &c, &e), WS_NOT_FOUND);
    assert_int_equal(ws_store_find(f->st, "rdgw01", "Root", thumbprints[ROOT], &c, &e), 0);
    ws_cert_thumbprint(c, tp);
    X509_free(c);
    assert_string_equal(tp, thumbprints[ROOT]);

    /* All of a store, by name. */
    STACK_OF(X509) *roots = ws_store_certs(f->st, "rdgw01", "Root", &e);
    assert_non_null(roots);
    int n = sk_X509_num(roots);
    char tp0[41] = "", tp1[41] = "";
    if (n == 2) {
        ws_cert_thumbprint(sk_X509_value(roots, 0), tp0);
        ws_cert_thumbprint(sk_X509_value(roots, 1), tp1);
    }
    sk_X509_pop_free(roots, X509_free);
    assert_int_equal(n, 2);
    assert_string_equal(tp0, thumbprints[ROOT]); /* contoso-root < vmm-console */
    assert_string_equal(tp1, thumbprints[VMM]);
    STACK_OF(X509) *empty = ws_store_certs(f->st, "hv01", "My", &e);
    assert_non_null(empty);
    n = sk_X509_num(empty);
    sk_X509_pop_free(empty, X509_free);
    assert_int_equal(n, 0);
}

typedef struct listing {
    char text[2048];
    int count;
    int stop_after; /* 0: never */
} listing;

static int collect(const ws_store_entry *ent, void *arg)
{
    listing *l = arg;
    size_t len = strlen(l->text);
    snprintf(l->text + len, sizeof l->text - len, "%s%s\\%s\\%s%s", l->count ? ";" : "",
             ent->machine ? ent->machine : "-", ent->store ? ent->store : "-", ent->cert_name,
             ent->has_private_key ? "+key" : "");
    l->count++;
    return l->stop_after && l->count >= l->stop_after;
}

static void test_store_foreach(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    store_add(f->st, "rdgw01", "My", "rdgw", 1);
    store_add(f->st, "rdgw01", "Root", "vmm-console", 0);
    store_add(f->st, "rdgw01", "Root", "contoso-root", 0);
    store_add(f->st, "hv01", "Root", "contoso-root", 0);
    store_add(f->st, "hv01", "My", "hv01-auth", 1);
    store_add(f->st, "vmm01", "My", "vmm-console", 1);

    listing all = {"", 0, 0};
    assert_int_equal(ws_store_foreach(f->st, NULL, NULL, collect, &all, &e), 0);
    /* By machine, store, name; then vault certificates in no store. */
    assert_string_equal(all.text, "hv01\\My\\hv01-auth+key;hv01\\Root\\contoso-root;"
                                  "rdgw01\\My\\rdgw+key;rdgw01\\Root\\contoso-root;rdgw01\\Root\\vmm-console;"
                                  "vmm01\\My\\vmm-console+key;"
                                  "-\\-\\contoso-issuing;-\\-\\rdgw-public");
    assert_int_equal(all.count, 8);

    listing rdgw = {"", 0, 0};
    assert_int_equal(ws_store_foreach(f->st, "rdgw01", NULL, collect, &rdgw, &e), 0);
    assert_string_equal(rdgw.text, "rdgw01\\My\\rdgw+key;rdgw01\\Root\\contoso-root;rdgw01\\Root\\vmm-console");

    listing roots = {"", 0, 0};
    assert_int_equal(ws_store_foreach(f->st, NULL, "Root", collect, &roots, &e), 0);
    assert_string_equal(roots.text, "hv01\\Root\\contoso-root;rdgw01\\Root\\contoso-root;rdgw01\\Root\\vmm-console");

    listing one = {"", 0, 0};
    assert_int_equal(ws_store_foreach(f->st, "vmm01", "My", collect, &one, &e), 0);
    assert_string_equal(one.text, "vmm01\\My\\vmm-console+key");

    listing none = {"", 0, 0};
    assert_int_equal(ws_store_foreach(f->st, "pc01", NULL, collect, &none, &e), 0);
    assert_int_equal(none.count, 0);

    listing first_two = {"", 0, 2};
    assert_int_equal(ws_store_foreach(f->st, NULL, NULL, collect, &first_two, &e), 0);
    assert_int_equal(first_two.count, 2);
    assert_string_equal(first_two.text, "hv01\\My\\hv01-auth+key;hv01\\Root\\contoso-root");
}

/* ---- vault -------------------------------------------------------------------- */

static void test_vault_put_get(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    X509 *c = NULL;
    EVP_PKEY *k = NULL;
    char *csp = NULL;
    assert_int_equal(ws_vault_get(f->st, "rdgw", &c, &k, &csp, &e), 0);
    char tp[41];
    ws_cert_thumbprint(c, tp);
    int key_ok = k && EVP_PKEY_eq(k, keys[LEAF]) == 1 && X509_check_private_key(c, k) == 1;
    int csp_ok = csp && strcmp(csp, WS_CSP_ENHANCED_RSA_AES) == 0;
    X509_free(c);
    EVP_PKEY_free(k);
    free(csp);
    assert_string_equal(tp, thumbprints[LEAF]);
    assert_true(key_ok);
    assert_true(csp_ok);

    /* No key, no CSP. */
    c = NULL;
    k = (EVP_PKEY *)1;
    csp = (char *)1;
    assert_int_equal(ws_vault_get(f->st, "rdgw-public", &c, &k, &csp, &e), 0);
    ws_cert_thumbprint(c, tp);
    X509_free(c);
    assert_string_equal(tp, thumbprints[LEAF]);
    assert_null(k);
    assert_null(csp);
    /* Everything optional. */
    assert_int_equal(ws_vault_get(f->st, "vmm-console", NULL, NULL, NULL, &e), 0);

    assert_true(ws_vault_exists(f->st, "contoso-root"));
    assert_false(ws_vault_exists(f->st, "Contoso-Root"));
    assert_int_equal(ws_vault_thumbprint(f->st, "vmm-console", tp), 0);
    assert_string_equal(tp, thumbprints[VMM]);
    assert_int_equal(ws_vault_thumbprint(f->st, "missing", tp), WS_NOT_FOUND);

    /* Unknown name. */
    c = (X509 *)1;
    e.msg[0] = '\0';
    assert_int_equal(ws_vault_get(f->st, "missing", &c, NULL, NULL, &e), WS_NOT_FOUND);
    assert_contains(e.msg, "unknown certificate 'missing'");
    assert_false(ws_vault_exists(f->st, "missing"));
}

/* A certificate named by name or thumbprint (every command option's rule). */
static void test_vault_resolve(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    char name[128], tp[41];
    assert_int_equal(ws_vault_resolve(f->st, "vmm-console", name, sizeof name, tp, &e), 0);
    assert_string_equal(name, "vmm-console");
    assert_string_equal(tp, thumbprints[VMM]);
    /* By thumbprint: lower case with colons and spaces, as certlm.msc shows it. */
    char typed[80];
    size_t k = 0;
    for (int i = 0; i < 40; i++) {
        typed[k++] = (char)tolower((unsigned char)thumbprints[VMM][i]);
        if (i % 2 && i < 39)
            typed[k++] = i % 4 == 1 ? ':' : ' ';
    }
    typed[k] = '\0';
    assert_int_equal(ws_vault_resolve(f->st, typed, name, sizeof name, tp, &e), 0);
    assert_string_equal(name, "vmm-console");
    assert_string_equal(tp, thumbprints[VMM]);
    /* A thumbprint the vault does not hold: not found, but tp says what it was. */
    assert_int_equal(ws_vault_resolve(f->st, "0123456789012345678901234567890123456789", name, sizeof name, tp, &e),
                     WS_NOT_FOUND);
    assert_string_equal(tp, "0123456789012345678901234567890123456789");
    assert_contains(e.msg, "no certificate with thumbprint");
    /* Neither. */
    assert_int_equal(ws_vault_resolve(f->st, "nosuch", name, sizeof name, tp, &e), WS_NOT_FOUND);
    assert_string_equal(tp, "");
    assert_contains(e.msg, "'nosuch'");
}

static void test_vault_refusals(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    /* A name already taken, even for another certificate. */
    assert_int_equal(ws_vault_put(f->st, "rdgw", certs[VMM], keys[VMM], NULL, &e), -1);
    assert_contains(e.msg, "already exists");
    char tp[41];
    assert_int_equal(ws_vault_thumbprint(f->st, "rdgw", tp), 0);
    assert_string_equal(tp, thumbprints[LEAF]); /* unchanged */

    static const char *const bad[] = {"",     "two words", "a/b",  "a\\b", "a:b",
                                      "a,b",  "tab\there", "nl\n", NULL,
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 65 */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e.msg[0] = '\0';
        if (ws_vault_put(f->st, bad[i], certs[VMM], NULL, NULL, &e) != -1)
            fail_msg("accepted the name '%s'", bad[i] ? bad[i] : "(null)");
        assert_contains(e.msg, "bad certificate name");
    }
    sqlite3_stmt *s = ws_state_prepare(f->st, "SELECT count(*) FROM certificates", &e);
    assert_non_null(s);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    assert_int_equal(n, N_CERTS + 1);

    /* 64 characters is the limit, inclusive. */
    const char *longest = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_int_equal(strlen(longest), 64);
    assert_int_equal(ws_vault_put(f->st, longest, certs[VMM], NULL, NULL, &e), 0);
    assert_true(ws_vault_exists(f->st, longest));
}

static void test_vault_name_by_thumbprint(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    char name[65] = "";
    assert_int_equal(ws_vault_name_by_thumbprint(f->st, thumbprints[VMM], name, sizeof name, &e), 0);
    assert_string_equal(name, "vmm-console");
    assert_int_equal(ws_vault_name_by_thumbprint(f->st, thumbprints[HOSTLEAF], name, sizeof name, &e), 0);
    assert_string_equal(name, "hv01-auth");
    /* Two names for one certificate: the first by name. */
    assert_int_equal(ws_vault_name_by_thumbprint(f->st, thumbprints[LEAF], name, sizeof name, &e), 0);
    assert_string_equal(name, "rdgw");

    snprintf(name, sizeof name, "unchanged");
    e.msg[0] = '\0';
    assert_int_equal(ws_vault_name_by_thumbprint(f->st, "0000000000000000000000000000000000000000", name,
                                                 sizeof name, &e),
                     WS_NOT_FOUND);
    assert_string_equal(name, "unchanged");
    assert_contains(e.msg, "0000000000000000000000000000000000000000");
}

/* ---- machines and settings ------------------------------------------------------ */

typedef struct names {
    char text[256];
} names;

static int collect_machine(const ws_machine *m, void *arg)
{
    names *n = arg;
    size_t len = strlen(n->text);
    snprintf(n->text + len, sizeof n->text - len, "%s%s", len ? "," : "", m->name);
    return 0;
}

static void test_machines(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    ws_machine m;
    assert_int_equal(ws_machine_get(f->st, "rdgw01", &m, &e), 0);
    assert_string_equal(m.name, "rdgw01");
    assert_string_equal(m.fqdn, "rdgw01.fabric.contoso.local");
    assert_string_equal(m.public_fqdn, "rdgw.contoso.com");
    assert_string_equal(m.address, "127.77.0.13");
    assert_string_equal(m.role, "gateway");
    assert_int_equal(m.port, 443);
    assert_int_equal(m.skew_seconds, 0);
    assert_int_equal(ws_machine_get(f->st, "pc01", &m, &e), 0);
    assert_string_equal(m.public_fqdn, "");
    assert_int_equal(m.port, 0);
    e.msg[0] = '\0';
    assert_int_equal(ws_machine_get(f->st, "nope", &m, &e), WS_NOT_FOUND);
    assert_contains(e.msg, "unknown machine 'nope'");
    assert_true(ws_machine_exists(f->st, "hv01"));
    assert_false(ws_machine_exists(f->st, "HV01"));
    assert_false(ws_machine_exists(f->st, NULL));

    names n = {""};
    assert_int_equal(ws_machine_foreach(f->st, collect_machine, &n, &e), 0);
    assert_string_equal(n.text, "vmm01,rdgw01,hv01,pc01"); /* by address */

    /* Refusals: an unknown role, a name or address already used. */
    assert_int_equal(add_machine_e(f->st, "x01", NULL, "127.77.0.60", "toaster", 1, &e), -1);
    assert_contains(e.msg, "unknown role 'toaster'");
    assert_int_equal(add_machine_e(f->st, "hv01", NULL, "127.77.0.61", "host", 2179, &e), -1);
    assert_contains(e.msg, "hv01");
    assert_int_equal(add_machine_e(f->st, "hv02", NULL, "127.77.0.21", "host", 2179, &e), -1);
    assert_contains(e.msg, "machines.address");
    assert_false(ws_machine_exists(f->st, "x01"));
    assert_false(ws_machine_exists(f->st, "hv02"));

    const ws_role *r = ws_role_find("gateway");
    assert_non_null(r);
    assert_string_equal(r->program, "wapsim-gateway");
    assert_string_equal(r->service_name, "Remote Desktop Gateway");
    r = ws_role_find("client");
    assert_non_null(r);
    assert_null(r->program);
    assert_null(ws_role_find("toaster"));
    assert_null(ws_role_find(NULL));
}

static void test_settings(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    char v[128] = "unchanged";
    assert_int_equal(ws_setting_get(f->st, "vmm01", WS_SET_VMM_GATEWAY_CERT, v, sizeof v), WS_NOT_FOUND);
    assert_string_equal(v, "unchanged");
    assert_int_equal(ws_setting_set(f->st, "vmm01", WS_SET_VMM_GATEWAY_CERT, "vmm-console", &e), 0);
    assert_int_equal(ws_setting_set(f->st, "vmm01", WS_SET_VMM_TTL_MINUTES, "5", &e), 0);
    assert_int_equal(ws_setting_set(f->st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, "rdgw.contoso.com", &e),
                     0);
    assert_int_equal(ws_setting_get(f->st, "vmm01", WS_SET_VMM_GATEWAY_CERT, v, sizeof v), 0);
    assert_string_equal(v, "vmm-console");
    assert_int_equal(ws_setting_set(f->st, "vmm01", WS_SET_VMM_TTL_MINUTES, "60", &e), 0);
    assert_int_equal(ws_setting_get(f->st, "vmm01", WS_SET_VMM_TTL_MINUTES, v, sizeof v), 0);
    assert_string_equal(v, "60");
    /* Scopes are separate. */
    assert_int_equal(ws_setting_get(f->st, "rdgw01", WS_SET_VMM_TTL_MINUTES, v, sizeof v), WS_NOT_FOUND);
    assert_int_equal(ws_setting_get(f->st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, v, sizeof v), 0);
    assert_string_equal(v, "rdgw.contoso.com");

    /* Trusted issuers: per machine, idempotent. */
    assert_false(ws_trusted_issuer_has(f->st, "rdgw01", thumbprints[VMM]));
    assert_int_equal(ws_trusted_issuer_add(f->st, "rdgw01", thumbprints[VMM], &e), 0);
    assert_int_equal(ws_trusted_issuer_add(f->st, "rdgw01", thumbprints[VMM], &e), 0);
    assert_true(ws_trusted_issuer_has(f->st, "rdgw01", thumbprints[VMM]));
    assert_false(ws_trusted_issuer_has(f->st, "hv01", thumbprints[VMM]));
    /* Only a known machine, only a 40-character thumbprint. (A short one is not
     * stored; ws_trusted_issuer_add still returns 0 for it, because INSERT OR IGNORE
     * also ignores the CHECK constraint: reported, not asserted here.) */
    assert_int_equal(ws_trusted_issuer_add(f->st, "nope", thumbprints[VMM], &e), -1);
    (void)ws_trusted_issuer_add(f->st, "hv01", "1234", &e);
    assert_false(ws_trusted_issuer_has(f->st, "hv01", "1234"));
    assert_int_equal(ws_trusted_issuer_remove(f->st, "rdgw01", thumbprints[VMM], &e), 0);
    assert_false(ws_trusted_issuer_has(f->st, "rdgw01", thumbprints[VMM]));
}

/* A thumbprint that is not 40 hex digits is refused, not silently dropped; a lower
 * case one is stored in canonical form. */
static void test_trusted_issuer_bad_thumbprint(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_trusted_issuer_add(f->st, "hv01", "1234", &e), -1);
    assert_int_equal(ws_trusted_issuer_add(f->st, "hv01", "14590DC5C3AAF238FCFD7785B4B93F4071402C3G", &e), -1);
    assert_int_equal(ws_trusted_issuer_add(f->st, "hv01", "14:59:0d:c5:c3:aa:f2:38:fc:fd:77:85:b4:b9:3f:40:71:40:2c:34", &e), 0);
    assert_true(ws_trusted_issuer_has(f->st, "hv01", "14590DC5C3AAF238FCFD7785B4B93F4071402C34"));
    assert_true(ws_trusted_issuer_has(f->st, "hv01", "14590dc5c3aaf238fcfd7785b4b93f4071402c34"));
    assert_false(ws_trusted_issuer_has(f->st, "hv02", "14590DC5C3AAF238FCFD7785B4B93F4071402C34"));
}

/* Installing keeps what is there: a key already in the store stays, and a second
 * install changes nothing. */
static void test_store_install(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    int installed = -1, has_key = -1;
    assert_int_equal(ws_store_install(f->st, "hv01", "My", "vmm-console", 0, &installed, &e), 0);
    assert_int_equal(installed, 1);
    assert_int_equal(ws_store_install(f->st, "hv01", "My", "vmm-console", 0, &installed, &e), 0);
    assert_int_equal(installed, 0);
    /* With its key over a public copy: installed again, now with the key. */
    assert_int_equal(ws_store_install(f->st, "hv01", "My", "vmm-console", 1, &installed, &e), 0);
    assert_int_equal(installed, 1);
    assert_int_equal(ws_store_contains(f->st, "hv01", "My", "vmm-console", &has_key), 1);
    assert_int_equal(has_key, 1);
    /* A public install never takes the key away. */
    assert_int_equal(ws_store_install(f->st, "hv01", "My", "vmm-console", 0, &installed, &e), 0);
    assert_int_equal(installed, 0);
    assert_int_equal(ws_store_contains(f->st, "hv01", "My", "vmm-console", &has_key), 1);
    assert_int_equal(has_key, 1);
    e.msg[0] = '\0';
    assert_int_not_equal(ws_store_install(f->st, "hv01", "My", "no-such-cert", 0, &installed, &e), 0);
    assert_int_equal(installed, 0);
    assert_contains(e.msg, "no-such-cert");
}

/* A machine's list comes back in the order it was set; replace sets it exactly;
 * Read-SCVMHost leaves the host trusting its certificate alone, in its My store. */
static void test_trusted_issuer_list_replace_refresh(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    ws_strv l = {0}, want = {0};
    assert_int_equal(ws_trusted_issuer_list(f->st, "rdgw01", &l, &e), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(ws_strv_add(&want, thumbprints[VMM]), 0);
    assert_int_equal(ws_strv_add(&want, thumbprints[ROOT]), 0);
    assert_int_equal(ws_trusted_issuer_replace(f->st, "rdgw01", &want, &e), 0);
    assert_int_equal(ws_trusted_issuer_list(f->st, "rdgw01", &l, &e), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0], thumbprints[VMM]);
    assert_string_equal(l.v[1], thumbprints[ROOT]);
    ws_strv_free(&l);
    ws_strv_free(&want);
    assert_int_equal(ws_trusted_issuer_replace(f->st, "rdgw01", &want, &e), 0);
    assert_int_equal(ws_trusted_issuer_list(f->st, "rdgw01", &l, &e), 0);
    assert_int_equal(l.n, 0);

    int installed = -1;
    assert_int_equal(ws_trusted_issuer_add(f->st, "hv01", thumbprints[ROOT], &e), 0);
    assert_int_equal(ws_trusted_issuer_refresh_host(f->st, "hv01", "vmm-console", &installed, &e), 0);
    assert_int_equal(installed, 1);
    assert_int_equal(ws_trusted_issuer_list(f->st, "hv01", &l, &e), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0], thumbprints[VMM]);
    ws_strv_free(&l);
    int has_key = -1;
    assert_int_equal(ws_store_contains(f->st, "hv01", "My", "vmm-console", &has_key), 1);
    assert_int_equal(has_key, 0);
    assert_int_equal(ws_store_contains(f->st, "hv01", "Root", "vmm-console", NULL), 0);
    assert_int_equal(ws_trusted_issuer_refresh_host(f->st, "hv01", "vmm-console", &installed, &e), 0);
    assert_int_equal(installed, 0);
    e.msg[0] = '\0';
    assert_int_equal(ws_trusted_issuer_refresh_host(f->st, "hv01", "no-such-cert", &installed, &e), -1);
    assert_contains(e.msg, "no-such-cert");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_names),
        T(test_store_add_contains_remove),
        T(test_private_key_required),
        T(test_chain_with_root_ca),
        T(test_chain_self_signed),
        T(test_chain_with_intermediate_in_my),
        T(test_chain_time),
        T(test_store_find_and_certs),
        T(test_store_foreach),
        T(test_vault_put_get),
        T(test_vault_resolve),
        T(test_vault_refusals),
        T(test_vault_name_by_thumbprint),
        T(test_machines),
        T(test_settings),
        T(test_trusted_issuer_bad_thumbprint),
        T(test_store_install),
        T(test_trusted_issuer_list_replace_refresh),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
