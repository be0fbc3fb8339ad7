/* SPDX-License-Identifier: Apache-2.0 */
/* gwhostile: what a hostile local client sends to a lab's RD Gateway without
 * credentials, for the hostile-client test. Each round opens TLS (the certificate is
 * not checked), upgrades RDG_OUT_DATA to a websocket and then, by SEQUENCE:
 *   reset    a valid HANDSHAKE_REQUEST, then a TCP reset (SO_LINGER 0) before the answer
 *   version  a HANDSHAKE_REQUEST of version 2: HANDSHAKE_RESPONSE with
 *            E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD, then the gateway closes
 *   cookie   a valid handshake, then TUNNEL_CREATE with a garbage PAA cookie:
 *            TUNNEL_RESPONSE with E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED, then close
 *   channel  the HostToken of RDPFILE, then CHANNEL_CREATE to a host it does not grant:
 *            CHANNEL_RESPONSE with E_PROXY_RAP_ACCESSDENIED, then close
 *   usage: gwhostile LAB SEQUENCE N [RDPFILE]
 * Prints "SEQUENCE: N rounds as expected", or "SEQUENCE: round I: what differed" and
 * exits 1 (the gateway died, or answered otherwise).
 *
 * Starvation: gwhostile LAB idle|tcp N SOURCES SECONDS opens N connections from
 * 127.0.66.1 .. 127.0.66.SOURCES in turn and never authenticates. idle: one in three
 * stops after TCP, one after TLS, one after the websocket upgrade; tcp: every one
 * stops after TCP. Prints "opened K, refused R" once they are open, then waits (at
 * most SECONDS) for the gateway to close them and prints "closed C of K after S s". */
#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/net.h"
#include "lab/machine.h"
#include "wire/disconnect.h"
#include "wire/rdpfile.h"
#include "wire/tsgu.h"
#include "wire/websocket.h"

#define IO_TIMEOUT_MS 5000

static uint8_t pkt[WS_TSGU_PACKET_MAX];
static const char *host_token = "not a HostToken: garbage"; /* channel: the file's */

static int write_all(SSL *ssl, const void *p, size_t n)
{
    return SSL_write(ssl, p, (int)n) == (int)n ? 0 : -1;
}

/* One packet in a masked binary frame, as a client sends it. */
static int send_packet(SSL *ssl, size_t n)
{
    if (n == 0)
        return -1;
    uint8_t h[WS_WEBSOCKET_HEADER_MAX], mask[4];
    ws_random(mask, sizeof mask);
    size_t hl = ws_websocket_encode_header(WS_WEBSOCKET_OP_BINARY, n, mask, h);
    uint8_t *frame = malloc(hl + n);
    if (!frame)
        return -1;
    memcpy(frame, h, hl);
    memcpy(frame + hl, pkt, n);
    ws_websocket_unmask(frame + hl, n, mask, 0);
    int rc = write_all(ssl, frame, hl + n);
    free(frame);
    return rc;
}

static int read_exact(SSL *ssl, uint8_t *p, size_t n)
{
    for (size_t got = 0; got < n;) {
        int m = SSL_read(ssl, p + got, (int)(n - got));
        if (m <= 0)
            return -1;
        got += (size_t)m;
    }
    return 0;
}

/* The next server frame's payload (one MS-TSGU packet) into pkt; its length, or -1. */
static long recv_packet(SSL *ssl)
{
    uint8_t h[WS_WEBSOCKET_HEADER_MAX];
    size_t have = 0;
    ws_websocket_frame f;
    ws_error e;
    for (;;) {
        int r = ws_websocket_decode_header(h, have, WS_TSGU_PACKET_MAX, &f, &e);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        if (have == sizeof h || read_exact(ssl, h + have, 1) != 0)
            return -1;
        have++;
    }
    if (f.masked || f.opcode != WS_WEBSOCKET_OP_BINARY || read_exact(ssl, pkt, (size_t)f.payload_len) != 0)
        return -1;
    return (long)f.payload_len;
}

