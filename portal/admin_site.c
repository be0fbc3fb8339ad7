/* SPDX-License-Identifier: Apache-2.0 */
/* admin_site: the WAP admin site on the portal machine, HTTPS on 30091 with the
 * portal's certificate (main.c). Only the fabric administrator signs in (an account of
 * role fabric-admin: CONTOSO\hvadmin in the default lab); a tenant's session is no
 * session here (session.h). Every form post carries the session's anti-forgery token.
 *   GET  /login, POST /login, POST /logout
 *   GET  / /topology /topology.svg       admin_topology.c
 *   GET  /machines /events /certs        admin_machines.c (POST /machines/service), admin_events.c,
 *                                        admin_certs.c (POST /certs/import, /certs/remove)
 *   GET  /settings /diagnose             admin_settings.c (POST /settings/..., /diagnose/fix)
 *   GET  /exercise                       admin_exercise.c (POST /exercise/check, /hint, /give-up)
 *   GET  /classroom...                   admin_classroom.c, the classroom's trainer only (else 404)
 *   GET  /admin.css /admin.js            the site's own style and script (admin_assets.c) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "sites.h"
#include "train/classroom.h"

extern const char admin_css[], admin_js[];  /* admin_assets.c: the site's layout, topology, machines */
extern const char admin_settings_css[];      /* admin_settings.c: its forms and findings */

/* Classroom is the trainer's alone (trainer_only): nobody else is shown it. */
static const struct {
    const char *tab, *path;
    int trainer_only;
} tabs[] = {{"Topology", "/topology", 0}, {"Machines", "/machines", 0}, {"Settings", "/settings", 0},
            {"Diagnose", "/diagnose", 0}, {"Exercise", "/exercise", 0},   {"Classroom", "/classroom", 1}};

