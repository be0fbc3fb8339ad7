/* SPDX-License-Identifier: Apache-2.0 */
/* wsbench: the measurements behind `make bench` (tests/bench/bench.sh runs them in
 * order and prints the table). Every measuring subcommand writes raw samples to its
 * standard output, one line each:
 *     sample<TAB>KEY<TAB>VALUE      one repetition's figure (or one flow's)
 *     info<TAB>KEY<TAB>TEXT         a fact about the run (cipher, counts, a failure)
 * and `wsbench report` turns a file of such lines into the Markdown table and
 * build/bench.json: the median, min and max of each key's samples, and each ratio
 * from figures measured in the same run. Progress goes to standard error.
 *
 *   wsbench floor LAB REPS                  RSA-2048 sign and verify, in-process TLS handshakes
 *                                           with the lab's certificates, the lab's PBKDF2
 *   wsbench addvms LAB N                    N more VMs for alice (bench01..), one per concurrent client
 *   wsbench latency LAB N                   N sequential ws_connect flows (alice, web01), then each half
 *   wsbench flows LAB N                     just N sequential flows (tests/bench/profile.sh profiles them)
 *   wsbench throughput LAB LEVELS REPS WARM DUR   flows from 1, 2, .. client processes at once
 *   wsbench lab WAPSIM DIR REPS             `lab init` (from the template), `up`, `down`
 *   wsbench relay LAB RDPFILE MIB REPS      bulk bytes through one tunnel vs direct TLS (hv01 stopped)
 *   wsbench events LAB PROCS SECONDS REPS   ws_event from PROCS processes at once
 *   wsbench lbconnect LAB N DIRECT LB PORT FLOWS   FLOWS full flows straight to the gateway at DIRECT
 *                                           and through the balancer LB, alternated (the tenant's PC's
 *                                           hosts file says which), then N TLS connects each way (issue 14)
 *   wsbench bytes LAB VM REPS               bytes from the host until the first whole frame, and
 *                                           for one typed character's update (issue 16)
 *   wsbench report RESULTS JSON             the table (standard output) and the JSON file
 *
 * The flow's cost floor (what the chain must do, counted from the code; see README
 * "Benchmarks"): 8 full TLS handshakes (browser->portal x3, portal->SPF x3,
 * client->gateway, client->host inside the tunnel), each with one RSA private
 * operation of the server, and 3 RSA signatures besides (VMM's HostToken and VMToken,
 * the .rdp file's CMS signature): 11 RSA private operations. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/accounts.h"
#include "client/client.h"
#include "crypto/tls.h"
#include "lab/eventlog.h"
#include "lab/lab.h"
#include "lab/machine.h"
#include "wire/rdpfile.h"
#include "svc/machine_tls.h"
#include "wire/tsgu.h"
#include "lab/vault.h"
#include "lab/vm.h"
#include "wire/websocket.h"

extern char **environ;

/* The flow's count before connection reuse (issue 16), from the code (see the comment at
 * the top); the count the floor uses is measured per flow (hs_take below). */
#define FLOW_HANDSHAKES 8
#define FLOW_SIGNATURES 3 /* RSA private operations outside the handshakes (from the code) */
#define FLOW_CLIENT_HANDSHAKES 5 /* of the 8, those the tenant's PC makes (measured in-process) */

/* ---- output ---- */

static void sample(const char *key, double v)
{
    printf("sample\t%s\t%.6f\n", key, v);
    fflush(stdout);
}

static void info(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void info(const char *key, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (char *p = text; *p; p++)
        if (*p == '\t' || *p == '\n')
            *p = ' ';
    printf("info\t%s\t%s\n", key, text);
    fflush(stdout);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static ws_state *open_lab(const char *dir)
{
    ws_state *st;
    ws_error e;
    if (ws_state_open(dir, 0, &st, &e) != 0) {
        say("%s", e.msg);
        exit(2);
    }
    return st;
}

/* ---- TLS handshakes the tenant's PC makes, counted in-process ----
 * libcurl (the browser) calls SSL_connect, the client's gateway hop SSL_connect and its
 * host hop SSL_do_handshake: this program defines both (exported with -rdynamic, so
 * libcurl's calls land here too) and counts the ones that complete. */
static __thread int in_connect;
static long hs_full, hs_resumed;

static void count_handshake(SSL *s)
{
    if (SSL_session_reused(s))
        hs_resumed++;
    else
        hs_full++;
}

int SSL_connect(SSL *s)
{
    static int (*real)(SSL *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "SSL_connect");
    in_connect++;
    int r = real(s);
    in_connect--;
    if (r == 1)
        count_handshake(s);
    return r;
}

/* ---- bytes from the host, counted in-process (wsbench bytes) ----
 * The client's TLS with the host runs over memory BIOs (sim/client/host.c): what it
 * writes into that SSL's read BIO is every byte of the host's TLS stream, as the
 * tunnel delivered it. The host's SSLs are found by their SSL_do_handshake: clients
 * whose read BIO is a memory BIO. Their last fast-path SSL_write (the client's only
 * fast-path PDU is the typed keys, sent once the frame is whole: sim/client/console.c)
 * marks the bytes counted until then. */
#define HOST_LINKS 8
static BIO *host_rbio[HOST_LINKS];
static SSL *host_ssl[HOST_LINKS];
static int host_links;
static unsigned long long host_bytes, host_bytes_at_write;

static int host_link(const void *p, int rbio)
{
    for (int i = 0; i < host_links; i++)
        if (p == (rbio ? (const void *)host_rbio[i] : (const void *)host_ssl[i]))
            return 1;
    return 0;
}

int BIO_write(BIO *b, const void *data, int n)
{
    static int (*real)(BIO *, const void *, int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "BIO_write");
    int r = real(b, data, n);
    if (r > 0 && host_links && host_link(b, 1))
        host_bytes += (unsigned long long)r;
    return r;
}

int SSL_write(SSL *s, const void *buf, int n)
{
    static int (*real)(SSL *, const void *, int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "SSL_write");
    /* A fast-path PDU (action bits 0; a slow-path one is a TPKT, 0x03): the typed keys. */
    if (host_links && n > 0 && (((const uint8_t *)buf)[0] & 3) == 0 && host_link(s, 0))
        host_bytes_at_write = host_bytes;
    return real(s, buf, n);
}

static void host_watch(SSL *s)
{
    BIO *rb = SSL_get_rbio(s);
    if (host_links < HOST_LINKS && !SSL_is_server(s) && rb && BIO_method_type(rb) == BIO_TYPE_MEM &&
        !host_link(s, 0)) {
        host_ssl[host_links] = s;
        host_rbio[host_links++] = rb;
    }
}

int SSL_do_handshake(SSL *s)
{
    static int (*real)(SSL *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "SSL_do_handshake");
    host_watch(s);
    int r = real(s);
    if (r == 1 && !in_connect)
        count_handshake(s);
    return r;
}

/* ---- TLS handshakes the lab's processes complete (tests/bench/shim/hscount.c) ----
 * bench.sh starts the main lab with hscount.so preloaded: each process counts the
 * handshakes it completes, as server and as client, full or resumed, in
 * $WSBENCH_HS_DIR/<pid>. Every handshake of the flow has a lab process as its server, so
 * the servers' counts are the flow's count; the clients' counts (portal to SPF) and this
 * process's own (the tenant's PC) check them. */
#define HS_MACHINES 16
typedef struct hs_snap {
    int n, ok;                       /* ok: at least one process had counted */
    char name[HS_MACHINES][64];
    uint64_t c[HS_MACHINES][4];      /* server full, server resumed, client full, client resumed */
} hs_snap;

static void hs_take(const char *lab, hs_snap *h)
{
    memset(h, 0, sizeof *h);
    const char *dir = getenv("WSBENCH_HS_DIR");
    char run[4200];
    snprintf(run, sizeof run, "%s/run", lab);
    DIR *d = dir && *dir ? opendir(run) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d)) && h->n < HS_MACHINES) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".pid") != 0 || strcmp(de->d_name, "supervisor.pid") == 0)
            continue;
        char path[4500], text[32] = "";
        snprintf(path, sizeof path, "%s/%s", run, de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        long pid = fgets(text, sizeof text, f) ? atol(text) : 0;
        fclose(f);
        int i = h->n++;
        snprintf(h->name[i], sizeof h->name[i], "%.*s", (int)(l - 4), de->d_name);
        snprintf(path, sizeof path, "%s/%ld", dir, pid);
        f = pid > 0 ? fopen(path, "rb") : NULL;
        if (f) {
            if (fread(h->c[i], sizeof(uint64_t), 4, f) == 4)
                h->ok = 1;
            fclose(f);
        }
    }
    if (d)
        closedir(d);
}

/* b - a for machine `name` and counter k (-1: all server-side, -2: all client-side). */
static double hs_diff(const hs_snap *a, const hs_snap *b, const char *name, int k)
{
    double sum = 0;
    for (int i = 0; i < b->n; i++) {
        if (name && strcmp(b->name[i], name) != 0)
            continue;
        uint64_t before[4] = {0, 0, 0, 0};
        for (int j = 0; j < a->n; j++)
            if (strcmp(a->name[j], b->name[i]) == 0)
                memcpy(before, a->c[j], sizeof before);
        for (int q = 0; q < 4; q++) {
            int want = k >= 0 ? q == k : k == -1 ? q < 2 : q >= 2;
            if (want && b->c[i][q] >= before[q])
                sum += (double)(b->c[i][q] - before[q]);
        }
    }
    return sum;
}

/* One flow's measured count as samples: KEY.handshakes (all, server side), KEY.full,
 * KEY.resumed, KEY.lab_clients (client side inside the lab) and KEY.at.<machine>. */
static void hs_samples(const char *key, const hs_snap *a, const hs_snap *b)
{
    if (!a->ok && !b->ok)
        return;
    char k[160];
    snprintf(k, sizeof k, "%s.handshakes", key);
    sample(k, hs_diff(a, b, NULL, -1));
    snprintf(k, sizeof k, "%s.full", key);
    sample(k, hs_diff(a, b, NULL, 0));
    snprintf(k, sizeof k, "%s.resumed", key);
    sample(k, hs_diff(a, b, NULL, 1));
    snprintf(k, sizeof k, "%s.lab_clients", key);
    sample(k, hs_diff(a, b, NULL, -2));
    for (int i = 0; i < b->n; i++) {
        snprintf(k, sizeof k, "%s.at.%s", key, b->name[i]);
        sample(k, hs_diff(a, b, b->name[i], -1));
    }
}

/* ---- 1. the floor ---- */

/* One in-process TLS connection over a BIO pair: handshake, then one byte from the
 * server (so the client also reads the server's session tickets, as a real one does). */
/* sess: NULL, or where the client's session goes (*sess NULL) or comes from (a resumed
 * handshake, which must then resume). */
