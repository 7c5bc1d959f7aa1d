/*
 * service.h — the upload gate's pieces and how they fit, internal to hg_app.
 *
 *   request ─► http.c (libmicrohttpd: limits, body, slow-client reaper, drain)
 *           ─► routes.c (route table: auth.c key + role, ratelimit.c, handler)
 *           ─► check: workers.c hashes uploads on a bounded pool, matcher
 *              finds entries, verdict, journal.c records the decision
 *           ─► JSON response; metrics.c counts it
 *
 * Everything a request touches per call is in memory (keys cached, buckets,
 * index); the store is written by the journal thread in batches.
 */
#ifndef HG_SERVICE_SERVICE_H
#define HG_SERVICE_SERVICE_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hashgate/hashgate.h"
#include "store/svc_store.h"

/* ---- configuration (config.c) ------------------------------------------ */

struct hg_serve_config {
	char listen[128];      /* HOST:PORT */
	char db[1024];         /* store URL */
	long http_threads;     /* libmicrohttpd thread pool */
	long workers;          /* hashing threads */
	long queue;            /* uploads waiting for a hashing thread */
	long max_body;         /* bytes of one request body */
	long max_inflight_mb;  /* all bodies being received or hashed, MiB */
	long max_header;       /* bytes of request line + headers */
	long max_connections;
	long request_timeout;  /* seconds per request, headers + body */
	long drain_timeout;    /* seconds SIGTERM waits for in-flight requests */
	double rate;           /* default requests/s per key */
	double burst;          /* default bucket size per key */
	long retention_days;   /* decisions; 0 = keep */
	long audit_retention_days; /* audit records; 0 = keep */
	long max_pixels, max_side;
	/* videos (hg_video_limits; max_bytes is max_body) and their matching */
	double max_video_seconds, max_video_decode_seconds;
	long max_video_frames, max_video_pixels, max_video_side;
	double video_seconds_per_hash, video_query_pct, video_target_pct;
	long journal_flush_ms; /* how long a decision may wait to be written */
	int quiet;             /* no access log */
};

/* Defaults, then the file named by --config / HASHGATE_CONFIG, then
 * HASHGATE_* environment variables, then flags. Returns 0, or -1 after
 * writing the reason to err. argv[0] is the verb. *help set for --help. */
int hg_serve_config_load(struct hg_serve_config *cfg, int argc, char **argv, int *help,
			 char *err, size_t errlen);
/* The options as usage text. */
void hg_serve_config_usage(FILE *out);
/* The video limits the settings give (max_bytes = max_body). */
void hg_serve_video_limits(const struct hg_serve_config *cfg, hg_video_limits *out);

/* ---- time and ids (util.c) ---------------------------------------------- */

int64_t hg_now_ms(void);
double hg_mono_s(void);
/* "<prefix><32 hex>" from the OS's CSPRNG; 0 or -1. out holds 40 bytes. */
int hg_random_id(const char *prefix, char *out, size_t cap);
/* The same shape, "<prefix><32 hex>", but the first 12 hex digits are the
 * time (unix ms), so ids made later sort later; 80 bits stay random. */
int hg_time_id(const char *prefix, char *out, size_t cap);
/* SHA-256 of `len` bytes as 64 hex + NUL. */
void hg_sha256_hex(const void *data, size_t len, char out[65]);
/* OpenSSL's SHA-256, fetched once for the process (an EVP_MD). */
const struct evp_md_st *hg_sha256_md(void);
/* [A-Za-z0-9._-]{1,63}, not starting with '.' */
int hg_valid_name(const char *s);
/* MD5, SHA-1 and SHA-256 into h->md5/sha1/sha256: of `len` bytes, or of the
 * file at `path` read in pieces (videos are not loaded whole). 0, or -1 when
 * the file cannot be read or OpenSSL fails. */
int hg_digest_bytes(const void *data, size_t len, hg_hashes *h);
int hg_digest_file(const char *path, hg_hashes *h);

/* ---- keys and roles (auth.c) -------------------------------------------- */

enum {
	HG_PERM_CHECK = 1 << 0,
	HG_PERM_BANK_READ = 1 << 1,  /* list banks and their settings */
	HG_PERM_BANK_WRITE = 1 << 2, /* create/modify/delete banks, add/remove entries */
	HG_PERM_ENTRY_READ = 1 << 3, /* list or export entries */
	HG_PERM_REVIEW = 1 << 4,     /* list and decide reviews */
	HG_PERM_DECISIONS = 1 << 5,  /* read the decision log */
};

/* Permissions of a role name; 0 for an unknown role. */
unsigned hg_role_perms(const char *role);

struct hg_caller {
	char key_id[HG_SVC_ID_MAX];
	char tenant[HG_SVC_TENANT_MAX];
	char role[16];
	unsigned perms;
	double rate, burst;
};

/* Creates a key: writes the token (shown once) to token[cap >= 96]. */
hg_status hg_key_create(hg_svc_store *st, const char *tenant, const char *role, double rate,
			double burst, char *key_id, char *token, size_t cap);

