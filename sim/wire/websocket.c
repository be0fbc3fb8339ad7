/* websocket: see websocket.h. RFC 6455 sections 4.2.2 (the accept key) and 5.2 (framing). */
#include "wire/websocket.h"

#include <inttypes.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_MAX 128

/* Sec-WebSocket-Accept: RFC 6455 section 4.2.2 step 5.4; the key is hashed as sent. */
int ws_ws_accept_key(const char *client_key, char out[29])
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
    return op == WS_WS_OP_CONTINUATION || op == WS_WS_OP_TEXT || op == WS_WS_OP_BINARY || op == WS_WS_OP_CLOSE ||
           op == WS_WS_OP_PING || op == WS_WS_OP_PONG;
}

/* Frame header: RFC 6455 section 5.2. Errors are reported as soon as the bytes that
 * show them are in; otherwise 1 until the whole header (with mask key) is given. */
int ws_ws_decode_header(const uint8_t *buf, size_t len, uint64_t max_payload, ws_ws_frame *f, ws_error *e)
{
    if (!buf || len < 1)
        return 1;
    int fin = buf[0] >> 7 & 1, opcode = buf[0] & 0x0F;
    if (buf[0] & 0x70)
        return ws_seterr(e, "websocket: reserved bits 0x%02x set in the first header byte", buf[0] & 0x70);
    if (!known_opcode(opcode))
        return ws_seterr(e, "websocket: unknown opcode 0x%x", opcode);
    if (opcode >= 0x8 && !fin)
        return ws_seterr(e, "websocket: control frame (opcode 0x%x) is fragmented (FIN not set)", opcode);
    if (len < 2)
        return 1;
    int masked = buf[1] >> 7 & 1;
    unsigned len7 = buf[1] & 0x7F;
    if (opcode >= 0x8 && len7 > 125)
        return ws_seterr(e, "websocket: control frame (opcode 0x%x) with a %s length, over 125 bytes", opcode,
                         len7 == 126 ? "16-bit" : "64-bit");
    size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    if (len < 2 + ext)
        return 1;
    uint64_t plen = len7;
    if (ext == 2) {
        plen = (uint64_t)buf[2] << 8 | buf[3];
    } else if (ext == 8) {
        if (buf[2] & 0x80)
            return ws_seterr(e, "websocket: 64-bit payload length has its most significant bit set");
        plen = 0;
        for (int i = 0; i < 8; i++)
            plen = plen << 8 | buf[2 + i];
    }
    if (plen > max_payload)
        return ws_seterr(e, "websocket: payload of %" PRIu64 " bytes exceeds the %" PRIu64 " allowed", plen,
                         max_payload);
    size_t hlen = 2 + ext + (masked ? 4 : 0);
    if (len < hlen)
        return 1;
    f->fin = fin;
    f->opcode = opcode;
    f->masked = masked;
    if (masked)
        memcpy(f->mask, buf + 2 + ext, 4);
    else
        memset(f->mask, 0, 4);
    f->payload_len = plen;
    f->header_len = hlen;
    return 0;
}

/* Masking: RFC 6455 section 5.3, octet i of the payload XOR mask[i % 4]. */
void ws_ws_unmask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset)
{
    for (size_t i = 0; i < len; i++)
        buf[i] ^= mask[(offset + i) & 3];
}

/* Frame header with FIN set: RFC 6455 section 5.2, the shortest length encoding. */
size_t ws_ws_encode_header(int opcode, uint64_t payload_len, const uint8_t *mask, uint8_t *out)
{
    size_t n = 0;
    uint8_t mbit = mask ? 0x80 : 0;
    out[n++] = (uint8_t)(0x80 | (opcode & 0x0F));
    if (payload_len < 126) {
        out[n++] = (uint8_t)(mbit | payload_len);
    } else if (payload_len <= 0xFFFF) {
        out[n++] = (uint8_t)(mbit | 126);
        out[n++] = (uint8_t)(payload_len >> 8);
        out[n++] = (uint8_t)payload_len;
    } else {
        out[n++] = (uint8_t)(mbit | 127);
        for (int i = 7; i >= 0; i--)
            out[n++] = (uint8_t)(payload_len >> (8 * i));
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}
