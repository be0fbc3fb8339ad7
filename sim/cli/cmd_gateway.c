/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim gateway set | cloud set: the RD Gateway's configuration as an administrator
 * changes it (RD Gateway Manager's SSL certificate; the FedAuth plug-in's
 * FedAuthSettings.TrustedIssuerCertificates through WMI), and the WAP cloud's
 * "Remote Desktop Gateway FQDN" in the admin portal (VM Clouds -> Clouds -> Edit).
 *
 * The gateway binds its SSL certificate when the service starts (gateway/main.c): a
 * new binding takes effect at the next restart. It reads its trusted issuers and the
 * portal's VMM reads the cloud's FQDN at each request. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cert.h"
#include "base/buf.h"
#include "base/net.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/events.h"
#include "lab/keyacl.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "lab/vault.h"

#define MAX_THUMBPRINTS 64

static int tp_index(const ws_strv *l, const char *tp)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i], tp) == 0)
            return i;
    return -1;
}

/* Adds a certificate an operator typed, by thumbprint or by its vault name
 * (ws_vault_resolve), once, or a usage error naming it. A name is reported with the
 * thumbprint it stands for. */
static int tp_add(ws_state *st, ws_strv *l, const char *option, const char *text)
{
    char tp[41], name[128];
    ws_error e;
    int found = ws_vault_resolve(st, text, name, sizeof name, tp, &e);
    if (found != 0 && !tp[0])
        return ws_cmd_usage_error("bad %s '%s': neither a certificate's name nor a thumbprint (40 hexadecimal "
                                  "digits)",
                                  option, text);
    if (found == 0 && strcmp(name, text) == 0)
        printf("%s %s: thumbprint %s\n", option, name, tp);
    if (tp_index(l, tp) >= 0)
        return 0;
    if (l->n == MAX_THUMBPRINTS)
        return ws_cmd_usage_error("too many thumbprints in %s (at most %d)", option, MAX_THUMBPRINTS);
    if (ws_strv_add(l, tp) != 0)
        abort();
    return 0;
}

/* Each thumbprint of a repeated option, normalized. */
static int tp_add_all(ws_state *st, ws_strv *l, const char *option, const ws_strv *texts)
{
    int rc = 0;
    for (int i = 0; i < texts->n && rc == 0; i++)
        rc = tp_add(st, l, option, texts->v[i]);
    return rc;
}

/* --trusted-issuers TP,...: the whole list ("" for none: the gateway then trusts no signer). */
static int tp_parse_list(ws_state *st, ws_strv *l, const char *text)
{
    int rc = 0;
    size_t n = strlen(text);
    if (n && (text[0] == ',' || text[n - 1] == ',' || strstr(text, ",,")))
        return ws_cmd_usage_error("empty thumbprint in --trusted-issuers '%s'", text);
    char *copy = ws_strdup(text);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save))
        rc = tp_add(st, l, "--trusted-issuers", tok);
    free(copy);
    return rc;
}

static void tp_remove_at(ws_strv *l, int at)
{
    free(l->v[at]);
    memmove(&l->v[at], &l->v[at + 1], (size_t)(l->n - at) * sizeof l->v[0]); /* with the NULL after */
    l->n--;
}

static void tp_join(const ws_strv *l, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < l->n && len + 42 < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "", l->v[i]);
}

static int same_list(const ws_strv *a, const ws_strv *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (tp_index(b, a->v[i]) < 0)
            return 0;
    return 1;
}

/* The list after --trusted-issuers (replace, NULL: keep cur), then the additions and
 * removals; 0, or one line and exit 2 (the limit, or a removal that is not there). */
static int next_list(const ws_strv *cur, const ws_strv *replace, const ws_strv *add, const ws_strv *del,
                     const char *gw, ws_strv *next)
{
    const ws_strv *base = replace ? replace : cur;
    for (int i = 0; i < base->n; i++)
        if (ws_strv_add(next, base->v[i]) != 0)
            abort();
    for (int i = 0; i < add->n; i++) {
        if (tp_index(next, add->v[i]) >= 0)
            continue;
        if (next->n == MAX_THUMBPRINTS)
            return ws_cmd_usage_error("too many trusted issuers (at most %d)", MAX_THUMBPRINTS);
        if (ws_strv_add(next, add->v[i]) != 0)
            abort();
    }
    for (int i = 0; i < del->n; i++) {
        int at = tp_index(next, del->v[i]);
        if (at < 0)
            return ws_cmd_usage_error("--remove-trusted-issuer: thumbprint %s is not among %s's trusted issuers",
                                      del->v[i], gw);
        tp_remove_at(next, at);
    }
    return 0;
}

/* The service's account gets Read on the mapped certificate's key unless it can use it
 * already, as RD Gateway Manager does when it maps a certificate [inference: event 103's
 * advice, lab/keyacl.h]. */
