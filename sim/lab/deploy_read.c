/* SPDX-License-Identifier: Apache-2.0 */
/* deploy_read: deployment.json -> a validated deployment (deployment.h).
 *
 * The checks are the schema's (schema/deployment-v1.schema.json: types, patterns,
 * bounds, additionalProperties false, the per-role keys) plus what a schema cannot say:
 * each certificate file parses (DER or PEM) and has the thumbprint its entry gives,
 * names are unique, a balancer's members are gateways, a VM's tenant and subscription
 * exist when tenants are listed. Each refusal is one line naming the file and the JSON
 * path, so a customer's collection can be fixed where it is wrong. */
#include "lab/deployment.h"

#include <ctype.h>
#include <cjson/cJSON.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "base/time.h"
#include "crypto/cert.h"
#include "crypto/csp.h"
#include "lab/dns.h"
#include "lab/fabric.h"

typedef struct rd {
    ws_deployment *d;
    const ws_deploy_files *files;
    ws_error *e;
} rd;

/* "deployment.json: PATH: why" */
static int bad(rd *r, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(rd *r, const char *path, const char *fmt, ...)
{
    char why[400], line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s: %s", path, why);
    /* Values are quoted from untrusted input: a control byte is written \xHH, so the refusal stays
     * one line and sends no escape sequence to the terminal. */
    char out[sizeof line * 4 / 3];
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)line; *c && o + 5 < sizeof out; c++)
        o += *c < 0x20 || *c == 0x7f ? (size_t)snprintf(out + o, sizeof out - o, "\\x%02X", *c)
                                     : (size_t)snprintf(out + o, sizeof out - o, "%c", *c);
    out[o] = '\0';
    return ws_seterr(r->e, "%s: %s", WS_DEPLOYMENT_JSON, out);
}

/* additionalProperties false: every key must be one of allowed (NULL-terminated). */
static int keys_ok(rd *r, const cJSON *o, const char *path, const char *const *allowed)
{
    if (!cJSON_IsObject(o))
        return bad(r, path, "not an object");
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, it->string) == 0;
        if (!ok) {
            char p[300];
            snprintf(p, sizeof p, "%s%s%s", path, path[0] ? "." : "", it->string);
            return bad(r, p, "unknown key (not in the deployment format, version %d)", WS_DEPLOYMENT_VERSION);
        }
    }
    return 0;
}

static void sub(char *out, size_t n, const char *path, const char *key)
{
    snprintf(out, n, "%s%s%s", path, path[0] ? "." : "", key);
}

/* A string member: NULL when absent (or -1 with e when present and not a string of
 * 1..max characters). */
static int get_str(rd *r, const cJSON *o, const char *key, const char *path, size_t max, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (!v)
        return 0;
    char p[300];
    sub(p, sizeof p, path, key);
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > max)
        return bad(r, p, "not a string of 1 to %zu characters", max);
    for (const unsigned char *c = (const unsigned char *)v->valuestring; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return bad(r, p, "'%s': a control character in it", v->valuestring);
    *out = v->valuestring;
    return 0;
}

static int check_thumbprint(rd *r, const char *path, const char *tp)
{
    char norm[41];
    if (strlen(tp) != 40 || ws_thumbprint_normalize(tp, norm) != 0)
        return bad(r, path, "'%s' is not a thumbprint (40 hexadecimal digits)", tp);
    return 0;
}

static int thumbprint_member(rd *r, const cJSON *o, const char *key, const char *path)
{
    const char *s;
    char p[300];
    sub(p, sizeof p, path, key);
    return get_str(r, o, key, path, 64, &s) != 0 || (s && check_thumbprint(r, p, s) != 0) ? -1 : 0;
}

static int dns_member(rd *r, const cJSON *o, const char *key, const char *path)
{
    const char *s;
    char p[300];
    sub(p, sizeof p, path, key);
    if (get_str(r, o, key, path, 253, &s) != 0)
        return -1;
    if (s && !ws_dns_name_valid(s))
        return bad(r, p, "'%s' is not a DNS name", s);
    return 0;
}

/* The schema's ipv4: four decimal parts (inet_pton's dotted-decimal form). */
static int is_ipv4(const char *s)
{
    struct in_addr a;
    return inet_pton(AF_INET, s, &a) == 1;
}

