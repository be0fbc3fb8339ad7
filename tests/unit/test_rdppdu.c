/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/rdppdu.c: the RDP PDUs after the MCS layer (MS-RDPBCGR). The exact licensing bytes of
 * REFERENCE.md section 8; public example bytes (MS-RDPBCGR section 4: 4.1.10 Client Info, 4.1.12 Demand Active,
 * 4.1.13 Confirm Active, 4.1.19 Server Synchronize, 4.2.1/4.2.2 Shutdown; finalization PDUs in the 4.1.15-4.1.22
 * form, as transcribed in IronRDP's test suite) decoded and, where this module writes the same, re-encoded byte
 * for byte; round trips of every PDU; every truncation refused without reading past the end (each input is
 * copied to a buffer of exactly its length, so ASan sees any over-read); refusals of out-of-range fields; seeded
 * random and mutated bytes into every decoder. */

#include "harness.h"

#include "wire/planar.h"
#include "wire/rdppdu.h"
#include "base/util.h"

/* Large outputs, kept off the stack. */
static ws_pdu_client_info ci, ci2;
static ws_pdu_demand_active da, da2;
static ws_pdu_confirm_active ca, ca2;
static ws_pdu_input in, in2;
static ws_pdu_bitmap_update bu, bu2;
static ws_pdu_refresh_rect rr, rr2;
static uint8_t buf[70000], buf2[70000];

static const ws_pdu_share client_sh = {.pdu_source = 0x03EF, .share_id = 0x000103EA};
static const ws_pdu_share server_sh = {.pdu_source = WS_PDU_SERVER_CHANNEL_ID, .share_id = 0x000103EA};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* A copy of exactly len bytes, so ASan sees any read past the end. */
static uint8_t *exact(const uint8_t *p, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    assert_non_null(c);
    if (len)
        memcpy(c, p, len);
    return c;
}

typedef int (*decoder)(const uint8_t *p, size_t len, ws_error *e);

/* Decode from an exact-size copy. */
static int dec(decoder d, const uint8_t *p, size_t len, ws_error *e)
{
    uint8_t *c = exact(p, len);
    e->msg[0] = '\0';
    int rc = d(c, len, e);
    if (rc < 0)
        assert_true(e->msg[0] != '\0');
    free(c);
    return rc;
}

/* Every proper prefix is refused with a message; the whole PDU is accepted. */
static void check_truncations(decoder d, const uint8_t *p, size_t n)
{
    ws_error e;
    for (size_t k = 0; k < n; k++) {
        if (dec(d, p, k, &e) != -1)
            fail_msg("prefix of %zu of %zu bytes accepted", k, n);
    }
    assert_int_equal(dec(d, p, n, &e), 0);
}

/* Every capacity short of n makes the encoder return 0 (and not write past cap: the tail stays untouched). */
#define check_caps(n, call_with_cap)                                                                        \
    do {                                                                                                    \
        for (size_t cap_ = 0; cap_ < (n); cap_++) {                                                         \
            memset(buf2, 0xA5, sizeof buf2);                                                                \
            size_t cap = cap_;                                                                              \
            size_t got_ = (call_with_cap);                                                                  \
            if (got_ != 0)                                                                                  \
                fail_msg("encoder wrote %zu bytes into cap %zu (needs %zu)", got_, cap_, (size_t)(n));     \
            for (size_t i_ = cap_; i_ < (n); i_++)                                                          \
                if (buf2[i_] != 0xA5)                                                                       \
                    fail_msg("encoder wrote byte %zu past cap %zu", i_, cap_);                              \
        }                                                                                                   \
    } while (0)

/* ---- decoder wrappers ---- */

static int d_client_info(const uint8_t *p, size_t len, ws_error *e)
{
    return ws_pdu_decode_client_info(p, len, &ci2, e);
}

static int d_license(const uint8_t *p, size_t len, ws_error *e)
{
    ws_pdu_license l;
    return ws_pdu_decode_license(p, len, &l, e);
}

static int d_peek(const uint8_t *p, size_t len, ws_error *e)
{
    ws_pdu_hdr h;
    return ws_pdu_peek(p, len, &h, e);
}

static int d_demand_active(const uint8_t *p, size_t len, ws_error *e)
{
    return ws_pdu_decode_demand_active(p, len, NULL, &da2, e);
}

static int d_confirm_active(const uint8_t *p, size_t len, ws_error *e)
{
    return ws_pdu_decode_confirm_active(p, len, NULL, &ca2, e);
}

static int d_synchronize(const uint8_t *p, size_t len, ws_error *e)
{
    ws_pdu_synchronize s;
    return ws_pdu_decode_synchronize(p, len, NULL, &s, e);
}

static int d_control(const uint8_t *p, size_t len, ws_error *e)
{
    ws_pdu_control c;
    return ws_pdu_decode_control(p, len, NULL, &c, e);
}

static int d_font_list(const uint8_t *p, size_t len, ws_error *e)
{
    ws_pdu_font f;
    return ws_pdu_decode_font_list(p, len, NULL, &f, e);
}

static int d_font_map(const uint8_t *p, size_t len, ws_error *e)
{
    ws_pdu_font f;
    return ws_pdu_decode_font_map(p, len, NULL, &f, e);
}

static int d_set_error_info(const uint8_t *p, size_t len, ws_error *e)
{
    uint32_t v;
    return ws_pdu_decode_set_error_info(p, len, NULL, &v, e);
}

static int d_refresh_rect(const uint8_t *p, size_t len, ws_error *e)
{
    return ws_pdu_decode_refresh_rect(p, len, NULL, &rr2, e);
}

static int d_suppress_output(const uint8_t *p, size_t len, ws_error *e)
{
    ws_pdu_suppress_output s;
    return ws_pdu_decode_suppress_output(p, len, NULL, &s, e);
}

static int d_shutdown_request(const uint8_t *p, size_t len, ws_error *e)
{
    return ws_pdu_decode_shutdown_request(p, len, NULL, e);
}

static int d_shutdown_denied(const uint8_t *p, size_t len, ws_error *e)
{
    return ws_pdu_decode_shutdown_denied(p, len, NULL, e);
}

static int d_input(const uint8_t *p, size_t len, ws_error *e)
{
    return ws_pdu_decode_input(p, len, NULL, &in2, e);
}

static int d_fastpath_input(const uint8_t *p, size_t len, ws_error *e)
{
    return ws_pdu_decode_fastpath_input(p, len, &in2, e);
}

static int d_update_bitmap(const uint8_t *p, size_t len, ws_error *e)
{
    return ws_pdu_decode_update_bitmap(p, len, NULL, &bu2, e);
}

static int d_fastpath_update(const uint8_t *p, size_t len, ws_error *e)
{
    return ws_pdu_decode_fastpath_update(p, len, &bu2, e);
}

/* ---- public example bytes ---- */

/* Server Demand Active PDU (MS-RDPBCGR 4.1.12): Share Control Header, shareId, then the body */
static const uint8_t spec_demand_active[367] = {
    0x6f, 0x01, 0x11, 0x00, 0xea, 0x03, 0xea, 0x03, 0x01, 0x00, 0x04, 0x00, 0x59, 0x01, 0x52, 0x44,
    0x50, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x09, 0x00, 0x08, 0x00, 0xea, 0x03, 0xdc, 0xe2, 0x01, 0x00,
    0x18, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x1d, 0x04, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x14, 0x00, 0x0c, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x06,
    0x00, 0x00, 0x16, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x70, 0xf6, 0x13, 0xf3, 0x01, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x9c, 0xf6, 0x13, 0xf3, 0x61, 0xa6,
    0x82, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x91, 0xbf, 0x0e, 0x00, 0x08, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x02, 0x00, 0x1c, 0x00, 0x18, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x05,
    0x00, 0x04, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00,
    0x58, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x22, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x42, 0x0f, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x12, 0x00,
    0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0a, 0x00, 0x01, 0x00, 0x19, 0x00, 0x19, 0x00,
    0x0d, 0x00, 0x58, 0x00, 0x35, 0x00, 0x00, 0x00, 0xa1, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x0c, 0xf6, 0x13, 0xf3, 0x93, 0x5a, 0x37, 0xf3, 0x00, 0x90, 0x30, 0xe1, 0x34, 0x1c, 0x38, 0xf3,
    0x40, 0xf6, 0x13, 0xf3, 0x04, 0x00, 0x00, 0x00, 0x4c, 0x54, 0xdc, 0xe2, 0x08, 0x50, 0xdc, 0xe2,
    0x01, 0x00, 0x00, 0x00, 0x08, 0x50, 0xdc, 0xe2, 0x00, 0x00, 0x00, 0x00, 0x38, 0xf6, 0x13, 0xf3,
    0x2e, 0x05, 0x38, 0xf3, 0x08, 0x50, 0xdc, 0xe2, 0x2c, 0xf6, 0x13, 0xf3, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x0a, 0x00, 0x01, 0x00, 0x00, 0x00, 0x17, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x18, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Client Confirm Active PDU (MS-RDPBCGR 4.1.13) */
static const uint8_t spec_confirm_active[496] = {
    0xf0, 0x01, 0x13, 0x00, 0xef, 0x03, 0xea, 0x03, 0x01, 0x00, 0xea, 0x03, 0x06, 0x00, 0xda, 0x01,
    0x4d, 0x53, 0x54, 0x53, 0x43, 0x00, 0x12, 0x00, 0x00, 0x00, 0x01, 0x00, 0x18, 0x00, 0x01, 0x00,
    0x03, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x1d, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x00, 0x1c, 0x00, 0x18, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x05,
    0x00, 0x04, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00,
    0x58, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x2a, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x84, 0x03, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x13, 0x00, 0x28, 0x00, 0x03, 0x00, 0x00, 0x03, 0x78, 0x00,
    0x00, 0x00, 0x78, 0x00, 0x00, 0x00, 0xfb, 0x09, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00,
    0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x07, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x05, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x08, 0x00,
    0x0a, 0x00, 0x01, 0x00, 0x14, 0x00, 0x15, 0x00, 0x09, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x0d, 0x00, 0x58, 0x00, 0x15, 0x00, 0x00, 0x00, 0x09, 0x04, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x0e, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x34, 0x00, 0xfe, 0x00, 0x04, 0x00,
    0xfe, 0x00, 0x04, 0x00, 0xfe, 0x00, 0x08, 0x00, 0xfe, 0x00, 0x08, 0x00, 0xfe, 0x00, 0x10, 0x00,
    0xfe, 0x00, 0x20, 0x00, 0xfe, 0x00, 0x40, 0x00, 0xfe, 0x00, 0x80, 0x00, 0xfe, 0x00, 0x00, 0x01,
    0x40, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x08, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x11, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x64, 0x00,
    0x14, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x15, 0x00, 0x0c, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x01, 0x16, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Client Info PDU (MS-RDPBCGR 4.1.10): SEC_INFO_PKT header, TS_INFO_PACKET with extended info */
static const uint8_t spec_client_info[402] = {
    0x40, 0x00, 0x00, 0x00, 0x09, 0x04, 0x09, 0x04, 0xb3, 0x43, 0x00, 0x00, 0x0a, 0x00, 0x0c, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4e, 0x00, 0x54, 0x00, 0x44, 0x00, 0x45, 0x00, 0x56, 0x00,
    0x00, 0x00, 0x65, 0x00, 0x6c, 0x00, 0x74, 0x00, 0x6f, 0x00, 0x6e, 0x00, 0x73, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x1e, 0x00, 0x31, 0x00, 0x35, 0x00, 0x37, 0x00,
    0x2e, 0x00, 0x35, 0x00, 0x39, 0x00, 0x2e, 0x00, 0x32, 0x00, 0x34, 0x00, 0x32, 0x00, 0x2e, 0x00,
    0x31, 0x00, 0x35, 0x00, 0x36, 0x00, 0x00, 0x00, 0x84, 0x00, 0x43, 0x00, 0x3a, 0x00, 0x5c, 0x00,
    0x64, 0x00, 0x65, 0x00, 0x70, 0x00, 0x6f, 0x00, 0x74, 0x00, 0x73, 0x00, 0x5c, 0x00, 0x77, 0x00,
    0x32, 0x00, 0x6b, 0x00, 0x33, 0x00, 0x5f, 0x00, 0x31, 0x00, 0x5c, 0x00, 0x74, 0x00, 0x65, 0x00,
    0x72, 0x00, 0x6d, 0x00, 0x73, 0x00, 0x72, 0x00, 0x76, 0x00, 0x5c, 0x00, 0x6e, 0x00, 0x65, 0x00,
    0x77, 0x00, 0x63, 0x00, 0x6c, 0x00, 0x69, 0x00, 0x65, 0x00, 0x6e, 0x00, 0x74, 0x00, 0x5c, 0x00,
    0x6c, 0x00, 0x69, 0x00, 0x62, 0x00, 0x5c, 0x00, 0x77, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x33, 0x00,
    0x32, 0x00, 0x5c, 0x00, 0x6f, 0x00, 0x62, 0x00, 0x6a, 0x00, 0x5c, 0x00, 0x69, 0x00, 0x33, 0x00,
    0x38, 0x00, 0x36, 0x00, 0x5c, 0x00, 0x6d, 0x00, 0x73, 0x00, 0x74, 0x00, 0x73, 0x00, 0x63, 0x00,
    0x61, 0x00, 0x78, 0x00, 0x2e, 0x00, 0x64, 0x00, 0x6c, 0x00, 0x6c, 0x00, 0x00, 0x00, 0xe0, 0x01,
    0x00, 0x00, 0x50, 0x00, 0x61, 0x00, 0x63, 0x00, 0x69, 0x00, 0x66, 0x00, 0x69, 0x00, 0x63, 0x00,
    0x20, 0x00, 0x53, 0x00, 0x74, 0x00, 0x61, 0x00, 0x6e, 0x00, 0x64, 0x00, 0x61, 0x00, 0x72, 0x00,
    0x64, 0x00, 0x20, 0x00, 0x54, 0x00, 0x69, 0x00, 0x6d, 0x00, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x00, 0x61, 0x00, 0x63, 0x00, 0x69, 0x00, 0x66, 0x00,
    0x69, 0x00, 0x63, 0x00, 0x20, 0x00, 0x44, 0x00, 0x61, 0x00, 0x79, 0x00, 0x6c, 0x00, 0x69, 0x00,
    0x67, 0x00, 0x68, 0x00, 0x74, 0x00, 0x20, 0x00, 0x54, 0x00, 0x69, 0x00, 0x6d, 0x00, 0x65, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc4, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00,
};

/* The same without INFO_UNICODE: 8-bit strings */
static const uint8_t spec_client_info_ansi[305] = {
    0x40, 0x00, 0x00, 0x00, 0x09, 0x04, 0x09, 0x04, 0xa3, 0x43, 0x00, 0x00, 0x05, 0x00, 0x06, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4e, 0x54, 0x44, 0x45, 0x56, 0x00, 0x65, 0x6c, 0x74, 0x6f,
    0x6e, 0x73, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0f, 0x00, 0x31, 0x35, 0x37, 0x2e, 0x35, 0x39,
    0x2e, 0x32, 0x34, 0x32, 0x2e, 0x31, 0x35, 0x36, 0x00, 0x42, 0x00, 0x43, 0x3a, 0x5c, 0x64, 0x65,
    0x70, 0x6f, 0x74, 0x73, 0x5c, 0x77, 0x32, 0x6b, 0x33, 0x5f, 0x31, 0x5c, 0x74, 0x65, 0x72, 0x6d,
    0x73, 0x72, 0x76, 0x5c, 0x6e, 0x65, 0x77, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x5c, 0x6c, 0x69,
    0x62, 0x5c, 0x77, 0x69, 0x6e, 0x33, 0x32, 0x5c, 0x6f, 0x62, 0x6a, 0x5c, 0x69, 0x33, 0x38, 0x36,
    0x5c, 0x6d, 0x73, 0x74, 0x73, 0x63, 0x61, 0x78, 0x2e, 0x64, 0x6c, 0x6c, 0x00, 0xe0, 0x01, 0x00,
    0x00, 0x50, 0x00, 0x61, 0x00, 0x63, 0x00, 0x69, 0x00, 0x66, 0x00, 0x69, 0x00, 0x63, 0x00, 0x20,
    0x00, 0x53, 0x00, 0x74, 0x00, 0x61, 0x00, 0x6e, 0x00, 0x64, 0x00, 0x61, 0x00, 0x72, 0x00, 0x64,
    0x00, 0x20, 0x00, 0x54, 0x00, 0x69, 0x00, 0x6d, 0x00, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x00, 0x61, 0x00, 0x63, 0x00, 0x69, 0x00, 0x66, 0x00, 0x69,
    0x00, 0x63, 0x00, 0x20, 0x00, 0x44, 0x00, 0x61, 0x00, 0x79, 0x00, 0x6c, 0x00, 0x69, 0x00, 0x67,
    0x00, 0x68, 0x00, 0x74, 0x00, 0x20, 0x00, 0x54, 0x00, 0x69, 0x00, 0x6d, 0x00, 0x65, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xc4, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00,
};

/* Finalization PDUs in the form of MS-RDPBCGR 4.1.15-4.1.22 (client: pduSource 1007, STREAM_LOW; server:
 * pduSource 1002, STREAM_MED), as in IronRDP's test suite. */
/* Client Synchronize */
static const uint8_t client_synchronize[22] = {
    0x16, 0x00, 0x17, 0x00, 0xef, 0x03, 0xea, 0x03, 0x01, 0x00, 0x00, 0x01, 0x04, 0x00, 0x1f, 0x00,
    0x00, 0x00, 0x01, 0x00, 0xea, 0x03,
};

/* Client Control (Cooperate) */
static const uint8_t control_cooperate[26] = {
    0x1a, 0x00, 0x17, 0x00, 0xef, 0x03, 0xea, 0x03, 0x01, 0x00, 0x00, 0x01, 0x08, 0x00, 0x14, 0x00,
    0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Client Control (Request Control) */
static const uint8_t control_request_control[26] = {
    0x1a, 0x00, 0x17, 0x00, 0xef, 0x03, 0xea, 0x03, 0x01, 0x00, 0x00, 0x01, 0x08, 0x00, 0x14, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Server Control (Granted Control) */
static const uint8_t server_granted_control[26] = {
    0x1a, 0x00, 0x17, 0x00, 0xea, 0x03, 0xea, 0x03, 0x01, 0x00, 0x00, 0x02, 0x08, 0x00, 0x14, 0x00,
    0x00, 0x00, 0x02, 0x00, 0xef, 0x03, 0xea, 0x03, 0x00, 0x00,
};

/* Client Font List */
static const uint8_t client_font_list[26] = {
    0x1a, 0x00, 0x17, 0x00, 0xef, 0x03, 0xea, 0x03, 0x01, 0x00, 0x00, 0x01, 0x08, 0x00, 0x27, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x32, 0x00,
};

/* Server Font Map */
static const uint8_t server_font_map[26] = {
    0x1a, 0x00, 0x17, 0x00, 0xea, 0x03, 0xea, 0x03, 0x01, 0x00, 0x00, 0x02, 0x08, 0x00, 0x28, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00,
};

/* Decrypted payloads of the MS-RDPBCGR 4.1.19 Server Synchronize (targetUser uninitialized, STREAM_UNDEFINED),
 * 4.2.1 Client Shutdown Request and 4.2.2 Server Shutdown Request Denied examples. */
static const uint8_t spec_server_synchronize[22] = {0x16, 0x00, 0x17, 0x00, 0xea, 0x03, 0xea, 0x03, 0x01, 0x00, 0x14,
                                                    0x00, 0x16, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x01, 0x00, 0x63, 0x44};
static const uint8_t spec_shutdown_request[18] = {0x12, 0x00, 0x17, 0x00, 0xef, 0x03, 0xea, 0x03, 0x02,
                                                  0x00, 0x00, 0x01, 0x04, 0x00, 0x24, 0x00, 0x00, 0x00};
static const uint8_t spec_shutdown_denied[18] = {0x12, 0x00, 0x17, 0x00, 0xea, 0x03, 0xea, 0x03, 0x02,
                                                 0x00, 0xa6, 0x02, 0x12, 0x00, 0x25, 0x00, 0x00, 0x00};

/* ---- licensing ---- */

static void test_license_exact(void **state)
{
    (void)state;
    static const uint8_t want[20] = {0x80, 0x00, 0x00, 0x00, 0xFF, 0x03, 0x10, 0x00, 0x07, 0x00,
                                     0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00};
    assert_memory_equal(ws_pdu_license_valid_client, want, sizeof want);
    assert_int_equal(ws_pdu_encode_license_valid_client(buf, sizeof buf), 20);
    assert_memory_equal(buf, want, sizeof want);
    check_caps(20, ws_pdu_encode_license_valid_client(buf2, cap));
    ws_pdu_license l;
    ws_error e;
    assert_int_equal(ws_pdu_decode_license(want, sizeof want, &l, &e), 0);
    assert_true(l.valid_client);
    assert_int_equal(l.sec_flags, WS_PDU_SEC_LICENSE_PKT);
    assert_int_equal(l.msg_type, WS_PDU_LICENSE_ERROR_ALERT);
    assert_int_equal(l.flags, 0x03);
    assert_int_equal(l.msg_size, 16);
    assert_int_equal(l.error_code, WS_PDU_LICENSE_STATUS_VALID_CLIENT);
    assert_int_equal(l.state_transition, WS_PDU_LICENSE_ST_NO_TRANSITION);
    assert_int_equal(l.blob_type, WS_PDU_LICENSE_BB_ERROR_BLOB);
    assert_int_equal(l.blob_len, 0);
    check_truncations(d_license, want, sizeof want);

    /* A wMsgSize that also counts the security header (20) is read within the bytes given. */
    memcpy(buf, want, 20);
    buf[6] = 0x14;
    assert_int_equal(ws_pdu_decode_license(buf, 20, &l, &e), 0);
    assert_true(l.valid_client);
    /* Another error code, or a real licensing message: not a valid client. */
    memcpy(buf, want, 20);
    buf[8] = 0x01; /* ERR_INVALID_SERVER_CERTIFICATE */
    assert_int_equal(ws_pdu_decode_license(buf, 20, &l, &e), 0);
    assert_false(l.valid_client);
    static const uint8_t request[] = {0x80, 0x00, 0x00, 0x00, 0x01, 0x03, 0x08, 0x00, 1, 2, 3, 4};
    assert_int_equal(ws_pdu_decode_license(request, sizeof request, &l, &e), 0);
    assert_int_equal(l.msg_type, WS_PDU_LICENSE_REQUEST);
    assert_false(l.valid_client);
    /* A blob longer than what is there; no SEC_LICENSE_PKT; encryption. */
    memcpy(buf, want, 20);
    wr16(buf + 18, 1);
    assert_int_equal(dec(d_license, buf, 20, &e), -1);
    assert_contains(e.msg, "blobData");
    memcpy(buf, want, 20);
    buf[0] = 0x40;
    assert_int_equal(dec(d_license, buf, 20, &e), -1);
    assert_contains(e.msg, "SEC_LICENSE_PKT");
    buf[0] = 0x88;
    assert_int_equal(dec(d_license, buf, 20, &e), -1);
    assert_contains(e.msg, "encryption");
}

/* ---- Client Info ---- */

static void test_client_info_spec(void **state)
{
    (void)state;
    ws_error e;
    assert_int_equal(ws_pdu_decode_client_info(spec_client_info, sizeof spec_client_info, &ci, &e), 0);
    assert_int_equal(ci.code_page, 0x04090409);
    assert_int_equal(ci.flags, 0x000043b3);
    assert_true(ci.flags & WS_PDU_INFO_UNICODE);
    assert_string_equal(ci.domain, "NTDEV");
    assert_string_equal(ci.user, "eltons");
    assert_string_equal(ci.password, "");
    assert_string_equal(ci.alternate_shell, "");
    assert_string_equal(ci.working_dir, "");
    assert_true(ci.has_extended);
    assert_int_equal(ci.client_address_family, 2);
    assert_string_equal(ci.client_address, "157.59.242.156");
    assert_string_equal(ci.client_dir, "C:\\depots\\w2k3_1\\termsrv\\newclient\\lib\\win32\\obj\\i386\\mstscax.dll");
    assert_true(ci.has_session_id);
    assert_int_equal(ci.client_session_id, 0);
    assert_true(ci.has_performance_flags);
    assert_int_equal(ci.performance_flags, 1);

    assert_int_equal(ws_pdu_decode_client_info(spec_client_info_ansi, sizeof spec_client_info_ansi, &ci2, &e), 0);
    assert_int_equal(ci2.flags, 0x000043a3);
    assert_string_equal(ci2.domain, "NTDEV");
    assert_string_equal(ci2.user, "eltons");
    assert_string_equal(ci2.client_address, "157.59.242.156");
    assert_string_equal(ci2.client_dir, ci.client_dir);
    assert_int_equal(ci2.performance_flags, 1);

    /* Every prefix: refused up to the end of WorkingDir (4 + 18 + 12 + 14 + 2 + 2 + 2 = 54 bytes), then accepted
     * only where an optional field ends, with exactly the fields that are there. */
    for (size_t k = 0; k <= sizeof spec_client_info; k++) {
        int rc = dec(d_client_info, spec_client_info, k, &e);
        size_t addr_end = 54 + 2 + 2 + 30, dir_end = addr_end + 2 + 0x84, tz_end = dir_end + 172;
        if (k == 54 || k == dir_end || k == tz_end || k == tz_end + 4 || k == tz_end + 8) {
            assert_int_equal(rc, 0);
            assert_string_equal(ci2.user, "eltons");
            assert_int_equal(ci2.has_extended, k > 54);
            assert_int_equal(ci2.has_session_id, k >= tz_end + 4);
            assert_int_equal(ci2.has_performance_flags, k == tz_end + 8);
        } else if (rc == 0) {
            fail_msg("Client Info prefix of %zu bytes accepted", k);
        }
    }
}

static void fill_client_info(ws_pdu_client_info *c)
{
    memset(c, 0, sizeof *c);
    c->code_page = 0x0409;
    c->flags = WS_PDU_INFO_MOUSE | WS_PDU_INFO_DISABLECTRLALTDEL | WS_PDU_INFO_UNICODE | WS_PDU_INFO_LOGONNOTIFY |
               WS_PDU_INFO_AUTOLOGON | WS_PDU_INFO_ENABLEWINDOWSKEY;
    snprintf(c->domain, sizeof c->domain, "%s", "CONTOSO");
    snprintf(c->user, sizeof c->user, "%s", "hvadmin");
    snprintf(c->password, sizeof c->password, "%s", "P\xc3\xa4ss w\xf0\x9f\x98\x80rd");
    snprintf(c->working_dir, sizeof c->working_dir, "%s", "C:\\");
    c->client_address_family = 2;
    snprintf(c->client_address, sizeof c->client_address, "%s", "10.0.0.5");
    snprintf(c->client_dir, sizeof c->client_dir, "%s", "C:\\Windows\\System32\\mstscax.dll");
    c->performance_flags = 0x00000007;
}

static void test_client_info_roundtrip(void **state)
{
    (void)state;
    ws_error e;
    fill_client_info(&ci);
    size_t n = ws_pdu_encode_client_info(&ci, buf, sizeof buf);
    /* 4 + 18 + (14+2) + (14+2) + (20+2) + 2 + (6+2) + 2 + (16+2) + 2 + (64+2) + 172 + 4 + 4 + 2 */
    assert_int_equal(n, 4 + 18 + 16 + 16 + 22 + 2 + 8 + 2 + 18 + 2 + 66 + 172 + 4 + 4 + 2);
    assert_int_equal(rd16(buf), WS_PDU_SEC_INFO_PKT);
    assert_int_equal(rd32(buf + 8), ci.flags);
    assert_int_equal(rd16(buf + 12), 14); /* cbDomain: without the NUL */
    assert_int_equal(rd16(buf + 14), 14);
    assert_int_equal(rd16(buf + 16), 20); /* 9 characters, the emoji a surrogate pair */
    assert_int_equal(rd16(buf + 18), 0);
    assert_int_equal(rd16(buf + 20), 6);
    check_caps(n, ws_pdu_encode_client_info(&ci, buf2, cap));
    assert_int_equal(dec(d_client_info, buf, n, &e), 0);
    assert_string_equal(ci2.domain, "CONTOSO");
    assert_string_equal(ci2.user, "hvadmin");
    assert_string_equal(ci2.password, ci.password);
    assert_string_equal(ci2.alternate_shell, "");
    assert_string_equal(ci2.working_dir, "C:\\");
    assert_int_equal(ci2.code_page, 0x0409);
    assert_int_equal(ci2.flags, ci.flags);
    assert_string_equal(ci2.client_address, "10.0.0.5");
    assert_string_equal(ci2.client_dir, ci.client_dir);
    assert_int_equal(ci2.performance_flags, 7);
    assert_true(ci2.has_session_id);

    /* Longest fields: 255 bytes of UTF-8 each. */
    memset(ci.user, 'u', 255);
    ci.user[255] = '\0';
    memset(ci.password, 'p', 255);
    ci.password[255] = '\0';
    n = ws_pdu_encode_client_info(&ci, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(dec(d_client_info, buf, n, &e), 0);
    assert_int_equal(strlen(ci2.user), 255);
    assert_string_equal(ci2.password, ci.password);
    /* Unterminated or invalid UTF-8 cannot be encoded. */
    memset(ci.user, 'u', sizeof ci.user);
    assert_int_equal(ws_pdu_encode_client_info(&ci, buf, sizeof buf), 0);
    fill_client_info(&ci);
    snprintf(ci.user, sizeof ci.user, "%s", "bad\xff");
    assert_int_equal(ws_pdu_encode_client_info(&ci, buf, sizeof buf), 0);
}

static void test_client_info_refusals(void **state)
{
    (void)state;
    ws_error e;
    fill_client_info(&ci);
    size_t n = ws_pdu_encode_client_info(&ci, buf, sizeof buf);
    assert_true(n > 0);
    /* No SEC_INFO_PKT. */
    memcpy(buf2, buf, n);
    buf2[0] = 0;
    assert_int_equal(dec(d_client_info, buf2, n, &e), -1);
    assert_contains(e.msg, "SEC_INFO_PKT");
    /* cbUserName over 512, odd, or past the end. */
    memcpy(buf2, buf, n);
    wr16(buf2 + 14, 600);
    assert_int_equal(dec(d_client_info, buf2, n, &e), -1);
    assert_contains(e.msg, "UserName length 600");
    wr16(buf2 + 14, 13);
    assert_int_equal(dec(d_client_info, buf2, n, &e), -1);
    assert_contains(e.msg, "odd");
    wr16(buf2 + 14, 510);
    assert_int_equal(dec(d_client_info, buf2, 100, &e), -1);
    assert_contains(e.msg, "Client Info PDU: truncated in UserName");
    /* An unpaired surrogate in the user name. */
    memcpy(buf2, buf, n);
    wr16(buf2 + 4 + 18 + 16, 0xD800);
    assert_int_equal(dec(d_client_info, buf2, n, &e), -1);
    assert_contains(e.msg, "UserName is not valid UTF-16");
    /* 256 non-ASCII characters do not fit 255 bytes of UTF-8. */
    memcpy(buf2, buf, 22);
    wr16(buf2 + 12, 0);
    wr16(buf2 + 14, 512);
    wr16(buf2 + 16, 0);
    wr16(buf2 + 18, 0);
    wr16(buf2 + 20, 0);
    size_t o = 22;
    wr16(buf2 + o, 0), o += 2;
    for (int i = 0; i < 256; i++)
        wr16(buf2 + o, 0x00E9), o += 2;
    for (int i = 0; i < 4; i++)
        wr16(buf2 + o, 0), o += 2;
    assert_int_equal(dec(d_client_info, buf2, o, &e), -1);
    assert_contains(e.msg, "UserName");
    /* An extended info whose clientAddress is over 80 bytes, or whose cookie is over 28. */
    size_t ext = 4 + 18 + 16 + 16 + 22 + 2 + 8;
    memcpy(buf2, buf, n);
    wr16(buf2 + ext + 2, 82);
    assert_int_equal(dec(d_client_info, buf2, n, &e), -1);
    assert_contains(e.msg, "clientAddress length 82");
    memcpy(buf2, buf, n);
    wr16(buf2 + n - 2, 29);
    assert_int_equal(dec(d_client_info, buf2, n, &e), -1);
    assert_contains(e.msg, "cbAutoReconnectCookie 29");
    wr16(buf2 + n - 2, 28);
    memset(buf2 + n, 0, 28);
    assert_int_equal(dec(d_client_info, buf2, n + 28, &e), 0);
    assert_int_equal(dec(d_client_info, buf2, n + 27, &e), -1);
}

/* ---- Demand Active / Confirm Active ---- */

static void test_demand_active_spec(void **state)
{
    (void)state;
    ws_error e;
    ws_pdu_hdr h;
    assert_int_equal(ws_pdu_decode_demand_active(spec_demand_active, sizeof spec_demand_active, &h, &da, &e), 0);
    assert_int_equal(h.total_length, 367);
    assert_int_equal(h.pdu_type, WS_PDU_TYPE_DEMANDACTIVE);
    assert_int_equal(h.version, 0x10);
    assert_int_equal(h.pdu_source, 0x03EA);
    assert_int_equal(da.share_id, 0x000103EA);
    assert_string_equal(da.source_descriptor, "RDP");
    assert_int_equal(da.caps.num_sets, 13);
    uint32_t want = WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_SHARE) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_GENERAL) |
                    WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_VIRTUALCHANNEL) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_DRAWGDIPLUS) |
                    WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_FONT) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_BITMAP) |
                    WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_ORDER) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_COLORCACHE) |
                    WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_BITMAPCACHE_HOSTSUPPORT) |
                    WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_POINTER) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_INPUT) |
                    WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_RAIL) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_WINDOW);
    assert_int_equal(da.caps.present, want);
    assert_int_equal(da.caps.os_major, 1);
    assert_int_equal(da.caps.os_minor, 3);
    assert_int_equal(da.caps.protocol_version, 0x0200);
    assert_int_equal(da.caps.extra_flags, 0x041d);
    assert_true(da.caps.extra_flags & WS_PDU_FASTPATH_OUTPUT_SUPPORTED);
    assert_int_equal(da.caps.refresh_rect_support, 1);
    assert_int_equal(da.caps.suppress_output_support, 1);
    assert_int_equal(da.caps.preferred_bpp, 24);
    assert_int_equal(da.caps.desktop_width, 1280);
    assert_int_equal(da.caps.desktop_height, 1024);
    assert_int_equal(da.caps.order_flags, 0x0022);
    assert_int_equal(da.caps.input_flags, 0x0035);
    assert_true(da.caps.input_flags & WS_PDU_INPUT_FLAG_FASTPATH_INPUT2);
    assert_int_equal(da.caps.vc_flags, 2);
    assert_int_equal(da.caps.vc_chunk_size, 1600);
    assert_int_equal(da.caps.color_pointer_flag, 1);
    assert_int_equal(da.caps.color_pointer_cache_size, 25);
    assert_int_equal(da.caps.pointer_cache_size, 25);
    assert_int_equal(da.caps.share_node_id, 0x03EA);
    assert_int_equal(da.caps.font_support_flags, 0x0100);
    assert_int_equal(da.session_id, 0);
    check_truncations(d_demand_active, spec_demand_active, sizeof spec_demand_active);
    /* The sessionId is optional: without it, 0. */
    memcpy(buf, spec_demand_active, sizeof spec_demand_active);
    wr16(buf, 363);
    assert_int_equal(dec(d_demand_active, buf, 363, &e), 0);
    assert_int_equal(da2.caps.num_sets, 13);
    /* As a Confirm Active it is refused by type. */
    assert_int_equal(dec(d_confirm_active, spec_demand_active, sizeof spec_demand_active, &e), -1);
    assert_contains(e.msg, "Confirm Active PDU: pduType 0x1, expected 0x3");
}

