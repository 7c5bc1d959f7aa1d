/*
 * test_vpdq_conformance.c — vPDQ against Meta's expected hashes for the
 * sample videos (../shared/data/vpdq-reference).
 *
 * For every shipped video: the number of decoded frames equals the line
 * count of Meta's every-frame file; the hashed frames' numbers and %.3f
 * timestamps are exactly Meta's; every frame where both sides have quality
 * >= 50 is within distance 31 (the reference's own regression criterion is
 * < 31, also counted). Prints mean and maximum bit distances. Hashes built
 * here with the reference on this FFmpeg (generated/ffmpeg5.1-debian12) are
 * compared too and the exact-match count printed; exactness is not asserted
 * because swscale's SIMD paths depend on the CPU.
 *
 * Runs at -r 1 (the default) to keep the suite fast; HG_VPDQ_FULL=1 hashes
 * every frame (-r 0) instead.
 */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "hashgate/video.h"

static const char *const videos[] = {
	"chair-19-sd-bar", "chair-22-with-small-logo-bar", "chair-orig-22-sd-bar",
	"doorknob-hd-no-bar", "pattern-hd-no-bar", "pattern-longer-no-bar",
	"pattern-sd-grey-bar", "pattern-sd-with-large-logo-bar",
	"pattern-sd-with-small-logo-bar", "test-padded-dimensions",
};

static uint64_t skipped_total;

struct stats {
	size_t frames, good, exact_generated, within_regtest;
	double sum_all, sum_good;
	int max_all, max_good;
};

static int read_list(const char *path, hg_vpdq_list *l)
{
	memset(l, 0, sizeof *l);
	size_t bad;
	hg_status st = hg_vpdq_list_read(path, 1000000, l, &bad);
	if (st || l->count != 1) {
		fprintf(stderr, "%s: status %d, %zu videos, bad line %zu\n", path, st, l->count, bad);
		return 0;
	}
	return 1;
}

/* The frame of `l` with this number, or NULL. Frames are in order. */
static const hg_vpdq_frame *find(const hg_vpdq_list *l, int64_t number)
{
	const hg_vpdq_video *v = &l->videos[0];
	if (number >= 0 && (size_t)number < v->count && v->frames[number].frame_number == number)
		return &v->frames[number];
	for (size_t i = 0; i < v->count; i++)
		if (v->frames[i].frame_number == number)
			return &v->frames[i];
	return NULL;
}

static void check_video(const char *dir, const char *name, hg_video_hasher *vh, double sph,
			struct stats *total)
{
	char path[1024], want_path[1024], gen_path[1024];
	snprintf(path, sizeof path, "%s/vpdq-reference/tmk/sample-videos/%s.mp4", dir, name);
	snprintf(want_path, sizeof want_path, "%s/vpdq-reference/vpdq/sample-hashes/%s.txt", dir,
		 name);
	snprintf(gen_path, sizeof gen_path,
		 "%s/vpdq-reference/generated/ffmpeg5.1-debian12/every-frame/%s.txt", dir, name);
	hg_vpdq_options o;
	hg_vpdq_options_default(&o);
	o.seconds_per_hash = sph;
	hg_vpdq got;
	hg_status st = hg_vpdq_hash_file(vh, path, &o, &got);
	CHECK_INT(st, HG_OK);
	if (st) {
		fprintf(stderr, "%s: %s\n", name, hg_video_hasher_errmsg(vh));
		return;
	}
	hg_vpdq_list want, gen;
	int ok = read_list(want_path, &want);
	int gen_ok = read_list(gen_path, &gen);
	CHECK(ok && gen_ok);
	if (!ok || !gen_ok)
		goto out;
	CHECK_INT(got.frames_decoded, want.videos[0].count);
	int mod = (int)(sph * got.fps);
	if (mod < 1)
		mod = 1;
	size_t expected = 0;
	for (size_t i = 0; i < want.videos[0].count; i++)
		expected += want.videos[0].frames[i].frame_number % mod == 0;
	CHECK_INT(got.count, expected);
	/* Skipping non-reference frames never changes the output. */
	hg_vpdq sk;
	o.flags = HG_VPDQ_SKIP_NONREF;
	CHECK_INT(hg_vpdq_hash_file(vh, path, &o, &sk), HG_OK);
	CHECK_INT(sk.count, got.count);
	CHECK_INT(sk.frames_decoded, got.frames_decoded);
	for (size_t i = 0; i < got.count && i < sk.count; i++) {
		CHECK_INT(sk.frames[i].frame_number, got.frames[i].frame_number);
		CHECK_INT(sk.frames[i].quality, got.frames[i].quality);
		CHECK(!memcmp(&sk.frames[i].hash, &got.frames[i].hash, sizeof(hg_pdq)));
	}
	skipped_total += sk.frames_skipped;
	hg_vpdq_release(&sk);
	struct stats s = {0};
	for (size_t i = 0; i < got.count; i++) {
		const hg_vpdq_frame *g = &got.frames[i];
		const hg_vpdq_frame *w = find(&want, g->frame_number);
		const hg_vpdq_frame *r = find(&gen, g->frame_number);
		CHECK(w != NULL && r != NULL);
		if (!w || !r)
			continue;
		CHECK_INT(g->frame_number % mod, 0);
		char tg[32], tw[32];
		snprintf(tg, sizeof tg, "%.3f", g->timestamp);
		snprintf(tw, sizeof tw, "%.3f", w->timestamp);
		CHECK_STR(tg, tw);
		int d = hg_pdq_distance(&g->hash, &w->hash);
		s.frames++;
		s.sum_all += d;
		s.max_all = d > s.max_all ? d : s.max_all;
		s.exact_generated += !memcmp(&g->hash, &r->hash, sizeof g->hash) &&
				     g->quality == r->quality;
		if (g->quality >= 50 && w->quality >= 50) {
			s.good++;
			s.sum_good += d;
			s.max_good = d > s.max_good ? d : s.max_good;
			s.within_regtest += d < 31;
			CHECK(d <= 31);
		}
	}
	printf("%-32s %4zu hashed of %5llu  q>=50: %4zu  mean %5.2f max %2d bits (all: mean "
	       "%5.2f max %2d)  regtest d<31: %zu/%zu  exact vs this-FFmpeg reference: %zu/%zu\n",
	       name, got.count, (unsigned long long)got.frames_decoded, s.good,
	       s.good ? s.sum_good / s.good : 0, s.max_good, s.frames ? s.sum_all / s.frames : 0,
	       s.max_all, s.within_regtest, s.good, s.exact_generated, s.frames);
	total->frames += s.frames;
	total->good += s.good;
	total->sum_all += s.sum_all;
	total->sum_good += s.sum_good;
	total->exact_generated += s.exact_generated;
	total->within_regtest += s.within_regtest;
	total->max_all = s.max_all > total->max_all ? s.max_all : total->max_all;
	total->max_good = s.max_good > total->max_good ? s.max_good : total->max_good;
out:
	hg_vpdq_list_release(&want);
	hg_vpdq_list_release(&gen);
	hg_vpdq_release(&got);
}

