/* SPDX-License-Identifier: Apache-2.0 */
/* wapsim-balancer: a load balancer in front of the RD Gateways (lb01) [model: a layer-4
 * appliance's virtual server, README "Load balancer"].
 *
 * It reads its configuration when it starts (lab/balancer.h: members, mode, affinity,
 * reencrypt; its SSL certificate in tls-offload mode) and listens on its own address,
 * port 8443. Each connection goes to a member chosen by pick.c; a member that refuses
 * or does not answer the connect in LB_CONNECT_TIMEOUT_MS is skipped (the next member
 * is tried) and marked down for LB_MEMBER_DOWN_MS (event 110; 111 when it answers
 * again). tcp mode forwards the bytes unchanged; tls-offload ends the client's TLS here
 * and opens a new connection to the member, plain or TLS (offload.c). Connections leave
 * from the balancer's own address [model: SNAT, an appliance's usual one-arm setup], so
 * a member sees lb01 as its client. It talks to its members over the wire only.
 *
 * One epoll loop, one thread: an idle connection costs two sockets and no buffer
 * (relay.c); limits per source and in total refuse a connection with event 120
 * (rate-limited); run/<machine>.counters holds the counters for `wapsim status`. */
#include "balancer.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/net.h"
#include "lab/events.h"
#include "svc/component.h"
#include "svc/machine_tls.h"

#define SWEEP_MS 250           /* deadlines are checked this often */
#define COUNTERS_MS 1000       /* run/<machine>.counters is written at most this often */
#define EVENT_EVERY_MS 5000    /* a refusal event (120, 121) at most this often: a flood must not fill the log */
#define SOURCE_BUCKETS 4096

typedef struct member {
    char name[64], address[64], fqdn[256];
    int port;
    int down;              /* marked down (event 110 written), until a connect succeeds */
    int64_t down_until_ms; /* not tried before this unless every member is down */
    long long total, active;
} member;

typedef struct source_count {
    uint32_t key; /* IPv4 address */
    int n;
    struct source_count *next;
} source_count;

static ws_component lb;
static ws_lb_config cfg;
static member members[WS_LB_MAX_MEMBERS];
static int epfd = -1, listen_fd = -1, spare_fd = -1, overloaded;
static int listener_kind = LB_KIND_LISTENER;
static SSL_CTX *server_ctx, *client_ctx;
static lb_conn *conns, *buried;
static long long total, active, refused;
static int max_total, max_per_source;
static unsigned rr;
static source_count *sources[SOURCE_BUCKETS];
static int64_t last_limit_event, last_nomember_event;
static int counters_dirty = 1;

static int64_t now_ms(void)
{
    return ws_mono_ms();
}

/* ---- per-source counts ---- */

static source_count **source_slot(uint32_t key)
{
    source_count **p = &sources[(key * 2654435761u) % SOURCE_BUCKETS];
    while (*p && (*p)->key != key)
        p = &(*p)->next;
    return p;
}

static int source_get(uint32_t key)
{
    source_count **p = source_slot(key);
    return *p ? (*p)->n : 0;
}

static void source_add(uint32_t key, int d)
{
    source_count **p = source_slot(key);
    if (!*p) {
        if (d <= 0 || !(*p = calloc(1, sizeof **p)))
            return;
        (*p)->key = key;
    }
    (*p)->n += d;
    if ((*p)->n <= 0) {
        source_count *dead = *p;
        *p = dead->next;
        free(dead);
    }
}

/* ---- epoll ---- */

static void watch(lb_side *s, uint32_t events)
{
    if (s->fd < 0 || (s->watched && s->events == events))
        return;
    struct epoll_event ev = {.events = events, .data.ptr = s};
    if (epoll_ctl(epfd, s->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, &ev) == 0) {
        s->watched = 1;
        s->events = events;
    }
}

static void unwatch(lb_side *s)
{
    if (s->watched && s->fd >= 0)
        epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
    s->watched = 0;
}

/* ---- members ---- */

/* A member's state is written at once, not at the next counters' turn: `wapsim status`
 * must not show a member up for a second after the balancer stopped sending to it. */
static void write_counters(void);

