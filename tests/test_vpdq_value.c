/*
 * test_vpdq_value.c — the stored form of a vPDQ bank entry: frame tokens
 * hex[:quality[:frame:timestamp]] parsed, written back in normal form and
 * validated by hg_signal_normalize; values stored before quality was kept
 * (bare hashes) still read, every frame counting as usable; and a bank
 * video's low-quality frames left out of its share, through the index and
 * through the gate's reader (hg_banks_vpdq_frames).
 */
#include <stdlib.h>

#include "harness.h"
#include "hashgate/bank.h"
#include "hashgate/store.h"
#include "hashgate/vpdq.h"
#include "service/banks.h"

static hg_pdq pdq_from_seed(unsigned seed)
{
	hg_pdq h;
	for (int i = 0; i < 4; i++) {
		seed = seed * 1103515245u + 12345u;
		uint64_t a = seed;
		seed = seed * 1103515245u + 12345u;
		h.w[i] = a << 32 ^ seed ^ (uint64_t)seed << 17;
	}
	return h;
}

static void test_tokens(void)
{
	static const char hex[] = "9C0E5A5AA5A5F00F0FF0123456789ABCDEFFEDCBA9876543210F0F0F0F0F0F0F";
	char text[200], buf[HG_VPDQ_TOKEN_MAX + 1];
	hg_vpdq_frame f;
	int fields;
	/* Bare hash: quality 100; normal form lowercase. */
	CHECK_INT(hg_vpdq_token_parse(hex, 64, &f, &fields), HG_OK);
	CHECK(fields == 1 && f.quality == 100 && f.frame_number == 0);
	CHECK(hg_vpdq_token_format(&f, 1, buf, sizeof buf) == 64);
	CHECK_STR(buf, "9c0e5a5aa5a5f00f0ff0123456789abcdeffedcba9876543210f0f0f0f0f0f0f");
	snprintf(text, sizeof text, "%s:07", hex);
	CHECK_INT(hg_vpdq_token_parse(text, strlen(text), &f, &fields), HG_OK);
	CHECK(fields == 2 && f.quality == 7);
	hg_vpdq_token_format(&f, 2, buf, sizeof buf);
	CHECK_STR(buf, "9c0e5a5aa5a5f00f0ff0123456789abcdeffedcba9876543210f0f0f0f0f0f0f:7");
	snprintf(text, sizeof text, "%s:100:999999999:9999999.9994", hex);
	CHECK_INT(hg_vpdq_token_parse(text, strlen(text), &f, &fields), HG_OK);
	CHECK(fields == 4 && f.frame_number == 999999999);
	CHECK(hg_vpdq_token_format(&f, 4, buf, sizeof buf) == HG_VPDQ_TOKEN_MAX);
	CHECK(!strcmp(buf + 64, ":100:999999999:9999999.999"));
	/* Round trip of a hashed frame. */
	hg_vpdq_frame g = {pdq_from_seed(3), 42, 30, 1.0}, back;
	hg_vpdq_token_format(&g, 4, buf, sizeof buf);
	CHECK_INT(hg_vpdq_token_parse(buf, strlen(buf), &back, &fields), HG_OK);
	CHECK(!memcmp(&back.hash, &g.hash, sizeof g.hash) && back.quality == 42 &&
	      back.frame_number == 30 && back.timestamp == 1.0);
	/* Everything else is refused, with the frame zeroed. */
	static const char *const bad_suffix[] = {
		":101", ":-1", ":", ":50:3", ":50:3:1.0:9", ":50:-3:1.0", ":50:1000000000:1.0",
		":50:3:-1", ":50:3:nan", ":50:3:inf", ":50:3:1e7", ":50:3:9999999.9995", ":50:3:", ":+5", ": 5", ":5x",
	};
	for (size_t i = 0; i < sizeof bad_suffix / sizeof bad_suffix[0]; i++) {
		snprintf(text, sizeof text, "%s%s", hex, bad_suffix[i]);
		f.quality = 55;
		hg_status st = hg_vpdq_token_parse(text, strlen(text), &f, &fields);
		if (st != HG_ERR_PARSE)
			fprintf(stderr, "accepted: %s\n", bad_suffix[i]);
		CHECK(st == HG_ERR_PARSE && f.quality == 0 && fields == 0);
	}
	CHECK_INT(hg_vpdq_token_parse(hex, 63, &f, &fields), HG_ERR_PARSE);
	CHECK_INT(hg_vpdq_token_parse("", 0, &f, &fields), HG_ERR_PARSE);
	CHECK_INT(hg_vpdq_token_parse(NULL, 0, &f, &fields), HG_ERR_PARSE);
	CHECK_INT(hg_vpdq_token_parse(hex, 64, NULL, &fields), HG_ERR_INVALID_ARG);
	g.quality = 101;
	CHECK(hg_vpdq_token_format(&g, 2, buf, sizeof buf) == 0);
	g.quality = 50;
	CHECK(hg_vpdq_token_format(&g, 3, buf, sizeof buf) == 0);
	CHECK(hg_vpdq_token_format(&g, 4, buf, 70) == 0 && buf[0] == '\0');
}

