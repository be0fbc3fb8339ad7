/* SPDX-License-Identifier: Apache-2.0 */
/* dns: see dns.h. */
#include "lab/dns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lab/machine.h"
#include "lab/settings.h"

/* ---- pure parts ---- */

int ws_dns_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0, label = 0;
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        char c = name[i];
        if (c == '.' || c == '\0') {
            /* a label: 1..63 characters, no '-' at either end */
            if (label == 0 || label > 63 || name[i - 1] == '-' || name[i - label] == '-')
                return 0;
            label = 0;
        } else if (isalnum((unsigned char)c) || c == '-') {
            label++;
        } else {
            return 0;
        }
    }
    return 1;
}

int ws_dns_in_zone(const char *name, const char *zone)
{
    size_t nl = strlen(name), zl = strlen(zone);
    if (zl == 0 || nl < zl)
        return 0;
    if (nl == zl)
        return strcasecmp(name, zone) == 0;
    return name[nl - zl - 1] == '.' && strcasecmp(name + nl - zl, zone) == 0;
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

int ws_dns_host_entry_parse(const char *entry, char *name, size_t nn, char *address, size_t an, ws_error *e)
{
    const char *eq = entry ? strchr(entry, '=') : NULL;
    if (!eq)
        return ws_seterr(e, "bad hosts entry '%s' (NAME=ADDRESS)", entry ? entry : "");
    char n[256], a[64];
    if ((size_t)(eq - entry) >= sizeof n || strlen(eq + 1) >= sizeof a)
        return ws_seterr(e, "bad hosts entry '%.80s' (too long)", entry);
    snprintf(n, sizeof n, "%.*s", (int)(eq - entry), entry);
    snprintf(a, sizeof a, "%s", eq + 1);
    if (!ws_dns_name_valid(n))
        return ws_seterr(e, "bad name '%s' in hosts entry '%s' (a DNS name: letters, digits, '-' and dots)", n,
                         entry);
    /* The lab's machines live in 127.0.0.0/8: an entry elsewhere would send a lab process
     * off this machine. */
    struct in_addr in;
    if (inet_pton(AF_INET, a, &in) != 1)
        return ws_seterr(e, "bad address '%s' in hosts entry '%s' (an IPv4 address)", a, entry);
    if ((ntohl(in.s_addr) >> 24) != 127)
        return ws_seterr(e, "address '%s' in hosts entry '%s' is outside 127.0.0.0/8, where the lab's machines are",
                         a, entry);
    lower(n);
    snprintf(name, nn, "%s", n);
    snprintf(address, an, "%s", a);
    return 0;
}

int ws_dns_hosts_find(const ws_strv *hosts, const char *name, char *address, size_t n)
{
    size_t len = strlen(name);
    for (int i = 0; i < hosts->n; i++) {
        const char *h = hosts->v[i];
        if (strncasecmp(h, name, len) == 0 && h[len] == '=') {
            snprintf(address, n, "%s", h + len + 1);
            return 0;
        }
    }
    return -1;
}

int ws_dns_list_parse(const char *text, ws_strv *out)
{
    const char *p = text;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len && ws_strv_addf(out, "%.*s", (int)len, p) != 0)
            return -1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

void ws_dns_qualify(const char *name, const char *suffix, char *out, size_t n)
{
    if (strchr(name, '.') || !suffix || !*suffix)
        snprintf(out, n, "%s", name);
    else
        snprintf(out, n, "%s.%s", name, suffix);
}

int ws_dns_host_identifier(const char *mode, const char *name, const char *fqdn, const char *address, char *out,
                           size_t n)
{
    const char *v = strcmp(mode, "FQDN") == 0 ? fqdn : strcmp(mode, "IPv4") == 0 ? address
                                                   : strcmp(mode, "HostName") == 0 ? name : NULL;
    if (!v)
        return -1;
    snprintf(out, n, "%s", v);
    return 0;
}

/* ---- a machine's view ---- */

static int list_setting(ws_state *st, const char *machine, const char *key, ws_strv *out, ws_error *e)
{
    char text[WS_DNS_LIST_TEXT_MAX] = "";
    if (ws_setting_get(st, machine, key, text, sizeof text) != 0)
        return 0;
    if (ws_dns_list_parse(text, out) != 0)
        return ws_seterr(e, "out of memory reading %s's %s", machine, key);
    return 0;
}

int ws_dns_view_get(ws_state *st, const char *machine, ws_dns_view *v, ws_error *e)
{
    memset(v, 0, sizeof *v);
    ws_machine m;
    if (ws_machine_get(st, machine, &m, e) != 0)
        return ws_seterr(e, "unknown machine '%s'", machine);
    snprintf(v->machine, sizeof v->machine, "%s", m.name);
    v->tenant_pc = strcmp(m.role, "client") == 0;
    const char *dot = strchr(m.fqdn, '.');
    snprintf(v->suffix, sizeof v->suffix, "%s", dot ? dot + 1 : "");
    snprintf(v->server, sizeof v->server, "%s", WS_DNS_SERVER_FABRIC);
    if (v->tenant_pc)
        return 0;
    ws_setting_get(st, m.name, WS_SET_DNS_SERVER, v->server, sizeof v->server);
    if (list_setting(st, m.name, WS_SET_DNS_FORWARDERS, &v->forwarders, e) != 0 ||
        list_setting(st, m.name, WS_SET_DNS_HOSTS, &v->hosts, e) != 0) {
        ws_dns_view_free(v);
        return -1;
    }
    return 0;
}

static void join(const ws_strv *l, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < l->n && used < n; i++)
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "," : "", l->v[i]);
}

