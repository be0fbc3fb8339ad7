/* wapsim dns show | set: each machine's name resolution (issue 14). */
#include "cli/cmd.h"

const ws_cmd ws_cmds_dns[] = {
    {0},
};
