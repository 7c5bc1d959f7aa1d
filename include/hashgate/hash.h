/*
 * hash.h — one call from encoded bytes to every hash a hotline list may carry:
 * PDQ (and its 8 dihedral variants) plus MD5, SHA-1 and SHA-256 of the bytes.
 *
 * This is what an app embeds to hash on the device before it encrypts, and
 * what the CLI, the scanner and the HTTP gate call.
 */
#ifndef HASHGATE_HASH_H
#define HASHGATE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "hashgate/image.h"
#include "hashgate/pdq.h"
#include "hashgate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for hg_hash_bytes(). */
enum {
	HG_HASH_DIHEDRAL = HG_PDQ_DIHEDRAL,     /* all 8 PDQ variants */
	HG_HASH_COMPAT_CLI = HG_PDQ_COMPAT_CLI, /* reference CLI's 512x512 family */
	HG_HASH_DIGESTS = 1u << 8,              /* MD5, SHA-1, SHA-256 of the bytes */
	/* Fast, approximate: a JPEG is decoded at reduced scale (libjpeg-turbo's
	 * DCT scaling, down to HG_HASH_FAST_MIN_SIDE px on the shorter side; luma
	 * only; a progressive file from its DC scan alone) and that image gets
	 * the full-resolution PDQ. Not bit-compatible with the reference: a few
	 * bits from the exact hash (figures in README.md). Other formats hash
	 * exactly. Cannot be combined with HG_HASH_COMPAT_CLI. */
	HG_HASH_FAST = 1u << 9,
	/* Query side: when the picture sits inside uniform bars (letterbox,
	 * pillarbox, screenshot padding), also hash it with the bars trimmed:
	 * one extra hash of kind HG_EXTRA_UNLETTERBOX (with its 8 variants under
	 * HG_HASH_DIHEDRAL). Match an upload when ANY of its hashes matches. */
	HG_HASH_UNLETTERBOX = 1u << 10,
	/* Bank side: also hash canonical sub-regions of the image (kind
	 * HG_EXTRA_REGION, plain hash only, named by position and size, e.g. "center80"
	 * = the middle 80% of each side; the set is in docs/eval.md), so a
	 * cropped upload can match a bank built from images. */
	HG_HASH_REGIONS = 1u << 11,
	/* Query side: when a caption band (a uniform bar with text) covers the
	 * top or bottom, also hash the picture without it (HG_EXTRA_CAPTION_TRIM:
	 * for a band added above or below; up to 5 such trims when a band's
	 * extent is ambiguous, named "caption-trim", "caption-trim-top",
	 * "caption-trim-bottom", "caption-trim-text") and with it painted over
	 * (HG_EXTRA_CAPTION_FILL: for a band laid over the picture; the band
	 * fades from the picture's edge row to its mean colour), with 8 variants
	 * each under HG_HASH_DIHEDRAL. And when a see-through bar (a
	 * semi-transparent overlay: the picture shows through, darkened or
	 * washed out) covers the top or bottom, also the picture with the bar's
	 * map undone (HG_EXTRA_CAPTION_UNVEIL). */
	HG_HASH_UNCAPTION = 1u << 12,
	/* Query side: when the image is at most 512 px on its long side,
	 * also hash it with every pixel repeated k x k times (k = 1024 / side, at
	 * most 8): small copies then hash like the larger original the list was
	 * made from (HG_EXTRA_UPSCALE; 8 variants under HG_HASH_DIHEDRAL). Not
	 * done in fast mode. */
	HG_HASH_UPSCALE = 1u << 13,
	/* Query side: for the same small images (at most 512 px), also the 8
	 * dihedral variants computed exactly, by transforming the pixels and
	 * hashing each (HG_EXTRA_DIHEDRAL_PIXELS: hash[k] is the hash of the
	 * image transformed by k). The DCT-derived variants are off by PDQ's
	 * half-pixel blur asymmetry, which moves fine textures 40+ bits. Costs
	 * 7 more PDQ hashes of the image. Not done in fast mode. */
	HG_HASH_DIHEDRAL_PIXELS = 1u << 14,
};

/* The smallest side fast mode decodes a JPEG down to (unless the image is
 * smaller to begin with). */
#define HG_HASH_FAST_MIN_SIDE 256

/* The most extra hashes one image can give (unletterbox + 8 regions + 5
 * caption trims + the caption fill + unveil + upscale + dihedral pixels). */
#define HG_HASH_MAX_EXTRA 18

