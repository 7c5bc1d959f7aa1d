/*
 * fuzz_tiff.c — libFuzzer target for the TIFF decoder (src/media/), seeded
 * from fuzz/corpus/tiff/ (scripts/make-fuzz-seeds.sh).
 */
#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return hg_fuzz_decode(data, size, HG_FORMAT_TIFF, HG_FORMAT_TIFF);
}
