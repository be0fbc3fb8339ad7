/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim scenario run | check | format | break: replays scenario files, each in a fresh lab of
 * its own (train/schedule.h runs them, train/runner.h replays one, train/report.h
 * writes the results), and prints the results as they come in. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "train/exercise.h"
#include "train/report.h"
#include "train/runner.h"
#include "train/schedule.h"
#include "train/scenario.h"
#include "train/subprocess.h"

/* ---- options ---- */

static int take_jobs(void *dest, const char *value)
{
    int64_t v;
    if (ws_opt_int(value, 1, WS_SCHED_MAX_JOBS, &v) != 0)
        return ws_cmd_usage_error("bad -j '%s' (1..%d scenarios at once)", value, WS_SCHED_MAX_JOBS);
    *(int *)dest = (int)v;
    return 0;
}

typedef struct shard {
    int i, n;
} shard;

static int take_shard(void *dest, const char *value)
{
    shard *s = dest;
    char tail;
    if (sscanf(value, "%d/%d%c", &s->i, &s->n, &tail) != 2 || s->n < 1 || s->i < 1 || s->i > s->n)
        return ws_cmd_usage_error("bad --shard '%s' (I/N with 1 <= I <= N, as 2/4)", value);
    return 0;
}

static int take_tag(void *dest, const char *value)
{
    if (ws_strv_add(dest, value) != 0)
        abort();
    return 0;
}

/* -j N, -jN and -v (alone or together, as -vj 2) as --jobs and --verbose, since the
 * option parser takes long options only. The value of an option is left alone. */
static void long_options(int argc, char **argv, ws_strv *out)
{
    static const char *const valued[] = {"--jobs", "--shard", "--junit", "--filter", "--timeout", "--lab"};
    int value_next = 0, done = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int plain = i == 0 || value_next || done || a[0] != '-' || a[1] == '\0' || a[1] == '-';
        value_next = 0;
        if (strcmp(a, "--") == 0)
            done = 1;
        for (size_t k = 0; plain && !done && k < sizeof valued / sizeof valued[0]; k++)
            value_next |= strcmp(a, valued[k]) == 0;
        if (plain) {
            if (ws_strv_add(out, a) != 0)
                abort();
            continue;
        }
        for (const char *p = a + 1; *p; p++) {
            int rc;
            if (*p == 'v') {
                rc = ws_strv_add(out, "--verbose");
            } else if (*p == 'j' && p[1]) {
                rc = ws_strv_addf(out, "--jobs=%s", p + 1);
                p += strlen(p) - 1;
            } else if (*p == 'j') {
                rc = ws_strv_add(out, "--jobs");
                value_next = 1;
            } else {
                rc = ws_strv_addf(out, "-%s", p); /* not ours: the parser names it */
                p += strlen(p) - 1;
            }
            if (rc != 0)
                abort();
        }
    }
}

/* ---- run ---- */

typedef struct printer {
    ws_report_opts ro;
    int passed, failed;
} printer;

static void print_result(void *ctx, int index, const ws_scenario *sc, const ws_scn_result *res)
{
    printer *p = ctx;
    p->passed += res->passed;
    p->failed += !res->passed;
    ws_buf b;
    ws_buf_init(&b, WS_BUF_MAX_REPORT);
    ws_report_result(&b, &p->ro, index + 1, sc, res);
    fputs(ws_buf_str(&b), stdout);
    fflush(stdout);
    ws_buf_free(&b);
}

static void print_text(void (*fn)(ws_buf *, const ws_report_opts *, int, int), const ws_report_opts *o, int a,
                       int b)
{
    ws_buf out;
    ws_buf_init(&out, WS_BUF_MAX_REPORT);
    fn(&out, o, a, b);
    fputs(ws_buf_str(&out), stdout);
    ws_buf_free(&out);
}

static void plan(ws_buf *out, const ws_report_opts *o, int n, int unused)
{
    (void)unused;
    ws_report_plan(out, o, n);
}

