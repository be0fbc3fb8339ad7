/* SPDX-License-Identifier: Apache-2.0 */
/* trust: see trust.h. */
#include "trust.h"

#include <stdio.h>
#include <string.h>

#include "base/time.h"
#include "lab/clock.h"
#include "lab/settings.h"

/* The running service's list and when it read it: written once by host_trust_load, in
 * main before any thread starts, then only read. */
static ws_strv loaded;
static int64_t loaded_at;

int host_trust_load(ws_state *st, const char *host, ws_error *e)
{
    ws_strv_free(&loaded);
    if (ws_trusted_issuer_list(st, host, &loaded, e) != 0)
        return -1;
    loaded_at = ws_clock_now(st, host);
    return 0;
}

const ws_strv *host_trust_loaded(void)
{
    return &loaded;
}

int64_t host_trust_loaded_at(void)
{
    return loaded_at;
}

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

void host_token_signer_refusal(const ws_fedauth_result *r, const char *host, ws_error *e)
{
    if (r->failed != WS_FEDAUTH_UNTRUSTED) {
        host_signer_refusal(r, host, e);
        return;
    }
    /* [model] the wording: what Hyper-V logs for an untrusted issuer is not public. */
    char when[32];
    ws_time_format(loaded_at, when, sizeof when);
    char list[512] = "";
    size_t len = 0;
    for (int i = 0; i < r->trusted.n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? "," : "", r->trusted.v[i]);
    ws_seterr(e,
              "thumbprint %s is not among the trusted issuers {%s} the Hyper-V Virtual Machine Management service "
              "on %s loaded when it started (%s)",
              r->thumbprint, list, host, when);
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
