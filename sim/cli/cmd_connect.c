/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim connect: the tenant's client, hop by hop (client.h), printing each hop and
 * where it stopped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "cli/cmd.h"
#include "cli/opt.h"

/* --client: Remote Desktop Connection 8.1 brought RDSTLS with a FedAuth token (REFERENCE.md section 9). */
static int take_client(void *dest, const char *value)
{
    int *no_rdstls = dest;
    if (strcmp(value, "8.1") == 0 || strcmp(value, "10") == 0)
        *no_rdstls = 0;
    else if (strcmp(value, "8.0") == 0 || strcmp(value, "7") == 0 || strcmp(value, "6.1") == 0)
        *no_rdstls = 1;
    else
        return ws_cmd_usage_error("unknown --client '%s' (8.1, 10, 8.0, 7 or 6.1)", value);
    return 0;
}

/* --transport: MS-TSGU's HTTP transport as a websocket (one connection) or legacy (the
 * RDG_OUT_DATA + RDG_IN_DATA pair, REFERENCE.md section 7). */
static int take_transport(void *dest, const char *value)
{
    int *legacy = dest;
    if (strcmp(value, "legacy") == 0)
        *legacy = 1;
    else if (strcmp(value, "websocket") == 0)
        *legacy = 0;
    else
        return ws_cmd_usage_error("unknown --transport '%s' (legacy or websocket)", value);
    return 0;
}

static int cmd_connect(int argc, char **argv)
{
    ws_connect_opts o = {0};
    int admin = 0;
    const ws_opt opts[] = {WS_OPT_STR("tenant", &o.tenant),
                           WS_OPT_STR("vm", &o.vm),
                           WS_OPT_STR("rdp", &o.rdp_file),
                           WS_OPT_STR("save-rdp", &o.save_rdp),
                           WS_OPT_STR("password", &o.password),
                           WS_OPT_CALL("client", &o.no_rdstls, take_client),
                           WS_OPT_CALL("transport", &o.legacy_gateway, take_transport),
                           WS_OPT_FLAG("legacy-gateway", &o.legacy_gateway),
                           WS_OPT_FLAG("strict", &o.strict),
                           WS_OPT_FLAG("admin", &admin),
                           WS_OPT_STR("screenshot", &o.screenshot),
                           WS_OPT_STR("type", &o.type_text),
                           WS_OPT_INT("hold", &o.hold_seconds, 0, 3600, "seconds"),
                           WS_OPT_END};
    ws_cli cli;
    int rc = ws_opt_parse(argc, argv, opts, WS_OPT_JSON, 0, 0, &cli);
    if (rc)
        return rc;
    const char *lab = cli.lab;
    int json = cli.json;
    if (admin && !o.vm && !o.rdp_file)
        return ws_cmd_usage_error("connect --admin needs --vm (or --rdp FILE)");
    if (!admin && !o.rdp_file && (!o.tenant || !o.vm))
        return ws_cmd_usage_error("connect needs --tenant and --vm (or --rdp FILE, or --admin --vm)");
    if (!o.vm)
        o.vm = "(file)";
    ws_state *st;
    rc = ws_cmd_open_lab(lab, &st);
    if (rc)
        return rc;
    char role[32];
    ws_error e;
    if (!admin && !o.rdp_file &&
        ws_state_text(st, role, sizeof role, &e, "SELECT role FROM accounts WHERE name = ?", 1, o.tenant) ==
            WS_NOT_FOUND)
        return ws_cmd_close(st, ws_cmd_usage_error("unknown tenant '%s' (see wapsim lab accounts)", o.tenant));
    char admin_pw[128], admin_user[128];
    if (admin) {
        /* The lab's fabric administrator, as VMConnect asks for it: the account of that role
         * (CONTOSO\hvadmin in a default lab; an imported lab may name another). */
        if (ws_state_text(st, admin_user, sizeof admin_user, &e,
                          "SELECT name FROM accounts WHERE role = 'fabric-admin' ORDER BY name LIMIT 1", 0) != 0)
            return ws_cmd_close(st, ws_cmd_usage_error("the lab has no fabric administrator account"));
        o.admin_user = admin_user;
        if (ws_lab_password(st, o.admin_user, admin_pw, sizeof admin_pw) != 0)
            return ws_cmd_close(st, ws_cmd_usage_error("the lab has no account %s", o.admin_user));
        o.admin_password = o.password ? o.password : admin_pw;
        o.no_rdstls = 1;
    }
    ws_connect_result r;
    rc = ws_connect(st, &o, &r);
    ws_state_close(st);
    if (json) {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddBoolToObject(out, "ok", rc == 0);
        cJSON_AddStringToObject(out, "stage", r.stage);
        if (r.has_code)
            cJSON_AddNumberToObject(out, "code", r.code);
        else
            cJSON_AddNullToObject(out, "code");
        cJSON_AddStringToObject(out, "message", rc == 0 ? "connected" : r.message);
        cJSON_AddNumberToObject(out, "portal_connections", r.portal_connections);
        /* The certificate warnings the tenant accepted (hop details carry them too). */
        cJSON *warnings = cJSON_AddArrayToObject(out, "warnings");
        for (int i = 0; i < r.nhops; i++) {
            const char *w = r.hops[i].ok ? strstr(r.hops[i].detail, "warning: ") : NULL;
            if (w)
                cJSON_AddItemToArray(warnings, cJSON_CreateString(w + 9));
        }
        /* What the console cost on the wire (RDP bytes from the host, inside TLS): null when not reached. */
        if (r.first_frame_bytes > 0)
            cJSON_AddNumberToObject(out, "first_frame_bytes", (double)r.first_frame_bytes);
        else
            cJSON_AddNullToObject(out, "first_frame_bytes");
        cJSON_AddNumberToObject(out, "typed_chars", r.typed_chars);
        cJSON_AddNumberToObject(out, "typed_bytes", (double)r.typed_bytes);
        cJSON_AddItemToObject(out, "hops", ws_connect_hops_json(&r));
        ws_cmd_print_json(out);
    } else {
        for (int i = 0; i < r.nhops; i++)
            printf("%-14s %-4s %s\n", r.hops[i].stage, r.hops[i].ok ? "ok" : "FAIL", r.hops[i].detail);
        if (rc == 0)
            printf("connected: %s (last hop %s)\n", admin ? "the administrator is on the console" : "the tenant is on the console", r.stage);
        else if (r.has_code)
            printf("stopped at %s, code %u (0x%X)\n", r.stage, r.code, r.code);
        else
            printf("stopped at %s\n", r.stage);
    }
    return rc == 0 ? 0 : WS_EXIT_FAIL;
}

