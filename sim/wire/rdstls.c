/* rdstls: see rdstls.h. PDU layouts from MS-RDPBCGR 2.2.17 and the FedAuth token
 * request of REFERENCE.md section 8 (not in the spec), checked against FreeRDP's
 * libfreerdp/core/rdstls.c client side (its server side is not a reference). Every
 * PDU starts u16 Version, u16 PduType, u16 DataType; all fields little-endian. */
#include "wire/rdstls.h"

#include <string.h>

#include "base/utf16.h"

#define HEADER 6
#define CAPABILITIES_LEN 8   /* 2.2.17.1: header + u16 SupportedVersions */
#define AUTHRSP_LEN 10       /* 2.2.17.4: header + u32 ResultCode */
#define ARC_COOKIE_LEN 28    /* ARC_SC_PRIVATE_PACKET (2.2.4.2) */
#define AUTORECONNECT_LEN (HEADER + 4 + 2 + ARC_COOKIE_LEN) /* 2.2.17.3 */
#define FEDAUTH_MIN 8        /* header + u16 byte length */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

const char *ws_rdstls_result_name(uint32_t code)
{
    switch (code) {
    case WS_RDSTLS_SUCCESS:
        return "SUCCESS";
    case WS_RDSTLS_ACCESS_DENIED:
        return "ACCESS_DENIED";
    case WS_RDSTLS_LOGON_FAILURE:
        return "LOGON_FAILURE";
    case WS_RDSTLS_INVALID_LOGON_HOURS:
        return "INVALID_LOGON_HOURS";
    case WS_RDSTLS_PASSWORD_EXPIRED:
        return "PASSWORD_EXPIRED";
    case WS_RDSTLS_ACCOUNT_DISABLED:
        return "ACCOUNT_DISABLED";
    case WS_RDSTLS_PASSWORD_MUST_CHANGE:
        return "PASSWORD_MUST_CHANGE";
    case WS_RDSTLS_ACCOUNT_LOCKED_OUT:
        return "ACCOUNT_LOCKED_OUT";
    default:
        return "unknown";
    }
}

/* The password credentials request (2.2.17.2) is four length-prefixed fields after
 * the header: RedirectionGuid, UserName, Domain, Password. */
#define PASSWORD_FIELDS 4

long ws_rdstls_pdu_length(const uint8_t *buf, size_t len)
{
    if (len < HEADER)
        return 0;
    uint16_t pdu = get16(buf + 2), data = get16(buf + 4);
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
    case WS_RDSTLS_DATA_PASSWORD_CREDS: {
        size_t off = HEADER;
        for (int i = 0; i < PASSWORD_FIELDS; i++) {
            if (off + 2 > len)
                return 0;
            off += 2 + (size_t)get16(buf + off);
            if (off > WS_RDSTLS_PDU_MAX)
                return -1;
        }
        return (long)off;
    }
    case WS_RDSTLS_DATA_AUTORECONNECT_COOKIE:
        return AUTORECONNECT_LEN;
    case WS_RDSTLS_DATA_FEDAUTH_TOKEN: {
        if (len < FEDAUTH_MIN)
            return 0;
        size_t n = FEDAUTH_MIN + (size_t)get16(buf + 6);
        return n > WS_RDSTLS_PDU_MAX ? -1 : (long)n;
    }
    default:
        return -1;
    }
}

/* One whole PDU of the given type and a version this implementation speaks (1 or 2). */
static int whole(const uint8_t *p, size_t len, uint16_t pdu, const char *what, ws_error *e)
{
    long n = ws_rdstls_pdu_length(p, len);
    if (n == 0)
        return ws_seterr(e, "RDSTLS %s: truncated (%zu bytes)", what, len);
    if (n < 0)
        return ws_seterr(e, "RDSTLS %s: not a PDU this reads (PduType 0x%04X, DataType 0x%04X)", what,
                         get16(p + 2), get16(p + 4));
    if ((size_t)n != len)
        return ws_seterr(e, "RDSTLS %s: the PDU is %ld bytes but %zu were given", what, n, len);
    if (get16(p + 2) != pdu)
        return ws_seterr(e, "RDSTLS %s: PduType 0x%04X (expected 0x%04X)", what, get16(p + 2), pdu);
    uint16_t v = get16(p);
    if (v != WS_RDSTLS_VERSION_1 && v != WS_RDSTLS_VERSION_2)
        return ws_seterr(e, "RDSTLS %s: unsupported Version %u", what, v);
    return 0;
}

