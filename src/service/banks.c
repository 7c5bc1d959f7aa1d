/*
 * banks.c — banks for the HTTP gate: the store (hg_store) for what is kept,
 * one in-memory index per tenant (hg_index for PDQ, hg_digest_index for
 * MD5/SHA-1/SHA-256, hg_vpdq_index for vPDQ videos) for what is matched, and
 * a follower that keeps the two in step.
 *
 *   tenant ─► struct tenant { hg_index *pdq; hg_digest_index *dig;
 *                             hg_vpdq_index *vpdq; hg_extids *ext; }
 *   index id = (bank slot << 40) | store entry id
 *   bank slot ─► struct bank { id, tenant, name, action, radius, enabled,
 *                              version applied to the index }
 *
 * ext holds the external id each list gave its entries (only those that
 * have one), so a match names the hotline's own id for the entry.
 *
 * Putting the bank slot in the index id means a match names its bank
 * without a lookup table, and a tenant's query never even sees another
 * tenant's entries. The follower applies the store's change feed
 * (hg_store_changes) for every bank whose version moved: after each change
 * made through this process at once (so a curator's next check sees it), and
 * every second for changes made elsewhere (the CLI, other replicas).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashgate/index.h"
#include "hashgate/store.h"
#include "hashgate/vpdq.h"
#include "service/banks.h"
#include "service/extids.h"
#include "service/service.h"

#define SLOT_SHIFT 40
#define ENTRY_MASK ((UINT64_C(1) << SLOT_SHIFT) - 1)
#define MAX_BANKS 65536
#define MAX_TENANTS 4096
#define BATCH_MAX 100000 /* entries in one API batch */

struct bank {
	int64_t id;
	char tenant[HG_BANK_NAME_MAX + 1], name[HG_BANK_NAME_MAX + 1];
	hg_action action;
	int radius, enabled, deleted, seen;
	int64_t applied; /* store version reflected in the index */
	struct tenant *t;
};

struct tenant {
	char name[HG_BANK_NAME_MAX + 1];
	hg_index *pdq;
	hg_digest_index *dig;
	pthread_rwlock_t dig_lock; /* digest adds/removes need exclusive access */
	hg_vpdq_index *vpdq;       /* one video per vpdq entry, id as for pdq */
	pthread_rwlock_t vpdq_lock; /* one writer, not concurrent with queries */
	hg_extids *ext;            /* the list's external ids, for the matches */
};

struct hg_banks {
	hg_store *store;          /* one connection, used under `lock` */
	pthread_mutex_t lock;     /* the store handle and every index write */
	pthread_rwlock_t meta;    /* banks[] and tenants[] */
	struct bank *banks[MAX_BANKS];
	size_t nbanks;
	struct tenant *tenants[MAX_TENANTS];
	size_t ntenants;
	pthread_t follower;
	int follower_started;
	atomic_int stop;
	pthread_key_t results_key;
	pthread_key_t err_key;
};

/* ---- per-thread state ------------------------------------------------------ */

static void free_results(void *p)
{
	hg_index_results_free(p);
}

static hg_index_results *thread_results(hg_banks *b)
{
	hg_index_results *res = pthread_getspecific(b->results_key);
	if (!res && hg_index_results_new(&res) == HG_OK)
		pthread_setspecific(b->results_key, res);
	return res;
}

/* The message of this thread's last failure (a store handle's message would
 * be overwritten by the next caller). */
static hg_status fail(hg_banks *b, hg_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static hg_status fail(hg_banks *b, hg_status st, const char *fmt, ...)
{
	char *msg = pthread_getspecific(b->err_key);
	if (!msg && (msg = malloc(512)) != NULL)
		pthread_setspecific(b->err_key, msg);
	if (msg) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, 512, fmt, ap);
		va_end(ap);
	}
	return st;
}

static hg_status store_fail(hg_banks *b, hg_status st)
{
	return fail(b, st, "%s", hg_store_errmsg(b->store));
}

const char *hg_banks_errmsg(hg_banks *b)
{
	const char *msg = b ? pthread_getspecific(b->err_key) : NULL;
	return msg ? msg : "";
}

/* ---- tenants and banks (call with b->lock held) ----------------------------- */

static struct tenant *tenant_find(hg_banks *b, const char *name)
{
	for (size_t i = 0; i < b->ntenants; i++)
		if (!strcmp(b->tenants[i]->name, name))
			return b->tenants[i];
	return NULL;
}

static struct tenant *tenant_get(hg_banks *b, const char *name)
{
	struct tenant *t = tenant_find(b, name);
	if (t || b->ntenants == MAX_TENANTS)
		return t;
	t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	snprintf(t->name, sizeof t->name, "%s", name);
	/* the change feed adds and removes one by one: the index compacts its
	 * delta itself (hg_index_auto_compact) so queries never scan a big one */
	if (hg_index_new(NULL, &t->pdq) != HG_OK || hg_index_auto_compact(t->pdq, 1) != HG_OK ||
	    hg_digest_index_new(&t->dig) != HG_OK ||
	    hg_vpdq_index_new(NULL, &t->vpdq) != HG_OK || hg_extids_new(&t->ext) != HG_OK) {
		hg_index_free(t->pdq);
		hg_digest_index_free(t->dig);
		hg_vpdq_index_free(t->vpdq);
		free(t);
		return NULL;
	}
	pthread_rwlock_init(&t->dig_lock, NULL);
	pthread_rwlock_init(&t->vpdq_lock, NULL);
	pthread_rwlock_wrlock(&b->meta);
	b->tenants[b->ntenants++] = t;
	pthread_rwlock_unlock(&b->meta);
	return t;
}

static struct bank *bank_by_id(hg_banks *b, int64_t id)
{
	for (size_t i = 0; i < b->nbanks; i++)
		if (b->banks[i]->id == id)
			return b->banks[i];
	return NULL;
}

