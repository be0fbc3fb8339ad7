/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim service restart | stop | start: Restart-Service, Stop-Service and
 * Start-Service on a machine's service. The running supervisor does the work
 * (supervisor.h): a service stopped here stays stopped until started again; one
 * restarted here rereads what it reads at start (the gateway its SSL certificate). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/opt.h"
#include "lab/machine.h"
#include "svc/supervisor.h"

static const char *const verbs[] = {[WS_SERVICE_STOP] = "stop", [WS_SERVICE_START] = "start",
                                    [WS_SERVICE_RESTART] = "restart"};

static void add_result(cJSON *arr, const ws_service_result *r, const char *error)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", r->machine);
    cJSON_AddStringToObject(o, "service", r->service);
    cJSON_AddStringToObject(o, "program", r->program);
    if (error) {
        cJSON_AddStringToObject(o, "result", "failed");
        cJSON_AddStringToObject(o, "error", error);
    } else {
        cJSON_AddStringToObject(o, "result", r->result);
    }
    if (r->old_pid)
        cJSON_AddNumberToObject(o, "old_pid", r->old_pid);
    else
        cJSON_AddNullToObject(o, "old_pid");
    if (r->pid)
        cJSON_AddNumberToObject(o, "pid", r->pid);
    else
        cJSON_AddNullToObject(o, "pid");
    cJSON_AddBoolToObject(o, "healthy", r->healthy);
    cJSON_AddNumberToObject(o, "seconds", (double)r->elapsed_ms / 1000);
    cJSON_AddItemToArray(arr, o);
}

static void print_result(const ws_service_result *r)
{
    if (strcmp(r->result, "stopped") == 0 && !r->old_pid)
        printf("%s: %s stopped (it was not running: the supervisor will not start it)\n", r->machine, r->service);
    else if (strcmp(r->result, "stopped") == 0)
        printf("%s: %s stopped (pid %ld) in %.2f s\n", r->machine, r->service, (long)r->old_pid,
               (double)r->elapsed_ms / 1000);
    else if (strcmp(r->result, "was already stopped") == 0)
        printf("%s: %s was already stopped\n", r->machine, r->service);
    else if (strcmp(r->result, "restarted") == 0)
        printf("%s: %s restarted (pid %ld -> %ld), healthy after %.2f s\n", r->machine, r->service,
               (long)r->old_pid, (long)r->pid, (double)r->elapsed_ms / 1000);
    else
        printf("%s: %s %s (pid %ld), healthy after %.2f s\n", r->machine, r->service, r->result, (long)r->pid,
               (double)r->elapsed_ms / 1000);
}

