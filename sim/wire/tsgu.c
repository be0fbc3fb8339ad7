/* SPDX-License-Identifier: Apache-2.0 */
/* tsgu: see tsgu.h. Every decoder reads through base/bytes' bounded reader over exactly
 * the packetLength bytes it was given; encoders write through its writer, fieldsPresent
 * masked to the optional fields they actually write, so what they produce always decodes.
 *
 * Every packet (MS-TSGU 2.2.10.9 HTTP_PACKET_HEADER, REFERENCE.md section 7):
 *   u16 packetType, u16 reserved, u32 packetLength (the header included)
 * then the packet's fields, each decoder's comment naming its spec section. */
#include "wire/tsgu.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/names.h"
#include "base/utf16.h"

/* Optional-field flags that only this file needs (MS-TSGU 2.2.5.3). */
#define TUNNEL_CREATE_REAUTH 0x0002      /* HTTP_TUNNEL_PACKET_FIELD_REAUTH */
#define TUNNEL_CREATE_KNOWN 0x0003
#define TUNNEL_RESPONSE_SOH_REQ 0x0004   /* HTTP_TUNNEL_RESPONSE_FIELD_SOH_REQ */
#define TUNNEL_RESPONSE_CONSENT 0x0010   /* HTTP_TUNNEL_RESPONSE_FIELD_CONSENT_MSG */
#define TUNNEL_RESPONSE_KNOWN 0x0017
#define TUNNEL_AUTH_SOH 0x0001           /* HTTP_TUNNEL_AUTH_FIELD_SOH */
#define TUNNEL_AUTH_KNOWN 0x0001
#define AUTH_RESPONSE_REDIR_FLAGS 0x0001 /* HTTP_TUNNEL_AUTH_RESPONSE_FIELD_* */
#define AUTH_RESPONSE_IDLE_TIMEOUT 0x0002
#define AUTH_RESPONSE_SOH_RESPONSE 0x0004
#define AUTH_RESPONSE_KNOWN 0x0007
#define CHANNEL_RESPONSE_AUTHN_COOKIE 0x0002 /* HTTP_CHANNEL_RESPONSE_FIELD_AUTHNCOOKIE */
#define CHANNEL_RESPONSE_UDP_PORT 0x0004     /* HTTP_CHANNEL_RESPONSE_FIELD_UDPPORT */
#define CHANNEL_RESPONSE_KNOWN 0x0007

static const ws_code_name type_names[] = {
    WS_CODE_ROW(WS_TSGU_, HANDSHAKE_REQUEST),
    WS_CODE_ROW(WS_TSGU_, HANDSHAKE_RESPONSE),
    WS_CODE_ROW(WS_TSGU_, EXTENDED_AUTH),
    WS_CODE_ROW(WS_TSGU_, TUNNEL_CREATE),
    WS_CODE_ROW(WS_TSGU_, TUNNEL_RESPONSE),
    WS_CODE_ROW(WS_TSGU_, TUNNEL_AUTH),
    WS_CODE_ROW(WS_TSGU_, TUNNEL_AUTH_RESPONSE),
    WS_CODE_ROW(WS_TSGU_, CHANNEL_CREATE),
    WS_CODE_ROW(WS_TSGU_, CHANNEL_RESPONSE),
    WS_CODE_ROW(WS_TSGU_, DATA),
    WS_CODE_ROW(WS_TSGU_, SERVICE_MESSAGE),
    WS_CODE_ROW(WS_TSGU_, REAUTH_MESSAGE),
    WS_CODE_ROW(WS_TSGU_, KEEPALIVE),
    WS_CODE_ROW(WS_TSGU_, CLOSE_CHANNEL),
    WS_CODE_ROW(WS_TSGU_, CLOSE_CHANNEL_RESPONSE),
};

const char *ws_tsgu_type_name(uint16_t type)
{
    return WS_CODE_NAME(type_names, type, "unknown");
}

/* ---- reading ---- */

