/*
 * fuzz_webp.c — libFuzzer target for the WEBP decoder (src/media/), seeded
 * from fuzz/corpus/webp/ (scripts/make-fuzz-seeds.sh).
 */
#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return hg_fuzz_decode(data, size, HG_FORMAT_WEBP, HG_FORMAT_WEBP);
}
