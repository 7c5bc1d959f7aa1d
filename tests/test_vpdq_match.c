/*
 * test_vpdq_match.c — vPDQ matching: text round trips, the python-
 * threatexchange rule by brute force and through the index, against the
 * reference's percentages for all 256 pairs of the 16 native sample-hash
 * files (generated/match-matrix-sample-hashes.csv, pytx columns, within 1
 * point), and the index's add/remove/threshold behaviour on synthetic
 * videos.
 */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "hashgate/video.h"
#include "hashgate/vpdq.h"

static hg_pdq random_hash(uint64_t *state)
{
	hg_pdq h;
	for (int i = 0; i < 4; i++) {
		*state ^= *state << 13;
		*state ^= *state >> 7;
		*state ^= *state << 17;
		h.w[i] = *state;
	}
	return h;
}

static hg_pdq flip_bits(hg_pdq h, int n)
{
	for (int i = 0; i < n; i++)
		h.w[i & 3] ^= 1ULL << (i * 7 % 64);
	return h;
}

static void test_text(void)
{
	hg_vpdq_frame f;
	const char *line = "30,100,df83b48f2ad34d68169c36bc6d2f6b36ce5ed08701a301e9cbb9fc12f80b8154,1.000";
	CHECK_INT(hg_vpdq_parse_line(line, strlen(line), &f), HG_OK);
	CHECK_INT(f.frame_number, 30);
	CHECK_INT(f.quality, 100);
	char out[HG_VPDQ_LINE_MAX];
	CHECK_INT(hg_vpdq_format_line(&f, out, sizeof out), strlen(line));
	CHECK_STR(out, line);
	CHECK_INT(hg_vpdq_format_line(&f, out, 20), 0);
	const char *bad[] = {
		"", "30,100,df83", "30,101,df83b48f2ad34d68169c36bc6d2f6b36ce5ed08701a301e9cbb9fc12f80b8154,1.000",
		"-1,100,df83b48f2ad34d68169c36bc6d2f6b36ce5ed08701a301e9cbb9fc12f80b8154,1.000",
		"30,100,df83b48f2ad34d68169c36bc6d2f6b36ce5ed08701a301e9cbb9fc12f80b8154,x",
		"30,100,df83b48f2ad34d68169c36bc6d2f6b36ce5ed08701a301e9cbb9fc12f80b8154,1,2",
		"30,100,zf83b48f2ad34d68169c36bc6d2f6b36ce5ed08701a301e9cbb9fc12f80b8154,1.0",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_INT(hg_vpdq_parse_line(bad[i], strlen(bad[i]), &f), HG_ERR_PARSE);
}

/* Synthetic videos: b shares 5 of its 10 frames with a's 8 (a few bits off),
 * c is unrelated; low-quality frames and duplicates must not count. */
static void test_index_synthetic(void)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	hg_vpdq_frame a[10], b[10], c[10];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	memset(c, 0, sizeof c);
	for (int i = 0; i < 10; i++) {
		a[i].hash = random_hash(&seed);
		a[i].quality = 100;
		b[i].hash = i < 5 ? flip_bits(a[i].hash, 20) : random_hash(&seed);
		b[i].quality = 90;
		c[i].hash = random_hash(&seed);
		c[i].quality = 100;
	}
	a[8].quality = 10;         /* unusable */
	a[9].hash = a[0].hash;     /* duplicate */
	hg_pdq u[10];
	CHECK_INT(hg_vpdq_usable(a, 10, 50, u), 8);

	double qp, tp;
	int m;
	CHECK_INT(hg_vpdq_compare(a, 10, b, 10, NULL, &qp, &tp, &m), HG_OK);
	CHECK(fabs(qp - 5 * 100.0 / 8) < 1e-9 && fabs(tp - 50.0) < 1e-9 && !m);
	CHECK_INT(hg_vpdq_compare(b, 10, a, 10, NULL, &qp, &tp, &m), HG_OK);
	CHECK(fabs(qp - 50.0) < 1e-9 && !m);
	CHECK_INT(hg_vpdq_compare(a, 10, a, 10, NULL, &qp, &tp, &m), HG_OK);
	CHECK(qp == 100 && tp == 100 && m);
	CHECK_INT(hg_vpdq_compare(a, 10, NULL, 0, NULL, &qp, &tp, &m), HG_OK);
	CHECK(qp == 0 && !m);

	hg_vpdq_index *ix = NULL;
	CHECK_INT(hg_vpdq_index_new(NULL, &ix), HG_OK);
	CHECK_INT(hg_vpdq_index_add(ix, 1, a, 10), HG_OK);
	CHECK_INT(hg_vpdq_index_add(ix, 2, b, 10), HG_OK);
	CHECK_INT(hg_vpdq_index_add(ix, 3, c, 10), HG_OK);
	CHECK_INT(hg_vpdq_index_add(ix, 2, c, 10), HG_ERR_EXISTS);
	CHECK_INT(hg_vpdq_index_count(ix), 3);
	hg_vpdq_match *ms;
	size_t n;
	CHECK_INT(hg_vpdq_index_query(ix, a, 10, 80, 0, &ms, &n), HG_OK);
	CHECK_INT(n, 1);
	CHECK(n == 1 && ms[0].video_id == 1 && ms[0].query_pct == 100);
	hg_vpdq_matches_free(ms);
	CHECK_INT(hg_vpdq_index_query(ix, a, 10, 0, 0, &ms, &n), HG_OK);
	CHECK_INT(n, 2); /* c never meets a frame, so it is not reported */
	CHECK(n == 2 && ms[1].video_id == 2 && ms[1].query_matched == 5 &&
	      ms[1].target_matched == 5 && ms[1].target_usable == 10);
	hg_vpdq_matches_free(ms);
	CHECK_INT(hg_vpdq_index_remove(ix, 1), HG_OK);
	CHECK_INT(hg_vpdq_index_remove(ix, 1), HG_ERR_NOT_FOUND);
	CHECK_INT(hg_vpdq_index_count(ix), 2);
	CHECK_INT(hg_vpdq_index_query(ix, a, 10, 0, 0, &ms, &n), HG_OK);
	CHECK(n == 1 && ms[0].video_id == 2);
	hg_vpdq_matches_free(ms);
	CHECK_INT(hg_vpdq_index_add(ix, 1, c, 10), HG_OK); /* an id can come back */
	CHECK_INT(hg_vpdq_index_query(ix, c, 10, 80, 0, &ms, &n), HG_OK);
	CHECK(n == 2 && ms[0].query_pct == 100 && ms[1].query_pct == 100);
	hg_vpdq_matches_free(ms);
	CHECK_INT(hg_vpdq_index_query(ix, c, 10, 101, 0, &ms, &n), HG_ERR_INVALID_ARG);
	hg_vpdq_index_free(ix);
	hg_vpdq_index_free(NULL);
}