static int is_account(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == ',')
            return 0;
    return 1;
}

/* An array member: NULL when absent; refused when not an array of at most max items. */
static int get_arr(rd *r, const cJSON *o, const char *key, const char *path, int max, const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (!v)
        return 0;
    char p[300];
    sub(p, sizeof p, path, key);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > max)
        return bad(r, p, "not a list of at most %d items", max);
    *out = v;
    return 0;
}

static int get_int(rd *r, const cJSON *o, const char *key, const char *path, long lo, long hi)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return 0;
    char p[300];
    sub(p, sizeof p, path, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long)v->valuedouble || v->valuedouble < lo ||
        v->valuedouble > hi)
        return bad(r, p, "not an integer from %ld to %ld", lo, hi);
    return 0;
}

static int one_of(rd *r, const cJSON *o, const char *key, const char *path, const char *const *values)
{
    const char *s;
    if (get_str(r, o, key, path, 64, &s) != 0)
        return -1;
    if (!s)
        return 0;
    for (const char *const *v = values; *v; v++)
        if (strcmp(*v, s) == 0)
            return 0;
    char p[300], list[200] = "";
    sub(p, sizeof p, path, key);
    for (const char *const *v = values; *v; v++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "", *v);
    return bad(r, p, "'%s' is not one of %s", s, list);
}

/* A certificate file's certificate: DER (Export-Certificate) or PEM (certutil -encode). */
static X509 *parse_cert(const ws_deploy_file *f)
{
    const unsigned char *p = f->data;
    X509 *c = d2i_X509(NULL, &p, (long)f->len);
    if (c && p == f->data + f->len)
        return c;
    X509_free(c);
    BIO *b = BIO_new_mem_buf(f->data, (int)f->len);
    c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return c;
}

/* A vault name from a file's stem ("certs/rdgw-ssl.cer" -> "rdgw-ssl"), made unique
 * ("rdgw-ssl-2") among the certificates read so far. */
static void stem_name(const ws_deployment *d, const char *file, char *out, size_t n)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char stem[48];
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem)
        *dot = '\0';
    /* Only what a vault name may hold (ws_vault_put refuses , : \ / and control characters):
     * anything else becomes '-', so the name is known good before the lab is made. */
    for (char *c = stem; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-')
            *c = '-';
    snprintf(out, n, "%s", stem);
    for (int k = 2;; k++) {
        int taken = 0;
        for (size_t i = 0; i < d->n_certs && !taken; i++)
            taken = strcasecmp(d->certs[i].name, out) == 0;
        if (!taken)
            return;
        snprintf(out, n, "%s-%d", stem, k);
    }
}

static int read_private_key(rd *r, const cJSON *pk, const char *path, ws_deploy_cert *c)
{
    static const char *const pkk[] = {"provider", "provider_type", "access", NULL},
                             *const ak[] = {"account", "rights", NULL};
    const char *prov;
    const cJSON *access;
    if (keys_ok(r, pk, path, pkk) != 0 || get_str(r, pk, "provider", path, 128, &prov) != 0 ||
        get_int(r, pk, "provider_type", path, 0, 24) != 0 || get_arr(r, pk, "access", path, 32, &access) != 0)
        return -1;
    if (!prov)
        return bad(r, path, "a private_key needs its provider (certutil -store -v My: Provider = ...)");
    if (!ws_csp_find(prov))
        return bad(r, path, "provider '%s' is not a provider Windows has (certutil -csplist)", prov);
    if (access && cJSON_GetArraySize(access) < 1)
        return bad(r, path, "access: an empty list (absent means not recorded)");
    int i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, access)
    {
        char p[300];
        snprintf(p, sizeof p, "%s.access[%d]", path, i++);
        const char *acct, *rights;
        if (keys_ok(r, a, p, ak) != 0 || get_str(r, a, "account", p, 127, &acct) != 0 ||
            get_str(r, a, "rights", p, 32, &rights) != 0)
            return -1;
        if (!acct || !is_account(acct))
            return bad(r, p, "an entry needs an account (no ',' or control character)");
        if (!rights || (strcmp(rights, "Read") != 0 && strcmp(rights, "Full Control") != 0))
            return bad(r, p, "rights must be \"Read\" or \"Full Control\"");
    }
    if (!c->csp[0])
        snprintf(c->csp, sizeof c->csp, "%s", prov);
    return 0;
}

