/*
 * fuzz_jpeg.c — libFuzzer target for the JPEG decoder (src/media/), seeded
 * from fuzz/corpus/jpeg/ (scripts/make-fuzz-seeds.sh).
 */
#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return hg_fuzz_decode(data, size, HG_FORMAT_JPEG, HG_FORMAT_JPEG);
}
