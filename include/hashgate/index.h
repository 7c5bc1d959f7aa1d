/*
 * index.h — exact radius search over millions of PDQ hashes (hg_index), and
 * exact lookup of MD5 / SHA-1 / SHA-256 digests (hg_digest_index).
 *
 * hg_index answers "every entry within distance R of this hash or of any of
 * its 8 dihedral variants", exactly, for R = 0..256. It is a multi-index
 * (Norouzi et al., "Fast search in Hamming space with multi-index hashing")
 * in flat arrays, plus a vectorised brute-force scan it switches to where
 * that is faster or where the tables cannot guarantee exactness:
 *
 *   base (immutable, built by hg_index_build / hg_index_compact / loaded):
 *     hashes[0..n)   32 B each       ids[0..n)   64-bit entry ids
 *     table t = bits [t*b, t*b + b) of the hash, t < m (bits past m*b unused):
 *       off_t(k) = blk_t[k >> 10] + rel_t[k]   (u32 per 1024 keys + u16 per key;
 *                                               plain u32 if a table is skewed)
 *       slots_t[0..n)  positions sorted by key
 *         key k's entries: slots_t[off_t(k) .. off_t(k+1))
 *     tomb[0..n)     1 byte per entry: removed
 *   delta (append-only overlay for adds, scanned brute force):
 *     hashes[0..cap) ids[0..cap) tomb[0..cap)   count published atomically
 *
 * Exactness: if two hashes are within R, then splitting R = s*m + a, at
 * least one of tables 0..a differs by <= s bits or one of the others by
 * <= s-1 (pigeonhole). A query probes every key within that many bits in
 * each table, checks each candidate's full distance, scans the delta, and
 * drops removed entries. When s exceeds HG_INDEX_MAX_PROBE_BITS, or the cost
 * model says the scan is cheaper (small lists, large radius), or the
 * buckets hit hold more candidates than a scan would touch (a flood of
 * near-duplicates or a skewed list), it scans the whole base instead. So a
 * query never costs much more than one brute-force scan of the list plus
 * the probes it had already made, and results are always complete.
 *
 * CONCURRENCY CONTRACT
 *   - hg_index_query() may run on any number of threads at once, each with
 *     its own hg_index_results, concurrently with one another and with
 *     add / remove / compact / snapshot. Queries never take a lock and never
 *     wait for a writer: they pin the current version with two atomic
 *     counter updates (an RCU-style grace period) and read immutable arrays.
 *   - Writers (add, remove, compact, snapshot) serialise on an internal
 *     mutex; they may be called from any thread. A writer that replaces a
 *     version (delta growth, compaction) waits for the queries still reading
 *     the old one before freeing it — writers wait for readers, never the
 *     reverse.
 *   - A query sees every add and remove that returned before the query
 *     started; one racing with the query may or may not be seen.
 *   - hg_index_compact() builds the new tables without holding the writer
 *     mutex (only a short copy at each end), so adds and removes keep
 *     working (microseconds each) while a rebuild runs on another thread.
 *   - hg_index_free() must not race with anything.
 *
 * Memory: 110.5 bytes per entry at 10M entries with the default tables
 * (11 x 23 bits), everything included (docs/match.md has the breakdown).
 * The big arrays are advised to use transparent huge pages.
 */
#ifndef HASHGATE_INDEX_H
#define HASHGATE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "hashgate/pdq.h"
#include "hashgate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most entries one index holds (positions are 32-bit). */
#define HG_INDEX_MAX_ENTRIES 0x7fffffffu
/* Most tables (substrings) and the substring length bounds. */
#define HG_INDEX_MAX_TABLES 32
#define HG_INDEX_MIN_BITS 8
#define HG_INDEX_MAX_BITS 28
/* Tables are probed up to this many flipped bits per substring; beyond it
 * the query scans (exactly) instead. */
#define HG_INDEX_MAX_PROBE_BITS 3
/* Largest radius a query accepts (all 256 bits). */
#define HG_INDEX_MAX_RADIUS 256

