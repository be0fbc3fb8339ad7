/* SPDX-License-Identifier: Apache-2.0 */
/* deploy_build: a validated deployment -> the lab's state (deployment.h).
 *
 * Runs inside lab init's transaction. The deployment's names, FQDNs, stores, settings,
 * tenants and VMs are taken as written; addresses and ports are the lab's (lab.h,
 * ws_lab_role_port, ws_lab_default_octet); every certificate gets a stand-in
 * (ws_cert_standin: same fields, new key), issuers first; every thumbprint the file
 * registers maps to the stand-in of the certificate that had it, and one that matches
 * none of the file's certificates stays as written (an unknown thumbprint: a finding in
 * itself). What the file leaves out takes the default lab's value, each listed in the
 * report. notes/import-README.md is the user's description. */
#include "lab/deployment.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/cert.h"
#include "crypto/csp.h"
#include "lab/accounts.h"
#include "lab/balancer.h"
#include "lab/clock.h"
#include "lab/dns.h"
#include "lab/fabric.h"
#include "lab/keyacl.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "lab/vault.h"
#include "lab/vm.h"

#define DAYS(n) ((int64_t)(n) * 86400)

typedef struct bld {
    ws_state *st;
    const ws_deployment *d;
    const cJSON *machines;
    const char *prefix;
    ws_lab_init_result *res;
    ws_deploy_report *rep;
    ws_error *e;
    int *made;    /* per certificate: its stand-in is in the vault */
    EVP_PKEY **keys; /* per certificate: its stand-in key, shared by certificates of one public key */
    ws_strv dead; /* DNS entries' addresses of no machine: each a lab address no machine has */
    ws_strv made_issuers; /* "issuer name\tvault name": stand-ins made from an issuer's name */
    char lab_root[80]; /* the default lab's root's vault name, once made (for a machine the file lacks) */
} bld;

static const cJSON *first_of_role(const cJSON *machines, const char *role);

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void defaulted(bld *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void defaulted(bld *b, const char *fmt, ...)
{
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ws_strv_add(&b->rep->defaults, line);
}

/* A vault name for a certificate the lab makes: base, or base-2, base-3... when the
 * deployment's certificates took it. */
static void free_name(bld *b, const char *base, char *out, size_t n)
{
    snprintf(out, n, "%s", base);
    for (int k = 2; ws_vault_exists(b->st, out); k++)
        snprintf(out, n, "%s-%d", base, k);
}

/* ---- certificates: stand-ins, issuers first ---- */

/* A stand-in for an issuer the file lacks: a self-signed CA with the issuer's name,
 * in the vault only (no store has it). [model] valid from a year before the
 * certificate it issued to ten years after it, so it never decides an expiry itself. */
static int issuer_from_name(bld *b, X509 *orig, char *name, size_t n)
{
    char key_text[1024];
    X509_NAME_oneline(X509_get_issuer_name(orig), key_text, sizeof key_text);
    size_t k = strlen(key_text);
    for (int i = 0; i < b->made_issuers.n; i++) /* one stand-in per issuer */
        if (strncmp(b->made_issuers.v[i], key_text, k) == 0 && b->made_issuers.v[i][k] == '\t') {
            snprintf(name, n, "%s", b->made_issuers.v[i] + k + 1);
            return 0;
        }
    X509 *ca = NULL;
    EVP_PKEY *key = NULL;
    ws_cert_spec spec = {.subject = "CN=issuer",
                         .key_usage = "digitalSignature",
                         .is_ca = 1,
                         .not_before = ws_cert_not_before(orig) - DAYS(365),
                         .not_after = ws_cert_not_after(orig) + DAYS(3650)};
    if (ws_cert_create(&spec, NULL, NULL, &ca, &key, b->e) != 0)
        return -1;
    /* The issuer's exact name, as the certificate carries it; signed again. */
    int rc = X509_set_subject_name(ca, X509_get_issuer_name(orig)) && X509_set_issuer_name(ca, X509_get_issuer_name(orig)) &&
                     X509_sign(ca, key, EVP_sha256()) > 0
                 ? 0
                 : ws_seterr(b->e, "cannot make a stand-in issuer");
    char tp[41];
    ws_cert_thumbprint(ca, tp);
    snprintf(name, n, "issuer-%.8s", tp);
    if (rc == 0 && !ws_vault_exists(b->st, name))
        rc = ws_vault_put(b->st, name, ca, key, NULL, b->e);
    if (rc == 0) {
        ws_strv_addf(&b->made_issuers, "%s\t%s", key_text, name);
        char *in = ws_cert_issuer(orig);
        defaulted(b, "issuer \"%s\": not in the deployment: %s, a stand-in made from its name, in no store",
                  in ? in : "?", name);
        free(in);
    }
    X509_free(ca);
    EVP_PKEY_free(key);
    return rc;
}

/* Which of the file's certificates issued c: its issuer's name, and its key verifies c's
 * signature (not X509_check_issued: a self-signed end certificate without keyCertSign,
 * as VMM's makecert one, is its own issuer all the same). -1 when c is self-signed, -2
 * when the file lacks its issuer. */
static int signed_by(X509 *c, X509 *by)
{
    EVP_PKEY *k = X509_get0_pubkey(by);
    return X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(by)) == 0 && k && X509_verify(c, k) > 0;
}

static int issuer_index(const ws_deployment *d, size_t i)
{
    X509 *c = d->certs[i].cert;
    if (signed_by(c, c))
        return -1;
    for (size_t j = 0; j < d->n_certs; j++)
        if (j != i && signed_by(c, d->certs[j].cert))
            return (int)j;
    return -2;
}

