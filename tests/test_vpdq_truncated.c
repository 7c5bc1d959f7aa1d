/*
 * test_vpdq_truncated.c — videos cut short: every seed clip of
 * fuzz/corpus/video (each container and codec hashgate decodes) is cut at
 * many offsets and hashed from memory and, for some cuts, from a file.
 *
 * The policy (docs/video.md, "Cut and damaged files"): a container that
 * declares its length (MP4/MOV boxes, AVI and WebP RIFF sizes, a Matroska
 * segment of known size, the GIF trailer) gives HG_ERR_TRUNCATED for any
 * cut; the streamable layouts with no declared end (MPEG-TS cut at a packet
 * boundary, fragmented MP4 cut between boxes, Matroska written live) may
 * instead decode, but then only as an identical prefix of the whole video.
 * A failure leaves no frames and says why. Never a crash or a hang.
 */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "hashgate/video.h"

enum cut_rule {
	DECLARED,    /* every cut is HG_ERR_TRUNCATED */
	TS_PACKETS,  /* a cut at a 188-byte boundary may be a prefix */
	MP4_BOXES,   /* a cut between top-level boxes may be a prefix */
	LIVE,        /* Matroska of unknown size: any cut may be a prefix */
};

static const struct {
	const char *name;
	enum cut_rule rule;
} seeds[] = {
	{"seed-h264.mp4", DECLARED},       {"seed-h264-bframes.mp4", DECLARED},
	{"seed-h264.mov", DECLARED},       {"seed-hevc.mp4", DECLARED},
	{"seed-vp8.webm", DECLARED},       {"seed-vp9.mkv", DECLARED},
	{"seed-mpeg4.avi", DECLARED},      {"seed-anim.gif", DECLARED},
	{"seed-anim.webp", DECLARED},      {"seed-h264.ts", TS_PACKETS},
	{"seed-h264-frag.mp4", MP4_BOXES}, {"seed-vp8-live.webm", LIVE},
};

struct tally {
	size_t cuts, sniffed, truncated, prefixes;
};

/* 1 when `cut` is where a top-level box of the (whole, valid) MP4 ends. */
static int box_boundary(const unsigned char *b, size_t len, size_t cut)
{
	size_t pos = 0;
	while (pos + 8 <= len && pos < cut) {
		size_t size = (size_t)b[pos] << 24 | (size_t)b[pos + 1] << 16 |
			      (size_t)b[pos + 2] << 8 | b[pos + 3];
		if (size < 8)
			return 0;
		pos += size;
	}
	return pos == cut;
}

static int clean_cut(enum cut_rule rule, const unsigned char *b, size_t len, size_t cut)
{
	switch (rule) {
	case TS_PACKETS:
		return cut % 188 == 0;
	case MP4_BOXES:
		return box_boundary(b, len, cut);
	case LIVE:
		return 1;
	default:
		return 0;
	}
}

/* Frames of `v` are the first frames of `full`, field for field. */
static int is_prefix(const hg_vpdq *v, const hg_vpdq *full)
{
	if (v->count > full->count || v->fps != full->fps)
		return 0;
	for (size_t i = 0; i < v->count; i++) {
		const hg_vpdq_frame *a = &v->frames[i], *b = &full->frames[i];
		if (memcmp(&a->hash, &b->hash, sizeof a->hash) || a->quality != b->quality ||
		    a->frame_number != b->frame_number || a->timestamp != b->timestamp)
			return 0;
	}
	return 1;
}

/* Hashes the file cut to `cut` bytes through the file path: the same
 * status and frame count as from memory. */
static void check_file_path(hg_video_hasher *vh, const unsigned char *b, size_t cut,
			    const hg_vpdq_options *o, hg_status want, size_t want_count)
{
	char path[] = "/tmp/hg_vpdq_cut_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, b, cut) == (ssize_t)cut);
	close(fd);
	hg_vpdq v;
	CHECK_INT(hg_vpdq_hash_file(vh, path, o, &v), want);
	CHECK_INT(v.count, want_count);
	hg_vpdq_release(&v);
	unlink(path);
}

