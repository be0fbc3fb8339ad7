/* SPDX-License-Identifier: Apache-2.0 */
/* sslwrite.so: how the seeds of fuzz_httphead, fuzz_portal and fuzz_spf were captured: an
 * LD_PRELOAD shim that writes each SSL_write's plaintext to $CAPTURE_DIR/<pid>-<n> before
 * passing it on, so a real run of the lab's own client (wapsim connect: libcurl to the
 * portal, the portal's libcurl to SPF, the client's RDG_OUT_DATA to the gateway) leaves
 * the messages it sent. Never part of make; build and use by hand:
 *   cc -shared -fPIC -o sslwrite.so tests/fuzz/capture/sslwrite.c -ldl
 *   CAPTURE_DIR=/tmp/cap LD_PRELOAD=$PWD/sslwrite.so wapsim --lab LAB up    (components too)
 *   CAPTURE_DIR=/tmp/cap LD_PRELOAD=$PWD/sslwrite.so wapsim --lab LAB connect --tenant alice --vm web01 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct ssl_st SSL;

int SSL_write(SSL *ssl, const void *buf, int num)
{
    static int (*real)(SSL *, const void *, int);
    static int n;
    if (!real)
        real = (int (*)(SSL *, const void *, int))dlsym(RTLD_NEXT, "SSL_write");
    const char *dir = getenv("CAPTURE_DIR");
    if (dir && num > 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%d-%03d", dir, (int)getpid(), n++);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(buf, 1, (size_t)num, f);
            fclose(f);
        }
    }
    return real(ssl, buf, num);
}
