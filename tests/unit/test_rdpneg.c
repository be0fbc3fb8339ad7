/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/rdpneg.c: the pre-connection PDU as FreeRDP writes it, TPKT framing,
 * and the X.224 Connection Request and Confirm with the bytes REFERENCE.md section 8
 * observed (MS-RDPEPS 2.2.1.2, MS-RDPBCGR 2.2.1.1, 2.2.1.2), refusals naming offsets,
 * need-more at every truncation, and random bytes into every decoder. */

#include "harness.h"

#include "wire/rdpneg.h"
#include "base/util.h"

#define GUID "5e3a9f0c-1b2d-4c8e-9f7a-0123456789ab"

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A version 2 PDU by hand: cbSize, the header, cchPCB and the given UTF-16LE units. */
static size_t pcb_raw(uint8_t *out, uint32_t cb, uint32_t version, uint16_t cch, const uint16_t *units, size_t n)
{
    memset(out, 0, cb > 18 + 2 * n ? cb : 18 + 2 * n);
    wr32(out, cb);
    wr32(out + 8, version);
    wr32(out + 12, 0);
    out[16] = (uint8_t)cch;
    out[17] = (uint8_t)(cch >> 8);
    for (size_t i = 0; i < n; i++) {
        out[18 + 2 * i] = (uint8_t)units[i];
        out[19 + 2 * i] = (uint8_t)(units[i] >> 8);
    }
    return cb;
}

/* ---- pre-connection PDU ------------------------------------------------------------ */

static void test_pcb_guid(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = ws_pcb_encode(GUID, buf, sizeof buf);
    assert_int_equal(n, 94);
    assert_int_equal(rd32(buf), 94);     /* cbSize */
    assert_int_equal(rd32(buf + 4), 0);  /* Flags */
    assert_int_equal(rd32(buf + 8), 2);  /* Version */
    assert_int_equal(rd32(buf + 12), 0); /* Id */
    assert_int_equal(buf[16] | buf[17] << 8, 38);
    assert_int_equal(buf[18], '5');
    assert_int_equal(buf[19], 0);
    assert_int_equal(buf[18 + 35 * 2], 'b');
    static const uint8_t zeros[4] = {0};
    assert_memory_equal(buf + 90, zeros, 4); /* two NULs */

    ws_pcb_pdu pdu;
    ws_error e = {{0}};
    size_t used = 0;
    assert_int_equal(ws_pcb_decode(buf, n, &pdu, &used, &e), 0);
    assert_int_equal(used, 94);
    assert_int_equal(pdu.version, 2);
    assert_int_equal(pdu.flags, 0);
    assert_int_equal(pdu.id, 0);
    assert_string_equal(pdu.pcb, GUID);

    /* Too small a buffer, a NULL pcb (no string), an empty one (two NULs). */
    assert_int_equal(ws_pcb_encode(GUID, buf, 93), 0);
    assert_int_equal(ws_pcb_encode(NULL, buf, sizeof buf), 18);
    assert_int_equal(ws_pcb_decode(buf, 18, &pdu, &used, &e), 0);
    assert_string_equal(pdu.pcb, "");
    assert_int_equal(ws_pcb_encode("", buf, sizeof buf), 22);
    assert_int_equal(buf[16], 2);
    assert_int_equal(ws_pcb_decode(buf, 22, &pdu, &used, &e), 0);
    assert_int_equal(used, 22);
    assert_string_equal(pdu.pcb, "");
}

static void test_pcb_then_connection_request(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = ws_pcb_encode(GUID, buf, sizeof buf);
    ws_x224_cr cr = {.cookie = "Cookie: mstshash=hvadmin", .has_neg = 1, .requested_protocols = 0x05};
    size_t m = ws_x224_cr_encode(&cr, buf + n, sizeof buf - n);
    assert_true(m > 0);
    assert_int_equal(buf[n], 0x03);
    assert_int_equal(buf[n + 1], 0x00);

    ws_pcb_pdu pdu;
    ws_error e = {{0}};
    size_t used = 0;
    assert_int_equal(ws_pcb_decode(buf, n + m, &pdu, &used, &e), 0);
    assert_int_equal(used, 94);
    assert_string_equal(pdu.pcb, GUID);
    /* Fewer bytes than cbSize, even with the CR's bytes partly there: need more. */
    size_t none = 99;
    assert_int_equal(ws_pcb_decode(buf, 93, &pdu, &none, &e), 1);
    assert_int_equal(none, 0);
    assert_int_equal(ws_pcb_decode(buf, n + m, &pdu, &used, &e), 0);

    assert_int_equal(ws_tpkt_length(buf + used, n + m - used, WS_TPKT_MAX), (long)m);
    ws_x224_cr got;
    assert_int_equal(ws_x224_cr_decode(buf + used, m, &got, &e), 0);
    assert_string_equal(got.cookie, "Cookie: mstshash=hvadmin");
    assert_int_equal(got.requested_protocols, 0x05);
}