static const char *const names[] = {
	"chair-19-sd-bar", "chair-20-sd-bar", "chair-22-sd-grey-bar", "chair-22-sd-sepia-bar",
	"chair-22-with-large-logo-bar", "chair-22-with-small-logo-bar",
	"chair-orig-22-fhd-no-bar", "chair-orig-22-hd-no-bar", "chair-orig-22-sd-bar",
	"doorknob-hd-no-bar", "pattern-hd-no-bar", "pattern-longer-no-bar", "pattern-sd-grey-bar",
	"pattern-sd-with-large-logo-bar", "pattern-sd-with-small-logo-bar",
	"test-padded-dimensions",
};
#define NV (sizeof names / sizeof names[0])

static int name_index(const char *s)
{
	for (size_t i = 0; i < NV; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -1;
}

static void test_matrix(const char *dir)
{
	hg_vpdq_list lists[NV];
	hg_vpdq_index *ix = NULL;
	CHECK_INT(hg_vpdq_index_new(NULL, &ix), HG_OK);
	for (size_t i = 0; i < NV; i++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/vpdq-reference/vpdq/sample-hashes/%s.txt", dir,
			 names[i]);
		memset(&lists[i], 0, sizeof lists[i]);
		CHECK_INT(hg_vpdq_list_read(path, 100000, &lists[i], NULL), HG_OK);
		CHECK_INT(lists[i].count, 1);
		if (lists[i].count == 1)
			CHECK_INT(hg_vpdq_index_add(ix, i, lists[i].videos[0].frames,
						    lists[i].videos[0].count),
				  HG_OK);
	}
	/* One index query per video gives its row of the matrix. */
	static double idx_q[NV][NV], idx_t[NV][NV];
	for (size_t qi = 0; qi < NV; qi++) {
		hg_vpdq_match *ms;
		size_t n;
		if (lists[qi].count != 1)
			continue;
		const hg_vpdq_video *vq = &lists[qi].videos[0];
		CHECK_INT(hg_vpdq_index_query(ix, vq->frames, vq->count, 0, 0, &ms, &n), HG_OK);
		for (size_t k = 0; k < n; k++) {
			idx_q[qi][ms[k].video_id] = ms[k].query_pct;
			idx_t[qi][ms[k].video_id] = ms[k].target_pct;
		}
		hg_vpdq_matches_free(ms);
	}
	char path[1024];
	snprintf(path, sizeof path, "%s/vpdq-reference/generated/match-matrix-sample-hashes.csv",
		 dir);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	char line[512];
	int pairs = 0, exact = 0, agree = 0, want_matched = 0;
	double worst = 0;
	while (fgets(line, sizeof line, f)) {
		char q[128], t[128];
		double cq, ct, pq, pt;
		int nq, nt;
		if (sscanf(line, "%127[^,],%127[^,],%lf,%lf,%lf,%lf,%d,%d", q, t, &cq, &ct, &pq, &pt,
			   &nq, &nt) != 8)
			continue; /* header */
		int qi = name_index(q), ti = name_index(t);
		CHECK(qi >= 0 && ti >= 0);
		if (qi < 0 || ti < 0 || lists[qi].count != 1 || lists[ti].count != 1)
			continue;
		const hg_vpdq_video *vq = &lists[qi].videos[0], *vt = &lists[ti].videos[0];
		double gq, gt;
		int m;
		CHECK_INT(hg_vpdq_compare(vq->frames, vq->count, vt->frames, vt->count, NULL, &gq,
					  &gt, &m),
			  HG_OK);
		double d = fmax(fabs(gq - pq), fabs(gt - pt));
		worst = fmax(worst, d);
		CHECK(d <= 1.0);
		exact += d < 0.005 + 1e-9;
		/* The index must give the same figures for this target. */
		CHECK(fabs(idx_q[qi][ti] - gq) < 1e-9 && fabs(idx_t[qi][ti] - gt) < 1e-9);
		int want = pq >= 80 && pt >= 0 && pq > 0;
		want_matched += want;
		agree += want == m;
		pairs++;
	}
	fclose(f);
	printf("match matrix: %d pairs, %d within 0.005 points, worst %.4f points; match "
	       "decision agrees on %d/%d (%d pairs match at query%% >= 80)\n",
	       pairs, exact, worst, agree, pairs, want_matched);
	CHECK_INT(pairs, 256);
	CHECK_INT(agree, pairs);
	for (size_t i = 0; i < NV; i++)
		hg_vpdq_list_release(&lists[i]);
	hg_vpdq_index_free(ix);
}

int main(void)
{
	test_text();
	test_index_synthetic();
	const char *dir = hgt_shared_data();
	if (dir)
		test_matrix(dir);
	return hgt_finish("test_vpdq_match");
}
