/* SPDX-License-Identifier: Apache-2.0 */
/* websocket: the RFC 6455 framing MS-TSGU runs over after RDG_OUT_DATA is upgraded
 * (REFERENCE.md section 7): client frames are masked, server frames must not be. */
#ifndef WAPSIM_WEBSOCKET_H
#define WAPSIM_WEBSOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define WS_WEBSOCKET_OP_CONTINUATION 0x0
#define WS_WEBSOCKET_OP_TEXT 0x1
#define WS_WEBSOCKET_OP_BINARY 0x2
#define WS_WEBSOCKET_OP_CLOSE 0x8
#define WS_WEBSOCKET_OP_PING 0x9
#define WS_WEBSOCKET_OP_PONG 0xA
#define WS_WEBSOCKET_HEADER_MAX 14

/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64(SHA-1(key +
 * "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), the key hashed verbatim as sent (FreeRDP's
 * is not base64). out: 29 bytes. */
int ws_websocket_accept_key(const char *client_key, char out[29]);

typedef struct ws_websocket_frame {
    int fin;
    int opcode;
    int masked;
    uint8_t mask[4];
    uint64_t payload_len;
    size_t header_len; /* bytes of header before the payload */
} ws_websocket_frame;

/* Decode a frame header: 1 when more bytes are needed, 0 when decoded, -1 with e set
 * (reserved bits set, unknown opcode, a control frame over 125 bytes or fragmented,
 * payload over max_payload). */
int ws_websocket_decode_header(const uint8_t *buf, size_t len, uint64_t max_payload, ws_websocket_frame *f,
                               ws_error *e);
/* XOR payload bytes with the mask, offset being the position of buf[0] in the payload
 * (a frame whose payload arrives in pieces). A word at a time: any alignment. */
void ws_websocket_unmask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset);
/* The same while copying: dst = src XOR mask (the client masking its payload into the
 * frame it sends). dst and src are the same buffer or do not overlap. */
void ws_websocket_mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4], uint64_t offset);
/* Write a frame header (fin set) into out (WS_WEBSOCKET_HEADER_MAX bytes); mask NULL for an
 * unmasked (server) frame. Returns its length. The caller masks the payload itself. */
size_t ws_websocket_encode_header(int opcode, uint64_t payload_len, const uint8_t *mask, uint8_t *out);

#endif
