/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the load balancer's pure parts: member choice (balancer/pick.c: round
 * robin, source-address persistence, members marked down, every member tried once) and
 * its configuration's parsing (sim/lab/balancer.c: members, mode, affinity). */

#include "harness.h"

#include "../../balancer/balancer.h"

static void test_round_robin(void **state)
{
    (void)state;
    int up[3] = {1, 1, 1};
    unsigned rr = 0;
    int seq[6];
    for (int i = 0; i < 6; i++)
        seq[i] = lb_pick(3, up, 0, WS_LB_AFFINITY_NONE, 0, &rr);
    int want[6] = {0, 1, 2, 0, 1, 2};
    assert_memory_equal(seq, want, sizeof want);
}

static void test_round_robin_skips_down(void **state)
{
    (void)state;
    int up[3] = {1, 0, 1};
    unsigned rr = 0;
    assert_int_equal(lb_pick(3, up, 0, WS_LB_AFFINITY_NONE, 0, &rr), 0);
    assert_int_equal(lb_pick(3, up, 0, WS_LB_AFFINITY_NONE, 0, &rr), 2); /* 1 is down */
    assert_int_equal(lb_pick(3, up, 0, WS_LB_AFFINITY_NONE, 0, &rr), 0);
}

/* A refused member is skipped: the next untried one, then none. */
static void test_tried(void **state)
{
    (void)state;
    int up[2] = {1, 1};
    unsigned rr = 0;
    assert_int_equal(lb_pick(2, up, 1u << 0, WS_LB_AFFINITY_NONE, 0, &rr), 1);
    assert_int_equal(lb_pick(2, up, 3u, WS_LB_AFFINITY_NONE, 0, &rr), -1);
    assert_int_equal(lb_pick(0, up, 0, WS_LB_AFFINITY_NONE, 0, &rr), -1);
}

/* Every member down: they are tried anyway, in order, rather than refusing the client. */
static void test_all_down(void **state)
{
    (void)state;
    int up[2] = {0, 0};
    unsigned rr = 1;
    assert_int_equal(lb_pick(2, up, 0, WS_LB_AFFINITY_NONE, 0, &rr), 1);
    assert_int_equal(lb_pick(2, up, 1u << 1, WS_LB_AFFINITY_NONE, 0, &rr), 0);
}

static void test_source_affinity(void **state)
{
    (void)state;
    int up[2] = {1, 1};
    unsigned rr = 0;
    /* FNV-1a 32 of the text: test_balancer_load.sh relies on these two. */
    assert_int_equal(lb_source_hash("127.77.0.1") % 2, 0);
    assert_int_equal(lb_source_hash("127.77.0.2") % 2, 1);
    assert_int_equal(lb_source_hash(""), 2166136261u);
    uint32_t h = lb_source_hash("127.77.0.2");
    for (int i = 0; i < 5; i++)
        assert_int_equal(lb_pick(2, up, 0, WS_LB_AFFINITY_SOURCE_IP, h, &rr), 1);
    assert_int_equal(rr, 0); /* persistence does not move round robin */
    up[1] = 0;               /* its member down: the next one, while it is */
    assert_int_equal(lb_pick(2, up, 0, WS_LB_AFFINITY_SOURCE_IP, h, &rr), 0);
}

static void test_members_parse(void **state)
{
    (void)state;
    ws_lb_config c = {0};
    ws_error e;
    assert_int_equal(ws_lb_members_parse("rdgw01,rdgw02", &c, &e), 0);
    assert_int_equal(c.n_members, 2);
    assert_string_equal(c.members[1], "rdgw02");
    char joined[64];
    ws_lb_members_join(&c, joined, sizeof joined);
    assert_string_equal(joined, "rdgw01,rdgw02");
    static const char *const bad[] = {"", ",", "rdgw01,", ",rdgw01", "rdgw01,,rdgw02", "rdgw01,rdgw01",
                                      "rd gw", "rdgw01;x", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ws_lb_members_parse(bad[i], &c, &e), -1);
        assert_int_equal(c.n_members, 2); /* untouched */
    }
    assert_int_equal(ws_lb_members_parse("rdgw01,rdgw01", &c, &e), -1);
    assert_contains(e.msg, "rdgw01 twice");
    char longname[80];
    memset(longname, 'a', 64);
    longname[64] = '\0';
    assert_int_equal(ws_lb_members_parse(longname, &c, &e), -1);
}

static void test_mode_affinity(void **state)
{
    (void)state;
    ws_lb_mode m;
    ws_lb_affinity a;
    ws_error e;
    assert_int_equal(ws_lb_mode_parse("tls-offload", &m, &e), 0);
    assert_int_equal(m, WS_LB_MODE_TLS_OFFLOAD);
    assert_string_equal(ws_lb_mode_name(m), "tls-offload");
    assert_int_equal(ws_lb_mode_parse("TCP", &m, &e), -1);
    assert_contains(e.msg, "bad mode 'TCP'");
    assert_int_equal(ws_lb_affinity_parse("source-ip", &a, &e), 0);
    assert_string_equal(ws_lb_affinity_name(a), "source-ip");
    assert_int_equal(ws_lb_affinity_parse("cookie", &a, &e), -1);
    assert_contains(e.msg, "bad affinity 'cookie'");
    assert_int_equal(ws_lb_affinity_parse(NULL, &a, &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_robin),     cmocka_unit_test(test_round_robin_skips_down),
        cmocka_unit_test(test_tried),           cmocka_unit_test(test_all_down),
        cmocka_unit_test(test_source_affinity), cmocka_unit_test(test_members_parse),
        cmocka_unit_test(test_mode_affinity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