static void test_pcb_enhanced_mode(void **state)
{
    (void)state;
    const char *pcb = GUID ";EnhancedMode=1";
    uint8_t buf[256];
    size_t n = ws_pcb_encode(pcb, buf, sizeof buf);
    assert_int_equal(n, 18 + 2 * (strlen(pcb) + 2));
    ws_pcb_pdu pdu;
    ws_error e = {{0}};
    size_t used;
    assert_int_equal(ws_pcb_decode(buf, n, &pdu, &used, &e), 0);
    assert_string_equal(pdu.pcb, pcb);
    assert_int_equal(used, n);

    /* Outside the BMP: cchPCB counts UTF-16 code units. */
    const char *wide = "h\xc3\xa9\xf0\x9f\x98\x80";
    n = ws_pcb_encode(wide, buf, sizeof buf);
    assert_int_equal(buf[16], 4 + 2);
    assert_int_equal(ws_pcb_decode(buf, n, &pdu, &used, &e), 0);
    assert_string_equal(pdu.pcb, wide);
}

static void test_pcb_need_more(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = ws_pcb_encode(GUID ";EnhancedMode=1", buf, sizeof buf);
    for (size_t k = 0; k < n; k++) {
        uint8_t *copy = malloc(k ? k : 1);
        memcpy(copy, buf, k);
        ws_pcb_pdu pdu;
        ws_error e = {{0}};
        size_t used = 99;
        assert_int_equal(ws_pcb_decode(copy, k, &pdu, &used, &e), 1);
        assert_int_equal(used, 0);
        free(copy);
    }
}

static void test_pcb_version1_and_nul(void **state)
{
    (void)state;
    uint8_t buf[64];
    ws_pcb_pdu pdu;
    ws_error e = {{0}};
    size_t used;
    memset(buf, 0, sizeof buf);
    wr32(buf, 16);
    wr32(buf + 4, 0);
    wr32(buf + 8, 1);
    wr32(buf + 12, 42);
    assert_int_equal(ws_pcb_decode(buf, 20, &pdu, &used, &e), 0);
    assert_int_equal(used, 16);
    assert_int_equal(pdu.version, 1);
    assert_int_equal(pdu.id, 42);
    assert_string_equal(pdu.pcb, "");

    /* Cut at the first NUL; what follows it (even invalid UTF-16) is ignored. */
    static const uint16_t s[] = {'a', 'b', 'c', 0, 'd', 0xDC00, 0};
    size_t cb = pcb_raw(buf, 18 + 2 * 7, 2, 7, s, 7);
    assert_int_equal(ws_pcb_decode(buf, cb, &pdu, &used, &e), 0);
    assert_string_equal(pdu.pcb, "abc");
    /* No NUL at all, and cbSize larger than the string needs: accepted. */
    static const uint16_t t[] = {'x', 'y'};
    cb = pcb_raw(buf, 18 + 2 * 2 + 6, 2, 2, t, 2);
    assert_int_equal(ws_pcb_decode(buf, cb, &pdu, &used, &e), 0);
    assert_string_equal(pdu.pcb, "xy");
    assert_int_equal(used, cb);
    /* cchPCB 0 */
    cb = pcb_raw(buf, 18, 2, 0, NULL, 0);
    assert_int_equal(ws_pcb_decode(buf, cb, &pdu, &used, &e), 0);
    assert_string_equal(pdu.pcb, "");
}

static void expect_pcb_error(const uint8_t *buf, size_t len, const char *needle)
{
    ws_pcb_pdu pdu;
    ws_error e = {{0}};
    size_t used = 99;
    assert_int_equal(ws_pcb_decode(buf, len, &pdu, &used, &e), -1);
    assert_contains(e.msg, needle);
    assert_int_equal(used, 0);
}

