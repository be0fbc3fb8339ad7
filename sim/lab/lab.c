/* SPDX-License-Identifier: Apache-2.0 */
/* lab: see lab.h. What a running lab's processes use; lab init (and its deployment import,
 * libarchive's) is in lab_init.c, so a component links none of it. */
#include "lab/lab.h"
#include "lab/lab_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lab/accounts.h"
#include "lab/balancer.h"
#include "lab/dns.h"
#include "base/net.h"
#include "lab/settings.h"

/* The default world. Addresses are the last octet in the lab's /24; ports are the
 * role's (ws_lab_role_port). */
const ws_lab_default_machine ws_lab_default_machines[] = {
    {"portal", "portal.contoso.com", "portal.contoso.com", "portal", 10},
    {"spf01", "spf01.fabric.contoso.local", NULL, "spf", 11},
    {"vmm01", "vmm01.fabric.contoso.local", NULL, "vmm", 12},
    {"rdgw01", "rdgw01.fabric.contoso.local", "rdgw.contoso.com", "gateway", 13},
    {"client", "client.contoso.com", NULL, "client", 14},
    {"hv01", "hv01.fabric.contoso.local", NULL, "host", 15},
    {"hv02", "hv02.fabric.contoso.local", NULL, "host", 16},
};
const size_t ws_lab_n_default_machines = sizeof ws_lab_default_machines / sizeof ws_lab_default_machines[0];
#define default_machines ws_lab_default_machines
#define N_MACHINES ws_lab_n_default_machines

int ws_lab_role_port(const char *role)
{
    static const struct {
        const char *role;
        int port;
    } ports[] = {{"portal", 30081}, {"spf", 8090},  {"vmm", 8100},    {"gateway", 8443},
                 {"host", 2179},    {"balancer", WS_LB_PORT}, {"client", 0}};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
        if (strcmp(ports[i].role, role) == 0)
            return ports[i].port;
    return 0;
}

int ws_lab_default_octet(const char *name)
{
    for (size_t i = 0; i < N_MACHINES; i++)
        if (strcasecmp(default_machines[i].name, name) == 0)
            return default_machines[i].octet;
    /* The HA layout's: rdgw02 beside rdgw01 (.17), lb01 (.20). */
    return strcasecmp(name, "rdgw02") == 0 ? 17 : strcasecmp(name, "lb01") == 0 ? 20 : -1;
}

void ws_lab_default_fqdn(const char *name, const char *role, char *out, size_t n)
{
    for (size_t i = 0; i < N_MACHINES; i++)
        if (strcasecmp(default_machines[i].name, name) == 0) {
            snprintf(out, n, "%s", default_machines[i].fqdn);
            return;
        }
    /* [model] the fabric's domain; a balancer and the tenant's PC sit in the public one. */
    int public = strcmp(role, "balancer") == 0 || strcmp(role, "client") == 0;
    snprintf(out, n, "%s.%s", name, public ? "contoso.com" : "fabric.contoso.local");
}

const ws_lab_setting ws_lab_vmm_defaults[] = {
    {WS_SET_VMM_HOST_ID_MODE, "FQDN", "host_identification_mode"},
    {WS_SET_VMM_TTL_MINUTES, "2", "time_to_live_minutes"},
    {WS_SET_VMM_DEFAULT_PORT, "2179", "default_port"},
    {NULL, NULL, NULL},
};

int ws_lab_add_account(ws_state *st, ws_lab_init_result *res, const char *name, const char *role, ws_error *e)
{
    for (int i = 0; i < res->n_accounts; i++)
        if (strcasecmp(res->accounts[i].name, name) == 0)
            return 0;
    if (res->n_accounts >= WS_LAB_MAX_ACCOUNTS)
        return ws_seterr(e, "more than %d accounts in one lab (tenants, services, the fabric administrator)",
                         WS_LAB_MAX_ACCOUNTS);
    ws_lab_account *a = &res->accounts[res->n_accounts];
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->role, sizeof a->role, "%s", role);
    if (ws_password_new(a->password, 17) != 0 || ws_account_add(st, a->name, a->role, a->password, e) != 0)
        return -1;
    res->n_accounts++;
    return 0;
}

static const ws_lab_account *find_account(const ws_lab_init_result *res, const char *name)
{
    for (int i = 0; i < res->n_accounts; i++)
        if (strcasecmp(res->accounts[i].name, name) == 0)
            return &res->accounts[i];
    return NULL;
}

int ws_lab_service_logon(ws_state *st, ws_lab_init_result *res, const char *machine, const char *account,
                         ws_error *e)
{
    if (ws_lab_add_account(st, res, account, "service", e) != 0)
        return -1;
    const ws_lab_account *a = find_account(res, account);
    return ws_setting_set(st, machine, WS_SET_SERVICE_ACCOUNT, a->name, e) != 0 ||
                   ws_setting_set(st, machine, WS_SET_SERVICE_PASSWORD, a->password, e) != 0
               ? -1
               : 0;
}

int ws_lab_register_spf(ws_state *st, const ws_lab_init_result *res, const char *portal, const char *spf,
                        const char *spf_account, ws_error *e)
{
    const ws_lab_account *a = find_account(res, spf_account);
    if (!a)
        return ws_seterr(e, "SPF's account %s was not made", spf_account);
    char stamp[37];
    ws_guid_new(stamp);
    /* The portal's registration of SPF: endpoint credentials, which WAP keeps in its
     * configuration database [model: encrypted there]. */
    return ws_setting_set(st, spf, "stamp_id", stamp, e) != 0 ||
                   ws_setting_set(st, portal, "spf_user", a->name, e) != 0 ||
                   ws_setting_set(st, portal, "spf_password", a->password, e) != 0
               ? -1
               : 0;
}

