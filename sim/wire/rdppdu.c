/* SPDX-License-Identifier: Apache-2.0 */
/* rdppdu: see rdppdu.h. PDU layouts from MS-RDPBCGR (sections cited at each PDU), checked against the
 * section 4 examples and against what FreeRDP 2.11 reads and writes (libfreerdp/core info.c, license.c,
 * capabilities.c, activation.c, update.c, fastpath.c, input.c). All fields little-endian except the fast-path
 * length, which is big-endian. */
#include "wire/rdppdu.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/names.h"
#include "base/utf16.h"
#include "wire/planar.h"

/* Reading and writing go through base/bytes: a reader named after the PDU, a writer
 * that refuses past its capacity (the encoder then returns 0). */

static const ws_code_name type2_names[] = {
    WS_CODE_ROW(WS_PDU2_, UPDATE),
    WS_CODE_ROW(WS_PDU2_, CONTROL),
    WS_CODE_ROW(WS_PDU2_, POINTER),
    WS_CODE_ROW(WS_PDU2_, INPUT),
    WS_CODE_ROW(WS_PDU2_, SYNCHRONIZE),
    WS_CODE_ROW(WS_PDU2_, REFRESH_RECT),
    WS_CODE_ROW(WS_PDU2_, PLAY_SOUND),
    WS_CODE_ROW(WS_PDU2_, SUPPRESS_OUTPUT),
    WS_CODE_ROW(WS_PDU2_, SHUTDOWN_REQUEST),
    WS_CODE_ROW(WS_PDU2_, SHUTDOWN_DENIED),
    WS_CODE_ROW(WS_PDU2_, SAVE_SESSION_INFO),
    WS_CODE_ROW(WS_PDU2_, FONTLIST),
    WS_CODE_ROW(WS_PDU2_, FONTMAP),
    WS_CODE_ROW(WS_PDU2_, SET_KEYBOARD_INDICATORS),
    WS_CODE_ROW(WS_PDU2_, BITMAPCACHE_PERSISTENT_LIST),
    WS_CODE_ROW(WS_PDU2_, BITMAPCACHE_ERROR_PDU),
    WS_CODE_ROW(WS_PDU2_, SET_KEYBOARD_IME_STATUS),
    WS_CODE_ROW(WS_PDU2_, OFFSCRCACHE_ERROR_PDU),
    WS_CODE_ROW(WS_PDU2_, SET_ERROR_INFO),
    WS_CODE_ROW(WS_PDU2_, DRAWNINEGRID_ERROR_PDU),
    WS_CODE_ROW(WS_PDU2_, DRAWGDIPLUS_ERROR_PDU),
    WS_CODE_ROW(WS_PDU2_, ARC_STATUS_PDU),
    WS_CODE_ROW(WS_PDU2_, STATUS_INFO_PDU),
    WS_CODE_ROW(WS_PDU2_, MONITOR_LAYOUT_PDU),
    WS_CODE_ROW(WS_PDU2_, FRAME_ACKNOWLEDGE),
};

const char *ws_pdu_type2_name(uint8_t t)
{
    return WS_CODE_NAME(type2_names, t, "unknown");
}

static const ws_code_name errinfo_names[] = {
    WS_CODE_ROW(WS_PDU_ERRINFO_, NONE),
    WS_CODE_ROW(WS_PDU_ERRINFO_, RPC_INITIATED_DISCONNECT),
    WS_CODE_ROW(WS_PDU_ERRINFO_, RPC_INITIATED_LOGOFF),
    WS_CODE_ROW(WS_PDU_ERRINFO_, IDLE_TIMEOUT),
    WS_CODE_ROW(WS_PDU_ERRINFO_, LOGON_TIMEOUT),
    WS_CODE_ROW(WS_PDU_ERRINFO_, DISCONNECTED_BY_OTHERCONNECTION),
    WS_CODE_ROW(WS_PDU_ERRINFO_, OUT_OF_MEMORY),
    WS_CODE_ROW(WS_PDU_ERRINFO_, SERVER_DENIED_CONNECTION),
    WS_CODE_ROW(WS_PDU_ERRINFO_, SERVER_INSUFFICIENT_PRIVILEGES),
    WS_CODE_ROW(WS_PDU_ERRINFO_, SERVER_FRESH_CREDENTIALS_REQUIRED),
    WS_CODE_ROW(WS_PDU_ERRINFO_, RPC_INITIATED_DISCONNECT_BYUSER),
    WS_CODE_ROW(WS_PDU_ERRINFO_, LOGOFF_BY_USER),
    WS_CODE_ROW(WS_PDU_ERRINFO_, CLOSE_STACK_ON_DRIVER_NOT_READY),
    WS_CODE_ROW(WS_PDU_ERRINFO_, SERVER_DWM_CRASH),
    WS_CODE_ROW(WS_PDU_ERRINFO_, CB_CONNECTION_CANCELLED),
    WS_CODE_ROW(WS_PDU_ERRINFO_, BAD_CAPABILITIES),
};

const char *ws_pdu_errinfo_name(uint32_t code)
{
    return WS_CODE_NAME(errinfo_names, code, "unknown");
}

/* ---- Client Info PDU (2.2.1.11.1.1, with the basic security header 2.2.8.1.1.2.1) ---- */

#define CI "Client Info PDU"
#define TIME_ZONE_LEN 172 /* TS_TIME_ZONE_INFORMATION (2.2.1.11.1.1.1.1) */
#define ARC_COOKIE_MAX 28 /* ARC_CS_PRIVATE_PACKET (2.2.4.3) */

/* One string of the info packet: cb bytes without the terminator (INFO_UNICODE: UTF-16LE, even), then the
 * terminator (2 or 1 bytes), into out (UTF-8, NUL-terminated). */
static int ci_string(ws_rd *r, int unicode, uint16_t cb, const char *field, char *out, size_t cap)
{
    const uint8_t *s;
    size_t term = unicode ? 2 : 1;
    if (cb > WS_PDU_INFO_STRING_MAX)
        return ws_seterr(r->e, "%s: %s length %u over %d", CI, field, cb, WS_PDU_INFO_STRING_MAX);
    if (unicode && cb % 2)
        return ws_seterr(r->e, "%s: %s length %u is odd for UTF-16", CI, field, cb);
    if (ws_rd_bytes(r, (size_t)cb + term, field, &s) < 0)
        return -1;
    if (unicode) {
        if (cb == 0) {
            out[0] = '\0';
        } else if (ws_utf16le_to_utf8(s, cb, out, cap) < 0) {
            return ws_seterr(r->e, "%s: %s is not valid UTF-16 or longer than %zu bytes as UTF-8", CI, field,
                             cap - 1);
        }
    } else {
        size_t n = 0;
        for (; n < cb && s[n]; n++) {
            if (n + 1 >= cap)
                return ws_seterr(r->e, "%s: %s longer than %zu bytes", CI, field, cap - 1);
            out[n] = s[n] < 0x80 ? (char)s[n] : '?';
        }
        out[n] = '\0';
    }
    return 0;
}

/* An extended info string: cb bytes including the terminator; informative only, so too long or invalid text
 * leaves it empty, but its length is checked. */
static int ci_ext_string(ws_rd *r, int unicode, const char *field, uint16_t max, char *out, size_t cap)
{
    uint16_t cb;
    const uint8_t *s;
    out[0] = '\0';
    if (ws_rd_u16(r, field, &cb) < 0)
        return -1;
    if (cb > max)
        return ws_seterr(r->e, "%s: %s length %u over %u", CI, field, cb, max);
    if (ws_rd_bytes(r, cb, field, &s) < 0)
        return -1;
    if (unicode) {
        if (cb >= 2 && ws_utf16le_to_utf8(s, cb & ~1u, out, cap) < 0)
            out[0] = '\0';
    } else {
        size_t n = 0;
        for (; n < cb && s[n] && n + 1 < cap; n++)
            out[n] = s[n] < 0x80 ? (char)s[n] : '?';
        out[n] = '\0';
    }
    return 0;
}

int ws_pdu_decode_client_info(const uint8_t *p, size_t len, ws_pdu_client_info *out, ws_error *e)
{
    ws_rd r;
    uint16_t sec_flags, sec_hi, cb[5];
    static const char *const names[5] = {"Domain", "UserName", "Password", "AlternateShell", "WorkingDir"};
    static const char *const cb_names[5] = {"cbDomain", "cbUserName", "cbPassword", "cbAlternateShell",
                                            "cbWorkingDir"};
    ws_rd_init(&r, p, len, CI, e);
    memset(out, 0, sizeof *out);
    if (ws_rd_u16(&r, "security header flags", &sec_flags) < 0 || ws_rd_u16(&r, "security header flagsHi", &sec_hi) < 0)
        return -1;
    if (!(sec_flags & WS_PDU_SEC_INFO_PKT))
        return ws_seterr(e, "%s: security header flags 0x%04x without SEC_INFO_PKT", CI, sec_flags);
    if (sec_flags & WS_PDU_SEC_ENCRYPT)
        return ws_seterr(e, "%s: security header flags 0x%04x ask for encryption, not negotiated", CI, sec_flags);
    if (ws_rd_u32(&r, "CodePage", &out->code_page) < 0 || ws_rd_u32(&r, "flags", &out->flags) < 0)
        return -1;
    for (int i = 0; i < 5; i++) {
        if (ws_rd_u16(&r, cb_names[i], &cb[i]) < 0)
            return -1;
    }
    int uni = (out->flags & WS_PDU_INFO_UNICODE) != 0;
    char *dst[5] = {out->domain, out->user, out->password, out->alternate_shell, out->working_dir};
    for (int i = 0; i < 5; i++) {
        if (ci_string(&r, uni, cb[i], names[i], dst[i], 256) < 0)
            return -1;
    }
    /* TS_EXTENDED_INFO_PACKET (2.2.1.11.1.1.1): optional; each later field is either absent or whole. */
    if (ws_rd_remaining(&r) == 0)
        return 0;
    out->has_extended = 1;
    if (ws_rd_u16(&r, "clientAddressFamily", &out->client_address_family) < 0)
        return -1;
    if (ci_ext_string(&r, uni, "clientAddress", 80, out->client_address, sizeof out->client_address) < 0)
        return -1;
    if (ci_ext_string(&r, uni, "clientDir", 512, out->client_dir, sizeof out->client_dir) < 0)
        return -1;
    if (ws_rd_remaining(&r) == 0)
        return 0;
    if (ws_rd_bytes(&r, TIME_ZONE_LEN, "clientTimeZone", NULL) < 0)
        return -1;
    if (ws_rd_remaining(&r) == 0)
        return 0;
    if (ws_rd_u32(&r, "clientSessionId", &out->client_session_id) < 0)
        return -1;
    out->has_session_id = 1;
    if (ws_rd_remaining(&r) == 0)
        return 0;
    if (ws_rd_u32(&r, "performanceFlags", &out->performance_flags) < 0)
        return -1;
    out->has_performance_flags = 1;
    if (ws_rd_remaining(&r) == 0)
        return 0;
    uint16_t cb_cookie;
    if (ws_rd_u16(&r, "cbAutoReconnectCookie", &cb_cookie) < 0)
        return -1;
    if (cb_cookie > ARC_COOKIE_MAX)
        return ws_seterr(e, "%s: cbAutoReconnectCookie %u over %d", CI, cb_cookie, ARC_COOKIE_MAX);
    if (ws_rd_bytes(&r, cb_cookie, "autoReconnectCookie", NULL) < 0)
        return -1;
    /* reserved1, reserved2, the dynamic DST fields (RDP 8+): ignored. */
    return 0;
}

