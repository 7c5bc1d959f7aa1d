/*
 * routes.c — the /v1 API as a table {method, path, metrics name, permission,
 * body kind, handler}, and the handlers. Handlers trust what http.c checked
 * (key, role, rate limit, body size and type) and check the rest: JSON
 * shape, hex, names. Tenancy is enforced below them: every bank call takes
 * the caller's tenant, so another tenant's bank is "not found" (404), never
 * "forbidden".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashgate/bank.h"
#include "service/http.h"

/* ---- health and metrics -------------------------------------------------- */

static void h_healthz(struct hg_req *r)
{
	hg_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void h_readyz(struct hg_req *r)
{
	hg_server *s = r->srv;
	if (!atomic_load(&s->ready) || !s->banks) {
		hg_reply_error(r, 503, "not_ready",
			       atomic_load(&s->draining) ? "shutting down" : "the index is loading");
		return;
	}
	hg_reply_json(r, 200, json_pack("{s:s,s:I}", "status", "ready", "index_entries",
					(json_int_t)hg_banks_indexed(s->banks)));
}

static void h_metrics(struct hg_req *r)
{
	hg_server *s = r->srv;
	long queued = 0, failures = 0;
	hg_journal_stats(s->journal, &queued, &failures);
	char g[2048];
	snprintf(g, sizeof g,
		 "# HELP hashgate_index_entries Entries in the in-memory index.\n"
		 "# TYPE hashgate_index_entries gauge\nhashgate_index_entries %zu\n"
		 "# HELP hashgate_ready 1 when the index is loaded and the gate is serving.\n"
		 "# TYPE hashgate_ready gauge\nhashgate_ready %d\n"
		 "# HELP hashgate_connections Open HTTP connections.\n"
		 "# TYPE hashgate_connections gauge\nhashgate_connections %ld\n"
		 "# HELP hashgate_requests_in_flight Requests being received, hashed or answered.\n"
		 "# TYPE hashgate_requests_in_flight gauge\nhashgate_requests_in_flight %ld\n"
		 "# HELP hashgate_body_bytes_in_flight Request bodies held in memory.\n"
		 "# TYPE hashgate_body_bytes_in_flight gauge\nhashgate_body_bytes_in_flight %ld\n"
		 "# HELP hashgate_hash_queue_depth Uploads waiting for a hashing worker.\n"
		 "# TYPE hashgate_hash_queue_depth gauge\nhashgate_hash_queue_depth %ld\n"
		 "# HELP hashgate_journal_queue_depth Decision/audit records not yet written.\n"
		 "# TYPE hashgate_journal_queue_depth gauge\nhashgate_journal_queue_depth %ld\n"
		 "# HELP hashgate_journal_failures_total Failed journal commits (retried).\n"
		 "# TYPE hashgate_journal_failures_total counter\n"
		 "hashgate_journal_failures_total %ld\n"
		 "# HELP hashgate_uptime_seconds Seconds since start.\n"
		 "# TYPE hashgate_uptime_seconds gauge\nhashgate_uptime_seconds %.0f\n",
		 atomic_load(&s->ready) ? hg_banks_indexed(s->banks) : 0, atomic_load(&s->ready),
		 atomic_load(&s->connections), atomic_load(&s->active),
		 atomic_load(&s->inflight_bytes), hg_workers_queued(s->workers), queued, failures,
		 hg_mono_s() - s->started);
	char *text = hg_metrics_render(s->metrics, g);
	if (!text) {
		hg_reply_error(r, 500, "internal_error", "out of memory");
		return;
	}
	hg_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text);
	free(text);
}

/* ---- checks ----------------------------------------------------------------- */

/* Parses exactly 2*n hex digits into bytes; 0 or -1. */
static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (!s || strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0)
			return -1;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return 0;
}

static int nonzero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 1;
	return 0;
}

/* Frames of a video usable for matching (quality >= 50, duplicates out);
 * -1 when out of memory. */
static long usable_frames(const hg_vpdq *v)
{
	hg_pdq *tmp = malloc((v->count ? v->count : 1) * sizeof *tmp);
	if (!tmp)
		return -1;
	size_t n = hg_vpdq_usable(v->frames, v->count, HG_PDQ_MIN_QUALITY, tmp);
	free(tmp);
	return (long)n;
}

/* SHA-256 of a video's vPDQ in the reference's text form (one line per
 * frame): binds the frame hashes to the audit record without storing them
 * there. */
static void vpdq_digest(const hg_vpdq *v, char out[65])
{
	size_t cap = v->count * HG_VPDQ_LINE_MAX + 1, len = 0;
	char *text = malloc(cap);
	for (size_t i = 0; text && i < v->count; i++) {
		len += hg_vpdq_format_line(&v->frames[i], text + len, cap - len);
		text[len++] = '\n';
	}
	hg_sha256_hex(text ? text : "", text ? len : 0, out);
	free(text);
}

/* A video's frames of quality >= 50 as a stored vpdq value ("hex:quality"
 * tokens, at most HG_VPDQ_MAX_FRAMES): what a review item keeps so that
 * rejecting it can allow-list the video. NULL when none (or no memory). */
