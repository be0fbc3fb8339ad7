/* cmd_lab_export: `wapsim lab export DIR [--archive] [--redact]`: the lab as a deployment
 * file (lab/deployment.h). Filled by issue 15's export work. */
#include "cli/cmd.h"

const ws_cmd ws_cmds_lab_export[] = {
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
