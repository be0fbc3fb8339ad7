/* SPDX-License-Identifier: Apache-2.0 */
/* deploy_write: the lab as a deployment file (lab/deployment.h, export block).
 *
 * Reads the state file only, so a running or a stopped lab exports alike. The document
 * follows schema/deployment-v1.schema.json field by field; what the schema has and the
 * lab holds is written, what the lab keeps private is not: no private key (the vault's
 * key_der), no password (accounts, service_password, the portal's spf_password), no
 * stamp id. Certificates go once each, as certs/<vault name>.cer in DER, which is what
 * Export-Certificate -Type CERT writes (README: Collecting a customer's configuration). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/time.h"
#include "crypto/cert.h"
#include "crypto/csp.h"
#include "lab/accounts.h"
#include "lab/balancer.h"
#include "lab/clock.h"
#include "lab/deployment.h"
#include "lab/dns.h"
#include "lab/keyacl.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "lab/vault.h"
#include "lab/vm.h"

/* ---- the vault's certificates ---- */

static int load_certs(ws_state *st, ws_deploy_export *x, ws_error *e)
{
    sqlite3_stmt *s = ws_state_prepare(st,
                                       "SELECT name, der, EXISTS(SELECT 1 FROM store_entries se WHERE"
                                       " se.certificate = c.name) FROM certificates c ORDER BY name",
                                       e);
    if (!s)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ws_export_cert *grown = realloc(x->certs, (x->n_certs + 1) * sizeof *grown);
        if (!grown) {
            sqlite3_finalize(s);
            return ws_seterr(e, "out of memory");
        }
        x->certs = grown;
        ws_export_cert *c = &x->certs[x->n_certs];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", (const char *)sqlite3_column_text(s, 0));
        c->cert = ws_cert_from_der(sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1));
        if (!c->cert) {
            sqlite3_finalize(s);
            return ws_seterr(e, "the vault's certificate %s does not parse", c->name);
        }
        ws_cert_thumbprint(c->cert, c->thumbprint);
        c->exported = sqlite3_column_int(s, 2);
        x->n_certs++;
    }
    return ws_state_finish(st, s, rc, e);
}

static const ws_export_cert *cert_by_name(const ws_deploy_export *x, const char *name)
{
    for (size_t i = 0; i < x->n_certs; i++)
        if (strcmp(x->certs[i].name, name) == 0)
            return &x->certs[i];
    return NULL;
}

int ws_deploy_export_count(const ws_deploy_export *x)
{
    int n = 0;
    for (size_t i = 0; i < x->n_certs; i++)
        n += x->certs[i].exported;
    return n;
}

/* A setting that names a certificate (a vault name or a thumbprint, as ws_vault_resolve
 * reads it) written as the thumbprint under key; a setting the lab does not have writes
 * nothing; one naming neither is a warning (import would take the default). */
static void add_cert_setting(ws_state *st, ws_deploy_export *x, cJSON *obj, const char *machine,
                             const char *setting, const char *key)
{
    char value[256], name[128], tp[41];
    ws_error e;
    if (ws_setting_get(st, machine, setting, value, sizeof value) != 0 || !value[0])
        return;
    int rc = ws_vault_resolve(st, value, name, sizeof name, tp, &e);
    const ws_export_cert *c = rc == 0 ? cert_by_name(x, name) : NULL;
    if (c && !c->exported)
        ws_strv_addf(&x->warnings, "%s: %s %s is in no store: its thumbprint is written, which no file has", machine,
                     key, name);
    if (rc == 0 || tp[0])
        cJSON_AddStringToObject(obj, key, tp);
    else
        ws_strv_addf(&x->warnings, "%s: %s names '%s', neither a certificate of the lab nor a thumbprint: not written",
                     machine, key, value);
}

/* ---- one machine ---- */

/* "a,b,c" as a JSON array of strings, or nothing when empty. */
static void add_list(cJSON *obj, const char *key, const char *text)
{
    ws_strv l = {0};
    if (ws_dns_list_parse(text, &l) == 0 && l.n > 0) {
        cJSON *arr = cJSON_AddArrayToObject(obj, key);
        for (int i = 0; i < l.n; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(l.v[i]));
    }
    ws_strv_free(&l);
}

