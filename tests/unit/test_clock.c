/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/clock.c (durations, times, the lab clock with offset and skew),
 * sim/accounts.c (password hashes, accounts) and sim/eventlog.c (events, traces,
 * filters). */

#include "harness.h"

#include "lab/accounts.h"
#include "lab/clock.h"
#include "lab/eventlog.h"
#include "lab/machine.h"
#include "lab/state.h"
#include "base/util.h"

/* ---- a lab per test ------------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    ws_state *st;
} fixture;

static int add_machine(ws_state *st, const char *name, const char *address, const char *role, int port)
{
    ws_machine m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    snprintf(m.fqdn, sizeof m.fqdn, "%s.fabric.contoso.local", name);
    snprintf(m.address, sizeof m.address, "%s", address);
    snprintf(m.role, sizeof m.role, "%s", role);
    m.port = port;
    ws_error e = {""};
    if (ws_machine_add(st, &m, &e) != 0) {
        fprintf(stderr, "adding %s: %s\n", name, e.msg);
        return -1;
    }
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    if (ws_test_lab_open(f->dir, sizeof f->dir, "clock", &f->st) != 0)
        return -1;
    if (add_machine(f->st, "vmm01", "127.77.0.12", "vmm", 8100) ||
        add_machine(f->st, "rdgw01", "127.77.0.13", "gateway", 443) ||
        add_machine(f->st, "hv01", "127.77.0.21", "host", 2179))
        return -1;
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

static int64_t wall(void)
{
    return ws_wall_ms() / 1000;
}

/* ---- durations and times -------------------------------------------------------- */

static void test_duration_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t seconds;
    } good[] = {
        {"90s", 90},       {"2h", 7200},        {"31d", 31 * 86400}, {"-1h30m", -5400}, {"15m", 900},
        {"45", 45},        {"0", 0},            {"1w", 7 * 86400},   {"+2h", 7200},     {"1h30", 3630},
        {"1d2h3m4s", 93784}, {"-90s", -90},     {"3650d", 3650LL * 86400},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ws_error e = {""};
        int64_t s = -12345;
        if (ws_duration_parse(good[i].text, &s, &e) != 0)
            fail_msg("'%s' refused: %s", good[i].text, e.msg);
        if (s != good[i].seconds)
            fail_msg("'%s' = %lld, want %lld", good[i].text, (long long)s, (long long)good[i].seconds);
    }

    static const char *const bad[] = {"", "h", "2x", "1.5h", "--1h", "-", "1h-30m", " 1h", "1h ", "1 h",
                                      "2hh", "m5", "99999999999999999999", "40000d", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ws_error e = {""};
        int64_t s = -12345;
        if (ws_duration_parse(bad[i], &s, &e) != -1)
            fail_msg("'%s' accepted as %lld", bad[i] ? bad[i] : "(null)", (long long)s);
        assert_int_equal(s, -12345); /* untouched */
        assert_true(e.msg[0] != '\0');
    }
    ws_error e = {""};
    int64_t s;
    assert_int_equal(ws_duration_parse("2x", &s, &e), -1);
    assert_contains(e.msg, "unknown unit 'x'");
    assert_int_equal(ws_duration_parse("", &s, &e), -1);
    assert_contains(e.msg, "empty duration");
}

