/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim lab init | lab accounts: creating a lab, listing its accounts and their
 * lockouts, unlocking one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "base/time.h"
#include "lab/accounts.h"
#include "lab/lab.h"

/* "a\tb\tc" -> its fields (at most n). */
static int fields(const char *line, char out[][128], int n)
{
    int k = 0;
    for (const char *p = line; k < n; k++) {
        size_t len = strcspn(p, "\t");
        snprintf(out[k], 128, "%.*s", (int)len, p);
        if (!p[len])
            return k + 1;
        p += len + 1;
    }
    return k;
}

/* lab init --from's additions: what was defaulted, the stand-ins, unknown thumbprints. */
static void add_import_json(cJSON *out, const ws_lab_init_result *r)
{
    char f[3][128];
    cJSON *defaults = cJSON_AddArrayToObject(out, "defaults");
    for (int i = 0; i < r->report.defaults.n; i++)
        cJSON_AddItemToArray(defaults, cJSON_CreateString(r->report.defaults.v[i]));
    cJSON *standins = cJSON_AddArrayToObject(out, "standins");
    for (int i = 0; i < r->report.standins.n; i++) {
        fields(r->report.standins.v[i], f, 3);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", f[0]);
        cJSON_AddStringToObject(o, "thumbprint", f[1]);
        cJSON_AddStringToObject(o, "original_thumbprint", f[2]);
        cJSON_AddItemToArray(standins, o);
    }
    cJSON *unknown = cJSON_AddArrayToObject(out, "unknown_thumbprints");
    for (int i = 0; i < r->report.unknown.n; i++) {
        fields(r->report.unknown.v[i], f, 2);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", f[0]);
        cJSON_AddStringToObject(o, "thumbprint", f[1]);
        cJSON_AddItemToArray(unknown, o);
    }
}

static void print_import(const ws_lab_init_result *r)
{
    char f[3][128];
    printf("Stand-ins (the customer's private keys do not travel: same fields, new keys):\n");
    for (int i = 0; i < r->report.standins.n; i++) {
        fields(r->report.standins.v[i], f, 3);
        printf("  %-20s %s (stand-in for %s)\n", f[0], f[1], f[2]);
    }
    if (r->report.unknown.n) {
        printf("\nRegistered thumbprints no certificate of the deployment has (kept as written):\n");
        for (int i = 0; i < r->report.unknown.n; i++) {
            fields(r->report.unknown.v[i], f, 2);
            printf("  %s: %s\n", f[0], f[1]);
        }
    }
    printf("\nDefaults taken (not in the deployment):\n");
    for (int i = 0; i < r->report.defaults.n; i++)
        printf("  %s\n", r->report.defaults.v[i]);
    printf("\n");
}

static int lab_init(int argc, char **argv)
{
    ws_lab_init_opts o = {0};
    const ws_opt opts[] = {WS_OPT_STR("subnet", &o.subnet), WS_OPT_FLAG("fresh-keys", &o.fresh_keys),
                           WS_OPT_FLAG("ha", &o.ha), WS_OPT_STR("from", &o.from), WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, WS_OPT_JSON, 0, 1, &cli);
    if (rc)
        return rc;
    int json = cli.json;
    o.dir = cli.argc ? cli.argv[0] : ws_lab_dir(cli.lab ? cli.lab : ws_cli_lab);
    if (o.from && o.ha)
        return ws_cmd_usage_error("--ha with --from: the deployment says whether there is a balancer");
    if (!json)
        fprintf(stderr, "lab init: creating %s%s%s ...\n", o.dir, o.from ? " from " : "", o.from ? o.from : "");
    static ws_lab_init_result r; /* large: an imported lab's accounts */
    ws_error e;
    if (ws_lab_init(&o, &r, &e) != 0) {
        ws_lab_init_result_free(&r);
        ws_warn("%s", e.msg);
        return WS_EXIT_USAGE;
    }
    char abs[4096];
    if (!realpath(o.dir, abs))
        snprintf(abs, sizeof abs, "%s", o.dir);
    if (json) {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "lab", abs);
        cJSON_AddStringToObject(out, "subnet", r.subnet);
        cJSON_AddBoolToObject(out, "keys_from_template", r.keys_from_template);
        cJSON_AddBoolToObject(out, "ha", o.ha);
        cJSON *accounts = cJSON_AddArrayToObject(out, "accounts");
        for (int i = 0; i < r.n_accounts; i++) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "account", r.accounts[i].name);
            cJSON_AddStringToObject(a, "role", r.accounts[i].role);
            cJSON_AddStringToObject(a, "password", r.accounts[i].password);
            cJSON_AddItemToArray(accounts, a);
        }
        if (o.from)
            add_import_json(out, &r);
        ws_lab_init_result_free(&r);
        ws_cmd_print_json(out);
        return 0;
    }
    if (o.from)
        printf("Created lab %s from the deployment %s on subnet %s.\n\n", abs, o.from, r.subnet);
    else
        printf("Created %slab %s on subnet %s (keys %s).\n\n", o.ha ? "the highly available " : "", abs, r.subnet,
               r.keys_from_template ? "copied from the template" : "generated");
    if (o.from)
        print_import(&r);
    printf("Accounts (listed again by 'wapsim lab accounts'):\n");
    for (int i = 0; i < r.n_accounts; i++)
        printf("  %-18s %-13s %s\n", r.accounts[i].name, r.accounts[i].role, r.accounts[i].password);
    printf("\nNext: wapsim --lab %s up\n", o.dir);
    ws_lab_init_result_free(&r);
    return 0;
}

