/*
 * test_vpdq_video.c — the video API's edges: container sniffing, every
 * limit and error status, the in-memory and file paths, and skip mode on
 * the tiny clips of fuzz/corpus/video (ffmpeg's test pattern in each
 * container and codec hashgate decodes).
 */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "hashgate/video.h"

static const char *const seeds[] = {
	"seed-h264.mp4", "seed-h264-bframes.mp4", "seed-h264.mov", "seed-h264.ts",
	"seed-vp8.webm", "seed-vp9.mkv", "seed-mpeg4.avi", "seed-hevc.mp4",
	"seed-anim.gif", "seed-anim.webp",
};
static const hg_video_format seed_format[] = {
	HG_VIDEO_MP4, HG_VIDEO_MP4, HG_VIDEO_MP4, HG_VIDEO_MPEGTS, HG_VIDEO_MATROSKA,
	HG_VIDEO_MATROSKA, HG_VIDEO_AVI, HG_VIDEO_MP4, HG_VIDEO_GIF, HG_VIDEO_WEBP,
};

static void test_sniff(void)
{
	unsigned char b[400];
	memset(b, 0, sizeof b);
	memcpy(b + 4, "ftypisom", 8);
	CHECK_INT(hg_video_sniff(b, sizeof b), HG_VIDEO_MP4);
	memcpy(b + 4, "ftypheic", 8);
	CHECK_INT(hg_video_sniff(b, sizeof b), HG_VIDEO_NONE);
	memcpy(b + 4, "ftypavif", 8);
	CHECK_INT(hg_video_sniff(b, sizeof b), HG_VIDEO_NONE);
	memset(b, 0, sizeof b);
	memcpy(b, "\x1a\x45\xdf\xa3", 4);
	CHECK_INT(hg_video_sniff(b, sizeof b), HG_VIDEO_MATROSKA);
	memcpy(b, "RIFF\0\0\0\0AVI LIST", 16);
	CHECK_INT(hg_video_sniff(b, sizeof b), HG_VIDEO_AVI);
	memcpy(b, "RIFF\0\0\0\0WEBPVP8X\0\0\0\0\x02", 21);
	CHECK_INT(hg_video_sniff(b, sizeof b), HG_VIDEO_WEBP);
	b[20] = 0x10; /* alpha only: a still image */
	CHECK_INT(hg_video_sniff(b, sizeof b), HG_VIDEO_NONE);
	memset(b, 'x', sizeof b);
	b[0] = 0x47;
	CHECK_INT(hg_video_sniff(b, sizeof b), HG_VIDEO_NONE); /* one sync byte is text */
	b[188] = b[376] = 0x47;
	CHECK_INT(hg_video_sniff(b, sizeof b), HG_VIDEO_MPEGTS);
	/* A GIF with one image is an image; with two, a video. */
	static const unsigned char gif1[] = {
		'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0,
		0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3b};
	CHECK_INT(hg_video_sniff(gif1, sizeof gif1), HG_VIDEO_NONE);
	unsigned char gif2[64];
	memcpy(gif2, gif1, 28);
	memcpy(gif2 + 28, gif1 + 13, 15);
	CHECK_INT(hg_video_sniff(gif2, 28 + 15), HG_VIDEO_GIF);
	CHECK_INT(hg_video_sniff(NULL, 100), HG_VIDEO_NONE);
	CHECK_STR(hg_video_format_name(HG_VIDEO_MATROSKA), "matroska");
	CHECK_STR(hg_video_format_name((hg_video_format)99), "none");
}

static unsigned char *read_seed(const char *name, size_t *len)
{
	const char *src = getenv("HG_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/fuzz/corpus/video/%s", src ? src : "..", name);
	return hgt_read_file(path, len);
}

