/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/lab/keyacl.c: a private key's access list on a machine and the one
 * rule a service meets when it opens the key (ws_keyacl_can_use). */

#include <openssl/x509.h>

#include "harness.h"

#include "crypto/cert.h"
#include "lab/accounts.h"
#include "lab/keyacl.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/state.h"
#include "lab/store.h"
#include "lab/vault.h"

static X509 *cert;
static EVP_PKEY *key;

static int group_setup(void **state)
{
    (void)state;
    const ws_cert_spec spec = {.subject = "CN=rdgw.contoso.com", .san = "DNS:rdgw.contoso.com", .eku = "serverAuth",
                               .key_bits = 1024, .not_before = 1700000000LL, .not_after = 1800000000LL};
    ws_error e = {""};
    return ws_cert_create(&spec, NULL, NULL, &cert, &key, &e);
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(cert);
    EVP_PKEY_free(key);
    return 0;
}

typedef struct fixture {
    char dir[64];
    ws_state *st;
} fixture;

static int add_machine(ws_state *st, const char *name, const char *address, const char *role)
{
    ws_machine m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    snprintf(m.fqdn, sizeof m.fqdn, "%s.fabric.contoso.local", name);
    snprintf(m.address, sizeof m.address, "%s", address);
    snprintf(m.role, sizeof m.role, "%s", role);
    m.port = 443;
    ws_error e = {""};
    return ws_machine_add(st, &m, &e);
}

/* vmm01 (service account CONTOSO\svc-vmm) and rdgw01 (no setting: NETWORK SERVICE), each
 * holding "tls" with its key in My, and "pub" without it. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    ws_error e = {""};
    if (ws_test_lab_open(f->dir, sizeof f->dir, "keyacl", &f->st) != 0 ||
        add_machine(f->st, "vmm01", "127.78.0.12", "vmm") || add_machine(f->st, "rdgw01", "127.78.0.13", "gateway") ||
        ws_vault_put(f->st, "tls", cert, key, NULL, &e) || ws_vault_put(f->st, "pub", cert, NULL, NULL, &e) ||
        ws_store_add(f->st, "vmm01", "My", "tls", 1, &e) || ws_store_add(f->st, "rdgw01", "My", "tls", 1, &e) ||
        ws_store_add(f->st, "rdgw01", "My", "pub", 0, &e) ||
        ws_setting_set(f->st, "vmm01", WS_SET_SERVICE_ACCOUNT, "CONTOSO\\svc-vmm", &e)) {
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

static void test_names(void **state)
{
    (void)state;
    char out[WS_KEYACL_ACCOUNT_MAX];
    ws_error e = {""};
    assert_string_equal(ws_keyacl_rights_name("READ"), WS_KEYACL_READ);
    assert_string_equal(ws_keyacl_rights_name("full"), WS_KEYACL_FULL);
    assert_null(ws_keyacl_rights_name("write"));
    assert_int_equal(ws_keyacl_account_canon("network service", out, &e), 0);
    assert_string_equal(out, WS_ACCOUNT_NETWORK_SERVICE);
    assert_int_equal(ws_keyacl_account_canon("NT AUTHORITY\\NetworkService", out, &e), 0);
    assert_string_equal(out, WS_ACCOUNT_NETWORK_SERVICE);
    assert_int_equal(ws_keyacl_account_canon("administrators", out, &e), 0);
    assert_string_equal(out, WS_ACCOUNT_ADMINISTRATORS);
    assert_int_equal(ws_keyacl_account_canon("CONTOSO\\svc-vmm", out, &e), 0);
    assert_string_equal(out, "CONTOSO\\svc-vmm");
    assert_int_equal(ws_keyacl_account_canon("", out, &e), -1);
    assert_int_equal(ws_keyacl_account_canon("a,b", out, &e), -1);
    assert_contains(e.msg, "a,b");
    assert_int_equal(ws_keyacl_account_canon("a\nb", out, &e), -1);
}

static void test_service_accounts(void **state)
{
    fixture *f = *state;
    char out[WS_KEYACL_ACCOUNT_MAX];
    ws_error e = {""};
    assert_int_equal(ws_keyacl_service_account(f->st, "vmm01", out, &e), 0);
    assert_string_equal(out, "CONTOSO\\svc-vmm");
    assert_int_equal(ws_keyacl_service_account(f->st, "rdgw01", out, &e), 0);
    assert_string_equal(out, WS_ACCOUNT_NETWORK_SERVICE);
    assert_int_equal(ws_keyacl_service_account(f->st, "nosuch", out, &e), -1);
}

/* An unrecorded list lets the machine's services in; the import default does not let
 * a non-administrator or NETWORK SERVICE in; a local administrator gets in through
 * Administrators; a grant of Read suffices; a revoke takes it away. */
