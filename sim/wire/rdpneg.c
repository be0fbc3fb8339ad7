/* SPDX-License-Identifier: Apache-2.0 */
/* rdpneg: see rdpneg.h. Layouts from MS-RDPEPS 2.2.1.1/2.2.1.2, RFC 1006 (TPKT),
 * X.224 (ITU-T T.123 class 0 TPDUs) and MS-RDPBCGR 2.2.1.1/2.2.1.2, as FreeRDP's
 * libfreerdp/core/nego.c and tpdu.c write and read them (REFERENCE.md section 8).
 * Every read is bounded by the caller's length; nothing is allocated. */
#include "wire/rdpneg.h"

#include <string.h>

#include "base/bytes.h"
#include "base/utf16.h"

#define PCB_HEADER 16           /* cbSize, Flags, Version, Id */
#define PCB_V2_MIN 18           /* ... and cchPCB */
#define TPKT_HEADER 4
#define X224_HEADER 7           /* LI, code, DST-REF, SRC-REF, class option */
#define X224_FIXED (TPKT_HEADER + X224_HEADER)
#define X224_CR 0xE0
#define X224_CC 0xD0
#define NEG_LENGTH 8
#define NEG_CORRELATION_INFO 0x06
#define NEG_CORRELATION_INFO_LENGTH 36
#define NEG_CORRELATION_INFO_PRESENT 0x08
#define CC_SRC_REF 0x1234       /* what Windows servers put in a Connection Confirm */

/* ---- pre-connection PDU (MS-RDPEPS 2.2.1.1 RDP_PRECONNECTION_PDU_V1, 2.2.1.2 _V2) ----
 * u32 cbSize, u32 Flags, u32 Version (1 or 2), u32 Id; version 2 adds u16 cchPCB and
 * cchPCB UTF-16LE code units of wszPCB. */

int ws_pcb_decode(const uint8_t *buf, size_t len, ws_pcb_pdu *out, size_t *consumed, ws_error *e)
{
    static const char what[] = "pre-connection PDU";
    ws_rd r;
    uint32_t cb;
    memset(out, 0, sizeof *out);
    if (consumed)
        *consumed = 0;
    ws_rd_init(&r, buf, len, what, NULL); /* running out here means "more bytes needed" */
    if (ws_rd_u32(&r, "cbSize", &cb))
        return 1;
    if (cb < PCB_HEADER)
        return ws_seterr(e, "%s: cbSize %u is below the 16-byte header", what, cb);
    if (cb > WS_PCB_PDU_MAX)
        return ws_seterr(e, "%s: cbSize %u is over the %d accepted", what, cb, WS_PCB_PDU_MAX);
    if (len < cb)
        return 1;
    ws_rd_init(&r, buf, cb, what, e);
    ws_rd_skip(&r, 4, "cbSize");
    /* cbSize >= 16: the fixed part is there. */
    ws_rd_u32(&r, "Flags", &out->flags);
    ws_rd_u32(&r, "Version", &out->version);
    ws_rd_u32(&r, "Id", &out->id);
    if (out->version == 1) {
        if (cb != PCB_HEADER)
            return ws_seterr(e, "%s: version 1 with cbSize %u (must be 16)", what, cb);
    } else if (out->version == 2) {
        uint16_t cch;
        const uint8_t *w;
        if (cb < PCB_V2_MIN)
            return ws_seterr(e, "%s: version 2 with cbSize %u (at least 18)", what, cb);
        ws_rd_u16(&r, "cchPCB", &cch);
        if (2 * (size_t)cch > ws_rd_remaining(&r))
            return ws_seterr(e, "%s: cchPCB %u overruns cbSize %u", what, cch, cb);
        ws_rd_bytes(&r, 2 * (size_t)cch, "wszPCB", &w);
        /* ws_utf16le_to_utf8 stops at the first NUL: FreeRDP ends the string in two. */
        if (ws_utf16le_to_utf8(w, 2 * (size_t)cch, out->pcb, sizeof out->pcb) < 0)
            return ws_seterr(e, "%s: wszPCB at offset 18 is not valid UTF-16LE or is over %d bytes", what,
                             WS_PCB_MAX);
    } else {
        return ws_seterr(e, "%s: unknown version %u", what, out->version);
    }
    if (consumed)
        *consumed = cb;
    return 0;
}

