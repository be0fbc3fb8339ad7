/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor: runs a lab. `wapsim up` starts one supervisor process per lab (a
 * daemon, pid in <lab>/run/supervisor.pid), which starts one process per machine
 * (pids in <lab>/run/<machine>.pid, output in <lab>/log/<machine>.log), restarts a
 * process that dies with backoff, and writes the Service Control Manager's event for
 * it. `wapsim down` stops them all by pid. A machine is healthy when its process is
 * alive and accepts a TCP connection on its address and port, and no
 * run/<machine>.overload says it cannot take more (ws_component_overloaded).
 *
 * `wapsim service stop|start|restart` asks the running supervisor to stop a machine's
 * process and keep it stopped, to start it, or to stop and start it at once: it writes
 * the wish in <lab>/run (<machine>.stopped, <machine>.request) and sends SIGUSR1. A
 * process stopped that way is no crash: event 7036 "stopped", no 7031, no restart
 * counted, no backoff. A new supervisor (up after down) starts every machine. */
#ifndef WAPSIM_SUPERVISOR_H
#define WAPSIM_SUPERVISOR_H

#include <sys/types.h>

#include "lab/state.h"

/* Path of a component program: next to the running wapsim, or in ../libexec/wapsim
 * after `make install`. */
int ws_program_path(const char *program, char *out, size_t n);

/* The supervisor daemon's main loop (`wapsim __supervise`); returns when stopped. */
int ws_supervisor_run(const char *lab_dir);

/* Start the lab (unless running) and wait until every machine is healthy, at most
 * timeout_ms. On failure e names the machine and its last log line. */
int ws_lab_up(ws_state *st, int timeout_ms, int quiet, ws_error *e);
/* Stop the supervisor and every process of the lab; *stopped counts them. */
int ws_lab_down(ws_state *st, int *stopped, ws_error *e);

typedef struct ws_proc_status {
    char machine[64];
    char program[64];
    pid_t pid; /* 0: not running */
    char address[64];
    int port;
    int healthy;
    int restarts;
    int stopped; /* the operator stopped it (service stop): the supervisor keeps it down */
} ws_proc_status;

/* The status of each machine that runs a process, in address order. */
int ws_lab_status(ws_state *st, ws_proc_status **out, int *n, ws_error *e);
/* The supervisor's pid when it is running for this lab, else 0. */
pid_t ws_supervisor_pid(ws_state *st);
/* The pid the supervisor had when it died without stopping the lab (its pid file is
 * left and names no live supervisor of this lab), else 0. */
pid_t ws_supervisor_died(ws_state *st);

/* Serializes up, down and service of one lab (run/lifecycle.lock): returns the locked
 * fd (close it to unlock), or -1. */
int ws_lifecycle_lock(ws_state *st);

typedef enum ws_service_action { WS_SERVICE_STOP, WS_SERVICE_START, WS_SERVICE_RESTART } ws_service_action;

typedef struct ws_service_result {
    char machine[64];
    char service[96]; /* the Windows service name: "Remote Desktop Gateway" */
    char program[64];
    const char *result; /* "stopped", "started", "restarted", "was already stopped", "was already running" */
    pid_t old_pid;      /* before; 0: none */
    pid_t pid;          /* after; 0: stopped */
    int healthy;
    int64_t elapsed_ms;
} ws_service_result;

/* Stop (and keep stopped), start, or restart one machine's process through the running
 * supervisor, and wait: until the process is gone, or until a new process is healthy
 * (with its "running" event written), at most timeout_ms. Fails when the machine is
 * unknown or runs no process, when the lab is not running, or at the timeout (naming
 * the machine and its last log line). Call with ws_lifecycle_lock held. */
int ws_service_control(ws_state *st, const char *machine, ws_service_action action, int timeout_ms,
                       ws_service_result *r, ws_error *e);

#endif
