/* disconnect: see disconnect.h. */
#include "wire/disconnect.h"

#include <stdio.h>
#include <string.h>

#include "base/names.h"

static const struct {
    uint32_t code;
    const char *text;
} texts[] = {
    {WS_DISC_GATEWAY_UNTRUSTED, "This computer can't verify the identity of the RD Gateway \"%s\". It's not safe to "
                                "connect to servers that can't be identified."},
    {WS_DISC_GATEWAY_NAME_MISMATCH, "Your computer can't connect to the remote computer because the Remote Desktop "
                                    "Gateway server address requested and the certificate subject name do not match."},
    {WS_DISC_GATEWAY_CERT_EXPIRED, "Your computer can't connect to the remote computer because the Remote Desktop "
                                   "Gateway server's certificate has expired or has been revoked."},
    {WS_DISC_COOKIE_INVALID, "Your computer can't connect to the remote computer because an invalid cookie was sent "
                             "to the Remote Desktop Gateway server."},
    {WS_DISC_COOKIE_REJECTED, "Your computer can't connect to the remote computer because the cookie was rejected by "
                              "the Remote Desktop Gateway server."},
    {WS_DISC_COOKIE_TOO_LARGE, "Your computer can't connect to the remote computer because the size of the cookie "
                               "exceeded the supported size."},
    {WS_DISC_HOST_AUTH, "An authentication error occurred (host certificate name does not match the address in the "
                        "RDP file)."},
};

const char *ws_disconnect_text(uint32_t code, const char *gateway, char *buf, size_t n)
{
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (texts[i].code != code)
            continue;
        /* Fill the one "%s" (the gateway's name) by hand: the table is data, not a format. */
        const char *mark = strstr(texts[i].text, "%s");
        if (!mark)
            return texts[i].text;
        snprintf(buf, n, "%.*s%s%s", (int)(mark - texts[i].text), texts[i].text, gateway ? gateway : "", mark + 2);
        return buf;
    }
    return NULL;
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
