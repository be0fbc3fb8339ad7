/* SPDX-License-Identifier: Apache-2.0 */
/* browser: the tenant's browser on the portal (sign in, the VM list, the console's
 * .rdp file or the JSON error the portal relays from SPF), and the check Remote
 * Desktop Connection makes of the file's signature. See client.h and client_int.h. */
#include "client/client_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/cert.h"
#include "lab/clock.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "lab/store.h"

int ws_lab_password(ws_state *st, const char *account, char *out, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/accounts.json", st->lab_dir);
    unsigned char *data;
    size_t len;
    if (ws_read_file(path, 1 << 20, &data, &len, NULL) != 0)
        return -1;
    cJSON *arr = cJSON_ParseWithLength((const char *)data, len);
    free(data);
    int rc = -1;
    cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(a, "account"));
        const char *pw = cJSON_GetStringValue(cJSON_GetObjectItem(a, "password"));
        if (name && pw && strcmp(name, account) == 0) {
            snprintf(out, n, "%s", pw);
            rc = 0;
        }
    }
    cJSON_Delete(arr);
    return rc;
}

/* A tenant's visit to the portal: sign-in, the VM list, Connect, over one kept-alive
 * connection as a browser keeps it (svc/httpc.h: a new one only when the portal closed it). */
typedef struct browser {
    ws_state *st;
    char base[300];
    char resolve[400];
    char cookie[256];
    ws_http_conn *conn;
    int connections; /* opened so far (each a full TLS handshake) */
} browser;

static int browser_open(browser *b, ws_state *st, ws_error *e)
{
    memset(b, 0, sizeof *b);
    b->st = st;
    ws_machine portal;
    if (ws_machine_by_role(st, "portal", &portal, e) != 0)
        return -1;
    const char *name = portal.public_fqdn[0] ? portal.public_fqdn : portal.fqdn;
    char address[64];
    if (ws_lab_resolve(st, WS_RESOLVE_TENANT_PC, name, address, sizeof address, e) != 0)
        return -1;
    snprintf(b->base, sizeof b->base, "https://%s:%d", name, portal.port);
    snprintf(b->resolve, sizeof b->resolve, "%s:%d:%s", name, portal.port, address);
    return 0;
}

static int browser_do(browser *b, const char *method, const char *path, const char *json, ws_http_response *rs,
                      ws_error *e)
{
    char url[600];
    snprintf(url, sizeof url, "%s%s", b->base, path);
    ws_http_request rq = {.method = method, .url = url, .body = json, .body_len = json ? strlen(json) : 0,
                          .content_type = json ? "application/json" : NULL, .resolve = b->resolve,
                          .cookie = b->cookie[0] ? b->cookie : NULL, .st = b->st, .from_machine = "client",
                          .timeout_ms = 60000};
    int rc = ws_http_on(b->conn, &rq, rs, e);
    b->connections += rs->connections;
    return rc;
}

/* The visit's requests (ws_browser_get_console). */
static int browser_visit(browser *b, const char *tenant, const char *password, const char *vm, ws_http_response *rs,
                         ws_error *e)
{
    cJSON *login = cJSON_CreateObject();
    cJSON_AddStringToObject(login, "user", tenant);
    cJSON_AddStringToObject(login, "password", password);
    char *body = cJSON_PrintUnformatted(login);
    cJSON_Delete(login);
    int rc = browser_do(b, "POST", "/api/login", body, rs, e);
    cJSON_free(body);
    if (rc != 0 || rs->status != 200 || !rs->set_cookie[0])
        return rc;
    snprintf(b->cookie, sizeof b->cookie, "%s", rs->set_cookie);
    ws_http_response_free(rs);
    if (browser_do(b, "GET", "/api/vms", NULL, rs, e) != 0 || rs->status != 200)
        return rs->body ? 0 : -1;
    cJSON *vms = cJSON_ParseWithLength((const char *)rs->body, rs->body_len), *v;
    char vm_id[64] = "";
    cJSON_ArrayForEach(v, vms)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(v, "name"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(v, "id"));
        if (name && id && (strcmp(name, vm) == 0 || strcasecmp(id, vm) == 0))
            snprintf(vm_id, sizeof vm_id, "%s", id);
    }
    cJSON_Delete(vms);
    ws_http_response_free(rs);
    /* A VM the tenant does not see is asked for all the same (it may be someone else's). */
    if (!vm_id[0])
        snprintf(vm_id, sizeof vm_id, "%.63s", vm);
    char path[200];
    snprintf(path, sizeof path, "/api/vms/%s/console", vm_id);
    return browser_do(b, "POST", path, NULL, rs, e);
}

int ws_browser_get_console(ws_state *st, const char *tenant, const char *password, const char *vm,
                           ws_http_response *rs, ws_error *e)
{
    browser b;
    memset(rs, 0, sizeof *rs);
    if (browser_open(&b, st, e) != 0)
        return -1;
    b.conn = ws_http_conn_open();
    if (!b.conn)
        return ws_seterr(e, "cannot start an HTTP request");
    int rc = browser_visit(&b, tenant, password, vm, rs, e);
    ws_http_conn_close(b.conn);
    rs->connections = b.connections;
    return rc;
}

