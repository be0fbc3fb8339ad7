/* machine_tls: TLS contexts as a lab machine makes them. A client trusts only its
 * machine's LocalMachine\Root store and checks validity on its machine's lab clock;
 * a server presents a certificate, with its key, from its machine's My store. */
#ifndef WAPSIM_MACHINE_TLS_H
#define WAPSIM_MACHINE_TLS_H

#include <openssl/ssl.h>

#include "lab/state.h"

/* Replace ctx's trust with machine's Root store and its verification time with the
 * machine's lab clock; turns peer verification on. */
int ws_tls_trust_machine(SSL_CTX *ctx, ws_state *st, const char *machine, ws_error *e);
/* A client context that trusts as machine does. */
SSL_CTX *ws_tls_client_ctx(ws_state *st, const char *machine, ws_error *e);
/* A server context presenting cert_name, which must be in machine's My store with
 * its private key (as a Windows service finds its certificate). */
SSL_CTX *ws_tls_server_ctx(ws_state *st, const char *machine, const char *cert_name, ws_error *e);

#endif
