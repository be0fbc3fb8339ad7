/* fuzz_rdpfile: a .rdp file as a client opens it (wire/rdpfile.h): parsed, read back,
 * written out again, and its signature checked (the CMS blob is parsed; no roots). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/x509.h>

#include "wire/rdpfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ws_error e;
    ws_rdp_file f;
    ws_rdp_init(&f);
    if (ws_rdp_parse(data, size, &f, &e) == 0) {
        (void)ws_rdp_get(&f, "full address");
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
