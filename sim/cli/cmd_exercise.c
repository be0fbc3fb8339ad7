/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim exercise: training on the running lab (train/exercise.h has the model and does
 * the work). list, start, hint, status, check, give-up, history. Exit 0 on success, 1
 * when check finds consoles still failing (or the attempt void), 2 for a usage error or
 * no exercise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "svc/supervisor.h"
#include "train/diagnose.h"
#include "train/exercise.h"
#include "train/generate.h"

typedef struct xopts {
    const char *lab, *catalogue, *scenario, *mistake;
    int json, trainer, reveal, level, allow_diagnose, has_seed, generate;
    unsigned long long seed;
} xopts;

static int take_level(void *dest, const char *value)
{
    if (strcmp(value, "1") && strcmp(value, "2") && strcmp(value, "3"))
        return ws_cmd_usage_error("option '--level' is 1, 2 or 3, not '%s'", value);
    ((xopts *)dest)->level = atoi(value);
    return 0;
}

static int take_seed(void *dest, const char *value)
{
    xopts *o = dest;
    char *end;
    errno = 0;
    o->seed = strtoull(value, &end, 10);
    /* strtoull takes "-5" (as 2^64 - 5) and leading spaces: a seed is digits only. */
    if (*value < '0' || *value > '9' || *end || errno)
        return ws_cmd_usage_error("option '--seed' needs a number, not '%s'", value);
    o->has_seed = 1;
    return 0;
}

/* Every subcommand knows every option, so one that does not apply is named as such.
 * allowed: the letters of the options this subcommand takes (j t r c L s S a g m, as below). */
static int parse_opts(int argc, char **argv, const char *allowed, xopts *o)
{
    memset(o, 0, sizeof *o);
    const ws_opt opts[] = {WS_OPT_FLAG("trainer", &o->trainer),
                           WS_OPT_FLAG("reveal", &o->reveal),
                           WS_OPT_STR("catalogue", &o->catalogue),
                           WS_OPT_CALL("level", o, take_level),
                           WS_OPT_CALL("seed", o, take_seed),
                           WS_OPT_STR("scenario", &o->scenario),
                           WS_OPT_FLAG("allow-diagnose", &o->allow_diagnose),
                           WS_OPT_FLAG("generate", &o->generate),
                           WS_OPT_STR("mistake", &o->mistake),
                           WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, WS_OPT_JSON, 0, 0, &cli);
    if (rc)
        return rc;
    o->lab = cli.lab;
    o->json = cli.json;
    const struct {
        char letter;
        const char *name;
        int given;
    } given[] = {{'j', "--json", o->json},
                 {'t', "--trainer", o->trainer},
                 {'r', "--reveal", o->reveal},
                 {'c', "--catalogue", o->catalogue != NULL},
                 {'L', "--level", o->level != 0},
                 {'s', "--seed", o->has_seed},
                 {'S', "--scenario", o->scenario != NULL},
                 {'a', "--allow-diagnose", o->allow_diagnose},
                 {'g', "--generate", o->generate},
                 {'m', "--mistake", o->mistake != NULL}};
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++)
        if (given[i].given && !strchr(allowed, given[i].letter))
            return ws_cmd_usage_error("option '%s' does not apply to exercise %s", given[i].name, argv[0]);
    if (strchr(allowed, 'g') && o->mistake && !o->generate)
        return ws_cmd_usage_error("option '--mistake' needs --generate");
    if (o->generate && (o->scenario || o->catalogue))
        return ws_cmd_usage_error("option '%s' does not go with --generate", o->scenario ? "--scenario" : "--catalogue");
    return 0;
}

/* Finds the attempt in the open lab; prints the error, closes the lab and returns
 * non-zero when there is none (2) or it is void (1, after marking it so). */