static void put_header(uint8_t *out, uint16_t version, uint16_t pdu, uint16_t data)
{
    put16(out, version);
    put16(out + 2, pdu);
    put16(out + 4, data);
}

static int version_ok(uint16_t v)
{
    return v == WS_RDSTLS_VERSION_1 || v == WS_RDSTLS_VERSION_2;
}

/* ---- Capabilities (2.2.17.1): header (PduType 1, DataType 1), u16 SupportedVersions ---- */

int ws_rdstls_decode_capabilities(const uint8_t *p, size_t len, ws_rdstls_capabilities *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    if (whole(p, len, WS_RDSTLS_PDU_CAPABILITIES, "Capabilities", e) < 0)
        return -1;
    out->version = get16(p);
    out->supported_versions = get16(p + 6);
    return 0;
}

size_t ws_rdstls_encode_capabilities(const ws_rdstls_capabilities *in, uint8_t *out, size_t cap)
{
    if (!version_ok(in->version) || cap < CAPABILITIES_LEN)
        return 0;
    put_header(out, in->version, WS_RDSTLS_PDU_CAPABILITIES, WS_RDSTLS_DATA_CAPABILITIES);
    put16(out + 6, in->supported_versions);
    return CAPABILITIES_LEN;
}

/* ---- Authentication request (2.2.17.2 password, 2.2.17.3 auto-reconnect cookie, and
 * Hyper-V's FedAuth token: u16 byte length including the UTF-16 NUL, the token) ---- */

/* A length-prefixed UTF-16LE string of the password request into out (UTF-8). */
static int read_string(const uint8_t *p, size_t *off, char *out, size_t cap, const char *field, ws_error *e)
{
    size_t n = get16(p + *off);
    if (n % 2)
        return ws_seterr(e, "RDSTLS password request: %s at offset %zu has an odd length %zu", field, *off, n);
    if (ws_utf16le_to_utf8(p + *off + 2, n, out, cap) < 0)
        return ws_seterr(e, "RDSTLS password request: %s at offset %zu is not valid UTF-16LE or is over %zu bytes",
                         field, *off, cap - 1);
    *off += 2 + n;
    return 0;
}

static int decode_password(const uint8_t *p, size_t len, ws_rdstls_auth_request *out, ws_error *e)
{
    size_t off = HEADER;
    size_t g = get16(p + off);
    if (g > sizeof out->redirection_guid)
        return ws_seterr(e, "RDSTLS password request: RedirectionGuid of %zu bytes (at most %zu)", g,
                         sizeof out->redirection_guid);
    memcpy(out->redirection_guid, p + off + 2, g);
    out->redirection_guid_len = (uint16_t)g;
    off += 2 + g;
    /* The password is an encrypted blob when it comes from a Server Redirection PDU;
     * here, as plain RDSTLS credentials, it is read as UTF-16LE like the names. */
    if (read_string(p, &off, out->user, sizeof out->user, "UserName", e) < 0 ||
        read_string(p, &off, out->domain, sizeof out->domain, "Domain", e) < 0 ||
        read_string(p, &off, out->password, sizeof out->password, "Password", e) < 0)
        return -1;
    return off == len ? 0 : ws_seterr(e, "RDSTLS password request: %zu bytes after the fields", len - off);
}

/* p holds 8 + n bytes: whole() checked it. */
static int decode_fedauth(const uint8_t *p, ws_rdstls_auth_request *out, ws_error *e)
{
    size_t n = get16(p + 6);
    if (n < 2 || n % 2)
        return ws_seterr(e, "RDSTLS FedAuth request: token length %zu is not an even number of at least 2", n);
    const uint8_t *t = p + FEDAUTH_MIN;
    if (t[n - 2] || t[n - 1])
        return ws_seterr(e, "RDSTLS FedAuth request: the token does not end in a UTF-16 NUL");
    for (size_t i = 0; i + 2 < n; i += 2)
        if (!t[i] && !t[i + 1])
            return ws_seterr(e, "RDSTLS FedAuth request: NUL inside the token at offset %zu", FEDAUTH_MIN + i);
    if (ws_utf16le_to_utf8(t, n, out->token, sizeof out->token) < 0)
        return ws_seterr(e, "RDSTLS FedAuth request: the token is not valid UTF-16LE or is over %zu bytes",
                         sizeof out->token - 1);
    return 0;
}