typedef struct hg_index hg_index;

/* Build-time choices; zero fields mean "choose for me". */
typedef struct hg_index_options {
	/* Substring length in bits (HG_INDEX_MIN_BITS..HG_INDEX_MAX_BITS).
	 * 0 = ceil(log2(entries)) + 1, between 16 and 23 (measured best). */
	unsigned bits;
	/* Number of tables (1..HG_INDEX_MAX_TABLES, tables*bits <= 256).
	 * 0 = 256 / bits. */
	unsigned tables;
	/* Delta overlay slots reserved at each compaction; the delta grows (by
	 * copying, amortised O(1) per add) past it. 0 = 65536. */
	size_t delta_capacity;
} hg_index_options;

/* Flags for hg_index_query(). */
enum {
	/* Scan the whole list instead of probing tables (benchmarks, tests). */
	HG_INDEX_QUERY_SCAN = 1u << 0,
	/* Use the tables whenever they are exact for the radius, ignoring the
	 * cost model and the candidate cap (benchmarks, tests). */
	HG_INDEX_QUERY_TABLES = 1u << 1,
};

/* One match: the entry's id, its best distance over the query hashes, and
 * which query hash (0..nhashes-1; a dihedral index when the query is the 8
 * variants in hg_pdq_result order) gave it; ties go to the lower index. */
typedef struct hg_index_match {
	uint64_t id;
	int distance;
	int variant;
} hg_index_match;

/* Per-thread query state: the matches of the last query plus scratch that
 * is reused, so a thread querying in a loop allocates nothing once warm. */
typedef struct hg_index_results hg_index_results;

HG_API hg_status hg_index_results_new(hg_index_results **out);
/* NULL is a no-op. */
HG_API void hg_index_results_free(hg_index_results *res);
/* Matches of the last successful query, sorted by distance then id; valid
 * until the next query with `res`. Count is 0 after a failed query. */
HG_API size_t hg_index_results_count(const hg_index_results *res);
HG_API const hg_index_match *hg_index_results_matches(const hg_index_results *res);
/* How the last query ran: 1 if it scanned the list, 0 if it used tables;
 * `candidates` = table entries it verified. Either pointer may be NULL. */
HG_API void hg_index_results_plan(const hg_index_results *res, int *scanned,
				  size_t *candidates);

/* An empty index. `opt` may be NULL. */
HG_API hg_status hg_index_new(const hg_index_options *opt, hg_index **out);

/*
 * An index holding `n` entries, tables built in one pass (the fast way to
 * load a list; build times are in docs/match.md). `hashes` and `ids` are
 * copied. Ids must be unique:
 * HG_ERR_EXISTS names a duplicate. n may be 0. HG_ERR_TOO_LARGE past
 * HG_INDEX_MAX_ENTRIES.
 */
HG_API hg_status hg_index_build(const hg_index_options *opt, const hg_pdq *hashes,
				const uint64_t *ids, size_t n, hg_index **out);

/* Frees the index. NULL is a no-op. No other call may be running on it. */
HG_API void hg_index_free(hg_index *idx);

/* Adds one entry (to the delta overlay). HG_ERR_EXISTS if `id` is already
 * present, HG_ERR_TOO_LARGE past HG_INDEX_MAX_ENTRIES, HG_ERR_NOMEM. The
 * first add or remove after hg_index_load_snapshot() also builds the id ->
 * entry map (~0.3 s at 10M entries); later ones take microseconds. */
HG_API hg_status hg_index_add(hg_index *idx, const hg_pdq *hash, uint64_t id);

/* Removes an entry by id (a tombstone; its space is reclaimed by the next
 * compaction). HG_ERR_NOT_FOUND if absent. The id may be re-added after. */
HG_API hg_status hg_index_remove(hg_index *idx, uint64_t id);

