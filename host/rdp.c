/* SPDX-License-Identifier: Apache-2.0 */
/* rdp: see rdp.h. The sequence on the console port (REFERENCE.md section 8):
 *   1. the pre-connection PDU, read exactly (cbSize bytes): its pcb is "<VM GUID>"
 *      optionally followed by ";EnhancedMode=1";
 *   2. the X.224 Connection Request (one TPKT, read exactly): RDSTLS when offered,
 *      else SSL (the administrator's path), else RDP_NEG_FAILURE;
 *   3. TLS with the host's certificate (SSL_CTX built once at start, shared);
 *   4. RDSTLS: Capabilities, the client's Auth request with the VMToken, the check
 *      (check_vmtoken), the Auth response;
 *   5. the RDP session and the VM's console (console.c), after RDSTLS SUCCESS or right
 *      after TLS for a client that offered SSL only (whose Client Info must then carry
 *      the fabric administrator's credentials).
 * Bytes are read from the socket exactly as each step needs them, so whatever the
 * client sent early stays in the socket for the next step; decrypted bytes read past
 * the Auth request are kept in conn.in and handed to the console.
 * Every refusal and every malformed input ends the connection with a stderr line and
 * an event; nothing a client sends is trusted for a length or an index. */
#include "rdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lab/clock.h"
#include "console.h"
#include "flight.h"
#include "log.h"
#include "lab/events.h"
#include "wire/rdpneg.h"
#include "wire/rdstls.h"
#include "lab/settings.h"
#include "lab/vm.h"
#include "svc/machine_tls.h"
#include "wire/token.h"
#include "lab/fedauth.h"
#include "trust.h"

#define IDLE_TIMEOUT_MS 30000     /* a client silent this long is dropped */
#define HANDSHAKE_BUDGET_MS 10000 /* [model] accept to Auth response, however slowly the bytes drip */
/* Connections not yet authenticated hold a thread each; these caps keep one client
 * address's half-open sockets from taking the slots a tenant's gateway needs. */
#define PREAUTH_PER_SOURCE 16 /* [model] */
#define PREAUTH_MAX 128       /* [model] of HOST_RDP_MAX_CONN */
#define GOODBYE_MS 2000           /* after a refusing Auth response: time for the client to hang up first */
#define DRAIN_MS 500              /* lingering close: read what the client still sends */
#define THREAD_STACK (1024 * 1024)

static atomic_int active; /* connection threads running */

/* Connections before authentication, counted by client address (accept loop and
 * connection threads; under preauth_lock). */
typedef struct preauth_source {
    char addr[INET6_ADDRSTRLEN];
    int n;
} preauth_source;
static pthread_mutex_t preauth_lock = PTHREAD_MUTEX_INITIALIZER;
static preauth_source preauth[PREAUTH_MAX];
static int preauth_total;

typedef struct conn {
    const ws_component *c;
    const char *host; /* this machine's name */
    SSL_CTX *tls;     /* NULL: no usable certificate (tls_error says why) */
    const char *tls_error;
    int fd;
    char peer[64];
    char source[INET6_ADDRSTRLEN]; /* the peer's address, without the port */
    int preauth;                   /* 1 while counted in preauth[] */
    ws_state *st; /* this thread's own connection to the state file */
    SSL *ssl;
    int64_t deadline_ms; /* wall clock: the end of the handshake budget */
    int pcb_seen;
    char pcb[WS_PCB_MAX + 1]; /* for messages: control characters replaced */
    char vm_id[37];           /* the VM named by the pcb; the state file's spelling when known */
    int vm_known;
    char vm_name[64];
    char vm_host[64];
    char vm_label[128]; /* "web01 (<guid>)", or the GUID of an unknown VM */
    uint32_t requested_protocols; /* the X.224 Connection Request's */
    uint32_t selected_protocol;   /* the Connection Confirm's */
    uint8_t in[WS_RDSTLS_PDU_MAX]; /* decrypted bytes read and not yet used */
    size_t in_len;
} conn;

/* ---- logging -------------------------------------------------------------------- */

/* Log ev, its template's arguments following ev, on stderr and in the event log. */
static void say(conn *k, ws_ev ev, ...)
{
    va_list ap;
    va_start(ap, ev);
    host_log_v(k->c, k->host, k->st, ev, ap);
    va_end(ap);
}

