/* SPDX-License-Identifier: Apache-2.0 */
/* diag_dns: can each RD Gateway resolve the hosts (issue 14, pitfall 5)?
 *
 * A gateway opens the channel to the name VMM put in full address (by
 * VMConnectHostIdentificationMode), resolved through the gateway machine's own view
 * (lab/dns.h; gateway/tunnel.c asks ws_lab_resolve as itself). A gateway in a DMZ whose
 * DNS holds the public names only cannot resolve hv01.fabric.contoso.local: every channel
 * to that host fails with event 304 and E_PROXY_TS_CONNECTFAILED, and Remote Desktop
 * Connection reports 50331656 [model: the disconnect reason of that status]. The field's
 * two repairs (marcvaneijk.com 2014/01/05, "Windows Azure Pack Remote Console with the RD
 * gateway in a DMZ"): a DNS conditional forwarder from the DMZ domain to the management
 * domain (and DNS allowed through the firewall), or IP identification mode, which needs
 * only TCP 2179 but then meets the host's certificate, which names the FQDN (0x607: the
 * host-cert-name-mismatch finding and its repair). A hosts entry that sends a host's name
 * to another address fails the same way (the connect is refused), and is reported here
 * too. One finding per gateway, naming each host it cannot reach by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/net.h"
#include "lab/dns.h"
#include "lab/lab.h"
#include "lab/settings.h"
#include "train/diagnose_int.h"

/* The zone holding a qualified name: what follows its first dot ("" for none). */
static const char *zone_of(const char *qualified)
{
    const char *dot = strchr(qualified, '.');
    return dot ? dot + 1 : "";
}

static void fix_lines(diag *g, ws_finding *f, const ws_dns_view *v, const ws_strv *zones, const ws_strv *stale)
{
    for (int i = 0; i < stale->n; i++) /* "name=address of the host" */
        ws_diag_fix(f, "wapsim dns set %s --add-host %s", v->machine, stale->v[i]);
    if (strcmp(v->server, WS_DNS_SERVER_DMZ) == 0) {
        for (int i = 0; i < zones->n; i++)
            ws_diag_fix(f, "wapsim dns set %s --add-forwarder %s", v->machine, zones->v[i]);
        for (int i = 0; i < zones->n; i++)
            ws_diag_fix(f, "PowerShell: on the DMZ's DNS server, Add-DnsServerConditionalForwarderZone -Name %s "
                           "-MasterServers <the fabric's DNS servers>; and allow DNS (53) from the DMZ to them",
                        zones->v[i]);
    } else if (zones->n) {
        ws_diag_fix(f, "wapsim dns set %s --server %s", v->machine, WS_DNS_SERVER_FABRIC);
        ws_diag_fix(f, "PowerShell: Set-DnsClientServerAddress -InterfaceAlias <its adapter> -ServerAddresses "
                       "<the fabric's DNS servers>   # on %s",
                    v->machine);
    }
    if (zones->n && g->have_vmm)
        ws_diag_fix(f, "Or: wapsim vmm set --host-id-mode IPv4   # (Set-SCVMMServer -VMConnectHostIdentificationMode "
                       "IPv4 on %s) the gateway then needs only TCP 2179 to the hosts' addresses, but each host's "
                       "certificate must carry its address (an IP SAN), else 0x607: diagnose then reports "
                       "host-cert-name-mismatch with its repair",
                    g->vmm.fqdn);
}

/* Every host gw must reach, by the name in the .rdp files: one finding for those it cannot. */
static void check_gateway(diag *g, const ws_machine *gw, const char *mode)
{
    ws_dns_view v;
    ws_error e;
    if (ws_dns_view_get(g->st, gw->name, &v, &e) != 0)
        return;
    ws_diag_checked(g, "%s resolves the hosts' names (%s mode)", gw->name, mode);
    ws_strv zones = {0}, stale = {0}, lines = {0};
    for (int i = 0; i < g->nmachines; i++) {
        const ws_machine *h = &g->machines[i];
        char name[256], address[64], q[300];
        if (strcmp(h->role, "host") != 0 || !ws_diag_host_selected(g, h->name) ||
            ws_dns_host_identifier(mode, h->name, h->fqdn, h->address, name, sizeof name) != 0 ||
            ws_is_ip_literal(name))
            continue;
        ws_dns_qualify(name, v.suffix, q, sizeof q);
        if (ws_lab_resolve(g->st, gw->name, name, address, sizeof address, &e) != 0) {
            ws_strv_addf(&lines, "%s (%s): %s.", name, h->name, e.msg);
            if (!ws_strv_has(&zones, zone_of(q)) && zone_of(q)[0])
                ws_strv_add(&zones, zone_of(q));
        } else if (strcmp(address, h->address) != 0) {
            ws_strv_addf(&lines, "%s (%s) resolves to %s, but %s is at %s: the connection goes elsewhere.", name,
                         h->name, address, h->name, h->address);
            /* The entry that answered (the name as given is read first), at the host's address. */
            char ignored[64];
            int as_given = ws_dns_hosts_find(&v.hosts, name, ignored, sizeof ignored) == 0;
            if (as_given || ws_dns_hosts_find(&v.hosts, q, ignored, sizeof ignored) == 0)
                ws_strv_addf(&stale, "%s=%s", as_given ? name : q, h->address);
        }
    }
    if (lines.n) {
        char summary[WS_DNS_SUMMARY_MAX];
        ws_dns_view_summary(&v, summary, sizeof summary);
        ws_finding *f = ws_diag_add(g, WS_DIAG_GATEWAY_CANNOT_RESOLVE_HOST, gw->name, WS_DIAG_ERROR,
                                    "%s cannot reach %d host%s by the name%s the .rdp files give %s.", gw->name,
                                    lines.n, lines.n == 1 ? "" : "s", lines.n == 1 ? "" : "s",
                                    lines.n == 1 ? "it" : "them");
        ws_diag_evidence(f, "VMConnectHostIdentificationMode %s; %s resolves through: %s (wapsim dns show %s).", mode,
                         gw->name, summary, gw->name);
        for (int i = 0; i < lines.n; i++)
            ws_diag_evidence(f, "%s", lines.v[i]);
        ws_diag_evidence(f, "Each console channel to such a host fails: event 304 on %s (E_PROXY_TS_CONNECTFAILED), "
                            "50331656 at the client.",
                         gw->name);
        fix_lines(g, f, &v, &zones, &stale);
    }
    ws_strv_free(&zones);
    ws_strv_free(&stale);
    ws_strv_free(&lines);
    ws_dns_view_free(&v);
}

void ws_diag_check_dns(diag *g)
{
    if (!g->have_vmm)
        return;
    char mode[16] = "FQDN";
    ws_setting_get(g->st, g->vmm.name, WS_SET_VMM_HOST_ID_MODE, mode, sizeof mode);
    for (int i = 0; i < g->nmachines; i++)
        if (strcmp(g->machines[i].role, "gateway") == 0)
            check_gateway(g, &g->machines[i], mode);
}
