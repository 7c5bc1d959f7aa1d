/*
 * test_banks_extids.c — the external ids a list gives its entries come back
 * in the gate's matches: the in-memory table (hg_extids) against a plain
 * array through random sets and removals; then hg_banks with entries added,
 * imported, removed and re-added, before and after a reload from the store,
 * each tenant seeing only its own list's id for the same hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "service/banks.h"
#include "service/extids.h"

enum { IDS = 3000, OPS = 60000 };

static void table_against_array(void)
{
	hg_extids *x = NULL;
	CHECK_INT(hg_extids_new(&x), HG_OK);
	if (!x)
		return;
	static char want[IDS][16];
	size_t live = 0;
	srandom(7);
	int bad = 0;
	for (int op = 0; op < OPS; op++) {
		/* ids share their low bits, as index ids of one bank do */
		size_t k = (size_t)random() % IDS;
		uint64_t id = (uint64_t)(k % 7) << 40 | (k + 1);
		if (random() % 3 == 0) {
			live -= want[k][0] != 0;
			want[k][0] = '\0';
			CHECK_INT(hg_extids_set(x, id, NULL), HG_OK);
		} else {
			live += want[k][0] == 0;
			snprintf(want[k], sizeof want[k], "e%d", op);
			CHECK_INT(hg_extids_set(x, id, want[k]), HG_OK);
		}
		if (op % 1000 == 0 || op == OPS - 1) {
			for (size_t i = 0; i < IDS; i++) {
				char got[16];
				uint64_t iid = (uint64_t)(i % 7) << 40 | (i + 1);
				int found = hg_extids_get(x, iid, got, sizeof got);
				bad += found != (want[i][0] != 0) || strcmp(got, want[i]) != 0;
			}
			bad += hg_extids_count(x) != live;
		}
	}
	CHECK_INT(bad, 0);
	char small[4];
	CHECK_INT(hg_extids_set(x, 99, "a-long-external-id"), HG_OK);
	CHECK_INT(hg_extids_get(x, 99, small, sizeof small), 1);
	CHECK_STR(small, "a-l"); /* truncated to the buffer, still terminated */
	CHECK_INT(hg_extids_set(x, 0, "x"), HG_ERR_INVALID_ARG);
	hg_extids_free(x);
	hg_extids_free(NULL);
}

static const char *PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
static const char *PDQ2 = "0f0f0f3e1f0bf7b0f9c8f5ddfc709c0f4c91d12a699de1e2cc194c63b16364dd";
static const char *MD5 = "9e107d9d372bb6826bd81d3542a419d6";

static void make_bank(hg_banks *b, const char *tenant, const char *name)
{
	json_t *spec = json_pack("{s:s,s:s}", "name", name, "action", "block"), *out = NULL;
	CHECK_INT(hg_banks_create(b, tenant, spec, "test", &out), HG_OK);
	json_decref(spec);
	json_decref(out);
}

static void add(hg_banks *b, const char *tenant, const char *type, const char *value,
		const char *ext)
{
	json_t *e = json_pack("{s:s,s:s}", "signal_type", type, "value", value), *out = NULL;
	if (ext)
		json_object_set_new(e, "external_id", json_string(ext));
	json_t *list = json_pack("[o]", e);
	CHECK_INT(hg_banks_add(b, tenant, "hl", list, "test", &out), HG_OK);
	json_decref(list);
	json_decref(out);
}

/* The external id of the single match of a check, "-" when nothing (or more
 * than one entry) matched; the match's JSON must agree. */
static const char *ext_of(hg_banks *b, const char *tenant, const char *pdq, const char *md5,
			  char *buf, size_t cap)
{
	hg_hashes h;
	memset(&h, 0, sizeof h);
	if (pdq)
		hg_pdq_from_hex(pdq, strlen(pdq), &h.pdq.hash[0]);
	h.pdq.quality = 100;
	for (int i = 0; md5 && i < 16; i++) {
		unsigned v;
		sscanf(md5 + 2 * i, "%2x", &v);
		h.md5[i] = (uint8_t)v;
	}
	struct hg_match_set ms;
	snprintf(buf, cap, "-");
	if (hg_banks_match(b, tenant, &h, pdq != NULL, 1, &ms) == HG_OK && ms.n == 1) {
		snprintf(buf, cap, "%s", ms.m[0].external_id);
		json_t *j = hg_match_json(&ms.m[0]);
		const char *js = json_string_value(json_object_get(j, "external_id"));
		CHECK_STR(js ? js : "", buf); /* present exactly when there is one */
		json_decref(j);
	}
	hg_match_set_free(&ms);
	return buf;
}

