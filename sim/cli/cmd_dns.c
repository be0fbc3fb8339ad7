/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim dns show | set: each machine's name resolution (issue 14, pitfall 5; lab/dns.h).
 *
 * A machine's view is its DNS server (the fabric's or the DMZ's [model]), the
 * conditional forwarders that server holds (zone -> the fabric's DNS, as
 * Add-DnsServerConditionalForwarderZone makes one) and its hosts file. The gateway reads
 * its view at each channel it opens, so a change takes effect at the next connection
 * [model: the lab keeps no DNS cache; a real one would want ipconfig /flushdns]. The
 * tenant's PC resolves through the lab's hosts file and has no view to change. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/dns.h"
#include "lab/events.h"
#include "lab/lab.h"
#include "base/net.h"

/* ---- show ---- */

static cJSON *view_json(const ws_dns_view *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "machine", v->machine);
    cJSON_AddBoolToObject(o, "tenant_pc", v->tenant_pc);
    if (v->tenant_pc) {
        cJSON_AddStringToObject(o, "resolves_through", "the lab's hosts file");
        return o;
    }
    cJSON_AddStringToObject(o, "server", v->server);
    cJSON_AddStringToObject(o, "suffix", v->suffix);
    cJSON *fw = cJSON_AddArrayToObject(o, "forwarders");
    for (int i = 0; i < v->forwarders.n; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "zone", v->forwarders.v[i]);
        cJSON_AddStringToObject(f, "to", WS_DNS_SERVER_FABRIC);
        cJSON_AddItemToArray(fw, f);
    }
    cJSON *hosts = cJSON_AddArrayToObject(o, "hosts");
    for (int i = 0; i < v->hosts.n; i++) {
        const char *entry = v->hosts.v[i], *eq = strchr(entry, '=');
        char name[256];
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - entry) : (int)strlen(entry), entry);
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "name", name);
        cJSON_AddStringToObject(h, "address", eq ? eq + 1 : "");
        cJSON_AddItemToArray(hosts, h);
    }
    return o;
}

static const char *server_words(const char *server)
{
    return strcmp(server, WS_DNS_SERVER_FABRIC) == 0 ? "the fabric's DNS: every machine's FQDN and the public names"
           : strcmp(server, WS_DNS_SERVER_DMZ) == 0  ? "the DMZ's DNS: the public names only"
                                                     : "no DNS server";
}

static void show_text(const cJSON *o)
{
    const char *machine = ws_cmd_json_str(o, "machine");
    if (cJSON_IsTrue(cJSON_GetObjectItem(o, "tenant_pc"))) {
        printf("%s: the tenant's PC, which resolves through the lab's hosts file (<lab>/hosts) only\n", machine);
    } else {
        const char *server = ws_cmd_json_str(o, "server");
        printf("%s\n  DNS server:             %s (%s)\n", machine, server, server_words(server));
        printf("  primary DNS suffix:     %s\n", ws_cmd_json_str(o, "suffix"));
        const cJSON *fw = cJSON_GetObjectItem(o, "forwarders"), *it;
        printf("  conditional forwarders:%s\n", cJSON_GetArraySize(fw) ? "" : " none");
        cJSON_ArrayForEach(it, fw) printf("    %s -> %s\n", ws_cmd_json_str(it, "zone"), ws_cmd_json_str(it, "to"));
        const cJSON *hosts = cJSON_GetObjectItem(o, "hosts");
        printf("  hosts file:%s\n", cJSON_GetArraySize(hosts) ? "" : "             empty");
        cJSON_ArrayForEach(it, hosts) printf("    %-15s %s\n", ws_cmd_json_str(it, "address"), ws_cmd_json_str(it, "name"));
    }
    const cJSON *r = cJSON_GetObjectItem(o, "resolve");
    if (r) {
        const char *addr = ws_cmd_json_str(r, "address");
        if (addr)
            printf("%s resolves %s to %s (%s)\n", machine, ws_cmd_json_str(r, "name"), addr, ws_cmd_json_str(r, "via"));
        else
            printf("%s cannot resolve %s: %s\n", machine, ws_cmd_json_str(r, "name"), ws_cmd_json_str(r, "error"));
    }
}

