/*
 * heif.c — HEIF/HEIC (HEVC) and AVIF (AV1) through libheif: the primary
 * image, converted by libheif to 8-bit interleaved RGB (alpha dropped, HDR
 * scaled to 8 bits). libheif's default transformations (irot/imir/clap
 * container properties) are applied, as ImageMagick's heic coder does for
 * the reference; EXIF orientation is not.
 *
 * Hostile input: libheif's own image-size security limit is set from
 * hg_limits (never above its built-in default), decoding runs on the calling
 * thread, and the primary image's size passes our limits before libheif is
 * asked to decode anything.
 */
#include <limits.h>
#include <string.h>

#include <libheif/heif.h>

#include "media/codec.h"

#define LIBHEIF_DEFAULT_MAX_SIDE 32768 /* libheif's MAX_IMAGE_WIDTH/HEIGHT */

static hg_status heif_fail(hg_decoder *dec, struct heif_error err, const char *what)
{
	const char *msg = err.message ? err.message : "error";
	if (err.subcode == heif_suberror_End_of_data)
		return hg__dec_fail(dec, HG_ERR_TRUNCATED, "HEIF: truncated file (%s: %s)", what,
				    msg);
	if (err.subcode == heif_suberror_Security_limit_exceeded)
		return hg__dec_fail(dec, HG_ERR_TOO_LARGE, "HEIF: %s: %s", what, msg);
	switch (err.code) {
	case heif_error_Memory_allocation_error:
		return hg__dec_fail(dec, HG_ERR_NOMEM, "HEIF: %s: %s", what, msg);
	case heif_error_Unsupported_filetype:
	case heif_error_Unsupported_feature:
	case heif_error_Plugin_loading_error:
		return hg__dec_fail(dec, HG_ERR_UNSUPPORTED, "HEIF: %s: %s", what, msg);
	default:
		return hg__dec_fail(dec, HG_ERR_CORRUPT, "HEIF: %s: %s", what, msg);
	}
}

/* libheif names a cut-off file in many ways ("no ftyp box", a missing item,
 * a decoder error). The box structure says it plainly: a top-level box that
 * claims to run past the end of the data, or a file that ends, on a box
 * boundary, before the 'meta' box every HEIF needs. */
static int boxes_run_past_end(const uint8_t *p, size_t len)
{
	size_t off = 0;
	int meta = 0;
	while (off < len) {
		if (len - off >= 8 && !memcmp(p + off + 4, "meta", 4))
			meta = 1;
		if (len - off < 8)
			return 1;
		uint64_t size = (uint64_t)p[off] << 24 | (uint64_t)p[off + 1] << 16 |
				(uint64_t)p[off + 2] << 8 | p[off + 3];
		if (size == 1) { /* 64-bit largesize follows the type */
			if (len - off < 16)
				return 1;
			size = 0;
			for (int i = 0; i < 8; i++)
				size = size << 8 | p[off + 8 + i];
		} else if (size == 0) { /* to the end of the file */
			return 0;
		}
		if (size < 8)
			return 0; /* malformed, not truncated */
		if (size > len - off)
			return 1;
		off += (size_t)size;
	}
	return !meta;
}

static hg_status heif_fail_in(hg_decoder *dec, const uint8_t *data, size_t len,
			      struct heif_error err, const char *what)
{
	if (err.subcode != heif_suberror_Security_limit_exceeded &&
	    boxes_run_past_end(data, len))
		return hg__dec_fail(dec, HG_ERR_TRUNCATED, "HEIF: truncated file (%s: %s)", what,
				    err.message ? err.message : "error");
	return heif_fail(dec, err, what);
}

/* Opens the container and the primary image. */
static hg_status heif_open(hg_decoder *dec, const uint8_t *data, size_t len,
			   struct heif_context **ctx, struct heif_image_handle **handle)
{
	*handle = NULL;
	*ctx = heif_context_alloc();
	if (!*ctx)
		return hg__dec_fail(dec, HG_ERR_NOMEM, "HEIF: cannot create a context");
	uint32_t side = dec->limits.max_side;
	heif_context_set_maximum_image_size_limit(
		*ctx, side < LIBHEIF_DEFAULT_MAX_SIDE ? (int)side : LIBHEIF_DEFAULT_MAX_SIDE);
	heif_context_set_max_decoding_threads(*ctx, 0);
	struct heif_error err = heif_context_read_from_memory_without_copy(*ctx, data, len, NULL);
	if (err.code != heif_error_Ok)
		return heif_fail_in(dec, data, len, err, "container");
	err = heif_context_get_primary_image_handle(*ctx, handle);
	if (err.code != heif_error_Ok)
		return heif_fail_in(dec, data, len, err, "primary image");
	return HG_OK;
}

