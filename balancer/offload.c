/* SPDX-License-Identifier: Apache-2.0 */
/* offload: TLS on a side of a relayed connection (balancer.h), for tls-offload mode.
 * The client's TLS ends here with the balancer's own certificate (its SSL certificate
 * setting, from its My store, as the gateway binds its own); with reencrypt a new TLS
 * connection goes to the member. [model] The member's certificate is not verified: an
 * appliance's server-side TLS profile authenticates the server only when told to (F5
 * BIG-IP's server SSL profile: "Server Certificate: ignore" unless set to require). */
#include "balancer.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

int lb_tls_step(lb_side *s, int server, char *why, size_t n)
{
    ERR_clear_error();
    int r = server ? SSL_accept(s->ssl) : SSL_connect(s->ssl);
    if (r == 1) {
        s->tls_want = EPOLLIN;
        return 1;
    }
    int err = SSL_get_error(s->ssl, r);
    if (err == SSL_ERROR_WANT_READ) {
        s->tls_want = EPOLLIN;
        return 0;
    }
    if (err == SSL_ERROR_WANT_WRITE) {
        s->tls_want = EPOLLOUT;
        return 0;
    }
    unsigned long e = ERR_peek_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    snprintf(why, n, "TLS handshake %s: %s", server ? "with the client" : "with the member",
             reason ? reason : "the peer closed the connection");
    /* A peer that closes before its first byte (a health probe, a port scan) is no failure worth a line. */
    if ((!e && (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN)) ||
        (reason && strstr(reason, "unexpected eof")))
        return -2;
    return -1;
}