static int gateway_key_grant(ws_state *st, const char *gw, const char *cert, ws_error *e)
{
    char account[WS_KEYACL_ACCOUNT_MAX];
    int changed = 0;
    if (ws_keyacl_service_account(st, gw, account, e) != 0)
        return -1;
    if (ws_keyacl_can_use(st, gw, "My", cert, account, NULL))
        return 0;
    return ws_keyacl_grant(st, gw, "My", cert, account, WS_KEYACL_READ, &changed, e);
}

static int cmd_gateway_set(int argc, char **argv)
{
    const char *ssl = NULL, *replace_text = NULL, *machine = NULL;
    ws_strv add_text = {0}, del_text = {0}, replace = {0}, add = {0}, del = {0}, cur = {0}, next = {0};
    const ws_opt opts[] = {WS_OPT_STR("ssl-cert", &ssl), WS_OPT_STR("trusted-issuers", &replace_text),
                           WS_OPT_LIST("add-trusted-issuer", &add_text),
                           WS_OPT_LIST("remove-trusted-issuer", &del_text), WS_OPT_STR("machine", &machine),
                           WS_OPT_END};
    ws_cli cli;
    ws_state *st = NULL;
    ws_machine gw;
    ws_error e;
    char old_ssl[128] = "", tp[41] = "", old_text[MAX_THUMBPRINTS * 41 + 1], new_text[MAX_THUMBPRINTS * 41 + 1];
    char ssl_name[128] = "";
    int rc = ws_opt_parse(argc, argv, opts, 0, 0, 0, &cli);
    if (rc)
        goto out;
    if (!ssl && !replace_text && !add_text.n && !del_text.n) {
        rc = ws_cmd_usage_error("nothing to set (give --ssl-cert, --trusted-issuers, --add-trusted-issuer or "
                                "--remove-trusted-issuer)");
        goto out;
    }
    if ((rc = ws_cmd_open_lab(cli.lab, &st)) || (rc = ws_cmd_gateway_machine(st, machine, &gw)))
        goto out;
    if ((replace_text && (rc = tp_parse_list(st, &replace, replace_text))) ||
        (rc = tp_add_all(st, &add, "--add-trusted-issuer", &add_text)) ||
        (rc = tp_add_all(st, &del, "--remove-trusted-issuer", &del_text)))
        goto out;
    rc = WS_EXIT_USAGE;
    if (ssl) {
        int has_key = 0;
        if (ws_vault_resolve(st, ssl, ssl_name, sizeof ssl_name, tp, &e) != 0) {
            ws_warn("--ssl-cert: %s", e.msg);
            goto out;
        }
        ssl = ssl_name;
        if (!ws_store_contains(st, gw.name, "My", ssl, &has_key) || !has_key) {
            ws_warn("--ssl-cert: certificate '%s' is not in %s's LocalMachine\\My with its private key: RD Gateway "
                    "Manager lists only those (wapsim cert import %s --machine %s --store My)",
                    ssl, gw.name, ssl, gw.name);
            goto out;
        }
        if (ws_setting_get(st, gw.name, WS_SET_SSL_CERT, old_ssl, sizeof old_ssl) != 0)
            snprintf(old_ssl, sizeof old_ssl, "(none)");
    }
    if (ws_trusted_issuer_list(st, gw.name, &cur, &e) != 0) {
        ws_warn("%s", e.msg);
        rc = WS_EXIT_FAIL;
        goto out;
    }
    if ((rc = next_list(&cur, replace_text ? &replace : NULL, &add, &del, gw.name, &next)))
        goto out;
    tp_join(&cur, old_text, sizeof old_text);
    tp_join(&next, new_text, sizeof new_text);
    int list_changes = (replace_text || add.n || del.n) && !same_list(&cur, &next);

    int ok = ws_state_begin(st, &e) == 0;
    if (ok && ssl && (ok = ws_setting_set(st, gw.name, WS_SET_SSL_CERT, ssl, &e) == 0))
        ws_event_write(st, gw.name, WS_EV_GATEWAY_ADMIN_1010, ssl, tp, old_ssl);
    /* Mapping the certificate in RD Gateway Manager lets the service read its key (lab/keyacl.h). */
    if (ok && ssl)
        ok = gateway_key_grant(st, gw.name, ssl, &e) == 0;
    if (ok && list_changes && (ok = ws_trusted_issuer_replace(st, gw.name, &next, &e) == 0))
        ws_event_write(st, gw.name, WS_EV_GATEWAY_ADMIN_1011, new_text, old_text);
    if ((rc = ws_cmd_commit(st, ok, &e)) != 0)
        goto out;
    if (ssl)
        printf("%s: SSL certificate = %s (%s), was %s. It takes effect when the gateway restarts (wapsim service "
               "restart %s); until then the running service keeps the certificate it bound at start.\n",
               gw.name, ssl, tp, old_ssl, gw.name);
    if (replace_text || add.n || del.n)
        printf("%s: FedAuthSettings.TrustedIssuerCertificates = {%s}%s%s%s.\n", gw.name, new_text,
               list_changes ? ", was {" : " (unchanged)", list_changes ? old_text : "", list_changes ? "}" : "");
out:
    if (st)
        ws_state_close(st);
    ws_strv *lists[] = {&add_text, &del_text, &replace, &add, &del, &cur, &next};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        ws_strv_free(lists[i]);
    return rc;
}

