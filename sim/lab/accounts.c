/* SPDX-License-Identifier: Apache-2.0 */
/* accounts: see accounts.h. */
#include "lab/accounts.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lab/clock.h"
#include "lab/events.h"
#include "lab/settings.h"

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

#define STR_(x) #x
#define STR(x) STR_(x)
/* SQL for "locked out at now (?1)": a lockout whose duration has not run out. */
#define LOCKED_SQL "(lockout_time > 0 AND ?1 < lockout_time + " STR(WS_LOCKOUT_DURATION_S) ")"
/* The count with one more bad password at now (?1), the window being ?2: it starts
 * again after the window, and after a lockout (which has run out, or the row would
 * not be updated). */
#define NEW_COUNT_SQL "(CASE WHEN lockout_time > 0 OR ?1 - bad_pwd_time >= ?2 THEN 1 ELSE bad_pwd_count + 1 END)"
/* Whether that count locks the account, the threshold being ?3. */
#define LOCKS_SQL "(?3 > 0 AND " NEW_COUNT_SQL " >= ?3)"

static int locked_at(int64_t lockout_time, int64_t now)
{
    return lockout_time > 0 && now < lockout_time + WS_LOCKOUT_DURATION_S;
}

/* A bad password of account (its name as stored), at now: counted, and the account
 * locked out at the threshold, with 4740, in one transaction (a process killed midway
 * leaves the count as it was). The count starts again after the window and after a
 * lockout; a locked-out account's row is left alone. WS_LOGON_LOCKED_OUT when it is
 * locked out now (by this password or meanwhile by another), else WS_LOGON_BAD. */
static ws_logon count_bad_password(ws_state *st, const ws_logon_site *site, const char *account, int64_t now)
{
    if (ws_state_begin(st, NULL) != 0)
        return WS_LOGON_BAD;
    sqlite3_stmt *s = ws_state_prepare(
        st,
        /* Every right-hand side reads the row as it was. */
        "UPDATE accounts SET bad_pwd_count = " NEW_COUNT_SQL ","
        " lockout_time = CASE WHEN " LOCKS_SQL " THEN ?1 ELSE 0 END,"
        " lockout_machine = CASE WHEN " LOCKS_SQL " THEN ?5 END,"
        " lockout_caller = CASE WHEN " LOCKS_SQL " THEN ?6 END, bad_pwd_time = ?1"
        " WHERE name = ?4 AND NOT " LOCKED_SQL " RETURNING lockout_time",
        NULL);
    int changed = 0, locked_now = 0;
    if (s) {
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_int64(s, 2, WS_LOCKOUT_WINDOW_S);
        sqlite3_bind_int(s, 3, WS_LOCKOUT_THRESHOLD);
        sqlite3_bind_text(s, 4, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, site ? site->machine : NULL, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, site ? site->caller : NULL, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            changed = 1;
            locked_now = sqlite3_column_int64(s, 0) != 0;
        }
        /* RETURNING: the change is made when the statement is finished. */
        while (sqlite3_step(s) == SQLITE_ROW)
            ;
        sqlite3_finalize(s);
    }
    if (locked_now && site && site->machine)
        ws_event_write(st, site->machine, WS_EV_SECURITY_4740, site->machine, account,
                       site->caller && site->caller[0] ? site->caller : "-");
    ws_state_commit(st, NULL);
    return changed && !locked_now ? WS_LOGON_BAD : WS_LOGON_LOCKED_OUT;
}

