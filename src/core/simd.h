/*
 * simd.h — the small portable vector vocabulary the core uses.
 *
 * GCC/Clang vector extensions, not intrinsics: the same source compiles to
 * SSE2 on the x86-64 baseline and to AVX2 in the clones HG_TARGET_CLONES asks
 * for, and the operators are plain IEEE float ops, so a lane computes exactly
 * what the scalar reference computes (no FMA: the tree builds with
 * -ffp-contract=off).
 */
#ifndef HG_CORE_SIMD_H
#define HG_CORE_SIMD_H

#include <string.h>

typedef float hg_v8f __attribute__((vector_size(32)));

static inline hg_v8f hg_v8f_load(const float *p)
{
	hg_v8f v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline void hg_v8f_store(float *p, hg_v8f v)
{
	memcpy(p, &v, sizeof v);
}

static inline hg_v8f hg_v8f_splat(float x)
{
	hg_v8f v = {x, x, x, x, x, x, x, x};
	return v;
}

/* Run-time dispatch between an AVX2 build of a hot function and the baseline
 * one (glibc ifunc). Sanitizer builds keep one version so reports stay simple. */
#if defined(__x86_64__) && defined(__has_attribute) && !defined(HG_NO_CLONES)
#if __has_attribute(target_clones)
#define HG_TARGET_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef HG_TARGET_CLONES
#define HG_TARGET_CLONES
#endif

#endif
