/* SPDX-License-Identifier: Apache-2.0 */
/* balancer: see balancer.h. */
#include "lab/balancer.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/net.h"
#include "lab/dns.h"
#include "lab/events.h"
#include "lab/fabric.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "lab/vault.h"

static const char *const mode_names[] = {"tcp", "tls-offload"};
static const char *const affinity_names[] = {"none", "source-ip"};

int ws_lb_mode_parse(const char *text, ws_lb_mode *out, ws_error *e)
{
    for (int i = 0; i < 2; i++)
        if (text && strcmp(text, mode_names[i]) == 0) {
            *out = (ws_lb_mode)i;
            return 0;
        }
    return ws_seterr(e, "bad mode '%s' (tcp or tls-offload)", text ? text : "");
}

const char *ws_lb_mode_name(ws_lb_mode m)
{
    return m == WS_LB_MODE_TLS_OFFLOAD ? mode_names[1] : mode_names[0];
}

int ws_lb_affinity_parse(const char *text, ws_lb_affinity *out, ws_error *e)
{
    for (int i = 0; i < 2; i++)
        if (text && strcmp(text, affinity_names[i]) == 0) {
            *out = (ws_lb_affinity)i;
            return 0;
        }
    return ws_seterr(e, "bad affinity '%s' (none or source-ip)", text ? text : "");
}

const char *ws_lb_affinity_name(ws_lb_affinity a)
{
    return a == WS_LB_AFFINITY_SOURCE_IP ? affinity_names[1] : affinity_names[0];
}

int ws_lb_members_parse(const char *text, ws_lb_config *c, ws_error *e)
{
    char names[WS_LB_MAX_MEMBERS][64];
    int n = 0;
    const char *p = text ? text : "";
    if (!*p)
        return ws_seterr(e, "bad members '': give at least one gateway (rdgw01,rdgw02)");
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0)
            return ws_seterr(e, "bad members '%s': an empty name", text);
        if (len > 63)
            return ws_seterr(e, "bad members '%s': a name longer than 63 characters", text);
        for (size_t i = 0; i < len; i++)
            if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
                return ws_seterr(e, "bad member '%.*s': a machine name has letters, digits, '-' and '_'", (int)len,
                                 p);
        if (n == WS_LB_MAX_MEMBERS)
            return ws_seterr(e, "bad members '%s': more than %d", text, WS_LB_MAX_MEMBERS);
        memcpy(names[n], p, len);
        names[n][len] = '\0';
        for (int k = 0; k < n; k++)
            if (strcmp(names[k], names[n]) == 0)
                return ws_seterr(e, "bad members '%s': %s twice", text, names[n]);
        n++;
        if (!p[len])
            break;
        p += len + 1;
    }
    memcpy(c->members, names, sizeof names);
    c->n_members = n;
    return 0;
}

void ws_lb_members_join(const ws_lb_config *c, char *out, size_t n)
{
    size_t len = 0;
    if (n)
        out[0] = '\0';
    for (int i = 0; i < c->n_members && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "", c->members[i]);
}

int ws_lb_config_load(ws_state *st, const char *machine, ws_lb_config *c, ws_error *e)
{
    char v[1200];
    memset(c, 0, sizeof *c);
    if (ws_setting_get(st, machine, WS_SET_BALANCER_MEMBERS, v, sizeof v) != 0)
        return ws_seterr(e, "%s has no pool members (setting %s)", machine, WS_SET_BALANCER_MEMBERS);
    if (ws_lb_members_parse(v, c, e) != 0)
        return -1;
    if (ws_setting_get(st, machine, WS_SET_BALANCER_MODE, v, sizeof v) != 0)
        snprintf(v, sizeof v, "tcp");
    if (ws_lb_mode_parse(v, &c->mode, e) != 0)
        return -1;
    if (ws_setting_get(st, machine, WS_SET_BALANCER_AFFINITY, v, sizeof v) != 0)
        snprintf(v, sizeof v, "none");
    if (ws_lb_affinity_parse(v, &c->affinity, e) != 0)
        return -1;
    c->reencrypt = ws_setting_get(st, machine, WS_SET_BALANCER_REENCRYPT, v, sizeof v) == 0 && strcmp(v, "1") == 0;
    if (ws_setting_get(st, machine, WS_SET_SSL_CERT, c->cert, sizeof c->cert) != 0)
        c->cert[0] = '\0';
    return 0;
}