static int find_attempt(ws_state *st, ws_attempt *a)
{
    ws_attempt_status s = ws_exercise_current(st, a);
    if (s == WS_ATTEMPT_ACTIVE)
        return 0;
    if (s == WS_ATTEMPT_NONE)
        return ws_cmd_close(st, ws_cmd_usage_error("no exercise in progress (wapsim exercise start)"));
    ws_exercise_void(st, a);
    printf("The exercise is void: the lab was re-created or its lab.db replaced since the exercise started,\n"
           "so it was not repaired. Start a new one with 'wapsim exercise start'.\n");
    return ws_cmd_close(st, WS_EXIT_FAIL);
}

/* parse_opts, then the lab, and with a the attempt in progress (find_attempt): 0
 * with *st open (the caller closes it), or the exit status with nothing open. */
static int open_for(int argc, char **argv, const char *allowed, xopts *o, ws_state **st, ws_attempt *a)
{
    int rc = parse_opts(argc, argv, allowed, o);
    if (rc == 0)
        rc = ws_cmd_open_lab(o->lab, st);
    if (rc == 0 && a)
        rc = find_attempt(*st, a);
    return rc;
}

/* ---- list ---- */

static int ex_list(int argc, char **argv)
{
    xopts o;
    int rc = parse_opts(argc, argv, "jtrcL", &o);
    if (rc)
        return rc;
    /* The title names the fault: shown only to a trainer who asks (--reveal). */
    int reveal = o.reveal || o.trainer;
    ws_exercise *c;
    int n, shown = 0;
    ws_exercise_catalogue(o.catalogue, &c, &n, NULL);
    cJSON *arr = o.json ? cJSON_CreateArray() : NULL;
    if (!o.json)
        printf("%-14s %-6s%s\n", "ID", "LEVEL", reveal ? "TITLE (FILE)" : "");
    for (int i = 0; i < n; i++) {
        if (o.level && c[i].level != o.level)
            continue;
        shown++;
        const char *title = c[i].sc->title ? c[i].sc->title : "";
        if (o.json) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "id", c[i].id);
            cJSON_AddNumberToObject(x, "level", c[i].level);
            if (reveal) {
                cJSON_AddStringToObject(x, "title", title);
                cJSON_AddStringToObject(x, "file", c[i].path);
            }
            cJSON_AddItemToArray(arr, x);
        } else if (reveal) {
            printf("%-14s %-6d%s (%s)\n", c[i].id, c[i].level, title, c[i].path);
        } else {
            printf("%-14s %d\n", c[i].id, c[i].level);
        }
    }
    if (o.json)
        ws_cmd_print_json(arr);
    else
        printf("%d exercise%s\n", shown, shown == 1 ? "" : "s");
    ws_exercise_catalogue_free(c, n);
    return 0;
}

/* ---- start ---- */

static void print_ticket(const ws_exercise *x)
{
    printf("Ticket (level %d, exercise %s):\n\n", x->level, x->id);
    ws_cmd_print_indented(x->sc->ticket);
    printf("\nRepair the lab with operator commands, then run 'wapsim exercise check'.\n");
}

/* The exercise --scenario FILE names, or one from the catalogue; 0 or the exit status. */
static int choose(const xopts *o, ws_exercise *x)
{
    ws_error e;
    if (!o->scenario) {
        if (ws_exercise_pick(o->catalogue, o->level, o->has_seed ? &o->seed : NULL, x, &e) != 0)
            return ws_cmd_usage_error("%s", e.msg);
        return 0;
    }
    ws_scn_errors errs = {0};
    if (ws_exercise_load(o->scenario, x, &errs) != 0) {
        for (int i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.v[i]);
        ws_scn_errors_free(&errs);
        return WS_EXIT_USAGE;
    }
    if (o->level && o->level != x->level) {
        int level = x->level;
        ws_exercise_clear(x);
        return ws_cmd_usage_error("the file's exercise is level %d, not %d", level, o->level);
    }
    return 0;
}

/* The generator's request from the options. */
static ws_gen_request gen_request(const xopts *o)
{
    ws_gen_request req = {o->level, o->seed, o->has_seed, o->mistake};
    return req;
}

