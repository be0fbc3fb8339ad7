/* SPDX-License-Identifier: Apache-2.0 */
/* mcs: the RDP connection sequence's MCS and GCC layer (REFERENCE.md section 8, MS-RDPBCGR
 * 2.2.1.3-2.2.1.10, T.125 MCS, T.124 GCC), shared by the host and the tenant's client:
 * X.224 Data TPDU framing, the BER-encoded MCS Connect-Initial and Connect-Response with
 * their PER-encoded GCC Conference Create Request / Response and the client and server
 * data blocks, and the ALIGNED-PER MCS Domain PDUs (Erect Domain, Attach User, Channel
 * Join, Send Data, Disconnect Provider Ultimatum).
 *
 * Style as tsgu.h: one struct per PDU; decoders check every length against the bytes
 * given, return 0 or -1 with e naming the PDU and field ("Connect-Initial: userData
 * length 500 beyond the 300 bytes given"); encoders return bytes written, or 0 when cap
 * is too small or a field cannot be encoded. Strings are UTF-8 in the structs. */
#ifndef WAPSIM_MCS_H
#define WAPSIM_MCS_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* ---- X.224 Data TPDU (MS-RDPBCGR 2.2.1.5, X.224 13.7): TPKT(4) + 02 F0 80 + payload ---- */

#define WS_X224_DATA_HEADER 7        /* TPKT header + LI, code, EOT */
#define WS_X224_DATA_MAX 65535       /* a whole TPKT, header included */

/* Returns bytes written (n + 7), or 0 when the TPKT would exceed 65535 bytes or cap. */
size_t ws_x224_data_encode(const uint8_t *payload, size_t n, uint8_t *out, size_t cap);
/* Takes one whole TPKT (len == its length, see ws_tpkt_length); *payload points into it. */
int ws_x224_data_decode(const uint8_t *tpkt, size_t len, const uint8_t **payload, size_t *n, ws_error *e);

/* ---- limits and constants --------------------------------------------------------- */

#define WS_MCS_LENGTH_MAX 65536          /* any BER or PER length accepted */
#define WS_MCS_CHANNELS_MAX 31           /* static virtual channels in CS_NET / SC_NET */
#define WS_MCS_CHANNEL_NAME_MAX 8        /* ASCII bytes of a channel name (7 + NUL on the wire) */
#define WS_MCS_DOMAIN_SELECTOR_MAX 16    /* bytes of a calling/called domain selector kept */
#define WS_MCS_USERID_BASE 1001          /* MCS user ids travel as initiator - 1001 */
#define WS_MCS_GLOBAL_CHANNEL_ID 1003    /* the I/O channel, SC_NET MCSChannelId */
#define WS_MCS_FIRST_STATIC_CHANNEL_ID 1004
#define WS_MCS_DATA_PRIORITY_FLAGS 0x70  /* dataPriority high, segmentation begin|end */
#define WS_MCS_SEND_DATA_MAX 0x7FFF      /* userData bytes a 1- or 2-byte PER length holds */

/* MCS Connect results (T.125 Result) */
#define WS_MCS_RESULT_SUCCESSFUL 0
#define WS_MCS_RESULT_DOMAIN_MERGING 1
#define WS_MCS_RESULT_NO_SUCH_CHANNEL 3     /* T.125 rt-* values go up to 15 */
#define WS_MCS_RESULT_CHANNEL_ID_INVALID WS_MCS_RESULT_NO_SUCH_CHANNEL /* first name, kept */
#define WS_MCS_RESULT_UNSPECIFIED_FAILURE 14

/* Disconnect Provider Ultimatum reasons (T.125 Reason) */
#define WS_MCS_REASON_DOMAIN_DISCONNECTED 0
#define WS_MCS_REASON_PROVIDER_INITIATED 1
#define WS_MCS_REASON_TOKEN_PURGED 2
#define WS_MCS_REASON_USER_REQUESTED 3
#define WS_MCS_REASON_CHANNEL_PURGED 4

