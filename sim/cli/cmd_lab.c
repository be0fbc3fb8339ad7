/* wapsim lab init | lab accounts: creating a lab and listing its accounts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/lab.h"

static int lab_init(int argc, char **argv)
{
    ws_lab_init_opts o = {0};
    const ws_opt opts[] = {WS_OPT_STR("subnet", &o.subnet), WS_OPT_FLAG("fresh-keys", &o.fresh_keys), WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, WS_OPT_JSON, 0, 1, &cli);
    if (rc)
        return rc;
    int json = cli.json;
    o.dir = cli.argc ? cli.argv[0] : ws_lab_dir(cli.lab ? cli.lab : ws_cli_lab);
    if (!json)
        fprintf(stderr, "lab init: creating %s ...\n", o.dir);
    ws_lab_init_result r;
    ws_error e;
    if (ws_lab_init(&o, &r, &e) != 0) {
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
        cJSON *accounts = cJSON_AddArrayToObject(out, "accounts");
        for (int i = 0; i < WS_LAB_ACCOUNTS; i++) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "account", r.accounts[i].name);
            cJSON_AddStringToObject(a, "role", r.accounts[i].role);
            cJSON_AddStringToObject(a, "password", r.accounts[i].password);
            cJSON_AddItemToArray(accounts, a);
        }
        ws_cmd_print_json(out);
        return 0;
    }
    printf("Created lab %s on subnet %s (keys %s).\n\n", abs, r.subnet,
           r.keys_from_template ? "copied from the template" : "generated");
    printf("Accounts (listed again by 'wapsim lab accounts'):\n");
    for (int i = 0; i < WS_LAB_ACCOUNTS; i++)
        printf("  %-18s %-13s %s\n", r.accounts[i].name, r.accounts[i].role, r.accounts[i].password);
    printf("\nNext: wapsim --lab %s up\n", o.dir);
    return 0;
}

static void print_accounts(const cJSON *arr)
{
    printf("%-18s %-13s %s\n", "ACCOUNT", "ROLE", "PASSWORD");
    cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        printf("%-18s %-13s %s\n", ws_cmd_json_str(a, "account"), ws_cmd_json_str(a, "role"),
               ws_cmd_json_str(a, "password"));
    }
}

static int lab_accounts(int argc, char **argv)
{
    ws_cli cli;
    ws_state *st;
    int rc = ws_cmd_parse_open(argc, argv, NULL, WS_OPT_JSON, 0, 0, &cli, &st);
    if (rc)
        return rc;
    char path[4200];
    snprintf(path, sizeof path, "%s/accounts.json", st->lab_dir);
    ws_state_close(st);
    unsigned char *data;
    size_t len;
    ws_error e;
    if (ws_read_file(path, 1 << 20, &data, &len, &e) != 0) {
        ws_warn("%s", e.msg);
        return WS_EXIT_USAGE;
    }
    cJSON *arr = cJSON_ParseWithLength((const char *)data, len);
    free(data);
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        ws_warn("%s is damaged", path);
        return WS_EXIT_USAGE;
    }
    return ws_cmd_output(cli.json, arr, print_accounts);
}

const ws_cmd ws_cmds_lab[] = {
    {"lab", "init", lab_init, "[DIR] [--subnet 127.X.Y.0/24] [--fresh-keys] [--json]",
     "Create a lab with the default, healthy world.",
     "DIR defaults to --lab, $WAPSIM_LAB, or ./lab; it is created with mode 0700.\n"
     "  --subnet S     the lab's /24 in 127.0.0.0/8 (default: chosen from DIR, skipping\n"
     "                 subnets a running lab uses; a subnet in use is refused)\n"
     "  --fresh-keys   generate new keys instead of copying the key template\n"
     "  --json         print {\"lab\",\"subnet\",\"keys_from_template\",\"accounts\":[...]}\n"},
    {"lab", "accounts", lab_accounts, "[--json]", "List the lab's accounts and their passwords.",
     "  --json   print [{\"account\":...,\"role\":...,\"password\":...}]\n"},
    {0},
};