static int one_handshake(SSL_CTX *cctx, SSL_CTX *sctx, const char *name, char *proto, size_t pn, SSL_SESSION **sess)
{
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    BIO *bc, *bs;
    int rc = -1;
    if (!c || !s || !BIO_new_bio_pair(&bc, 0, &bs, 0))
        goto out;
    SSL_set_bio(c, bc, bc);
    SSL_set_bio(s, bs, bs);
    SSL_set_tlsext_host_name(c, name);
    SSL_set1_host(c, name);
    if (sess && *sess)
        SSL_set_session(c, *sess);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    int cdone = 0, sdone = 0;
    for (int round = 0; round < 20 && !(cdone && sdone); round++) {
        if (!cdone) {
            int r = SSL_do_handshake(c);
            if (r == 1)
                cdone = 1;
            else if (SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
                goto out;
        }
        if (!sdone) {
            int r = SSL_do_handshake(s);
            if (r == 1)
                sdone = 1;
            else if (SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
                goto out;
        }
    }
    if (!cdone || !sdone || SSL_get_verify_result(c) != X509_V_OK)
        goto out;
    char byte = 'x';
    if (SSL_write(s, &byte, 1) != 1 || SSL_read(c, &byte, 1) != 1)
        goto out;
    if (sess && *sess && !SSL_session_reused(c))
        goto out;
    if (sess && !*sess && !(*sess = SSL_get1_session(c)))
        goto out;
    /* A connection closed properly: OpenSSL marks the session of one freed without a
     * shutdown not resumable. */
    SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    if (proto) {
        int nid = 0, group = SSL_get_negotiated_group(c);
        SSL_get_peer_signature_type_nid(c, &nid);
        const char *gname = group ? SSL_group_to_name(c, group) : NULL;
        snprintf(proto, pn, "%s %s, key exchange %s, signature %s", SSL_get_version(c), SSL_get_cipher_name(c),
                 gname ? gname : "?", nid ? OBJ_nid2sn(nid) : "?");
    }
    rc = 0;
out:
    ERR_clear_error();
    SSL_free(c);
    SSL_free(s);
    return rc;
}

static int cmd_floor(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int reps = atoi(argv[3]);
    ws_state *st = open_lab(argv[2]);
    ws_error e;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    if (ws_vault_get(st, "rdgw-ssl", &cert, &key, NULL, &e) != 0 || !key) {
        say("floor: %s", e.msg);
        return 1;
    }
    info("floor.key", "rdgw-ssl: RSA-%d", EVP_PKEY_get_bits(key));
    const double slice = 0.25;
    unsigned char msg[200], sig[512];
    memset(msg, 'a', sizeof msg);
    size_t siglen = sizeof sig;
    for (int r = 0; r < reps; r++) {
        long n = 0;
        double t0 = now_s(), t;
        do {
            for (int i = 0; i < 8; i++, n++) {
                EVP_MD_CTX *md = EVP_MD_CTX_new();
                siglen = sizeof sig;
                if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
                    EVP_DigestSign(md, sig, &siglen, msg, sizeof msg) != 1) {
                    say("floor: RSA sign failed");
                    return 1;
                }
                EVP_MD_CTX_free(md);
            }
        } while ((t = now_s() - t0) < slice);
        sample("floor.sign_per_s", (double)n / t);
        n = 0;
        t0 = now_s();
        do {
            for (int i = 0; i < 64; i++, n++) {
                EVP_MD_CTX *md = EVP_MD_CTX_new();
                if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
                    EVP_DigestVerify(md, sig, siglen, msg, sizeof msg) != 1) {
                    say("floor: RSA verify failed");
                    return 1;
                }
                EVP_MD_CTX_free(md);
            }
        } while ((t = now_s() - t0) < slice);
        sample("floor.verify_per_s", (double)n / t);
    }

    SSL_CTX *sctx = ws_tls_server_ctx(st, "rdgw01", "rdgw-ssl", &e);
    SSL_CTX *cctx = sctx ? ws_tls_client_ctx(st, "client", &e) : NULL;
    if (!cctx) {
        say("floor: %s", e.msg);
        return 1;
    }
    char proto[200] = "";
    if (one_handshake(cctx, sctx, "rdgw.contoso.com", proto, sizeof proto, NULL) != 0) {
        say("floor: the in-process TLS handshake failed");
        return 1;
    }
    info("floor.tls", "%s; server rdgw-ssl (rdgw01's My), client trusts the client machine's Root", proto);
    for (int r = 0; r < reps; r++) {
        long n = 0;
        double t0 = now_s(), t;
        do {
            if (one_handshake(cctx, sctx, "rdgw.contoso.com", NULL, 0, NULL) != 0) {
                say("floor: the in-process TLS handshake failed");
                return 1;
            }
            n++;
        } while ((t = now_s() - t0) < slice);
        sample("floor.handshakes_per_s", (double)n / t);
    }
    /* A resumed handshake (the session of a first one): no RSA operation. The floor of a
     * flow whose connections resume (issue 16) counts these at this rate. */
    SSL_SESSION *sess = NULL;
    if (one_handshake(cctx, sctx, "rdgw.contoso.com", NULL, 0, &sess) != 0 || !sess) {
        info("floor.note", "no TLS session to resume with these contexts: resumed handshakes not measured");
    } else {
        for (int r = 0; r < reps; r++) {
            long n = 0;
            double t0 = now_s(), t;
            do {
                if (one_handshake(cctx, sctx, "rdgw.contoso.com", NULL, 0, &sess) != 0) {
                    info("floor.note", "resumed handshake %ld did not resume: resumed handshakes not measured", n + 1);
                    n = 0;
                    break;
                }
                n++;
            } while ((t = now_s() - t0) < slice);
            if (!n)
                break;
            sample("floor.resumed_handshakes_per_s", (double)n / t);
        }
        SSL_SESSION_free(sess);
    }
    /* Not floor: the lab's password check (portal sign-in, SPF basic auth). */
    char hash[WS_PASSWORD_HASH_MAX];
    ws_password_hash("bench-password", hash);
    for (int r = 0; r < reps; r++) {
        long n = 0;
        double t0 = now_s(), t;
        do {
            if (!ws_password_verify("bench-password", hash)) {
                say("floor: PBKDF2 check failed");
                return 1;
            }
            n++;
        } while ((t = now_s() - t0) < slice);
        sample("floor.pbkdf2_per_s", (double)n / t);
    }
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    X509_free(cert);
    EVP_PKEY_free(key);
    ws_state_close(st);
    return 0;
}

/* ---- VMs for concurrent clients ---- */

