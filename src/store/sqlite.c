/*
 * sqlite.c — the SQLite backend: one database file in WAL mode, so readers
 * keep reading a consistent snapshot while one writer imports, and a crash
 * (even SIGKILL mid-import) rolls back to the last commit on reopen.
 * synchronous=FULL: a committed import survives power loss too.
 *
 * Prepared statements are cached by the address of their SQL text (the
 * store modules pass string literals), so a million-row import prepares its
 * INSERT once.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/schema.h"
#include "store/store_internal.h"

#define STMT_CACHE 48

struct sq {
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[STMT_CACHE];
	int ncache;
	sqlite3_stmt *stage;
};

static hg_status sq_fail(hg_store *st, int rc, const char *what)
{
	struct sq *q = st->db;
	const char *msg = q && q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc);
	hg_status s = HG_ERR_STORE;
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT: s = HG_ERR_EXISTS; break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: s = HG_ERR_CONFLICT; break;
	case SQLITE_NOMEM: s = HG_ERR_NOMEM; break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB: s = HG_ERR_CORRUPT; break;
	default: break;
	}
	return hg__store_fail(st, s, "sqlite: %s: %s", what, msg);
}

static hg_status sq_exec(hg_store *st, const char *sql)
{
	struct sq *q = st->db;
	int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? HG_OK : sq_fail(st, rc, "exec");
}

static hg_status sq_open(hg_store *st, const char *path)
{
	struct sq *q = calloc(1, sizeof *q);
	if (!q)
		return hg__store_fail(st, HG_ERR_NOMEM, "out of memory");
	st->db = q;
	int rc = sqlite3_open_v2(path, &q->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		hg_status s = hg__store_fail(st, HG_ERR_STORE, "sqlite: cannot open %s: %s", path,
					     q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
		return s;
	}
	sqlite3_busy_timeout(q->db, 30000);
	sqlite3_extended_result_codes(q->db, 1);
	/* journal_mode=WAL is persistent in the file; the others are per
	 * connection. */
	hg_status s = sq_exec(st, "PRAGMA journal_mode=WAL;"
				  "PRAGMA synchronous=FULL;"
				  "PRAGMA foreign_keys=ON;"
				  "PRAGMA cache_size=-65536;");
	if (s)
		return s;
	return HG_OK;
}

static void sq_close(hg_store *st)
{
	struct sq *q = st->db;
	if (!q)
		return;
	for (int i = 0; i < q->ncache; i++)
		sqlite3_finalize(q->cache[i].stmt);
	sqlite3_finalize(q->stage);
	sqlite3_close(q->db);
	free(q);
	st->db = NULL;
}

static hg_status sq_prepare(hg_store *st, const char *sql, sqlite3_stmt **out)
{
	struct sq *q = st->db;
	for (int i = 0; i < q->ncache; i++) {
		if (q->cache[i].sql == sql) {
			*out = q->cache[i].stmt;
			return HG_OK;
		}
	}
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(st, rc, "prepare");
	if (q->ncache == STMT_CACHE) { /* full: evict the oldest */
		sqlite3_finalize(q->cache[0].stmt);
		memmove(q->cache, q->cache + 1, sizeof q->cache[0] * (STMT_CACHE - 1));
		q->ncache--;
	}
	q->cache[q->ncache].sql = sql;
	q->cache[q->ncache].stmt = stmt;
	q->ncache++;
	*out = stmt;
	return HG_OK;
}

static hg_status sq_bind(hg_store *st, sqlite3_stmt *stmt, const hg_sqlparam *p, int np)
{
	for (int i = 0; i < np; i++) {
		int rc;
		switch (p[i].type) {
		case HG_SQL_INT: rc = sqlite3_bind_int64(stmt, i + 1, p[i].i); break;
		case HG_SQL_TEXT: rc = sqlite3_bind_text(stmt, i + 1, p[i].s, -1, SQLITE_STATIC); break;
		default: rc = sqlite3_bind_null(stmt, i + 1); break;
		}
		if (rc != SQLITE_OK)
			return sq_fail(st, rc, "bind");
	}
	return HG_OK;
}