static void test_confirm_active_spec(void **state)
{
    (void)state;
    ws_error e;
    ws_pdu_hdr h;
    assert_int_equal(ws_pdu_decode_confirm_active(spec_confirm_active, sizeof spec_confirm_active, &h, &ca, &e), 0);
    assert_int_equal(h.total_length, 496);
    assert_int_equal(h.pdu_type, WS_PDU_TYPE_CONFIRMACTIVE);
    assert_int_equal(h.pdu_source, 0x03EF);
    assert_int_equal(ca.share_id, 0x000103EA);
    assert_int_equal(ca.originator_id, 0x03EA);
    assert_string_equal(ca.source_descriptor, "MSTSC");
    assert_int_equal(ca.caps.num_sets, 18);
    assert_int_equal(ca.caps.extra_flags, 0x041d);
    assert_int_equal(ca.caps.refresh_rect_support, 0);
    assert_int_equal(ca.caps.preferred_bpp, 24);
    assert_int_equal(ca.caps.desktop_width, 1280);
    assert_int_equal(ca.caps.desktop_height, 1024);
    assert_int_equal(ca.caps.desktop_resize_flag, 1);
    assert_int_equal(ca.caps.order_flags, 0x002a);
    assert_int_equal(ca.caps.input_flags, 0x0015);
    assert_int_equal(ca.caps.keyboard_layout, 0x0409);
    assert_int_equal(ca.caps.keyboard_type, 4);
    assert_int_equal(ca.caps.keyboard_function_keys, 12);
    assert_int_equal(ca.caps.pointer_cache_size, 0x15);
    assert_int_equal(ca.caps.vc_flags, 1);
    assert_int_equal(ca.caps.vc_chunk_size, 1600);
    assert_int_equal(ca.caps.font_support_flags, WS_PDU_FONTSUPPORT_FONTLIST);
    assert_true(ca.caps.present & WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_BITMAPCACHE_REV2));
    assert_true(ca.caps.present & WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_GLYPHCACHE));
    assert_false(ca.caps.present & WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_MULTIFRAGMENTUPDATE));
    assert_int_equal(ca.caps.multifrag_max_request_size, 0);
    check_truncations(d_confirm_active, spec_confirm_active, sizeof spec_confirm_active);
}

