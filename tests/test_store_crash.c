/*
 * test_store_crash.c — an import killed half-way leaves the bank as it was.
 *
 * A child process imports a large list (1M entries on SQLite in a release
 * build) and the parent SIGKILLs it at a random point: while staging, while
 * committing, or after it finished. Reopening, the bank must be either
 * untouched (same version, same entries) or complete (version + 1, every
 * entry), and the integrity check (PRAGMA integrity_check, or amcheck on
 * PostgreSQL, plus the bank invariants) must be clean. Repeated a few times
 * per backend. Sizes: HG_CRASH_ENTRIES overrides; sanitizer builds use
 * fewer entries to keep the suite's time bounded.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pg_harness.h"
#include "store_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define HG_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HG_SANITIZED 1
#endif
#endif
#ifndef HG_SANITIZED
#define HG_SANITIZED 0
#endif

static void tick(void *ctx, uint64_t done)
{
	(void)done;
	int fd = *(int *)ctx;
	if (write(fd, "x", 1) != 1)
		_exit(3);
}

struct count {
	int64_t n;
};

static int count_entry(void *ctx, const hg_entry *e)
{
	(void)e;
	((struct count *)ctx)->n++;
	return 0;
}

/* One round: returns 0 untouched, 1 complete, -1 on a failed check. */
static int round_once(const char *url, int round, uint64_t n)
{
	hg_store *st;
	hg_bank before, after;
	if (hg_store_open(url, &st) || hg_store_bank_get(st, NULL, "crash", &before)) {
		fprintf(stderr, "round %d: %s\n", round, hg_store_errmsg(st));
		hg_store_free(st);
		return -1;
	}
	hg_store_free(st);

	int fd[2];
	if (pipe(fd))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fd[0]);
		hg_store *cst;
		if (hg_store_open(url, &cst))
			_exit(2);
		hg_change_result r;
		hg_status s = hgt_import_fake(cst, "crash", 1000 + (uint64_t)round, 0, n, &r, tick,
					      &fd[1], n / 10);
		hg_store_free(cst);
		_exit(s == HG_OK ? 0 : 1);
	}
	close(fd[1]);
	/* Kill after a random number of the 11 progress ticks (10 while
	 * staging, 1 just before commit), then a random extra delay. Round 0
	 * always waits for the last tick, so the commit itself is hit. */
	int ticks = round == 0 ? 11 : rand() % 12, got = 0;
	char c;
	while (got < ticks && read(fd[0], &c, 1) == 1)
		got++;
	usleep((useconds_t)(rand() % (round == 0 ? 300000 : 30000)));
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	close(fd[0]);
	int finished = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		fprintf(stderr, "round %d: the child failed by itself (exit %d)\n", round,
			WEXITSTATUS(status));
		return -1;
	}

	if (hg_store_open(url, &st) || hg_store_bank_get(st, NULL, "crash", &after)) {
		fprintf(stderr, "round %d reopen: %s\n", round, hg_store_errmsg(st));
		hg_store_free(st);
		return -1;
	}
	int rc;
	struct count cnt = {0};
	CHECK_INT(hg_store_entries(st, NULL, "crash", 0, 0, count_entry, &cnt), HG_OK);
	if (after.version == before.version) {
		CHECK_INT(after.live_entries, before.live_entries);
		CHECK(!finished);
		rc = 0;
	} else {
		CHECK_INT(after.version, before.version + 1);
		CHECK_INT(after.live_entries, before.live_entries + (int64_t)n);
		rc = 1;
	}
	CHECK_INT(cnt.n, after.live_entries);
	hg_status cs = hg_store_check(st);
	if (cs)
		fprintf(stderr, "round %d check: %s\n", round, hg_store_errmsg(st));
	CHECK_INT(cs, HG_OK);
	printf("  round %d: killed after %d/%d ticks -> %s (v%lld, %lld entries)\n", round, got,
	       ticks, rc ? "complete" : "untouched", (long long)after.version,
	       (long long)after.live_entries);
	hg_store_free(st);
	return rc;
}

static void crash_suite(const char *url, uint64_t n, int rounds)
{
	printf("-- crash test on %s: %d rounds of %llu entries\n", url, rounds,
	       (unsigned long long)n);
	hg_store *st;
	hg_bank b;
	hg_bank_init(&b);
	snprintf(b.name, sizeof b.name, "crash");
	CHECK_INT(hg_store_open(url, &st), HG_OK);
	CHECK_INT(hg_store_bank_create(st, &b, "test", NULL), HG_OK);
	hg_change_result r;
	CHECK_INT(hgt_import_fake(st, "crash", 1, 0, 1000, &r, NULL, NULL, 0), HG_OK);
	hg_store_free(st);
	for (int i = 0; i < rounds; i++)
		CHECK(round_once(url, i, n) >= 0);
}

static void crash_backend(const char *url, const char *tmpdir, int is_pg, void *ctx)
{
	(void)tmpdir;
	const uint64_t *n = ctx;
	crash_suite(url, n[is_pg], 3);
}

int main(void)
{
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	printf("seed %u\n", seed);
	srand(seed);
	uint64_t n[2] = {HG_SANITIZED ? 200000 : 1000000, HG_SANITIZED ? 50000 : 200000};
	const char *env = getenv("HG_CRASH_ENTRIES");
	if (env && atoll(env) > 0)
		n[0] = n[1] = (uint64_t)atoll(env);
	CHECK(hgt_each_backend("store_crash", crash_backend, n) == 0);
	return hgt_finish("test_store_crash");
}