typedef struct hg_keycache hg_keycache;
hg_status hg_keycache_new(hg_svc_store *st, hg_keycache **out);
void hg_keycache_free(hg_keycache *kc);
/* Checks a bearer token; HG_OK fills *who, HG_ERR_DENIED otherwise,
 * HG_ERR_STORE when the store could not be asked, HG_ERR_RATE_LIMITED when
 * too many unknown key ids were looked up lately (200/s, burst 400). */
hg_status hg_keycache_auth(hg_keycache *kc, const char *token, struct hg_caller *who);
/* Re-reads from the store the cached keys used lately that are getting old,
 * so requests keep finding them fresh. Call every fraction of a second from
 * a thread that may wait for the store. */
void hg_keycache_refresh(hg_keycache *kc);

/* ---- rate limits (ratelimit.c) ------------------------------------------ */

typedef struct hg_ratelimit hg_ratelimit;
hg_status hg_ratelimit_new(hg_ratelimit **out);
void hg_ratelimit_free(hg_ratelimit *rl);
/* Takes one token from the key's bucket. Returns 1 if allowed; 0 if not,
 * with *retry_after = whole seconds until a token is back (>= 1). */
int hg_ratelimit_take(hg_ratelimit *rl, const char *key_id, double rate, double burst,
		      int *retry_after);

/* ---- audit journal (journal.c) ------------------------------------------ */

/* The chain: hash = SHA-256 over prev_hash and every field, each
 * length-prefixed (see journal.c). Also used by `audit verify`. */
void hg_audit_chain(struct hg_audit_rec *rec, const char *prev_hash);

/* Walks the log. Returns 0 when intact; otherwise 1 and the first bad
 * record's seq in *bad_seq with the reason in why. -1 when the store failed. */
int hg_audit_verify(hg_svc_store *st, int64_t *records, int64_t *bad_seq, char *why,
		    size_t whylen);

typedef struct hg_journal hg_journal;
hg_status hg_journal_new(hg_svc_store *st, long flush_ms, hg_journal **out);
/* Flushes what is queued, stops the writer, frees. NULL is a no-op. */
void hg_journal_free(hg_journal *j);

struct hg_journal_item {
	/* A decision (id set) and/or a review item (review_id set), plus the
	 * audit record describing them. All strings are copied. */
	struct hg_decision_rec decision;
	const char *review_id;
	const char *review_vpdq; /* a video's frames for its review item, or NULL */
	const char *actor, *tenant, *action, *object, *detail;
};
/* Queues one item; when `sync`, waits until it is committed. Blocks while
 * the queue is full (back-pressure instead of memory growth). */
hg_status hg_journal_add(hg_journal *j, const struct hg_journal_item *it, int sync);
/* Commits everything queued before the call. */
hg_status hg_journal_flush(hg_journal *j);
/* Items queued and not yet committed; failed commits so far. */
void hg_journal_stats(hg_journal *j, long *queued, long *failures);

/* ---- metrics (metrics.c) ------------------------------------------------ */

typedef struct hg_metrics hg_metrics;
hg_status hg_metrics_new(size_t nroutes, const char *const *route_names, hg_metrics **out);
void hg_metrics_free(hg_metrics *m);
void hg_metrics_request(hg_metrics *m, size_t route, int status, double seconds);
void hg_metrics_match(hg_metrics *m, const char *tenant, const char *bank, const char *action);
void hg_metrics_verdict(hg_metrics *m, const char *verdict);
/* Appends the Prometheus text exposition of everything counted, plus the
 * gauges given, to a malloc'd string (caller frees). */
char *hg_metrics_render(hg_metrics *m, const char *gauges);

/* ---- hashing pool (workers.c) -------------------------------------------- */

typedef struct hg_workers hg_workers;
/* What a job gets on its worker thread: that thread's image hasher and
 * video hasher (each NULL if it could not be made). */
struct hg_work_ctx {
	hg_hasher *hasher;
	hg_video_hasher *video;
};
typedef void (*hg_work_fn)(void *arg, const struct hg_work_ctx *ctx);
hg_status hg_workers_new(long threads, long queue, const hg_limits *limits,
			 const hg_video_limits *video_limits, hg_workers **out);
/* Stops after the queued jobs ran. NULL is a no-op. */
void hg_workers_free(hg_workers *w);
/* HG_ERR_RATE_LIMITED ("busy") when the queue is full. */
hg_status hg_workers_submit(hg_workers *w, hg_work_fn fn, void *arg);
long hg_workers_queued(hg_workers *w);

/* ---- the server (http.c) ------------------------------------------------- */

typedef struct hg_server hg_server;
/* Opens the store, loads keys and the index, binds the socket. On failure
 * err says why. */
hg_status hg_server_new(const struct hg_serve_config *cfg, hg_server **out, char *err,
			size_t errlen);
/* Serves until hg_server_stop() (e.g. from a SIGTERM handler thread), then
 * drains in-flight requests for up to drain_timeout and flushes the journal. */
hg_status hg_server_run(hg_server *s);
/* Async-signal-safe: asks hg_server_run to drain and return. */
void hg_server_stop(hg_server *s);
void hg_server_free(hg_server *s);
/* The port actually bound (useful with port 0). */
int hg_server_port(const hg_server *s);

#endif