static void add_host_entry(cJSON *hosts, const char *name, const char *address)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "name", name);
    cJSON_AddStringToObject(h, "address", address);
    cJSON_AddItemToArray(hosts, h);
}

/* The tenant's PC resolves through the lab's hosts file (lab.h): its entries, in order. */
static int client_hosts(ws_state *st, cJSON *dns, ws_error *e)
{
    char path[4200], line[1024];
    snprintf(path, sizeof path, "%s/hosts", st->lab_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : ws_seterr(e, "%s: %s", path, strerror(errno));
    cJSON *hosts = cJSON_AddArrayToObject(dns, "hosts");
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL, *addr = strtok_r(line, " \t\r\n", &save);
        for (char *h = addr ? strtok_r(NULL, " \t\r\n", &save) : NULL; h; h = strtok_r(NULL, " \t\r\n", &save)) {
            if (++n > WS_DNS_MAX_ENTRIES) {
                fclose(f);
                return ws_seterr(e, "%s: more than %d names: the format holds %d", path, WS_DNS_MAX_ENTRIES,
                                 WS_DNS_MAX_ENTRIES);
            }
            add_host_entry(hosts, h, addr);
        }
    }
    fclose(f);
    return 0;
}

/* The machine's resolver (lab/dns.h): its DNS server, conditional forwarders, hosts file. */
static int add_dns(ws_state *st, cJSON *m, const ws_machine *mc, ws_error *e)
{
    cJSON *dns = cJSON_AddObjectToObject(m, "dns");
    if (strcmp(mc->role, "client") == 0)
        return client_hosts(st, dns, e);
    ws_dns_view v;
    if (ws_dns_view_get(st, mc->name, &v, e) != 0)
        return -1;
    cJSON_AddStringToObject(dns, "server", v.server);
    if (v.forwarders.n) {
        cJSON *fw = cJSON_AddArrayToObject(dns, "forwarders");
        for (int i = 0; i < v.forwarders.n; i++)
            cJSON_AddItemToArray(fw, cJSON_CreateString(v.forwarders.v[i]));
    }
    if (v.hosts.n) {
        cJSON *hosts = cJSON_AddArrayToObject(dns, "hosts");
        for (int i = 0; i < v.hosts.n; i++) {
            char *eq = strchr(v.hosts.v[i], '=');
            if (!eq)
                continue;
            *eq = '\0';
            add_host_entry(hosts, v.hosts.v[i], eq + 1);
            *eq = '=';
        }
    }
    ws_dns_view_free(&v);
    return 0;
}

/* certutil -store -v My's key lines: provider, its type, and the key's access list when
 * the lab recorded one (absent: not recorded, lab/keyacl.h). */
static int add_private_key(ws_state *st, cJSON *entry, const ws_store_entry *en, ws_error *e)
{
    char *csp = NULL;
    if (ws_vault_get(st, en->cert_name, NULL, NULL, &csp, e) != 0)
        return -1;
    const char *provider = csp && *csp ? csp : ws_csp_default_name();
    cJSON *pk = cJSON_AddObjectToObject(entry, "private_key");
    cJSON_AddStringToObject(pk, "provider", provider);
    const ws_csp *p = ws_csp_find(provider);
    if (p)
        cJSON_AddNumberToObject(pk, "provider_type", p->prov_type);
    free(csp);
    cJSON *access = NULL;
    if (ws_keyacl_json(st, en->machine, en->store, en->cert_name, &access, e) != 0)
        return -1;
    if (access)
        cJSON_AddItemToObject(pk, "access", access);
    return 0;
}

typedef struct store_ctx {
    ws_state *st;
    const ws_deploy_export *x;
    cJSON *arr;
    ws_error *e;
    int failed;
} store_ctx;

