/*
 * upscale.c — pixel replication for small uploads (see upscale.h). Each
 * source row is widened once and then copied k-1 times.
 */
#include "core/upscale.h"

#include <string.h>

size_t hg_upscale_factor(size_t width, size_t height)
{
	size_t side = width > height ? width : height;
	if (side == 0 || side * 2 > HG_UPSCALE_TARGET)
		return 1;
	size_t k = HG_UPSCALE_TARGET / side;
	return k > HG_UPSCALE_MAX_FACTOR ? HG_UPSCALE_MAX_FACTOR : k;
}

void hg_upscale_replicate(const uint8_t *src, size_t width, size_t height, size_t stride,
			  int channels, size_t k, uint8_t *dst)
{
	size_t px = (size_t)channels, out_row = width * k * px;
	for (size_t y = 0; y < height; y++) {
		const uint8_t *s = src + y * stride;
		uint8_t *d = dst + y * k * out_row;
		for (size_t x = 0; x < width; x++)
			for (size_t r = 0; r < k; r++)
				memcpy(d + (x * k + r) * px, s + x * px, px);
		for (size_t r = 1; r < k; r++)
			memcpy(d + r * out_row, d, out_row);
	}
}
