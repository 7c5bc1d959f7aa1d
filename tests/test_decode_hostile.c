/*
 * test_decode_hostile.c — what an attacker can upload, for every format.
 *
 * Every input is made here, by the formats' own encoders (libjpeg, libpng,
 * giflib, libwebp, libtiff, libheif) or by writing/patching bytes: a good
 * 64x48 picture per format, then the same file truncated at many offsets,
 * with corrupted bytes, with a header claiming a huge size, as a
 * decompression bomb (a few KB that would inflate past 100 MP), under custom
 * limits, plus empty input, non-images and images under 5 px. Each case must
 * give its own status and a message, a failed decode must leave no pixels,
 * and over-limit inputs must be refused from the header: fast, and (outside
 * sanitizer builds, whose shadow memory needs a huge address space) in a
 * child process whose address space is capped at 1 GiB. Also the pixel
 * conventions of the reference: all-grey RGB folds to one channel, alpha is
 * dropped, an animated GIF gives its first frame.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gif_lib.h>
#include "jpeg_encode.h"
#include <libheif/heif.h>
#include <png.h>
#include <tiffio.h>
#include <webp/encode.h>

#include "harness.h"
#include "hashgate/hashgate.h"

#define W 64
#define H 48

/* libx265 (the HEIC encoder this test uses to make inputs, not a decoder)
 * leaks two small blocks per process; LeakSanitizer reads this hook. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libx265.so\n";
}

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void buf_put(struct buf *b, const void *data, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (!np)
			abort();
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

/* A colourful test picture: gradients plus a few blocks. */
static uint8_t *picture(int w, int h)
{
	uint8_t *px = malloc((size_t)w * h * 3);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = px + ((size_t)y * w + x) * 3;
			p[0] = (uint8_t)(x * 255 / w);
			p[1] = (uint8_t)(y * 255 / h);
			p[2] = (uint8_t)(((x / 8 + y / 8) & 1) ? 200 : 40);
		}
	return px;
}

/* ---- encoders ---------------------------------------------------------- */

static struct buf make_jpeg(int w, int h)
{
	unsigned long outlen = 0;
	uint8_t *px = picture(w, h);
	unsigned char *out = hgt_jpeg_encode(px, (size_t)w, (size_t)h, 1, &outlen);
	free(px);
	struct buf b = {0};
	buf_put(&b, out, outlen);
	free(out);
	return b;
}

static void png_write_cb(png_structp png, png_bytep data, png_size_t n)
{
	buf_put(png_get_io_ptr(png), data, n);
}

static void png_flush_cb(png_structp png)
{
	(void)png;
}

/* `px` holds rows of `channels` bytes (3 = RGB, 4 = RGBA) at 8 bits; NULL
 * writes all-black 1-bit grey rows (a bomb when large: a few KB of deflate
 * for 100+ MP). */
static struct buf png_encode(int w, int h, const uint8_t *px, int channels)
{
	struct buf b = {0};
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	uint8_t *zeros = px ? NULL : calloc(1, ((size_t)w + 7) / 8);
	if (setjmp(png_jmpbuf(png)))
		abort();
	png_set_write_fn(png, &b, png_write_cb, png_flush_cb);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, px ? 8 : 1,
		     !px ? PNG_COLOR_TYPE_GRAY
			 : channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < h; y++)
		png_write_row(png, px ? px + (size_t)y * w * channels : zeros);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(zeros);
	return b;
}

static struct buf make_png(int w, int h)
{
	uint8_t *px = picture(w, h);
	struct buf b = png_encode(w, h, px, 3);
	free(px);
	return b;
}

static int gif_write_cb(GifFileType *gif, const GifByteType *data, int n)
{
	buf_put(gif->UserData, data, (size_t)n);
	return n;
}

/* A 6x6x6 colour-cube GIF; `rows` < h writes a header promising h rows but
 * only `rows` of them; `frames` > 1 adds frames with the colours inverted. */
