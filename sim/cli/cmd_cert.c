/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim cert list | show | export | new | import | remove | import-file | check | grant: the
 * lab's certificates as an administrator sees them in certlm.msc, makes them
 * (New-SelfSignedCertificate, certreq), installs and removes them in a machine's
 * stores (Import-PfxCertificate, Import-Certificate, Remove-Item Cert:\...), brings
 * in files made elsewhere, lints a real deployment's certificate file against
 * what its role requires (certreq.h), without a lab, and changes who may use a
 * private key on a machine as certlm.msc's "Manage Private Keys" does (lab/keyacl.h). */
#include <arpa/inet.h>
#include <inttypes.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/cert.h"
#include "crypto/certreq.h"
#include "lab/clock.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "crypto/csp.h"
#include "lab/events.h"
#include "lab/keyacl.h"
#include "lab/machine.h"
#include "lab/store.h"
#include "lab/vault.h"

/* [model] The provider `cert new` puts a key in when --csp is not given: the CNG key
 * storage provider New-SelfSignedCertificate and certreq use by default. */
#define DEFAULT_NEW_CSP "Microsoft Software Key Storage Provider"

#define CERT_FILE_MAX (1024 * 1024)

/* A certificate named on the command line by its name or its thumbprint
 * (ws_vault_resolve): 0 with name (128 bytes) the vault's name, or -1 with e. */
static int resolve(ws_state *st, const char *text, char name[128], ws_error *e)
{
    char tp[41];
    return ws_vault_resolve(st, text, name, 128, tp, e) == 0 ? 0 : -1;
}

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
    /* A stand-in (lab init --from) keeps the customer's certificate's thumbprint. */
    char orig[41];
    if (ws_vault_original(st, name, orig) == 0)
        cJSON_AddStringToObject(o, "original_thumbprint", orig);
    else
        cJSON_AddNullToObject(o, "original_thumbprint");
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

static const char *str(const cJSON *o, const char *key)
{
    const char *v = ws_cmd_json_str(o, key);
    return v ? v : "-";
}

/* --store My|Root, by its canonical name. */
static int take_store(void *dest, const char *value)
{
    const char **store = dest;
    if (!(*store = ws_store_name(value)))
        return ws_cmd_usage_error("unknown store '%s' (use My or Root)", value);
    return 0;
}

static void print_list(const cJSON *rows)
{
    printf("%-8s %-5s %-3s %-14s %-40s %-20s %s\n", "MACHINE", "STORE", "KEY", "NAME", "THUMBPRINT", "NOT AFTER",
           "SUBJECT");
    cJSON *o;
    cJSON_ArrayForEach(o, rows)
    {
        /* A stand-in is marked after its subject: the columns stay where scripts read them. */
        const char *orig = ws_cmd_json_str(o, "original_thumbprint");
        char mark[64] = "";
        if (orig)
            snprintf(mark, sizeof mark, "  [stand-in for %s]", orig);
        printf("%-8s %-5s %-3s %-14s %-40s %-20s %s%s\n", str(o, "machine"), str(o, "store"),
               cJSON_IsTrue(cJSON_GetObjectItem(o, "has_private_key")) ? "yes" : "no", str(o, "name"),
               str(o, "thumbprint"), str(o, "not_after"), str(o, "subject"), mark);
    }
}

static int cert_list(int argc, char **argv)
{
    const char *machine = NULL, *store = NULL;
    const ws_opt opts[] = {WS_OPT_STR("machine", &machine), WS_OPT_CALL("store", &store, take_store), WS_OPT_END};
    ws_cli cli;
    ws_state *st;
    int rc = ws_cmd_parse_open(argc, argv, opts, WS_OPT_JSON, 0, 0, &cli, &st);
    if (rc)
        return rc;
    if (machine && (rc = ws_cmd_machine(st, machine, NULL, NULL)))
        return ws_cmd_close(st, rc);
    list_ctx ctx = {.st = st, .rows = cJSON_CreateArray()};
    if (ws_store_foreach(st, machine, store, add_row, &ctx, &ctx.e) != 0 || ctx.failed) {
        ws_warn("%s", ctx.e.msg);
        cJSON_Delete(ctx.rows);
        return ws_cmd_close(st, WS_EXIT_FAIL);
    }
    return ws_cmd_close(st, ws_cmd_output(cli.json, ctx.rows, print_list));
}

/* A key's access list, as certutil -store -v My prints it under the key's container
 * ("Allow Full Control NT AUTHORITY\SYSTEM"): "key_access" [{"account","rights"}], or
 * null when the lab never recorded one (keyacl.h). */
static void add_key_access(ws_state *st, cJSON *loc, const ws_store_entry *ent)
{
    cJSON *acl = NULL;
    if (ws_keyacl_json(st, ent->machine, ent->store, ent->cert_name, &acl, NULL) != 0 || !acl)
        cJSON_AddNullToObject(loc, "key_access");
    else
        cJSON_AddItemToObject(loc, "key_access", acl);
}

static int add_location(const ws_store_entry *ent, void *arg)
{
    void **a = arg;
    if (ent->machine && strcmp(ent->cert_name, a[0]) == 0) {
        cJSON *loc = cJSON_CreateObject();
        cJSON_AddStringToObject(loc, "machine", ent->machine);
        cJSON_AddStringToObject(loc, "store", ent->store);
        cJSON_AddBoolToObject(loc, "has_private_key", ent->has_private_key);
        if (ent->has_private_key)
            add_key_access(a[2], loc, ent);
        cJSON_AddItemToArray(a[1], loc);
    }
    return 0;
}

