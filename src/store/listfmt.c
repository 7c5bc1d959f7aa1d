/*
 * listfmt.c — hash-list files in and out: the line parser for text, CSV and
 * JSON Lines, the file importer (bad lines reported with their numbers;
 * --strict rejects the whole file), and the entry writer used by export.
 * Value rules come from the bank model (src/core/bank.c); JSON goes through
 * jansson, which is why this lives beside the store rather than in core.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

static const char *const format_names[HG_LIST_FORMAT_COUNT_] = {"text", "csv", "jsonl"};

const char *hg_list_format_name(hg_list_format f)
{
	return (unsigned)f < HG_LIST_FORMAT_COUNT_ ? format_names[f] : "?";
}

hg_status hg_list_format_parse(const char *text, hg_list_format *out)
{
	if (!text || !out)
		return HG_ERR_INVALID_ARG;
	for (int f = 0; f < HG_LIST_FORMAT_COUNT_; f++)
		if (!strcmp(text, format_names[f])) {
			*out = (hg_list_format)f;
			return HG_OK;
		}
	if (!strcmp(text, "txt")) {
		*out = HG_LIST_TEXT;
		return HG_OK;
	}
	if (!strcmp(text, "json")) {
		*out = HG_LIST_JSONL;
		return HG_OK;
	}
	return HG_ERR_PARSE;
}

#define CSV_MAX_FIELDS 64

struct hg_list_parser {
	hg_list_format format;
	int default_signal;
	int64_t line;
	int have_header;
	int col_type, col_value, col_ext, col_source; /* -1: absent */
	json_t *json;                                  /* keeps JSONL strings alive */
	char *csvbuf;                                  /* HG_LIST_LINE_MAX + 1 */
	char ext[HG_FIELD_MAX + 1], src[HG_FIELD_MAX + 1]; /* trimmed copies */
	char value[HG_SIGNAL_VALUE_MAX + 1];
	char errmsg[256];
};

hg_status hg_list_parser_new(hg_list_format format, int default_signal, hg_list_parser **out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	if ((unsigned)format >= HG_LIST_FORMAT_COUNT_ || default_signal < -1 ||
	    default_signal >= HG_SIGNAL_COUNT_)
		return HG_ERR_INVALID_ARG;
	hg_list_parser *p = calloc(1, sizeof *p);
	if (!p)
		return HG_ERR_NOMEM;
	if (format == HG_LIST_CSV && !(p->csvbuf = malloc(HG_LIST_LINE_MAX + 1))) {
		free(p);
		return HG_ERR_NOMEM;
	}
	p->format = format;
	p->default_signal = default_signal;
	*out = p;
	return HG_OK;
}

void hg_list_parser_free(hg_list_parser *p)
{
	if (!p)
		return;
	json_decref(p->json);
	free(p->csvbuf);
	free(p);
}

const char *hg_list_parser_errmsg(const hg_list_parser *p)
{
	return p ? p->errmsg : "no parser";
}

static hg_status bad(hg_list_parser *p, hg_status s, const char *fmt, const char *arg)
{
	snprintf(p->errmsg, sizeof p->errmsg, fmt, arg);
	return s;
}

static void trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t'))
		(*s)++, (*len)--;
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' || (*s)[*len - 1] == '\r'))
		(*len)--;
}

/* Copies `text` without edge blanks into buf (HG_FIELD_MAX + 1 bytes);
 * NULL when absent or empty; sets *bad when it is too long. */
static const char *trimmed(const char *text, char *buf, int *bad)
{
	if (!text)
		return NULL;
	size_t len = strlen(text);
	trim(&text, &len);
	if (len > HG_FIELD_MAX) {
		*bad = 1;
		return NULL;
	}
	memmove(buf, text, len); /* text may already be buf (text lines) */
	buf[len] = '\0';
	return len ? buf : NULL;
}

/* Fills e from the raw fields: type text (may be NULL), value, external id
 * and source (may be NULL). Validates and normalises; blanks around the
 * external id and source are not kept (no format could round-trip them). */
