/* SPDX-License-Identifier: Apache-2.0 */
/* gen_faults: the generator's fault table (train/generate.h). One row per mistake id:
 * the levels it may be drawn at, its level-3 group, and a function that writes the
 * breaking steps and the repair with the same operator commands as the shipped
 * scenario of that name (scenarios/<id>-*.scn, scenarios/exercises/l2-*, l3-*), with
 * the parameters the seed chooses. What a fault writes is only commands: the symptom
 * and diagnose's finding come from the lab's own checks.
 *
 * p3 (the legacy transport through a balancer without affinity) is not generated:
 * `exercise check` and the ticket connect with the default transport (websocket),
 * which that fault does not touch, so such an exercise would be solved before any
 * repair. The catalogue keeps its two scenarios. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "train/gen_int.h"

#define B(...) ws_buf_addf(&c->brk, "step " __VA_ARGS__)
#define R(...) ws_buf_addf(&c->rep, "step " __VA_ARGS__)

#define L1 (1u << 1)
#define L2 (1u << 2)
#define L3 (1u << 3)

/* f's finding, machine and first parameter "key=value". */
static void set_fault(ws_gen_fault *f, const char *finding, const char *machine, const char *key, const char *value)
{
    snprintf(f->finding, sizeof f->finding, "%s", finding);
    snprintf(f->machine, sizeof f->machine, "%s", machine);
    snprintf(f->params, sizeof f->params, "%s=%s", key, value);
}

static void title(gen_ctx *c, const char *text)
{
    ws_buf_addf(&c->title, "%s%s", ws_buf_len(&c->title) ? "; " : "", text);
}

/* A certificate name as an administrator makes one: "console-2027", "rdgw-renewed-0312". */
static void cert_name(gen_ctx *c, const char *prefix, char *out, size_t n)
{
    if (gen_below(c, 3) == 0)
        snprintf(out, n, "%s-%d", prefix, 2027 + gen_below(c, 3));
    else
        snprintf(out, n, "%s-%02d%02d", prefix, 1 + gen_below(c, 12), 1 + gen_below(c, 28));
}

/* Level 1: the first host; level 2: another one ("one host"); level 3: any. */
static const char *pick_host(gen_ctx *c)
{
    if (c->level == 1 || c->nhosts < 2)
        return c->hosts[0];
    if (c->level == 2)
        return c->hosts[1 + gen_below(c, c->nhosts - 1)];
    return c->hosts[gen_below(c, c->nhosts)];
}

static const char *pick_member(gen_ctx *c)
{
    return gen_below(c, 2) ? "rdgw02" : "rdgw03";
}

static const char *any_vm(gen_ctx *c)
{
    return c->vms[gen_below(c, c->nvms)].name;
}

static const char *tenant_of(gen_ctx *c, const char *vm)
{
    for (int i = 0; i < c->nvms; i++)
        if (strcmp(c->vms[i].name, vm) == 0)
            return c->vms[i].tenant;
    return "";
}

/* A new console certificate, configured the way the field guides say (every step but
 * the host restarts); csp NULL: the AES provider. */
static void new_console_cert(gen_ctx *c, ws_buf *b, const char *name, const char *csp, int tell_gateway)
{
    const char *p = csp ? csp : "Microsoft Enhanced RSA and AES Cryptographic Provider";
    ws_buf_addf(b, "step cert new %s --subject \"CN=Remote Console Connect\" --self-signed --eku clientAuth "
                   "--key-usage digitalSignature --csp \"%s\" --days 365\n", name, p);
    ws_buf_addf(b, "step cert import %s --machine %s --store My\n", name, c->vmm);
    for (int i = 0; i < c->nhosts; i++)
        ws_buf_addf(b, "step cert import %s --machine %s --store Root --public-only\n", name, c->hosts[i]);
    ws_buf_addf(b, "step cert import %s --machine %s --store My --public-only\n", name, c->gateway);
    ws_buf_addf(b, "step cert import %s --machine %s --store Root --public-only\n", name, c->gateway);
    if (tell_gateway)
        ws_buf_addf(b, "step gateway set --add-trusted-issuer %s\n", name);
    ws_buf_addf(b, "step vmm set --gateway-cert %s --hyperv-cert %s\n", name, name);
    ws_buf_addf(b, "step vmm refresh-host --all\n");
}