/* The stand-in key for certificate i: the one an earlier certificate with the same public key
 * (SPKI) got, as a renewal with the same key keeps sharing it; else a new one (at most
 * WS_STANDIN_MAX_RSA_BITS, reported). Also a budget: one key generation per distinct key. */
static EVP_PKEY *standin_key(bld *b, size_t i)
{
    X509 *c = b->d->certs[i].cert;
    for (size_t j = 0; j < b->d->n_certs; j++)
        if (j != i && b->keys[j] && X509_get0_pubkey(b->d->certs[j].cert) && X509_get0_pubkey(c) &&
            EVP_PKEY_eq(X509_get0_pubkey(b->d->certs[j].cert), X509_get0_pubkey(c)) == 1) {
            EVP_PKEY_up_ref(b->keys[j]);
            return b->keys[i] = b->keys[j];
        }
    b->keys[i] = ws_cert_standin_key(c, b->e);
    int bits = X509_get0_pubkey(c) && EVP_PKEY_is_a(X509_get0_pubkey(c), "RSA") ? EVP_PKEY_get_bits(X509_get0_pubkey(c)) : 0;
    if (b->keys[i] && bits > WS_STANDIN_MAX_RSA_BITS)
        defaulted(b, "%s: an RSA key of %d bits: its stand-in's key has %d bits [model]", b->d->certs[i].file, bits,
                  WS_STANDIN_MAX_RSA_BITS);
    return b->keys[i];
}

static int make_standin(bld *b, size_t i, int depth)
{
    if (b->made[i])
        return 0;
    if (depth > 16)
        return ws_seterr(b->e, "%s: its issuers form a loop", b->d->certs[i].file);
    const ws_deploy_cert *c = &b->d->certs[i];
    int j = issuer_index(b->d, i);
    char issuer_name[80] = "";
    if (j >= 0) {
        if (make_standin(b, (size_t)j, depth + 1) != 0)
            return -1;
        snprintf(issuer_name, sizeof issuer_name, "%s", b->d->certs[j].name);
    } else if (j == -2 && issuer_from_name(b, c->cert, issuer_name, sizeof issuer_name) != 0) {
        return -1;
    }
    X509 *issuer = NULL, *cert = NULL;
    EVP_PKEY *issuer_key = NULL, *key = NULL;
    int rc = issuer_name[0] ? ws_vault_get(b->st, issuer_name, &issuer, &issuer_key, NULL, b->e) : 0;
    if (rc == 0 && (!(key = standin_key(b, i)) ||
                    ws_cert_standin_with_key(c->cert, issuer, issuer_key, key, &cert, b->e) != 0)) {
        char why[sizeof b->e->msg]; /* e->msg cannot be both a source and the destination */
        snprintf(why, sizeof why, "%s", b->e->msg);
        rc = ws_seterr(b->e, "%s: %s %s: no stand-in: %s", WS_DEPLOYMENT_JSON, c->file, c->thumbprint, why);
    }
    if (rc == 0)
        rc = ws_vault_put(b->st, c->name, cert, key, c->csp[0] ? c->csp : NULL, b->e) != 0 ||
                     ws_vault_set_original(b->st, c->name, c->thumbprint, b->e) != 0
                 ? -1
                 : 0;
    if (rc == 0) {
        char tp[41];
        ws_cert_thumbprint(cert, tp);
        ws_strv_addf(&b->rep->standins, "%s\t%s\t%s", c->name, tp, c->thumbprint);
        b->made[i] = 1;
    }
    X509_free(issuer);
    EVP_PKEY_free(issuer_key);
    X509_free(cert); /* key: b->keys[i]'s, freed with b */
    return rc;
}

/* A thumbprint the file registers, as the lab's setting holds it: the stand-in's vault
 * name; else the thumbprint as written (upper case), reported unknown. */
static void map_thumbprint(bld *b, const char *path, const char *tp, char *out, size_t n, int want_name)
{
    const ws_deploy_cert *c = ws_deploy_cert_by_thumbprint(b->d, tp);
    char norm[41];
    ws_thumbprint_normalize(tp, norm);
    if (c && want_name) {
        snprintf(out, n, "%s", c->name);
        return;
    }
    if (c && ws_vault_thumbprint(b->st, c->name, norm) == 0) {
        snprintf(out, n, "%s", norm);
        return;
    }
    snprintf(out, n, "%s", norm);
    ws_strv_addf(&b->rep->unknown, "%s\t%s", path, norm);
}

/* ---- machines ---- */

/* The index of the balancer that has name as a member, or -1. */
static const cJSON *balancer_of(const cJSON *machines, const char *name)
{
    const cJSON *m, *it;
    cJSON_ArrayForEach(m, machines)
    {
        const cJSON *bal = cJSON_GetObjectItemCaseSensitive(m, "balancer");
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(bal, "members"))
        if (strcasecmp(it->valuestring, name) == 0)
            return m;
    }
    return NULL;
}

/* One machine: default names at their default octets (pass 0), the others at the next
 * free address from .21 (pass 1). */
