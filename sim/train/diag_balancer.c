/* SPDX-License-Identifier: Apache-2.0 */
/* diag_balancer: a load balancer in front of the RD Gateways (a machine of role
 * balancer, e.g. lb01), and the two faults that come from its own configuration
 * rather than from a member's:
 *
 *   balancer-tls-offload  the balancer terminates TLS and opens plain connections to
 *                         members whose port speaks TLS only. MS-TSGU 2.1.2 allows a
 *                         reverse proxy to reach the RD Gateway over plain HTTP only on
 *                         the gateway's HTTP binding (RD Gateway Manager: SSL Bridging,
 *                         HTTPS-HTTP; Win32_TSGatewayServerSettings.SetSslBridging(1));
 *                         on the TLS port the gateway's Schannel refuses the bytes (event
 *                         36888). Found as an administrator finds it: a plain HTTP request
 *                         from the balancer's address to each member's port gets no HTTP
 *                         answer.
 *   balancer-no-affinity  the balancer places each connection on its own (round robin).
 *                         The legacy HTTP transport is two connections, RDG_OUT_DATA and
 *                         RDG_IN_DATA, paired by RDG-Connection-Id inside one gateway
 *                         (REFERENCE.md sections 7 and 9): split across members, the IN's
 *                         gateway logs event 210 "IN channel could not find a corresponding
 *                         OUT channel" [field: sevecek.com, "RD Gateway error event 210
 *                         caused by NLB configured with no affinity"; workinghardinit.work
 *                         2015: DNS round robin cannot keep the two HTTP channels on one
 *                         gateway]. The websocket transport is one connection and does not
 *                         care, so without affinity this is a warning (clients that fall
 *                         back to legacy will fail), and an error once a member has logged
 *                         event 210: split pairs seen. */
#include "train/diagnose_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/net.h"
#include "crypto/tls.h"
#include "lab/balancer.h"
#include "lab/eventlog.h"
#include "lab/settings.h"

#define MAX_MEMBERS WS_LB_MAX_MEMBERS

typedef struct balancer {
    const ws_machine *m;
    char mode[32], affinity[32], reencrypt[8], members_text[WS_LB_MAX_MEMBERS * 65], cert[128];
    char members[MAX_MEMBERS][64];
    int nmembers;
} balancer;

/* The balancer's settings as the balancer itself loads them (lab/balancer.h); settings it
 * could not start with leave an appliance's defaults (tcp, no affinity). */
static void read_balancer(diag *g, const ws_machine *m, balancer *b)
{
    memset(b, 0, sizeof *b);
    b->m = m;
    ws_lb_config c = {.mode = WS_LB_MODE_TCP, .affinity = WS_LB_AFFINITY_NONE};
    ws_error e;
    if (ws_lb_config_load(g->st, m->name, &c, &e) != 0)
        c = (ws_lb_config){.mode = WS_LB_MODE_TCP, .affinity = WS_LB_AFFINITY_NONE};
    snprintf(b->mode, sizeof b->mode, "%s", ws_lb_mode_name(c.mode));
    snprintf(b->affinity, sizeof b->affinity, "%s", ws_lb_affinity_name(c.affinity));
    snprintf(b->reencrypt, sizeof b->reencrypt, "%s", c.reencrypt ? "1" : "");
    snprintf(b->cert, sizeof b->cert, "%s", c.cert);
    ws_lb_members_join(&c, b->members_text, sizeof b->members_text);
    for (int i = 0; i < c.n_members && b->nmembers < MAX_MEMBERS; i++)
        snprintf(b->members[b->nmembers++], sizeof b->members[0], "%s", c.members[i]);
}

/* ---- balancer-tls-offload ---- */

/* A plain HTTP request from the balancer's address to member's port, as `curl
 * http://member:port/remoteDesktopGateway/` run on the balancer: 1 when an HTTP answer
 * came (the port serves plain HTTP), 0 when not, with what happened instead in what
 * ("the connection was reset", "a TLS record 15 03 03 00 02 02 46"). */
