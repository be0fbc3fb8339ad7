/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim classroom: many trainees' labs on one machine (train/classroom.h does the work):
 * init, up, down, status, reset, assign, results, destroy. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/lab.h"
#include "train/classroom.h"

typedef struct copts {
    int level, has_seed, same, reveal, csv, timeout_s, seats;
    unsigned long long seed;
    const char *mistake;
} copts;

static int take_level(void *dest, const char *value)
{
    if (strcmp(value, "1") && strcmp(value, "2") && strcmp(value, "3"))
        return ws_cmd_usage_error("option '--level' is 1, 2 or 3, not '%s'", value);
    ((copts *)dest)->level = atoi(value);
    return 0;
}

static int take_seed(void *dest, const char *value)
{
    copts *o = dest;
    char *end;
    errno = 0;
    o->seed = strtoull(value, &end, 10);
    if (!*value || *value == '-' || *end || errno || o->seed > WS_CLASSROOM_MAX_SEED)
        return ws_cmd_usage_error("option '--seed' needs a whole number below 2^53, not '%s'", value);
    o->has_seed = 1;
    return 0;
}

static int take_mistake(void *dest, const char *value)
{
    if (strlen(value) >= sizeof ((ws_classroom *)0)->mistakes || !ws_classroom_mistakes_ok(value))
        return ws_cmd_usage_error("option '--mistake' needs mistake ids (m3a or m3a,m1b), not '%s'", value);
    ((copts *)dest)->mistake = value;
    return 0;
}

/* Options shared by the subcommands; allowed names which apply ("LsSmrct"). */
static int parse(int argc, char **argv, const char *allowed, unsigned flags, int min_pos, int max_pos, copts *o,
                 ws_cli *cli)
{
    memset(o, 0, sizeof *o);
    o->timeout_s = 20;
    const ws_opt opts[] = {WS_OPT_CALL("level", o, take_level),  WS_OPT_CALL("seed", o, take_seed),
                           WS_OPT_FLAG("same", &o->same),        WS_OPT_CALL("mistake", o, take_mistake),
                           WS_OPT_FLAG("reveal", &o->reveal),    WS_OPT_FLAG("csv", &o->csv),
                           WS_OPT_INT("timeout", &o->timeout_s, 1, 600, "seconds"),
                           WS_OPT_INT("seats", &o->seats, 1, WS_CLASSROOM_MAX_SEATS, "seats"), WS_OPT_END};
    int rc = ws_opt_parse(argc, argv, opts, flags, min_pos, max_pos, cli);
    if (rc)
        return rc;
    const struct {
        char letter;
        const char *name;
        int given;
    } given[] = {{'L', "--level", o->level != 0}, {'s', "--seed", o->has_seed}, {'S', "--same", o->same},
                 {'m', "--mistake", o->mistake != NULL}, {'r', "--reveal", o->reveal}, {'c', "--csv", o->csv},
                 {'t', "--timeout", o->timeout_s != 20}, {'n', "--seats", o->seats != 0}};
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++)
        if (given[i].given && !strchr(allowed, given[i].letter))
            return ws_cmd_usage_error("option '%s' does not apply to classroom %s", given[i].name, argv[0]);
    if (cli->argc == 0)
        return ws_cmd_usage_error("which classroom? (wapsim classroom %s DIR)", argv[0]);
    return 0;
}

static int load(const char *dir, ws_classroom *c)
{
    ws_error e;
    if (ws_classroom_load(dir, c, &e) != 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_USAGE;
    }
    return 0;
}

/* The seats named by args (seat07, 7, or all) as indexes; none named: all when
 * none_is_all. 0 with *out (free it) and *n, or the exit status after one line. */
