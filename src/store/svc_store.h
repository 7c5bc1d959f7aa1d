/*
 * svc_store.h — the service's tables: API keys, the hash-chained audit log,
 * decisions and review items. Internal to hg_app (the HTTP service and the
 * `key`/`audit` verbs use it); not part of libhashgate.
 *
 * The tables come from the bank store's migrations (schema.c, migration 2)
 * and the SQL runs through its backends (store_internal.h), so SQLite and
 * PostgreSQL share every statement here. The service computes the audit
 * chain; the store appends a batch after the current head in one
 * transaction that holds the head row (FOR UPDATE on PostgreSQL, where
 * several servers may append at once).
 *
 *   hg_audit:      seq | ts | actor | tenant | action | object | detail | prev_hash | hash
 *   hg_audit_head: first_seq, anchor (prev_hash of first_seq), last_seq, last_hash
 *
 * Pruning (retention) deletes the oldest records and moves the anchor, so the
 * surviving chain still verifies from its first record.
 */
#ifndef HG_STORE_SVC_STORE_H
#define HG_STORE_SVC_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "hashgate/status.h"

#define HG_SVC_ID_MAX 40      /* ids: "k_<hex>", "d_<hex>", "r_<hex>" */
#define HG_SVC_TENANT_MAX 64  /* tenant names: [A-Za-z0-9._-]{1,63} */
#define HG_SVC_HASH_HEX 65    /* SHA-256 hex + NUL */

typedef struct hg_svc_store hg_svc_store;

struct hg_key_rec {
	char id[HG_SVC_ID_MAX];
	char hash[HG_SVC_HASH_HEX]; /* SHA-256 of the whole token, hex */
	char tenant[HG_SVC_TENANT_MAX];
	char role[16];
	double rate, burst;         /* 0 = the server's default */
	int64_t created_at, revoked_at; /* unix ms; revoked_at 0 = active */
};

struct hg_audit_rec {
	int64_t seq, ts;
	const char *actor, *tenant, *action, *object, *detail; /* detail: JSON */
	char prev_hash[HG_SVC_HASH_HEX], hash[HG_SVC_HASH_HEX];
};

struct hg_audit_head {
	int64_t first_seq, last_seq; /* 0, 0 when the log is empty */
	char anchor[HG_SVC_HASH_HEX], last_hash[HG_SVC_HASH_HEX];
};

struct hg_decision_rec {
	const char *id, *tenant, *key_id, *verdict;
	int64_t ts;
	const char *pdq;      /* hex or NULL */
	int quality;          /* -1 when no PDQ */
	const char *md5, *sha1, *sha256; /* hex or NULL */
	const char *matches;  /* JSON array */
};

struct hg_review_rec {
	const char *id, *decision_id, *tenant, *status; /* open|confirmed|rejected */
	int64_t created_at, decided_at;
	const char *pdq, *matches, *decided_by, *note;
	const char *vpdq; /* a video's frames as a stored vpdq value, or NULL */
};

/* Called by hg_svc_audit_append for each record, in order, with the hash of
 * the record before it; fills rec->prev_hash and rec->hash. */
typedef void (*hg_audit_chain_fn)(struct hg_audit_rec *rec, const char *prev_hash);

/* One journal batch, committed in one transaction: decisions, new review
 * items and the audit records that describe them (and any bank change). */
struct hg_journal_batch {
	const struct hg_decision_rec *decisions;
	size_t ndecisions;
	const struct hg_review_rec *reviews;
	size_t nreviews;
	struct hg_audit_rec *audit; /* seq/prev_hash/hash filled in by append */
	size_t naudit;
};

typedef int (*hg_audit_scan_fn)(void *ctx, const struct hg_audit_rec *rec);
typedef int (*hg_key_scan_fn)(void *ctx, const struct hg_key_rec *rec);
/* Rows handed to a list callback are valid only during the call. */
typedef int (*hg_svc_row_fn)(void *ctx, int ncols, const char *const *cols);

struct hg_store;

struct hg_svc_store {
	struct hg_store *st;  /* the bank store's connection (its migrations made the tables) */
	pthread_mutex_t lock; /* one connection: every call holds it */
	char errmsg[512];
};

/* Opens (creating tables if needed) the store named by `url`: a path,
 * "sqlite:PATH" or "postgres://..." / "postgresql://...". On failure *out is
 * NULL and err says why. */
hg_status hg_svc_store_open(const char *url, hg_svc_store **out, char *err, size_t errlen);
/* Closes the connection; NULL is a no-op. */
void hg_svc_store_free(hg_svc_store *st);
static inline const char *hg_svc_store_errmsg(const hg_svc_store *st)
{
	return st ? st->errmsg : "no store";
}

/* Keys. key_get: HG_ERR_NOT_FOUND when absent. key_revoke: HG_ERR_NOT_FOUND
 * when no such active key. */
hg_status hg_svc_key_insert(hg_svc_store *st, const struct hg_key_rec *k);
hg_status hg_svc_key_get(hg_svc_store *st, const char *id, struct hg_key_rec *out);
hg_status hg_svc_key_scan(hg_svc_store *st, hg_key_scan_fn fn, void *ctx);
hg_status hg_svc_key_revoke(hg_svc_store *st, const char *id, int64_t ts);

/* Commits one journal batch in one transaction, chaining its audit records
 * after the current head. */
hg_status hg_svc_journal_commit(hg_svc_store *st, struct hg_journal_batch *b,
				hg_audit_chain_fn chain);
hg_status hg_svc_audit_head(hg_svc_store *st, struct hg_audit_head *out);
/* Every audit record in seq order. */
hg_status hg_svc_audit_scan(hg_svc_store *st, hg_audit_scan_fn fn, void *ctx);
/* Deletes audit records with ts < audit_before (moving the anchor; the
 * newest record always stays; audit_before <= 0 keeps all) and decisions with
 * ts < decisions_before. *removed counts both. */
hg_status hg_svc_prune(hg_svc_store *st, int64_t audit_before, int64_t decisions_before,
		       int64_t *removed);

/* Decisions of `tenant` since `since` (unix ms), newest first: cols = id, ts,
 * key_id, verdict, pdq, quality, md5, sha1, sha256, matches. */
hg_status hg_svc_decision_list(hg_svc_store *st, const char *tenant, int64_t since, int limit,
			       hg_svc_row_fn fn, void *ctx);
/* Reviews: cols = id, decision_id, status, created_at, pdq, matches,
 * decided_by, decided_at, note, vpdq. status NULL = every status. */
hg_status hg_svc_review_list(hg_svc_store *st, const char *tenant, const char *status,
			     int limit, hg_svc_row_fn fn, void *ctx);
hg_status hg_svc_review_get(hg_svc_store *st, const char *tenant, const char *id, hg_svc_row_fn fn,
			    void *ctx);
/* Moves an open review to `status`; HG_ERR_NOT_FOUND if the tenant has no
 * such review, HG_ERR_CONFLICT if it was already decided. */
hg_status hg_svc_review_decide(hg_svc_store *st, const char *tenant, const char *id,
			       const char *status, const char *by, int64_t ts, const char *note);

#endif
