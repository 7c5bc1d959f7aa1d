/*
 * bench_index.c — hg_index against a brute-force scan, in one process, one
 * thread. One query = 8 hashes (an upload's dihedral variants): variant 0
 * is a list entry with 0..31 bits flipped (so every query has a true
 * match), the others are random.
 *
 * For each N (100k, 1M; 10M with --10m or HG_BENCH_10M=1) and each list
 * shape (uniform random; clustered = near-duplicate families like real
 * lists) it prints: build time, bytes per entry, index queries/s, scan
 * queries/s and comparisons/s, the ratio, recall against the scan (every
 * query's full result compared), snapshot save and load times.
 *   --sweep      also tries substring lengths / table counts and prefetching
 *   --crossover  index vs scan per radius and N (calibrates the planner)
 *   --kernels    every scan kernel's speed
 *   --flood      the worst case: a query inside a family of n/50 near-
 *                duplicates (--n N sets n; default 1M)
 *   --n N        only lists of N entries (--uniform / --clustered: one shape)
 *   --quick      fewer queries
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/hamming.h"
#include "core/index_internal.h"
#include "hashgate/hashgate.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The thread's CPU time, not wall time: the machine this is tuned on is
 * shared, and time spent descheduled says nothing about the index. */
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static hg_pdq rand_hash(void)
{
	hg_pdq h = {{rnd(), rnd(), rnd(), rnd()}};
	return h;
}

static hg_pdq flip(hg_pdq h, int k)
{
	for (int i = 0; i < k; i++) {
		int b = (int)(rnd() % 256);
		h.w[b >> 6] ^= UINT64_C(1) << (b & 63);
	}
	return h;
}

/* clustered: families of 1..32 members (mean ~8) within 0..20 bits of a
 * centre — what hotline lists look like (crops, re-encodes, resizes) */
static void make_list(hg_pdq *h, size_t n, int clustered)
{
	size_t i = 0;
	while (i < n) {
		hg_pdq c = rand_hash();
		size_t fam = clustered ? 1 + (size_t)(rnd() % 16) * (rnd() % 2 + 1) : 1;
		for (size_t k = 0; k < fam && i < n; k++)
			h[i++] = clustered ? flip(c, (int)(rnd() % 21)) : c;
	}
}

static void make_queries(const hg_pdq *list, size_t n, hg_pdq *q, size_t nq)
{
	for (size_t i = 0; i < nq; i++) {
		q[8 * i] = flip(list[rnd() % n], (int)(rnd() % 32));
		for (int v = 1; v < 8; v++)
			q[8 * i + v] = rand_hash();
	}
}

static int same_results(const hg_index_results *a, const hg_index_match *b, size_t nb)
{
	size_t na = hg_index_results_count(a);
	const hg_index_match *m = hg_index_results_matches(a);
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (m[i].id != b[i].id || m[i].distance != b[i].distance || m[i].variant != b[i].variant)
			return 0;
	return 1;
}

struct timing {
	double qps, ms, cand;
	int scanned;
};

static struct timing time_queries(hg_index *idx, hg_index_results *res, const hg_pdq *q,
				  size_t nq, int radius, unsigned flags)
{
	double cands = 0;
	int scanned = 0;
	double t0 = now();
	for (size_t i = 0; i < nq; i++) {
		hg_index_query(idx, &q[8 * i], 8, radius, flags, res);
		size_t c;
		int s;
		hg_index_results_plan(res, &s, &c);
		cands += (double)c;
		scanned += s;
	}
	double t = now() - t0;
	return (struct timing){nq / t, 1000 * t / nq, cands / nq, scanned};
}

static void *alloc_file_unused(void *ctx, size_t size, hg_status *st)
{
	(void)ctx;
	(void)size;
	(void)st;
	return NULL;
}

