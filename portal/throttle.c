/* SPDX-License-Identifier: Apache-2.0 */
/* throttle: see throttle.h. */
#include "throttle.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

typedef struct source {
    char peer[64];   /* the client's address; "" for a free slot */
    double level;    /* failed sign-ins in the bucket, as of last_ms */
    int64_t last_ms; /* monotonic */
    int noted;       /* its filling was reported; cleared once the bucket is empty */
} source;

static source sources[THROTTLE_SOURCES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The bucket's level now: it drains THROTTLE_FAILURES per THROTTLE_WINDOW_S. */
static double drained(const source *s, int64_t now_ms)
{
    double level = s->level - (double)(now_ms - s->last_ms) * THROTTLE_FAILURES / (THROTTLE_WINDOW_S * 1000.0);
    return level > 0 ? level : 0;
}

/* peer's slot, or NULL when it has none and create is 0. A new one takes a free slot,
 * else the one with the emptiest bucket. Called with the lock held. */
static source *find(const char *peer, int64_t now_ms, int create)
{
    source *best = NULL;
    double best_level = 0;
    for (int i = 0; i < THROTTLE_SOURCES; i++) {
        source *s = &sources[i];
        if (s->peer[0] && strcmp(s->peer, peer) == 0)
            return s;
        double level = s->peer[0] ? drained(s, now_ms) : -1;
        if (!best || level < best_level) {
            best = s;
            best_level = level;
        }
    }
    if (!create)
        return NULL;
    snprintf(best->peer, sizeof best->peer, "%s", peer);
    best->level = 0;
    best->last_ms = now_ms;
    best->noted = 0;
    return best;
}

int throttle_wait(const char *peer)
{
    int64_t now = ws_mono_ms();
    pthread_mutex_lock(&lock);
    source *s = find(peer, now, 0);
    double over = s ? drained(s, now) - (THROTTLE_FAILURES - 1) : 0;
    pthread_mutex_unlock(&lock);
    if (over <= 0)
        return 0;
    /* Until one failure has drained: then one more attempt may come. */
    int wait = (int)(over * THROTTLE_WINDOW_S / THROTTLE_FAILURES + 0.999);
    return wait > 0 ? wait : 1;
}

int throttle_failed(const char *peer)
{
    int64_t now = ws_mono_ms();
    pthread_mutex_lock(&lock);
    source *s = find(peer, now, 1);
    double before = drained(s, now);
    if (before == 0)
        s->noted = 0;
    s->level = before + 1;
    s->last_ms = now;
    /* The same line throttle_wait draws: more than THROTTLE_FAILURES - 1 in the bucket;
     * reported once while the address keeps it from emptying. */
    int filled = !s->noted && s->level > THROTTLE_FAILURES - 1;
    if (filled)
        s->noted = 1;
    pthread_mutex_unlock(&lock);
    return filled;
}
