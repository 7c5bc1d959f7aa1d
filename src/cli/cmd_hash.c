/*
 * cmd_hash.c — `hashgate hash`: one line per file in the reference tool's
 * format, in the order the files were given, whatever -j is.
 *
 *   <pdq-hex>,<quality>,<path>                      default
 *   <orig>,<rot90>,...,<flipminus1>,<quality>,<path> --dihedral
 *   ...,md5=<hex>,sha1=<hex>,sha256=<hex>           --all
 *   {"file": ..., "pdq": ..., ...}                   --json
 *
 * A video (sniffed from its bytes; animated GIF and WebP count) prints the
 * reference's vPDQ lines instead, "frameNumber,quality,hex,timestamp", with
 * ",<path>" appended when several files are given; with --json it is one
 * {"file": ..., "type": "video", "vpdq": [...]} object (see video_opts.c).
 * With --all a video's file digests come first, on a comment line that
 * vmatch --list skips: "# md5=<hex>,sha1=<hex>,sha256=<hex>,<path>".
 * --entry prints a bank list line instead ("hashgate bank import" text
 * format): "vpdq:<hex:quality:frame:timestamp> ...,<path>" for a video,
 * "pdq:<hex>,<path>" for an image.
 *
 * A file that fails prints "hashgate: <path>: <reason>" on stderr; the others
 * carry on and the exit code is 2.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/video_opts.h"
#include "hashgate/bank.h"
#include "hashgate/hashgate.h"
#include "service/service.h"

struct job {
	const char *path;
	hg_hashes hashes;
	hg_vpdq vpdq;
	int is_video;
	hg_status status;
	char errmsg[320];
	int done;
};

struct pool {
	struct job *jobs;
	size_t njobs, next;
	unsigned flags;
	hg_limits limits;
	struct hg_cli_video video;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	hg_hasher *h = NULL;
	hg_video_hasher *vh = NULL;
	hg_status init = hg_hasher_new(&p->limits, &h);
	if (!init)
		init = hg_video_hasher_new(&p->video.limits, &vh);
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next < p->njobs ? p->next++ : p->njobs;
		pthread_mutex_unlock(&p->lock);
		if (i == p->njobs)
			break;
		struct job *j = &p->jobs[i];
		if (init) {
			j->status = init;
			snprintf(j->errmsg, sizeof j->errmsg, "%s", hg_strerror(init));
		} else if (hg_cli_is_video(j->path) &&
			   (j->status = hg_vpdq_hash_file(vh, j->path, &p->video.opts, &j->vpdq)) !=
				   HG_ERR_UNKNOWN_FORMAT) {
			j->is_video = 1;
			if (j->status)
				snprintf(j->errmsg, sizeof j->errmsg, "%s", hg_video_hasher_errmsg(vh));
			/* Videos are streamed, not loaded: their digests are a
			 * second, sequential read of the file. */
			else if ((p->flags & HG_HASH_DIGESTS) && hg_digest_file(j->path, &j->hashes)) {
				j->status = HG_ERR_IO;
				snprintf(j->errmsg, sizeof j->errmsg, "cannot read the file for its digests");
				hg_vpdq_release(&j->vpdq);
			}
		} else {
			j->status = hg_hash_file(h, j->path, p->flags, &j->hashes);
			if (j->status)
				snprintf(j->errmsg, sizeof j->errmsg, "%s", hg_hasher_errmsg(h));
		}
		pthread_mutex_lock(&p->lock);
		j->done = 1;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	hg_hasher_free(h);
	hg_video_hasher_free(vh);
	return NULL;
}

/* "<lead>md5=<hex>,sha1=<hex>,sha256=<hex>", the --all fields of images
 * and videos alike. */
static void print_digests(const char *lead, const hg_hashes *hs)
{
	char md5[33], sha1[41], sha256[65];
	hg_hex_encode(hs->md5, 16, md5);
	hg_hex_encode(hs->sha1, 20, sha1);
	hg_hex_encode(hs->sha256, 32, sha256);
	printf("%smd5=%s,sha1=%s,sha256=%s", lead, md5, sha1, sha256);
}

