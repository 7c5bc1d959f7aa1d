/*
 * test_store_vpdq.c — vpdq entries (one video each, up to 4096 frame
 * tokens) in both store backends, SQLite and a real PostgreSQL server
 * (tests/pg_harness.sh): the longest value imports, re-importing it changes
 * nothing, a value differing in one frame's quality is another entry, reads
 * give the value back byte for byte, and removal by value works. PostgreSQL
 * keeps vpdq entries unique through an MD5 index (migration 4); before it,
 * any value over ~40 frames failed ("index row requires ... bytes").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hashgate/store.h"
#include "hashgate/vpdq.h"
#include "pg_harness.h"

/* A vpdq value of n frames in the longest token form, frame 0's quality q. */
static char *video_value(size_t n, int q, unsigned seed)
{
	char *v = malloc(n * (HG_VPDQ_TOKEN_MAX + 1) + 1);
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		hg_vpdq_frame f = {{{0}}, i ? 90 : q, (int64_t)i * 30 + 990000000, (double)i};
		for (int w = 0; w < 4; w++) {
			seed = seed * 1664525u + 1013904223u;
			f.hash.w[w] = (uint64_t)seed << 32 | (seed ^ (uint64_t)i * 7919u);
		}
		if (i)
			v[len++] = ' ';
		len += hg_vpdq_token_format(&f, 4, v + len, HG_VPDQ_TOKEN_MAX + 1);
	}
	v[len] = '\0';
	return v;
}

struct found {
	const char *want;
	int n, same;
};

static int find_value(void *ctx, const hg_entry *e)
{
	struct found *f = ctx;
	f->n++;
	f->same += e->signal == HG_SIGNAL_VPDQ && !strcmp(e->value, f->want);
	return 0;
}

static void suite(const char *url, const char *tmpdir, int is_pg, void *ctx)
{
	(void)tmpdir;
	(void)ctx;
	printf("%s\n", is_pg ? "postgres" : "sqlite");
	hg_store *st = NULL;
	CHECK_INT(hg_store_open(url, &st), HG_OK);
	if (!st)
		return;
	hg_bank spec;
	hg_bank_init(&spec);
	snprintf(spec.tenant, sizeof spec.tenant, "t");
	snprintf(spec.name, sizeof spec.name, "videos");
	CHECK_INT(hg_store_bank_create(st, &spec, NULL, NULL), HG_OK);
	char *big = video_value(HG_VPDQ_MAX_FRAMES, 90, 1), *big2 = video_value(HG_VPDQ_MAX_FRAMES, 20, 1);
	char *mid = video_value(300, 90, 2);
	CHECK(strlen(big) > 340000 && strlen(big) <= HG_SIGNAL_VALUE_MAX);
	const char *values[3] = {big, big2, mid};
	for (int round = 0; round < 2; round++) {
		hg_import *imp = NULL;
		CHECK_INT(hg_import_begin(st, "t", "videos", "test", NULL, &imp), HG_OK);
		for (int i = 0; i < 3 && imp; i++) {
			hg_entry_input e = {HG_SIGNAL_VPDQ, values[i], strlen(values[i]), NULL, NULL};
			CHECK_INT(hg_import_add(imp, &e), HG_OK);
		}
		hg_change_result r = {0};
		hg_status s = imp ? hg_import_commit(imp, &r) : HG_ERR_INTERNAL;
		if (s)
			fprintf(stderr, "import: %s\n", hg_store_errmsg(st));
		CHECK_INT(s, HG_OK);
		CHECK_INT(r.added, round == 0 ? 3 : 0);
		CHECK_INT(r.unchanged, round == 0 ? 0 : 3);
	}
	struct found f = {big2, 0, 0};
	CHECK_INT(hg_store_entries(st, "t", "videos", 0, 0, find_value, &f), HG_OK);
	CHECK(f.n == 3 && f.same == 1);
	hg_entry_input rm = {HG_SIGNAL_VPDQ, big, strlen(big), NULL, NULL};
	hg_change_result r = {0};
	CHECK_INT(hg_store_remove(st, "t", "videos", &rm, 1, "test", "gone", &r), HG_OK);
	CHECK(r.removed == 1 && r.not_found == 0);
	f = (struct found){big, 0, 0};
	CHECK_INT(hg_store_entries(st, "t", "videos", 0, 0, find_value, &f), HG_OK);
	CHECK(f.n == 2 && f.same == 0);
	CHECK_INT(hg_store_check(st), HG_OK);
	free(big);
	free(big2);
	free(mid);
	hg_store_free(st);
}

int main(void)
{
	CHECK(hgt_each_backend("store_vpdq", suite, NULL) == 0);
	return hgt_finish("test_store_vpdq");
}