static void member_failed(int i, const char *why)
{
    member *m = &members[i];
    m->down_until_ms = now_ms() + LB_MEMBER_DOWN_MS;
    if (m->down)
        return;
    m->down = 1;
    write_counters();
    fprintf(stderr, "wapsim-balancer: member %s (%s:%d) down: %s\n", m->name, m->address, m->port, why);
    ws_event_write(lb.st, lb.machine.name, WS_EV_LB_110, m->name, m->address, m->port, why, LB_MEMBER_DOWN_MS / 1000);
}

static void member_ok(int i)
{
    member *m = &members[i];
    m->down_until_ms = 0;
    if (!m->down)
        return;
    m->down = 0;
    write_counters();
    fprintf(stderr, "wapsim-balancer: member %s (%s:%d) up\n", m->name, m->address, m->port);
    ws_event_write(lb.st, lb.machine.name, WS_EV_LB_111, m->name, m->address, m->port);
}

/* ---- connections ---- */

static void conn_close(lb_conn *c, const char *why)
{
    if (c->dead)
        return;
    if (why)
        fprintf(stderr, "wapsim-balancer: closing %s%s%s: %s\n", c->peer, c->idx >= 0 ? " via " : "",
                c->idx >= 0 ? members[c->idx].name : "", why);
    unwatch(&c->client);
    unwatch(&c->member);
    lb_side_close(&c->client);
    lb_side_close(&c->member);
    if (c->idx >= 0 && c->state == LB_ST_RELAY)
        members[c->idx].active--;
    source_add(c->peer_key, -1);
    active--;
    counters_dirty = 1;
    c->dead = 1;
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = buried;
    buried = c;
}

static void bury(void)
{
    while (buried) {
        lb_conn *c = buried;
        buried = c->next;
        free(c);
    }
}

/* What each side waits for now. A side that waits for nothing leaves the set: epoll
 * reports a hang-up even for no events (a side shut both ways, or whose peer's buffer is
 * full), which would wake the loop for ever; the other side's next event brings it back. */
static void relay_interest(lb_conn *c)
{
    lb_side *sides[2] = {&c->client, &c->member};
    for (int i = 0; i < 2; i++) {
        uint32_t want = sides[i]->rd_eof && sides[i]->wr_shut ? 0 : lb_side_interest(sides[i], sides[1 - i]);
        if (want)
            watch(sides[i], want);
        else
            unwatch(sides[i]);
    }
}

/* The relay begins: the member is counted, both sides are watched. */
static void start_relay(lb_conn *c)
{
    c->state = LB_ST_RELAY;
    c->active_ms = now_ms();
    members[c->idx].total++;
    members[c->idx].active++;
    counters_dirty = 1;
    if (lb_relay(c) < 0)
        conn_close(c, NULL);
    else
        relay_interest(c);
}

static void member_connected(lb_conn *c);

/* Try the next member for c: connect from the balancer's address, without waiting. */
static void try_member(lb_conn *c)
{
    char last[256] = "no member configured";
    for (;;) {
        int usable[WS_LB_MAX_MEMBERS];
        int64_t now = now_ms();
        for (int i = 0; i < cfg.n_members; i++)
            usable[i] = now >= members[i].down_until_ms;
        int i = lb_pick(cfg.n_members, usable, c->tried, cfg.affinity, c->hash, &rr);
        if (i < 0)
            break;
        c->tried |= 1u << i;
        ws_error e;
        int fd = ws_tcp_connect_from(lb.machine.address, members[i].address, members[i].port, 0,
                                     WS_TCP_NONBLOCK | WS_TCP_NODELAY, &e);
        if (fd < 0) {
            snprintf(last, sizeof last, "%s: %s", members[i].name, e.msg);
            member_failed(i, e.msg);
            continue;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        c->idx = i;
        c->member.fd = fd;
        c->state = LB_ST_CONNECTING;
        c->phase_ms = now;
        /* A member on the same network often answers before the connect call returns:
         * no round through epoll then (one wakeup less per connection). */
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, 0) == 1) {
            member_connected(c);
            return;
        }
        watch(&c->member, EPOLLOUT);
        return;
    }
    c->idx = -1;
    int64_t now = now_ms();
    if (now - last_nomember_event >= EVENT_EVERY_MS) {
        last_nomember_event = now;
        ws_event_write(lb.st, lb.machine.name, WS_EV_LB_121, c->peer, last);
    }
    conn_close(c, "no member is available");
}

