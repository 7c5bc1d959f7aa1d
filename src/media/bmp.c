/*
 * bmp.c — Windows/OS2 bitmaps: a deliberately small parser of our own.
 *
 * Why not a library: Debian has no BMP library in the sense of libpng or
 * giflib. The candidates were gdk-pixbuf (its BMP loader is a dlopen'd
 * module found through a global loaders.cache, drags GLib/GObject into
 * libhashgate, offers no way to refuse a size before it allocates, and
 * always hands back RGB(A)), ImageMagick's MagickCore (the reference's own
 * decoder, but a whole image-processing runtime with a long CVE record to
 * put in front of hostile uploads), and stb_image/FreeImage (weaker
 * maintenance and security records). The format itself is fixed and simple,
 * so a bounds-checked reader of the cases that occur in practice is less
 * attack surface than any of them, and it is fuzzed (fuzz/fuzz_bmp.c).
 *
 * Decoded: BITMAPCOREHEADER (OS/2 1.x) and BITMAPINFOHEADER and its V2..V5
 * and OS/2 2.x extensions; 1/4/8-bit palette, 16/24/32-bit BI_RGB,
 * BI_BITFIELDS and BI_ALPHABITFIELDS, RLE8 and RLE4; bottom-up and top-down.
 * Refused as unsupported: embedded JPEG/PNG, OS/2 Huffman/RLE24. As in
 * ImageMagick, a palette index past the palette reads as index 0, pixels an
 * RLE stream skips are index 0, alpha is ignored, and bitfield channels of
 * fewer than 8 bits are widened by bit replication.
 */
#include <stdlib.h>
#include <string.h>

#include "media/codec.h"

enum { BI_RGB = 0, BI_RLE8 = 1, BI_RLE4 = 2, BI_BITFIELDS = 3, BI_ALPHABITFIELDS = 6 };

struct bmp {
	int64_t width, height; /* height > 0: bottom-up */
	unsigned bpp, compression, top_down;
	uint64_t data_off;
	uint32_t mask[3];
	uint8_t pal[256][3];
	unsigned pal_n;
};

static uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return le16(p) | le16(p + 2) << 16;
}

static hg_status read_masks(hg_decoder *dec, struct bmp *b, const uint8_t *p)
{
	for (int i = 0; i < 3; i++)
		b->mask[i] = le32(p + 4 * i);
	if (!b->mask[0] && !b->mask[1] && !b->mask[2])
		return hg__dec_fail(dec, HG_ERR_CORRUPT, "BMP: all bitfield masks are zero");
	return HG_OK;
}

static hg_status parse_header(hg_decoder *dec, const uint8_t *d, size_t len, struct bmp *b)
{
	memset(b, 0, sizeof *b);
	if (len < 18)
		return hg__dec_fail(dec, HG_ERR_TRUNCATED, "BMP: truncated file header");
	size_t hsize = le32(d + 14);
	if (hsize != 12 && hsize != 16 && hsize < 40)
		return hg__dec_fail(dec, HG_ERR_CORRUPT, "BMP: unknown header size %zu", hsize);
	if (hsize > 1024)
		return hg__dec_fail(dec, HG_ERR_CORRUPT, "BMP: header size %zu", hsize);
	if (len < 14 + hsize)
		return hg__dec_fail(dec, HG_ERR_TRUNCATED, "BMP: truncated info header");
	const uint8_t *h = d + 14;
	b->data_off = le32(d + 10);
	if (hsize == 12) {
		b->width = le16(h + 4);
		b->height = le16(h + 6);
		b->bpp = le16(h + 10);
	} else {
		b->width = (int32_t)le32(h + 4);
		b->height = (int32_t)le32(h + 8);
		b->bpp = le16(h + 14);
		b->compression = hsize >= 20 ? le32(h + 16) : BI_RGB;
	}
	if (b->height < 0) {
		b->height = -b->height;
		b->top_down = 1;
	}
	if (b->width <= 0 || b->height == 0)
		return hg__dec_fail(dec, HG_ERR_CORRUPT, "BMP: header gives %lldx%lld pixels",
				    (long long)b->width, (long long)b->height);
	if (hsize == 64 && (b->compression == 3 || b->compression == 4))
		return hg__dec_fail(dec, HG_ERR_UNSUPPORTED, "BMP: OS/2 Huffman/RLE24 coding");
	switch (b->compression) {
	case BI_RGB:
		if (b->bpp != 1 && b->bpp != 4 && b->bpp != 8 && b->bpp != 16 &&
		    b->bpp != 24 && b->bpp != 32)
			return hg__dec_fail(dec, HG_ERR_CORRUPT, "BMP: %u bits per pixel",
					    b->bpp);
		break;
	case BI_RLE8:
	case BI_RLE4:
		if (b->bpp != (b->compression == BI_RLE8 ? 8u : 4u))
			return hg__dec_fail(dec, HG_ERR_CORRUPT, "BMP: RLE with %u bits per pixel",
					    b->bpp);
		break;
	case BI_BITFIELDS:
	case BI_ALPHABITFIELDS:
		if (b->bpp != 16 && b->bpp != 32)
			return hg__dec_fail(dec, HG_ERR_CORRUPT,
					    "BMP: bitfields with %u bits per pixel", b->bpp);
		break;
	default:
		return hg__dec_fail(dec, HG_ERR_UNSUPPORTED, "BMP: compression type %u",
				    b->compression);
	}
	return HG_OK;
}