static int cmd_addvms(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int n = atoi(argv[3]);
    ws_state *st = open_lab(argv[2]);
    ws_error e;
    char sub[64] = "";
    sqlite3_stmt *s = ws_state_prepare(st, "SELECT id FROM subscriptions WHERE tenant = 'alice'", &e);
    if (s && sqlite3_step(s) == SQLITE_ROW)
        snprintf(sub, sizeof sub, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (!sub[0]) {
        say("addvms: alice has no subscription");
        return 1;
    }
    for (int i = 1; i <= n; i++) {
        ws_vm vm = {.os = "Windows Server 2012 R2", .state = "Running"};
        ws_guid_new(vm.id);
        snprintf(vm.name, sizeof vm.name, "bench%02d", i);
        snprintf(vm.subscription, sizeof vm.subscription, "%s", sub);
        snprintf(vm.host, sizeof vm.host, "%s", i % 2 ? "hv01" : "hv02");
        if (ws_vm_add(st, &vm, &e) != 0) {
            say("addvms: %s", e.msg);
            return 1;
        }
    }
    ws_state_close(st);
    return 0;
}

/* ---- 2. connect latency ---- */

/* CPU time (user + system, ms) of each running lab process, from <lab>/run/<machine>.pid. */
#define MAX_PROCS 16
typedef struct cpu_snap {
    int n;
    char name[MAX_PROCS][64];
    double ms[MAX_PROCS];
    double self_ms;
} cpu_snap;

static double proc_cpu_ms(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long ut = 0, stt = 0;
    /* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt) != 2)
        return -1;
    return (double)(ut + stt) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static void cpu_take(const char *lab, cpu_snap *c)
{
    memset(c, 0, sizeof *c);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/run", lab);
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) && c->n < MAX_PROCS) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".pid") != 0 || strcmp(de->d_name, "supervisor.pid") == 0)
            continue;
        char path[4500], text[32] = "";
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(text, sizeof text, f)) {
            double ms = proc_cpu_ms((pid_t)atoi(text));
            if (ms >= 0) {
                snprintf(c->name[c->n], sizeof c->name[c->n], "%.*s", (int)(l - 4), de->d_name);
                c->ms[c->n++] = ms;
            }
        }
        fclose(f);
    }
    if (d)
        closedir(d);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    c->self_ms = (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3 + (double)ru.ru_stime.tv_sec * 1e3 +
                 (double)ru.ru_stime.tv_usec / 1e3;
}

static void cpu_report(const cpu_snap *a, const cpu_snap *b, int flows)
{
    double total = 0;
    char key[128];
    for (int i = 0; i < b->n; i++)
        for (int j = 0; j < a->n; j++)
            if (strcmp(a->name[j], b->name[i]) == 0) {
                double v = (b->ms[i] - a->ms[j]) / flows;
                snprintf(key, sizeof key, "connect.cpu_ms.%s", b->name[i]);
                sample(key, v);
                total += v;
            }
    double self = (b->self_ms - a->self_ms) / flows;
    sample("connect.cpu_ms.client", self);
    sample("connect.cpu_ms.total", total + self);
}

static int flow(ws_state *st, const char *vm, const char *rdp_file, ws_connect_result *r)
{
    ws_connect_opts o = {.tenant = "alice", .vm = vm, .rdp_file = rdp_file};
    return ws_connect(st, &o, r);
}

static int cmd_latency(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *lab = argv[2];
    int n = atoi(argv[3]);
    signal(SIGPIPE, SIG_IGN);
    ws_state *st = open_lab(lab);
    static ws_connect_result r;
    for (int i = 0; i < 3; i++) /* warm-up: the components' first requests */
        if (flow(st, "web01", NULL, &r) != 0) {
            say("latency: the flow fails: %s: %s", r.stage, r.message);
            info("connect.error", "the flow fails at %s: %s", r.stage, r.message);
            return 1;
        }
    int failures = 0, block = n >= 200 ? 50 : n;
    cpu_snap c0, c1;
    cpu_take(lab, &c0);
    hs_snap h0, h1;
    hs_take(lab, &h0);
    if (!h0.ok)
        info("connect.note", "the lab's processes counted no handshake (hscount.so not preloaded?): the floor "
                             "uses the count before reuse, %d handshakes", FLOW_HANDSHAKES);
    for (int i = 0; i < n; i++) {
        long before = hs_full + hs_resumed, before_full = hs_full;
        double t0 = now_s();
        int rc = flow(st, "web01", NULL, &r);
        double ms = (now_s() - t0) * 1e3;
        hs_take(lab, &h1);
        if (rc != 0) {
            failures++;
            info("connect.error", "flow %d stopped at %s: %s", i, r.stage, r.message);
        } else {
            sample("connect.latency_ms", ms);
            sample("connect.client_handshakes", (double)(hs_full + hs_resumed - before));
            sample("connect.client_handshakes_full", (double)(hs_full - before_full));
            if (h0.ok)
                hs_samples("connect.measured", &h0, &h1);
        }
        h0 = h1;
        if ((i + 1) % block == 0) {
            cpu_take(lab, &c1);
            cpu_report(&c0, &c1, block);
            c0 = c1;
        }
    }
    sample("connect.failures", failures);
    say("latency: %d flows, %d failed", n, failures);
    info("connect.resumed_handshakes", "%ld", hs_resumed);

    /* The flow in two halves: the browser's part, then the rest from a saved .rdp file. */
    int m = n / 8 > 10 ? n / 8 : 10;
    for (int i = 0; i < m; i++) {
        ws_http_response rs;
        ws_error e;
        char pw[128];
        ws_lab_password(st, "alice", pw, sizeof pw);
        long before = hs_full + hs_resumed;
        hs_take(lab, &h0);
        double t0 = now_s();
        int ok = ws_browser_get_console(st, "alice", pw, "web01", &rs, &e) == 0 && rs.status == 200;
        double ms = (now_s() - t0) * 1e3;
        hs_take(lab, &h1);
        ws_http_response_free(&rs);
        if (ok) {
            sample("connect.part_browser_ms", ms);
            sample("connect.part_browser_handshakes", (double)(hs_full + hs_resumed - before));
            if (h0.ok)
                hs_samples("connect.part_browser", &h0, &h1);
        }
    }
    char rdp[4300];
    snprintf(rdp, sizeof rdp, "%s/bench-web01.rdp", lab);
    ws_connect_opts save = {.tenant = "alice", .vm = "web01", .save_rdp = rdp};
    if (ws_connect(st, &save, &r) == 0) {
        for (int i = 0; i < m; i++) {
            long before = hs_full + hs_resumed;
            hs_take(lab, &h0);
            double t0 = now_s();
            int rc = flow(st, "web01", rdp, &r);
            double ms = (now_s() - t0) * 1e3;
            hs_take(lab, &h1);
            if (rc == 0) {
                sample("connect.part_tunnel_ms", ms);
                sample("connect.part_tunnel_handshakes", (double)(hs_full + hs_resumed - before));
                if (h0.ok)
                    hs_samples("connect.part_tunnel", &h0, &h1);
            }
        }
    }
    unlink(rdp);
    ws_state_close(st);
    return 0;
}

/* Just N sequential flows (for a profile: tests/bench/profile.sh). */
static int cmd_flows(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    ws_state *st = open_lab(argv[2]);
    static ws_connect_result r;
    int n = atoi(argv[3]), failed = 0;
    for (int i = 0; i < n; i++)
        if (flow(st, "web01", NULL, &r) != 0) {
            failed++;
            say("flow %d stopped at %s: %s", i, r.stage, r.message);
        }
    ws_state_close(st);
    return failed ? 1 : 0;
}

/* ---- bytes from the host to the client (issue 16, target 4) ----
 * REPS times: one flow that ends with the first whole console frame (every byte the host
 * sent until then), then one that types a character once the frame is whole (the bytes
 * after the typed keys: that character's update). Counted in-process (host_bytes above):
 * the host's TLS stream, records and handshake included, without the tunnel's framing. */
static void host_reset(void)
{
    host_links = 0;
    host_bytes = host_bytes_at_write = 0;
}

static int cmd_bytes(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    ws_state *st = open_lab(argv[2]);
    const char *vm = argv[3];
    int reps = atoi(argv[4]);
    static ws_connect_result r;
    for (int i = 0; i < reps; i++) {
        ws_connect_opts plain = {.tenant = "alice", .vm = vm}, typed = {.tenant = "alice", .vm = vm, .type_text = "x"};
        host_reset();
        if (ws_connect(st, &plain, &r) != 0) {
            info("bytes.error", "the flow to %s stopped at %s: %s", vm, r.stage, r.message);
            continue;
        }
        if (!host_links) {
            info("bytes.error", "the client's TLS with the host was not seen: nothing counted");
            return 1;
        }
        unsigned long long first = host_bytes;
        sample("bytes.first_frame_kib", (double)first / 1024);
        host_reset();
        if (ws_connect(st, &typed, &r) != 0) {
            info("bytes.error", "the flow to %s typing 'x' stopped at %s: %s", vm, r.stage, r.message);
            continue;
        }
        if (!host_bytes_at_write) {
            info("bytes.error", "no typed keys seen going to the host: the update's bytes not counted");
            continue;
        }
        sample("bytes.typed_update_kib", (double)(host_bytes - host_bytes_at_write) / 1024);
        sample("bytes.typed_minus_plain_kib", ((double)host_bytes - (double)first) / 1024);
        say("bytes: run %d: %llu bytes until the first frame; %llu after typing one character", i + 1, first,
            host_bytes - host_bytes_at_write);
    }
    host_reset();
    ws_state_close(st);
    return 0;
}

/* ---- 3. connect throughput ---- */

static int cmd_throughput(int argc, char **argv)
{
    if (argc < 7)
        return 2;
    const char *lab = argv[2];
    int reps = atoi(argv[4]);
    double warm = atof(argv[5]), dur = atof(argv[6]);
    signal(SIGPIPE, SIG_IGN);
    char levels[256];
    snprintf(levels, sizeof levels, "%s", argv[3]);
    for (char *save = NULL, *tok = strtok_r(levels, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
        int c = atoi(tok);
        if (c < 1 || c > 64)
            continue;
        for (int rep = 0; rep < reps; rep++) {
            int fds[2];
            if (pipe(fds) != 0)
                return 1;
            cpu_snap c0;
            cpu_take(lab, &c0);
            struct rusage ru0;
            getrusage(RUSAGE_CHILDREN, &ru0);
            double kids0_ms = (double)ru0.ru_utime.tv_sec * 1e3 + (double)ru0.ru_utime.tv_usec / 1e3 +
                              (double)ru0.ru_stime.tv_sec * 1e3 + (double)ru0.ru_stime.tv_usec / 1e3;
            double t_start = now_s() + 0.05, w0 = t_start + warm, w1 = w0 + dur;
            pid_t pids[64];
            for (int i = 0; i < c; i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                    close(fds[0]);
                    ws_state *st = open_lab(lab);
                    char vm[32];
                    snprintf(vm, sizeof vm, "bench%02d", i + 1);
                    static ws_connect_result r;
                    int in_window = 0, failed = 0, completed = 0;
                    char why[300] = "";
                    while (now_s() < t_start)
                        usleep(1000);
                    while (now_s() < w1) {
                        int rc = flow(st, vm, NULL, &r);
                        double t = now_s();
                        if (rc != 0) {
                            failed++;
                            snprintf(why, sizeof why, "%s: %.200s", r.stage, r.message);
                        } else {
                            completed++;
                            if (t >= w0 && t < w1)
                                in_window++;
                        }
                    }
                    char line[400];
                    int len = snprintf(line, sizeof line, "%d %d %d %s\n", in_window, failed, completed, why);
                    if (write(fds[1], line, (size_t)len) < 0)
                        _exit(1);
                    ws_state_close(st);
                    _exit(0);
                }
            }
            close(fds[1]);
            FILE *f = fdopen(fds[0], "r");
            int total = 0, failed = 0, completed = 0;
            char line[400];
            while (fgets(line, sizeof line, f)) {
                int a = 0, b = 0, k = 0, at = 0;
                if (sscanf(line, "%d %d %d %n", &a, &b, &k, &at) == 3) {
                    total += a;
                    failed += b;
                    completed += k;
                    if (b)
                        info("throughput.error", "%d clients: %s", c, line + at);
                }
            }
            fclose(f);
            for (int i = 0; i < c; i++)
                waitpid(pids[i], NULL, 0);
            /* The CPU all of it took (lab processes and the clients), per completed flow,
             * and how busy the cores were meanwhile. */
            cpu_snap c1;
            cpu_take(lab, &c1);
            struct rusage ru;
            getrusage(RUSAGE_CHILDREN, &ru);
            double kids_ms = (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3 +
                             (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
            double cpu_ms = kids_ms - kids0_ms;
            for (int i = 0; i < c1.n; i++)
                for (int j = 0; j < c0.n; j++)
                    if (strcmp(c0.name[j], c1.name[i]) == 0)
                        cpu_ms += c1.ms[i] - c0.ms[j];
            double elapsed = now_s() - t_start;
            char key[64];
            snprintf(key, sizeof key, "throughput.c%d.flows_per_s", c);
            sample(key, total / dur);
            snprintf(key, sizeof key, "throughput.c%d.failures", c);
            sample(key, failed);
            if (completed) {
                snprintf(key, sizeof key, "throughput.c%d.cpu_ms_per_flow", c);
                sample(key, cpu_ms / completed);
            }
            snprintf(key, sizeof key, "throughput.c%d.cpu_busy", c);
            sample(key, cpu_ms / 1e3 / (elapsed * (double)sysconf(_SC_NPROCESSORS_ONLN)));
            say("throughput: %d clients, run %d: %.1f flows/s, %d failed", c, rep + 1, total / dur, failed);
        }
    }
    return 0;
}

/* ---- 4. the lab's life cycle, as an operator runs it ---- */

static double run_timed(char *const argv[], int *status)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    double t0 = now_s();
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        *status = -1;
        return -1;
    }
    waitpid(pid, status, 0);
    double t = now_s() - t0;
    posix_spawn_file_actions_destroy(&fa);
    return t;
}

static int cmd_lab(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    char *wapsim = argv[2];
    int reps = atoi(argv[4]);
    for (int i = 0; i < reps; i++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/labrow%d", argv[3], i + 1);
        char *init[] = {wapsim, "lab", "init", dir, NULL};
        char *up[] = {wapsim, "--lab", dir, "up", NULL};
        char *down[] = {wapsim, "--lab", dir, "down", NULL};
        int s1, s2, s3;
        double ti = run_timed(init, &s1);
        double tu = s1 == 0 ? run_timed(up, &s2) : (s2 = -1, -1);
        double td = run_timed(down, &s3);
        if (s1 != 0 || s2 != 0 || s3 != 0) {
            info("lab.error", "run %d: init %d, up %d, down %d (exit statuses)", i + 1, s1, s2, s3);
            return 1;
        }
        sample("lab.init_s", ti);
        sample("lab.up_s", tu);
        sample("lab.down_s", td);
        sample("lab.init_up_s", ti + tu);
        char *rm[] = {"/bin/rm", "-rf", dir, NULL};
        int s4;
        run_timed(rm, &s4);
    }
    return 0;
}

/* ---- 6b. bulk relay: one tunnel through the gateway vs a direct TLS stream ----
 * The sink (a child process) listens on hv01's address, 2179 in plain TCP (the
 * gateway's channel goes there while hv01 is stopped) and 2180 in TLS (the direct
 * stream: rdgw-ssl, the gateway's own certificate, and the cipher the tunnel
 * negotiated). Commands, 9 bytes: 'D' + u64 N: the sink writes N bytes; 'U' + u64 N:
 * the sink reads N bytes and answers 'K'. The same client code times both. */

#define SINK_DIRECT_PORT 2180
#define CHUNK (64 * 1024)

typedef struct conn {
    int fd;
    SSL *ssl; /* NULL: plain */
} conn;

static int c_read(conn *c, void *buf, size_t n)
{
    if (c->ssl) {
        int r = SSL_read(c->ssl, buf, (int)n);
        return r > 0 ? r : -1;
    }
    ssize_t r = read(c->fd, buf, n);
    return r > 0 ? (int)r : -1;
}

static int c_write_all(conn *c, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n) {
        int w;
        if (c->ssl) {
            w = SSL_write(c->ssl, p, (int)n);
        } else {
            ssize_t x = write(c->fd, p, n);
            w = x > 0 ? (int)x : -1;
        }
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int c_read_all(conn *c, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        int r = c_read(c, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void sink_serve(conn *c)
{
    static uint8_t buf[CHUNK];
    memset(buf, 's', sizeof buf);
    for (;;) {
        uint8_t cmd[9];
        if (c_read_all(c, cmd, sizeof cmd) != 0)
            return;
        uint64_t n;
        memcpy(&n, cmd + 1, 8);
        if (cmd[0] == 'D') {
            while (n) {
                size_t k = n > CHUNK ? CHUNK : (size_t)n;
                if (c_write_all(c, buf, k) != 0)
                    return;
                n -= k;
            }
        } else if (cmd[0] == 'U') {
            while (n) {
                int r = c_read(c, buf, n > CHUNK ? CHUNK : (size_t)n);
                if (r <= 0)
                    return;
                n -= (uint64_t)r;
            }
            if (c_write_all(c, "K", 1) != 0)
                return;
        } else {
            return;
        }
    }
}

/* A socket wait longer than this ends the transfer: the client's side counts it as a
 * stall (no byte moved for 5 s); the sink's side gives up later. */
#define CLIENT_STALL_S 5
#define SINK_TIMEOUT_S 30
static void set_timeouts(int fd, int seconds)
{
    struct timeval tv = {seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int listen_on(const char *addr, int port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, addr, &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
        say("relay: cannot listen on %s:%d: %s", addr, port, strerror(errno));
        return -1;
    }
    return fd;
}

/* The sink process: one child per connection (the tunnel's channel and the direct
 * stream are open at once) until its parent closes `ctl`; then it waits for them. */
static void sink_main(ws_state *st, const char *addr, int ready_fd, int ctl_fd)
{
    ws_error e;
    int plain = listen_on(addr, 2179), tls = listen_on(addr, SINK_DIRECT_PORT);
    SSL_CTX *ctx = ws_tls_server_ctx(st, "rdgw01", "rdgw-ssl", &e);
    char ok = plain >= 0 && tls >= 0 && ctx ? 'R' : 'F';
    if (write(ready_fd, &ok, 1) != 1 || ok != 'R')
        _exit(1);
    close(ready_fd);
    pid_t kids[64];
    int nkids = 0;
    for (;;) {
        struct pollfd p[3] = {{plain, POLLIN, 0}, {tls, POLLIN, 0}, {ctl_fd, POLLIN, 0}};
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            break;
        if (p[2].revents)
            break;
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & POLLIN))
                continue;
            int fd = accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            pid_t kid = nkids < 64 ? fork() : -1;
            if (kid != 0) {
                if (kid > 0)
                    kids[nkids++] = kid;
                close(fd);
                continue;
            }
            close(plain);
            close(tls);
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            set_timeouts(fd, SINK_TIMEOUT_S);
            conn c = {fd, NULL};
            if (i == 1) {
                c.ssl = SSL_new(ctx);
                SSL_set_fd(c.ssl, fd);
                if (SSL_accept(c.ssl) != 1)
                    _exit(1);
            }
            sink_serve(&c);
            _exit(0);
        }
    }
    /* The parent has closed its connections: each child sees the end and exits. */
    for (int i = 0; i < nkids; i++)
        waitpid(kids[i], NULL, 0);
    _exit(0);
}

static int tcp_connect(const char *src, const char *addr, int port)
{
    struct sockaddr_in sa, from;
    memset(&sa, 0, sizeof sa);
    memset(&from, 0, sizeof from);
    sa.sin_family = from.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, addr, &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (src && inet_pton(AF_INET, src, &from.sin_addr) == 1)
        bind(fd, (struct sockaddr *)&from, sizeof from);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_timeouts(fd, CLIENT_STALL_S);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The tunnel: MS-TSGU over a websocket, as the tenant's client speaks it. Incoming
 * bytes are parsed as a stream (frame headers, packet headers) without copying DATA. */
typedef struct tunnel {
    SSL *ssl;
    int fd;
    uint8_t *in;
    size_t in_off, in_len;
    uint64_t ws_left;   /* payload bytes left in the current frame */
    int ws_skip;        /* the current frame is not binary: skip it */
    uint8_t hdr[10];    /* the current packet's header (+ DATA cbLen) */
    size_t hdr_n, hdr_need;
    uint32_t pkt_left;  /* body bytes left in the current packet */
    uint16_t pkt_type;
    uint8_t ctl[4096];  /* the last whole non-DATA packet */
    size_t ctl_n;
    int ctl_ready;
    uint64_t data_bytes;
    uint8_t *out;       /* one frame being built */
} tunnel;

#define TUN_IN_CAP (256 * 1024)

static void tsgu_feed(tunnel *t, const uint8_t *p, size_t n)
{
    while (n) {
        if (t->hdr_n < t->hdr_need) {
            size_t k = t->hdr_need - t->hdr_n < n ? t->hdr_need - t->hdr_n : n;
            memcpy(t->hdr + t->hdr_n, p, k);
            t->hdr_n += k;
            p += k;
            n -= k;
            if (t->hdr_n == 8 && t->hdr_need == 8) {
                t->pkt_type = (uint16_t)(t->hdr[0] | t->hdr[1] << 8);
                uint32_t len = (uint32_t)t->hdr[4] | (uint32_t)t->hdr[5] << 8 | (uint32_t)t->hdr[6] << 16 |
                               (uint32_t)t->hdr[7] << 24;
                if (t->pkt_type == WS_TSGU_DATA) {
                    t->hdr_need = 10;
                    t->pkt_left = len >= 10 ? len - 10 : 0;
                } else {
                    t->pkt_left = len >= 8 ? len - 8 : 0;
                    memcpy(t->ctl, t->hdr, 8);
                    t->ctl_n = 8;
                }
            }
            if (t->hdr_n < t->hdr_need)
                continue;
        }
        if (t->pkt_left) {
            size_t k = t->pkt_left < n ? t->pkt_left : n;
            if (t->pkt_type == WS_TSGU_DATA) {
                t->data_bytes += k;
            } else if (t->ctl_n + k <= sizeof t->ctl) {
                memcpy(t->ctl + t->ctl_n, p, k);
                t->ctl_n += k;
            }
            p += k;
            n -= k;
            t->pkt_left -= (uint32_t)k;
        }
        if (t->pkt_left == 0 && t->hdr_n == t->hdr_need) {
            if (t->pkt_type != WS_TSGU_DATA)
                t->ctl_ready = 1;
            t->hdr_n = 0;
            t->hdr_need = 8;
        }
    }
}

/* Read from the gateway and parse what came; -1 when the connection ended. */
static int tun_pump(tunnel *t)
{
    if (t->in_off == t->in_len)
        t->in_off = t->in_len = 0;
    else if (t->in_off > TUN_IN_CAP / 2) {
        memmove(t->in, t->in + t->in_off, t->in_len - t->in_off);
        t->in_len -= t->in_off;
        t->in_off = 0;
    }
    int r = SSL_read(t->ssl, t->in + t->in_len, (int)(TUN_IN_CAP - t->in_len));
    if (r <= 0)
        return -1;
    t->in_len += (size_t)r;
    for (;;) {
        size_t avail = t->in_len - t->in_off;
        if (!avail)
            break;
        if (t->ws_left == 0) {
            ws_websocket_frame f;
            ws_error e;
            int fr = ws_websocket_decode_header(t->in + t->in_off, avail, 1 << 20, &f, &e);
            if (fr < 0)
                return -1;
            if (fr == 1)
                break;
            t->in_off += f.header_len;
            t->ws_left = f.payload_len;
            t->ws_skip = !(f.opcode == WS_WEBSOCKET_OP_BINARY || f.opcode == WS_WEBSOCKET_OP_CONTINUATION);
            if (f.opcode == WS_WEBSOCKET_OP_CLOSE)
                return -1;
            continue;
        }
        size_t k = t->ws_left < avail ? (size_t)t->ws_left : avail;
        if (!t->ws_skip)
            tsgu_feed(t, t->in + t->in_off, k);
        t->in_off += k;
        t->ws_left -= k;
    }
    return 0;
}

static void mask_fast(uint8_t *p, size_t n, const uint8_t m[4])
{
    uint64_t m8;
    uint8_t mm[8] = {m[0], m[1], m[2], m[3], m[0], m[1], m[2], m[3]};
    memcpy(&m8, mm, 8);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        v ^= m8;
        memcpy(p + i, &v, 8);
    }
    for (; i < n; i++)
        p[i] ^= m[i & 3];
}

/* One masked binary frame holding one packet. */
static int tun_send(tunnel *t, const uint8_t *pkt, size_t n)
{
    uint8_t mask[4];
    ws_random(mask, sizeof mask);
    size_t hl = ws_websocket_encode_header(WS_WEBSOCKET_OP_BINARY, n, mask, t->out);
    memcpy(t->out + hl, pkt, n);
    mask_fast(t->out + hl, n, mask);
    return SSL_write(t->ssl, t->out, (int)(hl + n)) == (int)(hl + n) ? 0 : -1;
}

static int tun_ctl(tunnel *t, uint16_t want, uint8_t **p, size_t *n)
{
    while (!t->ctl_ready)
        if (tun_pump(t) != 0)
            return -1;
    t->ctl_ready = 0;
    *p = t->ctl;
    *n = t->ctl_n;
    uint16_t type = (uint16_t)(t->ctl[0] | t->ctl[1] << 8);
    if (type != want) {
        say("relay: expected packet 0x%02X, got 0x%02X", want, type);
        return -1;
    }
    return 0;
}

static int tun_open(tunnel *t, ws_state *st, const ws_rdp_file *f, char *cipher, size_t cn, char *version, size_t vn)
{
    ws_error e;
    memset(t, 0, sizeof *t);
    t->in = malloc(TUN_IN_CAP);
    t->out = malloc(WS_WEBSOCKET_HEADER_MAX + WS_TSGU_PACKET_MAX);
    t->hdr_need = 8;
    const char *gw = ws_rdp_get(f, "gatewayhostname"), *cookie = ws_rdp_get(f, "gatewayaccesstoken");
    const char *resource = ws_rdp_get(f, "full address"), *port_text = ws_rdp_get(f, "server port");
    if (!gw || !cookie || !resource) {
        say("relay: the .rdp file lacks gatewayhostname, gatewayaccesstoken or full address");
        return -1;
    }
    char addr[64];
    ws_hostport hp;
    ws_machine client;
    if (ws_hostport_parse(gw, 443, &hp, &e) != 0 ||
        ws_lab_resolve(st, WS_RESOLVE_TENANT_PC, hp.host, addr, sizeof addr, &e) != 0 ||
        ws_machine_get(st, "client", &client, &e) != 0) {
        say("relay: %s", e.msg);
        return -1;
    }
    const char *name = hp.host;
    int port = hp.port;
    SSL_CTX *ctx = ws_tls_client_ctx(st, "client", &e);
    t->fd = tcp_connect(client.address, addr, port);
    if (!ctx || t->fd < 0) {
        say("relay: cannot reach the gateway %s:%d", addr, port);
        return -1;
    }
    t->ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);
    SSL_set_fd(t->ssl, t->fd);
    ws_tls_expect_peer_flags(t->ssl, name, WS_PEER_RDGATEWAY);
    if (SSL_connect(t->ssl) != 1) {
        say("relay: TLS with the gateway failed");
        return -1;
    }
    snprintf(cipher, cn, "%s", SSL_get_cipher_name(t->ssl));
    snprintf(version, vn, "%s", SSL_get_version(t->ssl));
    char key[17], conn_id[40], head[1500];
    uint8_t raw[15];
    ws_random(raw, sizeof raw);
    for (int i = 0; i < 15; i++)
        key[i] = (char)(0x40 + (raw[i] & 0x1F));
    key[15] = '\0';
    ws_guid_new(conn_id);
    int hn = snprintf(head, sizeof head,
                      "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nCache-Control: no-cache\r\nPragma: no-cache\r\n"
                      "Accept: */*\r\nUser-Agent: MS-RDGateway/1.0\r\nHost: %s\r\nConnection: Upgrade\r\n"
                      "Upgrade: websocket\r\nSec-Websocket-Version: 13\r\nSec-Websocket-Key: %s\r\n"
                      "RDG-Connection-Id: {%s}\r\nRDG-Auth-Scheme: PAA\r\nContent-Length: 0\r\n\r\n",
                      name, key, conn_id);
    if (SSL_write(t->ssl, head, hn) != hn)
        return -1;
    /* The 101 answer's head, byte by byte (the frames follow it). */
    size_t got = 0;
    while (got + 1 < sizeof head) {
        if (SSL_read(t->ssl, head + got, 1) != 1)
            return -1;
        got++;
        if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    head[got] = '\0';
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
        say("relay: the gateway answered: %.60s", head);
        return -1;
    }
    static uint8_t pkt[WS_TSGU_PACKET_MAX];
    uint8_t *p;
    size_t n;
    ws_tsgu_handshake_request hs = {.ver_major = 1, .extended_auth = WS_TSGU_EXTAUTH_PAA};
    ws_tsgu_handshake_response hr;
    n = ws_tsgu_encode_handshake_request(&hs, pkt, sizeof pkt);
    if (tun_send(t, pkt, n) != 0 || tun_ctl(t, WS_TSGU_HANDSHAKE_RESPONSE, &p, &n) != 0 ||
        ws_tsgu_decode_handshake_response(p, n, &hr, &e) != 0 || hr.error_code)
        return -1;
    static ws_tsgu_tunnel_create tc;
    memset(&tc, 0, sizeof tc);
    tc.caps = 0x0D;
    tc.fields_present = WS_TSGU_TUNNEL_CREATE_PAA_COOKIE;
    snprintf(tc.cookie, sizeof tc.cookie, "%s", cookie);
    ws_tsgu_tunnel_response tr;
    n = ws_tsgu_encode_tunnel_create(&tc, pkt, sizeof pkt);
    if (n == 0 || tun_send(t, pkt, n) != 0 || tun_ctl(t, WS_TSGU_TUNNEL_RESPONSE, &p, &n) != 0 ||
        ws_tsgu_decode_tunnel_response(p, n, &tr, &e) != 0 || tr.status_code) {
        say("relay: the gateway refused the tunnel (0x%08X): is the .rdp file older than its 2 minutes?",
            tr.status_code);
        return -1;
    }
    ws_tsgu_tunnel_auth ta = {.fields_present = 0};
    snprintf(ta.client_name, sizeof ta.client_name, "BENCH");
    ws_tsgu_tunnel_auth_response ar;
    n = ws_tsgu_encode_tunnel_auth(&ta, pkt, sizeof pkt);
    if (tun_send(t, pkt, n) != 0 || tun_ctl(t, WS_TSGU_TUNNEL_AUTH_RESPONSE, &p, &n) != 0 ||
        ws_tsgu_decode_tunnel_auth_response(p, n, &ar, &e) != 0 || ar.error_code)
        return -1;
    ws_tsgu_channel_create cc = {.num_resources = 1, .port = (uint16_t)(port_text ? atoi(port_text) : 3389),
                                 .protocol = 3};
    snprintf(cc.resource, sizeof cc.resource, "%s", resource);
    ws_tsgu_channel_response cr;
    n = ws_tsgu_encode_channel_create(&cc, pkt, sizeof pkt);
    if (n == 0 || tun_send(t, pkt, n) != 0 || tun_ctl(t, WS_TSGU_CHANNEL_RESPONSE, &p, &n) != 0 ||
        ws_tsgu_decode_channel_response(p, n, &cr, &e) != 0 || cr.error_code) {
        say("relay: the gateway refused the channel to %s (0x%08X)", resource, cr.error_code);
        return -1;
    }
    return 0;
}

static void tun_close(tunnel *t)
{
    if (t->ssl)
        SSL_free(t->ssl);
    if (t->fd > 0)
        close(t->fd);
    free(t->in);
    free(t->out);
    memset(t, 0, sizeof *t);
}

static int tun_data(tunnel *t, const uint8_t *data, size_t n)
{
    static uint8_t pkt[WS_TSGU_PACKET_MAX];
    while (n) {
        size_t part = n > 65535 ? 65535 : n;
        size_t m = ws_tsgu_encode_data(data, part, pkt, sizeof pkt);
        if (m == 0 || tun_send(t, pkt, m) != 0)
            return -1;
        data += part;
        n -= part;
    }
    return 0;
}

/* Why the last transfer failed, for the report. */
static char relay_why[300];

static double relay_fail(const char *what, double t0)
{
    int err = errno;
    unsigned long ssl = ERR_peek_last_error();
    char text[160] = "";
    if (ssl)
        ERR_error_string_n(ssl, text, sizeof text);
    snprintf(relay_why, sizeof relay_why, "%s failed after %.1f s: %s%s%s", what, now_s() - t0, strerror(err),
             text[0] ? "; " : "", text);
    ERR_clear_error();
    return -1;
}

/* Timed transfers: seconds, or -1. */
static double tun_down(tunnel *t, uint64_t n)
{
    uint8_t cmd[9] = {'D'};
    memcpy(cmd + 1, &n, 8);
    double t0 = now_s();
    uint64_t target = t->data_bytes + n;
    if (tun_data(t, cmd, sizeof cmd) != 0)
        return relay_fail("tun down", t0);
    while (t->data_bytes < target)
        if (tun_pump(t) != 0)
            return relay_fail("tun down", t0);
    return now_s() - t0;
}

static double tun_up(tunnel *t, uint64_t n)
{
    static uint8_t buf[65535];
    memset(buf, 'c', sizeof buf);
    uint8_t cmd[9] = {'U'};
    memcpy(cmd + 1, &n, 8);
    double t0 = now_s();
    uint64_t target = t->data_bytes + 1;
    if (tun_data(t, cmd, sizeof cmd) != 0)
        return relay_fail("tun up", t0);
    for (uint64_t left = n; left;) {
        size_t k = left > sizeof buf ? sizeof buf : (size_t)left;
        if (tun_data(t, buf, k) != 0)
            return relay_fail("tun up", t0);
        left -= k;
    }
    while (t->data_bytes < target)
        if (tun_pump(t) != 0)
            return relay_fail("tun up", t0);
    return now_s() - t0;
}

static double direct_down(conn *c, uint64_t n)
{
    static uint8_t buf[TUN_IN_CAP];
    uint8_t cmd[9] = {'D'};
    memcpy(cmd + 1, &n, 8);
    double t0 = now_s();
    if (c_write_all(c, cmd, sizeof cmd) != 0)
        return relay_fail("direct down", t0);
    while (n) {
        int r = c_read(c, buf, sizeof buf);
        if (r <= 0)
            return relay_fail("direct down", t0);
        n -= (uint64_t)r;
    }
    return now_s() - t0;
}

static double direct_up(conn *c, uint64_t n)
{
    static uint8_t buf[65535];
    memset(buf, 'c', sizeof buf);
    uint8_t cmd[9] = {'U'};
    memcpy(cmd + 1, &n, 8);
    double t0 = now_s();
    if (c_write_all(c, cmd, sizeof cmd) != 0)
        return relay_fail("direct up", t0);
    for (uint64_t left = n; left;) {
        size_t k = left > sizeof buf ? sizeof buf : (size_t)left;
        if (c_write_all(c, buf, k) != 0)
            return relay_fail("direct up", t0);
        left -= k;
    }
    char k;
    if (c_read_all(c, &k, 1) != 0 || k != 'K')
        return relay_fail("direct up", t0);
    return now_s() - t0;
}

/* One timed transfer through a fresh tunnel (created, then closed; not timed):
 * seconds, or -1 (relay_why says why; a stall when no byte moved for 5 s). */
static double tunnel_transfer(ws_state *st, const ws_rdp_file *f, int down, uint64_t n, char *cipher, size_t cn,
                              char *version, size_t vn)
{
    tunnel t;
    if (tun_open(&t, st, f, cipher, cn, version, vn) != 0) {
        snprintf(relay_why, sizeof relay_why, "the tunnel could not be opened");
        tun_close(&t);
        return -2;
    }
    double s = down ? tun_down(&t, n) : tun_up(&t, n);
    tun_close(&t);
    return s;
}

static int cmd_relay(int argc, char **argv)
{
    if (argc < 6)
        return 2;
    const char *lab = argv[2];
    uint64_t bytes = (uint64_t)atoi(argv[4]) << 20;
    int reps = atoi(argv[5]);
    signal(SIGPIPE, SIG_IGN);
    ws_state *st = open_lab(lab);
    ws_error e;
    unsigned char *data;
    size_t len;
    ws_rdp_file f;
    ws_machine hv, client;
    if (ws_read_file(argv[3], WS_RDP_FILE_MAX, &data, &len, &e) != 0 || ws_rdp_parse(data, len, &f, &e) != 0 ||
        ws_machine_get(st, "hv01", &hv, &e) != 0 || ws_machine_get(st, "client", &client, &e) != 0) {
        say("relay: %s", e.msg);
        return 1;
    }
    free(data);
    int ready[2], ctl[2];
    if (pipe(ready) != 0 || pipe(ctl) != 0)
        return 1;
    pid_t sink = fork();
    if (sink == 0) {
        close(ready[0]);
        close(ctl[1]);
        ws_state *sst = open_lab(lab);
        sink_main(sst, hv.address, ready[1], ctl[0]);
        _exit(0);
    }
    close(ready[1]);
    close(ctl[0]);
    char ok = 0;
    int rc = 1;
    conn d = {-1, NULL};
    SSL_CTX *dctx = NULL;
    char cipher[128] = "", version[32] = "";
    static const char *dir_name[2] = {"up", "down"};
    int stalls[2] = {0, 0}, done[2] = {0, 0};
    if (read(ready[0], &ok, 1) != 1 || ok != 'R') {
        say("relay: the sink could not listen on %s:2179 (is hv01 stopped?)", hv.address);
        goto out;
    }
    /* Warm-up, and the cipher the gateway negotiates. */
    double w = tunnel_transfer(st, &f, 1, 1u << 20, cipher, sizeof cipher, version, sizeof version);
    if (w == -2 || !cipher[0]) {
        say("relay: %s", relay_why);
        info("relay.error", "%s", relay_why);
        goto out;
    }
    /* The direct stream: the same client code, the tunnel's protocol version and cipher. */
    /* A context of its own: ws_tls_client_ctx's is shared and must not be changed. */
    dctx = ws_tls_client_ctx_new(&e);
    if (!dctx || ws_tls_trust_machine(dctx, st, "client", &e) != 0)
        goto out;
    if (strcmp(version, "TLSv1.3") == 0) {
        SSL_CTX_set_min_proto_version(dctx, TLS1_3_VERSION);
        SSL_CTX_set_ciphersuites(dctx, cipher);
    } else {
        SSL_CTX_set_max_proto_version(dctx, TLS1_2_VERSION);
        SSL_CTX_set_cipher_list(dctx, cipher);
    }
    d.fd = tcp_connect(client.address, hv.address, SINK_DIRECT_PORT);
    d.ssl = d.fd >= 0 ? SSL_new(dctx) : NULL;
    if (!d.ssl)
        goto out;
    SSL_set_fd(d.ssl, d.fd);
    SSL_set1_host(d.ssl, "rdgw.contoso.com");
    if (SSL_connect(d.ssl) != 1 || strcmp(SSL_get_cipher_name(d.ssl), cipher) != 0) {
        say("relay: the direct TLS stream did not get %s", cipher);
        goto out;
    }
    if (direct_down(&d, 1u << 20) < 0 || direct_up(&d, 1u << 20) < 0) {
        say("relay: the direct stream failed: %s", relay_why);
        goto out;
    }
    info("relay.cipher", "%s %s on both; %d MiB per transfer; a fresh tunnel for each", version, cipher,
         atoi(argv[4]));
    say("relay: %s %s; %d runs of %d MiB each way", version, cipher, reps, atoi(argv[4]));
    /* Tunnel and direct alternate, their order flipping each run. */
    for (int r = 0; r < reps; r++) {
        for (int down = 1; down >= 0; down--) {
            double tt = 0, dt = 0;
            for (int k = 0; k < 2; k++) {
                if ((k == 0) == (r % 2 == 0))
                    tt = tunnel_transfer(st, &f, down, bytes, cipher, sizeof cipher, version, sizeof version);
                else
                    dt = down ? direct_down(&d, bytes) : direct_up(&d, bytes);
            }
            if (dt <= 0) {
                say("relay: the direct stream failed: %s", relay_why);
                info("relay.error", "direct %s: %s", dir_name[down], relay_why);
                goto out;
            }
            double mb = (double)bytes / 1e6;
            char key[64];
            snprintf(key, sizeof key, "relay.%s.direct_MBps", dir_name[down]);
            sample(key, mb / dt);
            if (tt == -2) {
                say("relay: %s", relay_why);
                info("relay.error", "%s", relay_why);
                goto out;
            }
            if (tt < 0) {
                stalls[down]++;
                say("relay: run %d, %s: the tunnel stalled: %s", r + 1, dir_name[down], relay_why);
                info("relay.stall", "run %d, %s: %s", r + 1, dir_name[down], relay_why);
                continue;
            }
            done[down]++;
            snprintf(key, sizeof key, "relay.%s.tunnel_MBps", dir_name[down]);
            sample(key, mb / tt);
            snprintf(key, sizeof key, "relay.%s.ratio", dir_name[down]);
            sample(key, dt / tt);
            say("relay: run %d, %s: tunnel %.0f MB/s, direct %.0f MB/s", r + 1, dir_name[down], mb / tt, mb / dt);
        }
    }
    for (int down = 0; down < 2; down++) {
        char key[64];
        snprintf(key, sizeof key, "relay.%s.stalls", dir_name[down]);
        sample(key, stalls[down]);
    }
    rc = 0;
out:
    if (d.ssl)
        SSL_free(d.ssl);
    if (d.fd >= 0)
        close(d.fd);
    SSL_CTX_free(dctx);
    close(ctl[1]); /* the sink exits */
    waitpid(sink, NULL, 0);
    ws_rdp_free(&f);
    ws_state_close(st);
    return rc;
}

/* ---- 7. the state file: five writers at once ---- */

static int cmd_events(int argc, char **argv)
{
    if (argc < 6)
        return 2;
    const char *lab = argv[2];
    int procs = atoi(argv[3]), reps = atoi(argv[5]);
    double dur = atof(argv[4]);
    static const char *machines[] = {"portal", "spf01", "vmm01", "rdgw01", "hv01", "hv02", "client"};
    for (int rep = 0; rep < reps; rep++) {
        int fds[2], go[2];
        if (pipe(fds) != 0 || pipe(go) != 0)
            return 1;
        pid_t pids[32];
        for (int i = 0; i < procs && i < 32; i++) {
            pids[i] = fork();
            if (pids[i] == 0) {
                close(fds[0]);
                close(go[1]);
                ws_state *st = open_lab(lab);
                char c;
                if (read(go[0], &c, 1) < 0)
                    _exit(1);
                long ok = 0, busy = 0, other = 0;
                const char *m = machines[i % 7];
                double t0 = now_s();
                while (now_s() - t0 < dur) {
                    if (ws_event(st, m, WS_CHANNEL_GATEWAY, "Microsoft-Windows-TerminalServices-Gateway", 302,
                                 WS_LEVEL_INFO,
                                 "The user \"FedAuth\", on client computer \"127.64.0.20\", connected to resource "
                                 "\"hv01.fabric.contoso.local\". (bench writer %d, event %ld)",
                                 i, ok) == 0)
                        ok++;
                    else if ((sqlite3_errcode(st->db) & 0xFF) == SQLITE_BUSY ||
                             (sqlite3_errcode(st->db) & 0xFF) == SQLITE_LOCKED)
                        busy++;
                    else
                        other++;
                }
                char line[100];
                int len = snprintf(line, sizeof line, "%ld %ld %ld\n", ok, busy, other);
                if (write(fds[1], line, (size_t)len) < 0)
                    _exit(1);
                ws_state_close(st);
                _exit(0);
            }
        }
        close(fds[1]);
        close(go[0]);
        usleep(300000); /* every writer has opened the state file */
        close(go[1]);   /* go */
        FILE *f = fdopen(fds[0], "r");
        long ok = 0, busy = 0, other = 0, a, b, c;
        char line[100];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "%ld %ld %ld", &a, &b, &c) == 3) {
                ok += a;
                busy += b;
                other += c;
            }
        fclose(f);
        for (int i = 0; i < procs && i < 32; i++)
            waitpid(pids[i], NULL, 0);
        sample("state.events_per_s", (double)ok / dur);
        sample("state.busy", (double)busy);
        sample("state.other_failures", (double)other);
        say("state file: run %d: %.0f events/s from %d processes, %ld SQLITE_BUSY, %ld other failures", rep + 1,
            (double)ok / dur, procs, busy, other);
    }
    return 0;
}

