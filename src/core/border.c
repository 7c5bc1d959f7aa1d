/*
 * border.c — finds the picture inside uniform bars (see border.h).
 *
 * Each side's reference colour is the mean of its outermost line, so a bar of
 * any colour is found, and a line of real content (whose pixels straddle its
 * mean) is not. Lines are then taken while they stay within the tolerance of
 * that colour. Work is proportional to the bars' area plus one line per side.
 */
#include "core/border.h"

#include <string.h>

/* A line of `count` pixels, `step` bytes apart, from `p`. */
struct line {
	const uint8_t *p;
	size_t step, count;
};

static void line_mean(struct line l, int channels, int ref[4])
{
	uint64_t sum[4] = {0, 0, 0, 0};
	for (size_t i = 0; i < l.count; i++)
		for (int c = 0; c < channels; c++)
			sum[c] += l.p[i * l.step + (size_t)c];
	for (int c = 0; c < channels; c++)
		ref[c] = (int)(sum[c] / l.count);
}

/* Pixels of the line off the reference colour; counting stops past `limit`. */
static size_t count_off(struct line l, int channels, const int ref[4], size_t limit)
{
	size_t off = 0;
	for (size_t i = 0; i < l.count && off <= limit; i++) {
		const uint8_t *px = l.p + i * l.step;
		for (int c = 0; c < channels; c++) {
			int d = (int)px[c] - ref[c];
			if (d > HG_BORDER_TOLERANCE || d < -HG_BORDER_TOLERANCE) {
				off++;
				break;
			}
		}
	}
	return off;
}

static int line_is_bar(struct line l, int channels, const int ref[4], size_t outlier_div)
{
	size_t allowed = l.count / outlier_div;
	return count_off(l, channels, ref, allowed) <= allowed;
}

static size_t line_off_colour(struct line l, int channels, const int ref[4])
{
	return count_off(l, channels, ref, l.count);
}

/* How many lines from the outside inwards (line k starts at first + k*advance,
 * up to `max` lines) belong to a bar: the outermost line must be uniform
 * (HG_BORDER_OUTLIER_DIV), the others may stray up to 1/outlier_div. */
static size_t bar_depth(const uint8_t *first, ptrdiff_t advance, size_t step, size_t count,
			size_t max, int channels, size_t outlier_div)
{
	int ref[4] = {0, 0, 0, 0};
	struct line l = {first, step, count};
	line_mean(l, channels, ref);
	if (max == 0 || !line_is_bar(l, channels, ref, HG_BORDER_OUTLIER_DIV))
		return 0;
	size_t k = 1;
	while (k < max) {
		l.p = first + (ptrdiff_t)k * advance;
		if (!line_is_bar(l, channels, ref, outlier_div))
			break;
		k++;
	}
	return k;
}

int hg_find_content(const uint8_t *pixels, size_t width, size_t height, size_t stride,
		    int channels, hg_rect *content)
{
	hg_rect all = {0, 0, width, height};
	if (content)
		*content = all;
	if (!pixels || !content || width == 0 || height == 0 ||
	    (channels != 1 && channels != 3 && channels != 4))
		return 0;
	int colour = channels == 4 ? 3 : channels; /* alpha is not looked at */
	size_t px = (size_t)channels;
	ptrdiff_t row = (ptrdiff_t)stride, col = (ptrdiff_t)px;

	size_t top = bar_depth(pixels, row, px, width, height, colour, HG_BORDER_OUTLIER_DIV);
	if (top == height)
		return 0; /* uniform all over: nothing inside */
	size_t bottom = bar_depth(pixels + (height - 1) * stride, -row, px, width, height - top,
				  colour, HG_BORDER_OUTLIER_DIV);
	size_t inner_h = height - top - bottom;
	if (inner_h == 0)
		return 0;
	const uint8_t *first_row = pixels + top * stride;
	size_t left = bar_depth(first_row, col, stride, inner_h, width, colour,
				HG_BORDER_OUTLIER_DIV);
	size_t right = bar_depth(first_row + (width - 1) * px, -col, stride, inner_h,
				 width - left, colour, HG_BORDER_OUTLIER_DIV);
	size_t inner_w = width - left - right;

	if (top + bottom < height / HG_BORDER_MIN_TRIM_DIV + 1 &&
	    left + right < width / HG_BORDER_MIN_TRIM_DIV + 1)
		return 0;
	if (inner_w < HG_BORDER_MIN_KEEP_PX || inner_h < HG_BORDER_MIN_KEEP_PX ||
	    inner_w < width / HG_BORDER_MIN_KEEP_DIV || inner_h < height / HG_BORDER_MIN_KEEP_DIV)
		return 0;
	content->x = left;
	content->y = top;
	content->width = inner_w;
	content->height = inner_h;
	return 1;
}

/* A caption band from the outside inwards: rows may carry text (up to
 * HG_BAND_INK_NUM/HG_BAND_INK_DEN of their pixels off-colour) while the scan
 * goes on, and the band ends after its last uniform row: captions have a
 * clean margin, and the first text-free row of the picture ends the scan.
 * *text_depth gets the text-centred alternative (see hg_bands). */