static int add_machine(bld *b, const cJSON *jm, int idx, int pass)
{
    const char *name = str(jm, "name"), *role = str(jm, "role");
    int octet = ws_lab_default_octet(name);
    if ((pass == 0) != (octet > 0))
        return 0;
    ws_machine m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    snprintf(m.role, sizeof m.role, "%s", role);
    m.port = ws_lab_role_port(role);
    if (str(jm, "fqdn")) {
        snprintf(m.fqdn, sizeof m.fqdn, "%s", str(jm, "fqdn"));
    } else {
        ws_lab_default_fqdn(name, role, m.fqdn, sizeof m.fqdn);
        defaulted(b, "machines[%d] (%s).fqdn: not given: %s", idx, name, m.fqdn);
    }
    const char *pub = str(jm, "public_fqdn");
    const cJSON *bal = balancer_of(b->machines, name);
    /* The public name is the balancer's when it answers for it (ws_fabric_add_balancer
     * moves it there). */
    if (pub && bal && str(bal, "public_fqdn") && strcasecmp(str(bal, "public_fqdn"), pub) == 0)
        pub = NULL;
    if (!pub && strcmp(role, "portal") == 0) {
        pub = m.fqdn;
        defaulted(b, "machines[%d] (%s).public_fqdn: not given: %s, its FQDN", idx, name, pub);
    }
    if (pub)
        snprintf(m.public_fqdn, sizeof m.public_fqdn, "%s", pub);
    const cJSON *skew = cJSON_GetObjectItemCaseSensitive(jm, "clock_skew_seconds");
    m.skew_seconds = skew ? (int64_t)skew->valuedouble : 0;
    if (octet > 0)
        snprintf(m.address, sizeof m.address, "%s%d", b->prefix, octet);
    else if (ws_fabric_free_address_from(b->st, 21, m.address, sizeof m.address, b->e) != 0)
        return -1;
    return ws_machine_add(b->st, &m, b->e);
}

/* A store entry: the stand-in, with its key when the machine holds it; its key's access
 * list as recorded (absent: not recorded). */
static int add_entry(bld *b, const char *machine, const char *store, const cJSON *en)
{
    const char *file = str(en, "file");
    const ws_deploy_cert *c = NULL;
    for (size_t i = 0; i < b->d->n_certs && !c; i++)
        if (ws_strv_has(&b->d->certs[i].files, file))
            c = &b->d->certs[i];
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(en, "private_key");
    if (!c)
        return ws_seterr(b->e, "%s: %s: certificate not read", WS_DEPLOYMENT_JSON, file);
    int has_key = 0;
    if (ws_store_contains(b->st, machine, store, c->name, &has_key)) {
        if (!pk || has_key)
            return 0;
        ws_store_remove(b->st, machine, store, c->name, NULL);
    }
    if (ws_store_add(b->st, machine, store, c->name, pk != NULL, b->e) != 0)
        return -1;
    const cJSON *access = cJSON_GetObjectItemCaseSensitive(pk, "access"), *a;
    if (!access)
        return 0;
    /* Exactly the recorded list: granted over the import default, which then goes. */
    int changed;
    cJSON_ArrayForEach(a, access)
    if (ws_keyacl_grant(b->st, machine, store, c->name, str(a, "account"), str(a, "rights"), &changed, b->e) != 0)
        return -1;
    static const char *const dflt[] = {WS_ACCOUNT_SYSTEM, WS_ACCOUNT_ADMINISTRATORS};
    for (size_t k = 0; k < 2; k++) {
        int listed = 0;
        cJSON_ArrayForEach(a, access)
        listed |= strcasecmp(str(a, "account"), dflt[k]) == 0;
        if (!listed && ws_keyacl_revoke(b->st, machine, store, c->name, dflt[k], b->e) < 0)
            return -1;
    }
    return 0;
}

static int add_stores(bld *b, const cJSON *jm)
{
    static const char *const stores[] = {"My", "Root"};
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(jm, "stores"), *en;
    for (size_t k = 0; k < 2; k++)
        cJSON_ArrayForEach(en, cJSON_GetObjectItemCaseSensitive(s, stores[k]))
    if (add_entry(b, str(jm, "name"), stores[k], en) != 0)
        return -1;
    return 0;
}

/* ---- settings ---- */

/* The first certificate the machine holds with its key in My: what a missing binding
 * defaults to (IIS and RD Gateway Manager bind one of those). "" when none. */
static void first_keyed(bld *b, const cJSON *jm, char *out, size_t n)
{
    const cJSON *en;
    out[0] = '\0';
    cJSON_ArrayForEach(en, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(jm, "stores"), "My"))
    {
        if (!cJSON_GetObjectItemCaseSensitive(en, "private_key"))
            continue;
        for (size_t i = 0; i < b->d->n_certs; i++)
            if (ws_strv_has(&b->d->certs[i].files, str(en, "file"))) {
                snprintf(out, n, "%s", b->d->certs[i].name);
                return;
            }
    }
}

/* A binding (a thumbprint setting): mapped, or the first keyed certificate of My. */
static int bind(bld *b, const cJSON *jo, const cJSON *jm, int idx, const char *field, const char *scope,
                const char *key)
{
    const char *tp = str(jo, field);
    const char *name = str(jm, "name");
    char value[128], path[300];
    snprintf(path, sizeof path, "machines[%d] (%s).%s%s", idx, name, jo == jm ? "" : "vmm.", field);
    if (tp) {
        map_thumbprint(b, path, tp, value, sizeof value, 1);
    } else {
        first_keyed(b, jm, value, sizeof value);
        defaulted(b, "%s: not given: %s", path,
                  value[0] ? value : "none (no certificate with its key in its My store)");
        if (!value[0])
            return 0;
    }
    return ws_setting_set(b->st, scope, key, value, b->e);
}

/* A host's console certificate when the file names none: the default lab's, a
 * certificate the host made itself, CN = its FQDN (lab.c's hvNN-selfsigned). */
