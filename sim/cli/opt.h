/* SPDX-License-Identifier: Apache-2.0 */
/* opt: the one option parser of every wapsim command. A command declares its
 * options as a table of rows {name, kind, where the value goes, range}; the
 * parser adds --lab DIR and --json, checks integer ranges, and says what is wrong
 * in one line naming the bad value, so no command repeats a getopt loop.
 *
 *     const char *tenant = NULL; int hold = 0;
 *     const ws_opt opts[] = {WS_OPT_STR("tenant", &tenant),
 *                            WS_OPT_INT("hold", &hold, 0, 3600, "seconds"), WS_OPT_END};
 *     ws_cli cli;
 *     int rc = ws_opt_parse(argc, argv, opts, WS_OPT_JSON, 0, 0, &cli);
 *     if (rc) return rc;
 *
 * --help is answered before a command runs (wapsim.c). Long options only, as
 * "--name value" or "--name=value"; positional arguments may stand anywhere. */
#ifndef WAPSIM_OPT_H
#define WAPSIM_OPT_H

#include <stdint.h>

enum ws_opt_kind {
    WS_OPTK_END = 0,
    WS_OPTK_FLAG,  /* no value; *(int *)dest = 1 */
    WS_OPTK_STR,   /* *(const char **)dest = the value (the last one given wins) */
    WS_OPTK_INT,   /* *(int *)dest = the value, an integer in [min, max] */
    WS_OPTK_INT64, /* *(int64_t *)dest, likewise */
    WS_OPTK_CALL,  /* fn(dest, value): for lists and named choices */
    WS_OPTK_LIST,  /* a repeatable option: each value appended to *(ws_strv *)dest (the caller frees it) */
};

typedef struct ws_opt {
    const char *name;      /* the long name without dashes: "tenant" */
    enum ws_opt_kind kind;
    void *dest;            /* where the value goes (see the kinds) */
    int64_t min, max;      /* INT, INT64: the accepted range, inclusive */
    const char *unit;      /* INT, INT64: what the number counts, for the error ("seconds"), or NULL */
    /* CALL: takes the value; returns 0, or prints one line with ws_cmd_usage_error and returns its status. */
    int (*fn)(void *dest, const char *value);
} ws_opt;

#define WS_OPT_FLAG(n, p) {(n), WS_OPTK_FLAG, (p), 0, 0, NULL, NULL}
#define WS_OPT_STR(n, p) {(n), WS_OPTK_STR, (p), 0, 0, NULL, NULL}
#define WS_OPT_INT(n, p, lo, hi, unit) {(n), WS_OPTK_INT, (p), (lo), (hi), (unit), NULL}
#define WS_OPT_INT64(n, p, lo, hi, unit) {(n), WS_OPTK_INT64, (p), (lo), (hi), (unit), NULL}
#define WS_OPT_CALL(n, p, f) {(n), WS_OPTK_CALL, (p), 0, 0, NULL, (f)}
#define WS_OPT_LIST(n, p) {(n), WS_OPTK_LIST, (p), 0, 0, NULL, NULL}
#define WS_OPT_END {NULL, WS_OPTK_END, NULL, 0, 0, NULL, NULL}

/* What every command gets besides its own options. */
typedef struct ws_cli {
    const char *lab; /* --lab DIR given after the command, or NULL (ws_cmd_open_lab falls back) */
    int json;        /* --json given (only with WS_OPT_JSON) */
    int argc;        /* positional arguments, in order */
    char **argv;     /* points into the caller's argv; argv[argc] is NULL */
} ws_cli;

#define WS_OPT_JSON 0x1     /* the command takes --json */
#define WS_OPT_NEGATIVE 0x2 /* "-90s", "-5", "-+1h" are arguments, not options (negative durations) */

/* Parse argv (argv[0] is the command's name; argv is reordered, as GNU getopt
 * does) against opts, --lab and, with WS_OPT_JSON, --json. Between min_pos and
 * max_pos positional arguments (max_pos -1: any number). Returns 0, or prints one
 * line naming the bad option or value and returns WS_EXIT_USAGE. */
int ws_opt_parse(int argc, char **argv, const ws_opt *opts, unsigned flags, int min_pos, int max_pos, ws_cli *cli);

/* An integer in [min, max] from text; 0, or -1 when it is not one (no message). */
int ws_opt_int(const char *text, int64_t min, int64_t max, int64_t *out);

#endif
