/* SPDX-License-Identifier: Apache-2.0 */
/* baseline: see baseline.h. */
#include "lab/baseline.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"

/* The tables a restore leaves alone (baseline.h says why), and the ones freshness ignores
 * besides: what a running lab writes by itself (its processes' events, tokens, sessions,
 * connects). */
static const char *const kept[] = {"exercises", "store_generations", "processes", "lab_meta", NULL};
static const char *const busy[] = {"events", "tokens", "sessions", "connects", NULL};

static int listed(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

static void path_of(const ws_state *st, const char *file, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", st->lab_dir, file);
}

int ws_baseline_exists(const char *lab_dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/" WS_BASELINE_DB, lab_dir);
    return access(path, R_OK) == 0;
}

static int copy_file(const char *from, const char *to, ws_error *e)
{
    unsigned char *data;
    size_t len;
    if (ws_read_file(from, WS_BUF_MAX_TEXT_FILE, &data, &len, e) != 0)
        return -1;
    char tmp[PATH_MAX + 48];
    snprintf(tmp, sizeof tmp, "%s.new.%d", to, (int)getpid());
    int rc = ws_write_file(tmp, data, len, 0644, e);
    free(data);
    if (rc == 0 && rename(tmp, to) != 0) {
        unlink(tmp);
        rc = ws_seterr(e, "cannot replace %s: %s", to, strerror(errno));
    }
    return rc;
}

int ws_baseline_save(ws_state *st, ws_error *e)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 64], hosts[PATH_MAX + 32], saved[PATH_MAX + 32];
    path_of(st, WS_BASELINE_DB, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.new.%d", path, (int)getpid());
    unlink(tmp);
    /* VACUUM INTO writes a consistent copy of the file as of one read transaction. */
    if (ws_state_exec(st, e, "VACUUM INTO ?", 1, tmp) != 0)
        return -1;
    if (chmod(tmp, 0600) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return ws_seterr(e, "cannot write %s: %s", path, strerror(errno));
    }
    path_of(st, "hosts", hosts, sizeof hosts);
    path_of(st, WS_BASELINE_HOSTS, saved, sizeof saved);
    return copy_file(hosts, saved, e);
}

/* ATTACH the baseline as "base" after checking it is a wapsim file of this schema. */
static int attach(ws_state *st, ws_error *e)
{
    char path[PATH_MAX + 32];
    path_of(st, WS_BASELINE_DB, path, sizeof path);
    ws_state *b = NULL;
    /* Opened alone first: a damaged or foreign file is refused with its own line. */
    if (access(path, R_OK) != 0)
        return ws_seterr(e, "%s: no baseline (made by classroom init)", path);
    if (ws_state_open_file(path, 0, 0, &b, e) != 0)
        return -1;
    ws_state_close(b);
    return ws_state_exec(st, e, "ATTACH DATABASE ? AS base", 1, path);
}

static void detach(ws_state *st)
{
    sqlite3_exec(st->db, "DETACH DATABASE base", NULL, NULL, NULL);
}

/* The world tables: every table of main but the kept ones and SQLite's own. */
static int world_tables(ws_state *st, ws_strv *out, ws_error *e)
{
    sqlite3_stmt *s = ws_state_prepare(st,
                                       "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                                       "'sqlite_%' ORDER BY name",
                                       e);
    if (!s)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        if (!listed(kept, name) && ws_strv_add(out, name) != 0)
            abort();
    }
    return ws_state_finish(st, s, rc, e);
}

