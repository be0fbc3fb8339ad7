/* SPDX-License-Identifier: Apache-2.0 */
/* console: the VM's console behind the host's security layer (REFERENCE.md section 8,
 * steps 2-10): the RDP connection sequence as a server runs it (MCS Connect-Initial ->
 * Connect-Response, Erect Domain, Attach User, Channel Joins, Client Info, licensing,
 * Demand/Confirm Active, finalization), then the VM's text screen (screen.c, drawn in
 * the console font) as 32-bpp bitmap updates of 64x64 tiles compressed with the Planar codec
 * (wire/planar.h; only the tiles that changed after a keystroke), fast-path when the client
 * announces FASTPATH_OUTPUT_SUPPORTED, and keyboard input from fast-path and slow-path
 * Input PDUs. The PDUs are sim/mcs.h and sim/rdppdu.h. Its TLS output leaves one flight
 * per write (flight.h).
 *
 * Who may enter: a connection that passed RDSTLS with the VMToken is the tenant's; any
 * other (TLS without RDSTLS) is the administrator's path, as VMConnect, and its Client
 * Info must carry the lab's fabric administrator's credentials [model: real Hyper-V
 * asks for them through CredSSP]. Anyone else is refused after the Client Info with a
 * Set Error Info PDU ("RDP client 8.1 or later required" in the host's log).
 *
 * One console per VM, as on Hyper-V: a connection that reaches its Client Info and is
 * admitted takes the VM's console over, and the previous one gets a Set Error Info
 * (DISCONNECTED_BY_OTHERCONNECTION) and is disconnected. The VM's screen (what was
 * typed) belongs to the VM and outlives connections, until the host restarts.
 *
 * Every frame sent is also written, raw, to <lab>/console/<vm name>.ppm. Each session is
 * recorded in the sessions table (state 'authenticated' -> 'active' -> 'ended' or
 * 'taken-over', with the reason; rows a killed host left open end when it starts again). */
#ifndef WAPSIM_HOST_CONSOLE_H
#define WAPSIM_HOST_CONSOLE_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "svc/component.h"
#include "font.h"
#include "lab/state.h"

#define HOST_CONSOLE_ADMIN_ROLE "fabric-admin" /* the accounts role the administrator's path needs */
#define HOST_CONSOLE_VMS_MAX 512              /* VMs whose console state one host keeps */

/* A connection past the security layer, as rdp.c hands it over. */
typedef struct host_console_link {
    const ws_component *c;
    const char *host;    /* this machine's name */
    ws_state *st;        /* the connection thread's own state connection */
    SSL *ssl;            /* TLS, established on fd */
    int fd;              /* the caller closes it (and frees ssl) after host_console_run */
    const char *peer;    /* "address:port" */
    const char *pcb;     /* the pre-connection PDU's pcb, printable */
    const char *vm_id;   /* the VM named by the pcb */
    int vm_known;        /* the VM exists in the state file (then vm_name, vm_host are set) */
    const char *vm_name;
    const char *vm_host;
    const char *vm_label; /* "web01 (<guid>)" */
    uint32_t requested_protocols; /* the X.224 Connection Request's */
    uint32_t selected_protocol;   /* WS_PROTOCOL_RDSTLS or WS_PROTOCOL_SSL */
    int tenant;                   /* 1: the VMToken was accepted over RDSTLS */
    const uint8_t *pending;       /* decrypted bytes already read past the security layer */
    size_t pending_len;
} host_console_link;

/* Once at start, before any connection: the font every console is drawn in (kept, not
 * copied). Refuses a font whose 80x25 screen would not fit a bitmap update. */
int host_console_init(const host_font *font, ws_error *e);

/* Once at start: end the sessions rows a previous process of this host left open (it
 * died, kill -9, without ending them): their connections died with it. */
void host_console_sessions_lost(ws_state *st, const char *host);

/* Runs the RDP session on l to its end (the client leaves, is refused, is taken over,
 * sends something malformed, or the host stops), logs how it ended and closes TLS
 * politely. Sets the socket non-blocking. */
void host_console_run(const host_console_link *l);

#endif
