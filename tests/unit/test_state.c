/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sim/state.c: creating, migrating and refusing state files, the
 * lab_meta table, transactions, and several processes writing at once. */
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#include "lab/eventlog.h"
#include "lab/state.h"
#include "lab/store.h"
#include "base/util.h"

/* ---- helpers ------------------------------------------------------------------ */

typedef struct fixture {
    char dir[64];
    char db[128];
    ws_state *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/wapsim-test-state-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof f->db, "%s/lab.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ws_state_close(f->st);
    ws_test_rm_rf(f->dir);
    free(f);
    return 0;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = INT64_MIN;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* First column of the first row as text, in out ("" when none). */
static void query_text(sqlite3 *db, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *s = NULL;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
        sqlite3_column_text(s, 0))
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
}

static int table_exists(sqlite3 *db, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", table);
    return query_int(db, sql) == 1;
}

/* Make a plain SQLite file (not through wapsim) and run sql in it. */
static void make_sqlite_file(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("sqlite3_exec(%s): %s", sql, err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_schema_version_counts_migrations(void **state)
{
    (void)state;
    /* Migration 1 (the world) and 2 (processes) at least. */
    assert_true(ws_state_schema_version() >= 2);
}

static void test_new_file_is_latest_wal_with_foreign_keys(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_state_open_file(f->db, 1, 0, &f->st, &e), 0);
    assert_non_null(f->st);
    sqlite3 *db = f->st->db;

    assert_int_equal(query_int(db, "PRAGMA user_version"), ws_state_schema_version());
    assert_int_equal(query_int(db, "PRAGMA application_id"), WS_APPLICATION_ID);
    assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
    char mode[32];
    query_text(db, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "wal");

    static const char *const tables[] = {"lab_meta",     "machines", "certificates", "store_entries", "settings",
                                         "trusted_issuers", "accounts", "subscriptions", "vms",         "events",
                                         "tokens",       "sessions", "processes"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (!table_exists(db, tables[i]))
            fail_msg("table %s missing from a new state file", tables[i]);

    /* Foreign keys are enforced, not just declared. */
    assert_int_equal(ws_state_exec(f->st, &e,
                                   "INSERT INTO store_entries(machine, store, certificate) VALUES(?, ?, ?)", 3,
                                   "nomachine", "My", "nocert"),
                     -1);
    assert_contains(e.msg, "FOREIGN KEY");
    assert_int_equal(query_int(db, "SELECT count(*) FROM store_entries"), 0);

    /* The file persists with the same identity after closing and reopening. */
    ws_state_close(f->st);
    f->st = NULL;
    assert_int_equal(ws_state_open_file(f->db, 0, 0, &f->st, &e), 0);
    assert_int_equal(query_int(f->st->db, "PRAGMA user_version"), ws_state_schema_version());
    assert_int_equal(query_int(f->st->db, "PRAGMA application_id"), WS_APPLICATION_ID);
}

static void test_migrate_from_version_1_keeps_rows(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_state_open_file(f->db, 1, 1, &f->st, &e), 0);
    assert_int_equal(query_int(f->st->db, "PRAGMA user_version"), 1);
    assert_int_equal(query_int(f->st->db, "PRAGMA application_id"), WS_APPLICATION_ID);
    assert_true(table_exists(f->st->db, "machines"));
    assert_false(table_exists(f->st->db, "processes"));
    assert_int_equal(ws_state_exec(f->st, &e,
                                   "INSERT INTO machines(name, fqdn, address, role, port)"
                                   " VALUES(?, ?, ?, ?, ?)",
                                   5, "hv01", "hv01.fabric.contoso.local", "127.77.0.21", "host", "2179"),
                     0);
    ws_state_close(f->st);
    f->st = NULL;

    /* Opening with an older target never downgrades, and leaves version 1 alone. */
    assert_int_equal(ws_state_open_file(f->db, 0, 1, &f->st, &e), 0);
    assert_int_equal(query_int(f->st->db, "PRAGMA user_version"), 1);
    ws_state_close(f->st);
    f->st = NULL;

    assert_int_equal(ws_state_open_file(f->db, 0, 0, &f->st, &e), 0);
    sqlite3 *db = f->st->db;
    assert_int_equal(query_int(db, "PRAGMA user_version"), ws_state_schema_version());
    assert_int_equal(query_int(db, "PRAGMA application_id"), WS_APPLICATION_ID);
    assert_true(table_exists(db, "processes"));
    assert_int_equal(query_int(db, "SELECT count(*) FROM machines"), 1);
    char text[128];
    query_text(db, "SELECT name || '|' || fqdn || '|' || address || '|' || role || '|' || port FROM machines",
               text, sizeof text);
    assert_string_equal(text, "hv01|hv01.fabric.contoso.local|127.77.0.21|host|2179");

    /* The new table works and references the migrated row. */
    assert_int_equal(ws_state_exec(f->st, &e, "INSERT INTO processes(machine, program) VALUES(?, ?)", 2, "hv01",
                                   "wapsim-host"),
                     0);
    assert_int_equal(ws_state_exec(f->st, &e, "INSERT INTO processes(machine, program) VALUES(?, ?)", 2, "hv99",
                                   "wapsim-host"),
                     -1);
    assert_int_equal(query_int(db, "SELECT restarts FROM processes WHERE machine = 'hv01'"), 0);

    /* ws_state_migrate on an up-to-date file is a no-op. */
    assert_int_equal(ws_state_migrate(db, 0, &e), 0);
    assert_int_equal(query_int(db, "PRAGMA user_version"), ws_state_schema_version());
}

/* Migration 5 loosens machines' role CHECK in place: a version 4 file keeps its rows (and
 * the stores that name them: a table rebuild would have cascaded deletes), another
 * connection opened before the change sees it, and a balancer can be added. */
static void test_migrate_to_5_allows_a_balancer(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_state_open_file(f->db, 1, 4, &f->st, &e), 0);
    assert_int_equal(ws_state_exec(f->st, &e,
                                   "INSERT INTO machines(name, fqdn, address, role, port) VALUES(?, ?, ?, ?, ?)", 5,
                                   "rdgw01", "rdgw01.fabric.contoso.local", "127.77.0.13", "gateway", "8443"),
                     0);
    assert_int_equal(ws_state_exec(f->st, &e,
                                   "INSERT INTO certificates(name, thumbprint, der, created_at) VALUES(?, ?, x'00', 0)",
                                   2, "root", "0123456789ABCDEF0123456789ABCDEF01234567"),
                     0);
    assert_int_equal(ws_state_exec(f->st, &e, "INSERT INTO store_entries(machine, store, certificate) VALUES(?, ?, ?)",
                                   3, "rdgw01", "Root", "root"),
                     0);
    assert_int_equal(ws_state_exec(f->st, &e,
                                   "INSERT INTO machines(name, fqdn, address, role, port) VALUES(?, ?, ?, ?, ?)", 5,
                                   "lb01", "lb01.contoso.com", "127.77.0.20", "balancer", "8443"),
                     -1);
    ws_state *old = f->st; /* stays open across the migration */

    ws_state *st = NULL;
    assert_int_equal(ws_state_open_file(f->db, 0, 0, &st, &e), 0);
    assert_int_equal(query_int(st->db, "PRAGMA user_version"), ws_state_schema_version());
    assert_int_equal(query_int(st->db, "SELECT count(*) FROM store_entries WHERE machine = 'rdgw01'"), 1);
    assert_int_equal(query_int(st->db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    char text[16];
    query_text(st->db, "PRAGMA integrity_check", text, sizeof text);
    assert_string_equal(text, "ok");
    assert_true(table_exists(st->db, "key_access"));
    ws_state_close(st);

    assert_int_equal(ws_state_exec(old, &e,
                                   "INSERT INTO machines(name, fqdn, address, role, port) VALUES(?, ?, ?, ?, ?)", 5,
                                   "lb01", "lb01.contoso.com", "127.77.0.20", "balancer", "8443"),
                     0);
    assert_int_equal(ws_state_exec(old, &e,
                                   "INSERT INTO machines(name, fqdn, address, role, port) VALUES(?, ?, ?, ?, ?)", 5,
                                   "x01", "x01.contoso.com", "127.77.0.21", "router", "1"),
                     -1);
}

/* Run sql on st, which must succeed. */
static void exec_ok(ws_state *st, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        char copy[256];
        snprintf(copy, sizeof copy, "%s", err ? err : "?");
        sqlite3_free(err);
        fail_msg("%s: %s", sql, copy);
    }
}

static int64_t generation(ws_state *st, const char *machine)
{
    ws_error e = {""};
    int64_t g = ws_store_generation(st, machine, &e);
    if (g < 0)
        fail_msg("ws_store_generation(%s): %s", machine, e.msg);
    return g;
}

/* Migration 7 adds each machine's store change counter: a version 6 file keeps its rows
 * and stores, and from then on every change to what a machine's stores hold moves that
 * machine's counter (whoever writes: plain SQL here, as an old code path would), in the
 * writer's transaction, and never back; other machines' counters stay. */
static void test_migrate_to_7_counts_store_changes(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_state_open_file(f->db, 1, 6, &f->st, &e), 0);
    exec_ok(f->st, "INSERT INTO machines(name, fqdn, address, role, port) VALUES"
                   " ('pc01', 'pc01.contoso.com', '127.77.0.50', 'client', 0),"
                   " ('rdgw01', 'rdgw01.fabric.contoso.local', '127.77.0.13', 'gateway', 8443);"
                   "INSERT INTO certificates(name, thumbprint, der, created_at) VALUES"
                   " ('root', '0123456789ABCDEF0123456789ABCDEF01234567', x'00', 0),"
                   " ('ssl', '1123456789ABCDEF0123456789ABCDEF01234567', x'01', 0);"
                   "INSERT INTO store_entries(machine, store, certificate, has_private_key) VALUES"
                   " ('pc01', 'Root', 'root', 0), ('rdgw01', 'My', 'ssl', 1);"
                   "INSERT INTO key_access(machine, store, certificate, account, rights) VALUES"
                   " ('rdgw01', 'My', 'ssl', 'NT AUTHORITY\\NETWORK SERVICE', 'Read');");
    assert_int_equal(ws_store_generation(f->st, "pc01", &e), -1); /* no counter before 7 */
    ws_state_close(f->st);
    f->st = NULL;

    assert_int_equal(ws_state_open_file(f->db, 0, 0, &f->st, &e), 0);
    ws_state *st = f->st;
    assert_int_equal(query_int(st->db, "PRAGMA user_version"), ws_state_schema_version());
    assert_true(ws_state_schema_version() >= 7);
    assert_int_equal(query_int(st->db, "SELECT count(*) FROM store_entries"), 2);
    assert_int_equal(query_int(st->db, "SELECT count(*) FROM key_access"), 1);
    assert_int_equal(query_int(st->db, "SELECT has_private_key FROM store_entries WHERE machine = 'rdgw01'"), 1);
    char text[16];
    query_text(st->db, "PRAGMA integrity_check", text, sizeof text);
    assert_string_equal(text, "ok");

    int64_t pc = generation(st, "pc01"), gw = generation(st, "rdgw01");
    assert_true(pc >= 0);
    assert_int_equal(generation(st, "pc01"), pc); /* reading does not move it */

    /* Removing a store entry, adding it back, a private key, an access list, the vault. */
    exec_ok(st, "DELETE FROM store_entries WHERE machine = 'pc01' AND certificate = 'root'");
    int64_t after = generation(st, "pc01");
    assert_true(after > pc);
    assert_int_equal(generation(st, "rdgw01"), gw);
    exec_ok(st, "INSERT INTO store_entries(machine, store, certificate) VALUES('pc01', 'Root', 'root')");
    assert_true(generation(st, "pc01") > after);
    after = generation(st, "pc01");
    exec_ok(st, "UPDATE store_entries SET has_private_key = 0 WHERE machine = 'rdgw01'");
    assert_true(generation(st, "rdgw01") > gw);
    assert_int_equal(generation(st, "pc01"), after);
    gw = generation(st, "rdgw01");
    exec_ok(st, "DELETE FROM key_access WHERE machine = 'rdgw01'");
    assert_true(generation(st, "rdgw01") > gw);
    gw = generation(st, "rdgw01");
    exec_ok(st, "UPDATE certificates SET der = x'02' WHERE name = 'root'"); /* replaced under its name */
    assert_true(generation(st, "pc01") > after);
    assert_int_equal(generation(st, "rdgw01"), gw);
    after = generation(st, "pc01");

    /* In the writer's transaction: rolled back, the counter is back too. */
    exec_ok(st, "BEGIN; DELETE FROM store_entries WHERE machine = 'pc01'");
    assert_true(generation(st, "pc01") > after);
    exec_ok(st, "ROLLBACK");
    assert_int_equal(generation(st, "pc01"), after);

    /* A deleted certificate cascades out of the stores, and a machine deleted and added
     * again never finds an old value. */
    exec_ok(st, "DELETE FROM certificates WHERE name = 'root'");
    assert_true(generation(st, "pc01") > after);
    after = generation(st, "pc01");
    exec_ok(st, "DELETE FROM machines WHERE name = 'pc01';"
                "INSERT INTO machines(name, fqdn, address, role, port) VALUES"
                " ('pc01', 'pc01.contoso.com', '127.77.0.50', 'client', 0)");
    assert_int_equal(query_int(st->db, "SELECT count(*) FROM store_entries WHERE machine = 'pc01'"), 0);
    assert_true(generation(st, "pc01") >= after);
    exec_ok(st, "INSERT INTO store_entries(machine, store, certificate) VALUES('pc01', 'My', 'ssl')");
    assert_true(generation(st, "pc01") > after);
    assert_int_equal(ws_store_generation(st, "nobody", &e) >= 0, 1); /* a machine never changed: the base */
}

