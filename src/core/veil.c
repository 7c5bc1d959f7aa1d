/*
 * veil.c — finds and undoes see-through caption bars (see veil.h).
 *
 * For each possible depth of a bar, the row just inside it is fitted to the
 * row just outside it by one gain and one offset per channel (least squares,
 * channels pooled). Inside the picture, or inside the bar, neighbouring rows
 * fit with a gain near 1; only at the bar's edge does a good fit have a gain
 * well below 1. Work: one pass over about 256 pixels of each row of the
 * outer third per side, and a fit only where a row varies much less than
 * the next (about 0.15 ms for a 1 MP photo).
 */
#include "core/veil.h"

#include <math.h>
#include <string.h>

/* How well row `in` (inside a bar) fits gain * row `out` + offset. */
struct fit {
	double gain, corr, stddev, offset[4];
};

static struct fit fit_rows(const uint8_t *in, const uint8_t *out, size_t width, int channels,
			   int colour)
{
	struct fit f = {0, 0, 0, {0, 0, 0, 0}};
	double cov = 0, var_in = 0, var_out = 0, mean_in[4], mean_out[4];
	/* a few hundred pixels of a row fit a gain well: wide rows are sampled */
	size_t step = width / HG_VEIL_SAMPLES + 1;
	double n = (double)((width + step - 1) / step);
	for (int c = 0; c < colour; c++) {
		uint64_t si = 0, so = 0, sii = 0, soo = 0, sio = 0;
		for (size_t x = 0; x < width; x += step) {
			uint64_t a = in[x * (size_t)channels + (size_t)c];
			uint64_t b = out[x * (size_t)channels + (size_t)c];
			si += a;
			so += b;
			sii += a * a;
			soo += b * b;
			sio += a * b;
		}
		mean_in[c] = (double)si / n;
		mean_out[c] = (double)so / n;
		cov += (double)sio - (double)si * (double)so / n;
		var_in += (double)sii - (double)si * (double)si / n;
		var_out += (double)soo - (double)so * (double)so / n;
	}
	if (var_out <= 0 || var_in <= 0)
		return f;
	f.gain = cov / var_out;
	f.corr = cov / sqrt(var_in * var_out);
	f.stddev = sqrt(var_out / (n * colour));
	for (int c = 0; c < colour; c++)
		f.offset[c] = mean_in[c] - f.gain * mean_out[c];
	return f;
}

static int fits(struct fit f, int min_corr_pct)
{
	return f.stddev >= HG_VEIL_MIN_STDDEV && f.corr * 100 >= min_corr_pct &&
	       f.gain * 100 >= HG_VEIL_MIN_GAIN_PCT && f.gain * 100 <= HG_VEIL_MAX_GAIN_PCT;
}

/* The variance of a row's sampled pixels (channels pooled, per sample), as
 * fit_rows samples them. */
static double row_var(const uint8_t *row, size_t width, int channels, int colour)
{
	size_t step = width / HG_VEIL_SAMPLES + 1;
	double n = (double)((width + step - 1) / step), var = 0;
	for (int c = 0; c < colour; c++) {
		uint64_t s1 = 0, s2 = 0;
		for (size_t x = 0; x < width; x += step) {
			uint64_t a = row[x * (size_t)channels + (size_t)c];
			s1 += a;
			s2 += a * a;
		}
		var += (double)s2 - (double)s1 * (double)s1 / n;
	}
	return var / (n * colour);
}

/* The best bar edge from one side: rows first, first + advance, ... */
static hg_veil find_side(const uint8_t *first, ptrdiff_t advance, size_t width, size_t height,
			 int channels, int colour)
{
	hg_veil v;
	memset(&v, 0, sizeof v);
	size_t min = height / 64 + 1, max = height / 3;
	double best = 0;
	/* gain = corr * sd_in / sd_out, so a fit can only pass when the inside
	 * row varies at most max gain / min corr as much as the outside one:
	 * rows are screened on their variance (one pass each) before fitting */
	const double ratio = (double)HG_VEIL_MAX_GAIN_PCT / HG_VEIL_MIN_CORR_PCT;
	double var_in = row_var(first + (ptrdiff_t)(min - 1) * advance, width, channels, colour);
	for (size_t k = min; k < max; k++) {
		double var_out = row_var(first + (ptrdiff_t)k * advance, width, channels, colour);
		int screened = var_out < (double)HG_VEIL_MIN_STDDEV * HG_VEIL_MIN_STDDEV ||
			       var_in > ratio * ratio * var_out;
		var_in = var_out;
		if (screened)
			continue;
		/* the bar is rows [0, k): row k-1 inside, row k outside */
		struct fit f = fit_rows(first + (ptrdiff_t)(k - 1) * advance,
					first + (ptrdiff_t)k * advance, width, channels, colour);
		if (!fits(f, HG_VEIL_MIN_CORR_PCT) || k < 2 || k + 1 >= height)
			continue;
		/* the same map one row further on each side: a bar is one map
		 * over all its rows, where a natural edge rarely repeats */
		struct fit g = fit_rows(first + (ptrdiff_t)(k - 2) * advance,
					first + (ptrdiff_t)(k + 1) * advance, width, channels, colour);
		if (!fits(g, HG_VEIL_MIN_CORR2_PCT) || fabs(g.gain - f.gain) * 100 > HG_VEIL_GAIN_SPREAD_PCT)
			continue;
		if (f.corr > best) {
			best = f.corr;
			v.rows = k;
			v.gain = f.gain;
			v.corr = f.corr;
			memcpy(v.offset, f.offset, sizeof v.offset);
		}
	}
	return v;
}

int hg_find_veils(const uint8_t *pixels, size_t width, size_t height, size_t stride,
		  int channels, hg_veil *top, hg_veil *bottom)
{
	if (top)
		memset(top, 0, sizeof *top);
	if (bottom)
		memset(bottom, 0, sizeof *bottom);
	if (!pixels || !top || !bottom || width == 0 || height < 3 ||
	    (channels != 1 && channels != 3 && channels != 4))
		return 0;
	int colour = channels == 4 ? 3 : channels;
	ptrdiff_t row = (ptrdiff_t)stride;
	*top = find_side(pixels, row, width, height, channels, colour);
	*bottom = find_side(pixels + (height - 1) * stride, -row, width, height, channels, colour);
	return top->rows || bottom->rows;
}

static void lift_rows(uint8_t *p, ptrdiff_t advance, size_t rows, size_t width, int channels,
		      const hg_veil *v)
{
	int colour = channels == 4 ? 3 : channels;
	for (size_t y = 0; y < rows; y++, p += advance)
		for (size_t x = 0; x < width; x++)
			for (int c = 0; c < colour; c++) {
				uint8_t *q = p + x * (size_t)channels + (size_t)c;
				double u = ((double)*q - v->offset[c]) / v->gain;
				*q = (uint8_t)(u <= 0 ? 0 : u >= 255 ? 255 : u + 0.5);
			}
}

void hg_lift_veils(uint8_t *pixels, size_t width, size_t height, size_t stride, int channels,
		   const hg_veil *top, const hg_veil *bottom)
{
	if (!pixels || !top || !bottom || (channels != 1 && channels != 3 && channels != 4) ||
	    top->rows + bottom->rows > height)
		return;
	if (top->rows && top->gain > 0)
		lift_rows(pixels, (ptrdiff_t)stride, top->rows, width, channels, top);
	if (bottom->rows && bottom->gain > 0)
		lift_rows(pixels + (height - 1) * stride, -(ptrdiff_t)stride, bottom->rows, width,
			  channels, bottom);
}
