/*
 * test_index.c — hg_index returns exactly what a brute-force scan returns:
 * random and adversarial lists (near-duplicate families, repeated hashes,
 * all-zero / all-one hashes, entries at exactly distance 31 and 32), every
 * radius from 0 to 256 that matters, several table layouts, tables forced
 * and scan forced; add / remove / re-add / compaction against a model;
 * every scan kernel against scalar code; snapshots round-trip and refuse
 * damaged bytes; the digest table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hamming.h"
#include "core/index_internal.h"
#include "harness.h"
#include "hashgate/hashgate.h"

static uint64_t rng = 0x243f6a8885a308d3u;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static hg_pdq rand_hash(void)
{
	hg_pdq h = {{rnd(), rnd(), rnd(), rnd()}};
	return h;
}

/* Flips exactly k distinct random bits. */
static hg_pdq flip(hg_pdq h, int k)
{
	uint8_t done[256] = {0};
	while (k > 0) {
		int b = (int)(rnd() % 256);
		if (done[b])
			continue;
		done[b] = 1;
		h.w[b >> 6] ^= UINT64_C(1) << (b & 63);
		k--;
	}
	return h;
}

/* The model: what is in the list, live or not. */
struct model {
	hg_pdq *h;
	uint64_t *id;
	uint8_t *live;
	size_t n, cap;
};

static void model_add(struct model *m, hg_pdq h, uint64_t id)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->h = realloc(m->h, m->cap * sizeof *m->h);
		m->id = realloc(m->id, m->cap * sizeof *m->id);
		m->live = realloc(m->live, m->cap);
		if (!m->h || !m->id || !m->live)
			abort();
	}
	m->h[m->n] = h;
	m->id[m->n] = id;
	m->live[m->n] = 1;
	m->n++;
}

/* A near-duplicate family (n copies of `centre` with 0..spread-1 bits
 * flipped, ids 0..n-1) among `nrandom` unrelated hashes (ids from 100000). */
static void model_family(struct model *m, hg_pdq centre, uint64_t n, int spread,
			 uint64_t nrandom)
{
	for (uint64_t i = 0; i < n; i++)
		model_add(m, flip(centre, (int)(i % (uint64_t)spread)), i);
	for (uint64_t i = 0; i < nrandom; i++)
		model_add(m, rand_hash(), 100000 + i);
}

static void model_free(struct model *m)
{
	free(m->h);
	free(m->id);
	free(m->live);
}

static int cmp_match(const void *a, const void *b)
{
	const hg_index_match *x = a, *y = b;
	if (x->distance != y->distance)
		return x->distance < y->distance ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static size_t brute(const struct model *m, const hg_pdq *q, int nq, int radius,
		    hg_index_match *out)
{
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (!m->live[i])
			continue;
		int best = 1000, bv = -1;
		for (int v = 0; v < nq; v++) {
			int d = hg_pdq_distance(&m->h[i], &q[v]);
			if (d < best) {
				best = d;
				bv = v;
			}
		}
		if (best <= radius)
			out[k++] = (hg_index_match){m->id[i], best, bv};
	}
	qsort(out, k, sizeof *out, cmp_match);
	return k;
}

static hg_index_match *expect_buf;
static int mismatches;

/* Checks one query (all three planners) against the model. */
static void check_query(hg_index *idx, hg_index_results *res, const struct model *m,
			const hg_pdq *q, int nq, int radius, const char *what)
{
	size_t ne = brute(m, q, nq, radius, expect_buf);
	static const unsigned flagsets[] = {0, HG_INDEX_QUERY_TABLES, HG_INDEX_QUERY_SCAN};
	for (size_t f = 0; f < 3; f++) {
		hg_status st = hg_index_query(idx, q, nq, radius, flagsets[f], res);
		CHECK_INT(st, HG_OK);
		size_t n = hg_index_results_count(res);
		const hg_index_match *got = hg_index_results_matches(res);
		int ok = n == ne;
		for (size_t i = 0; ok && i < n; i++)
			ok = got[i].id == expect_buf[i].id &&
			     got[i].distance == expect_buf[i].distance &&
			     got[i].variant == expect_buf[i].variant;
		CHECK(ok);
		if (!ok && mismatches++ < 5)
			fprintf(stderr, "  %s: radius %d flags %u nq %d: got %zu, expected %zu\n",
				what, radius, flagsets[f], nq, n, ne);
	}
}

