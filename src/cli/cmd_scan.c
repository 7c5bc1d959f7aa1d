/*
 * cmd_scan.c — `hashgate scan`: check content a platform already stores
 * against its banks, the way the upload gate checks new uploads.
 *
 * The tree is walked and sorted first, so the order is stable: that makes a
 * scan resumable from one checkpoint (the last path of the finished prefix,
 * written atomically to --state) without ever recording which files did not
 * match. Files are hashed on -j threads with the gate's defaults
 * (HG_HASH_QUERY_DEFAULT + digests for images, vPDQ + digests for videos,
 * both for animated GIF/WebP) and matched through the same bank indexes and
 * verdict as `hashgate serve` (src/service/banks.c). Only files that match
 * are printed; files that are neither images nor videos are counted, not
 * failed.
 *
 * Exit: 0 nothing matched, 1 something matched, 2 an error (a file that
 * could not be read or decoded as a recognised image or video, or a bad
 * option).
 */
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/grow.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/video_opts.h"
#include "hashgate/hashgate.h"
#include "hashgate/store.h"
#include "service/banks.h"
#include "service/service.h"

enum { ST_PENDING, ST_CLEAN, ST_MATCH, ST_SKIPPED, ST_FAILED };

struct item {
	char *path;
	int state;
	struct hg_match_set ms;
	char errmsg[200];
};

struct scan {
	struct item *items;
	size_t n, cap, next, done_prefix;
	hg_banks *banks;
	const char *tenant;
	hg_limits limits;
	struct hg_cli_video video;
	double query_pct, target_pct;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* nftw has no user pointer: the walk fills this one list. */
static struct scan *walk_into;

static int on_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	struct scan *s = walk_into;
	if (hg__grow((void **)&s->items, &s->cap, s->n + 1, sizeof s->items[0]))
		return -1;
	memset(&s->items[s->n], 0, sizeof s->items[0]);
	s->items[s->n].path = strdup(path);
	return s->items[s->n++].path ? 0 : -1;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->path, ((const struct item *)b)->path);
}

/* Matches what check_file hashed: PDQ (when it is an image of quality >= 50)
 * and digests, then the video's frames against vpdq entries. */
static int match_file(struct scan *s, const hg_hashes *hs, int image, const hg_vpdq *v,
		      struct item *it)
{
	hg_status st = hg_banks_match(s->banks, s->tenant, hs,
				      image && hs->pdq.quality >= HG_PDQ_MIN_QUALITY, HG_DIH_COUNT,
				      &it->ms);
	if (st == HG_OK && v->count) {
		struct hg_video_query q = {v->frames, v->cropped_with_bars ? v->cropped : NULL,
					   v->count, s->query_pct, s->target_pct};
		st = hg_banks_match_video(s->banks, s->tenant, &q, &it->ms);
	}
	if (st != HG_OK) {
		snprintf(it->errmsg, sizeof it->errmsg, "%s", hg_banks_errmsg(s->banks));
		return ST_FAILED;
	}
	return it->ms.n ? ST_MATCH : ST_CLEAN;
}

/* Hashes one file as the gate hashes an upload: an image with PDQ, a video
 * with vPDQ (streamed from the file), an animated GIF/WebP with both; plus
 * the file's digests. Returns its state. */
static int check_file(struct scan *s, hg_hasher *h, hg_video_hasher *vh, hg_hashes *hs,
		      struct item *it)
{
	int gif;
	hg_video_format vf = hg_cli_video_sniff(it->path, &gif);
	int image = vf == HG_VIDEO_NONE || vf == HG_VIDEO_GIF || vf == HG_VIDEO_WEBP;
	int video = vf != HG_VIDEO_NONE || gif;
	hg_status st = HG_OK;
	memset(hs, 0, sizeof *hs);
	if (image)
		st = hg_hash_file(h, it->path, HG_HASH_QUERY_DEFAULT | HG_HASH_DIGESTS, hs);
	else if (hg_digest_file(it->path, hs) != 0)
		st = HG_ERR_IO;
	if ((st == HG_ERR_UNKNOWN_FORMAT || st == HG_ERR_EMPTY) && !video)
		return ST_SKIPPED; /* stored content is not all images and videos */
	if (st != HG_OK) {
		snprintf(it->errmsg, sizeof it->errmsg, "%s",
			 image ? hg_hasher_errmsg(h) : "cannot read the file");
		return ST_FAILED;
	}
	hg_vpdq v = {0};
	if (video && (st = hg_vpdq_hash_file(vh, it->path, &s->video.opts, &v)) != HG_OK) {
		if (!(st == HG_ERR_UNKNOWN_FORMAT && gif)) { /* else: a one-image GIF */
			/* As the gate does: a video that cannot be hashed (over a
			 * limit, cut, damaged) is still decided by its banked digests
			 * or a GIF's banked first frame; only if neither matches is it
			 * a failure. */
			hg_vpdq none = {0};
			if (match_file(s, hs, image, &none, it) == ST_MATCH)
				return ST_MATCH;
			snprintf(it->errmsg, sizeof it->errmsg, "%s", hg_video_hasher_errmsg(vh));
			return ST_FAILED;
		}
	}
	int state = match_file(s, hs, image, &v, it);
	hg_vpdq_release(&v);
	return state;
}

