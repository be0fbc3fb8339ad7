/* SPDX-License-Identifier: Apache-2.0 */
/* rdstls: see rdstls.h. PDU layouts from MS-RDPBCGR 2.2.17 and the FedAuth token
 * request of REFERENCE.md section 8 (not in the spec), checked against FreeRDP's
 * libfreerdp/core/rdstls.c client side (its server side is not a reference). Every
 * PDU starts u16 Version, u16 PduType, u16 DataType; all fields little-endian. */
#include "wire/rdstls.h"

#include <string.h>

#include "base/bytes.h"
#include "base/names.h"
#include "base/utf16.h"

#define HEADER (2 + 2 + 2)                      /* Version, PduType, DataType */
#define CAPABILITIES_LEN (HEADER + 2)            /* 2.2.17.1: SupportedVersions */
#define AUTHRSP_LEN (HEADER + 4)                 /* 2.2.17.4: ResultCode */
#define ARC_COOKIE_LEN 28                        /* ARC_SC_PRIVATE_PACKET (2.2.4.2) */
#define AUTORECONNECT_LEN (HEADER + 4 + 2 + ARC_COOKIE_LEN) /* 2.2.17.3: SessionId, cookie length, cookie */
#define FEDAUTH_MIN (HEADER + 2)                 /* the token's u16 byte length */

static const ws_code_name result_names[] = {
    WS_CODE_ROW(WS_RDSTLS_, SUCCESS),
    WS_CODE_ROW(WS_RDSTLS_, ACCESS_DENIED),
    WS_CODE_ROW(WS_RDSTLS_, LOGON_FAILURE),
    WS_CODE_ROW(WS_RDSTLS_, INVALID_LOGON_HOURS),
    WS_CODE_ROW(WS_RDSTLS_, PASSWORD_EXPIRED),
    WS_CODE_ROW(WS_RDSTLS_, ACCOUNT_DISABLED),
    WS_CODE_ROW(WS_RDSTLS_, PASSWORD_MUST_CHANGE),
    WS_CODE_ROW(WS_RDSTLS_, ACCOUNT_LOCKED_OUT),
};

const char *ws_rdstls_result_name(uint32_t code)
{
    return WS_CODE_NAME(result_names, code, "unknown");
}

/* The password credentials request (2.2.17.2) is four length-prefixed fields after
 * the header: RedirectionGuid, UserName, Domain, Password. */
#define PASSWORD_FIELDS 4

long ws_rdstls_pdu_length(const uint8_t *buf, size_t len)
{
    ws_rd r;
    uint16_t version, pdu, data, n;
    ws_rd_init(&r, buf, len, "RDSTLS", NULL); /* running out means "more bytes needed" */
    if (ws_rd_u16(&r, "Version", &version) || ws_rd_u16(&r, "PduType", &pdu) || ws_rd_u16(&r, "DataType", &data))
        return 0;
    switch (pdu) {
    case WS_RDSTLS_PDU_CAPABILITIES:
        return data == WS_RDSTLS_DATA_CAPABILITIES ? CAPABILITIES_LEN : -1;
    case WS_RDSTLS_PDU_AUTHRSP:
        return data == WS_RDSTLS_DATA_RESULT_CODE ? AUTHRSP_LEN : -1;
    case WS_RDSTLS_PDU_AUTHREQ:
        break;
    default:
        return -1;
    }
    switch (data) {
    case WS_RDSTLS_DATA_PASSWORD_CREDS:
        for (int i = 0; i < PASSWORD_FIELDS; i++) {
            if (ws_rd_u16(&r, "length", &n))
                return 0;
            size_t end = ws_rd_offset(&r) + n;
            if (end > WS_RDSTLS_PDU_MAX)
                return -1;
            if (i == PASSWORD_FIELDS - 1)
                return (long)end;
            if (ws_rd_skip(&r, n, "field"))
                return 0;
        }
        return -1;
    case WS_RDSTLS_DATA_AUTORECONNECT_COOKIE:
        return AUTORECONNECT_LEN;
    case WS_RDSTLS_DATA_FEDAUTH_TOKEN:
        if (ws_rd_u16(&r, "length", &n))
            return 0;
        return FEDAUTH_MIN + (size_t)n > WS_RDSTLS_PDU_MAX ? -1 : (long)(FEDAUTH_MIN + (size_t)n);
    default:
        return -1;
    }
}

static int version_ok(uint16_t v)
{
    return v == WS_RDSTLS_VERSION_1 || v == WS_RDSTLS_VERSION_2;
}

/* Reads the header of one whole PDU of the given type and a version this implementation
 * speaks (1 or 2), leaving r after it. A PDU cut short is left to the field getters,
 * which name the field it ends in. */