/* Finds or adds the slot for a stored bank and refreshes its settings. */
static struct bank *bank_track(hg_banks *b, const hg_bank *sb)
{
	struct bank *k = bank_by_id(b, sb->id);
	if (!k) {
		if (b->nbanks == MAX_BANKS)
			return NULL;
		struct tenant *t = tenant_get(b, sb->tenant);
		if (!t || !(k = calloc(1, sizeof *k)))
			return NULL;
		k->id = sb->id;
		k->t = t;
		snprintf(k->tenant, sizeof k->tenant, "%s", sb->tenant);
		snprintf(k->name, sizeof k->name, "%s", sb->name);
		pthread_rwlock_wrlock(&b->meta);
		b->banks[b->nbanks++] = k;
		pthread_rwlock_unlock(&b->meta);
	}
	pthread_rwlock_wrlock(&b->meta);
	k->action = sb->action;
	k->radius = sb->radius;
	k->enabled = sb->enabled;
	pthread_rwlock_unlock(&b->meta);
	return k;
}

static size_t slot_of(hg_banks *b, const struct bank *k)
{
	for (size_t i = 0; i < b->nbanks; i++)
		if (b->banks[i] == k)
			return i;
	return 0;
}

/* ---- following the store ------------------------------------------------------ */

struct apply {
	hg_banks *b;
	struct bank *k;
	uint64_t slot;
	long errors;
	long videos; /* vpdq entries added or removed */
};

/* A change of this many vpdq entries at once (an import) rebuilds the video
 * index's tables at the end, so queries do not scan a large overlay. */
#define VPDQ_COMPACT_AFTER 1000