/* A u16 byte count and that many bytes (HTTP_BYTE_BLOB, MS-TSGU 2.2.10.1), skipped. */
static int skip_blob(ws_rd *r, const char *field)
{
    uint16_t cb;
    if (ws_rd_u16(r, field, &cb))
        return -1;
    return ws_rd_skip(r, cb, field);
}

/* A u16 byte count and UTF-16LE text (HTTP_UNICODE_STRING, MS-TSGU 2.2.10.22): the count
 * must be even and fit; converted into out (cap bytes with the NUL) when out is given. */
static int rd_string(ws_rd *r, const char *field, char *out, size_t cap)
{
    uint16_t cb;
    const uint8_t *s;
    char what[64];
    snprintf(what, sizeof what, "cb%s", field);
    if (ws_rd_u16(r, what, &cb))
        return -1;
    if (cb % 2)
        return ws_seterr(r->e, "%s: cb%s %u is odd", r->name, field, cb);
    if (ws_rd_bytes(r, cb, field, &s))
        return -1;
    if (!out)
        return 0;
    if (cb == 0) {
        out[0] = '\0';
        return 0;
    }
    if (ws_utf16le_to_utf8(s, cb, out, cap) >= 0)
        return 0;
    out[0] = '\0';
    /* Tell an over-long string from invalid UTF-16: at most 3 UTF-8 bytes per unit. */
    size_t big = (size_t)cb / 2 * 3 + 1;
    char *tmp = malloc(big);
    long n = tmp ? ws_utf16le_to_utf8(s, cb, tmp, big) : -1;
    free(tmp);
    if (n >= 0)
        return ws_seterr(r->e, "%s: %s is %ld UTF-8 bytes, over the %zu accepted", r->name, field, n, cap - 1);
    return ws_seterr(r->e, "%s: %s is not valid UTF-16LE", r->name, field);
}

/* After the declared fields: nothing may remain unless fieldsPresent has bits this
 * decoder does not know (unknown optional fields of unknown size). */
static int finish(ws_rd *r, uint16_t fields_present, uint16_t known)
{
    size_t left = ws_rd_remaining(r);
    if (left && !known)
        return ws_seterr(r->e, "%s: %zu trailing bytes after the last field", r->name, left);
    if (left && !(fields_present & ~known))
        return ws_seterr(r->e, "%s: %zu trailing bytes after the declared fields (fieldsPresent 0x%04x)", r->name,
                         left, fields_present);
    return 0;
}

/* Checks the header of one whole packet and leaves the reader after it. */
static int begin(ws_rd *r, const uint8_t *p, size_t len, uint16_t type, ws_error *e)
{
    uint16_t t, reserved;
    uint32_t plen;
    const char *name = ws_tsgu_type_name(type);
    ws_rd_init(r, p, len, name, e);
    if (ws_rd_remaining(r) < WS_TSGU_HEADER_LEN)
        return ws_seterr(e, "%s: %zu bytes is shorter than the 8-byte header", name, ws_rd_remaining(r));
    ws_rd_u16(r, "packetType", &t);
    ws_rd_u16(r, "reserved", &reserved);
    ws_rd_u32(r, "packetLength", &plen);
    if (t != type)
        return ws_seterr(e, "%s: packet type 0x%04x (%s), expected 0x%04x", name, t, ws_tsgu_type_name(t), type);
    if (plen != len)
        return ws_seterr(e, "%s: packetLength %" PRIu32 " but %zu bytes given", name, plen, len);
    if (len > WS_TSGU_PACKET_MAX)
        return ws_seterr(e, "%s: packetLength %zu exceeds %d", name, len, WS_TSGU_PACKET_MAX);
    return 0;
}

int ws_tsgu_header_decode(const uint8_t *buf, size_t len, ws_tsgu_header *h, ws_error *e)
{
    ws_rd r;
    uint16_t type, reserved;
    uint32_t plen;
    ws_rd_init(&r, buf, len, "TSGU header", NULL);
    if (ws_rd_u16(&r, "packetType", &type) || ws_rd_u16(&r, "reserved", &reserved) ||
        ws_rd_u32(&r, "packetLength", &plen))
        return 1; /* need more: not an error */
    if (plen < WS_TSGU_HEADER_LEN)
        return ws_seterr(e, "TSGU header: %s (0x%04x) packetLength %" PRIu32 " is below the 8-byte header",
                         ws_tsgu_type_name(type), type, plen);
    if (plen > WS_TSGU_PACKET_MAX)
        return ws_seterr(e, "TSGU header: %s (0x%04x) packetLength %" PRIu32 " exceeds %d",
                         ws_tsgu_type_name(type), type, plen, WS_TSGU_PACKET_MAX);
    h->type = type;
    h->length = plen;
    return 0;
}