/* A connection closed for what the client sent (or did not send). */
static void protocol_error(conn *k, const ws_error *e)
{
    if (k->pcb_seen)
        say(k, WS_EV_HYPERV_14163_CLOSED, k->vm_label, k->peer, e->msg, k->pcb);
    else
        say(k, WS_EV_HYPERV_14163_CLOSED_EARLY, k->peer, e->msg);
}

static void errno_text(int err, char *out, size_t n)
{
    /* GNU strerror_r: thread-safe, returns the text (not always in out). */
    const char *s = strerror_r(err, out, n);
    if (s != out)
        snprintf(out, n, "%s", s);
}

/* ---- connections before authentication ----------------------------------------- */

/* Count a new connection from addr: 0, or the cap it would pass (PREAUTH_PER_SOURCE
 * or PREAUTH_MAX). */
static int preauth_take(const char *addr)
{
    pthread_mutex_lock(&preauth_lock);
    int refused = 0, free_slot = -1, i;
    for (i = 0; i < PREAUTH_MAX; i++) {
        if (preauth[i].n > 0 && strcmp(preauth[i].addr, addr) == 0)
            break;
        if (preauth[i].n == 0 && free_slot < 0)
            free_slot = i;
    }
    if (preauth_total >= PREAUTH_MAX) {
        refused = PREAUTH_MAX;
    } else if (i < PREAUTH_MAX) {
        if (preauth[i].n >= PREAUTH_PER_SOURCE)
            refused = PREAUTH_PER_SOURCE;
        else
            preauth[i].n++;
    } else {
        /* Fewer than PREAUTH_MAX connections are counted, so a free entry exists. */
        snprintf(preauth[free_slot].addr, sizeof preauth[free_slot].addr, "%s", addr);
        preauth[free_slot].n = 1;
    }
    if (!refused)
        preauth_total++;
    pthread_mutex_unlock(&preauth_lock);
    return refused;
}

/* The connection authenticated, or ended: it no longer counts. */
static void preauth_release(conn *k)
{
    if (!k->preauth)
        return;
    k->preauth = 0;
    pthread_mutex_lock(&preauth_lock);
    for (int i = 0; i < PREAUTH_MAX; i++) {
        if (preauth[i].n > 0 && strcmp(preauth[i].addr, k->source) == 0) {
            preauth[i].n--;
            preauth_total--;
            break;
        }
    }
    pthread_mutex_unlock(&preauth_lock);
}

/* ---- plain reads and writes, before TLS ------------------------------------------ */

static int remaining_ms(const conn *k, int cap)
{
    int64_t left = k->deadline_ms - ws_wall_ms();
    if (left <= 0)
        return 0;
    return left < cap ? (int)left : cap;
}

/* Bytes [from, to) of a PDU into buf, exactly, never more. *silent is set when the
 * client closed (or reset) the connection before sending its first byte: a port
 * probe, not a protocol error. */
