/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim up | down | status, and the hidden __supervise that `up` starts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/lab.h"
#include "svc/supervisor.h"

static int cmd_up(int argc, char **argv)
{
    int timeout_s = 20;
    const ws_opt opts[] = {WS_OPT_INT("timeout", &timeout_s, 1, 600, "seconds"), WS_OPT_END};
    ws_cli cli;
    ws_state *st;
    int rc = ws_cmd_parse_open(argc, argv, opts, 0, 0, 0, &cli, &st);
    if (rc)
        return rc;
    ws_error e;
    /* Processes would each meet the damage later, one page at a time: refuse at once. */
    if (ws_state_check(st, &e) != 0) {
        ws_warn("%s", e.msg);
        return ws_cmd_close(st, WS_EXIT_USAGE);
    }
    rc = ws_lab_up(st, timeout_s * 1000, 0, &e);
    ws_state_close(st);
    if (rc != 0) {
        ws_warn("up: %s", e.msg);
        return WS_EXIT_FAIL;
    }
    return 0;
}

static int cmd_down(int argc, char **argv)
{
    ws_cli cli;
    ws_state *st;
    int rc = ws_cmd_parse_open(argc, argv, NULL, 0, 0, 0, &cli, &st);
    if (rc)
        return rc;
    int stopped = 0;
    ws_error e;
    rc = ws_lab_down(st, &stopped, &e);
    ws_state_close(st);
    if (rc != 0) {
        ws_warn("down: %s", e.msg);
        return WS_EXIT_FAIL;
    }
    fprintf(stderr, "down: stopped %d process%s\n", stopped, stopped == 1 ? "" : "es");
    return 0;
}

/* A component's counters, when it keeps them (the balancer and the HTTP(S) services write
 * run/<machine>.counters, a JSON object, at most once a second): parsed, or NULL. */
static cJSON *read_counters(ws_state *st, const char *machine)
{
    char path[4200];
    unsigned char *data = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/run/%s.counters", st->lab_dir, machine);
    if (ws_read_file(path, 1 << 16, &data, &len, NULL) != 0)
        return NULL;
    cJSON *o = cJSON_ParseWithLength((const char *)data, len);
    free(data);
    if (o && !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        o = NULL;
    }
    return o;
}

static int cmd_status(int argc, char **argv)
{
    ws_cli cli;
    ws_state *st;
    int rc = ws_cmd_parse_open(argc, argv, NULL, WS_OPT_JSON, 0, 0, &cli, &st);
    if (rc)
        return rc;
    ws_proc_status *list = NULL;
    int n = 0;
    ws_error e;
    if (ws_lab_status(st, &list, &n, &e) != 0) {
        ws_warn("%s", e.msg);
        return ws_cmd_close(st, WS_EXIT_FAIL);
    }
    pid_t sup = ws_supervisor_pid(st);
    if (cli.json) {
        cJSON *out = cJSON_CreateObject();
        cJSON *machines = cJSON_AddArrayToObject(out, "machines");
        for (int i = 0; i < n; i++) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddStringToObject(m, "name", list[i].machine);
            cJSON_AddStringToObject(m, "program", list[i].program);
            if (list[i].pid)
                cJSON_AddNumberToObject(m, "pid", list[i].pid);
            else
                cJSON_AddNullToObject(m, "pid");
            cJSON_AddStringToObject(m, "address", list[i].address);
            cJSON_AddNumberToObject(m, "port", list[i].port);
            cJSON_AddBoolToObject(m, "healthy", list[i].healthy);
            cJSON_AddNumberToObject(m, "restarts", list[i].restarts);
            if (list[i].stopped)
                cJSON_AddBoolToObject(m, "stopped", 1); /* by `wapsim service stop` */
            cJSON *counters = list[i].pid ? read_counters(st, list[i].machine) : NULL;
            if (counters)
                cJSON_AddItemToObject(m, "counters", counters);
            cJSON_AddItemToArray(machines, m);
        }
        ws_cmd_print_json(out);
    } else {
        char subnet[32] = "?";
        ws_meta_get(st, "subnet", subnet, sizeof subnet);
        printf("lab %s, subnet %s, supervisor %s\n", st->lab_dir, subnet, sup ? "running" : "not running");
        printf("%-8s %-15s %-8s %-22s %-8s %s\n", "MACHINE", "PROGRAM", "PID", "ADDRESS", "HEALTHY", "RESTARTS");
        for (int i = 0; i < n; i++) {
            char addr[80], pid[16] = "-";
            snprintf(addr, sizeof addr, "%s:%d", list[i].address, list[i].port);
            if (list[i].pid)
                snprintf(pid, sizeof pid, "%ld", (long)list[i].pid);
            printf("%-8s %-15s %-8s %-22s %-8s %d\n", list[i].machine, list[i].program, pid, addr,
                   list[i].stopped ? "stopped" : list[i].healthy ? "yes" : "no", list[i].restarts);
            cJSON *counters = list[i].pid ? read_counters(st, list[i].machine) : NULL;
            const char *summary = cJSON_GetStringValue(cJSON_GetObjectItem(counters, "summary"));
            if (summary)
                printf("         %s\n", summary);
            cJSON_Delete(counters);
        }
    }
    free(list);
    if (sup)
        return ws_cmd_close(st, 0);
    /* A lab whose supervisor is gone runs nothing: its machines died with it. */
    pid_t dead = ws_supervisor_died(st);
    if (dead)
        ws_warn("the supervisor is not running: it died (pid %ld), and the lab's machines with it; "
                "wapsim up starts the lab again",
                (long)dead);
    else
        ws_warn("the supervisor is not running: the lab is down (wapsim up starts it)");
    return ws_cmd_close(st, WS_EXIT_FAIL);
}

static int cmd_supervise(int argc, char **argv)
{
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, NULL, 0, 0, 0, &cli);
    if (rc)
        return rc;
    return ws_supervisor_run(ws_lab_dir(cli.lab ? cli.lab : ws_cli_lab));
}

const ws_cmd ws_cmds_supervise[] = {
    {NULL, "up", cmd_up, "[--timeout SECONDS]", "Start the lab: one process per machine, supervised.",
     "Returns when every machine answers its health probe (default timeout 20 s), or\n"
     "fails naming the machine that did not, with its last log line.\n"},
    {NULL, "down", cmd_down, "", "Stop every process of the lab.", NULL},
    {NULL, "status", cmd_status, "[--json]", "Each machine's program, pid, address, health and restarts.",
     "Exit 0 while the lab's supervisor runs; 1, with a line saying so, when it does not\n"
     "(the lab is down, or the supervisor died and its machines with it).\n"
     "  --json   {\"machines\":[{\"name\",\"program\",\"pid\",\"address\",\"port\",\"healthy\",\"restarts\"}]}\n"
     "           a balancer adds \"counters\": {\"connections_total\",\"connections_active\",\"refused\",\n"
     "           \"members\":[{\"name\",\"up\",\"connections_total\",\"connections_active\"}],\"summary\"};\n"
     "           an HTTP(S) service (portal, SPF, VMM, a host's agent) adds \"counters\":\n"
     "           {\"connections_total\",\"requests_total\"}: connections that carried a request, and requests\n"},
    {NULL, "__supervise", cmd_supervise, "", "(internal) the supervisor daemon that `up` starts.", NULL},
    {0},
};
