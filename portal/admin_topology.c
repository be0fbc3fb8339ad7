/* SPDX-License-Identifier: Apache-2.0 */
/* admin_topology: the chain as an SVG (admin.h), drawn on the server so it shows without
 * script: the lab's machines from the state file (this lab's, or a classroom seat's:
 * admin_topology_view), each with its state from ws_lab_status
 * (svc/supervisor.h), the links of the chain, and each hop of one connect (the newest,
 * or ?connect=ID) from the lab's record (lab/connects.h) drawn on its link green or red.
 * The page's script (admin_assets.c) polls /topology.svg and swaps the picture when the
 * connect or a machine's state changed.
 *
 * [model] Where each hop is drawn. The record says which stage each hop reached, not
 * which wire it crossed; the picture puts it where client/client.h says the hop runs:
 *   portal          client -> portal -> SPF -> VMM (the console request)
 *   rdp-signature   at the client (it checks the file it was given)
 *   direct          client -> host, dashed (the PC tries the host first)
 *   gateway-tls,    client -> (balancer ->) gateway
 *   gateway-auth
 *   channel         gateway -> host
 *   host-tls, host-auth, console   gateway -> host (through the gateway's channel)
 * The gateway is the machine the file's gatewayhostname names (its name, FQDN or
 * public FQDN); behind a balancer the record does not say which member took the
 * tunnel, so the balancer's link to every member is drawn and the host hops from the
 * first member. The host is the one the file's full address names, else the first. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "base/time.h"
#include "lab/clock.h"
#include "lab/connects.h"
#include "lab/machine.h"
#include "svc/supervisor.h"

#define MAX_NODES 32
#define BOX_W 150
#define BOX_H 58
#define WIDTH 1000
#define GREEN "#2e7d32"
#define RED "#c62828"
#define GREY "#8a96a3"

typedef struct node {
    ws_machine m;
    const char *state; /* running, stopped, unhealthy */
    double x, y;
} node;

typedef struct topo {
    node n[MAX_NODES];
    int count;
    int bottom; /* the lowest machine box's bottom edge */
} topo;

static int add_machine(const ws_machine *m, void *arg)
{
    topo *t = arg;
    if (t->count < MAX_NODES)
        t->n[t->count++].m = *m;
    return 0;
}

/* running, stopped (no process, or the operator stopped it) or unhealthy (alive, not answering). */
static void set_states(ws_state *st, topo *t)
{
    ws_proc_status *ps = NULL;
    int np = 0;
    ws_error e;
    if (ws_lab_status(st, &ps, &np, &e) != 0)
        np = 0;
    for (int i = 0; i < t->count; i++) {
        node *d = &t->n[i];
        d->state = strcmp(d->m.role, "client") == 0 ? "running" : "stopped";
        for (int k = 0; k < np; k++)
            if (strcmp(ps[k].machine, d->m.name) == 0)
                d->state = ps[k].pid == 0 || ps[k].stopped ? "stopped" : ps[k].healthy ? "running" : "unhealthy";
    }
    free(ps);
}

static int count_role(const topo *t, const char *role)
{
    int k = 0;
    for (int i = 0; i < t->count; i++)
        k += strcmp(t->n[i].m.role, role) == 0;
    return k;
}

/* Columns by role: the request row on top (portal, SPF, VMM), the console row below
 * (balancer, gateways, hosts), the client on the left; machines of one role stack. */