static int pick_seats(const ws_classroom *c, char **args, int nargs, int none_is_all, int **out, int *n)
{
    *out = calloc((size_t)c->nseats, sizeof **out);
    if (!*out)
        abort();
    *n = 0;
    int all = nargs == 0 && none_is_all;
    for (int i = 0; i < nargs; i++)
        all |= strcmp(args[i], "all") == 0;
    if (all) {
        for (int i = 0; i < c->nseats; i++)
            (*out)[(*n)++] = i;
        return 0;
    }
    for (int i = 0; i < nargs; i++) {
        const ws_seat *s = ws_classroom_seat(c, args[i]);
        if (!s) {
            free(*out);
            return ws_cmd_usage_error("no seat '%s' in %s (seat01 .. seat%02d, or all)", args[i], c->dir,
                                      c->nseats);
        }
        int k = (int)(s - c->seats), dup = 0;
        for (int j = 0; j < *n; j++)
            dup |= (*out)[j] == k;
        if (!dup)
            (*out)[(*n)++] = k;
    }
    if (*n == 0) {
        free(*out);
        return ws_cmd_usage_error("which seat? (seat07, 7 or all)");
    }
    return 0;
}

/* ---- init ---- */

static void print_init(const ws_classroom *c)
{
    printf("Created the classroom %s: %d seat%s, exercises at level %d (seed %llu%s).\n\n", c->dir, c->nseats,
           c->nseats == 1 ? "" : "s", c->level, c->seed, c->same ? ", the same for every seat" : "");
    printf("%-7s %-22s %-48s %-19s %s\n", "SEAT", "SUBNET", "ADMIN SITE (hosts line)", "ACCOUNT", "PASSWORD");
    for (int i = 0; i < c->nseats; i++) {
        char prefix[32], site[96];
        ws_subnet_prefix(c->seats[i].subnet, prefix, sizeof prefix);
        snprintf(site, sizeof site, "https://portal.contoso.com:30091 (%s10)", prefix);
        printf("%-7s %-22s %-48s %-19s %s\n", c->seats[i].name, c->seats[i].subnet, site, c->seats[i].account,
               c->seats[i].password);
    }
    printf("\nTrainer (fabric-admin in every seat): %s  %s\n", c->trainer, c->trainer_password);
    printf("Each seat's lab is %s/seatNN (wapsim --lab %s/seat01 ...); the passwords are in %s/%s.\n", c->dir,
           c->dir, c->dir, WS_CLASSROOM_FILE);
    printf("\nNext: wapsim classroom up %s\n", c->dir);
}

static cJSON *classroom_json(const ws_classroom *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "classroom", c->dir);
    cJSON *t = cJSON_AddObjectToObject(o, "trainer");
    cJSON_AddStringToObject(t, "account", c->trainer);
    cJSON_AddStringToObject(t, "password", c->trainer_password);
    cJSON *plan = cJSON_AddObjectToObject(o, "plan");
    cJSON_AddNumberToObject(plan, "level", c->level);
    cJSON_AddNumberToObject(plan, "seed", (double)c->seed);
    cJSON_AddBoolToObject(plan, "same", c->same);
    if (c->mistakes[0])
        cJSON_AddStringToObject(plan, "mistakes", c->mistakes);
    else
        cJSON_AddNullToObject(plan, "mistakes");
    cJSON *seats = cJSON_AddArrayToObject(o, "seats");
    for (int i = 0; i < c->nseats; i++) {
        char prefix[32], addr[48];
        ws_subnet_prefix(c->seats[i].subnet, prefix, sizeof prefix);
        snprintf(addr, sizeof addr, "%s10", prefix);
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "seat", c->seats[i].name);
        cJSON_AddStringToObject(s, "lab", c->seats[i].dir);
        cJSON_AddStringToObject(s, "subnet", c->seats[i].subnet);
        cJSON_AddStringToObject(s, "portal_address", addr);
        cJSON_AddStringToObject(s, "admin_site", "https://portal.contoso.com:30091");
        cJSON_AddStringToObject(s, "account", c->seats[i].account);
        cJSON_AddStringToObject(s, "password", c->seats[i].password);
        cJSON_AddItemToArray(seats, s);
    }
    return o;
}