int ws_rdstls_decode_auth_request(const uint8_t *p, size_t len, ws_rdstls_auth_request *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    if (whole(p, len, WS_RDSTLS_PDU_AUTHREQ, "Authentication request", e) < 0)
        return -1;
    out->version = get16(p);
    out->data_type = get16(p + 4);
    switch (out->data_type) {
    case WS_RDSTLS_DATA_PASSWORD_CREDS:
        return decode_password(p, len, out, e);
    case WS_RDSTLS_DATA_AUTORECONNECT_COOKIE:
        out->session_id = get32(p + 6);
        if (get16(p + 10) != ARC_COOKIE_LEN)
            return ws_seterr(e, "RDSTLS auto-reconnect request: AutoReconnectCookieLength %u (must be 28)",
                             get16(p + 10));
        memcpy(out->arc_cookie, p + 12, ARC_COOKIE_LEN);
        return 0;
    default: /* WS_RDSTLS_DATA_FEDAUTH_TOKEN: ws_rdstls_pdu_length knows no other */
        return decode_fedauth(p, out, e);
    }
}

/* Length-prefixed UTF-16LE with its NUL, as FreeRDP's rdstls_write_string writes it. */
static size_t write_string(const char *s, size_t max_utf8, uint8_t *out, size_t cap)
{
    if (strnlen(s, max_utf8 + 1) > max_utf8 || cap < 4)
        return 0;
    long n = ws_utf8_to_utf16le(s, out + 2, cap - 4);
    if (n < 0)
        return 0;
    out[2 + n] = 0;
    out[3 + n] = 0;
    put16(out, (uint16_t)(n + 2));
    return 4 + (size_t)n;
}

size_t ws_rdstls_encode_auth_request(const ws_rdstls_auth_request *in, uint8_t *out, size_t cap)
{
    if (!version_ok(in->version) || cap < HEADER)
        return 0;
    size_t cap_max = cap < WS_RDSTLS_PDU_MAX ? cap : WS_RDSTLS_PDU_MAX;
    size_t off = HEADER;
    switch (in->data_type) {
    case WS_RDSTLS_DATA_PASSWORD_CREDS: {
        size_t g = in->redirection_guid_len;
        if (g > sizeof in->redirection_guid || off + 2 + g > cap_max)
            return 0;
        put16(out + off, (uint16_t)g);
        memcpy(out + off + 2, in->redirection_guid, g);
        off += 2 + g;
        const char *f[3] = {in->user, in->domain, in->password};
        for (int i = 0; i < 3; i++) {
            size_t w = write_string(f[i], sizeof in->user - 1, out + off, cap_max - off);
            if (!w)
                return 0;
            off += w;
        }
        break;
    }
    case WS_RDSTLS_DATA_AUTORECONNECT_COOKIE:
        if (cap_max < AUTORECONNECT_LEN)
            return 0;
        put32(out + off, in->session_id);
        put16(out + off + 4, ARC_COOKIE_LEN);
        memcpy(out + off + 6, in->arc_cookie, ARC_COOKIE_LEN);
        off = AUTORECONNECT_LEN;
        break;
    case WS_RDSTLS_DATA_FEDAUTH_TOKEN: {
        /* write_string's u16 prefix is the FedAuth length field at offset 6. */
        size_t w = write_string(in->token, sizeof in->token - 1, out + off, cap_max - off);
        if (!w)
            return 0;
        off += w;
        break;
    }
    default:
        return 0;
    }
    put_header(out, in->version, WS_RDSTLS_PDU_AUTHREQ, in->data_type);
    return off;
}

/* ---- Authentication response (2.2.17.4): header (PduType 4, DataType 1), u32 ResultCode ---- */

int ws_rdstls_decode_auth_response(const uint8_t *p, size_t len, ws_rdstls_auth_response *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    if (whole(p, len, WS_RDSTLS_PDU_AUTHRSP, "Authentication response", e) < 0)
        return -1;
    out->version = get16(p);
    out->result_code = get32(p + 6);
    return 0;
}

size_t ws_rdstls_encode_auth_response(const ws_rdstls_auth_response *in, uint8_t *out, size_t cap)
{
    if (!version_ok(in->version) || cap < AUTHRSP_LEN)
        return 0;
    put_header(out, in->version, WS_RDSTLS_PDU_AUTHRSP, WS_RDSTLS_DATA_RESULT_CODE);
    put32(out + 6, in->result_code);
    return AUTHRSP_LEN;
}
