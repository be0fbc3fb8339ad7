/* SPDX-License-Identifier: Apache-2.0 */
/* disconnect: see disconnect.h.
 *
 * Sources of the texts (each row's origin names its own):
 *   TechNet Wiki 37870, "Remote Desktop Client Troubleshooting: Disconnect Codes and
 *   Reasons" (social.technet.microsoft.com/wiki/contents/articles/37870...), the texts
 *   MsTscAx's GetErrorDescription returns; REFERENCE.md section 6 abridges six of them.
 *   The full texts were read in the copy Xpra-org/xpra keeps with that citation
 *   (xpra/platform/win32/desktoplogon_lib.py, ERROR_CODES), where the client's "%s" shows
 *   as "". A code GetErrorDescription does not know gives "An internal error has
 *   occurred." (the same article; Rackspace's copy of it says so). */
#include "wire/disconnect.h"

#include <stdio.h>
#include <string.h>

#include "base/names.h"
#include "wire/rdppdu.h"
#include "wire/rdstls.h"

#define TECHNET "TechNet Wiki 37870"
#define TECHNET_REF "REFERENCE.md section 6; full text: TechNet Wiki 37870"
#define CONTACT " Contact your network administrator for assistance."
#define CANT "Your computer can't connect to the remote computer because "
/* [model] Remote Desktop Connection reports a failed authentication with this template
 * and a hex code [field: "An authentication error has occurred (Code: 0x607)" and the
 * same with 0x507 and 0x80090302 in field posts]; that it does so for an RDSTLS result
 * code is the lab's assumption (what mstsc shows for one is not public). */
#define AUTH_TEXT(hex) "An authentication error has occurred (Code: " hex ")."
#define AUTH_MODEL "[model] the mstsc authentication-error template with the RDSTLS result (REFERENCE.md section 8)"

#define R(code, name, text, names, origin) {WS_DISC_KIND_REASON, code, name, text, names, origin}

