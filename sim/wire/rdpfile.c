/* SPDX-License-Identifier: Apache-2.0 */
/* rdpfile: see rdpfile.h. The text layer (UTF-16LE/UTF-8, lines, settings) is written
 * by hand and bounded by the limits in the header; the signature is OpenSSL's CMS.
 * Layouts and the signing steps come from REFERENCE.md section 4. */
#include "wire/rdpfile.h"

#include <limits.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/bytes.h"
#include "crypto/base64.h"
#include "crypto/cert.h"
#include "crypto/sslerr.h"
#include "crypto/tls.h"

/* REFERENCE.md section 4 step 2: the secure settings, in the fixed order rdpsign.exe
 * signs them, spelled as they appear in signscope. A file key is the name in lower
 * case. "RemoteApplication*" expanded, ordered and spelled as nfedera/rdpsign and
 * andrewheberle/rdpsign do (the re-implementations section 4 cites). */
static const char *const secure_names[] = {
    "Full Address",
    "Alternate Full Address",
    "PCB",
    "Use Redirection Server Name",
    "Server Port",
    "Negotiate Security Layer",
    "EnableCredSspSupport",
    "DisableConnectionSharing",
    "AutoReconnection Enabled",
    "GatewayHostname",
    "GatewayUsageMethod",
    "GatewayProfileUsageMethod",
    "GatewayCredentialsSource",
    "Support URL",
    "PromptCredentialOnce",
    "Require pre-authentication",
    "Pre-authentication server address",
    "Alternate Shell",
    "Shell Working Directory",
    "RemoteApplicationProgram",
    "RemoteApplicationExpandWorkingdir",
    "RemoteApplicationMode",
    "RemoteApplicationGuid",
    "RemoteApplicationName",
    "RemoteApplicationIcon",
    "RemoteApplicationFile",
    "RemoteApplicationFileExtensions",
    "RemoteApplicationCmdLine",
    "RemoteApplicationExpandCmdLine",
    "Prompt For Credentials",
    "Authentication Level",
    "AudioMode",
    "RedirectDrives",
    "RedirectPrinters",
    "RedirectCOMPorts",
    "RedirectSmartCards",
    "RedirectPOSDevices",
    "RedirectClipboard",
    "DevicesToRedirect",
    "DrivesToRedirect",
    "LoadBalanceInfo",
    "RedirectDirectX",
    "RDGIsKDCProxy",
    "KDCProxyName",
    "EventLogUploadAddress",
};
#define N_SECURE (sizeof secure_names / sizeof secure_names[0])

/* REFERENCE.md section 4 step 4: the 12-byte header in front of the CMS DER. */
#define SIG_MAGIC1 0x00010001u
#define SIG_MAGIC2 0x00000001u
#define SIG_HEADER 12

/* ---- UTF-8 and UTF-16 --------------------------------------------------------- */

/* One UTF-8 sequence at s (n bytes available): its length, or 0 when it is malformed,
 * truncated, overlong, a surrogate or beyond U+10FFFF. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static int utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;
    while (n) {
        size_t l = utf8_next(p, n, &cp);
        if (!l)
            return 0;
        p += l;
        n -= l;
    }
    return 1;
}

/* Encode one code point (already checked: not a surrogate, at most U+10FFFF). */
static size_t utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Append n bytes of UTF-8 as UTF-16LE, supplementary characters as surrogate pairs;
 * -1 when the UTF-8 is not valid or the buffer's maximum is passed. */
static int put_utf16(ws_buf *buf, const char *s, size_t n)
{
    ws_wr wr;
    ws_wr_init_buf(&wr, buf);
    ws_wr *b = &wr;
    const unsigned char *p = (const unsigned char *)s;
    while (n) {
        uint32_t cp;
        size_t l = utf8_next(p, n, &cp);
        if (!l)
            return -1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            ws_wr_u16(b, (uint16_t)(0xD800 | (cp >> 10)));
            ws_wr_u16(b, (uint16_t)(0xDC00 | (cp & 0x3FF)));
        } else {
            ws_wr_u16(b, (uint16_t)cp);
        }
        p += l;
        n -= l;
    }
    return b->failed ? -1 : 0;
}

