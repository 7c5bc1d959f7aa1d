/*
 * upscale.h — pixel replication for small uploads (internal to the library).
 *
 * PDQ blurs with a box of ceil(side/128) pixels, twice, and an even box is
 * off-centre by half a pixel per pass. On a 256 px upload that shift is four
 * times larger, relative to the picture, than on the 1024 px original the
 * list was made from, and a quarter-size copy lands 30+ bits away. Hashing
 * the upload with each pixel repeated k x k times puts the blur and the
 * sampling back at the original's scale (measured in docs/eval.md).
 */
#ifndef HG_CORE_UPSCALE_H
#define HG_CORE_UPSCALE_H

#include <stddef.h>
#include <stdint.h>

/* Uploads are replicated up to about this many pixels on the long side... */
#define HG_UPSCALE_TARGET 1024
/* ...by an integer factor of at most this. */
#define HG_UPSCALE_MAX_FACTOR 8

/* The factor for a width x height image: HG_UPSCALE_TARGET / long side,
 * capped at HG_UPSCALE_MAX_FACTOR; 1 (no upscale) for images over half the
 * target. */
size_t hg_upscale_factor(size_t width, size_t height);

/*
 * Writes src (width x height, `channels` bytes per pixel, rows `stride` bytes
 * apart) into dst with every pixel repeated k x k times: dst is
 * (width*k) x (height*k), rows width*k*channels bytes apart, and must hold
 * width*k*height*k*channels bytes.
 */
void hg_upscale_replicate(const uint8_t *src, size_t width, size_t height, size_t stride,
			  int channels, size_t k, uint8_t *dst);

#endif
