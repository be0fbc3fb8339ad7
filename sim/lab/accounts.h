/* accounts: the lab's sign-in accounts (tenants, the fabric administrator, the
 * services' accounts). Services store and check password hashes only
 * (PBKDF2-HMAC-SHA256); the plain passwords live in <lab>/accounts.json, the lab
 * owner's copy that `wapsim lab accounts` prints.
 *
 * A machine's service logon [model]: the account its services run as and that
 * account's password, kept in the machine's own settings (service_account,
 * service_password), as Windows keeps a service's logon password as an LSA secret of
 * the machine it runs on. SPF (spf01) runs as CONTOSO\svc-spf and VMM (vmm01) as
 * CONTOSO\svc-vmm, both of role "service"; a request a machine sends carries its logon
 * (svc/httpc.h). VMM accepts only the logon account of SPF's machine or its own, and a
 * host's agent only a VMM server's (ws_service_credential_check): the account of role
 * "service" that is the logon of the machine at the caller's address. */
#ifndef WAPSIM_ACCOUNTS_H
#define WAPSIM_ACCOUNTS_H

#include "base/buf.h"
#include "lab/state.h"

#define WS_PASSWORD_HASH_MAX 160

#define WS_SET_SERVICE_ACCOUNT "service_account"   /* the account a machine's services log on as */
#define WS_SET_SERVICE_PASSWORD "service_password" /* that account's password, the machine's secret */
#define WS_SERVICE_ACCOUNT_SPF "CONTOSO\\svc-spf"
#define WS_SERVICE_ACCOUNT_VMM "CONTOSO\\svc-vmm"

/* "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>" */
int ws_password_hash(const char *password, char out[WS_PASSWORD_HASH_MAX]);
/* 1 when password matches hash (constant-time compare), 0 otherwise. */
int ws_password_verify(const char *password, const char *hash);

int ws_account_add(ws_state *st, const char *name, const char *role, const char *password, ws_error *e);
/* 1 when the account exists and the password is right; *role filled when not NULL. */
int ws_account_check(ws_state *st, const char *name, const char *password, char *role, size_t role_n);
/* ws_account_check of an HTTP Authorization value "Basic <base64 user:password>";
 * user receives the name it gives ("" when there is none), right or wrong. */
int ws_account_check_basic(ws_state *st, const char *authorization, char *user, size_t user_n, char *role,
                           size_t role_n);

/* A machine's service logon: 0, or WS_NOT_FOUND when its services have none. */
int ws_service_logon_get(ws_state *st, const char *machine, char *user, size_t user_n, char *password,
                         size_t password_n);
/* Gives machine the logon of account when it has none (a lab made before services had
 * one): an account that does not exist is created (role "service", a new password, added
 * to the owner's accounts.json); an existing one's password is taken from the owner's
 * accounts.json, as the administrator types it in when installing the service. 0 when
 * the machine had a logon, 1 when it has one now, -1 with e set. */
int ws_service_logon_ensure(ws_state *st, const char *machine, const char *account, ws_error *e);
/* A caller from one of machines (those at its address that may call): 1 when the HTTP
 * Authorization value is Basic with the right password of an account of role "service"
 * that is the logon of one of them; 0 with why set (one line for the log, naming the
 * user given). One password check (PBKDF2). */
int ws_service_credential_check(ws_state *st, const char *authorization, const ws_strv *machines, ws_error *why);

#endif
