/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/lab/dns.c: the pure parts (names, zones, hosts entries, the
 * identifier VMM writes per mode) and the resolution rule over a scratch state file:
 * a machine resolves through its own view (hosts file first, then its DNS server or a
 * conditional forwarder), the tenant's PC through the lab's hosts file. */
#include "harness.h"

#include "base/util.h"
#include "lab/dns.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "lab/settings.h"

static void test_name_valid(void **state)
{
    (void)state;
    assert_true(ws_dns_name_valid("hv01.fabric.contoso.local"));
    assert_true(ws_dns_name_valid("hv01"));
    assert_true(ws_dns_name_valid("a-b.c9"));
    assert_false(ws_dns_name_valid(""));
    assert_false(ws_dns_name_valid(NULL));
    assert_false(ws_dns_name_valid("hv01..local"));
    assert_false(ws_dns_name_valid(".hv01"));
    assert_false(ws_dns_name_valid("hv01."));
    assert_false(ws_dns_name_valid("-hv01.local"));
    assert_false(ws_dns_name_valid("hv01-.local"));
    assert_false(ws_dns_name_valid("hv01 .local"));
    assert_false(ws_dns_name_valid("hv01=127.0.0.1"));
    char label[80];
    memset(label, 'a', 64);
    label[64] = '\0';
    assert_false(ws_dns_name_valid(label)); /* a label of 64 */
    label[63] = '\0';
    assert_true(ws_dns_name_valid(label));
    char longname[300];
    memset(longname, 'a', sizeof longname);
    for (int i = 10; i < 299; i += 10)
        longname[i] = '.';
    longname[254] = '\0';
    assert_false(ws_dns_name_valid(longname)); /* 254 characters */
}

static void test_in_zone(void **state)
{
    (void)state;
    assert_true(ws_dns_in_zone("hv01.fabric.contoso.local", "fabric.contoso.local"));
    assert_true(ws_dns_in_zone("hv01.fabric.contoso.local", "contoso.local"));
    assert_true(ws_dns_in_zone("HV01.Fabric.Contoso.Local", "fabric.contoso.local"));
    assert_true(ws_dns_in_zone("fabric.contoso.local", "fabric.contoso.local"));
    assert_false(ws_dns_in_zone("hv01.evilfabric.contoso.local", "fabric.contoso.local"));
    assert_false(ws_dns_in_zone("contoso.local", "fabric.contoso.local"));
    assert_false(ws_dns_in_zone("hv01.fabric.contoso.local", ""));
}

static void test_host_entry(void **state)
{
    (void)state;
    char name[256], addr[64];
    ws_error e = {""};
    assert_int_equal(ws_dns_host_entry_parse("HV01.Fabric.contoso.local=127.1.2.15", name, sizeof name, addr,
                                             sizeof addr, &e),
                     0);
    assert_string_equal(name, "hv01.fabric.contoso.local");
    assert_string_equal(addr, "127.1.2.15");
    assert_int_equal(ws_dns_host_entry_parse("hv01", name, sizeof name, addr, sizeof addr, &e), -1);
    assert_contains(e.msg, "NAME=ADDRESS");
    assert_int_equal(ws_dns_host_entry_parse("hv01=10.0.0.1", name, sizeof name, addr, sizeof addr, &e), -1);
    assert_contains(e.msg, "'10.0.0.1'");
    assert_contains(e.msg, "127.0.0.0/8");
    assert_int_equal(ws_dns_host_entry_parse("hv01=127.1.2", name, sizeof name, addr, sizeof addr, &e), -1);
    assert_contains(e.msg, "bad address '127.1.2'");
    assert_int_equal(ws_dns_host_entry_parse("hv_01=127.1.2.3", name, sizeof name, addr, sizeof addr, &e), -1);
    assert_contains(e.msg, "bad name 'hv_01'");
    assert_int_equal(ws_dns_host_entry_parse("=127.1.2.3", name, sizeof name, addr, sizeof addr, &e), -1);
}

static void test_lists_and_find(void **state)
{
    (void)state;
    ws_strv l = {0};
    assert_int_equal(ws_dns_list_parse("a=127.0.0.1,,hv01.fabric.contoso.local=127.0.0.2,", &l), 0);
    assert_int_equal(l.n, 2);
    char addr[64] = "";
    assert_int_equal(ws_dns_hosts_find(&l, "HV01.fabric.contoso.local", addr, sizeof addr), 0);
    assert_string_equal(addr, "127.0.0.2");
    assert_int_equal(ws_dns_hosts_find(&l, "hv01", addr, sizeof addr), -1); /* a prefix is not the name */
    assert_int_equal(ws_dns_hosts_find(&l, "a", addr, sizeof addr), 0);
    ws_strv_free(&l);
    char q[300];
    ws_dns_qualify("hv01", "fabric.contoso.local", q, sizeof q);
    assert_string_equal(q, "hv01.fabric.contoso.local");
    ws_dns_qualify("hv01.other.local", "fabric.contoso.local", q, sizeof q);
    assert_string_equal(q, "hv01.other.local");
    ws_dns_qualify("hv01", "", q, sizeof q);
    assert_string_equal(q, "hv01");
}

