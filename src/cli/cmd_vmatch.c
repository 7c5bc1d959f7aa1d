/*
 * cmd_vmatch.c — `hashgate vmatch`: match videos against a list of vPDQ
 * hashes, python-threatexchange's rule, through the vPDQ index.
 *
 *   hashgate hash -r 1 a.mp4 b.mp4 > bank.vpdq    (five-field lines)
 *   hashgate vmatch --list bank.vpdq upload.mp4
 *   upload.mp4,bank/clip.mp4,100.00,95.65            query,match,query%,target%
 *
 * A video query with dark bars (letterbox, pillarbox) is also matched with the
 * bars cut off (HG_VPDQ_CROP_BARS), keeping each bank video's better result.
 * A query is a video file or a vPDQ text file (the reference's output, or
 * hash lists as above: every video in it is a query). Exit 1 when anything
 * matched, 0 when nothing did, 2 on any error (the other queries still run).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/video_opts.h"
#include "hashgate/bank.h"
#include "hashgate/hashgate.h"
#include "hashgate/store.h"

#define MAX_LIST_LINES 100000000 /* 100 M frame lines, ~10 GB of text */

static const char usage[] =
	"usage: hashgate vmatch [options] (--list FILE | --bank NAME)... VIDEO...\n"
	"  --list FILE       bank vPDQ hashes: a reference file (one video, named after\n"
	"                    the file) or `hashgate hash` output for several videos\n"
	"                    (frameNumber,quality,hex,timestamp,name); repeatable\n"
	"  --bank NAME       a stored bank's vpdq entries (hashgate bank); repeatable\n"
	"  --db URL          the banks' store (default: $HASHGATE_DB, else ./hashgate.db)\n"
	"  --tenant T        the banks' tenant (default: default)\n"
	"  --query-pct P     share of the query's frames that must match (default 80)\n"
	"  --target-pct P    share of the bank video's frames that must match (default 0)\n"
	"  --json            one JSON object per query\n"
	"  --no-crop-bars    do not also match video frames with their dark bars cut off\n"
	"                    (letterbox/pillarbox; matches found that way end in\n"
	"                    \",bars-cropped\")\n"
	"  VIDEO             a video file, or a vPDQ text file (each video in it is a query)\n"
	HG_CLI_VIDEO_USAGE
	HG_CLI_LIMIT_USAGE
	"exit status: 1 if any query matched, 0 if none, 2 on error\n";

struct query {
	const char *name;
	const hg_vpdq_frame *frames;
	size_t count;
	const hg_vpdq_frame *cropped; /* the frames without their bars, or NULL */
};

static int cmp_match(const void *a, const void *b)
{
	const hg_vpdq_match *x = a, *y = b;
	if (x->query_pct != y->query_pct)
		return x->query_pct > y->query_pct ? -1 : 1;
	return (x->video_id > y->video_id) - (x->video_id < y->video_id);
}

/* Queries with the frames as hashed, then (when the query had bars) with
 * the frames inside the bars, keeping each bank video's better result.
 * *cropped_from[i] says which one match i came from. */