/* One store entry: its file parsed, its thumbprint checked, its certificate added once. */
static int read_store_entry(rd *r, const cJSON *en, const char *path)
{
    static const char *const ek[] = {"file", "thumbprint", "private_key", NULL};
    const char *file, *tp;
    char p[300];
    if (keys_ok(r, en, path, ek) != 0 || get_str(r, en, "file", path, 255, &file) != 0 ||
        get_str(r, en, "thumbprint", path, 64, &tp) != 0)
        return -1;
    snprintf(p, sizeof p, "%s.file", path);
    if (!file)
        return bad(r, path, "an entry needs its file (the certificate's public part)");
    const ws_deploy_file *f = NULL;
    if (file[0] == '/' || strstr(file, "..") || !(f = ws_deploy_files_get(r->files, file)))
        return bad(r, p, "%s: not in the deployment (a relative path inside its folder or archive)", file);
    X509 *x = parse_cert(f);
    if (!x)
        return ws_seterr(r->e, "%s: %s %s: not a certificate (DER or PEM)", WS_DEPLOYMENT_JSON, p, file);
    char got[41];
    ws_cert_thumbprint(x, got);
    if (tp) {
        char q[300], norm[41];
        snprintf(q, sizeof q, "%s.thumbprint", path);
        if (check_thumbprint(r, q, tp) != 0) {
            X509_free(x);
            return -1;
        }
        ws_thumbprint_normalize(tp, norm);
        if (strcmp(norm, got) != 0) {
            X509_free(x);
            return bad(r, q, "%s, but the certificate in %s has %s", norm, file, got);
        }
    }
    ws_deploy_cert *c = (ws_deploy_cert *)ws_deploy_cert_by_thumbprint(r->d, got);
    if (c) {
        X509_free(x);
        if (!ws_strv_has(&c->files, file))
            ws_strv_add(&c->files, file);
    } else {
        ws_deploy_cert *v = realloc(r->d->certs, (r->d->n_certs + 1) * sizeof *v);
        if (!v) {
            X509_free(x);
            return ws_seterr(r->e, "out of memory");
        }
        r->d->certs = v;
        c = &v[r->d->n_certs];
        memset(c, 0, sizeof *c);
        snprintf(c->thumbprint, sizeof c->thumbprint, "%s", got);
        snprintf(c->file, sizeof c->file, "%s", file);
        stem_name(r->d, file, c->name, sizeof c->name);
        c->cert = x;
        ws_strv_add(&c->files, file);
        r->d->n_certs++;
    }
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(en, "private_key");
    if (pk) {
        snprintf(p, sizeof p, "%s.private_key", path);
        return read_private_key(r, pk, p, c);
    }
    return 0;
}

static int read_stores(rd *r, const cJSON *m, const char *path)
{
    static const char *const sk[] = {"My", "Root", NULL};
    const cJSON *stores = cJSON_GetObjectItemCaseSensitive(m, "stores");
    char p[300];
    snprintf(p, sizeof p, "%s.stores", path);
    if (!stores)
        return 0;
    if (keys_ok(r, stores, p, sk) != 0)
        return -1;
    for (int s = 0; sk[s]; s++) {
        const cJSON *arr, *en;
        if (get_arr(r, stores, sk[s], p, 128, &arr) != 0)
            return -1;
        int i = 0;
        cJSON_ArrayForEach(en, arr)
        {
            char q[300];
            snprintf(q, sizeof q, "%s.%s[%d]", p, sk[s], i++);
            if (read_store_entry(r, en, q) != 0)
                return -1;
        }
    }
    return 0;
}

static const char *const roles[] = {"portal", "spf", "vmm", "gateway", "host", "balancer", "client", NULL};

