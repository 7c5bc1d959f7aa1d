/*
 * video.c — videos to vPDQ hashes with FFmpeg's libraries, as Meta's
 * vpdq-hash-video computes them (vpdq/cpp/hashing/filehasher.cpp):
 * decode every frame of the first video stream, count frames in the order
 * the decoder returns them, hash frame n when n % frameMod == 0 after an
 * SWS_AREA conversion to RGB24 at native size (rows packed, as the
 * reference's av_frame_get_buffer(frame, 1)), timestamp (float)n / (float)fps.
 *
 * Untrusted input never reaches an FFmpeg protocol: bytes come through our
 * own AVIO callbacks (memory or a file descriptor), the demuxer is chosen by
 * hashgate's sniffer, and only the decoders in `allowed_decoders` are opened.
 * Limits are checked from the headers first and again on every frame.
 *
 * Animated WebP, which FFmpeg 5.1 cannot decode, goes through libwebp's
 * WebPAnimDecoder with the same sampling rule.
 */
#include "hashgate/video.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
#include <webp/demux.h>

#include "hashgate/pdq.h"

#define AVIO_BUFFER 65536

struct hg_video_hasher {
	hg_video_limits limits;
	hg_pdq_hasher *pdq;
	uint8_t *rgb; /* one packed RGB24 frame */
	size_t rgb_cap;
	char errmsg[320];
};

void hg_video_limits_default(hg_video_limits *l)
{
	if (!l)
		return;
	l->max_bytes = HG_VIDEO_DEFAULT_MAX_BYTES;
	l->max_seconds = HG_VIDEO_DEFAULT_MAX_SECONDS;
	l->max_frames = HG_VIDEO_DEFAULT_MAX_FRAMES;
	l->max_pixels = HG_VIDEO_DEFAULT_MAX_PIXELS;
	l->max_side = HG_VIDEO_DEFAULT_MAX_SIDE;
	l->max_decode_seconds = HG_VIDEO_DEFAULT_MAX_DECODE_SECONDS;
}

void hg_vpdq_options_default(hg_vpdq_options *o)
{
	if (!o)
		return;
	o->seconds_per_hash = 1.0;
	o->threads = 1;
	o->flags = 0;
}

void hg_vpdq_release(hg_vpdq *v)
{
	if (!v)
		return;
	free(v->frames);
	free(v->cropped);
	memset(v, 0, sizeof *v);
}

const char *hg_video_format_name(hg_video_format f)
{
	static const char *const names[HG_VIDEO_FORMAT_COUNT_] = {
		"none", "mp4", "matroska", "avi", "mpegts", "gif", "webp",
	};
	return (unsigned)f < HG_VIDEO_FORMAT_COUNT_ ? names[f] : "none";
}

/* ---- sniffing ---------------------------------------------------------- */

/* HEIF/AVIF brands: still images (the image decoder's), not videos. */
static int heif_brand(const uint8_t *b)
{
	static const char brands[][5] = {"heic", "heix", "hevc", "hevx", "heim", "heis",
					 "hevm", "hevs", "mif1", "msf1", "avif", "avis"};
	for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++)
		if (!memcmp(b, brands[i], 4))
			return 1;
	return 0;
}

/* Skips GIF data sub-blocks from *pos; 0 when the data runs out. */
static int gif_skip_blocks(const uint8_t *d, size_t len, size_t *pos)
{
	while (*pos < len) {
		uint8_t n = d[(*pos)++];
		if (n == 0)
			return 1;
		*pos += n;
	}
	return 0;
}

/* Walks a GIF's blocks: returns the number of images (stopping at 2 when
 * `stop_at_two`) and sets *trailer when the walk reached the trailer byte,
 * i.e. the file is complete. */
static int gif_walk(const uint8_t *d, size_t len, int stop_at_two, int *trailer)
{
	*trailer = 0;
	if (len < 13)
		return 0;
	size_t pos = 13;
	if (d[10] & 0x80)
		pos += (size_t)3 << ((d[10] & 7) + 1);
	int images = 0;
	while (pos < len && !(stop_at_two && images >= 2)) {
		uint8_t tag = d[pos++];
		if (tag == 0x21) { /* extension: label, then sub-blocks */
			pos++;
			if (!gif_skip_blocks(d, len, &pos))
				break;
		} else if (tag == 0x2C) { /* image: descriptor, palette, LZW data */
			if (pos + 9 > len)
				break;
			uint8_t flags = d[pos + 8];
			pos += 9;
			if (flags & 0x80)
				pos += (size_t)3 << ((flags & 7) + 1);
			pos++; /* LZW minimum code size */
			if (!gif_skip_blocks(d, len, &pos))
				break;
			images++;
		} else {
			*trailer = tag == 0x3B;
			break; /* trailer or garbage */
		}
	}
	return images;
}

static int mpegts_sync(const uint8_t *d, size_t len, size_t start, size_t packet)
{
	int seen = 0;
	for (size_t off = start; off < len && seen < 4; off += packet, seen++)
		if (d[off] != 0x47)
			return 0;
	return seen >= 2;
}

/* 188 for MPEG-TS, 192 for M2TS (a 4-byte timecode before each packet),
 * 0 for neither. */
static size_t mpegts_packet_size(const uint8_t *d, size_t len)
{
	if (mpegts_sync(d, len, 0, 188))
		return 188;
	return mpegts_sync(d, len, 4, 192) ? 192 : 0;
}

hg_video_format hg_video_sniff(const void *data, size_t len)
{
	const uint8_t *d = data;
	if (!d || len < 12)
		return HG_VIDEO_NONE;
	if (!memcmp(d + 4, "ftyp", 4))
		return heif_brand(d + 8) ? HG_VIDEO_NONE : HG_VIDEO_MP4;
	if (!memcmp(d + 4, "moov", 4) || !memcmp(d + 4, "mdat", 4) || !memcmp(d + 4, "wide", 4))
		return HG_VIDEO_MP4; /* QuickTime files from before ftyp */
	if (!memcmp(d, "\x1a\x45\xdf\xa3", 4))
		return HG_VIDEO_MATROSKA;
	if (!memcmp(d, "RIFF", 4) && !memcmp(d + 8, "AVI ", 4))
		return HG_VIDEO_AVI;
	if (!memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4))
		return len >= 21 && !memcmp(d + 12, "VP8X", 4) && (d[20] & 0x02) ? HG_VIDEO_WEBP
										: HG_VIDEO_NONE;
	int trailer;
	if (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))
		return gif_walk(d, len, 1, &trailer) >= 2 ? HG_VIDEO_GIF : HG_VIDEO_NONE;
	if (mpegts_packet_size(d, len))
		return HG_VIDEO_MPEGTS;
	return HG_VIDEO_NONE;
}

