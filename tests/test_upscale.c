/*
 * test_upscale.c — the upscale view: the factor rule (none over half the
 * target, capped for tiny images), exact k x k replication for grey, RGB
 * and padded rows, and the reason it exists: a quarter-size copy of a
 * picture, replicated, hashes much closer to the full-size picture than the
 * small copy itself does.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/upscale.h"
#include "harness.h"
#include "hashgate/pdq.h"

/* A smooth picture with some detail: f(x, y) over a side of `n` pixels. */
static uint8_t value(size_t x, size_t y, size_t n)
{
	const double pi = 3.14159265358979;
	double u = (double)x / (double)n, v = (double)y / (double)n;
	double f = 128 + 50 * sin(2 * pi * 3 * u) * cos(2 * pi * 2 * v) +
		   30 * sin(2 * pi * (5 * u + 4 * v)) + 20 * cos(2 * pi * 9 * v * u);
	return (uint8_t)(f < 0 ? 0 : f > 255 ? 255 : f);
}

int main(void)
{
	CHECK_INT(hg_upscale_factor(1024, 768), 1);
	CHECK_INT(hg_upscale_factor(513, 300), 1);
	CHECK_INT(hg_upscale_factor(512, 300), 2);
	CHECK_INT(hg_upscale_factor(256, 160), 4);
	CHECK_INT(hg_upscale_factor(100, 300), 3);
	CHECK_INT(hg_upscale_factor(20, 10), HG_UPSCALE_MAX_FACTOR);
	CHECK_INT(hg_upscale_factor(0, 0), 1);

	/* 3x2 RGB with 2 bytes of row padding, k = 3 */
	uint8_t src[2 * 11];
	for (size_t i = 0; i < sizeof src; i++)
		src[i] = (uint8_t)(i * 7 + 1);
	uint8_t dst[9 * 6 * 3];
	memset(dst, 0xee, sizeof dst);
	hg_upscale_replicate(src, 3, 2, 11, 3, 3, dst);
	int bad = 0;
	for (size_t y = 0; y < 6; y++)
		for (size_t x = 0; x < 9; x++)
			for (size_t c = 0; c < 3; c++)
				bad += dst[(y * 9 + x) * 3 + c] != src[(y / 3) * 11 + (x / 3) * 3 + c];
	CHECK_INT(bad, 0);
	uint8_t grey[4] = {1, 2, 3, 4}, g2[16];
	hg_upscale_replicate(grey, 2, 2, 2, 1, 2, g2);
	const uint8_t want[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
	CHECK(memcmp(g2, want, 16) == 0);

	/* a 1024 px picture and its 256 px copy (4x4 box average) */
	enum { N = 1024, S = 256 };
	uint8_t *big = malloc((size_t)N * N), *small = malloc((size_t)S * S);
	uint8_t *up = malloc((size_t)N * N);
	CHECK(big && small && up);
	if (big && small && up) {
		for (size_t y = 0; y < N; y++)
			for (size_t x = 0; x < N; x++)
				big[y * N + x] = value(x, y, N);
		for (size_t y = 0; y < S; y++)
			for (size_t x = 0; x < S; x++) {
				unsigned sum = 0;
				for (size_t j = 0; j < 4; j++)
					for (size_t i = 0; i < 4; i++)
						sum += big[(y * 4 + j) * N + x * 4 + i];
				small[y * S + x] = (uint8_t)((sum + 8) / 16);
			}
		size_t k = hg_upscale_factor(S, S);
		CHECK_INT(k, 4);
		hg_upscale_replicate(small, S, S, S, 1, k, up);
		hg_pdq_hasher *h = NULL;
		CHECK_INT(hg_pdq_hasher_new(&h), HG_OK);
		hg_pdq_result rb, rs, ru;
		CHECK_INT(hg_pdq_hash_pixels(h, big, N, N, N, 1, 0, &rb), HG_OK);
		CHECK_INT(hg_pdq_hash_pixels(h, small, S, S, S, 1, 0, &rs), HG_OK);
		CHECK_INT(hg_pdq_hash_pixels(h, up, N, N, N, 1, 0, &ru), HG_OK);
		int ds = hg_pdq_distance(&rb.hash[0], &rs.hash[0]);
		int du = hg_pdq_distance(&rb.hash[0], &ru.hash[0]);
		printf("small copy: %d bits, upscaled: %d bits\n", ds, du);
		CHECK(du < ds);
		CHECK(du <= 16);
		hg_pdq_hasher_free(h);
	}
	free(big);
	free(small);
	free(up);
	return hgt_finish("test_upscale");
}
