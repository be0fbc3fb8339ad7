/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim clock advance | skew | show: the lab clock. Every component asks it for
 * "now" (wall time + the lab's offset + its machine's skew, clock.h), so moving it
 * makes tokens and certificates expire at once instead of after a wait.
 *
 * Each change is logged as Windows logs a change of the system time (System channel,
 * Microsoft-Windows-Kernel-General, event 1) on every machine whose clock moved:
 * all of them when the lab's offset moves, the one machine when its skew does. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/clock.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/events.h"
#include "lab/machine.h"


/* "+2h", "-90s", "0s": seconds as an operator writes them back. */
static void format_duration(int64_t s, char *out, size_t n)
{
    int64_t v = s < 0 ? -s : s;
    const char *sign = s < 0 ? "-" : "+";
    if (v != 0 && v % 86400 == 0)
        snprintf(out, n, "%s%" PRId64 "d", sign, v / 86400);
    else if (v != 0 && v % 3600 == 0)
        snprintf(out, n, "%s%" PRId64 "h", sign, v / 3600);
    else if (v != 0 && v % 60 == 0)
        snprintf(out, n, "%s%" PRId64 "m", sign, v / 60);
    else
        snprintf(out, n, "%s%" PRId64 "s", sign, v);
}

/* Kernel-General 1 on a machine whose clock moved by delta (already applied). */
static int log_change(ws_state *st, const char *machine, int64_t delta)
{
    char now[32], before[32];
    int64_t t = ws_clock_now(st, machine);
    ws_time_format(t, now, sizeof now);
    ws_time_format(t - delta, before, sizeof before);
    return ws_event_write(st, machine, WS_EV_KERNEL_1, now, before);
}

typedef struct names {
    char name[64][64];
    int n;
} names;

static int collect(const ws_machine *m, void *arg)
{
    names *l = arg;
    if (l->n < 64)
        snprintf(l->name[l->n++], 64, "%s", m->name);
    return 0;
}

/* Sets a machine's skew (absolute) or moves it (relative), or moves the lab's offset
 * (machine NULL), in one transaction with its events; prints the result. */
static int apply(const char *lab, const char *machine, int64_t seconds, int relative)
{
    ws_state *st;
    int rc = ws_cmd_open_lab(lab, &st);
    if (rc)
        return rc;
    ws_machine m;
    ws_error e;
    if (machine && (rc = ws_cmd_machine(st, machine, NULL, &m)))
        return ws_cmd_close(st, rc);
    names *all = calloc(1, sizeof *all);
    if (!all)
        abort();
    int64_t old = 0, now_value = 0, delta = 0;
    int ok = ws_state_begin(st, &e) == 0;
    if (ok) {
        old = machine ? m.skew_seconds : ws_clock_offset(st);
        now_value = machine && !relative ? seconds : old + seconds;
        delta = now_value - old;
        if (now_value > 100LL * 366 * 86400 || now_value < -100LL * 366 * 86400) {
            ws_state_rollback(st);
            ws_state_close(st);
            free(all);
            if (machine)
                return ws_cmd_usage_error("%s's skew would be beyond 100 years", m.name);
            return ws_cmd_usage_error("the lab's offset would be beyond 100 years");
        }
    }
    if (ok && machine) {
        ok = ws_clock_set_skew(st, m.name, now_value, &e) == 0 && log_change(st, m.name, delta) == 0;
    } else if (ok) {
        ok = ws_clock_set_offset(st, now_value, &e) == 0 && ws_machine_foreach(st, collect, all, &e) == 0;
        for (int i = 0; ok && i < all->n; i++)
            if (log_change(st, all->name[i], delta) != 0) {
                ws_seterr(&e, "cannot write the event log");
                ok = 0;
            }
    }
    if ((rc = ws_cmd_commit(st, ok, &e)) == 0) {
        char d[32], was[32], is[32], t[32];
        format_duration(delta, d, sizeof d);
        format_duration(old, was, sizeof was);
        format_duration(now_value, is, sizeof is);
        ws_time_format(ws_clock_now(st, machine), t, sizeof t);
        if (machine)
            printf("%s: clock moved %s: skew %s (was %s); its time is now %s.\n", m.name, d, is, was, t);
        else
            printf("Lab clock moved %s: offset %s (was %s); lab time is now %s.\n", d, is, was, t);
    }
    free(all);
    return ws_cmd_close(st, rc);
}

static int cmd_clock_advance(int argc, char **argv)
{
    const char *machine = NULL;
    const ws_opt opts[] = {WS_OPT_STR("machine", &machine), WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, WS_OPT_NEGATIVE, 0, 1, &cli);
    if (rc)
        return rc;
    if (cli.argc == 0)
        return ws_cmd_usage_error("how far? (wapsim clock advance DURATION [--machine M], e.g. 2h or -90s)");
    if (machine && !*machine)
        return ws_cmd_usage_error("option '--machine' needs a value");
    int64_t seconds;
    ws_error e;
    if (ws_duration_parse(cli.argv[0], &seconds, &e) != 0)
        return ws_cmd_usage_error("%s", e.msg);
    return apply(cli.lab, machine, seconds, 1);
}

