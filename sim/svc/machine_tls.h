/* SPDX-License-Identifier: Apache-2.0 */
/* machine_tls: TLS contexts as a lab machine makes them. A client trusts only its
 * machine's LocalMachine\Root store and checks validity on its machine's lab clock;
 * a server presents a certificate, with its key, from its machine's My store. */
#ifndef WAPSIM_MACHINE_TLS_H
#define WAPSIM_MACHINE_TLS_H

#include <openssl/ssl.h>

#include "lab/state.h"

/* Replace ctx's trust with machine's Root store and its verification time with the
 * machine's lab clock now; turns peer verification on. ctx is one connection's (libcurl
 * makes one per connection); the store is shared, from a per-process cache rebuilt when
 * the machine's stores change (lab/store.h ws_store_generation). Thread-safe. */
int ws_tls_trust_machine(SSL_CTX *ctx, ws_state *st, const char *machine, ws_error *e);
/* A client context that trusts as machine does: what its Root store holds now, checked
 * on its lab clock at each verification (a clock step counts for the next handshake).
 * The same context is handed out while the machine's stores are unchanged; the caller
 * frees its reference (SSL_CTX_free) and must not change the context's settings (set
 * options on the SSL instead). Thread-safe. */
SSL_CTX *ws_tls_client_ctx(ws_state *st, const char *machine, ws_error *e);
/* A server context presenting cert_name, which must be in machine's My store with
 * its private key (as a Windows service finds its certificate). Built anew at each call
 * and never cached: each service calls it once as it starts and serves that context until
 * it restarts (the gateway's binding, the host's console certificate, the balancer's
 * offload certificate), as the real services read their certificate at start. */
SSL_CTX *ws_tls_server_ctx(ws_state *st, const char *machine, const char *cert_name, ws_error *e);
/* Drop the per-process cache of trust (tests; callers keep their references). */
void ws_tls_cache_flush(void);

#endif
