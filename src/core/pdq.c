/*
 * pdq.c — PDQ hashing, bit-for-bit the reference's pdqhashing.cpp.
 *
 * The pipeline is the reference's: luma -> two Jarosz passes (box H, box V,
 * box H, box V) -> decimate to 64x64 -> quality -> 16x16 of the 2-D DCT ->
 * threshold at the lower median. Every float operation happens in the same
 * order as the reference (see ../shared/REFERENCE-NOTES.md, section 2), which
 * is what makes the hashes identical; this file must be compiled with
 * -ffp-contract=off and never with -ffast-math.
 *
 * Speed comes from doing the same arithmetic on many rows or columns at once:
 * a box filter's running sum is sequential along its line, but independent
 * across lines, so each SIMD lane follows the reference's exact sequence.
 * Vertical passes run across columns directly; horizontal passes transpose a
 * stripe of rows into a small buffer first. The last two passes only compute
 * what the 64 sampled columns need.
 */
#include "hashgate/pdq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pdq_internal.h"
#include "core/simd.h"

#define DCT_N 64
#define DCT_K 16
#define STRIPE_ROWS 16 /* rows transposed together for a horizontal pass */
#define CLI_RESIZE 512 /* the reference CLI's pre-resize target */
#define MIN_SIDE 5

struct hg_pdq_hasher {
	float *buf_a;           /* a full-size luma plane, when one is needed */
	size_t plane_cap;
	float *ring;            /* H1's rows waiting for V1, then V1's stripe */
	size_t ring_cap;
	float *narrow_a, *narrow_b; /* height x 64: the sampled columns */
	size_t narrow_cap;
	float *stripe_in, *stripe_out; /* width x STRIPE_ROWS, transposed */
	float *sums;            /* running sums, one per lane */
	float *taps_x, *taps_y; /* fast mode's resampling weights */
	float *kern;            /* fast mode: one blur kernel */
	unsigned char *keep;    /* per column: 1 if the decimation samples it */
	size_t keep_cap;
	size_t taps_x_cap, taps_y_cap, kern_cap;
	size_t line_cap;        /* floats in stripe_in/out and sums */
	float dct[DCT_K][DCT_N];    /* D[u][k], frequency u+1 */
	float dct_t[DCT_N][DCT_K];  /* D transposed, for the second product */
};

/* The reference's window: ceil(n / 128). */
static int jarosz_window(size_t n)
{
	return (int)((n + 2 * DCT_N - 1) / (2 * DCT_N));
}

static size_t round_up8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

hg_status hg_pdq_hasher_new(hg_pdq_hasher **out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	hg_pdq_hasher *h = calloc(1, sizeof *h);
	if (!h)
		return HG_ERR_NOMEM;
	/* D[u][k] = (float)((double)(float)sqrt(2/64) * cos(pi/128 * (u+1)(2k+1))),
	 * exactly the reference's table (pinned by tests/test_pdq_stages.c). */
	const float scale = (float)sqrt(2.0 / DCT_N);
	const double pi = 3.14159265358979323846;
	for (int u = 0; u < DCT_K; u++) {
		for (int k = 0; k < DCT_N; k++) {
			double c = cos((pi / 2.0 / DCT_N) * (u + 1) * (2 * k + 1));
			h->dct[u][k] = (float)(scale * c);
			h->dct_t[k][u] = h->dct[u][k];
		}
	}
	*out = h;
	return HG_OK;
}

void hg_pdq_hasher_free(hg_pdq_hasher *h)
{
	if (!h)
		return;
	free(h->buf_a);
	free(h->ring);
	free(h->narrow_a);
	free(h->narrow_b);
	free(h->stripe_in);
	free(h->stripe_out);
	free(h->sums);
	free(h->taps_x);
	free(h->taps_y);
	free(h->kern);
	free(h->keep);
	free(h);
}

/* Grows *p to hold n floats; keeps the old block on failure. */
static hg_status grow(float **p, size_t n)
{
	float *q = realloc(*p, n * sizeof(float));
	if (!q)
		return HG_ERR_NOMEM;
	*p = q;
	return HG_OK;
}

/* Scratch for a width x height luma; buf_a only when `plane` is asked for. */
static hg_status reserve(hg_pdq_hasher *h, size_t width, size_t height, int plane)
{
	size_t stride = round_up8(width);
	if (height != 0 && stride > SIZE_MAX / sizeof(float) / height)
		return HG_ERR_TOO_LARGE;
	size_t full = stride * height;
	size_t ring = stride * ((size_t)jarosz_window(height) + 2 * STRIPE_ROWS);
	size_t line = round_up8(width > height ? width : height) * STRIPE_ROWS;
	size_t narrow = height * DCT_N;
	if (plane && full > h->plane_cap) {
		if (grow(&h->buf_a, full))
			return HG_ERR_NOMEM;
		h->plane_cap = full;
	}
	if (ring > h->ring_cap) {
		if (grow(&h->ring, ring))
			return HG_ERR_NOMEM;
		h->ring_cap = ring;
	}
	if (line > h->line_cap) {
		if (grow(&h->stripe_in, line) || grow(&h->stripe_out, line) ||
		    grow(&h->sums, line))
			return HG_ERR_NOMEM;
		h->line_cap = line;
	}
	if (width > h->keep_cap) {
		unsigned char *k = realloc(h->keep, width);
		if (!k)
			return HG_ERR_NOMEM;
		h->keep = k;
		h->keep_cap = width;
	}
	if (narrow > h->narrow_cap) {
		if (grow(&h->narrow_a, narrow) || grow(&h->narrow_b, narrow))
			return HG_ERR_NOMEM;
		h->narrow_cap = narrow;
	}
	return HG_OK;
}

/*
 * The reference's box1DFloat, run down `ncols` independent columns at once
 * (ncols a multiple of 8). Row r of the input is in + r*stride. Each column
 * sees exactly the reference's sequence: h-1 adds; then w-h+1 adds with
 * writes; then add-right, subtract-left, write; then subtract-left, write.
 * Every write is sum / count as a float division.
 */
