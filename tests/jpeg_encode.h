/*
 * jpeg_encode.h — the one in-memory RGB -> JPEG encoder the C tests share,
 * so tests that need a real JPEG make it from pixels they generate instead
 * of carrying binary fixtures. libjpeg-turbo's own encoder, quality 90.
 */
#ifndef HG_TEST_JPEG_ENCODE_H
#define HG_TEST_JPEG_ENCODE_H

#include <stddef.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <jpeglib.h>

/* Encodes w x h packed RGB; returns a malloc'd buffer (caller frees) and
 * its length in *len, or NULL. */
static inline unsigned char *hgt_jpeg_encode(const unsigned char *rgb, size_t w, size_t h,
					     int progressive, unsigned long *len)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr err;
	unsigned char *out = NULL;
	*len = 0;
	c.err = jpeg_std_error(&err);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, len);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 90, TRUE);
	if (progressive)
		jpeg_simple_progression(&c);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = (JSAMPROW)rgb + (size_t)c.next_scanline * w * 3;
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	return out;
}

#endif
