/*
 * test_transform.c — the 8 dihedral transforms on pixels: exact positions on
 * a 3x2 image for every transform, and the meaning that matching relies on:
 * the hash of the pixels transformed by k is close to PDQ's DCT-derived
 * variant k (so an exact variant sits where the approximate one did).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/transform.h"
#include "harness.h"
#include "hashgate/pdq.h"

int main(void)
{
	/* 3x2 grey, values 1..6 row by row:  1 2 3 / 4 5 6 */
	const uint8_t src[6] = {1, 2, 3, 4, 5, 6};
	static const struct {
		int k;
		size_t w, h;
		uint8_t out[6];
	} want[] = {
		{HG_DIH_ORIG, 3, 2, {1, 2, 3, 4, 5, 6}},
		{HG_DIH_ROT90, 2, 3, {3, 6, 2, 5, 1, 4}},       /* counter-clockwise */
		{HG_DIH_ROT180, 3, 2, {6, 5, 4, 3, 2, 1}},
		{HG_DIH_ROT270, 2, 3, {4, 1, 5, 2, 6, 3}},      /* clockwise */
		{HG_DIH_FLIPX, 3, 2, {4, 5, 6, 1, 2, 3}},       /* top <-> bottom */
		{HG_DIH_FLIPY, 3, 2, {3, 2, 1, 6, 5, 4}},       /* mirror */
		{HG_DIH_FLIPPLUS1, 2, 3, {1, 4, 2, 5, 3, 6}},   /* transpose */
		{HG_DIH_FLIPMINUS1, 2, 3, {6, 3, 5, 2, 4, 1}},  /* anti-transpose */
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		uint8_t out[6];
		size_t w = 0, h = 0;
		hg_dihedral_pixels(src, 3, 2, 3, 1, want[i].k, out, &w, &h);
		CHECK_INT(w, want[i].w);
		CHECK_INT(h, want[i].h);
		CHECK(memcmp(out, want[i].out, 6) == 0);
	}

	/* a smooth RGB picture: exact variant k near the DCT-derived variant k */
	enum { W = 383, H = 257 }; /* odd blur boxes (3): no half-pixel shift */
	const double pi = 3.14159265358979;
	uint8_t *img = malloc((size_t)W * H * 3), *t = malloc((size_t)W * H * 3);
	hg_pdq_hasher *hasher = NULL;
	CHECK_INT(hg_pdq_hasher_new(&hasher), HG_OK);
	if (img && t && hasher) {
		for (size_t y = 0; y < H; y++)
			for (size_t x = 0; x < W; x++) {
				double u = (double)x / W, v = (double)y / H;
				double f = 128 + 50 * sin(2 * pi * (1.3 * u + 0.7 * v)) +
					   40 * (u * u - v) + 30 * cos(2 * pi * (2.1 * v - 0.4 * u));
				uint8_t *p = img + (y * W + x) * 3;
				p[0] = (uint8_t)f;
				p[1] = (uint8_t)(255 - f);
				p[2] = (uint8_t)(f / 2 + 60 * v);
			}
		hg_pdq_result all, one;
		CHECK_INT(hg_pdq_hash_pixels(hasher, img, W, H, W * 3, 3, HG_PDQ_DIHEDRAL, &all),
			  HG_OK);
		for (int k = 0; k < HG_DIH_COUNT; k++) {
			size_t w, h;
			hg_dihedral_pixels(img, W, H, W * 3, 3, k, t, &w, &h);
			CHECK_INT(hg_pdq_hash_pixels(hasher, t, w, h, w * 3, 3, 0, &one), HG_OK);
			int d = hg_pdq_distance(&one.hash[0], &all.hash[k]);
			if (d > 16)
				printf("variant %s: exact %d bits from the DCT-derived one\n",
				       hg_dihedral_name(k), d);
			CHECK(d <= 16);
		}
	}
	hg_pdq_hasher_free(hasher);
	free(img);
	free(t);
	return hgt_finish("test_transform");
}
