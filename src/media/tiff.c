/*
 * tiff.c — the first directory (page) of a TIFF through libtiff, read from
 * memory with TIFFClientOpenExt. libtiff's RGBA interface does the colour
 * work (palette, grey, YCbCr, CMYK, CIELab, 1..16 bits per sample, strips
 * and tiles), the raster comes out in stored row order (the Orientation tag
 * is ignored, as ImageMagick and every PDQ reference ignore EXIF), alpha is
 * dropped (not multiplied in), and grey images are folded back to one channel by the dispatcher.
 * 16-bit samples keep their high byte (libtiff's choice; ImageMagick rounds,
 * so such files can be a bit away from the reference).
 *
 * Hostile input: errors and warnings go to per-handle callbacks (libtiff's
 * global handlers would print), every read is bounds-checked and remembers a
 * short read (a truncated file), libtiff's own allocations are capped, and
 * the dimensions pass the limits before the raster is allocated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "media/codec.h"

struct tiff_src {
	const uint8_t *data;
	size_t len, pos;
	int short_read;
	char msg[160]; /* libtiff's first error */
};

static tmsize_t read_fn(thandle_t h, void *buf, tmsize_t n)
{
	struct tiff_src *s = (struct tiff_src *)h;
	size_t want = n > 0 ? (size_t)n : 0, left = s->pos < s->len ? s->len - s->pos : 0;
	if (want > left) {
		want = left;
		s->short_read = 1;
	}
	memcpy(buf, s->data + s->pos, want);
	s->pos += want;
	return (tmsize_t)want;
}

static tmsize_t write_fn(thandle_t h, void *buf, tmsize_t n)
{
	(void)h;
	(void)buf;
	(void)n;
	return -1;
}

static toff_t seek_fn(thandle_t h, toff_t off, int whence)
{
	struct tiff_src *s = (struct tiff_src *)h;
	uint64_t base = whence == SEEK_CUR ? s->pos : whence == SEEK_END ? s->len : 0;
	if (off > UINT64_MAX - base || base + off > SIZE_MAX)
		return (toff_t)-1;
	s->pos = (size_t)(base + off); /* past the end is allowed; reads there fail */
	return s->pos;
}

static int close_fn(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t size_fn(thandle_t h)
{
	return ((struct tiff_src *)h)->len;
}

static int map_fn(thandle_t h, void **base, toff_t *size)
{
	(void)h;
	(void)base;
	(void)size;
	return 0; /* no mapping: every read goes through read_fn and its checks */
}

static void unmap_fn(thandle_t h, void *base, toff_t size)
{
	(void)h;
	(void)base;
	(void)size;
}

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)module;
	struct tiff_src *s = user;
	if (!s->msg[0])
		vsnprintf(s->msg, sizeof s->msg, fmt, ap);
	return 1; /* handled: keep libtiff's global handler from printing */
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)user;
	(void)module;
	(void)fmt;
	(void)ap;
	return 1;
}

static hg_status tiff_fail(hg_decoder *dec, const struct tiff_src *s, const char *what)
{
	if (s->short_read)
		return hg__dec_fail(dec, HG_ERR_TRUNCATED, "TIFF: truncated file (%s)",
				    s->msg[0] ? s->msg : what);
	return hg__dec_fail(dec, HG_ERR_CORRUPT, "TIFF: %s", s->msg[0] ? s->msg : what);
}

static TIFF *tiff_open(hg_decoder *dec, struct tiff_src *s)
{
	TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
	if (!opts)
		return NULL;
	/* no single libtiff buffer (strip, tile, tag array) beyond what the
	 * largest allowed image at 4 x 16-bit samples could need */
	uint64_t cap = dec->limits.max_pixels * 8 + (1u << 20);
	TIFFOpenOptionsSetMaxSingleMemAlloc(opts, cap > INT64_MAX ? INT64_MAX : (tmsize_t)cap);
	TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, s);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, s);
	TIFF *tif = TIFFClientOpenExt("memory", "rm", (thandle_t)s, read_fn, write_fn, seek_fn,
				      close_fn, size_fn, map_fn, unmap_fn, opts);
	TIFFOpenOptionsFree(opts);
	return tif;
}