HG_TARGET_CLONES
static void box_down(const float *in, float *out, size_t n, size_t ncols,
		     size_t stride, int w, float *sums)
{
	const int half = (w + 2) / 2;
	const size_t p1 = (size_t)half - 1;
	const size_t p2 = (size_t)(w - half + 1);
	const size_t p3 = n - (size_t)w;
	const size_t p4 = (size_t)half - 1;
	size_t ri = 0, li = 0, oi = 0;
	int count = 0;

	memset(sums, 0, ncols * sizeof(float));
	for (size_t i = 0; i < p1; i++, ri++) {
		const float *src = in + ri * stride;
		for (size_t c = 0; c < ncols; c += 8) {
			hg_v8f s = hg_v8f_load(sums + c) + hg_v8f_load(src + c);
			hg_v8f_store(sums + c, s);
		}
		count++;
	}
	for (size_t i = 0; i < p2; i++, ri++, oi++) {
		const float *src = in + ri * stride;
		float *dst = out + oi * stride;
		count++;
		const hg_v8f div = hg_v8f_splat((float)count);
		for (size_t c = 0; c < ncols; c += 8) {
			hg_v8f s = hg_v8f_load(sums + c) + hg_v8f_load(src + c);
			hg_v8f_store(sums + c, s);
			hg_v8f_store(dst + c, s / div);
		}
	}
	const hg_v8f div = hg_v8f_splat((float)count);
	for (size_t i = 0; i < p3; i++, ri++, li++, oi++) {
		const float *add = in + ri * stride;
		const float *sub = in + li * stride;
		float *dst = out + oi * stride;
		for (size_t c = 0; c < ncols; c += 8) {
			hg_v8f s = hg_v8f_load(sums + c) + hg_v8f_load(add + c);
			s = s - hg_v8f_load(sub + c);
			hg_v8f_store(sums + c, s);
			hg_v8f_store(dst + c, s / div);
		}
	}
	for (size_t i = 0; i < p4; i++, li++, oi++) {
		const float *sub = in + li * stride;
		float *dst = out + oi * stride;
		count--;
		const hg_v8f d = hg_v8f_splat((float)count);
		for (size_t c = 0; c < ncols; c += 8) {
			hg_v8f s = hg_v8f_load(sums + c) - hg_v8f_load(sub + c);
			hg_v8f_store(sums + c, s);
			hg_v8f_store(dst + c, s / d);
		}
	}
}

/*
 * Where a horizontal pass reads its rows: a float plane (`plane`, rows
 * `plane_stride` floats apart, zero-padded to a multiple of 8), or 8-bit
 * pixels whose luma is computed row by row as the pass needs it, so the
 * full-size luma plane is never written nor read back.
 */
struct rows_src {
	const float *plane;
	size_t plane_stride;
	const uint8_t *pixels;
	size_t stride;
	int channels;
};

typedef unsigned char hg_v16b __attribute__((vector_size(16)));
typedef unsigned char hg_v16b_u __attribute__((vector_size(16), aligned(1), may_alias));
typedef int hg_v4i __attribute__((vector_size(16)));
typedef float hg_v4f __attribute__((vector_size(16)));
typedef float hg_v4f_u __attribute__((vector_size(16), aligned(4), may_alias));

/* Bytes o, o+S, o+2S, o+3S of the 16-byte vector v_, zero-extended to four
 * int32 lanes by one byte shuffle against zero_, then made floats. */
#define HG_BYTES4(v_, o, S)                                                              \
	__builtin_convertvector((hg_v4i)__builtin_shufflevector(                         \
					v_, zero_, o, 16, 16, 16, o + S, 16, 16, 16,     \
					o + 2 * S, 16, 16, 16, o + 3 * S, 16, 16, 16),   \
				hg_v4f)

/* 4 pixels of luma from the 16 bytes at p (channel c of pixel k at byte
 * S*k + c): the reference's (0.299f*R + 0.587f*G) + 0.114f*B per lane. */
#define HG_LUMA4(dst, p, S)                                                              \
	do {                                                                             \
		const hg_v16b zero_ = {0};                                               \
		hg_v16b v_ = *(const hg_v16b_u *)(const void *)(p);                      \
		*(hg_v4f_u *)(void *)(dst) = kr * HG_BYTES4(v_, 0, S) +                  \
					     kg * HG_BYTES4(v_, 1, S) +                  \
					     kb * HG_BYTES4(v_, 2, S);                   \
	} while (0)

/* Luma of n pixels into dst, then zeros up to round_up8(n). */
HG_TARGET_CLONES
static void luma_row(const uint8_t *src, float *dst, size_t n, int channels)
{
	size_t i = 0;
	const hg_v4f kr = {0.299f, 0.299f, 0.299f, 0.299f};
	const hg_v4f kg = {0.587f, 0.587f, 0.587f, 0.587f};
	const hg_v4f kb = {0.114f, 0.114f, 0.114f, 0.114f};
	if (channels == 1) {
		for (; i < n; i++) /* the compiler vectorises this one itself */
			dst[i] = (float)src[i];
	} else if (channels == 3) {
		for (; i + 6 <= n; i += 4) /* 3i + 16 <= 3n: 16 bytes stay in the row */
			HG_LUMA4(dst + i, src + 3 * i, 3);
	} else {
		for (; i + 4 <= n; i += 4)
			HG_LUMA4(dst + i, src + 4 * i, 4);
	}
	if (channels != 1) {
		const size_t step = (size_t)channels;
		for (; i < n; i++) {
			const uint8_t *p = src + i * step;
			dst[i] = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
		}
	}
	for (; i < round_up8(n); i++)
		dst[i] = 0.0f;
}

/* Row y of the source, at least round_up8(width) floats; `tmp` holds it
 * when it has to be computed. */
