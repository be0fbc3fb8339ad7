/* SPDX-License-Identifier: Apache-2.0 */
/* utf16: UTF-16LE <-> UTF-8 for the wire formats that carry Windows strings
 * (MS-TSGU names and cookies, the pre-connection PDU, RDSTLS). Strict: unpaired
 * surrogates and invalid UTF-8 are refused. */
#ifndef WAPSIM_UTF16_H
#define WAPSIM_UTF16_H

#include <stddef.h>
#include <stdint.h>

/* Decode n bytes of UTF-16LE (n even) into out (NUL-terminated, at most cap bytes
 * including the NUL), stopping at the first U+0000. Returns the UTF-8 length, or -1
 * when invalid or too long. */
long ws_utf16le_to_utf8(const uint8_t *in, size_t n, char *out, size_t cap);
/* Encode UTF-8 into UTF-16LE without a terminator. Returns bytes written, or -1
 * when invalid or out is too small. */
long ws_utf8_to_utf16le(const char *in, uint8_t *out, size_t cap);

#endif
