/* SPDX-License-Identifier: Apache-2.0 */
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

#include <stdint.h>

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

/* Account lockout [model: AD's account lockout policy, one policy for every account of
 * the lab, with the values of Microsoft's security baseline (README, "Password
 * guessing")]. Each bad password of an existing account is counted; the count starts
 * again once "Reset account lockout counter after" has passed since the last bad one,
 * and after a lockout. At the threshold the account is locked out for the duration: its
 * logons are refused even with the right password, until the lab clock passes the end
 * (`wapsim clock advance`) or the operator unlocks it (ws_account_unlock). A good
 * password resets the count. The lab has no domain controller: 4740 "A user account
 * was locked out." is written in the Security log of the machine that checked the
 * password, where that machine logs its sign-ins. */
#define WS_LOCKOUT_THRESHOLD 10         /* "Account lockout threshold": bad passwords; 0 never locks */
#define WS_LOCKOUT_WINDOW_S (15 * 60)   /* "Reset account lockout counter after", seconds */
#define WS_LOCKOUT_DURATION_S (15 * 60) /* "Account lockout duration", seconds */

typedef enum ws_logon {
    WS_LOGON_OK = 0,
    WS_LOGON_BAD,        /* no such account, or the wrong password */
    WS_LOGON_LOCKED_OUT, /* the account is locked out: refused whatever the password */
} ws_logon;

/* Where a password is checked, for the lockout's event. */
typedef struct ws_logon_site {
    const char *machine; /* the machine checking it: 4740 goes to its Security log */
    const char *caller;  /* the caller's address: 4740's "Caller Computer Name" */
} ws_logon_site;

/* Every password check of the lab: the account (its name without case, as Windows
 * compares) and its password, under the lockout policy. *role filled on
 * WS_LOGON_OK when not NULL. site NULL: no event is written (tests). A locked-out
 * account costs no password hash. */
ws_logon ws_account_logon(ws_state *st, const ws_logon_site *site, const char *name, const char *password,
                          char *role, size_t role_n);
/* 1 when ws_account_logon without a site says WS_LOGON_OK, else 0. */
int ws_account_check(ws_state *st, const char *name, const char *password, char *role, size_t role_n);
/* ws_account_logon of an HTTP Authorization value "Basic <base64 user:password>", through
 * the logon cache (above); user receives the name it gives ("" when there is none),
 * right or wrong. */
ws_logon ws_account_check_basic(ws_state *st, const ws_logon_site *site, const char *authorization, char *user,
                                size_t user_n, char *role, size_t role_n);

/* The logon cache of basic authentication, as IIS keeps one: IIS caches the logon token
 * of each credential that passed basic authentication and reuses it for UserTokenTTL,
 * 15 minutes by default, without asking the domain controller again (Microsoft KB 152526,
 * "Changing the default interval for user tokens in IIS"; "Configuring Token Cache for
 * Basic Authentication", Windows Server 2003 docs). ws_account_check_basic (SPF's, VMM's
 * and the hosts' agents' checks) keeps each good password it verified, in this process,
 * for WS_LOGON_CACHE_TTL_S of the lab clock (without machine skew, the clock the lockout
 * policy runs on: `clock advance 16m` ends both), and skips PBKDF2 when the same account
 * presents the same password again. [model] Unlike IIS, whose cache accepts an old
 * password until the token expires (KB 152526), an entry is keyed on the account's name,
 * the password presented and the account's stored hash, read from lab.db on every check
 * with its lockout state: a changed password, a removed account or a lockout takes effect
 * at once. A bad password is never cached, is hashed, and counts toward lockout. The key
 * is an HMAC with a random key of this process; nothing is written anywhere. At most
 * WS_LOGON_CACHE_MAX entries (the oldest makes room); a clock moved back expires them. */
#define WS_LOGON_CACHE_TTL_S (15 * 60) /* IIS's UserTokenTTL default, seconds */
#define WS_LOGON_CACHE_MAX 64          /* [model] entries per process */

typedef struct ws_logon_cache_counts {
    unsigned long hits;     /* basic-auth checks answered from the cache (no PBKDF2) */
    unsigned long verified; /* basic-auth checks that ran PBKDF2 (a miss, or a bad password) */
} ws_logon_cache_counts;
/* This process's counts since it started (or since ws_logon_cache_flush). */
void ws_logon_cache_stats(ws_logon_cache_counts *out);
/* Forget every entry and zero the counts (IIS's FlushTokenCache; tests). */
void ws_logon_cache_flush(void);

/* An account's lockout state, for the operator. */
typedef struct ws_account_lockout {
    char name[128];
    char role[32];
    int bad_pwd_count;       /* bad passwords counted now (0 once the window has passed) */
    int locked_out;          /* 1 while the lockout lasts */
    int64_t locked_until;    /* lab clock, seconds; 0 when not locked out */
    char machine[64];        /* where it was locked out ("" when not) */
    char caller[64];         /* the caller's address that locked it ("" when not) */
} ws_account_lockout;
/* Every account's state at the lab clock's now, in name order: 0 with *out (the
 * caller frees it) and *n, or -1 with e set. */
int ws_account_lockouts(ws_state *st, ws_account_lockout **out, size_t *n, ws_error *e);
/* Unlock-ADAccount: clears name's lockout and count; when it was locked out, writes
 * 4767 "A user account was unlocked." where 4740 was written, naming by as the
 * subject. 1 when it was locked out, 0 when not, WS_NOT_FOUND with no such account,
 * -1 with e set. One transaction. */
int ws_account_unlock(ws_state *st, const char *name, const char *by, ws_error *e);

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
 * user given, and "locked out" for an account that is). One password check (PBKDF2), under
 * the lockout policy (ws_account_logon). */
int ws_service_credential_check(ws_state *st, const ws_logon_site *site, const char *authorization,
                                const ws_strv *machines, ws_error *why);

#endif
