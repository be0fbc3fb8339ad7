/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_spf: what SPF parses from outside (spf/request.h): the input as the request
 * target (the OData resource path), and as VMM's JSON error body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../spf/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    spf_request rq;
    ws_error e;
    int r = spf_request_parse((const char *)data, size, &rq, &e);
    if (r == 0 && rq.resource == SPF_RES_VMCONNECTION && (!ws_guid_valid(rq.vm_id) || !ws_guid_valid(rq.stamp)))
        abort();
    if (r != 0 && rq.status != 400 && rq.status != 404)
        abort();
    char msg[64];
    (void)spf_vmm_error(data, size, msg, sizeof msg, &e);
    return 0;
}
