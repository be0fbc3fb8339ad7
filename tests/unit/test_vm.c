/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/lab/vm.c: a temporary lab with two hosts, two tenants and three
 * VMs, made with the lab's own functions; lookups by name and by ID, per-tenant
 * lists, and what an unknown or duplicate VM gives. */

#include "harness.h"

#include "base/util.h"
#include "lab/accounts.h"
#include "lab/machine.h"
#include "lab/state.h"
#include "lab/vm.h"

#define WEB01_ID "0f8fad5b-d9cb-469f-a165-70867728950e"
#define DB01_ID "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define APP01_ID "16fd2706-8baf-433b-82eb-8c7fada847da"
#define SUB_ALICE "11111111-2222-3333-4444-555555555555"
#define SUB_BOB "66666666-7777-8888-9999-aaaaaaaaaaaa"

typedef struct fixture {
    char dir[64];
    ws_state *st;
} fixture;

static int add_host(ws_state *st, const char *name, const char *address, ws_error *e)
{
    ws_machine m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    snprintf(m.fqdn, sizeof m.fqdn, "%s.fabric.contoso.local", name);
    snprintf(m.address, sizeof m.address, "%s", address);
    snprintf(m.role, sizeof m.role, "host");
    m.port = 2179;
    return ws_machine_add(st, &m, e);
}

