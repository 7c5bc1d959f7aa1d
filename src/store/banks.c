/*
 * banks.c — banks and their entries on top of the backend method table:
 * create/edit, imports (stage everything, then one INSERT ... SELECT in the
 * same transaction as the version bump), soft-delete removals, reads at any
 * version and the change feed the in-memory index follows.
 *
 * The version bump is the first write of every change: it takes the bank's
 * row lock (PostgreSQL) or the database write lock (SQLite) before any entry
 * is written, so within a bank entry ids grow with added_version and two
 * writers to one bank never interleave.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

#define BANK_COLS "id, tenant, name, description, action, radius, enabled, version, " \
		  "created_at, live_count"
#define ENTRY_COLS "id, bank_id, signal, value, external_id, source, added_by, added_at, " \
		   "added_version, removed_by, removed_reason, removed_at, removed_version"

static const char *tenant_or_default(const char *tenant)
{
	return tenant ? tenant : HG_DEFAULT_TENANT;
}

static hg_status check_field(hg_store *st, const char *what, const char *text, size_t max)
{
	if (text && hg_text_check(text, strlen(text), max))
		return hg__store_fail(st, HG_ERR_INVALID_ARG,
				      "%s must be valid UTF-8 without control characters, at "
				      "most %zu bytes", what, max);
	return HG_OK;
}

static void copy_str(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

static int bank_row(void *ctx, int ncols, const char *const *v)
{
	hg_bank *b = ctx;
	if (ncols < 10)
		return 1;
	b->id = hg__col_int(v[0]);
	copy_str(b->tenant, sizeof b->tenant, v[1]);
	copy_str(b->name, sizeof b->name, v[2]);
	copy_str(b->description, sizeof b->description, v[3]);
	b->action = (hg_action)hg__col_int(v[4]);
	b->radius = (int)hg__col_int(v[5]);
	b->enabled = hg__col_int(v[6]) != 0;
	b->version = hg__col_int(v[7]);
	b->created_at = hg__col_int(v[8]);
	b->live_entries = hg__col_int(v[9]);
	return 1;
}

/* Reads the bank inside whatever transaction is open. */
static hg_status bank_read(hg_store *st, const char *tenant, const char *name, hg_bank *out)
{
	if (!name)
		return hg__store_fail(st, HG_ERR_INVALID_ARG, "no bank name");
	tenant = tenant_or_default(tenant);
	hg_bank b = {0};
	memset(&b, 0, sizeof b);
	hg_sqlparam p[2] = {HG_PTEXT(tenant), HG_PTEXT(name)};
	hg_status s = hg__store_query(st, "SELECT " BANK_COLS " FROM banks"
				      " WHERE tenant = $1 AND name = $2 AND deleted_at = 0",
				      p, 2, bank_row, &b, NULL);
	if (s)
		return s;
	if (!b.id)
		return hg__store_fail(st, HG_ERR_NOT_FOUND, "no bank '%.64s' in tenant '%.64s'", name,
				      tenant);
	if (out)
		*out = b;
	return HG_OK;
}

