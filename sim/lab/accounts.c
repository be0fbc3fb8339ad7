/* accounts: see accounts.h. */
#include "lab/accounts.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PBKDF2_ITERATIONS 20000

int ws_password_hash(const char *password, char out[WS_PASSWORD_HASH_MAX])
{
    unsigned char salt[16], hash[32];
    char salt_hex[33], hash_hex[65];
    if (ws_random(salt, sizeof salt) != 0 ||
        !PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof salt, PBKDF2_ITERATIONS, EVP_sha256(),
                           sizeof hash, hash))
        return -1;
    ws_hex_upper(salt, sizeof salt, salt_hex);
    ws_hex_upper(hash, sizeof hash, hash_hex);
    snprintf(out, WS_PASSWORD_HASH_MAX, "pbkdf2-sha256$%d$%s$%s", PBKDF2_ITERATIONS, salt_hex, hash_hex);
    return 0;
}

static int unhex(const char *in, unsigned char *out, size_t n)
{
    if (strlen(in) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(in + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

int ws_password_verify(const char *password, const char *hash)
{
    int iterations;
    char salt_hex[33], hash_hex[65];
    unsigned char salt[16], want[32], got[32];
    int consumed = -1;
    if (!password || !hash ||
        sscanf(hash, "pbkdf2-sha256$%d$%32[0-9A-F]$%64[0-9A-F]%n", &iterations, salt_hex, hash_hex, &consumed) != 3 ||
        consumed != (int)strlen(hash) ||
        iterations < 1000 || iterations > 10000000 || unhex(salt_hex, salt, sizeof salt) != 0 ||
        unhex(hash_hex, want, sizeof want) != 0)
        return 0;
    if (!PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof salt, iterations, EVP_sha256(),
                           sizeof got, got))
        return 0;
    return CRYPTO_memcmp(want, got, sizeof got) == 0;
}

int ws_account_add(ws_state *st, const char *name, const char *role, const char *password, ws_error *e)
{
    char hash[WS_PASSWORD_HASH_MAX];
    if (ws_password_hash(password, hash) != 0)
        return ws_seterr(e, "cannot hash the password of '%s'", name);
    return ws_state_exec(st, e, "INSERT INTO accounts(name, role, password_hash) VALUES(?, ?, ?)", 3, name, role,
                         hash);
}

int ws_account_check(ws_state *st, const char *name, const char *password, char *role, size_t role_n)
{
    sqlite3_stmt *s =
        ws_state_prepare(st, "SELECT role, password_hash FROM accounts WHERE name = ? COLLATE NOCASE", NULL);
    if (!s)
        return 0;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int ok = 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        ok = ws_password_verify(password, (const char *)sqlite3_column_text(s, 1));
        if (ok && role)
            snprintf(role, role_n, "%s", (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    return ok;
}
