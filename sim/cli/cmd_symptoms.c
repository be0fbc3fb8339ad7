/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim symptoms: every symptom the lab can show, with where it comes from: each event
 * of the catalogue (lab/events.h) and each code Remote Desktop Connection can end with
 * (wire/disconnect.h), a REFERENCE.md section or [model] beside each. The README's
 * tables are this command's output (tests/integration/test_labels.sh compares them). */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/events.h"
#include "wire/disconnect.h"

/* A table cell: s with "|" escaped and newlines as spaces, cut to max characters ("..."). */
static void cell(const char *s, size_t max)
{
    size_t i = 0;
    for (; s[i] && i < max; i++) {
        if (s[i] == '|')
            fputs("\\|", stdout);
        else
            putchar(s[i] == '\n' ? ' ' : s[i]);
    }
    if (s[i])
        fputs("...", stdout);
}

static const char *kind_name(ws_disc_kind k)
{
    return k == WS_DISC_KIND_REASON ? "disconnect reason" : k == WS_DISC_KIND_AUTH ? "authentication error" : "Set Error Info";
}

static void print_markdown(void)
{
    puts("| event | log | source | id | text (start) | where from |");
    puts("|---|---|---|---|---|---|");
    for (int i = 0; i < WS_EV_COUNT; i++) {
        const ws_event_def *d = ws_event_def_get((ws_ev)i);
        printf("| %s | %s | %s | %d | ", d->name + 6, d->channel, d->source ? d->source : "(the program)", d->event_id);
        cell(d->text, 70);
        fputs(" | ", stdout);
        cell(d->origin ? d->origin : "", 400);
        puts(" |");
    }
    puts("");
    puts("| client code | kind | name | text (start) | where from |");
    puts("|---|---|---|---|---|");
    for (size_t i = 0; ws_disconnect_at(i); i++) {
        const ws_disconnect_def *d = ws_disconnect_at(i);
        if (d->kind == WS_DISC_KIND_REASON)
            printf("| %u | ", d->code);
        else
            printf("| 0x%X | ", d->code);
        printf("%s | %s | ", kind_name(d->kind), d->name);
        cell(d->text, 90);
        fputs(" | ", stdout);
        cell(d->origin, 400);
        puts(" |");
    }
}

static void print_json(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *events = cJSON_AddArrayToObject(o, "events");
    for (int i = 0; i < WS_EV_COUNT; i++) {
        const ws_event_def *d = ws_event_def_get((ws_ev)i);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", d->name);
        cJSON_AddNumberToObject(e, "id", d->event_id);
        cJSON_AddStringToObject(e, "log", d->channel);
        if (d->source)
            cJSON_AddStringToObject(e, "source", d->source);
        else
            cJSON_AddNullToObject(e, "source");
        cJSON_AddStringToObject(e, "text", d->text);
        cJSON_AddStringToObject(e, "origin", d->origin ? d->origin : "");
        cJSON_AddItemToArray(events, e);
    }
    cJSON *codes = cJSON_AddArrayToObject(o, "client_codes");
    for (size_t i = 0; ws_disconnect_at(i); i++) {
        const ws_disconnect_def *d = ws_disconnect_at(i);
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "code", d->code);
        cJSON_AddStringToObject(c, "kind", kind_name(d->kind));
        cJSON_AddStringToObject(c, "name", d->name);
        cJSON_AddStringToObject(c, "text", d->text);
        cJSON_AddStringToObject(c, "origin", d->origin);
        cJSON_AddItemToArray(codes, c);
    }
    ws_cmd_print_json(o);
}

static int cmd_symptoms(int argc, char **argv)
{
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, NULL, WS_OPT_JSON, 0, 0, &cli);
    if (rc)
        return rc;
    if (cli.json)
        print_json();
    else
        print_markdown();
    return 0;
}

const ws_cmd ws_cmds_symptoms[] = {
    {NULL, "symptoms", cmd_symptoms, "[--json]",
     "Every event and client code the lab can show, with its source or [model].",
     "Two Markdown tables (the README's): the event catalogue (id, log, source, text, where from) and\n"
     "the codes Remote Desktop Connection can end with (code, text, where from). No lab needed.\n"
     "  --json   {\"events\":[{\"name\",\"id\",\"log\",\"source\",\"text\",\"origin\"}],\n"
     "           \"client_codes\":[{\"code\",\"kind\",\"name\",\"text\",\"origin\"}]}\n"},
    {0},
};