static hg_status make_entry(hg_list_parser *p, const char *type, size_t tlen, const char *val,
			    size_t vlen, const char *ext, const char *src, hg_entry_input *e)
{
	hg_signal sig;
	trim(&val, &vlen);
	if (!vlen)
		return bad(p, HG_ERR_PARSE, "%sno value", "");
	if (type && tlen) {
		trim(&type, &tlen);
		if (hg_signal_parse(type, tlen, &sig)) {
			char t[40];
			snprintf(t, sizeof t, "%.*s", (int)(tlen < 32 ? tlen : 32), type);
			return bad(p, HG_ERR_PARSE, "unknown signal type '%s' (pdq, md5, sha1, sha256, "
				   "vpdq)", t);
		}
	} else if (p->default_signal >= 0) {
		sig = (hg_signal)p->default_signal;
	} else if (hg_signal_infer(val, vlen, &sig)) {
		return bad(p, HG_ERR_PARSE, "%scannot tell the signal type: not 32, 40 or 64 hex "
			   "digits (give a TYPE: prefix or --signal)", "");
	}
	char msg[160];
	hg_status s = hg_signal_normalize(sig, val, vlen, p->value, sizeof p->value, NULL, msg,
					  sizeof msg);
	if (s)
		return bad(p, s == HG_ERR_PARSE ? s : HG_ERR_TOO_LARGE, "%s",
			   s == HG_ERR_PARSE ? msg : "value too long");
	int too_long = 0;
	ext = trimmed(ext, p->ext, &too_long);
	src = trimmed(src, p->src, &too_long);
	if (too_long)
		return bad(p, HG_ERR_PARSE, "%sexternal id or source longer than 256 bytes", "");
	if (ext && hg_text_check(ext, strlen(ext), HG_FIELD_MAX))
		return bad(p, HG_ERR_PARSE, "%sexternal id is not UTF-8 text of at most 256 bytes "
			   "without control characters", "");
	if (src && hg_text_check(src, strlen(src), HG_FIELD_MAX))
		return bad(p, HG_ERR_PARSE, "%ssource is not UTF-8 text of at most 256 bytes without "
			   "control characters", "");
	e->signal = sig;
	e->value = p->value;
	e->value_len = strlen(p->value);
	e->external_id = ext;
	e->source = src;
	return HG_OK;
}

static hg_status parse_text(hg_list_parser *p, const char *line, size_t len, hg_entry_input *e,
			    int *has)
{
	trim(&line, &len);
	if (!len || line[0] == '#')
		return HG_OK;
	const char *comma = memchr(line, ',', len);
	const char *val = line, *type = NULL;
	size_t vlen = comma ? (size_t)(comma - line) : len, tlen = 0;
	const char *colon = memchr(val, ':', vlen);
	hg_signal hash_before_colon;
	/* TYPE:VALUE, unless what comes before the colon is a hash: the first
	 * frame token of a vpdq value, "hex:quality..." (with --signal vpdq). */
	if (colon && hg_signal_infer(val, (size_t)(colon - val), &hash_before_colon) == HG_OK)
		colon = NULL;
	if (colon) { /* TYPE:VALUE */
		type = val;
		tlen = (size_t)(colon - val);
		vlen -= tlen + 1;
		val = colon + 1;
	}
	const char *ext = NULL;
	if (comma) {
		const char *x = comma + 1;
		size_t xlen = (size_t)(line + len - x);
		trim(&x, &xlen);
		if (xlen > HG_FIELD_MAX)
			return bad(p, HG_ERR_PARSE, "%sexternal id longer than 256 bytes", "");
		memcpy(p->ext, x, xlen);
		p->ext[xlen] = '\0';
		ext = p->ext;
	}
	hg_status s = make_entry(p, type, tlen, val, vlen, ext, NULL, e);
	*has = s == HG_OK;
	return s;
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

static hg_status parse_csv(hg_list_parser *p, const char *line, size_t len, hg_entry_input *e,
			   int *has)
{
	const char *t = line;
	size_t tl = len;
	trim(&t, &tl);
	if (!tl || (t[0] == '#' && !p->have_header))
		return HG_OK;
	while (len && line[len - 1] == '\r')
		len--;
	const char *f[CSV_MAX_FIELDS];
	size_t nf;
	hg_status s = hg_csv_split(line, len, p->csvbuf, HG_LIST_LINE_MAX + 1, f, CSV_MAX_FIELDS,
				   &nf);
	if (s)
		return bad(p, s == HG_ERR_PARSE ? s : HG_ERR_TOO_LARGE, "%s",
			   s == HG_ERR_PARSE ? "malformed CSV quoting" : "more than 64 columns");
	if (!p->have_header) {
		p->col_type = p->col_value = p->col_ext = p->col_source = -1;
		for (size_t i = 0; i < nf; i++) {
			char *name = (char *)f[i]; /* points into our csvbuf */
			const char *n = name;
			size_t nl = strlen(name);
			trim(&n, &nl);
			memmove(name, n, nl);
			name[nl] = '\0';
			lower_ascii(name);
			if (!strcmp(name, "signal_type") || !strcmp(name, "type"))
				p->col_type = (int)i;
			else if (!strcmp(name, "signal_value") || !strcmp(name, "value") ||
				 !strcmp(name, "hash"))
				p->col_value = (int)i;
			else if (!strcmp(name, "external_id") || !strcmp(name, "id"))
				p->col_ext = (int)i;
			else if (!strcmp(name, "source"))
				p->col_source = (int)i;
		}
		if (p->col_value < 0)
			return bad(p, HG_ERR_PARSE, "%sCSV header has no signal_value column (expected "
				   "signal_type,signal_value,external_id,...)", "");
		p->have_header = 1;
		return HG_OK;
	}
#define COL(c) ((c) >= 0 && (size_t)(c) < nf ? f[c] : NULL)
	const char *type = COL(p->col_type), *val = COL(p->col_value);
	if (!val)
		return bad(p, HG_ERR_PARSE, "%smissing signal_value column", "");
	s = make_entry(p, type, type ? strlen(type) : 0, val, strlen(val), COL(p->col_ext),
		       COL(p->col_source), e);
#undef COL
	*has = s == HG_OK;
	return s;
}

/* A JSON string member, or NULL; numbers are accepted for external_id. */
static const char *jstr(hg_list_parser *p, json_t *o, const char *key, int *bad_type)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v) && !strcmp(key, "external_id")) {
		snprintf(p->ext, sizeof p->ext, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return p->ext;
	}
	*bad_type = 1;
	return NULL;
}

