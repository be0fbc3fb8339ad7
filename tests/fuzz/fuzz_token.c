/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_token: the host token and the VM token as the gateway's FedAuth plug-in and the
 * host read them (wire/token.h): one parser, the kind told by the first field. */
#include <stddef.h>
#include <stdint.h>

#include "wire/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_error e;
    ws_token t = {0};
    if (ws_token_parse((const char *)data, size, &t, &e) == 0)
        ws_token_free(&t);
    return 0;
}
