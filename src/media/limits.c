/*
 * limits.c — the default resource limits and the hg_image owner helpers.
 */
#include "hashgate/image.h"

#include <stdlib.h>
#include <string.h>

void hg_limits_default(hg_limits *limits)
{
	if (!limits)
		return;
	limits->max_bytes = HG_DEFAULT_MAX_BYTES;
	limits->max_pixels = HG_DEFAULT_MAX_PIXELS;
	limits->max_side = HG_DEFAULT_MAX_SIDE;
}

void hg_image_release(hg_image *img)
{
	if (!img)
		return;
	free(img->pixels);
	memset(img, 0, sizeof *img);
}
