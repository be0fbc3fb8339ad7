/* wapsim-balancer: a load balancer in front of the RD Gateways (lb01) [model: a layer-4
 * appliance]. Placeholder until its relay lands: it accepts and closes. */
#include "svc/component.h"
#include "base/net.h"
#include "base/util.h"

int main(int argc, char **argv)
{
    ws_component c;
    ws_component_init(&c, "wapsim-balancer", "balancer", "a load balancer in front of the RD Gateways", argc, argv);
    ws_error e;
    int fd = ws_tcp_listen(c.machine.address, c.machine.port, 1024, &e);
    if (fd < 0)
        ws_component_fail(&c, "%s", e.msg);
    ws_component_running(&c, "listening (placeholder)");
    ws_component_idle_loop(&c, &fd, 1);
    ws_component_close(&c);
    return 0;
}
