/*
 * gif.c — the first frame of a GIF through giflib, as ImageMagick gives it
 * to Meta's reference: the frame's own pixels at the frame's own size (the
 * logical screen and its offset are ignored), colour indices looked up in the
 * local or global colour map, transparency dropped (the hidden colour is
 * hashed), an index past the map's end read as index 0 (ImageMagick's
 * ConstrainColormapIndex). Animated GIFs are videos and will be handled by
 * the video path; here only frame 1 is read, so a file with a million frames
 * costs one frame.
 *
 * giflib is driven record by record (never DGifSlurp, which would decode
 * every frame) and the frame size is checked before any pixel buffer exists.
 */
#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

#include "media/codec.h"

struct gif_src {
	const uint8_t *data;
	size_t len, pos;
	int short_read;
};

static int read_fn(GifFileType *gif, GifByteType *buf, int n)
{
	struct gif_src *s = gif->UserData;
	size_t want = n > 0 ? (size_t)n : 0, left = s->len - s->pos;
	if (want > left) {
		want = left;
		s->short_read = 1;
	}
	memcpy(buf, s->data + s->pos, want);
	s->pos += want;
	return (int)want;
}

static hg_status gif_error(hg_decoder *dec, const struct gif_src *s, int code)
{
	if (s->short_read || code == D_GIF_ERR_READ_FAILED || code == D_GIF_ERR_EOF_TOO_SOON)
		return hg__dec_fail(dec, HG_ERR_TRUNCATED, "GIF: truncated file");
	if (code == D_GIF_ERR_NOT_ENOUGH_MEM)
		return hg__dec_fail(dec, HG_ERR_NOMEM, "GIF: out of memory");
	const char *msg = GifErrorString(code);
	return hg__dec_fail(dec, HG_ERR_CORRUPT, "GIF: %s", msg ? msg : "decoding failed");
}

/* Skips extensions up to the first image descriptor and reads it. */
static hg_status first_image(hg_decoder *dec, GifFileType *gif, const struct gif_src *s)
{
	for (;;) {
		GifRecordType rec;
		if (DGifGetRecordType(gif, &rec) == GIF_ERROR)
			return gif_error(dec, s, gif->Error);
		if (rec == IMAGE_DESC_RECORD_TYPE) {
			if (DGifGetImageDesc(gif) == GIF_ERROR)
				return gif_error(dec, s, gif->Error);
			return HG_OK;
		}
		if (rec == TERMINATE_RECORD_TYPE)
			return hg__dec_fail(dec, HG_ERR_CORRUPT, "GIF: the file holds no image");
		if (rec == EXTENSION_RECORD_TYPE) {
			int code;
			GifByteType *ext = NULL;
			if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR)
				return gif_error(dec, s, gif->Error);
			while (ext)
				if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR)
					return gif_error(dec, s, gif->Error);
		}
	}
}

/* Reads the frame's index rows into out, de-interlacing, then expands them
 * in place from the bottom up (each index becomes three bytes). */
static hg_status read_frame(hg_decoder *dec, GifFileType *gif, const struct gif_src *s,
			    const ColorMapObject *map, hg_image *out)
{
	const size_t w = out->width, h = out->height;
	static const size_t start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
	const int passes = gif->Image.Interlace ? 4 : 1;
	for (int p = 0; p < passes; p++) {
		size_t first = passes == 1 ? 0 : start[p], inc = passes == 1 ? 1 : step[p];
		for (size_t y = first; y < h; y += inc)
			if (DGifGetLine(gif, out->pixels + y * out->stride, (int)w) == GIF_ERROR)
				return gif_error(dec, s, gif->Error);
	}
	for (size_t y = h; y-- > 0;) {
		uint8_t *row = out->pixels + y * out->stride;
		for (size_t x = w; x-- > 0;) {
			int idx = row[x] < map->ColorCount ? row[x] : 0;
			const GifColorType *c = &map->Colors[idx];
			row[3 * x] = c->Red;
			row[3 * x + 1] = c->Green;
			row[3 * x + 2] = c->Blue;
		}
	}
	return HG_OK;
}

static hg_status gif_run(hg_decoder *dec, const uint8_t *data, size_t len, hg_image *out,
			 size_t *pw, size_t *ph)
{
	struct gif_src s = {data, len, 0, 0};
	int err = 0;
	GifFileType *gif = DGifOpen(&s, read_fn, &err);
	if (!gif)
		return gif_error(dec, &s, err);
	hg_status st = first_image(dec, gif, &s);
	const size_t w = st ? 0 : (size_t)gif->Image.Width, h = st ? 0 : (size_t)gif->Image.Height;
	if (st == HG_OK && pw) {
		*pw = w;
		*ph = h;
	} else if (st == HG_OK) {
		const ColorMapObject *map =
			gif->Image.ColorMap ? gif->Image.ColorMap : gif->SColorMap;
		st = hg__dec_check_size(dec, w, h);
		if (st == HG_OK && (!map || map->ColorCount <= 0))
			st = hg__dec_fail(dec, HG_ERR_CORRUPT, "GIF: the frame has no colour map");
		if (st == HG_OK)
			st = hg__image_alloc(dec, out, w, h, 3, HG_FORMAT_GIF);
		if (st == HG_OK)
			st = read_frame(dec, gif, &s, map, out);
	}
	DGifCloseFile(gif, &err);
	return st;
}

static hg_status gif_probe(hg_decoder *dec, const uint8_t *data, size_t len, size_t *w,
			   size_t *h)
{
	return gif_run(dec, data, len, NULL, w, h);
}

static hg_status gif_decode(hg_decoder *dec, const uint8_t *data, size_t len, hg_image *out)
{
	return gif_run(dec, data, len, out, NULL, NULL);
}

const hg_codec hg__codec_gif = {1, HG_FORMAT_GIF, gif_probe, gif_decode};
