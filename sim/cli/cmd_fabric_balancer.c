/* wapsim fabric add-balancer | set-balancer | remove-balancer: a load balancer in front of the gateways (issue 14). */
#include "cli/cmd.h"

const ws_cmd ws_cmds_fabric_balancer[] = {
    {0},
};