/* ---- 8. the load balancer ---- */

/* One TLS connect to the gateway's public name at address:port as the tenant's PC makes
 * it (from its address, trusting its Root store, the name checked): ms, or -1. */
static double tls_connect_ms(SSL_CTX *ctx, const char *from, const char *address, int port)
{
    double t0 = now_s();
    int fd = tcp_connect(from, address, port);
    if (fd < 0)
        return -1;
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    ws_tls_expect_peer_flags(ssl, "rdgw.contoso.com", WS_PEER_RDGATEWAY);
    int ok = SSL_connect(ssl) == 1;
    double ms = 1e3 * (now_s() - t0);
    SSL_free(ssl);
    close(fd);
    return ok ? ms : -1;
}

static int cmd_lbconnect(int argc, char **argv)
{
    if (argc < 7)
        return 2;
    ws_state *st = open_lab(argv[2]);
    int n = atoi(argv[3]), port = atoi(argv[6]), failures = 0;
    ws_error e;
    ws_machine client;
    SSL_CTX *ctx = ws_tls_client_ctx(st, "client", &e);
    if (!ctx || ws_machine_get(st, "client", &client, &e) != 0) {
        say("lbconnect: %s", e.msg);
        return 1;
    }
    /* Full flows, alternated so that both see the same machine load: the tenant's PC
     * resolves the gateway's public name to rdgw01 or to lb01 for each. */
    int flows = argc > 7 ? atoi(argv[7]) : 40;
    static ws_connect_result r;
    for (int i = 0; i < flows + 2; i++)
        for (int k = 0; k < 2; k++) {
            int through = (i + k) % 2;
            if (ws_lab_hosts_set(st->lab_dir, "rdgw.contoso.com", argv[through ? 5 : 4], &e) != 0) {
                say("lbconnect: %s", e.msg);
                return 1;
            }
            double t0 = now_s();
            int rc = flow(st, "web01", NULL, &r);
            double ms = 1e3 * (now_s() - t0);
            if (rc != 0) {
                failures++;
                info("lb.error", "a flow %s lb01 stopped at %s: %s", through ? "through" : "without", r.stage,
                     r.message);
            } else if (i >= 2) /* two of each to warm up */
                sample(through ? "lb.flow_through_ms" : "lb.flow_direct_ms", ms);
        }
    ws_lab_hosts_set(st->lab_dir, "rdgw.contoso.com", argv[5], NULL);
    /* TLS connects alone: the balancer's hop without the rest of the flow. */
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2; k++) {
            int through = (i + k) % 2;
            double ms = tls_connect_ms(ctx, client.address, argv[through ? 5 : 4], port);
            if (ms < 0)
                failures++;
            else
                sample(through ? "lb.through_ms" : "lb.direct_ms", ms);
        }
    if (failures)
        info("lb.error", "%d of %d connects failed", failures, 2 * n);
    say("lbconnect: %d flows and %d connects each way, %d failed", flows, n, failures);
    SSL_CTX_free(ctx);
    ws_state_close(st);
    return failures >= 2 * (n + flows) ? 1 : 0;
}

