/* httpd: the HTTPS servers of the portal and SPF, on libmicrohttpd. As on Windows,
 * the service's TLS certificate must be in its machine's LocalMachine\My with its
 * private key; it is read once, at start (libmicrohttpd's TLS is GnuTLS, so it is
 * handed PEM; DESIGN.md "The state file"). */
#ifndef WAPSIM_HTTPD_H
#define WAPSIM_HTTPD_H

#include <microhttpd.h>

#include "component.h"

/* Start an HTTPS daemon on the machine's address and port with the certificate
 * named by its ssl_cert setting; handler as MHD's access handler. */
struct MHD_Daemon *ws_httpd_start(ws_component *c, MHD_AccessHandlerCallback handler, void *cls, ws_error *e);

/* Queue a complete response with a body and content type. */
enum MHD_Result ws_httpd_reply(struct MHD_Connection *conn, unsigned status, const char *content_type,
                               const void *body, size_t len);

#endif
