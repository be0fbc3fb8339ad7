/* wapsim-gateway: the RD Gateway with the FedAuth plug-in (TLS on 8443).
 * Like TSGateway it takes its TLS certificate binding once, at start, and keeps it
 * until restarted. This stage checks and records the binding and answers the
 * health probe; MS-TSGU comes with the "Connect through the gateway" issue. */
#include <openssl/x509.h>
#include <stdio.h>
#include <unistd.h>

#include "cert.h"
#include "component.h"
#include "net.h"
#include "settings.h"
#include "store.h"
#include "vault.h"

int main(int argc, char **argv)
{
    ws_component c;
    ws_component_init(&c, "wapsim-gateway", "gateway", "The RD Gateway with the FedAuth plug-in.", argc, argv);
    ws_error e;
    char cert_name[128], detail[256];
    int has_key = 0;
    if (ws_setting_get(c.st, c.machine.name, WS_SET_SSL_CERT, cert_name, sizeof cert_name) != 0)
        ws_component_fail(&c, "no SSL certificate is bound");
    if (!ws_store_contains(c.st, c.machine.name, "My", cert_name, &has_key) || !has_key)
        ws_component_fail(&c, "SSL certificate '%s' is not in LocalMachine\\My with its private key", cert_name);
    char tp[41];
    ws_vault_thumbprint(c.st, cert_name, tp);
    snprintf(detail, sizeof detail, "SSL certificate %s (%s) bound", cert_name, tp);
    int fd = ws_tcp_listen(c.machine.address, c.machine.port, 512, &e);
    if (fd < 0)
        ws_component_fail(&c, "%s", e.msg);
    ws_component_running(&c, detail);
    ws_component_idle_loop(&c, &fd, 1);
    close(fd);
    ws_component_close(&c);
    return 0;
}
