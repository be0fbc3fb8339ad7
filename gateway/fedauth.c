/* SPDX-License-Identifier: Apache-2.0 */
/* fedauth: see fedauth.h. The check itself is the lab's one token rule (lab/fedauth.h);
 * this file says where the gateway looks for the signer and words each refusal as
 * event 201 quotes it. */
#include "fedauth.h"

#include <string.h>

#include "base/time.h"
#include "lab/fedauth.h"

/* The refusal text for the failed step, in the plug-in's words. */
static void refusal(const ws_fedauth_result *r, ws_error *e)
{
    const ws_token *t = &r->token;
    char when[32], at[32];
    switch (r->failed) {
    case WS_FEDAUTH_OK:
        break;
    case WS_FEDAUTH_PARSE:
        ws_seterr(e, "the cookie is not a console token: %s", r->detail);
        break;
    case WS_FEDAUTH_KIND:
        ws_seterr(e, "the cookie is a VMToken, not a HostToken");
        break;
    case WS_FEDAUTH_UNTRUSTED:
        ws_seterr(e, "the signer %s is not in FedAuthSettings.TrustedIssuerCertificates", r->thumbprint);
        break;
    case WS_FEDAUTH_NO_CERT:
        ws_seterr(e, "the signer certificate %s is not in the gateway's LocalMachine\\My or \\Root store",
                  r->thumbprint);
        break;
    case WS_FEDAUTH_CHAIN:
        ws_seterr(e, "the signer certificate %s does not chain to a root the gateway trusts: %s", r->thumbprint,
                  r->detail);
        break;
    case WS_FEDAUTH_SIGNATURE:
        ws_seterr(e, "the cookie's signature is not valid: %s", r->detail);
        break;
    case WS_FEDAUTH_HASH:
        ws_seterr(e, "the cookie is signed with %s, not SHA256", t->hash_alg);
        break;
    case WS_FEDAUTH_EXPIRED:
        ws_time_format(t->expires_on, when, sizeof when);
        ws_time_format(r->now, at, sizeof at);
        ws_seterr(e, "the cookie expired at %s (the gateway's clock says %s)", when, at);
        break;
    }
}

int fedauth_check_cookie(ws_state *st, const char *gateway, const char *cookie, ws_token *tok, ws_error *e)
{
    ws_fedauth_result r;
    memset(tok, 0, sizeof *tok);
    if (ws_fedauth_check(st, gateway, cookie, WS_TOKEN_HOST, WS_FEDAUTH_STORES_GATEWAY, &r) != WS_FEDAUTH_OK) {
        refusal(&r, e);
        ws_fedauth_result_free(&r);
        return -1;
    }
    *tok = r.token; /* the caller owns the token now */
    memset(&r.token, 0, sizeof r.token);
    ws_fedauth_result_free(&r);
    return 0;
}