/* "md5", "sha1", "sha256" members, the --all keys of images and videos. */
static void json_digests(json_t *o, const hg_hashes *hs)
{
	char buf[65];
	hg_hex_encode(hs->md5, 16, buf);
	json_object_set_new(o, "md5", json_string(buf));
	hg_hex_encode(hs->sha1, 20, buf);
	json_object_set_new(o, "sha1", json_string(buf));
	hg_hex_encode(hs->sha256, 32, buf);
	json_object_set_new(o, "sha256", json_string(buf));
}

/* A bank list line; 0, or -1 when the video has more frames than an entry
 * holds. */
static int print_entry(const struct job *j)
{
	char tok[HG_VPDQ_TOKEN_MAX + 1];
	if (!j->is_video) {
		hg_pdq_to_hex(&j->hashes.pdq.hash[0], tok);
		printf("pdq:%s,%s\n", tok, j->path);
		return 0;
	}
	if (j->vpdq.count > HG_VPDQ_MAX_FRAMES) {
		fflush(stdout);
		fprintf(stderr, "hashgate: %s: %zu hashed frames, more than a bank entry holds (%d): "
			"use a larger -r\n", j->path, j->vpdq.count, HG_VPDQ_MAX_FRAMES);
		return -1;
	}
	fputs("vpdq:", stdout);
	for (size_t i = 0; i < j->vpdq.count; i++) {
		hg_vpdq_token_format(&j->vpdq.frames[i], 4, tok, sizeof tok);
		printf("%s%s", i ? " " : "", tok);
	}
	printf(",%s\n", j->path);
	return 0;
}

static void print_text(const struct job *j, unsigned flags)
{
	char hex[HG_PDQ_HEX_LEN + 1];
	int n = (flags & HG_HASH_DIHEDRAL) ? HG_DIH_COUNT : 1;
	for (int d = 0; d < n; d++) {
		hg_pdq_to_hex(&j->hashes.pdq.hash[d], hex);
		printf("%s,", hex);
	}
	printf("%d,%s", j->hashes.pdq.quality, j->path);
	if (flags & HG_HASH_DIGESTS)
		print_digests(",", &j->hashes);
	putchar('\n');
}

static json_t *json_dihedral(const hg_pdq_result *r)
{
	char hex[HG_PDQ_HEX_LEN + 1];
	json_t *d = json_object();
	for (int i = 0; i < HG_DIH_COUNT; i++) {
		hg_pdq_to_hex(&r->hash[i], hex);
		json_object_set_new(d, hg_dihedral_name(i), json_string(hex));
	}
	return d;
}

static json_t *json_extras(const hg_hashes *hs, unsigned flags)
{
	char hex[HG_PDQ_HEX_LEN + 1];
	json_t *a = json_array();
	for (size_t i = 0; i < hs->n_extra; i++) {
		const hg_extra_hash *e = &hs->extra[i];
		json_t *o = json_object();
		json_object_set_new(o, "kind", json_string(hg_extra_kind_name(e->kind)));
		json_object_set_new(o, "name", json_string(e->name));
		json_object_set_new(o, "x", json_integer((json_int_t)e->x));
		json_object_set_new(o, "y", json_integer((json_int_t)e->y));
		json_object_set_new(o, "width", json_integer((json_int_t)e->width));
		json_object_set_new(o, "height", json_integer((json_int_t)e->height));
		hg_pdq_to_hex(&e->pdq.hash[0], hex);
		json_object_set_new(o, "pdq", json_string(hex));
		json_object_set_new(o, "quality", json_integer(e->pdq.quality));
		if ((flags & HG_HASH_DIHEDRAL) && e->kind != HG_EXTRA_REGION)
			json_object_set_new(o, "dihedral", json_dihedral(&e->pdq));
		json_array_append_new(a, o);
	}
	return a;
}