static int host_selfsigned(bld *b, const char *name, int idx)
{
    ws_machine m;
    char base[80], cert[96], subject[300];
    snprintf(base, sizeof base, "%s-selfsigned", name);
    free_name(b, base, cert, sizeof cert);
    if (ws_machine_get(b->st, name, &m, b->e) != 0)
        return -1;
    snprintf(subject, sizeof subject, "CN=%s", m.fqdn);
    if (ws_lab_make_default_cert(b->st, "hv01-selfsigned", cert, NULL, subject, NULL, b->e) != 0 ||
        ws_store_add(b->st, name, "My", cert, 1, b->e) != 0 ||
        ws_keyacl_set_import_default(b->st, name, "My", cert, b->e) != 0 ||
        ws_setting_set(b->st, name, WS_SET_AUTH_CERT, cert, b->e) != 0)
        return -1;
    defaulted(b, "machines[%d] (%s).rdp_certificate: not given: %s, a self-signed certificate the host made (the "
                 "default lab's)", idx, name, cert);
    return 0;
}

/* Trusted issuers (gateway FedAuth list, host TrustedIssuerCertificateHashes): as listed,
 * else VMM's certificate for that role (the default lab's registration). */
static int trusted_issuers(bld *b, const cJSON *jm, int idx, const cJSON *vmm)
{
    const char *name = str(jm, "name");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(jm, "trusted_issuers"), *it;
    char path[300], tp[128];
    if (!list) {
        const char *field = strcmp(str(jm, "role"), "host") == 0 ? "hyperv_certificate" : "gateway_certificate";
        char vname[128] = "";
        if (vmm && ws_setting_get(b->st, str(vmm, "name"),
                                  strcmp(field, "hyperv_certificate") == 0 ? WS_SET_VMM_HYPERV_CERT
                                                                           : WS_SET_VMM_GATEWAY_CERT,
                                  vname, sizeof vname) == 0 &&
            ws_vault_thumbprint(b->st, vname, tp) == 0) {
            defaulted(b, "machines[%d] (%s).trusted_issuers: not given: VMM's %s (%s)", idx, name, field, vname);
            return ws_trusted_issuer_add(b->st, name, tp, b->e);
        }
        defaulted(b, "machines[%d] (%s).trusted_issuers: not given: none", idx, name);
        return 0;
    }
    int i = 0;
    cJSON_ArrayForEach(it, list)
    {
        snprintf(path, sizeof path, "machines[%d] (%s).trusted_issuers[%d]", idx, name, i++);
        map_thumbprint(b, path, it->valuestring, tp, sizeof tp, 0);
        if (ws_trusted_issuer_add(b->st, name, tp, b->e) != 0)
            return -1;
    }
    return 0;
}

static int vmm_settings(bld *b, const cJSON *jm, int idx)
{
    const char *name = str(jm, "name");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(jm, "vmm");
    cJSON *empty = v ? NULL : cJSON_CreateObject();
    const cJSON *jo = v ? v : empty;
    int rc = bind(b, jo, jm, idx, "gateway_certificate", name, WS_SET_VMM_GATEWAY_CERT) != 0 ||
                     bind(b, jo, jm, idx, "hyperv_certificate", name, WS_SET_VMM_HYPERV_CERT) != 0
                 ? -1
                 : 0;
    for (const ws_lab_setting *d = ws_lab_vmm_defaults; rc == 0 && d->key; d++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(jo, d->field);
        char value[32];
        if (cJSON_IsString(f))
            snprintf(value, sizeof value, "%s", f->valuestring);
        else if (cJSON_IsNumber(f))
            snprintf(value, sizeof value, "%d", (int)f->valuedouble);
        else {
            snprintf(value, sizeof value, "%s", d->value);
            defaulted(b, "machines[%d] (%s).vmm.%s: not given: %s, the default lab's", idx, name, d->field, d->value);
        }
        rc = ws_setting_set(b->st, name, d->key, value, b->e);
    }
    cJSON_Delete(empty);
    return rc;
}

/* The services' logons and local Administrators: as given; VMM and SPF default to the
 * default lab's accounts, and VMM's account is its local administrator [model]. */
static int logons(bld *b, const cJSON *jm, int idx)
{
    const char *name = str(jm, "name"), *role = str(jm, "role"), *svc = str(jm, "service_account");
    const char *dflt = strcmp(role, "vmm") == 0 ? WS_SERVICE_ACCOUNT_VMM
                       : strcmp(role, "spf") == 0 ? WS_SERVICE_ACCOUNT_SPF
                                                  : NULL;
    if (!svc && dflt) {
        svc = dflt;
        defaulted(b, "machines[%d] (%s).service_account: not given: %s, the default lab's", idx, name, dflt);
    }
    if (svc && ws_lab_service_logon(b->st, b->res, name, svc, b->e) != 0)
        return -1;
    const cJSON *admins = cJSON_GetObjectItemCaseSensitive(jm, "local_administrators"), *it;
    char list[4096] = "";
    cJSON_ArrayForEach(it, admins)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? "," : "", it->valuestring);
    if (!admins && strcmp(role, "vmm") == 0) {
        snprintf(list, sizeof list, "%s", svc);
        defaulted(b, "machines[%d] (%s).local_administrators: not given: %s, its service account", idx, name, svc);
    }
    return list[0] || admins ? ws_setting_set(b->st, name, WS_SET_LOCAL_ADMINS, list, b->e) : 0;
}

/* ---- DNS ---- */

/* The file's machine whose address is ADDR, or NULL. */
static const cJSON *machine_at(const cJSON *machines, const char *addr)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, machines)
    if (str(m, "address") && strcmp(str(m, "address"), addr) == 0)
        return m;
    return NULL;
}

