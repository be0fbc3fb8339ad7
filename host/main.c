/* wapsim-host: a Hyper-V host. Port 2179 is the VM console (pre-connection PDU,
 * X.224, TLS, RDSTLS, RDP); port 5985 the VMM agent (as WinRM). This stage listens
 * on both and answers the health probe. */
#include <unistd.h>

#include "component.h"
#include "net.h"

#define WINRM_PORT 5985

int main(int argc, char **argv)
{
    ws_component c;
    ws_component_init(&c, "wapsim-host", "host", "A Hyper-V host: VM consoles on 2179, the VMM agent on 5985.", argc,
                      argv);
    ws_error e;
    int fds[2];
    fds[0] = ws_tcp_listen(c.machine.address, c.machine.port, 128, &e);
    if (fds[0] < 0)
        ws_component_fail(&c, "%s", e.msg);
    fds[1] = ws_tcp_listen(c.machine.address, WINRM_PORT, 64, &e);
    if (fds[1] < 0)
        ws_component_fail(&c, "%s", e.msg);
    ws_component_running(&c, "VMM agent on 5985");
    ws_component_idle_loop(&c, fds, 2);
    close(fds[0]);
    close(fds[1]);
    ws_component_close(&c);
    return 0;
}