static void run_case(size_t n, int clustered, int quick, int sweep)
{
	hg_pdq *list = malloc(n * sizeof *list);
	uint64_t *ids = malloc(n * sizeof *ids);
	if (!list || !ids) {
		fprintf(stderr, "out of memory for N=%zu\n", n);
		exit(1);
	}
	make_list(list, n, clustered);
	for (size_t i = 0; i < n; i++)
		ids[i] = i;
	size_t nq = quick ? 200 : (n >= 5000000 ? 2000 : 5000);
	size_t nscan = n >= 5000000 ? 4 : (n >= 1000000 ? 16 : 100);
	hg_pdq *q = malloc(nq * 8 * sizeof *q);
	make_queries(list, n, q, nq);
	const char *shape = clustered ? "clustered" : "uniform";

	double t0 = now();
	hg_index *idx = NULL;
	if (hg_index_build(NULL, list, ids, n, &idx) != HG_OK) {
		fprintf(stderr, "build failed\n");
		exit(1);
	}
	double build = now() - t0;
	hg_index_stats st;
	hg_index_stats_get(idx, &st);
	hg_index_results *res, *ref;
	hg_index_results_new(&res);
	hg_index_results_new(&ref);

	/* recall: every query, index vs forced scan, full result sets */
	size_t expect = 0, found = 0, exact = 0, nrec = n >= 5000000 ? 200 : (quick ? 100 : 500);
	hg_index_match *copy = malloc(sizeof *copy * 1024 * 64);
	double scan_time = 0;
	for (size_t i = 0; i < nrec; i++) {
		double s0 = now();
		hg_index_query(idx, &q[8 * i], 8, 31, HG_INDEX_QUERY_SCAN, ref);
		scan_time += now() - s0;
		size_t nr = hg_index_results_count(ref);
		if (nr > 1024 * 64)
			nr = 1024 * 64;
		memcpy(copy, hg_index_results_matches(ref), nr * sizeof *copy);
		hg_index_query(idx, &q[8 * i], 8, 31, 0, res);
		expect += nr;
		size_t got = hg_index_results_count(res);
		const hg_index_match *m = hg_index_results_matches(res);
		for (size_t a = 0; a < nr; a++)
			for (size_t b = 0; b < got; b++)
				if (m[b].id == copy[a].id && m[b].distance == copy[a].distance) {
					found++;
					break;
				}
		exact += same_results(res, copy, nr);
		if (i + 1 >= nscan && scan_time > 2.0)
			nrec = i + 1; /* enough scans timed */
	}
	double scan_ms = 1000 * scan_time / (double)nrec;
	double scan_gcmp = (double)n * 8 / (scan_time / (double)nrec) / 1e9;

	struct timing ti = time_queries(idx, res, q, nq, 31, 0);
	printf("N=%-9zu %-9s r=31 %2ux%-2u build %6.2f s  %6.1f B/entry  index %8.1f q/s (%7.3f ms, "
	       "%6.0f cand%s)  scan %7.2f q/s (%7.2f ms, %.2f G cmp/s)  ratio %6.1fx  recall %.2f%% "
	       "(%zu/%zu, %zu/%zu identical)\n",
	       n, shape, st.tables, st.bits, build, (double)st.bytes / (double)n, ti.qps, ti.ms,
	       ti.cand, ti.scanned ? ", some scanned" : "", 1000 / scan_ms, scan_ms, scan_gcmp,
	       scan_ms / ti.ms, expect ? 100.0 * (double)found / (double)expect : 100.0, found,
	       expect, exact, nrec);

	/* snapshot to a file and back */
	char path[256];
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(path, sizeof path, "%s/bench_index_%ld.snap", dir, (long)getpid());
	char err[256];
	t0 = now();
	hg_status s = hg_index_save_file(idx, path, err, sizeof err);
	double save = now() - t0;
	if (s == HG_OK) {
		hg_index *loaded = NULL;
		t0 = now();
		s = hg_index_load_file(path, &loaded, err, sizeof err);
		double load = now() - t0;
		size_t same = 0;
		for (size_t i = 0; s == HG_OK && i < 50; i++) {
			hg_index_query(idx, &q[8 * i], 8, 31, 0, ref);
			size_t nr = hg_index_results_count(ref);
			if (nr > 1024 * 64)
				nr = 1024 * 64;
			memcpy(copy, hg_index_results_matches(ref), nr * sizeof *copy);
			hg_index_query(loaded, &q[8 * i], 8, 31, 0, res);
			same += same_results(res, copy, nr);
		}
		printf("    snapshot: save %.2f s, load (mmap + verify) %.3f s, %s; loaded index "
		       "agrees on %zu/50 queries\n",
		       save, load, s == HG_OK ? "ok" : err, same);
		hg_index_free(loaded);
		unlink(path);
	} else {
		printf("    snapshot: save failed: %s\n", err);
	}
	(void)alloc_file_unused;

	if (sweep) {
		/* prefetch strategies on the default layout, interleaved and
		 * best of 3 rounds so machine load hits them alike */
		static const int modes[] = {0, 1, 32, 64, 128, 256};
		double best[2][6] = {{0}};
		for (int round = 0; round < 3; round++)
			for (int l2 = 0; l2 < 2; l2++)
				for (size_t k = 0; k < 6; k++) {
					atomic_store(&hg__index_prefetch, modes[k]);
					atomic_store(&hg__index_prefetch_l2, l2);
					struct timing z = time_queries(idx, res, q, nq / 6, 31,
									HG_INDEX_QUERY_TABLES);
					if (z.qps > best[l2][k])
						best[l2][k] = z.qps;
				}
		atomic_store(&hg__index_prefetch, 64);
		atomic_store(&hg__index_prefetch_l2, 1);
		double lean[2] = {0, 0};
		for (int round = 0; round < 3; round++)
			for (int k = 0; k < 2; k++) {
				atomic_store(&hg__index_lean, k);
				struct timing z = time_queries(idx, res, q, nq / 3, 31,
								HG_INDEX_QUERY_TABLES);
				if (z.qps > lean[k])
					lean[k] = z.qps;
			}
		printf("    lookup: as before (offsets not prefetched, branchy loops) %7.1f q/s, "
		       "now %7.1f q/s (%.2fx)\n",
		       lean[0], lean[1], lean[1] / lean[0]);
		for (int l2 = 0; l2 < 2; l2++) {
			printf("    prefetch into %s: none %7.1f  burst %7.1f", l2 ? "L2" : "L1",
			       best[l2][0], best[l2][1]);
			for (size_t k = 2; k < 6; k++)
				printf("  ahead %d: %7.1f", modes[k], best[l2][k]);
			printf(" q/s\n");
		}
		static const unsigned cfg[][2] = {{16, 16}, {20, 12}, {21, 12}, {22, 11},
						  {23, 11}, {24, 10}};
		for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
			if ((n < 2000000 && cfg[c][0] > 23) || (n > 5000000 && cfg[c][0] < 21))
				continue;
			hg_index_options o = {.bits = cfg[c][0], .tables = cfg[c][1]};
			hg_index *x = NULL;
			t0 = now();
			if (hg_index_build(&o, list, ids, n, &x) != HG_OK)
				continue;
			double b = now() - t0;
			hg_index_stats xs;
			hg_index_stats_get(x, &xs);
			struct timing a = time_queries(x, res, q, nq / 2, 31, HG_INDEX_QUERY_TABLES);
			printf("    sweep %2ux%-2u bits: build %5.2f s %6.1f B/entry %6.0f cand  "
			       "%7.1f q/s\n",
			       cfg[c][1], cfg[c][0], b, (double)xs.bytes / (double)n, a.cand, a.qps);
			if (cfg[c][0] == 21 || cfg[c][0] == 23) {
				atomic_store(&hg__index_hugepages, 0);
				hg_index *y = NULL;
				hg_index_build(&o, list, ids, n, &y);
				atomic_store(&hg__index_hugepages, 1);
				struct timing z4 = time_queries(y, res, q, nq / 4, 31,
								 HG_INDEX_QUERY_TABLES);
				printf("    sweep %2ux%-2u bits without huge pages: %8.1f q/s\n",
				       cfg[c][1], cfg[c][0], z4.qps);
				hg_index_free(y);
			}
			hg_index_free(x);
		}
	}
	fflush(stdout);
	free(copy);
	hg_index_results_free(res);
	hg_index_results_free(ref);
	hg_index_free(idx);
	free(q);
	free(list);
	free(ids);
}