static void heif_close(struct heif_context *ctx, struct heif_image_handle *handle)
{
	heif_image_handle_release(handle);
	heif_context_free(ctx);
}

static hg_status heif_probe(hg_decoder *dec, const uint8_t *data, size_t len, size_t *w,
			    size_t *h)
{
	struct heif_context *ctx;
	struct heif_image_handle *handle;
	hg_status st = heif_open(dec, data, len, &ctx, &handle);
	if (st == HG_OK) {
		int iw = heif_image_handle_get_width(handle);
		int ih = heif_image_handle_get_height(handle);
		*w = iw > 0 ? (size_t)iw : 0;
		*h = ih > 0 ? (size_t)ih : 0;
	}
	heif_close(ctx, handle);
	return st;
}

/* Copies libheif's interleaved RGB plane into our buffer. */
static hg_status copy_rgb(hg_decoder *dec, const struct heif_image *img, hg_format format,
			  hg_image *out)
{
	int stride = 0;
	const uint8_t *plane = heif_image_get_plane_readonly(img, heif_channel_interleaved,
							     &stride);
	int w = heif_image_get_width(img, heif_channel_interleaved);
	int h = heif_image_get_height(img, heif_channel_interleaved);
	if (!plane || w <= 0 || h <= 0 || stride < 3 * w ||
	    heif_image_get_bits_per_pixel_range(img, heif_channel_interleaved) != 8)
		return hg__dec_fail(dec, HG_ERR_CORRUPT, "HEIF: decoder gave no 8-bit RGB plane");
	hg_status st = hg__dec_check_size(dec, (uint64_t)w, (uint64_t)h);
	if (st == HG_OK)
		st = hg__image_alloc(dec, out, (size_t)w, (size_t)h, 3, format);
	if (st)
		return st;
	for (size_t y = 0; y < (size_t)h; y++)
		memcpy(out->pixels + y * out->stride, plane + y * (size_t)stride, out->stride);
	return HG_OK;
}

static hg_status heif_decode_as(hg_decoder *dec, const uint8_t *data, size_t len,
				hg_image *out, hg_format format)
{
	struct heif_context *ctx;
	struct heif_image_handle *handle;
	hg_status st = heif_open(dec, data, len, &ctx, &handle);
	if (st == HG_OK)
		st = hg__dec_check_size(dec, (uint64_t)heif_image_handle_get_width(handle),
					(uint64_t)heif_image_handle_get_height(handle));
	struct heif_decoding_options *opts = NULL;
	if (st == HG_OK && !(opts = heif_decoding_options_alloc()))
		st = hg__dec_fail(dec, HG_ERR_NOMEM, "HEIF: cannot allocate options");
	struct heif_image *img = NULL;
	if (st == HG_OK) {
		opts->convert_hdr_to_8bit = 1;
		/* AV1 through libaom, never libheif 1.15's dav1d plugin: given
		 * an empty AV1 item that one prints to stderr and leaks (found
		 * by fuzz_heif). libheif only takes decoder_id from a plugin
		 * that handles the image's codec, so HEVC stays on libde265. */
		opts->decoder_id = "aom";
		struct heif_error err = heif_decode_image(handle, &img, heif_colorspace_RGB,
							  heif_chroma_interleaved_RGB, opts);
		if (err.code != heif_error_Ok)
			st = heif_fail_in(dec, data, len, err, "image data");
	}
	if (st == HG_OK)
		st = copy_rgb(dec, img, format, out);
	heif_image_release(img);
	heif_decoding_options_free(opts);
	heif_close(ctx, handle);
	return st;
}

static hg_status heif_decode(hg_decoder *dec, const uint8_t *data, size_t len, hg_image *out)
{
	return heif_decode_as(dec, data, len, out, HG_FORMAT_HEIF);
}

static hg_status avif_decode(hg_decoder *dec, const uint8_t *data, size_t len, hg_image *out)
{
	return heif_decode_as(dec, data, len, out, HG_FORMAT_AVIF);
}

const hg_codec hg__codec_heif = {1, HG_FORMAT_HEIF, heif_probe, heif_decode};
const hg_codec hg__codec_avif = {1, HG_FORMAT_AVIF, heif_probe, avif_decode};
