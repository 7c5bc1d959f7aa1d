/*
 * vpdq.c — vPDQ features as text, and matching videos frame by frame the way
 * python-threatexchange does (quality >= 50, exact duplicates removed,
 * distance <= 31, query% and target% against thresholds).
 *
 * The index keeps one entry per usable frame per video and answers a query by
 * looking up each query frame within the radius, then counting, per video,
 * the distinct query frames and distinct video frames that met. Only the
 * videos some query frame met are ever touched, and the lookups stop as soon
 * as no video can reach the query threshold any more. Only
 * frame_lookup() knows how entries are searched, so the radius index can be
 * swapped in without touching the counting.
 */
#include "hashgate/vpdq.h"

#include "hashgate/index.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t hg_vpdq_format_line(const hg_vpdq_frame *f, char *buf, size_t size)
{
	if (!f || !buf || size == 0)
		return 0;
	char hex[HG_PDQ_HEX_LEN + 1];
	hg_pdq_to_hex(&f->hash, hex);
	int n = snprintf(buf, size, "%lld,%d,%s,%.3f", (long long)f->frame_number, f->quality,
			 hex, f->timestamp);
	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

/* Parses a whole decimal integer field; 0 on success. */
static int parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max || *s == '+' || *s == ' ')
		return -1;
	*out = v;
	return 0;
}

hg_status hg_vpdq_parse_line(const char *text, size_t len, hg_vpdq_frame *out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	memset(out, 0, sizeof *out);
	if (!text)
		return HG_ERR_PARSE;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	char line[HG_VPDQ_LINE_MAX];
	if (len == 0 || len >= sizeof line || memchr(text, '\0', len))
		return HG_ERR_PARSE;
	memcpy(line, text, len);
	line[len] = '\0';
	char *field[4];
	size_t nf = 0;
	char *p = line;
	for (;;) {
		if (nf == 4)
			return HG_ERR_PARSE;
		field[nf++] = p;
		char *comma = strchr(p, ',');
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	if (nf != 4)
		return HG_ERR_PARSE;
	long long fn, q;
	hg_vpdq_frame f;
	memset(&f, 0, sizeof f);
	if (parse_int(field[0], 0, INT64_MAX, &fn) || parse_int(field[1], 0, 100, &q) ||
	    hg_pdq_from_hex(field[2], strlen(field[2]), &f.hash))
		return HG_ERR_PARSE;
	char *end;
	errno = 0;
	double ts = strtod(field[3], &end);
	if (errno || end == field[3] || *end || !isfinite(ts) || ts < 0)
		return HG_ERR_PARSE;
	f.frame_number = fn;
	f.quality = (int)q;
	f.timestamp = ts;
	*out = f;
	return HG_OK;
}

/* parse_int on `len` bytes that are not NUL-terminated. */
static int parse_int_n(const char *s, size_t len, long long min, long long max, long long *out)
{
	char buf[24];
	if (len == 0 || len >= sizeof buf || memchr(s, '\0', len))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return parse_int(buf, min, max, out);
}

hg_status hg_vpdq_token_parse(const char *text, size_t len, hg_vpdq_frame *out, int *fields)
{
	if (!out || !fields)
		return HG_ERR_INVALID_ARG;
	memset(out, 0, sizeof *out);
	*fields = 0;
	if (!text || len > 2 * HG_VPDQ_TOKEN_MAX)
		return HG_ERR_PARSE;
	const char *part[4];
	size_t plen[4], start = 0;
	int nf = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != ':')
			continue;
		if (nf == 4)
			return HG_ERR_PARSE;
		part[nf] = text + start;
		plen[nf++] = i - start;
		start = i + 1;
	}
	hg_vpdq_frame f;
	memset(&f, 0, sizeof f);
	f.quality = 100;
	long long v;
	if (nf == 3 || plen[0] != HG_PDQ_HEX_LEN || hg_pdq_from_hex(part[0], plen[0], &f.hash))
		return HG_ERR_PARSE;
	if (nf >= 2) {
		if (parse_int_n(part[1], plen[1], 0, 100, &v))
			return HG_ERR_PARSE;
		f.quality = (int)v;
	}
	if (nf == 4) {
		char buf[24], *end;
		if (parse_int_n(part[2], plen[2], 0, HG_VPDQ_MAX_FRAME_NUMBER, &v) || plen[3] == 0 ||
		    plen[3] >= sizeof buf)
			return HG_ERR_PARSE;
		f.frame_number = v;
		memcpy(buf, part[3], plen[3]);
		buf[plen[3]] = '\0';
		errno = 0;
		f.timestamp = strtod(buf, &end);
		if (errno || end == buf || *end || !(f.timestamp >= 0) ||
		    !(f.timestamp < HG_VPDQ_MAX_TIMESTAMP + 0.0005) || buf[0] == ' ' || buf[0] == '+')
			return HG_ERR_PARSE;
	}
	*out = f;
	*fields = nf;
	return HG_OK;
}

