/* SPDX-License-Identifier: Apache-2.0 */
/* hscount.so: counts the TLS handshakes a lab process completes, for `make bench`
 * (issue 16, target 1: the flow's own count of handshakes, measured rather than
 * counted from the code, so it falls when connections are reused).
 *
 * bench.sh starts the main lab with LD_PRELOAD=BUILD/bench/hscount.so and
 * WSBENCH_HS_DIR=DIR: every lab process (supervisor, portal, SPF, VMM, gateway, hosts)
 * inherits both. Each process that completes a handshake maps DIR/<pid> (4 counters of
 * 8 bytes) and adds 1 to one of them:
 *     [0] server side, full handshake      [1] server side, resumed
 *     [2] client side, full handshake      [3] client side, resumed
 * OpenSSL's SSL_accept, SSL_connect and SSL_do_handshake (the gateway, the hosts, libcurl's
 * client in the portal) and GnuTLS's gnutls_handshake (libmicrohttpd's TLS: the portal's
 * and SPF's servers) are wrapped; only the outermost call of a thread counts (OpenSSL's
 * SSL_connect may call SSL_do_handshake). wsbench reads the files of the pids in
 * LAB/run/<machine>.pid before and after each flow. Nothing changes what a process does:
 * each wrapper calls the real function and returns its result. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/ssl.h>

static uint64_t *counters;
static pid_t counters_pid;
static __thread int depth;

static void bump(int which)
{
    pid_t pid = getpid();
    if (!counters || counters_pid != pid) { /* first count, or a forked child */
        const char *dir = getenv("WSBENCH_HS_DIR");
        if (!dir || !*dir)
            return;
        char path[4200];
        snprintf(path, sizeof path, "%s/%ld", dir, (long)pid);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return;
        void *p = ftruncate(fd, 4 * sizeof(uint64_t)) == 0
                      ? mmap(NULL, 4 * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                      : MAP_FAILED;
        close(fd);
        if (p == MAP_FAILED)
            return;
        counters = p;
        counters_pid = pid;
    }
    __atomic_fetch_add(&counters[which], 1, __ATOMIC_RELAXED);
}

static void count_ssl(SSL *s)
{
    bump((SSL_is_server(s) ? 0 : 2) + (SSL_session_reused(s) ? 1 : 0));
}

typedef int (*ssl_fn)(SSL *);
#define REAL(name)                                                                                                    \
    static ssl_fn real;                                                                                               \
    if (!real)                                                                                                        \
        *(void **)&real = dlsym(RTLD_NEXT, name)

int SSL_do_handshake(SSL *s)
{
    REAL("SSL_do_handshake");
    depth++;
    int r = real(s);
    depth--;
    if (r == 1 && depth == 0)
        count_ssl(s);
    return r;
}

int SSL_connect(SSL *s)
{
    REAL("SSL_connect");
    depth++;
    int r = real(s);
    depth--;
    if (r == 1 && depth == 0)
        count_ssl(s);
    return r;
}

int SSL_accept(SSL *s)
{
    REAL("SSL_accept");
    depth++;
    int r = real(s);
    depth--;
    if (r == 1 && depth == 0)
        count_ssl(s);
    return r;
}

/* GnuTLS: 0 (GNUTLS_E_SUCCESS) when the handshake completed. Only libmicrohttpd's
 * servers use GnuTLS in the lab: counted as server side. */
typedef struct gnutls_session_int *gnutls_session_t;
int gnutls_handshake(gnutls_session_t s)
{
    static int (*real)(gnutls_session_t), (*resumed)(gnutls_session_t);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "gnutls_handshake");
    if (!resumed)
        *(void **)&resumed = dlsym(RTLD_NEXT, "gnutls_session_is_resumed");
    int r = real(s);
    if (r == 0)
        bump(resumed && resumed(s) ? 1 : 0);
    return r;
}