static int cmd_dns_show(int argc, char **argv)
{
    const char *name = NULL;
    const ws_opt opts[] = {WS_OPT_STR("resolve", &name), WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, WS_OPT_JSON,
                              "which machine? (wapsim dns show MACHINE [--resolve NAME] [--json])", &cli);
    if (rc)
        return rc;
    if (name && !ws_dns_name_valid(name) && !ws_is_ip_literal(name))
        return ws_cmd_usage_error("bad --resolve '%s' (a DNS name or an address)", name);
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    if ((rc = ws_cmd_machine(st, cli.argv[0], NULL, NULL)))
        return ws_cmd_close(st, rc);
    ws_dns_view v;
    ws_error e;
    if (ws_dns_view_get(st, cli.argv[0], &v, &e) != 0) {
        ws_warn("%s", e.msg);
        return ws_cmd_close(st, WS_EXIT_FAIL);
    }
    cJSON *o = view_json(&v);
    int status = 0;
    if (name) {
        /* The lab's one rule (ws_lab_resolve), as this machine: what Resolve-DnsName says there. */
        char address[64], via[200] = "";
        cJSON *r = cJSON_AddObjectToObject(o, "resolve");
        cJSON_AddStringToObject(r, "name", name);
        int ok = ws_lab_resolve(st, v.machine, name, address, sizeof address, &e) == 0;
        if (ok && !v.tenant_pc && !ws_is_ip_literal(name))
            ws_dns_resolve(st, &v, name, address, sizeof address, via, sizeof via, NULL);
        if (ok) {
            cJSON_AddStringToObject(r, "address", address);
            cJSON_AddStringToObject(r, "via", via[0]                  ? via
                                              : ws_is_ip_literal(name) ? "an address: no lookup"
                                                                       : "the lab's hosts file");
        } else {
            cJSON_AddNullToObject(r, "address");
            cJSON_AddStringToObject(r, "error", e.msg);
            status = WS_EXIT_FAIL;
        }
    }
    ws_dns_view_free(&v);
    ws_cmd_output(cli.json, o, show_text);
    return ws_cmd_close(st, status);
}

/* ---- set ---- */

typedef struct dns_change {
    const char *server;
    ws_strv add_fw, del_fw, add_host, del_host;
} dns_change;

/* The index of zone in v's forwarders / of name's entry in its hosts file, or -1. */
static int forwarder_index(const ws_dns_view *v, const char *zone)
{
    for (int k = 0; k < v->forwarders.n; k++)
        if (strcasecmp(v->forwarders.v[k], zone) == 0)
            return k;
    return -1;
}

static int host_index(const ws_dns_view *v, const char *name)
{
    size_t len = strlen(name);
    for (int k = 0; k < v->hosts.n; k++)
        if (strncasecmp(v->hosts.v[k], name, len) == 0 && v->hosts.v[k][len] == '=')
            return k;
    return -1;
}

static void strv_remove(ws_strv *l, int k)
{
    free(l->v[k]);
    memmove(&l->v[k], &l->v[k + 1], (size_t)(l->n - k) * sizeof(char *));
    l->n--;
}

/* The change applied to v, or a usage error naming the bad value (v is then partly changed:
 * the caller saves nothing). */