/* The key's access list under its store line, in certutil's words. */
static void print_key_access(const cJSON *loc)
{
    if (!cJSON_IsTrue(cJSON_GetObjectItem(loc, "has_private_key")))
        return;
    const cJSON *acl = cJSON_GetObjectItem(loc, "key_access"), *en;
    if (!cJSON_IsArray(acl)) {
        printf("    Private key access: not recorded (every service of %s may use it)\n", str(loc, "machine"));
        return;
    }
    printf("    Private key access (Manage Private Keys):\n");
    cJSON_ArrayForEach(en, acl) printf("      Allow %-13s %s\n", str(en, "rights"), str(en, "account"));
}

static void print_cert(const cJSON *o)
{
    static const char *const fields[][2] = {
        {"Name", "name"},         {"Thumbprint", "thumbprint"}, {"Subject", "subject"},
        {"Issuer", "issuer"},     {"SANs", "sans"},             {"EKUs", "ekus"},
        {"Key usage", "key_usage"}, {"CSP", "csp"},             {"Not before", "not_before"},
        {"Not after", "not_after"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        printf("%-12s %s\n", fields[i][0], str(o, fields[i][1]));
    if (ws_cmd_json_str(o, "original_thumbprint"))
        printf("Stand-in for: %s (the customer's certificate: same fields, a new key; lab init --from)\n",
               ws_cmd_json_str(o, "original_thumbprint"));
    printf("%-12s %s\n", "Self-signed", cJSON_IsTrue(cJSON_GetObjectItem(o, "self_signed")) ? "yes" : "no");
    printf("%-12s %s\n", "Private key",
           cJSON_IsTrue(cJSON_GetObjectItem(o, "vault_has_private_key")) ? "in the vault" : "none");
    cJSON *loc;
    printf("Stores:\n");
    cJSON_ArrayForEach(loc, cJSON_GetObjectItem(o, "stores"))
    {
        printf("  %s\\LocalMachine\\%s%s\n", str(loc, "machine"), str(loc, "store"),
               cJSON_IsTrue(cJSON_GetObjectItem(loc, "has_private_key")) ? " (with private key)" : "");
        print_key_access(loc);
    }
}

static int cert_show(int argc, char **argv)
{
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, NULL, WS_OPT_JSON, "which certificate? (wapsim cert show NAME)", &cli);
    if (rc)
        return rc;
    char name[128];
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    ws_error e;
    cJSON *o = resolve(st, cli.argv[0], name, &e) == 0 ? describe(st, name, &e) : NULL;
    if (!o) {
        ws_state_close(st);
        ws_warn("%s", e.msg);
        return WS_EXIT_USAGE;
    }
    cJSON *where = cJSON_AddArrayToObject(o, "stores");
    void *args[3] = {(void *)name, where, st};
    ws_store_foreach(st, NULL, NULL, add_location, args, NULL);
    return ws_cmd_close(st, ws_cmd_output(cli.json, o, print_cert));
}

static int cert_export(int argc, char **argv)
{
    const char *password = NULL, *out = NULL;
    int pem_flag = 0, der_flag = 0, pfx_flag = 0;
    const ws_opt opts[] = {WS_OPT_FLAG("pem", &pem_flag),       WS_OPT_FLAG("der", &der_flag),
                           WS_OPT_FLAG("pfx", &pfx_flag),       WS_OPT_STR("password", &password),
                           WS_OPT_STR("out", &out),             WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, 0, "which certificate? (wapsim cert export NAME ...)", &cli);
    if (rc)
        return rc;
    if (pem_flag + der_flag + pfx_flag != 1)
        return ws_cmd_usage_error("give exactly one of --pem, --der or --pfx");
    int format = pem_flag ? 'p' : der_flag ? 'd' : 'x';
    if (format == 'x' && !password)
        return ws_cmd_usage_error("--pfx needs --password");
    if (format != 'x' && password)
        return ws_cmd_usage_error("--password goes with --pfx only");
    if (!out)
        return ws_cmd_usage_error("--out FILE is required");
    char name[128];
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    X509 *c = NULL;
    EVP_PKEY *k = NULL;
    char *csp = NULL;
    ws_error e;
    rc = resolve(st, cli.argv[0], name, &e);
    if (rc == 0)
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

/* What cert new and import-file print without --json: the thumbprint alone. */
static void print_thumbprint(const cJSON *o)
{
    printf("%s\n", str(o, "thumbprint"));
}

/* The vault's rule for names (vault.c), checked before anything is made. */
static int name_ok(const char *name)
{
    return name && *name && strlen(name) <= 64 && !strpbrk(name, " \t\r\n/\\:,");
}

/* Canonical spelling of a comma-separated list, or a usage error naming the bad item.
 * kind 'e': EKUs (OpenSSL short or long names, or dotted OIDs); 'k': key usages;
 * 's': SANs (DNS:name, IP:address, email:..., URI:...). */
static int canon_list(int kind, const char *option, const char *text, char *out, size_t n)
{
    static const char *const key_usages[] = {"digitalSignature", "nonRepudiation", "keyEncipherment",
                                             "dataEncipherment", "keyAgreement",   "keyCertSign",
                                             "cRLSign",          "encipherOnly",   "decipherOnly"};
    static const char *const san_types[] = {"DNS", "IP", "email", "URI"};
    char *copy = ws_strdup(text);
    size_t len = 0;
    int rc = 0;
    out[0] = '\0';
    if (!*text)
        rc = ws_cmd_usage_error("empty %s", option);
    for (char *save = NULL, *tok = rc ? NULL : strtok_r(copy, ",", &save); tok && !rc;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && end[-1] == ' ')
            *--end = '\0';
        char item[512];
        if (kind == 'e') {
            ASN1_OBJECT *obj = *tok ? OBJ_txt2obj(tok, 0) : NULL;
            if (!obj) {
                rc = ws_cmd_usage_error("unknown %s '%s' (e.g. serverAuth, clientAuth, codeSigning or an OID)",
                                        option, tok);
                break;
            }
            ASN1_OBJECT_free(obj);
            snprintf(item, sizeof item, "%s", tok);
        } else if (kind == 'k') {
            size_t i;
            for (i = 0; i < sizeof key_usages / sizeof key_usages[0]; i++)
                if (ws_streq_ci(tok, key_usages[i]))
                    break;
            if (i == sizeof key_usages / sizeof key_usages[0]) {
                rc = ws_cmd_usage_error("unknown %s '%s' (digitalSignature, nonRepudiation, keyEncipherment, "
                                        "dataEncipherment, keyAgreement, keyCertSign, cRLSign, encipherOnly, "
                                        "decipherOnly)",
                                        option, tok);
                break;
            }
            snprintf(item, sizeof item, "%s", key_usages[i]);
        } else {
            char *colon = strchr(tok, ':');
            size_t i = sizeof san_types / sizeof san_types[0];
            if (colon && colon[1]) {
                *colon = '\0';
                for (i = 0; i < sizeof san_types / sizeof san_types[0]; i++)
                    if (ws_streq_ci(tok, san_types[i]))
                        break;
                *colon = ':';
            }
            if (i == sizeof san_types / sizeof san_types[0]) {
                rc = ws_cmd_usage_error("bad %s entry '%s' (write DNS:name or IP:address)", option, tok);
                break;
            }
            unsigned char addr[16];
            if (strcmp(san_types[i], "IP") == 0 && inet_pton(AF_INET, colon + 1, addr) != 1 &&
                inet_pton(AF_INET6, colon + 1, addr) != 1) {
                rc = ws_cmd_usage_error("bad %s entry '%s': '%s' is not an IP address", option, tok, colon + 1);
                break;
            }
            snprintf(item, sizeof item, "%s:%s", san_types[i], colon + 1);
        }
        if (!item[0] || len + strlen(item) + 2 > n) {
            rc = ws_cmd_usage_error(item[0] ? "%s is too long" : "empty item in %s", option);
            break;
        }
        len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "", item);
    }
    free(copy);
    return rc;
}