static void *worker(void *arg)
{
	struct scan *s = arg;
	hg_hasher *h = NULL;
	hg_video_hasher *vh = NULL;
	hg_status init = hg_hasher_new(&s->limits, &h);
	if (init == HG_OK)
		init = hg_video_hasher_new(&s->video.limits, &vh);
	hg_hashes *hs = malloc(sizeof *hs);
	for (;;) {
		pthread_mutex_lock(&s->lock);
		size_t i = s->next < s->n ? s->next++ : s->n;
		pthread_mutex_unlock(&s->lock);
		if (i == s->n)
			break;
		struct item *it = &s->items[i];
		int state;
		hg_status st = init ? init : hs ? HG_OK : HG_ERR_NOMEM;
		if (st != HG_OK) {
			snprintf(it->errmsg, sizeof it->errmsg, "%s", hg_strerror(st));
			state = ST_FAILED;
		} else {
			state = check_file(s, h, vh, hs, it);
		}
		pthread_mutex_lock(&s->lock);
		it->state = state;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
	}
	free(hs);
	hg_hasher_free(h);
	hg_video_hasher_free(vh);
	return NULL;
}

static void print_match(const struct item *it, int json)
{
	const char *verdict = hg_match_verdict(&it->ms);
	if (!json) {
		printf("%s,%s", verdict, it->path);
		for (size_t k = 0; k < it->ms.n; k++) {
			const struct hg_match *m = &it->ms.m[k];
			if (!strcmp(m->signal, "vpdq"))
				printf(",%s:%s:vpdq:%.2f:%.2f", m->bank, m->entry_id,
				       m->vpdq.query_pct, m->vpdq.target_pct);
			else
				printf(",%s:%s:%s:%d:%s", m->bank, m->entry_id, m->signal,
				       m->distance,
				       m->variant >= 0 ? hg_dihedral_name(m->variant) : m->signal);
		}
		putchar('\n');
		return;
	}
	json_t *arr = json_array();
	for (size_t k = 0; k < it->ms.n; k++)
		json_array_append_new(arr, hg_match_json(&it->ms.m[k]));
	json_t *o = json_pack("{s:s,s:s,s:o}", "file", it->path, "verdict", verdict, "matches", arr);
	char *txt = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (txt)
		puts(txt);
	free(txt);
	json_decref(o);
}

/* Writes the checkpoint atomically: a crash leaves the old or the new one. */
static int save_state(const char *state, const char *last)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", state);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	int ok = fprintf(f, "hashgate-scan 1\n%s\n", last) > 0;
	ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok &= fclose(f) == 0;
	return ok && rename(tmp, state) == 0 ? 0 : -1;
}

/* The last finished path of a previous run, or "" when starting afresh. */
static int load_state(const char *state, char *last, size_t cap)
{
	last[0] = '\0';
	FILE *f = fopen(state, "r");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	char head[64];
	int ok = fgets(head, sizeof head, f) && !strcmp(head, "hashgate-scan 1\n") &&
		 fgets(last, (int)cap, f);
	fclose(f);
	if (!ok)
		return -1;
	last[strcspn(last, "\n")] = '\0';
	return 0;
}

static const char usage[] =
	"usage: hashgate scan [options] DIR|FILE...\n"
	"  --db URL          the store (else $HASHGATE_DB, else ./hashgate.db)\n"
	"  --tenant T        whose banks to match (default: " HG_DEFAULT_TENANT ")\n"
	"  -j N              hash on N threads (default 2)\n"
	"  --state FILE      resume from / record progress in FILE\n"
	"  --json            one JSON object per matched file\n"
	"  --quiet           no progress line on stderr\n"
	"  --query-pct P     videos: share of the file's frames that must match (default 80)\n"
	"  --target-pct P    videos: share of the bank video's frames that must match (default 0)\n"
	HG_CLI_VIDEO_USAGE HG_CLI_LIMIT_USAGE;