static void place(topo *t)
{
    int seen[8] = {0};
    static const struct {
        const char *role;
        double x, y, step;
    } col[] = {{"client", 90, 300, 100},  {"portal", 300, 80, 80},    {"spf", 520, 80, 80},  {"vmm", 740, 80, 80},
               {"balancer", 300, 330, 100}, {"gateway", 520, 330, 100}, {"host", 890, 330, 120}};
    t->bottom = 0;
    for (int i = 0; i < t->count; i++) {
        node *d = &t->n[i];
        for (size_t c = 0; c < sizeof col / sizeof col[0]; c++) {
            if (strcmp(d->m.role, col[c].role) != 0)
                continue;
            int of = count_role(t, col[c].role), k = seen[c]++;
            double off = c >= 4 ? (k - (of - 1) / 2.0) * col[c].step : k * col[c].step;
            d->x = col[c].x;
            d->y = col[c].y + off;
            /* A balancer stands where the client's link to the gateways has its labels:
             * the client moves down so that link is long enough to carry them. */
            if (c == 0 && count_role(t, "balancer") > 0)
                d->y += 150;
            if (d->y < 200 && c >= 4)
                d->y = 200 + k * col[c].step;
        }
        if ((int)d->y + BOX_H / 2 > t->bottom)
            t->bottom = (int)d->y + BOX_H / 2;
    }
}

static node *first(topo *t, const char *role)
{
    for (int i = 0; i < t->count; i++)
        if (strcmp(t->n[i].m.role, role) == 0)
            return &t->n[i];
    return NULL;
}

/* The machine of role that text names (its name, FQDN, public FQDN or address, an
 * optional :port after it), or NULL. */
static node *named(topo *t, const char *role, const char *text)
{
    char host[256];
    snprintf(host, sizeof host, "%s", text ? text : "");
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    for (int i = 0; host[0] && i < t->count; i++) {
        ws_machine *m = &t->n[i].m;
        if (strcmp(m->role, role) == 0 && (strcasecmp(host, m->name) == 0 || strcasecmp(host, m->fqdn) == 0 ||
                                           strcasecmp(host, m->public_fqdn) == 0 || strcmp(host, m->address) == 0))
            return &t->n[i];
    }
    return NULL;
}

static const char *role_label(const char *role)
{
    static const char *const labels[][2] = {{"client", "Tenant's PC"}, {"portal", "Tenant portal"},
                                            {"spf", "SPF"}, {"vmm", "VMM server"},
                                            {"gateway", "RD Gateway"}, {"balancer", "Load balancer"},
                                            {"host", "Hyper-V host"}};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(role, labels[i][0]) == 0)
            return labels[i][1];
    return role;
}

static void line(web_page *w, const node *a, const node *b, const char *cls, const char *stroke, double width,
                 const char *dash)
{
    web_raw(w, "<line class=\"%s\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"%.1f\"%s%s%s/>",
            cls, a->x, a->y, b->x, b->y, stroke, width, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
            dash ? "\"" : "");
}

/* The direct try bends below the console row, as the tenant's PC has no wire into the fabric. */
static void direct_curve(web_page *w, const topo *t, const node *a, const node *b, const char *stroke, double width,
                         double *mx, double *my)
{
    double cx = (a->x + b->x) / 2, cy = t->bottom + 150;
    web_raw(w, "<path class=\"link direct\" d=\"M%.0f %.0f Q%.0f %.0f %.0f %.0f\" fill=\"none\" stroke=\"%s\" "
               "stroke-width=\"%.1f\" stroke-dasharray=\"7 6\"/>",
            a->x, a->y, cx, cy, b->x, b->y, stroke, width);
    if (mx)
        *mx = 0.25 * a->x + 0.5 * cx + 0.25 * b->x, *my = 0.25 * a->y + 0.5 * cy + 0.25 * b->y;
}

static void links(web_page *w, topo *t)
{
    node *client = first(t, "client"), *portal = first(t, "portal"), *spf = first(t, "spf"), *vmm = first(t, "vmm"),
         *lb = first(t, "balancer");
    web_raw(w, "<g class=\"links\">");
    if (client && portal)
        line(w, client, portal, "link", "#9aa5b1", 2, NULL);
    if (portal && spf)
        line(w, portal, spf, "link", "#9aa5b1", 2, NULL);
    if (spf && vmm)
        line(w, spf, vmm, "link", "#9aa5b1", 2, NULL);
    if (client && lb)
        line(w, client, lb, "link", "#9aa5b1", 2, NULL);
    for (int i = 0; i < t->count; i++) {
        node *d = &t->n[i];
        if (strcmp(d->m.role, "gateway") == 0 && (lb || client))
            line(w, lb ? lb : client, d, "link", "#9aa5b1", 2, NULL);
        if (strcmp(d->m.role, "host") != 0)
            continue;
        if (vmm)
            line(w, vmm, d, "link mgmt", "#c3cad3", 1.5, "3 4");
        for (int g = 0; g < t->count; g++)
            if (strcmp(t->n[g].m.role, "gateway") == 0)
                line(w, &t->n[g], d, "link", "#9aa5b1", 2, NULL);
        if (client)
            direct_curve(w, t, client, d, "#c3cad3", 1.5, NULL, NULL);
    }
    web_raw(w, "</g>");
}

