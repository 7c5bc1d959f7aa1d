/*
 * index_internal.h — hg_index's data structures, shared by index.c (build,
 * query, updates) and index_snapshot.c (serialisation). Not public.
 *
 * A base's arrays sit in one block whose layout (base_layout) is also the
 * snapshot's body, so a snapshot loads by pointing into the buffer.
 */
#ifndef HG_CORE_INDEX_INTERNAL_H
#define HG_CORE_INDEX_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hashgate/index.h"

#define HG_ALIGN 64

/*
 * Bucket offsets are stored compactly: key k's entries start at
 * blk[k >> HG_BLK_SHIFT] + rel[k] (rel 16-bit, blk 32-bit and small enough
 * to stay in cache), i.e. ~2 bytes per key instead of 4 — 18 B/entry saved
 * at 10M entries with 11 tables of 23 bits. A table where some run of 1024
 * keys holds 65536+ entries (a skewed list) is "wide": plain 32-bit
 * offsets, off32[k].
 */
#define HG_BLK_SHIFT 10

/* Byte offsets of a base's sections inside its block (each 64-aligned).
 * off[t] is rel (u16) or, for a wide table, off32 (u32); blk[t] is unused
 * (size 0) for wide tables. */
struct hg_base_layout {
	size_t hashes, ids, tomb;
	size_t off[HG_INDEX_MAX_TABLES], blk[HG_INDEX_MAX_TABLES], slots[HG_INDEX_MAX_TABLES];
	size_t total;
};

/* The immutable part: entries and their tables. Only `tomb` changes. */
struct hg_base {
	size_t n;
	unsigned m, bits;
	const hg_pdq *hashes;
	const uint64_t *ids;
	uint8_t *tomb; /* 1 = removed; written with atomics under the writer lock */
	uint32_t wide; /* bit t: table t uses off32 */
	const uint16_t *rel[HG_INDEX_MAX_TABLES];
	const uint32_t *blk[HG_INDEX_MAX_TABLES];
	const uint32_t *off32[HG_INDEX_MAX_TABLES];
	const uint32_t *slots[HG_INDEX_MAX_TABLES];
	uint32_t *extra[HG_INDEX_MAX_TABLES]; /* heap off32 of wide tables built here */
	size_t removed; /* writer-side count */
	size_t bytes;
	void *block;          /* heap block (built here), or NULL */
	uint8_t *tomb_heap;   /* separate tombstones (loaded snapshots) */
	void (*release)(void *ctx);
	void *release_ctx;
};

/* The append-only overlay. Slots [0, n) are published; n only grows. */
struct hg_delta {
	size_t cap;
	_Atomic size_t n;
	hg_pdq *hashes;
	uint64_t *ids;
	uint8_t *tomb;
	size_t removed;
};

struct hg_version {
	struct hg_base *base;
	struct hg_delta *delta;
};

struct hg_index {
	_Atomic(struct hg_version *) cur;
	atomic_uint phase;
	atomic_size_t readers[2];
	pthread_mutex_t wlock;   /* writers */
	pthread_mutex_t compact; /* one compaction at a time */
	hg_index_options opt;
	/* id -> slot (base position, or base n + delta position); writers only */
	uint32_t *map;
	size_t map_mask, map_count;
	/* automatic compaction (hg_index_auto_compact): at most one thread,
	 * started by a writer under wlock, joined by the next start or free */
	int auto_on, auto_running, auto_started;
	pthread_t auto_thread;
	hg_status auto_status;
	size_t compactions;
	/* while a compaction runs: old slots removed since it began */
	int compacting;
	uint32_t *pending;
	size_t npending, pending_cap;
};

void hg__base_layout(size_t n, unsigned m, unsigned bits, uint32_t wide,
		     struct hg_base_layout *L);

/* Key k's entries in table t: slots[t][*lo .. *hi). */
static inline void hg__bucket(const struct hg_base *b, unsigned t, uint32_t k, uint32_t *lo,
			      uint32_t *hi)
{
	if (b->wide & (1u << t)) {
		*lo = b->off32[t][k];
		*hi = b->off32[t][k + 1];
	} else {
		const uint32_t *blk = b->blk[t];
		*lo = blk[k >> HG_BLK_SHIFT] + b->rel[t][k];
		*hi = blk[(k + 1) >> HG_BLK_SHIFT] + b->rel[t][k + 1];
	}
}

/* Frees a base (or releases its snapshot buffer). NULL is a no-op. */
void hg__base_free(struct hg_base *b);

/* An index around an existing base (takes ownership of it, freeing it on
 * failure) and a delta of `delta_n` entries copied from the arrays given.
 * check_ids: build the id map now and fail with HG_ERR_EXISTS on a repeated
 * id; otherwise the map is built by the first add or remove. */
hg_status hg__index_assemble(const hg_index_options *opt, struct hg_base *base,
			     const hg_pdq *dhashes, const uint64_t *dids, const uint8_t *dtomb,
			     size_t delta_n, int check_ids, hg_index **out);

/* A 64-bit finaliser (splitmix64's): a bijection that mixes every bit. */
static inline uint64_t hg__mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* 0 turns off the query's software prefetches / huge-page advice for new
 * bases (bench_index only). */
extern atomic_int hg__index_prefetch;
extern atomic_int hg__index_hugepages;
/* 1: pipelined prefetches go to L2 (prefetcht1), 0: to L1 (prefetcht0). */
extern atomic_int hg__index_prefetch_l2;
/* 1: the lookup prefetches bucket offsets and uses branch-free loops;
 * 0: the code as it was before (bench_index --sweep compares them). */
extern atomic_int hg__index_lean;

/* Snapshots are little-endian images used (or read) in place. */
static inline int hg__host_le(void)
{
	const uint16_t one = 1;
	uint8_t b;
	memcpy(&b, &one, 1);
	return b == 1;
}

/* Writes the formatted reason into err (errlen bytes; err may be NULL) and
 * returns st: the snapshot loaders' error path. */
hg_status hg__snap_fail(hg_status st, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* 64-bit checksum used by snapshots: four multiply-xor lanes, so any change
 * to a single 8-byte word always changes the result. */
uint64_t hg__checksum64(const void *data, size_t len, uint64_t seed);

#endif
