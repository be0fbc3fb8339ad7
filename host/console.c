/* SPDX-License-Identifier: Apache-2.0 */
/* console: see console.h. The server side of the RDP connection sequence (MS-RDPBCGR
 * 1.3.1.1; as FreeRDP's libfreerdp/core/peer.c and IronRDP's acceptor run it), one
 * step at a time, each PDU checked against the step it arrives in:
 *
 *   CONNECT_INITIAL  MCS Connect-Initial            -> Connect-Response (SC_CORE, SC_SECURITY 0/0, SC_NET)
 *   ERECT            Erect Domain Request           (no reply)
 *   ATTACH           Attach User Request            -> Attach User Confirm (user id 1004 + the number
 *                                                     of static channels: 1007 for three)
 *   JOIN             Channel Join Request, each of the user channel, 1003 and the static
 *                    channels, one at a time        -> Channel Join Confirm
 *   CLIENT_INFO      Client Info PDU (SEC_INFO_PKT) -> who may enter; the console is taken
 *                                                     over; licensing "valid client"; Demand Active
 *   CONFIRM_ACTIVE   Confirm Active                 (no reply)
 *   FINALIZE         Synchronize, Control Cooperate, Control Request Control, [Persistent
 *                    Key List], Font List           -> Synchronize, Cooperate, Granted, Font Map,
 *                                                     then the first frame
 *   ACTIVE           input (fast-path or slow-path) -> the changed part of the frame;
 *                    Refresh Rect -> the whole frame; Suppress Output ignored
 *
 * The socket is non-blocking from here on: every wait is a poll() on the socket and on
 * the session's eventfd, which another session writes when it takes the VM's console
 * over, so a takeover is seen at once whatever the client is doing. Reads keep at most
 * one TPKT (65535 bytes) or fast-path PDU; the connection sequence must be done within
 * SEQUENCE_BUDGET_MS, with no silence longer than IDLE_TIMEOUT_MS; an active session
 * may stay idle (a console is watched more than typed into). */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lab/accounts.h"
#include "lab/clock.h"
#include "lab/events.h"
#include "lab/vm.h"
#include "base/framebuffer.h"
#include "wire/mcs.h"
#include "flight.h"
#include "log.h"
#include "rdp.h"
#include "wire/rdpneg.h"
#include "wire/planar.h"
#include "wire/rdppdu.h"
#include "screen.h"

#define SEQUENCE_BUDGET_MS 60000 /* hand-over to the first frame, however slowly the bytes drip */
#define IDLE_TIMEOUT_MS 30000    /* silence accepted during the connection sequence */
#define WRITE_TIMEOUT_MS 30000   /* a client that reads nothing this long is dropped */
#define TICK_MS 250              /* how often a waiting session looks at the stop flag */
#define DRAIN_MS 500             /* lingering close */
#define IN_MAX 65536             /* one TPKT (at most 65535 bytes) or fast-path PDU (32767) */
#define OUT_MAX 65600            /* one TPKT with its headers */
/* Largest MCS Send Data userData the host sends: what a strict two-byte PER length holds
 * (FreeRDP reads up to 0x7FFF; 0x3FFF is safe for every reader). */
#define SLOWPATH_USERDATA_MAX 0x3FFF
#define BITMAP_PDU_OVERHEAD 64 /* headers of an Update PDU with one rectangle, rounded up */
#define TILE_W 64 /* tiles of 64 x 64, as Windows servers send them (and FreeRDP's Planar decoder expects at least) */
#define PLANAR_MAX WS_PLANAR_MAX_SIZE(TILE_W, TILE_W)

/* The ERRINFO codes the host sends [model: which codes Hyper-V sends for these refusals
 * is not public]. */
#define ERRINFO_NOT_ADMITTED WS_PDU_ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES /* no VMToken, no admin credentials */
#define ERRINFO_NO_SUCH_VM WS_PDU_ERRINFO_SERVER_DENIED_CONNECTION        /* the VM is not on this host */

enum step { CONNECT_INITIAL, ERECT, ATTACH, JOIN, CLIENT_INFO, CONFIRM_ACTIVE, FINALIZE, ACTIVE };
static const char *const step_names[] = {"MCS Connect-Initial", "Erect Domain Request", "Attach User Request",
                                         "Channel Join Request", "Client Info PDU", "Confirm Active PDU",
                                         "finalization PDUs", "session PDUs"};

/* What reading or handling a PDU came to. */
enum outcome {
    GO_ON,      /* next PDU */
    END_CLEAN,  /* the client left (end_reason says how) */
    END_ERROR,  /* malformed, out of order, timeout, TLS failure (e says why) */
    END_TAKEN,  /* another connection took the VM's console over */
    END_STOP,   /* the host is stopping */
    END_REFUSED /* refused after the Client Info: already logged and answered */
};

static const host_font *console_font;
static int screen_w, screen_h;

typedef struct sess sess;

/* The VMs whose console this host has shown: the screen (what was typed stays with the
 * VM) and the session that has it now. */
typedef struct vm_slot {
    char vm_id[37];
    sess *owner;
    host_screen screen;
} vm_slot;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static vm_slot slots[HOST_CONSOLE_VMS_MAX];
static int nslots;

struct sess {
    const host_console_link *l;
    enum step step;
    int64_t deadline_ms; /* monotonic: end of the connection sequence budget */
    int64_t last_rx_ms;
    uint8_t *in;
    size_t in_len;
    uint8_t *out; /* a whole TPKT to send */
    uint8_t *pdu; /* a PDU before its MCS wrapping */
    uint8_t *bits;   /* the data of the update's rectangles */
    uint8_t *tile;   /* one tile's pixels, bottom-up */
    uint8_t *planar; /* one tile compressed */
    ws_pdu_bitmap_update *upd;
    int tls_failed; /* e came from TLS, not from what the client sent */
    char end_reason[256];

    /* MCS */
    uint16_t user_id;
    uint16_t channels[WS_MCS_CHANNELS_MAX + 2]; /* user channel, 1003, static channels */
    char channel_names[WS_MCS_CHANNELS_MAX + 2][WS_MCS_CHANNEL_NAME_MAX + 1];
    int joined[WS_MCS_CHANNELS_MAX + 2];
    int nchannels;
    char client_name[64];
    uint32_t client_build;
    ws_pdu_share share;

    /* who entered */
    char account[256]; /* the administrator's account name; "" on the tenant's path */
    sqlite3_int64 sid; /* sessions row, 0 when none */

    /* finalization */
    int got_sync, got_cooperate, got_request;
    int fastpath_output;
    uint32_t multifrag_max;
    int tile_h;            /* tiles are TILE_W x tile_h: as tall as one raw tile fits an update */
    size_t update_limit;   /* bytes of rectangles one update may carry */
    int cd_header;         /* the client did not announce NO_BITMAP_COMPRESSION_HDR */
    size_t upd_bytes;      /* of the update being gathered */
    size_t arena_used;     /* bytes of s->bits its rectangles' data use */

    /* the console */
    int slot; /* index in slots, -1 until the console is taken */
    int wake_fd;
    atomic_int taken;
    char taker[200];       /* written under table_lock by the session that took over */
    host_screen screen;    /* copy of the VM's screen, drawn outside the lock */
    int shift, ctrl, alt;  /* this client's modifier keys */
    ws_framebuffer frame, sent;
    int sent_valid;
    long frames, updates;
    int ppm_warned;
};

/* ---- logging -------------------------------------------------------------------- */

/* Log ev, its template's arguments following ev, on stderr and in the event log. */
static void say(sess *s, ws_ev ev, ...)
{
    va_list ap;
    va_start(ap, ev);
    host_log_v(s->l->c, s->l->host, s->l->st, ev, ap);
    va_end(ap);
}