/* UTF-16LE bytes (BOM already skipped) to NUL-terminated UTF-8. Errors name the
 * line, counted by U+000A as the line parser counts. */
static int utf16le_to_utf8(const unsigned char *in, size_t n, char **out, size_t *outlen, ws_error *e)
{
    if (n % 2)
        return ws_seterr(e, "UTF-16 text has an odd number of bytes (%zu after the BOM)", n);
    /* A unit makes at most 3 bytes; a pair (2 units) makes 4. */
    char *o = malloc(n / 2 * 3 + 1);
    if (!o)
        abort();
    size_t k = 0;
    unsigned long line = 1;
    ws_rd r;
    ws_rd_init(&r, in, n, "UTF-16 text", e);
    while (ws_rd_remaining(&r)) {
        uint16_t unit, lo = 0;
        ws_rd_u16(&r, "code unit", &unit); /* n is even */
        uint32_t u = unit;
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (ws_rd_remaining(&r))
                ws_rd_u16(&r, "low surrogate", &lo);
            if (lo < 0xDC00 || lo > 0xDFFF) {
                free(o);
                return ws_seterr(e, "line %lu: unpaired UTF-16 high surrogate %04X", line, (unsigned)u);
            }
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00u);
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            free(o);
            return ws_seterr(e, "line %lu: unpaired UTF-16 low surrogate %04X", line, (unsigned)u);
        }
        if (u == '\n')
            line++;
        k += utf8_put(o + k, u);
    }
    o[k] = '\0';
    *out = o;
    *outlen = k;
    return 0;
}

/* ---- settings ----------------------------------------------------------------- */

static void lower_ascii(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* A decimal integer, optionally negative (the 'i' type). */
static int is_integer(const char *s)
{
    if (*s == '-')
        s++;
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Why a setting could not be written as one parseable line, or NULL when it can. */
static const char *setting_problem(const char *key, char type, const char *value)
{
    if (!key || !value)
        return "missing key or value";
    if (!*key)
        return "empty key";
    if (strchr(key, ':'))
        return "key contains ':'";
    if (strpbrk(key, "\r\n") || strpbrk(value, "\r\n"))
        return "line break inside a setting";
    size_t kl = strlen(key), vl = strlen(value);
    if (!utf8_valid(key, kl) || !utf8_valid(value, vl))
        return "invalid UTF-8";
    if (type != 's' && type != 'i' && type != 'b')
        return "bad type (want s, i or b)";
    if (type == 'i' && !is_integer(value))
        return "'i' value is not an integer";
    if (kl + 3 + vl > WS_RDP_LINE_MAX)
        return "setting longer than a line may be";
    return NULL;
}

static long find_key(const ws_rdp_file *f, const char *key)
{
    if (!f || !key)
        return -1;
    for (size_t i = 0; i < f->n; i++)
        if (strcasecmp(f->items[i].key, key) == 0)
            return (long)i;
    return -1;
}

/* Append, taking ownership of key and value. */
static void append_owned(ws_rdp_file *f, char *key, char type, char *value)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        ws_rdp_setting *items = realloc(f->items, cap * sizeof *items);
        if (!items)
            abort();
        f->items = items;
        f->cap = cap;
    }
    f->items[f->n].key = key;
    f->items[f->n].type = type;
    f->items[f->n].value = value;
    f->n++;
}

void ws_rdp_init(ws_rdp_file *f)
{
    f->items = NULL;
    f->n = f->cap = 0;
}

void ws_rdp_free(ws_rdp_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->items[i].key);
        free(f->items[i].value);
    }
    free(f->items);
    ws_rdp_init(f);
}

