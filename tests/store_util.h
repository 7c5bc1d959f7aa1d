/*
 * store_util.h — helpers the store tests and bench/bench_store.c share:
 * deterministic fake PDQ values (hash lists of any size without images) and
 * a bulk import of them.
 */
#ifndef HG_TEST_STORE_UTIL_H
#define HG_TEST_STORE_UTIL_H

#include <stdint.h>
#include <stdio.h>

#include "hashgate/store.h"

/* splitmix64: a well-mixed 64-bit value from a counter. */
static inline uint64_t hgt_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The i-th fake PDQ value of series `seed`, as 64 hex digits. */
static inline void hgt_fake_pdq(uint64_t seed, uint64_t i, char out[65])
{
	for (int w = 0; w < 4; w++)
		snprintf(out + 16 * w, 17, "%016llx",
			 (unsigned long long)hgt_mix(seed * 0x100000001b3ull + i * 4 + (uint64_t)w));
}

/* Imports n fake PDQ entries (series seed, indices first..first+n-1) into
 * a bank in one transaction. `progress` (may be NULL) is called every
 * `every` entries with the count so far, and once more just before commit
 * with n. */
static inline hg_status hgt_import_fake(hg_store *st, const char *bank, uint64_t seed,
					uint64_t first, uint64_t n, hg_change_result *r,
					void (*progress)(void *, uint64_t), void *ctx,
					uint64_t every)
{
	hg_import *imp;
	hg_status s = hg_import_begin(st, NULL, bank, "test", "fake", &imp);
	if (s)
		return s;
	char v[65], ext[32];
	for (uint64_t i = 0; i < n; i++) {
		hgt_fake_pdq(seed, first + i, v);
		snprintf(ext, sizeof ext, "e%llu", (unsigned long long)(first + i));
		hg_entry_input e = {HG_SIGNAL_PDQ, v, 64, ext, NULL};
		if ((s = hg_import_add(imp, &e))) {
			hg_import_abort(imp);
			return s;
		}
		if (progress && every && (i + 1) % every == 0)
			progress(ctx, i + 1);
	}
	if (progress)
		progress(ctx, n);
	return hg_import_commit(imp, r);
}

#endif
