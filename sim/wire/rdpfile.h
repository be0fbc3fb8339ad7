/* SPDX-License-Identifier: Apache-2.0 */
/* rdpfile: the .rdp file (REFERENCE.md section 4) and its signature, as rdpsign.exe
 * makes it. A file is an ordered list of settings "key:type:value" (type s, i or b).
 * Read from UTF-16LE with a BOM or from UTF-8; written UTF-16LE with a BOM, CRLF line
 * ends and lower-case keys. Signing covers the secure settings present, in the fixed
 * order of section 4 step 2, as a detached CMS SignedData without signed attributes. */
#ifndef WAPSIM_RDPFILE_H
#define WAPSIM_RDPFILE_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/util.h"

#define WS_RDP_FILE_MAX (1024 * 1024) /* largest .rdp file accepted */
#define WS_RDP_LINE_MAX (64 * 1024)   /* longest line accepted */
#define WS_RDP_SETTINGS_MAX 1024      /* most settings in one file */

typedef struct ws_rdp_setting {
    char *key; /* lower case */
    char type; /* 's', 'i' or 'b' */
    char *value;
} ws_rdp_setting;

typedef struct ws_rdp_file {
    ws_rdp_setting *items;
    size_t n, cap;
} ws_rdp_file;

void ws_rdp_init(ws_rdp_file *f);
void ws_rdp_free(ws_rdp_file *f);
/* Set a setting (key case-insensitive): replaces it in place, or appends it. */
int ws_rdp_set(ws_rdp_file *f, const char *key, char type, const char *value);
/* The value of a setting, or NULL. */
const char *ws_rdp_get(const ws_rdp_file *f, const char *key);
int ws_rdp_remove(ws_rdp_file *f, const char *key);

/* Parse a file's bytes (at most WS_RDP_FILE_MAX). Blank lines are skipped; a line
 * that is not key:type:value is refused with its number ("line 3: no type"). */
int ws_rdp_parse(const unsigned char *data, size_t len, ws_rdp_file *out, ws_error *e);
/* UTF-16LE with BOM, CRLF. *out freed with free(). */
int ws_rdp_serialize(const ws_rdp_file *f, unsigned char **out, size_t *len);

/* Sign as rdpsign.exe: drops signature/signscope, adds "alternate full address"
 * when "full address" has none, then adds signscope and signature (SHA-256). */
int ws_rdp_sign(ws_rdp_file *f, X509 *cert, EVP_PKEY *key, ws_error *e);

/* The bytes a signature covers for a given signscope ("Full Address,PCB,..."):
 * "key:type:value\r\n" per name, "signscope:s:<scope>\r\n", U+0000, in UTF-16LE.
 * *out freed with free(). */
int ws_rdp_signed_text(const ws_rdp_file *f, const char *scope, unsigned char **out, size_t *len, ws_error *e);

typedef struct ws_rdp_signature {
    X509 *signer;        /* the signer certificate carried in the CMS (caller frees) */
    char thumbprint[41]; /* of the signer */
    int trusted;         /* 1 when the signer chains to the roots given */
    char trust_error[256];
} ws_rdp_signature;

/* Verify the file's signature against its own signscope. Returns 0 when the CMS
 * signature matches the content (whatever the trust); -1 when there is no signature
 * or it is broken (e says why). With roots (may be NULL), sig->trusted tells whether
 * the signer chains to them at time at. */
int ws_rdp_verify(const ws_rdp_file *f, STACK_OF(X509) *roots, int64_t at, ws_rdp_signature *sig, ws_error *e);

/* ---- "authentication level": what the client does when the server's certificate
 * has problems (wire/crypto tls.h WS_PEER_*). Values as Microsoft documents them (RDP
 * file settings; IMsRdpClientAdvancedSettings4::AuthenticationLevel): 0 connect without
 * warning, 1 do not connect, 2 warn, 3 no requirement specified (the default; a
 * console .rdp file from VMM has no such line, marcvaneijk 2014). */
#define WS_RDP_AUTH_LEVEL_DEFAULT 3

typedef enum ws_srvauth {
    WS_SRVAUTH_OK = 0,   /* nothing wrong */
    WS_SRVAUTH_WARN = 1, /* the tenant is warned and may go on (or goes on unwarned, level 0) */
    WS_SRVAUTH_FAIL = 2, /* Remote Desktop Connection stops: 0x607 */
} ws_srvauth;

/* The file's authentication level (0..3), or WS_RDP_AUTH_LEVEL_DEFAULT when absent or
 * out of range. */
int ws_rdp_auth_level(const ws_rdp_file *f);
/* The one rule: problems (WS_PEER_* bits) under level. A name mismatch stops the client
 * with 0x607 unless level is 0 [field: marcvaneijk 2014, "An authentication error
 * occurred (0x607)" in IPv4 mode, fixed by authentication level:i:0]; level 1 stops at
 * any problem; otherwise the tenant is warned and may connect (the identity dialog).
 * strict: a tenant who answers No to every warning (as level 1) [model]. */
ws_srvauth ws_rdp_server_auth(int level, unsigned problems, int strict);

#endif
