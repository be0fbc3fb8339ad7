/* SPDX-License-Identifier: Apache-2.0 */
/* rdppdu: the RDP PDUs after the MCS layer (MS-RDPBCGR): Client Info, licensing, Demand/Confirm Active with
 * their capability sets, the finalization and data PDUs, slow-path and fast-path bitmap updates and input.
 * Shared by the host's RDP server and wapsim's client. All little-endian unless said.
 *
 * Where the bytes travel: Client Info and licensing PDUs start with the basic security header and are the
 * userData of an MCS Send Data Request/Indication; Share Control PDUs (Demand Active, Confirm Active, data
 * PDUs) are that userData themselves (under TLS with encryption level 0 there is no security header on them);
 * fast-path PDUs are sent directly in the TLS stream (first byte's low 2 bits 0, where a TPKT starts 0x03).
 *
 * Conventions: a decoder takes the bytes of one PDU, checks every length against len, fills *out and returns 0,
 * or returns -1 with e naming the PDU and the field. A Share Control decoder reads only totalLength bytes
 * (bytes after them are ignored: use ws_pdu_peek to walk several PDUs in one userData). Decoders that take a
 * ws_pdu_hdr *hdr fill it when it is not NULL. An encoder returns the bytes written, or 0 when cap is too
 * small or the input cannot be encoded (a length over its field). Decoded bitmap data points into the input. */
#ifndef WAPSIM_RDPPDU_H
#define WAPSIM_RDPPDU_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* ---- Basic security header (2.2.8.1.1.2.1) ---- */
#define WS_PDU_SEC_EXCHANGE_PKT 0x0001
#define WS_PDU_SEC_ENCRYPT 0x0008
#define WS_PDU_SEC_INFO_PKT 0x0040
#define WS_PDU_SEC_LICENSE_PKT 0x0080
#define WS_PDU_SEC_HEADER_LEN 4

/* ---- Share Control Header pduType (2.2.8.1.1.1.1), low 4 bits; the wire value is | 0x10 ---- */
#define WS_PDU_TYPE_DEMANDACTIVE 0x1
#define WS_PDU_TYPE_CONFIRMACTIVE 0x3
#define WS_PDU_TYPE_DEACTIVATEALL 0x6
#define WS_PDU_TYPE_DATA 0x7
#define WS_PDU_TYPE_SERVER_REDIR 0xA
#define WS_PDU_PROTOCOL_VERSION 0x10
#define WS_PDU_SHARE_CONTROL_LEN 6
#define WS_PDU_SHARE_DATA_LEN 12 /* after the Share Control Header */

/* ---- Share Data Header pduType2 (2.2.8.1.1.1.2) ---- */
#define WS_PDU2_UPDATE 0x02
#define WS_PDU2_CONTROL 0x14
#define WS_PDU2_POINTER 0x1B
#define WS_PDU2_INPUT 0x1C
#define WS_PDU2_SYNCHRONIZE 0x1F
#define WS_PDU2_REFRESH_RECT 0x21
#define WS_PDU2_PLAY_SOUND 0x22
#define WS_PDU2_SUPPRESS_OUTPUT 0x23
#define WS_PDU2_SHUTDOWN_REQUEST 0x24
#define WS_PDU2_SHUTDOWN_DENIED 0x25
#define WS_PDU2_SAVE_SESSION_INFO 0x26
#define WS_PDU2_FONTLIST 0x27
#define WS_PDU2_FONTMAP 0x28
#define WS_PDU2_SET_KEYBOARD_INDICATORS 0x29
#define WS_PDU2_BITMAPCACHE_PERSISTENT_LIST 0x2B
#define WS_PDU2_BITMAPCACHE_ERROR_PDU 0x2C
#define WS_PDU2_SET_KEYBOARD_IME_STATUS 0x2D
#define WS_PDU2_OFFSCRCACHE_ERROR_PDU 0x2E
#define WS_PDU2_SET_ERROR_INFO 0x2F
#define WS_PDU2_DRAWNINEGRID_ERROR_PDU 0x30
#define WS_PDU2_DRAWGDIPLUS_ERROR_PDU 0x31
#define WS_PDU2_ARC_STATUS_PDU 0x32
#define WS_PDU2_STATUS_INFO_PDU 0x36
#define WS_PDU2_MONITOR_LAYOUT_PDU 0x37
#define WS_PDU2_FRAME_ACKNOWLEDGE 0x38 /* MS-RDPRFX */

#define WS_PDU_STREAM_LOW 0x01
#define WS_PDU_PACKET_COMPRESSED 0x20 /* compressedType bit: refused, compression is never negotiated */

/* The usual channel numbers: the server's MCS channel is the pduSource of its PDUs; Windows' shareId is
 * 0x10000 + the client's user channel. */
#define WS_PDU_SERVER_CHANNEL_ID 0x03EA

