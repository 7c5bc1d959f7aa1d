/*
 * cmd_bank.c — `hashgate bank SUBCOMMAND`: create, list, show, edit, import,
 * export, add (hash images into a bank), remove, stats, history. A table of
 * subcommands, each with the options it accepts; options may come anywhere.
 * The store comes from --db, else $HASHGATE_DB, else ./hashgate.db.
 *
 * Exit codes: 0 done, 2 error or usage; `import` without --strict exits 0
 * when it skipped bad lines (each is reported on stderr with its number).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/grow.h"
#include "hashgate/hashgate.h"
#include "hashgate/store.h"

/* Options; each subcommand lists the ones it accepts. */
enum {
	O_DB = 1 << 0, O_TENANT = 1 << 1, O_ACTOR = 1 << 2, O_DESC = 1 << 3, O_ACTION = 1 << 4,
	O_RADIUS = 1 << 5, O_ENABLE = 1 << 6, O_FORMAT = 1 << 7, O_SIGNAL = 1 << 8,
	O_STRICT = 1 << 9, O_SOURCE = 1 << 10, O_VERSION = 1 << 11, O_REMOVED = 1 << 12,
	O_OUT = 1 << 13, O_BANK = 1 << 14, O_DIGESTS = 1 << 15, O_REASON = 1 << 16,
	O_FILE = 1 << 17, O_ID = 1 << 18, O_LOWQ = 1 << 19, O_LIMITS = 1 << 20,
};

struct opts {
	const char *db, *tenant, *actor, *description, *format, *source, *out, *bank, *reason,
		*file;
	int action, radius, enable, strict, removed, digests, lowq, signal;
	long version;
	unsigned seen;
	hg_limits limits;
	const char **pos; /* argc entries */
	int npos;
};

static const struct optdef {
	const char *name;
	unsigned bit;
	int takes_value;
} optdefs[] = {
	{"--db", O_DB, 1},           {"--tenant", O_TENANT, 1},    {"--actor", O_ACTOR, 1},
	{"--description", O_DESC, 1}, {"--action", O_ACTION, 1},    {"--radius", O_RADIUS, 1},
	{"--enable", O_ENABLE, 0},   {"--disable", O_ENABLE, 0},   {"--format", O_FORMAT, 1},
	{"--signal", O_SIGNAL, 1},   {"--strict", O_STRICT, 0},    {"--source", O_SOURCE, 1},
	{"--version", O_VERSION, 1}, {"--include-removed", O_REMOVED, 0},
	{"-o", O_OUT, 1},            {"--bank", O_BANK, 1},        {"--digests", O_DIGESTS, 0},
	{"--reason", O_REASON, 1},   {"--file", O_FILE, 1},        {"--id", O_ID, 0},
	{"--allow-low-quality", O_LOWQ, 0},
};

static const char usage[] =
	"usage: hashgate bank SUBCOMMAND [options]\n"
	"  create NAME [--description D] [--action block|review|allow] [--radius N] [--disable]\n"
	"  edit NAME [--description D] [--action A] [--radius N] [--enable|--disable]\n"
	"  list\n"
	"  show NAME\n"
	"  import NAME FILE     (- = stdin) [--format text|csv|jsonl] [--signal TYPE] [--strict]\n"
	"                       [--source S]\n"
	"  export NAME          [--format text|csv|jsonl] [--version V] [--include-removed] [-o FILE]\n"
	"  add --bank NAME IMAGE|FOLDER...   hash images (folders: every file in them)\n"
	"                       into the bank [--digests] [--allow-low-quality]\n"
	"  remove NAME VALUE... | --file LIST | --id ID...   [--reason R] [--signal TYPE]\n"
	"  stats NAME\n"
	"  history NAME\n"
	"common options:\n"
	"  --db URL          store: a SQLite path, sqlite:PATH or postgres://... (default:\n"
	"                    $HASHGATE_DB, else ./hashgate.db)\n"
	"  --tenant T        tenant (default: default)\n"
	"  --actor A         recorded as added_by/removed_by (default: $USER)\n"
	"signal types: pdq md5 sha1 sha256 vpdq. Formats: docs/banks.md.\n";

