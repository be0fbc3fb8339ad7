/* SPDX-License-Identifier: Apache-2.0 */
/* token: see token.h. The HostToken is the DevTest Labs gateway format, the VMToken
 * the lab's [model] of the same shape (REFERENCE.md section 3). Parsing is strict and
 * bounded because the text comes from whoever holds the .rdp file. */
#include "wire/token.h"

#include "crypto/base64.h"
#include "crypto/cert.h"
#include "crypto/csp.h"

#include <ctype.h>
#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_MAX 1024    /* longest decoded signature: an RSA-8192 key's */
#define SIG_B64_MAX WS_BASE64_LEN(SIG_MAX)
#define HOST_MAX 255
#define HASH_MAX 15
#define SHOW_MAX 64 /* characters of a bad value quoted in a message */

static const char SIG_SEP[] = "&Signature=";

/* ---- field syntax, shared by building and parsing ---------------------------- */

/* A host as VMM identifies it (REFERENCE.md section 2, VMConnectHostIdentificationMode):
 * a name, an IPv4 address, or an IPv6 literal, bracketed or not. */
static int host_valid(const char *s, size_t n)
{
    if (n == 0 || n > HOST_MAX)
        return 0;
    if (s[0] == '[' || s[n - 1] == ']') {
        /* "[...]": brackets only around the whole, inside only hex digits, ':' and '.' */
        if (n < 3 || s[0] != '[' || s[n - 1] != ']')
            return 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
                return 0;
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != ':')
            return 0;
    return 1;
}

static int hash_alg_valid(const char *s, size_t n)
{
    if (n == 0 || n > HASH_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] >= 'A' && s[i] <= 'Z') && !(s[i] >= '0' && s[i] <= '9'))
            return 0;
    return 1;
}

static int hex40_valid(const char *s, size_t n)
{
    if (n != 40)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Unsigned decimal, no sign: -1 when not digits only, -2 when longer than
 * max_digits or beyond int64. */
static int decimal(const char *s, size_t n, size_t max_digits, int64_t *out)
{
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    if (n > max_digits)
        return -2;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* ---- building ---------------------------------------------------------------- */

char *ws_token_payload(const ws_token *t)
{
    if (!t)
        return NULL;
    /* Refuse fields that would not parse back: the token would only fail later, at the gateway or host. */
    size_t host_len = strnlen(t->host, sizeof t->host);
    if (host_len == sizeof t->host || !host_valid(t->host, host_len) || t->expires_on < 0)
        return NULL;
    switch (t->kind) {
    case WS_TOKEN_HOST:
        if (t->port < 1 || t->port > 65535)
            return NULL;
        return ws_printf("Host=%s&Port=%d&ExpiresOn=%" PRId64, t->host, t->port, t->expires_on);
    case WS_TOKEN_VM:
        if (strnlen(t->vmid, sizeof t->vmid) == sizeof t->vmid || !ws_guid_valid(t->vmid))
            return NULL;
        return ws_printf("VMID=%s&Host=%s&ExpiresOn=%" PRId64, t->vmid, t->host, t->expires_on);
    }
    return NULL;
}

/* Escape as .NET's Uri.EscapeDataString does: RFC 3986 unreserved characters stay,
 * everything else becomes %XX in upper-case hex. For base64 that is '+', '/' and '='. */
static void url_escape(const char *in, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            *out++ = (char)c;
        } else {
            *out++ = '%';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 15];
        }
    }
    *out = '\0';
}

char *ws_token_format(const char *payload, const char *hash_alg, const char *thumbprint, const unsigned char *sig,
                      size_t sig_len)
{
    if (!payload || !hash_alg || !thumbprint || !sig || sig_len == 0 || sig_len > SIG_MAX ||
        !hash_alg_valid(hash_alg, strlen(hash_alg)) || !hex40_valid(thumbprint, strlen(thumbprint)))
        return NULL;
    size_t payload_len = strnlen(payload, WS_TOKEN_MAX + 1);
    if (payload_len > WS_TOKEN_MAX)
        return NULL;
    char b64[SIG_B64_MAX + 1];
    char escaped[3 * SIG_B64_MAX + 1];
    ws_base64_encode(sig, sig_len, b64);
    url_escape(b64, escaped);
    char *token = ws_printf("%s%s1|%s|%s|%s", payload, SIG_SEP, hash_alg, thumbprint, escaped);
    if (strlen(token) > WS_TOKEN_MAX) { /* the parser would refuse it */
        free(token);
        return NULL;
    }
    return token;
}

/* ---- signing ----------------------------------------------------------------- */

