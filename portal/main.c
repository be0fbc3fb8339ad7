/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim-portal: the WAP portal machine. Two sites over HTTPS with the portal's
 * certificate (its ssl_cert setting, portal-ssl), as IIS serves them on a real portal
 * machine: the tenant site and tenant API on the machine's port (30081,
 * tenant_site.c), and the admin site on 30091 (admin_site.c), where the fabric
 * administrator sees the chain and changes the lab. Stopping the portal's service stops
 * both, as stopping IIS on that machine would. */
#include "sites.h"
#include "web.h"

int main(int argc, char **argv)
{
    ws_component c;
    ws_error e;
    char cert[128];
    ws_component_init(&c, "wapsim-portal", "portal", "The WAP tenant site and admin site (HTTPS).", argc, argv);
    if (ws_httpd_ssl_cert(&c, cert, sizeof cert, &e) != 0)
        ws_component_fail(&c, "%s", e.msg);
    ws_httpd_opts tenant = {.ssl_cert = cert, .max_body = 16 * 1024, .handler = tenant_handle};
    ws_httpd_opts admin = {.port = ADMIN_SITE_PORT, .ssl_cert = cert, .max_body = 64 * 1024, .handler = admin_handle};
    struct MHD_Daemon *t = ws_httpd_start(&c, &tenant, &e);
    if (!t)
        ws_component_fail(&c, "tenant site: %s", e.msg);
    struct MHD_Daemon *a = ws_httpd_start(&c, &admin, &e);
    if (!a)
        ws_component_fail(&c, "admin site on port %d: %s", ADMIN_SITE_PORT, e.msg);
    ws_component_running(&c, "HTTPS");
    ws_component_wait();
    MHD_stop_daemon(a);
    MHD_stop_daemon(t);
    ws_component_close(&c);
    return 0;
}
