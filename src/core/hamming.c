/*
 * hamming.c — brute-force Hamming scan kernels (see hamming.h).
 *
 * All kernels broadcast one list hash against a register holding the same
 * 64-bit word of every query variant, so the 4 per-word popcounts of all 8
 * variants add up lane-wise with no horizontal reduction and the list stays
 * in its natural array-of-hashes layout (which the index's random
 * verification also wants). The AVX-512 kernel needs VPOPCNTDQ; AVX2 counts
 * bits with the nibble-table shuffle; the scalar kernels use POPCNT when the
 * CPU has it. The choice is made once per call from __builtin_cpu_supports.
 */
#include "core/hamming.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HG_X86 1
#include <immintrin.h>
#else
#define HG_X86 0
#endif

void hg__hits_push_slow(struct hg_hits *h, uint32_t pos, int variant, int dist)
{
	if (h->oom)
		return;
	size_t cap = h->cap ? h->cap * 2 : 256;
	struct hg_hit *v = realloc(h->v, cap * sizeof *v);
	if (!v) {
		h->oom = 1;
		return;
	}
	h->v = v;
	h->cap = cap;
	hg__hits_push(h, pos, variant, dist);
}

static inline __attribute__((always_inline)) void
scan_scalar_body(const hg_pdq *h, size_t n, const hg_pdq *q, int nq, int radius, uint32_t base,
		 struct hg_hits *hits)
{
	for (size_t i = 0; i < n; i++) {
		const uint64_t *w = h[i].w;
		for (int v = 0; v < nq; v++) {
			int d = __builtin_popcountll(w[0] ^ q[v].w[0]) +
				__builtin_popcountll(w[1] ^ q[v].w[1]) +
				__builtin_popcountll(w[2] ^ q[v].w[2]) +
				__builtin_popcountll(w[3] ^ q[v].w[3]);
			if (d <= radius)
				hg__hits_push(hits, base + (uint32_t)i, v, d);
		}
	}
}

static void scan_generic(const hg_pdq *h, size_t n, const hg_pdq *q, int nq, int radius,
			 uint32_t base, struct hg_hits *hits)
{
	scan_scalar_body(h, n, q, nq, radius, base, hits);
}

#if HG_X86
__attribute__((target("popcnt"))) static void
scan_popcnt(const hg_pdq *h, size_t n, const hg_pdq *q, int nq, int radius, uint32_t base,
	    struct hg_hits *hits)
{
	scan_scalar_body(h, n, q, nq, radius, base, hits);
}

/* Lane v of word register w = q[v].w[w]; lanes past nq repeat q[0] and are
 * masked out of the result. */
static void variant_lanes(const hg_pdq *q, int nq, int w, uint64_t lanes[8])
{
	for (int v = 0; v < 8; v++)
		lanes[v] = q[v < nq ? v : 0].w[w];
}

__attribute__((target("avx2,popcnt"))) static void
scan_avx2(const hg_pdq *h, size_t n, const hg_pdq *q, int nq, int radius, uint32_t base,
	  struct hg_hits *hits)
{
	__m256i Q[2][4];
	for (int w = 0; w < 4; w++) {
		uint64_t lanes[8];
		variant_lanes(q, nq, w, lanes);
		Q[0][w] = _mm256_loadu_si256((const __m256i *)lanes);
		Q[1][w] = _mm256_loadu_si256((const __m256i *)(lanes + 4));
	}
	const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
					     0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i low = _mm256_set1_epi8(0x0f);
	const __m256i zero = _mm256_setzero_si256();
	const __m256i limit = _mm256_set1_epi64x(radius + 1);
	const int groups = nq > 4 ? 2 : 1;
	const unsigned live = (1u << nq) - 1;
	for (size_t i = 0; i < n; i++) {
		__m256i b[4];
		for (int w = 0; w < 4; w++)
			b[w] = _mm256_set1_epi64x((long long)h[i].w[w]);
		unsigned mask = 0;
		__m256i dist[2];
		for (int g = 0; g < groups; g++) {
			__m256i acc = zero;
			for (int w = 0; w < 4; w++) {
				__m256i x = _mm256_xor_si256(b[w], Q[g][w]);
				__m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, low));
				__m256i hi = _mm256_shuffle_epi8(
					lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low));
				acc = _mm256_add_epi8(acc, _mm256_add_epi8(lo, hi));
			}
			dist[g] = _mm256_sad_epu8(acc, zero);
			__m256i lt = _mm256_cmpgt_epi64(limit, dist[g]);
			mask |= (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(lt)) << (4 * g);
		}
		mask &= live;
		while (mask) {
			int v = __builtin_ctz(mask);
			mask &= mask - 1;
			uint64_t d[4];
			_mm256_storeu_si256((__m256i *)d, dist[v >> 2]);
			hg__hits_push(hits, base + (uint32_t)i, v, (int)d[v & 3]);
		}
	}
}

