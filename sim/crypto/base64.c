/* SPDX-License-Identifier: Apache-2.0 */
/* base64: see base64.h. */
#include "crypto/base64.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

size_t ws_base64_encode(const unsigned char *in, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* The 6-bit value of an alphabet character, or -1. */
static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Checks what EVP_DecodeBlock does not: the alphabet, where '=' may be, the padding bits. */
static ws_base64_fault check(const char *c, size_t m, int flags, size_t *pad, size_t *at)
{
    *at = m;
    if (m == 0)
        return WS_BASE64_EMPTY;
    if (m % 4 != 0 || m > INT_MAX)
        return WS_BASE64_LENGTH;
    *pad = c[m - 1] != '=' ? 0 : c[m - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < m - *pad; i++) {
        if (b64_value(c[i]) < 0) {
            *at = i;
            return c[i] == '=' ? WS_BASE64_MISPLACED : WS_BASE64_BAD_CHAR;
        }
    }
    /* The last character before the padding carries 2 (one '=') or 4 (two) unused bits. */
    if ((flags & WS_BASE64_CANONICAL) && *pad && (b64_value(c[m - *pad - 1]) & (*pad == 1 ? 3 : 15)))
        return WS_BASE64_PAD_BITS;
    return WS_BASE64_OK;
}

ws_base64_fault ws_base64_decode(const char *in, size_t n, int flags, unsigned char *out, size_t *out_len,
                                 size_t *at)
{
    const char *c = in;
    char *compact = NULL;
    size_t m = n;
    if (flags & WS_BASE64_SPACE) {
        compact = malloc(n + 1);
        if (!compact)
            abort();
        m = 0;
        for (size_t i = 0; i < n; i++)
            if (!in[i] || !strchr(" \t\r\n\v\f", in[i]))
                compact[m++] = in[i];
        c = compact;
    }
    size_t pad = 0;
    ws_base64_fault f = check(c, m, flags, &pad, at);
    if (f == WS_BASE64_OK) {
        /* EVP_DecodeBlock decodes each '=' as zero bits: drop the bytes they stand for. */
        int got = EVP_DecodeBlock(out, (const unsigned char *)c, (int)m);
        if (got < 0 || (size_t)got != m / 4 * 3)
            f = WS_BASE64_BAD_CHAR; /* cannot happen after check() */
        else
            *out_len = (size_t)got - pad;
    }
    free(compact);
    return f;
}
