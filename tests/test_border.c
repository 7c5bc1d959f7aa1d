/*
 * test_border.c — unletterbox: hg_find_content() finds a picture inside bars
 * of any colour (with JPEG-like noise), leaves a picture without bars alone,
 * refuses uniform images and trims that would leave too little; and
 * hg_hash_pixels of the trimmed part equals the hash of the picture alone, so
 * a letterboxed upload matches its original exactly. Caption bands: found
 * through rows of text, ended at their last uniform row, with a text-centred
 * alternative when a white band runs on into a white-topped picture, and
 * painted over by a fade from the picture's edge row to its mean colour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/border.h"
#include "harness.h"
#include "hashgate/pdq.h"

#define W 300
#define H 200
#define C 3

static uint32_t rng = 12345;
static unsigned rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 16) & 0x7fff;
}

/* A textured "picture": smooth gradients plus noise, nowhere uniform. */
static void paint_picture(uint8_t *img, size_t stride, size_t x0, size_t y0, size_t w, size_t h)
{
	for (size_t y = 0; y < h; y++)
		for (size_t x = 0; x < w; x++) {
			uint8_t *p = img + (y0 + y) * stride + (x0 + x) * C;
			p[0] = (uint8_t)((x * 255 / w + rnd() % 60) % 256);
			p[1] = (uint8_t)((y * 255 / h + rnd() % 60) % 256);
			p[2] = (uint8_t)(((x + y) * 97 + rnd() % 80) % 256);
		}
}

static void fill(uint8_t *img, int r, int g, int b, int noise)
{
	for (size_t i = 0; i < (size_t)W * H; i++) {
		img[i * C] = (uint8_t)(r + (noise ? (int)(rnd() % (unsigned)noise) : 0));
		img[i * C + 1] = (uint8_t)(g + (noise ? (int)(rnd() % (unsigned)noise) : 0));
		img[i * C + 2] = (uint8_t)(b + (noise ? (int)(rnd() % (unsigned)noise) : 0));
	}
}

