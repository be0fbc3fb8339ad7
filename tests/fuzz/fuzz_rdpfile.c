/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_rdpfile: a .rdp file as a client opens it (wire/rdpfile.h): parsed, read back,
 * written out again, and its signature checked (the CMS blob is parsed; no roots); the
 * servers it names read as the client reads them (base/net.h: ws_hostport_parse, and
 * what it parsed written back and parsed again). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "base/net.h"
#include "wire/rdpfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_error e;
    ws_rdp_file f;
    ws_rdp_init(&f);
    if (ws_rdp_parse(data, size, &f, &e) == 0) {
        const char *servers[] = {ws_rdp_get(&f, "full address"), ws_rdp_get(&f, "gatewayhostname")};
        for (size_t i = 0; i < 2; i++) {
            ws_hostport hp, again;
            char text[WS_HOSTPORT_HOST_MAX + 16];
            if (servers[i] && ws_hostport_parse(servers[i], 443, &hp, &e) == 0) {
                ws_hostport_format(hp.host, hp.port, 443, text, sizeof text);
                if (ws_hostport_parse(text, 443, &again, &e) != 0 || again.port != hp.port ||
                    strcmp(again.host, hp.host) != 0)
                    abort(); /* what format writes, parse must read back */
            }
        }
        unsigned char *out = NULL;
        size_t len = 0;
        if (ws_rdp_serialize(&f, &out, &len) == 0)
            free(out);
        const char *scope = ws_rdp_get(&f, "signscope");
        out = NULL;
        if (scope && ws_rdp_signed_text(&f, scope, &out, &len, &e) == 0)
            free(out);
        ws_rdp_signature sig = {0};
        (void)ws_rdp_verify(&f, NULL, 0, &sig, &e);
        X509_free(sig.signer); /* the caller's, whether or not the signature held */
    }
    ws_rdp_free(&f);
    return 0;
}