/* ---- writing ---- */

/* A writer over out (at most WS_TSGU_PACKET_MAX bytes) with the header written; its
 * packetLength is filled in by end(). */
static void start(ws_wr *w, uint16_t type, uint8_t *out, size_t cap)
{
    ws_wr_init(w, out, cap < WS_TSGU_PACKET_MAX ? cap : WS_TSGU_PACKET_MAX);
    ws_wr_u16(w, type);
    ws_wr_u16(w, 0);
    ws_wr_u32(w, 0);
}

static size_t end(ws_wr *w)
{
    ws_wr_u32_at(w, 4, (uint32_t)ws_wr_len(w));
    return ws_wr_done(w);
}

/* HANDSHAKE_REQUEST: MS-TSGU 2.2.10.10 HTTP_HANDSHAKE_REQUEST_PACKET, REFERENCE.md section 7:
 * u8 verMajor, u8 verMinor, u16 clientVersion, u16 extendedAuth. */

int ws_tsgu_decode_handshake_request(const uint8_t *p, size_t len, ws_tsgu_handshake_request *out, ws_error *e)
{
    ws_rd r;
    if (begin(&r, p, len, WS_TSGU_HANDSHAKE_REQUEST, e) || ws_rd_u8(&r, "verMajor", &out->ver_major) ||
        ws_rd_u8(&r, "verMinor", &out->ver_minor) || ws_rd_u16(&r, "clientVersion", &out->client_version) ||
        ws_rd_u16(&r, "extendedAuth", &out->extended_auth))
        return -1;
    return finish(&r, 0, 0);
}

size_t ws_tsgu_encode_handshake_request(const ws_tsgu_handshake_request *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    start(&w, WS_TSGU_HANDSHAKE_REQUEST, out, cap);
    ws_wr_u8(&w, in->ver_major);
    ws_wr_u8(&w, in->ver_minor);
    ws_wr_u16(&w, in->client_version);
    ws_wr_u16(&w, in->extended_auth);
    return end(&w);
}

/* HANDSHAKE_RESPONSE: MS-TSGU 2.2.10.11 HTTP_HANDSHAKE_RESPONSE_PACKET:
 * u32 errorCode, u8 verMajor, u8 verMinor, u16 serverVersion, u16 extendedAuth. */
int ws_tsgu_decode_handshake_response(const uint8_t *p, size_t len, ws_tsgu_handshake_response *out, ws_error *e)
{
    ws_rd r;
    if (begin(&r, p, len, WS_TSGU_HANDSHAKE_RESPONSE, e) || ws_rd_u32(&r, "errorCode", &out->error_code) ||
        ws_rd_u8(&r, "verMajor", &out->ver_major) || ws_rd_u8(&r, "verMinor", &out->ver_minor) ||
        ws_rd_u16(&r, "serverVersion", &out->server_version) || ws_rd_u16(&r, "extendedAuth", &out->extended_auth))
        return -1;
    return finish(&r, 0, 0);
}

size_t ws_tsgu_encode_handshake_response(const ws_tsgu_handshake_response *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    start(&w, WS_TSGU_HANDSHAKE_RESPONSE, out, cap);
    ws_wr_u32(&w, in->error_code);
    ws_wr_u8(&w, in->ver_major);
    ws_wr_u8(&w, in->ver_minor);
    ws_wr_u16(&w, in->server_version);
    ws_wr_u16(&w, in->extended_auth);
    return end(&w);
}

