/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/mcs.c: X.224 Data framing, MCS Connect-Initial / Connect-Response
 * with their GCC Conference Create Request / Response and data blocks, and the MCS
 * Domain PDUs (MS-RDPBCGR 2.2.1.3-2.2.1.10, T.125, T.124). Round trips of every PDU;
 * Connect-Initials captured from xfreerdp 2.11.7 decoded, and our encoder writing the
 * same bytes; the MS-RDPBCGR 4.1.3 example and a captured Windows Connect-Initial
 * decoded; the 4.1.4-4.1.8 examples; every truncation of every PDU
 * refused (each decode reads an exact-size heap copy, so ASan sees any over-read);
 * byte mutations and seeded random bytes into every decoder. */

#include "harness.h"

#include "wire/mcs.h"
#include "wire/rdpneg.h"
#include "base/util.h"

/* Hex (spaces ignored) into out; returns the byte count. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= cap)
                fail_msg("unhex: more than %zu bytes", cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0)
        fail_msg("unhex: odd digit count");
    return n;
}

static void assert_bytes(const uint8_t *got, size_t n, const char *hex)
{
    uint8_t want[2048];
    size_t m = unhex(hex, want, sizeof want);
    if (n != m)
        fail_msg("length %zu, expected %zu", n, m);
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("byte %zu is %02x, expected %02x", i, got[i], want[i]);
}

/* ---- every decoder behind one signature, for the truncation/mutation/random loops --- */

typedef int (*decode_fn)(const uint8_t *buf, size_t len, ws_error *e);

static int dec_x224(const uint8_t *b, size_t n, ws_error *e)
{
    const uint8_t *p;
    size_t m;
    int rc = ws_x224_data_decode(b, n, &p, &m, e);
    if (rc == 0)
        assert_true(p >= b && p + m == b + n);
    return rc;
}

static int dec_ci(const uint8_t *b, size_t n, ws_error *e)
{
    ws_mcs_connect_initial ci;
    return ws_mcs_connect_initial_decode(b, n, &ci, e);
}

static int dec_cr(const uint8_t *b, size_t n, ws_error *e)
{
    ws_mcs_connect_response cr;
    return ws_mcs_connect_response_decode(b, n, &cr, e);
}

static int dec_cdata(const uint8_t *b, size_t n, ws_error *e)
{
    ws_gcc_client_data d;
    return ws_gcc_client_data_decode(b, n, &d, e);
}

static int dec_sdata(const uint8_t *b, size_t n, ws_error *e)
{
    ws_gcc_server_data d;
    return ws_gcc_server_data_decode(b, n, &d, e);
}

static int dec_edr(const uint8_t *b, size_t n, ws_error *e)
{
    ws_mcs_erect_domain d;
    return ws_mcs_erect_domain_decode(b, n, &d, e);
}

static int dec_dpu(const uint8_t *b, size_t n, ws_error *e)
{
    uint8_t r;
    return ws_mcs_disconnect_ultimatum_decode(b, n, &r, e);
}

static int dec_aurq(const uint8_t *b, size_t n, ws_error *e)
{
    return ws_mcs_attach_user_request_decode(b, n, e);
}

static int dec_aucf(const uint8_t *b, size_t n, ws_error *e)
{
    ws_mcs_attach_user_confirm c;
    return ws_mcs_attach_user_confirm_decode(b, n, &c, e);
}

static int dec_cjrq(const uint8_t *b, size_t n, ws_error *e)
{
    ws_mcs_channel_join_request c;
    return ws_mcs_channel_join_request_decode(b, n, &c, e);
}

static int dec_cjcf(const uint8_t *b, size_t n, ws_error *e)
{
    ws_mcs_channel_join_confirm c;
    return ws_mcs_channel_join_confirm_decode(b, n, &c, e);
}

static int dec_send(int type, const uint8_t *b, size_t n, ws_error *e)
{
    ws_mcs_send_data d;
    int rc = ws_mcs_send_data_decode(type, b, n, &d, e);
    if (rc == 0)
        assert_true(d.data >= b && d.data + d.len == b + n);
    return rc;
}

static int dec_sdrq(const uint8_t *b, size_t n, ws_error *e)
{
    return dec_send(WS_MCS_SEND_DATA_REQUEST, b, n, e);
}

static int dec_sdin(const uint8_t *b, size_t n, ws_error *e)
{
    return dec_send(WS_MCS_SEND_DATA_INDICATION, b, n, e);
}

/* Decode an exact-size heap copy, so that ASan flags a read past the end. */
static int decode_copy(decode_fn fn, const uint8_t *buf, size_t len, ws_error *e)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, buf, len);
    e->msg[0] = 0;
    int rc = fn(copy, len, e);
    free(copy);
    assert_true(rc == 0 || rc == -1);
    if (rc)
        assert_true(e->msg[0] != 0);
    return rc;
}

/* Every strict prefix must be refused with a message. */
static void check_truncations(decode_fn fn, const uint8_t *buf, size_t len)
{
    ws_error e;
    assert_int_equal(decode_copy(fn, buf, len, &e), 0);
    for (size_t k = 0; k < len; k++)
        if (decode_copy(fn, buf, k, &e) != -1)
            fail_msg("a %zu-byte prefix of %zu bytes was accepted", k, len);
}

/* Each byte changed six ways: whatever the decoder says, it must say it within bounds. */
static unsigned check_mutations(decode_fn fn, const uint8_t *buf, size_t len)
{
    uint8_t *m = malloc(len);
    assert_non_null(m);
    unsigned refused = 0;
    ws_error e;
    for (size_t i = 0; i < len; i++) {
        const uint8_t vals[6] = {(uint8_t)(buf[i] ^ 0x01), (uint8_t)(buf[i] ^ 0x80), 0x00, 0xFF,
                                 (uint8_t)(buf[i] + 1), (uint8_t)(buf[i] - 1)};
        for (int v = 0; v < 6; v++) {
            memcpy(m, buf, len);
            m[i] = vals[v];
            refused += decode_copy(fn, m, len, &e) != 0;
        }
    }
    free(m);
    return refused;
}

/* ---- test vectors ------------------------------------------------------------------ */

/* MS-RDPBCGR 4.1.3 (Client MCS Connect Initial PDU with GCC Conference Create Request),
 * the revision whose client is "ELTONS-DEV2" (build 3790): TPKT, X.224, the BER
 * envelope with Windows' minimal INTEGERs (02 02 ff ff for 65535), the GCC request and
 * the 284 bytes of client data blocks (CS_CORE 216, CS_CLUSTER, CS_SECURITY 0x1B,
 * CS_NET with rdpdr, cliprdr, rdpsnd). */
static const char SPEC_413[] =
    "03 00 01 a0 02 f0 80 7f 65 82 01 94 04 01 01 04 01 01 01 01 ff "
    "30 19 02 01 22 02 01 02 02 01 00 02 01 01 02 01 00 02 01 01 02 02 ff ff 02 01 02 "
    "30 19 02 01 01 02 01 01 02 01 01 02 01 01 02 01 00 02 01 01 02 02 04 20 02 01 02 "
    "30 1c 02 02 ff ff 02 02 fc 17 02 02 ff ff 02 01 01 02 01 00 02 01 01 02 02 ff ff 02 01 02 "
    "04 82 01 33 "
    "00 05 00 14 7c 00 01 81 2a 00 08 00 10 00 01 c0 00 44 75 63 61 81 1c "
    "01 c0 d8 00 04 00 08 00 00 05 00 04 01 ca 03 aa 09 04 00 00 ce 0e 00 00 "
    "45 00 4c 00 54 00 4f 00 4e 00 53 00 2d 00 44 00 45 00 56 00 32 00 00 00 "
    "00 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00 0c 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 01 ca 01 00 00 00 00 00 18 00 07 00 "
    "01 00 36 00 39 00 37 00 31 00 32 00 2d 00 37 00 38 00 33 00 2d 00 30 00 "
    "33 00 35 00 37 00 39 00 37 00 34 00 2d 00 34 00 32 00 37 00 31 00 34 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "04 c0 0c 00 0d 00 00 00 00 00 00 00 02 c0 0c 00 1b 00 00 00 00 00 00 00 "
    "03 c0 2c 00 03 00 00 00 72 64 70 64 72 00 00 00 00 00 80 80 63 6c 69 70 "
    "72 64 72 00 00 00 a0 c0 72 64 70 73 6e 64 00 00 00 00 00 c0 ";
#define SPEC_413_BLOCKS_AT 132 /* offset of the client data blocks in SPEC_413 */

/* A Connect-Initial captured from a Windows Vista SP1 client (build 6001, "SERVER-XYZ",
 * 1280x768, channels rdpdr, rdpsnd, drdynvc, cliprdr), as kept in Suricata's RDP parser
 * tests (rust/src/rdp/parser.rs). */
