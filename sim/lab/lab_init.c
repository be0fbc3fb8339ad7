/* SPDX-License-Identifier: Apache-2.0 */
/* lab init: a new lab, the default world or a deployment's (see lab.h). Apart from lab.c
 * so that the components, which open labs but never make one, link neither this nor the
 * deployment reader and its libarchive (and libxml2, ICU: about 0.3 MiB and 10 ms a
 * process start, measured for issue 18's 30 seats). */
#include "lab/lab.h"
#include "lab/lab_int.h"

#include <dirent.h>
#include <errno.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lab/accounts.h"
#include "lab/balancer.h"
#include "crypto/cert.h"
#include "lab/clock.h"
#include "lab/dns.h"
#include "lab/events.h"
#include "lab/keyacl.h"
#include "lab/fabric.h"
#include "lab/machine.h"
#include "base/net.h"
#include "lab/settings.h"
#include "lab/store.h"
#include "lab/vault.h"
#include "lab/vm.h"

#define default_machines ws_lab_default_machines
#define N_MACHINES ws_lab_n_default_machines

#define DAYS(n) ((int64_t)(n) * 86400)

/* The default certificates, in creation order (an issuer before what it issues). */
static const struct {
    const char *name, *subject, *san, *eku, *key_usage, *csp, *issuer;
    int is_ca, days;
} default_certs[] = {
    {"lab-root-ca", "CN=Contoso Root CA", NULL, NULL, "digitalSignature", NULL, NULL, 1, 3650},
    /* The VMM certificate of the makecert recipe (REFERENCE.md section 2). */
    {"vmm-console", "CN=Remote Console Connect", NULL, "clientAuth", "digitalSignature", WS_CSP_ENHANCED_RSA_AES,
     NULL, 0, 365},
    {"rdgw-ssl", "CN=rdgw.contoso.com", "DNS:rdgw.contoso.com", "serverAuth", "digitalSignature,keyEncipherment",
     WS_CSP_SCHANNEL, "lab-root-ca", 0, 365},
    {"portal-ssl", "CN=portal.contoso.com", "DNS:portal.contoso.com", "serverAuth",
     "digitalSignature,keyEncipherment", WS_CSP_SCHANNEL, "lab-root-ca", 0, 365},
    {"spf-ssl", "CN=spf01.fabric.contoso.local", "DNS:spf01.fabric.contoso.local", "serverAuth",
     "digitalSignature,keyEncipherment", WS_CSP_SCHANNEL, "lab-root-ca", 0, 365},
    {"hv01-rdp", "CN=hv01.fabric.contoso.local", "DNS:hv01.fabric.contoso.local", "serverAuth",
     "digitalSignature,keyEncipherment", WS_CSP_SCHANNEL, "lab-root-ca", 0, 365},
    {"hv02-rdp", "CN=hv02.fabric.contoso.local", "DNS:hv02.fabric.contoso.local", "serverAuth",
     "digitalSignature,keyEncipherment", WS_CSP_SCHANNEL, "lab-root-ca", 0, 365},
    /* What each Hyper-V host presents on 2179 unless told otherwise: a certificate it made
     * itself, CN = its FQDN (REFERENCE.md section 2; marcvaneijk 2014: "The Hyper-V host
     * will present a self-signed certificate that contains the FQDN"). [model] the rest,
     * which is not published: no SAN, EKU Server Authentication and key usage Key and
     * Data Encipherment (0x30), the extensions the field's replacement for it needed,
     * RSA 2048 in the SChannel provider, valid one year. */
    {"hv01-selfsigned", "CN=hv01.fabric.contoso.local", NULL, "serverAuth", "keyEncipherment,dataEncipherment",
     WS_CSP_SCHANNEL, NULL, 0, 365},
    {"hv02-selfsigned", "CN=hv02.fabric.contoso.local", NULL, "serverAuth", "keyEncipherment,dataEncipherment",
     WS_CSP_SCHANNEL, NULL, 0, 365},
};
#define N_CERTS (sizeof default_certs / sizeof default_certs[0])

/* A template older than this is remade, so a new lab's certificates are nearly a year
 * from expiry. */