static int cl_init(int argc, char **argv)
{
    copts o;
    ws_cli cli;
    int rc = parse(argc, argv, "nLsSm", WS_OPT_JSON, 0, 1, &o, &cli);
    if (rc == 0 && !o.seats)
        rc = ws_cmd_usage_error("how many seats? (wapsim classroom init DIR --seats N, N from 1 to %d)",
                                WS_CLASSROOM_MAX_SEATS);
    if (rc)
        return rc;
    ws_classroom_init_opts io = {.dir = cli.argv[0], .nseats = o.seats, .level = o.level, .has_seed = o.has_seed,
                                 .seed = o.seed, .same = o.same, .mistakes = o.mistake, .quiet = cli.json};
    if (!cli.json)
        fprintf(stderr, "classroom init: creating %d seat%s in %s ...\n", o.seats, o.seats == 1 ? "" : "s", io.dir);
    ws_classroom c;
    ws_error e;
    if (ws_classroom_init(&io, &c, &e) != 0) {
        ws_warn("classroom init: %s", e.msg);
        return WS_EXIT_USAGE;
    }
    if (cli.json)
        ws_cmd_print_json(classroom_json(&c));
    else
        print_init(&c);
    ws_classroom_free(&c);
    return 0;
}

/* ---- up, down ---- */

static int up_down(int argc, char **argv, int up)
{
    copts o;
    ws_cli cli;
    ws_classroom c;
    int rc = parse(argc, argv, up ? "t" : "", 0, 0, -1, &o, &cli);
    if (rc || (rc = load(cli.argv[0], &c)) != 0)
        return rc;
    int *seats, n;
    if ((rc = pick_seats(&c, cli.argv + 1, cli.argc - 1, 1, &seats, &n)) != 0) {
        ws_classroom_free(&c);
        return rc;
    }
    fprintf(stderr, "classroom %s: %d seat%s ...\n", up ? "up" : "down", n, n == 1 ? "" : "s");
    ws_error e;
    int64_t t0 = ws_mono_ms();
    rc = up ? ws_classroom_up(&c, seats, n, o.timeout_s * 1000, 0, &e) : ws_classroom_down(&c, seats, n, 0, &e);
    if (rc != 0)
        ws_warn("classroom %s: %s", up ? "up" : "down", e.msg);
    else
        fprintf(stderr, "classroom %s: %d seat%s %s after %.2f s\n", up ? "up" : "down", n, n == 1 ? "" : "s",
                up ? "healthy" : "stopped", (double)(ws_mono_ms() - t0) / 1000);
    free(seats);
    ws_classroom_free(&c);
    return rc ? WS_EXIT_FAIL : 0;
}

static int cl_up(int argc, char **argv)
{
    return up_down(argc, argv, 1);
}

static int cl_down(int argc, char **argv)
{
    return up_down(argc, argv, 0);
}

/* ---- status ---- */

static const char *view_state(const ws_seat_view *v)
{
    return v->has_attempt ? v->attempt.state : "none";
}

static cJSON *view_json(const ws_seat *s, const ws_seat_view *v, int reveal)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "seat", s->name);
    cJSON_AddStringToObject(o, "account", s->account);
    cJSON_AddBoolToObject(o, "running", v->running);
    cJSON_AddStringToObject(o, "state", view_state(v));
    if (v->has_attempt) {
        cJSON_AddStringToObject(o, "exercise", v->exercise);
        cJSON_AddNumberToObject(o, "level", v->attempt.level);
        cJSON_AddNumberToObject(o, "seconds", (double)v->seconds);
        cJSON_AddNumberToObject(o, "hints", v->attempt.hints);
        cJSON_AddNumberToObject(o, "checks", v->attempt.checks);
        if (v->attempt.has_score)
            cJSON_AddNumberToObject(o, "score", v->attempt.score);
        else
            cJSON_AddNullToObject(o, "score");
        if (reveal) {
            cJSON_AddStringToObject(o, "title", v->title);
            cJSON_AddStringToObject(o, "faults", v->faults);
            cJSON_AddStringToObject(o, "generated", v->attempt.generated);
        }
    }
    cJSON_AddNumberToObject(o, "attempts", v->attempts);
    cJSON_AddNumberToObject(o, "solved", v->solved);
    return o;
}

