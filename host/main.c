/* wapsim-host: a Hyper-V host. Port 2179 is the VM console (pre-connection PDU,
 * X.224, TLS, RDSTLS, RDP: coming with the "Connect through the gateway" issue);
 * port 5985 is the VMM agent (agent.c), which answers VMM's questions from this
 * host's own stores and trust list (trust.c). */
#include <unistd.h>

#include "agent.h"
#include "component.h"
#include "net.h"

int main(int argc, char **argv)
{
    ws_component c;
    ws_component_init(&c, "wapsim-host", "host", "A Hyper-V host: VM consoles on 2179, the VMM agent on 5985.", argc,
                      argv);
    ws_error e;
    int fd = ws_tcp_listen(c.machine.address, c.machine.port, 128, &e);
    if (fd < 0)
        ws_component_fail(&c, "%s", e.msg);
    struct MHD_Daemon *agent = host_agent_start(&c, &e);
    if (!agent)
        ws_component_fail(&c, "VMM agent: %s", e.msg);
    ws_component_running(&c, "VMM agent on 5985");
    ws_component_idle_loop(&c, &fd, 1);
    MHD_stop_daemon(agent);
    close(fd);
    ws_component_close(&c);
    return 0;
}