static void print_accounts(const cJSON *arr)
{
    printf("%-18s %-13s %-16s %s\n", "ACCOUNT", "ROLE", "PASSWORD", "STATE");
    cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        char state[200];
        const char *until = ws_cmd_json_str(a, "locked_until");
        int bad = (int)ws_cmd_json_num(a, "bad_password_count");
        if (cJSON_IsTrue(cJSON_GetObjectItem(a, "locked_out")))
            snprintf(state, sizeof state, "locked out until %s (on %s, from %s)", until ? until : "?",
                     ws_cmd_json_str(a, "locked_out_on") ? ws_cmd_json_str(a, "locked_out_on") : "?",
                     ws_cmd_json_str(a, "locked_out_by") ? ws_cmd_json_str(a, "locked_out_by") : "?");
        else if (bad > 0)
            snprintf(state, sizeof state, "%d bad password%s", bad, bad == 1 ? "" : "s");
        else
            snprintf(state, sizeof state, "ok");
        printf("%-18s %-13s %-16s %s\n", ws_cmd_json_str(a, "account"), ws_cmd_json_str(a, "role"),
               ws_cmd_json_str(a, "password"), state);
    }
}

/* The lockout state of each account of the owner's copy, added to its object. */
static int add_lockouts(ws_state *st, cJSON *arr, ws_error *e)
{
    ws_account_lockout *locks;
    size_t n;
    if (ws_account_lockouts(st, &locks, &n, e) != 0)
        return -1;
    cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        const char *name = ws_cmd_json_str(a, "account");
        const ws_account_lockout *l = NULL;
        for (size_t i = 0; name && i < n; i++)
            if (strcasecmp(locks[i].name, name) == 0)
                l = &locks[i];
        cJSON_AddBoolToObject(a, "locked_out", l && l->locked_out);
        cJSON_AddNumberToObject(a, "bad_password_count", l ? l->bad_pwd_count : 0);
        if (l && l->locked_out) {
            char until[40];
            ws_time_format(l->locked_until, until, sizeof until);
            cJSON_AddStringToObject(a, "locked_until", until);
            cJSON_AddStringToObject(a, "locked_out_on", l->machine);
            cJSON_AddStringToObject(a, "locked_out_by", l->caller);
        } else {
            cJSON_AddNullToObject(a, "locked_until");
        }
    }
    free(locks);
    return 0;
}

/* Unlock-ADAccount NAME. */
static int unlock_account(ws_state *st, const char *name, int json)
{
    ws_error e = {""};
    int rc = ws_account_unlock(st, name, "wapsim lab accounts --unlock", &e);
    if (rc == WS_NOT_FOUND)
        return ws_cmd_usage_error("unknown account '%s' (see wapsim lab accounts)", name);
    if (rc < 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_FAIL;
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "account", name);
        cJSON_AddBoolToObject(o, "was_locked_out", rc == 1);
        ws_cmd_print_json(o);
    } else {
        printf(rc == 1 ? "Unlocked %s.\n" : "%s was not locked out; its bad-password count is cleared.\n", name);
    }
    return 0;
}