/* --flood: the worst case. n entries of which 2% are near-duplicates
 * (0..8 bits) of one hash, queried right there: every probed bucket of the
 * family is full, the result holds ~n/50 matches. Prints the planner (which
 * sees the candidate count after reading the offsets and scans instead),
 * tables forced and scan forced, and an ordinary query for scale. */
static void flood(size_t n)
{
	hg_pdq *list = malloc(n * sizeof *list);
	uint64_t *ids = malloc(n * sizeof *ids);
	size_t nq = 20;
	hg_pdq *q = malloc(nq * 8 * sizeof *q), *far = malloc(nq * 8 * sizeof *far);
	if (!list || !ids || !q || !far) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	hg_pdq centre = rand_hash();
	size_t fam = n / 50;
	for (size_t i = 0; i < n; i++) {
		list[i] = i < fam ? flip(centre, (int)(rnd() % 9)) : rand_hash();
		ids[i] = i;
	}
	for (size_t i = 0; i < nq; i++)
		for (int v = 0; v < 8; v++)
			q[8 * i + v] = v ? rand_hash() : flip(centre, (int)(rnd() % 9));
	make_queries(list + fam, n - fam, far, nq);
	hg_index *idx = NULL;
	if (hg_index_build(NULL, list, ids, n, &idx) != HG_OK) {
		fprintf(stderr, "build failed\n");
		exit(1);
	}
	hg_index_results *res;
	hg_index_results_new(&res);
	struct timing p = time_queries(idx, res, q, nq, 31, 0);
	size_t matches = hg_index_results_count(res);
	struct timing t = time_queries(idx, res, q, nq, 31, HG_INDEX_QUERY_TABLES);
	struct timing sc = time_queries(idx, res, q, nq, 31, HG_INDEX_QUERY_SCAN);
	struct timing o = time_queries(idx, res, far, nq, 31, 0);
	printf("flood N=%zu, %zu near-duplicates of one hash, queried there (%zu matches): "
	       "planner %.2f ms (%d/%zu scanned), tables forced %.2f ms (%.0f candidates), "
	       "scan forced %.2f ms; an ordinary query %.3f ms\n",
	       n, fam, matches, p.ms, p.scanned, nq, t.ms, t.cand, sc.ms, o.ms);
	fflush(stdout);
	hg_index_results_free(res);
	hg_index_free(idx);
	free(list);
	free(ids);
	free(q);
	free(far);
}

