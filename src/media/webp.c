/*
 * webp.c — WebP (lossy VP8, lossless VP8L, with or without alpha) through
 * libwebp, as ImageMagick hands it to Meta's reference: libwebp's default
 * decoder options (fancy upsampling on), straight RGB, alpha dropped rather
 * than composited. An animated WebP gives its first frame (at the frame's own
 * size, like GIF); animations are the video path's job.
 *
 * The dimensions come from WebPGetFeatures (header only) and pass the limits
 * before libwebp writes into a buffer we allocate ourselves.
 */
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

#include "media/codec.h"

static hg_status webp_status(hg_decoder *dec, VP8StatusCode code, const char *what)
{
	switch (code) {
	case VP8_STATUS_OK:
		return HG_OK;
	case VP8_STATUS_NOT_ENOUGH_DATA:
		return hg__dec_fail(dec, HG_ERR_TRUNCATED, "WebP: truncated %s", what);
	case VP8_STATUS_OUT_OF_MEMORY:
		return hg__dec_fail(dec, HG_ERR_NOMEM, "WebP: out of memory");
	case VP8_STATUS_UNSUPPORTED_FEATURE:
		return hg__dec_fail(dec, HG_ERR_UNSUPPORTED, "WebP: unsupported feature in %s",
				    what);
	default:
		return hg__dec_fail(dec, HG_ERR_CORRUPT, "WebP: invalid %s (libwebp status %d)",
				    what, (int)code);
	}
}

/* The bitstream to decode: the whole file, or frame 1 of an animation. The
 * RIFF size field must fit in the data, or the file was cut short. */
static hg_status pick_bitstream(hg_decoder *dec, const uint8_t **data, size_t *len,
				WebPBitstreamFeatures *feat)
{
	if (*len >= 8) {
		const uint8_t *p = *data;
		size_t riff = (size_t)p[4] | (size_t)p[5] << 8 | (size_t)p[6] << 16 |
			      (size_t)p[7] << 24;
		if (riff + 8 > *len)
			return hg__dec_fail(dec, HG_ERR_TRUNCATED,
					    "WebP: truncated file (RIFF says %zu bytes, got %zu)",
					    riff + 8, *len);
	}
	hg_status st = webp_status(dec, WebPGetFeatures(*data, *len, feat), "header");
	if (st || !feat->has_animation)
		return st;
	WebPData whole = {*data, *len};
	WebPDemuxer *demux = WebPDemux(&whole);
	WebPIterator it;
	if (!demux)
		return hg__dec_fail(dec, HG_ERR_CORRUPT, "WebP: invalid animation container");
	if (!WebPDemuxGetFrame(demux, 1, &it)) {
		WebPDemuxDelete(demux);
		return hg__dec_fail(dec, HG_ERR_CORRUPT, "WebP: animation without frames");
	}
	/* fragment points into *data, which outlives the demuxer */
	*data = it.fragment.bytes;
	*len = it.fragment.size;
	WebPDemuxReleaseIterator(&it);
	WebPDemuxDelete(demux);
	st = webp_status(dec, WebPGetFeatures(*data, *len, feat), "first frame");
	if (st == HG_OK && feat->has_animation)
		st = hg__dec_fail(dec, HG_ERR_CORRUPT, "WebP: nested animation");
	return st;
}

static hg_status webp_probe(hg_decoder *dec, const uint8_t *data, size_t len, size_t *w,
			    size_t *h)
{
	WebPBitstreamFeatures feat;
	hg_status st = pick_bitstream(dec, &data, &len, &feat);
	if (st == HG_OK) {
		*w = (size_t)feat.width;
		*h = (size_t)feat.height;
	}
	return st;
}

static hg_status webp_decode(hg_decoder *dec, const uint8_t *data, size_t len, hg_image *out)
{
	WebPDecoderConfig config;
	if (!WebPInitDecoderConfig(&config))
		return hg__dec_fail(dec, HG_ERR_INTERNAL, "WebP: library version mismatch");
	hg_status st = pick_bitstream(dec, &data, &len, &config.input);
	if (st == HG_OK)
		st = hg__dec_check_size(dec, (uint64_t)config.input.width,
					(uint64_t)config.input.height);
	if (st == HG_OK)
		st = hg__image_alloc(dec, out, (size_t)config.input.width,
				     (size_t)config.input.height, 3, HG_FORMAT_WEBP);
	if (st)
		return st;
	config.options.use_threads = 0;
	config.output.colorspace = MODE_RGB;
	config.output.is_external_memory = 1;
	config.output.u.RGBA.rgba = out->pixels;
	config.output.u.RGBA.stride = (int)out->stride;
	config.output.u.RGBA.size = out->stride * out->height;
	st = webp_status(dec, WebPDecode(data, len, &config), "image data");
	WebPFreeDecBuffer(&config.output);
	return st;
}

const hg_codec hg__codec_webp = {1, HG_FORMAT_WEBP, webp_probe, webp_decode};
