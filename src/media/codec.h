/*
 * codec.h — how a format plugs into the decoder (internal).
 *
 * Each format is a small method table, in the spirit of SQLite's VFS: `probe`
 * reads only the header, `decode` produces 8-bit grey or RGB pixels. Both
 * report failures through hg__dec_fail(), which keeps the message on the
 * decoder handle. A codec must call hg__dec_check_size() with the header's
 * dimensions before it allocates pixels.
 */
#ifndef HG_MEDIA_CODEC_H
#define HG_MEDIA_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "hashgate/image.h"
#include "hashgate/pdq.h"

struct hg_decoder {
	hg_limits limits;
	char errmsg[256];
	/* Fast-hash option (hg__decode_reduced): when non-zero, a codec that can
	 * decode at reduced scale may return grey pixels at a smaller size whose
	 * sides stay >= min_side, and then records the original size and the
	 * scale in `reduction`. Codecs that cannot ignore it and decode in full. */
	size_t min_side;
	hg_pdq_reduction reduction;
};

typedef struct hg_codec {
	int version; /* 1; new members are only ever appended */
	hg_format format;
	hg_status (*probe)(hg_decoder *dec, const uint8_t *data, size_t len,
			   size_t *width, size_t *height);
	hg_status (*decode)(hg_decoder *dec, const uint8_t *data, size_t len, hg_image *out);
} hg_codec;

/* Records a formatted message on dec and returns `status`. */
hg_status hg__dec_fail(hg_decoder *dec, hg_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Checks header dimensions against the limits: zero or negative sides give
 * HG_ERR_CORRUPT, sides under 5 px HG_ERR_TOO_SMALL, anything over a limit
 * HG_ERR_TOO_LARGE. Products are computed in 64 bits. */
hg_status hg__dec_check_size(hg_decoder *dec, uint64_t width, uint64_t height);

/* Allocates out->pixels for width x height x channels (tightly packed). */
hg_status hg__image_alloc(hg_decoder *dec, hg_image *out, size_t width, size_t height,
			  int channels, hg_format format);

/* hg_decode() for the fast hash mode: sets dec->min_side for one decode
 * (see struct hg_decoder) and reports in *red how the pixels relate to the
 * image's own size (1/1 when the codec decoded in full). */
hg_status hg__decode_reduced(hg_decoder *dec, const void *data, size_t len, size_t min_side,
			     hg_image *out, hg_pdq_reduction *red);

/* The codecs. Each lives in src/media/<format>.c. */
extern const hg_codec hg__codec_jpeg;
extern const hg_codec hg__codec_png;
extern const hg_codec hg__codec_gif;
extern const hg_codec hg__codec_webp;
extern const hg_codec hg__codec_bmp;
extern const hg_codec hg__codec_tiff;
extern const hg_codec hg__codec_heif; /* HEIC and other HEVC-coded HEIF */
extern const hg_codec hg__codec_avif; /* AV1-coded HEIF, same adapter */

#endif
