/* fedauth: see fedauth.h. */
#include "fedauth.h"

#include <inttypes.h>
#include <string.h>

#include "lab/clock.h"
#include "lab/settings.h"
#include "lab/store.h"

int fedauth_check_cookie(ws_state *st, const char *gateway, const char *cookie, ws_token *tok, ws_error *e)
{
    ws_error inner;
    memset(tok, 0, sizeof *tok);
    if (ws_token_parse(cookie, strlen(cookie), tok, &inner) != 0)
        return ws_seterr(e, "the cookie is not a console token: %s", inner.msg);
    if (tok->kind != WS_TOKEN_HOST) {
        ws_seterr(e, "the cookie is a VMToken, not a HostToken");
        goto refuse;
    }
    if (!ws_trusted_issuer_has(st, gateway, tok->thumbprint)) {
        ws_seterr(e, "the signer %s is not in FedAuthSettings.TrustedIssuerCertificates", tok->thumbprint);
        goto refuse;
    }
    X509 *signer = NULL;
    if (ws_store_find(st, gateway, "My", tok->thumbprint, &signer, &inner) != 0 &&
        ws_store_find(st, gateway, "Root", tok->thumbprint, &signer, &inner) != 0) {
        ws_seterr(e, "the signer certificate %s is not in the gateway's LocalMachine\\My or \\Root store",
                  tok->thumbprint);
        goto refuse;
    }
    int64_t now = ws_clock_now(st, gateway);
    int rc = ws_store_verify_chain(st, gateway, signer, now, &inner);
    if (rc != 0) {
        X509_free(signer);
        ws_seterr(e, "the signer certificate %s does not chain to a root the gateway trusts: %s", tok->thumbprint,
                  inner.msg);
        goto refuse;
    }
    rc = ws_token_verify_signature(tok, signer, &inner);
    X509_free(signer);
    if (rc != 0) {
        ws_seterr(e, "the cookie's signature is not valid: %s", inner.msg);
        goto refuse;
    }
    if (strcmp(tok->hash_alg, "SHA256") != 0) {
        ws_seterr(e, "the cookie is signed with %s, not SHA256", tok->hash_alg);
        goto refuse;
    }
    if (tok->expires_on <= now) {
        char when[32], at[32];
        ws_time_format(tok->expires_on, when, sizeof when);
        ws_time_format(now, at, sizeof at);
        ws_seterr(e, "the cookie expired at %s (the gateway's clock says %s)", when, at);
        goto refuse;
    }
    return 0;
refuse:
    ws_token_free(tok);
    return -1;
}