static const ws_disconnect_def rows[] = {
    R(WS_DISC_GATEWAY_UNTRUSTED, "GATEWAY_UNTRUSTED",
      "This computer can't verify the identity of the RD Gateway \"%s\". It's not safe to connect to servers that "
      "can't be identified." CONTACT,
      WS_DISC_NAMES_GATEWAY, TECHNET_REF),
    R(WS_DISC_GATEWAY_NAME_MISMATCH, "GATEWAY_NAME_MISMATCH",
      CANT "the Remote Desktop Gateway server address requested and the certificate subject name do not match." CONTACT,
      WS_DISC_NAMES_NONE, TECHNET_REF),
    R(WS_DISC_GATEWAY_CERT_EXPIRED, "GATEWAY_CERT_EXPIRED",
      CANT "the Remote Desktop Gateway server's certificate has expired or has been revoked." CONTACT,
      WS_DISC_NAMES_NONE, TECHNET_REF),
    R(WS_DISC_REMOTE_ERROR, "REMOTE_ERROR",
      CANT "an error occurred on the remote computer that you want to connect to." CONTACT, WS_DISC_NAMES_NONE,
      TECHNET "; [model] for E_PROXY_TS_CONNECTFAILED (the gateway could not connect to the resource: event 304; "
              "FreeRDP logs \"channel response errorCode=E_PROXY_TS_CONNECTFAILED\", rdg.c)"),
    R(WS_DISC_GATEWAY_SEND_ERROR, "GATEWAY_SEND_ERROR",
      "An error occurred while sending data to the Remote Desktop Gateway server. The server is temporarily "
      "unavailable or a network connection is down. Try again later, or contact your network administrator for "
      "assistance.",
      WS_DISC_NAMES_NONE,
      TECHNET "; [model] for an RDG_IN_DATA (the client's sending channel) the gateway refused: the legacy pair "
              "split across balanced members"),
    R(WS_DISC_GATEWAY_RECV_ERROR, "GATEWAY_RECV_ERROR",
      "An error occurred while receiving data from the Remote Desktop Gateway server. Either the server is "
      "temporarily unavailable or a network connection is down. Try again later, or contact your network "
      "administrator for assistance.",
      WS_DISC_NAMES_NONE,
      TECHNET "; [model] for an RDG_OUT_DATA (the client's receiving channel) closed before its HTTP answer: "
              "e.g. a balancer that drops the client when its member refused the connection"),
    R(WS_DISC_GATEWAY_UNREACHABLE, "GATEWAY_UNREACHABLE",
      CANT "the Remote Desktop Gateway server address is unreachable or incorrect. Type a valid Remote Desktop "
           "Gateway server address.",
      WS_DISC_NAMES_NONE, TECHNET "; [model] for a gateway name the PC cannot resolve or reach"),
    R(WS_DISC_GATEWAY_UNAVAILABLE, "GATEWAY_UNAVAILABLE",
      CANT "the Remote Desktop Gateway server is temporarily unavailable. Try reconnecting later or contact your "
           "network administrator for assistance.",
      WS_DISC_NAMES_NONE,
      TECHNET "; [model] for an HTTP 5xx answer to RDG_OUT_DATA (a balancer in front of the gateway that got no "
              "answer from its member)"),
    R(WS_DISC_GATEWAY_ENDED, "GATEWAY_ENDED",
      "The Remote Desktop Gateway server has ended the connection. Try reconnecting later or contact your network "
      "administrator for assistance.",
      WS_DISC_NAMES_NONE, TECHNET "; [model] for E_PROXY_CONNECTIONABORTED"),
    R(WS_DISC_RESOURCE_DENIED, "RESOURCE_DENIED",
      "Remote Desktop can't connect to the remote computer \"%s\" for one of these reasons:  1) Your user account is "
      "not listed in the RD Gateway's permission list 2) You might have specified the remote computer in NetBIOS "
      "format (for example, computer1), but the RD Gateway is expecting an FQDN or IP address format (for example, "
      "computer1.fabrikam.com or 157.60.0.1)." CONTACT,
      WS_DISC_NAMES_COMPUTER, TECHNET "; [model] for E_PROXY_RAP_ACCESSDENIED"),
    R(WS_DISC_MAX_CONNECTIONS, "MAX_CONNECTIONS",
      CANT "the Remote Desktop Gateway server reached its maximum allowed connections. Try reconnecting later or "
           "contact your network administrator for assistance.",
      WS_DISC_NAMES_NONE, TECHNET "; [model] for E_PROXY_MAXCONNECTIONSREACHED"),
    R(WS_DISC_CAPABILITY_MISMATCH, "CAPABILITY_MISMATCH",
      CANT "the client does not support one of the Remote Desktop Gateway's capabilities." CONTACT,
      WS_DISC_NAMES_NONE, TECHNET "; [model] for E_PROXY_CAPABILITYMISMATCH"),
    R(WS_DISC_SESSION_TIMEOUT, "SESSION_TIMEOUT",
      "The connection has been disconnected because the session timeout limit was reached.", WS_DISC_NAMES_NONE,
      TECHNET "; [model] for E_PROXY_SESSIONTIMEOUT"),
    R(WS_DISC_COOKIE_INVALID, "COOKIE_INVALID",
      CANT "an invalid cookie was sent to the Remote Desktop Gateway server." CONTACT, WS_DISC_NAMES_NONE,
      TECHNET_REF "; [model] for a cookie the gateway cannot read (E_PROXY_COOKIE_BADPACKET)"),
    R(WS_DISC_COOKIE_REJECTED, "COOKIE_REJECTED",
      CANT "the cookie was rejected by the Remote Desktop Gateway server." CONTACT, WS_DISC_NAMES_NONE, TECHNET_REF),
    R(WS_DISC_AUTH_METHOD, "AUTH_METHOD",
      CANT "the Remote Desktop Gateway server is expecting an authentication method different from the one "
           "attempted." CONTACT,
      WS_DISC_NAMES_NONE, TECHNET "; [model] for E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD"),
    R(WS_DISC_COOKIE_TOO_LARGE, "COOKIE_TOO_LARGE",
      CANT "the size of the cookie exceeded the supported size." CONTACT, WS_DISC_NAMES_NONE, TECHNET_REF),

    {WS_DISC_KIND_AUTH, WS_DISC_HOST_AUTH, "HOST_CERT_NAME", AUTH_TEXT("0x607"), WS_DISC_NAMES_NONE,
     "REFERENCE.md sections 2 and 9 [field: marcvaneijk 2014]; the dialog's wording as field posts quote it"},
    {WS_DISC_KIND_AUTH, WS_RDSTLS_ACCESS_DENIED, "ACCESS_DENIED", AUTH_TEXT("0x5"), WS_DISC_NAMES_NONE, AUTH_MODEL},
    {WS_DISC_KIND_AUTH, WS_RDSTLS_LOGON_FAILURE, "LOGON_FAILURE", AUTH_TEXT("0x52E"), WS_DISC_NAMES_NONE, AUTH_MODEL},
    {WS_DISC_KIND_AUTH, WS_RDSTLS_INVALID_LOGON_HOURS, "INVALID_LOGON_HOURS", AUTH_TEXT("0x530"), WS_DISC_NAMES_NONE,
     AUTH_MODEL},
    {WS_DISC_KIND_AUTH, WS_RDSTLS_PASSWORD_EXPIRED, "PASSWORD_EXPIRED", AUTH_TEXT("0x532"), WS_DISC_NAMES_NONE,
     AUTH_MODEL},
    {WS_DISC_KIND_AUTH, WS_RDSTLS_ACCOUNT_DISABLED, "ACCOUNT_DISABLED", AUTH_TEXT("0x533"), WS_DISC_NAMES_NONE,
     AUTH_MODEL},
    {WS_DISC_KIND_AUTH, WS_RDSTLS_PASSWORD_MUST_CHANGE, "PASSWORD_MUST_CHANGE", AUTH_TEXT("0x773"),
     WS_DISC_NAMES_NONE, AUTH_MODEL},
    {WS_DISC_KIND_AUTH, WS_RDSTLS_ACCOUNT_LOCKED_OUT, "ACCOUNT_LOCKED_OUT", AUTH_TEXT("0x775"), WS_DISC_NAMES_NONE,
     AUTH_MODEL},

    {WS_DISC_KIND_ERRINFO, WS_PDU_ERRINFO_DISCONNECTED_BY_OTHERCONNECTION, "DISCONNECTED_BY_OTHERCONNECTION",
     "Your Remote Desktop Services session has ended. Another user connected to the remote computer, so your "
     "connection was lost. Try connecting again, or contact your network administrator or technical support group.",
     WS_DISC_NAMES_NONE,
     "[field: the dialog's text, quoted in AWS's EC2 Windows connection troubleshooting guide]; REFERENCE.md "
     "section 9 (a second user ends the first's session)"},
    {WS_DISC_KIND_ERRINFO, WS_PDU_ERRINFO_SERVER_DENIED_CONNECTION, "SERVER_DENIED_CONNECTION",
     "The server denied the connection.", WS_DISC_NAMES_NONE,
     "[doc: ExtendedDisconnectReasonCode, exDiscReasonServerDeniedConnection]; [model] that the dialog says this "
     "and that Hyper-V sends it for a VM not on the host"},
    {WS_DISC_KIND_ERRINFO, WS_PDU_ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES, "SERVER_INSUFFICIENT_PRIVILEGES",
     "The user cannot connect to the server due to insufficient access privileges.", WS_DISC_NAMES_NONE,
     "[doc: ExtendedDisconnectReasonCode, exDiscReasonServerInsufficientPrivileges]; [model] that the dialog says "
     "this and that Hyper-V sends it to a client before 8.1"},
};

