/* SPDX-License-Identifier: Apache-2.0 */
/* exercise: see exercise.h. */
#include "train/exercise.h"

#include <dirent.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "lab/lab.h"
#include "lab/vm.h"
#include "train/runner.h"

#define MARKER "exercise.active" /* in the lab: the attempt's nonce */

/* The shipped scenarios, relative to the folder of the running program: a build tree's
 * (build/wapsim, the sources' scenarios/ beside build/) first, then an installed one's
 * (FHS: PREFIX/bin/wapsim, the data in PREFIX/share/wapsim/scenarios). */
static const char *const shipped_dirs[] = {"../scenarios", "../share/wapsim/scenarios"};

void ws_exercise_catalogue_dir(const char *dir, char *out, size_t n)
{
    if (dir && *dir) {
        snprintf(out, n, "%s", dir);
        return;
    }
    const char *env = getenv("WAPSIM_SCENARIOS");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    if (ws_self_dir(exe, sizeof exe) == 0) {
        for (size_t i = 0; i < sizeof shipped_dirs / sizeof shipped_dirs[0]; i++) {
            char cand[PATH_MAX + 32];
            snprintf(cand, sizeof cand, "%s/%s", exe, shipped_dirs[i]);
            struct stat sb;
            char real[PATH_MAX];
            if (stat(cand, &sb) == 0 && S_ISDIR(sb.st_mode)) {
                snprintf(out, n, "%s", realpath(cand, real) ? real : cand);
                return;
            }
        }
    }
    snprintf(out, n, "scenarios");
}

static void sha256_hex(const char *text, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        abort();
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int ws_exercise_level(const ws_scenario *sc)
{
    if (ws_scenario_has_tag(sc, "level-3"))
        return 3;
    if (ws_scenario_has_tag(sc, "level-2"))
        return 2;
    if (ws_scenario_has_tag(sc, "level-1"))
        return 1;
    /* Untagged: the catalogue's file names, exercises/l2-... and l3-... */
    if (sc->name && (strncmp(sc->name, "l3-", 3) == 0 || strncmp(sc->name, "l2-", 3) == 0))
        return sc->name[1] - '0';
    return 1;
}

int ws_exercise_break_end(const ws_scenario *sc)
{
    for (int i = 0; i < sc->nlines; i++) {
        const ws_scn_line *l = &sc->lines[i];
        if (l->kind == WS_SCN_EXPECT && l->u.expect.target == WS_SCN_DIAGNOSE &&
            (l->u.expect.op == WS_SCN_OP_EQ || l->u.expect.op == WS_SCN_OP_CONTAINS) &&
            strcmp(l->u.expect.value, "none") != 0)
            return i;
    }
    for (int i = 0; i < sc->nlines; i++)
        if (sc->lines[i].kind == WS_SCN_CONNECT)
            return i;
    return sc->nlines;
}

void ws_exercise_clear(ws_exercise *x)
{
    free(x->path);
    free(x->generated);
    ws_scenario_free(x->sc);
    memset(x, 0, sizeof *x);
}

static int load_text(const char *path, const char *text, size_t len, ws_exercise *out, ws_scn_errors *errs,
                     int need_ticket)
{
    memset(out, 0, sizeof *out);
    ws_scenario *sc;
    ws_scn_errors local = {0};
    int prc = ws_scenario_parse(path, text, &sc, errs ? errs : &local);
    ws_scn_errors_free(&local);
    if (prc != 0)
        return -1;
    if (!sc->ticket) {
        if (need_ticket && errs && ws_strv_addf(errs, "%s: not an exercise: it has no ticket line", path) != 0)
            abort();
        ws_scenario_free(sc);
        return -1;
    }
    out->path = ws_strdup(path);
    sha256_hex(text, len, out->hash);
    memcpy(out->id, out->hash, 12);
    out->id[12] = '\0';
    out->level = ws_exercise_level(sc);
    out->sc = sc;
    return 0;
}

static int load_file(const char *path, ws_exercise *out, ws_scn_errors *errs, int need_ticket)
{
    unsigned char *data;
    size_t len;
    ws_error e;
    memset(out, 0, sizeof *out);
    if (ws_read_file(path, 1 << 20, &data, &len, &e) != 0) {
        if (errs && ws_strv_add(errs, e.msg) != 0)
            abort();
        return -1;
    }
    int rc = load_text(path, (const char *)data, len, out, errs, need_ticket);
    free(data);
    return rc;
}

int ws_exercise_load(const char *path, ws_exercise *out, ws_scn_errors *errs)
{
    return load_file(path, out, errs, 1);
}

static int scn_name(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".scn") == 0;
}