/* Runs the selected scenarios; the exit status. */
static int run_selected(ws_scenario **sel, int n, const ws_sched_opts *so, const char *junit, printer *p)
{
    ws_sched s;
    ws_error e;
    /* Each step, connect and diagnose runs in a forked copy of this program rather than
     * a new exec of it: the same code and arguments, without loading it again. */
    ws_subprocess_set_main(ws_cli_main);
    if (ws_sched_begin(&s, n, &e) != 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_USAGE;
    }
    print_text(plan, &p->ro, n, 0);
    ws_scn_result *res = calloc((size_t)(n ? n : 1), sizeof *res);
    if (!res)
        abort();
    int64_t t0 = ws_mono_ms();
    ws_sched_run(&s, sel, n, so, res, print_result, p);
    double total = (double)(ws_mono_ms() - t0) / 1000.0;
    print_text(ws_report_summary, &p->ro, p->passed, p->failed);
    if (junit && ws_report_junit(junit, sel, res, n, total, &e) != 0) {
        ws_warn("--junit: %s", e.msg);
        if (!p->failed)
            p->failed = 1;
    }
    ws_sched_end(&s);
    for (int i = 0; i < n; i++)
        ws_scn_result_clear(&res[i]);
    free(res);
    int sig = ws_sched_interrupted();
    return sig ? 128 + sig : p->failed ? WS_EXIT_FAIL : 0;
}

/* Parse errors, one line each, on stderr. */
static void print_errors(const ws_scn_errors *errs, int from)
{
    for (int i = from; i < errs->n; i++)
        fprintf(stderr, "%s\n", errs->v[i]);
}

static int scenario_run(int argc, char **argv)
{
    ws_sched_opts so = {.jobs = 1, .timeout_s = WS_RUNNER_TIMEOUT_S};
    shard sh = {1, 1};
    const char *junit = NULL;
    printer p = {0};
    ws_strv tags = {0}, args = {0}, paths = {0};
    const ws_opt opts[] = {WS_OPT_CALL("jobs", &so.jobs, take_jobs),
                           WS_OPT_CALL("shard", &sh, take_shard),
                           WS_OPT_STR("junit", &junit),
                           WS_OPT_FLAG("tap", &p.ro.tap),
                           WS_OPT_FLAG("keep", &so.keep),
                           WS_OPT_CALL("filter", &tags, take_tag),
                           WS_OPT_INT("timeout", &so.timeout_s, 1, 3600, "seconds"),
                           WS_OPT_FLAG("verbose", &p.ro.verbose),
                           WS_OPT_END};
    long_options(argc, argv, &args);
    ws_cli cli;
    int rc = ws_opt_parse(args.n, args.v, opts, 0, 0, -1, &cli);
    ws_error e;
    /* No path: the shipped scenarios, found as the exercise catalogue is (exercise.h). */
    char shipped[4096];
    ws_exercise_catalogue_dir(NULL, shipped, sizeof shipped);
    char *default_dir[] = {shipped};
    if (rc == 0 && (cli.argc ? ws_sched_collect(cli.argc, cli.argv, &paths, &e)
                             : ws_sched_collect(1, default_dir, &paths, &e)) != 0)
        rc = ws_cmd_usage_error("%s", e.msg);
    if (rc) {
        ws_strv_free(&tags);
        ws_strv_free(&args);
        ws_strv_free(&paths);
        return rc;
    }
    /* Every file parses, or nothing runs. */
    ws_scenario **all;
    ws_scn_errors errs = {0};
    if (ws_sched_load(&paths, &all, &errs) != 0) {
        print_errors(&errs, 0);
        rc = WS_EXIT_USAGE;
    } else {
        ws_scenario **sel = calloc((size_t)(paths.n ? paths.n : 1), sizeof *sel);
        if (!sel)
            abort();
        int n = ws_sched_select(all, paths.n, &tags, sh.i, sh.n, sel);
        rc = run_selected(sel, n, &so, junit, &p);
        free(sel);
    }
    ws_scn_errors_free(&errs);
    for (int i = 0; i < paths.n; i++)
        ws_scenario_free(all[i]);
    free(all);
    ws_strv_free(&tags);
    ws_strv_free(&args);
    ws_strv_free(&paths);
    return rc;
}

/* ---- check, format ---- */

