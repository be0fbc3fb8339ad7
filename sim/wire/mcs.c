/* SPDX-License-Identifier: Apache-2.0 */
/* mcs: see mcs.h. Layouts from MS-RDPBCGR 2.2.1.3-2.2.1.10 and 2.2.8.1.1.1.1, T.125
 * (MCS: BER for the Connect PDUs, ALIGNED PER for the Domain PDUs) and T.124 (GCC: PER),
 * written the way FreeRDP 2.11 writes them (libfreerdp/core/mcs.c, gcc.c, tpdu.c) so
 * that wapsim's client looks like xfreerdp to wapsim's host. Every read is bounded by
 * the range it belongs to (a TLV's content, a block's length); nothing is allocated. */
#include "wire/mcs.h"

#include <stdio.h>
#include <string.h>

#include "wire/rdpneg.h"
#include "base/bytes.h"
#include "base/names.h"
#include "base/utf16.h"

#define X224_DATA_LI 2
#define X224_DATA_CODE 0xF0
#define X224_DATA_EOT 0x80

#define BER_TAG_BOOLEAN 0x01
#define BER_TAG_INTEGER 0x02
#define BER_TAG_OCTET_STRING 0x04
#define BER_TAG_ENUMERATED 0x0A
#define BER_TAG_SEQUENCE 0x30
#define BER_APPLICATION 0x7F
#define MCS_CONNECT_INITIAL 101
#define MCS_CONNECT_RESPONSE 102

#define GCC_CREATE_REQUEST_CHOICE 0x00
#define GCC_CREATE_RESPONSE_CHOICE 0x14
#define GCC_REQUEST_SELECTION 0x08   /* userData present, nothing else optional */
#define GCC_USERDATA_CHOICE 0xC0     /* value present + h221NonStandard */
#define GCC_RESPONSE_CONNECT_PDU_LEN 0x2A /* what Windows and FreeRDP write; ignored on reading */
#define GCC_RESULT_COUNT 16

#define UD_HEADER 4
#define CS_SECURITY_LEN 12
#define CS_NET_MIN 8
#define CS_CLUSTER_LEN 12
#define CS_FLAGS_BLOCK_LEN 8         /* CS_MCS_MSGCHANNEL, CS_MULTITRANSPORT */
#define SC_CORE_MIN 8
#define SC_SECURITY_MIN 12
#define SC_SECURITY_WITH_KEYS 20
#define SC_NET_MIN 8

static const uint8_t t124_oid[6] = {0x05, 0x00, 0x14, 0x7C, 0x00, 0x01}; /* length 5, 0.0.20.124.0.1 */
static const uint8_t h221_cs_key[4] = {'D', 'u', 'c', 'a'};
static const uint8_t h221_sc_key[4] = {'M', 'c', 'D', 'n'};

/* Every read goes through base/bytes' bounded reader: a range of the PDU with its
 * offset in the whole PDU, so messages give offsets from the PDU's first byte. */

/* A byte that must have one value. */
static int rd_expect(ws_rd *r, const char *field, uint8_t want)
{
    uint8_t v;
    if (ws_rd_u8(r, field, &v))
        return -1;
    if (v != want)
        return ws_seterr(r->e, "%s: %s 0x%02X at offset %zu (expected 0x%02X)", r->name, field, v,
                         ws_rd_offset(r) - 1, want);
    return 0;
}

static int rd_expect_bytes(ws_rd *r, const char *field, const uint8_t *want, size_t n)
{
    if (ws_rd_need(r, n, field))
        return -1;
    if (memcmp(ws_rd_ptr(r), want, n) != 0)
        return ws_seterr(r->e, "%s: unexpected %s at offset %zu", r->name, field, ws_rd_offset(r));
    return ws_rd_skip(r, n, field);
}

/* ---- BER (X.690 definite lengths only; T.125 Connect PDUs) --------------------------- */

static int ber_len(ws_rd *r, const char *field, size_t *n)
{
    uint8_t b;
    if (ws_rd_u8(r, field, &b))
        return -1;
    if (b == 0x80)
        return ws_seterr(r->e, "%s: %s has an indefinite BER length at offset %zu", r->name, field,
                         ws_rd_offset(r) - 1);
    if (b < 0x80) {
        *n = b;
    } else {
        size_t k = b & 0x7Fu;
        if (k > 4)
            return ws_seterr(r->e, "%s: %s has a %zu-byte BER length at offset %zu", r->name, field, k,
                             ws_rd_offset(r) - 1);
        if (ws_rd_need(r, k, field))
            return -1;
        size_t v = 0;
        for (size_t i = 0; i < k; i++)
            v = v << 8 | ws_rd_ptr(r)[i];
        ws_rd_skip(r, k, field);
        *n = v;
    }
    if (*n > WS_MCS_LENGTH_MAX)
        return ws_seterr(r->e, "%s: %s length %zu over 64 KiB", r->name, field, *n);
    if (*n > ws_rd_remaining(r))
        return ws_seterr(r->e, "%s: %s length %zu beyond the %zu bytes given", r->name, field, *n, ws_rd_remaining(r));
    return 0;
}

/* A universal TLV with the given one-byte tag; out is its content. */
static int ber_tlv(ws_rd *r, uint8_t tag, const char *field, ws_rd *out)
{
    uint8_t t;
    size_t n;
    if (ws_rd_u8(r, field, &t))
        return -1;
    if (t != tag)
        return ws_seterr(r->e, "%s: %s has BER tag 0x%02X at offset %zu (expected 0x%02X)", r->name, field, t,
                         ws_rd_offset(r) - 1, tag);
    if (ber_len(r, field, &n))
        return -1;
    return ws_rd_sub(r, n, field, NULL, out);
}

/* [APPLICATION n] with n > 30: 7F n length; the content must fill the rest exactly. */
static int ber_application(ws_rd *r, uint8_t app, const char *field, ws_rd *out)
{
    if (ws_rd_need(r, 2, field))
        return -1;
    const uint8_t *t = ws_rd_ptr(r);
    if (t[0] != BER_APPLICATION || t[1] != app)
        return ws_seterr(r->e, "%s: BER tag %02X %02X at offset %zu (expected 7F %02X, [APPLICATION %u])", r->name,
                         t[0], t[1], ws_rd_offset(r), app, app);
    ws_rd_skip(r, 2, field);
    size_t n;
    if (ber_len(r, field, &n))
        return -1;
    if (n != ws_rd_remaining(r))
        return ws_seterr(r->e, "%s: %zu unexpected bytes at offset %zu after the BER length %zu", r->name,
                         ws_rd_remaining(r) - n, ws_rd_offset(r) + n, n);
    return ws_rd_sub(r, n, field, NULL, out);
}

/* An INTEGER (0..2^32-1): 1 to 4 bytes, or 5 with a leading zero. Read as unsigned,
 * since Windows writes 65535 as 02 02 FF FF. */
static int ber_uint(ws_rd *r, const char *field, uint32_t *v)
{
    ws_rd c;
    if (ber_tlv(r, BER_TAG_INTEGER, field, &c))
        return -1;
    if (c.len < 1 || c.len > 5 || (c.len == 5 && c.p[0] != 0))
        return ws_seterr(r->e, "%s: %s is a %zu-byte INTEGER at offset %zu", r->name, field, c.len, c.base);
    uint32_t x = 0;
    for (size_t i = 0; i < c.len; i++)
        x = x << 8 | c.p[i];
    *v = x;
    return 0;
}

static int ber_octets(ws_rd *r, const char *field, uint8_t *out, size_t cap, size_t *n)
{
    ws_rd c;
    if (ber_tlv(r, BER_TAG_OCTET_STRING, field, &c))
        return -1;
    if (c.len > cap)
        return ws_seterr(r->e, "%s: %s length %zu over %zu", r->name, field, c.len, cap);
    memcpy(out, c.p, c.len);
    *n = c.len;
    return 0;
}

static int ber_one_byte(ws_rd *r, uint8_t tag, const char *field, uint8_t *v)
{
    ws_rd c;
    if (ber_tlv(r, tag, field, &c))
        return -1;
    if (c.len != 1)
        return ws_seterr(r->e, "%s: %s length %zu at offset %zu (expected 1)", r->name, field, c.len, c.base);
    *v = c.p[0];
    return 0;
}

/* T.125 DomainParameters: SEQUENCE of eight INTEGERs. */
static int ber_domain_params(ws_rd *r, const char *field, ws_mcs_domain_params *p)
{
    static const char *const names[8] = {"maxChannelIds", "maxUserIds",  "maxTokenIds",   "numPriorities",
                                         "minThroughput", "maxHeight",   "maxMCSPDUsize", "protocolVersion"};
    uint32_t *v[8] = {&p->max_channel_ids, &p->max_user_ids, &p->max_token_ids,   &p->num_priorities,
                      &p->min_throughput,  &p->max_height,   &p->max_mcspdu_size, &p->protocol_version};
    ws_rd s;
    if (ber_tlv(r, BER_TAG_SEQUENCE, field, &s))
        return -1;
    for (int i = 0; i < 8; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.%s", field, names[i]);
        if (ber_uint(&s, name, v[i]))
            return -1;
    }
    return ws_rd_end(&s, field);
}