static void test_host_identifier(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(ws_dns_host_identifier("FQDN", "hv01", "hv01.fabric.contoso.local", "127.1.2.15", out, sizeof out), 0);
    assert_string_equal(out, "hv01.fabric.contoso.local");
    assert_int_equal(ws_dns_host_identifier("IPv4", "hv01", "hv01.fabric.contoso.local", "127.1.2.15", out, sizeof out), 0);
    assert_string_equal(out, "127.1.2.15");
    assert_int_equal(ws_dns_host_identifier("HostName", "hv01", "hv01.fabric.contoso.local", "127.1.2.15", out,
                                            sizeof out),
                     0);
    assert_string_equal(out, "hv01");
    assert_int_equal(ws_dns_host_identifier("IPv6", "hv01", "hv01.fabric.contoso.local", "127.1.2.15", out, sizeof out),
                     -1);
}

/* ---- the rule, over a scratch state file ---- */

typedef struct fixture {
    char dir[64];
    ws_state *st;
} fixture;

static int add_machine(ws_state *st, const char *name, const char *fqdn, const char *pub, const char *address,
                       const char *role)
{
    ws_machine m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    snprintf(m.fqdn, sizeof m.fqdn, "%s", fqdn);
    snprintf(m.public_fqdn, sizeof m.public_fqdn, "%s", pub ? pub : "");
    snprintf(m.address, sizeof m.address, "%s", address);
    snprintf(m.role, sizeof m.role, "%s", role);
    ws_error e = {""};
    if (ws_machine_add(st, &m, &e) != 0) {
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
    if (ws_test_lab_open(f->dir, sizeof f->dir, "dns", &f->st) != 0)
        return -1;
    if (add_machine(f->st, "rdgw01", "rdgw01.fabric.contoso.local", "rdgw.contoso.com", "127.77.0.13", "gateway") ||
        add_machine(f->st, "hv01", "hv01.fabric.contoso.local", NULL, "127.77.0.15", "host") ||
        add_machine(f->st, "hv02", "hv02.fabric.contoso.local", NULL, "127.77.0.16", "host") ||
        add_machine(f->st, "client", "client.contoso.com", NULL, "127.77.0.14", "client"))
        return -1;
    char path[128];
    snprintf(path, sizeof path, "%s/hosts", f->dir);
    FILE *h = fopen(path, "w");
    if (!h)
        return -1;
    fputs("# the tenant's PC\n127.77.0.13\trdgw.contoso.com\n", h);
    fclose(h);
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

static int resolve(fixture *f, const char *as, const char *name, char *addr, ws_error *e)
{
    addr[0] = '\0';
    return ws_lab_resolve(f->st, as, name, addr, 64, e);
}

static void set_view(fixture *f, const char *server, const char *forwarders, const char *hosts)
{
    ws_error e = {""};
    assert_int_equal(ws_setting_set(f->st, "rdgw01", WS_SET_DNS_SERVER, server, &e), 0);
    assert_int_equal(ws_setting_set(f->st, "rdgw01", WS_SET_DNS_FORWARDERS, forwarders, &e), 0);
    assert_int_equal(ws_setting_set(f->st, "rdgw01", WS_SET_DNS_HOSTS, hosts, &e), 0);
}

static void test_default_view_is_the_fabric(void **state)
{
    fixture *f = *state;
    char addr[64];
    ws_error e = {""};
    /* No settings: the fabric's DNS, which knows every FQDN and the public names. */
    assert_int_equal(resolve(f, "rdgw01", "hv01.fabric.contoso.local", addr, &e), 0);
    assert_string_equal(addr, "127.77.0.15");
    assert_int_equal(resolve(f, "rdgw01", "hv02", addr, &e), 0); /* HostName mode: the primary suffix */
    assert_string_equal(addr, "127.77.0.16");
    assert_int_equal(resolve(f, "rdgw01", "rdgw.contoso.com", addr, &e), 0);
    assert_string_equal(addr, "127.77.0.13");
    assert_int_equal(resolve(f, "rdgw01", "127.77.0.99", addr, &e), 0); /* an address: no lookup */
    assert_string_equal(addr, "127.77.0.99");
    assert_int_equal(resolve(f, "rdgw01", "nosuch.fabric.contoso.local", addr, &e), -1);
    assert_contains(e.msg, "No such host is known (WSAHOST_NOT_FOUND 11001)");
    assert_contains(e.msg, "nosuch.fabric.contoso.local");
    assert_int_equal(resolve(f, "hv09", "hv01", addr, &e), -1);
    assert_contains(e.msg, "unknown machine 'hv09'");
}

static void test_tenant_pc_uses_the_lab_hosts_file(void **state)
{
    fixture *f = *state;
    char addr[64];
    ws_error e = {""};
    assert_int_equal(resolve(f, WS_RESOLVE_TENANT_PC, "rdgw.contoso.com", addr, &e), 0);
    assert_string_equal(addr, "127.77.0.13");
    assert_int_equal(resolve(f, WS_RESOLVE_TENANT_PC, "hv01.fabric.contoso.local", addr, &e), -1);
    assert_contains(e.msg, "the tenant's PC cannot resolve hv01.fabric.contoso.local");
    /* The client machine is the tenant's PC, whatever its settings say. */
    ws_setting_set(f->st, "client", WS_SET_DNS_SERVER, WS_DNS_SERVER_FABRIC, &e);
    assert_int_equal(resolve(f, "client", "hv01.fabric.contoso.local", addr, &e), -1);
    assert_int_equal(resolve(f, "client", "rdgw.contoso.com", addr, &e), 0);
}

static void test_dmz_view(void **state)
{
    fixture *f = *state;
    char addr[64];
    ws_error e = {""};
    set_view(f, WS_DNS_SERVER_DMZ, "", "");
    assert_int_equal(resolve(f, "rdgw01", "hv01.fabric.contoso.local", addr, &e), -1);
    assert_contains(e.msg, "rdgw01 asked for hv01.fabric.contoso.local");
    assert_contains(e.msg, "dmz");
    assert_int_equal(resolve(f, "rdgw01", "rdgw.contoso.com", addr, &e), 0); /* public names */
    /* A hosts entry for one host. */
    set_view(f, WS_DNS_SERVER_DMZ, "", "hv01.fabric.contoso.local=127.77.0.15");
    assert_int_equal(resolve(f, "rdgw01", "hv01.fabric.contoso.local", addr, &e), 0);
    assert_string_equal(addr, "127.77.0.15");
    assert_int_equal(resolve(f, "rdgw01", "hv02.fabric.contoso.local", addr, &e), -1);
    /* The conditional forwarder: names in the zone are asked of the fabric's DNS. */
    set_view(f, WS_DNS_SERVER_DMZ, "fabric.contoso.local", "");
    assert_int_equal(resolve(f, "rdgw01", "hv02.fabric.contoso.local", addr, &e), 0);
    assert_string_equal(addr, "127.77.0.16");
    assert_int_equal(resolve(f, "rdgw01", "hv02", addr, &e), 0);
    assert_int_equal(resolve(f, "rdgw01", "nosuch.fabric.contoso.local", addr, &e), -1);
    assert_contains(e.msg, "forwards fabric.contoso.local to the fabric's DNS, which has no record of it");
    /* A forwarder for another zone does not help. */
    set_view(f, WS_DNS_SERVER_DMZ, "other.local", "");
    assert_int_equal(resolve(f, "rdgw01", "hv02.fabric.contoso.local", addr, &e), -1);
    /* The hosts file wins over DNS, even when it is wrong. */
    set_view(f, WS_DNS_SERVER_FABRIC, "", "hv01.fabric.contoso.local=127.77.0.99");
    assert_int_equal(resolve(f, "rdgw01", "hv01.fabric.contoso.local", addr, &e), 0);
    assert_string_equal(addr, "127.77.0.99");
    /* No DNS server: nothing but the hosts file; a forwarder lives on a server. */
    set_view(f, WS_DNS_SERVER_NONE, "fabric.contoso.local", "");
    assert_int_equal(resolve(f, "rdgw01", "hv01.fabric.contoso.local", addr, &e), -1);
    assert_contains(e.msg, "it has no DNS server");
}

static void test_view_round_trip(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    ws_dns_view v;
    assert_int_equal(ws_dns_view_get(f->st, "rdgw01", &v, &e), 0);
    assert_string_equal(v.server, WS_DNS_SERVER_FABRIC);
    assert_string_equal(v.suffix, "fabric.contoso.local");
    assert_int_equal(v.forwarders.n, 0);
    snprintf(v.server, sizeof v.server, "%s", WS_DNS_SERVER_DMZ);
    ws_strv_add(&v.forwarders, "fabric.contoso.local");
    ws_strv_add(&v.hosts, "hv01.fabric.contoso.local=127.77.0.15");
    assert_int_equal(ws_dns_view_save(f->st, &v, &e), 0);
    ws_dns_view_free(&v);
    assert_int_equal(ws_dns_view_get(f->st, "rdgw01", &v, &e), 0);
    char summary[512];
    ws_dns_view_summary(&v, summary, sizeof summary);
    assert_string_equal(summary,
                        "server dmz; forwarders fabric.contoso.local; hosts hv01.fabric.contoso.local=127.77.0.15");
    ws_dns_view_free(&v);
    assert_int_equal(ws_dns_view_get(f->st, "client", &v, &e), 0);
    assert_true(v.tenant_pc);
    assert_int_equal(ws_dns_view_save(f->st, &v, &e), -1);
    assert_contains(e.msg, "tenant's PC");
    ws_dns_view_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_in_zone),
        cmocka_unit_test(test_host_entry),
        cmocka_unit_test(test_lists_and_find),
        cmocka_unit_test(test_host_identifier),
        cmocka_unit_test_setup_teardown(test_default_view_is_the_fabric, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenant_pc_uses_the_lab_hosts_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dmz_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