static int dead_index(const ws_strv *l, const char *s)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return i;
    return -1;
}

static int octet_used(const ws_machine *m, void *arg)
{
    const char *dot = strrchr(m->address, '.');
    int o = dot ? atoi(dot + 1) : -1;
    if (o > 0 && o < 256)
        ((char *)arg)[o] = 1;
    return 0;
}

/* Every DNS hosts entry's address of no machine, once, in file order (each machine's dns.hosts,
 * the client's included): the machines' views and the tenant's hosts file share this one list,
 * so one customer address is one dead address everywhere. */
static void dead_list(bld *b)
{
    const cJSON *m, *it;
    cJSON_ArrayForEach(m, b->machines)
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "dns"), "hosts"))
    {
        const char *a = str(it, "address");
        if (a && !machine_at(b->machines, a) && dead_index(&b->dead, a) < 0)
            ws_strv_add(&b->dead, a);
    }
}

/* A customer's address as the lab has it: that machine's lab address; an address of no
 * machine becomes a lab address no machine has (nor a default machine the lab may add, .10 to
 * .20), from .254 down ([model] a dead address: nothing answers there, as nothing would for the
 * customer's stale entry). Refused when the subnet has no such address left. */
static int map_address(bld *b, const char *addr, char *out, size_t n)
{
    ws_machine lm;
    const cJSON *m = machine_at(b->machines, addr);
    if (m && ws_machine_get(b->st, str(m, "name"), &lm, NULL) == 0) {
        snprintf(out, n, "%s", lm.address);
        return 0;
    }
    if (b->dead.n == 0)
        dead_list(b);
    int k = dead_index(&b->dead, addr);
    char used[256] = {0};
    for (int o = 10; o <= 20; o++)
        used[o] = 1;
    if (ws_machine_foreach(b->st, octet_used, used, b->e) != 0)
        return -1;
    for (int o = 254; o >= 1 && k >= 0; o--)
        if (!used[o] && k-- == 0) {
            snprintf(out, n, "%s%d", b->prefix, o);
            return 0;
        }
    return ws_seterr(b->e, "%s: dns.hosts: %s, an address of no machine: the lab's subnet has no unused address left "
                           "for it (%d such addresses)",
                     WS_DEPLOYMENT_JSON, addr, b->dead.n);
}

static int dns_view(bld *b, const cJSON *jm)
{
    const cJSON *dns = cJSON_GetObjectItemCaseSensitive(jm, "dns"), *it;
    if (!dns || strcmp(str(jm, "role"), "client") == 0) /* the tenant's PC: the hosts file */
        return 0;
    ws_dns_view v;
    if (ws_dns_view_get(b->st, str(jm, "name"), &v, b->e) != 0)
        return -1;
    if (str(dns, "server"))
        snprintf(v.server, sizeof v.server, "%s", str(dns, "server"));
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(dns, "forwarders"))
    ws_strv_add(&v.forwarders, it->valuestring);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(dns, "hosts"))
    {
        char addr[64], name[256];
        if (map_address(b, str(it, "address"), addr, sizeof addr) != 0) {
            ws_dns_view_free(&v);
            return -1;
        }
        snprintf(name, sizeof name, "%s", str(it, "name"));
        for (char *c = name; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        ws_strv_addf(&v.hosts, "%s=%s", name, addr);
    }
    int rc = ws_dns_view_save(b->st, &v, b->e);
    ws_dns_view_free(&v);
    return rc;
}

char *ws_deploy_hosts_text(ws_state *st, const ws_deployment *d, ws_error *e)
{
    ws_buf out;
    ws_buf_init(&out, WS_BUF_MAX_TEXT_FILE);
    ws_buf_adds(&out, "# The names a tenant's PC can resolve (/etc/hosts format), from the deployment.\n");
    const cJSON *machines = cJSON_GetObjectItemCaseSensitive(d->json, "machines"), *m, *it;
    const cJSON *client_hosts = NULL;
    cJSON_ArrayForEach(m, machines)
    if (strcmp(str(m, "role"), "client") == 0)
        client_hosts = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "dns"), "hosts");
    char prefix[32] = "", subnet[64];
    if (ws_meta_get(st, "subnet", subnet, sizeof subnet) == 0)
        ws_subnet_prefix(subnet, prefix, sizeof prefix);
    bld b = {.st = st, .d = d, .machines = machines, .prefix = prefix, .e = e};
    if (client_hosts) { /* the client's own hosts file, addresses mapped */
        cJSON_ArrayForEach(it, client_hosts)
        {
            char addr[64];
            if (map_address(&b, str(it, "address"), addr, sizeof addr) != 0) {
                ws_strv_free(&b.dead);
                ws_buf_free(&out);
                return NULL;
            }
            ws_buf_addf(&out, "%s\t%s\n", addr, str(it, "name"));
        }
    } else { /* as lab init: the public names (a balancer's), and each gateway's FQDN */
        ws_buf_adds(&out, "# The public names, and each RD Gateway's own (it sits in the DMZ).\n");
        cJSON_ArrayForEach(m, machines)
        {
            ws_machine lm;
            if (ws_machine_get(st, str(m, "name"), &lm, NULL) != 0)
                continue;
            if (lm.public_fqdn[0])
                ws_buf_addf(&out, "%s\t%s\n", lm.address, lm.public_fqdn);
            if (strcmp(lm.role, "gateway") == 0)
                ws_buf_addf(&out, "%s\t%s\n", lm.address, lm.fqdn);
        }
        ws_machine portal; /* a portal the lab added (the file's are above) */
        if (ws_machine_by_role(st, "portal", &portal, NULL) == 0 && !first_of_role(machines, "portal"))
            ws_buf_addf(&out, "%s\t%s\n", portal.address, portal.public_fqdn);
    }
    ws_strv_free(&b.dead);
    size_t len;
    char *text = ws_buf_take(&out, &len);
    ws_buf_free(&out);
    if (!text)
        ws_seterr(e, "out of memory");
    return text;
}

