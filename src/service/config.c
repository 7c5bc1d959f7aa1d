/*
 * config.c — `hashgate serve` settings from one table: each option has a
 * flag (--max-body), an environment variable (HASHGATE_MAX_BODY), a config
 * file key (max-body = ...), bounds and a default. Later sources win:
 * defaults < file < environment < flags.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service/service.h"

enum kind { STR, LONG, DBL, FLAG };

struct opt {
	const char *name;
	enum kind kind;
	size_t off, size;
	double min, max;
	const char *def;
	const char *help;
};

#define S(f) offsetof(struct hg_serve_config, f), sizeof(((struct hg_serve_config *)0)->f)

static const struct opt opts[] = {
	{"listen", STR, S(listen), 0, 0, "127.0.0.1:8080", "HOST:PORT to listen on (port 0 = any)"},
	{"db", STR, S(db), 0, 0, "./hashgate.db", "store: PATH, sqlite:PATH or postgres://..."},
	{"http-threads", LONG, S(http_threads), 1, 64, "0", "HTTP threads (0 = one per core)"},
	{"workers", LONG, S(workers), 1, 256, "0", "hashing threads (0 = one per core)"},
	{"queue", LONG, S(queue), 1, 100000, "256", "uploads waiting for a hashing thread"},
	{"max-body", LONG, S(max_body), 1024, 1L << 30, "33554432", "largest request body, bytes"},
	{"max-inflight-mb", LONG, S(max_inflight_mb), 1, 65536, "512",
	 "memory for bodies being received or hashed, MiB; past it: 503"},
	{"max-header", LONG, S(max_header), 4096, 1L << 20, "16384",
	 "request line + headers, bytes (431 past it)"},
	{"max-connections", LONG, S(max_connections), 1, 100000, "4096", "open connections"},
	{"request-timeout", LONG, S(request_timeout), 1, 3600, "30",
	 "seconds a request may take from its first byte to its last (slow clients are cut)"},
	{"drain-timeout", LONG, S(drain_timeout), 0, 3600, "10",
	 "seconds SIGTERM waits for in-flight requests"},
	{"rate", DBL, S(rate), 0, 1e9, "100", "requests/s per key (0 = unlimited)"},
	{"burst", DBL, S(burst), 1, 1e9, "200", "requests a key may send at once"},
	{"retention-days", LONG, S(retention_days), 0, 36500, "30",
	 "days decisions are kept (0 = forever)"},
	{"audit-retention-days", LONG, S(audit_retention_days), 0, 36500, "0",
	 "days audit records are kept (0 = forever)"},
	{"max-pixels", LONG, S(max_pixels), 1, 1L << 40, "100000000", "largest image, pixels"},
	{"max-side", LONG, S(max_side), 1, 65535, "65535", "largest image side, px"},
	{"max-video-seconds", DBL, S(max_video_seconds), 0.001, 1e6, "900",
	 "longest video, seconds of media (413 past it)"},
	{"max-video-frames", LONG, S(max_video_frames), 1, 1L << 40, "54000",
	 "most frames in a video, decoded or not"},
	{"max-video-pixels", LONG, S(max_video_pixels), 1, 1L << 40, "9437184",
	 "largest video frame, pixels (4096x2304)"},
	{"max-video-side", LONG, S(max_video_side), 1, 65535, "4096", "largest video frame side, px"},
	{"max-video-decode-seconds", DBL, S(max_video_decode_seconds), 0.001, 86400, "120",
	 "wall-clock time one video may take to decode and hash (413 past it)"},
	{"video-seconds-per-hash", DBL, S(video_seconds_per_hash), 0, 3600, "1",
	 "videos: one frame hash per this many seconds (0 = every frame)"},
	{"video-query-pct", DBL, S(video_query_pct), 0, 100, "80",
	 "share of a video's usable frames that must match a bank video"},
	{"video-target-pct", DBL, S(video_target_pct), 0, 100, "0",
	 "share of the bank video's frames that must match"},
	{"journal-flush-ms", LONG, S(journal_flush_ms), 1, 10000, "20",
	 "longest a decision record waits before it is written"},
	{"quiet", FLAG, S(quiet), 0, 1, "0", "no access log on stderr"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static const struct opt *find(const char *name, size_t len)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len))
			return &opts[i];
	return NULL;
}

static int set(struct hg_serve_config *cfg, const struct opt *o, const char *val, char *err,
	       size_t errlen, const char *src)
{
	char *p = (char *)cfg + o->off;
	char *end;
	errno = 0;
	if (o->kind == STR) {
		if (strlen(val) >= o->size) {
			snprintf(err, errlen, "%s: %s is too long", src, o->name);
			return -1;
		}
		memcpy(p, val, strlen(val) + 1);
		return 0;
	}
	if (o->kind == FLAG) {
		int v = !strcmp(val, "1") || !strcmp(val, "true") || !strcmp(val, "yes");
		if (!v && strcmp(val, "0") && strcmp(val, "false") && strcmp(val, "no")) {
			snprintf(err, errlen, "%s: %s takes true or false", src, o->name);
			return -1;
		}
		*(int *)p = v;
		return 0;
	}
	double v = strtod(val, &end);
	int zero_ok = o->kind == LONG && !strcmp(o->def, "0") && v == 0;
	if (errno || end == val || *end || ((v < o->min || v > o->max) && !zero_ok) ||
	    (o->kind == LONG && v != (double)(long)v)) {
		snprintf(err, errlen, "%s: %s takes %s %g..%g, not '%s'", src, o->name,
			 o->kind == LONG ? "a whole number" : "a number", o->min, o->max, val);
		return -1;
	}
	if (o->kind == LONG)
		*(long *)p = (long)v;
	else
		*(double *)p = v;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int load_file(struct hg_serve_config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "config %s: %s", path, strerror(errno));
		return -1;
	}
	char line[2048];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		char src[1100];
		snprintf(src, sizeof src, "%s:%d", path, lineno);
		if (!eq) {
			snprintf(err, errlen, "%s: expected name = value", src);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *name = trim(s), *val = trim(eq + 1);
		const struct opt *o = find(name, strlen(name));
		if (!o) {
			snprintf(err, errlen, "%s: unknown setting '%s'", src, name);
			rc = -1;
		} else {
			rc = set(cfg, o, val, err, errlen, src);
		}
	}
	fclose(f);
	return rc;
}

static void env_name(const char *name, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "HASHGATE_");
	for (; *name && n + 1 < cap; name++)
		out[n++] = *name == '-' ? '_' : (char)toupper((unsigned char)*name);
	out[n] = '\0';
}

int hg_serve_config_load(struct hg_serve_config *cfg, int argc, char **argv, int *help,
			 char *err, size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	*help = 0;
	for (size_t i = 0; i < NOPTS; i++)
		if (set(cfg, &opts[i], opts[i].def, err, errlen, "default"))
			return -1;
	/* The file first (named by flag or environment), so the rest override it. */
	const char *file = getenv("HASHGATE_CONFIG");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			file = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			file = argv[i] + 9;
	}
	if (file && *file && load_file(cfg, file, err, errlen))
		return -1;
	for (size_t i = 0; i < NOPTS; i++) {
		char env[64];
		env_name(opts[i].name, env, sizeof env);
		const char *v = getenv(env);
		if (v && set(cfg, &opts[i], v, err, errlen, env))
			return -1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			*help = 1;
			return 0;
		}
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err, errlen, "unexpected argument '%s'", a);
			return -1;
		}
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		if (len == 6 && !strncmp(name, "config", 6)) {
			i += eq ? 0 : 1;
			continue;
		}
		const struct opt *o = find(name, len);
		if (!o) {
			snprintf(err, errlen, "unknown option '%s'", a);
			return -1;
		}
		const char *val = eq ? eq + 1 : NULL;
		if (!val && o->kind == FLAG)
			val = "1";
		if (!val) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "%s needs a value", a);
				return -1;
			}
			val = argv[++i];
		}
		if (set(cfg, o, val, err, errlen, "flag"))
			return -1;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores < 1)
		cores = 1;
	if (!cfg->http_threads)
		cfg->http_threads = cores;
	if (!cfg->workers)
		cfg->workers = cores;
	return 0;
}

void hg_serve_video_limits(const struct hg_serve_config *cfg, hg_video_limits *out)
{
	hg_video_limits_default(out);
	out->max_bytes = (uint64_t)cfg->max_body;
	out->max_seconds = cfg->max_video_seconds;
	out->max_frames = (uint64_t)cfg->max_video_frames;
	out->max_pixels = (uint64_t)cfg->max_video_pixels;
	out->max_side = (uint32_t)cfg->max_video_side;
	out->max_decode_seconds = cfg->max_video_decode_seconds;
}

void hg_serve_config_usage(FILE *out)
{
	fprintf(out, "usage: hashgate serve [options]\n"
		     "  --config FILE              settings file: 'name = value' lines"
		     " (env HASHGATE_CONFIG)\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char env[64], flag[64];
		env_name(opts[i].name, env, sizeof env);
		snprintf(flag, sizeof flag, "--%s%s", opts[i].name, opts[i].kind == FLAG ? "" : " V");
		fprintf(out, "  %-26s %s (default %s; env %s)\n", flag, opts[i].help, opts[i].def,
			env);
	}
	fprintf(out, "Precedence: flags > environment > config file > defaults.\n");
}