/* TUNNEL_CREATE: MS-TSGU 2.2.10.18 HTTP_TUNNEL_PACKET (u32 capsFlags, u16 fieldsPresent,
 * u16 reserved) + 2.2.10.19 optional fields ([0x2] u64 reauthTunnelContext, [0x1] u16
 * cbCookie + PAA cookie). */
int ws_tsgu_decode_tunnel_create(const uint8_t *p, size_t len, ws_tsgu_tunnel_create *out, ws_error *e)
{
    ws_rd r;
    out->cookie[0] = '\0';
    if (begin(&r, p, len, WS_TSGU_TUNNEL_CREATE, e) || ws_rd_u32(&r, "caps", &out->caps) ||
        ws_rd_u16(&r, "fieldsPresent", &out->fields_present) || ws_rd_skip(&r, 2, "reserved"))
        return -1;
    if ((out->fields_present & TUNNEL_CREATE_REAUTH) && ws_rd_skip(&r, 8, "reauthTunnelContext"))
        return -1;
    if ((out->fields_present & WS_TSGU_TUNNEL_CREATE_PAA_COOKIE) &&
        rd_string(&r, "Cookie", out->cookie, sizeof out->cookie))
        return -1;
    return finish(&r, out->fields_present, TUNNEL_CREATE_KNOWN);
}

size_t ws_tsgu_encode_tunnel_create(const ws_tsgu_tunnel_create *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    uint16_t fields = in->fields_present & WS_TSGU_TUNNEL_CREATE_PAA_COOKIE;
    start(&w, WS_TSGU_TUNNEL_CREATE, out, cap);
    ws_wr_u32(&w, in->caps);
    ws_wr_u16(&w, fields);
    ws_wr_u16(&w, 0);
    if (fields)
        ws_wr_utf16_counted(&w, in->cookie, WS_TSGU_COOKIE_MAX);
    return end(&w);
}

/* TUNNEL_RESPONSE: MS-TSGU 2.2.10.20 HTTP_TUNNEL_RESPONSE (u16 serverVersion, u32
 * statusCode, u16 fieldsPresent, u16 reserved) + 2.2.10.21 optional fields ([0x1]
 * tunnelId, [0x2] caps, [0x4] 16-byte nonce + serverCert, [0x10] consent message). */
int ws_tsgu_decode_tunnel_response(const uint8_t *p, size_t len, ws_tsgu_tunnel_response *out, ws_error *e)
{
    ws_rd r;
    out->tunnel_id = 0;
    out->caps = 0;
    if (begin(&r, p, len, WS_TSGU_TUNNEL_RESPONSE, e) || ws_rd_u16(&r, "serverVersion", &out->server_version) ||
        ws_rd_u32(&r, "statusCode", &out->status_code) || ws_rd_u16(&r, "fieldsPresent", &out->fields_present) ||
        ws_rd_skip(&r, 2, "reserved"))
        return -1;
    uint16_t f = out->fields_present;
    if ((f & WS_TSGU_TUNNEL_RESPONSE_TUNNEL_ID) && ws_rd_u32(&r, "tunnelId", &out->tunnel_id))
        return -1;
    if ((f & WS_TSGU_TUNNEL_RESPONSE_CAPS) && ws_rd_u32(&r, "caps", &out->caps))
        return -1;
    if ((f & TUNNEL_RESPONSE_SOH_REQ) && (ws_rd_skip(&r, 16, "nonce") || rd_string(&r, "ServerCert", NULL, 0)))
        return -1;
    if ((f & TUNNEL_RESPONSE_CONSENT) && rd_string(&r, "ConsentMsg", NULL, 0))
        return -1;
    return finish(&r, f, TUNNEL_RESPONSE_KNOWN);
}

size_t ws_tsgu_encode_tunnel_response(const ws_tsgu_tunnel_response *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    uint16_t f = in->fields_present & (WS_TSGU_TUNNEL_RESPONSE_TUNNEL_ID | WS_TSGU_TUNNEL_RESPONSE_CAPS);
    start(&w, WS_TSGU_TUNNEL_RESPONSE, out, cap);
    ws_wr_u16(&w, in->server_version);
    ws_wr_u32(&w, in->status_code);
    ws_wr_u16(&w, f);
    ws_wr_u16(&w, 0);
    if (f & WS_TSGU_TUNNEL_RESPONSE_TUNNEL_ID)
        ws_wr_u32(&w, in->tunnel_id);
    if (f & WS_TSGU_TUNNEL_RESPONSE_CAPS)
        ws_wr_u32(&w, in->caps);
    return end(&w);
}

