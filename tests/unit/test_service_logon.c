/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the services' logons in sim/lab/accounts.c: a temporary lab with SPF's
 * service account, the fabric administrator and a tenant; what a caller's basic
 * credentials prove, how a lab made before services had logons gets them, and the
 * account lockout. */

#include "harness.h"

#include <openssl/evp.h>

#include "base/util.h"
#include "lab/accounts.h"
#include "lab/clock.h"
#include "lab/settings.h"
#include "lab/state.h"

#define SPF_PASSWORD "spf-Pa55word-01"
#define ADMIN_PASSWORD "admin-Pa55word-1"

typedef struct fixture {
    char dir[64];
    ws_state *st;
} fixture;

static int write_owner_copy(const char *dir, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/accounts.json", dir);
    return ws_write_file(path, text, strlen(text), 0600, NULL);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    snprintf(f->dir, sizeof f->dir, "/tmp/wapsim-test-logon-XXXXXX");
    if (!mkdtemp(f->dir)) {
        f->dir[0] = '\0';
        return -1;
    }
    ws_error e = {""};
    if (ws_state_open(f->dir, 1, &f->st, &e) != 0 ||
        ws_account_add(f->st, WS_SERVICE_ACCOUNT_SPF, "service", SPF_PASSWORD, &e) != 0 ||
        ws_account_add(f->st, "CONTOSO\\hvadmin", "fabric-admin", ADMIN_PASSWORD, &e) != 0 ||
        ws_account_add(f->st, "alice", "tenant", "Pa55word!", &e) != 0 ||
        write_owner_copy(f->dir, "[{\"account\":\"CONTOSO\\\\svc-spf\",\"role\":\"service\",\"password\":\"" SPF_PASSWORD
                                 "\"}]\n") != 0) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
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

/* "Basic <base64 user:password>" */
static void basic(const char *user, const char *password, char *out, size_t n)
{
    char plain[256];
    snprintf(plain, sizeof plain, "%s:%s", user, password);
    assert_true(n > 6 + 4 * (strlen(plain) + 2) / 3);
    memcpy(out, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)plain, (int)strlen(plain));
}

static int caller_check(fixture *f, const char *authorization, const char *machine, ws_error *why)
{
    ws_strv machines = {0};
    ws_strv_add(&machines, machine);
    int ok = ws_service_credential_check(f->st, NULL, authorization, &machines, why);
    ws_strv_free(&machines);
    return ok;
}

static void test_a_caller_must_present_the_machines_service_account(void **state)
{
    fixture *f = *state;
    char h[300];
    ws_error why = {""};
    assert_int_equal(caller_check(f, NULL, "spf01", &why), 0);
    assert_string_equal(why.msg, "no credentials");
    assert_int_equal(caller_check(f, "Bearer abc", "spf01", &why), 0);
    assert_string_equal(why.msg, "no credentials");
    basic(WS_SERVICE_ACCOUNT_SPF, "wrong", h, sizeof h);
    assert_int_equal(caller_check(f, h, "spf01", &why), 0);
    assert_string_equal(why.msg, "bad credentials for 'CONTOSO\\svc-spf'");
    basic("CONTOSO\\hvadmin", ADMIN_PASSWORD, h, sizeof h);
    assert_int_equal(caller_check(f, h, "spf01", &why), 0);
    assert_string_equal(why.msg, "'CONTOSO\\hvadmin' is not a service account");
    /* The right password, but spf01's services have no logon yet. */
    basic(WS_SERVICE_ACCOUNT_SPF, SPF_PASSWORD, h, sizeof h);
    assert_int_equal(caller_check(f, h, "spf01", &why), 0);
    assert_string_equal(why.msg, "'CONTOSO\\svc-spf' is not the service account of spf01");
    assert_int_equal(ws_service_logon_ensure(f->st, "spf01", WS_SERVICE_ACCOUNT_SPF, &why), 1);
    assert_int_equal(caller_check(f, h, "spf01", &why), 1);
    /* Names compare as Windows compares them: without case. */
    basic("contoso\\SVC-SPF", SPF_PASSWORD, h, sizeof h);
    assert_int_equal(caller_check(f, h, "spf01", &why), 1);
    assert_int_equal(caller_check(f, h, "vmm01", &why), 0);
    assert_string_equal(why.msg, "'contoso\\SVC-SPF' is not the service account of vmm01");
}

static void test_an_existing_account_takes_the_owners_password(void **state)
{
    fixture *f = *state;
    char user[128], password[128];
    ws_error e = {""};
    assert_int_equal(ws_service_logon_get(f->st, "spf01", user, sizeof user, password, sizeof password),
                     WS_NOT_FOUND);
    assert_int_equal(ws_service_logon_ensure(f->st, "spf01", WS_SERVICE_ACCOUNT_SPF, &e), 1);
    assert_int_equal(ws_service_logon_get(f->st, "spf01", user, sizeof user, password, sizeof password), 0);
    assert_string_equal(user, WS_SERVICE_ACCOUNT_SPF);
    assert_string_equal(password, SPF_PASSWORD);
    assert_int_equal(ws_service_logon_ensure(f->st, "spf01", WS_SERVICE_ACCOUNT_SPF, &e), 0);
}

