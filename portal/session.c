/* SPDX-License-Identifier: Apache-2.0 */
/* session: see session.h. */
#include "session.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/util.h"

#define MAX_SESSIONS 4096
#define SESSION_LIFETIME (8 * 3600)

typedef struct session {
    char id[65];
    char tenant[64];
    time_t expires;
} session;

static session sessions[MAX_SESSIONS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int session_new(const char *tenant, char id[65])
{
    unsigned char raw[32];
    if (ws_random(raw, sizeof raw) != 0)
        return -1;
    ws_hex_upper(raw, sizeof raw, id);
    time_t now = time(NULL);
    pthread_mutex_lock(&lock);
    /* A free or expired slot, else the one closest to expiry. */
    session *slot = &sessions[0];
    for (int i = 0; i < MAX_SESSIONS; i++) {
        if (!sessions[i].id[0] || sessions[i].expires < now) {
            slot = &sessions[i];
            break;
        }
        if (sessions[i].expires < slot->expires)
            slot = &sessions[i];
    }
    snprintf(slot->id, sizeof slot->id, "%s", id);
    snprintf(slot->tenant, sizeof slot->tenant, "%s", tenant);
    slot->expires = now + SESSION_LIFETIME;
    pthread_mutex_unlock(&lock);
    return 0;
}

int session_tenant(const char *id, char *tenant, size_t n)
{
    if (!id || strlen(id) != 64)
        return -1;
    int rc = -1;
    time_t now = time(NULL);
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_SESSIONS; i++) {
        if (sessions[i].id[0] && sessions[i].expires >= now && strcmp(sessions[i].id, id) == 0) {
            snprintf(tenant, n, "%s", sessions[i].tenant);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

void session_end(const char *id)
{
    if (!id)
        return;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i].id[0] && strcmp(sessions[i].id, id) == 0)
            memset(&sessions[i], 0, sizeof sessions[i]);
    pthread_mutex_unlock(&lock);
}