static hg_status query_both(hg_vpdq_index *ix, const struct query *q, double qpct, double tpct,
			    hg_vpdq_match **out, size_t *n, unsigned char **cropped_from)
{
	hg_vpdq_match *a, *b = NULL;
	size_t na, nb = 0;
	*cropped_from = NULL;
	hg_status st = hg_vpdq_index_query(ix, q->frames, q->count, qpct, tpct, &a, &na);
	if (!st && q->cropped)
		st = hg_vpdq_index_query(ix, q->cropped, q->count, qpct, tpct, &b, &nb);
	hg_vpdq_match *m = st ? NULL : malloc((na + nb + 1) * sizeof *m);
	unsigned char *from = m ? calloc(na + nb + 1, 1) : NULL;
	if (!from) {
		free(m);
		hg_vpdq_matches_free(a);
		hg_vpdq_matches_free(b);
		return st ? st : HG_ERR_NOMEM;
	}
	if (na)
		memcpy(m, a, na * sizeof *m); /* a is NULL when nothing matched */
	size_t k = na;
	for (size_t j = 0; j < nb; j++) {
		size_t i = 0;
		while (i < na && m[i].video_id != b[j].video_id)
			i++;
		if (i == na)
			i = k++;
		else if (m[i].query_pct >= b[j].query_pct)
			continue;
		m[i] = b[j];
		from[i] = 1;
	}
	hg_vpdq_matches_free(a);
	hg_vpdq_matches_free(b);
	/* Insertion sort (matches are few), keeping `from` aligned. */
	for (size_t i = 1; i < k; i++) {
		for (size_t j = i; j > 0 && cmp_match(&m[j - 1], &m[j]) > 0; j--) {
			hg_vpdq_match t = m[j];
			m[j] = m[j - 1];
			m[j - 1] = t;
			unsigned char f = from[j];
			from[j] = from[j - 1];
			from[j - 1] = f;
		}
	}
	*out = m;
	*n = k;
	*cropped_from = from;
	return HG_OK;
}

/* ---- a stored bank's vpdq entries as videos ------------------------------ */

struct bank_load {
	hg_vpdq_list *list;
	size_t cap;
	int oom;
};

/* One live vpdq entry becomes one video: its frames in order, with the
 * quality stored per frame (entries stored with bare hashes count every
 * frame as usable), named by the entry's external id, else "entry:<id>". */
static int add_entry(void *ctx, const hg_entry *e)
{
	struct bank_load *b = ctx;
	if (e->signal != HG_SIGNAL_VPDQ)
		return 0;
	hg_vpdq_frame *f = NULL;
	size_t n = 0;
	/* The store keeps values normalised, so only memory can fail here. */
	hg_status st = hg_vpdq_value_parse(e->value, strlen(e->value), &f, &n);
	char idname[32];
	snprintf(idname, sizeof idname, "entry:%lld", (long long)e->id);
	char *name = strdup(e->external_id && *e->external_id ? e->external_id : idname);
	if (b->list->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		hg_vpdq_video *v = realloc(b->list->videos, cap * sizeof *v);
		if (v) {
			b->list->videos = v;
			b->cap = cap;
		}
	}
	if (st || !name || b->list->count == b->cap) {
		hg_vpdq_frames_free(f);
		free(name);
		b->oom = 1;
		return 1;
	}
	b->list->videos[b->list->count++] = (hg_vpdq_video){name, f, n};
	return 0;
}

/* Appends the vpdq entries of stored bank `name` to *list. */
static int load_bank(const char *db, const char *tenant, const char *name, hg_vpdq_list *list)
{
	if (!db || !*db)
		db = getenv("HASHGATE_DB");
	if (!db || !*db)
		db = HG_STORE_DEFAULT_URL;
	if (!tenant)
		tenant = HG_DEFAULT_TENANT;
	hg_store *st = NULL;
	hg_bank bank;
	struct bank_load b = {list, list->count, 0};
	hg_status s = hg_store_open(db, &st);
	if (!s)
		s = hg_store_bank_get(st, tenant, name, &bank);
	if (!s && !bank.enabled) {
		fprintf(stderr, "hashgate vmatch: bank %s is disabled\n", name);
		hg_store_free(st);
		return -1;
	}
	if (!s)
		s = hg_store_entries(st, tenant, name, 0, 0, add_entry, &b);
	if (s || b.oom) {
		fprintf(stderr, "hashgate vmatch: bank %s in %s: %s\n", name, db,
			b.oom ? "out of memory" : st ? hg_store_errmsg(st) : hg_strerror(s));
		hg_store_free(st);
		return -1;
	}
	hg_store_free(st);
	return 0;
}

