/* tsgu: see tsgu.h. Every decoder reads through a bounds-checked cursor over exactly
 * the packetLength bytes it was given; encoders write fieldsPresent masked to the
 * optional fields they actually write, so what they produce always decodes. */
#include "wire/tsgu.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const char *ws_tsgu_type_name(uint16_t type)
{
    switch (type) {
    case WS_TSGU_HANDSHAKE_REQUEST: return "HANDSHAKE_REQUEST";
    case WS_TSGU_HANDSHAKE_RESPONSE: return "HANDSHAKE_RESPONSE";
    case WS_TSGU_EXTENDED_AUTH: return "EXTENDED_AUTH";
    case WS_TSGU_TUNNEL_CREATE: return "TUNNEL_CREATE";
    case WS_TSGU_TUNNEL_RESPONSE: return "TUNNEL_RESPONSE";
    case WS_TSGU_TUNNEL_AUTH: return "TUNNEL_AUTH";
    case WS_TSGU_TUNNEL_AUTH_RESPONSE: return "TUNNEL_AUTH_RESPONSE";
    case WS_TSGU_CHANNEL_CREATE: return "CHANNEL_CREATE";
    case WS_TSGU_CHANNEL_RESPONSE: return "CHANNEL_RESPONSE";
    case WS_TSGU_DATA: return "DATA";
    case WS_TSGU_SERVICE_MESSAGE: return "SERVICE_MESSAGE";
    case WS_TSGU_REAUTH_MESSAGE: return "REAUTH_MESSAGE";
    case WS_TSGU_KEEPALIVE: return "KEEPALIVE";
    case WS_TSGU_CLOSE_CHANNEL: return "CLOSE_CHANNEL";
    case WS_TSGU_CLOSE_CHANNEL_RESPONSE: return "CLOSE_CHANNEL_RESPONSE";
    default: return "unknown";
    }
}

/* ---- little-endian helpers and a bounds-checked reader ---- */

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

typedef struct rd {
    const uint8_t *p;
    size_t len, pos;
    const char *pkt; /* packet name for messages */
    ws_error *e;
} rd;

static size_t left(const rd *r)
{
    return r->len - r->pos;
}

/* Requires n more bytes for the named field. */
static int need(rd *r, size_t n, const char *field)
{
    if (left(r) < n)
        return ws_seterr(r->e, "%s: packet ends before %s (%zu bytes needed at offset %zu, %zu left)", r->pkt,
                         field, n, r->pos, left(r));
    return 0;
}

static int rd8(rd *r, const char *field, uint8_t *v)
{
    if (need(r, 1, field))
        return -1;
    *v = r->p[r->pos++];
    return 0;
}

static int rd16(rd *r, const char *field, uint16_t *v)
{
    if (need(r, 2, field))
        return -1;
    *v = get16(r->p + r->pos);
    r->pos += 2;
    return 0;
}

static int rd32(rd *r, const char *field, uint32_t *v)
{
    if (need(r, 4, field))
        return -1;
    *v = get32(r->p + r->pos);
    r->pos += 4;
    return 0;
}

static int skip(rd *r, size_t n, const char *field)
{
    if (need(r, n, field))
        return -1;
    r->pos += n;
    return 0;
}

/* A u16 byte count and that many bytes (HTTP_BYTE_BLOB, MS-TSGU 2.2.10.1), skipped. */
static int skip_blob(rd *r, const char *field)
{
    uint16_t cb;
    if (rd16(r, field, &cb))
        return -1;
    if (cb > left(r))
        return ws_seterr(r->e, "%s: %s of %u bytes exceeds the %zu bytes left", r->pkt, field, cb, left(r));
    r->pos += cb;
    return 0;
}

/* A u16 byte count and UTF-16LE text (HTTP_UNICODE_STRING, MS-TSGU 2.2.10.22): the count
 * must be even and fit; converted into out (cap bytes with the NUL) when out is given. */
