/*
 * jpeg.c — JPEG through libjpeg-turbo, with the pixels ImageMagick would
 * give Meta's reference: islow IDCT, fancy upsampling, grey stays grey,
 * CMYK/YCCK converted to RGB the way ImageMagick does.
 *
 * Fast hash mode (dec->min_side set, see codec.h): the DCT scaling decodes
 * at the smallest M/8 that keeps both sides >= min_side, luma only (YCbCr and
 * grey files), and a progressive file at 1/8 is read only up to its first
 * scan with the luma DC (buffered-image mode): what is needed for 1/8 scale.
 * Damage after that scan therefore goes unnoticed in fast mode.
 *
 * Hostile input: libjpeg errors longjmp back here; "premature end of data"
 * (which libjpeg papers over with grey) is a truncation error, not a hash of
 * half a picture; progressive files are capped in scans so a crafted file
 * cannot spin for minutes.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "media/codec.h"

#define MAX_SCANS 500 /* libjpeg-turbo's own fuzzers use the same cap */

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jmp;
	hg_decoder *dec;
	hg_status status;
	int truncated;
};

static void on_error(j_common_ptr cinfo)
{
	struct jerr *e = (struct jerr *)cinfo->err;
	char msg[JMSG_LENGTH_MAX];
	cinfo->err->format_message(cinfo, msg);
	/* libjpeg's memory source reports running out of data as a warning and
	 * then fails on the fake EOI it inserts: that is a truncated file */
	if (e->status == HG_OK)
		e->status = e->truncated ? hg__dec_fail(e->dec, HG_ERR_TRUNCATED,
							"JPEG: truncated file (%s)", msg)
					 : hg__dec_fail(e->dec, HG_ERR_CORRUPT, "JPEG: %s", msg);
	longjmp(e->jmp, 1);
}

static void on_message(j_common_ptr cinfo, int level)
{
	struct jerr *e = (struct jerr *)cinfo->err;
	if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF)
		e->truncated = 1; /* warnings otherwise tolerated, as ImageMagick does */
}

static void on_progress(j_common_ptr cinfo)
{
	struct jerr *e = (struct jerr *)cinfo->err;
	if (cinfo->is_decompressor) {
		j_decompress_ptr d = (j_decompress_ptr)cinfo;
		if (d->input_scan_number > MAX_SCANS) {
			e->status = hg__dec_fail(e->dec, HG_ERR_CORRUPT,
						 "JPEG: more than %d scans", MAX_SCANS);
			longjmp(e->jmp, 1);
		}
	}
}

/* Sets up cinfo on the buffer and reads the header. Called under setjmp. */
static void start(struct jpeg_decompress_struct *cinfo, struct jerr *err,
		  struct jpeg_progress_mgr *prog, hg_decoder *dec, const uint8_t *data, size_t len)
{
	cinfo->err = jpeg_std_error(&err->pub);
	err->pub.error_exit = on_error;
	err->pub.emit_message = on_message;
	err->dec = dec;
	jpeg_create_decompress(cinfo);
	prog->progress_monitor = on_progress;
	cinfo->progress = prog;
	cinfo->mem->max_memory_to_use = 512L << 20;
	jpeg_mem_src(cinfo, data, (unsigned long)len);
	jpeg_read_header(cinfo, TRUE);
}

static hg_status jpeg_probe(hg_decoder *dec, const uint8_t *data, size_t len, size_t *w,
			    size_t *h)
{
	struct jpeg_decompress_struct cinfo;
	struct jerr err = {0};
	struct jpeg_progress_mgr prog = {0};
	memset(&cinfo, 0, sizeof cinfo);
	if (setjmp(err.jmp)) {
		jpeg_destroy_decompress(&cinfo);
		return err.status ? err.status : HG_ERR_CORRUPT;
	}
	start(&cinfo, &err, &prog, dec, data, len);
	*w = cinfo.image_width;
	*h = cinfo.image_height;
	jpeg_destroy_decompress(&cinfo);
	return HG_OK;
}

/* ImageMagick reads JPEG CMYK as inverted (Adobe) ink and converts to RGB
 * as R = (1-C)(1-K): with libjpeg's raw bytes that is c*k/255, rounded. */
static void cmyk_to_rgb(const uint8_t *src, uint8_t *dst, size_t n)
{
	for (size_t i = 0; i < n; i++, src += 4, dst += 3) {
		unsigned k = src[3];
		dst[0] = (uint8_t)((src[0] * k + 127) / 255);
		dst[1] = (uint8_t)((src[1] * k + 127) / 255);
		dst[2] = (uint8_t)((src[2] * k + 127) / 255);
	}
}