static int cert_new(int argc, char **argv)
{
    const char *subject = NULL, *san = NULL, *eku = NULL, *ku = NULL, *csp_text = NULL, *issuer_name = NULL,
               *nb_text = NULL;
    int self_signed = 0, days = 365, bits = 2048;
    const ws_opt opts[] = {WS_OPT_STR("subject", &subject),
                           WS_OPT_STR("san", &san),
                           WS_OPT_STR("eku", &eku),
                           WS_OPT_STR("key-usage", &ku),
                           WS_OPT_STR("csp", &csp_text),
                           WS_OPT_FLAG("self-signed", &self_signed),
                           WS_OPT_STR("issuer", &issuer_name),
                           WS_OPT_INT("days", &days, 1, 36500, "days"),
                           WS_OPT_STR("not-before", &nb_text),
                           WS_OPT_INT("key-bits", &bits, 1024, 8192, "bits"),
                           WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, WS_OPT_JSON,
                              "which name? (wapsim cert new NAME --subject DN ...)", &cli);
    if (rc)
        return rc;
    const char *name = cli.argv[0];
    int json = cli.json;
    if (!name_ok(name))
        return ws_cmd_usage_error("bad certificate name '%s' (up to 64 characters, no spaces, commas, slashes or "
                                  "colons)",
                                  name);
    if (!subject)
        return ws_cmd_usage_error("--subject DN is required (e.g. --subject \"CN=Remote Console Connect\")");
    if (self_signed == !!issuer_name)
        return ws_cmd_usage_error("give exactly one of --self-signed or --issuer CERTNAME");
    char san_c[1024] = "", eku_c[1024] = "", ku_c[512] = "";
    if ((san && (rc = canon_list('s', "--san", san, san_c, sizeof san_c))) ||
        (eku && (rc = canon_list('e', "--eku", eku, eku_c, sizeof eku_c))) ||
        (ku && (rc = canon_list('k', "--key-usage", ku, ku_c, sizeof ku_c))))
        return rc;
    const ws_csp *csp = ws_csp_find(csp_text ? csp_text : DEFAULT_NEW_CSP);
    if (!csp)
        return ws_cmd_usage_error("unknown CSP \"%s\" (not a provider on Windows Server 2012 R2; e.g. \"%s\")",
                                  csp_text, WS_CSP_ENHANCED_RSA_AES);
    if (bits % 8 != 0)
        return ws_cmd_usage_error("bad --key-bits '%d' (1024..8192, a multiple of 8)", bits);
    int64_t not_before = 0;
    ws_error e;
    if (nb_text && ws_time_parse(nb_text, &not_before, &e) != 0)
        return ws_cmd_usage_error("bad --not-before: %s", e.msg);

    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    X509 *issuer = NULL, *cert = NULL;
    EVP_PKEY *issuer_key = NULL, *key = NULL;
    rc = WS_EXIT_USAGE;
    if (ws_vault_exists(st, name)) {
        ws_warn("a certificate named '%s' already exists", name);
        goto out;
    }
    char issuer_found[128];
    if (issuer_name) {
        if (resolve(st, issuer_name, issuer_found, &e) != 0 ||
            ws_vault_get(st, issuer_found, &issuer, &issuer_key, NULL, &e) != 0) {
            ws_warn("--issuer: %s", e.msg);
            goto out;
        }
        if (!issuer_key) {
            ws_warn("issuer '%s' has no private key in the vault: it cannot sign certificates", issuer_name);
            goto out;
        }
    }
    if (!nb_text)
        not_before = ws_clock_now(st, NULL);
    ws_cert_spec spec = {
        .subject = subject,
        .san = san_c[0] ? san_c : NULL,
        .eku = eku_c[0] ? eku_c : NULL,
        .key_usage = ku_c[0] ? ku_c : NULL,
        .key_bits = bits,
        .not_before = not_before,
        .not_after = not_before + (int64_t)days * 86400,
    };
    if (ws_cert_create(&spec, issuer, issuer_key, &cert, &key, &e) != 0) {
        ws_warn("%s", e.msg);
        goto out;
    }
    if (ws_vault_put(st, name, cert, key, csp->name, &e) != 0) {
        ws_warn("%s", e.msg);
        rc = WS_EXIT_FAIL;
        goto out;
    }
    char tp[41];
    ws_cert_thumbprint(cert, tp);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "thumbprint", tp);
    rc = ws_cmd_output(json, o, print_thumbprint);