size_t ws_pcb_encode(const char *pcb, uint8_t *out, size_t cap)
{
    uint8_t w[2 * WS_PCB_MAX];
    long wn = 0;
    uint32_t cch = 0;
    if (pcb) {
        if (strlen(pcb) > WS_PCB_MAX)
            return 0;
        wn = ws_utf8_to_utf16le(pcb, w, sizeof w);
        if (wn < 0)
            return 0;
        cch = (uint32_t)wn / 2 + 2; /* FreeRDP: characters, NUL, and one more NUL */
    }
    size_t cb = PCB_V2_MIN + 2 * (size_t)cch;
    if (cb > WS_PCB_PDU_MAX)
        return 0;
    ws_wr wr;
    ws_wr_init(&wr, out, cap);
    ws_wr_u32(&wr, (uint32_t)cb);
    ws_wr_u32(&wr, 0); /* Flags */
    ws_wr_u32(&wr, 2); /* Version */
    ws_wr_u32(&wr, 0); /* Id */
    ws_wr_u16(&wr, (uint16_t)cch);
    if (pcb) {
        ws_wr_bytes(&wr, w, (size_t)wn);
        ws_wr_zero(&wr, 4);
    }
    return ws_wr_done(&wr);
}

/* ---- TPKT (RFC 1006 section 6; T.123 8): u8 version 3, u8 reserved, u16 BE length ---- */

long ws_tpkt_length(const uint8_t *buf, size_t len, size_t max)
{
    ws_rd r;
    uint8_t version, reserved;
    uint16_t n;
    ws_rd_init(&r, buf, len, "TPKT", NULL);
    if (ws_rd_u8(&r, "version", &version) || ws_rd_u8(&r, "reserved", &reserved) ||
        ws_rd_u16_be(&r, "length", &n))
        return 0;
    if (version != 3)
        return -1;
    /* The reserved byte is ignored, as FreeRDP's tpkt_read_header does. */
    if (n < TPKT_HEADER + 3 || n > max) /* 3: the shortest X.224 header, a Data TPDU's */
        return -1;
    return (long)n;
}

/* The TPKT and the X.224 fixed part shared by the CR and the CC: the whole TPKT is
 * given, LI counts every byte after itself (MS-RDPBCGR 2.2.1.1: LI = length - 5).
 * Leaves r after the class option with *dst the DST-REF. */
static int x224_check(ws_rd *r, const uint8_t *tpkt, size_t len, uint8_t code, const char *what, uint16_t *dst,
                      ws_error *e)
{
    uint8_t version = 0, li, c, cls;
    uint16_t tlen = 0, src;
    ws_rd_init(r, tpkt, len, what, e);
    long n = ws_tpkt_length(tpkt, len, WS_TPKT_MAX);
    if (n == 0)
        return ws_rd_need(r, TPKT_HEADER, "TPKT header");
    if (n < 0) {
        ws_rd_u8(r, "TPKT version", &version);
        ws_rd_skip(r, 1, "TPKT reserved");
        ws_rd_u16_be(r, "TPKT length", &tlen);
        return ws_seterr(e, "%s: not a TPKT (version %u, length %u)", what, version, tlen);
    }
    if ((size_t)n > len)
        return ws_rd_need(r, (size_t)n, "TPKT");
    if ((size_t)n != len)
        return ws_seterr(e, "%s: TPKT length %ld but %zu bytes given", what, n, len);
    if (len < X224_FIXED)
        return ws_seterr(e, "%s: %zu bytes, too short for the 7-byte X.224 header", what, len);
    /* The fixed part is there. */
    ws_rd_skip(r, TPKT_HEADER, "TPKT header");
    ws_rd_u8(r, "LI", &li);
    ws_rd_u8(r, "code", &c);
    ws_rd_u16_be(r, "DST-REF", dst);
    ws_rd_u16_be(r, "SRC-REF", &src);
    ws_rd_u8(r, "class option", &cls);
    if (li != len - 5)
        return ws_seterr(e, "%s: X.224 length indicator %u at offset 4 does not match the TPKT length %zu", what,
                         li, len);
    if (c != code)
        return ws_seterr(e, "%s: X.224 code 0x%02X at offset 5 (expected 0x%02X)", what, c, code);
    if (cls != 0)
        return ws_seterr(e, "%s: X.224 class option 0x%02X at offset 10 (expected class 0)", what, cls);
    return 0;
}