/* The gateway closes after its refusal: the next read ends the stream. */
static int closed_by_gateway(SSL *ssl)
{
    uint8_t b[256];
    for (;;) {
        int m = SSL_read(ssl, b, sizeof b);
        if (m <= 0)
            return SSL_get_error(ssl, m) == SSL_ERROR_WANT_READ ? -1 : 0; /* a timeout is not a close */
    }
}

/* TLS and the websocket upgrade; the connection in *fd and the TLS in the return. */
static SSL *upgrade_from(const char *src, SSL_CTX *ctx, const ws_machine *gw, int *fd, const char **why)
{
    ws_error e;
    *fd = ws_tcp_connect_from(src, gw->address, gw->port, IO_TIMEOUT_MS, WS_TCP_IO_TIMEOUT | WS_TCP_NODELAY, &e);
    if (*fd < 0) {
        *why = "cannot connect to the gateway";
        return NULL;
    }
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, *fd);
    char head[1024];
    snprintf(head, sizeof head,
             "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\n"
             "Upgrade: websocket\r\nSec-Websocket-Version: 13\r\nSec-Websocket-Key: HOSTILEHOSTILEH\r\n"
             "RDG-Connection-Id: {00000000-0000-0000-0000-000000000000}\r\nRDG-Auth-Scheme: PAA\r\n"
             "Content-Length: 0\r\n\r\n",
             gw->public_fqdn[0] ? gw->public_fqdn : gw->fqdn);
    if (SSL_connect(ssl) != 1 || write_all(ssl, head, strlen(head)) != 0) {
        *why = "no TLS with the gateway";
        goto fail;
    }
    size_t got = 0;
    while (got < 4 || memcmp(head + got - 4, "\r\n\r\n", 4) != 0) {
        if (got == sizeof head - 1 || read_exact(ssl, (uint8_t *)head + got, 1) != 0) {
            *why = "no answer to the websocket upgrade";
            goto fail;
        }
        got++;
    }
    head[got] = '\0';
    if (strncmp(head, "HTTP/1.1 101 ", 13) != 0) {
        *why = "the websocket upgrade was refused";
        goto fail;
    }
    return ssl;
fail:
    ERR_clear_error();
    SSL_free(ssl);
    close(*fd);
    return NULL;
}

static SSL *upgrade(SSL_CTX *ctx, const ws_machine *gw, int *fd, const char **why)
{
    return upgrade_from(NULL, ctx, gw, fd, why);
}

/* One connection that stops after stage 0 (TCP), 1 (TLS) or 2 (the upgrade): its
 * socket, or -1 when the gateway refused it. */
