/*
 * svc_store.c — the service's tables (keys, the journal: decisions + reviews
 * + hash-chained audit records, retention, review decisions) on the bank
 * store's connection and backends. Every call holds the handle's lock, so one
 * connection serves the whole process; the journal thread batches writes, so
 * the request path does not wait on it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "store/svc_store.h"

#define SVC_CACHE_KIB "4096"

static hg_status fail(hg_svc_store *s, hg_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static hg_status fail(hg_svc_store *s, hg_status status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
	va_end(ap);
	return status;
}

/* The store's message for a failed call, kept on our handle. */
static hg_status store_fail(hg_svc_store *s, hg_status status)
{
	return fail(s, status, "%s", hg_store_errmsg(s->st));
}

hg_status hg_svc_store_open(const char *url, hg_svc_store **out, char *err, size_t errlen)
{
	*out = NULL;
	hg_svc_store *s = calloc(1, sizeof *s);
	if (!s)
		return HG_ERR_NOMEM;
	hg_status st = hg_store_open(url, &s->st);
	if (st != HG_OK) {
		snprintf(err, errlen, "store %s: %s", url ? url : HG_STORE_DEFAULT_URL,
			 s->st ? hg_store_errmsg(s->st) : hg_strerror(st));
		hg_store_free(s->st);
		free(s);
		return st;
	}
	pthread_mutex_init(&s->lock, NULL);
	/* The journal appends at the end of its tables (time-ordered ids, seq),
	 * so a small page cache holds every page it touches. The bank store's
	 * 64 MiB default is for imports; here it would only fill up with pages
	 * already written and grow the server's memory for a minute or more. */
	if (!strcmp(hg_store_backend(s->st), "sqlite"))
		hg__store_query(s->st, "PRAGMA cache_size=-" SVC_CACHE_KIB, NULL, 0, NULL, NULL,
				NULL);
	*out = s;
	return HG_OK;
}

