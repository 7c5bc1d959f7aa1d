/*
 * fuzz_query.c — libFuzzer target for the upload-side hashing pipeline on
 * arbitrary pixels: every query-side transform (unletterbox, uncaption trim
 * and fill, upscale, exact dihedral pixels) plus the bank-side regions and
 * digests, on pictures whose size and content the fuzzer controls.
 *
 * The decoders have their own targets; this one wraps the fuzz bytes in an
 * uncompressed 24-bit BMP so that everything after decoding sees hostile
 * geometry: one-pixel images, bands that cover the whole picture, stripes
 * that look like text, flat images. The fuzz payload is tiled over the
 * pixels, so short inputs give the repeated, uniform areas the border and
 * caption detectors look for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashgate/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_le(uint8_t *p, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5 || size > 65536)
		return 0;
	/* sizes up to 600 px reach both sides of the 512 px upscale cut-off */
	uint32_t w = 1 + ((uint32_t)data[0] | (uint32_t)(data[1] & 1) << 8) % 600;
	uint32_t h = 1 + ((uint32_t)data[2] | (uint32_t)(data[3] & 1) << 8) % 600;
	const uint8_t *px = data + 4;
	size_t npx = size - 4;
	size_t row = ((size_t)w * 3 + 3) & ~(size_t)3;
	size_t len = 54 + row * h;
	uint8_t *bmp = calloc(1, len);
	if (!bmp)
		return 0;
	bmp[0] = 'B';
	bmp[1] = 'M';
	put_le(bmp + 2, (uint32_t)len, 4);
	put_le(bmp + 10, 54, 4);
	put_le(bmp + 14, 40, 4);
	put_le(bmp + 18, w, 4);
	put_le(bmp + 22, h, 4);
	put_le(bmp + 26, 1, 2);
	put_le(bmp + 28, 24, 2);
	put_le(bmp + 34, (uint32_t)(row * h), 4);
	size_t k = 0;
	for (uint32_t y = 0; y < h; y++)
		for (size_t x = 0; x < (size_t)w * 3; x++, k++)
			bmp[54 + y * row + x] = px[k % npx];

	hg_hasher *hs = NULL;
	if (hg_hasher_new(NULL, &hs) != HG_OK)
		abort();
	hg_hashes out;
	unsigned flags = HG_HASH_QUERY_DEFAULT | HG_HASH_REGIONS | HG_HASH_DIGESTS;
	hg_status st = hg_hash_bytes(hs, bmp, len, flags, &out);
	if (st == HG_OK) {
		if (out.width != w || out.height != h || out.n_extra > HG_HASH_MAX_EXTRA)
			abort();
		for (size_t i = 0; i < out.n_extra; i++) {
			const hg_extra_hash *e = &out.extra[i];
			/* upscale and dihedral-pixels extras describe the whole image */
			if (e->width == 0 || e->height == 0 || e->x + e->width > w ||
			    e->y + e->height > h || !e->name)
				abort();
		}
		const hg_pdq_result *sets[HG_HASH_MAX_QUERY_SETS];
		const char *names[HG_HASH_MAX_QUERY_SETS];
		size_t n = hg_hashes_query_sets(&out, HG_PDQ_MIN_QUALITY, sets, names,
						HG_HASH_MAX_QUERY_SETS);
		if (n > HG_HASH_MAX_QUERY_SETS)
			abort();
		for (size_t i = 0; i < n; i++)
			if (!sets[i] || !names[i] || sets[i]->quality < HG_PDQ_MIN_QUALITY)
				abort();
	}
	hg_hasher_free(hs);
	free(bmp);
	return 0;
}