static int read_dns(rd *r, const cJSON *m, const char *path)
{
    static const char *const dk[] = {"server", "forwarders", "hosts", NULL}, *const hk[] = {"name", "address", NULL};
    static const char *const servers[] = {WS_DNS_SERVER_FABRIC, WS_DNS_SERVER_DMZ, WS_DNS_SERVER_NONE, NULL};
    const cJSON *dns = cJSON_GetObjectItemCaseSensitive(m, "dns"), *fw, *hosts, *it;
    char p[300], q[300];
    snprintf(p, sizeof p, "%s.dns", path);
    if (!dns)
        return 0;
    if (keys_ok(r, dns, p, dk) != 0 || one_of(r, dns, "server", p, servers) != 0 ||
        get_arr(r, dns, "forwarders", p, WS_DNS_MAX_ENTRIES, &fw) != 0 ||
        get_arr(r, dns, "hosts", p, WS_DNS_MAX_ENTRIES, &hosts) != 0)
        return -1;
    int i = 0;
    cJSON_ArrayForEach(it, fw)
    {
        snprintf(q, sizeof q, "%s.forwarders[%d]", p, i++);
        if (!cJSON_IsString(it) || !ws_dns_name_valid(it->valuestring))
            return bad(r, q, "not a DNS name");
    }
    i = 0;
    cJSON_ArrayForEach(it, hosts)
    {
        snprintf(q, sizeof q, "%s.hosts[%d]", p, i++);
        const char *addr;
        if (keys_ok(r, it, q, hk) != 0 || dns_member(r, it, "name", q) != 0 ||
            get_str(r, it, "address", q, 15, &addr) != 0)
            return -1;
        if (!cJSON_GetObjectItemCaseSensitive(it, "name") || !addr)
            return bad(r, q, "an entry needs a name and an address");
        if (!is_ipv4(addr))
            return bad(r, q, "address '%s' is not an IPv4 address", addr);
    }
    return 0;
}

/* A machine's name among the deployment's machines: its index, or -1. */
static int machine_index(const cJSON *machines, const char *name)
{
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, machines)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "name");
        if (cJSON_IsString(n) && strcasecmp(n->valuestring, name) == 0)
            return i;
        i++;
    }
    return -1;
}

static const char *role_of(const cJSON *m)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "role");
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int read_balancer(rd *r, const cJSON *m, const char *path, const cJSON *machines)
{
    static const char *const bk[] = {"members", "mode", "affinity", "reencrypt", NULL};
    static const char *const modes[] = {"tcp", "tls-offload", NULL}, *const aff[] = {"none", "source-ip", NULL};
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(m, "balancer"), *members, *it;
    char p[300], q[300];
    snprintf(p, sizeof p, "%s.balancer", path);
    if (!b)
        return bad(r, path, "a balancer needs its balancer.members (the gateways behind it)");
    if (keys_ok(r, b, p, bk) != 0 || one_of(r, b, "mode", p, modes) != 0 || one_of(r, b, "affinity", p, aff) != 0 ||
        get_arr(r, b, "members", p, 16, &members) != 0)
        return -1;
    const cJSON *re = cJSON_GetObjectItemCaseSensitive(b, "reencrypt");
    if (re && !cJSON_IsBool(re))
        return bad(r, p, "reencrypt: not true or false");
    if (!members || cJSON_GetArraySize(members) < 1)
        return bad(r, p, "members: at least one gateway");
    int i = 0;
    cJSON_ArrayForEach(it, members)
    {
        snprintf(q, sizeof q, "%s.members[%d]", p, i++);
        int k = cJSON_IsString(it) ? machine_index(machines, it->valuestring) : -1;
        if (k < 0)
            return bad(r, q, "'%s' is not a machine of the deployment", cJSON_IsString(it) ? it->valuestring : "?");
        if (strcmp(role_of(cJSON_GetArrayItem(machines, k)), "gateway") != 0)
            return bad(r, q, "'%s' is not a gateway (its role is %s)", it->valuestring,
                       role_of(cJSON_GetArrayItem(machines, k)));
    }
    return 0;
}

static int read_vmm(rd *r, const cJSON *m, const char *path)
{
    static const char *const vk[] = {"gateway_certificate", "hyperv_certificate", "host_identification_mode",
                                     "time_to_live_minutes", "default_port", NULL};
    static const char *const modes[] = {"FQDN", "IPv4", "IPv6", "HostName", NULL};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "vmm");
    char p[300];
    snprintf(p, sizeof p, "%s.vmm", path);
    if (!v)
        return 0;
    return keys_ok(r, v, p, vk) != 0 || thumbprint_member(r, v, "gateway_certificate", p) != 0 ||
                   thumbprint_member(r, v, "hyperv_certificate", p) != 0 ||
                   one_of(r, v, "host_identification_mode", p, modes) != 0 ||
                   get_int(r, v, "time_to_live_minutes", p, 1, 60) != 0 ||
                   get_int(r, v, "default_port", p, 1, 65535) != 0
               ? -1
               : 0;
}