static int store_entry(const ws_store_entry *en, void *arg)
{
    store_ctx *c = arg;
    const ws_export_cert *dc = cert_by_name(c->x, en->cert_name);
    if (!dc) {
        c->failed = ws_seterr(c->e, "%s's %s store names %s, which the vault lacks", en->machine, en->store,
                              en->cert_name);
        return 1;
    }
    cJSON *o = cJSON_CreateObject();
    char file[256];
    snprintf(file, sizeof file, WS_DEPLOY_CERTS_DIR "/%s.cer", dc->name);
    cJSON_AddStringToObject(o, "file", file);
    cJSON_AddStringToObject(o, "thumbprint", dc->thumbprint);
    cJSON_AddItemToArray(c->arr, o);
    if (en->has_private_key && add_private_key(c->st, o, en, c->e) != 0) {
        c->failed = -1;
        return 1;
    }
    return 0;
}

static int add_stores(ws_state *st, const ws_deploy_export *x, cJSON *m, const char *machine, ws_error *e)
{
    cJSON *stores = cJSON_AddObjectToObject(m, "stores");
    static const char *const names[] = {"My", "Root"};
    for (int i = 0; i < 2; i++) {
        store_ctx c = {.st = st, .x = x, .arr = cJSON_AddArrayToObject(stores, names[i]), .e = e};
        if (ws_store_foreach(st, machine, names[i], store_entry, &c, e) != 0 || c.failed)
            return -1;
    }
    return 0;
}

static int add_trusted_issuers(ws_state *st, cJSON *m, const char *machine, ws_error *e)
{
    ws_strv tps = {0};
    if (ws_trusted_issuer_list(st, machine, &tps, e) != 0)
        return -1;
    cJSON *arr = cJSON_AddArrayToObject(m, "trusted_issuers");
    for (int i = 0; i < tps.n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(tps.v[i]));
    ws_strv_free(&tps);
    return 0;
}

static int add_vms(ws_state *st, cJSON *m, const char *host, ws_error *e)
{
    ws_vm *vms = NULL;
    size_t n = 0;
    if (ws_vm_list(st, NULL, &vms, &n, e) != 0)
        return -1;
    cJSON *arr = cJSON_AddArrayToObject(m, "vms");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (strcmp(vms[i].host, host) != 0)
            continue;
        char sub[256];
        if (ws_state_text(st, sub, sizeof sub, e, "SELECT name FROM subscriptions WHERE id = ?", 1,
                          vms[i].subscription) != 0) {
            rc = -1;
            break;
        }
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", vms[i].name);
        cJSON_AddStringToObject(v, "id", vms[i].id);
        cJSON_AddStringToObject(v, "os", vms[i].os);
        cJSON_AddStringToObject(v, "state", vms[i].state);
        cJSON_AddStringToObject(v, "tenant", vms[i].tenant);
        cJSON_AddStringToObject(v, "subscription", sub);
        cJSON_AddItemToArray(arr, v);
    }
    free(vms);
    return rc;
}

/* Get-SCVMMServer's VMConnect* properties. */
static void add_vmm(ws_state *st, ws_deploy_export *x, cJSON *m, const char *machine)
{
    cJSON *v = cJSON_AddObjectToObject(m, "vmm");
    add_cert_setting(st, x, v, machine, WS_SET_VMM_GATEWAY_CERT, "gateway_certificate");
    add_cert_setting(st, x, v, machine, WS_SET_VMM_HYPERV_CERT, "hyperv_certificate");
    char value[64];
    if (ws_setting_get(st, machine, WS_SET_VMM_HOST_ID_MODE, value, sizeof value) == 0)
        cJSON_AddStringToObject(v, "host_identification_mode", value);
    static const char *const ints[][2] = {{WS_SET_VMM_TTL_MINUTES, "time_to_live_minutes"},
                                          {WS_SET_VMM_DEFAULT_PORT, "default_port"}};
    for (int i = 0; i < 2; i++)
        if (ws_setting_get(st, machine, ints[i][0], value, sizeof value) == 0)
            cJSON_AddNumberToObject(v, ints[i][1], atoi(value));
}