/* Largest Share Control PDU that fits one TPKT with its X.224 (3) and MCS Send Data (at most 8) headers. */
#define WS_PDU_SLOWPATH_MAX 65520
/* Largest fast-path PDU (15-bit length). */
#define WS_PDU_FASTPATH_MAX 0x7FFF

/* ---- Client Info PDU (2.2.1.11.1.1) flags ---- */
#define WS_PDU_INFO_MOUSE 0x00000001u
#define WS_PDU_INFO_DISABLECTRLALTDEL 0x00000002u
#define WS_PDU_INFO_AUTOLOGON 0x00000008u
#define WS_PDU_INFO_UNICODE 0x00000010u
#define WS_PDU_INFO_MAXIMIZESHELL 0x00000020u
#define WS_PDU_INFO_LOGONNOTIFY 0x00000040u
#define WS_PDU_INFO_COMPRESSION 0x00000080u
#define WS_PDU_INFO_ENABLEWINDOWSKEY 0x00000100u
#define WS_PDU_INFO_REMOTECONSOLEAUDIO 0x00002000u
#define WS_PDU_INFO_FORCE_ENCRYPTED_CS_PDU 0x00004000u
#define WS_PDU_INFO_RAIL 0x00008000u
#define WS_PDU_INFO_LOGONERRORS 0x00010000u
#define WS_PDU_INFO_MOUSE_HAS_WHEEL 0x00020000u
#define WS_PDU_INFO_PASSWORD_IS_SC_PIN 0x00040000u
#define WS_PDU_INFO_NOAUDIOPLAYBACK 0x00080000u
#define WS_PDU_INFO_USING_SAVED_CREDS 0x00100000u
#define WS_PDU_INFO_AUDIOCAPTURE 0x00200000u
#define WS_PDU_INFO_VIDEO_DISABLE 0x00400000u
#define WS_PDU_INFO_HIDEF_RAIL_SUPPORTED 0x02000000u

#define WS_PDU_INFO_STRING_MAX 512 /* largest cbDomain, cbUserName, ... accepted (bytes, without the NUL) */

/* Client Info PDU (2.2.1.11.1.1): the security header (SEC_INFO_PKT) and TS_INFO_PACKET (2.2.1.11.1.1.1) with
 * the optional TS_EXTENDED_INFO_PACKET (2.2.1.11.1.1.1). Strings are UTF-8 here; on the wire UTF-16LE when
 * INFO_UNICODE is set (the encoder always sets it), else 8-bit (decoded as ASCII, other bytes as '?').
 * Decoding refuses a cb over 512, odd UTF-16 lengths, invalid UTF-16 and strings over 255 bytes of UTF-8 in the
 * five main fields; client_address and client_dir are informative: their lengths are checked (80, 512 bytes)
 * but text that does not convert or fit is left empty. Each extended field is either absent or whole; what
 * follows the auto-reconnect cookie (reserved fields, dynamic DST) is ignored. */
typedef struct ws_pdu_client_info {
    uint32_t code_page;
    uint32_t flags; /* WS_PDU_INFO_* */
    char domain[256];
    char user[256];
    char password[256];
    char alternate_shell[256];
    char working_dir[256];
    /* Extended info (RDP 5.0+): decoded when present, each later field only when the bytes are there. */
    int has_extended;
    uint16_t client_address_family; /* AF_INET 0x0002, AF_INET6 0x0017 */
    char client_address[128];
    char client_dir[256];
    int has_session_id;
    uint32_t client_session_id;
    int has_performance_flags;
    uint32_t performance_flags;
} ws_pdu_client_info;

int ws_pdu_decode_client_info(const uint8_t *p, size_t len, ws_pdu_client_info *out, ws_error *e);
/* Always writes INFO_UNICODE and the extended info (clientAddressFamily 0 as AF_INET, client_address at most 39
 * UTF-16 units, zero time zone, no auto-reconnect cookie). 0 also for invalid or unterminated UTF-8. */
size_t ws_pdu_encode_client_info(const ws_pdu_client_info *in, uint8_t *out, size_t cap);

/* ---- Licensing (MS-RDPBCGR 2.2.1.12, MS-RDPELE 2.2.2) ---- */
#define WS_PDU_LICENSE_REQUEST 0x01
#define WS_PDU_LICENSE_PLATFORM_CHALLENGE 0x02
#define WS_PDU_LICENSE_NEW_LICENSE 0x03
#define WS_PDU_LICENSE_UPGRADE_LICENSE 0x04
#define WS_PDU_LICENSE_INFO 0x12
#define WS_PDU_LICENSE_NEW_LICENSE_REQUEST 0x13
#define WS_PDU_LICENSE_PLATFORM_CHALLENGE_RESPONSE 0x15
#define WS_PDU_LICENSE_ERROR_ALERT 0xFF
#define WS_PDU_LICENSE_STATUS_VALID_CLIENT 0x00000007u
#define WS_PDU_LICENSE_ST_NO_TRANSITION 0x00000002u
#define WS_PDU_LICENSE_BB_ERROR_BLOB 0x0004