static void crossover(void)
{
	static const size_t sizes[] = {1000, 10000, 100000, 1000000};
	static const int radii[] = {0, 8, 16, 24, 31, 40, 47, 55, 63};
	printf("crossover: ms per 8-variant query, tables forced / scan forced / planner\n");
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		size_t n = sizes[s];
		hg_pdq *list = malloc(n * sizeof *list);
		uint64_t *ids = malloc(n * sizeof *ids);
		make_list(list, n, 1);
		for (size_t i = 0; i < n; i++)
			ids[i] = i;
		size_t nq = n >= 1000000 ? 100 : 400;
		hg_pdq *q = malloc(nq * 8 * sizeof *q);
		make_queries(list, n, q, nq);
		hg_index *idx = NULL;
		hg_index_build(NULL, list, ids, n, &idx);
		hg_index_results *res;
		hg_index_results_new(&res);
		hg_index_stats st;
		hg_index_stats_get(idx, &st);
		for (size_t r = 0; r < sizeof radii / sizeof radii[0]; r++) {
			int rad = radii[r];
			struct timing t = time_queries(idx, res, q, nq, rad, HG_INDEX_QUERY_TABLES);
			struct timing sc = time_queries(idx, res, q, n >= 1000000 ? 10 : nq, rad,
							HG_INDEX_QUERY_SCAN);
			struct timing p = time_queries(idx, res, q, nq, rad, 0);
			printf("  N=%-8zu %2ux%-2u r=%-2d tables %8.4f  scan %8.4f  planner %8.4f "
			       "(%s)%s\n",
			       n, st.tables, st.bits, rad, t.ms, sc.ms, p.ms,
			       p.scanned == (int)nq ? "scan" : p.scanned ? "mixed" : "tables",
			       (t.ms < sc.ms) == (p.scanned == 0) ? "" : "  <- planner not best");
		}
		fflush(stdout);
		hg_index_results_free(res);
		hg_index_free(idx);
		free(q);
		free(list);
		free(ids);
	}
}

