/* SPDX-License-Identifier: Apache-2.0 */
/* dns: how each machine of the lab resolves a name (issue 14, pitfall 5).
 *
 * A machine resolves through its own view: its hosts file first (Windows reads
 * %SystemRoot%\System32\drivers\etc\hosts before asking DNS), then its DNS server. The
 * lab has two DNS servers [model]:
 *   fabric  the fabric's DNS (the domain controller's): every machine's FQDN and the
 *           public names;
 *   dmz     a DMZ's DNS: the public names only (portal.contoso.com, rdgw.contoso.com).
 * A view may also list conditional forwarders, zones its server forwards to the fabric's
 * DNS: what Add-DnsServerConditionalForwarderZone configures on the DMZ's DNS server
 * (the field's repair for a gateway in a DMZ, marcvaneijk.com 2014/01/05: "The RD
 * Gateway is not able to resolve the Hyper-V hosts based on FQDN without a DNS
 * conditional forwarder from the DMZ domain to the management domain"). [model] The lab
 * keeps the forwarders in the view of each machine that uses the server, not on a
 * server object. A name without a dot is tried with the machine's primary DNS suffix
 * (the domain of its FQDN) [model: Windows' suffix search, reduced to one suffix].
 *
 * The default lab: every machine of the fabric uses the fabric's DNS, no forwarder, an
 * empty hosts file; the tenant's PC (role client) resolves through the lab's `hosts`
 * file only (lab.h, ws_lab_hosts_lookup) and has no view to change. A view lives in the
 * settings table, scope = the machine (WS_SET_DNS_*); nothing here is freed but the
 * view's lists (ws_dns_view_free). */
#ifndef WAPSIM_DNS_H
#define WAPSIM_DNS_H

#include <stddef.h>

#include "base/buf.h"
#include "lab/state.h"

#define WS_DNS_SERVER_FABRIC "fabric"
#define WS_DNS_SERVER_DMZ "dmz"
#define WS_DNS_SERVER_NONE "none"

/* Settings (scope: the machine). Absent: the default view above. */
#define WS_SET_DNS_SERVER "dns_server"         /* WS_DNS_SERVER_* */
#define WS_SET_DNS_FORWARDERS "dns_forwarders" /* "zone,zone": forwarded to the fabric's DNS */
#define WS_SET_DNS_HOSTS "dns_hosts"           /* "name=address,name=address": its hosts file */

#define WS_DNS_MAX_ENTRIES 32 /* forwarders, and hosts entries, per machine */
/* A list as one text (32 entries of a 253-character name and an address fit), and a summary of a view. */
#define WS_DNS_LIST_TEXT_MAX 10240
#define WS_DNS_SUMMARY_MAX (2 * WS_DNS_LIST_TEXT_MAX + 64)

/* WSAHOST_NOT_FOUND (Windows Sockets error codes): what a lookup that finds nothing
 * returns on Windows, and its text. */
#define WS_DNS_WSAHOST_NOT_FOUND 11001
#define WS_DNS_NOT_FOUND_TEXT "No such host is known"

typedef struct ws_dns_view {
    char machine[64];
    int tenant_pc;    /* 1: the tenant's PC, the lab's hosts file only (the rest is unused) */
    char server[16];  /* WS_DNS_SERVER_* */
    char suffix[256]; /* primary DNS suffix: "fabric.contoso.local" for rdgw01 ("" for none) */
    ws_strv forwarders; /* zones, lower case, in the order added */
    ws_strv hosts;      /* "name=address", name lower case, in the order added */
} ws_dns_view;

/* ---- pure parts (no lab) ---- */

/* 1 when name is a DNS name: 1..253 characters, dot-separated labels of 1..63 letters,
 * digits and '-', not starting or ending with '-'. */
int ws_dns_name_valid(const char *name);
/* 1 when name is zone or inside it ("hv01.fabric.contoso.local" in "contoso.local"),
 * case-insensitively. */
int ws_dns_in_zone(const char *name, const char *zone);
/* One hosts entry, "NAME=ADDRESS": NAME a DNS name (lowered into name), ADDRESS an IPv4
 * address in 127.0.0.0/8 (where the lab's machines live). 0, or -1 with e naming the
 * bad part. */
int ws_dns_host_entry_parse(const char *entry, char *name, size_t nn, char *address, size_t an, ws_error *e);
/* The address of name in hosts ("name=address" entries): 0, or -1. */
int ws_dns_hosts_find(const ws_strv *hosts, const char *name, char *address, size_t n);
/* "a,b,c" -> entries appended to out (empty parts skipped): 0, or -1 out of memory. */
int ws_dns_list_parse(const char *text, ws_strv *out);
/* The name a query asks for: name as given when it has a dot, else name.suffix (as
 * given when suffix is empty). */
void ws_dns_qualify(const char *name, const char *suffix, char *out, size_t n);

/* The name VMM's .rdp files give a host in full address (vmm/issue.c), by
 * VMConnectHostIdentificationMode (REFERENCE.md section 2): FQDN its fqdn, IPv4 its
 * address, HostName its name; 0, or -1 for another mode (IPv6: the lab's machines have
 * no IPv6 address). What a gateway must resolve, and what the host's certificate must name. */
int ws_dns_host_identifier(const char *mode, const char *name, const char *fqdn, const char *address, char *out,
                           size_t n);

/* ---- a machine's view ---- */

/* machine's view (the default when it has no settings): 0, or -1 with e naming an
 * unknown machine. The caller frees it with ws_dns_view_free. */
int ws_dns_view_get(ws_state *st, const char *machine, ws_dns_view *v, ws_error *e);
/* Writes v's server, forwarders and hosts as machine's settings (not for the tenant's
 * PC). Run it inside the caller's transaction. 0, or -1 with e set. */
int ws_dns_view_save(ws_state *st, const ws_dns_view *v, ws_error *e);
void ws_dns_view_free(ws_dns_view *v);
/* One line describing v: "server dmz; forwarders fabric.contoso.local; hosts hv01.fabric.contoso.local=127.1.2.15". */
void ws_dns_view_summary(const ws_dns_view *v, char *out, size_t n);

/* The answer of a DNS server (WS_DNS_SERVER_*) for a fully qualified name: 0 with its
 * address, or -1 (no record; "none" has none). */
int ws_dns_server_lookup(ws_state *st, const char *server, const char *name, char *address, size_t n);

/* name as v resolves it (not the tenant's PC's view: the lab's hosts file is lab.h's):
 * the hosts file, then the server, or a conditional forwarder for a zone holding the
 * name. 0 with the address and, in via (vn bytes, may be NULL), how it was found
 * ("hosts file", "DNS server dmz, conditional forwarder fabric.contoso.local -> fabric");
 * -1 with e saying who cannot resolve which name and why, WSAHOST_NOT_FOUND's text
 * first. An address literal is not a name: ws_lab_resolve never asks for one. */
int ws_dns_resolve(ws_state *st, const ws_dns_view *v, const char *name, char *address, size_t n, char *via,
                   size_t vn, ws_error *e);

#endif