static void test_normalize(void)
{
	static const char a[] = "AAAA5A5AA5A5F00F0FF0123456789ABCDEFFEDCBA9876543210F0F0F0F0F0F0F";
	char in[400], out[HG_SIGNAL_VALUE_MAX + 1], msg[160];
	size_t len;
	snprintf(in, sizeof in, " %s:070 ,%s;%s:5:30:1\t", a, a, a);
	CHECK_INT(hg_signal_normalize(HG_SIGNAL_VPDQ, in, strlen(in), out, sizeof out, &len, msg,
				      sizeof msg),
		  HG_OK);
	char want[400];
	snprintf(want, sizeof want, "%s:70 %s %s:5:30:1.000",
		 "aaaa5a5aa5a5f00f0ff0123456789abcdeffedcba9876543210f0f0f0f0f0f0f",
		 "aaaa5a5aa5a5f00f0ff0123456789abcdeffedcba9876543210f0f0f0f0f0f0f",
		 "aaaa5a5aa5a5f00f0ff0123456789abcdeffedcba9876543210f0f0f0f0f0f0f");
	CHECK_STR(out, want);
	CHECK_INT(len, strlen(want));
	snprintf(in, sizeof in, "%s %s:200", a, a);
	CHECK_INT(hg_signal_normalize(HG_SIGNAL_VPDQ, in, strlen(in), out, sizeof out, &len, msg,
				      sizeof msg),
		  HG_ERR_PARSE);
	CHECK(strstr(msg, "vpdq frame 2") != NULL);
	/* The longest value fits HG_SIGNAL_VALUE_MAX. */
	hg_vpdq_frame f = {pdq_from_seed(9), 100, HG_VPDQ_MAX_FRAME_NUMBER, 9999999.999};
	char tok[HG_VPDQ_TOKEN_MAX + 1];
	size_t tl = hg_vpdq_token_format(&f, 4, tok, sizeof tok);
	char *big = malloc(HG_VPDQ_MAX_FRAMES * (tl + 1));
	for (int i = 0; i < HG_VPDQ_MAX_FRAMES; i++) {
		memcpy(big + (size_t)i * (tl + 1), tok, tl);
		big[(size_t)i * (tl + 1) + tl] = ' ';
	}
	size_t biglen = HG_VPDQ_MAX_FRAMES * (tl + 1) - 1;
	CHECK_INT(hg_signal_normalize(HG_SIGNAL_VPDQ, big, biglen, out, sizeof out, &len, msg,
				      sizeof msg),
		  HG_OK);
	CHECK_INT(len, HG_SIGNAL_VALUE_MAX);
	free(big);
}

/* Bank video: frames A, B (quality 100) and C, D (quality 10); the query
 * is A, B, C. With qualities stored, C and D are not part of the bank
 * video: target% = 2/2, and the query's C meets nothing. Stored as bare
 * hashes (the old form), all four count: target% = 3/4. */
