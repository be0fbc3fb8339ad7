/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/lab/connects.c, the lab's record of console connects that the
 * admin site's topology draws: a row comes back as it was added, stamped with the
 * client's lab clock; the newest come first; only WS_CONNECTS_KEPT are kept; a NULL
 * tenant or an absent code is null, a NULL text is ""; damaged hops read as none. */

#include "harness.h"

#include <cjson/cJSON.h>

#include "base/util.h"
#include "lab/clock.h"
#include "lab/connects.h"
#include "lab/state.h"

typedef struct fx {
    char dir[128];
    ws_state *st;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f || ws_test_lab_open(f->dir, sizeof f->dir, "connects", &f->st) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    ws_test_lab_close(f->st, f->dir);
    free(f);
    return 0;
}

static const char *str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
}

static void add(ws_state *st, const char *vm, int ok, const char *stage)
{
    ws_connect_row row = {.tenant = "alice", .vm = vm, .ok = ok, .stage = stage, .has_code = !ok, .code = 50331701,
                          .message = "m", .hops_json = "[]"};
    ws_error e;
    if (ws_connects_add(st, &row, &e) != 0)
        fail_msg("ws_connects_add: %s", e.msg);
}

static void test_empty(void **state)
{
    fx *f = *state;
    cJSON *all;
    ws_error e;
    assert_int_equal(ws_connects_newest_id(f->st), 0);
    assert_int_equal(ws_connects_recent(f->st, 10, &all, &e), 0);
    assert_int_equal(cJSON_GetArraySize(all), 0);
    cJSON_Delete(all);
}

static void test_a_row_comes_back_as_added(void **state)
{
    fx *f = *state;
    ws_error e;
    ws_connect_row row = {.tenant = "alice", .vm = "web01", .ok = 0, .stage = "gateway-auth", .has_code = 1,
                          .code = 50331701u, .message = "Your computer can't connect", .gateway = "rdgw.contoso.com",
                          .computer = "hv01.fabric.contoso.local:2179",
                          .hops_json = "[{\"stage\":\"portal\",\"ok\":true,\"detail\":\"got the file\"},"
                                       "{\"stage\":\"gateway-auth\",\"ok\":false,\"detail\":\"refused\"}]"};
    int64_t before = ws_clock_now_ms(f->st, "client");
    assert_int_equal(ws_connects_add(f->st, &row, &e), 0);
    int64_t after = ws_clock_now_ms(f->st, "client");
    cJSON *all;
    assert_int_equal(ws_connects_recent(f->st, 1, &all, &e), 0);
    assert_int_equal(cJSON_GetArraySize(all), 1);
    cJSON *c = cJSON_GetArrayItem(all, 0);
    assert_int_equal((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "id")), ws_connects_newest_id(f->st));
    double t = cJSON_GetNumberValue(cJSON_GetObjectItem(c, "time_ms"));
    assert_true(t >= before && t <= after);
    assert_string_equal(str(c, "tenant"), "alice");
    assert_string_equal(str(c, "vm"), "web01");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(c, "ok")));
    assert_string_equal(str(c, "stage"), "gateway-auth");
    assert_int_equal((uint32_t)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "code")), 50331701u);
    assert_string_equal(str(c, "message"), "Your computer can't connect");
    assert_string_equal(str(c, "gateway"), "rdgw.contoso.com");
    assert_string_equal(str(c, "computer"), "hv01.fabric.contoso.local:2179");
    cJSON *hops = cJSON_GetObjectItem(c, "hops");
    assert_int_equal(cJSON_GetArraySize(hops), 2);
    assert_string_equal(str(cJSON_GetArrayItem(hops, 1), "stage"), "gateway-auth");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(hops, 1), "ok")));
    cJSON_Delete(all);
}

/* The stamp is the client machine's lab clock: a lab clock moved an hour on moves it. */
static void test_stamped_with_the_lab_clock(void **state)
{
    fx *f = *state;
    ws_error e;
    assert_int_equal(ws_clock_set_offset(f->st, 3600, &e), 0);
    int64_t wall = ws_wall_ms();
    add(f->st, "web01", 1, "console");
    cJSON *all;
    assert_int_equal(ws_connects_recent(f->st, 1, &all, &e), 0);
    assert_near((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "time_ms")),
                wall + 3600 * 1000, 5000);
    cJSON_Delete(all);
}

static void test_newest_first(void **state)
{
    fx *f = *state;
    ws_error e;
    add(f->st, "a", 1, "console");
    add(f->st, "b", 0, "gateway-tls");
    add(f->st, "c", 1, "console");
    cJSON *all;
    assert_int_equal(ws_connects_recent(f->st, 2, &all, &e), 0);
    assert_int_equal(cJSON_GetArraySize(all), 2);
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "vm"), "c");
    assert_string_equal(str(cJSON_GetArrayItem(all, 1), "vm"), "b");
    double id0 = cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "id"));
    double id1 = cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 1), "id"));
    assert_true(id0 > id1);
    assert_int_equal((int64_t)id0, ws_connects_newest_id(f->st));
    cJSON_Delete(all);
}

/* A NULL tenant (the administrator's path) and an absent code are null; NULL texts are "";
 * hops that are not a JSON array read as no hops. */
static void test_nulls(void **state)
{
    fx *f = *state;
    ws_error e;
    ws_connect_row row = {.ok = 1, .hops_json = "not json"};
    assert_int_equal(ws_connects_add(f->st, &row, &e), 0);
    cJSON *all;
    assert_int_equal(ws_connects_recent(f->st, 1, &all, &e), 0);
    cJSON *c = cJSON_GetArrayItem(all, 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "tenant")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "code")));
    assert_string_equal(str(c, "vm"), "");
    assert_string_equal(str(c, "stage"), "");
    assert_string_equal(str(c, "message"), "");
    assert_string_equal(str(c, "gateway"), "");
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(c, "hops")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "hops")), 0);
    cJSON_Delete(all);
}

/* Only the newest WS_CONNECTS_KEPT stay; a limit out of range means all kept. */
static void test_bounded(void **state)
{
    fx *f = *state;
    ws_error e;
    assert_int_equal(ws_state_begin(f->st, &e), 0);
    for (int i = 0; i < WS_CONNECTS_KEPT + 7; i++) {
        char vm[16];
        snprintf(vm, sizeof vm, "vm%d", i);
        add(f->st, vm, 1, "console");
    }
    assert_int_equal(ws_state_commit(f->st, &e), 0);
    int64_t newest = ws_connects_newest_id(f->st);
    cJSON *all;
    assert_int_equal(ws_connects_recent(f->st, 0, &all, &e), 0);
    assert_int_equal(cJSON_GetArraySize(all), WS_CONNECTS_KEPT);
    cJSON *last = cJSON_GetArrayItem(all, WS_CONNECTS_KEPT - 1);
    assert_int_equal((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(last, "id")), newest - WS_CONNECTS_KEPT + 1);
    assert_string_equal(str(last, "vm"), "vm7");
    assert_string_equal(str(cJSON_GetArrayItem(all, 0), "vm"), "vm206");
    cJSON_Delete(all);
    assert_int_equal(ws_connects_recent(f->st, WS_CONNECTS_KEPT + 1, &all, &e), 0);
    assert_int_equal(cJSON_GetArraySize(all), WS_CONNECTS_KEPT);
    cJSON_Delete(all);
    sqlite3_stmt *s = ws_state_prepare(f->st, "SELECT count(*) FROM connects", NULL);
    assert_non_null(s);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), WS_CONNECTS_KEPT);
    sqlite3_finalize(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_row_comes_back_as_added, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stamped_with_the_lab_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