static void kernels(void)
{
	size_t n = 1000000;
	hg_pdq *h = malloc(n * sizeof *h);
	make_list(h, n, 0);
	hg_pdq q[8];
	for (int v = 0; v < 8; v++)
		q[v] = rand_hash();
	for (int k = HG_SCAN_GENERIC; k < HG_SCAN_KERNELS_; k++) {
		if (!hg__scan_supported((enum hg_scan_kernel)k))
			continue;
		struct hg_hits hits = {0};
		int reps = k == HG_SCAN_AVX512 ? 20 : 3;
		double t0 = now();
		for (int r = 0; r < reps; r++) {
			hits.n = 0;
			hg__scan((enum hg_scan_kernel)k, h, n, q, 8, 31, 0, &hits);
		}
		double t = now() - t0;
		printf("scan kernel %-8s %6.2f G comparisons/s (1M hashes x 8 variants)\n",
		       hg__scan_name((enum hg_scan_kernel)k), (double)reps * (double)n * 8 / t / 1e9);
		free(hits.v);
	}
	free(h);
}

int main(int argc, char **argv)
{
	int big = getenv("HG_BENCH_10M") && atoi(getenv("HG_BENCH_10M")) > 0;
	int quick = 0, sweep = 0, cross = 0, kern = 0, only_big = 0, shape = -1, fl = 0;
	size_t only_n = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--10m"))
			big = 1;
		else if (!strcmp(argv[i], "--only-10m"))
			big = only_big = 1;
		else if (!strcmp(argv[i], "--n") && i + 1 < argc)
			only_n = (size_t)atol(argv[++i]);
		else if (!strcmp(argv[i], "--uniform"))
			shape = 0;
		else if (!strcmp(argv[i], "--clustered"))
			shape = 1;
		else if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--sweep"))
			sweep = 1;
		else if (!strcmp(argv[i], "--crossover"))
			cross = 1;
		else if (!strcmp(argv[i], "--kernels"))
			kern = 1;
		else if (!strcmp(argv[i], "--flood"))
			fl = 1;
		else {
			fprintf(stderr, "usage: bench_index [--10m|--only-10m|--n N] [--uniform|"
					"--clustered] [--sweep] [--crossover] [--kernels] [--flood] [--quick]\n");
			return 2;
		}
	}
	printf("bench_index: scan kernel %s, one thread, times are the thread's CPU time\n",
	       hg__scan_name(hg__scan_best()));
	if (kern)
		kernels();
	if (cross)
		crossover();
	if (fl) {
		flood(only_n ? only_n : 1000000);
		return 0;
	}
	if (only_n) {
		for (int c = 0; c < 2; c++)
			if (shape < 0 || shape == c)
				run_case(only_n, c, quick, sweep);
		return 0;
	}
	if (!only_big) {
		for (int c = 0; c < 2; c++) {
			run_case(100000, c, quick, sweep);
			run_case(1000000, c, quick, sweep);
		}
	}
	if (big)
		for (int c = 0; c < 2; c++)
			run_case(10000000, c, quick, sweep);
	return 0;
}
