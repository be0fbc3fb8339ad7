/* wapsim gateway set | cloud set: the RD Gateway's configuration as an administrator
 * changes it (RD Gateway Manager's SSL certificate; the FedAuth plug-in's
 * FedAuthSettings.TrustedIssuerCertificates through WMI), and the WAP cloud's
 * "Remote Desktop Gateway FQDN" in the admin portal (VM Clouds -> Clouds -> Edit).
 *
 * The gateway binds its SSL certificate when the service starts (gateway/main.c): a
 * new binding takes effect at the next restart. It reads its trusted issuers and the
 * portal's VMM reads the cloud's FQDN at each request. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cert.h"
#include "cli/cmd.h"
#include "lab/events.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "lab/vault.h"

#define MAX_THUMBPRINTS 64

typedef struct tp_list {
    char tp[MAX_THUMBPRINTS][41];
    int n;
} tp_list;

static int tp_index(const tp_list *l, const char *tp)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->tp[i], tp) == 0)
            return i;
    return -1;
}

/* Adds a thumbprint an operator typed, or a usage error naming it. */
static int tp_add(tp_list *l, const char *option, const char *text)
{
    char tp[41];
    if (ws_thumbprint_normalize(text, tp) != 0)
        return ws_cmd_usage_error("bad thumbprint '%s' in %s (40 hexadecimal digits)", text, option);
    if (tp_index(l, tp) >= 0)
        return 0;
    if (l->n == MAX_THUMBPRINTS)
        return ws_cmd_usage_error("too many thumbprints in %s (at most %d)", option, MAX_THUMBPRINTS);
    memcpy(l->tp[l->n++], tp, 41);
    return 0;
}

static void tp_join(const tp_list *l, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < l->n && len + 42 < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "", l->tp[i]);
}

static int same_list(const tp_list *a, const tp_list *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (tp_index(b, a->tp[i]) < 0)
            return 0;
    return 1;
}

static int load_trusted(ws_state *st, const char *machine, tp_list *l, ws_error *e)
{
    l->n = 0;
    sqlite3_stmt *s =
        ws_state_prepare(st, "SELECT thumbprint FROM trusted_issuers WHERE machine = ? ORDER BY rowid", e);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, machine, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW && l->n < MAX_THUMBPRINTS)
        snprintf(l->tp[l->n++], 41, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return 0;
}

