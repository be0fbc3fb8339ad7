/* wapsim cert list | show | export: the lab's certificates as an administrator
 * sees them in certlm.msc and exports them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "clock.h"
#include "cmd.h"
#include "machine.h"
#include "store.h"
#include "vault.h"

/* One certificate's description, shared by list and show. */
static cJSON *describe(ws_state *st, const char *name, ws_error *e)
{
    X509 *c = NULL;
    EVP_PKEY *k = NULL;
    char *csp = NULL;
    if (ws_vault_get(st, name, &c, &k, &csp, e) != 0)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    char tp[41], t[32];
    ws_cert_thumbprint(c, tp);
    char *subject = ws_cert_subject(c), *issuer = ws_cert_issuer(c), *sans = ws_cert_sans(c),
         *ekus = ws_cert_ekus(c), *ku = ws_cert_key_usage(c);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "thumbprint", tp);
    cJSON_AddStringToObject(o, "subject", subject);
    cJSON_AddStringToObject(o, "sans", sans);
    cJSON_AddStringToObject(o, "ekus", ekus);
    cJSON_AddStringToObject(o, "key_usage", ku);
    if (csp)
        cJSON_AddStringToObject(o, "csp", csp);
    else
        cJSON_AddNullToObject(o, "csp");
    ws_time_format(ws_cert_not_before(c), t, sizeof t);
    cJSON_AddStringToObject(o, "not_before", t);
    ws_time_format(ws_cert_not_after(c), t, sizeof t);
    cJSON_AddStringToObject(o, "not_after", t);
    cJSON_AddStringToObject(o, "issuer", issuer);
    cJSON_AddBoolToObject(o, "self_signed", ws_cert_self_signed(c));
    cJSON_AddBoolToObject(o, "vault_has_private_key", k != NULL);
    free(subject), free(issuer), free(sans), free(ekus), free(ku), free(csp);
    X509_free(c);
    EVP_PKEY_free(k);
    return o;
}

typedef struct list_ctx {
    ws_state *st;
    cJSON *rows;
    ws_error e;
    int failed;
} list_ctx;

static int add_row(const ws_store_entry *ent, void *arg)
{
    list_ctx *ctx = arg;
    cJSON *o = describe(ctx->st, ent->cert_name, &ctx->e);
    if (!o) {
        ctx->failed = 1;
        return 1;
    }
    cJSON_DeleteItemFromObject(o, "vault_has_private_key");
    if (ent->machine) {
        cJSON_AddStringToObject(o, "machine", ent->machine);
        cJSON_AddStringToObject(o, "store", ent->store);
    } else {
        cJSON_AddNullToObject(o, "machine");
        cJSON_AddNullToObject(o, "store");
    }
    cJSON_AddBoolToObject(o, "has_private_key", ent->has_private_key);
    cJSON_AddItemToArray(ctx->rows, o);
    return 0;
}

static const char *str(cJSON *o, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
    return v ? v : "-";
}