static long entry_id(hg_banks *b, const char *tenant, const char *value)
{
	json_t *out = NULL;
	long id = -1;
	if (hg_banks_entries(b, tenant, "hl", 0, 100, &out) != HG_OK)
		return -1;
	json_t *list = json_object_get(out, "entries"), *e;
	size_t i;
	json_array_foreach(list, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "value")), value))
			id = (long)json_integer_value(json_object_get(e, "id"));
	json_decref(out);
	return id;
}

static void through_banks(const char *db)
{
	char err[256], buf[300];
	hg_banks *b = NULL;
	CHECK_INT(hg_banks_open(db, &b, err, sizeof err), HG_OK);
	if (!b)
		return;
	make_bank(b, "acme", "hl");
	make_bank(b, "globex", "hl");
	add(b, "acme", "pdq", PDQ, "NCMEC-1");
	add(b, "globex", "pdq", PDQ, "IWF-9"); /* the same hash in another tenant's list */
	add(b, "acme", "md5", MD5, NULL);
	json_t *out = NULL;
	const char *list = "# hotline list\npdq:0f0f0f3e1f0bf7b0f9c8f5ddfc709c0f4c91d12a699de1e2cc194c63b16364dd,hot \"7\"\n";
	CHECK_INT(hg_banks_import(b, "acme", "hl", list, strlen(list), "text", "test", &out), HG_OK);
	json_decref(out);

	for (int pass = 0; pass < 2; pass++) {
		/* pass 1: a fresh process loads the same from the store */
		CHECK_STR(ext_of(b, "acme", PDQ, NULL, buf, sizeof buf), "NCMEC-1");
		CHECK_STR(ext_of(b, "globex", PDQ, NULL, buf, sizeof buf), "IWF-9");
		CHECK_STR(ext_of(b, "acme", NULL, MD5, buf, sizeof buf), "");
		CHECK_STR(ext_of(b, "acme", PDQ2, NULL, buf, sizeof buf), "hot \"7\"");
		CHECK_STR(ext_of(b, "globex", PDQ2, NULL, buf, sizeof buf), "-");
		if (pass == 0) {
			hg_banks_free(b);
			b = NULL;
			CHECK_INT(hg_banks_open(db, &b, err, sizeof err), HG_OK);
			if (!b)
				return;
		}
	}

	/* Removed: no match, no id. Added again with another id: the new one. */
	char id[32];
	snprintf(id, sizeof id, "%ld", entry_id(b, "acme", PDQ));
	CHECK_INT(hg_banks_remove(b, "acme", "hl", id, "test", "gone"), HG_OK);
	CHECK_STR(ext_of(b, "acme", PDQ, NULL, buf, sizeof buf), "-");
	CHECK_STR(ext_of(b, "globex", PDQ, NULL, buf, sizeof buf), "IWF-9");
	add(b, "acme", "pdq", PDQ, "NCMEC-2");
	CHECK_STR(ext_of(b, "acme", PDQ, NULL, buf, sizeof buf), "NCMEC-2");
	hg_banks_free(b);
	b = NULL;
	CHECK_INT(hg_banks_open(db, &b, err, sizeof err), HG_OK);
	if (b)
		CHECK_STR(ext_of(b, "acme", PDQ, NULL, buf, sizeof buf), "NCMEC-2");
	hg_banks_free(b);
}

int main(void)
{
	char dir[] = "/tmp/hg_banks_extids.XXXXXX", db[64], cmd[128];
	if (!mkdtemp(dir))
		return 1;
	table_against_array();
	snprintf(db, sizeof db, "%s/b.db", dir);
	through_banks(db);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
	return hgt_finish("test_banks_extids");
}