static int cmd_gateway_set(int argc, char **argv)
{
    static const struct option opts[] = {{"ssl-cert", required_argument, NULL, 's'},
                                         {"trusted-issuers", required_argument, NULL, 'T'},
                                         {"add-trusted-issuer", required_argument, NULL, 'a'},
                                         {"remove-trusted-issuer", required_argument, NULL, 'r'},
                                         {"lab", required_argument, NULL, 'l'},
                                         {0, 0, 0, 0}};
    const char *lab = NULL, *ssl = NULL;
    tp_list *replace = NULL, *add = calloc(1, sizeof *add), *del = calloc(1, sizeof *del),
            *cur = calloc(1, sizeof *cur), *next = calloc(1, sizeof *next);
    if (!add || !del || !cur || !next)
        abort();
    int ch, rc = 0;
    optind = 0;
    opterr = 0;
    while (rc == 0 && (ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (ch) {
        case 's': ssl = optarg; break;
        case 'T': {
            if (!replace && !(replace = calloc(1, sizeof *replace)))
                abort();
            replace->n = 0;
            /* An empty list is allowed: the gateway then trusts no signer. */
            char *copy = ws_strdup(optarg);
            for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && rc == 0;
                 tok = strtok_r(NULL, ",", &save))
                rc = tp_add(replace, "--trusted-issuers", tok);
            size_t n = strlen(optarg);
            if (rc == 0 && n && (optarg[0] == ',' || optarg[n - 1] == ',' || strstr(optarg, ",,")))
                rc = ws_cmd_usage_error("empty thumbprint in --trusted-issuers '%s'", optarg);
            free(copy);
            break;
        }
        case 'a': rc = tp_add(add, "--add-trusted-issuer", optarg); break;
        case 'r': rc = tp_add(del, "--remove-trusted-issuer", optarg); break;
        case 'l': lab = optarg; break;
        default: rc = ws_cmd_bad_option(ch, argv); break;
        }
    }
    ws_state *st = NULL;
    ws_machine gw;
    ws_error e;
    char old_ssl[128] = "", tp[41] = "", old_text[MAX_THUMBPRINTS * 41 + 1], new_text[MAX_THUMBPRINTS * 41 + 1];
    if (rc)
        goto out;
    if (optind < argc) {
        rc = ws_cmd_usage_error("unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (!ssl && !replace && !add->n && !del->n) {
        rc = ws_cmd_usage_error("nothing to set (give --ssl-cert, --trusted-issuers, --add-trusted-issuer or "
                                "--remove-trusted-issuer)");
        goto out;
    }
    if ((rc = ws_cmd_open_lab(lab, &st)))
        goto out;
    rc = WS_EXIT_USAGE;
    if (ws_machine_by_role(st, "gateway", &gw, &e) != 0) {
        ws_warn("%s", e.msg);
        goto out;
    }
    if (ssl) {
        int has_key = 0;
        if (ws_vault_thumbprint(st, ssl, tp) != 0) {
            ws_warn("--ssl-cert: unknown certificate '%s'", ssl);
            goto out;
        }
        if (!ws_store_contains(st, gw.name, "My", ssl, &has_key) || !has_key) {
            ws_warn("--ssl-cert: certificate '%s' is not in %s's LocalMachine\\My with its private key: RD Gateway "
                    "Manager lists only those (wapsim cert import %s --machine %s --store My)",
                    ssl, gw.name, ssl, gw.name);
            goto out;
        }
        if (ws_setting_get(st, gw.name, WS_SET_SSL_CERT, old_ssl, sizeof old_ssl) != 0)
            snprintf(old_ssl, sizeof old_ssl, "(none)");
    }
    if (load_trusted(st, gw.name, cur, &e) != 0) {
        ws_warn("%s", e.msg);
        rc = WS_EXIT_FAIL;
        goto out;
    }
    *next = replace ? *replace : *cur;
    for (int i = 0; i < add->n; i++) {
        if (tp_index(next, add->tp[i]) >= 0)
            continue;
        if (next->n == MAX_THUMBPRINTS) {
            ws_warn("too many trusted issuers (at most %d)", MAX_THUMBPRINTS);
            goto out;
        }
        memcpy(next->tp[next->n++], add->tp[i], 41);
    }
    for (int i = 0; i < del->n; i++) {
        int at = tp_index(next, del->tp[i]);
        if (at < 0) {
            ws_warn("--remove-trusted-issuer: thumbprint %s is not among %s's trusted issuers", del->tp[i], gw.name);
            goto out;
        }
        memmove(next->tp[at], next->tp[at + 1], (size_t)(next->n - at - 1) * 41);
        next->n--;
    }
    tp_join(cur, old_text, sizeof old_text);
    tp_join(next, new_text, sizeof new_text);
    int list_changes = (replace || add->n || del->n) && !same_list(cur, next);

    rc = WS_EXIT_FAIL;
    if (ws_state_begin(st, &e) != 0)
        goto fail;
    if (ssl) {
        if (ws_setting_set(st, gw.name, WS_SET_SSL_CERT, ssl, &e) != 0)
            goto rollback;
        ws_event_write(st, gw.name, WS_EV_GATEWAY_ADMIN_1010, ssl, tp, old_ssl);
    }
    if (list_changes) {
        if (ws_state_exec(st, &e, "DELETE FROM trusted_issuers WHERE machine = ?", 1, gw.name) != 0)
            goto rollback;
        for (int i = 0; i < next->n; i++)
            if (ws_trusted_issuer_add(st, gw.name, next->tp[i], &e) != 0)
                goto rollback;
        ws_event_write(st, gw.name, WS_EV_GATEWAY_ADMIN_1011, new_text, old_text);
    }
    if (ws_state_commit(st, &e) != 0)
        goto fail;
    if (ssl)
        printf("%s: SSL certificate = %s (%s), was %s. It takes effect when the gateway restarts (wapsim service "
               "restart %s); until then the running service keeps the certificate it bound at start.\n",
               gw.name, ssl, tp, old_ssl, gw.name);
    if (replace || add->n || del->n)
        printf("%s: FedAuthSettings.TrustedIssuerCertificates = {%s}%s%s%s.\n", gw.name, new_text,
               list_changes ? ", was {" : " (unchanged)", list_changes ? old_text : "", list_changes ? "}" : "");
    rc = 0;
    goto out;
rollback:
    ws_state_rollback(st);
fail:
    ws_warn("%s", e.msg);
out:
    if (st)
        ws_state_close(st);
    free(replace);
    free(add);
    free(del);
    free(cur);
    free(next);
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
    static const struct option opts[] = {{"rd-gateway-fqdn", required_argument, NULL, 'g'},
                                         {"lab", required_argument, NULL, 'l'},
                                         {0, 0, 0, 0}};
    const char *lab = NULL, *fqdn = NULL;
    int ch;
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (ch) {
        case 'g': fqdn = optarg; break;
        case 'l': lab = optarg; break;
        default: return ws_cmd_bad_option(ch, argv);
        }
    }
    if (optind < argc)
        return ws_cmd_usage_error("unexpected argument '%s'", argv[optind]);
    if (!fqdn)
        return ws_cmd_usage_error("nothing to set (give --rd-gateway-fqdn FQDN)");
    if (!fqdn_ok(fqdn))
        return ws_cmd_usage_error("bad --rd-gateway-fqdn '%s' (a DNS name such as rdgw.contoso.com: letters, "
                                  "digits, '-' and dots; no port)",
                                  fqdn);
    ws_state *st;
    int rc = ws_cmd_open_lab(lab, &st);
    if (rc)
        return rc;
    ws_machine portal;
    ws_error e;
    char old[256];
    if (ws_machine_by_role(st, "portal", &portal, &e) != 0) {
        ws_state_close(st);
        ws_warn("%s", e.msg);
        return WS_EXIT_USAGE;
    }
    if (ws_setting_get(st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, old, sizeof old) != 0)
        snprintf(old, sizeof old, "(none)");
    rc = WS_EXIT_FAIL;
    if (ws_state_begin(st, &e) == 0) {
        if (ws_setting_set(st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, fqdn, &e) == 0 &&
            ws_event_write(st, portal.name, WS_EV_ADMINAPI_1100, fqdn, old) == 0 &&
            ws_state_commit(st, &e) == 0)
            rc = 0;
        else
            ws_state_rollback(st);
    }
    ws_state_close(st);
    if (rc != 0) {
        ws_warn("%s", e.msg);
        return rc;
    }
    printf("Cloud: Remote Desktop Gateway FQDN = %s, was %s. New .rdp files name it as gatewayhostname.\n", fqdn,
           old);
    return 0;
}

