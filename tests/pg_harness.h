/*
 * pg_harness.h — C tests' handle on tests/pg_harness.sh: start a throwaway
 * PostgreSQL server (as the `postgres` user, loopback, temp dir) and stop it.
 *
 *   char url[256], dir[256];
 *   int rc = hgt_pg_start(url, sizeof url, dir, sizeof dir);
 *   rc == 0: use url, then hgt_pg_stop(dir); rc == 77: no server binaries
 *   (the script said so on stderr); rc == 1: it failed — fail the test.
 *
 * Or run one suite on both backends:
 *   CHECK(hgt_each_backend("mytest", suite, ctx) == 0);
 */
#ifndef HG_TEST_PG_HARNESS_H
#define HG_TEST_PG_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static inline int hgt_pg_start(char *url, size_t urlsz, char *dir, size_t dirsz)
{
	const char *src = getenv("HG_SOURCE_DIR");
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "sh '%s/tests/pg_harness.sh' start", src ? src : ".");
	FILE *p = popen(cmd, "r");
	if (!p)
		return 1;
	char line[512];
	url[0] = dir[0] = '\0';
	while (fgets(line, sizeof line, p)) {
		char *q1 = strchr(line, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
		if (!q1 || !q2)
			continue;
		*q2 = '\0';
		if (!strncmp(line, "HG_PG_URL=", 10))
			snprintf(url, urlsz, "%s", q1 + 1);
		else if (!strncmp(line, "HG_PG_DIR=", 10))
			snprintf(dir, dirsz, "%s", q1 + 1);
	}
	int st = pclose(p);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	if (rc == 0 && (!url[0] || !dir[0]))
		rc = 1;
	return rc;
}

static inline void hgt_pg_stop(const char *dir)
{
	const char *src = getenv("HG_SOURCE_DIR");
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "sh '%s/tests/pg_harness.sh' stop '%s'", src ? src : ".", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "pg_harness: stop failed for %s\n", dir);
}

/* A test suite run once per backend: `url` opens the store, `tmpdir` is a
 * fresh directory for files, is_pg says which backend it is. */
typedef void (*hgt_backend_fn)(const char *url, const char *tmpdir, int is_pg, void *ctx);

/* Runs fn on a SQLite file in a temporary directory, then on a throwaway
 * PostgreSQL server. Returns 0, or 1 when PostgreSQL failed to start (the
 * test must fail); absent server binaries print a SKIP line and return 0. */
static inline int hgt_each_backend(const char *name, hgt_backend_fn fn, void *ctx)
{
	char tmpdir[256];
	snprintf(tmpdir, sizeof tmpdir, "/tmp/hg_%s.XXXXXX", name);
	if (!mkdtemp(tmpdir))
		return 1;
	char url[320];
	snprintf(url, sizeof url, "%s/store.db", tmpdir);
	fn(url, tmpdir, 0, ctx);
	char pgurl[256], pgdir[256];
	int rc = hgt_pg_start(pgurl, sizeof pgurl, pgdir, sizeof pgdir);
	if (rc == 77) {
		printf("SKIP postgres half: PostgreSQL server binaries not installed\n");
		rc = 0;
	} else if (rc != 0) {
		fprintf(stderr, "FAIL: could not start PostgreSQL (see above)\n");
		rc = 1;
	} else {
		fn(pgurl, tmpdir, 1, ctx);
		hgt_pg_stop(pgdir);
	}
	char cmd[320];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tmpdir);
	return rc;
}

#endif