static hg_status tiff_probe(hg_decoder *dec, const uint8_t *data, size_t len, size_t *w,
			    size_t *h)
{
	struct tiff_src s = {.data = data, .len = len};
	TIFF *tif = tiff_open(dec, &s);
	if (!tif)
		return tiff_fail(dec, &s, "cannot read the header");
	uint32_t tw = 0, th = 0;
	TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &tw);
	TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &th);
	TIFFClose(tif);
	*w = tw;
	*h = th;
	return HG_OK;
}

/* ABGR words (R in the low byte) to packed RGB, in place: pixel i's three
 * bytes land at or before its own four. */
static void abgr_to_rgb(uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t v;
		memcpy(&v, buf + 4 * i, 4);
		buf[3 * i] = (uint8_t)TIFFGetR(v);
		buf[3 * i + 1] = (uint8_t)TIFFGetG(v);
		buf[3 * i + 2] = (uint8_t)TIFFGetB(v);
	}
}

/* libtiff's RGBA reader multiplies colour by an unassociated alpha; the
 * reference (ImageMagick) drops alpha and keeps the stored colour. Declaring
 * the alpha associated makes libtiff copy the stored samples unchanged
 * (measured: 66 and 94 bits off on two RGBA wallpapers before this). Truly
 * associated (premultiplied) alpha stays premultiplied, where ImageMagick
 * would divide it out. */
static void keep_colour_under_alpha(TIFF *tif)
{
	uint16_t n = 0, *types = NULL, copy[8];
	if (!TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &n, &types) || n == 0 || n > 8 ||
	    types[0] != EXTRASAMPLE_UNASSALPHA)
		return;
	memcpy(copy, types, n * sizeof *copy);
	copy[0] = EXTRASAMPLE_ASSOCALPHA;
	TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, n, copy);
}

static hg_status tiff_decode(hg_decoder *dec, const uint8_t *data, size_t len, hg_image *out)
{
	struct tiff_src s = {.data = data, .len = len};
	TIFF *tif = tiff_open(dec, &s);
	if (!tif)
		return tiff_fail(dec, &s, "cannot read the header");
	uint32_t w = 0, h = 0;
	TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
	TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
	hg_status st = hg__dec_check_size(dec, w, h);
	char emsg[1024] = "";
	TIFFRGBAImage img;
	int begun = 0;
	if (st == HG_OK)
		keep_colour_under_alpha(tif);
	if (st == HG_OK && !TIFFRGBAImageOK(tif, emsg))
		st = s.short_read ? tiff_fail(dec, &s, emsg)
				  : hg__dec_fail(dec, HG_ERR_UNSUPPORTED, "TIFF: %s", emsg);
	if (st == HG_OK && !(begun = TIFFRGBAImageBegin(&img, tif, 1, emsg)))
		st = hg__dec_fail(dec, s.short_read ? HG_ERR_TRUNCATED : HG_ERR_UNSUPPORTED,
				  "TIFF: %s", emsg);
	/* 4 bytes a pixel for libtiff's raster, repacked to RGB in place */
	if (st == HG_OK)
		st = hg__image_alloc(dec, out, w, h, 4, HG_FORMAT_TIFF);
	if (st == HG_OK) {
		img.req_orientation = ORIENTATION_TOPLEFT;
		img.orientation = ORIENTATION_TOPLEFT; /* stored order, tag ignored */
		if (!TIFFRGBAImageGet(&img, (uint32_t *)(void *)out->pixels, w, h))
			st = tiff_fail(dec, &s, "cannot decode the image data");
	}
	if (begun)
		TIFFRGBAImageEnd(&img);
	TIFFClose(tif);
	if (st == HG_OK) {
		abgr_to_rgb(out->pixels, (size_t)w * h);
		out->channels = 3;
		out->stride = (size_t)w * 3;
	}
	return st;
}

const hg_codec hg__codec_tiff = {1, HG_FORMAT_TIFF, tiff_probe, tiff_decode};
