/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/lab/fedauth.c, the one token acceptance rule, in a lab-like state:
 * a gateway-like machine (HostTokens, signer looked for in My then Root) and a host-like
 * one (VMTokens, My only), each step's failure and success for both, with tokens issued
 * by wire/token.c's ws_token_sign as VMM issues them. */
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "harness.h"

#include "base/util.h"
#include "crypto/cert.h"
#include "lab/clock.h"
#include "lab/fedauth.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/state.h"
#include "lab/store.h"
#include "lab/vault.h"
#include "wire/token.h"

#define VMID "0DB667C1-712E-401B-B5AE-47C76A7FC955"

/* ---- certificates, made once: a root, the VMM signer it issued, and a stranger ---- */

enum { ROOT, VMM, OTHER, N_CERTS };
static const char *const cert_names[N_CERTS] = {"contoso-root", "vmm-console", "someone-else"};
static X509 *certs[N_CERTS];
static EVP_PKEY *keys[N_CERTS];
static char thumbprints[N_CERTS][41];

static int group_setup(void **state)
{
    (void)state;
    /* Valid around the wall clock, which the lab clock follows (no offset). */
    int64_t now = (int64_t)time(NULL);
    const ws_cert_spec root = {.subject = "CN=Contoso Root CA, O=Contoso",
                               .is_ca = 1,
                               .key_bits = 1024,
                               .not_before = now - 86400,
                               .not_after = now + 3650LL * 86400};
    const ws_cert_spec vmm = {.subject = "CN=Remote Console Connect",
                              .eku = "clientAuth",
                              .key_usage = "digitalSignature",
                              .key_bits = 1024,
                              .not_before = now - 86400,
                              .not_after = now + 365LL * 86400};
    const ws_cert_spec other = {.subject = "CN=Someone Else",
                                .eku = "clientAuth",
                                .key_usage = "digitalSignature",
                                .key_bits = 1024,
                                .not_before = now - 86400,
                                .not_after = now + 365LL * 86400};
    const ws_cert_spec *specs[N_CERTS] = {&root, &vmm, &other};
    for (int i = 0; i < N_CERTS; i++) {
        ws_error e = {""};
        int by_root = i == VMM;
        if (ws_cert_create(specs[i], by_root ? certs[ROOT] : NULL, by_root ? keys[ROOT] : NULL, &certs[i], &keys[i],
                           &e) != 0) {
            fprintf(stderr, "creating %s: %s\n", cert_names[i], e.msg);
            return -1;
        }
        ws_cert_thumbprint(certs[i], thumbprints[i]);
    }
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

/* ---- the two roles ------------------------------------------------------------- */

typedef struct role {
    const char *machine;
    const char *address;
    const char *kind_text; /* the machines table's role */
    ws_token_kind kind;    /* the token it expects */
    unsigned stores;       /* where it looks for the signer */
} role;

static const role gateway_like = {"rdgw01", "127.77.0.13", "gateway", WS_TOKEN_HOST, WS_FEDAUTH_STORES_GATEWAY};
static const role host_like = {"hv01", "127.77.0.21", "host", WS_TOKEN_VM, WS_FEDAUTH_STORES_HOST};
static const role *const roles[] = {&gateway_like, &host_like};
#define N_ROLES 2

/* ---- a lab per test ------------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    ws_state *st;
} fixture;

static int add_machine(ws_state *st, const role *r)
{
    ws_machine m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", r->machine);
    snprintf(m.fqdn, sizeof m.fqdn, "%s.fabric.contoso.local", r->machine);
    snprintf(m.address, sizeof m.address, "%s", r->address);
    snprintf(m.role, sizeof m.role, "%s", r->kind_text);
    m.port = r->kind == WS_TOKEN_HOST ? 443 : 2179;
    ws_error e = {""};
    if (ws_machine_add(st, &m, &e) != 0) {
        fprintf(stderr, "adding %s: %s\n", r->machine, e.msg);
        return -1;
    }
    return 0;
}

/* Both machines set up right: the signer listed and in My (public only), the root in Root. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    if (ws_test_lab_open(f->dir, sizeof f->dir, "fedauth", &f->st) != 0)
        return -1;
    ws_error e = {""};
    for (int i = 0; i < N_CERTS; i++)
        if (ws_vault_put(f->st, cert_names[i], certs[i], keys[i], WS_CSP_ENHANCED_RSA_AES, &e) != 0) {
            fprintf(stderr, "setup: %s\n", e.msg);
            return -1;
        }
    for (int i = 0; i < N_ROLES; i++) {
        const char *m = roles[i]->machine;
        if (add_machine(f->st, roles[i]) != 0 || ws_store_add(f->st, m, "My", cert_names[VMM], 0, &e) != 0 ||
            ws_store_add(f->st, m, "Root", cert_names[ROOT], 0, &e) != 0 ||
            ws_trusted_issuer_add(f->st, m, thumbprints[OTHER], &e) != 0 ||
            ws_trusted_issuer_add(f->st, m, thumbprints[VMM], &e) != 0) {
            fprintf(stderr, "setup %s: %s\n", m, e.msg);
            return -1;
        }
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

/* ---- issuing, as VMM does ------------------------------------------------------- */

/* A token of kind, expiring expires_in seconds from the machine's now, hashed with
 * hash_alg, signed with key_of's key and naming claimed's thumbprint. Caller frees. */
static char *issue(fixture *f, const char *machine, ws_token_kind kind, int64_t expires_in, const char *hash_alg,
                   int key_of, int claimed)
{
    ws_token fields = {.kind = kind, .port = 2179, .expires_on = ws_clock_now(f->st, machine) + expires_in};
    snprintf(fields.host, sizeof fields.host, "hv01.fabric.contoso.local");
    snprintf(fields.vmid, sizeof fields.vmid, VMID);
    char *text = NULL;
    uint32_t hr = 0;
    ws_error e = {""};
    /* The Strong provider hashes SHA-1 as well: a SHA1 token is signed, not refused. */
    const char *csp = strcmp(hash_alg, "SHA1") == 0 ? "Microsoft Strong Cryptographic Provider"
                                                    : WS_CSP_ENHANCED_RSA_AES;
    if (ws_token_sign(&fields, hash_alg, csp, keys[key_of], thumbprints[claimed], &text, &hr, &e) != WS_TOKEN_SIGNED)
        fail_msg("ws_token_sign: %s (0x%08X)", e.msg, hr);
    return text;
}

static char *good_token(fixture *f, const role *r)
{
    return issue(f, r->machine, r->kind, 600, "SHA256", VMM, VMM);
}

/* Check text on r's machine, expecting want; returns the result for more asserts. */
static void check(fixture *f, const role *r, const char *text, ws_fedauth_step want, ws_fedauth_result *res)
{
    ws_fedauth_step got = ws_fedauth_check(f->st, r->machine, text, r->kind, r->stores, res);
    if (got != want)
        fail_msg("%s: expected step '%s', got '%s' (%s)", r->machine, ws_fedauth_step_name(want),
                 ws_fedauth_step_name(got), res->error.msg);
    assert_int_equal(res->failed, want);
    if (want == WS_FEDAUTH_OK)
        assert_string_equal(res->error.msg, "");
    else
        assert_true(res->error.msg[0] != '\0');
}

/* ---- each step, for both roles ---------------------------------------------------- */

static void test_accepts_a_good_token(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N_ROLES; i++) {
        const role *r = roles[i];
        char *text = good_token(f, r);
        ws_fedauth_result res;
        int64_t before = ws_clock_now(f->st, r->machine);
        check(f, r, text, WS_FEDAUTH_OK, &res);
        assert_int_equal(res.token.kind, r->kind);
        assert_string_equal(res.thumbprint, thumbprints[VMM]);
        assert_string_equal(res.token.thumbprint, thumbprints[VMM]);
        assert_string_equal(res.store, "My");
        assert_true(res.now >= before && res.now <= before + 5);
        assert_int_equal(res.token.expires_on, before + 600);
        /* The trusted list as the machine holds it, in order. */
        assert_int_equal(res.trusted.n, 2);
        assert_string_equal(res.trusted.v[0], thumbprints[OTHER]);
        assert_string_equal(res.trusted.v[1], thumbprints[VMM]);
        assert_string_equal(res.detail, "");
        ws_fedauth_result_free(&res);
        free(text);
    }
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_refuses_what_is_not_a_token(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N_ROLES; i++) {
        ws_fedauth_result res;
        check(f, roles[i], "Hello=world", WS_FEDAUTH_PARSE, &res);
        assert_contains(res.detail, "unknown first field 'Hello'");
        assert_contains(res.error.msg, "not a console token");
        assert_string_equal(res.thumbprint, "");
        assert_int_equal(res.trusted.n, 0);
        ws_fedauth_result_free(&res);
        check(f, roles[i], "", WS_FEDAUTH_PARSE, &res);
        ws_fedauth_result_free(&res);
        check(f, roles[i], NULL, WS_FEDAUTH_PARSE, &res);
        ws_fedauth_result_free(&res);
    }
}