static int by_level(const void *a, const void *b)
{
    const ws_exercise *x = a, *y = b;
    if (x->level != y->level)
        return x->level - y->level;
    return strcmp(x->path, y->path);
}

int ws_exercise_catalogue(const char *dir, ws_exercise **out, int *n, ws_scn_errors *errs)
{
    char base[PATH_MAX];
    ws_exercise_catalogue_dir(dir, base, sizeof base);
    ws_buf all; /* ws_exercise entries */
    ws_buf_init(&all, WS_BUF_MAX_REPORT);
    for (int pass = 0; pass < 2; pass++) {
        char d[PATH_MAX + 16];
        snprintf(d, sizeof d, "%s%s", base, pass ? "/exercises" : "");
        struct dirent **list;
        int k = scandir(d, &list, scn_name, alphasort);
        if (k < 0)
            continue;
        for (int j = 0; j < k; j++) {
            char *path = ws_printf("%s/%s", d, list[j]->d_name);
            ws_exercise x;
            if (load_file(path, &x, errs, 0) == 0 && ws_buf_add(&all, &x, sizeof x) != 0)
                abort();
            free(path);
            free(list[j]);
        }
        free(list);
    }
    size_t len;
    *out = (ws_exercise *)ws_buf_take(&all, &len);
    ws_buf_free(&all);
    if (!*out)
        abort();
    *n = (int)(len / sizeof **out);
    if (*n > 1)
        qsort(*out, (size_t)*n, sizeof **out, by_level);
    return 0;
}

void ws_exercise_catalogue_free(ws_exercise *c, int n)
{
    for (int i = 0; i < n; i++)
        ws_exercise_clear(&c[i]);
    free(c);
}

static void cache_path(const char *hash, char *out, size_t n)
{
    char t[PATH_MAX];
    ws_template_path(t, sizeof t);
    char *slash = strrchr(t, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, n, "%s/exercises/%s.scn", t, hash);
}

/* Writes text as the cache's copy of the exercise of hash (best effort); its path in out. */
static void cache_write(const char *hash, const void *text, size_t len, char *out, size_t n)
{
    cache_path(hash, out, n);
    char *dir = ws_strdup(out);
    *strrchr(dir, '/') = '\0';
    char *parent = ws_strdup(dir);
    *strrchr(parent, '/') = '\0';
    mkdir(parent, 0700);
    mkdir(dir, 0700);
    free(parent);
    free(dir);
    ws_error e;
    ws_write_file(out, text, len, 0600, &e);
}

void ws_exercise_cache(const ws_exercise *x)
{
    unsigned char *data;
    size_t len;
    ws_error e;
    if (ws_read_file(x->path, 1 << 20, &data, &len, &e) != 0)
        return;
    char path[PATH_MAX + 128];
    cache_path(x->hash, path, sizeof path);
    if (strcmp(x->path, path) != 0) /* a generated exercise's path is its cache copy */
        cache_write(x->hash, data, len, path, sizeof path);
    free(data);
}

int ws_exercise_from_text(const char *text, const char *generated, int keep, ws_exercise *out, ws_scn_errors *errs)
{
    if (load_text("generated.scn", text, strlen(text), out, errs, 1) != 0)
        return -1;
    out->generated = generated ? ws_strdup(generated) : NULL;
    if (!keep)
        return 0;
    char path[PATH_MAX + 128];
    cache_write(out->hash, text, strlen(text), path, sizeof path);
    free(out->path);
    out->path = ws_strdup(path);
    return 0;
}

static int is_hash(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!strchr("0123456789abcdef", s[n]))
            return 0;
    return n == 64;
}

/* The cache first: one file named by the hash (every exercise started here was kept there,
 * generated ones only there), so the trainer's page, which looks up every seat's attempt on
 * each refresh, does not parse the whole catalogue per seat; the catalogue after, for an
 * attempt whose cache copy is gone. A hash that is not 64 hex digits names no file. */
int ws_exercise_find(const char *dir, const char *hash, ws_exercise *out)
{
    memset(out, 0, sizeof *out);
    if (!is_hash(hash))
        return -1;
    char path[PATH_MAX + 128];
    cache_path(hash, path, sizeof path);
    if (access(path, R_OK) == 0 && load_file(path, out, NULL, 0) == 0 && strcmp(out->hash, hash) == 0)
        return 0;
    ws_exercise_clear(out);
    ws_exercise *c;
    int n;
    ws_exercise_catalogue(dir, &c, &n, NULL);
    int found = -1;
    for (int i = 0; i < n; i++)
        if (strcmp(c[i].hash, hash) == 0) {
            *out = c[i];
            memset(&c[i], 0, sizeof c[i]);
            found = 0;
            break;
        }
    ws_exercise_catalogue_free(c, n);
    return found;
}