static const float *src_row(const struct rows_src *s, size_t y, size_t width, float *tmp)
{
	if (s->plane)
		return s->plane + y * s->plane_stride;
	luma_row(s->pixels + y * s->stride, tmp, width, s->channels);
	return tmp;
}

/* In-register 8x8 transpose of m[0..7] (rows become columns). */
#define HG_TRANSPOSE8(m)                                                                \
	do {                                                                            \
		hg_v8f t0_ = __builtin_shufflevector(m[0], m[1], 0, 8, 1, 9, 4, 12, 5, 13);  \
		hg_v8f t1_ = __builtin_shufflevector(m[0], m[1], 2, 10, 3, 11, 6, 14, 7, 15); \
		hg_v8f t2_ = __builtin_shufflevector(m[2], m[3], 0, 8, 1, 9, 4, 12, 5, 13);  \
		hg_v8f t3_ = __builtin_shufflevector(m[2], m[3], 2, 10, 3, 11, 6, 14, 7, 15); \
		hg_v8f t4_ = __builtin_shufflevector(m[4], m[5], 0, 8, 1, 9, 4, 12, 5, 13);  \
		hg_v8f t5_ = __builtin_shufflevector(m[4], m[5], 2, 10, 3, 11, 6, 14, 7, 15); \
		hg_v8f t6_ = __builtin_shufflevector(m[6], m[7], 0, 8, 1, 9, 4, 12, 5, 13);  \
		hg_v8f t7_ = __builtin_shufflevector(m[6], m[7], 2, 10, 3, 11, 6, 14, 7, 15); \
		hg_v8f u0_ = __builtin_shufflevector(t0_, t2_, 0, 1, 8, 9, 4, 5, 12, 13);    \
		hg_v8f u1_ = __builtin_shufflevector(t0_, t2_, 2, 3, 10, 11, 6, 7, 14, 15);  \
		hg_v8f u2_ = __builtin_shufflevector(t1_, t3_, 0, 1, 8, 9, 4, 5, 12, 13);    \
		hg_v8f u3_ = __builtin_shufflevector(t1_, t3_, 2, 3, 10, 11, 6, 7, 14, 15);  \
		hg_v8f u4_ = __builtin_shufflevector(t4_, t6_, 0, 1, 8, 9, 4, 5, 12, 13);    \
		hg_v8f u5_ = __builtin_shufflevector(t4_, t6_, 2, 3, 10, 11, 6, 7, 14, 15);  \
		hg_v8f u6_ = __builtin_shufflevector(t5_, t7_, 0, 1, 8, 9, 4, 5, 12, 13);    \
		hg_v8f u7_ = __builtin_shufflevector(t5_, t7_, 2, 3, 10, 11, 6, 7, 14, 15);  \
		m[0] = __builtin_shufflevector(u0_, u4_, 0, 1, 2, 3, 8, 9, 10, 11);          \
		m[4] = __builtin_shufflevector(u0_, u4_, 4, 5, 6, 7, 12, 13, 14, 15);        \
		m[1] = __builtin_shufflevector(u1_, u5_, 0, 1, 2, 3, 8, 9, 10, 11);          \
		m[5] = __builtin_shufflevector(u1_, u5_, 4, 5, 6, 7, 12, 13, 14, 15);        \
		m[2] = __builtin_shufflevector(u2_, u6_, 0, 1, 2, 3, 8, 9, 10, 11);          \
		m[6] = __builtin_shufflevector(u2_, u6_, 4, 5, 6, 7, 12, 13, 14, 15);        \
		m[3] = __builtin_shufflevector(u3_, u7_, 0, 1, 2, 3, 8, 9, 10, 11);          \
		m[7] = __builtin_shufflevector(u3_, u7_, 4, 5, 6, 7, 12, 13, 14, 15);        \
	} while (0)

/* rows[0..STRIPE_ROWS-1] (each round_up8(width) floats) into the stripe:
 * lane r of line i = rows[r][i]. */
HG_TARGET_CLONES
static void stripe_in(const float *const *rows, float *tin, size_t width)
{
	for (size_t rb = 0; rb < STRIPE_ROWS; rb += 8) {
		for (size_t i0 = 0; i0 < width; i0 += 8) {
			hg_v8f m[8];
			for (int k = 0; k < 8; k++)
				m[k] = hg_v8f_load(rows[rb + (size_t)k] + i0);
			HG_TRANSPOSE8(m);
			for (int k = 0; k < 8; k++)
				hg_v8f_store(tin + (i0 + (size_t)k) * STRIPE_ROWS + rb, m[k]);
		}
	}
}

/* The stripe back into rows: rows[r][i] = lane r of line i, for the `nr`
 * rows that exist, up to round_up8(width). */
HG_TARGET_CLONES
static void stripe_out(const float *tout, float *const *rows, size_t nr, size_t width)
{
	for (size_t rb = 0; rb < nr; rb += 8) {
		for (size_t i0 = 0; i0 < width; i0 += 8) {
			hg_v8f m[8];
			for (int k = 0; k < 8; k++)
				m[k] = hg_v8f_load(tout + (i0 + (size_t)k) * STRIPE_ROWS + rb);
			HG_TRANSPOSE8(m);
			for (size_t k = 0; k < 8 && rb + k < nr; k++)
				hg_v8f_store(rows[rb + k] + i0, m[k]);
		}
	}
}

/*
 * box_down for one stripe (STRIPE_ROWS = 16 lanes per line, lines
 * contiguous), with the running sums held in registers. When `keep` is not
 * NULL only the outputs o with keep[o] set are divided and stored: the
 * second horizontal pass needs 64 of them per row.
 */
