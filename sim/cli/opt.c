/* SPDX-License-Identifier: Apache-2.0 */
/* opt: see opt.h. Built on getopt_long, with the option table made from opts. */
#include "cli/opt.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"
#include "cli/cmd.h"

#define MAX_OPTS 64

int ws_opt_int(const char *text, int64_t min, int64_t max, int64_t *out)
{
    if (!text || !*text)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int take_value(const ws_opt *o, const char *value)
{
    int64_t v;
    switch (o->kind) {
    case WS_OPTK_FLAG: *(int *)o->dest = 1; return 0;
    case WS_OPTK_STR: *(const char **)o->dest = value; return 0;
    case WS_OPTK_INT:
    case WS_OPTK_INT64:
        if (ws_opt_int(value, o->min, o->max, &v) != 0)
            return ws_cmd_usage_error("bad --%s '%s' (%s%s%" PRId64 "..%" PRId64 ")", o->name, value,
                                      o->unit ? o->unit : "", o->unit ? ", " : "", o->min, o->max);
        if (o->kind == WS_OPTK_INT)
            *(int *)o->dest = (int)v;
        else
            *(int64_t *)o->dest = v;
        return 0;
    case WS_OPTK_CALL: return o->fn(o->dest, value);
    case WS_OPTK_LIST:
        if (ws_strv_add(o->dest, value) != 0)
            abort();
        return 0;
    case WS_OPTK_END: break;
    }
    return ws_cmd_usage_error("internal: option --%s has no kind", o->name);
}

/* Whether "--name" (no '=') is an option that takes the next word as its value, as
 * getopt_long matches it: the exact name, or the only option it abbreviates. */
static int takes_value(const struct option *table, const char *arg)
{
    const char *name = arg + 2;
    size_t n = strlen(name);
    const struct option *match = NULL;
    int matches = 0;
    for (const struct option *o = table; o->name; o++) {
        if (strcmp(o->name, name) == 0)
            return o->has_arg == required_argument;
        if (n && strncmp(o->name, name, n) == 0) {
            match = o;
            matches++;
        }
    }
    return matches == 1 && match->has_arg == required_argument;
}

/* WS_OPT_NEGATIVE: "-90s" or "-+1h" that is no option's value is an argument. getopt
 * would read it as short options, so it is hidden from getopt as "90s" (the pointer
 * moved past its '-') and put back afterwards. Returns how many were hidden. */
static int hide_negatives(int argc, char **argv, const struct option *table, char **hidden)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--") == 0)
            break;
        if (s[0] == '-' && s[1] == '-' && !strchr(s, '=') && takes_value(table, s))
            i++;
        else if (s[0] == '-' && (isdigit((unsigned char)s[1]) || s[1] == '+'))
            hidden[n++] = argv[i]++;
    }
    return n;
}

static void unhide_negatives(ws_cli *cli, char **hidden, int n)
{
    for (int i = 0; i < cli->argc; i++)
        for (int k = 0; k < n; k++)
            if (cli->argv[i] == hidden[k] + 1)
                cli->argv[i] = hidden[k];
}

/* The getopt_long loop; fills cli's --lab, --json and positional arguments. */
static int parse_loop(int argc, char **argv, const ws_opt *opts, int n, const struct option *table, ws_cli *cli)
{
    int ch;
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", table, NULL)) != -1) {
        if (ch == 'l') {
            if (!*optarg)
                return ws_cmd_usage_error("option '--lab' needs a directory");
            cli->lab = optarg;
        } else if (ch == 'j') {
            cli->json = 1;
        } else if (ch >= 256 && ch < 256 + n) {
            int rc = take_value(&opts[ch - 256], optarg);
            if (rc)
                return rc;
        } else {
            return ws_cmd_bad_option(ch, argv);
        }
    }
    cli->argc = argc - optind;
    cli->argv = argv + optind;
    return 0;
}

int ws_opt_parse(int argc, char **argv, const ws_opt *opts, unsigned flags, int min_pos, int max_pos, ws_cli *cli)
{
    struct option table[MAX_OPTS + 3];
    int n = 0;
    memset(cli, 0, sizeof *cli);
    for (; opts && opts[n].name; n++) {
        if (n >= MAX_OPTS)
            return ws_cmd_usage_error("internal: more than %d options", MAX_OPTS);
        table[n] = (struct option){opts[n].name, opts[n].kind == WS_OPTK_FLAG ? no_argument : required_argument,
                                   NULL, 256 + n};
    }
    int k = n;
    table[k++] = (struct option){"lab", required_argument, NULL, 'l'};
    if (flags & WS_OPT_JSON)
        table[k++] = (struct option){"json", no_argument, NULL, 'j'};
    table[k] = (struct option){NULL, 0, NULL, 0};

    char **hidden = NULL;
    int nhidden = 0;
    if (flags & WS_OPT_NEGATIVE) {
        if (!(hidden = calloc((size_t)argc + 1, sizeof *hidden)))
            abort();
        nhidden = hide_negatives(argc, argv, table, hidden);
    }
    int rc = parse_loop(argc, argv, opts, n, table, cli);
    if (hidden) {
        unhide_negatives(cli, hidden, nhidden);
        free(hidden);
    }
    if (rc)
        return rc;
    if (cli->argc > max_pos && max_pos >= 0)
        return ws_cmd_usage_error("unexpected argument '%s'", cli->argv[max_pos]);
    if (cli->argc < min_pos)
        return ws_cmd_usage_error("%s needs %d argument%s (see wapsim %s --help)", argv[0], min_pos,
                                  min_pos == 1 ? "" : "s", argv[0]);
    return 0;
}
