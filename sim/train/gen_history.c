/* SPDX-License-Identifier: Apache-2.0 */
/* gen_history: the background of a generated exercise (train/generate.h). In the field
 * the breaking change is hours or days old when the ticket comes, and the logs hold
 * routine changes around it; so the steps here put the fault on the lab clock (clock
 * advance: Kernel-General event 1 on every machine, as Windows logs a time change)
 * among harmless operator work: tenants' connects while everything works, a gateway
 * certificate renewal done right (new certificate, import, bind, restart), restarts of
 * SPF, on which no fault lives. After the break only what cannot repair or hide a fault:
 * never a restart of a machine a fault keeps (gen_keep: p7's host, m3b's gateway),
 * never a certificate or trust change, never a connect that might fail. */
#include <stdio.h>
#include <string.h>

#include "train/gen_int.h"

static void tenant_connect(gen_ctx *c, ws_buf *out)
{
    const gen_vm *v = &c->vms[gen_below(c, c->nvms)];
    ws_buf_addf(out, "step connect --tenant %s --vm %s\n", v->tenant, v->name);
}

/* A renewal of the gateway's TLS certificate as a careful administrator does it. */
static void renew_gateway_cert(gen_ctx *c, ws_buf *out)
{
    char name[GEN_NAME];
    snprintf(name, sizeof name, "rdgw-%d-%02d", 2027 + gen_below(c, 2), 1 + gen_below(c, 12));
    ws_buf_addf(out, "step cert new %s --subject CN=%s --san DNS:%s --eku serverAuth --key-usage "
                     "digitalSignature,keyEncipherment --issuer lab-root-ca --days 365\n",
                name, c->public_fqdn, c->public_fqdn);
    ws_buf_addf(out, "step cert import %s --machine %s --store My\n", name, c->gateway);
    ws_buf_addf(out, "step gateway set --machine %s --ssl-cert %s\n", c->gateway, name);
    ws_buf_addf(out, "step service restart %s\n", c->gateway);
    snprintf(c->gwcert, sizeof c->gwcert, "%s", name);
}

/* A restart of a machine that holds no part of the console path's trust and that no
 * fault keeps: SPF. Never the portal: it serves the admin site, and a restart would end
 * the sessions signed in to it (the trainee's, the trainer's) and kill the commands its
 * pages run (the trainer's page's assign of every seat, this seat's among them). */
static void harmless_restart(gen_ctx *c, ws_buf *out)
{
    (void)gen_below(c, 2); /* drawn as it always was: a seed's faults and names stay */
    if (c->spf[0] && !gen_kept(c, c->spf))
        ws_buf_addf(out, "step service restart %s\n", c->spf);
}

void gen_history_before(gen_ctx *c, ws_buf *out)
{
    tenant_connect(c, out);
    ws_buf_addf(out, "step clock advance %dd\n", 2 + gen_below(c, 8));
    if (gen_below(c, 2))
        renew_gateway_cert(c, out);
    else
        harmless_restart(c, out);
    tenant_connect(c, out);
    ws_buf_addf(out, "step clock advance %dh\n", 1 + gen_below(c, 30));
}

void gen_history_between(gen_ctx *c, ws_buf *out)
{
    ws_buf_addf(out, "step clock advance %dh\n", 2 + gen_below(c, 40));
}

void gen_history_after(gen_ctx *c, ws_buf *out)
{
    ws_buf_addf(out, "step clock advance %dh\n", 3 + gen_below(c, 40));
    harmless_restart(c, out);
    ws_buf_addf(out, "step clock advance %dm\n", 10 + gen_below(c, 50));
}
