/*
 * postgres.c — the PostgreSQL backend (libpq), for several hashgate servers
 * sharing banks. Rows stream back in libpq's single-row mode, so reading a
 * 10M-entry bank needs no more memory than one row; bulk staging uses
 * COPY ... FROM STDIN, the only way to load a million rows in seconds.
 *
 * Reads run in REPEATABLE READ READ ONLY transactions (one snapshot); writes
 * in READ COMMITTED, serialised per bank by the row lock that the version
 * bump takes first (see banks.c).
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/schema.h"
#include "store/store_internal.h"

#define COPY_CHUNK (1u << 20)

struct pg {
	PGconn *conn;
	int copying;
	char *copybuf;
	size_t copylen;
};

/* The library never prints: swallow NOTICEs ("table already exists"). */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static hg_status pg_fail_res(hg_store *st, PGresult *res, const char *what)
{
	struct pg *p = st->db;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : "";
	if (!msg || !*msg)
		msg = PQerrorMessage(p->conn);
	hg_status s = HG_ERR_STORE;
	if (state) {
		if (!strcmp(state, "23505"))
			s = HG_ERR_EXISTS;
		else if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
			s = HG_ERR_CONFLICT;
		else if (!strcmp(state, "57014"))
			s = HG_ERR_TIMEOUT;
		else if (!strcmp(state, "XX001") || !strcmp(state, "XX002"))
			s = HG_ERR_CORRUPT;
	}
	hg__store_fail(st, s, "postgres: %s: %s", what, msg);
	size_t n = strlen(st->errmsg); /* libpq messages end in a newline */
	while (n && (st->errmsg[n - 1] == '\n' || st->errmsg[n - 1] == ' '))
		st->errmsg[--n] = '\0';
	return s;
}

static hg_status pg_open(hg_store *st, const char *url)
{
	struct pg *p = calloc(1, sizeof *p);
	if (!p)
		return hg__store_fail(st, HG_ERR_NOMEM, "out of memory");
	st->db = p;
	p->conn = PQconnectdb(url);
	if (!p->conn)
		return hg__store_fail(st, HG_ERR_NOMEM, "postgres: out of memory");
	if (PQstatus(p->conn) != CONNECTION_OK)
		return pg_fail_res(st, NULL, "connect");
	PQsetNoticeProcessor(p->conn, quiet_notice, NULL);
	return HG_OK;
}

static void pg_close(hg_store *st)
{
	struct pg *p = st->db;
	if (!p)
		return;
	PQfinish(p->conn);
	free(p->copybuf);
	free(p);
	st->db = NULL;
}

static hg_status pg_exec(hg_store *st, const char *sql)
{
	struct pg *p = st->db;
	PGresult *res = PQexec(p->conn, sql);
	ExecStatusType t = PQresultStatus(res);
	hg_status s = HG_OK;
	if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
		s = pg_fail_res(st, res, "exec");
	PQclear(res);
	return s;
}

static hg_status pg_query(hg_store *st, const char *sql, const hg_sqlparam *params, int np,
			  hg_row_fn fn, void *ctx, int64_t *changes)
{
	struct pg *p = st->db;
	char nums[16][24];
	const char *vals[16];
	if (np > 16)
		return hg__store_fail(st, HG_ERR_INTERNAL, "postgres: too many parameters");
	for (int i = 0; i < np; i++) {
		if (params[i].type == HG_SQL_INT) {
			snprintf(nums[i], sizeof nums[i], "%" PRId64, params[i].i);
			vals[i] = nums[i];
		} else {
			vals[i] = params[i].type == HG_SQL_TEXT ? params[i].s : NULL;
		}
	}
	if (!PQsendQueryParams(p->conn, sql, np, NULL, vals, NULL, NULL, 0))
		return pg_fail_res(st, NULL, "send");
	if (fn && !PQsetSingleRowMode(p->conn)) {
		while (PQgetResult(p->conn)) /* should not happen; drain */
			;
		return hg__store_fail(st, HG_ERR_INTERNAL, "postgres: single-row mode refused");
	}
	hg_status s = HG_OK;
	int stop = 0;
	const char *row[32];
	PGresult *res;
	while ((res = PQgetResult(p->conn)) != NULL) {
		ExecStatusType t = PQresultStatus(res);
		if (t == PGRES_SINGLE_TUPLE) {
			if (!stop && s == HG_OK) {
				int nc = PQnfields(res);
				if (nc > 32)
					nc = 32;
				for (int c = 0; c < nc; c++)
					row[c] = PQgetisnull(res, 0, c) ? NULL : PQgetvalue(res, 0, c);
				stop = fn(ctx, nc, row);
			}
		} else if (t == PGRES_TUPLES_OK || t == PGRES_COMMAND_OK) {
			if (changes && s == HG_OK) {
				const char *n = PQcmdTuples(res);
				*changes = n && *n ? strtoll(n, NULL, 10) : 0;
			}
		} else if (s == HG_OK) {
			s = pg_fail_res(st, res, "query");
		}
		PQclear(res);
	}
	return s;
}