size_t hg_vpdq_token_format(const hg_vpdq_frame *f, int fields, char *buf, size_t size)
{
	if (!f || !buf || size == 0 || (fields != 1 && fields != 2 && fields != 4))
		return 0;
	buf[0] = '\0';
	if (f->quality < 0 || f->quality > 100 || f->frame_number < 0 ||
	    f->frame_number > HG_VPDQ_MAX_FRAME_NUMBER || !(f->timestamp >= 0) ||
	    !(f->timestamp < HG_VPDQ_MAX_TIMESTAMP + 0.0005))
		return 0;
	char hex[HG_PDQ_HEX_LEN + 1];
	hg_pdq_to_hex(&f->hash, hex);
	int n = fields == 1   ? snprintf(buf, size, "%s", hex)
		: fields == 2 ? snprintf(buf, size, "%s:%d", hex, f->quality)
			      : snprintf(buf, size, "%s:%d:%lld:%.3f", hex, f->quality,
					 (long long)f->frame_number, f->timestamp);
	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

static int value_separator(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';';
}

hg_status hg_vpdq_value_parse(const char *value, size_t len, hg_vpdq_frame **frames, size_t *n)
{
	if (!frames || !n)
		return HG_ERR_INVALID_ARG;
	*frames = NULL;
	*n = 0;
	if (!value && len)
		return HG_ERR_INVALID_ARG;
	size_t count = 0;
	for (size_t i = 0; i < len; i++)
		count += !value_separator(value[i]) && (i == 0 || value_separator(value[i - 1]));
	if (count == 0)
		return HG_ERR_PARSE;
	hg_vpdq_frame *f = malloc(count * sizeof *f);
	if (!f)
		return HG_ERR_NOMEM;
	size_t k = 0, i = 0;
	while (k < count) {
		while (value_separator(value[i]))
			i++;
		size_t start = i;
		while (i < len && !value_separator(value[i]))
			i++;
		int fields;
		if (hg_vpdq_token_parse(value + start, i - start, &f[k], &fields)) {
			free(f);
			return HG_ERR_PARSE;
		}
		if (fields < 4)
			f[k].frame_number = (int64_t)k;
		k++;
	}
	*frames = f;
	*n = count;
	return HG_OK;
}

void hg_vpdq_frames_free(hg_vpdq_frame *frames)
{
	free(frames);
}

void hg_vpdq_match_options_default(hg_vpdq_match_options *opts)
{
	if (!opts)
		return;
	opts->radius = HG_PDQ_MATCH_RADIUS;
	opts->min_quality = HG_PDQ_MIN_QUALITY;
	opts->query_pct = HG_VPDQ_DEFAULT_QUERY_PCT;
	opts->target_pct = HG_VPDQ_DEFAULT_TARGET_PCT;
}

static int cmp_pdq(const void *a, const void *b)
{
	const hg_pdq *x = a, *y = b;
	for (int i = 3; i >= 0; i--)
		if (x->w[i] != y->w[i])
			return x->w[i] < y->w[i] ? -1 : 1;
	return 0;
}

size_t hg_vpdq_usable(const hg_vpdq_frame *frames, size_t n, int min_quality, hg_pdq *out)
{
	if (!frames || !out)
		return 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (frames[i].quality >= min_quality)
			out[k++] = frames[i].hash;
	if (k < 2)
		return k;
	qsort(out, k, sizeof *out, cmp_pdq);
	size_t u = 1;
	for (size_t i = 1; i < k; i++)
		if (cmp_pdq(&out[i], &out[u - 1]) != 0)
			out[u++] = out[i];
	return u;
}

/* Usable frames into a fresh array; *usable = NULL when there are none. */
static hg_status usable_copy(const hg_vpdq_frame *frames, size_t n, int min_quality,
			     hg_pdq **usable, size_t *count)
{
	*usable = NULL;
	*count = 0;
	if (n == 0)
		return HG_OK;
	hg_pdq *u = malloc(n * sizeof *u);
	if (!u)
		return HG_ERR_NOMEM;
	*count = hg_vpdq_usable(frames, n, min_quality, u);
	if (*count == 0) {
		free(u);
		u = NULL;
	}
	*usable = u;
	return HG_OK;
}

static int opts_valid(const hg_vpdq_match_options *o)
{
	return o->radius >= 0 && o->radius <= 256 && o->min_quality >= 0 &&
	       o->min_quality <= 101 && o->query_pct >= 0 && o->query_pct <= 100 &&
	       o->target_pct >= 0 && o->target_pct <= 100;
}

static double pct(size_t part, size_t whole)
{
	return whole ? (double)part * 100.0 / (double)whole : 0.0;
}

hg_status hg_vpdq_compare(const hg_vpdq_frame *query, size_t nq, const hg_vpdq_frame *target,
			  size_t nt, const hg_vpdq_match_options *opts, double *query_pct,
			  double *target_pct, int *matched)
{
	if (!query_pct || !target_pct || !matched)
		return HG_ERR_INVALID_ARG;
	*query_pct = *target_pct = 0;
	*matched = 0;
	hg_vpdq_match_options o;
	hg_vpdq_match_options_default(&o);
	if (opts)
		o = *opts;
	if ((!query && nq) || (!target && nt) || !opts_valid(&o))
		return HG_ERR_INVALID_ARG;
	hg_pdq *uq, *ut;
	size_t cq, ct;
	hg_status st = usable_copy(query, nq, o.min_quality, &uq, &cq);
	if (st)
		return st;
	st = usable_copy(target, nt, o.min_quality, &ut, &ct);
	unsigned char *hit = st ? NULL : calloc(ct ? ct : 1, 1);
	if (!hit) {
		free(uq);
		free(ut);
		return st ? st : HG_ERR_NOMEM;
	}
	size_t qm = 0, tm = 0;
	for (size_t i = 0; i < cq; i++) {
		int any = 0;
		for (size_t j = 0; j < ct; j++) {
			if (hg_pdq_distance(&uq[i], &ut[j]) <= o.radius) {
				any = 1;
				if (!hit[j]) {
					hit[j] = 1;
					tm++;
				}
			}
		}
		qm += (size_t)any;
	}
	*query_pct = pct(qm, cq);
	*target_pct = pct(tm, ct);
	*matched = qm > 0 && *query_pct >= o.query_pct && *target_pct >= o.target_pct;
	free(hit);
	free(uq);
	free(ut);
	return HG_OK;
}

/* ---- the index ------------------------------------------------------- */

struct video {
	uint64_t id;
	uint64_t first;  /* hg_index id of its first entry; its entries are consecutive */
	size_t usable;   /* entries it owns */
	int alive;
};

/* Open addressing, linear probing: video id -> slot + 1 (0 = empty). */
struct idmap {
	uint64_t *keys;
	uint32_t *vals;
	size_t cap, used, tombs;
};

struct hg_vpdq_index {
	hg_vpdq_match_options opts;
	struct video *videos;
	size_t nvideos, cap_videos, alive;
	hg_index *frames;        /* every usable frame; id = position in entry_video */
	uint32_t *entry_video;   /* entry id -> slot in videos[] */
	hg_pdq *entry_hash;      /* entry id -> its hash (the candidates' check) */
	size_t nentries, cap_entries, cap_hashes;
	struct idmap ids;
};

#define TOMB UINT32_MAX

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Position of `key`, or of the empty slot where it would go. */
static size_t idmap_find(const struct idmap *m, uint64_t key, int *found)
{
	size_t mask = m->cap - 1, i = mix64(key) & mask, tomb = SIZE_MAX;
	for (;;) {
		if (m->vals[i] == 0) {
			*found = 0;
			return tomb != SIZE_MAX ? tomb : i;
		}
		if (m->vals[i] == TOMB) {
			if (tomb == SIZE_MAX)
				tomb = i;
		} else if (m->keys[i] == key) {
			*found = 1;
			return i;
		}
		i = (i + 1) & mask;
	}
}

static hg_status idmap_grow(struct idmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	if ((m->used + 1) * 2 <= m->cap && (m->used + m->tombs + 1) * 4 <= m->cap * 3)
		return HG_OK;
	if ((m->used + 1) * 4 < m->cap)
		cap = m->cap; /* mostly tombstones: rehash at the same size */
	struct idmap n = {calloc(cap, sizeof *n.keys), calloc(cap, sizeof *n.vals), cap, 0, 0};
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return HG_ERR_NOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->vals[i] == 0 || m->vals[i] == TOMB)
			continue;
		int found;
		size_t at = idmap_find(&n, m->keys[i], &found);
		n.keys[at] = m->keys[i];
		n.vals[at] = m->vals[i];
		n.used++;
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return HG_OK;
}