static void try_cut(hg_video_hasher *vh, const char *name, enum cut_rule rule,
		    const unsigned char *b, size_t len, size_t cut, const hg_vpdq *full,
		    struct tally *t)
{
	hg_vpdq_options o;
	hg_vpdq_options_default(&o);
	o.seconds_per_hash = 0;
	hg_vpdq v;
	hg_status st = hg_vpdq_hash_bytes(vh, b, cut, &o, &v);
	t->cuts++;
	if (st) {
		t->truncated += st == HG_ERR_TRUNCATED;
		CHECK(v.frames == NULL && v.count == 0 && hg_video_hasher_errmsg(vh)[0]);
		int sniffed = hg_video_sniff(b, cut) != HG_VIDEO_NONE;
		t->sniffed += sniffed;
		if (rule == DECLARED && sniffed && st != HG_ERR_TRUNCATED)
			fprintf(stderr, "%s cut at %zu: %s: %s\n", name, cut, hg_strerror(st),
				hg_video_hasher_errmsg(vh));
		CHECK(rule != DECLARED || !sniffed || st == HG_ERR_TRUNCATED);
		CHECK(st == HG_ERR_TRUNCATED || st == HG_ERR_CORRUPT ||
		      (st == HG_ERR_UNKNOWN_FORMAT && !sniffed));
	} else {
		t->sniffed++;
		t->prefixes++;
		int ok = clean_cut(rule, b, len, cut) && is_prefix(&v, full);
		if (!ok)
			fprintf(stderr, "%s cut at %zu of %zu: decoded %zu frames, not a clean prefix\n",
				name, cut, len, v.count);
		CHECK(ok);
	}
	if (cut % 8 == 0)
		check_file_path(vh, b, cut, &o, st, v.count);
	hg_vpdq_release(&v);
}

int main(void)
{
	const char *src = getenv("HG_SOURCE_DIR");
	hg_video_hasher *vh = NULL;
	CHECK_INT(hg_video_hasher_new(NULL, &vh), HG_OK);
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		char path[1024];
		size_t len;
		snprintf(path, sizeof path, "%s/fuzz/corpus/video/%s", src ? src : "..",
			 seeds[i].name);
		unsigned char *b = hgt_read_file(path, &len);
		CHECK(b != NULL);
		if (!b)
			continue;
		hg_vpdq_options o;
		hg_vpdq_options_default(&o);
		o.seconds_per_hash = 0;
		hg_vpdq full;
		CHECK_INT(hg_vpdq_hash_bytes(vh, b, len, &o, &full), HG_OK);
		CHECK(full.count >= 2);
		/* ~150 offsets spread over the file, every one of the last 48
		 * bytes, and each clean boundary of the streamable layouts. */
		struct tally t = {0};
		size_t step = len / 150 + 1;
		for (size_t cut = 1; cut < len; cut++)
			if (cut % step == 0 || cut + 48 >= len ||
			    (seeds[i].rule != DECLARED && seeds[i].rule != LIVE &&
			     clean_cut(seeds[i].rule, b, len, cut)))
				try_cut(vh, seeds[i].name, seeds[i].rule, b, len, cut, &full, &t);
		printf("%-22s %5zu bytes, %zu frames: %zu cuts, %zu truncated, %zu clean prefixes\n",
		       seeds[i].name, len, full.count, t.cuts, t.truncated, t.prefixes);
		/* The rules are exercised: most cuts reach the container checks,
		 * and the streamable layouts do keep a stopped recording. */
		CHECK(t.sniffed > 40 && t.truncated > 20);
		CHECK(seeds[i].rule == DECLARED ? t.truncated == t.sniffed : t.prefixes > 0);
		hg_vpdq_release(&full);
		free(b);
	}
	hg_video_hasher_free(vh);
	return hgt_finish("test_vpdq_truncated");
}