/* ---- the operator's changes ---- */

/* Each member must be a gateway machine of the lab. */
static int check_members(ws_state *st, const ws_lb_config *c, ws_error *e)
{
    for (int i = 0; i < c->n_members; i++) {
        ws_machine m;
        if (ws_machine_get(st, c->members[i], &m, NULL) != 0)
            return ws_seterr(e, "unknown member '%s' (not a machine of the lab)", c->members[i]);
        if (strcmp(m.role, "gateway") != 0)
            return ws_seterr(e, "member '%s' is not a gateway (its role is %s)", c->members[i], m.role);
    }
    return 0;
}

/* A DNS name, no port, no address: what a virtual server answers for. */
static int check_fqdn(const char *fqdn, ws_error *e)
{
    if (!fqdn || !ws_dns_name_valid(fqdn) || ws_is_ip_literal(fqdn))
        return ws_seterr(e, "bad fqdn '%s' (a DNS name such as rdgw.contoso.com)", fqdn ? fqdn : "");
    return 0;
}

/* rq over base (a loaded config, or defaults) into c; checks every value. */
static int merge_request(ws_state *st, const ws_lb_request *rq, const ws_lb_config *base, ws_lb_config *c,
                         ws_error *e)
{
    *c = *base;
    if (rq->members && (ws_lb_members_parse(rq->members, c, e) != 0 || check_members(st, c, e) != 0))
        return -1;
    if (rq->mode && ws_lb_mode_parse(rq->mode, &c->mode, e) != 0)
        return -1;
    if (rq->affinity && ws_lb_affinity_parse(rq->affinity, &c->affinity, e) != 0)
        return -1;
    if (rq->reencrypt >= 0)
        c->reencrypt = rq->reencrypt ? 1 : 0;
    if (rq->cert) {
        char name[128], tp[41];
        if (ws_vault_resolve(st, rq->cert, name, sizeof name, tp, e) != 0)
            return ws_seterr(e, "bad cert '%s': not a certificate of the lab (wapsim cert list)", rq->cert);
        X509 *x = NULL;
        EVP_PKEY *k = NULL;
        int has_key = ws_vault_get(st, name, &x, &k, NULL, NULL) == 0 && k;
        X509_free(x);
        EVP_PKEY_free(k);
        if (!has_key)
            return ws_seterr(e, "bad cert '%s': the lab holds no private key for it", rq->cert);
        snprintf(c->cert, sizeof c->cert, "%s", name);
    }
    /* [model] an appliance that offloads TLS is given the gateway's own certificate
     * (exported with its key from the first member) unless told otherwise. */
    if (c->mode == WS_LB_MODE_TLS_OFFLOAD && !c->cert[0] &&
        ws_setting_get(st, c->members[0], WS_SET_SSL_CERT, c->cert, sizeof c->cert) != 0)
        return ws_seterr(e, "mode tls-offload needs a certificate: give --cert NAME (%s has none bound)",
                         c->members[0]);
    return 0;
}

int ws_lb_config_write(ws_state *st, const char *name, const ws_lb_config *c, ws_error *e)
{
    char members[WS_LB_MAX_MEMBERS * 65];
    ws_lb_members_join(c, members, sizeof members);
    if (ws_setting_set(st, name, WS_SET_BALANCER_MEMBERS, members, e) != 0 ||
        ws_setting_set(st, name, WS_SET_BALANCER_MODE, ws_lb_mode_name(c->mode), e) != 0 ||
        ws_setting_set(st, name, WS_SET_BALANCER_AFFINITY, ws_lb_affinity_name(c->affinity), e) != 0 ||
        ws_setting_set(st, name, WS_SET_BALANCER_REENCRYPT, c->reencrypt ? "1" : "0", e) != 0)
        return -1;
    if (c->cert[0]) {
        int installed;
        if (ws_store_install(st, name, "My", c->cert, 1, &installed, e) != 0 ||
            ws_setting_set(st, name, WS_SET_SSL_CERT, c->cert, e) != 0)
            return -1;
    }
    return 0;
}

