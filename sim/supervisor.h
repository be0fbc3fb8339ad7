/* supervisor: runs a lab. `wapsim up` starts one supervisor process per lab (a
 * daemon, pid in <lab>/run/supervisor.pid), which starts one process per machine
 * (pids in <lab>/run/<machine>.pid, output in <lab>/log/<machine>.log), restarts a
 * process that dies with backoff, and writes the Service Control Manager's event for
 * it. `wapsim down` stops them all by pid. A machine is healthy when its process is
 * alive and accepts a TCP connection on its address and port. */
#ifndef WAPSIM_SUPERVISOR_H
#define WAPSIM_SUPERVISOR_H

#include <sys/types.h>

#include "state.h"

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
} ws_proc_status;

/* The status of each machine that runs a process, in address order. */
int ws_lab_status(ws_state *st, ws_proc_status **out, int *n, ws_error *e);
/* The supervisor's pid when it is running for this lab, else 0. */
pid_t ws_supervisor_pid(ws_state *st);

#endif