/* ---- PER (T.124 GCC and T.125 Domain PDUs, ALIGNED) --------------------------------
 * A length is one byte below 128, else two with the top bit set; like FreeRDP, the
 * second form is read as 15 bits (FreeRDP writes 0x4000..0x7FFF that way). */
static int per_len(ws_rd *r, const char *field, size_t *n, int bounded)
{
    uint8_t b, b2;
    if (ws_rd_u8(r, field, &b))
        return -1;
    if (b & 0x80) {
        if (ws_rd_u8(r, field, &b2))
            return -1;
        *n = (size_t)(b & 0x7F) << 8 | b2;
    } else {
        *n = b;
    }
    if (bounded && *n > ws_rd_remaining(r))
        return ws_seterr(r->e, "%s: %s length %zu beyond the %zu bytes given", r->name, field, *n, ws_rd_remaining(r));
    return 0;
}

/* An unconstrained PER INTEGER: a length byte (0..4) and that many bytes. */
static int per_uint(ws_rd *r, const char *field, uint32_t *v)
{
    uint8_t n;
    if (ws_rd_u8(r, field, &n))
        return -1;
    if (n > 4)
        return ws_seterr(r->e, "%s: %s is a %u-byte INTEGER at offset %zu", r->name, field, n, ws_rd_offset(r) - 1);
    if (ws_rd_need(r, n, field))
        return -1;
    uint32_t x = 0;
    for (unsigned i = 0; i < n; i++)
        x = x << 8 | ws_rd_ptr(r)[i];
    ws_rd_skip(r, n, field);
    *v = x;
    return 0;
}

/* A UserId / DynamicChannelId: 16 bits on the wire, plus 1001. */
static int per_user_id(ws_rd *r, const char *field, uint16_t *v)
{
    uint16_t w;
    if (ws_rd_u16_be(r, field, &w))
        return -1;
    if ((uint32_t)w + WS_MCS_USERID_BASE > 0xFFFF)
        return ws_seterr(r->e, "%s: %s %u + 1001 at offset %zu out of range", r->name, field, w, ws_rd_offset(r) - 2);
    *v = (uint16_t)(w + WS_MCS_USERID_BASE);
    return 0;
}

/* BER lengths and INTEGERs as FreeRDP's ber_write_length / ber_write_integer. */
static void ber_wlen(ws_wr *w, size_t n)
{
    if (n > 0xFF) {
        ws_wr_u8(w, 0x82);
        ws_wr_u16_be(w, (uint16_t)n);
    } else if (n > 0x7F) {
        ws_wr_u8(w, 0x81);
        ws_wr_u8(w, (uint8_t)n);
    } else {
        ws_wr_u8(w, (uint8_t)n);
    }
}

static void ber_wuint(ws_wr *w, uint32_t v)
{
    ws_wr_u8(w, BER_TAG_INTEGER);
    if (v < 0x80) {
        ws_wr_u8(w, 1);
        ws_wr_u8(w, (uint8_t)v);
    } else if (v < 0x8000) {
        ws_wr_u8(w, 2);
        ws_wr_u16_be(w, (uint16_t)v);
    } else if (v < 0x800000) {
        ws_wr_u8(w, 3);
        ws_wr_u8(w, (uint8_t)(v >> 16));
        ws_wr_u16_be(w, (uint16_t)v);
    } else {
        ws_wr_u8(w, 4);
        ws_wr_u16_be(w, (uint16_t)(v >> 16));
        ws_wr_u16_be(w, (uint16_t)v);
    }
}

static void ber_woctets(ws_wr *w, const uint8_t *p, size_t n)
{
    ws_wr_u8(w, BER_TAG_OCTET_STRING);
    ber_wlen(w, n);
    ws_wr_bytes(w, p, n);
}

static void ber_wdomain_params(ws_wr *w, const ws_mcs_domain_params *p)
{
    uint8_t buf[64];
    ws_wr s = ws_wr_new(buf, sizeof buf);
    ber_wuint(&s, p->max_channel_ids);
    ber_wuint(&s, p->max_user_ids);
    ber_wuint(&s, p->max_token_ids);
    ber_wuint(&s, p->num_priorities);
    ber_wuint(&s, p->min_throughput);
    ber_wuint(&s, p->max_height);
    ber_wuint(&s, p->max_mcspdu_size);
    ber_wuint(&s, p->protocol_version);
    ws_wr_u8(w, BER_TAG_SEQUENCE);
    ber_wlen(w, ws_wr_len(&s));
    ws_wr_bytes(w, buf, ws_wr_len(&s));
}

static void per_wlen(ws_wr *w, size_t n)
{
    if (n > 0x7FFF) {
        ws_wr_fail(w);
    } else if (n > 0x7F) {
        ws_wr_u8(w, (uint8_t)(0x80 | n >> 8));
        ws_wr_u8(w, (uint8_t)n);
    } else {
        ws_wr_u8(w, (uint8_t)n);
    }
}

static void per_wuint(ws_wr *w, uint32_t v)
{
    if (v <= 0xFF) {
        ws_wr_u8(w, 1);
        ws_wr_u8(w, (uint8_t)v);
    } else if (v <= 0xFFFF) {
        ws_wr_u8(w, 2);
        ws_wr_u16_be(w, (uint16_t)v);
    } else {
        ws_wr_u8(w, 4);
        ws_wr_u16_be(w, (uint16_t)(v >> 16));
        ws_wr_u16_be(w, (uint16_t)v);
    }
}

static void per_wuser_id(ws_wr *w, uint16_t id)
{
    if (id < WS_MCS_USERID_BASE)
        ws_wr_fail(w);
    else
        ws_wr_u16_be(w, (uint16_t)(id - WS_MCS_USERID_BASE));
}

/* ---- X.224 Data TPDU (MS-RDPBCGR 2.2.1.5 x224Data; X.224 13.7, class 0) -------------- */

size_t ws_x224_data_encode(const uint8_t *payload, size_t n, uint8_t *out, size_t cap)
{
    size_t total = n + WS_X224_DATA_HEADER;
    if (n > WS_X224_DATA_MAX - WS_X224_DATA_HEADER || total > cap)
        return 0;
    if (n)
        memmove(out + WS_X224_DATA_HEADER, payload, n);
    out[0] = 3;
    out[1] = 0;
    out[2] = (uint8_t)(total >> 8);
    out[3] = (uint8_t)total;
    out[4] = X224_DATA_LI;
    out[5] = X224_DATA_CODE;
    out[6] = X224_DATA_EOT;
    return total;
}

int ws_x224_data_decode(const uint8_t *tpkt, size_t len, const uint8_t **payload, size_t *n, ws_error *e)
{
    static const char what[] = "X.224 Data";
    ws_rd r = ws_rd_new(tpkt, len, what, e);
    uint8_t version = 0, li, code, eot;
    uint16_t tlen = 0;
    long t = ws_tpkt_length(tpkt, len, WS_X224_DATA_MAX);
    if (t == 0)
        return ws_rd_need(&r, 4, "TPKT header");
    if (t < 0) {
        ws_rd_u8(&r, "TPKT version", &version);
        ws_rd_skip(&r, 1, "TPKT reserved");
        ws_rd_u16_be(&r, "TPKT length", &tlen);
        return ws_seterr(e, "%s: not a TPKT (version %u, length %u)", what, version, tlen);
    }
    if ((size_t)t != len)
        return ws_seterr(e, "%s: TPKT length %ld but %zu bytes given", what, t, len);
    /* t >= 7: the TPKT header and the 3-byte Data TPDU header are there. */
    ws_rd_skip(&r, 4, "TPKT header");
    ws_rd_u8(&r, "LI", &li);
    ws_rd_u8(&r, "code", &code);
    ws_rd_u8(&r, "EOT", &eot);
    if (li != X224_DATA_LI)
        return ws_seterr(e, "%s: length indicator %u at offset 4 (expected 2)", what, li);
    if (code != X224_DATA_CODE)
        return ws_seterr(e, "%s: TPDU code 0x%02X at offset 5 (expected 0xF0, Data)", what, code);
    if (eot != X224_DATA_EOT)
        return ws_seterr(e, "%s: EOT byte 0x%02X at offset 6 (expected 0x80, unsegmented)", what, eot);
    *payload = ws_rd_ptr(&r);
    *n = ws_rd_remaining(&r);
    return 0;
}

/* Writes a TPKT + X.224 Data header before a payload already encoded at out + 7. */
static size_t x224_wrap(size_t n, uint8_t *out)
{
    if (n == 0 || n > WS_X224_DATA_MAX - WS_X224_DATA_HEADER)
        return 0;
    return ws_x224_data_encode(out + WS_X224_DATA_HEADER, n, out, n + WS_X224_DATA_HEADER);
}

/* ---- domain parameters (MS-RDPBCGR 3.2.5.3.3 and the 4.1.4 example's answer) -------- */

static void params(ws_mcs_domain_params *p, uint32_t ch, uint32_t users, uint32_t tokens, uint32_t pdu)
{
    p->max_channel_ids = ch;
    p->max_user_ids = users;
    p->max_token_ids = tokens;
    p->num_priorities = 1;
    p->min_throughput = 0;
    p->max_height = 1;
    p->max_mcspdu_size = pdu;
    p->protocol_version = 2;
}

