/*
 * options.c — shared option parsing for the CLI verbs.
 */
#include "cli/options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int hg_cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int hg_cli_limit_option(int argc, char **argv, int i, hg_limits *limits)
{
	static const char *const names[] = {"--max-bytes", "--max-pixels", "--max-side"};
	for (int k = 0; k < 3; k++) {
		if (strcmp(argv[i], names[k]) != 0)
			continue;
		long v;
		if (i + 1 >= argc || hg_cli_parse_long(argv[i + 1], 1, k == 2 ? 1L << 30 : 1L << 62, &v))
			return -1;
		if (k == 0)
			limits->max_bytes = (uint64_t)v;
		else if (k == 1)
			limits->max_pixels = (uint64_t)v;
		else
			limits->max_side = (uint32_t)v;
		return 2;
	}
	return 0;
}

int hg_cli_usage_error(const char *verb, const char *usage, const char *msg)
{
	fprintf(stderr, "hashgate %s: %s\n%s", verb, msg, usage);
	return HG_EXIT_USAGE;
}
