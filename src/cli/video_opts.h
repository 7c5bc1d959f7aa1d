/*
 * video_opts.h — what the verbs that read videos share: the video options
 * (-r, --max-duration, --max-frames, --max-decode-seconds), telling a video
 * file from an image, and printing a vPDQ hash as text or JSON.
 */
#ifndef HG_CLI_VIDEO_OPTS_H
#define HG_CLI_VIDEO_OPTS_H

#include <jansson.h>

#include "hashgate/image.h"
#include "hashgate/video.h"

#define HG_CLI_VIDEO_USAGE                                                          \
	"  -r SECONDS        videos: one frame hash per SECONDS (default 1; 0 = every frame)\n" \
	"  --max-duration S  refuse videos longer than S seconds (default 7200)\n"            \
	"  --max-frames N    refuse videos with more than N frames (default 500000)\n"        \
	"  --max-decode-seconds S  give up on a video after S s of decoding (default 600)\n"

struct hg_cli_video {
	hg_video_limits limits;
	hg_vpdq_options opts;
};

/* Defaults for both. */
void hg_cli_video_init(struct hg_cli_video *v);

/* If argv[i] is a video option, applies it and returns the argv entries used
 * (2); 0 if it is not one, -1 if its value is bad. */
int hg_cli_video_option(int argc, char **argv, int i, struct hg_cli_video *v);

/* Carries image limits the user changed from their defaults over to videos
 * (--max-bytes, --max-pixels, --max-side apply to both). */
void hg_cli_video_inherit(struct hg_cli_video *v, const hg_limits *image_limits);

/* 1 when `path` should be hashed as a video: its first bytes are a video
 * container or a GIF (a GIF with one image falls back to the image path:
 * hg_vpdq_hash_file says HG_ERR_UNKNOWN_FORMAT). 0 for "-" and anything
 * unreadable (the image path then reports the error). */
int hg_cli_is_video(const char *path);

/* The video container of `path` from its first KiB (HG_VIDEO_NONE for "-",
 * unreadable files and non-videos); *gif is set when it is a GIF at all (a
 * GIF whose second image lies past the first KiB sniffs as HG_VIDEO_NONE). */
hg_video_format hg_cli_video_sniff(const char *path, int *gif);

/* A percentage option's value, 0..100: 0, or -1 when bad. */
int hg_cli_parse_pct(const char *s, double *out);

/* The reference's lines, "frameNumber,quality,hex,timestamp"; with `path`
 * non-NULL, ",path" is appended to each line. */
void hg_cli_print_vpdq_text(const hg_vpdq *v, const char *path);

/* One JSON object describing the video and its frames (caller decrefs). */
json_t *hg_cli_vpdq_json(const hg_vpdq *v, const char *path);

#endif
