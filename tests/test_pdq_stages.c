/*
 * test_pdq_stages.c — pins each step of the PDQ core against the reference's
 * own intermediate dumps (../shared/data/pdq-reference/generated/stages):
 * the DCT matrix bit for bit; then, from each dumped 64x64 buffer, the
 * quality, every one of the 256 DCT outputs, the median and the hash. Any
 * change in float evaluation order shows up here first.
 *
 * Also checks hex round trips, distance and the dihedral sign rules on
 * synthetic images that need no decoder.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/pdq_internal.h"
#include "harness.h"
#include "hashgate/pdq.h"

/* Reads the next `n` floats of a stage file, skipping '#' lines. */
static int read_floats(FILE *f, float *out, int n)
{
	int got = 0;
	while (got < n) {
		int c = fgetc(f);
		if (c == EOF)
			return got;
		if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
			continue;
		if (c == '#') {
			while (c != '\n' && c != EOF)
				c = fgetc(f);
			continue;
		}
		ungetc(c, f);
		if (fscanf(f, "%f", &out[got]) == 1)
			got++;
		else if (fgetc(f) == EOF)
			return got;
	}
	return got;
}

static int same_bits(float a, float b)
{
	uint32_t x, y;
	memcpy(&x, &a, 4);
	memcpy(&y, &b, 4);
	return x == y;
}

static void test_dct_matrix(const char *dir, hg_pdq_hasher *h)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/pdq-reference/generated/stages/dct-matrix-16x64.txt", dir);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	float want[16 * 64];
	CHECK_INT(read_floats(f, want, 16 * 64), 16 * 64);
	fclose(f);
	const float *got = hg__pdq_dct_matrix(h);
	int diff = 0;
	for (int i = 0; i < 16 * 64; i++)
		diff += !same_bits(got[i], want[i]);
	CHECK_INT(diff, 0);
}

static void test_stage_file(const char *dir, const char *name, hg_pdq_hasher *h)
{
	char path[1024], line[512];
	snprintf(path, sizeof path, "%s/pdq-reference/generated/stages/%s", dir, name);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	int want_q = -1;
	float want_median = NAN;
	char want_hex[65] = "";
	while (fgets(line, sizeof line, f)) {
		const char *q = strstr(line, "quality=");
		if (q && line[0] == '#') {
			CHECK(sscanf(q, "quality=%d median=%f hash=%64s", &want_q, &want_median,
				     want_hex) == 3);
			break;
		}
	}
	static float a[64][64], want_b[16][16], got_b[16][16];
	CHECK_INT(read_floats(f, &a[0][0], 64 * 64), 64 * 64);
	CHECK_INT(read_floats(f, &want_b[0][0], 16 * 16), 16 * 16);
	fclose(f);

	float median;
	int quality;
	hg_pdq hash;
	hg__pdq_from_64(h, a, got_b, &median, &hash, &quality);
	int diff = 0;
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			diff += !same_bits(got_b[i][j], want_b[i][j]);
	CHECK_INT(diff, 0);
	CHECK_INT(quality, want_q);
	CHECK(same_bits(median, want_median));
	char hex[65];
	hg_pdq_to_hex(&hash, hex);
	CHECK_STR(hex, want_hex);
	if (diff || strcmp(hex, want_hex))
		fprintf(stderr, "  in %s\n", name);
}

static void test_hex_and_distance(void)
{
	const char *s = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
	hg_pdq a, b;
	char out[65];
	CHECK_INT(hg_pdq_from_hex(s, 64, &a), HG_OK);
	hg_pdq_to_hex(&a, out);
	CHECK_STR(out, s);
	/* the last hex digit holds bits 3..0, the first bits 255..252 */
	CHECK_INT(a.w[0] & 0xf, 0x2);
	CHECK_INT(a.w[3] >> 60, 0xf);
	CHECK_INT(hg_pdq_from_hex("F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22",
				  64, &b), HG_OK);
	CHECK_INT(hg_pdq_distance(&a, &b), 0);
	b.w[2] ^= 0x10001;
	CHECK_INT(hg_pdq_distance(&a, &b), 2);
	CHECK_INT(hg_pdq_from_hex(s, 63, &b), HG_ERR_PARSE);
	CHECK_INT(hg_pdq_from_hex("g8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
				  64, &b), HG_ERR_PARSE);
	CHECK_INT(b.w[0] | b.w[1] | b.w[2] | b.w[3], 0);
	CHECK_STR(hg_dihedral_name(HG_DIH_FLIPMINUS1), "flipminus1");
	CHECK_STR(hg_dihedral_name(9), "?");
}

