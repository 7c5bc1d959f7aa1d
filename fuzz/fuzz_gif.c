/*
 * fuzz_gif.c — libFuzzer target for the GIF decoder (src/media/), seeded
 * from fuzz/corpus/gif/ (scripts/make-fuzz-seeds.sh).
 */
#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return hg_fuzz_decode(data, size, HG_FORMAT_GIF, HG_FORMAT_GIF);
}
