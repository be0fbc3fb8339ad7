/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim: the operator's console. Creates and runs labs, changes their
 * configuration as the real cmdlets do, and reads what the lab shows. Each
 * subcommand lives in a cmd_*.c file; this file is the dispatch table. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "cli/cmd.h"
#include "lab/lab.h"
#include "base/util.h"

/* The version lives in the file VERSION; the Makefile passes it in. */
#ifndef WAPSIM_VERSION
#error "WAPSIM_VERSION is not defined (the Makefile passes -DWAPSIM_VERSION from the file VERSION)"
#endif

const char *ws_cli_lab;

static const ws_cmd *const tables[] = {ws_cmds_lab, ws_cmds_supervise, ws_cmds_logs, ws_cmds_cert, ws_cmds_rdpfile, ws_cmds_connect,
                                       ws_cmds_host, ws_cmds_service,
                                       ws_cmds_vmm, ws_cmds_gateway, ws_cmds_clock,
                                       ws_cmds_scenario, ws_cmds_diagnose, ws_cmds_exercise,
                                       ws_cmds_symptoms, ws_cmds_fabric_gateway, ws_cmds_fabric_balancer,
                                       ws_cmds_dns, ws_cmds_lab_export, ws_cmds_classroom};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: wapsim [--lab DIR] COMMAND [ARGS...]\n\n"
                 "A lab simulator of Windows Azure Pack Console Connect.\n"
                 "The lab is --lab DIR, else $WAPSIM_LAB, else ./lab.\n\nCommands:\n");
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const ws_cmd *c = tables[t]; c->name; c++) {
            if (c->name[0] == '_')
                continue;
            char name[64];
            snprintf(name, sizeof name, "%s%s%s", c->group ? c->group : "", c->group ? " " : "", c->name);
            fprintf(out, "  %-16s %s\n", name, c->summary);
        }
    fprintf(out, "\nRun 'wapsim COMMAND --help' for a command's options.\n");
}

/* The version, and the libraries' versions as loaded at run time (not as built against:
 * a security update of the shared library shows here without a rebuild). */
static void print_version(void)
{
    printf("wapsim %s\n%s\nSQLite %s\nlibmicrohttpd %s\n", WAPSIM_VERSION, OpenSSL_version(OPENSSL_VERSION),
           sqlite3_libversion(), MHD_get_version());
}

void ws_cmd_help(const ws_cmd *c)
{
    printf("usage: wapsim %s%s%s %s\n\n%s\n", c->group ? c->group : "", c->group ? " " : "", c->name, c->usage,
           c->summary);
    if (c->help)
        printf("\n%s", c->help);
}

int ws_cmd_open_lab(const char *lab_option, ws_state **st)
{
    ws_error e;
    const char *dir = ws_lab_dir(lab_option ? lab_option : ws_cli_lab);
    if (ws_lab_open(dir, st, &e) != 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_USAGE;
    }
    return 0;
}

int ws_cmd_parse_open(int argc, char **argv, const ws_opt *opts, unsigned flags, int min_pos, int max_pos,
                      ws_cli *cli, ws_state **st)
{
    int rc = ws_opt_parse(argc, argv, opts, flags, min_pos, max_pos, cli);
    return rc ? rc : ws_cmd_open_lab(cli->lab, st);
}

int ws_cmd_parse_arg(int argc, char **argv, const ws_opt *opts, unsigned flags, const char *missing, ws_cli *cli)
{
    int rc = ws_opt_parse(argc, argv, opts, flags, 0, 1, cli);
    if (rc == 0 && cli->argc == 0)
        rc = ws_cmd_usage_error("%s", missing);
    return rc;
}

int ws_cmd_output(int json, cJSON *o, void (*text)(const cJSON *o))
{
    if (json) {
        ws_cmd_print_json(o);
        return 0;
    }
    text(o);
    cJSON_Delete(o);
    return 0;
}

double ws_cmd_json_num(const cJSON *o, const char *key)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItem(o, key));
}

const char *ws_cmd_json_str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
}

/* How an error names a machine that should have had a role. */
static const char *role_noun(const char *role)
{
    static const char *const nouns[][2] = {{"host", "a Hyper-V host"}, {"vmm", "the VMM server"},
                                           {"gateway", "the RD Gateway"}, {"portal", "the portal"}};
    for (size_t i = 0; i < sizeof nouns / sizeof nouns[0]; i++)
        if (strcmp(role, nouns[i][0]) == 0)
            return nouns[i][1];
    return role;
}

int ws_cmd_machine(ws_state *st, const char *name, const char *role, ws_machine *m)
{
    ws_machine local;
    ws_error e;
    if (!m)
        m = &local;
    if (ws_machine_get(st, name, m, &e) != 0)
        return ws_cmd_usage_error("unknown machine '%s'", name);
    if (role && strcmp(m->role, role) != 0)
        return ws_cmd_usage_error("'%s' is not %s (its role is %s)", name, role_noun(role), m->role);
    return 0;
}

int ws_cmd_role_machine(ws_state *st, const char *role, ws_machine *m)
{
    ws_error e;
    if (ws_machine_by_role(st, role, m, &e) != 0)
        return ws_cmd_usage_error("%s", e.msg);
    return 0;
}

int ws_cmd_gateway_machine(ws_state *st, const char *name, ws_machine *m)
{
    return name ? ws_cmd_machine(st, name, "gateway", m) : ws_cmd_role_machine(st, "gateway", m);
}