out:
    X509_free(issuer);
    EVP_PKEY_free(issuer_key);
    X509_free(cert);
    EVP_PKEY_free(key);
    return ws_cmd_close(st, rc);
}

/* Shared by import and remove: NAME --machine M --store My|Root. */
typedef struct store_args {
    const char *lab, *name, *machine, *store;
    int public_only;
    char found[128]; /* name as the vault knows it (NAME may be a thumbprint) */
} store_args;

static int parse_store_args(int argc, char **argv, int allow_public_only, const char *verb, store_args *a)
{
    memset(a, 0, sizeof *a);
    ws_opt opts[] = {WS_OPT_STR("machine", &a->machine), WS_OPT_CALL("store", &a->store, take_store),
                     WS_OPT_FLAG("public-only", &a->public_only), WS_OPT_END};
    if (!allow_public_only)
        opts[2] = (ws_opt)WS_OPT_END;
    ws_cli cli;
    char missing[128];
    snprintf(missing, sizeof missing, "which certificate? (wapsim cert %s NAME --machine M --store My|Root)", verb);
    int rc = ws_cmd_parse_arg(argc, argv, opts, 0, missing, &cli);
    if (rc)
        return rc;
    a->lab = cli.lab;
    a->name = cli.argv[0];
    if (!a->machine)
        return ws_cmd_usage_error("--machine M is required");
    if (!a->store)
        return ws_cmd_usage_error("--store My|Root is required");
    return 0;
}

/* Opens the lab for import or remove: the machine must exist and the certificate be
 * in the vault (its key in *k when k is not NULL). 0, or the exit status with
 * nothing left open. */
static int open_store_cert(store_args *a, ws_state **st, X509 **c, EVP_PKEY **k)
{
    ws_error e;
    int rc = ws_cmd_open_lab(a->lab, st);
    if (rc)
        return rc;
    if ((rc = ws_cmd_machine(*st, a->machine, NULL, NULL)) == 0 &&
        (resolve(*st, a->name, a->found, &e) != 0 || ws_vault_get(*st, a->found, c, k, NULL, &e) != 0))
        rc = ws_cmd_usage_error("%s", e.msg);
    if (rc == 0)
        a->name = a->found;
    if (rc)
        ws_state_close(*st);
    return rc;
}

static int cert_import(int argc, char **argv)
{
    store_args a;
    ws_state *st = NULL;
    X509 *c = NULL;
    EVP_PKEY *k = NULL;
    ws_error e;
    int rc = parse_store_args(argc, argv, 1, "import", &a);
    if (rc || (rc = open_store_cert(&a, &st, &c, &k)))
        return rc;
    int with_key = k && !a.public_only, had_key = 0;
    int present = ws_store_contains(st, a.machine, a.store, a.name, &had_key);
    char tp[41];
    ws_cert_thumbprint(c, tp);
    if (present && (had_key || !with_key)) {
        printf("%s (%s) is already in %s\\LocalMachine\\%s%s; nothing changed.\n", a.name, tp, a.machine, a.store,
               had_key ? " with its private key" : "");
        rc = 0;
        goto out;
    }
    char *subject = ws_cert_subject(c);
    rc = ws_cmd_commit(st,
                       ws_state_begin(st, &e) == 0 && ws_store_add(st, a.machine, a.store, a.name, with_key, &e) == 0 &&
                           (!with_key || ws_keyacl_set_import_default(st, a.machine, a.store, a.name, &e) == 0) &&
                           ws_event_write(st, a.machine, WS_EV_CERT_1006, a.store, subject, tp,
                                          with_key ? "with its private key" : "public key only") == 0,
                       &e);
    free(subject);
    if (rc != 0)
        goto out;
    printf("Installed %s (%s) in %s\\LocalMachine\\%s%s.\n", a.name, tp, a.machine, a.store,
           with_key ? " with its private key"
           : k      ? " (public key only)"
                    : " (public key only: the vault has no private key)");
out:
    X509_free(c);
    EVP_PKEY_free(k);
    return ws_cmd_close(st, rc);
}