void ws_mcs_domain_params_target(ws_mcs_domain_params *p)
{
    params(p, 34, 2, 0, 0xFFFF);
}

void ws_mcs_domain_params_minimum(ws_mcs_domain_params *p)
{
    params(p, 1, 1, 1, 0x420);
}

void ws_mcs_domain_params_maximum(ws_mcs_domain_params *p)
{
    params(p, 0xFFFF, 0xFC17, 0xFFFF, 0xFFFF);
}

void ws_mcs_domain_params_server(ws_mcs_domain_params *p)
{
    params(p, 34, 3, 0, 0xFFF8);
}

/* ---- client data blocks (MS-RDPBCGR 2.2.1.3.1 TS_UD_HEADER, 2.2.1.3.2-2.2.1.3.8) ----- */

static const ws_code_name client_block_names[] = {
    WS_CODE_ROW(WS_GCC_, CS_CORE),
    WS_CODE_ROW(WS_GCC_, CS_SECURITY),
    WS_CODE_ROW(WS_GCC_, CS_NET),
    WS_CODE_ROW(WS_GCC_, CS_CLUSTER),
    WS_CODE_ROW(WS_GCC_, CS_MONITOR),
    WS_CODE_ROW(WS_GCC_, CS_MCS_MSGCHANNEL),
    WS_CODE_ROW(WS_GCC_, CS_MONITOR_EX),
    WS_CODE_ROW(WS_GCC_, CS_MULTITRANSPORT),
};

static const char *client_block_name(uint16_t type)
{
    return WS_CODE_NAME(client_block_names, type, "client data block");
}

static const ws_code_name server_block_names[] = {
    WS_CODE_ROW(WS_GCC_, SC_CORE),
    WS_CODE_ROW(WS_GCC_, SC_SECURITY),
    WS_CODE_ROW(WS_GCC_, SC_NET),
    WS_CODE_ROW(WS_GCC_, SC_MCS_MSGCHANNEL),
    WS_CODE_ROW(WS_GCC_, SC_MULTITRANSPORT),
};

static const char *server_block_name(uint16_t type)
{
    return WS_CODE_NAME(server_block_names, type, "server data block");
}

/* A fixed-size UTF-16LE field into UTF-8; strict when the field matters (clientName),
 * else an unreadable value becomes "". */
static int utf16_field(ws_rd *r, size_t n, char *out, size_t cap, const char *field, int strict)
{
    if (ws_rd_need(r, n, field))
        return -1;
    long k = ws_utf16le_to_utf8(ws_rd_ptr(r), n, out, cap);
    if (k < 0) {
        if (strict)
            return ws_seterr(r->e, "%s: %s at offset %zu is not valid UTF-16", r->name, field, ws_rd_offset(r));
        out[0] = 0;
    }
    return ws_rd_skip(r, n, field);
}

/* TS_UD_CS_CORE (2.2.1.3.2): the mandatory 128 bytes, then optional fields, each present
 * only when the ones before it are; a field cut by the block's end is ignored, as
 * FreeRDP does. b is the block's content (header excluded). */
static int cs_core_decode(ws_rd *b, uint16_t blen, ws_gcc_client_core *c)
{
    if (blen < WS_GCC_CORE_LEN_BASE)
        return ws_seterr(b->e, "CS_CORE: block length %u too short (at least %d)", blen, WS_GCC_CORE_LEN_BASE);
    c->length = blen;
    if (ws_rd_u32(b, "version", &c->version) || ws_rd_u16(b, "desktopWidth", &c->desktop_width) ||
        ws_rd_u16(b, "desktopHeight", &c->desktop_height) || ws_rd_u16(b, "colorDepth", &c->color_depth) ||
        ws_rd_u16(b, "SASSequence", &c->sas_sequence) || ws_rd_u32(b, "keyboardLayout", &c->keyboard_layout) ||
        ws_rd_u32(b, "clientBuild", &c->client_build) ||
        utf16_field(b, 32, c->client_name, sizeof c->client_name, "clientName", 1) ||
        ws_rd_u32(b, "keyboardType", &c->keyboard_type) || ws_rd_u32(b, "keyboardSubType", &c->keyboard_subtype) ||
        ws_rd_u32(b, "keyboardFunctionKey", &c->keyboard_function_key) ||
        utf16_field(b, 64, c->ime_file_name, sizeof c->ime_file_name, "imeFileName", 0))
        return -1;
    if (ws_rd_remaining(b) < 2 || ws_rd_u16(b, "postBeta2ColorDepth", &c->post_beta2_color_depth))
        return 0;
    if (ws_rd_remaining(b) < 2 || ws_rd_u16(b, "clientProductId", &c->client_product_id))
        return 0;
    if (ws_rd_remaining(b) < 4 || ws_rd_u32(b, "serialNumber", &c->serial_number))
        return 0;
    if (ws_rd_remaining(b) < 2 || ws_rd_u16(b, "highColorDepth", &c->high_color_depth))
        return 0;
    if (ws_rd_remaining(b) < 2 || ws_rd_u16(b, "supportedColorDepths", &c->supported_color_depths))
        return 0;
    if (ws_rd_remaining(b) < 2 || ws_rd_u16(b, "earlyCapabilityFlags", &c->early_capability_flags))
        return 0;
    if (ws_rd_remaining(b) < 64)
        return 0;
    if (utf16_field(b, 64, c->client_dig_product_id, sizeof c->client_dig_product_id, "clientDigProductId", 0))
        return -1;
    if (ws_rd_remaining(b) < 1 || ws_rd_u8(b, "connectionType", &c->connection_type))
        return 0;
    if (ws_rd_remaining(b) < 1 || ws_rd_u8(b, "pad1octet", &c->pad1octet))
        return 0;
    if (ws_rd_remaining(b) < 4 || ws_rd_u32(b, "serverSelectedProtocol", &c->server_selected_protocol))
        return 0;
    if (ws_rd_remaining(b) < 4 || ws_rd_u32(b, "desktopPhysicalWidth", &c->desktop_physical_width))
        return 0;
    if (ws_rd_remaining(b) < 4 || ws_rd_u32(b, "desktopPhysicalHeight", &c->desktop_physical_height))
        return 0;
    if (ws_rd_remaining(b) < 2 || ws_rd_u16(b, "desktopOrientation", &c->desktop_orientation))
        return 0;
    if (ws_rd_remaining(b) < 4 || ws_rd_u32(b, "desktopScaleFactor", &c->desktop_scale_factor))
        return 0;
    if (ws_rd_remaining(b) < 4 || ws_rd_u32(b, "deviceScaleFactor", &c->device_scale_factor))
        return 0;
    return 0;
}

/* TS_UD_CS_NET (2.2.1.3.4): channelCount, then 12-byte CHANNEL_DEFs. */
static int cs_net_decode(ws_rd *b, uint16_t blen, ws_gcc_client_net *n)
{
    if (blen < CS_NET_MIN)
        return ws_seterr(b->e, "CS_NET: block length %u too short (at least %d)", blen, CS_NET_MIN);
    if (ws_rd_u32(b, "channelCount", &n->channel_count))
        return -1;
    if (n->channel_count > WS_MCS_CHANNELS_MAX)
        return ws_seterr(b->e, "CS_NET: channelCount %u over %d", n->channel_count, WS_MCS_CHANNELS_MAX);
    if ((size_t)n->channel_count * 12 > ws_rd_remaining(b))
        return ws_seterr(b->e, "CS_NET: channelCount %u needs %u bytes, block length %u leaves %zu",
                         n->channel_count, n->channel_count * 12, blen, ws_rd_remaining(b));
    for (uint32_t i = 0; i < n->channel_count; i++) {
        const uint8_t *name = ws_rd_ptr(b);
        if (!memchr(name, 0, WS_MCS_CHANNEL_NAME_MAX))
            return ws_seterr(b->e, "CS_NET: channel %u name at offset %zu is not NUL-terminated", i, ws_rd_offset(b));
        memcpy(n->channels[i].name, name, WS_MCS_CHANNEL_NAME_MAX);
        n->channels[i].name[WS_MCS_CHANNEL_NAME_MAX] = 0;
        if (ws_rd_skip(b, WS_MCS_CHANNEL_NAME_MAX, "channelName") || ws_rd_u32(b, "options", &n->channels[i].options))
            return -1;
    }
    return 0;
}

/* One block's header, checked against the bytes left; *body is its content. */
static int block_header(ws_rd *r, uint16_t *type, uint16_t *blen, ws_rd *body, int server)
{
    if (ws_rd_remaining(r) < UD_HEADER)
        return ws_seterr(r->e, "%s: %zu stray bytes at offset %zu, too few for a block header", r->name,
                         ws_rd_remaining(r),
                         ws_rd_offset(r));
    ws_rd_u16(r, "type", type);
    ws_rd_u16(r, "length", blen);
    const char *name = server ? server_block_name(*type) : client_block_name(*type);
    if (*blen < UD_HEADER)
        return ws_seterr(r->e, "%s: block length %u too short (type 0x%04X at offset %zu)", name, *blen, *type,
                         ws_rd_offset(r) - UD_HEADER);
    if ((size_t)*blen - UD_HEADER > ws_rd_remaining(r))
        return ws_seterr(r->e, "%s: block length %u beyond the %zu bytes given (type 0x%04X at offset %zu)", name,
                         *blen, ws_rd_remaining(r) + UD_HEADER, *type, ws_rd_offset(r) - UD_HEADER);
    return ws_rd_sub(r, (size_t)*blen - UD_HEADER, "length", name, body);
}

