/*
 * bench_store.c — how fast banks load: import rate (entries/s) into SQLite
 * and PostgreSQL at 1M entries, and cold start (open store -> bank index
 * ready: every entry read, parsed and indexed by hg_bank_index_load) at 1M
 * and, with --big, 10M entries.
 *
 * Each figure is printed next to a baseline run in the same process on the
 * same machine — normalising the same values in memory (import), or parsing
 * them from memory and building the same hg_index (cold start) — so the
 * ratio stays meaningful on a busy machine. Client CPU time is printed too:
 * on a loaded machine wall time stretches, CPU time does not (the database
 * server's own CPU is not included for PostgreSQL).
 *
 *   bench_store [--entries N] [--big] [--pg URL | --no-pg | --only-pg]
 * Without --pg it starts a throwaway server with tests/pg_harness.sh (run
 * from the source tree, or set HG_SOURCE_DIR).
 */
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <sys/resource.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tests/pg_harness.h"
#include "../tests/store_util.h"
#include "hashgate/bankindex.h"
#include "hashgate/pdq.h"
#include "hashgate/store.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) this process has used: on a shared, loaded
 * machine wall time stretches, this does not. */
static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* The PostgreSQL server's CPU seconds so far: the postmaster and its live
 * children (the bench's own backend among them), from /proc. 0 when the
 * server was not started by this bench. */
static const char *pg_datadir;

static double proc_cpu(const char *pid, long *ppid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long ut = 0, st = 0;
	long pp = 0;
	if (!p || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &pp, &ut,
			 &st) != 3)
		return 0;
	*ppid = pp;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double server_cpu(void)
{
	if (!pg_datadir)
		return 0;
	char path[300];
	long master = 0, pp;
	snprintf(path, sizeof path, "%s/data/postmaster.pid", pg_datadir);
	FILE *f = fopen(path, "r");
	if (!f || fscanf(f, "%ld", &master) != 1) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	char me[24];
	snprintf(me, sizeof me, "%ld", master);
	double total = proc_cpu(me, &pp);
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		double c = proc_cpu(de->d_name, &pp);
		if (pp == master)
			total += c;
	}
	if (d)
		closedir(d);
	return total;
}

/* Baseline for import: generate and normalise n values, no store. */
static double baseline_normalise(uint64_t n)
{
	char v[65], out[65];
	double t0 = now();
	unsigned sink = 0;
	for (uint64_t i = 0; i < n; i++) {
		hgt_fake_pdq(7, i, v);
		hg_signal_normalize(HG_SIGNAL_PDQ, v, 64, out, sizeof out, NULL, NULL, 0);
		sink += (unsigned char)out[0];
	}
	double t = now() - t0;
	if (sink == 1)
		puts("");
	return t;
}

/* Baseline for cold start: parse n hex values already in memory and build
 * the same index from them. */
static double baseline_parse(uint64_t n)
{
	char v[65];
	hg_pdq *hashes = malloc(sizeof *hashes * (n ? n : 1));
	uint64_t *ids = malloc(sizeof *ids * (n ? n : 1));
	hg_index *idx = NULL;
	double t = 0;
	if (hashes && ids) {
		double t0 = now();
		for (uint64_t i = 0; i < n; i++) {
			hgt_fake_pdq(7, i, v);
			hg_pdq_from_hex(v, 64, &hashes[i]);
			ids[i] = i + 1;
		}
		hg_index_build(NULL, hashes, ids, n, &idx);
		t = now() - t0;
	}
	hg_index_free(idx);
	free(hashes);
	free(ids);
	return t;
}