static int scenario_check(int argc, char **argv)
{
    const ws_opt opts[] = {WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, 0, 0, -1, &cli);
    if (rc)
        return rc;
    if (cli.argc == 0)
        return ws_cmd_usage_error("which files? (wapsim scenario check FILE|DIR...)");
    ws_strv paths = {0};
    ws_error e;
    if (ws_sched_collect(cli.argc, cli.argv, &paths, &e) != 0) {
        ws_strv_free(&paths);
        return ws_cmd_usage_error("%s", e.msg);
    }
    ws_scn_errors errs = {0};
    int bad = 0;
    for (int i = 0; i < paths.n; i++) {
        ws_scenario *sc;
        int before = errs.n;
        if (ws_scenario_load(paths.v[i], &sc, &errs) == 0) {
            ws_buf b;
            ws_buf_init(&b, WS_BUF_MAX_REPORT);
            ws_report_check(&b, paths.v[i], sc);
            fputs(ws_buf_str(&b), stdout);
            ws_buf_free(&b);
            ws_scenario_free(sc);
        } else {
            bad++;
            print_errors(&errs, before);
        }
    }
    ws_strv_free(&paths);
    ws_scn_errors_free(&errs);
    return bad ? WS_EXIT_USAGE : 0;
}

static int scenario_format(int argc, char **argv)
{
    const ws_opt opts[] = {WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, 0, 0, 0, &cli);
    if (rc)
        return rc;
    fputs(ws_scenario_format_help, stdout);
    return 0;
}

/* ---- break ---- */

static volatile sig_atomic_t break_stop;

static void on_break_signal(int sig)
{
    break_stop = sig;
}

static void print_break(const cJSON *o)
{
    printf("The lab %s (subnet %s) is up, broken as %s: %d step%s ran.\n", ws_cmd_json_str(o, "lab"),
           ws_cmd_json_str(o, "subnet"), ws_cmd_json_str(o, "scenario"), cJSON_GetObjectItem(o, "steps")->valueint,
           cJSON_GetObjectItem(o, "steps")->valueint == 1 ? "" : "s");
    printf("Its transcript: %s/scenario/transcript.log. Hand it over with\n"
           "  wapsim --lab %s lab export OUT\n"
           "and stop it with: wapsim --lab %s down\n",
           ws_cmd_json_str(o, "lab"), ws_cmd_json_str(o, "lab"), ws_cmd_json_str(o, "lab"));
}

static int scenario_break(int argc, char **argv)
{
    int timeout_s = WS_RUNNER_TIMEOUT_S;
    const ws_opt opts[] = {WS_OPT_INT("timeout", &timeout_s, 1, 3600, "seconds"), WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, WS_OPT_JSON, "which scenario? (wapsim scenario break FILE)", &cli);
    if (rc)
        return rc;
    ws_scenario *sc;
    ws_scn_errors errs = {0};
    if (ws_scenario_load(cli.argv[0], &sc, &errs) != 0) {
        print_errors(&errs, 0);
        ws_scn_errors_free(&errs);
        return WS_EXIT_USAGE;
    }
    ws_scn_errors_free(&errs);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_break_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    ws_runner_break_opts o = {.dir = cli.lab ? cli.lab : ws_cli_lab, .timeout_s = timeout_s, .stop = &break_stop};
    ws_runner_break_result res;
    int r = ws_runner_break(sc, &o, &res);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (r == -2) {
        rc = ws_cmd_usage_error("%s", res.message ? res.message : "no lab was made");
    } else if (r != 0) {
        ws_warn("%s", res.message ? res.message : "the scenario's steps failed");
        ws_warn("the lab is down and kept for inspection: %s (transcript: %s/scenario/transcript.log)", res.lab,
                res.lab);
        rc = WS_EXIT_FAIL;
    } else {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "lab", res.lab);
        cJSON_AddStringToObject(out, "subnet", res.subnet);
        cJSON_AddStringToObject(out, "scenario", sc->name);
        cJSON_AddNumberToObject(out, "steps", res.steps);
        rc = ws_cmd_output(cli.json, out, print_break);
    }
    ws_runner_break_result_clear(&res);
    ws_scenario_free(sc);
    return rc;
}