static int cert_list(int argc, char **argv)
{
    static const struct option opts[] = {{"machine", required_argument, NULL, 'm'},
                                         {"store", required_argument, NULL, 's'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"lab", required_argument, NULL, 'l'},
                                         {0, 0, 0, 0}};
    const char *lab = NULL, *machine = NULL, *store = NULL;
    int json = 0, ch;
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (ch) {
        case 'm': machine = optarg; break;
        case 's':
            store = ws_store_name(optarg);
            if (!store)
                return ws_cmd_usage_error("unknown store '%s' (use My or Root)", optarg);
            break;
        case 'j': json = 1; break;
        case 'l': lab = optarg; break;
        default: return ws_cmd_bad_option(ch, argv);
        }
    }
    if (optind < argc)
        return ws_cmd_usage_error("unexpected argument '%s'", argv[optind]);
    ws_state *st;
    int rc = ws_cmd_open_lab(lab, &st);
    if (rc)
        return rc;
    if (machine && !ws_machine_exists(st, machine)) {
        ws_state_close(st);
        return ws_cmd_usage_error("unknown machine '%s'", machine);
    }
    list_ctx ctx = {.st = st, .rows = cJSON_CreateArray()};
    if (ws_store_foreach(st, machine, store, add_row, &ctx, &ctx.e) != 0 || ctx.failed) {
        ws_warn("%s", ctx.e.msg);
        cJSON_Delete(ctx.rows);
        ws_state_close(st);
        return WS_EXIT_FAIL;
    }
    ws_state_close(st);
    if (json) {
        ws_cmd_print_json(ctx.rows);
        return 0;
    }
    printf("%-8s %-5s %-3s %-14s %-40s %-20s %s\n", "MACHINE", "STORE", "KEY", "NAME", "THUMBPRINT", "NOT AFTER",
           "SUBJECT");
    cJSON *o;
    cJSON_ArrayForEach(o, ctx.rows)
    {
        printf("%-8s %-5s %-3s %-14s %-40s %-20s %s\n", str(o, "machine"), str(o, "store"),
               cJSON_IsTrue(cJSON_GetObjectItem(o, "has_private_key")) ? "yes" : "no", str(o, "name"),
               str(o, "thumbprint"), str(o, "not_after"), str(o, "subject"));
    }
    cJSON_Delete(ctx.rows);
    return 0;
}

static int add_location(const ws_store_entry *ent, void *arg)
{
    void **a = arg;
    if (ent->machine && strcmp(ent->cert_name, a[0]) == 0) {
        cJSON *loc = cJSON_CreateObject();
        cJSON_AddStringToObject(loc, "machine", ent->machine);
        cJSON_AddStringToObject(loc, "store", ent->store);
        cJSON_AddBoolToObject(loc, "has_private_key", ent->has_private_key);
        cJSON_AddItemToArray(a[1], loc);
    }
    return 0;
}

