/*
 * fuzz_decode.h — the body every decoder fuzz target shares: decode one
 * input under small limits and check the decoder's contract, aborting (so
 * libFuzzer reports it) when a success looks impossible or a failure has no
 * message. Inputs of another format are skipped, so each target spends its
 * time in one codec.
 *
 * Caps as libjpeg-turbo's own fuzzers: 1 MiB of input, 1 megapixel of output,
 * which keeps one execution well under a second while leaving every code
 * path reachable.
 */
#ifndef HG_FUZZ_DECODE_H
#define HG_FUZZ_DECODE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashgate/image.h"

#define HG_FUZZ_MAX_BYTES (1u << 20)
#define HG_FUZZ_MAX_PIXELS (1u << 20)

static int hg_fuzz_decode(const uint8_t *data, size_t size, hg_format a, hg_format b)
{
	if (size > HG_FUZZ_MAX_BYTES)
		return 0;
	hg_format f = hg_sniff(data, size);
	if (f != a && f != b)
		return 0;
	hg_limits lim;
	hg_limits_default(&lim);
	lim.max_pixels = HG_FUZZ_MAX_PIXELS;
	hg_decoder *dec = NULL;
	if (hg_decoder_new(&lim, &dec) != HG_OK)
		abort();
	hg_format pf;
	size_t pw, ph;
	hg_status pst = hg_decoder_probe(dec, data, size, &pf, &pw, &ph);
	if (pst != HG_OK && hg_decoder_errmsg(dec)[0] == '\0')
		abort();
	hg_image img;
	hg_status st = hg_decode(dec, data, size, &img);
	if (st == HG_OK) {
		if (!img.pixels || img.width < 5 || img.height < 5 ||
		    img.width * img.height > HG_FUZZ_MAX_PIXELS ||
		    (img.channels != 1 && img.channels != 3) ||
		    img.stride < img.width * (size_t)img.channels || img.format != f)
			abort();
		/* read every pixel so the sanitizers see uninitialised or short
		 * buffers */
		volatile unsigned sum = 0;
		for (size_t y = 0; y < img.height; y++)
			for (size_t x = 0; x < img.width * (size_t)img.channels; x++)
				sum += img.pixels[y * img.stride + x];
		(void)sum;
	} else {
		if (img.pixels || hg_decoder_errmsg(dec)[0] == '\0')
			abort();
	}
	hg_image_release(&img);
	hg_decoder_free(dec);
	return 0;
}

#endif
