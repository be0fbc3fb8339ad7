/* SPDX-License-Identifier: Apache-2.0 */
/* web: what the portal machine's two sites do the same way: the tenant site on the
 * machine's port (tenant_site.c) and the admin site on 30091 (admin_site.c), both on
 * the portal's certificate, in one process as IIS runs both sites of a WAP portal
 * machine. Pages are built as text with every value a tenant, an operator or the state
 * supplies escaped; each goes out with headers that keep it to the lab (a Content
 * Security Policy of 'self': no inline script, no external URL can load). Sign-in is
 * one function for both sites (the lab's accounts, lockout and the per-address
 * throttle), and every form post carries an anti-forgery token: the session's, or before
 * sign-in the one in the WapsimSignIn cookie (a double-submit token, OWASP CSRF
 * Prevention Cheat Sheet). */
#ifndef WAPSIM_PORTAL_WEB_H
#define WAPSIM_PORTAL_WEB_H

#include <stddef.h>

#include "session.h"
#include "svc/httpd.h"

#define ADMIN_SITE_PORT 30091 /* WAP's admin site (MgmtSvc-AdminSite) default port */
#define SIGNIN_COOKIE "WapsimSignIn"
#define CSRF_FIELD "csrf"

/* A page being built. */
typedef struct web_page {
    char *text;
    size_t len, cap;
} web_page;

void web_init(web_page *w);
/* Append formatted text as it is: for the page's own markup. */
void web_raw(web_page *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with < > & " ' escaped and C0 controls (but tab, CR, LF) as U+FFFD, so a
 * page or an SVG stays well-formed XML: for anything not the page's own. */
void web_esc(web_page *w, const char *s);
/* Send the page (text/html; charset=utf-8) with the lab's security headers, and free it.
 * extra: "Name", "Value", ..., NULL (or NULL). */
enum MHD_Result web_send(ws_httpd_req *rq, unsigned status, web_page *w, const char *const *extra);
/* Any body of content_type (a download: extra names its Content-Disposition) with the
 * same headers. */
enum MHD_Result web_send_body(ws_httpd_req *rq, unsigned status, const char *content_type, const void *body,
                              size_t len, const char *const *extra);
/* A static asset (a site's CSS or script) with the same headers. */
enum MHD_Result web_asset(ws_httpd_req *rq, const char *content_type, const char *text);
/* 303 See Other to location (a path of this site), with an optional Set-Cookie. */
enum MHD_Result web_redirect(ws_httpd_req *rq, const char *location, const char *set_cookie);

/* The value of the form field name in a urlencoded POST body: 0, or non-zero (absent:
 * 1; too long or badly escaped: -1; request.h portal_form_field). */
int web_field(ws_httpd_req *rq, const char *name, char *out, size_t n);
/* 1 when the POST body's csrf field equals expected (compared in constant time). */
int web_csrf_ok(ws_httpd_req *rq, const char *expected);
/* The anti-forgery token before sign-in: the WapsimSignIn cookie's when it is well
 * formed, else a new one; *set_cookie (160 bytes) is then the Set-Cookie value to send
 * with the sign-in page ("" when the cookie stands). */
int web_signin_token(ws_httpd_req *rq, char token[65], char set_cookie[160]);
/* The Set-Cookie value for a session cookie (id NULL: clear it). */
void web_session_cookie(const char *name, const char *id, char out[200]);

enum web_sign_in { WEB_SIGN_IN_OK, WEB_SIGN_IN_BAD, WEB_SIGN_IN_LOCKED_OUT, WEB_SIGN_IN_THROTTLED };

/* Sign-in for a site: an account of role (the tenant site "tenant", the admin site
 * "fabric-admin") and its password, under the lab's account lockout (lab/accounts.h),
 * from an address the throttle lets through (throttle.h). WEB_SIGN_IN_OK with a new
 * session (id, csrf), else why not (*retry_after: seconds a throttled address waits).
 * Events 100/101/429 on the portal machine either way, under the site's source
 * (MgmtSvc-TenantSite or MgmtSvc-AdminSite). An account of another role is
 * refused as a bad password is. */
enum web_sign_in web_sign_in(ws_httpd_req *rq, session_site site, const char *role, const char *user,
                             const char *password, char id[65], char csrf[65], int *retry_after);
/* The text a refused sign-in shows (not for THROTTLED). */
const char *web_sign_in_text(enum web_sign_in why);

#endif