/* Zeroed heap memory for the session and the decoded PDUs too large for a thread's
 * stack; running out of memory aborts. */
static void *zalloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p)
        abort();
    return p;
}

/* ---- the sessions table ------------------------------------------------------------ */

static void session_insert(sess *s, const char *state)
{
    sqlite3_stmt *q = ws_state_prepare(
        s->l->st, "INSERT INTO sessions(vm, tenant, host, started_at, state) VALUES(?, ?, ?, ?, ?)", NULL);
    if (!q)
        return;
    sqlite3_bind_text(q, 1, s->l->vm_id, -1, SQLITE_STATIC);
    if (s->account[0])
        sqlite3_bind_text(q, 2, s->account, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 2);
    sqlite3_bind_text(q, 3, s->l->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, ws_clock_now(s->l->st, s->l->host));
    sqlite3_bind_text(q, 5, state, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_DONE)
        s->sid = sqlite3_last_insert_rowid(s->l->st->db);
    sqlite3_finalize(q);
}

static void session_state(sess *s, const char *state)
{
    sqlite3_stmt *q = ws_state_prepare(s->l->st, "UPDATE sessions SET state = ? WHERE id = ?", NULL);
    if (!q)
        return;
    sqlite3_bind_text(q, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, s->sid);
    sqlite3_step(q);
    sqlite3_finalize(q);
}

static void session_end(sess *s, const char *state, const char *reason)
{
    sqlite3_stmt *q = ws_state_prepare(
        s->l->st, "UPDATE sessions SET state = ?, ended_at = ?, reason = ? WHERE id = ?", NULL);
    if (!q)
        return;
    sqlite3_bind_text(q, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, ws_clock_now(s->l->st, s->l->host));
    sqlite3_bind_text(q, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, s->sid);
    sqlite3_step(q);
    sqlite3_finalize(q);
}

void host_console_sessions_lost(ws_state *st, const char *host)
{
    sqlite3_stmt *q = ws_state_prepare(st,
                                       "UPDATE sessions SET state = 'ended', ended_at = ?, reason ="
                                       " 'the host restarted: the connection was lost'"
                                       " WHERE host = ? AND ended_at IS NULL",
                                       NULL);
    if (!q)
        return;
    sqlite3_bind_int64(q, 1, ws_clock_now(st, host));
    sqlite3_bind_text(q, 2, host, -1, SQLITE_STATIC);
    sqlite3_step(q);
    sqlite3_finalize(q);
}

/* ---- TLS, non-blocking ------------------------------------------------------------- */

static int64_t now_ms(void)
{
    return ws_mono_ms();
}

/* Why an SSL_* call failed, into e. *eof is set (when not NULL) for a connection the
 * client closed: close_notify, EOF without it, or a reset. */
static int tls_failure(sess *s, int r, const char *during, int *eof, ws_error *e)
{
    int saved = errno;
    int err = SSL_get_error(s->l->ssl, r);
    unsigned long code = ERR_peek_error();
    char text[256] = "";
    if (code)
        ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    int closed = err == SSL_ERROR_ZERO_RETURN ||
                 (err == SSL_ERROR_SYSCALL && !code && (r == 0 || saved == 0 || saved == ECONNRESET || saved == EPIPE)) ||
                 (err == SSL_ERROR_SSL && strstr(text, "unexpected eof"));
    if (eof)
        *eof = closed;
    s->tls_failed = 1;
    if (closed)
        return ws_seterr(e, "%s: the client closed the connection", during);
    if (err == SSL_ERROR_SYSCALL && !code) {
        char t[128];
        const char *m = strerror_r(saved, t, sizeof t);
        return ws_seterr(e, "%s: %s", during, m);
    }
    return ws_seterr(e, "%s: TLS error: %s", during, text[0] ? text : "unknown");
}

static int tls_send(sess *s, const uint8_t *buf, size_t n, const char *what, ws_error *e)
{
    int64_t end = now_ms() + WRITE_TIMEOUT_MS;
    for (;;) {
        ERR_clear_error();
        int r = SSL_write(s->l->ssl, buf, (int)n);
        if (r == (int)n)
            return 0;
        int err = SSL_get_error(s->l->ssl, r);
        if (r <= 0 && (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)) {
            int64_t left = end - now_ms();
            if (left <= 0) {
                s->tls_failed = 1;
                return ws_seterr(e, "sending %s: the client read nothing for %d s", what, WRITE_TIMEOUT_MS / 1000);
            }
            struct pollfd p = {.fd = s->l->fd, .events = err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN};
            poll(&p, 1, left < TICK_MS ? (int)left : TICK_MS);
            continue;
        }
        char during[160];
        snprintf(during, sizeof during, "sending %s", what);
        return tls_failure(s, r, during, NULL, e);
    }
}

/* The PDU that follows in s->in: a TPKT or a fast-path PDU, whole, of *len bytes. */
static enum outcome next_pdu(sess *s, size_t *len, int *fastpath, ws_error *e)
{
    for (;;) {
        if (atomic_load(&s->taken))
            return END_TAKEN;
        if (s->in_len > 0) {
            long n;
            if (s->in[0] == 0x03) {
                n = ws_tpkt_length(s->in, s->in_len, IN_MAX - 1);
                if (n < 0) {
                    ws_seterr(e, "%s: a TPKT with a length out of range (header %02X %02X %02X %02X)",
                              step_names[s->step], s->in[0], s->in_len > 1 ? s->in[1] : 0,
                              s->in_len > 2 ? s->in[2] : 0, s->in_len > 3 ? s->in[3] : 0);
                    return END_ERROR;
                }
                *fastpath = 0;
            } else if ((s->in[0] & 0x03) == 0) {
                n = ws_pdu_fastpath_length(s->in, s->in_len);
                if (n < 0) {
                    ws_seterr(e, "%s: a fast-path PDU whose length is shorter than its header", step_names[s->step]);
                    return END_ERROR;
                }
                *fastpath = 1;
            } else {
                ws_seterr(e, "%s: neither a TPKT nor a fast-path PDU (first byte 0x%02X)", step_names[s->step],
                          s->in[0]);
                return END_ERROR;
            }
            if (n > 0 && (size_t)n <= s->in_len) {
                *len = (size_t)n;
                return GO_ON;
            }
        }
        if (ws_component_stop)
            return END_STOP;
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(s->l->ssl, s->in + s->in_len, (int)(IN_MAX - s->in_len));
        if (r > 0) {
            s->in_len += (size_t)r;
            s->last_rx_ms = now_ms();
            continue;
        }
        int err = SSL_get_error(s->l->ssl, r);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            int wait = TICK_MS;
            int64_t t = now_ms();
            if (s->step != ACTIVE && t >= s->deadline_ms) {
                ws_seterr(e, "%s: the connection sequence took longer than %d s (%zu bytes of a PDU received)",
                          step_names[s->step], SEQUENCE_BUDGET_MS / 1000, s->in_len);
                return END_ERROR;
            }
            /* Silence: during the sequence, or in the middle of a PDU (an active session
             * may stay idle between PDUs). */
            if ((s->step != ACTIVE || s->in_len > 0) && t - s->last_rx_ms >= IDLE_TIMEOUT_MS) {
                ws_seterr(e, "%s: timed out after %d s of silence (%zu bytes of a PDU received)",
                          step_names[s->step], IDLE_TIMEOUT_MS / 1000, s->in_len);
                return END_ERROR;
            }
            struct pollfd p[2] = {{.fd = s->l->fd, .events = err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN},
                                  {.fd = s->wake_fd, .events = POLLIN}};
            if (poll(p, 2, wait) > 0 && (p[1].revents & POLLIN)) {
                uint64_t v;
                if (read(s->wake_fd, &v, sizeof v) < 0) {
                    /* nothing to do: the flag is what counts */
                }
            }
            continue;
        }
        char during[160];
        snprintf(during, sizeof during, "%s (%zu bytes of a PDU received)", step_names[s->step], s->in_len);
        int eof = 0;
        tls_failure(s, r, during, &eof, e);
        if (eof && s->in_len == 0) {
            s->tls_failed = 0;
            snprintf(s->end_reason, sizeof s->end_reason, "the client closed the connection");
            return END_CLEAN;
        }
        if (eof) {
            s->tls_failed = 0;
            ws_seterr(e, "%s: truncated: the client closed the connection after %zu bytes of a PDU",
                      step_names[s->step], s->in_len);
        }
        return END_ERROR;
    }
}

