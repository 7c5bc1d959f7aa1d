/*
 * test_vpdq_index_stop.c — hg_vpdq_index_query stops looking frames up in
 * the index once no unseen video can reach query% and finishes against the
 * videos already met (or stops outright). That must never change a result:
 * random banks (near copies sharing 0..100% of the query's frames, low
 * quality and duplicate frames, removed videos, a few 3,000-frame videos
 * that push the candidates past the direct-check limit, banks the query has
 * nothing in common with) are queried at
 * several thresholds, and the reported videos and their counts must be
 * exactly those of hg_vpdq_compare (brute force) against every video.
 */
#include <stdlib.h>

#include "harness.h"
#include "hashgate/vpdq.h"

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static hg_pdq noise(uint64_t *s)
{
	hg_pdq h;
	for (int w = 0; w < 4; w++)
		h.w[w] = next(s);
	return h;
}

/* `h` with `bits` distinct bits flipped (a near copy within 31 when
 * bits <= 31). */
static hg_pdq nudge(hg_pdq h, int bits, uint64_t *s)
{
	for (int k = 0; k < bits; k++) {
		unsigned b = (unsigned)(next(s) % 256);
		h.w[b / 64] ^= (uint64_t)1 << (b % 64);
	}
	return h;
}

#define QF 30
#define VIDEOS 80
#define BIG 3000

struct bank {
	hg_vpdq_frame *f[VIDEOS];
	size_t n[VIDEOS];
	int alive[VIDEOS];
};

/* A bank video sharing about `share` percent of the query's frames. */
static void make_video(hg_vpdq_frame *out, size_t n, const hg_vpdq_frame *q, int share,
		       uint64_t *s)
{
	for (size_t i = 0; i < n; i++) {
		int from_query = (int)(next(s) % 100) < share;
		out[i].hash = from_query ? nudge(q[next(s) % QF].hash, (int)(next(s) % 28), s)
					 : noise(s);
		out[i].quality = next(s) % 8 == 0 ? 20 : 90;
		out[i].frame_number = (int64_t)i;
		out[i].timestamp = 0;
		if (i > 0 && next(s) % 10 == 0)
			out[i].hash = out[i - 1].hash; /* a still scene */
	}
}

static int run_round(uint64_t seed, int big, int unrelated)
{
	uint64_t s = seed;
	hg_vpdq_frame q[QF];
	for (int i = 0; i < QF; i++) {
		q[i].hash = i % 7 == 6 ? q[i - 1].hash : noise(&s);
		q[i].quality = i % 11 == 10 ? 30 : 100;
		q[i].frame_number = i;
		q[i].timestamp = 0;
	}
	struct bank b;
	hg_vpdq_index *ix = NULL;
	CHECK_INT(hg_vpdq_index_new(NULL, &ix), HG_OK);
	for (int v = 0; v < VIDEOS; v++) {
		b.n[v] = big && v < 3 ? BIG : 5 + next(&s) % 40;
		b.f[v] = calloc(b.n[v], sizeof *b.f[v]);
		int share = big && v < 3 ? 100 : unrelated ? 0 : (int)(next(&s) % 101);
		make_video(b.f[v], b.n[v], q, share, &s);
		CHECK_INT(hg_vpdq_index_add(ix, (uint64_t)v + 1000, b.f[v], b.n[v]), HG_OK);
		b.alive[v] = 1;
	}
	for (int v = 5; v < VIDEOS; v += 17) {
		CHECK_INT(hg_vpdq_index_remove(ix, (uint64_t)v + 1000), HG_OK);
		b.alive[v] = 0;
	}
	if (seed & 1)
		CHECK_INT(hg_vpdq_index_compact(ix), HG_OK);
	static const double qpcts[] = {0, 20, 50, 66.7, 80, 95, 100};
	static const double tpcts[] = {0, 40};
	int reported = 0;
	for (size_t a = 0; a < sizeof qpcts / sizeof qpcts[0]; a++)
		for (size_t c = 0; c < 2; c++) {
			hg_vpdq_match *ms;
			size_t nm;
			CHECK_INT(hg_vpdq_index_query(ix, q, QF, qpcts[a], tpcts[c], &ms, &nm), HG_OK);
			hg_vpdq_match_options o;
			hg_vpdq_match_options_default(&o);
			o.query_pct = qpcts[a];
			o.target_pct = tpcts[c];
			size_t want = 0;
			for (int v = 0; v < VIDEOS; v++) {
				double qp, tp;
				int m;
				CHECK_INT(hg_vpdq_compare(q, QF, b.f[v], b.n[v], &o, &qp, &tp, &m),
					  HG_OK);
				if (!b.alive[v] || !m || qp == 0)
					continue;
				want++;
				const hg_vpdq_match *got = NULL;
				for (size_t k = 0; k < nm; k++)
					if (ms[k].video_id == (uint64_t)v + 1000)
						got = &ms[k];
				if (!got || got->query_pct != qp || got->target_pct != tp)
					fprintf(stderr, "seed %llx q%% >= %.1f t%% >= %.0f: video %d "
						"brute %.2f/%.2f, index %s %.2f/%.2f\n",
						(unsigned long long)seed, qpcts[a], tpcts[c], v, qp, tp,
						got ? "" : "(missing)", got ? got->query_pct : 0,
						got ? got->target_pct : 0);
				CHECK(got && got->query_pct == qp && got->target_pct == tp);
			}
			CHECK_INT(nm, want);
			reported += (int)nm;
			hg_vpdq_matches_free(ms);
		}
	hg_vpdq_index_free(ix);
	for (int v = 0; v < VIDEOS; v++)
		free(b.f[v]);
	return reported;
}

int main(void)
{
	int reported = 0;
	for (uint64_t r = 1; r <= 24; r++)
		reported += run_round(0x51ed2701u * r + 7, r % 4 == 0, r % 6 == 1);
	/* The rounds are not vacuous: plenty of matches at every threshold. */
	printf("%d matches reported and checked\n", reported);
	CHECK(reported > 500);
	return hgt_finish("test_vpdq_index_stop");
}