#define TEMPLATE_MAX_AGE DAYS(30)

/* FNV-1a of the lab's path picks its default subnet, so labs in different
 * directories rarely meet; a subnet a running lab uses is skipped. */
static void choose_subnet(const char *abs_dir, char *out, size_t n)
{
    uint32_t h = 2166136261u;
    for (const char *p = abs_dir; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    /* 127.64.0.0 - 127.126.255.0: about 16,000 subnets away from the host's 127.0.0.x. */
    for (unsigned i = 0; i < 256; i++) {
        unsigned v = (h + i * 2654435761u) % (63u * 256u);
        snprintf(out, n, "127.%u.%u.0/24", 64 + v / 256, v % 256);
        if (!ws_subnet_in_use(out))
            return;
    }
}

/* Certificates from the template when it is fresh and complete. */
static int certs_from_template(ws_state *st, const char *template_path)
{
    ws_state *t = NULL;
    ws_error e;
    if (access(template_path, R_OK) != 0 || ws_state_open_file(template_path, 0, 0, &t, &e) != 0)
        return -1;
    int ok = 1;
    int64_t now = ws_clock_now(st, NULL);
    for (size_t i = 0; ok && i < N_CERTS; i++) {
        X509 *c = NULL;
        EVP_PKEY *k = NULL;
        if (ws_vault_get(t, default_certs[i].name, &c, &k, NULL, &e) != 0 || !k ||
            now - ws_cert_not_before(c) > TEMPLATE_MAX_AGE || ws_cert_not_before(c) > now + 3600)
            ok = 0;
        X509_free(c);
        EVP_PKEY_free(k);
    }
    ws_state_close(t);
    if (!ok)
        return -1;
    /* ATTACH is not allowed inside a transaction: copy before the world's. */
    if (ws_state_exec(st, NULL, "ATTACH DATABASE ? AS template", 1, template_path) != 0)
        return -1;
    int rc = 0;
    sqlite3_stmt *s =
        ws_state_prepare(st, "INSERT INTO certificates SELECT * FROM template.certificates WHERE name = ?", NULL);
    for (size_t i = 0; s && rc == 0 && i < N_CERTS; i++) {
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, default_certs[i].name, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE || sqlite3_changes(st->db) != 1)
            rc = -1;
    }
    if (!s)
        rc = -1;
    sqlite3_finalize(s);
    sqlite3_exec(st->db, "DETACH DATABASE template", NULL, NULL, NULL);
    return rc;
}

static int default_cert_index(const char *name)
{
    for (size_t i = 0; i < N_CERTS; i++)
        if (strcmp(default_certs[i].name, name) == 0)
            return (int)i;
    return -1;
}