static void test_demand_active_roundtrip(void **state)
{
    (void)state;
    ws_error e;
    memset(&da, 0, sizeof da);
    da.share_id = 0x000103EF;
    snprintf(da.source_descriptor, sizeof da.source_descriptor, "%s", "RDP");
    ws_pdu_caps_server_default(&da.caps, 1024, 768);
    da.session_id = 7;
    size_t n = ws_pdu_encode_demand_active(WS_PDU_SERVER_CHANNEL_ID, &da, buf, sizeof buf);
    /* headers 6 + 4 + 2 + 2 + "RDP\0" + 4 + sets (24+28+88+10+88+12+8+8+8) + sessionId 4 */
    assert_int_equal(n, 6 + 4 + 4 + 4 + 4 + 274 + 4);
    assert_int_equal(rd16(buf), n);
    assert_int_equal(rd16(buf + 2), 0x0011);
    assert_int_equal(rd16(buf + 4), 0x03EA);
    assert_int_equal(rd32(buf + 6), 0x000103EF);
    assert_int_equal(rd16(buf + 10), 4);
    assert_int_equal(rd16(buf + 12), 4 + 274); /* lengthCombinedCapabilities */
    assert_memory_equal(buf + 14, "RDP", 4);
    assert_int_equal(rd16(buf + 18), 9);
    /* General first: extraFlags FASTPATH_OUTPUT_SUPPORTED | LONG_CREDENTIALS_SUPPORTED | NO_BITMAP_COMPRESSION_HDR */
    assert_int_equal(rd16(buf + 22), WS_PDU_CAPSET_GENERAL);
    assert_int_equal(rd16(buf + 24), 24);
    assert_int_equal(rd16(buf + 22 + 14), 0x0405);
    check_caps(n, ws_pdu_encode_demand_active(WS_PDU_SERVER_CHANNEL_ID, &da, buf2, cap));
    assert_int_equal(dec(d_demand_active, buf, n, &e), 0);
    assert_int_equal(da2.share_id, 0x000103EF);
    assert_string_equal(da2.source_descriptor, "RDP");
    assert_int_equal(da2.session_id, 7);
    assert_int_equal(da2.caps.num_sets, 9);
    da2.caps.num_sets = 0;
    assert_memory_equal(&da2.caps, &da.caps, sizeof da.caps);
    assert_int_equal(da2.caps.desktop_width, 1024);
    assert_int_equal(da2.caps.desktop_height, 768);
    assert_int_equal(da2.caps.preferred_bpp, 32);
    assert_int_equal(da2.caps.order_flags, WS_PDU_NEGOTIATEORDERSUPPORT | WS_PDU_ZEROBOUNDSDELTASSUPPORT);
    for (int i = 0; i < 32; i++)
        assert_int_equal(da2.caps.order_support[i], 0);
    assert_int_equal(da2.caps.input_flags, 0x003D);
    assert_int_equal(da2.caps.multifrag_max_request_size, 8u << 20);
    check_truncations(d_demand_active, buf, n);
}

