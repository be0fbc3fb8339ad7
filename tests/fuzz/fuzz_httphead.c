/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_httphead: the request head as the gateway reads it (gateway/httphead.h): the
 * request line and headers of RDG_OUT_DATA (the websocket upgrade, or legacy) and
 * RDG_IN_DATA, first as a connection's first head, then as the IN connection's second.
 * An accepted head must fit in the input and leave bounded fields; a refusal must carry
 * a status and a reason without control bytes (it is logged). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/httphead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r, const gw_http_head *h, size_t used, size_t size)
{
    if (used > size || (r != 0 && r != 1 && r != -1) || (r == 0 && used != 0))
        abort();
    if (r == 1 && (strlen(h->connection_id) > GW_CONN_ID_MAX || strlen(h->method) >= sizeof h->method ||
                   (h->kind == GW_REQ_WEBSOCKET && strlen(h->accept) != 28)))
        abort();
    if (r == -1) {
        if (!h->status)
            abort();
        for (const char *p = h->why; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_http_head h;
    size_t used;
    for (int again_in = 0; again_in <= 1; again_in++) {
        int r = gw_http_head_read(data, size, again_in, &h, &used);
        check(r, &h, used, size);
    }
    return 0;
}
