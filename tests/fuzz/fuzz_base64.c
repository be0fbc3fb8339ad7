/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_base64: base64 text (crypto/base64.h) as tokens, .rdp signatures and certificate
 * requests carry it; the first byte picks the flags. A decoded text is encoded again and
 * must give back the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int flags = data[0] & (WS_BASE64_SPACE | WS_BASE64_CANONICAL);
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    unsigned char *out = malloc(WS_BASE64_DECODED_MAX(n) + 3);
    if (!out)
        return 0;
    size_t out_len = 0, at = 0;
    if (ws_base64_decode(in, n, flags, out, &out_len, &at) == WS_BASE64_OK) {
        char *again = malloc(WS_BASE64_LEN(out_len) + 1);
        unsigned char *back = malloc(out_len + 3);
        if (again && back) {
            size_t m = ws_base64_encode(out, out_len, again);
            size_t back_len = 0;
            if (ws_base64_decode(again, m, WS_BASE64_CANONICAL, back, &back_len, &at) != WS_BASE64_OK ||
                back_len != out_len || memcmp(back, out, out_len) != 0)
                abort(); /* encode and decode disagree */
        }
        free(again);
        free(back);
    }
    free(out);
    return 0;
}