#define HG_AVX512 __attribute__((target("avx512f,avx512vpopcntdq")))

HG_AVX512 static inline __m512i dist8(const hg_pdq *p, const __m512i Q[4])
{
	__m512i a = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_set1_epi64((long long)p->w[0]), Q[0]));
	__m512i b = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_set1_epi64((long long)p->w[1]), Q[1]));
	__m512i c = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_set1_epi64((long long)p->w[2]), Q[2]));
	__m512i d = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_set1_epi64((long long)p->w[3]), Q[3]));
	return _mm512_add_epi64(_mm512_add_epi64(a, b), _mm512_add_epi64(c, d));
}

HG_AVX512 static void emit512(__m512i d, __mmask8 m, uint32_t pos, struct hg_hits *hits)
{
	uint64_t lanes[8];
	_mm512_storeu_si512(lanes, d);
	unsigned mask = m;
	while (mask) {
		int v = __builtin_ctz(mask);
		mask &= mask - 1;
		hg__hits_push(hits, pos, v, (int)lanes[v]);
	}
}

HG_AVX512 static void scan_avx512(const hg_pdq *h, size_t n, const hg_pdq *q, int nq, int radius,
				  uint32_t base, struct hg_hits *hits)
{
	__m512i Q[4];
	for (int w = 0; w < 4; w++) {
		uint64_t lanes[8];
		variant_lanes(q, nq, w, lanes);
		Q[w] = _mm512_loadu_si512(lanes);
	}
	const __m512i R = _mm512_set1_epi64(radius);
	const __mmask8 live = (__mmask8)((1u << nq) - 1);
	size_t i = 0;
	/* Four hashes per round: one branch for all of them keeps the loop
	 * free of mispredictions when nothing matches (the common case). */
	for (; i + 4 <= n; i += 4) {
		__m512i d0 = dist8(&h[i], Q), d1 = dist8(&h[i + 1], Q);
		__m512i d2 = dist8(&h[i + 2], Q), d3 = dist8(&h[i + 3], Q);
		__mmask8 m0 = _mm512_mask_cmple_epu64_mask(live, d0, R);
		__mmask8 m1 = _mm512_mask_cmple_epu64_mask(live, d1, R);
		__mmask8 m2 = _mm512_mask_cmple_epu64_mask(live, d2, R);
		__mmask8 m3 = _mm512_mask_cmple_epu64_mask(live, d3, R);
		if (__builtin_expect((m0 | m1 | m2 | m3) != 0, 0)) {
			emit512(d0, m0, base + (uint32_t)i, hits);
			emit512(d1, m1, base + (uint32_t)i + 1, hits);
			emit512(d2, m2, base + (uint32_t)i + 2, hits);
			emit512(d3, m3, base + (uint32_t)i + 3, hits);
		}
	}
	for (; i < n; i++) {
		__m512i d = dist8(&h[i], Q);
		__mmask8 m = _mm512_mask_cmple_epu64_mask(live, d, R);
		if (m)
			emit512(d, m, base + (uint32_t)i, hits);
	}
}
#endif

static inline __attribute__((always_inline)) void
verify_body(const hg_pdq *hashes, const uint8_t *tomb, const struct hg_cand *c, size_t n,
	    const hg_pdq *q, int radius, unsigned ahead, int l2, struct hg_hits *hits)
{
	for (size_t i = 0; i < ahead && i < n; i++)
		__builtin_prefetch(&hashes[c[i].slot], 0, 2);
	for (size_t i = 0; i < n; i++) {
		if (ahead && i + ahead < n) {
			if (l2)
				__builtin_prefetch(&hashes[c[i + ahead].slot], 0, 2);
			else
				__builtin_prefetch(&hashes[c[i + ahead].slot], 0, 3);
		}
		const uint64_t *w = hashes[c[i].slot].w, *x = q[c[i].variant].w;
		int d = __builtin_popcountll(w[0] ^ x[0]) + __builtin_popcountll(w[1] ^ x[1]) +
			__builtin_popcountll(w[2] ^ x[2]) + __builtin_popcountll(w[3] ^ x[3]);
		if (d <= radius && !__atomic_load_n(&tomb[c[i].slot], __ATOMIC_ACQUIRE))
			hg__hits_push(hits, c[i].slot, (int)c[i].variant, d);
	}
}

