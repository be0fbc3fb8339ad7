/* SPDX-License-Identifier: Apache-2.0 */
/* lbstream: the deterministic byte stream the load balancer test sends each way
 * (lbmember.c, lbclient.c): both ends make it from a seed, so each knows what the
 * other must have received. xorshift64*, eight bytes at a time. */
#ifndef WAPSIM_LBSTREAM_H
#define WAPSIM_LBSTREAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct lbstream {
    uint64_t x;
    unsigned char pending[8];
    size_t npending;
} lbstream;

static inline void lbstream_init(lbstream *s, uint64_t seed)
{
    s->x = seed * 0x9E3779B97F4A7C15ull + 1;
    s->npending = 0;
}

static inline void lbstream_fill(lbstream *s, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s->npending == 0) {
            s->x ^= s->x >> 12;
            s->x ^= s->x << 25;
            s->x ^= s->x >> 27;
            uint64_t v = s->x * 0x2545F4914F6CDD1Dull;
            for (int k = 0; k < 8; k++)
                s->pending[k] = (unsigned char)(v >> (8 * k));
            s->npending = 8;
        }
        out[i] = s->pending[8 - s->npending--];
    }
}

#endif