static void test_confirm_active_roundtrip(void **state)
{
    (void)state;
    ws_error e;
    memset(&ca, 0, sizeof ca);
    ca.share_id = 0x000103EF;
    ca.originator_id = WS_PDU_SERVER_CHANNEL_ID;
    snprintf(ca.source_descriptor, sizeof ca.source_descriptor, "%s", "MSTSC");
    ws_pdu_caps_client_default(&ca.caps, 800, 600);
    ca.caps.present |= WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_LARGE_POINTER) | WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_COLORCACHE) |
                       WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_RAIL); /* RAIL: not written */
    ca.caps.large_pointer_flags = 1;
    size_t n = ws_pdu_encode_confirm_active(1007, &ca, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(rd16(buf), n);
    assert_int_equal(rd16(buf + 2), 0x0013);
    assert_int_equal(rd16(buf + 10), WS_PDU_SERVER_CHANNEL_ID);
    assert_int_equal(rd16(buf + 12), 6);
    assert_memory_equal(buf + 16, "MSTSC", 6);
    assert_int_equal(rd16(buf + 22), 18);
    check_caps(n, ws_pdu_encode_confirm_active(1007, &ca, buf2, cap));
    assert_int_equal(dec(d_confirm_active, buf, n, &e), 0);
    assert_int_equal(ca2.caps.num_sets, 18);
    assert_int_equal(ca2.caps.present, ca.caps.present & ~WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_RAIL));
    ca2.caps.present = ca.caps.present;
    ca2.caps.num_sets = 0;
    assert_memory_equal(&ca2.caps, &ca.caps, sizeof ca.caps);
    assert_int_equal(ca2.originator_id, 0x03EA);
    assert_string_equal(ca2.source_descriptor, "MSTSC");
    assert_true(ca2.caps.extra_flags & WS_PDU_FASTPATH_OUTPUT_SUPPORTED);
    check_truncations(d_confirm_active, buf, n);
    /* The spec's sets, re-encoded from what was decoded, decode to the same values. */
    assert_int_equal(dec(d_confirm_active, spec_confirm_active, sizeof spec_confirm_active, &e), 0);
    memcpy(&ca, &ca2, sizeof ca);
    n = ws_pdu_encode_confirm_active(1007, &ca, buf, sizeof buf);
    assert_int_equal(dec(d_confirm_active, buf, n, &e), 0);
    assert_int_equal(ca2.caps.desktop_width, 1280);
    assert_int_equal(ca2.caps.input_flags, 0x0015);
}

/* Build a Confirm Active with the given sets (each: type, length, then length - 4 zero bytes). */
static size_t confirm_with(uint8_t *p, unsigned count, const uint16_t (*sets)[2], unsigned nsets, int combined_delta)
{
    size_t o = 0;
    wr16(p + o, 0), o += 2;
    wr16(p + o, 0x13), o += 2;
    wr16(p + o, 1007), o += 2;
    wr16(p + o, 0x03EA), o += 2;
    wr16(p + o, 0x0001), o += 2;
    wr16(p + o, 0x03EA), o += 2;
    wr16(p + o, 1), o += 2;
    size_t combined_at = o;
    o += 2;
    p[o++] = 0;
    size_t start = o;
    wr16(p + o, (uint16_t)count), o += 2;
    wr16(p + o, 0), o += 2;
    for (unsigned i = 0; i < nsets; i++) {
        wr16(p + o, sets[i][0]);
        wr16(p + o + 2, sets[i][1]);
        memset(p + o + 4, 0, sets[i][1] > 4 ? sets[i][1] - 4u : 0);
        o += sets[i][1] >= 4 ? sets[i][1] : 4;
    }
    wr16(p + combined_at, (uint16_t)((int)(o - start) + combined_delta));
    wr16(p, (uint16_t)o);
    return o;
}

static void test_capability_bounds(void **state)
{
    (void)state;
    ws_error e;
    static const uint16_t good[][2] = {{1, 24}, {2, 28}, {99, 9}, {13, 88}, {26, 8}};
    size_t n = confirm_with(buf, 5, good, 5, 0);
    assert_int_equal(dec(d_confirm_active, buf, n, &e), 0);
    assert_int_equal(ca2.caps.num_sets, 5);
    assert_true(ca2.caps.present & WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_MULTIFRAGMENTUPDATE));
    check_truncations(d_confirm_active, buf, n);
    /* numberCapabilities over 64 */
    n = confirm_with(buf, 65, good, 5, 0);
    assert_int_equal(dec(d_confirm_active, buf, n, &e), -1);
    assert_contains(e.msg, "numberCapabilities 65 over 64");
    /* more sets announced than lengthCombinedCapabilities holds */
    n = confirm_with(buf, 6, good, 5, 0);
    assert_int_equal(dec(d_confirm_active, buf, n, &e), -1);
    assert_contains(e.msg, "truncated in capabilitySetType");
    /* lengthCombinedCapabilities past the PDU */
    n = confirm_with(buf, 5, good, 5, 1);
    assert_int_equal(dec(d_confirm_active, buf, n, &e), -1);
    assert_contains(e.msg, "lengthCombinedCapabilities");
    /* a set past lengthCombinedCapabilities */
    n = confirm_with(buf, 5, good, 5, -1);
    assert_int_equal(dec(d_confirm_active, buf, n, &e), -1);
    assert_contains(e.msg, "capability set 4 (type 26) lengthCapability 8 past lengthCombinedCapabilities");
    /* a set shorter than its header, and known sets shorter than their fields */
    static const uint16_t tiny[][2] = {{1, 3}};
    n = confirm_with(buf, 1, tiny, 1, 0);
    assert_int_equal(dec(d_confirm_active, buf, n, &e), -1);
    assert_contains(e.msg, "shorter than its header");
    static const uint16_t short_input[][2] = {{13, 20}};
    n = confirm_with(buf, 1, short_input, 1, 0);
    assert_int_equal(dec(d_confirm_active, buf, n, &e), -1);
    assert_contains(e.msg, "Input capability set (set 0) lengthCapability 20, at least 88");
    static const uint16_t short_bitmap[][2] = {{2, 16}};
    n = confirm_with(buf, 1, short_bitmap, 1, 0);
    assert_int_equal(dec(d_confirm_active, buf, n, &e), -1);
    assert_contains(e.msg, "Bitmap capability set");
    /* no sets at all, and a source descriptor past the end */
    n = confirm_with(buf, 0, good, 0, 0);
    assert_int_equal(dec(d_confirm_active, buf, n, &e), 0);
    assert_int_equal(ca2.caps.present, 0);
    wr16(buf + 12, 500);
    assert_int_equal(dec(d_confirm_active, buf, n, &e), -1);
    assert_contains(e.msg, "truncated in sourceDescriptor");
}

/* ---- finalization and data PDUs ---- */