/* exercise start --generate: generate, break, write the ticket from what the tenants see,
 * record the attempt with the final text; 0 or the exit status. */
static int start_generated(ws_state *st, const xopts *o, ws_exercise *x)
{
    ws_gen_request req = gen_request(o);
    ws_generated g;
    ws_error e;
    if (ws_gen_make(st, &req, &g, &e) != 0)
        return ws_cmd_usage_error("%s", e.msg);
    int rc = 0;
    if (ws_gen_exercise(&g, x, &e) != 0) {
        rc = ws_cmd_usage_error("%s", e.msg);
    } else if (ws_exercise_break(st, x, &e) != 0) {
        fprintf(stderr, "wapsim: the exercise could not be set up (%s; %s); the lab may be half broken: "
                        "re-create it with lab destroy and lab init\n", e.msg, g.line);
        rc = WS_EXIT_FAIL;
    } else {
        ws_exercise_clear(x);
        if (ws_gen_ticket(st, &g, &e) != 0 || ws_gen_exercise(&g, x, &e) != 0 ||
            ws_exercise_begin(st, x, o->allow_diagnose, &e) != 0)
            rc = ws_cmd_usage_error("%s", e.msg);
        else
            printf("Generated: level %d, seed %llu (the same seed gives the same exercise).\n", g.level, g.seed);
    }
    ws_gen_free(&g);
    return rc;
}

static int ex_start(int argc, char **argv)
{
    xopts o;
    ws_state *st;
    int rc = open_for(argc, argv, "cLsSagm", &o, &st, NULL);
    if (rc)
        return rc;
    ws_attempt a;
    ws_exercise x;
    memset(&x, 0, sizeof x);
    ws_error e;
    if (ws_exercise_current(st, &a) == WS_ATTEMPT_ACTIVE)
        rc = ws_cmd_usage_error("an exercise is already in progress (wapsim exercise check, or give-up)");
    else if (ws_supervisor_pid(st) == 0)
        rc = ws_cmd_usage_error("the lab is not running (wapsim up)");
    else if (o.generate) {
        if ((rc = start_generated(st, &o, &x)) == 0)
            print_ticket(&x);
        ws_exercise_clear(&x);
        return ws_cmd_close(st, rc);
    } else
        rc = choose(&o, &x);
    if (rc == 0) {
        ws_exercise_cache(&x);
        if (ws_exercise_break(st, &x, &e) != 0) {
            fprintf(stderr, "wapsim: the exercise could not be set up (%s); the lab may be half broken: "
                            "re-create it with lab destroy and lab init\n", e.msg);
            rc = WS_EXIT_FAIL;
        } else if (ws_exercise_begin(st, &x, o.allow_diagnose, &e) != 0) {
            rc = ws_cmd_usage_error("%s", e.msg);
        } else {
            print_ticket(&x);
        }
    }
    ws_exercise_clear(&x);
    return ws_cmd_close(st, rc);
}

/* ---- generate ---- */

static cJSON *generated_json(const ws_generated *g)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "level", g->level);
    cJSON_AddNumberToObject(j, "seed", (double)g->seed);
    cJSON_AddStringToObject(j, "line", g->line);
    cJSON *faults = cJSON_AddArrayToObject(j, "faults");
    for (int i = 0; i < g->nfaults; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "mistake", g->faults[i].mistake);
        cJSON_AddStringToObject(f, "finding", g->faults[i].finding);
        cJSON_AddStringToObject(f, "machine", g->faults[i].machine);
        cJSON_AddStringToObject(f, "params", g->faults[i].params);
        cJSON_AddItemToArray(faults, f);
    }
    cJSON *repair = cJSON_AddArrayToObject(j, "repair");
    ws_exercise x;
    ws_error e;
    if (ws_gen_exercise(g, &x, &e) == 0) {
        for (int i = ws_exercise_break_end(x.sc); i < x.sc->nlines; i++)
            if (x.sc->lines[i].kind == WS_SCN_STEP)
                cJSON_AddItemToArray(repair, cJSON_CreateString(x.sc->lines[i].text + 5));
        ws_exercise_clear(&x);
    }
    cJSON_AddStringToObject(j, "text", g->text);
    return j;
}

