/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim fabric add-gateway | remove-gateway: more RD Gateway machines in a lab (issue
 * 14), as a new server joins a real deployment: the operator then imports and binds its
 * certificate and registers the VMM thumbprint on it (gateway set --machine NAME). */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/fabric.h"
#include "lab/machine.h"
#include "svc/supervisor.h"

static int add_gateway(int argc, char **argv)
{
    const char *address = NULL;
    const ws_opt opts[] = {WS_OPT_STR("address", &address), WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, WS_OPT_JSON,
                              "which machine? (wapsim fabric add-gateway NAME [--address A])", &cli);
    if (rc)
        return rc;
    const char *name = cli.argv[0];
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    ws_machine m;
    ws_error e;
    if (ws_state_begin(st, &e) != 0) {
        ws_warn("%s", e.msg);
        return ws_cmd_close(st, WS_EXIT_FAIL);
    }
    if (ws_fabric_add_gateway(st, name, address, &m, &e) != 0) {
        ws_state_rollback(st);
        return ws_cmd_close(st, ws_cmd_usage_error("%s", e.msg));
    }
    if ((rc = ws_cmd_commit(st, 1, &e)))
        return ws_cmd_close(st, rc);
    int running = ws_supervisor_pid(st) != 0;
    ws_state_close(st);
    if (cli.json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "machine", m.name);
        cJSON_AddStringToObject(o, "fqdn", m.fqdn);
        cJSON_AddStringToObject(o, "address", m.address);
        cJSON_AddNumberToObject(o, "port", m.port);
        cJSON_AddStringToObject(o, "role", m.role);
        cJSON_AddBoolToObject(o, "lab_running", running);
        ws_cmd_print_json(o);
        return 0;
    }
    printf("%s joined the fabric: %s, %s:%d, the lab root in its Root store.\n", m.name, m.fqdn, m.address, m.port);
    printf("Its RD Gateway service cannot start until a certificate is bound%s. Next:\n",
           running ? " (the supervisor keeps trying)" : "");
    printf("  wapsim cert import rdgw-ssl --machine %s --store My\n"
           "  wapsim gateway set --machine %s --ssl-cert rdgw-ssl --add-trusted-issuer vmm-console\n"
           "  wapsim cert import vmm-console --machine %s --store My --public-only\n"
           "  wapsim cert import vmm-console --machine %s --store Root --public-only\n"
           "  wapsim service restart %s\n",
           m.name, m.name, m.name, m.name, m.name);
    return 0;
}

static int remove_gateway(int argc, char **argv)
{
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, (const ws_opt[]){WS_OPT_END}, WS_OPT_JSON,
                              "which machine? (wapsim fabric remove-gateway NAME)", &cli);
    if (rc)
        return rc;
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    ws_machine m;
    if ((rc = ws_cmd_machine(st, cli.argv[0], "gateway", &m)))
        return ws_cmd_close(st, rc);
    ws_error e;
    if (ws_state_begin(st, &e) != 0) {
        ws_warn("%s", e.msg);
        return ws_cmd_close(st, WS_EXIT_FAIL);
    }
    if (ws_fabric_remove_gateway(st, m.name, &e) != 0) {
        ws_state_rollback(st);
        return ws_cmd_close(st, ws_cmd_usage_error("%s", e.msg));
    }
    if ((rc = ws_cmd_commit(st, 1, &e)))
        return ws_cmd_close(st, rc);
    ws_state_close(st);
    if (cli.json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "machine", m.name);
        cJSON_AddBoolToObject(o, "removed", 1);
        ws_cmd_print_json(o);
    } else {
        printf("%s left the fabric; the supervisor stops its process if it runs.\n", m.name);
    }
    return 0;
}

const ws_cmd ws_cmds_fabric_gateway[] = {
    {"fabric", "add-gateway", add_gateway, "NAME [--address A] [--json]",
     "A new RD Gateway server joins the fabric.",
     "NAME is a computer name (1 to 15 letters, digits and '-'); the machine is\n"
     "NAME.fabric.contoso.local on port 8443.\n"
     "  --address A  its address, in the lab's /24 and unused (default: the lowest free\n"
     "               one from .17 up)\n"
     "  --json       print {\"machine\",\"fqdn\",\"address\",\"port\",\"role\",\"lab_running\"}\n"
     "As a freshly installed server it has the lab root in LocalMachine\\Root and nothing\n"
     "else: no SSL certificate bound, no trusted issuer registered. Its service cannot start\n"
     "until a certificate is bound (wapsim gateway set --machine NAME --ssl-cert ...);\n"
     "diagnose says gateway-cert-missing@NAME meanwhile. When the lab runs, the supervisor\n"
     "starts it within a second. Logs event 1 [model] on NAME.\n"},
    {"fabric", "remove-gateway", remove_gateway, "NAME [--json]", "An RD Gateway server leaves the fabric.",
     "Its stores, trusted issuers and settings go; its events stay. Refused for a member of\n"
     "a balancer (change the balancer's members first) and for the lab's last gateway.\n"
     "When the lab runs, the supervisor stops its process within a second.\n"},
    {0},
};