int ws_rdp_set(ws_rdp_file *f, const char *key, char type, const char *value)
{
    if (!f || setting_problem(key, type, value))
        return -1;
    long i = find_key(f, key);
    if (i < 0 && f->n >= WS_RDP_SETTINGS_MAX)
        return -1;
    char *v = ws_strdup(value);
    if (i >= 0) {
        free(f->items[i].value);
        f->items[i].value = v;
        f->items[i].type = type;
        return 0;
    }
    char *k = ws_strdup(key);
    lower_ascii(k);
    append_owned(f, k, type, v);
    return 0;
}

const char *ws_rdp_get(const ws_rdp_file *f, const char *key)
{
    long i = find_key(f, key);
    return i < 0 ? NULL : f->items[i].value;
}

int ws_rdp_remove(ws_rdp_file *f, const char *key)
{
    long i = find_key(f, key);
    if (i < 0)
        return -1;
    free(f->items[i].key);
    free(f->items[i].value);
    memmove(&f->items[i], &f->items[i + 1], (f->n - (size_t)i - 1) * sizeof f->items[0]);
    f->n--;
    return 0;
}

static void copy_file(ws_rdp_file *dst, const ws_rdp_file *src)
{
    ws_rdp_init(dst);
    for (size_t i = 0; i < src->n; i++)
        append_owned(dst, ws_strdup(src->items[i].key), src->items[i].type, ws_strdup(src->items[i].value));
}

/* ---- parse and serialize ------------------------------------------------------ */

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* One line "key:type:value" (line end removed, n bytes) into f. */
static int parse_line(const char *s, size_t n, unsigned long line, ws_rdp_file *f, ws_error *e)
{
    if (n > WS_RDP_LINE_MAX)
        return ws_seterr(e, "line %lu: longer than %d bytes", line, WS_RDP_LINE_MAX);
    if (memchr(s, '\0', n))
        return ws_seterr(e, "line %lu: NUL character", line);
    if (memchr(s, '\r', n))
        return ws_seterr(e, "line %lu: carriage return inside the line", line);
    if (!utf8_valid(s, n))
        return ws_seterr(e, "line %lu: invalid UTF-8", line);
    if (blank(s, n))
        return 0;
    const char *c1 = memchr(s, ':', n);
    if (!c1 || c1 + 1 == s + n)
        return ws_seterr(e, "line %lu: no type", line);
    if (c1 == s)
        return ws_seterr(e, "line %lu: empty key", line);
    /* The type is the text up to the next ':', and must be exactly s, i or b. */
    const char *t = c1 + 1, *end = s + n;
    const char *c2 = memchr(t, ':', (size_t)(end - t));
    size_t tl = (size_t)((c2 ? c2 : end) - t);
    if (tl != 1 || (*t != 's' && *t != 'i' && *t != 'b'))
        return ws_seterr(e, "line %lu: bad type \"%.*s\" (want s, i or b)", line, (int)(tl > 16 ? 16 : tl), t);
    if (!c2)
        return ws_seterr(e, "line %lu: no ':' after the type", line);
    char *key = strndup(s, (size_t)(c1 - s));
    char *value = strndup(c2 + 1, (size_t)(end - c2 - 1));
    if (!key || !value)
        abort();
    lower_ascii(key);
    int rc = 0;
    if (*t == 'i' && !is_integer(value))
        rc = ws_seterr(e, "line %lu: \"%.64s\" is not an integer: \"%.64s\"", line, key, value);
    else if (find_key(f, key) >= 0)
        rc = ws_seterr(e, "line %lu: \"%.64s\" is set twice", line, key);
    else if (f->n >= WS_RDP_SETTINGS_MAX)
        rc = ws_seterr(e, "line %lu: more than %d settings", line, WS_RDP_SETTINGS_MAX);
    if (rc) {
        free(key);
        free(value);
        return rc;
    }
    append_owned(f, key, *t, value);
    return 0;
}