static struct buf make_gif(int w, int h, int rows, int frames)
{
	struct buf b = {0};
	int err = 0;
	GifFileType *gif = EGifOpen(&b, gif_write_cb, &err);
	GifColorType colors[256] = {{0, 0, 0}};
	for (int i = 0; i < 216; i++)
		colors[i] = (GifColorType){(GifByteType)(i / 36 * 51), (GifByteType)(i / 6 % 6 * 51),
					   (GifByteType)(i % 6 * 51)};
	ColorMapObject *map = GifMakeMapObject(256, colors);
	EGifPutScreenDesc(gif, w, h, 8, 0, map);
	GifPixelType *line = malloc((size_t)w);
	uint8_t *px = picture(w, h < 64 ? h : 64);
	for (int f = 0; f < frames; f++) {
		EGifPutImageDesc(gif, 0, 0, w, h, false, NULL);
		for (int y = 0; y < rows; y++) {
			for (int x = 0; x < w; x++) {
				const uint8_t *p = px + ((size_t)(y % 48) * w + x) * 3;
				int idx = p[0] / 51 * 36 + p[1] / 51 * 6 + p[2] / 51;
				line[x] = (GifPixelType)(f ? 215 - idx : idx);
			}
			EGifPutLine(gif, line, w);
		}
	}
	EGifCloseFile(gif, &err);
	GifFreeMapObject(map);
	free(line);
	free(px);
	return b;
}

static struct buf make_webp(int w, int h, int lossless)
{
	uint8_t *px = picture(w, h), *out = NULL;
	size_t n = lossless ? WebPEncodeLosslessRGB(px, w, h, w * 3, &out)
			    : WebPEncodeRGB(px, w, h, w * 3, 80, &out);
	struct buf b = {0};
	buf_put(&b, out, n);
	WebPFree(out);
	free(px);
	return b;
}

/* 24-bit bottom-up BMP, written by hand (there is no BMP encoder library). */
static struct buf make_bmp(int w, int h)
{
	struct buf b = {0};
	uint8_t hdr[54] = {'B', 'M'};
	size_t stride = ((size_t)w * 3 + 3) & ~(size_t)3, size = 54 + stride * h;
	uint32_t v[] = {(uint32_t)size, 0, 54, 40, (uint32_t)w, (uint32_t)h};
	for (int i = 0; i < 6; i++)
		for (int k = 0; k < 4; k++)
			hdr[2 + 4 * i + k] = (uint8_t)(v[i] >> (8 * k));
	hdr[26] = 1;  /* planes */
	hdr[28] = 24; /* bits per pixel */
	buf_put(&b, hdr, sizeof hdr);
	uint8_t *px = picture(w, h), *row = calloc(1, stride);
	for (int y = h - 1; y >= 0; y--) {
		for (int x = 0; x < w; x++) {
			const uint8_t *p = px + ((size_t)y * w + x) * 3;
			row[3 * x] = p[2], row[3 * x + 1] = p[1], row[3 * x + 2] = p[0];
		}
		buf_put(&b, row, stride);
	}
	free(row);
	free(px);
	return b;
}

/* TIFF through a temporary file, deflate-compressed. `px` holds rows of
 * `channels` bytes (3 = RGB, 4 = RGB + unassociated alpha); NULL writes an
 * all-white bilevel image (a bomb when large). */
static struct buf tiff_encode(int w, int h, const uint8_t *px, int channels)
{
	char path[] = "/tmp/hg-hostile-XXXXXX";
	int fd = mkstemp(path);
	struct buf b = {0};
	if (fd < 0)
		return b;
	close(fd);
	TIFF *t = TIFFOpen(path, "w");
	TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)w);
	TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)h);
	TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, px ? 8 : 1);
	TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, px ? channels : 1);
	TIFFSetField(t, TIFFTAG_PHOTOMETRIC, px ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
	if (px && channels == 4) {
		uint16_t extra = EXTRASAMPLE_UNASSALPHA;
		TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &extra);
	}
	TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
	TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, (uint32_t)(px ? 8 : h));
	size_t rowbytes = px ? (size_t)w * channels : ((size_t)w + 7) / 8;
	uint8_t *ones = px ? NULL : malloc(rowbytes);
	if (ones)
		memset(ones, 0xff, rowbytes);
	for (int y = 0; y < h; y++)
		TIFFWriteScanline(t, px ? (uint8_t *)px + (size_t)y * rowbytes : ones, (uint32_t)y,
				  0);
	TIFFClose(t);
	free(ones);
	size_t n = 0;
	uint8_t *data = hgt_read_file(path, &n);
	unlink(path);
	b.p = data;
	b.n = b.cap = n;
	return b;
}

static struct buf make_tiff(int w, int h)
{
	uint8_t *px = picture(w, h);
	struct buf b = tiff_encode(w, h, px, 3);
	free(px);
	return b;
}

