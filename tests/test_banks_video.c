/*
 * test_banks_video.c — the gate's vPDQ matching (hg_banks_match_video) on
 * synthetic videos: a copy (every frame a few bits off) matches its banked
 * original, an unrelated video does not, another tenant sees nothing; the
 * query and target share thresholds, frames without bars, unusable frames,
 * disabled, allow-list, removed and deleted entries behave as the gate
 * promises; and queries stay right while another thread adds and removes
 * vpdq entries (the index is kept current under its lock).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "service/banks.h"

enum { FRAMES = 20 };

/* libc's generator, seeded in main: the same videos every run. */
static uint64_t next_rand(void)
{
	return (uint64_t)random() << 33 ^ (uint64_t)random() << 11 ^ (uint64_t)random();
}

static void random_video(hg_vpdq_frame *f, size_t n)
{
	memset(f, 0, n * sizeof *f);
	for (size_t i = 0; i < n; i++) {
		for (size_t w = 0; w < 4; w++)
			f[i].hash.w[w] = next_rand();
		f[i].quality = 100;
		f[i].frame_number = (int64_t)i;
	}
}

/* The same video re-encoded: every frame `bits` bits away. */
static void copy_video(const hg_vpdq_frame *src, hg_vpdq_frame *dst, size_t n, int bits)
{
	memcpy(dst, src, n * sizeof *dst);
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < bits; b++) {
			int bit = (int)(next_rand() % 256);
			dst[i].hash.w[bit / 64] ^= UINT64_C(1) << (bit % 64);
		}
}

/* A stored vpdq value: the frame hashes, space-separated. */
static char *vpdq_value(const hg_vpdq_frame *f, size_t n)
{
	char *s = malloc(n * (HG_PDQ_HEX_LEN + 1) + 1);
	for (size_t i = 0; i < n; i++) {
		hg_pdq_to_hex(&f[i].hash, s + i * (HG_PDQ_HEX_LEN + 1));
		s[i * (HG_PDQ_HEX_LEN + 1) + HG_PDQ_HEX_LEN] = i + 1 < n ? ' ' : '\0';
	}
	return s;
}

static hg_status add_video(hg_banks *b, const char *tenant, const char *bank,
			   const hg_vpdq_frame *f, size_t n)
{
	char *v = vpdq_value(f, n);
	json_t *list = json_pack("[{s:s,s:s}]", "signal_type", "vpdq", "value", v), *out = NULL;
	hg_status st = hg_banks_add(b, tenant, bank, list, "test", &out);
	json_decref(list);
	json_decref(out);
	free(v);
	return st;
}

static void make_bank(hg_banks *b, const char *tenant, const char *name, const char *action)
{
	json_t *spec = json_pack("{s:s,s:s}", "name", name, "action", action), *out = NULL;
	CHECK_INT(hg_banks_create(b, tenant, spec, "test", &out), HG_OK);
	json_decref(spec);
	json_decref(out);
}

/* Matches `frames` (and `cropped`) for `tenant`; returns the match count. */
static size_t match(hg_banks *b, const char *tenant, const hg_vpdq_frame *frames,
		    const hg_vpdq_frame *cropped, size_t n, double qpct, double tpct,
		    struct hg_match_set *ms)
{
	struct hg_video_query q = {frames, cropped, n, qpct, tpct};
	memset(ms, 0, sizeof *ms);
	if (hg_banks_match_video(b, tenant, &q, ms) != HG_OK)
		return (size_t)-1;
	return ms->n;
}

/* The id of the only entry of a bank, from its listing. */
static long first_entry(hg_banks *b, const char *tenant, const char *bank)
{
	json_t *out = NULL;
	if (hg_banks_entries(b, tenant, bank, 0, 10, &out) != HG_OK)
		return -1;
	long id = (long)json_integer_value(json_object_get(json_array_get(
		json_object_get(out, "entries"), 0), "id"));
	json_decref(out);
	return id;
}

static hg_banks *banks;
static hg_vpdq_frame orig[FRAMES], copy[FRAMES];

static void *reader(void *arg)
{
	long *bad = arg;
	for (int i = 0; i < 300; i++) {
		struct hg_match_set ms;
		size_t n = match(banks, "a", copy, NULL, FRAMES, 80, 0, &ms);
		if (n != 1 || strcmp(ms.m[0].bank, "vb") != 0)
			(*bad)++;
		hg_match_set_free(&ms);
	}
	return NULL;
}

