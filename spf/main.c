/* wapsim-spf: Service Provider Foundation, the OData service in front of VMM (HTTPS on 8090).
 * This stage serves the health probe only; the VMConnection resource comes with the
 * "Issue console access" issue. */
#include <string.h>
#include <unistd.h>

#include "httpd.h"

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **con_cls)
{
    (void)cls, (void)version, (void)upload_data, (void)upload_data_size, (void)con_cls;
    if (strcmp(method, "GET") == 0 && strcmp(url, "/health") == 0)
        return ws_httpd_reply(conn, 200, "text/plain", "OK\n", 3);
    return ws_httpd_reply(conn, 404, "text/plain", "Not Found\n", 10);
}

int main(int argc, char **argv)
{
    ws_component c;
    ws_component_init(&c, "wapsim-spf", "spf", "Service Provider Foundation (HTTPS, OData).", argc, argv);
    ws_error e;
    struct MHD_Daemon *d = ws_httpd_start(&c, handle, NULL, &e);
    if (!d)
        ws_component_fail(&c, "%s", e.msg);
    ws_component_running(&c, "HTTPS");
    while (!ws_component_stop)
        pause();
    MHD_stop_daemon(d);
    ws_component_close(&c);
    return 0;
}
