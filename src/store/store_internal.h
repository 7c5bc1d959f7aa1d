/*
 * store_internal.h — the backend method table and the helpers every store
 * module (banks, and later keys, audit, decisions, reviews) is written with.
 *
 * Like SQLite's VFS, a backend is a table of functions that starts with
 * iVersion; members are only ever appended, and callers check iVersion
 * before using a later one. The store logic is plain SQL shared by both
 * backends: parameters are written $1, $2, ... (PostgreSQL's syntax, which
 * SQLite also accepts as named parameters — number them in order of first
 * use), and rows come back as text. Only what cannot be shared — connecting,
 * transactions, the bulk staging path (COPY on PostgreSQL), the integrity
 * check and the schema dialect — differs per backend.
 *
 * Adding a table: append a migration to BOTH arrays in schema.c (never edit
 * a shipped one), then write functions in a new src/store/<area>.c using
 * hg__store_query()/hg__store_begin()/... .
 */
#ifndef HG_STORE_INTERNAL_H
#define HG_STORE_INTERNAL_H

#include <stdint.h>

#include "hashgate/store.h"

/* A query parameter. */
typedef struct hg_sqlparam {
	enum { HG_SQL_NULL = 0, HG_SQL_INT, HG_SQL_TEXT } type;
	int64_t i;
	const char *s; /* NUL-terminated */
} hg_sqlparam;

static inline hg_sqlparam hg__ptext(const char *s)
{
	return (hg_sqlparam){.type = s ? HG_SQL_TEXT : HG_SQL_NULL, .s = s};
}
#define HG_PINT(v) ((hg_sqlparam){.type = HG_SQL_INT, .i = (int64_t)(v)})
#define HG_PTEXT(v) hg__ptext(v) /* NULL pointer -> SQL NULL */

/* One result row: ncols values as text, NULL for SQL NULL. Non-zero stops. */
typedef int (*hg_row_fn)(void *ctx, int ncols, const char *const *vals);

/* A staged entry row (values already validated and normalised). */
typedef struct hg_stage_row {
	const char *signal, *value, *external_id, *source;
} hg_stage_row;

typedef struct hg_store_methods {
	int iVersion; /* 1 */
	const char *name;
	/* Schema migrations, in order; migration k brings the schema to k+1. */
	const char *const *migrations;
	int nmigrations;
	/* Run first in the migration transaction so that two processes opening
	 * a fresh database do not both migrate it (NULL: the write transaction
	 * already serialises them, as in SQLite). */
	const char *migrate_lock_sql;
	hg_status (*xOpen)(hg_store *st, const char *target);
	void (*xClose)(hg_store *st);
	/* One or more statements without parameters or rows. */
	hg_status (*xExec)(hg_store *st, const char *sql);
	/* One statement; fn (may be NULL) gets each row; *changes (may be NULL)
	 * the rows inserted/updated/deleted. `sql` should be a string literal:
	 * backends may cache the prepared statement by its address. */
	hg_status (*xQuery)(hg_store *st, const char *sql, const hg_sqlparam *params,
			    int nparams, hg_row_fn fn, void *ctx, int64_t *changes);
	/* write = 1: a write transaction that serialises with other writers
	 * (SQLite BEGIN IMMEDIATE); write = 0: a read-only snapshot. */
	hg_status (*xBegin)(hg_store *st, int write);
	hg_status (*xCommit)(hg_store *st);
	void (*xRollback)(hg_store *st);
	/* Bulk staging into the temporary table hg_stage(seq, signal, value,
	 * external_id, source) inside the current transaction: xStageOpen
	 * creates/empties it, xStage adds rows, xStageClose flushes. */
	hg_status (*xStageOpen)(hg_store *st);
	hg_status (*xStage)(hg_store *st, const hg_stage_row *rows, size_t n);
	hg_status (*xStageClose)(hg_store *st);
	/* Backend-specific integrity check; HG_ERR_CORRUPT with a message. */
	hg_status (*xCheck)(hg_store *st);
} hg_store_methods;

extern const hg_store_methods hg__sqlite_methods;
extern const hg_store_methods hg__pg_methods;

struct hg_store {
	const hg_store_methods *m;
	void *db;          /* the backend's connection */
	int in_txn;
	int busy;          /* an hg_import is open */
	char errmsg[512];
};

/* Sets the handle's message; returns st. printf-style. */
hg_status hg__store_fail(hg_store *st, hg_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline hg_status hg__store_exec(hg_store *st, const char *sql)
{
	return st->m->xExec(st, sql);
}
static inline hg_status hg__store_query(hg_store *st, const char *sql, const hg_sqlparam *p,
					int np, hg_row_fn fn, void *ctx, int64_t *changes)
{
	return st->m->xQuery(st, sql, p, np, fn, ctx, changes);
}
hg_status hg__store_begin(hg_store *st, int write);
hg_status hg__store_commit(hg_store *st);
void hg__store_rollback(hg_store *st);

/* Runs a query expected to return at most one row with one integer column;
 * *out = 0 (and *found = 0) when there is no row. found may be NULL. */
hg_status hg__store_int(hg_store *st, const char *sql, const hg_sqlparam *p, int np,
			int64_t *out, int *found);

/* Parses a decimal column; 0 for NULL. */
int64_t hg__col_int(const char *v);

/* Runs the migrations not yet applied (called by hg_store_open). */
hg_status hg__store_migrate(hg_store *st);

/* Current time, unix seconds (one place, so tests could fake it). */
int64_t hg__store_now(void);

#endif