/* A VM's tenant and subscription must be among the tenants when those are listed. */
static int vm_owner_ok(rd *r, const cJSON *vm, const char *path)
{
    const cJSON *tenants = cJSON_GetObjectItemCaseSensitive(r->d->json, "tenants"), *t, *s;
    const char *tenant = NULL, *subname = NULL;
    /* The schema's: tenant an account (1..127, no comma or control character), subscription 1..128. */
    if (get_str(r, vm, "tenant", path, 127, &tenant) != 0 || get_str(r, vm, "subscription", path, 128, &subname) != 0)
        return -1;
    if (tenant && !is_account(tenant))
        return bad(r, path, "tenant '%s' is not an account name", tenant);
    if (!tenants || !tenant)
        return 0;
    cJSON_ArrayForEach(t, tenants)
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(t, "name")->valuestring, tenant) != 0)
            continue;
        if (!subname)
            return 0;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(t, "subscriptions"))
        if (strcmp(cJSON_GetObjectItemCaseSensitive(s, "name")->valuestring, subname) == 0)
            return 0;
        return bad(r, path, "subscription '%s' is not one of tenant %s's", subname, tenant);
    }
    return bad(r, path, "tenant '%s' is not in tenants", tenant);
}

static int read_vms(rd *r, const cJSON *m, const char *path, ws_strv *vm_names)
{
    static const char *const vk[] = {"name", "id", "os", "state", "tenant", "subscription", NULL};
    const cJSON *vms, *vm;
    if (get_arr(r, m, "vms", path, 256, &vms) != 0)
        return -1;
    int i = 0;
    cJSON_ArrayForEach(vm, vms)
    {
        char p[400], q[300];
        snprintf(q, sizeof q, "%s.vms[%d]", path, i++);
        const char *name, *id, *os, *state;
        if (keys_ok(r, vm, q, vk) != 0 || get_str(r, vm, "name", q, 63, &name) != 0 ||
            get_str(r, vm, "id", q, 36, &id) != 0 || get_str(r, vm, "os", q, 63, &os) != 0 ||
            get_str(r, vm, "state", q, 31, &state) != 0)
            return -1;
        /* The schema's pattern: ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ */
        if (!name || !isalnum((unsigned char)name[0]) ||
            strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(name))
            return bad(r, q, "a VM needs a name (a letter or digit, then letters, digits, '.', '_', '-')");
        snprintf(p, sizeof p, "%s (%s)", q, name);
        if (id && !ws_guid_valid(id))
            return bad(r, p, "id '%s' is not a GUID", id);
        for (int k = 0; k < vm_names->n; k++)
            if (strcasecmp(vm_names->v[k], name) == 0 || (id && strcasecmp(vm_names->v[k], id) == 0))
                return bad(r, p, "a second VM named %s (a VM's name and id are unique in the deployment)",
                           strcasecmp(vm_names->v[k], name) == 0 ? name : id);
        ws_strv_add(vm_names, name);
        if (id)
            ws_strv_add(vm_names, id);
        if (vm_owner_ok(r, vm, p) != 0)
            return -1;
    }
    return 0;
}

/* Keys only some roles have (the schema's allOf). */
static int role_keys_ok(rd *r, const cJSON *m, const char *path, const char *role)
{
    static const struct {
        const char *key, *roles, *what;
    } only[] = {{"vms", "host", "a host"},           {"rdp_certificate", "host", "a host"},
                {"vmm", "vmm", "the VMM server"},     {"balancer", "balancer", "a balancer"},
                {"trusted_issuers", "gateway,host", "a gateway or a host"}};
    for (size_t i = 0; i < sizeof only / sizeof only[0]; i++) {
        if (!cJSON_GetObjectItemCaseSensitive(m, only[i].key))
            continue;
        char list[32];
        snprintf(list, sizeof list, ",%s,", only[i].roles);
        char want[24];
        snprintf(want, sizeof want, ",%s,", role);
        if (!strstr(list, want)) {
            char p[300];
            sub(p, sizeof p, path, only[i].key);
            return bad(r, p, "only %s has it (this machine's role is %s)", only[i].what, role);
        }
    }
    return 0;
}

