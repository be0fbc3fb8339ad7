/* httpd: see httpd.h. */
#include "httpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "settings.h"
#include "store.h"
#include "vault.h"

struct MHD_Daemon *ws_httpd_start(ws_component *c, MHD_AccessHandlerCallback handler, void *cls, ws_error *e)
{
    char cert_name[128];
    if (ws_setting_get(c->st, c->machine.name, WS_SET_SSL_CERT, cert_name, sizeof cert_name) != 0) {
        ws_seterr(e, "no SSL certificate is configured for %s", c->machine.name);
        return NULL;
    }
    int has_key = 0;
    if (!ws_store_contains(c->st, c->machine.name, "My", cert_name, &has_key) || !has_key) {
        ws_seterr(e, "SSL certificate '%s' is not in %s's LocalMachine\\My with its private key", cert_name,
                  c->machine.name);
        return NULL;
    }
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    if (ws_vault_get(c->st, cert_name, &cert, &key, NULL, e) != 0)
        return NULL;
    char *cert_pem = ws_cert_to_pem(cert);
    char *key_pem = key ? ws_key_to_pem(key) : NULL;
    X509_free(cert);
    EVP_PKEY_free(key);
    struct MHD_Daemon *d = NULL;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)c->machine.port);
    if (!cert_pem || !key_pem || inet_pton(AF_INET, c->machine.address, &sa.sin_addr) != 1) {
        ws_seterr(e, "cannot prepare certificate '%s' or address %s", cert_name, c->machine.address);
        goto out;
    }
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG,
                         (uint16_t)c->machine.port, NULL, NULL, handler, cls, MHD_OPTION_SOCK_ADDR, &sa,
                         MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_HTTPS_MEM_KEY, key_pem,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                         (size_t)(256 * 1024), MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!d)
        ws_seterr(e, "cannot start HTTPS on %s:%d", c->machine.address, c->machine.port);
    else
        return d; /* MHD keeps pointers to the PEM texts: they live as long as the process. */
out:
    free(cert_pem);
    if (key_pem) {
        memset(key_pem, 0, strlen(key_pem));
        free(key_pem);
    }
    return d;
}

enum MHD_Result ws_httpd_reply(struct MHD_Connection *conn, unsigned status, const char *content_type,
                               const void *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}
