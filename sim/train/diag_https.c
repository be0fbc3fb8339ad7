/* SPDX-License-Identifier: Apache-2.0 */
/* diag_https: do the chain's HTTPS callers accept the certificates their servers present?
 *
 * Two hops before the .rdp file exists: the tenant's browser to the tenant site (the
 * portal, by its public name) and the tenant site to SPF (by SPF's FQDN). Each caller
 * verifies its server as any TLS client does: a chain to its machine's Root store on its
 * machine's clock, and the name it connects by. When the browser refuses the portal, no
 * page loads; when the portal refuses SPF, the tenant's Connect gets HTTP 502 and the
 * portal's error ("SSL certificate problem: unable to get local issuer certificate"),
 * before VMM is ever asked. The probe is a real handshake from the caller's address with
 * the caller's trust (svc/machine_tls.h), the judgement the one the lab's clients record
 * (crypto/tls.h ws_tls_record_peer): what the server serves now, not what a setting
 * says. A server that is down is process-down's finding, not this one's. */
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/net.h"
#include "crypto/cert.h"
#include "crypto/tls.h"
#include "lab/vault.h"
#include "svc/machine_tls.h"
#include "train/diagnose_int.h"

typedef struct https_hop {
    const ws_machine *from, *to;
    const char *name;         /* what the caller connects by */
    const char *id;           /* the finding */
    const char *caller;       /* "The tenant's browser" */
    const char *server;       /* "the tenant site (portal)" */
    const char *symptom;      /* what the tenant sees when the caller refuses */
} https_hop;

/* The certificate the server presents and the caller's judgement of it; NULL with e set
 * when no handshake completes. */
static X509 *probe(diag *g, const https_hop *h, ws_peer_check *chk, ws_error *e)
{
    int fd = ws_tcp_connect_from(h->from->address, h->to->address, h->to->port, g->timeout_ms, WS_TCP_IO_TIMEOUT, e);
    if (fd < 0)
        return NULL;
    SSL_CTX *ctx = ws_tls_client_ctx(g->st, h->from->name, e);
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    X509 *cert = NULL;
    if (ssl && ws_tls_record_peer(ssl, h->name, chk) == 0) {
        SSL_set_fd(ssl, fd);
        if (SSL_connect(ssl) == 1) {
            cert = SSL_get1_peer_certificate(ssl);
            if (!cert)
                ws_seterr(e, "%s presented no certificate", h->to->name);
            SSL_shutdown(ssl);
        } else {
            unsigned long code = ERR_get_error();
            char reason[200] = "the connection closed during the handshake";
            if (code)
                ERR_error_string_n(code, reason, sizeof reason);
            ws_seterr(e, "TLS handshake with %s:%d failed: %s", h->to->address, h->to->port, reason);
        }
    } else if (ctx) {
        ws_seterr(e, "cannot create TLS");
    }
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return cert;
}

static void check_hop(diag *g, const https_hop *h)
{
    ws_diag_checked(g, "%s accepts %s's TLS certificate", h->from->name, h->to->name);
    if (ws_diag_machine_down(g, h->to->name))
        return;
    ws_peer_check chk;
    memset(&chk, 0, sizeof chk);
    ws_error e;
    X509 *served = probe(g, h, &chk, &e);
    if (!served || !chk.problems) {
        X509_free(served);
        return; /* no handshake: the caller's own symptom says so; its cause is elsewhere */
    }
    char text[512], *desc = ws_diag_describe(g->st, served, NULL);
    ws_tls_peer_text(&chk, text, sizeof text);
    ws_finding *f = ws_diag_add(g, h->id, h->from->name, WS_DIAG_ERROR, "%s does not accept the certificate of %s.",
                                h->caller, h->server);
    ws_diag_evidence(f, "A TLS handshake from %s (%s) to %s:%d for %s gets %s: %s.", h->from->name, h->from->address,
                     h->to->address, h->to->port, h->name, desc, text);
    ws_diag_evidence(f, "%s", h->symptom);
    char *roots = ws_diag_store_names(g->st, h->from->name, "Root");
    ws_diag_evidence(f, "%s's Root store holds %s.", h->from->name, roots);
    free(roots);
    char root[128] = "";
    ws_diag_vault_root_of(g->st, served, root, sizeof root);
    if (chk.problems & WS_PEER_UNTRUSTED) {
        const char *anchor = root[0] ? root : NULL;
        if (anchor)
            ws_diag_fix(f, "wapsim cert import %s --machine %s --store Root --public-only", anchor, h->from->name);
        ws_diag_fix(f, "PowerShell: Import-Certificate -FilePath .\\%s.cer -CertStoreLocation Cert:\\LocalMachine\\Root   "
                       "# on %s",
                    anchor ? anchor : "<the issuing root>", h->from->fqdn);
    }
    if (chk.problems & (WS_PEER_VALIDITY | WS_PEER_NAME | WS_PEER_OTHER))
        ws_diag_fix(f, "PowerShell: Get-Certificate -Template WebServer -SubjectName CN=%s -DnsName %s -CertStoreLocation "
                       "Cert:\\LocalMachine\\My   # on %s; bind it to the site's HTTPS binding in IIS Manager",
                    h->name, h->name, h->to->fqdn);
    free(desc);
    X509_free(served);
}

void ws_diag_check_https(diag *g)
{
    ws_machine spf;
    int have_spf = 0;
    for (int i = 0; i < g->nmachines && !have_spf; i++)
        if (strcmp(g->machines[i].role, "spf") == 0) {
            spf = g->machines[i];
            have_spf = 1;
        }
    if (!g->lab_running || !g->have_portal)
        return;
    if (g->have_client) {
        https_hop h = {&g->client, &g->portal, g->portal.public_fqdn[0] ? g->portal.public_fqdn : g->portal.fqdn,
                       WS_DIAG_PORTAL_CERT_UNTRUSTED, "The tenant's browser", "the tenant site (portal)",
                       "The browser shows a certificate warning instead of the tenant site: no sign-in, no Connect."};
        check_hop(g, &h);
    }
    if (have_spf) {
        https_hop h = {&g->portal, &spf, spf.fqdn, WS_DIAG_SPF_CERT_UNTRUSTED, "The tenant site (portal)",
                       "Service Provider Foundation (SPF)",
                       "The tenant's Connect > Console gets HTTP 502 from the tenant site, with the portal's TLS "
                       "error, before VMM is asked for a token (no VMM trace, no .rdp file)."};
        check_hop(g, &h);
    }
}