/* ---- the hasher handle -------------------------------------------------- */

/* FFmpeg logs to stderr by default; the library never prints, so its log
 * level (process-wide FFmpeg state) is set to quiet once. */
static void quiet_ffmpeg(void)
{
	av_log_set_level(AV_LOG_QUIET);
}

hg_status hg_video_hasher_new(const hg_video_limits *limits, hg_video_hasher **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	if (!out)
		return HG_ERR_INVALID_ARG;
	pthread_once(&once, quiet_ffmpeg);
	*out = NULL;
	hg_video_hasher *h = calloc(1, sizeof *h);
	if (!h)
		return HG_ERR_NOMEM;
	if (limits)
		h->limits = *limits;
	else
		hg_video_limits_default(&h->limits);
	hg_status st = hg_pdq_hasher_new(&h->pdq);
	if (st) {
		free(h);
		return st;
	}
	*out = h;
	return HG_OK;
}

void hg_video_hasher_free(hg_video_hasher *h)
{
	if (!h)
		return;
	hg_pdq_hasher_free(h->pdq);
	free(h->rgb);
	free(h);
}

const char *hg_video_hasher_errmsg(const hg_video_hasher *h)
{
	return h ? h->errmsg : "no hasher";
}

__attribute__((format(printf, 3, 4))) static hg_status fail(hg_video_hasher *h, hg_status st,
							    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->errmsg, sizeof h->errmsg, fmt, ap);
	va_end(ap);
	return st;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the per-video state shared by both decoders ------------------------- */

/*
 * HG_VPDQ_SKIP_NONREF: frames come out of the decoder in presentation order,
 * so the reference's frame number of a frame equals the number of packets
 * with an earlier pts. A packet is sent with AVDISCARD_NONREF (the decoder
 * drops it if no other frame refers to it) only when no frame number it
 * could get, [sent earlier with smaller pts, + reorder delay], is a sampling
 * point. Every assumption is checked as frames come out: unique pts, output
 * in pts order, no dropped packet that was not allowed to be, no sampling
 * point ever skipped. If any check fails, the video is decoded again without
 * skipping, so the output is always the reference's.
 */
struct skipper {
	int on, failed;
	int64_t *pts;        /* sent, not yet ranked; ascending */
	unsigned char *may;  /* pts[i] was sent with AVDISCARD_NONREF */
	size_t n, cap;
	int64_t ranked;      /* packets ranked so far = next frame number */
	int64_t last_out;    /* pts of the last frame out */
	int any_out;
};

struct run {
	hg_video_hasher *h;
	hg_vpdq *out;
	size_t cap;
	double fps;
	int64_t frame_mod;
	double started;
	int crop; /* HG_VPDQ_CROP_BARS */
	struct skipper skip;
};

static hg_status check_size(hg_video_hasher *h, int64_t w, int64_t hgt)
{
	if (w <= 0 || hgt <= 0)
		return fail(h, HG_ERR_CORRUPT, "video has no frame size (%lldx%lld)", (long long)w,
			    (long long)hgt);
	if (w > h->limits.max_side || hgt > h->limits.max_side ||
	    (uint64_t)w * (uint64_t)hgt > h->limits.max_pixels)
		return fail(h, HG_ERR_TOO_LARGE,
			    "frames are %lldx%lld, over the limit (%u px a side, %llu pixels)",
			    (long long)w, (long long)hgt, h->limits.max_side,
			    (unsigned long long)h->limits.max_pixels);
	if (w < 5 || hgt < 5)
		return fail(h, HG_ERR_TOO_SMALL, "frames are %lldx%lld, under 5 px a side",
			    (long long)w, (long long)hgt);
	return HG_OK;
}

static hg_status start_run(struct run *r, double fps, const hg_vpdq_options *o,
			   double header_seconds)
{
	hg_video_hasher *h = r->h;
	if (!(fps > 0) || !isfinite(fps))
		return fail(h, HG_ERR_CORRUPT, "video has no frame rate");
	if (header_seconds > h->limits.max_seconds)
		return fail(h, HG_ERR_TOO_LARGE, "video lasts %.1f s, over the %.1f s limit",
			    header_seconds, h->limits.max_seconds);
	double mod = o->seconds_per_hash * fps;
	r->fps = fps;
	r->frame_mod = mod >= 1 ? (mod < (double)INT_MAX ? (int64_t)(int)mod : INT_MAX) : 1;
	r->out->fps = fps;
	return HG_OK;
}

/* Called for every decoded frame, hashed or not: the frame-count, duration
 * and time limits. */
static hg_status count_frame(struct run *r)
{
	hg_video_hasher *h = r->h;
	uint64_t n = ++r->out->frames_decoded;
	if (n > h->limits.max_frames)
		return fail(h, HG_ERR_TOO_LARGE, "video has more than %llu frames",
			    (unsigned long long)h->limits.max_frames);
	if ((double)(n - 1) / r->fps > h->limits.max_seconds)
		return fail(h, HG_ERR_TOO_LARGE, "video lasts more than the %.1f s limit",
			    h->limits.max_seconds);
	if (now_seconds() - r->started > h->limits.max_decode_seconds)
		return fail(h, HG_ERR_TIMEOUT, "decoding took more than %.1f s",
			    h->limits.max_decode_seconds);
	return HG_OK;
}

/* A line of a bar: every pixel dark and the line darker still on average,
 * which is what letterbox padding looks like after lossy coding. */
static int dark_line(const uint8_t *p, size_t n, size_t step)
{
	unsigned long sum = 0;
	for (size_t i = 0; i < n; i++, p += step) {
		unsigned v = (unsigned)p[0] + p[1] + p[2];
		if (v > 3 * 64)
			return 0;
		sum += v;
	}
	return sum <= (unsigned long)n * 3 * 24;
}