void ws_browser_file_name(const ws_http_response *rs, const char *fallback, char *out, size_t n)
{
    snprintf(out, n, "%s", fallback);
    const char *cd = rs->content_disposition, *p = strcasestr(cd, "filename=");
    if (!p || strncasecmp(cd, "attachment", 10) != 0)
        return;
    p += 9;
    char name[256];
    size_t len = 0;
    char end = *p == '"' ? '"' : ';';
    if (*p == '"')
        p++;
    for (; *p && *p != end && len + 1 < sizeof name; p++)
        if ((unsigned char)*p >= 0x20 && *p != 0x7F)
            name[len++] = *p;
    name[len] = '\0';
    /* Only the last path element: a server does not choose the folder. */
    const char *base = name;
    for (const char *q = name; *q; q++)
        if (*q == '/' || *q == '\\')
            base = q + 1;
    while (*base == ' ' || *base == '.')
        base++;
    if (*base)
        snprintf(out, n, "%s", base);
}

/* ---- the portal hop ---- */

/* The console's .rdp file from the portal, signed in as o->tenant. */
static int portal_fetch(ws_state *st, const ws_connect_opts *o, ws_connect_result *r, unsigned char **bytes,
                        size_t *len)
{
    ws_error e;
    char pw[128];
    const char *password = o->password;
    if (!password) {
        if (ws_lab_password(st, o->tenant, pw, sizeof pw) != 0)
            return ws_client_fail(r, "portal", 0, "unknown tenant '%s'", o->tenant);
        password = pw;
    }
    ws_http_response rs;
    int rc = ws_browser_get_console(st, o->tenant, password, o->vm, &rs, &e);
    r->portal_connections = rs.connections;
    if (rc != 0)
        return ws_client_fail(r, "portal", 0, "the browser could not reach the portal: %s", e.msg);
    char saved[256];
    if (rs.status != 200 || strcmp(rs.content_type, "application/x-rdp") != 0) {
        /* REFERENCE.md section 1 [seed]: the browser gets a JSON file instead of an .rdp file. */
        ws_browser_file_name(&rs, "", saved, sizeof saved);
        r->has_code = 1;
        r->code = (uint32_t)rs.status;
        ws_client_fail(r, "portal", 0, "the browser %s%s%sHTTP %ld (%s) instead of an .rdp file: %.400s",
                       saved[0] ? "saved " : "received ", saved, saved[0] ? ", " : "", rs.status, rs.content_type,
                       (const char *)rs.body);
        ws_http_response_free(&rs);
        return -1;
    }
    char fallback[80];
    snprintf(fallback, sizeof fallback, "%s.rdp", o->vm);
    ws_browser_file_name(&rs, fallback, saved, sizeof saved);
    *bytes = rs.body;
    *len = rs.body_len;
    rs.body = NULL;
    if (o->save_rdp)
        ws_write_file(o->save_rdp, *bytes, *len, 0600, NULL);
    ws_client_hop(r, "portal", 1, "received %s (%zu bytes, application/x-rdp%s)", saved, *len,
                  rs.content_disposition[0] ? ", as Content-Disposition names it" : "");
    return 0;
}

int ws_client_portal(ws_state *st, const ws_connect_opts *o, ws_connect_result *r, unsigned char **bytes,
                     size_t *len)
{
    if (!o->rdp_file)
        return portal_fetch(st, o, r, bytes, len);
    ws_error e;
    if (ws_read_file(o->rdp_file, WS_RDP_FILE_MAX, bytes, len, &e) != 0)
        return ws_client_fail(r, "portal", 0, "%s", e.msg);
    ws_client_hop(r, "portal", 1, "using %s", o->rdp_file);
    return 0;
}

/* ---- the rdp-signature hop ---- */

int ws_client_rdp_signature(ws_state *st, const ws_rdp_file *f, ws_connect_result *r)
{
    ws_error e;
    STACK_OF(X509) *roots = ws_store_certs(st, "client", "Root", NULL);
    ws_rdp_signature sig;
    memset(&sig, 0, sizeof sig);
    int valid = ws_rdp_verify(f, roots, ws_clock_now(st, "client"), &sig, &e) == 0;
    sk_X509_pop_free(roots, X509_free);
    if (!valid) {
        X509_free(sig.signer);
        return ws_client_fail(r, "rdp-signature", 0, "the .rdp file's signature is not valid: %s", e.msg);
    }
    char *subject = sig.signer ? ws_cert_subject(sig.signer) : NULL;
    ws_client_hop(r, "rdp-signature", 1, "signed by %s (%s)%s%s", subject ? subject : "?", sig.thumbprint,
                  sig.trusted ? "" : "; unknown publisher: Remote Desktop Connection warns: ",
                  sig.trusted ? "" : sig.trust_error);
    free(subject);
    X509_free(sig.signer);
    return 0;
}
