/* SPDX-License-Identifier: Apache-2.0 */
/* issue: how VMM issues a console connection for one VM (New-SCVMConnectFedAuth and
 * the VMConnection resource behind SPF), step by step, each a real check with its own
 * logged error; nothing about a certificate or store is cached between requests. */
#ifndef WAPSIM_VMM_ISSUE_H
#define WAPSIM_VMM_ISSUE_H

#include <stddef.h>

#include "lab/state.h"

typedef struct vmm_grant {
    char vm_id[37];       /* upper case, as the pcb */
    char vm_name[64];
    char host_machine[64];
    char host[256];       /* the host as identified (FQDN, address or name) */
    int port;             /* VMConnectDefaultPort */
    char *host_token;     /* for the RD Gateway (PAA cookie) */
    char *vm_token;       /* for the host (RDSTLS) */
    unsigned char *rdp;   /* the signed .rdp file, UTF-16LE, when asked for */
    size_t rdp_len;
} vmm_grant;

/* Issue tokens (and the .rdp file when with_rdp) for a VM given by id. On refusal
 * returns -1 with e holding VMM's message and *http_status the status VMM answers
 * SPF with (404 for an unknown VM, 500 otherwise). */
int vmm_issue(ws_state *st, const char *vmm_machine, const char *vm_id, int with_rdp, vmm_grant *g,
              unsigned *http_status, ws_error *e);
void vmm_grant_free(vmm_grant *g);

#endif