static int exec_sql(ws_state *st, const char *sql, ws_error *e)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ws_seterr(e, "restoring the baseline: %s", msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Inside the transaction: every world table emptied first (a machine's delete cascades
 * into its stores, settings' rows and processes), then filled from the baseline; the
 * foreign keys are checked at commit (defer_foreign_keys). */
static int replace_rows(ws_state *st, const ws_strv *tables, ws_error *e)
{
    if (exec_sql(st, "PRAGMA defer_foreign_keys = ON;"
                     "CREATE TEMP TABLE keep_processes AS SELECT * FROM main.processes",
                 e) != 0)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < tables->n; i++) {
        char *sql = ws_printf("DELETE FROM main.\"%s\"", tables->v[i]);
        rc = exec_sql(st, sql, e);
        free(sql);
    }
    for (int i = 0; rc == 0 && i < tables->n; i++) {
        char *sql = ws_printf("INSERT INTO main.\"%s\" SELECT * FROM base.\"%s\"", tables->v[i], tables->v[i]);
        rc = exec_sql(st, sql, e);
        free(sql);
    }
    if (rc == 0)
        rc = exec_sql(st,
                      "DELETE FROM main.processes;"
                      "INSERT INTO main.processes SELECT * FROM temp.keep_processes"
                      "  WHERE machine IN (SELECT name FROM main.machines);"
                      "DELETE FROM main.lab_meta WHERE key = 'clock_offset_seconds';"
                      "INSERT INTO main.lab_meta SELECT * FROM base.lab_meta WHERE key = 'clock_offset_seconds'",
                      e);
    sqlite3_exec(st->db, "DROP TABLE IF EXISTS temp.keep_processes", NULL, NULL, NULL);
    return rc;
}

static int same_schema(ws_state *st, ws_error *e)
{
    char mine[16] = "", theirs[16] = "";
    if (ws_state_text(st, mine, sizeof mine, e, "PRAGMA main.user_version", 0) != 0 ||
        ws_state_text(st, theirs, sizeof theirs, e, "PRAGMA base.user_version", 0) != 0)
        return -1;
    if (strcmp(mine, theirs) != 0)
        return ws_seterr(e, "the baseline has schema version %s, the lab %s", theirs, mine);
    return 0;
}

int ws_baseline_restore(ws_state *st, ws_error *e)
{
    if (attach(st, e) != 0)
        return -1;
    ws_strv tables = {0};
    int rc = same_schema(st, e) != 0 || world_tables(st, &tables, e) != 0 || ws_state_begin(st, e) != 0 ? -1 : 0;
    if (rc == 0) {
        rc = replace_rows(st, &tables, e);
        if (rc == 0)
            rc = ws_state_commit(st, e);
        else
            ws_state_rollback(st);
    }
    ws_strv_free(&tables);
    detach(st);
    if (rc != 0)
        return -1;
    char hosts[PATH_MAX + 32], saved[PATH_MAX + 32];
    path_of(st, "hosts", hosts, sizeof hosts);
    path_of(st, WS_BASELINE_HOSTS, saved, sizeof saved);
    return copy_file(saved, hosts, e);
}

/* Rows of one table in main and not in base, or the other way round. */
static int table_differs(ws_state *st, const char *table, ws_error *e)
{
    char *sql = ws_printf("SELECT EXISTS(SELECT * FROM main.\"%s\" EXCEPT SELECT * FROM base.\"%s\")"
                          " OR EXISTS(SELECT * FROM base.\"%s\" EXCEPT SELECT * FROM main.\"%s\")",
                          table, table, table, table);
    char v[8] = "";
    int rc = ws_state_text(st, v, sizeof v, e, sql, 0);
    free(sql);
    return rc != 0 ? -1 : strcmp(v, "0") != 0;
}

static int hosts_differ(ws_state *st)
{
    char a[PATH_MAX + 32], b[PATH_MAX + 32];
    path_of(st, "hosts", a, sizeof a);
    path_of(st, WS_BASELINE_HOSTS, b, sizeof b);
    unsigned char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int differ = ws_read_file(a, WS_BUF_MAX_TEXT_FILE, &x, &nx, NULL) != 0 ||
                 ws_read_file(b, WS_BUF_MAX_TEXT_FILE, &y, &ny, NULL) != 0 || nx != ny || memcmp(x, y, nx) != 0;
    free(x);
    free(y);
    return differ;
}

int ws_baseline_is_fresh(ws_state *st, ws_error *e)
{
    if (attach(st, e) != 0)
        return -1;
    ws_strv tables = {0};
    int fresh = same_schema(st, e) != 0 || world_tables(st, &tables, e) != 0 ? -1 : 1;
    for (int i = 0; fresh == 1 && i < tables.n; i++) {
        if (listed(busy, tables.v[i]))
            continue;
        int d = table_differs(st, tables.v[i], e);
        fresh = d < 0 ? -1 : !d;
    }
    if (fresh == 1) {
        char v[8] = "";
        /* The clock offset, as the baseline's (the rest of lab_meta is the lab's own). */
        if (ws_state_text(st, v, sizeof v, e,
                          "SELECT (SELECT value FROM main.lab_meta WHERE key = 'clock_offset_seconds') IS "
                          "(SELECT value FROM base.lab_meta WHERE key = 'clock_offset_seconds')",
                          0) != 0)
            fresh = -1;
        else
            fresh = strcmp(v, "1") == 0;
    }
    ws_strv_free(&tables);
    detach(st);
    return fresh == 1 && hosts_differ(st) ? 0 : fresh;
}