static int digest_kind(hg_signal s, hg_digest_kind *kind)
{
	switch (s) {
	case HG_SIGNAL_MD5: *kind = HG_DIGEST_MD5; return 1;
	case HG_SIGNAL_SHA1: *kind = HG_DIGEST_SHA1; return 1;
	case HG_SIGNAL_SHA256: *kind = HG_DIGEST_SHA256; return 1;
	default: return 0;
	}
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

hg_status hg_banks_vpdq_frames(const char *value, hg_vpdq_frame **frames, size_t *n)
{
	/* The stored form, with per-frame quality when the entry has it. */
	return hg_vpdq_value_parse(value, strlen(value), frames, n);
}

/* A vpdq entry added to or removed from its tenant's video index. */
static hg_status apply_vpdq(struct tenant *t, const hg_entry *e, uint64_t id, int removed)
{
	hg_vpdq_frame *f = NULL;
	size_t n = 0;
	hg_status st = removed ? HG_OK : hg_banks_vpdq_frames(e->value, &f, &n);
	if (st != HG_OK)
		return st;
	pthread_rwlock_wrlock(&t->vpdq_lock);
	st = removed ? hg_vpdq_index_remove(t->vpdq, id) : hg_vpdq_index_add(t->vpdq, id, f, n);
	pthread_rwlock_unlock(&t->vpdq_lock);
	free(f);
	return st;
}

static int apply_change(void *ctx, const hg_entry *e, int removed)
{
	struct apply *a = ctx;
	struct tenant *t = a->k->t;
	uint64_t id = a->slot << SLOT_SHIFT | ((uint64_t)e->id & ENTRY_MASK);
	hg_digest_kind kind;
	if (hg_extids_set(t->ext, id, removed ? NULL : e->external_id) != HG_OK)
		a->errors++;
	hg_status st = HG_OK;
	if (e->signal == HG_SIGNAL_PDQ) {
		hg_pdq h;
		if (removed) {
			st = hg_index_remove(t->pdq, id);
		} else if ((st = hg_pdq_from_hex(e->value, strlen(e->value), &h)) == HG_OK) {
			st = hg_index_add(t->pdq, &h, id);
		}
	} else if (digest_kind(e->signal, &kind)) {
		uint8_t d[32];
		pthread_rwlock_wrlock(&t->dig_lock);
		if (removed)
			st = hg_digest_index_remove(t->dig, id);
		else if (unhex(e->value, d, hg_digest_size(kind)) == 0)
			st = hg_digest_index_add(t->dig, kind, d, id);
		else
			st = HG_ERR_PARSE;
		pthread_rwlock_unlock(&t->dig_lock);
	} else if (e->signal == HG_SIGNAL_VPDQ) {
		st = apply_vpdq(t, e, id, removed);
		a->videos++;
	}
	/* Already there / already gone: a replay of a change we had applied. */
	if (st != HG_OK && st != HG_ERR_EXISTS && st != HG_ERR_NOT_FOUND)
		a->errors++;
	return 0;
}

/* Brings bank k's index entries up to the store's current version. */
static hg_status bank_sync(hg_banks *b, struct bank *k)
{
	struct apply a = {b, k, slot_of(b, k), 0, 0};
	int64_t until = 0;
	hg_status st = hg_store_changes(b->store, k->id, k->applied, &until, apply_change, &a);
	if (st != HG_OK)
		return store_fail(b, st);
	k->applied = until;
	if (a.videos >= VPDQ_COMPACT_AFTER) {
		pthread_rwlock_wrlock(&k->t->vpdq_lock);
		if (hg_vpdq_index_compact(k->t->vpdq) != HG_OK)
			a.errors++;
		pthread_rwlock_unlock(&k->t->vpdq_lock);
	}
	if (a.errors)
		fprintf(stderr, "hashgate serve: bank %s/%s: %ld entries could not be indexed\n",
			k->tenant, k->name, a.errors);
	return HG_OK;
}

/* A deleted bank: its removals come through the change feed (which still
 * answers for the old id), then it stops matching for good. */
static void bank_gone(hg_banks *b, struct bank *k)
{
	bank_sync(b, k);
	pthread_rwlock_wrlock(&b->meta);
	k->deleted = 1;
	pthread_rwlock_unlock(&b->meta);
}

static int track_row(void *ctx, const hg_bank *sb)
{
	hg_banks *b = ctx;
	struct bank *k = bank_track(b, sb);
	if (k) {
		k->seen = 1;
		if (sb->version > k->applied)
			bank_sync(b, k);
	}
	return 0;
}

/* Re-reads every bank and applies what changed; a bank no longer listed
 * was deleted. Call with b->lock held. */
static hg_status refresh(hg_banks *b)
{
	for (size_t i = 0; i < b->nbanks; i++)
		b->banks[i]->seen = 0;
	hg_status st = hg_store_bank_list(b->store, NULL, track_row, b);
	if (st != HG_OK)
		return store_fail(b, st);
	for (size_t i = 0; i < b->nbanks; i++)
		if (!b->banks[i]->seen && !b->banks[i]->deleted)
			bank_gone(b, b->banks[i]);
	return HG_OK;
}

static void *follower(void *arg)
{
	hg_banks *b = arg;
	while (!atomic_load(&b->stop)) {
		for (int i = 0; i < 10 && !atomic_load(&b->stop); i++) {
			struct timespec t = {0, 100000000L};
			nanosleep(&t, NULL);
		}
		pthread_mutex_lock(&b->lock);
		if (refresh(b) != HG_OK)
			fprintf(stderr, "hashgate serve: following banks: %s\n",
				hg_store_errmsg(b->store));
		pthread_mutex_unlock(&b->lock);
	}
	return NULL;
}

/* ---- initial load: build each tenant's index in one pass ------------------------ */

struct load {
	hg_banks *b;
	struct bank *k;
	uint64_t slot;
	hg_pdq *hashes;
	uint64_t *ids, *gone;
	size_t n, cap, ngone, capgone;
	hg_status st;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t cap2 = *cap ? *cap * 2 : 4096;
	while (cap2 < need)
		cap2 *= 2;
	void *np = realloc(*p, cap2 * size);
	if (!np)
		return -1;
	*p = np;
	*cap = cap2;
	return 0;
}

static int load_change(void *ctx, const hg_entry *e, int removed)
{
	struct load *l = ctx;
	uint64_t id = l->slot << SLOT_SHIFT | ((uint64_t)e->id & ENTRY_MASK);
	if (e->signal != HG_SIGNAL_PDQ) {
		struct apply a = {l->b, l->k, l->slot, 0, 0};
		return apply_change(&a, e, removed);
	}
	if (hg_extids_set(l->k->t->ext, id, removed ? NULL : e->external_id) != HG_OK) {
		l->st = HG_ERR_NOMEM;
		return 1;
	}
	if (removed) {
		/* Removals follow the additions of the range: filtered after. */
		if (grow((void **)&l->gone, &l->capgone, l->ngone + 1, sizeof *l->gone)) {
			l->st = HG_ERR_NOMEM;
			return 1;
		}
		l->gone[l->ngone++] = id;
		return 0;
	}
	size_t cap = l->cap;
	if (grow((void **)&l->hashes, &cap, l->n + 1, sizeof *l->hashes) ||
	    grow((void **)&l->ids, &l->cap, l->n + 1, sizeof *l->ids)) {
		l->st = HG_ERR_NOMEM;
		return 1;
	}
	if (hg_pdq_from_hex(e->value, strlen(e->value), &l->hashes[l->n]) == HG_OK)
		l->ids[l->n++] = id;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int track_only(void *ctx, const hg_bank *sb)
{
	return bank_track(ctx, sb) ? 0 : 1;
}

/* Reads every bank from version 0 and builds one index per tenant. */
static hg_status load_all(hg_banks *b, char *err, size_t errlen)
{
	hg_status st = hg_store_bank_list(b->store, NULL, track_only, b);
	if (st != HG_OK) {
		snprintf(err, errlen, "loading banks: %s", hg_store_errmsg(b->store));
		return st;
	}
	for (size_t ti = 0; ti < b->ntenants && st == HG_OK; ti++) {
		struct tenant *t = b->tenants[ti];
		struct load l = {.b = b};
		for (size_t i = 0; i < b->nbanks && l.st == HG_OK; i++) {
			struct bank *k = b->banks[i];
			if (k->t != t)
				continue;
			l.k = k;
			l.slot = i;
			int64_t until = 0;
			st = hg_store_changes(b->store, k->id, 0, &until, load_change, &l);
			if (st != HG_OK) {
				snprintf(err, errlen, "loading bank %s/%s: %s", k->tenant, k->name,
					 hg_store_errmsg(b->store));
				break;
			}
			k->applied = until;
		}
		if (st == HG_OK && l.st != HG_OK) {
			st = l.st;
			snprintf(err, errlen, "loading tenant %s: %s", t->name, hg_strerror(st));
		}
		if (st == HG_OK && l.ngone) {
			qsort(l.gone, l.ngone, sizeof *l.gone, cmp_u64);
			size_t kept = 0;
			for (size_t i = 0; i < l.n; i++) {
				if (bsearch(&l.ids[i], l.gone, l.ngone, sizeof *l.gone, cmp_u64))
					continue;
				l.ids[kept] = l.ids[i];
				l.hashes[kept++] = l.hashes[i];
			}
			l.n = kept;
		}
		hg_index *idx = NULL;
		if (st == HG_OK && ((st = hg_index_build(NULL, l.hashes, l.ids, l.n, &idx)) != HG_OK ||
				    (st = hg_index_auto_compact(idx, 1)) != HG_OK))
			snprintf(err, errlen, "indexing tenant %s: %s", t->name, hg_strerror(st));
		if (st == HG_OK) {
			hg_index_free(t->pdq);
			t->pdq = idx;
			/* vpdq entries went in one by one (apply_change): make the
			 * first queries as fast as later ones. */
			st = hg_vpdq_index_compact(t->vpdq);
			if (st != HG_OK)
				snprintf(err, errlen, "indexing videos of tenant %s: %s", t->name,
					 hg_strerror(st));
		}
		free(l.hashes);
		free(l.ids);
		free(l.gone);
	}
	return st;
}

hg_status hg_banks_open(const char *url, hg_banks **out, char *err, size_t errlen)
{
	*out = NULL;
	hg_banks *b = calloc(1, sizeof *b);
	if (!b)
		return HG_ERR_NOMEM;
	pthread_mutex_init(&b->lock, NULL);
	pthread_rwlock_init(&b->meta, NULL);
	pthread_key_create(&b->results_key, free_results);
	pthread_key_create(&b->err_key, free);
	hg_status st = hg_store_open(url, &b->store);
	if (st != HG_OK) {
		snprintf(err, errlen, "store %s: %s", url,
			 b->store ? hg_store_errmsg(b->store) : hg_strerror(st));
		hg_banks_free(b);
		return st;
	}
	pthread_mutex_lock(&b->lock);
	st = load_all(b, err, errlen);
	pthread_mutex_unlock(&b->lock);
	if (st == HG_OK && pthread_create(&b->follower, NULL, follower, b) == 0)
		b->follower_started = 1;
	else if (st == HG_OK)
		st = HG_ERR_INTERNAL;
	if (st != HG_OK) {
		hg_banks_free(b);
		return st;
	}
	*out = b;
	return HG_OK;
}

void hg_banks_free(hg_banks *b)
{
	if (!b)
		return;
	if (b->follower_started) {
		atomic_store(&b->stop, 1);
		pthread_join(b->follower, NULL);
	}
	for (size_t i = 0; i < b->ntenants; i++) {
		hg_index_free(b->tenants[i]->pdq);
		hg_digest_index_free(b->tenants[i]->dig);
		pthread_rwlock_destroy(&b->tenants[i]->dig_lock);
		hg_vpdq_index_free(b->tenants[i]->vpdq);
		pthread_rwlock_destroy(&b->tenants[i]->vpdq_lock);
		hg_extids_free(b->tenants[i]->ext);
		free(b->tenants[i]);
	}
	for (size_t i = 0; i < b->nbanks; i++)
		free(b->banks[i]);
	hg_store_free(b->store);
	/* This thread's scratch; other threads' go with their exit. */
	hg_index_results_free(pthread_getspecific(b->results_key));
	free(pthread_getspecific(b->err_key));
	pthread_key_delete(b->results_key);
	pthread_key_delete(b->err_key);
	pthread_rwlock_destroy(&b->meta);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

size_t hg_banks_indexed(hg_banks *b)
{
	size_t n = 0;
	pthread_rwlock_rdlock(&b->meta);
	for (size_t i = 0; i < b->ntenants; i++) {
		hg_index_stats s;
		if (hg_index_stats_get(b->tenants[i]->pdq, &s) == HG_OK)
			n += s.entries;
		pthread_rwlock_rdlock(&b->tenants[i]->dig_lock);
		n += hg_digest_index_count(b->tenants[i]->dig);
		pthread_rwlock_unlock(&b->tenants[i]->dig_lock);
		pthread_rwlock_rdlock(&b->tenants[i]->vpdq_lock);
		n += hg_vpdq_index_count(b->tenants[i]->vpdq);
		pthread_rwlock_unlock(&b->tenants[i]->vpdq_lock);
	}
	pthread_rwlock_unlock(&b->meta);
	return n;
}

/* ---- matching ------------------------------------------------------------------ */

static int add_match(struct hg_match_set *s, const struct bank *k, uint64_t id,
		     const char *signal, int distance, int variant)
{
	/* not hg__grow: that starts at 1024 elements, and a match is ~0.5 KB
	 * while a request has a handful */
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct hg_match *nm = realloc(s->m, cap * sizeof *nm);
		if (!nm)
			return -1;
		s->m = nm;
		s->cap = cap;
	}
	struct hg_match *m = &s->m[s->n++];
	memset(m, 0, sizeof *m);
	snprintf(m->bank, sizeof m->bank, "%s", k->name);
	snprintf(m->action, sizeof m->action, "%s", hg_action_name(k->action));
	snprintf(m->entry_id, sizeof m->entry_id, "%llu", (unsigned long long)(id & ENTRY_MASK));
	snprintf(m->signal, sizeof m->signal, "%s", signal);
	hg_extids_get(k->t->ext, id, m->external_id, sizeof m->external_id);
	m->distance = distance;
	m->variant = variant;
	return 0;
}

/* The match of entry `id` for `signal` among s->m[first..], or NULL. */
static struct hg_match *find_match(struct hg_match_set *s, size_t first, uint64_t id,
				   const char *signal)
{
	char want[64];
	snprintf(want, sizeof want, "%llu", (unsigned long long)(id & ENTRY_MASK));
	for (size_t i = first; i < s->n; i++)
		if (!strcmp(s->m[i].entry_id, want) && !strcmp(s->m[i].signal, signal))
			return &s->m[i];
	return NULL;
}

/* If entry `id` is already among out->m[first..], keeps the better of the
 * two distances and returns 1; returns 0 when it is new. */
static int keep_best(struct hg_match_set *s, size_t first, uint64_t id, int distance,
		     int variant)
{
	struct hg_match *m = find_match(s, first, id, "pdq");
	if (!m)
		return 0;
	if (distance < m->distance) {
		m->distance = distance;
		m->variant = variant;
	}
	return 1;
}

const char *hg_match_verdict(const struct hg_match_set *ms)
{
	int block = 0, review = 0;
	for (size_t i = 0; i < ms->n; i++) {
		if (!strcmp(ms->m[i].action, "allow"))
			return "allow";
		block |= !strcmp(ms->m[i].action, "block");
		review |= !strcmp(ms->m[i].action, "review");
	}
	return block ? "block" : review ? "review" : "allow";
}

void hg_match_set_free(struct hg_match_set *s)
{
	free(s->m);
	memset(s, 0, sizeof *s);
}

/* A bank slot from an index id, if the bank is live and enabled. */
static const struct bank *live_bank(hg_banks *b, uint64_t id)
{
	uint64_t slot = id >> SLOT_SHIFT;
	const struct bank *k = slot < b->nbanks ? b->banks[slot] : NULL;
	return k && k->enabled && !k->deleted ? k : NULL;
}

hg_status hg_banks_match(hg_banks *b, const char *tenant, const hg_hashes *h, int use_pdq,
			 int nvariants, struct hg_match_set *out)
{
	memset(out, 0, sizeof *out);
	hg_status st = HG_OK;
	pthread_rwlock_rdlock(&b->meta);
	struct tenant *t = NULL;
	for (size_t i = 0; i < b->ntenants; i++)
		if (!strcmp(b->tenants[i]->name, tenant))
			t = b->tenants[i];
	int radius = -1;
	for (size_t i = 0; t && i < b->nbanks; i++) {
		const struct bank *k = b->banks[i];
		if (k->t == t && k->enabled && !k->deleted && k->radius > radius)
			radius = k->radius;
	}
	if (t && use_pdq && radius >= 0) {
		/* every query set of the upload (the image, and the picture inside
		 * bars or captions, or upscaled: HG_HASH_QUERY_DEFAULT); an entry hit
		 * through several sets keeps its best distance */
		const hg_pdq_result *sets[HG_HASH_MAX_QUERY_SETS];
		size_t nsets = hg_hashes_query_sets(h, HG_PDQ_MIN_QUALITY, sets, NULL,
						    HG_HASH_MAX_QUERY_SETS);
		hg_index_results *res = thread_results(b);
		size_t first = out->n;
		for (size_t q = 0; q < nsets && st == HG_OK; q++) {
			st = res ? hg_index_query(t->pdq, sets[q]->hash, nvariants, radius, 0, res)
				 : HG_ERR_NOMEM;
			size_t n = st == HG_OK ? hg_index_results_count(res) : 0;
			const hg_index_match *m = n ? hg_index_results_matches(res) : NULL;
			for (size_t i = 0; i < n && st == HG_OK; i++) {
				const struct bank *k = live_bank(b, m[i].id);
				if (!k || m[i].distance > k->radius)
					continue;
				if (keep_best(out, first, m[i].id, m[i].distance, m[i].variant))
					continue;
				if (add_match(out, k, m[i].id, "pdq", m[i].distance, m[i].variant))
					st = HG_ERR_NOMEM;
			}
		}
	}
	static const struct {
		hg_digest_kind kind;
		const char *name;
		size_t off;
	} digests[] = {{HG_DIGEST_MD5, "md5", offsetof(hg_hashes, md5)},
		       {HG_DIGEST_SHA1, "sha1", offsetof(hg_hashes, sha1)},
		       {HG_DIGEST_SHA256, "sha256", offsetof(hg_hashes, sha256)}};
	if (t) {
		pthread_rwlock_rdlock(&t->dig_lock);
		for (size_t d = 0; d < 3 && st == HG_OK; d++) {
			const uint8_t *dg = (const uint8_t *)h + digests[d].off;
			size_t len = hg_digest_size(digests[d].kind), count = 0, z = 0;
			while (z < len && !dg[z])
				z++;
			if (z == len)
				continue; /* not given */
			uint64_t ids[64];
			st = hg_digest_index_lookup(t->dig, digests[d].kind, dg, ids, 64, &count);
			for (size_t i = 0; st == HG_OK && i < count && i < 64; i++) {
				const struct bank *k = live_bank(b, ids[i]);
				if (k && add_match(out, k, ids[i], digests[d].name, 0, -1))
					st = HG_ERR_NOMEM;
			}
		}
		pthread_rwlock_unlock(&t->dig_lock);
	}
	pthread_rwlock_unlock(&b->meta);
	if (st != HG_OK) {
		hg_match_set_free(out);
		return fail(b, st, "matching failed: %s", hg_strerror(st));
	}
	return HG_OK;
}

hg_status hg_banks_match_video(hg_banks *b, const char *tenant, const struct hg_video_query *q,
			       struct hg_match_set *out)
{
	hg_vpdq_match *found[2] = {NULL, NULL};
	size_t nfound[2] = {0, 0}, first = out->n;
	hg_status st = HG_OK;
	pthread_rwlock_rdlock(&b->meta);
	struct tenant *t = tenant_find(b, tenant);
	if (t) {
		pthread_rwlock_rdlock(&t->vpdq_lock);
		st = hg_vpdq_index_query(t->vpdq, q->frames, q->count, q->query_pct, q->target_pct,
					 &found[0], &nfound[0]);
		if (st == HG_OK && q->cropped)
			st = hg_vpdq_index_query(t->vpdq, q->cropped, q->count, q->query_pct,
						 q->target_pct, &found[1], &nfound[1]);
		pthread_rwlock_unlock(&t->vpdq_lock);
	}
	/* found[1]: the frames without their bars; an entry met both ways keeps
	 * the better query share. */
	for (int pass = 0; pass < 2 && st == HG_OK; pass++) {
		for (size_t i = 0; i < nfound[pass] && st == HG_OK; i++) {
			const hg_vpdq_match *v = &found[pass][i];
			const struct bank *k = live_bank(b, v->video_id);
			if (!k)
				continue;
			struct hg_match *m = find_match(out, first, v->video_id, "vpdq");
			if (m && m->vpdq.query_pct >= v->query_pct)
				continue;
			if (!m && add_match(out, k, v->video_id, "vpdq", 0, -1))
				st = HG_ERR_NOMEM;
			else if (!m)
				m = &out->m[out->n - 1];
			if (m) {
				m->vpdq = *v;
				m->bars_cropped = pass;
			}
		}
	}
	pthread_rwlock_unlock(&b->meta);
	hg_vpdq_matches_free(found[0]);
	hg_vpdq_matches_free(found[1]);
	if (st != HG_OK)
		return fail(b, st, "video matching failed: %s", hg_strerror(st));
	return HG_OK;
}

/* A percentage as the response shows it: two decimals, like vmatch. */
static json_t *pct_json(double pct)
{
	return json_real(round(pct * 100) / 100);
}

/* One matched entry: distance and variant for PDQ and digests, the shares
 * and the frame counts behind them for vPDQ. */
/* The list's id for the entry, last in the match object, when it has one. */
static json_t *with_external_id(json_t *o, const struct hg_match *m)
{
	if (m->external_id[0])
		json_object_set_new(o, "external_id", json_string(m->external_id));
	return o;
}

json_t *hg_match_json(const struct hg_match *m)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "bank", m->bank, "action", m->action,
			      "entry_id", m->entry_id, "signal_type", m->signal);
	if (strcmp(m->signal, "vpdq") != 0) {
		json_object_set_new(o, "distance", json_integer(m->distance));
		if (m->variant >= 0)
			json_object_set_new(o, "variant", json_string(hg_dihedral_name(m->variant)));
		return with_external_id(o, m);
	}
	const hg_vpdq_match *v = &m->vpdq;
	json_object_set_new(o, "query_pct", pct_json(v->query_pct));
	json_object_set_new(o, "target_pct", pct_json(v->target_pct));
	json_object_set_new(o, "query_frames_matched", json_integer((json_int_t)v->query_matched));
	json_object_set_new(o, "query_frames_usable", json_integer((json_int_t)v->query_usable));
	json_object_set_new(o, "target_frames_matched",
			    json_integer((json_int_t)v->target_matched));
	json_object_set_new(o, "target_frames_usable", json_integer((json_int_t)v->target_usable));
	json_object_set_new(o, "bars_cropped", json_boolean(m->bars_cropped));
	return with_external_id(o, m);
}

