/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/svc/machine_tls.c's cache of trust: a machine's client context and
 * Root store are built once and reused while its stores are unchanged, a store change
 * gives new ones at once, and the lab clock is read at each handshake, not when the
 * context was built. Handshakes run in memory (a BIO pair). */
#include <openssl/err.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#include "crypto/cert.h"
#include "crypto/tls.h"
#include "lab/clock.h"
#include "lab/machine.h"
#include "lab/store.h"
#include "lab/vault.h"
#include "svc/machine_tls.h"

#define SERVER_NAME "srv01.contoso.com"
#define DAY 86400LL

static X509 *root_cert, *leaf_cert;
static EVP_PKEY *root_key, *leaf_key;

/* A root and a server certificate it issued, valid from yesterday for ten days. */
static int group_setup(void **state)
{
    (void)state;
    int64_t now = (int64_t)time(NULL);
    const ws_cert_spec root = {.subject = "CN=Contoso Root CA", .is_ca = 1, .not_before = now - DAY,
                               .not_after = now + 3650 * DAY};
    const ws_cert_spec leaf = {.subject = "CN=" SERVER_NAME,
                               .san = "DNS:" SERVER_NAME,
                               .eku = "serverAuth",
                               .key_usage = "digitalSignature,keyEncipherment",
                               .not_before = now - DAY,
                               .not_after = now + 10 * DAY};
    ws_error e = {""};
    if (ws_cert_create(&root, NULL, NULL, &root_cert, &root_key, &e) != 0 ||
        ws_cert_create(&leaf, root_cert, root_key, &leaf_cert, &leaf_key, &e) != 0) {
        fprintf(stderr, "certificates: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(root_cert);
    X509_free(leaf_cert);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(leaf_key);
    return 0;
}

typedef struct fixture {
    char dir[64];
    ws_state *st;
    SSL_CTX *server; /* srv01 presenting "ssl" */
} fixture;

static int add_machine(ws_state *st, const char *name, const char *address, const char *role)
{
    ws_machine m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    snprintf(m.fqdn, sizeof m.fqdn, "%s.contoso.com", name);
    snprintf(m.address, sizeof m.address, "%s", address);
    snprintf(m.role, sizeof m.role, "%s", role);
    ws_error e = {""};
    if (ws_machine_add(st, &m, &e) != 0) {
        fprintf(stderr, "adding %s: %s\n", name, e.msg);
        return -1;
    }
    return 0;
}

/* A lab with a client pc01 trusting the root and a server srv01 holding the leaf. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    ws_tls_cache_flush();
    ws_error e = {""};
    if (ws_test_lab_open(f->dir, sizeof f->dir, "tlsctx", &f->st) != 0 ||
        add_machine(f->st, "pc01", "127.77.0.50", "client") || add_machine(f->st, "srv01", "127.77.0.13", "gateway") ||
        ws_vault_put(f->st, "root", root_cert, NULL, NULL, &e) != 0 ||
        ws_vault_put(f->st, "ssl", leaf_cert, leaf_key, NULL, &e) != 0 ||
        ws_store_add(f->st, "pc01", "Root", "root", 0, &e) != 0 ||
        ws_store_add(f->st, "srv01", "My", "ssl", 1, &e) != 0 ||
        !(f->server = ws_tls_server_ctx(f->st, "srv01", "ssl", &e))) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f) {
        SSL_CTX_free(f->server);
        ws_test_lab_close(f->st, f->dir);
    }
    free(f);
    ws_tls_cache_flush();
    return 0;
}

/* One handshake in memory, the client expecting SERVER_NAME: 1 when it completed, 0
 * when not; *verify: the client's verification result (X509_V_OK or the error). */
static int handshake(SSL_CTX *client, SSL_CTX *server, long *verify)
{
    SSL *c = SSL_new(client), *s = SSL_new(server);
    BIO *cb = NULL, *sb = NULL;
    assert_non_null(c);
    assert_non_null(s);
    assert_int_equal(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    assert_int_equal(ws_tls_expect_peer(c, SERVER_NAME), 0);
    int done_c = 0, done_s = 0, failed = 0;
    for (int round = 0; round < 50 && !(done_c && done_s) && !failed; round++) {
        int rc = SSL_do_handshake(c), err = SSL_get_error(c, rc);
        done_c = rc == 1;
        failed |= !done_c && err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
        rc = SSL_do_handshake(s), err = SSL_get_error(s, rc);
        done_s = rc == 1;
        failed |= !done_s && err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
    }
    *verify = SSL_get_verify_result(c);
    SSL_free(c);
    SSL_free(s);
    ERR_clear_error();
    return done_c && done_s && !failed;
}

static void test_client_ctx_reused_while_stores_unchanged(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    long verify = -1;
    SSL_CTX *a = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_non_null(a);
    SSL_CTX *b = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_ptr_equal(a, b);
    assert_int_equal(handshake(b, f->server, &verify), 1);
    assert_int_equal(verify, X509_V_OK);
    /* Another machine's store change leaves pc01's context alone. */
    assert_int_equal(ws_store_add(f->st, "srv01", "Root", "root", 0, &e), 0);
    SSL_CTX *c = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_ptr_equal(a, c);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
    /* The caller's reference outlives the cache's. */
    ws_tls_cache_flush();
    assert_int_equal(handshake(c, f->server, &verify), 1);
    SSL_CTX_free(c);
}

static void test_store_change_gives_a_new_ctx_at_once(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    long verify = -1;
    SSL_CTX *before = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_non_null(before);
    assert_int_equal(handshake(before, f->server, &verify), 1);

    /* The root leaves pc01's Root store: the next context no longer trusts the server. */
    assert_int_equal(ws_store_remove(f->st, "pc01", "Root", "root", &e), 0);
    SSL_CTX *without = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_non_null(without);
    assert_ptr_not_equal(without, before);
    assert_int_equal(handshake(without, f->server, &verify), 0);
    assert_int_equal(verify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);

    /* Back in the store: trusted again, with yet another context. */
    assert_int_equal(ws_store_add(f->st, "pc01", "Root", "root", 0, &e), 0);
    SSL_CTX *again = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_ptr_not_equal(again, without);
    assert_int_equal(handshake(again, f->server, &verify), 1);
    assert_int_equal(verify, X509_V_OK);
    SSL_CTX_free(before);
    SSL_CTX_free(without);
    SSL_CTX_free(again);
}

/* libcurl's per-connection contexts (svc/httpc.c) share one X509_STORE per generation. */
static void test_trust_machine_shares_the_store(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    long verify = -1;
    SSL_CTX *a = ws_tls_client_ctx_new(&e), *b = ws_tls_client_ctx_new(&e), *c = ws_tls_client_ctx_new(&e);
    assert_int_equal(ws_tls_trust_machine(a, f->st, "pc01", &e), 0);
    assert_int_equal(ws_tls_trust_machine(b, f->st, "pc01", &e), 0);
    assert_ptr_equal(SSL_CTX_get_cert_store(a), SSL_CTX_get_cert_store(b));
    assert_int_equal(handshake(b, f->server, &verify), 1);
    assert_int_equal(ws_store_remove(f->st, "pc01", "Root", "root", &e), 0);
    assert_int_equal(ws_tls_trust_machine(c, f->st, "pc01", &e), 0);
    assert_ptr_not_equal(SSL_CTX_get_cert_store(c), SSL_CTX_get_cert_store(a));
    assert_int_equal(handshake(c, f->server, &verify), 0);
    assert_int_equal(verify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    /* a keeps what it was given: one connection's context, made before the change. */
    assert_int_equal(handshake(a, f->server, &verify), 1);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
    SSL_CTX_free(c);
}

/* The lab clock stepped past the server certificate's expiry after a context was cached:
 * the next handshake on it fails as expired; stepped back, it passes again. A machine's
 * skew counts the same way. */
static void test_clock_is_read_at_each_connection(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    long verify = -1;
    SSL_CTX *a = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_int_equal(handshake(a, f->server, &verify), 1);

    assert_int_equal(ws_clock_set_offset(f->st, 30 * DAY, &e), 0);
    SSL_CTX *b = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_ptr_equal(a, b); /* the stores did not change: the same context */
    assert_int_equal(handshake(b, f->server, &verify), 0);
    assert_int_equal(verify, X509_V_ERR_CERT_HAS_EXPIRED);

    assert_int_equal(ws_clock_set_offset(f->st, 0, &e), 0);
    SSL_CTX *c = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_int_equal(handshake(c, f->server, &verify), 1);

    assert_int_equal(ws_clock_set_skew(f->st, "pc01", -2 * DAY, &e), 0); /* before not_before */
    SSL_CTX *d = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_ptr_equal(a, d);
    assert_int_equal(handshake(d, f->server, &verify), 0);
    assert_int_equal(verify, X509_V_ERR_CERT_NOT_YET_VALID);

    /* Through ws_tls_trust_machine as well (a new connection's context each time). */
    SSL_CTX *curl_like = ws_tls_client_ctx_new(&e);
    assert_int_equal(ws_tls_trust_machine(curl_like, f->st, "pc01", &e), 0);
    assert_int_equal(handshake(curl_like, f->server, &verify), 0);
    assert_int_equal(verify, X509_V_ERR_CERT_NOT_YET_VALID);
    SSL_CTX_free(curl_like);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
    SSL_CTX_free(c);
    SSL_CTX_free(d);
}

/* A lab made again at the same path starts a new counter: a running process must not
 * take the old lab's trust for it. */
static void test_lab_made_again_at_the_same_path(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    long verify = -1;
    SSL_CTX *a = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_int_equal(handshake(a, f->server, &verify), 1);
    char db[128];
    snprintf(db, sizeof db, "%s/lab.db", f->dir);
    ws_state_close(f->st);
    f->st = NULL;
    unlink(db);
    assert_int_equal(ws_state_open(f->dir, 1, &f->st, &e), 0);
    assert_int_equal(add_machine(f->st, "pc01", "127.77.0.50", "client"), 0); /* an empty Root store */
    SSL_CTX *b = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_ptr_not_equal(a, b);
    assert_int_equal(handshake(b, f->server, &verify), 0);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
}

/* Threads with their own state handles take contexts and stores at once, as the portal's
 * requests do through libcurl, while another changes the store. */
typedef struct worker {
    const char *dir;
    int failures;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    ws_state *st = NULL;
    ws_error e = {""};
    if (ws_state_open(w->dir, 0, &st, &e) != 0) {
        w->failures++;
        return NULL;
    }
    for (int i = 0; i < 200; i++) {
        SSL_CTX *c = ws_tls_client_ctx(st, "pc01", &e), *n = ws_tls_client_ctx_new(&e);
        if (!c || !n || ws_tls_trust_machine(n, st, "pc01", &e) != 0)
            w->failures++;
        SSL_CTX_free(c);
        SSL_CTX_free(n);
    }
    ws_state_close(st);
    return NULL;
}

static void test_threads_share_the_cache(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    enum { N = 4 };
    pthread_t t[N];
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){f->dir, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 20; i++) {
        assert_int_equal(ws_store_remove(f->st, "pc01", "Root", "root", &e), 0);
        assert_int_equal(ws_store_add(f->st, "pc01", "Root", "root", 0, &e), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    long verify = -1;
    SSL_CTX *c = ws_tls_client_ctx(f->st, "pc01", &e);
    assert_int_equal(handshake(c, f->server, &verify), 1);
    SSL_CTX_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_client_ctx_reused_while_stores_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_change_gives_a_new_ctx_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trust_machine_shares_the_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_is_read_at_each_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lab_made_again_at_the_same_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_share_the_cache, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