/* The picture inside dark bars: 1 with its rectangle when there are bars,
 * 0 when there are none or when the frame is mostly dark (a night scene is
 * not a letterbox). `ch` is 3 or 4. */
static int find_bars(const uint8_t *px, size_t w, size_t h, size_t stride, int ch, size_t *x0,
		     size_t *y0, size_t *cw, size_t *chh)
{
	size_t c = (size_t)ch, top = 0, bottom = 0, left = 0, right = 0;
	while (top < h && dark_line(px + top * stride, w, c))
		top++;
	while (bottom < h - top && dark_line(px + (h - 1 - bottom) * stride, w, c))
		bottom++;
	size_t rows = h - top - bottom;
	while (left < w && rows && dark_line(px + top * stride + left * c, rows, stride))
		left++;
	while (right < w - left && rows &&
	       dark_line(px + top * stride + (w - 1 - right) * c, rows, stride))
		right++;
	*x0 = left;
	*y0 = top;
	*cw = w - left - right;
	*chh = rows;
	if (*cw == w && *chh == h)
		return 0;
	return *cw * 3 >= w && *chh * 3 >= h && *cw >= 5 && *chh >= 5;
}

static hg_status hash_into(struct run *r, hg_vpdq_frame *f, int64_t number, const uint8_t *px,
			   size_t w, size_t hh, size_t stride, int channels)
{
	hg_pdq_result res;
	hg_status st = hg_pdq_hash_pixels(r->h->pdq, px, w, hh, stride, channels, 0, &res);
	if (st)
		return fail(r->h, st, "frame %lld: %s", (long long)number, hg_strerror(st));
	f->hash = res.hash[0];
	f->quality = res.quality;
	f->frame_number = number;
	f->timestamp = (double)((float)number / (float)r->fps);
	return HG_OK;
}

/* Hashes packed pixels as frame `number` and appends the feature (and with
 * HG_VPDQ_CROP_BARS, the feature of the picture inside its bars). */
static hg_status add_frame(struct run *r, int64_t number, const uint8_t *px, size_t w, size_t hh,
			   size_t stride, int channels)
{
	hg_video_hasher *h = r->h;
	hg_vpdq *out = r->out;
	if (out->count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		hg_vpdq_frame *f = realloc(out->frames, cap * sizeof *f);
		if (f)
			out->frames = f;
		if (f && r->crop) {
			f = realloc(out->cropped, cap * sizeof *f);
			if (f)
				out->cropped = f;
		}
		if (!f)
			return fail(h, HG_ERR_NOMEM, "out of memory for frame hashes");
		r->cap = cap;
	}
	hg_vpdq_frame *f = &out->frames[out->count];
	hg_status st = hash_into(r, f, number, px, w, hh, stride, channels);
	if (st || !r->crop) {
		out->count += !st;
		return st;
	}
	size_t x0, y0, cw, chh;
	hg_vpdq_frame *c = &out->cropped[out->count];
	if (find_bars(px, w, hh, stride, channels, &x0, &y0, &cw, &chh)) {
		st = hash_into(r, c, number, px + y0 * stride + x0 * (size_t)channels, cw, chh,
			       stride, channels);
		out->cropped_with_bars++;
	} else {
		*c = *f;
	}
	out->count += !st;
	return st;
}

static hg_status grow_rgb(hg_video_hasher *h, size_t bytes)
{
	if (bytes <= h->rgb_cap)
		return HG_OK;
	uint8_t *p = realloc(h->rgb, bytes);
	if (!p)
		return fail(h, HG_ERR_NOMEM, "out of memory for a %zu-byte frame", bytes);
	h->rgb = p;
	h->rgb_cap = bytes;
	return HG_OK;
}

/* ---- FFmpeg: bytes in through our own AVIO ------------------------------ */

struct source {
	const uint8_t *data; /* memory, or NULL with fd >= 0 */
	int fd;
	int64_t size, pos;
};

static int src_read(void *opaque, uint8_t *buf, int n)
{
	struct source *s = opaque;
	if (s->pos >= s->size)
		return AVERROR_EOF;
	if ((int64_t)n > s->size - s->pos)
		n = (int)(s->size - s->pos);
	if (s->data) {
		memcpy(buf, s->data + s->pos, (size_t)n);
	} else {
		ssize_t got;
		do
			got = pread(s->fd, buf, (size_t)n, (off_t)s->pos);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return AVERROR(errno);
		if (got == 0)
			return AVERROR_EOF;
		n = (int)got;
	}
	s->pos += n;
	return n;
}

static int64_t src_seek(void *opaque, int64_t offset, int whence)
{
	struct source *s = opaque;
	int64_t to;
	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE:
		return s->size;
	case SEEK_SET:
		to = offset;
		break;
	case SEEK_CUR:
		to = s->pos + offset;
		break;
	case SEEK_END:
		to = s->size + offset;
		break;
	default:
		return AVERROR(EINVAL);
	}
	if (to < 0)
		return AVERROR(EINVAL);
	s->pos = to;
	return to;
}

/* An error once every byte has been read means the file stops early. */
static hg_status broken(const struct source *src)
{
	return src->pos >= src->size ? HG_ERR_TRUNCATED : HG_ERR_CORRUPT;
}

/* ---- does the file end where its container says it does? ----------------- */

/*
 * FFmpeg's demuxers treat the end of the data as the end of the video, so a
 * cut file would hash as a shorter one. Where the container declares its own
 * length (ISO BMFF box sizes, the RIFF chunk size, the Matroska segment
 * size, the GIF trailer, whole 188-byte MPEG-TS packets), a file that stops
 * before it is HG_ERR_TRUNCATED before anything is decoded. What these
 * cannot see (a cut MPEG-TS stream at a packet boundary, a live-written
 * Matroska file of unknown size) is caught when the decoder reports a
 * damaged frame (av_drain) or the demuxer a damaged packet (av_run_once).
 */

/* Reads up to n bytes at off: the count read (short at the end), or -1. */
static ssize_t src_pread(const struct source *s, int64_t off, void *buf, size_t n)
{
	if (off < 0 || off >= s->size)
		return 0;
	if ((int64_t)n > s->size - off)
		n = (size_t)(s->size - off);
	if (s->data) {
		memcpy(buf, s->data + off, n);
		return (ssize_t)n;
	}
	ssize_t got;
	do
		got = pread(s->fd, buf, n, (off_t)off);
	while (got < 0 && errno == EINTR);
	return got;
}

