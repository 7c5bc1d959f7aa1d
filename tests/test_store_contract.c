/*
 * test_store_contract.c — one contract for every store backend, run against
 * SQLite (a temp file) and a real PostgreSQL server started for the test by
 * tests/pg_harness.sh. What a bank promises: versions bumped once per change,
 * idempotent re-import, soft delete with audit fields, export at any past
 * version, the change feed, strict/lenient list import with line numbers,
 * tenant isolation, and that an open import is invisible to other readers.
 *
 * The PostgreSQL half is skipped only when the server binaries are absent
 * (said on stdout); a server that fails to start fails the test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "hashgate/store.h"
#include "pg_harness.h"
#include "store/schema.h"

#define PDQ_A "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
#define PDQ_B "0000000000000000000000000000000000000000000000000000000000000001"
#define MD5_A "d41d8cd98f00b204e9800998ecf8427e"
#define SHA256_A "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"

struct collect {
	int n;
	char vals[64][80];
	char ext[64][40];
	int removed[64];
	char removed_by[64][40];
};

static int collect_entry(void *ctx, const hg_entry *e)
{
	struct collect *c = ctx;
	if (c->n < 64) {
		snprintf(c->vals[c->n], sizeof c->vals[0], "%s:%s", hg_signal_name(e->signal), e->value);
		snprintf(c->ext[c->n], sizeof c->ext[0], "%s", e->external_id ? e->external_id : "");
		c->removed[c->n] = e->removed_version != 0;
		snprintf(c->removed_by[c->n], sizeof c->removed_by[0], "%s",
			 e->removed_by ? e->removed_by : "");
	}
	c->n++;
	return 0;
}

static int collect_change(void *ctx, const hg_entry *e, int removed)
{
	struct collect *c = ctx;
	collect_entry(ctx, e);
	c->removed[c->n - 1] = removed;
	return 0;
}

static int has(const struct collect *c, const char *v)
{
	for (int i = 0; i < c->n && i < 64; i++)
		if (!strcmp(c->vals[i], v))
			return 1;
	return 0;
}

static int count_bank(void *ctx, const hg_bank *b)
{
	(void)b;
	++*(int *)ctx;
	return 0;
}

struct hist {
	int n;
	char kinds[16][16];
};

static int collect_hist(void *ctx, const hg_bank_version *v)
{
	struct hist *h = ctx;
	if (h->n < 16)
		snprintf(h->kinds[h->n], sizeof h->kinds[0], "%s", v->kind);
	h->n++;
	return 0;
}

struct badlines {
	int n;
	int64_t lines[16];
};

static int note_bad(void *ctx, int64_t line, const char *msg)
{
	struct badlines *b = ctx;
	(void)msg;
	if (b->n < 16)
		b->lines[b->n] = line;
	b->n++;
	return 0;
}

struct wctx {
	FILE *out;
	hg_list_format f;
	int failed;
};

static int write_entry(void *ctx, const hg_entry *e)
{
	struct wctx *w = ctx;
	char line[4096];
	size_t n = hg_list_format_entry(w->f, e, line, sizeof line);
	if (!n || fwrite(line, 1, n, w->out) != n)
		w->failed = 1;
	return 0;
}

struct idc {
	int n;
	int64_t ids[8];
};

static int collect_id(void *ctx, const hg_entry *e)
{
	struct idc *c = ctx;
	if (c->n < 8)
		c->ids[c->n++] = e->id;
	return 0;
}

static hg_entry_input in(hg_signal s, const char *v, const char *ext)
{
	return (hg_entry_input){s, v, strlen(v), ext, NULL};
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static hg_bank mkbank(const char *tenant, const char *name)
{
	hg_bank b;
	hg_bank_init(&b);
	snprintf(b.tenant, sizeof b.tenant, "%s", tenant);
	snprintf(b.name, sizeof b.name, "%s", name);
	return b;
}

static void contract(const char *url, const char *tmpdir)
{
	printf("-- contract on %s\n", url);
	hg_store *st = NULL;
	hg_status s = hg_store_open(url, &st);
	if (s)
		fprintf(stderr, "open: %s\n", hg_store_errmsg(st));
	CHECK_INT(s, HG_OK);
	if (s) {
		hg_store_free(st);
		return;
	}
	int sv = 0;
	CHECK_INT(hg_store_schema_version(st, &sv), HG_OK);
	CHECK_INT(sv, HG__SCHEMA_VERSION);

	/* A second handle: migrations are idempotent, and it reads while the
	 * first writes. */
	hg_store *st2 = NULL;
	CHECK_INT(hg_store_open(url, &st2), HG_OK);

	/* banks */
	hg_bank spec = mkbank("t1", "hotline"), b;
	snprintf(spec.description, sizeof spec.description, "a hotline's list");
	CHECK_INT(hg_store_bank_create(st, &spec, "alice", &b), HG_OK);
	CHECK_INT(b.version, 1);
	CHECK(b.id > 0);
	CHECK_INT(hg_store_bank_create(st, &spec, "alice", NULL), HG_ERR_EXISTS);
	hg_bank badname = mkbank("t1", "no spaces");
	CHECK_INT(hg_store_bank_create(st, &badname, NULL, NULL), HG_ERR_INVALID_ARG);
	hg_bank other = mkbank("t2", "hotline");
	CHECK_INT(hg_store_bank_create(st, &other, NULL, NULL), HG_OK); /* same name, other tenant */
	CHECK_INT(hg_store_bank_get(st, "t3", "hotline", &b), HG_ERR_NOT_FOUND);
	CHECK_INT(hg_store_bank_get(st, "t1", "hotline", &b), HG_OK);
	CHECK_STR(b.description, "a hotline's list");
	CHECK_INT(b.action, HG_ACTION_BLOCK);
	CHECK_INT(b.radius, 31);
	int nb = 0;
	CHECK_INT(hg_store_bank_list(st, "t1", count_bank, &nb), HG_OK);
	CHECK_INT(nb, 1);
	nb = 0;
	CHECK_INT(hg_store_bank_list(st, NULL, count_bank, &nb), HG_OK);
	CHECK_INT(nb, 2);

	/* import; an open import is invisible to another reader */
	hg_import *imp;
	CHECK_INT(hg_import_begin(st, "t1", "hotline", "alice", "ncmec-2026", &imp), HG_OK);
	hg_entry_input e1 = in(HG_SIGNAL_PDQ, PDQ_A, "ext-1"), e2 = in(HG_SIGNAL_MD5, MD5_A, NULL);
	hg_entry_input e3 = in(HG_SIGNAL_SHA256, SHA256_A, "ext-3");
	hg_entry_input ebad = in(HG_SIGNAL_PDQ, "xyz", NULL);
	CHECK_INT(hg_import_add(imp, &e1), HG_OK);
	CHECK_INT(hg_import_add(imp, &e2), HG_OK);
	CHECK_INT(hg_import_add(imp, &ebad), HG_ERR_PARSE);
	CHECK_INT(hg_import_add(imp, &e3), HG_OK);
	CHECK_INT(hg_import_add(imp, &e1), HG_OK); /* duplicate within the import */
	if (strncmp(url, "postgres", 8) != 0) {
		/* SQLite: readers proceed while the writer holds the lock. */
		CHECK_INT(hg_store_bank_get(st2, "t1", "hotline", &b), HG_OK);
		CHECK_INT(b.version, 1);
		CHECK_INT(b.live_entries, 0);
	}
	hg_change_result r;
	CHECK_INT(hg_import_commit(imp, &r), HG_OK);
	CHECK_INT(r.added, 3);
	CHECK_INT(r.unchanged, 1);
	CHECK_INT(r.version, 2);
	CHECK_INT(hg_store_bank_get(st2, "t1", "hotline", &b), HG_OK);
	CHECK_INT(b.version, 2);
	CHECK_INT(b.live_entries, 3);

	/* idempotent re-import: nothing new, no new version */
	CHECK_INT(hg_import_begin(st, "t1", "hotline", "bob", NULL, &imp), HG_OK);
	CHECK_INT(hg_import_add(imp, &e3), HG_OK);
	CHECK_INT(hg_import_add(imp, &e1), HG_OK);
	CHECK_INT(hg_import_commit(imp, &r), HG_OK);
	CHECK_INT(r.added, 0);
	CHECK_INT(r.unchanged, 2);
	CHECK_INT(r.version, 2);

	/* an aborted import changes nothing */
	hg_entry_input e4 = in(HG_SIGNAL_PDQ, PDQ_B, NULL);
	CHECK_INT(hg_import_begin(st, "t1", "hotline", "bob", NULL, &imp), HG_OK);
	CHECK_INT(hg_import_add(imp, &e4), HG_OK);
	hg_import_abort(imp);
	CHECK_INT(hg_store_bank_get(st, "t1", "hotline", &b), HG_OK);
	CHECK_INT(b.version, 2);
	CHECK_INT(b.live_entries, 3);

	/* soft delete: v3 */
	hg_entry_input rm[2] = {in(HG_SIGNAL_MD5, "D41D8CD98F00B204E9800998ECF8427E", NULL),
				in(HG_SIGNAL_PDQ, PDQ_B, NULL)};
	CHECK_INT(hg_store_remove(st, "t1", "hotline", rm, 2, "carol", "false positive", &r), HG_OK);
	CHECK_INT(r.removed, 1);
	CHECK_INT(r.not_found, 1);
	CHECK_INT(r.version, 3);
	hg_entry_input rmbad = in(HG_SIGNAL_MD5, "nothex", NULL);
	CHECK_INT(hg_store_remove(st, "t1", "hotline", &rmbad, 1, "carol", NULL, &r), HG_ERR_PARSE);
	CHECK_INT(hg_store_remove(st, "t1", "hotline", rm, 1, "carol", NULL, &r), HG_OK);
	CHECK_INT(r.removed, 0); /* already removed: no new version */
	CHECK_INT(r.version, 3);

	/* reads at past versions */
	struct collect c;
	memset(&c, 0, sizeof c);
	CHECK_INT(hg_store_entries(st, "t1", "hotline", 2, 0, collect_entry, &c), HG_OK);
	CHECK_INT(c.n, 3);
	CHECK(has(&c, "md5:" MD5_A));
	memset(&c, 0, sizeof c);
	CHECK_INT(hg_store_entries(st, "t1", "hotline", 0, 0, collect_entry, &c), HG_OK);
	CHECK_INT(c.n, 2);
	CHECK(!has(&c, "md5:" MD5_A));
	CHECK(has(&c, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK_STR(c.ext[0], "ext-1");
	memset(&c, 0, sizeof c);
	CHECK_INT(hg_store_entries(st, "t1", "hotline", 1, 0, collect_entry, &c), HG_OK);
	CHECK_INT(c.n, 0);
	CHECK_INT(hg_store_entries(st, "t1", "hotline", 99, 0, collect_entry, &c), HG_ERR_NOT_FOUND);
	memset(&c, 0, sizeof c);
	CHECK_INT(hg_store_entries(st, "t1", "hotline", 0, 1, collect_entry, &c), HG_OK);
	CHECK_INT(c.n, 3);
	for (int i = 0; i < c.n && i < 64; i++) {
		int is_md5 = !strcmp(c.vals[i], "md5:" MD5_A);
		CHECK_INT(c.removed[i], is_md5);
		CHECK_STR(c.removed_by[i], is_md5 ? "carol" : "");
	}

	/* re-adding a removed value makes a new live row: v4 */
	CHECK_INT(hg_import_begin(st, "t1", "hotline", "dave", NULL, &imp), HG_OK);
	CHECK_INT(hg_import_add(imp, &e2), HG_OK);
	CHECK_INT(hg_import_commit(imp, &r), HG_OK);
	CHECK_INT(r.added, 1);
	CHECK_INT(r.version, 4);

	/* the change feed */
	memset(&c, 0, sizeof c);
	int64_t until = 0;
	CHECK_INT(hg_store_bank_get(st, "t1", "hotline", &b), HG_OK);
	CHECK_INT(hg_store_changes(st, b.id, 2, &until, collect_change, &c), HG_OK);
	CHECK_INT(until, 4);
	CHECK_INT(c.n, 2); /* v4 add of md5, v3 removal of md5 (old row) */
	CHECK_INT(c.removed[0], 0);
	CHECK_INT(c.removed[1], 1);
	memset(&c, 0, sizeof c);
	until = 3;
	CHECK_INT(hg_store_changes(st, b.id, 0, &until, collect_change, &c), HG_OK);
	CHECK_INT(until, 3);
	CHECK_INT(c.n, 4); /* 3 adds (v2) + 1 removal (v3) */
	memset(&c, 0, sizeof c);
	until = 0;
	CHECK_INT(hg_store_changes(st, b.id, 4, &until, collect_change, &c), HG_OK);
	CHECK_INT(c.n, 0);
	CHECK_INT(until, 4);

	/* edit */
	hg_bank ed = mkbank("t1", "hotline");
	ed.action = HG_ACTION_REVIEW;
	ed.radius = 20;
	CHECK_INT(hg_store_bank_update(st, &ed, "erin", &b), HG_OK);
	CHECK_INT(b.version, 5);
	CHECK_INT(b.action, HG_ACTION_REVIEW);
	CHECK_INT(b.radius, 20);
	hg_bank missing = mkbank("t1", "nope");
	CHECK_INT(hg_store_bank_update(st, &missing, NULL, NULL), HG_ERR_NOT_FOUND);

	/* history and stats */
	struct hist h = {0};
	CHECK_INT(hg_store_history(st, "t1", "hotline", collect_hist, &h), HG_OK);
	CHECK_INT(h.n, 5);
	CHECK_STR(h.kinds[0], "create");
	CHECK_STR(h.kinds[1], "import");
	CHECK_STR(h.kinds[2], "remove");
	CHECK_STR(h.kinds[3], "import");
	CHECK_STR(h.kinds[4], "edit");
	hg_bank_stats bs;
	CHECK_INT(hg_store_bank_stats(st, "t1", "hotline", &bs), HG_OK);
	CHECK_INT(bs.version, 5);
	CHECK_INT(bs.live_total, 3);
	CHECK_INT(bs.live[HG_SIGNAL_PDQ], 1);
	CHECK_INT(bs.live[HG_SIGNAL_MD5], 1);
	CHECK_INT(bs.live[HG_SIGNAL_SHA256], 1);
	CHECK_INT(bs.removed_total, 1);
	CHECK_INT(bs.versions, 5);

	/* list files: text, csv, jsonl; bad lines by number; strict */
	hg_bank lb = mkbank("t1", "lists");
	CHECK_INT(hg_store_bank_create(st, &lb, NULL, NULL), HG_OK);
	char path[512];
	snprintf(path, sizeof path, "%s/list.txt", tmpdir);
	write_file(path, "# comment\n" PDQ_A ",id-1\n\nnot-a-hash\n" MD5_A "\nsha256:" SHA256_A
			 ",id-3\n" PDQ_B "\r\n");
	hg_import_opts o = {HG_LIST_TEXT, -1, 1, "frank", "file"};
	struct badlines bl = {0};
	int64_t nbad = 0;
	CHECK_INT(hg_store_import_file(st, "t1", "lists", path, &o, note_bad, &bl, &nbad, &r),
		  HG_ERR_PARSE);
	CHECK_INT(nbad, 1);
	CHECK_INT(bl.n, 1);
	CHECK_INT(bl.lines[0], 4);
	CHECK(strstr(hg_store_errmsg(st), "line 4") != NULL);
	CHECK_INT(hg_store_bank_get(st, "t1", "lists", &b), HG_OK);
	CHECK_INT(b.version, 1); /* strict: nothing imported */
	o.strict = 0;
	memset(&bl, 0, sizeof bl);
	CHECK_INT(hg_store_import_file(st, "t1", "lists", path, &o, note_bad, &bl, &nbad, &r), HG_OK);
	CHECK_INT(nbad, 1);
	CHECK_INT(r.added, 4);
	CHECK_INT(r.version, 2);

	snprintf(path, sizeof path, "%s/list.csv", tmpdir);
	write_file(path, "signal_type,signal_value,external_id,source\n"
			 "pdq," PDQ_A ",\"id, with comma\",csv\n"
			 "sha1,da39a3ee5e6b4b0d3255bfef95601890afd80709,,\n"
			 "md5,zz,bad,\n"
			 "bogus," MD5_A ",x,\n");
	hg_bank cb = mkbank("t1", "csv");
	CHECK_INT(hg_store_bank_create(st, &cb, NULL, NULL), HG_OK);
	hg_import_opts oc = {HG_LIST_CSV, -1, 0, NULL, NULL};
	memset(&bl, 0, sizeof bl);
	CHECK_INT(hg_store_import_file(st, "t1", "csv", path, &oc, note_bad, &bl, &nbad, &r), HG_OK);
	CHECK_INT(r.added, 2);
	CHECK_INT(bl.n, 2);
	CHECK_INT(bl.lines[0], 4);
	CHECK_INT(bl.lines[1], 5);
	memset(&c, 0, sizeof c);
	CHECK_INT(hg_store_entries(st, "t1", "csv", 0, 0, collect_entry, &c), HG_OK);
	CHECK_STR(c.ext[0], "id, with comma");

	snprintf(path, sizeof path, "%s/list.jsonl", tmpdir);
	write_file(path, "{\"signal_type\":\"pdq\",\"signal_value\":\"" PDQ_A "\",\"external_id\":7}\n"
			 "{\"signal_value\":\"" MD5_A "\"}\n"
			 "{broken\n"
			 "[1,2]\n"
			 "{\"signal_type\":\"vpdq\",\"signal_value\":\"" PDQ_A " " PDQ_B "\"}\n");
	hg_bank jb = mkbank("t1", "jsonl");
	CHECK_INT(hg_store_bank_create(st, &jb, NULL, NULL), HG_OK);
	hg_import_opts oj = {HG_LIST_JSONL, -1, 0, NULL, NULL};
	memset(&bl, 0, sizeof bl);
	CHECK_INT(hg_store_import_file(st, "t1", "jsonl", path, &oj, note_bad, &bl, &nbad, &r), HG_OK);
	CHECK_INT(r.added, 3);
	CHECK_INT(bl.n, 2);
	CHECK_INT(bl.lines[0], 3);
	CHECK_INT(bl.lines[1], 4);

	/* export in each format and import back: same entries, same ids */
	struct collect src;
	memset(&src, 0, sizeof src);
	CHECK_INT(hg_store_entries(st, "t1", "jsonl", 0, 0, collect_entry, &src), HG_OK);
	for (int f = 0; f < HG_LIST_FORMAT_COUNT_; f++) {
		snprintf(path, sizeof path, "%s/export.%d", tmpdir, f);
		struct wctx w = {fopen(path, "w"), (hg_list_format)f, 0};
		CHECK(w.out != NULL);
		if (!w.out)
			continue;
		fputs(hg_list_header(w.f), w.out);
		CHECK_INT(hg_store_entries(st, "t1", "jsonl", 0, 0, write_entry, &w), HG_OK);
		fclose(w.out);
		CHECK_INT(w.failed, 0);
		char name[32];
		snprintf(name, sizeof name, "back%d", f);
		hg_bank back = mkbank("t1", name);
		CHECK_INT(hg_store_bank_create(st, &back, NULL, NULL), HG_OK);
		hg_import_opts ob = {w.f, -1, 1, NULL, NULL};
		CHECK_INT(hg_store_import_file(st, "t1", name, path, &ob, NULL, NULL, &nbad, &r), HG_OK);
		CHECK_INT(r.added, src.n);
		memset(&c, 0, sizeof c);
		CHECK_INT(hg_store_entries(st, "t1", name, 0, 0, collect_entry, &c), HG_OK);
		CHECK_INT(c.n, src.n);
		for (int i = 0; i < c.n && i < src.n; i++) {
			CHECK_STR(c.vals[i], src.vals[i]);
			CHECK_STR(c.ext[i], src.ext[i]);
		}
	}

	/* remove by id; an id from another bank is not found */
	memset(&c, 0, sizeof c);
	CHECK_INT(hg_store_bank_get(st, "t1", "jsonl", &b), HG_OK);
	until = 0;
	CHECK_INT(hg_store_changes(st, b.id, 0, &until, collect_change, &c), HG_OK);
	CHECK_INT(c.n, 3);
	struct idc ic = {0};
	CHECK_INT(hg_store_entries(st, "t1", "jsonl", 0, 0, collect_id, &ic), HG_OK);
	int64_t rmids[2] = {ic.ids[0], 999999};
	CHECK_INT(hg_store_remove_ids(st, "t1", "jsonl", rmids, 2, "gus", "dup", &r), HG_OK);
	CHECK_INT(r.removed, 1);
	CHECK_INT(r.not_found, 1);
	CHECK_INT(hg_store_bank_get(st, "t1", "jsonl", &b), HG_OK);
	CHECK_INT(b.live_entries, 2);

	/* import from memory, including an empty body */
	hg_bank mb = mkbank("t1", "membuf");
	CHECK_INT(hg_store_bank_create(st, &mb, NULL, NULL), HG_OK);
	const char body[] = PDQ_A ",m1\nxx\n" MD5_A "\n";
	memset(&bl, 0, sizeof bl);
	CHECK_INT(hg_store_import_buffer(st, "t1", "membuf", body, sizeof body - 1, &o, note_bad, &bl,
					 &nbad, &r), HG_OK);
	CHECK_INT(r.added, 2);
	CHECK_INT(bl.n, 1);
	CHECK_INT(bl.lines[0], 2);
	CHECK_INT(hg_store_import_buffer(st, "t1", "membuf", "", 0, &o, NULL, NULL, &nbad, &r),
		  HG_OK);
	CHECK_INT(r.added, 0);
	CHECK_INT(r.version, 2);

	/* pages of entries by id */
	int64_t after = 0, seen = 0, pages = 0;
	do {
		memset(&c, 0, sizeof c);
		CHECK_INT(hg_store_entries_page(st, "t1", "lists", after, 3, 0, collect_entry, &c,
						&after), HG_OK);
		seen += c.n;
		pages++;
	} while (after && pages < 10);
	CHECK_INT(seen, 4);
	CHECK_INT(pages, 2);
	CHECK_INT(hg_store_entries_page(st, "t1", "lists", 0, 0, 0, collect_entry, &c, NULL),
		  HG_ERR_INVALID_ARG);

	/* delete: the name is freed, the feed reports the removals */
	CHECK_INT(hg_store_bank_get(st, "t1", "membuf", &b), HG_OK);
	int64_t gone_id = b.id;
	CHECK_INT(hg_store_bank_delete(st, "t1", "membuf", "ivy"), HG_OK);
	CHECK_INT(hg_store_bank_get(st, "t1", "membuf", &b), HG_ERR_NOT_FOUND);
	CHECK_INT(hg_store_bank_delete(st, "t1", "membuf", "ivy"), HG_ERR_NOT_FOUND);
	nb = 0;
	CHECK_INT(hg_store_bank_list(st, "t1", count_bank, &nb), HG_OK);
	CHECK_INT(nb, 7); /* hotline, lists, csv, jsonl, back0..back2 */
	memset(&c, 0, sizeof c);
	until = 0;
	CHECK_INT(hg_store_changes(st, gone_id, 2, &until, collect_change, &c), HG_OK);
	CHECK_INT(c.n, 2);
	CHECK_INT(c.removed[0] && c.removed[1], 1);
	CHECK_INT(hg_store_bank_create(st, &mb, NULL, &b), HG_OK); /* the name again */
	CHECK(b.id != gone_id);
	CHECK_INT(b.live_entries, 0);

	if (!strncmp(url, "postgres", 8)) {
		/* An import whose bank is deleted before it commits fails whole
		 * (on SQLite the import's write lock keeps the delete out). */
		hg_bank db = mkbank("t1", "doomed");
		CHECK_INT(hg_store_bank_create(st, &db, NULL, NULL), HG_OK);
		CHECK_INT(hg_import_begin(st, "t1", "doomed", NULL, NULL, &imp), HG_OK);
		CHECK_INT(hg_import_add(imp, &e1), HG_OK);
		CHECK_INT(hg_store_bank_delete(st2, "t1", "doomed", NULL), HG_OK);
		CHECK_INT(hg_import_commit(imp, &r), HG_ERR_NOT_FOUND);
	}

	CHECK_INT(hg_store_check(st), HG_OK);
	if (hg_store_check(st))
		fprintf(stderr, "check: %s\n", hg_store_errmsg(st));
	hg_store_free(st2);
	hg_store_free(st);
}

static void contract_suite(const char *url, const char *tmpdir, int is_pg, void *ctx)
{
	(void)is_pg;
	(void)ctx;
	contract(url, tmpdir);
}

int main(void)
{
	CHECK(hgt_each_backend("store_contract", contract_suite, NULL) == 0);
	return hgt_finish("test_store_contract");
}
