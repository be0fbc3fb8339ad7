/* SPDX-License-Identifier: Apache-2.0 */
/* machine_tls: see machine_tls.h. */
#include "svc/machine_tls.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "crypto/tls.h"
#include "lab/clock.h"
#include "lab/store.h"
#include "lab/vault.h"

/* ---- the lab clock at each verification ----------------------------------------------
 * A cached client context serves many connections while the lab clock moves (`wapsim
 * clock`), so the time a peer is verified at cannot be fixed in the context. Each
 * context carries its machine's clock shift (lab offset plus machine skew, in seconds,
 * what the clock adds to wall time); each verification reads the wall clock and adds it.
 * ws_tls_client_ctx refreshes the shift from the state file before handing the context
 * out, so a clock step is seen by the next connection. */

typedef struct lab_clock {
    _Atomic int64_t shift_s; /* seconds the machine's lab clock is ahead of wall time */
} lab_clock;

static int clock_index = -1;
static pthread_once_t clock_once = PTHREAD_ONCE_INIT;

static void clock_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

static void clock_index_new(void)
{
    clock_index = SSL_CTX_get_ex_new_index(0, "ws_lab_clock", NULL, NULL, clock_free);
}

/* The shift that makes wall time the machine's lab clock (lab/clock.c: wall plus whole
 * seconds of offset and skew): the difference of two readings, rounded to seconds. */
static int64_t clock_shift(ws_state *st, const char *machine)
{
    int64_t lab_ms = ws_clock_now_ms(st, machine), d = lab_ms - ws_wall_ms();
    return (d >= 0 ? d + 500 : d - 500) / 1000;
}

/* The machine's lab time now, from its shift (as lab/clock.c rounds). */
static int64_t lab_now(int64_t shift_s)
{
    int64_t ms = ws_wall_ms() + shift_s * 1000;
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

/* libssl's certificate verification for a context with a lab clock: X509_verify_cert at
 * the machine's lab time now. The SSL's own verify callback (ws_tls_record_peer) is
 * already set on x by libssl. */
static int verify_on_lab_clock(X509_STORE_CTX *x, void *arg)
{
    const lab_clock *c = arg;
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(x), (time_t)lab_now(atomic_load(&c->shift_s)));
    return X509_verify_cert(x);
}

static int clock_attach(SSL_CTX *ctx, int64_t shift_s, ws_error *e)
{
    pthread_once(&clock_once, clock_index_new);
    lab_clock *c = calloc(1, sizeof *c);
    if (!c || clock_index < 0 || SSL_CTX_set_ex_data(ctx, clock_index, c) != 1) {
        free(c);
        return ws_seterr(e, "cannot attach the lab clock to a TLS context");
    }
    atomic_store(&c->shift_s, shift_s);
    SSL_CTX_set_cert_verify_callback(ctx, verify_on_lab_clock, c);
    return 0;
}

static void clock_set(SSL_CTX *ctx, int64_t shift_s)
{
    lab_clock *c = SSL_CTX_get_ex_data(ctx, clock_index);
    if (c)
        atomic_store(&c->shift_s, shift_s);
}

/* ---- one Root store and one client context per machine's stores, per process ---------
 * Building trust means reading the machine's Root store from the state file and parsing
 * each certificate: too dear for every connection (README "Benchmarks"). A slot keeps
 * what was built for (state file, machine) at one value of the stores' change counter
 * (lab/store.h ws_store_generation); any change to the stores changes the value, and
 * the next caller builds again, so a client trusts what its Root store holds now. */

#define TRUST_SLOTS 16 /* machines a process keeps trust for; the least recently used goes */

typedef struct trust_slot {
    char *db;           /* the state file's path; NULL: a free slot */
    char machine[64];   /* the machine whose Root store this is */
    int64_t generation; /* ws_store_generation when built */
    X509_STORE *store;  /* its Root store's certificates (a reference held here) */
    SSL_CTX *client;    /* a client context trusting store (a reference held here), or NULL */
    uint64_t used;      /* the cache's tick at the last use */
} trust_slot;

static pthread_mutex_t trust_lock = PTHREAD_MUTEX_INITIALIZER;
static trust_slot trust_slots[TRUST_SLOTS];
static uint64_t trust_tick;

/* The state file's path, the lab's identity in the cache; NULL when it has none (an
 * in-memory database: nothing is cached for it). */
static const char *lab_of(ws_state *st)
{
    const char *p = sqlite3_db_filename(st->db, "main");
    return p && p[0] ? p : NULL;
}

static void slot_clear(trust_slot *s)
{
    free(s->db);
    X509_STORE_free(s->store);
    SSL_CTX_free(s->client);
    memset(s, 0, sizeof *s);
}

/* Under trust_lock: the slot for (db, machine) at generation, or NULL. */
static trust_slot *slot_find(const char *db, const char *machine, int64_t generation)
{
    for (int i = 0; i < TRUST_SLOTS; i++) {
        trust_slot *s = &trust_slots[i];
        if (s->db && s->generation == generation && !strcmp(s->machine, machine) && !strcmp(s->db, db)) {
            s->used = ++trust_tick;
            return s;
        }
    }
    return NULL;
}

/* Under trust_lock: the slot to hold (db, machine) now: its old one (older generation),
 * else a free one, else the least recently used, emptied. */