static void machines(web_page *w, const topo *t)
{
    for (int i = 0; i < t->count; i++) {
        const node *d = &t->n[i];
        int run = strcmp(d->state, "running") == 0, stopped = strcmp(d->state, "stopped") == 0;
        const char *edge = run ? "#3d6b99" : stopped ? "#8a8f96" : "#d9822b";
        const char *dot = run ? "#43a047" : stopped ? "#9e9e9e" : "#fb8c00";
        web_raw(w, "<g class=\"machine\" data-machine=\"");
        web_esc(w, d->m.name);
        web_raw(w, "\" data-role=\"");
        web_esc(w, d->m.role);
        web_raw(w, "\" data-state=\"%s\"><title>", d->state);
        web_esc(w, d->m.fqdn);
        web_raw(w, " %s:%d</title><rect x=\"%.0f\" y=\"%.0f\" width=\"%d\" height=\"%d\" rx=\"4\" fill=\"%s\" "
                   "stroke=\"%s\" stroke-width=\"2\"/>",
                d->m.address, d->m.port, d->x - BOX_W / 2.0, d->y - BOX_H / 2.0, BOX_W, BOX_H,
                stopped ? "#eef0f2" : "#ffffff", edge);
        web_raw(w, "<rect x=\"%.0f\" y=\"%.0f\" width=\"6\" height=\"%d\" fill=\"%s\"/>", d->x - BOX_W / 2.0,
                d->y - BOX_H / 2.0, BOX_H, edge);
        web_raw(w, "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"5\" fill=\"%s\"/>", d->x + BOX_W / 2.0 - 12,
                d->y - BOX_H / 2.0 + 12, dot);
        web_raw(w, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"15\" font-weight=\"600\" fill=\"#1f2d3d\">", d->x - 62,
                d->y - 6);
        web_esc(w, d->m.name);
        web_raw(w, "</text><text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" fill=\"#56616e\">", d->x - 62, d->y + 14);
        web_esc(w, role_label(d->m.role));
        web_raw(w, " \xc2\xb7 %s</text></g>", d->state);
    }
}

/* One hop: its overlay on each of its links, and its label (a pill) at (px, py). */
typedef struct hop_draw {
    const char *stage;
    int ok;
    const char *detail;
    char code[16]; /* the connect's code, on the hop where it stopped ("" elsewhere) */
    int fallback;  /* the direct try found no route and the PC went on through the gateway */
} hop_draw;

static const char *hop_colour(const hop_draw *h)
{
    return !h->ok ? RED : h->fallback ? GREY : GREEN;
}

static void pill(web_page *w, const hop_draw *h, double px, double py)
{
    double pw = 18 + 6.6 * (strlen(h->stage) + (h->code[0] ? strlen(h->code) + 3 : 0));
    web_raw(w, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"20\" rx=\"10\" fill=\"%s\"/>"
               "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11.5\" font-weight=\"600\" fill=\"#ffffff\" "
               "text-anchor=\"middle\">%s ",
            px - pw / 2, py - 10, pw, hop_colour(h), px, py + 4, h->ok ? "\xe2\x9c\x93" : "\xe2\x9c\x97");
    web_esc(w, h->stage);
    if (h->code[0]) {
        web_raw(w, " \xc2\xb7 ");
        web_esc(w, h->code);
    }
    web_raw(w, "</text>");
}

