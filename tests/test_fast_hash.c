/*
 * test_fast_hash.c — fast mode (HG_HASH_FAST, hg_pdq_hash_reduced): JPEGs
 * decoded at reduced DCT scale, progressive ones from their DC scan, must
 * stay within a few bits of the exact hash and report the original size;
 * the API's guard rails hold.
 *
 * The pictures are generated here (smooth shapes, written with libjpeg-turbo
 * in baseline and progressive form), so the test needs no shared data; the
 * conformance photo is checked too when ../shared/data is present.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpeg_encode.h"

#include "harness.h"
#include "hashgate/hashgate.h"
#include "media/codec.h"

/* Encodes an RGB picture (a soft background under 40 flat rectangles, placed
 * by a fixed pseudo-random sequence) as a JPEG in memory. */
static unsigned char *make_jpeg(size_t w, size_t h, int progressive, unsigned long *len)
{
	unsigned char *rgb = malloc(w * h * 3);
	if (!rgb)
		return NULL;
	for (size_t y = 0; y < h; y++) {
		for (size_t x = 0; x < w; x++) {
			double u = (double)x / (double)w, v = (double)y / (double)h;
			double a = 0.5 + 0.5 * sin(7.0 * u + 3.0 * v) * cos(5.0 * v - 2.0 * u);
			unsigned char *p = rgb + (y * w + x) * 3;
			p[0] = (unsigned char)(40 + 150 * a);
			p[1] = (unsigned char)(30 + 120 * (1 - a));
			p[2] = (unsigned char)(60 + 100 * a * a);
		}
	}
	unsigned seed = 12345;
	for (int r = 0; r < 40; r++) {
		size_t box[4];
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			box[k] = (seed >> 8) % (k % 2 ? h : w);
		}
		seed = seed * 1103515245u + 12345u;
		for (size_t y = box[1]; y < box[1] + h / 6 && y < h; y++)
			for (size_t x = box[0]; x < box[0] + w / 8 && x < w; x++)
				memset(rgb + (y * w + x) * 3, (int)((seed >> 12) & 255), 3);
	}
	unsigned char *out = hgt_jpeg_encode(rgb, w, h, progressive, len);
	free(rgb);
	return out;
}

static void check_close(hg_hasher *h, const unsigned char *data, size_t len, size_t w,
			size_t hgt, int max_bits, const char *what)
{
	hg_hashes ex, fa;
	CHECK_INT(hg_hash_bytes(h, data, len, 0, &ex), HG_OK);
	CHECK_INT(hg_hash_bytes(h, data, len, HG_HASH_FAST, &fa), HG_OK);
	int bits = hg_pdq_distance(&ex.pdq.hash[0], &fa.pdq.hash[0]);
	printf("%s: fast is %d bits from exact (quality %d / %d)\n", what, bits, ex.pdq.quality,
	       fa.pdq.quality);
	CHECK(bits <= max_bits);
	CHECK(abs(ex.pdq.quality - fa.pdq.quality) <= 10);
	/* fast mode reports the image's own size, not the decoded one */
	CHECK_INT((long)fa.width, (long)w);
	CHECK_INT((long)fa.height, (long)hgt);
	/* the dihedral variants come from the same DCT */
	hg_hashes fd;
	CHECK_INT(hg_hash_bytes(h, data, len, HG_HASH_FAST | HG_HASH_DIHEDRAL, &fd), HG_OK);
	CHECK(hg_pdq_distance(&fd.pdq.hash[0], &fa.pdq.hash[0]) == 0);
	CHECK(hg_pdq_distance(&fd.pdq.hash[2], &fa.pdq.hash[0]) > 64);
}