/* UTF-8 (a field of size bytes, NUL-terminated) to UTF-16LE into buf; returns the byte count (<= max) or -1. */
static long to_utf16(const char *s, size_t size, uint8_t *buf, size_t max)
{
    if (!memchr(s, 0, size))
        return -1;
    if (!*s)
        return 0;
    return ws_utf8_to_utf16le(s, buf, max);
}

size_t ws_pdu_encode_client_info(const ws_pdu_client_info *in, uint8_t *out, size_t cap)
{
    uint8_t strs[5][WS_PDU_INFO_STRING_MAX];
    uint8_t addr[80], dir[512];
    const char *src[5] = {in->domain, in->user, in->password, in->alternate_shell, in->working_dir};
    long cb[5];
    for (int i = 0; i < 5; i++) {
        cb[i] = to_utf16(src[i], 256, strs[i], sizeof strs[i]);
        if (cb[i] < 0)
            return 0;
    }
    long cb_addr = to_utf16(in->client_address, sizeof in->client_address, addr, sizeof addr - 2);
    long cb_dir = to_utf16(in->client_dir, sizeof in->client_dir, dir, sizeof dir - 2);
    if (cb_addr < 0 || cb_dir < 0)
        return 0;
    ws_wr w;
    ws_wr_init(&w, out, cap);
    ws_wr_u16(&w, WS_PDU_SEC_INFO_PKT);
    ws_wr_u16(&w, 0);
    ws_wr_u32(&w, in->code_page);
    ws_wr_u32(&w, in->flags | WS_PDU_INFO_UNICODE);
    for (int i = 0; i < 5; i++)
        ws_wr_u16(&w, (unsigned)cb[i]);
    for (int i = 0; i < 5; i++) {
        ws_wr_bytes(&w, strs[i], (size_t)cb[i]);
        ws_wr_u16(&w, 0);
    }
    ws_wr_u16(&w, in->client_address_family ? in->client_address_family : 0x0002);
    ws_wr_u16(&w, (unsigned)cb_addr + 2);
    ws_wr_bytes(&w, addr, (size_t)cb_addr);
    ws_wr_u16(&w, 0);
    ws_wr_u16(&w, (unsigned)cb_dir + 2);
    ws_wr_bytes(&w, dir, (size_t)cb_dir);
    ws_wr_u16(&w, 0);
    ws_wr_zero(&w, TIME_ZONE_LEN);
    ws_wr_u32(&w, in->client_session_id);
    ws_wr_u32(&w, in->performance_flags);
    ws_wr_u16(&w, 0); /* cbAutoReconnectCookie */
    return ws_wr_done(&w);
}

/* ---- Licensing: License Error PDU "valid client" (2.2.1.12.1.1, MS-RDPELE 2.2.2.7.1) ---- */

#define LIC "License PDU"

const uint8_t ws_pdu_license_valid_client[WS_PDU_LICENSE_VALID_CLIENT_LEN] = {
    0x80, 0x00, 0x00, 0x00, /* basic security header: SEC_LICENSE_PKT */
    0xFF, 0x03, 0x10, 0x00, /* preamble: ERROR_ALERT, PREAMBLE_VERSION_3_0, wMsgSize 16 */
    0x07, 0x00, 0x00, 0x00, /* dwErrorCode STATUS_VALID_CLIENT */
    0x02, 0x00, 0x00, 0x00, /* dwStateTransition ST_NO_TRANSITION */
    0x04, 0x00, 0x00, 0x00, /* bbErrorInfo: BB_ERROR_BLOB, wBlobLen 0 */
};

size_t ws_pdu_encode_license_valid_client(uint8_t *out, size_t cap)
{
    if (cap < WS_PDU_LICENSE_VALID_CLIENT_LEN)
        return 0;
    memcpy(out, ws_pdu_license_valid_client, WS_PDU_LICENSE_VALID_CLIENT_LEN);
    return WS_PDU_LICENSE_VALID_CLIENT_LEN;
}

int ws_pdu_decode_license(const uint8_t *p, size_t len, ws_pdu_license *out, ws_error *e)
{
    ws_rd r;
    uint16_t hi;
    ws_rd_init(&r, p, len, LIC, e);
    memset(out, 0, sizeof *out);
    if (ws_rd_u16(&r, "security header flags", &out->sec_flags) < 0 || ws_rd_u16(&r, "security header flagsHi",
        &hi) < 0)
        return -1;
    if (!(out->sec_flags & WS_PDU_SEC_LICENSE_PKT))
        return ws_seterr(e, "%s: security header flags 0x%04x without SEC_LICENSE_PKT", LIC, out->sec_flags);
    if (out->sec_flags & WS_PDU_SEC_ENCRYPT)
        return ws_seterr(e, "%s: security header flags 0x%04x ask for encryption, not negotiated", LIC,
                         out->sec_flags);
    if (ws_rd_u8(&r, "bMsgType", &out->msg_type) < 0 || ws_rd_u8(&r, "flags", &out->flags) < 0 ||
        ws_rd_u16(&r, "wMsgSize", &out->msg_size) < 0)
        return -1;
    /* wMsgSize is informative (FreeRDP ignores it and some servers count the security header): the message is
     * read within the bytes given and within wMsgSize when that is smaller. */
    if (out->msg_size >= 4 && (size_t)out->msg_size - 4 < ws_rd_remaining(&r))
        r.len = r.off + (out->msg_size - 4u);
    if (out->msg_type != WS_PDU_LICENSE_ERROR_ALERT)
        return 0;
    if (ws_rd_u32(&r, "dwErrorCode", &out->error_code) < 0 ||
        ws_rd_u32(&r, "dwStateTransition", &out->state_transition) < 0 ||
        ws_rd_u16(&r, "wBlobType", &out->blob_type) < 0 || ws_rd_u16(&r, "wBlobLen", &out->blob_len) < 0 ||
        ws_rd_bytes(&r, out->blob_len, "blobData", NULL) < 0)
        return -1;
    out->valid_client = out->error_code == WS_PDU_LICENSE_STATUS_VALID_CLIENT &&
                        out->state_transition == WS_PDU_LICENSE_ST_NO_TRANSITION;
    return 0;
}

/* ---- Share Control / Share Data headers (2.2.8.1.1.1.1, 2.2.8.1.1.1.2) ---- */

int ws_pdu_peek(const uint8_t *p, size_t len, ws_pdu_hdr *out, ws_error *e)
{
    ws_rd r;
    uint16_t type;
    ws_rd_init(&r, p, len, "Share Control Header", e);
    memset(out, 0, sizeof *out);
    if (ws_rd_u16(&r, "totalLength", &out->total_length) < 0)
        return -1;
    if (out->total_length == 0x8000)
        return ws_seterr(e, "Share Control Header: a flow PDU (totalLength 0x8000), not expected");
    if (ws_rd_u16(&r, "pduType", &type) < 0 || ws_rd_u16(&r, "pduSource", &out->pdu_source) < 0)
        return -1;
    out->pdu_type = type & 0x000F;
    out->version = type & 0xFFF0;
    if (out->total_length < WS_PDU_SHARE_CONTROL_LEN)
        return ws_seterr(e, "Share Control Header: totalLength %u shorter than the header", out->total_length);
    if (out->total_length > len)
        return ws_seterr(e, "Share Control Header: totalLength %u past the end (%zu bytes)", out->total_length, len);
    out->body_offset = WS_PDU_SHARE_CONTROL_LEN;
    if (out->pdu_type != WS_PDU_TYPE_DATA)
        return 0;
    r.name = "Share Data Header";
    r.len = out->total_length;
    uint8_t pad;
    if (ws_rd_u32(&r, "shareId", &out->share_id) < 0 || ws_rd_u8(&r, "pad1", &pad) < 0 ||
        ws_rd_u8(&r, "streamId", &out->stream_id) < 0 || ws_rd_u16(&r, "uncompressedLength",
                 &out->uncompressed_length) < 0 ||
        ws_rd_u8(&r, "pduType2", &out->pdu_type2) < 0 || ws_rd_u8(&r, "compressedType", &out->compressed_type) < 0 ||
        ws_rd_u16(&r, "compressedLength", &out->compressed_length) < 0)
        return -1;
    if (out->compressed_type & WS_PDU_PACKET_COMPRESSED)
        return ws_seterr(e, "Share Data Header: %s PDU compressed (compressedType 0x%02x), not negotiated",
                         ws_pdu_type2_name(out->pdu_type2), out->compressed_type);
    out->body_offset = WS_PDU_SHARE_CONTROL_LEN + WS_PDU_SHARE_DATA_LEN;
    return 0;
}

/* Check the headers of a Share Control PDU of the given type (and pduType2 for a data PDU) and set up r over
 * its own fields, up to totalLength. */
static int begin(ws_rd *r, const uint8_t *p, size_t len, ws_pdu_hdr *hdr, uint16_t type, int type2, const char *pdu,
                 ws_error *e)
{
    ws_pdu_hdr h;
    if (ws_pdu_peek(p, len, &h, e) < 0) {
        char inner[sizeof e->msg];
        if (e) {
            memcpy(inner, e->msg, sizeof inner);
            inner[sizeof inner - 1] = '\0';
            ws_seterr(e, "%s: %s", pdu, inner);
        }
        return -1;
    }
    if (hdr)
        *hdr = h;
    if (h.pdu_type != type)
        return ws_seterr(e, "%s: pduType 0x%x, expected 0x%x", pdu, h.pdu_type, type);
    if (type2 >= 0 && h.pdu_type2 != type2)
        return ws_seterr(e, "%s: pduType2 0x%02x (%s), expected 0x%02x", pdu, h.pdu_type2,
                         ws_pdu_type2_name(h.pdu_type2), (unsigned)type2);
    ws_rd_init(r, p, h.total_length, pdu, e);
    r->off = h.body_offset;
    return 0;
}