/* TUNNEL_AUTH: MS-TSGU 2.2.10.14 HTTP_TUNNEL_AUTH_PACKET (u16 fieldsPresent, u16
 * cbClientName + clientName) + 2.2.10.15 optional fields ([0x1] statement of health,
 * u16 cb + data). */
int ws_tsgu_decode_tunnel_auth(const uint8_t *p, size_t len, ws_tsgu_tunnel_auth *out, ws_error *e)
{
    ws_rd r;
    out->client_name[0] = '\0';
    if (begin(&r, p, len, WS_TSGU_TUNNEL_AUTH, e) || ws_rd_u16(&r, "fieldsPresent", &out->fields_present) ||
        rd_string(&r, "ClientName", out->client_name, sizeof out->client_name))
        return -1;
    if ((out->fields_present & TUNNEL_AUTH_SOH) && skip_blob(&r, "statementOfHealth"))
        return -1;
    return finish(&r, out->fields_present, TUNNEL_AUTH_KNOWN);
}

size_t ws_tsgu_encode_tunnel_auth(const ws_tsgu_tunnel_auth *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    start(&w, WS_TSGU_TUNNEL_AUTH, out, cap);
    ws_wr_u16(&w, 0); /* no statement of health written */
    ws_wr_utf16_counted(&w, in->client_name, WS_TSGU_NAME_MAX);
    return end(&w);
}

/* TUNNEL_AUTH_RESPONSE: MS-TSGU 2.2.10.16 HTTP_TUNNEL_AUTH_RESPONSE (u32 errorCode, u16
 * fieldsPresent, u16 reserved) + 2.2.10.17 optional fields ([0x1] redirFlags u32, [0x2]
 * idleTimeout u32, [0x4] SoH response u16 cb + data). */
int ws_tsgu_decode_tunnel_auth_response(const uint8_t *p, size_t len, ws_tsgu_tunnel_auth_response *out,
                                        ws_error *e)
{
    ws_rd r;
    if (begin(&r, p, len, WS_TSGU_TUNNEL_AUTH_RESPONSE, e) || ws_rd_u32(&r, "errorCode", &out->error_code) ||
        ws_rd_u16(&r, "fieldsPresent", &out->fields_present) || ws_rd_skip(&r, 2, "reserved"))
        return -1;
    uint16_t f = out->fields_present;
    if ((f & AUTH_RESPONSE_REDIR_FLAGS) && ws_rd_skip(&r, 4, "redirFlags"))
        return -1;
    if ((f & AUTH_RESPONSE_IDLE_TIMEOUT) && ws_rd_skip(&r, 4, "idleTimeout"))
        return -1;
    if ((f & AUTH_RESPONSE_SOH_RESPONSE) && skip_blob(&r, "SoHResponse"))
        return -1;
    return finish(&r, f, AUTH_RESPONSE_KNOWN);
}

size_t ws_tsgu_encode_tunnel_auth_response(const ws_tsgu_tunnel_auth_response *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    start(&w, WS_TSGU_TUNNEL_AUTH_RESPONSE, out, cap);
    ws_wr_u32(&w, in->error_code);
    ws_wr_u16(&w, 0); /* no optional fields written */
    ws_wr_u16(&w, 0);
    return end(&w);
}

/* CHANNEL_CREATE: MS-TSGU 2.2.10.2 HTTP_CHANNEL_PACKET (u8 numResources, u8 numAltResources,
 * u16 port, u16 protocol) + 2.2.10.3 variable part (numResources names, then numAlt
 * alternate names, each u16 cb + UTF-16LE). */