static int header(ws_rd *r, const uint8_t *p, size_t len, uint16_t pdu, const char *what, uint16_t *version,
                  uint16_t *data, ws_error *e)
{
    uint16_t type;
    ws_rd_init(r, p, len, what, e);
    if (ws_rd_u16(r, "Version", version) || ws_rd_u16(r, "PduType", &type) || ws_rd_u16(r, "DataType", data))
        return -1;
    long n = ws_rdstls_pdu_length(p, len);
    if (n < 0)
        return ws_seterr(e, "%s: not a PDU this reads (PduType 0x%04X, DataType 0x%04X)", what, type, *data);
    if (n > 0 && (size_t)n != len)
        return ws_seterr(e, "%s: the PDU is %ld bytes but %zu were given", what, n, len);
    if (type != pdu)
        return ws_seterr(e, "%s: PduType 0x%04X (expected 0x%04X)", what, type, pdu);
    if (!version_ok(*version))
        return ws_seterr(e, "%s: unsupported Version %u", what, *version);
    return 0;
}

/* A writer over out (at most WS_RDSTLS_PDU_MAX bytes) with the header written. */
static void put_header(ws_wr *w, uint8_t *out, size_t cap, uint16_t version, uint16_t pdu, uint16_t data)
{
    ws_wr_init(w, out, cap < WS_RDSTLS_PDU_MAX ? cap : WS_RDSTLS_PDU_MAX);
    if (!version_ok(version))
        ws_wr_fail(w);
    ws_wr_u16(w, version);
    ws_wr_u16(w, pdu);
    ws_wr_u16(w, data);
}

/* ---- Capabilities (2.2.17.1): header (PduType 1, DataType 1), u16 SupportedVersions ---- */

int ws_rdstls_decode_capabilities(const uint8_t *p, size_t len, ws_rdstls_capabilities *out, ws_error *e)
{
    ws_rd r;
    uint16_t data;
    memset(out, 0, sizeof *out);
    if (header(&r, p, len, WS_RDSTLS_PDU_CAPABILITIES, "RDSTLS Capabilities", &out->version, &data, e) ||
        ws_rd_u16(&r, "SupportedVersions", &out->supported_versions))
        return -1;
    return ws_rd_end(&r, "SupportedVersions");
}

size_t ws_rdstls_encode_capabilities(const ws_rdstls_capabilities *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    put_header(&w, out, cap, in->version, WS_RDSTLS_PDU_CAPABILITIES, WS_RDSTLS_DATA_CAPABILITIES);
    ws_wr_u16(&w, in->supported_versions);
    return ws_wr_done(&w);
}

/* ---- Authentication request (2.2.17.2 password, 2.2.17.3 auto-reconnect cookie, and
 * Hyper-V's FedAuth token: u16 byte length including the UTF-16 NUL, the token) ---- */

/* A length-prefixed UTF-16LE string of the password request into out (UTF-8). */
static int read_string(ws_rd *r, char *out, size_t cap, const char *field)
{
    uint16_t n;
    const uint8_t *s;
    size_t at = ws_rd_offset(r);
    if (ws_rd_u16(r, field, &n))
        return -1;
    if (n % 2)
        return ws_seterr(r->e, "%s: %s at offset %zu has an odd length %u", r->name, field, at, n);
    if (ws_rd_bytes(r, n, field, &s))
        return -1;
    if (ws_utf16le_to_utf8(s, n, out, cap) < 0)
        return ws_seterr(r->e, "%s: %s at offset %zu is not valid UTF-16LE or is over %zu bytes", r->name, field,
                         at, cap - 1);
    return 0;
}

static int decode_password(ws_rd *r, ws_rdstls_auth_request *out)
{
    uint16_t g;
    r->name = "RDSTLS password request";
    if (ws_rd_u16(r, "RedirectionGuidLength", &g))
        return -1;
    if (g > sizeof out->redirection_guid)
        return ws_seterr(r->e, "%s: RedirectionGuid of %u bytes (at most %zu)", r->name, g,
                         sizeof out->redirection_guid);
    if (ws_rd_copy(r, g, "RedirectionGuid", out->redirection_guid))
        return -1;
    out->redirection_guid_len = g;
    /* The password is an encrypted blob when it comes from a Server Redirection PDU;
     * here, as plain RDSTLS credentials, it is read as UTF-16LE like the names. */
    if (read_string(r, out->user, sizeof out->user, "UserName") ||
        read_string(r, out->domain, sizeof out->domain, "Domain") ||
        read_string(r, out->password, sizeof out->password, "Password"))
        return -1;
    return ws_rd_end(r, "Password");
}

