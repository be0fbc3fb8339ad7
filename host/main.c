/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim-host: a Hyper-V host. Port 2179 is the VM console (rdp.c: pre-connection
 * PDU, X.224, TLS with the host's certificate, RDSTLS with the tenant's VMToken or an
 * administrator's credentials; console.c: the RDP session drawing the VM's screen in
 * the console font, loaded once at start); port 5985 is the VMM agent (agent.c), which
 * answers VMM's questions from this host's own stores and configured trust list
 * (trust.c); a token is checked against the list the service loaded as it started. */
#include <stdio.h>
#include <unistd.h>

#include "agent.h"
#include "svc/component.h"
#include "console.h"
#include "lab/events.h"
#include "font.h"
#include "base/net.h"
#include "rdp.h"
#include "trust.h"

int main(int argc, char **argv)
{
    ws_component c;
    ws_component_init(&c, "wapsim-host", "host", "A Hyper-V host: VM consoles on 2179, the VMM agent on 5985.", argc,
                      argv);
    ws_error e;
    /* The VM consoles are drawn in a real console font, read once. */
    static host_font font;
    if (host_font_load(HOST_FONT_DEFAULT, &font, &e) != 0)
        ws_component_fail(&c, "console font: %s", e.msg);
    if (host_console_init(&font, &e) != 0)
        ws_component_fail(&c, "console font %s: %s", HOST_FONT_DEFAULT, e.msg);
    host_console_sessions_lost(c.st, c.machine.name);
    /* The console's certificate is bound when the service starts, as Hyper-V does: a
     * change takes effect at the next restart. Without a usable one the host still
     * runs (VMM needs its agent) and each console connection fails at TLS. */
    ws_error tls_e;
    SSL_CTX *tls = host_rdp_tls_ctx(&c, &tls_e);
    if (!tls) {
        fprintf(stderr, "%s: %s: console TLS: %s\n", c.program, c.machine.name, tls_e.msg);
        ws_event_write(c.st, c.machine.name, WS_EV_HYPERV_14165, tls_e.msg);
    }
    struct MHD_Daemon *agent = host_agent_start(&c, &e);
    if (!agent)
        ws_component_fail(&c, "VMM agent: %s", e.msg);
    /* 2179 last: the supervisor calls the host healthy once it accepts there, so by then
     * its TLS and its VMM agent must be ready too. */
    int fd = ws_tcp_listen(c.machine.address, c.machine.port, 128, &e);
    if (fd < 0)
        ws_component_fail(&c, "%s", e.msg);
    ws_component_running(&c, tls ? "VMM agent on 5985; console TLS ready" : "VMM agent on 5985; console TLS unusable");
    /* The trusted issuers' thumbprints are read as the service starts and kept until it
     * restarts (trust.h): a Read-SCVMHost after this waits for `service restart`. Read
     * right after the start is logged (7036), the record diagnose dates the list by, so a
     * change between the two is seen as after the start (at worst a needless restart, never
     * a missed one), and before the first console connection is served (they wait in the
     * listener's backlog). */
    if (host_trust_load(c.st, c.machine.name, &e) != 0)
        ws_component_fail(&c, "TrustedIssuerCertificateHashes: %s", e.msg);
    host_rdp_serve(&c, fd, tls, tls ? NULL : tls_e.msg);
    MHD_stop_daemon(agent);
    close(fd);
    if (host_rdp_active() == 0) {
        if (tls)
            SSL_CTX_free(tls);
        host_font_free(&font);
    }
    ws_component_close(&c);
    return 0;
}