static const int radii[] = {0, 1, 15, 16, 31, 32, 47, 63, 64, 100, 256};
#define NRADII (sizeof radii / sizeof radii[0])

/* Queries: random, near list entries, at exactly 31/32 of planted ones. */
static void make_query(const struct model *m, int kind, hg_pdq q[8])
{
	for (int v = 0; v < 8; v++)
		q[v] = rand_hash();
	if (m->n == 0)
		return;
	const hg_pdq *base = &m->h[rnd() % m->n];
	switch (kind) {
	case 1:
		q[rnd() % 8] = flip(*base, (int)(rnd() % 40));
		break;
	case 2:
		for (int v = 0; v < 8; v++)
			q[v] = flip(m->h[rnd() % m->n], (int)(rnd() % 70));
		break;
	case 3: {
		hg_pdq zero = {{0, 0, 0, 0}};
		q[0] = flip(zero, (int)(rnd() % 33));
		break;
	}
	default:
		break;
	}
}

/* A list with the hard cases in it. */
static void adversarial_list(struct model *m, size_t n_random, uint64_t *next_id)
{
	hg_pdq zero = {{0, 0, 0, 0}}, ones = {{~0ull, ~0ull, ~0ull, ~0ull}};
	for (int i = 0; i < 50; i++) {
		model_add(m, zero, (*next_id)++);
		model_add(m, ones, (*next_id)++);
	}
	/* exactly 31 and 32 bits from zero, and from a random anchor */
	hg_pdq anchor = rand_hash();
	for (int i = 0; i < 40; i++) {
		model_add(m, flip(zero, 31 + (i & 1)), (*next_id)++);
		model_add(m, flip(anchor, 31 + (i & 1)), (*next_id)++);
		model_add(m, flip(anchor, 15 + (i & 3)), (*next_id)++);
	}
	model_add(m, anchor, (*next_id)++);
	/* near-duplicate families, like real lists */
	for (int f = 0; f < 200; f++) {
		hg_pdq c = rand_hash();
		int size = 1 + (int)(rnd() % 40);
		for (int k = 0; k < size; k++)
			model_add(m, flip(c, (int)(rnd() % 24)), (*next_id)++);
	}
	/* one flood: 3000 copies within 8 bits of one hash */
	hg_pdq flood = rand_hash();
	for (int k = 0; k < 3000; k++)
		model_add(m, flip(flood, (int)(rnd() % 9)), (*next_id)++);
	for (size_t i = 0; i < n_random; i++)
		model_add(m, rand_hash(), (*next_id)++);
}

static void test_exact(const hg_index_options *opt, const char *name, size_t n_random)
{
	struct model m = {0};
	uint64_t next = 1000;
	adversarial_list(&m, n_random, &next);
	hg_index *idx = NULL;
	CHECK_INT(hg_index_build(opt, m.h, m.id, m.n, &idx), HG_OK);
	if (!idx)
		return;
	hg_index_results *res = NULL;
	CHECK_INT(hg_index_results_new(&res), HG_OK);
	for (size_t r = 0; r < NRADII; r++) {
		for (int k = 0; k < 8; k++) {
			hg_pdq q[8];
			make_query(&m, k % 4, q);
			check_query(idx, res, &m, q, 8, radii[r], name);
			check_query(idx, res, &m, q, 1 + (int)(rnd() % 8), radii[r], name);
		}
	}
	/* the 31/32 boundary from zero and the anchor, exactly */
	hg_pdq zero[8] = {{{0, 0, 0, 0}}};
	for (int rad = 30; rad <= 33; rad++)
		check_query(idx, res, &m, zero, 1, rad, name);
	hg_index_free(idx);
	hg_index_results_free(res);
	model_free(&m);
}

