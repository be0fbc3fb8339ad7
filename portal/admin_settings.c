/* SPDX-License-Identifier: Apache-2.0 */
/* admin_settings: the settings as the real consoles name them, and Diagnose (admin.h). [stub: issue 17 builds it] */
#include "admin.h"

const char admin_settings_css[] = "";

static enum MHD_Result stub(const admin_req *a, const char *title, const char *tab)
{
    web_page w;
    web_init(&w);
    admin_begin(&w, a, title, tab);
    web_raw(&w, "<p>Not built yet.</p>");
    admin_end(&w);
    return web_send(a->rq, 200, &w, NULL);
}

enum MHD_Result admin_settings(const admin_req *a) { return stub(a, "Settings", "Settings"); }
enum MHD_Result admin_diagnose(const admin_req *a) { return stub(a, "Diagnose", "Diagnose"); }