static void view_text(const ws_seat *s, const ws_seat_view *v, int reveal)
{
    char ex[16] = "-", level[8] = "-", time_s[16] = "-", hints[8] = "-", checks[8] = "-", score[8] = "-";
    if (v->has_attempt) {
        snprintf(ex, sizeof ex, "%s", v->exercise);
        snprintf(level, sizeof level, "%d", v->attempt.level);
        snprintf(time_s, sizeof time_s, "%lld:%02lld", (long long)(v->seconds / 60), (long long)(v->seconds % 60));
        snprintf(hints, sizeof hints, "%d", v->attempt.hints);
        snprintf(checks, sizeof checks, "%d", v->attempt.checks);
        if (v->attempt.has_score)
            snprintf(score, sizeof score, "%d", v->attempt.score);
    }
    printf("%-7s %-8s %-13s %-5s %-8s %-5s %-6s %-5s %-9s %d/%d\n", s->name, v->running ? "yes" : "no", ex, level,
           time_s, hints, checks, score, view_state(v), v->solved, v->attempts);
    if (reveal && v->has_attempt && (v->title[0] || v->faults[0]))
        printf("        %s%s%s\n", v->title, v->title[0] && v->faults[0] ? ": " : "", v->faults);
}

static int cl_status(int argc, char **argv)
{
    copts o;
    ws_cli cli;
    ws_classroom c;
    int rc = parse(argc, argv, "r", WS_OPT_JSON, 0, 1, &o, &cli);
    if (rc || (rc = load(cli.argv[0], &c)) != 0)
        return rc;
    cJSON *arr = cli.json ? cJSON_CreateArray() : NULL;
    if (!cli.json)
        printf("%-7s %-8s %-13s %-5s %-8s %-5s %-6s %-5s %-9s %s\n", "SEAT", "RUNNING", "EXERCISE", "LEVEL", "TIME",
               "HINTS", "CHECKS", "SCORE", "OUTCOME", "SOLVED");
    for (int i = 0; i < c.nseats; i++) {
        ws_seat_view v;
        ws_error e;
        if (ws_classroom_seat_view(&c, &c.seats[i], &v, &e) != 0) {
            ws_warn("%s: %s", c.seats[i].name, e.msg);
            rc = WS_EXIT_FAIL;
            continue;
        }
        if (cli.json)
            cJSON_AddItemToArray(arr, view_json(&c.seats[i], &v, o.reveal));
        else
            view_text(&c.seats[i], &v, o.reveal);
    }
    if (cli.json) {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "classroom", c.dir);
        cJSON_AddItemToObject(out, "seats", arr);
        ws_cmd_print_json(out);
    }
    ws_classroom_free(&c);
    return rc;
}

/* ---- reset, assign ---- */

static int cl_reset(int argc, char **argv)
{
    copts o;
    ws_cli cli;
    ws_classroom c;
    int rc = parse(argc, argv, "", 0, 0, -1, &o, &cli);
    if (rc || (rc = load(cli.argv[0], &c)) != 0)
        return rc;
    int *seats, n;
    if ((rc = pick_seats(&c, cli.argv + 1, cli.argc - 1, 0, &seats, &n)) == 0) {
        ws_error e;
        if (ws_classroom_reset_seats(&c, seats, n, 0, &e) != 0) {
            ws_warn("classroom reset: %s", e.msg);
            rc = WS_EXIT_FAIL;
        }
        free(seats);
    }
    ws_classroom_free(&c);
    return rc;
}

