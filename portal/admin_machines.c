/* SPDX-License-Identifier: Apache-2.0 */
/* admin_machines: machines, services, events and certificate stores (admin.h). [stub: issue 17 builds it] */
#include "admin.h"

static enum MHD_Result stub(const admin_req *a, const char *title, const char *tab)
{
    web_page w;
    web_init(&w);
    admin_begin(&w, a, title, tab);
    web_raw(&w, "<p>Not built yet.</p>");
    admin_end(&w);
    return web_send(a->rq, 200, &w, NULL);
}

enum MHD_Result admin_machines(const admin_req *a) { return stub(a, "Machines", "Machines"); }
enum MHD_Result admin_events(const admin_req *a) { return stub(a, "Events", "Machines"); }
enum MHD_Result admin_certs(const admin_req *a) { return stub(a, "Certificates", "Machines"); }