static char *vpdq_entry_value(const hg_vpdq *v)
{
	size_t n = v->count < HG_VPDQ_MAX_FRAMES ? v->count : HG_VPDQ_MAX_FRAMES;
	size_t cap = n * (HG_VPDQ_TOKEN_MAX + 1) + 1, len = 0, kept = 0;
	char *s = malloc(cap);
	for (size_t i = 0; s && i < v->count && kept < HG_VPDQ_MAX_FRAMES; i++) {
		if (v->frames[i].quality < HG_PDQ_MIN_QUALITY)
			continue;
		if (kept++)
			s[len++] = ' ';
		len += hg_vpdq_token_format(&v->frames[i], 2, s + len, cap - len);
	}
	if (s && !kept) {
		free(s);
		return NULL;
	}
	return s;
}

/* The "video" object of a response: what was decoded and hashed (for a
 * client's own vPDQ, only the frame counts). */
static json_t *video_json(const hg_vpdq *v, long usable, double seconds_per_hash)
{
	if (v->format == HG_VIDEO_NONE)
		return json_pack("{s:I,s:I}", "frames_hashed", (json_int_t)v->count,
				 "frames_usable", (json_int_t)usable);
	return json_pack("{s:s,s:s,s:I,s:I,s:f,s:I,s:I,s:I,s:f,s:I}", "format",
			 hg_video_format_name(v->format), "codec", v->codec ? v->codec : "",
			 "width", (json_int_t)v->width, "height", (json_int_t)v->height, "fps",
			 v->fps, "frames_decoded", (json_int_t)v->frames_decoded, "frames_hashed",
			 (json_int_t)v->count, "frames_usable", (json_int_t)usable,
			 "seconds_per_hash", seconds_per_hash, "frames_with_bars",
			 (json_int_t)v->cropped_with_bars);
}

/*
 * Everything after hashing, shared by uploads and hash-only checks: match,
 * decide, record (decision + audit, and a review item for a review
 * verdict), reply. `have_pdq` says whether h->pdq holds a hash; `video` is
 * the upload's vPDQ when it was a video (an animated GIF or WebP has both:
 * its first frame as an image and its vPDQ), else NULL; `video_error` says
 * why a video could not be hashed when its digests are decided on alone.
 */