/* The server's "valid client" License Error PDU (2.2.1.12.1.1 with 2.2.1.12.1.3): 20 bytes. */
#define WS_PDU_LICENSE_VALID_CLIENT_LEN 20
extern const uint8_t ws_pdu_license_valid_client[WS_PDU_LICENSE_VALID_CLIENT_LEN];

typedef struct ws_pdu_license {
    uint16_t sec_flags;      /* security header flags (has SEC_LICENSE_PKT) */
    uint8_t msg_type;        /* bMsgType: WS_PDU_LICENSE_* */
    uint8_t flags;           /* preamble flags: version (low 4 bits), EXTENDED_ERROR_MSG_SUPPORTED 0x80 */
    uint16_t msg_size;       /* wMsgSize */
    /* ERROR_ALERT only: */
    uint32_t error_code;
    uint32_t state_transition;
    uint16_t blob_type;
    uint16_t blob_len;
    int valid_client; /* 1 when ERROR_ALERT with STATUS_VALID_CLIENT and ST_NO_TRANSITION */
} ws_pdu_license;

/* Any licensing PDU: the preamble is checked and ERROR_ALERT is decoded; other messages are reported by
 * msg_type with valid_client 0 (the client side then knows the server wants real licensing). */
int ws_pdu_decode_license(const uint8_t *p, size_t len, ws_pdu_license *out, ws_error *e);
size_t ws_pdu_encode_license_valid_client(uint8_t *out, size_t cap);

/* ---- Share Control / Share Data headers (2.2.8.1.1.1.1, 2.2.8.1.1.1.2) ---- */

/* What a PDU's headers say. */
typedef struct ws_pdu_hdr {
    uint16_t total_length;
    uint16_t pdu_type;   /* low 4 bits: WS_PDU_TYPE_* */
    uint16_t version;    /* the high bits of the pduType field (0x10) */
    uint16_t pdu_source;
    /* WS_PDU_TYPE_DATA only (zero otherwise): */
    uint32_t share_id;
    uint8_t stream_id;
    uint16_t uncompressed_length;
    uint8_t pdu_type2; /* WS_PDU2_* */
    uint8_t compressed_type;
    uint16_t compressed_length;
    uint16_t body_offset; /* where the PDU's own fields start: 6, or 18 for a data PDU */
} ws_pdu_hdr;

/* Reads the Share Control Header (and the Share Data Header for a data PDU) of the Share Control PDU at p:
 * totalLength between the headers' size and len, not a flow PDU (0x8000), not compressed. */
int ws_pdu_peek(const uint8_t *p, size_t len, ws_pdu_hdr *out, ws_error *e);

/* What an encoder needs for the headers. */
typedef struct ws_pdu_share {
    uint16_t pdu_source; /* server: WS_PDU_SERVER_CHANNEL_ID; client: its MCS user channel */
    uint32_t share_id;   /* the Demand Active's shareId */
} ws_pdu_share;

/* A data PDU (pduType 0x7) around body: totalLength, uncompressedLength = body_len (the bytes after the Share
 * Data Header, as FreeRDP writes it; Windows' values vary and no reader checks it), streamId STREAM_LOW, no
 * compression. Every data PDU encoder here writes its headers this way. */
size_t ws_pdu_encode_data(const ws_pdu_share *sh, uint8_t pdu_type2, const uint8_t *body, size_t body_len,
                          uint8_t *out, size_t cap);

/* "SYNCHRONIZE" for a pduType2, or "unknown". */
const char *ws_pdu_type2_name(uint8_t pdu_type2);

