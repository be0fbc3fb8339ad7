/* SPDX-License-Identifier: Apache-2.0 */
/* client: see client.h. ws_connect runs the hops in order, each part in its own file
 * (client_int.h lists them). Blocking sockets and OpenSSL: one flow, one thread; flows
 * share nothing, so a program may run several at once. */
#include "client/client_int.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/net.h"
#include "lab/connects.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "lab/vm.h"
#include "svc/machine_tls.h"
#include "wire/disconnect.h"
#include "wire/tsgu.h"

/* ---- hops ---- */

void ws_client_hop(ws_connect_result *r, const char *stage, int ok, const char *fmt, ...)
{
    ws_hop spare, *h = r->nhops < WS_MAX_HOPS ? &r->hops[r->nhops++] : &spare;
    snprintf(h->stage, sizeof h->stage, "%s", stage);
    h->ok = ok;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->detail, sizeof h->detail, fmt, ap);
    va_end(ap);
    snprintf(r->stage, sizeof r->stage, "%s", stage);
    r->ok = ok;
    if (!ok)
        snprintf(r->message, sizeof r->message, "%s", h->detail);
}

/* Which of Remote Desktop Connection's tables (wire/disconnect.h) a failed hop's code is
 * in, by the hop: the gateway's hops end with a disconnect reason (a gateway status code
 * becomes one), host-tls and host-auth with an authentication error (0x607, the RDSTLS
 * result), the console with the host's Set Error Info code. -1: no such code (the portal's
 * HTTP status is the browser's, not the client's). */
static int code_kind(const char *stage)
{
    if (strncmp(stage, "gateway-", 8) == 0 || strcmp(stage, "channel") == 0 || strcmp(stage, "direct") == 0)
        return WS_DISC_KIND_REASON;
    if (strncmp(stage, "host-", 5) == 0)
        return WS_DISC_KIND_AUTH;
    if (strcmp(stage, "console") == 0)
        return WS_DISC_KIND_ERRINFO;
    return -1;
}