/* Domain MCSPDU types: the first byte of a Domain PDU >> 2 (T.125 DomainMCSPDU CHOICE). */
#define WS_MCS_ERECT_DOMAIN_REQUEST 1
#define WS_MCS_DISCONNECT_PROVIDER_ULTIMATUM 8
#define WS_MCS_ATTACH_USER_REQUEST 10
#define WS_MCS_ATTACH_USER_CONFIRM 11
#define WS_MCS_CHANNEL_JOIN_REQUEST 14
#define WS_MCS_CHANNEL_JOIN_CONFIRM 15
#define WS_MCS_SEND_DATA_REQUEST 25
#define WS_MCS_SEND_DATA_INDICATION 26

/* GCC user data block types (MS-RDPBCGR 2.2.1.3.1 TS_UD_HEADER) */
#define WS_GCC_CS_CORE 0xC001
#define WS_GCC_CS_SECURITY 0xC002
#define WS_GCC_CS_NET 0xC003
#define WS_GCC_CS_CLUSTER 0xC004
#define WS_GCC_CS_MONITOR 0xC005
#define WS_GCC_CS_MCS_MSGCHANNEL 0xC006
#define WS_GCC_CS_MONITOR_EX 0xC008
#define WS_GCC_CS_MULTITRANSPORT 0xC00A
#define WS_GCC_SC_CORE 0x0C01
#define WS_GCC_SC_SECURITY 0x0C02
#define WS_GCC_SC_NET 0x0C03
#define WS_GCC_SC_MCS_MSGCHANNEL 0x0C04
#define WS_GCC_SC_MULTITRANSPORT 0x0C08

/* RDP versions (TS_UD_CS_CORE version, TS_UD_SC_CORE version) */
#define WS_RDP_VERSION_5_PLUS 0x00080004u
#define WS_RDP_VERSION_10_7 0x0008000Cu

/* TS_UD_CS_CORE colorDepth / postBeta2ColorDepth / highColorDepth / supportedColorDepths */
#define WS_RNS_UD_COLOR_8BPP 0xCA01
#define WS_RNS_UD_SAS_DEL 0xAA03
#define WS_RNS_UD_24BPP_SUPPORT 0x0001
#define WS_RNS_UD_16BPP_SUPPORT 0x0002
#define WS_RNS_UD_15BPP_SUPPORT 0x0004
#define WS_RNS_UD_32BPP_SUPPORT 0x0008
/* TS_UD_CS_CORE earlyCapabilityFlags */
#define WS_RNS_UD_CS_SUPPORT_ERRINFO_PDU 0x0001
#define WS_RNS_UD_CS_WANT_32BPP_SESSION 0x0002
#define WS_RNS_UD_CS_SUPPORT_STATUSINFO_PDU 0x0004
#define WS_RNS_UD_CS_STRONG_ASYMMETRIC_KEYS 0x0008
#define WS_RNS_UD_CS_VALID_CONNECTION_TYPE 0x0020
#define WS_RNS_UD_CS_SUPPORT_MONITOR_LAYOUT_PDU 0x0040
#define WS_RNS_UD_CS_SUPPORT_NETWORK_AUTODETECT 0x0080
#define WS_RNS_UD_CS_SUPPORT_DYNVC_GFX_PROTOCOL 0x0100
#define WS_RNS_UD_CS_SUPPORT_DYNAMIC_TIME_ZONE 0x0200
#define WS_RNS_UD_CS_SUPPORT_HEARTBEAT_PDU 0x0400
/* TS_UD_SC_CORE earlyCapabilityFlags */
#define WS_RNS_UD_SC_EDGE_ACTIONS_SUPPORTED_V1 0x0001
#define WS_RNS_UD_SC_DYNAMIC_DST_SUPPORTED 0x0002
#define WS_RNS_UD_SC_EDGE_ACTIONS_SUPPORTED_V2 0x0004
/* CHANNEL_DEF options (MS-RDPBCGR 2.2.1.3.4.1) */
#define WS_CHANNEL_OPTION_INITIALIZED 0x80000000u
#define WS_CHANNEL_OPTION_ENCRYPT_RDP 0x40000000u
#define WS_CHANNEL_OPTION_COMPRESS_RDP 0x00800000u
#define WS_CHANNEL_OPTION_SHOW_PROTOCOL 0x00200000u

