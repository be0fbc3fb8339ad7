/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim fabric add-balancer | set-balancer | remove-balancer: a load balancer in front
 * of the gateways (issue 14). The lab layer makes the change (lab/balancer.h); when the
 * lab is running, the balancer's service is started, restarted (an appliance applies a
 * changed virtual server at once [model]) or stopped here through the supervisor. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/balancer.h"
#include "svc/supervisor.h"

#define SERVICE_TIMEOUT_MS 20000

/* Start, restart or stop the balancer's process when the lab runs: "" when it does not,
 * else what happened; a failure is one line on stderr and returns 1. */
static int control(ws_state *st, const char *name, ws_service_action action, char *what, size_t n)
{
    snprintf(what, n, "the lab is not running: its service starts with wapsim up");
    int lock = ws_lifecycle_lock(st);
    int rc = 0;
    if (ws_supervisor_pid(st)) {
        ws_service_result r;
        ws_error e;
        if (ws_service_control(st, name, action, SERVICE_TIMEOUT_MS, &r, &e) != 0) {
            ws_warn("%s", e.msg);
            rc = 1;
        } else {
            snprintf(what, n, "service %s (pid %ld)", r.result, (long)(r.pid ? r.pid : r.old_pid));
        }
    }
    if (lock >= 0)
        close(lock);
    return rc;
}

static int print(int json, const char *verb, const ws_lb_result *r, const char *service)
{
    char members[WS_LB_MAX_MEMBERS * 65];
    ws_lb_members_join(&r->config, members, sizeof members);
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "action", verb);
        cJSON_AddStringToObject(o, "name", r->name);
        cJSON_AddStringToObject(o, "address", r->address);
        cJSON_AddNumberToObject(o, "port", r->port);
        cJSON_AddStringToObject(o, "fqdn", r->fqdn);
        cJSON_AddStringToObject(o, "public_fqdn", r->public_fqdn);
        cJSON *arr = cJSON_AddArrayToObject(o, "members");
        for (int i = 0; i < r->config.n_members; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(r->config.members[i]));
        cJSON_AddStringToObject(o, "mode", ws_lb_mode_name(r->config.mode));
        cJSON_AddStringToObject(o, "affinity", ws_lb_affinity_name(r->config.affinity));
        cJSON_AddBoolToObject(o, "reencrypt", r->config.reencrypt);
        if (r->config.cert[0])
            cJSON_AddStringToObject(o, "cert", r->config.cert);
        else
            cJSON_AddNullToObject(o, "cert");
        cJSON_AddStringToObject(o, "previous_owner", r->old_public_owner);
        cJSON_AddStringToObject(o, "service", service);
        ws_cmd_print_json(o);
        return 0;
    }
    if (strcmp(verb, "removed") == 0) {
        printf("%s removed (%s:%d); %s resolves to %s again for the tenant's PC; %s.\n", r->name, r->address,
               r->port, r->public_fqdn[0] ? r->public_fqdn : "its name",
               r->old_public_owner[0] ? r->old_public_owner : "no member", service);
        return 0;
    }
    int offload = r->config.mode == WS_LB_MODE_TLS_OFFLOAD;
    printf("%s %s: %s (%s:%d), virtual server %s; members %s, mode %s%s, affinity %s%s%s.\n", r->name, verb,
           r->fqdn, r->address, r->port, r->public_fqdn, members, ws_lb_mode_name(r->config.mode),
           offload ? (r->config.reencrypt ? " (re-encrypt)" : " (plain to members)") : "",
           ws_lb_affinity_name(r->config.affinity), offload && r->config.cert[0] ? ", certificate " : "",
           offload ? r->config.cert : "");
    if (r->old_public_owner[0])
        printf("%s moved off %s: the tenant's PC resolves it to %s.\n", r->public_fqdn, r->old_public_owner,
               r->address);
    printf("%s: %s.\n", r->name, service);
    return 0;
}

/* add-balancer and set-balancer share their options. */
static int add_or_set(int argc, char **argv, int add)
{
    ws_lb_request rq = {.reencrypt = -1};
    int reencrypt = 0, no_reencrypt = 0;
    const ws_opt opts[] = {WS_OPT_STR("members", &rq.members),   WS_OPT_STR("mode", &rq.mode),
                           WS_OPT_STR("affinity", &rq.affinity), WS_OPT_STR("fqdn", &rq.fqdn),
                           WS_OPT_STR("cert", &rq.cert),         WS_OPT_FLAG("reencrypt", &reencrypt),
                           WS_OPT_FLAG("no-reencrypt", &no_reencrypt), WS_OPT_END};
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, opts, WS_OPT_JSON,
                              add ? "which balancer? (wapsim fabric add-balancer lb01 --members rdgw01,rdgw02)"
                                  : "which balancer? (wapsim fabric set-balancer lb01 --mode tcp)",
                              &cli);
    if (rc)
        return rc;
    if (reencrypt && no_reencrypt)
        return ws_cmd_usage_error("--reencrypt and --no-reencrypt together: give one");
    if (reencrypt || no_reencrypt)
        rq.reencrypt = reencrypt;
    if (!add && !rq.members && !rq.mode && !rq.affinity && !rq.fqdn && !rq.cert && rq.reencrypt < 0)
        return ws_cmd_usage_error("nothing to set (give --members, --mode, --affinity, --fqdn, --cert or "
                                  "--[no-]reencrypt)");
    rq.name = cli.argv[0];
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    ws_lb_result r;
    ws_error e;
    if ((add ? ws_fabric_add_balancer(st, &rq, &r, &e) : ws_fabric_set_balancer(st, &rq, &r, &e)) != 0) {
        ws_warn("%s-balancer: %s", add ? "add" : "set", e.msg);
        return ws_cmd_close(st, WS_EXIT_USAGE);
    }
    char service[160];
    rc = control(st, r.name, add ? WS_SERVICE_START : WS_SERVICE_RESTART, service, sizeof service);
    print(cli.json, add ? "added" : "changed", &r, service);
    return ws_cmd_close(st, rc ? WS_EXIT_FAIL : 0);
}