static int cert_remove(int argc, char **argv)
{
    store_args a;
    ws_state *st = NULL;
    X509 *c = NULL;
    ws_error e;
    int rc = parse_store_args(argc, argv, 0, "remove", &a);
    if (rc || (rc = open_store_cert(&a, &st, &c, NULL)))
        return rc;
    rc = WS_EXIT_USAGE;
    if (!ws_store_contains(st, a.machine, a.store, a.name, NULL)) {
        ws_warn("certificate '%s' is not in %s\\LocalMachine\\%s", a.name, a.machine, a.store);
        goto out;
    }
    char tp[41];
    ws_cert_thumbprint(c, tp);
    char *subject = ws_cert_subject(c);
    rc = ws_cmd_commit(st,
                       ws_state_begin(st, &e) == 0 && ws_store_remove(st, a.machine, a.store, a.name, &e) == 0 &&
                           ws_event_write(st, a.machine, WS_EV_CERT_1004, a.store, subject, tp) == 0,
                       &e);
    free(subject);
    if (rc != 0)
        goto out;
    printf("Removed %s (%s) from %s\\LocalMachine\\%s.\n", a.name, tp, a.machine, a.store);
out:
    X509_free(c);
    return ws_cmd_close(st, rc);
}

/* --rights read|full, by its canonical name. */
static int take_rights(void *dest, const char *value)
{
    const char **rights = dest;
    if (!(*rights = ws_keyacl_rights_name(value)))
        return ws_cmd_usage_error("unknown rights '%s' (use read or full)", value);
    return 0;
}

static void print_grant(const cJSON *o)
{
    const char *verb = cJSON_IsTrue(cJSON_GetObjectItem(o, "changed")) ? "" : " (unchanged)";
    printf("%s\\LocalMachine\\%s: private key of %s (%s)%s: {%s}, was {%s}.\n", str(o, "machine"), str(o, "store"),
           str(o, "name"), str(o, "thumbprint"), verb, str(o, "key_access"), str(o, "was"));
}

/* Manage Private Keys: change one account's entry, log 4670 [model], print both lists. */
static int cert_grant(int argc, char **argv)
{
    const char *machine = NULL, *account_text = NULL, *rights = WS_KEYACL_READ, *store = "My";
    int revoke = 0;
    const ws_opt opts[] = {WS_OPT_STR("machine", &machine), WS_OPT_STR("account", &account_text),
                           WS_OPT_CALL("rights", &rights, take_rights), WS_OPT_CALL("store", &store, take_store),
                           WS_OPT_FLAG("revoke", &revoke), WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, WS_OPT_JSON,
                              "which certificate? (wapsim cert grant NAME --machine M --account ACCOUNT)", &cli);
    if (rc)
        return rc;
    char account[WS_KEYACL_ACCOUNT_MAX], name[128], was[1024], now[1024], tp[41];
    ws_error e;
    if (!machine)
        return ws_cmd_usage_error("--machine M is required");
    if (!account_text)
        return ws_cmd_usage_error("--account ACCOUNT is required (e.g. \"NT AUTHORITY\\NETWORK SERVICE\")");
    if (ws_keyacl_account_canon(account_text, account, &e) != 0)
        return ws_cmd_usage_error("--account: %s", e.msg);
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    if ((rc = ws_cmd_machine(st, machine, NULL, NULL)))
        return ws_cmd_close(st, rc);
    if (resolve(st, cli.argv[0], name, &e) != 0 || ws_vault_thumbprint(st, name, tp) != 0) {
        ws_warn("%s", e.msg);
        return ws_cmd_close(st, WS_EXIT_USAGE);
    }
    int has_key = 0;
    if (!ws_store_contains(st, machine, store, name, &has_key) || !has_key) {
        ws_warn("certificate '%s' is not in %s\\LocalMachine\\%s with its private key: no key to grant access to",
                name, machine, store);
        return ws_cmd_close(st, WS_EXIT_USAGE);
    }
    ws_keyacl_describe(st, machine, store, name, was, sizeof was);
    int changed = 1, ok = ws_state_begin(st, &e) == 0, r = 0;
    if (ok && revoke)
        ok = (r = ws_keyacl_revoke(st, machine, store, name, account, &e)) == 0;
    else if (ok)
        ok = ws_keyacl_grant(st, machine, store, name, account, rights, &changed, &e) == 0;
    ws_keyacl_describe(st, machine, store, name, now, sizeof now);
    if (ok && changed) {
        char change[300];
        snprintf(change, sizeof change, revoke ? "removed %s" : "%s given %s", account, rights);
        ok = ws_event_write(st, machine, WS_EV_SECURITY_4670, "CONTOSO\\hvadmin", name, tp, store, change, was,
                            now) == 0;
    }
    if (!ok && (r == WS_NOT_FOUND || strstr(e.msg, "last entry"))) {
        ws_state_rollback(st);
        ws_warn("%s", e.msg);
        return ws_cmd_close(st, WS_EXIT_USAGE);
    }
    if ((rc = ws_cmd_commit(st, ok, &e)) != 0)
        return ws_cmd_close(st, rc);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "thumbprint", tp);
    cJSON_AddStringToObject(o, "machine", machine);
    cJSON_AddStringToObject(o, "store", store);
    cJSON_AddStringToObject(o, "account", account);
    cJSON_AddStringToObject(o, "rights", revoke ? "none" : rights);
    cJSON_AddBoolToObject(o, "changed", changed);
    cJSON_AddStringToObject(o, "key_access", now);
    cJSON_AddStringToObject(o, "was", was);
    return ws_cmd_close(st, ws_cmd_output(cli.json, o, print_grant));
}