static uint64_t be_read(const uint8_t *b, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

static hg_status cut_box(hg_video_hasher *h, const char *what, int64_t pos, uint64_t size,
			 int64_t file_size)
{
	return fail(h, HG_ERR_TRUNCATED,
		    "the file is cut: %s at byte %lld declares %llu bytes, the file ends %lld "
		    "bytes later",
		    what, (long long)pos, (unsigned long long)size, (long long)(file_size - pos));
}

/* ISO BMFF: every top-level box (ftyp, moov, mdat, moof...) must fit. A
 * fragmented file has a moof and an mdat (and maybe styp, sidx) per
 * fragment, each fragment at least one frame: at most 4 boxes per frame. */
static hg_status mp4_complete(hg_video_hasher *h, const struct source *src)
{
	uint64_t max_boxes = 4 * h->limits.max_frames + 64;
	int64_t pos = 0;
	for (uint64_t n = 0; pos < src->size; n++) {
		uint8_t b[16];
		char what[32];
		if (n == max_boxes)
			return fail(h, HG_ERR_TOO_LARGE, "more than %llu top-level MP4 boxes",
				    (unsigned long long)max_boxes);
		ssize_t got = src_pread(src, pos, b, sizeof b);
		if (got < 0)
			return fail(h, HG_ERR_IO, "reading the file failed: %s", strerror(errno));
		for (int i = 4; i < 8 && i < got; i++)
			if (b[i] < 0x20 || b[i] > 0x7e)
				return HG_OK; /* not a box: trailing data, the demuxer's business */
		if (got < 8)
			return fail(h, HG_ERR_TRUNCATED, "the file is cut inside an MP4 box header at byte %lld",
				    (long long)pos);
		uint64_t size = be_read(b, 4);
		if (size == 0)
			return HG_OK; /* the last box, running to the end of the file */
		if (size == 1 && got < 16)
			return fail(h, HG_ERR_TRUNCATED, "the file is cut inside an MP4 box header at byte %lld",
				    (long long)pos);
		if (size == 1)
			size = be_read(b + 8, 8);
		if (size < 8)
			return fail(h, HG_ERR_CORRUPT, "MP4 box at byte %lld has a size of %llu",
				    (long long)pos, (unsigned long long)size);
		snprintf(what, sizeof what, "the MP4 '%.4s' box", (const char *)b + 4);
		if (size > (uint64_t)(src->size - pos))
			return cut_box(h, what, pos, size, src->size);
		pos += (int64_t)size;
	}
	return HG_OK;
}

/* AVI and WebP: the RIFF chunk, and for AVI any OpenDML 'AVIX' chunks
 * after it. */
static hg_status riff_complete(hg_video_hasher *h, const struct source *src)
{
	int64_t pos = 0;
	for (int n = 0; n < 4096 && pos < src->size; n++) {
		uint8_t b[8];
		ssize_t got = src_pread(src, pos, b, sizeof b);
		if (got < 0)
			return fail(h, HG_ERR_IO, "reading the file failed: %s", strerror(errno));
		if (got < 8 || memcmp(b, "RIFF", 4))
			return HG_OK; /* not another RIFF chunk: trailing data */
		uint64_t size = (uint64_t)b[4] | (uint64_t)b[5] << 8 | (uint64_t)b[6] << 16 |
				(uint64_t)b[7] << 24;
		if (size > (uint64_t)(src->size - pos - 8))
			return cut_box(h, "the RIFF chunk", pos, size + 8, src->size);
		pos += 8 + (int64_t)(size + (size & 1));
	}
	return HG_OK;
}

/* An EBML variable-length number; *unknown when all its value bits are
 * set (Matroska's "size unknown", written by live muxers). */
static int ebml_number(const uint8_t *b, size_t len, size_t *pos, uint64_t *val, int *unknown)
{
	if (*pos >= len || b[*pos] == 0)
		return 0;
	int n = 1;
	while (!(b[*pos] & (0x80 >> (n - 1))))
		n++;
	if (*pos + (size_t)n > len)
		return 0;
	uint64_t v = b[*pos] & (0xFFu >> n);
	int ones = v == (0xFFu >> n);
	for (int i = 1; i < n; i++) {
		v = v << 8 | b[*pos + (size_t)i];
		ones = ones && b[*pos + (size_t)i] == 0xFF;
	}
	*pos += (size_t)n;
	*val = v;
	*unknown = ones;
	return 1;
}

/* Matroska/WebM: the Segment after the EBML header must fit, unless a
 * live muxer wrote it with an unknown size. */
static hg_status mkv_complete(hg_video_hasher *h, const struct source *src)
{
	uint8_t b[32];
	size_t pos = 4;
	uint64_t size;
	int unknown;
	ssize_t got = src_pread(src, 0, b, sizeof b);
	if (got < 0)
		return fail(h, HG_ERR_IO, "reading the file failed: %s", strerror(errno));
	if (!ebml_number(b, (size_t)got, &pos, &size, &unknown) || unknown ||
	    size > (uint64_t)src->size - pos)
		return fail(h, HG_ERR_TRUNCATED, "the file is cut inside the Matroska header");
	int64_t seg = (int64_t)(pos + size);
	got = src_pread(src, seg, b, 12);
	if (got < 0)
		return fail(h, HG_ERR_IO, "reading the file failed: %s", strerror(errno));
	if (got < 4 || memcmp(b, "\x18\x53\x80\x67", 4))
		return got < 4 ? fail(h, HG_ERR_TRUNCATED, "the file is cut before its Matroska segment")
			       : HG_OK; /* no segment next: the demuxer decides */
	pos = 4;
	if (!ebml_number(b, (size_t)got, &pos, &size, &unknown))
		return fail(h, HG_ERR_TRUNCATED, "the file is cut inside the Matroska segment header");
	if (!unknown && size > (uint64_t)(src->size - seg - (int64_t)pos))
		return cut_box(h, "the Matroska segment", seg, size + pos, src->size);
	return HG_OK;
}

/* HG_OK when the file is as long as its container says. */
static hg_status check_complete(hg_video_hasher *h, const struct source *src,
				hg_video_format format)
{
	uint8_t head[1024];
	ssize_t got;
	int trailer;
	switch (format) {
	case HG_VIDEO_MP4:
		return mp4_complete(h, src);
	case HG_VIDEO_AVI:
	case HG_VIDEO_WEBP:
		return riff_complete(h, src);
	case HG_VIDEO_MATROSKA:
		return mkv_complete(h, src);
	case HG_VIDEO_GIF:
		if (!src->data)
			return fail(h, HG_ERR_INTERNAL, "an animated GIF needs the bytes in memory");
		gif_walk(src->data, (size_t)src->size, 0, &trailer);
		return trailer ? HG_OK
			       : fail(h, HG_ERR_TRUNCATED, "the file is cut: the GIF has no trailer");
	case HG_VIDEO_MPEGTS:
		got = src_pread(src, 0, head, sizeof head);
		if (got < 0)
			return fail(h, HG_ERR_IO, "reading the file failed: %s", strerror(errno));
		size_t packet = mpegts_packet_size(head, (size_t)got);
		if (packet && src->size % (int64_t)packet)
			return fail(h, HG_ERR_TRUNCATED,
				    "the file is cut inside a %zu-byte MPEG-TS packet (%lld bytes)",
				    packet, (long long)src->size);
		return HG_OK;
	default:
		return HG_OK;
	}
}

/* Decoders hashgate opens; anything else is HG_ERR_UNSUPPORTED. */
static int allowed_decoder(const char *name)
{
	static const char *const names[] = {
		"h264", "hevc", "vp8", "vp9", "libvpx", "libvpx-vp9", "libdav1d", "libaom-av1",
		"av1", "mpeg4", "h263", "mpeg1video", "mpeg2video", "mjpeg", "gif", "theora",
		"msmpeg4", "msmpeg4v2", "msmpeg4v3", "wmv1", "wmv2", "wmv3", "vc1", "prores",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(name, names[i]))
			return 1;
	return 0;
}

static const char *demuxer_for(hg_video_format f)
{
	switch (f) {
	case HG_VIDEO_MP4:
		return "mov";
	case HG_VIDEO_MATROSKA:
		return "matroska";
	case HG_VIDEO_AVI:
		return "avi";
	case HG_VIDEO_MPEGTS:
		return "mpegts";
	case HG_VIDEO_GIF:
		return "gif";
	default:
		return NULL;
	}
}

struct av {
	AVFormatContext *fmt;
	AVIOContext *io;
	AVCodecContext *dec;
	struct SwsContext *sws;
	AVPacket *pkt;
	AVFrame *frame;
	int stream;
	int sws_w, sws_h, sws_fmt;
	int eof; /* the demuxer has returned its last packet */
	const struct source *src;
};

static void av_close(struct av *a)
{
	sws_freeContext(a->sws);
	av_frame_free(&a->frame);
	av_packet_free(&a->pkt);
	avcodec_free_context(&a->dec);
	avformat_close_input(&a->fmt);
	if (a->io) {
		av_freep(&a->io->buffer);
		avio_context_free(&a->io);
	}
}

static const char *av_err(int err, char *buf, size_t size)
{
	av_strerror(err, buf, size);
	return buf;
}

static hg_status av_open(struct run *r, struct source *src, hg_video_format format,
			 const hg_vpdq_options *o, struct av *a)
{
	hg_video_hasher *h = r->h;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	uint8_t *iobuf = av_malloc(AVIO_BUFFER);
	a->fmt = avformat_alloc_context();
	a->src = src;
	if (iobuf && a->fmt)
		a->io = avio_alloc_context(iobuf, AVIO_BUFFER, 0, src, src_read, NULL, src_seek);
	if (!a->io) {
		av_free(iobuf);
		return fail(h, HG_ERR_NOMEM, "out of memory opening the video");
	}
	a->fmt->pb = a->io;
	a->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	const AVInputFormat *ifmt = av_find_input_format(demuxer_for(format));
	if (!ifmt)
		return fail(h, HG_ERR_UNSUPPORTED, "FFmpeg has no %s demuxer",
			    hg_video_format_name(format));
	int err = avformat_open_input(&a->fmt, NULL, ifmt, NULL);
	if (err < 0)
		return fail(h, broken(src), "cannot read the %s container: %s", hg_video_format_name(format),
			    av_err(err, eb, sizeof eb));
	err = avformat_find_stream_info(a->fmt, NULL);
	if (err < 0)
		return fail(h, HG_ERR_CORRUPT, "cannot read the stream headers: %s",
			    av_err(err, eb, sizeof eb));
	a->stream = -1;
	for (unsigned i = 0; i < a->fmt->nb_streams; i++) {
		const AVStream *st = a->fmt->streams[i];
		if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
			a->stream = (int)i;
			break;
		}
	}
	if (a->stream < 0)
		return fail(h, HG_ERR_UNSUPPORTED, "the file has no video stream");
	AVStream *st = a->fmt->streams[a->stream];
	/* The sample table (MP4), index (AVI) or cues (Matroska) pointing past
	 * the end: a file cut between its boxes or chunks. */
	int entries = avformat_index_get_entries_count(st);
	for (int i = 0; i < entries; i++) {
		const AVIndexEntry *e = avformat_index_get_entry(st, i);
		if (e && e->pos + e->size > src->size)
			return fail(h, HG_ERR_TRUNCATED,
				    "the file is cut: frame data at byte %lld, past its end (%lld bytes)",
				    (long long)e->pos, (long long)src->size);
	}
	const AVCodecParameters *par = st->codecpar;
	const AVCodec *codec = avcodec_find_decoder(par->codec_id);
	if (!codec || !allowed_decoder(codec->name))
		return fail(h, HG_ERR_UNSUPPORTED, "video codec %s is not supported",
			    codec ? codec->name : avcodec_get_name(par->codec_id));
	r->out->codec = codec->name;
	hg_status hs = check_size(h, par->width, par->height);
	if (hs)
		return hs;
	a->dec = avcodec_alloc_context3(codec);
	a->pkt = av_packet_alloc();
	a->frame = av_frame_alloc();
	if (!a->dec || !a->pkt || !a->frame)
		return fail(h, HG_ERR_NOMEM, "out of memory opening the decoder");
	if (avcodec_parameters_to_context(a->dec, par) < 0)
		return fail(h, HG_ERR_NOMEM, "out of memory opening the decoder");
	a->dec->thread_count = o->threads > 0 ? o->threads : 1;
	a->dec->thread_type = FF_THREAD_SLICE;
	err = avcodec_open2(a->dec, codec, NULL);
	if (err < 0)
		return fail(h, HG_ERR_UNSUPPORTED, "cannot open the %s decoder: %s", codec->name,
			    av_err(err, eb, sizeof eb));
	AVRational rate = st->avg_frame_rate;
	if (rate.num == 0 || rate.den == 0)
		rate = st->r_frame_rate;
	double fps = rate.den ? (double)rate.num / (double)rate.den : 0;
	double secs = a->fmt->duration > 0 ? (double)a->fmt->duration / AV_TIME_BASE : 0;
	return start_run(r, fps, o, secs);
}