/* Matches one query; returns 1 if it matched, 0 if not, -1 on error. */
static int run_query(hg_vpdq_index *ix, const hg_vpdq_list *bank, const struct query *q,
		     double qpct, double tpct, int json)
{
	hg_vpdq_match *ms;
	size_t n;
	unsigned char *from;
	hg_status st = query_both(ix, q, qpct, tpct, &ms, &n, &from);
	if (st) {
		fprintf(stderr, "hashgate: %s: %s\n", q->name, hg_strerror(st));
		return -1;
	}
	if (json) {
		json_t *o = json_object(), *arr = json_array();
		json_object_set_new(o, "file", json_string(q->name));
		json_object_set_new(o, "frames", json_integer((json_int_t)q->count));
		for (size_t i = 0; i < n; i++) {
			json_t *m = json_object();
			json_object_set_new(m, "video", json_string(bank->videos[ms[i].video_id].name));
			json_object_set_new(m, "query_pct", json_real(ms[i].query_pct));
			json_object_set_new(m, "target_pct", json_real(ms[i].target_pct));
			json_object_set_new(m, "query_frames_matched",
					    json_integer((json_int_t)ms[i].query_matched));
			json_object_set_new(m, "query_frames_usable",
					    json_integer((json_int_t)ms[i].query_usable));
			json_object_set_new(m, "target_frames_matched",
					    json_integer((json_int_t)ms[i].target_matched));
			json_object_set_new(m, "target_frames_usable",
					    json_integer((json_int_t)ms[i].target_usable));
			json_object_set_new(m, "bars_cropped", json_boolean(from[i]));
			json_array_append_new(arr, m);
		}
		json_object_set_new(o, "matches", arr);
		char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
		if (s)
			puts(s);
		free(s);
		json_decref(o);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s,%s,%.2f,%.2f%s\n", q->name, bank->videos[ms[i].video_id].name,
			       ms[i].query_pct, ms[i].target_pct, from[i] ? ",bars-cropped" : "");
	}
	free(ms);
	free(from);
	return n > 0;
}

/* Hashes or reads one argument and matches every query it holds. */
static int match_arg(hg_vpdq_index *ix, const hg_vpdq_list *bank, hg_video_hasher *vh,
		     const struct hg_cli_video *video, const char *path, double qpct,
		     double tpct, int json)
{
	int result = 0;
	if (hg_cli_is_video(path)) {
		hg_vpdq v;
		if (hg_vpdq_hash_file(vh, path, &video->opts, &v)) {
			fprintf(stderr, "hashgate: %s: %s\n", path, hg_video_hasher_errmsg(vh));
			return -1;
		}
		struct query q = {path, v.frames, v.count, v.cropped_with_bars ? v.cropped : NULL};
		result = run_query(ix, bank, &q, qpct, tpct, json);
		hg_vpdq_release(&v);
		return result;
	}
	hg_vpdq_list l = {0};
	size_t bad = 0;
	hg_status st = hg_vpdq_list_read(path, MAX_LIST_LINES, &l, &bad);
	if (st) {
		if (st == HG_ERR_PARSE)
			fprintf(stderr, "hashgate: %s: not a video, and line %zu is not a vPDQ line\n",
				path, bad);
		else
			fprintf(stderr, "hashgate: %s: %s\n", path, hg_strerror(st));
		return -1;
	}
	for (size_t i = 0; i < l.count && result >= 0; i++) {
		struct query q = {l.count == 1 ? path : l.videos[i].name, l.videos[i].frames,
				  l.videos[i].count, NULL};
		int r = run_query(ix, bank, &q, qpct, tpct, json);
		result = r < 0 ? r : (result | r);
	}
	hg_vpdq_list_release(&l);
	return result;
}