static void restart_hosts_but(gen_ctx *c, ws_buf *b, const char *skip)
{
    ws_buf line;
    ws_buf_init(&line, 1024);
    for (int i = 0; i < c->nhosts; i++)
        if (!skip || strcmp(c->hosts[i], skip) != 0)
            ws_buf_addf(&line, " %s", c->hosts[i]);
    if (ws_buf_len(&line))
        ws_buf_addf(b, "step service restart%s\n", ws_buf_str(&line));
    ws_buf_free(&line);
}

/* A member gateway joins the farm behind lb01 (tcp, no affinity), configured right but
 * for with_issuer == 0 (p1: its trusted issuers left empty). */
static void add_member(gen_ctx *c, const char *m, int with_issuer)
{
    B("fabric add-gateway %s\n", m);
    B("cert import %s --machine %s --store My\n", c->gwcert, m);
    B("cert import %s --machine %s --store My --public-only\n", c->console, m);
    B("cert import %s --machine %s --store Root --public-only\n", c->console, m);
    if (with_issuer)
        B("gateway set --machine %s --ssl-cert %s --add-trusted-issuer %s\n", m, c->gwcert, c->console);
    else
        B("gateway set --machine %s --ssl-cert %s\n", m, c->gwcert);
    B("service restart %s\n", m);
    B("fabric add-balancer lb01 --members %s,%s --mode tcp --affinity none --fqdn %s\n", c->gateway, m,
      c->public_fqdn);
    c->uses_balancer = 1;
}

/* ---- mistake 1: the VMM certificate on a host ---- */

static void m1a(gen_ctx *c, ws_gen_fault *f)
{
    const char *h = pick_host(c);
    B("cert remove %s --machine %s --store My\n", c->console, h);
    R("cert import %s --machine %s --store My --public-only\n", c->console, h);
    R("vmm refresh-host %s\n", h);
    set_fault(f, "vmm-cert-not-in-host-my", h, "host", h);
    ws_buf_addf(&c->title, "%sThe VMM certificate is missing from %s's Personal store", ws_buf_len(&c->title) ? "; " : "", h);
    ws_buf_addf(&c->doc, "The VMM certificate %s was removed from %s's LocalMachine\\My: VMM will not hand out "
                         "tokens for VMs on that host (event 12003). Import it again and refresh the host. ",
                c->console, h);
}

static void m1b(gen_ctx *c, ws_gen_fault *f)
{
    const char *h = pick_host(c);
    B("cert remove %s --machine %s --store Root\n", c->console, h);
    R("cert import %s --machine %s --store Root --public-only\n", c->console, h);
    set_fault(f, "vmm-cert-not-trusted-on-host", h, "host", h);
    ws_buf_addf(&c->title, "%sThe self-signed VMM certificate is not trusted on %s", ws_buf_len(&c->title) ? "; " : "", h);
    ws_buf_addf(&c->doc, "The self-signed VMM certificate %s was removed from %s's LocalMachine\\Root: the host "
                         "cannot build its chain (event 12003). Import it into Trusted Root again. ",
                c->console, h);
}

/* ---- mistake 2: a provider without SHA-256 (crypto/csp.c's PROV_RSA_FULL rows) ---- */

static void m2(gen_ctx *c, ws_gen_fault *f)
{
    static const char *const full[] = {"Microsoft Base Cryptographic Provider v1.0",
                                       "Microsoft Enhanced Cryptographic Provider v1.0",
                                       "Microsoft Strong Cryptographic Provider"};
    const char *csp = full[gen_below(c, 3)];
    char bad[GEN_NAME], good[GEN_NAME];
    cert_name(c, "console", bad, sizeof bad);
    do
        cert_name(c, "console-aes", good, sizeof good);
    while (strcmp(good, bad) == 0);
    new_console_cert(c, &c->brk, bad, csp, 1);
    restart_hosts_but(c, &c->brk, NULL);
    new_console_cert(c, &c->rep, good, NULL, 1);
    restart_hosts_but(c, &c->rep, NULL);
    set_fault(f, "vmm-cert-csp", c->vmm, "csp", csp);
    snprintf(f->params + strlen(f->params), sizeof f->params - strlen(f->params), " cert=%s", bad);
    title(c, "The new VMM certificate's key is in a provider without SHA-256");
    ws_buf_addf(&c->doc, "The new console certificate %s was made with \"%s\" (PROV_RSA_FULL), which cannot sign "
                         "SHA-256: VMM fails with Invalid algorithm specified. Issue one with the Enhanced RSA and "
                         "AES provider (%s here) and configure it the same way. ",
                bad, csp, good);
    snprintf(c->console, sizeof c->console, "%s", bad);
}

