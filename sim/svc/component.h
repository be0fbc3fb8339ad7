/* SPDX-License-Identifier: Apache-2.0 */
/* component: what every component program (wapsim-portal, -spf, -vmm, -gateway,
 * -host) does the same way: its command line (--lab DIR --machine NAME), opening
 * the state file, finding its machine, stopping on SIGTERM, logging its start, and
 * a listener that accepts and closes connections for services not built yet. */
#ifndef WAPSIM_COMPONENT_H
#define WAPSIM_COMPONENT_H

#include <signal.h>

#include "lab/machine.h"
#include "lab/state.h"

typedef struct ws_component {
    const char *program;  /* "wapsim-gateway" */
    const char *role;     /* "gateway" */
    const char *lab_dir;
    ws_state *st;
    ws_machine machine;
} ws_component;

extern volatile sig_atomic_t ws_component_stop;

/* Parses the command line (prints --help and exits 0, or a one-line error and exits
 * 2), opens the lab and checks the machine has this role. */
void ws_component_init(ws_component *c, const char *program, const char *role, const char *summary, int argc,
                       char **argv);
/* The service is listening: the Service Control Manager's "running" event. */
void ws_component_running(ws_component *c, const char *detail);
/* Fatal start-up error: one line in the log and exit 1 (the supervisor restarts it). */
void ws_component_fail(ws_component *c, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* Wait for SIGTERM (which may be delivered to any of the process's threads). */
void ws_component_wait(void);
/* Accept and close connections on the given listeners until SIGTERM. */
void ws_component_idle_loop(ws_component *c, const int *fds, int nfds);
/* The component cannot take new connections (out of descriptors) while on is set:
 * run/<machine>.overload holds why, and the supervisor's health probe reports the
 * machine unhealthy while the file exists. Cleared with on = 0. */
void ws_component_overloaded(ws_component *c, int on, const char *why);
void ws_component_close(ws_component *c);

#endif