static void test_low_quality_excluded(void)
{
	char value[4 * (HG_VPDQ_TOKEN_MAX + 1)], legacy[4 * 65], tok[HG_VPDQ_TOKEN_MAX + 1];
	hg_vpdq_frame bank[4], query[3];
	size_t vl = 0, ll = 0;
	for (int i = 0; i < 4; i++) {
		bank[i] = (hg_vpdq_frame){pdq_from_seed(100 + (unsigned)i), i < 2 ? 100 : 10, i * 15,
					  i * 1.0};
		vl += (size_t)snprintf(value + vl, sizeof value - vl, "%s", i ? " " : "");
		vl += hg_vpdq_token_format(&bank[i], 4, value + vl, sizeof value - vl);
		ll += (size_t)snprintf(legacy + ll, sizeof legacy - ll, "%s", i ? " " : "");
		ll += hg_vpdq_token_format(&bank[i], 1, tok, sizeof tok);
		strcat(legacy, tok);
	}
	for (int i = 0; i < 3; i++)
		query[i] = (hg_vpdq_frame){bank[i].hash, 100, i, 0};
	for (int pass = 0; pass < 3; pass++) {
		hg_vpdq_frame *f = NULL;
		size_t n = 0;
		const char *v = pass == 1 ? legacy : value;
		if (pass < 2)
			CHECK_INT(hg_vpdq_value_parse(v, strlen(v), &f, &n), HG_OK);
		else /* the gate's reader */
			CHECK_INT(hg_banks_vpdq_frames(v, &f, &n), HG_OK);
		CHECK_INT(n, 4);
		if (n != 4)
			continue;
		CHECK_INT(f[2].quality, pass == 1 ? 100 : 10);
		CHECK_INT(f[3].frame_number, pass == 1 ? 3 : 45);
		hg_vpdq_index *ix = NULL;
		CHECK_INT(hg_vpdq_index_new(NULL, &ix), HG_OK);
		CHECK_INT(hg_vpdq_index_add(ix, 7, f, n), HG_OK);
		hg_vpdq_match *m = NULL;
		size_t nm = 0;
		CHECK_INT(hg_vpdq_index_query(ix, query, 3, 0, 0, &m, &nm), HG_OK);
		CHECK_INT(nm, 1);
		if (nm == 1) {
			CHECK_INT(m[0].target_usable, pass == 1 ? 4 : 2);
			CHECK_INT(m[0].target_matched, pass == 1 ? 3 : 2);
			CHECK_INT(m[0].query_matched, pass == 1 ? 3 : 2);
			CHECK(m[0].target_pct == (pass == 1 ? 75.0 : 100.0));
		}
		hg_vpdq_matches_free(m);
		/* Only the low-quality frame: no match when quality is stored. */
		CHECK_INT(hg_vpdq_index_query(ix, &query[2], 1, 0, 0, &m, &nm), HG_OK);
		CHECK_INT(nm, pass == 1 ? 1 : 0);
		hg_vpdq_matches_free(m);
		hg_vpdq_index_free(ix);
		hg_vpdq_frames_free(f);
	}
	hg_vpdq_frame *f = (hg_vpdq_frame *)1;
	size_t n = 9;
	CHECK_INT(hg_vpdq_value_parse(" ,; ", 4, &f, &n), HG_ERR_PARSE);
	CHECK(f == NULL && n == 0);
	CHECK_INT(hg_vpdq_value_parse("zz", 2, &f, &n), HG_ERR_PARSE);
	CHECK_INT(hg_vpdq_value_parse(NULL, 3, &f, &n), HG_ERR_INVALID_ARG);
	hg_vpdq_frames_free(NULL);
}

/* A text list line "hex:quality ...,id" under --signal vpdq: the colon after
 * a hash is part of the token, not a TYPE: prefix. */
static void test_list_line(void)
{
	hg_list_parser *p = NULL;
	CHECK_INT(hg_list_parser_new(HG_LIST_TEXT, HG_SIGNAL_VPDQ, &p), HG_OK);
	char line[300];
	snprintf(line, sizeof line, "%s:40 %s:90:15:0.500,clip-1",
		 "00000000000000000000000000000000000000000000000000000000000000ff",
		 "00000000000000000000000000000000000000000000000000000000000000ee");
	hg_entry_input e;
	int has = 0;
	CHECK_INT(hg_list_parse_line(p, line, strlen(line), &e, &has), HG_OK);
	CHECK(has && e.signal == HG_SIGNAL_VPDQ);
	if (has) {
		CHECK(strstr(e.value, "ff:40 ") != NULL && strstr(e.value, "ee:90:15:0.500") != NULL);
		CHECK_STR(e.external_id, "clip-1");
	}
	hg_list_parser_free(p);
}

int main(void)
{
	test_list_line();
	test_tokens();
	test_normalize();
	test_low_quality_excluded();
	return hgt_finish("test_vpdq_value");
}
