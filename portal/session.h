/* SPDX-License-Identifier: Apache-2.0 */
/* session: the portal's signed-in tenants, by session cookie. Kept in the portal's
 * memory, as the real tenant site keeps them in its process: a restart signs
 * everyone out. */
#ifndef WAPSIM_PORTAL_SESSION_H
#define WAPSIM_PORTAL_SESSION_H

#include <stddef.h>

#define SESSION_COOKIE "WapsimTenantSession"

/* A new session for tenant; id receives the cookie value (65 bytes). */
int session_new(const char *tenant, char id[65]);
/* The tenant of a live session, or -1. */
int session_tenant(const char *id, char *tenant, size_t n);
void session_end(const char *id);

#endif
