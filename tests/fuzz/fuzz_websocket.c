/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_websocket: websocket frames as the gateway reads them (wire/websocket.h): the
 * header, then the masked payload unmasked in a copy; and the accept key of the input as
 * a Sec-WebSocket-Key. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/websocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_error e;
    ws_websocket_frame f;
    if (ws_websocket_decode_header(data, size, 1u << 20, &f, &e) == 0 && f.header_len <= size) {
        size_t n = size - f.header_len;
        if (f.payload_len < n)
            n = (size_t)f.payload_len;
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy)
            return 0;
        memcpy(copy, data + f.header_len, n);
        if (f.masked)
            ws_websocket_unmask(copy, n, f.mask, 0);
        free(copy);
    }
    char key[256], accept[29];
    size_t kn = size < sizeof key - 1 ? size : sizeof key - 1;
    memcpy(key, data, kn);
    key[kn] = '\0';
    (void)ws_websocket_accept_key(key, accept);
    return 0;
}