static int add_balancer(ws_state *st, cJSON *m, const char *machine, ws_error *e)
{
    ws_lb_config c;
    if (ws_lb_config_load(st, machine, &c, e) != 0)
        return -1;
    cJSON *b = cJSON_AddObjectToObject(m, "balancer");
    cJSON *members = cJSON_AddArrayToObject(b, "members");
    for (int i = 0; i < c.n_members; i++)
        cJSON_AddItemToArray(members, cJSON_CreateString(c.members[i]));
    cJSON_AddStringToObject(b, "mode", ws_lb_mode_name(c.mode));
    cJSON_AddStringToObject(b, "affinity", ws_lb_affinity_name(c.affinity));
    cJSON_AddBoolToObject(b, "reencrypt", c.reencrypt);
    return 0;
}

/* Who the machine's service logs on as, and its local Administrators (never the
 * service's password: it is the machine's secret). */
static void add_accounts(ws_state *st, cJSON *m, const char *machine)
{
    char value[1024];
    if (ws_setting_get(st, machine, WS_SET_SERVICE_ACCOUNT, value, sizeof value) == 0 && value[0])
        cJSON_AddStringToObject(m, "service_account", value);
    if (ws_setting_get(st, machine, WS_SET_LOCAL_ADMINS, value, sizeof value) == 0)
        add_list(m, "local_administrators", value);
}

typedef struct machine_ctx {
    ws_state *st;
    ws_deploy_export *x;
    cJSON *arr;
    ws_error *e;
    int failed;
} machine_ctx;

static int add_role_fields(ws_state *st, ws_deploy_export *x, cJSON *o, const ws_machine *mc, ws_error *e)
{
    const char *role = mc->role;
    if (strcmp(role, "host") == 0) {
        add_cert_setting(st, x, o, mc->name, WS_SET_AUTH_CERT, "rdp_certificate");
        if (add_trusted_issuers(st, o, mc->name, e) != 0 || add_vms(st, o, mc->name, e) != 0)
            return -1;
    } else if (strcmp(role, "gateway") == 0) {
        if (add_trusted_issuers(st, o, mc->name, e) != 0)
            return -1;
    } else if (strcmp(role, "vmm") == 0) {
        add_vmm(st, x, o, mc->name);
    } else if (strcmp(role, "balancer") == 0) {
        if (add_balancer(st, o, mc->name, e) != 0)
            return -1;
    }
    return 0;
}

static int machine_one(const ws_machine *mc, void *arg)
{
    machine_ctx *c = arg;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(c->arr, o);
    cJSON_AddStringToObject(o, "name", mc->name);
    cJSON_AddStringToObject(o, "role", mc->role);
    cJSON_AddStringToObject(o, "fqdn", mc->fqdn);
    if (mc->public_fqdn[0])
        cJSON_AddStringToObject(o, "public_fqdn", mc->public_fqdn);
    cJSON_AddStringToObject(o, "address", mc->address);
    if (mc->skew_seconds < -31536000 || mc->skew_seconds > 31536000) {
        c->failed = ws_seterr(c->e, "%s's clock skew %lld s is beyond the format's year", mc->name,
                              (long long)mc->skew_seconds);
        return 1;
    }
    cJSON_AddNumberToObject(o, "clock_skew_seconds", (double)mc->skew_seconds);
    add_accounts(c->st, o, mc->name);
    if (add_dns(c->st, o, mc, c->e) != 0 || add_stores(c->st, c->x, o, mc->name, c->e) != 0) {
        c->failed = -1;
        return 1;
    }
    add_cert_setting(c->st, c->x, o, mc->name, WS_SET_SSL_CERT, "tls_certificate");
    if (add_role_fields(c->st, c->x, o, mc, c->e) != 0) {
        c->failed = -1;
        return 1;
    }
    c->x->machines++;
    return 0;
}

/* ---- tenants and the document ---- */

