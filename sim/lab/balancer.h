/* SPDX-License-Identifier: Apache-2.0 */
/* balancer: a load balancer machine in front of the RD Gateways (issue 14), as an
 * operator adds it with `wapsim fabric add-balancer` and as wapsim-balancer reads it.
 *
 * [model] A layer-4 appliance's virtual server (an F5 BIG-IP or a NetScaler vserver
 * reduced to what the field meets): a public name (the gateway's, e.g. rdgw.contoso.com)
 * that the tenant's PC resolves to the balancer, a pool of members (gateway machines,
 * in order), a mode (tcp: each connection forwarded unchanged; tls-offload: TLS ends on
 * the balancer with its own certificate and a new connection, plain or re-encrypted,
 * goes to the member) and a persistence (none: round robin; source-ip: one client
 * address, one member). Its settings are the WS_SET_BALANCER_* of settings.h, scoped
 * by the balancer's machine name; the process reads them when it starts. */
#ifndef WAPSIM_LAB_BALANCER_H
#define WAPSIM_LAB_BALANCER_H

#include "lab/state.h"

#define WS_LB_MAX_MEMBERS 16 /* [model] a pool's members: more than a lab needs */
#define WS_LB_PORT 8443      /* the balancer listens where rdgw01 does */

typedef enum ws_lb_mode { WS_LB_MODE_TCP = 0, WS_LB_MODE_TLS_OFFLOAD = 1 } ws_lb_mode;
typedef enum ws_lb_affinity { WS_LB_AFFINITY_NONE = 0, WS_LB_AFFINITY_SOURCE_IP = 1 } ws_lb_affinity;

/* A balancer's configuration as its settings hold it. */
typedef struct ws_lb_config {
    ws_lb_mode mode;
    ws_lb_affinity affinity;
    int reencrypt;                            /* tls-offload: 1 opens TLS to the member */
    int n_members;                            /* 1..WS_LB_MAX_MEMBERS */
    char members[WS_LB_MAX_MEMBERS][64];      /* machine names, in the order given */
    char cert[128];                           /* tls-offload: its certificate (WS_SET_SSL_CERT), "" if none */
} ws_lb_config;

/* "tcp" | "tls-offload" -> *out: 0, or -1 with e naming the bad value. */
int ws_lb_mode_parse(const char *text, ws_lb_mode *out, ws_error *e);
const char *ws_lb_mode_name(ws_lb_mode m);
/* "none" | "source-ip" -> *out: 0, or -1 with e naming the bad value. */
int ws_lb_affinity_parse(const char *text, ws_lb_affinity *out, ws_error *e);
const char *ws_lb_affinity_name(ws_lb_affinity a);
/* "rdgw01,rdgw02" into c->members (1..WS_LB_MAX_MEMBERS names of letters, digits, '-'
 * and '_', each at most 63, none twice): 0, or -1 with e naming the bad value; c is
 * left untouched on failure. The names are not looked up here. */
int ws_lb_members_parse(const char *text, ws_lb_config *c, ws_error *e);
/* The members joined by commas into out (n bytes). */
void ws_lb_members_join(const ws_lb_config *c, char *out, size_t n);

/* One line for logs and events: "members rdgw01,rdgw02, mode tcp, persistence none". */
void ws_lb_config_text(const ws_lb_config *c, char *out, size_t n);

/* machine's configuration from its settings: 0, or -1 with e saying which setting is
 * missing or bad. */
int ws_lb_config_load(ws_state *st, const char *machine, ws_lb_config *c, ws_error *e);
/* Write c as machine's settings (and its tls-offload certificate into its My store,
 * bound), inside the caller's transaction. */
int ws_lb_config_write(ws_state *st, const char *machine, const ws_lb_config *c, ws_error *e);

/* What an operator asks of add-balancer / set-balancer. NULL (or -1) keeps the value
 * (set) or takes the default (add: mode tcp, affinity none, no reencrypt, fqdn the
 * first member's public name, cert the first member's bound SSL certificate when the
 * mode is tls-offload). */
typedef struct ws_lb_request {
    const char *name;     /* the balancer's machine name, e.g. lb01 */
    const char *members;  /* "rdgw01,rdgw02" */
    const char *mode;     /* "tcp" | "tls-offload" */
    const char *affinity; /* "none" | "source-ip" */
    const char *fqdn;     /* the public name it answers for: rdgw.contoso.com */
    const char *cert;     /* tls-offload: a certificate of the vault, with its key */
    int reencrypt;        /* -1 keep / default (0), 0 or 1 */
} ws_lb_request;

/* What was done, for the command's output. */
typedef struct ws_lb_result {
    char name[64];
    char address[64];
    int port;
    char fqdn[256];        /* the machine's own FQDN: lb01.contoso.com */
    char public_fqdn[256]; /* the name it answers for */
    char old_public_owner[64]; /* the machine that had the public name before ("" none) */
    ws_lb_config config;
} ws_lb_result;

/* Add a balancer machine: role balancer, the first free address of the lab's /24 from
 * .20, port WS_LB_PORT, FQDN <name>.contoso.com [model], the lab root in its Root store,
 * its settings, its certificate (tls-offload) in its My store with the key; the public
 * name moves to it off whichever machine had it (the members keep their own FQDNs) and
 * the tenant's PC's hosts file resolves it to the balancer's address; an event on its
 * log. One transaction: on failure nothing changed, e names the bad value (unknown
 * member, member not a gateway, bad mode, a name in use). Starting its process is the
 * caller's (the supervisor is above this layer). */
int ws_fabric_add_balancer(ws_state *st, const ws_lb_request *rq, ws_lb_result *r, ws_error *e);
/* Change an existing balancer's settings (and its public name, when fqdn is given);
 * takes effect when its service restarts. */
int ws_fabric_set_balancer(ws_state *st, const ws_lb_request *rq, ws_lb_result *r, ws_error *e);
/* Remove a balancer machine and its settings; its public name goes back to its first
 * member (machine row and hosts file). The caller stops its process first. */
int ws_fabric_remove_balancer(ws_state *st, const char *name, ws_lb_result *r, ws_error *e);

#endif
