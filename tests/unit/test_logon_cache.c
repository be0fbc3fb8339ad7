/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the logon cache of basic authentication in sim/lab/accounts.c (IIS's
 * token cache, accounts.h): a good password is verified once and then answered from the
 * cache; a changed password, a removed account and a lockout take effect at once; a bad
 * password is never cached and still counts toward lockout; an entry lives
 * WS_LOGON_CACHE_TTL_S of the lab clock; a tenant's sign-in (ws_account_logon) never
 * uses it. */

#include "harness.h"

#include <openssl/evp.h>

#include "base/util.h"
#include "lab/accounts.h"
#include "lab/clock.h"
#include "lab/state.h"

#define SPF_PASSWORD "spf-Pa55word-01"

typedef struct fixture {
    char dir[64];
    ws_state *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    ws_error e = {""};
    if (ws_test_lab_open(f->dir, sizeof f->dir, "logoncache", &f->st) != 0 ||
        ws_account_add(f->st, WS_SERVICE_ACCOUNT_SPF, "service", SPF_PASSWORD, &e) != 0 ||
        ws_account_add(f->st, "alice", "tenant", "Pa55word!", &e) != 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    ws_logon_cache_flush();
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f)
        ws_test_lab_close(f->st, f->dir);
    free(f);
    return 0;
}

/* ws_account_check_basic of user:password, as SPF checks the portal's request. */
static ws_logon check(fixture *f, const char *user, const char *password)
{
    char plain[256], header[400], who[256], role[32];
    snprintf(plain, sizeof plain, "%s:%s", user, password);
    memcpy(header, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)header + 6, (const unsigned char *)plain, (int)strlen(plain));
    ws_logon_site site = {"spf01", "127.0.0.10"};
    return ws_account_check_basic(f->st, &site, header, who, sizeof who, role, sizeof role);
}

static ws_logon_cache_counts counts(void)
{
    ws_logon_cache_counts c;
    ws_logon_cache_stats(&c);
    return c;
}

static void exec(fixture *f, const char *sql)
{
    ws_error e = {""};
    if (ws_state_exec(f->st, &e, sql, 0) != 0)
        fail_msg("%s: %s", sql, e.msg);
}

static int bad_count(fixture *f, const char *name)
{
    sqlite3_stmt *s = ws_state_prepare(f->st, "SELECT bad_pwd_count FROM accounts WHERE name = ?", NULL);
    assert_non_null(s);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_finalize(s);
    return n;
}

static void test_a_good_password_is_hashed_once_then_answered_from_the_cache(void **state)
{
    fixture *f = *state;
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(counts().verified, 1);
    assert_int_equal(counts().hits, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(counts().verified, 1);
    assert_int_equal(counts().hits, 3);
    /* The name without case is the same account, as Windows compares it. */
    assert_int_equal(check(f, "contoso\\SVC-SPF", SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(counts().hits, 4);
    /* Another password of the same account is no hit. */
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD "x"), WS_LOGON_BAD);
    assert_int_equal(counts().verified, 2);
}

static void test_a_changed_password_takes_effect_at_once(void **state)
{
    fixture *f = *state;
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(counts().hits, 1);
    /* Set-ADAccountPassword: the row's hash changes. */
    char hash[WS_PASSWORD_HASH_MAX], sql[400];
    assert_int_equal(ws_password_hash("new-Pa55word-02", hash), 0);
    snprintf(sql, sizeof sql, "UPDATE accounts SET password_hash = '%s' WHERE name = 'CONTOSO\\svc-spf'", hash);
    exec(f, sql);
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_BAD);
    assert_int_equal(counts().hits, 1);
    assert_int_equal(bad_count(f, WS_SERVICE_ACCOUNT_SPF), 1);
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, "new-Pa55word-02"), WS_LOGON_OK);
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, "new-Pa55word-02"), WS_LOGON_OK);
    assert_int_equal(counts().hits, 2);
}