/* An FQDN as the admin portal accepts it: dot-separated labels of letters, digits and
 * '-' (not at either end of a label), 1..63 characters each, 253 in all; no port. */
static int fqdn_ok(const char *s)
{
    size_t len = strlen(s), label = 0;
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return 0;
            label = 0;
        } else if (isalnum((unsigned char)c) || (c == '-' && label > 0)) {
            label++;
        } else {
            return 0;
        }
    }
    return 1;
}

static int cmd_cloud_set(int argc, char **argv)
{
    const char *fqdn = NULL;
    const ws_opt opts[] = {WS_OPT_STR("rd-gateway-fqdn", &fqdn), WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, 0, 0, 0, &cli);
    if (rc)
        return rc;
    if (!fqdn)
        return ws_cmd_usage_error("nothing to set (give --rd-gateway-fqdn FQDN)");
    if (!fqdn_ok(fqdn) && !ws_is_ip_literal(fqdn)) /* the portal takes an address too */
        return ws_cmd_usage_error("bad --rd-gateway-fqdn '%s' (a DNS name such as rdgw.contoso.com: letters, "
                                  "digits, '-' and dots; or an IPv4 or IPv6 address; no port)",
                                  fqdn);
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    ws_machine portal;
    ws_error e;
    char old[256];
    if ((rc = ws_cmd_role_machine(st, "portal", &portal)))
        return ws_cmd_close(st, rc);
    if (ws_setting_get(st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, old, sizeof old) != 0)
        snprintf(old, sizeof old, "(none)");
    rc = ws_cmd_commit(st,
                       ws_state_begin(st, &e) == 0 &&
                           ws_setting_set(st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, fqdn, &e) == 0 &&
                           ws_event_write(st, portal.name, WS_EV_ADMINAPI_1100, fqdn, old) == 0,
                       &e);
    ws_state_close(st);
    if (rc != 0)
        return rc;
    printf("Cloud: Remote Desktop Gateway FQDN = %s, was %s. New .rdp files name it as gatewayhostname.\n", fqdn,
           old);
    return 0;
}

const ws_cmd ws_cmds_gateway[] = {
    {"gateway", "set", cmd_gateway_set,
     "[--machine NAME] [--ssl-cert NAME] [--trusted-issuers TP,...] [--add-trusted-issuer TP]\n"
     "       [--remove-trusted-issuer TP]",
     "RD Gateway Manager's SSL certificate and FedAuthSettings.TrustedIssuerCertificates.",
     "  --machine NAME              which RD Gateway (default: the first gateway by name,\n"
     "                              rdgw01); each gateway has its own binding and list\n"
     "  --ssl-cert NAME             the certificate the gateway binds for TLS; it must be in the\n"
     "                              gateway's LocalMachine\\My with its private key. Takes effect\n"
     "                              when the gateway restarts (wapsim service restart rdgw01)\n"
     "  --trusted-issuers TP,...    replace the thumbprints whose HostTokens the FedAuth plug-in\n"
     "                              accepts (\"\" for none)\n"
     "  --add-trusted-issuer TP     add one (may be repeated)\n"
     "  --remove-trusted-issuer TP  remove one (may be repeated); refused when it is not there\n"
     "TP is 40 hexadecimal digits (spaces and colons are ignored) or the name of a certificate\n"
     "of the lab (wapsim cert list), whose thumbprint is printed and used; NAME may be a\n"
     "thumbprint too. The plug-in reads the list at each connection. Logs events 1010 and\n"
     "1011 [model] on the gateway (Microsoft-Windows-TerminalServices-Gateway/Admin).\n"},
    {"cloud", "set", cmd_cloud_set, "--rd-gateway-fqdn FQDN",
     "WAP admin portal, VM Clouds: the cloud's Remote Desktop Gateway FQDN.",
     "  --rd-gateway-fqdn FQDN  the name .rdp files give as gatewayhostname (the lab appends the\n"
     "                          gateway's port when it is not 443); the gateway's certificate\n"
     "                          must match it. An IPv4 or IPv6 address is taken too: the\n"
     "                          tenant's PC then connects to it without a lookup, and the\n"
     "                          certificate must carry it as an IP SAN (--san IP:...)\n"
     "Logs event 1100 [model] on the portal machine.\n"},
    {0},
};
