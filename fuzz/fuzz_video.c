/*
 * fuzz_video.c — libFuzzer target for video decoding and vPDQ hashing
 * (hg_vpdq_hash_bytes): every container and decoder hashgate enables, under
 * small limits so one input stays cheap. The first byte's low bits pick the
 * sampling (every frame or -r 1) and the flags (skip mode, bar cropping).
 * A success must hash frame 0 and give increasing frame numbers; a failure
 * must say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashgate/video.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static hg_video_hasher *vh;
	if (!vh) {
		hg_video_limits l;
		hg_video_limits_default(&l);
		l.max_bytes = 1 << 20;
		l.max_frames = 64;
		l.max_pixels = 512 * 512;
		l.max_side = 1024;
		l.max_seconds = 600;
		l.max_decode_seconds = 10;
		if (hg_video_hasher_new(&l, &vh))
			abort();
	}
	if (size < 1)
		return 0;
	hg_vpdq_options o;
	hg_vpdq_options_default(&o);
	o.seconds_per_hash = (data[0] & 1) ? 0 : 1;
	o.flags = (data[0] & 2 ? HG_VPDQ_SKIP_NONREF : 0) | (data[0] & 4 ? HG_VPDQ_CROP_BARS : 0);
	/* The seeds start with the file; byte 0 is both a flag and the file's. */
	hg_vpdq v;
	hg_status st = hg_vpdq_hash_bytes(vh, data, size, &o, &v);
	if (st) {
		if (!hg_video_hasher_errmsg(vh)[0] || v.frames || v.count)
			abort();
		return 0;
	}
	if (v.count < 1 || v.frames[0].frame_number != 0 || v.frames_decoded < v.count)
		abort();
	for (size_t i = 1; i < v.count; i++)
		if (v.frames[i].frame_number <= v.frames[i - 1].frame_number)
			abort();
	if ((o.flags & HG_VPDQ_CROP_BARS) && !v.cropped)
		abort();
	hg_vpdq_release(&v);
	return 0;
}