/* Converts the decoded frame to packed RGB24 and hashes it. */
static hg_status av_hash_frame(struct run *r, struct av *a, int64_t number)
{
	hg_video_hasher *h = r->h;
	AVFrame *f = a->frame;
	hg_status st = check_size(h, f->width, f->height);
	if (st)
		return st;
	if (!a->sws || f->width != a->sws_w || f->height != a->sws_h || f->format != a->sws_fmt) {
		sws_freeContext(a->sws);
		a->sws = sws_getContext(f->width, f->height, f->format, f->width, f->height,
					AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
		if (!a->sws)
			return fail(h, HG_ERR_UNSUPPORTED, "cannot convert %s frames to RGB",
				    av_get_pix_fmt_name(f->format));
		a->sws_w = f->width;
		a->sws_h = f->height;
		a->sws_fmt = f->format;
	}
	size_t stride = (size_t)f->width * 3;
	/* swscale may write a little past the last row with SIMD; pad it. */
	if ((st = grow_rgb(h, stride * (size_t)f->height + 64)))
		return st;
	uint8_t *dst[4] = {h->rgb, NULL, NULL, NULL};
	int dst_stride[4] = {(int)stride, 0, 0, 0};
	sws_scale(a->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst,
		  dst_stride);
	if (r->out->count == 0) {
		r->out->width = (size_t)f->width;
		r->out->height = (size_t)f->height;
	}
	return add_frame(r, number, h->rgb, (size_t)f->width, (size_t)f->height, stride, 3);
}

/* Drains every frame the decoder has ready. */
/* Ranks the sent packets with pts < `limit` that never came out: they
 * must have been allowed to be skipped and not be sampling points. */
static void skip_rank_dropped(struct run *r, int64_t limit, int all)
{
	struct skipper *k = &r->skip;
	size_t i = 0;
	while (i < k->n && (all || k->pts[i] < limit)) {
		if (!k->may[i] || k->ranked % r->frame_mod == 0)
			k->failed = 1;
		k->ranked++;
		r->out->frames_skipped++;
		i++;
	}
	if (i == 0)
		return;
	memmove(k->pts, k->pts + i, (k->n - i) * sizeof *k->pts);
	memmove(k->may, k->may + i, k->n - i);
	k->n -= i;
}

/* The frame number of a decoded frame with this pts in skip mode. */
static int64_t skip_number(struct run *r, int64_t pts)
{
	struct skipper *k = &r->skip;
	if (pts == AV_NOPTS_VALUE || (k->any_out && pts <= k->last_out)) {
		k->failed = 1;
		return 0;
	}
	skip_rank_dropped(r, pts, 0);
	/* A frame that may have been skipped must not be a sampling point. */
	if (k->n == 0 || k->pts[0] != pts || (k->may[0] && k->ranked % r->frame_mod == 0)) {
		k->failed = 1;
		return 0;
	}
	memmove(k->pts, k->pts + 1, (k->n - 1) * sizeof *k->pts);
	memmove(k->may, k->may + 1, k->n - 1);
	k->n--;
	k->any_out = 1;
	k->last_out = pts;
	return k->ranked++;
}

/* Records a packet about to be sent and sets the decoder's skip_frame. */
static hg_status skip_before_send(struct run *r, struct av *a, int64_t pts)
{
	struct skipper *k = &r->skip;
	if (pts == AV_NOPTS_VALUE || (k->any_out && pts <= k->last_out)) {
		k->failed = 1;
		return HG_OK;
	}
	size_t at = 0;
	while (at < k->n && k->pts[at] < pts)
		at++;
	if (at < k->n && k->pts[at] == pts) {
		k->failed = 1;
		return HG_OK;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		int64_t *p = realloc(k->pts, cap * sizeof *p);
		if (p)
			k->pts = p;
		unsigned char *m = p ? realloc(k->may, cap) : NULL;
		if (!m)
			return fail(r->h, HG_ERR_NOMEM, "out of memory");
		k->may = m;
		k->cap = cap;
	}
	/* Its frame number is at least `lo` and at most lo + the reorder delay. */
	int64_t lo = k->ranked + (int64_t)at, hi = lo + a->dec->has_b_frames + 1;
	int64_t next_sample = (lo + r->frame_mod - 1) / r->frame_mod * r->frame_mod;
	int may = next_sample > hi;
	memmove(k->pts + at + 1, k->pts + at, (k->n - at) * sizeof *k->pts);
	memmove(k->may + at + 1, k->may + at, k->n - at);
	k->pts[at] = pts;
	k->may[at] = (unsigned char)may;
	k->n++;
	a->dec->skip_frame = may ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
	return HG_OK;
}

static hg_status av_drain(struct run *r, struct av *a)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	for (;;) {
		int err = avcodec_receive_frame(a->dec, a->frame);
		if (err == AVERROR(EAGAIN) || err == AVERROR_EOF)
			return HG_OK;
		if (err < 0)
			return fail(r->h, HG_ERR_CORRUPT, "decoding frame %llu failed: %s",
				    (unsigned long long)r->out->frames_decoded,
				    av_err(err, eb, sizeof eb));
		/* The decoder concealed missing or broken data (FFmpeg outputs such
		 * frames by default); hashing the patched picture would give a
		 * hash of a video that does not exist. */
		if (a->frame->decode_error_flags || (a->frame->flags & AV_FRAME_FLAG_CORRUPT)) {
			av_frame_unref(a->frame);
			hg_status st = a->eof ? HG_ERR_TRUNCATED : broken(a->src);
			return fail(r->h, st, "frame %llu is damaged (the decoder had to conceal errors)%s",
				    (unsigned long long)r->out->frames_decoded,
				    st == HG_ERR_TRUNCATED ? " at the end of the data: the file is cut" : "");
		}
		int64_t number = (int64_t)r->out->frames_decoded;
		if (r->skip.on) {
			number = skip_number(r, a->frame->pts);
			if (r->skip.failed) {
				av_frame_unref(a->frame);
				return HG_ERR_INTERNAL; /* av_run decodes again */
			}
			r->out->frames_decoded = (uint64_t)number;
		}
		hg_status st = count_frame(r);
		if (!st && number % r->frame_mod == 0)
			st = av_hash_frame(r, a, number);
		av_frame_unref(a->frame);
		if (st)
			return st;
	}
}

