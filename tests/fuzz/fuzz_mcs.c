/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_mcs: MCS and GCC as the host reads them (wire/mcs.h): an X.224 Data TPDU, then
 * every MCS decoder on its payload (Connect Initial with its GCC client data, the domain
 * PDUs); and the server-side decoders a client uses. */
#include <stddef.h>
#include <stdint.h>

#include "wire/mcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_all(const uint8_t *p, size_t n)
{
    ws_error e;
    static ws_mcs_connect_initial ci;
    static ws_mcs_connect_response cr;
    static ws_gcc_client_data cd;
    static ws_gcc_server_data sd;
    (void)ws_mcs_connect_initial_decode(p, n, &ci, &e);
    (void)ws_mcs_connect_response_decode(p, n, &cr, &e);
    (void)ws_gcc_client_data_decode(p, n, &cd, &e);
    (void)ws_gcc_server_data_decode(p, n, &sd, &e);
    int type = ws_mcs_domain_pdu_type(p, n);
    (void)ws_mcs_domain_pdu_name(type);
    ws_mcs_erect_domain ed;
    uint8_t reason;
    ws_mcs_attach_user_confirm auc;
    ws_mcs_channel_join_request cjr;
    ws_mcs_channel_join_confirm cjc;
    ws_mcs_send_data sdata;
    (void)ws_mcs_erect_domain_decode(p, n, &ed, &e);
    (void)ws_mcs_disconnect_ultimatum_decode(p, n, &reason, &e);
    (void)ws_mcs_attach_user_request_decode(p, n, &e);
    (void)ws_mcs_attach_user_confirm_decode(p, n, &auc, &e);
    (void)ws_mcs_channel_join_request_decode(p, n, &cjr, &e);
    (void)ws_mcs_channel_join_confirm_decode(p, n, &cjc, &e);
    (void)ws_mcs_send_data_decode(type, p, n, &sdata, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_error e;
    const uint8_t *payload;
    size_t n;
    if (ws_x224_data_decode(data, size, &payload, &n, &e) == 0)
        decode_all(payload, n);
    else
        decode_all(data, size);
    return 0;
}