static void hop_open(web_page *w, const hop_draw *h)
{
    web_raw(w, "<g class=\"hop\" data-hop=\"");
    web_esc(w, h->stage);
    web_raw(w, "\" data-state=\"%s\"><title>", h->ok ? "ok" : "fail");
    web_esc(w, h->stage);
    web_raw(w, ": ");
    web_esc(w, h->detail);
    web_raw(w, "</title>");
}

/* Where a stage's label goes: the index of the stage within its group, and the group's size. */
static int group_of(const char *stage)
{
    if (strcmp(stage, "gateway-tls") == 0 || strcmp(stage, "gateway-auth") == 0)
        return 1;
    if (strcmp(stage, "channel") == 0 || strcmp(stage, "host-tls") == 0 || strcmp(stage, "host-auth") == 0 ||
        strcmp(stage, "console") == 0)
        return 2;
    return 0;
}

static void draw_hop(web_page *w, topo *t, const hop_draw *h, int slot, int slots, node *gw, node *host)
{
    node *client = first(t, "client"), *portal = first(t, "portal"), *spf = first(t, "spf"), *vmm = first(t, "vmm"),
         *lb = first(t, "balancer");
    const char *c = hop_colour(h);
    double px = 0, py = 0, dy = (slot - (slots - 1) / 2.0) * 24;
    hop_open(w, h);
    if (strcmp(h->stage, "portal") == 0 && client && portal) {
        line(w, client, portal, "hop-line", c, 5, NULL);
        if (spf)
            line(w, portal, spf, "hop-line", c, 5, NULL);
        if (spf && vmm)
            line(w, spf, vmm, "hop-line", c, 5, NULL);
        px = (client->x + portal->x) / 2, py = (client->y + portal->y) / 2;
    } else if (strcmp(h->stage, "rdp-signature") == 0 && client) {
        px = client->x, py = client->y + BOX_H / 2.0 + 18;
    } else if (strcmp(h->stage, "direct") == 0 && client && host) {
        direct_curve(w, t, client, host, c, 3, &px, &py);
    } else if (group_of(h->stage) == 1 && client && gw) {
        node *front = lb ? lb : gw;
        line(w, client, front, "hop-line", c, 5, NULL);
        for (int i = 0; lb && i < t->count; i++)
            if (strcmp(t->n[i].m.role, "gateway") == 0)
                line(w, lb, &t->n[i], "hop-line", c, 5, NULL);
        px = (client->x + front->x) / 2, py = (client->y + front->y) / 2 + dy;
    } else if (group_of(h->stage) == 2 && gw && host) {
        line(w, gw, host, "hop-line", c, 5, NULL);
        px = (gw->x + host->x) / 2, py = (gw->y + host->y) / 2 + dy;
    } else if (client) { /* a stage this picture does not know: at the client */
        px = client->x, py = client->y - BOX_H / 2.0 - 16;
    }
    pill(w, h, px, py);
    web_raw(w, "</g>");
}

/* The hops of one connect, in the order they ran; the labels of a group stack on their link. */
static void hops(web_page *w, topo *t, const cJSON *conn)
{
    const char *gwname = cJSON_GetStringValue(cJSON_GetObjectItem(conn, "gateway"));
    const char *computer = cJSON_GetStringValue(cJSON_GetObjectItem(conn, "computer"));
    const char *stage = cJSON_GetStringValue(cJSON_GetObjectItem(conn, "stage"));
    const cJSON *code = cJSON_GetObjectItem(conn, "code");
    node *gw = named(t, "gateway", gwname), *host = named(t, "host", computer);
    if (!gw)
        gw = first(t, "gateway");
    if (!host)
        host = first(t, "host");
    const cJSON *list = cJSON_GetObjectItem(conn, "hops"), *h;
    int in_group[3] = {0}, slot[3] = {0};
    cJSON_ArrayForEach(h, list) in_group[group_of(cJSON_GetStringValue(cJSON_GetObjectItem(h, "stage")) ?: "")]++;
    web_raw(w, "<g class=\"hops\">");
    cJSON_ArrayForEach(h, list)
    {
        hop_draw d = {cJSON_GetStringValue(cJSON_GetObjectItem(h, "stage")),
                      cJSON_IsTrue(cJSON_GetObjectItem(h, "ok")),
                      cJSON_GetStringValue(cJSON_GetObjectItem(h, "detail")), "", 0};
        if (d.stage && !d.ok && cJSON_IsNumber(code) && stage && strcmp(stage, d.stage) == 0)
            snprintf(d.code, sizeof d.code, "%u", (unsigned)code->valuedouble);
        if (!d.stage)
            continue;
        /* An ok direct hop with gateway hops after it is the PC finding no route to the host
         * and going on through the gateway: drawn grey, not as a wire that worked. */
        if (d.ok && strcmp(d.stage, "direct") == 0 && in_group[1]) {
            d.fallback = 1;
            snprintf(d.code, sizeof d.code, "via gateway");
        }
        int g = group_of(d.stage);
        draw_hop(w, t, &d, slot[g]++, g ? in_group[g] : 1, gw, host);
    }
    web_raw(w, "</g>");
}