/* ---- mistake 3: the gateway's trusted issuers; its certificate not reloaded ---- */

static void m3a(gen_ctx *c, ws_gen_fault *f)
{
    if (c->level == 2) { /* a new console certificate; the gateway never told */
        char name[GEN_NAME];
        cert_name(c, "console", name, sizeof name);
        new_console_cert(c, &c->brk, name, NULL, 0);
        restart_hosts_but(c, &c->brk, NULL);
        R("gateway set --add-trusted-issuer %s\n", name);
        set_fault(f, "gateway-issuer-not-trusted", c->gateway, "cert", name);
        title(c, "A new VMM console certificate whose thumbprint the gateway was never given");
        ws_buf_addf(&c->doc, "The console certificate was replaced by %s and every step done but one: its "
                             "thumbprint is not in %s's FedAuthSettings.TrustedIssuerCertificates (event 201). ",
                    name, c->gateway);
        snprintf(c->console, sizeof c->console, "%s", name);
        return;
    }
    B("gateway set --remove-trusted-issuer %s\n", c->console);
    R("gateway set --add-trusted-issuer %s\n", c->console);
    set_fault(f, "gateway-issuer-not-trusted", c->gateway, "gateway", c->gateway);
    title(c, "The gateway does not trust the VMM certificate's thumbprint");
    ws_buf_addf(&c->doc, "%s's TrustedIssuerCertificates lost the thumbprint of %s: the gateway rejects every "
                         "cookie (50331701, event 201). Register it again. ",
                c->gateway, c->console);
}

static void m3b(gen_ctx *c, ws_gen_fault *f)
{
    char short_lived[GEN_NAME], renewed[GEN_NAME];
    cert_name(c, "rdgw", short_lived, sizeof short_lived);
    do
        cert_name(c, "rdgw-renewed", renewed, sizeof renewed);
    while (strcmp(renewed, short_lived) == 0);
    const char *g = c->gateway, *vm = any_vm(c);
    B("cert new %s --subject CN=%s --san DNS:%s --eku serverAuth --key-usage digitalSignature,keyEncipherment "
      "--issuer lab-root-ca --days 30\n", short_lived, c->public_fqdn, c->public_fqdn);
    B("cert import %s --machine %s --store My\n", short_lived, g);
    B("gateway set --machine %s --ssl-cert %s\n", g, short_lived);
    B("service restart %s\n", g);
    B("connect --tenant %s --vm %s\n", tenant_of(c, vm), vm);
    B("clock advance %dd\n", 31 + gen_below(c, 10));
    B("cert new %s --subject CN=%s --san DNS:%s --eku serverAuth --key-usage digitalSignature,keyEncipherment "
      "--issuer lab-root-ca --days 365\n", renewed, c->public_fqdn, c->public_fqdn);
    B("cert import %s --machine %s --store My\n", renewed, g);
    B("gateway set --machine %s --ssl-cert %s\n", g, renewed);
    R("service restart %s\n", g);
    gen_keep(c, g);
    set_fault(f, "gateway-cert-stale", g, "cert", renewed);
    title(c, "The gateway certificate was renewed but the gateway not restarted");
    ws_buf_addf(&c->doc, "%s served the 30-day certificate %s until it expired; %s was bound afterwards but the "
                         "service never restarted, so it still serves the expired one (50331655). Restart it. ",
                g, short_lived, renewed);
    snprintf(c->gwcert, sizeof c->gwcert, "%s", renewed);
}

/* ---- mistake 4: the gateway's name ---- */

