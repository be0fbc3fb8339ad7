/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_rdstls: RDSTLS PDUs (wire/rdstls.h): the length a reader frames with, then each
 * decoder on one whole PDU, as the host (auth request) and client (capabilities, auth
 * response) read them. */
#include <stddef.h>
#include <stdint.h>

#include "wire/rdstls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long n = ws_rdstls_pdu_length(data, size);
    if (n <= 0 || (size_t)n > size)
        return 0;
    ws_error e;
    ws_rdstls_capabilities c;
    static ws_rdstls_auth_request rq;
    ws_rdstls_auth_response rs;
    (void)ws_rdstls_decode_capabilities(data, (size_t)n, &c, &e);
    (void)ws_rdstls_decode_auth_request(data, (size_t)n, &rq, &e);
    if (ws_rdstls_decode_auth_response(data, (size_t)n, &rs, &e) == 0)
        (void)ws_rdstls_result_name(rs.result_code);
    return 0;
}
