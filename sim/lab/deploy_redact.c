#include "lab/deployment.h"
int ws_deploy_redact(ws_state *st, ws_deploy_export *x, ws_error *e)
{
    (void)st; (void)x;
    return ws_seterr(e, "not yet");
}
