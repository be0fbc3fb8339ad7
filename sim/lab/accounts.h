/* accounts: the lab's sign-in accounts (tenants, the fabric administrator, the
 * portal's service account for SPF). Services store and check password hashes only
 * (PBKDF2-HMAC-SHA256); the plain passwords live in <lab>/accounts.json, the lab
 * owner's copy that `wapsim lab accounts` prints. */
#ifndef WAPSIM_ACCOUNTS_H
#define WAPSIM_ACCOUNTS_H

#include "lab/state.h"

#define WS_PASSWORD_HASH_MAX 160

/* "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>" */
int ws_password_hash(const char *password, char out[WS_PASSWORD_HASH_MAX]);
/* 1 when password matches hash (constant-time compare), 0 otherwise. */
int ws_password_verify(const char *password, const char *hash);

int ws_account_add(ws_state *st, const char *name, const char *role, const char *password, ws_error *e);
/* 1 when the account exists and the password is right; *role filled when not NULL. */
int ws_account_check(ws_state *st, const char *name, const char *password, char *role, size_t role_n);

#endif
