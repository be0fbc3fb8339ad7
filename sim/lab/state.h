/* SPDX-License-Identifier: Apache-2.0 */
/* state: the lab's state file, <lab>/lab.db, shared by every wapsim process.
 *
 * SQLite in WAL mode with foreign keys and a busy timeout, so the supervisor, five
 * components and the operator's commands can all write at once. The schema is
 * versioned by PRAGMA user_version and brought up to date by the migrations in
 * state.c; PRAGMA application_id marks the file as a wapsim lab. All SQL goes
 * through prepared statements. */
#ifndef WAPSIM_STATE_H
#define WAPSIM_STATE_H

#include <sqlite3.h>
#include <stdint.h>

#include "base/util.h"

#define WS_APPLICATION_ID 0x57415053 /* "WAPS" */
#define WS_BUSY_TIMEOUT_MS 10000
/* A lookup found no such row (lookups return 0, this, or -1). */
#define WS_NOT_FOUND (-2)

typedef struct ws_state {
    sqlite3 *db;
    char *lab_dir; /* absolute path of the lab directory */
} ws_state;

/* The schema version this build writes (the number of migrations). */
int ws_state_schema_version(void);

/* Open <lab_dir>/lab.db. With create, a missing file is created; otherwise it must
 * exist. Refuses a file that is not a wapsim lab, is damaged, or has a newer schema;
 * brings an older schema up to date. */
int ws_state_open(const char *lab_dir, int create, ws_state **out, ws_error *e);
/* Open any SQLite file as state (tests, templates), migrating it to target
 * (0 = latest). */
int ws_state_open_file(const char *path, int create, int target, ws_state **out, ws_error *e);
void ws_state_close(ws_state *st);

/* Apply migrations until user_version == target (each in its own transaction). */
int ws_state_migrate(sqlite3 *db, int target, ws_error *e);

/* Write transactions take the write lock at once (BEGIN IMMEDIATE). */
int ws_state_begin(ws_state *st, ws_error *e);
int ws_state_commit(ws_state *st, ws_error *e);
void ws_state_rollback(ws_state *st);

/* The one line a failed call of st's gives, into e: "<path> is damaged: <SQLite's
 * message>" when SQLite found the file corrupt or not a database, else "state file:
 * <SQLite's message>". Returns -1. */
int ws_state_error(ws_state *st, ws_error *e);
/* A process that must say when a state file it read is damaged (the wapsim command)
 * calls this first, before any SQLite call: SQLite's error log then records every
 * corruption it meets, even where a caller ignores the error. */
void ws_state_watch_damage(void);
/* NULL, or the state file SQLite found damaged since ws_state_watch_damage (the
 * latest opened when SQLite did not say which). */
const char *ws_state_damaged(void);

/* SQLite's quick_check of the whole file (every page, not only those a command
 * reads): 0, or -1 with e "<path> is damaged: ..." and the damage recorded for
 * ws_state_damaged. For what starts processes on the file (wapsim up). */
int ws_state_check(ws_state *st, ws_error *e);

/* Prepare or report: returns NULL with e set. */
sqlite3_stmt *ws_state_prepare(ws_state *st, const char *sql, ws_error *e);
/* Prepare and bind nparams texts (const char *; NULL binds NULL) to parameters 1..nparams;
 * the caller binds any others, steps, and finalizes (ws_state_finish). NULL with e set. */
sqlite3_stmt *ws_state_query(ws_state *st, ws_error *e, const char *sql, int nparams, ...);
/* Finalize s after its last sqlite3_step returned rc: 0 when rc is SQLITE_DONE or
 * SQLITE_ROW (a row loop the caller left early), else -1 with "state file: ..." in e. */
int ws_state_finish(ws_state *st, sqlite3_stmt *s, int rc, ws_error *e);
/* Run one statement with text bindings (NULL pointers bind NULL); for simple writes. */
int ws_state_exec(ws_state *st, ws_error *e, const char *sql, int nparams, ...);
/* The text in column 0 of a query's first row, into out (n bytes): 0, or WS_NOT_FOUND
 * with no row (out untouched), or -1 with e set. Texts bind as for ws_state_exec. */
int ws_state_text(ws_state *st, char *out, size_t n, ws_error *e, const char *sql, int nparams, ...);

/* lab_meta key/value pairs: the lab's name, subnet, clock offset. */
int ws_meta_get(ws_state *st, const char *key, char *out, size_t n);
int ws_meta_set(ws_state *st, const char *key, const char *value, ws_error *e);

#endif
