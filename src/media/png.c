/*
 * png.c — PNG through libpng, as ImageMagick hands it to the reference:
 * palette expanded to RGB, 1/2/4-bit grey expanded to 8-bit, 16-bit scaled
 * to 8, alpha dropped (not composited), grey kept as one channel.
 */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "media/codec.h"

struct reader {
	const uint8_t *data;
	size_t len, pos;
	hg_decoder *dec;
	hg_status status;
};

static void read_fn(png_structp png, png_bytep out, png_size_t n)
{
	struct reader *r = png_get_io_ptr(png);
	if (n > r->len - r->pos) {
		r->status = hg__dec_fail(r->dec, HG_ERR_TRUNCATED, "PNG: truncated file");
		png_longjmp(png, 1);
	}
	memcpy(out, r->data + r->pos, n);
	r->pos += n;
}

static void error_fn(png_structp png, png_const_charp msg)
{
	struct reader *r = png_get_error_ptr(png);
	if (r->status == HG_OK)
		r->status = hg__dec_fail(r->dec, HG_ERR_CORRUPT, "PNG: %s", msg);
	png_longjmp(png, 1);
}

static void warn_fn(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* Every chunk must fit in the data before libpng sees it: libpng allocates a
 * chunk's declared length before reading it, and fuzz_png found a 119-byte
 * file whose tEXt chunk made it allocate and touch 1.7 GB. Walking the chunk
 * headers costs nothing and turns that into a plain truncation. */
static hg_status check_chunks(hg_decoder *dec, const uint8_t *d, size_t len)
{
	for (size_t off = 8; len - off >= 12;) {
		const uint8_t *c = d + off;
		size_t n = (size_t)c[0] << 24 | (size_t)c[1] << 16 | (size_t)c[2] << 8 | c[3];
		if (n > len - off - 12)
			return hg__dec_fail(dec, HG_ERR_TRUNCATED,
					    "PNG: truncated file (a %zu-byte chunk at offset %zu "
					    "runs past the end)",
					    n, off);
		if (!memcmp(c + 4, "IEND", 4))
			break;
		off += 12 + n;
	}
	return HG_OK;
}

static hg_status png_run(hg_decoder *dec, const uint8_t *data, size_t len, hg_image *out,
			 size_t *w, size_t *h)
{
	hg_status st = len >= 8 ? check_chunks(dec, data, len) : HG_OK;
	if (st)
		return st;
	struct reader r = {data, len, 0, dec, HG_OK};
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, error_fn, warn_fn);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	png_bytep *volatile rows = NULL;
	if (!png || !info) {
		png_destroy_read_struct(&png, NULL, NULL);
		return hg__dec_fail(dec, HG_ERR_NOMEM, "PNG: cannot create reader");
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_read_struct(&png, &info, NULL);
		free(rows);
		return r.status ? r.status : HG_ERR_CORRUPT;
	}
	png_set_read_fn(png, &r, read_fn);
	/* the header check below is ours; let libpng accept what the limits allow */
	png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
	png_set_chunk_malloc_max(png, 64u << 20);
	png_read_info(png, info);
	png_uint_32 pw = png_get_image_width(png, info), ph = png_get_image_height(png, info);
	if (w) {
		*w = pw;
		*h = ph;
		png_destroy_read_struct(&png, &info, NULL);
		return HG_OK;
	}
	st = hg__dec_check_size(dec, pw, ph);
	if (st) {
		png_destroy_read_struct(&png, &info, NULL);
		return st;
	}
	int color = png_get_color_type(png, info);
	if (color == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (png_get_bit_depth(png, info) == 16)
		png_set_scale_16(png);
	png_set_strip_alpha(png);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	int channels = png_get_channels(png, info);
	if (channels != 1 && channels != 3) {
		png_destroy_read_struct(&png, &info, NULL);
		return hg__dec_fail(dec, HG_ERR_UNSUPPORTED, "PNG: %d channels after conversion",
				    channels);
	}
	st = hg__image_alloc(dec, out, pw, ph, channels, HG_FORMAT_PNG);
	if (st == HG_OK) {
		rows = malloc(sizeof(png_bytep) * ph);
		if (!rows)
			st = hg__dec_fail(dec, HG_ERR_NOMEM, "PNG: no memory for row pointers");
	}
	if (st) {
		png_destroy_read_struct(&png, &info, NULL);
		return st;
	}
	for (png_uint_32 y = 0; y < ph; y++)
		rows[y] = out->pixels + (size_t)y * out->stride;
	png_read_image(png, rows);
	png_destroy_read_struct(&png, &info, NULL);
	free(rows);
	return HG_OK;
}

static hg_status png_probe(hg_decoder *dec, const uint8_t *data, size_t len, size_t *w,
			   size_t *h)
{
	return png_run(dec, data, len, NULL, w, h);
}

static hg_status png_decode(hg_decoder *dec, const uint8_t *data, size_t len, hg_image *out)
{
	return png_run(dec, data, len, out, NULL, NULL);
}

const hg_codec hg__codec_png = {1, HG_FORMAT_PNG, png_probe, png_decode};
