/*
 * banks.h — the service's view of banks, entries and matching, per tenant.
 * banks.c adapts the bank store and the matching index (their own APIs) to
 * what the routes need: every call takes the caller's tenant, and a bank of
 * another tenant is simply not found.
 */
#ifndef HG_SERVICE_BANKS_H
#define HG_SERVICE_BANKS_H

#include <jansson.h>
#include <stddef.h>

#include "hashgate/bank.h"
#include "hashgate/hashgate.h"

typedef struct hg_banks hg_banks;

struct hg_match {
	char bank[72];
	char action[8];     /* block | review | allow */
	char entry_id[64];
	char external_id[HG_FIELD_MAX + 1]; /* the list's id for the entry; "" if none */
	char signal[8];     /* pdq | md5 | sha1 | sha256 | vpdq */
	int distance;       /* 0 for digests and vpdq */
	int variant;        /* hg_dihedral for pdq, -1 for digests and vpdq */
	/* vpdq only (zero otherwise): the shares behind the match (video_id is
	 * the index id) and whether they came from the frames with their dark
	 * bars cut off (HG_VPDQ_CROP_BARS). */
	hg_vpdq_match vpdq;
	int bars_cropped;
};

struct hg_match_set {
	struct hg_match *m;
	size_t n, cap;
};

/* Opens the banks in the store at `url` and loads every enabled bank's
 * entries into the index. */
hg_status hg_banks_open(const char *url, hg_banks **out, char *err, size_t errlen);
void hg_banks_free(hg_banks *b);
/* Why the last call on this thread failed. */
const char *hg_banks_errmsg(hg_banks *b);
/* Entries in the index (all tenants). */
size_t hg_banks_indexed(hg_banks *b);

/* Every entry of `tenant`'s enabled banks matching h: PDQ within each
 * bank's radius of any of hash[0..nvariants) of any of h's query sets
 * (hg_hashes_query_sets: the image, and its unletterboxed / uncaptioned /
 * upscaled views when hashed with HG_HASH_QUERY_DEFAULT; only when use_pdq;
 * nvariants 1..8: 8 for an upload, 1 for a client's single hash; an entry
 * appears once, with its best distance), digests exactly (only
 * when the digest is non-zero). */
hg_status hg_banks_match(hg_banks *b, const char *tenant, const hg_hashes *h, int use_pdq,
			 int nvariants, struct hg_match_set *out);
void hg_match_set_free(struct hg_match_set *s);

/* One match as the gate and the scanner print it (new reference):
 * {bank, action, entry_id, signal_type} plus distance (and variant for PDQ),
 * or for vpdq query_pct, target_pct, the frame counts and bars_cropped. */
json_t *hg_match_json(const struct hg_match *m);

/* A hashed video to match against vpdq entries: its frames, and (when it
 * had dark bars, NULL otherwise) the same frames hashed without them. */
struct hg_video_query {
	const hg_vpdq_frame *frames, *cropped;
	size_t count;
	double query_pct, target_pct; /* thresholds, 0..100 (vmatch's rule) */
};

/* Appends to *out (after what hg_banks_match put there) every vpdq entry of
 * `tenant`'s enabled banks the video matches: through the tenant's
 * hg_vpdq_index (one radius lookup per query frame, whatever the number of
 * bank videos), with the frames as hashed and, when q->cropped is set,
 * without their bars, keeping each entry's better query share. */
hg_status hg_banks_match_video(hg_banks *b, const char *tenant, const struct hg_video_query *q,
			       struct hg_match_set *out);

/* The frames of a stored vpdq value (hg_vpdq_value_parse: frame tokens
 * hex[:quality[:frame:timestamp]]; a token without quality counts as 100).
 * *frames is malloc'd. HG_ERR_PARSE, HG_ERR_NOMEM. */
hg_status hg_banks_vpdq_frames(const char *value, hg_vpdq_frame **frames, size_t *n);
/* The verdict of a match set: allow-list beats block beats review; nothing
 * matched: "allow". A static string. */
const char *hg_match_verdict(const struct hg_match_set *ms);

/* Management. JSON results are new references for the caller. `actor` is
 * the key id recorded as the author of a change. */
hg_status hg_banks_list(hg_banks *b, const char *tenant, json_t **out);
hg_status hg_banks_get(hg_banks *b, const char *tenant, const char *name, json_t **out);
hg_status hg_banks_create(hg_banks *b, const char *tenant, json_t *spec, const char *actor,
			  json_t **out);
hg_status hg_banks_update(hg_banks *b, const char *tenant, const char *name, json_t *patch,
			  const char *actor, json_t **out);
hg_status hg_banks_delete(hg_banks *b, const char *tenant, const char *name, const char *actor);
/* `entries`: an array of {"signal_type", "value", "external_id"?}. */
hg_status hg_banks_add(hg_banks *b, const char *tenant, const char *name, json_t *entries,
		       const char *actor, json_t **out);
hg_status hg_banks_remove(hg_banks *b, const char *tenant, const char *name, const char *id,
			  const char *actor, const char *reason);
hg_status hg_banks_entries(hg_banks *b, const char *tenant, const char *name, long after,
			   long limit, json_t **out);
/* A hash-list file in memory; `format` "text", "csv" or "jsonl" (NULL: guess). */
hg_status hg_banks_import(hg_banks *b, const char *tenant, const char *name, const char *data,
			  size_t len, const char *format, const char *actor, json_t **out);

#endif