static int read_machine(rd *r, const cJSON *m, const char *idx, const cJSON *machines, ws_strv *vm_names)
{
    static const char *const mk[] = {"name", "role", "fqdn", "public_fqdn", "address", "clock_skew_seconds",
                                     "service_account", "local_administrators", "dns", "stores", "tls_certificate",
                                     "trusted_issuers", "rdp_certificate", "vms", "vmm", "balancer", NULL};
    const char *name, *role, *addr, *svc;
    if (keys_ok(r, m, idx, mk) != 0 || get_str(r, m, "name", idx, 15, &name) != 0 ||
        one_of(r, m, "role", idx, roles) != 0 || get_str(r, m, "role", idx, 16, &role) != 0)
        return -1;
    if (!name || !ws_fabric_name_ok(name))
        return bad(r, idx, "name '%s' is not a computer name (1-15 letters, digits and '-', not all digits)",
                   name ? name : "");
    if (!role)
        return bad(r, idx, "machine %s needs a role (%s)", name, "portal, spf, vmm, gateway, host, balancer, client");
    char path[300];
    snprintf(path, sizeof path, "%s (%s)", idx, name);
    int first = machine_index(machines, name);
    char this_idx[32];
    snprintf(this_idx, sizeof this_idx, "machines[%d]", first);
    if (strcmp(this_idx, idx) != 0)
        return bad(r, path, "a second machine named %s (the first is %s)", name, this_idx);
    const cJSON *admins, *issuers, *it;
    if (role_keys_ok(r, m, path, role) != 0 || dns_member(r, m, "fqdn", path) != 0 ||
        dns_member(r, m, "public_fqdn", path) != 0 || get_str(r, m, "address", path, 15, &addr) != 0 ||
        get_int(r, m, "clock_skew_seconds", path, -31536000, 31536000) != 0 ||
        get_str(r, m, "service_account", path, 127, &svc) != 0 ||
        get_arr(r, m, "local_administrators", path, 32, &admins) != 0 ||
        get_arr(r, m, "trusted_issuers", path, 32, &issuers) != 0 || read_dns(r, m, path) != 0 ||
        read_stores(r, m, path) != 0 || thumbprint_member(r, m, "tls_certificate", path) != 0 ||
        thumbprint_member(r, m, "rdp_certificate", path) != 0 || read_vmm(r, m, path) != 0 ||
        read_vms(r, m, path, vm_names) != 0 ||
        (strcmp(role, "balancer") == 0 && read_balancer(r, m, path, machines) != 0))
        return -1;
    if (addr && !is_ipv4(addr))
        return bad(r, path, "address '%s' is not an IPv4 address", addr);
    if (svc && !is_account(svc))
        return bad(r, path, "service_account '%s' is not an account name", svc);
    int i = 0;
    char q[300];
    cJSON_ArrayForEach(it, admins)
    {
        snprintf(q, sizeof q, "%s.local_administrators[%d]", path, i++);
        if (!cJSON_IsString(it) || !it->valuestring[0] || !is_account(it->valuestring))
            return bad(r, q, "not an account name");
    }
    i = 0;
    cJSON_ArrayForEach(it, issuers)
    {
        snprintf(q, sizeof q, "%s.trusted_issuers[%d]", path, i++);
        if (!cJSON_IsString(it))
            return bad(r, q, "not a thumbprint (40 hexadecimal digits)");
        if (check_thumbprint(r, q, it->valuestring) != 0)
            return -1;
    }
    return 0;
}

/* Console Connect cannot work without VMM (its certificate signs the tokens) or an RD
 * Gateway: the lab does not invent them, it refuses (before anything is made). */
static int required_roles(rd *r, const cJSON *machines)
{
    static const char *const need[][2] = {{"vmm", "the VMM server (its certificate signs the console tokens)"},
                                          {"gateway", "an RD Gateway (the tenant's console goes through it)"}};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *m;
        int found = 0;
        cJSON_ArrayForEach(m, machines)
        {
            const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
            found |= cJSON_IsString(role) && strcmp(role->valuestring, need[i][0]) == 0;
        }
        if (!found)
            return bad(r, "machines", "no machine of role %s: Console Connect needs %s", need[i][0], need[i][1]);
    }
    return 0;
}