static int plain_http_answers(diag *g, const balancer *b, const ws_machine *member, char *what, size_t n)
{
    ws_error e;
    int fd = ws_tcp_connect_from(b->m->address, member->address, member->port, g->timeout_ms, WS_TCP_IO_TIMEOUT, &e);
    if (fd < 0) {
        snprintf(what, n, "no connection: %s", e.msg);
        return 0;
    }
    char req[512];
    int len = snprintf(req, sizeof req,
                       "GET /remoteDesktopGateway/ HTTP/1.1\r\nHost: %s\r\nUser-Agent: wapsim-diagnose\r\n"
                       "Connection: close\r\n\r\n",
                       member->fqdn);
    uint8_t got[64];
    ssize_t r = -1;
    if (send(fd, req, (size_t)len, MSG_NOSIGNAL) == len)
        r = recv(fd, got, sizeof got, 0);
    close(fd);
    if (r >= 7 && memcmp(got, "HTTP/1.", 7) == 0) {
        snprintf(what, n, "an HTTP answer");
        return 1;
    }
    char bytes[120];
    if (r > 0)
        snprintf(what, n, "%s %s", ws_tls_is_record(got, (size_t)r) ? "a TLS record" : "bytes",
                 ws_tls_bytes_text(got, (size_t)r, bytes, sizeof bytes));
    else
        snprintf(what, n, "the connection %s", r == 0 ? "closed" : "was reset");
    return 0;
}

typedef struct count_arg {
    int event_id;
    const char *needle; /* NULL: any text */
    int n;
} count_arg;

static int count_one(const ws_event_rec *rec, void *arg)
{
    count_arg *c = arg;
    if (rec->event_id == c->event_id && (!c->needle || strstr(rec->text, c->needle)))
        c->n++;
    return 0;
}

/* How many events event_id machine wrote on channel (whose text holds needle, if given). */
static int count_events(diag *g, const char *machine, const char *channel, int event_id, const char *needle)
{
    ws_event_filter f = {.machine = machine, .channel = channel};
    count_arg c = {.event_id = event_id, .needle = needle};
    ws_error e;
    ws_event_foreach(g->st, &f, count_one, &c, &e);
    return c.n;
}

static void check_offload(diag *g, const balancer *b)
{
    if (strcmp(b->mode, "tls-offload") != 0 || strcmp(b->reencrypt, "1") == 0)
        return;
    const char *lb = b->m->name;
    char peer[80];
    snprintf(peer, sizeof peer, "Peer %s sent", b->m->address);
    ws_finding *f = NULL;
    for (int i = 0; i < b->nmembers; i++) {
        const ws_machine *mm = ws_diag_machine_named(g, b->members[i]);
        if (!mm || ws_diag_machine_down(g, mm->name))
            continue; /* a member that is not running is its own finding (process-down) */
        int seen = count_events(g, mm->name, WS_CHANNEL_SYSTEM, 36888, peer); /* before the probe adds one */
        char what[200];
        if (plain_http_answers(g, b, mm, what, sizeof what))
            continue;
        if (!f) {
            f = ws_diag_add(g, WS_DIAG_BALANCER_TLS_OFFLOAD, lb, WS_DIAG_ERROR,
                            "%s terminates TLS and forwards plain HTTP to members that speak only TLS: every "
                            "connection through it fails",
                            lb);
            ws_diag_evidence(f, "%s: mode tls-offload, its own certificate %s, no re-encryption to the members (%s).",
                             lb, b->cert[0] ? b->cert : "(none bound)", b->members_text);
        }
        ws_diag_evidence(f,
                         "A plain HTTP request from %s (%s) to %s's port %s:%d got no HTTP answer (%s): that port "
                         "speaks TLS only. "
                         "%s's System log holds %d Schannel event%s 36888 (a fatal alert for bytes that are not "
                         "TLS) from %s.",
                         lb, b->m->address, mm->name, mm->address, mm->port, what, mm->name, seen, seen == 1 ? "" : "s",
                         b->m->address);
    }
    if (!f)
        return;
    ws_diag_fix(f, "wapsim fabric set-balancer %s --reencrypt", lb);
    ws_diag_fix(f, "Or: wapsim fabric set-balancer %s --mode tcp   (TLS passed through: the members terminate it)", lb);
    ws_diag_fix(f, "Appliance: re-encrypt to the members (a server-side SSL profile; HTTPS-HTTPS bridging), or "
                   "layer-4 pass-through of TCP 443 to the members");
    ws_diag_fix(f, "PowerShell: (Get-WmiObject -Namespace root\\cimv2\\TerminalServices -Class "
                   "Win32_TSGatewayServerSettings).SetSslBridging(2); Restart-Service TSGateway   # HTTPS-HTTPS "
                   "bridging on each member (RD Gateway Manager: Properties, SSL Bridging); SetSslBridging(1) "
                   "(HTTPS-HTTP) with the appliance sent to the members' HTTP binding instead");
}