hg_status hg_vpdq_index_new(const hg_vpdq_match_options *opts, hg_vpdq_index **out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	hg_vpdq_index *ix = calloc(1, sizeof *ix);
	if (!ix)
		return HG_ERR_NOMEM;
	hg_vpdq_match_options_default(&ix->opts);
	if (opts)
		ix->opts = *opts;
	hg_status st = opts_valid(&ix->opts) ? hg_index_new(NULL, &ix->frames) : HG_ERR_INVALID_ARG;
	if (st) {
		free(ix);
		return st;
	}
	*out = ix;
	return HG_OK;
}

void hg_vpdq_index_free(hg_vpdq_index *ix)
{
	if (!ix)
		return;
	hg_index_free(ix->frames);
	free(ix->videos);
	free(ix->entry_video);
	free(ix->entry_hash);
	free(ix->ids.keys);
	free(ix->ids.vals);
	free(ix);
}

size_t hg_vpdq_index_count(const hg_vpdq_index *ix)
{
	return ix ? ix->alive : 0;
}

static hg_status reserve(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return HG_OK;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	if (n > SIZE_MAX / elem)
		return HG_ERR_NOMEM;
	void *q = realloc(*p, n * elem);
	if (!q)
		return HG_ERR_NOMEM;
	*p = q;
	*cap = n;
	return HG_OK;
}