static int client_blocks_decode(ws_rd *r, ws_gcc_client_data *d)
{
    int has_core = 0;
    while (ws_rd_remaining(r) > 0) {
        uint16_t type, blen;
        ws_rd b;
        if (block_header(r, &type, &blen, &b, 0))
            return -1;
        int *seen = NULL;
        switch (type) {
        case WS_GCC_CS_CORE: seen = &has_core; break;
        case WS_GCC_CS_SECURITY: seen = &d->has_security; break;
        case WS_GCC_CS_NET: seen = &d->has_net; break;
        case WS_GCC_CS_CLUSTER: seen = &d->has_cluster; break;
        case WS_GCC_CS_MCS_MSGCHANNEL: seen = &d->has_msgchannel; break;
        case WS_GCC_CS_MULTITRANSPORT: seen = &d->has_multitransport; break;
        default: d->skipped_blocks++; continue;
        }
        if (*seen)
            return ws_seterr(r->e, "%s: block repeated at offset %zu", b.name, b.base - UD_HEADER);
        *seen = 1;
        switch (type) {
        case WS_GCC_CS_CORE:
            if (cs_core_decode(&b, blen, &d->core))
                return -1;
            break;
        case WS_GCC_CS_SECURITY:
            if (blen < CS_SECURITY_LEN)
                return ws_seterr(r->e, "CS_SECURITY: block length %u too short (at least %d)", blen, CS_SECURITY_LEN);
            ws_rd_u32(&b, "encryptionMethods", &d->security.encryption_methods);
            ws_rd_u32(&b, "extEncryptionMethods", &d->security.ext_encryption_methods);
            break;
        case WS_GCC_CS_NET:
            if (cs_net_decode(&b, blen, &d->net))
                return -1;
            break;
        case WS_GCC_CS_CLUSTER:
            /* Longer blocks (old Mac clients pad) are accepted, as FreeRDP does. */
            if (blen < CS_CLUSTER_LEN)
                return ws_seterr(r->e, "CS_CLUSTER: block length %u too short (at least %d)", blen, CS_CLUSTER_LEN);
            ws_rd_u32(&b, "flags", &d->cluster.flags);
            ws_rd_u32(&b, "redirectedSessionId", &d->cluster.redirected_session_id);
            break;
        case WS_GCC_CS_MCS_MSGCHANNEL:
        case WS_GCC_CS_MULTITRANSPORT:
            if (blen < CS_FLAGS_BLOCK_LEN)
                return ws_seterr(r->e, "%s: block length %u too short (at least %d)", b.name, blen,
                                 CS_FLAGS_BLOCK_LEN);
            ws_rd_u32(&b, "flags", type == WS_GCC_CS_MCS_MSGCHANNEL ? &d->msgchannel_flags : &d->multitransport_flags);
            break;
        }
    }
    if (!has_core)
        return ws_seterr(r->e, "%s: no CS_CORE block in the client data", r->name);
    return 0;
}

int ws_gcc_client_data_decode(const uint8_t *buf, size_t len, ws_gcc_client_data *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    ws_rd r = ws_rd_new(buf, len, "client data", e);
    return client_blocks_decode(&r, out);
}

/* UTF-8 into a zero-filled UTF-16LE field of n bytes, cut to n/2 - 1 characters and a
 * NUL as FreeRDP does (never splitting a surrogate pair). */
static int utf16_wfield(ws_wr *w, const char *s, size_t n)
{
    uint8_t tmp[512];
    long k = ws_utf8_to_utf16le(s, tmp, sizeof tmp);
    if (k < 0) {
        ws_wr_fail(w);
        return -1;
    }
    size_t m = (size_t)k;
    if (m > n - 2) {
        m = n - 2;
        uint16_t last = (uint16_t)(tmp[m - 2] | tmp[m - 1] << 8);
        if (last >= 0xD800 && last <= 0xDBFF)
            m -= 2;
    }
    ws_wr_bytes(w, tmp, m);
    ws_wr_zero(w, n - m);
    return 0;
}

static const uint16_t core_cuts[] = {
    WS_GCC_CORE_LEN_BASE,          WS_GCC_CORE_LEN_POST_BETA2,       WS_GCC_CORE_LEN_PRODUCT_ID,
    WS_GCC_CORE_LEN_SERIAL,        WS_GCC_CORE_LEN_HIGH_COLOR,       WS_GCC_CORE_LEN_SUPPORTED_DEPTHS,
    WS_GCC_CORE_LEN_EARLY_CAPS,    WS_GCC_CORE_LEN_DIG_PRODUCT_ID,   WS_GCC_CORE_LEN_CONNECTION_TYPE,
    WS_GCC_CORE_LEN_PAD,           WS_GCC_CORE_LEN_SELECTED_PROTOCOL, WS_GCC_CORE_LEN_PHYSICAL_WIDTH,
    WS_GCC_CORE_LEN_PHYSICAL,      WS_GCC_CORE_LEN_ORIENTATION,      WS_GCC_CORE_LEN_DESKTOP_SCALE,
    WS_GCC_CORE_LEN_FULL,
};

static void cs_core_encode(ws_wr *w, const ws_gcc_client_core *c)
{
    uint16_t L = c->length;
    int ok = 0;
    for (size_t i = 0; i < sizeof core_cuts / sizeof core_cuts[0]; i++)
        ok |= core_cuts[i] == L;
    if (!ok) {
        ws_wr_fail(w);
        return;
    }
    size_t start = ws_wr_len(w);
    ws_wr_u16(w, WS_GCC_CS_CORE);
    ws_wr_u16(w, L);
    ws_wr_u32(w, c->version);
    ws_wr_u16(w, c->desktop_width);
    ws_wr_u16(w, c->desktop_height);
    ws_wr_u16(w, c->color_depth);
    ws_wr_u16(w, c->sas_sequence);
    ws_wr_u32(w, c->keyboard_layout);
    ws_wr_u32(w, c->client_build);
    utf16_wfield(w, c->client_name, 32);
    ws_wr_u32(w, c->keyboard_type);
    ws_wr_u32(w, c->keyboard_subtype);
    ws_wr_u32(w, c->keyboard_function_key);
    utf16_wfield(w, c->ime_file_name, 64);
#define UPTO(cut) if (!w->failed && ws_wr_len(w) - start < (cut))
    UPTO(L) ws_wr_u16(w, c->post_beta2_color_depth);
    UPTO(L) ws_wr_u16(w, c->client_product_id);
    UPTO(L) ws_wr_u32(w, c->serial_number);
    UPTO(L) ws_wr_u16(w, c->high_color_depth);
    UPTO(L) ws_wr_u16(w, c->supported_color_depths);
    UPTO(L) ws_wr_u16(w, c->early_capability_flags);
    UPTO(L) utf16_wfield(w, c->client_dig_product_id, 64);
    UPTO(L) ws_wr_u8(w, c->connection_type);
    UPTO(L) ws_wr_u8(w, c->pad1octet);
    UPTO(L) ws_wr_u32(w, c->server_selected_protocol);
    UPTO(L) ws_wr_u32(w, c->desktop_physical_width);
    UPTO(L) ws_wr_u32(w, c->desktop_physical_height);
    UPTO(L) ws_wr_u16(w, c->desktop_orientation);
    UPTO(L) ws_wr_u32(w, c->desktop_scale_factor);
    UPTO(L) ws_wr_u32(w, c->device_scale_factor);
#undef UPTO
}

size_t ws_gcc_client_data_encode(const ws_gcc_client_data *in, uint8_t *out, size_t cap)
{
    ws_wr w = ws_wr_new(out, cap);
    cs_core_encode(&w, &in->core);
    if (in->has_cluster) {
        ws_wr_u16(&w, WS_GCC_CS_CLUSTER);
        ws_wr_u16(&w, CS_CLUSTER_LEN);
        ws_wr_u32(&w, in->cluster.flags);
        ws_wr_u32(&w, in->cluster.redirected_session_id);
    }
    if (in->has_security) {
        ws_wr_u16(&w, WS_GCC_CS_SECURITY);
        ws_wr_u16(&w, CS_SECURITY_LEN);
        ws_wr_u32(&w, in->security.encryption_methods);
        ws_wr_u32(&w, in->security.ext_encryption_methods);
    }
    if (in->has_net) {
        if (in->net.channel_count > WS_MCS_CHANNELS_MAX)
            return 0;
        ws_wr_u16(&w, WS_GCC_CS_NET);
        ws_wr_u16(&w, (uint16_t)(CS_NET_MIN + 12 * in->net.channel_count));
        ws_wr_u32(&w, in->net.channel_count);
        for (uint32_t i = 0; i < in->net.channel_count; i++) {
            uint8_t name[WS_MCS_CHANNEL_NAME_MAX] = {0};
            size_t n = strnlen(in->net.channels[i].name, WS_MCS_CHANNEL_NAME_MAX);
            if (n >= WS_MCS_CHANNEL_NAME_MAX)
                return 0; /* 7 characters and the NUL */
            memcpy(name, in->net.channels[i].name, n);
            ws_wr_bytes(&w, name, sizeof name);
            ws_wr_u32(&w, in->net.channels[i].options);
        }
    }
    if (in->has_msgchannel) {
        ws_wr_u16(&w, WS_GCC_CS_MCS_MSGCHANNEL);
        ws_wr_u16(&w, CS_FLAGS_BLOCK_LEN);
        ws_wr_u32(&w, in->msgchannel_flags);
    }
    if (in->has_multitransport) {
        ws_wr_u16(&w, WS_GCC_CS_MULTITRANSPORT);
        ws_wr_u16(&w, CS_FLAGS_BLOCK_LEN);
        ws_wr_u32(&w, in->multitransport_flags);
    }
    return ws_wr_done(&w);
}