static void print_generated(const cJSON *j)
{
    printf("%s", ws_cmd_json_str(j, "text"));
}

static int ex_generate(int argc, char **argv)
{
    xopts o;
    ws_state *st;
    int rc = open_for(argc, argv, "jLsm", &o, &st, NULL);
    if (rc)
        return rc;
    o.generate = 1;
    ws_gen_request req = gen_request(&o);
    ws_generated g;
    ws_error e;
    rc = ws_gen_make(st, &req, &g, &e);
    ws_state_close(st);
    if (rc != 0)
        return ws_cmd_usage_error("%s", e.msg);
    cJSON *j = generated_json(&g);
    ws_gen_free(&g);
    return ws_cmd_output(o.json, j, print_generated);
}

/* ---- the attempt in progress ---- */

/* Names the attempt's fault (the exercise of hash, in the catalogue or the cache) and
 * with_repair its repair; -1 when the exercise is not found. */
static int reveal(const char *catalogue, const char *hash, int with_repair)
{
    ws_exercise x;
    if (ws_exercise_find(catalogue, hash, &x) != 0)
        return -1;
    printf("The fault: %s\n", x.sc->title ? x.sc->title : x.id);
    if (x.sc->doc)
        ws_cmd_print_indented(x.sc->doc);
    if (with_repair) {
        printf("The repair:\n");
        int end = ws_exercise_break_end(x.sc);
        for (int i = end; i < x.sc->nlines; i++)
            if (x.sc->lines[i].kind == WS_SCN_STEP)
                printf("  wapsim %s\n", x.sc->lines[i].text + (x.sc->lines[i].u.step.expect_failure ? 6 : 5));
    }
    ws_exercise_clear(&x);
    return 0;
}

/* ---- hint ---- */

static void hint_consoles(ws_state *st)
{
    ws_exercise_vm *v;
    int n;
    ws_exercise_connect_all(st, &v, &n);
    for (int i = 0; i < n; i++) {
        if (v[i].r.ok)
            printf("  %s (%s): the console opens\n", v[i].vm, v[i].tenant);
        else
            printf("  %s (%s): the client stops at the %s hop: %s\n", v[i].vm, v[i].tenant, v[i].r.stage,
                   v[i].r.message);
    }
    printf("  Look at the machine behind that hop, and at its log (wapsim logs).\n");
    free(v);
}

/* Hint 2 names the machine and the area of each error; hint 3 the finding and its fix. */
static void hint_findings(ws_state *st, int h)
{
    ws_diag_opts dopts = {0};
    ws_diagnosis d;
    ws_error e;
    if (ws_diagnose(st, &dopts, &d, &e) != 0) {
        printf("  (no hint: %s)\n", e.msg);
        return;
    }
    int shown = 0;
    for (int i = 0; i < d.n; i++) {
        const ws_finding *f = &d.findings[i];
        if (f->severity != WS_DIAG_ERROR)
            continue;
        shown++;
        if (h == 2) {
            printf("  On %s: look at %s.\n", f->machine, ws_exercise_hint_area(f->id));
        } else {
            printf("  %s on %s: %s\n", f->id, f->machine, f->summary);
            for (int k = 0; k < f->fix.n; k++)
                printf("    %s\n", f->fix.v[k]);
        }
    }
    if (!shown)
        printf("  Nothing is wrong any more as far as the checks see: run 'wapsim exercise check'.\n");
    ws_diagnosis_free(&d);
}