static void print_json(const struct job *j, unsigned flags)
{
	char hex[HG_PDQ_HEX_LEN + 1];
	json_t *o = json_object();
	json_object_set_new(o, "file", json_string(j->path));
	hg_pdq_to_hex(&j->hashes.pdq.hash[0], hex);
	json_object_set_new(o, "pdq", json_string(hex));
	json_object_set_new(o, "quality", json_integer(j->hashes.pdq.quality));
	json_object_set_new(o, "format", json_string(hg_format_name(j->hashes.format)));
	json_object_set_new(o, "width", json_integer((json_int_t)j->hashes.width));
	json_object_set_new(o, "height", json_integer((json_int_t)j->hashes.height));
	if (flags & HG_HASH_DIHEDRAL)
		json_object_set_new(o, "dihedral", json_dihedral(&j->hashes.pdq));
	if (flags & (HG_HASH_UNLETTERBOX | HG_HASH_REGIONS | HG_HASH_UNCAPTION | HG_HASH_UPSCALE |
		     HG_HASH_DIHEDRAL_PIXELS))
		json_object_set_new(o, "extra", json_extras(&j->hashes, flags));
	if (flags & HG_HASH_DIGESTS)
		json_digests(o, &j->hashes);
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (s)
		puts(s);
	free(s);
	json_decref(o);
}

static const char usage[] =
	"usage: hashgate hash [options] FILE...   (- reads stdin)\n"
	"  --dihedral        print the 8 dihedral variants (reference --pdqdih-across order)\n"
	"  --all             append md5=,sha1=,sha256= of the file bytes (videos: a\n"
	"                    \"# md5=..,sha1=..,sha256=..,PATH\" line before the frames)\n"
	"  --json            one JSON object per line\n"
	"  --entry           one bank list line per file (hashgate bank import): video\n"
	"                    \"vpdq:HEX:QUALITY:FRAME:TIMESTAMP ...,PATH\", image \"pdq:HEX,PATH\"\n"
	"  --unletterbox     also hash the picture inside uniform bars (JSON \"extra\")\n"
	"  --regions         also hash canonical sub-regions, for banks (JSON \"extra\")\n"
	"  --uncaption       also hash the picture without / under caption bands (JSON)\n"
	"  --upscale         also hash a small image with its pixels repeated (JSON)\n"
	"  --dihedral-pixels also exact dihedral variants of a small image (JSON)\n"
	"  --compat cli      the reference CLI's family (512x512 pre-resize); default: full\n"
	"  --fast            approximate: JPEGs decoded at reduced scale (a few bits off)\n"
	"  -j N              hash on N threads (output keeps the input order)\n"
	HG_CLI_VIDEO_USAGE
	HG_CLI_LIMIT_USAGE;

/* The options that only set a hashing flag. */
static const struct {
	const char *name;
	unsigned flag;
} hash_flags[] = {
	{"--dihedral", HG_HASH_DIHEDRAL},       {"--all", HG_HASH_DIGESTS},
	{"--fast", HG_HASH_FAST},               {"--unletterbox", HG_HASH_UNLETTERBOX},
	{"--regions", HG_HASH_REGIONS},         {"--uncaption", HG_HASH_UNCAPTION},
	{"--upscale", HG_HASH_UPSCALE},         {"--dihedral-pixels", HG_HASH_DIHEDRAL_PIXELS},
};

static int hash_flag(const char *arg, unsigned *flags)
{
	for (size_t k = 0; k < sizeof hash_flags / sizeof hash_flags[0]; k++)
		if (!strcmp(arg, hash_flags[k].name)) {
			*flags |= hash_flags[k].flag;
			return 1;
		}
	return 0;
}