const char *ws_lab_dir(const char *from_option)
{
    if (from_option && *from_option)
        return from_option;
    const char *env = getenv("WAPSIM_LAB");
    return env && *env ? env : "./lab";
}

int ws_lab_open(const char *dir, ws_state **st, ws_error *e)
{
    return ws_state_open(dir, 0, st, e);
}

int ws_subnet_prefix(const char *subnet, char *prefix, size_t n)
{
    unsigned a, b, c, d, bits;
    char tail;
    if (!subnet || sscanf(subnet, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &bits, &tail) != 5 || a != 127 ||
        b > 255 || c > 255 || d != 0 || bits != 24 || (b == 0 && c == 0))
        return -1;
    snprintf(prefix, n, "127.%u.%u.", b, c);
    return 0;
}

/* In use when any role's port answers on .10 to .60: the default machines' octets and those an
 * imported lab's own machine names take from .21 (cheap binds, no connection). */
int ws_subnet_in_use(const char *subnet)
{
    static const char *const roles[] = {"portal", "spf", "vmm", "gateway", "host"};
    char prefix[32], addr[48];
    if (ws_subnet_prefix(subnet, prefix, sizeof prefix) != 0)
        return 0;
    for (int octet = 10; octet <= 60; octet++) {
        snprintf(addr, sizeof addr, "%s%d", prefix, octet);
        for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
            int port = ws_lab_role_port(roles[i]);
            if (port && !ws_tcp_port_free(addr, port))
                return 1;
        }
    }
    return 0;
}

int ws_lab_hosts_lookup(const char *lab_dir, const char *name, char *address, size_t n)
{
    char path[4200], line[1024];
    snprintf(path, sizeof path, "%s/hosts", lab_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int found = -1;
    while (found != 0 && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL, *addr = strtok_r(line, " \t\r\n", &save);
        for (char *h = addr ? strtok_r(NULL, " \t\r\n", &save) : NULL; h; h = strtok_r(NULL, " \t\r\n", &save)) {
            if (strcasecmp(h, name) == 0) {
                snprintf(address, n, "%s", addr);
                found = 0;
                break;
            }
        }
    }
    fclose(f);
    return found;
}

int ws_lab_hosts_set(const char *lab_dir, const char *name, const char *address, ws_error *e)
{
    char path[4200], line[1024];
    snprintf(path, sizeof path, "%s/hosts", lab_dir);
    ws_buf out;
    ws_buf_init(&out, WS_BUF_MAX_TEXT_FILE);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        char copy[1024], kept[1024] = "";
        snprintf(copy, sizeof copy, "%s", line);
        char *hash = strchr(copy, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL, *addr = strtok_r(copy, " \t\r\n", &save);
        int had = 0, names = 0;
        for (char *h = addr ? strtok_r(NULL, " \t\r\n", &save) : NULL; h; h = strtok_r(NULL, " \t\r\n", &save)) {
            if (strcasecmp(h, name) == 0) {
                had = 1;
                continue;
            }
            size_t k = strlen(kept);
            snprintf(kept + k, sizeof kept - k, "\t%s", h);
            names++;
        }
        if (!had)
            ws_buf_adds(&out, line); /* comments and other names as they were */
        else if (names)
            ws_buf_addf(&out, "%s%s\n", addr, kept);
    }
    if (f)
        fclose(f);
    ws_buf_addf(&out, "%s\t%s\n", address, name);
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.new.%d", path, (int)getpid());
    int rc = ws_write_file(tmp, ws_buf_data(&out), ws_buf_len(&out), 0644, e);
    if (rc == 0 && rename(tmp, path) != 0) {
        unlink(tmp);
        rc = ws_seterr(e, "cannot replace %s: %s", path, strerror(errno));
    }
    ws_buf_free(&out);
    return rc;
}

int ws_lab_resolve(ws_state *st, const char *as, const char *host, char *address, size_t n, ws_error *e)
{
    if (ws_is_ip_literal(host)) { /* an address is where to connect: no lookup */
        snprintf(address, n, "%s", host);
        return 0;
    }
    ws_dns_view v;
    if (as && ws_dns_view_get(st, as, &v, e) != 0)
        return -1;
    if (!as || v.tenant_pc) {
        if (ws_lab_hosts_lookup(st->lab_dir, host, address, n) != 0)
            return ws_seterr(e, "the tenant's PC cannot resolve %s", host);
        return 0;
    }
    int rc = ws_dns_resolve(st, &v, host, address, n, NULL, 0, e);
    ws_dns_view_free(&v);
    return rc;
}

void ws_template_path(char *out, size_t n)
{
    const char *dir = getenv("WAPSIM_CACHE");
    char buf[4096];
    if (!dir || !*dir) {
        const char *xdg = getenv("XDG_CACHE_HOME");
        const char *home = getenv("HOME");
        if (xdg && *xdg)
            snprintf(buf, sizeof buf, "%s/wapsim", xdg);
        else
            snprintf(buf, sizeof buf, "%s/.cache/wapsim", home && *home ? home : "/tmp");
        dir = buf;
    }
    /* The schema version and the certificates' format (2: self-signed ones carry an authority
     * key identifier; 3: the hosts' self-signed console certificates): a template of another
     * format is not reused. */
    snprintf(out, n, "%s/template-v%d-c3.db", dir, ws_state_schema_version());
}
