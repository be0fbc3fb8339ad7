/* wapsim-vmm: the SCVMM server (port 8100), which issues console tokens and .rdp
 * files. This stage listens and answers the health probe only. */
#include <unistd.h>

#include "component.h"
#include "net.h"

int main(int argc, char **argv)
{
    ws_component c;
    ws_component_init(&c, "wapsim-vmm", "vmm", "The SCVMM server: console tokens and .rdp files.", argc, argv);
    ws_error e;
    int fd = ws_tcp_listen(c.machine.address, c.machine.port, 64, &e);
    if (fd < 0)
        ws_component_fail(&c, "%s", e.msg);
    ws_component_running(&c, NULL);
    ws_component_idle_loop(&c, &fd, 1);
    close(fd);
    ws_component_close(&c);
    return 0;
}