/* Adds land in the index's delta overlay, which queries scan; rebuild the
 * tables once the overlay is over an eighth of them (amortised: the base
 * grows by that share between rebuilds, so adds stay O(1) on average). */
static hg_status maybe_compact(hg_vpdq_index *ix)
{
	hg_index_stats s;
	hg_status st = hg_index_stats_get(ix->frames, &s);
	if (st)
		return st;
	if (s.delta_entries > 4096 && s.delta_entries > s.base_entries / 8)
		return hg_index_compact(ix->frames);
	return HG_OK;
}

hg_status hg_vpdq_index_compact(hg_vpdq_index *ix)
{
	return ix ? hg_index_compact(ix->frames) : HG_ERR_INVALID_ARG;
}

/* Removes entries [first, first + n) from the frame index. */
static void drop_entries(hg_vpdq_index *ix, uint64_t first, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hg_index_remove(ix->frames, first + i);
}

hg_status hg_vpdq_index_add(hg_vpdq_index *ix, uint64_t video_id, const hg_vpdq_frame *frames,
			    size_t n)
{
	if (!ix || (!frames && n))
		return HG_ERR_INVALID_ARG;
	if (ix->nvideos >= TOMB - 1)
		return HG_ERR_TOO_LARGE;
	hg_status st = idmap_grow(&ix->ids);
	if (st)
		return st;
	int found;
	size_t at = idmap_find(&ix->ids, video_id, &found);
	if (found)
		return HG_ERR_EXISTS;
	hg_pdq *u;
	size_t cu;
	if ((st = usable_copy(frames, n, ix->opts.min_quality, &u, &cu)) ||
	    (st = reserve((void **)&ix->videos, &ix->cap_videos, ix->nvideos + 1,
			  sizeof *ix->videos)) ||
	    (st = reserve((void **)&ix->entry_video, &ix->cap_entries, ix->nentries + cu,
			  sizeof *ix->entry_video)) ||
	    (st = reserve((void **)&ix->entry_hash, &ix->cap_hashes, ix->nentries + cu,
			  sizeof *ix->entry_hash))) {
		free(u);
		return st;
	}
	uint32_t slot = (uint32_t)ix->nvideos;
	uint64_t first = ix->nentries;
	for (size_t i = 0; i < cu && !st; i++) {
		st = hg_index_add(ix->frames, &u[i], first + i);
		if (st)
			drop_entries(ix, first, i);
	}
	for (size_t i = 0; i < cu && !st; i++) {
		ix->entry_video[first + i] = slot;
		ix->entry_hash[first + i] = u[i];
	}
	free(u);
	if (st)
		return st;
	ix->nentries += cu;
	ix->videos[ix->nvideos++] = (struct video){video_id, first, cu, 1};
	if (ix->ids.vals[at] == TOMB)
		ix->ids.tombs--;
	ix->ids.keys[at] = video_id;
	ix->ids.vals[at] = slot + 1;
	ix->ids.used++;
	ix->alive++;
	return maybe_compact(ix);
}

