/*
 * index.c — hg_index: exact radius search over PDQ hashes (see index.h for
 * the picture, the exactness argument and the concurrency contract).
 *
 * A query runs in stages over all its hashes (the 8 dihedral variants) at
 * once, so the memory system always has many independent misses in flight:
 *   A. every probe key of every table of every variant is generated and its
 *      CSR offset prefetched;
 *   B. offsets are read into (table, range) pairs, prefetching the slots;
 *   C. slots are read into candidates, prefetching the hashes;
 *   D. candidates are verified with the full 256-bit distance.
 * Between B and C it knows how many candidates it would verify; if that
 * costs more than a brute-force scan (a flood of near-duplicates), it scans
 * instead — so the worst case is bounded by one scan plus the probes.
 *
 * Readers pin a version with an RCU-style pair of counters; writers swap
 * versions and wait for the pinned ones to drain before freeing.
 */
#include "core/index_internal.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/hamming.h"

/* Benchmark hooks (bench_index measures each idea against its absence);
 * always 1 in production. */
atomic_int hg__index_prefetch = 64;
atomic_int hg__index_hugepages = 1;
atomic_int hg__index_prefetch_l2 = 1;
atomic_int hg__index_lean = 1;

/* Cost model, in nanoseconds, fitted to bench_index --crossover (AMD EPYC
 * Zen 4, CPU time, 1k..1M clustered lists, radius 0..63) once the bucket
 * offsets were really prefetched: a probe costs ~10 ns all stages included
 * (1M at radius 47: 150k probes in 1.65 ms), a candidate ~10 ns; a scan
 * ~2 ns per list hash for all 8 variants with AVX-512. The planner picks
 * the cheaper; where it errs (near the crossover) both plans cost about
 * the same. */
#define COST_PROBE 10.0
#define COST_CAND 10.0
/* What a candidate in a bucket of FLOOD_BUCKET+ entries costs on top: such
 * buckets come from families of near-duplicates, whose members mostly
 * match, and each is found through several tables — verified, recorded and
 * sorted several times (bench_index --flood at 10M: 2.1M such candidates
 * took 158 ms, 75 ns each). */
#define COST_HIT 65.0
#define FLOOD_BUCKET 16

static double scan_cost_per_hash(int nq)
{
	switch (hg__scan_best()) {
	case HG_SCAN_AVX512:
		return 2.0; /* all 8 variants in one register */
	case HG_SCAN_AVX2:
		return nq > 4 ? 8.4 : 4.2;
	case HG_SCAN_POPCNT:
		return 1.3 * nq;
	default:
		return 8.4 * nq;
	}
}

/* ---- small helpers ------------------------------------------------------ */

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need == 0)
		need = 1; /* a NULL result always means out of memory */
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *q = realloc(p, c * elem);
	if (q)
		*cap = c;
	return q;
}

static inline uint32_t substr(const hg_pdq *h, unsigned start, unsigned bits)
{
	unsigned w = start >> 6, o = start & 63;
	uint64_t x = h->w[w] >> o;
	if (o + bits > 64 && w < 3)
		x |= h->w[w + 1] << (64 - o);
	return (uint32_t)(x & ((UINT64_C(1) << bits) - 1));
}

static inline uint8_t load_tomb(const uint8_t *t)
{
	return __atomic_load_n(t, __ATOMIC_ACQUIRE);
}

static inline void store_tomb(uint8_t *t, uint8_t v)
{
	__atomic_store_n(t, v, __ATOMIC_RELEASE);
}

static size_t align_up(size_t x)
{
	return (x + HG_ALIGN - 1) & ~(size_t)(HG_ALIGN - 1);
}

/* Big arrays get transparent huge pages where the kernel offers them: a
 * query touches ~30k random cache lines spread over the whole index, and
 * with 4 KiB pages nearly every one is also a TLB miss (bench_index
 * measured the difference; see docs/match.md). */
