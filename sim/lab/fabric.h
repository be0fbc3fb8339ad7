/* SPDX-License-Identifier: Apache-2.0 */
/* fabric: machines joining and leaving a lab's fabric after lab init, as servers do in
 * a real deployment. A new RD Gateway server (fabric add-gateway) arrives as a fresh
 * Windows Server with the role installed: its own address in the lab's /24, port 8443,
 * the enterprise root in its LocalMachine\Root (Group Policy puts it there), and
 * nothing else: no SSL certificate bound, no FedAuth trusted issuer. Its operator then
 * imports and binds a certificate and registers the VMM certificate's thumbprint
 * (gateway set --machine NAME), as for the first gateway (REFERENCE.md section 2); until
 * a certificate is bound its service cannot start (gateway/main.c), which is the real
 * behaviour of TSGateway without a certificate.
 *
 * These functions change the state inside the caller's transaction (ws_state_begin);
 * the running supervisor notices a new or removed machine within a second
 * (svc/supervisor.c) and starts or stops its process. */
#ifndef WAPSIM_FABRIC_H
#define WAPSIM_FABRIC_H

#include "base/buf.h"
#include "lab/machine.h"
#include "lab/state.h"

#define WS_FABRIC_DOMAIN "fabric.contoso.local" /* the fabric's AD domain: NAME.fabric.contoso.local */
#define WS_FABRIC_GATEWAY_PORT 8443             /* the lab's RD Gateway port (rdgw01's) */
#define WS_FABRIC_ROOT_CERT "lab-root-ca"       /* the enterprise root every machine trusts */

/* A computer name as Windows takes it: 1..15 letters, digits and '-', not all digits,
 * no '-' first or last. 1 when name is one. */
int ws_fabric_name_ok(const char *name);

/* The lowest free address in the lab's /24 (from .17 up: .10-.16 are the default
 * world's), into out. 0, or -1 with e set (no subnet, or the /24 is full). */
int ws_fabric_free_address(ws_state *st, char *out, size_t n, ws_error *e);
/* The same, from first_octet on (a balancer takes .20 and up). */
int ws_fabric_free_address_from(ws_state *st, int first_octet, char *out, size_t n, ws_error *e);

/* Checks an address an operator chose for a new machine: an IPv4 address of the lab's
 * /24 other than .0 and .255 that no machine has. 0, or -1 with e naming it. */
int ws_fabric_address_ok(ws_state *st, const char *address, ws_error *e);

/* Adds gateway machine name (NAME.fabric.contoso.local, address or a free one, port
 * 8443), the lab root in its Root store, and the event saying so on it. *out (may be
 * NULL) receives the machine. 0, or -1 with e naming the bad name or address. */
int ws_fabric_add_gateway(ws_state *st, const char *name, const char *address, ws_machine *out, ws_error *e);

/* The balancer (by name) whose members list holds machine, into balancer (n bytes).
 * 1 when there is one, 0 when not. */
int ws_fabric_balancer_of(ws_state *st, const char *machine, char *balancer, size_t n);

/* Removes gateway name: its stores, trusted issuers and settings go with it; its event
 * history stays. Refused (-1, e one line) when name is not a gateway, is a balancer's
 * member, or is the lab's last gateway. */
int ws_fabric_remove_gateway(ws_state *st, const char *name, ws_error *e);

/* The names of the lab's gateways, sorted by name, appended to names. Returns how many. */
int ws_fabric_gateways(ws_state *st, ws_strv *names);

#endif