/* The caption's lines of text: up to max lines of at most width characters, broken at
 * spaces and at the text's own line ends; how many lines (w NULL: only count them). */
static int wrapped(web_page *w, const char *text, double x, double y, int width, int max)
{
    const char *p = text ? text : "";
    int n = 0;
    for (; *p && n < max; n++) {
        size_t len = strcspn(p, "\n");
        if (len > (size_t)width) {
            len = (size_t)width;
            while (len > 20 && p[len] != ' ')
                len--;
        }
        char chunk[512];
        snprintf(chunk, sizeof chunk, "%.*s%s", (int)len, p, n == max - 1 && p[len] && p[len + 1] ? " \xe2\x80\xa6" : "");
        if (w) {
            web_raw(w, "<tspan x=\"%.0f\" y=\"%.0f\">", x, y + n * 17);
            web_esc(w, chunk);
            web_raw(w, "</tspan>");
        }
        p += len;
        while (*p == ' ' || *p == '\n')
            p++;
    }
    return n;
}

#define MESSAGE_WIDTH 140
#define MESSAGE_LINES 5

/* The caption box's height for conn. */
static int caption_height(const cJSON *conn)
{
    const char *msg = conn ? cJSON_GetStringValue(cJSON_GetObjectItem(conn, "message")) : NULL;
    return 46 + 17 * (conn ? wrapped(NULL, msg, 0, 0, MESSAGE_WIDTH, MESSAGE_LINES) : 1);
}

static void fmt_time(double ms, char *out, size_t n)
{
    ws_time_format((int64_t)(ms / 1000), out, n);
}

static void caption(web_page *w, const cJSON *conn, double y)
{
    web_raw(w, "<rect x=\"10\" y=\"%.0f\" width=\"%d\" height=\"%d\" rx=\"4\" fill=\"#f4f6f8\" stroke=\"#d5dbe1\"/>",
            y, WIDTH - 20, caption_height(conn));
    web_raw(w, "<text id=\"topology-caption\" font-size=\"13\" fill=\"#1f2d3d\">");
    if (!conn) {
        web_raw(w, "<tspan x=\"24\" y=\"%.0f\" font-weight=\"600\">No connect yet.</tspan><tspan x=\"24\" "
                   "y=\"%.0f\">Connect from the tenant site or run: wapsim connect --tenant alice --vm web01</tspan>",
                y + 26, y + 46);
        web_raw(w, "</text>");
        return;
    }
    const char *tenant = cJSON_GetStringValue(cJSON_GetObjectItem(conn, "tenant"));
    const char *vm = cJSON_GetStringValue(cJSON_GetObjectItem(conn, "vm"));
    const char *stage = cJSON_GetStringValue(cJSON_GetObjectItem(conn, "stage"));
    const cJSON *code = cJSON_GetObjectItem(conn, "code");
    int ok = cJSON_IsTrue(cJSON_GetObjectItem(conn, "ok"));
    char when[32];
    fmt_time(cJSON_GetNumberValue(cJSON_GetObjectItem(conn, "time_ms")), when, sizeof when);
    web_raw(w, "<tspan x=\"24\" y=\"%.0f\" font-weight=\"600\" fill=\"%s\">%s</tspan><tspan font-weight=\"600\"> ",
            y + 24, ok ? GREEN : RED, ok ? "\xe2\x9c\x93 Connected" : "\xe2\x9c\x97 Failed");
    web_raw(w, "%s ", ok ? "through" : "at");
    web_esc(w, stage ? stage : "?");
    web_raw(w, "</tspan><tspan> \xc2\xb7 tenant ");
    web_esc(w, tenant ? tenant : "(administrator)");
    web_raw(w, " \xc2\xb7 VM ");
    web_esc(w, vm ? vm : "");
    if (cJSON_IsNumber(code))
        web_raw(w, " \xc2\xb7 code %u (0x%08X)", (unsigned)code->valuedouble, (unsigned)code->valuedouble);
    else
        web_raw(w, " \xc2\xb7 no code");
    web_raw(w, " \xc2\xb7 connect #%d at %s (client clock)</tspan>", cJSON_GetObjectItem(conn, "id")->valueint, when);
    web_raw(w, "</text><text font-size=\"12.5\" fill=\"#37414d\" class=\"caption-message\">");
    wrapped(w, cJSON_GetStringValue(cJSON_GetObjectItem(conn, "message")), 24, y + 46, MESSAGE_WIDTH, MESSAGE_LINES);
    web_raw(w, "</text>");
}