typedef enum hg_extra_kind {
	HG_EXTRA_UNLETTERBOX = 1, /* the picture with its uniform bars trimmed */
	HG_EXTRA_REGION = 2,      /* a canonical sub-region */
	HG_EXTRA_CAPTION_TRIM = 3, /* the picture without its caption bands */
	HG_EXTRA_CAPTION_FILL = 4, /* the caption bands painted over */
	HG_EXTRA_UPSCALE = 5,      /* a small image with its pixels repeated */
	HG_EXTRA_DIHEDRAL_PIXELS = 6, /* exact variants of a small image */
	HG_EXTRA_CAPTION_UNVEIL = 7, /* see-through caption bars undone */
} hg_extra_kind;

/* "unletterbox", "region", "caption-trim", "caption-fill", "upscale",
 * "dihedral-pixels", "caption-unveil"; "?" otherwise. */
HG_API const char *hg_extra_kind_name(hg_extra_kind kind);

/* An extra hash of part of the decoded image. */
typedef struct hg_extra_hash {
	hg_pdq_result pdq;
	hg_extra_kind kind;
	const char *name;          /* "center80", ...; else the kind's name: static */
	size_t x, y, width, height; /* the part hashed, in decoded pixels (in fast
				     * mode: of the reduced image) */
} hg_extra_hash;

typedef struct hg_hashes {
	hg_pdq_result pdq;
	uint8_t md5[16], sha1[20], sha256[32]; /* with HG_HASH_DIGESTS */
	hg_format format;
	size_t width, height; /* the image's own size, also in fast mode */
	size_t n_extra; /* with UNLETTERBOX / REGIONS / UNCAPTION / UPSCALE */
	hg_extra_hash extra[HG_HASH_MAX_EXTRA];
} hg_hashes;

/* What an upload check hashes with by default: the improvements that win on
 * the evaluation (docs/eval.md) — dihedral variants, unletterbox, uncaption,
 * upscale, exact dihedral variants of small images. Match with
 * hg_hashes_query_sets(). */
#define HG_HASH_QUERY_DEFAULT                                                    \
	(HG_HASH_DIHEDRAL | HG_HASH_UNLETTERBOX | HG_HASH_UNCAPTION | HG_HASH_UPSCALE | \
	 HG_HASH_DIHEDRAL_PIXELS)

/* The most query sets hg_hashes_query_sets() gives (the image, unletterbox,
 * up to 5 caption trims, the caption fill, unveil, upscale, dihedral
 * pixels). */
#define HG_HASH_MAX_QUERY_SETS 11

/*
 * The hash sets an upload is matched with, each 1 hash (8 with
 * HG_HASH_DIHEDRAL): the image's own, then each unletterbox / uncaption /
 * upscale / dihedral-pixels extra. Sets whose PDQ quality is below `min_quality` (normally
 * HG_PDQ_MIN_QUALITY) are left out: flat hashes give false matches. Region
 * hashes are for banks and are left out too. Writes up to `max` pointers into
 * `hs` to sets[] and, when `names` is not NULL, "" (the image itself) or the
 * extra's kind name to names[]; returns how many. An upload matches an entry
 * when any hash of any set is within the radius.
 */
HG_API size_t hg_hashes_query_sets(const hg_hashes *hs, int min_quality,
				   const hg_pdq_result **sets, const char **names, size_t max);

typedef struct hg_hasher hg_hasher;

/* `limits` may be NULL for the defaults. One hasher per thread. */
HG_API hg_status hg_hasher_new(const hg_limits *limits, hg_hasher **out);
HG_API void hg_hasher_free(hg_hasher *hasher);

/* Decodes and hashes. *out is zeroed on failure; the reason is in
 * hg_hasher_errmsg(). */
HG_API hg_status hg_hash_bytes(hg_hasher *hasher, const void *data, size_t len,
			       unsigned flags, hg_hashes *out);

/* Reads `path` ("-" = stdin), refusing more than limits.max_bytes, then
 * hg_hash_bytes(). */
HG_API hg_status hg_hash_file(hg_hasher *hasher, const char *path, unsigned flags,
			      hg_hashes *out);

HG_API const char *hg_hasher_errmsg(const hg_hasher *hasher);

/* Lowercase hex of `len` bytes into out (2*len+1 bytes). */
HG_API void hg_hex_encode(const uint8_t *bytes, size_t len, char *out);

#ifdef __cplusplus
}
#endif
#endif