int ws_exercise_lab_instance(ws_state *st, char *out, size_t n, ws_error *e)
{
    if (ws_meta_get(st, "lab_instance", out, n) == 0 && out[0])
        return 0;
    unsigned char r[16];
    char hex[33];
    if (ws_random(r, sizeof r) != 0)
        return ws_seterr(e, "cannot read random bytes");
    ws_hex_upper(r, sizeof r, hex);
    if (ws_meta_set(st, "lab_instance", hex, e) != 0)
        return -1;
    snprintf(out, n, "%s", hex);
    return 0;
}

int ws_exercise_score(int hints)
{
    static const int cost[WS_EXERCISE_HINTS] = {15, 25, 40};
    int s = 100;
    for (int i = 0; i < hints && i < WS_EXERCISE_HINTS; i++)
        s -= cost[i];
    return s;
}

static void marker_path(const char *lab_dir, char *out, size_t n)
{
    snprintf(out, n, "%s/" MARKER, lab_dir);
}

static void read_marker(const char *lab_dir, char *nonce, size_t n)
{
    nonce[0] = '\0';
    char path[PATH_MAX + 32];
    marker_path(lab_dir, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(nonce, (int)n, f))
        nonce[strcspn(nonce, "\r\n")] = '\0';
    else
        nonce[0] = '\0';
    fclose(f);
}

ws_attempt_status ws_exercise_current(ws_state *st, ws_attempt *a)
{
    memset(a, 0, sizeof *a);
    char nonce[64];
    read_marker(st->lab_dir, nonce, sizeof nonce);
    if (!nonce[0])
        return WS_ATTEMPT_NONE;
    snprintf(a->nonce, sizeof a->nonce, "%s", nonce);
    ws_error e;
    sqlite3_stmt *q = ws_state_prepare(st,
                                       "SELECT id, scenario_hash, level, started_at, coalesce(ended_at,0), hints, "
                                       "state, score, allow_diagnose, lab_instance, checks, coalesce(generated,'') FROM exercises "
                                       "WHERE nonce = ?",
                                       &e);
    if (!q)
        return WS_ATTEMPT_VOID; /* no exercises table: an older lab.db */
    sqlite3_bind_text(q, 1, nonce, -1, SQLITE_TRANSIENT);
    ws_attempt_status rc = WS_ATTEMPT_VOID;
    if (sqlite3_step(q) == SQLITE_ROW) {
        a->id = sqlite3_column_int64(q, 0);
        snprintf(a->hash, sizeof a->hash, "%s", (const char *)sqlite3_column_text(q, 1));
        a->level = sqlite3_column_int(q, 2);
        a->started_at = sqlite3_column_int64(q, 3);
        a->ended_at = sqlite3_column_int64(q, 4);
        a->hints = sqlite3_column_int(q, 5);
        snprintf(a->state, sizeof a->state, "%s", (const char *)sqlite3_column_text(q, 6));
        a->has_score = sqlite3_column_type(q, 7) != SQLITE_NULL;
        a->score = sqlite3_column_int(q, 7);
        a->allow_diagnose = sqlite3_column_int(q, 8);
        snprintf(a->lab_instance, sizeof a->lab_instance, "%s", (const char *)sqlite3_column_text(q, 9));
        a->checks = sqlite3_column_int(q, 10);
        snprintf(a->generated, sizeof a->generated, "%s", (const char *)sqlite3_column_text(q, 11));
        char inst[64];
        if (strcmp(a->state, "active") != 0)
            rc = WS_ATTEMPT_NONE; /* ended: the marker is stale */
        else if (ws_meta_get(st, "lab_instance", inst, sizeof inst) != 0 || strcmp(inst, a->lab_instance) != 0)
            rc = WS_ATTEMPT_VOID;
        else
            rc = WS_ATTEMPT_ACTIVE;
    }
    sqlite3_finalize(q);
    return rc;
}

/* ---- an attempt ---- */