/* Bitfield masks and palette: both sit between the info header and the
 * pixels. */
static hg_status parse_tables(hg_decoder *dec, const uint8_t *d, size_t len, struct bmp *b)
{
	size_t hsize = le32(d + 14), off = 14 + hsize;
	hg_status st = HG_OK;
	if (b->compression == BI_BITFIELDS || b->compression == BI_ALPHABITFIELDS) {
		if (hsize >= 52) {
			st = read_masks(dec, b, d + 14 + 40);
		} else {
			size_t n = b->compression == BI_ALPHABITFIELDS ? 16 : 12;
			if (len < off + n)
				return hg__dec_fail(dec, HG_ERR_TRUNCATED, "BMP: truncated masks");
			st = read_masks(dec, b, d + off);
			off += n;
		}
	} else if (b->bpp == 16) {
		b->mask[0] = 0x7c00, b->mask[1] = 0x03e0, b->mask[2] = 0x001f;
	} else if (b->bpp == 32) {
		b->mask[0] = 0xff0000, b->mask[1] = 0xff00, b->mask[2] = 0xff;
	}
	if (st || b->bpp > 8)
		return st;
	size_t entry = hsize == 12 ? 3 : 4;
	size_t n = hsize >= 36 ? le32(d + 14 + 32) : 0;
	if (n == 0 || n > (1u << b->bpp))
		n = 1u << b->bpp;
	/* some writers put the pixels right after a shorter palette */
	if (b->data_off > off && (b->data_off - off) / entry < n)
		n = (size_t)((b->data_off - off) / entry);
	if (len < off + n * entry)
		return hg__dec_fail(dec, HG_ERR_TRUNCATED, "BMP: truncated palette");
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = d + off + i * entry;
		b->pal[i][0] = e[2], b->pal[i][1] = e[1], b->pal[i][2] = e[0];
	}
	b->pal_n = (unsigned)n;
	return HG_OK;
}

static uint8_t field(uint32_t px, uint32_t mask)
{
	if (!mask)
		return 0;
	unsigned shift = (unsigned)__builtin_ctz(mask);
	unsigned bits = 32u - (unsigned)__builtin_clz(mask) - shift;
	uint32_t v = (px & mask) >> shift;
	if (bits >= 8)
		return (uint8_t)(v >> (bits - 8));
	uint32_t out = 0; /* bit replication: 5 bits abcde -> abcdeabc */
	for (int have = 0; have < 8; have += (int)bits)
		out = out << bits | v;
	return (uint8_t)(out >> (((8 + bits - 1) / bits) * bits - 8));
}

static void put_index(const struct bmp *b, uint8_t *dst, unsigned idx)
{
	const uint8_t *c = b->pal[idx < b->pal_n ? idx : 0];
	dst[0] = c[0], dst[1] = c[1], dst[2] = c[2];
}

static void decode_row(const struct bmp *b, const uint8_t *src, uint8_t *dst, size_t w)
{
	for (size_t x = 0; x < w; x++, dst += 3) {
		switch (b->bpp) {
		case 1:
		case 4:
		case 8: {
			size_t bit = x * b->bpp;
			unsigned v = src[bit / 8] >> (8 - b->bpp - bit % 8) & ((1u << b->bpp) - 1);
			put_index(b, dst, v);
			break;
		}
		case 24:
			dst[0] = src[3 * x + 2], dst[1] = src[3 * x + 1], dst[2] = src[3 * x];
			break;
		default: {
			uint32_t px = b->bpp == 16 ? le16(src + 2 * x) : le32(src + 4 * x);
			dst[0] = field(px, b->mask[0]);
			dst[1] = field(px, b->mask[1]);
			dst[2] = field(px, b->mask[2]);
		}
		}
	}
}