static void decide(struct hg_req *r, const hg_hashes *h, int have_pdq, int nvariants,
		   const hg_vpdq *video, const char *video_error)
{
	hg_server *s = r->srv;
	int use_pdq = have_pdq && h->pdq.quality >= HG_PDQ_MIN_QUALITY;
	long usable = video ? usable_frames(video) : 0;
	if (usable < 0) {
		hg_reply_error(r, 503, "busy", "out of memory");
		return;
	}
	struct hg_match_set ms = {0};
	hg_status st = hg_banks_match(s->banks, r->who.tenant, h, use_pdq, nvariants, &ms);
	if (st == HG_OK && usable > 0) {
		struct hg_video_query q = {video->frames,
					   video->cropped_with_bars ? video->cropped : NULL,
					   video->count, s->cfg.video_query_pct,
					   s->cfg.video_target_pct};
		st = hg_banks_match_video(s->banks, r->who.tenant, &q, &ms);
	}
	if (st != HG_OK) {
		hg_match_set_free(&ms);
		hg_reply_status(r, st, hg_banks_errmsg(s->banks));
		return;
	}
	const char *verdict = hg_match_verdict(&ms);
	json_t *matches = json_array();
	for (size_t i = 0; i < ms.n; i++) {
		const struct hg_match *m = &ms.m[i];
		json_array_append_new(matches, hg_match_json(m));
		hg_metrics_match(s->metrics, r->who.tenant, m->bank, m->action);
	}
	hg_match_set_free(&ms);
	hg_metrics_verdict(s->metrics, verdict);

	char id[HG_SVC_ID_MAX], rid[HG_SVC_ID_MAX] = "";
	char pdq[HG_PDQ_HEX_LEN + 1] = "", md5[33] = "", sha1[41] = "", sha256[65] = "";
	if (hg_time_id("d_", id, sizeof id) ||
	    (!strcmp(verdict, "review") && hg_time_id("r_", rid, sizeof rid))) {
		json_decref(matches);
		hg_reply_error(r, 500, "internal_error", "no randomness for an id");
		return;
	}
	if (have_pdq)
		hg_pdq_to_hex(&h->pdq.hash[0], pdq);
	if (nonzero(h->md5, 16))
		hg_hex_encode(h->md5, 16, md5);
	if (nonzero(h->sha1, 20))
		hg_hex_encode(h->sha1, 20, sha1);
	if (nonzero(h->sha256, 32))
		hg_hex_encode(h->sha256, 32, sha256);
	char *mjson = json_dumps(matches, JSON_COMPACT);
	struct hg_journal_item it = {
		.decision = {.id = id, .tenant = r->who.tenant, .key_id = r->who.key_id,
			     .verdict = verdict, .ts = hg_now_ms(), .pdq = *pdq ? pdq : NULL,
			     .quality = have_pdq ? h->pdq.quality : -1, .md5 = *md5 ? md5 : NULL,
			     .sha1 = *sha1 ? sha1 : NULL, .sha256 = *sha256 ? sha256 : NULL,
			     .matches = mjson ? mjson : "[]"},
		.review_id = *rid ? rid : NULL,
		.actor = r->who.key_id, .tenant = r->who.tenant, .action = "check", .object = id,
	};
	/* The audit record names the decision and binds its content by digest;
	 * the hashes themselves live in the decision row (pruned by retention). */
	char canon[1024], digest[65], detail[512], vdigest[65] = "", vdetail[160] = "";
	if (video) {
		/* A video's frame hashes are bound to the record by their digest. */
		vpdq_digest(video, vdigest);
		snprintf(vdetail, sizeof vdetail, ",\"video\":{\"frames\":%zu,\"usable\":%ld,"
			 "\"vpdq_sha256\":\"%s\"}", video->count, usable, vdigest);
	}
	snprintf(canon, sizeof canon, "%s|%s|%s|%s|%d|%s|%s|%s|%s%s%s", id, verdict, r->who.key_id,
		 pdq, it.decision.quality, md5, sha1, sha256, it.decision.matches,
		 video ? "|vpdq:" : "", vdigest);
	hg_sha256_hex(canon, strlen(canon), digest);
	snprintf(detail, sizeof detail, "{\"verdict\":\"%s\",\"matches\":%zu,\"record\":\"%s\"%s%s%s%s}",
		 verdict, json_array_size(matches), digest, *rid ? ",\"review\":\"" : "", rid,
		 *rid ? "\"" : "", vdetail);
	it.detail = detail;
	char *rvpdq = video && *rid ? vpdq_entry_value(video) : NULL;
	it.review_vpdq = rvpdq;
	/* A review item must be visible to reviewers as soon as we answer. */
	st = hg_journal_add(s->journal, &it, *rid != '\0');
	free(mjson);
	free(rvpdq);
	if (st != HG_OK) {
		json_decref(matches);
		hg_reply_error(r, 503, "store_error", "the decision could not be recorded");
		return;
	}

	json_t *hashes = json_object();
	if (have_pdq) {
		json_object_set_new(hashes, "pdq", json_string(pdq));
		json_object_set_new(hashes, "quality", json_integer(h->pdq.quality));
	}
	if (*md5)
		json_object_set_new(hashes, "md5", json_string(md5));
	if (*sha1)
		json_object_set_new(hashes, "sha1", json_string(sha1));
	if (*sha256)
		json_object_set_new(hashes, "sha256", json_string(sha256));
	json_t *out = json_pack("{s:s,s:s,s:o,s:o,s:b}", "id", id, "verdict", verdict, "matches",
				matches, "hashes", hashes, "pdq_used", use_pdq);
	if (*rid)
		json_object_set_new(out, "review_id", json_string(rid));
	if (have_pdq && !use_pdq) {
		char note[160];
		snprintf(note, sizeof note, "PDQ quality %d is under %d: the PDQ hash was not used"
			 " for matching (too little detail); only exact digests were checked",
			 h->pdq.quality, HG_PDQ_MIN_QUALITY);
		json_object_set_new(out, "note", json_string(note));
	}
	if (nvariants < HG_DIH_COUNT && use_pdq)
		json_object_set_new(out, "dihedral", json_false());
	if (video) {
		json_object_set_new(out, "video", video_json(video, usable,
							     s->cfg.video_seconds_per_hash));
		json_object_set_new(out, "vpdq_used", json_boolean(usable > 0));
		if (usable == 0)
			json_object_set_new(out, "note", json_string(
				"no frame of the video has PDQ quality 50 or more: vPDQ was not used"
				" for matching (too little detail); only exact digests were checked"));
	} else if (video_error) {
		json_object_set_new(out, "video", json_pack("{s:s}", "error", video_error));
		json_object_set_new(out, "vpdq_used", json_false());
		json_object_set_new(out, "note", json_string(
			"the video could not be hashed (see video.error), but its digests (or an"
			" animated image's first frame) match a bank entry: the verdict is theirs"));
	}
	hg_reply_json(r, 200, out);
}

struct upload_work {
	hg_hashes h;
	hg_vpdq v;
};

static void upload_work_free(void *p)
{
	struct upload_work *w = p;
	hg_vpdq_release(&w->v);
	free(w);
}

/* 1 when a digest of the upload (or, with use_pdq, an animated GIF's first
 * frame) is in one of the caller's banks. */
static int partly_matches(struct hg_req *r, const hg_hashes *h, int use_pdq)
{
	struct hg_match_set ms = {0};
	hg_status st = hg_banks_match(r->srv->banks, r->who.tenant, h, use_pdq, HG_DIH_COUNT, &ms);
	size_t n = st == HG_OK ? ms.n : 0;
	hg_match_set_free(&ms);
	return n > 0;
}

/* The reply for an upload that could not be hashed: a limit (size,
 * resolution, a video's duration, frames or decode time) is 413, memory 503,
 * anything else 400. */
static void reply_unhashable(struct hg_req *r, hg_status st, const char *what, const char *why)
{
	if (st == HG_ERR_TOO_LARGE || st == HG_ERR_TIMEOUT)
		hg_reply_error(r, 413, "too_large", "%s", why);
	else if (st == HG_ERR_NOMEM)
		hg_reply_error(r, 503, "busy", "%s", why);
	else
		hg_reply_error(r, 400, "undecodable", "cannot hash the %s (%s): %s", what,
			       hg_status_token(st), why);
}

/*
 * Runs on a hashing worker: decode + hash, then the rest of the check. The
 * bytes say what the upload is: an image is hashed with PDQ (+ digests); a
 * video (MP4, MOV, MKV, WebM, AVI, MPEG-TS) with vPDQ (+ digests); an
 * animated GIF or WebP with both, its first frame as an image against PDQ
 * entries and its frames against vpdq entries, as either could be banked.
 */
