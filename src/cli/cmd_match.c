/*
 * cmd_match.c — `hashgate match`: hash images (all 8 dihedral variants) and
 * print every list entry within the radius, with its distance and the
 * variant that matched.
 *
 * Where the list comes from is a "source": a function that fills an
 * hg_index whose entry ids are positions in a table of display ids
 * (--list FILE, a text list), or, for a stored bank (--bank NAME, store
 * from --db / $HASHGATE_DB), the bank's in-memory index whose ids are the
 * store's entry ids, shown as each entry's external id. A bank also matches
 * the file's MD5 / SHA-1 / SHA-256 exactly (distance 0, variant md5 ...),
 * and its own radius applies unless --radius is given.
 *
 * Each image is matched through every query set hashgate computes by default
 * (HG_HASH_QUERY_DEFAULT: the image itself; the picture inside uniform bars
 * or caption bands when there are some; a small image with its pixels
 * repeated, and its exact dihedral variants; docs/eval.md measures why), and
 * an entry matched through several keeps its best distance. --plain matches
 * the image's own 8 variants only.
 *
 * Exit: 0 no image matched, 1 at least one matched, 2 any error (usage, a
 * bad list, an image that could not be hashed — the other images are still
 * matched and printed).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/grow.h"
#include "hashgate/bankindex.h"
#include "hashgate/hashgate.h"

/* Display ids of a loaded list: entry id i is shown as names + name_at[i],
 * or as its line number when name_at[i] is NO_NAME. */
#define NO_NAME SIZE_MAX
struct match_list {
	hg_index *index;
	char *names;
	size_t *name_at;
	size_t *line;
	size_t n;
	/* A stored bank: index is bank's; entry ids are store ids, mapped to
	 * positions through store_ids[] (sorted). */
	hg_bank_index *bank;
	uint64_t *store_ids;
	int radius; /* the bank's radius; -1 for a text list */
};

static void match_list_free(struct match_list *l)
{
	if (l->bank)
		hg_bank_index_free(l->bank); /* owns l->index */
	else
		hg_index_free(l->index);
	free(l->names);
	free(l->name_at);
	free(l->line);
	free(l->store_ids);
	memset(l, 0, sizeof *l);
}

static const char *display_id(const struct match_list *l, uint64_t id, char buf[32])
{
	if (l->store_ids) { /* a bank: find the entry's position */
		size_t lo = 0, hi = l->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (l->store_ids[mid] < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < l->n && l->store_ids[lo] == id && l->name_at[lo] != NO_NAME)
			return l->names + l->name_at[lo];
		snprintf(buf, 32, "%llu", (unsigned long long)id);
		return buf;
	}
	if (id < l->n && l->name_at[id] != NO_NAME)
		return l->names + l->name_at[id];
	snprintf(buf, 32, "%zu", id < l->n ? l->line[id] : (size_t)0);
	return buf;
}

/* Variants past the 8 dihedral ones name an exact digest match. */
#define VARIANT_DIGEST HG_DIH_COUNT
static const char *variant_name(int v)
{
	static const char *const digests[] = {"md5", "sha1", "sha256"};
	if (v >= VARIANT_DIGEST && v < VARIANT_DIGEST + 3)
		return digests[v - VARIANT_DIGEST];
	return hg_dihedral_name(v);
}

/* ---- source: a text list ----------------------------------------------- */

/* Most bad lines reported before giving up on listing them. */
#define MAX_REPORTED 20
/* Longest display id accepted. */
#define MAX_ID_LEN 256

/* Reads a whole file (or stdin), sized up front when the size is known so
 * a big list is read with one allocation and no copies. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return NULL;
	struct stat st;
	size_t cap = 1 << 20, n = 0;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)st.st_size + 1; /* +1: the first fread already sees EOF */
	char *buf = malloc(cap + 1);
	while (buf) {
		if (n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				errno = ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				free(buf);
				buf = NULL;
			}
			break;
		}
	}
	int saved = errno;
	if (f != stdin)
		fclose(f);
	errno = saved;
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * One 64-hex hash per line, optionally ",id" after it (the id is the rest of
 * the line, trimmed); blank lines and lines starting with '#' are skipped;
 * the id of a line without one is its line number. Every bad line is
 * reported (the first MAX_REPORTED) and the list is refused: a partly
 * loaded list would silently miss entries.
 */