static hg_status parse_jsonl(hg_list_parser *p, const char *line, size_t len,
			     hg_entry_input *e, int *has)
{
	const char *t = line;
	size_t tl = len;
	trim(&t, &tl);
	if (!tl)
		return HG_OK;
	json_decref(p->json);
	json_error_t err;
	p->json = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (!p->json)
		return bad(p, HG_ERR_PARSE, "bad JSON: %s", err.text);
	if (!json_is_object(p->json))
		return bad(p, HG_ERR_PARSE, "%snot a JSON object", "");
	int bt = 0;
	const char *type = jstr(p, p->json, "signal_type", &bt);
	const char *val = jstr(p, p->json, "signal_value", &bt);
	if (!val)
		val = jstr(p, p->json, "value", &bt);
	const char *ext = jstr(p, p->json, "external_id", &bt);
	const char *src = jstr(p, p->json, "source", &bt);
	if (bt)
		return bad(p, HG_ERR_PARSE, "%sa field has the wrong JSON type (strings expected)",
			   "");
	if (!val)
		return bad(p, HG_ERR_PARSE, "%sno signal_value", "");
	hg_status s = make_entry(p, type, type ? strlen(type) : 0, val, strlen(val), ext, src, e);
	*has = s == HG_OK;
	return s;
}

hg_status hg_list_parse_line(hg_list_parser *p, const char *line, size_t len,
			     hg_entry_input *e, int *has)
{
	if (!p || (!line && len) || !e || !has)
		return HG_ERR_INVALID_ARG;
	*has = 0;
	p->line++;
	p->errmsg[0] = '\0';
	if (len > HG_LIST_LINE_MAX)
		return bad(p, HG_ERR_TOO_LARGE, "%sline longer than 524288 bytes", "");
	if (memchr(line, '\0', len))
		return bad(p, HG_ERR_PARSE, "%sNUL byte in line", "");
	switch (p->format) {
	case HG_LIST_TEXT: return parse_text(p, line, len, e, has);
	case HG_LIST_CSV: return parse_csv(p, line, len, e, has);
	default: return parse_jsonl(p, line, len, e, has);
	}
}

/* ---- importing a file ------------------------------------------------------ */

/* Reads one line of at most max bytes into buf; longer lines are consumed
 * and flagged. Returns 0 at end of file. */