/* TS_UD_CS_CORE block lengths (header included) at which its optional fields end:
 * a decoded block has the fields that end at or before its `length`. */
#define WS_GCC_CORE_LEN_BASE 132              /* through imeFileName: the mandatory part */
#define WS_GCC_CORE_LEN_POST_BETA2 134        /* postBeta2ColorDepth */
#define WS_GCC_CORE_LEN_PRODUCT_ID 136        /* clientProductId */
#define WS_GCC_CORE_LEN_SERIAL 140            /* serialNumber */
#define WS_GCC_CORE_LEN_HIGH_COLOR 142        /* highColorDepth */
#define WS_GCC_CORE_LEN_SUPPORTED_DEPTHS 144  /* supportedColorDepths */
#define WS_GCC_CORE_LEN_EARLY_CAPS 146        /* earlyCapabilityFlags */
#define WS_GCC_CORE_LEN_DIG_PRODUCT_ID 210    /* clientDigProductId (64 bytes UTF-16) */
#define WS_GCC_CORE_LEN_CONNECTION_TYPE 211   /* connectionType */
#define WS_GCC_CORE_LEN_PAD 212               /* pad1octet */
#define WS_GCC_CORE_LEN_SELECTED_PROTOCOL 216 /* serverSelectedProtocol */
#define WS_GCC_CORE_LEN_PHYSICAL 224          /* desktopPhysicalWidth, desktopPhysicalHeight */
#define WS_GCC_CORE_LEN_ORIENTATION 226       /* desktopOrientation */
#define WS_GCC_CORE_LEN_FULL 234              /* desktopScaleFactor, deviceScaleFactor */
#define WS_GCC_CORE_LEN_PHYSICAL_WIDTH 220    /* desktopPhysicalWidth alone */
#define WS_GCC_CORE_LEN_DESKTOP_SCALE 230     /* desktopScaleFactor without deviceScaleFactor */
/* The encoder needs `length` to be one of these cut points (else it returns 0). */

/* ---- MCS DomainParameters (T.125 7, BER SEQUENCE of 8 INTEGERs) ---------------------- */

typedef struct ws_mcs_domain_params {
    uint32_t max_channel_ids;
    uint32_t max_user_ids;
    uint32_t max_token_ids;
    uint32_t num_priorities;
    uint32_t min_throughput;
    uint32_t max_height;
    uint32_t max_mcspdu_size;
    uint32_t protocol_version;
} ws_mcs_domain_params;

/* The values FreeRDP 2.11 sends in a Connect-Initial and a server answers with. */
void ws_mcs_domain_params_target(ws_mcs_domain_params *p);  /* 34, 2, 0, 1, 0, 1, 65535, 2 */
void ws_mcs_domain_params_minimum(ws_mcs_domain_params *p); /* 1, 1, 1, 1, 0, 1, 1056, 2 */
void ws_mcs_domain_params_maximum(ws_mcs_domain_params *p); /* 65535, 64535, 65535, 1, 0, 1, 65535, 2 */
void ws_mcs_domain_params_server(ws_mcs_domain_params *p);  /* 34, 3, 0, 1, 0, 1, 65528, 2 */

/* ---- client data blocks (MS-RDPBCGR 2.2.1.3.2-2.2.1.3.6) ---------------------------- */

/* TS_UD_CS_CORE (2.2.1.3.2). Optional fields past `length` are 0. */
typedef struct ws_gcc_client_core {
    uint16_t length;              /* block length, header included: WS_GCC_CORE_LEN_* (encoder: which fields) */
    uint32_t version;             /* WS_RDP_VERSION_* */
    uint16_t desktop_width;
    uint16_t desktop_height;
    uint16_t color_depth;         /* WS_RNS_UD_COLOR_8BPP */
    uint16_t sas_sequence;        /* WS_RNS_UD_SAS_DEL */
    uint32_t keyboard_layout;
    uint32_t client_build;
    char client_name[64];         /* UTF-8 of 32 bytes UTF-16LE (15 characters + NUL) */
    uint32_t keyboard_type;
    uint32_t keyboard_subtype;
    uint32_t keyboard_function_key;
    char ime_file_name[128];      /* UTF-8 of 64 bytes UTF-16LE */
    uint16_t post_beta2_color_depth;
    uint16_t client_product_id;
    uint32_t serial_number;
    uint16_t high_color_depth;
    uint16_t supported_color_depths;
    uint16_t early_capability_flags;
    char client_dig_product_id[128]; /* UTF-8 of 64 bytes UTF-16LE */
    uint8_t connection_type;
    uint8_t pad1octet;
    uint32_t server_selected_protocol;
    uint32_t desktop_physical_width;
    uint32_t desktop_physical_height;
    uint16_t desktop_orientation;
    uint32_t desktop_scale_factor;
    uint32_t device_scale_factor;
} ws_gcc_client_core;

