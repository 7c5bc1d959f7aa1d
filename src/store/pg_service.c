/*
 * pg_service.c — the service tables on PostgreSQL, for several
 * `hashgate serve` replicas sharing one database: schema and a statement
 * runner for svc_store.c. A journal batch locks the audit head row
 * (SELECT ... FOR UPDATE), so replicas append to one chain in order.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/svc_store.h"

struct pg {
	hg_svc_store base;
	PGconn *conn;
};

static const char schema[] =
	"SET client_min_messages = warning;"
	"CREATE TABLE IF NOT EXISTS hg_keys(id TEXT PRIMARY KEY, hash TEXT NOT NULL,"
	" tenant TEXT NOT NULL, role TEXT NOT NULL, rate DOUBLE PRECISION NOT NULL DEFAULT 0,"
	" burst DOUBLE PRECISION NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,"
	" revoked_at BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS hg_audit(seq BIGINT PRIMARY KEY, ts BIGINT NOT NULL,"
	" actor TEXT NOT NULL, tenant TEXT NOT NULL, action TEXT NOT NULL,"
	" object TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL,"
	" hash TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS hg_audit_ts ON hg_audit(ts);"
	"CREATE TABLE IF NOT EXISTS hg_audit_head(id INTEGER PRIMARY KEY CHECK(id = 1),"
	" first_seq BIGINT NOT NULL, anchor TEXT NOT NULL, last_seq BIGINT NOT NULL,"
	" last_hash TEXT NOT NULL);"
	"INSERT INTO hg_audit_head VALUES(1, 0, '', 0, '') ON CONFLICT DO NOTHING;"
	"CREATE TABLE IF NOT EXISTS hg_decisions(id TEXT PRIMARY KEY, ts BIGINT NOT NULL,"
	" tenant TEXT NOT NULL, key_id TEXT NOT NULL, verdict TEXT NOT NULL, pdq TEXT,"
	" quality INTEGER, md5 TEXT, sha1 TEXT, sha256 TEXT, matches TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS hg_decisions_tenant_ts ON hg_decisions(tenant, ts);"
	"CREATE TABLE IF NOT EXISTS hg_reviews(id TEXT PRIMARY KEY, decision_id TEXT NOT NULL,"
	" tenant TEXT NOT NULL, status TEXT NOT NULL, created_at BIGINT NOT NULL,"
	" pdq TEXT, matches TEXT NOT NULL, decided_by TEXT, decided_at BIGINT, note TEXT);"
	"CREATE INDEX IF NOT EXISTS hg_reviews_tenant ON hg_reviews(tenant, status, created_at);";

static hg_status pg_run(hg_svc_store *base, const char *sql, const char *types,
			const void *const *args, hg_svc_row_fn fn, void *ctx, int *changes)
{
	struct pg *p = (struct pg *)base;
	const char *vals[16];
	char bufs[16][32];
	int n = 0;
	for (; types && types[n] && n < 16; n++) {
		if (types[n] == 't') {
			vals[n] = args[n];
		} else if (types[n] == 'i') {
			snprintf(bufs[n], sizeof bufs[n], "%lld", (long long)*(const int64_t *)args[n]);
			vals[n] = bufs[n];
		} else {
			snprintf(bufs[n], sizeof bufs[n], "%.17g", *(const double *)args[n]);
			vals[n] = bufs[n];
		}
	}
	PGresult *res = PQexecParams(p->conn, sql, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	hg_status rc = HG_OK;
	if (st == PGRES_TUPLES_OK && fn) {
		int rows = PQntuples(res), cols = PQnfields(res);
		if (cols > 16)
			cols = 16;
		for (int r = 0; r < rows; r++) {
			const char *c[16];
			for (int k = 0; k < cols; k++)
				c[k] = PQgetisnull(res, r, k) ? NULL : PQgetvalue(res, r, k);
			if (fn(ctx, c, cols) != 0)
				break;
		}
	} else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		hg_status code = state && !strcmp(state, "23505") ? HG_ERR_EXISTS : HG_ERR_STORE;
		rc = hg_svc_fail(base, code, "postgres: %s", PQerrorMessage(p->conn));
	}
	if (changes)
		*changes = atoi(PQcmdTuples(res));
	PQclear(res);
	return rc;
}

static hg_status pg_exec(hg_svc_store *base, const char *sql)
{
	struct pg *p = (struct pg *)base;
	PGresult *res = PQexec(p->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	hg_status rc = HG_OK;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = hg_svc_fail(base, HG_ERR_STORE, "postgres: %s", PQerrorMessage(p->conn));
	PQclear(res);
	return rc;
}

static void pg_close(hg_svc_store *base)
{
	struct pg *p = (struct pg *)base;
	PQfinish(p->conn);
	pthread_mutex_destroy(&p->base.lock);
	free(p);
}

static const struct hg_svc_methods pg_methods = {
	.version = 1,
	.name = "postgres",
	.begin_sql = "BEGIN",
	.lock_suffix = " FOR UPDATE",
	.close = pg_close,
	.run = pg_run,
	.exec = pg_exec,
};

hg_status hg_svc_pg_open(const char *conninfo, hg_svc_store **out, char *err, size_t errlen)
{
	*out = NULL;
	struct pg *p = calloc(1, sizeof *p);
	if (!p)
		return HG_ERR_NOMEM;
	p->base.m = &pg_methods;
	pthread_mutex_init(&p->base.lock, NULL);
	p->conn = PQconnectdb(conninfo);
	if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
		snprintf(err, errlen, "postgres: cannot connect: %s",
			 p->conn ? PQerrorMessage(p->conn) : "out of memory");
		pg_close(&p->base);
		return HG_ERR_STORE;
	}
	/* Two replicas creating the tables at once can race on the catalog; an
	 * advisory lock makes first-time setup one at a time. */
	if (pg_exec(&p->base, "SELECT pg_advisory_lock(7245001)") != HG_OK ||
	    pg_exec(&p->base, schema) != HG_OK) {
		snprintf(err, errlen, "%s", p->base.errmsg);
		pg_close(&p->base);
		return HG_ERR_STORE;
	}
	pg_exec(&p->base, "SELECT pg_advisory_unlock(7245001)");
	*out = &p->base;
	return HG_OK;
}