static int fail_usage(const char *msg)
{
	return hg_cli_usage_error("bank", usage, msg);
}

/* Parses argv (after the subcommand) into o, accepting only `allowed`. */
static int parse(int argc, char **argv, unsigned allowed, struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->action = -1;
	o->radius = -1;
	o->enable = -1;
	o->signal = -1;
	hg_limits_default(&o->limits);
	if (!(o->pos = calloc((size_t)argc + 1, sizeof *o->pos))) {
		fprintf(stderr, "hashgate bank: out of memory\n");
		return HG_EXIT_ERROR;
	}
	int only_pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (only_pos || a[0] != '-' || !a[1]) {
			o->pos[o->npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		int used;
		if ((allowed & O_LIMITS) && (used = hg_cli_limit_option(argc, argv, i, &o->limits))) {
			if (used < 0)
				return fail_usage("bad limit value");
			i += used - 1;
			continue;
		}
		const struct optdef *d = NULL;
		for (size_t k = 0; k < sizeof optdefs / sizeof optdefs[0]; k++)
			if (!strcmp(a, optdefs[k].name))
				d = &optdefs[k];
		if (!d || !(allowed & d->bit)) {
			fprintf(stderr, "hashgate bank: option %s not accepted here\n", a);
			return HG_EXIT_USAGE;
		}
		const char *v = NULL;
		if (d->takes_value) {
			if (i + 1 >= argc)
				return fail_usage("an option is missing its value");
			v = argv[++i];
		}
		o->seen |= d->bit;
		long n;
		switch (d->bit) {
		case O_DB: o->db = v; break;
		case O_TENANT: o->tenant = v; break;
		case O_ACTOR: o->actor = v; break;
		case O_DESC: o->description = v; break;
		case O_ACTION: {
			hg_action act;
			if (hg_action_parse(v, &act))
				return fail_usage("--action takes block, review or allow");
			o->action = (int)act;
			break;
		}
		case O_RADIUS:
			if (hg_cli_parse_long(v, 0, HG_BANK_RADIUS_MAX, &n))
				return fail_usage("--radius takes 0..64");
			o->radius = (int)n;
			break;
		case O_ENABLE: o->enable = !strcmp(a, "--enable"); break;
		case O_FORMAT: o->format = v; break;
		case O_SIGNAL: {
			hg_signal sig;
			if (hg_signal_parse(v, strlen(v), &sig))
				return fail_usage("--signal takes pdq, md5, sha1, sha256 or vpdq");
			o->signal = (int)sig;
			break;
		}
		case O_STRICT: o->strict = 1; break;
		case O_SOURCE: o->source = v; break;
		case O_VERSION:
			if (hg_cli_parse_long(v, 1, 1L << 62, &n))
				return fail_usage("--version takes a positive number");
			o->version = n;
			break;
		case O_REMOVED: o->removed = 1; break;
		case O_OUT: o->out = v; break;
		case O_BANK: o->bank = v; break;
		case O_DIGESTS: o->digests = 1; break;
		case O_REASON: o->reason = v; break;
		case O_FILE: o->file = v; break;
		case O_LOWQ: o->lowq = 1; break;
		default: break; /* O_ID: a flag */
		}
	}
	if (!o->db)
		o->db = getenv("HASHGATE_DB");
	if (!o->db || !*o->db)
		o->db = HG_STORE_DEFAULT_URL;
	if (!o->tenant)
		o->tenant = HG_DEFAULT_TENANT;
	if (!o->actor)
		o->actor = getenv("USER");
	return 0;
}

static hg_store *open_store(const struct opts *o)
{
	hg_store *st = NULL;
	hg_status s = hg_store_open(o->db, &st);
	if (s) {
		fprintf(stderr, "hashgate bank: cannot open store %s: %s\n", o->db,
			st ? hg_store_errmsg(st) : hg_strerror(s));
		hg_store_free(st);
		return NULL;
	}
	return st;
}

static int store_error(hg_store *st, const char *what)
{
	fprintf(stderr, "hashgate bank %s: %s\n", what, hg_store_errmsg(st));
	return HG_EXIT_ERROR;
}

static void fmt_time(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm))
		strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(buf, n, "%lld", (long long)t);
}

