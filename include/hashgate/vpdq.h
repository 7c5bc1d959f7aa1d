/*
 * vpdq.h — vPDQ video hashes and how they are matched (pure computation).
 *
 * A vPDQ hash is a list of frame features: one full-resolution PDQ hash per
 * sampled frame, with the frame's number, quality and timestamp, exactly the
 * fields Meta's vpdq-hash-video prints:
 *
 *     frameNumber,quality,pdqHex64,timestamp      e.g. 30,100,df83...8154,1.000
 *
 * Two videos are compared as python-threatexchange does: frames with quality
 * under 50 are dropped, exact duplicate hashes are removed, then
 *
 *     query%  = share of the query's frames within distance 31 of some frame
 *               of the other video
 *     target% = the same the other way round
 *
 * and the pair matches when query% >= 80 and target% >= 0 (configurable).
 *
 * The index answers the same question against many videos at once: every
 * usable frame of every bank video goes into one PDQ radius index, so a query
 * costs one radius lookup per query frame, whatever the number of videos.
 *
 *   hg_vpdq_index
 *     videos[]      : {id, first entry, usable frames}   one per added video
 *     frames        : hg_index (index.h) of every usable frame, deduplicated
 *                     per video; entry ids are consecutive per video
 *     entry_video[] : entry id -> videos[] slot
 *
 * Nothing here does I/O; decoding lives in video.h.
 */
#ifndef HASHGATE_VPDQ_H
#define HASHGATE_VPDQ_H

#include <stddef.h>
#include <stdint.h>

#include "hashgate/pdq.h"
#include "hashgate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* python-threatexchange's defaults. */
#define HG_VPDQ_DEFAULT_QUERY_PCT 80.0
#define HG_VPDQ_DEFAULT_TARGET_PCT 0.0
/* Longest line hg_vpdq_format_line writes, with its NUL. */
#define HG_VPDQ_LINE_MAX 128

/* One hashed frame. */
typedef struct hg_vpdq_frame {
	hg_pdq hash;
	int quality;          /* 0..100 */
	int64_t frame_number; /* 0-based, in decoder output order */
	double timestamp;     /* seconds: (float)frame_number / (float)fps */
} hg_vpdq_frame;

/*
 * Writes "frameNumber,quality,hex,timestamp" (timestamp with %.3f, no
 * newline) into buf. Returns the length written, or 0 if `size` is too small
 * (use HG_VPDQ_LINE_MAX) or an argument is NULL.
 */
HG_API size_t hg_vpdq_format_line(const hg_vpdq_frame *frame, char *buf, size_t size);

/*
 * Parses one line of the reference's output (`len` characters, trailing
 * "\r\n" tolerated). Anything else (wrong field count, bad hex, quality
 * outside 0..100, negative frame number) gives HG_ERR_PARSE with *out zeroed.
 */
HG_API hg_status hg_vpdq_parse_line(const char *text, size_t len, hg_vpdq_frame *out);

/*
 * Stored form. A bank entry of signal "vpdq" holds one token per frame,
 * separated by single spaces (hg_signal_normalize in bank.h writes it):
 *
 *     hex                            frame hash only (values stored before
 *                                    quality was kept): counts as quality 100
 *     hex:quality                    e.g. 9c0e...71a3:87
 *     hex:quality:frame:timestamp    e.g. 9c0e...71a3:87:30:1.000 (%.3f)
 *
 * so a bank video's frames under min_quality are left out of its share, as
 * for a video hashed on the spot. Frame numbers go up to
 * HG_VPDQ_MAX_FRAME_NUMBER and timestamps up to HG_VPDQ_MAX_TIMESTAMP s
 * once rounded to milliseconds (116 days).
 */
#define HG_VPDQ_MAX_FRAME_NUMBER 999999999LL
#define HG_VPDQ_MAX_TIMESTAMP 9999999.999
/* Longest token: 64 hex + ":100" + ":999999999" + ":9999999.999". */
#define HG_VPDQ_TOKEN_MAX 90

/*
 * Parses one token (`len` bytes, no separators) into *out and sets *fields
 * to how many fields it had (1, 2 or 4). A token without quality gets
 * quality 100; one without a frame number gets frame_number 0 and
 * timestamp 0. HG_ERR_PARSE (with *out zeroed) for anything else: hex not
 * 64 digits, quality outside 0..100, 3 or more than 4 fields, a frame number
 * or timestamp out of range, over 2 * HG_VPDQ_TOKEN_MAX bytes. HG_ERR_INVALID_ARG for NULL out or fields.
 */
HG_API hg_status hg_vpdq_token_parse(const char *text, size_t len, hg_vpdq_frame *out,
				     int *fields);

/*
 * Writes the normal form of a token with `fields` fields (1, 2 or 4: hex in
 * lowercase, quality and frame number in decimal, timestamp "%.3f") into buf
 * with a NUL. Returns the length, or 0 when `size` is too small (use
 * HG_VPDQ_TOKEN_MAX + 1), `fields` is not 1, 2 or 4, a value is out of the
 * ranges above, or an argument is NULL.
 */
HG_API size_t hg_vpdq_token_format(const hg_vpdq_frame *frame, int fields, char *buf,
				   size_t size);