static int read_exact(conn *k, uint8_t *buf, size_t from, size_t to, const char *what, int *silent, ws_error *e)
{
    size_t got = from;
    while (got < to) {
        int wait = remaining_ms(k, IDLE_TIMEOUT_MS);
        if (wait <= 0)
            return ws_seterr(e, "%s: the client took longer than %d s to send it (%zu of %zu bytes)", what,
                             HANDSHAKE_BUDGET_MS / 1000, got, to);
        struct pollfd p = {.fd = k->fd, .events = POLLIN};
        int r = poll(&p, 1, wait);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return ws_seterr(e, "%s: timed out waiting for the client (%zu of %zu bytes after %d s of silence)",
                             what, got, to, wait / 1000);
        ssize_t m = r < 0 ? -1 : recv(k->fd, buf + got, to - got, 0);
        if (m > 0) {
            got += (size_t)m;
            continue;
        }
        if (m < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (silent && got == 0 && (m == 0 || errno == ECONNRESET))
            *silent = 1;
        if (m == 0)
            return ws_seterr(e, "%s: truncated: the client closed the connection after %zu of %zu bytes", what,
                             got, to);
        char t[128];
        errno_text(errno, t, sizeof t);
        return ws_seterr(e, "%s: %s after %zu of %zu bytes", what, t, got, to);
    }
    return 0;
}

static int send_all(conn *k, const uint8_t *buf, size_t n, const char *what, ws_error *e)
{
    size_t off = 0;
    while (off < n) {
        ssize_t m = send(k->fd, buf + off, n - off, MSG_NOSIGNAL);
        if (m > 0) {
            off += (size_t)m;
            continue;
        }
        if (m < 0 && errno == EINTR)
            continue;
        char t[128];
        errno_text(m < 0 ? errno : EPIPE, t, sizeof t);
        return ws_seterr(e, "sending %s: %s", what, t);
    }
    return 0;
}

static void set_timeouts(int fd, int ms)
{
    if (ms < 1)
        ms = 1; /* 0 would mean "no timeout" */
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* ---- TLS ----------------------------------------------------------------------- */

/* Why an SSL_* call returned r <= 0, for the log. */
static int tls_failure(conn *k, int r, const char *during, ws_error *e)
{
    int saved = errno;
    int err = SSL_get_error(k->ssl, r);
    unsigned long code = ERR_peek_error();
    char text[256] = "";
    if (code)
        ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    switch (err) {
    case SSL_ERROR_ZERO_RETURN:
        return ws_seterr(e, "%s: the client closed TLS (close_notify)", during);
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: /* a blocking socket's timeout */
        return ws_seterr(e, "%s: timed out waiting for the client", during);
    case SSL_ERROR_SYSCALL:
        if (code)
            return ws_seterr(e, "%s: TLS error: %s", during, text);
        if (saved == EAGAIN || saved == EWOULDBLOCK)
            return ws_seterr(e, "%s: timed out waiting for the client", during);
        if (r == 0 || saved == 0)
            return ws_seterr(e, "%s: truncated: the client closed the connection", during);
        {
            char t[128];
            errno_text(saved, t, sizeof t);
            return ws_seterr(e, "%s: %s", during, t);
        }
    case SSL_ERROR_SSL:
        if (strstr(text, "unexpected eof"))
            return ws_seterr(e, "%s: truncated: the client closed the connection", during);
        return ws_seterr(e, "%s: TLS error: %s", during, text[0] ? text : "unknown");
    default:
        return ws_seterr(e, "%s: TLS error %d", during, err);
    }
}

/* The next RDSTLS PDU, complete at the start of k->in: its length in *len. */
static int tls_read_pdu(conn *k, const char *what, size_t *len, ws_error *e)
{
    for (;;) {
        if (k->in_len > 0) {
            long n = ws_rdstls_pdu_length(k->in, k->in_len);
            if (n < 0) {
                char head[40] = "";
                for (size_t i = 0; i < k->in_len && i < 8; i++)
                    snprintf(head + 3 * i, sizeof head - 3 * i, "%02X ", k->in[i]);
                head[strlen(head) ? strlen(head) - 1 : 0] = '\0';
                return ws_seterr(e, "%s: not an RDSTLS PDU this host reads, or over %d bytes (first bytes %s)",
                                 what, WS_RDSTLS_PDU_MAX, head);
            }
            if (n > 0 && (size_t)n <= k->in_len) {
                *len = (size_t)n;
                return 0;
            }
        }
        if (k->in_len >= sizeof k->in) /* ws_rdstls_pdu_length refuses longer PDUs: not reached */
            return ws_seterr(e, "%s: over %d bytes", what, WS_RDSTLS_PDU_MAX);
        int wait = remaining_ms(k, IDLE_TIMEOUT_MS);
        if (wait <= 0)
            return ws_seterr(e, "%s: the client took longer than %d s to send it (%zu bytes so far)", what,
                             HANDSHAKE_BUDGET_MS / 1000, k->in_len);
        set_timeouts(k->fd, wait);
        int r = SSL_read(k->ssl, k->in + k->in_len, (int)(sizeof k->in - k->in_len));
        if (r <= 0) {
            char during[160];
            snprintf(during, sizeof during, "%s (%zu bytes received)", what, k->in_len);
            return tls_failure(k, r, during, e);
        }
        k->in_len += (size_t)r;
    }
}

static void consume(conn *k, size_t n)
{
    memmove(k->in, k->in + n, k->in_len - n);
    k->in_len -= n;
}

static int tls_write(conn *k, const uint8_t *buf, size_t n, const char *what, ws_error *e)
{
    set_timeouts(k->fd, IDLE_TIMEOUT_MS);
    int r = SSL_write(k->ssl, buf, (int)n);
    if (r == (int)n)
        return 0;
    char during[160];
    snprintf(during, sizeof during, "sending %s", what);
    return tls_failure(k, r, during, e);
}

/* Lingering close: close_notify when in TLS, our FIN, then read what the client still
 * sends (briefly) so the last bytes we wrote are not lost to a reset. */
static void polite_close(conn *k, int drain_ms)
{
    if (k->ssl) {
        set_timeouts(k->fd, 1000);
        SSL_shutdown(k->ssl);
        host_flight_flush(k->ssl); /* the close_notify, after what the flight kept */
        ERR_clear_error();
    }
    shutdown(k->fd, SHUT_WR);
    int64_t end = ws_wall_ms() + drain_ms;
    uint8_t sink[4096];
    size_t total = 0;
    for (;;) {
        int64_t left = end - ws_wall_ms();
        if (left <= 0 || total > (1u << 20))
            break;
        struct pollfd p = {.fd = k->fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t m = recv(k->fd, sink, sizeof sink, 0);
        if (m <= 0)
            break;
        total += (size_t)m;
    }
}

/* ---- the VM named by the pcb ------------------------------------------------------ */

static void lookup_vm(conn *k)
{
    ws_vm vm;
    if (ws_vm_get(k->st, k->vm_id, &vm, NULL) == 0) {
        k->vm_known = 1;
        snprintf(k->vm_id, sizeof k->vm_id, "%s", vm.id);
        snprintf(k->vm_name, sizeof k->vm_name, "%s", vm.name);
        snprintf(k->vm_host, sizeof k->vm_host, "%s", vm.host);
    }
    if (k->vm_known)
        snprintf(k->vm_label, sizeof k->vm_label, "%s (%s)", k->vm_name, k->vm_id);
    else
        snprintf(k->vm_label, sizeof k->vm_label, "%s", k->vm_id);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Step 1. 0 when the pcb names a VM (known or not: an unknown VM is refused at the
 * token check, as a VM not on this host); -1 with e; *silent for a bare probe. */
static int read_pcb(conn *k, int *silent, ws_error *e)
{
    uint8_t buf[WS_PCB_PDU_MAX];
    ws_pcb_pdu pdu;
    size_t used = 0;
    if (read_exact(k, buf, 0, 4, "pre-connection PDU", silent, e) != 0)
        return -1;
    int r = ws_pcb_decode(buf, 4, &pdu, &used, e);
    if (r < 0)
        return -1;
    if (r == 1) {
        uint32_t cb = le32(buf); /* ws_pcb_decode checked 16 <= cbSize <= WS_PCB_PDU_MAX */
        if (cb > sizeof buf)
            return ws_seterr(e, "pre-connection PDU: cbSize %u is over the %zu accepted", cb, sizeof buf);
        if (read_exact(k, buf, 4, cb, "pre-connection PDU", NULL, e) != 0)
            return -1;
        r = ws_pcb_decode(buf, cb, &pdu, &used, e);
        if (r < 0)
            return -1;
        if (r != 0 || used != cb)
            return ws_seterr(e, "pre-connection PDU: cbSize %u bytes do not make a whole PDU", cb);
    }
    host_printable(pdu.pcb, k->pcb, sizeof k->pcb);
    if (pdu.version != 2 || !pdu.pcb[0])
        return ws_seterr(e,
                         "pre-connection PDU: version %u with no pcb (Hyper-V needs the VM's id in a version 2 "
                         "PDU)",
                         pdu.version);
    size_t idn = strcspn(pdu.pcb, ";");
    char id[WS_PCB_MAX + 1];
    snprintf(id, sizeof id, "%.*s", (int)idn, pdu.pcb);
    if (!ws_guid_valid(id))
        return ws_seterr(e, "pre-connection PDU: the pcb '%s' does not start with a VM id (a GUID)", k->pcb);
    snprintf(k->vm_id, sizeof k->vm_id, "%s", id);
    k->pcb_seen = 1;
    lookup_vm(k);
    return 0;
}

/* Step 2: the Connection Request, exactly one TPKT. */
static int read_cr(conn *k, ws_x224_cr *cr, ws_error *e)
{
    uint8_t buf[WS_TPKT_MAX];
    if (read_exact(k, buf, 0, 4, "X.224 Connection Request", NULL, e) != 0)
        return -1;
    long n = ws_tpkt_length(buf, 4, WS_TPKT_MAX);
    if (n < 0)
        return ws_seterr(e,
                         "X.224 Connection Request: not a TPKT or length out of range (first bytes %02X %02X %02X "
                         "%02X)",
                         buf[0], buf[1], buf[2], buf[3]);
    if (read_exact(k, buf, 4, (size_t)n, "X.224 Connection Request", NULL, e) != 0)
        return -1;
    return ws_x224_cr_decode(buf, (size_t)n, cr, e) == 0 ? 0 : -1;
}

/* ---- the VMToken ------------------------------------------------------------------ */

/* The check of the tenant's VMToken with this host's own trust list, stores, clock
 * and VMs, in order; the first failure is the reason. The token steps are the lab's
 * token rule (lab/fedauth.h), with the signer looked for in My only
 * (WS_FEDAUTH_STORES_HOST) and its thumbprint in the list the service loaded at start
 * (host_trust_loaded, trust.h); the VM steps are the host's own. Result codes [model: which
 * RDSTLS result Hyper-V returns for each reason is not public]: a token that cannot be
 * read as a VMToken, or has expired, is LOGON_FAILURE (the credential itself is no
 * good); a well-formed token this host does not accept (signer not trusted, bad
 * signature, hash not SHA256, another VM, a VM not on this host) is ACCESS_DENIED. */
static uint32_t check_vmtoken(conn *k, const char *text, char *signer, int64_t *expires, char *reason, size_t n)
{
    ws_fedauth_result r;
    ws_fedauth_step failed =
        ws_fedauth_check_with(k->st, k->host, text, WS_TOKEN_VM, WS_FEDAUTH_STORES_HOST, host_trust_loaded(), &r);
    const ws_token *tok = &r.token;
    uint32_t code = WS_RDSTLS_ACCESS_DENIED;
    if (failed != WS_FEDAUTH_PARSE) {
        snprintf(signer, 41, "%s", tok->thumbprint);
        *expires = tok->expires_on;
    }
    ws_error e;
    char when[32], at[32];
    switch (failed) {
    case WS_FEDAUTH_PARSE:
        snprintf(reason, n, "the VMToken cannot be read: %s", r.detail);
        code = WS_RDSTLS_LOGON_FAILURE;
        goto done;
    case WS_FEDAUTH_KIND:
        snprintf(reason, n, "the token is a HostToken (the RD Gateway's), not a VMToken");
        code = WS_RDSTLS_LOGON_FAILURE;
        goto done;
    case WS_FEDAUTH_UNTRUSTED:
    case WS_FEDAUTH_NO_CERT:
    case WS_FEDAUTH_CHAIN:
        host_token_signer_refusal(&r, k->host, &e);
        snprintf(reason, n, "the VMToken's signer is not trusted: %s", e.msg);
        goto done;
    case WS_FEDAUTH_SIGNATURE:
        snprintf(reason, n, "the VMToken's signature is not valid: %s", r.detail);
        goto done;
    case WS_FEDAUTH_HASH:
        snprintf(reason, n, "the VMToken is signed with %s, not SHA256", tok->hash_alg);
        goto done;
    case WS_FEDAUTH_EXPIRED:
        ws_time_format(tok->expires_on, when, sizeof when);
        ws_time_format(r.now, at, sizeof at);
        snprintf(reason, n, "the VMToken expired at %s (%s's clock says %s)", when, k->host, at);
        code = WS_RDSTLS_LOGON_FAILURE;
        goto done;
    case WS_FEDAUTH_OK:
        break;
    }
    if (strcasecmp(tok->vmid, k->vm_id) != 0) {
        snprintf(reason, n, "the VMToken is for VM %s, not for the VM %s named in the pre-connection PDU", tok->vmid,
                 k->vm_id);
        goto done;
    }
    if (!k->vm_known) {
        snprintf(reason, n, "there is no VM %s on %s", k->vm_id, k->host);
        goto done;
    }
    if (strcmp(k->vm_host, k->host) != 0) {
        snprintf(reason, n, "VM %s runs on %s, not on %s", k->vm_name, k->vm_host, k->host);
        goto done;
    }
    code = WS_RDSTLS_SUCCESS;
    reason[0] = '\0';
done:
    ws_fedauth_result_free(&r);
    return code;
}

/* The Version of the Auth response: the host setting, read per connection. */
static uint16_t reply_version(conn *k, uint16_t request_version)
{
    char v[32];
    if (ws_setting_get(k->st, k->host, WS_SET_RDSTLS_REPLY_VERSION, v, sizeof v) != 0 || strcmp(v, "1") == 0)
        return WS_RDSTLS_VERSION_1;
    if (strcmp(v, "echo") == 0)
        return request_version;
    say(k, WS_EV_HYPERV_14163_SETTING, WS_SET_RDSTLS_REPLY_VERSION, v);
    return WS_RDSTLS_VERSION_1;
}

/* ---- one connection ---------------------------------------------------------------- */

/* Step 5: the RDP session behind the security layer (console.c), which ends the
 * connection itself. */
static void run_console(conn *k, int tenant)
{
    preauth_release(k);
    host_console_link l = {.c = k->c,
                           .host = k->host,
                           .st = k->st,
                           .ssl = k->ssl,
                           .fd = k->fd,
                           .peer = k->peer,
                           .pcb = k->pcb,
                           .vm_id = k->vm_id,
                           .vm_known = k->vm_known,
                           .vm_name = k->vm_name,
                           .vm_host = k->vm_host,
                           .vm_label = k->vm_label,
                           .requested_protocols = k->requested_protocols,
                           .selected_protocol = k->selected_protocol,
                           .tenant = tenant,
                           .pending = k->in,
                           .pending_len = k->in_len};
    host_console_run(&l);
}

/* Step 4: RDSTLS, and the console after its SUCCESS. */
static void rdstls(conn *k)
{
    ws_error e;
    uint8_t out[64];
    ws_rdstls_capabilities caps = {.version = WS_RDSTLS_VERSION_1,
                                   .supported_versions = WS_RDSTLS_VERSION_1 | WS_RDSTLS_VERSION_2};
    size_t n = ws_rdstls_encode_capabilities(&caps, out, sizeof out);
    if (n == 0 || tls_write(k, out, n, "the RDSTLS Capabilities", &e) != 0) {
        if (n == 0)
            ws_seterr(&e, "cannot encode the RDSTLS Capabilities");
        say(k, WS_EV_HYPERV_14164_CLOSED, k->vm_label, k->peer, e.msg, k->pcb);
        return;
    }
    size_t len = 0;
    if (tls_read_pdu(k, "RDSTLS authentication request", &len, &e) != 0) {
        protocol_error(k, &e);
        return;
    }
    uint16_t type = (uint16_t)(k->in[2] | k->in[3] << 8);
    if (type != WS_RDSTLS_PDU_AUTHREQ) {
        ws_seterr(&e, "expected an RDSTLS authentication request (PduType 0x%04X), got PduType 0x%04X",
                  WS_RDSTLS_PDU_AUTHREQ, type);
        protocol_error(k, &e);
        return;
    }
    ws_rdstls_auth_request *rq = calloc(1, sizeof *rq);
    if (!rq)
        abort();
    if (ws_rdstls_decode_auth_request(k->in, len, rq, &e) != 0) {
        free(rq);
        protocol_error(k, &e);
        return;
    }
    consume(k, len);

    char reason[2048] = "", signer[41] = "";
    int64_t expires = 0;
    uint32_t code;
    if (rq->data_type == WS_RDSTLS_DATA_FEDAUTH_TOKEN) {
        code = check_vmtoken(k, rq->token, signer, &expires, reason, sizeof reason);
    } else {
        snprintf(reason, sizeof reason,
                 "only FedAuth tokens are accepted on the console port (the request carried %s)",
                 rq->data_type == WS_RDSTLS_DATA_PASSWORD_CREDS ? "password credentials" : "an auto-reconnect cookie");
        code = WS_RDSTLS_ACCESS_DENIED;
    }
    uint16_t version = reply_version(k, rq->version);
    uint16_t request_version = rq->version;
    free(rq);

    if (code == WS_RDSTLS_SUCCESS) {
        char until[32];
        ws_time_format(expires, until, sizeof until);
        say(k, WS_EV_HYPERV_14161, k->vm_label, k->peer, signer, until, k->pcb, version, request_version);
    } else {
        say(k, WS_EV_HYPERV_14162_TOKEN, k->vm_label, reason, k->peer, k->pcb, ws_rdstls_result_name(code), code,
            version);
    }
    ws_rdstls_auth_response rs = {.version = version, .result_code = code};
    n = ws_rdstls_encode_auth_response(&rs, out, sizeof out);
    if (n == 0 || tls_write(k, out, n, "the RDSTLS Auth response", &e) != 0) {
        if (n == 0)
            ws_seterr(&e, "cannot encode the RDSTLS Auth response");
        say(k, WS_EV_HYPERV_14164_CLOSED, k->vm_label, k->peer, e.msg, k->pcb);
        return;
    }
    if (code != WS_RDSTLS_SUCCESS) {
        polite_close(k, GOODBYE_MS);
        return;
    }
    run_console(k, 1);
}

static void serve(conn *k)
{
    ws_error e;
    int silent = 0;
    if (read_pcb(k, &silent, &e) != 0) {
        if (!silent) /* a connection that sends nothing (a port probe) is not logged */
            protocol_error(k, &e);
        return;
    }
    say(k, WS_EV_HYPERV_14160, k->peer, k->vm_label, k->vm_known ? " on " : ": no such VM",
        k->vm_known ? k->vm_host : "", k->pcb);

    ws_x224_cr cr;
    if (read_cr(k, &cr, &e) != 0) {
        protocol_error(k, &e);
        return;
    }
    ws_x224_cc cc = {.has_neg = 1, .neg_type = WS_NEG_TYPE_RSP};
    if (cr.has_neg && (cr.requested_protocols & WS_PROTOCOL_RDSTLS)) {
        cc.value = WS_PROTOCOL_RDSTLS;
    } else if (cr.has_neg && (cr.requested_protocols & WS_PROTOCOL_SSL)) {
        cc.value = WS_PROTOCOL_SSL;
    } else {
        cc.neg_type = WS_NEG_TYPE_FAILURE;
        cc.value = WS_NEG_SSL_REQUIRED_BY_SERVER;
    }
    k->requested_protocols = cr.requested_protocols;
    k->selected_protocol = cc.value;
    uint8_t out[64];
    size_t n = ws_x224_cc_encode(&cc, out, sizeof out);
    if (n == 0) {
        ws_seterr(&e, "cannot encode the X.224 Connection Confirm");
        protocol_error(k, &e);
        return;
    }
    if (send_all(k, out, n, "the X.224 Connection Confirm", &e) != 0) {
        protocol_error(k, &e);
        return;
    }
    if (cc.neg_type == WS_NEG_TYPE_FAILURE) {
        if (cr.has_neg)
            ws_seterr(&e, "the client offered protocols 0x%X, without TLS (SSL or RDSTLS): answered SSL_REQUIRED_BY_SERVER",
                      cr.requested_protocols);
        else
            ws_seterr(&e, "the client offered Standard RDP Security only (no RDP_NEG_REQ): answered "
                          "SSL_REQUIRED_BY_SERVER");
        protocol_error(k, &e);
        polite_close(k, DRAIN_MS);
        return;
    }

    if (!k->tls) {
        say(k, WS_EV_HYPERV_14165_CLOSED, k->vm_label, k->peer, k->tls_error ? k->tls_error : "unknown", k->pcb);
        return;
    }
    k->ssl = SSL_new(k->tls);
    /* The host's TLS output leaves one flight per write (flight.h). */
    BIO *bio = k->ssl ? host_flight_bio(k->fd) : NULL;
    if (bio)
        SSL_set_bio(k->ssl, bio, bio);
    if (!k->ssl || !bio) {
        ERR_clear_error();
        say(k, WS_EV_HYPERV_14164_NO_TLS, k->vm_label, k->peer);
        return;
    }
    set_timeouts(k->fd, remaining_ms(k, IDLE_TIMEOUT_MS));
    int r = SSL_accept(k->ssl);
    if (r != 1) {
        tls_failure(k, r, "the TLS handshake", &e);
        say(k, WS_EV_HYPERV_14164_CLOSED, k->vm_label, k->peer, e.msg, k->pcb);
        return;
    }

    if (cc.value == WS_PROTOCOL_SSL) {
        /* A client without RDSTLS cannot present the VMToken: the administrator's path,
         * whose Client Info must carry the fabric administrator's credentials; anyone
         * else is refused there ("RDP client 8.1 or later required", console.c). */
        run_console(k, 0);
        return;
    }
    rdstls(k);
}

static void *conn_main(void *arg)
{
    conn *k = arg;
    ws_error e;
    if (ws_state_open(k->c->lab_dir, 0, &k->st, &e) != 0) {
        k->st = NULL;
        fprintf(stderr, "%s: %s: console %s: closed: cannot open the state file: %s\n", k->c->program, k->host,
                k->peer, e.msg);
    } else {
        serve(k);
    }
    preauth_release(k);
    if (k->ssl)
        SSL_free(k->ssl);
    ERR_clear_error();
    close(k->fd);
    ws_state_close(k->st);
    free(k);
    atomic_fetch_sub(&active, 1);
    return NULL;
}

/* ---- start-up and the accept loop --------------------------------------------------- */

SSL_CTX *host_rdp_tls_ctx(ws_component *c, ws_error *e)
{
    char name[256];
    if (ws_setting_get(c->st, c->machine.name, WS_SET_AUTH_CERT, name, sizeof name) != 0) {
        ws_seterr(e, "%s has no Remote Desktop certificate configured (setting %s)", c->machine.name,
                  WS_SET_AUTH_CERT);
        return NULL;
    }
    return ws_tls_server_ctx(c->st, c->machine.name, name, e);
}

/* The peer as "address:port" in out, and its address alone in a. */
static void peer_text(const struct sockaddr_storage *ss, char *out, size_t n, char a[INET6_ADDRSTRLEN])
{
    snprintf(a, INET6_ADDRSTRLEN, "?");
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, a, INET6_ADDRSTRLEN);
        port = ntohs(in->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in->sin6_addr, a, INET6_ADDRSTRLEN);
        port = ntohs(in->sin6_port);
    }
    snprintf(out, n, "%s:%d", a, port);
}

void host_rdp_serve(ws_component *c, int fd, SSL_CTX *tls, const char *tls_error)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    /* Connection threads leave SIGTERM to the main thread: their blocking reads are
     * not interrupted, and the accept loop sees the stop flag. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int64_t last_busy_event = 0;
    while (!ws_component_stop) {
        if (poll(&p, 1, 200) <= 0 || !(p.revents & POLLIN))
            continue;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                ws_sleep_ms(50);
            continue;
        }
        /* Small PDUs go out at once: no waiting on the peer's delayed acknowledgements. */
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char peer[64], source[INET6_ADDRSTRLEN];
        peer_text(&ss, peer, sizeof peer, source);
        int cap = atomic_load(&active) >= HOST_RDP_MAX_CONN ? HOST_RDP_MAX_CONN : preauth_take(source);
        if (cap) {
            close(cfd);
            /* One line and event a second at most: a flood must not flood the log. */
            if (ws_wall_ms() - last_busy_event >= 1000) {
                last_busy_event = ws_wall_ms();
                fprintf(stderr, "%s: %s: console %s: refused: %d console connections are open%s\n", c->program,
                        c->machine.name, peer, cap, cap == PREAUTH_PER_SOURCE ? " from its address" : "");
                ws_event_write(c->st, c->machine.name, WS_EV_HYPERV_14166, peer, cap);
            }
            continue;
        }
        conn *k = calloc(1, sizeof *k);
        if (!k) {
            conn counted = {.preauth = 1};
            snprintf(counted.source, sizeof counted.source, "%s", source);
            preauth_release(&counted);
            close(cfd);
            continue;
        }
        k->c = c;
        k->host = c->machine.name;
        k->tls = tls;
        k->tls_error = tls_error;
        k->fd = cfd;
        snprintf(k->peer, sizeof k->peer, "%s", peer);
        snprintf(k->source, sizeof k->source, "%s", source);
        k->preauth = 1;
        k->deadline_ms = ws_wall_ms() + HANDSHAKE_BUDGET_MS;
        set_timeouts(cfd, IDLE_TIMEOUT_MS);
        atomic_fetch_add(&active, 1);
        pthread_t tid;
        pthread_sigmask(SIG_BLOCK, &block, &old);
        int rc = pthread_create(&tid, &attr, conn_main, k);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
            atomic_fetch_sub(&active, 1);
            preauth_release(k);
            fprintf(stderr, "%s: %s: console %s: refused: cannot start a thread (error %d)\n", c->program,
                    c->machine.name, peer, rc);
            close(cfd);
            free(k);
        }
    }
    pthread_attr_destroy(&attr);
    /* Give open connections a moment (console sessions see the stop flag within a
     * quarter of a second and close politely); the process exit ends the rest. */
    for (int i = 0; i < 30 && atomic_load(&active) > 0; i++)
        ws_sleep_ms(100);
}

int host_rdp_active(void)
{
    return atomic_load(&active);
}