static int print_bank_line(void *ctx, const hg_bank *b)
{
	(void)ctx;
	printf("%-24s %-7s radius=%-2d %-8s v%-6lld %lld entries\n", b->name,
	       hg_action_name(b->action), b->radius, b->enabled ? "enabled" : "disabled",
	       (long long)b->version, (long long)b->live_entries);
	return 0;
}

/* ---- subcommands ------------------------------------------------------------ */

static int need_name(const struct opts *o, int npos)
{
	if (o->npos < 1)
		return fail_usage("no bank name given");
	if (npos > 0 && o->npos != npos)
		return fail_usage("wrong number of arguments");
	return 0;
}

static void apply_spec(const struct opts *o, hg_bank *b)
{
	if (o->description)
		snprintf(b->description, sizeof b->description, "%s", o->description);
	if (o->action >= 0)
		b->action = (hg_action)o->action;
	if (o->radius >= 0)
		b->radius = o->radius;
	if (o->enable >= 0)
		b->enabled = o->enable;
}

static int do_create_edit(hg_store *st, const struct opts *o, int create)
{
	hg_bank b;
	hg_bank_init(&b);
	if (!create && hg_store_bank_get(st, o->tenant, o->pos[0], &b))
		return store_error(st, "edit");
	snprintf(b.tenant, sizeof b.tenant, "%s", o->tenant);
	snprintf(b.name, sizeof b.name, "%s", o->pos[0]);
	if (o->description && strlen(o->description) > HG_BANK_DESC_MAX)
		return fail_usage("description longer than 1024 bytes");
	apply_spec(o, &b);
	hg_status s = create ? hg_store_bank_create(st, &b, o->actor, &b)
			     : hg_store_bank_update(st, &b, o->actor, &b);
	if (s)
		return store_error(st, create ? "create" : "edit");
	print_bank_line(NULL, &b);
	return HG_EXIT_OK;
}

static int cmd_create(hg_store *st, const struct opts *o)
{
	return do_create_edit(st, o, 1);
}

static int cmd_edit(hg_store *st, const struct opts *o)
{
	return do_create_edit(st, o, 0);
}

static int cmd_list(hg_store *st, const struct opts *o)
{
	if (o->npos)
		return fail_usage("list takes no arguments");
	return hg_store_bank_list(st, o->tenant, print_bank_line, NULL) ? store_error(st, "list")
									    : HG_EXIT_OK;
}

static int cmd_show(hg_store *st, const struct opts *o)
{
	hg_bank b;
	if (hg_store_bank_get(st, o->tenant, o->pos[0], &b))
		return store_error(st, "show");
	char t[32];
	fmt_time(b.created_at, t, sizeof t);
	printf("name: %s\ntenant: %s\ndescription: %s\naction: %s\nradius: %d\nenabled: %s\n"
	       "version: %lld\nentries: %lld\ncreated: %s\n",
	       b.name, b.tenant, b.description, hg_action_name(b.action), b.radius,
	       b.enabled ? "yes" : "no", (long long)b.version, (long long)b.live_entries, t);
	return HG_EXIT_OK;
}

static int report_bad(void *ctx, int64_t line, const char *msg)
{
	fprintf(stderr, "%s:%lld: %s\n", (const char *)ctx, (long long)line, msg);
	return 0;
}

/* --format, else from the file name's extension, else text. */
static int pick_format(const struct opts *o, const char *path, hg_list_format *f)
{
	if (o->format) {
		if (hg_list_format_parse(o->format, f))
			return fail_usage("--format takes text, csv or jsonl");
		return 0;
	}
	const char *dot = path ? strrchr(path, '.') : NULL;
	*f = HG_LIST_TEXT;
	if (dot && !strcmp(dot, ".csv"))
		*f = HG_LIST_CSV;
	else if (dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".json") || !strcmp(dot, ".ndjson")))
		*f = HG_LIST_JSONL;
	return 0;
}

