/*
 * test_pdq_conformance.c — every image of Meta's conformance data, decoded
 * by our codecs and hashed, against the reference's own hash tables:
 *
 *   default mode       generated/cpp-fullres.pdq.csv, cpp-fullres.pdqdih-across.csv
 *   HG_HASH_COMPAT_CLI generated/cpp-cli.pdq.csv, cpp-cli.pdqdih-across.csv and the
 *                      pdq-photo-hasher blocks of pdq/cpp/reg_test/expected/out
 *
 * Tolerance: none. Every image (JPEG, PNG and the 5 WebP) decodes to the same
 * pixels ImageMagick gave the reference, so hash and quality must be equal,
 * all 8 dihedral variants included. A mismatch prints the file, the mode,
 * the variant and the bit distance, so a decoder regression shows where.
 * Row counts are checked too, so a table that stops parsing cannot pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hashgate/hashgate.h"

#define MAX_FILES 64

struct entry {
	char path[256];
	unsigned flags;
	hg_status status;
	hg_pdq_result pdq;
};

static struct entry cache[2 * MAX_FILES];
static size_t ncache;
static hg_hasher *hasher;
static char root[512]; /* .../pdq-reference */
static int mismatched_files;

/* Hashes `rel` (relative to pdq-reference/) once per mode. */
static const struct entry *lookup(const char *rel, unsigned flags)
{
	for (size_t i = 0; i < ncache; i++)
		if (cache[i].flags == flags && !strcmp(cache[i].path, rel))
			return &cache[i];
	if (ncache == sizeof cache / sizeof cache[0])
		return NULL;
	struct entry *e = &cache[ncache++];
	snprintf(e->path, sizeof e->path, "%s", rel);
	e->flags = flags;
	char full[1024];
	snprintf(full, sizeof full, "%s/%s", root, rel);
	hg_hashes h;
	e->status = hg_hash_file(hasher, full, flags | HG_HASH_DIHEDRAL, &h);
	if (e->status)
		fprintf(stderr, "%s: %s (%s)\n", rel, hg_strerror(e->status),
			hg_hasher_errmsg(hasher));
	e->pdq = h.pdq;
	return e;
}

/* Compares one reference row: `hex[0..n-1]` are the variants in
 * --pdqdih-across order starting at `first`; quality < 0 = not given. */
static void compare(const char *table, const char *rel, unsigned flags, int first,
		    char hex[][65], int n, int quality)
{
	const struct entry *e = lookup(rel, flags);
	CHECK(e != NULL);
	if (!e)
		return;
	CHECK_INT(e->status, HG_OK);
	if (e->status)
		return;
	int bad = 0;
	for (int i = 0; i < n; i++) {
		hg_pdq want;
		hg_status st = hg_pdq_from_hex(hex[i], strlen(hex[i]), &want);
		CHECK_INT(st, HG_OK);
		int d = hg_pdq_distance(&want, &e->pdq.hash[first + i]);
		hgt_checks++;
		if (d != 0) {
			char got[65];
			hg_pdq_to_hex(&e->pdq.hash[first + i], got);
			fprintf(stderr, "MISMATCH %s %s %s: %d bits\n  want %s\n  got  %s\n",
				table, rel, hg_dihedral_name(first + i), d, hex[i], got);
			bad = 1;
		}
	}
	if (quality >= 0 && quality != e->pdq.quality) {
		fprintf(stderr, "MISMATCH %s %s: quality %d, want %d\n", table, rel,
			e->pdq.quality, quality);
		bad = 1;
	}
	if (bad) {
		hgt_failures++;
		mismatched_files++;
	}
}

/* Splits a line on commas in place; returns the field count. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	line[strcspn(line, "\r\n")] = '\0';
	for (char *p = line; n < max;) {
		f[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

/* A table in generated/: `nhash` hashes, quality, path per line. */
static int check_csv(const char *name, int nhash, unsigned flags)
{
	char path[1024], line[2048];
	snprintf(path, sizeof path, "%s/generated/%s", root, name);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return 0;
	int rows = 0;
	while (fgets(line, sizeof line, f)) {
		char *fld[12];
		if (split(line, fld, 12) != nhash + 2)
			continue;
		char hex[8][65];
		for (int i = 0; i < nhash; i++)
			snprintf(hex[i], sizeof hex[i], "%s", fld[i]);
		compare(name, fld[nhash + 1], flags, 0, hex, nhash, atoi(fld[nhash]));
		rows++;
	}
	fclose(f);
	return rows;
}