/* ---- tenants, subscriptions, VMs ---- */

#define DEFAULT_TENANT "alice"
#define DEFAULT_SUBSCRIPTION "Contoso Web"

/* The subscription (tenant, name), made when new: its id is the file's or new. */
static int subscription(bld *b, const char *tenant, const char *name, const char *id, char out[37])
{
    if (ws_state_text(b->st, out, 37, NULL, "SELECT id FROM subscriptions WHERE tenant = ? AND name = ?", 2, tenant,
                      name) == 0)
        return 0;
    if (id)
        snprintf(out, 37, "%s", id);
    else
        ws_guid_new(out);
    return ws_lab_add_account(b->st, b->res, tenant, "tenant", b->e) != 0 ||
                   ws_state_exec(b->st, b->e, "INSERT INTO subscriptions(id, tenant, name) VALUES(?, ?, ?)", 3, out,
                                 tenant, name) != 0
               ? -1
               : 0;
}

static int tenants(bld *b)
{
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(b->d->json, "tenants"), *t, *s;
    char id[37];
    if (!ts)
        defaulted(b, "tenants: not given: made from the VMs' tenant and subscription");
    cJSON_ArrayForEach(t, ts)
    {
        if (ws_lab_add_account(b->st, b->res, str(t, "name"), "tenant", b->e) != 0)
            return -1;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(t, "subscriptions"))
        if (subscription(b, str(t, "name"), str(s, "name"), str(s, "id"), id) != 0)
            return -1;
    }
    return 0;
}

/* The tenant's first subscription, or the default one made for it. */
static int first_subscription(bld *b, const char *tenant, char out[37], char *name, size_t n)
{
    if (ws_state_text(b->st, name, n, NULL, "SELECT name FROM subscriptions WHERE tenant = ? ORDER BY rowid", 1,
                      tenant) != 0)
        snprintf(name, n, "%s", DEFAULT_SUBSCRIPTION);
    return subscription(b, tenant, name, NULL, out);
}

static int vms(bld *b, const cJSON *jm, int idx)
{
    const cJSON *vm;
    int i = 0;
    cJSON_ArrayForEach(vm, cJSON_GetObjectItemCaseSensitive(jm, "vms"))
    {
        ws_vm v;
        memset(&v, 0, sizeof v);
        const char *tenant = str(vm, "tenant"), *sub = str(vm, "subscription");
        char subname[130];
        snprintf(v.name, sizeof v.name, "%s", str(vm, "name"));
        if (!tenant) {
            tenant = DEFAULT_TENANT;
            defaulted(b, "machines[%d] (%s).vms[%d] (%s).tenant: not given: %s, the default lab's", idx,
                      str(jm, "name"), i, v.name, tenant);
        }
        if ((sub ? subscription(b, tenant, sub, NULL, v.subscription)
                 : first_subscription(b, tenant, v.subscription, subname, sizeof subname)) != 0)
            return -1;
        if (!sub)
            defaulted(b, "machines[%d] (%s).vms[%d] (%s).subscription: not given: %s's \"%s\"", idx,
                      str(jm, "name"), i, v.name, tenant, subname);
        if (str(vm, "id"))
            snprintf(v.id, sizeof v.id, "%s", str(vm, "id"));
        else
            ws_guid_new(v.id);
        snprintf(v.os, sizeof v.os, "%s", str(vm, "os") ? str(vm, "os") : "Windows Server 2012 R2");
        snprintf(v.state, sizeof v.state, "%s", str(vm, "state") ? str(vm, "state") : "Running");
        snprintf(v.host, sizeof v.host, "%s", str(jm, "name")); /* the host is the machine that lists it */
        if (ws_vm_add(b->st, &v, b->e) != 0)
            return -1;
        i++;
    }
    return 0;
}

/* ---- the balancer ---- */
static int balancer(bld *b, const cJSON *jm, int idx)
{
    const cJSON *bal = cJSON_GetObjectItemCaseSensitive(jm, "balancer"), *it;
    ws_lb_config c;
    memset(&c, 0, sizeof c);
    char members[WS_LB_MAX_MEMBERS * 65] = "";
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(bal, "members"))
    snprintf(members + strlen(members), sizeof members - strlen(members), "%s%s", members[0] ? "," : "",
             it->valuestring);
    const char *mode = str(bal, "mode") ? str(bal, "mode") : "tcp", *aff = str(bal, "affinity") ? str(bal, "affinity") : "none";
    if (ws_lb_members_parse(members, &c, b->e) != 0 || ws_lb_mode_parse(mode, &c.mode, b->e) != 0 ||
        ws_lb_affinity_parse(aff, &c.affinity, b->e) != 0)
        return -1;
    c.reencrypt = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(bal, "reencrypt"));
    if (!str(bal, "mode"))
        defaulted(b, "machines[%d] (%s).balancer.mode: not given: tcp", idx, str(jm, "name"));
    if (strcmp(mode, "tls-offload") == 0) {
        char path[300];
        snprintf(path, sizeof path, "machines[%d] (%s).tls_certificate", idx, str(jm, "name"));
        if (str(jm, "tls_certificate"))
            map_thumbprint(b, path, str(jm, "tls_certificate"), c.cert, sizeof c.cert, 1);
        else
            first_keyed(b, jm, c.cert, sizeof c.cert);
    }
    /* A thumbprint of no certificate is bound as written (the balancer then has no
     * certificate to offer, as the appliance would not); nothing to install. */
    char unknown[sizeof c.cert] = "";
    if (c.cert[0] && !ws_vault_exists(b->st, c.cert)) {
        snprintf(unknown, sizeof unknown, "%s", c.cert);
        c.cert[0] = '\0';
    }
    if (ws_lb_config_write(b->st, str(jm, "name"), &c, b->e) != 0)
        return -1;
    return unknown[0] ? ws_setting_set(b->st, str(jm, "name"), WS_SET_SSL_CERT, unknown, b->e) : 0;
}

