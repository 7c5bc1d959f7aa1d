/*
 * http.h — what route handlers see: the request (caller, path parameters,
 * body, query) and how they answer. http.c owns the connection; a handler
 * only fills in a reply, synchronously, or hands the request to the hashing
 * pool and calls hg_req_resume() when the reply is ready.
 */
#ifndef HG_SERVICE_HTTP_H
#define HG_SERVICE_HTTP_H

#include <microhttpd.h>

#include "service/banks.h"
#include "service/service.h"

enum hg_body_kind {
	HG_BODY_NONE,   /* a body is refused (413 past 0 bytes is not useful: ignored) */
	HG_BODY_JSON,   /* application/json */
	HG_BODY_UPLOAD, /* application/octet-stream, image/<any> or multipart field "file" */
	HG_BODY_TEXT,   /* a hash list: text/plain, text/csv, application/x-ndjson, ... */
};

struct hg_req;
typedef void (*hg_handler)(struct hg_req *r);

struct hg_route {
	const char *method;
	const char *pattern; /* "/v1/banks/{}/entries": {} = one path segment */
	const char *name;    /* the metrics label */
	unsigned perm;       /* 0 = no key needed */
	enum hg_body_kind body;
	hg_handler fn;
};

extern const struct hg_route hg_routes[];
extern const size_t hg_nroutes;

struct hg_server {
	struct hg_serve_config cfg;
	/* One MHD daemon (one epoll thread) per HTTP thread, and our own
	 * listening socket: the acceptor hands connections out in turn (see
	 * http.c). */
	struct MHD_Daemon **daemons;
	long ndaemons;
	int lsock;
	int accept_stop[2];
	pthread_t acceptor;
	int acceptor_started;
	hg_svc_store *st;
	hg_journal *journal;
	hg_keycache *keys;
	hg_ratelimit *rl;
	hg_metrics *metrics;
	hg_workers *workers;
	hg_banks *banks;
	hg_limits limits;
	atomic_int ready, draining;
	atomic_long active;          /* requests between headers and completion */
	atomic_long inflight_bytes;  /* bodies held in memory */
	atomic_long connections;
	atomic_long deferred;        /* requests on the hashing pool (suspended) */
	atomic_int stopping;         /* past the drain: nothing more is deferred */
	int port;
	int stop_pipe[2];
	pthread_t reaper, loader;
	int reaper_started, loader_started;
	atomic_int load_failed;
	atomic_int reaper_stop;
	pthread_mutex_t conn_lock;
	struct hg_conn *conns;       /* every open connection, for the reaper */
	double started;
	int64_t last_prune;
};

#define HG_MAX_PARAMS 2

struct hg_req {
	hg_server *srv;
	struct MHD_Connection *conn;
	struct hg_conn *ci;
	const struct hg_route *route;
	size_t route_index;
	char method[8];
	char path[256];
	char params[HG_MAX_PARAMS][128];
	struct hg_caller who;
	/* body */
	char *body;
	size_t len, cap, reserved;
	long declared;  /* Content-Length, -1 when chunked */
	int overflow;   /* body larger than max_body: answer 413 at the end */
	int multipart;
	char content_type[128];
	struct MHD_PostProcessor *pp;
	/* lifecycle */
	int started, suspended, work_done, answered;
	double t0;
	/* reply */
	int status;
	char *reply;    /* malloc'd */
	const char *reply_type;
	int retry_after;
	/* handler scratch for async work */
	void *work;
	void (*work_free)(void *);
};

/* Replies with `body` (stolen; NULL = {}). */
void hg_reply_json(struct hg_req *r, int status, json_t *body);
/* Replies {"error": {"code": code, "message": ...}}. */
void hg_reply_error(struct hg_req *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Maps a status from the library or store onto an HTTP error reply. */
void hg_reply_status(struct hg_req *r, hg_status st, const char *message);
/* Replies with a text body (copied). */
void hg_reply_text(struct hg_req *r, int status, const char *type, const char *text);
/* A query argument, or NULL. Only from the handler's own (HTTP) thread. */
const char *hg_req_arg(struct hg_req *r, const char *name);
/* Parses the JSON body; on failure replies 400 and returns NULL. */
json_t *hg_req_json(struct hg_req *r);
/* For async handlers: call from the worker once the reply is set. */
void hg_req_resume(struct hg_req *r);
/* Suspends the connection and queues fn on the hashing pool; replies 503
 * itself when the pool is full. */
void hg_req_defer(struct hg_req *r, hg_work_fn fn);

#endif