static void m4a(gen_ctx *c, ws_gen_fault *f)
{
    B("cloud set --rd-gateway-fqdn ${fqdn:%s}\n", c->gateway);
    R("cloud set --rd-gateway-fqdn %s\n", c->public_fqdn);
    set_fault(f, "gateway-fqdn-mismatch", c->gateway, "fqdn", c->gateway);
    title(c, "The cloud's RD Gateway FQDN does not match the gateway certificate");
    ws_buf_addf(&c->doc, "The cloud's Remote Desktop Gateway FQDN was set to %s's machine name, while its "
                         "certificate names %s (50331654). Enter the certificate's name. ",
                c->gateway, c->public_fqdn);
}

static void m4b(gen_ctx *c, ws_gen_fault *f)
{
    char bad[GEN_NAME], good[GEN_NAME], cn[GEN_NAME];
    cert_name(c, "rdgw-netbios", bad, sizeof bad);
    cert_name(c, "rdgw-san", good, sizeof good);
    snprintf(cn, sizeof cn, "%s", c->gateway);
    if (gen_below(c, 2))
        for (char *p = cn; *p; p++)
            *p = (char)toupper((unsigned char)*p);
    const char *g = c->gateway;
    B("cert new %s --subject CN=%s --eku serverAuth --key-usage digitalSignature,keyEncipherment --issuer "
      "lab-root-ca --days 365\n", bad, cn);
    B("cert import %s --machine %s --store My\n", bad, g);
    B("gateway set --machine %s --ssl-cert %s\n", g, bad);
    B("service restart %s\n", g);
    R("cert new %s --subject CN=%s --san DNS:%s --eku serverAuth --key-usage digitalSignature,keyEncipherment "
      "--issuer lab-root-ca --days 365\n", good, c->public_fqdn, c->public_fqdn);
    R("cert import %s --machine %s --store My\n", good, g);
    R("gateway set --machine %s --ssl-cert %s\n", g, good);
    R("service restart %s\n", g);
    set_fault(f, "gateway-cert-no-dns-san", g, "cert", bad);
    title(c, "The gateway certificate has no DNS SAN, only a NetBIOS CN");
    ws_buf_addf(&c->doc, "%s was bound on %s with CN=%s and no DNS name (50331654). Issue one naming %s. ", bad, g,
                cn, c->public_fqdn);
    snprintf(c->gwcert, sizeof c->gwcert, "%s", good);
}

/* ---- a clock off by more than the token's time to live (train/diagnose.c check_clocks) ---- */

static void clock_off(gen_ctx *c, ws_gen_fault *f)
{
    /* Only these directions break a connect: a gateway or host ahead sees every token
     * expired; VMM behind signs tokens that have expired when they arrive. */
    char m[GEN_NAME], by[16];
    int pick = gen_below(c, c->nhosts + 2);
    int days = gen_below(c, 2);
    if (pick == c->nhosts + 1) {
        snprintf(m, sizeof m, "%s", c->vmm);
        snprintf(by, sizeof by, "-%dh", 2 + gen_below(c, 20));
    } else {
        snprintf(m, sizeof m, "%s", pick == c->nhosts ? c->gateway : c->hosts[pick]);
        if (days)
            snprintf(by, sizeof by, "+%dd", 1 + gen_below(c, 6));
        else
            snprintf(by, sizeof by, "+%dh", 2 + gen_below(c, 20));
    }
    B("clock skew %s %s\n", m, by);
    R("clock skew %s 0\n", m);
    set_fault(f, "clock-skew", m, "machine", m);
    snprintf(f->params + strlen(f->params), sizeof f->params - strlen(f->params), " skew=%s", by);
    ws_buf_addf(&c->title, "%s%s's clock is off by %s", ws_buf_len(&c->title) ? "; " : "", m, by);
    ws_buf_addf(&c->doc, "%s's clock was set %s from the others, beyond the console token's time to live: "
                         "tokens look expired where they are checked. Set it right (w32tm /resync). ",
                m, by);
}

/* ---- field pitfalls ---- */