static const char CAPTURED_VISTA[] =
    "03 00 01 ac 02 f0 80 7f 65 82 01 a0 04 01 01 04 01 01 01 01 ff 30 19 02 "
    "01 22 02 01 02 02 01 00 02 01 01 02 01 00 02 01 01 02 02 ff ff 02 01 02 "
    "30 19 02 01 01 02 01 01 02 01 01 02 01 01 02 01 00 02 01 01 02 02 04 20 "
    "02 01 02 30 1c 02 02 ff ff 02 02 fc 17 02 02 ff ff 02 01 01 02 01 00 02 "
    "01 01 02 02 ff ff 02 01 02 04 82 01 3f 00 05 00 14 7c 00 01 81 36 00 08 "
    "00 10 00 01 c0 00 44 75 63 61 81 28 01 c0 d8 00 04 00 08 00 00 05 00 03 "
    "01 ca 03 aa 09 04 00 00 71 17 00 00 53 00 45 00 52 00 56 00 45 00 52 00 "
    "2d 00 58 00 59 00 5a 00 00 00 00 00 00 00 00 00 00 00 00 00 04 00 00 00 "
    "00 00 00 00 0c 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "01 ca 01 00 00 00 00 00 08 00 0f 00 09 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 04 c0 0c 00 0d 00 00 00 00 00 00 00 "
    "02 c0 0c 00 1b 00 00 00 00 00 00 00 03 c0 38 00 04 00 00 00 72 64 70 64 "
    "72 00 00 00 00 00 80 80 72 64 70 73 6e 64 00 00 00 00 00 c0 64 72 64 79 "
    "6e 76 63 00 00 00 80 c0 63 6c 69 70 72 64 72 00 00 00 a0 c0 ";

/* What xfreerdp 2.11.7 (Debian) sent, captured inside TLS by a listener that selected
 * PROTOCOL_SSL (xfreerdp /sec:tls /size:1024x768 on a host named "vm"), first with
 * RDP_NEG_RSP flags 0, then with EXTENDED_CLIENT_DATA_SUPPORTED (which adds
 * CS_MCS_MSGCHANNEL and CS_MULTITRANSPORT). */
static const char CAPTURED_FREERDP[] =
    "03 00 01 c3 02 f0 80 7f 65 82 01 b7 04 01 01 04 01 01 01 01 ff 30 1a 02 "
    "01 22 02 01 02 02 01 00 02 01 01 02 01 00 02 01 01 02 03 00 ff ff 02 01 "
    "02 30 19 02 01 01 02 01 01 02 01 01 02 01 01 02 01 00 02 01 01 02 02 04 "
    "20 02 01 02 30 20 02 03 00 ff ff 02 03 00 fc 17 02 03 00 ff ff 02 01 01 "
    "02 01 00 02 01 01 02 03 00 ff ff 02 01 02 04 82 01 51 00 05 00 14 7c 00 "
    "01 81 48 00 08 00 10 00 01 c0 00 44 75 63 61 81 3a 01 c0 ea 00 0c 00 08 "
    "00 00 04 00 03 01 ca 03 aa 09 04 00 00 bb 47 00 00 76 00 6d 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 04 00 00 00 00 00 00 00 0c 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 01 ca 01 00 00 00 00 00 18 00 0f 00 e3 05 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 07 00 01 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 04 c0 0c 00 0d 00 00 00 00 00 00 00 02 "
    "c0 0c 00 00 00 00 00 00 00 00 00 03 c0 38 00 04 00 00 00 72 64 70 64 72 "
    "00 00 00 00 00 80 c0 72 64 70 73 6e 64 00 00 00 00 00 c0 63 6c 69 70 72 "
    "64 72 00 00 00 a0 c0 64 72 64 79 6e 76 63 00 00 00 80 c0 ";
static const char CAPTURED_FREERDP_EXT[] =
    "03 00 01 d3 02 f0 80 7f 65 82 01 c7 04 01 01 04 01 01 01 01 ff 30 1a 02 "
    "01 22 02 01 02 02 01 00 02 01 01 02 01 00 02 01 01 02 03 00 ff ff 02 01 "
    "02 30 19 02 01 01 02 01 01 02 01 01 02 01 01 02 01 00 02 01 01 02 02 04 "
    "20 02 01 02 30 20 02 03 00 ff ff 02 03 00 fc 17 02 03 00 ff ff 02 01 01 "
    "02 01 00 02 01 01 02 03 00 ff ff 02 01 02 04 82 01 61 00 05 00 14 7c 00 "
    "01 81 58 00 08 00 10 00 01 c0 00 44 75 63 61 81 4a 01 c0 ea 00 0c 00 08 "
    "00 00 04 00 03 01 ca 03 aa 09 04 00 00 bb 47 00 00 76 00 6d 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 04 00 00 00 00 00 00 00 0c 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 01 ca 01 00 00 00 00 00 18 00 0f 00 e3 05 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 07 00 01 00 00 00 00 00 00 00 00 00 00 "
    "00 00 00 00 00 00 00 00 00 00 00 04 c0 0c 00 0d 00 00 00 00 00 00 00 02 "
    "c0 0c 00 00 00 00 00 00 00 00 00 03 c0 38 00 04 00 00 00 72 64 70 64 72 "
    "00 00 00 00 00 80 c0 72 64 70 73 6e 64 00 00 00 00 00 c0 63 6c 69 70 72 "
    "64 72 00 00 00 a0 c0 64 72 64 79 6e 76 63 00 00 00 80 c0 06 c0 08 00 00 "
    "00 00 00 0a c0 08 00 00 00 00 00 ";

/* MS-RDPBCGR 4.1.4 (Server MCS Connect Response PDU with GCC Conference Create
 * Response) as reconstructed here: the example's envelope, GCC response (nodeID 76 0a,
 * tag 1, "McDn"), SC_CORE (12 bytes, version 0x00080004), SC_NET (1003; 1004-1006 and
 * padding) and an SC_SECURITY of 236 bytes (method 2 = 128-bit, level 2 = client
 * compatible, serverRandomLen 32, serverCertLen 184) whose random and certificate
 * bytes are replaced here by a counting filler of the same lengths. */
static size_t spec_414(uint8_t *out, size_t cap)
{
    size_t n = unhex("03 00 01 51 02 f0 80 7f 66 82 01 45 0a 01 00 02 01 00 "
                     "30 1a 02 01 22 02 01 03 02 01 00 02 01 01 02 01 00 02 01 01 02 03 00 ff f8 02 01 02 "
                     "04 82 01 1f 00 05 00 14 7c 00 01 2a 14 76 0a 01 01 00 01 c0 00 4d 63 44 6e 81 08 "
                     "01 0c 0c 00 04 00 08 00 00 00 00 00 "
                     "03 0c 10 00 eb 03 03 00 ec 03 ed 03 ee 03 00 00 "
                     "02 0c ec 00 02 00 00 00 02 00 00 00 20 00 00 00 b8 00 00 00",
                     out, cap);
    for (int i = 0; i < 32 + 184; i++)
        out[n++] = (uint8_t)i;
    return n;
}

/* The other examples of MS-RDPBCGR section 4.1 (whole TPKTs). */
#define SPEC_415_ERECT_DOMAIN "03 00 00 0c 02 f0 80 04 01 00 01 00"
#define SPEC_416_ATTACH_USER_REQUEST "03 00 00 08 02 f0 80 28"
#define SPEC_417_ATTACH_USER_CONFIRM "03 00 00 0b 02 f0 80 2e 00 00 06"
#define SPEC_4182_JOIN_REQUEST_1003 "03 00 00 0c 02 f0 80 38 00 06 03 eb"
#define SPEC_4181_JOIN_CONFIRM_1007 "03 00 00 0f 02 f0 80 3e 00 00 06 03 ef 03 ef"
#define DISCONNECT_USER_REQUESTED "03 00 00 09 02 f0 80 21 80"

/* The X.224 payload of a whole TPKT given in hex. */
static size_t payload_of(const char *hex, uint8_t *out, size_t cap)
{
    uint8_t tpkt[2048];
    size_t n = unhex(hex, tpkt, sizeof tpkt);
    const uint8_t *p;
    size_t m;
    ws_error e;
    if (ws_x224_data_decode(tpkt, n, &p, &m, &e))
        fail_msg("%s", e.msg);
    assert_true(m <= cap);
    memcpy(out, p, m);
    return m;
}

/* What xfreerdp 2.11 sends to a server that selected RDSTLS, with three channels. */
static void freerdp_client(ws_gcc_client_data *d)
{
    ws_gcc_client_data_freerdp(d, 1024, 768, "tenant-pc", WS_PROTOCOL_RDSTLS);
    d->has_net = 1;
    d->net.channel_count = 3;
    snprintf(d->net.channels[0].name, sizeof d->net.channels[0].name, "rdpdr");
    d->net.channels[0].options = 0xC0800000u;
    snprintf(d->net.channels[1].name, sizeof d->net.channels[1].name, "cliprdr");
    d->net.channels[1].options = 0xC0A00000u;
    snprintf(d->net.channels[2].name, sizeof d->net.channels[2].name, "drdynvc");
    d->net.channels[2].options = 0xC0800000u;
}

/* ---- X.224 Data --------------------------------------------------------------------- */