static int cert_show(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"lab", required_argument, NULL, 'l'}, {0, 0, 0, 0}};
    const char *lab = NULL;
    int json = 0, ch;
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (ch) {
        case 'j': json = 1; break;
        case 'l': lab = optarg; break;
        default: return ws_cmd_bad_option(ch, argv);
        }
    }
    if (optind != argc - 1)
        return ws_cmd_usage_error(optind >= argc ? "which certificate? (wapsim cert show NAME)"
                                                 : "unexpected argument '%s'",
                                  argv[argc - 1]);
    const char *name = argv[optind];
    ws_state *st;
    int rc = ws_cmd_open_lab(lab, &st);
    if (rc)
        return rc;
    ws_error e;
    cJSON *o = describe(st, name, &e);
    if (!o) {
        ws_state_close(st);
        ws_warn("%s", e.msg);
        return WS_EXIT_USAGE;
    }
    cJSON *where = cJSON_AddArrayToObject(o, "stores");
    void *args[2] = {(void *)name, where};
    ws_store_foreach(st, NULL, NULL, add_location, args, NULL);
    ws_state_close(st);
    if (json) {
        ws_cmd_print_json(o);
        return 0;
    }
    static const char *const fields[][2] = {
        {"Name", "name"},         {"Thumbprint", "thumbprint"}, {"Subject", "subject"},
        {"Issuer", "issuer"},     {"SANs", "sans"},             {"EKUs", "ekus"},
        {"Key usage", "key_usage"}, {"CSP", "csp"},             {"Not before", "not_before"},
        {"Not after", "not_after"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        printf("%-12s %s\n", fields[i][0], str(o, fields[i][1]));
    printf("%-12s %s\n", "Self-signed", cJSON_IsTrue(cJSON_GetObjectItem(o, "self_signed")) ? "yes" : "no");
    printf("%-12s %s\n", "Private key",
           cJSON_IsTrue(cJSON_GetObjectItem(o, "vault_has_private_key")) ? "in the vault" : "none");
    cJSON *loc;
    printf("Stores:\n");
    cJSON_ArrayForEach(loc, where)
    {
        printf("  %s\\LocalMachine\\%s%s\n", str(loc, "machine"), str(loc, "store"),
               cJSON_IsTrue(cJSON_GetObjectItem(loc, "has_private_key")) ? " (with private key)" : "");
    }
    cJSON_Delete(o);
    return 0;
}

static int cert_export(int argc, char **argv)
{
    static const struct option opts[] = {{"pem", no_argument, NULL, 'p'},
                                         {"der", no_argument, NULL, 'd'},
                                         {"pfx", no_argument, NULL, 'x'},
                                         {"password", required_argument, NULL, 'w'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"lab", required_argument, NULL, 'l'},
                                         {0, 0, 0, 0}};
    const char *lab = NULL, *password = NULL, *out = NULL;
    int format = 0, formats = 0, ch;
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (ch) {
        case 'p':
        case 'd':
        case 'x':
            format = ch;
            formats++;
            break;
        case 'w': password = optarg; break;
        case 'o': out = optarg; break;
        case 'l': lab = optarg; break;
        default: return ws_cmd_bad_option(ch, argv);
        }
    }
    if (optind != argc - 1)
        return ws_cmd_usage_error(optind >= argc ? "which certificate? (wapsim cert export NAME ...)"
                                                 : "unexpected argument '%s'",
                                  argv[argc - 1]);
    if (formats != 1)
        return ws_cmd_usage_error("give exactly one of --pem, --der or --pfx");
    if (format == 'x' && !password)
        return ws_cmd_usage_error("--pfx needs --password");
    if (format != 'x' && password)
        return ws_cmd_usage_error("--password goes with --pfx only");
    if (!out)
        return ws_cmd_usage_error("--out FILE is required");
    const char *name = argv[optind];
    ws_state *st;
    int rc = ws_cmd_open_lab(lab, &st);
    if (rc)
        return rc;
    X509 *c = NULL;
    EVP_PKEY *k = NULL;
    char *csp = NULL;
    ws_error e;
    rc = ws_vault_get(st, name, &c, format == 'x' ? &k : NULL, &csp, &e);
    ws_state_close(st);
    if (rc != 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_USAGE;
    }
    unsigned char *der = NULL;
    size_t len = 0;
    char *pem = NULL;
    rc = 0;
    if (format == 'p') {
        pem = ws_cert_to_pem(c);
        rc = pem ? ws_write_file(out, pem, strlen(pem), 0644, &e) : ws_seterr(&e, "cannot encode %s", name);
    } else if (format == 'd') {
        rc = ws_cert_to_der(c, &der, &len) == 0 ? ws_write_file(out, der, len, 0644, &e)
                                               : ws_seterr(&e, "cannot encode %s", name);
    } else {
        rc = ws_pfx_export(c, k, csp, password, &der, &len, &e);
        if (rc == 0)
            rc = ws_write_file(out, der, len, 0600, &e);
    }
    free(pem);
    OPENSSL_free(der);
    free(csp);
    X509_free(c);
    EVP_PKEY_free(k);
    if (rc != 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_FAIL;
    }
    return 0;
}

const ws_cmd ws_cmds_cert[] = {
    {"cert", "list", cert_list, "[--machine M] [--store My|Root] [--json]",
     "Certificates, one row per certificate and store.",
     "Without filters, vault certificates that are in no store are listed too.\n"
     "  --json   [{\"name\",\"thumbprint\",\"subject\",\"sans\",\"ekus\",\"key_usage\",\"csp\",\"not_before\",\n"
     "             \"not_after\",\"issuer\",\"self_signed\",\"machine\",\"store\",\"has_private_key\"}]\n"},
    {"cert", "show", cert_show, "NAME [--json]", "One certificate: its fields and the stores that hold it.", NULL},
    {"cert", "export", cert_export, "NAME (--pem | --der | --pfx --password P) --out FILE",
     "Export a certificate (a PFX carries the key and its CSP attribute).",
     "  --pem, --der   the certificate alone\n"
     "  --pfx          PKCS#12 with the private key (when the vault has it), whose bag\n"
     "                 carries the CSP as \"Microsoft CSP Name\"; written with mode 0600\n"},
    {0},
};
