/* SPDX-License-Identifier: Apache-2.0 */
/* state: see state.h. */
#include "lab/state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Damage SQLite reported, for ws_state_damaged: the file when known, else the latest
 * opened. Written by the thread that meets it; the wapsim command has one. */
static int damage_seen;
static char damage_path[4200], last_opened[4200];

/* Migration N takes a file from user_version N-1 to N. Never edit a shipped
 * migration: add a new one. */
static const char *const migrations[] = {
    /* 1: the world: machines, certificate vault, stores, settings, tenants and VMs,
     * the event log, issued tokens, console sessions. */
    "CREATE TABLE lab_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE machines("
    "  name TEXT PRIMARY KEY, fqdn TEXT NOT NULL UNIQUE, public_fqdn TEXT,"
    "  address TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK(role IN ('portal','spf','vmm','gateway','host','client')),"
    "  port INTEGER, skew_seconds INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE certificates("
    "  name TEXT PRIMARY KEY, thumbprint TEXT NOT NULL CHECK(length(thumbprint) = 40),"
    "  der BLOB NOT NULL, key_der BLOB, csp TEXT, created_at INTEGER NOT NULL);"
    "CREATE INDEX certificates_by_thumbprint ON certificates(thumbprint);"
    "CREATE TABLE store_entries("
    "  machine TEXT NOT NULL REFERENCES machines(name) ON DELETE CASCADE,"
    "  store TEXT NOT NULL CHECK(store IN ('My','Root')),"
    "  certificate TEXT NOT NULL REFERENCES certificates(name) ON DELETE CASCADE,"
    "  has_private_key INTEGER NOT NULL DEFAULT 0 CHECK(has_private_key IN (0,1)),"
    "  PRIMARY KEY(machine, store, certificate));"
    "CREATE TABLE settings(scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    "  PRIMARY KEY(scope, key));"
    "CREATE TABLE trusted_issuers("
    "  machine TEXT NOT NULL REFERENCES machines(name) ON DELETE CASCADE,"
    "  thumbprint TEXT NOT NULL CHECK(length(thumbprint) = 40),"
    "  PRIMARY KEY(machine, thumbprint));"
    "CREATE TABLE accounts(name TEXT PRIMARY KEY,"
    "  role TEXT NOT NULL CHECK(role IN ('tenant','fabric-admin','service')),"
    "  password_hash TEXT NOT NULL);"
    "CREATE TABLE subscriptions(id TEXT PRIMARY KEY,"
    "  tenant TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE, name TEXT NOT NULL);"
    "CREATE TABLE vms(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, os TEXT NOT NULL,"
    "  state TEXT NOT NULL, subscription TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,"
    "  host TEXT NOT NULL REFERENCES machines(name));"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, machine TEXT NOT NULL,"
    "  channel TEXT NOT NULL, source TEXT NOT NULL, event_id INTEGER NOT NULL,"
    "  level TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX events_by_machine ON events(machine, id);"
    "CREATE TABLE tokens(id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK(kind IN ('HostToken','VMToken')), vm TEXT NOT NULL,"
    "  host TEXT NOT NULL, signer_thumbprint TEXT NOT NULL, issued_at INTEGER NOT NULL,"
    "  expires_on INTEGER NOT NULL, token TEXT NOT NULL);"
    "CREATE TABLE sessions(id INTEGER PRIMARY KEY, vm TEXT NOT NULL, tenant TEXT,"
    "  host TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER,"
    "  state TEXT NOT NULL, reason TEXT);",

    /* 2: supervision: which program runs each machine, its pid and restart count. */
    "CREATE TABLE processes("
    "  machine TEXT PRIMARY KEY REFERENCES machines(name) ON DELETE CASCADE,"
    "  program TEXT NOT NULL, pid INTEGER, restarts INTEGER NOT NULL DEFAULT 0,"
    "  started_at_ms INTEGER);",

    /* 3: training: exercise attempts. The scenario is named only by the SHA-256 of its
     * text (nothing here names the fault); nonce matches <lab>/run/exercise.active. */
    "CREATE TABLE exercises(id INTEGER PRIMARY KEY, scenario_hash TEXT NOT NULL,"
    "  level INTEGER NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER,"
    "  hints INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL CHECK(state IN ('active','solved','given-up','void')),"
    "  score INTEGER, allow_diagnose INTEGER NOT NULL DEFAULT 0,"
    "  lab_instance TEXT NOT NULL, nonce TEXT NOT NULL);",

    /* 4: account lockout, as AD keeps it on each account [model: accounts.h]: the bad
     * passwords counted (badPwdCount), the last one's time (badPasswordTime), when the
     * account was locked out (lockoutTime, 0: it is not), and where: the machine that
     * logged 4740 and the caller's address (its "Caller Computer Name"). Times are the
     * lab clock's, in seconds. One ALTER per column, in the migration's transaction. */
    "ALTER TABLE accounts ADD COLUMN bad_pwd_count INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN bad_pwd_time INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN lockout_time INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN lockout_machine TEXT;"
    "ALTER TABLE accounts ADD COLUMN lockout_caller TEXT;",

    /* 5: highly available layouts and key access. A machine may be a load balancer: the
     * role list of machines' CHECK grows, by SQLite's documented way of loosening a CHECK
     * constraint in place (sqlite.org/lang_altertable.html, "Making Other Kinds Of Table
     * Schema Changes"; ws_state_migrate bumps the schema version after it), since a
     * rebuild would cascade deletes into every table naming a machine. key_access is a
     * private key's access list on a machine, as certutil -store -v My and "Manage
     * Private Keys" show it: who may read it (lab/store.h). */
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_schema SET sql = replace(sql, '''host'',''client'')', '''host'',''client'',''balancer'')')"
    "  WHERE type = 'table' AND name = 'machines';"
    "PRAGMA writable_schema = OFF;"
    "CREATE TABLE key_access(machine TEXT NOT NULL, store TEXT NOT NULL DEFAULT 'My',"
    "  certificate TEXT NOT NULL, account TEXT NOT NULL COLLATE NOCASE,"
    "  rights TEXT NOT NULL CHECK(rights IN ('Read','Full Control')),"
    "  PRIMARY KEY(machine, store, certificate, account),"
    "  FOREIGN KEY(machine, store, certificate) REFERENCES store_entries(machine, store, certificate)"
    "  ON DELETE CASCADE);",

    /* 6: a customer's deployment (lab/deployment.h). Private keys do not travel, so a
     * certificate loaded from one is a stand-in: the same fields, a new key, signed by its
     * issuer's stand-in. original_thumbprint is the customer's certificate's thumbprint
     * (NULL: not a stand-in), so evidence can name both and relations stay by identity. */
    "ALTER TABLE certificates ADD COLUMN original_thumbprint TEXT"
    "  CHECK(original_thumbprint IS NULL OR length(original_thumbprint) = 40);"
    "CREATE INDEX certificates_by_original ON certificates(original_thumbprint);",

    /* 7: a change counter per machine's certificate stores (lab/store.h
     * ws_store_generation), so a process may keep a TLS context built from them until they
     * change. Triggers bump it in the writer's own transaction, whoever writes (every
     * command, old code paths, a foreign-key cascade from a deleted certificate or
     * machine): a store entry added, removed or changed (has_private_key), a private key's
     * access list changed, a vault certificate changed under a name the stores hold. A
     * bump sets the machine's counter past every counter in the file, so a value never
     * comes back for a machine, even one deleted and added again (rows are never deleted).
     * The row '' is the file's base, random, so a lab made again at the same path does not
     * repeat the values a running process may have cached. */
    "CREATE TABLE store_generations(machine TEXT PRIMARY KEY, generation INTEGER NOT NULL);"
    "INSERT INTO store_generations(machine, generation) VALUES('', abs(random() >> 24));"
    "CREATE TRIGGER store_entries_added AFTER INSERT ON store_entries BEGIN"
    "  INSERT INTO store_generations(machine, generation) SELECT NEW.machine, 0"
    "    WHERE NOT EXISTS(SELECT 1 FROM store_generations WHERE machine = NEW.machine);"
    "  UPDATE store_generations SET generation = (SELECT max(generation) FROM store_generations) + 1"
    "    WHERE machine = NEW.machine;"
    "END;"
    "CREATE TRIGGER store_entries_removed AFTER DELETE ON store_entries BEGIN"
    "  INSERT INTO store_generations(machine, generation) SELECT OLD.machine, 0"
    "    WHERE NOT EXISTS(SELECT 1 FROM store_generations WHERE machine = OLD.machine);"
    "  UPDATE store_generations SET generation = (SELECT max(generation) FROM store_generations) + 1"
    "    WHERE machine = OLD.machine;"
    "END;"
    "CREATE TRIGGER store_entries_changed AFTER UPDATE ON store_entries BEGIN"
    "  INSERT INTO store_generations(machine, generation) SELECT DISTINCT m, 0 FROM"
    "    (SELECT OLD.machine AS m UNION SELECT NEW.machine)"
    "    WHERE m NOT IN (SELECT machine FROM store_generations);"
    "  UPDATE store_generations SET generation = (SELECT max(generation) FROM store_generations) + 1"
    "    WHERE machine IN (OLD.machine, NEW.machine);"
    "END;"
    "CREATE TRIGGER key_access_added AFTER INSERT ON key_access BEGIN"
    "  INSERT INTO store_generations(machine, generation) SELECT NEW.machine, 0"
    "    WHERE NOT EXISTS(SELECT 1 FROM store_generations WHERE machine = NEW.machine);"
    "  UPDATE store_generations SET generation = (SELECT max(generation) FROM store_generations) + 1"
    "    WHERE machine = NEW.machine;"
    "END;"
    "CREATE TRIGGER key_access_removed AFTER DELETE ON key_access BEGIN"
    "  INSERT INTO store_generations(machine, generation) SELECT OLD.machine, 0"
    "    WHERE NOT EXISTS(SELECT 1 FROM store_generations WHERE machine = OLD.machine);"
    "  UPDATE store_generations SET generation = (SELECT max(generation) FROM store_generations) + 1"
    "    WHERE machine = OLD.machine;"
    "END;"
    "CREATE TRIGGER key_access_changed AFTER UPDATE ON key_access BEGIN"
    "  INSERT INTO store_generations(machine, generation) SELECT DISTINCT m, 0 FROM"
    "    (SELECT OLD.machine AS m UNION SELECT NEW.machine)"
    "    WHERE m NOT IN (SELECT machine FROM store_generations);"
    "  UPDATE store_generations SET generation = (SELECT max(generation) FROM store_generations) + 1"
    "    WHERE machine IN (OLD.machine, NEW.machine);"
    "END;"
    "CREATE TRIGGER certificates_changed AFTER UPDATE ON certificates BEGIN"
    "  INSERT INTO store_generations(machine, generation) SELECT DISTINCT machine, 0 FROM store_entries"
    "    WHERE certificate IN (OLD.name, NEW.name) AND machine NOT IN (SELECT machine FROM store_generations);"
    "  UPDATE store_generations SET generation = (SELECT max(generation) FROM store_generations) + 1"
    "    WHERE machine IN (SELECT machine FROM store_entries WHERE certificate IN (OLD.name, NEW.name));"
    "END;",

    /* 8: the newest console connects, as the tenant's PC made them (lab/connects.h), for
     * the admin site's topology. code is NULL when Remote Desktop Connection gave none;
     * hops is the hops' JSON array. */
    "CREATE TABLE connects(id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, tenant TEXT,"
    "  vm TEXT NOT NULL, ok INTEGER NOT NULL, stage TEXT NOT NULL, code INTEGER, message TEXT NOT NULL,"
    "  gateway TEXT NOT NULL, computer TEXT NOT NULL, hops TEXT NOT NULL);",

    /* 9: what a trainer's page shows of an attempt (train/exercise.h): how many times
     * `exercise check` was tried, and for a generated exercise its generator line
     * ("level=3 seed=42 faults=m3a,m1b@hv02"; NULL for a catalogue file). */
    "ALTER TABLE exercises ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE exercises ADD COLUMN generated TEXT;",
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int ws_state_schema_version(void)
{
    return N_MIGRATIONS;
}

