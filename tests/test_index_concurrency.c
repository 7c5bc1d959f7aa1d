/*
 * test_index_concurrency.c — queries running while entries are added,
 * removed and compacted on other threads (scripts/test.sh also runs this
 * under ThreadSanitizer). Readers must always find the entries that are
 * never removed, with their exact distance, and never an entry removed
 * before the query began; writers must never see an error. Run twice:
 * with a thread calling hg_index_compact() in a loop, and with the index
 * compacting itself (hg_index_auto_compact).
 */
#include <pthread.h>
#include <time.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "hashgate/hashgate.h"

#define STABLE 4000         /* ids 0..STABLE-1: never removed */
#define CHURN_BASE 1000000u /* ids the writer adds and removes */
#define CHURN 3000
#define QUERIES 600

static hg_pdq stable[STABLE];
static hg_index *idx;
static atomic_int writer_done, failures;
/* generation of each churn id: odd = present, even = removed (writer) */
static atomic_uint churn_state[CHURN];

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static hg_pdq rand_hash(uint64_t *s)
{
	hg_pdq h = {{next(s), next(s), next(s), next(s)}};
	return h;
}

static void *writer(void *arg)
{
	(void)arg;
	uint64_t s = 99;
	hg_pdq *hashes = malloc(CHURN * sizeof *hashes);
	for (int i = 0; i < CHURN; i++)
		hashes[i] = rand_hash(&s);
	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < CHURN; i++) {
			if (hg_index_add(idx, &hashes[i], CHURN_BASE + (uint64_t)i) != HG_OK)
				atomic_fetch_add(&failures, 1);
			atomic_fetch_add(&churn_state[i], 1);
		}
		for (int i = 0; i < CHURN; i += 2) {
			if (hg_index_remove(idx, CHURN_BASE + (uint64_t)i) != HG_OK)
				atomic_fetch_add(&failures, 1);
			atomic_fetch_add(&churn_state[i], 1); /* even: surely removed */
		}
		for (int i = 1; i < CHURN; i += 2) {
			if (hg_index_remove(idx, CHURN_BASE + (uint64_t)i) != HG_OK)
				atomic_fetch_add(&failures, 1);
			atomic_fetch_add(&churn_state[i], 1);
		}
	}
	free(hashes);
	atomic_store(&writer_done, 1);
	return NULL;
}

static void *compactor(void *arg)
{
	(void)arg;
	while (!atomic_load(&writer_done))
		if (hg_index_compact(idx) != HG_OK)
			atomic_fetch_add(&failures, 1);
	return NULL;
}

static void *reader(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg * 7919 + 1;
	hg_index_results *res = NULL;
	if (hg_index_results_new(&res) != HG_OK) {
		atomic_fetch_add(&failures, 1);
		return NULL;
	}
	for (int q = 0; q < QUERIES || !atomic_load(&writer_done); q++) {
		size_t target = next(&s) % STABLE;
		hg_pdq qs[8];
		for (int v = 0; v < 8; v++)
			qs[v] = rand_hash(&s);
		int slot = (int)(next(&s) % 8);
		qs[slot] = stable[target];
		int flips = (int)(next(&s) % 20);
		for (int k = 0; k < flips; k++) {
			int b = (int)(next(&s) % 256);
			qs[slot].w[b >> 6] ^= UINT64_C(1) << (b & 63);
		}
		/* churn ids that were removed before this query began */
		unsigned before[CHURN];
		for (int i = 0; i < CHURN; i++)
			before[i] = atomic_load(&churn_state[i]);
		if (hg_index_query(idx, qs, 8, 31, 0, res) != HG_OK) {
			atomic_fetch_add(&failures, 1);
			continue;
		}
		const hg_index_match *m = hg_index_results_matches(res);
		size_t n = hg_index_results_count(res);
		int found = 0;
		for (size_t i = 0; i < n; i++) {
			if (m[i].id == target) {
				found = m[i].distance == hg_pdq_distance(&stable[target], &qs[slot]) ||
					m[i].variant != slot;
			}
			if (m[i].id >= CHURN_BASE) {
				unsigned c = (unsigned)(m[i].id - CHURN_BASE);
				unsigned now = atomic_load(&churn_state[c]);
				/* removed before we began and not re-added since */
				if (before[c] % 2 == 0 && before[c] == now && before[c] > 0)
					atomic_fetch_add(&failures, 1);
			}
			if (m[i].distance > 31)
				atomic_fetch_add(&failures, 1);
		}
		if (!found)
			atomic_fetch_add(&failures, 1);
	}
	hg_index_results_free(res);
	return NULL;
}

/* One round of writer + readers (+ a compactor thread unless the index
 * compacts itself). */
static void run(int auto_compact)
{
	uint64_t s = 12345;
	uint64_t ids[STABLE];
	for (int i = 0; i < STABLE; i++) {
		stable[i] = rand_hash(&s);
		ids[i] = (uint64_t)i;
	}
	for (int i = 0; i < CHURN; i++)
		atomic_store(&churn_state[i], 0);
	atomic_store(&writer_done, 0);
	hg_index_options opt = {.delta_capacity = 256}; /* force delta growth */
	CHECK_INT(hg_index_build(&opt, stable, ids, STABLE, &idx), HG_OK);
	if (!idx)
		return;
	if (auto_compact)
		CHECK_INT(hg_index_auto_compact(idx, 1), HG_OK);
	pthread_t w, c, r[2];
	pthread_create(&w, NULL, writer, NULL);
	if (!auto_compact)
		pthread_create(&c, NULL, compactor, NULL);
	for (uintptr_t i = 0; i < 2; i++)
		pthread_create(&r[i], NULL, reader, (void *)(i + 1));
	pthread_join(w, NULL);
	if (!auto_compact)
		pthread_join(c, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	CHECK_INT(atomic_load(&failures), 0);
	hg_index_stats st;
	CHECK_INT(hg_index_stats_get(idx, &st), HG_OK);
	CHECK_INT(st.entries, STABLE);
	if (auto_compact) {
		/* 36,000 writes against 4,000 entries: the policy must have
		 * fired (a quarter of the base is 1,000). The compaction runs on
		 * the index's own thread, which a loaded machine (or TSan) may
		 * not have scheduled yet: wait for it, boundedly. */
		for (int waited = 0; st.compactions == 0 && waited < 6000; waited++) {
			nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
			CHECK_INT(hg_index_stats_get(idx, &st), HG_OK);
		}
		CHECK(st.compactions > 0);
		CHECK_INT(st.auto_status, HG_OK);
	}
	hg_index_free(idx); /* waits for a compaction still running */
	idx = NULL;
}

int main(void)
{
	run(0);
	run(1);
	CHECK_INT(hg_index_auto_compact(NULL, 1), HG_ERR_INVALID_ARG);
	return hgt_finish("test_index_concurrency");
}