/* The member's connect finished (writable) or failed. */
static void member_connected(lb_conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->member.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err) {
        member_failed(c->idx, strerror(err));
        unwatch(&c->member);
        lb_side_close(&c->member);
        try_member(c);
        return;
    }
    member_ok(c->idx);
    if (cfg.mode == WS_LB_MODE_TLS_OFFLOAD && cfg.reencrypt) {
        c->member.ssl = SSL_new(client_ctx);
        if (!c->member.ssl) {
            conn_close(c, "out of memory");
            return;
        }
        SSL_set_fd(c->member.ssl, c->member.fd);
        SSL_set_tlsext_host_name(c->member.ssl, members[c->idx].fqdn);
        SSL_set_connect_state(c->member.ssl);
        c->state = LB_ST_MEMBER_TLS;
        c->phase_ms = now_ms();
        char why[256];
        int r = lb_tls_step(&c->member, 0, why, sizeof why);
        if (r < 0)
            conn_close(c, why);
        else if (r > 0)
            start_relay(c);
        else
            watch(&c->member, c->member.tls_want);
        return;
    }
    start_relay(c);
}

/* One epoll event on a side of c. */
static void on_event(lb_side *s, uint32_t events)
{
    lb_conn *c = s->conn;
    if (c->dead)
        return;
    char why[256];
    switch (c->state) {
    case LB_ST_CLIENT_TLS: {
        int r = s->kind == LB_KIND_CLIENT ? lb_tls_step(&c->client, 1, why, sizeof why) : 0;
        if (r < 0)
            conn_close(c, r == -1 ? why : NULL);
        else if (r > 0) {
            watch(&c->client, 0);
            try_member(c);
        } else
            watch(&c->client, c->client.tls_want);
        return;
    }
    case LB_ST_CONNECTING:
        if (s->kind == LB_KIND_MEMBER)
            member_connected(c);
        else if (events & (EPOLLERR | EPOLLHUP))
            conn_close(c, "the client went away before the member answered");
        return;
    case LB_ST_MEMBER_TLS:
        if (s->kind == LB_KIND_MEMBER) {
            int r = lb_tls_step(&c->member, 0, why, sizeof why);
            if (r < 0)
                conn_close(c, why);
            else if (r > 0)
                start_relay(c);
            else
                watch(&c->member, c->member.tls_want);
        } else if (events & (EPOLLERR | EPOLLHUP))
            conn_close(c, "the client went away during the TLS handshake with the member");
        return;
    default:
        break;
    }
    int r = lb_relay(c);
    if (r < 0) {
        conn_close(c, NULL);
        return;
    }
    if (r > 0)
        c->active_ms = now_ms();
    else if (events & EPOLLERR) {
        conn_close(c, s->kind == LB_KIND_MEMBER ? "the member's connection failed" : "the client's connection failed");
        return;
    }
    relay_interest(c);
}

/* ---- accepting ---- */

static void refuse(int fd, const char *peer, const char *which, int limit)
{
    close(fd);
    refused++;
    counters_dirty = 1;
    int64_t now = now_ms();
    if (now - last_limit_event >= EVENT_EVERY_MS) {
        last_limit_event = now;
        fprintf(stderr, "wapsim-balancer: refused %s: %s (limit %d)\n", peer, which, limit);
        ws_event_write(lb.st, lb.machine.name, WS_EV_LB_120, peer, which, limit);
    }
}

static void set_overloaded(int on, const char *why)
{
    if (on == overloaded)
        return;
    overloaded = on;
    fprintf(stderr, on ? "wapsim-balancer: cannot accept connections: %s\n" : "wapsim-balancer: accepting again%s\n",
            on ? why : "");
    ws_component_overloaded(&lb, on, why);
}

/* Out of descriptors: the spare is given up to take one pending connection off the
 * backlog and close it, so the ready listener does not spin. */