/* Fast mode: the smallest scale M/8 whose output keeps both sides >=
 * min_side (libjpeg rounds the scaled size up). */
static unsigned reduced_scale(const struct jpeg_decompress_struct *cinfo, size_t min_side)
{
	for (unsigned m = 1; m < 8; m++) {
		size_t w = ((size_t)cinfo->image_width * m + 7) / 8;
		size_t h = ((size_t)cinfo->image_height * m + 7) / 8;
		if (w >= min_side && h >= min_side)
			return m;
	}
	return 8;
}

/* Buffered-image mode: reads on until the scan that carries the luma DC
 * (component 0, coefficient 0) has started; usually that is the first.
 * libjpeg calls no progress hook here, so the scan cap is checked directly. */
static void await_luma_dc(struct jpeg_decompress_struct *cinfo)
{
	while (cinfo->coef_bits[0][0] < 0) {
		on_progress((j_common_ptr)cinfo);
		int r = jpeg_consume_input(cinfo);
		if (r == JPEG_REACHED_EOI || r == JPEG_SUSPENDED)
			break;
	}
}

static hg_status jpeg_decode(hg_decoder *dec, const uint8_t *data, size_t len, hg_image *out)
{
	struct jpeg_decompress_struct cinfo;
	struct jerr err = {0};
	struct jpeg_progress_mgr prog = {0};
	JSAMPLE *volatile cmyk_row = NULL;
	memset(&cinfo, 0, sizeof cinfo);
	if (setjmp(err.jmp)) {
		jpeg_destroy_decompress(&cinfo);
		free(cmyk_row);
		return err.status ? err.status : HG_ERR_CORRUPT;
	}
	start(&cinfo, &err, &prog, dec, data, len);
	hg_status st = hg__dec_check_size(dec, cinfo.image_width, cinfo.image_height);
	if (st) {
		jpeg_destroy_decompress(&cinfo);
		return st;
	}
	const int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
	int channels = 3;
	const int reduced = dec->min_side != 0;
	if (cinfo.jpeg_color_space == JCS_GRAYSCALE ||
	    (reduced && cinfo.jpeg_color_space == JCS_YCbCr)) {
		cinfo.out_color_space = JCS_GRAYSCALE;
		channels = 1;
	} else if (cmyk) {
		cinfo.out_color_space = JCS_CMYK;
	} else {
		cinfo.out_color_space = JCS_RGB;
	}
	cinfo.dct_method = JDCT_ISLOW;
	int dc_only = 0;
	if (reduced) {
		cinfo.scale_num = reduced_scale(&cinfo, dec->min_side);
		cinfo.scale_denom = 8;
		dc_only = cinfo.scale_num == 1 && cinfo.progressive_mode && channels == 1;
		cinfo.buffered_image = dc_only ? TRUE : FALSE;
		cinfo.do_block_smoothing = FALSE; /* 1/8 scale ignores AC anyway */
		dec->reduction = (hg_pdq_reduction){cinfo.image_width, cinfo.image_height,
						    cinfo.scale_num, cinfo.scale_denom};
	}
	jpeg_start_decompress(&cinfo);
	if (dc_only) {
		await_luma_dc(&cinfo);
		jpeg_start_output(&cinfo, cinfo.input_scan_number);
	}
	st = hg__image_alloc(dec, out, cinfo.output_width, cinfo.output_height, channels,
			     HG_FORMAT_JPEG);
	if (st == HG_OK && cmyk) {
		cmyk_row = malloc((size_t)cinfo.output_width * 4);
		if (!cmyk_row)
			st = hg__dec_fail(dec, HG_ERR_NOMEM, "JPEG: no memory for a CMYK row");
	}
	if (st) {
		jpeg_destroy_decompress(&cinfo);
		return st;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		uint8_t *row = out->pixels + (size_t)cinfo.output_scanline * out->stride;
		JSAMPROW rows[1] = {cmyk ? cmyk_row : row};
		jpeg_read_scanlines(&cinfo, rows, 1);
		if (cmyk)
			cmyk_to_rgb(cmyk_row, row, cinfo.output_width);
		if (err.truncated)
			break;
	}
	if (!err.truncated && !dc_only) /* dc_only leaves the later scans unread */
		jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	free(cmyk_row);
	if (err.truncated)
		return hg__dec_fail(dec, HG_ERR_TRUNCATED,
				    "JPEG: truncated file (premature end of data)");
	return HG_OK;
}

const hg_codec hg__codec_jpeg = {1, HG_FORMAT_JPEG, jpeg_probe, jpeg_decode};