int ws_rdp_parse(const unsigned char *data, size_t len, ws_rdp_file *out, ws_error *e)
{
    if (!out)
        return ws_seterr(e, "nowhere to parse into");
    ws_rdp_init(out);
    if (!data && len)
        return ws_seterr(e, "no data");
    if (len > WS_RDP_FILE_MAX)
        return ws_seterr(e, "file is %zu bytes; at most %d accepted", len, WS_RDP_FILE_MAX);
    char *text = NULL;
    size_t n = 0;
    if (len >= 2 && data[0] == 0xFF && data[1] == 0xFE) {
        if (utf16le_to_utf8(data + 2, len - 2, &text, &n, e) != 0)
            return -1;
    } else if (len >= 2 && data[0] == 0xFE && data[1] == 0xFF) {
        return ws_seterr(e, "UTF-16 big-endian text is not supported (want UTF-16LE or UTF-8)");
    } else {
        size_t skip = len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF ? 3 : 0;
        n = len - skip;
        text = malloc(n + 1);
        if (!text)
            abort();
        if (n)
            memcpy(text, data + skip, n);
        text[n] = '\0';
    }
    /* Lines end in LF, optionally preceded by CR; the last may have no end. */
    ws_rdp_file f;
    ws_rdp_init(&f);
    unsigned long line = 1;
    size_t pos = 0;
    int rc = 0;
    while (pos < n) {
        const char *s = text + pos;
        const char *lf = memchr(s, '\n', n - pos);
        size_t ll = lf ? (size_t)(lf - s) : n - pos;
        pos += ll + (lf ? 1 : 0);
        if (lf && ll && s[ll - 1] == '\r')
            ll--;
        if ((rc = parse_line(s, ll, line, &f, e)) != 0)
            break;
        line++;
    }
    free(text);
    if (rc) {
        ws_rdp_free(&f);
        return -1;
    }
    *out = f;
    return 0;
}

int ws_rdp_serialize(const ws_rdp_file *f, unsigned char **out, size_t *len)
{
    if (!f || !out || !len)
        return -1;
    ws_buf b;
    static const unsigned char bom[2] = {0xFF, 0xFE};
    ws_buf_init(&b, WS_RDP_FILE_MAX);
    ws_buf_add(&b, bom, 2);
    for (size_t i = 0; i < f->n; i++) {
        const ws_rdp_setting *s = &f->items[i];
        char sep[3] = {':', s->type, ':'};
        /* Only what ws_rdp_parse reads back identically is written, within WS_RDP_FILE_MAX. */
        if (setting_problem(s->key, s->type, s->value) || put_utf16(&b, s->key, strlen(s->key)) != 0 ||
            put_utf16(&b, sep, 3) != 0 || put_utf16(&b, s->value, strlen(s->value)) != 0 ||
            put_utf16(&b, "\r\n", 2) != 0) {
            ws_buf_free(&b);
            return -1;
        }
    }
    *out = (unsigned char *)ws_buf_take(&b, len);
    ws_buf_free(&b);
    if (!*out)
        abort(); /* as ws_strdup: out of memory is not recoverable here */
    return 0;
}

/* ---- signed text (REFERENCE.md section 4 steps 2-3) ----------------------------- */

static long secure_index(const char *name, size_t n)
{
    for (size_t i = 0; i < N_SECURE; i++)
        if (strlen(secure_names[i]) == n && strncasecmp(secure_names[i], name, n) == 0)
            return (long)i;
    return -1;
}

/* Split a signscope into secure-list indices, refusing unknown and repeated names. */
static int scope_parse(const char *scope, long idx[N_SECURE], size_t *count, ws_error *e)
{
    if (!scope || !*scope)
        return ws_seterr(e, "signscope is empty");
    char seen[N_SECURE] = {0};
    size_t k = 0;
    const char *p = scope;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        long i = secure_index(p, n);
        if (i < 0)
            return ws_seterr(e, "signscope names \"%.*s\", which is not a secure setting", (int)(n > 64 ? 64 : n),
                             p);
        if (seen[i])
            return ws_seterr(e, "signscope names \"%s\" twice", secure_names[i]);
        seen[i] = 1;
        idx[k++] = i;
        if (!comma)
            break;
        p = comma + 1;
    }
    *count = k;
    return 0;
}