int main(void)
{
	uint8_t *img = malloc((size_t)W * H * C);
	CHECK(img != NULL);
	if (!img)
		return hgt_finish("test_border");
	hg_rect r;

	/* letterbox: black bars of 30 rows, with noise up to 10 levels */
	fill(img, 0, 0, 0, 10);
	paint_picture(img, W * C, 0, 30, W, H - 60);
	CHECK_INT(hg_find_content(img, W, H, W * C, C, &r), 1);
	CHECK_INT(r.x, 0);
	CHECK_INT(r.y, 30);
	CHECK_INT(r.width, W);
	CHECK_INT(r.height, H - 60);

	/* screenshot: grey padding of unequal widths on all four sides */
	fill(img, 43, 43, 43, 0);
	paint_picture(img, W * C, 40, 15, 200, 150);
	CHECK_INT(hg_find_content(img, W, H, W * C, C, &r), 1);
	CHECK_INT(r.x, 40);
	CHECK_INT(r.y, 15);
	CHECK_INT(r.width, 200);
	CHECK_INT(r.height, 150);

	/* a few stray pixels in a bar (under 1/50 of a row) do not stop it */
	img[5 * W * C + 7 * C] = 255;
	img[5 * W * C + 8 * C + 1] = 255;
	CHECK_INT(hg_find_content(img, W, H, W * C, C, &r), 1);
	CHECK_INT(r.y, 15);

	/* no bars: a picture all over */
	paint_picture(img, W * C, 0, 0, W, H);
	CHECK_INT(hg_find_content(img, W, H, W * C, C, &r), 0);
	CHECK_INT(r.width, W);
	CHECK_INT(r.height, H);

	/* a uniform image has nothing inside */
	fill(img, 200, 10, 10, 0);
	CHECK_INT(hg_find_content(img, W, H, W * C, C, &r), 0);

	/* a bar of 2 rows (under 1/64 of the height) is not worth a second hash */
	fill(img, 255, 255, 255, 0);
	paint_picture(img, W * C, 0, 2, W, H - 2);
	CHECK_INT(hg_find_content(img, W, H, W * C, C, &r), 0);

	/* a picture under a quarter of the side is refused (too little left) */
	fill(img, 0, 0, 0, 0);
	paint_picture(img, W * C, 100, 0, 60, H);
	CHECK_INT(hg_find_content(img, W, H, W * C, C, &r), 0);

	/* grey and RGBA layouts */
	uint8_t *grey = malloc((size_t)W * H);
	uint8_t *rgba = malloc((size_t)W * H * 4);
	CHECK(grey && rgba);
	if (grey && rgba) {
		for (size_t y = 0; y < H; y++)
			for (size_t x = 0; x < W; x++) {
				int in = x >= 50 && x < 250;
				uint8_t v = in ? (uint8_t)(rnd() % 256) : 0;
				grey[y * W + x] = v;
				uint8_t *p = rgba + (y * W + x) * 4;
				p[0] = p[1] = p[2] = v;
				p[3] = (uint8_t)(rnd() % 256); /* alpha is ignored */
			}
		CHECK_INT(hg_find_content(grey, W, H, W, 1, &r), 1);
		CHECK_INT(r.x, 50);
		CHECK_INT(r.width, 200);
		CHECK_INT(hg_find_content(rgba, W, H, W * 4, 4, &r), 1);
		CHECK_INT(r.x, 50);
		CHECK_INT(r.width, 200);
	}
	CHECK_INT(hg_find_content(NULL, W, H, W, 1, &r), 0);
	CHECK_INT(hg_find_content(grey, W, H, W, 2, &r), 0);

	/* a caption band: white, 40 rows, "text" (dark runs over 40% of the
	 * width) on rows 10..29, a clean margin, then the picture */
	fill(img, 255, 255, 255, 0);
	paint_picture(img, W * C, 0, 40, W, H - 40);
	for (size_t y = 10; y < 30; y++)
		for (size_t x = 20; x < 140; x++)
			memset(img + y * W * C + x * C, 0, C);
	hg_bands b;
	CHECK_INT(hg_find_bands(img, W, H, W * C, C, &b), 1);
	CHECK_INT(b.top, 40);
	CHECK_INT(b.bottom, 0);
	CHECK_INT(b.top_text, 0); /* margins 10 above and 10 below the text */
	CHECK_INT(b.bottom_text, 0);
	CHECK_INT(b.top_ink, 1);
	/* strict unletterbox stops at the text */
	CHECK_INT(hg_find_content(img, W, H, W * C, C, &r), 1);
	CHECK_INT(r.y, 10);
	{
		/* the fill: the band's inner row is (nearly) the picture's edge row,
		 * its outer row (nearly) the picture's mean colour */
		uint64_t sum = 0;
		for (size_t y = 40; y < H; y++)
			for (size_t x = 0; x < W; x++)
				sum += img[y * W * C + x * C];
		unsigned mean = (unsigned)((sum + (uint64_t)W * (H - 40) / 2) / ((uint64_t)W * (H - 40)));
		unsigned edge = img[40 * W * C + 7 * C];
		hg_fill_bands(img, W, H, W * C, C, b.top, b.bottom);
		/* (16-bit fixed point: within one level of the exact fade) */
		CHECK(abs((int)img[39 * W * C + 7 * C] - (int)((edge * 40 + mean + 20) / 41)) <= 1);
		CHECK(abs((int)img[0] - (int)((img[40 * W * C] * 1 + mean * 40 + 20) / 41)) <= 1);
		CHECK(memcmp(img + 41 * W * C, img + 40 * W * C, W * C) != 0);
	}
	/* a white band (rows 0..14, text on rows 5..9) over a picture whose top
	 * 30 rows are white too (within the tolerance): the band runs on to row
	 * 45, and the alternative ends it under the text plus the margin above */
	fill(img, 255, 255, 255, 0);
	paint_picture(img, W * C, 0, 45, W, H - 45);
	for (size_t y = 15; y < 45; y++)
		for (size_t x = 0; x < W * C; x++)
			img[y * W * C + x] = (uint8_t)(250 + (x + y) % 5);
	for (size_t y = 5; y < 10; y++)
		for (size_t x = 20; x < 140; x++)
			memset(img + y * W * C + x * C, 0, C);
	CHECK_INT(hg_find_bands(img, W, H, W * C, C, &b), 1);
	CHECK_INT(b.top, 45);
	CHECK_INT(b.top_text, 15);
	/* text over more than 3/4 of a row ends the band: no uniform row after */
	fill(img, 255, 255, 255, 0);
	paint_picture(img, W * C, 0, 40, W, H - 40);
	for (size_t y = 10; y < 30; y++)
		memset(img + y * W * C, 0, (size_t)W * C * 9 / 10);
	CHECK_INT(hg_find_bands(img, W, H, W * C, C, &b), 1);
	CHECK_INT(b.top, 10);
	/* a picture has no bands; nor has a band taller than a third */
	paint_picture(img, W * C, 0, 0, W, H);
	CHECK_INT(hg_find_bands(img, W, H, W * C, C, &b), 0);
	CHECK_INT(b.top, 0);
	fill(img, 0, 0, 0, 0);
	paint_picture(img, W * C, 0, 100, W, H - 100);
	CHECK_INT(hg_find_bands(img, W, H, W * C, C, &b), 0);
	/* the bottom band, grey */
	fill(img, 128, 128, 128, 0);
	paint_picture(img, W * C, 0, 0, W, H - 25);
	CHECK_INT(hg_find_bands(img, W, H, W * C, C, &b), 1);
	CHECK_INT(b.top, 0);
	CHECK_INT(b.bottom, 25);
	CHECK_INT(b.bottom_ink, 0); /* a plain bar */
	CHECK_INT(hg_find_bands(NULL, W, H, W * C, C, &b), 0);
	CHECK_INT(hg_find_bands(img, W, H, W * C, 2, &b), 0);

	/* the trimmed part hashes exactly as the picture alone */
	fill(img, 0, 0, 0, 0);
	paint_picture(img, W * C, 0, 40, W, 120);
	hg_pdq_hasher *hasher = NULL;
	CHECK_INT(hg_pdq_hasher_new(&hasher), HG_OK);
	CHECK_INT(hg_find_content(img, W, H, W * C, C, &r), 1);
	hg_pdq_result boxed, inner, alone;
	CHECK_INT(hg_pdq_hash_pixels(hasher, img, W, H, W * C, C, 0, &boxed), HG_OK);
	CHECK_INT(hg_pdq_hash_pixels(hasher, img + r.y * W * C + r.x * C, r.width, r.height,
				     W * C, C, 0, &inner),
		  HG_OK);
	uint8_t *pic = malloc((size_t)W * 120 * C);
	CHECK(pic != NULL);
	if (pic) {
		memcpy(pic, img + 40 * W * C, (size_t)W * 120 * C);
		CHECK_INT(hg_pdq_hash_pixels(hasher, pic, W, 120, W * C, C, 0, &alone), HG_OK);
		CHECK_INT(hg_pdq_distance(&inner.hash[0], &alone.hash[0]), 0);
		CHECK(hg_pdq_distance(&boxed.hash[0], &alone.hash[0]) > 31);
	}
	free(pic);
	hg_pdq_hasher_free(hasher);
	free(grey);
	free(rgba);
	free(img);
	return hgt_finish("test_border");
}