static void check_upload_work(void *arg, const struct hg_work_ctx *ctx)
{
	struct hg_req *r = arg;
	struct upload_work *w = r->work;
	hg_server *s = r->srv;
	hg_video_format vf = hg_video_sniff(r->body, r->len);
	int image = vf == HG_VIDEO_NONE || vf == HG_VIDEO_GIF || vf == HG_VIDEO_WEBP;
	hg_status st;
	if (!ctx->hasher || (vf != HG_VIDEO_NONE && !ctx->video)) {
		hg_reply_error(r, 503, "busy", "the hashing worker could not start");
	} else if (image && (st = hg_hash_bytes(ctx->hasher, r->body, r->len,
						HG_HASH_QUERY_DEFAULT | HG_HASH_DIGESTS,
						&w->h)) != HG_OK) {
		reply_unhashable(r, st, "upload", hg_hasher_errmsg(ctx->hasher));
	} else if (!image && hg_digest_bytes(r->body, r->len, &w->h) != 0) {
		hg_reply_error(r, 500, "internal_error", "OpenSSL digest failed");
	} else if (vf == HG_VIDEO_NONE) {
		decide(r, &w->h, 1, HG_DIH_COUNT, NULL, NULL);
	} else {
		hg_vpdq_options o;
		hg_vpdq_options_default(&o);
		o.seconds_per_hash = s->cfg.video_seconds_per_hash;
		/* Bars: a letterboxed copy still matches. Skipping non-reference
		 * frames never changes the hashes (video.h), only the CPU spent. */
		o.flags = HG_VPDQ_CROP_BARS | HG_VPDQ_SKIP_NONREF;
		st = hg_vpdq_hash_bytes(ctx->video, r->body, r->len, &o, &w->v);
		/* A known file over a video limit (hash lists carry MD5s of whole
		 * videos; a GIF's first frame may be banked) still gets its bank's
		 * verdict, not just an error. */
		if (st != HG_OK &&
		    partly_matches(r, &w->h, image && w->h.pdq.quality >= HG_PDQ_MIN_QUALITY))
			decide(r, &w->h, image, HG_DIH_COUNT, NULL, hg_video_hasher_errmsg(ctx->video));
		else if (st != HG_OK)
			reply_unhashable(r, st, "video", hg_video_hasher_errmsg(ctx->video));
		else
			decide(r, &w->h, image, HG_DIH_COUNT, &w->v, NULL);
	}
	hg_req_resume(r);
}

static void h_check_upload(struct hg_req *r)
{
	if (!r->len) {
		hg_reply_error(r, 400, "empty", "the upload is empty");
		return;
	}
	struct upload_work *w = calloc(1, sizeof *w);
	if (!w) {
		hg_reply_error(r, 503, "busy", "out of memory");
		return;
	}
	r->work = w;
	r->work_free = upload_work_free;
	hg_req_defer(r, check_upload_work);
}

/* The md5=, sha1=, sha256= query arguments into h; -1 after replying 400
 * when one is not hex of its length. *given says whether any was. */
static int digest_args(struct hg_req *r, hg_hashes *h, int *given)
{
	const char *md5 = hg_req_arg(r, "md5"), *sha1 = hg_req_arg(r, "sha1");
	const char *sha256 = hg_req_arg(r, "sha256");
	*given = md5 || sha1 || sha256;
	if ((md5 && parse_hex(md5, h->md5, 16)) || (sha1 && parse_hex(sha1, h->sha1, 20)) ||
	    (sha256 && parse_hex(sha256, h->sha256, 32))) {
		hg_reply_error(r, 400, "bad_hex", "md5, sha1 and sha256 must be 32, 40 and 64 hex"
			       " digits");
		return -1;
	}
	return 0;
}

/* GET /v1/check?pdq=HEX[&quality=N][&md5=..][&sha1=..][&sha256=..]
 * [&dihedral=HEX,HEX,...] — the client hashed on the device. */
static void h_check_hashes(struct hg_req *r)
{
	hg_hashes h;
	memset(&h, 0, sizeof h);
	const char *pdq = hg_req_arg(r, "pdq"), *q = hg_req_arg(r, "quality");
	int digests;
	if (digest_args(r, &h, &digests))
		return;
	if (!pdq && !digests) {
		hg_reply_error(r, 400, "missing_hash", "give pdq=, md5=, sha1= or sha256=");
		return;
	}
	if (pdq && hg_pdq_from_hex(pdq, strlen(pdq), &h.pdq.hash[0]) != HG_OK) {
		hg_reply_error(r, 400, "bad_hex", "pdq must be 64 hex digits");
		return;
	}
	/* A client that hashed on the device reports the quality; without it the
	 * hash is trusted as usable (100). */
	h.pdq.quality = 100;
	if (q) {
		char *end;
		long v = strtol(q, &end, 10);
		if (*end || end == q || v < 0 || v > 100) {
			hg_reply_error(r, 400, "bad_quality", "quality must be 0..100");
			return;
		}
		h.pdq.quality = (int)v;
	}
	/* Variants: the server cannot compute them from a hash, so the client
	 * may send them; otherwise only the hash as given is matched. */
	int nvar = 1;
	const char *dih = hg_req_arg(r, "dihedral");
	if (pdq && dih) {
		const char *p = dih;
		for (nvar = 0; nvar < HG_DIH_COUNT && *p; nvar++) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			if (hg_pdq_from_hex(p, n, &h.pdq.hash[nvar]) != HG_OK) {
				hg_reply_error(r, 400, "bad_hex", "dihedral takes up to 8 comma-separated"
					       " 64-hex hashes");
				return;
			}
			p += n + (comma ? 1 : 0);
		}
		if (nvar == 0)
			nvar = 1;
	}
	decide(r, &h, pdq != NULL, nvar, NULL, NULL);
}