/* Whether the file is a PFX: neither PEM text nor a DER certificate (ws_cert_read's
 * order), so its key bag could carry a CSP attribute. */
static int file_is_pfx(const unsigned char *data, size_t len)
{
    if (len > 10 && memmem(data, len, "-----BEGIN", 10))
        return 0;
    X509 *c = ws_cert_from_der(data, len);
    X509_free(c);
    return c == NULL;
}

/* A certificate file made elsewhere (PEM, DER or PFX), with its key and CSP when it
 * has them; *pfx (if not NULL) says whether it was a PFX. 0, or one line naming the
 * file and exit 2. */
static int read_cert_file(const char *file, const char *password, X509 **c, EVP_PKEY **k, char **csp, int *pfx)
{
    unsigned char *data = NULL;
    size_t len = 0;
    ws_error e;
    if (ws_read_file(file, CERT_FILE_MAX, &data, &len, &e) != 0)
        return ws_cmd_usage_error("%s", e.msg);
    if (pfx)
        *pfx = len > 0 && file_is_pfx(data, len);
    int rc = ws_cert_read(data, len, password, c, k, csp, &e);
    OPENSSL_cleanse(data, len);
    free(data);
    if (rc != 0)
        return ws_cmd_usage_error("%s: %s%s", file, e.msg,
                                  !password && strstr(e.msg, "password") ? " (give --password P)" : "");
    return 0;
}

static int cert_import_file(int argc, char **argv)
{
    const char *name = NULL, *password = NULL;
    const ws_opt opts[] = {WS_OPT_STR("name", &name), WS_OPT_STR("password", &password), WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, WS_OPT_JSON,
                              "which file? (wapsim cert import-file FILE --name NAME)", &cli);
    if (rc)
        return rc;
    int json = cli.json;
    const char *file = cli.argv[0];
    if (!name)
        return ws_cmd_usage_error("--name NAME is required (the name the vault keeps it under)");
    if (!name_ok(name))
        return ws_cmd_usage_error("bad certificate name '%s' (up to 64 characters, no spaces, commas, slashes or "
                                  "colons)",
                                  name);
    X509 *c = NULL;
    EVP_PKEY *k = NULL;
    char *csp = NULL;
    ws_error e;
    if ((rc = read_cert_file(file, password, &c, &k, &csp, NULL)))
        return rc;
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st))) {
        X509_free(c);
        EVP_PKEY_free(k);
        free(csp);
        return rc;
    }
    char tp[41];
    ws_cert_thumbprint(c, tp);
    rc = WS_EXIT_USAGE;
    if (ws_vault_exists(st, name)) {
        ws_warn("a certificate named '%s' already exists", name);
        goto out;
    }
    if (ws_vault_put(st, name, c, k, csp, &e) != 0) {
        ws_warn("%s", e.msg);
        rc = WS_EXIT_FAIL;
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "thumbprint", tp);
    cJSON_AddBoolToObject(o, "has_private_key", k != NULL);
    if (csp)
        cJSON_AddStringToObject(o, "csp", csp);
    else
        cJSON_AddNullToObject(o, "csp");
    rc = ws_cmd_output(json, o, print_thumbprint);
out:
    X509_free(c);
    EVP_PKEY_free(k);
    free(csp);
    return ws_cmd_close(st, rc);
}

static int cert_check(int argc, char **argv)
{
    const char *password = NULL, *role_text = NULL, *fqdn = NULL;
    const ws_opt opts[] = {WS_OPT_STR("password", &password), WS_OPT_STR("role", &role_text),
                           WS_OPT_STR("fqdn", &fqdn), WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, WS_OPT_JSON,
                              "which file? (wapsim cert check FILE --role vmm|gateway|host)", &cli);
    if (rc)
        return rc;
    int json = cli.json;
    const char *file = cli.argv[0];
    ws_certreq_role role;
    if (!role_text)
        return ws_cmd_usage_error("--role vmm|gateway|host is required");
    if (ws_certreq_role_parse(role_text, &role) != 0)
        return ws_cmd_usage_error("unknown role '%s' (use vmm, gateway or host)", role_text);
    if (fqdn && !*fqdn)
        return ws_cmd_usage_error("--fqdn needs a name");
    if (role == WS_CERTREQ_GATEWAY && !fqdn)
        return ws_cmd_usage_error("--fqdn NAME is required for the gateway role (the RD Gateway FQDN users "
                                  "connect to)");
    if (role == WS_CERTREQ_VMM && fqdn)
        return ws_cmd_usage_error("--fqdn goes with the gateway and host roles only");
    X509 *c = NULL;
    EVP_PKEY *k = NULL;
    char *csp = NULL;
    int pfx = 0;
    if ((rc = read_cert_file(file, password, &c, &k, &csp, &pfx)))
        return rc;
    ws_certreq_problem problems[WS_CERTREQ_MAX_PROBLEMS];
    int n = ws_certreq_check(c, k, csp, pfx, role, fqdn, ws_wall_ms() / 1000, problems, WS_CERTREQ_MAX_PROBLEMS);
    if (n > WS_CERTREQ_MAX_PROBLEMS)
        n = WS_CERTREQ_MAX_PROBLEMS;
    if (n < 0)
        n = 0;
    int fit = !ws_certreq_has_error(problems, n);
    const char *role_name = ws_certreq_role_name(role);
    if (json) {
        char tp[41];
        ws_cert_thumbprint(c, tp);
        char *subject = ws_cert_subject(c);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", file);
        cJSON_AddStringToObject(o, "role", role_name);
        cJSON_AddStringToObject(o, "thumbprint", tp);
        cJSON_AddStringToObject(o, "subject", subject);
        cJSON_AddBoolToObject(o, "fit", fit);
        cJSON *list = cJSON_AddArrayToObject(o, "problems");
        for (int i = 0; i < n; i++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "id", problems[i].id);
            cJSON_AddStringToObject(p, "severity", ws_certreq_severity_name(problems[i].severity));
            cJSON_AddStringToObject(p, "text", problems[i].text);
            cJSON_AddItemToArray(list, p);
        }
        ws_cmd_print_json(o);
        free(subject);
    } else {
        for (int i = 0; i < n; i++)
            printf("%s %s: %s\n", ws_certreq_severity_name(problems[i].severity), problems[i].id, problems[i].text);
        if (fit)
            printf("fit for the %s role\n", role_name);
    }
    X509_free(c);
    EVP_PKEY_free(k);
    free(csp);
    return fit ? WS_EXIT_OK : WS_EXIT_FAIL;
}