static int add_tenants(ws_state *st, cJSON *doc, ws_error *e)
{
    sqlite3_stmt *s = ws_state_prepare(st,
                                       "SELECT a.name, s.id, s.name FROM accounts a LEFT JOIN subscriptions s"
                                       " ON s.tenant = a.name WHERE a.role = 'tenant' ORDER BY a.name, s.name, s.id",
                                       e);
    if (!s)
        return -1;
    cJSON *arr = cJSON_AddArrayToObject(doc, "tenants"), *t = NULL, *subs = NULL;
    char last[128] = "";
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        if (!t || strcmp(last, name) != 0) {
            t = cJSON_CreateObject();
            cJSON_AddItemToArray(arr, t);
            cJSON_AddStringToObject(t, "name", name);
            subs = cJSON_AddArrayToObject(t, "subscriptions");
            snprintf(last, sizeof last, "%s", name);
        }
        if (sqlite3_column_type(s, 1) == SQLITE_NULL)
            continue;
        cJSON *sub = cJSON_CreateObject();
        cJSON_AddStringToObject(sub, "id", (const char *)sqlite3_column_text(s, 1));
        cJSON_AddStringToObject(sub, "name", (const char *)sqlite3_column_text(s, 2));
        cJSON_AddItemToArray(subs, sub);
    }
    return ws_state_finish(st, s, rc, e);
}

static int export_build(ws_state *st, ws_deploy_export *x, ws_error *e)
{
    x->doc = cJSON_CreateObject();
    if (!x->doc)
        return ws_seterr(e, "out of memory");
    cJSON_AddStringToObject(x->doc, "format", WS_DEPLOYMENT_FORMAT);
    cJSON_AddNumberToObject(x->doc, "version", WS_DEPLOYMENT_VERSION);
    /* The lab clock's now: import starts the new lab's clock there (COMMON: collected_at). */
    char now[40];
    ws_time_format(ws_clock_now(st, NULL), now, sizeof now);
    cJSON_AddStringToObject(x->doc, "collected_at", now);
    char name[512];
    if (ws_meta_get(st, "name", name, sizeof name) == 0) {
        char *d = ws_printf("Exported by wapsim lab export from the lab %s", name);
        cJSON_AddStringToObject(x->doc, "description", d ? d : "");
        free(d);
    }
    char fqdn[256];
    if (ws_setting_get(st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, fqdn, sizeof fqdn) == 0 && fqdn[0])
        cJSON_AddStringToObject(cJSON_AddObjectToObject(x->doc, "cloud"), "rd_gateway_fqdn", fqdn);
    if (load_certs(st, x, e) != 0 || add_tenants(st, x->doc, e) != 0)
        goto fail;
    machine_ctx c = {.st = st, .x = x, .arr = cJSON_AddArrayToObject(x->doc, "machines"), .e = e};
    if (ws_machine_foreach(st, machine_one, &c, e) != 0 || c.failed)
        goto fail;
    return 0;
fail:
    ws_deploy_export_free(x);
    return -1;
}

/* One read transaction: a running lab's processes keep writing, and the export is one
 * moment of it (WAL gives the reader a snapshot). */
int ws_deploy_export_build(ws_state *st, ws_deploy_export *x, ws_error *e)
{
    memset(x, 0, sizeof *x);
    if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return ws_state_error(st, e);
    int rc = export_build(st, x, e);
    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    return rc;
}

void ws_deploy_export_free(ws_deploy_export *x)
{
    cJSON_Delete(x->doc);
    for (size_t i = 0; i < x->n_certs; i++)
        X509_free(x->certs[i].cert);
    free(x->certs);
    ws_strv_free(&x->warnings);
    memset(x, 0, sizeof *x);
}

/* ---- writing: a folder or one .tar.gz, atomically ---- */

