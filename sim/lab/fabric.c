/* SPDX-License-Identifier: Apache-2.0 */
/* fabric: see fabric.h. */
#include "lab/fabric.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/net.h"
#include "lab/balancer.h"
#include "lab/events.h"
#include "lab/lab.h"
#include "lab/settings.h"
#include "lab/store.h"

/* The first octet fabric add-* hands out: .10-.16 are the default world's. */
#define FIRST_FREE_OCTET 17

int ws_fabric_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    int letters = 0;
    if (n == 0 || n > 15 || name[0] == '-' || name[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '-')
            return 0;
        letters |= !isdigit((unsigned char)name[i]);
    }
    return letters;
}

/* The lab's "127.X.Y." prefix; 0 or -1 with e set. */
static int lab_prefix(ws_state *st, char *prefix, size_t n, ws_error *e)
{
    char subnet[64];
    if (ws_meta_get(st, "subnet", subnet, sizeof subnet) != 0 || ws_subnet_prefix(subnet, prefix, n) != 0)
        return ws_seterr(e, "the lab has no subnet in its state file");
    return 0;
}

static int address_used(ws_state *st, const char *address)
{
    char found[64] = "";
    return ws_state_text(st, found, sizeof found, NULL, "SELECT name FROM machines WHERE address = ?", 1,
                         address) == 0;
}

int ws_fabric_free_address(ws_state *st, char *out, size_t n, ws_error *e)
{
    return ws_fabric_free_address_from(st, FIRST_FREE_OCTET, out, n, e);
}

int ws_fabric_free_address_from(ws_state *st, int first_octet, char *out, size_t n, ws_error *e)
{
    char prefix[32], addr[64];
    if (lab_prefix(st, prefix, sizeof prefix, e) != 0)
        return -1;
    for (int octet = first_octet; octet < 255; octet++) {
        snprintf(addr, sizeof addr, "%s%d", prefix, octet);
        if (!address_used(st, addr)) {
            snprintf(out, n, "%s", addr);
            return 0;
        }
    }
    return ws_seterr(e, "the lab's /24 has no free address");
}

int ws_fabric_address_ok(ws_state *st, const char *address, ws_error *e)
{
    char prefix[32];
    if (lab_prefix(st, prefix, sizeof prefix, e) != 0)
        return -1;
    size_t pl = strlen(prefix);
    unsigned octet;
    char tail;
    if (strncmp(address, prefix, pl) != 0 || sscanf(address + pl, "%u%c", &octet, &tail) != 1 || octet == 0 ||
        octet >= 255 || !isdigit((unsigned char)address[pl]) || (address[pl] == '0' && address[pl + 1]))
        return ws_seterr(e, "bad address '%s' (an address of the lab's /24: %s1 to %s254)", address, prefix, prefix);
    char who[64] = "";
    if (ws_state_text(st, who, sizeof who, NULL, "SELECT name FROM machines WHERE address = ?", 1, address) == 0)
        return ws_seterr(e, "address %s is %s's", address, who);
    return 0;
}

int ws_fabric_add_gateway(ws_state *st, const char *name, const char *address, ws_machine *out, ws_error *e)
{
    if (!ws_fabric_name_ok(name))
        return ws_seterr(e, "bad machine name '%s' (a computer name: 1 to 15 letters, digits and '-')",
                         name ? name : "");
    ws_machine m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    for (char *p = m.name; *p; p++) /* Windows shows computer names as typed; the lab's are lower case */
        *p = (char)tolower((unsigned char)*p);
    char who[64] = "";
    if (ws_state_text(st, who, sizeof who, NULL, "SELECT name FROM machines WHERE name = ? COLLATE NOCASE", 1,
                      m.name) == 0)
        return ws_seterr(e, "machine '%s' exists already", who);
    if (address) {
        if (ws_fabric_address_ok(st, address, e) != 0)
            return -1;
        snprintf(m.address, sizeof m.address, "%s", address);
    } else if (ws_fabric_free_address(st, m.address, sizeof m.address, e) != 0) {
        return -1;
    }
    snprintf(m.fqdn, sizeof m.fqdn, "%s.%s", m.name, WS_FABRIC_DOMAIN);
    snprintf(m.role, sizeof m.role, "gateway");
    m.port = WS_FABRIC_GATEWAY_PORT;
    char what[400];
    snprintf(what, sizeof what,
             "Gateway %s (%s, %s:%d) joined the fabric: no SSL certificate is bound and no trusted issuer is "
             "registered yet.",
             m.name, m.fqdn, m.address, m.port);
    if (ws_machine_add(st, &m, e) != 0 || ws_store_add(st, m.name, "Root", WS_FABRIC_ROOT_CERT, 0, e) != 0 ||
        ws_event_write(st, m.name, WS_EV_APP_1_FABRIC, what) != 0)
        return -1;
    if (out)
        *out = m;
    return 0;
}

