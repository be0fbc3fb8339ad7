/* SPDX-License-Identifier: Apache-2.0 */
/* rdp: the Hyper-V host's console port (2179), up to and including the security
 * layer (REFERENCE.md section 8): the pre-connection PDU naming the VM, the X.224
 * negotiation, TLS with the host's own certificate, and RDSTLS with the tenant's
 * VMToken, validated with this host's own trust (trust.c), its clock and its VMs.
 * One thread per connection; each opens its own state connection. Behind the
 * security layer (RDSTLS SUCCESS, or TLS for a client that offered no RDSTLS: the
 * administrator's path) the connection is handed to the VM's console (console.c). */
#ifndef WAPSIM_HOST_RDP_H
#define WAPSIM_HOST_RDP_H

#include <openssl/ssl.h>

#include "svc/component.h"

/* The Version of the RDSTLS Auth response is the host setting WS_SET_RDSTLS_REPLY_VERSION:
 * "1" (default; FreeRDP 3.29 needs it) or "echo" (the request's Version; FreeRDP 3.30
 * and later need it), read at each connection. */

/* The console's TLS context: the certificate named by the host's auth_cert setting
 * (WS_SET_AUTH_CERT), with its key from the host's My store. Built once at start, as
 * Hyper-V binds its certificate when the service starts. NULL with e when there is
 * no usable certificate. */
SSL_CTX *host_rdp_tls_ctx(ws_component *c, ws_error *e);

/* Accept console connections on fd until SIGTERM, one detached thread each (at most
 * HOST_RDP_MAX_CONN at once). tls may be NULL: connections then fail at the TLS step,
 * each with tls_error in the log. Returns after waiting briefly for open connections. */
void host_rdp_serve(ws_component *c, int fd, SSL_CTX *tls, const char *tls_error);

#define HOST_RDP_MAX_CONN 256

/* Connection threads still running (main frees the TLS context only when 0). */
int host_rdp_active(void);

#endif
