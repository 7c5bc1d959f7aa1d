/*
 * test_veil.c — see-through caption bars: hg_find_veils() finds a darkening
 * bar at the top and a washing-out bar at the bottom with their depth and
 * map, finds none on a plain picture or where another picture was pasted
 * over the top, and hg_lift_veils() restores the picture under the bar so
 * that its PDQ hash comes back close to the original's.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/veil.h"
#include "harness.h"
#include "hashgate/pdq.h"

#define W 300
#define H 200
#define C 3

/* A smooth picture: neighbouring rows alike, every row varied. `phase`
 * gives a different picture. */
static void paint(uint8_t *img, double phase)
{
	for (size_t y = 0; y < H; y++)
		for (size_t x = 0; x < W; x++)
			for (size_t c = 0; c < C; c++) {
				double v = 128 +
					   80 * sin((double)x / 37 + phase + (double)c) *
						   cos((double)y / 29 + phase) +
					   25 * sin((double)x / (5 + c) + (double)y / 13);
				img[(y * W + x) * C + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
			}
}

/* out = (1 - a) * picture + a * colour on rows [y0, y1), then "text" (when
 * ink >= 0): a run of `ink` pixels on two middle rows of the bar. */
static void veil(uint8_t *img, size_t y0, size_t y1, double a, double colour, int ink)
{
	for (size_t y = y0; y < y1; y++)
		for (size_t i = 0; i < (size_t)W * C; i++) {
			uint8_t *p = img + y * W * C + i;
			*p = (uint8_t)((1 - a) * *p + a * colour + 0.5);
		}
	size_t mid = (y0 + y1) / 2;
	for (size_t y = mid - 1; ink >= 0 && y < mid + 1; y++)
		memset(img + y * W * C + 100 * C, ink, 100 * C);
}

static int pdq_distance(hg_pdq_hasher *hasher, const uint8_t *a, const uint8_t *b)
{
	hg_pdq_result ra, rb;
	if (hg_pdq_hash_pixels(hasher, a, W, H, W * C, C, 0, &ra) ||
	    hg_pdq_hash_pixels(hasher, b, W, H, W * C, C, 0, &rb))
		return -1;
	return hg_pdq_distance(&ra.hash[0], &rb.hash[0]);
}

int main(void)
{
	uint8_t *pic = malloc((size_t)W * H * C), *img = malloc((size_t)W * H * C);
	hg_pdq_hasher *hasher = NULL;
	CHECK_INT(hg_pdq_hasher_new(&hasher), HG_OK);
	CHECK(pic && img);
	if (!pic || !img || !hasher) {
		free(pic);
		free(img);
		hg_pdq_hasher_free(hasher);
		return hgt_finish("test_veil");
	}
	hg_veil top, bottom;
	paint(pic, 0);

	/* a plain picture has no veil */
	CHECK_INT(hg_find_veils(pic, W, H, W * C, C, &top, &bottom), 0);
	CHECK_INT(top.rows, 0);
	CHECK_INT(bottom.rows, 0);

	/* a 60%-opaque black bar over the top 40 rows, with white text */
	memcpy(img, pic, (size_t)W * H * C);
	veil(img, 0, 40, 0.6, 0, 255);
	CHECK_INT(hg_find_veils(img, W, H, W * C, C, &top, &bottom), 1);
	CHECK_INT(top.rows, 40);
	CHECK_INT(bottom.rows, 0);
	CHECK(fabs(top.gain - 0.4) < 0.03);
	CHECK(fabs(top.offset[0]) < 4);
	/* lifted, a row of the bar without text is the picture again, to a few
	 * levels (the map is fitted on two neighbouring rows, which differ a
	 * little: here the gain comes out 0.417), and the hash of the picture
	 * under a bar without text comes back */
	hg_lift_veils(img, W, H, W * C, C, &top, &bottom);
	int worst = 0;
	for (size_t i = 0; i < (size_t)W * C; i++) {
		int d = abs((int)img[3 * W * C + i] - (int)pic[3 * W * C + i]);
		worst = d > worst ? d : worst;
	}
	CHECK(worst <= 10);
	memcpy(img, pic, (size_t)W * H * C);
	veil(img, 0, 40, 0.6, 0, -1);
	int before = pdq_distance(hasher, img, pic);
	CHECK_INT(hg_find_veils(img, W, H, W * C, C, &top, &bottom), 1);
	hg_lift_veils(img, W, H, W * C, C, &top, &bottom);
	int after = pdq_distance(hasher, img, pic);
	CHECK(before > 31);
	CHECK(after >= 0 && after <= 8);

	/* a 50%-opaque white bar over the bottom 30 rows, with black text */
	memcpy(img, pic, (size_t)W * H * C);
	veil(img, H - 30, H, 0.5, 255, 0);
	CHECK_INT(hg_find_veils(img, W, H, W * C, C, &top, &bottom), 1);
	CHECK_INT(top.rows, 0);
	CHECK_INT(bottom.rows, 30);
	CHECK(fabs(bottom.gain - 0.5) < 0.03);
	CHECK(fabs(bottom.offset[0] - 127.5) < 4);

	/* another picture pasted over the top 40 rows is no veil */
	paint(img, 2.0);
	memcpy(img + 40 * W * C, pic + 40 * W * C, (size_t)W * (H - 40) * C);
	CHECK_INT(hg_find_veils(img, W, H, W * C, C, &top, &bottom), 0);

	/* a faint bar (15% opacity) is left alone: it looks like a shadow */
	memcpy(img, pic, (size_t)W * H * C);
	veil(img, 0, 40, 0.15, 0, 255);
	CHECK_INT(hg_find_veils(img, W, H, W * C, C, &top, &bottom), 0);

	/* bad input */
	CHECK_INT(hg_find_veils(NULL, W, H, W * C, C, &top, &bottom), 0);
	CHECK_INT(hg_find_veils(pic, W, H, W * C, 2, &top, &bottom), 0);
	CHECK_INT(hg_find_veils(pic, W, 2, W * C, C, &top, &bottom), 0);
	top.rows = H + 1;
	bottom.rows = 0;
	memcpy(img, pic, (size_t)W * H * C);
	hg_lift_veils(img, W, H, W * C, C, &top, &bottom); /* refused: no change */
	CHECK(memcmp(img, pic, (size_t)W * H * C) == 0);

	hg_pdq_hasher_free(hasher);
	free(pic);
	free(img);
	return hgt_finish("test_veil");
}