static int read_machines(rd *r, const cJSON *root)
{
    const cJSON *machines = cJSON_GetObjectItemCaseSensitive(root, "machines"), *m;
    if (!cJSON_IsArray(machines) || cJSON_GetArraySize(machines) < 1 || cJSON_GetArraySize(machines) > 64)
        return bad(r, "machines", "required: a list of 1 to 64 machines");
    ws_strv vm_names = {0};
    int i = 0, rc = 0;
    cJSON_ArrayForEach(m, machines)
    {
        char idx[32];
        snprintf(idx, sizeof idx, "machines[%d]", i++);
        if ((rc = read_machine(r, m, idx, machines, &vm_names)) != 0)
            break;
    }
    ws_strv_free(&vm_names);
    return rc != 0 ? rc : required_roles(r, machines);
}

static int read_tenants(rd *r, const cJSON *root)
{
    const cJSON *ts;
    if (get_arr(r, root, "tenants", "", 64, &ts) != 0)
        return -1;
    static const char *const tk[] = {"name", "subscriptions", NULL}, *const sk[] = {"id", "name", NULL};
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, ts)
    {
        char p[300], q[300];
        snprintf(p, sizeof p, "tenants[%d]", i++);
        const char *name;
        const cJSON *subs;
        if (keys_ok(r, t, p, tk) != 0 || get_str(r, t, "name", p, 127, &name) != 0 ||
            get_arr(r, t, "subscriptions", p, 64, &subs) != 0)
            return -1;
        if (!name || !is_account(name))
            return bad(r, p, "a tenant needs a name (an account: no ',' or control character)");
        int j = 0;
        const cJSON *s;
        cJSON_ArrayForEach(s, subs)
        {
            snprintf(q, sizeof q, "%s.subscriptions[%d]", p, j++);
            const char *id, *sname;
            if (keys_ok(r, s, q, sk) != 0 || get_str(r, s, "id", q, 36, &id) != 0 ||
                get_str(r, s, "name", q, 128, &sname) != 0)
                return -1;
            if (!sname)
                return bad(r, q, "a subscription needs a name");
            if (id && !ws_guid_valid(id))
                return bad(r, q, "id '%s' is not a GUID", id);
        }
    }
    return 0;
}

/* "2026-01-31T12:00:00Z" -> seconds since 1970. */
static int read_collected_at(rd *r, const cJSON *root)
{
    const char *s;
    if (get_str(r, root, "collected_at", "", 32, &s) != 0)
        return -1;
    if (!s)
        return 0;
    /* The schema's form exactly (seconds, Z); ws_time_parse reads it. */
    ws_error pe;
    if (strlen(s) != 20 || s[10] != 'T' || s[19] != 'Z' || ws_time_parse(s, &r->d->collected_at, &pe) != 0)
        return bad(r, "collected_at", "'%s' is not a UTC time as 2026-01-31T12:00:00Z", s);
    return 0;
}