static hg_status av_run_once(struct run *r, struct source *src, hg_video_format format,
			     const hg_vpdq_options *o)
{
	struct av a = {0};
	char eb[AV_ERROR_MAX_STRING_SIZE];
	hg_status st = av_open(r, src, format, o, &a);
	int err = 0;
	while (!st) {
		err = av_read_frame(a.fmt, a.pkt);
		if (err < 0)
			break;
		/* A packet shorter than the container promised, or failing its
		 * checks (MPEG-TS continuity, for one). */
		if (a.pkt->stream_index == a.stream && (a.pkt->flags & AV_PKT_FLAG_CORRUPT))
			st = fail(r->h, broken(src),
				  "the %s demuxer marks the packet after frame %llu as damaged",
				  hg_video_format_name(format),
				  (unsigned long long)r->out->frames_decoded);
		/* Packets that never make a frame still cost time. */
		if (now_seconds() - r->started > r->h->limits.max_decode_seconds)
			st = fail(r->h, HG_ERR_TIMEOUT, "decoding took more than %.1f s",
				  r->h->limits.max_decode_seconds);
		if (!st && a.pkt->stream_index == a.stream && r->skip.on)
			st = skip_before_send(r, &a, a.pkt->pts);
		if (r->skip.failed)
			st = HG_ERR_INTERNAL;
		if (!st && a.pkt->stream_index == a.stream) {
			int sent = avcodec_send_packet(a.dec, a.pkt);
			if (sent < 0)
				st = fail(r->h, broken(src),
					  "the decoder rejected the packet after frame %llu: %s",
					  (unsigned long long)r->out->frames_decoded,
					  av_err(sent, eb, sizeof eb));
			else
				st = av_drain(r, &a);
		}
		av_packet_unref(a.pkt);
	}
	if (!st && err != AVERROR_EOF)
		st = fail(r->h, broken(src), "reading the %s container failed after frame %llu: %s",
			  hg_video_format_name(format), (unsigned long long)r->out->frames_decoded,
			  av_err(err, eb, sizeof eb));
	a.eof = 1;
	if (!st && avcodec_send_packet(a.dec, NULL) >= 0)
		st = av_drain(r, &a);
	if (!st && r->skip.on) {
		skip_rank_dropped(r, 0, 1);
		r->out->frames_decoded = (uint64_t)r->skip.ranked;
		if (r->skip.failed)
			st = HG_ERR_INTERNAL;
	}
	if (!st && a.io && a.io->error < 0)
		st = fail(r->h, HG_ERR_IO, "reading the file failed: %s",
			  av_err(a.io->error, eb, sizeof eb));
	av_close(&a);
	return st;
}