int ws_lab_make_default_cert(ws_state *st, const char *model, const char *name, const char *issuer_name,
                             const char *subject, const char *san, ws_error *e)
{
    int i = default_cert_index(model);
    if (i < 0)
        return ws_seterr(e, "no default certificate %s", model);
    int64_t now = ws_clock_now(st, NULL);
    X509 *issuer = NULL, *cert = NULL;
    EVP_PKEY *issuer_key = NULL, *key = NULL;
    if (default_certs[i].issuer &&
        ws_vault_get(st, issuer_name ? issuer_name : default_certs[i].issuer, &issuer, &issuer_key, NULL, e) != 0)
        return -1;
    /* Back-date by an hour, as CAs do, so small clock skews do not matter. */
    ws_cert_spec spec = {
        .subject = subject ? subject : default_certs[i].subject,
        .san = subject ? san : default_certs[i].san,
        .eku = default_certs[i].eku,
        .key_usage = default_certs[i].key_usage,
        .is_ca = default_certs[i].is_ca,
        .key_bits = 2048,
        .not_before = now - 3600,
        .not_after = now - 3600 + DAYS(default_certs[i].days),
    };
    int rc = ws_cert_create(&spec, issuer, issuer_key, &cert, &key, e);
    if (rc == 0)
        rc = ws_vault_put(st, name ? name : model, cert, key, default_certs[i].csp, e);
    X509_free(issuer);
    EVP_PKEY_free(issuer_key);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

static int make_certs(ws_state *st, ws_error *e)
{
    for (size_t i = 0; i < N_CERTS; i++)
        if (ws_lab_make_default_cert(st, default_certs[i].name, NULL, NULL, NULL, NULL, e) != 0)
            return -1;
    return 0;
}

static int save_template(ws_state *st, const char *template_path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", template_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (ws_mkdir_p(dir, 0700) != 0)
        return -1;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", template_path, (int)getpid());
    unlink(tmp);
    int rc = ws_state_exec(st, NULL, "VACUUM INTO ?", 1, tmp);
    if (rc == 0 && (chmod(tmp, 0600) != 0 || rename(tmp, template_path) != 0))
        rc = -1;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

static int add_store(ws_state *st, const char *machine, const char *store, const char *cert, int key, ws_error *e)
{
    return ws_store_add(st, machine, store, cert, key, e);
}

/* Private keys' access lists as a healthy deployment has them (lab/keyacl.h): each key
 * as its import left it (SYSTEM and Administrators); the RD Gateway's TLS key readable by
 * its service, as RD Gateway Manager leaves it when it maps the certificate; VMM's service
 * account a local administrator of the VMM server, so it opens its signing key [model]. */
typedef struct acl_ctx {
    ws_state *st;
    ws_error *e;
    int failed;
} acl_ctx;

static int key_acl(const ws_store_entry *en, void *arg)
{
    acl_ctx *a = arg;
    if (en->machine && en->has_private_key &&
        ws_keyacl_set_import_default(a->st, en->machine, en->store, en->cert_name, a->e) != 0)
        a->failed = 1;
    return a->failed;
}

static int record_key_access(ws_state *st, ws_error *e)
{
    acl_ctx a = {.st = st, .e = e};
    int changed;
    if (ws_store_foreach(st, NULL, "My", key_acl, &a, e) != 0 || a.failed)
        return -1;
    if (ws_keyacl_grant(st, "rdgw01", "My", "rdgw-ssl", WS_ACCOUNT_NETWORK_SERVICE, WS_KEYACL_READ, &changed, e) != 0)
        return -1;
    return ws_setting_set(st, "vmm01", WS_SET_LOCAL_ADMINS, WS_SERVICE_ACCOUNT_VMM, e);
}

static int make_world(ws_state *st, const char *prefix, ws_lab_init_result *res, ws_error *e)
{
    for (size_t i = 0; i < N_MACHINES; i++) {
        ws_machine m;
        memset(&m, 0, sizeof m);
        snprintf(m.name, sizeof m.name, "%s", default_machines[i].name);
        snprintf(m.fqdn, sizeof m.fqdn, "%s", default_machines[i].fqdn);
        if (default_machines[i].public_fqdn)
            snprintf(m.public_fqdn, sizeof m.public_fqdn, "%s", default_machines[i].public_fqdn);
        snprintf(m.address, sizeof m.address, "%s%d", prefix, default_machines[i].octet);
        snprintf(m.role, sizeof m.role, "%s", default_machines[i].role);
        m.port = ws_lab_role_port(m.role);
        if (ws_machine_add(st, &m, e) != 0)
            return -1;
    }

    /* Stores: the VMM certificate with its key on VMM; its public part in My and
     * Root of each host and of the gateway (a self-signed certificate must be in
     * Root, REFERENCE.md section 2); the lab root everywhere; each TLS certificate
     * with its key on its machine. */
    if (add_store(st, "vmm01", "My", "vmm-console", 1, e) != 0)
        return -1;
    static const char *const trusting[] = {"hv01", "hv02", "rdgw01"};
    for (size_t i = 0; i < 3; i++)
        if (add_store(st, trusting[i], "My", "vmm-console", 0, e) != 0 ||
            add_store(st, trusting[i], "Root", "vmm-console", 0, e) != 0)
            return -1;
    for (size_t i = 0; i < N_MACHINES; i++)
        if (add_store(st, default_machines[i].name, "Root", "lab-root-ca", 0, e) != 0)
            return -1;
    /* Each host holds its own self-signed certificate (bound) and one issued by the lab
     * root (there to bind: wapsim host set HOST --rdp-cert hvNN-rdp). */
    static const char *const tls[][2] = {{"portal", "portal-ssl"},   {"spf01", "spf-ssl"},
                                         {"rdgw01", "rdgw-ssl"},     {"hv01", "hv01-rdp"},
                                         {"hv02", "hv02-rdp"},       {"hv01", "hv01-selfsigned"},
                                         {"hv02", "hv02-selfsigned"}};
    for (size_t i = 0; i < sizeof tls / sizeof tls[0]; i++)
        if (add_store(st, tls[i][0], "My", tls[i][1], 1, e) != 0)
            return -1;

    /* Settings, as the cmdlets and consoles leave them on a healthy deployment. */
    char tp[41];
    if (ws_vault_thumbprint(st, "vmm-console", tp) != 0)
        return ws_seterr(e, "vmm-console is missing from the vault");
    static const char *const settings[][3] = {
        {"vmm01", WS_SET_VMM_GATEWAY_CERT, "vmm-console"},
        {"vmm01", WS_SET_VMM_HYPERV_CERT, "vmm-console"},
        {"rdgw01", WS_SET_SSL_CERT, "rdgw-ssl"},
        {"portal", WS_SET_SSL_CERT, "portal-ssl"},
        {"spf01", WS_SET_SSL_CERT, "spf-ssl"},
        {"hv01", WS_SET_AUTH_CERT, "hv01-selfsigned"}, /* Msvm_TerminalServiceSettingData.AuthCertificateHash */
        {"hv02", WS_SET_AUTH_CERT, "hv02-selfsigned"},
        {WS_SCOPE_CLOUD, WS_SET_CLOUD_RD_GATEWAY_FQDN, "rdgw.contoso.com"},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (ws_setting_set(st, settings[i][0], settings[i][1], settings[i][2], e) != 0)
            return -1;
    for (const ws_lab_setting *d = ws_lab_vmm_defaults; d->key; d++)
        if (ws_setting_set(st, "vmm01", d->key, d->value, e) != 0)
            return -1;
    for (size_t i = 0; i < 3; i++)
        if (ws_trusted_issuer_add(st, trusting[i], tp, e) != 0)
            return -1;

    /* Accounts. Passwords are new for every lab; services keep hashes only. The
     * services' logons (accounts.h): SPF runs as svc-spf, VMM as svc-vmm; the portal
     * registers SPF with svc-spf's credentials. */
    static const char *const accounts[][2] = {{"alice", "tenant"}, {"bob", "tenant"}, {WS_LAB_FABRIC_ADMIN, "fabric-admin"}};
    for (size_t i = 0; i < 3; i++)
        if (ws_lab_add_account(st, res, accounts[i][0], accounts[i][1], e) != 0)
            return -1;
    if (ws_lab_service_logon(st, res, "spf01", WS_SERVICE_ACCOUNT_SPF, e) != 0 ||
        ws_lab_service_logon(st, res, "vmm01", WS_SERVICE_ACCOUNT_VMM, e) != 0 ||
        ws_lab_register_spf(st, res, "portal", "spf01", WS_SERVICE_ACCOUNT_SPF, e) != 0)
        return -1;

    if (record_key_access(st, e) != 0)
        return -1;

    /* Tenants' subscriptions and VMs. */
    static const struct {
        const char *tenant, *subscription;
    } subs[] = {{"alice", "Contoso Web"}, {"bob", "Fabrikam Dev"}};
    char sub_ids[2][37];
    for (int i = 0; i < 2; i++) {
        ws_guid_new(sub_ids[i]);
        if (ws_state_exec(st, e, "INSERT INTO subscriptions(id, tenant, name) VALUES(?, ?, ?)", 3, sub_ids[i],
                          subs[i].tenant, subs[i].subscription) != 0)
            return -1;
    }
    static const struct {
        const char *name, *os, *host;
        int sub;
    } vms[] = {{"web01", "Windows Server 2012 R2", "hv01", 0},
               {"db01", "Ubuntu 14.04 LTS", "hv02", 0},
               {"app01", "Windows Server 2012 R2", "hv02", 1}};
    for (size_t i = 0; i < 3; i++) {
        ws_vm vm = {.state = "Running"};
        ws_guid_new(vm.id);
        snprintf(vm.name, sizeof vm.name, "%s", vms[i].name);
        snprintf(vm.os, sizeof vm.os, "%s", vms[i].os);
        snprintf(vm.subscription, sizeof vm.subscription, "%s", sub_ids[vms[i].sub]);
        snprintf(vm.host, sizeof vm.host, "%s", vms[i].host);
        if (ws_vm_add(st, &vm, e) != 0)
            return -1;
    }
    return 0;
}

/* The highly available layout (lab init --ha, issue 14): rdgw02 joins as a new server
 * (ws_fabric_add_gateway) and is set up as rdgw01 is: rdgw-ssl with its key in its My
 * store and bound, the VMM certificate in its My and Root and its thumbprint registered
 * (REFERENCE.md section 2; AWS, "How to generate TLS certificates for a highly available
 * Remote Desktop Gateway Farm": the load balancer's DNS name must be in the CN or SAN of
 * the certificate installed on each RD Gateway). Runs inside the world's
 * transaction; lb01 comes after the lab is published (ha_balancer). */
static int make_ha(ws_state *st, ws_error *e)
{
    ws_machine gw2;
    char tp[41];
    if (ws_vault_thumbprint(st, "vmm-console", tp) != 0)
        return ws_seterr(e, "vmm-console is missing from the vault");
    if (ws_fabric_add_gateway(st, "rdgw02", NULL, &gw2, e) != 0 ||
        add_store(st, gw2.name, "My", "rdgw-ssl", 1, e) != 0 ||
        ws_setting_set(st, gw2.name, WS_SET_SSL_CERT, "rdgw-ssl", e) != 0 ||
        add_store(st, gw2.name, "My", "vmm-console", 0, e) != 0 ||
        add_store(st, gw2.name, "Root", "vmm-console", 0, e) != 0 ||
        ws_trusted_issuer_add(st, gw2.name, tp, e) != 0)
        return -1;
    return 0;
}

/* lb01 in front of rdgw01 and rdgw02 (lab/balancer.h): tcp mode, no affinity (round
 * robin, as a plain layer-4 balancer starts), public name rdgw.contoso.com, which moves
 * to it and which the tenant's PC then resolves to it (hosts file). rdgw02 is registered
 * in the hosts file under its machine name, as rdgw01 is (it sits in the DMZ too). On a
 * published lab: ws_fabric_add_balancer makes its own transaction and writes the hosts
 * file. */
static int ha_balancer(const char *dir, ws_error *e)
{
    ws_state *st = NULL;
    if (ws_lab_open(dir, &st, e) != 0)
        return -1;
    ws_lb_request rq = {.name = "lb01", .members = "rdgw01,rdgw02", .mode = "tcp", .affinity = "none",
                        .fqdn = "rdgw.contoso.com", .reencrypt = -1};
    ws_lb_result r;
    ws_machine gw2;
    int rc = ws_fabric_add_balancer(st, &rq, &r, e) != 0 || ws_machine_get(st, "rdgw02", &gw2, e) != 0 ||
                     ws_lab_hosts_set(st->lab_dir, gw2.fqdn, gw2.address, e) != 0
                 ? -1
                 : 0;
    ws_state_close(st);
    return rc;
}

/* Application event 1 on the VMM server: the lab was made (where its keys came from). */
static int lab_created_event(ws_state *st, const ws_deployment *dep, const ws_lab_init_result *res, ws_error *e)
{
    ws_machine vmm;
    if (ws_machine_by_role(st, "vmm", &vmm, e) != 0)
        return -1;
    return ws_event_write(st, vmm.name, WS_EV_APP_1_LAB_CREATED, res->subnet,
                          dep ? "stand-ins for a deployment's"
                              : res->keys_from_template ? "copied from the template" : "generated");
}

static int write_hosts(const char *dir, const char *prefix, ws_error *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/hosts", dir);
    /* Only the public names: a tenant's PC cannot resolve the fabric's. */
    char *text = ws_printf("# The names a tenant's PC can resolve (/etc/hosts format).\n"
                           "# The fabric's names (*.fabric.contoso.local) resolve only inside the lab, except the\n"
                           "# RD Gateway's: it sits in the DMZ and is registered under its machine name too.\n"
                           "%s10\tportal.contoso.com\n"
                           "%s13\trdgw.contoso.com\n"
                           "%s13\trdgw01.fabric.contoso.local\n",
                           prefix, prefix, prefix);
    int rc = ws_write_file(path, text, strlen(text), 0644, e);
    free(text);
    return rc;
}

static int write_accounts(const char *dir, const ws_lab_init_result *res, ws_error *e)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < res->n_accounts; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "account", res->accounts[i].name);
        cJSON_AddStringToObject(o, "role", res->accounts[i].role);
        cJSON_AddStringToObject(o, "password", res->accounts[i].password);
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_Print(arr);
    cJSON_Delete(arr);
    char path[4200];
    snprintf(path, sizeof path, "%s/accounts.json", dir);
    char *body = ws_printf("%s\n", text);
    int rc = ws_write_file(path, body, strlen(body), 0600, e);
    free(body);
    cJSON_free(text);
    return rc;
}

static int lab_init(const ws_lab_init_opts *opts, const ws_deployment *dep, ws_lab_init_result *res, ws_error *e);

/* The caller's accounts (a classroom seat's trainee and trainer), with their passwords, and
 * lab_meta "classroom": inside lab init's transaction, so a seat is whole or absent. */
static int add_extra(ws_state *st, const ws_lab_init_opts *opts, ws_lab_init_result *res, ws_error *e)
{
    for (int i = 0; i < opts->n_extra; i++) {
        const ws_lab_extra_account *x = &opts->extra[i];
        /* No password: another's secret (lab.h), recorded as this placeholder. */
        const char *shown = x->password ? x->password : "(not kept in this lab)";
        if (res->n_accounts >= WS_LAB_MAX_ACCOUNTS || (!x->password && !x->password_hash) ||
            strlen(shown) >= sizeof res->accounts[0].password)
            return ws_seterr(e, "cannot add the account %s", x->name);
        int rc = x->password_hash ? ws_state_exec(st, e, "INSERT INTO accounts(name, role, password_hash) VALUES(?, ?, ?)",
                                                  3, x->name, x->role, x->password_hash)
                                  : ws_account_add(st, x->name, x->role, x->password, e);
        if (rc != 0)
            return -1;
        ws_lab_account *a = &res->accounts[res->n_accounts++];
        snprintf(a->name, sizeof a->name, "%s", x->name);
        snprintf(a->role, sizeof a->role, "%s", x->role);
        snprintf(a->password, sizeof a->password, "%s", shown);
    }
    return opts->classroom ? ws_meta_set(st, "classroom", opts->classroom, e) : 0;
}

void ws_lab_init_result_free(ws_lab_init_result *res)
{
    ws_deploy_report_free(&res->report);
}

/* The world inside lab init's transaction: the default one, or the deployment's (its
 * clock starts at its collection time: certificates expired then are expired in the lab). */
static int make_chosen_world(ws_state *st, const ws_lab_init_opts *opts, const ws_deployment *dep,
                             const char *prefix, ws_lab_init_result *res, ws_error *e)
{
    if (!dep)
        return (!res->keys_from_template && make_certs(st, e) != 0) || make_world(st, prefix, res, e) != 0 ||
                       (opts->ha && make_ha(st, e) != 0)
                   ? -1
                   : 0;
    if (dep->collected_at && ws_clock_set_offset(st, dep->collected_at - (int64_t)time(NULL), e) != 0)
        return -1;
    if (!dep->collected_at)
        ws_strv_add(&res->report.defaults, "collected_at: not given: now, the lab clock's start");
    int rc = ws_deploy_build(st, dep, prefix, res, &res->report, e);
    ws_deploy_path_tidy(e->msg);
    for (int i = 0; i < res->report.defaults.n; i++)
        ws_deploy_path_tidy(res->report.defaults.v[i]);
    for (int i = 0; i < res->report.unknown.n; i++)
        ws_deploy_path_tidy(res->report.unknown.v[i]);
    return rc;
}

/* A deployment read and checked before anything is made: bad input leaves nothing. */
static int read_deployment(const char *from, ws_deployment *dep, ws_error *e)
{
    ws_deploy_files files;
    if (ws_deploy_files_load(from, &files, e) != 0)
        return -1;
    int rc = ws_deploy_read(&files, dep, e);
    ws_deploy_path_tidy(e->msg);
    ws_deploy_files_free(&files);
    return rc;
}

static int write_text(const char *dir, const char *file, const char *text, ws_error *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return ws_write_file(path, text, strlen(text), 0644, e);
}

int ws_lab_init(const ws_lab_init_opts *opts, ws_lab_init_result *res, ws_error *e)
{
    memset(res, 0, sizeof *res);
    if (opts->from && opts->ha)
        return ws_seterr(e, "--ha with --from: the deployment says whether there is a balancer");
    ws_deployment dep_store, *dep = NULL;
    if (opts->from) {
        if (read_deployment(opts->from, &dep_store, e) != 0)
            return -1;
        dep = &dep_store;
    }
    int rc = lab_init(opts, dep, res, e);
    if (dep)
        ws_deployment_free(dep);
    return rc;
}

/* DIR without trailing '/', and the topmost of its folders that does not exist yet (what
 * ws_mkdir_p will create): a refused lab init removes what it created, its parents too. */
static void topmost_missing(const char *dir, char *top, size_t n)
{
    snprintf(top, n, "%s", dir);
    for (size_t k = strlen(top); k > 1 && top[k - 1] == '/'; k--)
        top[k - 1] = '\0';
    char parent[4200];
    for (;;) {
        snprintf(parent, sizeof parent, "%s", top);
        char *sl = strrchr(parent, '/');
        if (!sl || sl == parent)
            return;
        *sl = '\0';
        if (access(parent, F_OK) == 0)
            return;
        snprintf(top, n, "%s", parent);
    }
}

static void remove_created(const char *dir, const char *top)
{
    char cur[4200];
    snprintf(cur, sizeof cur, "%s", dir);
    for (size_t k = strlen(cur); k > 1 && cur[k - 1] == '/'; k--)
        cur[k - 1] = '\0';
    for (;;) {
        rmdir(cur);
        char *sl = strrchr(cur, '/');
        if (strcmp(cur, top) == 0 || !sl || sl == cur)
            return;
        *sl = '\0';
    }
}

static int lab_init(const ws_lab_init_opts *opts, const ws_deployment *dep, ws_lab_init_result *res, ws_error *e)
{
    char prefix[32], top[4200] = "";
    if (opts->subnet && ws_subnet_prefix(opts->subnet, prefix, sizeof prefix) != 0)
        return ws_seterr(e, "bad subnet '%s' (use 127.X.Y.0/24, not 127.0.0.0/24)", opts->subnet);
    if (opts->subnet && ws_subnet_in_use(opts->subnet))
        return ws_seterr(e, "subnet %s is in use by another running lab", opts->subnet);
    char path[4200];
    snprintf(path, sizeof path, "%s/lab.db", opts->dir);
    if (access(path, F_OK) == 0)
        return ws_seterr(e, "a lab already exists at %s", opts->dir);
    struct stat sb;
    int created = 0;
    if (stat(opts->dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return ws_seterr(e, "%s exists and is not a directory", opts->dir);
    } else {
        topmost_missing(opts->dir, top, sizeof top);
        if (ws_mkdir_p(opts->dir, 0700) != 0) {
            int err = errno;
            remove_created(opts->dir, top);
            return ws_seterr(e, "cannot create %s: %s", opts->dir, strerror(err));
        }
        created = 1;
    }
    char abs[4096];
    if (!realpath(opts->dir, abs) || (created && chmod(abs, 0700) != 0)) {
        ws_seterr(e, "cannot use %s: %s", opts->dir, strerror(errno));
        if (created)
            remove_created(opts->dir, top);
        return -1;
    }
    if (!created) {
        /* An existing directory must be empty: lab init never takes over someone's files. */
        DIR *d = opendir(abs);
        struct dirent *ent;
        int other = 0;
        while (d && (ent = readdir(d)))
            if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0)
                other = 1;
        if (d)
            closedir(d);
        if (other)
            return ws_seterr(e, "%s is not empty and is not a lab", opts->dir);
        if (chmod(abs, 0700) != 0)
            return ws_seterr(e, "cannot use %s: %s", opts->dir, strerror(errno));
    }
    if (opts->subnet)
        snprintf(res->subnet, sizeof res->subnet, "%s", opts->subnet);
    else
        choose_subnet(abs, res->subnet, sizeof res->subnet);
    ws_subnet_prefix(res->subnet, prefix, sizeof prefix);

    /* Build the state in lab.db.new and rename it last: a lab init that is killed
     * leaves no half-made lab behind. */
    char tmp[4200], sub[4200];
    snprintf(tmp, sizeof tmp, "%s/lab.db.new.%d", abs, (int)getpid());
    for (const char *suffix = ""; suffix; suffix = *suffix ? NULL : "-wal") {
        snprintf(sub, sizeof sub, "%s%s", tmp, suffix);
        unlink(sub);
    }
    snprintf(sub, sizeof sub, "%s-shm", tmp);
    unlink(sub);
    ws_state *st = NULL;
    char *hosts_text = NULL;
    if (ws_state_open_file(tmp, 1, 0, &st, e) != 0)
        goto fail;
    char template_path[4200];
    ws_template_path(template_path, sizeof template_path);
    res->keys_from_template = !dep && !opts->fresh_keys && certs_from_template(st, template_path) == 0;
    if (ws_state_begin(st, e) != 0)
        goto fail;
    char *lab_name = strrchr(abs, '/');
    if (ws_meta_set(st, "name", lab_name ? lab_name + 1 : abs, e) != 0 ||
        ws_meta_set(st, "subnet", res->subnet, e) != 0 || ws_clock_set_offset(st, 0, e) != 0 ||
        make_chosen_world(st, opts, dep, prefix, res, e) != 0 || add_extra(st, opts, res, e) != 0 ||
        lab_created_event(st, dep, res, e) != 0) {
        ws_state_rollback(st);
        goto fail;
    }
    if (ws_state_commit(st, e) != 0)
        goto fail;
    if (!res->keys_from_template && !dep)
        save_template(st, template_path); /* best effort: the lab is fine without it */
    if (dep && !(hosts_text = ws_deploy_hosts_text(st, dep, e)))
        goto fail;
    ws_state_close(st);
    st = NULL;
    /* link() publishes the file only if no lab.db exists: two inits of one directory
     * cannot overwrite each other. */
    if (link(tmp, path) != 0) {
        ws_seterr(e, errno == EEXIST ? "a lab already exists at %s" : "cannot create %s", opts->dir);
        unlink(tmp);
        created = 0;
        goto fail;
    }
    unlink(tmp);
    char sub_dir[4200];
    snprintf(sub_dir, sizeof sub_dir, "%s/run", abs);
    mkdir(sub_dir, 0700);
    snprintf(sub_dir, sizeof sub_dir, "%s/log", abs);
    mkdir(sub_dir, 0700);
    snprintf(sub_dir, sizeof sub_dir, "%s/console", abs);
    mkdir(sub_dir, 0700);
    int rc = (dep ? write_text(abs, "hosts", hosts_text, e) : write_hosts(abs, prefix, e)) != 0 ||
                     write_accounts(abs, res, e) != 0 || (opts->ha && ha_balancer(abs, e) != 0)
                 ? -1
                 : 0;
    free(hosts_text);
    return rc;
fail:
    ws_state_close(st);
    unlink(tmp);
    free(hosts_text);
    if (created) {
        rmdir(abs);
        remove_created(opts->dir, top);
    }
    return -1;
}