void ws_gcc_client_data_freerdp(ws_gcc_client_data *d, uint16_t width, uint16_t height, const char *client_name,
                                uint32_t selected_protocol)
{
    memset(d, 0, sizeof *d);
    ws_gcc_client_core *c = &d->core;
    c->length = WS_GCC_CORE_LEN_FULL;
    c->version = WS_RDP_VERSION_10_7;
    c->desktop_width = width;
    c->desktop_height = height;
    c->color_depth = WS_RNS_UD_COLOR_8BPP;
    c->sas_sequence = WS_RNS_UD_SAS_DEL;
    c->keyboard_layout = 0x409;
    c->client_build = 18363;
    snprintf(c->client_name, sizeof c->client_name, "%s", client_name ? client_name : "");
    c->keyboard_type = 4;
    c->keyboard_subtype = 0;
    c->keyboard_function_key = 12;
    c->post_beta2_color_depth = WS_RNS_UD_COLOR_8BPP;
    c->client_product_id = 1;
    c->high_color_depth = 24;
    c->supported_color_depths =
        WS_RNS_UD_24BPP_SUPPORT | WS_RNS_UD_16BPP_SUPPORT | WS_RNS_UD_15BPP_SUPPORT | WS_RNS_UD_32BPP_SUPPORT;
    c->early_capability_flags = WS_RNS_UD_CS_SUPPORT_ERRINFO_PDU | WS_RNS_UD_CS_WANT_32BPP_SESSION |
                                WS_RNS_UD_CS_VALID_CONNECTION_TYPE | WS_RNS_UD_CS_SUPPORT_MONITOR_LAYOUT_PDU |
                                WS_RNS_UD_CS_SUPPORT_NETWORK_AUTODETECT | WS_RNS_UD_CS_SUPPORT_DYNVC_GFX_PROTOCOL |
                                WS_RNS_UD_CS_SUPPORT_HEARTBEAT_PDU;
    c->connection_type = 7; /* CONNECTION_TYPE_AUTODETECT */
    c->server_selected_protocol = selected_protocol;
    d->has_cluster = 1;
    d->cluster.flags = 0x0D; /* REDIRECTION_SUPPORTED | REDIRECTION_VERSION4 << 2 */
    d->has_security = 1;
}

void ws_gcc_client_data_freerdp_channels(ws_gcc_client_data *d)
{
    static const struct {
        const char *name;
        uint32_t options;
    } defs[] = {{"rdpdr", 0xC0800000u}, {"rdpsnd", 0xC0000000u}, {"cliprdr", 0xC0A00000u}, {"drdynvc", 0xC0800000u}};
    d->has_net = 1;
    d->net.channel_count = sizeof defs / sizeof defs[0];
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        memset(d->net.channels[i].name, 0, sizeof d->net.channels[i].name);
        memcpy(d->net.channels[i].name, defs[i].name, strlen(defs[i].name));
        d->net.channels[i].options = defs[i].options;
    }
}

/* ---- server data blocks (MS-RDPBCGR 2.2.1.4.1-2.2.1.4.4) ----------------------------- */

static int server_blocks_decode(ws_rd *r, ws_gcc_server_data *d)
{
    int has_core = 0, has_sec = 0, has_net = 0;
    while (ws_rd_remaining(r) > 0) {
        uint16_t type, blen;
        ws_rd b;
        if (block_header(r, &type, &blen, &b, 1))
            return -1;
        int *seen = NULL;
        switch (type) {
        case WS_GCC_SC_CORE: seen = &has_core; break;
        case WS_GCC_SC_SECURITY: seen = &has_sec; break;
        case WS_GCC_SC_NET: seen = &has_net; break;
        default: d->skipped_blocks++; continue;
        }
        if (*seen)
            return ws_seterr(r->e, "%s: block repeated at offset %zu", b.name, b.base - UD_HEADER);
        *seen = 1;
        if (type == WS_GCC_SC_CORE) {
            /* TS_UD_SC_CORE (2.2.1.4.2): version, then optional fields of 4 bytes. */
            if (blen < SC_CORE_MIN)
                return ws_seterr(r->e, "SC_CORE: block length %u too short (at least %d)", blen, SC_CORE_MIN);
            ws_rd_u32(&b, "version", &d->core.version);
            if (ws_rd_remaining(&b) >= 4) {
                d->core.has_client_requested_protocols = 1;
                ws_rd_u32(&b, "clientRequestedProtocols", &d->core.client_requested_protocols);
            }
            if (ws_rd_remaining(&b) >= 4) {
                d->core.has_early_capability_flags = 1;
                ws_rd_u32(&b, "earlyCapabilityFlags", &d->core.early_capability_flags);
            }
        } else if (type == WS_GCC_SC_SECURITY) {
            /* TS_UD_SC_SEC1 (2.2.1.4.3): method and level; with either non-zero, the
             * server random and certificate follow. */
            ws_gcc_server_security *s = &d->security;
            if (blen < SC_SECURITY_MIN)
                return ws_seterr(r->e, "SC_SECURITY: block length %u too short (at least %d)", blen,
                                 SC_SECURITY_MIN);
            ws_rd_u32(&b, "encryptionMethod", &s->encryption_method);
            ws_rd_u32(&b, "encryptionLevel", &s->encryption_level);
            if (s->encryption_method || s->encryption_level) {
                if (blen < SC_SECURITY_WITH_KEYS)
                    return ws_seterr(r->e, "SC_SECURITY: block length %u too short for serverRandomLen and "
                                     "serverCertLen (method 0x%X, level %u)", blen, s->encryption_method,
                                     s->encryption_level);
                ws_rd_u32(&b, "serverRandomLen", &s->server_random_len);
                ws_rd_u32(&b, "serverCertLen", &s->server_cert_len);
                if ((uint64_t)s->server_random_len + s->server_cert_len > ws_rd_remaining(&b))
                    return ws_seterr(r->e, "SC_SECURITY: serverRandomLen %u + serverCertLen %u beyond the %zu "
                                     "bytes given", s->server_random_len, s->server_cert_len, ws_rd_remaining(&b));
            }
        } else {
            /* TS_UD_SC_NET (2.2.1.4.4): MCSChannelId, channelCount, ids, padding. */
            ws_gcc_server_net *n = &d->net;
            if (blen < SC_NET_MIN)
                return ws_seterr(r->e, "SC_NET: block length %u too short (at least %d)", blen, SC_NET_MIN);
            ws_rd_u16(&b, "MCSChannelId", &n->mcs_channel_id);
            ws_rd_u16(&b, "channelCount", &n->channel_count);
            if (n->channel_count > WS_MCS_CHANNELS_MAX)
                return ws_seterr(r->e, "SC_NET: channelCount %u over %d", n->channel_count, WS_MCS_CHANNELS_MAX);
            if ((size_t)n->channel_count * 2 > ws_rd_remaining(&b))
                return ws_seterr(r->e, "SC_NET: channelCount %u needs %u bytes, block length %u leaves %zu",
                                 n->channel_count, n->channel_count * 2u, blen, ws_rd_remaining(&b));
            for (unsigned i = 0; i < n->channel_count; i++)
                ws_rd_u16(&b, "channelId", &n->channel_ids[i]);
        }
    }
    if (!has_core || !has_sec || !has_net)
        return ws_seterr(r->e, "%s: no %s block in the server data", r->name,
                         !has_core ? "SC_CORE" : !has_sec ? "SC_SECURITY" : "SC_NET");
    return 0;
}

int ws_gcc_server_data_decode(const uint8_t *buf, size_t len, ws_gcc_server_data *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    ws_rd r = ws_rd_new(buf, len, "server data", e);
    return server_blocks_decode(&r, out);
}

