/*
 * sqlite_service.c — the service tables on SQLite: schema and a statement
 * runner for svc_store.c. One connection in WAL mode; the journal writer
 * batches decisions, so the request path does not wait on it.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/svc_store.h"

struct sq {
	hg_svc_store base;
	sqlite3 *db;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS hg_keys(id TEXT PRIMARY KEY, hash TEXT NOT NULL,"
	" tenant TEXT NOT NULL, role TEXT NOT NULL, rate REAL NOT NULL DEFAULT 0,"
	" burst REAL NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
	" revoked_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS hg_audit(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
	" actor TEXT NOT NULL, tenant TEXT NOT NULL, action TEXT NOT NULL,"
	" object TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL,"
	" hash TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS hg_audit_ts ON hg_audit(ts);"
	"CREATE TABLE IF NOT EXISTS hg_audit_head(id INTEGER PRIMARY KEY CHECK(id = 1),"
	" first_seq INTEGER NOT NULL, anchor TEXT NOT NULL, last_seq INTEGER NOT NULL,"
	" last_hash TEXT NOT NULL);"
	"INSERT OR IGNORE INTO hg_audit_head VALUES(1, 0, '', 0, '');"
	"CREATE TABLE IF NOT EXISTS hg_decisions(id TEXT PRIMARY KEY, ts INTEGER NOT NULL,"
	" tenant TEXT NOT NULL, key_id TEXT NOT NULL, verdict TEXT NOT NULL, pdq TEXT,"
	" quality INTEGER, md5 TEXT, sha1 TEXT, sha256 TEXT, matches TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS hg_decisions_tenant_ts ON hg_decisions(tenant, ts);"
	"CREATE TABLE IF NOT EXISTS hg_reviews(id TEXT PRIMARY KEY, decision_id TEXT NOT NULL,"
	" tenant TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,"
	" pdq TEXT, matches TEXT NOT NULL, decided_by TEXT, decided_at INTEGER, note TEXT);"
	"CREATE INDEX IF NOT EXISTS hg_reviews_tenant ON hg_reviews(tenant, status, created_at);";

static hg_status sq_run(hg_svc_store *base, const char *sql, const char *types,
			const void *const *args, hg_svc_row_fn fn, void *ctx, int *changes)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return hg_svc_fail(base, HG_ERR_STORE, "sqlite: prepare: %s", sqlite3_errmsg(s->db));
	for (int i = 0; types && types[i]; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
		else if (types[i] == 'i')
			sqlite3_bind_int64(st, i + 1, *(const int64_t *)args[i]);
		else
			sqlite3_bind_double(st, i + 1, *(const double *)args[i]);
	}
	hg_status rc = HG_OK;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (!fn)
			continue;
		int n = sqlite3_column_count(st);
		const char *cols[16];
		if (n > 16)
			n = 16;
		for (int c = 0; c < n; c++)
			cols[c] = (const char *)sqlite3_column_text(st, c);
		if (fn(ctx, cols, n) != 0)
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = hg_svc_fail(base, r == SQLITE_CONSTRAINT ? HG_ERR_EXISTS : HG_ERR_STORE,
				 "sqlite: %s", sqlite3_errmsg(s->db));
	if (changes)
		*changes = sqlite3_changes(s->db);
	sqlite3_finalize(st);
	return rc;
}

static hg_status sq_exec(hg_svc_store *base, const char *sql)
{
	struct sq *s = (struct sq *)base;
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		hg_svc_fail(base, HG_ERR_STORE, "sqlite: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return HG_ERR_STORE;
	}
	return HG_OK;
}

static void sq_close(hg_svc_store *base)
{
	struct sq *s = (struct sq *)base;
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->base.lock);
	free(s);
}

static const struct hg_svc_methods sqlite_methods = {
	.version = 1,
	.name = "sqlite",
	.begin_sql = "BEGIN IMMEDIATE",
	.lock_suffix = "",
	.close = sq_close,
	.run = sq_run,
	.exec = sq_exec,
};

hg_status hg_svc_sqlite_open(const char *path, hg_svc_store **out, char *err, size_t errlen)
{
	*out = NULL;
	struct sq *s = calloc(1, sizeof *s);
	if (!s)
		return HG_ERR_NOMEM;
	s->base.m = &sqlite_methods;
	pthread_mutex_init(&s->base.lock, NULL);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite: cannot open %s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sq_close(&s->base);
		return HG_ERR_STORE;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if (sq_exec(&s->base, schema) != HG_OK) {
		snprintf(err, errlen, "%s", s->base.errmsg);
		sq_close(&s->base);
		return HG_ERR_STORE;
	}
	*out = &s->base;
	return HG_OK;
}