/* ---- Capability sets (2.2.7) ---- */
#define WS_PDU_CAPSET_GENERAL 0x0001
#define WS_PDU_CAPSET_BITMAP 0x0002
#define WS_PDU_CAPSET_ORDER 0x0003
#define WS_PDU_CAPSET_BITMAPCACHE 0x0004
#define WS_PDU_CAPSET_CONTROL 0x0005
#define WS_PDU_CAPSET_ACTIVATION 0x0007
#define WS_PDU_CAPSET_POINTER 0x0008
#define WS_PDU_CAPSET_SHARE 0x0009
#define WS_PDU_CAPSET_COLORCACHE 0x000A
#define WS_PDU_CAPSET_SOUND 0x000C
#define WS_PDU_CAPSET_INPUT 0x000D
#define WS_PDU_CAPSET_FONT 0x000E
#define WS_PDU_CAPSET_BRUSH 0x000F
#define WS_PDU_CAPSET_GLYPHCACHE 0x0010
#define WS_PDU_CAPSET_OFFSCREENCACHE 0x0011
#define WS_PDU_CAPSET_BITMAPCACHE_HOSTSUPPORT 0x0012
#define WS_PDU_CAPSET_BITMAPCACHE_REV2 0x0013
#define WS_PDU_CAPSET_VIRTUALCHANNEL 0x0014
#define WS_PDU_CAPSET_DRAWNINEGRIDCACHE 0x0015
#define WS_PDU_CAPSET_DRAWGDIPLUS 0x0016
#define WS_PDU_CAPSET_RAIL 0x0017
#define WS_PDU_CAPSET_WINDOW 0x0018
#define WS_PDU_CAPSET_COMPDESK 0x0019
#define WS_PDU_CAPSET_MULTIFRAGMENTUPDATE 0x001A
#define WS_PDU_CAPSET_LARGE_POINTER 0x001B
#define WS_PDU_CAPSET_SURFACE_COMMANDS 0x001C
#define WS_PDU_CAPSET_BITMAP_CODECS 0x001D
#define WS_PDU_CAPSET_FRAME_ACKNOWLEDGE 0x001E
#define WS_PDU_CAPSET_BIT(type) (1u << (type)) /* bit of ws_pdu_caps.present for a type < 32 */

#define WS_PDU_CAPS_MAX 64 /* numberCapabilities accepted */

/* General capability extraFlags (2.2.7.1.1) */
#define WS_PDU_FASTPATH_OUTPUT_SUPPORTED 0x0001
#define WS_PDU_NO_BITMAP_COMPRESSION_HDR 0x0400
#define WS_PDU_LONG_CREDENTIALS_SUPPORTED 0x0004
#define WS_PDU_AUTORECONNECT_SUPPORTED 0x0008
#define WS_PDU_ENC_SALTED_CHECKSUM 0x0010
/* Order capability orderFlags (2.2.7.1.3) */
#define WS_PDU_NEGOTIATEORDERSUPPORT 0x0002
#define WS_PDU_ZEROBOUNDSDELTASSUPPORT 0x0008
#define WS_PDU_COLORINDEXSUPPORT 0x0020
#define WS_PDU_SOLIDPATTERNBRUSHONLY 0x0040
#define WS_PDU_ORDERFLAGS_EXTRA_FLAGS 0x0080
/* Input capability inputFlags (2.2.7.1.6) */
#define WS_PDU_INPUT_FLAG_SCANCODES 0x0001
#define WS_PDU_INPUT_FLAG_MOUSEX 0x0004
#define WS_PDU_INPUT_FLAG_FASTPATH_INPUT 0x0008
#define WS_PDU_INPUT_FLAG_UNICODE 0x0010
#define WS_PDU_INPUT_FLAG_FASTPATH_INPUT2 0x0020
#define WS_PDU_INPUT_FLAG_UNUSED1 0x0040
#define WS_PDU_INPUT_FLAG_UNUSED2 0x0080
#define WS_PDU_TS_INPUT_FLAG_MOUSE_HWHEEL 0x0100
#define WS_PDU_TS_INPUT_FLAG_QOE_TIMESTAMPS 0x0200
/* Font capability (2.2.7.2.5) */
#define WS_PDU_FONTSUPPORT_FONTLIST 0x0001

/* The capability sets this module reads and writes, one field per value that matters; the encoders write
 * every set whose bit is in present, in ascending type order, with fixed neutral contents for the sets without
 * fields here (BitmapCache rev1, Control, Activation, ColorCache, Sound, Brush, GlyphCache, OffscreenCache);
 * other types in present are not written. Decoders walk every set with bounds, fill the fields of the known
 * ones (each at least its spec length) and skip the rest. */
typedef struct ws_pdu_caps {
    uint32_t present;   /* WS_PDU_CAPSET_BIT(type) of every set seen (decode) or to write (encode) */
    uint16_t num_sets;  /* decode: numberCapabilities */
    /* General (2.2.7.1.1) */
    uint16_t os_major, os_minor;
    uint16_t protocol_version; /* 0x0200 */
    uint16_t extra_flags;      /* WS_PDU_FASTPATH_OUTPUT_SUPPORTED ... */
    uint8_t refresh_rect_support, suppress_output_support;
    /* Bitmap (2.2.7.1.2) */
    uint16_t preferred_bpp;
    uint16_t desktop_width, desktop_height;
    uint16_t desktop_resize_flag;
    uint8_t drawing_flags;
    /* Order (2.2.7.1.3) */
    uint16_t order_flags;
    uint8_t order_support[32];
    /* Pointer (2.2.7.1.5) */
    uint16_t color_pointer_flag, color_pointer_cache_size, pointer_cache_size;
    /* Input (2.2.7.1.6) */
    uint16_t input_flags;
    uint32_t keyboard_layout, keyboard_type, keyboard_subtype, keyboard_function_keys;
    /* VirtualChannel (2.2.7.1.10) */
    uint32_t vc_flags, vc_chunk_size;
    /* Share (2.2.7.2.4) */
    uint16_t share_node_id;
    /* Font (2.2.7.2.5) */
    uint16_t font_support_flags;
    /* MultifragmentUpdate (2.2.7.2.6) */
    uint32_t multifrag_max_request_size;
    /* LargePointer (2.2.7.2.7) */
    uint16_t large_pointer_flags;
} ws_pdu_caps;