/* The connect to draw: ?connect=ID when that one is still kept, else the newest (NULL: none). */
static cJSON *pick_connect(const admin_req *a, ws_state *st, cJSON **all)
{
    ws_error e;
    if (ws_connects_recent(st, WS_CONNECTS_KEPT, all, &e) != 0)
        return NULL;
    const char *want = ws_httpd_arg(a->rq, "connect");
    cJSON *c;
    cJSON_ArrayForEach(c, *all) if (want && cJSON_GetObjectItem(c, "id")->valueint == atoi(want)) return c;
    return cJSON_GetArrayItem(*all, 0);
}

static void svg(web_page *w, ws_state *st, const cJSON *conn)
{
    topo *t = calloc(1, sizeof *t);
    ws_error e;
    if (!t)
        abort();
    ws_machine_foreach(st, add_machine, t, &e);
    set_states(st, t);
    place(t);
    double cap_y = t->bottom + 110;
    web_raw(w, "<svg id=\"topology\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %.0f\" "
               "data-connect=\"%d\" role=\"img\" aria-labelledby=\"topology-caption\" "
               "font-family=\"Segoe UI, Helvetica, Arial, sans-serif\">",
            WIDTH, cap_y + caption_height(conn) + 10, conn ? cJSON_GetObjectItem(conn, "id")->valueint : 0);
    web_raw(w, "<text x=\"300\" y=\"34\" font-size=\"11\" fill=\"#7b8794\" text-anchor=\"middle\">console request"
               "</text><text x=\"820\" y=\"180\" font-size=\"11\" fill=\"#7b8794\">management</text>");
    links(w, t);
    if (conn)
        hops(w, t, conn);
    machines(w, t);
    caption(w, conn, cap_y);
    web_raw(w, "</svg>");
    free(t);
}