int hg_cmd_scan(int argc, char **argv)
{
	const char *db = getenv("HASHGATE_DB"), *state = NULL;
	struct scan s = {.tenant = HG_DEFAULT_TENANT, .query_pct = HG_VPDQ_DEFAULT_QUERY_PCT,
			 .target_pct = HG_VPDQ_DEFAULT_TARGET_PCT};
	long threads = 2;
	int json = 0, quiet = 0, i, used;
	hg_limits_default(&s.limits);
	hg_cli_video_init(&s.video);
	/* As the gate: letterboxed copies match; skipping unsampled
	 * non-reference frames never changes the hashes. */
	s.video.opts.flags = HG_VPDQ_CROP_BARS | HG_VPDQ_SKIP_NONREF;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(a, "--db") && i + 1 < argc) {
			db = argv[++i];
		} else if (!strcmp(a, "--tenant") && i + 1 < argc) {
			s.tenant = argv[++i];
		} else if (!strcmp(a, "--state") && i + 1 < argc) {
			state = argv[++i];
		} else if (!strcmp(a, "-j") && i + 1 < argc) {
			if (hg_cli_parse_long(argv[++i], 1, 256, &threads))
				return hg_cli_usage_error("scan", usage, "-j takes 1..256");
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--quiet")) {
			quiet = 1;
		} else if ((!strcmp(a, "--query-pct") || !strcmp(a, "--target-pct")) &&
			   i + 1 < argc) {
			if (hg_cli_parse_pct(argv[++i], a[2] == 'q' ? &s.query_pct : &s.target_pct))
				return hg_cli_usage_error("scan", usage, "percentages are 0..100");
		} else if ((used = hg_cli_video_option(argc, argv, i, &s.video)) != 0 ||
			   (used = hg_cli_limit_option(argc, argv, i, &s.limits)) > 0) {
			if (used < 0)
				return hg_cli_usage_error("scan", usage, "bad option value");
			i += used - 1;
		} else {
			return hg_cli_usage_error("scan", usage, "unknown option or missing value");
		}
	}
	if (i >= argc)
		return hg_cli_usage_error("scan", usage, "nothing to scan");
	if (!db)
		db = "hashgate.db";
	hg_cli_video_inherit(&s.video, &s.limits);

	char resume[4096];
	if (state && load_state(state, resume, sizeof resume)) {
		fprintf(stderr, "hashgate scan: %s is not a scan checkpoint\n", state);
		return HG_EXIT_ERROR;
	}
	walk_into = &s;
	for (; i < argc; i++) {
		if (nftw(argv[i], on_entry, 32, FTW_PHYS) != 0) {
			fprintf(stderr, "hashgate scan: %s: %s\n", argv[i], strerror(errno));
			return HG_EXIT_ERROR;
		}
	}
	qsort(s.items, s.n, sizeof *s.items, by_path);
	size_t start = 0;
	while (state && resume[0] && start < s.n && strcmp(s.items[start].path, resume) <= 0)
		s.items[start++].state = ST_CLEAN; /* finished by an earlier run */
	s.next = s.done_prefix = start;

	char err[512] = "";
	if (hg_banks_open(db, &s.banks, err, sizeof err) != HG_OK) {
		fprintf(stderr, "hashgate scan: %s\n", err);
		return HG_EXIT_ERROR;
	}
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	pthread_t tid[256];
	long started = 0;
	for (; started < threads; started++)
		if (pthread_create(&tid[started], NULL, worker, &s) != 0)
			break;
	if (started == 0)
		worker(&s);

	size_t counts[ST_FAILED + 1] = {0};
	const int progress = !quiet && isatty(STDERR_FILENO);
	time_t last_save = time(NULL);
	for (size_t k = start; k < s.n; k++) {
		pthread_mutex_lock(&s.lock);
		while (s.items[k].state == ST_PENDING)
			pthread_cond_wait(&s.cond, &s.lock);
		pthread_mutex_unlock(&s.lock);
		struct item *it = &s.items[k];
		counts[it->state]++;
		if (it->state == ST_MATCH)
			print_match(it, json);
		else if (it->state == ST_FAILED)
			fprintf(stderr, "%shashgate: %s: %s\n", progress ? "\r\033[K" : "", it->path,
				it->errmsg);
		hg_match_set_free(&it->ms);
		if (state && (time(NULL) != last_save || k + 1 == s.n)) {
			fflush(stdout); /* a match is printed before the checkpoint passes it */
			if (save_state(state, it->path))
				fprintf(stderr, "hashgate scan: cannot write %s\n", state);
			last_save = time(NULL);
		}
		if (progress && ((k & 63) == 0 || k + 1 == s.n))
			fprintf(stderr, "\r\033[Kscanned %zu/%zu  matched %zu  errors %zu", k + 1, s.n,
				counts[ST_MATCH], counts[ST_FAILED]);
	}
	for (long t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	if (!quiet)
		fprintf(stderr, "%sscanned %zu files (%zu resumed past): %zu matched, %zu clean, "
			"%zu neither images nor videos, %zu errors\n", progress ? "\r\033[K" : "", s.n - start, start,
			counts[ST_MATCH], counts[ST_CLEAN], counts[ST_SKIPPED], counts[ST_FAILED]);
	hg_banks_free(s.banks);
	for (size_t k = 0; k < s.n; k++)
		free(s.items[k].path);
	free(s.items);
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.cond);
	if (fflush(stdout) != 0 || counts[ST_FAILED])
		return HG_EXIT_ERROR;
	return counts[ST_MATCH] ? HG_EXIT_MATCH : HG_EXIT_OK;
}