static struct heif_error heif_write_cb(struct heif_context *ctx, const void *data, size_t n,
				       void *user)
{
	(void)ctx;
	buf_put(user, data, n);
	return (struct heif_error){heif_error_Ok, heif_suberror_Unspecified, "ok"};
}

static struct buf make_heif(int w, int h, enum heif_compression_format codec)
{
	struct buf b = {0};
	struct heif_context *ctx = heif_context_alloc();
	struct heif_encoder *enc = NULL;
	struct heif_image *img = NULL;
	if (heif_context_get_encoder_for_format(ctx, codec, &enc).code != heif_error_Ok) {
		heif_context_free(ctx);
		return b;
	}
	heif_encoder_set_lossy_quality(enc, 60);
	heif_image_create(w, h, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img);
	heif_image_add_plane(img, heif_channel_interleaved, w, h, 8);
	int stride = 0;
	uint8_t *plane = heif_image_get_plane(img, heif_channel_interleaved, &stride);
	uint8_t *px = picture(w, h);
	for (int y = 0; y < h; y++)
		memcpy(plane + (size_t)y * stride, px + (size_t)y * w * 3, (size_t)w * 3);
	struct heif_writer writer = {.writer_api_version = 1, .write = heif_write_cb};
	if (heif_context_encode_image(ctx, img, enc, NULL, NULL).code != heif_error_Ok ||
	    heif_context_write(ctx, &writer, &b).code != heif_error_Ok)
		b.n = 0;
	heif_image_release(img);
	heif_encoder_release(enc);
	heif_context_free(ctx);
	free(px);
	return b;
}

/* ---- header patches that claim a huge picture -------------------------- */

static void put_be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16), put_be16(p + 2, v & 0xffff);
}

static uint8_t *find(struct buf *b, const char *tag, size_t taglen)
{
	for (size_t i = 0; i + taglen <= b->n; i++)
		if (!memcmp(b->p + i, tag, taglen))
			return b->p + i;
	return NULL;
}

/* PNG chunks carry a CRC-32 that libpng checks on IHDR. */
static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static int patch_huge(hg_format f, struct buf *b)
{
	uint8_t *p;
	switch (f) {
	case HG_FORMAT_JPEG: /* SOF2 (progressive): height, width after length+precision */
		if (!(p = find(b, "\xff\xc2", 2)))
			return 0;
		put_be16(p + 5, 60000), put_be16(p + 7, 60000);
		return 1;
	case HG_FORMAT_PNG:
		put_be32(b->p + 16, 60000), put_be32(b->p + 20, 60000);
		put_be32(b->p + 29, crc32_of(b->p + 12, 17));
		return 1;
	case HG_FORMAT_GIF: /* logical screen and the first image descriptor */
		b->p[6] = b->p[8] = 0x60, b->p[7] = b->p[9] = 0xea;
		if (!(p = find(b, "\x2c\0\0\0\0", 5)))
			return 0;
		p[5] = p[7] = 0x60, p[6] = p[8] = 0xea;
		return 1;
	case HG_FORMAT_WEBP:
		if ((p = find(b, "VP8L", 4))) { /* 14-bit width-1, height-1 after 0x2f */
			p[9] = 0xff, p[10] = 0xff, p[11] = 0xff, p[12] = (uint8_t)(p[12] | 0x0f);
			return 1;
		}
		if (!(p = find(b, "VP8 ", 4))) /* 14-bit width, height after the start code */
			return 0;
		p[14] = p[16] = 0xff, p[15] = p[17] = 0x3f;
		return 1;
	case HG_FORMAT_BMP:
		b->p[18] = b->p[19] = b->p[22] = b->p[23] = 0xff, b->p[20] = b->p[24] = 0x01;
		return 1;
	case HG_FORMAT_TIFF: { /* little-endian IFD: ImageWidth/ImageLength values */
		size_t ifd = (size_t)b->p[4] | (size_t)b->p[5] << 8 | (size_t)b->p[6] << 16 |
			     (size_t)b->p[7] << 24;
		if (ifd + 2 > b->n)
			return 0;
		unsigned n = b->p[ifd] | (unsigned)b->p[ifd + 1] << 8;
		for (unsigned i = 0; i < n; i++) {
			uint8_t *e = b->p + ifd + 2 + 12 * i;
			unsigned tag = e[0] | (unsigned)e[1] << 8;
			if (tag == 256 || tag == 257) {
				memset(e + 8, 0, 4);
				e[8] = 0x60, e[9] = 0xea; /* 60000 */
			}
		}
		return 1;
	}
	case HG_FORMAT_HEIF:
	case HG_FORMAT_AVIF: /* the ispe property: version/flags, then width, height */
		if (!(p = find(b, "ispe", 4)))
			return 0;
		put_be32(p + 8, 60000), put_be32(p + 12, 60000);
		return 1;
	default:
		return 0;
	}
}