static void recent(web_page *w, const char *base, const cJSON *all, const cJSON *shown)
{
    web_raw(w, "<section id=\"recent\"><h2>Recent connects</h2><table class=\"grid\"><thead><tr><th>Time (client)"
               "</th><th>Tenant</th><th>VM</th><th>Result</th><th>Code</th></tr></thead><tbody>");
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, all)
    {
        if (n++ == 10)
            break;
        int id = cJSON_GetObjectItem(c, "id")->valueint, ok = cJSON_IsTrue(cJSON_GetObjectItem(c, "ok"));
        const cJSON *code = cJSON_GetObjectItem(c, "code");
        const char *tenant = cJSON_GetStringValue(cJSON_GetObjectItem(c, "tenant"));
        char when[32];
        fmt_time(cJSON_GetNumberValue(cJSON_GetObjectItem(c, "time_ms")), when, sizeof when);
        web_raw(w, "<tr%s><td><a href=\"", c == shown ? " class=\"shown\"" : "");
        web_esc(w, base);
        web_raw(w, "?connect=%d\">%s</a></td><td>", id, when);
        web_esc(w, tenant ? tenant : "(administrator)");
        web_raw(w, "</td><td>");
        web_esc(w, cJSON_GetStringValue(cJSON_GetObjectItem(c, "vm")));
        web_raw(w, "</td><td><span class=\"badge %s\">%s</span> ", ok ? "ok" : "fail", ok ? "ok" : "failed");
        web_esc(w, cJSON_GetStringValue(cJSON_GetObjectItem(c, "stage")));
        if (cJSON_IsNumber(code))
            web_raw(w, "</td><td>%u (0x%08X)</td></tr>", (unsigned)code->valuedouble, (unsigned)code->valuedouble);
        else
            web_raw(w, "</td><td>-</td></tr>");
    }
    if (n == 0)
        web_raw(w, "<tr><td colspan=\"5\">No connect recorded yet.</td></tr>");
    web_raw(w, "</tbody></table></section>\n");
}

enum MHD_Result admin_topology(const admin_req *a)
{
    admin_view v = {.st = a->rq->st, .base = "/topology", .tab = "Topology"};
    return admin_topology_view(a, &v);
}

enum MHD_Result admin_topology_svg(const admin_req *a)
{
    return admin_topology_svg_of(a, a->rq->st);
}

enum MHD_Result admin_topology_view(const admin_req *a, const admin_view *v)
{
    cJSON *all = NULL, *conn = pick_connect(a, v->st, &all);
    web_page w;
    web_init(&w);
    char title[64];
    snprintf(title, sizeof title, "%.16s%sTopology", v->label ? v->label : "", v->label ? ": " : "");
    admin_begin(&w, a, title, v->tab);
    int pinned = ws_httpd_arg(a->rq, "connect") != NULL;
    web_raw(&w, "<p class=\"lede\">The lab's machines and the chain of a console connect: each hop of %s, green "
                "where it passed, red where it stopped. ",
            pinned ? "the connect chosen below" : "the newest connect (from the tenant site, the command line or a runbook replayed)");
    if (pinned) {
        web_raw(&w, "<a href=\"");
        web_esc(&w, v->base);
        web_raw(&w, "\">Follow the newest connect</a>.</p>\n");
    } else {
        web_raw(&w, "It follows new connects as they happen.</p>\n");
    }
    /* The script polls the same picture (base.svg): a chosen connect stays chosen. */
    web_raw(&w, "<div class=\"topology-frame\" id=\"topology-frame\" data-src=\"");
    web_esc(&w, v->base);
    web_raw(&w, ".svg");
    if (pinned && conn)
        web_raw(&w, "?connect=%d", cJSON_GetObjectItem(conn, "id")->valueint);
    web_raw(&w, "\">");
    svg(&w, v->st, conn);
    web_raw(&w, "</div>\n<ul class=\"legend\"><li class=\"l-ok\">hop passed</li><li class=\"l-fail\">hop failed"
                "</li><li class=\"l-run\">running</li><li class=\"l-unhealthy\">unhealthy</li><li class=\"l-stop\">"
                "stopped</li><li class=\"l-mgmt\">management (VMM to hosts)</li><li class=\"l-direct\">direct try"
                "</li></ul>\n");
    recent(&w, v->base, all, conn);
    cJSON_Delete(all);
    admin_end(&w, a);
    return web_send(a->rq, 200, &w, NULL);
}

enum MHD_Result admin_topology_svg_of(const admin_req *a, ws_state *st)
{
    cJSON *all = NULL, *conn = pick_connect(a, st, &all);
    web_page w;
    web_init(&w);
    svg(&w, st, conn);
    cJSON_Delete(all);
    enum MHD_Result r = web_asset(a->rq, "image/svg+xml; charset=utf-8", w.text);
    free(w.text);
    return r;
}
