/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_planar: the RDP 6.0 Planar decoder (wire/planar.h) a client runs on every compressed
 * 32-bpp bitmap from a host. The first two bytes choose the bitmap's width and height (1 to
 * 64 each, the tiles hosts send), the rest is the stream; what decodes is encoded again and
 * must decode to the same pixels. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/planar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[64 * 64 * 4], again[64 * 64 * 4], enc[WS_PLANAR_MAX_SIZE(64, 64)];
    if (size < 2)
        return 0;
    unsigned w = 1 + data[0] % 64, h = 1 + data[1] % 64;
    ws_error e;
    if (ws_planar_decode(data + 2, size - 2, w, h, out, sizeof out, &e) != 0)
        return 0;
    size_t n = ws_planar_encode(out, w, h, enc, sizeof enc);
    if (n == 0 || ws_planar_decode(enc, n, w, h, again, sizeof again, &e) != 0 ||
        memcmp(out, again, (size_t)w * h * 4) != 0)
        abort();
    return 0;
}