/* ---- machines the file lacks ---- */

/* Column 0 of every row of sql. */
static int strings(bld *b, const char *sql, ws_strv *out)
{
    sqlite3_stmt *s = ws_state_query(b->st, b->e, sql, 0);
    if (!s)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ws_strv_add(out, (const char *)sqlite3_column_text(s, 0));
    return ws_state_finish(b->st, s, rc, b->e);
}

static const cJSON *first_of_role(const cJSON *machines, const char *role)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, machines)
    if (strcmp(str(m, "role"), role) == 0)
        return m;
    return NULL;
}

/* The default lab's root CA, made once, in every machine's Root store (as the default
 * lab has it): the issuer of the certificates of the machines the lab adds. */
static int lab_root(bld *b)
{
    if (b->lab_root[0])
        return 0;
    free_name(b, "lab-root-ca", b->lab_root, sizeof b->lab_root);
    if (ws_lab_make_default_cert(b->st, "lab-root-ca", b->lab_root, NULL, NULL, NULL, b->e) != 0)
        return -1;
    defaulted(b, "%s: the default lab's root, in every machine's Root store (it issued the added machines' "
                 "certificates)", b->lab_root);
    return 0;
}

/* Once the machines are all there: the default lab's root, when made, in every Root store. */
static int spread_lab_root(bld *b)
{
    if (!b->lab_root[0])
        return 0;
    ws_strv names = {0};
    int rc = strings(b, "SELECT name FROM machines ORDER BY name", &names), installed;
    for (int i = 0; rc == 0 && i < names.n; i++)
        rc = ws_store_install(b->st, names.v[i], "Root", b->lab_root, 0, &installed, b->e);
    ws_strv_free(&names);
    return rc;
}

/* A default machine (portal, spf01, client) the file lacks, at its default octet. */
static int add_default_machine(bld *b, const char *name, const char *role, const char *public_fqdn)
{
    if (ws_machine_exists(b->st, name))
        return ws_seterr(b->e, "%s: machines: no %s, and the default one's name %s is taken by another role",
                         WS_DEPLOYMENT_JSON, role, name);
    ws_machine m = {.port = ws_lab_role_port(role)};
    snprintf(m.name, sizeof m.name, "%s", name);
    snprintf(m.role, sizeof m.role, "%s", role);
    ws_lab_default_fqdn(name, role, m.fqdn, sizeof m.fqdn);
    if (public_fqdn)
        snprintf(m.public_fqdn, sizeof m.public_fqdn, "%s", public_fqdn);
    snprintf(m.address, sizeof m.address, "%s%d", b->prefix, ws_lab_default_octet(name));
    return ws_machine_add(b->st, &m, b->e);
}

/* The portal or SPF the file lacks: the default lab's, its TLS certificate issued by the
 * default lab's root and bound. */
static int default_server(bld *b, const char *name, const char *role, const char *model)
{
    char cert[96];
    if (add_default_machine(b, name, role, role[0] == 'p' ? "portal.contoso.com" : NULL) != 0 || lab_root(b) != 0)
        return -1;
    free_name(b, model, cert, sizeof cert);
    if (ws_lab_make_default_cert(b->st, model, cert, b->lab_root, NULL, NULL, b->e) != 0 ||
        ws_store_add(b->st, name, "My", cert, 1, b->e) != 0 ||
        ws_keyacl_set_import_default(b->st, name, "My", cert, b->e) != 0 ||
        ws_setting_set(b->st, name, WS_SET_SSL_CERT, cert, b->e) != 0)
        return -1;
    defaulted(b, "machines: no %s: %s, the default lab's, bound to %s", role, name, cert);
    return 0;
}

/* The tenant's PC the file lacks: client, trusting every certificate some machine's Root
 * store has. */
static int default_client(bld *b)
{
    if (add_default_machine(b, "client", "client", NULL) != 0)
        return -1;
    ws_strv names = {0};
    int rc = strings(b, "SELECT DISTINCT certificate FROM store_entries WHERE store = 'Root' ORDER BY certificate", &names);
    for (int i = 0; rc == 0 && i < names.n; i++)
        rc = ws_store_add(b->st, "client", "Root", names.v[i], 0, b->e);
    ws_strv_free(&names);
    defaulted(b, "machines: no client: client, the tenant's PC, trusting every certificate of the machines' Root "
                 "stores");
    return rc;
}

/* ---- the whole ---- */

