/* SPDX-License-Identifier: Apache-2.0 */
/* lab: a lab directory and the default world `wapsim lab init` creates in it.
 *
 * A lab is a directory (mode 0700) holding lab.db (state.h), a `hosts` file with the
 * names a tenant's PC can resolve, accounts.json (the lab owner's copy of the
 * passwords), run/ (pid files) and log/ (each process's output). The default world's
 * names are a contract: scenarios, exercises and the README refer to them. */
#ifndef WAPSIM_LAB_H
#define WAPSIM_LAB_H

#include "lab/deployment.h"
#include "lab/state.h"

/* The lab directory an operator means: --lab, else $WAPSIM_LAB, else ./lab. */
const char *ws_lab_dir(const char *from_option);
/* Open an existing lab; e names the directory and what is wrong with it. */
int ws_lab_open(const char *dir, ws_state **st, ws_error *e);

/* An account lab init adds with a password it is given (a classroom's trainee and trainer);
 * password_hash, when not NULL, is that password's hash already made (ws_password_hash), so
 * one password shared by many labs costs one PBKDF2. password NULL (password_hash given):
 * the password is not this lab's to keep (a classroom's trainer signs in to every seat: it
 * stays in classroom.json), so the lab's accounts.json and `lab accounts` show none. */
typedef struct ws_lab_extra_account {
    const char *name, *role, *password, *password_hash;
} ws_lab_extra_account;

typedef struct ws_lab_init_opts {
    const char *dir;
    const char *subnet; /* "127.X.Y.0/24", or NULL to choose one */
    int fresh_keys;     /* ignore the key template */
    int ha;             /* the highly available layout: rdgw02 beside rdgw01, behind lb01 */
    const char *from;   /* a deployment (folder, .zip, .tar.gz): the lab is it (deployment.h) */
    const ws_lab_extra_account *extra; /* accounts to add besides the world's (n_extra of them) */
    int n_extra;
    const char *classroom; /* lab_meta "classroom": the classroom this lab is a seat of (train/classroom.h) */
} ws_lab_init_opts;

typedef struct ws_lab_account {
    char name[64];
    char role[16];
    char password[32];
} ws_lab_account;

#define WS_LAB_ACCOUNTS 5       /* the default lab's */
#define WS_LAB_MAX_ACCOUNTS 96  /* an imported lab's: 64 tenants, services, the fabric admin */
#define WS_LAB_FABRIC_ADMIN "CONTOSO\\hvadmin"

typedef struct ws_lab_init_result {
    char subnet[32];
    int keys_from_template;
    int n_accounts;
    ws_lab_account accounts[WS_LAB_MAX_ACCOUNTS];
    ws_deploy_report report; /* with from: defaults taken, stand-ins, unknown thumbprints */
} ws_lab_init_result;
void ws_lab_init_result_free(ws_lab_init_result *res);

int ws_lab_init(const ws_lab_init_opts *opts, ws_lab_init_result *res, ws_error *e);

/* "127.X.Y.0/24" -> "127.X.Y." prefix (for .10, .11, ...); -1 when not such a subnet. */
int ws_subnet_prefix(const char *subnet, char *prefix, size_t n);
/* 1 when a running process (another lab) listens on any of the default world's
 * address:port pairs in that subnet. */
int ws_subnet_in_use(const char *subnet);

/* Look a name up in the lab's hosts file (what a tenant's PC can resolve); address
 * receives the address. -1 when the name is not there. The file only: a client asks
 * ws_lab_resolve, which never looks an address up. */
int ws_lab_hosts_lookup(const char *lab_dir, const char *name, char *address, size_t n);

/* Make the lab's hosts file resolve name to address for the tenant's PC: the name is
 * taken off any line that has it (a line left with no name goes) and a line
 * "address<TAB>name" is added; the file is replaced whole (rename), so a reader never
 * sees half of it. 0, or -1 with e naming the file. */
int ws_lab_hosts_set(const char *lab_dir, const char *name, const char *address, ws_error *e);

/* Who looks a name up: a machine's name (its view, lab/dns.h), or the tenant's PC. */
#define WS_RESOLVE_TENANT_PC NULL /* the tenant's PC: the lab's hosts file, the public names only */
/* Where the machine `as` connects for host (a name or an address literal, no port:
 * ws_hostport_parse splits one off), into address (n bytes). The one rule every client of
 * the lab follows: an address literal (IPv4 or IPv6) is where to connect and is never
 * looked up (a PC given an IP address connects to it; its certificate check then wants
 * that address as an IP SAN: ws_tls_expect_peer); a name is looked up as `as` resolves
 * it: the tenant's PC (as NULL, WS_RESOLVE_TENANT_PC, or the machine of role client)
 * through the lab's hosts file, any other machine through its own view (its hosts
 * entries, its DNS server and conditional forwarders: ws_dns_resolve). 0, or -1 with e
 * saying who cannot resolve which name and why. */
int ws_lab_resolve(ws_state *st, const char *as, const char *host, char *address, size_t n, ws_error *e);

/* ---- the default world's rules, shared by lab init and an imported deployment ---- */
/* A role's port (portal 30081, spf 8090, vmm 8100, gateway 8443, host 2179, balancer
 * 8443, client 0). */
int ws_lab_role_port(const char *role);
/* The default lab's last octet for a default machine name (portal 10 ... lb01 20), or -1. */
int ws_lab_default_octet(const char *name);
/* The default lab's FQDN for a default name; else NAME.fabric.contoso.local (NAME.contoso.com
 * for a balancer or the tenant's PC) [model]. */
void ws_lab_default_fqdn(const char *name, const char *role, char *out, size_t n);
/* VMM's console settings of a healthy deployment (key, value, the deployment's field). */
typedef struct ws_lab_setting {
    const char *key, *value, *field;
} ws_lab_setting;
extern const ws_lab_setting ws_lab_vmm_defaults[];
/* An account with a new password, added to the lab and to res (once per name). */
int ws_lab_add_account(ws_state *st, ws_lab_init_result *res, const char *name, const char *role, ws_error *e);
/* machine's services log on as account (made a service account when new). */
int ws_lab_service_logon(ws_state *st, ws_lab_init_result *res, const char *machine, const char *account,
                         ws_error *e);
/* The portal's registration of SPF (its endpoint credentials) and SPF's stamp id. */
int ws_lab_register_spf(ws_state *st, const ws_lab_init_result *res, const char *portal, const char *spf,
                        const char *spf_account, ws_error *e);
/* A certificate made as the default lab's `model` is (its issuer, extensions, CSP,
 * validity from the lab clock's now), put in the vault as name (NULL: model), issued by
 * the vault's issuer_name (NULL: the model's issuer), with subject and san instead of
 * the model's when subject is not NULL. */
int ws_lab_make_default_cert(ws_state *st, const char *model, const char *name, const char *issuer_name,
                             const char *subject, const char *san, ws_error *e);

/* Where lab init keeps its key template ($WAPSIM_CACHE, else $XDG_CACHE_HOME/wapsim,
 * else ~/.cache/wapsim). */
void ws_template_path(char *out, size_t n);

#endif