ws_token_sign_step ws_token_sign(const ws_token *fields, const char *hash_alg, const char *csp, EVP_PKEY *key,
                                 const char *thumbprint, char **out, uint32_t *hresult, ws_error *e)
{
    *out = NULL;
    char *payload = ws_token_payload(fields);
    if (!payload) {
        ws_seterr(e, "token: the fields do not form a %s (host '%.64s')",
                  fields && fields->kind == WS_TOKEN_VM ? "VMToken" : "HostToken", fields ? fields->host : "");
        return WS_TOKEN_SIGN_FIELDS;
    }
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    if (ws_csp_sign(csp, key, hash_alg, payload, strlen(payload), &sig, &sig_len, hresult, e) != 0) {
        free(payload);
        return WS_TOKEN_SIGN_PROVIDER;
    }
    *out = ws_token_format(payload, hash_alg, thumbprint, sig, sig_len);
    free(payload);
    OPENSSL_free(sig);
    if (!*out) {
        ws_seterr(e, "token: cannot format a signature of %zu bytes with hash '%.15s' and thumbprint '%.40s'",
                  sig_len, hash_alg ? hash_alg : "", thumbprint ? thumbprint : "");
        return WS_TOKEN_SIGN_FORMAT;
    }
    return WS_TOKEN_SIGNED;
}

/* ---- parsing ----------------------------------------------------------------- */

/* A value quoted in a message: at most SHOW_MAX characters, non-ASCII as \xNN. */
static const char *shown(const char *s, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && i < SHOW_MAX && o + 5 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, size - o, "\\x%02X", c);
    }
    if (n > SHOW_MAX && o + 4 < size) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

#define SHOWN(s, n) shown((s), (n), show_buf, sizeof show_buf)

typedef struct span {
    const char *p;
    size_t n;
} span;

static int span_eq(span a, const char *lit)
{
    size_t n = strlen(lit);
    return a.n == n && memcmp(a.p, lit, n) == 0;
}

static const char *find_mem(const char *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= hay_len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The signature is strict base64 with zero padding bits, so one signature has one spelling. */
static const char *const b64_why[] = {
    [WS_BASE64_EMPTY] = "is empty",
    [WS_BASE64_LENGTH] = "is not base64 (length not a multiple of 4)",
    [WS_BASE64_BAD_CHAR] = "is not base64 (invalid character)",
    [WS_BASE64_MISPLACED] = "is not base64 (misplaced '=')",
    [WS_BASE64_PAD_BITS] = "is not base64 (non-zero padding bits)",
};

/* The Signature value: version '|' hash '|' thumbprint '|' escaped base64. */
static int parse_signature(const char *kind, span v, ws_token *out, ws_error *e)
{
    char show_buf[SHOW_MAX * 4 + 8];
    span part[4];
    size_t count = 0;
    const char *p = v.p, *end = v.p + v.n;
    for (;;) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        const char *stop = bar ? bar : end;
        if (count < 4)
            part[count] = (span){p, (size_t)(stop - p)};
        count++;
        if (!bar)
            break;
        p = bar + 1;
    }
    if (count != 4)
        return ws_seterr(e, "%s: Signature '%s' has %zu parts, not 4 (version|hash|thumbprint|signature)", kind,
                         SHOWN(v.p, v.n), count);

    int64_t version;
    if (decimal(part[0].p, part[0].n, 9, &version) != 0 || version != 1)
        return ws_seterr(e, "%s: Signature version '%s' is not 1", kind, SHOWN(part[0].p, part[0].n));
    out->sig_version = (int)version;

    if (!hash_alg_valid(part[1].p, part[1].n))
        return ws_seterr(e, "%s: Signature hash algorithm '%s' is not 1 to %d of A-Z and 0-9", kind,
                         SHOWN(part[1].p, part[1].n), HASH_MAX);
    memcpy(out->hash_alg, part[1].p, part[1].n);
    out->hash_alg[part[1].n] = '\0';

    if (!hex40_valid(part[2].p, part[2].n))
        return ws_seterr(e, "%s: Signature thumbprint '%s' is not 40 hex digits", kind, SHOWN(part[2].p, part[2].n));
    for (size_t i = 0; i < 40; i++)
        out->thumbprint[i] = (char)toupper((unsigned char)part[2].p[i]);
    out->thumbprint[40] = '\0';

    /* Percent-decode (either hex case: HttpUtility.UrlEncode writes lower case), then base64. */
    char b64[SIG_B64_MAX];
    size_t b64_len = 0;
    const char *s = part[3].p;
    for (size_t i = 0; i < part[3].n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < part[3].n ? hexval(s[i + 1]) : -1, lo = hi >= 0 ? hexval(s[i + 2]) : -1;
            if (lo < 0)
                return ws_seterr(e, "%s: Signature value has a bad %% escape at '%s'", kind,
                                 SHOWN(s + i, part[3].n - i < 3 ? part[3].n - i : 3));
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (b64_len == SIG_B64_MAX)
            return ws_seterr(e, "%s: Signature value is longer than %d bytes", kind, SIG_MAX);
        b64[b64_len++] = c;
    }
    unsigned char sig[WS_BASE64_DECODED_MAX(SIG_B64_MAX)];
    size_t sig_len = 0, at;
    ws_base64_fault f = ws_base64_decode(b64, b64_len, WS_BASE64_CANONICAL, sig, &sig_len, &at);
    if (f != WS_BASE64_OK)
        return ws_seterr(e, "%s: Signature value %s", kind, b64_why[f]);
    if (sig_len > SIG_MAX)
        return ws_seterr(e, "%s: Signature value is longer than %d bytes", kind, SIG_MAX);
    out->signature = malloc(sig_len);
    if (!out->signature)
        abort();
    memcpy(out->signature, sig, sig_len);
    out->signature_len = sig_len;
    return 0;
}