static void p1(gen_ctx *c, ws_gen_fault *f)
{
    const char *m = pick_member(c);
    add_member(c, m, 0);
    R("gateway set --machine %s --add-trusted-issuer %s\n", m, c->console);
    set_fault(f, "gateway-issuer-not-trusted", m, "member", m);
    ws_buf_addf(&c->title, "%sThe new member gateway %s lacks the VMM certificate's thumbprint", ws_buf_len(&c->title) ? "; " : "", m);
    ws_buf_addf(&c->doc, "%s joined the farm behind lb01 without %s in its TrustedIssuerCertificates: about half "
                         "the connections, those the balancer sends to it, are rejected (50331701). ",
                m, c->console);
}

static void p2(gen_ctx *c, ws_gen_fault *f)
{
    const char *m = pick_member(c);
    char name[GEN_NAME];
    cert_name(c, "rdgw-renewed", name, sizeof name);
    add_member(c, m, 1);
    B("clock advance %dd\n", 1 + gen_below(c, 4));
    B("cert new %s --subject CN=${fqdn:%s} --san DNS:${fqdn:%s} --eku serverAuth --key-usage "
      "digitalSignature,keyEncipherment --issuer lab-root-ca --days 365\n", name, m, m);
    B("cert import %s --machine %s --store My\n", name, m);
    B("gateway set --machine %s --ssl-cert %s\n", m, name);
    B("service restart %s\n", m);
    R("gateway set --machine %s --ssl-cert %s\n", m, c->gwcert);
    R("service restart %s\n", m);
    set_fault(f, "gateway-fqdn-mismatch", m, "member", m);
    snprintf(f->params + strlen(f->params), sizeof f->params - strlen(f->params), " cert=%s", name);
    ws_buf_addf(&c->title, "%s%s's renewed certificate names the server, not the farm's public name", ws_buf_len(&c->title) ? "; " : "", m);
    ws_buf_addf(&c->doc, "%s, a member of the farm behind lb01, now serves %s issued to its machine name: the "
                         "connections the balancer sends to it fail the name check (50331654). Bind %s again. ",
                m, name, c->gwcert);
}

static void p4(gen_ctx *c, ws_gen_fault *f)
{
    const char *vm = any_vm(c);
    B("fabric add-balancer lb01 --members %s --mode tcp --affinity none --fqdn %s\n", c->gateway, c->public_fqdn);
    B("connect --tenant %s --vm %s\n", tenant_of(c, vm), vm);
    B("clock advance %dd\n", 1 + gen_below(c, 5));
    B("fabric set-balancer lb01 --mode tls-offload --cert %s\n", c->gwcert);
    R("fabric set-balancer lb01 --reencrypt\n");
    c->uses_balancer = 1;
    set_fault(f, "balancer-tls-offload", "lb01", "balancer", "lb01");
    title(c, "TLS offloading on the balancer without re-encryption to the gateway");
    ws_buf_addf(&c->doc, "lb01 was switched to tls-offload with %s: it sends plain HTTP to %s's TLS port, which "
                         "drops it (Schannel 36888; 50331658). Re-encrypt. ",
                c->gwcert, c->gateway);
}

static void p5(gen_ctx *c, ws_gen_fault *f)
{
    const char *g = c->gateway;
    if (c->nhosts > 1 && gen_below(c, 2)) {
        const char *h = c->hosts[gen_below(c, c->nhosts)];
        B("dns set %s --server dmz --add-host %s.%s=${address:%s}\n", g, h, c->domain, h);
        set_fault(f, "gateway-cannot-resolve-host", g, "hosts-entry", h);
        ws_buf_addf(&c->doc, "%s moved to the DMZ's DNS with a hosts entry for %s only: ", g, h);
    } else {
        B("dns set %s --server dmz\n", g);
        set_fault(f, "gateway-cannot-resolve-host", g, "gateway", g);
        ws_buf_addf(&c->doc, "%s moved to the DMZ's DNS: ", g);
    }
    R("dns set %s --add-forwarder %s\n", g, c->domain);
    title(c, "The DMZ gateway cannot resolve the hosts' FQDNs (no conditional forwarder)");
    ws_buf_addf(&c->doc, "without a conditional forwarder to %s it cannot resolve the hosts (event 304, "
                         "50331656). Add the forwarder. ",
                c->domain);
}