static void test_x224_data(void **state)
{
    (void)state;
    uint8_t out[64];
    const uint8_t pl[3] = {0x28, 0x01, 0x02};
    size_t n = ws_x224_data_encode(pl, 1, out, sizeof out);
    assert_bytes(out, n, SPEC_416_ATTACH_USER_REQUEST);
    const uint8_t *p;
    size_t m;
    ws_error e;
    assert_int_equal(ws_x224_data_decode(out, n, &p, &m, &e), 0);
    assert_int_equal(m, 1);
    assert_int_equal(p[0], 0x28);
    assert_int_equal(ws_x224_data_encode(pl, 3, out, 9), 0); /* cap */
    assert_int_equal(ws_x224_data_encode(pl, 65535 - 6, out, 70000), 0);
    /* Payload already in place at out + 7. */
    memcpy(out + 7, pl, 3);
    assert_int_equal(ws_x224_data_encode(out + 7, 3, out, sizeof out), 10);
    assert_bytes(out, 10, "03 00 00 0a 02 f0 80 28 01 02");

    uint8_t bad[16];
    n = unhex("03 00 00 08 02 f0 00 28", bad, sizeof bad);
    assert_int_equal(ws_x224_data_decode(bad, n, &p, &m, &e), -1);
    assert_contains(e.msg, "EOT byte 0x00 at offset 6");
    n = unhex("03 00 00 08 06 e0 80 28", bad, sizeof bad);
    assert_int_equal(ws_x224_data_decode(bad, n, &p, &m, &e), -1);
    assert_contains(e.msg, "length indicator 6");
    n = unhex("03 00 00 08 02 80 80 28", bad, sizeof bad);
    assert_int_equal(ws_x224_data_decode(bad, n, &p, &m, &e), -1);
    assert_contains(e.msg, "TPDU code 0x80");
    n = unhex("03 00 00 09 02 f0 80 28", bad, sizeof bad);
    assert_int_equal(ws_x224_data_decode(bad, n, &p, &m, &e), -1);
    assert_contains(e.msg, "TPKT length 9 but 8 bytes given");
    n = unhex("16 03 01 00 09 02 f0 80 28", bad, sizeof bad);
    assert_int_equal(ws_x224_data_decode(bad, n, &p, &m, &e), -1);
    assert_contains(e.msg, "not a TPKT");

    n = unhex(SPEC_417_ATTACH_USER_CONFIRM, bad, sizeof bad);
    check_truncations(dec_x224, bad, n);
}

/* ---- Connect-Initial ------------------------------------------------------------------ */

static void test_connect_initial_freerdp_layout(void **state)
{
    (void)state;
    ws_gcc_client_data d;
    ws_mcs_connect_initial ci, back;
    uint8_t out[2048];
    ws_error e;
    freerdp_client(&d);
    ws_mcs_connect_initial_init(&ci, &d);
    size_t n = ws_mcs_connect_initial_encode_tpkt(&ci, out, sizeof out);
    /* Blocks: CS_CORE 234 + CS_CLUSTER 12 + CS_SECURITY 12 + CS_NET 8 + 36 = 302 (0x12e);
     * GCC 23 + 302 = 325; BER body 9 + 28 + 27 + 34 + 4 + 325 = 427 (0x1ab). */
    assert_int_equal(n, 7 + 5 + 427);
    /* FreeRDP's envelope: ber_write_integer gives 65535 three bytes (02 03 00 ff ff). */
    assert_bytes(out, 137,
                 "03 00 01 b7 02 f0 80 7f 65 82 01 ab 04 01 01 04 01 01 01 01 ff "
                 "30 1a 02 01 22 02 01 02 02 01 00 02 01 01 02 01 00 02 01 01 02 03 00 ff ff 02 01 02 "
                 "30 19 02 01 01 02 01 01 02 01 01 02 01 01 02 01 00 02 01 01 02 02 04 20 02 01 02 "
                 "30 20 02 03 00 ff ff 02 03 00 fc 17 02 03 00 ff ff 02 01 01 02 01 00 02 01 01 "
                 "02 03 00 ff ff 02 01 02 04 82 01 45 "
                 "00 05 00 14 7c 00 01 81 3c 00 08 00 10 00 01 c0 00 44 75 63 61 81 2e");
    /* CS_CORE as gcc_write_client_core_data writes it. */
    assert_bytes(out + 137, 24, "01 c0 ea 00 0c 00 08 00 00 04 00 03 01 ca 03 aa 09 04 00 00 bb 47 00 00");
    assert_bytes(out + 137 + 4 + 128, 14, "01 ca 01 00 00 00 00 00 18 00 0f 00 e3 05");
    assert_bytes(out + 137 + 210, 6, "07 00 04 00 00 00");
    assert_bytes(out + 137 + 234, 24, "04 c0 0c 00 0d 00 00 00 00 00 00 00 02 c0 0c 00 00 00 00 00 00 00 00 00");
    assert_bytes(out + 137 + 258, 8, "03 c0 2c 00 03 00 00 00");

    const uint8_t *p;
    size_t m;
    assert_int_equal(ws_x224_data_decode(out, n, &p, &m, &e), 0);
    assert_int_equal(ws_mcs_connect_initial_decode(p, m, &back, &e), 0);
    assert_int_equal(back.calling_domain_len, 1);
    assert_int_equal(back.calling_domain[0], 1);
    assert_int_equal(back.upward_flag, 1);
    assert_int_equal(back.target.max_mcspdu_size, 65535);
    assert_int_equal(back.minimum.max_mcspdu_size, 1056);
    assert_int_equal(back.maximum.max_user_ids, 0xFC17);
    const ws_gcc_client_core *c = &back.data.core;
    assert_int_equal(c->length, 234);
    assert_int_equal(c->version, WS_RDP_VERSION_10_7);
    assert_int_equal(c->desktop_width, 1024);
    assert_int_equal(c->desktop_height, 768);
    assert_string_equal(c->client_name, "tenant-pc");
    assert_int_equal(c->client_build, 18363);
    assert_int_equal(c->high_color_depth, 24);
    assert_int_equal(c->early_capability_flags, 0x05E3);
    assert_int_equal(c->connection_type, 7);
    assert_int_equal(c->server_selected_protocol, WS_PROTOCOL_RDSTLS);
    assert_true(back.data.has_cluster && back.data.has_security && back.data.has_net);
    assert_false(back.data.has_msgchannel || back.data.has_multitransport);
    assert_int_equal(back.data.cluster.flags, 0x0D);
    assert_int_equal(back.data.net.channel_count, 3);
    assert_string_equal(back.data.net.channels[1].name, "cliprdr");
    assert_int_equal(back.data.net.channels[1].options, 0xC0A00000u);
    assert_memory_equal(&back.data, &d, sizeof d);
    assert_memory_equal(&back, &ci, sizeof ci);
}

static void test_connect_initial_freerdp_capture(void **state)
{
    (void)state;
    static const char *const caps[2] = {CAPTURED_FREERDP, CAPTURED_FREERDP_EXT};
    for (int ext = 0; ext < 2; ext++) {
        uint8_t pl[1024], mine[1024];
        size_t m = payload_of(caps[ext], pl, sizeof pl);
        ws_mcs_connect_initial ci;
        ws_error e;
        if (ws_mcs_connect_initial_decode(pl, m, &ci, &e))
            fail_msg("%s", e.msg);
        const ws_gcc_client_core *c = &ci.data.core;
        assert_int_equal(c->length, 234);
        assert_int_equal(c->version, WS_RDP_VERSION_10_7);
        assert_int_equal(c->desktop_width, 1024);
        assert_int_equal(c->desktop_height, 768);
        assert_string_equal(c->client_name, "vm");
        assert_int_equal(c->client_build, 18363);
        assert_int_equal(c->early_capability_flags, 0x05E3);
        assert_int_equal(c->connection_type, 7);
        assert_int_equal(c->server_selected_protocol, WS_PROTOCOL_SSL);
        assert_int_equal(ci.data.security.encryption_methods, 0);
        assert_int_equal(ci.data.net.channel_count, 4);
        assert_string_equal(ci.data.net.channels[0].name, "rdpdr");
        assert_int_equal(ci.data.net.channels[0].options, 0xC0800000u);
        assert_int_equal(ci.data.has_msgchannel, ext);
        assert_int_equal(ci.data.has_multitransport, ext);
        check_truncations(dec_ci, pl, m);

        /* Our client's encoder writes the same bytes. */
        ws_gcc_client_data d;
        ws_mcs_connect_initial mci;
        ws_gcc_client_data_freerdp(&d, 1024, 768, "vm", WS_PROTOCOL_SSL);
        ws_gcc_client_data_freerdp_channels(&d);
        d.has_msgchannel = d.has_multitransport = ext;
        ws_mcs_connect_initial_init(&mci, &d);
        size_t n = ws_mcs_connect_initial_encode(&mci, mine, sizeof mine);
        assert_int_equal(n, m);
        assert_memory_equal(mine, pl, m);
    }
}