/* ---- management ------------------------------------------------------------------ */

static json_t *bank_json(const hg_bank *sb)
{
	return json_pack("{s:s,s:s,s:s,s:i,s:b,s:I,s:I,s:I}", "name", sb->name, "description",
			 sb->description, "action", hg_action_name(sb->action), "radius",
			 sb->radius, "enabled", sb->enabled, "version", (json_int_t)sb->version,
			 "entries", (json_int_t)sb->live_entries, "created_at",
			 (json_int_t)sb->created_at);
}

static int list_row(void *ctx, const hg_bank *sb)
{
	json_array_append_new(ctx, bank_json(sb));
	return 0;
}

hg_status hg_banks_list(hg_banks *b, const char *tenant, json_t **out)
{
	json_t *arr = json_array();
	pthread_mutex_lock(&b->lock);
	hg_status st = hg_store_bank_list(b->store, tenant, list_row, arr);
	if (st != HG_OK)
		store_fail(b, st);
	pthread_mutex_unlock(&b->lock);
	if (st != HG_OK) {
		json_decref(arr);
		return st;
	}
	*out = json_pack("{s:o}", "banks", arr);
	return HG_OK;
}

/* Reads a bank; a name that is not a valid bank name is simply not found. */
static hg_status get_locked(hg_banks *b, const char *tenant, const char *name, hg_bank *sb)
{
	if (hg_bank_name_check(name) != HG_OK)
		return fail(b, HG_ERR_NOT_FOUND, "no bank named '%s'", name);
	hg_status st = hg_store_bank_get(b->store, tenant, name, sb);
	if (st == HG_ERR_NOT_FOUND)
		return fail(b, st, "no bank named '%s'", name);
	return st == HG_OK ? HG_OK : store_fail(b, st);
}

