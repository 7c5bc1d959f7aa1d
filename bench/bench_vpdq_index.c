/*
 * bench_vpdq_index.c — the cost of matching one video against banks of 10 to
 * 100,000 videos through hg_vpdq_index, next to brute force (hg_vpdq_compare
 * against every video) on the small banks.
 *
 *   bench_vpdq_index [--frames N] [--max-videos N]
 *
 * Bank videos are N random frame hashes each (default 30: 30 s at -r 1).
 * Two queries: a bank video with every frame 8 bits off, which matches
 * exactly that video, and an unrelated video, which matches none (most
 * uploads). Times are thread-CPU medians over --reps queries (default 9);
 * "x10" is the time against the same query at 10 bank videos, measured in
 * the same run: how far the cost is from flat. "(no stop)" is the unrelated
 * video with query% >= 0, which looks up every frame (no early stop).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hashgate/vpdq.h"

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median thread-CPU seconds of `reps` queries; checks the result: the one
 * expected video, or none. -1 on failure. */
static double median_query(hg_vpdq_index *ix, const hg_vpdq_frame *q, size_t frames, size_t reps,
			   double qpct, size_t want, int should_match, size_t bank)
{
	double *t = malloc(reps * sizeof *t);
	if (!t)
		return -1;
	for (size_t r = 0; r < reps; r++) {
		hg_vpdq_match *ms;
		size_t nm;
		double t0 = cpu_now();
		if (hg_vpdq_index_query(ix, q, frames, qpct, 0, &ms, &nm)) {
			free(t);
			return -1;
		}
		t[r] = cpu_now() - t0;
		if (should_match ? nm != 1 || ms[0].video_id != want : nm != 0)
			fprintf(stderr, "wrong result at %zu videos\n", bank);
		hg_vpdq_matches_free(ms);
	}
	qsort(t, reps, sizeof t[0], cmp_double);
	double m = t[reps / 2];
	free(t);
	return m;
}

int main(int argc, char **argv)
{
	size_t frames = 30, max_videos = 100000, reps = 9;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--frames"))
			frames = (size_t)atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--max-videos"))
			max_videos = (size_t)atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--reps"))
			reps = (size_t)atol(argv[i + 1]);
	}
	if (frames < 1 || frames > 100000 || max_videos < 10 || reps < 1 || reps > 100000) {
		fprintf(stderr, "usage: bench_vpdq_index [--frames N] [--max-videos N>=10] "
			"[--reps N]\n");
		return 2;
	}
	hg_vpdq_frame *all = calloc(max_videos * frames, sizeof *all);
	if (!all)
		return 1;
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	for (size_t i = 0; i < max_videos * frames; i++) {
		for (int w = 0; w < 4; w++)
			all[i].hash.w[w] = rng(&seed);
		all[i].quality = 100;
		all[i].frame_number = (int64_t)(i % frames);
	}
	hg_vpdq_frame *query = calloc(frames, sizeof *query);
	if (!query)
		return 1;
	/* An unrelated video: frames of a video that is never added. */
	hg_vpdq_frame *other = calloc(frames, sizeof *other);
	if (!other)
		return 1;
	for (size_t f = 0; f < frames; f++) {
		for (int w = 0; w < 4; w++)
			other[f].hash.w[w] = rng(&seed);
		other[f].quality = 100;
		other[f].frame_number = (int64_t)f;
	}
	double hit10 = 0, miss10 = 0;
	printf("%10s %10s %11s %6s %11s %6s %11s %14s %13s\n", "videos", "frames", "match", "x10",
	       "no match", "x10", "(no stop)", "brute force", "compaction");
	hg_vpdq_index *ix = NULL;
	if (hg_vpdq_index_new(NULL, &ix))
		return 1;
	size_t added = 0;
	for (size_t n = 10; n <= max_videos; n *= 10) {
		for (; added < n; added++)
			if (hg_vpdq_index_add(ix, added, all + added * frames, frames)) {
				fprintf(stderr, "add failed\n");
				return 1;
			}
		double c0 = cpu_now();
		if (hg_vpdq_index_compact(ix))
			return 1;
		double compact = cpu_now() - c0;
		/* The query: a video from the middle of this bank, 8 bits off. */
		size_t target = n / 2;
		for (size_t f = 0; f < frames; f++) {
			query[f] = all[target * frames + f];
			query[f].hash.w[f % 4] ^= 0xff;
		}
		double hit = median_query(ix, query, frames, reps, 80, target, 1, n);
		double miss = median_query(ix, other, frames, reps, 80, 0, 0, n);
		/* The same unrelated video with query% >= 0: every frame looked
		 * up, as before the early stop. */
		double all_lookups = median_query(ix, other, frames, reps, 0, 0, 0, n);
		if (hit < 0 || miss < 0 || all_lookups < 0)
			return 1;
		if (n == 10) {
			hit10 = hit;
			miss10 = miss;
		}
		char brute[32] = "-";
		if (n <= 1000) {
			double t0 = cpu_now();
			for (size_t v = 0; v < n; v++) {
				double qp, tp;
				int m;
				hg_vpdq_compare(query, frames, all + v * frames, frames, NULL, &qp, &tp,
						&m);
			}
			snprintf(brute, sizeof brute, "%.3f ms", (cpu_now() - t0) * 1e3);
		}
		printf("%10zu %10zu %8.3f ms %6.1f %8.3f ms %6.1f %8.3f ms %14s %10.0f ms\n", n,
		       n * frames, hit * 1e3, hit / hit10, miss * 1e3, miss / miss10,
		       all_lookups * 1e3, brute, compact * 1e3);
	}
	hg_vpdq_index_free(ix);
	free(all);
	free(query);
	free(other);
	return 0;
}
