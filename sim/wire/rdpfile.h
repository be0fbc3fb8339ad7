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

#endif