int ws_fabric_balancer_of(ws_state *st, const char *machine, char *balancer, size_t n)
{
    sqlite3_stmt *s = ws_state_query(st, NULL,
                                     "SELECT m.name, s.value FROM machines m JOIN settings s ON s.scope = m.name"
                                     " AND s.key = ? WHERE m.role = 'balancer' ORDER BY m.name",
                                     1, WS_SET_BALANCER_MEMBERS);
    int found = 0;
    while (!found && s && sqlite3_step(s) == SQLITE_ROW) {
        ws_lb_config c = {0}; /* the members as the balancer reads them (lab/balancer.h) */
        ws_error ignored;
        if (ws_lb_members_parse((const char *)sqlite3_column_text(s, 1), &c, &ignored) != 0)
            continue;
        for (int i = 0; i < c.n_members && !found; i++)
            if (strcasecmp(c.members[i], machine) == 0) {
                snprintf(balancer, n, "%s", (const char *)sqlite3_column_text(s, 0));
                found = 1;
            }
    }
    sqlite3_finalize(s);
    return found;
}

int ws_fabric_gateways(ws_state *st, ws_strv *names)
{
    sqlite3_stmt *s =
        ws_state_query(st, NULL, "SELECT name FROM machines WHERE role = 'gateway' ORDER BY name", 0);
    int n = 0;
    while (s && sqlite3_step(s) == SQLITE_ROW)
        if (ws_strv_add(names, (const char *)sqlite3_column_text(s, 0)) == 0)
            n++;
    sqlite3_finalize(s);
    return n;
}

int ws_fabric_remove_gateway(ws_state *st, const char *name, ws_error *e)
{
    ws_machine m;
    if (ws_machine_get(st, name, &m, e) != 0)
        return -1;
    if (strcmp(m.role, "gateway") != 0)
        return ws_seterr(e, "'%s' is not an RD Gateway (its role is %s)", name, m.role);
    char lb[64];
    if (ws_fabric_balancer_of(st, m.name, lb, sizeof lb))
        return ws_seterr(e, "%s is a member of balancer %s: take it out of the members first (wapsim fabric "
                            "set-balancer %s --members ...)",
                         m.name, lb, lb);
    ws_strv gws = {0};
    int n = ws_fabric_gateways(st, &gws);
    ws_strv_free(&gws);
    if (n <= 1)
        return ws_seterr(e, "%s is the lab's last RD Gateway: the tenants' consoles need one", m.name);
    char what[300];
    snprintf(what, sizeof what, "Gateway %s (%s, %s:%d) left the fabric.", m.name, m.fqdn, m.address, m.port);
    /* Stores, trusted issuers and the process row go with the machine (ON DELETE CASCADE). */
    if (ws_state_exec(st, e, "DELETE FROM settings WHERE scope = ?", 1, m.name) != 0 ||
        ws_state_exec(st, e, "DELETE FROM machines WHERE name = ?", 1, m.name) != 0 ||
        ws_event_write(st, m.name, WS_EV_APP_1_FABRIC, what) != 0)
        return -1;
    return 0;
}
