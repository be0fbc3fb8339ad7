/* SPDX-License-Identifier: Apache-2.0 */
/* tsgu: the MS-TSGU HTTP transport's packets (REFERENCE.md section 7; MS-TSGU 2.2.10),
 * shared by the RD Gateway and the tenant's client. One struct per packet, a decoder
 * that checks every length against the bytes given and says where it failed, and an
 * encoder. All integers little-endian; the 8-byte header is u16 type, u16 reserved,
 * u32 packetLength (header included). Strings are UTF-16LE on the wire (byte counts
 * include the terminating NUL) and UTF-8 in the structs. */
#ifndef WAPSIM_TSGU_H
#define WAPSIM_TSGU_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define WS_TSGU_HANDSHAKE_REQUEST 0x01
#define WS_TSGU_HANDSHAKE_RESPONSE 0x02
#define WS_TSGU_EXTENDED_AUTH 0x03
#define WS_TSGU_TUNNEL_CREATE 0x04
#define WS_TSGU_TUNNEL_RESPONSE 0x05
#define WS_TSGU_TUNNEL_AUTH 0x06
#define WS_TSGU_TUNNEL_AUTH_RESPONSE 0x07
#define WS_TSGU_CHANNEL_CREATE 0x08
#define WS_TSGU_CHANNEL_RESPONSE 0x09
#define WS_TSGU_DATA 0x0A
#define WS_TSGU_SERVICE_MESSAGE 0x0B
#define WS_TSGU_REAUTH_MESSAGE 0x0C
#define WS_TSGU_KEEPALIVE 0x0D
#define WS_TSGU_CLOSE_CHANNEL 0x10
#define WS_TSGU_CLOSE_CHANNEL_RESPONSE 0x11

#define WS_TSGU_HEADER_LEN 8
#define WS_TSGU_PACKET_MAX (WS_TSGU_HEADER_LEN + 2 + 65535) /* a full DATA packet */
#define WS_TSGU_COOKIE_MAX 8192   /* UTF-8 bytes of a PAA cookie accepted */
#define WS_TSGU_NAME_MAX 256      /* UTF-8 bytes of a client or resource name */

#define WS_TSGU_EXTAUTH_PAA 0x0002
#define WS_TSGU_TUNNEL_CREATE_PAA_COOKIE 0x0001      /* fieldsPresent of TUNNEL_CREATE */
#define WS_TSGU_TUNNEL_RESPONSE_TUNNEL_ID 0x0001     /* fieldsPresent of TUNNEL_RESPONSE */
#define WS_TSGU_TUNNEL_RESPONSE_CAPS 0x0002
#define WS_TSGU_CHANNEL_RESPONSE_CHANNEL_ID 0x0001   /* fieldsPresent of CHANNEL_RESPONSE */

/* The name of a packet type ("TUNNEL_CREATE"), or "unknown". */
const char *ws_tsgu_type_name(uint16_t type);

typedef struct ws_tsgu_header {
    uint16_t type;
    uint32_t length; /* of the whole packet */
} ws_tsgu_header;

/* Returns 1 when fewer than 8 bytes are given (need more), 0 with the header (length
 * checked to be >= 8 and <= WS_TSGU_PACKET_MAX), -1 with e set. */
int ws_tsgu_header_decode(const uint8_t *buf, size_t len, ws_tsgu_header *h, ws_error *e);

typedef struct ws_tsgu_handshake_request {
    uint8_t ver_major, ver_minor;
    uint16_t client_version;
    uint16_t extended_auth;
} ws_tsgu_handshake_request;

typedef struct ws_tsgu_handshake_response {
    uint32_t error_code;
    uint8_t ver_major, ver_minor;
    uint16_t server_version;
    uint16_t extended_auth;
} ws_tsgu_handshake_response;

typedef struct ws_tsgu_tunnel_create {
    uint32_t caps;
    uint16_t fields_present;
    char cookie[WS_TSGU_COOKIE_MAX + 1]; /* when fields_present has PAA_COOKIE */
} ws_tsgu_tunnel_create;

typedef struct ws_tsgu_tunnel_response {
    uint16_t server_version;
    uint32_t status_code;
    uint16_t fields_present;
    uint32_t tunnel_id; /* when TUNNEL_ID */
    uint32_t caps;      /* when CAPS */
} ws_tsgu_tunnel_response;

typedef struct ws_tsgu_tunnel_auth {
    uint16_t fields_present;
    char client_name[WS_TSGU_NAME_MAX + 1];
} ws_tsgu_tunnel_auth;

typedef struct ws_tsgu_tunnel_auth_response {
    uint32_t error_code;
    uint16_t fields_present;
} ws_tsgu_tunnel_auth_response;

