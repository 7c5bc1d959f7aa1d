/*
 * image.h — decoding untrusted image bytes into pixels PDQ can hash.
 *
 * The format is sniffed from the bytes, never from a file name. Every decode
 * reads the header first and checks the size against hg_limits before any
 * pixel buffer is allocated, so a decompression bomb costs a header parse,
 * not gigabytes. Decoders are adapters around Debian's libraries
 * (libjpeg-turbo, libpng, giflib, libwebp, libtiff, libheif); hashgate's own
 * code only sniffs and converts.
 *
 * Pixel conventions follow what Meta's reference sees through ImageMagick:
 * alpha is dropped (not composited), grey images stay one channel, CMYK JPEGs
 * are converted to RGB, EXIF orientation is ignored (dihedral matching covers
 * it), and a GIF gives its first frame (animated GIFs are videos).
 */
#ifndef HASHGATE_IMAGE_H
#define HASHGATE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "hashgate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HG_DEFAULT_MAX_BYTES ((uint64_t)100 << 20)   /* 100 MiB */
#define HG_DEFAULT_MAX_PIXELS ((uint64_t)100000000)  /* 100 megapixels */
#define HG_DEFAULT_MAX_SIDE 65535u                    /* px, either side */

typedef struct hg_limits {
	uint64_t max_bytes;  /* encoded input size */
	uint64_t max_pixels; /* width * height, computed in 64 bits */
	uint32_t max_side;   /* largest width or height */
} hg_limits;

/* Fills *limits with the defaults above. */
HG_API void hg_limits_default(hg_limits *limits);

typedef enum hg_format {
	HG_FORMAT_UNKNOWN = 0,
	HG_FORMAT_JPEG,
	HG_FORMAT_PNG,
	HG_FORMAT_GIF,
	HG_FORMAT_WEBP,
	HG_FORMAT_BMP,
	HG_FORMAT_TIFF,
	HG_FORMAT_HEIF, /* HEIC and other HEIF brands */
	HG_FORMAT_AVIF,
	HG_FORMAT_COUNT_
} hg_format;

/* Identifies the format from the first bytes; HG_FORMAT_UNKNOWN if none. */
HG_API hg_format hg_sniff(const void *data, size_t len);
/* "jpeg", "png", ...; "unknown" for HG_FORMAT_UNKNOWN. */
HG_API const char *hg_format_name(hg_format format);

/* Decoded pixels. `channels` is 1 (grey) or 3 (RGB); rows are `stride`
 * bytes apart. Owned by the caller once hg_decode returns HG_OK. */
typedef struct hg_image {
	uint8_t *pixels;
	size_t width, height, stride;
	int channels;
	hg_format format;
} hg_image;

/* Frees img->pixels and zeroes *img. NULL is a no-op. */
HG_API void hg_image_release(hg_image *img);

/* A decoder: limits, scratch, and the message of its last failure. One per
 * thread. */
typedef struct hg_decoder hg_decoder;

/* `limits` may be NULL for the defaults; it is copied. */
HG_API hg_status hg_decoder_new(const hg_limits *limits, hg_decoder **out);
HG_API void hg_decoder_free(hg_decoder *dec);

/* Reads only the header: format and dimensions, limits checked. */
HG_API hg_status hg_decoder_probe(hg_decoder *dec, const void *data, size_t len,
				  hg_format *format, size_t *width, size_t *height);

/*
 * Decodes `len` bytes into *out. On failure *out is zeroed and the status
 * says why: HG_ERR_EMPTY, HG_ERR_UNKNOWN_FORMAT, HG_ERR_TOO_LARGE (a limit;
 * checked from the header, before allocating pixels), HG_ERR_TRUNCATED,
 * HG_ERR_CORRUPT, HG_ERR_UNSUPPORTED, HG_ERR_NOMEM. The detail is in
 * hg_decoder_errmsg(). Never reads past data + len.
 */
HG_API hg_status hg_decode(hg_decoder *dec, const void *data, size_t len, hg_image *out);

/* The message of the decoder's last failure ("" after a success). */
HG_API const char *hg_decoder_errmsg(const hg_decoder *dec);

#ifdef __cplusplus
}
#endif
#endif
