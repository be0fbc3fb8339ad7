/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_rdppdu: the share-layer PDUs a host reads from its client (wire/rdppdu.h): Client
 * Info, Confirm Active, the finalization PDUs, input (slow and fast path), Refresh Rect,
 * Suppress Output, Shutdown; and the server PDUs a client reads, a bitmap update drawn
 * into a small frame as the console does. */
#include <stddef.h>
#include <stdint.h>

#include "wire/rdppdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void host_reads(const uint8_t *p, size_t n)
{
    ws_error e;
    ws_pdu_hdr h;
    static ws_pdu_client_info ci;
    static ws_pdu_confirm_active ca;
    ws_pdu_synchronize sy;
    ws_pdu_control ct;
    ws_pdu_font fo;
    ws_pdu_refresh_rect rr;
    ws_pdu_suppress_output so;
    static ws_pdu_input in;
    (void)ws_pdu_decode_client_info(p, n, &ci, &e);
    if (ws_pdu_peek(p, n, &h, &e) == 0)
        (void)ws_pdu_type2_name(h.pdu_type2);
    (void)ws_pdu_decode_confirm_active(p, n, &h, &ca, &e);
    (void)ws_pdu_decode_synchronize(p, n, &h, &sy, &e);
    (void)ws_pdu_decode_control(p, n, &h, &ct, &e);
    (void)ws_pdu_decode_font_list(p, n, &h, &fo, &e);
    (void)ws_pdu_decode_refresh_rect(p, n, &h, &rr, &e);
    (void)ws_pdu_decode_suppress_output(p, n, &h, &so, &e);
    (void)ws_pdu_decode_shutdown_request(p, n, &h, &e);
    (void)ws_pdu_decode_input(p, n, &h, &in, &e);
    (void)ws_pdu_fastpath_length(p, n);
    (void)ws_pdu_decode_fastpath_input(p, n, &in, &e);
}

static void client_reads(const uint8_t *p, size_t n)
{
    ws_error e;
    ws_pdu_hdr h;
    ws_pdu_license li;
    static ws_pdu_demand_active da;
    ws_pdu_font fo;
    uint32_t info;
    static ws_pdu_bitmap_update bu;
    static uint8_t frame[64 * 48 * 4];
    (void)ws_pdu_decode_license(p, n, &li, &e);
    (void)ws_pdu_decode_demand_active(p, n, &h, &da, &e);
    (void)ws_pdu_decode_font_map(p, n, &h, &fo, &e);
    (void)ws_pdu_decode_shutdown_denied(p, n, &h, &e);
    if (ws_pdu_decode_set_error_info(p, n, &h, &info, &e) == 0)
        (void)ws_pdu_errinfo_name(info);
    if (ws_pdu_decode_update_bitmap(p, n, &h, &bu, &e) == 0)
        for (unsigned i = 0; i < bu.count && i < WS_PDU_RECTS_MAX; i++)
            (void)ws_pdu_bitmap_draw(&bu.rects[i], frame, 64 * 4, 64, 48, &e);
    if (ws_pdu_decode_fastpath_update(p, n, &bu, &e) == 0)
        for (unsigned i = 0; i < bu.count && i < WS_PDU_RECTS_MAX; i++)
            (void)ws_pdu_bitmap_draw(&bu.rects[i], frame, 64 * 4, 64, 48, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    host_reads(data, size);
    client_reads(data, size);
    return 0;
}