#define NROWS (sizeof rows / sizeof rows[0])

const ws_disconnect_def *ws_disconnect_find(ws_disc_kind kind, uint32_t code)
{
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].kind == kind && rows[i].code == code)
            return &rows[i];
    return NULL;
}

const ws_disconnect_def *ws_disconnect_at(size_t i)
{
    return i < NROWS ? &rows[i] : NULL;
}

/* The row's text into buf with its one "%s" filled by hand: the table is data, not a format. */
static const char *fill(const ws_disconnect_def *d, const char *gateway, const char *computer, char *buf, size_t n)
{
    const char *arg = d->names == WS_DISC_NAMES_GATEWAY ? gateway : d->names == WS_DISC_NAMES_COMPUTER ? computer : "";
    const char *mark = strstr(d->text, "%s");
    if (!mark)
        snprintf(buf, n, "%s", d->text);
    else
        snprintf(buf, n, "%.*s%s%s", (int)(mark - d->text), d->text, arg ? arg : "", mark + 2);
    return buf;
}

const char *ws_disconnect_format(ws_disc_kind kind, uint32_t code, const char *gateway, const char *computer,
                                 char *buf, size_t n)
{
    const ws_disconnect_def *d = ws_disconnect_find(kind, code);
    char text[800];
    if (d)
        fill(d, gateway, computer, text, sizeof text);
    else
        snprintf(text, sizeof text, "An internal error has occurred.");
    /* The AUTH texts carry their code already. */
    if (d && kind == WS_DISC_KIND_AUTH)
        snprintf(buf, n, "%s", text);
    else if (kind == WS_DISC_KIND_REASON && code < 0x80000000u)
        snprintf(buf, n, "%s (code %u)", text, code);
    else
        snprintf(buf, n, "%s (code 0x%X)", text, code);
    return buf;
}