static void test_pcb_errors(void **state)
{
    (void)state;
    static uint8_t buf[2048];
    static const uint16_t s[] = {'a', 'b', 0, 0};

    memset(buf, 0, sizeof buf);
    wr32(buf, 15);
    expect_pcb_error(buf, 4, "cbSize 15"); /* refused as soon as cbSize is there */
    wr32(buf, 0);
    expect_pcb_error(buf, 16, "cbSize 0");
    wr32(buf, WS_PCB_PDU_MAX + 1);
    expect_pcb_error(buf, 4, "over");
    wr32(buf, 0xFFFFFFFFu);
    expect_pcb_error(buf, 4, "over");

    /* cchPCB overrunning cbSize (by one unit, and by the maximum) */
    size_t cb = pcb_raw(buf, 18 + 2 * 3, 2, 4, s, 4);
    expect_pcb_error(buf, cb, "cchPCB 4 overruns cbSize 24");
    cb = pcb_raw(buf, 100, 2, 0xFFFF, s, 4);
    expect_pcb_error(buf, cb, "overruns");

    /* odd layouts: version 1 with a string, version 2 without cchPCB, unknown versions */
    cb = pcb_raw(buf, 18, 1, 0, NULL, 0);
    expect_pcb_error(buf, cb, "version 1");
    memset(buf, 0, 32);
    wr32(buf, 16);
    wr32(buf + 8, 2);
    expect_pcb_error(buf, 16, "version 2 with cbSize 16");
    wr32(buf + 8, 0);
    expect_pcb_error(buf, 16, "unknown version 0");
    cb = pcb_raw(buf, 22, 3, 2, s, 2);
    expect_pcb_error(buf, cb, "unknown version 3");
    /* odd cbSize with a string: cchPCB fits, the spare byte is tolerated */
    cb = pcb_raw(buf, 18 + 2 * 4 + 1, 2, 4, s, 4);
    ws_pcb_pdu pdu;
    size_t used;
    ws_error e;
    assert_int_equal(ws_pcb_decode(buf, cb, &pdu, &used, &e), 0);
    assert_int_equal(used, 27);

    /* invalid UTF-16: an unpaired low surrogate, a high surrogate before the NUL */
    static const uint16_t bad1[] = {'a', 0xDC00, 0};
    cb = pcb_raw(buf, 18 + 6, 2, 3, bad1, 3);
    expect_pcb_error(buf, cb, "UTF-16");
    static const uint16_t bad2[] = {'a', 0xD83D, 0, 0};
    cb = pcb_raw(buf, 18 + 8, 2, 4, bad2, 4);
    expect_pcb_error(buf, cb, "UTF-16");
    static const uint16_t bad3[] = {0xD83D};
    cb = pcb_raw(buf, 18 + 2, 2, 1, bad3, 1);
    expect_pcb_error(buf, cb, "UTF-16");

    /* over WS_PCB_MAX UTF-8 bytes, inside WS_PCB_PDU_MAX */
    uint16_t longs[WS_PCB_MAX + 1];
    for (size_t i = 0; i < WS_PCB_MAX + 1; i++)
        longs[i] = 'x';
    cb = pcb_raw(buf, 18 + 2 * (WS_PCB_MAX + 1), 2, WS_PCB_MAX + 1, longs, WS_PCB_MAX + 1);
    expect_pcb_error(buf, cb, "UTF-16");
    /* exactly WS_PCB_MAX: accepted */
    cb = pcb_raw(buf, 18 + 2 * WS_PCB_MAX, 2, WS_PCB_MAX, longs, WS_PCB_MAX);
    assert_int_equal(ws_pcb_decode(buf, cb, &pdu, &used, &e), 0);
    assert_int_equal(strlen(pdu.pcb), WS_PCB_MAX);

    /* the encoder refuses what the decoder would */
    char big[WS_PCB_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(ws_pcb_encode(big, buf, sizeof buf), 0);
    big[WS_PCB_MAX] = '\0';
    assert_int_equal(ws_pcb_encode(big, buf, sizeof buf), 18 + 2 * (WS_PCB_MAX + 2));
    assert_int_equal(ws_pcb_encode("\xff", buf, sizeof buf), 0);
    assert_int_equal(ws_pcb_encode("a\xed\xa0\x80", buf, sizeof buf), 0); /* encoded surrogate */
}

/* ---- TPKT ----------------------------------------------------------------------- */

static void test_tpkt_length(void **state)
{
    (void)state;
    uint8_t b[4] = {3, 0, 0, 19};
    for (size_t k = 0; k < 4; k++)
        assert_int_equal(ws_tpkt_length(b, k, WS_TPKT_MAX), 0);
    assert_int_equal(ws_tpkt_length(b, 4, WS_TPKT_MAX), 19);
    assert_int_equal(ws_tpkt_length(b, 4, 19), 19);
    assert_int_equal(ws_tpkt_length(b, 4, 18), -1);
    b[3] = 7;
    assert_int_equal(ws_tpkt_length(b, 4, WS_TPKT_MAX), 7);
    b[3] = 6;
    assert_int_equal(ws_tpkt_length(b, 4, WS_TPKT_MAX), -1);
    b[3] = 0;
    assert_int_equal(ws_tpkt_length(b, 4, WS_TPKT_MAX), -1);
    b[2] = 0x40; /* 16384 */
    assert_int_equal(ws_tpkt_length(b, 4, WS_TPKT_MAX), 16384);
    b[3] = 1;
    assert_int_equal(ws_tpkt_length(b, 4, WS_TPKT_MAX), -1);
    b[2] = 0xFF;
    b[3] = 0xFF;
    assert_int_equal(ws_tpkt_length(b, 4, 65535), 65535);
    b[2] = 0;
    b[3] = 19;
    b[0] = 2;
    assert_int_equal(ws_tpkt_length(b, 4, WS_TPKT_MAX), -1);
    b[0] = 0x30; /* a fast-path header, a TLS record (0x16) ... */
    assert_int_equal(ws_tpkt_length(b, 4, WS_TPKT_MAX), -1);
    b[0] = 0x16;
    assert_int_equal(ws_tpkt_length(b, 4, WS_TPKT_MAX), -1);
}

/* ---- X.224 Connection Request -------------------------------------------------------- */

static void test_cr_observed(void **state)
{
    (void)state;
    uint8_t buf[256];
    ws_error e = {{0}};
    ws_x224_cr cr = {.cookie = "", .has_neg = 1, .neg_flags = 0, .requested_protocols =
                                                                     WS_PROTOCOL_RDSTLS | WS_PROTOCOL_SSL};
    size_t n = ws_x224_cr_encode(&cr, buf, sizeof buf);
    static const uint8_t plain[] = {0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x01, 0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00};
    assert_int_equal(n, sizeof plain);
    assert_memory_equal(buf, plain, sizeof plain);
    ws_x224_cr got;
    assert_int_equal(ws_x224_cr_decode(buf, n, &got, &e), 0);
    assert_string_equal(got.cookie, "");
    assert_int_equal(got.has_neg, 1);
    assert_int_equal(got.neg_flags, 0);
    assert_int_equal(got.requested_protocols, 0x05);

    snprintf(cr.cookie, sizeof cr.cookie, "%s", "Cookie: mstshash=hvadmin");
    n = ws_x224_cr_encode(&cr, buf, sizeof buf);
    assert_int_equal(n, 11 + 24 + 2 + 8);
    assert_int_equal(buf[3], n);
    assert_int_equal(buf[4], n - 5);
    assert_memory_equal(buf + 11, "Cookie: mstshash=hvadmin\r\n", 26);
    static const uint8_t tail[] = {0x01, 0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00};
    assert_memory_equal(buf + n - 8, tail, 8);
    assert_int_equal(ws_x224_cr_decode(buf, n, &got, &e), 0);
    assert_string_equal(got.cookie, "Cookie: mstshash=hvadmin");
    assert_int_equal(got.has_neg, 1);
    assert_int_equal(got.requested_protocols, 0x05);

    /* a cookie and no RDP_NEG_REQ (an old client), and neither */
    cr.has_neg = 0;
    n = ws_x224_cr_encode(&cr, buf, sizeof buf);
    assert_int_equal(n, 11 + 26);
    assert_int_equal(ws_x224_cr_decode(buf, n, &got, &e), 0);
    assert_string_equal(got.cookie, "Cookie: mstshash=hvadmin");
    assert_int_equal(got.has_neg, 0);
    cr.cookie[0] = '\0';
    n = ws_x224_cr_encode(&cr, buf, sizeof buf);
    assert_int_equal(n, 11);
    assert_int_equal(ws_x224_cr_decode(buf, n, &got, &e), 0);
    assert_int_equal(got.has_neg, 0);
    assert_string_equal(got.cookie, "");

    /* a routing token line and flags are kept as they are */
    ws_x224_cr rt = {.cookie = "Cookie: msts=3640205228.15629.0000", .has_neg = 1, .neg_flags = 0x01,
                     .requested_protocols = WS_PROTOCOL_HYBRID | WS_PROTOCOL_SSL};
    n = ws_x224_cr_encode(&rt, buf, sizeof buf);
    assert_int_equal(ws_x224_cr_decode(buf, n, &got, &e), 0);
    assert_string_equal(got.cookie, rt.cookie);
    assert_int_equal(got.neg_flags, 0x01);
    assert_int_equal(got.requested_protocols, 0x03);

    /* encoder refusals: too small, a CR/LF in the cookie, a cookie filling the array */
    snprintf(cr.cookie, sizeof cr.cookie, "%s", "Cookie: mstshash=hvadmin");
    cr.has_neg = 1;
    assert_int_equal(ws_x224_cr_encode(&cr, buf, 44), 0);
    assert_int_equal(ws_x224_cr_encode(&cr, buf, 45), 45);
    snprintf(cr.cookie, sizeof cr.cookie, "%s", "Cookie: a\r\nb");
    assert_int_equal(ws_x224_cr_encode(&cr, buf, sizeof buf), 0);
    memset(cr.cookie, 'a', sizeof cr.cookie);
    assert_int_equal(ws_x224_cr_encode(&cr, buf, sizeof buf), 0);
    cr.cookie[sizeof cr.cookie - 1] = '\0'; /* 127 bytes: the longest */
    n = ws_x224_cr_encode(&cr, buf, sizeof buf);
    assert_int_equal(n, 11 + 127 + 2 + 8);
    /* ... which the decoder takes only when it starts "Cookie: " */
    assert_int_equal(ws_x224_cr_decode(buf, n, &got, &e), -1);
    assert_contains(e.msg, "offset 11");
    memcpy(cr.cookie, "Cookie: ", 8);
    n = ws_x224_cr_encode(&cr, buf, sizeof buf);
    assert_int_equal(ws_x224_cr_decode(buf, n, &got, &e), 0);
    assert_int_equal(strlen(got.cookie), 127);
}

static void expect_cr_error(const uint8_t *buf, size_t len, const char *needle)
{
    ws_x224_cr got;
    ws_error e = {{0}};
    uint8_t *copy = malloc(len ? len : 1); /* exact size, for ASan */
    memcpy(copy, buf, len);
    assert_int_equal(ws_x224_cr_decode(copy, len, &got, &e), -1);
    assert_contains(e.msg, needle);
    free(copy);
}

/* Build a TPKT + X.224 CR around the given variable part. */
static size_t cr_raw(uint8_t *out, const void *var, size_t n)
{
    size_t total = 11 + n;
    uint8_t hdr[11] = {3, 0, (uint8_t)(total >> 8), (uint8_t)total, (uint8_t)(total - 5), 0xE0, 0, 0, 0, 0, 0};
    memcpy(out, hdr, 11);
    memcpy(out + 11, var, n);
    return total;
}

static void test_cr_errors(void **state)
{
    (void)state;
    uint8_t buf[512], b2[512];
    ws_x224_cr cr = {.cookie = "Cookie: mstshash=hvadmin", .has_neg = 1, .requested_protocols = 0x05};
    size_t n = ws_x224_cr_encode(&cr, buf, sizeof buf);

    /* every truncation, and one byte too many */
    for (size_t k = 0; k < n; k++)
        expect_cr_error(buf, k, "truncated");
    memcpy(b2, buf, n);
    b2[n] = 0;
    expect_cr_error(b2, n + 1, "TPKT length 45 but 46");

    memcpy(b2, buf, n);
    b2[0] = 4;
    expect_cr_error(b2, n, "not a TPKT");
    memcpy(b2, buf, n);
    b2[4]++;
    expect_cr_error(b2, n, "length indicator");
    memcpy(b2, buf, n);
    b2[5] = 0xD0;
    expect_cr_error(b2, n, "code 0xD0 at offset 5");
    memcpy(b2, buf, n);
    b2[5] = 0xE1;
    expect_cr_error(b2, n, "offset 5");
    memcpy(b2, buf, n);
    b2[7] = 1;
    expect_cr_error(b2, n, "DST-REF");
    memcpy(b2, buf, n);
    b2[10] = 0x20;
    expect_cr_error(b2, n, "class");
    /* a TPKT too short for the X.224 header */
    static const uint8_t shortp[] = {3, 0, 0, 7, 2, 0xF0, 0x80};
    expect_cr_error(shortp, sizeof shortp, "too short");

    size_t m;
    /* a cookie without its CRLF, with a bare LF, with a control byte, too long */
    m = cr_raw(b2, "Cookie: mstshash=x", 18);
    expect_cr_error(b2, m, "offset 11 does not end in CRLF");
    m = cr_raw(b2, "Cookie: mstshash=x\r", 19);
    expect_cr_error(b2, m, "CRLF");
    m = cr_raw(b2, "Cookie: mstshash=x\n\r\n", 21);
    expect_cr_error(b2, m, "offset 29");
    m = cr_raw(b2, "Cookie: mst\0shash=x\r\n", 21);
    expect_cr_error(b2, m, "offset 22");
    char longc[200];
    memset(longc, 'a', sizeof longc);
    memcpy(longc, "Cookie: ", 8);
    memcpy(longc + 128, "\r\n", 2);
    m = cr_raw(b2, longc, 130);
    expect_cr_error(b2, m, "128 bytes");
    memcpy(longc + 127, "\r\n", 2);
    m = cr_raw(b2, longc, 129);
    ws_x224_cr got;
    ws_error e;
    assert_int_equal(ws_x224_cr_decode(b2, m, &got, &e), 0);

    /* neither cookie nor RDP_NEG_REQ */
    m = cr_raw(b2, "cookie: mstshash=x\r\n", 20);
    expect_cr_error(b2, m, "unexpected bytes at offset 11");
    m = cr_raw(b2, "\x01\x00\x08\x00\x05\x00\x00", 7);
    expect_cr_error(b2, m, "offset 11");
    m = cr_raw(b2, "\x02\x00\x08\x00\x05\x00\x00\x00", 8);
    expect_cr_error(b2, m, "offset 11");
    m = cr_raw(b2, "\x01\x00\x09\x00\x05\x00\x00\x00\x00", 9);
    expect_cr_error(b2, m, "offset 11");
    m = cr_raw(b2, "Cookie: a\r\nXYZ", 14);
    expect_cr_error(b2, m, "offset 22");
    /* bytes after RDP_NEG_REQ */
    m = cr_raw(b2, "\x01\x00\x08\x00\x05\x00\x00\x00\x00", 9);
    expect_cr_error(b2, m, "offset 19 after RDP_NEG_REQ");

    /* RDP_NEG_CORRELATION_INFO (2.2.1.1.2) is taken only when the flags announce it */
    uint8_t var[8 + 36] = {0x01, 0x08, 0x08, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x06, 0x00, 0x24, 0x00};
    for (int i = 0; i < 16; i++)
        var[12 + i] = (uint8_t)(0x11 * (i + 1));
    m = cr_raw(b2, var, sizeof var);
    assert_int_equal(ws_x224_cr_decode(b2, m, &got, &e), 0);
    assert_int_equal(got.neg_flags, 0x08);
    assert_int_equal(got.requested_protocols, 0x0b);
    var[1] = 0;
    m = cr_raw(b2, var, sizeof var);
    expect_cr_error(b2, m, "offset 19");
    var[1] = 0x08;
    var[10] = 0x23;
    m = cr_raw(b2, var, sizeof var);
    expect_cr_error(b2, m, "offset 19");
}

/* ---- X.224 Connection Confirm -------------------------------------------------------- */

static void test_cc_rdstls(void **state)
{
    (void)state;
    uint8_t buf[64];
    ws_error e = {{0}};
    ws_x224_cc cc = {.has_neg = 1, .neg_type = WS_NEG_TYPE_RSP, .neg_flags = 0, .value = WS_PROTOCOL_RDSTLS};
    size_t n = ws_x224_cc_encode(&cc, buf, sizeof buf);
    assert_int_equal(n, 19);
    static const uint8_t head[] = {0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00};
    assert_memory_equal(buf, head, sizeof head);
    assert_int_equal(buf[10], 0);
    static const uint8_t tail[] = {0x02, 0x00, 0x08, 0x00, 0x04, 0x00, 0x00, 0x00};
    assert_memory_equal(buf + 11, tail, 8);
    assert_int_equal(ws_tpkt_length(buf, n, WS_TPKT_MAX), 19);
    ws_x224_cc got;
    assert_int_equal(ws_x224_cc_decode(buf, n, &got, &e), 0);
    assert_int_equal(got.has_neg, 1);
    assert_int_equal(got.neg_type, WS_NEG_TYPE_RSP);
    assert_int_equal(got.neg_flags, 0);
    assert_int_equal(got.value, WS_PROTOCOL_RDSTLS);

    /* flags are kept (EXTENDED_CLIENT_DATA_SUPPORTED and friends) */
    cc.neg_flags = 0x1f;
    cc.value = WS_PROTOCOL_SSL;
    n = ws_x224_cc_encode(&cc, buf, sizeof buf);
    assert_int_equal(ws_x224_cc_decode(buf, n, &got, &e), 0);
    assert_int_equal(got.neg_flags, 0x1f);
    assert_int_equal(got.value, WS_PROTOCOL_SSL);

    /* a Windows-style CC, with SRC-REF 0x1234 and flags */
    static const uint8_t win[] = {0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34,
                                  0x00, 0x02, 0x1f, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00};
    assert_int_equal(ws_x224_cc_decode(win, sizeof win, &got, &e), 0);
    assert_int_equal(got.value, WS_PROTOCOL_HYBRID);
    assert_int_equal(ws_x224_cc_encode(&cc, buf, 18), 0);
}

static void test_cc_failure_and_plain(void **state)
{
    (void)state;
    uint8_t buf[64];
    ws_error e = {{0}};
    ws_x224_cc cc = {.has_neg = 1, .neg_type = WS_NEG_TYPE_FAILURE, .value = WS_NEG_HYBRID_REQUIRED_BY_SERVER};
    size_t n = ws_x224_cc_encode(&cc, buf, sizeof buf);
    assert_int_equal(n, 19);
    static const uint8_t tail[] = {0x03, 0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00};
    assert_memory_equal(buf + 11, tail, 8);
    ws_x224_cc got;
    assert_int_equal(ws_x224_cc_decode(buf, n, &got, &e), 0);
    assert_int_equal(got.neg_type, WS_NEG_TYPE_FAILURE);
    assert_int_equal(got.value, WS_NEG_HYBRID_REQUIRED_BY_SERVER);

    /* no negotiation (standard RDP security): 11 bytes */
    ws_x224_cc plain = {0};
    n = ws_x224_cc_encode(&plain, buf, sizeof buf);
    assert_int_equal(n, 11);
    assert_int_equal(buf[4], 6);
    assert_int_equal(ws_x224_cc_decode(buf, n, &got, &e), 0);
    assert_int_equal(got.has_neg, 0);

    /* only RSP and FAILURE are encoded */
    cc.neg_type = WS_NEG_TYPE_REQ;
    assert_int_equal(ws_x224_cc_encode(&cc, buf, sizeof buf), 0);
}

static void expect_cc_error(const uint8_t *buf, size_t len, const char *needle)
{
    ws_x224_cc got;
    ws_error e = {{0}};
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, buf, len);
    assert_int_equal(ws_x224_cc_decode(copy, len, &got, &e), -1);
    assert_contains(e.msg, needle);
    free(copy);
}