size_t ws_gcc_server_data_encode(const ws_gcc_server_data *in, uint8_t *out, size_t cap)
{
    ws_wr w = ws_wr_new(out, cap);
    const ws_gcc_server_core *c = &in->core;
    if (c->has_early_capability_flags && !c->has_client_requested_protocols)
        return 0;
    ws_wr_u16(&w, WS_GCC_SC_CORE);
    ws_wr_u16(&w, (uint16_t)(SC_CORE_MIN + (c->has_client_requested_protocols ? 4 : 0) +
                         (c->has_early_capability_flags ? 4 : 0)));
    ws_wr_u32(&w, c->version);
    if (c->has_client_requested_protocols)
        ws_wr_u32(&w, c->client_requested_protocols);
    if (c->has_early_capability_flags)
        ws_wr_u32(&w, c->early_capability_flags);

    const ws_gcc_server_net *n = &in->net;
    if (n->channel_count > WS_MCS_CHANNELS_MAX)
        return 0;
    unsigned pad = n->channel_count % 2 ? 2 : 0;
    ws_wr_u16(&w, WS_GCC_SC_NET);
    ws_wr_u16(&w, (uint16_t)(SC_NET_MIN + 2 * n->channel_count + pad));
    ws_wr_u16(&w, n->mcs_channel_id);
    ws_wr_u16(&w, n->channel_count);
    for (unsigned i = 0; i < n->channel_count; i++)
        ws_wr_u16(&w, n->channel_ids[i]);
    ws_wr_zero(&w, pad);

    if (in->security.encryption_method || in->security.encryption_level)
        return 0;
    ws_wr_u16(&w, WS_GCC_SC_SECURITY);
    ws_wr_u16(&w, SC_SECURITY_MIN);
    ws_wr_u32(&w, 0);
    ws_wr_u32(&w, 0);
    return ws_wr_done(&w);
}

void ws_gcc_server_data_for(ws_gcc_server_data *d, const ws_gcc_client_data *client, uint32_t requested_protocols,
                            uint32_t early_capability_flags)
{
    memset(d, 0, sizeof *d);
    d->core.version = WS_RDP_VERSION_5_PLUS;
    d->core.has_client_requested_protocols = 1;
    d->core.client_requested_protocols = requested_protocols;
    d->core.has_early_capability_flags = 1;
    d->core.early_capability_flags = early_capability_flags;
    d->net.mcs_channel_id = WS_MCS_GLOBAL_CHANNEL_ID;
    if (client && client->has_net) {
        uint32_t n = client->net.channel_count;
        if (n > WS_MCS_CHANNELS_MAX)
            n = WS_MCS_CHANNELS_MAX;
        d->net.channel_count = (uint16_t)n;
        for (uint32_t i = 0; i < n; i++)
            d->net.channel_ids[i] = (uint16_t)(WS_MCS_FIRST_STATIC_CHANNEL_ID + i);
    }
}

/* ---- T.124 ConnectData around the GCC Conference Create PDUs (both directions) ---- */

/* The ConnectData head: the object key choice (0) and the T.124 object identifier. */
static int gcc_connect_data(ws_rd *r)
{
    return rd_expect(r, "GCC ConnectData key choice", 0) ||
           rd_expect_bytes(r, "GCC object identifier (expected 0.0.20.124.0.1)", t124_oid, sizeof t124_oid);
}

static void gcc_wconnect_data(ws_wr *g)
{
    ws_wr_u8(g, 0);
    ws_wr_bytes(g, t124_oid, sizeof t124_oid);
}

/* The one UserData set: count 1, the h221NonStandard choice, the 4-byte H.221 key
 * (key_what names it in errors), then the data blocks with their PER length, into *blocks. */
static int gcc_user_data(ws_rd *r, const uint8_t key[4], const char *key_what, ws_rd *blocks)
{
    size_t n;
    return rd_expect(r, "GCC UserData set count", 1) || rd_expect(r, "GCC UserData choice", GCC_USERDATA_CHOICE) ||
           rd_expect(r, "GCC h221NonStandard length", 0) || rd_expect_bytes(r, key_what, key, 4) ||
           per_len(r, "GCC userData", &n, 1) || ws_rd_sub(r, n, "GCC userData", NULL, blocks);
}

static void gcc_wuser_data(ws_wr *g, const uint8_t key[4], const uint8_t *blocks, size_t nb)
{
    ws_wr_u8(g, 1);
    ws_wr_u8(g, GCC_USERDATA_CHOICE);
    ws_wr_u8(g, 0);
    ws_wr_bytes(g, key, 4);
    per_wlen(g, nb);
    ws_wr_bytes(g, blocks, nb);
}

/* The BER [APPLICATION app] wrapper around the n bytes of body, into out. */
static size_t ber_wapplication(uint8_t app, const uint8_t *body, size_t n, uint8_t *out, size_t cap)
{
    ws_wr w = ws_wr_new(out, cap);
    ws_wr_u8(&w, BER_APPLICATION);
    ws_wr_u8(&w, app);
    ber_wlen(&w, n);
    ws_wr_bytes(&w, body, n);
    return ws_wr_done(&w);
}

/* ---- MCS Connect-Initial with GCC Conference Create Request (2.2.1.3) ---------------
 * BER: 7F 65 len { 04 callingDomainSelector, 04 calledDomainSelector, 01 upwardFlag,
 * 30 target, 30 minimum, 30 maximum, 04 userData }. userData is T.124 PER: ConnectData
 * (key: object 0.0.20.124.0.1, connectPDU length), ConferenceCreateRequest (choice 0,
 * selection 0x08, conferenceName "1", one UserData set: h221NonStandard "Duca" and the
 * client data blocks). */

static int gcc_request_decode(ws_rd *r, ws_gcc_client_data *d)
{
    ws_rd blocks;
    uint8_t v;
    size_t n;
    if (gcc_connect_data(r) || per_len(r, "GCC connectPDU", &n, 1) ||
        rd_expect(r, "GCC ConnectGCCPDU choice (conferenceCreateRequest)", GCC_CREATE_REQUEST_CHOICE) ||
        rd_expect(r, "GCC ConferenceCreateRequest optional-field selection", GCC_REQUEST_SELECTION) ||
        ws_rd_u8(r, "GCC conferenceName length", &v) ||
        ws_rd_skip(r, ((size_t)v + 2) / 2, "GCC conferenceName") || /* v + 1 digits, two a byte */
        ws_rd_skip(r, 1, "GCC ConferenceCreateRequest flags") ||
        gcc_user_data(r, h221_cs_key, "GCC H.221 key (expected \"Duca\")", &blocks))
        return -1;
    if (client_blocks_decode(&blocks, d))
        return -1;
    return ws_rd_end(r, "the GCC userData");
}

int ws_mcs_connect_initial_decode(const uint8_t *buf, size_t len, ws_mcs_connect_initial *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    ws_rd r = ws_rd_new(buf, len, "Connect-Initial", e), c, ud;
    uint8_t up;
    if (ber_application(&r, MCS_CONNECT_INITIAL, "Connect-Initial", &c) ||
        ber_octets(&c, "callingDomainSelector", out->calling_domain, sizeof out->calling_domain,
                   &out->calling_domain_len) ||
        ber_octets(&c, "calledDomainSelector", out->called_domain, sizeof out->called_domain,
                   &out->called_domain_len) ||
        ber_one_byte(&c, BER_TAG_BOOLEAN, "upwardFlag", &up) ||
        ber_domain_params(&c, "targetParameters", &out->target) ||
        ber_domain_params(&c, "minimumParameters", &out->minimum) ||
        ber_domain_params(&c, "maximumParameters", &out->maximum) ||
        ber_tlv(&c, BER_TAG_OCTET_STRING, "userData", &ud) || ws_rd_end(&c, "userData"))
        return -1;
    out->upward_flag = up != 0;
    return gcc_request_decode(&ud, &out->data);
}

void ws_mcs_connect_initial_init(ws_mcs_connect_initial *ci, const ws_gcc_client_data *d)
{
    memset(ci, 0, sizeof *ci);
    ci->calling_domain[0] = 1;
    ci->calling_domain_len = 1;
    ci->called_domain[0] = 1;
    ci->called_domain_len = 1;
    ci->upward_flag = 1;
    ws_mcs_domain_params_target(&ci->target);
    ws_mcs_domain_params_minimum(&ci->minimum);
    ws_mcs_domain_params_maximum(&ci->maximum);
    if (d)
        ci->data = *d;
}

size_t ws_mcs_connect_initial_encode(const ws_mcs_connect_initial *in, uint8_t *out, size_t cap)
{
    uint8_t blocks[1024], gcc[1100], body[1300];
    size_t nb = ws_gcc_client_data_encode(&in->data, blocks, sizeof blocks);
    if (nb == 0 || in->calling_domain_len > WS_MCS_DOMAIN_SELECTOR_MAX ||
        in->called_domain_len > WS_MCS_DOMAIN_SELECTOR_MAX)
        return 0;

    /* The GCC request as FreeRDP's gcc_write_conference_create_request: the connectPDU
     * length counts the 12 fixed bytes and a 2-byte userData length (so + 14). */
    ws_wr g = ws_wr_new(gcc, sizeof gcc);
    gcc_wconnect_data(&g);
    per_wlen(&g, nb + 14);
    ws_wr_u8(&g, GCC_CREATE_REQUEST_CHOICE);
    ws_wr_u8(&g, GCC_REQUEST_SELECTION);
    ws_wr_u8(&g, 0);    /* conferenceName: 1 digit */
    ws_wr_u8(&g, 0x10); /* "1" */
    ws_wr_u8(&g, 0);
    gcc_wuser_data(&g, h221_cs_key, blocks, nb);
    if (g.failed)
        return 0;

    ws_wr b = ws_wr_new(body, sizeof body);
    ber_woctets(&b, in->calling_domain, in->calling_domain_len);
    ber_woctets(&b, in->called_domain, in->called_domain_len);
    ws_wr_u8(&b, BER_TAG_BOOLEAN);
    ws_wr_u8(&b, 1);
    ws_wr_u8(&b, in->upward_flag ? 0xFF : 0);
    ber_wdomain_params(&b, &in->target);
    ber_wdomain_params(&b, &in->minimum);
    ber_wdomain_params(&b, &in->maximum);
    ber_woctets(&b, gcc, ws_wr_len(&g));
    if (b.failed)
        return 0;

    return ber_wapplication(MCS_CONNECT_INITIAL, body, ws_wr_len(&b), out, cap);
}