static int read_line(FILE *f, char *buf, size_t max, size_t *len, int *too_long)
{
	size_t n = 0;
	int c, any = 0;
	*too_long = 0;
	while ((c = getc_unlocked(f)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		if (n < max)
			buf[n++] = (char)c;
		else
			*too_long = 1;
	}
	*len = n;
	return any;
}

/* Imports the lines of an open stream; `name` labels messages. */
static hg_status import_stream(hg_store *st, const char *tenant, const char *bank, FILE *f,
			       const char *name, const hg_import_opts *opts,
			       hg_bad_line_fn bad_line, void *ctx, int64_t *bad_lines,
			       hg_change_result *result)
{
	if (bad_lines)
		*bad_lines = 0;
	hg_list_parser *p;
	hg_status s = hg_list_parser_new(opts->format, opts->default_signal, &p);
	if (s)
		return hg__store_fail(st, s, "cannot create a %s parser", hg_list_format_name(opts->format));
	char *buf = malloc(HG_LIST_LINE_MAX + 1);
	if (!buf) {
		s = hg__store_fail(st, HG_ERR_NOMEM, "out of memory");
		goto out;
	}
	hg_import *imp;
	if ((s = hg_import_begin(st, tenant, bank, opts->actor, opts->source, &imp)))
		goto out;
	int64_t nbad = 0, lineno = 0;
	char first[384] = "";
	size_t len;
	int too_long, stop = 0;
	while (!stop && read_line(f, buf, HG_LIST_LINE_MAX, &len, &too_long)) {
		lineno++;
		hg_entry_input e;
		int has = 0;
		hg_status ls;
		const char *why;
		if (too_long) {
			p->line++;
			ls = HG_ERR_TOO_LARGE;
			why = "line longer than 524288 bytes";
		} else {
			ls = hg_list_parse_line(p, buf, len, &e, &has);
			why = hg_list_parser_errmsg(p);
			if (ls == HG_OK && has) {
				ls = hg_import_add(imp, &e);
				why = hg_store_errmsg(st);
				if (ls && ls != HG_ERR_PARSE) { /* the database, not the line */
					hg_import_abort(imp);
					s = ls;
					goto out;
				}
			}
		}
		if (ls) {
			nbad++;
			if (!first[0])
				snprintf(first, sizeof first, "line %lld: %s", (long long)lineno, why);
			if (bad_line && bad_line(ctx, lineno, why))
				stop = 1;
			if (opts->strict && !bad_line)
				stop = 1;
		}
	}
	if (ferror(f)) {
		hg_import_abort(imp);
		s = hg__store_fail(st, HG_ERR_IO, "reading %s failed", name);
		goto out;
	}
	if (bad_lines)
		*bad_lines = nbad;
	if (nbad && opts->strict) {
		hg_import_abort(imp);
		s = hg__store_fail(st, HG_ERR_PARSE, "%s: %lld bad line%s, nothing imported (--strict); "
				   "first: %s", name, (long long)nbad, nbad == 1 ? "" : "s", first);
		goto out;
	}
	if (stop) { /* the caller asked to stop: nothing is applied */
		hg_import_abort(imp);
		s = hg__store_fail(st, HG_ERR_PARSE, "%s: import stopped at %s", name, first);
		goto out;
	}
	s = hg_import_commit(imp, result);
	if (s == HG_OK && nbad)
		hg__store_fail(st, HG_OK, "%s: %lld bad line%s skipped; first: %s", name,
			       (long long)nbad, nbad == 1 ? "" : "s", first);
out:
	free(buf);
	hg_list_parser_free(p);
	return s;
}

hg_status hg_store_import_file(hg_store *st, const char *tenant, const char *bank,
			       const char *path, const hg_import_opts *opts,
			       hg_bad_line_fn bad_line, void *ctx, int64_t *bad_lines,
			       hg_change_result *result)
{
	if (!st || !path || !opts)
		return HG_ERR_INVALID_ARG;
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return hg__store_fail(st, HG_ERR_IO, "cannot open %s: %m", path);
	hg_status s = import_stream(st, tenant, bank, f, path, opts, bad_line, ctx, bad_lines,
				    result);
	if (f != stdin)
		fclose(f);
	return s;
}

hg_status hg_store_import_buffer(hg_store *st, const char *tenant, const char *bank,
				 const void *data, size_t len, const hg_import_opts *opts,
				 hg_bad_line_fn bad_line, void *ctx, int64_t *bad_lines,
				 hg_change_result *result)
{
	if (!st || (!data && len) || !opts)
		return HG_ERR_INVALID_ARG;
	/* An empty body reads as one blank line (skipped): fmemopen needs a
	 * size of 1 or more. */
	static const char blank[] = "\n";
	FILE *f = fmemopen((void *)(len ? data : blank), len ? len : 1, "r");
	if (!f)
		return hg__store_fail(st, HG_ERR_NOMEM, "out of memory");
	hg_status s;
	s = import_stream(st, tenant, bank, f, "body", opts, bad_line, ctx, bad_lines, result);
	fclose(f);
	return s;
}

/* ---- writing entries ----------------------------------------------------- */

const char *hg_list_header(hg_list_format format)
{
	return format == HG_LIST_CSV
		       ? "signal_type,signal_value,external_id,source,added_by,added_at,"
			 "added_version,removed_by,removed_at,removed_reason\n"
		       : "";
}

/* Appends a CSV field, quoted when it holds a comma, quote or edge blank. */
static int csv_put(char *buf, size_t bufsz, size_t *o, const char *v, int last)
{
	if (!v)
		v = "";
	size_t n = strlen(v);
	int quote = strpbrk(v, ",\"") || (n && (v[0] == ' ' || v[n - 1] == ' '));
	if (*o + 2 * n + 4 > bufsz)
		return -1;
	if (quote)
		buf[(*o)++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '"')
			buf[(*o)++] = '"';
		buf[(*o)++] = v[i];
	}
	if (quote)
		buf[(*o)++] = '"';
	buf[(*o)++] = last ? '\n' : ',';
	return 0;
}