static void test_a_missing_account_is_created_and_listed_for_the_owner(void **state)
{
    fixture *f = *state;
    char user[128], password[128], role[32];
    ws_error e = {""};
    assert_int_equal(ws_service_logon_ensure(f->st, "vmm01", WS_SERVICE_ACCOUNT_VMM, &e), 1);
    assert_int_equal(ws_service_logon_get(f->st, "vmm01", user, sizeof user, password, sizeof password), 0);
    assert_string_equal(user, WS_SERVICE_ACCOUNT_VMM);
    assert_int_equal(strlen(password), 16);
    assert_int_equal(ws_account_check(f->st, WS_SERVICE_ACCOUNT_VMM, password, role, sizeof role), 1);
    assert_string_equal(role, "service");
    char path[128];
    unsigned char *text;
    size_t len;
    snprintf(path, sizeof path, "%s/accounts.json", f->dir);
    assert_int_equal(ws_read_file(path, 1 << 16, &text, &len, NULL), 0);
    assert_contains((char *)text, "CONTOSO\\\\svc-vmm");
    assert_contains((char *)text, password);
    assert_contains((char *)text, SPF_PASSWORD);
    free(text);
}

static void test_an_account_the_service_cannot_use_is_refused(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_service_logon_ensure(f->st, "vmm01", "alice", &e), -1);
    assert_string_equal(e.msg, "alice cannot run vmm01's services: it is a tenant account, not a service account");
    assert_int_equal(write_owner_copy(f->dir, "[]\n"), 0);
    assert_int_equal(ws_service_logon_ensure(f->st, "spf01", WS_SERVICE_ACCOUNT_SPF, &e), -1);
    assert_string_equal(e.msg,
                        "CONTOSO\\svc-spf cannot run spf01's services: its password is not in the lab's accounts.json");
    char user[128], password[128];
    assert_int_equal(ws_service_logon_get(f->st, "spf01", user, sizeof user, password, sizeof password),
                     WS_NOT_FOUND);
}

/* The account lockout (accounts.h): the threshold locks, the right password is then
 * refused, the lab clock or an unlock ends it, and the window restarts the count. */
static void test_bad_passwords_lock_an_account_out(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    ws_logon_site site = {"portal", "127.0.0.9"};
    for (int i = 0; i < WS_LOCKOUT_THRESHOLD - 1; i++)
        assert_int_equal(ws_account_logon(f->st, &site, "alice", "wrong", NULL, 0), WS_LOGON_BAD);
    assert_int_equal(ws_account_logon(f->st, &site, "ALICE", "wrong", NULL, 0), WS_LOGON_LOCKED_OUT);
    assert_int_equal(ws_account_logon(f->st, &site, "alice", "Pa55word!", NULL, 0), WS_LOGON_LOCKED_OUT);
    assert_int_equal(ws_account_check(f->st, "alice", "Pa55word!", NULL, 0), 0);
    /* An unknown name has nothing to lock. */
    assert_int_equal(ws_account_logon(f->st, &site, "nobody", "x", NULL, 0), WS_LOGON_BAD);

    ws_account_lockout *locks;
    size_t n;
    assert_int_equal(ws_account_lockouts(f->st, &locks, &n, &e), 0);
    int seen = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(locks[i].name, "alice") == 0) {
            seen = 1;
            assert_int_equal(locks[i].locked_out, 1);
            assert_string_equal(locks[i].machine, "portal");
            assert_string_equal(locks[i].caller, "127.0.0.9");
        } else {
            assert_int_equal(locks[i].locked_out, 0);
        }
    free(locks);
    assert_true(seen);

    /* The lab clock past the duration ends it. */
    assert_int_equal(ws_clock_set_offset(f->st, WS_LOCKOUT_DURATION_S + 1, &e), 0);
    char role[32] = "";
    assert_int_equal(ws_account_logon(f->st, &site, "alice", "Pa55word!", role, sizeof role), WS_LOGON_OK);
    assert_string_equal(role, "tenant");

    /* Bad passwords more than the window apart never add up. */
    for (int i = 0; i < WS_LOCKOUT_THRESHOLD - 1; i++)
        assert_int_equal(ws_account_logon(f->st, &site, "alice", "wrong", NULL, 0), WS_LOGON_BAD);
    assert_int_equal(ws_clock_set_offset(f->st, WS_LOCKOUT_DURATION_S + 2 + WS_LOCKOUT_WINDOW_S, &e), 0);
    assert_int_equal(ws_account_logon(f->st, &site, "alice", "wrong", NULL, 0), WS_LOGON_BAD);

    /* The operator unlocks: 1 when it was locked out, 0 when not, WS_NOT_FOUND. */
    for (int i = 0; i < WS_LOCKOUT_THRESHOLD; i++)
        ws_account_logon(f->st, &site, "alice", "wrong", NULL, 0);
    assert_int_equal(ws_account_unlock(f->st, "Alice", "test", &e), 1);
    assert_int_equal(ws_account_logon(f->st, &site, "alice", "Pa55word!", NULL, 0), WS_LOGON_OK);
    assert_int_equal(ws_account_unlock(f->st, "alice", "test", &e), 0);
    assert_int_equal(ws_account_unlock(f->st, "mallory", "test", &e), WS_NOT_FOUND);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_caller_must_present_the_machines_service_account),
        T(test_an_existing_account_takes_the_owners_password),
        T(test_a_missing_account_is_created_and_listed_for_the_owner),
        T(test_an_account_the_service_cannot_use_is_refused),
        T(test_bad_passwords_lock_an_account_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