static int ex_hint(int argc, char **argv)
{
    xopts o;
    ws_state *st;
    ws_attempt a;
    int rc = open_for(argc, argv, "", &o, &st, &a);
    if (rc)
        return rc;
    if (a.hints >= WS_EXERCISE_HINTS) {
        printf("No more hints: all %d are used. 'wapsim exercise give-up' reveals the fault.\n", WS_EXERCISE_HINTS);
        rc = WS_EXIT_FAIL;
    } else {
        int h = ws_exercise_take_hint(st, &a);
        printf("Hint %d of %d (the score is now %d):\n", h, WS_EXERCISE_HINTS, ws_exercise_score(h));
        if (h == 1)
            hint_consoles(st);
        else
            hint_findings(st, h);
    }
    return ws_cmd_close(st, rc);
}

/* ---- status ---- */

static void print_status(const cJSON *j)
{
    long long secs = (long long)ws_cmd_json_num(j, "seconds");
    printf("Exercise in progress: level %d, started %lld min %lld s ago, %d of %d hints used, "
           "score if solved now %d%s.\n",
           (int)ws_cmd_json_num(j, "level"), secs / 60, secs % 60, (int)ws_cmd_json_num(j, "hints"),
           WS_EXERCISE_HINTS, (int)ws_cmd_json_num(j, "score"),
           cJSON_IsTrue(cJSON_GetObjectItem(j, "allow_diagnose")) ? ", diagnose allowed" : "");
}

static int ex_status(int argc, char **argv)
{
    xopts o;
    ws_state *st;
    ws_attempt a;
    int rc = open_for(argc, argv, "j", &o, &st, &a);
    if (rc)
        return rc;
    ws_state_close(st);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "level", a.level);
    cJSON_AddNumberToObject(j, "seconds", (double)(ws_wall_ms() / 1000 - a.started_at));
    cJSON_AddNumberToObject(j, "hints", a.hints);
    cJSON_AddNumberToObject(j, "checks", a.checks);
    cJSON_AddNumberToObject(j, "score", ws_exercise_score(a.hints));
    cJSON_AddBoolToObject(j, "allow_diagnose", a.allow_diagnose);
    return ws_cmd_output(o.json, j, print_status);
}

/* ---- check ---- */

static int ex_check(int argc, char **argv)
{
    xopts o;
    ws_state *st;
    ws_attempt a;
    int rc = open_for(argc, argv, "c", &o, &st, &a);
    if (rc)
        return rc;
    ws_exercise_vm *v;
    int n, failing = 0;
    ws_exercise_count_check(st, &a);
    ws_exercise_connect_all(st, &v, &n);
    for (int i = 0; i < n; i++)
        if (!v[i].r.ok)
            failing++;
    if (n == 0 || failing) {
        printf("Not solved: %d of %d consoles still fail.\n", failing, n);
        for (int i = 0; i < n; i++)
            if (!v[i].r.ok)
                printf("  %s (%s): stops at %s: %s\n", v[i].vm, v[i].tenant, v[i].r.stage, v[i].r.message);
        rc = WS_EXIT_FAIL;
    } else {
        int score = ws_exercise_score(a.hints);
        long long secs = ws_wall_ms() / 1000 - a.started_at;
        ws_exercise_end(st, &a, "solved", score);
        printf("Solved: every console opens (%d VMs). Level %d, %d hint%s, %lld min %lld s. Score: %d.\n", n,
               a.level, a.hints, a.hints == 1 ? "" : "s", secs / 60, secs % 60, score);
        reveal(o.catalogue, a.hash, 0);
    }
    free(v);
    return ws_cmd_close(st, rc);
}

/* ---- give-up ---- */

static int ex_give_up(int argc, char **argv)
{
    xopts o;
    ws_state *st;
    ws_attempt a;
    int rc = open_for(argc, argv, "c", &o, &st, &a);
    if (rc)
        return rc;
    ws_exercise_end(st, &a, "given-up", 0);
    printf("Given up (score 0).\n");
    if (reveal(o.catalogue, a.hash, 1) != 0)
        printf("(the exercise's file is no longer in the catalogue or the cache)\n");
    return ws_cmd_close(st, 0);
}

/* ---- history ---- */