static void test_rule(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    const char *svc = "CONTOSO\\svc-vmm";
    assert_int_equal(ws_keyacl_can_use(f->st, "vmm01", "My", "tls", svc, &e), 1);

    assert_int_equal(ws_keyacl_set_import_default(f->st, "vmm01", "My", "tls", &e), 0);
    assert_int_equal(ws_keyacl_can_use(f->st, "vmm01", "My", "tls", svc, &e), 0);
    assert_contains(e.msg, "CONTOSO\\svc-vmm may not use the private key of tls on vmm01");
    assert_contains(e.msg, "NT AUTHORITY\\SYSTEM: Full Control, BUILTIN\\Administrators: Full Control");
    assert_contains(e.msg, "is not a member of vmm01's local Administrators");
    assert_int_equal(ws_keyacl_can_use(f->st, "vmm01", "My", "tls", WS_ACCOUNT_SYSTEM, &e), 1);

    assert_int_equal(ws_setting_set(f->st, "vmm01", WS_SET_LOCAL_ADMINS, "CONTOSO\\other, contoso\\SVC-VMM", &e), 0);
    assert_int_equal(ws_keyacl_local_admin(f->st, "vmm01", svc), 1);
    assert_int_equal(ws_keyacl_can_use(f->st, "vmm01", "My", "tls", svc, &e), 1);
    assert_int_equal(ws_keyacl_revoke(f->st, "vmm01", "My", "tls", WS_ACCOUNT_ADMINISTRATORS, &e), 0);
    assert_int_equal(ws_keyacl_can_use(f->st, "vmm01", "My", "tls", svc, &e), 0);

    int changed = 0;
    assert_int_equal(ws_keyacl_grant(f->st, "vmm01", "My", "tls", svc, WS_KEYACL_READ, &changed, &e), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(ws_keyacl_can_use(f->st, "vmm01", "My", "tls", "contoso\\svc-vmm", &e), 1);
    assert_int_equal(ws_keyacl_grant(f->st, "vmm01", "My", "tls", svc, WS_KEYACL_READ, &changed, &e), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(ws_keyacl_revoke(f->st, "vmm01", "My", "tls", svc, &e), 0);
    assert_int_equal(ws_keyacl_revoke(f->st, "vmm01", "My", "tls", svc, &e), WS_NOT_FOUND);
    /* SYSTEM is now the last entry: it stays. */
    assert_int_equal(ws_keyacl_revoke(f->st, "vmm01", "My", "tls", WS_ACCOUNT_SYSTEM, &e), -1);
    assert_contains(e.msg, "last entry");

    /* Everyone covers any account; NETWORK SERVICE on the gateway. */
    assert_int_equal(ws_keyacl_set_import_default(f->st, "rdgw01", "My", "tls", &e), 0);
    assert_int_equal(ws_keyacl_can_use(f->st, "rdgw01", "My", "tls", WS_ACCOUNT_NETWORK_SERVICE, &e), 0);
    assert_int_equal(ws_keyacl_grant(f->st, "rdgw01", "My", "tls", WS_ACCOUNT_EVERYONE, WS_KEYACL_READ, &changed, &e),
                     0);
    assert_int_equal(ws_keyacl_can_use(f->st, "rdgw01", "My", "tls", WS_ACCOUNT_NETWORK_SERVICE, &e), 1);
}

/* A certificate without its key there has no list to change and no key to use; the
 * list goes with the store entry. */
static void test_no_key(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    int changed;
    assert_int_equal(ws_keyacl_can_use(f->st, "rdgw01", "My", "pub", WS_ACCOUNT_SYSTEM, &e), 0);
    assert_contains(e.msg, "with its private key");
    assert_int_equal(ws_keyacl_grant(f->st, "rdgw01", "My", "pub", WS_ACCOUNT_SYSTEM, WS_KEYACL_READ, &changed, &e),
                     -1);
    assert_int_equal(ws_keyacl_set_import_default(f->st, "rdgw01", "My", "pub", &e), -1);
    assert_int_equal(ws_keyacl_set_import_default(f->st, "rdgw01", "My", "tls", &e), 0);
    ws_keyacl_entry *list = NULL;
    size_t n = 0;
    assert_int_equal(ws_keyacl_list(f->st, "rdgw01", "My", "tls", &list, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].account, WS_ACCOUNT_SYSTEM);
    assert_string_equal(list[1].account, WS_ACCOUNT_ADMINISTRATORS);
    free(list);
    assert_int_equal(ws_store_remove(f->st, "rdgw01", "My", "tls", &e), 0);
    assert_int_equal(ws_keyacl_list(f->st, "rdgw01", "My", "tls", &list, &n, &e), 0);
    assert_int_equal(n, 0);
    char text[128];
    ws_keyacl_describe(f->st, "rdgw01", "My", "tls", text, sizeof text);
    assert_string_equal(text, "not recorded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_service_accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