const ws_cmd ws_cmds_scenario[] = {
    {"scenario", "run", scenario_run,
     "[FILE|DIR...] [-j N] [--shard I/N] [--junit FILE] [--tap] [--keep] [--filter TAG] [--timeout S] [-v]",
     "Replay scenario files, each in a fresh lab of its own; N passed, N failed.",
     "A DIR stands for its *.scn files (sorted, not recursive). Without one, the shipped\n"
     "scenarios: $WAPSIM_SCENARIOS, else the source tree's scenarios/ beside build/, else an\n"
     "installed wapsim's PREFIX/share/wapsim/scenarios, else ./scenarios.\n"
     "Every file is parsed first: any syntax error is printed as FILE:LINE: MESSAGE and\n"
     "nothing runs (exit 2). Each scenario then gets a new lab in $TMPDIR (keys copied\n"
     "from the key template) on a subnet of 127.160.0.0-127.191.255.0 no other lab uses,\n"
     "brought up, its lines run in order until the first that fails, taken down and\n"
     "removed. One line per scenario, in file order:\n"
     "  ok   NAME (3.2 s)\n"
     "  FAIL NAME: FILE:LINE: LINE AS WRITTEN: what happened\n"
     "followed, for a failure, by its transcript (commands, their output, each expect);\n"
     "the last line is \"N passed, N failed\". Exit 1 when any failed.\n"
     "  -j, --jobs N      run N scenarios side by side (default 1)\n"
     "  --shard I/N       run only the I-th of N shares: the k-th selected scenario (in\n"
     "                    file order, counting from 0) belongs to share k mod N + 1, so\n"
     "                    --shard 1/N ... N/N on N machines run each scenario once\n"
     "  --junit FILE      also write JUnit XML (one testsuite, a testcase per scenario,\n"
     "                    classname wapsim.scenarios, the transcript as system-out)\n"
     "  --tap             TAP instead of the lines above (summary as a # comment)\n"
     "  --keep            keep a failed scenario's lab (stopped) and print its path; its\n"
     "                    scenario/ folder holds the transcript and each command's output\n"
     "  --filter TAG      only scenarios with this tag (repeat: any of them)\n"
     "  --timeout S       kill a step or connect after S seconds (default 120)\n"
     "  -v, --verbose     print every scenario's transcript, not only failures'\n"
     "The file format: wapsim scenario format.\n"},
    {"scenario", "check", scenario_check, "FILE|DIR...", "Parse scenario files without running them.",
     "Prints \"ok FILE: N steps, N connects, N expects\" for each good file and\n"
     "FILE:LINE: MESSAGE for each error; exit 2 when any file has an error.\n"
     "The file format: wapsim scenario format.\n"},
    {"scenario", "break", scenario_break, "FILE [--lab DIR] [--timeout S] [--json]",
     "Make a lab broken as a scenario breaks it, and leave it running to hand over.",
     "How a trainer makes a broken lab for a colleague or a customer's engineer: the\n"
     "scenario's own mistake, made as `wapsim scenario run` makes it, in a lab that stays\n"
     "up; hand it over with `wapsim --lab DIR lab export OUT` (README: handing a broken\n"
     "lab over). A fresh lab is made as the runner makes one (the default world, keys\n"
     "from the key template, a subnet of 127.160.0.0-127.191.255.0 no running lab uses)\n"
     "in DIR (missing or empty), else in a new folder of $TMPDIR; it is brought up and\n"
     "the scenario's lines run in order up to, not including, its first connect or\n"
     "expect line. The lab's path is printed; each command's output and the transcript\n"
     "are in its scenario/ folder. A step that fails stops it: its line and the\n"
     "runner's message are printed, the lab is taken down and kept for inspection\n"
     "(its path printed), exit 1. A file that does not parse, or a DIR that is not\n"
     "empty: one line, exit 2.\n"
     "  --lab DIR     where the lab goes (also `wapsim --lab DIR scenario break FILE`)\n"
     "  --timeout S   kill a step after S seconds (default 120)\n"
     "  --json        {\"lab\",\"subnet\",\"scenario\",\"steps\"}\n"},
    {"scenario", "format", scenario_format, "", "The scenario file format: every line kind, target and operator.",
     NULL},
    {0},
};