/* TS_UD_CS_SEC (2.2.1.3.3) */
typedef struct ws_gcc_client_security {
    uint32_t encryption_methods;
    uint32_t ext_encryption_methods;
} ws_gcc_client_security;

/* CHANNEL_DEF (2.2.1.3.4.1) */
typedef struct ws_gcc_channel_def {
    char name[WS_MCS_CHANNEL_NAME_MAX + 1]; /* cut at the first NUL of the 8 bytes */
    uint32_t options;
} ws_gcc_channel_def;

/* TS_UD_CS_NET (2.2.1.3.4) */
typedef struct ws_gcc_client_net {
    uint32_t channel_count; /* <= WS_MCS_CHANNELS_MAX */
    ws_gcc_channel_def channels[WS_MCS_CHANNELS_MAX];
} ws_gcc_client_net;

/* TS_UD_CS_CLUSTER (2.2.1.3.5) */
typedef struct ws_gcc_client_cluster {
    uint32_t flags;
    uint32_t redirected_session_id;
} ws_gcc_client_cluster;

/* The client data blocks of a Conference Create Request. CS_CORE is required; the
 * decoder keeps CS_SECURITY, CS_NET, CS_CLUSTER, CS_MCS_MSGCHANNEL and CS_MULTITRANSPORT
 * and skips others (CS_MONITOR, CS_MONITOR_EX, unknown) after checking their lengths.
 * The encoder writes core, cluster, security, net, msgchannel, multitransport (FreeRDP's
 * order), each when its has_ flag is set (core always). */
typedef struct ws_gcc_client_data {
    ws_gcc_client_core core;
    int has_cluster;
    ws_gcc_client_cluster cluster;
    int has_security;
    ws_gcc_client_security security;
    int has_net;
    ws_gcc_client_net net;
    int has_msgchannel;
    uint32_t msgchannel_flags;    /* TS_UD_CS_MCS_MSGCHANNEL (2.2.1.3.7) */
    int has_multitransport;
    uint32_t multitransport_flags; /* TS_UD_CS_MULTITRANSPORT (2.2.1.3.8) */
    unsigned skipped_blocks;      /* blocks skipped by the decoder */
} ws_gcc_client_data;

/* What FreeRDP 2.11's xfreerdp (Debian 2.11.7, default options) sends for a desktop of
 * width x height after negotiating selected_protocol, checked against a capture of it
 * (tests/unit/test_mcs.c): CS_CORE of 234 bytes (version 10.7 = 0x0008000C, keyboard
 * layout 0x409, build 18363, keyboard type 4 with 12 function keys, highColorDepth 24,
 * supportedColorDepths 0x0F, earlyCapabilityFlags 0x05E3 = ERRINFO | WANT_32BPP |
 * VALID_CONNECTION_TYPE | MONITOR_LAYOUT | NETWORK_AUTODETECT | DYNVC_GFX | HEARTBEAT,
 * connectionType 7 = autodetect), CS_CLUSTER (REDIRECTION_SUPPORTED | version 4 << 2 =
 * 0x0D), CS_SECURITY (methods 0 under TLS) and no channels: add them with
 * ws_gcc_client_data_freerdp_channels or by hand (FreeRDP omits CS_NET when it has no
 * channel). FreeRDP adds CS_MCS_MSGCHANNEL and CS_MULTITRANSPORT (flags 0) only when the
 * server's RDP_NEG_RSP had EXTENDED_CLIENT_DATA_SUPPORTED: callers set has_msgchannel
 * and has_multitransport then. */
