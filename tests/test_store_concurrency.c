/*
 * test_store_concurrency.c — a writer process imports batches and removes
 * earlier ones while this process reads the store and matches through a
 * bank index that follows the change feed. No reader may ever see a
 * half-applied import or removal:
 *   - every store snapshot holds BASE + k*BATCH live entries;
 *   - after every refresh the index holds BASE + k*BATCH entries, and for
 *     every batch its first and last hash either both match or both do not;
 *   - at the end the followed index equals a freshly loaded one and every
 *     batch is matched exactly when it was not removed.
 * Run on SQLite and on a throwaway PostgreSQL server.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "hashgate/bankindex.h"
#include "pg_harness.h"
#include "store_util.h"

#define BASE 1000
#define BATCH 2000
#define ROUNDS 15

/* Batch r is removed by the writer in round r + 2 when r % 3 == 0. */
static int batch_removed(int r, int rounds_done)
{
	return r % 3 == 0 && r + 2 < rounds_done;
}

static int writer(const char *url)
{
	hg_store *st;
	if (hg_store_open(url, &st))
		return 2;
	hg_entry_input *in = calloc(BATCH, sizeof *in);
	char(*vals)[65] = calloc(BATCH, 65);
	if (!in || !vals)
		return 2;
	for (int r = 0; r < ROUNDS; r++) {
		hg_change_result res;
		if (hgt_import_fake(st, "conc", 500 + (uint64_t)r, 0, BATCH, &res, NULL, NULL, 0) ||
		    res.added != BATCH) {
			fprintf(stderr, "writer import %d: %s\n", r, hg_store_errmsg(st));
			return 1;
		}
		int old = r - 2;
		if (old >= 0 && old % 3 == 0) {
			for (int i = 0; i < BATCH; i++) {
				hgt_fake_pdq(500 + (uint64_t)old, (uint64_t)i, vals[i]);
				in[i] = (hg_entry_input){HG_SIGNAL_PDQ, vals[i], 64, NULL, NULL};
			}
			if (hg_store_remove(st, NULL, "conc", in, BATCH, "writer", "test", &res) ||
			    res.removed != BATCH) {
				fprintf(stderr, "writer remove %d: %s\n", old, hg_store_errmsg(st));
				return 1;
			}
		}
	}
	free(in);
	free(vals);
	hg_store_free(st);
	return 0;
}

static int count_entry(void *ctx, const hg_entry *e)
{
	(void)e;
	++*(int64_t *)ctx;
	return 0;
}

static int matches(hg_bank_index *bi, hg_index_results *res, int batch, int i)
{
	char hex[65];
	hg_pdq h;
	hgt_fake_pdq(500 + (uint64_t)batch, (uint64_t)i, hex);
	hg_pdq_from_hex(hex, 64, &h);
	if (hg_index_query(hg_bank_index_pdq(bi), &h, 1, 0, 0, res))
		return -1;
	return hg_index_results_count(res) == 1;
}

static void suite(const char *url, const char *tmpdir, int is_pg, void *ctx)
{
	(void)tmpdir;
	(void)ctx;
	printf("-- concurrency on %s\n", is_pg ? "postgres" : "sqlite");
	hg_store *st;
	hg_bank b;
	hg_bank_init(&b);
	snprintf(b.name, sizeof b.name, "conc");
	CHECK_INT(hg_store_open(url, &st), HG_OK);
	CHECK_INT(hg_store_bank_create(st, &b, "test", NULL), HG_OK);
	hg_change_result r;
	CHECK_INT(hgt_import_fake(st, "conc", 1, 0, BASE, &r, NULL, NULL, 0), HG_OK);
	hg_bank_index *bi = NULL;
	hg_index_results *res = NULL;
	CHECK_INT(hg_bank_index_load(st, NULL, "conc", NULL, NULL, &bi), HG_OK);
	CHECK_INT(hg_index_results_new(&res), HG_OK);
	if (!bi || !res)
		return;

	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(writer(url));
	int status = 0, done = 0, reads = 0, torn = 0;
	while (!done) {
		done = waitpid(pid, &status, WNOHANG) == pid;
		/* the store: one snapshot */
		int64_t n = 0;
		CHECK_INT(hg_store_entries(st, NULL, "conc", 0, 0, count_entry, &n), HG_OK);
		if ((n - BASE) % BATCH != 0)
			torn++;
		/* the followed index */
		CHECK_INT(hg_bank_index_refresh(bi, st, NULL), HG_OK);
		hg_index_stats is;
		CHECK_INT(hg_index_stats_get(hg_bank_index_pdq(bi), &is), HG_OK);
		if (((int64_t)is.entries - BASE) % BATCH != 0)
			torn++;
		for (int k = 0; k < ROUNDS; k++) {
			int first = matches(bi, res, k, 0), last = matches(bi, res, k, BATCH - 1);
			CHECK(first >= 0 && last >= 0);
			if (first != last)
				torn++;
		}
		reads++;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_INT(torn, 0);
	CHECK(reads > 1);

	/* the end state: followed == fresh, and exactly the right batches */
	CHECK_INT(hg_bank_index_refresh(bi, st, NULL), HG_OK);
	hg_bank_index *fresh = NULL;
	CHECK_INT(hg_bank_index_load(st, NULL, "conc", NULL, NULL, &fresh), HG_OK);
	hg_index_stats a, f;
	CHECK_INT(hg_index_stats_get(hg_bank_index_pdq(bi), &a), HG_OK);
	CHECK_INT(hg_index_stats_get(hg_bank_index_pdq(fresh), &f), HG_OK);
	int removed = 0;
	for (int k = 0; k < ROUNDS; k++)
		removed += batch_removed(k, ROUNDS);
	CHECK_INT(a.entries, BASE + (ROUNDS - removed) * BATCH);
	CHECK_INT(f.entries, a.entries);
	CHECK_INT(hg_bank_index_version(bi), hg_bank_index_version(fresh));
	for (int k = 0; k < ROUNDS; k++)
		for (int i = 0; i < BATCH; i += 97)
			CHECK_INT(matches(bi, res, k, i), !batch_removed(k, ROUNDS));
	printf("  %d reads during %d imports and %d removals; none torn\n", reads, ROUNDS, removed);
	hg_bank_index_free(fresh);
	hg_bank_index_free(bi);
	hg_index_results_free(res);
	CHECK_INT(hg_store_check(st), HG_OK);
	hg_store_free(st);
}

int main(void)
{
	CHECK(hgt_each_backend("store_concurrency", suite, NULL) == 0);
	return hgt_finish("test_store_concurrency");
}