static unsigned long long next_rand(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

int ws_exercise_pick(const char *dir, int level, const unsigned long long *seed, ws_exercise *out, ws_error *e)
{
    memset(out, 0, sizeof *out);
    ws_exercise *c;
    int n, k = 0;
    ws_exercise_catalogue(dir, &c, &n, NULL);
    int *pick = calloc((size_t)(n ? n : 1), sizeof *pick);
    if (!pick)
        abort();
    for (int i = 0; i < n; i++)
        if (!level || c[i].level == level)
            pick[k++] = i;
    if (k == 0) {
        free(pick);
        ws_exercise_catalogue_free(c, n);
        return ws_seterr(e, "no exercise at level %d in the catalogue", level);
    }
    unsigned long long s;
    if (seed)
        s = *seed;
    else if (ws_random(&s, sizeof s) != 0)
        s = (unsigned long long)getpid();
    int chosen = pick[next_rand(&s) % (unsigned long long)k];
    *out = c[chosen];
    memset(&c[chosen], 0, sizeof c[chosen]);
    free(pick);
    ws_exercise_catalogue_free(c, n);
    return 0;
}

int ws_exercise_break(ws_state *st, const ws_exercise *x, ws_error *e)
{
    ws_scn_run r;
    ws_scn_run_init(&r, x->sc, st, NULL, WS_RUNNER_TIMEOUT_S, NULL);
    int end = ws_exercise_break_end(x->sc), rc = 0;
    for (int i = 0; i < end && rc == 0; i++) {
        const ws_scn_line *l = &x->sc->lines[i];
        if (l->kind != WS_SCN_STEP || ws_scn_run_line(&r, l) == 0)
            continue;
        if (r.fail_exit >= 0)
            rc = ws_seterr(e, "line %d: exit %d", l->lineno, r.fail_exit);
        else
            rc = ws_seterr(e, "line %d: %s", l->lineno, r.fail_what ? r.fail_what : "failed");
    }
    ws_scn_run_clear(&r);
    return rc;
}

int ws_exercise_begin(ws_state *st, const ws_exercise *x, int allow_diagnose, ws_error *e)
{
    char inst[64], nonce[33];
    unsigned char r[16];
    if (ws_random(r, sizeof r) != 0)
        return ws_seterr(e, "cannot read random bytes");
    ws_hex_upper(r, sizeof r, nonce);
    char started[32], level[8], allow[4];
    snprintf(started, sizeof started, "%lld", (long long)(ws_wall_ms() / 1000));
    snprintf(level, sizeof level, "%d", x->level);
    snprintf(allow, sizeof allow, "%d", allow_diagnose);
    if (ws_exercise_lab_instance(st, inst, sizeof inst, e) != 0 ||
        ws_state_exec(st, e,
                      "INSERT INTO exercises(scenario_hash, level, started_at, state, allow_diagnose, lab_instance, "
                      "nonce, generated) VALUES(?, ?, ?, 'active', ?, ?, ?, nullif(?, ''))",
                      7, x->hash, level, started, allow, inst, nonce, x->generated ? x->generated : "") != 0)
        return -1;
    char path[PATH_MAX + 32];
    marker_path(st->lab_dir, path, sizeof path);
    char *line = ws_printf("%s\n", nonce);
    int rc = ws_write_file(path, line, strlen(line), 0644, e);
    free(line);
    return rc;
}

void ws_exercise_void(ws_state *st, const ws_attempt *a)
{
    ws_error e;
    if (a->id) {
        char now[32];
        snprintf(now, sizeof now, "%lld", (long long)(ws_wall_ms() / 1000));
        ws_state_exec(st, &e, "UPDATE exercises SET state = 'void', ended_at = ?, score = 0 WHERE nonce = ?", 2, now,
                      a->nonce);
    }
    char path[PATH_MAX + 32];
    marker_path(st->lab_dir, path, sizeof path);
    unlink(path);
}

void ws_exercise_end(ws_state *st, const ws_attempt *a, const char *state, int score)
{
    ws_error e;
    char now[32], sc[16], id[32];
    snprintf(now, sizeof now, "%lld", (long long)(ws_wall_ms() / 1000));
    snprintf(sc, sizeof sc, "%d", score);
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    ws_state_exec(st, &e, "UPDATE exercises SET state = ?, ended_at = ?, score = ? WHERE id = ?", 4, state, now, sc,
                  id);
    char path[PATH_MAX + 32];
    marker_path(st->lab_dir, path, sizeof path);
    unlink(path);
}

void ws_exercise_count_check(ws_state *st, const ws_attempt *a)
{
    ws_error e;
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    ws_state_exec(st, &e, "UPDATE exercises SET checks = checks + 1 WHERE id = ?", 1, id);
}

int ws_exercise_take_hint(ws_state *st, const ws_attempt *a)
{
    ws_error e;
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    ws_state_exec(st, &e, "UPDATE exercises SET hints = hints + 1 WHERE id = ?", 1, id);
    return a->hints + 1;
}

const char *ws_exercise_hint_area(const char *id)
{
    /* the generated exercises' findings first (train/generate.h), where the words below
     * would point at the wrong place */
    if (strstr(id, "key-access"))
        return "who may read that certificate's private key, and what the service's account is";
    if (strstr(id, "cannot-resolve"))
        return "how the gateway resolves the hosts' names (its DNS server and forwarders)";
    if (strstr(id, "balancer"))
        return "the load balancer in front of the gateways: its mode, its members and its affinity";
    if (strcmp(id, "vmm-cert-csp") == 0)
        return "the certificate VMM signs console tokens with, and where its private key lives";
    if (strcmp(id, "gateway-cert-stale") == 0)
        return "the certificate the gateway serves, against the one it is configured with";
    if (strstr(id, "fqdn"))
        return "the RD Gateway FQDN the cloud hands out, against the gateway's certificate names";
    if (strstr(id, "issuer"))
        return "which certificate thumbprints the gateway trusts";
    if (strstr(id, "gateway-cert") || strstr(id, "gateway-tls"))
        return "the certificate the gateway serves";
    if (strcmp(id, "host-trust-list-stale") == 0)
        return "that host's trusted issuers, and when its service last started";
    if (strstr(id, "host"))
        return "the certificate stores and trust on that host";
    if (strstr(id, "vmm-cert"))
        return "the certificate VMM signs console tokens with";
    if (strstr(id, "clock"))
        return "the machine's clock";
    return "that machine's service and configuration";
}

static const char *column_text(sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    return t ? (const char *)t : "";
}

int ws_exercise_history(ws_state *st, ws_attempt **out, int *n, ws_error *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q = ws_state_prepare(st,
                                       "SELECT id, scenario_hash, level, started_at, ended_at, hints, state, score, "
                                       "checks, coalesce(generated,'') FROM exercises ORDER BY id",
                                       e);
    if (!q)
        return -1;
    ws_buf rows; /* ws_attempt entries */
    ws_buf_init(&rows, WS_BUF_MAX_REPORT);
    while (sqlite3_step(q) == SQLITE_ROW) {
        ws_attempt a;
        memset(&a, 0, sizeof a);
        a.id = sqlite3_column_int64(q, 0);
        snprintf(a.hash, sizeof a.hash, "%s", column_text(q, 1));
        a.level = sqlite3_column_int(q, 2);
        a.started_at = sqlite3_column_int64(q, 3);
        a.has_ended = sqlite3_column_type(q, 4) != SQLITE_NULL;
        a.ended_at = sqlite3_column_int64(q, 4);
        a.hints = sqlite3_column_int(q, 5);
        snprintf(a.state, sizeof a.state, "%s", column_text(q, 6));
        a.has_score = sqlite3_column_type(q, 7) != SQLITE_NULL;
        a.score = sqlite3_column_int(q, 7);
        a.checks = sqlite3_column_int(q, 8);
        snprintf(a.generated, sizeof a.generated, "%s", column_text(q, 9));
        if (ws_buf_add(&rows, &a, sizeof a) != 0)
            abort();
    }
    sqlite3_finalize(q);
    size_t len;
    *out = (ws_attempt *)ws_buf_take(&rows, &len);
    ws_buf_free(&rows);
    if (!*out)
        abort();
    *n = (int)(len / sizeof **out);
    return 0;
}

int ws_exercise_connect_all(ws_state *st, ws_exercise_vm **out, int *n)
{
    ws_error e;
    *out = NULL;
    *n = 0;
    ws_vm *vms;
    size_t count;
    if (ws_vm_list(st, NULL, &vms, &count, &e) != 0)
        return -1;
    *out = calloc(count ? count : 1, sizeof **out);
    if (!*out)
        abort();
    for (size_t i = 0; i < count; i++) {
        ws_exercise_vm *v = &(*out)[(*n)++];
        snprintf(v->vm, sizeof v->vm, "%s", vms[i].name);
        snprintf(v->tenant, sizeof v->tenant, "%s", vms[i].tenant);
    }
    free(vms);
    for (int i = 0; i < *n; i++) {
        ws_connect_opts co;
        memset(&co, 0, sizeof co);
        co.tenant = (*out)[i].tenant;
        co.vm = (*out)[i].vm;
        co.direct_fd = -1;
        ws_connect(st, &co, &(*out)[i].r);
    }
    return 0;
}