hg_status hg_banks_get(hg_banks *b, const char *tenant, const char *name, json_t **out)
{
	hg_bank sb;
	pthread_mutex_lock(&b->lock);
	hg_status st = get_locked(b, tenant, name, &sb);
	pthread_mutex_unlock(&b->lock);
	if (st == HG_OK)
		*out = bank_json(&sb);
	return st;
}

/* Applies {"action", "radius", "enabled", "description"} (and "name" when
 * allowed) from JSON onto *sb; anything else is an error. */
static hg_status spec_apply(hg_banks *b, json_t *spec, int allow_name, hg_bank *sb)
{
	const char *key;
	json_t *v;
	json_object_foreach(spec, key, v) {
		if (!strcmp(key, "name") && allow_name && json_is_string(v)) {
			snprintf(sb->name, sizeof sb->name, "%s", json_string_value(v));
			if (strlen(json_string_value(v)) > HG_BANK_NAME_MAX)
				return fail(b, HG_ERR_INVALID_ARG, "name is longer than %d bytes",
					    HG_BANK_NAME_MAX);
		} else if (!strcmp(key, "action") && json_is_string(v)) {
			if (hg_action_parse(json_string_value(v), &sb->action) != HG_OK)
				return fail(b, HG_ERR_INVALID_ARG, "action is block, review or allow");
		} else if (!strcmp(key, "radius") && json_is_integer(v)) {
			json_int_t r = json_integer_value(v);
			if (r < 0 || r > HG_BANK_RADIUS_MAX)
				return fail(b, HG_ERR_INVALID_ARG, "radius is 0..%d", HG_BANK_RADIUS_MAX);
			sb->radius = (int)r;
		} else if (!strcmp(key, "enabled") && json_is_boolean(v)) {
			sb->enabled = json_is_true(v);
		} else if (!strcmp(key, "description") && json_is_string(v)) {
			if (strlen(json_string_value(v)) > HG_BANK_DESC_MAX)
				return fail(b, HG_ERR_INVALID_ARG, "description is over %d bytes",
					    HG_BANK_DESC_MAX);
			snprintf(sb->description, sizeof sb->description, "%s", json_string_value(v));
		} else {
			return fail(b, HG_ERR_INVALID_ARG, "unexpected field '%s' (or wrong type)", key);
		}
	}
	char msg[256];
	if (hg_bank_check(sb, msg, sizeof msg) != HG_OK)
		return fail(b, HG_ERR_INVALID_ARG, "%s", msg);
	return HG_OK;
}

