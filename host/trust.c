/* trust: see trust.h. */
#include "trust.h"

#include "lab/clock.h"

void host_signer_refusal(const ws_fedauth_result *r, const char *host, ws_error *e)
{
    switch (r->failed) {
    case WS_FEDAUTH_UNTRUSTED:
        ws_seterr(e, "thumbprint %s is not in %s's TrustedIssuerCertificateHashes", r->thumbprint, host);
        break;
    case WS_FEDAUTH_NO_CERT:
        ws_seterr(e, "the certificate with thumbprint %s is not in %s's LocalMachine\\My store", r->thumbprint, host);
        break;
    case WS_FEDAUTH_CHAIN:
        ws_seterr(e,
                  "the certificate with thumbprint %s does not chain to a trusted root in %s's LocalMachine\\Root "
                  "store: %s",
                  r->thumbprint, host, r->detail);
        break;
    default: /* not a signer step */
        ws_seterr(e, "%s", r->error.msg);
        break;
    }
}

int host_trusts_signer(ws_state *st, const char *host, const char *thumbprint, X509 **signer, ws_error *e)
{
    ws_fedauth_result r;
    int rc = 0;
    if (ws_fedauth_check_signer(st, host, thumbprint, WS_FEDAUTH_STORES_HOST, ws_clock_now(st, host), signer, &r) !=
        WS_FEDAUTH_OK) {
        host_signer_refusal(&r, host, e);
        rc = -1;
    }
    ws_fedauth_result_free(&r);
    return rc;
}