static int decode_autoreconnect(ws_rd *r, ws_rdstls_auth_request *out)
{
    uint16_t n;
    r->name = "RDSTLS auto-reconnect request";
    if (ws_rd_u32(r, "SessionId", &out->session_id) || ws_rd_u16(r, "AutoReconnectCookieLength", &n))
        return -1;
    if (n != ARC_COOKIE_LEN)
        return ws_seterr(r->e, "%s: AutoReconnectCookieLength %u (must be 28)", r->name, n);
    if (ws_rd_copy(r, ARC_COOKIE_LEN, "AutoReconnectCookie", out->arc_cookie))
        return -1;
    return ws_rd_end(r, "AutoReconnectCookie");
}

static int decode_fedauth(ws_rd *r, ws_rdstls_auth_request *out)
{
    uint16_t n;
    const uint8_t *t;
    r->name = "RDSTLS FedAuth request";
    if (ws_rd_u16(r, "token length", &n))
        return -1;
    if (n < 2 || n % 2)
        return ws_seterr(r->e, "%s: token length %u is not an even number of at least 2", r->name, n);
    if (ws_rd_bytes(r, n, "token", &t))
        return -1;
    if (t[n - 2] || t[n - 1])
        return ws_seterr(r->e, "%s: the token does not end in a UTF-16 NUL", r->name);
    for (size_t i = 0; i + 2 < n; i += 2)
        if (!t[i] && !t[i + 1])
            return ws_seterr(r->e, "%s: NUL inside the token at offset %zu", r->name, FEDAUTH_MIN + i);
    if (ws_utf16le_to_utf8(t, n, out->token, sizeof out->token) < 0)
        return ws_seterr(r->e, "%s: the token is not valid UTF-16LE or is over %zu bytes", r->name,
                         sizeof out->token - 1);
    return ws_rd_end(r, "token");
}

int ws_rdstls_decode_auth_request(const uint8_t *p, size_t len, ws_rdstls_auth_request *out, ws_error *e)
{
    ws_rd r;
    memset(out, 0, sizeof *out);
    if (header(&r, p, len, WS_RDSTLS_PDU_AUTHREQ, "RDSTLS Authentication request", &out->version, &out->data_type,
               e))
        return -1;
    switch (out->data_type) {
    case WS_RDSTLS_DATA_PASSWORD_CREDS:
        return decode_password(&r, out);
    case WS_RDSTLS_DATA_AUTORECONNECT_COOKIE:
        return decode_autoreconnect(&r, out);
    default: /* WS_RDSTLS_DATA_FEDAUTH_TOKEN: ws_rdstls_pdu_length knows no other */
        return decode_fedauth(&r, out);
    }
}

size_t ws_rdstls_encode_auth_request(const ws_rdstls_auth_request *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    put_header(&w, out, cap, in->version, WS_RDSTLS_PDU_AUTHREQ, in->data_type);
    switch (in->data_type) {
    case WS_RDSTLS_DATA_PASSWORD_CREDS:
        if (in->redirection_guid_len > sizeof in->redirection_guid)
            return 0;
        ws_wr_u16(&w, in->redirection_guid_len);
        ws_wr_bytes(&w, in->redirection_guid, in->redirection_guid_len);
        ws_wr_utf16_counted(&w, in->user, sizeof in->user - 1);
        ws_wr_utf16_counted(&w, in->domain, sizeof in->user - 1);
        ws_wr_utf16_counted(&w, in->password, sizeof in->user - 1);
        break;
    case WS_RDSTLS_DATA_AUTORECONNECT_COOKIE:
        ws_wr_u32(&w, in->session_id);
        ws_wr_u16(&w, ARC_COOKIE_LEN);
        ws_wr_bytes(&w, in->arc_cookie, ARC_COOKIE_LEN);
        break;
    case WS_RDSTLS_DATA_FEDAUTH_TOKEN:
        /* ws_wr_utf16_counted's u16 prefix is the FedAuth length field at offset 6. */
        ws_wr_utf16_counted(&w, in->token, sizeof in->token - 1);
        break;
    default:
        return 0;
    }
    return ws_wr_done(&w);
}

/* ---- Authentication response (2.2.17.4): header (PduType 4, DataType 1), u32 ResultCode ---- */

int ws_rdstls_decode_auth_response(const uint8_t *p, size_t len, ws_rdstls_auth_response *out, ws_error *e)
{
    ws_rd r;
    uint16_t data;
    memset(out, 0, sizeof *out);
    if (header(&r, p, len, WS_RDSTLS_PDU_AUTHRSP, "RDSTLS Authentication response", &out->version, &data, e) ||
        ws_rd_u32(&r, "ResultCode", &out->result_code))
        return -1;
    return ws_rd_end(&r, "ResultCode");
}

size_t ws_rdstls_encode_auth_response(const ws_rdstls_auth_response *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    put_header(&w, out, cap, in->version, WS_RDSTLS_PDU_AUTHRSP, WS_RDSTLS_DATA_RESULT_CODE);
    ws_wr_u32(&w, in->result_code);
    return ws_wr_done(&w);
}