/* ---- the checks --------------------------------------------------------- */

struct fmt {
	const char *name;
	hg_format format;
	struct buf (*make)(int w, int h);
};

static struct buf mk_jpeg(int w, int h) { return make_jpeg(w, h); }
static struct buf mk_png(int w, int h) { return make_png(w, h); }
static struct buf mk_gif(int w, int h) { return make_gif(w, h, h, 1); }
static struct buf mk_webp(int w, int h) { return make_webp(w, h, 1); }
static struct buf mk_webp_lossy(int w, int h) { return make_webp(w, h, 0); }
static struct buf mk_bmp(int w, int h) { return make_bmp(w, h); }
static struct buf mk_tiff(int w, int h) { return make_tiff(w, h); }
static struct buf mk_heic(int w, int h) { return make_heif(w, h, heif_compression_HEVC); }
static struct buf mk_avif(int w, int h) { return make_heif(w, h, heif_compression_AV1); }

static const struct fmt formats[] = {
	{"jpeg", HG_FORMAT_JPEG, mk_jpeg},  {"png", HG_FORMAT_PNG, mk_png},
	{"gif", HG_FORMAT_GIF, mk_gif},     {"webp-lossless", HG_FORMAT_WEBP, mk_webp},
	{"webp-lossy", HG_FORMAT_WEBP, mk_webp_lossy},
	{"bmp", HG_FORMAT_BMP, mk_bmp},     {"tiff", HG_FORMAT_TIFF, mk_tiff},
	{"heic", HG_FORMAT_HEIF, mk_heic},  {"avif", HG_FORMAT_AVIF, mk_avif},
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Decodes and checks the contract: OK gives pixels, anything else gives
 * none and a message. Returns the status. */
static hg_status decode(const hg_limits *lim, const uint8_t *p, size_t n, hg_image *keep)
{
	hg_decoder *dec = NULL;
	CHECK_INT(hg_decoder_new(lim, &dec), HG_OK);
	hg_image img;
	hg_status st = hg_decode(dec, p, n, &img);
	if (st == HG_OK) {
		CHECK(img.pixels != NULL && img.width >= 5 && img.height >= 5);
	} else {
		CHECK(img.pixels == NULL);
		CHECK(hg_decoder_errmsg(dec)[0] != '\0');
	}
	if (keep)
		*keep = img;
	else
		hg_image_release(&img);
	hg_decoder_free(dec);
	return st;
}

static void check_good(const struct fmt *f, const struct buf *b)
{
	hg_image img;
	CHECK_INT(decode(NULL, b->p, b->n, &img), HG_OK);
	CHECK_INT(img.width, W);
	CHECK_INT(img.height, H);
	CHECK_INT(img.channels, 3);
	CHECK_INT(img.format, f->format);
	hg_image_release(&img);
	hg_decoder *dec = NULL;
	hg_format pf;
	size_t pw, ph;
	hg_decoder_new(NULL, &dec);
	CHECK_INT(hg_decoder_probe(dec, b->p, b->n, &pf, &pw, &ph), HG_OK);
	CHECK_INT(pf, f->format);
	CHECK(pw == W && ph == H);
	hg_decoder_free(dec);
}

/* Cut after every `step` bytes: the file's picture is incomplete, so the
 * answer must be TRUNCATED. Cuts inside the last 16 bytes (trailers a decoder
 * need not read: PNG's IEND, TIFF's trailing IFD...) may also decode. */
static void check_truncated(const struct fmt *f, const struct buf *b)
{
	size_t step = b->n / 97 + 1, wrong = 0;
	for (size_t cut = 1; cut < b->n; cut += step) {
		hg_status st = decode(NULL, b->p, cut, NULL);
		int ok = st == HG_ERR_TRUNCATED || (cut < 12 && st == HG_ERR_UNKNOWN_FORMAT) ||
			 (cut + 16 >= b->n && st == HG_OK);
		if (!ok && wrong++ < 5)
			fprintf(stderr, "%s cut at %zu of %zu: %s\n", f->name, cut, b->n,
				hg_status_token(st));
	}
	hgt_checks++;
	if (wrong) {
		hgt_failures++;
		fprintf(stderr, "%s: %zu truncations not reported as truncated\n", f->name, wrong);
	}
}

/* Flipped bytes at many places: any status, but the contract must hold
 * (decode() checks it) and nothing may crash under the sanitizers. */
static void check_corrupt(const struct buf *b)
{
	uint8_t *copy = malloc(b->n);
	unsigned seed = 12345;
	for (int i = 0; i < 60; i++) {
		memcpy(copy, b->p, b->n);
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = 8 + (seed >> 8) % (b->n - 8);
			copy[at] ^= (uint8_t)(1u + (seed >> 3) % 255u);
		}
		(void)decode(NULL, copy, b->n, NULL);
	}
	free(copy);
}