static int run(ws_service_action action, int argc, char **argv)
{
    int timeout_s = 20;
    const ws_opt opts[] = {WS_OPT_INT("timeout", &timeout_s, 1, 600, "seconds"), WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, WS_OPT_JSON, 0, -1, &cli);
    if (rc)
        return rc;
    const char *verb = verbs[action];
    if (cli.argc == 0)
        return ws_cmd_usage_error("which machine? (wapsim service %s MACHINE|all)", verb);
    int all = 0;
    for (int i = 0; i < cli.argc; i++)
        if (strcmp(cli.argv[i], "all") == 0)
            all = 1;
    if (all && cli.argc > 1)
        return ws_cmd_usage_error("'all' names every machine: give it alone");

    ws_state *st;
    if ((rc = ws_cmd_open_lab(cli.lab, &st)))
        return rc;
    /* The machines, checked before anything is done: in the lab's order for all. */
    int n = 0;
    char (*names)[64] = NULL;
    ws_error e;
    if (all) {
        ws_proc_status *list = NULL;
        if (ws_lab_status(st, &list, &n, &e) != 0) {
            free(list);
            ws_state_close(st);
            ws_warn("%s", e.msg);
            return WS_EXIT_FAIL;
        }
        names = calloc((size_t)n + 1, sizeof *names);
        for (int i = 0; i < n; i++)
            snprintf(names[i], sizeof names[i], "%s", list[i].machine);
        free(list);
    } else {
        names = calloc((size_t)cli.argc, sizeof *names);
        for (int i = 0; i < cli.argc; i++) {
            ws_machine m;
            const ws_role *r = NULL;
            if ((rc = ws_cmd_machine(st, cli.argv[i], NULL, &m)) == 0 && (!(r = ws_role_find(m.role)) || !r->program))
                rc = ws_cmd_usage_error("machine '%s' runs no service (role %s): nothing to %s", cli.argv[i],
                                        m.role, verb);
            if (rc) {
                free(names);
                return ws_cmd_close(st, rc);
            }
            int dup = 0;
            for (int k = 0; k < n; k++)
                dup |= strcmp(names[k], m.name) == 0;
            if (!dup) {
                snprintf(names[n], sizeof names[n], "%s", m.name);
                n++;
            }
        }
    }
    if (!names)
        abort();

    /* One at a time with up and down: a down never races a service start. */
    int lock = ws_lifecycle_lock(st);
    if (!ws_supervisor_pid(st)) {
        if (lock >= 0)
            close(lock);
        free(names);
        ws_state_close(st);
        ws_warn("the lab is not running (wapsim up)");
        return WS_EXIT_FAIL;
    }
    ws_service_result *res = calloc((size_t)n + 1, sizeof *res);
    ws_error *errs = calloc((size_t)n + 1, sizeof *errs);
    int *order = calloc((size_t)n + 1, sizeof *order); /* machines as they were done */
    if (!res || !errs || !order)
        abort();
    /* stop all: in reverse order; otherwise (and restart all's starts) in order. */
    for (int k = 0; k < n; k++)
        order[k] = all && action == WS_SERVICE_STOP ? n - 1 - k : k;
    int failures = 0, timeout_ms = timeout_s * 1000;
    /* Every machine is tried, whatever another's fate: one that fails is named. */
    if (all && action == WS_SERVICE_RESTART) {
        /* Stop every service in reverse order, then start them in order. */
        for (int i = n - 1; i >= 0; i--)
            if (ws_service_control(st, names[i], WS_SERVICE_STOP, timeout_ms, &res[i], &errs[i]) != 0)
                failures++;
        for (int i = 0; i < n; i++) {
            if (errs[i].msg[0])
                continue;
            ws_service_result started;
            if (ws_service_control(st, names[i], WS_SERVICE_START, timeout_ms, &started, &errs[i]) != 0) {
                failures++;
                continue;
            }
            started.old_pid = res[i].old_pid;
            started.elapsed_ms += res[i].elapsed_ms;
            started.result = started.old_pid ? "restarted" : "started";
            res[i] = started;
        }
    } else {
        for (int k = 0; k < n; k++)
            if (ws_service_control(st, names[order[k]], action, timeout_ms, &res[order[k]], &errs[order[k]]) != 0)
                failures++;
    }
    if (lock >= 0)
        close(lock);

    if (cli.json) {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "action", verb);
        cJSON *arr = cJSON_AddArrayToObject(out, "machines");
        for (int k = 0; k < n; k++)
            add_result(arr, &res[order[k]], errs[order[k]].msg[0] ? errs[order[k]].msg : NULL);
        ws_cmd_print_json(out);
    } else {
        for (int k = 0; k < n; k++)
            if (!errs[order[k]].msg[0])
                print_result(&res[order[k]]);
    }
    for (int k = 0; k < n; k++)
        if (errs[order[k]].msg[0])
            ws_warn("service %s: %s", verb, errs[order[k]].msg);
    free(order);
    free(errs);
    free(res);
    free(names);
    return ws_cmd_close(st, failures ? WS_EXIT_FAIL : 0);
}

static int cmd_restart(int argc, char **argv)
{
    return run(WS_SERVICE_RESTART, argc, argv);
}

static int cmd_stop(int argc, char **argv)
{
    return run(WS_SERVICE_STOP, argc, argv);
}

static int cmd_start(int argc, char **argv)
{
    return run(WS_SERVICE_START, argc, argv);
}

#define SERVICE_OPTIONS                                                                                              \
    "  --timeout SECONDS  how long to wait (default 20)\n"                                                          \
    "  --json   {\"action\",\"machines\":[{\"name\",\"service\",\"program\",\"result\",\"old_pid\",\"pid\",\n"     \
    "           \"healthy\",\"seconds\"}]}; a failed machine has result \"failed\" and \"error\"\n"                 \
    "MACHINE is a machine that runs a process (not the tenant's client); `all` is every\n"                         \
    "one of them. The lab must be running (wapsim up). Exit 1 when a machine does not\n"                           \
    "stop or come back healthy in time (naming it and its last log line).\n"

const ws_cmd ws_cmds_service[] = {
    {"service", "restart", cmd_restart, "MACHINE|all [--timeout SECONDS] [--json]",
     "Restart a machine's service (Restart-Service).",
     "The process is stopped (SIGTERM, SIGKILL after 3 s) and started again at once; the\n"
     "command returns when it is healthy again. What a service reads at start is read\n"
     "again: the gateway binds the SSL certificate set now. Not a crash: System events\n"
     "7036 stopped and running, no 7031, the restart count unchanged. A stopped service\n"
     "is started. `all` stops every service in reverse order, then starts them in order.\n" SERVICE_OPTIONS},
    {"service", "stop", cmd_stop, "MACHINE|all [--timeout SECONDS] [--json]",
     "Stop a machine's service and keep it stopped (Stop-Service).",
     "The supervisor does not start it again until `service start` or `service restart`,\n"
     "`up`, or `down` then `up`. System event 7036 stopped. `all` stops in reverse order.\n" SERVICE_OPTIONS},
    {"service", "start", cmd_start, "MACHINE|all [--timeout SECONDS] [--json]",
     "Start a machine's service (Start-Service).",
     "The supervisor starts it at once; the command returns when it is healthy. A running\n"
     "service is left as it is. `all` starts in order.\n" SERVICE_OPTIONS},
    {0},
};