const char *ws_disconnect_text(uint32_t code, const char *gateway, char *buf, size_t n)
{
    const ws_disconnect_def *d = ws_disconnect_find(WS_DISC_KIND_REASON, code);
    if (!d)
        d = ws_disconnect_find(WS_DISC_KIND_AUTH, code);
    if (!d)
        return NULL;
    if (!buf || !n)
        return d->text;
    return fill(d, gateway, NULL, buf, n);
}

static const ws_code_name names[] = {
    WS_CODE_ROW(WS_, E_PROXY_INTERNALERROR),
    WS_CODE_ROW(WS_, E_PROXY_RAP_ACCESSDENIED),
    WS_CODE_ROW(WS_, E_PROXY_NAP_ACCESSDENIED),
    WS_CODE_ROW(WS_, E_PROXY_TS_CONNECTFAILED),
    WS_CODE_ROW(WS_, E_PROXY_MAXCONNECTIONSREACHED),
    WS_CODE_ROW(WS_, E_PROXY_SESSIONTIMEOUT),
    WS_CODE_ROW(WS_, E_PROXY_CONNECTIONABORTED),
    WS_CODE_ROW(WS_, E_PROXY_CAPABILITYMISMATCH),
    WS_CODE_ROW(WS_, E_PROXY_COOKIE_BADPACKET),
    WS_CODE_ROW(WS_, E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED),
    WS_CODE_ROW(WS_, E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD),
};

const char *ws_hresult_name(uint32_t hresult)
{
    return WS_CODE_NAME(names, hresult, NULL);
}

/* [model] By meaning, except the two cookie pairs (REFERENCE.md section 6). */
static const struct {
    uint32_t hresult, reason;
} by_hresult[] = {
    {WS_E_PROXY_COOKIE_BADPACKET, WS_DISC_COOKIE_INVALID},
    {WS_E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED, WS_DISC_COOKIE_REJECTED},
    {WS_E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD, WS_DISC_AUTH_METHOD},
    {WS_E_PROXY_RAP_ACCESSDENIED, WS_DISC_RESOURCE_DENIED},
    {WS_E_PROXY_TS_CONNECTFAILED, WS_DISC_REMOTE_ERROR},
    {WS_E_PROXY_MAXCONNECTIONSREACHED, WS_DISC_MAX_CONNECTIONS},
    {WS_E_PROXY_CAPABILITYMISMATCH, WS_DISC_CAPABILITY_MISMATCH},
    {WS_E_PROXY_SESSIONTIMEOUT, WS_DISC_SESSION_TIMEOUT},
    {WS_E_PROXY_CONNECTIONABORTED, WS_DISC_GATEWAY_ENDED},
};

uint32_t ws_disconnect_of_hresult(uint32_t hresult)
{
    for (size_t i = 0; i < sizeof by_hresult / sizeof by_hresult[0]; i++)
        if (by_hresult[i].hresult == hresult)
            return by_hresult[i].reason;
    return 0;
}