static void test_cc_errors(void **state)
{
    (void)state;
    uint8_t buf[64], b2[64];
    ws_x224_cc cc = {.has_neg = 1, .neg_type = WS_NEG_TYPE_RSP, .value = WS_PROTOCOL_RDSTLS};
    size_t n = ws_x224_cc_encode(&cc, buf, sizeof buf);
    for (size_t k = 0; k < n; k++)
        expect_cc_error(buf, k, "truncated");
    memcpy(b2, buf, n);
    b2[5] = 0xE0;
    expect_cc_error(b2, n, "code 0xE0 at offset 5");
    memcpy(b2, buf, n);
    b2[4] = 0x0d;
    expect_cc_error(b2, n, "offset 4");
    memcpy(b2, buf, n);
    b2[10] = 0x01;
    expect_cc_error(b2, n, "offset 10");
    memcpy(b2, buf, n);
    b2[11] = WS_NEG_TYPE_REQ;
    expect_cc_error(b2, n, "offset 11");
    memcpy(b2, buf, n);
    b2[13] = 0x09;
    expect_cc_error(b2, n, "offset 11");
    /* a longer or shorter variable part */
    memcpy(b2, buf, n);
    b2[3] = 20;
    b2[4] = 15;
    b2[19] = 0;
    expect_cc_error(b2, 20, "offset 11");
    b2[3] = 18;
    b2[4] = 13;
    expect_cc_error(b2, 18, "offset 11");
    memcpy(b2, buf, n);
    b2[3] = 0xff;
    expect_cc_error(b2, n, "truncated");
}

