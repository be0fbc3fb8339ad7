/* opt: see opt.h. Built on getopt_long, with the option table made from opts. */
#include "cli/opt.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
    case WS_OPTK_END: break;
    }
    return ws_cmd_usage_error("internal: option --%s has no kind", o->name);
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
    if (cli->argc > max_pos && max_pos >= 0)
        return ws_cmd_usage_error("unexpected argument '%s'", cli->argv[max_pos]);
    if (cli->argc < min_pos)
        return ws_cmd_usage_error("%s needs %d argument%s (see wapsim %s --help)", argv[0], min_pos,
                                  min_pos == 1 ? "" : "s", argv[0]);
    return 0;
}