/* A synthetic, asymmetric grey image and its exact pixel transforms. The
 * dihedral variant computed from the DCT must be close to the hash of the
 * transformed pixels (exact equality is not expected: the box window and the
 * decimation grid are not symmetric, see REFERENCE-NOTES). */
static void test_dihedral_vs_pixels(hg_pdq_hasher *h)
{
	enum { N = 320 }; /* window 3 (odd) and sample step 5: a grid symmetric under every flip */
	static uint8_t img[N][N], t[N][N];
	for (int y = 0; y < N; y++)
		for (int x = 0; x < N; x++)
			img[y][x] = (uint8_t)(127.5 + 60 * sin(x * 0.05 + 0.3) * cos(y * 0.031) +
					      50 * sin((x + 2 * y) * 0.023) + (x > 120 && y < 70 ? 10 : 0));
	hg_pdq_result base;
	CHECK_INT(hg_pdq_hash_pixels(h, &img[0][0], N, N, N, 1, HG_PDQ_DIHEDRAL, &base), HG_OK);
	for (int d = 1; d < HG_DIH_COUNT; d++) {
		for (int y = 0; y < N; y++) {
			for (int x = 0; x < N; x++) {
				int sx = x, sy = y; /* t[y][x] = img[sy][sx] */
				switch (d) {
				case HG_DIH_ROT90: sx = N - 1 - y; sy = x; break;
				case HG_DIH_ROT180: sx = N - 1 - x; sy = N - 1 - y; break;
				case HG_DIH_ROT270: sx = y; sy = N - 1 - x; break;
				case HG_DIH_FLIPX: sy = N - 1 - y; break;
				case HG_DIH_FLIPY: sx = N - 1 - x; break;
				case HG_DIH_FLIPPLUS1: sx = y; sy = x; break;
				case HG_DIH_FLIPMINUS1: sx = N - 1 - y; sy = N - 1 - x; break;
				}
				t[y][x] = img[sy][sx];
			}
		}
		hg_pdq_result r;
		CHECK_INT(hg_pdq_hash_pixels(h, &t[0][0], N, N, N, 1, 0, &r), HG_OK);
		int dist = hg_pdq_distance(&r.hash[0], &base.hash[d]);
		if (dist > 4)
			fprintf(stderr, "variant %s: %d bits from the transformed image\n",
				hg_dihedral_name(d), dist);
		CHECK(dist <= 4);
		/* and far from the untransformed hash, or the test proves nothing */
		CHECK(hg_pdq_distance(&r.hash[0], &base.hash[0]) > 40);
	}
}

static void test_bad_arguments(hg_pdq_hasher *h)
{
	uint8_t px[16 * 16] = {0};
	hg_pdq_result r;
	CHECK_INT(hg_pdq_hash_pixels(h, px, 4, 16, 4, 1, 0, &r), HG_ERR_TOO_SMALL);
	CHECK_INT(hg_pdq_hash_pixels(h, px, 16, 4, 16, 1, 0, &r), HG_ERR_TOO_SMALL);
	CHECK_INT(hg_pdq_hash_pixels(h, px, 16, 16, 16, 2, 0, &r), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_pdq_hash_pixels(h, px, 16, 16, 8, 1, 0, &r), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_pdq_hash_pixels(h, NULL, 16, 16, 16, 1, 0, &r), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_pdq_hash_pixels(h, px, 16, 16, 16, 1, 0x80, &r), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_pdq_hash_pixels(h, px, 16, 16, 16, 1, 0, &r), HG_OK);
	CHECK_INT(r.quality, 0);
	hg_pdq_hasher_free(NULL);
}

int main(void)
{
	hg_pdq_hasher *h = NULL;
	CHECK_INT(hg_pdq_hasher_new(&h), HG_OK);
	if (!h)
		return hgt_finish("test_pdq_stages");
	test_hex_and_distance();
	test_dihedral_vs_pixels(h);
	test_bad_arguments(h);
	const char *dir = hgt_shared_data();
	if (dir) {
		test_dct_matrix(dir, h);
		static const char *const stages[] = {
			"bridge-1-original.fullres.txt", "bridge-1-original.cli.txt",
			"q0003.cli.txt", "small.cli.txt", "wee.cli.txt",
		};
		for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
			test_stage_file(dir, stages[i], h);
	}
	hg_pdq_hasher_free(h);
	return hgt_finish("test_pdq_stages");
}
