/*
 * store.c — opening a store: pick the backend from the URL, connect, run
 * the schema migrations; plus the small helpers every store module uses
 * (transactions that know whether one is open, one-integer queries, the
 * message on the handle) and the integrity check shared by both backends.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/schema.h"
#include "store/store_internal.h"

hg_status hg__store_fail(hg_store *st, hg_status status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof st->errmsg, fmt, ap);
	va_end(ap);
	return status;
}

int64_t hg__store_now(void)
{
	return (int64_t)time(NULL);
}

int64_t hg__col_int(const char *v)
{
	return v ? strtoll(v, NULL, 10) : 0;
}

hg_status hg__store_begin(hg_store *st, int write)
{
	if (st->in_txn)
		return hg__store_fail(st, HG_ERR_INTERNAL, "transaction already open");
	hg_status s = st->m->xBegin(st, write);
	if (s == HG_OK)
		st->in_txn = 1;
	return s;
}

hg_status hg__store_commit(hg_store *st)
{
	hg_status s = st->m->xCommit(st);
	if (s != HG_OK)
		st->m->xRollback(st);
	st->in_txn = 0;
	return s;
}

void hg__store_rollback(hg_store *st)
{
	if (st->in_txn) {
		char keep[sizeof st->errmsg];
		memcpy(keep, st->errmsg, sizeof keep); /* keep the reason we roll back */
		st->m->xRollback(st);
		memcpy(st->errmsg, keep, sizeof keep);
	}
	st->in_txn = 0;
}

struct int_ctx {
	int64_t v;
	int found;
};

static int int_row(void *ctx, int ncols, const char *const *vals)
{
	struct int_ctx *c = ctx;
	c->v = ncols > 0 ? hg__col_int(vals[0]) : 0;
	c->found = 1;
	return 1;
}

hg_status hg__store_int(hg_store *st, const char *sql, const hg_sqlparam *p, int np,
			int64_t *out, int *found)
{
	struct int_ctx c = {0, 0};
	hg_status s = hg__store_query(st, sql, p, np, int_row, &c, NULL);
	*out = c.v;
	if (found)
		*found = c.found;
	return s;
}

hg_status hg__store_migrate(hg_store *st)
{
	hg_status s = hg__store_begin(st, 1);
	if (s)
		return s;
	if (st->m->migrate_lock_sql && (s = hg__store_exec(st, st->m->migrate_lock_sql)))
		goto fail;
	if ((s = hg__store_exec(st, "CREATE TABLE IF NOT EXISTS hg_schema("
				    " version INTEGER NOT NULL PRIMARY KEY,"
				    " applied_at BIGINT NOT NULL)")))
		goto fail;
	int64_t have;
	if ((s = hg__store_int(st, "SELECT COALESCE(MAX(version), 0) FROM hg_schema", NULL, 0,
			       &have, NULL)))
		goto fail;
	if (have > st->m->nmigrations) {
		s = hg__store_fail(st, HG_ERR_UNSUPPORTED,
				   "database schema version %lld is newer than this hashgate "
				   "(knows %d): upgrade hashgate",
				   (long long)have, st->m->nmigrations);
		goto fail;
	}
	for (int64_t v = have; v < st->m->nmigrations; v++) {
		if ((s = hg__store_exec(st, st->m->migrations[v])))
			goto fail;
		hg_sqlparam p[2] = {HG_PINT(v + 1), HG_PINT(hg__store_now())};
		if ((s = hg__store_query(st, "INSERT INTO hg_schema(version, applied_at) VALUES ($1, $2)",
					 p, 2, NULL, NULL, NULL)))
			goto fail;
	}
	return hg__store_commit(st);
fail:
	hg__store_rollback(st);
	return s;
}

hg_status hg_store_open(const char *url, hg_store **out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	if (!url)
		url = HG_STORE_DEFAULT_URL;
	if (!*url)
		return HG_ERR_INVALID_ARG;
	hg_store *st = calloc(1, sizeof *st);
	if (!st)
		return HG_ERR_NOMEM;
	const char *target = url;
	if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13)) {
		st->m = &hg__pg_methods;
	} else {
		st->m = &hg__sqlite_methods;
		if (!strncmp(url, "sqlite:", 7))
			target = url + 7;
	}
	*out = st;
	hg_status s = st->m->xOpen(st, target);
	if (s == HG_OK)
		s = hg__store_migrate(st);
	if (s == HG_OK)
		st->errmsg[0] = '\0';
	return s;
}

void hg_store_free(hg_store *st)
{
	if (!st)
		return;
	if (st->db) {
		hg__store_rollback(st);
		st->m->xClose(st);
	}
	free(st);
}

const char *hg_store_errmsg(const hg_store *st)
{
	return st ? st->errmsg : "no store";
}

const char *hg_store_backend(const hg_store *st)
{
	return st ? st->m->name : "?";
}

hg_status hg_store_schema_version(hg_store *st, int *out)
{
	if (!st || !out)
		return HG_ERR_INVALID_ARG;
	int64_t v;
	hg_status s = hg__store_int(st, "SELECT COALESCE(MAX(version), 0) FROM hg_schema", NULL, 0,
				    &v, NULL);
	*out = (int)v;
	return s;
}

/* Invariants of the bank model the schema cannot express, checked on both
 * backends: each live (bank, signal, value) once, versions within the bank's
 * range, a history row per version. */
static const char *const invariant_sql[] = {
	"SELECT COUNT(*) FROM entries e JOIN banks b ON b.id = e.bank_id"
	" WHERE e.added_version < 1 OR e.added_version > b.version"
	" OR (e.removed_version IS NOT NULL AND (e.removed_version <= e.added_version"
	" OR e.removed_version > b.version))",
	"SELECT COUNT(*) FROM banks b WHERE b.version <> (SELECT COUNT(*) FROM bank_versions v"
	" WHERE v.bank_id = b.id)",
	"SELECT COUNT(*) FROM (SELECT bank_id, signal, value FROM entries"
	" WHERE removed_version IS NULL GROUP BY bank_id, signal, value HAVING COUNT(*) > 1) d",
	"SELECT COUNT(*) FROM banks b WHERE b.live_count <> (SELECT COUNT(*) FROM entries e"
	" WHERE e.bank_id = b.id AND e.removed_version IS NULL)",
};
static const char *const invariant_what[] = {
	"entries with a version outside their bank's history",
	"banks whose history does not have one row per version",
	"duplicate live entries",
	"banks whose live_count disagrees with their entries",
};

hg_status hg_store_check(hg_store *st)
{
	if (!st)
		return HG_ERR_INVALID_ARG;
	hg_status s = st->m->xCheck(st);
	if (s)
		return s;
	if ((s = hg__store_begin(st, 0)))
		return s;
	for (size_t i = 0; i < sizeof invariant_sql / sizeof invariant_sql[0]; i++) {
		int64_t bad;
		if ((s = hg__store_int(st, invariant_sql[i], NULL, 0, &bad, NULL)))
			break;
		if (bad) {
			s = hg__store_fail(st, HG_ERR_CORRUPT, "%lld %s", (long long)bad,
					   invariant_what[i]);
			break;
		}
	}
	if (s) {
		hg__store_rollback(st);
		return s;
	}
	return hg__store_commit(st);
}