static cJSON *attempt_json(const ws_attempt *a)
{
    char id[13];
    snprintf(id, sizeof id, "%.12s", a->hash);
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "attempt", (double)a->id);
    cJSON_AddStringToObject(x, "exercise", id);
    cJSON_AddNumberToObject(x, "level", a->level);
    cJSON_AddNumberToObject(x, "started_at", (double)a->started_at);
    if (a->has_ended)
        cJSON_AddNumberToObject(x, "ended_at", (double)a->ended_at);
    else
        cJSON_AddNullToObject(x, "ended_at");
    cJSON_AddNumberToObject(x, "hints", a->hints);
    cJSON_AddNumberToObject(x, "checks", a->checks);
    /* The generator line names the faults and the seed (`exercise generate --seed S`
     * prints the repair): hidden while the attempt is active, as check and give-up
     * reveal the fault only when it ends (and the admin site's Exercise page hides it). */
    if (strcmp(a->state, "active") == 0 && a->generated[0])
        cJSON_AddStringToObject(x, "generated", "(hidden until the attempt ends)");
    else if (a->generated[0])
        cJSON_AddStringToObject(x, "generated", a->generated);
    else
        cJSON_AddNullToObject(x, "generated");
    cJSON_AddStringToObject(x, "outcome", a->state);
    if (a->has_score)
        cJSON_AddNumberToObject(x, "score", a->score);
    else
        cJSON_AddNullToObject(x, "score");
    return x;
}

/* The table of attempt_json rows. */
static void print_history(const cJSON *arr)
{
    printf("%-4s %-14s %-6s %-20s %-9s %-6s %-9s %s\n", "#", "EXERCISE", "LEVEL", "STARTED (UTC)", "MINUTES",
           "HINTS", "OUTCOME", "SCORE");
    const cJSON *x;
    cJSON_ArrayForEach(x, arr)
    {
        char when[32];
        time_t t = (time_t)ws_cmd_json_num(x, "started_at");
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        char m[16] = "-", s[16] = "-";
        const cJSON *ended = cJSON_GetObjectItem(x, "ended_at"), *score = cJSON_GetObjectItem(x, "score");
        long long mins = cJSON_IsNumber(ended) ? ((long long)ended->valuedouble - (long long)t) / 60 : -1;
        if (mins >= 0)
            snprintf(m, sizeof m, "%lld", mins);
        if (cJSON_IsNumber(score))
            snprintf(s, sizeof s, "%d", score->valueint);
        printf("%-4lld %-14.12s %-6d %-20s %-9s %-6d %-9s %s\n", (long long)ws_cmd_json_num(x, "attempt"),
               ws_cmd_json_str(x, "exercise"), (int)ws_cmd_json_num(x, "level"), when, m,
               (int)ws_cmd_json_num(x, "hints"), ws_cmd_json_str(x, "outcome"), s);
    }
    int n = cJSON_GetArraySize(arr);
    printf("%d attempt%s\n", n, n == 1 ? "" : "s");
}

static int ex_history(int argc, char **argv)
{
    xopts o;
    ws_state *st;
    int rc = open_for(argc, argv, "j", &o, &st, NULL);
    if (rc)
        return rc;
    ws_error e;
    ws_attempt *h;
    int n;
    rc = ws_exercise_history(st, &h, &n, &e);
    ws_state_close(st);
    if (rc != 0)
        return ws_cmd_usage_error("%s", e.msg);
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, attempt_json(&h[i]));
    free(h);
    return ws_cmd_output(o.json, arr, print_history);
}

