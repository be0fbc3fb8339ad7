/* SPDX-License-Identifier: Apache-2.0 */
/* connects: the lab's record of recent console connects, as the tenant's PC made them
 * (`wapsim connect`, a scenario's connect line, the benchmarks' flows): who asked for
 * which VM, where it stopped with which code and message, and each hop's account
 * (client/client.h). The admin site draws the chain from it (portal/admin_topology.c),
 * so a connect made from any client shows there. [model] Nothing in a real deployment
 * keeps this in one place: it is the lab's view across the client and the servers.
 * Only the newest WS_CONNECTS_KEPT are kept. */
#ifndef WAPSIM_CONNECTS_H
#define WAPSIM_CONNECTS_H

#include <stdint.h>

#include "lab/state.h"

#define WS_CONNECTS_KEPT 200

typedef struct ws_connect_row {
    const char *tenant;   /* NULL: the administrator's path */
    const char *vm;
    int ok;
    const char *stage;    /* where it stopped, or the last hop reached */
    int has_code;
    uint32_t code;
    const char *message;
    const char *gateway;  /* the RD Gateway name the file gave ("" when none was reached) */
    const char *computer; /* the remote computer (the host's name) */
    const char *hops_json; /* [{"stage","ok","detail"}, ...] */
} ws_connect_row;

/* Record one connect, stamped with the client machine's lab clock: 0, or -1 with e. */
int ws_connects_add(ws_state *st, const ws_connect_row *row, ws_error *e);

struct cJSON;
/* The newest connects, newest first, at most limit (1..WS_CONNECTS_KEPT): a cJSON array
 * of {"id","time_ms","tenant","vm","ok","stage","code","message","gateway","computer",
 * "hops":[...]} ("tenant" and "code" null when absent). *out: the caller's to delete. */
int ws_connects_recent(ws_state *st, int limit, struct cJSON **out, ws_error *e);
/* The id of the newest connect, 0 when there is none (a poller's change marker). */
int64_t ws_connects_newest_id(ws_state *st);

#endif