static int dir_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *de;
    int empty = 1;
    while (empty && (de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

/* The archive's name says what it is: lab init --from reads a .tar.gz by its name. */
static int archive_name_ok(const char *out)
{
    size_t n = strlen(out);
    return (n > 7 && strcmp(out + n - 7, ".tar.gz") == 0) || (n > 4 && strcmp(out + n - 4, ".tgz") == 0);
}

/* OUT/ is OUT: its parent is OUT's, and the temporary folder goes beside it, not inside. */
static const char *strip_slashes(const char *out, char *path, size_t n)
{
    snprintf(path, n, "%s", out);
    for (size_t len = strlen(path); len > 1 && path[len - 1] == '/'; len--)
        path[len - 1] = '\0';
    return path;
}

int ws_deploy_export_target_ok(const char *out, int archive, ws_error *e)
{
    struct stat sb;
    char path[4096];
    if (!out || !*out)
        return ws_seterr(e, "no output path given");
    out = strip_slashes(out, path, sizeof path);
    if (archive && !archive_name_ok(out))
        return ws_seterr(e, "%s: an archive's name ends in .tar.gz (or .tgz)", out);
    if (stat(out, &sb) == 0) {
        if (archive)
            return ws_seterr(e, "%s exists: --archive writes a new file", out);
        if (!S_ISDIR(sb.st_mode) || !dir_empty(out))
            return ws_seterr(e, "%s exists and is not an empty folder", out);
        return 0;
    }
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", out);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (stat(parent, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return ws_seterr(e, "%s: no such folder", parent);
    }
    return 0;
}

/* The document's text (pretty-printed, ending with a newline) and each exported
 * certificate's DER, handed to put(path, data, len) in a stable order. */
typedef int (*put_fn)(void *ctx, const char *path, const void *data, size_t len, ws_error *e);

static int put_all(const ws_deploy_export *x, put_fn put, void *ctx, ws_error *e)
{
    char *json = cJSON_Print(x->doc);
    if (!json)
        return ws_seterr(e, "out of memory");
    char *text = ws_printf("%s\n", json);
    cJSON_free(json);
    int rc = text ? put(ctx, WS_DEPLOYMENT_JSON, text, strlen(text), e) : ws_seterr(e, "out of memory");
    free(text);
    for (size_t i = 0; rc == 0 && i < x->n_certs; i++) {
        if (!x->certs[i].exported)
            continue;
        unsigned char *der = NULL;
        size_t len = 0;
        if (ws_cert_to_der(x->certs[i].cert, &der, &len) != 0)
            return ws_seterr(e, "%s: cannot encode the certificate", x->certs[i].name);
        char path[256];
        snprintf(path, sizeof path, WS_DEPLOY_CERTS_DIR "/%s.cer", x->certs[i].name);
        rc = put(ctx, path, der, len, e);
        OPENSSL_free(der);
    }
    return rc;
}

static int put_file(void *ctx, const char *path, const void *data, size_t len, ws_error *e)
{
    char full[4400];
    snprintf(full, sizeof full, "%s/%s", (const char *)ctx, path);
    char *slash = strrchr(full, '/');
    *slash = '\0';
    if (ws_mkdir_p(full, 0755) != 0)
        return ws_seterr(e, "%s: %s", full, strerror(errno));
    *slash = '/';
    return ws_write_file(full, data, len, 0644, e);
}

/* Removes what put_file wrote under dir (the document, certs/ and its files), then dir. */
static void remove_tree(const char *dir)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/" WS_DEPLOY_CERTS_DIR, dir);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            char f[4700];
            snprintf(f, sizeof f, "%s/%s", path, de->d_name);
            if (de->d_name[0] != '.')
                unlink(f);
        }
        closedir(d);
        rmdir(path);
    }
    snprintf(path, sizeof path, "%s/" WS_DEPLOYMENT_JSON, dir);
    unlink(path);
    rmdir(dir);
}

static int write_folder(const ws_deploy_export *x, const char *out, const char *tmp, ws_error *e)
{
    /* mkdir fails on anything already there (a link another user planted included). An
     * empty OUT the operator made keeps its mode: a folder made private stays private. */
    struct stat was;
    if (mkdir(tmp, 0755) != 0)
        return ws_seterr(e, "%s: %s", tmp, strerror(errno));
    if (lstat(out, &was) == 0 && S_ISDIR(was.st_mode) && chmod(tmp, was.st_mode & 07777) != 0) {
        rmdir(tmp);
        return ws_seterr(e, "%s: %s", tmp, strerror(errno));
    }
    /* An empty OUT is replaced whole by the rename (rename(2) replaces an empty directory). */
    int rc = put_all(x, put_file, (void *)tmp, e);
    if (rc == 0 && rename(tmp, out) != 0)
        rc = ws_seterr(e, "%s: %s", out, strerror(errno));
    if (rc != 0)
        remove_tree(tmp);
    return rc;
}