/* A writer on out (cap bytes) starting with the Share Control Header; totalLength is patched by finish(). */
static void share_control(ws_wr *w, uint8_t *out, size_t cap, uint16_t type, uint16_t source)
{
    ws_wr_init(w, out, cap);
    ws_wr_u16(w, 0);
    ws_wr_u16(w, type | WS_PDU_PROTOCOL_VERSION);
    ws_wr_u16(w, source);
}

static void share_data(ws_wr *w, uint8_t *out, size_t cap, const ws_pdu_share *sh, uint8_t type2)
{
    share_control(w, out, cap, WS_PDU_TYPE_DATA, sh->pdu_source);
    ws_wr_u32(w, sh->share_id);
    ws_wr_u8(w, 0);
    ws_wr_u8(w, WS_PDU_STREAM_LOW);
    ws_wr_u16(w, 0); /* uncompressedLength, patched */
    ws_wr_u8(w, type2);
    ws_wr_u8(w, 0);
    ws_wr_u16(w, 0);
}

static size_t finish(ws_wr *w, int data)
{
    if (w->failed || ws_wr_len(w) > WS_PDU_SLOWPATH_MAX)
        return 0;
    ws_wr_u16_at(w, 0, (unsigned)ws_wr_len(w));
    if (data)
        ws_wr_u16_at(w, 12, (unsigned)(ws_wr_len(w) - WS_PDU_SHARE_CONTROL_LEN - WS_PDU_SHARE_DATA_LEN));
    return ws_wr_len(w);
}

size_t ws_pdu_encode_data(const ws_pdu_share *sh, uint8_t pdu_type2, const uint8_t *body, size_t body_len,
                          uint8_t *out, size_t cap)
{
    ws_wr w;
    if (body_len > WS_PDU_SLOWPATH_MAX)
        return 0;
    share_data(&w, out, cap, sh, pdu_type2);
    ws_wr_bytes(&w, body, body_len);
    return finish(&w, 1);
}

/* ---- Capability sets (2.2.7) ---- */

static void caps_common(ws_pdu_caps *c, uint16_t width, uint16_t height)
{
    memset(c, 0, sizeof *c);
    c->os_major = 1; /* OSMAJORTYPE_WINDOWS */
    c->os_minor = 3; /* OSMINORTYPE_WINDOWS_NT */
    c->protocol_version = 0x0200;
    c->extra_flags = WS_PDU_FASTPATH_OUTPUT_SUPPORTED | WS_PDU_LONG_CREDENTIALS_SUPPORTED |
                     WS_PDU_NO_BITMAP_COMPRESSION_HDR;
    c->refresh_rect_support = 1;
    c->suppress_output_support = 1;
    c->preferred_bpp = 32;
    c->desktop_width = width;
    c->desktop_height = height;
    c->input_flags = WS_PDU_INPUT_FLAG_SCANCODES | WS_PDU_INPUT_FLAG_MOUSEX | WS_PDU_INPUT_FLAG_UNICODE |
                     WS_PDU_INPUT_FLAG_FASTPATH_INPUT | WS_PDU_INPUT_FLAG_FASTPATH_INPUT2;
    c->keyboard_layout = 0x00000409; /* en-US */
    c->keyboard_type = 4;            /* IBM enhanced (101- or 102-key) */
    c->keyboard_function_keys = 12;
    c->color_pointer_flag = 1;
    c->vc_chunk_size = 1600; /* CHANNEL_CHUNK_LENGTH */
    c->font_support_flags = WS_PDU_FONTSUPPORT_FONTLIST;
    c->multifrag_max_request_size = 8u << 20;
}

void ws_pdu_caps_server_default(ws_pdu_caps *c, uint16_t width, uint16_t height)
{
    caps_common(c, width, height);
    c->present = WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_GENERAL) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_BITMAP) |
                 WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_ORDER) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_POINTER) |
                 WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_INPUT) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_VIRTUALCHANNEL) |
                 WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_SHARE) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_FONT) |
                 WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_MULTIFRAGMENTUPDATE);
    c->desktop_resize_flag = 0;
    c->order_flags = WS_PDU_NEGOTIATEORDERSUPPORT | WS_PDU_ZEROBOUNDSDELTASSUPPORT;
    c->color_pointer_cache_size = 25;
    c->pointer_cache_size = 25;
    c->share_node_id = WS_PDU_SERVER_CHANNEL_ID;
}

void ws_pdu_caps_client_default(ws_pdu_caps *c, uint16_t width, uint16_t height)
{
    caps_common(c, width, height);
    c->present = WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_GENERAL) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_BITMAP) |
                 WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_ORDER) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_BITMAPCACHE) |
                 WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_POINTER) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_INPUT) |
                 WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_BRUSH) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_GLYPHCACHE) |
                 WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_OFFSCREENCACHE) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_VIRTUALCHANNEL) |
                 WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_SOUND) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_CONTROL) |
                 WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_ACTIVATION) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_SHARE) |
                 WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_FONT) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_MULTIFRAGMENTUPDATE);
    c->desktop_resize_flag = 1;
    c->order_flags = WS_PDU_NEGOTIATEORDERSUPPORT | WS_PDU_ZEROBOUNDSDELTASSUPPORT | WS_PDU_COLORINDEXSUPPORT;
    c->color_pointer_cache_size = 20;
    c->pointer_cache_size = 21;
}

/* Writes one set (header and body); returns 0 when the type has no encoding here. */
static int write_capset(ws_wr *w, const ws_pdu_caps *c, unsigned type)
{
    size_t start = ws_wr_len(w);
    ws_wr_u16(w, type);
    ws_wr_u16(w, 0); /* lengthCapability, patched */
    switch (type) {
    case WS_PDU_CAPSET_GENERAL: /* 2.2.7.1.1 */
        ws_wr_u16(w, c->os_major);
        ws_wr_u16(w, c->os_minor);
        ws_wr_u16(w, c->protocol_version);
        ws_wr_u16(w, 0); /* pad2octetsA */
        ws_wr_u16(w, 0); /* generalCompressionTypes */
        ws_wr_u16(w, c->extra_flags);
        ws_wr_u16(w, 0); /* updateCapabilityFlag */
        ws_wr_u16(w, 0); /* remoteUnshareFlag */
        ws_wr_u16(w, 0); /* generalCompressionLevel */
        ws_wr_u8(w, c->refresh_rect_support);
        ws_wr_u8(w, c->suppress_output_support);
        break;
    case WS_PDU_CAPSET_BITMAP: /* 2.2.7.1.2 */
        ws_wr_u16(w, c->preferred_bpp);
        ws_wr_u16(w, 1); /* receive1BitPerPixel */
        ws_wr_u16(w, 1); /* receive4BitsPerPixel */
        ws_wr_u16(w, 1); /* receive8BitsPerPixel */
        ws_wr_u16(w, c->desktop_width);
        ws_wr_u16(w, c->desktop_height);
        ws_wr_u16(w, 0); /* pad2octets */
        ws_wr_u16(w, c->desktop_resize_flag);
        ws_wr_u16(w, 1); /* bitmapCompressionFlag */
        ws_wr_u8(w, 0);  /* highColorFlags */
        ws_wr_u8(w, c->drawing_flags);
        ws_wr_u16(w, 1); /* multipleRectangleSupport */
        ws_wr_u16(w, 0); /* pad2octetsB */
        break;
    case WS_PDU_CAPSET_ORDER: /* 2.2.7.1.3 */
        ws_wr_zero(w, 16);   /* terminalDescriptor */
        ws_wr_u32(w, 0);      /* pad4octetsA */
        ws_wr_u16(w, 1);      /* desktopSaveXGranularity */
        ws_wr_u16(w, 20);     /* desktopSaveYGranularity */
        ws_wr_u16(w, 0);      /* pad2octetsA */
        ws_wr_u16(w, 1);      /* maximumOrderLevel */
        ws_wr_u16(w, 0);      /* numberFonts */
        ws_wr_u16(w, c->order_flags);
        ws_wr_bytes(w, c->order_support, 32);
        ws_wr_u16(w, 0);      /* textFlags */
        ws_wr_u16(w, 0);      /* orderSupportExFlags */
        ws_wr_u32(w, 0);      /* pad4octetsB */
        ws_wr_u32(w, 480 * 480); /* desktopSaveSize */
        ws_wr_u16(w, 0);      /* pad2octetsC */
        ws_wr_u16(w, 0);      /* pad2octetsD */
        ws_wr_u16(w, 0);      /* textANSICodePage */
        ws_wr_u16(w, 0);      /* pad2octetsE */
        break;
    case WS_PDU_CAPSET_BITMAPCACHE: /* 2.2.7.1.4.1, revision 1 */
        ws_wr_zero(w, 24);
        ws_wr_u16(w, 200);
        ws_wr_u16(w, 256);
        ws_wr_u16(w, 600);
        ws_wr_u16(w, 1024);
        ws_wr_u16(w, 1000);
        ws_wr_u16(w, 4096);
        break;
    case WS_PDU_CAPSET_CONTROL: /* 2.2.7.2.2 */
        ws_wr_u16(w, 0);
        ws_wr_u16(w, 0);
        ws_wr_u16(w, 2); /* controlInterest CONTROLPRIORITY_NEVER */
        ws_wr_u16(w, 2); /* detachInterest CONTROLPRIORITY_NEVER */
        break;
    case WS_PDU_CAPSET_ACTIVATION: /* 2.2.7.2.3 */
        ws_wr_zero(w, 8);
        break;
    case WS_PDU_CAPSET_POINTER: /* 2.2.7.1.5 */
        ws_wr_u16(w, c->color_pointer_flag);
        ws_wr_u16(w, c->color_pointer_cache_size);
        ws_wr_u16(w, c->pointer_cache_size);
        break;
    case WS_PDU_CAPSET_SHARE: /* 2.2.7.2.4 */
        ws_wr_u16(w, c->share_node_id);
        ws_wr_u16(w, 0);
        break;
    case WS_PDU_CAPSET_COLORCACHE: /* 2.2.7.2.1 */
        ws_wr_u16(w, 6);
        ws_wr_u16(w, 0);
        break;
    case WS_PDU_CAPSET_SOUND: /* 2.2.7.1.11 */
        ws_wr_u16(w, 0x0001); /* SOUND_BEEPS_FLAG */
        ws_wr_u16(w, 0);
        break;
    case WS_PDU_CAPSET_INPUT: /* 2.2.7.1.6 */
        ws_wr_u16(w, c->input_flags);
        ws_wr_u16(w, 0);
        ws_wr_u32(w, c->keyboard_layout);
        ws_wr_u32(w, c->keyboard_type);
        ws_wr_u32(w, c->keyboard_subtype);
        ws_wr_u32(w, c->keyboard_function_keys);
        ws_wr_zero(w, 64); /* imeFileName */
        break;
    case WS_PDU_CAPSET_FONT: /* 2.2.7.2.5 */
        ws_wr_u16(w, c->font_support_flags);
        ws_wr_u16(w, 0);
        break;
    case WS_PDU_CAPSET_BRUSH: /* 2.2.7.1.7 */
        ws_wr_u32(w, 0); /* BRUSH_DEFAULT */
        break;
    case WS_PDU_CAPSET_GLYPHCACHE: { /* 2.2.7.1.8 */
        static const uint16_t cells[10][2] = {{254, 4},   {254, 4},   {254, 8},   {254, 8},   {254, 16},
                                              {254, 32},  {254, 64},  {254, 128}, {254, 256}, {64, 2048}};
        for (int i = 0; i < 10; i++) {
            ws_wr_u16(w, cells[i][0]);
            ws_wr_u16(w, cells[i][1]);
        }
        ws_wr_u32(w, 0x01000100); /* FragCache */
        ws_wr_u16(w, 0);          /* GLYPH_SUPPORT_NONE */
        ws_wr_u16(w, 0);
        break;
    }
    case WS_PDU_CAPSET_OFFSCREENCACHE: /* 2.2.7.1.9 */
        ws_wr_u32(w, 0);
        ws_wr_u16(w, 0);
        ws_wr_u16(w, 0);
        break;
    case WS_PDU_CAPSET_VIRTUALCHANNEL: /* 2.2.7.1.10 */
        ws_wr_u32(w, c->vc_flags);
        ws_wr_u32(w, c->vc_chunk_size);
        break;
    case WS_PDU_CAPSET_MULTIFRAGMENTUPDATE: /* 2.2.7.2.6 */
        ws_wr_u32(w, c->multifrag_max_request_size);
        break;
    case WS_PDU_CAPSET_LARGE_POINTER: /* 2.2.7.2.7 */
        ws_wr_u16(w, c->large_pointer_flags);
        break;
    default:
        return 0; /* not reached: write_capsets passes encodable types only */
    }
    ws_wr_u16_at(w, start + 2, (unsigned)(ws_wr_len(w) - start));
    return 1;
}