/* What one machine of the file configures, its role's settings. */
static int configure(bld *b, const cJSON *jm, int idx, const cJSON *vmm)
{
    const char *name = str(jm, "name"), *role = str(jm, "role");
    if (add_stores(b, jm) != 0 || logons(b, jm, idx) != 0 || dns_view(b, jm) != 0)
        return -1;
    if (strcmp(role, "portal") == 0 || strcmp(role, "spf") == 0 || strcmp(role, "gateway") == 0)
        if (bind(b, jm, jm, idx, "tls_certificate", name, WS_SET_SSL_CERT) != 0)
            return -1;
    if (strcmp(role, "host") == 0) {
        int rc = str(jm, "rdp_certificate") ? bind(b, jm, jm, idx, "rdp_certificate", name, WS_SET_AUTH_CERT)
                                            : host_selfsigned(b, name, idx);
        if (rc != 0 || vms(b, jm, idx) != 0)
            return -1;
    }
    if ((strcmp(role, "host") == 0 || strcmp(role, "gateway") == 0) && trusted_issuers(b, jm, idx, vmm) != 0)
        return -1;
    if (strcmp(role, "balancer") == 0 && balancer(b, jm, idx) != 0)
        return -1;
    return 0;
}

static int cloud_settings(bld *b)
{
    const cJSON *cloud = cJSON_GetObjectItemCaseSensitive(b->d->json, "cloud");
    const char *fqdn = str(cloud, "rd_gateway_fqdn");
    ws_machine m;
    if (!fqdn) { /* the balancer's public name, else the first gateway's, else its FQDN */
        const cJSON *g = first_of_role(b->machines, "balancer");
        if (!g)
            g = first_of_role(b->machines, "gateway");
        if (ws_machine_get(b->st, str(g, "name"), &m, b->e) != 0)
            return -1;
        fqdn = m.public_fqdn[0] ? m.public_fqdn : m.fqdn;
        defaulted(b, "cloud.rd_gateway_fqdn: not given: %s (%s's name)", fqdn, m.name);
    }
    return ws_setting_set(b->st, WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, fqdn, b->e);
}

static int build(bld *b)
{
    const cJSON *jm, *vmm = first_of_role(b->machines, "vmm");
    /* VMM and a gateway are there: ws_deploy_read checked it (deploy_read.c, required_roles). */
    for (size_t i = 0; i < b->d->n_certs; i++)
        if (make_standin(b, i, 0) != 0)
            return -1;
    for (int pass = 0; pass < 2; pass++) {
        int idx = 0;
        cJSON_ArrayForEach(jm, b->machines)
        if (add_machine(b, jm, idx++, pass) != 0)
            return -1;
    }
    if (tenants(b) != 0)
        return -1;
    /* VMM first: the others' defaults (trusted issuers) read its settings. */
    int idx = 0, vmm_idx = 0;
    cJSON_ArrayForEach(jm, b->machines)
    {
        if (jm == vmm)
            vmm_idx = idx;
        idx++;
    }
    if (configure(b, vmm, vmm_idx, vmm) != 0 || vmm_settings(b, vmm, vmm_idx) != 0)
        return -1;
    idx = 0;
    cJSON_ArrayForEach(jm, b->machines)
    {
        if (jm != vmm && configure(b, jm, idx, vmm) != 0)
            return -1;
        idx++;
    }
    if ((!first_of_role(b->machines, "spf") && default_server(b, "spf01", "spf", "spf-ssl") != 0) ||
        (!first_of_role(b->machines, "portal") && default_server(b, "portal", "portal", "portal-ssl") != 0) ||
        spread_lab_root(b) != 0 || (!first_of_role(b->machines, "client") && default_client(b) != 0))
        return -1;
    ws_machine spf, portal;
    if (ws_machine_by_role(b->st, "spf", &spf, b->e) != 0 || ws_machine_by_role(b->st, "portal", &portal, b->e) != 0)
        return -1;
    char spf_account[128];
    if (ws_setting_get(b->st, spf.name, WS_SET_SERVICE_ACCOUNT, spf_account, sizeof spf_account) != 0) {
        snprintf(spf_account, sizeof spf_account, "%s", WS_SERVICE_ACCOUNT_SPF);
        if (ws_lab_service_logon(b->st, b->res, spf.name, spf_account, b->e) != 0)
            return -1;
    }
    if (ws_lab_add_account(b->st, b->res, WS_LAB_FABRIC_ADMIN, "fabric-admin", b->e) != 0 ||
        ws_lab_register_spf(b->st, b->res, portal.name, spf.name, spf_account, b->e) != 0 || cloud_settings(b) != 0)
        return -1;
    defaulted(b, "accounts: %s (fabric-admin), the default lab's; every password new", WS_LAB_FABRIC_ADMIN);
    return 0;
}

int ws_deploy_build(ws_state *st, const ws_deployment *d, const char *prefix, struct ws_lab_init_result *res,
                    ws_deploy_report *rep, ws_error *e)
{
    bld b = {.st = st,
             .d = d,
             .machines = cJSON_GetObjectItemCaseSensitive(d->json, "machines"),
             .prefix = prefix,
             .res = res,
             .rep = rep,
             .e = e,
             .made = calloc(d->n_certs + 1, sizeof(int)),
             .keys = calloc(d->n_certs + 1, sizeof(EVP_PKEY *))};
    if (!b.made || !b.keys) {
        free(b.made);
        free(b.keys);
        return ws_seterr(e, "out of memory");
    }
    int rc = build(&b);
    for (size_t i = 0; i < d->n_certs; i++)
        EVP_PKEY_free(b.keys[i]);
    free(b.keys);
    free(b.made);
    ws_strv_free(&b.dead);
    ws_strv_free(&b.made_issuers);
    return rc;
}
