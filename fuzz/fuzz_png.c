/*
 * fuzz_png.c — libFuzzer target for the PNG decoder (src/media/), seeded
 * from fuzz/corpus/png/ (scripts/make-fuzz-seeds.sh).
 */
#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return hg_fuzz_decode(data, size, HG_FORMAT_PNG, HG_FORMAT_PNG);
}