/* numberCapabilities, pad2, the sets; returns the count written (lengthCombinedCapabilities is ws_wr_len(w) - at). */
static unsigned write_capsets(ws_wr *w, const ws_pdu_caps *c)
{
    size_t count_at = ws_wr_len(w);
    unsigned n = 0;
    ws_wr_u16(w, 0);
    ws_wr_u16(w, 0);
    static const uint8_t encodable[] = {
        WS_PDU_CAPSET_GENERAL,    WS_PDU_CAPSET_BITMAP,     WS_PDU_CAPSET_ORDER,          WS_PDU_CAPSET_BITMAPCACHE,
        WS_PDU_CAPSET_CONTROL,    WS_PDU_CAPSET_ACTIVATION, WS_PDU_CAPSET_POINTER,        WS_PDU_CAPSET_SHARE,
        WS_PDU_CAPSET_COLORCACHE, WS_PDU_CAPSET_SOUND,      WS_PDU_CAPSET_INPUT,          WS_PDU_CAPSET_FONT,
        WS_PDU_CAPSET_BRUSH,      WS_PDU_CAPSET_GLYPHCACHE, WS_PDU_CAPSET_OFFSCREENCACHE, WS_PDU_CAPSET_VIRTUALCHANNEL,
        WS_PDU_CAPSET_MULTIFRAGMENTUPDATE, WS_PDU_CAPSET_LARGE_POINTER,
    };
    for (size_t i = 0; i < sizeof encodable; i++) {
        if (c->present & WS_PDU_CAPSET_BIT(encodable[i]))
            n += (unsigned)write_capset(w, c, encodable[i]);
    }
    ws_wr_u16_at(w, count_at, n);
    return n;
}

/* The sets read_capset reads, with the length of each one's fixed part (lengthCapability - 4);
 * any other set is skipped. */
static const struct capset_min {
    uint16_t type;
    uint16_t min;
    const char *name;
} capset_mins[] = {
    {WS_PDU_CAPSET_GENERAL, 20, "General"},                   /* 2.2.7.1.1 */
    {WS_PDU_CAPSET_BITMAP, 24, "Bitmap"},                     /* 2.2.7.1.2 */
    {WS_PDU_CAPSET_ORDER, 84, "Order"},                       /* 2.2.7.1.3 */
    {WS_PDU_CAPSET_POINTER, 4, "Pointer"},                    /* 2.2.7.1.5 */
    {WS_PDU_CAPSET_INPUT, 84, "Input"},                       /* 2.2.7.1.6 */
    {WS_PDU_CAPSET_VIRTUALCHANNEL, 4, "VirtualChannel"},      /* 2.2.7.1.10 */
    {WS_PDU_CAPSET_SHARE, 4, "Share"},                        /* 2.2.7.2.3 */
    {WS_PDU_CAPSET_FONT, 0, "Font"},                          /* 2.2.7.2.5 */
    {WS_PDU_CAPSET_MULTIFRAGMENTUPDATE, 4, "MultifragmentUpdate"}, /* 2.2.7.2.6 */
    {WS_PDU_CAPSET_LARGE_POINTER, 2, "LargePointer"},         /* 2.2.7.2.7 */
};

/* Reads one known set's fields from its body b (lengthCapability - 4 bytes), after
 * checking the set's fixed part once; optional trailing fields are read when present. */
static int read_capset(ws_rd *b, ws_pdu_caps *c, uint16_t type, unsigned index)
{
    const struct capset_min *m = capset_mins, *end = capset_mins + sizeof capset_mins / sizeof capset_mins[0];
    while (m < end && m->type != type)
        m++;
    if (m == end)
        return 0; /* skipped */
    size_t n = ws_rd_remaining(b);
    if (n < m->min)
        return ws_seterr(b->e, "%s: %s capability set (set %u) lengthCapability %zu, at least %u", b->name, m->name,
                         index, n + 4, m->min + 4u);
    /* The fixed part is there: the reads below cannot fail. */
    uint8_t u8;
    switch (type) {
    case WS_PDU_CAPSET_GENERAL:
        ws_rd_u16(b, "osMajorType", &c->os_major);
        ws_rd_u16(b, "osMinorType", &c->os_minor);
        ws_rd_u16(b, "protocolVersion", &c->protocol_version);
        ws_rd_skip(b, 4, "pad2octetsA, generalCompressionTypes");
        ws_rd_u16(b, "extraFlags", &c->extra_flags);
        ws_rd_skip(b, 6, "updateCapabilityFlag .. generalCompressionLevel");
        c->refresh_rect_support = ws_rd_u8(b, "refreshRectSupport", &u8) ? 0 : u8;
        c->suppress_output_support = ws_rd_u8(b, "suppressOutputSupport", &u8) ? 0 : u8;
        break;
    case WS_PDU_CAPSET_BITMAP:
        ws_rd_u16(b, "preferredBitsPerPixel", &c->preferred_bpp);
        ws_rd_skip(b, 6, "receive1BitPerPixel .. receive8BitsPerPixel");
        ws_rd_u16(b, "desktopWidth", &c->desktop_width);
        ws_rd_u16(b, "desktopHeight", &c->desktop_height);
        ws_rd_skip(b, 2, "pad2octets");
        ws_rd_u16(b, "desktopResizeFlag", &c->desktop_resize_flag);
        ws_rd_skip(b, 3, "bitmapCompressionFlag, highColorFlags");
        ws_rd_u8(b, "drawingFlags", &c->drawing_flags);
        break;
    case WS_PDU_CAPSET_ORDER:
        ws_rd_skip(b, 30, "terminalDescriptor .. maximumOrderLevel, numberFonts");
        ws_rd_u16(b, "orderFlags", &c->order_flags);
        ws_rd_copy(b, 32, "orderSupport", c->order_support);
        break;
    case WS_PDU_CAPSET_POINTER:
        ws_rd_u16(b, "colorPointerFlag", &c->color_pointer_flag);
        ws_rd_u16(b, "colorPointerCacheSize", &c->color_pointer_cache_size);
        if (ws_rd_u16(b, "pointerCacheSize", &c->pointer_cache_size))
            c->pointer_cache_size = 0;
        break;
    case WS_PDU_CAPSET_INPUT:
        ws_rd_u16(b, "inputFlags", &c->input_flags);
        ws_rd_skip(b, 2, "pad2octetsA");
        ws_rd_u32(b, "keyboardLayout", &c->keyboard_layout);
        ws_rd_u32(b, "keyboardType", &c->keyboard_type);
        ws_rd_u32(b, "keyboardSubType", &c->keyboard_subtype);
        ws_rd_u32(b, "keyboardFunctionKey", &c->keyboard_function_keys);
        break;
    case WS_PDU_CAPSET_VIRTUALCHANNEL:
        ws_rd_u32(b, "flags", &c->vc_flags);
        if (ws_rd_u32(b, "VCChunkSize", &c->vc_chunk_size))
            c->vc_chunk_size = 0;
        break;
    case WS_PDU_CAPSET_SHARE:
        ws_rd_u16(b, "nodeId", &c->share_node_id);
        break;
    case WS_PDU_CAPSET_FONT:
        if (ws_rd_u16(b, "fontSupportFlags", &c->font_support_flags))
            c->font_support_flags = 0;
        break;
    case WS_PDU_CAPSET_MULTIFRAGMENTUPDATE:
        ws_rd_u32(b, "MaxRequestSize", &c->multifrag_max_request_size);
        break;
    case WS_PDU_CAPSET_LARGE_POINTER:
        ws_rd_u16(b, "largePointerSupportFlags", &c->large_pointer_flags);
        break;
    }
    return 0;
}

