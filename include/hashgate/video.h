/*
 * video.h — decoding untrusted videos into vPDQ hashes.
 *
 * Videos are decoded with FFmpeg's libraries (libavformat, libavcodec,
 * libswscale) exactly as Meta's vpdq-hash-video does, so the frame numbers and
 * timestamps are the reference's and the hashes agree within PDQ's tolerance:
 *
 *   - every decoded frame of the first video stream is counted, from 0;
 *   - frame n is hashed when n % frameMod == 0, with
 *     frameMod = max(1, (int)(seconds_per_hash * fps)), fps = avg_frame_rate
 *     (r_frame_rate when that is unknown); seconds_per_hash 0 = every frame;
 *   - a hashed frame is converted by swscale (SWS_AREA) to RGB24 at its
 *     native size and given a full-resolution PDQ hash;
 *   - timestamp = (float)n / (float)fps.
 *
 * Animated WebP (which FFmpeg 5.1 cannot decode) goes through libwebp's
 * animation decoder with the same sampling rule, fps = frames / duration.
 *
 * The container is sniffed from the bytes, never from a name, and only these
 * demuxers are ever used: MP4/MOV (ISO BMFF), Matroska/WebM, AVI, MPEG-TS, GIF.
 * Files are read through hashgate's own I/O callbacks, so no FFmpeg protocol
 * (http:, concat:, ...) is reachable from untrusted input.
 *
 * A cut file is an error, never a shorter video, except for the streamable
 * layouts with no declared end (MPEG-TS at a packet boundary, fragmented MP4
 * between boxes, live Matroska), which hash as exactly the first frames of
 * the whole video; see docs/video.md, "Cut and damaged files".
 */
#ifndef HASHGATE_VIDEO_H
#define HASHGATE_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#include "hashgate/status.h"
#include "hashgate/vpdq.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HG_VIDEO_DEFAULT_MAX_BYTES ((uint64_t)2 << 30)   /* 2 GiB */
#define HG_VIDEO_DEFAULT_MAX_SECONDS 7200.0              /* 2 hours of media */
#define HG_VIDEO_DEFAULT_MAX_FRAMES ((uint64_t)500000)   /* decoded frames */
#define HG_VIDEO_DEFAULT_MAX_PIXELS ((uint64_t)8192 * 4352) /* per frame: 8K */
#define HG_VIDEO_DEFAULT_MAX_SIDE 8192u
#define HG_VIDEO_DEFAULT_MAX_DECODE_SECONDS 600.0        /* wall clock */

typedef struct hg_video_limits {
	uint64_t max_bytes;         /* file size */
	double max_seconds;         /* media duration (header, then frame count / fps) */
	uint64_t max_frames;        /* decoded frames, hashed or not */
	uint64_t max_pixels;        /* width * height of a frame */
	uint32_t max_side;          /* largest frame width or height */
	double max_decode_seconds;  /* wall-clock time spent decoding one video */
} hg_video_limits;

/* Fills *limits with the defaults above. */
HG_API void hg_video_limits_default(hg_video_limits *limits);

typedef enum hg_video_format {
	HG_VIDEO_NONE = 0,   /* not a video hashgate decodes */
	HG_VIDEO_MP4,        /* ISO BMFF: MP4, MOV, 3GP, M4V */
	HG_VIDEO_MATROSKA,   /* MKV, WebM */
	HG_VIDEO_AVI,
	HG_VIDEO_MPEGTS,
	HG_VIDEO_GIF,        /* a GIF with more than one image */
	HG_VIDEO_WEBP,       /* an animated WebP */
	HG_VIDEO_FORMAT_COUNT_
} hg_video_format;

/*
 * Identifies a video container from the first bytes. A GIF counts only if
 * it holds two or more images and a WebP only if its animation flag is set
 * (both are walked from `data`, so pass the whole file for those two; for
 * the others 1 KiB suffices: MPEG-TS needs two sync bytes, 188 apart). HEIF/AVIF brands are images, not videos.
 */
HG_API hg_video_format hg_video_sniff(const void *data, size_t len);

/* "mp4", "matroska", ...; "none" for HG_VIDEO_NONE. */
HG_API const char *hg_video_format_name(hg_video_format format);

/* Flags for hg_vpdq_options.flags. */
enum {
	/* Skip decoding non-reference frames that will not be hashed. Frame
	 * numbers then come from presentation timestamps, which agree with the
	 * decoder's count only on well-formed streams; see docs/video.md. */
	HG_VPDQ_SKIP_NONREF = 1u << 0,
	/* Also hash every sampled frame with dark bars (letterbox, pillarbox)
	 * cut off, into hg_vpdq.cropped: a letterboxed copy of a video then
	 * matches the original. The frames hashes stay the reference's. */
	HG_VPDQ_CROP_BARS = 1u << 1,
};

typedef struct hg_vpdq_options {
	double seconds_per_hash; /* default 1; 0 hashes every frame */
	int threads;             /* decoder slice threads; default 1 */
	unsigned flags;          /* HG_VPDQ_* above; default 0 */
} hg_vpdq_options;