static int apply(ws_dns_view *v, const dns_change *c)
{
    ws_error e;
    if (c->server)
        snprintf(v->server, sizeof v->server, "%s", c->server);
    for (int i = 0; i < c->del_fw.n; i++) {
        int k = forwarder_index(v, c->del_fw.v[i]);
        if (k < 0)
            return ws_cmd_usage_error("%s has no conditional forwarder for '%s' (see wapsim dns show %s)", v->machine,
                                      c->del_fw.v[i], v->machine);
        strv_remove(&v->forwarders, k);
    }
    for (int i = 0; i < c->add_fw.n; i++) {
        const char *z = c->add_fw.v[i];
        if (!ws_dns_name_valid(z))
            return ws_cmd_usage_error("bad --add-forwarder '%s' (a DNS zone: letters, digits, '-' and dots)", z);
        if (forwarder_index(v, z) >= 0)
            continue;
        if (v->forwarders.n >= WS_DNS_MAX_ENTRIES)
            return ws_cmd_usage_error("too many conditional forwarders on %s (at most %d)", v->machine,
                                      WS_DNS_MAX_ENTRIES);
        if (ws_strv_add(&v->forwarders, z) != 0)
            abort();
        for (char *p = v->forwarders.v[v->forwarders.n - 1]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    for (int i = 0; i < c->del_host.n; i++) {
        int k = host_index(v, c->del_host.v[i]);
        if (k < 0)
            return ws_cmd_usage_error("%s's hosts file has no entry for '%s' (see wapsim dns show %s)", v->machine,
                                      c->del_host.v[i], v->machine);
        strv_remove(&v->hosts, k);
    }
    for (int i = 0; i < c->add_host.n; i++) {
        char name[256], addr[64];
        if (ws_dns_host_entry_parse(c->add_host.v[i], name, sizeof name, addr, sizeof addr, &e) != 0)
            return ws_cmd_usage_error("bad --add-host: %s", e.msg);
        int k = host_index(v, name);
        if (k >= 0) { /* a new address for a name already there */
            free(v->hosts.v[k]);
            v->hosts.v[k] = ws_printf("%s=%s", name, addr);
            continue;
        }
        if (v->hosts.n >= WS_DNS_MAX_ENTRIES)
            return ws_cmd_usage_error("too many hosts entries on %s (at most %d)", v->machine, WS_DNS_MAX_ENTRIES);
        if (ws_strv_addf(&v->hosts, "%s=%s", name, addr) != 0)
            abort();
    }
    return 0;
}

static int server_arg(void *dest, const char *value)
{
    if (strcmp(value, WS_DNS_SERVER_FABRIC) != 0 && strcmp(value, WS_DNS_SERVER_DMZ) != 0 &&
        strcmp(value, WS_DNS_SERVER_NONE) != 0)
        return ws_cmd_usage_error("bad --server '%s' (fabric, dmz or none)", value);
    *(const char **)dest = value;
    return 0;
}

static int set_view(ws_state *st, const char *machine, const dns_change *c)
{
    ws_dns_view v;
    ws_error e;
    if (ws_dns_view_get(st, machine, &v, &e) != 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_FAIL;
    }
    if (v.tenant_pc) {
        ws_dns_view_free(&v);
        return ws_cmd_usage_error("%s is the tenant's PC: it resolves through the lab's hosts file (<lab>/hosts), not "
                                  "a DNS view",
                                  machine);
    }
    char before[WS_DNS_SUMMARY_MAX], after[WS_DNS_SUMMARY_MAX];
    ws_dns_view_summary(&v, before, sizeof before);
    int rc = apply(&v, c);
    if (rc == 0) {
        ws_dns_view_summary(&v, after, sizeof after);
        if (strcmp(before, after) == 0) {
            printf("%s: unchanged (%s)\n", v.machine, after);
        } else {
            int ok = ws_state_begin(st, &e) == 0 && ws_dns_view_save(st, &v, &e) == 0 &&
                     ws_event_write(st, v.machine, WS_EV_DNS_1000, after, before) == 0;
            if ((rc = ws_cmd_commit(st, ok, &e)) == 0)
                printf("%s: %s (was: %s); takes effect at its next lookup.\n", v.machine, after, before);
        }
    }
    ws_dns_view_free(&v);
    return rc;
}

static int cmd_dns_set(int argc, char **argv)
{
    dns_change c = {0};
    const ws_opt opts[] = {WS_OPT_CALL("server", &c.server, server_arg), WS_OPT_LIST("add-forwarder", &c.add_fw),
                           WS_OPT_LIST("remove-forwarder", &c.del_fw), WS_OPT_LIST("add-host", &c.add_host),
                           WS_OPT_LIST("remove-host", &c.del_host), WS_OPT_END};
    ws_cli cli;
    ws_state *st = NULL;
    int rc = ws_cmd_parse_arg(argc, argv, opts, 0,
                              "which machine? (wapsim dns set MACHINE [--server fabric|dmz|none] [--add-forwarder "
                              "ZONE] [--add-host NAME=ADDRESS] ...)",
                              &cli);
    if (rc)
        goto out;
    if (!c.server && !c.add_fw.n && !c.del_fw.n && !c.add_host.n && !c.del_host.n) {
        rc = ws_cmd_usage_error("nothing to set on '%s' (--server, --add-forwarder, --remove-forwarder, --add-host, "
                                "--remove-host)",
                                cli.argv[0]);
        goto out;
    }
    if ((rc = ws_cmd_open_lab(cli.lab, &st)) || (rc = ws_cmd_machine(st, cli.argv[0], NULL, NULL)))
        goto out;
    rc = set_view(st, cli.argv[0], &c);
out:
    ws_strv_free(&c.add_fw);
    ws_strv_free(&c.del_fw);
    ws_strv_free(&c.add_host);
    ws_strv_free(&c.del_host);
    return st ? ws_cmd_close(st, rc) : rc;
}

const ws_cmd ws_cmds_dns[] = {
    {"dns", "show", cmd_dns_show, "MACHINE [--resolve NAME] [--json]",
     "How a machine resolves names: its DNS server, conditional forwarders and hosts file.",
     "Every machine of the fabric resolves through its own view (lab/dns.h): its hosts file first, then its\n"
     "DNS server, fabric (the domain controller's: every machine's FQDN and the public names) or dmz (a\n"
     "DMZ's: the public names only) [model], with the zones that server forwards to the fabric's DNS\n"
     "(conditional forwarders). The tenant's PC (client) resolves through the lab's hosts file.\n"
     "  --resolve NAME  resolve NAME as the machine does (its Resolve-DnsName): the address and how it\n"
     "                  was found, or why not; exit 1 when it cannot be resolved\n"
     "  --json          {\"machine\",\"tenant_pc\",\"server\",\"suffix\",\"forwarders\":[{\"zone\",\"to\"}],\n"
     "                  \"hosts\":[{\"name\",\"address\"}],\"resolve\":{\"name\",\"address\",\"via\"|\"error\"}}\n"},
    {"dns", "set", cmd_dns_set,
     "MACHINE [--server fabric|dmz|none] [--add-forwarder ZONE] [--remove-forwarder ZONE] [--add-host NAME=ADDRESS] "
     "[--remove-host NAME]",
     "Change how a machine resolves names (logs event 1000 on it).",
     "  --server fabric|dmz|none    its DNS server: the fabric's, a DMZ's (public names only) or none\n"
     "  --add-forwarder ZONE        a conditional forwarder on its DNS server: names in ZONE are asked of\n"
     "                              the fabric's DNS (Add-DnsServerConditionalForwarderZone -Name ZONE\n"
     "                              -MasterServers <the fabric's DNS> on the DMZ's DNS server); repeatable\n"
     "  --remove-forwarder ZONE     remove one (Remove-DnsServerZone ZONE); repeatable\n"
     "  --add-host NAME=ADDRESS     an entry in its hosts file (drivers\\etc\\hosts), read before DNS;\n"
     "                              ADDRESS in 127.0.0.0/8; a NAME already there gets the new address\n"
     "  --remove-host NAME          remove an entry; repeatable\n"
     "A gateway reads its view at each channel it opens: the change takes effect at the next connection.\n"
     "MACHINE is any machine but the tenant's PC, whose names are the lab's hosts file.\n"},
    {0},
};