static int rd_string(rd *r, const char *field, char *out, size_t cap)
{
    uint16_t cb;
    char what[64];
    snprintf(what, sizeof what, "cb%s", field);
    if (rd16(r, what, &cb))
        return -1;
    if (cb % 2)
        return ws_seterr(r->e, "%s: cb%s %u is odd", r->pkt, field, cb);
    if (cb > left(r))
        return ws_seterr(r->e, "%s: cb%s %u exceeds the %zu bytes left", r->pkt, field, cb, left(r));
    const uint8_t *s = r->p + r->pos;
    r->pos += cb;
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
        return ws_seterr(r->e, "%s: %s is %ld UTF-8 bytes, over the %zu accepted", r->pkt, field, n, cap - 1);
    return ws_seterr(r->e, "%s: %s is not valid UTF-16LE", r->pkt, field);
}

/* After the declared fields: nothing may remain unless fieldsPresent has bits this
 * decoder does not know (unknown optional fields of unknown size). */
static int finish(rd *r, uint16_t fields_present, uint16_t known)
{
    if (left(r) && !known)
        return ws_seterr(r->e, "%s: %zu trailing bytes after the last field", r->pkt, left(r));
    if (left(r) && !(fields_present & ~known))
        return ws_seterr(r->e, "%s: %zu trailing bytes after the declared fields (fieldsPresent 0x%04x)", r->pkt,
                         left(r), fields_present);
    return 0;
}

/* Checks the header of one whole packet and sets up the reader after it. */
static int begin(rd *r, const uint8_t *p, size_t len, uint16_t type, ws_error *e)
{
    r->p = p;
    r->len = len;
    r->pos = WS_TSGU_HEADER_LEN;
    r->pkt = ws_tsgu_type_name(type);
    r->e = e;
    if (!p || len < WS_TSGU_HEADER_LEN)
        return ws_seterr(e, "%s: %zu bytes is shorter than the 8-byte header", r->pkt, p ? len : 0);
    uint16_t t = get16(p);
    uint32_t plen = get32(p + 4);
    if (t != type)
        return ws_seterr(e, "%s: packet type 0x%04x (%s), expected 0x%04x", r->pkt, t, ws_tsgu_type_name(t), type);
    if (plen != len)
        return ws_seterr(e, "%s: packetLength %" PRIu32 " but %zu bytes given", r->pkt, plen, len);
    if (len > WS_TSGU_PACKET_MAX)
        return ws_seterr(e, "%s: packetLength %zu exceeds %d", r->pkt, len, WS_TSGU_PACKET_MAX);
    return 0;
}

