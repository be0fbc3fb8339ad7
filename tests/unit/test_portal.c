/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for portal/request.c: the sign-in bodies (the HTML form and the tenant
 * API's JSON) and the console path, from bodies the lab's own browser sent (captured with
 * tests/fuzz/capture/sslwrite.c, the password replaced; the same bytes seed fuzz_portal)
 * and the form test_console_access.sh posts with curl --data-urlencode. */

#include "harness.h"

#include "../../portal/request.h"

static const char lab_json[] = "{\"user\":\"alice\",\"password\":\"PPPPPPPPPPPPPPPP\"}";

/* Parses through a heap copy of exactly len bytes (no NUL after), so ASan sees any overread. */
static int parse_exact(int json, const char *b, size_t len, portal_login *l, ws_error *e)
{
    uint8_t *c = malloc(len ? len : 1);
    assert_non_null(c);
    memcpy(c, b, len);
    int rc = json ? portal_login_json(c, len, l, e) : portal_login_form(c, len, l, e);
    free(c);
    return rc;
}

static void test_json(void **state)
{
    (void)state;
    portal_login l;
    ws_error e;
    assert_int_equal(parse_exact(1, lab_json, sizeof lab_json - 1, &l, &e), 0);
    assert_string_equal(l.user, "alice");
    assert_string_equal(l.password, "PPPPPPPPPPPPPPPP");
    /* A name with a newline and an escape passes as sent: the event log escapes it. */
    static const char forged[] = "{\"user\":\"eve\\n2026 portal Signed in\\u001b[2J\",\"password\":\"x\"}";
    assert_int_equal(parse_exact(1, forged, sizeof forged - 1, &l, &e), 0);
    assert_string_equal(l.user, "eve\n2026 portal Signed in\x1b[2J");
    /* Member names compare without case, as before the split (cJSON_GetObjectItem). */
    static const char upper[] = "{\"User\":\"bob\",\"PASSWORD\":\"y\"}";
    assert_int_equal(parse_exact(1, upper, sizeof upper - 1, &l, &e), 0);
    assert_string_equal(l.user, "bob");
    /* Every proper prefix of the captured body is refused. */
    for (size_t n = 0; n < sizeof lab_json - 1; n++)
        assert_int_equal(parse_exact(1, lab_json, n, &l, &e), -1);
}

static void test_json_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *body, *why;
    } cases[] = {
        {"{\"user\":", "not JSON"},
        {"[\"alice\",\"pw\"]", "not an object"},
        {"{\"user\":\"alice\"}", "no string password"},
        {"{\"user\":1,\"password\":\"x\"}", "no string user"},
        {"{\"user\":\"a\",\"password\":null}", "no string password"},
    };
    portal_login l;
    ws_error e;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(parse_exact(1, cases[i].body, strlen(cases[i].body), &l, &e), -1);
        assert_contains(e.msg, cases[i].why);
    }
    char body[600];
    char name[PORTAL_USER_MAX + 2];
    memset(name, 'u', sizeof name);
    name[PORTAL_USER_MAX] = '\0';
    snprintf(body, sizeof body, "{\"user\":\"%s\",\"password\":\"x\"}", name);
    assert_int_equal(parse_exact(1, body, strlen(body), &l, &e), 0);
    assert_int_equal(strlen(l.user), PORTAL_USER_MAX);
    name[PORTAL_USER_MAX] = 'u';
    name[PORTAL_USER_MAX + 1] = '\0';
    snprintf(body, sizeof body, "{\"user\":\"%s\",\"password\":\"x\"}", name);
    assert_int_equal(parse_exact(1, body, strlen(body), &l, &e), -1);
    assert_contains(e.msg, "user: over 127 bytes");
}

static void test_form(void **state)
{
    (void)state;
    portal_login l;
    ws_error e;
    static const char plain[] = "user=alice&password=PPPPPPPPPPPPPPPP";
    assert_int_equal(parse_exact(0, plain, sizeof plain - 1, &l, &e), 0);
    assert_string_equal(l.user, "alice");
    assert_string_equal(l.password, "PPPPPPPPPPPPPPPP");
    /* curl --data-urlencode: %XX and '+'; fields in any order; the first of each counts. */
    static const char escaped[] = "password=p%40ss+word%21&x=1&&user=CONTOSO%5calice&user=mallory";
    assert_int_equal(parse_exact(0, escaped, sizeof escaped - 1, &l, &e), 0);
    assert_string_equal(l.user, "CONTOSO\\alice");
    assert_string_equal(l.password, "p@ss word!");
    static const char empty[] = "user=&password=";
    assert_int_equal(parse_exact(0, empty, sizeof empty - 1, &l, &e), 0);
    assert_string_equal(l.user, "");
    /* A prefix that cuts off a field is refused; none reads past its length. */
    for (size_t n = 0; n < sizeof plain - 1; n++)
        assert_int_equal(parse_exact(0, plain, n, &l, &e), n < 20 ? -1 : 0);
}