int hg_cmd_hash(int argc, char **argv)
{
	unsigned flags = 0;
	int json = 0, entry = 0;
	long threads = 1;
	hg_limits limits;
	hg_limits_default(&limits);
	struct hg_cli_video video;
	hg_cli_video_init(&video);
	int i;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		int used;
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			return 0;
		} else if (hash_flag(a, &flags)) {
			/* a hashing option */
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--entry")) {
			entry = 1;
		} else if (!strcmp(a, "--compat") && i + 1 < argc) {
			const char *m = argv[++i];
			if (!strcmp(m, "cli"))
				flags |= HG_HASH_COMPAT_CLI;
			else if (strcmp(m, "full") != 0)
				return hg_cli_usage_error("hash", usage, "--compat takes cli or full");
		} else if (!strcmp(a, "-j") && i + 1 < argc) {
			if (hg_cli_parse_long(argv[++i], 1, 256, &threads))
				return hg_cli_usage_error("hash", usage, "-j takes 1..256");
		} else if ((used = hg_cli_video_option(argc, argv, i, &video)) != 0) {
			if (used < 0)
				return hg_cli_usage_error("hash", usage, "bad video option value");
			i += used - 1;
		} else if ((used = hg_cli_limit_option(argc, argv, i, &limits)) != 0) {
			if (used < 0)
				return hg_cli_usage_error("hash", usage, "bad limit value");
			i += used - 1;
		} else {
			fprintf(stderr, "hashgate hash: unknown option %s\n", a);
			fputs(usage, stderr);
			return HG_EXIT_USAGE;
		}
	}
	if (i >= argc)
		return hg_cli_usage_error("hash", usage, "no files given");
	if (entry && (json || (flags & (HG_HASH_DIGESTS | HG_HASH_DIHEDRAL))))
		return hg_cli_usage_error("hash", usage, "--entry excludes --json, --all, --dihedral");
	if ((flags & HG_HASH_FAST) && (flags & HG_HASH_COMPAT_CLI))
		return hg_cli_usage_error("hash", usage, "--fast and --compat cli exclude each other");

	hg_cli_video_inherit(&video, &limits);
	struct pool p = {.njobs = (size_t)(argc - i), .flags = flags, .limits = limits,
			 .video = video};
	p.jobs = calloc(p.njobs, sizeof *p.jobs);
	if (!p.jobs) {
		fprintf(stderr, "hashgate hash: out of memory\n");
		return HG_EXIT_ERROR;
	}
	for (size_t k = 0; k < p.njobs; k++)
		p.jobs[k].path = argv[i + (int)k];
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	if ((size_t)threads > p.njobs)
		threads = (long)p.njobs;
	pthread_t tid[256];
	long started = 0;
	for (; started < threads; started++)
		if (pthread_create(&tid[started], NULL, worker, &p) != 0)
			break;
	if (started == 0)
		worker(&p);

	int failed = 0;
	for (size_t k = 0; k < p.njobs; k++) {
		pthread_mutex_lock(&p.lock);
		while (!p.jobs[k].done)
			pthread_cond_wait(&p.cond, &p.lock);
		pthread_mutex_unlock(&p.lock);
		struct job *j = &p.jobs[k];
		if (j->status) {
			fflush(stdout);
			fprintf(stderr, "hashgate: %s: %s\n", j->path, j->errmsg);
			failed = 1;
		} else if (entry) {
			failed |= print_entry(j) != 0;
			hg_vpdq_release(&j->vpdq);
		} else if (j->is_video) {
			if (json) {
				json_t *o = hg_cli_vpdq_json(&j->vpdq, j->path);
				if (flags & HG_HASH_DIGESTS)
					json_digests(o, &j->hashes);
				char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
				if (s)
					puts(s);
				free(s);
				json_decref(o);
			} else {
				if (flags & HG_HASH_DIGESTS) {
					print_digests("# ", &j->hashes);
					printf(",%s\n", j->path);
				}
				hg_cli_print_vpdq_text(&j->vpdq, p.njobs > 1 ? j->path : NULL);
			}
			hg_vpdq_release(&j->vpdq);
		} else if (json) {
			print_json(j, flags);
		} else {
			print_text(j, flags);
		}
	}
	for (long t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&p.lock);
	pthread_cond_destroy(&p.cond);
	free(p.jobs);
	if (fflush(stdout) != 0)
		return HG_EXIT_ERROR;
	return failed ? HG_EXIT_ERROR : HG_EXIT_OK;
}