/* numberCapabilities, pad2 and the sets, all inside the lengthCombinedCapabilities bytes at r. */
static int read_capsets(ws_rd *r, uint16_t combined, ws_pdu_caps *c)
{
    ws_rd s;
    if (ws_rd_sub(r, combined, "capability sets (lengthCombinedCapabilities)", NULL, &s) < 0)
        return -1;
    uint16_t count, pad;
    if (ws_rd_u16(&s, "numberCapabilities", &count) < 0 || ws_rd_u16(&s, "pad2Octets", &pad) < 0)
        return -1;
    if (count > WS_PDU_CAPS_MAX)
        return ws_seterr(r->e, "%s: numberCapabilities %u over %d", r->name, count, WS_PDU_CAPS_MAX);
    c->num_sets = count;
    for (unsigned i = 0; i < count; i++) {
        uint16_t type, clen;
        ws_rd body;
        if (ws_rd_u16(&s, "capabilitySetType", &type) < 0 || ws_rd_u16(&s, "lengthCapability", &clen) < 0)
            return -1;
        if (clen < 4)
            return ws_seterr(r->e, "%s: capability set %u (type %u) lengthCapability %u shorter than its header",
                             r->name, i, type, clen);
        if (clen - 4u > ws_rd_remaining(&s))
            return ws_seterr(r->e,
                             "%s: capability set %u (type %u) lengthCapability %u past lengthCombinedCapabilities "
                             "(%zu bytes left)",
                             r->name, i, type, clen, ws_rd_remaining(&s) + 4);
        ws_rd_sub(&s, clen - 4u, "capability set", NULL, &body);
        if (read_capset(&body, c, type, i) < 0)
            return -1;
        if (type < 32)
            c->present |= WS_PDU_CAPSET_BIT(type);
    }
    return 0;
}

/* lengthSourceDescriptor, lengthCombinedCapabilities, sourceDescriptor (printable ASCII into desc, cap bytes
 * with the NUL) and the capability sets: the common tail of Demand Active and Confirm Active. */
static int read_descriptor_caps(ws_rd *r, char *desc, size_t cap, ws_pdu_caps *c)
{
    uint16_t sd_len, combined;
    const uint8_t *sd;
    if (ws_rd_u16(r, "lengthSourceDescriptor", &sd_len) < 0 || ws_rd_u16(r, "lengthCombinedCapabilities",
                  &combined) < 0 || ws_rd_bytes(r, sd_len, "sourceDescriptor", &sd) < 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < sd_len && sd[i] && o + 1 < cap; i++)
        desc[o++] = (sd[i] >= 0x20 && sd[i] < 0x7F) ? (char)sd[i] : '?';
    desc[o] = '\0';
    return read_capsets(r, combined, c);
}

static void write_descriptor_caps(ws_wr *w, const char *desc, size_t cap, const ws_pdu_caps *c)
{
    size_t sd = strnlen(desc, cap - 1) + 1;
    ws_wr_u16(w, (unsigned)sd);
    size_t combined_at = ws_wr_len(w);
    ws_wr_u16(w, 0);
    ws_wr_bytes(w, desc, sd - 1);
    ws_wr_u8(w, 0);
    size_t sets_at = ws_wr_len(w);
    write_capsets(w, c);
    ws_wr_u16_at(w, combined_at, (unsigned)(ws_wr_len(w) - sets_at));
}

/* Demand Active PDU (2.2.1.13.1.1 TS_DEMAND_ACTIVE_PDU). */
size_t ws_pdu_encode_demand_active(uint16_t pdu_source, const ws_pdu_demand_active *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    share_control(&w, out, cap, WS_PDU_TYPE_DEMANDACTIVE, pdu_source);
    ws_wr_u32(&w, in->share_id);
    write_descriptor_caps(&w, in->source_descriptor, sizeof in->source_descriptor, &in->caps);
    ws_wr_u32(&w, in->session_id);
    return finish(&w, 0);
}

int ws_pdu_decode_demand_active(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_demand_active *out,
                                ws_error *e)
{
    ws_rd r;
    memset(out, 0, sizeof *out);
    if (begin(&r, p, len, hdr, WS_PDU_TYPE_DEMANDACTIVE, -1, "Demand Active PDU", e) < 0)
        return -1;
    if (ws_rd_u32(&r, "shareId", &out->share_id) < 0 ||
        read_descriptor_caps(&r, out->source_descriptor, sizeof out->source_descriptor, &out->caps) < 0)
        return -1;
    if (ws_rd_remaining(&r) >= 4)
        ws_rd_u32(&r, "sessionId", &out->session_id);
    return 0;
}

/* Confirm Active PDU (2.2.1.13.2.1 TS_CONFIRM_ACTIVE_PDU). */
size_t ws_pdu_encode_confirm_active(uint16_t pdu_source, const ws_pdu_confirm_active *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    share_control(&w, out, cap, WS_PDU_TYPE_CONFIRMACTIVE, pdu_source);
    ws_wr_u32(&w, in->share_id);
    ws_wr_u16(&w, in->originator_id);
    write_descriptor_caps(&w, in->source_descriptor, sizeof in->source_descriptor, &in->caps);
    return finish(&w, 0);
}

int ws_pdu_decode_confirm_active(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_confirm_active *out,
                                 ws_error *e)
{
    ws_rd r;
    memset(out, 0, sizeof *out);
    if (begin(&r, p, len, hdr, WS_PDU_TYPE_CONFIRMACTIVE, -1, "Confirm Active PDU", e) < 0)
        return -1;
    if (ws_rd_u32(&r, "shareId", &out->share_id) < 0 || ws_rd_u16(&r, "originatorId", &out->originator_id) < 0)
        return -1;
    return read_descriptor_caps(&r, out->source_descriptor, sizeof out->source_descriptor, &out->caps);
}

/* ---- Finalization and other data PDUs ---- */

/* Synchronize PDU (2.2.1.14.1 TS_SYNCHRONIZE_PDU). */
size_t ws_pdu_encode_synchronize(const ws_pdu_share *sh, const ws_pdu_synchronize *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    share_data(&w, out, cap, sh, WS_PDU2_SYNCHRONIZE);
    ws_wr_u16(&w, in->message_type);
    ws_wr_u16(&w, in->target_user);
    return finish(&w, 1);
}

int ws_pdu_decode_synchronize(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_synchronize *out, ws_error *e)
{
    ws_rd r;
    memset(out, 0, sizeof *out);
    if (begin(&r, p, len, hdr, WS_PDU_TYPE_DATA, WS_PDU2_SYNCHRONIZE, "Synchronize PDU", e) < 0)
        return -1;
    if (ws_rd_u16(&r, "messageType", &out->message_type) < 0 || ws_rd_u16(&r, "targetUser", &out->target_user) < 0)
        return -1;
    if (out->message_type != WS_PDU_SYNCMSGTYPE_SYNC)
        return ws_seterr(e, "Synchronize PDU: messageType %u, expected SYNCMSGTYPE_SYNC (1)", out->message_type);
    return 0;
}

/* Control PDU (2.2.1.15.1 TS_CONTROL_PDU). */
size_t ws_pdu_encode_control(const ws_pdu_share *sh, const ws_pdu_control *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    share_data(&w, out, cap, sh, WS_PDU2_CONTROL);
    ws_wr_u16(&w, in->action);
    ws_wr_u16(&w, in->grant_id);
    ws_wr_u32(&w, in->control_id);
    return finish(&w, 1);
}

int ws_pdu_decode_control(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_control *out, ws_error *e)
{
    ws_rd r;
    memset(out, 0, sizeof *out);
    if (begin(&r, p, len, hdr, WS_PDU_TYPE_DATA, WS_PDU2_CONTROL, "Control PDU", e) < 0)
        return -1;
    if (ws_rd_u16(&r, "action", &out->action) < 0 || ws_rd_u16(&r, "grantId", &out->grant_id) < 0 ||
        ws_rd_u32(&r, "controlId", &out->control_id) < 0)
        return -1;
    if (out->action < WS_PDU_CTRLACTION_REQUEST_CONTROL || out->action > WS_PDU_CTRLACTION_COOPERATE)
        return ws_seterr(e, "Control PDU: unknown action %u", out->action);
    return 0;
}

/* Font List PDU (2.2.1.18.1) and Font Map PDU (2.2.1.22.1): four u16 each. */
static size_t encode_font(const ws_pdu_share *sh, uint8_t type2, const ws_pdu_font *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    share_data(&w, out, cap, sh, type2);
    ws_wr_u16(&w, in->number);
    ws_wr_u16(&w, in->total_number);
    ws_wr_u16(&w, in->flags);
    ws_wr_u16(&w, in->entry_size);
    return finish(&w, 1);
}

static int decode_font(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, uint8_t type2, const char *pdu,
                       ws_pdu_font *out, ws_error *e)
{
    ws_rd r;
    memset(out, 0, sizeof *out);
    if (begin(&r, p, len, hdr, WS_PDU_TYPE_DATA, type2, pdu, e) < 0)
        return -1;
    if (ws_rd_u16(&r, "number", &out->number) < 0 || ws_rd_u16(&r, "totalNumber", &out->total_number) < 0 ||
        ws_rd_u16(&r, "flags", &out->flags) < 0 || ws_rd_u16(&r, "entrySize", &out->entry_size) < 0)
        return -1;
    return 0;
}

size_t ws_pdu_encode_font_list(const ws_pdu_share *sh, const ws_pdu_font *in, uint8_t *out, size_t cap)
{
    return encode_font(sh, WS_PDU2_FONTLIST, in, out, cap);
}

int ws_pdu_decode_font_list(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_font *out, ws_error *e)
{
    return decode_font(p, len, hdr, WS_PDU2_FONTLIST, "Font List PDU", out, e);
}

size_t ws_pdu_encode_font_map(const ws_pdu_share *sh, const ws_pdu_font *in, uint8_t *out, size_t cap)
{
    return encode_font(sh, WS_PDU2_FONTMAP, in, out, cap);
}

int ws_pdu_decode_font_map(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_font *out, ws_error *e)
{
    return decode_font(p, len, hdr, WS_PDU2_FONTMAP, "Font Map PDU", out, e);
}

/* Set Error Info PDU (2.2.5.1.1 TS_SET_ERROR_INFO_PDU). */
size_t ws_pdu_encode_set_error_info(const ws_pdu_share *sh, uint32_t error_info, uint8_t *out, size_t cap)
{
    ws_wr w;
    share_data(&w, out, cap, sh, WS_PDU2_SET_ERROR_INFO);
    ws_wr_u32(&w, error_info);
    return finish(&w, 1);
}

