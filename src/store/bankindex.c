/*
 * bankindex.c — one bank in memory for matching: built from a store
 * snapshot at version V, then moved forward by replaying the change feed.
 * A refresh reads all changes first and applies them only once the read has
 * succeeded, so a store error never leaves the index half-way between two
 * versions.
 */
#include "hashgate/bankindex.h"

#include "core/grow.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct hg_bank_index {
	hg_bank bank;
	int64_t version;
	hg_index *pdq;
	hg_digest_index *dig;
	pthread_rwlock_t lock; /* guards dig: lookups read, refresh writes */
};

/* A growable list of entries read from the store. */
struct batch {
	hg_pdq *hashes;
	uint64_t *pdq_ids;
	size_t npdq, cap_pdq, cap_ids;
	struct dig {
		uint64_t id;
		hg_digest_kind kind;
		uint8_t bytes[32];
	} *digs;
	size_t ndig, cap_dig;
	uint64_t *removed;     /* ids removed (any signal) */
	uint8_t *removed_pdq;  /* 1 if removed[i] is a PDQ entry */
	size_t nrem, cap_rem, cap_rem_pdq;
	hg_status error;
	hg_entry_fn on_entry;
	void *ctx;
};

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The digest kind and bytes of a stored (normalised, lowercase) value. */
static int digest_of(const hg_entry *e, hg_digest_kind *kind, uint8_t out[32])
{
	switch (e->signal) {
	case HG_SIGNAL_MD5: *kind = HG_DIGEST_MD5; break;
	case HG_SIGNAL_SHA1: *kind = HG_DIGEST_SHA1; break;
	case HG_SIGNAL_SHA256: *kind = HG_DIGEST_SHA256; break;
	default: return -1;
	}
	size_t n = hg_digest_size(*kind);
	if (strlen(e->value) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)e->value[2 * i]);
		int lo = hexval((unsigned char)e->value[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int add_entry(struct batch *b, const hg_entry *e)
{
	if (e->signal == HG_SIGNAL_PDQ) {
		hg_pdq h;
		if (hg_pdq_from_hex(e->value, strlen(e->value), &h) != HG_OK)
			return 0; /* the store validated it; a bad row is skipped */
		if (hg__grow((void **)&b->hashes, &b->cap_pdq, b->npdq + 1, sizeof *b->hashes) ||
		    hg__grow((void **)&b->pdq_ids, &b->cap_ids, b->npdq + 1, sizeof *b->pdq_ids)) {
			b->error = HG_ERR_NOMEM;
			return 1;
		}
		b->hashes[b->npdq] = h;
		b->pdq_ids[b->npdq++] = (uint64_t)e->id;
		return 0;
	}
	struct dig d;
	if (digest_of(e, &d.kind, d.bytes))
		return 0; /* vPDQ, or a signal this build does not index */
	d.id = (uint64_t)e->id;
	if (hg__grow((void **)&b->digs, &b->cap_dig, b->ndig + 1, sizeof *b->digs)) {
		b->error = HG_ERR_NOMEM;
		return 1;
	}
	b->digs[b->ndig++] = d;
	return 0;
}

static int load_row(void *ctx, const hg_entry *e)
{
	struct batch *b = ctx;
	if (b->on_entry && b->on_entry(b->ctx, e))
		return 1;
	return add_entry(b, e);
}

static int change_row(void *ctx, const hg_entry *e, int removed)
{
	struct batch *b = ctx;
	if (!removed)
		return add_entry(b, e);
	if (hg__grow((void **)&b->removed, &b->cap_rem, b->nrem + 1, sizeof *b->removed) ||
	    hg__grow((void **)&b->removed_pdq, &b->cap_rem_pdq, b->nrem + 1, 1)) {
		b->error = HG_ERR_NOMEM;
		return 1;
	}
	b->removed[b->nrem] = (uint64_t)e->id;
	b->removed_pdq[b->nrem++] = e->signal == HG_SIGNAL_PDQ;
	return 0;
}

static void batch_free(struct batch *b)
{
	free(b->hashes);
	free(b->pdq_ids);
	free(b->digs);
	free(b->removed);
	free(b->removed_pdq);
}

/* Adds the batch's digests (the caller holds the write lock or is alone). */
static hg_status add_digests(hg_digest_index *di, const struct batch *b)
{
	for (size_t i = 0; i < b->ndig; i++) {
		hg_status s = hg_digest_index_add(di, b->digs[i].kind, b->digs[i].bytes, b->digs[i].id);
		if (s && s != HG_ERR_EXISTS)
			return s;
	}
	return HG_OK;
}

hg_status hg_bank_index_load(hg_store *st, const char *tenant, const char *name,
			     hg_entry_fn on_entry, void *ctx, hg_bank_index **out)
{
	if (!st || !name || !out)
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	hg_bank_index *bi = calloc(1, sizeof *bi);
	if (!bi)
		return HG_ERR_NOMEM;
	if (pthread_rwlock_init(&bi->lock, NULL)) {
		free(bi);
		return HG_ERR_NOMEM;
	}
	struct batch b = {0};
	b.on_entry = on_entry;
	b.ctx = ctx;
	hg_status s = hg_store_bank_get(st, tenant, name, &bi->bank);
	if (s == HG_OK) {
		bi->version = bi->bank.version;
		/* At the version just read: later commits are the refresh's job. */
		s = hg_store_entries(st, tenant, name, bi->version, 0, load_row, &b);
	}
	if (s == HG_OK && b.error)
		s = b.error;
	if (s == HG_OK)
		s = hg_index_build(NULL, b.hashes, b.pdq_ids, b.npdq, &bi->pdq);
	if (s == HG_OK)
		s = hg_digest_index_new(&bi->dig);
	if (s == HG_OK)
		s = add_digests(bi->dig, &b);
	batch_free(&b);
	if (s) {
		hg_bank_index_free(bi);
		return s;
	}
	*out = bi;
	return HG_OK;
}

hg_status hg_bank_index_refresh(hg_bank_index *bi, hg_store *st, int64_t *changed)
{
	if (!bi || !st)
		return HG_ERR_INVALID_ARG;
	if (changed)
		*changed = 0;
	struct batch b = {0};
	int64_t until = 0;
	hg_status s = hg_store_changes(st, bi->bank.id, bi->version, &until, change_row, &b);
	if (s == HG_OK && b.error)
		s = b.error;
	if (s) {
		batch_free(&b);
		return s;
	}
	/* Apply: additions first, then removals (the feed's order). */
	for (size_t i = 0; i < b.npdq && s == HG_OK; i++) {
		s = hg_index_add(bi->pdq, &b.hashes[i], b.pdq_ids[i]);
		if (s == HG_ERR_EXISTS)
			s = HG_OK;
	}
	pthread_rwlock_wrlock(&bi->lock);
	if (s == HG_OK)
		s = add_digests(bi->dig, &b);
	for (size_t i = 0; i < b.nrem && s == HG_OK; i++) {
		if (b.removed_pdq[i])
			s = hg_index_remove(bi->pdq, b.removed[i]);
		else
			s = hg_digest_index_remove(bi->dig, b.removed[i]);
		if (s == HG_ERR_NOT_FOUND) /* a vPDQ entry, or one never indexed */
			s = HG_OK;
	}
	pthread_rwlock_unlock(&bi->lock);
	if (s == HG_OK) {
		bi->version = until;
		if (changed)
			*changed = (int64_t)(b.npdq + b.ndig + b.nrem);
		hg_index_stats is;
		if (hg_index_stats_get(bi->pdq, &is) == HG_OK &&
		    (is.delta_entries > 65536 || is.delta_entries > is.base_entries / 4 ||
		     is.removed > is.base_entries / 4) &&
		    is.delta_entries + is.removed > 1024)
			s = hg_index_compact(bi->pdq);
	}
	batch_free(&b);
	return s;
}

int64_t hg_bank_index_version(const hg_bank_index *bi)
{
	return bi ? bi->version : 0;
}

const hg_bank *hg_bank_index_bank(const hg_bank_index *bi)
{
	return bi ? &bi->bank : NULL;
}

hg_index *hg_bank_index_pdq(hg_bank_index *bi)
{
	return bi ? bi->pdq : NULL;
}

size_t hg_bank_index_digest_count(hg_bank_index *bi)
{
	if (!bi)
		return 0;
	pthread_rwlock_rdlock(&bi->lock);
	size_t n = hg_digest_index_count(bi->dig);
	pthread_rwlock_unlock(&bi->lock);
	return n;
}

hg_status hg_bank_index_lookup_digest(hg_bank_index *bi, hg_digest_kind kind,
				      const uint8_t *digest, uint64_t *ids, size_t cap,
				      size_t *count)
{
	if (!bi)
		return HG_ERR_INVALID_ARG;
	pthread_rwlock_rdlock(&bi->lock);
	hg_status s = hg_digest_index_lookup(bi->dig, kind, digest, ids, cap, count);
	pthread_rwlock_unlock(&bi->lock);
	return s;
}

void hg_bank_index_free(hg_bank_index *bi)
{
	if (!bi)
		return;
	hg_index_free(bi->pdq);
	hg_digest_index_free(bi->dig);
	pthread_rwlock_destroy(&bi->lock);
	free(bi);
}