/* One payload field's value, by name; the caller has checked the name and its place. */
static int parse_field(const char *kind, span name, span v, ws_token *out, ws_error *e)
{
    char show_buf[SHOW_MAX * 4 + 8];
    int64_t n;
    if (span_eq(name, "Host")) {
        if (v.n == 0)
            return ws_seterr(e, "%s: Host is empty", kind);
        if (v.n > HOST_MAX)
            return ws_seterr(e, "%s: Host is longer than %d characters", kind, HOST_MAX);
        if (!host_valid(v.p, v.n))
            return ws_seterr(e, "%s: Host '%s' is not a host name or address", kind, SHOWN(v.p, v.n));
        memcpy(out->host, v.p, v.n);
        out->host[v.n] = '\0';
    } else if (span_eq(name, "Port")) {
        int rc = decimal(v.p, v.n, 5, &n);
        if (rc == -1)
            return ws_seterr(e, "%s: Port '%s' is not a number", kind, SHOWN(v.p, v.n));
        if (rc != 0 || n < 1 || n > 65535)
            return ws_seterr(e, "%s: Port '%s' is out of range (1..65535)", kind, SHOWN(v.p, v.n));
        out->port = (int)n;
    } else if (span_eq(name, "ExpiresOn")) {
        int rc = decimal(v.p, v.n, 19, &n);
        if (rc == -2)
            return ws_seterr(e, "%s: ExpiresOn '%s' is out of range (over 19 digits or 2^63-1)", kind,
                             SHOWN(v.p, v.n));
        if (rc != 0)
            return ws_seterr(e, "%s: ExpiresOn '%s' is not a number", kind, SHOWN(v.p, v.n));
        out->expires_on = n;
    } else { /* VMID */
        char guid[37];
        if (v.n != 36)
            return ws_seterr(e, "%s: VMID '%s' is not a GUID", kind, SHOWN(v.p, v.n));
        memcpy(guid, v.p, 36);
        guid[36] = '\0';
        if (!ws_guid_valid(guid))
            return ws_seterr(e, "%s: VMID '%s' is not a GUID", kind, SHOWN(v.p, v.n));
        memcpy(out->vmid, guid, sizeof guid);
    }
    return 0;
}