/* The plan assign hands out: the options over classroom.json's, recorded there. */
static int update_plan(ws_classroom *c, const copts *o)
{
    if (o->level)
        c->level = o->level;
    if (o->mistake)
        snprintf(c->mistakes, sizeof c->mistakes, "%s", o->mistake);
    if (o->has_seed) {
        c->seed = o->seed;
        c->has_seed = 1;
    }
    c->same = o->same || (c->same && !o->has_seed);
    if (o->same && !o->has_seed && ws_random(&c->seed, sizeof c->seed) == 0)
        c->seed &= WS_CLASSROOM_MAX_SEED;
    ws_error e;
    if ((o->level || o->mistake || o->has_seed || o->same) && ws_classroom_save(c, &e) != 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_FAIL;
    }
    return 0;
}

static int cl_assign(int argc, char **argv)
{
    copts o;
    ws_cli cli;
    ws_classroom c;
    int rc = parse(argc, argv, "LsSm", 0, 0, -1, &o, &cli);
    if (rc || (rc = load(cli.argv[0], &c)) != 0)
        return rc;
    int *seats, n;
    if ((rc = pick_seats(&c, cli.argv + 1, cli.argc - 1, 0, &seats, &n)) == 0) {
        rc = update_plan(&c, &o);
        ws_error e;
        if (rc == 0 && ws_classroom_assign(&c, seats, n, 0, &e) != 0) {
            ws_warn("classroom assign: %s", e.msg);
            rc = WS_EXIT_FAIL;
        }
        free(seats);
    }
    ws_classroom_free(&c);
    return rc;
}

/* ---- results, destroy ---- */

static int cl_results(int argc, char **argv)
{
    copts o;
    ws_cli cli;
    ws_classroom c;
    int rc = parse(argc, argv, "c", WS_OPT_JSON, 0, 1, &o, &cli);
    if (rc || (rc = load(cli.argv[0], &c)) != 0)
        return rc;
    if (!o.csv) {
        ws_classroom_free(&c);
        /* The table and --json are status's; results is the history. */
        char *args[] = {"status", (char *)cli.argv[0], cli.json ? "--json" : NULL, NULL};
        return cl_status(cli.json ? 3 : 2, args);
    }
    ws_buf out;
    ws_buf_init(&out, 64u << 20);
    ws_error e;
    if (ws_classroom_results_csv(&c, &out, &e) != 0) {
        ws_warn("classroom results: %s", e.msg);
        rc = WS_EXIT_FAIL;
    } else {
        fwrite(ws_buf_data(&out), 1, ws_buf_len(&out), stdout);
    }
    ws_buf_free(&out);
    ws_classroom_free(&c);
    return rc;
}

static int cl_destroy(int argc, char **argv)
{
    copts o;
    ws_cli cli;
    int rc = parse(argc, argv, "", 0, 0, 1, &o, &cli);
    if (rc)
        return rc;
    ws_classroom c;
    if ((rc = load(cli.argv[0], &c)) != 0) /* not a classroom: a usage error, nothing touched */
        return rc;
    ws_classroom_free(&c);
    ws_error e;
    fprintf(stderr, "classroom destroy: stopping the seats of %s ...\n", cli.argv[0]);
    if (ws_classroom_destroy(cli.argv[0], &e) != 0) {
        ws_warn("classroom destroy: %s", e.msg);
        return WS_EXIT_FAIL;
    }
    fprintf(stderr, "classroom destroy: removed %s\n", cli.argv[0]);
    return 0;
}

