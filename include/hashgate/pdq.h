/*
 * pdq.h — PDQ perceptual hashes, bit-compatible with Meta's reference.
 *
 * A PDQ hash is 256 bits: bit k says whether DCT coefficient (k/16, k%16) of
 * the blurred 64x64 luma is above the median. Two pictures are "the same"
 * when their hashes differ in at most 31 bits (HG_PDQ_MATCH_RADIUS).
 *
 *   hg_pdq.w[0] = bits   0..63   (printed last in hex)
 *   hg_pdq.w[3] = bits 192..255  (printed first in hex)
 *
 * Everything here is pure computation: no I/O, no globals, thread-safe as long
 * as each thread uses its own hg_pdq_hasher.
 */
#ifndef HASHGATE_PDQ_H
#define HASHGATE_PDQ_H

#include <stddef.h>
#include <stdint.h>

#include "hashgate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The reference's confident-match threshold: match when distance <= 31. */
#define HG_PDQ_MATCH_RADIUS 31
/* Hashes with quality below this are too flat to match on (pytx, HMA). */
#define HG_PDQ_MIN_QUALITY 50
/* Length of the hex form, without the terminating NUL. */
#define HG_PDQ_HEX_LEN 64

typedef struct hg_pdq {
	uint64_t w[4];
} hg_pdq;

/* The 8 dihedral transforms, in the reference's --pdqdih-across order. */
typedef enum hg_dihedral {
	HG_DIH_ORIG = 0,
	HG_DIH_ROT90 = 1,       /* 90 degrees counter-clockwise */
	HG_DIH_ROT180 = 2,
	HG_DIH_ROT270 = 3,      /* 90 degrees clockwise */
	HG_DIH_FLIPX = 4,       /* top <-> bottom */
	HG_DIH_FLIPY = 5,       /* left <-> right (mirror) */
	HG_DIH_FLIPPLUS1 = 6,   /* transpose */
	HG_DIH_FLIPMINUS1 = 7,  /* anti-transpose */
	HG_DIH_COUNT = 8
} hg_dihedral;

/* Flags for hg_pdq_hash_*(). */
enum {
	/* Also compute the 7 other dihedral variants into result->hash[1..7]. */
	HG_PDQ_DIHEDRAL = 1u << 0,
	/* The reference command-line tool's family: images wider or taller than
	 * 512 px are first resized to exactly 512x512 by nearest neighbour. The
	 * default is the full-resolution family (HMA, pytx, Java, Rust, vPDQ). */
	HG_PDQ_COMPAT_CLI = 1u << 1,
};

typedef struct hg_pdq_result {
	hg_pdq hash[HG_DIH_COUNT]; /* [0] always; [1..7] with HG_PDQ_DIHEDRAL */
	int quality;               /* 0..100 */
} hg_pdq_result;

/* Reusable scratch for hashing: grows to the largest image seen, so a
 * long-lived hasher allocates nothing per hash. Not shareable across threads. */
typedef struct hg_pdq_hasher hg_pdq_hasher;

/* Creates a hasher. *out is set to NULL on failure. */
HG_API hg_status hg_pdq_hasher_new(hg_pdq_hasher **out);
/* Frees a hasher and its scratch. NULL is a no-op. */
HG_API void hg_pdq_hasher_free(hg_pdq_hasher *hasher);

/*
 * Hashes 8-bit pixels. `channels` is 1 (grey: luma = the grey value) or 3
 * (RGB: luma = 0.299R + 0.587G + 0.114B in binary32, as the reference) or 4
 * (RGBA/RGBX: alpha ignored, as the reference). `stride` is bytes per row.
 *
 * Returns HG_ERR_TOO_SMALL when a side is under 5 px (the reference would emit
 * an all-zero hash there; hashgate refuses instead), HG_ERR_INVALID_ARG for a
 * NULL pointer or a bad channel count, HG_ERR_NOMEM when scratch cannot grow.
 * `result` is fully written on success and zeroed on failure.
 */
HG_API hg_status hg_pdq_hash_pixels(hg_pdq_hasher *hasher, const uint8_t *pixels,
				    size_t width, size_t height, size_t stride,
				    int channels, unsigned flags, hg_pdq_result *result);

/*
 * Hashes a float luma plane (row-major, width*height values, no padding) as
 * the reference's pdqHash256FromFloatLuma does; used for video frames and by
 * conformance tests. HG_PDQ_COMPAT_CLI is not accepted here.
 */
HG_API hg_status hg_pdq_hash_luma(hg_pdq_hasher *hasher, const float *luma,
				  size_t width, size_t height, unsigned flags,
				  hg_pdq_result *result);

/* How a reduced copy of an image relates to the original. */
typedef struct hg_pdq_reduction {
	size_t full_width, full_height; /* the original's size */
	/* the scale, num <= denom: a side of the copy is ceil(full * num / denom)
	 * and its pixel k covers the original's [k * denom / num, (k+1) * denom / num),
	 * as libjpeg-turbo's DCT scaling to num/8 gives */
	unsigned num, denom;
} hg_pdq_reduction;

/*
 * Approximates the full-resolution hash of an image from a reduced copy of it
 * (width x height; e.g. a JPEG decoded at 1/8 scale by its DCT): the
 * reference's blur and 64x64 sampling are applied, as far as the copy allows,
 * at the original's scale. Typically a few bits from hg_pdq_hash_pixels() on
 * the original (not bit-compatible; figures in README.md). With num == denom
 * it is hg_pdq_hash_pixels() exactly. `pixels`, `stride`, `channels` and
 * HG_PDQ_DIHEDRAL are as for hg_pdq_hash_pixels(). HG_ERR_INVALID_ARG for
 * HG_PDQ_COMPAT_CLI, a NULL `reduction`, or a size that is not the
 * reduction's.
 */
HG_API hg_status hg_pdq_hash_reduced(hg_pdq_hasher *hasher, const uint8_t *pixels,
				     size_t width, size_t height, size_t stride,
				     int channels, const hg_pdq_reduction *reduction,
				     unsigned flags, hg_pdq_result *result);

/* Number of differing bits, 0..256. */
HG_API int hg_pdq_distance(const hg_pdq *a, const hg_pdq *b);

/* Writes the reference's text form: 64 lowercase hex digits, bit 255 first,
 * plus a NUL. `out` must hold HG_PDQ_HEX_LEN + 1 bytes. */
HG_API void hg_pdq_to_hex(const hg_pdq *hash, char out[HG_PDQ_HEX_LEN + 1]);

/* Parses exactly `len` characters of hex (upper or lower case). Anything but
 * 64 hex digits gives HG_ERR_PARSE and leaves *out zeroed. */
HG_API hg_status hg_pdq_from_hex(const char *text, size_t len, hg_pdq *out);

/* "orig", "rot90", ... for a dihedral index; "?" when out of range. */
HG_API const char *hg_dihedral_name(int dihedral);

#ifdef __cplusplus
}
#endif
#endif
