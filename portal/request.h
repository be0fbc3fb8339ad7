/* SPDX-License-Identifier: Apache-2.0 */
/* portal/request.h: what the portal parses from a browser: the sign-in, as the HTML
 * form (application/x-www-form-urlencoded) or as the tenant API's JSON, and the VM id in
 * POST /api/vms/{id}/console. Bytes and a length in, a struct or a reason out: no
 * connection, nothing kept, so the fuzz target and the unit tests call them as the
 * request handler does (main.c handle). */
#ifndef WAPSIM_PORTAL_REQUEST_H
#define WAPSIM_PORTAL_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define PORTAL_USER_MAX 127     /* bytes of a sign-in name */
#define PORTAL_PASSWORD_MAX 255 /* bytes of a password */
#define PORTAL_VM_ID_MAX 63     /* bytes of the {id} in /api/vms/{id}/console */

typedef struct portal_login {
    char user[PORTAL_USER_MAX + 1];         /* as sent: may hold control characters */
    char password[PORTAL_PASSWORD_MAX + 1]; /* as sent */
} portal_login;

/* The first field called name in an application/x-www-form-urlencoded body: 0 with it
 * decoded into out (n bytes with its NUL), 1 with e when the body has no such field, or
 * -1 with e saying why (over n-1 bytes, a bad escape, a NUL). Both sites' forms go
 * through it; a caller with optional fields tells absent (1) from bad (-1). */
int portal_form_field(const uint8_t *body, size_t len, const char *name, char *out, size_t n, ws_error *e);
/* POST /login: the form's user and password fields, decoded. 0, or -1 with e saying
 * why (a field missing, too long, badly escaped, or holding a NUL). */
int portal_login_form(const uint8_t *body, size_t len, portal_login *out, ws_error *e);
/* POST /api/login: {"user":"...","password":"..."}. 0, or -1 with e saying why. */
int portal_login_json(const uint8_t *body, size_t len, portal_login *out, ws_error *e);
/* The path after "/api/": 1 when it is "vms/{id}/console" (vm_id set), else 0. */
int portal_console_path(const char *path, char vm_id[PORTAL_VM_ID_MAX + 1]);
/* The path after "/" of a VM's dashboard in the tenant site: 1 when it is "vms/{id}"
 * with a non-empty id of at most PORTAL_VM_ID_MAX bytes and no '/' (vm_id set), else 0. */
int portal_vm_path(const char *path, char vm_id[PORTAL_VM_ID_MAX + 1]);
/* 1 when a request's Content-Type (NULL: none) is one a page of another site can post
 * without asking first (a CORS-safelisted form type: application/x-www-form-urlencoded,
 * multipart/form-data, text/plain; Fetch standard), parameters and case aside; else 0.
 * Such a post must carry the anti-forgery token. */
int portal_form_type(const char *content_type);

#endif