/* The server's set for the Demand Active: General (extraFlags FASTPATH_OUTPUT_SUPPORTED |
 * LONG_CREDENTIALS_SUPPORTED | NO_BITMAP_COMPRESSION_HDR), Bitmap (32 bpp, width x height, no resize), Order
 * (NEGOTIATEORDERSUPPORT | ZEROBOUNDSDELTASSUPPORT, no orders), Pointer, Input (SCANCODES | MOUSEX | UNICODE |
 * FASTPATH_INPUT | FASTPATH_INPUT2), VirtualChannel, Share, Font, MultifragmentUpdate (8 MiB). */
void ws_pdu_caps_server_default(ws_pdu_caps *c, uint16_t width, uint16_t height);
/* A client's set for the Confirm Active, like FreeRDP's: General (FASTPATH_OUTPUT_SUPPORTED ...), Bitmap,
 * Order, BitmapCache, Pointer, Input, Brush, GlyphCache, OffscreenCache, VirtualChannel, Sound, Control,
 * Activation, Share, Font, MultifragmentUpdate. */
void ws_pdu_caps_client_default(ws_pdu_caps *c, uint16_t width, uint16_t height);

/* Demand Active PDU (2.2.1.13.1, pduType 0x1). */
typedef struct ws_pdu_demand_active {
    uint32_t share_id;
    char source_descriptor[48]; /* "RDP"; decoded with non-printable bytes as '?', cut to fit */
    ws_pdu_caps caps;
    uint32_t session_id; /* decode: 0 when absent */
} ws_pdu_demand_active;

/* Confirm Active PDU (2.2.1.13.2, pduType 0x3). */
typedef struct ws_pdu_confirm_active {
    uint32_t share_id;
    uint16_t originator_id;     /* WS_PDU_SERVER_CHANNEL_ID */
    char source_descriptor[48]; /* "MSTSC" */
    ws_pdu_caps caps;
} ws_pdu_confirm_active;

/* The encoders take pdu_source for the Share Control Header; the shareId is in the structs. */
size_t ws_pdu_encode_demand_active(uint16_t pdu_source, const ws_pdu_demand_active *in, uint8_t *out, size_t cap);
int ws_pdu_decode_demand_active(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_demand_active *out,
                                ws_error *e);
size_t ws_pdu_encode_confirm_active(uint16_t pdu_source, const ws_pdu_confirm_active *in, uint8_t *out,
                                    size_t cap);
int ws_pdu_decode_confirm_active(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_confirm_active *out,
                                 ws_error *e);

/* ---- Finalization and other data PDUs (2.2.1.14 - 2.2.1.22, 2.2.5.1, 2.2.11.2 - 2.2.11.3) ---- */

/* Synchronize (2.2.1.14, pduType2 0x1F). */
#define WS_PDU_SYNCMSGTYPE_SYNC 0x0001
typedef struct ws_pdu_synchronize {
    uint16_t message_type; /* SYNCMSGTYPE_SYNC */
    uint16_t target_user;  /* client: the server channel 1002; server: the client's user channel */
} ws_pdu_synchronize;

/* Control (2.2.1.15, pduType2 0x14). */
#define WS_PDU_CTRLACTION_REQUEST_CONTROL 0x0001
#define WS_PDU_CTRLACTION_GRANTED_CONTROL 0x0002
#define WS_PDU_CTRLACTION_DETACH 0x0003
#define WS_PDU_CTRLACTION_COOPERATE 0x0004
typedef struct ws_pdu_control {
    uint16_t action;
    uint16_t grant_id;   /* GRANTED_CONTROL: the client's user channel; else 0 */
    uint32_t control_id; /* GRANTED_CONTROL: the server channel 1002; else 0 */
} ws_pdu_control;

/* Font List (2.2.1.18, pduType2 0x27) and Font Map (2.2.1.22, pduType2 0x28): the same four u16. */
#define WS_PDU_FONTLIST_FIRST 0x0001
#define WS_PDU_FONTLIST_LAST 0x0002
typedef struct ws_pdu_font {
    uint16_t number;       /* numberFonts / numberEntries: 0 */
    uint16_t total_number; /* totalNumFonts / totalNumEntries: 0 */
    uint16_t flags;        /* FONTLIST_FIRST | FONTLIST_LAST (FONTMAP_ the same values) */
    uint16_t entry_size;   /* Font List 0x0032, Font Map 0x0004 */
} ws_pdu_font;