/* Value of `key=` in a --details line, copied into out. */
static int field_of(const char *line, const char *key, char *out, size_t cap)
{
	char pat[32];
	snprintf(pat, sizeof pat, "%s=", key);
	const char *p = strstr(line, pat);
	if (!p || (p != line && p[-1] != ','))
		return 0;
	p += strlen(pat);
	size_t n = strcspn(p, ",\r\n");
	if (n >= cap)
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

/* Maps "./reg_test/../../data/X" (relative to pdq/cpp) to "pdq/data/X". */
static const char *map_path(const char *p, char *buf, size_t cap)
{
	const char *pre = "./reg_test/../../data/";
	if (strncmp(p, pre, strlen(pre)) != 0)
		return NULL;
	snprintf(buf, cap, "pdq/data/%s", p + strlen(pre));
	return buf;
}

static const char *const across_keys[8] = {"orig",  "rot90", "rot180", "rot270",
					   "flipx", "flipy", "flipp",  "flipm"};

/* One output line of a pdq-photo-hasher block. --pdqdih prints the 8
 * variants on 8 lines (`seen` counts them); with --details it prints a
 * hash,quality line and then 8 lines tagged xform=<variant>. */
static int check_regtest_line(char *line, int details, int dih, int across, int *seen)
{
	char hex[8][65], file[512], rel[600], q[16], xform[16];
	int quality = -1, n = 1, first = 0;
	if (details) {
		if (!field_of(line, "filename", file, sizeof file))
			return 0;
		if (field_of(line, "quality", q, sizeof q))
			quality = atoi(q);
		else if (!field_of(line, "xform", xform, sizeof xform))
			return 0;
		for (int i = 0; quality < 0 && i < 8; i++)
			if (!strcmp(xform, across_keys[i]))
				first = i;
		if (across) {
			n = 8;
			for (int i = 0; i < 8; i++)
				if (!field_of(line, across_keys[i], hex[i], sizeof hex[i]))
					return 0;
		} else if (!field_of(line, "hash", hex[0], sizeof hex[0])) {
			return 0;
		}
	} else {
		char *fld[12];
		int nf = split(line, fld, 12);
		n = across ? 8 : 1;
		if (nf != n + 2)
			return 0;
		for (int i = 0; i < n; i++)
			snprintf(hex[i], sizeof hex[i], "%s", fld[i]);
		quality = atoi(fld[n]);
		snprintf(file, sizeof file, "%s", fld[n + 1]);
	}
	if (!map_path(file, rel, sizeof rel))
		return 0;
	if (dih && !across && !details)
		first = (*seen)++ % 8;
	compare("reg_test/expected/out", rel, HG_HASH_COMPAT_CLI, first, hex, n, quality);
	return 1;
}

static int check_regtest(void)
{
	char path[1024], line[4096];
	snprintf(path, sizeof path, "%s/pdq/cpp/reg_test/expected/out", root);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return 0;
	int rows = 0, in_block = 0, details = 0, dih = 0, across = 0, seen = 0;
	while (fgets(line, sizeof line, f)) {
		if (!strcmp(line, "RUNNING\n")) {
			in_block = 0;
			if (!fgets(line, sizeof line, f))
				break;
			if (strncmp(line, "pdq-photo-hasher", 16) != 0)
				continue;
			in_block = 1;
			details = strstr(line, " --details") != NULL;
			across = strstr(line, " --pdqdih-across") != NULL;
			dih = across || strstr(line, " --pdqdih ") != NULL;
			seen = 0;
			continue;
		}
		if (in_block && line[0] != '\n')
			rows += check_regtest_line(line, details, dih, across, &seen);
	}
	fclose(f);
	return rows;
}

int main(void)
{
	const char *data = hgt_shared_data();
	if (!data)
		return 77;
	snprintf(root, sizeof root, "%s/pdq-reference", data);
	CHECK_INT(hg_hasher_new(NULL, &hasher), HG_OK);
	if (!hasher)
		return hgt_finish("test_pdq_conformance");

	CHECK_INT(check_csv("cpp-fullres.pdq.csv", 1, 0), 49);
	CHECK_INT(check_csv("cpp-fullres.pdqdih-across.csv", 8, 0), 49);
	CHECK_INT(check_csv("cpp-cli.pdq.csv", 1, HG_HASH_COMPAT_CLI), 49);
	CHECK_INT(check_csv("cpp-cli.pdqdih-across.csv", 8, HG_HASH_COMPAT_CLI), 49);
	/* plain and --details runs over the 8 images and over bridge-1 alone
	 * (8 + 1 lines each), --pdqdih (8 lines), --pdqdih --details (1 + 8)
	 * and the two --pdqdih-across runs (1 line each) */
	CHECK_INT(check_regtest(), 9 + 9 + 8 + 9 + 1 + 1);

	size_t files = 0;
	for (size_t i = 0; i < ncache; i++)
		files += cache[i].flags == 0;
	printf("conformance: %zu images, %zu (image, mode) pairs hashed, %d rows mismatched\n",
	       files, ncache, mismatched_files);
	hg_hasher_free(hasher);
	return hgt_finish("test_pdq_conformance");
}
