/* SPDX-License-Identifier: Apache-2.0 */
/* classroom.json read as untrusted input (train/classroom.h): a good file, damaged,
 * hostile and oversized ones, each refused with the JSON path named; a seat by name;
 * the results CSV's quoting (RFC 4180 and formulas); a seat's lab opened read-only. */
#include "harness.h"

#include <unistd.h>

#include "base/buf.h"
#include "train/classroom.h"

#define GOOD_HEAD                                                                                               \
    "{\"version\":1,\"created\":\"2026-12-07T10:00:00Z\","                                                     \
    "\"trainer\":{\"account\":\"CONTOSO\\\\trainer\",\"password\":\"Trainer-Pass-123\"},"                       \
    "\"plan\":{\"level\":2,\"seed\":42,\"same\":false,\"mistakes\":\"m3a,m1b\"},"
#define SEAT(n, x)                                                                                              \
    "{\"seat\":\"seat0" #n "\",\"subnet\":\"127.150." #x ".0/24\",\"account\":\"CONTOSO\\\\trainee0" #n           \
    "\",\"password\":\"pw" #n "-abcdefgh\"}"

static int parse(const char *text, ws_classroom *c, ws_error *e)
{
    return ws_classroom_parse("/srv/class", text, strlen(text), c, e);
}

static void test_good(void **state)
{
    (void)state;
    ws_classroom c;
    ws_error e = {""};
    assert_int_equal(parse(GOOD_HEAD "\"seats\":[" SEAT(1, 1) "," SEAT(2, 2) "]}", &c, &e), 0);
    assert_int_equal(c.nseats, 2);
    assert_string_equal(c.trainer, "CONTOSO\\trainer");
    assert_int_equal(c.level, 2);
    assert_true(c.has_seed);
    assert_true(c.seed == 42);
    assert_string_equal(c.mistakes, "m3a,m1b");
    assert_string_equal(c.seats[1].dir, "/srv/class/seat02");
    assert_string_equal(c.seats[1].subnet, "127.150.2.0/24");
    assert_ptr_equal(ws_classroom_seat(&c, "seat02"), &c.seats[1]);
    assert_ptr_equal(ws_classroom_seat(&c, "2"), &c.seats[1]);
    assert_ptr_equal(ws_classroom_seat(&c, "02"), &c.seats[1]);
    assert_null(ws_classroom_seat(&c, "seat03"));
    assert_null(ws_classroom_seat(&c, "seat2x"));
    assert_null(ws_classroom_seat(&c, "-1"));
    assert_null(ws_classroom_seat(&c, "../seat01"));
    /* A seat's seed: its own without "same", reproducible, below 2^53. */
    unsigned long long s1 = ws_classroom_seat_seed(&c, &c.seats[0]), s2 = ws_classroom_seat_seed(&c, &c.seats[1]);
    assert_true(s1 != s2 && s1 < (1ULL << 53) && s1 == ws_classroom_seat_seed(&c, &c.seats[0]));
    c.same = 1;
    assert_true(ws_classroom_seat_seed(&c, &c.seats[1]) == 42);
    ws_classroom_free(&c);
}