static hg_status pg_begin(hg_store *st, int write)
{
	return pg_exec(st, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

static hg_status pg_commit(hg_store *st)
{
	return pg_exec(st, "COMMIT");
}

static void copy_abort(struct pg *p)
{
	if (!p->copying)
		return;
	PQputCopyEnd(p->conn, "aborted by hashgate");
	PGresult *res;
	while ((res = PQgetResult(p->conn)) != NULL)
		PQclear(res);
	p->copying = 0;
	p->copylen = 0;
}

static void pg_rollback(hg_store *st)
{
	struct pg *p = st->db;
	copy_abort(p);
	if (PQtransactionStatus(p->conn) != PQTRANS_IDLE)
		PQclear(PQexec(p->conn, "ROLLBACK"));
}

static hg_status pg_stage_open(hg_store *st)
{
	struct pg *p = st->db;
	/* No index on the stage (nothing looks rows up by seq); a sort of a
	 * million rows fits in memory instead of spilling to disk. */
	hg_status s = pg_exec(st, "CREATE TEMP TABLE IF NOT EXISTS hg_stage("
				  " seq BIGSERIAL, signal TEXT COLLATE \"C\" NOT NULL,"
				  " value TEXT COLLATE \"C\" NOT NULL, external_id TEXT, source TEXT);"
				  "TRUNCATE hg_stage;"
				  "SET LOCAL work_mem = '256MB'");
	if (s)
		return s;
	if (!p->copybuf && !(p->copybuf = malloc(COPY_CHUNK + 4096)))
		return hg__store_fail(st, HG_ERR_NOMEM, "out of memory");
	PGresult *res = PQexec(p->conn, "COPY hg_stage(signal, value, external_id, source)"
					" FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		s = pg_fail_res(st, res, "copy");
		PQclear(res);
		return s;
	}
	PQclear(res);
	p->copying = 1;
	p->copylen = 0;
	return HG_OK;
}

static hg_status copy_flush(hg_store *st)
{
	struct pg *p = st->db;
	if (p->copylen && PQputCopyData(p->conn, p->copybuf, (int)p->copylen) != 1)
		return pg_fail_res(st, NULL, "copy data");
	p->copylen = 0;
	return HG_OK;
}

/* Appends one COPY text-format field (\N for NULL) and its separator. */
static hg_status copy_field(hg_store *st, const char *v, char sep)
{
	struct pg *p = st->db;
	if (p->copylen + 4 > COPY_CHUNK) {
		hg_status s = copy_flush(st);
		if (s)
			return s;
	}
	if (!v) {
		memcpy(p->copybuf + p->copylen, "\\N", 2);
		p->copylen += 2;
		v = "";
	}
	for (const char *c = v; *c; c++) {
		if (p->copylen + 4 > COPY_CHUNK) {
			hg_status s = copy_flush(st);
			if (s)
				return s;
		}
		char ch = *c;
		if (ch == '\\' || ch == '\t' || ch == '\n' || ch == '\r') {
			p->copybuf[p->copylen++] = '\\';
			ch = ch == '\t' ? 't' : ch == '\n' ? 'n' : ch == '\r' ? 'r' : '\\';
		}
		p->copybuf[p->copylen++] = ch;
	}
	p->copybuf[p->copylen++] = sep;
	return HG_OK;
}

static hg_status pg_stage(hg_store *st, const hg_stage_row *rows, size_t n)
{
	struct pg *p = st->db;
	if (!p->copying)
		return hg__store_fail(st, HG_ERR_INTERNAL, "postgres: stage without copy");
	for (size_t i = 0; i < n; i++) {
		hg_status s;
		if ((s = copy_field(st, rows[i].signal, '\t')) ||
		    (s = copy_field(st, rows[i].value, '\t')) ||
		    (s = copy_field(st, rows[i].external_id, '\t')) ||
		    (s = copy_field(st, rows[i].source, '\n')))
			return s;
	}
	return HG_OK;
}

static hg_status pg_stage_close(hg_store *st)
{
	struct pg *p = st->db;
	if (!p->copying)
		return HG_OK;
	hg_status s = copy_flush(st);
	if (s)
		return s;
	p->copying = 0;
	if (PQputCopyEnd(p->conn, NULL) != 1)
		return pg_fail_res(st, NULL, "copy end");
	PGresult *res;
	while ((res = PQgetResult(p->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && s == HG_OK)
			s = pg_fail_res(st, res, "copy");
		PQclear(res);
	}
	return s;
}

/* amcheck verifies every B-tree of hashgate's schema, including that each
 * heap row is indexed (heapallindexed). */
static hg_status pg_check(hg_store *st)
{
	char why[sizeof st->errmsg];
	hg_status s = pg_exec(st, "CREATE EXTENSION IF NOT EXISTS amcheck");
	if (s) {
		memcpy(why, st->errmsg, sizeof why);
		return hg__store_fail(st, HG_ERR_UNSUPPORTED, "postgres: the check needs the "
				      "amcheck extension (%.400s)", why);
	}
	s = pg_exec(st, "SELECT bt_index_check(c.oid, true) FROM pg_index i"
			" JOIN pg_class c ON c.oid = i.indexrelid"
			" JOIN pg_am a ON a.oid = c.relam"
			" JOIN pg_namespace n ON n.oid = c.relnamespace"
			" WHERE a.amname = 'btree' AND n.nspname = current_schema()");
	if (s && s != HG_ERR_NOMEM) {
		memcpy(why, st->errmsg, sizeof why);
		return hg__store_fail(st, HG_ERR_CORRUPT, "%.500s", why);
	}
	return s;
}

const hg_store_methods hg__pg_methods = {
	.iVersion = 1,
	.name = "postgres",
	.migrations = hg__pg_migrations,
	.nmigrations = HG__SCHEMA_VERSION,
	.migrate_lock_sql = "SELECT pg_advisory_xact_lock(7216003944)",
	.xOpen = pg_open,
	.xClose = pg_close,
	.xExec = pg_exec,
	.xQuery = pg_query,
	.xBegin = pg_begin,
	.xCommit = pg_commit,
	.xRollback = pg_rollback,
	.xStageOpen = pg_stage_open,
	.xStage = pg_stage,
	.xStageClose = pg_stage_close,
	.xCheck = pg_check,
};
