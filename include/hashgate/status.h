/*
 * status.h — the one error enum every hashgate call returns.
 *
 * Numbers are stable: new codes are appended, none is ever renumbered, so a
 * status logged today still means the same thing in a later release. The
 * human-readable detail for a failed call lives on the handle that failed
 * (hg_decoder_errmsg() and friends), never in a global.
 */
#ifndef HASHGATE_STATUS_H
#define HASHGATE_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HG_BUILDING_LIBRARY) && defined(__GNUC__)
#define HG_API __attribute__((visibility("default")))
#else
#define HG_API
#endif

typedef enum hg_status {
	HG_OK = 0,                  /* success */
	HG_ERR_NOMEM = 1,           /* an allocation failed */
	HG_ERR_INVALID_ARG = 2,     /* a caller passed NULL, a zero size, an unknown flag */
	HG_ERR_IO = 3,              /* reading or writing a file failed (errno in the message) */
	HG_ERR_EMPTY = 4,           /* the input has zero bytes */
	HG_ERR_UNKNOWN_FORMAT = 5,  /* the bytes are not an image format hashgate decodes */
	HG_ERR_TRUNCATED = 6,       /* the file ends before the image data does */
	HG_ERR_CORRUPT = 7,         /* the decoder rejected the data */
	HG_ERR_TOO_LARGE = 8,       /* a limit was exceeded: bytes, pixels or a dimension */
	HG_ERR_TOO_SMALL = 9,       /* under 5 px on a side: PDQ has nothing to say */
	HG_ERR_PARSE = 10,          /* malformed text: a hash, a list line, JSON */
	HG_ERR_UNSUPPORTED = 11,    /* a recognised format using a feature we do not decode */
	HG_ERR_NOT_FOUND = 12,      /* no such bank, entry, key or record */
	HG_ERR_EXISTS = 13,         /* the thing being created already exists */
	HG_ERR_STORE = 14,          /* the database failed (its message is on the handle) */
	HG_ERR_CONFLICT = 15,       /* a concurrent change won; retry */
	HG_ERR_DENIED = 16,         /* authentication or authorisation failed */
	HG_ERR_RATE_LIMITED = 17,   /* too many requests for this key */
	HG_ERR_INTERNAL = 18,       /* a bug: an invariant did not hold */
	HG_ERR_TIMEOUT = 19,        /* a time limit was exceeded */
	HG_STATUS_COUNT_            /* not a status; keep last */
} hg_status;

/* Returns a short, static, English description of `status`; never NULL.
 * Unknown values give "unknown status". Thread-safe. */
HG_API const char *hg_strerror(hg_status status);

/* A stable machine-readable token for `status` ("too_large", ...), used in
 * JSON error bodies and logs; never NULL. */
HG_API const char *hg_status_token(hg_status status);

#ifdef __cplusplus
}
#endif
#endif