void ws_gcc_client_data_freerdp(ws_gcc_client_data *d, uint16_t width, uint16_t height, const char *client_name,
                                uint32_t selected_protocol);

/* xfreerdp 2.11's default static channels, in its order: rdpdr (0xC0800000), rdpsnd
 * (0xC0000000), cliprdr (0xC0A00000), drdynvc (0xC0800000); sets has_net. */
void ws_gcc_client_data_freerdp_channels(ws_gcc_client_data *d);

/* Blocks alone (the userData of the GCC request). */
int ws_gcc_client_data_decode(const uint8_t *buf, size_t len, ws_gcc_client_data *out, ws_error *e);
size_t ws_gcc_client_data_encode(const ws_gcc_client_data *in, uint8_t *out, size_t cap);

/* ---- server data blocks (MS-RDPBCGR 2.2.1.4.2-2.2.1.4.4) --------------------------- */

/* TS_UD_SC_CORE (2.2.1.4.2): 8, 12 or 16 bytes. */
typedef struct ws_gcc_server_core {
    uint32_t version; /* WS_RDP_VERSION_5_PLUS */
    int has_client_requested_protocols;
    uint32_t client_requested_protocols;
    int has_early_capability_flags;   /* requires has_client_requested_protocols */
    uint32_t early_capability_flags;  /* WS_RNS_UD_SC_* */
} ws_gcc_server_core;

/* TS_UD_SC_SEC1 (2.2.1.4.3): under TLS method 0 and level 0 and nothing else (12 bytes).
 * The decoder skips a server random and certificate after checking their lengths. */
typedef struct ws_gcc_server_security {
    uint32_t encryption_method;
    uint32_t encryption_level;
    uint32_t server_random_len; /* decoder only: 0 unless method/level are not 0 */
    uint32_t server_cert_len;
} ws_gcc_server_security;

/* TS_UD_SC_NET (2.2.1.4.4): padded to a multiple of 4 bytes when channel_count is odd. */
typedef struct ws_gcc_server_net {
    uint16_t mcs_channel_id; /* WS_MCS_GLOBAL_CHANNEL_ID */
    uint16_t channel_count;  /* <= WS_MCS_CHANNELS_MAX */
    uint16_t channel_ids[WS_MCS_CHANNELS_MAX];
} ws_gcc_server_net;

/* The server data blocks of a Conference Create Response: SC_CORE, SC_SECURITY and
 * SC_NET, all three required by the decoder (in any order) and written as Windows and
 * FreeRDP order them: SC_CORE, SC_NET, SC_SECURITY. Others (SC_MCS_MSGCHANNEL,
 * SC_MULTITRANSPORT, unknown) are skipped. The encoder writes SC_SECURITY only with
 * method and level 0 (12 bytes), else returns 0. */
typedef struct ws_gcc_server_data {
    ws_gcc_server_core core;
    ws_gcc_server_security security;
    ws_gcc_server_net net;
    unsigned skipped_blocks;
} ws_gcc_server_data;

/* A host's answer to the client's blocks: version 0x00080004, clientRequestedProtocols =
 * requested_protocols (from the X.224 CR), the given earlyCapabilityFlags, method and
 * level 0, MCSChannelId 1003 and one id per client channel from 1004. The user id the
 * host then gives in the Attach User Confirm must not collide with these: Windows and
 * FreeRDP's server use the next id, 1004 + channel count (1008 for xfreerdp's four). */
void ws_gcc_server_data_for(ws_gcc_server_data *d, const ws_gcc_client_data *client, uint32_t requested_protocols,
                            uint32_t early_capability_flags);

int ws_gcc_server_data_decode(const uint8_t *buf, size_t len, ws_gcc_server_data *out, ws_error *e);
size_t ws_gcc_server_data_encode(const ws_gcc_server_data *in, uint8_t *out, size_t cap);

/* ---- MCS Connect-Initial (2.2.1.3, T.125 [APPLICATION 101], T.124 Conference Create
 * Request with H.221 key "Duca") -------------------------------------------------------- */