static uint8_t *row_ptr(const struct bmp *b, hg_image *out, size_t y)
{
	size_t h = out->height;
	return out->pixels + (b->top_down ? y : h - 1 - y) * out->stride;
}

static hg_status decode_plain(hg_decoder *dec, const struct bmp *b, const uint8_t *d,
			      size_t len, hg_image *out)
{
	uint64_t stride = ((uint64_t)out->width * b->bpp + 31) / 32 * 4;
	if (b->data_off > len || (len - b->data_off) / stride < out->height)
		return hg__dec_fail(dec, HG_ERR_TRUNCATED,
				    "BMP: truncated pixel data (needs %llu bytes from offset %llu)",
				    (unsigned long long)(stride * out->height),
				    (unsigned long long)b->data_off);
	for (size_t y = 0; y < out->height; y++)
		decode_row(b, d + b->data_off + y * stride, row_ptr(b, out, y), out->width);
	return HG_OK;
}

/* RLE8/RLE4. Every command consumes input, so the loop ends with the data;
 * writes outside the picture are dropped. */
static hg_status decode_rle(hg_decoder *dec, const struct bmp *b, const uint8_t *d,
			    size_t len, hg_image *out)
{
	const size_t w = out->width, h = out->height;
	size_t x = 0, y = 0, p = b->data_off;
	const int four = b->compression == BI_RLE4;
	for (size_t r = 0; r < h; r++)
		for (size_t i = 0; i < w; i++)
			put_index(b, row_ptr(b, out, r) + 3 * i, 0);
	while (y < h) {
		if (p > len || len - p < 2)
			return hg__dec_fail(dec, HG_ERR_TRUNCATED, "BMP: truncated RLE data");
		unsigned n = d[p], v = d[p + 1];
		p += 2;
		if (n > 0) { /* a run of n pixels */
			for (unsigned i = 0; i < n && x < w; i++, x++) {
				unsigned idx = four ? (i & 1 ? v & 15 : v >> 4) : v;
				put_index(b, row_ptr(b, out, y) + 3 * x, idx);
			}
			continue;
		}
		if (v == 0) { /* end of line */
			x = 0, y++;
		} else if (v == 1) { /* end of bitmap */
			return HG_OK;
		} else if (v == 2) { /* delta */
			if (len - p < 2)
				return hg__dec_fail(dec, HG_ERR_TRUNCATED, "BMP: truncated RLE delta");
			x += d[p], y += d[p + 1];
			p += 2;
		} else { /* v literal pixels, padded to 16 bits */
			size_t bytes = four ? (v + 1) / 2 : v;
			bytes += bytes & 1;
			if (len - p < bytes)
				return hg__dec_fail(dec, HG_ERR_TRUNCATED, "BMP: truncated RLE run");
			for (unsigned i = 0; i < v; i++, x++) {
				unsigned idx = four ? (i & 1 ? d[p + i / 2] & 15 : d[p + i / 2] >> 4)
						    : d[p + i];
				if (x < w && y < h)
					put_index(b, row_ptr(b, out, y) + 3 * x, idx);
			}
			p += bytes;
		}
	}
	return HG_OK;
}

static hg_status bmp_probe(hg_decoder *dec, const uint8_t *data, size_t len, size_t *w,
			   size_t *h)
{
	struct bmp b;
	hg_status st = parse_header(dec, data, len, &b);
	if (st == HG_OK) {
		*w = (size_t)b.width;
		*h = (size_t)b.height;
	}
	return st;
}

static hg_status bmp_decode(hg_decoder *dec, const uint8_t *data, size_t len, hg_image *out)
{
	struct bmp *b = malloc(sizeof *b);
	if (!b)
		return hg__dec_fail(dec, HG_ERR_NOMEM, "BMP: no memory");
	hg_status st = parse_header(dec, data, len, b);
	if (st == HG_OK)
		st = hg__dec_check_size(dec, (uint64_t)b->width, (uint64_t)b->height);
	if (st == HG_OK)
		st = parse_tables(dec, data, len, b);
	if (st == HG_OK)
		st = hg__image_alloc(dec, out, (size_t)b->width, (size_t)b->height, 3,
				     HG_FORMAT_BMP);
	if (st == HG_OK)
		st = b->compression == BI_RLE8 || b->compression == BI_RLE4
			     ? decode_rle(dec, b, data, len, out)
			     : decode_plain(dec, b, data, len, out);
	free(b);
	return st;
}

const hg_codec hg__codec_bmp = {1, HG_FORMAT_BMP, bmp_probe, bmp_decode};