static void test_form_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *body, *why;
    } cases[] = {
        {"user=alice", "no password field"},
        {"username=alice&password=x", "no user field"},
        {"user=al%4&password=x", "a '%' at offset 2 without two hex digits"},
        {"user=alice&password=x%", "a '%' at offset 1 without two hex digits"},
        {"user=al%zzice&password=x", "without two hex digits"},
        {"user=al%00ice&password=x", "form field user: a NUL byte"},
    };
    portal_login l;
    ws_error e;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(parse_exact(0, cases[i].body, strlen(cases[i].body), &l, &e), -1);
        assert_contains(e.msg, cases[i].why);
    }
    static const char raw_nul[] = "user=al\0ice&password=x";
    assert_int_equal(parse_exact(0, raw_nul, sizeof raw_nul - 1, &l, &e), -1);
    assert_contains(e.msg, "a NUL byte");
    char body[400];
    int n = snprintf(body, sizeof body, "user=a&password=");
    memset(body + n, 'p', PORTAL_PASSWORD_MAX);
    assert_int_equal(parse_exact(0, body, (size_t)n + PORTAL_PASSWORD_MAX, &l, &e), 0);
    body[n + PORTAL_PASSWORD_MAX] = 'p';
    assert_int_equal(parse_exact(0, body, (size_t)n + PORTAL_PASSWORD_MAX + 1, &l, &e), -1);
    assert_contains(e.msg, "form field password: over 255 bytes");
}

static void test_console_path(void **state)
{
    (void)state;
    char id[PORTAL_VM_ID_MAX + 1];
    assert_int_equal(portal_console_path("vms/e9466d6c-a6ee-4b5b-b5a0-1d2f97b7446d/console", id), 1);
    assert_string_equal(id, "e9466d6c-a6ee-4b5b-b5a0-1d2f97b7446d");
    assert_int_equal(portal_console_path("vms//console", id), 1);
    assert_string_equal(id, "");
    assert_int_equal(portal_console_path("vms/x/console/", id), 0);
    assert_int_equal(portal_console_path("vms/x/consoles", id), 0);
    assert_int_equal(portal_console_path("vms/x", id), 0);
    assert_int_equal(portal_console_path("vm/x/console", id), 0);
    char path[200];
    snprintf(path, sizeof path, "vms/%0*d/console", PORTAL_VM_ID_MAX, 7);
    assert_int_equal(portal_console_path(path, id), 1);
    assert_int_equal(strlen(id), PORTAL_VM_ID_MAX);
    snprintf(path, sizeof path, "vms/%0*d/console", PORTAL_VM_ID_MAX + 1, 7);
    assert_int_equal(portal_console_path(path, id), 0);
}

static void test_vm_path(void **state)
{
    (void)state;
    char id[PORTAL_VM_ID_MAX + 1];
    assert_int_equal(portal_vm_path("vms/e9466d6c-a6ee-4b5b-b5a0-1d2f97b7446d", id), 1);
    assert_string_equal(id, "e9466d6c-a6ee-4b5b-b5a0-1d2f97b7446d");
    assert_int_equal(portal_vm_path("vms/", id), 0);
    assert_int_equal(portal_vm_path("vms", id), 0);
    assert_int_equal(portal_vm_path("vms/x/", id), 0);
    assert_int_equal(portal_vm_path("vms/x/console", id), 0);
    assert_int_equal(portal_vm_path("vm/x", id), 0);
    char path[200];
    snprintf(path, sizeof path, "vms/%0*d", PORTAL_VM_ID_MAX, 7);
    assert_int_equal(portal_vm_path(path, id), 1);
    assert_int_equal(strlen(id), PORTAL_VM_ID_MAX);
    snprintf(path, sizeof path, "vms/%0*d", PORTAL_VM_ID_MAX + 1, 7);
    assert_int_equal(portal_vm_path(path, id), 0);
}

static void test_form_type(void **state)
{
    (void)state;
    assert_int_equal(portal_form_type("application/x-www-form-urlencoded"), 1);
    assert_int_equal(portal_form_type("multipart/form-data; boundary=----x"), 1);
    assert_int_equal(portal_form_type("text/plain;charset=UTF-8"), 1);
    assert_int_equal(portal_form_type(" Text/Plain"), 1);
    assert_int_equal(portal_form_type("application/json"), 0);
    assert_int_equal(portal_form_type("text/plainx"), 0);
    assert_int_equal(portal_form_type("text/plai"), 0);
    assert_int_equal(portal_form_type(""), 0);
    assert_int_equal(portal_form_type(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),          cmocka_unit_test(test_json_refusals),
        cmocka_unit_test(test_form),          cmocka_unit_test(test_form_refusals),
        cmocka_unit_test(test_console_path),  cmocka_unit_test(test_vm_path),
        cmocka_unit_test(test_form_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