int ws_rdp_signed_text(const ws_rdp_file *f, const char *scope, unsigned char **out, size_t *len, ws_error *e)
{
    long idx[N_SECURE];
    size_t count;
    if (!f || !out || !len)
        return ws_seterr(e, "no file");
    if (scope_parse(scope, idx, &count, e) != 0)
        return -1;
    ws_buf text, u16;
    ws_buf_init(&text, WS_BUF_MAX_RDP_SIGNED);
    ws_buf_init(&u16, WS_BUF_MAX_RDP_SIGNED);
    for (size_t i = 0; i < count; i++) {
        long at = find_key(f, secure_names[idx[i]]);
        if (at < 0) {
            ws_buf_free(&text);
            return ws_seterr(e, "signscope names \"%s\" but the file has no such setting", secure_names[idx[i]]);
        }
        const ws_rdp_setting *s = &f->items[at];
        ws_buf_addf(&text, "%s:%c:%s\r\n", s->key, s->type, s->value);
    }
    if (ws_buf_addf(&text, "signscope:s:%s\r\n", scope) != 0) {
        ws_buf_free(&text);
        return ws_seterr(e, "the signed text is over %u bytes", WS_BUF_MAX_RDP_SIGNED);
    }
    int bad = put_utf16(&u16, ws_buf_str(&text), ws_buf_len(&text));
    ws_buf_free(&text);
    if (bad || ws_buf_add(&u16, "\0\0", 2) != 0) { /* step 3: one U+0000 ends the signed text */
        ws_buf_free(&u16);
        return ws_seterr(e, "a signed setting is not valid UTF-8, or the signed text is over %u bytes",
                         WS_BUF_MAX_RDP_SIGNED);
    }
    *out = (unsigned char *)ws_buf_take(&u16, len);
    ws_buf_free(&u16);
    if (!*out)
        abort();
    return 0;
}

/* ---- sign (REFERENCE.md section 4 steps 1-6) ------------------------------------ */

/* Step 4: detached CMS SignedData over content, SHA-256, no signed attributes, the
 * signer certificate included; returned with its 12-byte header. */
static int make_blob(const unsigned char *content, size_t clen, X509 *cert, EVP_PKEY *key, unsigned char **blob,
                     size_t *blen, ws_error *e)
{
    const unsigned int flags = CMS_BINARY | CMS_DETACHED | CMS_NOATTR | CMS_NOSMIMECAP;
    int rc = -1;
    unsigned char *der = NULL;
    BIO *in = BIO_new_mem_buf(content, (int)clen);
    /* CMS_sign(cert, key, NULL, in, flags) in two steps, to name SHA-256 rather than
     * rely on the key type's default digest. */
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags | CMS_PARTIAL);
    if (!in || !cms || !CMS_add1_signer(cms, cert, key, EVP_sha256(), flags) || !CMS_final(cms, in, NULL, flags)) {
        ws_ssl_error(e, "cannot sign");
        goto out;
    }
    int dlen = i2d_CMS_ContentInfo(cms, &der);
    if (dlen <= 0) {
        ws_ssl_error(e, "cannot encode the signature");
        goto out;
    }
    *blen = SIG_HEADER + (size_t)dlen;
    *blob = malloc(*blen);
    if (!*blob)
        abort();
    ws_wr w;
    ws_wr_init(&w, *blob, *blen);
    ws_wr_u32(&w, SIG_MAGIC1);
    ws_wr_u32(&w, SIG_MAGIC2);
    ws_wr_u32(&w, (uint32_t)dlen);
    ws_wr_bytes(&w, der, (size_t)dlen);
    rc = 0;
out:
    OPENSSL_free(der);
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    return rc;
}