hg_status hg_vpdq_index_remove(hg_vpdq_index *ix, uint64_t video_id)
{
	if (!ix)
		return HG_ERR_INVALID_ARG;
	if (ix->ids.cap == 0)
		return HG_ERR_NOT_FOUND;
	int found;
	size_t at = idmap_find(&ix->ids, video_id, &found);
	if (!found)
		return HG_ERR_NOT_FOUND;
	struct video *v = &ix->videos[ix->ids.vals[at] - 1];
	drop_entries(ix, v->first, v->usable);
	v->alive = 0;
	ix->ids.vals[at] = TOMB;
	ix->ids.used--;
	ix->ids.tombs++;
	ix->alive--;
	return HG_OK;
}

/* A query frame met an entry. */
struct pair {
	uint32_t video, entry, qidx;
};

struct pairs {
	struct pair *p;
	size_t n, cap;
};

/*
 * Appends a pair for every live entry within the radius of `hash`: one
 * radius query of the shared PDQ index (include/hashgate/index.h), whose
 * cost grows with the matches, not with the number of videos.
 */
static hg_status frame_lookup(hg_vpdq_index *ix, hg_index_results *res, const hg_pdq *hash,
			      uint32_t qidx, struct pairs *out)
{
	hg_status st = hg_index_query(ix->frames, hash, 1, ix->opts.radius, 0, res);
	if (st)
		return st;
	size_t n = hg_index_results_count(res);
	const hg_index_match *m = hg_index_results_matches(res);
	if (reserve((void **)&out->p, &out->cap, out->n + n, sizeof *out->p))
		return HG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		out->p[out->n++] = (struct pair){ix->entry_video[m[i].id], (uint32_t)m[i].id, qidx};
	return HG_OK;
}

static int cmp_pair_entry(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->video != y->video)
		return x->video < y->video ? -1 : 1;
	if (x->entry != y->entry)
		return x->entry < y->entry ? -1 : 1;
	return (x->qidx > y->qidx) - (x->qidx < y->qidx);
}

static int cmp_pair_query(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	return (x->qidx > y->qidx) - (x->qidx < y->qidx);
}

static int cmp_match(const void *a, const void *b)
{
	const hg_vpdq_match *x = a, *y = b;
	if (x->query_pct != y->query_pct)
		return x->query_pct > y->query_pct ? -1 : 1;
	if (x->target_pct != y->target_pct)
		return x->target_pct > y->target_pct ? -1 : 1;
	return (x->video_id > y->video_id) - (x->video_id < y->video_id);
}

/* Above this many candidate frames, the index is cheaper than checking
 * every remaining query frame against each (a lookup costs ~30 us at 3M
 * frames, a distance ~1 ns). */
#define CANDIDATE_FRAMES_MAX 8192

/*
 * The query frames [*from, cq) when only videos already met can still reach
 * query_pct: keeps those that can (pairs of the others are dropped: they
 * cannot pass, and later pairs cannot lift them), then compares each
 * remaining frame with every frame of theirs, appending the pairs the index
 * would have given for them. Sets *from to cq when done; leaves it when the
 * candidates hold too many frames (the caller goes on with the index).
 */
static hg_status finish_with_candidates(hg_vpdq_index *ix, const hg_pdq *uq, size_t *from,
					size_t cq, double query_pct, struct pairs *pr)
{
	size_t k = *from;
	/* Each video met so far: the distinct query frames that met it. */
	if (pr->n > 1)
		qsort(pr->p, pr->n, sizeof *pr->p, cmp_pair_entry);
	uint32_t *keep = NULL;
	size_t nkeep = 0, capk = 0, frames = 0, w = 0;
	for (size_t g = 0; g < pr->n;) {
		size_t end = g, qm = 0;
		while (end < pr->n && pr->p[end].video == pr->p[g].video)
			end++;
		qsort(pr->p + g, end - g, sizeof *pr->p, cmp_pair_query);
		for (size_t a = g; a < end; a++)
			qm += a == g || pr->p[a].qidx != pr->p[a - 1].qidx;
		if (pct(qm + (cq - k), cq) >= query_pct) {
			if (reserve((void **)&keep, &capk, nkeep + 1, sizeof *keep)) {
				free(keep);
				return HG_ERR_NOMEM;
			}
			keep[nkeep++] = pr->p[g].video;
			frames += ix->videos[pr->p[g].video].usable;
			memmove(pr->p + w, pr->p + g, (end - g) * sizeof *pr->p);
			w += end - g;
		}
		g = end;
	}
	pr->n = w; /* the videos that can no longer pass */
	if (frames > CANDIDATE_FRAMES_MAX) {
		free(keep);
		return HG_OK; /* the index goes on, for every video */
	}
	for (; k < cq; k++)
		for (size_t c = 0; c < nkeep; c++) {
			const struct video *v = &ix->videos[keep[c]];
			for (uint64_t e = v->first; e < v->first + v->usable; e++) {
				if (hg_pdq_distance(&uq[k], &ix->entry_hash[e]) > ix->opts.radius)
					continue;
				if (reserve((void **)&pr->p, &pr->cap, pr->n + 1, sizeof *pr->p)) {
					free(keep);
					return HG_ERR_NOMEM;
				}
				pr->p[pr->n++] = (struct pair){keep[c], (uint32_t)e, (uint32_t)k};
			}
		}
	free(keep);
	*from = cq;
	return HG_OK;
}