static int cmd_import(hg_store *st, const struct opts *o)
{
	hg_import_opts io = {HG_LIST_TEXT, o->signal, o->strict, o->actor, o->source};
	int rc = pick_format(o, o->pos[1], &io.format);
	if (rc)
		return rc;
	int64_t nbad = 0;
	hg_change_result r;
	hg_status s = hg_store_import_file(st, o->tenant, o->pos[0], o->pos[1], &io, report_bad,
					   (void *)o->pos[1], &nbad, &r);
	if (s)
		return store_error(st, "import");
	printf("%s: %lld added, %lld unchanged, %lld bad line%s skipped; version %lld\n",
	       o->pos[0], (long long)r.added, (long long)r.unchanged, (long long)nbad,
	       nbad == 1 ? "" : "s", (long long)r.version);
	return HG_EXIT_OK;
}

struct export_ctx {
	FILE *out;
	hg_list_format format;
	char *buf;
	int failed;
	int64_t n;
};

static int export_entry(void *ctx, const hg_entry *e)
{
	struct export_ctx *x = ctx;
	if (e->signal >= HG_SIGNAL_COUNT_)
		return 0;
	size_t n = hg_list_format_entry(x->format, e, x->buf, 2 * HG_LIST_LINE_MAX);
	if (!n || fwrite(x->buf, 1, n, x->out) != n) {
		x->failed = 1;
		return 1;
	}
	x->n++;
	return 0;
}

static int cmd_export(hg_store *st, const struct opts *o)
{
	struct export_ctx x = {stdout, HG_LIST_TEXT, NULL, 0, 0};
	int rc = pick_format(o, o->out, &x.format);
	if (rc)
		return rc;
	if (o->removed && o->version)
		return fail_usage("--include-removed and --version do not combine");
	if (!(x.buf = malloc(2 * HG_LIST_LINE_MAX)))
		return HG_EXIT_ERROR;
	if (o->out && !(x.out = fopen(o->out, "w"))) {
		perror(o->out);
		free(x.buf);
		return HG_EXIT_ERROR;
	}
	fputs(hg_list_header(x.format), x.out);
	hg_status s = hg_store_entries(st, o->tenant, o->pos[0], o->version, o->removed,
				       export_entry, &x);
	int bad_close = x.out != stdout ? fclose(x.out) != 0 : fflush(stdout) != 0;
	free(x.buf);
	if (s)
		return store_error(st, "export");
	if (x.failed || bad_close) {
		fprintf(stderr, "hashgate bank export: write failed\n");
		return HG_EXIT_ERROR;
	}
	return HG_EXIT_OK;
}

/* Hashes each image and imports its PDQ (and with --digests its MD5 and
 * SHA-256) in one transaction. A file that fails to hash, or whose PDQ
 * quality is under HG_PDQ_MIN_QUALITY (too flat to match safely), is
 * reported and skipped. Hashing happens before the import begins, so the
 * store's write lock is held only for the writes. */
struct hashed {
	char pdq[HG_PDQ_HEX_LEN + 1], md5[33], sha256[65];
	int ok;
};

/* The files to add: arguments, with folders walked (regular files, sorted,
 * symlinks not followed). nftw has no context pointer, hence the static. */
static struct files {
	char **path;
	size_t n, cap;
	int oom;
} files;

static int add_path(const char *path)
{
	char *dup = strdup(path);
	if (!dup || hg__grow((void **)&files.path, &files.cap, files.n + 1, sizeof *files.path)) {
		free(dup);
		files.oom = 1;
		return -1;
	}
	files.path[files.n++] = dup;
	return 0;
}

static int walk_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_F && add_path(path))
		return 1;
	if (type == FTW_DNR || type == FTW_NS)
		fprintf(stderr, "hashgate: %s: cannot read\n", path);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void files_free(void)
{
	for (size_t i = 0; i < files.n; i++)
		free(files.path[i]);
	free(files.path);
	memset(&files, 0, sizeof files);
}