int ws_tsgu_decode_channel_create(const uint8_t *p, size_t len, ws_tsgu_channel_create *out, ws_error *e)
{
    ws_rd r;
    out->resource[0] = '\0';
    if (begin(&r, p, len, WS_TSGU_CHANNEL_CREATE, e) || ws_rd_u8(&r, "numResources", &out->num_resources) ||
        ws_rd_u8(&r, "numAltResources", &out->num_alt) || ws_rd_u16(&r, "port", &out->port) ||
        ws_rd_u16(&r, "protocol", &out->protocol))
        return -1;
    if (out->num_resources < 1)
        return ws_seterr(e, "CHANNEL_CREATE: numResources is 0, at least 1 resource name is required");
    if (rd_string(&r, "ResourceName", out->resource, sizeof out->resource))
        return -1;
    for (unsigned i = 1; i < out->num_resources; i++)
        if (rd_string(&r, "ResourceName", NULL, 0))
            return -1;
    for (unsigned i = 0; i < out->num_alt; i++)
        if (rd_string(&r, "AltResourceName", NULL, 0))
            return -1;
    return finish(&r, 0, 0);
}

size_t ws_tsgu_encode_channel_create(const ws_tsgu_channel_create *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    start(&w, WS_TSGU_CHANNEL_CREATE, out, cap);
    ws_wr_u8(&w, 1); /* one resource name, no alternates */
    ws_wr_u8(&w, 0);
    ws_wr_u16(&w, in->port);
    ws_wr_u16(&w, in->protocol);
    ws_wr_utf16_counted(&w, in->resource, WS_TSGU_NAME_MAX);
    return end(&w);
}

/* CHANNEL_RESPONSE: MS-TSGU 2.2.10.4 HTTP_CHANNEL_RESPONSE (u32 errorCode, u16
 * fieldsPresent, u16 reserved) + 2.2.10.5 optional fields, in that order: [0x1]
 * channelId u32, [0x4] udpPort u16, [0x2] authnCookie u16 cb + data. */
int ws_tsgu_decode_channel_response(const uint8_t *p, size_t len, ws_tsgu_channel_response *out, ws_error *e)
{
    ws_rd r;
    out->channel_id = 0;
    if (begin(&r, p, len, WS_TSGU_CHANNEL_RESPONSE, e) || ws_rd_u32(&r, "errorCode", &out->error_code) ||
        ws_rd_u16(&r, "fieldsPresent", &out->fields_present) || ws_rd_skip(&r, 2, "reserved"))
        return -1;
    uint16_t f = out->fields_present;
    if ((f & WS_TSGU_CHANNEL_RESPONSE_CHANNEL_ID) && ws_rd_u32(&r, "channelId", &out->channel_id))
        return -1;
    if ((f & CHANNEL_RESPONSE_UDP_PORT) && ws_rd_skip(&r, 2, "udpPort"))
        return -1;
    if ((f & CHANNEL_RESPONSE_AUTHN_COOKIE) && skip_blob(&r, "authnCookie"))
        return -1;
    return finish(&r, f, CHANNEL_RESPONSE_KNOWN);
}

size_t ws_tsgu_encode_channel_response(const ws_tsgu_channel_response *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    uint16_t f = in->fields_present & WS_TSGU_CHANNEL_RESPONSE_CHANNEL_ID;
    start(&w, WS_TSGU_CHANNEL_RESPONSE, out, cap);
    ws_wr_u32(&w, in->error_code);
    ws_wr_u16(&w, f);
    ws_wr_u16(&w, 0);
    if (f)
        ws_wr_u32(&w, in->channel_id);
    return end(&w);
}

/* DATA: MS-TSGU 2.2.10.6 HTTP_DATA_PACKET (u16 cbDataLen, data): cbDataLen is all the
 * packet carries after its 10-byte head. */
static int data_len_check(uint16_t cb, size_t carried, ws_error *e)
{
    if (cb != carried)
        return ws_seterr(e, "DATA: cbDataLen %u but the packet carries %zu bytes of data", cb, carried);
    return 0;
}