/*
 * Rebuilds the tables from every live entry, emptying the delta and
 * dropping removed entries; concurrent queries, adds and removes carry on.
 * Costs about as much as hg_index_build; call it from a maintenance thread
 * when hg_index_stats() shows a large delta (queries scan the delta) or
 * many removed entries, or let hg_index_auto_compact() do that. Only one
 * compaction runs at a time (others wait).
 */
HG_API hg_status hg_index_compact(hg_index *idx);

/*
 * Turns automatic compaction on (on != 0) or off (the default). When on, an
 * add or remove that leaves the delta over 65,536 entries or over a quarter
 * of the tables' entries, or the removed entries over a quarter of them
 * (and at least 1,024 changes pending in all), starts hg_index_compact() on
 * a background thread — one at a time; queries, adds and removes carry on
 * meanwhile. hg_index_free() waits for one still running. The result of
 * the last automatic compaction is hg_index_stats.auto_status (a failed one
 * is retried by a later add or remove). HG_ERR_INVALID_ARG for NULL.
 */
HG_API hg_status hg_index_auto_compact(hg_index *idx, int on);

/*
 * Finds every live entry within `radius` (0..HG_INDEX_MAX_RADIUS) of any of
 * `hashes[0..nhashes)` (nhashes 1..8), keeping each entry's best. Pass the
 * 8 variants of an hg_pdq_result computed with HG_PDQ_DIHEDRAL to match
 * rotated and mirrored copies. `flags` is 0 or HG_INDEX_QUERY_*.
 * Results go into `res` (previous ones are replaced). Errors:
 * HG_ERR_INVALID_ARG (NULLs, nhashes or radius out of range, unknown flag),
 * HG_ERR_NOMEM (scratch could not grow; `res` is then empty).
 */
HG_API hg_status hg_index_query(hg_index *idx, const hg_pdq *hashes, int nhashes, int radius,
				unsigned flags, hg_index_results *res);

typedef struct hg_index_stats {
	size_t entries;       /* live entries */
	size_t base_entries;  /* entries in the tables (including removed ones) */
	size_t delta_entries; /* entries in the overlay (including removed ones) */
	size_t removed;       /* tombstones awaiting compaction */
	size_t bytes;         /* memory held by the index, all arrays included */
	unsigned tables, bits;
	size_t compactions;    /* compactions completed (manual or automatic) */
	hg_status auto_status; /* last automatic compaction: HG_OK if none failed */
} hg_index_stats;

HG_API hg_status hg_index_stats_get(hg_index *idx, hg_index_stats *out);

/* ---- snapshots ----------------------------------------------------------
 * A snapshot is the whole index (tables included, so loading does not
 * rebuild) in one little-endian byte image:
 *   header (128 B): magic "HGIDX\r\n\x1a", format version, entry counts,
 *                   table layout, body size, checksum of the body, checksum
 *                   of the header itself
 *   body, sections 64-byte aligned: hashes, ids, tombstones, per table
 *   its offsets and slots, then the delta's hashes, ids, tombstones.
 * See docs/match.md for the exact layout. Big-endian hosts get
 * HG_ERR_UNSUPPORTED (the arrays are used in place).
 */
#define HG_INDEX_SNAPSHOT_VERSION 1

/* Called (under the writer mutex) with the snapshot's exact size; returns
 * a buffer of that size, 8-byte aligned, or NULL to fail with HG_ERR_NOMEM
 * (or the adapter's own error via *status, when it sets one). */
typedef void *(*hg_index_snapshot_alloc)(void *ctx, size_t size, hg_status *status);

/* Serialises the current index into a buffer from `alloc`; *size_out gets
 * its size. Adds and removes wait meanwhile; queries do not. */
HG_API hg_status hg_index_snapshot(hg_index *idx, hg_index_snapshot_alloc alloc, void *ctx,
				   size_t *size_out);

