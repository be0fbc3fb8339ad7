/* SPDX-License-Identifier: Apache-2.0 */
/* admin_certs: a machine's certificate stores as certlm.msc shows them (admin.h):
 * LocalMachine\My and Root (lab/store.h), each certificate's subject, thumbprint, EKU,
 * the key's provider (the vault's CSP), validity on the machine's lab clock and whether
 * the store holds its private key. Import and Remove are `wapsim cert import|remove`
 * run on the lab (admin_run), with that command's checks and events (1006, 1004). */
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "base/time.h"
#include "crypto/cert.h"
#include "lab/clock.h"
#include "lab/machine.h"
#include "lab/store.h"
#include "lab/vault.h"

#define CERT_DEADLINE_S 30
#define MAX_NAMES 256

static const char *const stores[] = {"My", "Root"};

static void notice_p(web_page *w, const char *text)
{
    web_raw(w, "<p class=\"notice\" role=\"alert\">");
    web_esc(w, text);
    web_raw(w, "</p>\n");
}

typedef struct store_view {
    web_page *w;
    const admin_req *a;
    const char *machine;
    int64_t now; /* the machine's lab clock */
    int n;
} store_view;

static void remove_button(web_page *w, const admin_req *a, const ws_store_entry *ent)
{
    admin_form(w, a, "/certs/remove");
    static const char *const f[] = {"name", "machine", "store"};
    const char *v[] = {ent->cert_name, ent->machine, ent->store};
    for (int i = 0; i < 3; i++) {
        web_raw(w, "<input type=\"hidden\" name=\"%s\" value=\"", f[i]);
        web_esc(w, v[i]);
        web_raw(w, "\">");
    }
    web_raw(w, "<button type=\"submit\" class=\"cmd danger\">Remove from %s</button></form>", ent->store);
}

static void validity(web_page *w, X509 *c, int64_t now)
{
    char nb[32], na[32];
    int64_t from = ws_cert_not_before(c), to = ws_cert_not_after(c);
    ws_time_format(from, nb, sizeof nb);
    ws_time_format(to, na, sizeof na);
    web_raw(w, "<td class=\"nowrap\">%s<div class=\"sub\">from %s</div>", na, nb);
    if (now > to)
        web_raw(w, "<span class=\"badge fail\">expired</span>");
    else if (now < from)
        web_raw(w, "<span class=\"badge fail\">not yet valid</span>");
    web_raw(w, "</td>");
}

static int cert_row(const ws_store_entry *ent, void *arg)
{
    store_view *v = arg;
    web_page *w = v->w;
    X509 *c = NULL;
    char *csp = NULL, tp[41];
    ws_error e;
    v->n++;
    web_raw(w, "<tr class=\"cert\" data-name=\"");
    web_esc(w, ent->cert_name);
    if (ws_vault_get(v->a->rq->st, ent->cert_name, &c, NULL, &csp, &e) != 0) {
        web_raw(w, "\"><td colspan=\"8\">");
        web_esc(w, e.msg);
        web_raw(w, "</td></tr>\n");
        return 0;
    }
    ws_cert_thumbprint(c, tp);
    char *subject = ws_cert_subject(c), *ekus = ws_cert_ekus(c);
    web_raw(w, "\" data-thumbprint=\"%s\"><td><strong>", tp);
    web_esc(w, ent->cert_name);
    web_raw(w, "</strong></td><td>");
    web_esc(w, subject);
    web_raw(w, "</td><td class=\"mono\">%s</td><td>", tp);
    web_esc(w, ekus && *ekus ? ekus : "(any: no EKU extension)");
    web_raw(w, "</td><td>");
    web_esc(w, csp ? csp : "-");
    web_raw(w, "</td>");
    validity(w, c, v->now);
    web_raw(w, "<td>%s</td><td>", ent->has_private_key ? "<span class=\"badge ok\">yes</span>" : "no");
    remove_button(w, v->a, ent);
    web_raw(w, "</td></tr>\n");
    free(subject), free(ekus), free(csp);
    X509_free(c);
    return 0;
}