static int parse(const char *text, size_t len, ws_token *out, ws_error *e)
{
    char show_buf[SHOW_MAX * 4 + 8];
    if (!text)
        return ws_seterr(e, "token: none given");
    if (len == 0)
        return ws_seterr(e, "token: empty");
    if (len > WS_TOKEN_MAX)
        return ws_seterr(e, "token: longer than %d characters", WS_TOKEN_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == 0)
            return ws_seterr(e, "token: NUL byte at offset %zu", i);
        if (c < 0x20 || c == 0x7f)
            return ws_seterr(e, "token: control character 0x%02X at offset %zu", c, i);
    }

    /* The first field decides the kind (REFERENCE.md section 3). */
    const char *amp = memchr(text, '&', len);
    span first = {text, amp ? (size_t)(amp - text) : len};
    const char *eq = memchr(first.p, '=', first.n);
    span first_name = {text, eq ? (size_t)(eq - text) : first.n};
    static const char *const host_fields[] = {"Host", "Port", "ExpiresOn"};
    static const char *const vm_fields[] = {"VMID", "Host", "ExpiresOn"};
    const char *const *fields;
    const char *kind;
    if (span_eq(first_name, "Host")) {
        out->kind = WS_TOKEN_HOST;
        fields = host_fields;
        kind = "HostToken";
    } else if (span_eq(first_name, "VMID")) {
        out->kind = WS_TOKEN_VM;
        fields = vm_fields;
        kind = "VMToken";
    } else {
        return ws_seterr(e, "token: unknown first field '%s'", SHOWN(first_name.p, first_name.n));
    }

    /* Signed bytes: the exact text before "&Signature=". */
    const char *sig_at = find_mem(text, len, SIG_SEP);
    if (!sig_at)
        return ws_seterr(e, "token: no Signature");
    span payload = {text, (size_t)(sig_at - text)};
    span sig_value = {sig_at + strlen(SIG_SEP), len - payload.n - strlen(SIG_SEP)};
    const char *extra = memchr(sig_value.p, '&', sig_value.n);
    if (extra) {
        span rest = {extra + 1, (size_t)(sig_value.p + sig_value.n - extra - 1)};
        const char *req = memchr(rest.p, '=', rest.n);
        return ws_seterr(e, "%s: unexpected field '%s' after Signature", kind,
                         SHOWN(rest.p, req ? (size_t)(req - rest.p) : rest.n));
    }

    /* Exactly the kind's fields, in order, before the Signature. */
    const char *p = payload.p, *end = payload.p + payload.n;
    for (size_t i = 0; i < 3; i++) {
        if (p > end)
            return ws_seterr(e, "%s: no %s before Signature", kind, fields[i]);
        const char *a = memchr(p, '&', (size_t)(end - p));
        span f = {p, (size_t)((a ? a : end) - p)};
        const char *fe = memchr(f.p, '=', f.n);
        span name = {f.p, fe ? (size_t)(fe - f.p) : f.n};
        if (!span_eq(name, fields[i])) {
            int known = 0;
            for (size_t j = 0; j < 3; j++)
                known |= span_eq(name, fields[j]) || span_eq(name, "Signature");
            if (known)
                return ws_seterr(e, "%s: field '%s' out of order or repeated (expected %s)", kind,
                                 SHOWN(name.p, name.n), fields[i]);
            return ws_seterr(e, "%s: unknown field '%s' (expected %s)", kind, SHOWN(name.p, name.n), fields[i]);
        }
        if (!fe)
            return ws_seterr(e, "%s: %s has no '=' and no value", kind, fields[i]);
        span value = {fe + 1, (size_t)(f.p + f.n - fe - 1)};
        if (parse_field(kind, name, value, out, e) != 0)
            return -1;
        p = (a ? a : end) + 1;
    }
    if (p <= end) {
        const char *fe = memchr(p, '=', (size_t)(end - p));
        return ws_seterr(e, "%s: unexpected field '%s' before Signature", kind,
                         SHOWN(p, fe ? (size_t)(fe - p) : (size_t)(end - p)));
    }

    if (parse_signature(kind, sig_value, out, e) != 0)
        return -1;
    out->signed_part = malloc(payload.n + 1);
    if (!out->signed_part)
        abort();
    memcpy(out->signed_part, payload.p, payload.n);
    out->signed_part[payload.n] = '\0';
    return 0;
}

int ws_token_parse(const char *text, size_t len, ws_token *out, ws_error *e)
{
    if (!out)
        return ws_seterr(e, "token: nowhere to put it");
    memset(out, 0, sizeof *out);
    if (parse(text, len, out, e) != 0) {
        ws_token_free(out);
        return -1;
    }
    return 0;
}

void ws_token_free(ws_token *t)
{
    if (!t)
        return;
    free(t->signature);
    free(t->signed_part);
    memset(t, 0, sizeof *t);
}

/* ---- verifying --------------------------------------------------------------- */

int ws_token_verify_signature(const ws_token *t, X509 *signer, ws_error *e)
{
    if (!t || !t->signed_part || !t->signature || t->signature_len == 0)
        return ws_seterr(e, "token has no signature to verify");
    if (!signer)
        return ws_seterr(e, "no signer certificate to verify the token with");
    char thumb[41];
    ws_cert_thumbprint(signer, thumb);
    const EVP_MD *md;
    if (strcmp(t->hash_alg, "SHA256") == 0)
        md = EVP_sha256();
    else if (strcmp(t->hash_alg, "SHA1") == 0)
        md = EVP_sha1();
    else
        return ws_seterr(e, "token hash algorithm '%.15s' is not supported (SHA256 or SHA1)", t->hash_alg);
    EVP_PKEY *pub = X509_get0_pubkey(signer);
    if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
        ERR_clear_error();
        return ws_seterr(e, "signer %s has no RSA public key", thumb);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = ctx && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pub) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
             EVP_DigestVerify(ctx, t->signature, t->signature_len, (const unsigned char *)t->signed_part,
                              strlen(t->signed_part)) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (!ok)
        return ws_seterr(e, "signature does not verify with %s", thumb);
    return 0;
}
