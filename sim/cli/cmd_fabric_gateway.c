/* wapsim fabric add-gateway | remove-gateway: more RD Gateway machines in a lab (issue 14). */
#include "cli/cmd.h"

const ws_cmd ws_cmds_fabric_gateway[] = {
    {0},
};
