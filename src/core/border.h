/*
 * border.h — finding the picture inside uniform bars (internal to the library).
 *
 * Uploads often carry a known picture inside bars it did not have: letterbox
 * and pillarbox bars, the flat background of a screenshot of an image viewer.
 * PDQ sees the bars as content and the hash moves by 100 bits or more, so the
 * query side also hashes the picture with the bars trimmed ("unletterbox").
 *
 *   +--------------------------+
 *   |  bar (uniform colour)    |   each side is scanned inwards while a whole
 *   |   +------------------+   |   row (column) stays within HG_BORDER_TOLERANCE
 *   |   |    content       |   |   of that side's outermost row (column), with
 *   |   +------------------+   |   at most 1/HG_BORDER_OUTLIER_DIV of its pixels
 *   |                          |   allowed to stray (JPEG ringing, noise)
 *   +--------------------------+
 *
 * Pure computation on caller-owned pixels: no allocation, no I/O.
 */
#ifndef HG_CORE_BORDER_H
#define HG_CORE_BORDER_H

#include <stddef.h>
#include <stdint.h>

/* Per-channel difference (0..255) still counted as the bar's colour. */
#define HG_BORDER_TOLERANCE 16
/* A row or column of a bar may have up to 1/50 of its pixels off-colour. */
#define HG_BORDER_OUTLIER_DIV 50
/* Trims smaller than this share of a side (1/64) are ignored: too small to
 * move a hash, and not worth a second one. */
#define HG_BORDER_MIN_TRIM_DIV 64
/* What remains must keep at least 1/4 of each side and 16 px. */
#define HG_BORDER_MIN_KEEP_DIV 4
#define HG_BORDER_MIN_KEEP_PX 16

/* Caption bands (a bar with text over or above the picture): the outermost
 * row is uniform, rows of text have at most 3/4 of their pixels off the
 * band's colour, and the band ends with a uniform row. A band is at most
 * 1/HG_BAND_MAX_DIV of the height. */
#define HG_BAND_INK_NUM 3
#define HG_BAND_INK_DEN 4
#define HG_BAND_MAX_DIV 3
/* See hg_bands: the text-centred alternative is tried when the margin under
 * the text exceeds this many times the margin above it. */
#define HG_BAND_MARGIN_RATIO 2

typedef struct hg_rect {
	size_t x, y, width, height;
} hg_rect;

/*
 * Finds the content rectangle inside uniform borders of an 8-bit image with
 * `channels` 1, 3 or 4 (alpha ignored) and rows `stride` bytes apart.
 * Returns 1 and sets *content when borders worth trimming were found, 0 when
 * there are none (or the image is uniform all over, or the rest would be too
 * small); *content is then the whole image.
 */
int hg_find_content(const uint8_t *pixels, size_t width, size_t height, size_t stride,
		    int channels, hg_rect *content);

/* Caption bands found at the top and the bottom of an image, in rows (0 for
 * none). `top_text` / `bottom_text` are an alternative height (0 for none):
 * when the margin under a band's text is more than HG_BAND_MARGIN_RATIO
 * times the margin above it, the scan may have run on into a picture whose
 * edge has the band's colour (a white band over a white-topped photo), and
 * the band is also taken to end where centred text would put it: the last
 * text row plus the margin above the text. `top_ink` / `bottom_ink` say
 * whether the band has text at all (else it is a plain bar). */
typedef struct hg_bands {
	size_t top, bottom;
	size_t top_text, bottom_text;
	int top_ink, bottom_ink;
} hg_bands;

/*
 * Finds caption bands at the top and the bottom of an image (same pixel
 * layout as hg_find_content). Fills *bands; returns 1 when there is at least
 * one band.
 */
int hg_find_bands(const uint8_t *pixels, size_t width, size_t height, size_t stride,
		  int channels, hg_bands *bands);

/*
 * Paints over the bands in place (channels 1, 3 or 4): each band row fades
 * from a copy of the picture's row next to the band (in the band's row
 * nearest the picture) to the picture's mean colour (in the outermost row).
 * A caption laid OVER a picture destroyed what was there; this guess of it
 * keeps PDQ's low frequencies closer to the original's than a copy of the
 * edge row, a mirror or the mean alone (measured in docs/eval.md). Does
 * nothing when the bands leave no row.
 */
void hg_fill_bands(uint8_t *pixels, size_t width, size_t height, size_t stride, int channels,
		   size_t top, size_t bottom);

#endif