int ws_deploy_read(const ws_deploy_files *files, ws_deployment *d, ws_error *e)
{
    memset(d, 0, sizeof *d);
    e->msg[0] = '\0';
    rd r = {.d = d, .files = files, .e = e};
    const ws_deploy_file *f = ws_deploy_files_get(files, WS_DEPLOYMENT_JSON);
    if (!f)
        return ws_seterr(e, "%s: missing", WS_DEPLOYMENT_JSON);
    const char *end = NULL;
    d->json = cJSON_ParseWithLengthOpts((const char *)f->data, f->len, &end, 0);
    if (!d->json) {
        size_t at = end ? (size_t)(end - (const char *)f->data) : 0;
        size_t line = 1;
        for (size_t i = 0; i < at && i < f->len; i++)
            line += f->data[i] == '\n';
        return ws_seterr(e, "%s: not JSON (line %zu, byte %zu)", WS_DEPLOYMENT_JSON, line, at);
    }
    static const char *const top[] = {"format", "version", "collected_at", "description", "redacted",
                                      "cloud",  "tenants", "machines",     NULL};
    static const char *const cloud_keys[] = {"rd_gateway_fqdn", NULL};
    const cJSON *root = d->json, *fmt = cJSON_GetObjectItemCaseSensitive(root, "format"),
                *ver = cJSON_GetObjectItemCaseSensitive(root, "version"),
                *cloud = cJSON_GetObjectItemCaseSensitive(root, "cloud");
    int rc = keys_ok(&r, root, "", top);
    if (rc == 0 && (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, WS_DEPLOYMENT_FORMAT) != 0))
        rc = bad(&r, "format", "must be \"%s\"", WS_DEPLOYMENT_FORMAT);
    if (rc == 0 && (!cJSON_IsNumber(ver) || ver->valuedouble != WS_DEPLOYMENT_VERSION))
        rc = bad(&r, "version", "must be %d (this wapsim reads version %d)", WS_DEPLOYMENT_VERSION,
                 WS_DEPLOYMENT_VERSION);
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description"),
                *red = cJSON_GetObjectItemCaseSensitive(root, "redacted");
    if (rc == 0 && desc && (!cJSON_IsString(desc) || strlen(desc->valuestring) > 4096))
        rc = bad(&r, "description", "not a string of at most 4096 characters");
    if (rc == 0 && red && !cJSON_IsBool(red))
        rc = bad(&r, "redacted", "not true or false");
    if (rc == 0 && cloud && (keys_ok(&r, cloud, "cloud", cloud_keys) != 0 ||
                             dns_member(&r, cloud, "rd_gateway_fqdn", "cloud") != 0))
        rc = -1;
    if (rc == 0 && (read_collected_at(&r, root) != 0 || read_tenants(&r, root) != 0 || read_machines(&r, root) != 0))
        rc = -1;
    if (rc != 0)
        ws_deployment_free(d);
    return rc;
}

void ws_deployment_free(ws_deployment *d)
{
    cJSON_Delete(d->json);
    for (size_t i = 0; i < d->n_certs; i++) {
        X509_free(d->certs[i].cert);
        ws_strv_free(&d->certs[i].files);
    }
    free(d->certs);
    memset(d, 0, sizeof *d);
}

const ws_deploy_cert *ws_deploy_cert_by_thumbprint(const ws_deployment *d, const char *tp)
{
    char norm[41];
    if (ws_thumbprint_normalize(tp, norm) != 0)
        return NULL;
    for (size_t i = 0; i < d->n_certs; i++)
        if (strcmp(d->certs[i].thumbprint, norm) == 0)
            return &d->certs[i];
    return NULL;
}

void ws_deploy_report_free(ws_deploy_report *r)
{
    ws_strv_free(&r->defaults);
    ws_strv_free(&r->standins);
    ws_strv_free(&r->unknown);
}

void ws_deploy_path_tidy(char *s)
{
    /* "machines[2] (hvx).vms[0] (vm1).tenant: ..." -> "machines[2].vms[0].tenant (hvx, vm1): ...":
     * the JSON path stays one piece an operator can paste into jq, the names follow it; never
     * longer. The path is the token holding the first "] (", up to a ':', a tab or a space that
     * does not open a " (name)". */
    char *first = strstr(s, "] (");
    if (!first)
        return;
    char *start = first;
    while (start > s && start[-1] != ' ' && start[-1] != '\t')
        start--;
    char path[1024], names[1024] = "", *p = start;
    size_t pn = 0;
    while (*p && *p != ':' && pn + 1 < sizeof path) {
        if (p[0] == ' ' && p[1] == '(') {
            char *close = strchr(p + 2, ')');
            if (!close || close - (p + 2) >= 256 || (close[1] && close[1] != '.' && close[1] != ':' && close[1] != ' '))
                break;
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%.*s", names[0] ? ", " : "",
                     (int)(close - (p + 2)), p + 2);
            p = close + 1;
            continue;
        }
        if (*p == ' ' || *p == '\t')
            break;
        path[pn++] = *p++;
    }
    path[pn] = '\0';
    if (!names[0])
        return;
    char rest[2048];
    snprintf(rest, sizeof rest, "%s", p);
    size_t room = strlen(start) + 1; /* the result is never longer: " (a) (b)" becomes " (a, b)" */
    snprintf(start, room, "%s (%s)%s", path, names, rest);
}