int ws_rdp_sign(ws_rdp_file *f, X509 *cert, EVP_PKEY *key, ws_error *e)
{
    if (!f || !cert || !key)
        return ws_seterr(e, "nothing to sign with");
    if (X509_check_private_key(cert, key) != 1) {
        ERR_clear_error();
        return ws_seterr(e, "the key does not belong to the signing certificate");
    }
    /* Work on a copy so that f is unchanged when signing fails. */
    ws_rdp_file t;
    copy_file(&t, f);
    int rc = -1;
    unsigned char *text = NULL, *blob = NULL;
    char *b64 = NULL;
    ws_buf scope;
    ws_buf_init(&scope, WS_BUF_MAX_RDP_SIGNED);

    /* Step 1. */
    while (ws_rdp_remove(&t, "signature") == 0 || ws_rdp_remove(&t, "signscope") == 0)
        ;
    long fa = find_key(&t, "full address");
    if (fa >= 0 && find_key(&t, "alternate full address") < 0 &&
        ws_rdp_set(&t, "alternate full address", t.items[fa].type, t.items[fa].value) != 0) {
        ws_seterr(e, "cannot add \"alternate full address\" (too many settings?)");
        goto out;
    }
    /* Step 2: the secure settings present, in the fixed order. */
    for (size_t i = 0; i < N_SECURE; i++) {
        if (find_key(&t, secure_names[i]) < 0)
            continue;
        ws_buf_addf(&scope, "%s%s", ws_buf_len(&scope) ? "," : "", secure_names[i]);
    }
    if (!ws_buf_len(&scope)) {
        ws_seterr(e, "nothing to sign: the file has none of the secure settings");
        goto out;
    }
    /* Step 3. */
    size_t tlen, blen;
    if (ws_rdp_signed_text(&t, ws_buf_str(&scope), &text, &tlen, e) != 0)
        goto out;
    /* Step 4. */
    if (make_blob(text, tlen, cert, key, &blob, &blen, e) != 0)
        goto out;
    /* Step 5: base64 without line breaks. */
    if (blen > (size_t)INT_MAX / 2 || WS_BASE64_LEN(blen) + 12 > WS_RDP_LINE_MAX) {
        ws_seterr(e, "the signature (%zu bytes) would not fit on one line; is the certificate that large?", blen);
        goto out;
    }
    b64 = malloc(WS_BASE64_LEN(blen) + 1);
    if (!b64)
        abort();
    ws_base64_encode(blob, blen, b64);
    /* signscope then signature, at the end of the file. */
    if (t.n + 2 > WS_RDP_SETTINGS_MAX) {
        ws_seterr(e, "too many settings to add signscope and signature (at most %d)", WS_RDP_SETTINGS_MAX);
        goto out;
    }
    if (ws_rdp_set(&t, "signscope", 's', ws_buf_str(&scope)) != 0 || ws_rdp_set(&t, "signature", 's', b64) != 0) {
        ws_seterr(e, "cannot add the signature");
        goto out;
    }
    ws_rdp_free(f);
    *f = t;
    ws_rdp_init(&t);
    rc = 0;
out:
    ws_rdp_free(&t);
    ws_buf_free(&scope);
    free(text);
    free(blob);
    free(b64);
    return rc;
}

/* ---- verify --------------------------------------------------------------------- */

/* Step 5 reversed: whitespace removed, then strict base64 with '=' padding only at the end. */
static int b64_decode(const char *s, unsigned char **out, size_t *outlen, ws_error *e)
{
    size_t n = strlen(s), at;
    unsigned char *o = malloc(WS_BASE64_DECODED_MAX(n) + 1);
    if (!o)
        abort();
    ws_base64_fault f = ws_base64_decode(s, n, WS_BASE64_SPACE, o, outlen, &at);
    if (f == WS_BASE64_OK) {
        *out = o;
        return 0;
    }
    free(o);
    if (f == WS_BASE64_EMPTY || f == WS_BASE64_LENGTH)
        return ws_seterr(e, "signature is not base64: %zu characters, not a multiple of 4", at);
    return ws_seterr(e, "signature is not base64: bad character at %zu", at);
}

/* Whether the CMS error queue says the signature does not match the content. */
static int cms_mismatch(void)
{
    unsigned long code;
    int mismatch = 0;
    while ((code = ERR_get_error()) != 0)
        if (ERR_GET_LIB(code) == ERR_LIB_CMS &&
            (ERR_GET_REASON(code) == CMS_R_VERIFICATION_FAILURE || ERR_GET_REASON(code) == CMS_R_CONTENT_VERIFY_ERROR))
            mismatch = 1;
    return mismatch;
}