static void put_x224(ws_wr *w, size_t total, uint8_t code, uint16_t dst, uint16_t src)
{
    ws_wr_u8(w, 3); /* TPKT version */
    ws_wr_u8(w, 0);
    ws_wr_u16_be(w, (uint16_t)total);
    ws_wr_u8(w, (uint8_t)(total - 5)); /* LI */
    ws_wr_u8(w, code);
    ws_wr_u16_be(w, dst);
    ws_wr_u16_be(w, src);
    ws_wr_u8(w, 0); /* class 0 */
}

/* An RDP_NEG_* structure (u8 type, u8 flags, u16 length 8, u32 value) of one of the
 * types allowed, when r holds one there; 0 when read, 1 when it does not. */
static int neg_read(ws_rd *r, uint8_t t1, uint8_t t2, uint8_t *type, uint8_t *flags, uint32_t *value)
{
    const uint8_t *q = ws_rd_ptr(r);
    if (ws_rd_remaining(r) < NEG_LENGTH || (q[0] != t1 && q[0] != t2) || (q[2] | q[3] << 8) != NEG_LENGTH)
        return 1;
    uint16_t length;
    ws_rd_u8(r, "type", type);
    ws_rd_u8(r, "flags", flags);
    ws_rd_u16(r, "length", &length);
    ws_rd_u32(r, "value", value);
    return 0;
}

/* ---- X.224 Connection Request (MS-RDPBCGR 2.2.1.1): TPKT, x224Crq (LI, 0xE0, DST-REF 0,
 * SRC-REF, class 0), optional routingToken or cookie ("Cookie: ...\r\n"), optional
 * RDP_NEG_REQ (2.2.1.1.1: u8 type 1, u8 flags, u16 length 8, u32 requestedProtocols),
 * and RDP_NEG_CORRELATION_INFO (2.2.1.1.2) when the flags announce it. */

int ws_x224_cr_decode(const uint8_t *tpkt, size_t len, ws_x224_cr *out, ws_error *e)
{
    static const char prefix[] = "Cookie: ";
    static const char what[] = "X.224 Connection Request";
    ws_rd r;
    uint16_t dst;
    memset(out, 0, sizeof *out);
    if (x224_check(&r, tpkt, len, X224_CR, what, &dst, e) < 0)
        return -1;
    if (dst != 0)
        return ws_seterr(e, "%s: DST-REF 0x%04X at offset 6 (must be 0)", what, dst);
    size_t off = ws_rd_offset(&r), left = ws_rd_remaining(&r);
    const uint8_t *c = ws_rd_ptr(&r);
    if (left >= sizeof prefix - 1 && memcmp(c, prefix, sizeof prefix - 1) == 0) {
        size_t i = 0;
        while (i + 1 < left && !(c[i] == '\r' && c[i + 1] == '\n')) {
            if (c[i] < 0x20 || c[i] == 0x7F)
                return ws_seterr(e, "%s: control byte 0x%02X in the cookie at offset %zu", what, c[i], off + i);
            i++;
        }
        if (i + 1 >= left)
            return ws_seterr(e, "%s: the cookie at offset %zu does not end in CRLF", what, off);
        if (i >= sizeof out->cookie)
            return ws_seterr(e, "%s: the cookie at offset %zu is %zu bytes (at most %zu)", what, off, i,
                             sizeof out->cookie - 1);
        ws_rd_copy(&r, i, "cookie", out->cookie);
        out->cookie[i] = '\0';
        ws_rd_skip(&r, 2, "CRLF");
    }
    if (!ws_rd_remaining(&r))
        return 0;
    uint8_t type;
    if (neg_read(&r, WS_NEG_TYPE_REQ, WS_NEG_TYPE_REQ, &type, &out->neg_flags, &out->requested_protocols))
        return ws_seterr(e, "%s: unexpected bytes at offset %zu (not a cookie or RDP_NEG_REQ)", what,
                         ws_rd_offset(&r));
    out->has_neg = 1;
    const uint8_t *q = ws_rd_ptr(&r);
    if ((out->neg_flags & NEG_CORRELATION_INFO_PRESENT) && ws_rd_remaining(&r) == NEG_CORRELATION_INFO_LENGTH &&
        q[0] == NEG_CORRELATION_INFO && (q[2] | q[3] << 8) == NEG_CORRELATION_INFO_LENGTH)
        ws_rd_skip(&r, NEG_CORRELATION_INFO_LENGTH, "RDP_NEG_CORRELATION_INFO"); /* mstsc's: accepted, not kept */
    if (ws_rd_remaining(&r))
        return ws_seterr(e, "%s: unexpected bytes at offset %zu after RDP_NEG_REQ", what, ws_rd_offset(&r));
    return 0;
}