HG_TARGET_CLONES
static void box_stripe(const float *in, float *out, size_t n, int w, const unsigned char *keep)
{
	const int half = (w + 2) / 2;
	const size_t p1 = (size_t)half - 1;
	const size_t p2 = (size_t)(w - half + 1);
	const size_t p3 = n - (size_t)w;
	const size_t p4 = (size_t)half - 1;
	const float *add = in, *sub = in;
	float *dst = out;
	int count = 0;
	hg_v8f s0 = hg_v8f_splat(0.0f), s1 = s0;

	for (size_t i = 0; i < p1; i++, add += STRIPE_ROWS) {
		s0 = s0 + hg_v8f_load(add);
		s1 = s1 + hg_v8f_load(add + 8);
		count++;
	}
	for (size_t i = 0; i < p2; i++, add += STRIPE_ROWS, dst += STRIPE_ROWS) {
		s0 = s0 + hg_v8f_load(add);
		s1 = s1 + hg_v8f_load(add + 8);
		count++;
		if (!keep || keep[(size_t)(dst - out) / STRIPE_ROWS]) {
			const hg_v8f d = hg_v8f_splat((float)count);
			hg_v8f_store(dst, s0 / d);
			hg_v8f_store(dst + 8, s1 / d);
		}
	}
	const hg_v8f d = hg_v8f_splat((float)count);
	if (keep) {
		size_t o = p2;
		for (size_t i = 0; i < p3; i++, add += STRIPE_ROWS, sub += STRIPE_ROWS, o++) {
			s0 = (s0 + hg_v8f_load(add)) - hg_v8f_load(sub);
			s1 = (s1 + hg_v8f_load(add + 8)) - hg_v8f_load(sub + 8);
			if (keep[o]) {
				hg_v8f_store(out + o * STRIPE_ROWS, s0 / d);
				hg_v8f_store(out + o * STRIPE_ROWS + 8, s1 / d);
			}
		}
		dst = out + o * STRIPE_ROWS;
	} else {
		for (size_t i = 0; i < p3; i++, add += STRIPE_ROWS, sub += STRIPE_ROWS,
			    dst += STRIPE_ROWS) {
			s0 = (s0 + hg_v8f_load(add)) - hg_v8f_load(sub);
			s1 = (s1 + hg_v8f_load(add + 8)) - hg_v8f_load(sub + 8);
			hg_v8f_store(dst, s0 / d);
			hg_v8f_store(dst + 8, s1 / d);
		}
	}
	for (size_t i = 0; i < p4; i++, sub += STRIPE_ROWS, dst += STRIPE_ROWS) {
		count--;
		s0 = s0 - hg_v8f_load(sub);
		s1 = s1 - hg_v8f_load(sub + 8);
		if (!keep || keep[(size_t)(dst - out) / STRIPE_ROWS]) {
			const hg_v8f dd = hg_v8f_splat((float)count);
			hg_v8f_store(dst, s0 / dd);
			hg_v8f_store(dst + 8, s1 / dd);
		}
	}
}

/*
 * One stripe of a horizontal pass: rows[0..STRIPE_ROWS-1] (nr of them real,
 * the rest repeats) are transposed, filtered along the row, and transposed
 * back. With `cols` NULL row r's output goes to out[r] (round_up8(width)
 * floats, padding zeroed); otherwise only the DCT_N columns in `cols`
 * (flagged in `keep`) are computed, packed into narrow + r * DCT_N.
 */
static void h_stripe(hg_pdq_hasher *h, const float *const *rows, size_t nr, size_t width,
		     int w, float *const *out, const size_t *cols, const unsigned char *keep,
		     float *narrow)
{
	float *tin = h->stripe_in, *tout = h->stripe_out;
	stripe_in(rows, tin, width);
	box_stripe(tin, tout, width, w, keep);
	if (cols) {
		for (size_t r = 0; r < nr; r++)
			for (size_t j = 0; j < DCT_N; j++)
				narrow[r * DCT_N + j] = tout[cols[j] * STRIPE_ROWS + r];
		return;
	}
	/* lines past the width are padding: zeros, not stale data */
	memset(tout + width * STRIPE_ROWS, 0,
	       (round_up8(width) - width) * STRIPE_ROWS * sizeof(float));
	stripe_out(tout, out, nr, width);
}

/*
 * One step of box_down's sequence on a whole row of `n` lanes (n a multiple
 * of 8): sums += add (add != NULL), then sums -= sub (sub != NULL), then,
 * when dst != NULL, dst = sums / count. The same operations in the same
 * order as box_down, so the results are identical.
 */
HG_TARGET_CLONES
static void v_step(float *sums, const float *add, const float *sub, float *dst, size_t n,
		   int count)
{
	const hg_v8f d = hg_v8f_splat((float)count);
	if (add && sub) {
		for (size_t c = 0; c < n; c += 8) {
			hg_v8f s = (hg_v8f_load(sums + c) + hg_v8f_load(add + c)) -
				   hg_v8f_load(sub + c);
			hg_v8f_store(sums + c, s);
			hg_v8f_store(dst + c, s / d);
		}
	} else if (add) {
		for (size_t c = 0; c < n; c += 8) {
			hg_v8f s = hg_v8f_load(sums + c) + hg_v8f_load(add + c);
			hg_v8f_store(sums + c, s);
			if (dst)
				hg_v8f_store(dst + c, s / d);
		}
	} else {
		for (size_t c = 0; c < n; c += 8) {
			hg_v8f s = hg_v8f_load(sums + c) - hg_v8f_load(sub + c);
			hg_v8f_store(sums + c, s);
			hg_v8f_store(dst + c, s / d);
		}
	}
}

/*
 * The first vertical pass, fed as the first horizontal pass produces rows
 * (box_down's sequence, one row step at a time): H1's rows wait in a ring of
 * `ring_rows`, V1's rows gather in a STRIPE_ROWS buffer, and each full stripe
 * of V1 goes straight through the second horizontal pass. Nothing of full
 * image size is ever written.
 */
struct vpass {
	size_t n, stride, ring_rows;
	size_t ri, li, oi;      /* next row to add, to subtract, to output */
	int w, half, count;
	float *ring, *vout;
};