/* POST /v1/check/vpdq[?md5=..][&sha1=..][&sha256=..] — a video the client
 * hashed itself: the body is its vPDQ in the reference's lines
 * ("frameNumber,quality,hex,timestamp", as `hashgate hash VIDEO` or Meta's
 * vpdq-hash-video print them; blank lines and '#' comments skipped), at
 * most max-video-frames of them. Matched as an uploaded video's frames. */
static void h_check_vpdq(struct hg_req *r)
{
	hg_hashes h;
	memset(&h, 0, sizeof h);
	int digests;
	if (digest_args(r, &h, &digests))
		return;
	hg_vpdq v = {0};
	size_t cap = 0, lineno = 0;
	for (size_t pos = 0; pos < r->len;) {
		const char *line = r->body + pos, *nl = memchr(line, '\n', r->len - pos);
		size_t n = nl ? (size_t)(nl - line) : r->len - pos;
		pos += n + 1;
		lineno++;
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
			n--;
		if (!n || line[0] == '#')
			continue;
		if (v.count == (size_t)r->srv->cfg.max_video_frames) {
			free(v.frames);
			hg_reply_error(r, 413, "too_large", "more than %ld frame lines (max-video-frames)",
				       r->srv->cfg.max_video_frames);
			return;
		}
		if (v.count == cap) {
			cap = cap ? cap * 2 : 64;
			hg_vpdq_frame *f = realloc(v.frames, cap * sizeof *f);
			if (!f) {
				free(v.frames);
				hg_reply_error(r, 503, "busy", "out of memory");
				return;
			}
			v.frames = f;
		}
		if (hg_vpdq_parse_line(line, n, &v.frames[v.count]) != HG_OK) {
			free(v.frames);
			hg_reply_error(r, 400, "bad_vpdq", "line %zu is not a vPDQ line"
				       " (frameNumber,quality,hex,timestamp)", lineno);
			return;
		}
		v.count++;
	}
	if (!v.count) {
		hg_reply_error(r, 400, "missing_hash", "the body holds no vPDQ line");
		return;
	}
	decide(r, &h, 0, 1, &v, NULL);
	free(v.frames);
}

/* ---- banks and entries -------------------------------------------------------- */

/* Replies for a bank call: the JSON on success, the error otherwise. */
static void bank_reply(struct hg_req *r, hg_status st, int ok_status, json_t *out)
{
	if (st == HG_OK)
		hg_reply_json(r, ok_status, out);
	else {
		json_decref(out);
		hg_reply_status(r, st, hg_banks_errmsg(r->srv->banks));
	}
}

/* Every bank change is audited, synchronously: it is committed before we
 * answer, so the trail never lags the banks. */
static int audit_change(struct hg_req *r, const char *action, const char *object, json_t *detail)
{
	if (!detail)
		detail = json_object();
	char *d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
	struct hg_journal_item it = {.actor = r->who.key_id, .tenant = r->who.tenant,
				     .action = action, .object = object, .detail = d ? d : "{}"};
	hg_status st = hg_journal_add(r->srv->journal, &it, 1);
	free(d);
	json_decref(detail);
	if (st != HG_OK) {
		hg_reply_error(r, 503, "store_error", "the change was made but its audit record"
			       " could not be written");
		return -1;
	}
	return 0;
}

static void h_banks_list(struct hg_req *r)
{
	json_t *out = NULL;
	hg_status st = hg_banks_list(r->srv->banks, r->who.tenant, &out);
	bank_reply(r, st, 200, out);
}

static void h_bank_create(struct hg_req *r)
{
	json_t *spec = hg_req_json(r), *out = NULL;
	if (!spec)
		return;
	hg_status st = hg_banks_create(r->srv->banks, r->who.tenant, spec, r->who.key_id, &out);
	if (st == HG_OK &&
	    audit_change(r, "bank.create", json_string_value(json_object_get(out, "name")),
			 json_deep_copy(spec))) {
		json_decref(out);
		json_decref(spec);
		return;
	}
	json_decref(spec);
	bank_reply(r, st, 201, out);
}

static void h_bank_get(struct hg_req *r)
{
	json_t *out = NULL;
	hg_status st = hg_banks_get(r->srv->banks, r->who.tenant, r->params[0], &out);
	bank_reply(r, st, 200, out);
}

static void h_bank_patch(struct hg_req *r)
{
	json_t *patch = hg_req_json(r), *out = NULL;
	if (!patch)
		return;
	hg_status st = hg_banks_update(r->srv->banks, r->who.tenant, r->params[0], patch,
				       r->who.key_id, &out);
	if (st == HG_OK && audit_change(r, "bank.update", r->params[0], json_deep_copy(patch))) {
		json_decref(out);
		json_decref(patch);
		return;
	}
	json_decref(patch);
	bank_reply(r, st, 200, out);
}