const ws_cmd ws_cmds_connect[] = {
    {NULL, "connect", cmd_connect,
     "(--tenant T --vm V | --rdp FILE | --admin --vm V) [--screenshot FILE] [--save-rdp FILE] [--client 8.1|8.0]\n"
     "       [--transport websocket|legacy] [--strict] [--json]",
     "Connect to a VM's console as the tenant's Remote Desktop Connection would.",
     "Hops: portal, rdp-signature, direct, gateway-tls, gateway-auth, channel, host-tls, host-auth, console.\n"
     "  --admin            the administrator's path (VMConnect): straight to the VM's host, TLS without\n"
     "                     RDSTLS, the fabric administrator's credentials (CONTOSO\\hvadmin in a default\n"
     "                     lab) in the Client Info; with --rdp FILE the\n"
     "                     same credentials through the gateway\n"
     "  --screenshot FILE  write the console frame (PPM), to compare with <lab>/console/<vm>.ppm\n"
     "  --type TEXT        type TEXT once the console is on screen (the screenshot is taken after it)\n"
     "  --hold SECONDS     keep the console open; reports it if another connection takes it over\n"
     "  --rdp FILE         use this .rdp file instead of asking the portal\n"
     "  --client 8.0       a client before 8.1: no RDSTLS, so no way to present the VMToken\n"
     "  --transport T      MS-TSGU's HTTP transport: websocket (default: RDG_OUT_DATA upgraded, one\n"
     "                     connection) or legacy (RDG_OUT_DATA + RDG_IN_DATA chunked: two connections\n"
     "                     that must reach the same gateway); --legacy-gateway is --transport legacy\n"
     "  --strict           refuse every certificate warning (as the file's authentication level:i:1):\n"
     "                     a host certificate the PC cannot verify stops at host-tls with 0x607. Without\n"
     "                     it the tenant clicks Connect at the identity warning, shown on the hop\n"
     "                     (\"ok ... warning: ...\"); a name the certificate does not carry is 0x607\n"
     "                     unless the file says authentication level:i:0\n"
     "  --json             {\"ok\",\"stage\",\"code\",\"message\",\"portal_connections\",\"warnings\":[...],\n"
     "                     \"first_frame_bytes\",\"typed_chars\",\"typed_bytes\",\n"
     "                     \"hops\":[{\"stage\",\"ok\",\"detail\"}]}: portal_connections: the TLS\n"
     "                     connections the browser opened to the portal (kept alive: 1 for the visit);\n"
     "                     the RDP bytes the host sent until the console's first whole frame, and\n"
     "                     after the typed characters (each its own input PDU) until the session went quiet\n"
     "Where it stops, the message is Remote Desktop Connection's full text for the code, the code, then\n"
     "the lab's why in brackets (wapsim symptoms lists every code, its text and its source).\n"
     "Exit 0 only when the last hop succeeds.\n"},
    {0},
};