/* After a change made here: apply it to the index before answering. */
static void sync_now(hg_banks *b, const hg_bank *sb)
{
	struct bank *k = bank_track(b, sb);
	if (k)
		bank_sync(b, k);
}

hg_status hg_banks_create(hg_banks *b, const char *tenant, json_t *spec, const char *actor,
			  json_t **out)
{
	hg_bank sb, made;
	hg_bank_init(&sb);
	snprintf(sb.tenant, sizeof sb.tenant, "%s", tenant);
	if (!json_is_string(json_object_get(spec, "name")))
		return fail(b, HG_ERR_INVALID_ARG, "a bank needs a \"name\"");
	hg_status st = spec_apply(b, spec, 1, &sb);
	if (st != HG_OK)
		return st;
	pthread_mutex_lock(&b->lock);
	st = hg_store_bank_create(b->store, &sb, actor, &made);
	if (st == HG_ERR_EXISTS)
		fail(b, st, "bank '%s' already exists", sb.name);
	else if (st != HG_OK)
		store_fail(b, st);
	else
		sync_now(b, &made);
	pthread_mutex_unlock(&b->lock);
	if (st == HG_OK)
		*out = bank_json(&made);
	return st;
}

hg_status hg_banks_update(hg_banks *b, const char *tenant, const char *name, json_t *patch,
			  const char *actor, json_t **out)
{
	hg_bank sb, made;
	pthread_mutex_lock(&b->lock);
	hg_status st = get_locked(b, tenant, name, &sb);
	if (st == HG_OK)
		st = spec_apply(b, patch, 0, &sb);
	if (st == HG_OK && (st = hg_store_bank_update(b->store, &sb, actor, &made)) != HG_OK)
		store_fail(b, st);
	if (st == HG_OK)
		sync_now(b, &made);
	pthread_mutex_unlock(&b->lock);
	if (st == HG_OK)
		*out = bank_json(&made);
	return st;
}