/* The public name fqdn moves to machine `to`: off whichever machine has it. */
static int move_public_name(ws_state *st, const char *fqdn, const char *to, char *old_owner, size_t n, ws_error *e)
{
    old_owner[0] = '\0';
    int rc = ws_state_text(st, old_owner, n, e,
                           "SELECT name FROM machines WHERE public_fqdn = ? COLLATE NOCASE AND name <> ? ORDER BY name",
                           2, fqdn, to);
    if (rc == -1)
        return -1;
    return ws_state_exec(st, e, "UPDATE machines SET public_fqdn = NULL WHERE public_fqdn = ? COLLATE NOCASE", 1,
                         fqdn) == 0 &&
                   ws_state_exec(st, e, "UPDATE machines SET public_fqdn = ? WHERE name = ?", 2, fqdn, to) == 0
               ? 0
               : -1;
}

static void fill_result(ws_state *st, const char *name, const ws_lb_config *c, ws_lb_result *r)
{
    ws_machine m;
    if (ws_machine_get(st, name, &m, NULL) == 0) {
        snprintf(r->name, sizeof r->name, "%s", m.name);
        snprintf(r->address, sizeof r->address, "%s", m.address);
        r->port = m.port;
        snprintf(r->fqdn, sizeof r->fqdn, "%s", m.fqdn);
        snprintf(r->public_fqdn, sizeof r->public_fqdn, "%s", m.public_fqdn);
    }
    r->config = *c;
}

void ws_lb_config_text(const ws_lb_config *c, char *out, size_t n)
{
    char members[WS_LB_MAX_MEMBERS * 65];
    ws_lb_members_join(c, members, sizeof members);
    int offload = c->mode == WS_LB_MODE_TLS_OFFLOAD;
    snprintf(out, n, "members %s, mode %s%s, persistence %s%s%s", members, ws_lb_mode_name(c->mode),
             offload ? (c->reencrypt ? " (re-encrypt)" : " (plain to members)") : "", ws_lb_affinity_name(c->affinity),
             offload && c->cert[0] ? ", certificate " : "", offload ? c->cert : "");
}

int ws_fabric_add_balancer(ws_state *st, const ws_lb_request *rq, ws_lb_result *r, ws_error *e)
{
    memset(r, 0, sizeof *r);
    const char *name = rq->name;
    ws_lb_config base = {0}, c;
    if (!ws_fabric_name_ok(name))
        return ws_seterr(e, "bad balancer name '%s' (a computer name: 1-15 letters, digits and '-', such as lb01)",
                         name ? name : "");
    if (ws_machine_exists(st, name))
        return ws_seterr(e, "machine '%s' exists already", name);
    if (!rq->members)
        return ws_seterr(e, "which members? (--members rdgw01,rdgw02)");
    if (merge_request(st, rq, &base, &c, e) != 0)
        return -1;
    ws_machine first;
    if (ws_machine_get(st, c.members[0], &first, e) != 0)
        return -1;
    const char *fqdn = rq->fqdn ? rq->fqdn : first.public_fqdn;
    if (check_fqdn(fqdn, e) != 0)
        return -1;
    ws_machine m = {.port = WS_LB_PORT};
    snprintf(m.name, sizeof m.name, "%s", name);
    snprintf(m.fqdn, sizeof m.fqdn, "%s.contoso.com", name); /* [model] an appliance in the DMZ, public zone */
    snprintf(m.role, sizeof m.role, "balancer");
    if (ws_fabric_free_address_from(st, 20, m.address, sizeof m.address, e) != 0)
        return -1;
    char text[1024];
    ws_lb_config_text(&c, text, sizeof text);
    if (ws_state_begin(st, e) != 0)
        return -1;
    if (ws_machine_add(st, &m, e) != 0 || ws_store_add(st, name, "Root", "lab-root-ca", 0, e) != 0 ||
        ws_lb_config_write(st, name, &c, e) != 0 ||
        move_public_name(st, fqdn, name, r->old_public_owner, sizeof r->old_public_owner, e) != 0 ||
        ws_event_write(st, name, WS_EV_LB_101, "added", fqdn, m.address, m.port, text) != 0) {
        ws_state_rollback(st);
        return -1;
    }
    if (ws_state_commit(st, e) != 0)
        return -1;
    fill_result(st, name, &c, r);
    /* The tenant's PC resolves the public name to the balancer now. */
    return ws_lab_hosts_set(st->lab_dir, fqdn, m.address, e);
}

