/*
 * transform.c — the 8 dihedral transforms on pixels (see transform.h). Each
 * output pixel is read from the source position the transform maps to it.
 */
#include "core/transform.h"

#include <string.h>

#include "hashgate/pdq.h"

void hg_dihedral_pixels(const uint8_t *src, size_t width, size_t height, size_t stride,
			int channels, int dihedral, uint8_t *dst, size_t *out_width,
			size_t *out_height)
{
	int swap = dihedral == HG_DIH_ROT90 || dihedral == HG_DIH_ROT270 ||
		   dihedral == HG_DIH_FLIPPLUS1 || dihedral == HG_DIH_FLIPMINUS1;
	size_t ow = swap ? height : width, oh = swap ? width : height, px = (size_t)channels;
	*out_width = ow;
	*out_height = oh;
	for (size_t y = 0; y < oh; y++)
		for (size_t x = 0; x < ow; x++) {
			size_t sx, sy;
			switch (dihedral) {
			case HG_DIH_ROT90: sx = width - 1 - y; sy = x; break;
			case HG_DIH_ROT180: sx = width - 1 - x; sy = height - 1 - y; break;
			case HG_DIH_ROT270: sx = y; sy = height - 1 - x; break;
			case HG_DIH_FLIPX: sx = x; sy = height - 1 - y; break;
			case HG_DIH_FLIPY: sx = width - 1 - x; sy = y; break;
			case HG_DIH_FLIPPLUS1: sx = y; sy = x; break;
			case HG_DIH_FLIPMINUS1: sx = width - 1 - y; sy = height - 1 - x; break;
			default: sx = x; sy = y; break;
			}
			memcpy(dst + (y * ow + x) * px, src + sy * stride + sx * px, px);
		}
}
