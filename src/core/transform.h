/*
 * transform.h — the 8 dihedral transforms on pixels (internal to the library).
 *
 * PDQ's dihedral variants are computed from the DCT, which is exact only up
 * to PDQ's own asymmetry: its even blur boxes are off-centre by half a pixel,
 * and on small, finely textured photos a rotated copy's variant can land 40+
 * bits from the original's hash. Transforming the pixels and hashing again
 * is exact (docs/eval.md measures where it matters).
 */
#ifndef HG_CORE_TRANSFORM_H
#define HG_CORE_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes src (width x height, `channels` bytes per pixel, rows `stride` bytes
 * apart) transformed by `dihedral` (an hg_dihedral: ROT90 = 90 degrees
 * counter-clockwise, FLIPX = top/bottom, FLIPPLUS1 = transpose, ...) into dst,
 * rows packed. The output is height x width for the transforms that swap the
 * axes; *out_width and *out_height say which. dst must hold
 * width * height * channels bytes.
 */
void hg_dihedral_pixels(const uint8_t *src, size_t width, size_t height, size_t stride,
			int channels, int dihedral, uint8_t *dst, size_t *out_width,
			size_t *out_height);

#endif
