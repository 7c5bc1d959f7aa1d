/*
 * video_opts.c — video options, video detection and vPDQ output shared by
 * `hashgate hash` and `hashgate vmatch`.
 */
#include "cli/video_opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "hashgate/pdq.h"

void hg_cli_video_init(struct hg_cli_video *v)
{
	hg_video_limits_default(&v->limits);
	hg_vpdq_options_default(&v->opts);
}

static int parse_seconds(const char *s, double max, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(d) || d < 0 || d > max)
		return -1;
	*out = d;
	return 0;
}

int hg_cli_video_option(int argc, char **argv, int i, struct hg_cli_video *v)
{
	const char *a = argv[i];
	int known = !strcmp(a, "-r") || !strcmp(a, "--max-duration") ||
		    !strcmp(a, "--max-frames") || !strcmp(a, "--max-decode-seconds");
	if (!known)
		return 0;
	if (i + 1 >= argc)
		return -1;
	const char *val = argv[i + 1];
	if (!strcmp(a, "-r"))
		return parse_seconds(val, 86400, &v->opts.seconds_per_hash) ? -1 : 2;
	if (!strcmp(a, "--max-duration"))
		return parse_seconds(val, 1e9, &v->limits.max_seconds) ? -1 : 2;
	if (!strcmp(a, "--max-decode-seconds"))
		return parse_seconds(val, 1e9, &v->limits.max_decode_seconds) ? -1 : 2;
	long n;
	if (hg_cli_parse_long(val, 1, 1L << 40, &n))
		return -1;
	v->limits.max_frames = (uint64_t)n;
	return 2;
}

void hg_cli_video_inherit(struct hg_cli_video *v, const hg_limits *img)
{
	hg_limits d;
	hg_limits_default(&d);
	if (img->max_bytes != d.max_bytes)
		v->limits.max_bytes = img->max_bytes;
	if (img->max_pixels != d.max_pixels)
		v->limits.max_pixels = img->max_pixels;
	if (img->max_side != d.max_side)
		v->limits.max_side = img->max_side;
}

hg_video_format hg_cli_video_sniff(const char *path, int *gif)
{
	*gif = 0;
	if (!strcmp(path, "-"))
		return HG_VIDEO_NONE;
	FILE *f = fopen(path, "rb");
	if (!f)
		return HG_VIDEO_NONE;
	unsigned char head[1024];
	size_t n = fread(head, 1, sizeof head, f);
	fclose(f);
	*gif = n >= 6 && !memcmp(head, "GIF8", 4);
	return hg_video_sniff(head, n);
}

int hg_cli_is_video(const char *path)
{
	int gif;
	return hg_cli_video_sniff(path, &gif) != HG_VIDEO_NONE || gif;
}

int hg_cli_parse_pct(const char *s, double *out)
{
	char *end;
	double d = strtod(s, &end);
	if (end == s || *end || !(d >= 0 && d <= 100))
		return -1;
	*out = d;
	return 0;
}

void hg_cli_print_vpdq_text(const hg_vpdq *v, const char *path)
{
	char line[HG_VPDQ_LINE_MAX];
	for (size_t i = 0; i < v->count; i++) {
		hg_vpdq_format_line(&v->frames[i], line, sizeof line);
		if (path)
			printf("%s,%s\n", line, path);
		else
			printf("%s\n", line);
	}
}

json_t *hg_cli_vpdq_json(const hg_vpdq *v, const char *path)
{
	json_t *o = json_object();
	json_object_set_new(o, "file", json_string(path));
	json_object_set_new(o, "type", json_string("video"));
	json_object_set_new(o, "format", json_string(hg_video_format_name(v->format)));
	json_object_set_new(o, "codec", json_string(v->codec ? v->codec : ""));
	json_object_set_new(o, "width", json_integer((json_int_t)v->width));
	json_object_set_new(o, "height", json_integer((json_int_t)v->height));
	json_object_set_new(o, "fps", json_real(v->fps));
	json_object_set_new(o, "frames_decoded", json_integer((json_int_t)v->frames_decoded));
	json_t *arr = json_array();
	char hex[HG_PDQ_HEX_LEN + 1];
	for (size_t i = 0; i < v->count; i++) {
		const hg_vpdq_frame *f = &v->frames[i];
		json_t *fo = json_object();
		hg_pdq_to_hex(&f->hash, hex);
		json_object_set_new(fo, "frame", json_integer((json_int_t)f->frame_number));
		json_object_set_new(fo, "quality", json_integer(f->quality));
		json_object_set_new(fo, "pdq", json_string(hex));
		/* The %.3f text form, as the reference prints it. */
		json_object_set_new(fo, "timestamp", json_real(round(f->timestamp * 1000) / 1000));
		json_array_append_new(arr, fo);
	}
	json_object_set_new(o, "vpdq", arr);
	return o;
}