size_t ws_mcs_connect_initial_encode_tpkt(const ws_mcs_connect_initial *in, uint8_t *out, size_t cap)
{
    if (cap < WS_X224_DATA_HEADER)
        return 0;
    return x224_wrap(ws_mcs_connect_initial_encode(in, out + WS_X224_DATA_HEADER, cap - WS_X224_DATA_HEADER), out);
}

/* ---- MCS Connect-Response with GCC Conference Create Response (2.2.1.4) -------------
 * BER: 7F 66 len { 0A result, 02 calledConnectId, 30 domainParameters, 04 userData }.
 * userData is T.124 PER: ConnectData (object key, connectPDU length 0x2A, which
 * clients ignore), ConferenceCreateResponse (choice 0x14, nodeID - 1001, tag, result,
 * one UserData set: h221NonStandard "McDn" and the server data blocks). A refusal
 * (result != 0) may carry the result alone (3.3.5.3.3.1). */

static int gcc_response_decode(ws_rd *r, ws_mcs_connect_response *cr)
{
    ws_rd blocks;
    size_t n;
    uint8_t res;
    if (gcc_connect_data(r) || per_len(r, "GCC connectPDU", &n, 0) ||
        rd_expect(r, "GCC ConnectGCCPDU choice (conferenceCreateResponse)", GCC_CREATE_RESPONSE_CHOICE) ||
        per_user_id(r, "GCC nodeID", &cr->node_id) || per_uint(r, "GCC tag", &cr->tag) ||
        ws_rd_u8(r, "GCC result", &res))
        return -1;
    if (res >= GCC_RESULT_COUNT)
        return ws_seterr(r->e, "%s: GCC result %u at offset %zu out of range", r->name, res, ws_rd_offset(r) - 1);
    cr->gcc_result = res;
    if (gcc_user_data(r, h221_sc_key, "GCC H.221 key (expected \"McDn\")", &blocks))
        return -1;
    if (server_blocks_decode(&blocks, &cr->data))
        return -1;
    return ws_rd_end(r, "the GCC userData");
}

int ws_mcs_connect_response_decode(const uint8_t *buf, size_t len, ws_mcs_connect_response *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    ws_rd r = ws_rd_new(buf, len, "Connect-Response", e), c, ud;
    if (ber_application(&r, MCS_CONNECT_RESPONSE, "Connect-Response", &c) ||
        ber_one_byte(&c, BER_TAG_ENUMERATED, "result", &out->result))
        return -1;
    if (out->result >= GCC_RESULT_COUNT)
        return ws_seterr(e, "Connect-Response: result %u out of range", out->result);
    if (out->result != WS_MCS_RESULT_SUCCESSFUL && ws_rd_remaining(&c) == 0)
        return 0;
    if (ber_uint(&c, "calledConnectId", &out->called_connect_id) ||
        ber_domain_params(&c, "domainParameters", &out->params) ||
        ber_tlv(&c, BER_TAG_OCTET_STRING, "userData", &ud) || ws_rd_end(&c, "userData"))
        return -1;
    return gcc_response_decode(&ud, out);
}

void ws_mcs_connect_response_init(ws_mcs_connect_response *cr, const ws_gcc_server_data *d)
{
    memset(cr, 0, sizeof *cr);
    cr->result = WS_MCS_RESULT_SUCCESSFUL;
    cr->called_connect_id = 0;
    ws_mcs_domain_params_server(&cr->params);
    cr->node_id = 0x79F3; /* on the wire 76 0A, as in the 4.1.4 example */
    cr->tag = 1;
    cr->gcc_result = 0;
    if (d)
        cr->data = *d;
}

size_t ws_mcs_connect_response_encode(const ws_mcs_connect_response *in, uint8_t *out, size_t cap)
{
    uint8_t blocks[512], gcc[600], body[700];
    ws_wr b = ws_wr_new(body, sizeof body);
    ws_wr_u8(&b, BER_TAG_ENUMERATED);
    ws_wr_u8(&b, 1);
    ws_wr_u8(&b, in->result);
    if (in->result == WS_MCS_RESULT_SUCCESSFUL) {
        size_t nb = ws_gcc_server_data_encode(&in->data, blocks, sizeof blocks);
        if (nb == 0)
            return 0;
        ws_wr g = ws_wr_new(gcc, sizeof gcc);
        gcc_wconnect_data(&g);
        ws_wr_u8(&g, GCC_RESPONSE_CONNECT_PDU_LEN);
        ws_wr_u8(&g, GCC_CREATE_RESPONSE_CHOICE);
        per_wuser_id(&g, in->node_id);
        per_wuint(&g, in->tag);
        ws_wr_u8(&g, in->gcc_result);
        gcc_wuser_data(&g, h221_sc_key, blocks, nb);
        if (g.failed)
            return 0;
        ber_wuint(&b, in->called_connect_id);
        ber_wdomain_params(&b, &in->params);
        ber_woctets(&b, gcc, ws_wr_len(&g));
        if (b.failed)
            return 0;
    }
    return ber_wapplication(MCS_CONNECT_RESPONSE, body, ws_wr_len(&b), out, cap);
}

size_t ws_mcs_connect_response_encode_tpkt(const ws_mcs_connect_response *in, uint8_t *out, size_t cap)
{
    if (cap < WS_X224_DATA_HEADER)
        return 0;
    return x224_wrap(ws_mcs_connect_response_encode(in, out + WS_X224_DATA_HEADER, cap - WS_X224_DATA_HEADER),
                     out);
}

/* ---- MCS Domain PDUs (T.125 DomainMCSPDU, ALIGNED PER) ------------------------------
 * The first byte is the CHOICE index << 2 with up to two option bits; an ENUMERATED
 * result (4 bits) starts in the first byte's last bit and ends in the next byte's top
 * three (MS-RDPBCGR 4.1.7, 4.1.8.1.2 dumps). */

int ws_mcs_domain_pdu_type(const uint8_t *buf, size_t len)
{
    if (len == 0)
        return -1;
    return buf[0] >> 2;
}

static const ws_code_name domain_pdu_names[] = {
    {WS_MCS_ERECT_DOMAIN_REQUEST, "Erect Domain Request"},
    {WS_MCS_DISCONNECT_PROVIDER_ULTIMATUM, "Disconnect Provider Ultimatum"},
    {WS_MCS_ATTACH_USER_REQUEST, "Attach User Request"},
    {WS_MCS_ATTACH_USER_CONFIRM, "Attach User Confirm"},
    {WS_MCS_CHANNEL_JOIN_REQUEST, "Channel Join Request"},
    {WS_MCS_CHANNEL_JOIN_CONFIRM, "Channel Join Confirm"},
    {WS_MCS_SEND_DATA_REQUEST, "Send Data Request"},
    {WS_MCS_SEND_DATA_INDICATION, "Send Data Indication"},
};

const char *ws_mcs_domain_pdu_name(int type)
{
    return WS_CODE_NAME(domain_pdu_names, type, "unknown");
}

/* The first byte: checks the type, returns its option bits. */
static int domain_first(ws_rd *r, int type, uint8_t *opts)
{
    uint8_t b;
    if (ws_rd_u8(r, "the MCS PDU type", &b))
        return -1;
    if (b >> 2 != type)
        return ws_seterr(r->e, "%s: MCS PDU type %u (%s) at offset 0 (expected %d)", r->name, b >> 2,
                         ws_mcs_domain_pdu_name(b >> 2), type);
    *opts = b & 3;
    return 0;
}

/* A Confirm's first two bytes: the type, option bit 0x02 (an optional field is present:
 * *has) and the 4-bit result straddling them (the first byte's bit 0, the second's top 3). */
static int confirm_first(ws_rd *r, int type, int *has, uint8_t *result)
{
    uint8_t o, b;
    if (domain_first(r, type, &o) || ws_rd_u8(r, "result", &b))
        return -1;
    *result = (uint8_t)((o & 1) << 3 | b >> 5);
    *has = (o & 2) != 0;
    return 0;
}

static void confirm_wfirst(ws_wr *w, int type, int has, uint8_t result)
{
    if (result > 15)
        ws_wr_fail(w);
    ws_wr_u8(w, (uint8_t)(type << 2 | (has ? 2 : 0) | result >> 3));
    ws_wr_u8(w, (uint8_t)((result & 7) << 5));
}

/* Erect Domain Request (2.2.1.5): subHeight and subInterval, unconstrained INTEGERs. */
int ws_mcs_erect_domain_decode(const uint8_t *buf, size_t len, ws_mcs_erect_domain *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    ws_rd r = ws_rd_new(buf, len, "Erect Domain Request", e);
    uint8_t o;
    if (domain_first(&r, WS_MCS_ERECT_DOMAIN_REQUEST, &o) || per_uint(&r, "subHeight", &out->sub_height) ||
        per_uint(&r, "subInterval", &out->sub_interval))
        return -1;
    return ws_rd_end(&r, "subInterval");
}