int main(void)
{
	char dir[] = "/tmp/hg_banks_video.XXXXXX", db[64], err[256];
	if (!mkdtemp(dir))
		return 1;
	srandom(20261129);
	snprintf(db, sizeof db, "%s/b.db", dir);
	CHECK_INT(hg_banks_open(db, &banks, err, sizeof err), HG_OK);
	if (!banks)
		return hgt_finish("test_banks_video");
	make_bank(banks, "a", "vb", "block");
	make_bank(banks, "a", "al", "allow");
	make_bank(banks, "b", "vb", "block");

	hg_vpdq_frame other[FRAMES], mixed[FRAMES], flat[FRAMES];
	random_video(orig, FRAMES);
	random_video(other, FRAMES);
	copy_video(orig, copy, FRAMES, 8);
	CHECK_INT(add_video(banks, "a", "vb", orig, FRAMES), HG_OK);
	CHECK_INT(add_video(banks, "b", "vb", other, FRAMES), HG_OK);

	struct hg_match_set ms;
	CHECK_INT(match(banks, "a", copy, NULL, FRAMES, 80, 0, &ms), 1);
	if (ms.n == 1) {
		CHECK_STR(ms.m[0].bank, "vb");
		CHECK_STR(ms.m[0].action, "block");
		CHECK_STR(ms.m[0].signal, "vpdq");
		CHECK(ms.m[0].vpdq.query_pct == 100.0 && ms.m[0].vpdq.target_pct == 100.0);
		CHECK_INT(ms.m[0].vpdq.query_usable, FRAMES);
		CHECK_INT(ms.m[0].bars_cropped, 0);
		CHECK_STR(hg_match_verdict(&ms), "block");
		json_t *j = hg_match_json(&ms.m[0]);
		CHECK(json_real_value(json_object_get(j, "query_pct")) == 100.0);
		CHECK(json_object_get(j, "distance") == NULL);
		json_decref(j);
	}
	hg_match_set_free(&ms);
	/* Unrelated: nothing; another tenant's bank holding `other` stays
	 * invisible to tenant a, and a's original to tenant b. */
	CHECK_INT(match(banks, "a", other, NULL, FRAMES, 80, 0, &ms), 0);
	hg_match_set_free(&ms);
	CHECK_INT(match(banks, "b", copy, NULL, FRAMES, 80, 0, &ms), 0);
	hg_match_set_free(&ms);
	CHECK_INT(match(banks, "b", other, NULL, FRAMES, 80, 0, &ms), 1);
	hg_match_set_free(&ms);
	CHECK_INT(match(banks, "nobody", copy, NULL, FRAMES, 80, 0, &ms), 0);
	hg_match_set_free(&ms);

	/* 15 of 20 frames from the original: 75% < 80, but >= 70. */
	memcpy(mixed, copy, sizeof mixed);
	memcpy(mixed + 15, other + 15, 5 * sizeof *mixed);
	CHECK_INT(match(banks, "a", mixed, NULL, FRAMES, 80, 0, &ms), 0);
	hg_match_set_free(&ms);
	CHECK_INT(match(banks, "a", mixed, NULL, FRAMES, 70, 0, &ms), 1);
	if (ms.n == 1)
		CHECK(ms.m[0].vpdq.query_pct == 75.0);
	hg_match_set_free(&ms);
	/* Half the original (a clip cut from it): query 100%, target 50%. */
	CHECK_INT(match(banks, "a", copy, NULL, FRAMES / 2, 80, 60, &ms), 0);
	hg_match_set_free(&ms);
	CHECK_INT(match(banks, "a", copy, NULL, FRAMES / 2, 80, 50, &ms), 1);
	hg_match_set_free(&ms);
	/* Only the frames without their bars match: reported as bars_cropped. */
	CHECK_INT(match(banks, "a", other, copy, FRAMES, 80, 0, &ms), 1);
	if (ms.n == 1)
		CHECK_INT(ms.m[0].bars_cropped, 1);
	hg_match_set_free(&ms);
	/* Frames under quality 50 are not used. */
	memcpy(flat, copy, sizeof flat);
	for (int i = 0; i < FRAMES; i++)
		flat[i].quality = 10;
	CHECK_INT(match(banks, "a", flat, NULL, FRAMES, 80, 0, &ms), 0);
	hg_match_set_free(&ms);

	/* A disabled bank does not match; enabled again, it does. */
	json_t *off = json_pack("{s:b}", "enabled", 0), *on = json_pack("{s:b}", "enabled", 1), *o;
	CHECK_INT(hg_banks_update(banks, "a", "vb", off, "test", &o), HG_OK);
	json_decref(o);
	CHECK_INT(match(banks, "a", copy, NULL, FRAMES, 80, 0, &ms), 0);
	hg_match_set_free(&ms);
	CHECK_INT(hg_banks_update(banks, "a", "vb", on, "test", &o), HG_OK);
	json_decref(o);
	json_decref(off);
	json_decref(on);
	CHECK_INT(match(banks, "a", copy, NULL, FRAMES, 80, 0, &ms), 1);
	hg_match_set_free(&ms);

	/* Allow-list beats block; removing the entry takes it out of the index. */
	CHECK_INT(add_video(banks, "a", "al", orig, FRAMES), HG_OK);
	CHECK_INT(match(banks, "a", copy, NULL, FRAMES, 80, 0, &ms), 2);
	CHECK_STR(hg_match_verdict(&ms), "allow");
	hg_match_set_free(&ms);
	char id[32];
	snprintf(id, sizeof id, "%ld", first_entry(banks, "a", "al"));
	CHECK_INT(hg_banks_remove(banks, "a", "al", id, "test", "test"), HG_OK);
	CHECK_INT(match(banks, "a", copy, NULL, FRAMES, 80, 0, &ms), 1);
	CHECK_STR(hg_match_verdict(&ms), "block");
	hg_match_set_free(&ms);

	/* A bad stored value is refused before anything is written. */
	json_t *bad = json_pack("[{s:s,s:s}]", "signal_type", "vpdq", "value", "12 34");
	CHECK_INT(hg_banks_add(banks, "a", "vb", bad, "test", &o), HG_ERR_PARSE);
	json_decref(bad);
	hg_vpdq_frame *pf = NULL;
	size_t pn = 0;
	CHECK_INT(hg_banks_vpdq_frames("zz", &pf, &pn), HG_ERR_PARSE);
	char *v = vpdq_value(orig, 3);
	CHECK_INT(hg_banks_vpdq_frames(v, &pf, &pn), HG_OK);
	CHECK_INT(pn, 3);
	CHECK(pf && !memcmp(&pf[2].hash, &orig[2].hash, sizeof pf[2].hash) && pf[2].quality == 100);
	free(pf);
	free(v);

	/* Readers while a writer adds and removes other videos. */
	long badq[4] = {0};
	pthread_t th[4];
	for (int t = 0; t < 4; t++)
		pthread_create(&th[t], NULL, reader, &badq[t]);
	for (int i = 0; i < 40; i++) {
		hg_vpdq_frame r[FRAMES];
		random_video(r, FRAMES);
		CHECK_INT(add_video(banks, "a", "al", r, FRAMES), HG_OK);
		snprintf(id, sizeof id, "%ld", first_entry(banks, "a", "al"));
		CHECK_INT(hg_banks_remove(banks, "a", "al", id, "test", NULL), HG_OK);
	}
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		CHECK_INT(badq[t], 0);
	}

	/* A bank of many videos: the copy still finds its original, once. */
	json_t *many = json_array();
	for (int i = 0; i < 2000; i++) {
		hg_vpdq_frame r[FRAMES];
		random_video(r, FRAMES);
		char *rv = vpdq_value(r, FRAMES);
		json_array_append_new(many, json_pack("{s:s,s:s}", "signal_type", "vpdq", "value", rv));
		free(rv);
	}
	CHECK_INT(hg_banks_add(banks, "a", "al", many, "test", &o), HG_OK);
	json_decref(o);
	json_decref(many);
	CHECK_INT(match(banks, "a", copy, NULL, FRAMES, 80, 0, &ms), 1);
	hg_match_set_free(&ms);

	/* A deleted bank stops matching. */
	CHECK_INT(hg_banks_delete(banks, "a", "vb", "test"), HG_OK);
	CHECK_INT(match(banks, "a", copy, NULL, FRAMES, 80, 0, &ms), 0);
	hg_match_set_free(&ms);

	hg_banks_free(banks);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return hgt_finish("test_banks_video");
}