typedef struct ws_mcs_connect_initial {
    uint8_t calling_domain[WS_MCS_DOMAIN_SELECTOR_MAX]; /* FreeRDP: one byte 0x01 */
    size_t calling_domain_len;
    uint8_t called_domain[WS_MCS_DOMAIN_SELECTOR_MAX];  /* FreeRDP: one byte 0x01 */
    size_t called_domain_len;
    int upward_flag; /* TRUE (1) */
    ws_mcs_domain_params target, minimum, maximum;
    ws_gcc_client_data data;
} ws_mcs_connect_initial;

/* FreeRDP's envelope (selectors 0x01, upward TRUE, the three parameter sets) around d. */
void ws_mcs_connect_initial_init(ws_mcs_connect_initial *ci, const ws_gcc_client_data *d);

/* Decoders of Connect-Initial and Connect-Response take the X.224 Data payload (the
 * bytes after 02 F0 80), exactly one PDU. Encoders write the payload only: wrap it with
 * ws_x224_data_encode, or use the *_tpkt variants that write the whole TPKT. */
int ws_mcs_connect_initial_decode(const uint8_t *buf, size_t len, ws_mcs_connect_initial *out, ws_error *e);
size_t ws_mcs_connect_initial_encode(const ws_mcs_connect_initial *in, uint8_t *out, size_t cap);
size_t ws_mcs_connect_initial_encode_tpkt(const ws_mcs_connect_initial *in, uint8_t *out, size_t cap);

/* ---- MCS Connect-Response (2.2.1.4, T.125 [APPLICATION 102], T.124 Conference Create
 * Response with H.221 key "McDn") ------------------------------------------------------- */

typedef struct ws_mcs_connect_response {
    uint8_t result;              /* WS_MCS_RESULT_SUCCESSFUL */
    uint32_t called_connect_id;  /* 0 */
    ws_mcs_domain_params params; /* ws_mcs_domain_params_server */
    uint16_t node_id;            /* GCC nodeID: 0x79F3 (31219) from Windows and FreeRDP; clients ignore it */
    uint32_t tag;                /* GCC tag, 1 */
    uint8_t gcc_result;          /* GCC result, 0 (success) */
    ws_gcc_server_data data;
} ws_mcs_connect_response;

/* result 0, calledConnectId 0, the server domain parameters, nodeID 0x79F3, tag 1 around d.
 * With result != 0 the encoder writes the result alone (MS-RDPBCGR 3.3.5.3.3.1) and the
 * decoder accepts that form, leaving the rest 0. */
void ws_mcs_connect_response_init(ws_mcs_connect_response *cr, const ws_gcc_server_data *d);

int ws_mcs_connect_response_decode(const uint8_t *buf, size_t len, ws_mcs_connect_response *out, ws_error *e);
size_t ws_mcs_connect_response_encode(const ws_mcs_connect_response *in, uint8_t *out, size_t cap);
size_t ws_mcs_connect_response_encode_tpkt(const ws_mcs_connect_response *in, uint8_t *out, size_t cap);

/* ---- MCS Domain PDUs (2.2.1.5-2.2.1.9, 2.2.8.1.1.1.1; T.125 ALIGNED PER) -------------
 * Decoders take the X.224 Data payload holding exactly one PDU (trailing bytes are an
 * error) and check its type. User ids (initiator) are real ids (>= 1001) in the structs;
 * the wire carries id - 1001. Encoders write the MCS PDU only. */

/* The Domain PDU type of buf (WS_MCS_*, first byte >> 2), or -1 when len is 0. */
int ws_mcs_domain_pdu_type(const uint8_t *buf, size_t len);
/* "Attach User Confirm", "Send Data Request", ... or "unknown". */
const char *ws_mcs_domain_pdu_name(int type);

/* Erect Domain Request (2.2.1.5): 04 01 00 01 00 from FreeRDP and Windows. */
typedef struct ws_mcs_erect_domain {
    uint32_t sub_height;
    uint32_t sub_interval;
} ws_mcs_erect_domain;
int ws_mcs_erect_domain_decode(const uint8_t *buf, size_t len, ws_mcs_erect_domain *out, ws_error *e);
size_t ws_mcs_erect_domain_encode(const ws_mcs_erect_domain *in, uint8_t *out, size_t cap);