static int pragma_int(sqlite3 *db, const char *sql, int *out, ws_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        ws_seterr(e, "%s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

int ws_state_migrate(sqlite3 *db, int target, ws_error *e)
{
    if (target <= 0 || target > N_MIGRATIONS)
        target = N_MIGRATIONS;
    /* Most opens find the schema current: check without taking the write lock. */
    int current;
    if (pragma_int(db, "PRAGMA user_version", &current, e) == 0 && current >= target)
        return 0;
    for (;;) {
        char *errmsg = NULL;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &errmsg) != SQLITE_OK) {
            ws_seterr(e, "cannot lock the state file: %s", errmsg ? errmsg : "?");
            sqlite3_free(errmsg);
            return -1;
        }
        /* Read the version under the write lock: another process may have migrated. */
        int version;
        if (pragma_int(db, "PRAGMA user_version", &version, e) != 0)
            goto fail;
        if (version >= target) {
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            return 0;
        }
        if (sqlite3_exec(db, migrations[version], NULL, NULL, &errmsg) != SQLITE_OK) {
            ws_seterr(e, "migration %d failed: %s", version + 1, errmsg ? errmsg : "?");
            sqlite3_free(errmsg);
            goto fail;
        }
        /* A migration that edited the schema's text tells other connections by the
         * schema version, as the documented procedure says. */
        int edits_schema = strstr(migrations[version], "writable_schema") != NULL, schema = 0;
        if (edits_schema && pragma_int(db, "PRAGMA schema_version", &schema, e) != 0)
            goto fail;
        char sql[160];
        snprintf(sql, sizeof sql, "%s%d; PRAGMA user_version = %d; PRAGMA application_id = %d",
                 edits_schema ? "PRAGMA schema_version = " : "SELECT ", schema + 1, version + 1, WS_APPLICATION_ID);
        if (sqlite3_exec(db, sql, NULL, NULL, &errmsg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &errmsg) != SQLITE_OK) {
            ws_seterr(e, "migration %d failed: %s", version + 1, errmsg ? errmsg : "?");
            sqlite3_free(errmsg);
            goto fail;
        }
        continue;
    fail:
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
}

/* The state file holds private keys and password hashes: its owner alone reads it,
 * and its -wal and -shm files, which SQLite creates with the main file's mode. An
 * older lab's 0644 file is tightened when its owner opens it; others leave it be. */
static void make_private(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char p[4200];
        struct stat sb;
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == geteuid() && (sb.st_mode & 077))
            chmod(p, sb.st_mode & 0600);
    }
}