static void test_refuses_the_other_kind(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N_ROLES; i++) {
        const role *r = roles[i];
        ws_token_kind other = r->kind == WS_TOKEN_HOST ? WS_TOKEN_VM : WS_TOKEN_HOST;
        char *text = issue(f, r->machine, other, 600, "SHA256", VMM, VMM);
        ws_fedauth_result res;
        check(f, r, text, WS_FEDAUTH_KIND, &res);
        assert_int_equal(res.token.kind, other);
        assert_contains(res.error.msg, r->kind == WS_TOKEN_HOST ? "is a VMToken, not a HostToken"
                                                                : "is a HostToken, not a VMToken");
        ws_fedauth_result_free(&res);
        free(text);
    }
}

static void test_refuses_a_signer_not_in_the_trusted_list(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N_ROLES; i++) {
        const role *r = roles[i];
        ws_error e = {""};
        assert_int_equal(ws_trusted_issuer_remove(f->st, r->machine, thumbprints[VMM], &e), 0);
        char *text = good_token(f, r);
        ws_fedauth_result res;
        check(f, r, text, WS_FEDAUTH_UNTRUSTED, &res);
        assert_string_equal(res.thumbprint, thumbprints[VMM]);
        assert_contains(res.error.msg, thumbprints[VMM]);
        assert_contains(res.error.msg, r->machine);
        assert_int_equal(res.trusted.n, 1); /* what the list held instead */
        assert_string_equal(res.trusted.v[0], thumbprints[OTHER]);
        assert_null(res.store);
        ws_fedauth_result_free(&res);
        free(text);
    }
}