/* One .tar.gz (ustar, gzip): deployment.json, certs/ and its files, mode 0644 (0755 for
 * the folder), owned by nobody in particular (uid/gid 0, no names), timestamped now. */
typedef struct tar_ctx {
    struct archive *a;
    int certs_dir_done;
} tar_ctx;

static int tar_header(tar_ctx *t, const char *path, mode_t type, mode_t perm, size_t len, ws_error *e)
{
    struct archive_entry *en = archive_entry_new();
    archive_entry_set_pathname(en, path);
    archive_entry_set_filetype(en, type);
    archive_entry_set_perm(en, perm);
    archive_entry_set_size(en, (la_int64_t)len);
    archive_entry_set_mtime(en, (time_t)(ws_wall_ms() / 1000), 0);
    int rc = archive_write_header(t->a, en);
    archive_entry_free(en);
    return rc == ARCHIVE_OK ? 0 : ws_seterr(e, "%s: %s", path, archive_error_string(t->a));
}

static int put_tar(void *ctx, const char *path, const void *data, size_t len, ws_error *e)
{
    tar_ctx *t = ctx;
    if (!t->certs_dir_done && strncmp(path, WS_DEPLOY_CERTS_DIR "/", sizeof WS_DEPLOY_CERTS_DIR) == 0) {
        if (tar_header(t, WS_DEPLOY_CERTS_DIR "/", AE_IFDIR, 0755, 0, e) != 0)
            return -1;
        t->certs_dir_done = 1;
    }
    if (tar_header(t, path, AE_IFREG, 0644, len, e) != 0)
        return -1;
    if (archive_write_data(t->a, data, len) != (la_ssize_t)len)
        return ws_seterr(e, "%s: %s", path, archive_error_string(t->a));
    return 0;
}

static int write_archive(const ws_deploy_export *x, const char *path, ws_error *e)
{
    tar_ctx t = {.a = archive_write_new()};
    if (!t.a)
        return ws_seterr(e, "out of memory");
    /* A new file only, never through a link: another local user may have planted one at
     * the temporary name to make the export overwrite (and chmod) a file of theirs choosing. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        archive_write_free(t.a);
        return ws_seterr(e, "%s: %s", path, strerror(errno));
    }
    int rc = -1;
    if (archive_write_add_filter_gzip(t.a) != ARCHIVE_OK || archive_write_set_format_ustar(t.a) != ARCHIVE_OK ||
        archive_write_open_fd(t.a, fd) != ARCHIVE_OK)
        ws_seterr(e, "%s: %s", path, archive_error_string(t.a));
    else if (put_all(x, put_tar, &t, e) == 0)
        rc = archive_write_close(t.a) == ARCHIVE_OK ? 0 : ws_seterr(e, "%s: %s", path, archive_error_string(t.a));
    archive_write_free(t.a);
    if (rc == 0 && fchmod(fd, 0644) != 0)
        rc = ws_seterr(e, "%s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

int ws_deploy_export_write(const ws_deploy_export *x, const char *out, int archive, ws_error *e)
{
    if (ws_deploy_export_target_ok(out, archive, e) != 0)
        return -1;
    char path[4096], tmp[4200];
    out = strip_slashes(out, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", out, (int)getpid());
    e->msg[0] = '\0';
    if (!archive)
        return write_folder(x, out, tmp, e);
    /* link(), not rename(): an OUT that appeared since the check is never replaced. */
    if (write_archive(x, tmp, e) != 0 || link(tmp, out) != 0) {
        if (!e->msg[0])
            ws_seterr(e, "%s: %s", out, strerror(errno));
        unlink(tmp);
        return -1;
    }
    unlink(tmp);
    return 0;
}
