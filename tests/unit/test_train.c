/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/train/subprocess.c (exit status, captured output, the bound, the
 * timeout that kills the process group, the stop flag), sim/train/report.c (the result
 * lines, JUnit escaping) and the scenario parser's lists (sim/train/scenario.c).
 *
 * ws_subprocess_run runs the running program itself, so this binary is also the child:
 * called as `test_train --lab LAB MODE [ARG]` it acts out MODE instead of testing. */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "harness.h"

#include "base/util.h"
#include "train/report.h"
#include "train/scenario.h"
#include "train/repair.h"
#include "train/subprocess.h"

/* ---- the child's modes ---- */

static void child_main(int argc, char **argv)
{
    const char *mode = argc > 3 ? argv[3] : "";
    if (strcmp(mode, "echo") == 0) {
        printf("out %s\n", argc > 4 ? argv[4] : "");
        fflush(stdout);
        fprintf(stderr, "err line\n");
        _exit(3);
    }
    if (strcmp(mode, "nul") == 0) {
        fwrite("a\0b", 1, 3, stdout);
        fflush(stdout);
        _exit(0);
    }
    if (strcmp(mode, "flood") == 0) {
        static char block[65536];
        memset(block, 'x', sizeof block);
        for (int i = 0; i < 40; i++) /* 2.5 MiB, more than a pipe and than the bound */
            if (write(1, block, sizeof block) < 0)
                _exit(1);
        _exit(0);
    }
    if (strcmp(mode, "hang") == 0) {
        /* A grandchild in the same process group writes its pid where the test reads it. */
        pid_t g = fork();
        if (g == 0) {
            sleep(60);
            _exit(0);
        }
        FILE *f = fopen(argv[4], "w");
        if (f) {
            fprintf(f, "%d\n", (int)g);
            fclose(f);
        }
        sleep(60);
        _exit(0);
    }
    _exit(99);
}

/* ---- subprocess ---- */

static int run(char **args, int n, int timeout_s, int merge, volatile sig_atomic_t *stop, ws_subprocess_result *r)
{
    ws_subprocess p = {.lab = "LAB", .args = args, .nargs = n, .timeout_s = timeout_s, .merge = merge, .stop = stop};
    return ws_subprocess_run(&p, r);
}

static void test_exit_and_output(void **state)
{
    (void)state;
    ws_subprocess_result r;
    char *args[] = {"echo", "hello world"};
    assert_int_equal(run(args, 2, 10, 0, NULL, &r), 3);
    assert_string_equal(ws_buf_str(&r.out), "out hello world\n");
    assert_string_equal(ws_buf_str(&r.err), "err line\n");
    ws_subprocess_result_free(&r);

    assert_int_equal(run(args, 2, 10, 1, NULL, &r), 3);
    assert_string_equal(ws_buf_str(&r.out), "out hello world\nerr line\n");
    assert_int_equal(ws_buf_len(&r.err), 0);
    ws_subprocess_result_free(&r);
}

static void test_nul_bytes_read_as_spaces(void **state)
{
    (void)state;
    ws_subprocess_result r;
    char *args[] = {"nul"};
    assert_int_equal(run(args, 1, 10, 0, NULL, &r), 0);
    assert_int_equal(ws_buf_len(&r.out), 3);
    assert_string_equal(ws_buf_str(&r.out), "a b");
    ws_subprocess_result_free(&r);
}

static void test_output_is_bounded(void **state)
{
    (void)state;
    ws_subprocess_result r;
    char *args[] = {"flood"};
    assert_int_equal(run(args, 1, 30, 0, NULL, &r), 0);
    assert_int_equal(ws_buf_len(&r.out), WS_BUF_MAX_SUBPROCESS);
    assert_int_equal(r.truncated, 1);
    ws_subprocess_result_free(&r);
}