hg_status hg_vpdq_index_query(hg_vpdq_index *ix, const hg_vpdq_frame *frames, size_t n,
			      double query_pct, double target_pct, hg_vpdq_match **matches,
			      size_t *count)
{
	if (!matches || !count)
		return HG_ERR_INVALID_ARG;
	*matches = NULL;
	*count = 0;
	if (!ix || (!frames && n) || !(query_pct >= 0 && query_pct <= 100) ||
	    !(target_pct >= 0 && target_pct <= 100) || n > UINT32_MAX)
		return HG_ERR_INVALID_ARG;
	hg_pdq *uq;
	size_t cq;
	hg_status st = usable_copy(frames, n, ix->opts.min_quality, &uq, &cq);
	if (st)
		return st;
	struct pairs pr = {0};
	hg_index_results *res = NULL;
	if (cq)
		st = hg_index_results_new(&res);
	/* A video that no query frame has met yet can reach at most the share
	 * of the frames not looked up yet. Once that is under query_pct, only
	 * the videos already met can still match, and only those whose share
	 * so far plus the rest reaches it: the remaining frames are checked
	 * against their frames directly instead of through the index (and if
	 * there are none, the query is over). A query that matches nothing
	 * (most uploads) costs a fifth of its frames' lookups at the default
	 * 80%, one that matches a few videos about the same. */
	size_t i = 0;
	for (; i < cq && !st; i++) {
		if (pct(cq - i, cq) < query_pct)
			break;
		st = frame_lookup(ix, res, &uq[i], (uint32_t)i, &pr);
	}
	if (!st && i < cq)
		st = finish_with_candidates(ix, uq, &i, cq, query_pct, &pr);
	if (!st)
		for (; i < cq && !st; i++)
			st = frame_lookup(ix, res, &uq[i], (uint32_t)i, &pr);
	hg_index_results_free(res);
	free(uq);
	hg_vpdq_match *out = NULL;
	size_t nout = 0, cap = 0;
	if (!st && pr.n)
		qsort(pr.p, pr.n, sizeof *pr.p, cmp_pair_entry);
	for (size_t g = 0; !st && g < pr.n;) {
		size_t end = g, tm = 0, qm = 0;
		while (end < pr.n && pr.p[end].video == pr.p[g].video) {
			tm += end == g || pr.p[end].entry != pr.p[end - 1].entry;
			end++;
		}
		qsort(pr.p + g, end - g, sizeof *pr.p, cmp_pair_query);
		for (size_t k = g; k < end; k++)
			qm += k == g || pr.p[k].qidx != pr.p[k - 1].qidx;
		const struct video *v = &ix->videos[pr.p[g].video];
		hg_vpdq_match m = {v->id, pct(qm, cq), pct(tm, v->usable), qm, cq, tm, v->usable};
		if (m.query_pct >= query_pct && m.target_pct >= target_pct) {
			st = reserve((void **)&out, &cap, nout + 1, sizeof *out);
			if (!st)
				out[nout++] = m;
		}
		g = end;
	}
	free(pr.p);
	if (st) {
		free(out);
		return st;
	}
	if (nout > 1)
		qsort(out, nout, sizeof *out, cmp_match);
	*matches = out;
	*count = nout;
	return HG_OK;
}

void hg_vpdq_matches_free(hg_vpdq_match *matches)
{
	free(matches);
}
