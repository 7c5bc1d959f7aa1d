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

#endif