static void test_refuses_a_signer_in_no_searched_store(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N_ROLES; i++) {
        const role *r = roles[i];
        ws_error e = {""};
        assert_int_equal(ws_store_remove(f->st, r->machine, "My", cert_names[VMM], &e), 0);
        char *text = good_token(f, r);
        ws_fedauth_result res;
        check(f, r, text, WS_FEDAUTH_NO_CERT, &res);
        assert_contains(res.error.msg, thumbprints[VMM]);
        assert_contains(res.error.msg, r->stores & WS_FEDAUTH_IN_ROOT ? "LocalMachine\\My or \\Root store"
                                                                      : "LocalMachine\\My store");
        ws_fedauth_result_free(&res);
        free(text);
    }
}

/* The search set is the difference: a signer only in Root is found by the gateway, not
 * by the host. */
static void test_signer_only_in_root(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N_ROLES; i++) {
        const role *r = roles[i];
        ws_error e = {""};
        assert_int_equal(ws_store_remove(f->st, r->machine, "My", cert_names[VMM], &e), 0);
        assert_int_equal(ws_store_add(f->st, r->machine, "Root", cert_names[VMM], 0, &e), 0);
        char *text = good_token(f, r);
        ws_fedauth_result res;
        int searches_root = (r->stores & WS_FEDAUTH_IN_ROOT) != 0;
        check(f, r, text, searches_root ? WS_FEDAUTH_OK : WS_FEDAUTH_NO_CERT, &res);
        if (searches_root)
            assert_string_equal(res.store, "Root");
        ws_fedauth_result_free(&res);
        free(text);
    }
}

static void test_refuses_a_signer_that_does_not_chain(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N_ROLES; i++) {
        const role *r = roles[i];
        ws_error e = {""};
        assert_int_equal(ws_store_remove(f->st, r->machine, "Root", cert_names[ROOT], &e), 0);
        char *text = good_token(f, r);
        ws_fedauth_result res;
        check(f, r, text, WS_FEDAUTH_CHAIN, &res);
        assert_string_equal(res.store, "My");
        assert_true(res.detail[0] != '\0'); /* the chain's own error */
        assert_contains(res.error.msg, res.detail);
        assert_contains(res.error.msg, "LocalMachine\\Root");
        ws_fedauth_result_free(&res);
        free(text);
    }
}

static void test_refuses_a_bad_signature(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N_ROLES; i++) {
        const role *r = roles[i];
        /* Signed by someone else's key while naming the VMM certificate. */
        char *text = issue(f, r->machine, r->kind, 600, "SHA256", OTHER, VMM);
        ws_fedauth_result res;
        check(f, r, text, WS_FEDAUTH_SIGNATURE, &res);
        char want[128];
        snprintf(want, sizeof want, "signature does not verify with %s", thumbprints[VMM]);
        assert_string_equal(res.detail, want);
        ws_fedauth_result_free(&res);
        free(text);
    }
}