static void test_updates(void)
{
	struct model m = {0};
	uint64_t next = 1;
	adversarial_list(&m, 5000, &next);
	hg_index_options opt = {.delta_capacity = 512};
	hg_index *idx = NULL;
	/* half built, half added one by one (the delta grows past 512) */
	size_t half = m.n / 2;
	CHECK_INT(hg_index_build(&opt, m.h, m.id, half, &idx), HG_OK);
	if (!idx)
		return;
	for (size_t i = half; i < m.n; i++)
		CHECK_INT(hg_index_add(idx, &m.h[i], m.id[i]), HG_OK);
	CHECK_INT(hg_index_add(idx, &m.h[0], m.id[0]), HG_ERR_EXISTS);
	CHECK_INT(hg_index_remove(idx, 999999999), HG_ERR_NOT_FOUND);
	hg_index_results *res = NULL;
	hg_index_results_new(&res);
	for (int round = 0; round < 4; round++) {
		/* remove about a third (base and delta entries alike) */
		size_t n0 = m.n;
		for (size_t i = 0; i < n0; i++) {
			if (!m.live[i] || rnd() % 3)
				continue;
			CHECK_INT(hg_index_remove(idx, m.id[i]), HG_OK);
			CHECK_INT(hg_index_remove(idx, m.id[i]), HG_ERR_NOT_FOUND);
			m.live[i] = 0;
			/* re-add half of them under the same id, moved 5 bits */
			if (rnd() % 2) {
				hg_pdq h = flip(m.h[i], 5);
				CHECK_INT(hg_index_add(idx, &h, m.id[i]), HG_OK);
				model_add(&m, h, m.id[i]);
			}
		}
		for (size_t r = 0; r < NRADII; r += 2) {
			hg_pdq q[8];
			make_query(&m, 1 + (int)(rnd() % 3), q);
			check_query(idx, res, &m, q, 8, radii[r], "updates");
		}
		if (round % 2 == 0)
			CHECK_INT(hg_index_compact(idx), HG_OK);
		for (size_t r = 0; r < NRADII; r += 2) {
			hg_pdq q[8];
			make_query(&m, 1 + (int)(rnd() % 3), q);
			check_query(idx, res, &m, q, 8, radii[r], "updates-after-compact");
		}
	}
	size_t live = 0;
	for (size_t i = 0; i < m.n; i++)
		live += m.live[i];
	hg_index_stats s;
	CHECK_INT(hg_index_stats_get(idx, &s), HG_OK);
	CHECK_INT(s.entries, live);
	CHECK_INT(hg_index_compact(idx), HG_OK);
	CHECK_INT(hg_index_stats_get(idx, &s), HG_OK);
	CHECK_INT(s.entries, live);
	CHECK_INT(s.base_entries, live);
	CHECK_INT(s.removed, 0);
	hg_index_free(idx);
	hg_index_results_free(res);
	model_free(&m);
}

static void test_kernels(void)
{
	size_t n = 3001;
	hg_pdq *h = malloc(n * sizeof *h);
	for (size_t i = 0; i < n; i++)
		h[i] = i % 5 ? rand_hash() : flip(h[i - 1 + (i == 0)], (int)(rnd() % 40));
	h[0] = rand_hash();
	for (int rep = 0; rep < 40; rep++) {
		hg_pdq q[8];
		for (int v = 0; v < 8; v++)
			q[v] = rnd() % 2 ? flip(h[rnd() % n], (int)(rnd() % 60)) : rand_hash();
		int nq = 1 + rep % 8, radius = radii[rep % NRADII];
		struct hg_hits ref = {0};
		hg__scan(HG_SCAN_GENERIC, h, n, q, nq, radius, 7, &ref);
		size_t expect = 0;
		for (size_t i = 0; i < n; i++)
			for (int v = 0; v < nq; v++)
				expect += hg_pdq_distance(&h[i], &q[v]) <= radius;
		CHECK_INT(ref.n, expect);
		for (int k = HG_SCAN_GENERIC; k < HG_SCAN_KERNELS_; k++) {
			if (!hg__scan_supported((enum hg_scan_kernel)k))
				continue;
			struct hg_hits got = {0};
			hg__scan((enum hg_scan_kernel)k, h, n, q, nq, radius, 7, &got);
			CHECK_INT(got.n, ref.n);
			CHECK(got.n == ref.n && (ref.n == 0 ||
						 !memcmp(got.v, ref.v, ref.n * sizeof *ref.v)));
			free(got.v);
		}
		free(ref.v);
	}
	printf("scan kernel: %s\n", hg__scan_name(hg__scan_best()));
	free(h);
}