/* A good password: the count is reset, unless the account was locked out meanwhile. */
static ws_logon good_password(ws_state *st, const char *account, int64_t now)
{
    sqlite3_stmt *s = ws_state_prepare(st,
                                       "UPDATE accounts SET bad_pwd_count = 0, lockout_time = 0, lockout_machine = NULL,"
                                       " lockout_caller = NULL WHERE name = ?2 AND NOT " LOCKED_SQL
                                       " AND (bad_pwd_count != 0 OR lockout_time != 0)",
                                       NULL);
    if (s) {
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_text(s, 2, account, -1, SQLITE_STATIC);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
    s = ws_state_prepare(st, "SELECT " LOCKED_SQL " FROM accounts WHERE name = ?2", NULL);
    int locked = 1; /* a state file that cannot say refuses */
    if (s) {
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_text(s, 2, account, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            locked = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    return locked ? WS_LOGON_LOCKED_OUT : WS_LOGON_OK;
}

/* ---- the logon cache (accounts.h) ---- */

typedef struct cached_logon {
    unsigned char key[32]; /* HMAC-SHA256(secret, account NUL stored hash NUL password) */
    int64_t verified_at;   /* lab clock, seconds, when PBKDF2 said yes; 0: a free slot */
} cached_logon;

static struct {
    pthread_mutex_t lock; /* SPF and VMM check passwords on several server threads */
    int keyed;            /* secret holds this process's random key */
    unsigned char secret[32];
    cached_logon entry[WS_LOGON_CACHE_MAX];
    ws_logon_cache_counts counts;
} logon_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The entry's key for account (as stored), its stored hash and the password presented:
 * 0, or -1 when there is no key (no random bytes: nothing is cached). Under the lock. */
static int cache_key(const char *account, const char *hash, const char *password, unsigned char key[32])
{
    if (!logon_cache.keyed) {
        if (ws_random(logon_cache.secret, sizeof logon_cache.secret) != 0)
            return -1;
        logon_cache.keyed = 1;
    }
    size_t la = strlen(account) + 1, lh = strlen(hash) + 1, lp = strlen(password);
    unsigned char text[1024];
    if (la + lh + lp > sizeof text)
        return -1;
    memcpy(text, account, la);
    memcpy(text + la, hash, lh);
    memcpy(text + la + lh, password, lp);
    unsigned int n = 0;
    int ok = HMAC(EVP_sha256(), logon_cache.secret, sizeof logon_cache.secret, text, la + lh + lp, key, &n) != NULL;
    OPENSSL_cleanse(text, sizeof text);
    return ok && n == 32 ? 0 : -1;
}

/* 1 when the key was verified less than the TTL ago at now (a clock moved back: no). */
static int cache_fresh(const cached_logon *c, int64_t now)
{
    return c->verified_at > 0 && now >= c->verified_at && now - c->verified_at < WS_LOGON_CACHE_TTL_S;
}

/* 1 when account presented password, its hash being hash, was verified within the TTL;
 * the key is left in key for cache_put (key_ok 0: none could be made). */
static int cache_hit(const char *account, const char *hash, const char *password, int64_t now,
                     unsigned char key[32], int *key_ok)
{
    int hit = 0;
    pthread_mutex_lock(&logon_cache.lock);
    *key_ok = cache_key(account, hash, password, key) == 0;
    for (int i = 0; *key_ok && !hit && i < WS_LOGON_CACHE_MAX; i++)
        hit = cache_fresh(&logon_cache.entry[i], now) && CRYPTO_memcmp(logon_cache.entry[i].key, key, 32) == 0;
    if (hit)
        logon_cache.counts.hits++;
    else
        logon_cache.counts.verified++;
    pthread_mutex_unlock(&logon_cache.lock);
    return hit;
}

/* Keeps a key PBKDF2 accepted at now: in its own slot, else a free or stale one, else the oldest. */
static void cache_put(const unsigned char key[32], int64_t now)
{
    pthread_mutex_lock(&logon_cache.lock);
    cached_logon *slot = NULL;
    for (int i = 0; i < WS_LOGON_CACHE_MAX; i++) {
        cached_logon *c = &logon_cache.entry[i];
        if (CRYPTO_memcmp(c->key, key, 32) == 0) {
            slot = c;
            break;
        }
        if (!slot || (cache_fresh(slot, now) && (!cache_fresh(c, now) || c->verified_at < slot->verified_at)))
            slot = c;
    }
    memcpy(slot->key, key, 32);
    slot->verified_at = now;
    pthread_mutex_unlock(&logon_cache.lock);
}

void ws_logon_cache_stats(ws_logon_cache_counts *out)
{
    pthread_mutex_lock(&logon_cache.lock);
    *out = logon_cache.counts;
    pthread_mutex_unlock(&logon_cache.lock);
}

void ws_logon_cache_flush(void)
{
    pthread_mutex_lock(&logon_cache.lock);
    OPENSSL_cleanse(logon_cache.entry, sizeof logon_cache.entry);
    memset(&logon_cache.counts, 0, sizeof logon_cache.counts);
    pthread_mutex_unlock(&logon_cache.lock);
}

/* ---- logons ---- */

/* An account's row, read on every logon (cached or not). */
typedef struct account_row {
    char name[256];                   /* as stored */
    char role[32];
    char hash[WS_PASSWORD_HASH_MAX];
    int64_t lockout_time;             /* lab clock, seconds; 0: not locked out */
    int bad_pwd_count;
} account_row;

/* 1 with *row filled when name (without case) is an account, else 0. */
static int account_read(ws_state *st, const char *name, account_row *row)
{
    sqlite3_stmt *s = ws_state_prepare(
        st,
        "SELECT name, role, password_hash, lockout_time, bad_pwd_count FROM accounts WHERE name = ? COLLATE NOCASE",
        NULL);
    if (!s)
        return 0;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int exists = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) && sqlite3_column_text(s, 1) &&
                 sqlite3_column_text(s, 2);
    if (exists) {
        snprintf(row->name, sizeof row->name, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(row->role, sizeof row->role, "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(row->hash, sizeof row->hash, "%s", (const char *)sqlite3_column_text(s, 2));
        row->lockout_time = sqlite3_column_int64(s, 3);
        row->bad_pwd_count = sqlite3_column_int(s, 4);
    }
    sqlite3_finalize(s);
    return exists;
}

/* Every password check: cached says whether the logon cache may answer (basic authentication). */
static ws_logon logon(ws_state *st, const ws_logon_site *site, const char *name, const char *password, char *role,
                      size_t role_n, int cached)
{
    account_row row;
    /* An unknown name counts nothing: AD has no account to count on. */
    if (!account_read(st, name, &row))
        return WS_LOGON_BAD;
    int64_t now = ws_clock_now(st, NULL);
    if (locked_at(row.lockout_time, now))
        return WS_LOGON_LOCKED_OUT;
    unsigned char key[32];
    int key_ok = 0;
    ws_logon r;
    if (cached && password && cache_hit(row.name, row.hash, password, now, key, &key_ok)) {
        /* The row just read is not locked out; with nothing to reset, that is the answer. */
        r = row.bad_pwd_count == 0 && row.lockout_time == 0 ? WS_LOGON_OK : good_password(st, row.name, now);
    } else if (!ws_password_verify(password, row.hash)) {
        r = count_bad_password(st, site, row.name, now);
    } else {
        r = good_password(st, row.name, now);
        if (r == WS_LOGON_OK && key_ok)
            cache_put(key, now);
    }
    OPENSSL_cleanse(key, sizeof key);
    if (r == WS_LOGON_OK && role)
        snprintf(role, role_n, "%s", row.role);
    return r;
}

ws_logon ws_account_logon(ws_state *st, const ws_logon_site *site, const char *name, const char *password,
                          char *role, size_t role_n)
{
    return logon(st, site, name, password, role, role_n, 0);
}

int ws_account_check(ws_state *st, const char *name, const char *password, char *role, size_t role_n)
{
    return ws_account_logon(st, NULL, name, password, role, role_n) == WS_LOGON_OK;
}

ws_logon ws_account_check_basic(ws_state *st, const ws_logon_site *site, const char *authorization, char *user,
                                size_t user_n, char *role, size_t role_n)
{
    const char *h = authorization;
    user[0] = '\0';
    if (!h || strncmp(h, "Basic ", 6) != 0 || strlen(h + 6) > 512)
        return WS_LOGON_BAD;
    unsigned char decoded[400];
    int len = EVP_DecodeBlock(decoded, (const unsigned char *)h + 6, (int)strlen(h + 6));
    if (len <= 0)
        return WS_LOGON_BAD;
    decoded[len] = '\0';
    char *colon = strchr((char *)decoded, ':');
    if (!colon)
        return WS_LOGON_BAD;
    *colon = '\0';
    snprintf(user, user_n, "%s", (char *)decoded);
    /* EVP_DecodeBlock counts padding as zero bytes: strlen stops at them. */
    ws_logon r = logon(st, site, user, colon + 1, role, role_n, 1);
    OPENSSL_cleanse(decoded, sizeof decoded);
    return r;
}

int ws_account_lockouts(ws_state *st, ws_account_lockout **out, size_t *n, ws_error *e)
{
    *out = NULL;
    *n = 0;
    int64_t now = ws_clock_now(st, NULL);
    sqlite3_stmt *s = ws_state_prepare(st,
                                       "SELECT name, role, CASE WHEN ?1 - bad_pwd_time >= ?2 AND NOT " LOCKED_SQL
                                       " THEN 0 ELSE bad_pwd_count END, " LOCKED_SQL ", lockout_time,"
                                       " lockout_machine, lockout_caller FROM accounts ORDER BY name",
                                       e);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, WS_LOCKOUT_WINDOW_S);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            ws_account_lockout *grown = realloc(*out, cap * sizeof **out);
            if (!grown)
                abort();
            *out = grown;
        }
        ws_account_lockout *a = &(*out)[(*n)++];
        memset(a, 0, sizeof *a);
        const char *t;
        snprintf(a->name, sizeof a->name, "%s", (t = (const char *)sqlite3_column_text(s, 0)) ? t : "");
        snprintf(a->role, sizeof a->role, "%s", (t = (const char *)sqlite3_column_text(s, 1)) ? t : "");
        a->bad_pwd_count = sqlite3_column_int(s, 2);
        a->locked_out = sqlite3_column_int(s, 3);
        if (a->locked_out) {
            a->locked_until = sqlite3_column_int64(s, 4) + WS_LOCKOUT_DURATION_S;
            snprintf(a->machine, sizeof a->machine, "%s", (t = (const char *)sqlite3_column_text(s, 5)) ? t : "");
            snprintf(a->caller, sizeof a->caller, "%s", (t = (const char *)sqlite3_column_text(s, 6)) ? t : "");
        }
    }
    if (ws_state_finish(st, s, rc, e) != 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int ws_account_unlock(ws_state *st, const char *name, const char *by, ws_error *e)
{
    if (ws_state_begin(st, e) != 0)
        return -1;
    int64_t now = ws_clock_now(st, NULL);
    sqlite3_stmt *s = ws_state_prepare(
        st, "SELECT name, " LOCKED_SQL ", lockout_machine FROM accounts WHERE name = ?2 COLLATE NOCASE", e);
    if (!s) {
        ws_state_rollback(st);
        return -1;
    }
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    char account[256] = "", machine[64] = "";
    int locked = 0, rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *t;
        snprintf(account, sizeof account, "%s", (t = (const char *)sqlite3_column_text(s, 0)) ? t : "");
        locked = sqlite3_column_int(s, 1);
        snprintf(machine, sizeof machine, "%s", (t = (const char *)sqlite3_column_text(s, 2)) ? t : "");
    }
    if (ws_state_finish(st, s, rc, e) != 0 || rc != SQLITE_ROW) {
        ws_state_rollback(st);
        return rc == SQLITE_DONE ? WS_NOT_FOUND : -1;
    }
    if (ws_state_exec(st, e,
                      "UPDATE accounts SET bad_pwd_count = 0, bad_pwd_time = 0, lockout_time = 0,"
                      " lockout_machine = NULL, lockout_caller = NULL WHERE name = ?",
                      1, account) != 0 ||
        (locked && machine[0] && ws_event_write(st, machine, WS_EV_SECURITY_4767, by, account) != 0)) {
        if (!e->msg[0])
            ws_seterr(e, "cannot write 4767 on %s", machine);
        ws_state_rollback(st);
        return -1;
    }
    if (ws_state_commit(st, e) != 0)
        return -1;
    return locked;
}

int ws_service_logon_get(ws_state *st, const char *machine, char *user, size_t user_n, char *password,
                         size_t password_n)
{
    if (ws_setting_get(st, machine, WS_SET_SERVICE_ACCOUNT, user, user_n) != 0 ||
        ws_setting_get(st, machine, WS_SET_SERVICE_PASSWORD, password, password_n) != 0 || !user[0])
        return WS_NOT_FOUND;
    return 0;
}

/* The owner's copy, <lab>/accounts.json: an array of {"account","role","password"}. */
static cJSON *owner_copy_read(ws_state *st, char *path, size_t n)
{
    if (!st->lab_dir)
        return NULL;
    snprintf(path, n, "%s/accounts.json", st->lab_dir);
    unsigned char *data;
    size_t len;
    if (ws_read_file(path, 1 << 20, &data, &len, NULL) != 0)
        return NULL;
    cJSON *arr = cJSON_ParseWithLength((const char *)data, len);
    free(data);
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

/* The owner's password for account, when it matches the account's hash. */
static int owner_copy_password(ws_state *st, const char *account, const char *hash, char *out, size_t n)
{
    char path[4200];
    cJSON *arr = owner_copy_read(st, path, sizeof path), *a;
    int found = -1;
    cJSON_ArrayForEach(a, arr)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(a, "account"));
        const char *pw = cJSON_GetStringValue(cJSON_GetObjectItem(a, "password"));
        if (name && pw && strcasecmp(name, account) == 0 && strlen(pw) < n && ws_password_verify(pw, hash)) {
            snprintf(out, n, "%s", pw);
            found = 0;
            break;
        }
    }
    cJSON_Delete(arr);
    return found;
}

static int owner_copy_add(ws_state *st, const char *account, const char *role, const char *password, ws_error *e)
{
    char path[4200];
    cJSON *arr = owner_copy_read(st, path, sizeof path);
    if (!arr)
        return ws_seterr(e, "cannot read %s", st->lab_dir ? path : "the owner's accounts.json");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "account", account);
    cJSON_AddStringToObject(o, "role", role);
    cJSON_AddStringToObject(o, "password", password);
    cJSON_AddItemToArray(arr, o);
    char *text = cJSON_Print(arr);
    cJSON_Delete(arr);
    char *body = ws_printf("%s\n", text);
    int rc = ws_write_file(path, body, strlen(body), 0600, e);
    free(body);
    cJSON_free(text);
    return rc;
}

