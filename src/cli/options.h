/*
 * options.h — option parsing the verbs share: numbers with bounds, the
 * input limits (--max-bytes, --max-pixels, --max-side), usage errors.
 */
#ifndef HG_CLI_OPTIONS_H
#define HG_CLI_OPTIONS_H

#include "hashgate/image.h"

#define HG_CLI_LIMIT_USAGE                                                        \
	"  --max-bytes N     refuse inputs over N bytes (default 104857600)\n"        \
	"  --max-pixels N    refuse images over N pixels (default 100000000)\n"      \
	"  --max-side N      refuse images wider or taller than N px (default 65535)\n"

/* Parses a whole decimal string within [min, max]; 0 on success, -1 if not. */
int hg_cli_parse_long(const char *s, long min, long max, long *out);

/* If argv[i] is a limit option, applies it and returns the number of argv
 * entries used (2); returns 0 if it is not one, -1 if its value is bad. */
int hg_cli_limit_option(int argc, char **argv, int i, hg_limits *limits);

/* Prints "hashgate VERB: MSG" and the usage to stderr; returns the usage exit code. */
int hg_cli_usage_error(const char *verb, const char *usage, const char *msg);

#endif
