/*
 * hamming.h — brute-force Hamming scans of a flat hg_pdq array against up to
 * 8 query hashes at once (the dihedral variants of one upload).
 *
 * The index (index.c) uses these for its delta overlay, for radii its tables
 * cannot answer exactly and when a query's candidate count explodes; the
 * benchmark uses them as the baseline. Kernels: portable C, POPCNT, AVX2
 * (nibble lookup), AVX-512 VPOPCNTDQ (one 64-bit lane per variant), picked at
 * run time from what the CPU reports. Every kernel returns exactly the same
 * hits in the same order; tests/test_index.c checks that against the scalar
 * reference. Not part of the public API.
 */
#ifndef HG_CORE_HAMMING_H
#define HG_CORE_HAMMING_H

#include <stddef.h>
#include <stdint.h>

#include "hashgate/pdq.h"

/* One hit: array position, which query (variant) and its distance. */
struct hg_hit {
	uint32_t pos;
	uint16_t dist;
	uint8_t variant;
	uint8_t pad_;
};

/* A growable hit buffer. `oom` is set (and hits dropped) if it cannot grow;
 * callers turn that into HG_ERR_NOMEM. Reused across queries, so steady
 * state allocates nothing. */
struct hg_hits {
	struct hg_hit *v;
	size_t n, cap;
	int oom;
};

void hg__hits_push_slow(struct hg_hits *h, uint32_t pos, int variant, int dist);

static inline void hg__hits_push(struct hg_hits *h, uint32_t pos, int variant, int dist)
{
	if (h->n < h->cap) {
		struct hg_hit *x = &h->v[h->n++];
		x->pos = pos;
		x->dist = (uint16_t)dist;
		x->variant = (uint8_t)variant;
		x->pad_ = 0;
		return;
	}
	hg__hits_push_slow(h, pos, variant, dist);
}

enum hg_scan_kernel {
	HG_SCAN_AUTO = 0,    /* the best kernel this CPU runs */
	HG_SCAN_GENERIC = 1, /* portable C, any CPU */
	HG_SCAN_POPCNT = 2,  /* scalar POPCNT instruction */
	HG_SCAN_AVX2 = 3,    /* AVX2 nibble-table popcount */
	HG_SCAN_AVX512 = 4,  /* AVX-512F + VPOPCNTDQ */
	HG_SCAN_KERNELS_
};

/* 1 if this CPU can run `kernel`. */
int hg__scan_supported(enum hg_scan_kernel kernel);

/* The kernel HG_SCAN_AUTO resolves to. */
enum hg_scan_kernel hg__scan_best(void);

/* Short name ("avx512", ...) for benchmarks and logs. */
const char *hg__scan_name(enum hg_scan_kernel kernel);

/*
 * Appends to `hits` every (i, v) with distance(hashes[i], q[v]) <= radius,
 * i in [0, n), v in [0, nq), ordered by i then v; pos = base_pos + i.
 * nq is 1..8; radius 0..256. An unsupported kernel falls back to AUTO.
 */
void hg__scan(enum hg_scan_kernel kernel, const hg_pdq *hashes, size_t n, const hg_pdq *q,
	      int nq, int radius, uint32_t base_pos, struct hg_hits *hits);

/* A table candidate: list position and which query hash found it. */
struct hg_cand {
	uint32_t slot;
	uint32_t variant;
};

/*
 * Checks each candidate's full distance to q[variant]; appends those within
 * `radius` whose tomb[slot] is 0 (tomb read atomically), prefetching the
 * hash `ahead` candidates in advance (0 = none) into L2 (`l2`) or L1. Uses
 * POPCNT when the CPU has it.
 */
void hg__verify(const hg_pdq *hashes, const uint8_t *tomb, const struct hg_cand *c, size_t n,
		const hg_pdq *q, int radius, unsigned ahead, int l2, struct hg_hits *hits);

#endif