static int load_text_list(const char *path, struct match_list *out)
{
	size_t len;
	char *text = read_all(path, &len);
	if (!text) {
		fprintf(stderr, "hashgate match: cannot read list %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* one entry per line at most: size the arrays once */
	size_t lines = 1;
	for (const char *c = text; (c = memchr(c, '\n', (size_t)(text + len - c))) != NULL; c++)
		lines++;
	hg_pdq *hashes = malloc(lines * sizeof *hashes);
	uint64_t *ids = malloc(lines * sizeof *ids);
	out->name_at = malloc(lines * sizeof *out->name_at);
	out->line = malloc(lines * sizeof *out->line);
	size_t names_len = 0, names_cap = 0;
	size_t n = 0, bad = 0, lineno = 0;
	char *p = text, *end = text + len;
	int oom = !hashes || !ids || !out->name_at || !out->line;
	while (p < end && !oom) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		lineno++;
		char *s = p, *e = eol;
		p = eol + 1;
		while (s < e && is_space(*s))
			s++;
		while (e > s && is_space(e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		const char *why = NULL;
		char *comma = memchr(s, ',', (size_t)(e - s));
		char *hex_end = comma ? comma : e;
		while (hex_end > s && is_space(hex_end[-1]))
			hex_end--;
		char *id = NULL, *id_end = NULL;
		if (comma) {
			id = comma + 1;
			id_end = e;
			while (id < id_end && is_space(*id))
				id++;
			if (id == id_end)
				why = "empty id after ','";
			else if (id_end - id > MAX_ID_LEN)
				why = "id longer than 256 characters";
		}
		hg_pdq h;
		if (!why && hg_pdq_from_hex(s, (size_t)(hex_end - s), &h) != HG_OK)
			why = "expected a PDQ hash of 64 hex digits";
		if (!why && memchr(s, '\0', (size_t)(e - s)))
			why = "NUL byte in line";
		if (why) {
			if (bad++ < MAX_REPORTED)
				fprintf(stderr, "hashgate match: %s:%zu: %s\n", path, lineno, why);
			continue;
		}
		hashes[n] = h;
		ids[n] = n;
		out->line[n] = lineno;
		out->name_at[n] = NO_NAME;
		if (id) {
			size_t k = (size_t)(id_end - id);
			if (hg__grow((void **)&out->names, &names_cap, names_len + k + 1, 1)) {
				oom = 1;
				break;
			}
			memcpy(out->names + names_len, id, k);
			out->names[names_len + k] = '\0';
			out->name_at[n] = names_len;
			names_len += k + 1;
		}
		n++;
	}
	free(text);
	out->n = n;
	int rc = 0;
	if (oom) {
		fprintf(stderr, "hashgate match: out of memory reading %s\n", path);
		rc = -1;
	} else if (bad) {
		if (bad > MAX_REPORTED)
			fprintf(stderr, "hashgate match: %s: ... %zu more bad lines\n", path,
				bad - MAX_REPORTED);
		fprintf(stderr, "hashgate match: %s: %zu bad line%s; list not used\n", path, bad,
			bad == 1 ? "" : "s");
		rc = -1;
	} else {
		/* 16-bit substrings: a one-shot command pays the build on every
		 * run, and these tables build ~2x faster (their counting arrays
		 * stay in cache) while a query against 1M entries still takes
		 * about a millisecond; a long-running service uses the default. */
		hg_index_options opt = {.bits = 16};
		hg_status st = hg_index_build(&opt, hashes, ids, n, &out->index);
		if (st) {
			fprintf(stderr, "hashgate match: %s: cannot index the list: %s\n", path,
				hg_strerror(st));
			rc = -1;
		}
	}
	free(hashes);
	free(ids);
	return rc;
}

/* ---- source: a stored bank ---------------------------------------------- */

/* Where --bank reads from (set by --db and --tenant). */
static const char *bank_db, *bank_tenant;

struct bank_names {
	struct match_list *l;
	size_t cap_ids, cap_names, cap_at, len;
	int oom;
};

static int keep_name(void *ctx, const hg_entry *e)
{
	struct bank_names *b = ctx;
	struct match_list *l = b->l;
	if (hg__grow((void **)&l->store_ids, &b->cap_ids, l->n + 1, sizeof *l->store_ids) ||
	    hg__grow((void **)&l->name_at, &b->cap_at, l->n + 1, sizeof *l->name_at)) {
		b->oom = 1;
		return 1;
	}
	l->store_ids[l->n] = (uint64_t)e->id;
	l->name_at[l->n] = NO_NAME;
	if (e->external_id) {
		size_t k = strlen(e->external_id);
		if (hg__grow((void **)&l->names, &b->cap_names, b->len + k + 1, 1)) {
			b->oom = 1;
			return 1;
		}
		memcpy(l->names + b->len, e->external_id, k + 1);
		l->name_at[l->n] = b->len;
		b->len += k + 1;
	}
	l->n++;
	return 0;
}

/* Sorts store_ids (and name_at alongside) by id for display_id(). */
static int cmp_pos(const void *a, const void *b, void *ids)
{
	uint64_t x = ((const uint64_t *)ids)[*(const size_t *)a];
	uint64_t y = ((const uint64_t *)ids)[*(const size_t *)b];
	return x < y ? -1 : x > y;
}

static int sort_names(struct match_list *l)
{
	size_t *perm = malloc((l->n ? l->n : 1) * sizeof *perm);
	uint64_t *ids = malloc((l->n ? l->n : 1) * sizeof *ids);
	size_t *at = malloc((l->n ? l->n : 1) * sizeof *at);
	if (!perm || !ids || !at) {
		free(perm);
		free(ids);
		free(at);
		return -1;
	}
	for (size_t i = 0; i < l->n; i++)
		perm[i] = i;
	qsort_r(perm, l->n, sizeof *perm, cmp_pos, l->store_ids);
	for (size_t i = 0; i < l->n; i++) {
		ids[i] = l->store_ids[perm[i]];
		at[i] = l->name_at[perm[i]];
	}
	free(perm);
	free(l->store_ids);
	free(l->name_at);
	l->store_ids = ids;
	l->name_at = at;
	return 0;
}

static int load_bank(const char *name, struct match_list *out)
{
	const char *db = bank_db ? bank_db : getenv("HASHGATE_DB");
	if (!db || !*db)
		db = HG_STORE_DEFAULT_URL;
	hg_store *st = NULL;
	hg_status s = hg_store_open(db, &st);
	struct bank_names b = {out, 0, 0, 0, 0, 0};
	if (s == HG_OK)
		s = hg_bank_index_load(st, bank_tenant, name, keep_name, &b, &out->bank);
	if (s) {
		fprintf(stderr, "hashgate match: bank %s in %s: %s\n", name, db,
			b.oom ? "out of memory" : st ? hg_store_errmsg(st) : hg_strerror(s));
		hg_store_free(st);
		return -1;
	}
	hg_store_free(st);
	const hg_bank *bank = hg_bank_index_bank(out->bank);
	if (!bank->enabled) {
		fprintf(stderr, "hashgate match: bank %s is disabled\n", name);
		return -1;
	}
	out->index = hg_bank_index_pdq(out->bank);
	out->radius = bank->radius;
	if (sort_names(out)) {
		fprintf(stderr, "hashgate match: out of memory\n");
		return -1;
	}
	return 0;
}

/* List sources, chosen by option name. */
static const struct match_source {
	const char *option;
	int (*load)(const char *arg, struct match_list *out);
} sources[] = {
	{"--list", load_text_list},
	{"--bank", load_bank},
};

/* Exact digest hits of the bank, as distance-0 matches into m[0..cap);
 * returns how many. */
static size_t digest_matches(const struct match_list *l, const hg_hashes *hs,
			     hg_index_match *m, size_t cap)
{
	size_t n = 0;
	const uint8_t *d[3] = {hs->md5, hs->sha1, hs->sha256};
	for (int k = 0; k < 3; k++) {
		uint64_t ids[16];
		size_t count = 0;
		if (hg_bank_index_lookup_digest(l->bank, (hg_digest_kind)k, d[k], ids, 16, &count))
			continue;
		for (size_t i = 0; i < count && i < 16 && n < cap; i++)
			m[n++] = (hg_index_match){ids[i], 0, VARIANT_DIGEST + k};
	}
	return n;
}

/* ---- matching and output ------------------------------------------------- */

/* A match and the query set that gave it ("" = the image itself). */
struct view_match {
	hg_index_match m;
	const char *via;
	size_t order;
};

/* Matches of one image over all its query sets. */
struct view_matches {
	struct view_match *v;
	size_t n, cap;
};

static int cmp_view_match(const void *pa, const void *pb)
{
	const struct view_match *a = pa, *b = pb;
	if (a->m.id != b->m.id)
		return a->m.id < b->m.id ? -1 : 1;
	if (a->m.distance != b->m.distance)
		return a->m.distance < b->m.distance ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Queries every set and keeps each entry's best match (ties: the earlier
 * set, so the image itself wins over its extras). */
static hg_status query_sets(hg_index *idx, const hg_pdq_result **sets, const char **names,
			    size_t nsets, int radius, hg_index_results *res,
			    struct view_matches *out)
{
	out->n = 0;
	for (size_t s = 0; s < nsets; s++) {
		hg_status st = hg_index_query(idx, sets[s]->hash, HG_DIH_COUNT, radius, 0, res);
		if (st)
			return st;
		size_t n = hg_index_results_count(res);
		const hg_index_match *m = hg_index_results_matches(res);
		if (out->cap - out->n < n) {
			size_t cap = out->n + n + 16;
			struct view_match *v = realloc(out->v, cap * sizeof *v);
			if (!v)
				return HG_ERR_NOMEM;
			out->v = v;
			out->cap = cap;
		}
		for (size_t i = 0; i < n; i++, out->n++)
			out->v[out->n] = (struct view_match){m[i], names[s], out->n};
	}
	if (nsets > 1 && out->n > 1) {
		qsort(out->v, out->n, sizeof *out->v, cmp_view_match);
		size_t k = 0;
		for (size_t i = 0; i < out->n; i++)
			if (k == 0 || out->v[k - 1].m.id != out->v[i].m.id)
				out->v[k++] = out->v[i];
		out->n = k;
	}
	return HG_OK;
}

static void print_matches_text(const char *path, const struct match_list *l,
			       const struct view_match *m, size_t n)
{
	char buf[32];
	if (n == 0)
		printf("%s: no match\n", path);
	for (size_t i = 0; i < n; i++) {
		printf("%s: match id=%s distance=%d variant=%s", path, display_id(l, m[i].m.id, buf),
		       m[i].m.distance, variant_name(m[i].m.variant));
		if (*m[i].via)
			printf(" via=%s", m[i].via);
		putchar('\n');
	}
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (s)
		puts(s);
	free(s);
	json_decref(o);
}

static void print_matches_json(const char *path, const struct match_list *l,
			       const struct view_match *m, size_t n)
{
	char buf[32];
	json_t *o = json_object(), *arr = json_array();
	json_object_set_new(o, "file", json_string(path));
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "id", json_string(display_id(l, m[i].m.id, buf)));
		json_object_set_new(x, "distance", json_integer(m[i].m.distance));
		json_object_set_new(x, "variant", json_string(variant_name(m[i].m.variant)));
		if (*m[i].via)
			json_object_set_new(x, "via", json_string(m[i].via));
		json_array_append_new(arr, x);
	}
	json_object_set_new(o, "matches", arr);
	print_json(o);
}

static const char usage[] =
	"usage: hashgate match --list FILE | --bank NAME [--radius R] [--json] IMAGE...\n"
	"                    (- reads stdin)\n"
	"  --list FILE       text list: one 64-hex PDQ hash per line, optional ',id';\n"
	"                    '#' starts a comment line; the id is the line number if absent\n"
	"  --bank NAME       a stored bank (hashgate bank): PDQ within the radius, plus\n"
	"                    exact MD5/SHA-1/SHA-256 of the file (variant md5, sha1, sha256)\n"
	"  --db URL          the bank's store (default: $HASHGATE_DB, else ./hashgate.db)\n"
	"  --tenant T        the bank's tenant (default: default)\n"
	"  --radius R        match when the distance is <= R, 0..256 (default 31; a bank's\n"
	"                    own radius with --bank)\n"
	"  --json            one JSON object per image\n"
	"  --plain           match the image's own 8 variants only (no unletterbox,\n"
	"                    uncaption, upscale or dihedral-pixels views; docs/eval.md)\n"
	"exit: 0 no image matched, 1 at least one matched, 2 an error\n" HG_CLI_LIMIT_USAGE;

int hg_cmd_match(int argc, char **argv)
{
	long radius = HG_PDQ_MATCH_RADIUS;
	unsigned hash_flags = HG_HASH_QUERY_DEFAULT;
	int json = 0, radius_given = 0;
	const struct match_source *src = NULL;
	const char *src_arg = NULL;
	hg_limits limits;
	hg_limits_default(&limits);
	int i;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		int used;
		const struct match_source *s = NULL;
		for (size_t k = 0; k < sizeof sources / sizeof sources[0]; k++)
			if (!strcmp(a, sources[k].option))
				s = &sources[k];
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			return HG_EXIT_OK;
		} else if (s && i + 1 < argc) {
			if (src)
				return hg_cli_usage_error("match", usage, "give one list");
			src = s;
			src_arg = argv[++i];
		} else if (!strcmp(a, "--radius") && i + 1 < argc) {
			if (hg_cli_parse_long(argv[++i], 0, HG_INDEX_MAX_RADIUS, &radius))
				return hg_cli_usage_error("match", usage, "--radius takes 0..256");
			radius_given = 1;
		} else if (!strcmp(a, "--db") && i + 1 < argc) {
			bank_db = argv[++i];
		} else if (!strcmp(a, "--tenant") && i + 1 < argc) {
			bank_tenant = argv[++i];
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--plain")) {
			hash_flags = HG_HASH_DIHEDRAL;
		} else if ((used = hg_cli_limit_option(argc, argv, i, &limits)) != 0) {
			if (used < 0)
				return hg_cli_usage_error("match", usage, "bad limit value");
			i += used - 1;
		} else {
			fprintf(stderr, "hashgate match: unknown option %s\n", a);
			fputs(usage, stderr);
			return HG_EXIT_USAGE;
		}
	}
	if (!src)
		return hg_cli_usage_error("match", usage, "no list given (--list FILE or --bank NAME)");
	if (i >= argc)
		return hg_cli_usage_error("match", usage, "no images given");

	struct match_list list = {0};
	list.radius = -1;
	if (src->load(src_arg, &list) != 0) {
		match_list_free(&list);
		return HG_EXIT_ERROR;
	}
	if (!radius_given && list.radius >= 0)
		radius = list.radius;
	hg_hasher *hasher = NULL;
	hg_index_results *res = NULL;
	hg_status st = hg_hasher_new(&limits, &hasher);
	if (st == HG_OK)
		st = hg_index_results_new(&res);
	if (st) {
		fprintf(stderr, "hashgate match: %s\n", hg_strerror(st));
		hg_hasher_free(hasher);
		match_list_free(&list);
		return HG_EXIT_ERROR;
	}
	int matched = 0, failed = 0;
	struct view_matches found = {0};
	for (; i < argc; i++) {
		const char *path = argv[i];
		hg_hashes hs;
		st = hg_hash_file(hasher, path, hash_flags | (list.bank ? HG_HASH_DIGESTS : 0), &hs);
		/* Exact digest hits need no quality: the bytes are the same. */
		hg_index_match dig[48];
		size_t ndig = st == HG_OK && list.bank ? digest_matches(&list, &hs, dig, 48) : 0;
		const hg_pdq_result *sets[HG_HASH_MAX_QUERY_SETS];
		const char *names[HG_HASH_MAX_QUERY_SETS];
		size_t nsets = st ? 0
				  : hg_hashes_query_sets(&hs, HG_PDQ_MIN_QUALITY, sets, names,
							 HG_HASH_MAX_QUERY_SETS);
		if (st == HG_OK && nsets == 0 && ndig == 0) {
			/* Flat images hash unreliably: matching them on PDQ gives
			 * false matches, so they are reported, not matched. */
			if (json) {
				json_t *o = json_object();
				json_object_set_new(o, "file", json_string(path));
				json_object_set_new(o, "matches", json_array());
				json_object_set_new(o, "skipped", json_string("low_quality"));
				json_object_set_new(o, "quality", json_integer(hs.pdq.quality));
				print_json(o);
			} else {
				printf("%s: skipped: PDQ quality %d is below %d, not matched\n", path,
				       hs.pdq.quality, HG_PDQ_MIN_QUALITY);
			}
			continue;
		}
		found.n = 0;
		if (st == HG_OK && nsets)
			st = query_sets(list.index, sets, names, nsets, (int)radius, res, &found);
		if (st == HG_OK && ndig) { /* digest hits first: they are certain */
			if (hg__grow((void **)&found.v, &found.cap, found.n + ndig, sizeof *found.v)) {
				st = HG_ERR_NOMEM;
			} else {
				memmove(found.v + ndig, found.v, found.n * sizeof *found.v);
				for (size_t k = 0; k < ndig; k++)
					found.v[k] = (struct view_match){dig[k], "", k};
				found.n += ndig;
			}
		}
		if (st) {
			const char *why = hg_hasher_errmsg(hasher);
			if (!why || !*why)
				why = hg_strerror(st);
			fflush(stdout);
			fprintf(stderr, "hashgate: %s: %s\n", path, why);
			if (json) {
				json_t *o = json_object();
				json_object_set_new(o, "file", json_string(path));
				json_object_set_new(o, "error", json_string(why));
				print_json(o);
			}
			failed = 1;
			continue;
		}
		matched |= found.n > 0;
		if (json)
			print_matches_json(path, &list, found.v, found.n);
		else
			print_matches_text(path, &list, found.v, found.n);
	}
	free(found.v);
	hg_index_results_free(res);
	hg_hasher_free(hasher);
	match_list_free(&list);
	if (fflush(stdout) != 0)
		return HG_EXIT_ERROR;
	return failed ? HG_EXIT_ERROR : matched ? HG_EXIT_MATCH : HG_EXIT_OK;
}