/* Decodes once, in skip mode if asked; if skip mode's checks fail, decodes
 * again from the start without it. */
static hg_status av_run(struct run *r, struct source *src, hg_video_format format,
			const hg_vpdq_options *o)
{
	r->skip.on = (o->flags & HG_VPDQ_SKIP_NONREF) != 0;
	hg_status st = av_run_once(r, src, format, o);
	int retry = r->skip.on && r->skip.failed;
	free(r->skip.pts);
	free(r->skip.may);
	memset(&r->skip, 0, sizeof r->skip);
	if (!retry)
		return st;
	hg_vpdq_release(r->out);
	r->cap = 0;
	r->h->errmsg[0] = '\0';
	src->pos = 0;
	r->out->format = format;
	return av_run_once(r, src, format, o);
}

/* ---- animated WebP through libwebp ---------------------------------------- */

static hg_status webp_run(struct run *r, const uint8_t *data, size_t len,
			  const hg_vpdq_options *o)
{
	hg_video_hasher *h = r->h;
	WebPData wd = {data, len};
	WebPAnimDecoderOptions opt;
	if (!WebPAnimDecoderOptionsInit(&opt))
		return fail(h, HG_ERR_INTERNAL, "libwebp version mismatch");
	opt.color_mode = MODE_RGBA;
	opt.use_threads = 0;
	WebPAnimDecoder *dec = WebPAnimDecoderNew(&wd, &opt);
	if (!dec)
		return fail(h, HG_ERR_CORRUPT, "cannot read the animated WebP");
	WebPAnimInfo info;
	hg_status st = HG_OK;
	if (!WebPAnimDecoderGetInfo(dec, &info))
		st = fail(h, HG_ERR_CORRUPT, "cannot read the animated WebP header");
	if (!st)
		st = check_size(h, info.canvas_width, info.canvas_height);
	if (!st && (uint64_t)info.frame_count > h->limits.max_frames)
		st = fail(h, HG_ERR_TOO_LARGE, "animation has %u frames, over the %llu limit",
			  info.frame_count, (unsigned long long)h->limits.max_frames);
	/* The duration is only known from the frames' timestamps: sum them
	 * first from the demuxer, which does not decode pixels. */
	WebPDemuxer *dmx = st ? NULL : WebPDemux(&wd);
	int64_t total_ms = 0;
	if (!st && !dmx)
		st = fail(h, HG_ERR_CORRUPT, "cannot read the animated WebP frames");
	if (dmx) {
		WebPIterator it;
		if (WebPDemuxGetFrame(dmx, 1, &it)) {
			do
				total_ms += it.duration;
			while (WebPDemuxNextFrame(&it));
			WebPDemuxReleaseIterator(&it);
		}
		WebPDemuxDelete(dmx);
	}
	/* Frames shown for 0 ms count as 100 ms, as browsers do. */
	double secs = total_ms > 0 ? (double)total_ms / 1000.0 : info.frame_count * 0.1;
	if (!st)
		st = start_run(r, info.frame_count / secs, o, secs);
	if (!st) {
		r->out->width = info.canvas_width;
		r->out->height = info.canvas_height;
		r->out->codec = "libwebp";
	}
	while (!st && WebPAnimDecoderHasMoreFrames(dec)) {
		uint8_t *px;
		int ts;
		if (!WebPAnimDecoderGetNext(dec, &px, &ts)) {
			st = fail(h, HG_ERR_CORRUPT, "animated WebP frame %llu is damaged",
				  (unsigned long long)r->out->frames_decoded);
			break;
		}
		int64_t number = (int64_t)r->out->frames_decoded;
		st = count_frame(r);
		if (!st && number % r->frame_mod == 0)
			st = add_frame(r, number, px, info.canvas_width, info.canvas_height,
				       (size_t)info.canvas_width * 4, 4);
	}
	WebPAnimDecoderDelete(dec);
	return st;
}