struct membuf {
	void *p;
	size_t len;
};

static void *alloc_aligned(void *ctx, size_t size, hg_status *st)
{
	(void)st;
	struct membuf *b = ctx;
	b->p = aligned_alloc(64, (size + 63) & ~(size_t)63);
	b->len = size;
	return b->p;
}

static int released;
static void count_release(void *ctx)
{
	(void)ctx;
	released++;
}

static void test_snapshot(void)
{
	struct model m = {0};
	uint64_t next = 7;
	adversarial_list(&m, 3000, &next);
	hg_index *idx = NULL;
	size_t half = m.n - 100;
	CHECK_INT(hg_index_build(NULL, m.h, m.id, half, &idx), HG_OK);
	if (!idx)
		return;
	for (size_t i = half; i < m.n; i++)
		CHECK_INT(hg_index_add(idx, &m.h[i], m.id[i]), HG_OK);
	for (size_t i = 0; i < m.n; i += 7) {
		CHECK_INT(hg_index_remove(idx, m.id[i]), HG_OK);
		m.live[i] = 0;
	}
	struct membuf buf = {0};
	size_t size = 0;
	CHECK_INT(hg_index_snapshot(idx, alloc_aligned, &buf, &size), HG_OK);
	CHECK(size > 64 && size == buf.len);

	hg_index *back = NULL;
	char err[256];
	released = 0;
	CHECK_INT(hg_index_load_snapshot(buf.p, size, count_release, NULL, &back, err, sizeof err),
		  HG_OK);
	hg_index_results *res = NULL;
	hg_index_results_new(&res);
	if (back) {
		for (size_t r = 0; r < NRADII; r++) {
			hg_pdq q[8];
			make_query(&m, 1 + (int)(r % 3), q);
			check_query(back, res, &m, q, 8, radii[r], "snapshot");
		}
		/* the loaded index stays writable, and compaction lets go of
		 * the buffer */
		CHECK_INT(hg_index_remove(back, m.id[1]), HG_OK);
		m.live[1] = 0;
		CHECK_INT(hg_index_compact(back), HG_OK);
		CHECK_INT(released, 1);
		hg_pdq q[8];
		make_query(&m, 1, q);
		check_query(back, res, &m, q, 8, 31, "snapshot-compacted");
		hg_index_free(back);
	}

	/* every single-byte change is refused, with a reason */
	uint8_t *bytes = buf.p;
	size_t probes[] = {0, 5, 9, 17, 33, 41, 49, 60, 64, 100, size / 3, size / 2, size - 1};
	for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++) {
		size_t at = probes[k];
		bytes[at] ^= 0x20;
		hg_index *bad = NULL;
		err[0] = 0;
		hg_status st = hg_index_load_snapshot(buf.p, size, NULL, NULL, &bad, err, sizeof err);
		CHECK(st == HG_ERR_CORRUPT || st == HG_ERR_UNSUPPORTED);
		CHECK(bad == NULL);
		CHECK(err[0] != 0);
		if (k == 0 || at == size / 2)
			printf("flip byte %zu: %s (%s)\n", at, hg_strerror(st), err);
		bytes[at] ^= 0x20;
	}
	hg_index *bad = NULL;
	CHECK_INT(hg_index_load_snapshot(buf.p, size - 1, NULL, NULL, &bad, err, sizeof err),
		  HG_ERR_TRUNCATED);
	CHECK_INT(hg_index_load_snapshot(buf.p, 10, NULL, NULL, &bad, err, sizeof err),
		  HG_ERR_TRUNCATED);
	CHECK_INT(hg_index_load_snapshot(bytes + 1, size - 1, NULL, NULL, &bad, err, sizeof err),
		  HG_ERR_INVALID_ARG);

	/* through a file */
	char path[] = "/tmp/hg_test_index_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0) {
		close(fd);
		CHECK_INT(hg_index_save_file(idx, path, err, sizeof err), HG_OK);
		hg_index *f = NULL;
		CHECK_INT(hg_index_load_file(path, &f, err, sizeof err), HG_OK);
		if (f) {
			hg_pdq q[8];
			make_query(&m, 2, q);
			check_query(f, res, &m, q, 8, 31, "file");
			hg_index_free(f);
		}
		FILE *w = fopen(path, "r+b");
		if (w) {
			fseek(w, 200, SEEK_SET);
			fputc(0x55, w);
			fclose(w);
		}
		hg_status st = hg_index_load_file(path, &f, err, sizeof err);
		CHECK_INT(st, HG_ERR_CORRUPT);
		CHECK(strstr(err, path) != NULL);
		unlink(path);
		CHECK_INT(hg_index_load_file(path, &f, err, sizeof err), HG_ERR_IO);
	}
	free(buf.p);
	hg_index_results_free(res);
	hg_index_free(idx);
	model_free(&m);
}