/* The in-memory path gives exactly what the file path gives. */
static void check_bytes_path(const char *dir, hg_video_hasher *vh)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/vpdq-reference/tmk/sample-videos/test-padded-dimensions.mp4",
		 dir);
	size_t len = 0;
	unsigned char *buf = hgt_read_file(path, &len);
	CHECK(buf != NULL);
	if (!buf)
		return;
	hg_vpdq a, b;
	CHECK_INT(hg_vpdq_hash_bytes(vh, buf, len, NULL, &a), HG_OK);
	CHECK_INT(hg_vpdq_hash_file(vh, path, NULL, &b), HG_OK);
	CHECK_INT(a.count, b.count);
	CHECK(a.count == b.count && a.count > 0);
	for (size_t i = 0; i < a.count && i < b.count; i++) {
		CHECK(!memcmp(&a.frames[i].hash, &b.frames[i].hash, sizeof a.frames[i].hash));
		CHECK_INT(a.frames[i].quality, b.frames[i].quality);
		CHECK_INT(a.frames[i].frame_number, b.frames[i].frame_number);
	}
	CHECK_INT(a.format, HG_VIDEO_MP4);
	CHECK_STR(a.codec, "h264");
	hg_vpdq_release(&a);
	hg_vpdq_release(&b);
	free(buf);
}

int main(void)
{
	const char *dir = hgt_shared_data();
	if (!dir)
		return 77;
	const char *full = getenv("HG_VPDQ_FULL");
	double sph = full && *full == '1' ? 0.0 : 1.0;
	hg_video_hasher *vh = NULL;
	CHECK_INT(hg_video_hasher_new(NULL, &vh), HG_OK);
	struct stats total = {0};
	for (size_t i = 0; i < sizeof videos / sizeof videos[0]; i++)
		check_video(dir, videos[i], vh, sph, &total);
	printf("all %zu videos at -r %g: %zu frames, %zu with q>=50: mean %.3f max %d bits "
	       "(all frames: mean %.3f max %d); regtest d<31 %zu/%zu; exact vs this-FFmpeg "
	       "reference %zu/%zu\n",
	       sizeof videos / sizeof videos[0], sph, total.frames, total.good,
	       total.good ? total.sum_good / total.good : 0, total.max_good,
	       total.frames ? total.sum_all / total.frames : 0, total.max_all,
	       total.within_regtest, total.good, total.exact_generated, total.frames);
	printf("with HG_VPDQ_SKIP_NONREF: identical output, %llu frames not decoded\n",
	       (unsigned long long)skipped_total);
	CHECK(total.frames > 100);
	check_bytes_path(dir, vh);
	hg_video_hasher_free(vh);
	return hgt_finish("test_vpdq_conformance");
}
