/* SPDX-License-Identifier: Apache-2.0 */
/* session: who is signed in to the portal machine's two sites, by session cookie, and
 * each session's anti-forgery token. Kept in the portal's memory, as the real sites keep
 * them in their processes: a restart signs everyone out.
 *
 * Cookies do not tell ports apart (RFC 6265 section 8.5): a browser sends the tenant
 * site's cookie to the admin site on the same name too. So each session belongs to one
 * site and a lookup names the site: a tenant's session is no session at the admin site. */
#ifndef WAPSIM_PORTAL_SESSION_H
#define WAPSIM_PORTAL_SESSION_H

#include <stddef.h>

#define SESSION_COOKIE "WapsimTenantSession"
#define ADMIN_SESSION_COOKIE "WapsimAdminSession"

typedef enum session_site { SITE_TENANT, SITE_ADMIN } session_site;

/* A new session for user on site; id receives the cookie value, csrf the token its
 * forms carry (65 bytes each, 64 hexadecimal digits). 0, or -1 (no randomness). */
int session_new(session_site site, const char *user, char id[65], char csrf[65]);
/* The user of a live session of that site (and its csrf token when csrf is not NULL), or -1. */
int session_get(session_site site, const char *id, char *user, size_t n, char csrf[65]);
/* For callers of the tenant site's API: session_get(SITE_TENANT, ...). */
int session_tenant(const char *id, char *tenant, size_t n);
void session_end(const char *id);

#endif