const ws_cmd ws_cmds_fabric[] = {
    {"gateway", "set", cmd_gateway_set,
     "[--ssl-cert NAME] [--trusted-issuers TP,...] [--add-trusted-issuer TP] [--remove-trusted-issuer TP]",
     "RD Gateway Manager's SSL certificate and FedAuthSettings.TrustedIssuerCertificates.",
     "The gateway is the machine with role gateway (rdgw01).\n"
     "  --ssl-cert NAME             the certificate the gateway binds for TLS; it must be in the\n"
     "                              gateway's LocalMachine\\My with its private key. Takes effect\n"
     "                              when the gateway restarts (wapsim service restart rdgw01)\n"
     "  --trusted-issuers TP,...    replace the thumbprints whose HostTokens the FedAuth plug-in\n"
     "                              accepts (\"\" for none)\n"
     "  --add-trusted-issuer TP     add one (may be repeated)\n"
     "  --remove-trusted-issuer TP  remove one (may be repeated); refused when it is not there\n"
     "Thumbprints are 40 hexadecimal digits (spaces and colons are ignored). The plug-in reads\n"
     "the list at each connection. Logs events 1010 and 1011 [model] on the gateway\n"
     "(Microsoft-Windows-TerminalServices-Gateway/Admin).\n"},
    {"cloud", "set", cmd_cloud_set, "--rd-gateway-fqdn FQDN",
     "WAP admin portal, VM Clouds: the cloud's Remote Desktop Gateway FQDN.",
     "  --rd-gateway-fqdn FQDN  the name .rdp files give as gatewayhostname (the lab appends the\n"
     "                          gateway's port when it is not 443); the gateway's certificate\n"
     "                          must match it\n"
     "Logs event 1100 [model] on the portal machine.\n"},
    {0},
};