/* Each bad file: refused, the message naming where. */
static void test_bad(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"", "not JSON"},
        {"{\"version\":1", "not JSON"},
        {"[]", "not a JSON object"},
        {"{\"version\":2}", "version: not 1"},
        {"{\"version\":\"1\"}", "version: not 1"},
        {"{\"version\":1,\"created\":\"x\",\"trainer\":[]}", "trainer: not an object"},
        {"{\"version\":1,\"created\":\"x\",\"trainer\":{\"account\":\"a\"}}", "trainer.password: missing"},
        {"{\"version\":1,\"created\":\"x\",\"trainer\":{\"account\":\"a\\nb\",\"password\":\"p\"}}",
         "trainer.account: character 2"},
        {"{\"version\":1,\"created\":\"x\",\"trainer\":{\"account\":\"a\",\"password\":\"p\"},\"plan\":{\"level\":4}}",
         "plan.level"},
        {GOOD_HEAD "\"seats\":[]}", "seats: 0 seats"},
        {GOOD_HEAD "\"seats\":{}}", "seats: not an array"},
        {GOOD_HEAD "\"seats\":[" SEAT(2, 2) "]}", "seats[0].seat: 'seat02', expected 'seat01'"},
        {GOOD_HEAD "\"seats\":[{\"seat\":\"seat01\",\"subnet\":\"10.0.0.0/24\",\"account\":\"a\",\"password\":\"p\"}]}",
         "seats[0].subnet: '10.0.0.0/24'"},
        {GOOD_HEAD "\"seats\":[{\"seat\":\"seat01\",\"subnet\":\"127.0.0.0/24\",\"account\":\"a\",\"password\":\"p\"}]}",
         "seats[0].subnet"},
        {GOOD_HEAD "\"seats\":[" SEAT(1, 1) ",{\"seat\":\"seat02\",\"subnet\":\"127.150.1.0/24\",\"account\":\"b\","
                   "\"password\":\"p\"}]}",
         "seats[1]: its subnet is seats[0]'s"},
        {GOOD_HEAD "\"seats\":[{\"seat\":\"seat01\",\"subnet\":\"127.150.1.0/24\",\"account\":\"CONTOSO\\\\TRAINER\","
                   "\"password\":\"p\"}]}",
         "the trainer's account"},
        {GOOD_HEAD "\"seats\":[{\"seat\":\"seat01\",\"subnet\":\"127.150.1.0/24\",\"account\":\"a\",\"password\":7}]}",
         "seats[0].password: not a string"},
        {"{\"version\":1,\"created\":\"x\",\"trainer\":{\"account\":\"a\",\"password\":\"p\"},"
         "\"plan\":{\"level\":1,\"seed\":-1}}",
         "plan.seed"},
        {"{\"version\":1,\"created\":\"x\",\"trainer\":{\"account\":\"a\",\"password\":\"p\"},"
         "\"plan\":{\"level\":1,\"seed\":1.5}}",
         "plan.seed"},
        {"{\"version\":1,\"created\":\"x\",\"trainer\":{\"account\":\"a\",\"password\":\"p\"},"
         "\"plan\":{\"level\":1,\"seed\":1e300}}",
         "plan.seed"},
        {"{\"version\":1,\"created\":\"x\",\"trainer\":{\"account\":\"a\",\"password\":\"p\"},"
         "\"plan\":{\"level\":1,\"same\":true}}",
         "plan.same: true without a seed"},
        {"{\"version\":1,\"created\":\"x\",\"trainer\":{\"account\":\"a\",\"password\":\"p\"},"
         "\"plan\":{\"level\":1,\"mistakes\":\"m3a;rm -rf /\"}}",
         "plan.mistakes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ws_classroom c;
        ws_error e = {""};
        if (parse(cases[i].text, &c, &e) == 0)
            fail_msg("case %zu was accepted: %s", i, cases[i].text);
        assert_null(c.seats);
        assert_contains(e.msg, cases[i].want);
    }
}

/* Too long a field, too many seats, too large a file, deep nesting. */
static void test_hostile(void **state)
{
    (void)state;
    ws_classroom c;
    ws_error e = {""};
    ws_buf b;
    ws_buf_init(&b, 4u << 20);
    ws_buf_adds(&b, "{\"version\":1,\"created\":\"x\",\"trainer\":{\"account\":\"");
    for (int i = 0; i < 100; i++)
        ws_buf_adds(&b, "a");
    ws_buf_adds(&b, "\",\"password\":\"p\"}}");
    ws_buf_add(&b, "", 1);
    assert_int_equal(parse((const char *)ws_buf_data(&b), &c, &e), -1);
    assert_contains(e.msg, "trainer.account: too long");
    ws_buf_free(&b);

    ws_buf_init(&b, 4u << 20);
    ws_buf_adds(&b, GOOD_HEAD "\"seats\":[");
    for (int i = 1; i <= 100; i++)
        ws_buf_addf(&b, "%s{\"seat\":\"seat%02d\",\"subnet\":\"127.150.%d.0/24\",\"account\":\"t%d\",\"password\":\"p\"}",
                    i > 1 ? "," : "", i, i, i);
    ws_buf_adds(&b, "]}");
    ws_buf_add(&b, "", 1);
    assert_int_equal(parse((const char *)ws_buf_data(&b), &c, &e), -1);
    assert_contains(e.msg, "seats: 100 seats (1 to 99)");
    ws_buf_free(&b);

    size_t big = WS_CLASSROOM_MAX_JSON + 1;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    assert_int_equal(ws_classroom_parse("/srv/class", huge, big, &c, &e), -1);
    assert_contains(e.msg, "larger than");
    /* Nesting deeper than cJSON's limit: refused as not JSON, not a crash. */
    size_t depth = 5000;
    for (size_t i = 0; i < depth; i++)
        huge[i] = '[';
    assert_int_equal(ws_classroom_parse("/srv/class", huge, depth, &c, &e), -1);
    free(huge);
}