static void test_refuses_another_hash(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N_ROLES; i++) {
        const role *r = roles[i];
        /* A good SHA-1 signature: it verifies, then the hash step refuses it. */
        char *text = issue(f, r->machine, r->kind, 600, "SHA1", VMM, VMM);
        ws_fedauth_result res;
        check(f, r, text, WS_FEDAUTH_HASH, &res);
        assert_string_equal(res.token.hash_alg, "SHA1");
        assert_contains(res.error.msg, "signed with SHA1, not SHA256");
        ws_fedauth_result_free(&res);
        free(text);
    }
}

static void test_refuses_an_expired_token(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N_ROLES; i++) {
        const role *r = roles[i];
        char *text = issue(f, r->machine, r->kind, -60, "SHA256", VMM, VMM);
        ws_fedauth_result res;
        check(f, r, text, WS_FEDAUTH_EXPIRED, &res);
        assert_true(res.token.expires_on <= res.now);
        assert_contains(res.error.msg, "expired at");
        assert_contains(res.error.msg, r->machine);
        ws_fedauth_result_free(&res);
        free(text);

        /* Expiry is on the machine's own clock: a good token expires for a machine running ahead. */
        text = good_token(f, r);
        ws_error e = {""};
        assert_int_equal(ws_clock_set_skew(f->st, r->machine, 3600, &e), 0);
        check(f, r, text, WS_FEDAUTH_EXPIRED, &res);
        ws_fedauth_result_free(&res);
        assert_int_equal(ws_clock_set_skew(f->st, r->machine, 0, &e), 0);
        free(text);
    }
}

/* The first failure is the answer: with everything wrong, the earliest step is named. */
static void test_steps_run_in_order(void **state)
{
    fixture *f = *state;
    const role *r = &host_like;
    ws_error e = {""};
    char *text = issue(f, r->machine, r->kind, -60, "SHA1", OTHER, VMM); /* bad signature, SHA1, expired */
    ws_fedauth_result res;
    check(f, r, text, WS_FEDAUTH_SIGNATURE, &res);
    ws_fedauth_result_free(&res);
    assert_int_equal(ws_store_remove(f->st, r->machine, "Root", cert_names[ROOT], &e), 0);
    check(f, r, text, WS_FEDAUTH_CHAIN, &res);
    ws_fedauth_result_free(&res);
    assert_int_equal(ws_store_remove(f->st, r->machine, "My", cert_names[VMM], &e), 0);
    check(f, r, text, WS_FEDAUTH_NO_CERT, &res);
    ws_fedauth_result_free(&res);
    assert_int_equal(ws_trusted_issuer_remove(f->st, r->machine, thumbprints[VMM], &e), 0);
    check(f, r, text, WS_FEDAUTH_UNTRUSTED, &res);
    ws_fedauth_result_free(&res);
    free(text);
}

/* ---- the signer steps alone (a host's agent answering VMM, diagnose) ---------------- */

static void test_check_signer(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N_ROLES; i++) {
        const role *r = roles[i];
        int64_t now = ws_clock_now(f->st, r->machine);
        ws_fedauth_result res;
        X509 *signer = NULL;
        assert_int_equal(ws_fedauth_check_signer(f->st, r->machine, thumbprints[VMM], r->stores, now, &signer, &res),
                         WS_FEDAUTH_OK);
        assert_non_null(signer);
        assert_int_equal(X509_cmp(signer, certs[VMM]), 0);
        X509_free(signer);
        assert_int_equal(res.now, now);
        ws_fedauth_result_free(&res);

        assert_int_equal(ws_fedauth_check_signer(f->st, r->machine, thumbprints[ROOT], r->stores, now, &signer, &res),
                         WS_FEDAUTH_UNTRUSTED);
        assert_null(signer);
        ws_fedauth_result_free(&res);

        /* Listed but in no store; then chained at a time the signer is not valid. */
        assert_int_equal(ws_fedauth_check_signer(f->st, r->machine, thumbprints[OTHER], r->stores, now, NULL, &res),
                         WS_FEDAUTH_NO_CERT);
        ws_fedauth_result_free(&res);
        assert_int_equal(ws_fedauth_check_signer(f->st, r->machine, thumbprints[VMM], r->stores,
                                                 now + 400LL * 86400, NULL, &res),
                         WS_FEDAUTH_CHAIN);
        assert_true(res.detail[0] != '\0');
        ws_fedauth_result_free(&res);
    }
}