static void shed_one(int err)
{
    if (spare_fd >= 0)
        close(spare_fd);
    set_overloaded(1, strerror(err));
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        close(fd);
    refused++;
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static lb_conn *conn_new(int fd, const struct sockaddr_in *sa)
{
    lb_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->client = (lb_side){.kind = LB_KIND_CLIENT, .conn = c, .fd = fd};
    c->member = (lb_side){.kind = LB_KIND_MEMBER, .conn = c, .fd = -1};
    c->idx = -1;
    inet_ntop(AF_INET, &sa->sin_addr, c->peer, sizeof c->peer);
    c->peer_key = sa->sin_addr.s_addr;
    c->hash = lb_source_hash(c->peer);
    c->opened_ms = c->phase_ms = c->active_ms = now_ms();
    c->next = conns;
    if (conns)
        conns->prev = c;
    conns = c;
    source_add(c->peer_key, 1);
    total++;
    active++;
    counters_dirty = 1;
    return c;
}

static void accept_all(void)
{
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(listen_fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                shed_one(errno);
            return;
        }
        char peer[64];
        inet_ntop(AF_INET, &sa.sin_addr, peer, sizeof peer);
        if (active >= max_total) {
            refuse(fd, peer, "connections in all", max_total);
            continue;
        }
        if (source_get(sa.sin_addr.s_addr) >= max_per_source) {
            refuse(fd, peer, "connections from one address", max_per_source);
            continue;
        }
        lb_conn *c = conn_new(fd, &sa);
        if (!c) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (cfg.mode == WS_LB_MODE_TLS_OFFLOAD) {
            c->client.ssl = SSL_new(server_ctx);
            if (!c->client.ssl) {
                conn_close(c, "out of memory");
                continue;
            }
            SSL_set_fd(c->client.ssl, fd);
            SSL_set_accept_state(c->client.ssl);
            c->state = LB_ST_CLIENT_TLS;
            watch(&c->client, EPOLLIN);
            continue;
        }
        watch(&c->client, 0); /* hang-ups only, until the member answers */
        try_member(c);
    }
}

/* ---- deadlines, counters ---- */

static void sweep(void)
{
    int64_t now = now_ms();
    for (lb_conn *c = conns, *next; c; c = next) {
        next = c->next;
        int64_t age = now - c->phase_ms;
        if (c->state == LB_ST_CLIENT_TLS && age > LB_TLS_TIMEOUT_MS)
            conn_close(c, "no TLS handshake within the deadline");
        else if (c->state == LB_ST_MEMBER_TLS && age > LB_TLS_TIMEOUT_MS)
            conn_close(c, "the member did not finish the TLS handshake within the deadline");
        else if (c->state == LB_ST_CONNECTING && age > LB_CONNECT_TIMEOUT_MS) {
            char why[96];
            snprintf(why, sizeof why, "no answer to the connect within %d ms", LB_CONNECT_TIMEOUT_MS);
            member_failed(c->idx, why);
            unwatch(&c->member);
            lb_side_close(&c->member);
            try_member(c);
        } else if (c->state == LB_ST_RELAY && now - c->active_ms > LB_IDLE_TIMEOUT_MS)
            conn_close(c, "idle timeout");
    }
    if (overloaded && spare_fd >= 0) {
        int probe = dup(spare_fd);
        if (probe >= 0) {
            close(probe);
            set_overloaded(0, NULL);
        }
    } else if (spare_fd < 0)
        spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void write_counters(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "connections_total", (double)total);
    cJSON_AddNumberToObject(o, "connections_active", (double)active);
    cJSON_AddNumberToObject(o, "refused", (double)refused);
    cJSON *arr = cJSON_AddArrayToObject(o, "members");
    char summary[1024];
    size_t len = (size_t)snprintf(summary, sizeof summary, "connections %lld total, %lld active, %lld refused",
                                  total, active, refused);
    for (int i = 0; i < cfg.n_members; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "name", members[i].name);
        cJSON_AddBoolToObject(m, "up", !members[i].down);
        cJSON_AddNumberToObject(m, "connections_total", (double)members[i].total);
        cJSON_AddNumberToObject(m, "connections_active", (double)members[i].active);
        cJSON_AddItemToArray(arr, m);
        if (len < sizeof summary)
            len += (size_t)snprintf(summary + len, sizeof summary - len, "; %s %s %lld/%lld", members[i].name,
                                    members[i].down ? "down" : "up", members[i].active, members[i].total);
    }
    cJSON_AddStringToObject(o, "summary", summary);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/run/%s.counters", lb.lab_dir, lb.machine.name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (text && ws_write_file(tmp, text, strlen(text), 0600, NULL) == 0 && rename(tmp, path) != 0)
        unlink(tmp);
    free(text);
    counters_dirty = 0;
}