int ws_cmd_commit(ws_state *st, int ok, ws_error *e)
{
    /* A failed commit has rolled back already; a rollback without a transaction is harmless. */
    if (ok && ws_state_commit(st, e) == 0)
        return 0;
    if (ok == 0)
        ws_state_rollback(st);
    ws_warn("%s", e->msg);
    return WS_EXIT_FAIL;
}

int ws_cmd_close(ws_state *st, int status)
{
    ws_state_close(st);
    return status;
}

void ws_cmd_print_json(cJSON *json)
{
    char *text = cJSON_Print(json);
    printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(json);
}

void ws_cmd_print_indented(const char *text)
{
    const char *p = text;
    while (*p) {
        size_t k = strcspn(p, "\n");
        printf("  %.*s\n", (int)k, p);
        p += k;
        if (*p)
            p++;
    }
}

int ws_cmd_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "wapsim: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return WS_EXIT_USAGE;
}

static const ws_cmd *find(const char *group, const char *name)
{
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const ws_cmd *c = tables[t]; c->name; c++)
            if (((!c->group && !group) || (c->group && group && strcmp(c->group, group) == 0)) &&
                name && strcmp(c->name, name) == 0)
                return c;
    return NULL;
}

static int is_group(const char *word)
{
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const ws_cmd *c = tables[t]; c->name; c++)
            if (c->group && strcmp(c->group, word) == 0)
                return 1;
    return 0;
}

/* A command's output that could not be written (a reader that went away: EPIPE) is one
 * line on stderr and a failed command, never a silent success. */
static int check_output(int rc)
{
    int err = fflush(stdout) != 0 ? errno : 0;
    if (!ferror(stdout))
        return rc;
    /* The failed write's errno is gone by now; a pipe without a reader says so itself. */
    struct pollfd p = {.fd = STDOUT_FILENO, .events = 0};
    if (!err && poll(&p, 1, 0) == 1 && (p.revents & POLLERR))
        err = EPIPE;
    ws_warn("cannot write the output: %s", err ? strerror(err) : "write error");
    return rc ? rc : WS_EXIT_FAIL;
}

static int run(int argc, char **argv);

/* A command that met a damaged state file is a usage error (exit 2), whatever it made
 * of the failed read. Its last line names the file: the command's own (ws_state_error
 * words it so), or, when it went on without saying so (a lookup that read "no such
 * row", a probe that counted a finding), this one. */
static int damage_status(int rc)
{
    const char *damaged = ws_state_damaged();
    if (!damaged)
        return rc;
    char said[4300];
    snprintf(said, sizeof said, "%s is damaged", damaged);
    if (strncmp(ws_warn_last(), said, strlen(said)) != 0)
        ws_warn("%s is damaged: database disk image is malformed", damaged);
    return WS_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    return ws_cli_main(argc, argv);
}

int ws_cli_main(int argc, char **argv)
{
    ws_progname = "wapsim";
    /* A peer (the gateway, a host, a pipe's reader) that closes is an error to report,
     * not a signal that ends the command without a word. */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    ws_state_watch_damage();
    return check_output(damage_status(run(argc, argv)));
}

static int run(int argc, char **argv)
{
    int i = 1;
    /* Global options before the command. */
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--lab") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return ws_cmd_usage_error("option '--lab' needs a directory");
            ws_cli_lab = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--lab=", 6) == 0) {
            if (!argv[i][6])
                return ws_cmd_usage_error("option '--lab' needs a directory");
            ws_cli_lab = argv[i] + 6;
            i++;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            print_version();
            return 0;
        } else {
            return ws_cmd_usage_error("unknown option '%s' (see wapsim --help)", argv[i]);
        }
    }
    if (i >= argc) {
        print_usage(stderr);
        return WS_EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    const ws_cmd *c;
    if (is_group(argv[i])) {
        const char *group = argv[i];
        if (i + 1 >= argc || strcmp(argv[i + 1], "--help") == 0) {
            printf("usage: wapsim %s SUBCOMMAND\n\n", group);
            for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
                for (const ws_cmd *k = tables[t]; k->name; k++)
                    if (k->group && strcmp(k->group, group) == 0)
                        printf("  %s %-10s %s\n", group, k->name, k->summary);
            return i + 1 >= argc ? WS_EXIT_USAGE : 0;
        }
        c = find(group, argv[i + 1]);
        if (!c)
            return ws_cmd_usage_error("unknown command '%s %s' (see wapsim %s --help)", group, argv[i + 1], group);
        i++;
    } else {
        c = find(NULL, argv[i]);
        if (!c)
            return ws_cmd_usage_error("unknown command '%s' (see wapsim --help)", argv[i]);
    }
    /* --help right after the command or as its last word; elsewhere it may be a value. */
    if (i + 1 < argc && (strcmp(argv[i + 1], "--help") == 0 || strcmp(argv[i + 1], "-h") == 0 ||
                         strcmp(argv[argc - 1], "--help") == 0)) {
        ws_cmd_help(c);
        return 0;
    }
    return c->run(argc - i, argv + i);
}

int ws_cmd_bad_option(int ch, char **argv)
{
    extern int optind, optopt;
    const char *arg = argv[optind - 1];
    if (ch == ':')
        return ws_cmd_usage_error("option '%s' needs a value", arg);
    if (optopt)
        return ws_cmd_usage_error("unknown option '-%c'", optopt);
    return ws_cmd_usage_error("unknown option '%s'", arg);
}
