/* SPDX-License-Identifier: Apache-2.0 */
/* sites: the two sites the portal machine serves (main.c starts both). */
#ifndef WAPSIM_PORTAL_SITES_H
#define WAPSIM_PORTAL_SITES_H

#include "svc/httpd.h"

/* The tenant site and tenant API, on the machine's port (tenant_site.c). */
enum MHD_Result tenant_handle(ws_httpd_req *rq);
/* The admin site, on ADMIN_SITE_PORT (admin_site.c): the fabric administrator only. */
enum MHD_Result admin_handle(ws_httpd_req *rq);

#endif
