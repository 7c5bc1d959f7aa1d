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

typedef float hg_v8f __attribute__((vector_size(32)));

/* Unaligned, alias-safe view of 8 floats. Loads, stores and splats are
 * macros, not inline functions: passing a 32-byte vector by value to a
 * function compiled without AVX changes the ABI, which clang rejects. */
typedef float hg_v8f_u __attribute__((vector_size(32), aligned(4), may_alias));

#define hg_v8f_load(p) (*(const hg_v8f_u *)(const void *)(p))
#define hg_v8f_store(p, v) ((void)(*(hg_v8f_u *)(void *)(p) = (v)))
#define hg_v8f_splat(x) ((hg_v8f){(x), (x), (x), (x), (x), (x), (x), (x)})

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