const ws_cmd ws_cmds_classroom[] = {
    {"classroom", "init", cl_init, "DIR --seats N [--level 1|2|3] [--seed S | --same] [--mistake ID[,ID]] [--json]",
     "Create a classroom: one lab per seat, each with its trainee's account, and the trainer's.",
     "DIR is created with mode 0700 (or must be empty). Seats are DIR/seat01 .. DIR/seatNN (N 1 to 99),\n"
     "each a lab made from the one key template on its own /24 (127.X.<seat>.0/24, X chosen from\n"
     "DIR's path, skipping subnets a running lab uses), with CONTOSO\\traineeNN and CONTOSO\\trainer\n"
     "(both fabric-admin; the trainer's password is the same in every seat) and a baseline of its\n"
     "healthy world (DIR/seatNN/baseline.db) that reset puts back. Prints every seat's admin site\n"
     "(https://portal.contoso.com:30091 at the seat's portal address), account and password; they\n"
     "are kept in DIR/classroom.json (mode 0600).\n"
     "  --level L     the level assign hands out (default 1)\n"
     "  --seed S      the plan's seed (default: a random one, recorded); without --same each seat's\n"
     "                exercise is generated from a seed derived from S and its number\n"
     "  --same        every seat the same exercise (one seed for all)\n"
     "  --mistake ID  generate only from these mistakes (wapsim exercise generate --help)\n"
     "  --json        {\"classroom\",\"trainer\":{\"account\",\"password\"},\"plan\":{\"level\",\"seed\",\"same\",\n"
     "                \"mistakes\"},\"seats\":[{\"seat\",\"lab\",\"subnet\",\"portal_address\",\"admin_site\",\n"
     "                \"account\",\"password\"}]}\n"},
    {"classroom", "up", cl_up, "DIR [SEAT...] [--timeout SECONDS]", "Start the seats (all, or those named).",
     "A few seats at a time; returns when every seat's machines are healthy, or names the first\n"
     "seat that did not start. SEAT is seat07 or 7. Progress on stderr.\n"
     "  --timeout S   how long each seat may take to be healthy (seconds, 1 to 600; default 20)\n"},
    {"classroom", "down", cl_down, "DIR [SEAT...]", "Stop the seats (all, or those named).", NULL},
    {"classroom", "status", cl_status, "DIR [--reveal] [--json]",
     "Each seat: running, its exercise, level, time, hints, checks, score and outcome.",
     "  --reveal   add each seat's fault (the exercise's title; a generated exercise's faults)\n"
     "  --json     {\"classroom\",\"seats\":[{\"seat\",\"account\",\"running\",\"state\",\"exercise\",\"level\",\n"
     "             \"seconds\",\"hints\",\"checks\",\"score\",\"attempts\",\"solved\"}]}; --reveal adds \"title\",\n"
     "             \"faults\" and \"generated\". state: none, active, solved, given-up or void\n"},
    {"classroom", "reset", cl_reset, "DIR SEAT|all",
     "Put a seat's world back to its healthy baseline, in place.",
     "An exercise in progress becomes void; every machine but the portal stops, the world tables\n"
     "are replaced by the baseline's in one transaction (the history of attempts stays), the\n"
     "machines start again and the command waits until they are healthy. The portal keeps running\n"
     "(its admin site serves the trainer's page). Machines added since (rdgw02, lb01) are gone;\n"
     "the lab clock is the baseline's again. The seat must be running. A reset that was\n"
     "interrupted leaves the world whole (one transaction) but may leave machines stopped:\n"
     "'wapsim classroom up DIR SEAT' starts them again.\n"},
    {"classroom", "assign", cl_assign, "DIR SEAT|all [--level L] [--seed S | --same] [--mistake ID[,ID]]",
     "Hand out a generated exercise: reset the seat (unless fresh), then start it there.",
     "Runs 'wapsim --lab DIR/seatNN exercise start --generate --level L --seed S' in the seat: S is\n"
     "the plan's seed with --same, else derived from it and the seat's number. The options change\n"
     "the plan (kept in classroom.json). all: two seats at a time, progress on stderr.\n"},
    {"classroom", "results", cl_results, "DIR [--csv] [--json]", "The class's results: every seat, or every attempt as CSV.",
     "  --csv   every attempt of every seat, RFC 4180, a header line first:\n"
     "          seat,account,attempt,exercise,level,generated,started_utc,ended_utc,minutes,hints,\n"
     "          checks,outcome,score\n"
     "Without --csv: as classroom status.\n"},
    {"classroom", "destroy", cl_destroy, "DIR", "Stop every seat and remove the classroom.",
     "Removes the seats' labs and classroom.json, then DIR; a folder that is not a classroom\n"
     "is refused, and files that are not the classroom's are left.\n"},
    {0},
};
