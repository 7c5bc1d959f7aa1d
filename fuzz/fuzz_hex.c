/*
 * fuzz_hex.c — libFuzzer target for the hash-text parser: hg_pdq_from_hex
 * must accept exactly 64 hex digits, leave the hash zeroed otherwise, and
 * round-trip through hg_pdq_to_hex (lowercase) to the same bits.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashgate/pdq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	/* a copy without a terminator, so reading past `size` is caught */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	hg_pdq h;
	hg_status st = hg_pdq_from_hex(text, size, &h);
	int valid = size == HG_PDQ_HEX_LEN;
	for (size_t i = 0; valid && i < size; i++)
		valid = isxdigit((unsigned char)text[i]) != 0;
	if ((st == HG_OK) != valid)
		abort();
	if (st != HG_OK) {
		static const hg_pdq zero;
		if (memcmp(&h, &zero, sizeof h) != 0)
			abort();
	} else {
		char out[HG_PDQ_HEX_LEN + 1];
		hg_pdq_to_hex(&h, out);
		for (size_t i = 0; i < size; i++)
			if (out[i] != tolower((unsigned char)text[i]))
				abort();
		hg_pdq back;
		if (hg_pdq_from_hex(out, HG_PDQ_HEX_LEN, &back) != HG_OK ||
		    memcmp(&back, &h, sizeof h) != 0 || hg_pdq_distance(&back, &h) != 0)
			abort();
	}
	free(text);
	return 0;
}