static void test_finalization_vectors(void **state)
{
    (void)state;
    ws_error e;
    ws_pdu_hdr h;
    size_t n;
    ws_pdu_synchronize s = {.message_type = WS_PDU_SYNCMSGTYPE_SYNC, .target_user = 0x03EA};
    n = ws_pdu_encode_synchronize(&client_sh, &s, buf, sizeof buf);
    assert_int_equal(n, sizeof client_synchronize);
    assert_memory_equal(buf, client_synchronize, n);
    check_caps(n, ws_pdu_encode_synchronize(&client_sh, &s, buf2, cap));
    check_truncations(d_synchronize, client_synchronize, sizeof client_synchronize);

    ws_pdu_control c = {.action = WS_PDU_CTRLACTION_COOPERATE};
    n = ws_pdu_encode_control(&client_sh, &c, buf, sizeof buf);
    assert_int_equal(n, sizeof control_cooperate);
    assert_memory_equal(buf, control_cooperate, n);
    c.action = WS_PDU_CTRLACTION_REQUEST_CONTROL;
    n = ws_pdu_encode_control(&client_sh, &c, buf, sizeof buf);
    assert_memory_equal(buf, control_request_control, n);
    check_caps(n, ws_pdu_encode_control(&client_sh, &c, buf2, cap));
    check_truncations(d_control, control_request_control, sizeof control_request_control);

    ws_pdu_font f = {.flags = WS_PDU_FONTLIST_FIRST | WS_PDU_FONTLIST_LAST, .entry_size = 0x32};
    n = ws_pdu_encode_font_list(&client_sh, &f, buf, sizeof buf);
    assert_int_equal(n, sizeof client_font_list);
    assert_memory_equal(buf, client_font_list, n);
    check_caps(n, ws_pdu_encode_font_list(&client_sh, &f, buf2, cap));
    check_truncations(d_font_list, client_font_list, sizeof client_font_list);

    /* Server PDUs: decoded (this module writes STREAM_LOW where these have STREAM_MED). */
    assert_int_equal(ws_pdu_decode_control(server_granted_control, 26, &h, &c, &e), 0);
    assert_int_equal(c.action, WS_PDU_CTRLACTION_GRANTED_CONTROL);
    assert_int_equal(c.grant_id, 0x03EF);
    assert_int_equal(c.control_id, 0x03EA);
    assert_int_equal(h.stream_id, 2);
    assert_int_equal(h.pdu_type2, WS_PDU2_CONTROL);
    n = ws_pdu_encode_control(&server_sh, &c, buf, sizeof buf);
    buf[11] = 2;
    assert_memory_equal(buf, server_granted_control, n);
    check_truncations(d_control, server_granted_control, 26);
    assert_int_equal(ws_pdu_decode_font_map(server_font_map, 26, &h, &f, &e), 0);
    assert_int_equal(f.flags, 3);
    assert_int_equal(f.entry_size, 4);
    assert_int_equal(f.number, 0);
    f.entry_size = 4;
    n = ws_pdu_encode_font_map(&server_sh, &f, buf, sizeof buf);
    buf[11] = 2;
    assert_memory_equal(buf, server_font_map, n);
    check_truncations(d_font_map, server_font_map, 26);
    assert_int_equal(dec(d_font_list, server_font_map, 26, &e), -1);
    assert_contains(e.msg, "Font List PDU: pduType2 0x28 (FONTMAP), expected 0x27");

    /* MS-RDPBCGR 4.1.19, 4.2.1, 4.2.2. */
    assert_int_equal(ws_pdu_decode_synchronize(spec_server_synchronize, 22, &h, &s, &e), 0);
    assert_int_equal(s.target_user, 0x4463);
    assert_int_equal(h.stream_id, 0);
    assert_int_equal(h.uncompressed_length, 22);
    assert_int_equal(h.share_id, 0x000103EA);
    check_truncations(d_synchronize, spec_server_synchronize, 22);
    check_truncations(d_shutdown_request, spec_shutdown_request, 18);
    check_truncations(d_shutdown_denied, spec_shutdown_denied, 18);
    assert_int_equal(ws_pdu_peek(spec_shutdown_request, 18, &h, &e), 0);
    assert_int_equal(h.pdu_source, 1007);
    assert_int_equal(h.share_id, 0x000203EA);
    assert_int_equal(h.pdu_type2, WS_PDU2_SHUTDOWN_REQUEST);
    assert_int_equal(h.body_offset, 18);
    const ws_pdu_share sh2 = {.pdu_source = 1007, .share_id = 0x000203EA};
    n = ws_pdu_encode_shutdown_request(&sh2, buf, sizeof buf);
    assert_int_equal(n, 18);
    buf[12] = 4; /* Windows counted 4 here */
    assert_memory_equal(buf, spec_shutdown_request, 18);
    check_caps(18, ws_pdu_encode_shutdown_request(&sh2, buf2, cap));
    n = ws_pdu_encode_shutdown_denied(&server_sh, buf, sizeof buf);
    assert_int_equal(dec(d_shutdown_denied, buf, n, &e), 0);
    assert_int_equal(dec(d_shutdown_request, buf, n, &e), -1);
}