static int cmd_clock_skew(int argc, char **argv)
{
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, NULL, WS_OPT_NEGATIVE, 0, 2, &cli);
    if (rc)
        return rc;
    if (cli.argc < 2)
        return ws_cmd_usage_error("wapsim clock skew MACHINE DURATION (e.g. hv01 -5m; 0 to remove the skew)");
    int64_t seconds;
    ws_error e;
    if (ws_duration_parse(cli.argv[1], &seconds, &e) != 0)
        return ws_cmd_usage_error("%s", e.msg);
    return apply(cli.lab, cli.argv[0], seconds, 0);
}

typedef struct show_ctx {
    ws_state *st;
    cJSON *rows;
} show_ctx;

static int add_machine(const ws_machine *m, void *arg)
{
    show_ctx *c = arg;
    char t[32];
    int64_t now = ws_clock_now(c->st, m->name);
    ws_time_format(now, t, sizeof t);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", m->name);
    cJSON_AddNumberToObject(o, "skew_seconds", (double)m->skew_seconds);
    cJSON_AddStringToObject(o, "now", t);
    cJSON_AddNumberToObject(o, "now_unix", (double)now);
    cJSON_AddItemToArray(c->rows, o);
    return 0;
}

static void print_show(const cJSON *o)
{
    char d[32];
    int64_t offset = (int64_t)ws_cmd_json_num(o, "offset_seconds");
    format_duration(offset, d, sizeof d);
    printf("Lab time  %s (wall clock %s, offset %s = %" PRId64 " s)\n", ws_cmd_json_str(o, "lab_time"),
           ws_cmd_json_str(o, "wall_time"), d, offset);
    printf("%-8s %-12s %s\n", "MACHINE", "SKEW", "NOW");
    cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(o, "machines"))
    {
        char skew[32];
        format_duration((int64_t)ws_cmd_json_num(m, "skew_seconds"), skew, sizeof skew);
        printf("%-8s %-12s %s\n", ws_cmd_json_str(m, "name"), skew, ws_cmd_json_str(m, "now"));
    }
}

static int cmd_clock_show(int argc, char **argv)
{
    ws_cli cli;
    ws_state *st;
    int rc = ws_cmd_parse_open(argc, argv, NULL, WS_OPT_JSON | WS_OPT_NEGATIVE, 0, 0, &cli, &st);
    if (rc)
        return rc;
    ws_error e;
    show_ctx c = {.st = st, .rows = cJSON_CreateArray()};
    int64_t offset = ws_clock_offset(st), lab_now = ws_clock_now(st, NULL), wall = ws_wall_ms() / 1000;
    if (ws_machine_foreach(st, add_machine, &c, &e) != 0) {
        ws_warn("%s", e.msg);
        cJSON_Delete(c.rows);
        return ws_cmd_close(st, WS_EXIT_FAIL);
    }
    ws_state_close(st);
    char t[32], w[32];
    ws_time_format(lab_now, t, sizeof t);
    ws_time_format(wall, w, sizeof w);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "lab_time", t);
    cJSON_AddNumberToObject(o, "lab_time_unix", (double)lab_now);
    cJSON_AddNumberToObject(o, "offset_seconds", (double)offset);
    cJSON_AddStringToObject(o, "wall_time", w);
    cJSON_AddItemToObject(o, "machines", c.rows);
    return ws_cmd_output(cli.json, o, print_show);
}

const ws_cmd ws_cmds_clock[] = {
    {"clock", "advance", cmd_clock_advance, "DURATION [--machine M]",
     "Move the lab clock (or one machine's) instead of waiting.",
     "DURATION: 90s, 15m, 2h, 31d, 1w, 1h30m; negative to go back (-1h); a bare number is seconds.\n"
     "Without --machine the lab's offset moves, and with it every machine's clock; with\n"
     "--machine only that machine's skew moves. Logs System event 1 (Kernel-General, \"The\n"
     "system time has changed\") on each machine whose clock moved.\n"},
    {"clock", "skew", cmd_clock_skew, "MACHINE DURATION",
     "Set one machine's clock skew from the lab clock (0 removes it).",
     "The skew is set, not added (clock advance --machine adds). Logs System event 1 on the\n"
     "machine.\n"},
    {"clock", "show", cmd_clock_show, "[--json]", "The lab time, its offset, and each machine's skew and time.",
     "  --json   {\"lab_time\",\"lab_time_unix\",\"offset_seconds\",\"wall_time\",\n"
     "            \"machines\":[{\"name\",\"skew_seconds\",\"now\",\"now_unix\"}]}\n"},
    {0},
};
