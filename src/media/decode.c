/*
 * decode.c — format sniffing, limits and dispatch to the codec tables.
 *
 * The order of work is the defence against hostile uploads: size of the
 * input, then magic bytes, then the header, then the limits, and only then
 * any pixel allocation. Formats without a codec yet are recognised by their
 * magic bytes and refused with HG_ERR_UNSUPPORTED, which says more than
 * "unknown format".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/codec.h"

static const hg_codec *const codecs[] = {
	&hg__codec_jpeg, &hg__codec_png, &hg__codec_gif,  &hg__codec_webp,
	&hg__codec_bmp,  &hg__codec_tiff, &hg__codec_heif, &hg__codec_avif,
};

static const char *const format_names[HG_FORMAT_COUNT_] = {
	[HG_FORMAT_UNKNOWN] = "unknown", [HG_FORMAT_JPEG] = "jpeg", [HG_FORMAT_PNG] = "png",
	[HG_FORMAT_GIF] = "gif",         [HG_FORMAT_WEBP] = "webp", [HG_FORMAT_BMP] = "bmp",
	[HG_FORMAT_TIFF] = "tiff",       [HG_FORMAT_HEIF] = "heif", [HG_FORMAT_AVIF] = "avif",
};

const char *hg_format_name(hg_format f)
{
	return (unsigned)f < HG_FORMAT_COUNT_ ? format_names[f] : "unknown";
}

/* ISO BMFF: "ftyp" box at offset 4, major brand at 8, compatible brands after. */
static hg_format sniff_isobmff(const uint8_t *p, size_t len)
{
	if (len < 12 || memcmp(p + 4, "ftyp", 4) != 0)
		return HG_FORMAT_UNKNOWN;
	size_t box = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
	if (box < 16 || box > len)
		box = len;
	int heif = 0;
	for (size_t off = 8; off + 4 <= box; off += 4) {
		if (off == 12)
			continue; /* minor version */
		const uint8_t *b = p + off;
		if (!memcmp(b, "avif", 4) || !memcmp(b, "avis", 4))
			return HG_FORMAT_AVIF;
		if (!memcmp(b, "heic", 4) || !memcmp(b, "heix", 4) || !memcmp(b, "mif1", 4) ||
		    !memcmp(b, "msf1", 4) || !memcmp(b, "heim", 4) || !memcmp(b, "heis", 4) ||
		    !memcmp(b, "hevc", 4) || !memcmp(b, "hevx", 4))
			heif = 1;
	}
	return heif ? HG_FORMAT_HEIF : HG_FORMAT_UNKNOWN;
}

hg_format hg_sniff(const void *data, size_t len)
{
	const uint8_t *p = data;
	if (!p || len < 4)
		return HG_FORMAT_UNKNOWN;
	if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return HG_FORMAT_JPEG;
	if (len >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return HG_FORMAT_PNG;
	if (len >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6)))
		return HG_FORMAT_GIF;
	if (len >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
		return HG_FORMAT_WEBP;
	if (len >= 2 && p[0] == 'B' && p[1] == 'M')
		return HG_FORMAT_BMP;
	if (!memcmp(p, "II*\0", 4) || !memcmp(p, "MM\0*", 4))
		return HG_FORMAT_TIFF;
	return sniff_isobmff(p, len);
}

hg_status hg__dec_fail(hg_decoder *dec, hg_status status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dec->errmsg, sizeof dec->errmsg, fmt, ap);
	va_end(ap);
	return status;
}

hg_status hg__dec_check_size(hg_decoder *dec, uint64_t w, uint64_t h)
{
	if (w == 0 || h == 0)
		return hg__dec_fail(dec, HG_ERR_CORRUPT, "image header gives %llux%llu pixels",
				    (unsigned long long)w, (unsigned long long)h);
	if (w > dec->limits.max_side || h > dec->limits.max_side)
		return hg__dec_fail(dec, HG_ERR_TOO_LARGE,
				    "image is %llux%llu; the limit is %u px per side",
				    (unsigned long long)w, (unsigned long long)h,
				    dec->limits.max_side);
	if (w * h > dec->limits.max_pixels)
		return hg__dec_fail(dec, HG_ERR_TOO_LARGE,
				    "image is %llux%llu = %llu pixels; the limit is %llu",
				    (unsigned long long)w, (unsigned long long)h,
				    (unsigned long long)(w * h),
				    (unsigned long long)dec->limits.max_pixels);
	if (w < 5 || h < 5)
		return hg__dec_fail(dec, HG_ERR_TOO_SMALL,
				    "image is %llux%llu; PDQ needs at least 5x5",
				    (unsigned long long)w, (unsigned long long)h);
	return HG_OK;
}

