/* SPDX-License-Identifier: Apache-2.0 */
/* web: see web.h. */
#include "web.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/accounts.h"
#include "lab/events.h"
#include "request.h"
#include "throttle.h"

/* Nothing a page loads may come from outside the lab (a classroom may be offline), no
 * inline script runs, and no other site may frame a page. */
#define SECURITY_HEADERS                                                                                               \
    "Content-Security-Policy",                                                                                         \
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "          \
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",                                                 \
        "X-Content-Type-Options", "nosniff", "X-Frame-Options", "DENY", "Referrer-Policy", "no-referrer"

void web_init(web_page *w)
{
    w->cap = 8192;
    w->len = 0;
    w->text = malloc(w->cap);
    if (!w->text)
        abort();
    w->text[0] = '\0';
}

static void reserve(web_page *w, size_t more)
{
    if (w->len + more + 1 <= w->cap)
        return;
    while (w->len + more + 1 > w->cap)
        w->cap *= 2;
    w->text = realloc(w->text, w->cap);
    if (!w->text)
        abort();
}

void web_raw(web_page *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    reserve(w, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(w->text + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    w->len += (size_t)n;
}

void web_esc(web_page *w, const char *s)
{
    if (!s)
        return;
    reserve(w, strlen(s) * 6);
    char *o = w->text + w->len;
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '<': o += sprintf(o, "&lt;"); break;
        case '>': o += sprintf(o, "&gt;"); break;
        case '&': o += sprintf(o, "&amp;"); break;
        case '"': o += sprintf(o, "&quot;"); break;
        case '\'': o += sprintf(o, "&#39;"); break;
        /* A C0 control but tab and line ends is no character of XML 1.0 (section 2.2):
         * one in a VM name or a message would make /topology.svg, which the admin page
         * parses as XML, no picture at all. It shows as U+FFFD. */
        default:
            if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
                o += sprintf(o, "\xef\xbf\xbd");
            else
                *o++ = *p;
        }
    }
    *o = '\0';
    w->len = (size_t)(o - w->text);
}

/* extra after the security headers, for ws_httpd_reply_ex. */
static enum MHD_Result send_with(ws_httpd_req *rq, unsigned status, const char *ctype, const void *body, size_t len,
                                 const char *const *extra)
{
    const char *h[32] = {SECURITY_HEADERS, "Cache-Control", "no-store"};
    size_t n = 0;
    while (h[n])
        n++;
    for (size_t i = 0; extra && extra[i] && n + 2 < sizeof h / sizeof h[0]; i += 2) {
        h[n++] = extra[i];
        h[n++] = extra[i + 1];
    }
    h[n] = NULL;
    return ws_httpd_reply_ex(rq->conn, status, ctype, body, len, h);
}

enum MHD_Result web_send(ws_httpd_req *rq, unsigned status, web_page *w, const char *const *extra)
{
    enum MHD_Result r = send_with(rq, status, "text/html; charset=utf-8", w->text, w->len, extra);
    free(w->text);
    w->text = NULL;
    return r;
}

enum MHD_Result web_send_body(ws_httpd_req *rq, unsigned status, const char *content_type, const void *body,
                              size_t len, const char *const *extra)
{
    return send_with(rq, status, content_type, body, len, extra);
}

enum MHD_Result web_asset(ws_httpd_req *rq, const char *content_type, const char *text)
{
    return send_with(rq, 200, content_type, text, strlen(text), NULL);
}

enum MHD_Result web_redirect(ws_httpd_req *rq, const char *location, const char *set_cookie)
{
    const char *extra[] = {"Location", location, set_cookie ? "Set-Cookie" : NULL, set_cookie, NULL};
    return send_with(rq, 303, "text/plain; charset=utf-8", "", 0, extra);
}

int web_field(ws_httpd_req *rq, const char *name, char *out, size_t n)
{
    ws_error e;
    return portal_form_field(rq->body, rq->body_len, name, out, n, &e);
}

int web_csrf_ok(ws_httpd_req *rq, const char *expected)
{
    char got[80];
    if (!expected || strlen(expected) != 64 || web_field(rq, CSRF_FIELD, got, sizeof got) != 0 || strlen(got) != 64)
        return 0;
    unsigned char diff = 0;
    for (int i = 0; i < 64; i++)
        diff |= (unsigned char)(got[i] ^ expected[i]);
    return diff == 0;
}

static int well_formed(const char *t)
{
    if (!t || strlen(t) != 64)
        return 0;
    for (const char *p = t; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return 0;
    return 1;
}

int web_signin_token(ws_httpd_req *rq, char token[65], char set_cookie[160])
{
    const char *have = ws_httpd_cookie(rq, SIGNIN_COOKIE);
    set_cookie[0] = '\0';
    if (well_formed(have)) {
        memcpy(token, have, 65);
        return 0;
    }
    unsigned char raw[32];
    if (ws_random(raw, sizeof raw) != 0)
        return -1;
    ws_hex_upper(raw, sizeof raw, token);
    snprintf(set_cookie, 160, SIGNIN_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict", token);
    return 0;
}

void web_session_cookie(const char *name, const char *id, char out[200])
{
    if (id)
        snprintf(out, 200, "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict", name, id);
    else
        snprintf(out, 200, "%s=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0", name);
}

enum web_sign_in web_sign_in(ws_httpd_req *rq, session_site site, const char *role, const char *user,
                             const char *password, char id[65], char csrf[65], int *retry_after)
{
    const char *me = rq->c->machine.name;
    int admin = site == SITE_ADMIN; /* each site logs under its own source (lab/events.h) */
    *retry_after = throttle_wait(rq->peer);
    if (*retry_after)
        return WEB_SIGN_IN_THROTTLED;
    char has_role[32] = "";
    ws_logon_site where = {me, rq->peer};
    ws_logon r = strlen(user) < 64 && strlen(password) < 256
                     ? ws_account_logon(rq->st, &where, user, password, has_role, sizeof has_role)
                     : WS_LOGON_BAD;
    if (r == WS_LOGON_OK && strcmp(has_role, role) == 0 && session_new(site, user, id, csrf) == 0) {
        ws_event_write(rq->st, me, admin ? WS_EV_ADMIN_100 : WS_EV_PORTAL_100, user, rq->peer);
        ws_httpd_authenticated(rq);
        return WEB_SIGN_IN_OK;
    }
    ws_ev failed = r == WS_LOGON_LOCKED_OUT ? (admin ? WS_EV_ADMIN_101_LOCKED : WS_EV_PORTAL_101_LOCKED)
                                            : (admin ? WS_EV_ADMIN_101 : WS_EV_PORTAL_101);
    ws_event_write(rq->st, me, failed, user, rq->peer);
    if (throttle_failed(rq->peer))
        ws_event_write(rq->st, me, admin ? WS_EV_ADMIN_429 : WS_EV_PORTAL_429, rq->peer, THROTTLE_FAILURES,
                       THROTTLE_WINDOW_S);
    return r == WS_LOGON_LOCKED_OUT ? WEB_SIGN_IN_LOCKED_OUT : WEB_SIGN_IN_BAD;
}

const char *web_sign_in_text(enum web_sign_in why)
{
    return why == WEB_SIGN_IN_LOCKED_OUT ? "The referenced account is currently locked out and may not be logged on to."
                                         : "The user name or password is incorrect.";
}
