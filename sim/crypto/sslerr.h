/* SPDX-License-Identifier: Apache-2.0 */
/* sslerr: OpenSSL's error queue as one ws_error line. Nothing to free. */
#ifndef WAPSIM_SSLERR_H
#define WAPSIM_SSLERR_H

#include "base/util.h"

/* Set e to what, then ": " and the newest queued OpenSSL error when there is one;
 * empties the queue. Returns -1. */
int ws_ssl_error(ws_error *e, const char *what);

#endif
