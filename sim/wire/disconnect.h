/* SPDX-License-Identifier: Apache-2.0 */
/* disconnect: what Remote Desktop Connection shows when it stops, one row per code: its
 * disconnect reason codes and their full texts (REFERENCE.md section 6, TechNet Wiki
 * 37870), the authentication errors it reports with a hex code (0x607, the host's RDSTLS
 * result), the texts of the Set Error Info codes the lab's hosts send, and the RD Gateway
 * status codes (FreeRDP tsg.h) with the disconnect reason each becomes. Every row says
 * where its text comes from, or that it is the lab's [model]. The tenant's client (wapsim
 * connect) and the diagnosis read them from here. Rows are static; nothing is freed. */
#ifndef WAPSIM_DISCONNECT_H
#define WAPSIM_DISCONNECT_H

#include <stddef.h>
#include <stdint.h>

/* Disconnect reasons (decimal, as the client and TechNet Wiki 37870 print them). */
#define WS_DISC_GATEWAY_UNTRUSTED 50331653u     /* can't verify the identity of the RD Gateway */
#define WS_DISC_GATEWAY_NAME_MISMATCH 50331654u /* address and certificate subject name do not match */
#define WS_DISC_GATEWAY_CERT_EXPIRED 50331655u  /* certificate has expired or has been revoked */
#define WS_DISC_REMOTE_ERROR 50331656u          /* an error occurred on the remote computer */
#define WS_DISC_GATEWAY_SEND_ERROR 50331657u    /* an error occurred while sending data to the RD Gateway */
#define WS_DISC_GATEWAY_RECV_ERROR 50331658u    /* an error occurred while receiving data from the RD Gateway */
#define WS_DISC_GATEWAY_UNREACHABLE 50331660u   /* the RD Gateway address is unreachable or incorrect */
#define WS_DISC_GATEWAY_UNAVAILABLE 50331661u   /* the RD Gateway server is temporarily unavailable */
#define WS_DISC_GATEWAY_ENDED 50331672u         /* the RD Gateway server has ended the connection */
#define WS_DISC_RESOURCE_DENIED 50331675u       /* not listed in the RD Gateway's permission list (RAP) */
#define WS_DISC_MAX_CONNECTIONS 50331682u       /* the RD Gateway reached its maximum allowed connections */
#define WS_DISC_CAPABILITY_MISMATCH 50331684u   /* the client does not support one of the gateway's capabilities */
#define WS_DISC_SESSION_TIMEOUT 50331699u       /* the session timeout limit was reached */
#define WS_DISC_COOKIE_INVALID 50331700u        /* an invalid cookie was sent */
#define WS_DISC_COOKIE_REJECTED 50331701u       /* the cookie was rejected */
#define WS_DISC_AUTH_METHOD 50331703u           /* the RD Gateway expects another authentication method */
#define WS_DISC_COOKIE_TOO_LARGE 50331714u      /* the size of the cookie exceeded the supported size */
#define WS_DISC_HOST_AUTH 0x607u                /* an authentication error (the host's certificate name) */

/* Which table a code belongs to: the same number means different things in each. */
typedef enum ws_disc_kind {
    WS_DISC_KIND_REASON,  /* a disconnect reason, printed in decimal */
    WS_DISC_KIND_AUTH,    /* "An authentication error has occurred (Code: 0x..)": 0x607, RDSTLS results */
    WS_DISC_KIND_ERRINFO, /* a Set Error Info code the host sent (MS-RDPBCGR 2.2.5.1.1) */
} ws_disc_kind;

/* What a text's one "%s" names, if it has one. */
typedef enum ws_disc_names { WS_DISC_NAMES_NONE, WS_DISC_NAMES_GATEWAY, WS_DISC_NAMES_COMPUTER } ws_disc_names;

typedef struct ws_disconnect_def {
    ws_disc_kind kind;
    uint32_t code;
    const char *name;    /* a short name for tables ("GATEWAY_NAME_MISMATCH", "LOGON_FAILURE") */
    const char *text;    /* the full text Remote Desktop Connection shows; at most one "%s" */
    ws_disc_names names; /* what the "%s" is filled with */
    const char *origin;  /* where the text comes from: "REFERENCE.md ..., TechNet Wiki 37870" or "[model] ..." */
} ws_disconnect_def;

/* The row of kind/code, or NULL. */
const ws_disconnect_def *ws_disconnect_find(ws_disc_kind kind, uint32_t code);
/* The i-th row (0..), NULL past the last: for tests and tables. */
const ws_disconnect_def *ws_disconnect_at(size_t i);

/* The full text of kind/code with its "%s" filled (gateway or computer, as the row names;
 * NULL counts as ""), then the code as the client shows it, into buf (n bytes): e.g.
 * "Your computer can't connect ... Contact your network administrator for assistance.
 * (code 50331654)". A code without a row gives the text Remote Desktop Connection gives an
 * unknown one, "An internal error has occurred." Returns buf. */
const char *ws_disconnect_format(ws_disc_kind kind, uint32_t code, const char *gateway, const char *computer,
                                 char *buf, size_t n);

/* The text alone, as ws_disconnect_format without the code: a disconnect reason, or the
 * authentication error for 0x607. Always written to buf when buf is given (returns buf);
 * with buf NULL the row's raw text. NULL for a code without a row. */
const char *ws_disconnect_text(uint32_t code, const char *gateway, char *buf, size_t n);

/* RD Gateway status codes (HRESULTs) in TUNNEL_RESPONSE, TUNNEL_AUTH_RESPONSE, CHANNEL_RESPONSE. */
#define WS_E_PROXY_INTERNALERROR 0x800759D8u
#define WS_E_PROXY_RAP_ACCESSDENIED 0x800759DAu
#define WS_E_PROXY_NAP_ACCESSDENIED 0x800759DBu
#define WS_E_PROXY_TS_CONNECTFAILED 0x800759DDu
#define WS_E_PROXY_MAXCONNECTIONSREACHED 0x000059E6u /* an HRESULT_CODE, as FreeRDP's tsg.h has it */
#define WS_E_PROXY_SESSIONTIMEOUT 0x000059F6u
#define WS_E_PROXY_CONNECTIONABORTED 0x000004D4u
#define WS_E_PROXY_CAPABILITYMISMATCH 0x800759E9u
#define WS_E_PROXY_COOKIE_BADPACKET 0x800759F7u
#define WS_E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED 0x800759F8u
#define WS_E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD 0x800759F9u

/* "E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED" for its code, or NULL. */
const char *ws_hresult_name(uint32_t hresult);

/* The disconnect reason Remote Desktop Connection reports for a gateway status code, or 0
 * when the lab knows none. [model] The pairs are by meaning (the HRESULT's name and the
 * reason's text), except the two cookie codes REFERENCE.md section 6 pairs. */
uint32_t ws_disconnect_of_hresult(uint32_t hresult);

#endif