size_t ws_mcs_erect_domain_encode(const ws_mcs_erect_domain *in, uint8_t *out, size_t cap)
{
    ws_wr w = ws_wr_new(out, cap);
    ws_wr_u8(&w, WS_MCS_ERECT_DOMAIN_REQUEST << 2);
    per_wuint(&w, in->sub_height);
    per_wuint(&w, in->sub_interval);
    return ws_wr_done(&w);
}

/* Disconnect Provider Ultimatum (T.125 7 part 7; MS-RDPBCGR 2.2.2.3): the 3-bit reason
 * straddles the two bytes: 21 80 is rn-user-requested (3). */
int ws_mcs_disconnect_ultimatum_decode(const uint8_t *buf, size_t len, uint8_t *reason, ws_error *e)
{
    ws_rd r = ws_rd_new(buf, len, "Disconnect Provider Ultimatum", e);
    uint8_t o, b;
    if (domain_first(&r, WS_MCS_DISCONNECT_PROVIDER_ULTIMATUM, &o) || ws_rd_u8(&r, "reason", &b))
        return -1;
    unsigned v = (unsigned)o << 1 | b >> 7;
    if (v > WS_MCS_REASON_CHANNEL_PURGED)
        return ws_seterr(e, "Disconnect Provider Ultimatum: reason %u out of range", v);
    *reason = (uint8_t)v;
    return ws_rd_end(&r, "reason");
}

size_t ws_mcs_disconnect_ultimatum_encode(uint8_t reason, uint8_t *out, size_t cap)
{
    if (reason > WS_MCS_REASON_CHANNEL_PURGED)
        return 0;
    ws_wr w = ws_wr_new(out, cap);
    ws_wr_u8(&w, (uint8_t)(WS_MCS_DISCONNECT_PROVIDER_ULTIMATUM << 2 | reason >> 1));
    ws_wr_u8(&w, (uint8_t)((reason & 1) << 7));
    return ws_wr_done(&w);
}

/* Attach User Request (2.2.1.6): the type alone. */
int ws_mcs_attach_user_request_decode(const uint8_t *buf, size_t len, ws_error *e)
{
    ws_rd r = ws_rd_new(buf, len, "Attach User Request", e);
    uint8_t o;
    if (domain_first(&r, WS_MCS_ATTACH_USER_REQUEST, &o))
        return -1;
    return ws_rd_end(&r, "the type");
}

size_t ws_mcs_attach_user_request_encode(uint8_t *out, size_t cap)
{
    ws_wr w = ws_wr_new(out, cap);
    ws_wr_u8(&w, WS_MCS_ATTACH_USER_REQUEST << 2);
    return ws_wr_done(&w);
}

/* Attach User Confirm (2.2.1.7): option bit 0x02 = initiator present; result; initiator. */
int ws_mcs_attach_user_confirm_decode(const uint8_t *buf, size_t len, ws_mcs_attach_user_confirm *out,
                                      ws_error *e)
{
    memset(out, 0, sizeof *out);
    ws_rd r = ws_rd_new(buf, len, "Attach User Confirm", e);
    if (confirm_first(&r, WS_MCS_ATTACH_USER_CONFIRM, &out->has_initiator, &out->result))
        return -1;
    if (out->has_initiator && per_user_id(&r, "initiator", &out->initiator))
        return -1;
    return ws_rd_end(&r, out->has_initiator ? "initiator" : "result");
}

size_t ws_mcs_attach_user_confirm_encode(const ws_mcs_attach_user_confirm *in, uint8_t *out, size_t cap)
{
    ws_wr w = ws_wr_new(out, cap);
    confirm_wfirst(&w, WS_MCS_ATTACH_USER_CONFIRM, in->has_initiator, in->result);
    if (in->has_initiator)
        per_wuser_id(&w, in->initiator);
    return ws_wr_done(&w);
}

/* Channel Join Request (2.2.1.8): initiator, channelId. */
int ws_mcs_channel_join_request_decode(const uint8_t *buf, size_t len, ws_mcs_channel_join_request *out,
                                       ws_error *e)
{
    memset(out, 0, sizeof *out);
    ws_rd r = ws_rd_new(buf, len, "Channel Join Request", e);
    uint8_t o;
    if (domain_first(&r, WS_MCS_CHANNEL_JOIN_REQUEST, &o) || per_user_id(&r, "initiator", &out->initiator) ||
        ws_rd_u16_be(&r, "channelId", &out->channel_id))
        return -1;
    return ws_rd_end(&r, "channelId");
}

size_t ws_mcs_channel_join_request_encode(const ws_mcs_channel_join_request *in, uint8_t *out, size_t cap)
{
    ws_wr w = ws_wr_new(out, cap);
    ws_wr_u8(&w, WS_MCS_CHANNEL_JOIN_REQUEST << 2);
    per_wuser_id(&w, in->initiator);
    ws_wr_u16_be(&w, in->channel_id);
    return ws_wr_done(&w);
}

/* Channel Join Confirm (2.2.1.9): option bit 0x02 = channelId present; result,
 * initiator, requested, channelId. */
int ws_mcs_channel_join_confirm_decode(const uint8_t *buf, size_t len, ws_mcs_channel_join_confirm *out,
                                       ws_error *e)
{
    memset(out, 0, sizeof *out);
    ws_rd r = ws_rd_new(buf, len, "Channel Join Confirm", e);
    if (confirm_first(&r, WS_MCS_CHANNEL_JOIN_CONFIRM, &out->has_channel_id, &out->result))
        return -1;
    if (per_user_id(&r, "initiator", &out->initiator) || ws_rd_u16_be(&r, "requested", &out->requested))
        return -1;
    if (out->has_channel_id && ws_rd_u16_be(&r, "channelId", &out->channel_id))
        return -1;
    return ws_rd_end(&r, out->has_channel_id ? "channelId" : "requested");
}

size_t ws_mcs_channel_join_confirm_encode(const ws_mcs_channel_join_confirm *in, uint8_t *out, size_t cap)
{
    ws_wr w = ws_wr_new(out, cap);
    confirm_wfirst(&w, WS_MCS_CHANNEL_JOIN_CONFIRM, in->has_channel_id, in->result);
    per_wuser_id(&w, in->initiator);
    ws_wr_u16_be(&w, in->requested);
    if (in->has_channel_id)
        ws_wr_u16_be(&w, in->channel_id);
    return ws_wr_done(&w);
}

/* Send Data Request / Indication (2.2.8.1.1.1.1 and every slow-path PDU): initiator,
 * channelId, dataPriority + segmentation, PER length, userData filling the rest. */
int ws_mcs_send_data_decode(int type, const uint8_t *buf, size_t len, ws_mcs_send_data *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    if (type != WS_MCS_SEND_DATA_REQUEST && type != WS_MCS_SEND_DATA_INDICATION)
        return ws_seterr(e, "Send Data: type %d is neither a Request (25) nor an Indication (26)", type);
    ws_rd r = ws_rd_new(buf, len, ws_mcs_domain_pdu_name(type), e);
    uint8_t o;
    size_t n;
    if (domain_first(&r, type, &o) || per_user_id(&r, "initiator", &out->initiator) ||
        ws_rd_u16_be(&r, "channelId", &out->channel_id) || ws_rd_u8(&r, "dataPriority", &out->flags) ||
        per_len(&r, "userData", &n, 1))
        return -1;
    if (n != ws_rd_remaining(&r))
        return ws_seterr(e, "%s: %zu unexpected bytes at offset %zu after the userData", r.name,
                         ws_rd_remaining(&r) - n,
                         ws_rd_offset(&r) + n);
    out->data = ws_rd_ptr(&r);
    out->len = n;
    return 0;
}

size_t ws_mcs_send_data_header_len(size_t len)
{
    return len < 0x80 ? 7 : 8;
}

size_t ws_mcs_send_data_encode(int type, const ws_mcs_send_data *in, uint8_t *out, size_t cap)
{
    if ((type != WS_MCS_SEND_DATA_REQUEST && type != WS_MCS_SEND_DATA_INDICATION) ||
        in->len > WS_MCS_SEND_DATA_MAX || in->initiator < WS_MCS_USERID_BASE || (in->len && !in->data))
        return 0;
    size_t hl = ws_mcs_send_data_header_len(in->len);
    if (cap < hl || cap - hl < in->len)
        return 0;
    if (in->len)
        memmove(out + hl, in->data, in->len); /* first: data may sit where the header goes */
    ws_wr w = ws_wr_new(out, hl);
    ws_wr_u8(&w, (uint8_t)(type << 2));
    per_wuser_id(&w, in->initiator);
    ws_wr_u16_be(&w, in->channel_id);
    ws_wr_u8(&w, in->flags);
    per_wlen(&w, in->len);
    return w.failed ? 0 : hl + in->len;
}

size_t ws_mcs_send_data_encode_tpkt(int type, const ws_mcs_send_data *in, uint8_t *out, size_t cap)
{
    if (cap < WS_X224_DATA_HEADER)
        return 0;
    return x224_wrap(ws_mcs_send_data_encode(type, in, out + WS_X224_DATA_HEADER, cap - WS_X224_DATA_HEADER), out);
}