static void check_limits(const struct fmt *f, const struct buf *b)
{
	hg_limits lim;
	hg_limits_default(&lim);
	lim.max_bytes = b->n - 1;
	CHECK_INT(decode(&lim, b->p, b->n, NULL), HG_ERR_TOO_LARGE);
	lim.max_bytes = b->n;
	CHECK_INT(decode(&lim, b->p, b->n, NULL), HG_OK);
	hg_limits_default(&lim);
	lim.max_pixels = W * H - 1;
	CHECK_INT(decode(&lim, b->p, b->n, NULL), HG_ERR_TOO_LARGE);
	lim.max_pixels = W * H;
	CHECK_INT(decode(&lim, b->p, b->n, NULL), HG_OK);
	hg_limits_default(&lim);
	lim.max_side = W - 1;
	hg_status st = decode(&lim, b->p, b->n, NULL);
	CHECK_INT(st, HG_ERR_TOO_LARGE);
	if (st != HG_ERR_TOO_LARGE)
		fprintf(stderr, "  (%s, max_side)\n", f->name);
}

/* Over-limit headers must be refused from the header, before allocating. */
static void check_refused_fast(const char *what, const uint8_t *p, size_t n)
{
	double t0 = now();
	hg_status st = decode(NULL, p, n, NULL);
	double dt = now() - t0;
	CHECK_INT(st, HG_ERR_TOO_LARGE);
	CHECK(dt < 2.0);
	if (st != HG_ERR_TOO_LARGE || dt >= 2.0)
		fprintf(stderr, "  (%s: %s in %.2f s)\n", what, hg_status_token(st), dt);
}

static void check_huge(const struct fmt *f, const struct buf *b)
{
	struct buf c = {0};
	buf_put(&c, b->p, b->n);
	int patched = patch_huge(f->format, &c);
	CHECK(patched);
	if (patched)
		check_refused_fast(f->name, c.p, c.n);
	free(c.p);
}

static void check_small(const struct fmt *f)
{
	struct buf b = f->make(4, 4);
	if (b.n == 0) { /* an encoder with a minimum picture size */
		printf("note: %s encoder cannot make a 4x4 picture\n", f->name);
		return;
	}
	hg_status st = decode(NULL, b.p, b.n, NULL);
	CHECK_INT(st, HG_ERR_TOO_SMALL);
	if (st != HG_ERR_TOO_SMALL)
		fprintf(stderr, "  (%s 4x4)\n", f->name);
	free(b.p);
}

static int sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return 1;
#endif
#endif
	return 0;
}

/* The huge-header and bomb checks again in a child whose address space is
 * capped: an allocation for the claimed size would fail there. */