static int lab_accounts(int argc, char **argv)
{
    const char *unlock = NULL;
    const ws_opt opts[] = {WS_OPT_STR("unlock", &unlock), WS_OPT_END};
    ws_cli cli;
    ws_state *st;
    int rc = ws_cmd_parse_open(argc, argv, opts, WS_OPT_JSON, 0, 0, &cli, &st);
    if (rc)
        return rc;
    if (unlock)
        return ws_cmd_close(st, unlock_account(st, unlock, cli.json));
    char path[4200];
    snprintf(path, sizeof path, "%s/accounts.json", st->lab_dir);
    unsigned char *data;
    size_t len;
    ws_error e;
    if (ws_read_file(path, 1 << 20, &data, &len, &e) != 0) {
        ws_warn("%s", e.msg);
        return ws_cmd_close(st, WS_EXIT_USAGE);
    }
    cJSON *arr = cJSON_ParseWithLength((const char *)data, len);
    free(data);
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        ws_warn("%s is damaged", path);
        return ws_cmd_close(st, WS_EXIT_USAGE);
    }
    if (add_lockouts(st, arr, &e) != 0) {
        cJSON_Delete(arr);
        ws_warn("%s", e.msg);
        return ws_cmd_close(st, WS_EXIT_USAGE);
    }
    ws_state_close(st);
    return ws_cmd_output(cli.json, arr, print_accounts);
}

const ws_cmd ws_cmds_lab[] = {
    {"lab", "init", lab_init, "[DIR] [--subnet 127.X.Y.0/24] [--fresh-keys] [--ha | --from PATH] [--json]",
     "Create a lab with the default, healthy world, or one that is a customer's deployment.",
     "DIR defaults to --lab, $WAPSIM_LAB, or ./lab; it is created with mode 0700.\n"
     "  --subnet S     the lab's /24 in 127.0.0.0/8 (default: chosen from DIR, skipping\n"
     "                 subnets a running lab uses; a subnet in use is refused)\n"
     "  --fresh-keys   generate new keys instead of copying the key template\n"
     "  --ha           the highly available layout: rdgw02 beside rdgw01, both bound to\n"
     "                 rdgw-ssl with the VMM thumbprint registered, behind lb01 (tcp mode,\n"
     "                 no affinity) whose public name rdgw.contoso.com the tenant's PC\n"
     "                 resolves (README: the HA layout). The same key template serves both\n"
     "                 layouts: the HA one adds no certificate\n"
     "  --from PATH    build the lab a deployment describes (deployment.json and its\n"
     "                 certificate files: a folder, a .zip or a .tar.gz; format:\n"
     "                 schema/deployment-v1.schema.json): its machines, certificates (each a\n"
     "                 stand-in: same fields, new key), stores, settings, tenants and VMs; what it\n"
     "                 leaves out takes the default lab's value and is listed. Bad input is\n"
     "                 refused in one line naming the JSON path, and nothing is left behind\n"
     "  --json         print {\"lab\",\"subnet\",\"keys_from_template\",\"ha\",\"accounts\":[...]};\n"
     "                 with --from also \"defaults\":[...], \"standins\":[{\"name\",\"thumbprint\",\n"
     "                 \"original_thumbprint\"}], \"unknown_thumbprints\":[{\"path\",\"thumbprint\"}]\n"},
    {"lab", "accounts", lab_accounts, "[--unlock NAME] [--json]",
     "List the lab's accounts, their passwords and lockouts; unlock one.",
     "Accounts are locked out as an AD account lockout policy does [model]: 10 bad\n"
     "passwords within 15 minutes lock an account for 15 minutes of the lab clock\n"
     "(wapsim clock advance ends it sooner); a locked-out account is refused even with\n"
     "its right password. Event 4740 is in the Security log of the machine that checked.\n"
     "  --unlock NAME   Unlock-ADAccount: end NAME's lockout and clear its count (4767)\n"
     "  --json          print [{\"account\",\"role\",\"password\",\"locked_out\",\n"
     "                  \"bad_password_count\",\"locked_until\",\"locked_out_on\",\"locked_out_by\"}];\n"
     "                  with --unlock, {\"account\",\"was_locked_out\"}\n"},
    {0},
};
