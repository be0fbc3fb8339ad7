/* SPDX-License-Identifier: Apache-2.0 */
/* admin_settings.h: what the Settings page (admin_settings.c) and the Diagnose page
 * (admin_diagnose.c) share. */
#ifndef WAPSIM_PORTAL_ADMIN_SETTINGS_H
#define WAPSIM_PORTAL_ADMIN_SETTINGS_H

#include "admin.h"

#define SETTINGS_RUN_TIMEOUT_S 60 /* a settings command; a fix line's is repair.h's */

/* A form with an id (the DOM contract, COMMON.md) and its anti-forgery field:
 * <form id="id" method="post" action="action">. */
void settings_form(web_page *w, const admin_req *a, const char *id, const char *action);
/* An outcome for a change the site refused to run: the command as it would have been
 * typed (or what was posted), why, and exit status 2 (bad usage). */
void settings_refused(admin_outcome *o, const char *command, const char *why);

#endif
