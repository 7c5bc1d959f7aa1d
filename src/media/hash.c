/*
 * hash.c — bytes in, every hash out: decode, PDQ, and the cryptographic
 * digests hotline lists also carry (MD5, SHA-1, SHA-256 via OpenSSL's
 * libcrypto; hashgate never hand-writes a digest).
 */
#include "hashgate/hash.h"

#include "core/border.h"
#include "core/transform.h"
#include "core/upscale.h"
#include "core/veil.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/codec.h"

struct hg_hasher {
	hg_decoder *dec;
	hg_pdq_hasher *pdq;
	hg_limits limits;
	uint8_t *up; /* scratch for HG_HASH_UPSCALE, grown as needed */
	size_t up_cap;
	char errmsg[320];
};

hg_status hg_hasher_new(const hg_limits *limits, hg_hasher **out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	hg_hasher *h = calloc(1, sizeof *h);
	if (!h)
		return HG_ERR_NOMEM;
	if (limits)
		h->limits = *limits;
	else
		hg_limits_default(&h->limits);
	hg_status st = hg_decoder_new(&h->limits, &h->dec);
	if (st == HG_OK)
		st = hg_pdq_hasher_new(&h->pdq);
	if (st) {
		hg_hasher_free(h);
		return st;
	}
	*out = h;
	return HG_OK;
}

void hg_hasher_free(hg_hasher *h)
{
	if (!h)
		return;
	hg_decoder_free(h->dec);
	hg_pdq_hasher_free(h->pdq);
	free(h->up);
	free(h);
}

const char *hg_hasher_errmsg(const hg_hasher *h)
{
	return h ? h->errmsg : "no hasher";
}

static hg_status fail(hg_hasher *h, hg_status st, const char *msg)
{
	snprintf(h->errmsg, sizeof h->errmsg, "%s", msg && *msg ? msg : hg_strerror(st));
	return st;
}

static int digest(const EVP_MD *md, const void *data, size_t len, uint8_t *out)
{
	unsigned n = 0;
	return EVP_Digest(data, len, out, &n, md, NULL) == 1;
}