int ws_pdu_decode_set_error_info(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, uint32_t *error_info, ws_error *e)
{
    ws_rd r;
    *error_info = 0;
    if (begin(&r, p, len, hdr, WS_PDU_TYPE_DATA, WS_PDU2_SET_ERROR_INFO, "Set Error Info PDU", e) < 0)
        return -1;
    return ws_rd_u32(&r, "errorInfo", error_info);
}

static int read_rect16(ws_rd *r, const char *field, ws_pdu_rect16 *a)
{
    if (ws_rd_need(r, 8, field) < 0)
        return -1;
    ws_rd_u16(r, field, &a->left);
    ws_rd_u16(r, field, &a->top);
    ws_rd_u16(r, field, &a->right);
    ws_rd_u16(r, field, &a->bottom);
    return 0;
}

static void write_rect16(ws_wr *w, const ws_pdu_rect16 *a)
{
    ws_wr_u16(w, a->left);
    ws_wr_u16(w, a->top);
    ws_wr_u16(w, a->right);
    ws_wr_u16(w, a->bottom);
}

/* Refresh Rect PDU (2.2.11.2.1 TS_REFRESH_RECT_PDU). */
size_t ws_pdu_encode_refresh_rect(const ws_pdu_share *sh, const ws_pdu_refresh_rect *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    share_data(&w, out, cap, sh, WS_PDU2_REFRESH_RECT);
    ws_wr_u8(&w, in->count);
    ws_wr_zero(&w, 3);
    for (unsigned i = 0; i < in->count; i++)
        write_rect16(&w, &in->areas[i]);
    return finish(&w, 1);
}

int ws_pdu_decode_refresh_rect(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_refresh_rect *out,
                               ws_error *e)
{
    ws_rd r;
    memset(out, 0, sizeof *out);
    if (begin(&r, p, len, hdr, WS_PDU_TYPE_DATA, WS_PDU2_REFRESH_RECT, "Refresh Rect PDU", e) < 0)
        return -1;
    if (ws_rd_u8(&r, "numberOfAreas", &out->count) < 0 || ws_rd_bytes(&r, 3, "pad3Octets", NULL) < 0)
        return -1;
    for (unsigned i = 0; i < out->count; i++) {
        if (read_rect16(&r, "areasToRefresh", &out->areas[i]) < 0)
            return -1;
    }
    return 0;
}

/* Suppress Output PDU (2.2.11.3.1 TS_SUPPRESS_OUTPUT_PDU). */
size_t ws_pdu_encode_suppress_output(const ws_pdu_share *sh, const ws_pdu_suppress_output *in, uint8_t *out,
                                     size_t cap)
{
    ws_wr w;
    share_data(&w, out, cap, sh, WS_PDU2_SUPPRESS_OUTPUT);
    ws_wr_u8(&w, in->allow_display_updates);
    ws_wr_zero(&w, 3);
    if (in->allow_display_updates)
        write_rect16(&w, &in->area);
    return finish(&w, 1);
}

int ws_pdu_decode_suppress_output(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_suppress_output *out,
                                  ws_error *e)
{
    ws_rd r;
    memset(out, 0, sizeof *out);
    if (begin(&r, p, len, hdr, WS_PDU_TYPE_DATA, WS_PDU2_SUPPRESS_OUTPUT, "Suppress Output PDU", e) < 0)
        return -1;
    if (ws_rd_u8(&r, "allowDisplayUpdates", &out->allow_display_updates) < 0 ||
        ws_rd_bytes(&r, 3, "pad3Octets", NULL) < 0)
        return -1;
    if (out->allow_display_updates > 1)
        return ws_seterr(e, "Suppress Output PDU: allowDisplayUpdates %u", out->allow_display_updates);
    if (out->allow_display_updates)
        return read_rect16(&r, "desktopRect", &out->area);
    return 0;
}

/* Shutdown Request PDU (2.2.2.1.1) and Shutdown Request Denied PDU (2.2.2.2.1): the Share Data Header only. */
size_t ws_pdu_encode_shutdown_request(const ws_pdu_share *sh, uint8_t *out, size_t cap)
{
    return ws_pdu_encode_data(sh, WS_PDU2_SHUTDOWN_REQUEST, NULL, 0, out, cap);
}

int ws_pdu_decode_shutdown_request(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_error *e)
{
    ws_rd r;
    return begin(&r, p, len, hdr, WS_PDU_TYPE_DATA, WS_PDU2_SHUTDOWN_REQUEST, "Shutdown Request PDU", e);
}

size_t ws_pdu_encode_shutdown_denied(const ws_pdu_share *sh, uint8_t *out, size_t cap)
{
    return ws_pdu_encode_data(sh, WS_PDU2_SHUTDOWN_DENIED, NULL, 0, out, cap);
}

int ws_pdu_decode_shutdown_denied(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_error *e)
{
    ws_rd r;
    return begin(&r, p, len, hdr, WS_PDU_TYPE_DATA, WS_PDU2_SHUTDOWN_DENIED, "Shutdown Request Denied PDU", e);
}

/* ---- Slow-path Input PDU (2.2.8.1.1.3.1 TS_INPUT_PDU_DATA, events 2.2.8.1.1.3.1.1) ---- */

size_t ws_pdu_encode_input(const ws_pdu_share *sh, const ws_pdu_input *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    if (in->count > WS_PDU_INPUT_MAX)
        return 0;
    share_data(&w, out, cap, sh, WS_PDU2_INPUT);
    ws_wr_u16(&w, in->count);
    ws_wr_u16(&w, 0);
    for (unsigned i = 0; i < in->count; i++) {
        const ws_pdu_input_event *ev = &in->events[i];
        ws_wr_u32(&w, ev->event_time);
        ws_wr_u16(&w, ev->type);
        switch (ev->type) {
        case WS_PDU_INPUT_SYNC:
            ws_wr_u16(&w, 0);
            ws_wr_u32(&w, ev->toggle_flags);
            break;
        case WS_PDU_INPUT_SCANCODE:
        case WS_PDU_INPUT_UNICODE:
            ws_wr_u16(&w, ev->flags);
            ws_wr_u16(&w, ev->code);
            ws_wr_u16(&w, 0);
            break;
        case WS_PDU_INPUT_MOUSE:
        case WS_PDU_INPUT_MOUSEX:
            ws_wr_u16(&w, ev->flags);
            ws_wr_u16(&w, ev->x);
            ws_wr_u16(&w, ev->y);
            break;
        default:
            return 0;
        }
    }
    return finish(&w, 1);
}

int ws_pdu_decode_input(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_input *out, ws_error *e)
{
    ws_rd r;
    uint16_t count, pad;
    memset(out, 0, sizeof *out);
    if (begin(&r, p, len, hdr, WS_PDU_TYPE_DATA, WS_PDU2_INPUT, "Input PDU", e) < 0)
        return -1;
    if (ws_rd_u16(&r, "numEvents", &count) < 0 || ws_rd_u16(&r, "pad2Octets", &pad) < 0)
        return -1;
    if (count > WS_PDU_INPUT_MAX)
        return ws_seterr(e, "Input PDU: numEvents %u over %d", count, WS_PDU_INPUT_MAX);
    if ((size_t)count * 12 > ws_rd_remaining(&r))
        return ws_seterr(e, "Input PDU: numEvents %u need %u bytes, %zu left", count, count * 12u, ws_rd_remaining(&r));
    for (unsigned i = 0; i < count; i++) {
        ws_pdu_input_event *ev = &out->events[i];
        uint16_t a, b, c;
        ws_rd_u32(&r, "eventTime", &ev->event_time);
        ws_rd_u16(&r, "messageType", &ev->type);
        ws_rd_u16(&r, "event", &a);
        ws_rd_u16(&r, "event", &b);
        ws_rd_u16(&r, "event", &c);
        switch (ev->type) {
        case WS_PDU_INPUT_SYNC:
            ev->toggle_flags = (uint32_t)b | (uint32_t)c << 16;
            break;
        case WS_PDU_INPUT_SCANCODE:
        case WS_PDU_INPUT_UNICODE:
            ev->flags = a;
            ev->code = b;
            break;
        case WS_PDU_INPUT_MOUSE:
        case WS_PDU_INPUT_MOUSEX:
            ev->flags = a;
            ev->x = b;
            ev->y = c;
            break;
        default:
            return ws_seterr(e, "Input PDU: event %u has unknown messageType 0x%04x", i, ev->type);
        }
    }
    out->count = count;
    return 0;
}

/* ---- Fast-path (2.2.8.1.2 input, 2.2.9.1.2 output) ---- */

#define FP_INPUT_SCANCODE 0
#define FP_INPUT_MOUSE 1
#define FP_INPUT_MOUSEX 2
#define FP_INPUT_SYNC 3
#define FP_INPUT_UNICODE 4
#define FP_KBD_RELEASE 0x01
#define FP_KBD_EXTENDED 0x02
#define FP_KBD_EXTENDED1 0x04

long ws_pdu_fastpath_length(const uint8_t *buf, size_t len)
{
    if (len < 1)
        return 0;
    if ((buf[0] & 0x03) != 0)
        return -1;
    if (len < 2)
        return 0;
    long total;
    long hdr;
    if (buf[1] & 0x80) {
        if (len < 3)
            return 0;
        total = (long)(buf[1] & 0x7F) << 8 | buf[2];
        hdr = 3;
    } else {
        total = buf[1];
        hdr = 2;
    }
    return total < hdr ? -1 : total;
}

/* The header byte and length of a fast-path PDU: r is left over the bytes after them, up to the length. */
static int fastpath_begin(ws_rd *r, const uint8_t *p, size_t len, const char *pdu, uint8_t *header, ws_error *e)
{
    ws_rd_init(r, p, len, pdu, e);
    uint8_t b1;
    if (ws_rd_u8(r, "fpHeader", header) < 0)
        return -1;
    if ((*header & 0x03) != 0)
        return ws_seterr(e, "%s: action %u is not FASTPATH (0)", pdu, *header & 0x03);
    if (*header >> 6)
        return ws_seterr(e, "%s: flags 0x%x ask for encryption or checksums, not negotiated", pdu, *header >> 6);
    if (ws_rd_u8(r, "length", &b1) < 0)
        return -1;
    size_t total = b1;
    if (b1 & 0x80) {
        uint8_t b2;
        if (ws_rd_u8(r, "length", &b2) < 0)
            return -1;
        total = (size_t)(b1 & 0x7F) << 8 | b2;
    }
    if (total < r->off)
        return ws_seterr(e, "%s: length %zu shorter than its header", pdu, total);
    if (total > len)
        return ws_seterr(e, "%s: length %zu past the end (%zu bytes)", pdu, total, len);
    r->len = total;
    return 0;
}

