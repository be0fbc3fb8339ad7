/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_deployment: a customer's deployment as lab init --from reads it (lab/deployment.h):
 * deployment.json and, after a NUL byte, one certificate file named certs/a.cer, checked
 * by ws_deploy_read (every key, pattern and relation; the certificate parsed as DER or
 * PEM). Nothing is built: the reader is what meets untrusted bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lab/deployment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ws_deploy_file file_of(const char *name, const uint8_t *data, size_t len)
{
    ws_deploy_file f = {strdup(name), malloc(len + 1), len};
    memcpy(f.data, data, len);
    f.data[len] = '\0';
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > WS_DEPLOY_MAX_FILE_BYTES)
        return 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t json_len = nul ? (size_t)(nul - data) : size;
    ws_deploy_file files[2];
    files[0] = file_of(WS_DEPLOYMENT_JSON, data, json_len);
    size_t n = 1;
    if (nul)
        files[n++] = file_of("certs/a.cer", nul + 1, size - json_len - 1);
    ws_deploy_files set;
    memset(&set, 0, sizeof set);
    set.v = files;
    set.n = n;
    set.total = size;
    ws_deployment d;
    ws_error e;
    if (ws_deploy_read(&set, &d, &e) == 0)
        ws_deployment_free(&d);
    for (size_t i = 0; i < n; i++) {
        free(files[i].name);
        free(files[i].data);
    }
    return 0;
}