/* Runs the second horizontal pass on V1's rows first .. oi-1 (one stripe). */
static void v_flush(hg_pdq_hasher *h, struct vpass *v, size_t width, int wh,
		    const size_t *cols)
{
	const size_t first = (v->oi - 1) / STRIPE_ROWS * STRIPE_ROWS;
	const size_t nr = v->oi - first;
	const float *rows[STRIPE_ROWS];
	for (size_t r = 0; r < STRIPE_ROWS; r++)
		rows[r] = v->vout + (r < nr ? r : 0) * v->stride;
	h_stripe(h, rows, nr, width, wh, NULL, cols, h->keep, h->narrow_a + first * DCT_N);
}

/* Advances V1 until every H1 row below `avail` has been added (and, once
 * all are in, to the end). */
static void v_advance(hg_pdq_hasher *h, struct vpass *v, size_t avail, size_t width, int wh,
		      const size_t *cols)
{
	const size_t p1 = (size_t)v->half - 1;
	for (;;) {
		const float *add = NULL, *sub = NULL;
		if (v->ri < avail) {
			add = v->ring + (v->ri % v->ring_rows) * v->stride;
			if (v->ri >= (size_t)v->w)
				sub = v->ring + (v->li % v->ring_rows) * v->stride;
			else
				v->count++;
		} else if (v->ri == v->n && v->oi < v->n) {
			sub = v->ring + (v->li % v->ring_rows) * v->stride;
			v->count--;
		} else {
			return;
		}
		float *dst = NULL;
		if (!add || v->ri >= p1)
			dst = v->vout + (v->oi % STRIPE_ROWS) * v->stride;
		v_step(h->sums, add, sub, dst, v->stride, v->count);
		if (add)
			v->ri++;
		if (sub)
			v->li++;
		if (dst && (++v->oi % STRIPE_ROWS == 0 || v->oi == v->n))
			v_flush(h, v, width, wh, cols);
	}
}

/* Sample positions of the 64-point decimation: floor((i + 0.5) * n / 64),
 * computed in double as the reference does. */
static void decimation_grid(size_t n, size_t idx[DCT_N])
{
	for (int i = 0; i < DCT_N; i++)
		idx[i] = (size_t)(((i + 0.5) * (double)n) / DCT_N);
}

/* Blurs the luma rows of `src` (height x width) and decimates them into
 * out64. */
static void blur_and_decimate(hg_pdq_hasher *h, const struct rows_src *src, size_t width,
			      size_t height, float out64[DCT_N][DCT_N])
{
	const size_t stride = round_up8(width);
	size_t rows[DCT_N], cols[DCT_N];
	if (width == DCT_N && height == DCT_N) {
		/* the reference skips the blur for exactly 64x64 */
		for (size_t i = 0; i < DCT_N; i++)
			memcpy(out64[i], src_row(src, i, width, h->stripe_out),
			       DCT_N * sizeof(float));
		return;
	}
	const int wh = jarosz_window(width), wv = jarosz_window(height);
	decimation_grid(height, rows);
	decimation_grid(width, cols);
	memset(h->keep, 0, width);
	for (size_t j = 0; j < DCT_N; j++)
		h->keep[cols[j]] = 1;

	/* H1 a stripe at a time, V1 and H2 following it (struct vpass), then V2
	 * on the 64 sampled columns */
	struct vpass v = {.n = height, .stride = stride, .ring_rows = (size_t)wv + STRIPE_ROWS,
			  .w = wv, .half = (wv + 2) / 2, .ring = h->ring};
	v.vout = h->ring + v.ring_rows * stride;
	memset(h->sums, 0, stride * sizeof(float));
	for (size_t r0 = 0; r0 < height; r0 += STRIPE_ROWS) {
		const size_t nr = height - r0 < STRIPE_ROWS ? height - r0 : STRIPE_ROWS;
		const float *in[STRIPE_ROWS];
		float *out[STRIPE_ROWS];
		/* computed luma rows live in stripe_out until the filter
		 * overwrites it; a short last stripe repeats its first row */
		for (size_t r = 0; r < nr; r++) {
			in[r] = src_row(src, r0 + r, width, h->stripe_out + r * stride);
			out[r] = v.ring + ((r0 + r) % v.ring_rows) * stride;
		}
		for (size_t r = nr; r < STRIPE_ROWS; r++)
			in[r] = in[0];
		h_stripe(h, in, nr, width, wh, out, NULL, NULL, NULL);
		v_advance(h, &v, r0 + nr, width, wh, cols);
	}
	box_down(h->narrow_a, h->narrow_b, height, DCT_N, DCT_N, wv, h->sums);
	for (size_t i = 0; i < DCT_N; i++)
		memcpy(out64[i], h->narrow_b + rows[i] * DCT_N, DCT_N * sizeof(float));
}

static int quality_of(float a[DCT_N][DCT_N])
{
	int sum = 0;
	for (int i = 0; i < DCT_N - 1; i++) {
		for (int j = 0; j < DCT_N; j++) {
			int d = (int)(((a[i][j] - a[i + 1][j]) * 100) / 255);
			sum += abs(d);
		}
	}
	for (int i = 0; i < DCT_N; i++) {
		for (int j = 0; j < DCT_N - 1; j++) {
			int d = (int)(((a[i][j] - a[i][j + 1]) * 100) / 255);
			sum += abs(d);
		}
	}
	int q = sum / 90;
	return q > 100 ? 100 : q;
}