static void consume(sess *s, size_t n)
{
    memmove(s->in, s->in + n, s->in_len - n);
    s->in_len -= n;
}

/* ---- sending ----------------------------------------------------------------------- */

/* An MCS PDU inside X.224 Data. */
static int send_domain(sess *s, const uint8_t *mcs, size_t n, const char *what, ws_error *e)
{
    size_t m = ws_x224_data_encode(mcs, n, s->out, OUT_MAX);
    if (!m)
        return ws_seterr(e, "cannot encode %s", what);
    return tls_send(s, s->out, m, what, e);
}

/* userData (a Share Control PDU, or a PDU with a security header) in a Send Data
 * Indication on the I/O channel, from the server's user id. */
static int send_io(sess *s, const uint8_t *data, size_t n, const char *what, ws_error *e)
{
    ws_mcs_send_data sd = {.initiator = WS_PDU_SERVER_CHANNEL_ID,
                           .channel_id = WS_MCS_GLOBAL_CHANNEL_ID,
                           .flags = WS_MCS_DATA_PRIORITY_FLAGS,
                           .data = data,
                           .len = n};
    size_t m = n ? ws_mcs_send_data_encode_tpkt(WS_MCS_SEND_DATA_INDICATION, &sd, s->out, OUT_MAX) : 0;
    if (!m)
        return ws_seterr(e, "cannot encode %s", what);
    return tls_send(s, s->out, m, what, e);
}

static int send_error_info(sess *s, uint32_t code, ws_error *e)
{
    size_t n = ws_pdu_encode_set_error_info(&s->share, code, s->pdu, OUT_MAX);
    return send_io(s, s->pdu, n, "the Set Error Info PDU", e);
}

static int send_ultimatum(sess *s, ws_error *e)
{
    uint8_t mcs[8];
    size_t n = ws_mcs_disconnect_ultimatum_encode(WS_MCS_REASON_PROVIDER_INITIATED, mcs, sizeof mcs);
    if (!n)
        return ws_seterr(e, "cannot encode the Disconnect Provider Ultimatum");
    return send_domain(s, mcs, n, "the Disconnect Provider Ultimatum", e);
}

/* Lingering close: close_notify, our FIN, then read briefly what the client still sends
 * so the last bytes written are not lost to a reset. */