/* ---- the report ---- */

typedef struct series {
    char key[96];
    double *v;
    int n, cap;
    int sorted;
} series;

static series *all;
static int nall;
static cJSON *infos;

static series *get(const char *key)
{
    for (int i = 0; i < nall; i++)
        if (strcmp(all[i].key, key) == 0) {
            if (!all[i].sorted) {
                qsort(all[i].v, (size_t)all[i].n, sizeof(double), cmp_double);
                all[i].sorted = 1;
            }
            return &all[i];
        }
    return NULL;
}

static void add(const char *key, double v)
{
    series *s = NULL;
    for (int i = 0; i < nall; i++)
        if (strcmp(all[i].key, key) == 0)
            s = &all[i];
    if (!s) {
        all = realloc(all, sizeof *all * (size_t)(nall + 1));
        s = &all[nall++];
        memset(s, 0, sizeof *s);
        snprintf(s->key, sizeof s->key, "%s", key);
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = realloc(s->v, sizeof(double) * (size_t)s->cap);
    }
    s->v[s->n++] = v;
    s->sorted = 0;
}

static double pct(const series *s, double p)
{
    if (!s || !s->n)
        return NAN;
    /* nearest rank */
    int k = (int)ceil(p / 100.0 * s->n);
    if (k < 1)
        k = 1;
    if (k > s->n)
        k = s->n;
    return s->v[k - 1];
}