/* ---- balancer-no-affinity ---- */

static void check_affinity(diag *g, const balancer *b)
{
    if (strcmp(b->affinity, "none") != 0 || b->nmembers < 2)
        return;
    const char *lb = b->m->name;
    int split = 0;
    char where[400] = "";
    for (int i = 0; i < b->nmembers; i++) {
        int n = count_events(g, b->members[i], WS_CHANNEL_GATEWAY_ADMIN, 210, NULL);
        if (n) {
            size_t used = strlen(where);
            snprintf(where + used, sizeof where - used, "%s%s %d", used ? ", " : "", b->members[i], n);
            split += n;
        }
    }
    ws_finding *f;
    if (split)
        f = ws_diag_add(g, WS_DIAG_BALANCER_NO_AFFINITY, lb, WS_DIAG_ERROR,
                        "%s balances each connection on its own: legacy HTTP transport clients fail, their "
                        "RDG_OUT_DATA and RDG_IN_DATA reach different gateways",
                        lb);
    else
        f = ws_diag_add(g, WS_DIAG_BALANCER_NO_AFFINITY, lb, WS_DIAG_WARNING,
                        "%s balances each connection on its own: clients on the legacy HTTP transport will fail "
                        "when their two connections reach different gateways (websocket clients do not care)",
                        lb);
    ws_diag_evidence(f, "%s: mode %s, affinity none, members %s.", lb, b->mode, b->members_text);
    if (split)
        ws_diag_evidence(f,
                         "TerminalServices-Gateway/Admin event 210 (\"IN channel could not find a corresponding OUT "
                         "channel\"): %s. Each is a legacy client whose RDG_IN_DATA went to another member than its "
                         "RDG_OUT_DATA.",
                         where);
    else
        ws_diag_evidence(f, "No member has logged event 210 yet: no split legacy pair seen.");
    ws_diag_fix(f, "wapsim fabric set-balancer %s --affinity source-ip", lb);
    ws_diag_fix(f, "Appliance: persistence by source address on the RD Gateway virtual service (NLB: Affinity "
                   "Single; KEMP LoadMaster: Source IP), so that both HTTP channels of a client reach one member");
}

void ws_diag_check_balancer(diag *g)
{
    for (int i = 0; i < g->nmachines; i++) {
        if (strcmp(g->machines[i].role, "balancer") != 0)
            continue;
        balancer b;
        read_balancer(g, &g->machines[i], &b);
        ws_diag_checked(g, "balancer %s: mode %s%s, affinity %s, members %s", b.m->name, b.mode,
                        strcmp(b.reencrypt, "1") == 0 ? " (re-encrypting)" : "", b.affinity,
                        b.members_text[0] ? b.members_text : "(none)");
        if (ws_diag_machine_down(g, b.m->name))
            continue; /* process-down says it */
        check_offload(g, &b);
        check_affinity(g, &b);
    }
}
