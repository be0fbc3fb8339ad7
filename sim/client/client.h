/* SPDX-License-Identifier: Apache-2.0 */
/* client: the tenant's PC. What a browser and Remote Desktop Connection 8.1 do, hop by
 * hop, with the lab's names as the PC resolves them (the lab's hosts file) and the
 * trust of the `client` machine's Root store on its lab clock. The hops:
 *   portal        sign in, ask for the VM's console, get the .rdp file
 *   rdp-signature check the file's signature (an unknown publisher is a warning)
 *   direct        gatewayusagemethod 2: try the host first (the PC cannot resolve it)
 *   gateway-tls   TLS to gatewayhostname: chain, name, validity (50331653/4/5)
 *   gateway-auth  MS-TSGU handshake and TUNNEL_CREATE with the HostToken (50331701)
 *   channel       CHANNEL_CREATE to full address:server port
 *   host-tls      pre-connection PDU, X.224 (RDSTLS|SSL), TLS with the host: its certificate
 *                 under the file's authentication level (a warning accepted, or 0x607)
 *   host-auth     RDSTLS with the VMToken: the host's result code
 *   console       the RDP connection sequence up to the first whole frame of the VM console
 * A hop that fails with a code opens its message with what Remote Desktop Connection shows
 * for it (wire/disconnect.h: the full text and the code, each row with its source or
 * [model]); the rest of every hop's detail is the lab's own account of the hop [model].
 * Used by `wapsim connect` and, in-process, by the benchmarks. */
#ifndef WAPSIM_CLIENT_H
#define WAPSIM_CLIENT_H

#include <stdint.h>

#include "svc/httpc.h"
#include "lab/state.h"

/* The browser: sign in to the portal as tenant and ask for vm's console (by name or
 * id), over one kept-alive connection (svc/httpc.h). 0 when the portal answered (*rs
 * holds whatever it answered: an .rdp file or an error body); -1 when it could not be
 * reached (e says why). rs->connections: the connections (TLS handshakes) the whole
 * visit opened, 1 unless the portal closed one. */
int ws_browser_get_console(ws_state *st, const char *tenant, const char *password, const char *vm,
                           ws_http_response *rs, ws_error *e);
/* The name a browser saves an answer under, into out (n bytes): the file name its
 * Content-Disposition gives (RFC 6266 filename, quoted or not; only its last path element,
 * as browsers keep it), else fallback. */
void ws_browser_file_name(const ws_http_response *rs, const char *fallback, char *out, size_t n);
/* The lab password of an account, from the lab owner's accounts.json. */
int ws_lab_password(ws_state *st, const char *account, char *out, size_t n);

typedef struct ws_connect_opts {
    const char *tenant;
    const char *password; /* NULL: the lab's */
    const char *vm;
    const char *rdp_file; /* use this file instead of asking the portal */
    const char *save_rdp; /* keep the file the portal handed out here */
    int legacy_gateway;   /* RDG_OUT_DATA + RDG_IN_DATA instead of a websocket */
    int no_rdstls;        /* a client before 8.1: offers TLS only, cannot present the VMToken */
    const char *screenshot;     /* write the console frame here (PPM), after typed keys if any */
    const char *type_text;      /* type these characters once the console is on screen */
    int hold_seconds;           /* keep the console open this long (a second connection may take it over) */
    const char *admin_user;     /* the administrator's path: Client Info credentials ("CONTOSO\\hvadmin") */
    const char *admin_password;
    int direct_fd;              /* internal: a connection straight to the host (the administrator's path) */
    int strict;                 /* answer No to every certificate warning (as authentication level 1) */
} ws_connect_opts;

#define WS_MAX_HOPS 12

typedef struct ws_hop {
    char stage[24];
    int ok;
    char detail[1200];
} ws_hop;

typedef struct ws_connect_result {
    int ok;
    char stage[24];  /* where it stopped, or the last hop reached */
    int has_code;
    uint32_t code;   /* what Remote Desktop Connection reports: a disconnect reason, the authentication
                      * error's code (0x607, the RDSTLS result) or the Set Error Info code; the portal's
                      * HTTP status when the browser got no .rdp file */
    char message[1200]; /* that code's full text (wire/disconnect.h), the code, then [the lab's why] */
    char gateway[256];  /* the names those texts fill in: the RD Gateway, */
    char computer[256]; /* and the remote computer (full address) */
    ws_hop hops[WS_MAX_HOPS];
    int nhops;
    long first_frame_bytes; /* RDP bytes from the host (inside TLS) from the MCS Connect-Response to the
                             * last update of the first whole frame; 0 when the console was not reached */
    long typed_bytes;       /* RDP bytes from the host after the typed characters were sent (one input PDU
                             * each), until the session went quiet */
    int typed_chars;        /* how many characters were typed */
    int portal_connections; /* TLS connections the browser opened to the portal (0: none, an .rdp file given) */
} ws_connect_result;

/* An MS-TSGU tunnel to an .rdp file's gateway, created with its HostToken and
 * authorized, held open without a channel (load tests); NULL when it could not be
 * made (r says where it stopped). */
struct ws_rdp_file;
typedef struct gwlink ws_gw_tunnel;
ws_gw_tunnel *ws_gateway_tunnel_open(ws_state *st, const struct ws_rdp_file *f, int legacy, ws_connect_result *r);
void ws_gateway_tunnel_close(ws_gw_tunnel *t);

/* Run the hops; 0 when the last hop built so far succeeded. Keeps nothing between
 * calls, so flows may run on threads (each with its own ws_state). */
int ws_connect(ws_state *st, const ws_connect_opts *o, ws_connect_result *r);
/* The hops of r as JSON, [{"stage","ok","detail"}, ...]: what `connect --json` prints and
 * the lab's record of connects keeps (lab/connects.h). The caller deletes it. */
struct cJSON;
struct cJSON *ws_connect_hops_json(const ws_connect_result *r);

#endif