/* 70k entries within 3 bits of zero: every table's first 1024-key run
 * holds 65536+ entries, so the tables fall back to 32-bit offsets. */
static void test_wide(void)
{
	struct model m = {0};
	hg_pdq zero = {{0, 0, 0, 0}};
	model_family(&m, zero, 70000, 4, 2000);
	hg_index *idx = NULL;
	CHECK_INT(hg_index_build(NULL, m.h, m.id, m.n, &idx), HG_OK);
	if (!idx)
		return;
	CHECK(atomic_load(&idx->cur)->base->wide != 0);
	hg_index_results *res = NULL;
	hg_index_results_new(&res);
	for (int r = 0; r < 4; r++) {
		hg_pdq q[8];
		make_query(&m, r, q);
		check_query(idx, res, &m, q, 8, radii[r * 3], "wide");
	}
	struct membuf buf = {0};
	size_t size = 0;
	CHECK_INT(hg_index_snapshot(idx, alloc_aligned, &buf, &size), HG_OK);
	hg_index *back = NULL;
	char err[200];
	CHECK_INT(hg_index_load_snapshot(buf.p, size, NULL, NULL, &back, err, sizeof err), HG_OK);
	if (back) {
		hg_pdq q[8];
		make_query(&m, 3, q);
		check_query(back, res, &m, q, 8, 5, "wide-snapshot");
		CHECK(atomic_load(&back->cur)->base->wide != 0);
		hg_index_free(back);
	}
	free(buf.p);
	hg_index_results_free(res);
	hg_index_free(idx);
	model_free(&m);
}

/* A query in a flood of near-duplicates: the planner must notice the
 * candidate count before verifying it and scan instead, with the same
 * (complete) result as the tables and the brute force. */
static void test_flood(void)
{
	struct model m = {0};
	hg_pdq centre = rand_hash();
	model_family(&m, centre, 20000, 7, 200000);
	hg_index *idx = NULL;
	CHECK_INT(hg_index_build(NULL, m.h, m.id, m.n, &idx), HG_OK);
	if (!idx)
		return;
	hg_index_results *res = NULL;
	hg_index_results_new(&res);
	hg_pdq q[8];
	make_query(&m, 0, q);
	q[3] = centre;
	check_query(idx, res, &m, q, 8, 31, "flood");
	int scanned = -1;
	size_t cands = 0;
	CHECK_INT(hg_index_query(idx, q, 8, 31, 0, res), HG_OK);
	hg_index_results_plan(res, &scanned, &cands);
	CHECK_INT(scanned, 1);
	CHECK(hg_index_results_count(res) >= 20000);
	CHECK_INT(hg_index_query(idx, q, 8, 31, HG_INDEX_QUERY_TABLES, res), HG_OK);
	hg_index_results_plan(res, &scanned, &cands);
	CHECK_INT(scanned, 0);
	CHECK(cands > 20000); /* what the scan saved us from verifying */
	/* away from the flood the same index uses its tables: the scan above
	 * was the flood guard, not the planner's choice for this list size */
	make_query(&m, 0, q);
	CHECK_INT(hg_index_query(idx, q, 8, 31, 0, res), HG_OK);
	hg_index_results_plan(res, &scanned, &cands);
	CHECK_INT(scanned, 0);
	hg_index_results_free(res);
	hg_index_free(idx);
	model_free(&m);
}

