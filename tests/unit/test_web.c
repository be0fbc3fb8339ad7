/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for portal/web.c and portal/session.c: what both of the portal machine's
 * sites rely on: escaping, the anti-forgery token's check, and sessions that belong to
 * one site (a tenant's cookie is no session at the admin site); and portal/classroom_form.c:
 * the trainer's page's fields into `wapsim classroom` arguments. */

#include "harness.h"

#include "../../portal/classroom_form.h"
#include "../../portal/session.h"
#include "../../portal/web.h"

static const char token[] = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";

static void test_escape(void **state)
{
    (void)state;
    web_page w;
    web_init(&w);
    web_raw(&w, "<p title=\"");
    web_esc(&w, "a\"b<script>'&");
    web_raw(&w, "\">");
    assert_string_equal(w.text, "<p title=\"a&quot;b&lt;script&gt;&#39;&amp;\">");
    /* A control character (no XML 1.0 character) becomes U+FFFD, so the polled
     * /topology.svg stays well-formed XML; tab and line ends stay. */
    web_page x;
    web_init(&x);
    web_esc(&x, "a\x01" "b\x1b[0m\tc\nd\re\x7f");
    assert_string_equal(x.text, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "[0m\tc\nd\re\x7f");
    free(x.text);
    /* A page grows past its first allocation. */
    for (int i = 0; i < 5000; i++)
        web_esc(&w, "<>");
    assert_int_equal(w.len, strlen(w.text));
    free(w.text);
}

/* web_csrf_ok on a urlencoded body. */
static int csrf_with(const char *body, const char *expected)
{
    ws_httpd_req rq = {0};
    rq.body = (const unsigned char *)body;
    rq.body_len = strlen(body);
    return web_csrf_ok(&rq, expected);
}

static void test_csrf(void **state)
{
    (void)state;
    char body[200];
    snprintf(body, sizeof body, "user=alice&csrf=%s&x=1", token);
    assert_true(csrf_with(body, token));
    /* Missing, empty, short, one digit off, or nothing expected: refused. */
    assert_false(csrf_with("user=alice", token));
    assert_false(csrf_with("csrf=", token));
    assert_false(csrf_with("csrf=0123", token));
    snprintf(body, sizeof body, "csrf=%.63sX", token);
    assert_false(csrf_with(body, token));
    snprintf(body, sizeof body, "csrf=%s", token);
    assert_false(csrf_with(body, NULL));
    assert_false(csrf_with(body, ""));
    /* Only the first csrf field counts. */
    snprintf(body, sizeof body, "csrf=bad&csrf=%s", token);
    assert_false(csrf_with(body, token));
}

static void test_sessions_belong_to_one_site(void **state)
{
    (void)state;
    char id[65], csrf[65], user[64], got_csrf[65];
    assert_int_equal(session_new(SITE_TENANT, "alice", id, csrf), 0);
    assert_int_equal(strlen(id), 64);
    assert_int_equal(strlen(csrf), 64);
    assert_string_not_equal(id, csrf);
    assert_int_equal(session_get(SITE_TENANT, id, user, sizeof user, got_csrf), 0);
    assert_string_equal(user, "alice");
    assert_string_equal(got_csrf, csrf);
    /* The admin site does not know a tenant's session. */
    assert_int_equal(session_get(SITE_ADMIN, id, user, sizeof user, NULL), -1);
    assert_int_equal(session_tenant(id, user, sizeof user), 0);
    session_end(id);
    assert_int_equal(session_tenant(id, user, sizeof user), -1);
    assert_int_equal(session_get(SITE_TENANT, "short", user, sizeof user, NULL), -1);
    assert_int_equal(session_get(SITE_TENANT, NULL, user, sizeof user, NULL), -1);
}

/* A tenant signing in over and over fills the tenant site's table, not the admin site's:
 * the administrator stays signed in. */
static void test_tenants_cannot_evict_the_administrator(void **state)
{
    (void)state;
    char admin_id[65], id[65], csrf[65], user[64];
    assert_int_equal(session_new(SITE_ADMIN, "CONTOSO\\hvadmin", admin_id, csrf), 0);
    char first_tenant[65];
    assert_int_equal(session_new(SITE_TENANT, "bob", first_tenant, csrf), 0);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(session_new(SITE_TENANT, "bob", id, csrf), 0);
    assert_int_equal(session_get(SITE_ADMIN, admin_id, user, sizeof user, NULL), 0);
    assert_string_equal(user, "CONTOSO\\hvadmin");
    /* The tenant table is bounded: its oldest session made room. */
    assert_int_equal(session_get(SITE_TENANT, first_tenant, user, sizeof user, NULL), -1);
    session_end(admin_id);
}

/* The fields of a posted form body, as admin_classroom.c reads them; a field that is
 * there but too long or badly escaped leaves why set and the fields empty. */
static char parse_why[200];
static int fields_from(const char *body, classroom_fields *f)
{
    parse_why[0] = '\0';
    return classroom_fields_parse((const uint8_t *)body, strlen(body), f, parse_why, sizeof parse_why);
}

/* The args joined with single spaces, or "refused: WHY". */
static const char *built(const char *verb, const char *body)
{
    static char line[1024];
    classroom_fields f;
    classroom_cmd c;
    if (fields_from(body, &f) != 0) {
        snprintf(line, sizeof line, "refused: %s", parse_why);
        return line;
    }
    if (classroom_cmd_build(verb, "/srv/class", 12, &f, &c) != 0) {
        assert_null(c.args[0]);
        snprintf(line, sizeof line, "refused: %s", c.why);
        return line;
    }
    line[0] = '\0';
    for (int i = 0; c.args[i]; i++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", i ? " " : "", c.args[i]);
    return line;
}

static void test_classroom_seat_names(void **state)
{
    (void)state;
    char out[16];
    static const char *const good[][2] = {{"seat07", "seat07"}, {"seat7", "seat07"}, {"7", "seat07"},
                                          {"07", "seat07"},     {"12", "seat12"},    {"seat01", "seat01"}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(classroom_seat_name(good[i][0], 12, out), 0);
        assert_string_equal(out, good[i][1]);
    }
    static const char *const bad[] = {"", "seat", "0", "seat00", "13", "seat13", "007", "-1", "7 ", " 7",
                                      "seat7a", "Seat07", "all", "seat-1", "1e1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(classroom_seat_name(bad[i], 12, out), -1);
}

static void test_classroom_form_fields(void **state)
{
    (void)state;
    assert_string_equal(built("reset", "csrf=x&seat=seat03"), "classroom reset /srv/class seat03");
    assert_string_equal(built("reset", "seat=all"), "classroom reset /srv/class all");
    /* reset takes the seat alone: assign's fields are not passed. */
    assert_string_equal(built("reset", "seat=3&level=2&mistake=m3a"), "classroom reset /srv/class seat03");
    assert_string_equal(built("assign", "seat=7"), "classroom assign /srv/class seat07");
    assert_string_equal(built("assign", "seat=all&level=2&seed=42&mistake=m3a%2Cm1b"),
                        "classroom assign /srv/class all --level 2 --seed 42 --mistake m3a,m1b");
    assert_string_equal(built("assign", "seat=all&level=&seed=&same=1&mistake="),
                        "classroom assign /srv/class all --same");
    assert_string_equal(built("assign", "seat=seat12&seed=9007199254740991"),
                        "classroom assign /srv/class seat12 --seed 9007199254740991");
    /* Refusals name the field and its value. */
    assert_string_equal(built("assign", "level=1"), "refused: field 'seat' is 'all' or a seat from seat01 to "
                                                    "seat12, not ''");
    assert_string_equal(built("assign", "seat=seat13"), "refused: field 'seat' is 'all' or a seat from seat01 to "
                                                        "seat12, not 'seat13'");
    assert_string_equal(built("assign", "seat=1&level=4"), "refused: field 'level' is 1, 2 or 3, not '4'");
    assert_string_equal(built("assign", "seat=1&level=--same"), "refused: field 'level' is 1, 2 or 3, not '--same'");
    assert_string_equal(built("assign", "seat=1&seed=9007199254740992"),
                        "refused: field 'seed' is a number from 0 to 9007199254740991 (2^53 - 1), not "
                        "'9007199254740992'");
    assert_string_equal(built("assign", "seat=1&seed=18446744073709551616"),
                        "refused: field 'seed' is a number from 0 to 9007199254740991 (2^53 - 1), not "
                        "'18446744073709551616'");
    assert_string_equal(built("assign", "seat=1&seed=-5"),
                        "refused: field 'seed' is a number from 0 to 9007199254740991 (2^53 - 1), not '-5'");
    assert_string_equal(built("assign", "seat=1&seed=4+2"),
                        "refused: field 'seed' is a number from 0 to 9007199254740991 (2^53 - 1), not '4 2'");
    assert_string_equal(built("assign", "seat=1&seed=4&same=1"),
                        "refused: field 'same' is empty when a seed is given (--seed S or --same, not both), not '1'");
    /* A mistake list can never become an option or a second argument. */
    static const char *const bad_mistakes[] = {"--level", "m3a,", ",m3a", "m3a,,m1b", "m3a%20m1b", "M3A",
                                               "m3a;rm", "m3a%0Am1b"};
    for (size_t i = 0; i < sizeof bad_mistakes / sizeof bad_mistakes[0]; i++) {
        char body[64];
        snprintf(body, sizeof body, "seat=1&mistake=%s", bad_mistakes[i]);
        assert_true(strncmp(built("assign", body), "refused: field 'mistake'", 24) == 0);
    }
    /* A field that is there but too long or badly escaped is refused, never dropped (a
     * random exercise instead of the one the trainer typed); an absent one is "". */
    char body[256];
    snprintf(body, sizeof body, "seat=1&mistake=m3a%0*d", CLASSROOM_FIELD_MAX, 0);
    assert_string_equal(built("assign", body), "refused: form field mistake: over 63 bytes");
    assert_string_equal(built("assign", "seat=1&seed=4%zz2"),
                        "refused: form field seed: a '%' at offset 1 without two hex digits");
    assert_string_equal(built("assign", "seat=1&level=%00"), "refused: form field level: a NUL byte");
    assert_string_equal(built("assign", "seat=2&other=1"), "classroom assign /srv/class seat02");
    /* The folder is the classroom's own, absolute; the verb one of two. */
    classroom_fields f;
    classroom_cmd c;
    assert_int_equal(fields_from("seat=1", &f), 0);
    assert_int_equal(classroom_cmd_build("assign", "relative/dir", 12, &f, &c), -1);
    assert_int_equal(classroom_cmd_build("destroy", "/srv/class", 12, &f, &c), -1);
    assert_string_equal(c.why, "field 'verb' is reset or assign, not 'destroy'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_sessions_belong_to_one_site),
        cmocka_unit_test(test_tenants_cannot_evict_the_administrator),
        cmocka_unit_test(test_classroom_seat_names),
        cmocka_unit_test(test_classroom_form_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
