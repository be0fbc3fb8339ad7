/* SPDX-License-Identifier: Apache-2.0 */
/* websocket: see websocket.h. RFC 6455 sections 4.2.2 (the accept key) and 5.2 (framing). */
#include "wire/websocket.h"

#include <inttypes.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "base/bytes.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_MAX 128

/* Sec-WebSocket-Accept: RFC 6455 section 4.2.2 step 5.4; the key is hashed as sent. */
int ws_websocket_accept_key(const char *client_key, char out[29])
{
    if (!client_key || !out)
        return -1;
    size_t n = strlen(client_key);
    if (n == 0 || n > WS_KEY_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)client_key[i] < 0x20 || (unsigned char)client_key[i] > 0x7E)
            return -1;
    char buf[WS_KEY_MAX + sizeof WS_GUID];
    memcpy(buf, client_key, n);
    memcpy(buf + n, WS_GUID, sizeof WS_GUID - 1);
    unsigned char md[SHA_DIGEST_LENGTH];
    if (!SHA1((const unsigned char *)buf, n + sizeof WS_GUID - 1, md))
        return -1;
    if (EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH) != 28)
        return -1;
    out[28] = '\0';
    return 0;
}

static int known_opcode(int op)
{
    return op == WS_WEBSOCKET_OP_CONTINUATION || op == WS_WEBSOCKET_OP_TEXT || op == WS_WEBSOCKET_OP_BINARY ||
           op == WS_WEBSOCKET_OP_CLOSE || op == WS_WEBSOCKET_OP_PING || op == WS_WEBSOCKET_OP_PONG;
}

/* Frame header: RFC 6455 section 5.2:
 *   u8  FIN(1) RSV1-3(3) opcode(4)
 *   u8  MASK(1) payload len(7)       126: u16 BE length follows; 127: u64 BE length
 *   [u8 masking-key[4]]              when MASK is set
 * Errors are reported as soon as the bytes that show them are in; otherwise 1 until
 * the whole header (with mask key) is given. The reader has no ws_error: running
 * out is "more bytes needed", not a failure. */
int ws_websocket_decode_header(const uint8_t *buf, size_t len, uint64_t max_payload, ws_websocket_frame *f,
                               ws_error *e)
{
    ws_rd r;
    uint8_t b0, b1;
    ws_rd_init(&r, buf, len, "websocket", NULL);
    if (ws_rd_u8(&r, "FIN/opcode", &b0))
        return 1;
    int fin = b0 >> 7 & 1, opcode = b0 & 0x0F;
    if (b0 & 0x70)
        return ws_seterr(e, "websocket: reserved bits 0x%02x set in the first header byte", b0 & 0x70);
    if (!known_opcode(opcode))
        return ws_seterr(e, "websocket: unknown opcode 0x%x", opcode);
    if (opcode >= 0x8 && !fin)
        return ws_seterr(e, "websocket: control frame (opcode 0x%x) is fragmented (FIN not set)", opcode);
    if (ws_rd_u8(&r, "MASK/payload len", &b1))
        return 1;
    int masked = b1 >> 7 & 1;
    unsigned len7 = b1 & 0x7F;
    if (opcode >= 0x8 && len7 > 125)
        return ws_seterr(e, "websocket: control frame (opcode 0x%x) with a %s length, over 125 bytes", opcode,
                         len7 == 126 ? "16-bit" : "64-bit");
    uint64_t plen = len7;
    if (len7 == 126) {
        uint16_t n16;
        if (ws_rd_u16_be(&r, "extended payload length", &n16))
            return 1;
        plen = n16;
    } else if (len7 == 127) {
        if (ws_rd_u64_be(&r, "extended payload length", &plen))
            return 1;
        if (plen >> 63)
            return ws_seterr(e, "websocket: 64-bit payload length has its most significant bit set");
    }
    if (plen > max_payload)
        return ws_seterr(e, "websocket: payload of %" PRIu64 " bytes exceeds the %" PRIu64 " allowed", plen,
                         max_payload);
    uint8_t mask[4] = {0};
    if (masked && ws_rd_copy(&r, 4, "masking-key", mask))
        return 1;
    f->fin = fin;
    f->opcode = opcode;
    f->masked = masked;
    memcpy(f->mask, mask, 4);
    f->payload_len = plen;
    f->header_len = ws_rd_offset(&r);
    return 0;
}

/* Masking: RFC 6455 section 5.3, octet i of the payload XOR mask[i % 4]. The mask,
 * turned to start at payload octet `offset`, is repeated into a 64-bit word and applied
 * 32 then 8 bytes at a time; loads and stores go through memcpy (any alignment, no
 * aliasing: one instruction each), and the word is made from bytes in memory order, so
 * the byte order of the machine does not matter. The tail is done a byte at a time. */
static uint64_t mask_word(const uint8_t mask[4], uint64_t offset)
{
    uint8_t m[8];
    for (int i = 0; i < 8; i++)
        m[i] = mask[(offset + (uint64_t)i) & 3];
    uint64_t w;
    memcpy(&w, m, sizeof w);
    return w;
}

static inline void xor8(uint8_t *dst, const uint8_t *src, uint64_t w)
{
    uint64_t v;
    memcpy(&v, src, sizeof v);
    v ^= w;
    memcpy(dst, &v, sizeof v);
}

void ws_websocket_mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4], uint64_t offset)
{
    uint64_t w = mask_word(mask, offset);
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        xor8(dst + i, src + i, w);
        xor8(dst + i + 8, src + i + 8, w);
        xor8(dst + i + 16, src + i + 16, w);
        xor8(dst + i + 24, src + i + 24, w);
    }
    for (; i + 8 <= len; i += 8)
        xor8(dst + i, src + i, w);
    for (; i < len; i++) /* a multiple of 8 done: the mask's phase is offset's again */
        dst[i] = src[i] ^ mask[(offset + i) & 3];
}

void ws_websocket_unmask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset)
{
    ws_websocket_mask_copy(buf, buf, len, mask, offset);
}

/* Frame header with FIN set: RFC 6455 section 5.2, the shortest length encoding. */
size_t ws_websocket_encode_header(int opcode, uint64_t payload_len, const uint8_t *mask, uint8_t *out)
{
    ws_wr w;
    uint8_t mbit = mask ? 0x80 : 0;
    ws_wr_init(&w, out, WS_WEBSOCKET_HEADER_MAX);
    ws_wr_u8(&w, (uint8_t)(0x80 | (opcode & 0x0F)));
    if (payload_len < 126) {
        ws_wr_u8(&w, (uint8_t)(mbit | payload_len));
    } else if (payload_len <= 0xFFFF) {
        ws_wr_u8(&w, (uint8_t)(mbit | 126));
        ws_wr_u16_be(&w, (uint16_t)payload_len);
    } else {
        ws_wr_u8(&w, (uint8_t)(mbit | 127));
        ws_wr_u64_be(&w, payload_len);
    }
    if (mask)
        ws_wr_bytes(&w, mask, 4);
    return ws_wr_done(&w);
}