/* Set Error Info (2.2.5.1.1, pduType2 0x2F). Some ERRINFO codes: */
#define WS_PDU_ERRINFO_NONE 0x00000000u
#define WS_PDU_ERRINFO_RPC_INITIATED_DISCONNECT 0x00000001u
#define WS_PDU_ERRINFO_RPC_INITIATED_LOGOFF 0x00000002u
#define WS_PDU_ERRINFO_IDLE_TIMEOUT 0x00000003u
#define WS_PDU_ERRINFO_LOGON_TIMEOUT 0x00000004u
#define WS_PDU_ERRINFO_DISCONNECTED_BY_OTHERCONNECTION 0x00000005u
#define WS_PDU_ERRINFO_OUT_OF_MEMORY 0x00000006u
#define WS_PDU_ERRINFO_SERVER_DENIED_CONNECTION 0x00000007u
#define WS_PDU_ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES 0x00000009u
#define WS_PDU_ERRINFO_SERVER_FRESH_CREDENTIALS_REQUIRED 0x0000000Au
#define WS_PDU_ERRINFO_RPC_INITIATED_DISCONNECT_BYUSER 0x0000000Bu
#define WS_PDU_ERRINFO_LOGOFF_BY_USER 0x0000000Cu
#define WS_PDU_ERRINFO_CLOSE_STACK_ON_DRIVER_NOT_READY 0x0000000Fu
#define WS_PDU_ERRINFO_SERVER_DWM_CRASH 0x00000010u
#define WS_PDU_ERRINFO_CB_CONNECTION_CANCELLED 0x00000409u
#define WS_PDU_ERRINFO_BAD_CAPABILITIES 0x000010E7u
/* "DISCONNECTED_BY_OTHERCONNECTION" for a code, or "unknown". */
const char *ws_pdu_errinfo_name(uint32_t code);

/* A TS_RECTANGLE16 (2.2.11.1): inclusive bounds. */
typedef struct ws_pdu_rect16 {
    uint16_t left, top, right, bottom;
} ws_pdu_rect16;

/* Refresh Rect (2.2.11.2.1, pduType2 0x21). */
typedef struct ws_pdu_refresh_rect {
    uint8_t count;
    ws_pdu_rect16 areas[255];
} ws_pdu_refresh_rect;

/* Suppress Output (2.2.11.3.1, pduType2 0x23). */
typedef struct ws_pdu_suppress_output {
    uint8_t allow_display_updates; /* 0 suppress, 1 allow (then area is present) */
    ws_pdu_rect16 area;
} ws_pdu_suppress_output;

size_t ws_pdu_encode_synchronize(const ws_pdu_share *sh, const ws_pdu_synchronize *in, uint8_t *out, size_t cap);
int ws_pdu_decode_synchronize(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_synchronize *out, ws_error *e);
size_t ws_pdu_encode_control(const ws_pdu_share *sh, const ws_pdu_control *in, uint8_t *out, size_t cap);
int ws_pdu_decode_control(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_control *out, ws_error *e);
size_t ws_pdu_encode_font_list(const ws_pdu_share *sh, const ws_pdu_font *in, uint8_t *out, size_t cap);
int ws_pdu_decode_font_list(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_font *out, ws_error *e);
size_t ws_pdu_encode_font_map(const ws_pdu_share *sh, const ws_pdu_font *in, uint8_t *out, size_t cap);
int ws_pdu_decode_font_map(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_font *out, ws_error *e);
size_t ws_pdu_encode_set_error_info(const ws_pdu_share *sh, uint32_t error_info, uint8_t *out, size_t cap);
int ws_pdu_decode_set_error_info(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, uint32_t *error_info, ws_error *e);
size_t ws_pdu_encode_refresh_rect(const ws_pdu_share *sh, const ws_pdu_refresh_rect *in, uint8_t *out, size_t cap);
int ws_pdu_decode_refresh_rect(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_refresh_rect *out,
                               ws_error *e);
size_t ws_pdu_encode_suppress_output(const ws_pdu_share *sh, const ws_pdu_suppress_output *in, uint8_t *out,
                                     size_t cap);
int ws_pdu_decode_suppress_output(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_suppress_output *out,
                                  ws_error *e);
/* Shutdown Request (2.2.2.2, 0x24, client) and Shutdown Request Denied (2.2.2.3, 0x25, server): no fields. */
size_t ws_pdu_encode_shutdown_request(const ws_pdu_share *sh, uint8_t *out, size_t cap);
int ws_pdu_decode_shutdown_request(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_error *e);
size_t ws_pdu_encode_shutdown_denied(const ws_pdu_share *sh, uint8_t *out, size_t cap);
int ws_pdu_decode_shutdown_denied(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_error *e);

/* ---- Input (slow-path 2.2.8.1.1.3, fast-path 2.2.8.1.2) ---- */