int ws_dns_view_save(ws_state *st, const ws_dns_view *v, ws_error *e)
{
    if (v->tenant_pc)
        return ws_seterr(e, "%s is the tenant's PC: it resolves through the lab's hosts file", v->machine);
    char fw[WS_DNS_LIST_TEXT_MAX], hosts[WS_DNS_LIST_TEXT_MAX];
    join(&v->forwarders, fw, sizeof fw);
    join(&v->hosts, hosts, sizeof hosts);
    if (ws_setting_set(st, v->machine, WS_SET_DNS_SERVER, v->server, e) != 0 ||
        ws_setting_set(st, v->machine, WS_SET_DNS_FORWARDERS, fw, e) != 0 ||
        ws_setting_set(st, v->machine, WS_SET_DNS_HOSTS, hosts, e) != 0)
        return -1;
    return 0;
}

void ws_dns_view_free(ws_dns_view *v)
{
    ws_strv_free(&v->forwarders);
    ws_strv_free(&v->hosts);
}

void ws_dns_view_summary(const ws_dns_view *v, char *out, size_t n)
{
    char fw[WS_DNS_LIST_TEXT_MAX], hosts[WS_DNS_LIST_TEXT_MAX];
    join(&v->forwarders, fw, sizeof fw);
    join(&v->hosts, hosts, sizeof hosts);
    snprintf(out, n, "server %s; forwarders %s; hosts %s", v->server, fw[0] ? fw : "none",
             hosts[0] ? hosts : "none");
}

/* ---- resolution ---- */

int ws_dns_server_lookup(ws_state *st, const char *server, const char *name, char *address, size_t n)
{
    const char *sql;
    if (strcmp(server, WS_DNS_SERVER_FABRIC) == 0) /* the domain controller's: every FQDN, the public names */
        sql = "SELECT address FROM machines WHERE fqdn = ?1 COLLATE NOCASE OR public_fqdn = ?1 COLLATE NOCASE"
              " ORDER BY name LIMIT 1";
    else if (strcmp(server, WS_DNS_SERVER_DMZ) == 0) /* [model] the DMZ's: the public names only */
        sql = "SELECT address FROM machines WHERE public_fqdn = ?1 COLLATE NOCASE ORDER BY name LIMIT 1";
    else
        return -1;
    char found[64] = "";
    if (ws_state_text(st, found, sizeof found, NULL, sql, 1, name) != 0 || !found[0])
        return -1;
    snprintf(address, n, "%s", found);
    return 0;
}

/* The zone of v's forwarders that holds name, or NULL. */
static const char *forwarded_zone(const ws_dns_view *v, const char *name)
{
    for (int i = 0; i < v->forwarders.n; i++)
        if (ws_dns_in_zone(name, v->forwarders.v[i]))
            return v->forwarders.v[i];
    return NULL;
}

int ws_dns_resolve(ws_state *st, const ws_dns_view *v, const char *name, char *address, size_t n, char *via,
                   size_t vn, ws_error *e)
{
    char q[300], scratch[160];
    if (!via) {
        via = scratch;
        vn = sizeof scratch;
    }
    ws_dns_qualify(name, v->suffix, q, sizeof q);
    /* The hosts file first, as the name was given, then as it is asked for. */
    if (ws_dns_hosts_find(&v->hosts, name, address, n) == 0 || ws_dns_hosts_find(&v->hosts, q, address, n) == 0) {
        snprintf(via, vn, "hosts file");
        return 0;
    }
    const char *zone = strcmp(v->server, WS_DNS_SERVER_DMZ) == 0 ? forwarded_zone(v, q) : NULL;
    if (zone) {
        if (ws_dns_server_lookup(st, WS_DNS_SERVER_FABRIC, q, address, n) == 0) {
            snprintf(via, vn, "DNS server %s, conditional forwarder %s -> fabric", v->server, zone);
            return 0;
        }
        return ws_seterr(e, "%s (WSAHOST_NOT_FOUND %d): %s asked for %s; its DNS server (%s) forwards %s to the "
                            "fabric's DNS, which has no record of it",
                         WS_DNS_NOT_FOUND_TEXT, WS_DNS_WSAHOST_NOT_FOUND, v->machine, q, v->server, zone);
    }
    if (ws_dns_server_lookup(st, v->server, q, address, n) == 0) {
        snprintf(via, vn, "DNS server %s", v->server);
        return 0;
    }
    const char *why = strcmp(v->server, WS_DNS_SERVER_NONE) == 0 ? "it has no DNS server"
                      : strcmp(v->server, WS_DNS_SERVER_DMZ) == 0
                          ? "its DNS server (dmz) holds the public names only and forwards no zone holding it"
                          : "its DNS server (fabric) has no record of it";
    return ws_seterr(e, "%s (WSAHOST_NOT_FOUND %d): %s asked for %s; not in its hosts file, and %s",
                     WS_DNS_NOT_FOUND_TEXT, WS_DNS_WSAHOST_NOT_FOUND, v->machine, q, why);
}