static void head(web_page *w, const char *title)
{
    web_raw(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    web_esc(w, title);
    web_raw(w, " - Service Management Portal</title><link rel=\"stylesheet\" href=\"/admin.css\">"
               "<script src=\"/admin.js\" defer></script></head>\n");
}

void admin_form(web_page *w, const admin_req *a, const char *action)
{
    web_raw(w, "<form method=\"post\" action=\"");
    web_esc(w, action);
    web_raw(w, "\"><input type=\"hidden\" name=\"" CSRF_FIELD "\" value=\"%s\">", a->csrf);
}

/* The WAP admin site's frame [model: original work after its layout]: a dark masthead
 * with the product and the signed-in user, the dark left navigation, the content, and
 * the dark command bar at the bottom (admin_end). */
void admin_begin(web_page *w, const admin_req *a, const char *title, const char *tab)
{
    head(w, title);
    web_raw(w, "<body class=\"admin\"><header class=\"masthead\"><span class=\"product\"><b>Service Management</b> "
               "Portal</span><span class=\"scope\">Administrator</span><span class=\"user\">");
    web_esc(w, a->user);
    web_raw(w, "</span>");
    admin_form(w, a, "/logout");
    web_raw(w, "<button type=\"submit\" class=\"signout\">Sign out</button></form></header>\n<nav class=\"tabs\">");
    for (size_t i = 0; i < sizeof tabs / sizeof tabs[0]; i++)
        if (!tabs[i].trainer_only || a->trainer)
            web_raw(w, "<a href=\"%s\"%s>%s</a>", tabs[i].path,
                    tab && strcmp(tab, tabs[i].tab) == 0 ? " class=\"current\"" : "", tabs[i].tab);
    web_raw(w, "</nav>\n<main>\n<h1>");
    web_esc(w, title);
    web_raw(w, "</h1>\n");
}

/* Refresh reloads the page by GET: the same URL, or after a change (a post to
 * /machines/service, /certs/import, ...) its section's page, the machine's for /certs. */
void admin_end(web_page *w, const admin_req *a)
{
    web_raw(w, "</main>\n<footer class=\"commandbar\"><a class=\"cmdlink\" href=\"");
    if (strcmp(a->rq->method, "GET") != 0) {
        size_t n = strcspn(a->path + 1, "/") + 1;
        char machine[64];
        web_raw(w, "%.*s", (int)n, a->path);
        if (n == 6 && strncmp(a->path, "/certs", 6) == 0 && web_field(a->rq, "machine", machine, sizeof machine) == 0) {
            web_raw(w, "?machine=");
            web_esc(w, machine);
        }
    }
    web_raw(w, "\">Refresh</a><span class=\"lab\">wapsim lab: every change here runs the wapsim command an operator "
               "would type</span></footer></body></html>\n");
}

static enum MHD_Result sign_in_page(ws_httpd_req *rq, unsigned status, const char *notice)
{
    char token[65], set_cookie[160];
    if (web_signin_token(rq, token, set_cookie) != 0)
        return ws_httpd_reply(rq->conn, 500, "text/plain", "no randomness\n", 14);
    web_page w;
    web_init(&w);
    head(&w, "Sign in");
    web_raw(&w, "<body class=\"admin signin\"><main class=\"signin-box\"><h1>Service Management Portal</h1>"
                "<p class=\"subtitle\">Windows Azure Pack: administrator sign-in (the fabric administrator's "
                "account)</p>\n");
    if (notice) {
        web_raw(&w, "<p class=\"notice\" role=\"alert\">");
        web_esc(&w, notice);
        web_raw(&w, "</p>\n");
    }
    web_raw(&w,
            "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"" CSRF_FIELD "\" value=\"%s\">"
            "<p><label for=\"user\">User name</label><input id=\"user\" name=\"user\" autocomplete=\"username\"></p>"
            "<p><label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" "
            "autocomplete=\"current-password\"></p>"
            "<p><button type=\"submit\">Sign in</button></p></form></main></body></html>\n",
            token);
    const char *extra[] = {set_cookie[0] ? "Set-Cookie" : NULL, set_cookie, NULL};
    return web_send(rq, status, &w, extra);
}

static enum MHD_Result forbidden(ws_httpd_req *rq, const char *why)
{
    fprintf(stderr, "wapsim-portal: admin site refused %s %s from %s: %s\n", rq->method, rq->url, rq->peer, why);
    return ws_httpd_reply(rq->conn, 403, "text/plain; charset=utf-8", why, strlen(why));
}

static enum MHD_Result login(ws_httpd_req *rq)
{
    char u[128], p[256], id[65], csrf[65];
    int retry_after;
    if (!web_csrf_ok(rq, ws_httpd_cookie(rq, SIGNIN_COOKIE)))
        return forbidden(rq, "The form's anti-forgery token is missing or wrong: open the sign-in page again.\n");
    if (web_field(rq, "user", u, sizeof u) != 0 || web_field(rq, "password", p, sizeof p) != 0)
        return sign_in_page(rq, 400, "Give a user name and a password.");
    enum web_sign_in r = web_sign_in(rq, SITE_ADMIN, "fabric-admin", u, p, id, csrf, &retry_after);
    if (r == WEB_SIGN_IN_THROTTLED) {
        char seconds[16], text[120];
        snprintf(seconds, sizeof seconds, "%d", retry_after);
        snprintf(text, sizeof text, "Too many failed sign-ins from this address. Try again in %d seconds.\n",
                 retry_after);
        const char *extra[] = {"Retry-After", seconds, NULL};
        return ws_httpd_reply_ex(rq->conn, 429, "text/plain; charset=utf-8", text, strlen(text), extra);
    }
    if (r != WEB_SIGN_IN_OK)
        return sign_in_page(rq, 200, web_sign_in_text(r));
    char cookie[200];
    web_session_cookie(ADMIN_SESSION_COOKIE, id, cookie);
    return web_redirect(rq, "/topology", cookie);
}

enum MHD_Result admin_handle(ws_httpd_req *rq)
{
    char user[64], csrf[65], path[256];
    const char *q = strchr(rq->url, '?');
    snprintf(path, sizeof path, "%.*s", (int)(q ? q - rq->url : (long)strlen(rq->url)), rq->url);
    int get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
    if (get && strcmp(path, "/admin.css") == 0) {
        web_page css;
        web_init(&css);
        web_raw(&css, "%s\n%s", admin_css, admin_settings_css);
        enum MHD_Result r = web_asset(rq, "text/css; charset=utf-8", css.text);
        free(css.text);
        return r;
    }
    if (get && strcmp(path, "/admin.js") == 0)
        return web_asset(rq, "text/javascript; charset=utf-8", admin_js);
    if (get && strcmp(path, "/health") == 0)
        return ws_httpd_reply(rq->conn, 200, "text/plain", "OK\n", 3);
    if (post && strcmp(path, "/login") == 0)
        return login(rq);
    int in = session_get(SITE_ADMIN, ws_httpd_cookie(rq, ADMIN_SESSION_COOKIE), user, sizeof user, csrf) == 0;
    if (!in) {
        if (get)
            return sign_in_page(rq, strcmp(path, "/") == 0 || strcmp(path, "/login") == 0 ? 200 : 401, NULL);
        return forbidden(rq, "Sign in to the admin site first.\n");
    }
    ws_httpd_authenticated(rq);
    /* Every change is a form post that carries the session's token (a page of another
     * site cannot read it); the cookie alone proves nothing. */
    if (post && !web_csrf_ok(rq, csrf))
        return forbidden(rq, "The form's anti-forgery token is missing or wrong: reload the page and try again.\n");
    admin_req a = {.rq = rq, .user = user, .csrf = csrf, .path = path, .trainer = ws_classroom_is_trainer(rq->st, user)};
    if (post && strcmp(path, "/logout") == 0) {
        session_end(ws_httpd_cookie(rq, ADMIN_SESSION_COOKIE));
        char cookie[200];
        web_session_cookie(ADMIN_SESSION_COOKIE, NULL, cookie);
        return web_redirect(rq, "/", cookie);
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/login") == 0 || strcmp(path, "/topology") == 0)
        return admin_topology(&a);
    if (strcmp(path, "/topology.svg") == 0)
        return admin_topology_svg(&a);
    if (strcmp(path, "/machines") == 0 || strncmp(path, "/machines/", 10) == 0)
        return admin_machines(&a);
    if (strcmp(path, "/events") == 0)
        return admin_events(&a);
    if (strcmp(path, "/certs") == 0 || strncmp(path, "/certs/", 7) == 0)
        return admin_certs(&a);
    if (strcmp(path, "/settings") == 0 || strncmp(path, "/settings/", 10) == 0)
        return admin_settings(&a);
    if (strcmp(path, "/diagnose") == 0 || strncmp(path, "/diagnose/", 10) == 0)
        return admin_diagnose(&a);
    if (strcmp(path, "/exercise") == 0 || strncmp(path, "/exercise/", 10) == 0)
        return admin_exercise(&a);
    /* The trainer's page: anyone else is told there is no such page, as for any path. */
    if (a.trainer && (strcmp(path, "/classroom") == 0 || strncmp(path, "/classroom/", 11) == 0))
        return admin_classroom(&a);
    return ws_httpd_reply(rq->conn, 404, "text/plain", "no such page\n", 13);
}