static void p6g(gen_ctx *c, ws_gen_fault *f)
{
    const char *g = c->gateway;
    B("cert remove %s --machine %s --store My\n", c->gwcert, g);
    B("cert import %s --machine %s --store My\n", c->gwcert, g);
    B("service restart %s\n", g);
    R("cert grant %s --machine %s --account \"NETWORK SERVICE\" --rights read\n", c->gwcert, g);
    R("service restart %s\n", g);
    set_fault(f, "gateway-cert-key-access", g, "cert", c->gwcert);
    title(c, "The RD Gateway service cannot read its SSL certificate's private key");
    ws_buf_addf(&c->doc, "%s was imported again from its PFX on %s and the service restarted: NETWORK SERVICE may "
                         "not read the new key file (event 103, Schannel 36870). Grant Read and restart. ",
                c->gwcert, g);
}

static void p6v(gen_ctx *c, ws_gen_fault *f)
{
    B("cert grant %s --machine %s --account %s --revoke\n", c->console, c->vmm,
      gen_below(c, 2) ? "Administrators" : "\"BUILTIN\\\\Administrators\"");
    R("cert grant %s --machine %s --account \"CONTOSO\\\\svc-vmm\" --rights read\n", c->console, c->vmm);
    set_fault(f, "vmm-cert-key-access", c->vmm, "cert", c->console);
    title(c, "VMM's service account cannot read the console certificate's private key");
    ws_buf_addf(&c->doc, "A hardening pass took Administrators off %s's private key on %s without granting "
                         "CONTOSO\\svc-vmm (Keyset does not exist). Grant the service account Read. ",
                c->console, c->vmm);
}

static void p7(gen_ctx *c, ws_gen_fault *f)
{
    const char *h = pick_host(c);
    char name[GEN_NAME];
    cert_name(c, "console", name, sizeof name);
    new_console_cert(c, &c->brk, name, NULL, 1);
    restart_hosts_but(c, &c->brk, h);
    R("service restart %s\n", h);
    gen_keep(c, h);
    set_fault(f, "host-trust-list-stale", h, "host", h);
    snprintf(f->params + strlen(f->params), sizeof f->params - strlen(f->params), " cert=%s", name);
    ws_buf_addf(&c->title, "%sA new VMM console certificate; %s refreshed but its VMMS not restarted", ws_buf_len(&c->title) ? "; " : "", h);
    ws_buf_addf(&c->doc, "The console certificate was replaced by %s with every step, but %s's Virtual Machine "
                         "Management service was not restarted: it still checks tokens against the list it "
                         "loaded at start (event 14162). Restart it. ",
                name, h);
    snprintf(c->console, sizeof c->console, "%s", name);
}

static const gen_kind kinds[] = {
    {"m1a", L1 | L2 | L3, GEN_GROUP_HOST, m1a},
    {"m1b", L1 | L2 | L3, GEN_GROUP_HOST, m1b},
    {"m2", L1, GEN_GROUP_NONE, m2},
    {"m3a", L1 | L2 | L3, GEN_GROUP_GATEWAY, m3a},
    {"m3b", L1 | L3, GEN_GROUP_GATEWAY, m3b},
    {"m4a", L1 | L3, GEN_GROUP_GATEWAY, m4a},
    {"m4b", L1 | L3, GEN_GROUP_GATEWAY, m4b},
    {"p1", L2 | L3, GEN_GROUP_GATEWAY, p1},
    {"p2", L2 | L3, GEN_GROUP_GATEWAY, p2},
    {"p4", L2 | L3, GEN_GROUP_GATEWAY, p4},
    {"p5", L2 | L3, GEN_GROUP_GATEWAY, p5},
    {"p6g", L2 | L3, GEN_GROUP_GATEWAY, p6g},
    {"p6v", L2, GEN_GROUP_NONE, p6v},
    {"p7", L2, GEN_GROUP_NONE, p7},
    {"clock", L1, GEN_GROUP_NONE, clock_off},
};

const gen_kind *gen_kinds(int *n)
{
    *n = (int)(sizeof kinds / sizeof kinds[0]);
    return kinds;
}

const gen_kind *gen_kind_find(const char *id)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].id, id) == 0)
            return &kinds[i];
    return NULL;
}