int ws_pdu_decode_fastpath_input(const uint8_t *p, size_t len, ws_pdu_input *out, ws_error *e)
{
    ws_rd r;
    uint8_t header;
    const char *pdu = "Fast-path Input PDU";
    memset(out, 0, sizeof *out);
    if (fastpath_begin(&r, p, len, pdu, &header, e) < 0)
        return -1;
    unsigned count = (header >> 2) & 0x0F;
    if (count == 0) {
        uint8_t n;
        if (ws_rd_u8(&r, "numEvents", &n) < 0)
            return -1;
        count = n;
    }
    if (count > WS_PDU_INPUT_MAX)
        return ws_seterr(e, "%s: numEvents %u over %d", pdu, count, WS_PDU_INPUT_MAX);
    for (unsigned i = 0; i < count; i++) {
        ws_pdu_input_event *ev = &out->events[i];
        uint8_t eh, key;
        if (ws_rd_u8(&r, "eventHeader", &eh) < 0)
            return -1;
        unsigned flags = eh & 0x1F, code = eh >> 5;
        switch (code) {
        case FP_INPUT_SCANCODE:
            if (ws_rd_u8(&r, "keyCode", &key) < 0)
                return -1;
            ev->type = WS_PDU_INPUT_SCANCODE;
            ev->code = key;
            ev->flags = (uint16_t)(((flags & FP_KBD_RELEASE) ? WS_PDU_KBDFLAGS_RELEASE : 0) |
                                   ((flags & FP_KBD_EXTENDED) ? WS_PDU_KBDFLAGS_EXTENDED : 0) |
                                   ((flags & FP_KBD_EXTENDED1) ? WS_PDU_KBDFLAGS_EXTENDED1 : 0));
            break;
        case FP_INPUT_MOUSE:
        case FP_INPUT_MOUSEX:
            if (ws_rd_u16(&r, "pointerFlags", &ev->flags) < 0 || ws_rd_u16(&r, "xPos", &ev->x) < 0 ||
                ws_rd_u16(&r, "yPos", &ev->y) < 0)
                return -1;
            ev->type = code == FP_INPUT_MOUSE ? WS_PDU_INPUT_MOUSE : WS_PDU_INPUT_MOUSEX;
            break;
        case FP_INPUT_SYNC:
            ev->type = WS_PDU_INPUT_SYNC;
            ev->toggle_flags = flags;
            break;
        case FP_INPUT_UNICODE:
            if (ws_rd_u16(&r, "unicodeCode", &ev->code) < 0)
                return -1;
            ev->type = WS_PDU_INPUT_UNICODE;
            ev->flags = (flags & FP_KBD_RELEASE) ? WS_PDU_KBDFLAGS_RELEASE : 0;
            break;
        default:
            return ws_seterr(e, "%s: event %u has unsupported eventCode %u", pdu, i, code);
        }
    }
    if (ws_rd_remaining(&r))
        return ws_seterr(e, "%s: %zu bytes after the %u events", pdu, ws_rd_remaining(&r), count);
    out->count = (uint16_t)count;
    return 0;
}

/* Writes the header byte and a length that covers body_len more bytes; 0 when it cannot. */
static int fastpath_header(ws_wr *w, unsigned header, size_t body_len)
{
    size_t total = 2 + body_len;
    if (total > 0x7F)
        total = 3 + body_len;
    if (total > WS_PDU_FASTPATH_MAX)
        return 0;
    ws_wr_u8(w, header);
    if (total <= 0x7F) {
        ws_wr_u8(w, (unsigned)total);
    } else {
        ws_wr_u8(w, 0x80 | (unsigned)(total >> 8));
        ws_wr_u8(w, (unsigned)(total & 0xFF));
    }
    return 1;
}

static size_t fp_event_size(const ws_pdu_input_event *ev)
{
    switch (ev->type) {
    case WS_PDU_INPUT_SCANCODE:
        return ev->code > 0xFF ? 0 : 2;
    case WS_PDU_INPUT_MOUSE:
    case WS_PDU_INPUT_MOUSEX:
        return 7;
    case WS_PDU_INPUT_SYNC:
        return 1;
    case WS_PDU_INPUT_UNICODE:
        return 3;
    default:
        return 0;
    }
}

size_t ws_pdu_encode_fastpath_input(const ws_pdu_input *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    size_t body = 0;
    if (in->count > WS_PDU_INPUT_MAX)
        return 0;
    for (unsigned i = 0; i < in->count; i++) {
        size_t n = fp_event_size(&in->events[i]);
        if (n == 0)
            return 0;
        body += n;
    }
    int extra = in->count == 0 || in->count > 15;
    ws_wr_init(&w, out, cap);
    if (!fastpath_header(&w, extra ? 0 : (unsigned)in->count << 2, body + (extra ? 1 : 0)))
        return 0;
    if (extra)
        ws_wr_u8(&w, in->count);
    for (unsigned i = 0; i < in->count; i++) {
        const ws_pdu_input_event *ev = &in->events[i];
        unsigned f = 0;
        switch (ev->type) {
        case WS_PDU_INPUT_SCANCODE:
            f = ((ev->flags & WS_PDU_KBDFLAGS_RELEASE) ? FP_KBD_RELEASE : 0) |
                ((ev->flags & WS_PDU_KBDFLAGS_EXTENDED) ? FP_KBD_EXTENDED : 0) |
                ((ev->flags & WS_PDU_KBDFLAGS_EXTENDED1) ? FP_KBD_EXTENDED1 : 0);
            ws_wr_u8(&w, FP_INPUT_SCANCODE << 5 | f);
            ws_wr_u8(&w, ev->code);
            break;
        case WS_PDU_INPUT_MOUSE:
        case WS_PDU_INPUT_MOUSEX:
            ws_wr_u8(&w, (ev->type == WS_PDU_INPUT_MOUSE ? FP_INPUT_MOUSE : FP_INPUT_MOUSEX) << 5);
            ws_wr_u16(&w, ev->flags);
            ws_wr_u16(&w, ev->x);
            ws_wr_u16(&w, ev->y);
            break;
        case WS_PDU_INPUT_SYNC:
            ws_wr_u8(&w, FP_INPUT_SYNC << 5 | (ev->toggle_flags & 0x1F));
            break;
        case WS_PDU_INPUT_UNICODE:
            ws_wr_u8(&w, FP_INPUT_UNICODE << 5 | ((ev->flags & WS_PDU_KBDFLAGS_RELEASE) ? FP_KBD_RELEASE : 0));
            ws_wr_u16(&w, ev->code);
            break;
        }
    }
    return ws_wr_done(&w);
}

/* ---- Bitmap updates: TS_UPDATE_BITMAP_DATA (2.2.9.1.1.3.1.2) with TS_BITMAP_DATA (2.2.9.1.1.3.1.2.2) ---- */

/* A compressed rectangle carries TS_CD_HEADER (2.2.9.1.1.3.1.2.3, 8 bytes) before its stream unless flags has
 * NO_BITMAP_COMPRESSION_HDR (sent only to a client whose General capability set announced it). */
static size_t cd_header_size(const ws_pdu_bitmap_rect *b)
{
    return (b->flags & WS_PDU_BITMAP_COMPRESSION) && !(b->flags & WS_PDU_NO_BITMAP_COMPRESSION_HDR) ? 8 : 0;
}

static int rect_ok(const ws_pdu_bitmap_rect *b)
{
    int compressed = (b->flags & WS_PDU_BITMAP_COMPRESSION) != 0;
    if (compressed ? (b->flags & ~(WS_PDU_BITMAP_COMPRESSION | WS_PDU_NO_BITMAP_COMPRESSION_HDR)) != 0
                   : b->flags != 0 || (uint32_t)b->width * b->height * 4 != b->length)
        return 0;
    return b->bpp == 32 && b->width >= 1 && b->width <= WS_PDU_BITMAP_DIM_MAX && b->height >= 1 &&
           b->height <= WS_PDU_BITMAP_DIM_MAX && b->length >= 1 && b->length + cd_header_size(b) <= 0xFFFF &&
           b->data && b->right >= b->left && b->bottom >= b->top && b->right - b->left < b->width &&
           b->bottom - b->top < b->height;
}

static size_t bitmap_update_size(const ws_pdu_bitmap_update *in)
{
    size_t n = 4;
    for (unsigned i = 0; i < in->count; i++)
        n += 18 + cd_header_size(&in->rects[i]) + (size_t)in->rects[i].length;
    return n;
}

static int write_bitmap_update(ws_wr *w, const ws_pdu_bitmap_update *in)
{
    if (in->count > WS_PDU_RECTS_MAX)
        return 0;
    for (unsigned i = 0; i < in->count; i++) {
        if (!rect_ok(&in->rects[i]))
            return 0;
    }
    ws_wr_u16(w, WS_PDU_UPDATETYPE_BITMAP);
    ws_wr_u16(w, in->count);
    for (unsigned i = 0; i < in->count; i++) {
        const ws_pdu_bitmap_rect *b = &in->rects[i];
        size_t hdr = cd_header_size(b);
        ws_wr_u16(w, b->left);
        ws_wr_u16(w, b->top);
        ws_wr_u16(w, b->right);
        ws_wr_u16(w, b->bottom);
        ws_wr_u16(w, b->width);
        ws_wr_u16(w, b->height);
        ws_wr_u16(w, b->bpp);
        ws_wr_u16(w, b->flags);
        ws_wr_u16(w, (unsigned)(b->length + hdr)); /* bitmapLength: the header too */
        if (hdr) {
            ws_wr_u16(w, 0);                                      /* cbCompFirstRowSize: MUST be 0 */
            ws_wr_u16(w, b->length);                              /* cbCompMainBodySize */
            ws_wr_u16(w, (unsigned)(b->width * 4));               /* cbScanWidth */
            ws_wr_u16(w, (unsigned)((uint32_t)b->width * b->height * 4 & 0xFFFF)); /* cbUncompressedSize */
        }
        ws_wr_bytes(w, b->data, b->length);
    }
    return 1;
}

/* The bitmapDataStream of rectangle i (b's header fields read): its TS_CD_HEADER when compressed without
 * NO_BITMAP_COMPRESSION_HDR, then data and length set to the stream itself. */
