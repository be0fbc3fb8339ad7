/* SPDX-License-Identifier: Apache-2.0 */
/* machine: the lab's simulated machines. Each has a name (hv01), an FQDN inside the
 * fabric (hv01.fabric.contoso.local), optionally a public FQDN a tenant's PC can
 * resolve (rdgw.contoso.com), its own loopback address in the lab's /24, a role,
 * the port its service listens on, and its clock skew. The role decides which
 * program runs it (roles[] in machine.c). */
#ifndef WAPSIM_MACHINE_H
#define WAPSIM_MACHINE_H

#include <stdint.h>

#include "base/buf.h"
#include "lab/state.h"

typedef struct ws_machine {
    char name[64];
    char fqdn[256];
    char public_fqdn[256]; /* "" when it has none */
    char address[64];
    char role[16];
    int port;              /* 0: runs no service (the tenant's PC) */
    int64_t skew_seconds;
} ws_machine;

/* What runs a role: its program and the Windows service it stands for (names the
 * supervisor's Service Control Manager events). */
typedef struct ws_role {
    const char *role;
    const char *program;      /* NULL: no process (client) */
    const char *service_name; /* Windows service display name */
} ws_role;

const ws_role *ws_role_find(const char *role);

int ws_machine_get(ws_state *st, const char *name, ws_machine *m, ws_error *e);
int ws_machine_exists(ws_state *st, const char *name);
/* Machines in a stable order (by address); fn returns non-zero to stop. */
int ws_machine_foreach(ws_state *st, int (*fn)(const ws_machine *, void *), void *arg, ws_error *e);
/* The first machine (by name) of a role: "the" VMM server, SPF, gateway. */
int ws_machine_by_role(ws_state *st, const char *role, ws_machine *m, ws_error *e);
int ws_machine_add(ws_state *st, const ws_machine *m, ws_error *e);
/* Adds to names the machines at address that have role, or are named also_name
 * (NULL: none), sorted by name; returns how many it added (0 when the state file
 * cannot say). Who may call a service is decided from this list. */
int ws_machine_names_at(ws_state *st, const char *address, const char *role, const char *also_name, ws_strv *names);

#endif