static void test_a_locked_out_or_removed_account_is_refused_at_once(void **state)
{
    fixture *f = *state;
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    ws_logon_cache_counts before = counts();
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE accounts SET lockout_time = %lld WHERE name = 'CONTOSO\\svc-spf'",
             (long long)ws_clock_now(f->st, NULL));
    exec(f, sql);
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_LOCKED_OUT);
    /* Refused from the row, before the cache or a hash. */
    assert_int_equal(counts().hits, before.hits);
    assert_int_equal(counts().verified, before.verified);
    ws_error e = {""};
    assert_int_equal(ws_account_unlock(f->st, WS_SERVICE_ACCOUNT_SPF, "test", &e), 1);
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(counts().hits, before.hits + 1);
    /* An account removed (or disabled: gone from the directory) is unknown at once. */
    exec(f, "DELETE FROM accounts WHERE name = 'CONTOSO\\svc-spf'");
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_BAD);
    assert_int_equal(counts().hits, before.hits + 1);
}

static void test_a_bad_password_is_never_cached_and_counts_toward_lockout(void **state)
{
    fixture *f = *state;
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, "wrong"), WS_LOGON_BAD);
    assert_int_equal(counts().verified, 4);
    assert_int_equal(bad_count(f, WS_SERVICE_ACCOUNT_SPF), 3);
    /* A good password from the cache still resets the count, as a verified one does. */
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(counts().hits, 1);
    assert_int_equal(bad_count(f, WS_SERVICE_ACCOUNT_SPF), 0);
    /* The threshold locks the account even while its good password is cached. */
    for (int i = 0; i < WS_LOCKOUT_THRESHOLD; i++)
        check(f, WS_SERVICE_ACCOUNT_SPF, "wrong");
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_LOCKED_OUT);
}

static void test_an_entry_lives_the_ttl_of_the_lab_clock(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(ws_clock_set_offset(f->st, WS_LOGON_CACHE_TTL_S - 60, &e), 0);
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(counts().hits, 1);
    assert_int_equal(counts().verified, 1);
    /* `clock advance` past the TTL: hashed again, and kept from then on. */
    assert_int_equal(ws_clock_set_offset(f->st, WS_LOGON_CACHE_TTL_S + 1, &e), 0);
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(counts().verified, 2);
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(counts().hits, 2);
    /* A clock moved back makes the entry's time lie in the future: not trusted. */
    assert_int_equal(ws_clock_set_offset(f->st, -3600, &e), 0);
    assert_int_equal(check(f, WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD), WS_LOGON_OK);
    assert_int_equal(counts().verified, 3);
}

static void test_a_tenants_sign_in_is_always_hashed(void **state)
{
    fixture *f = *state;
    char role[32];
    for (int i = 0; i < 2; i++)
        assert_int_equal(ws_account_logon(f->st, NULL, "alice", "Pa55word!", role, sizeof role), WS_LOGON_OK);
    assert_int_equal(counts().hits, 0);
    /* ... even once the basic path has cached the same password. */
    assert_int_equal(check(f, "alice", "Pa55word!"), WS_LOGON_OK);
    assert_int_equal(ws_account_logon(f->st, NULL, "alice", "Pa55word!", role, sizeof role), WS_LOGON_OK);
    assert_int_equal(counts().hits, 0);
}

static void test_the_cache_holds_its_bound(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    /* More accounts than entries: each is verified once; the first is pushed out. */
    char name[32];
    for (int i = 0; i < WS_LOGON_CACHE_MAX + 1; i++) {
        snprintf(name, sizeof name, "svc%02d", i);
        assert_int_equal(ws_account_add(f->st, name, "service", "pw-0123456789", &e), 0);
        assert_int_equal(ws_clock_set_offset(f->st, i, &e), 0); /* each a second younger */
        assert_int_equal(check(f, name, "pw-0123456789"), WS_LOGON_OK);
    }
    assert_int_equal(counts().verified, WS_LOGON_CACHE_MAX + 1);
    assert_int_equal(check(f, "svc64", "pw-0123456789"), WS_LOGON_OK);
    assert_int_equal(counts().hits, 1);
    assert_int_equal(check(f, "svc00", "pw-0123456789"), WS_LOGON_OK);
    assert_int_equal(counts().hits, 1);
    assert_int_equal(counts().verified, WS_LOGON_CACHE_MAX + 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_good_password_is_hashed_once_then_answered_from_the_cache),
        T(test_a_changed_password_takes_effect_at_once),
        T(test_a_locked_out_or_removed_account_is_refused_at_once),
        T(test_a_bad_password_is_never_cached_and_counts_toward_lockout),
        T(test_an_entry_lives_the_ttl_of_the_lab_clock),
        T(test_a_tenants_sign_in_is_always_hashed),
        T(test_the_cache_holds_its_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