static int read_bitmap_data(ws_rd *r, unsigned i, ws_pdu_bitmap_rect *b)
{
    if (!(b->flags & WS_PDU_BITMAP_COMPRESSION)) {
        if ((uint32_t)b->width * b->height * 4 != b->length)
            return ws_seterr(r->e, "%s: rectangle %u bitmapLength %u, expected %ux%ux4 = %u", r->name, i, b->length,
                             b->width, b->height, (unsigned)((uint32_t)b->width * b->height * 4));
        return ws_rd_bytes(r, b->length, "bitmapDataStream", &b->data);
    }
    if (cd_header_size(b)) {
        uint16_t first_row, body, scan, uncompressed;
        if (b->length < 8)
            return ws_seterr(r->e, "%s: rectangle %u bitmapLength %u cannot hold its TS_CD_HEADER (8 bytes)", r->name,
                             i, b->length);
        if (ws_rd_u16(r, "cbCompFirstRowSize", &first_row) < 0 || ws_rd_u16(r, "cbCompMainBodySize", &body) < 0 ||
            ws_rd_u16(r, "cbScanWidth", &scan) < 0 || ws_rd_u16(r, "cbUncompressedSize", &uncompressed) < 0)
            return -1;
        if (body != b->length - 8)
            return ws_seterr(r->e, "%s: rectangle %u cbCompMainBodySize %u, bitmapLength %u leaves %u", r->name, i,
                             body, b->length, b->length - 8u);
        b->length = body;
    }
    if (b->length == 0)
        return ws_seterr(r->e, "%s: rectangle %u is compressed and empty", r->name, i);
    return ws_rd_bytes(r, b->length, "bitmapDataStream", &b->data);
}

/* updateType, numberRectangles and the rectangles, appended to out->rects. */
static int read_bitmap_update(ws_rd *r, ws_pdu_bitmap_update *out)
{
    uint16_t type, count;
    if (ws_rd_u16(r, "updateType", &type) < 0)
        return -1;
    if (type != WS_PDU_UPDATETYPE_BITMAP)
        return ws_seterr(r->e, "%s: updateType 0x%04x is not BITMAP", r->name, type);
    if (ws_rd_u16(r, "numberRectangles", &count) < 0)
        return -1;
    if (count > WS_PDU_RECTS_MAX - out->count)
        return ws_seterr(r->e, "%s: numberRectangles %u over %d in all", r->name, count, WS_PDU_RECTS_MAX);
    for (unsigned i = 0; i < count; i++) {
        ws_pdu_bitmap_rect *b = &out->rects[out->count];
        if (ws_rd_need(r, 18, "TS_BITMAP_DATA") < 0)
            return -1;
        ws_rd_u16(r, "destLeft", &b->left);
        ws_rd_u16(r, "destTop", &b->top);
        ws_rd_u16(r, "destRight", &b->right);
        ws_rd_u16(r, "destBottom", &b->bottom);
        ws_rd_u16(r, "width", &b->width);
        ws_rd_u16(r, "height", &b->height);
        ws_rd_u16(r, "bitsPerPixel", &b->bpp);
        ws_rd_u16(r, "flags", &b->flags);
        ws_rd_u16(r, "bitmapLength", &b->length);
        if (b->bpp != 32)
            return ws_seterr(r->e, "%s: rectangle %u bitsPerPixel %u, only 32 supported", r->name, i, b->bpp);
        if (b->width == 0 || b->height == 0 || b->width > WS_PDU_BITMAP_DIM_MAX || b->height > WS_PDU_BITMAP_DIM_MAX)
            return ws_seterr(r->e, "%s: rectangle %u size %ux%u outside 1..%d", r->name, i, b->width, b->height,
                             WS_PDU_BITMAP_DIM_MAX);
        if (b->right < b->left || b->bottom < b->top || b->right - b->left >= b->width ||
            b->bottom - b->top >= b->height)
            return ws_seterr(r->e, "%s: rectangle %u destination (%u,%u)-(%u,%u) does not fit its %ux%u bitmap",
                             r->name, i, b->left, b->top, b->right, b->bottom, b->width, b->height);
        if (read_bitmap_data(r, i, b) < 0)
            return -1;
        out->count++;
    }
    return 0;
}

/* Slow-path Update PDU (2.2.9.1.1.3.1.2.1 TS_UPDATE_BITMAP). */
size_t ws_pdu_encode_update_bitmap(const ws_pdu_share *sh, const ws_pdu_bitmap_update *in, uint8_t *out,
                                   size_t cap)
{
    ws_wr w;
    if (in->count > WS_PDU_RECTS_MAX || bitmap_update_size(in) > WS_PDU_SLOWPATH_MAX)
        return 0;
    share_data(&w, out, cap, sh, WS_PDU2_UPDATE);
    if (!write_bitmap_update(&w, in))
        return 0;
    return finish(&w, 1);
}

int ws_pdu_decode_update_bitmap(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_bitmap_update *out,
                                ws_error *e)
{
    ws_rd r;
    out->count = 0;
    out->other_updates = 0;
    if (begin(&r, p, len, hdr, WS_PDU_TYPE_DATA, WS_PDU2_UPDATE, "Update PDU", e) < 0)
        return -1;
    return read_bitmap_update(&r, out);
}

/* Fast-path Update PDU (2.2.9.1.2 TS_FP_UPDATE_PDU) with TS_FP_UPDATE (2.2.9.1.2.1) of type BITMAP
 * (2.2.9.1.2.1.2 TS_FP_UPDATE_BITMAP). Only FASTPATH_FRAGMENT_SINGLE: a frame larger than one PDU must be sent as
 * several updates, each under WS_PDU_FASTPATH_MAX (and the client's MultifragmentUpdate MaxRequestSize). */
size_t ws_pdu_encode_fastpath_bitmap(const ws_pdu_bitmap_update *in, uint8_t *out, size_t cap)
{
    ws_wr w;
    if (in->count > WS_PDU_RECTS_MAX)
        return 0;
    size_t data = bitmap_update_size(in);
    if (data > 0xFFFF)
        return 0;
    ws_wr_init(&w, out, cap);
    if (!fastpath_header(&w, 0, 3 + data))
        return 0;
    ws_wr_u8(&w, WS_PDU_FASTPATH_UPDATETYPE_BITMAP); /* updateCode BITMAP, FASTPATH_FRAGMENT_SINGLE, no compression */
    ws_wr_u16(&w, (unsigned)data);
    if (!write_bitmap_update(&w, in))
        return 0;
    return ws_wr_done(&w);
}

int ws_pdu_decode_fastpath_update(const uint8_t *p, size_t len, ws_pdu_bitmap_update *out, ws_error *e)
{
    ws_rd r;
    uint8_t header;
    const char *pdu = "Fast-path Update PDU";
    out->count = 0;
    out->other_updates = 0;
    if (fastpath_begin(&r, p, len, pdu, &header, e) < 0)
        return -1;
    while (ws_rd_remaining(&r)) {
        uint8_t uh;
        uint16_t size;
        const uint8_t *data;
        if (ws_rd_u8(&r, "updateHeader", &uh) < 0)
            return -1;
        unsigned code = uh & 0x0F, frag = (uh >> 4) & 0x03, compression = uh >> 6;
        if (compression)
            return ws_seterr(e, "%s: update code %u is compressed (updateHeader 0x%02x), not negotiated", pdu, code,
                             uh);
        if (ws_rd_u16(&r, "size", &size) < 0 || ws_rd_bytes(&r, size, "updateData", &data) < 0)
            return -1;
        if (code != WS_PDU_FASTPATH_UPDATETYPE_BITMAP) {
            out->other_updates++;
            continue;
        }
        if (frag)
            return ws_seterr(e, "%s: bitmap update fragmented (fragmentation %u), not supported", pdu, frag);
        ws_rd u;
        ws_rd_init(&u, data, size, pdu, e);
        if (read_bitmap_update(&u, out) < 0)
            return -1;
    }
    return 0;
}

void ws_pdu_bitmap_rows(const uint8_t *frame, size_t stride, unsigned x, unsigned y, unsigned w, unsigned h,
                        uint8_t *out)
{
    for (unsigned i = 0; i < h; i++)
        memcpy(out + (size_t)i * w * 4, frame + (size_t)(y + h - 1 - i) * stride + (size_t)x * 4, (size_t)w * 4);
}

/* The rows of bits (r's width x height, bottom-up) into the frame at r's destination, clipped. */
static void blit_rows(const ws_pdu_bitmap_rect *r, const uint8_t *bits, uint8_t *frame, size_t stride, unsigned fw,
                      unsigned fh)
{
    if (r->right < r->left || r->bottom < r->top)
        return;
    unsigned cols = (unsigned)(r->right - r->left) + 1, rows = (unsigned)(r->bottom - r->top) + 1;
    if (cols > r->width)
        cols = r->width;
    if (rows > r->height)
        rows = r->height;
    if (r->left >= fw || r->top >= fh)
        return;
    if (cols > fw - r->left)
        cols = fw - r->left;
    if (rows > fh - r->top)
        rows = fh - r->top;
    for (unsigned i = 0; i < rows; i++) {
        const uint8_t *src = bits + (size_t)(r->height - 1 - i) * r->width * 4;
        memcpy(frame + (size_t)(r->top + i) * stride + (size_t)r->left * 4, src, (size_t)cols * 4);
    }
}

void ws_pdu_bitmap_blit(const ws_pdu_bitmap_rect *r, uint8_t *frame, size_t stride, unsigned fw, unsigned fh)
{
    if (!r->data || (r->flags & WS_PDU_BITMAP_COMPRESSION) || (size_t)r->width * r->height * 4 > r->length)
        return;
    blit_rows(r, r->data, frame, stride, fw, fh);
}

int ws_pdu_bitmap_draw(const ws_pdu_bitmap_rect *r, uint8_t *frame, size_t stride, unsigned fw, unsigned fh,
                       ws_error *e)
{
    if (!(r->flags & WS_PDU_BITMAP_COMPRESSION)) {
        ws_pdu_bitmap_blit(r, frame, stride, fw, fh);
        return 0;
    }
    size_t n = (size_t)r->width * r->height * 4;
    if (n > WS_PDU_BITMAP_DECODED_MAX)
        return ws_seterr(e, "a compressed bitmap of %ux%u (over %d bytes decoded)", r->width, r->height,
                         WS_PDU_BITMAP_DECODED_MAX);
    uint8_t *bits = malloc(n);
    if (!bits)
        return ws_seterr(e, "out of memory for a bitmap of %ux%u", r->width, r->height);
    /* 32 bpp compressed is Planar, as FreeRDP's gdi_Bitmap_Decompress reads it (below 32: Interleaved). */
    int rc = ws_planar_decode(r->data, r->length, r->width, r->height, bits, n, e);
    if (rc == 0)
        blit_rows(r, bits, frame, stride, fw, fh);
    free(bits);
    return rc;
}
