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
    char csrf[65];
    session_site site;
    char user[64];
    time_t expires;
} session;

/* One table per site: a tenant signing in over and over evicts only tenants' sessions,
 * never the administrator's. */
static session tables[2][MAX_SESSIONS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int random_hex(char out[65])
{
    unsigned char raw[32];
    if (ws_random(raw, sizeof raw) != 0)
        return -1;
    ws_hex_upper(raw, sizeof raw, out);
    return 0;
}

int session_new(session_site site, const char *user, char id[65], char csrf[65])
{
    if (random_hex(id) != 0 || random_hex(csrf) != 0)
        return -1;
    time_t now = time(NULL);
    session *sessions = tables[site == SITE_ADMIN];
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
    snprintf(slot->csrf, sizeof slot->csrf, "%s", csrf);
    snprintf(slot->user, sizeof slot->user, "%s", user);
    slot->site = site;
    slot->expires = now + SESSION_LIFETIME;
    pthread_mutex_unlock(&lock);
    return 0;
}

int session_get(session_site site, const char *id, char *user, size_t n, char csrf[65])
{
    if (!id || strlen(id) != 64)
        return -1;
    int rc = -1;
    time_t now = time(NULL);
    session *sessions = tables[site == SITE_ADMIN];
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_SESSIONS; i++) {
        session *s = &sessions[i];
        if (s->id[0] && s->expires >= now && s->site == site && strcmp(s->id, id) == 0) {
            snprintf(user, n, "%s", s->user);
            if (csrf)
                memcpy(csrf, s->csrf, 65);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

int session_tenant(const char *id, char *tenant, size_t n)
{
    return session_get(SITE_TENANT, id, tenant, n, NULL);
}

void session_end(const char *id)
{
    if (!id)
        return;
    pthread_mutex_lock(&lock);
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < MAX_SESSIONS; i++)
            if (tables[t][i].id[0] && strcmp(tables[t][i].id, id) == 0)
                memset(&tables[t][i], 0, sizeof tables[t][i]);
    pthread_mutex_unlock(&lock);
}
