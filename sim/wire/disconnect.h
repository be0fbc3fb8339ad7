/* disconnect: what Remote Desktop Connection shows when it stops: its disconnect
 * reason codes and texts (REFERENCE.md section 6, TechNet Wiki 37870), and the RD
 * Gateway status codes it reports (FreeRDP tsg.h). The tenant's client (wapsim
 * connect) and the diagnosis read them from here. */
#ifndef WAPSIM_DISCONNECT_H
#define WAPSIM_DISCONNECT_H

#include <stddef.h>
#include <stdint.h>

#define WS_DISC_GATEWAY_UNTRUSTED 50331653u    /* can't verify the identity of the RD Gateway */
#define WS_DISC_GATEWAY_NAME_MISMATCH 50331654u /* address and certificate subject name do not match */
#define WS_DISC_GATEWAY_CERT_EXPIRED 50331655u  /* certificate has expired or has been revoked */
#define WS_DISC_COOKIE_INVALID 50331700u        /* an invalid cookie was sent */
#define WS_DISC_COOKIE_REJECTED 50331701u       /* the cookie was rejected */
#define WS_DISC_COOKIE_TOO_LARGE 50331714u      /* the size of the cookie exceeded the supported size */
#define WS_DISC_HOST_AUTH 0x607u                /* an authentication error occurred (host certificate name) */

/* The text for a disconnect code, with %s (the gateway's name) filled in when given;
 * NULL for an unknown code. Returns a static or caller-provided buffer. */
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

#endif