typedef struct ws_tsgu_channel_create {
    uint8_t num_resources, num_alt;
    uint16_t port, protocol;
    char resource[WS_TSGU_NAME_MAX + 1]; /* the first resource name */
} ws_tsgu_channel_create;

typedef struct ws_tsgu_channel_response {
    uint32_t error_code;
    uint16_t fields_present;
    uint32_t channel_id; /* when CHANNEL_ID */
} ws_tsgu_channel_response;

typedef struct ws_tsgu_data {
    uint16_t len;
    const uint8_t *data; /* points into the decoded buffer */
} ws_tsgu_data;

typedef struct ws_tsgu_close_channel {
    uint32_t status_code; /* CLOSE_CHANNEL and CLOSE_CHANNEL_RESPONSE */
} ws_tsgu_close_channel;

/* Decoders take one whole packet (header included, len == its packetLength) and
 * check its type. Encoders write a whole packet and return its length, or 0 when cap
 * is too small or a field cannot be encoded. */
int ws_tsgu_decode_handshake_request(const uint8_t *p, size_t len, ws_tsgu_handshake_request *out, ws_error *e);
size_t ws_tsgu_encode_handshake_request(const ws_tsgu_handshake_request *in, uint8_t *out, size_t cap);
int ws_tsgu_decode_handshake_response(const uint8_t *p, size_t len, ws_tsgu_handshake_response *out, ws_error *e);
size_t ws_tsgu_encode_handshake_response(const ws_tsgu_handshake_response *in, uint8_t *out, size_t cap);
int ws_tsgu_decode_tunnel_create(const uint8_t *p, size_t len, ws_tsgu_tunnel_create *out, ws_error *e);
size_t ws_tsgu_encode_tunnel_create(const ws_tsgu_tunnel_create *in, uint8_t *out, size_t cap);
int ws_tsgu_decode_tunnel_response(const uint8_t *p, size_t len, ws_tsgu_tunnel_response *out, ws_error *e);
size_t ws_tsgu_encode_tunnel_response(const ws_tsgu_tunnel_response *in, uint8_t *out, size_t cap);
int ws_tsgu_decode_tunnel_auth(const uint8_t *p, size_t len, ws_tsgu_tunnel_auth *out, ws_error *e);
size_t ws_tsgu_encode_tunnel_auth(const ws_tsgu_tunnel_auth *in, uint8_t *out, size_t cap);
int ws_tsgu_decode_tunnel_auth_response(const uint8_t *p, size_t len, ws_tsgu_tunnel_auth_response *out,
                                        ws_error *e);
size_t ws_tsgu_encode_tunnel_auth_response(const ws_tsgu_tunnel_auth_response *in, uint8_t *out, size_t cap);
int ws_tsgu_decode_channel_create(const uint8_t *p, size_t len, ws_tsgu_channel_create *out, ws_error *e);
size_t ws_tsgu_encode_channel_create(const ws_tsgu_channel_create *in, uint8_t *out, size_t cap);
int ws_tsgu_decode_channel_response(const uint8_t *p, size_t len, ws_tsgu_channel_response *out, ws_error *e);
size_t ws_tsgu_encode_channel_response(const ws_tsgu_channel_response *in, uint8_t *out, size_t cap);
int ws_tsgu_decode_data(const uint8_t *p, size_t len, ws_tsgu_data *out, ws_error *e);
size_t ws_tsgu_encode_data(const uint8_t *data, size_t n, uint8_t *out, size_t cap); /* n <= 65535 */
/* A relay's view of DATA, its data passed on as it arrives: the 10-byte head (header and
 * cbDataLen) alone. decode: p holds at least the head; *packet_len and *cb, or -1 with
 * e set (not DATA, a bad packetLength, cbDataLen not packetLength - 10). encode: the
 * head of a packet whose n bytes (n <= 65535) follow it. */
#define WS_TSGU_DATA_HEAD_LEN 10
int ws_tsgu_decode_data_head(const uint8_t *p, size_t len, uint32_t *packet_len, uint16_t *cb, ws_error *e);
void ws_tsgu_encode_data_head(size_t n, uint8_t out[WS_TSGU_DATA_HEAD_LEN]);
int ws_tsgu_decode_close_channel(const uint8_t *p, size_t len, uint16_t type, ws_tsgu_close_channel *out,
                                 ws_error *e);
size_t ws_tsgu_encode_close_channel(uint16_t type, uint32_t status, uint8_t *out, size_t cap);
/* A packet with a header only (KEEPALIVE). */
size_t ws_tsgu_encode_empty(uint16_t type, uint8_t *out, size_t cap);

#endif
