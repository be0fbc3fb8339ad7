/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for portal/web.c and portal/session.c: what both of the portal machine's
 * sites rely on: escaping, the anti-forgery token's check, and sessions that belong to
 * one site (a tenant's cookie is no session at the admin site). */

#include "harness.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_sessions_belong_to_one_site),
        cmocka_unit_test(test_tenants_cannot_evict_the_administrator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