/* Inside the transaction: the logon's password, from a new account or the owner's copy. */
static int logon_password(ws_state *st, const char *machine, const char *account, char *password, size_t n,
                          int *created, ws_error *e)
{
    sqlite3_stmt *s =
        ws_state_prepare(st, "SELECT role, password_hash FROM accounts WHERE name = ? COLLATE NOCASE", e);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
    char role[32] = "", hash[WS_PASSWORD_HASH_MAX] = "";
    int exists = sqlite3_step(s) == SQLITE_ROW;
    if (exists) {
        snprintf(role, sizeof role, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(hash, sizeof hash, "%s", (const char *)sqlite3_column_text(s, 1));
    }
    sqlite3_finalize(s);
    *created = !exists;
    if (!exists) {
        /* 16 characters, as lab init gives every account. */
        if (n < 17 || ws_password_new(password, 17) != 0)
            return ws_seterr(e, "cannot make a password for %s", account);
        return ws_account_add(st, account, "service", password, e);
    }
    if (strcmp(role, "service") != 0)
        return ws_seterr(e, "%s cannot run %s's services: it is a %s account, not a service account", account,
                         machine, role);
    if (owner_copy_password(st, account, hash, password, n) != 0)
        return ws_seterr(e, "%s cannot run %s's services: its password is not in the lab's accounts.json", account,
                         machine);
    return 0;
}

int ws_service_logon_ensure(ws_state *st, const char *machine, const char *account, ws_error *e)
{
    char user[128], password[128];
    if (ws_service_logon_get(st, machine, user, sizeof user, password, sizeof password) == 0)
        return 0;
    if (ws_state_begin(st, e) != 0)
        return -1;
    /* Another process may have given it one while this one waited for the lock. */
    if (ws_service_logon_get(st, machine, user, sizeof user, password, sizeof password) == 0) {
        ws_state_rollback(st);
        return 0;
    }
    int created = 0;
    if (logon_password(st, machine, account, password, sizeof password, &created, e) != 0 ||
        ws_setting_set(st, machine, WS_SET_SERVICE_ACCOUNT, account, e) != 0 ||
        ws_setting_set(st, machine, WS_SET_SERVICE_PASSWORD, password, e) != 0) {
        ws_state_rollback(st);
        return -1;
    }
    if (ws_state_commit(st, e) != 0)
        return -1;
    /* The lab works without the owner's copy of a new password; the owner just cannot read it. */
    if (created)
        owner_copy_add(st, account, "service", password, NULL);
    return 1;
}

int ws_service_credential_check(ws_state *st, const ws_logon_site *site, const char *authorization,
                                const ws_strv *machines, ws_error *why)
{
    char user[256], role[32];
    if (!authorization || strncmp(authorization, "Basic ", 6) != 0) {
        ws_seterr(why, "no credentials");
        return 0;
    }
    ws_logon r = ws_account_check_basic(st, site, authorization, user, sizeof user, role, sizeof role);
    if (r == WS_LOGON_LOCKED_OUT) {
        ws_seterr(why, "'%.64s' is locked out", user);
        return 0;
    }
    if (r != WS_LOGON_OK) {
        ws_seterr(why, "bad credentials for '%.64s'", user);
        return 0;
    }
    if (strcmp(role, "service") != 0) {
        ws_seterr(why, "'%.64s' is not a service account", user);
        return 0;
    }
    for (int i = 0; i < machines->n; i++) {
        char account[128], password[128];
        int mine = ws_service_logon_get(st, machines->v[i], account, sizeof account, password, sizeof password) == 0 &&
                   strcasecmp(account, user) == 0;
        OPENSSL_cleanse(password, sizeof password);
        if (mine)
            return 1;
    }
    ws_seterr(why, "'%.64s' is not the service account of %s", user, machines->n ? machines->v[0] : "the caller");
    return 0;
}