static void test_digests(void)
{
	hg_digest_index *di = NULL;
	CHECK_INT(hg_digest_index_new(&di), HG_OK);
	if (!di)
		return;
	uint8_t d[2000][32];
	for (int i = 0; i < 2000; i++) {
		for (int k = 0; k < 32; k++)
			d[i][k] = (uint8_t)rnd();
		CHECK_INT(hg_digest_index_add(di, (hg_digest_kind)(i % 3), d[i], (uint64_t)i), HG_OK);
	}
	/* the same digest under a second id, and an exact repeat */
	CHECK_INT(hg_digest_index_add(di, HG_DIGEST_MD5, d[0], 5000), HG_OK);
	CHECK_INT(hg_digest_index_add(di, HG_DIGEST_MD5, d[0], 5000), HG_ERR_EXISTS);
	CHECK_INT(hg_digest_index_add(di, (hg_digest_kind)9, d[0], 1), HG_ERR_INVALID_ARG);
	uint64_t ids[4];
	size_t count;
	CHECK_INT(hg_digest_index_lookup(di, HG_DIGEST_MD5, d[0], ids, 4, &count), HG_OK);
	CHECK_INT(count, 2);
	/* kind matters: d[1] is a SHA-1, not an MD5 */
	CHECK_INT(hg_digest_index_lookup(di, HG_DIGEST_MD5, d[1], ids, 4, &count), HG_OK);
	CHECK_INT(count, 0);
	CHECK_INT(hg_digest_index_lookup(di, HG_DIGEST_SHA1, d[1], ids, 4, &count), HG_OK);
	CHECK(count == 1 && ids[0] == 1);
	/* a digest differing in its last byte only */
	uint8_t near[32];
	memcpy(near, d[2], 32);
	near[31] ^= 1;
	CHECK_INT(hg_digest_index_lookup(di, HG_DIGEST_SHA256, near, ids, 4, &count), HG_OK);
	CHECK_INT(count, 0);
	for (int i = 0; i < 2000; i += 2)
		CHECK_INT(hg_digest_index_remove(di, (uint64_t)i), HG_OK);
	CHECK_INT(hg_digest_index_remove(di, 0), HG_ERR_NOT_FOUND);
	int ok = 1;
	for (int i = 0; i < 2000; i++) {
		hg_digest_index_lookup(di, (hg_digest_kind)(i % 3), d[i], ids, 4, &count);
		size_t want = (i % 2) ? 1 : (i == 0 ? 1 : 0); /* d[0] keeps id 5000 */
		ok &= count == want;
	}
	CHECK(ok);
	CHECK_INT(hg_digest_index_count(di), 1001);

	/* snapshot round trip: every digest answers as before */
	struct membuf buf = {0};
	size_t size = 0;
	char err[160];
	CHECK_INT(hg_digest_index_snapshot(di, alloc_aligned, &buf, &size), HG_OK);
	CHECK_INT(size, 48 + 1001 * 48);
	hg_digest_index *back = NULL;
	CHECK_INT(hg_digest_index_load_snapshot(buf.p, size, &back, err, sizeof err), HG_OK);
	CHECK_INT(hg_digest_index_count(back), 1001);
	ok = back != NULL;
	for (int i = 0; ok && i < 2000; i++) {
		size_t c1, c2;
		uint64_t i1[4], i2[4];
		hg_digest_index_lookup(di, (hg_digest_kind)(i % 3), d[i], i1, 4, &c1);
		hg_digest_index_lookup(back, (hg_digest_kind)(i % 3), d[i], i2, 4, &c2);
		ok = c1 == c2 && (c1 == 0 || i1[0] == i2[0]);
	}
	CHECK(ok);
	CHECK_INT(hg_digest_index_add(back, HG_DIGEST_MD5, d[0], 5000), HG_ERR_EXISTS);
	hg_digest_index_free(back);
	/* damage: a flipped byte anywhere, a cut, another version */
	uint8_t *bytes = buf.p;
	int refused = 0;
	for (size_t at = 0; at < size; at += 97) {
		bytes[at] ^= 0x20;
		hg_digest_index *bad = NULL;
		hg_status st = hg_digest_index_load_snapshot(buf.p, size, &bad, err, sizeof err);
		refused += st == HG_ERR_CORRUPT && bad == NULL;
		hg_digest_index_free(bad);
		bytes[at] ^= 0x20;
	}
	CHECK_INT(refused, (int)((size + 96) / 97));
	hg_digest_index *bad = NULL;
	CHECK_INT(hg_digest_index_load_snapshot(buf.p, size - 48, &bad, err, sizeof err),
		  HG_ERR_TRUNCATED);
	CHECK_INT(hg_digest_index_load_snapshot(buf.p, 20, &bad, err, sizeof err), HG_ERR_TRUNCATED);
	bytes[8] = 2; /* version 2, header checksum redone */
	uint64_t sum = hg__checksum64(bytes, 40, 1);
	memcpy(bytes + 40, &sum, 8);
	CHECK_INT(hg_digest_index_load_snapshot(buf.p, size, &bad, err, sizeof err),
		  HG_ERR_UNSUPPORTED);
	CHECK(bad == NULL);
	free(buf.p);
	/* an empty table round-trips too */
	hg_digest_index *empty = NULL;
	CHECK_INT(hg_digest_index_new(&empty), HG_OK);
	CHECK_INT(hg_digest_index_snapshot(empty, alloc_aligned, &buf, &size), HG_OK);
	CHECK_INT(hg_digest_index_load_snapshot(buf.p, size, &back, err, sizeof err), HG_OK);
	CHECK_INT(hg_digest_index_count(back), 0);
	hg_digest_index_free(back);
	hg_digest_index_free(empty);
	free(buf.p);
	hg_digest_index_free(di);
	hg_digest_index_free(NULL);
}