/* B = D A D^T, low 16x16; each sum in float, ascending k, as the reference. */
static void dct_16(const hg_pdq_hasher *h, float a[DCT_N][DCT_N], float b[DCT_K][DCT_K])
{
	float t[DCT_K][DCT_N];
	for (int u = 0; u < DCT_K; u++) {
		float acc[DCT_N] = {0};
		for (int k = 0; k < DCT_N; k++) {
			const float d = h->dct[u][k];
			for (int j = 0; j < DCT_N; j++)
				acc[j] += d * a[k][j];
		}
		memcpy(t[u], acc, sizeof acc);
	}
	for (int u = 0; u < DCT_K; u++) {
		float acc[DCT_K] = {0};
		for (int k = 0; k < DCT_N; k++) {
			const float tk = t[u][k];
			for (int v = 0; v < DCT_K; v++)
				acc[v] += tk * h->dct_t[k][v];
		}
		memcpy(b[u], acc, sizeof acc);
	}
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* The lower median, sorted(v)[127]: what the reference's Torben method
 * returns. A sort of 256 floats is cheap next to the blur and obviously right. */
static float lower_median(const float v[DCT_K * DCT_K])
{
	float a[DCT_K * DCT_K];
	memcpy(a, v, sizeof a);
	qsort(a, DCT_K * DCT_K, sizeof(float), cmp_float);
	return a[DCT_K * DCT_K / 2 - 1];
}

static void to_bits(float b[DCT_K][DCT_K], hg_pdq *out)
{
	const float median = lower_median(&b[0][0]);
	memset(out, 0, sizeof *out);
	for (int k = 0; k < DCT_K * DCT_K; k++) {
		if ((&b[0][0])[k] > median)
			out->w[k >> 6] |= (uint64_t)1 << (k & 63);
	}
}

/*
 * The 7 non-trivial dihedral variants, from the DCT alone (the reference's
 * dct16OriginalTo*). `xpose` swaps the indices; the sign is -1 where the
 * variant's parity rule says so.
 */
static void dihedral_variant(float a[DCT_K][DCT_K], int which, float out[DCT_K][DCT_K])
{
	static const struct {
		unsigned char xpose, neg_even_j, neg_even_i, neg_odd_sum;
	} rule[HG_DIH_COUNT] = {
		[HG_DIH_ORIG] = {0, 0, 0, 0},
		[HG_DIH_ROT90] = {1, 1, 0, 0},
		[HG_DIH_ROT180] = {0, 0, 0, 1},
		[HG_DIH_ROT270] = {1, 0, 1, 0},
		[HG_DIH_FLIPX] = {0, 0, 1, 0},
		[HG_DIH_FLIPY] = {0, 1, 0, 0},
		[HG_DIH_FLIPPLUS1] = {1, 0, 0, 0},
		[HG_DIH_FLIPMINUS1] = {1, 0, 0, 1},
	};
	for (int i = 0; i < DCT_K; i++) {
		for (int j = 0; j < DCT_K; j++) {
			int neg = (rule[which].neg_even_j && !(j & 1)) ||
				  (rule[which].neg_even_i && !(i & 1)) ||
				  (rule[which].neg_odd_sum && ((i + j) & 1));
			float v = neg ? -a[i][j] : a[i][j];
			if (rule[which].xpose)
				out[j][i] = v;
			else
				out[i][j] = v;
		}
	}
}

/* Quality, DCT, bits and (with HG_PDQ_DIHEDRAL) the variants of a 64x64. */
static void finish_64(const hg_pdq_hasher *h, float a[DCT_N][DCT_N], unsigned flags,
		      hg_pdq_result *res)
{
	float b[DCT_K][DCT_K];
	res->quality = quality_of(a);
	dct_16(h, a, b);
	to_bits(b, &res->hash[0]);
	if (flags & HG_PDQ_DIHEDRAL) {
		for (int d = 1; d < HG_DIH_COUNT; d++) {
			float v[DCT_K][DCT_K];
			dihedral_variant(b, d, v);
			to_bits(v, &res->hash[d]);
		}
	}
}

/* Hashes the luma rows of `src`. */
static void finish(hg_pdq_hasher *h, const struct rows_src *src, size_t width, size_t height,
		   unsigned flags, hg_pdq_result *res)
{
	float a[DCT_N][DCT_N];
	blur_and_decimate(h, src, width, height, a);
	finish_64(h, a, flags, res);
}

/* Checks the arguments, makes room, and says where the luma rows come
 * from: straight from `pixels`, or from buf_a after the CLI pre-resize. */
static hg_status load_pixels(hg_pdq_hasher *h, const uint8_t *pixels, size_t width,
			     size_t height, size_t stride, int channels, unsigned flags,
			     size_t *out_w, size_t *out_h, struct rows_src *src)
{
	if (!h || !pixels || (channels != 1 && channels != 3 && channels != 4) ||
	    (flags & ~(unsigned)(HG_PDQ_DIHEDRAL | HG_PDQ_COMPAT_CLI)) ||
	    stride < width * (size_t)channels)
		return HG_ERR_INVALID_ARG;
	if (width < MIN_SIDE || height < MIN_SIDE)
		return HG_ERR_TOO_SMALL;

	size_t w = width, hgt = height;
	const int resize = (flags & HG_PDQ_COMPAT_CLI) &&
			   (width > CLI_RESIZE || height > CLI_RESIZE);
	if (resize)
		w = hgt = CLI_RESIZE;
	hg_status st = reserve(h, w, hgt, resize);
	if (st)
		return st;

	*src = (struct rows_src){.pixels = pixels, .stride = stride, .channels = channels};
	if (resize) {
		/* CImg nearest neighbour: source index floor(x * W / 512) */
		const size_t ch = (size_t)channels;
		uint8_t picked[CLI_RESIZE * 4];
		size_t xs[CLI_RESIZE];
		for (size_t x = 0; x < CLI_RESIZE; x++)
			xs[x] = x * width / CLI_RESIZE;
		for (size_t y = 0; y < CLI_RESIZE; y++) {
			const uint8_t *row = pixels + (y * height / CLI_RESIZE) * stride;
			for (size_t x = 0; x < CLI_RESIZE; x++)
				memcpy(picked + x * ch, row + xs[x] * ch, ch);
			luma_row(picked, h->buf_a + y * CLI_RESIZE, CLI_RESIZE, channels);
		}
		*src = (struct rows_src){.plane = h->buf_a, .plane_stride = CLI_RESIZE};
	}
	*out_w = w;
	*out_h = hgt;
	return HG_OK;
}

hg_status hg_pdq_hash_pixels(hg_pdq_hasher *h, const uint8_t *pixels, size_t width,
			     size_t height, size_t stride, int channels, unsigned flags,
			     hg_pdq_result *res)
{
	size_t w, hgt;
	if (!res)
		return HG_ERR_INVALID_ARG;
	memset(res, 0, sizeof *res);
	struct rows_src src;
	hg_status st =
		load_pixels(h, pixels, width, height, stride, channels, flags, &w, &hgt, &src);
	if (st)
		return st;
	finish(h, &src, w, hgt, flags, res);
	return HG_OK;
}

hg_status hg__pdq_pixels_to_64(hg_pdq_hasher *h, const uint8_t *pixels, size_t width,
			       size_t height, size_t stride, int channels, unsigned flags,
			       float out64[64][64])
{
	size_t w, hgt;
	struct rows_src src;
	hg_status st =
		load_pixels(h, pixels, width, height, stride, channels, flags, &w, &hgt, &src);
	if (st)
		return st;
	blur_and_decimate(h, &src, w, hgt, out64);
	return HG_OK;
}

void hg__pdq_from_64(const hg_pdq_hasher *h, float a[64][64], float b[16][16],
		     float *median, hg_pdq *hash, int *quality)
{
	*quality = quality_of(a);
	dct_16(h, a, b);
	*median = lower_median(&b[0][0]);
	to_bits(b, hash);
}

const float *hg__pdq_dct_matrix(const hg_pdq_hasher *h)
{
	return &h->dct[0][0];
}

hg_status hg_pdq_hash_luma(hg_pdq_hasher *h, const float *luma, size_t width,
			   size_t height, unsigned flags, hg_pdq_result *res)
{
	if (res)
		memset(res, 0, sizeof *res);
	if (!h || !luma || !res || (flags & ~(unsigned)HG_PDQ_DIHEDRAL))
		return HG_ERR_INVALID_ARG;
	if (width < MIN_SIDE || height < MIN_SIDE)
		return HG_ERR_TOO_SMALL;
	hg_status st = reserve(h, width, height, 1);
	if (st)
		return st;
	const size_t fstride = round_up8(width);
	for (size_t y = 0; y < height; y++) {
		float *dst = h->buf_a + y * fstride;
		memcpy(dst, luma + y * width, width * sizeof(float));
		memset(dst + width, 0, (fstride - width) * sizeof(float));
	}
	const struct rows_src src = {.plane = h->buf_a, .plane_stride = fstride};
	finish(h, &src, width, height, flags, res);
	return HG_OK;
}

/*
 * Fast mode's stand-in for blur + decimation, for a copy of the image reduced
 * by num/denom (a JPEG decoded by its DCT at M/8: reduced pixel k covers full
 * pixels [k*denom/num, (k+1)*denom/num)). Along each axis the reference's
 * sample p is sum_x K_p(x) X(x), K_p being its two cut-off boxes composed;
 * X is not known, but its reduced copy is, so X is rebuilt from it by linear
 * interpolation between reduced pixel centres (replicated at the borders)
 * and K_p is folded onto the reduced pixels. Output i then is
 * sum_k w[i][k] R[first[i] + k] with k < count[i].
 */
struct taps {
	size_t first[DCT_N];
	size_t count[DCT_N];
	size_t stride;
	float *w;
};

static hg_status reduced_taps(hg_pdq_hasher *h, size_t n, size_t full, unsigned num,
			      unsigned denom, float **scratch, size_t *cap, struct taps *t)
{
	const long W = jarosz_window(full), half = (W + 2) / 2;
	const long back = W - half, fwd = half - 1; /* box window [i-back, i+fwd] */
	const long last = (long)full - 1;
	const double scale = (double)num / (double)denom;
	/* K_p spans [p - 2 back, p + 2 fwd]; that folds onto this many reduced pixels */
	t->stride = (size_t)((double)(2 * W) * scale) + 4;
	if (t->stride * DCT_N > *cap) {
		if (grow(scratch, t->stride * DCT_N))
			return HG_ERR_NOMEM;
		*cap = t->stride * DCT_N;
	}
	const size_t kn = (size_t)(4 * W + 4);
	if (kn > h->kern_cap) {
		if (grow(&h->kern, kn))
			return HG_ERR_NOMEM;
		h->kern_cap = kn;
	}
	float *kern = h->kern; /* K_p over x = x0 .. x1, as a difference array first */
	t->w = *scratch;
	size_t pos[DCT_N];
	decimation_grid(full, pos);
	for (int i = 0; i < DCT_N; i++) {
		const long p = (long)pos[i];
		const long x0 = p - 2 * back < 0 ? 0 : p - 2 * back;
		const long x1 = p + 2 * fwd > last ? last : p + 2 * fwd;
		memset(kern, 0, (size_t)(x1 - x0 + 2) * sizeof(float));
		const long m0 = p - back < 0 ? 0 : p - back, m1 = p + fwd > last ? last : p + fwd;
		for (long m = m0; m <= m1; m++) {
			const long a0 = m - back < 0 ? 0 : m - back;
			const long a1 = m + fwd > last ? last : m + fwd;
			const float v = 1.0f / (float)(m1 - m0 + 1) / (float)(a1 - a0 + 1);
			kern[a0 - x0] += v;
			kern[a1 + 1 - x0] -= v;
		}
		const double u0 = ((double)x0 + 0.5) * scale - 0.5, u1 = ((double)x1 + 0.5) * scale - 0.5;
		long k0 = (long)floor(u0), k1 = (long)floor(u1) + 1;
		if (k0 < 0)
			k0 = 0;
		if (k1 > (long)n - 1)
			k1 = (long)n - 1;
		float *w = t->w + (size_t)i * t->stride;
		memset(w, 0, t->stride * sizeof(float));
		float run = 0;
		for (long x = x0; x <= x1; x++) {
			run += kern[x - x0];
			double u = ((double)x + 0.5) * scale - 0.5;
			long k = (long)floor(u);
			double f = u - (double)k;
			long ka = k < k0 ? k0 : (k > k1 ? k1 : k);
			long kb = k + 1 < k0 ? k0 : (k + 1 > k1 ? k1 : k + 1);
			w[ka - k0] += (float)(run * (1.0 - f));
			w[kb - k0] += (float)(run * f);
		}
		t->first[i] = (size_t)k0;
		t->count[i] = (size_t)(k1 - k0 + 1);
	}
	return HG_OK;
}

/* The 64x64 of the reduced luma rows of `src` (width x height): rows
 * filtered first into narrow_a (height x 64), then columns. */
static hg_status reduced_to_64(hg_pdq_hasher *h, const struct rows_src *src, size_t width,
			       size_t height, const hg_pdq_reduction *red,
			       float out64[DCT_N][DCT_N])
{
	struct taps tx, ty;
	if (reduced_taps(h, width, red->full_width, red->num, red->denom, &h->taps_x,
			 &h->taps_x_cap, &tx) ||
	    reduced_taps(h, height, red->full_height, red->num, red->denom, &h->taps_y,
			 &h->taps_y_cap, &ty))
		return HG_ERR_NOMEM;
	for (size_t y = 0; y < height; y++) {
		const float *row = src_row(src, y, width, h->stripe_out);
		float *dst = h->narrow_a + y * DCT_N;
		for (int j = 0; j < DCT_N; j++) {
			const float *w = tx.w + (size_t)j * tx.stride;
			const float *px = row + tx.first[j];
			float acc = 0;
			for (size_t k = 0; k < tx.count[j]; k++)
				acc += w[k] * px[k];
			dst[j] = acc;
		}
	}
	for (int i = 0; i < DCT_N; i++) {
		const float *w = ty.w + (size_t)i * ty.stride;
		for (int j = 0; j < DCT_N; j++)
			out64[i][j] = 0;
		for (size_t k = 0; k < ty.count[i]; k++) {
			const float *nr = h->narrow_a + (ty.first[i] + k) * DCT_N;
			for (int j = 0; j < DCT_N; j++)
				out64[i][j] += w[k] * nr[j];
		}
	}
	return HG_OK;
}

/* The reduced side libjpeg-turbo's scaling gives: ceil(full * num / denom). */
static size_t reduced_side(size_t full, unsigned num, unsigned denom)
{
	return (size_t)(((uint64_t)full * num + denom - 1) / denom);
}

hg_status hg_pdq_hash_reduced(hg_pdq_hasher *h, const uint8_t *pixels, size_t width,
			      size_t height, size_t stride, int channels,
			      const hg_pdq_reduction *red, unsigned flags, hg_pdq_result *res)
{
	size_t w, hgt;
	if (!res)
		return HG_ERR_INVALID_ARG;
	memset(res, 0, sizeof *res);
	if (!red || (flags & HG_PDQ_COMPAT_CLI) || red->num == 0 || red->num > red->denom ||
	    red->full_width > ((uint64_t)1 << 32) || red->full_height > ((uint64_t)1 << 32) ||
	    reduced_side(red->full_width, red->num, red->denom) != width ||
	    reduced_side(red->full_height, red->num, red->denom) != height)
		return HG_ERR_INVALID_ARG;
	if (red->num == red->denom)
		return hg_pdq_hash_pixels(h, pixels, width, height, stride, channels, flags, res);
	struct rows_src src;
	hg_status st =
		load_pixels(h, pixels, width, height, stride, channels, flags, &w, &hgt, &src);
	if (st)
		return st;
	float a[DCT_N][DCT_N];
	st = reduced_to_64(h, &src, w, hgt, red, a);
	if (st)
		return st;
	finish_64(h, a, flags, res);
	return HG_OK;
}

int hg_pdq_distance(const hg_pdq *a, const hg_pdq *b)
{
	return __builtin_popcountll(a->w[0] ^ b->w[0]) + __builtin_popcountll(a->w[1] ^ b->w[1]) +
	       __builtin_popcountll(a->w[2] ^ b->w[2]) + __builtin_popcountll(a->w[3] ^ b->w[3]);
}

void hg_pdq_to_hex(const hg_pdq *hash, char out[HG_PDQ_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < HG_PDQ_HEX_LEN; i++) {
		int nib = HG_PDQ_HEX_LEN - 1 - i; /* nibble index, 63 = top */
		out[i] = digits[(hash->w[nib >> 4] >> ((nib & 15) * 4)) & 15];
	}
	out[HG_PDQ_HEX_LEN] = '\0';
}

/* Hex digit values, -1 for anything else: a table, because list loading
 * parses millions of hashes (branchy per-character tests were a quarter of
 * `hashgate match`'s time on a 1M-line list). */
static const signed char hex_digit[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7,
	['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14,
	['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
	['F'] = 16,
};

static inline int hex_value(char c)
{
	return hex_digit[(unsigned char)c] - 1; /* entries are value + 1; 0 = not hex */
}

hg_status hg_pdq_from_hex(const char *text, size_t len, hg_pdq *out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	memset(out, 0, sizeof *out);
	if (!text || len != HG_PDQ_HEX_LEN)
		return HG_ERR_PARSE;
	hg_pdq tmp = {{0}};
	for (int i = 0; i < HG_PDQ_HEX_LEN; i++) {
		int v = hex_value(text[i]);
		if (v < 0)
			return HG_ERR_PARSE;
		int nib = HG_PDQ_HEX_LEN - 1 - i;
		tmp.w[nib >> 4] |= (uint64_t)v << ((nib & 15) * 4);
	}
	*out = tmp;
	return HG_OK;
}

const char *hg_dihedral_name(int d)
{
	static const char *const names[HG_DIH_COUNT] = {
		"orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1",
	};
	return d >= 0 && d < HG_DIH_COUNT ? names[d] : "?";
}