/*
 * Parses a stored vPDQ value (`len` bytes: tokens separated by blanks,
 * commas or semicolons) into a new array *frames of *n frames (free with
 * hg_vpdq_frames_free). Frames whose token had no frame number are numbered
 * by their position. HG_ERR_PARSE for a bad token or no token at all,
 * HG_ERR_NOMEM, HG_ERR_INVALID_ARG for NULL arguments; *frames is NULL and
 * *n 0 on failure.
 */
HG_API hg_status hg_vpdq_value_parse(const char *value, size_t len, hg_vpdq_frame **frames,
				     size_t *n);

/* Frees what hg_vpdq_value_parse returned. NULL is a no-op. */
HG_API void hg_vpdq_frames_free(hg_vpdq_frame *frames);

typedef struct hg_vpdq_match_options {
	int radius;        /* match when distance <= radius; default 31 */
	int min_quality;   /* frames below are ignored; default 50 */
	double query_pct;  /* query% needed, 0..100; default 80 */
	double target_pct; /* target% needed, 0..100; default 0 */
} hg_vpdq_match_options;

/* Fills *opts with the defaults above. */
HG_API void hg_vpdq_match_options_default(hg_vpdq_match_options *opts);

/*
 * The usable frames of a video: quality >= min_quality, exact duplicate
 * hashes removed (first occurrence kept). Writes at most `n` hashes to `out`
 * (which must hold `n`) and returns how many were written. NULL frames or
 * out with n > 0 returns 0.
 */
HG_API size_t hg_vpdq_usable(const hg_vpdq_frame *frames, size_t n, int min_quality,
			     hg_pdq *out);

/*
 * Compares two videos by brute force (python-threatexchange's
 * match_VPDQ_hash_brute). Writes both percentages (0..100; 0 when a side has
 * no usable frame) and sets *matched when both pass the thresholds. `opts`
 * may be NULL for the defaults. Costs nq * nt distance computations: use an
 * hg_vpdq_index for banks. Returns HG_ERR_INVALID_ARG for NULL outputs or a
 * NULL frame array with a non-zero count, HG_ERR_NOMEM if scratch fails.
 */
HG_API hg_status hg_vpdq_compare(const hg_vpdq_frame *query, size_t nq,
				 const hg_vpdq_frame *target, size_t nt,
				 const hg_vpdq_match_options *opts, double *query_pct,
				 double *target_pct, int *matched);

/* A bank of videos to match against. One writer (add, remove) at a time,
 * and not concurrently with queries; queries may run on any number of
 * threads at once. */
typedef struct hg_vpdq_index hg_vpdq_index;

/* Creates an empty index. `opts` (copied; NULL for the defaults) fixes the
 * radius and minimum quality for every video added and every query. */
HG_API hg_status hg_vpdq_index_new(const hg_vpdq_match_options *opts, hg_vpdq_index **out);
/* Frees the index. NULL is a no-op. */
HG_API void hg_vpdq_index_free(hg_vpdq_index *index);

/*
 * Adds a video under `video_id` (the caller's key, e.g. a bank entry id).
 * Only its usable frames are kept (see hg_vpdq_usable); a video without any
 * is still added and can never match. HG_ERR_EXISTS if the id is already
 * present, HG_ERR_NOMEM, HG_ERR_INVALID_ARG for NULL frames with n > 0.
 */
HG_API hg_status hg_vpdq_index_add(hg_vpdq_index *index, uint64_t video_id,
				   const hg_vpdq_frame *frames, size_t n);

/* Removes a video. HG_ERR_NOT_FOUND if the id is not present. */
HG_API hg_status hg_vpdq_index_remove(hg_vpdq_index *index, uint64_t video_id);

/* Rebuilds the frame index's tables after many adds or removes. Adds go
 * to an overlay that queries scan; add calls rebuild on their own once the
 * overlay outgrows an eighth of the tables, so this is only needed to make
 * the first queries after a bulk load as fast as later ones. */
HG_API hg_status hg_vpdq_index_compact(hg_vpdq_index *index);

/* Number of videos in the index. */
HG_API size_t hg_vpdq_index_count(const hg_vpdq_index *index);

typedef struct hg_vpdq_match {
	uint64_t video_id;
	double query_pct;      /* share of the query's usable frames matched */
	double target_pct;     /* share of the video's usable frames matched */
	size_t query_matched;  /* counts behind the percentages */
	size_t query_usable;
	size_t target_matched;
	size_t target_usable;
} hg_vpdq_match;

/*
 * Matches a query video against every video of the index. `query_pct` and
 * `target_pct` are the thresholds (use the HG_VPDQ_DEFAULT_ values); a
 * video is reported when both pass and at least one frame matched. *matches
 * (free with hg_vpdq_matches_free) is sorted by query_pct, then target_pct,
 * highest first, then by id; *count may be 0 with *matches NULL.
 * Cost: one radius lookup per usable query frame, stopping early once no
 * video can reach query_pct (then nothing is reported), plus work for the
 * videos the lookups met; never a pass over all videos.
 * HG_ERR_INVALID_ARG for NULL outputs, HG_ERR_NOMEM.
 */
HG_API hg_status hg_vpdq_index_query(hg_vpdq_index *index, const hg_vpdq_frame *frames,
				     size_t n, double query_pct, double target_pct,
				     hg_vpdq_match **matches, size_t *count);

/* Frees what hg_vpdq_index_query returned. NULL is a no-op. */
HG_API void hg_vpdq_matches_free(hg_vpdq_match *matches);

#ifdef __cplusplus
}
#endif
#endif
