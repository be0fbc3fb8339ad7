/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim logs: the lab's event log, every machine's channels, as Event Viewer
 * shows them. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lab/clock.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/eventlog.h"
#include "lab/machine.h"

static void format_ms(int64_t ms, char *out, size_t n)
{
    char base[32];
    ws_time_format(ms / 1000, base, sizeof base);
    base[strlen(base) - 1] = '\0'; /* drop the Z to add milliseconds */
    snprintf(out, n, "%s.%03dZ", base, (int)(ms % 1000));
}

/* n bytes of s with control characters escaped (\n, \r, \t, \xNN): a text that came
 * from outside (a user name at sign-in) cannot start a line of its own or move the
 * terminal's cursor. The lab keeps the texts as they were written. */
static void put_escaped(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n')
            fputs("\\n", stdout);
        else if (ch == '\r')
            fputs("\\r", stdout);
        else if (ch == '\t')
            fputs("\\t", stdout);
        else if (ch < 0x20 || ch == 0x7f)
            printf("\\x%02x", ch);
        else
            putchar(ch);
    }
}

static void put_field(const char *s, int width)
{
    put_escaped(s, strlen(s));
    for (int k = (int)strlen(s); k < width; k++)
        putchar(' ');
}

static int print_text(const ws_event_rec *r, void *arg)
{
    (void)arg;
    char when[48];
    format_ms(r->time_ms, when, sizeof when);
    printf("%s ", when);
    put_field(r->machine, 7);
    putchar(' ');
    if (strcmp(r->channel, WS_CHANNEL_TRACE) == 0) {
        /* A trace block spans lines: each is indented, so none passes for a record. */
        put_field(r->source, 0);
        printf(" trace block:\n");
        const char *p = r->text;
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            printf("    ");
            put_escaped(p, len);
            putchar('\n');
            p += len + (nl ? 1 : 0);
        }
        return 0;
    }
    put_field(r->channel, 0);
    printf(" %d ", r->event_id);
    put_field(r->level, 0);
    printf(" [");
    put_field(r->source, 0);
    printf("] ");
    put_field(r->text, 0);
    putchar('\n');
    return 0;
}

static int add_json(const ws_event_rec *r, void *arg)
{
    cJSON *o = cJSON_CreateObject();
    char when[48];
    format_ms(r->time_ms, when, sizeof when);
    cJSON_AddNumberToObject(o, "record", (double)r->id);
    cJSON_AddStringToObject(o, "time", when);
    cJSON_AddStringToObject(o, "machine", r->machine);
    cJSON_AddStringToObject(o, "channel", r->channel);
    cJSON_AddStringToObject(o, "source", r->source);
    cJSON_AddNumberToObject(o, "event_id", r->event_id);
    cJSON_AddStringToObject(o, "level", r->level);
    cJSON_AddStringToObject(o, "text", r->text);
    cJSON_AddItemToArray(arg, o);
    return 0;
}

static int cmd_logs(int argc, char **argv)
{
    ws_event_filter f = {0};
    const char *since = NULL;
    const ws_opt opts[] = {WS_OPT_STR("machine", &f.machine), WS_OPT_STR("channel", &f.channel),
                           WS_OPT_STR("since", &since), WS_OPT_END};
    ws_cli cli;
    ws_state *st;
    int rc = ws_cmd_parse_open(argc, argv, opts, WS_OPT_JSON, 0, 0, &cli, &st);
    if (rc)
        return rc;
    int json = cli.json;
    ws_error e;
    if (f.machine && (rc = ws_cmd_machine(st, f.machine, NULL, NULL)))
        return ws_cmd_close(st, rc);
    if (since) {
        /* A duration means "this long ago on the lab clock"; otherwise a time. */
        int64_t secs, t;
        if (ws_time_parse(since, &t, NULL) == 0 && (t < 0 || t > 32503680000LL)) { /* beyond year 3000 */
            return ws_cmd_close(st, ws_cmd_usage_error("bad --since '%s': out of range", since));
        }
        if (ws_duration_parse(since, &secs, NULL) == 0)
            f.since_ms = (ws_clock_now(st, NULL) - (secs < 0 ? -secs : secs)) * 1000;
        else if (ws_time_parse(since, &t, NULL) == 0)
            f.since_ms = t * 1000;
        else {
            ws_state_close(st);
            return ws_cmd_usage_error("bad --since '%s' (a duration like 10m, or a time like 2026-11-25T18:00:00Z)",
                                      since);
        }
    }
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    rc = ws_event_foreach(st, &f, json ? add_json : print_text, arr, &e);
    ws_state_close(st);
    if (rc != 0) {
        cJSON_Delete(arr);
        ws_warn("%s", e.msg);
        return rc == WS_EVENTLOG_DAMAGED ? WS_EXIT_USAGE : WS_EXIT_FAIL;
    }
    if (json)
        ws_cmd_print_json(arr);
    return 0;
}

const ws_cmd ws_cmds_logs[] = {
    {NULL, "logs", cmd_logs, "[--machine M] [--channel C] [--since T] [--json]",
     "The lab's event log: every machine's channels and trace blocks.",
     "  --machine M   one machine's records (hv01, rdgw01, ...)\n"
     "  --channel C   one channel, as Windows names it: System, Application, VMM, Trace,\n"
     "                Microsoft-Windows-TerminalServices-Gateway/Operational\n"
     "  --since T     records from T on: a duration back (10m, 2h) or a time\n"
     "                (2026-11-25T18:00:00Z) on the lab clock\n"
     "  --json        [{\"record\",\"time\",\"machine\",\"channel\",\"source\",\"event_id\",\"level\",\"text\"}]\n"},
    {0},
};