static size_t band_depth(const uint8_t *first, ptrdiff_t advance, size_t count, size_t max,
			 int channels, size_t px, size_t *text_depth, int *ink)
{
	int ref[4] = {0, 0, 0, 0};
	struct line l = {first, px, count};
	line_mean(l, channels, ref);
	/* ink rows: the first, the last seen, the last inside the band */
	size_t depth = 0, ink_first = 0, ink_last = 0, text_last = 0;
	*text_depth = 0;
	*ink = 0;
	for (size_t k = 0; k < max; k++) {
		l.p = first + (ptrdiff_t)k * advance;
		if (line_is_bar(l, channels, ref, HG_BORDER_OUTLIER_DIV)) {
			depth = k + 1;
			text_last = ink_last;
			continue;
		}
		if (k == 0 || line_off_colour(l, channels, ref) * HG_BAND_INK_DEN >
				      count * HG_BAND_INK_NUM)
			break;
		if (!ink_first)
			ink_first = k;
		ink_last = k;
	}
	/* The margin under the text is much deeper than the one above it: the
	 * picture's own edge may be the band's colour (a white-topped photo
	 * under a white band) and the band may end sooner, where a caption
	 * centred in its band would. */
	if (text_last && depth > text_last + 1 + HG_BAND_MARGIN_RATIO * ink_first)
		*text_depth = text_last + 1 + ink_first;
	*ink = text_last != 0;
	return depth;
}

/* A band's height when it is one: at least 1/64 of the height, less than
 * the most a band may take; else 0. */
static size_t band_or_none(size_t depth, size_t min, size_t max)
{
	return depth >= min && depth < max ? depth : 0;
}

int hg_find_bands(const uint8_t *pixels, size_t width, size_t height, size_t stride,
		  int channels, hg_bands *bands)
{
	if (bands)
		memset(bands, 0, sizeof *bands);
	if (!pixels || !bands || width == 0 || height == 0 ||
	    (channels != 1 && channels != 3 && channels != 4))
		return 0;
	int colour = channels == 4 ? 3 : channels;
	size_t px = (size_t)channels, max = height / HG_BAND_MAX_DIV;
	ptrdiff_t row = (ptrdiff_t)stride;
	size_t top_text, bottom_text;
	int top_ink, bottom_ink;
	size_t t = band_depth(pixels, row, width, max, colour, px, &top_text, &top_ink);
	size_t b = band_depth(pixels + (height - 1) * stride, -row, width, max, colour, px,
			      &bottom_text, &bottom_ink);
	size_t min = height / HG_BORDER_MIN_TRIM_DIV + 1;
	bands->top = band_or_none(t, min, max);
	bands->bottom = band_or_none(b, min, max);
	if (bands->top) {
		bands->top_text = band_or_none(top_text, min, max);
		bands->top_ink = top_ink;
	}
	if (bands->bottom) {
		bands->bottom_text = band_or_none(bottom_text, min, max);
		bands->bottom_ink = bottom_ink;
	}
	return bands->top || bands->bottom;
}

/* One band row faded from `edge` (the picture's row next to the band) towards
 * the picture's mean colour `mean`: weight num/den on the edge, in 16-bit
 * fixed point (a division per pixel cost more than the PDQ hash of the
 * filled picture). */
static void fade_row(uint8_t *dst, const uint8_t *edge, size_t width, int channels,
		     const uint32_t mean[4], size_t num, size_t den)
{
	uint32_t w = (uint32_t)(((uint64_t)num << 16) / den);
	uint32_t rest[4];
	for (int c = 0; c < channels; c++)
		rest[c] = mean[c] * (65536u - w) + 32768u;
	for (size_t x = 0; x < width; x++)
		for (int c = 0; c < channels; c++) {
			size_t i = x * (size_t)channels + (size_t)c;
			dst[i] = (uint8_t)((edge[i] * w + rest[c]) >> 16);
		}
}

void hg_fill_bands(uint8_t *pixels, size_t width, size_t height, size_t stride, int channels,
		   size_t top, size_t bottom)
{
	if (!pixels || width == 0 || top + bottom >= height ||
	    (channels != 1 && channels != 3 && channels != 4))
		return;
	/* the mean colour of the picture between the bands (alpha too, so a
	 * 4-channel image keeps a plausible alpha; PDQ ignores it), from at
	 * most about 256 of its rows */
	uint64_t sum[4] = {0, 0, 0, 0};
	size_t first = top, last = height - bottom; /* picture rows [first, last) */
	size_t step = (last - first) / 256 + 1, rows = 0;
	for (size_t y = first; y < last; y += step, rows++) {
		const uint8_t *p = pixels + y * stride;
		for (size_t x = 0; x < width; x++)
			for (int c = 0; c < channels; c++)
				sum[c] += p[x * (size_t)channels + (size_t)c];
	}
	uint32_t mean[4] = {0, 0, 0, 0};
	uint64_t n = (uint64_t)width * rows;
	for (int c = 0; c < channels; c++)
		mean[c] = (uint32_t)((sum[c] + n / 2) / n);
	/* row y of the top band is d = top - y rows from the picture: weight
	 * (top + 1 - d) / (top + 1) on the picture's edge row, the rest on its mean */
	for (size_t y = 0; y < top; y++)
		fade_row(pixels + y * stride, pixels + top * stride, width, channels, mean, y + 1,
			 top + 1);
	for (size_t y = last; y < height; y++)
		fade_row(pixels + y * stride, pixels + (last - 1) * stride, width, channels, mean,
			 height - y, bottom + 1);
}