static void test_seeds(hg_video_hasher *vh)
{
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		size_t len;
		unsigned char *buf = read_seed(seeds[i], &len);
		CHECK(buf != NULL);
		if (!buf)
			continue;
		CHECK_INT(hg_video_sniff(buf, len), seed_format[i]);
		hg_vpdq_options o;
		hg_vpdq_options_default(&o);
		o.seconds_per_hash = 0;
		hg_vpdq a, b;
		hg_status st = hg_vpdq_hash_bytes(vh, buf, len, &o, &a);
		if (st)
			fprintf(stderr, "%s: %s\n", seeds[i], hg_video_hasher_errmsg(vh));
		CHECK_INT(st, HG_OK);
		CHECK_INT(a.format, seed_format[i]);
		CHECK(a.count >= 2 && a.count == a.frames_decoded);
		CHECK(a.width == 32 && a.height == 24 && a.fps > 0);
		o.flags = HG_VPDQ_SKIP_NONREF | HG_VPDQ_CROP_BARS;
		o.seconds_per_hash = 0.2;
		CHECK_INT(hg_vpdq_hash_bytes(vh, buf, len, &o, &b), HG_OK);
		CHECK_INT(b.frames_decoded, a.frames_decoded);
		CHECK(b.cropped != NULL && b.cropped_with_bars == 0);
		/* Every hashed frame of b is the frame a hashed with the same number. */
		for (size_t k = 0; k < b.count; k++) {
			int64_t n = b.frames[k].frame_number;
			CHECK(n >= 0 && (size_t)n < a.count && a.frames[n].frame_number == n &&
			      !memcmp(&a.frames[n].hash, &b.frames[k].hash, sizeof(hg_pdq)) &&
			      !memcmp(&b.cropped[k].hash, &b.frames[k].hash, sizeof(hg_pdq)));
		}
		/* Cut in half: an error that says so, never a crash. */
		if (seed_format[i] == HG_VIDEO_MP4) {
			hg_vpdq c;
			st = hg_vpdq_hash_bytes(vh, buf, len / 2, NULL, &c);
			CHECK(st == HG_ERR_TRUNCATED || st == HG_ERR_CORRUPT);
			CHECK(c.frames == NULL && c.count == 0 && hg_video_hasher_errmsg(vh)[0]);
		}
		hg_vpdq_release(&a);
		hg_vpdq_release(&b);
		free(buf);
	}
}

/* Each limit and argument error gives its own status and a message. */
static void test_limits(void)
{
	size_t len;
	unsigned char *buf = read_seed("seed-h264.mp4", &len);
	CHECK(buf != NULL);
	if (!buf)
		return;
	hg_video_limits base;
	hg_video_limits_default(&base);
	for (int k = 0; k < 5; k++) {
		hg_video_limits l = base;
		hg_status want = HG_ERR_TOO_LARGE;
		if (k == 0)
			l.max_frames = 2;
		else if (k == 1)
			l.max_side = 16;
		else if (k == 2)
			l.max_pixels = 100;
		else if (k == 3)
			l.max_bytes = len - 1;
		else {
			l.max_decode_seconds = 0;
			want = HG_ERR_TIMEOUT;
		}
		hg_video_hasher *vh = NULL;
		CHECK_INT(hg_video_hasher_new(&l, &vh), HG_OK);
		hg_vpdq v;
		CHECK_INT(hg_vpdq_hash_bytes(vh, buf, len, NULL, &v), want);
		CHECK(v.frames == NULL && hg_video_hasher_errmsg(vh)[0]);
		hg_video_hasher_free(vh);
	}
	hg_video_hasher *vh = NULL;
	CHECK_INT(hg_video_hasher_new(NULL, &vh), HG_OK);
	hg_vpdq v;
	hg_vpdq_options o;
	hg_vpdq_options_default(&o);
	o.seconds_per_hash = -1;
	CHECK_INT(hg_vpdq_hash_bytes(vh, buf, len, &o, &v), HG_ERR_INVALID_ARG);
	o.seconds_per_hash = NAN;
	CHECK_INT(hg_vpdq_hash_bytes(vh, buf, len, &o, &v), HG_ERR_INVALID_ARG);
	hg_vpdq_options_default(&o);
	o.flags = 1u << 7;
	CHECK_INT(hg_vpdq_hash_bytes(vh, buf, len, &o, &v), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_vpdq_hash_bytes(vh, buf, 0, NULL, &v), HG_ERR_EMPTY);
	CHECK_INT(hg_vpdq_hash_bytes(vh, "not a video at all", 18, NULL, &v), HG_ERR_UNKNOWN_FORMAT);
	CHECK_INT(hg_vpdq_hash_bytes(vh, NULL, 5, NULL, &v), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_vpdq_hash_bytes(NULL, buf, len, NULL, &v), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_vpdq_hash_bytes(vh, buf, len, NULL, NULL), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_vpdq_hash_file(vh, "-", NULL, &v), HG_ERR_INVALID_ARG);
	CHECK_INT(hg_vpdq_hash_file(vh, "/nonexistent/video.mp4", NULL, &v), HG_ERR_IO);
	CHECK_INT(hg_vpdq_hash_file(vh, "/", NULL, &v), HG_ERR_IO);
	/* Matroska magic followed by junk. */
	unsigned char junk[256];
	memset(junk, 0xee, sizeof junk);
	memcpy(junk, "\x1a\x45\xdf\xa3", 4);
	hg_status st = hg_vpdq_hash_bytes(vh, junk, sizeof junk, NULL, &v);
	CHECK(st == HG_ERR_CORRUPT || st == HG_ERR_TRUNCATED);
	hg_video_hasher_free(vh);
	hg_video_hasher_free(NULL);
	hg_vpdq_release(NULL);
	free(buf);
}

int main(void)
{
	test_sniff();
	hg_video_hasher *vh = NULL;
	CHECK_INT(hg_video_hasher_new(NULL, &vh), HG_OK);
	test_seeds(vh);
	hg_video_hasher_free(vh);
	test_limits();
	return hgt_finish("test_vpdq_video");
}
