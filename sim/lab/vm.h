/* SPDX-License-Identifier: Apache-2.0 */
/* vm: the lab's virtual machines, each in one tenant's subscription and running on
 * one Hyper-V host. A ws_vm is a copy of one row, filled by the caller's storage;
 * ws_vm_list hands back an array the caller frees with free(). */
#ifndef WAPSIM_VM_H
#define WAPSIM_VM_H

#include <stddef.h>

#include "lab/state.h"
#include "lab/vault.h" /* WS_NOT_FOUND */

typedef struct ws_vm {
    char id[37];           /* GUID, 36 characters, as stored (lower case when the lab made it) */
    char name[64];         /* unique in the lab: web01 */
    char os[64];           /* as the portal shows it: "Windows Server 2012 R2" */
    char state[32];        /* "Running" */
    char subscription[37]; /* GUID of the tenant's subscription */
    char tenant[64];       /* the account that owns the subscription */
    char host[64];         /* the machine name of the Hyper-V host it runs on */
} ws_vm;

/* The VM named id_or_name: its name (exact) or its ID (any case). 0 with *vm filled,
 * WS_NOT_FOUND ("unknown VM '...'" in e), or -1 when the state file cannot be read. */
int ws_vm_find(ws_state *st, const char *id_or_name, ws_vm *vm, ws_error *e);

/* The VM with this ID (any case), as the pcb or a token names it; never by name.
 * 0, WS_NOT_FOUND or -1, as ws_vm_find. */
int ws_vm_get(ws_state *st, const char *id, ws_vm *vm, ws_error *e);

/* The VMs of tenant (NULL: of every tenant), by name. 0 with *vms a malloc'ed array of
 * *n entries (NULL when none) that the caller frees, or -1 with e. */
int ws_vm_list(ws_state *st, const char *tenant, ws_vm **vms, size_t *n, ws_error *e);

/* Add a VM. vm->id, name, os, state, subscription and host must be set (tenant is
 * the subscription's and is not stored); the subscription and host must exist.
 * 0, or -1 with e (a duplicate name or ID, an unknown subscription or host). */
int ws_vm_add(ws_state *st, const ws_vm *vm, ws_error *e);

#endif