static void test_newer_schema_refused(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    int newer = ws_state_schema_version() + 1;
    assert_int_equal(ws_state_open_file(f->db, 1, 0, &f->st, &e), 0);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", newer);
    assert_int_equal(sqlite3_exec(f->st->db, sql, NULL, NULL, NULL), SQLITE_OK);
    ws_state_close(f->st);
    f->st = NULL;

    ws_state *st = NULL;
    assert_int_equal(ws_state_open_file(f->db, 0, 0, &st, &e), -1);
    assert_null(st);
    char want[128];
    snprintf(want, sizeof want, "schema version %d", newer);
    assert_contains(e.msg, want);
    assert_contains(e.msg, f->db);

    /* Through ws_state_open too, and the file is left as it was. */
    e.msg[0] = '\0';
    assert_int_equal(ws_state_open(f->dir, 0, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, want);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_int(db, "PRAGMA user_version"), newer);
    sqlite3_close(db);
}

static void test_foreign_sqlite_file_refused(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    make_sqlite_file(f->db, "CREATE TABLE recipes(name TEXT); INSERT INTO recipes VALUES('bread')");
    ws_state *st = NULL;
    assert_int_equal(ws_state_open_file(f->db, 1, 0, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, "not a wapsim state file");
    assert_contains(e.msg, f->db);

    /* Untouched: no migration ran, the owner's table and row are still there. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_int(db, "PRAGMA user_version"), 0);
    assert_int_equal(query_int(db, "PRAGMA application_id"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master"), 1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM recipes"), 1);
    sqlite3_close(db);

    /* Another application's id is named in the message. */
    char other[160];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    make_sqlite_file(other, "PRAGMA application_id = 305419896; CREATE TABLE t(x)"); /* 0x12345678 */
    e.msg[0] = '\0';
    assert_int_equal(ws_state_open_file(other, 1, 0, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, "application_id 0x12345678");

    /* A user_version without our application_id is someone else's too. */
    char versioned[160];
    snprintf(versioned, sizeof versioned, "%s/versioned.db", f->dir);
    make_sqlite_file(versioned, "PRAGMA user_version = 1");
    e.msg[0] = '\0';
    assert_int_equal(ws_state_open_file(versioned, 1, 0, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, "not a wapsim state file");
}

static void test_garbage_file_refused_as_damaged(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    char garbage[4096];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)('a' + (i * 7) % 26);
    memcpy(garbage, "this is not a database\n", 23);
    assert_int_equal(ws_write_file(f->db, garbage, sizeof garbage, 0600, &e), 0);

    ws_state *st = NULL;
    assert_int_equal(ws_state_open_file(f->db, 1, 0, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, "damaged");
    assert_contains(e.msg, f->db);
    assert_int_equal(file_size(f->db), (off_t)sizeof garbage); /* left as it was */

    /* Through ws_state_open: same refusal. */
    e.msg[0] = '\0';
    assert_int_equal(ws_state_open(f->dir, 0, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, "damaged");

    /* A short text file too. */
    char small[160];
    snprintf(small, sizeof small, "%s/small.db", f->dir);
    assert_int_equal(ws_write_file(small, "hello, world\n", 13, 0600, &e), 0);
    e.msg[0] = '\0';
    assert_int_equal(ws_state_open_file(small, 0, 0, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, "damaged");
}

static void test_empty_file(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_write_file(f->db, "", 0, 0600, &e), 0);
    ws_state *st = NULL;
    /* Without create, an empty file is not a lab... */
    assert_int_equal(ws_state_open_file(f->db, 0, 0, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, "empty");
    /* ...with create it is filled. */
    assert_int_equal(ws_state_open_file(f->db, 1, 0, &f->st, &e), 0);
    assert_int_equal(query_int(f->st->db, "PRAGMA user_version"), ws_state_schema_version());
}

static void test_open_missing(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    ws_state *st = NULL;

    /* A directory that does not exist. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-lab", f->dir);
    assert_int_equal(ws_state_open(missing, 0, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, missing);
    assert_false(file_exists(missing));

    /* A directory without lab.db. */
    e.msg[0] = '\0';
    assert_int_equal(ws_state_open(f->dir, 0, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, f->dir);
    assert_contains(e.msg, "lab.db");
    assert_false(file_exists(f->db));

    /* ws_state_open_file on a missing file without create. */
    e.msg[0] = '\0';
    assert_int_equal(ws_state_open_file(f->db, 0, 0, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, f->db);
    assert_false(file_exists(f->db));

    /* A regular file where the lab directory should be. */
    char plain[160];
    snprintf(plain, sizeof plain, "%s/plain", f->dir);
    assert_int_equal(ws_write_file(plain, "x", 1, 0600, &e), 0);
    e.msg[0] = '\0';
    assert_int_equal(ws_state_open(plain, 1, &st, &e), -1);
    assert_null(st);
    assert_contains(e.msg, plain);

    /* With create, the directory gets a lab.db, and lab_dir is absolute. */
    assert_int_equal(ws_state_open(f->dir, 1, &f->st, &e), 0);
    assert_true(file_exists(f->db));
    char real[PATH_MAX];
    assert_non_null(realpath(f->dir, real));
    assert_non_null(f->st->lab_dir);
    assert_string_equal(f->st->lab_dir, real);
    ws_state_close(f->st);
    f->st = NULL;

    /* A relative path works and is made absolute. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    int rc = ws_state_open(".", 0, &st, &e);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    f->st = st;
    assert_string_equal(f->st->lab_dir, real);
}

static void test_meta_round_trip(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_state_open(f->dir, 1, &f->st, &e), 0);
    char v[64] = "unchanged";
    assert_int_equal(ws_meta_get(f->st, "name", v, sizeof v), -1);
    assert_string_equal(v, "unchanged");

    assert_int_equal(ws_meta_set(f->st, "name", "contoso", &e), 0);
    assert_int_equal(ws_meta_set(f->st, "subnet", "127.77.0.0/24", &e), 0);
    assert_int_equal(ws_meta_get(f->st, "name", v, sizeof v), 0);
    assert_string_equal(v, "contoso");
    assert_int_equal(ws_meta_get(f->st, "subnet", v, sizeof v), 0);
    assert_string_equal(v, "127.77.0.0/24");

    /* Overwrite, not duplicate. */
    assert_int_equal(ws_meta_set(f->st, "name", "fabrikam", &e), 0);
    assert_int_equal(ws_meta_get(f->st, "name", v, sizeof v), 0);
    assert_string_equal(v, "fabrikam");
    assert_int_equal(query_int(f->st->db, "SELECT count(*) FROM lab_meta WHERE key = 'name'"), 1);

    /* Empty values are values; a small buffer truncates safely. */
    assert_int_equal(ws_meta_set(f->st, "empty", "", &e), 0);
    assert_int_equal(ws_meta_get(f->st, "empty", v, sizeof v), 0);
    assert_string_equal(v, "");
    char small[4];
    assert_int_equal(ws_meta_get(f->st, "name", small, sizeof small), 0);
    assert_string_equal(small, "fab");

    /* Survives reopening, through another connection. */
    ws_state_close(f->st);
    f->st = NULL;
    assert_int_equal(ws_state_open(f->dir, 0, &f->st, &e), 0);
    assert_int_equal(ws_meta_get(f->st, "subnet", v, sizeof v), 0);
    assert_string_equal(v, "127.77.0.0/24");
}

static void test_transactions_and_exec(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_state_open(f->dir, 1, &f->st, &e), 0);
    char v[64];

    assert_int_equal(ws_state_begin(f->st, &e), 0);
    assert_int_equal(ws_meta_set(f->st, "k", "rolled back", &e), 0);
    ws_state_rollback(f->st);
    assert_int_equal(ws_meta_get(f->st, "k", v, sizeof v), -1);

    assert_int_equal(ws_state_begin(f->st, &e), 0);
    assert_int_equal(ws_meta_set(f->st, "k", "committed", &e), 0);
    assert_int_equal(ws_state_commit(f->st, &e), 0);
    assert_int_equal(ws_meta_get(f->st, "k", v, sizeof v), 0);
    assert_string_equal(v, "committed");

    /* While one connection holds the write lock, another sees the old value. */
    ws_state *other = NULL;
    assert_int_equal(ws_state_open(f->dir, 0, &other, &e), 0);
    assert_int_equal(ws_state_begin(f->st, &e), 0);
    assert_int_equal(ws_meta_set(f->st, "k", "pending", &e), 0);
    assert_int_equal(ws_meta_get(other, "k", v, sizeof v), 0);
    assert_string_equal(v, "committed");
    assert_int_equal(ws_state_commit(f->st, &e), 0);
    assert_int_equal(ws_meta_get(other, "k", v, sizeof v), 0);
    assert_string_equal(v, "pending");
    ws_state_close(other);

    /* NULL parameters bind NULL. */
    assert_int_equal(ws_state_exec(f->st, &e,
                                   "INSERT INTO machines(name, fqdn, public_fqdn, address, role)"
                                   " VALUES(?, ?, ?, ?, ?)",
                                   5, "pc01", "pc01.contoso.com", NULL, "127.77.0.50", "client"),
                     0);
    assert_int_equal(query_int(f->st->db, "SELECT public_fqdn IS NULL FROM machines WHERE name = 'pc01'"), 1);

    /* Errors come back as messages. */
    e.msg[0] = '\0';
    assert_int_equal(ws_state_exec(f->st, &e, "INSERT INTO nosuchtable VALUES(1)", 0), -1);
    assert_contains(e.msg, "nosuchtable");
    e.msg[0] = '\0';
    assert_null(ws_state_prepare(f->st, "SELEKT 1", &e));
    assert_contains(e.msg, "syntax error");
    /* A CHECK constraint. */
    e.msg[0] = '\0';
    assert_int_equal(ws_state_exec(f->st, &e,
                                   "INSERT INTO machines(name, fqdn, address, role) VALUES(?, ?, ?, ?)", 4, "x1",
                                   "x1.contoso.com", "127.77.0.51", "toaster"),
                     -1);
    assert_contains(e.msg, "CHECK");
}

#define N_WRITERS 4
#define EVENTS_EACH 200

static int child_writer(const char *dir, int n)
{
    ws_state *st = NULL;
    ws_error e = {""};
    if (ws_state_open(dir, 0, &st, &e) != 0) {
        fprintf(stderr, "writer %d: %s\n", n, e.msg);
        return 1;
    }
    char machine[16];
    snprintf(machine, sizeof machine, "w%d", n);
    int bad = 0;
    for (int i = 0; i < EVENTS_EACH; i++)
        if (ws_event(st, machine, WS_CHANNEL_SYSTEM, "test", 1000 + i, WS_LEVEL_INFO, "writer %d event %d", n, i) !=
            0) {
            fprintf(stderr, "writer %d: event %d failed: %s\n", n, i, sqlite3_errmsg(st->db));
            bad = 1;
            break;
        }
    ws_state_close(st);
    return bad;
}

static void test_concurrent_writers(void **state)
{
    fixture *f = *state;
    ws_error e = {""};
    assert_int_equal(ws_state_open(f->dir, 1, &f->st, &e), 0);
    /* No connection crosses the fork. */
    ws_state_close(f->st);
    f->st = NULL;

    pid_t pids[N_WRITERS];
    for (int i = 0; i < N_WRITERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            _exit(child_writer(f->dir, i));
    }
    int failures = 0;
    for (int i = 0; i < N_WRITERS; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failures++;
    }
    assert_int_equal(failures, 0);

    assert_int_equal(ws_state_open(f->dir, 0, &f->st, &e), 0);
    sqlite3 *db = f->st->db;
    assert_int_equal(query_int(db, "SELECT count(*) FROM events"), N_WRITERS * EVENTS_EACH);
    assert_int_equal(query_int(db, "SELECT count(DISTINCT id) FROM events"), N_WRITERS * EVENTS_EACH);
    for (int i = 0; i < N_WRITERS; i++) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM events WHERE machine = 'w%d' AND text LIKE 'writer %d event %%'", i, i);
        assert_int_equal(query_int(db, sql), EVENTS_EACH);
        /* Each writer's events are in its own order. */
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM events a JOIN events b ON a.machine = b.machine"
                 " AND a.event_id < b.event_id AND a.id > b.id WHERE a.machine = 'w%d'",
                 i);
        assert_int_equal(query_int(db, sql), 0);
    }
}

/* Several processes opening a lab.db that does not exist yet, with create, as
 * components started together would: none may fail with "database is locked"
 * (PRAGMA journal_mode = WAL does not wait for the lock by itself) or "is not a
 * wapsim state file" (read while another process migrates). */
#define N_CREATORS 6
#define CREATE_ROUNDS 20

static void test_concurrent_create(void **state)
{
    fixture *f = *state;
    int failures = 0;
    for (int round = 0; round < CREATE_ROUNDS; round++) {
        char dir[160];
        snprintf(dir, sizeof dir, "%s/lab%d", f->dir, round);
        assert_int_equal(mkdir(dir, 0700), 0);
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t pids[N_CREATORS];
        for (int i = 0; i < N_CREATORS; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                close(go[1]);
                char c;
                if (read(go[0], &c, 1) < 0)
                    _exit(2);
                ws_state *st = NULL;
                ws_error e = {""};
                if (ws_state_open(dir, 1, &st, &e) != 0) {
                    fprintf(stderr, "round %d creator %d: %s\n", round, i, e.msg);
                    _exit(1);
                }
                ws_state_close(st);
                _exit(0);
            }
        }
        close(go[0]);
        close(go[1]); /* all start at once */
        for (int i = 0; i < N_CREATORS; i++) {
            int status = 0;
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                failures++;
        }
    }
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_version_counts_migrations),
        cmocka_unit_test_setup_teardown(test_new_file_is_latest_wal_with_foreign_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_version_1_keeps_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_to_5_allows_a_balancer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_to_7_counts_store_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_sqlite_file_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_file_refused_as_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions_and_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_create, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