hg_status hg__image_alloc(hg_decoder *dec, hg_image *out, size_t w, size_t h, int channels,
			  hg_format format)
{
	memset(out, 0, sizeof *out);
	size_t stride = w * (size_t)channels;
	out->pixels = malloc(stride * h);
	if (!out->pixels)
		return hg__dec_fail(dec, HG_ERR_NOMEM, "cannot allocate %zux%zu pixels", w, h);
	out->width = w;
	out->height = h;
	out->stride = stride;
	out->channels = channels;
	out->format = format;
	return HG_OK;
}

/* ImageMagick, which decodes for Meta's reference, writes any image whose
 * pixels are all grey as a one-channel PGM, so the reference hashes the grey
 * value itself rather than 0.299g + 0.587g + 0.114g (which can differ in the
 * last float bit). Doing the same here keeps grey pictures stored as RGB
 * (grey GIF palettes, BMPs, TIFFs, WebP) bit-exact. Colour images leave the
 * scan at their first coloured pixel. */
static void collapse_grey(hg_image *img)
{
	if (img->channels != 3)
		return;
	for (size_t y = 0; y < img->height; y++) {
		const uint8_t *p = img->pixels + y * img->stride;
		for (size_t x = 0; x < img->width; x++, p += 3)
			if (p[0] != p[1] || p[0] != p[2])
				return;
	}
	uint8_t *dst = img->pixels;
	for (size_t y = 0; y < img->height; y++) {
		const uint8_t *p = img->pixels + y * img->stride;
		for (size_t x = 0; x < img->width; x++, p += 3)
			*dst++ = p[0];
	}
	img->channels = 1;
	img->stride = img->width;
}

hg_status hg_decoder_new(const hg_limits *limits, hg_decoder **out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	*out = calloc(1, sizeof **out);
	if (!*out)
		return HG_ERR_NOMEM;
	if (limits)
		(*out)->limits = *limits;
	else
		hg_limits_default(&(*out)->limits);
	return HG_OK;
}

void hg_decoder_free(hg_decoder *dec)
{
	free(dec);
}

const char *hg_decoder_errmsg(const hg_decoder *dec)
{
	return dec ? dec->errmsg : "no decoder";
}

/* Common front half of probe and decode: input checks and codec choice. */
static hg_status pick_codec(hg_decoder *dec, const void *data, size_t len,
			    const hg_codec **codec)
{
	dec->errmsg[0] = '\0';
	if (len == 0)
		return hg__dec_fail(dec, HG_ERR_EMPTY, "empty input (0 bytes)");
	if (!data)
		return hg__dec_fail(dec, HG_ERR_INVALID_ARG, "no data");
	if (len > dec->limits.max_bytes)
		return hg__dec_fail(dec, HG_ERR_TOO_LARGE, "input is %zu bytes; the limit is %llu",
				    len, (unsigned long long)dec->limits.max_bytes);
	hg_format f = hg_sniff(data, len);
	if (f == HG_FORMAT_UNKNOWN)
		return hg__dec_fail(dec, HG_ERR_UNKNOWN_FORMAT,
				    "not a recognised image format (JPEG, PNG, GIF, WebP, BMP, "
				    "TIFF, HEIF, AVIF)");
	for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
		if (codecs[i]->format == f) {
			*codec = codecs[i];
			return HG_OK;
		}
	}
	return hg__dec_fail(dec, HG_ERR_UNSUPPORTED, "%s images are not decoded by this build",
			    hg_format_name(f));
}

hg_status hg_decoder_probe(hg_decoder *dec, const void *data, size_t len, hg_format *format,
			   size_t *width, size_t *height)
{
	if (!dec || !format || !width || !height)
		return HG_ERR_INVALID_ARG;
	*format = HG_FORMAT_UNKNOWN;
	*width = *height = 0;
	const hg_codec *codec = NULL;
	hg_status st = pick_codec(dec, data, len, &codec);
	if (st)
		return st;
	st = codec->probe(dec, data, len, width, height);
	if (st == HG_OK)
		st = hg__dec_check_size(dec, *width, *height);
	if (st == HG_OK)
		*format = codec->format;
	return st;
}

hg_status hg_decode(hg_decoder *dec, const void *data, size_t len, hg_image *out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	memset(out, 0, sizeof *out);
	if (!dec)
		return HG_ERR_INVALID_ARG;
	const hg_codec *codec = NULL;
	hg_status st = pick_codec(dec, data, len, &codec);
	if (st)
		return st;
	st = codec->decode(dec, data, len, out);
	if (st)
		hg_image_release(out);
	else
		collapse_grey(out);
	return st;
}

hg_status hg__decode_reduced(hg_decoder *dec, const void *data, size_t len, size_t min_side,
			     hg_image *out, hg_pdq_reduction *red)
{
	if (!dec || !red)
		return HG_ERR_INVALID_ARG;
	dec->min_side = min_side;
	memset(&dec->reduction, 0, sizeof dec->reduction);
	hg_status st = hg_decode(dec, data, len, out);
	dec->min_side = 0;
	*red = dec->reduction;
	if (red->num == 0)
		*red = (hg_pdq_reduction){out->width, out->height, 1, 1};
	return st;
}