void hg_svc_store_free(hg_svc_store *s)
{
	if (!s)
		return;
	hg_store_free(s->st);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Binds `types` ('t' text, NULL = SQL NULL; 'i' int64_t*) and runs one
 * statement; `sql` must be a literal (backends cache by address). */
static hg_status run(hg_svc_store *s, const char *sql, const char *types,
		     const void *const *args, hg_svc_row_fn fn, void *ctx, int *changes)
{
	hg_sqlparam p[16];
	int n = 0;
	for (; types && types[n] && n < 16; n++)
		p[n] = types[n] == 't' ? HG_PTEXT((const char *)args[n])
				       : HG_PINT(*(const int64_t *)args[n]);
	int64_t ch = 0;
	hg_status st = hg__store_query(s->st, sql, p, n, fn, ctx, &ch);
	if (changes)
		*changes = (int)ch;
	if (st != HG_OK)
		store_fail(s, st);
	return st;
}

/* One statement under the lock. */
static hg_status locked(hg_svc_store *s, const char *sql, const char *types,
			const void *const *args, hg_svc_row_fn fn, void *ctx, int *changes)
{
	pthread_mutex_lock(&s->lock);
	hg_status rc = run(s, sql, types, args, fn, ctx, changes);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Runs fn inside a write transaction under the lock; rolls back on failure. */
static hg_status in_txn(hg_svc_store *s, hg_status (*fn)(hg_svc_store *, void *), void *arg)
{
	pthread_mutex_lock(&s->lock);
	hg_status rc = hg__store_begin(s->st, 1);
	if (rc != HG_OK) {
		store_fail(s, rc);
	} else {
		rc = fn(s, arg);
		if (rc == HG_OK && (rc = hg__store_commit(s->st)) != HG_OK)
			store_fail(s, rc);
		if (rc != HG_OK)
			hg__store_rollback(s->st);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static int64_t num(const char *s)
{
	return s ? atoll(s) : 0;
}

/* ---- keys -------------------------------------------------------------- */

#define KEY_COLS "id, hash, tenant, role, rate_milli, burst_milli, created_at, revoked_at"

static int key_row(void *ctx, int n, const char *const *c)
{
	struct hg_key_rec *k = ctx;
	if (n < 8)
		return 1;
	copy(k->id, sizeof k->id, c[0]);
	copy(k->hash, sizeof k->hash, c[1]);
	copy(k->tenant, sizeof k->tenant, c[2]);
	copy(k->role, sizeof k->role, c[3]);
	k->rate = (double)num(c[4]) / 1000;
	k->burst = (double)num(c[5]) / 1000;
	k->created_at = num(c[6]);
	k->revoked_at = num(c[7]);
	return 0;
}

hg_status hg_svc_key_insert(hg_svc_store *s, const struct hg_key_rec *k)
{
	int64_t rate = (int64_t)(k->rate * 1000), burst = (int64_t)(k->burst * 1000);
	const void *a[] = {k->id, k->hash, k->tenant, k->role, &rate, &burst, &k->created_at};
	return locked(s, "INSERT INTO hg_keys(id, hash, tenant, role, rate_milli, burst_milli,"
			 " created_at) VALUES($1, $2, $3, $4, $5, $6, $7)", "ttttiii", a, NULL, NULL,
		      NULL);
}

hg_status hg_svc_key_get(hg_svc_store *s, const char *id, struct hg_key_rec *out)
{
	memset(out, 0, sizeof *out);
	const void *a[] = {id};
	hg_status rc = locked(s, "SELECT " KEY_COLS " FROM hg_keys WHERE id = $1", "t", a,
			      key_row, out, NULL);
	if (rc == HG_OK && !out->id[0])
		rc = fail(s, HG_ERR_NOT_FOUND, "no key %s", id);
	return rc;
}

struct key_scan {
	hg_key_scan_fn fn;
	void *ctx;
};

static int key_scan_row(void *ctx, int n, const char *const *c)
{
	struct key_scan *ks = ctx;
	struct hg_key_rec k;
	if (key_row(&k, n, c))
		return 1;
	return ks->fn(ks->ctx, &k);
}

hg_status hg_svc_key_scan(hg_svc_store *s, hg_key_scan_fn fn, void *ctx)
{
	struct key_scan ks = {fn, ctx};
	return locked(s, "SELECT " KEY_COLS " FROM hg_keys ORDER BY created_at, id", NULL, NULL,
		      key_scan_row, &ks, NULL);
}

hg_status hg_svc_key_revoke(hg_svc_store *s, const char *id, int64_t ts)
{
	const void *a[] = {&ts, id};
	int changes = 0;
	hg_status rc = locked(s, "UPDATE hg_keys SET revoked_at = $1 WHERE id = $2 AND"
				  " revoked_at = 0", "it", a, NULL, NULL, &changes);
	if (rc == HG_OK && changes == 0)
		rc = fail(s, HG_ERR_NOT_FOUND, "no active key %s", id);
	return rc;
}

/* ---- journal and audit -------------------------------------------------- */

#define HEAD_SELECT "SELECT first_seq, anchor, last_seq, last_hash FROM hg_audit_head WHERE id = 1"

static int head_row(void *ctx, int n, const char *const *c)
{
	struct hg_audit_head *h = ctx;
	if (n < 4)
		return 1;
	h->first_seq = num(c[0]);
	copy(h->anchor, sizeof h->anchor, c[1]);
	h->last_seq = num(c[2]);
	copy(h->last_hash, sizeof h->last_hash, c[3]);
	return 0;
}

struct commit_arg {
	struct hg_journal_batch *b;
	hg_audit_chain_fn chain;
};

static hg_status commit_txn(hg_svc_store *s, void *arg)
{
	struct commit_arg *ca = arg;
	struct hg_journal_batch *b = ca->b;
	struct hg_audit_head h;
	memset(&h, 0, sizeof h);
	/* Several servers on one PostgreSQL append to one chain: hold the head. */
	int pg = !strcmp(hg_store_backend(s->st), "postgres");
	hg_status rc = run(s, pg ? HEAD_SELECT " FOR UPDATE" : HEAD_SELECT, NULL, NULL, head_row,
			   &h, NULL);
	for (size_t i = 0; rc == HG_OK && i < b->ndecisions; i++) {
		const struct hg_decision_rec *d = &b->decisions[i];
		int64_t q = d->quality;
		const void *a[] = {d->id, &d->ts, d->tenant, d->key_id, d->verdict, d->pdq,
				   &q, d->md5, d->sha1, d->sha256, d->matches};
		rc = run(s, "INSERT INTO hg_decisions(id, ts, tenant, key_id, verdict, pdq,"
				    " quality, md5, sha1, sha256, matches) VALUES($1, $2, $3, $4,"
				    " $5, $6, $7, $8, $9, $10, $11)", "titttti" "tttt", a, NULL, NULL,
				NULL);
	}
	for (size_t i = 0; rc == HG_OK && i < b->nreviews; i++) {
		const struct hg_review_rec *r = &b->reviews[i];
		const void *a[] = {r->id, r->decision_id, r->tenant, &r->created_at, r->pdq,
				   r->matches, r->vpdq};
		rc = run(s, "INSERT INTO hg_reviews(id, decision_id, tenant, status,"
				    " created_at, pdq, matches, vpdq) VALUES($1, $2, $3, 'open', $4,"
				    " $5, $6, $7)", "tttittt", a, NULL, NULL, NULL);
	}
	const char *prev = h.last_hash;
	int64_t seq = h.last_seq;
	for (size_t i = 0; rc == HG_OK && i < b->naudit; i++) {
		struct hg_audit_rec *r = &b->audit[i];
		r->seq = ++seq;
		ca->chain(r, prev);
		const void *a[] = {&r->seq, &r->ts, r->actor, r->tenant, r->action, r->object,
				   r->detail, r->prev_hash, r->hash};
		rc = run(s, "INSERT INTO hg_audit(seq, ts, actor, tenant, action, object,"
				    " detail, prev_hash, hash) VALUES($1, $2, $3, $4, $5, $6, $7,"
				    " $8, $9)", "iittttttt", a, NULL, NULL, NULL);
		prev = r->hash;
	}
	if (rc == HG_OK && b->naudit) {
		int64_t first = h.first_seq ? h.first_seq : b->audit[0].seq;
		const char *anchor = h.first_seq ? h.anchor : b->audit[0].prev_hash;
		const void *a[] = {&first, anchor, &seq, prev};
		rc = run(s, "UPDATE hg_audit_head SET first_seq = $1, anchor = $2,"
				    " last_seq = $3, last_hash = $4 WHERE id = 1", "itit", a, NULL,
				NULL, NULL);
	}
	return rc;
}

hg_status hg_svc_journal_commit(hg_svc_store *s, struct hg_journal_batch *b,
				hg_audit_chain_fn chain)
{
	struct commit_arg ca = {b, chain};
	return in_txn(s, commit_txn, &ca);
}

hg_status hg_svc_audit_head(hg_svc_store *s, struct hg_audit_head *out)
{
	memset(out, 0, sizeof *out);
	return locked(s, HEAD_SELECT, NULL, NULL, head_row, out, NULL);
}

struct audit_scan {
	hg_audit_scan_fn fn;
	void *ctx;
};

static int audit_row(void *ctx, int n, const char *const *c)
{
	struct audit_scan *as = ctx;
	if (n < 9)
		return 1;
	struct hg_audit_rec r = {.seq = num(c[0]),
				 .ts = num(c[1]),
				 .actor = c[2] ? c[2] : "",
				 .tenant = c[3] ? c[3] : "",
				 .action = c[4] ? c[4] : "",
				 .object = c[5] ? c[5] : "",
				 .detail = c[6] ? c[6] : ""};
	copy(r.prev_hash, sizeof r.prev_hash, c[7]);
	copy(r.hash, sizeof r.hash, c[8]);
	return as->fn(as->ctx, &r);
}

hg_status hg_svc_audit_scan(hg_svc_store *s, hg_audit_scan_fn fn, void *ctx)
{
	struct audit_scan as = {fn, ctx};
	return locked(s, "SELECT seq, ts, actor, tenant, action, object, detail, prev_hash, hash"
			  " FROM hg_audit ORDER BY seq", NULL, NULL, audit_row, &as, NULL);
}

struct prune_arg {
	int64_t audit_before, dec_before, removed;
};

static int int_row(void *ctx, int n, const char *const *c)
{
	*(int64_t *)ctx = n > 0 ? num(c[0]) : 0;
	return 0;
}

static hg_status prune_txn(hg_svc_store *s, void *arg)
{
	struct prune_arg *pa = arg;
	int changes = 0;
	const void *d[] = {&pa->dec_before};
	hg_status rc = run(s, "DELETE FROM hg_decisions WHERE ts < $1", "i", d, NULL, NULL,
				  &changes);
	pa->removed += changes;
	if (rc || pa->audit_before <= 0)
		return rc;
	/* The oldest record kept becomes the first; its prev_hash the anchor.
	 * The newest record always stays so the head remains provable. */
	int64_t keep = 0;
	const void *a[] = {&pa->audit_before};
	rc = run(s, "SELECT MIN(seq) FROM hg_audit WHERE ts >= $1 OR seq = (SELECT"
			    " MAX(seq) FROM hg_audit)", "i", a, int_row, &keep, NULL);
	if (rc || keep == 0)
		return rc;
	const void *k[] = {&keep};
	rc = run(s, "UPDATE hg_audit_head SET first_seq = $1, anchor = (SELECT prev_hash"
			    " FROM hg_audit WHERE seq = $1) WHERE id = 1", "i", k, NULL, NULL, NULL);
	if (rc == HG_OK)
		rc = run(s, "DELETE FROM hg_audit WHERE seq < $1", "i", k, NULL, NULL,
				&changes);
	pa->removed += changes;
	return rc;
}

hg_status hg_svc_prune(hg_svc_store *s, int64_t audit_before, int64_t decisions_before,
		       int64_t *removed)
{
	struct prune_arg pa = {audit_before, decisions_before, 0};
	hg_status rc = in_txn(s, prune_txn, &pa);
	*removed = pa.removed;
	return rc;
}

/* ---- decisions and reviews ---------------------------------------------- */

hg_status hg_svc_decision_list(hg_svc_store *s, const char *tenant, int64_t since, int limit,
			       hg_svc_row_fn fn, void *ctx)
{
	int64_t lim = limit;
	const void *a[] = {tenant, &since, &lim};
	return locked(s, "SELECT id, ts, key_id, verdict, pdq, quality, md5, sha1, sha256,"
			  " matches FROM hg_decisions WHERE tenant = $1 AND ts >= $2"
			  " ORDER BY ts DESC, id LIMIT $3", "tii", a, fn, ctx, NULL);
}

#define REVIEW_COLS \
	"id, decision_id, status, created_at, pdq, matches, decided_by, decided_at, note, vpdq"

hg_status hg_svc_review_list(hg_svc_store *s, const char *tenant, const char *status,
			     int limit, hg_svc_row_fn fn, void *ctx)
{
	int64_t lim = limit;
	const void *a[] = {tenant, status, &lim};
	return locked(s, "SELECT " REVIEW_COLS " FROM hg_reviews WHERE tenant = $1 AND"
			  " (CAST($2 AS TEXT) IS NULL OR status = $2) ORDER BY created_at, id"
			  " LIMIT $3", "tti", a, fn, ctx, NULL);
}

hg_status hg_svc_review_get(hg_svc_store *s, const char *tenant, const char *id, hg_svc_row_fn fn,
			    void *ctx)
{
	const void *a[] = {tenant, id};
	return locked(s, "SELECT " REVIEW_COLS " FROM hg_reviews WHERE tenant = $1 AND id = $2",
		      "tt", a, fn, ctx, NULL);
}

static int exists_row(void *ctx, int n, const char *const *c)
{
	(void)c;
	(void)n;
	*(int *)ctx = 1;
	return 1;
}

hg_status hg_svc_review_decide(hg_svc_store *s, const char *tenant, const char *id,
			       const char *status, const char *by, int64_t ts, const char *note)
{
	const void *a[] = {status, by, &ts, note, tenant, id};
	int changes = 0, exists = 0;
	hg_status rc = locked(s, "UPDATE hg_reviews SET status = $1, decided_by = $2,"
				  " decided_at = $3, note = $4 WHERE tenant = $5 AND id = $6 AND"
				  " status = 'open'", "ttitt" "t", a, NULL, NULL, &changes);
	if (rc == HG_OK && changes == 0) {
		const void *b[] = {tenant, id};
		rc = locked(s, "SELECT 1 FROM hg_reviews WHERE tenant = $1 AND id = $2", "tt", b,
			    exists_row, &exists, NULL);
		if (rc == HG_OK)
			rc = exists ? fail(s, HG_ERR_CONFLICT, "review %s already decided", id)
				    : fail(s, HG_ERR_NOT_FOUND, "no review %s", id);
	}
	return rc;
}
