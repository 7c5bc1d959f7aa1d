/*
 * veil.h — see-through caption bars (internal to the library).
 *
 * A caption bar is often semi-transparent: the picture shows through,
 * darkened (a black bar) or washed out (a white one), so the bar is not
 * uniform and hg_find_bands() does not see it. Under a bar of opacity a and
 * colour c every channel is out = (1 - a) * picture + a * c: an affine map
 * of the picture, the same for every pixel of the bar. At the bar's edge,
 * the row just inside the bar is then that map of the row just outside it
 * (a picture changes little from one row to the next), which a natural
 * edge (a horizon, a shadow) is not. Knowing the map, the query side undoes
 * it ("lifts the veil") and hashes the picture with the bar's rows
 * restored; only the bar's text stays.
 *
 * Pure computation on caller-owned pixels: no allocation, no I/O.
 */
#ifndef HG_CORE_VEIL_H
#define HG_CORE_VEIL_H

#include <stddef.h>
#include <stdint.h>

/* The row pair at a bar's edge must fit out = gain * picture + offset with a
 * correlation of at least HG_VEIL_MIN_CORR_PCT / 100... */
#define HG_VEIL_MIN_CORR_PCT 90
/* ...a gain between these (in hundredths: a bar of 30% to 90% opacity;
 * fainter bars move PDQ less and look like natural shadows, denser ones
 * are bands)... */
#define HG_VEIL_MIN_GAIN_PCT 10
#define HG_VEIL_MAX_GAIN_PCT 70
/* ...and the picture's row must vary (standard deviation at least this many
 * levels), or any gain fits. */
#define HG_VEIL_MIN_STDDEV 8
/* The rows one further inside and outside the edge must fit the same way,
 * with a gain within this many hundredths. A bar is between 1/64 and 1/3 of
 * the height (as caption bands). */
#define HG_VEIL_GAIN_SPREAD_PCT 10
/* (rows three apart correlate less than neighbours: a looser minimum) */
#define HG_VEIL_MIN_CORR2_PCT 75
/* Rows wider than this are fitted on every k-th pixel (about this many). */
#define HG_VEIL_SAMPLES 256

/* A see-through bar: `rows` rows at the top or the bottom (0 = none), where
 * out = gain * picture + offset[c] for each channel c; `corr` is how well
 * its edge rows fit that. */
typedef struct hg_veil {
	size_t rows;
	double gain, corr;
	double offset[4];
} hg_veil;

/*
 * Looks for see-through bars at the top and the bottom of an 8-bit image
 * (`channels` 1, 3 or 4, alpha ignored, rows `stride` bytes apart). Fills
 * *top and *bottom (rows 0 for none) and returns 1 when at least one was
 * found. Reads at most the outer third of the rows on each side.
 */
int hg_find_veils(const uint8_t *pixels, size_t width, size_t height, size_t stride,
		  int channels, hg_veil *top, hg_veil *bottom);

/*
 * Undoes the bars in place: every pixel of a bar's rows becomes
 * (out - offset) / gain, clamped to 0..255. Does nothing for rows == 0.
 */
void hg_lift_veils(uint8_t *pixels, size_t width, size_t height, size_t stride, int channels,
		   const hg_veil *top, const hg_veil *bottom);

#endif