static void h_bank_delete(struct hg_req *r)
{
	hg_status st = hg_banks_delete(r->srv->banks, r->who.tenant, r->params[0], r->who.key_id);
	if (st == HG_OK && audit_change(r, "bank.delete", r->params[0], NULL))
		return;
	bank_reply(r, st, 200, json_pack("{s:s,s:b}", "name", r->params[0], "deleted", 1));
}

static void h_entries_add(struct hg_req *r)
{
	json_t *body = hg_req_json(r), *out = NULL;
	if (!body)
		return;
	json_t *list = json_object_get(body, "entries");
	if (list) {
		json_incref(list);
	} else {
		list = json_array();
		json_array_append(list, body);
	}
	if (!json_is_array(list) || json_array_size(list) == 0) {
		json_decref(list);
		json_decref(body);
		hg_reply_error(r, 400, "bad_request", "give one entry {\"signal_type\", \"value\"} or"
			       " {\"entries\": [...]}");
		return;
	}
	hg_status st = hg_banks_add(r->srv->banks, r->who.tenant, r->params[0], list,
				    r->who.key_id, &out);
	json_decref(body);
	if (st == HG_OK) {
		json_t *d = json_pack("{s:O,s:O}", "added", json_object_get(out, "added"),
				      "unchanged", json_object_get(out, "unchanged"));
		if (audit_change(r, "entry.add", r->params[0], d)) {
			json_decref(list);
			json_decref(out);
			return;
		}
	}
	json_decref(list);
	bank_reply(r, st, 201, out);
}

static void h_entries_list(struct hg_req *r)
{
	const char *a = hg_req_arg(r, "after"), *l = hg_req_arg(r, "limit");
	long after = a ? atol(a) : 0, limit = l ? atol(l) : 1000;
	if (after < 0 || limit < 1 || limit > 10000) {
		hg_reply_error(r, 400, "bad_request", "after >= 0, limit 1..10000");
		return;
	}
	json_t *out = NULL;
	hg_status st = hg_banks_entries(r->srv->banks, r->who.tenant, r->params[0], after, limit,
					&out);
	bank_reply(r, st, 200, out);
}

static void h_entry_delete(struct hg_req *r)
{
	const char *reason = hg_req_arg(r, "reason");
	hg_status st = hg_banks_remove(r->srv->banks, r->who.tenant, r->params[0], r->params[1],
				       r->who.key_id, reason);
	if (st == HG_OK) {
		char object[300];
		snprintf(object, sizeof object, "%s/%s", r->params[0], r->params[1]);
		if (audit_change(r, "entry.remove", object,
				 json_pack("{s:s?}", "reason", reason)))
			return;
	}
	bank_reply(r, st, 200, json_pack("{s:s,s:b}", "id", r->params[1], "removed", 1));
}

static void h_import(struct hg_req *r)
{
	json_t *out = NULL;
	const char *fmt = hg_req_arg(r, "format");
	if (!fmt && !strncasecmp(r->content_type, "text/csv", 8))
		fmt = "csv";
	else if (!fmt && (!strncasecmp(r->content_type, "application/x-ndjson", 20) ||
			  !strncasecmp(r->content_type, "application/jsonl", 17)))
		fmt = "jsonl";
	hg_status st = hg_banks_import(r->srv->banks, r->who.tenant, r->params[0], r->body, r->len,
				       fmt, r->who.key_id, &out);
	if (st == HG_OK &&
	    audit_change(r, "bank.import", r->params[0],
			 json_pack("{s:O,s:O,s:O}", "added", json_object_get(out, "added"),
				   "unchanged", json_object_get(out, "unchanged"), "bad_lines",
				   json_object_get(out, "bad_lines")))) {
		json_decref(out);
		return;
	}
	bank_reply(r, st, 200, out);
}

/* ---- decisions and reviews ---------------------------------------------------- */