int ws_tsgu_header_decode(const uint8_t *buf, size_t len, ws_tsgu_header *h, ws_error *e)
{
    if (!buf || len < WS_TSGU_HEADER_LEN)
        return 1;
    uint16_t type = get16(buf);
    uint32_t plen = get32(buf + 4); /* buf + 2: reserved, ignored */
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

/* ---- encoder helpers ---- */

static void put_header(uint8_t *out, uint16_t type, size_t len)
{
    put16(out, type);
    put16(out + 2, 0);
    put32(out + 4, (uint32_t)len);
}

/* Writes u16 cb + UTF-16LE of s + NUL at out (room bytes available); returns the
 * bytes written, or 0 when invalid, over max_utf8 bytes of UTF-8, or too long. */
static size_t put_string(const char *s, size_t max_utf8, uint8_t *out, size_t room)
{
    if (!s || strlen(s) > max_utf8 || room < 4)
        return 0;
    size_t cap = room - 4; /* cb and NUL */
    if (cap > 65533)
        cap = 65533;
    long n = ws_utf8_to_utf16le(s, out + 2, cap);
    if (n < 0)
        return 0;
    size_t cb = (size_t)n + 2;
    put16(out, (uint16_t)cb);
    put16(out + 2 + n, 0);
    return 2 + cb;
}

/* HANDSHAKE_REQUEST: MS-TSGU 2.2.10.10 HTTP_HANDSHAKE_REQUEST_PACKET, REFERENCE.md section 7. */
int ws_tsgu_decode_handshake_request(const uint8_t *p, size_t len, ws_tsgu_handshake_request *out, ws_error *e)
{
    rd r;
    if (begin(&r, p, len, WS_TSGU_HANDSHAKE_REQUEST, e) || rd8(&r, "verMajor", &out->ver_major) ||
        rd8(&r, "verMinor", &out->ver_minor) || rd16(&r, "clientVersion", &out->client_version) ||
        rd16(&r, "extendedAuth", &out->extended_auth))
        return -1;
    return finish(&r, 0, 0);
}

size_t ws_tsgu_encode_handshake_request(const ws_tsgu_handshake_request *in, uint8_t *out, size_t cap)
{
    const size_t n = 14;
    if (!out || cap < n)
        return 0;
    put_header(out, WS_TSGU_HANDSHAKE_REQUEST, n);
    out[8] = in->ver_major;
    out[9] = in->ver_minor;
    put16(out + 10, in->client_version);
    put16(out + 12, in->extended_auth);
    return n;
}

/* HANDSHAKE_RESPONSE: MS-TSGU 2.2.10.11 HTTP_HANDSHAKE_RESPONSE_PACKET. */
int ws_tsgu_decode_handshake_response(const uint8_t *p, size_t len, ws_tsgu_handshake_response *out, ws_error *e)
{
    rd r;
    if (begin(&r, p, len, WS_TSGU_HANDSHAKE_RESPONSE, e) || rd32(&r, "errorCode", &out->error_code) ||
        rd8(&r, "verMajor", &out->ver_major) || rd8(&r, "verMinor", &out->ver_minor) ||
        rd16(&r, "serverVersion", &out->server_version) || rd16(&r, "extendedAuth", &out->extended_auth))
        return -1;
    return finish(&r, 0, 0);
}

size_t ws_tsgu_encode_handshake_response(const ws_tsgu_handshake_response *in, uint8_t *out, size_t cap)
{
    const size_t n = 18;
    if (!out || cap < n)
        return 0;
    put_header(out, WS_TSGU_HANDSHAKE_RESPONSE, n);
    put32(out + 8, in->error_code);
    out[12] = in->ver_major;
    out[13] = in->ver_minor;
    put16(out + 14, in->server_version);
    put16(out + 16, in->extended_auth);
    return n;
}

/* TUNNEL_CREATE: MS-TSGU 2.2.10.18 HTTP_TUNNEL_PACKET + 2.2.10.19 optional fields
 * ([0x2] u64 reauthTunnelContext, [0x1] u16 cbCookie + PAA cookie). */
int ws_tsgu_decode_tunnel_create(const uint8_t *p, size_t len, ws_tsgu_tunnel_create *out, ws_error *e)
{
    rd r;
    out->cookie[0] = '\0';
    if (begin(&r, p, len, WS_TSGU_TUNNEL_CREATE, e) || rd32(&r, "caps", &out->caps) ||
        rd16(&r, "fieldsPresent", &out->fields_present) || skip(&r, 2, "reserved"))
        return -1;
    if ((out->fields_present & TUNNEL_CREATE_REAUTH) && skip(&r, 8, "reauthTunnelContext"))
        return -1;
    if ((out->fields_present & WS_TSGU_TUNNEL_CREATE_PAA_COOKIE) &&
        rd_string(&r, "Cookie", out->cookie, sizeof out->cookie))
        return -1;
    return finish(&r, out->fields_present, TUNNEL_CREATE_KNOWN);
}

size_t ws_tsgu_encode_tunnel_create(const ws_tsgu_tunnel_create *in, uint8_t *out, size_t cap)
{
    size_t n = 16;
    uint16_t fields = in->fields_present & WS_TSGU_TUNNEL_CREATE_PAA_COOKIE;
    if (!out || cap < n)
        return 0;
    if (fields) {
        size_t room = cap - n;
        if (room > WS_TSGU_PACKET_MAX - n)
            room = WS_TSGU_PACKET_MAX - n;
        size_t w = put_string(in->cookie, WS_TSGU_COOKIE_MAX, out + n, room);
        if (!w)
            return 0;
        n += w;
    }
    put_header(out, WS_TSGU_TUNNEL_CREATE, n);
    put32(out + 8, in->caps);
    put16(out + 12, fields);
    put16(out + 14, 0);
    return n;
}

/* TUNNEL_RESPONSE: MS-TSGU 2.2.10.20 HTTP_TUNNEL_RESPONSE + 2.2.10.21 optional fields
 * ([0x1] tunnelId, [0x2] caps, [0x4] 16-byte nonce + serverCert, [0x10] consent message). */
int ws_tsgu_decode_tunnel_response(const uint8_t *p, size_t len, ws_tsgu_tunnel_response *out, ws_error *e)
{
    rd r;
    out->tunnel_id = 0;
    out->caps = 0;
    if (begin(&r, p, len, WS_TSGU_TUNNEL_RESPONSE, e) || rd16(&r, "serverVersion", &out->server_version) ||
        rd32(&r, "statusCode", &out->status_code) || rd16(&r, "fieldsPresent", &out->fields_present) ||
        skip(&r, 2, "reserved"))
        return -1;
    uint16_t f = out->fields_present;
    if ((f & WS_TSGU_TUNNEL_RESPONSE_TUNNEL_ID) && rd32(&r, "tunnelId", &out->tunnel_id))
        return -1;
    if ((f & WS_TSGU_TUNNEL_RESPONSE_CAPS) && rd32(&r, "caps", &out->caps))
        return -1;
    if ((f & TUNNEL_RESPONSE_SOH_REQ) && (skip(&r, 16, "nonce") || rd_string(&r, "ServerCert", NULL, 0)))
        return -1;
    if ((f & TUNNEL_RESPONSE_CONSENT) && rd_string(&r, "ConsentMsg", NULL, 0))
        return -1;
    return finish(&r, f, TUNNEL_RESPONSE_KNOWN);
}

size_t ws_tsgu_encode_tunnel_response(const ws_tsgu_tunnel_response *in, uint8_t *out, size_t cap)
{
    uint16_t f = in->fields_present & (WS_TSGU_TUNNEL_RESPONSE_TUNNEL_ID | WS_TSGU_TUNNEL_RESPONSE_CAPS);
    size_t n = 18 + (f & WS_TSGU_TUNNEL_RESPONSE_TUNNEL_ID ? 4 : 0) + (f & WS_TSGU_TUNNEL_RESPONSE_CAPS ? 4 : 0);
    if (!out || cap < n)
        return 0;
    put_header(out, WS_TSGU_TUNNEL_RESPONSE, n);
    put16(out + 8, in->server_version);
    put32(out + 10, in->status_code);
    put16(out + 14, f);
    put16(out + 16, 0);
    size_t o = 18;
    if (f & WS_TSGU_TUNNEL_RESPONSE_TUNNEL_ID) {
        put32(out + o, in->tunnel_id);
        o += 4;
    }
    if (f & WS_TSGU_TUNNEL_RESPONSE_CAPS)
        put32(out + o, in->caps);
    return n;
}

/* TUNNEL_AUTH: MS-TSGU 2.2.10.14 HTTP_TUNNEL_AUTH_PACKET + 2.2.10.15 optional fields
 * ([0x1] statement of health, u16 cb + data). */
int ws_tsgu_decode_tunnel_auth(const uint8_t *p, size_t len, ws_tsgu_tunnel_auth *out, ws_error *e)
{
    rd r;
    out->client_name[0] = '\0';
    if (begin(&r, p, len, WS_TSGU_TUNNEL_AUTH, e) || rd16(&r, "fieldsPresent", &out->fields_present) ||
        rd_string(&r, "ClientName", out->client_name, sizeof out->client_name))
        return -1;
    if ((out->fields_present & TUNNEL_AUTH_SOH) && skip_blob(&r, "statementOfHealth"))
        return -1;
    return finish(&r, out->fields_present, TUNNEL_AUTH_KNOWN);
}

size_t ws_tsgu_encode_tunnel_auth(const ws_tsgu_tunnel_auth *in, uint8_t *out, size_t cap)
{
    size_t n = 10;
    if (!out || cap < n)
        return 0;
    size_t w = put_string(in->client_name, WS_TSGU_NAME_MAX, out + n, cap - n);
    if (!w)
        return 0;
    n += w;
    put_header(out, WS_TSGU_TUNNEL_AUTH, n);
    put16(out + 8, 0); /* no statement of health written */
    return n;
}

/* TUNNEL_AUTH_RESPONSE: MS-TSGU 2.2.10.16 HTTP_TUNNEL_AUTH_RESPONSE + 2.2.10.17 optional
 * fields ([0x1] redirFlags u32, [0x2] idleTimeout u32, [0x4] SoH response u16 cb + data). */
int ws_tsgu_decode_tunnel_auth_response(const uint8_t *p, size_t len, ws_tsgu_tunnel_auth_response *out,
                                        ws_error *e)
{
    rd r;
    if (begin(&r, p, len, WS_TSGU_TUNNEL_AUTH_RESPONSE, e) || rd32(&r, "errorCode", &out->error_code) ||
        rd16(&r, "fieldsPresent", &out->fields_present) || skip(&r, 2, "reserved"))
        return -1;
    uint16_t f = out->fields_present;
    if ((f & AUTH_RESPONSE_REDIR_FLAGS) && skip(&r, 4, "redirFlags"))
        return -1;
    if ((f & AUTH_RESPONSE_IDLE_TIMEOUT) && skip(&r, 4, "idleTimeout"))
        return -1;
    if ((f & AUTH_RESPONSE_SOH_RESPONSE) && skip_blob(&r, "SoHResponse"))
        return -1;
    return finish(&r, f, AUTH_RESPONSE_KNOWN);
}

size_t ws_tsgu_encode_tunnel_auth_response(const ws_tsgu_tunnel_auth_response *in, uint8_t *out, size_t cap)
{
    const size_t n = 16;
    if (!out || cap < n)
        return 0;
    put_header(out, WS_TSGU_TUNNEL_AUTH_RESPONSE, n);
    put32(out + 8, in->error_code);
    put16(out + 12, 0); /* no optional fields written */
    put16(out + 14, 0);
    return n;
}

/* CHANNEL_CREATE: MS-TSGU 2.2.10.2 HTTP_CHANNEL_PACKET + 2.2.10.3 variable part
 * (numResources names, then numAlt alternate names, each u16 cb + UTF-16LE). */
int ws_tsgu_decode_channel_create(const uint8_t *p, size_t len, ws_tsgu_channel_create *out, ws_error *e)
{
    rd r;
    out->resource[0] = '\0';
    if (begin(&r, p, len, WS_TSGU_CHANNEL_CREATE, e) || rd8(&r, "numResources", &out->num_resources) ||
        rd8(&r, "numAltResources", &out->num_alt) || rd16(&r, "port", &out->port) ||
        rd16(&r, "protocol", &out->protocol))
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
    size_t n = 14;
    if (!out || cap < n)
        return 0;
    size_t w = put_string(in->resource, WS_TSGU_NAME_MAX, out + n, cap - n);
    if (!w)
        return 0;
    n += w;
    put_header(out, WS_TSGU_CHANNEL_CREATE, n);
    out[8] = 1; /* one resource name, no alternates */
    out[9] = 0;
    put16(out + 10, in->port);
    put16(out + 12, in->protocol);
    return n;
}

/* CHANNEL_RESPONSE: MS-TSGU 2.2.10.4 HTTP_CHANNEL_RESPONSE + 2.2.10.5 optional fields, in
 * that order: [0x1] channelId u32, [0x4] udpPort u16, [0x2] authnCookie u16 cb + data. */
int ws_tsgu_decode_channel_response(const uint8_t *p, size_t len, ws_tsgu_channel_response *out, ws_error *e)
{
    rd r;
    out->channel_id = 0;
    if (begin(&r, p, len, WS_TSGU_CHANNEL_RESPONSE, e) || rd32(&r, "errorCode", &out->error_code) ||
        rd16(&r, "fieldsPresent", &out->fields_present) || skip(&r, 2, "reserved"))
        return -1;
    uint16_t f = out->fields_present;
    if ((f & WS_TSGU_CHANNEL_RESPONSE_CHANNEL_ID) && rd32(&r, "channelId", &out->channel_id))
        return -1;
    if ((f & CHANNEL_RESPONSE_UDP_PORT) && skip(&r, 2, "udpPort"))
        return -1;
    if ((f & CHANNEL_RESPONSE_AUTHN_COOKIE) && skip_blob(&r, "authnCookie"))
        return -1;
    return finish(&r, f, CHANNEL_RESPONSE_KNOWN);
}

size_t ws_tsgu_encode_channel_response(const ws_tsgu_channel_response *in, uint8_t *out, size_t cap)
{
    uint16_t f = in->fields_present & WS_TSGU_CHANNEL_RESPONSE_CHANNEL_ID;
    size_t n = 16 + (f ? 4 : 0);
    if (!out || cap < n)
        return 0;
    put_header(out, WS_TSGU_CHANNEL_RESPONSE, n);
    put32(out + 8, in->error_code);
    put16(out + 12, f);
    put16(out + 14, 0);
    if (f)
        put32(out + 16, in->channel_id);
    return n;
}

/* DATA: MS-TSGU 2.2.10.6 HTTP_DATA_PACKET (u16 cbDataLen, data). */
int ws_tsgu_decode_data(const uint8_t *p, size_t len, ws_tsgu_data *out, ws_error *e)
{
    rd r;
    if (begin(&r, p, len, WS_TSGU_DATA, e) || rd16(&r, "cbDataLen", &out->len))
        return -1;
    if (out->len != left(&r))
        return ws_seterr(e, "DATA: cbDataLen %u but the packet carries %zu bytes of data", out->len, left(&r));
    out->data = p + r.pos;
    return 0;
}

size_t ws_tsgu_encode_data(const uint8_t *data, size_t n, uint8_t *out, size_t cap)
{
    if (!out || n > 65535 || (n && !data) || cap < 10 + n)
        return 0;
    put_header(out, WS_TSGU_DATA, 10 + n);
    put16(out + 8, (uint16_t)n);
    if (n)
        memmove(out + 10, data, n);
    return 10 + n;
}

/* CLOSE_CHANNEL / CLOSE_CHANNEL_RESPONSE: MS-TSGU 2.2.10.7 HTTP_CLOSE_PACKET (u32 statusCode). */
int ws_tsgu_decode_close_channel(const uint8_t *p, size_t len, uint16_t type, ws_tsgu_close_channel *out,
                                 ws_error *e)
{
    rd r;
    if (type != WS_TSGU_CLOSE_CHANNEL && type != WS_TSGU_CLOSE_CHANNEL_RESPONSE)
        return ws_seterr(e, "close packet: type 0x%04x (%s) is neither CLOSE_CHANNEL nor CLOSE_CHANNEL_RESPONSE",
                         type, ws_tsgu_type_name(type));
    if (begin(&r, p, len, type, e) || rd32(&r, "statusCode", &out->status_code))
        return -1;
    return finish(&r, 0, 0);
}

size_t ws_tsgu_encode_close_channel(uint16_t type, uint32_t status, uint8_t *out, size_t cap)
{
    if (!out || cap < 12 || (type != WS_TSGU_CLOSE_CHANNEL && type != WS_TSGU_CLOSE_CHANNEL_RESPONSE))
        return 0;
    put_header(out, type, 12);
    put32(out + 8, status);
    return 12;
}

/* KEEPALIVE and other header-only packets: MS-TSGU 2.2.10.9 HTTP_PACKET_HEADER alone. */
size_t ws_tsgu_encode_empty(uint16_t type, uint8_t *out, size_t cap)
{
    if (!out || cap < WS_TSGU_HEADER_LEN)
        return 0;
    put_header(out, type, WS_TSGU_HEADER_LEN);
    return WS_TSGU_HEADER_LEN;
}