/* ---- random bytes into every decoder ------------------------------------------------- */

static uint32_t rng_state = 0x2545F491u;

static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static void test_random_bytes(void **state)
{
    (void)state;
    uint8_t seed[256], valid[4][160];
    size_t vlen[4];
    /* Valid PDUs of every kind, for mutations. */
    vlen[0] = ws_pcb_encode(GUID ";EnhancedMode=1", valid[0], sizeof valid[0]);
    ws_x224_cr cr0 = {.cookie = "Cookie: mstshash=hvadmin", .has_neg = 1, .requested_protocols = 5};
    vlen[1] = ws_x224_cr_encode(&cr0, valid[1], sizeof valid[1]);
    ws_x224_cc cc0 = {.has_neg = 1, .neg_type = WS_NEG_TYPE_RSP, .value = 4};
    vlen[2] = ws_x224_cc_encode(&cc0, valid[2], sizeof valid[2]);
    cr0.cookie[0] = '\0';
    vlen[3] = ws_x224_cr_encode(&cr0, valid[3], sizeof valid[3]);
    for (int iter = 0; iter < 40000; iter++) {
        size_t len = rng() % 160;
        for (size_t i = 0; i < len; i++)
            seed[i] = (uint8_t)rng();
        /* Often make the headers plausible so the decoders get past their first checks. */
        int kind = (int)(rng() % 4);
        if (iter % 2) {
            /* a valid PDU with a few bytes changed, cut or extended */
            int k = (int)(rng() % 4);
            len = vlen[k];
            memcpy(seed, valid[k], len);
            for (int m = (int)(rng() % 3); m > 0; m--)
                seed[rng() % len] = (uint8_t)(rng() % 2 ? rng() : rng() % 4);
            if (rng() % 4 == 0)
                len = rng() % (len + 1);
            else if (rng() % 8 == 0)
                len += rng() % 4;
        } else if (kind == 1 && len >= 18) {
            wr32(seed, (uint32_t)(rng() % 2 ? len : rng() % (len + 1)));
            wr32(seed + 8, 1 + rng() % 2);
            seed[17] = 0;
            seed[16] = (uint8_t)(rng() % ((len - 16) / 2 + 2));
        } else if (kind >= 2 && len >= 11) {
            seed[0] = 3;
            seed[2] = 0;
            seed[3] = (uint8_t)len;
            seed[4] = (uint8_t)(len - 5);
            seed[5] = kind == 2 ? 0xE0 : 0xD0;
            seed[6] = seed[7] = seed[10] = 0;
            if (len > 11 && rng() % 2) {
                if (rng() % 2 && len >= 19)
                    memcpy(seed + 11, "Cookie: ", 8);
                else
                    seed[11] = (uint8_t)(rng() % 4);
            }
        }
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, seed, len);
        ws_error e;
        ws_pcb_pdu pcb;
        size_t used;
        int r = ws_pcb_decode(p, len, &pcb, &used, &e);
        assert_true(r >= -1 && r <= 1);
        if (r == 0) {
            assert_true(used >= 16 && used <= len);
            assert_true(strlen(pcb.pcb) <= WS_PCB_MAX);
        }
        long t = ws_tpkt_length(p, len, WS_TPKT_MAX);
        assert_true(t >= -1 && t <= WS_TPKT_MAX);
        ws_x224_cr cr;
        if (ws_x224_cr_decode(p, len, &cr, &e) == 0) {
            assert_true(strlen(cr.cookie) < sizeof cr.cookie);
            uint8_t re[256];
            size_t rn = ws_x224_cr_encode(&cr, re, sizeof re);
            assert_true(rn > 0);
            ws_x224_cr again;
            assert_int_equal(ws_x224_cr_decode(re, rn, &again, &e), 0);
            assert_string_equal(again.cookie, cr.cookie);
            assert_int_equal(again.requested_protocols, cr.requested_protocols);
        }
        ws_x224_cc cc;
        if (ws_x224_cc_decode(p, len, &cc, &e) == 0) {
            uint8_t re[32];
            size_t rn = ws_x224_cc_encode(&cc, re, sizeof re);
            assert_int_equal(rn, len);
        }
        free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcb_guid),
        cmocka_unit_test(test_pcb_then_connection_request),
        cmocka_unit_test(test_pcb_enhanced_mode),
        cmocka_unit_test(test_pcb_need_more),
        cmocka_unit_test(test_pcb_version1_and_nul),
        cmocka_unit_test(test_pcb_errors),
        cmocka_unit_test(test_tpkt_length),
        cmocka_unit_test(test_cr_observed),
        cmocka_unit_test(test_cr_errors),
        cmocka_unit_test(test_cc_rdstls),
        cmocka_unit_test(test_cc_failure_and_plain),
        cmocka_unit_test(test_cc_errors),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