size_t ws_x224_cr_encode(const ws_x224_cr *in, uint8_t *out, size_t cap)
{
    size_t clen = strnlen(in->cookie, sizeof in->cookie);
    if (clen >= sizeof in->cookie)
        return 0;
    for (size_t i = 0; i < clen; i++)
        if ((uint8_t)in->cookie[i] < 0x20 || in->cookie[i] == 0x7F)
            return 0; /* a CR or LF would end the line early */
    size_t total = X224_FIXED + (clen ? clen + 2 : 0) + (in->has_neg ? NEG_LENGTH : 0);
    ws_wr w;
    ws_wr_init(&w, out, cap);
    put_x224(&w, total, X224_CR, 0, 0);
    if (clen) {
        ws_wr_bytes(&w, in->cookie, clen);
        ws_wr_bytes(&w, "\r\n", 2);
    }
    if (in->has_neg) {
        ws_wr_u8(&w, WS_NEG_TYPE_REQ);
        ws_wr_u8(&w, in->neg_flags);
        ws_wr_u16(&w, NEG_LENGTH);
        ws_wr_u32(&w, in->requested_protocols);
    }
    return ws_wr_done(&w);
}

/* ---- X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2): TPKT, x224Ccf (LI, 0xD0, DST-REF,
 * SRC-REF, class 0), optional RDP_NEG_RSP (2.2.1.2.1: type 2, flags, length 8,
 * u32 selectedProtocol) or RDP_NEG_FAILURE (2.2.1.2.2: type 3, flags, length 8,
 * u32 failureCode): 19 bytes with either. */

int ws_x224_cc_decode(const uint8_t *tpkt, size_t len, ws_x224_cc *out, ws_error *e)
{
    static const char what[] = "X.224 Connection Confirm";
    ws_rd r;
    uint16_t dst;
    memset(out, 0, sizeof *out);
    if (x224_check(&r, tpkt, len, X224_CC, what, &dst, e) < 0)
        return -1;
    if (!ws_rd_remaining(&r))
        return 0;
    if (ws_rd_remaining(&r) != NEG_LENGTH ||
        neg_read(&r, WS_NEG_TYPE_RSP, WS_NEG_TYPE_FAILURE, &out->neg_type, &out->neg_flags, &out->value))
        return ws_seterr(e, "%s: unexpected bytes at offset %zu (not RDP_NEG_RSP or RDP_NEG_FAILURE)", what,
                         ws_rd_offset(&r));
    out->has_neg = 1;
    return 0;
}

size_t ws_x224_cc_encode(const ws_x224_cc *in, uint8_t *out, size_t cap)
{
    if (in->has_neg && in->neg_type != WS_NEG_TYPE_RSP && in->neg_type != WS_NEG_TYPE_FAILURE)
        return 0;
    size_t total = X224_FIXED + (in->has_neg ? NEG_LENGTH : 0);
    ws_wr w;
    ws_wr_init(&w, out, cap);
    put_x224(&w, total, X224_CC, 0, CC_SRC_REF);
    if (in->has_neg) {
        ws_wr_u8(&w, in->neg_type);
        ws_wr_u8(&w, in->neg_flags);
        ws_wr_u16(&w, NEG_LENGTH);
        ws_wr_u32(&w, in->value);
    }
    return ws_wr_done(&w);
}