static void test_timeout_kills_the_group(void **state)
{
    (void)state;
    char path[] = "/tmp/test_train.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ws_subprocess_result r;
    char *args[] = {"hang", path};
    int64_t t0 = ws_mono_ms();
    assert_int_equal(run(args, 2, 1, 0, NULL, &r), WS_SUBPROCESS_TIMED_OUT);
    int64_t took = ws_mono_ms() - t0;
    assert_true(took >= 1000 && took < 10000);
    ws_subprocess_result_free(&r);
    FILE *f = fopen(path, "r");
    int g = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &g), 1);
    fclose(f);
    unlink(path);
    /* The grandchild was killed with its parent; it is a zombie of init at most. */
    int gone = 0;
    for (int i = 0; i < 100 && !gone; i++) {
        char stat[64], buf[256] = "";
        snprintf(stat, sizeof stat, "/proc/%d/stat", g);
        FILE *s = fopen(stat, "r");
        gone = !s || !fgets(buf, sizeof buf, s) || strstr(buf, ") Z ") != NULL;
        if (s)
            fclose(s);
        if (!gone)
            ws_sleep_ms(20);
    }
    assert_true(gone);
}

static void test_stop_flag_kills(void **state)
{
    (void)state;
    volatile sig_atomic_t stop = SIGINT;
    ws_subprocess_result r;
    char *args[] = {"hang", "/dev/null"};
    assert_int_equal(run(args, 2, 30, 0, &stop, &r), WS_SUBPROCESS_SIGNAL + SIGKILL);
    ws_subprocess_result_free(&r);
}

/* ---- report ---- */

static ws_scenario *parse(const char *text)
{
    ws_scenario *sc = NULL;
    ws_scn_errors errs = {0};
    int rc = ws_scenario_parse("t.scn", text, &sc, &errs);
    for (int i = 0; i < errs.n; i++)
        print_message("%s\n", errs.v[i]);
    ws_scn_errors_free(&errs);
    assert_int_equal(rc, 0);
    return sc;
}

static void test_report_lines(void **state)
{
    (void)state;
    ws_scenario *sc = parse("title T\nstep cert list\n");
    ws_scn_result ok = {.done = 1, .passed = 1, .seconds = 3.21, .transcript = "[2] step cert list\n"};
    ws_scn_result bad = {.done = 1, .message = "t.scn:2: step cert list: exit 2", .transcript = "one\ntwo\n"};
    ws_report_opts text = {0}, tap = {.tap = 1};
    ws_buf b;
    ws_buf_init(&b, WS_BUF_MAX_REPORT);
    ws_report_result(&b, &text, 1, sc, &ok);
    ws_report_result(&b, &text, 2, sc, &bad);
    ws_report_summary(&b, &text, 1, 1);
    assert_string_equal(ws_buf_str(&b), "ok   t (3.2 s)\nFAIL t: t.scn:2: step cert list: exit 2\n    one\n    two\n"
                                        "1 passed, 1 failed\n");
    ws_buf_reset(&b);
    ws_report_plan(&b, &tap, 2);
    ws_report_result(&b, &tap, 1, sc, &ok);
    ws_report_result(&b, &tap, 2, sc, &bad);
    ws_report_summary(&b, &tap, 1, 1);
    assert_string_equal(ws_buf_str(&b), "1..2\nok 1 - t (3.2 s)\nnot ok 2 - t: t.scn:2: step cert list: exit 2\n"
                                        "# one\n# two\n# 1 passed, 1 failed\n");
    ws_buf_reset(&b);
    ws_report_check(&b, "t.scn", sc);
    assert_string_equal(ws_buf_str(&b), "ok   t.scn: 1 step, 0 connects, 0 expects: T\n");
    ws_buf_free(&b);
    ws_scenario_free(sc);
}

static void test_junit_escapes(void **state)
{
    (void)state;
    ws_scenario *sc = parse("step cert list\n");
    ws_scn_result res = {.done = 1,
                         .message = "got '<a & \"b\">'",
                         .transcript = "bad byte \xff, ctl \x01, ok \xc3\xa9\n"};
    char path[] = "/tmp/test_train.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ws_error e;
    assert_int_equal(ws_report_junit(path, &sc, &res, 1, 1.5, &e), 0);
    unsigned char *data;
    size_t len;
    assert_int_equal(ws_read_file(path, 1 << 20, &data, &len, &e), 0);
    unlink(path);
    const char *x = (const char *)data;
    assert_non_null(strstr(x, "tests=\"1\" failures=\"1\" errors=\"0\" time=\"1.500\""));
    assert_non_null(strstr(x, "<failure message=\"got &apos;&lt;a &amp; &quot;b&quot;&gt;&apos;\" type=\"scenario\">"));
    assert_non_null(strstr(x, "bad byte ?, ctl ?, ok \xc3\xa9\n</system-out>"));
    free(data);
    ws_scenario_free(sc);
}

