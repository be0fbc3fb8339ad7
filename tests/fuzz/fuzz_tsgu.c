/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_tsgu: MS-TSGU packets as the gateway reads them (wire/tsgu.h): the header, then
 * the decoder its type selects; every decoder also sees the bytes whatever the type,
 * the way a client's decoders would. */
#include <stddef.h>
#include <stdint.h>

#include "wire/tsgu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_error e;
    ws_tsgu_header h;
    if (ws_tsgu_header_decode(data, size, &h, &e) != 0)
        return 0;
    (void)ws_tsgu_type_name(h.type);
    ws_tsgu_handshake_request hq;
    ws_tsgu_handshake_response hr;
    static ws_tsgu_tunnel_create tc; /* over 8 KiB: not on the stack */
    ws_tsgu_tunnel_response tr;
    ws_tsgu_tunnel_auth ta;
    ws_tsgu_tunnel_auth_response tar;
    ws_tsgu_channel_create cc;
    ws_tsgu_channel_response cr;
    ws_tsgu_data d;
    ws_tsgu_close_channel cl;
    (void)ws_tsgu_decode_handshake_request(data, size, &hq, &e);
    (void)ws_tsgu_decode_handshake_response(data, size, &hr, &e);
    (void)ws_tsgu_decode_tunnel_create(data, size, &tc, &e);
    (void)ws_tsgu_decode_tunnel_response(data, size, &tr, &e);
    (void)ws_tsgu_decode_tunnel_auth(data, size, &ta, &e);
    (void)ws_tsgu_decode_tunnel_auth_response(data, size, &tar, &e);
    (void)ws_tsgu_decode_channel_create(data, size, &cc, &e);
    (void)ws_tsgu_decode_channel_response(data, size, &cr, &e);
    (void)ws_tsgu_decode_data(data, size, &d, &e);
    (void)ws_tsgu_decode_close_channel(data, size, WS_TSGU_CLOSE_CHANNEL, &cl, &e);
    (void)ws_tsgu_decode_close_channel(data, size, WS_TSGU_CLOSE_CHANNEL_RESPONSE, &cl, &e);
    return 0;
}
