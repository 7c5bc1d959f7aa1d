/*
 * pdq_internal.h — PDQ's intermediate stages, exposed to the conformance
 * tests (tests/test_pdq_stages.c) so each step can be pinned against the
 * reference's dumps. Not part of the public API.
 */
#ifndef HG_CORE_PDQ_INTERNAL_H
#define HG_CORE_PDQ_INTERNAL_H

#include "hashgate/pdq.h"

/* Luma, blur and decimation: the 64x64 buffer the reference dumps. */
hg_status hg__pdq_pixels_to_64(hg_pdq_hasher *h, const uint8_t *pixels, size_t width,
			       size_t height, size_t stride, int channels, unsigned flags,
			       float out64[64][64]);

/* Quality, 16x16 DCT, median and bits from a 64x64 buffer. */
void hg__pdq_from_64(const hg_pdq_hasher *h, float a[64][64], float b[16][16],
		     float *median, hg_pdq *hash, int *quality);

/* The 16x64 DCT matrix, row-major. */
const float *hg__pdq_dct_matrix(const hg_pdq_hasher *h);

#endif