static void test_time_format_parse(void **state)
{
    (void)state;
    ws_error e = {""};
    char buf[64];
    int64_t t = -1;

    ws_time_format(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    ws_time_format(1700000000, buf, sizeof buf);
    assert_string_equal(buf, "2023-11-14T22:13:20Z");

    assert_int_equal(ws_time_parse("2026-11-25T18:51:11Z", &t, &e), 0);
    assert_int_equal(t, 1795632671);
    ws_time_format(t, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-25T18:51:11Z");

    /* Without the Z, with a space, a date alone, and @unix. */
    assert_int_equal(ws_time_parse("2026-11-25T18:51:11", &t, &e), 0);
    assert_int_equal(t, 1795632671);
    assert_int_equal(ws_time_parse("2026-11-25 18:51:11", &t, &e), 0);
    assert_int_equal(t, 1795632671);
    assert_int_equal(ws_time_parse("2026-11-25", &t, &e), 0);
    assert_int_equal(t, 1795564800);
    ws_time_format(t, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-25T00:00:00Z");
    assert_int_equal(ws_time_parse("@1700000000", &t, &e), 0);
    assert_int_equal(t, 1700000000);
    ws_time_format(t, buf, sizeof buf);
    assert_string_equal(buf, "2023-11-14T22:13:20Z");
    assert_int_equal(ws_time_parse("@-60", &t, &e), 0);
    assert_int_equal(t, -60);

    /* Round trips over a spread of times, including leap days. */
    static const int64_t samples[] = {1, 951782400 /* 2000-02-29 */, 1582934400 /* 2020-02-29 */, 2000000000,
                                      4102444799 /* 2099-12-31T23:59:59 */};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        ws_time_format(samples[i], buf, sizeof buf);
        int64_t back = -1;
        if (ws_time_parse(buf, &back, &e) != 0 || back != samples[i])
            fail_msg("%lld -> %s -> %lld (%s)", (long long)samples[i], buf, (long long)back, e.msg);
    }

    static const char *const bad[] = {"",        "2026-11-25T18:51:11+01:00", "2026-13-01", "yesterday", "@",
                                      "@12x",    "2026-11-25T18:51:11Zjunk", "2026/11/25", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = 777;
        e.msg[0] = '\0';
        if (ws_time_parse(bad[i], &t, &e) != -1)
            fail_msg("'%s' accepted as %lld", bad[i] ? bad[i] : "(null)", (long long)t);
        assert_int_equal(t, 777);
        assert_true(e.msg[0] != '\0');
    }
}

/* ---- the lab clock -------------------------------------------------------------- */

static void test_lab_clock(void **state)
{
    fixture *f = *state;
    ws_state *st = f->st;
    ws_error e = {""};

    assert_int_equal(ws_clock_offset(st), 0);
    assert_near(ws_clock_now(st, NULL), wall(), 2);
    assert_near(ws_clock_now(st, "hv01"), wall(), 2);
    assert_near(ws_clock_now_ms(st, NULL), ws_wall_ms(), 2000);

    assert_int_equal(ws_clock_set_offset(st, 7200, &e), 0);
    assert_int_equal(ws_clock_offset(st), 7200);
    assert_near(ws_clock_now(st, NULL), wall() + 7200, 2);
    assert_near(ws_clock_now(st, "rdgw01"), wall() + 7200, 2);
    assert_near(ws_clock_now_ms(st, NULL), ws_wall_ms() + 7200000, 2000);

    /* Skew moves one machine's clock, on top of the lab's. */
    assert_int_equal(ws_clock_set_skew(st, "hv01", 600, &e), 0);
    assert_near(ws_clock_now(st, "hv01"), wall() + 7800, 2);
    assert_near(ws_clock_now(st, "rdgw01"), wall() + 7200, 2);
    assert_near(ws_clock_now(st, "vmm01"), wall() + 7200, 2);
    assert_near(ws_clock_now(st, NULL), wall() + 7200, 2);
    ws_machine m;
    assert_int_equal(ws_machine_get(st, "hv01", &m, &e), 0);
    assert_int_equal(m.skew_seconds, 600);
    assert_int_equal(ws_clock_set_skew(st, "rdgw01", -300, &e), 0);
    assert_near(ws_clock_now(st, "rdgw01"), wall() + 6900, 2);
    assert_near(ws_clock_now(st, "hv01"), wall() + 7800, 2);

    /* Offsets go backwards too, and seen by another connection. */
    assert_int_equal(ws_clock_set_offset(st, -86400, &e), 0);
    ws_state *other = NULL;
    assert_int_equal(ws_state_open(f->dir, 0, &other, &e), 0);
    int64_t other_offset = ws_clock_offset(other);
    int64_t other_hv01 = ws_clock_now(other, "hv01");
    ws_state_close(other);
    assert_int_equal(other_offset, -86400);
    assert_near(other_hv01, wall() - 86400 + 600, 2);

    /* Unknown machines: skew refused; their clock is the lab's. */
    e.msg[0] = '\0';
    assert_int_equal(ws_clock_set_skew(st, "nope", 60, &e), -1);
    assert_contains(e.msg, "unknown machine 'nope'");
    assert_near(ws_clock_now(st, "nope"), wall() - 86400, 2);

    /* Back to zero. */
    assert_int_equal(ws_clock_set_offset(st, 0, &e), 0);
    assert_int_equal(ws_clock_set_skew(st, "hv01", 0, &e), 0);
    assert_near(ws_clock_now(st, "hv01"), wall(), 2);
}

/* ---- accounts --------------------------------------------------------------------- */

static void test_password_hash(void **state)
{
    (void)state;
    char h1[WS_PASSWORD_HASH_MAX], h2[WS_PASSWORD_HASH_MAX];
    assert_int_equal(ws_password_hash("Tenant#1pass", h1), 0);
    assert_int_equal(ws_password_hash("Tenant#1pass", h2), 0);
    assert_int_equal(strncmp(h1, "pbkdf2-sha256$", 14), 0);
    /* pbkdf2-sha256$<iter>$<32 hex>$<64 hex> */
    const char *salt = strchr(h1 + 14, '$');
    assert_non_null(salt);
    const char *hash = strchr(salt + 1, '$');
    assert_non_null(hash);
    assert_int_equal(hash - salt - 1, 32);
    assert_int_equal(strlen(hash + 1), 64);
    assert_string_not_equal(h1, h2); /* salted */

    assert_int_equal(ws_password_verify("Tenant#1pass", h1), 1);
    assert_int_equal(ws_password_verify("Tenant#1pass", h2), 1);
    assert_int_equal(ws_password_verify("tenant#1pass", h1), 0);
    assert_int_equal(ws_password_verify("Tenant#1pas", h1), 0);
    assert_int_equal(ws_password_verify("", h1), 0);
    assert_int_equal(ws_password_verify(NULL, h1), 0);

    /* An empty password hashes and verifies like any other. */
    char h3[WS_PASSWORD_HASH_MAX];
    assert_int_equal(ws_password_hash("", h3), 0);
    assert_int_equal(ws_password_verify("", h3), 1);
    assert_int_equal(ws_password_verify("x", h3), 0);

    /* Malformed hashes never verify. */
    char truncated[WS_PASSWORD_HASH_MAX];
    snprintf(truncated, sizeof truncated, "%.*s", (int)strlen(h1) - 2, h1);
    char lower[WS_PASSWORD_HASH_MAX];
    snprintf(lower, sizeof lower, "%s", h1);
    for (char *p = lower + 14; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    char few_iterations[WS_PASSWORD_HASH_MAX];
    snprintf(few_iterations, sizeof few_iterations, "pbkdf2-sha256$10%s", salt);
    char other_algorithm[WS_PASSWORD_HASH_MAX];
    snprintf(other_algorithm, sizeof other_algorithm, "pbkdf2-sha1%s", h1 + 13);
    char no_salt[WS_PASSWORD_HASH_MAX];
    snprintf(no_salt, sizeof no_salt, "pbkdf2-sha256$20000$$%s", hash + 1);
    const char *const malformed[] = {"",
                                     "pbkdf2-sha256$",
                                     "pbkdf2-sha256$20000$",
                                     "Tenant#1pass",
                                     "$1$abc$def",
                                     truncated,
                                     lower,
                                     few_iterations,
                                     other_algorithm,
                                     no_salt,
                                     NULL};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        if (ws_password_verify("Tenant#1pass", malformed[i]) != 0)
            fail_msg("verified against malformed hash '%s'", malformed[i] ? malformed[i] : "(null)");
}

/* Text after the hash (or a 65th digit) makes it a different, wrong hash. */
static void test_password_hash_trailing_text(void **state)
{
    (void)state;
    char h[WS_PASSWORD_HASH_MAX], longer[WS_PASSWORD_HASH_MAX + 8];
    assert_int_equal(ws_password_hash("pw", h), 0);
    snprintf(longer, sizeof longer, "%sjunk", h);
    assert_int_equal(ws_password_verify("pw", longer), 0);
    snprintf(longer, sizeof longer, "%sAB", h);
    assert_int_equal(ws_password_verify("pw", longer), 0);
}

static void test_accounts(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_account_add(f->st, "tenant1@contoso.com", "tenant", "Pa55word!", &e), 0);
    assert_int_equal(ws_account_add(f->st, "admin", "fabric-admin", "Adm1n!", &e), 0);
    char role[32] = "";
    assert_int_equal(ws_account_check(f->st, "tenant1@contoso.com", "Pa55word!", role, sizeof role), 1);
    assert_string_equal(role, "tenant");
    /* Names compare without case, as Windows sign-in does. */
    assert_int_equal(ws_account_check(f->st, "Tenant1@Contoso.com", "Pa55word!", role, sizeof role), 1);
    assert_int_equal(ws_account_check(f->st, "admin", "Adm1n!", role, sizeof role), 1);
    assert_string_equal(role, "fabric-admin");
    snprintf(role, sizeof role, "unchanged");
    assert_int_equal(ws_account_check(f->st, "admin", "Pa55word!", role, sizeof role), 0);
    assert_string_equal(role, "unchanged");
    assert_int_equal(ws_account_check(f->st, "nobody", "Pa55word!", role, sizeof role), 0);
    assert_int_equal(ws_account_check(f->st, "admin", "Adm1n!", NULL, 0), 1);

    /* Only a hash is stored. */
    sqlite3_stmt *s = ws_state_prepare(f->st, "SELECT password_hash FROM accounts WHERE name = 'admin'", &e);
    assert_non_null(s);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    char stored[WS_PASSWORD_HASH_MAX];
    snprintf(stored, sizeof stored, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    assert_null(strstr(stored, "Adm1n!"));
    assert_int_equal(strncmp(stored, "pbkdf2-sha256$", 14), 0);

    /* A duplicate name or unknown role is refused. */
    assert_int_equal(ws_account_add(f->st, "admin", "tenant", "x", &e), -1);
    assert_int_equal(ws_account_add(f->st, "eve", "superuser", "x", &e), -1);
    assert_int_equal(ws_account_check(f->st, "eve", "x", NULL, 0), 0);
}

/* ---- event log ---------------------------------------------------------------------- */

typedef struct seen {
    int count;
    int stop_after;
    int64_t ids[32];
    char text[2048];
    ws_event_rec first;
    char first_text[256], first_machine[32], first_channel[96], first_source[32], first_level[16];
} seen;

static int collect(const ws_event_rec *r, void *arg)
{
    seen *s = arg;
    if (s->count == 0) {
        s->first = *r;
        snprintf(s->first_text, sizeof s->first_text, "%s", r->text);
        snprintf(s->first_machine, sizeof s->first_machine, "%s", r->machine);
        snprintf(s->first_channel, sizeof s->first_channel, "%s", r->channel);
        snprintf(s->first_source, sizeof s->first_source, "%s", r->source);
        snprintf(s->first_level, sizeof s->first_level, "%s", r->level);
        s->first.text = s->first.machine = s->first.channel = s->first.source = s->first.level = NULL;
    }
    if (s->count < 32)
        s->ids[s->count] = r->id;
    size_t len = strlen(s->text);
    snprintf(s->text + len, sizeof s->text - len, "%s%s:%d", s->count ? "," : "", r->machine, r->event_id);
    s->count++;
    return s->stop_after && s->count >= s->stop_after;
}

static void foreach(ws_state *st, const char *machine, const char *channel, int64_t since_ms, int64_t after_id,
                    seen *out)
{
    ws_event_filter flt = {.machine = machine, .channel = channel, .since_ms = since_ms, .after_id = after_id};
    ws_error e = {""};
    int stop = out->stop_after;
    memset(out, 0, sizeof *out);
    out->stop_after = stop;
    if (ws_event_foreach(st, &flt, collect, out, &e) != 0)
        fail_msg("ws_event_foreach: %s", e.msg);
}

static void test_eventlog(void **state)
{
    fixture *f = *state;
    ws_state *st = f->st;
    ws_error e = {""};
    int64_t before_ms = ws_wall_ms();

    assert_int_equal(ws_event(st, "rdgw01", WS_CHANNEL_GATEWAY, "TerminalServices-Gateway", 302, WS_LEVEL_INFO,
                              "The user \"%s\" connected to resource \"%s\".", "CONTOSO\\tenant1", "hv01"),
                     0);
    assert_int_equal(ws_event(st, "hv01", WS_CHANNEL_SYSTEM, "Service Control Manager", 7036, WS_LEVEL_INFO,
                              "The %s service entered the running state.", "Hyper-V Virtual Machine Management"),
                     0);
    assert_int_equal(ws_trace(st, "vmm01", "VMM", "line one\nline two\n\tline three"), 0);
    assert_int_equal(ws_event(st, "rdgw01", WS_CHANNEL_GATEWAY, "TerminalServices-Gateway", 304, WS_LEVEL_ERROR,
                              "percent %d%%", 100),
                     0);
    assert_int_equal(ws_event(st, "hv01", WS_CHANNEL_APPLICATION, "wapsim", 1, WS_LEVEL_WARNING, "plain"), 0);

    seen s = {0};
    foreach(st, NULL, NULL, 0, 0, &s);
    assert_int_equal(s.count, 5);
    assert_string_equal(s.text, "rdgw01:302,hv01:7036,vmm01:0,rdgw01:304,hv01:1");
    for (int i = 1; i < s.count; i++)
        assert_true(s.ids[i] > s.ids[i - 1]);
    assert_string_equal(s.first_text, "The user \"CONTOSO\\tenant1\" connected to resource \"hv01\".");
    assert_string_equal(s.first_machine, "rdgw01");
    assert_string_equal(s.first_channel, "Microsoft-Windows-TerminalServices-Gateway/Operational");
    assert_string_equal(s.first_source, "TerminalServices-Gateway");
    assert_string_equal(s.first_level, "Information");
    assert_int_equal(s.first.event_id, 302);
    assert_true(s.first.time_ms >= before_ms - 1000 && s.first.time_ms <= ws_wall_ms() + 1000);
    int64_t all_ids[5];
    memcpy(all_ids, s.ids, sizeof all_ids);

    /* By machine. */
    foreach(st, "rdgw01", NULL, 0, 0, &s);
    assert_string_equal(s.text, "rdgw01:302,rdgw01:304");
    foreach(st, "pc99", NULL, 0, 0, &s);
    assert_int_equal(s.count, 0);

    /* By channel: the trace keeps its lines. */
    foreach(st, NULL, WS_CHANNEL_TRACE, 0, 0, &s);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.first_machine, "vmm01");
    assert_string_equal(s.first_channel, "Trace");
    assert_string_equal(s.first_source, "VMM");
    assert_string_equal(s.first_text, "line one\nline two\n\tline three");
    foreach(st, "hv01", WS_CHANNEL_SYSTEM, 0, 0, &s);
    assert_string_equal(s.text, "hv01:7036");
    assert_string_equal(s.first_text, "The Hyper-V Virtual Machine Management service entered the running state.");
    foreach(st, "rdgw01", WS_CHANNEL_SYSTEM, 0, 0, &s);
    assert_int_equal(s.count, 0);

    /* After an id: what came since, as `wapsim logs -f` follows. */
    foreach(st, NULL, NULL, 0, all_ids[2], &s);
    assert_string_equal(s.text, "rdgw01:304,hv01:1");
    assert_string_equal(s.first_text, "percent 100%");
    assert_string_equal(s.first_level, "Error");
    foreach(st, "hv01", NULL, 0, all_ids[1], &s);
    assert_string_equal(s.text, "hv01:1");
    foreach(st, NULL, NULL, 0, all_ids[4], &s);
    assert_int_equal(s.count, 0);

    /* The callback stops the walk. */
    s.stop_after = 2;
    foreach(st, NULL, NULL, 0, 0, &s);
    assert_int_equal(s.count, 2);
    s.stop_after = 0;

    /* Times come from the machine's clock: skew and offset show in time_ms. */
    assert_int_equal(ws_clock_set_offset(st, 3600, &e), 0);
    assert_int_equal(ws_clock_set_skew(st, "hv01", 600, &e), 0);
    assert_int_equal(ws_event(st, "hv01", WS_CHANNEL_SYSTEM, "Time-Service", 35, WS_LEVEL_INFO, "skewed"), 0);
    assert_int_equal(ws_event(st, "rdgw01", WS_CHANNEL_SYSTEM, "Time-Service", 35, WS_LEVEL_INFO, "offset"), 0);
    foreach(st, "hv01", NULL, 0, all_ids[4], &s);
    assert_int_equal(s.count, 1);
    assert_near(s.first.time_ms, ws_wall_ms() + 4200000, 2000);
    foreach(st, "rdgw01", NULL, 0, all_ids[4], &s);
    assert_int_equal(s.count, 1);
    assert_near(s.first.time_ms, ws_wall_ms() + 3600000, 2000);

    /* since_ms: only the two events stamped in the lab's future. */
    foreach(st, NULL, NULL, ws_wall_ms() + 1800000, 0, &s);
    assert_string_equal(s.text, "hv01:35,rdgw01:35");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_time_format_parse),
        T(test_lab_clock),
        cmocka_unit_test(test_password_hash),
        cmocka_unit_test(test_password_hash_trailing_text),
        T(test_accounts),
        T(test_eventlog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