size_t hg_list_format_entry(hg_list_format format, const hg_entry *e, char *buf, size_t bufsz)
{
	if (!e || !buf || (unsigned)e->signal >= HG_SIGNAL_COUNT_)
		return 0;
	size_t o = 0;
	if (format == HG_LIST_TEXT) {
		hg_signal inferred;
		int prefix = hg_signal_infer(e->value, strlen(e->value), &inferred) ||
			     inferred != e->signal;
		int n = snprintf(buf, bufsz, "%s%s%s%s%s\n", prefix ? hg_signal_name(e->signal) : "",
				 prefix ? ":" : "", e->value, e->external_id ? "," : "",
				 e->external_id ? e->external_id : "");
		return n > 0 && (size_t)n < bufsz ? (size_t)n : 0;
	}
	if (format == HG_LIST_CSV) {
		char n1[24], n2[24], n3[24];
		snprintf(n1, sizeof n1, "%lld", (long long)e->added_at);
		snprintf(n2, sizeof n2, "%lld", (long long)e->added_version);
		snprintf(n3, sizeof n3, "%lld", (long long)e->removed_at);
		const char *f[10] = {hg_signal_name(e->signal), e->value, e->external_id, e->source,
				     e->added_by, n1, n2, e->removed_by,
				     e->removed_version ? n3 : NULL, e->removed_reason};
		for (int i = 0; i < 10; i++)
			if (csv_put(buf, bufsz, &o, f[i], i == 9))
				return 0;
		if (o >= bufsz)
			return 0;
		buf[o] = '\0';
		return o;
	}
	json_t *j = json_object();
	if (!j)
		return 0;
	json_object_set_new(j, "signal_type", json_string(hg_signal_name(e->signal)));
	json_object_set_new(j, "signal_value", json_string(e->value));
	if (e->external_id)
		json_object_set_new(j, "external_id", json_string(e->external_id));
	if (e->source)
		json_object_set_new(j, "source", json_string(e->source));
	if (e->added_by)
		json_object_set_new(j, "added_by", json_string(e->added_by));
	json_object_set_new(j, "added_at", json_integer(e->added_at));
	json_object_set_new(j, "added_version", json_integer(e->added_version));
	if (e->removed_version) {
		json_object_set_new(j, "removed_version", json_integer(e->removed_version));
		json_object_set_new(j, "removed_at", json_integer(e->removed_at));
		if (e->removed_by)
			json_object_set_new(j, "removed_by", json_string(e->removed_by));
		if (e->removed_reason)
			json_object_set_new(j, "removed_reason", json_string(e->removed_reason));
	}
	size_t n = json_dumpb(j, buf, bufsz, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (n == 0 || n + 2 > bufsz)
		return 0;
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}