static json_t *json_or_string(const char *s)
{
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;
	return j ? j : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int decision_row(void *ctx, int n, const char *const *c)
{
	if (n < 10)
		return 1;
	json_t *o = json_object();
	json_object_set_new(o, "id", str_or_null(c[0]));
	json_object_set_new(o, "time_ms", json_integer(c[1] ? atoll(c[1]) : 0));
	json_object_set_new(o, "key_id", str_or_null(c[2]));
	json_object_set_new(o, "verdict", str_or_null(c[3]));
	json_object_set_new(o, "pdq", str_or_null(c[4]));
	json_object_set_new(o, "quality", c[5] && atoi(c[5]) >= 0 ? json_integer(atoi(c[5]))
								  : json_null());
	json_object_set_new(o, "md5", str_or_null(c[6]));
	json_object_set_new(o, "sha1", str_or_null(c[7]));
	json_object_set_new(o, "sha256", str_or_null(c[8]));
	json_object_set_new(o, "matches", json_or_string(c[9]));
	json_array_append_new(ctx, o);
	return 0;
}

static long arg_long(struct hg_req *r, const char *name, long def, long min, long max, int *bad)
{
	const char *v = hg_req_arg(r, name);
	if (!v)
		return def;
	char *end;
	long x = strtol(v, &end, 10);
	if (*end || end == v || x < min || x > max)
		*bad = 1;
	return x;
}

static void h_decisions(struct hg_req *r)
{
	int bad = 0;
	long since = arg_long(r, "since_ms", 0, 0, 1L << 62, &bad);
	long limit = arg_long(r, "limit", 100, 1, 1000, &bad);
	if (bad) {
		hg_reply_error(r, 400, "bad_request", "since_ms >= 0, limit 1..1000");
		return;
	}
	/* Only committed records are listed: flush so a caller sees its own. */
	hg_journal_flush(r->srv->journal);
	json_t *arr = json_array();
	hg_status st = hg_svc_decision_list(r->srv->st, r->who.tenant, since, (int)limit,
					    decision_row, arr);
	if (st != HG_OK) {
		json_decref(arr);
		hg_reply_status(r, st, hg_svc_store_errmsg(r->srv->st));
		return;
	}
	hg_reply_json(r, 200, json_pack("{s:o}", "decisions", arr));
}

static int review_row(void *ctx, int n, const char *const *c)
{
	if (n < 9)
		return 1;
	json_t *o = json_object();
	json_object_set_new(o, "id", str_or_null(c[0]));
	json_object_set_new(o, "decision_id", str_or_null(c[1]));
	json_object_set_new(o, "status", str_or_null(c[2]));
	json_object_set_new(o, "created_ms", json_integer(c[3] ? atoll(c[3]) : 0));
	json_object_set_new(o, "pdq", str_or_null(c[4]));
	json_object_set_new(o, "matches", json_or_string(c[5]));
	json_object_set_new(o, "decided_by", str_or_null(c[6]));
	json_object_set_new(o, "decided_ms", c[7] ? json_integer(atoll(c[7])) : json_null());
	json_object_set_new(o, "note", str_or_null(c[8]));
	if (n >= 10 && c[9])
		json_object_set_new(o, "vpdq", json_string(c[9]));
	json_t *dst = ctx;
	if (json_is_array(dst)) {
		json_array_append_new(dst, o);
	} else {
		json_object_update(dst, o);
		json_decref(o);
	}
	return 0;
}

static void h_reviews(struct hg_req *r)
{
	const char *status = hg_req_arg(r, "status");
	int bad = 0;
	long limit = arg_long(r, "limit", 100, 1, 1000, &bad);
	if (!status)
		status = "open";
	if (!strcmp(status, "all"))
		status = NULL;
	else if (strcmp(status, "open") && strcmp(status, "confirmed") && strcmp(status, "rejected"))
		bad = 1;
	if (bad) {
		hg_reply_error(r, 400, "bad_request", "status open|confirmed|rejected|all, limit"
			       " 1..1000");
		return;
	}
	json_t *arr = json_array();
	hg_status st = hg_svc_review_list(r->srv->st, r->who.tenant, status, (int)limit, review_row,
					  arr);
	if (st != HG_OK) {
		json_decref(arr);
		hg_reply_status(r, st, hg_svc_store_errmsg(r->srv->st));
		return;
	}
	hg_reply_json(r, 200, json_pack("{s:o}", "reviews", arr));
}

static void h_review_get(struct hg_req *r)
{
	json_t *o = json_object();
	hg_status st = hg_svc_review_get(r->srv->st, r->who.tenant, r->params[0], review_row, o);
	if (st == HG_OK && !json_object_size(o))
		st = HG_ERR_NOT_FOUND;
	if (st != HG_OK) {
		json_decref(o);
		hg_reply_status(r, st, st == HG_ERR_NOT_FOUND ? "no such review"
							       : hg_svc_store_errmsg(r->srv->st));
		return;
	}
	hg_reply_json(r, 200, o);
}

/* POST /v1/reviews/{id} {"decision": "confirm"|"reject", "note"?,
 * "allow_list"?: bank} — a rejected match can go to an allow-list at once. */
static void h_review_decide(struct hg_req *r)
{
	json_t *body = hg_req_json(r);
	if (!body)
		return;
	const char *decision = json_string_value(json_object_get(body, "decision"));
	const char *note = json_string_value(json_object_get(body, "note"));
	json_t *allow = json_object_get(body, "allow_list");
	if (!decision || (strcmp(decision, "confirm") && strcmp(decision, "reject")) ||
	    (allow && !json_is_string(allow)) || (allow && strcmp(decision, "reject")) ||
	    (json_object_get(body, "note") && !note)) {
		json_decref(body);
		hg_reply_error(r, 400, "bad_request", "give {\"decision\": \"confirm\" | \"reject\","
			       " \"note\"?: string, \"allow_list\"?: bank (reject only)}");
		return;
	}
	json_t *review = json_object();
	hg_status st = hg_svc_review_get(r->srv->st, r->who.tenant, r->params[0], review_row,
					 review);
	if (st == HG_OK && !json_object_size(review))
		st = HG_ERR_NOT_FOUND;
	const char *pdq = json_string_value(json_object_get(review, "pdq"));
	const char *vpdq = json_string_value(json_object_get(review, "vpdq"));
	json_t *added = NULL;
	/* Check the allow-list bank before deciding, so a bad name changes nothing. */
	if (st == HG_OK && allow) {
		json_t *bank = NULL;
		st = hg_banks_get(r->srv->banks, r->who.tenant, json_string_value(allow), &bank);
		const char *action = json_string_value(json_object_get(bank, "action"));
		if (st == HG_OK && (!action || strcmp(action, "allow") != 0)) {
			hg_reply_error(r, 400, "not_allow_list", "bank %s is not an allow-list",
				       json_string_value(allow));
			json_decref(bank);
			json_decref(review);
			json_decref(body);
			return;
		}
		json_decref(bank);
		if (st == HG_OK && !pdq && !vpdq) {
			json_decref(review);
			json_decref(body);
			hg_reply_error(r, 400, "no_hash", "this review has no PDQ or vPDQ hash to"
				       " allow-list");
			return;
		}
	}
	const char *status = !strcmp(decision, "confirm") ? "confirmed" : "rejected";
	if (st == HG_OK)
		st = hg_svc_review_decide(r->srv->st, r->who.tenant, r->params[0], status,
					  r->who.key_id, hg_now_ms(), note);
	if (st != HG_OK) {
		json_decref(review);
		json_decref(body);
		hg_reply_status(r, st, st == HG_ERR_NOT_FOUND ? "no such review"
				: st == HG_ERR_CONFLICT ? "this review was already decided"
				: allow ? hg_banks_errmsg(r->srv->banks)
				: hg_svc_store_errmsg(r->srv->st));
		return;
	}
	if (allow) {
		char ext[160];
		snprintf(ext, sizeof ext, "review:%s", r->params[0]);
		/* An animated GIF's review has both: its first frame and its frames. */
		json_t *list = json_array();
		if (pdq)
			json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "signal_type", "pdq",
							      "value", pdq, "external_id", ext));
		if (vpdq)
			json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "signal_type", "vpdq",
							      "value", vpdq, "external_id", ext));
		st = hg_banks_add(r->srv->banks, r->who.tenant, json_string_value(allow), list,
				  r->who.key_id, &added);
		json_decref(list);
	}
	json_t *detail = json_pack("{s:s,s:s?,s:s?}", "decision", status, "note", note,
				   "allow_list", allow ? json_string_value(allow) : NULL);
	if (audit_change(r, !strcmp(status, "confirmed") ? "review.confirm" : "review.reject",
			 r->params[0], detail)) {
		json_decref(added);
		json_decref(review);
		json_decref(body);
		return;
	}
	if (allow && st == HG_OK)
		audit_change(r, "entry.add", json_string_value(allow),
			     json_pack("{s:s,s:O}", "review", r->params[0], "added",
				       json_object_get(added, "added")));
	json_decref(review);
	json_decref(body);
	if (st != HG_OK) {
		json_decref(added);
		hg_reply_status(r, st, hg_banks_errmsg(r->srv->banks));
		return;
	}
	json_t *out = json_pack("{s:s,s:s}", "id", r->params[0], "status", status);
	if (added)
		json_object_set_new(out, "allow_list", added);
	hg_reply_json(r, 200, out);
}