const ws_cmd ws_cmds_cert[] = {
    {"cert", "list", cert_list, "[--machine M] [--store My|Root] [--json]",
     "Certificates, one row per certificate and store.",
     "Without filters, vault certificates that are in no store are listed too. A stand-in\n"
     "(lab init --from: the customer's certificate remade with a new key) is marked after\n"
     "its subject: \"[stand-in for <the customer's thumbprint>]\".\n"
     "  --json   [{\"name\",\"thumbprint\",\"subject\",\"sans\",\"ekus\",\"key_usage\",\"csp\",\"not_before\",\n"
     "             \"not_after\",\"issuer\",\"self_signed\",\"original_thumbprint\" (null: not a stand-in),\n"
     "             \"machine\",\"store\",\"has_private_key\"}]\n"},
    {"cert", "show", cert_show, "NAME [--json]", "One certificate: its fields and the stores that hold it.",
     "NAME is the certificate's name in the lab, or its thumbprint. Where a store holds its\n"
     "private key, the key's access list as certutil -store -v and Manage Private Keys show\n"
     "it (\"not recorded\": every service of that machine may use it; see cert grant).\n"
     "  --json   {...the fields, \"original_thumbprint\" (a stand-in's: the customer's certificate's,\n"
     "           else null), \"stores\":[{\"machine\",\"store\",\"has_private_key\",\n"
     "            \"key_access\":[{\"account\",\"rights\"}] or null}]}\n"},
    {"cert", "export", cert_export, "NAME (--pem | --der | --pfx --password P) --out FILE",
     "Export a certificate (a PFX carries the key and its CSP attribute).",
     "NAME is the certificate's name in the lab, or its thumbprint.\n"
     "  --pem, --der   the certificate alone\n"
     "  --pfx          PKCS#12 with the private key (when the vault has it), whose bag\n"
     "                 carries the CSP as \"Microsoft CSP Name\"; written with mode 0600\n"},
    {"cert", "new", cert_new,
     "NAME --subject DN [--san DNS:a,IP:b,...] [--eku serverAuth,clientAuth,...]\n"
     "       [--key-usage digitalSignature,keyEncipherment,...] [--csp \"NAME\"] (--self-signed | --issuer CERTNAME)\n"
     "       [--days N] [--not-before TIME] [--key-bits N] [--json]",
     "New-SelfSignedCertificate / certreq: a new key and certificate, kept in the vault.",
     "The certificate and its key stay with the administrator (the vault), in no machine's\n"
     "store: install them with 'wapsim cert import'. Prints the thumbprint. Logs no event:\n"
     "no machine changes.\n"
     "  --subject DN      \"CN=Remote Console Connect\" or \"CN=a, O=b\" (most specific first)\n"
     "  --san LIST        subject alternative names: DNS:name, IP:address, email:..., URI:...\n"
     "  --eku LIST        enhanced key usages: serverAuth, clientAuth, codeSigning, ... or OIDs\n"
     "                    (none given: no extension, which Windows reads as every use)\n"
     "  --key-usage LIST  digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment,\n"
     "                    keyAgreement, keyCertSign, cRLSign, encipherOnly, decipherOnly\n"
     "  --csp \"NAME\"      the key's Cryptographic Service Provider, a provider Windows Server\n"
     "                    2012 R2 has; e.g. \"Microsoft Enhanced RSA and AES Cryptographic Provider\"\n"
     "                    (makecert -sy 24). Default [model]: \"Microsoft Software Key Storage\n"
     "                    Provider\", as New-SelfSignedCertificate and certreq use\n"
     "  --self-signed     signed by its own key; or --issuer CERTNAME: signed by that vault\n"
     "                    certificate's key (CERTNAME may be its thumbprint)\n"
     "  --days N          validity from --not-before (default 365)\n"
     "  --not-before TIME 2026-11-25T18:00:00Z, 2026-11-25 or @unix; default: now on the lab clock\n"
     "  --key-bits N      RSA key size, 1024..8192 (default 2048)\n"
     "  --json            {\"name\",\"thumbprint\"}\n"},
    {"cert", "import", cert_import, "NAME --machine M --store My|Root [--public-only]",
     "Import-PfxCertificate / Import-Certificate: install a vault certificate on a machine.",
     "With its private key when the vault has one (Import-PfxCertificate), else or with\n"
     "--public-only the certificate alone (Import-Certificate); an imported key's access list\n"
     "is what Windows gives it: SYSTEM and Administrators, Full Control (see cert grant).\n"
     "Stores: My (Personal) or\n"
     "Root (Trusted Root Certification Authorities) of LocalMachine. Logs event 1006 [model]\n"
     "on the machine (Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational).\n"
     "A running service that read the certificate at start keeps what it read. NAME is the\n"
     "certificate's name in the lab, or its thumbprint; the thumbprint is printed.\n"},
    {"cert", "remove", cert_remove, "NAME --machine M --store My|Root",
     "Remove-Item Cert:\\LocalMachine\\<store>\\<thumbprint>: take a certificate out of a store.",
     "Refuses a certificate that is not in that store. Logs event 1004 [model] on the\n"
     "machine. The certificate stays in the vault. NAME is the certificate's name in the\n"
     "lab, or its thumbprint; the thumbprint is printed.\n"},
    {"cert", "import-file", cert_import_file, "FILE --name NAME [--password P] [--json]",
     "Bring a certificate made elsewhere into the vault (PEM, DER or PFX).",
     "PEM may hold the certificate followed by its key; a PFX holds the key and its CSP as\n"
     "the \"Microsoft CSP Name\" bag attribute, which is kept (a PFX without it lands in the\n"
     "default PROV_RSA_FULL provider when VMM uses the key [model]); PEM and DER carry no CSP.\n"
     "Prints the thumbprint. Logs no event: no machine changes.\n"
     "  --password P  the PFX's password (or an encrypted PEM key's)\n"
     "  --json        {\"name\",\"thumbprint\",\"has_private_key\",\"csp\"}\n"},
    {"cert", "check", cert_check, "FILE [--password P] --role vmm|gateway|host [--fqdn NAME] [--json]",
     "Lint a certificate file from a real deployment against what its role requires.",
     "Reads PEM, DER or PFX; needs no lab. Prints one line per problem, \"error ID: text\" or\n"
     "\"warning ID: text\", and exits 1 when any is an error; otherwise \"fit for the ROLE role\"\n"
     "(after any warnings) and exit 0. A file that cannot be read, or a wrong PFX password: exit 2.\n"
     "  --role vmm      the VMM certificate that signs console tokens: Key Usage Digital\n"
     "                  Signature, EKU Client Authentication (1.3.6.1.5.5.7.3.2), a PFX with\n"
     "                  its private key in a SHA-256 capable CSP (\"Microsoft Enhanced RSA and\n"
     "                  AES Cryptographic Provider\"); self-signed: must go into Root on each\n"
     "                  host and on the gateway\n"
     "  --role gateway  the RD Gateway's TLS certificate: EKU Server Authentication\n"
     "                  (1.3.6.1.5.5.7.3.1), --fqdn matching a DNS SAN (or the CN when there\n"
     "                  is no SAN), no wildcard\n"
     "  --role host     a Hyper-V host's TLS certificate: EKU Server Authentication, CN or\n"
     "                  SAN = --fqdn when given\n"
     "  Every role: valid now and for 30 more days, a key of at least 2048 bits, not\n"
     "  signed with SHA-1 or MD5.\n"
     "  Problem ids: expired, not-yet-valid, expires-soon, eku, key-usage, no-private-key,\n"
     "  csp, csp-unknown, key-size, name-mismatch, no-dns-san, wildcard,\n"
     "  signature-algorithm, self-signed-root.\n"
     "  --password P    the PFX's password (or an encrypted PEM key's)\n"
     "  --json          {\"file\",\"role\",\"thumbprint\",\"subject\",\"fit\",\n"
     "                   \"problems\":[{\"id\",\"severity\",\"text\"}]}\n"},
    {"cert", "grant", cert_grant,
     "NAME --machine M --account ACCOUNT [--rights read|full] [--revoke] [--store My|Root] [--json]",
     "Manage Private Keys: let an account use (or stop it using) a certificate's private key on a machine.",
     "As certlm.msc > Personal > Certificates > the certificate > All Tasks > Manage Private Keys,\n"
     "or icacls on the key's file under C:\\ProgramData\\Microsoft\\Crypto (MachineKeys or Keys).\n"
     "The certificate must be in that store (default My) with its private key. A service uses\n"
     "a key only if its logon account may: directly, through Administrators when it is a\n"
     "local administrator, or through Everyone / Authenticated Users. An import gives SYSTEM\n"
     "and Administrators Full Control; RD Gateway Manager's binding (wapsim gateway set\n"
     "--ssl-cert) gives NETWORK SERVICE Read. A running service keeps the key it opened: the\n"
     "gateway reads it when it starts (wapsim service restart). Logs event 4670 [model] in the\n"
     "machine's Security log. Prints the list before and after; `cert show` lists it.\n"
     "  --account A   DOMAIN\\name, or NETWORK SERVICE, SYSTEM, Administrators, Everyone,\n"
     "                Authenticated Users\n"
     "  --rights R    read (default) or full (Full Control)\n"
     "  --revoke      remove the account's entry (not the last one)\n"
     "  --json        {\"name\",\"thumbprint\",\"machine\",\"store\",\"account\",\"rights\",\"changed\",\n"
     "                 \"key_access\",\"was\"}\n"},
    {0},
};