/* Fills *opts with the defaults. */
HG_API void hg_vpdq_options_default(hg_vpdq_options *opts);

/* A video's vPDQ hash and what the decoder saw. Owned by the caller. */
typedef struct hg_vpdq {
	hg_vpdq_frame *frames; /* hashed frames, by frame number */
	size_t count;
	hg_video_format format;
	const char *codec;     /* FFmpeg decoder name ("h264", ...); static */
	size_t width, height;  /* of the first decoded frame */
	double fps;            /* the rate frame numbers were divided by */
	uint64_t frames_decoded; /* frames in the stream, decoded or skipped */
	uint64_t frames_skipped; /* not decoded thanks to HG_VPDQ_SKIP_NONREF */
	/* With HG_VPDQ_CROP_BARS: count entries parallel to frames, each the
	 * same frame hashed without its bars (equal to frames[i] when it had
	 * none), and how many frames had bars. NULL / 0 otherwise. */
	hg_vpdq_frame *cropped;
	size_t cropped_with_bars;
} hg_vpdq;

/* Frees v->frames, v->cropped and zeroes *v. NULL is a no-op. */
HG_API void hg_vpdq_release(hg_vpdq *v);

/* Limits, scratch and the message of the last failure. One per thread. */
typedef struct hg_video_hasher hg_video_hasher;

/* `limits` may be NULL for the defaults; it is copied. */
HG_API hg_status hg_video_hasher_new(const hg_video_limits *limits, hg_video_hasher **out);
/* NULL is a no-op. */
HG_API void hg_video_hasher_free(hg_video_hasher *hasher);

/*
 * Decodes and hashes a video held in memory. `opts` may be NULL for the
 * defaults. On failure *out is zeroed and the status says why:
 *   HG_ERR_EMPTY, HG_ERR_UNKNOWN_FORMAT (not one of the containers above),
 *   HG_ERR_UNSUPPORTED (no video stream, or a codec hashgate does not enable),
 *   HG_ERR_TRUNCATED (the file stops before its container's declared length,
 *   or a frame is damaged at the end of the data), HG_ERR_CORRUPT (the
 *   demuxer or decoder rejected the data, a frame the decoder had to patch,
 *   or no frame could be decoded),
 *   HG_ERR_TOO_LARGE (size, duration, frame count or resolution limit),
 *   HG_ERR_TIMEOUT (max_decode_seconds), HG_ERR_TOO_SMALL, HG_ERR_NOMEM,
 *   HG_ERR_INVALID_ARG (NULL, negative or non-finite seconds_per_hash).
 * The detail is in hg_video_hasher_errmsg().
 */
HG_API hg_status hg_vpdq_hash_bytes(hg_video_hasher *hasher, const void *data, size_t len,
				    const hg_vpdq_options *opts, hg_vpdq *out);

/* The same for a file, read through a file descriptor without loading it
 * whole; files over limits.max_bytes are refused before decoding. "-" is
 * not accepted (HG_ERR_INVALID_ARG); HG_ERR_IO when the file cannot be read. */
HG_API hg_status hg_vpdq_hash_file(hg_video_hasher *hasher, const char *path,
				   const hg_vpdq_options *opts, hg_vpdq *out);

/* The message of the last failure ("" after a success). */
HG_API const char *hg_video_hasher_errmsg(const hg_video_hasher *hasher);

/*
 * A list of vPDQ hashes read from text: the reference's four-field lines
 * ("frameNumber,quality,hex,timestamp", one video per file, named after the
 * file) or the five-field lines `hashgate hash` prints for several videos
 * ("frameNumber,quality,hex,timestamp,name"; everything after the fourth
 * comma is the name). Consecutive lines with the same name are one video.
 * A bank list line "vpdq:<stored value>[,name]" (hashgate hash --entry,
 * vpdq.h's stored form) is one whole video by itself, named after the file
 * when it has no name. Empty lines and lines starting with '#' are skipped.
 */
typedef struct hg_vpdq_video {
	char *name;
	hg_vpdq_frame *frames;
	size_t count;
} hg_vpdq_video;

typedef struct hg_vpdq_list {
	hg_vpdq_video *videos;
	size_t count;
} hg_vpdq_list;

/*
 * Appends the videos of the text file at `path` to *list (zero it before the
 * first call). At most `max_lines` lines are read (HG_ERR_TOO_LARGE past
 * that). On HG_ERR_PARSE, *bad_line (if not NULL) is the 1-based line
 * number; HG_ERR_IO when the file cannot be read; HG_ERR_NOMEM. On failure
 * the videos appended by this call are removed again.
 */
HG_API hg_status hg_vpdq_list_read(const char *path, size_t max_lines, hg_vpdq_list *list,
				   size_t *bad_line);

/* Frees everything in *list and zeroes it. NULL is a no-op. */
HG_API void hg_vpdq_list_release(hg_vpdq_list *list);

#ifdef __cplusplus
}
#endif
#endif