/* ---- the table ------------------------------------------------------------------ */

const struct hg_route hg_routes[] = {
	{"GET", "/healthz", "healthz", 0, HG_BODY_NONE, h_healthz},
	{"GET", "/readyz", "readyz", 0, HG_BODY_NONE, h_readyz},
	{"GET", "/metrics", "metrics", 0, HG_BODY_NONE, h_metrics},
	{"POST", "/v1/check", "check_upload", HG_PERM_CHECK, HG_BODY_UPLOAD, h_check_upload},
	{"GET", "/v1/check", "check_hash", HG_PERM_CHECK, HG_BODY_NONE, h_check_hashes},
	{"POST", "/v1/check/vpdq", "check_vpdq", HG_PERM_CHECK, HG_BODY_TEXT, h_check_vpdq},
	{"GET", "/v1/banks", "banks_list", HG_PERM_BANK_READ, HG_BODY_NONE, h_banks_list},
	{"POST", "/v1/banks", "bank_create", HG_PERM_BANK_WRITE, HG_BODY_JSON, h_bank_create},
	{"GET", "/v1/banks/{}", "bank_get", HG_PERM_BANK_READ, HG_BODY_NONE, h_bank_get},
	{"PATCH", "/v1/banks/{}", "bank_update", HG_PERM_BANK_WRITE, HG_BODY_JSON, h_bank_patch},
	{"DELETE", "/v1/banks/{}", "bank_delete", HG_PERM_BANK_WRITE, HG_BODY_NONE, h_bank_delete},
	{"GET", "/v1/banks/{}/entries", "entries_list", HG_PERM_ENTRY_READ, HG_BODY_NONE,
	 h_entries_list},
	{"POST", "/v1/banks/{}/entries", "entries_add", HG_PERM_BANK_WRITE, HG_BODY_JSON,
	 h_entries_add},
	{"DELETE", "/v1/banks/{}/entries/{}", "entry_remove", HG_PERM_BANK_WRITE, HG_BODY_NONE,
	 h_entry_delete},
	{"POST", "/v1/banks/{}/import", "bank_import", HG_PERM_BANK_WRITE, HG_BODY_TEXT, h_import},
	{"GET", "/v1/decisions", "decisions", HG_PERM_DECISIONS, HG_BODY_NONE, h_decisions},
	{"GET", "/v1/reviews", "reviews_list", HG_PERM_REVIEW, HG_BODY_NONE, h_reviews},
	{"GET", "/v1/reviews/{}", "review_get", HG_PERM_REVIEW, HG_BODY_NONE, h_review_get},
	{"POST", "/v1/reviews/{}", "review_decide", HG_PERM_REVIEW, HG_BODY_JSON, h_review_decide},
};
const size_t hg_nroutes = sizeof hg_routes / sizeof hg_routes[0];