/* The signer against roots at time at, with the CMS's other certificates as
 * intermediates; any purpose, as `openssl cms -verify -purpose any` (section 4). */
static void check_trust(X509 *signer, STACK_OF(X509) *untrusted, STACK_OF(X509) *roots, int64_t at,
                        ws_rdp_signature *sig)
{
    if (!roots) {
        snprintf(sig->trust_error, sizeof sig->trust_error, "not checked: no trusted roots given");
        return;
    }
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!store || !ctx) {
        snprintf(sig->trust_error, sizeof sig->trust_error, "out of memory");
        goto out;
    }
    for (int i = 0; i < sk_X509_num(roots); i++)
        X509_STORE_add_cert(store, sk_X509_value(roots, i));
    X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
    if (!X509_STORE_CTX_init(ctx, store, signer, untrusted)) {
        snprintf(sig->trust_error, sizeof sig->trust_error, "cannot build a chain");
        goto out;
    }
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)at);
    if (X509_verify_cert(ctx) == 1)
        sig->trusted = 1;
    else
        snprintf(sig->trust_error, sizeof sig->trust_error, "%s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
}

int ws_rdp_verify(const ws_rdp_file *f, STACK_OF(X509) *roots, int64_t at, ws_rdp_signature *sig, ws_error *e)
{
    ws_rdp_signature local;
    if (!sig)
        sig = &local;
    memset(sig, 0, sizeof *sig);
    int rc = -1;
    unsigned char *text = NULL, *blob = NULL;
    size_t tlen = 0, blen = 0;
    CMS_ContentInfo *cms = NULL;
    BIO *content = NULL;
    STACK_OF(X509) *signers = NULL, *certs = NULL;

    long is = find_key(f, "signature"), isc = find_key(f, "signscope");
    if (is < 0) {
        ws_seterr(e, "the file is not signed: no signature setting");
        goto out;
    }
    if (isc < 0) {
        ws_seterr(e, "the file has a signature but no signscope");
        goto out;
    }
    if (f->items[is].type != 's' || f->items[isc].type != 's') {
        ws_seterr(e, "signature and signscope must be string (s) settings");
        goto out;
    }
    const char *scope = f->items[isc].value;
    if (ws_rdp_signed_text(f, scope, &text, &tlen, e) != 0)
        goto out;
    /* A secure setting outside the scope could be added to a signed file unnoticed. */
    long idx[N_SECURE];
    size_t count;
    char in_scope[N_SECURE] = {0};
    if (scope_parse(scope, idx, &count, e) != 0)
        goto out;
    for (size_t i = 0; i < count; i++)
        in_scope[idx[i]] = 1;
    for (size_t i = 0; i < N_SECURE; i++) {
        long at_i = find_key(f, secure_names[i]);
        if (!in_scope[i] && at_i >= 0) {
            ws_seterr(e, "secure setting \"%s\" is not covered by signscope", f->items[at_i].key);
            goto out;
        }
    }

    /* Steps 5 and 4 reversed: base64, then the 12-byte header and the CMS DER. */
    if (b64_decode(f->items[is].value, &blob, &blen, e) != 0)
        goto out;
    if (blen < SIG_HEADER) {
        ws_seterr(e, "signature blob is %zu bytes, shorter than its %d-byte header", blen, SIG_HEADER);
        goto out;
    }
    ws_rd r;
    uint32_t magic1, magic2, want;
    ws_rd_init(&r, blob, blen, "signature blob", e);
    ws_rd_u32(&r, "magic", &magic1); /* the 12-byte header is there */
    ws_rd_u32(&r, "magic", &magic2);
    ws_rd_u32(&r, "CMS length", &want);
    if (magic1 != SIG_MAGIC1 || magic2 != SIG_MAGIC2) {
        ws_seterr(e, "signature blob header is %08X %08X, want %08X %08X", (unsigned)magic1, (unsigned)magic2,
                  SIG_MAGIC1, SIG_MAGIC2);
        goto out;
    }
    size_t have = ws_rd_remaining(&r);
    if (ws_rd_need(&r, want, "CMS") != 0)
        goto out;
    if (want < have) {
        ws_seterr(e, "signature blob is oversized: its header announces %u bytes of CMS, %zu follow", want, have);
        goto out;
    }
    const unsigned char *p = blob + SIG_HEADER;
    cms = d2i_CMS_ContentInfo(NULL, &p, (long)want);
    if (!cms) {
        ws_ssl_error(e, "signature is not a DER CMS structure");
        goto out;
    }
    if (p != blob + blen) {
        ws_seterr(e, "signature has %zu bytes after its CMS structure", (size_t)(blob + blen - p));
        goto out;
    }
    if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
        ws_seterr(e, "signature is a CMS structure but not SignedData");
        goto out;
    }
    ASN1_OCTET_STRING **embedded = CMS_get0_content(cms);
    if (embedded && *embedded) {
        ws_seterr(e, "signature is not detached: it carries content of its own");
        goto out;
    }
    int nsi = sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms));
    if (nsi != 1) {
        ws_seterr(e, "signature has %d signers, want exactly one", nsi);
        goto out;
    }
    /* The signature itself; the signer's chain is judged separately below, at time at.
     * The content goes in behind a pass-through filter: given a memory BIO, OpenSSL 3.0's
     * CMS_verify reads a copy of it, and leaks that copy when the CMS names a digest it
     * cannot set up (CMS_dataInit fails); given any other BIO it reads that one. */
    BIO *mem = BIO_new_mem_buf(text, (int)tlen);
    content = mem ? BIO_new(BIO_f_null()) : NULL;
    if (!content) {
        BIO_free(mem);
        ws_ssl_error(e, "out of memory");
        goto out;
    }
    BIO_push(content, mem);
    if (CMS_verify(cms, NULL, NULL, content, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
        unsigned long code = ERR_peek_last_error();
        if (ERR_GET_LIB(code) == ERR_LIB_CMS && ERR_GET_REASON(code) == CMS_R_SIGNER_CERTIFICATE_NOT_FOUND) {
            ERR_clear_error();
            ws_seterr(e, "the signature does not carry its signer's certificate");
        } else if (cms_mismatch()) {
            ws_seterr(e, "signature does not match the signed settings (%s)", scope);
        } else {
            ws_ssl_error(e, "cannot verify the signature");
        }
        goto out;
    }
    signers = CMS_get0_signers(cms);
    if (sk_X509_num(signers) != 1) {
        ws_ssl_error(e, "cannot find the signer certificate");
        goto out;
    }
    sig->signer = sk_X509_value(signers, 0);
    X509_up_ref(sig->signer);
    ws_cert_thumbprint(sig->signer, sig->thumbprint);
    certs = CMS_get1_certs(cms);
    check_trust(sig->signer, certs, roots, at, sig);
    rc = 0;
out:
    ERR_clear_error();
    sk_X509_free(signers);
    sk_X509_pop_free(certs, X509_free);
    BIO_free_all(content);
    CMS_ContentInfo_free(cms);
    free(text);
    free(blob);
    if (sig == &local)
        X509_free(local.signer);
    return rc;
}

int ws_rdp_auth_level(const ws_rdp_file *f)
{
    const char *v = ws_rdp_get(f, "authentication level");
    if (!v || v[0] < '0' || v[0] > '3' || v[1])
        return WS_RDP_AUTH_LEVEL_DEFAULT;
    return v[0] - '0';
}

ws_srvauth ws_rdp_server_auth(int level, unsigned problems, int strict)
{
    if (!problems)
        return WS_SRVAUTH_OK;
    if (level == 0)
        return WS_SRVAUTH_WARN; /* "connect and don't warn me": on, whatever is wrong */
    if (level == 1 || strict)
        return WS_SRVAUTH_FAIL;
    if (problems & WS_PEER_NAME)
        return WS_SRVAUTH_FAIL;
    return WS_SRVAUTH_WARN;
}
