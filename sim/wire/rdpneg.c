/* rdpneg: see rdpneg.h. Layouts from MS-RDPEPS 2.2.1.1/2.2.1.2, RFC 1006 (TPKT),
 * X.224 (ITU-T T.123 class 0 TPDUs) and MS-RDPBCGR 2.2.1.1/2.2.1.2, as FreeRDP's
 * libfreerdp/core/nego.c and tpdu.c write and read them (REFERENCE.md section 8).
 * Every read is bounded by the caller's length; nothing is allocated. */
#include "wire/rdpneg.h"

#include <string.h>

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

static uint16_t get16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16be(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put16be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* ---- pre-connection PDU (MS-RDPEPS 2.2.1.1 RDP_PRECONNECTION_PDU_V1, 2.2.1.2 _V2) ----
 * u32 cbSize, u32 Flags, u32 Version (1 or 2), u32 Id; version 2 adds u16 cchPCB and
 * cchPCB UTF-16LE code units of wszPCB. */

int ws_pcb_decode(const uint8_t *buf, size_t len, ws_pcb_pdu *out, size_t *consumed, ws_error *e)
{
    memset(out, 0, sizeof *out);
    if (consumed)
        *consumed = 0;
    if (len < 4)
        return 1;
    uint32_t cb = get32le(buf);
    if (cb < PCB_HEADER)
        return ws_seterr(e, "pre-connection PDU: cbSize %u is below the 16-byte header", cb);
    if (cb > WS_PCB_PDU_MAX)
        return ws_seterr(e, "pre-connection PDU: cbSize %u is over the %d accepted", cb, WS_PCB_PDU_MAX);
    if (len < cb)
        return 1;
    out->flags = get32le(buf + 4);
    out->version = get32le(buf + 8);
    out->id = get32le(buf + 12);
    if (out->version == 1) {
        if (cb != PCB_HEADER)
            return ws_seterr(e, "pre-connection PDU: version 1 with cbSize %u (must be 16)", cb);
    } else if (out->version == 2) {
        if (cb < PCB_V2_MIN)
            return ws_seterr(e, "pre-connection PDU: version 2 with cbSize %u (at least 18)", cb);
        uint32_t cch = get16le(buf + 16);
        if (PCB_V2_MIN + 2 * cch > cb)
            return ws_seterr(e, "pre-connection PDU: cchPCB %u overruns cbSize %u", cch, cb);
        /* ws_utf16le_to_utf8 stops at the first NUL: FreeRDP ends the string in two. */
        if (ws_utf16le_to_utf8(buf + PCB_V2_MIN, 2 * (size_t)cch, out->pcb, sizeof out->pcb) < 0)
            return ws_seterr(e, "pre-connection PDU: wszPCB at offset 18 is not valid UTF-16LE or is over %d bytes",
                             WS_PCB_MAX);
    } else {
        return ws_seterr(e, "pre-connection PDU: unknown version %u", out->version);
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
    if (cb > WS_PCB_PDU_MAX || cb > cap)
        return 0;
    put32le(out, (uint32_t)cb);
    put32le(out + 4, 0);
    put32le(out + 8, 2);
    put32le(out + 12, 0);
    put16le(out + 16, (uint16_t)cch);
    if (pcb) {
        memcpy(out + PCB_V2_MIN, w, (size_t)wn);
        memset(out + PCB_V2_MIN + wn, 0, 4);
    }
    return cb;
}

/* ---- TPKT (RFC 1006 section 6; T.123 8): u8 version 3, u8 reserved, u16 BE length ---- */

long ws_tpkt_length(const uint8_t *buf, size_t len, size_t max)
{
    if (len < TPKT_HEADER)
        return 0;
    if (buf[0] != 3)
        return -1;
    /* The reserved byte is ignored, as FreeRDP's tpkt_read_header does. */
    size_t n = get16be(buf + 2);
    if (n < TPKT_HEADER + 3 || n > max) /* 3: the shortest X.224 header, a Data TPDU's */
        return -1;
    return (long)n;
}

/* The TPKT and the X.224 fixed part shared by the CR and the CC: the whole TPKT is
 * given, LI counts every byte after itself (MS-RDPBCGR 2.2.1.1: LI = length - 5). */
static int x224_check(const uint8_t *tpkt, size_t len, uint8_t code, const char *what, ws_error *e)
{
    long n = ws_tpkt_length(tpkt, len, WS_TPKT_MAX);
    if (n == 0 || (n > 0 && (size_t)n > len))
        return ws_seterr(e, "%s: truncated (%zu bytes)", what, len);
    if (n < 0)
        return ws_seterr(e, "%s: not a TPKT (version %u, length %u)", what, tpkt[0], get16be(tpkt + 2));
    if ((size_t)n != len)
        return ws_seterr(e, "%s: TPKT length %ld but %zu bytes given", what, n, len);
    if (len < X224_FIXED)
        return ws_seterr(e, "%s: %zu bytes, too short for the 7-byte X.224 header", what, len);
    if (tpkt[4] != len - 5)
        return ws_seterr(e, "%s: X.224 length indicator %u at offset 4 does not match the TPKT length %zu", what,
                         tpkt[4], len);
    if (tpkt[5] != code)
        return ws_seterr(e, "%s: X.224 code 0x%02X at offset 5 (expected 0x%02X)", what, tpkt[5], code);
    if (tpkt[10] != 0)
        return ws_seterr(e, "%s: X.224 class option 0x%02X at offset 10 (expected class 0)", what, tpkt[10]);
    return 0;
}

static void put_x224(uint8_t *out, size_t total, uint8_t code, uint16_t dst, uint16_t src)
{
    out[0] = 3;
    out[1] = 0;
    put16be(out + 2, (uint16_t)total);
    out[4] = (uint8_t)(total - 5);
    out[5] = code;
    put16be(out + 6, dst);
    put16be(out + 8, src);
    out[10] = 0;
}

/* ---- X.224 Connection Request (MS-RDPBCGR 2.2.1.1): TPKT, x224Crq (LI, 0xE0, DST-REF 0,
 * SRC-REF, class 0), optional routingToken or cookie ("Cookie: ...\r\n"), optional
 * RDP_NEG_REQ (2.2.1.1.1: u8 type 1, u8 flags, u16 length 8, u32 requestedProtocols),
 * and RDP_NEG_CORRELATION_INFO (2.2.1.1.2) when the flags announce it. */

int ws_x224_cr_decode(const uint8_t *tpkt, size_t len, ws_x224_cr *out, ws_error *e)
{
    static const char prefix[] = "Cookie: ";
    memset(out, 0, sizeof *out);
    if (x224_check(tpkt, len, X224_CR, "X.224 Connection Request", e) < 0)
        return -1;
    if (get16be(tpkt + 6) != 0)
        return ws_seterr(e, "X.224 Connection Request: DST-REF 0x%04X at offset 6 (must be 0)", get16be(tpkt + 6));
    size_t off = X224_FIXED;
    if (len - off >= sizeof prefix - 1 && memcmp(tpkt + off, prefix, sizeof prefix - 1) == 0) {
        size_t i = off;
        while (i + 1 < len && !(tpkt[i] == '\r' && tpkt[i + 1] == '\n')) {
            if (tpkt[i] < 0x20 || tpkt[i] == 0x7F)
                return ws_seterr(e, "X.224 Connection Request: control byte 0x%02X in the cookie at offset %zu",
                                 tpkt[i], i);
            i++;
        }
        if (i + 1 >= len)
            return ws_seterr(e, "X.224 Connection Request: the cookie at offset %zu does not end in CRLF", off);
        if (i - off >= sizeof out->cookie)
            return ws_seterr(e, "X.224 Connection Request: the cookie at offset %zu is %zu bytes (at most %zu)", off,
                             i - off, sizeof out->cookie - 1);
        memcpy(out->cookie, tpkt + off, i - off);
        out->cookie[i - off] = '\0';
        off = i + 2;
    }
    if (off == len)
        return 0;
    if (len - off < NEG_LENGTH || tpkt[off] != WS_NEG_TYPE_REQ || get16le(tpkt + off + 2) != NEG_LENGTH)
        return ws_seterr(e, "X.224 Connection Request: unexpected bytes at offset %zu (not a cookie or RDP_NEG_REQ)",
                         off);
    out->has_neg = 1;
    out->neg_flags = tpkt[off + 1];
    out->requested_protocols = get32le(tpkt + off + 4);
    off += NEG_LENGTH;
    if (off < len && (out->neg_flags & NEG_CORRELATION_INFO_PRESENT) && len - off == NEG_CORRELATION_INFO_LENGTH &&
        tpkt[off] == NEG_CORRELATION_INFO && get16le(tpkt + off + 2) == NEG_CORRELATION_INFO_LENGTH)
        off += NEG_CORRELATION_INFO_LENGTH; /* mstsc's correlation id: accepted and not kept */
    if (off != len)
        return ws_seterr(e, "X.224 Connection Request: unexpected bytes at offset %zu after RDP_NEG_REQ", off);
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
    if (total > cap)
        return 0;
    put_x224(out, total, X224_CR, 0, 0);
    size_t off = X224_FIXED;
    if (clen) {
        memcpy(out + off, in->cookie, clen);
        out[off + clen] = '\r';
        out[off + clen + 1] = '\n';
        off += clen + 2;
    }
    if (in->has_neg) {
        out[off] = WS_NEG_TYPE_REQ;
        out[off + 1] = in->neg_flags;
        put16le(out + off + 2, NEG_LENGTH);
        put32le(out + off + 4, in->requested_protocols);
    }
    return total;
}

/* ---- X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2): TPKT, x224Ccf (LI, 0xD0, DST-REF,
 * SRC-REF, class 0), optional RDP_NEG_RSP (2.2.1.2.1: type 2, flags, length 8,
 * u32 selectedProtocol) or RDP_NEG_FAILURE (2.2.1.2.2: type 3, flags, length 8,
 * u32 failureCode): 19 bytes with either. */

int ws_x224_cc_decode(const uint8_t *tpkt, size_t len, ws_x224_cc *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    if (x224_check(tpkt, len, X224_CC, "X.224 Connection Confirm", e) < 0)
        return -1;
    size_t off = X224_FIXED;
    if (off == len)
        return 0;
    if (len - off != NEG_LENGTH || (tpkt[off] != WS_NEG_TYPE_RSP && tpkt[off] != WS_NEG_TYPE_FAILURE) ||
        get16le(tpkt + off + 2) != NEG_LENGTH)
        return ws_seterr(e, "X.224 Connection Confirm: unexpected bytes at offset %zu (not RDP_NEG_RSP or "
                            "RDP_NEG_FAILURE)", off);
    out->has_neg = 1;
    out->neg_type = tpkt[off];
    out->neg_flags = tpkt[off + 1];
    out->value = get32le(tpkt + off + 4);
    return 0;
}

size_t ws_x224_cc_encode(const ws_x224_cc *in, uint8_t *out, size_t cap)
{
    if (in->has_neg && in->neg_type != WS_NEG_TYPE_RSP && in->neg_type != WS_NEG_TYPE_FAILURE)
        return 0;
    size_t total = X224_FIXED + (in->has_neg ? NEG_LENGTH : 0);
    if (total > cap)
        return 0;
    put_x224(out, total, X224_CC, 0, CC_SRC_REF);
    if (in->has_neg) {
        out[X224_FIXED] = in->neg_type;
        out[X224_FIXED + 1] = in->neg_flags;
        put16le(out + X224_FIXED + 2, NEG_LENGTH);
        put32le(out + X224_FIXED + 4, in->value);
    }
    return total;
}