int main(void)
{
	hg_hasher *h = NULL;
	CHECK_INT(hg_hasher_new(NULL, &h), HG_OK);

	/* 1600x1000: decoded at 3/8 (the shorter side stays >= 256) */
	for (int prog = 0; prog < 2; prog++) {
		unsigned long len = 0;
		unsigned char *jpg = make_jpeg(1600, 1000, prog, &len);
		CHECK(jpg != NULL);
		if (jpg)
			check_close(h, jpg, len, 1600, 1000, 10,
				    prog ? "1600x1000 progressive" : "1600x1000 baseline");
		free(jpg);
	}
	/* 1/8 scale, where a progressive file is read up to its DC scan only:
	 * asked for directly, since HG_HASH_FAST_MIN_SIDE keeps it for photos
	 * of 2048 px and more */
	for (int prog = 0; prog < 2; prog++) {
		unsigned long len = 0;
		unsigned char *jpg = make_jpeg(1600, 1000, prog, &len);
		hg_decoder *dec = NULL;
		hg_pdq_hasher *p = NULL;
		CHECK_INT(hg_decoder_new(NULL, &dec), HG_OK);
		CHECK_INT(hg_pdq_hasher_new(&p), HG_OK);
		hg_image img;
		hg_pdq_reduction red;
		hg_pdq_result ex, fa;
		CHECK_INT(hg_decode(dec, jpg, len, &img), HG_OK);
		CHECK_INT(hg_pdq_hash_pixels(p, img.pixels, img.width, img.height, img.stride,
					     img.channels, 0, &ex),
			  HG_OK);
		hg_image_release(&img);
		CHECK_INT(hg__decode_reduced(dec, jpg, len, 64, &img, &red), HG_OK);
		CHECK(img.width == 200 && img.height == 125 && img.channels == 1);
		CHECK(red.full_width == 1600 && red.full_height == 1000 && red.num == 1 &&
		      red.denom == 8);
		CHECK_INT(hg_pdq_hash_reduced(p, img.pixels, img.width, img.height, img.stride,
					      img.channels, &red, 0, &fa),
			  HG_OK);
		int bits = hg_pdq_distance(&ex.hash[0], &fa.hash[0]);
		printf("1600x1000 %s at 1/8: %d bits from exact\n",
		       prog ? "progressive (DC scan only)" : "baseline", bits);
		CHECK(bits <= 10);
		hg_image_release(&img);
		/* a progressive file cut inside its DC scan (bytes ~240 to ~12300
		 * here) is still refused */
		if (prog)
			CHECK(hg__decode_reduced(dec, jpg, 2000, 64, &img, &red) != HG_OK);
		hg_pdq_hasher_free(p);
		hg_decoder_free(dec);
		free(jpg);
	}

	/* 300x200: under the minimum side, decoded in full (grey) */
	{
		unsigned long len = 0;
		unsigned char *jpg = make_jpeg(300, 200, 1, &len);
		CHECK(jpg != NULL);
		if (jpg)
			check_close(h, jpg, len, 300, 200, 16, "300x200 progressive");
		free(jpg);
	}

	/* guard rails */
	{
		unsigned long len = 0;
		unsigned char *jpg = make_jpeg(64, 64, 0, &len);
		hg_hashes out;
		CHECK_INT(hg_hash_bytes(h, jpg, len, HG_HASH_FAST | HG_HASH_COMPAT_CLI, &out),
			  HG_ERR_INVALID_ARG);
		free(jpg);

		hg_pdq_hasher *p = NULL;
		CHECK_INT(hg_pdq_hasher_new(&p), HG_OK);
		static uint8_t grey[40 * 30];
		for (size_t i = 0; i < sizeof grey; i++)
			grey[i] = (uint8_t)((i * 7) ^ (i / 40 * 13));
		hg_pdq_result r1, r2;
		hg_pdq_reduction same = {40, 30, 8, 8};
		CHECK_INT(hg_pdq_hash_pixels(p, grey, 40, 30, 40, 1, 0, &r1), HG_OK);
		CHECK_INT(hg_pdq_hash_reduced(p, grey, 40, 30, 40, 1, &same, 0, &r2), HG_OK);
		CHECK(hg_pdq_distance(&r1.hash[0], &r2.hash[0]) == 0 && r1.quality == r2.quality);
		/* 40x30 is 1/8 of 320x240 but not of 330x240 (ceil gives 42) */
		hg_pdq_reduction eighth = {320, 240, 1, 8}, wrong = {330, 240, 1, 8};
		CHECK_INT(hg_pdq_hash_reduced(p, grey, 40, 30, 40, 1, &eighth, 0, &r2), HG_OK);
		CHECK_INT(hg_pdq_hash_reduced(p, grey, 40, 30, 40, 1, &wrong, 0, &r2),
			  HG_ERR_INVALID_ARG);
		CHECK_INT(hg_pdq_hash_reduced(p, grey, 40, 30, 40, 1, NULL, 0, &r2),
			  HG_ERR_INVALID_ARG);
		CHECK_INT(hg_pdq_hash_reduced(p, grey, 40, 30, 40, 1, &eighth, HG_PDQ_COMPAT_CLI,
						  &r2),
			  HG_ERR_INVALID_ARG);
		hg_pdq_hasher_free(p);
	}

	/* the conformance photo (1600x1004), when the shared data is here */
	const char *shared = hgt_shared_data();
	if (shared) {
		char path[1024];
		snprintf(path, sizeof path,
			 "%s/pdq-reference/pdq/data/reg-test-input/dih/bridge-1-original.jpg",
			 shared);
		size_t n = 0;
		unsigned char *buf = hgt_read_file(path, &n);
		CHECK(buf != NULL);
		if (buf)
			check_close(h, buf, n, 1600, 1004, 10, "bridge-1-original.jpg");
		free(buf);
	}
	hg_hasher_free(h);
	return hgt_finish("test_fast_hash");
}
