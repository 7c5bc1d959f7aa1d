/*
 * fuzz_heif.c — libFuzzer target for the HEIF and AVIF decoder (src/media/), seeded
 * from fuzz/corpus/heif/ (scripts/make-fuzz-seeds.sh).
 */
#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return hg_fuzz_decode(data, size, HG_FORMAT_HEIF, HG_FORMAT_AVIF);
}