static int bench_backend(const char *url, uint64_t n, int cold_only)
{
	hg_store *st;
	if (hg_store_open(url, &st)) {
		fprintf(stderr, "open %s: %s\n", url, hg_store_errmsg(st));
		hg_store_free(st);
		return 1;
	}
	char bank[32];
	snprintf(bank, sizeof bank, "bench%llu", (unsigned long long)n);
	hg_bank b;
	hg_bank_init(&b);
	snprintf(b.name, sizeof b.name, "%s", bank);
	if (hg_store_bank_create(st, &b, "bench", NULL)) {
		fprintf(stderr, "create: %s\n", hg_store_errmsg(st));
		hg_store_free(st);
		return 1;
	}
	double base = baseline_normalise(n);
	double t0 = now(), c0 = cpu(), s0 = server_cpu();
	hg_change_result r;
	if (hgt_import_fake(st, bank, 7, 0, n, &r, NULL, NULL, 0) || (uint64_t)r.added != n) {
		fprintf(stderr, "import: %s\n", hg_store_errmsg(st));
		hg_store_free(st);
		return 1;
	}
	double t = now() - t0, c = cpu() - c0, sc = server_cpu() - s0;
	if (!cold_only)
		printf("%-8s import %9llu entries: %6.2f s = %9.0f entries/s, cpu client %.2f s"
		       " + server %.2f s = %9.0f entries per cpu-s (baseline normalise %.2f s;"
		       " ratio %.1fx)\n", hg_store_backend(st), (unsigned long long)n, t, n / t, c, sc,
		       n / (c + sc), base, t / base);
	/* re-import: all unchanged */
	t0 = now();
	if (!cold_only && hgt_import_fake(st, bank, 7, 0, n, &r, NULL, NULL, 0) == HG_OK)
		printf("%-8s re-import (idempotent, 0 added): %6.2f s\n", hg_store_backend(st),
		       now() - t0);
	hg_store_free(st);

	/* cold start: open the store, load the bank index, ready to match */
	base = baseline_parse(n);
	t0 = now();
	c0 = cpu();
	s0 = 0;
	hg_bank_index *bi = NULL;
	if (hg_store_open(url, &st) || ((s0 = server_cpu()), 0) ||
	    hg_bank_index_load(st, NULL, bank, NULL, NULL, &bi)) {
		fprintf(stderr, "cold start: %s\n", hg_store_errmsg(st));
		hg_store_free(st);
		return 1;
	}
	t = now() - t0;
	c = cpu() - c0;
	sc = server_cpu() - s0;
	hg_index_stats is = {0};
	hg_index_stats_get(hg_bank_index_pdq(bi), &is);
	printf("%-8s cold start %9zu entries: %6.2f s, cpu client %.2f s + server %.2f s, "
	       "index %zu MB (baseline parse+build %.2f s; ratio %.1fx)%s\n", hg_store_backend(st),
	       is.entries, t, c, sc, is.bytes >> 20, base, t / base,
	       is.entries == n ? "" : "  MISSING ENTRIES");
	hg_bank_index_free(bi);
	hg_store_free(st);
	return is.entries == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint64_t n = 1000000;
	int big = 0, no_pg = 0, only_pg = 0;
	const char *pg = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--entries") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--big"))
			big = 1;
		else if (!strcmp(argv[i], "--pg") && i + 1 < argc)
			pg = argv[++i];
		else if (!strcmp(argv[i], "--no-pg"))
			no_pg = 1;
		else if (!strcmp(argv[i], "--only-pg"))
			only_pg = 1;
		else {
			fprintf(stderr, "usage: bench_store [--entries N] [--big] [--pg URL | --no-pg |"
				" --only-pg]\n");
			return 2;
		}
	}
	char dir[] = "/tmp/hg_bench_store.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char url[128];
	snprintf(url, sizeof url, "%s/bench.db", dir);
	int rc = only_pg ? 0 : bench_backend(url, n, 0);
	if (big && !rc && !only_pg)
		rc = bench_backend(url, 10 * n, 1);

	char pgurl[256] = "", pgdir[256] = "";
	if (!no_pg && !pg) {
		int prc = hgt_pg_start(pgurl, sizeof pgurl, pgdir, sizeof pgdir);
		if (prc == 0) {
			pg = pgurl;
			pg_datadir = pgdir;
		}
		else
			fprintf(stderr, "PostgreSQL not started (%s); --pg URL or --no-pg\n",
				prc == 77 ? "binaries absent" : "failed");
	}
	if (pg && !rc) {
		rc = bench_backend(pg, n, 0);
		if (big && !rc)
			rc = bench_backend(pg, 10 * n, 1);
	}
	if (pgdir[0])
		hgt_pg_stop(pgdir);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	return rc;
}