/* ---- the parser's lists ---- */

static void test_parse_tags_doc_ticket(void **state)
{
    (void)state;
    ws_scenario *sc = parse("tags a, b c\ndoc first\n  second\n\n  third\nticket help\n  more\nstep cert list 'x y'\n");
    assert_int_equal(sc->tags.n, 3);
    assert_string_equal(sc->tags.v[2], "c");
    assert_true(ws_scenario_has_tag(sc, "b"));
    assert_string_equal(sc->doc, "first\nsecond\n\nthird");
    assert_string_equal(sc->ticket, "help\nmore");
    assert_int_equal(sc->nlines, 1);
    assert_int_equal(sc->lines[0].u.step.argc, 3);
    assert_string_equal(sc->lines[0].u.step.argv[2], "x y");
    ws_scenario_free(sc);

    ws_scn_errors errs = {0};
    assert_int_equal(ws_scenario_parse("bad.scn", "titel x\nstep\n", &sc, &errs), -1);
    assert_int_equal(errs.n, 2);
    assert_string_equal(errs.v[0], "bad.scn:1: unknown key 'titel' (did you mean 'title'?)");
    ws_scn_errors_free(&errs);
}

/* ---- diagnose --fix: a fix line into words ---- */

static void test_fix_line_argv(void **state)
{
    (void)state;
    ws_strv v;
    ws_error e = {""};
    assert_int_equal(ws_fix_line_argv("wapsim cert new a-new --subject \"CN=Remote Console Connect\" --csp "
                                      "\"Microsoft Enhanced RSA and AES Cryptographic Provider\" --self-signed",
                                      &v, &e),
                     0);
    assert_int_equal(v.n, 8);
    assert_string_equal(v.v[0], "cert");
    assert_string_equal(v.v[4], "CN=Remote Console Connect");
    assert_string_equal(v.v[6], "Microsoft Enhanced RSA and AES Cryptographic Provider");
    ws_strv_free(&v);
    /* A comment ends the command, as in sh; quoted words keep what sh keeps. */
    assert_int_equal(ws_fix_line_argv("wapsim vmm refresh-host hv01   # on vmm01", &v, &e), 0);
    assert_int_equal(v.n, 3);
    ws_strv_free(&v);
    assert_int_equal(ws_fix_line_argv("wapsim cert new x --subject 'CN=a; b'", &v, &e), 0);
    assert_string_equal(v.v[4], "CN=a; b");
    ws_strv_free(&v);
    /* Not runnable: not wapsim, a shell operator or expansion, an open quote, nothing. */
    const char *bad[] = {"PowerShell: Restart-Service TSGateway", "wapsim up; rm -rf x", "wapsim cert show $(id)",
                         "wapsim cert show \"$HOME\"", "wapsim cert show <NAME>", "wapsim cert show \"x",
                         "wapsim ", "wapsim # nothing"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e.msg[0] = '\0';
        if (ws_fix_line_argv(bad[i], &v, &e) == 0)
            fail_msg("'%s' was taken as runnable", bad[i]);
        assert_true(e.msg[0] != '\0');
        ws_strv_free(&v);
    }
}

int main(int argc, char **argv)
{
    if (argc > 3 && strcmp(argv[1], "--lab") == 0)
        child_main(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_and_output),       cmocka_unit_test(test_nul_bytes_read_as_spaces),
        cmocka_unit_test(test_output_is_bounded),     cmocka_unit_test(test_timeout_kills_the_group),
        cmocka_unit_test(test_stop_flag_kills),       cmocka_unit_test(test_report_lines),
        cmocka_unit_test(test_junit_escapes),         cmocka_unit_test(test_parse_tags_doc_ticket),
        cmocka_unit_test(test_fix_line_argv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