int ws_client_fail(ws_connect_result *r, const char *stage, uint32_t code, const char *fmt, ...)
{
    char why[700], text[1000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    int kind = code ? code_kind(stage) : -1;
    if (kind < 0) {
        ws_client_hop(r, stage, 0, "%s", why);
    } else {
        /* A gateway status code is reported as the disconnect reason it becomes; the
         * HRESULT stays in the lab's why. */
        uint32_t reason = kind == WS_DISC_KIND_REASON ? ws_disconnect_of_hresult(code) : 0;
        if (reason)
            code = reason;
        ws_disconnect_format((ws_disc_kind)kind, code, r->gateway, r->computer, text, sizeof text);
        const ws_disconnect_def *d = ws_disconnect_find((ws_disc_kind)kind, code);
        if (d && strstr(why, d->text)) /* the caller quoted the text already */
            ws_client_hop(r, stage, 0, "%s", why);
        else
            ws_client_hop(r, stage, 0, "%s%s%s%s", text, why[0] ? " [" : "", why, why[0] ? "]" : "");
    }
    if (code) {
        r->has_code = 1;
        r->code = code;
    }
    return -1;
}

int ws_client_tcp(const char *src, const char *address, int port, ws_error *e)
{
    return ws_tcp_connect_from(src, address, port, WS_CLIENT_IO_TIMEOUT_MS, WS_TCP_NODELAY | WS_TCP_IO_TIMEOUT, e);
}

/* ---- the administrator's path: straight to the host, as VMConnect ---- */

static int admin_connect(ws_state *st, const ws_connect_opts *o, ws_connect_result *r)
{
    ws_error e;
    char vm_id[40] = "", host[64] = "";
    ws_vm vm;
    if (ws_vm_find(st, o->vm, &vm, NULL) == 0) {
        for (char *p = vm.id; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        snprintf(vm_id, sizeof vm_id, "%s", vm.id);
        snprintf(host, sizeof host, "%s", vm.host);
    }
    ws_machine m;
    if (!vm_id[0] || ws_machine_get(st, host, &m, &e) != 0)
        return ws_client_fail(r, "direct", 0, "unknown VM '%s'", o->vm);
    int fd = ws_client_tcp(NULL, m.address, m.port, &e);
    if (fd < 0)
        return ws_client_fail(r, "direct", 0, "%s", e.msg);
    ws_client_hop(r, "direct", 1, "straight to %s (%s:%d) as %s", m.fqdn, m.address, m.port, o->admin_user);
    ws_rdp_file f;
    ws_rdp_init(&f);
    ws_rdp_set(&f, "full address", 's', m.fqdn);
    ws_rdp_set(&f, "pcb", 's', vm_id);
    ws_connect_opts direct = *o;
    direct.direct_fd = fd;
    direct.no_rdstls = 1;
    int rc = ws_client_host_hops(st, NULL, &f, &direct, r);
    ws_rdp_free(&f);
    close(fd);
    return rc;
}

/* ---- the whole connection ---- */

/* The direct hop: gatewayusagemethod 2 would try the host first, but the tenant's PC
 * has no route into the fabric. */
static int direct_hop(ws_state *st, const ws_rdp_file *f, ws_connect_result *r)
{
    const char *full_address = ws_rdp_get(f, "full address");
    const char *gw_host = ws_rdp_get(f, "gatewayhostname");
    const char *usage = ws_rdp_get(f, "gatewayusagemethod");
    if (!full_address || !gw_host || !ws_rdp_get(f, "gatewayaccesstoken"))
        return ws_client_fail(r, "direct", 0, "the .rdp file lacks full address, gatewayhostname or gatewayaccesstoken");
    char direct_addr[64];
    ws_hostport hp;
    ws_error e;
    int resolvable = ws_hostport_parse(full_address, 3389, &hp, &e) == 0 &&
                     ws_lab_resolve(st, WS_RESOLVE_TENANT_PC, hp.host, direct_addr, sizeof direct_addr, &e) == 0;
    if (resolvable || (usage && atoi(usage) == 0)) {
        /* [model] A tenant's PC has no route into the fabric. */
        ws_client_hop(r, "direct", 1, "%s is not reachable from the tenant's PC: using the RD Gateway", full_address);
    } else {
        ws_client_hop(r, "direct", 1, "cannot resolve %s from the tenant's PC: using the RD Gateway %s", full_address,
                      gw_host);
    }
    return 0;
}

/* gateway-tls, gateway-auth and channel: g open with a channel to the file's host. */
static int gateway_hops(ws_state *st, gwlink *g, const ws_rdp_file *f, const ws_connect_opts *o,
                        ws_connect_result *r)
{
    ws_error e;
    char gw_name[256], gw_addr[64];
    int gw_port;
    const char *gw_host = ws_rdp_get(f, "gatewayhostname");
    snprintf(r->gateway, sizeof r->gateway, "%s", gw_host ? gw_host : "");
    snprintf(r->computer, sizeof r->computer, "%s", ws_rdp_get(f, "full address") ? ws_rdp_get(f, "full address") : "");
    /* [model] A name the PC cannot resolve is "unreachable or incorrect" (50331660). */
    if (ws_client_gateway_of(st, f, gw_name, sizeof gw_name, &gw_port, gw_addr, sizeof gw_addr, &e) != 0)
        return ws_client_fail(r, "gateway-tls", WS_DISC_GATEWAY_UNREACHABLE, "%s", e.msg);
    SSL_CTX *ctx = ws_tls_client_ctx(st, "client", &e);
    ws_machine client;
    if (!ctx || ws_machine_get(st, "client", &client, &e) != 0) {
        SSL_CTX_free(ctx);
        return ws_client_fail(r, "gateway-tls", 0, "%s", e.msg);
    }
    int rc = ws_client_gateway_open(g, ctx, gw_name, gw_addr, gw_port, client.address, o->legacy_gateway, r);
    SSL_CTX_free(ctx);
    if (rc != 0)
        return -1;
    const char *port_text = ws_rdp_get(f, "server port");
    return ws_client_tunnel_open(g, ws_rdp_get(f, "gatewayaccesstoken"), ws_rdp_get(f, "full address"),
                                 port_text ? atoi(port_text) : 3389, 1, r);
}

/* Every hop after the portal's: the file read, its signature, the gateway, the host. */
static int connect_hops(ws_state *st, const unsigned char *bytes, size_t len, gwlink *g, const ws_connect_opts *o,
                        ws_connect_result *r)
{
    ws_error e;
    ws_rdp_file f;
    ws_rdp_init(&f);
    int rc = -1;
    if (ws_rdp_parse(bytes, len, &f, &e) != 0)
        ws_client_fail(r, "rdp-signature", 0, "the .rdp file cannot be read: %s", e.msg);
    else if (ws_client_rdp_signature(st, &f, r) == 0 && direct_hop(st, &f, r) == 0 &&
             gateway_hops(st, g, &f, o, r) == 0)
        rc = ws_client_host_hops(st, g, &f, o, r);
    ws_rdp_free(&f);
    return rc;
}

/* The connect goes into the lab's record (lab/connects.h), whatever its outcome, so the
 * admin site's topology shows it; a record that cannot be written loses nothing else. */
cJSON *ws_connect_hops_json(const ws_connect_result *r)
{
    cJSON *hops = cJSON_CreateArray();
    for (int i = 0; i < r->nhops; i++) {
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "stage", r->hops[i].stage);
        cJSON_AddBoolToObject(h, "ok", r->hops[i].ok);
        cJSON_AddStringToObject(h, "detail", r->hops[i].detail);
        cJSON_AddItemToArray(hops, h);
    }
    return hops;
}

static void record(ws_state *st, const ws_connect_opts *o, const ws_connect_result *r)
{
    cJSON *hops = ws_connect_hops_json(r);
    char *text = cJSON_PrintUnformatted(hops);
    cJSON_Delete(hops);
    ws_connect_row row = {.tenant = o->admin_user && !o->rdp_file ? NULL : o->tenant,
                          .vm = o->vm ? o->vm : "",
                          .ok = r->ok,
                          .stage = r->stage,
                          .has_code = r->has_code,
                          .code = r->code,
                          .message = r->message,
                          .gateway = r->gateway,
                          .computer = r->computer,
                          .hops_json = text};
    ws_error e;
    if (ws_connects_add(st, &row, &e) != 0)
        fprintf(stderr, "wapsim: the connect was not recorded for the admin site: %s\n", e.msg);
    cJSON_free(text);
}

static int connect_once(ws_state *st, const ws_connect_opts *o, ws_connect_result *r)
{
    memset(r, 0, sizeof *r);
    if (o->admin_user && !o->rdp_file)
        return admin_connect(st, o, r);
    unsigned char *bytes = NULL;
    size_t len = 0;
    gwlink g;
    ws_gwlink_init(&g);
    int rc = -1;
    if (ws_client_portal(st, o, r, &bytes, &len) == 0)
        rc = connect_hops(st, bytes, len, &g, o, r);
    if (g.out && rc == 0) {
        size_t m = ws_tsgu_encode_close_channel(WS_TSGU_CLOSE_CHANNEL, 0, g.pkt, WS_TSGU_PACKET_MAX);
        ws_gwlink_send(&g, g.pkt, m);
    }
    ws_gwlink_free(&g);
    free(bytes);
    return rc;
}

int ws_connect(ws_state *st, const ws_connect_opts *o, ws_connect_result *r)
{
    int rc = connect_once(st, o, r);
    record(st, o, r);
    return rc;
}