static trust_slot *slot_take(const char *db, const char *machine)
{
    trust_slot *victim = &trust_slots[0];
    for (int i = 0; i < TRUST_SLOTS; i++) {
        trust_slot *s = &trust_slots[i];
        if (s->db && !strcmp(s->machine, machine) && !strcmp(s->db, db)) {
            victim = s;
            break;
        }
        if (!s->db ? victim->db != NULL : victim->db && s->used < victim->used)
            victim = s;
    }
    slot_clear(victim);
    victim->db = strdup(db);
    if (!victim->db)
        abort();
    snprintf(victim->machine, sizeof victim->machine, "%s", machine);
    return victim;
}

/* machine's Root store as an X509_STORE (the caller frees its reference): the cached one
 * while the stores' generation is unchanged, else read now and cached. */
static X509_STORE *machine_store(ws_state *st, const char *machine, int64_t generation, ws_error *e)
{
    const char *db = lab_of(st);
    int cacheable = db && generation >= 0 && strlen(machine) < sizeof trust_slots[0].machine;
    if (cacheable) {
        pthread_mutex_lock(&trust_lock);
        trust_slot *s = slot_find(db, machine, generation);
        X509_STORE *store = s ? s->store : NULL;
        if (store)
            X509_STORE_up_ref(store);
        pthread_mutex_unlock(&trust_lock);
        if (store)
            return store;
    }
    /* Read after the generation: what is read is at least as new as the value it is
     * filed under, so a change never hides behind a stale slot. */
    STACK_OF(X509) *roots = ws_store_certs(st, machine, "Root", e);
    if (!roots)
        return NULL;
    X509_STORE *store = ws_tls_store_new(roots, e);
    sk_X509_pop_free(roots, X509_free);
    if (!store || !cacheable)
        return store;
    pthread_mutex_lock(&trust_lock);
    trust_slot *s = slot_find(db, machine, generation);
    if (s) { /* another thread built it meanwhile: use one */
        X509_STORE_free(store);
        store = s->store;
    } else {
        s = slot_take(db, machine);
        s->generation = generation;
        s->store = store;
        s->used = ++trust_tick;
    }
    X509_STORE_up_ref(store);
    pthread_mutex_unlock(&trust_lock);
    return store;
}

void ws_tls_cache_flush(void)
{
    pthread_mutex_lock(&trust_lock);
    for (int i = 0; i < TRUST_SLOTS; i++)
        slot_clear(&trust_slots[i]);
    pthread_mutex_unlock(&trust_lock);
}

int ws_tls_trust_machine(SSL_CTX *ctx, ws_state *st, const char *machine, ws_error *e)
{
    X509_STORE *store = machine_store(st, machine, ws_store_generation(st, machine, NULL), e);
    if (!store)
        return -1;
    /* ctx is made for this one connection (libcurl's, for each new connection), so the
     * time set here is the lab clock at the connection. */
    ws_tls_trust_store(ctx, store, ws_clock_now(st, machine));
    X509_STORE_free(store);
    return 0;
}

/* A new client context trusting store, verifying on machine's lab clock. */
static SSL_CTX *client_ctx_new(X509_STORE *store, int64_t shift_s, int64_t now, ws_error *e)
{
    SSL_CTX *ctx = ws_tls_client_ctx_new(e);
    if (ctx && clock_attach(ctx, shift_s, e) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (ctx)
        ws_tls_trust_store(ctx, store, now);
    return ctx;
}

SSL_CTX *ws_tls_client_ctx(ws_state *st, const char *machine, ws_error *e)
{
    int64_t generation = ws_store_generation(st, machine, NULL);
    int64_t shift = clock_shift(st, machine), now = lab_now(shift);
    const char *db = lab_of(st);
    SSL_CTX *ctx = NULL;
    if (db && generation >= 0) {
        pthread_mutex_lock(&trust_lock);
        trust_slot *s = slot_find(db, machine, generation);
        if (s && s->client) {
            ctx = s->client;
            SSL_CTX_up_ref(ctx);
            clock_set(ctx, shift);
        }
        pthread_mutex_unlock(&trust_lock);
        if (ctx)
            return ctx;
    }
    X509_STORE *store = machine_store(st, machine, generation, e);
    if (!store)
        return NULL;
    ctx = client_ctx_new(store, shift, now, e);
    X509_STORE_free(store);
    if (!ctx || !db || generation < 0)
        return ctx;
    /* File it beside its store, unless the slot moved on or another thread filed one. */
    pthread_mutex_lock(&trust_lock);
    trust_slot *s = slot_find(db, machine, generation);
    if (s && s->client) {
        SSL_CTX_free(ctx);
        ctx = s->client;
        SSL_CTX_up_ref(ctx);
        clock_set(ctx, shift);
    } else if (s && s->store == SSL_CTX_get_cert_store(ctx)) {
        s->client = ctx;
        SSL_CTX_up_ref(ctx);
    }
    pthread_mutex_unlock(&trust_lock);
    return ctx;
}

SSL_CTX *ws_tls_server_ctx(ws_state *st, const char *machine, const char *cert_name, ws_error *e)
{
    int has_key = 0;
    if (!ws_store_contains(st, machine, "My", cert_name, &has_key) || !has_key) {
        ws_seterr(e, "certificate '%s' is not in %s's LocalMachine\\My with its private key", cert_name, machine);
        return NULL;
    }
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    if (ws_vault_get(st, cert_name, &cert, &key, NULL, e) != 0)
        return NULL;
    STACK_OF(X509) *mine = ws_store_certs(st, machine, "My", NULL);
    SSL_CTX *ctx = ws_tls_server_ctx_new(cert, key, mine, cert_name, e);
    sk_X509_pop_free(mine, X509_free);
    X509_free(cert);
    EVP_PKEY_free(key);
    return ctx;
}
