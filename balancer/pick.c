/* SPDX-License-Identifier: Apache-2.0 */
/* pick: which member a new connection tries (balancer.h). Pure: no state of its own,
 * no I/O, so tests/unit/test_balancer.c checks it whole.
 *
 * [model] Round robin and source-address persistence as a layer-4 appliance does
 * them by default (F5 BIG-IP "Round Robin" and "Source Address Affinity", a NetScaler
 * vserver's ROUNDROBIN and SOURCEIP): the address is hashed, not remembered, so
 * persistence needs no table and survives the balancer's restart. */
#include "balancer.h"

uint32_t lb_source_hash(const char *address)
{
    uint32_t h = 2166136261u;
    for (const char *p = address; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

/* The first member from start (wrapping) that is untried and, if need_usable, usable. */
static int first_from(int n, const int *usable, uint32_t tried, int start, int need_usable)
{
    for (int k = 0; k < n; k++) {
        int i = (start + k) % n;
        if (!(tried & (1u << i)) && (!need_usable || usable[i]))
            return i;
    }
    return -1;
}

int lb_pick(int n, const int *usable, uint32_t tried, ws_lb_affinity affinity, uint32_t hash, unsigned *rr)
{
    if (n <= 0 || n > 32)
        return -1;
    int start = affinity == WS_LB_AFFINITY_SOURCE_IP ? (int)(hash % (uint32_t)n) : (int)(*rr % (unsigned)n);
    int i = first_from(n, usable, tried, start, 1);
    if (i < 0) /* every member is marked down: try them anyway, a refusal costs little */
        i = first_from(n, usable, tried, start, 0);
    if (i >= 0 && affinity != WS_LB_AFFINITY_SOURCE_IP)
        *rr = (unsigned)i + 1;
    return i;
}