/* Event types: the slow-path messageType values; fast-path events are decoded into the same. */
#define WS_PDU_INPUT_SYNC 0x0000
#define WS_PDU_INPUT_SCANCODE 0x0004
#define WS_PDU_INPUT_UNICODE 0x0005
#define WS_PDU_INPUT_MOUSE 0x8001
#define WS_PDU_INPUT_MOUSEX 0x8002
/* Keyboard flags, slow-path form (2.2.8.1.1.3.1.1.1); fast-path RELEASE 0x01, EXTENDED 0x02, EXTENDED1 0x04
 * are converted to and from these. */
#define WS_PDU_KBDFLAGS_EXTENDED 0x0100
#define WS_PDU_KBDFLAGS_EXTENDED1 0x0200
#define WS_PDU_KBDFLAGS_DOWN 0x4000
#define WS_PDU_KBDFLAGS_RELEASE 0x8000
/* Sync toggle flags (2.2.8.1.1.3.1.1.5; the fast-path eventFlags use the same low bits) */
#define WS_PDU_TS_SYNC_SCROLL_LOCK 0x01
#define WS_PDU_TS_SYNC_NUM_LOCK 0x02
#define WS_PDU_TS_SYNC_CAPS_LOCK 0x04
#define WS_PDU_TS_SYNC_KANA_LOCK 0x08
/* Pointer flags (2.2.8.1.1.3.1.1.3) */
#define WS_PDU_PTRFLAGS_MOVE 0x0800
#define WS_PDU_PTRFLAGS_DOWN 0x8000
#define WS_PDU_PTRFLAGS_BUTTON1 0x1000
#define WS_PDU_PTRFLAGS_BUTTON2 0x2000
#define WS_PDU_PTRFLAGS_BUTTON3 0x4000
#define WS_PDU_PTRFLAGS_WHEEL 0x0200

#define WS_PDU_INPUT_MAX 64 /* events per PDU accepted */

typedef struct ws_pdu_input_event {
    uint16_t type;          /* WS_PDU_INPUT_* */
    uint16_t flags;         /* SCANCODE/UNICODE: WS_PDU_KBDFLAGS_*; MOUSE/MOUSEX: pointer flags */
    uint16_t code;          /* SCANCODE: the scancode (fast-path: 0-255); UNICODE: the UTF-16 code unit */
    uint16_t x, y;          /* MOUSE/MOUSEX */
    uint32_t toggle_flags;  /* SYNC: WS_PDU_TS_SYNC_* */
    uint32_t event_time;    /* slow-path only (fast-path: 0) */
} ws_pdu_input_event;

typedef struct ws_pdu_input {
    uint16_t count;
    ws_pdu_input_event events[WS_PDU_INPUT_MAX];
} ws_pdu_input;

/* Slow-path Input PDU (2.2.8.1.1.3, pduType2 0x1C): numberEvents, pad, 12-byte TS_INPUT_EVENTs. */
size_t ws_pdu_encode_input(const ws_pdu_share *sh, const ws_pdu_input *in, uint8_t *out, size_t cap);
int ws_pdu_decode_input(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_input *out, ws_error *e);

/* Fast-path framing (2.2.9.1.2 / 2.2.8.1.2): the total length of the fast-path PDU at buf (header byte, 1 or
 * 2 length bytes with 0x80 marking two, big-endian), 0 when more bytes are needed, -1 when buf does not start a
 * fast-path PDU (action bits not 0) or the length is shorter than its own header. */
long ws_pdu_fastpath_length(const uint8_t *buf, size_t len);

/* Fast-path Input PDU (2.2.8.1.2): header (action 0, numEvents in bits 2-5, or in an extra byte when more than
 * 15), length, events code<<5 | flags: SCANCODE (0) + key byte, MOUSE (1) + 6, MOUSEX (2) + 6, SYNC (3),
 * UNICODE (4) + u16. Encrypted PDUs (flags bits) are refused. The encoder writes SYNC toggle flags and
 * keyboard flags in fast-path form; SCANCODE codes over 255 cannot be encoded (0). */
size_t ws_pdu_encode_fastpath_input(const ws_pdu_input *in, uint8_t *out, size_t cap);
int ws_pdu_decode_fastpath_input(const uint8_t *p, size_t len, ws_pdu_input *out, ws_error *e);

/* ---- Bitmap updates (2.2.9.1.1.3.1.2, fast-path 2.2.9.1.2.1.2) ---- */
#define WS_PDU_UPDATETYPE_ORDERS 0x0000
#define WS_PDU_UPDATETYPE_BITMAP 0x0001
#define WS_PDU_UPDATETYPE_PALETTE 0x0002
#define WS_PDU_UPDATETYPE_SYNCHRONIZE 0x0003
#define WS_PDU_BITMAP_COMPRESSION 0x0001 /* TS_BITMAP_DATA flags: the stream is compressed (32 bpp: Planar) */
/* (flags' NO_BITMAP_COMPRESSION_HDR 0x0400 is the General capability's bit of the same name and value) */
#define WS_PDU_BITMAP_DECODED_MAX (1 << 22) /* bytes a compressed rectangle may decode to (1024 x 1024 x 4) */
#define WS_PDU_RECTS_MAX 256
#define WS_PDU_BITMAP_DIM_MAX 4096

