/* SPDX-License-Identifier: Apache-2.0 */
/* sslerr: see sslerr.h. */
#include "crypto/sslerr.h"

#include <openssl/err.h>

int ws_ssl_error(ws_error *e, const char *what)
{
    unsigned long code = ERR_peek_last_error();
    char buf[256] = "";
    if (code)
        ERR_error_string_n(code, buf, sizeof buf);
    ERR_clear_error();
    return ws_seterr(e, "%s%s%s", what, buf[0] ? ": " : "", buf);
}
