/* SPDX-License-Identifier: Apache-2.0 */
/* base64: the RFC 4648 alphabet with '=' padding, on OpenSSL's EVP_EncodeBlock and
 * EVP_DecodeBlock. Encoding writes no line breaks; decoding is strict (OpenSSL's own
 * decoder takes '=' anywhere), so one value has one accepted spelling apart from the
 * choices a caller's flags allow. The caller owns every buffer. */
#ifndef WAPSIM_BASE64_H
#define WAPSIM_BASE64_H

#include <stddef.h>

/* Characters for n bytes, without the final NUL. */
#define WS_BASE64_LEN(n) (4 * (((n) + 2) / 3))
/* Bytes at most for n characters. */
#define WS_BASE64_DECODED_MAX(n) ((n) / 4 * 3)

/* Write the base64 of n bytes and a NUL to out (WS_BASE64_LEN(n) + 1 bytes); returns
 * the length. n must be below INT_MAX / 4 * 3. */
size_t ws_base64_encode(const unsigned char *in, size_t n, char *out);

/* Decoding flags. */
#define WS_BASE64_SPACE 1     /* skip whitespace anywhere (" \t\r\n\v\f") */
#define WS_BASE64_CANONICAL 2 /* refuse non-zero bits under the padding */

/* What ws_base64_decode found wrong. */
typedef enum ws_base64_fault {
    WS_BASE64_OK = 0,
    WS_BASE64_EMPTY,      /* no characters */
    WS_BASE64_LENGTH,     /* not a multiple of 4 characters */
    WS_BASE64_BAD_CHAR,   /* a character outside the alphabet */
    WS_BASE64_MISPLACED,  /* '=' before the last one or two characters */
    WS_BASE64_PAD_BITS,   /* non-zero bits under the padding (WS_BASE64_CANONICAL) */
} ws_base64_fault;

/* Decode n characters of in into out (WS_BASE64_DECODED_MAX(n) bytes) and set *out_len.
 * On a fault, out is unspecified and *at is the index of the bad character (counted
 * without skipped whitespace) for WS_BASE64_BAD_CHAR and WS_BASE64_MISPLACED, else the
 * number of characters (so the one for WS_BASE64_EMPTY and WS_BASE64_LENGTH). */
ws_base64_fault ws_base64_decode(const char *in, size_t n, int flags, unsigned char *out, size_t *out_len,
                                 size_t *at);

#endif