static void store_table(web_page *w, const admin_req *a, const char *machine, const char *store)
{
    store_view v = {.w = w, .a = a, .machine = machine, .now = ws_clock_now(a->rq->st, machine)};
    ws_error e;
    web_raw(w, "<section class=\"store\" data-store=\"%s\"><h2>", store);
    web_esc(w, machine);
    web_raw(w, "\\LocalMachine\\%s <span class=\"sub\">%s</span></h2>", store,
            strcmp(store, "My") == 0 ? "Personal" : "Trusted Root Certification Authorities");
    web_raw(w, "<table class=\"grid certs\"><thead><tr><th>Name</th><th>Subject</th><th>Thumbprint</th><th>Enhanced "
               "key usage</th><th>Key provider</th><th>Expires</th><th>Private key</th><th></th></tr></thead><tbody>\n");
    if (ws_store_foreach(a->rq->st, machine, store, cert_row, &v, &e) != 0) {
        web_raw(w, "<tr><td colspan=\"8\">");
        web_esc(w, e.msg);
        web_raw(w, "</td></tr>");
    } else if (v.n == 0) {
        web_raw(w, "<tr><td colspan=\"8\">No certificates.</td></tr>");
    }
    web_raw(w, "</tbody></table></section>\n");
}

typedef struct names {
    char *v[MAX_NAMES];
    int n;
} names;

static int add_name(const ws_store_entry *ent, void *arg)
{
    names *ns = arg;
    for (int i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], ent->cert_name) == 0)
            return 0;
    if (ns->n < MAX_NAMES)
        ns->v[ns->n++] = strdup(ent->cert_name);
    return 0;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Import: any vault certificate into a store of this machine. */
static void import_form(web_page *w, const admin_req *a, const char *machine)
{
    names ns = {.n = 0};
    ws_error e;
    ws_store_foreach(a->rq->st, NULL, NULL, add_name, &ns, &e);
    qsort(ns.v, (size_t)ns.n, sizeof ns.v[0], by_name);
    web_raw(w, "<section class=\"import\"><h2>Import a lab certificate</h2>");
    admin_form(w, a, "/certs/import");
    web_raw(w, "<input type=\"hidden\" name=\"machine\" value=\"");
    web_esc(w, machine);
    web_raw(w, "\"><label>Certificate <select name=\"name\" id=\"import-name\">");
    for (int i = 0; i < ns.n; i++) {
        web_raw(w, "<option>");
        web_esc(w, ns.v[i]);
        web_raw(w, "</option>");
        free(ns.v[i]);
    }
    web_raw(w, "</select></label> <label>Store <select name=\"store\" id=\"import-store\"><option>My</option>"
               "<option>Root</option></select></label> <label class=\"check\"><input type=\"checkbox\" "
               "name=\"public_only\" value=\"1\"> Public key only (Import-Certificate)</label> "
               "<button type=\"submit\" class=\"cmd\">Import</button></form>"
               "<p class=\"hint\">Runs <code>wapsim cert import NAME --machine M --store S [--public-only]</code>: "
               "with its private key when the vault has one (Import-PfxCertificate).</p></section>\n");
}

static int machine_option(const ws_machine *m, void *arg)
{
    void **a = arg;
    web_raw(a[0], "<option%s>", strcmp(m->name, a[1]) == 0 ? " selected" : "");
    web_esc(a[0], m->name);
    web_raw(a[0], "</option>");
    return 0;
}