static void test_connect_initial_spec_413(void **state)
{
    (void)state;
    uint8_t tpkt[1024], again[1024];
    size_t n = unhex(SPEC_413, tpkt, sizeof tpkt);
    assert_int_equal(n, 0x1a0);
    const uint8_t *p;
    size_t m;
    ws_error e;
    ws_mcs_connect_initial ci;
    assert_int_equal(ws_x224_data_decode(tpkt, n, &p, &m, &e), 0);
    if (ws_mcs_connect_initial_decode(p, m, &ci, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(ci.target.max_channel_ids, 34);
    assert_int_equal(ci.target.max_mcspdu_size, 65535); /* 02 02 ff ff read unsigned */
    assert_int_equal(ci.maximum.max_user_ids, 0xFC17);
    const ws_gcc_client_core *c = &ci.data.core;
    assert_int_equal(c->length, 216);
    assert_int_equal(c->version, WS_RDP_VERSION_5_PLUS);
    assert_int_equal(c->desktop_width, 1280);
    assert_int_equal(c->desktop_height, 1024);
    assert_int_equal(c->color_depth, WS_RNS_UD_COLOR_8BPP);
    assert_int_equal(c->keyboard_layout, 0x409);
    assert_int_equal(c->client_build, 3790);
    assert_string_equal(c->client_name, "ELTONS-DEV2");
    assert_int_equal(c->keyboard_type, 4);
    assert_int_equal(c->keyboard_function_key, 12);
    assert_int_equal(c->high_color_depth, 24);
    assert_int_equal(c->supported_color_depths, 7);
    assert_int_equal(c->early_capability_flags, WS_RNS_UD_CS_SUPPORT_ERRINFO_PDU);
    assert_string_equal(c->client_dig_product_id, "69712-783-0357974-42714");
    assert_int_equal(c->server_selected_protocol, 0);
    assert_int_equal(c->desktop_scale_factor, 0);
    assert_int_equal(ci.data.cluster.flags, 0x0D);
    assert_int_equal(ci.data.security.encryption_methods, 0x1B);
    assert_int_equal(ci.data.net.channel_count, 3);
    assert_string_equal(ci.data.net.channels[0].name, "rdpdr");
    assert_int_equal(ci.data.net.channels[0].options, 0x80800000u);
    assert_string_equal(ci.data.net.channels[2].name, "rdpsnd");
    assert_int_equal(ci.data.skipped_blocks, 0);
    /* The blocks re-encode to the example's bytes (Windows and FreeRDP share the order). */
    size_t k = ws_gcc_client_data_encode(&ci.data, again, sizeof again);
    assert_int_equal(k, 284);
    assert_memory_equal(again, tpkt + SPEC_413_BLOCKS_AT, 284);
    /* The whole PDU re-encodes in FreeRDP's style and decodes to the same values. */
    ws_mcs_connect_initial back;
    k = ws_mcs_connect_initial_encode(&ci, again, sizeof again);
    assert_true(k > 0);
    assert_int_equal(ws_mcs_connect_initial_decode(again, k, &back, &e), 0);
    assert_memory_equal(&back, &ci, sizeof ci);
    check_truncations(dec_ci, p, m);
}

static void test_connect_initial_captured(void **state)
{
    (void)state;
    uint8_t pl[1024];
    size_t m = payload_of(CAPTURED_VISTA, pl, sizeof pl);
    ws_mcs_connect_initial ci;
    ws_error e;
    if (ws_mcs_connect_initial_decode(pl, m, &ci, &e))
        fail_msg("%s", e.msg);
    assert_string_equal(ci.data.core.client_name, "SERVER-XYZ");
    assert_int_equal(ci.data.core.client_build, 6001);
    assert_int_equal(ci.data.core.desktop_width, 1280);
    assert_int_equal(ci.data.core.desktop_height, 768);
    assert_int_equal(ci.data.core.high_color_depth, 8);
    assert_int_equal(ci.data.core.supported_color_depths, 0x0F);
    assert_int_equal(ci.data.core.early_capability_flags, 0x09);
    assert_int_equal(ci.data.net.channel_count, 4);
    assert_string_equal(ci.data.net.channels[2].name, "drdynvc");
    assert_string_equal(ci.data.net.channels[3].name, "cliprdr");
    check_truncations(dec_ci, pl, m);
}

static void test_connect_initial_errors(void **state)
{
    (void)state;
    uint8_t pl[1024];
    size_t m = payload_of(SPEC_413, pl, sizeof pl);
    uint8_t b[1024];
    ws_error e;

    /* userData OCTET STRING length 500 while 311 bytes remain in the body. */
    memcpy(b, pl, m);
    assert_int_equal(b[98], 0x04);
    b[100] = 0x01;
    b[101] = 0xF4;
    assert_int_equal(dec_ci(b, m, &e), -1);
    assert_contains(e.msg, "Connect-Initial: userData length 500 beyond the 307 bytes given");

    /* Indefinite and oversized BER lengths. */
    size_t n = unhex("7f 65 80 04 01 01", b, sizeof b);
    assert_int_equal(dec_ci(b, n, &e), -1);
    assert_contains(e.msg, "indefinite BER length");
    n = unhex("7f 65 83 01 00 01 04", b, sizeof b);
    assert_int_equal(dec_ci(b, n, &e), -1);
    assert_contains(e.msg, "length 65537 over 64 KiB");
    n = unhex("7f 66 03 0a 01 00", b, sizeof b);
    assert_int_equal(dec_ci(b, n, &e), -1);
    assert_contains(e.msg, "expected 7F 65");

    /* Trailing bytes after the PDU. */
    memcpy(b, pl, m);
    b[m] = 0;
    assert_int_equal(dec_ci(b, m + 1, &e), -1);
    assert_contains(e.msg, "1 unexpected bytes");

    /* CS_CORE block length 10. */
    memcpy(b, pl, m);
    size_t core = SPEC_413_BLOCKS_AT - 7;
    b[core + 2] = 10;
    b[core + 3] = 0;
    assert_int_equal(dec_ci(b, m, &e), -1);
    assert_contains(e.msg, "CS_CORE: block length 10 too short");
    /* CS_CORE block length beyond the blocks. */
    b[core + 2] = 0x2D;
    b[core + 3] = 0x01;
    assert_int_equal(dec_ci(b, m, &e), -1);
    assert_contains(e.msg, "CS_CORE: block length 301 beyond the 284 bytes given");

    /* CS_NET: 32 channels; a name without its NUL; a count the block cannot hold. */
    size_t net = core + 216 + 12 + 12;
    memcpy(b, pl, m);
    b[net + 4] = 32;
    assert_int_equal(dec_ci(b, m, &e), -1);
    assert_contains(e.msg, "CS_NET: channelCount 32 over 31");
    b[net + 4] = 4;
    assert_int_equal(dec_ci(b, m, &e), -1);
    assert_contains(e.msg, "CS_NET: channelCount 4 needs 48 bytes");
    memcpy(b, pl, m);
    memset(b + net + 8, 'x', 8);
    assert_int_equal(dec_ci(b, m, &e), -1);
    assert_contains(e.msg, "CS_NET: channel 0 name");

    /* A repeated block, and no CS_CORE at all. */
    memcpy(b, pl, m);
    b[core + 216 + 12] = 0x04; /* CS_SECURITY -> a second CS_CLUSTER */
    assert_int_equal(dec_ci(b, m, &e), -1);
    assert_contains(e.msg, "CS_CLUSTER: block repeated");
    memcpy(b, pl, m);
    b[core] = 0x09; /* CS_CORE -> unknown 0xC009, skipped */
    assert_int_equal(dec_ci(b, m, &e), -1);
    assert_contains(e.msg, "no CS_CORE block");

    /* The GCC H.221 key and object identifier are checked. */
    memcpy(b, pl, m);
    b[core - 6] = 'X';
    assert_int_equal(dec_ci(b, m, &e), -1);
    assert_contains(e.msg, "H.221 key");
    memcpy(b, pl, m);
    b[core - 23 + 3] = 0x15;
    assert_int_equal(dec_ci(b, m, &e), -1);
    assert_contains(e.msg, "object identifier");

    /* Encoder refusals. */
    ws_mcs_connect_initial ci;
    ws_gcc_client_data d;
    freerdp_client(&d);
    ws_mcs_connect_initial_init(&ci, &d);
    assert_int_equal(ws_mcs_connect_initial_encode(&ci, b, 100), 0);
    ci.data.core.length = 133;
    assert_int_equal(ws_mcs_connect_initial_encode(&ci, b, sizeof b), 0);
    ci.data.core.length = WS_GCC_CORE_LEN_FULL;
    snprintf(ci.data.net.channels[0].name, sizeof ci.data.net.channels[0].name, "12345678");
    assert_int_equal(ws_mcs_connect_initial_encode(&ci, b, sizeof b), 0);
}

/* Optional CS_CORE fields: every cut point round-trips, and fields past it read as 0. */
static void test_client_core_cuts(void **state)
{
    (void)state;
    static const uint16_t cuts[] = {132, 134, 136, 140, 142, 144, 146, 210, 211, 212, 216, 220, 224, 226, 230, 234};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        ws_gcc_client_data d, back;
        uint8_t buf[512];
        ws_error e;
        ws_gcc_client_data_freerdp(&d, 800, 600, "a", 1);
        d.core.desktop_scale_factor = 100;
        d.core.device_scale_factor = 140;
        d.core.length = cuts[i];
        size_t n = ws_gcc_client_data_encode(&d, buf, sizeof buf);
        assert_int_equal(n, cuts[i] + 24u);
        assert_int_equal(buf[2] | buf[3] << 8, cuts[i]);
        assert_int_equal(ws_gcc_client_data_decode(buf, n, &back, &e), 0);
        assert_int_equal(back.core.length, cuts[i]);
        assert_int_equal(back.core.post_beta2_color_depth, cuts[i] >= 134 ? WS_RNS_UD_COLOR_8BPP : 0);
        assert_int_equal(back.core.early_capability_flags, cuts[i] >= 146 ? 0x05E3 : 0);
        assert_int_equal(back.core.server_selected_protocol, cuts[i] >= 216 ? 1 : 0);
        assert_int_equal(back.core.device_scale_factor, cuts[i] >= 234 ? 140 : 0);
    }
    /* A block cut inside a field: the partial field is ignored, as FreeRDP does. */
    ws_gcc_client_data d, back;
    uint8_t buf[512];
    ws_error e;
    ws_gcc_client_data_freerdp(&d, 800, 600, "a", 1);
    size_t n = ws_gcc_client_data_encode(&d, buf, sizeof buf);
    buf[2] = 145; /* inside earlyCapabilityFlags */
    memmove(buf + 145, buf + 234, n - 234);
    assert_int_equal(ws_gcc_client_data_decode(buf, n - 89, &back, &e), 0);
    assert_int_equal(back.core.length, 145);
    assert_int_equal(back.core.supported_color_depths, 0x0F);
    assert_int_equal(back.core.early_capability_flags, 0);
    assert_true(back.has_cluster && back.has_security);
    /* Names longer than 15 characters are cut as FreeRDP cuts them; bad UTF-16 refused. */
    ws_gcc_client_data_freerdp(&d, 800, 600, "a-very-long-client-name", 1);
    n = ws_gcc_client_data_encode(&d, buf, sizeof buf);
    assert_int_equal(ws_gcc_client_data_decode(buf, n, &back, &e), 0);
    assert_string_equal(back.core.client_name, "a-very-long-cli");
    buf[28] = 0x00;
    buf[29] = 0xDC; /* an unpaired low surrogate */
    assert_int_equal(ws_gcc_client_data_decode(buf, n, &back, &e), -1);
    assert_contains(e.msg, "CS_CORE: clientName at offset 24 is not valid UTF-16");
    /* Skipped blocks are checked, then counted. */
    n = unhex("05 c0 0c 00 00 00 00 00 01 00 00 00 0a c0 08 00 00 00 00 00", buf, sizeof buf);
    assert_int_equal(ws_gcc_client_data_decode(buf, n, &back, &e), -1);
    assert_contains(e.msg, "no CS_CORE block");
    ws_gcc_client_data_freerdp(&d, 800, 600, "a", 1);
    d.has_msgchannel = d.has_multitransport = 1;
    d.multitransport_flags = 0x301;
    n = ws_gcc_client_data_encode(&d, buf, sizeof buf);
    n += unhex("05 c0 0c 00 00 00 00 00 01 00 00 00 08 c0 03 00", buf + n, sizeof buf - n);
    assert_int_equal(ws_gcc_client_data_decode(buf, n, &back, &e), -1);
    assert_contains(e.msg, "CS_MONITOR_EX: block length 3 too short");
    buf[n - 2] = 4;
    assert_int_equal(ws_gcc_client_data_decode(buf, n, &back, &e), 0);
    assert_int_equal(back.skipped_blocks, 2);
    assert_true(back.has_msgchannel);
    assert_int_equal(back.multitransport_flags, 0x301);
}

/* ---- Connect-Response ------------------------------------------------------------------ */

static void test_connect_response_layout(void **state)
{
    (void)state;
    ws_gcc_client_data cd;
    ws_gcc_server_data sd;
    ws_mcs_connect_response cr, back;
    uint8_t out[512];
    ws_error e;
    freerdp_client(&cd);
    ws_gcc_server_data_for(&sd, &cd, 0x05, 0);
    ws_mcs_connect_response_init(&cr, &sd);
    size_t n = ws_mcs_connect_response_encode_tpkt(&cr, out, sizeof out);
    assert_bytes(out, n,
                 "03 00 00 70 02 f0 80 7f 66 66 0a 01 00 02 01 00 "
                 "30 1a 02 01 22 02 01 03 02 01 00 02 01 01 02 01 00 02 01 01 02 03 00 ff f8 02 01 02 "
                 "04 42 00 05 00 14 7c 00 01 2a 14 76 0a 01 01 00 01 c0 00 4d 63 44 6e 2c "
                 "01 0c 10 00 04 00 08 00 05 00 00 00 00 00 00 00 "
                 "03 0c 10 00 eb 03 03 00 ec 03 ed 03 ee 03 00 00 "
                 "02 0c 0c 00 00 00 00 00 00 00 00 00");
    const uint8_t *p;
    size_t m;
    assert_int_equal(ws_x224_data_decode(out, n, &p, &m, &e), 0);
    assert_int_equal(ws_mcs_connect_response_decode(p, m, &back, &e), 0);
    assert_memory_equal(&back, &cr, sizeof cr);
    check_truncations(dec_cr, p, m);

    /* Even channel count: no padding; no channels at all. */
    cd.net.channel_count = 2;
    ws_gcc_server_data_for(&sd, &cd, 0x01, WS_RNS_UD_SC_DYNAMIC_DST_SUPPORTED);
    ws_mcs_connect_response_init(&cr, &sd);
    n = ws_mcs_connect_response_encode(&cr, out, sizeof out);
    assert_int_equal(ws_mcs_connect_response_decode(out, n, &back, &e), 0);
    assert_memory_equal(&back, &cr, sizeof cr);
    assert_int_equal(back.data.net.channel_ids[1], 1005);
    cd.has_net = 0;
    ws_gcc_server_data_for(&sd, &cd, 0x01, 0);
    ws_mcs_connect_response_init(&cr, &sd);
    n = ws_mcs_connect_response_encode(&cr, out, sizeof out);
    assert_int_equal(ws_mcs_connect_response_decode(out, n, &back, &e), 0);
    assert_int_equal(back.data.net.channel_count, 0);

    /* A refusal carries the result alone. */
    cr.result = 14; /* rt-unspecified-failure */
    n = ws_mcs_connect_response_encode(&cr, out, sizeof out);
    assert_bytes(out, n, "7f 66 03 0a 01 0e");
    assert_int_equal(ws_mcs_connect_response_decode(out, n, &back, &e), 0);
    assert_int_equal(back.result, 14);
    /* ... but a success needs the rest. */
    out[5] = 0;
    assert_int_equal(ws_mcs_connect_response_decode(out, n, &back, &e), -1);
    assert_contains(e.msg, "Connect-Response: truncated in calledConnectId");

    /* SC_CORE of 8 and 12 bytes. */
    ws_gcc_server_data s8, s8back;
    memset(&s8, 0, sizeof s8);
    s8.core.version = WS_RDP_VERSION_5_PLUS;
    s8.net.mcs_channel_id = 1003;
    n = ws_gcc_server_data_encode(&s8, out, sizeof out);
    assert_int_equal(n, 8 + 8 + 12);
    assert_int_equal(ws_gcc_server_data_decode(out, n, &s8back, &e), 0);
    assert_memory_equal(&s8, &s8back, sizeof s8);
    s8.core.has_client_requested_protocols = 1;
    s8.core.client_requested_protocols = 3;
    n = ws_gcc_server_data_encode(&s8, out, sizeof out);
    assert_int_equal(ws_gcc_server_data_decode(out, n, &s8back, &e), 0);
    assert_memory_equal(&s8, &s8back, sizeof s8);
    s8.core.has_client_requested_protocols = 0;
    s8.core.has_early_capability_flags = 1;
    assert_int_equal(ws_gcc_server_data_encode(&s8, out, sizeof out), 0);
    s8.core.has_client_requested_protocols = 1;
    s8.security.encryption_level = 2;
    assert_int_equal(ws_gcc_server_data_encode(&s8, out, sizeof out), 0);
}

static void test_connect_response_spec_414(void **state)
{
    (void)state;
    uint8_t tpkt[1024];
    size_t n = spec_414(tpkt, sizeof tpkt);
    assert_int_equal(n, 0x151);
    const uint8_t *p;
    size_t m;
    ws_error e;
    ws_mcs_connect_response cr;
    assert_int_equal(ws_x224_data_decode(tpkt, n, &p, &m, &e), 0);
    if (ws_mcs_connect_response_decode(p, m, &cr, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(cr.result, 0);
    assert_int_equal(cr.params.max_user_ids, 3);
    assert_int_equal(cr.params.max_mcspdu_size, 65528);
    assert_int_equal(cr.node_id, 0x79F3);
    assert_int_equal(cr.tag, 1);
    assert_int_equal(cr.data.core.version, WS_RDP_VERSION_5_PLUS);
    assert_true(cr.data.core.has_client_requested_protocols);
    assert_false(cr.data.core.has_early_capability_flags);
    assert_int_equal(cr.data.net.mcs_channel_id, 1003);
    assert_int_equal(cr.data.net.channel_count, 3);
    assert_int_equal(cr.data.net.channel_ids[2], 1006);
    assert_int_equal(cr.data.security.encryption_method, 2);
    assert_int_equal(cr.data.security.server_random_len, 32);
    assert_int_equal(cr.data.security.server_cert_len, 184);
    check_truncations(dec_cr, p, m);

    /* Our encoder's envelope is the example's, up to the server data. */
    ws_mcs_connect_response mine;
    uint8_t out[512];
    ws_mcs_connect_response_init(&mine, &cr.data);
    mine.data.security.encryption_method = mine.data.security.encryption_level = 0;
    size_t k = ws_mcs_connect_response_encode(&mine, out, sizeof out);
    assert_true(k > 0);
    assert_memory_equal(out + 3, p + 5, 35); /* result .. domainParameters, then 04 */
    assert_memory_equal(out + 39, p + 43, 21); /* GCC response up to the userData length */

    /* A certificate longer than its block. */
    uint8_t b[1024];
    memcpy(b, p, m);
    b[m - 216 - 4] = 0xB9;
    assert_int_equal(dec_cr(b, m, &e), -1);
    assert_contains(e.msg, "SC_SECURITY: serverRandomLen 32 + serverCertLen 185 beyond the 216 bytes given");
    /* SC_NET counts. */
    memcpy(b, p, m);
    b[66 + 12 + 6] = 40;
    assert_int_equal(dec_cr(b, m, &e), -1);
    assert_contains(e.msg, "SC_NET: channelCount 40 over 31");
    b[66 + 12 + 6] = 7;
    assert_int_equal(dec_cr(b, m, &e), -1);
    assert_contains(e.msg, "SC_NET: channelCount 7 needs 14 bytes");
    /* A missing block. */
    memcpy(b, p, m);
    b[66 + 12] = 0x07; /* SC_NET -> unknown 0x0C07 */
    assert_int_equal(dec_cr(b, m, &e), -1);
    assert_contains(e.msg, "no SC_NET block");
    memcpy(b, p, m);
    b[66 - 6] = 'X';
    assert_int_equal(dec_cr(b, m, &e), -1);
    assert_contains(e.msg, "H.221 key");
}

/* The host decodes what wapsim's client sends and answers; the client decodes that. */
static void test_client_host_exchange(void **state)
{
    (void)state;
    ws_gcc_client_data cd;
    ws_mcs_connect_initial ci, got;
    ws_gcc_server_data sd;
    ws_mcs_connect_response cr, seen;
    uint8_t wire[2048];
    const uint8_t *p;
    size_t m;
    ws_error e;
    freerdp_client(&cd);
    ws_mcs_connect_initial_init(&ci, &cd);
    size_t n = ws_mcs_connect_initial_encode_tpkt(&ci, wire, sizeof wire);
    assert_int_equal(ws_x224_data_decode(wire, n, &p, &m, &e), 0);
    assert_int_equal(ws_mcs_connect_initial_decode(p, m, &got, &e), 0);
    ws_gcc_server_data_for(&sd, &got.data, WS_PROTOCOL_RDSTLS | WS_PROTOCOL_SSL, 0);
    ws_mcs_connect_response_init(&cr, &sd);
    n = ws_mcs_connect_response_encode_tpkt(&cr, wire, sizeof wire);
    assert_int_equal(ws_x224_data_decode(wire, n, &p, &m, &e), 0);
    assert_int_equal(ws_mcs_connect_response_decode(p, m, &seen, &e), 0);
    assert_int_equal(seen.data.core.client_requested_protocols, 0x05);
    assert_int_equal(seen.data.net.channel_count, got.data.net.channel_count);
    for (unsigned i = 0; i < seen.data.net.channel_count; i++)
        assert_int_equal(seen.data.net.channel_ids[i], 1004 + i);
    assert_int_equal(seen.data.security.encryption_level, 0);
}

/* ---- Domain PDUs --------------------------------------------------------------------- */

static void test_domain_spec_examples(void **state)
{
    (void)state;
    uint8_t pl[64], out[64];
    ws_error e;
    size_t n;

    n = payload_of(SPEC_415_ERECT_DOMAIN, pl, sizeof pl);
    assert_int_equal(ws_mcs_domain_pdu_type(pl, n), WS_MCS_ERECT_DOMAIN_REQUEST);
    ws_mcs_erect_domain ed = {7, 7};
    assert_int_equal(ws_mcs_erect_domain_decode(pl, n, &ed, &e), 0);
    assert_int_equal(ed.sub_height, 0);
    assert_int_equal(ed.sub_interval, 0);
    assert_int_equal(ws_mcs_erect_domain_encode(&ed, out, sizeof out), n);
    assert_memory_equal(out, pl, n);
    check_truncations(dec_edr, pl, n);

    n = payload_of(SPEC_416_ATTACH_USER_REQUEST, pl, sizeof pl);
    assert_int_equal(ws_mcs_domain_pdu_type(pl, n), WS_MCS_ATTACH_USER_REQUEST);
    assert_int_equal(ws_mcs_attach_user_request_decode(pl, n, &e), 0);
    assert_int_equal(ws_mcs_attach_user_request_encode(out, sizeof out), 1);
    assert_int_equal(out[0], 0x28);
    check_truncations(dec_aurq, pl, n);

    n = payload_of(SPEC_417_ATTACH_USER_CONFIRM, pl, sizeof pl);
    ws_mcs_attach_user_confirm auc;
    assert_int_equal(ws_mcs_attach_user_confirm_decode(pl, n, &auc, &e), 0);
    assert_int_equal(auc.result, 0);
    assert_true(auc.has_initiator);
    assert_int_equal(auc.initiator, 1007);
    assert_int_equal(ws_mcs_attach_user_confirm_encode(&auc, out, sizeof out), n);
    assert_memory_equal(out, pl, n);
    check_truncations(dec_aucf, pl, n);

    n = payload_of(SPEC_4182_JOIN_REQUEST_1003, pl, sizeof pl);
    ws_mcs_channel_join_request cjr;
    assert_int_equal(ws_mcs_channel_join_request_decode(pl, n, &cjr, &e), 0);
    assert_int_equal(cjr.initiator, 1007);
    assert_int_equal(cjr.channel_id, 1003);
    assert_int_equal(ws_mcs_channel_join_request_encode(&cjr, out, sizeof out), n);
    assert_memory_equal(out, pl, n);
    check_truncations(dec_cjrq, pl, n);

    n = payload_of(SPEC_4181_JOIN_CONFIRM_1007, pl, sizeof pl);
    ws_mcs_channel_join_confirm cjc;
    assert_int_equal(ws_mcs_channel_join_confirm_decode(pl, n, &cjc, &e), 0);
    assert_int_equal(cjc.result, 0);
    assert_int_equal(cjc.initiator, 1007);
    assert_int_equal(cjc.requested, 1007);
    assert_true(cjc.has_channel_id);
    assert_int_equal(cjc.channel_id, 1007);
    assert_int_equal(ws_mcs_channel_join_confirm_encode(&cjc, out, sizeof out), n);
    assert_memory_equal(out, pl, n);
    check_truncations(dec_cjcf, pl, n);

    n = payload_of(DISCONNECT_USER_REQUESTED, pl, sizeof pl);
    uint8_t reason = 0;
    assert_int_equal(ws_mcs_disconnect_ultimatum_decode(pl, n, &reason, &e), 0);
    assert_int_equal(reason, WS_MCS_REASON_USER_REQUESTED);
    assert_int_equal(ws_mcs_disconnect_ultimatum_encode(reason, out, sizeof out), n);
    assert_memory_equal(out, pl, n);
    check_truncations(dec_dpu, pl, n);
}

/* The Domain PDUs xfreerdp 2.11.7 sent after our Connect-Response (four static channels,
 * user id 1008 from our Attach User Confirm), and the header of its Client Info PDU (the
 * 308 bytes of Client Info replaced by zeros here). */
static void test_domain_freerdp_sequence(void **state)
{
    (void)state;
    static const char *const joins[6] = {
        "03 00 00 0c 02 f0 80 38 00 07 03 f0", "03 00 00 0c 02 f0 80 38 00 07 03 eb",
        "03 00 00 0c 02 f0 80 38 00 07 03 ec", "03 00 00 0c 02 f0 80 38 00 07 03 ed",
        "03 00 00 0c 02 f0 80 38 00 07 03 ee", "03 00 00 0c 02 f0 80 38 00 07 03 ef"};
    static const uint16_t want[6] = {1008, 1003, 1004, 1005, 1006, 1007};
    uint8_t pl[400];
    ws_error e;
    size_t n = payload_of("03 00 00 0c 02 f0 80 04 01 00 01 00", pl, sizeof pl);
    ws_mcs_erect_domain ed;
    assert_int_equal(ws_mcs_erect_domain_decode(pl, n, &ed, &e), 0);
    n = payload_of("03 00 00 08 02 f0 80 28", pl, sizeof pl);
    assert_int_equal(ws_mcs_attach_user_request_decode(pl, n, &e), 0);
    for (int i = 0; i < 6; i++) {
        ws_mcs_channel_join_request r;
        n = payload_of(joins[i], pl, sizeof pl);
        assert_int_equal(ws_mcs_domain_pdu_type(pl, n), WS_MCS_CHANNEL_JOIN_REQUEST);
        assert_int_equal(ws_mcs_channel_join_request_decode(pl, n, &r, &e), 0);
        assert_int_equal(r.initiator, 1008);
        assert_int_equal(r.channel_id, want[i]);
    }
    uint8_t tpkt[400] = {0};
    unhex("03 00 01 43 02 f0 80 64 00 07 03 eb 70 81 34", tpkt, sizeof tpkt);
    const uint8_t *p;
    size_t m;
    assert_int_equal(ws_x224_data_decode(tpkt, 0x143, &p, &m, &e), 0);
    ws_mcs_send_data sd;
    assert_int_equal(ws_mcs_send_data_decode(WS_MCS_SEND_DATA_REQUEST, p, m, &sd, &e), 0);
    assert_int_equal(sd.initiator, 1008);
    assert_int_equal(sd.channel_id, WS_MCS_GLOBAL_CHANNEL_ID);
    assert_int_equal(sd.len, 308);
    assert_ptr_equal(sd.data, tpkt + 15);
}

static void test_domain_round_trips(void **state)
{
    (void)state;
    uint8_t out[64];
    ws_error e;
    size_t n;

    for (uint8_t r = 0; r <= WS_MCS_REASON_CHANNEL_PURGED; r++) {
        uint8_t back = 0xFF;
        n = ws_mcs_disconnect_ultimatum_encode(r, out, sizeof out);
        assert_int_equal(n, 2);
        assert_int_equal(ws_mcs_domain_pdu_type(out, n), WS_MCS_DISCONNECT_PROVIDER_ULTIMATUM);
        assert_int_equal(ws_mcs_disconnect_ultimatum_decode(out, n, &back, &e), 0);
        assert_int_equal(back, r);
    }
    assert_int_equal(ws_mcs_disconnect_ultimatum_encode(5, out, sizeof out), 0);
    out[0] = 0x22; /* reason 4 + 1 */
    out[1] = 0x80;
    uint8_t rs;
    assert_int_equal(ws_mcs_disconnect_ultimatum_decode(out, 2, &rs, &e), -1);
    assert_contains(e.msg, "reason 5 out of range");

    ws_mcs_erect_domain ed = {300, 70000}, edb;
    n = ws_mcs_erect_domain_encode(&ed, out, sizeof out);
    assert_bytes(out, n, "04 02 01 2c 04 00 01 11 70");
    assert_int_equal(ws_mcs_erect_domain_decode(out, n, &edb, &e), 0);
    assert_memory_equal(&ed, &edb, sizeof ed);
    check_truncations(dec_edr, out, n);

    /* Results straddle two bytes: rt-unspecified-failure (14) is 2D C0 without initiator. */
    for (uint8_t r = 0; r < 16; r++) {
        ws_mcs_attach_user_confirm a = {r, r % 2, (uint16_t)(1001 + r)}, ab;
        n = ws_mcs_attach_user_confirm_encode(&a, out, sizeof out);
        assert_int_equal(ws_mcs_attach_user_confirm_decode(out, n, &ab, &e), 0);
        assert_int_equal(ab.result, r);
        assert_int_equal(ab.has_initiator, r % 2);
        if (r % 2)
            assert_int_equal(ab.initiator, 1001 + r);
        ws_mcs_channel_join_confirm c = {r, 65535, 1004, r % 2, 1004}, cb;
        n = ws_mcs_channel_join_confirm_encode(&c, out, sizeof out);
        assert_int_equal(ws_mcs_channel_join_confirm_decode(out, n, &cb, &e), 0);
        assert_int_equal(cb.result, r);
        assert_int_equal(cb.initiator, 65535);
        assert_int_equal(cb.has_channel_id, r % 2);
    }
    ws_mcs_attach_user_confirm fail = {14, 0, 0};
    n = ws_mcs_attach_user_confirm_encode(&fail, out, sizeof out);
    assert_bytes(out, n, "2d c0");
    fail.result = 16;
    assert_int_equal(ws_mcs_attach_user_confirm_encode(&fail, out, sizeof out), 0);

    /* User ids below 1001 cannot be encoded; wire ids that overflow cannot be decoded. */
    ws_mcs_channel_join_request j = {1000, 1003};
    assert_int_equal(ws_mcs_channel_join_request_encode(&j, out, sizeof out), 0);
    j.initiator = 65535;
    n = ws_mcs_channel_join_request_encode(&j, out, sizeof out);
    assert_bytes(out, n, "38 fc 16 03 eb");
    out[2] = 0x17;
    ws_mcs_channel_join_request jb;
    assert_int_equal(ws_mcs_channel_join_request_decode(out, n, &jb, &e), -1);
    assert_contains(e.msg, "Channel Join Request: initiator 64535 + 1001 at offset 1 out of range");

    /* Wrong types and trailing bytes. */
    n = ws_mcs_attach_user_request_encode(out, sizeof out);
    assert_int_equal(ws_mcs_channel_join_request_decode(out, n, &jb, &e), -1);
    assert_contains(e.msg, "Channel Join Request: MCS PDU type 10 (Attach User Request) at offset 0 (expected 14)");
    out[1] = 0;
    assert_int_equal(ws_mcs_attach_user_request_decode(out, 2, &e), -1);
    assert_contains(e.msg, "Attach User Request: 1 unexpected bytes at offset 1");
    assert_int_equal(ws_mcs_attach_user_request_encode(out, 0), 0);

    assert_int_equal(ws_mcs_domain_pdu_type(out, 0), -1);
    out[0] = 0x68;
    assert_int_equal(ws_mcs_domain_pdu_type(out, 1), WS_MCS_SEND_DATA_INDICATION);
    assert_string_equal(ws_mcs_domain_pdu_name(WS_MCS_SEND_DATA_REQUEST), "Send Data Request");
    assert_string_equal(ws_mcs_domain_pdu_name(63), "unknown");
}

static void test_send_data(void **state)
{
    (void)state;
    uint8_t data[0x8000], out[0x8100];
    ws_error e;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);

    /* The Client Info PDU's header as FreeRDP and mstsc write it (user 1007, channel 1003). */
    ws_mcs_send_data sd = {1007, 1003, WS_MCS_DATA_PRIORITY_FLAGS, data, 0x1a4}, back;
    size_t n = ws_mcs_send_data_encode(WS_MCS_SEND_DATA_REQUEST, &sd, out, sizeof out);
    assert_int_equal(n, 8 + 0x1a4);
    assert_bytes(out, 8, "64 00 06 03 eb 70 81 a4");
    assert_int_equal(ws_mcs_send_data_decode(WS_MCS_SEND_DATA_REQUEST, out, n, &back, &e), 0);
    assert_int_equal(back.initiator, 1007);
    assert_int_equal(back.channel_id, 1003);
    assert_int_equal(back.flags, 0x70);
    assert_int_equal(back.len, 0x1a4);
    assert_ptr_equal(back.data, out + 8);
    assert_memory_equal(back.data, data, 0x1a4);
    check_truncations(dec_sdrq, out, n);
    /* The other type is refused. */
    assert_int_equal(ws_mcs_send_data_decode(WS_MCS_SEND_DATA_INDICATION, out, n, &back, &e), -1);
    assert_contains(e.msg, "Send Data Indication: MCS PDU type 25");
    assert_int_equal(ws_mcs_send_data_decode(3, out, n, &back, &e), -1);

    /* Lengths: 0, 127 (one byte), 128 (two), 0x7FFF (largest); 0x8000 refused. */
    static const size_t lens[] = {0, 1, 127, 128, 4096, 0x7FFF};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        ws_mcs_send_data s = {1002, 1004, 0x70, data, lens[i]};
        n = ws_mcs_send_data_encode(WS_MCS_SEND_DATA_INDICATION, &s, out, sizeof out);
        assert_int_equal(n, ws_mcs_send_data_header_len(lens[i]) + lens[i]);
        assert_int_equal(ws_mcs_send_data_header_len(lens[i]), lens[i] < 128 ? 7 : 8);
        assert_int_equal(ws_mcs_send_data_decode(WS_MCS_SEND_DATA_INDICATION, out, n, &back, &e), 0);
        assert_int_equal(back.len, lens[i]);
        assert_memory_equal(back.data, data, lens[i]);
        if (lens[i] < 200)
            check_truncations(dec_sdin, out, n);
    }
    sd.len = 0x8000;
    assert_int_equal(ws_mcs_send_data_encode(WS_MCS_SEND_DATA_REQUEST, &sd, out, sizeof out), 0);
    sd.len = 10;
    sd.initiator = 3;
    assert_int_equal(ws_mcs_send_data_encode(WS_MCS_SEND_DATA_REQUEST, &sd, out, sizeof out), 0);
    sd.initiator = 1007;
    assert_int_equal(ws_mcs_send_data_encode(WS_MCS_SEND_DATA_REQUEST, &sd, out, 16), 0);
    assert_int_equal(ws_mcs_send_data_encode(WS_MCS_SEND_DATA_REQUEST, &sd, out, 17), 17);

    /* In place: data already where the header ends, or at the very start of out. */
    memcpy(out + 8, data, 300);
    ws_mcs_send_data inplace = {1007, 1003, 0x70, out + 8, 300};
    n = ws_mcs_send_data_encode_tpkt(WS_MCS_SEND_DATA_INDICATION, &inplace, out, sizeof out);
    assert_int_equal(n, 7 + 8 + 300);
    const uint8_t *p;
    size_t m;
    assert_int_equal(ws_x224_data_decode(out, n, &p, &m, &e), 0);
    assert_int_equal(ws_mcs_send_data_decode(WS_MCS_SEND_DATA_INDICATION, p, m, &back, &e), 0);
    assert_memory_equal(back.data, data, 300);
    memcpy(out, data, 20);
    ws_mcs_send_data front = {1007, 1003, 0x70, out, 20};
    n = ws_mcs_send_data_encode(WS_MCS_SEND_DATA_REQUEST, &front, out, sizeof out);
    assert_int_equal(n, 27);
    assert_memory_equal(out + 7, data, 20);

    /* userData lengths that disagree with the bytes given. */
    n = unhex("64 00 06 03 eb 70 05 01 02 03", out, sizeof out);
    assert_int_equal(ws_mcs_send_data_decode(WS_MCS_SEND_DATA_REQUEST, out, n, &back, &e), -1);
    assert_contains(e.msg, "Send Data Request: userData length 5 beyond the 3 bytes given");
    n = unhex("64 00 06 03 eb 70 02 01 02 03", out, sizeof out);
    assert_int_equal(ws_mcs_send_data_decode(WS_MCS_SEND_DATA_REQUEST, out, n, &back, &e), -1);
    assert_contains(e.msg, "Send Data Request: 1 unexpected bytes at offset 9 after the userData");
}

/* ---- robustness: mutations and random bytes into every decoder ---------------------- */

typedef struct sample {
    const char *name;
    decode_fn fn;
    uint8_t buf[2048];
    size_t len;
} sample;

static size_t build_samples(sample *s)
{
    size_t k = 0;
    ws_gcc_client_data cd;
    ws_gcc_server_data sd;
    ws_mcs_connect_initial ci;
    ws_mcs_connect_response cr;
    freerdp_client(&cd);
    cd.has_msgchannel = cd.has_multitransport = 1;

    s[k] = (sample){"x224", dec_x224, {0}, 0};
    s[k].len = unhex(SPEC_4181_JOIN_CONFIRM_1007, s[k].buf, sizeof s[k].buf);
    k++;
    s[k] = (sample){"connect-initial (4.1.3)", dec_ci, {0}, 0};
    s[k].len = payload_of(SPEC_413, s[k].buf, sizeof s[k].buf);
    k++;
    s[k] = (sample){"connect-initial (capture)", dec_ci, {0}, 0};
    s[k].len = payload_of(CAPTURED_VISTA, s[k].buf, sizeof s[k].buf);
    k++;
    s[k] = (sample){"connect-initial (FreeRDP capture)", dec_ci, {0}, 0};
    s[k].len = payload_of(CAPTURED_FREERDP_EXT, s[k].buf, sizeof s[k].buf);
    k++;
    s[k] = (sample){"connect-initial (FreeRDP)", dec_ci, {0}, 0};
    ws_mcs_connect_initial_init(&ci, &cd);
    s[k].len = ws_mcs_connect_initial_encode(&ci, s[k].buf, sizeof s[k].buf);
    k++;
    s[k] = (sample){"client data", dec_cdata, {0}, 0};
    s[k].len = ws_gcc_client_data_encode(&cd, s[k].buf, sizeof s[k].buf);
    k++;
    ws_gcc_server_data_for(&sd, &cd, 5, 0);
    s[k] = (sample){"server data", dec_sdata, {0}, 0};
    s[k].len = ws_gcc_server_data_encode(&sd, s[k].buf, sizeof s[k].buf);
    k++;
    s[k] = (sample){"connect-response", dec_cr, {0}, 0};
    ws_mcs_connect_response_init(&cr, &sd);
    s[k].len = ws_mcs_connect_response_encode(&cr, s[k].buf, sizeof s[k].buf);
    k++;
    uint8_t tmp[1024];
    s[k] = (sample){"connect-response (4.1.4)", dec_cr, {0}, 0};
    size_t n = spec_414(tmp, sizeof tmp);
    memcpy(s[k].buf, tmp + 7, n - 7);
    s[k].len = n - 7;
    k++;
    s[k] = (sample){"erect domain", dec_edr, {0}, 0};
    s[k].len = payload_of(SPEC_415_ERECT_DOMAIN, s[k].buf, sizeof s[k].buf);
    k++;
    s[k] = (sample){"disconnect", dec_dpu, {0}, 0};
    s[k].len = payload_of(DISCONNECT_USER_REQUESTED, s[k].buf, sizeof s[k].buf);
    k++;
    s[k] = (sample){"attach user request", dec_aurq, {0}, 0};
    s[k].len = payload_of(SPEC_416_ATTACH_USER_REQUEST, s[k].buf, sizeof s[k].buf);
    k++;
    s[k] = (sample){"attach user confirm", dec_aucf, {0}, 0};
    s[k].len = payload_of(SPEC_417_ATTACH_USER_CONFIRM, s[k].buf, sizeof s[k].buf);
    k++;
    s[k] = (sample){"channel join request", dec_cjrq, {0}, 0};
    s[k].len = payload_of(SPEC_4182_JOIN_REQUEST_1003, s[k].buf, sizeof s[k].buf);
    k++;
    s[k] = (sample){"channel join confirm", dec_cjcf, {0}, 0};
    s[k].len = payload_of(SPEC_4181_JOIN_CONFIRM_1007, s[k].buf, sizeof s[k].buf);
    k++;
    ws_mcs_send_data d = {1007, 1003, 0x70, tmp, 200};
    s[k] = (sample){"send data request", dec_sdrq, {0}, 0};
    s[k].len = ws_mcs_send_data_encode(WS_MCS_SEND_DATA_REQUEST, &d, s[k].buf, sizeof s[k].buf);
    k++;
    d.len = 20;
    s[k] = (sample){"send data indication", dec_sdin, {0}, 0};
    s[k].len = ws_mcs_send_data_encode(WS_MCS_SEND_DATA_INDICATION, &d, s[k].buf, sizeof s[k].buf);
    k++;
    for (size_t i = 0; i < k; i++)
        if (s[i].len == 0)
            fail_msg("sample %s did not encode", s[i].name);
    return k;
}

static void test_mutations(void **state)
{
    (void)state;
    static sample s[24];
    size_t k = build_samples(s);
    for (size_t i = 0; i < k; i++) {
        ws_error e;
        if (decode_copy(s[i].fn, s[i].buf, s[i].len, &e))
            fail_msg("sample %s: %s", s[i].name, e.msg);
        unsigned refused = check_mutations(s[i].fn, s[i].buf, s[i].len);
        assert_true(refused > 0);
    }
}

static uint32_t rng_state = 0x5eed1234u;

static uint32_t rnd(void)
{
    uint32_t x = rng_state; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static void test_random_bytes(void **state)
{
    (void)state;
    static sample s[24];
    size_t k = build_samples(s);
    uint8_t buf[2048];
    ws_error e;
    unsigned accepted = 0;
    for (size_t i = 0; i < k; i++) {
        for (int iter = 0; iter < 3000; iter++) {
            size_t len = rnd() % (s[i].len + 16);
            for (size_t j = 0; j < len; j++)
                buf[j] = (uint8_t)rnd();
            /* Half the time keep a prefix of the valid PDU, so that decoding gets deep. */
            if (iter % 2) {
                size_t keep = rnd() % (s[i].len + 1);
                memcpy(buf, s[i].buf, keep < len ? keep : len);
            }
            accepted += decode_copy(s[i].fn, buf, len, &e) == 0;
        }
    }
    /* Random noise is nearly always refused; the count only shows the loop ran. */
    assert_true(accepted < k * 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x224_data),
        cmocka_unit_test(test_connect_initial_freerdp_layout),
        cmocka_unit_test(test_connect_initial_freerdp_capture),
        cmocka_unit_test(test_connect_initial_spec_413),
        cmocka_unit_test(test_connect_initial_captured),
        cmocka_unit_test(test_connect_initial_errors),
        cmocka_unit_test(test_client_core_cuts),
        cmocka_unit_test(test_connect_response_layout),
        cmocka_unit_test(test_connect_response_spec_414),
        cmocka_unit_test(test_client_host_exchange),
        cmocka_unit_test(test_domain_spec_examples),
        cmocka_unit_test(test_domain_freerdp_sequence),
        cmocka_unit_test(test_domain_round_trips),
        cmocka_unit_test(test_send_data),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