static void test_data_pdus(void **state)
{
    (void)state;
    ws_error e;
    ws_pdu_hdr h;
    size_t n;
    /* Set Error Info */
    n = ws_pdu_encode_set_error_info(&server_sh, WS_PDU_ERRINFO_DISCONNECTED_BY_OTHERCONNECTION, buf, sizeof buf);
    assert_int_equal(n, 22);
    assert_int_equal(buf[14], WS_PDU2_SET_ERROR_INFO);
    assert_int_equal(rd16(buf + 12), 4);
    uint32_t code = 0;
    assert_int_equal(ws_pdu_decode_set_error_info(buf, n, &h, &code, &e), 0);
    assert_int_equal(code, 5);
    assert_int_equal(h.pdu_source, 0x03EA);
    check_caps(n, ws_pdu_encode_set_error_info(&server_sh, 5, buf2, cap));
    check_truncations(d_set_error_info, buf, n);
    /* Control, each action; an unknown action */
    for (uint16_t a = 1; a <= 4; a++) {
        ws_pdu_control c = {.action = a, .grant_id = 1007, .control_id = 1002}, c2;
        n = ws_pdu_encode_control(&server_sh, &c, buf, sizeof buf);
        assert_int_equal(ws_pdu_decode_control(buf, n, NULL, &c2, &e), 0);
        assert_memory_equal(&c, &c2, sizeof c);
    }
    buf[18] = 9;
    assert_int_equal(dec(d_control, buf, n, &e), -1);
    assert_contains(e.msg, "unknown action 9");
    /* Synchronize with another messageType */
    ws_pdu_synchronize s = {.message_type = 2, .target_user = 1007};
    n = ws_pdu_encode_synchronize(&server_sh, &s, buf, sizeof buf);
    assert_int_equal(dec(d_synchronize, buf, n, &e), -1);
    assert_contains(e.msg, "messageType 2");
    /* Refresh Rect: 0, 3 and 255 areas */
    memset(&rr, 0, sizeof rr);
    for (unsigned count = 0; count <= 255; count += (count == 0 ? 3 : 252)) {
        rr.count = (uint8_t)count;
        for (unsigned i = 0; i < count; i++)
            rr.areas[i] = (ws_pdu_rect16){(uint16_t)i, (uint16_t)(i + 1), (uint16_t)(i + 10), (uint16_t)(i + 20)};
        n = ws_pdu_encode_refresh_rect(&client_sh, &rr, buf, sizeof buf);
        assert_int_equal(n, 18 + 4 + 8 * count);
        assert_int_equal(dec(d_refresh_rect, buf, n, &e), 0);
        assert_int_equal(rr2.count, count);
        assert_memory_equal(rr2.areas, rr.areas, count * sizeof rr.areas[0]);
        if (count == 3) {
            check_truncations(d_refresh_rect, buf, n);
            check_caps(n, ws_pdu_encode_refresh_rect(&client_sh, &rr, buf2, cap));
        }
    }
    /* Suppress Output: suppress (no rectangle) and allow (with one) */
    ws_pdu_suppress_output so = {.allow_display_updates = 0}, so2;
    n = ws_pdu_encode_suppress_output(&client_sh, &so, buf, sizeof buf);
    assert_int_equal(n, 22);
    assert_int_equal(ws_pdu_decode_suppress_output(buf, n, NULL, &so2, &e), 0);
    assert_int_equal(so2.allow_display_updates, 0);
    so = (ws_pdu_suppress_output){.allow_display_updates = 1, .area = {0, 0, 1023, 767}};
    n = ws_pdu_encode_suppress_output(&client_sh, &so, buf, sizeof buf);
    assert_int_equal(n, 30);
    assert_int_equal(ws_pdu_decode_suppress_output(buf, n, NULL, &so2, &e), 0);
    assert_memory_equal(&so2, &so, sizeof so);
    check_truncations(d_suppress_output, buf, n);
    buf[18] = 2;
    assert_int_equal(dec(d_suppress_output, buf, n, &e), -1);
    assert_contains(e.msg, "allowDisplayUpdates 2");
    /* Generic data PDU and peek */
    static const uint8_t body[] = {1, 2, 3};
    n = ws_pdu_encode_data(&client_sh, WS_PDU2_FRAME_ACKNOWLEDGE, body, sizeof body, buf, sizeof buf);
    assert_int_equal(n, 21);
    assert_int_equal(ws_pdu_peek(buf, n, &h, &e), 0);
    assert_int_equal(h.total_length, 21);
    assert_int_equal(h.pdu_type, WS_PDU_TYPE_DATA);
    assert_int_equal(h.pdu_type2, WS_PDU2_FRAME_ACKNOWLEDGE);
    assert_int_equal(h.uncompressed_length, 3);
    assert_int_equal(h.stream_id, WS_PDU_STREAM_LOW);
    assert_int_equal(h.body_offset, 18);
    check_truncations(d_peek, buf, n);
    check_caps(n, ws_pdu_encode_data(&client_sh, 0x38, body, sizeof body, buf2, cap));
    assert_int_equal(ws_pdu_encode_data(&client_sh, 0x38, buf2, WS_PDU_SLOWPATH_MAX, buf, sizeof buf), 0);
    n = ws_pdu_encode_data(&client_sh, WS_PDU2_FRAME_ACKNOWLEDGE, body, sizeof body, buf, sizeof buf);
    /* A PDU followed by another in the same userData: each decoder reads totalLength bytes. */
    size_t n2 = ws_pdu_encode_set_error_info(&server_sh, 1, buf + n, sizeof buf - n);
    assert_int_equal(ws_pdu_peek(buf, n + n2, &h, &e), 0);
    assert_int_equal(h.total_length, n);
    assert_int_equal(ws_pdu_decode_set_error_info(buf + n, n2, NULL, &code, &e), 0);
    assert_int_equal(code, 1);
    /* Refusals: compressed, flow PDU, totalLength too short or long, wrong pduType */
    buf[15] = WS_PDU_PACKET_COMPRESSED;
    assert_int_equal(dec(d_peek, buf, n, &e), -1);
    assert_contains(e.msg, "compressed");
    static const uint8_t flow[] = {0x00, 0x80, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(dec(d_peek, flow, sizeof flow, &e), -1);
    assert_contains(e.msg, "flow PDU");
    static const uint8_t shorty[] = {0x04, 0x00, 0x16, 0x00, 0xea, 0x03};
    assert_int_equal(dec(d_peek, shorty, sizeof shorty, &e), -1);
    assert_contains(e.msg, "totalLength 4 shorter");
    static const uint8_t data_short[] = {0x08, 0x00, 0x17, 0x00, 0xea, 0x03, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(dec(d_peek, data_short, sizeof data_short, &e), -1);
    assert_contains(e.msg, "Share Data Header");
    assert_int_equal(dec(d_synchronize, spec_demand_active, sizeof spec_demand_active, &e), -1);
    assert_contains(e.msg, "Synchronize PDU: pduType 0x1, expected 0x7");
    assert_int_equal(dec(d_demand_active, flow, sizeof flow, &e), -1);
    assert_contains(e.msg, "Demand Active PDU: Share Control Header: a flow PDU");
}

/* ---- input ---- */

static void fill_input(ws_pdu_input *p, unsigned count)
{
    memset(p, 0, sizeof *p);
    p->count = (uint16_t)count;
    for (unsigned i = 0; i < count; i++) {
        ws_pdu_input_event *ev = &p->events[i];
        switch (i % 6) {
        case 0:
            *ev = (ws_pdu_input_event){.type = WS_PDU_INPUT_SCANCODE, .code = (uint16_t)(0x1E + i % 50)};
            break;
        case 1:
            *ev = (ws_pdu_input_event){.type = WS_PDU_INPUT_SCANCODE,
                                       .flags = WS_PDU_KBDFLAGS_RELEASE | WS_PDU_KBDFLAGS_EXTENDED,
                                       .code = 0x48};
            break;
        case 2:
            *ev = (ws_pdu_input_event){.type = WS_PDU_INPUT_UNICODE, .code = 0x00E9};
            break;
        case 3:
            *ev = (ws_pdu_input_event){
                .type = WS_PDU_INPUT_MOUSE, .flags = WS_PDU_PTRFLAGS_MOVE, .x = (uint16_t)(i * 7), .y = 300};
            break;
        case 4:
            *ev = (ws_pdu_input_event){.type = WS_PDU_INPUT_SYNC,
                                       .toggle_flags = WS_PDU_TS_SYNC_NUM_LOCK | WS_PDU_TS_SYNC_CAPS_LOCK};
            break;
        default:
            *ev = (ws_pdu_input_event){.type = WS_PDU_INPUT_MOUSEX, .flags = 0x8001, .x = 5, .y = 6};
            break;
        }
    }
}

static void test_input_slowpath(void **state)
{
    (void)state;
    ws_error e;
    fill_input(&in, 6);
    for (unsigned i = 0; i < 6; i++)
        in.events[i].event_time = 1000 + i;
    in.events[4].toggle_flags = 0x00012345; /* all 32 bits of toggleFlags travel */
    size_t n = ws_pdu_encode_input(&client_sh, &in, buf, sizeof buf);
    assert_int_equal(n, 18 + 4 + 6 * 12);
    assert_int_equal(rd16(buf + 18), 6);
    /* the scancode event: eventTime, messageType 0x0004, keyboardFlags, keyCode, pad */
    assert_int_equal(rd32(buf + 22), 1000);
    assert_int_equal(rd16(buf + 26), 0x0004);
    assert_int_equal(rd16(buf + 30), 0x1E);
    assert_int_equal(rd16(buf + 34 + 6), 0x8100);
    check_caps(n, ws_pdu_encode_input(&client_sh, &in, buf2, cap));
    assert_int_equal(dec(d_input, buf, n, &e), 0);
    assert_int_equal(in2.count, 6);
    assert_memory_equal(in2.events, in.events, 6 * sizeof in.events[0]);
    check_truncations(d_input, buf, n);
    /* 64 events, then 65 */
    fill_input(&in, 64);
    n = ws_pdu_encode_input(&client_sh, &in, buf, sizeof buf);
    assert_int_equal(dec(d_input, buf, n, &e), 0);
    assert_int_equal(in2.count, 64);
    in.count = 65;
    assert_int_equal(ws_pdu_encode_input(&client_sh, &in, buf, sizeof buf), 0);
    fill_input(&in, 1);
    n = ws_pdu_encode_input(&client_sh, &in, buf, sizeof buf);
    wr16(buf + 18, 65);
    assert_int_equal(dec(d_input, buf, n, &e), -1);
    assert_contains(e.msg, "numEvents 65 over 64");
    wr16(buf + 18, 2);
    assert_int_equal(dec(d_input, buf, n, &e), -1);
    assert_contains(e.msg, "Input PDU: numEvents 2 need 24 bytes, 12 left");
    wr16(buf + 18, 1);
    wr16(buf + 26, 0x0002);
    assert_int_equal(dec(d_input, buf, n, &e), -1);
    assert_contains(e.msg, "unknown messageType 0x0002");
    in.events[0].type = 0x0002;
    assert_int_equal(ws_pdu_encode_input(&client_sh, &in, buf, sizeof buf), 0);
}

static void test_fastpath_input(void **state)
{
    (void)state;
    ws_error e;
    /* 'a' pressed and released: header (2 events << 2), length 6, SCANCODE 0x1E, SCANCODE|RELEASE 0x1E */
    memset(&in, 0, sizeof in);
    in.count = 2;
    in.events[0] = (ws_pdu_input_event){.type = WS_PDU_INPUT_SCANCODE, .code = 0x1E};
    in.events[1] = (ws_pdu_input_event){.type = WS_PDU_INPUT_SCANCODE, .flags = WS_PDU_KBDFLAGS_RELEASE, .code = 0x1E};
    static const uint8_t key_a[] = {0x08, 0x06, 0x00, 0x1E, 0x01, 0x1E};
    size_t n = ws_pdu_encode_fastpath_input(&in, buf, sizeof buf);
    assert_int_equal(n, sizeof key_a);
    assert_memory_equal(buf, key_a, n);
    assert_int_equal(ws_pdu_fastpath_length(key_a, 2), 6);
    check_caps(n, ws_pdu_encode_fastpath_input(&in, buf2, cap));
    check_truncations(d_fastpath_input, key_a, sizeof key_a);
    assert_int_equal(dec(d_fastpath_input, key_a, sizeof key_a, &e), 0);
    assert_memory_equal(in2.events, in.events, 2 * sizeof in.events[0]);
    /* FreeRDP always writes the two-byte length form. */
    static const uint8_t key_a_long[] = {0x08, 0x80, 0x07, 0x00, 0x1E, 0x01, 0x1E};
    assert_int_equal(ws_pdu_fastpath_length(key_a_long, 3), 7);
    assert_int_equal(dec(d_fastpath_input, key_a_long, sizeof key_a_long, &e), 0);
    assert_memory_equal(in2.events, in.events, 2 * sizeof in.events[0]);
    check_truncations(d_fastpath_input, key_a_long, sizeof key_a_long);
    /* Unicode 'é' down (0x80 | 0 flags), extended key released, sync NUM|CAPS, mouse move to (16, 32) */
    static const uint8_t mixed[] = {0x10, 0x0f, 0x80, 0xE9, 0x00, 0x03, 0x48, 0x66,
                                    0x20, 0x00, 0x08, 0x10, 0x00, 0x20, 0x00};
    assert_int_equal(dec(d_fastpath_input, mixed, sizeof mixed, &e), 0);
    assert_int_equal(in2.count, 4);
    assert_int_equal(in2.events[0].type, WS_PDU_INPUT_UNICODE);
    assert_int_equal(in2.events[0].code, 0xE9);
    assert_int_equal(in2.events[0].flags, 0);
    assert_int_equal(in2.events[1].type, WS_PDU_INPUT_SCANCODE);
    assert_int_equal(in2.events[1].flags, WS_PDU_KBDFLAGS_RELEASE | WS_PDU_KBDFLAGS_EXTENDED);
    assert_int_equal(in2.events[1].code, 0x48);
    assert_int_equal(in2.events[2].type, WS_PDU_INPUT_SYNC);
    assert_int_equal(in2.events[2].toggle_flags, WS_PDU_TS_SYNC_NUM_LOCK | WS_PDU_TS_SYNC_CAPS_LOCK);
    assert_int_equal(in2.events[3].type, WS_PDU_INPUT_MOUSE);
    assert_int_equal(in2.events[3].flags, WS_PDU_PTRFLAGS_MOVE);
    assert_int_equal(in2.events[3].x, 16);
    assert_int_equal(in2.events[3].y, 32);
    memcpy(&in, &in2, sizeof in);
    n = ws_pdu_encode_fastpath_input(&in, buf, sizeof buf);
    assert_int_equal(n, sizeof mixed);
    assert_memory_equal(buf, mixed, n);
    check_truncations(d_fastpath_input, mixed, sizeof mixed);
    /* 16 events: numEvents in the extra byte; 64 events: a two-byte length */
    fill_input(&in, 16);
    n = ws_pdu_encode_fastpath_input(&in, buf, sizeof buf);
    assert_int_equal(buf[0], 0x00);
    assert_int_equal(buf[2], 16);
    assert_int_equal(dec(d_fastpath_input, buf, n, &e), 0);
    assert_int_equal(in2.count, 16);
    assert_memory_equal(in2.events, in.events, 16 * sizeof in.events[0]);
    check_truncations(d_fastpath_input, buf, n);
    fill_input(&in, 64);
    n = ws_pdu_encode_fastpath_input(&in, buf, sizeof buf);
    assert_true(n > 0x7F);
    assert_int_equal(buf[1], 0x80 | (n >> 8));
    assert_int_equal(buf[2], n & 0xFF);
    assert_int_equal(buf[3], 64);
    assert_int_equal(ws_pdu_fastpath_length(buf, 3), (long)n);
    assert_int_equal(ws_pdu_fastpath_length(buf, 2), 0);
    assert_int_equal(dec(d_fastpath_input, buf, n, &e), 0);
    assert_memory_equal(in2.events, in.events, 64 * sizeof in.events[0]);
    check_truncations(d_fastpath_input, buf, n);
    check_caps(n, ws_pdu_encode_fastpath_input(&in, buf2, cap));
    buf[3] = 65;
    assert_int_equal(dec(d_fastpath_input, buf, n, &e), -1);
    assert_contains(e.msg, "numEvents 65 over 64");
    /* zero events */
    in.count = 0;
    n = ws_pdu_encode_fastpath_input(&in, buf, sizeof buf);
    assert_int_equal(n, 3);
    assert_int_equal(dec(d_fastpath_input, buf, n, &e), 0);
    assert_int_equal(in2.count, 0);
    /* refusals: encrypted, not action 0, trailing bytes, unknown event, length shorter than its header */
    static const uint8_t enc[] = {0x88, 0x06, 0x00, 0x1E, 0x01, 0x1E};
    assert_int_equal(dec(d_fastpath_input, enc, sizeof enc, &e), -1);
    assert_contains(e.msg, "encryption");
    static const uint8_t tpkt[] = {0x03, 0x00, 0x00, 0x08, 0, 0, 0, 0};
    assert_int_equal(dec(d_fastpath_input, tpkt, sizeof tpkt, &e), -1);
    assert_int_equal(ws_pdu_fastpath_length(tpkt, sizeof tpkt), -1);
    static const uint8_t trailing[] = {0x04, 0x04, 0x00, 0x1E};
    assert_int_equal(dec(d_fastpath_input, trailing, 4, &e), 0);
    static const uint8_t trailing2[] = {0x04, 0x05, 0x00, 0x1E, 0x00};
    assert_int_equal(dec(d_fastpath_input, trailing2, 5, &e), -1);
    assert_contains(e.msg, "1 bytes after the 1 events");
    static const uint8_t qoe[] = {0x04, 0x07, 0xC0, 0, 0, 0, 0};
    assert_int_equal(dec(d_fastpath_input, qoe, sizeof qoe, &e), -1);
    assert_contains(e.msg, "unsupported eventCode 6");
    static const uint8_t len1[] = {0x04, 0x01};
    assert_int_equal(ws_pdu_fastpath_length(len1, 2), -1);
    assert_int_equal(dec(d_fastpath_input, len1, 2, &e), -1);
    assert_int_equal(ws_pdu_fastpath_length(len1, 0), 0);
    assert_int_equal(ws_pdu_fastpath_length(len1, 1), 0);
    /* a scancode over 255 cannot travel fast-path */
    fill_input(&in, 1);
    in.events[0].code = 0x100;
    assert_int_equal(ws_pdu_encode_fastpath_input(&in, buf, sizeof buf), 0);
}

/* ---- bitmaps ---- */

static uint8_t pixels[64 * 64 * 4 * 2];

static void fill_rect(ws_pdu_bitmap_rect *r, uint16_t x, uint16_t y, uint16_t w, uint16_t h, const uint8_t *data)
{
    *r = (ws_pdu_bitmap_rect){.left = x,
                              .top = y,
                              .right = (uint16_t)(x + w - 1),
                              .bottom = (uint16_t)(y + h - 1),
                              .width = w,
                              .height = h,
                              .bpp = 32,
                              .flags = 0,
                              .length = (uint16_t)(w * h * 4),
                              .data = data};
}

static void test_bitmap_slowpath(void **state)
{
    (void)state;
    ws_error e;
    ws_pdu_hdr h;
    for (size_t i = 0; i < sizeof pixels; i++)
        pixels[i] = (uint8_t)(i * 7 + 3);
    memset(&bu, 0, sizeof bu);
    bu.count = 2;
    fill_rect(&bu.rects[0], 10, 20, 4, 2, pixels);
    fill_rect(&bu.rects[1], 0, 0, 64, 64, pixels + 32);
    size_t n = ws_pdu_encode_update_bitmap(&server_sh, &bu, buf, sizeof buf);
    assert_int_equal(n, 18 + 4 + 18 + 32 + 18 + 16384);
    assert_int_equal(buf[14], WS_PDU2_UPDATE);
    assert_int_equal(rd16(buf + 18), WS_PDU_UPDATETYPE_BITMAP);
    assert_int_equal(rd16(buf + 20), 2);
    /* TS_BITMAP_DATA: destLeft 10, destTop 20, destRight 13, destBottom 21, width 4, height 2, 32 bpp, flags 0,
     * bitmapLength 32, then the data */
    static const uint16_t fields[9] = {10, 20, 13, 21, 4, 2, 32, 0, 32};
    for (int i = 0; i < 9; i++)
        assert_int_equal(rd16(buf + 22 + 2 * i), fields[i]);
    assert_memory_equal(buf + 40, pixels, 32);
    check_caps(n, ws_pdu_encode_update_bitmap(&server_sh, &bu, buf2, cap));
    uint8_t *c = exact(buf, n);
    assert_int_equal(ws_pdu_decode_update_bitmap(c, n, &h, &bu2, &e), 0);
    assert_int_equal(h.pdu_type2, WS_PDU2_UPDATE);
    assert_int_equal(bu2.count, 2);
    assert_ptr_equal(bu2.rects[0].data, c + 40);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(bu2.rects[i].left, bu.rects[i].left);
        assert_int_equal(bu2.rects[i].bottom, bu.rects[i].bottom);
        assert_int_equal(bu2.rects[i].width, bu.rects[i].width);
        assert_int_equal(bu2.rects[i].length, bu.rects[i].length);
        assert_memory_equal(bu2.rects[i].data, bu.rects[i].data, bu.rects[i].length);
    }
    free(c);
    bu.count = 1;
    n = ws_pdu_encode_update_bitmap(&server_sh, &bu, buf2, sizeof buf2);
    assert_int_equal(n, 18 + 4 + 18 + 32);
    memcpy(buf, buf2, n);
    check_truncations(d_update_bitmap, buf, n);
    /* Refusals when encoding */
    bu.rects[0].bpp = 16;
    assert_int_equal(ws_pdu_encode_update_bitmap(&server_sh, &bu, buf2, sizeof buf2), 0);
    bu.rects[0].bpp = 32;
    bu.rects[0].length = 31;
    assert_int_equal(ws_pdu_encode_update_bitmap(&server_sh, &bu, buf2, sizeof buf2), 0);
    bu.rects[0].length = 32;
    bu.rects[0].right = 14;
    assert_int_equal(ws_pdu_encode_update_bitmap(&server_sh, &bu, buf2, sizeof buf2), 0);
    bu.rects[0].right = 13;
    bu.count = 257;
    assert_int_equal(ws_pdu_encode_update_bitmap(&server_sh, &bu, buf2, sizeof buf2), 0);
    /* four 64x64 tiles are over what one slow-path PDU holds */
    bu.count = 4;
    for (int i = 0; i < 4; i++)
        fill_rect(&bu.rects[i], 0, 0, 64, 64, pixels);
    assert_int_equal(ws_pdu_encode_update_bitmap(&server_sh, &bu, buf2, sizeof buf2), 0);
    bu.count = 3;
    assert_true(ws_pdu_encode_update_bitmap(&server_sh, &bu, buf2, sizeof buf2) > 0);
    /* Refusals when decoding: bpp, compression, length, size, destination, count, updateType */
    bu.count = 1;
    fill_rect(&bu.rects[0], 10, 20, 4, 2, pixels);
    n = ws_pdu_encode_update_bitmap(&server_sh, &bu, buf, sizeof buf);
    struct {
        size_t at;
        uint16_t v;
        const char *msg;
    } bad[] = {
        {22 + 12, 24, "bitsPerPixel 24, only 32 supported"},
        {22 + 14, WS_PDU_BITMAP_COMPRESSION, "cbCompMainBodySize"}, /* the pixels read as a TS_CD_HEADER */
        {22 + 16, 33, "bitmapLength 33, expected 4x2x4 = 32"},
        {22 + 8, 0, "size 0x2"},
        {22 + 8, 5000, "size 5000x2"},
        {22 + 4, 9, "destination (10,20)-(9,21)"},
        {22 + 4, 14, "does not fit its 4x2 bitmap"},
        {20, 257, "numberRectangles 257 over 256"},
        {20, 2, "truncated in TS_BITMAP_DATA"},
        {18, 3, "updateType 0x0003 is not BITMAP"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(buf2, buf, n);
        wr16(buf2 + bad[i].at, bad[i].v);
        assert_int_equal(dec(d_update_bitmap, buf2, n, &e), -1);
        assert_contains(e.msg, bad[i].msg);
        assert_contains(e.msg, "Update PDU");
    }
    /* bitmapLength consistent with a larger size but past the end */
    memcpy(buf2, buf, n);
    wr16(buf2 + 22 + 10, 3);
    wr16(buf2 + 22 + 16, 48);
    assert_int_equal(dec(d_update_bitmap, buf2, n, &e), -1);
    assert_contains(e.msg, "truncated in bitmapDataStream");
}

/* Compressed rectangles (TS_BITMAP_DATA flags BITMAP_COMPRESSION): a Planar stream with and without the
 * TS_CD_HEADER, both paths, and drawn as the client draws them. */
static void test_bitmap_compressed(void **state)
{
    (void)state;
    ws_error e;
    static uint8_t tile[13 * 7 * 4], stream[WS_PLANAR_MAX_SIZE(13, 7)], frame[32 * 16 * 4], want[32 * 16 * 4];
    for (size_t i = 0; i < sizeof tile; i++)
        tile[i] = (uint8_t)(i % 4 == 3 ? 0xFF : (i / 40) * 17);
    size_t sn = ws_planar_encode(tile, 13, 7, stream, sizeof stream);
    assert_true(sn > 0);
    for (int hdr = 0; hdr < 2; hdr++) {
        memset(&bu, 0, sizeof bu);
        bu.count = 1;
        fill_rect(&bu.rects[0], 3, 5, 13, 7, stream);
        bu.rects[0].flags = WS_PDU_BITMAP_COMPRESSION | (hdr ? 0 : WS_PDU_NO_BITMAP_COMPRESSION_HDR);
        bu.rects[0].length = (uint16_t)sn;
        size_t n = ws_pdu_encode_fastpath_bitmap(&bu, buf, sizeof buf);
        assert_int_equal(n, 3 + 3 + 4 + 18 + (hdr ? 8 : 0) + sn);
        assert_int_equal(rd16(buf + 6 + 4 + 16), sn + (hdr ? 8 : 0)); /* bitmapLength */
        if (hdr) {
            assert_int_equal(rd16(buf + 28), 0);        /* cbCompFirstRowSize */
            assert_int_equal(rd16(buf + 30), sn);       /* cbCompMainBodySize */
            assert_int_equal(rd16(buf + 32), 13 * 4);   /* cbScanWidth */
            assert_int_equal(rd16(buf + 34), 13 * 7 * 4); /* cbUncompressedSize */
        }
        uint8_t *c = malloc(n); /* kept while bu2 points into it */
        assert_non_null(c);
        memcpy(c, buf, n);
        assert_int_equal(ws_pdu_decode_fastpath_update(c, n, &bu2, &e), 0);
        assert_int_equal(bu2.rects[0].flags, bu.rects[0].flags);
        assert_int_equal(bu2.rects[0].length, sn);
        assert_memory_equal(bu2.rects[0].data, stream, sn);
        /* drawn: the same pixels as the uncompressed tile blitted */
        memset(frame, 0, sizeof frame);
        memset(want, 0, sizeof want);
        assert_int_equal(ws_pdu_bitmap_draw(&bu2.rects[0], frame, 32 * 4, 32, 16, &e), 0);
        ws_pdu_bitmap_rect plain;
        fill_rect(&plain, 3, 5, 13, 7, tile);
        ws_pdu_bitmap_blit(&plain, want, 32 * 4, 32, 16);
        assert_memory_equal(frame, want, sizeof frame);
        free(c);
        check_truncations(d_fastpath_update, buf, n);
        /* the slow path carries the same rectangle */
        n = ws_pdu_encode_update_bitmap(&server_sh, &bu, buf, sizeof buf);
        assert_true(n > 0);
        c = malloc(n);
        assert_non_null(c);
        memcpy(c, buf, n);
        assert_int_equal(ws_pdu_decode_update_bitmap(c, n, NULL, &bu2, &e), 0);
        assert_memory_equal(bu2.rects[0].data, stream, sn);
        free(c);
    }
    /* a header whose body length disagrees, a stream that does not decode, unknown flags, no stream */
    bu.rects[0].flags = WS_PDU_BITMAP_COMPRESSION;
    size_t n = ws_pdu_encode_fastpath_bitmap(&bu, buf, sizeof buf);
    wr16(buf + 30, (uint16_t)(sn - 1));
    assert_int_equal(dec(d_fastpath_update, buf, n, &e), -1);
    assert_contains(e.msg, "cbCompMainBodySize");
    bu2.rects[0] = bu.rects[0];
    bu2.rects[0].length = (uint16_t)(sn - 1);
    memset(frame, 0, sizeof frame);
    assert_int_equal(ws_pdu_bitmap_draw(&bu2.rects[0], frame, 32 * 4, 32, 16, &e), -1);
    assert_contains(e.msg, "planar: ");
    bu.rects[0].flags = WS_PDU_BITMAP_COMPRESSION | 0x0002;
    assert_int_equal(ws_pdu_encode_fastpath_bitmap(&bu, buf, sizeof buf), 0);
    bu.rects[0].flags = WS_PDU_BITMAP_COMPRESSION | WS_PDU_NO_BITMAP_COMPRESSION_HDR;
    bu.rects[0].length = 0;
    assert_int_equal(ws_pdu_encode_fastpath_bitmap(&bu, buf, sizeof buf), 0);
    /* an uncompressed rectangle is never blitted as a compressed one's stream */
    bu2.rects[0] = bu.rects[0];
    bu2.rects[0].length = 13 * 7 * 4;
    memset(frame, 0, sizeof frame);
    ws_pdu_bitmap_blit(&bu2.rects[0], frame, 32 * 4, 32, 16);
    assert_int_equal(frame[(5 * 32 + 3) * 4 + 3], 0);
}

static void test_bitmap_fastpath(void **state)
{
    (void)state;
    ws_error e;
    for (size_t i = 0; i < sizeof pixels; i++)
        pixels[i] = (uint8_t)(i * 13 + 1);
    memset(&bu, 0, sizeof bu);
    bu.count = 1;
    fill_rect(&bu.rects[0], 64, 128, 64, 64, pixels);
    size_t n = ws_pdu_encode_fastpath_bitmap(&bu, buf, sizeof buf);
    size_t data = 4 + 18 + 16384;
    assert_int_equal(n, 3 + 3 + data);
    assert_int_equal(buf[0], 0x00);
    assert_int_equal(buf[1], 0x80 | (n >> 8));
    assert_int_equal(buf[2], n & 0xFF);
    assert_int_equal(buf[3], 0x01); /* BITMAP, FASTPATH_FRAGMENT_SINGLE, no compression */
    assert_int_equal(rd16(buf + 4), data);
    assert_int_equal(rd16(buf + 6), WS_PDU_UPDATETYPE_BITMAP);
    assert_int_equal(rd16(buf + 8), 1);
    assert_int_equal(rd16(buf + 10), 64);
    assert_int_equal(rd16(buf + 12), 128);
    assert_int_equal(rd16(buf + 14), 127);
    assert_int_equal(rd16(buf + 16), 191);
    assert_memory_equal(buf + 28, pixels, 16384);
    assert_int_equal(ws_pdu_fastpath_length(buf, 3), (long)n);
    check_caps(n, ws_pdu_encode_fastpath_bitmap(&bu, buf2, cap));
    assert_int_equal(dec(d_fastpath_update, buf, n, &e), 0);
    assert_int_equal(bu2.count, 1);
    assert_int_equal(bu2.other_updates, 0);
    assert_int_equal(bu2.rects[0].right, 127);
    check_truncations(d_fastpath_update, buf, n);
    /* a small one keeps a one-byte length */
    fill_rect(&bu.rects[0], 0, 0, 2, 2, pixels);
    n = ws_pdu_encode_fastpath_bitmap(&bu, buf, sizeof buf);
    assert_int_equal(n, 2 + 3 + 4 + 18 + 16);
    assert_int_equal(buf[1], n);
    check_truncations(d_fastpath_update, buf, n);
    /* an update of another type before it is skipped and counted; two bitmap updates gather */
    static const uint8_t ptr_default[] = {0x09, 0x00, 0x00}; /* FASTPATH_UPDATETYPE_PTR_DEFAULT, size 0 */
    size_t m = 0;
    buf2[m++] = 0;
    m += 2;
    memcpy(buf2 + m, ptr_default, 3), m += 3;
    memcpy(buf2 + m, buf + 2, n - 2), m += n - 2;
    memcpy(buf2 + m, buf + 2, n - 2), m += n - 2;
    buf2[1] = 0x80 | (uint8_t)(m >> 8);
    buf2[2] = (uint8_t)m;
    assert_int_equal(dec(d_fastpath_update, buf2, m, &e), 0);
    assert_int_equal(bu2.count, 2);
    assert_int_equal(bu2.other_updates, 1);
    check_truncations(d_fastpath_update, buf2, m);
    /* refusals: fragmented, compressed, encrypted, too large to encode */
    memcpy(buf2, buf, n);
    buf2[2] = 0x21;
    assert_int_equal(dec(d_fastpath_update, buf2, n, &e), -1);
    assert_contains(e.msg, "fragmented");
    buf2[2] = 0x81;
    assert_int_equal(dec(d_fastpath_update, buf2, n, &e), -1);
    assert_contains(e.msg, "compressed");
    memcpy(buf2, buf, n);
    buf2[0] = 0x80;
    assert_int_equal(dec(d_fastpath_update, buf2, n, &e), -1);
    assert_contains(e.msg, "encryption");
    bu.count = 2;
    fill_rect(&bu.rects[0], 0, 0, 64, 64, pixels);
    fill_rect(&bu.rects[1], 64, 0, 64, 64, pixels);
    assert_int_equal(ws_pdu_encode_fastpath_bitmap(&bu, buf, sizeof buf), 0); /* 32 KiB + headers > 0x7FFF */
    bu.count = 1;
    fill_rect(&bu.rects[0], 0, 0, 127, 64, pixels);
    assert_true(ws_pdu_encode_fastpath_bitmap(&bu, buf, sizeof buf) > 0);
}

static void test_bitmap_rows_blit(void **state)
{
    (void)state;
    enum { FW = 9, FH = 7 };
    uint8_t frame[FW * FH * 4], back[FW * FH * 4], rows[FW * FH * 4];
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = (uint8_t)(i + 1);
    /* region (2,1) 5x4: its bottom row comes first */
    ws_pdu_bitmap_rows(frame, FW * 4, 2, 1, 5, 4, rows);
    assert_memory_equal(rows, frame + (4 * FW + 2) * 4, 20);
    assert_memory_equal(rows + 3 * 20, frame + (1 * FW + 2) * 4, 20);
    ws_pdu_bitmap_rect r;
    fill_rect(&r, 2, 1, 5, 4, rows);
    memset(back, 0, sizeof back);
    ws_pdu_bitmap_blit(&r, back, FW * 4, FW, FH);
    for (unsigned y = 0; y < FH; y++) {
        for (unsigned x = 0; x < FW; x++) {
            int inside = x >= 2 && x < 7 && y >= 1 && y < 5;
            const uint8_t *px = back + (y * FW + x) * 4;
            if (inside)
                assert_memory_equal(px, frame + (y * FW + x) * 4, 4);
            else
                assert_int_equal(px[0] | px[1] | px[2] | px[3], 0);
        }
    }
    /* clipped at the frame's edge; a destination narrower than the data */
    memset(back, 0, sizeof back);
    fill_rect(&r, 6, 5, 5, 4, rows);
    ws_pdu_bitmap_blit(&r, back, FW * 4, FW, FH);
    assert_memory_equal(back + (5 * FW + 6) * 4, rows + 3 * 20, 12);
    assert_memory_equal(back + (6 * FW + 6) * 4, rows + 2 * 20, 12);
    fill_rect(&r, 0, 0, 5, 4, rows);
    r.right = 1;
    r.bottom = 0;
    memset(back, 0, sizeof back);
    ws_pdu_bitmap_blit(&r, back, FW * 4, FW, FH);
    assert_memory_equal(back, rows + 3 * 20, 8);
    assert_int_equal(back[8], 0);
    assert_int_equal(back[FW * 4], 0);
    /* outside the frame: nothing */
    fill_rect(&r, FW, 0, 5, 4, rows);
    memset(back, 0, sizeof back);
    ws_pdu_bitmap_blit(&r, back, FW * 4, FW, FH);
    for (size_t i = 0; i < sizeof back; i++)
        assert_int_equal(back[i], 0);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ws_pdu_type2_name(WS_PDU2_SYNCHRONIZE), "SYNCHRONIZE");
    assert_string_equal(ws_pdu_type2_name(WS_PDU2_FONTLIST), "FONTLIST");
    assert_string_equal(ws_pdu_type2_name(0x99), "unknown");
    assert_string_equal(ws_pdu_errinfo_name(WS_PDU_ERRINFO_DISCONNECTED_BY_OTHERCONNECTION),
                        "DISCONNECTED_BY_OTHERCONNECTION");
    assert_string_equal(ws_pdu_errinfo_name(WS_PDU_ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES),
                        "SERVER_INSUFFICIENT_PRIVILEGES");
    assert_string_equal(ws_pdu_errinfo_name(0x12345), "unknown");
}

/* ---- random and mutated input into every decoder ---- */

static uint32_t rng = 0x2545F491u;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static const decoder all_decoders[] = {
    d_client_info,     d_license,        d_peek,           d_demand_active,    d_confirm_active,
    d_synchronize,     d_control,        d_font_list,      d_font_map,         d_set_error_info,
    d_refresh_rect,    d_suppress_output, d_shutdown_request, d_shutdown_denied, d_input,
    d_fastpath_input,  d_update_bitmap,  d_fastpath_update,
};

/* Any valid-looking input: decoders succeed or fail with a message, never read outside the copy. */
static void feed_all(const uint8_t *p, size_t len)
{
    ws_error e;
    for (size_t d = 0; d < sizeof all_decoders / sizeof all_decoders[0]; d++)
        dec(all_decoders[d], p, len, &e);
    uint8_t *c = exact(p, len);
    long l = ws_pdu_fastpath_length(c, len);
    assert_true(l >= -1 && l <= 0x7FFF);
    free(c);
}

static void test_random_bytes(void **state)
{
    (void)state;
    /* Seeds: every valid PDU of this file. */
    static uint8_t seeds[24][1024];
    static size_t seed_len[24];
    size_t ns = 0;
#define SEED(p, n)                                                                                          \
    do {                                                                                                    \
        size_t n_ = (n) < sizeof seeds[0] ? (n) : sizeof seeds[0];                                          \
        memcpy(seeds[ns], (p), n_);                                                                         \
        seed_len[ns++] = n_;                                                                                \
    } while (0)
    SEED(spec_client_info, sizeof spec_client_info);
    SEED(spec_client_info_ansi, sizeof spec_client_info_ansi);
    SEED(spec_demand_active, sizeof spec_demand_active);
    SEED(spec_confirm_active, sizeof spec_confirm_active);
    SEED(ws_pdu_license_valid_client, 20);
    SEED(client_synchronize, 22);
    SEED(control_cooperate, 26);
    SEED(client_font_list, 26);
    SEED(server_font_map, 26);
    SEED(spec_shutdown_request, 18);
    SEED(spec_shutdown_denied, 18);
    size_t n = ws_pdu_encode_set_error_info(&server_sh, 5, buf, sizeof buf);
    SEED(buf, n);
    memset(&rr, 0, sizeof rr);
    rr.count = 2;
    n = ws_pdu_encode_refresh_rect(&client_sh, &rr, buf, sizeof buf);
    SEED(buf, n);
    ws_pdu_suppress_output so = {.allow_display_updates = 1};
    n = ws_pdu_encode_suppress_output(&client_sh, &so, buf, sizeof buf);
    SEED(buf, n);
    fill_input(&in, 7);
    n = ws_pdu_encode_input(&client_sh, &in, buf, sizeof buf);
    SEED(buf, n);
    n = ws_pdu_encode_fastpath_input(&in, buf, sizeof buf);
    SEED(buf, n);
    fill_input(&in, 20);
    n = ws_pdu_encode_fastpath_input(&in, buf, sizeof buf);
    SEED(buf, n);
    memset(&bu, 0, sizeof bu);
    bu.count = 2;
    fill_rect(&bu.rects[0], 1, 2, 3, 4, pixels);
    fill_rect(&bu.rects[1], 5, 6, 2, 1, pixels);
    n = ws_pdu_encode_update_bitmap(&server_sh, &bu, buf, sizeof buf);
    SEED(buf, n);
    n = ws_pdu_encode_fastpath_bitmap(&bu, buf, sizeof buf);
    SEED(buf, n);
    fill_client_info(&ci);
    n = ws_pdu_encode_client_info(&ci, buf, sizeof buf);
    SEED(buf, n);
    assert_true(ns <= 24);

    static uint8_t r[1100];
    /* Pure random bytes of random lengths. */
    for (int it = 0; it < 3000; it++) {
        size_t len = next_rand() % 600;
        for (size_t i = 0; i < len; i++)
            r[i] = (uint8_t)next_rand();
        feed_all(r, len);
    }
    /* Valid PDUs with 1-4 bytes changed, and cut at random. */
    for (int it = 0; it < 6000; it++) {
        size_t s = next_rand() % ns, len = seed_len[s];
        memcpy(r, seeds[s], len);
        int flips = 1 + (int)(next_rand() % 4);
        for (int f = 0; f < flips; f++)
            r[next_rand() % len] = (next_rand() & 1) ? (uint8_t)next_rand() : (uint8_t)(r[next_rand() % len] ^ 0xFF);
        if (next_rand() % 4 == 0)
            len = next_rand() % (len + 1);
        feed_all(r, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_license_exact),
        cmocka_unit_test(test_client_info_spec),
        cmocka_unit_test(test_client_info_roundtrip),
        cmocka_unit_test(test_client_info_refusals),
        cmocka_unit_test(test_demand_active_spec),
        cmocka_unit_test(test_confirm_active_spec),
        cmocka_unit_test(test_demand_active_roundtrip),
        cmocka_unit_test(test_confirm_active_roundtrip),
        cmocka_unit_test(test_capability_bounds),
        cmocka_unit_test(test_finalization_vectors),
        cmocka_unit_test(test_data_pdus),
        cmocka_unit_test(test_input_slowpath),
        cmocka_unit_test(test_fastpath_input),
        cmocka_unit_test(test_bitmap_slowpath),
        cmocka_unit_test(test_bitmap_fastpath),
        cmocka_unit_test(test_bitmap_compressed),
        cmocka_unit_test(test_bitmap_rows_blit),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