static enum MHD_Result page(const admin_req *a, unsigned status, const char *machine, const char *store,
                            const admin_outcome *o, const char *notice)
{
    ws_state *st = a->rq->st;
    web_page w;
    web_init(&w);
    int known = ws_machine_exists(st, machine);
    char title[96];
    snprintf(title, sizeof title, known ? "Certificates: %.64s" : "Certificates", machine);
    admin_begin(&w, a, title, "Machines");
    void *args[2] = {&w, (void *)machine};
    ws_error e;
    web_raw(&w, "<form method=\"get\" action=\"/certs\" class=\"filters\"><label>Machine <select name=\"machine\">");
    ws_machine_foreach(st, machine_option, args, &e);
    web_raw(&w, "</select></label> <label>Store <select name=\"store\"><option value=\"\">All</option>");
    for (int i = 0; i < 2; i++)
        web_raw(&w, "<option%s>%s</option>", store && strcmp(store, stores[i]) == 0 ? " selected" : "", stores[i]);
    web_raw(&w, "</select></label> <button type=\"submit\">Show</button></form>\n");
    if (notice)
        notice_p(&w, notice);
    if (o)
        admin_outcome_html(&w, o);
    for (int i = 0; known && i < 2; i++)
        if (!store || strcmp(store, stores[i]) == 0)
            store_table(&w, a, machine, stores[i]);
    if (known)
        import_form(&w, a, machine);
    admin_end(&w, a);
    return web_send(a->rq, status, &w, NULL);
}

/* POST /certs/import and /certs/remove: the fields checked before the command runs. */
static enum MHD_Result change(const admin_req *a, int import)
{
    char name[128] = "", machine[64] = "", store_text[16] = "", public_only[8] = "", notice[240];
    const char *store = NULL;
    ws_state *st = a->rq->st;
    if (web_field(a->rq, "machine", machine, sizeof machine) != 0 || !ws_machine_exists(st, machine))
        return page(a, 400, "portal", NULL, NULL, "Give a machine of this lab.");
    if (web_field(a->rq, "name", name, sizeof name) != 0 || name[0] == '-' || !ws_vault_exists(st, name)) {
        /* A name starting with '-' would read as an option of the command: never passed. */
        snprintf(notice, sizeof notice, "No certificate '%.120s' in the lab's vault.", name);
        return page(a, 400, machine, NULL, NULL, notice);
    }
    if (web_field(a->rq, "store", store_text, sizeof store_text) != 0 || !(store = ws_store_name(store_text))) {
        snprintf(notice, sizeof notice, "Unknown store '%.15s' (My or Root).", store_text);
        return page(a, 400, machine, NULL, NULL, notice);
    }
    web_field(a->rq, "public_only", public_only, sizeof public_only);
    const char *args[] = {"cert", import ? "import" : "remove", name, "--machine", machine, "--store", store,
                          import && public_only[0] ? "--public-only" : NULL, NULL};
    admin_outcome o;
    admin_run(a->rq, args, CERT_DEADLINE_S, &o);
    enum MHD_Result r = page(a, 200, machine, NULL, &o, NULL);
    admin_outcome_free(&o);
    return r;
}

enum MHD_Result admin_certs(const admin_req *a)
{
    if (strcmp(a->rq->method, "POST") == 0 && strcmp(a->path, "/certs/import") == 0)
        return change(a, 1);
    if (strcmp(a->rq->method, "POST") == 0 && strcmp(a->path, "/certs/remove") == 0)
        return change(a, 0);
    if (strcmp(a->rq->method, "GET") != 0 || strcmp(a->path, "/certs") != 0)
        return ws_httpd_reply(a->rq->conn, 404, "text/plain", "no such page\n", 13);
    const char *machine = ws_httpd_arg(a->rq, "machine"), *store_text = ws_httpd_arg(a->rq, "store");
    const char *store = store_text && *store_text ? ws_store_name(store_text) : NULL;
    char notice[160];
    if (!machine || !*machine)
        machine = "portal";
    if (!ws_machine_exists(a->rq->st, machine)) {
        snprintf(notice, sizeof notice, "No machine '%.64s' in this lab.", machine);
        return page(a, 400, machine, NULL, NULL, notice);
    }
    if (store_text && *store_text && !store) {
        snprintf(notice, sizeof notice, "Unknown store '%.40s' (My or Root).", store_text);
        return page(a, 400, machine, NULL, NULL, notice);
    }
    return page(a, 200, machine, store, NULL, NULL);
}