int ws_tsgu_decode_data(const uint8_t *p, size_t len, ws_tsgu_data *out, ws_error *e)
{
    ws_rd r;
    if (begin(&r, p, len, WS_TSGU_DATA, e) || ws_rd_u16(&r, "cbDataLen", &out->len))
        return -1;
    if (data_len_check(out->len, ws_rd_remaining(&r), e) != 0)
        return -1;
    out->data = ws_rd_ptr(&r);
    return 0;
}

int ws_tsgu_decode_data_head(const uint8_t *p, size_t len, uint32_t *packet_len, uint16_t *cb, ws_error *e)
{
    ws_tsgu_header h;
    if (len < WS_TSGU_DATA_HEAD_LEN)
        return ws_seterr(e, "DATA: %zu bytes is shorter than its %d-byte head", len, WS_TSGU_DATA_HEAD_LEN);
    if (ws_tsgu_header_decode(p, len, &h, e) != 0)
        return -1;
    if (h.type != WS_TSGU_DATA)
        return ws_seterr(e, "DATA: packet type 0x%04x (%s), expected 0x%04x", h.type, ws_tsgu_type_name(h.type),
                         WS_TSGU_DATA);
    *cb = (uint16_t)(p[8] | p[9] << 8);
    if (h.length < WS_TSGU_DATA_HEAD_LEN)
        return ws_seterr(e, "DATA: packetLength %" PRIu32 " is shorter than its %d-byte head", h.length,
                         WS_TSGU_DATA_HEAD_LEN);
    if (data_len_check(*cb, h.length - WS_TSGU_DATA_HEAD_LEN, e) != 0)
        return -1;
    *packet_len = h.length;
    return 0;
}

void ws_tsgu_encode_data_head(size_t n, uint8_t out[WS_TSGU_DATA_HEAD_LEN])
{
    ws_wr w;
    start(&w, WS_TSGU_DATA, out, WS_TSGU_DATA_HEAD_LEN);
    ws_wr_u16(&w, (uint16_t)n);
    ws_wr_u32_at(&w, 4, (uint32_t)(WS_TSGU_DATA_HEAD_LEN + n)); /* the head and the n bytes after it */
    ws_wr_done(&w);
}

/* data may already sit at out + 10 (wrapped in place). */
size_t ws_tsgu_encode_data(const uint8_t *data, size_t n, uint8_t *out, size_t cap)
{
    ws_wr w;
    if (n > 65535 || (n && !data))
        return 0;
    start(&w, WS_TSGU_DATA, out, cap);
    ws_wr_u16(&w, (uint16_t)n);
    ws_wr_bytes(&w, data, n);
    return end(&w);
}

/* CLOSE_CHANNEL / CLOSE_CHANNEL_RESPONSE: MS-TSGU 2.2.10.7 HTTP_CLOSE_PACKET (u32 statusCode). */
int ws_tsgu_decode_close_channel(const uint8_t *p, size_t len, uint16_t type, ws_tsgu_close_channel *out,
                                 ws_error *e)
{
    ws_rd r;
    if (type != WS_TSGU_CLOSE_CHANNEL && type != WS_TSGU_CLOSE_CHANNEL_RESPONSE)
        return ws_seterr(e, "close packet: type 0x%04x (%s) is neither CLOSE_CHANNEL nor CLOSE_CHANNEL_RESPONSE",
                         type, ws_tsgu_type_name(type));
    if (begin(&r, p, len, type, e) || ws_rd_u32(&r, "statusCode", &out->status_code))
        return -1;
    return finish(&r, 0, 0);
}

size_t ws_tsgu_encode_close_channel(uint16_t type, uint32_t status, uint8_t *out, size_t cap)
{
    ws_wr w;
    if (type != WS_TSGU_CLOSE_CHANNEL && type != WS_TSGU_CLOSE_CHANNEL_RESPONSE)
        return 0;
    start(&w, type, out, cap);
    ws_wr_u32(&w, status);
    return end(&w);
}

/* KEEPALIVE and other header-only packets: MS-TSGU 2.2.10.9 HTTP_PACKET_HEADER alone. */
size_t ws_tsgu_encode_empty(uint16_t type, uint8_t *out, size_t cap)
{
    ws_wr w;
    start(&w, type, out, cap);
    return end(&w);
}