/*
 * An index over a snapshot image, used in place (no copy of the big arrays;
 * `buf` must be 64-byte aligned — mmap gives that — and must stay valid
 * until `release(release_ctx)` is called, which happens when the index no
 * longer needs it: at hg_index_free() or after a compaction). `release` may
 * be NULL. The checksums and every offset are verified first: a damaged or
 * truncated image gives HG_ERR_CORRUPT or HG_ERR_TRUNCATED, another format
 * version HG_ERR_UNSUPPORTED, with a reason in `err` (errlen bytes; may be
 * NULL). On failure `release` is not called.
 */
HG_API hg_status hg_index_load_snapshot(const void *buf, size_t len,
					void (*release)(void *ctx), void *release_ctx,
					hg_index **out, char *err, size_t errlen);

/* File adapters (src/media/index_file.c): write atomically (temp + rename),
 * load with mmap. Errors as above plus HG_ERR_IO with errno in `err`. */
HG_API hg_status hg_index_save_file(hg_index *idx, const char *path, char *err, size_t errlen);
HG_API hg_status hg_index_load_file(const char *path, hg_index **out, char *err, size_t errlen);

/* ---- exact digests ---------------------------------------------------- */

typedef enum hg_digest_kind {
	HG_DIGEST_MD5 = 0,    /* 16 bytes */
	HG_DIGEST_SHA1 = 1,   /* 20 bytes */
	HG_DIGEST_SHA256 = 2, /* 32 bytes */
	HG_DIGEST_KINDS_
} hg_digest_kind;

/* Size in bytes of a digest kind; 0 for an unknown kind. */
HG_API size_t hg_digest_size(hg_digest_kind kind);

/*
 * An open-addressing table from (kind, digest) to entry ids. Several ids may
 * share a digest (lists repeat). Concurrency: lookups may run in parallel
 * with each other; add/remove need exclusive access (the caller's lock) —
 * digest sets change rarely and are small next to the PDQ index.
 */
typedef struct hg_digest_index hg_digest_index;

HG_API hg_status hg_digest_index_new(hg_digest_index **out);
HG_API void hg_digest_index_free(hg_digest_index *di);
/* Copies the digest. HG_ERR_EXISTS if this exact (kind, digest, id) is
 * present; HG_ERR_INVALID_ARG for an unknown kind. */
HG_API hg_status hg_digest_index_add(hg_digest_index *di, hg_digest_kind kind,
				     const uint8_t *digest, uint64_t id);
/* Removes every digest carrying `id`. HG_ERR_NOT_FOUND if none did. */
HG_API hg_status hg_digest_index_remove(hg_digest_index *di, uint64_t id);
/* Writes up to `cap` ids whose digest equals `digest` into ids[], and the
 * total number of such ids into *count (may exceed cap). */
HG_API hg_status hg_digest_index_lookup(const hg_digest_index *di, hg_digest_kind kind,
					const uint8_t *digest, uint64_t *ids, size_t cap,
					size_t *count);
HG_API size_t hg_digest_index_count(const hg_digest_index *di);

/*
 * Snapshots of a digest table, so a replica loads it with the PDQ index:
 * a 48-byte little-endian header (magic "HGDIG\r\n\x1a", u32 version 1,
 * u32 header size 48, u64 count, u64 body checksum, u64 header checksum)
 * then 48 bytes per digest (u8 kind, 7 zero bytes, u64 id, the digest
 * zero-padded to 32 bytes). `alloc` as for hg_index_snapshot(). Loading
 * copies the entries and rebuilds the hash table (~0.2 s per million); the
 * loader checks both checksums, every kind, every padding byte and that no
 * (kind, digest, id) repeats: HG_ERR_CORRUPT / HG_ERR_TRUNCATED /
 * HG_ERR_UNSUPPORTED (another version, or a big-endian host) with a reason
 * in `err` (errlen bytes; may be NULL). Lookups may run meanwhile with the
 * snapshot (it only reads).
 */
HG_API hg_status hg_digest_index_snapshot(const hg_digest_index *di,
					  hg_index_snapshot_alloc alloc, void *ctx,
					  size_t *size_out);
HG_API hg_status hg_digest_index_load_snapshot(const void *buf, size_t len,
					       hg_digest_index **out, char *err,
					       size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