static double med(const series *s)
{
    if (!s || !s->n)
        return NAN;
    return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

static const char *info_get(const char *key)
{
    cJSON *v = cJSON_GetObjectItem(infos, key);
    if (cJSON_IsArray(v))
        v = cJSON_GetArrayItem(v, 0);
    return cJSON_GetStringValue(v);
}

static void fmt(double v, char *out, size_t n)
{
    if (isnan(v))
        snprintf(out, n, "-");
    else if (v == floor(v) || fabs(v) >= 1000)
        snprintf(out, n, "%.0f", v);
    else if (fabs(v) >= 100)
        snprintf(out, n, "%.1f", v);
    else if (fabs(v) >= 10)
        snprintf(out, n, "%.2f", v);
    else
        snprintf(out, n, "%.3f", v);
}

static cJSON *rows;

/* One table row and its JSON object. met: 1 yes, 0 no, -1 no target. */
static void row(const char *section, const char *key, const char *measure, double m, double lo, double hi, int n,
                const char *unit, const char *target, int met)
{
    char a[32], b[32], c[32];
    fmt(m, a, sizeof a);
    fmt(lo, b, sizeof b);
    fmt(hi, c, sizeof c);
    const char *mt = met == 1 ? "yes" : met == 0 ? "**no**" : "";
    if (isnan(m))
        mt = target && target[0] ? "not measured" : "";
    printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", section, measure, a, b, c, unit, target ? target : "", mt);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "row", section);
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddStringToObject(o, "measure", measure);
    if (isnan(m)) {
        cJSON_AddNullToObject(o, "median");
        cJSON_AddNullToObject(o, "min");
        cJSON_AddNullToObject(o, "max");
    } else {
        cJSON_AddNumberToObject(o, "median", m);
        if (isnan(lo))
            cJSON_AddNullToObject(o, "min");
        else
            cJSON_AddNumberToObject(o, "min", lo);
        if (isnan(hi))
            cJSON_AddNullToObject(o, "max");
        else
            cJSON_AddNumberToObject(o, "max", hi);
    }
    cJSON_AddNumberToObject(o, "runs", n);
    cJSON_AddStringToObject(o, "unit", unit);
    if (target && target[0]) {
        cJSON_AddStringToObject(o, "target", target);
        if (isnan(m))
            cJSON_AddNullToObject(o, "met");
        else
            cJSON_AddBoolToObject(o, "met", met == 1);
    }
    cJSON_AddItemToArray(rows, o);
}

/* A row from a series: median, min, max. */
static void srow(const char *section, const char *key, const char *measure, const char *unit, const char *target,
                 int met_if_median_le, double limit)
{
    series *s = get(key);
    double m = med(s);
    int met = -1;
    if (met_if_median_le == 1)
        met = m <= limit;
    else if (met_if_median_le == 0)
        met = m >= limit;
    row(section, key, measure, m, s ? s->v[0] : NAN, s ? s->v[s->n - 1] : NAN, s ? s->n : 0, unit, target, met);
}

static double mean(const series *s)
{
    if (!s || !s->n)
        return NAN;
    double sum = 0;
    for (int i = 0; i < s->n; i++)
        sum += s->v[i];
    return sum / s->n;
}

/* A row of the mean of the samples of `from` (a count per flow that may be fractional
 * when connections are reused now and then), with their min and max. */
static void mrow(const char *section, const char *key, const char *from, const char *measure, const char *unit)
{
    series *s = get(from);
    row(section, key, measure, mean(s), s ? s->v[0] : NAN, s ? s->v[s->n - 1] : NAN, s ? s->n : 0, unit, "", -1);
}

static int cmd_report(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        say("report: cannot read %s", argv[2]);
        return 1;
    }
    infos = cJSON_CreateObject();
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *kind = line, *key = strchr(line, '\t');
        if (!key)
            continue;
        *key++ = '\0';
        char *val = strchr(key, '\t');
        if (!val)
            continue;
        *val++ = '\0';
        if (strcmp(kind, "sample") == 0) {
            add(key, atof(val));
        } else if (strcmp(kind, "info") == 0) {
            cJSON *arr = cJSON_GetObjectItem(infos, key);
            if (!arr)
                arr = cJSON_AddArrayToObject(infos, key);
            if (cJSON_GetArraySize(arr) < 20)
                cJSON_AddItemToArray(arr, cJSON_CreateString(val));
        }
    }
    fclose(f);
    rows = cJSON_CreateArray();
    const char *cores_text = info_get("machine.cores");
    int cores = cores_text ? atoi(cores_text) : 1;

    printf("| # | measure | median | min | max | unit | target | met |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    /* 1. floor */
    srow("1", "floor.sign_per_s", "Floor: RSA-2048 sign (SHA-256, PKCS#1 v1.5, lab key rdgw-ssl)", "/s", "", -1, 0);
    srow("1", "floor.verify_per_s", "Floor: RSA-2048 verify", "/s", "", -1, 0);
    srow("1", "floor.handshakes_per_s", "Floor: TLS handshake, two in-process endpoints, rdgw-ssl", "/s", "", -1, 0);
    srow("1", "floor.resumed_handshakes_per_s", "Floor: TLS handshake resumed (the first's session; no RSA operation)",
         "/s", "", -1, 0);
    srow("1", "floor.pbkdf2_per_s", "(not floor) the lab's password check, PBKDF2-SHA256 x 20,000", "/s", "", -1, 0);
    double sign = med(get("floor.sign_per_s")), hs = med(get("floor.handshakes_per_s"));
    double rhs = med(get("floor.resumed_handshakes_per_s"));
    double floor_before_ms = 1e3 * (FLOW_HANDSHAKES / hs + FLOW_SIGNATURES / sign);
    /* The flow's own count, measured (hscount.so): full handshakes, resumed ones and the
     * signatures outside them; the count before reuse when it could not be measured. */
    double full = mean(get("connect.measured.full")), resumed = mean(get("connect.measured.resumed"));
    int measured = !isnan(full);
    if (!measured) {
        full = FLOW_HANDSHAKES;
        resumed = 0;
    }
    double floor_ms = 1e3 * (full / hs + FLOW_SIGNATURES / sign) + (resumed > 0 ? 1e3 * resumed / rhs : 0);

    /* 2. connect latency */
    series *lat = get("connect.latency_ms");
    srow("2", "connect.latency_ms", "Connect latency, sequential full flows (alice, web01)", "ms", "", -1, 0);
    row("2", "connect.latency_p95_ms", "Connect latency p95", pct(lat, 95), NAN, NAN, lat ? lat->n : 0, "ms", "", -1);
    row("2", "connect.latency_p99_ms", "Connect latency p99", pct(lat, 99), NAN, NAN, lat ? lat->n : 0, "ms", "", -1);
    row("2", "connect.count",
        "Count per flow before connection reuse, from the code: TLS handshakes (RSA private ops: 8 + 3 signatures = 11)",
        FLOW_HANDSHAKES, NAN, NAN, 0, "handshakes", "", -1);
    mrow("2", "connect.handshakes", "connect.measured.handshakes",
         "Count per flow, measured: TLS handshakes the lab's servers completed (mean)", "handshakes");
    mrow("2", "connect.handshakes_full", "connect.measured.full", "... of them full (one RSA private op each; mean)",
         "handshakes");
    mrow("2", "connect.handshakes_resumed", "connect.measured.resumed", "... of them resumed (no RSA op; mean)",
         "handshakes");
    {
        series *fs = get("connect.measured.full");
        row("2", "connect.rsa_ops", "Count per flow, measured: RSA private ops (full handshakes + 3 signatures; mean)",
            measured ? full + FLOW_SIGNATURES : NAN, fs ? fs->v[0] + FLOW_SIGNATURES : NAN,
            fs ? fs->v[fs->n - 1] + FLOW_SIGNATURES : NAN, fs ? fs->n : 0, "ops", "", -1);
    }
    static const char *const legs[][2] = {{"portal", "browser -> portal"},
                                          {"spf01", "portal -> SPF"},
                                          {"rdgw01", "client -> gateway"},
                                          {"hv01", "client -> host (in the tunnel)"}};
    for (size_t i = 0; i < sizeof legs / sizeof *legs; i++) {
        char key[96], from[128], measure[160];
        snprintf(key, sizeof key, "connect.handshakes.%s", legs[i][0]);
        snprintf(from, sizeof from, "connect.measured.at.%s", legs[i][0]);
        snprintf(measure, sizeof measure, "... at %s: %s (mean)", legs[i][0], legs[i][1]);
        mrow("2", key, from, measure, "handshakes");
    }
    mrow("2", "connect.lab_client_handshakes", "connect.measured.lab_clients",
         "... made by lab processes as clients (the portal to SPF; mean)", "handshakes");
    srow("2", "connect.client_handshakes", "... made by the tenant's PC (measured in-process; before reuse: 5)",
         "handshakes", "", -1, 0);
    row("2", "connect.floor_before_reuse_ms", "Floor cost per flow before reuse: 8 handshakes + 3 signatures",
        floor_before_ms, NAN, NAN, 0, "ms", "", -1);
    {
        char measure[200];
        snprintf(measure, sizeof measure, "Floor cost per flow: the measured count (%.2f full + %.2f resumed handshakes"
                 " + 3 signatures) at the floor rates", full, resumed);
        row("2", "connect.floor_ms", measured ? measure : "Floor cost per flow: 8 handshakes + 3 signatures (count "
            "not measured)", floor_ms, NAN, NAN, 0, "ms", "", -1);
    }
    if (lat && lat->n) {
        double m = med(lat) / floor_ms;
        row("2", "connect.ratio", "Latency / floor cost", m, lat->v[0] / floor_ms, lat->v[lat->n - 1] / floor_ms,
            lat->n, "x", "<= 2.0", m <= 2.0);
        row("2", "connect.ratio_before_reuse", "... latency / floor cost before reuse (8 + 3)", med(lat) / floor_before_ms,
            lat->v[0] / floor_before_ms, lat->v[lat->n - 1] / floor_before_ms, lat->n, "x", "", -1);
    } else {
        row("2", "connect.ratio", "Latency / floor cost", NAN, NAN, NAN, 0, "x", "<= 2.0", -1);
    }
    {
        char mb[200], mt[200];
        double b = mean(get("connect.part_browser.handshakes")), t = mean(get("connect.part_tunnel.handshakes"));
        if (isnan(b))
            snprintf(mb, sizeof mb, "... part: browser (sign in, VM list, .rdp file; 3 signatures)");
        else
            snprintf(mb, sizeof mb, "... part: browser (sign in, VM list, .rdp file: %.2f handshakes, 3 signatures)", b);
        if (isnan(t))
            snprintf(mt, sizeof mt, "... part: .rdp check, gateway, host RDSTLS, first frame");
        else
            snprintf(mt, sizeof mt, "... part: .rdp check, gateway, host RDSTLS, first frame (%.2f handshakes)", t);
        srow("2", "connect.part_browser_ms", mb, "ms", "", -1, 0);
        srow("2", "connect.part_tunnel_ms", mt, "ms", "", -1, 0);
    }
    static const char *procs[] = {"portal", "spf01", "vmm01", "rdgw01", "hv01", "client", "total"};
    for (size_t i = 0; i < sizeof procs / sizeof *procs; i++) {
        char key[96], measure[160];
        snprintf(key, sizeof key, "connect.cpu_ms.%s", procs[i]);
        snprintf(measure, sizeof measure, "... CPU per flow: %s%s", procs[i],
                 strcmp(procs[i], "client") == 0 ? " (the tenant's PC, in-process)"
                 : strcmp(procs[i], "total") == 0 ? " (all processes; per 50-flow block)"
                                                  : "");
        srow("2", key, measure, "ms", "", -1, 0);
    }
    srow("2", "connect.failures", "Failed flows", "flows", "0", 1, 0);

    /* 3. throughput */
    double ceiling = cores / (floor_ms / 1e3);
    row("3", "throughput.ceiling", "Crypto-bound ceiling: cores / floor cost per flow", ceiling, NAN, NAN, 0,
        "flows/s", "", -1);
    double best = NAN;
    int best_c = 0;
    static const int levels[] = {1, 2, 4, 8, 16};
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        char key[96], measure[160];
        snprintf(key, sizeof key, "throughput.c%d.flows_per_s", levels[i]);
        series *s = get(key);
        snprintf(measure, sizeof measure, "Connect throughput, %d concurrent client%s", levels[i],
                 levels[i] > 1 ? "s" : "");
        srow("3", key, measure, "flows/s", "", -1, 0);
        if (s && s->n) {
            double r = med(s) / ceiling;
            snprintf(key, sizeof key, "throughput.c%d.ratio", levels[i]);
            snprintf(measure, sizeof measure, "... ratio to the ceiling, %d client%s", levels[i], levels[i] > 1 ? "s" : "");
            row("3", key, measure, r, s->v[0] / ceiling, s->v[s->n - 1] / ceiling, s->n, "x", "", -1);
            snprintf(key, sizeof key, "throughput.c%d.cpu_ms_per_flow", levels[i]);
            snprintf(measure, sizeof measure, "... CPU per flow, all processes, %d client%s", levels[i],
                     levels[i] > 1 ? "s" : "");
            srow("3", key, measure, "ms", "", -1, 0);
            snprintf(key, sizeof key, "throughput.c%d.cpu_busy", levels[i]);
            snprintf(measure, sizeof measure, "... share of all cores busy with it, %d client%s", levels[i],
                     levels[i] > 1 ? "s" : "");
            srow("3", key, measure, "x", "", -1, 0);
            if (isnan(best) || r > best) {
                best = r;
                best_c = levels[i];
            }
        }
    }
    {
        char measure[160];
        snprintf(measure, sizeof measure, "Best ratio to the ceiling (at %d client%s)", best_c, best_c > 1 ? "s" : "");
        row("3", "throughput.best_ratio", measure, best, NAN, NAN, 0, "x", ">= 0.5", isnan(best) ? -1 : best >= 0.5);
    }
    int tfail = 0;
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        char key[96];
        snprintf(key, sizeof key, "throughput.c%d.failures", levels[i]);
        series *s = get(key);
        for (int j = 0; s && j < s->n; j++)
            tfail += (int)s->v[j];
    }
    row("3", "throughput.failures", "Failed flows (all levels, all runs)", tfail, NAN, NAN, 0, "flows", "0", tfail == 0);

    /* 4. lab */
    srow("4", "lab.init_s", "`lab init` from the key template", "s", "", -1, 0);
    srow("4", "lab.up_s", "`up` until every machine is healthy", "s", "", -1, 0);
    srow("4", "lab.down_s", "`down`", "s", "", -1, 0);
    srow("4", "lab.init_up_s", "init + up", "s", "<= 0.5", 1, 0.5);

    /* 5. scenarios */
    srow("5", "scenarios.j1_s", "Scenario suite, `scenario run scenarios/ -j 1`", "s", "", -1, 0);
    srow("5", "scenarios.j2_s", "Scenario suite, `-j 2`", "s", "", -1, 0);
    {
        series *count = get("scenarios.count"), *j1 = get("scenarios.j1_s"), *j2 = get("scenarios.j2_s");
        double k = med(count);
        char measure[160];
        snprintf(measure, sizeof measure, "Wall time per scenario, `-j 1` (%.0f scenarios)", k);
        row("5", "scenarios.per_scenario_j1_s", measure, med(j1) / k, j1 ? j1->v[0] / k : NAN,
            j1 ? j1->v[j1->n - 1] / k : NAN, j1 ? j1->n : 0, "s", "", -1);
        snprintf(measure, sizeof measure, "Wall time per scenario, `-j 2` (%.0f scenarios)", k);
        row("5", "scenarios.per_scenario_j2_s", measure, med(j2) / k, j2 ? j2->v[0] / k : NAN,
            j2 ? j2->v[j2->n - 1] / k : NAN, j2 ? j2->n : 0, "s", "<= 0.35", med(j2) / k <= 0.35);
    }
    srow("5", "scenarios.failed", "Scenarios failed (all runs)", "scenarios", "0", 1, 0);
    {
        const char *gs = info_get("generate.solvable");
        char measure[200];
        snprintf(measure, sizeof measure, "Generated exercises not solvable (%s)", gs ? gs : "not run");
        srow("5", "generate.unsolved", measure, "exercises", "0", 1, 0);
        srow("5", "generate.per_exercise_s", "Wall time per generated exercise (fresh lab, start, repair, check)", "s",
             "", -1, 0);
    }

    /* 6. gateway */
    const char *nt = info_get("gateway.tunnels");
    char measure[200];
    srow("6", "gateway.rss_idle_kib", "Gateway RSS, no tunnel", "KiB", "", -1, 0);
    snprintf(measure, sizeof measure, "Gateway RSS, %s open idle tunnels", nt ? nt : "1000");
    srow("6", "gateway.rss_tunnels_kib", measure, "KiB", "", -1, 0);
    srow("6", "gateway.kib_per_tunnel", "Gateway memory per idle tunnel", "KiB", "<= 32", 1, 32);
    srow("6", "relay.down.tunnel_MBps", "Relay host -> client through one tunnel", "MB/s", "", -1, 0);
    srow("6", "relay.down.direct_MBps", "... direct TLS stream, same cipher", "MB/s", "", -1, 0);
    srow("6", "relay.down.ratio", "... tunnel / direct (host -> client)", "x", ">= 0.8", 0, 0.8);
    srow("6", "relay.down.stalls", "... host -> client transfers through the tunnel that stalled (of 5)", "transfers",
         "0", 1, 0);
    srow("6", "relay.up.tunnel_MBps", "Relay client -> host through one tunnel", "MB/s", "", -1, 0);
    srow("6", "relay.up.direct_MBps", "... direct TLS stream, same cipher", "MB/s", "", -1, 0);
    srow("6", "relay.up.ratio", "... tunnel / direct (client -> host)", "x", ">= 0.8", 0, 0.8);
    srow("6", "relay.up.stalls", "... client -> host transfers through the tunnel that stalled (of 5)", "transfers",
         "0", 1, 0);

    /* 7. state file */
    srow("7", "state.events_per_s", "State file: ws_event by 5 processes at once (total)", "events/s", "", -1, 0);
    srow("7", "state.busy", "... writes failed with SQLITE_BUSY (per run)", "writes", "0", 1, 0);
    srow("7", "state.other_failures", "... writes failed otherwise (per run)", "writes", "0", 1, 0);

    /* 8. the load balancer */
    srow("8", "lb.flow_direct_ms", "Connect latency, full flows straight to rdgw01 (alternated with the next)", "ms",
         "", -1, 0);
    srow("8", "lb.flow_through_ms", "... through lb01 (tcp mode, member rdgw01)", "ms", "", -1, 0);
    series *lfd = get("lb.flow_direct_ms"), *lft = get("lb.flow_through_ms");
    double lfr = med(lft) / med(lfd);
    row("8", "lb.ratio", "Connect latency through lb01 / straight to rdgw01 (medians, same run)", lfr, NAN, NAN,
        lft ? lft->n : 0, "x", "<= 1.1", lfr <= 1.1);
    srow("8", "lb.direct_ms", "TLS connect to the gateway alone, straight to rdgw01 (TCP + handshake, name checked)",
         "ms", "", -1, 0);
    srow("8", "lb.through_ms", "... through lb01", "ms", "", -1, 0);
    series *lbd = get("lb.direct_ms"), *lbt = get("lb.through_ms");
    row("8", "lb.tls_ratio", "... through / straight: the balancer's hop alone (medians)", med(lbt) / med(lbd), NAN,
        NAN, lbt ? lbt->n : 0, "x", "", -1);

    /* 9. bytes from the host to the client (issue 16) */
    srow("9", "bytes.first_frame_kib", "Bytes from the host until the first whole console frame (its TLS stream)",
         "KiB", "<= 64", 1, 64);
    srow("9", "bytes.typed_update_kib", "Bytes from the host after one typed character (its update)", "KiB", "<= 4", 1,
         4);
    srow("9", "bytes.typed_minus_plain_kib", "... check: the typing flow's bytes minus the plain flow's", "KiB", "", -1,
         0);

    cJSON *doc = cJSON_CreateObject();
    cJSON *mach = cJSON_AddObjectToObject(doc, "machine");
    cJSON_AddNumberToObject(mach, "cores", cores);
    const char *cpu = info_get("machine.cpu"), *kernel = info_get("machine.kernel"), *ossl = info_get("machine.openssl");
    cJSON_AddStringToObject(mach, "cpu", cpu ? cpu : "?");
    cJSON_AddStringToObject(mach, "kernel", kernel ? kernel : "?");
    cJSON_AddStringToObject(mach, "openssl", ossl ? ossl : "?");
    const char *date = info_get("machine.date");
    cJSON_AddStringToObject(doc, "date", date ? date : "?");
    cJSON_AddItemToObject(doc, "rows", rows);
    cJSON_AddItemToObject(doc, "info", infos);
    printf("\nMachine: %d cores, %s; %s; %s.\n", cores, cpu ? cpu : "?", kernel ? kernel : "?", ossl ? ossl : "?");
    const char *tls = info_get("floor.tls"), *rc = info_get("relay.cipher");
    if (tls)
        printf("Floor handshake: %s.\n", tls);
    if (rc)
        printf("Relay: %s.\n", rc);
    static const char *notes[] = {"gateway.note", "connect.error", "throughput.error", "lab.error", "scenarios.note",
                                  "relay.stall", "relay.error", "lb.error", "floor.note", "connect.note", "bytes.error",
                                  "bench.error"};
    for (size_t i = 0; i < sizeof notes / sizeof *notes; i++) {
        cJSON *arr = cJSON_GetObjectItem(infos, notes[i]), *it;
        int k = 0;
        cJSON_ArrayForEach(it, arr)
        {
            if (k++ < 3)
                printf("Note (%s): %s\n", notes[i], it->valuestring);
        }
    }
    char *text = cJSON_Print(doc);
    ws_error e;
    if (ws_write_file(argv[3], text, strlen(text), 0644, &e) != 0) {
        say("report: %s", e.msg);
        return 1;
    }
    printf("Written to %s.\n", argv[3]);
    free(text);
    cJSON_Delete(doc);
    return 0;
}

int main(int argc, char **argv)
{
    ws_progname = "wsbench";
    if (argc < 2) {
        fprintf(stderr, "usage: wsbench floor|addvms|latency|flows|throughput|lab|relay|events|lbconnect|bytes|report ...\n");
        return 2;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"floor", cmd_floor},   {"addvms", cmd_addvms}, {"latency", cmd_latency}, {"flows", cmd_flows},
                {"throughput", cmd_throughput}, {"lab", cmd_lab}, {"relay", cmd_relay},
                {"events", cmd_events}, {"lbconnect", cmd_lbconnect}, {"bytes", cmd_bytes},
                {"report", cmd_report}};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) {
            int rc = cmds[i].fn(argc, argv);
            if (rc == 2)
                fprintf(stderr, "wsbench %s: missing arguments (see the comment at the top of wsbench.c)\n", argv[1]);
            return rc;
        }
    fprintf(stderr, "wsbench: unknown subcommand '%s'\n", argv[1]);
    return 2;
}
