/* SPDX-License-Identifier: Apache-2.0 */
/* rdpneg: the first bytes a client sends a Hyper-V host and what it answers
 * (REFERENCE.md section 8): the pre-connection PDU (MS-RDPEPS 2.2.1.2, version 2,
 * carrying the pcb), TPKT framing (RFC 1006), and the X.224 Connection Request and
 * Confirm with RDP_NEG_REQ / RDP_NEG_RSP / RDP_NEG_FAILURE (MS-RDPBCGR 2.2.1.1,
 * 2.2.1.2). Shared by the host and the tenant's client. */
#ifndef WAPSIM_RDPNEG_H
#define WAPSIM_RDPNEG_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define WS_PROTOCOL_RDP 0x00000000u
#define WS_PROTOCOL_SSL 0x00000001u
#define WS_PROTOCOL_HYBRID 0x00000002u
#define WS_PROTOCOL_RDSTLS 0x00000004u
#define WS_PROTOCOL_HYBRID_EX 0x00000008u

#define WS_NEG_TYPE_REQ 0x01
#define WS_NEG_TYPE_RSP 0x02
#define WS_NEG_TYPE_FAILURE 0x03
/* RDP_NEG_FAILURE codes */
#define WS_NEG_SSL_REQUIRED_BY_SERVER 0x00000001u
#define WS_NEG_SSL_NOT_ALLOWED_BY_SERVER 0x00000002u
#define WS_NEG_HYBRID_REQUIRED_BY_SERVER 0x00000005u

#define WS_PCB_MAX 256         /* UTF-8 bytes of a pcb accepted */
#define WS_PCB_PDU_MAX 1024    /* cbSize accepted */
#define WS_TPKT_MAX 16384      /* a TPKT length accepted before the session starts */

typedef struct ws_pcb_pdu {
    uint32_t flags;
    uint32_t version; /* 1 (id only) or 2 (id and pcb) */
    uint32_t id;
    char pcb[WS_PCB_MAX + 1]; /* cut at the first NUL */
} ws_pcb_pdu;

/* Decode from the start of buf: 1 when fewer than cbSize bytes are there (need
 * more), 0 with *consumed = cbSize, -1 with e set. */
int ws_pcb_decode(const uint8_t *buf, size_t len, ws_pcb_pdu *out, size_t *consumed, ws_error *e);
/* Version 2 as FreeRDP writes it: cchPCB = characters + 2, two trailing NULs (a
 * 36-character GUID gives cchPCB 38 and cbSize 94). Returns bytes written or 0. */
size_t ws_pcb_encode(const char *pcb, uint8_t *out, size_t cap);

/* The length of the TPKT at the start of buf: 0 when fewer than 4 bytes are given,
 * -1 when it is not a TPKT (version 3) or its length is out of range. */
long ws_tpkt_length(const uint8_t *buf, size_t len, size_t max);

typedef struct ws_x224_cr {
    char cookie[128];  /* "Cookie: mstshash=..." without the CRLF, or "" */
    int has_neg;
    uint8_t neg_flags;
    uint32_t requested_protocols;
} ws_x224_cr;

typedef struct ws_x224_cc {
    int has_neg;
    uint8_t neg_type;  /* WS_NEG_TYPE_RSP or WS_NEG_TYPE_FAILURE */
    uint8_t neg_flags;
    uint32_t value;    /* selectedProtocol, or failureCode */
} ws_x224_cc;

/* Decoders take one whole TPKT (len == its length). */
int ws_x224_cr_decode(const uint8_t *tpkt, size_t len, ws_x224_cr *out, ws_error *e);
size_t ws_x224_cr_encode(const ws_x224_cr *in, uint8_t *out, size_t cap);
int ws_x224_cc_decode(const uint8_t *tpkt, size_t len, ws_x224_cc *out, ws_error *e);
size_t ws_x224_cc_encode(const ws_x224_cc *in, uint8_t *out, size_t cap);

#endif