#if HG_X86
__attribute__((target("popcnt"))) static void
verify_popcnt(const hg_pdq *hashes, const uint8_t *tomb, const struct hg_cand *c, size_t n,
	      const hg_pdq *q, int radius, unsigned ahead, int l2, struct hg_hits *hits)
{
	verify_body(hashes, tomb, c, n, q, radius, ahead, l2, hits);
}
#endif

void hg__verify(const hg_pdq *hashes, const uint8_t *tomb, const struct hg_cand *c, size_t n,
		const hg_pdq *q, int radius, unsigned ahead, int l2, struct hg_hits *hits)
{
#if HG_X86
	if (hg__scan_best() != HG_SCAN_GENERIC) {
		verify_popcnt(hashes, tomb, c, n, q, radius, ahead, l2, hits);
		return;
	}
#endif
	verify_body(hashes, tomb, c, n, q, radius, ahead, l2, hits);
}

int hg__scan_supported(enum hg_scan_kernel kernel)
{
	switch (kernel) {
	case HG_SCAN_AUTO:
	case HG_SCAN_GENERIC:
		return 1;
#if HG_X86
	case HG_SCAN_POPCNT:
		return __builtin_cpu_supports("popcnt");
	case HG_SCAN_AVX2:
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
	case HG_SCAN_AVX512:
		return __builtin_cpu_supports("avx512f") &&
		       __builtin_cpu_supports("avx512vpopcntdq");
#endif
	default:
		return 0;
	}
}

enum hg_scan_kernel hg__scan_best(void)
{
	static atomic_int best; /* 0 = not probed yet; the probe is idempotent */
	int k = atomic_load_explicit(&best, memory_order_relaxed);
	if (k)
		return (enum hg_scan_kernel)k;
	k = HG_SCAN_GENERIC;
	/* Fastest first, as bench_index measures them (AMD EPYC Zen 4, 1M
	 * hashes x 8 variants): AVX-512 4.2, AVX2 0.95, POPCNT 0.76, generic
	 * 0.12 G comparisons/s. */
	static const enum hg_scan_kernel order[] = {HG_SCAN_AVX512, HG_SCAN_AVX2, HG_SCAN_POPCNT};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (hg__scan_supported(order[i])) {
			k = order[i];
			break;
		}
	}
	atomic_store_explicit(&best, k, memory_order_relaxed);
	return (enum hg_scan_kernel)k;
}

const char *hg__scan_name(enum hg_scan_kernel kernel)
{
	static const char *const names[HG_SCAN_KERNELS_] = {"auto", "generic", "popcnt", "avx2",
							    "avx512"};
	return (unsigned)kernel < HG_SCAN_KERNELS_ ? names[kernel] : "?";
}

void hg__scan(enum hg_scan_kernel kernel, const hg_pdq *hashes, size_t n, const hg_pdq *q,
	      int nq, int radius, uint32_t base_pos, struct hg_hits *hits)
{
	if (n == 0 || nq <= 0)
		return;
	if (nq > 8)
		nq = 8;
	if (kernel == HG_SCAN_AUTO || !hg__scan_supported(kernel))
		kernel = hg__scan_best();
	switch (kernel) {
#if HG_X86
	case HG_SCAN_AVX512:
		scan_avx512(hashes, n, q, nq, radius, base_pos, hits);
		return;
	case HG_SCAN_AVX2:
		scan_avx2(hashes, n, q, nq, radius, base_pos, hits);
		return;
	case HG_SCAN_POPCNT:
		scan_popcnt(hashes, n, q, nq, radius, base_pos, hits);
		return;
#endif
	default:
		scan_generic(hashes, n, q, nq, radius, base_pos, hits);
		return;
	}
}