static int add_vm(ws_state *st, const char *id, const char *name, const char *os, const char *sub, const char *host,
                  ws_error *e)
{
    ws_vm vm = {.state = "Running"};
    snprintf(vm.id, sizeof vm.id, "%s", id);
    snprintf(vm.name, sizeof vm.name, "%s", name);
    snprintf(vm.os, sizeof vm.os, "%s", os);
    snprintf(vm.subscription, sizeof vm.subscription, "%s", sub);
    snprintf(vm.host, sizeof vm.host, "%s", host);
    return ws_vm_add(st, &vm, e);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    snprintf(f->dir, sizeof f->dir, "/tmp/wapsim-test-vm-XXXXXX");
    if (!mkdtemp(f->dir)) {
        f->dir[0] = '\0';
        return -1;
    }
    ws_error e = {""};
    if (ws_state_open(f->dir, 1, &f->st, &e) != 0 || add_host(f->st, "hv01", "127.77.0.21", &e) != 0 ||
        add_host(f->st, "hv02", "127.77.0.22", &e) != 0 ||
        ws_account_add(f->st, "alice", "tenant", "Pa55word!", &e) != 0 ||
        ws_account_add(f->st, "bob", "tenant", "Pa55word!", &e) != 0 ||
        ws_state_exec(f->st, &e, "INSERT INTO subscriptions(id, tenant, name) VALUES(?, ?, ?)", 3, SUB_ALICE, "alice",
                      "Contoso Web") != 0 ||
        ws_state_exec(f->st, &e, "INSERT INTO subscriptions(id, tenant, name) VALUES(?, ?, ?)", 3, SUB_BOB, "bob",
                      "Fabrikam Dev") != 0 ||
        add_vm(f->st, WEB01_ID, "web01", "Windows Server 2012 R2", SUB_ALICE, "hv01", &e) != 0 ||
        add_vm(f->st, DB01_ID, "db01", "Ubuntu 14.04 LTS", SUB_ALICE, "hv02", &e) != 0 ||
        add_vm(f->st, APP01_ID, "app01", "Windows Server 2012 R2", SUB_BOB, "hv02", &e) != 0) {
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

static void test_find_by_name_gives_every_field(void **state)
{
    fixture *f = *state;
    ws_vm vm;
    ws_error e = {""};
    assert_int_equal(ws_vm_find(f->st, "db01", &vm, &e), 0);
    assert_string_equal(vm.id, DB01_ID);
    assert_string_equal(vm.name, "db01");
    assert_string_equal(vm.os, "Ubuntu 14.04 LTS");
    assert_string_equal(vm.state, "Running");
    assert_string_equal(vm.subscription, SUB_ALICE);
    assert_string_equal(vm.tenant, "alice");
    assert_string_equal(vm.host, "hv02");
}

static void test_find_by_id_in_any_case(void **state)
{
    fixture *f = *state;
    ws_vm vm;
    ws_error e = {""};
    assert_int_equal(ws_vm_find(f->st, WEB01_ID, &vm, &e), 0);
    assert_string_equal(vm.name, "web01");
    assert_int_equal(ws_vm_find(f->st, "0F8FAD5B-D9CB-469F-A165-70867728950E", &vm, &e), 0);
    assert_string_equal(vm.name, "web01");
    assert_string_equal(vm.id, WEB01_ID); /* as stored, not as asked */
}

static void test_names_match_exactly(void **state)
{
    fixture *f = *state;
    ws_vm vm;
    ws_error e = {""};
    assert_int_equal(ws_vm_find(f->st, "WEB01", &vm, &e), WS_NOT_FOUND);
    assert_string_equal(e.msg, "unknown VM 'WEB01'");
    assert_int_equal(ws_vm_find(f->st, "web0", &vm, &e), WS_NOT_FOUND);
}

static void test_get_takes_ids_only(void **state)
{
    fixture *f = *state;
    ws_vm vm;
    ws_error e = {""};
    assert_int_equal(ws_vm_get(f->st, "16FD2706-8BAF-433B-82EB-8C7FADA847DA", &vm, &e), 0);
    assert_string_equal(vm.name, "app01");
    assert_string_equal(vm.tenant, "bob");
    assert_string_equal(vm.host, "hv02");
    assert_int_equal(ws_vm_get(f->st, "app01", &vm, &e), WS_NOT_FOUND);
    assert_int_equal(ws_vm_get(f->st, "00000000-0000-0000-0000-000000000000", &vm, &e), WS_NOT_FOUND);
    assert_int_equal(ws_vm_get(f->st, NULL, &vm, NULL), WS_NOT_FOUND); /* e may be NULL */
}

static void test_list_all_by_name(void **state)
{
    fixture *f = *state;
    ws_vm *vms;
    size_t n;
    ws_error e = {""};
    assert_int_equal(ws_vm_list(f->st, NULL, &vms, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_string_equal(vms[0].name, "app01");
    assert_string_equal(vms[0].tenant, "bob");
    assert_string_equal(vms[1].name, "db01");
    assert_string_equal(vms[2].name, "web01");
    assert_string_equal(vms[2].host, "hv01");
    free(vms);
}

static void test_list_of_one_tenant(void **state)
{
    fixture *f = *state;
    ws_vm *vms;
    size_t n;
    ws_error e = {""};
    assert_int_equal(ws_vm_list(f->st, "alice", &vms, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(vms[0].name, "db01");
    assert_string_equal(vms[1].name, "web01");
    for (size_t i = 0; i < n; i++)
        assert_string_equal(vms[i].tenant, "alice");
    free(vms);
    assert_int_equal(ws_vm_list(f->st, "carol", &vms, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_null(vms);
}

static void test_add_refuses_duplicates_and_unknown_hosts(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_not_equal(add_vm(f->st, "9b2c0f4e-1111-4222-8333-444455556666", "web01", "x", SUB_ALICE, "hv01", &e), 0);
    assert_int_not_equal(add_vm(f->st, WEB01_ID, "web02", "x", SUB_ALICE, "hv01", &e), 0);
    assert_int_not_equal(add_vm(f->st, "9b2c0f4e-1111-4222-8333-444455556666", "web02", "x", SUB_ALICE, "hv09", &e),
                         0);
    assert_int_equal(add_vm(f->st, "9b2c0f4e-1111-4222-8333-444455556666", "web02", "x", SUB_BOB, "hv01", &e), 0);
    ws_vm vm;
    assert_int_equal(ws_vm_find(f->st, "web02", &vm, &e), 0);
    assert_string_equal(vm.tenant, "bob");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_find_by_name_gives_every_field),
        T(test_find_by_id_in_any_case),
        T(test_names_match_exactly),
        T(test_get_takes_ids_only),
        T(test_list_all_by_name),
        T(test_list_of_one_tenant),
        T(test_add_refuses_duplicates_and_unknown_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