/* ---- entry points ------------------------------------------------------------ */

static hg_status run_source(hg_video_hasher *h, struct source *src, const uint8_t *head,
			    size_t head_len, const hg_vpdq_options *opts, hg_vpdq *out)
{
	hg_vpdq_options o;
	hg_vpdq_options_default(&o);
	if (opts)
		o = *opts;
	if (!(o.seconds_per_hash >= 0) || !isfinite(o.seconds_per_hash))
		return fail(h, HG_ERR_INVALID_ARG, "seconds per hash must be >= 0");
	if (o.flags & ~(unsigned)(HG_VPDQ_SKIP_NONREF | HG_VPDQ_CROP_BARS))
		return fail(h, HG_ERR_INVALID_ARG, "unknown vPDQ flags");
	if (src->size == 0)
		return fail(h, HG_ERR_EMPTY, "empty input");
	if ((uint64_t)src->size > h->limits.max_bytes)
		return fail(h, HG_ERR_TOO_LARGE, "%lld bytes, over the %llu-byte limit",
			    (long long)src->size, (unsigned long long)h->limits.max_bytes);
	hg_video_format format = hg_video_sniff(head, head_len);
	if (format == HG_VIDEO_NONE)
		return fail(h, HG_ERR_UNKNOWN_FORMAT, "not a video format hashgate decodes");
	struct run r = {.h = h, .out = out, .started = now_seconds(),
			.crop = (o.flags & HG_VPDQ_CROP_BARS) != 0};
	out->format = format;
	hg_status st = check_complete(h, src, format);
	if (st)
		return st;
	if (format == HG_VIDEO_WEBP) {
		if (!src->data)
			return fail(h, HG_ERR_INTERNAL, "animated WebP needs the bytes in memory");
		st = webp_run(&r, src->data, (size_t)src->size, &o);
	} else {
		st = av_run(&r, src, format, &o);
	}
	if (!st && out->frames_decoded == 0)
		st = fail(h, HG_ERR_CORRUPT, "no frame could be decoded");
	if (st)
		hg_vpdq_release(out);
	return st;
}

/* What every entry point does first: zero the result, clear the message. */
static hg_status begin(hg_video_hasher *h, hg_vpdq *out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	memset(out, 0, sizeof *out);
	if (!h)
		return HG_ERR_INVALID_ARG;
	h->errmsg[0] = '\0';
	return HG_OK;
}

hg_status hg_vpdq_hash_bytes(hg_video_hasher *h, const void *data, size_t len,
			     const hg_vpdq_options *opts, hg_vpdq *out)
{
	hg_status st = begin(h, out);
	if (st)
		return st;
	if (!data && len)
		return fail(h, HG_ERR_INVALID_ARG, "NULL data");
	if (len > INT64_MAX)
		return fail(h, HG_ERR_TOO_LARGE, "input too large");
	struct source src = {data, -1, (int64_t)len, 0};
	return run_source(h, &src, data, len, opts, out);
}

hg_status hg_vpdq_hash_file(hg_video_hasher *h, const char *path, const hg_vpdq_options *opts,
			    hg_vpdq *out)
{
	hg_status st = begin(h, out);
	if (st)
		return st;
	if (!path || !strcmp(path, "-"))
		return fail(h, HG_ERR_INVALID_ARG, "a video must be a named file");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(h, HG_ERR_IO, "%s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) != 0)
		st = fail(h, HG_ERR_IO, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		st = fail(h, HG_ERR_IO, "%s: not a regular file", path);
	if (st) {
		close(fd);
		return st;
	}
	struct source src = {NULL, fd, (int64_t)sb.st_size, 0};
	/* GIF and WebP need the whole file to be sniffed and decoded; the
	 * others only the first bytes. Both are small by nature but still
	 * bounded by max_bytes. */
	uint8_t head[1024];
	ssize_t got = pread(fd, head, sizeof head, 0);
	if (got < 0) {
		st = fail(h, HG_ERR_IO, "%s: %s", path, strerror(errno));
	} else if ((got >= 6 && !memcmp(head, "GIF", 3)) ||
		   (got >= 12 && !memcmp(head, "RIFF", 4) && !memcmp(head + 8, "WEBP", 4))) {
		uint8_t *all = NULL;
		if ((uint64_t)sb.st_size > h->limits.max_bytes)
			st = fail(h, HG_ERR_TOO_LARGE, "%s: over the %llu-byte limit", path,
				  (unsigned long long)h->limits.max_bytes);
		else if (!(all = malloc((size_t)sb.st_size + 1)))
			st = fail(h, HG_ERR_NOMEM, "out of memory reading %s", path);
		else if (pread(fd, all, (size_t)sb.st_size, 0) != (ssize_t)sb.st_size)
			st = fail(h, HG_ERR_IO, "%s: short read", path);
		if (!st)
			st = hg_vpdq_hash_bytes(h, all, (size_t)sb.st_size, opts, out);
		free(all);
	} else {
		st = run_source(h, &src, head, (size_t)got, opts, out);
	}
	close(fd);
	return st;
}