static hg_status sq_query(hg_store *st, const char *sql, const hg_sqlparam *p, int np,
			  hg_row_fn fn, void *ctx, int64_t *changes)
{
	struct sq *q = st->db;
	sqlite3_stmt *stmt = NULL;
	hg_status s = sq_prepare(st, sql, &stmt);
	if (s)
		return s;
	if (sqlite3_bind_parameter_count(stmt) != np)
		return hg__store_fail(st, HG_ERR_INTERNAL, "sqlite: %d parameters for %d in: %.120s",
				      np, sqlite3_bind_parameter_count(stmt), sql);
	if ((s = sq_bind(st, stmt, p, np))) {
		sqlite3_reset(stmt);
		return s;
	}
	const char *vals[32];
	int ncols = sqlite3_column_count(stmt);
	if (ncols > 32)
		ncols = 32;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (!fn)
			continue;
		for (int c = 0; c < ncols; c++)
			vals[c] = (const char *)sqlite3_column_text(stmt, c);
		if (fn(ctx, ncols, vals)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		s = sq_fail(st, rc, "step");
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		return s;
	}
	if (changes)
		*changes = sqlite3_changes64(q->db);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return HG_OK;
}

static hg_status sq_begin(hg_store *st, int write)
{
	return sq_exec(st, write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

static hg_status sq_commit(hg_store *st)
{
	return sq_exec(st, "COMMIT");
}

static void sq_rollback(hg_store *st)
{
	struct sq *q = st->db;
	if (!sqlite3_get_autocommit(q->db))
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
}

static hg_status sq_stage_open(hg_store *st)
{
	struct sq *q = st->db;
	hg_status s = sq_exec(st, "CREATE TEMP TABLE IF NOT EXISTS hg_stage("
				  " seq INTEGER PRIMARY KEY, signal TEXT NOT NULL,"
				  " value TEXT NOT NULL, external_id TEXT, source TEXT);"
				  "DELETE FROM temp.hg_stage;");
	if (s || q->stage)
		return s;
	int rc = sqlite3_prepare_v3(q->db,
				    "INSERT INTO temp.hg_stage(signal, value, external_id, source)"
				    " VALUES (?1, ?2, ?3, ?4)",
				    -1, SQLITE_PREPARE_PERSISTENT, &q->stage, NULL);
	return rc == SQLITE_OK ? HG_OK : sq_fail(st, rc, "prepare stage");
}

static hg_status sq_stage(hg_store *st, const hg_stage_row *rows, size_t n)
{
	struct sq *q = st->db;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(q->stage, 1, rows[i].signal, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->stage, 2, rows[i].value, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->stage, 3, rows[i].external_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->stage, 4, rows[i].source, -1, SQLITE_STATIC);
		int rc = sqlite3_step(q->stage);
		sqlite3_reset(q->stage);
		if (rc != SQLITE_DONE)
			return sq_fail(st, rc, "stage");
	}
	sqlite3_clear_bindings(q->stage);
	return HG_OK;
}

static hg_status sq_stage_close(hg_store *st)
{
	(void)st;
	return HG_OK;
}

static int check_row(void *ctx, int ncols, const char *const *vals)
{
	char *first = ctx;
	if (ncols > 0 && !first[0])
		snprintf(first, 256, "%s", vals[0] ? vals[0] : "(null)");
	return 0;
}

static hg_status sq_check(hg_store *st)
{
	char first[256] = "";
	hg_status s = sq_query(st, "PRAGMA integrity_check", NULL, 0, check_row, first, NULL);
	if (s)
		return s;
	if (strcmp(first, "ok") != 0)
		return hg__store_fail(st, HG_ERR_CORRUPT, "sqlite integrity_check: %s", first);
	first[0] = '\0';
	if ((s = sq_query(st, "PRAGMA foreign_key_check", NULL, 0, check_row, first, NULL)))
		return s;
	if (first[0])
		return hg__store_fail(st, HG_ERR_CORRUPT, "sqlite foreign_key_check: table %s",
				      first);
	return HG_OK;
}

const hg_store_methods hg__sqlite_methods = {
	.iVersion = 1,
	.name = "sqlite",
	.migrations = hg__sqlite_migrations,
	.nmigrations = HG__SCHEMA_VERSION,
	.migrate_lock_sql = NULL,
	.xOpen = sq_open,
	.xClose = sq_close,
	.xExec = sq_exec,
	.xQuery = sq_query,
	.xBegin = sq_begin,
	.xCommit = sq_commit,
	.xRollback = sq_rollback,
	.xStageOpen = sq_stage_open,
	.xStage = sq_stage,
	.xStageClose = sq_stage_close,
	.xCheck = sq_check,
};