int hg_cmd_vmatch(int argc, char **argv)
{
	double qpct = HG_VPDQ_DEFAULT_QUERY_PCT, tpct = HG_VPDQ_DEFAULT_TARGET_PCT;
	int json = 0;
	hg_limits limits;
	hg_limits_default(&limits);
	struct hg_cli_video video;
	hg_cli_video_init(&video);
	video.opts.flags |= HG_VPDQ_CROP_BARS;
	hg_vpdq_list bank = {0};
	const char *db = NULL, *tenant = NULL;
	const char *banks[64];
	size_t nbanks = 0;
	int i, rc = HG_EXIT_USAGE;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		int used;
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			hg_vpdq_list_release(&bank);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--no-crop-bars")) {
			video.opts.flags &= ~(unsigned)HG_VPDQ_CROP_BARS;
		} else if (!strcmp(a, "--bank") && i + 1 < argc) {
			if (nbanks == sizeof banks / sizeof banks[0]) {
				rc = hg_cli_usage_error("vmatch", usage, "too many --bank");
				goto out;
			}
			banks[nbanks++] = argv[++i];
		} else if (!strcmp(a, "--db") && i + 1 < argc) {
			db = argv[++i];
		} else if (!strcmp(a, "--tenant") && i + 1 < argc) {
			tenant = argv[++i];
		} else if (!strcmp(a, "--list") && i + 1 < argc) {
			size_t bad = 0;
			const char *path = argv[++i];
			hg_status st = hg_vpdq_list_read(path, MAX_LIST_LINES, &bank, &bad);
			if (st == HG_ERR_PARSE) {
				fprintf(stderr, "hashgate vmatch: %s:%zu: not a vPDQ line\n", path, bad);
				goto out;
			} else if (st) {
				fprintf(stderr, "hashgate vmatch: %s: %s\n", path, hg_strerror(st));
				goto out;
			}
		} else if ((!strcmp(a, "--query-pct") || !strcmp(a, "--target-pct")) &&
			   i + 1 < argc) {
			if (hg_cli_parse_pct(argv[++i], a[2] == 'q' ? &qpct : &tpct)) {
				rc = hg_cli_usage_error("vmatch", usage, "percentages are 0..100");
				goto out;
			}
		} else if ((used = hg_cli_video_option(argc, argv, i, &video)) != 0 ||
			   (used = hg_cli_limit_option(argc, argv, i, &limits)) != 0) {
			if (used < 0) {
				rc = hg_cli_usage_error("vmatch", usage, "bad option value");
				goto out;
			}
			i += used - 1;
		} else {
			rc = hg_cli_usage_error("vmatch", usage, "unknown option");
			goto out;
		}
	}
	for (size_t k = 0; k < nbanks; k++) {
		if (load_bank(db, tenant, banks[k], &bank)) {
			rc = HG_EXIT_ERROR;
			goto out;
		}
	}
	if (bank.count == 0 || i >= argc) {
		rc = hg_cli_usage_error("vmatch", usage,
					bank.count ? "no videos given"
						   : "no --list or --bank with any video");
		goto out;
	}
	hg_cli_video_inherit(&video, &limits);
	hg_vpdq_index *ix = NULL;
	hg_video_hasher *vh = NULL;
	rc = HG_EXIT_ERROR;
	if (hg_vpdq_index_new(NULL, &ix) || hg_video_hasher_new(&video.limits, &vh)) {
		fprintf(stderr, "hashgate vmatch: out of memory\n");
		goto done;
	}
	for (size_t k = 0; k < bank.count; k++) {
		if (hg_vpdq_index_add(ix, k, bank.videos[k].frames, bank.videos[k].count)) {
			fprintf(stderr, "hashgate vmatch: cannot index %s\n", bank.videos[k].name);
			goto done;
		}
	}
	int any = 0, failed = 0;
	for (; i < argc; i++) {
		int r = match_arg(ix, &bank, vh, &video, argv[i], qpct, tpct, json);
		failed |= r < 0;
		any |= r > 0;
	}
	rc = failed ? HG_EXIT_ERROR : any ? HG_EXIT_MATCH : HG_EXIT_OK;
	if (fflush(stdout) != 0)
		rc = HG_EXIT_ERROR;
done:
	hg_vpdq_index_free(ix);
	hg_video_hasher_free(vh);
out:
	hg_vpdq_list_release(&bank);
	return rc;
}
