/* SPDX-License-Identifier: Apache-2.0 */
/* agent: the host's VMM agent (see agent.c). */
#ifndef WAPSIM_HOST_AGENT_H
#define WAPSIM_HOST_AGENT_H

#include "svc/httpd.h"

#define HOST_AGENT_PORT 5985

struct MHD_Daemon *host_agent_start(ws_component *c, ws_error *e);

#endif