static void test_args(void)
{
	hg_index *idx = NULL;
	hg_index_options bad = {.bits = 5};
	CHECK_INT(hg_index_new(&bad, &idx), HG_ERR_INVALID_ARG);
	bad = (hg_index_options){.bits = 20, .tables = 13};
	CHECK_INT(hg_index_new(&bad, &idx), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_index_new(NULL, &idx), HG_OK);
	hg_index_results *res = NULL;
	hg_index_results_new(&res);
	hg_pdq q[9] = {{{0}}};
	CHECK_INT(hg_index_query(idx, q, 9, 31, 0, res), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_index_query(idx, q, 0, 31, 0, res), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_index_query(idx, q, 1, -1, 0, res), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_index_query(idx, q, 1, 257, 0, res), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_index_query(idx, q, 1, 31, 1u << 7, res), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_index_query(idx, q, 1, 31, 0, res), HG_OK);
	CHECK_INT(hg_index_results_count(res), 0);
	uint64_t ids[2] = {1, 1};
	hg_pdq hs[2] = {{{0}}};
	hg_index *dup = NULL;
	CHECK_INT(hg_index_build(NULL, hs, ids, 2, &dup), HG_ERR_EXISTS);
	CHECK(dup == NULL);
	hg_index_free(idx);
	hg_index_free(NULL);
	hg_index_results_free(res);
	hg_index_results_free(NULL);
}

int main(void)
{
	expect_buf = malloc(400000 * sizeof *expect_buf);
	test_args();
	test_kernels();
	test_exact(NULL, "auto", 20000);
	hg_index_options o16 = {.bits = 16, .tables = 16};
	test_exact(&o16, "16x16", 20000);
	hg_index_options o23 = {.bits = 23, .tables = 11};
	test_exact(&o23, "11x23", 5000);
	hg_index_options o8 = {.bits = 8, .tables = 32};
	test_exact(&o8, "32x8", 2000);
	hg_index_options odd = {.bits = 21, .tables = 5}; /* 151 bits unused */
	test_exact(&odd, "5x21", 2000);
	atomic_store(&hg__index_lean, 0); /* the benchmark's baseline loops */
	test_exact(NULL, "auto, earlier loops", 2000);
	atomic_store(&hg__index_lean, 1);
	test_updates();
	test_snapshot();
	test_wide();
	test_flood();
	test_digests();
	free(expect_buf);
	return hgt_finish("test_index");
}