/* NAME must be a balancer machine. */
static int balancer_machine(ws_state *st, const char *name, ws_machine *m, ws_error *e)
{
    if (ws_machine_get(st, name, m, NULL) != 0)
        return ws_seterr(e, "unknown balancer '%s' (not a machine of the lab)", name ? name : "");
    if (strcmp(m->role, "balancer") != 0)
        return ws_seterr(e, "'%s' is not a balancer (its role is %s)", name, m->role);
    return 0;
}

int ws_fabric_set_balancer(ws_state *st, const ws_lb_request *rq, ws_lb_result *r, ws_error *e)
{
    memset(r, 0, sizeof *r);
    ws_machine m;
    ws_lb_config base, c;
    if (balancer_machine(st, rq->name, &m, e) != 0 || ws_lb_config_load(st, m.name, &base, e) != 0 ||
        merge_request(st, rq, &base, &c, e) != 0)
        return -1;
    if (rq->fqdn && check_fqdn(rq->fqdn, e) != 0)
        return -1;
    char text[1024];
    ws_lb_config_text(&c, text, sizeof text);
    const char *fqdn = rq->fqdn ? rq->fqdn : m.public_fqdn;
    if (ws_state_begin(st, e) != 0)
        return -1;
    if (ws_lb_config_write(st, m.name, &c, e) != 0 ||
        (rq->fqdn && move_public_name(st, rq->fqdn, m.name, r->old_public_owner, sizeof r->old_public_owner, e) != 0) ||
        ws_event_write(st, m.name, WS_EV_LB_101, "changed", fqdn, m.address, m.port, text) != 0) {
        ws_state_rollback(st);
        return -1;
    }
    /* A name it answered for before goes back to its first member. */
    ws_machine first;
    int give_back = rq->fqdn && m.public_fqdn[0] && strcasecmp(m.public_fqdn, rq->fqdn) != 0 &&
                    ws_machine_get(st, c.members[0], &first, NULL) == 0;
    if ((give_back && ws_state_exec(st, e, "UPDATE machines SET public_fqdn = ? WHERE name = ?", 2, m.public_fqdn,
                                    first.name) != 0) ||
        ws_state_commit(st, e) != 0) {
        ws_state_rollback(st);
        return -1;
    }
    fill_result(st, m.name, &c, r);
    if (give_back && ws_lab_hosts_set(st->lab_dir, m.public_fqdn, first.address, e) != 0)
        return -1;
    return rq->fqdn ? ws_lab_hosts_set(st->lab_dir, rq->fqdn, m.address, e) : 0;
}

int ws_fabric_remove_balancer(ws_state *st, const char *name, ws_lb_result *r, ws_error *e)
{
    memset(r, 0, sizeof *r);
    ws_machine m, first;
    ws_lb_config c;
    if (balancer_machine(st, name, &m, e) != 0)
        return -1;
    int has_config = ws_lb_config_load(st, m.name, &c, NULL) == 0;
    if (!has_config)
        memset(&c, 0, sizeof c);
    fill_result(st, m.name, &c, r);
    int back = has_config && m.public_fqdn[0] && ws_machine_get(st, c.members[0], &first, NULL) == 0;
    if (ws_state_begin(st, e) != 0)
        return -1;
    /* Store entries, trusted issuers and the process row go with the machine (ON DELETE
     * CASCADE); settings and key access lists are by name. */
    if (ws_state_exec(st, e, "DELETE FROM settings WHERE scope = ?", 1, m.name) != 0 ||
        ws_state_exec(st, e, "DELETE FROM key_access WHERE machine = ?", 1, m.name) != 0 ||
        ws_state_exec(st, e, "DELETE FROM machines WHERE name = ?", 1, m.name) != 0 ||
        (back && ws_state_exec(st, e, "UPDATE machines SET public_fqdn = ? WHERE name = ?", 2, m.public_fqdn,
                               first.name) != 0)) {
        ws_state_rollback(st);
        return -1;
    }
    if (back)
        snprintf(r->old_public_owner, sizeof r->old_public_owner, "%s", first.name);
    if (ws_state_commit(st, e) != 0)
        return -1;
    /* On the balancer's own log, which outlives the machine as a real log archive would. */
    char text[256];
    snprintf(text, sizeof text, "the name goes back to %s", back ? first.name : "(no member)");
    ws_event_write(st, m.name, WS_EV_LB_101, "removed", m.public_fqdn[0] ? m.public_fqdn : "-", m.address, m.port,
                   text);
    return back ? ws_lab_hosts_set(st->lab_dir, m.public_fqdn, first.address, e) : 0;
}
