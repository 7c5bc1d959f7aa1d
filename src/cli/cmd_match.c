/*
 * cmd_match.c — `hashgate match`: hash images (all 8 dihedral variants) and
 * print every list entry within the radius, with its distance and the
 * variant that matched.
 *
 * Where the list comes from is a "source": a function that fills an
 * hg_index whose entry ids are positions in a table of display ids. Today
 * there is one (--list FILE, a text list); a bank store adds another by
 * writing a load function and a row in `sources` below.
 *
 * Each image is matched through every query set hashgate computes by default
 * (HG_HASH_QUERY_DEFAULT: the image itself, and the picture inside uniform
 * bars or caption bands when there are some; docs/eval.md measures why), and
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

#include "cli/cli.h"
#include "cli/options.h"
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
};

static void match_list_free(struct match_list *l)
{
	hg_index_free(l->index);
	free(l->names);
	free(l->name_at);
	free(l->line);
	memset(l, 0, sizeof *l);
}

static const char *display_id(const struct match_list *l, uint64_t id, char buf[32])
{
	if (id < l->n && l->name_at[id] != NO_NAME)
		return l->names + l->name_at[id];
	snprintf(buf, 32, "%zu", id < l->n ? l->line[id] : (size_t)0);
	return buf;
}

/* ---- source: a text list ----------------------------------------------- */

/* Most bad lines reported before giving up on listing them. */
#define MAX_REPORTED 20
/* Longest display id accepted. */
#define MAX_ID_LEN 256

static char *read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				errno = ENOMEM;
				break;
			}
			buf = nb;
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

static int grow_to(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 4096;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
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
	hg_pdq *hashes = NULL;
	uint64_t *ids = NULL;
	size_t hcap = 0, icap = 0, ncap = 0, lcap = 0, names_len = 0, names_cap = 0;
	size_t n = 0, bad = 0, lineno = 0;
	char *p = text, *end = text + len;
	int oom = 0;
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
		if (grow_to((void **)&hashes, &hcap, n + 1, sizeof *hashes) ||
		    grow_to((void **)&ids, &icap, n + 1, sizeof *ids) ||
		    grow_to((void **)&out->name_at, &ncap, n + 1, sizeof *out->name_at) ||
		    grow_to((void **)&out->line, &lcap, n + 1, sizeof *out->line)) {
			oom = 1;
			break;
		}
		hashes[n] = h;
		ids[n] = n;
		out->line[n] = lineno;
		out->name_at[n] = NO_NAME;
		if (id) {
			size_t k = (size_t)(id_end - id);
			if (grow_to((void **)&out->names, &names_cap, names_len + k + 1, 1)) {
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
		hg_status st = hg_index_build(NULL, hashes, ids, n, &out->index);
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

/* List sources, chosen by option name. */
static const struct match_source {
	const char *option;
	int (*load)(const char *arg, struct match_list *out);
} sources[] = {
	{"--list", load_text_list},
};

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
		       m[i].m.distance, hg_dihedral_name(m[i].m.variant));
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
		json_object_set_new(x, "variant", json_string(hg_dihedral_name(m[i].m.variant)));
		if (*m[i].via)
			json_object_set_new(x, "via", json_string(m[i].via));
		json_array_append_new(arr, x);
	}
	json_object_set_new(o, "matches", arr);
	print_json(o);
}

static const char usage[] =
	"usage: hashgate match --list FILE [--radius R] [--json] IMAGE...   (- reads stdin)\n"
	"  --list FILE       text list: one 64-hex PDQ hash per line, optional ',id';\n"
	"                    '#' starts a comment line; the id is the line number if absent\n"
	"  --radius R        match when the distance is <= R, 0..256 (default 31)\n"
	"  --json            one JSON object per image\n"
	"  --plain           match the image's own 8 variants only (no unletterbox or\n"
	"                    uncaption views; see docs/eval.md)\n"
	"exit: 0 no image matched, 1 at least one matched, 2 an error\n" HG_CLI_LIMIT_USAGE;

int hg_cmd_match(int argc, char **argv)
{
	long radius = HG_PDQ_MATCH_RADIUS;
	unsigned hash_flags = HG_HASH_QUERY_DEFAULT;
	int json = 0;
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
		return hg_cli_usage_error("match", usage, "no list given (--list FILE)");
	if (i >= argc)
		return hg_cli_usage_error("match", usage, "no images given");

	struct match_list list = {0};
	if (src->load(src_arg, &list) != 0) {
		match_list_free(&list);
		return HG_EXIT_ERROR;
	}
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
		st = hg_hash_file(hasher, path, hash_flags, &hs);
		const hg_pdq_result *sets[HG_HASH_MAX_QUERY_SETS];
		const char *names[HG_HASH_MAX_QUERY_SETS];
		size_t nsets = st ? 0
				  : hg_hashes_query_sets(&hs, HG_PDQ_MIN_QUALITY, sets, names,
							 HG_HASH_MAX_QUERY_SETS);
		if (st == HG_OK && nsets == 0) {
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
		if (st == HG_OK)
			st = query_sets(list.index, sets, names, nsets, (int)radius, res, &found);
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