/* TS_BITMAP_DATA (2.2.9.1.1.3.1.2.2), 32 bpp, one of:
 *   flags 0: uncompressed, bitmapLength = width * height * 4 (so at most 65535: e.g. 64x64 tiles), rows
 *     bottom-up, 4 bytes per pixel B,G,R,A (or X), no padding;
 *   flags BITMAP_COMPRESSION: data is a Planar stream (wire/planar.h) of length bytes; with
 *     NO_BITMAP_COMPRESSION_HDR nothing else, without it the encoder writes TS_CD_HEADER (2.2.9.1.1.3.1.2.3)
 *     before it and the decoder checks and skips it (data and length are the stream's either way). */
typedef struct ws_pdu_bitmap_rect {
    uint16_t left, top, right, bottom; /* destination, inclusive */
    uint16_t width, height;            /* of the data; right - left + 1 <= width, bottom - top + 1 <= height */
    uint16_t bpp;                      /* 32 */
    uint16_t flags;                    /* 0, or BITMAP_COMPRESSION [| NO_BITMAP_COMPRESSION_HDR] */
    uint16_t length;                   /* bitmapLength, less the TS_CD_HEADER when there is one */
    const uint8_t *data;               /* length bytes: bottom-up rows, or the compressed stream */
} ws_pdu_bitmap_rect;

typedef struct ws_pdu_bitmap_update {
    uint16_t count;
    ws_pdu_bitmap_rect rects[WS_PDU_RECTS_MAX];
    uint16_t other_updates; /* fast-path decode: updates of other types skipped (e.g. pointer) */
} ws_pdu_bitmap_update;

/* Slow-path Update PDU (2.2.9.1.1.3, pduType2 0x02) with updateType BITMAP. The encoder returns 0 past
 * WS_PDU_SLOWPATH_MAX. */
size_t ws_pdu_encode_update_bitmap(const ws_pdu_share *sh, const ws_pdu_bitmap_update *in, uint8_t *out,
                                   size_t cap);
int ws_pdu_decode_update_bitmap(const uint8_t *p, size_t len, ws_pdu_hdr *hdr, ws_pdu_bitmap_update *out,
                                ws_error *e);

/* Fast-path Update PDU (2.2.9.1.2) with one FASTPATH_UPDATETYPE_BITMAP (0x1) update, FASTPATH_FRAGMENT_SINGLE,
 * no compression: the header byte (action 0), length, updateHeader, size u16, then updateType u16 and the
 * rectangles as in the slow-path PDU. Only single fragments are written and read: a large frame must be split
 * into several updates (several PDUs), each under WS_PDU_FASTPATH_MAX and the client's MultifragmentUpdate
 * MaxRequestSize; the encoder returns 0 past WS_PDU_FASTPATH_MAX. The decoder walks every update in the PDU,
 * gathers the bitmap rectangles, counts other update types in other_updates and refuses fragments and
 * compression. */
#define WS_PDU_FASTPATH_UPDATETYPE_BITMAP 0x1
size_t ws_pdu_encode_fastpath_bitmap(const ws_pdu_bitmap_update *in, uint8_t *out, size_t cap);
int ws_pdu_decode_fastpath_update(const uint8_t *p, size_t len, ws_pdu_bitmap_update *out, ws_error *e);

/* Copy the w x h region at (x, y) of a top-down 32-bpp frame (stride bytes per row) into out as the bottom-up
 * rows TS_BITMAP_DATA carries (out: w * h * 4 bytes). The caller keeps the region inside the frame. */
void ws_pdu_bitmap_rows(const uint8_t *frame, size_t stride, unsigned x, unsigned y, unsigned w, unsigned h,
                        uint8_t *out);
/* Draw a decoded uncompressed rectangle into a top-down 32-bpp frame of fw x fh pixels (stride bytes per row):
 * the destination rectangle, clipped to the frame and to the data's width and height. A compressed one is
 * skipped. */
void ws_pdu_bitmap_blit(const ws_pdu_bitmap_rect *r, uint8_t *frame, size_t stride, unsigned fw, unsigned fh);
/* The same for any decoded rectangle: a compressed one is decompressed first (Planar; at most
 * WS_PDU_BITMAP_DECODED_MAX bytes). 0, or -1 when its stream does not decode (e says where). */
int ws_pdu_bitmap_draw(const ws_pdu_bitmap_rect *r, uint8_t *frame, size_t stride, unsigned fw, unsigned fh,
                       ws_error *e);

#endif