static void *alloc_big(size_t size)
{
	const size_t huge = (size_t)2 << 20;
	if (size < 2 * huge)
		return aligned_alloc(HG_ALIGN, (size + HG_ALIGN - 1) & ~(size_t)(HG_ALIGN - 1));
	void *p = NULL;
	if (posix_memalign(&p, huge, size) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	if (atomic_load_explicit(&hg__index_hugepages, memory_order_relaxed))
		madvise(p, size, MADV_HUGEPAGE); /* advice only: failure is harmless */
#endif
	return p;
}

/* ---- options and layout ------------------------------------------------- */

static unsigned auto_bits(size_t n)
{
	/* one bit more than log2(n), so most probed keys are empty: probing
	 * an empty key costs one (compact, cache-friendly) offset read while a
	 * candidate costs a random hash read. bench_index --sweep: 21 bits
	 * best at 1M, 23 (the most that still gives 11 tables) at 10M. */
	unsigned b = 1;
	while (b < 40 && (UINT64_C(1) << b) < (uint64_t)n)
		b++;
	b += 1;
	return b < 16 ? 16 : b > 23 ? 23 : b;
}

static hg_status resolve_options(const hg_index_options *in, size_t n, hg_index_options *out)
{
	hg_index_options o = {0};
	if (in)
		o = *in;
	if (o.bits == 0)
		o.bits = auto_bits(n);
	if (o.bits < HG_INDEX_MIN_BITS || o.bits > HG_INDEX_MAX_BITS)
		return HG_ERR_INVALID_ARG;
	if (o.tables == 0)
		o.tables = 256 / o.bits;
	if (o.tables > HG_INDEX_MAX_TABLES || o.tables * o.bits > 256)
		return HG_ERR_INVALID_ARG;
	if (o.delta_capacity == 0)
		o.delta_capacity = 65536;
	*out = o;
	return HG_OK;
}

void hg__base_layout(size_t n, unsigned m, unsigned bits, uint32_t wide,
		     struct hg_base_layout *L)
{
	const size_t nkeys = (size_t)1 << bits;
	size_t at = 0;
	L->hashes = at;
	at = align_up(at + n * sizeof(hg_pdq));
	L->ids = at;
	at = align_up(at + n * sizeof(uint64_t));
	L->tomb = at;
	at = align_up(at + n);
	for (unsigned t = 0; t < m; t++) {
		int w = (wide >> t) & 1;
		L->off[t] = at;
		at = align_up(at + (nkeys + 1) * (w ? sizeof(uint32_t) : sizeof(uint16_t)));
		L->blk[t] = at;
		if (!w)
			at = align_up(at + ((nkeys >> HG_BLK_SHIFT) + 1) * sizeof(uint32_t));
		L->slots[t] = at;
		at = align_up(at + n * sizeof(uint32_t));
	}
	L->total = at;
}

void hg__base_free(struct hg_base *b)
{
	if (!b)
		return;
	free(b->block);
	free(b->tomb_heap);
	for (unsigned t = 0; t < HG_INDEX_MAX_TABLES; t++)
		free(b->extra[t]);
	if (b->release)
		b->release(b->release_ctx);
	free(b);
}

/* Builds the tables over the `n` hashes already in the block, through
 * `off` (2^bits + 1 words of scratch): counting sort per table, then the
 * offsets are stored compactly (or kept as they are for a wide table). */
static hg_status build_tables(struct hg_base *b, uint8_t *block, const struct hg_base_layout *L,
			      uint32_t *off)
{
	const size_t nkeys = (size_t)1 << b->bits;
	for (unsigned t = 0; t < b->m; t++) {
		uint32_t *slots = (uint32_t *)(block + L->slots[t]);
		const unsigned start = t * b->bits;
		memset(off, 0, (nkeys + 1) * sizeof *off);
		for (size_t i = 0; i < b->n; i++)
			off[substr(&b->hashes[i], start, b->bits)]++;
		uint32_t sum = 0;
		for (size_t k = 0; k < nkeys; k++) {
			uint32_t c = off[k];
			off[k] = sum;
			sum += c;
		}
		/* off[k] is used as key k's cursor, ending at key k+1's start;
		 * shifting by one restores the starts. */
		for (size_t i = 0; i < b->n; i++)
			slots[off[substr(&b->hashes[i], start, b->bits)]++] = (uint32_t)i;
		memmove(off + 1, off, nkeys * sizeof *off);
		off[0] = 0;

		uint16_t *rel = (uint16_t *)(block + L->off[t]);
		uint32_t *blk = (uint32_t *)(block + L->blk[t]);
		uint32_t over = 0;
		for (size_t j = 0; j <= nkeys >> HG_BLK_SHIFT; j++)
			blk[j] = off[j << HG_BLK_SHIFT];
		for (size_t k = 0; k <= nkeys; k++) {
			uint32_t d = off[k] - blk[k >> HG_BLK_SHIFT];
			over |= d;
			rel[k] = (uint16_t)d;
		}
		b->rel[t] = rel;
		b->blk[t] = blk;
		b->slots[t] = slots;
		if (over > UINT16_MAX) {
			b->extra[t] = malloc((nkeys + 1) * sizeof *off);
			if (!b->extra[t])
				return HG_ERR_NOMEM;
			memcpy(b->extra[t], off, (nkeys + 1) * sizeof *off);
			b->off32[t] = b->extra[t];
			b->wide |= 1u << t;
			b->bytes += (nkeys + 1) * sizeof *off;
		}
	}
	return HG_OK;
}

/* A base over copies of hashes[0..n) and ids[0..n), all live. */
static hg_status base_build(const hg_index_options *o, const hg_pdq *hashes, const uint64_t *ids,
			    size_t n, struct hg_base **out)
{
	*out = NULL;
	if (n > HG_INDEX_MAX_ENTRIES)
		return HG_ERR_TOO_LARGE;
	struct hg_base *b = calloc(1, sizeof *b);
	if (!b)
		return HG_ERR_NOMEM;
	struct hg_base_layout L;
	hg__base_layout(n, o->tables, o->bits, 0, &L);
	uint8_t *block = alloc_big(L.total);
	uint32_t *scratch = malloc((((size_t)1 << o->bits) + 1) * sizeof *scratch);
	if (!block || !scratch) {
		free(block);
		free(scratch);
		free(b);
		return HG_ERR_NOMEM;
	}
	b->n = n;
	b->m = o->tables;
	b->bits = o->bits;
	b->block = block;
	b->bytes = L.total + sizeof *b;
	if (n) {
		memcpy(block + L.hashes, hashes, n * sizeof *hashes);
		memcpy(block + L.ids, ids, n * sizeof *ids);
	}
	memset(block + L.tomb, 0, n);
	b->hashes = (const hg_pdq *)(block + L.hashes);
	b->ids = (const uint64_t *)(block + L.ids);
	b->tomb = block + L.tomb;
	hg_status st = build_tables(b, block, &L, scratch);
	free(scratch);
	if (st) {
		hg__base_free(b);
		return st;
	}
	*out = b;
	return HG_OK;
}

static hg_status delta_new(size_t cap, struct hg_delta **out)
{
	struct hg_delta *d = calloc(1, sizeof *d);
	if (!d)
		return HG_ERR_NOMEM;
	d->cap = cap;
	d->hashes = aligned_alloc(HG_ALIGN, align_up(cap * sizeof *d->hashes));
	d->ids = malloc(cap * sizeof *d->ids);
	d->tomb = calloc(cap, 1);
	if (!d->hashes || !d->ids || !d->tomb) {
		free(d->hashes);
		free(d->ids);
		free(d->tomb);
		free(d);
		return HG_ERR_NOMEM;
	}
	atomic_init(&d->n, 0);
	*out = d;
	return HG_OK;
}

static void delta_free(struct hg_delta *d)
{
	if (!d)
		return;
	free(d->hashes);
	free(d->ids);
	free(d->tomb);
	free(d);
}

/* ---- id map (writers only) ----------------------------------------------- */

#define MAP_EMPTY UINT32_MAX

static uint64_t slot_id(const struct hg_version *v, uint32_t slot)
{
	if (slot < v->base->n)
		return v->base->ids[slot];
	return v->delta->ids[slot - v->base->n];
}

static hg_status map_alloc(size_t entries, uint32_t **map, size_t *mask)
{
	size_t cap = 1024;
	while (cap / 4 * 3 < entries + 1)
		cap *= 2;
	uint32_t *m = malloc(cap * sizeof *m);
	if (!m)
		return HG_ERR_NOMEM;
	memset(m, 0xff, cap * sizeof *m);
	*map = m;
	*mask = cap - 1;
	return HG_OK;
}

/* Position of `id` in the map, or of the empty cell where it would go. */
static size_t map_find(const uint32_t *map, size_t mask, const struct hg_version *v, uint64_t id)
{
	size_t i = (size_t)hg__mix64(id) & mask;
	while (map[i] != MAP_EMPTY && slot_id(v, map[i]) != id)
		i = (i + 1) & mask;
	return i;
}

/* Backward-shift deletion keeps linear probing tombstone-free. */
static void map_delete_at(uint32_t *map, size_t mask, const struct hg_version *v, size_t i)
{
	size_t j = i;
	for (;;) {
		map[i] = MAP_EMPTY;
		for (;;) {
			j = (j + 1) & mask;
			if (map[j] == MAP_EMPTY)
				return;
			size_t home = (size_t)hg__mix64(slot_id(v, map[j])) & mask;
			/* move j back to i unless its home lies cyclically in (i, j] */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		map[i] = map[j];
		i = j;
	}
}

static hg_status map_rehash(hg_index *idx, const struct hg_version *v, size_t need)
{
	uint32_t *nm;
	size_t nmask;
	hg_status st = map_alloc(need, &nm, &nmask);
	if (st)
		return st;
	for (size_t i = 0; i <= idx->map_mask; i++) {
		if (idx->map[i] == MAP_EMPTY)
			continue;
		nm[map_find(nm, nmask, v, slot_id(v, idx->map[i]))] = idx->map[i];
	}
	free(idx->map);
	idx->map = nm;
	idx->map_mask = nmask;
	return HG_OK;
}

/* ---- versions and grace periods ------------------------------------------ */

static struct hg_version *pin(hg_index *idx, unsigned *phase)
{
	unsigned p = atomic_load(&idx->phase) & 1;
	atomic_fetch_add(&idx->readers[p], 1);
	*phase = p;
	return atomic_load(&idx->cur);
}

static void unpin(hg_index *idx, unsigned phase)
{
	atomic_fetch_sub(&idx->readers[phase], 1);
}

/* Waits until no query can still be reading a version that was current
 * before the caller's swap. Two phase flips: a reader that read the phase
 * before the previous flip still counts on the other counter. Called with
 * the writer lock held, so flips never interleave. */
static void synchronize(hg_index *idx)
{
	for (int k = 0; k < 2; k++) {
		unsigned p = atomic_load(&idx->phase) & 1;
		atomic_store(&idx->phase, p ^ 1);
		while (atomic_load(&idx->readers[p]) != 0)
			sched_yield();
	}
}

static hg_status publish(hg_index *idx, struct hg_base *base, struct hg_delta *delta,
			 struct hg_version **old)
{
	struct hg_version *v = malloc(sizeof *v);
	if (!v)
		return HG_ERR_NOMEM;
	v->base = base;
	v->delta = delta;
	*old = atomic_exchange(&idx->cur, v);
	synchronize(idx);
	return HG_OK;
}

/* ---- construction ------------------------------------------------------- */

static hg_status index_alloc(const hg_index_options *o, hg_index **out)
{
	hg_index *idx = calloc(1, sizeof *idx);
	if (!idx)
		return HG_ERR_NOMEM;
	idx->opt = *o;
	atomic_init(&idx->cur, NULL);
	atomic_init(&idx->phase, 0);
	atomic_init(&idx->readers[0], 0);
	atomic_init(&idx->readers[1], 0);
	pthread_mutex_init(&idx->wlock, NULL);
	pthread_mutex_init(&idx->compact, NULL);
	*out = idx;
	return HG_OK;
}

/*
 * The id map is built on the first write, not at load: a replica loading a
 * snapshot serves queries at once and pays for the map (about a third of a
 * second at 10M entries) only when it is first changed. `strict` reports a
 * repeated id (hg_index_build); otherwise the first copy wins (a snapshot
 * is checksummed output of this code, which never repeats an id).
 */
static hg_status ensure_map(hg_index *idx, const struct hg_version *v, int strict)
{
	if (idx->map)
		return HG_OK;
	const struct hg_base *base = v->base;
	const struct hg_delta *d = v->delta;
	size_t dn = atomic_load(&d->n);
	hg_status st = map_alloc(base->n + d->cap, &idx->map, &idx->map_mask);
	if (st)
		return st;
	idx->map_count = 0;
	for (size_t i = 0; i < base->n + dn; i++) {
		int dead = i < base->n ? load_tomb(&base->tomb[i]) : load_tomb(&d->tomb[i - base->n]);
		if (dead)
			continue;
		size_t at = map_find(idx->map, idx->map_mask, v, slot_id(v, (uint32_t)i));
		if (idx->map[at] != MAP_EMPTY) {
			if (!strict)
				continue;
			free(idx->map);
			idx->map = NULL;
			return HG_ERR_EXISTS;
		}
		idx->map[at] = (uint32_t)i;
		idx->map_count++;
	}
	return HG_OK;
}

hg_status hg__index_assemble(const hg_index_options *opt, struct hg_base *base,
			     const hg_pdq *dhashes, const uint64_t *dids, const uint8_t *dtomb,
			     size_t delta_n, int check_ids, hg_index **out)
{
	*out = NULL;
	hg_index_options o;
	hg_status st = resolve_options(opt, base->n, &o);
	if (st) {
		hg__base_free(base);
		return st;
	}
	if (opt) {
		o.bits = opt->bits; /* later compactions choose again unless fixed */
		o.tables = opt->tables;
	} else {
		o.bits = o.tables = 0;
	}
	if (base->n + delta_n > HG_INDEX_MAX_ENTRIES) {
		hg__base_free(base);
		return HG_ERR_TOO_LARGE;
	}
	hg_index *idx = NULL;
	struct hg_delta *d = NULL;
	struct hg_version *v = malloc(sizeof *v);
	size_t dcap = o.delta_capacity > delta_n * 2 ? o.delta_capacity : delta_n * 2;
	if (!v || (st = index_alloc(&o, &idx)) != HG_OK || (st = delta_new(dcap, &d)) != HG_OK)
		goto fail;
	v->base = base;
	v->delta = d;
	if (delta_n) {
		memcpy(d->hashes, dhashes, delta_n * sizeof *dhashes);
		memcpy(d->ids, dids, delta_n * sizeof *dids);
		if (dtomb)
			memcpy(d->tomb, dtomb, delta_n);
		atomic_store(&d->n, delta_n);
	}
	atomic_store(&idx->cur, v);
	for (size_t i = 0; i < base->n; i++)
		base->removed += base->tomb[i] != 0;
	for (size_t i = 0; i < delta_n; i++)
		d->removed += d->tomb[i] != 0;
	if (check_ids && (st = ensure_map(idx, v, 1)) != HG_OK) {
		hg_index_free(idx); /* frees v, base and d */
		return st;
	}
	*out = idx;
	return HG_OK;
fail:
	if (idx) {
		pthread_mutex_destroy(&idx->wlock);
		pthread_mutex_destroy(&idx->compact);
		free(idx);
	}
	free(v);
	delta_free(d);
	hg__base_free(base);
	return st ? st : HG_ERR_NOMEM;
}

hg_status hg_index_new(const hg_index_options *opt, hg_index **out)
{
	return hg_index_build(opt, NULL, NULL, 0, out);
}

hg_status hg_index_build(const hg_index_options *opt, const hg_pdq *hashes, const uint64_t *ids,
			 size_t n, hg_index **out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	if (n && (!hashes || !ids))
		return HG_ERR_INVALID_ARG;
	if (n > HG_INDEX_MAX_ENTRIES)
		return HG_ERR_TOO_LARGE;
	hg_index_options o;
	hg_status st = resolve_options(opt, n, &o);
	if (st)
		return st;
	struct hg_base *b;
	if ((st = base_build(&o, hashes, ids, n, &b)) != HG_OK)
		return st;
	return hg__index_assemble(opt, b, NULL, NULL, NULL, 0, 1, out);
}

void hg_index_free(hg_index *idx)
{
	if (!idx)
		return;
	if (idx->auto_started)
		pthread_join(idx->auto_thread, NULL);
	struct hg_version *v = atomic_load(&idx->cur);
	if (v) {
		hg__base_free(v->base);
		delta_free(v->delta);
		free(v);
	}
	free(idx->map);
	free(idx->pending);
	pthread_mutex_destroy(&idx->wlock);
	pthread_mutex_destroy(&idx->compact);
	free(idx);
}

/* ---- automatic compaction ------------------------------------------------ */

/* The policy hg_index_auto_compact documents: the delta is scanned by every
 * query (65,536 hashes cost ~0.13 ms with AVX-512, a fifth of a lookup at
 * 10M entries), and rebuilding when it reaches a quarter of the base keeps
 * the rebuild cost amortised O(1) per add on small indexes. */
static int wants_compaction(const struct hg_version *v)
{
	size_t base = v->base->n, delta = atomic_load(&v->delta->n);
	size_t removed = v->base->removed + v->delta->removed;
	if (delta + removed < 1024)
		return 0;
	return delta > 65536 || delta > base / 4 || removed > base / 4;
}

static void *auto_main(void *arg)
{
	hg_index *idx = arg;
	hg_status st = hg_index_compact(idx);
	pthread_mutex_lock(&idx->wlock);
	idx->auto_status = st;
	idx->auto_running = 0; /* the last thing it does under the lock */
	pthread_mutex_unlock(&idx->wlock);
	return NULL;
}

/* After an add or remove, with the writer lock held. Joining a finished
 * thread here cannot wait on us: it cleared auto_running under this lock
 * and takes no lock after. */
static void maybe_auto_compact(hg_index *idx)
{
	if (!idx->auto_on || idx->auto_running || idx->compacting ||
	    !wants_compaction(atomic_load(&idx->cur)))
		return;
	if (idx->auto_started) {
		pthread_join(idx->auto_thread, NULL);
		idx->auto_started = 0;
	}
	if (pthread_create(&idx->auto_thread, NULL, auto_main, idx) == 0)
		idx->auto_running = idx->auto_started = 1;
	else
		idx->auto_status = HG_ERR_NOMEM; /* retried by the next write */
}

hg_status hg_index_auto_compact(hg_index *idx, int on)
{
	if (!idx)
		return HG_ERR_INVALID_ARG;
	pthread_mutex_lock(&idx->wlock);
	idx->auto_on = on != 0;
	pthread_mutex_unlock(&idx->wlock);
	return HG_OK;
}

/* ---- add / remove -------------------------------------------------------- */

/* Replaces a full delta by one twice its size (same slots). */
static hg_status delta_grow(hg_index *idx, struct hg_version *v)
{
	struct hg_delta *old = v->delta, *d;
	size_t n = atomic_load(&old->n);
	hg_status st = delta_new(old->cap * 2, &d);
	if (st)
		return st;
	memcpy(d->hashes, old->hashes, n * sizeof *d->hashes);
	memcpy(d->ids, old->ids, n * sizeof *d->ids);
	for (size_t i = 0; i < n; i++)
		d->tomb[i] = load_tomb(&old->tomb[i]);
	d->removed = old->removed;
	atomic_store(&d->n, n);
	struct hg_version *prev;
	if ((st = publish(idx, v->base, d, &prev)) != HG_OK) {
		delta_free(d);
		return st;
	}
	delta_free(old);
	free(prev);
	return HG_OK;
}

hg_status hg_index_add(hg_index *idx, const hg_pdq *hash, uint64_t id)
{
	if (!idx || !hash)
		return HG_ERR_INVALID_ARG;
	hg_status st = HG_OK;
	pthread_mutex_lock(&idx->wlock);
	struct hg_version *v = atomic_load(&idx->cur);
	if ((st = ensure_map(idx, v, 0)) != HG_OK)
		goto out;
	size_t at = map_find(idx->map, idx->map_mask, v, id);
	if (idx->map[at] != MAP_EMPTY) {
		st = HG_ERR_EXISTS;
		goto out;
	}
	size_t n = atomic_load(&v->delta->n);
	if (v->base->n + n >= HG_INDEX_MAX_ENTRIES) {
		st = HG_ERR_TOO_LARGE;
		goto out;
	}
	if ((idx->map_count + 1) > (idx->map_mask + 1) / 4 * 3) {
		if ((st = map_rehash(idx, v, (idx->map_count + 1) * 2)) != HG_OK)
			goto out;
		at = map_find(idx->map, idx->map_mask, v, id);
	}
	if (n == v->delta->cap) {
		if ((st = delta_grow(idx, v)) != HG_OK)
			goto out;
		v = atomic_load(&idx->cur);
	}
	struct hg_delta *d = v->delta;
	d->hashes[n] = *hash;
	d->ids[n] = id;
	store_tomb(&d->tomb[n], 0);
	atomic_store_explicit(&d->n, n + 1, memory_order_release);
	idx->map[at] = (uint32_t)(v->base->n + n);
	idx->map_count++;
	maybe_auto_compact(idx);
out:
	pthread_mutex_unlock(&idx->wlock);
	return st;
}

hg_status hg_index_remove(hg_index *idx, uint64_t id)
{
	if (!idx)
		return HG_ERR_INVALID_ARG;
	hg_status st = HG_OK;
	pthread_mutex_lock(&idx->wlock);
	struct hg_version *v = atomic_load(&idx->cur);
	if ((st = ensure_map(idx, v, 0)) != HG_OK)
		goto out;
	size_t at = map_find(idx->map, idx->map_mask, v, id);
	uint32_t slot = idx->map[at];
	if (slot == MAP_EMPTY) {
		st = HG_ERR_NOT_FOUND;
		goto out;
	}
	if (slot < v->base->n) {
		store_tomb(&v->base->tomb[slot], 1);
		v->base->removed++;
	} else {
		store_tomb(&v->delta->tomb[slot - v->base->n], 1);
		v->delta->removed++;
	}
	map_delete_at(idx->map, idx->map_mask, v, at);
	idx->map_count--;
	if (idx->compacting) {
		uint32_t *p = grow(idx->pending, &idx->pending_cap, idx->npending + 1, sizeof *p);
		if (!p) {
			/* cannot record it for the compaction in flight: undo */
			if (slot < v->base->n) {
				store_tomb(&v->base->tomb[slot], 0);
				v->base->removed--;
			} else {
				store_tomb(&v->delta->tomb[slot - v->base->n], 0);
				v->delta->removed--;
			}
			idx->map[map_find(idx->map, idx->map_mask, v, id)] = slot;
			idx->map_count++;
			st = HG_ERR_NOMEM;
			goto out;
		}
		idx->pending = p;
		idx->pending[idx->npending++] = slot;
	}
	maybe_auto_compact(idx);
out:
	pthread_mutex_unlock(&idx->wlock);
	return st;
}

/* ---- compaction ---------------------------------------------------------- */

hg_status hg_index_compact(hg_index *idx)
{
	if (!idx)
		return HG_ERR_INVALID_ARG;
	pthread_mutex_lock(&idx->compact);
	hg_status st = HG_OK;
	hg_pdq *hashes = NULL;
	uint64_t *ids = NULL;
	uint32_t *rank = NULL;
	struct hg_base *nb = NULL;
	struct hg_delta *nd = NULL;
	uint32_t *nmap = NULL;
	size_t nmask = 0;

	/* 1. Freeze what will be rebuilt: the base and the delta's prefix. */
	pthread_mutex_lock(&idx->wlock);
	struct hg_version *v = atomic_load(&idx->cur);
	struct hg_base *ob = v->base;
	size_t bn = ob->n, n0 = atomic_load(&v->delta->n), total = bn + n0;
	hashes = malloc((total ? total : 1) * sizeof *hashes);
	ids = malloc((total ? total : 1) * sizeof *ids);
	rank = malloc((total ? total : 1) * sizeof *rank);
	if (!hashes || !ids || !rank) {
		pthread_mutex_unlock(&idx->wlock);
		st = HG_ERR_NOMEM;
		goto out;
	}
	size_t live = 0;
	for (size_t i = 0; i < total; i++) {
		int dead = i < bn ? load_tomb(&ob->tomb[i]) : load_tomb(&v->delta->tomb[i - bn]);
		if (dead) {
			rank[i] = UINT32_MAX;
			continue;
		}
		rank[i] = (uint32_t)live;
		hashes[live] = i < bn ? ob->hashes[i] : v->delta->hashes[i - bn];
		ids[live] = i < bn ? ob->ids[i] : v->delta->ids[i - bn];
		live++;
	}
	idx->compacting = 1;
	idx->npending = 0;
	pthread_mutex_unlock(&idx->wlock);

	/* 2. Build outside the writer lock: adds and removes carry on. */
	hg_index_options o = idx->opt;
	if ((st = resolve_options(&o, live, &o)) == HG_OK)
		st = base_build(&o, hashes, ids, live, &nb);
	if (st == HG_OK)
		st = map_alloc(live + o.delta_capacity, &nmap, &nmask);
	if (st == HG_OK) {
		struct hg_version tmp = {nb, NULL};
		for (size_t i = 0; i < live; i++)
			nmap[map_find(nmap, nmask, &tmp, ids[i])] = (uint32_t)i;
	}

	/* 3. Catch up with what happened meanwhile and swap. */
	pthread_mutex_lock(&idx->wlock);
	idx->compacting = 0;
	if (st != HG_OK) {
		pthread_mutex_unlock(&idx->wlock);
		goto out;
	}
	v = atomic_load(&idx->cur);
	struct hg_delta *od = v->delta;
	size_t n1 = atomic_load(&od->n);
	size_t dcap = idx->opt.delta_capacity;
	while (dcap < (n1 - n0) * 2)
		dcap *= 2;
	if ((st = delta_new(dcap, &nd)) != HG_OK) {
		pthread_mutex_unlock(&idx->wlock);
		goto out;
	}
	struct hg_version nv = {nb, nd};
	for (size_t k = 0; k < idx->npending; k++) {
		uint32_t old = idx->pending[k];
		if (old < total && rank[old] != UINT32_MAX) {
			uint32_t s = rank[old];
			nb->tomb[s] = 1;
			nb->removed++;
			size_t at = map_find(nmap, nmask, &nv, nb->ids[s]);
			if (nmap[at] == s)
				map_delete_at(nmap, nmask, &nv, at);
		}
	}
	size_t dn = 0;
	for (size_t j = n0; j < n1; j++) {
		if (load_tomb(&od->tomb[j]))
			continue;
		nd->hashes[dn] = od->hashes[j];
		nd->ids[dn] = od->ids[j];
		atomic_store(&nd->n, dn + 1);
		nmap[map_find(nmap, nmask, &nv, nd->ids[dn])] = (uint32_t)(live + dn);
		dn++;
	}
	struct hg_version *prev;
	if ((st = publish(idx, nb, nd, &prev)) != HG_OK) {
		pthread_mutex_unlock(&idx->wlock);
		goto out;
	}
	free(idx->map);
	idx->map = nmap;
	idx->map_mask = nmask;
	idx->map_count = live - nb->removed + dn;
	idx->compactions++;
	nmap = NULL;
	nb = NULL;
	nd = NULL;
	pthread_mutex_unlock(&idx->wlock);
	hg__base_free(prev->base);
	delta_free(prev->delta);
	free(prev);
out:
	free(hashes);
	free(ids);
	free(rank);
	free(nmap);
	hg__base_free(nb);
	delta_free(nd);
	pthread_mutex_unlock(&idx->compact);
	return st;
}

/* ---- stats --------------------------------------------------------------- */

hg_status hg_index_stats_get(hg_index *idx, hg_index_stats *out)
{
	if (!idx || !out)
		return HG_ERR_INVALID_ARG;
	pthread_mutex_lock(&idx->wlock);
	struct hg_version *v = atomic_load(&idx->cur);
	size_t dn = atomic_load(&v->delta->n);
	out->base_entries = v->base->n;
	out->delta_entries = dn;
	out->removed = v->base->removed + v->delta->removed;
	out->entries = v->base->n + dn - out->removed;
	out->bytes = v->base->bytes + v->delta->cap * (sizeof(hg_pdq) + sizeof(uint64_t) + 1) +
		     (idx->map ? (idx->map_mask + 1) * sizeof(uint32_t) : 0) + sizeof *idx +
		     sizeof *v->delta;
	out->tables = v->base->m;
	out->bits = v->base->bits;
	out->compactions = idx->compactions;
	out->auto_status = idx->auto_status;
	pthread_mutex_unlock(&idx->wlock);
	return HG_OK;
}

/* ---- queries --------------------------------------------------------------- */

struct probe {
	uint32_t key;
	uint8_t table, variant;
};

struct range {
	uint32_t lo, hi;
	uint8_t table, variant;
};

struct hg_index_results {
	hg_index_match *m;
	size_t n, cap;
	struct probe *probes;
	size_t probes_cap;
	struct range *ranges;
	size_t ranges_cap;
	struct hg_cand *cands;
	size_t cands_cap;
	struct hg_hits hits;
	int scanned;
	size_t candidates;
};

hg_status hg_index_results_new(hg_index_results **out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	*out = calloc(1, sizeof **out);
	return *out ? HG_OK : HG_ERR_NOMEM;
}

void hg_index_results_free(hg_index_results *r)
{
	if (!r)
		return;
	free(r->m);
	free(r->probes);
	free(r->ranges);
	free(r->cands);
	free(r->hits.v);
	free(r);
}

size_t hg_index_results_count(const hg_index_results *r)
{
	return r ? r->n : 0;
}

const hg_index_match *hg_index_results_matches(const hg_index_results *r)
{
	return r ? r->m : NULL;
}

void hg_index_results_plan(const hg_index_results *r, int *scanned, size_t *candidates)
{
	if (scanned)
		*scanned = r ? r->scanned : 0;
	if (candidates)
		*candidates = r ? r->candidates : 0;
}

static size_t binom_le(unsigned n, unsigned s)
{
	size_t total = 0, c = 1;
	for (unsigned k = 0; k <= s && k <= n; k++) {
		total += c;
		c = c * (n - k) / (k + 1);
	}
	return total;
}

/* Per-table flip budget: radius = s*m + a -> tables 0..a get s, others s-1
 * (-1 = the table is not probed). */
static int table_radius(int radius, unsigned m, unsigned t)
{
	int s = radius / (int)m, a = radius % (int)m;
	return (int)t <= a ? s : s - 1;
}


/* hg__index_prefetch: 0 none; 1 "burst" (every probe's offsets
 * prefetched as the probes are generated); D >= 2 "pipelined" (each stage
 * prefetches what it will need D items ahead). bench_index --sweep. */
#define PREFETCH(p)                                     \
	do {                                            \
		if (pf == 1)                            \
			__builtin_prefetch((p), 0, 3);  \
	} while (0)
#define PREFETCH_AHEAD(p)                               \
	do {                                            \
		if (l2)                                 \
			__builtin_prefetch((p), 0, 2);  \
		else                                    \
			__builtin_prefetch((p), 0, 3);  \
	} while (0)

/*
 * A macro, not a function: GCC finds a void function that only prefetches
 * "pure" and deletes its calls. It did here until perf showed the offset
 * reads stalling; hg__index_lean = 0 reproduces that (no offset prefetch)
 * for bench_index. The blk word is prefetched too: its 32 KiB per table
 * would stay in L2 if the query's own stream of prefetched lines did not
 * keep evicting it.
 */
#define PREFETCH_BUCKET(b, t, k)                                        \
	do {                                                            \
		if (!lean) {                                            \
		} else if ((b)->wide & (1u << (t))) {                   \
			PREFETCH_AHEAD(&(b)->off32[t][k]);              \
		} else {                                                \
			PREFETCH_AHEAD(&(b)->rel[t][k]);                \
			PREFETCH_AHEAD(&(b)->blk[t][(k) >> HG_BLK_SHIFT]); \
		}                                                       \
	} while (0)

static size_t gen_probes(const struct hg_base *b, const hg_pdq *q, int nq, int radius,
			 struct probe *out)
{
	size_t np = 0;
	const unsigned bits = b->bits;
	const int pf = atomic_load_explicit(&hg__index_prefetch, memory_order_relaxed);
	for (int v = 0; v < nq; v++) {
		for (unsigned t = 0; t < b->m; t++) {
			int s = table_radius(radius, b->m, t);
			if (s < 0)
				continue;
			const uint16_t *rel = b->rel[t];
			const uint32_t *off32 = b->off32[t];
			uint32_t k0 = substr(&q[v], t * bits, bits);
#define EMIT(k)                                                                     \
	do {                                                                        \
		uint32_t k_ = (k);                                                  \
		if (off32)                                                          \
			PREFETCH(&off32[k_]);                                       \
		else                                                                \
			PREFETCH(&rel[k_]);                                         \
		out[np].key = k_;                                                   \
		out[np].table = (uint8_t)t;                                         \
		out[np].variant = (uint8_t)v;                                       \
		np++;                                                               \
	} while (0)
			EMIT(k0);
			for (unsigned i = 0; s >= 1 && i < bits; i++) {
				uint32_t k1 = k0 ^ (1u << i);
				EMIT(k1);
				for (unsigned j = i + 1; s >= 2 && j < bits; j++) {
					uint32_t k2 = k1 ^ (1u << j);
					EMIT(k2);
					for (unsigned l = j + 1; s >= 3 && l < bits; l++)
						EMIT(k2 ^ (1u << l));
				}
			}
#undef EMIT
		}
	}
	return np;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct hg_hit *x = a, *y = b;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return (int)x->variant - (int)y->variant;
}

static int cmp_match(const void *a, const void *b)
{
	const hg_index_match *x = a, *y = b;
	if (x->distance != y->distance)
		return x->distance < y->distance ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return 0;
}

/* Table lookup into r->hits; returns 1 if it gave up for a scan. */
static int query_tables(const struct hg_base *b, const hg_pdq *q, int nq, int radius,
			unsigned flags, double scan_cost, hg_index_results *r)
{
	size_t per_variant = 0;
	for (unsigned t = 0; t < b->m; t++) {
		int s = table_radius(radius, b->m, t);
		if (s >= 0)
			per_variant += binom_le(b->bits, (unsigned)s);
	}
	size_t nprobes = per_variant * (size_t)nq;
	struct probe *pr = grow(r->probes, &r->probes_cap, nprobes, sizeof *pr);
	if (!pr) {
		r->hits.oom = 1;
		return 0;
	}
	r->probes = pr;
	nprobes = gen_probes(b, q, nq, radius, pr);
	const int pf = atomic_load_explicit(&hg__index_prefetch, memory_order_relaxed);

	struct range *rg = grow(r->ranges, &r->ranges_cap, nprobes, sizeof *rg);
	if (!rg) {
		r->hits.oom = 1;
		return 0;
	}
	r->ranges = rg;
	size_t nr = 0, total = 0, big = 0;
	const size_t D = pf >= 2 ? (size_t)pf : 0;
	const int l2 = atomic_load_explicit(&hg__index_prefetch_l2, memory_order_relaxed);
	const int lean = atomic_load_explicit(&hg__index_lean, memory_order_relaxed);
	for (size_t i = 0; i < D && i < nprobes; i++) /* the pipeline's first D */
		PREFETCH_BUCKET(b, pr[i].table, pr[i].key);
	for (size_t i = 0; i < nprobes; i++) {
		if (D && i + D < nprobes)
			PREFETCH_BUCKET(b, pr[i + D].table, pr[i + D].key);
		uint32_t lo, hi;
		hg__bucket(b, pr[i].table, pr[i].key, &lo, &hi);
		const uint32_t len = hi - lo;
		big += len >= FLOOD_BUCKET ? len : 0;
		if (lean && pf != 1) {
			/* ~30% of probed keys are empty: a branch on it would be
			 * mispredicted that often, so store and keep or not */
			rg[nr] = (struct range){lo, hi, pr[i].table, pr[i].variant};
			nr += lo != hi;
			total += len;
			continue;
		}
		if (lo == hi)
			continue;
		PREFETCH(&b->slots[pr[i].table][lo]);
		rg[nr++] = (struct range){lo, hi, pr[i].table, pr[i].variant};
		total += len;
	}
	r->candidates = total;
	/* A flood of near-duplicates (or a skewed list) would cost more than a
	 * scan of the whole list: scan instead. This bounds every query by
	 * about its probes plus one scan. */
	if (!(flags & HG_INDEX_QUERY_TABLES) &&
	    (double)total * COST_CAND + (double)big * COST_HIT > scan_cost)
		return 1;

	struct hg_cand *c = grow(r->cands, &r->cands_cap, total + 2, sizeof *c);
	if (!c) {
		r->hits.oom = 1;
		return 0;
	}
	r->cands = c;
	size_t nc = 0;
	for (size_t i = 0; i < D && i < nr; i++)
		PREFETCH_AHEAD(&b->slots[rg[i].table][rg[i].lo]);
	for (size_t i = 0; i < nr; i++) {
		if (D && i + D < nr) {
			PREFETCH_AHEAD(&b->slots[rg[i + D].table][rg[i + D].lo]);
			/* and the line after: a bucket may straddle two, and the
			 * copy below reads one entry past a bucket of one */
			if (lean)
				PREFETCH_AHEAD(&b->slots[rg[i + D].table][rg[i + D].hi]);
		}
		const uint32_t *slots = b->slots[rg[i].table];
		if (lean && pf != 1) {
			/* most buckets hold 1 or 2 entries: copy two without a
			 * branch on the count (the second may belong to the next
			 * bucket, or repeat slots[lo] at the end of the array) */
			const uint32_t lo = rg[i].lo, len = rg[i].hi - lo, var = rg[i].variant;
			const uint32_t lo1 = lo + 1 < b->n ? lo + 1 : lo;
			c[nc] = (struct hg_cand){slots[lo], var};
			c[nc + 1] = (struct hg_cand){slots[lo1], var};
			if (len <= 2) {
				nc += len;
				continue;
			}
		}
		for (uint32_t k = rg[i].lo; k < rg[i].hi; k++) {
			uint32_t s = slots[k];
			PREFETCH(&b->hashes[s]);
			c[nc].slot = s;
			c[nc].variant = rg[i].variant;
			nc++;
		}
	}
	hg__verify(b->hashes, b->tomb, c, nc, q, radius, (unsigned)D, l2, &r->hits);
	return 0;
}

/* Drops hits on removed entries; `tomb` is indexed by pos - first. */
static void drop_removed(struct hg_hits *h, size_t from, const uint8_t *tomb, uint32_t first)
{
	size_t w = from;
	for (size_t i = from; i < h->n; i++)
		if (!load_tomb(&tomb[h->v[i].pos - first]))
			h->v[w++] = h->v[i];
	h->n = w;
}

hg_status hg_index_query(hg_index *idx, const hg_pdq *q, int nq, int radius, unsigned flags,
			 hg_index_results *r)
{
	if (r)
		r->n = 0;
	if (!idx || !q || !r || nq < 1 || nq > HG_DIH_COUNT || radius < 0 ||
	    radius > HG_INDEX_MAX_RADIUS ||
	    (flags & ~(unsigned)(HG_INDEX_QUERY_SCAN | HG_INDEX_QUERY_TABLES)))
		return HG_ERR_INVALID_ARG;
	r->hits.n = 0;
	r->hits.oom = 0;
	r->scanned = 0;
	r->candidates = 0;

	unsigned phase;
	struct hg_version *v = pin(idx, &phase);
	const struct hg_base *b = v->base;
	const struct hg_delta *d = v->delta;
	size_t dn = atomic_load_explicit(&d->n, memory_order_acquire);

	int scan = (flags & HG_INDEX_QUERY_SCAN) != 0;
	const double scan_cost = (double)b->n * scan_cost_per_hash(nq);
	int smax = radius / (int)b->m;
	if (!scan && b->n > 0) {
		if (smax > HG_INDEX_MAX_PROBE_BITS) {
			scan = 1;
		} else if (!(flags & HG_INDEX_QUERY_TABLES)) {
			/* expected cost: probes plus their expected candidates */
			double probes = 0;
			for (unsigned t = 0; t < b->m; t++) {
				int s = table_radius(radius, b->m, t);
				if (s >= 0)
					probes += (double)binom_le(b->bits, (unsigned)s);
			}
			probes *= nq;
			double per_key = (double)b->n / (double)((size_t)1 << b->bits);
			if (probes * (COST_PROBE + per_key * COST_CAND) > scan_cost)
				scan = 1;
		}
	}
	if (!scan && b->n > 0)
		scan = query_tables(b, q, nq, radius, flags, scan_cost, r);
	if (scan && b->n > 0) {
		r->hits.n = 0;
		r->scanned = 1;
		hg__scan(HG_SCAN_AUTO, b->hashes, b->n, q, nq, radius, 0, &r->hits);
		drop_removed(&r->hits, 0, b->tomb, 0);
	}
	size_t from = r->hits.n;
	hg__scan(HG_SCAN_AUTO, d->hashes, dn, q, nq, radius, (uint32_t)b->n, &r->hits);
	drop_removed(&r->hits, from, d->tomb, (uint32_t)b->n);

	hg_status st = HG_OK;
	if (r->hits.oom) {
		st = HG_ERR_NOMEM;
		goto out;
	}
	/* Several tables and variants can find one entry: keep its best. */
	if (r->hits.n > 1)
		qsort(r->hits.v, r->hits.n, sizeof *r->hits.v, cmp_hit);
	hg_index_match *m = grow(r->m, &r->cap, r->hits.n, sizeof *m);
	if (!m && r->hits.n) {
		st = HG_ERR_NOMEM;
		goto out;
	}
	r->m = m;
	size_t n = 0;
	for (size_t i = 0; i < r->hits.n; i++) {
		const struct hg_hit *h = &r->hits.v[i];
		if (i && h->pos == r->hits.v[i - 1].pos)
			continue;
		m[n].id = h->pos < b->n ? b->ids[h->pos] : d->ids[h->pos - b->n];
		m[n].distance = h->dist;
		m[n].variant = h->variant;
		n++;
	}
	if (n > 1)
		qsort(m, n, sizeof *m, cmp_match);
	r->n = n;
out:
	unpin(idx, phase);
	return st;
}