static void polite_close(sess *s)
{
    ERR_clear_error();
    SSL_shutdown(s->l->ssl);
    host_flight_flush(s->l->ssl); /* the last flight and the close_notify (flight.h) */
    ERR_clear_error();
    shutdown(s->l->fd, SHUT_WR);
    int64_t end = now_ms() + DRAIN_MS;
    uint8_t sink[4096];
    size_t total = 0;
    while (total < (1u << 20)) {
        int64_t left = end - now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = s->l->fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t m = recv(s->l->fd, sink, sizeof sink, 0);
        if (m < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (m <= 0)
            break;
        total += (size_t)m;
    }
}

/* ---- the VM's console: the table of VMs, takeover, frames ---------------------------- */

/* Takes the VM's console: the previous session (if any) is told to end. Returns 0, or -1
 * when the table is full. prev names the previous session for the log ("" if none). */
static int console_take(sess *s, const char *os, char *prev, size_t prev_n)
{
    prev[0] = '\0';
    pthread_mutex_lock(&table_lock);
    int i = 0;
    for (; i < nslots; i++)
        if (strcasecmp(slots[i].vm_id, s->l->vm_id) == 0)
            break;
    if (i == nslots) {
        if (nslots == HOST_CONSOLE_VMS_MAX) {
            pthread_mutex_unlock(&table_lock);
            return -1;
        }
        nslots++;
        memset(&slots[i], 0, sizeof slots[i]);
        snprintf(slots[i].vm_id, sizeof slots[i].vm_id, "%s", s->l->vm_id);
        host_screen_init(&slots[i].screen, s->l->vm_name, os);
    }
    sess *old = slots[i].owner;
    if (old) {
        snprintf(old->taker, sizeof old->taker, "session %lld from %s", (long long)s->sid, s->l->peer);
        atomic_store(&old->taken, 1);
        uint64_t one = 1;
        if (write(old->wake_fd, &one, sizeof one) < 0) {
            /* the counter cannot overflow here; the flag is what counts */
        }
        snprintf(prev, prev_n, "session %lld from %s", (long long)old->sid, old->l->peer);
    }
    slots[i].owner = s;
    s->slot = i;
    s->screen = slots[i].screen;
    pthread_mutex_unlock(&table_lock);
    return 0;
}

static void console_release(sess *s)
{
    if (s->slot < 0)
        return;
    pthread_mutex_lock(&table_lock);
    if (slots[s->slot].owner == s)
        slots[s->slot].owner = NULL;
    pthread_mutex_unlock(&table_lock);
}

/* <lab>/console/<vm name>.ppm, the name made safe for a path. */
static void ppm_path(sess *s, char *out, size_t n)
{
    char name[128];
    size_t i = 0;
    for (; s->l->vm_name[i] && i + 1 < sizeof name; i++) {
        char ch = s->l->vm_name[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                 ch == '_' || (ch == '.' && i > 0);
        name[i] = ok ? ch : '_';
    }
    name[i] = '\0';
    snprintf(out, n, "%s/console/%s.ppm", s->l->c->lab_dir, name[0] ? name : "_");
}

/* The frame just sent, written for tests while this session still has the console
 * (under the lock, so a session taken over cannot overwrite its successor's frame). */
static void write_ppm(sess *s)
{
    char dir[4096], path[4096];
    snprintf(dir, sizeof dir, "%s/console", s->l->c->lab_dir);
    ppm_path(s, path, sizeof path);
    ws_error e = {{0}};
    int rc = 0;
    pthread_mutex_lock(&table_lock);
    if (slots[s->slot].owner == s) {
        if (ws_mkdir_p(dir, 0755) != 0)
            rc = ws_seterr(&e, "cannot create %s", dir);
        else
            rc = ws_framebuffer_write_ppm(&s->frame, path, &e);
    }
    pthread_mutex_unlock(&table_lock);
    if (rc != 0 && !s->ppm_warned) {
        s->ppm_warned = 1;
        fprintf(stderr, "%s: %s: console of %s: %s\n", s->l->c->program, s->l->host, s->l->vm_label, e.msg);
    }
}

/* The rectangles gathered in s->upd as one bitmap update (fast-path, or a slow-path Update
 * PDU); then s->upd is empty again. */
static int send_update(sess *s, ws_error *e)
{
    if (!s->upd->count)
        return 0;
    int rc;
    if (s->fastpath_output) {
        size_t n = ws_pdu_encode_fastpath_bitmap(s->upd, s->out, OUT_MAX);
        rc = n ? tls_send(s, s->out, n, "a fast-path bitmap update", e)
               : ws_seterr(e, "cannot encode a fast-path bitmap update of %u rectangles", s->upd->count);
    } else {
        size_t n = ws_pdu_encode_update_bitmap(&s->share, s->upd, s->pdu, OUT_MAX);
        rc = send_io(s, s->pdu, n, "a bitmap Update PDU", e);
    }
    s->upd->count = 0;
    s->upd->other_updates = 0;
    s->upd_bytes = 0;
    s->arena_used = 0;
    if (rc == 0)
        s->updates++;
    return rc;
}

/* The w x h tile of the frame at (x, y) into s->upd, Planar-compressed (MS-RDPEGDI 2.2.2.5.1) when
 * that is smaller than its raw pixels (a noisy tile may not be); the update goes first when the
 * tile would not fit in it. */
static int add_tile(sess *s, int x, int y, int w, int h, ws_error *e)
{
    const size_t stride = (size_t)screen_w * 4, raw = (size_t)w * (size_t)h * 4;
    ws_pdu_bitmap_rows(s->frame.bgrx, stride, (unsigned)x, (unsigned)y, (unsigned)w, (unsigned)h, s->tile);
    size_t n = ws_planar_encode(s->tile, (unsigned)w, (unsigned)h, s->planar, PLANAR_MAX);
    int compressed = n > 0 && n + (s->cd_header ? 8 : 0) < raw; /* never dearer than the raw tile */
    size_t len = compressed ? n : raw;
    uint16_t flags = compressed ? (uint16_t)(WS_PDU_BITMAP_COMPRESSION | (s->cd_header ? 0 : WS_PDU_NO_BITMAP_COMPRESSION_HDR)) : 0;
    size_t cost = 18 + (compressed && s->cd_header ? 8 : 0) + len; /* TS_BITMAP_DATA's fields, then its data */
    if (s->upd->count && (s->upd_bytes + cost > s->update_limit || s->upd->count >= WS_PDU_RECTS_MAX) &&
        send_update(s, e) != 0)
        return -1;
    uint8_t *dst = s->bits + s->arena_used;
    s->arena_used += len;
    memcpy(dst, compressed ? s->planar : s->tile, len);
    s->upd->rects[s->upd->count++] = (ws_pdu_bitmap_rect){.left = (uint16_t)x,
                                                          .top = (uint16_t)y,
                                                          .right = (uint16_t)(x + w - 1),
                                                          .bottom = (uint16_t)(y + h - 1),
                                                          .width = (uint16_t)w,
                                                          .height = (uint16_t)h,
                                                          .bpp = 32,
                                                          .flags = flags,
                                                          .length = (uint16_t)len,
                                                          .data = dst};
    s->upd_bytes += cost;
    return 0;
}

/* A tile of the frame differs from the frame last sent. */
static int tile_changed(const sess *s, int x, int y, int w, int h)
{
    const size_t stride = (size_t)screen_w * 4;
    for (int r = y; r < y + h; r++) {
        size_t off = (size_t)r * stride + (size_t)x * 4;
        if (memcmp(s->frame.bgrx + off, s->sent.bgrx + off, (size_t)w * 4) != 0)
            return 1;
    }
    return 0;
}

/* Draws the screen and sends what changed since the last frame sent (everything when full):
 * the changed tiles of TILE_W x tile_h pixels, as real servers tile their bitmap updates,
 * gathered into as few updates as their size allows. A typed character changes one cell,
 * so one or two tiles go. */
static int send_frame(sess *s, int full, ws_error *e)
{
    if (host_screen_render(&s->screen, console_font, &s->frame) != 0)
        return ws_seterr(e, "cannot draw the console of %s", s->l->vm_label);
    s->upd->count = 0;
    s->upd_bytes = 0;
    s->arena_used = 0;
    for (int y = 0; y < screen_h; y += s->tile_h) {
        int h = screen_h - y < s->tile_h ? screen_h - y : s->tile_h;
        for (int x = 0; x < screen_w; x += TILE_W) {
            int w = screen_w - x < TILE_W ? screen_w - x : TILE_W;
            if (!full && s->sent_valid && !tile_changed(s, x, y, w, h))
                continue;
            if (atomic_load(&s->taken)) {
                s->sent_valid = 0;
                return 0; /* the caller sees the takeover next */
            }
            if (add_tile(s, x, y, w, h, e) != 0)
                return -1;
        }
    }
    if (send_update(s, e) != 0)
        return -1;
    memcpy(s->sent.bgrx, s->frame.bgrx, (size_t)screen_h * (size_t)screen_w * 4);
    s->sent_valid = 1;
    s->frames++;
    write_ppm(s);
    return 0;
}

/* Keys into the VM's screen, while this session has the console. Returns 1 when the
 * screen changed. */
static int apply_input(sess *s, const ws_pdu_input *in)
{
    int changed = 0;
    pthread_mutex_lock(&table_lock);
    if (s->slot >= 0 && slots[s->slot].owner == s) {
        host_screen *scr = &slots[s->slot].screen;
        for (unsigned i = 0; i < in->count && i < WS_PDU_INPUT_MAX; i++) {
            const ws_pdu_input_event *ev = &in->events[i];
            int release = (ev->flags & WS_PDU_KBDFLAGS_RELEASE) != 0;
            if (ev->type == WS_PDU_INPUT_SCANCODE) {
                int extended = (ev->flags & WS_PDU_KBDFLAGS_EXTENDED) != 0;
                if (ev->code > 0xFF)
                    continue;
                if (ev->code == 0x1D) { /* Ctrl, left or right */
                    s->ctrl = !release;
                    continue;
                }
                if (ev->code == 0x38) { /* Alt, left or right (AltGr) */
                    s->alt = !release;
                    continue;
                }
                /* Extended keys are the arrows, Insert, Delete, ... and the keypad's Enter and '/'. */
                if (extended && ev->code != 0x1C && ev->code != 0x35)
                    continue;
                if (!release && (s->ctrl || s->alt))
                    continue;
                host_screen_scancode(scr, (uint8_t)ev->code, release, &s->shift);
            } else if (ev->type == WS_PDU_INPUT_UNICODE) {
                if (!release && (ev->code < 0xD800 || ev->code > 0xDFFF))
                    host_screen_type(scr, ev->code);
            }
            /* mouse and sync (toggle keys) events do nothing on a text console */
        }
        changed = memcmp(&s->screen, scr, sizeof *scr) != 0;
        s->screen = *scr;
    }
    pthread_mutex_unlock(&table_lock);
    return changed;
}

/* A slow-path (Share Data) or fast-path Input PDU at p, applied to the VM's screen. */
static enum outcome on_input(sess *s, const uint8_t *p, size_t n, int fastpath, ws_error *e)
{
    ws_pdu_input *in = zalloc(sizeof *in);
    int rc = fastpath ? ws_pdu_decode_fastpath_input(p, n, in, e) : ws_pdu_decode_input(p, n, NULL, in, e);
    if (rc == 0 && apply_input(s, in) && s->step == ACTIVE)
        rc = send_frame(s, 0, e);
    free(in);
    return rc == 0 ? GO_ON : END_ERROR;
}

/* ---- the connection sequence, step by step ------------------------------------------- */

static enum outcome fail(ws_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum outcome fail(ws_error *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return END_ERROR;
}

static enum outcome on_connect_initial(sess *s, const uint8_t *p, size_t n, ws_error *e)
{
    ws_mcs_connect_initial *ci = zalloc(sizeof *ci);
    enum outcome rc = END_ERROR;
    if (ws_mcs_connect_initial_decode(p, n, ci, e) != 0)
        goto done;
    const ws_gcc_client_core *core = &ci->data.core;
    if (core->length >= WS_GCC_CORE_LEN_SELECTED_PROTOCOL &&
        core->server_selected_protocol != s->l->selected_protocol) {
        rc = fail(e,
                  "MCS Connect-Initial: the client's CS_CORE says serverSelectedProtocol 0x%X, but the host selected "
                  "0x%X in the X.224 Connection Confirm",
                  core->server_selected_protocol, s->l->selected_protocol);
        goto done;
    }
    host_printable(core->client_name, s->client_name, sizeof s->client_name);
    s->client_build = core->client_build;

    ws_gcc_server_data sd;
    ws_gcc_server_data_for(&sd, &ci->data, s->l->requested_protocols, 0);
    /* The user channel follows the static channels, as Windows and FreeRDP number them:
     * 1007 for a client with three. */
    s->user_id = (uint16_t)(WS_MCS_FIRST_STATIC_CHANNEL_ID + sd.net.channel_count);
    s->share.share_id = 0x10000u + s->user_id; /* as Windows: 0x10000 + the user channel */
    s->channels[0] = s->user_id;
    snprintf(s->channel_names[0], sizeof s->channel_names[0], "user");
    s->channels[1] = WS_MCS_GLOBAL_CHANNEL_ID;
    snprintf(s->channel_names[1], sizeof s->channel_names[1], "I/O");
    s->nchannels = 2;
    for (unsigned i = 0; i < sd.net.channel_count && i < WS_MCS_CHANNELS_MAX; i++) {
        s->channels[s->nchannels] = sd.net.channel_ids[i];
        host_printable(ci->data.net.channels[i].name, s->channel_names[s->nchannels], sizeof s->channel_names[0]);
        s->nchannels++;
    }
    ws_mcs_connect_response cr;
    ws_mcs_connect_response_init(&cr, &sd);
    size_t m = ws_mcs_connect_response_encode_tpkt(&cr, s->out, OUT_MAX);
    if (!m) {
        rc = fail(e, "cannot encode the MCS Connect-Response");
        goto done;
    }
    if (tls_send(s, s->out, m, "the MCS Connect-Response", e) != 0)
        goto done;
    s->step = ERECT;
    rc = GO_ON;
done:
    free(ci);
    return rc;
}

static int channel_index(const sess *s, uint16_t id)
{
    for (int i = 0; i < s->nchannels; i++)
        if (s->channels[i] == id)
            return i;
    return -1;
}

static int all_joined(const sess *s)
{
    for (int i = 0; i < s->nchannels; i++)
        if (!s->joined[i])
            return 0;
    return 1;
}

/* The administrator's account name the Client Info's user and domain spell: "DOMAIN\user"
 * from domain + user, "DOMAIN\user" as the user, or "user@domain.tld" (the domain's first
 * label as the NetBIOS name) [model]. "" without a user name. */
static void account_name(const ws_pdu_client_info *ci, char *out, size_t n)
{
    const char *user = ci->user;
    const char *at = strchr(user, '@');
    if (!user[0]) {
        out[0] = '\0';
    } else if (strchr(user, '\\')) {
        snprintf(out, n, "%s", user);
    } else if (at && at != user && at[1]) {
        size_t dl = strcspn(at + 1, ".");
        snprintf(out, n, "%.*s\\%.*s", (int)dl, at + 1, (int)(at - user), user);
    } else if (ci->domain[0]) {
        size_t dl = strcspn(ci->domain, ".");
        snprintf(out, n, "%.*s\\%s", (int)dl, ci->domain, user);
    } else {
        snprintf(out, n, "%s", user);
    }
}

/* The canonical spelling of an account name (as the accounts table has it). */
static void canonical_account(sess *s, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s", name);
    sqlite3_stmt *q = ws_state_prepare(s->l->st, "SELECT name FROM accounts WHERE name = ? COLLATE NOCASE", NULL);
    if (!q)
        return;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
}

/* A refusal after the Client Info: Set Error Info, then the ultimatum. */
static enum outcome refuse(sess *s, uint32_t code)
{
    ws_error e;
    if (send_error_info(s, code, &e) == 0)
        send_ultimatum(s, &e);
    return END_REFUSED;
}

static void vm_os(sess *s, char *os, size_t n)
{
    snprintf(os, n, "Windows Server 2012 R2");
    ws_vm vm;
    if (ws_vm_get(s->l->st, s->l->vm_id, &vm, NULL) == 0)
        snprintf(os, n, "%s", vm.os);
}

static enum outcome on_client_info(sess *s, const uint8_t *data, size_t n, ws_error *e)
{
    ws_pdu_client_info *ci = zalloc(sizeof *ci);
    enum outcome rc = END_ERROR;
    if (n < WS_PDU_SEC_HEADER_LEN || !((data[0] | data[1] << 8) & WS_PDU_SEC_INFO_PKT)) {
        rc = fail(e, "Client Info PDU: expected, got userData without SEC_INFO_PKT in its security header "
                     "(%zu bytes)", n);
        goto done;
    }
    if (ws_pdu_decode_client_info(data, n, ci, e) != 0)
        goto done;

    /* Who may enter. */
    if (!s->l->tenant) {
        char name[300], shown[300], role[32] = "";
        account_name(ci, name, sizeof name);
        host_printable(name, shown, sizeof shown);
        char caller[64];
        snprintf(caller, sizeof caller, "%.*s", (int)strcspn(s->l->peer, ":"), s->l->peer);
        ws_logon_site site = {s->l->host, caller};
        ws_logon logon = name[0] && ci->password[0]
                             ? ws_account_logon(s->l->st, &site, name, ci->password, role, sizeof role)
                             : WS_LOGON_BAD;
        int valid = logon == WS_LOGON_OK;
        OPENSSL_cleanse(ci->password, sizeof ci->password);
        if (!valid || strcmp(role, HOST_CONSOLE_ADMIN_ROLE) != 0) {
            char why[400];
            if (!name[0])
                snprintf(why, sizeof why, "its Client Info carries no credentials");
            else if (logon == WS_LOGON_LOCKED_OUT)
                snprintf(why, sizeof why, "the account '%s' is locked out", shown);
            else if (!valid)
                snprintf(why, sizeof why, "the Client Info's credentials for '%s' are not valid", shown);
            else
                snprintf(why, sizeof why, "'%s' is not a fabric administrator", shown);
            say(s, WS_EV_HYPERV_14162_NO_TOKEN, s->l->vm_label, s->l->peer, s->l->pcb, s->l->requested_protocols, why,
                ws_pdu_errinfo_name(ERRINFO_NOT_ADMITTED), ERRINFO_NOT_ADMITTED);
            rc = refuse(s, ERRINFO_NOT_ADMITTED);
            goto done;
        }
        canonical_account(s, name, s->account, sizeof s->account);
        if (!s->l->vm_known || strcmp(s->l->vm_host, s->l->host) != 0) {
            char why[300];
            if (!s->l->vm_known)
                snprintf(why, sizeof why, "there is no VM %s on %s", s->l->vm_id, s->l->host);
            else
                snprintf(why, sizeof why, "VM %s runs on %s, not on %s", s->l->vm_name, s->l->vm_host, s->l->host);
            say(s, WS_EV_HYPERV_14162_ADMIN, s->l->vm_label, why, s->account, s->l->peer, s->l->pcb,
                ws_pdu_errinfo_name(ERRINFO_NO_SUCH_VM), ERRINFO_NO_SUCH_VM);
            rc = refuse(s, ERRINFO_NO_SUCH_VM);
            goto done;
        }
    }

    /* The console is this connection's now (its frames are allocated only now: a client
     * that is not admitted costs little). */
    if (ws_framebuffer_init(&s->frame, screen_w, screen_h) != 0 || ws_framebuffer_init(&s->sent, screen_w, screen_h) != 0)
        abort();
    if (s->sid)
        session_state(s, "active");
    else
        session_insert(s, "active");
    char os[64], prev[200];
    vm_os(s, os, sizeof os);
    if (console_take(s, os, prev, sizeof prev) != 0) {
        rc = fail(e, "this host keeps the consoles of at most %d VMs", HOST_CONSOLE_VMS_MAX);
        goto done;
    }
    char who[320];
    if (s->l->tenant)
        snprintf(who, sizeof who, "the tenant (VMToken over RDSTLS)");
    else
        snprintf(who, sizeof who, "administrator %s (credentials over TLS)", s->account);
    char took[260] = "";
    if (prev[0])
        snprintf(took, sizeof took, " It took the console over from %s.", prev);
    say(s, WS_EV_HYPERV_14168, (long long)s->sid, s->l->vm_label, s->l->peer, who, s->client_name, s->client_build,
        took);

    /* Licensing, then the capabilities. */
    size_t m = ws_pdu_encode_license_valid_client(s->pdu, OUT_MAX);
    if (send_io(s, s->pdu, m, "the licensing PDU (valid client)", e) != 0)
        goto done;
    ws_pdu_demand_active da;
    memset(&da, 0, sizeof da);
    da.share_id = s->share.share_id;
    snprintf(da.source_descriptor, sizeof da.source_descriptor, "RDP");
    ws_pdu_caps_server_default(&da.caps, (uint16_t)screen_w, (uint16_t)screen_h);
    /* desktopResizeFlag: FreeRDP takes the server's desktop size only when it is set
     * (capabilities.c), so the client's window is the console's size. */
    da.caps.desktop_resize_flag = 1;
    m = ws_pdu_encode_demand_active(WS_PDU_SERVER_CHANNEL_ID, &da, s->pdu, OUT_MAX);
    if (send_io(s, s->pdu, m, "the Demand Active PDU", e) != 0)
        goto done;
    s->step = CONFIRM_ACTIVE;
    rc = GO_ON;
done:
    OPENSSL_cleanse(ci, sizeof *ci);
    free(ci);
    return rc;
}

static enum outcome on_confirm_active(sess *s, const uint8_t *p, size_t n, ws_error *e)
{
    ws_pdu_confirm_active *ca = zalloc(sizeof *ca);
    enum outcome rc = END_ERROR;
    if (ws_pdu_decode_confirm_active(p, n, NULL, ca, e) != 0)
        goto done;
    if (ca->share_id != s->share.share_id) {
        rc = fail(e, "Confirm Active PDU: shareId 0x%08X, not the Demand Active's 0x%08X", ca->share_id,
                  s->share.share_id);
        goto done;
    }
    s->fastpath_output = (ca->caps.present & WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_GENERAL)) &&
                         (ca->caps.extra_flags & WS_PDU_FASTPATH_OUTPUT_SUPPORTED);
    s->multifrag_max = (ca->caps.present & WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_MULTIFRAGMENTUPDATE))
                           ? ca->caps.multifrag_max_request_size
                           : 0;
    /* Updates as large as one may be: a fast-path PDU (and the client's MultifragmentUpdate
     * MaxRequestSize), or a Send Data userData; tiles as tall as a raw one (the fallback
     * for a tile that does not compress) fits. */
    size_t limit = s->fastpath_output ? WS_PDU_FASTPATH_MAX : SLOWPATH_USERDATA_MAX;
    if (s->fastpath_output && s->multifrag_max && s->multifrag_max < limit)
        limit = s->multifrag_max;
    s->update_limit = limit > BITMAP_PDU_OVERHEAD ? limit - BITMAP_PDU_OVERHEAD : 1;
    size_t row = (size_t)TILE_W * 4;
    s->tile_h = s->update_limit > 18 + row ? (int)((s->update_limit - 18) / row) : 1;
    if (s->tile_h > TILE_W)
        s->tile_h = TILE_W;
    /* TS_CD_HEADER before each compressed bitmap unless the client said it reads none
     * (General capability set extraFlags, MS-RDPBCGR 2.2.7.1.1). */
    s->cd_header = !((ca->caps.present & WS_PDU_CAPSET_BIT(WS_PDU_CAPSET_GENERAL)) &&
                     (ca->caps.extra_flags & WS_PDU_NO_BITMAP_COMPRESSION_HDR));
    s->step = FINALIZE;
    rc = GO_ON;
done:
    free(ca);
    return rc;
}

static enum outcome on_font_list(sess *s, const uint8_t *p, size_t n, ws_error *e)
{
    ws_pdu_font fl;
    if (ws_pdu_decode_font_list(p, n, NULL, &fl, e) != 0)
        return END_ERROR;
    if (!s->got_sync || !s->got_cooperate || !s->got_request)
        return fail(e, "Font List PDU before the client's %s", !s->got_sync        ? "Synchronize PDU"
                                                             : !s->got_cooperate ? "Control PDU (Cooperate)"
                                                                                 : "Control PDU (Request Control)");
    ws_pdu_synchronize sync = {.message_type = WS_PDU_SYNCMSGTYPE_SYNC, .target_user = s->user_id};
    ws_pdu_control coop = {.action = WS_PDU_CTRLACTION_COOPERATE};
    ws_pdu_control granted = {.action = WS_PDU_CTRLACTION_GRANTED_CONTROL,
                              .grant_id = s->user_id,
                              .control_id = WS_PDU_SERVER_CHANNEL_ID};
    ws_pdu_font fm = {.flags = WS_PDU_FONTLIST_FIRST | WS_PDU_FONTLIST_LAST, .entry_size = 4};
    size_t m = ws_pdu_encode_synchronize(&s->share, &sync, s->pdu, OUT_MAX);
    if (send_io(s, s->pdu, m, "the Synchronize PDU", e) != 0)
        return END_ERROR;
    m = ws_pdu_encode_control(&s->share, &coop, s->pdu, OUT_MAX);
    if (send_io(s, s->pdu, m, "the Control PDU (Cooperate)", e) != 0)
        return END_ERROR;
    m = ws_pdu_encode_control(&s->share, &granted, s->pdu, OUT_MAX);
    if (send_io(s, s->pdu, m, "the Control PDU (Granted Control)", e) != 0)
        return END_ERROR;
    m = ws_pdu_encode_font_map(&s->share, &fm, s->pdu, OUT_MAX);
    if (send_io(s, s->pdu, m, "the Font Map PDU", e) != 0)
        return END_ERROR;
    s->step = ACTIVE;
    if (send_frame(s, 1, e) != 0)
        return END_ERROR;
    fprintf(stderr,
            "%s: %s: console session %lld to %s from %s is active: %dx%d, %s output in Planar tiles of %dx%d%s, %d "
            "static channel(s)\n",
            s->l->c->program, s->l->host, (long long)s->sid, s->l->vm_label, s->l->peer, screen_w, screen_h,
            s->fastpath_output ? "fast-path" : "slow-path", TILE_W, s->tile_h, s->cd_header ? " with TS_CD_HEADER" : "",
            s->nchannels - 2);
    return GO_ON;
}

/* One Share Control PDU (of a Send Data Request's userData on the I/O channel). */
static enum outcome on_share_pdu(sess *s, const uint8_t *p, size_t n, const ws_pdu_hdr *h, ws_error *e)
{
    if (h->pdu_type == WS_PDU_TYPE_CONFIRMACTIVE) {
        if (s->step != CONFIRM_ACTIVE)
            return fail(e, "a Confirm Active PDU during the %s (only one activation is run)", step_names[s->step]);
        return on_confirm_active(s, p, n, e);
    }
    if (h->pdu_type != WS_PDU_TYPE_DATA)
        return fail(e, "%s: a Share Control PDU of pduType 0x%X, which a client does not send", step_names[s->step],
                    h->pdu_type);
    if (s->step == CONFIRM_ACTIVE)
        return fail(e, "a data PDU (%s, pduType2 0x%02X) before the Confirm Active PDU",
                    ws_pdu_type2_name(h->pdu_type2), h->pdu_type2);
    if (h->share_id != s->share.share_id)
        return fail(e, "a data PDU (%s) with shareId 0x%08X, not the Demand Active's 0x%08X",
                    ws_pdu_type2_name(h->pdu_type2), h->share_id, s->share.share_id);
    switch (h->pdu_type2) {
    case WS_PDU2_SYNCHRONIZE: {
        ws_pdu_synchronize sync;
        if (ws_pdu_decode_synchronize(p, n, NULL, &sync, e) != 0)
            return END_ERROR;
        if (s->step != FINALIZE || s->got_sync)
            return fail(e, "a Synchronize PDU %s", s->step != FINALIZE ? "after the finalization" : "twice");
        s->got_sync = 1;
        return GO_ON;
    }
    case WS_PDU2_CONTROL: {
        ws_pdu_control c;
        if (ws_pdu_decode_control(p, n, NULL, &c, e) != 0)
            return END_ERROR;
        if (s->step != FINALIZE)
            return fail(e, "a Control PDU (action %u) after the finalization", c.action);
        if (c.action == WS_PDU_CTRLACTION_COOPERATE && s->got_sync && !s->got_cooperate) {
            s->got_cooperate = 1;
            return GO_ON;
        }
        if (c.action == WS_PDU_CTRLACTION_REQUEST_CONTROL && s->got_cooperate && !s->got_request) {
            s->got_request = 1;
            return GO_ON;
        }
        return fail(e, "a Control PDU with action %u out of order (Synchronize %s, Cooperate %s, Request %s)",
                    c.action, s->got_sync ? "seen" : "not seen", s->got_cooperate ? "seen" : "not seen",
                    s->got_request ? "seen" : "not seen");
    }
    case WS_PDU2_FONTLIST:
        if (s->step != FINALIZE)
            return fail(e, "a Font List PDU after the finalization");
        return on_font_list(s, p, n, e);
    case WS_PDU2_INPUT:
        return on_input(s, p, n, 0, e);
    case WS_PDU2_REFRESH_RECT: {
        ws_pdu_refresh_rect *rr = zalloc(sizeof *rr);
        int rc = ws_pdu_decode_refresh_rect(p, n, NULL, rr, e);
        free(rr);
        if (rc != 0)
            return END_ERROR;
        if (s->step == ACTIVE && send_frame(s, 1, e) != 0)
            return END_ERROR;
        return GO_ON;
    }
    case WS_PDU2_SUPPRESS_OUTPUT: {
        ws_pdu_suppress_output so;
        return ws_pdu_decode_suppress_output(p, n, NULL, &so, e) == 0 ? GO_ON : END_ERROR;
    }
    case WS_PDU2_SHUTDOWN_REQUEST:
        if (ws_pdu_decode_shutdown_request(p, n, NULL, e) != 0)
            return END_ERROR;
        /* The console stays with the VM: the client may go. */
        if (send_ultimatum(s, e) != 0)
            return END_ERROR;
        snprintf(s->end_reason, sizeof s->end_reason, "the client asked to disconnect (Shutdown Request)");
        return END_CLEAN;
    case WS_PDU2_BITMAPCACHE_PERSISTENT_LIST:
    case WS_PDU2_BITMAPCACHE_ERROR_PDU:
    case WS_PDU2_OFFSCRCACHE_ERROR_PDU:
    case WS_PDU2_DRAWNINEGRID_ERROR_PDU:
    case WS_PDU2_DRAWGDIPLUS_ERROR_PDU:
    case WS_PDU2_FRAME_ACKNOWLEDGE:
        return GO_ON; /* about caches and codecs this host never uses */
    default:
        return fail(e, "a data PDU of pduType2 0x%02X (%s), which a client does not send", h->pdu_type2,
                    ws_pdu_type2_name(h->pdu_type2));
    }
}

/* A Send Data Request after the channel joins. */
static enum outcome on_send_data(sess *s, const uint8_t *p, size_t n, ws_error *e)
{
    ws_mcs_send_data sd;
    if (ws_mcs_send_data_decode(WS_MCS_SEND_DATA_REQUEST, p, n, &sd, e) != 0)
        return END_ERROR;
    if (sd.initiator != s->user_id)
        return fail(e, "Send Data Request: initiator %u, not the user id %u", sd.initiator, s->user_id);
    int ch = channel_index(s, sd.channel_id);
    if (ch < 0 || ch == 0)
        return fail(e, "Send Data Request: channel %u, which the client did not join", sd.channel_id);
    if (ch >= 2) {
        if (s->step == CLIENT_INFO)
            return fail(e, "data on the static channel %u (%s) before the Client Info PDU", sd.channel_id,
                        s->channel_names[ch]);
        return GO_ON; /* a static channel nobody serves on a console (the client's plug-ins wait for the server) */
    }
    if (s->step == CLIENT_INFO)
        return on_client_info(s, sd.data, sd.len, e);
    /* Share Control PDUs, possibly several in one userData. */
    size_t off = 0;
    while (off < sd.len) {
        ws_pdu_hdr h;
        if (ws_pdu_peek(sd.data + off, sd.len - off, &h, e) != 0)
            return END_ERROR;
        enum outcome rc = on_share_pdu(s, sd.data + off, h.total_length, &h, e);
        if (rc != GO_ON)
            return rc;
        off += h.total_length;
    }
    return GO_ON;
}

static enum outcome on_tpkt(sess *s, const uint8_t *tpkt, size_t len, ws_error *e)
{
    const uint8_t *p;
    size_t n;
    if (ws_x224_data_decode(tpkt, len, &p, &n, e) != 0)
        return END_ERROR;
    if (s->step == CONNECT_INITIAL)
        return on_connect_initial(s, p, n, e);
    int type = ws_mcs_domain_pdu_type(p, n);
    if (type == WS_MCS_DISCONNECT_PROVIDER_ULTIMATUM) {
        uint8_t reason;
        if (ws_mcs_disconnect_ultimatum_decode(p, n, &reason, e) != 0)
            return END_ERROR;
        snprintf(s->end_reason, sizeof s->end_reason, "the client disconnected (Disconnect Provider Ultimatum, %s)",
                 reason == WS_MCS_REASON_USER_REQUESTED ? "user requested" : "provider initiated");
        return END_CLEAN;
    }
    switch (s->step) {
    case ERECT: {
        ws_mcs_erect_domain ed;
        if (type != WS_MCS_ERECT_DOMAIN_REQUEST)
            break;
        if (ws_mcs_erect_domain_decode(p, n, &ed, e) != 0)
            return END_ERROR;
        s->step = ATTACH;
        return GO_ON;
    }
    case ATTACH: {
        if (type != WS_MCS_ATTACH_USER_REQUEST)
            break;
        if (ws_mcs_attach_user_request_decode(p, n, e) != 0)
            return END_ERROR;
        ws_mcs_attach_user_confirm auc = {.result = WS_MCS_RESULT_SUCCESSFUL, .has_initiator = 1,
                                          .initiator = s->user_id};
        uint8_t mcs[16];
        size_t m = ws_mcs_attach_user_confirm_encode(&auc, mcs, sizeof mcs);
        if (!m)
            return fail(e, "cannot encode the Attach User Confirm");
        if (send_domain(s, mcs, m, "the Attach User Confirm", e) != 0)
            return END_ERROR;
        s->step = JOIN;
        return GO_ON;
    }
    case JOIN: {
        ws_mcs_channel_join_request jr;
        if (type != WS_MCS_CHANNEL_JOIN_REQUEST)
            break;
        if (ws_mcs_channel_join_request_decode(p, n, &jr, e) != 0)
            return END_ERROR;
        if (jr.initiator != s->user_id)
            return fail(e, "Channel Join Request: initiator %u, not the user id %u", jr.initiator, s->user_id);
        int ch = channel_index(s, jr.channel_id);
        if (ch < 0)
            return fail(e, "Channel Join Request for channel %u, which is neither the user channel, the I/O channel "
                           "nor a static channel of the Connect-Response",
                        jr.channel_id);
        if (s->joined[ch])
            return fail(e, "Channel Join Request for channel %u (%s) twice", jr.channel_id, s->channel_names[ch]);
        s->joined[ch] = 1;
        ws_mcs_channel_join_confirm jc = {.result = WS_MCS_RESULT_SUCCESSFUL,
                                          .initiator = s->user_id,
                                          .requested = jr.channel_id,
                                          .has_channel_id = 1,
                                          .channel_id = jr.channel_id};
        uint8_t mcs[16];
        size_t m = ws_mcs_channel_join_confirm_encode(&jc, mcs, sizeof mcs);
        if (!m)
            return fail(e, "cannot encode the Channel Join Confirm");
        if (send_domain(s, mcs, m, "a Channel Join Confirm", e) != 0)
            return END_ERROR;
        if (all_joined(s))
            s->step = CLIENT_INFO;
        return GO_ON;
    }
    default:
        if (type != WS_MCS_SEND_DATA_REQUEST)
            break;
        return on_send_data(s, p, n, e);
    }
    if (s->step == JOIN && type == WS_MCS_SEND_DATA_REQUEST) {
        for (int i = 0; i < s->nchannels; i++)
            if (!s->joined[i])
                return fail(e, "a Send Data Request before the client joined channel %u (%s)", s->channels[i],
                            s->channel_names[i]);
    }
    if (s->step == ACTIVE)
        return fail(e, "an MCS %s (type %d) in an active session", ws_mcs_domain_pdu_name(type), type);
    return fail(e, "expected the %s, got an MCS %s (type %d)", step_names[s->step], ws_mcs_domain_pdu_name(type),
                type);
}

static enum outcome on_fastpath(sess *s, const uint8_t *p, size_t len, ws_error *e)
{
    if (s->step != FINALIZE && s->step != ACTIVE)
        return fail(e, "a fast-path PDU during the %s (fast-path input is for an activated session)",
                    step_names[s->step]);
    return on_input(s, p, len, 1, e);
}

/* ---- one session --------------------------------------------------------------------- */

int host_console_init(const host_font *font, ws_error *e)
{
    int w = SCREEN_COLS * font->width, h = SCREEN_ROWS * font->height;
    if (font->width <= 0 || font->height <= 0 || w > WS_PDU_BITMAP_DIM_MAX || h > WS_PDU_BITMAP_DIM_MAX ||
        (size_t)w * 4 + BITMAP_PDU_OVERHEAD > SLOWPATH_USERDATA_MAX)
        return ws_seterr(e, "a console font of %dx%d pixels makes a screen of %dx%d, too large for this host",
                         font->width, font->height, w, h);
    console_font = font;
    screen_w = w;
    screen_h = h;
    return 0;
}

static void finish(sess *s, enum outcome how, const ws_error *e)
{
    const char *vm = s->l->vm_label;
    char reason[700];
    const char *state = "ended";
    ws_error ignored;
    console_release(s);
    switch (how) {
    case END_CLEAN:
        snprintf(reason, sizeof reason, "%s", s->end_reason[0] ? s->end_reason : "the client left");
        break;
    case END_TAKEN: {
        char taker[sizeof s->taker];
        pthread_mutex_lock(&table_lock);
        snprintf(taker, sizeof taker, "%s", s->taker);
        pthread_mutex_unlock(&table_lock);
        snprintf(reason, sizeof reason, "another console connection to %s took over (%s)",
                 s->l->vm_name ? s->l->vm_name : s->l->vm_id, taker);
        state = "taken-over";
        if (send_error_info(s, WS_PDU_ERRINFO_DISCONNECTED_BY_OTHERCONNECTION, &ignored) == 0)
            send_ultimatum(s, &ignored);
        break;
    }
    case END_STOP:
        snprintf(reason, sizeof reason, "the host's console service stopped");
        send_ultimatum(s, &ignored);
        break;
    case END_ERROR:
        snprintf(reason, sizeof reason, "%s", e->msg);
        break;
    default:
        reason[0] = '\0';
        break;
    }
    polite_close(s);
    if (how == END_REFUSED)
        return;
    if (how == END_ERROR) {
        say(s, s->tls_failed ? WS_EV_HYPERV_14164_SESSION_CLOSED : WS_EV_HYPERV_14163_CLOSED, vm, s->l->peer, reason,
            s->l->pcb);
    } else if (s->sid && s->step > CLIENT_INFO) {
        say(s, WS_EV_HYPERV_14167, (long long)s->sid, vm, s->l->peer, reason, s->frames);
    } else if (s->sid) {
        say(s, WS_EV_HYPERV_14167_BEFORE_SESSION, (long long)s->sid, vm, s->l->peer, reason, step_names[s->step]);
    } else {
        say(s, WS_EV_HYPERV_14167_BEFORE_CLIENT_INFO, vm, s->l->peer, reason, step_names[s->step], s->l->pcb);
    }
    if (s->sid) {
        char row[760];
        if (how == END_ERROR)
            snprintf(row, sizeof row, "closed: %s", reason);
        else if (s->step <= CLIENT_INFO)
            snprintf(row, sizeof row, "%s, before the RDP session started (at the %s)", reason,
                     step_names[s->step]);
        else
            snprintf(row, sizeof row, "%s", reason);
        session_end(s, state, row);
    }
}

void host_console_run(const host_console_link *l)
{
    sess *s = zalloc(sizeof *s);
    s->l = l;
    s->slot = -1;
    s->wake_fd = -1;
    s->step = CONNECT_INITIAL;
    s->share.pdu_source = WS_PDU_SERVER_CHANNEL_ID;
    atomic_init(&s->taken, 0);
    ws_error e = {{0}};
    enum outcome how = END_ERROR;

    s->in = malloc(IN_MAX);
    s->out = malloc(OUT_MAX);
    s->pdu = malloc(OUT_MAX);
    s->upd = calloc(1, sizeof *s->upd);
    s->bits = malloc(WS_PDU_FASTPATH_MAX + SLOWPATH_USERDATA_MAX);
    s->tile = malloc((size_t)TILE_W * TILE_W * 4);
    s->planar = malloc(PLANAR_MAX);
    if (!s->in || !s->out || !s->pdu || !s->upd || !s->bits || !s->tile || !s->planar)
        abort();
    if (l->tenant)
        session_insert(s, "authenticated");
    if (!console_font) {
        ws_seterr(&e, "the console font is not loaded");
        goto end;
    }
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd < 0) {
        ws_seterr(&e, "cannot create an eventfd: %s", strerror(errno));
        goto end;
    }
    int fl = fcntl(l->fd, F_GETFL);
    if (fl < 0 || fcntl(l->fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        ws_seterr(&e, "cannot make the socket non-blocking: %s", strerror(errno));
        goto end;
    }
    if (l->pending_len > IN_MAX)
        abort(); /* rdp.c keeps less */
    memcpy(s->in, l->pending, l->pending_len);
    s->in_len = l->pending_len;
    s->deadline_ms = now_ms() + SEQUENCE_BUDGET_MS;
    s->last_rx_ms = now_ms();

    for (;;) {
        size_t len = 0;
        int fastpath = 0;
        how = next_pdu(s, &len, &fastpath, &e);
        if (how != GO_ON)
            break;
        if (fastpath)
            how = on_fastpath(s, s->in, len, &e);
        else
            how = on_tpkt(s, s->in, len, &e);
        if (how != GO_ON)
            break;
        consume(s, len);
    }
end:
    finish(s, how, &e);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    ws_framebuffer_free(&s->frame);
    ws_framebuffer_free(&s->sent);
    free(s->in);
    free(s->out);
    free(s->pdu);
    free(s->upd);
    free(s->bits);
    free(s->tile);
    free(s->planar);
    free(s);
}