static hg_status history_add(hg_store *st, int64_t bank_id, int64_t version, const char *kind,
			     const char *actor, const char *note, int64_t added, int64_t removed)
{
	hg_sqlparam p[8] = {HG_PINT(bank_id), HG_PINT(version), HG_PINT(hg__store_now()),
			    HG_PTEXT(kind),   HG_PTEXT(actor),  HG_PTEXT(note),
			    HG_PINT(added),   HG_PINT(removed)};
	return hg__store_query(st, "INSERT INTO bank_versions(bank_id, version, at, kind, actor,"
				   " note, added, removed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			       p, 8, NULL, NULL, NULL);
}

/* Bumps the bank's version (taking its write lock) and returns the new one. */
static hg_status bump_version(hg_store *st, int64_t bank_id, int64_t *version)
{
	hg_sqlparam p[1] = {HG_PINT(bank_id)};
	int found;
	hg_status s = hg__store_int(st, "UPDATE banks SET version = version + 1 WHERE id = $1"
				    " AND deleted_at = 0 RETURNING version", p, 1, version, &found);
	if (s == HG_OK && !found) /* deleted by another writer since we looked */
		s = hg__store_fail(st, HG_ERR_NOT_FOUND, "the bank was deleted meanwhile");
	return s;
}

/* Validates a bank spec and actor, then opens a write transaction. */
static hg_status spec_begin(hg_store *st, const hg_bank *spec, const char *actor)
{
	char msg[256];
	if (hg_bank_check(spec, msg, sizeof msg))
		return hg__store_fail(st, HG_ERR_INVALID_ARG, "%s", msg);
	hg_status s = check_field(st, "actor", actor, HG_FIELD_MAX);
	return s ? s : hg__store_begin(st, 1);
}

/* Ends a transaction: commit on success, roll back (keeping the message)
 * on failure. Returns the final status. */
static hg_status txn_end(hg_store *st, hg_status s)
{
	if (s) {
		hg__store_rollback(st);
		return s;
	}
	return hg__store_commit(st);
}

hg_status hg_store_bank_create(hg_store *st, const hg_bank *spec, const char *actor,
			       hg_bank *out)
{
	if (!st || !spec)
		return HG_ERR_INVALID_ARG;
	hg_status s = spec_begin(st, spec, actor);
	if (s)
		return s;
	hg_bank b = {0};
	if ((s = bank_read(st, spec->tenant, spec->name, &b)) != HG_ERR_NOT_FOUND) {
		if (s == HG_OK)
			s = hg__store_fail(st, HG_ERR_EXISTS, "bank '%s' already exists", spec->name);
		goto fail;
	}
	hg_sqlparam p[7] = {HG_PTEXT(spec->tenant), HG_PTEXT(spec->name),
			    HG_PTEXT(spec->description), HG_PINT(spec->action),
			    HG_PINT(spec->radius), HG_PINT(spec->enabled ? 1 : 0),
			    HG_PINT(hg__store_now())};
	s = hg__store_query(st, "INSERT INTO banks(tenant, name, description, action, radius,"
				" enabled, version, created_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
			    p, 7, NULL, NULL, NULL);
	if (s == HG_ERR_EXISTS) /* lost a race with another creator */
		s = hg__store_fail(st, HG_ERR_EXISTS, "bank '%s' already exists", spec->name);
	if (s || (s = bank_read(st, spec->tenant, spec->name, &b)) ||
	    (s = history_add(st, b.id, 1, "create", actor, NULL, 0, 0)))
		goto fail;
	if ((s = hg__store_commit(st)))
		return s;
	if (out)
		*out = b;
	return HG_OK;
fail:
	hg__store_rollback(st);
	return s;
}

hg_status hg_store_bank_update(hg_store *st, const hg_bank *spec, const char *actor,
			       hg_bank *out)
{
	if (!st || !spec)
		return HG_ERR_INVALID_ARG;
	hg_status s = spec_begin(st, spec, actor);
	if (s)
		return s;
	hg_bank b = {0};
	int64_t v;
	if ((s = bank_read(st, spec->tenant, spec->name, &b)) ||
	    (s = bump_version(st, b.id, &v)))
		goto fail;
	hg_sqlparam p[5] = {HG_PTEXT(spec->description), HG_PINT(spec->action),
			    HG_PINT(spec->radius), HG_PINT(spec->enabled ? 1 : 0), HG_PINT(b.id)};
	char note[128];
	snprintf(note, sizeof note, "action=%s radius=%d enabled=%d", hg_action_name(spec->action),
		 spec->radius, spec->enabled ? 1 : 0);
	if ((s = hg__store_query(st, "UPDATE banks SET description = $1, action = $2, radius = $3,"
				     " enabled = $4 WHERE id = $5", p, 5, NULL, NULL, NULL)) ||
	    (s = history_add(st, b.id, v, "edit", actor, note, 0, 0)) ||
	    (s = bank_read(st, spec->tenant, spec->name, &b)))
		goto fail;
	if ((s = hg__store_commit(st)))
		return s;
	if (out)
		*out = b;
	return HG_OK;
fail:
	hg__store_rollback(st);
	return s;
}

hg_status hg_store_bank_get(hg_store *st, const char *tenant, const char *name, hg_bank *out)
{
	if (!st || !out)
		return HG_ERR_INVALID_ARG;
	return bank_read(st, tenant, name, out);
}

struct list_ctx {
	hg_bank_fn fn;
	void *ctx;
};

static int list_row(void *ctx, int ncols, const char *const *v)
{
	struct list_ctx *c = ctx;
	hg_bank b = {0};
	memset(&b, 0, sizeof b);
	bank_row(&b, ncols, v);
	return c->fn(c->ctx, &b);
}

hg_status hg_store_bank_list(hg_store *st, const char *tenant, hg_bank_fn fn, void *ctx)
{
	if (!st || !fn)
		return HG_ERR_INVALID_ARG;
	struct list_ctx c = {fn, ctx};
	if (tenant) {
		hg_sqlparam p[1] = {HG_PTEXT(tenant)};
		return hg__store_query(st, "SELECT " BANK_COLS " FROM banks WHERE tenant = $1"
				       " AND deleted_at = 0 ORDER BY name", p, 1, list_row, &c, NULL);
	}
	return hg__store_query(st, "SELECT " BANK_COLS " FROM banks WHERE deleted_at = 0"
			       " ORDER BY tenant, name", NULL, 0, list_row, &c, NULL);
}

/* ---- imports ------------------------------------------------------------- */

#define STAGE_ROWS 4096
#define STAGE_BYTES (4u << 20)

struct hg_import {
	hg_store *st;
	int64_t bank_id, old_version;
	char *actor, *source;
	hg_status poisoned;
	int64_t staged;
	/* The current batch: rows whose strings live in buf, as offsets until
	 * the flush turns them into pointers (buf may move as it grows). */
	struct {
		hg_signal signal;
		size_t value, external_id, source; /* offsets; SIZE_MAX = NULL */
	} pending[STAGE_ROWS];
	size_t npending;
	char *buf;
	size_t len, cap;
	char value[HG_SIGNAL_VALUE_MAX + 1];
};

static size_t buf_put(hg_import *imp, const char *s)
{
	if (!s)
		return SIZE_MAX;
	size_t n = strlen(s) + 1;
	if (imp->len + n > imp->cap) {
		size_t cap = imp->cap ? imp->cap : 65536;
		while (cap < imp->len + n)
			cap *= 2;
		char *nb = realloc(imp->buf, cap);
		if (!nb)
			return SIZE_MAX - 1;
		imp->buf = nb;
		imp->cap = cap;
	}
	memcpy(imp->buf + imp->len, s, n);
	imp->len += n;
	return imp->len - n;
}

static hg_status import_flush(hg_import *imp)
{
	hg_stage_row rows[256];
	for (size_t i = 0; i < imp->npending;) {
		size_t k = 0;
		for (; k < 256 && i < imp->npending; k++, i++) {
			rows[k].signal = hg_signal_name(imp->pending[i].signal);
			rows[k].value = imp->buf + imp->pending[i].value;
			rows[k].external_id = imp->pending[i].external_id == SIZE_MAX
						      ? NULL : imp->buf + imp->pending[i].external_id;
			rows[k].source = imp->pending[i].source == SIZE_MAX
						 ? NULL : imp->buf + imp->pending[i].source;
		}
		hg_status s = imp->st->m->xStage(imp->st, rows, k);
		if (s)
			return s;
	}
	imp->npending = 0;
	imp->len = 0;
	return HG_OK;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

hg_status hg_import_begin(hg_store *st, const char *tenant, const char *bank, const char *actor,
			  const char *default_source, hg_import **out)
{
	if (!st || !out)
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	if (st->busy)
		return hg__store_fail(st, HG_ERR_INVALID_ARG, "an import is already open on this store");
	hg_status s = check_field(st, "actor", actor, HG_FIELD_MAX);
	if (s || (s = check_field(st, "source", default_source, HG_FIELD_MAX)))
		return s;
	hg_import *imp = calloc(1, sizeof *imp);
	if (!imp)
		return hg__store_fail(st, HG_ERR_NOMEM, "out of memory");
	imp->st = st;
	imp->actor = dup_or_null(actor);
	imp->source = dup_or_null(default_source);
	if ((actor && !imp->actor) || (default_source && !imp->source)) {
		s = hg__store_fail(st, HG_ERR_NOMEM, "out of memory");
		goto fail;
	}
	hg_bank b = {0};
	if ((s = hg__store_begin(st, 1)))
		goto fail;
	if ((s = bank_read(st, tenant, bank, &b)) || (s = st->m->xStageOpen(st))) {
		hg__store_rollback(st);
		goto fail;
	}
	imp->bank_id = b.id;
	imp->old_version = b.version;
	st->busy = 1;
	*out = imp;
	return HG_OK;
fail:
	free(imp->actor);
	free(imp->source);
	free(imp);
	return s;
}

hg_status hg_import_add(hg_import *imp, const hg_entry_input *e)
{
	if (!imp || !e || (!e->value && e->value_len))
		return HG_ERR_INVALID_ARG;
	hg_store *st = imp->st;
	if (imp->poisoned)
		return imp->poisoned;
	char msg[160];
	size_t n;
	hg_status s = hg_signal_normalize(e->signal, e->value, e->value_len, imp->value,
					  sizeof imp->value, &n, msg, sizeof msg);
	if (s)
		return hg__store_fail(st, HG_ERR_PARSE, "%s", s == HG_ERR_PARSE ? msg : hg_strerror(s));
	if (e->external_id && hg_text_check(e->external_id, strlen(e->external_id), HG_FIELD_MAX))
		return hg__store_fail(st, HG_ERR_PARSE, "external id: not valid UTF-8 text of at "
				      "most %d bytes without control characters", HG_FIELD_MAX);
	if (e->source && hg_text_check(e->source, strlen(e->source), HG_FIELD_MAX))
		return hg__store_fail(st, HG_ERR_PARSE, "source: not valid UTF-8 text of at most "
				      "%d bytes without control characters", HG_FIELD_MAX);
	size_t i = imp->npending;
	imp->pending[i].signal = e->signal;
	imp->pending[i].value = buf_put(imp, imp->value);
	imp->pending[i].external_id = buf_put(imp, e->external_id);
	imp->pending[i].source = buf_put(imp, e->source);
	if (imp->pending[i].value == SIZE_MAX - 1 || imp->pending[i].external_id == SIZE_MAX - 1 ||
	    imp->pending[i].source == SIZE_MAX - 1) {
		imp->poisoned = hg__store_fail(st, HG_ERR_NOMEM, "out of memory");
		return imp->poisoned;
	}
	imp->npending++;
	imp->staged++;
	if (imp->npending == STAGE_ROWS || imp->len >= STAGE_BYTES) {
		if ((s = import_flush(imp)))
			imp->poisoned = s;
	}
	return s;
}

static void import_free(hg_import *imp)
{
	imp->st->busy = 0;
	free(imp->actor);
	free(imp->source);
	free(imp->buf);
	free(imp);
}

void hg_import_abort(hg_import *imp)
{
	if (!imp)
		return;
	hg__store_rollback(imp->st);
	import_free(imp);
}

hg_status hg_import_commit(hg_import *imp, hg_change_result *result)
{
	if (!imp)
		return HG_ERR_INVALID_ARG;
	hg_store *st = imp->st;
	hg_change_result r = {0};
	r.version = imp->old_version;
	hg_status s = imp->poisoned;
	int64_t v = 0, added = 0;
	if (s || (s = import_flush(imp)) || (s = st->m->xStageClose(st)) ||
	    (s = bump_version(st, imp->bank_id, &v)))
		goto fail;
	hg_sqlparam p[5] = {HG_PINT(imp->bank_id), HG_PTEXT(imp->source), HG_PTEXT(imp->actor),
			    HG_PINT(hg__store_now()), HG_PINT(v)};
	/* WHERE true: SQLite needs it to tell the upsert clause from a join.
	 * ORDER BY signal, value: the unique index is then written in key order
	 * (several times faster than random order at 1M rows); seq breaks ties
	 * so the first occurrence in the file wins. */
	if ((s = hg__store_query(st, "INSERT INTO entries(bank_id, signal, value, external_id,"
				     " source, added_by, added_at, added_version)"
				     " SELECT $1, signal, value, external_id, COALESCE(source, $2),"
				     " $3, $4, $5 FROM hg_stage WHERE true ORDER BY signal, value, seq"
				     " ON CONFLICT DO NOTHING",
				 p, 5, NULL, NULL, &added)))
		goto fail;
	r.added = added;
	r.unchanged = imp->staged - added;
	if (added == 0) { /* idempotent: nothing new, no new version */
		hg__store_rollback(st);
		import_free(imp);
		if (result)
			*result = r;
		return HG_OK;
	}
	hg_sqlparam q[2] = {HG_PINT(added), HG_PINT(imp->bank_id)};
	if ((s = hg__store_query(st, "UPDATE banks SET live_count = live_count + $1 WHERE id = $2",
				 q, 2, NULL, NULL, NULL)) ||
	    (s = history_add(st, imp->bank_id, v, "import", imp->actor, imp->source, added, 0)) ||
	    (s = hg__store_commit(st)))
		goto fail;
	r.version = v;
	import_free(imp);
	if (result)
		*result = r;
	return HG_OK;
fail:
	hg__store_rollback(st);
	import_free(imp);
	return s;
}

/* ---- removals -------------------------------------------------------------- */

/* Opens a write transaction on the bank and bumps its version. */
static hg_status change_begin(hg_store *st, const char *tenant, const char *bank,
			      const char *actor, const char *reason, hg_bank *b, int64_t *v)
{
	hg_status s = check_field(st, "actor", actor, HG_FIELD_MAX);
	if (s || (s = check_field(st, "reason", reason, HG_REASON_MAX)))
		return s;
	if (st->busy)
		return hg__store_fail(st, HG_ERR_INVALID_ARG, "an import is open on this store");
	if ((s = hg__store_begin(st, 1)))
		return s;
	if ((s = bank_read(st, tenant, bank, b)) || (s = bump_version(st, b->id, v)))
		hg__store_rollback(st);
	return s;
}

/* Commits a removal of `removed` entries as version v, or rolls back when
 * nothing was removed (the version stays). */
static hg_status removal_end(hg_store *st, const hg_bank *b, int64_t v, const char *actor,
			     const char *reason, size_t n, int64_t removed,
			     hg_change_result *result)
{
	hg_change_result r = {0};
	r.removed = removed;
	r.not_found = (int64_t)n > removed ? (int64_t)n - removed : 0;
	r.version = b->version;
	hg_status s = HG_OK;
	if (removed == 0) {
		hg__store_rollback(st);
	} else {
		hg_sqlparam q[2] = {HG_PINT(removed), HG_PINT(b->id)};
		if ((s = hg__store_query(st, "UPDATE banks SET live_count = live_count - $1"
					     " WHERE id = $2", q, 2, NULL, NULL, NULL)) ||
		    (s = history_add(st, b->id, v, "remove", actor, reason, 0, removed)) ||
		    (s = hg__store_commit(st))) {
			hg__store_rollback(st);
			return s;
		}
		r.version = v;
	}
	if (result)
		*result = r;
	return s;
}

hg_status hg_store_remove(hg_store *st, const char *tenant, const char *bank,
			  const hg_entry_input *entries, size_t n, const char *actor,
			  const char *reason, hg_change_result *result)
{
	if (!st || (!entries && n))
		return HG_ERR_INVALID_ARG;
	/* Validate everything before touching the database. */
	char msg[160];
	hg_status s = HG_OK;
	char *big = malloc(HG_SIGNAL_VALUE_MAX + 1);
	if (!big)
		return hg__store_fail(st, HG_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n && !s; i++) {
		hg_status e = hg_signal_normalize(entries[i].signal, entries[i].value,
						  entries[i].value_len, big, HG_SIGNAL_VALUE_MAX + 1,
						  NULL, msg, sizeof msg);
		if (e)
			s = hg__store_fail(st, HG_ERR_PARSE, "entry %zu: %s", i + 1, msg);
	}
	if (s) {
		free(big);
		return s;
	}
	hg_bank b = {0};
	int64_t v, removed = 0;
	if ((s = change_begin(st, tenant, bank, actor, reason, &b, &v)))
		goto out;
	if ((s = st->m->xStageOpen(st)))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		hg_signal_normalize(entries[i].signal, entries[i].value, entries[i].value_len, big,
				    HG_SIGNAL_VALUE_MAX + 1, NULL, NULL, 0);
		hg_stage_row row = {hg_signal_name(entries[i].signal), big, NULL, NULL};
		if ((s = st->m->xStage(st, &row, 1)))
			goto fail;
	}
	hg_sqlparam p[5] = {HG_PINT(v), HG_PINT(hg__store_now()), HG_PTEXT(actor),
			    HG_PTEXT(reason), HG_PINT(b.id)};
	if ((s = st->m->xStageClose(st)) ||
	    (s = hg__store_query(st, "UPDATE entries SET removed_version = $1, removed_at = $2,"
				     " removed_by = $3, removed_reason = $4"
				     " WHERE bank_id = $5 AND removed_version IS NULL"
				     " AND (signal, value) IN (SELECT signal, value FROM hg_stage)",
				 p, 5, NULL, NULL, &removed)))
		goto fail;
	s = removal_end(st, &b, v, actor, reason, n, removed, result);
	goto out;
fail:
	hg__store_rollback(st);
out:
	free(big);
	return s;
}

hg_status hg_store_bank_delete(hg_store *st, const char *tenant, const char *name,
			       const char *actor)
{
	if (!st || !name)
		return HG_ERR_INVALID_ARG;
	hg_bank b;
	int64_t v, removed = 0;
	hg_status s = change_begin(st, tenant, name, actor, NULL, &b, &v);
	if (s)
		return s;
	/* The deleted bank keeps its id and rows under a name no live bank
	 * can have ('~' fails hg_bank_name_check), freeing the real one. */
	char gone[HG_BANK_NAME_MAX + 48];
	snprintf(gone, sizeof gone, "%s~deleted~%lld", b.name, (long long)b.id);
	int64_t now = hg__store_now();
	hg_sqlparam p[4] = {HG_PINT(v), HG_PINT(now), HG_PTEXT(actor), HG_PINT(b.id)};
	hg_sqlparam q[3] = {HG_PTEXT(gone), HG_PINT(now), HG_PINT(b.id)};
	if ((s = hg__store_query(st, "UPDATE entries SET removed_version = $1, removed_at = $2,"
				     " removed_by = $3, removed_reason = 'bank deleted'"
				     " WHERE bank_id = $4 AND removed_version IS NULL",
				 p, 4, NULL, NULL, &removed)) ||
	    (s = hg__store_query(st, "UPDATE banks SET name = $1, deleted_at = $2, enabled = 0,"
				     " live_count = 0 WHERE id = $3", q, 3, NULL, NULL, NULL)) ||
	    (s = history_add(st, b.id, v, "delete", actor, NULL, 0, removed)))
		return txn_end(st, s);
	return txn_end(st, HG_OK);
}

hg_status hg_store_remove_ids(hg_store *st, const char *tenant, const char *bank,
			      const int64_t *ids, size_t n, const char *actor, const char *reason,
			      hg_change_result *result)
{
	if (!st || (!ids && n))
		return HG_ERR_INVALID_ARG;
	hg_bank b = {0};
	int64_t v, removed = 0;
	hg_status s = change_begin(st, tenant, bank, actor, reason, &b, &v);
	if (s)
		return s;
	int64_t now = hg__store_now();
	for (size_t i = 0; i < n; i++) {
		int64_t one = 0;
		hg_sqlparam p[6] = {HG_PINT(v),	     HG_PINT(now),  HG_PTEXT(actor),
				    HG_PTEXT(reason), HG_PINT(b.id), HG_PINT(ids[i])};
		if ((s = hg__store_query(st, "UPDATE entries SET removed_version = $1,"
					     " removed_at = $2, removed_by = $3, removed_reason = $4"
					     " WHERE bank_id = $5 AND id = $6"
					     " AND removed_version IS NULL",
					 p, 6, NULL, NULL, &one))) {
			hg__store_rollback(st);
			return s;
		}
		removed += one;
	}
	return removal_end(st, &b, v, actor, reason, n, removed, result);
}

/* ---- reads ----------------------------------------------------------------- */

struct entry_ctx {
	hg_entry_fn fn;
	hg_change_fn cfn;
	int removed;
	void *ctx;
};

/* Counts a page's rows and remembers the last id, then calls the user. */
struct page_ctx {
	hg_entry_fn fn;
	void *ctx;
	int n;
	int64_t last;
};

static int page_row(void *ctx, const hg_entry *e)
{
	struct page_ctx *pc = ctx;
	pc->n++;
	pc->last = e->id;
	return pc->fn(pc->ctx, e);
}

static int entry_row(void *ctx, int ncols, const char *const *v)
{
	struct entry_ctx *c = ctx;
	if (ncols < 13)
		return 1;
	hg_entry e;
	e.id = hg__col_int(v[0]);
	e.bank_id = hg__col_int(v[1]);
	if (!v[2] || hg_signal_parse(v[2], strlen(v[2]), &e.signal))
		e.signal = HG_SIGNAL_COUNT_; /* unknown to this build: callers skip it */
	e.value = v[3] ? v[3] : "";
	e.external_id = v[4];
	e.source = v[5];
	e.added_by = v[6];
	e.added_at = hg__col_int(v[7]);
	e.added_version = hg__col_int(v[8]);
	e.removed_by = v[9];
	e.removed_reason = v[10];
	e.removed_at = hg__col_int(v[11]);
	e.removed_version = hg__col_int(v[12]);
	return c->fn ? c->fn(c->ctx, &e) : c->cfn(c->ctx, &e, c->removed);
}

hg_status hg_store_entries(hg_store *st, const char *tenant, const char *bank, int64_t version,
			   int include_removed, hg_entry_fn fn, void *ctx)
{
	if (!st || !fn || version < 0 || (include_removed && version))
		return HG_ERR_INVALID_ARG;
	hg_status s = hg__store_begin(st, 0);
	if (s)
		return s;
	hg_bank b = {0};
	if ((s = bank_read(st, tenant, bank, &b)))
		goto done;
	if (version > b.version) {
		s = hg__store_fail(st, HG_ERR_NOT_FOUND, "bank '%s' has no version %lld (now at %lld)",
				   b.name, (long long)version, (long long)b.version);
		goto done;
	}
	struct entry_ctx c = {fn, NULL, 0, ctx};
	if (include_removed) {
		hg_sqlparam p[1] = {HG_PINT(b.id)};
		s = hg__store_query(st, "SELECT " ENTRY_COLS " FROM entries WHERE bank_id = $1"
				    " ORDER BY added_version, id", p, 1, entry_row, &c, NULL);
	} else if (version == 0 || version == b.version) {
		hg_sqlparam p[1] = {HG_PINT(b.id)};
		s = hg__store_query(st, "SELECT " ENTRY_COLS " FROM entries WHERE bank_id = $1"
				    " AND removed_version IS NULL ORDER BY added_version, id",
				    p, 1, entry_row, &c, NULL);
	} else {
		hg_sqlparam p[2] = {HG_PINT(b.id), HG_PINT(version)};
		s = hg__store_query(st, "SELECT " ENTRY_COLS " FROM entries WHERE bank_id = $1"
				    " AND added_version <= $2"
				    " AND (removed_version IS NULL OR removed_version > $2)"
				    " ORDER BY added_version, id", p, 2, entry_row, &c, NULL);
	}
done:
	return txn_end(st, s);
}

hg_status hg_store_entries_page(hg_store *st, const char *tenant, const char *bank,
				int64_t after_id, int limit, int include_removed, hg_entry_fn fn,
				void *ctx, int64_t *next_after)
{
	if (!st || !fn || limit < 1 || limit > 10000 || after_id < 0)
		return HG_ERR_INVALID_ARG;
	struct page_ctx pc = {fn, ctx, 0, 0};
	struct entry_ctx c = {page_row, NULL, 0, &pc};
	hg_status s = hg__store_begin(st, 0);
	hg_bank b;
	if (s || (s = bank_read(st, tenant, bank, &b)))
		return txn_end(st, s);
	hg_sqlparam p[3] = {HG_PINT(b.id), HG_PINT(after_id), HG_PINT(limit)};
	if (include_removed)
		s = hg__store_query(st, "SELECT " ENTRY_COLS " FROM entries WHERE bank_id = $1"
				    " AND id > $2 ORDER BY id LIMIT $3", p, 3, entry_row, &c, NULL);
	else
		s = hg__store_query(st, "SELECT " ENTRY_COLS " FROM entries WHERE bank_id = $1"
				    " AND id > $2 AND removed_version IS NULL ORDER BY id LIMIT $3",
				    p, 3, entry_row, &c, NULL);
	if (next_after)
		*next_after = pc.n == limit ? pc.last : 0;
	return txn_end(st, s);
}

hg_status hg_store_changes(hg_store *st, int64_t bank_id, int64_t since, int64_t *until,
			   hg_change_fn fn, void *ctx)
{
	if (!st || !until || !fn || since < 0 || *until < 0)
		return HG_ERR_INVALID_ARG;
	hg_status s = hg__store_begin(st, 0);
	if (s)
		return s;
	int64_t cur;
	int found;
	hg_sqlparam pb[1] = {HG_PINT(bank_id)};
	if ((s = hg__store_int(st, "SELECT version FROM banks WHERE id = $1", pb, 1, &cur, &found)))
		goto done;
	if (!found) {
		s = hg__store_fail(st, HG_ERR_NOT_FOUND, "no bank with id %lld", (long long)bank_id);
		goto done;
	}
	int64_t to = *until && *until < cur ? *until : cur;
	if (since < to) {
		struct entry_ctx c = {NULL, fn, 0, ctx};
		hg_sqlparam p[3] = {HG_PINT(bank_id), HG_PINT(since), HG_PINT(to)};
		s = hg__store_query(st, "SELECT " ENTRY_COLS " FROM entries WHERE bank_id = $1"
				    " AND added_version > $2 AND added_version <= $3"
				    " ORDER BY added_version, id",
				    p, 3, entry_row, &c, NULL);
		c.removed = 1;
		if (s == HG_OK)
			s = hg__store_query(st, "SELECT " ENTRY_COLS " FROM entries"
					    " WHERE bank_id = $1 AND removed_version > $2"
					    " AND removed_version <= $3"
					    " ORDER BY removed_version, id",
					    p, 3, entry_row, &c, NULL);
	}
	*until = since > to ? since : to;
done:
	return txn_end(st, s);
}

static int stats_row(void *ctx, int ncols, const char *const *v)
{
	hg_bank_stats *o = ctx;
	hg_signal sig;
	if (ncols >= 2 && v[0] && hg_signal_parse(v[0], strlen(v[0]), &sig) == HG_OK)
		o->live[sig] = hg__col_int(v[1]);
	return 0;
}

hg_status hg_store_bank_stats(hg_store *st, const char *tenant, const char *bank,
			      hg_bank_stats *out)
{
	if (!st || !out)
		return HG_ERR_INVALID_ARG;
	memset(out, 0, sizeof *out);
	hg_status s = hg__store_begin(st, 0);
	if (s)
		return s;
	hg_bank b = {0};
	if ((s = bank_read(st, tenant, bank, &b)))
		goto done;
	out->version = b.version;
	out->live_total = b.live_entries;
	hg_sqlparam p[1] = {HG_PINT(b.id)};
	if ((s = hg__store_query(st, "SELECT signal, COUNT(*) FROM entries WHERE bank_id = $1"
				     " AND removed_version IS NULL GROUP BY signal",
				 p, 1, stats_row, out, NULL)) ||
	    (s = hg__store_int(st, "SELECT COUNT(*) FROM entries WHERE bank_id = $1"
				   " AND removed_version IS NOT NULL", p, 1, &out->removed_total,
			       NULL)) ||
	    (s = hg__store_int(st, "SELECT COUNT(*) FROM bank_versions WHERE bank_id = $1", p, 1,
			       &out->versions, NULL)))
		goto done;
done:
	return txn_end(st, s);
}

struct hist_ctx {
	hg_version_fn fn;
	void *ctx;
};

static int hist_row(void *ctx, int ncols, const char *const *v)
{
	struct hist_ctx *c = ctx;
	if (ncols < 7)
		return 1;
	hg_bank_version hv = {hg__col_int(v[0]), hg__col_int(v[1]), v[2] ? v[2] : "", v[3], v[4],
			      hg__col_int(v[5]), hg__col_int(v[6])};
	return c->fn(c->ctx, &hv);
}

hg_status hg_store_history(hg_store *st, const char *tenant, const char *bank,
			   hg_version_fn fn, void *ctx)
{
	if (!st || !fn)
		return HG_ERR_INVALID_ARG;
	hg_bank b = {0};
	hg_status s = bank_read(st, tenant, bank, &b);
	if (s)
		return s;
	struct hist_ctx c = {fn, ctx};
	hg_sqlparam p[1] = {HG_PINT(b.id)};
	return hg__store_query(st, "SELECT version, at, kind, actor, note, added, removed"
			       " FROM bank_versions WHERE bank_id = $1 ORDER BY version",
			       p, 1, hist_row, &c, NULL);
}