void hg_hex_encode(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Canonical sub-regions for banks built from images: the middle of the image
 * at a few sizes, and its corners. Offsets and sizes are in thousandths of a
 * side. */
static const struct region {
	const char *name;
	unsigned x, y, size;
} regions[] = {
	{"center90", 50, 50, 900},  {"center80", 100, 100, 800}, {"center70", 150, 150, 700},
	{"center60", 200, 200, 600}, {"tl85", 0, 0, 850},         {"tr85", 150, 0, 850},
	{"bl85", 0, 150, 850},       {"br85", 150, 150, 850},
};

/* Hashes the part `r` of `img` into the next extra slot. A part too small to
 * hash is skipped, not an error: the image's own hash is still there. In fast
 * mode (`red` set) the part of the reduced image stands for the part of the
 * original that its pixels cover. */
static hg_status hash_part(hg_hasher *h, const hg_image *img, const hg_pdq_reduction *red,
			   hg_rect r, hg_extra_kind kind, const char *name, unsigned pdq_flags,
			   hg_hashes *out)
{
	if (out->n_extra == HG_HASH_MAX_EXTRA)
		return HG_ERR_INTERNAL;
	hg_extra_hash *e = &out->extra[out->n_extra];
	const uint8_t *p = img->pixels + r.y * img->stride + r.x * (size_t)img->channels;
	hg_status st;
	if (red) {
		hg_pdq_reduction part = {r.width * red->denom / red->num,
					 r.height * red->denom / red->num, red->num, red->denom};
		st = hg_pdq_hash_reduced(h->pdq, p, r.width, r.height, img->stride, img->channels,
					 &part, pdq_flags & HG_PDQ_DIHEDRAL, &e->pdq);
	} else {
		st = hg_pdq_hash_pixels(h->pdq, p, r.width, r.height, img->stride, img->channels,
					pdq_flags, &e->pdq);
	}
	/* Too small to hash; in fast mode also a part whose reduced size the
	 * reduction cannot stand for. Either way the image's own hash stands. */
	if (st == HG_ERR_TOO_SMALL || (red && st == HG_ERR_INVALID_ARG))
		return HG_OK;
	if (st)
		return st;
	e->kind = kind;
	e->name = name;
	e->x = r.x;
	e->y = r.y;
	e->width = r.width;
	e->height = r.height;
	out->n_extra++;
	return HG_OK;
}

const char *hg_extra_kind_name(hg_extra_kind kind)
{
	switch (kind) {
	case HG_EXTRA_UNLETTERBOX: return "unletterbox";
	case HG_EXTRA_REGION: return "region";
	case HG_EXTRA_CAPTION_TRIM: return "caption-trim";
	case HG_EXTRA_CAPTION_FILL: return "caption-fill";
	case HG_EXTRA_UPSCALE: return "upscale";
	case HG_EXTRA_DIHEDRAL_PIXELS: return "dihedral-pixels";
	case HG_EXTRA_CAPTION_UNVEIL: return "caption-unveil";
	}
	return "?";
}

size_t hg_hashes_query_sets(const hg_hashes *hs, int min_quality, const hg_pdq_result **sets,
			    const char **names, size_t max)
{
	size_t n = 0;
	if (!hs || !sets)
		return 0;
	if (n < max && hs->pdq.quality >= min_quality) {
		if (names)
			names[n] = "";
		sets[n++] = &hs->pdq;
	}
	for (size_t i = 0; i < hs->n_extra && i < HG_HASH_MAX_EXTRA && n < max; i++) {
		const hg_extra_hash *e = &hs->extra[i];
		if (e->kind == HG_EXTRA_REGION || e->pdq.quality < min_quality)
			continue;
		if (names)
			names[n] = hg_extra_kind_name(e->kind);
		sets[n++] = &e->pdq;
	}
	return n;
}

/* Grows the hasher's scratch for the views of small images. */
static hg_status grow_scratch(hg_hasher *h, size_t need)
{
	if (need <= h->up_cap)
		return HG_OK;
	uint8_t *b = realloc(h->up, need);
	if (!b)
		return HG_ERR_NOMEM;
	h->up = b;
	h->up_cap = need;
	return HG_OK;
}

/* See-through caption bars: the picture with them lifted (core/veil.h), in
 * a copy, as `img` is painted over later. */
static hg_status hash_unveil(hg_hasher *h, const hg_image *img, const hg_pdq_reduction *red,
			     unsigned pdq_flags, hg_hashes *out)
{
	hg_veil top, bottom;
	if (!hg_find_veils(img->pixels, img->width, img->height, img->stride, img->channels, &top,
			   &bottom))
		return HG_OK;
	hg_status st = grow_scratch(h, img->stride * img->height);
	if (st)
		return st;
	memcpy(h->up, img->pixels, img->stride * img->height);
	hg_lift_veils(h->up, img->width, img->height, img->stride, img->channels, &top, &bottom);
	hg_image lifted = *img;
	lifted.pixels = h->up;
	hg_rect all = {0, 0, img->width, img->height};
	return hash_part(h, &lifted, red, all, HG_EXTRA_CAPTION_UNVEIL, "caption-unveil",
			 pdq_flags, out);
}

/* Caption bands: the picture without them, then (changing `img`, so last)
 * with them painted over. Besides the picture without both bands, it is also
 * hashed without each band alone when there are two and one has text (a
 * photo's own flat edge can pass for a band, with what looks like text in
 * it: three of the meme eval's four misses; two plain bars are a letterbox,
 * which unletterbox covers), and without the text-centred alternative of a
 * band (see hg_bands). */
static hg_status hash_uncaption(hg_hasher *h, hg_image *img, const hg_pdq_reduction *red,
				unsigned pdq_flags, hg_hashes *out)
{
	hg_bands b;
	if (!hg_find_bands(img->pixels, img->width, img->height, img->stride, img->channels, &b))
		return HG_OK;
	int each = b.top && b.bottom && (b.top_ink || b.bottom_ink);
	const struct {
		size_t top, bottom;
		const char *name;
	} trims[] = {
		{b.top, b.bottom, "caption-trim"},
		{each ? b.top : 0, 0, "caption-trim-top"},
		{0, each ? b.bottom : 0, "caption-trim-bottom"},
		{b.top_text, 0, "caption-trim-text"},
		{0, b.bottom_text, "caption-trim-text"},
	};
	hg_status st = HG_OK;
	for (size_t i = 0; i < sizeof trims / sizeof trims[0] && st == HG_OK; i++) {
		if (!trims[i].top && !trims[i].bottom)
			continue;
		hg_rect r = {0, trims[i].top, img->width,
			     img->height - trims[i].top - trims[i].bottom};
		st = hash_part(h, img, red, r, HG_EXTRA_CAPTION_TRIM, trims[i].name, pdq_flags,
			       out);
	}
	if (st)
		return st;
	hg_fill_bands(img->pixels, img->width, img->height, img->stride, img->channels, b.top,
		      b.bottom);
	hg_rect all = {0, 0, img->width, img->height};
	return hash_part(h, img, red, all, HG_EXTRA_CAPTION_FILL, "caption-fill", pdq_flags, out);
}

/* The exact dihedral variants of a small image: hash[k] = the hash of the
 * pixels transformed by k (see core/transform.h). */
static hg_status hash_dihedral_pixels(hg_hasher *h, const hg_image *img, unsigned pdq_flags,
				      hg_hashes *out)
{
	if (hg_upscale_factor(img->width, img->height) < 2 || out->n_extra == HG_HASH_MAX_EXTRA)
		return HG_OK;
	hg_status st = grow_scratch(h, img->width * img->height * (size_t)img->channels);
	if (st)
		return st;
	hg_extra_hash *e = &out->extra[out->n_extra];
	memset(e, 0, sizeof *e);
	e->pdq.hash[0] = out->pdq.hash[0];
	e->pdq.quality = out->pdq.quality;
	for (int k = 1; k < HG_DIH_COUNT; k++) {
		size_t w, hgt;
		hg_pdq_result r;
		hg_dihedral_pixels(img->pixels, img->width, img->height, img->stride, img->channels,
				   k, h->up, &w, &hgt);
		st = hg_pdq_hash_pixels(h->pdq, h->up, w, hgt, w * (size_t)img->channels,
					img->channels, pdq_flags & ~(unsigned)HG_PDQ_DIHEDRAL, &r);
		if (st)
			return st;
		e->pdq.hash[k] = r.hash[0];
	}
	e->kind = HG_EXTRA_DIHEDRAL_PIXELS;
	e->name = "dihedral-pixels";
	e->width = img->width;
	e->height = img->height;
	out->n_extra++;
	return HG_OK;
}

/* A small image with its pixels repeated k x k times (see core/upscale.h). */
static hg_status hash_upscaled(hg_hasher *h, const hg_image *img, unsigned pdq_flags,
			       hg_hashes *out)
{
	size_t k = hg_upscale_factor(img->width, img->height);
	if (k < 2)
		return HG_OK;
	size_t w = img->width * k, hgt = img->height * k, px = (size_t)img->channels;
	/* at most (1024 * 2)^2 * 4 bytes: no overflow */
	hg_status grown = grow_scratch(h, w * hgt * px);
	if (grown)
		return grown;
	hg_upscale_replicate(img->pixels, img->width, img->height, img->stride, img->channels, k,
			     h->up);
	hg_image big = {h->up, w, hgt, w * px, img->channels, img->format};
	hg_rect all = {0, 0, w, hgt};
	hg_status st = hash_part(h, &big, NULL, all, HG_EXTRA_UPSCALE, "upscale", pdq_flags, out);
	/* report the part in the image's own pixels */
	if (st == HG_OK && out->n_extra && out->extra[out->n_extra - 1].kind == HG_EXTRA_UPSCALE) {
		out->extra[out->n_extra - 1].width = img->width;
		out->extra[out->n_extra - 1].height = img->height;
	}
	return st;
}

static hg_status hash_extras(hg_hasher *h, hg_image *img, unsigned flags,
			     const hg_pdq_reduction *red, hg_hashes *out)
{
	unsigned pdq_flags = flags & (HG_PDQ_DIHEDRAL | HG_PDQ_COMPAT_CLI);
	hg_rect r;
	hg_status st = HG_OK;
	if ((flags & HG_HASH_UNLETTERBOX) &&
	    hg_find_content(img->pixels, img->width, img->height, img->stride, img->channels, &r))
		st = hash_part(h, img, red, r, HG_EXTRA_UNLETTERBOX, "unletterbox", pdq_flags, out);
	for (size_t i = 0; (flags & HG_HASH_REGIONS) && st == HG_OK &&
			   i < sizeof regions / sizeof regions[0]; i++) {
		r.x = img->width * regions[i].x / 1000;
		r.y = img->height * regions[i].y / 1000;
		r.width = img->width * regions[i].size / 1000;
		r.height = img->height * regions[i].size / 1000;
		st = hash_part(h, img, red, r, HG_EXTRA_REGION, regions[i].name,
			       pdq_flags & ~(unsigned)HG_PDQ_DIHEDRAL, out);
	}
	if ((flags & HG_HASH_UPSCALE) && !red && st == HG_OK)
		st = hash_upscaled(h, img, pdq_flags, out);
	if ((flags & HG_HASH_DIHEDRAL_PIXELS) && !red && st == HG_OK)
		st = hash_dihedral_pixels(h, img, pdq_flags, out);
	if ((flags & HG_HASH_UNCAPTION) && st == HG_OK)
		st = hash_unveil(h, img, red, pdq_flags, out);
	if ((flags & HG_HASH_UNCAPTION) && st == HG_OK)
		st = hash_uncaption(h, img, red, pdq_flags, out);
	return st;
}

hg_status hg_hash_bytes(hg_hasher *h, const void *data, size_t len, unsigned flags,
			hg_hashes *out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	memset(out, 0, sizeof *out);
	if (!h)
		return HG_ERR_INVALID_ARG;
	h->errmsg[0] = '\0';
	if (flags & ~(unsigned)(HG_HASH_DIHEDRAL | HG_HASH_COMPAT_CLI | HG_HASH_DIGESTS |
				HG_HASH_FAST | HG_HASH_UNLETTERBOX | HG_HASH_REGIONS |
				HG_HASH_UNCAPTION | HG_HASH_UPSCALE | HG_HASH_DIHEDRAL_PIXELS))
		return fail(h, HG_ERR_INVALID_ARG, "unknown hash flags");
	if ((flags & HG_HASH_FAST) && (flags & HG_HASH_COMPAT_CLI))
		return fail(h, HG_ERR_INVALID_ARG, "fast mode has no CLI-compatible family");
	hg_image img;
	hg_pdq_reduction red = {0, 0, 1, 1};
	hg_status st = (flags & HG_HASH_FAST)
			       ? hg__decode_reduced(h->dec, data, len, HG_HASH_FAST_MIN_SIDE, &img,
						    &red)
			       : hg_decode(h->dec, data, len, &img);
	if (st)
		return fail(h, st, hg_decoder_errmsg(h->dec));
	if (!(flags & HG_HASH_FAST)) {
		red.full_width = img.width;
		red.full_height = img.height;
	}
	if (flags & HG_HASH_FAST)
		st = hg_pdq_hash_reduced(h->pdq, img.pixels, img.width, img.height, img.stride,
					 img.channels, &red, flags & HG_PDQ_DIHEDRAL, &out->pdq);
	else
		st = hg_pdq_hash_pixels(h->pdq, img.pixels, img.width, img.height, img.stride,
					img.channels, flags & (HG_PDQ_DIHEDRAL | HG_PDQ_COMPAT_CLI),
					&out->pdq);
	out->format = img.format;
	out->width = red.full_width;
	out->height = red.full_height;
	if (st == HG_OK)
		st = hash_extras(h, &img, flags, (flags & HG_HASH_FAST) ? &red : NULL, out);
	hg_image_release(&img);
	if (st) {
		memset(out, 0, sizeof *out);
		return fail(h, st, NULL);
	}
	if ((flags & HG_HASH_DIGESTS) &&
	    (!digest(EVP_md5(), data, len, out->md5) || !digest(EVP_sha1(), data, len, out->sha1) ||
	     !digest(EVP_sha256(), data, len, out->sha256)))
		return fail(h, HG_ERR_INTERNAL, "OpenSSL digest failed");
	return HG_OK;
}

/* Reads a whole stream, refusing more than limits.max_bytes. Messages leave
 * out the path: callers print it, as for every other hashing error. */
static hg_status slurp(hg_hasher *h, FILE *f, uint8_t **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *b = malloc(cap);
	if (!b)
		return fail(h, HG_ERR_NOMEM, "out of memory reading input");
	for (;;) {
		if (n == cap) {
			if ((uint64_t)cap > h->limits.max_bytes) {
				free(b);
				snprintf(h->errmsg, sizeof h->errmsg,
					 "larger than the %llu-byte limit",
					 (unsigned long long)h->limits.max_bytes);
				return HG_ERR_TOO_LARGE;
			}
			uint8_t *nb = realloc(b, cap * 2);
			if (!nb) {
				free(b);
				return fail(h, HG_ERR_NOMEM, "out of memory reading input");
			}
			b = nb;
			cap *= 2;
		}
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(b);
		snprintf(h->errmsg, sizeof h->errmsg, "read error: %s", strerror(errno));
		return HG_ERR_IO;
	}
	*buf = b;
	*len = n;
	return HG_OK;
}

hg_status hg_hash_file(hg_hasher *h, const char *path, unsigned flags, hg_hashes *out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	memset(out, 0, sizeof *out);
	if (!h || !path)
		return HG_ERR_INVALID_ARG;
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		snprintf(h->errmsg, sizeof h->errmsg, "cannot open: %s", strerror(errno));
		return HG_ERR_IO;
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	hg_status st = slurp(h, f, &buf, &len);
	if (f != stdin)
		fclose(f);
	if (st)
		return st;
	st = hg_hash_bytes(h, buf, len, flags, out);
	free(buf);
	return st;
}