static int cmd_add(int argc, char **argv)
{
    return add_or_set(argc, argv, 1);
}

static int cmd_set(int argc, char **argv)
{
    return add_or_set(argc, argv, 0);
}

static int cmd_remove(int argc, char **argv)
{
    ws_cli cli;
    int rc = ws_cmd_parse_arg(argc, argv, NULL, WS_OPT_JSON,
                              "which balancer? (wapsim fabric remove-balancer lb01)", &cli);
    if (rc)
        return rc;
    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    ws_machine m;
    if ((rc = ws_cmd_machine(st, cli.argv[0], "balancer", &m)))
        return ws_cmd_close(st, rc);
    char service[160];
    if (control(st, m.name, WS_SERVICE_STOP, service, sizeof service) != 0)
        return ws_cmd_close(st, WS_EXIT_FAIL);
    ws_lb_result r;
    ws_error e;
    if (ws_fabric_remove_balancer(st, m.name, &r, &e) != 0) {
        ws_warn("remove-balancer: %s", e.msg);
        return ws_cmd_close(st, WS_EXIT_FAIL);
    }
    print(cli.json, "removed", &r, service);
    return ws_cmd_close(st, 0);
}

#define BALANCER_OPTIONS                                                                                             \
    "  --members A,B,...     the pool: gateway machines, in order (round robin starts at the first)\n"            \
    "  --mode tcp|tls-offload\n"                                                                                   \
    "                        tcp: each connection forwarded unchanged (layer 4); tls-offload: TLS ends\n"          \
    "                        on the balancer with its own certificate and a new connection goes to\n"             \
    "                        the member, plain, or TLS with --reencrypt\n"                                           \
    "  --affinity none|source-ip\n"                                                                                \
    "                        none: round robin; source-ip: one client address always reaches one\n"                \
    "                        member (a stable hash of the address; the next member while it is down)\n"           \
    "  --fqdn NAME           the public name it answers for (default: the first member's,\n"                       \
    "                        rdgw.contoso.com); it moves off the members, which keep their own FQDNs,\n"           \
    "                        and the tenant's PC (the lab's hosts file) resolves it to the balancer\n"             \
    "  --cert NAME           tls-offload: its certificate (default: the first member's bound SSL\n"                \
    "                        certificate, as an appliance is given the gateway's), put in its My store\n"          \
    "  --reencrypt, --no-reencrypt\n"                                                                               \
    "                        tls-offload: TLS to the members or plain TCP (the members' certificates\n"            \
    "                        are not verified [model]: an appliance's server-side TLS default)\n"                  \
    "  --json                the result as one JSON object\n"

const ws_cmd ws_cmds_fabric_balancer[] = {
    {"fabric", "add-balancer", cmd_add,
     "NAME --members A,B [--mode tcp|tls-offload] [--affinity none|source-ip] [--fqdn NAME] [--cert NAME] "
     "[--reencrypt] [--json]",
     "Add a load balancer machine in front of the gateways (wapsim-balancer).",
     "NAME is a new machine (role balancer, FQDN NAME.contoso.com [model]) with the first free\n"
     "address of the lab's /24 from .20, port 8443 like rdgw01's, and the lab root in its Root\n"
     "store. Refused, naming the value, for an unknown member, a member that is not a gateway,\n"
     "a bad mode or affinity. When the lab is running its service is started. Logs event 101\n"
     "[model] on its log (wapsim logs --machine NAME).\n" BALANCER_OPTIONS},
    {"fabric", "set-balancer", cmd_set,
     "NAME [--members A,B] [--mode tcp|tls-offload] [--affinity none|source-ip] [--fqdn NAME] [--cert NAME] "
     "[--[no-]reencrypt] [--json]",
     "Change a load balancer's pool, mode, affinity, name or certificate.",
     "What is not given is kept. When the lab is running the balancer's service is restarted so\n"
     "the change applies at once, as an appliance applies a changed virtual server [model];\n"
     "open connections are closed. Logs event 101 [model].\n" BALANCER_OPTIONS},
    {"fabric", "remove-balancer", cmd_remove, "NAME [--json]", "Remove a load balancer machine.",
     "Its service is stopped (when the lab runs), its machine, stores and settings go, and its\n"
     "public name goes back to its first member (machine table and the tenant's hosts file).\n"
     "Logs event 101 [model] on its log, which stays.\n"},
    {0},
};