/* ---- start ---- */

/* Every descriptor the hard limit allows: two per connection. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    long fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (long)rl.rlim_cur : 1024;
    max_total = (int)((fds - 64) / 2 < LB_MAX_TOTAL ? (fds - 64) / 2 : LB_MAX_TOTAL);
    if (max_total < 16)
        max_total = 16;
    max_per_source = LB_MAX_PER_SOURCE < max_total / 2 ? LB_MAX_PER_SOURCE : max_total / 2;
}

static void load_config(void)
{
    ws_error e;
    if (ws_lb_config_load(lb.st, lb.machine.name, &cfg, &e) != 0)
        ws_component_fail(&lb, "%s", e.msg);
    for (int i = 0; i < cfg.n_members; i++) {
        ws_machine m;
        if (ws_machine_get(lb.st, cfg.members[i], &m, &e) != 0)
            ws_component_fail(&lb, "pool member %s: %s", cfg.members[i], e.msg);
        snprintf(members[i].name, sizeof members[i].name, "%s", m.name);
        snprintf(members[i].address, sizeof members[i].address, "%s", m.address);
        snprintf(members[i].fqdn, sizeof members[i].fqdn, "%s", m.fqdn);
        members[i].port = m.port;
    }
    if (cfg.mode != WS_LB_MODE_TLS_OFFLOAD)
        return;
    if (!cfg.cert[0])
        ws_component_fail(&lb, "tls-offload: no SSL certificate is set");
    server_ctx = ws_tls_server_ctx(lb.st, lb.machine.name, cfg.cert, &e);
    if (!server_ctx)
        ws_component_fail(&lb, "tls-offload: cannot use the SSL certificate: %s", e.msg);
    /* A peer that closes TCP without close_notify (common) ends its stream: what it sent
     * before is passed on, not dropped as an error. */
    SSL_CTX_set_options(server_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(server_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                     SSL_MODE_RELEASE_BUFFERS);
    if (cfg.reencrypt) {
        client_ctx = SSL_CTX_new(TLS_client_method());
        if (!client_ctx)
            ws_component_fail(&lb, "tls-offload: cannot make a TLS client context");
        SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL); /* [model] offload.c */
        SSL_CTX_set_options(client_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
        SSL_CTX_set_mode(client_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                         SSL_MODE_RELEASE_BUFFERS);
    }
}

int main(int argc, char **argv)
{
    ws_component_init(&lb, "wapsim-balancer", "balancer", "A load balancer in front of the RD Gateways [model].",
                      argc, argv);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    load_config();
    ws_error e;
    listen_fd = ws_tcp_listen(lb.machine.address, lb.machine.port, 4096, &e);
    if (listen_fd < 0)
        ws_component_fail(&lb, "%s", e.msg);
    fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ws_component_overloaded(&lb, 0, NULL);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listener_kind};
    epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &lev);
    char text[1024], detail[1200];
    ws_lb_config_text(&cfg, text, sizeof text);
    snprintf(detail, sizeof detail, "%s; up to %d connections", text, max_total);
    ws_component_running(&lb, detail);
    ws_event_write(lb.st, lb.machine.name, WS_EV_LB_100, lb.machine.public_fqdn[0] ? lb.machine.public_fqdn : "-",
                   lb.machine.address, lb.machine.port, text);

    struct epoll_event evs[256];
    int64_t last_sweep = now_ms(), last_counters = 0;
    while (!ws_component_stop) {
        int n = epoll_wait(epfd, evs, 256, SWEEP_MS);
        for (int i = 0; i < n; i++) {
            int kind = *(int *)evs[i].data.ptr;
            if (kind == LB_KIND_LISTENER)
                accept_all();
            else
                on_event(evs[i].data.ptr, evs[i].events);
        }
        bury();
        int64_t now = now_ms();
        if (now - last_sweep >= SWEEP_MS) {
            sweep();
            bury();
            last_sweep = now;
        }
        if (counters_dirty && now - last_counters >= COUNTERS_MS) {
            write_counters();
            last_counters = now;
        }
    }
    while (conns)
        conn_close(conns, NULL);
    bury();
    write_counters();
    close(listen_fd);
    SSL_CTX_free(server_ctx);
    SSL_CTX_free(client_ctx);
    ws_component_close(&lb);
    return 0;
}
