/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_rdpneg: the first bytes a host (or the gateway's upstream) reads (wire/rdpneg.h):
 * the pre-connection PDU, a TPKT length, the X.224 Connection Request and Confirm. */
#include <stddef.h>
#include <stdint.h>

#include "wire/rdpneg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_error e;
    ws_pcb_pdu pcb;
    size_t used = 0;
    if (ws_pcb_decode(data, size, &pcb, &used, &e) == 0 && used <= size) {
        data += used;
        size -= used;
    }
    (void)ws_tpkt_length(data, size, 65535);
    ws_x224_cr cr;
    ws_x224_cc cc;
    (void)ws_x224_cr_decode(data, size, &cr, &e);
    (void)ws_x224_cc_decode(data, size, &cc, &e);
    return 0;
}