/* Expands the arguments into `files`; 0, or -1 when out of memory. */
static int collect_files(const struct opts *o)
{
	for (int i = 0; i < o->npos; i++) {
		struct stat sb;
		if (strcmp(o->pos[i], "-") && stat(o->pos[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
			size_t first = files.n;
			if (nftw(o->pos[i], walk_one, 16, FTW_PHYS) != 0 && files.oom)
				return -1;
			qsort(files.path + first, files.n - first, sizeof *files.path, cmp_str);
		} else if (add_path(o->pos[i])) {
			return -1;
		}
	}
	return files.oom ? -1 : 0;
}

static int cmd_add(hg_store *st, const struct opts *o)
{
	if (!o->bank)
		return fail_usage("add needs --bank NAME");
	if (!o->npos)
		return fail_usage("add needs image files");
	hg_bank bank;
	if (hg_store_bank_get(st, o->tenant, o->bank, &bank))
		return store_error(st, "add");
	hg_hasher *h;
	if (collect_files(o)) {
		files_free();
		fprintf(stderr, "hashgate bank add: out of memory\n");
		return HG_EXIT_ERROR;
	}
	struct hashed *hs = calloc(files.n ? files.n : 1, sizeof *hs);
	if (!hs || hg_hasher_new(&o->limits, &h)) {
		free(hs);
		files_free();
		return HG_EXIT_ERROR;
	}
	int failed = 0;
	for (size_t i = 0; i < files.n; i++) {
		hg_hashes x;
		const char *path = files.path[i];
		if (hg_hash_file(h, path, o->digests ? HG_HASH_DIGESTS : 0, &x)) {
			fprintf(stderr, "hashgate: %s: %s\n", path, hg_hasher_errmsg(h));
			failed = 1;
			continue;
		}
		if (x.pdq.quality < HG_PDQ_MIN_QUALITY && !o->lowq) {
			fprintf(stderr, "hashgate: %s: PDQ quality %d is under %d: not added "
				"(--allow-low-quality to add anyway)\n", path, x.pdq.quality,
				HG_PDQ_MIN_QUALITY);
			failed = 1;
			continue;
		}
		hg_pdq_to_hex(&x.pdq.hash[0], hs[i].pdq);
		hg_hex_encode(x.md5, 16, hs[i].md5);
		hg_hex_encode(x.sha256, 32, hs[i].sha256);
		hs[i].ok = 1;
		printf("%s,%d,%s\n", hs[i].pdq, x.pdq.quality, path);
	}
	hg_hasher_free(h);
	hg_import *imp;
	if (hg_import_begin(st, o->tenant, o->bank, o->actor,
			    o->source ? o->source : "hashgate bank add", &imp)) {
		free(hs);
		files_free();
		return store_error(st, "add");
	}
	for (size_t i = 0; i < files.n; i++) {
		if (!hs[i].ok)
			continue;
		const char *path = files.path[i];
		hg_entry_input e[3] = {{HG_SIGNAL_PDQ, hs[i].pdq, HG_PDQ_HEX_LEN, path, NULL},
				       {HG_SIGNAL_MD5, hs[i].md5, 32, path, NULL},
				       {HG_SIGNAL_SHA256, hs[i].sha256, 64, path, NULL}};
		for (int k = 0; k < (o->digests ? 3 : 1); k++) {
			hg_status s = hg_import_add(imp, &e[k]);
			if (s == HG_ERR_PARSE) { /* e.g. a path that is not UTF-8 text */
				e[k].external_id = NULL;
				s = hg_import_add(imp, &e[k]);
			}
			if (s) {
				hg_import_abort(imp);
				free(hs);
				files_free();
				return store_error(st, "add");
			}
		}
	}
	free(hs);
	files_free();
	hg_change_result r;
	if (hg_import_commit(imp, &r))
		return store_error(st, "add");
	fprintf(stderr, "%s: %lld added, %lld unchanged; version %lld\n", o->bank,
		(long long)r.added, (long long)r.unchanged, (long long)r.version);
	return failed ? HG_EXIT_ERROR : HG_EXIT_OK;
}

/* Reads the values to remove from a list file (any format import reads). */
static int read_removals(const struct opts *o, hg_entry_input **out, size_t *n, char ***keep)
{
	hg_list_format f;
	int rc = pick_format(o, o->file, &f);
	if (rc)
		return rc;
	hg_list_parser *p;
	if (hg_list_parser_new(f, o->signal, &p))
		return HG_EXIT_ERROR;
	FILE *in = strcmp(o->file, "-") ? fopen(o->file, "r") : stdin;
	if (!in) {
		perror(o->file);
		hg_list_parser_free(p);
		return HG_EXIT_ERROR;
	}
	char *line = NULL;
	size_t cap = 0, cnt = 0, alloc = 0;
	ssize_t len;
	int64_t lineno = 0;
	rc = HG_EXIT_OK;
	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		if (len && line[len - 1] == '\n')
			len--;
		hg_entry_input e;
		int has;
		if (hg_list_parse_line(p, line, (size_t)len, &e, &has)) {
			fprintf(stderr, "%s:%lld: %s\n", o->file, (long long)lineno,
				hg_list_parser_errmsg(p));
			rc = HG_EXIT_ERROR;
			continue;
		}
		if (!has)
			continue;
		if (cnt == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			hg_entry_input *ne = realloc(*out, alloc * sizeof **out);
			char **nk = realloc(*keep, alloc * sizeof **keep);
			if (ne)
				*out = ne;
			if (nk)
				*keep = nk;
			if (!ne || !nk) {
				rc = HG_EXIT_ERROR;
				break;
			}
		}
		(*keep)[cnt] = strdup(e.value);
		if (!(*keep)[cnt]) {
			rc = HG_EXIT_ERROR;
			break;
		}
		(*out)[cnt] = (hg_entry_input){e.signal, (*keep)[cnt], e.value_len, NULL, NULL};
		cnt++;
	}
	free(line);
	if (in != stdin)
		fclose(in);
	hg_list_parser_free(p);
	*n = cnt;
	return rc;
}

static int cmd_remove(hg_store *st, const struct opts *o)
{
	hg_change_result r;
	hg_status s;
	if (o->seen & O_ID) {
		int64_t *ids = calloc((size_t)o->npos, sizeof *ids);
		if (!ids)
			return HG_EXIT_ERROR;
		for (int i = 1; i < o->npos; i++) {
			long v;
			if (hg_cli_parse_long(o->pos[i], 1, 1L << 62, &v)) {
				free(ids);
				return fail_usage("--id takes entry ids (positive numbers)");
			}
			ids[i - 1] = v;
		}
		s = hg_store_remove_ids(st, o->tenant, o->pos[0], ids, (size_t)o->npos - 1, o->actor,
					o->reason, &r);
		free(ids);
	} else {
		hg_entry_input *in = NULL;
		char **keep = NULL;
		size_t n = 0;
		int rc = HG_EXIT_OK;
		if (o->file) {
			rc = read_removals(o, &in, &n, &keep);
		} else if ((in = calloc((size_t)o->npos, sizeof *in)) != NULL) {
			hg_list_parser *p = NULL;
			if (hg_list_parser_new(HG_LIST_TEXT, o->signal, &p))
				rc = HG_EXIT_ERROR;
			keep = calloc((size_t)o->npos, sizeof *keep);
			for (int i = 1; i < o->npos && rc == HG_EXIT_OK && keep; i++) {
				hg_entry_input e;
				int has = 0;
				if (hg_list_parse_line(p, o->pos[i], strlen(o->pos[i]), &e, &has) || !has) {
					fprintf(stderr, "hashgate bank remove: %s: %s\n", o->pos[i],
						has ? hg_list_parser_errmsg(p) : "not a value");
					rc = HG_EXIT_ERROR;
					break;
				}
				keep[n] = strdup(e.value);
				in[n] = (hg_entry_input){e.signal, keep[n], e.value_len, NULL, NULL};
				if (!keep[n])
					rc = HG_EXIT_ERROR;
				n++;
			}
			if (!keep)
				rc = HG_EXIT_ERROR;
			hg_list_parser_free(p);
		} else {
			rc = HG_EXIT_ERROR;
		}
		if (rc == HG_EXIT_OK && n == 0)
			rc = fail_usage("nothing to remove: give VALUE..., --file LIST or --id ID...");
		s = rc == HG_EXIT_OK ? hg_store_remove(st, o->tenant, o->pos[0], in, n, o->actor,
						       o->reason, &r)
				     : HG_OK;
		for (size_t i = 0; keep && i < n; i++)
			free(keep[i]);
		free(keep);
		free(in);
		if (rc != HG_EXIT_OK)
			return rc;
	}
	if (s)
		return store_error(st, "remove");
	printf("%s: %lld removed, %lld not found; version %lld\n", o->pos[0],
	       (long long)r.removed, (long long)r.not_found, (long long)r.version);
	return HG_EXIT_OK;
}

static int cmd_stats(hg_store *st, const struct opts *o)
{
	hg_bank_stats bs;
	if (hg_store_bank_stats(st, o->tenant, o->pos[0], &bs))
		return store_error(st, "stats");
	printf("version: %lld\nlive: %lld\n", (long long)bs.version, (long long)bs.live_total);
	for (int s = 0; s < HG_SIGNAL_COUNT_; s++)
		printf("  %s: %lld\n", hg_signal_name((hg_signal)s), (long long)bs.live[s]);
	printf("removed: %lld\nversions: %lld\n", (long long)bs.removed_total,
	       (long long)bs.versions);
	return HG_EXIT_OK;
}

static int print_version(void *ctx, const hg_bank_version *v)
{
	(void)ctx;
	char t[32];
	fmt_time(v->at, t, sizeof t);
	printf("v%-6lld %s %-7s +%lld -%lld by %s%s%s\n", (long long)v->version, t, v->kind,
	       (long long)v->added, (long long)v->removed, v->actor ? v->actor : "-",
	       v->note ? ": " : "", v->note ? v->note : "");
	return 0;
}

static int cmd_history(hg_store *st, const struct opts *o)
{
	return hg_store_history(st, o->tenant, o->pos[0], print_version, NULL)
		       ? store_error(st, "history")
		       : HG_EXIT_OK;
}

#define COMMON (O_DB | O_TENANT | O_ACTOR)

static const struct subcmd {
	const char *name;
	int (*run)(hg_store *st, const struct opts *o);
	unsigned allowed;
	int npos; /* exact positional count incl. NAME; -1 = NAME and more; 0 = any */
} subcmds[] = {
	{"create", cmd_create, COMMON | O_DESC | O_ACTION | O_RADIUS | O_ENABLE, 1},
	{"edit", cmd_edit, COMMON | O_DESC | O_ACTION | O_RADIUS | O_ENABLE, 1},
	{"list", cmd_list, COMMON, 0},
	{"show", cmd_show, COMMON, 1},
	{"import", cmd_import, COMMON | O_FORMAT | O_SIGNAL | O_STRICT | O_SOURCE, 2},
	{"export", cmd_export, COMMON | O_FORMAT | O_VERSION | O_REMOVED | O_OUT, 1},
	{"add", cmd_add, COMMON | O_BANK | O_DIGESTS | O_SOURCE | O_LOWQ | O_LIMITS, 0},
	{"remove", cmd_remove, COMMON | O_REASON | O_FILE | O_ID | O_SIGNAL | O_FORMAT, -1},
	{"stats", cmd_stats, COMMON, 1},
	{"history", cmd_history, COMMON, 1},
};

int hg_cmd_bank(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? HG_EXIT_USAGE : HG_EXIT_OK;
	}
	const struct subcmd *sc = NULL;
	for (size_t i = 0; i < sizeof subcmds / sizeof subcmds[0]; i++)
		if (!strcmp(argv[1], subcmds[i].name))
			sc = &subcmds[i];
	if (!sc) {
		fprintf(stderr, "hashgate bank: unknown subcommand '%s'\n", argv[1]);
		fputs(usage, stderr);
		return HG_EXIT_USAGE;
	}
	struct opts o;
	int rc = parse(argc - 1, argv + 1, sc->allowed, &o);
	if (!rc && sc->npos)
		rc = need_name(&o, sc->npos);
	if (!rc) {
		hg_store *st = open_store(&o);
		rc = st ? sc->run(st, &o) : HG_EXIT_ERROR;
		hg_store_free(st);
	}
	free(o.pos);
	return rc;
}