static void test_signer_steps_one_by_one(void **state)
{
    fixture *f = *state;
    const char *m = gateway_like.machine;
    ws_strv list = {0};
    assert_int_equal(ws_fedauth_signer_listed(f->st, m, thumbprints[VMM], &list), 1);
    assert_int_equal(list.n, 2);
    ws_strv_free(&list);
    assert_int_equal(ws_fedauth_signer_listed(f->st, m, thumbprints[ROOT], NULL), 0);

    X509 *c = NULL;
    const char *store = NULL;
    assert_int_equal(ws_fedauth_signer_find(f->st, m, thumbprints[ROOT], WS_FEDAUTH_IN_MY, &c, &store),
                     WS_NOT_FOUND);
    assert_null(c);
    assert_int_equal(ws_fedauth_signer_find(f->st, m, thumbprints[ROOT], WS_FEDAUTH_IN_MY | WS_FEDAUTH_IN_ROOT, &c,
                                            &store),
                     0);
    assert_string_equal(store, "Root");
    X509_free(c);
    assert_int_equal(ws_fedauth_signer_find(f->st, m, thumbprints[VMM], 0, &c, NULL), WS_NOT_FOUND);

    ws_error e = {""};
    int64_t now = ws_clock_now(f->st, m);
    assert_int_equal(ws_fedauth_signer_chains(f->st, m, certs[VMM], now, &e), 0);
    assert_int_equal(ws_fedauth_signer_chains(f->st, m, certs[OTHER], now, &e), -1);
    assert_true(e.msg[0] != '\0');
}

/* Step 3 against a list the caller holds (a host's VMMS: the list it loaded at start),
 * whatever the machine's configured list now says; the other steps as always. */
static void test_check_with_a_held_list(void **state)
{
    fixture *f = *state;
    const role *r = &host_like;
    char *text = good_token(f, r);
    ws_fedauth_result res;
    ws_strv held = {0};
    ws_strv_add(&held, thumbprints[OTHER]);
    /* Configured: OTHER and VMM; held: OTHER only (loaded before VMM was added). */
    assert_int_equal(ws_fedauth_check_with(f->st, r->machine, text, r->kind, r->stores, &held, &res),
                     WS_FEDAUTH_UNTRUSTED);
    assert_int_equal(res.trusted.n, 1);
    assert_string_equal(res.trusted.v[0], thumbprints[OTHER]);
    assert_contains(res.error.msg, thumbprints[VMM]);
    ws_fedauth_result_free(&res);
    /* Held: VMM; configured: VMM removed since. */
    ws_strv_free(&held);
    ws_strv_add(&held, thumbprints[VMM]);
    ws_error e = {""};
    assert_int_equal(ws_trusted_issuer_remove(f->st, r->machine, thumbprints[VMM], &e), 0);
    assert_int_equal(ws_fedauth_check_with(f->st, r->machine, text, r->kind, r->stores, &held, &res), WS_FEDAUTH_OK);
    ws_fedauth_result_free(&res);
    /* NULL: the configured list, as ws_fedauth_check. */
    assert_int_equal(ws_fedauth_check_with(f->st, r->machine, text, r->kind, r->stores, NULL, &res),
                     WS_FEDAUTH_UNTRUSTED);
    ws_fedauth_result_free(&res);
    ws_strv_free(&held);
    free(text);
}

static void test_step_names(void **state)
{
    (void)state;
    assert_string_equal(ws_fedauth_step_name(WS_FEDAUTH_OK), "accepted");
    assert_string_equal(ws_fedauth_step_name(WS_FEDAUTH_PARSE), "parse");
    assert_string_equal(ws_fedauth_step_name(WS_FEDAUTH_NO_CERT), "store lookup");
    assert_string_equal(ws_fedauth_step_name(WS_FEDAUTH_EXPIRED), "expiry");
    assert_string_equal(ws_fedauth_step_name((ws_fedauth_step)99), "unknown");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_accepts_a_good_token),
        T(test_refuses_what_is_not_a_token),
        T(test_refuses_the_other_kind),
        T(test_refuses_a_signer_not_in_the_trusted_list),
        T(test_refuses_a_signer_in_no_searched_store),
        T(test_signer_only_in_root),
        T(test_refuses_a_signer_that_does_not_chain),
        T(test_refuses_a_bad_signature),
        T(test_refuses_another_hash),
        T(test_refuses_an_expired_token),
        T(test_steps_run_in_order),
        T(test_check_signer),
        T(test_signer_steps_one_by_one),
        T(test_check_with_a_held_list),
        cmocka_unit_test(test_step_names),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