int ws_state_open_file(const char *path, int create, int target, ws_state **out, ws_error *e)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        ws_seterr(e, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    make_private(path);
    snprintf(last_opened, sizeof last_opened, "%s", path);
    sqlite3_busy_timeout(db, WS_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    int app_id, version, tables;
    ws_error inner = {""};
    /* The first read is where SQLite finds a damaged or foreign file. The three
     * values are read in one transaction: another process may be migrating. */
    int bad = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
              pragma_int(db, "PRAGMA application_id", &app_id, &inner) != 0 ||
              pragma_int(db, "PRAGMA user_version", &version, &inner) != 0 ||
              pragma_int(db, "SELECT count(*) FROM sqlite_master", &tables, &inner) != 0;
    if (bad && !inner.msg[0])
        snprintf(inner.msg, sizeof inner.msg, "%s", sqlite3_errmsg(db));
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (bad) {
        ws_seterr(e, "%s is damaged: %s", path, inner.msg);
        sqlite3_close(db);
        return -1;
    }
    if (app_id != WS_APPLICATION_ID && !(app_id == 0 && version == 0)) {
        ws_seterr(e, "%s is not a wapsim state file (application_id 0x%08x)", path, (unsigned)app_id);
        sqlite3_close(db);
        return -1;
    }
    if (app_id == 0 && version == 0) {
        /* An empty file is ours to fill; a file with tables of someone else's is not. */
        if (tables > 0) {
            ws_seterr(e, "%s is not a wapsim state file", path);
            sqlite3_close(db);
            return -1;
        }
        if (!create) {
            ws_seterr(e, "%s is empty, not a wapsim lab", path);
            sqlite3_close(db);
            return -1;
        }
    }
    if (version > N_MIGRATIONS) {
        ws_seterr(e, "%s has schema version %d; this wapsim knows up to %d", path, version, N_MIGRATIONS);
        sqlite3_close(db);
        return -1;
    }
    char *errmsg = NULL;
    /* Switching to WAL takes an exclusive lock and ignores the busy timeout: retry. */
    int rc;
    for (int waited = 0;; waited += 20) {
        rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        if (waited >= WS_BUSY_TIMEOUT_MS)
            break;
        ws_sleep_ms(20);
    }
    if (rc != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", NULL, NULL, &errmsg) !=
            SQLITE_OK) {
        ws_seterr(e, "%s: %s", path, errmsg ? errmsg : sqlite3_errmsg(db));
        sqlite3_free(errmsg);
        sqlite3_close(db);
        return -1;
    }
    if (ws_state_migrate(db, target, e) != 0) {
        sqlite3_close(db);
        return -1;
    }
    ws_state *st = calloc(1, sizeof *st);
    if (!st)
        abort();
    st->db = db;
    *out = st;
    return 0;
}

int ws_state_open(const char *lab_dir, int create, ws_state **out, ws_error *e)
{
    char abs[4096];
    if (!realpath(lab_dir, abs))
        return ws_seterr(e, "no lab at %s (create one with: wapsim lab init %s)", lab_dir, lab_dir);
    struct stat sb;
    if (stat(abs, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return ws_seterr(e, "%s is not a lab directory", lab_dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/lab.db", abs);
    if (!create && access(path, F_OK) != 0)
        return ws_seterr(e, "%s is not a wapsim lab: it has no lab.db", lab_dir);
    if (ws_state_open_file(path, create, 0, out, e) != 0)
        return -1;
    (*out)->lab_dir = ws_strdup(abs);
    return 0;
}

void ws_state_close(ws_state *st)
{
    if (!st)
        return;
    sqlite3_close(st->db);
    free(st->lab_dir);
    free(st);
}

int ws_state_begin(ws_state *st, ws_error *e)
{
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return ws_seterr(e, "state file busy: %s", sqlite3_errmsg(st->db));
    return 0;
}

int ws_state_commit(ws_state *st, ws_error *e)
{
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        ws_seterr(e, "cannot commit: %s", sqlite3_errmsg(st->db));
        ws_state_rollback(st);
        return -1;
    }
    return 0;
}

void ws_state_rollback(ws_state *st)
{
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static int is_damage(int code)
{
    return (code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB;
}

static void on_sqlite_log(void *arg, int code, const char *msg)
{
    (void)arg, (void)msg;
    if (is_damage(code))
        damage_seen = 1;
}

void ws_state_watch_damage(void)
{
    sqlite3_config(SQLITE_CONFIG_LOG, on_sqlite_log, NULL);
}

const char *ws_state_damaged(void)
{
    if (!damage_seen)
        return NULL;
    return damage_path[0] ? damage_path : last_opened[0] ? last_opened : "the state file";
}

int ws_state_error(ws_state *st, ws_error *e)
{
    const char *path = sqlite3_db_filename(st->db, "main");
    if (is_damage(sqlite3_extended_errcode(st->db)) && path && path[0]) {
        damage_seen = 1;
        snprintf(damage_path, sizeof damage_path, "%s", path);
        return ws_seterr(e, "%s is damaged: %s", path, sqlite3_errmsg(st->db));
    }
    return ws_seterr(e, "state file: %s", sqlite3_errmsg(st->db));
}

int ws_state_check(ws_state *st, ws_error *e)
{
    sqlite3_stmt *s = ws_state_prepare(st, "PRAGMA quick_check(1)", e);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    char first[256] = "";
    if (rc == SQLITE_ROW && sqlite3_column_text(s, 0))
        snprintf(first, sizeof first, "%s", (const char *)sqlite3_column_text(s, 0));
    else if (rc != SQLITE_DONE)
        ws_state_error(st, e);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    if (rc == SQLITE_ROW && strcmp(first, "ok") == 0)
        return 0;
    for (char *c = first; *c; c++) /* its report is lines ("*** in database main ***\nPage 4: ...") */
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    const char *path = sqlite3_db_filename(st->db, "main");
    damage_seen = 1;
    snprintf(damage_path, sizeof damage_path, "%s", path ? path : "");
    return ws_seterr(e, "%s is damaged: quick_check: %s", path ? path : "the state file", first);
}

sqlite3_stmt *ws_state_prepare(ws_state *st, const char *sql, ws_error *e)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        ws_state_error(st, e);
        return NULL;
    }
    return s;
}

/* Prepare and bind nparams texts from ap (NULL binds NULL). */
static sqlite3_stmt *vquery(ws_state *st, ws_error *e, const char *sql, int nparams, va_list ap)
{
    sqlite3_stmt *s = ws_state_prepare(st, sql, e);
    for (int i = 0; s && i < nparams; i++) {
        const char *v = va_arg(ap, const char *);
        if (v)
            sqlite3_bind_text(s, i + 1, v, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(s, i + 1);
    }
    return s;
}

sqlite3_stmt *ws_state_query(ws_state *st, ws_error *e, const char *sql, int nparams, ...)
{
    va_list ap;
    va_start(ap, nparams);
    sqlite3_stmt *s = vquery(st, e, sql, nparams, ap);
    va_end(ap);
    return s;
}

int ws_state_finish(ws_state *st, sqlite3_stmt *s, int rc, ws_error *e)
{
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ws_state_error(st, e);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int ws_state_exec(ws_state *st, ws_error *e, const char *sql, int nparams, ...)
{
    va_list ap;
    va_start(ap, nparams);
    sqlite3_stmt *s = vquery(st, e, sql, nparams, ap);
    va_end(ap);
    return s ? ws_state_finish(st, s, sqlite3_step(s), e) : -1;
}

int ws_state_text(ws_state *st, char *out, size_t n, ws_error *e, const char *sql, int nparams, ...)
{
    va_list ap;
    va_start(ap, nparams);
    sqlite3_stmt *s = vquery(st, e, sql, nparams, ap);
    va_end(ap);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        snprintf(out, n, "%s", v ? v : "");
    }
    if (ws_state_finish(st, s, rc, e) != 0)
        return -1;
    return rc == SQLITE_ROW ? 0 : WS_NOT_FOUND;
}

int ws_meta_get(ws_state *st, const char *key, char *out, size_t n)
{
    return ws_state_text(st, out, n, NULL, "SELECT value FROM lab_meta WHERE key = ?", 1, key) == 0 ? 0 : -1;
}

int ws_meta_set(ws_state *st, const char *key, const char *value, ws_error *e)
{
    return ws_state_exec(st, e, "INSERT INTO lab_meta(key, value) VALUES(?, ?) "
                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                         2, key, value);
}
