/*
 * status.c — text for every hg_status. One table, indexed by the enum, so
 * adding a code without its text fails to compile (see the static assert).
 */
#include "hashgate/status.h"

#include <stddef.h>

static const struct {
	const char *token;
	const char *text;
} status_table[] = {
	[HG_OK] = {"ok", "success"},
	[HG_ERR_NOMEM] = {"out_of_memory", "out of memory"},
	[HG_ERR_INVALID_ARG] = {"invalid_argument", "invalid argument"},
	[HG_ERR_IO] = {"io_error", "input/output error"},
	[HG_ERR_EMPTY] = {"empty_input", "empty input (zero bytes)"},
	[HG_ERR_UNKNOWN_FORMAT] = {"unknown_format", "not a supported image format"},
	[HG_ERR_TRUNCATED] = {"truncated", "truncated file"},
	[HG_ERR_CORRUPT] = {"corrupt", "corrupt image data"},
	[HG_ERR_TOO_LARGE] = {"too_large", "input exceeds a configured limit"},
	[HG_ERR_TOO_SMALL] = {"too_small", "image too small to hash (under 5 pixels on a side)"},
	[HG_ERR_PARSE] = {"parse_error", "malformed text"},
	[HG_ERR_UNSUPPORTED] = {"unsupported", "unsupported feature"},
	[HG_ERR_NOT_FOUND] = {"not_found", "not found"},
	[HG_ERR_EXISTS] = {"already_exists", "already exists"},
	[HG_ERR_STORE] = {"store_error", "storage error"},
	[HG_ERR_CONFLICT] = {"conflict", "conflicting concurrent change"},
	[HG_ERR_DENIED] = {"denied", "permission denied"},
	[HG_ERR_RATE_LIMITED] = {"rate_limited", "rate limit exceeded"},
	[HG_ERR_INTERNAL] = {"internal_error", "internal error"},
	[HG_ERR_TIMEOUT] = {"timeout", "time limit exceeded"},
};

_Static_assert(sizeof status_table / sizeof status_table[0] == HG_STATUS_COUNT_,
	       "every hg_status needs a row in status_table");

const char *hg_strerror(hg_status status)
{
	if ((unsigned)status >= HG_STATUS_COUNT_)
		return "unknown status";
	return status_table[status].text;
}

const char *hg_status_token(hg_status status)
{
	if ((unsigned)status >= HG_STATUS_COUNT_)
		return "unknown";
	return status_table[status].token;
}