hg_status hg_banks_delete(hg_banks *b, const char *tenant, const char *name, const char *actor)
{
	hg_bank sb;
	pthread_mutex_lock(&b->lock);
	hg_status st = get_locked(b, tenant, name, &sb);
	if (st == HG_OK && (st = hg_store_bank_delete(b->store, tenant, name, actor)) != HG_OK)
		store_fail(b, st);
	struct bank *k = st == HG_OK ? bank_by_id(b, sb.id) : NULL;
	if (k)
		bank_gone(b, k);
	pthread_mutex_unlock(&b->lock);
	return st;
}

/* Validates every entry before anything is written: a batch is all or
 * nothing, and the error names the entry. */
static hg_status parse_entries(hg_banks *b, json_t *list, hg_entry_input *in)
{
	size_t i;
	json_t *e;
	/* A vpdq value can be HG_VPDQ_MAX_FRAMES hashes long. */
	char *norm = malloc(HG_SIGNAL_VALUE_MAX + 1);
	if (!norm)
		return fail(b, HG_ERR_NOMEM, "out of memory");
	hg_status st = HG_OK;
	json_array_foreach(list, i, e) {
		const char *type = json_string_value(json_object_get(e, "signal_type"));
		const char *value = json_string_value(json_object_get(e, "value"));
		json_t *ext = json_object_get(e, "external_id"), *src = json_object_get(e, "source");
		char msg[256];
		if (!json_is_object(e) || !type || !value || (ext && !json_is_string(ext)) ||
		    (src && !json_is_string(src))) {
			st = fail(b, HG_ERR_PARSE, "entries[%zu]: needs \"signal_type\" and \"value\""
				  " strings (\"external_id\", \"source\" optional)", i);
			break;
		}
		if (hg_signal_parse(type, strlen(type), &in[i].signal) != HG_OK) {
			st = fail(b, HG_ERR_PARSE, "entries[%zu]: signal_type is pdq, md5, sha1, sha256"
				  " or vpdq", i);
			break;
		}
		if (hg_signal_normalize(in[i].signal, value, strlen(value), norm,
					HG_SIGNAL_VALUE_MAX + 1, NULL, msg, sizeof msg) != HG_OK) {
			st = fail(b, HG_ERR_PARSE, "entries[%zu]: bad value: %s", i, msg);
			break;
		}
		in[i].value = value;
		in[i].value_len = strlen(value);
		in[i].external_id = json_string_value(ext);
		in[i].source = json_string_value(src);
	}
	free(norm);
	return st;
}

static json_t *result_json(const hg_change_result *r)
{
	return json_pack("{s:I,s:I,s:I}", "added", (json_int_t)r->added, "unchanged",
			 (json_int_t)r->unchanged, "version", (json_int_t)r->version);
}

/* Commits (or, after a failure, aborts) an import and brings the index up
 * to date. Call with b->lock held. */