/* Disconnect Provider Ultimatum (2.2.2.3 / T.125): 2 bytes, e.g. 21 80 for user-requested. */
int ws_mcs_disconnect_ultimatum_decode(const uint8_t *buf, size_t len, uint8_t *reason, ws_error *e);
size_t ws_mcs_disconnect_ultimatum_encode(uint8_t reason, uint8_t *out, size_t cap);

/* Attach User Request (2.2.1.6): the single byte 28. */
int ws_mcs_attach_user_request_decode(const uint8_t *buf, size_t len, ws_error *e);
size_t ws_mcs_attach_user_request_encode(uint8_t *out, size_t cap);

/* Attach User Confirm (2.2.1.7): 2E result initiator(u16 BE), or 2C result without one. */
typedef struct ws_mcs_attach_user_confirm {
    uint8_t result;
    int has_initiator;
    uint16_t initiator; /* the user id, e.g. 1007 */
} ws_mcs_attach_user_confirm;
int ws_mcs_attach_user_confirm_decode(const uint8_t *buf, size_t len, ws_mcs_attach_user_confirm *out,
                                      ws_error *e);
size_t ws_mcs_attach_user_confirm_encode(const ws_mcs_attach_user_confirm *in, uint8_t *out, size_t cap);

/* Channel Join Request (2.2.1.8): 38 initiator channelId. */
typedef struct ws_mcs_channel_join_request {
    uint16_t initiator;
    uint16_t channel_id;
} ws_mcs_channel_join_request;
int ws_mcs_channel_join_request_decode(const uint8_t *buf, size_t len, ws_mcs_channel_join_request *out,
                                       ws_error *e);
size_t ws_mcs_channel_join_request_encode(const ws_mcs_channel_join_request *in, uint8_t *out, size_t cap);

/* Channel Join Confirm (2.2.1.9): 3E result initiator requested channelId, or 3C without
 * channelId. */
typedef struct ws_mcs_channel_join_confirm {
    uint8_t result;
    uint16_t initiator;
    uint16_t requested;
    int has_channel_id;
    uint16_t channel_id;
} ws_mcs_channel_join_confirm;
int ws_mcs_channel_join_confirm_decode(const uint8_t *buf, size_t len, ws_mcs_channel_join_confirm *out,
                                       ws_error *e);
size_t ws_mcs_channel_join_confirm_encode(const ws_mcs_channel_join_confirm *in, uint8_t *out, size_t cap);

/* Send Data Request (type 25, client -> server) and Indication (26, server -> client)
 * (2.2.8.1.1.1.1 and the slow-path PDUs of 2.2.1.10 on): initiator, channelId,
 * dataPriority/segmentation (0x70), PER length (1 byte below 128, else 2), userData. */
typedef struct ws_mcs_send_data {
    uint16_t initiator;
    uint16_t channel_id;
    uint8_t flags;           /* WS_MCS_DATA_PRIORITY_FLAGS */
    const uint8_t *data;     /* decoder: points into the buffer given */
    size_t len;
} ws_mcs_send_data;
/* type is WS_MCS_SEND_DATA_REQUEST or WS_MCS_SEND_DATA_INDICATION. */
int ws_mcs_send_data_decode(int type, const uint8_t *buf, size_t len, ws_mcs_send_data *out, ws_error *e);
/* Header bytes before userData: 7 when len < 128, else 8. */
size_t ws_mcs_send_data_header_len(size_t len);
/* Writes header + userData (in->data may point into out at offset header_len: the
 * copy is a memmove). len <= WS_MCS_SEND_DATA_MAX. */
size_t ws_mcs_send_data_encode(int type, const ws_mcs_send_data *in, uint8_t *out, size_t cap);
/* The same inside a whole TPKT + X.224 Data header. */
size_t ws_mcs_send_data_encode_tpkt(int type, const ws_mcs_send_data *in, uint8_t *out, size_t cap);

#endif
