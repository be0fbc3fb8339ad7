/* SPDX-License-Identifier: Apache-2.0 */
/* rdstls: the RDSTLS security protocol's PDUs (MS-RDPBCGR 2.2.17, 5.4.5.3) and the
 * FedAuth token request Hyper-V console connect uses (REFERENCE.md section 8; not in
 * the spec). All little-endian. Shared by the host and the tenant's client. */
#ifndef WAPSIM_RDSTLS_H
#define WAPSIM_RDSTLS_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define WS_RDSTLS_PDU_CAPABILITIES 0x0001
#define WS_RDSTLS_PDU_AUTHREQ 0x0002
#define WS_RDSTLS_PDU_AUTHRSP 0x0004
#define WS_RDSTLS_DATA_CAPABILITIES 0x0001
#define WS_RDSTLS_DATA_PASSWORD_CREDS 0x0001
#define WS_RDSTLS_DATA_AUTORECONNECT_COOKIE 0x0002
#define WS_RDSTLS_DATA_FEDAUTH_TOKEN 0x0003 /* Hyper-V console connect */
#define WS_RDSTLS_DATA_RESULT_CODE 0x0001
#define WS_RDSTLS_VERSION_1 0x0001
#define WS_RDSTLS_VERSION_2 0x0002

/* Auth response result codes (MS-RDPBCGR 2.2.17.4). */
#define WS_RDSTLS_SUCCESS 0x00000000u
#define WS_RDSTLS_ACCESS_DENIED 0x00000005u
#define WS_RDSTLS_LOGON_FAILURE 0x0000052Eu
#define WS_RDSTLS_INVALID_LOGON_HOURS 0x00000530u
#define WS_RDSTLS_PASSWORD_EXPIRED 0x00000532u
#define WS_RDSTLS_ACCOUNT_DISABLED 0x00000533u
#define WS_RDSTLS_PASSWORD_MUST_CHANGE 0x00000773u
#define WS_RDSTLS_ACCOUNT_LOCKED_OUT 0x00000775u

#define WS_RDSTLS_PDU_MAX 32768 /* largest PDU accepted */

/* "ACCESS_DENIED" for a result code, or "unknown". */
const char *ws_rdstls_result_name(uint32_t code);

/* The total length of the RDSTLS PDU at the start of buf, from its header and length
 * fields: 0 when more bytes are needed to tell, -1 when it is not a PDU this
 * implementation reads (unknown type, length over WS_RDSTLS_PDU_MAX). */
long ws_rdstls_pdu_length(const uint8_t *buf, size_t len);

typedef struct ws_rdstls_capabilities {
    uint16_t version;            /* header Version (1) */
    uint16_t supported_versions; /* bit 0x1 v1, 0x2 v2 */
} ws_rdstls_capabilities;

typedef struct ws_rdstls_auth_request {
    uint16_t version;
    uint16_t data_type; /* PASSWORD_CREDS, AUTORECONNECT_COOKIE or FEDAUTH_TOKEN */
    /* FEDAUTH_TOKEN: the token, UTF-8 */
    char token[8192 + 1];
    /* PASSWORD_CREDS: (UTF-8; the redirection GUID is kept as bytes) */
    uint8_t redirection_guid[512];
    uint16_t redirection_guid_len;
    char user[256], domain[256], password[256];
    /* AUTORECONNECT_COOKIE */
    uint32_t session_id;
    uint8_t arc_cookie[28];
} ws_rdstls_auth_request;

typedef struct ws_rdstls_auth_response {
    uint16_t version;
    uint32_t result_code;
} ws_rdstls_auth_response;

/* Decoders take one whole PDU (len == ws_rdstls_pdu_length). */
int ws_rdstls_decode_capabilities(const uint8_t *p, size_t len, ws_rdstls_capabilities *out, ws_error *e);
size_t ws_rdstls_encode_capabilities(const ws_rdstls_capabilities *in, uint8_t *out, size_t cap);
int ws_rdstls_decode_auth_request(const uint8_t *p, size_t len, ws_rdstls_auth_request *out, ws_error *e);
size_t ws_rdstls_encode_auth_request(const ws_rdstls_auth_request *in, uint8_t *out, size_t cap);
int ws_rdstls_decode_auth_response(const uint8_t *p, size_t len, ws_rdstls_auth_response *out, ws_error *e);
size_t ws_rdstls_encode_auth_response(const ws_rdstls_auth_response *in, uint8_t *out, size_t cap);

#endif
