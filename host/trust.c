/* trust: see trust.h. */
#include "trust.h"

#include "lab/clock.h"
#include "lab/settings.h"
#include "lab/store.h"

int host_trusts_signer(ws_state *st, const char *host, const char *thumbprint, X509 **signer, ws_error *e)
{
    if (!ws_trusted_issuer_has(st, host, thumbprint))
        return ws_seterr(e, "thumbprint %s is not in %s's TrustedIssuerCertificateHashes", thumbprint, host);
    X509 *cert = NULL;
    ws_error inner;
    if (ws_store_find(st, host, "My", thumbprint, &cert, &inner) != 0)
        return ws_seterr(e, "the certificate with thumbprint %s is not in %s's LocalMachine\\My store", thumbprint,
                         host);
    if (ws_store_verify_chain(st, host, cert, ws_clock_now(st, host), &inner) != 0) {
        X509_free(cert);
        return ws_seterr(e,
                         "the certificate with thumbprint %s does not chain to a trusted root in %s's "
                         "LocalMachine\\Root store: %s",
                         thumbprint, host, inner.msg);
    }
    if (signer)
        *signer = cert;
    else
        X509_free(cert);
    return 0;
}