static void run_capped(struct buf *huge, size_t nhuge)
{
	if (sanitized())
		return;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = {1ul << 30, 1ul << 30};
		setrlimit(RLIMIT_AS, &rl);
		int bad = 0;
		for (size_t i = 0; i < nhuge; i++) {
			hg_decoder *dec = NULL;
			hg_image img;
			if (hg_decoder_new(NULL, &dec) != HG_OK)
				_exit(3);
			if (hg_decode(dec, huge[i].p, huge[i].n, &img) != HG_ERR_TOO_LARGE)
				bad++;
			hg_decoder_free(dec);
		}
		_exit(bad ? 1 : 0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Pixel conventions of the reference (ImageMagick): an RGB file whose pixels
 * are all grey decodes to one channel; alpha is dropped, not composited. */
static void check_conventions(void)
{
	uint8_t px[W * H * 4];
	for (size_t i = 0; i < W * H; i++)
		px[3 * i] = px[3 * i + 1] = px[3 * i + 2] = (uint8_t)(i * 7);
	struct buf b = png_encode(W, H, px, 3);
	hg_image img;
	CHECK_INT(decode(NULL, b.p, b.n, &img), HG_OK);
	CHECK_INT(img.channels, 1);
	CHECK(img.pixels && img.pixels[5] == 35 &&
	      img.pixels[W * H - 1] == (uint8_t)((W * H - 1) * 7));
	hg_image_release(&img);
	free(b.p);
	px[3 * 100 + 2] ^= 1; /* one pixel with colour keeps all three channels */
	b = png_encode(W, H, px, 3);
	CHECK_INT(decode(NULL, b.p, b.n, &img), HG_OK);
	CHECK_INT(img.channels, 3);
	hg_image_release(&img);
	free(b.p);
	for (size_t i = 0; i < W * H; i++) { /* fully transparent, colourful */
		px[4 * i] = (uint8_t)i, px[4 * i + 1] = (uint8_t)(i >> 3), px[4 * i + 2] = 9;
		px[4 * i + 3] = 0;
	}
	/* an animated GIF gives its first frame, whatever follows */
	struct buf one = make_gif(W, H, H, 1), two = make_gif(W, H, H, 2);
	hg_image a, c;
	CHECK_INT(decode(NULL, one.p, one.n, &a), HG_OK);
	CHECK_INT(decode(NULL, two.p, two.n, &c), HG_OK);
	CHECK(two.n > one.n + 100 && a.pixels && c.pixels && a.channels == c.channels &&
	      !memcmp(a.pixels, c.pixels, a.stride * a.height));
	hg_image_release(&a);
	hg_image_release(&c);
	free(one.p);
	free(two.p);
	for (int k = 0; k < 2; k++) { /* PNG and TIFF (libtiff would premultiply) */
		b = k ? tiff_encode(W, H, px, 4) : png_encode(W, H, px, 4);
		CHECK_INT(decode(NULL, b.p, b.n, &img), HG_OK);
		CHECK_INT(img.channels, 3);
		CHECK(img.pixels && img.pixels[3 * 77] == 77 && img.pixels[3 * 77 + 1] == 77 >> 3 &&
		      img.pixels[3 * 77 + 2] == 9);
		hg_image_release(&img);
		free(b.p);
	}
}

int main(void)
{
	check_conventions();
	/* 0 bytes, text, too short to sniff */
	static const char text[] = "hello, this is a plain text file and not a picture\n";
	CHECK_INT(decode(NULL, (const uint8_t *)"", 0, NULL), HG_ERR_EMPTY);
	CHECK_INT(decode(NULL, (const uint8_t *)text, sizeof text - 1, NULL),
		  HG_ERR_UNKNOWN_FORMAT);
	CHECK_INT(decode(NULL, (const uint8_t *)"\xff\xd8", 2, NULL), HG_ERR_UNKNOWN_FORMAT);

	struct buf huge[16];
	size_t nhuge = 0;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		const struct fmt *f = &formats[i];
		struct buf b = f->make(W, H);
		CHECK(b.n > 0);
		if (b.n == 0) {
			fprintf(stderr, "%s: the encoder failed\n", f->name);
			continue;
		}
		int before = hgt_failures;
		check_good(f, &b);
		check_truncated(f, &b);
		check_corrupt(&b);
		check_limits(f, &b);
		check_huge(f, &b);
		check_small(f);
		if (patch_huge(f->format, &b) && nhuge < 16)
			huge[nhuge++] = b;
		else
			free(b.p);
		printf("%-14s %s\n", f->name, hgt_failures == before ? "ok" : "FAILED");
	}

	/* decompression bombs: a few KB each, over 100 megapixels decoded */
	struct buf bombs[3] = {png_encode(10001, 10001, NULL, 1), tiff_encode(10001, 10001, NULL, 1),
			       make_gif(10001, 10001, 1, 1)};
	for (int i = 0; i < 3; i++) {
		CHECK(bombs[i].n > 0 && bombs[i].n < 200000);
		printf("bomb %d: %zu bytes for 10001x10001\n", i, bombs[i].n);
		check_refused_fast("bomb", bombs[i].p, bombs[i].n);
		if (nhuge < 16)
			huge[nhuge++] = bombs[i];
	}
	run_capped(huge, nhuge);
	for (size_t i = 0; i < nhuge; i++)
		free(huge[i].p);
	return hgt_finish("test_decode_hostile");
}