static int idle_one(SSL_CTX *ctx, const ws_machine *gw, const char *src, int stage)
{
    const char *why;
    int fd = -1;
    if (stage == 2) {
        SSL *ssl = upgrade_from(src, ctx, gw, &fd, &why);
        if (!ssl)
            return -1;
        SSL_free(ssl); /* the socket stays open, silent */
        return fd;
    }
    fd = ws_tcp_connect_from(src, gw->address, gw->port, IO_TIMEOUT_MS, WS_TCP_IO_TIMEOUT, NULL);
    if (fd < 0 || stage == 0)
        return fd;
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    int ok = SSL_connect(ssl) == 1;
    ERR_clear_error();
    SSL_free(ssl);
    if (!ok) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A socket the gateway closed reads end of stream (after any TLS alert). */
static int peer_closed(int fd)
{
    char b[512];
    for (;;) {
        ssize_t m = recv(fd, b, sizeof b, MSG_DONTWAIT);
        if (m > 0)
            continue;
        return m == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

static int idle_run(SSL_CTX *ctx, const ws_machine *gw, int tcp_only, int n, int sources, int seconds)
{
    if (n < 1 || n > 2000)
        return 2;
    int *fds = calloc((size_t)n, sizeof *fds);
    int opened = 0, refused = 0;
    if (!fds)
        return 2;
    for (int i = 0; i < n; i++) {
        char src[32];
        snprintf(src, sizeof src, "127.0.66.%d", 1 + i % sources);
        int fd = idle_one(ctx, gw, src, tcp_only ? 0 : i % 3);
        if (fd < 0)
            refused++;
        else
            fds[opened++] = fd;
    }
    printf("opened %d, refused %d\n", opened, refused);
    fflush(stdout);
    int64_t t0 = ws_wall_ms();
    int closed = 0;
    while (closed < opened && ws_wall_ms() - t0 < (int64_t)seconds * 1000) {
        ws_sleep_ms(200);
        for (int i = 0; i < opened; i++) {
            if (fds[i] >= 0 && peer_closed(fds[i])) {
                close(fds[i]);
                fds[i] = -1;
                closed++;
            }
        }
    }
    printf("closed %d of %d after %lld s\n", closed, opened, (long long)((ws_wall_ms() - t0) / 1000));
    for (int i = 0; i < opened; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    return 0;
}

static size_t handshake_request(uint8_t ver_major)
{
    ws_tsgu_handshake_request hs = {.ver_major = ver_major, .extended_auth = WS_TSGU_EXTAUTH_PAA};
    return ws_tsgu_encode_handshake_request(&hs, pkt, sizeof pkt);
}

/* After an accepted TUNNEL_CREATE: TUNNEL_AUTH, then a channel the cookie does not grant. */
static const char *refused_channel(SSL *ssl)
{
    ws_error e;
    long n;
    ws_tsgu_tunnel_auth ta = {.fields_present = 0};
    ws_tsgu_tunnel_auth_response ar;
    ws_tsgu_channel_create cc = {.num_resources = 1, .port = 3389, .protocol = 3};
    ws_tsgu_channel_response cr;
    snprintf(ta.client_name, sizeof ta.client_name, "HOSTILE");
    snprintf(cc.resource, sizeof cc.resource, "elsewhere.fabric.contoso.local");
    if (send_packet(ssl, ws_tsgu_encode_tunnel_auth(&ta, pkt, sizeof pkt)) != 0 || (n = recv_packet(ssl)) < 0 ||
        ws_tsgu_decode_tunnel_auth_response(pkt, (size_t)n, &ar, &e) != 0 || ar.error_code != 0)
        return "no TUNNEL_AUTH_RESPONSE accepting the client";
    if (send_packet(ssl, ws_tsgu_encode_channel_create(&cc, pkt, sizeof pkt)) != 0 || (n = recv_packet(ssl)) < 0 ||
        ws_tsgu_decode_channel_response(pkt, (size_t)n, &cr, &e) != 0)
        return "no CHANNEL_RESPONSE";
    if (cr.error_code != WS_E_PROXY_RAP_ACCESSDENIED)
        return "CHANNEL_RESPONSE without E_PROXY_RAP_ACCESSDENIED";
    return NULL;
}

/* One round of the sequence: NULL when it went as expected, else what differed. */
static const char *round_of(SSL_CTX *ctx, const ws_machine *gw, const char *seq)
{
    int fd;
    const char *why = NULL;
    SSL *ssl = upgrade(ctx, gw, &fd, &why);
    if (!ssl)
        return why;
    ws_error e;
    long n;
    if (strcmp(seq, "reset") == 0) {
        if (send_packet(ssl, handshake_request(1)) != 0)
            why = "cannot send HANDSHAKE_REQUEST";
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd); /* the reset, with no TLS close_notify */
        SSL_free(ssl);
        return why;
    }
    if (strcmp(seq, "version") == 0) {
        ws_tsgu_handshake_response hr;
        if (send_packet(ssl, handshake_request(2)) != 0)
            why = "cannot send HANDSHAKE_REQUEST";
        else if ((n = recv_packet(ssl)) < 0 || ws_tsgu_decode_handshake_response(pkt, (size_t)n, &hr, &e) != 0)
            why = "no HANDSHAKE_RESPONSE";
        else if (hr.error_code != WS_E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD)
            why = "HANDSHAKE_RESPONSE without E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD";
        else if (closed_by_gateway(ssl) != 0)
            why = "the gateway kept the connection open";
    } else {
        ws_tsgu_handshake_response hr;
        static ws_tsgu_tunnel_create tc;
        ws_tsgu_tunnel_response tr;
        tc.caps = 0x0D;
        tc.fields_present = WS_TSGU_TUNNEL_CREATE_PAA_COOKIE;
        snprintf(tc.cookie, sizeof tc.cookie, "%s", host_token);
        if (send_packet(ssl, handshake_request(1)) != 0)
            why = "cannot send HANDSHAKE_REQUEST";
        else if ((n = recv_packet(ssl)) < 0 || ws_tsgu_decode_handshake_response(pkt, (size_t)n, &hr, &e) != 0 ||
                 hr.error_code != 0)
            why = "no HANDSHAKE_RESPONSE accepting the handshake";
        else if (send_packet(ssl, ws_tsgu_encode_tunnel_create(&tc, pkt, sizeof pkt)) != 0)
            why = "cannot send TUNNEL_CREATE";
        else if ((n = recv_packet(ssl)) < 0 || ws_tsgu_decode_tunnel_response(pkt, (size_t)n, &tr, &e) != 0)
            why = "no TUNNEL_RESPONSE";
        else if (strcmp(seq, "cookie") == 0) {
            if (tr.status_code != WS_E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED)
                why = "TUNNEL_RESPONSE without E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED";
        } else if (tr.status_code != 0)
            why = "the gateway refused the file's HostToken";
        else
            why = refused_channel(ssl);
        if (!why && closed_by_gateway(ssl) != 0)
            why = "the gateway kept the connection open";
    }
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
    return why;
}

int main(int argc, char **argv)
{
    int channel = argc == 5 && strcmp(argv[2], "channel") == 0;
    int idle = argc == 6 && (strcmp(argv[2], "idle") == 0 || strcmp(argv[2], "tcp") == 0);
    if (!channel && !idle && (argc != 4 || (strcmp(argv[2], "reset") != 0 && strcmp(argv[2], "version") != 0 &&
                                   strcmp(argv[2], "cookie") != 0))) {
        fprintf(stderr, "usage: gwhostile LAB reset|version|cookie N, gwhostile LAB channel N RDPFILE,\n"
                        "       or gwhostile LAB idle|tcp N SOURCES SECONDS\n");
        return 2;
    }
    int rounds = atoi(argv[3]);
    signal(SIGPIPE, SIG_IGN);
    ws_state *st;
    ws_error e;
    ws_machine gw;
    ws_rdp_file f;
    if (channel) {
        unsigned char *data;
        size_t len;
        if (ws_read_file(argv[4], WS_RDP_FILE_MAX, &data, &len, &e) != 0 || ws_rdp_parse(data, len, &f, &e) != 0) {
            fprintf(stderr, "gwhostile: %s\n", e.msg);
            return 2;
        }
        free(data);
        host_token = ws_rdp_get(&f, "gatewayaccesstoken");
        if (!host_token) {
            fprintf(stderr, "gwhostile: %s has no gatewayaccesstoken\n", argv[4]);
            return 2;
        }
    }
    if (ws_state_open(argv[1], 0, &st, &e) != 0 || ws_machine_by_role(st, "gateway", &gw, &e) != 0) {
        fprintf(stderr, "gwhostile: %s\n", e.msg);
        return 2;
    }
    ws_state_close(st);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (idle) {
        int sources = atoi(argv[4]);
        int rc = idle_run(ctx, &gw, strcmp(argv[2], "tcp") == 0, rounds, sources < 1 ? 1 : sources > 250 ? 250 : sources,
                          atoi(argv[5]));
        SSL_CTX_free(ctx);
        return rc;
    }
    for (int i = 0; i < rounds; i++) {
        const char *why = round_of(ctx, &gw, argv[2]);
        if (why) {
            printf("%s: round %d: %s\n", argv[2], i + 1, why);
            SSL_CTX_free(ctx);
            return 1;
        }
    }
    printf("%s: %d rounds as expected\n", argv[2], rounds);
    SSL_CTX_free(ctx);
    if (channel)
        ws_rdp_free(&f);
    return 0;
}
