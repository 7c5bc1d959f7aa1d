/*
 * fuzz_banklist.c — libFuzzer target for the hash-list parsers (text, CSV,
 * JSON Lines). The first byte picks the format and the default signal type;
 * the rest is fed line by line. Every accepted entry must be in normal form
 * (normalising it again changes nothing), carry fields that pass the text
 * rules, and survive a write with hg_list_format_entry and a parse back in
 * the same format unchanged — what `bank export | bank import` relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashgate/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Writes e in `format` and parses it back; aborts on any difference. */
static void round_trip(hg_list_format format, const hg_entry_input *in)
{
	hg_entry e = {0};
	e.signal = in->signal;
	e.value = in->value;
	e.external_id = in->external_id;
	e.source = in->source;
	static char line[2 * HG_LIST_LINE_MAX];
	size_t n = hg_list_format_entry(format, &e, line, sizeof line);
	if (!n || line[n - 1] != '\n')
		abort();
	hg_list_parser *p;
	if (hg_list_parser_new(format, -1, &p))
		abort();
	hg_entry_input back;
	int has = 0;
	if (format == HG_LIST_CSV) {
		const char *h = hg_list_header(format);
		if (hg_list_parse_line(p, h, strlen(h) - 1, &back, &has) || has)
			abort();
	}
	if (hg_list_parse_line(p, line, n - 1, &back, &has) || !has)
		abort();
	if (back.signal != in->signal || strcmp(back.value, in->value) ||
	    !same(back.external_id, in->external_id))
		abort();
	if (format != HG_LIST_TEXT && !same(back.source, in->source))
		abort();
	hg_list_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 20)
		return 0;
	hg_list_format format = (hg_list_format)(data[0] % HG_LIST_FORMAT_COUNT_);
	int def = (int)((data[0] / HG_LIST_FORMAT_COUNT_) % (HG_SIGNAL_COUNT_ + 1)) - 1;
	hg_list_parser *p;
	if (hg_list_parser_new(format, def, &p))
		abort();
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	static char norm[HG_SIGNAL_VALUE_MAX + 1];
	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t ll = nl ? (size_t)(nl - text) : len;
		/* a copy without a terminator, so reading past the line is caught */
		char *copy = malloc(ll ? ll : 1);
		if (!copy)
			break;
		memcpy(copy, text, ll);
		hg_entry_input e;
		int has = 0;
		hg_status st = hg_list_parse_line(p, copy, ll, &e, &has);
		if (st == HG_OK && has) {
			if ((unsigned)e.signal >= HG_SIGNAL_COUNT_ || e.value_len != strlen(e.value))
				abort();
			size_t nl2;
			if (hg_signal_normalize(e.signal, e.value, e.value_len, norm, sizeof norm, &nl2,
						NULL, 0) ||
			    nl2 != e.value_len || memcmp(norm, e.value, nl2))
				abort();
			if ((e.external_id && hg_text_check(e.external_id, strlen(e.external_id),
							    HG_FIELD_MAX)) ||
			    (e.source && hg_text_check(e.source, strlen(e.source), HG_FIELD_MAX)))
				abort();
			round_trip(format, &e);
		} else if (st != HG_OK && (has || !*hg_list_parser_errmsg(p))) {
			abort(); /* a failure always explains itself */
		}
		free(copy);
		text += ll + (nl ? 1 : 0);
		len -= ll + (nl ? 1 : 0);
	}
	hg_list_parser_free(p);
	return 0;
}