const ws_cmd ws_cmds_exercise[] = {
    {"exercise", "list", ex_list, "[--json] [--reveal] [--level 1|2|3] [--catalogue DIR]",
     "The exercises: id and level (--reveal, for a trainer: title and file too).",
     "The catalogue is every scenario with a ticket line in DIR and DIR/exercises (DIR:\n"
     "--catalogue, else $WAPSIM_SCENARIOS, else the shipped scenarios/). Its level is its\n"
     "tag level-1, level-2 or level-3; without one, 2 or 3 for a file named l2-... or\n"
     "l3-... (level 2: one gateway member or one host; level 3: combined with a documented\n"
     "mistake), else 1.\n"
     "  --reveal       for a trainer: each exercise's title (which names the fault) and file\n"
     "                 (--trainer is the same)\n"
     "  --level N      only the exercises of level N\n"
     "  --json         [{\"id\",\"level\"[,\"title\",\"file\"]}]\n"},
    {"exercise", "start", ex_start,
     "[--level 1|2|3] [--seed N] [--scenario FILE | --generate [--mistake ID[,ID]]] [--allow-diagnose] "
     "[--catalogue DIR]",
     "Break the running lab as an exercise, and print the customer's ticket.",
     "Picks an exercise (at random among the level, or by --seed; or FILE), runs its\n"
     "breaking commands as an operator would, and records the attempt. diagnose is refused\n"
     "until the attempt ends, unless --allow-diagnose.\n"
     "  --generate       a generated exercise instead of a catalogue file: a documented\n"
     "                   mistake or field pitfall applied with parameters the seed chooses\n"
     "                   (host, VM, member gateway, certificate names, provider, clock offset),\n"
     "                   hours or days before the ticket on the lab clock among routine changes;\n"
     "                   the ticket is written from what each VM's tenant sees. Level 1: one\n"
     "                   documented mistake; 2: one pitfall, or a mistake on one host or member;\n"
     "                   3: two at once. Without --seed a random one, printed (same seed, level\n"
     "                   and mistakes: the same exercise). See 'wapsim exercise generate --help'.\n"
     "  --mistake ID[,ID] the mistakes to use (with --generate); two make level 3\n"},
    {"exercise", "generate", ex_generate, "[--level 1|2|3] [--seed N] [--mistake ID[,ID]] [--json]",
     "Print the exercise --generate would make for this lab, without applying it.",
     "The scenario text (its ticket is written only when the exercise starts), with the\n"
     "faults, the repair and the finding ids diagnose names. A trainer's view: the title\n"
     "names the fault.\n"
     "Mistake ids (the shipped scenarios' names): m1a m1b m2 m3a m3b m4a m4b clock at level 1\n"
     "(clock: a gateway, host or VMM clock off beyond the token's time to live), p1 p2 p4 p5\n"
     "p6g p6v p7 and m1a m1b m3a (on another host, a new console certificate) at level 2;\n"
     "level 3 pairs one of m3a m3b m4a m4b p1 p2 p4 p5 p6g with m1a or m1b. p3 is not\n"
     "generated (exercise check connects with the websocket transport it does not affect).\n"
     "  --level N        1, 2 or 3 (default 1, or the mistakes' level)\n"
     "  --seed N         the seed (default: a random one, shown in the generator line)\n"
     "  --mistake ID[,ID] the mistakes to use instead of drawing them\n"
     "  --json           {\"level\",\"seed\",\"line\",\"faults\":[{\"mistake\",\"finding\",\"machine\",\n"
     "                   \"params\"}],\"repair\":[\"cert import ...\"],\"text\"}\n"},
    {"exercise", "hint", ex_hint, "", "The next of three hints; each lowers the score (15, 25, 40).", NULL},
    {"exercise", "status", ex_status, "[--json]", "The exercise in progress: level, time, hints used.", NULL},
    {"exercise", "check", ex_check, "[--catalogue DIR]",
     "Connect to every VM: solved when every console opens and the lab was repaired.",
     "Exit 0 when solved (prints the score and the fault), 1 when consoles still fail or the\n"
     "attempt is void (the lab was re-created or lab.db replaced), 2 without an exercise.\n"},
    {"exercise", "give-up", ex_give_up, "[--catalogue DIR]", "End the exercise and reveal the fault and its repair.",
     NULL},
    {"exercise", "history", ex_history, "[--json]", "Every attempt in this lab: level, hints, outcome, score.", NULL},
    {0},
};