/* A file on disk: load reads it, refuses one too large, and save writes it back 0600. */
static void test_load_save(void **state)
{
    (void)state;
    char dir[] = "/tmp/wapsim-test-classroom-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/classroom.json", dir);
    ws_error e = {""};
    ws_classroom c;
    assert_int_equal(ws_classroom_load(dir, &c, &e), -1);
    assert_contains(e.msg, "is not a classroom");
    const char *text = GOOD_HEAD "\"seats\":[" SEAT(1, 1) "]}";
    assert_int_equal(ws_write_file(path, text, strlen(text), 0600, &e), 0);
    assert_int_equal(ws_classroom_load(dir, &c, &e), 0);
    c.seed = 9;
    assert_int_equal(ws_classroom_save(&c, &e), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    ws_classroom back;
    assert_int_equal(ws_classroom_load(dir, &back, &e), 0);
    assert_true(back.seed == 9);
    assert_string_equal(back.created, "2026-12-07T10:00:00Z");
    assert_string_equal(back.seats[0].password, "pw1-abcdefgh");
    ws_classroom_free(&back);
    ws_classroom_free(&c);
    ws_test_rm_rf(dir);
}

/* The CSV: one seat's lab with attempts whose generator line holds a comma, a quote, a
 * line break and a formula. */
static void test_csv(void **state)
{
    (void)state;
    char dir[96], seat[128];
    ws_state *st = NULL;
    snprintf(dir, sizeof dir, "/tmp/wapsim-test-csv-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(seat, sizeof seat, "%s/seat01", dir);
    assert_int_equal(mkdir(seat, 0700), 0);
    ws_error e = {""};
    assert_int_equal(ws_state_open(seat, 1, &st, &e), 0);
    assert_int_equal(ws_state_exec(st, &e,
                                   "INSERT INTO exercises(scenario_hash, level, started_at, ended_at, hints, state, "
                                   "score, lab_instance, nonce, checks, generated) VALUES"
                                   "('abcdef0123456789', 2, 1796637600, 1796638500, 1, 'solved', 85, 'i', 'n1', 3,"
                                   " 'level=2 seed=1 faults=m3a,m1b@hv02'),"
                                   "('0123456789abcdef', 1, 1796638600, NULL, 0, 'active', NULL, 'i', 'n2', 0,"
                                   " '=HYPERLINK(\"x\")\nrow')",
                                   0),
                     0);
    ws_state_close(st);
    ws_classroom c = {.nseats = 1};
    snprintf(c.dir, sizeof c.dir, "%s", dir);
    ws_seat s = {.name = "seat01", .account = "CONTOSO\\trainee01"};
    snprintf(s.dir, sizeof s.dir, "%s", seat);
    c.seats = &s;
    ws_buf out;
    ws_buf_init(&out, 1 << 20);
    assert_int_equal(ws_classroom_results_csv(&c, &out, &e), 0);
    ws_buf_add(&out, "", 1);
    const char *csv = (const char *)ws_buf_data(&out);
    assert_contains(csv, "seat,account,attempt,exercise,level,generated,started_utc,ended_utc,minutes,hints,checks,"
                         "outcome,score\r\n");
    assert_contains(csv, "seat01,CONTOSO\\trainee01,1,abcdef012345,2,\"level=2 seed=1 faults=m3a,m1b@hv02\","
                         "2026-12-07T10:00:00Z,2026-12-07T10:15:00Z,15.0,1,3,solved,85\r\n");
    /* A formula is defused and quoted; its quote doubled; its line break kept inside the quotes. */
    assert_contains(csv, ",\"'=HYPERLINK(\"\"x\"\")\nrow\",");
    assert_contains(csv, ",active,\r\n");
    /* Another seat's lab is read, never written: a write through its handle fails. */
    assert_int_equal(ws_classroom_seat_open(&s, &st, &e), 0);
    assert_int_equal(ws_state_exec(st, &e, "DELETE FROM exercises", 0), -1);
    ws_state_close(st);
    assert_int_equal(ws_state_open(seat, 0, &st, &e), 0);
    char rows[8] = "";
    assert_int_equal(ws_state_text(st, rows, sizeof rows, &e, "SELECT count(*) FROM exercises", 0), 0);
    assert_string_equal(rows, "2");
    ws_state_close(st);
    ws_buf_free(&out);
    ws_test_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good), cmocka_unit_test(test_bad), cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_load_save), cmocka_unit_test(test_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