static hg_status finish_import(hg_banks *b, hg_import *imp, hg_status st, const char *tenant,
			       const char *name, hg_change_result *res)
{
	hg_bank sb;
	if (imp && st == HG_OK) {
		if ((st = hg_import_commit(imp, res)) != HG_OK)
			store_fail(b, st);
	} else {
		hg_import_abort(imp);
	}
	if (st == HG_OK && get_locked(b, tenant, name, &sb) == HG_OK)
		sync_now(b, &sb);
	return st;
}

hg_status hg_banks_add(hg_banks *b, const char *tenant, const char *name, json_t *entries,
		       const char *actor, json_t **out)
{
	size_t n = json_array_size(entries);
	if (n > BATCH_MAX)
		return fail(b, HG_ERR_TOO_LARGE, "at most %d entries per request; use /import",
			    BATCH_MAX);
	hg_entry_input *in = calloc(n ? n : 1, sizeof *in);
	if (!in)
		return fail(b, HG_ERR_NOMEM, "out of memory");
	hg_status st = parse_entries(b, entries, in);
	hg_change_result res = {0};
	hg_bank sb;
	pthread_mutex_lock(&b->lock);
	if (st == HG_OK)
		st = get_locked(b, tenant, name, &sb);
	hg_import *imp = NULL;
	if (st == HG_OK && (st = hg_import_begin(b->store, tenant, name, actor, "api", &imp)))
		store_fail(b, st);
	for (size_t i = 0; st == HG_OK && i < n; i++)
		if ((st = hg_import_add(imp, &in[i])) != HG_OK)
			fail(b, st, "entries[%zu]: %s", i, hg_store_errmsg(b->store));
	st = finish_import(b, imp, st, tenant, name, &res);
	pthread_mutex_unlock(&b->lock);
	free(in);
	if (st == HG_OK)
		*out = result_json(&res);
	return st;
}

hg_status hg_banks_remove(hg_banks *b, const char *tenant, const char *name, const char *id,
			  const char *actor, const char *reason)
{
	char *end;
	long long v = strtoll(id, &end, 10);
	if (*end || end == id || v <= 0)
		return fail(b, HG_ERR_NOT_FOUND, "no entry %s", id);
	int64_t eid = v;
	hg_change_result res = {0};
	hg_bank sb;
	pthread_mutex_lock(&b->lock);
	hg_status st = get_locked(b, tenant, name, &sb);
	if (st == HG_OK &&
	    (st = hg_store_remove_ids(b->store, tenant, name, &eid, 1, actor, reason, &res)) != HG_OK)
		store_fail(b, st);
	if (st == HG_OK && res.removed == 0)
		st = fail(b, HG_ERR_NOT_FOUND, "no live entry %s in bank %s", id, name);
	if (st == HG_OK && get_locked(b, tenant, name, &sb) == HG_OK)
		sync_now(b, &sb);
	pthread_mutex_unlock(&b->lock);
	return st;
}

static int page_row(void *ctx, const hg_entry *e)
{
	json_array_append_new(ctx, json_pack("{s:I,s:s,s:s,s:s?,s:s?,s:s?,s:I}", "id",
					     (json_int_t)e->id, "signal_type",
					     hg_signal_name(e->signal), "value", e->value,
					     "external_id", e->external_id, "source", e->source,
					     "added_by", e->added_by, "added_at",
					     (json_int_t)e->added_at));
	return 0;
}

hg_status hg_banks_entries(hg_banks *b, const char *tenant, const char *name, long after,
			   long limit, json_t **out)
{
	json_t *arr = json_array();
	int64_t next = 0;
	hg_bank sb;
	pthread_mutex_lock(&b->lock);
	hg_status st = get_locked(b, tenant, name, &sb);
	if (st == HG_OK && (st = hg_store_entries_page(b->store, tenant, name, after, (int)limit, 0,
						       page_row, arr, &next)) != HG_OK)
		store_fail(b, st);
	pthread_mutex_unlock(&b->lock);
	if (st != HG_OK) {
		json_decref(arr);
		return st;
	}
	*out = json_pack("{s:o,s:o}", "entries", arr, "next_after",
			 next ? json_integer(next) : json_null());
	return HG_OK;
}

struct bad_lines {
	json_t *errors;
};

static int bad_line(void *ctx, int64_t line, const char *message)
{
	struct bad_lines *bl = ctx;
	if (json_array_size(bl->errors) < 100)
		json_array_append_new(bl->errors, json_pack("{s:I,s:s}", "line", (json_int_t)line,
							    "message", message));
	return 0;
}

hg_status hg_banks_import(hg_banks *b, const char *tenant, const char *name, const char *data,
			  size_t len, const char *format, const char *actor, json_t **out)
{
	hg_import_opts opts = {.format = HG_LIST_TEXT, .default_signal = -1, .actor = actor,
			       .source = "api"};
	if (format && hg_list_format_parse(format, &opts.format) != HG_OK)
		return fail(b, HG_ERR_PARSE, "format is text, csv or jsonl");
	struct bad_lines bl = {json_array()};
	hg_change_result res = {0};
	int64_t bad = 0;
	hg_bank sb;
	pthread_mutex_lock(&b->lock);
	hg_status st = get_locked(b, tenant, name, &sb);
	if (st == HG_OK && (st = hg_store_import_buffer(b->store, tenant, name, data, len, &opts,
							bad_line, &bl, &bad, &res)) != HG_OK)
		store_fail(b, st);
	if (st == HG_OK && get_locked(b, tenant, name, &sb) == HG_OK)
		sync_now(b, &sb);
	pthread_mutex_unlock(&b->lock);
	if (st != HG_OK) {
		json_decref(bl.errors);
		return st;
	}
	*out = result_json(&res);
	json_object_set_new(*out, "bad_lines", json_integer(bad));
	json_object_set_new(*out, "errors", bl.errors);
	return HG_OK;
}
