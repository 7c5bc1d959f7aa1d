/*
 * http.c — the HTTP side of the gate on libmicrohttpd: one request's life
 * (route, key, rate limit, body with limits, handler, reply), the limits
 * that keep a hostile client from hurting others, and a graceful stop.
 *
 * Limits, each explicit in the config:
 *   headers          MHD's per-connection memory pool (max-header); 431 past it
 *   body             Content-Length checked before reading (413), a chunked
 *                    body counted as it arrives (413 once it is complete)
 *   bodies in memory a global budget (max-inflight-mb); 503 + Retry-After
 *   connections      MHD's connection limit (max-connections)
 *   time             a reaper thread shuts the socket of any connection whose
 *                    current request has taken longer than request-timeout
 *                    (headers + body; time spent hashing does not count), so a
 *                    client sending one byte a second is cut off — MHD's own
 *                    timeout only catches idle connections
 *   hashing          a bounded queue in front of a fixed pool (workers.c)
 *
 * Threads: one MHD daemon with its own epoll thread per HTTP thread, none of
 * them listening; an acceptor thread owns the socket and gives each new
 * connection to the next daemon in turn. With MHD's own thread pool every
 * thread polls the shared listening socket and the first awake accepts a
 * whole burst: a client opening 64 keep-alive connections got 62 on one
 * thread and 2 on the other, and the 62 waited on one core while the other
 * idled — most of the p99 of hash-only checks. Each daemon polls with
 * poll(2), not epoll: libmicrohttpd 0.9.75's epoll loop calls epoll_wait
 * again, blocking, after a batch of exactly 128 events, so 128 clients
 * waiting at once on one thread hung until the connection timeout
 * (test_service_robust's keep-alive test).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "service/http.h"

/* One open connection, known to the reaper. */
struct hg_conn {
	struct hg_conn *prev, *next;
	int fd;
	atomic_long since_ms; /* monotonic ms: start of the client's current turn */
	atomic_int working;   /* our turn (handler or hashing): not the client's time */
};

static long mono_ms(void)
{
	return (long)(hg_mono_s() * 1000);
}

/* ---- replies ---------------------------------------------------------- */

static void set_reply(struct hg_req *r, int status, char *text, const char *type)
{
	free(r->reply);
	r->status = status;
	r->reply = text;
	r->reply_type = type;
}

void hg_reply_json(struct hg_req *r, int status, json_t *body)
{
	if (!body)
		body = json_object();
	char *s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!s) {
		set_reply(r, 500, strdup("{\"error\":{\"code\":\"internal_error\",\"message\":"
					 "\"out of memory\"}}"), "application/json");
		return;
	}
	set_reply(r, status, s, "application/json");
}

void hg_reply_error(struct hg_req *r, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	hg_reply_json(r, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

void hg_reply_status(struct hg_req *r, hg_status st, const char *message)
{
	int http;
	switch (st) {
	case HG_OK: http = 200; break;
	case HG_ERR_NOT_FOUND: http = 404; break;
	case HG_ERR_EXISTS:
	case HG_ERR_CONFLICT: http = 409; break;
	case HG_ERR_DENIED: http = 403; break;
	case HG_ERR_TOO_LARGE: http = 413; break;
	case HG_ERR_RATE_LIMITED: http = 429; break;
	case HG_ERR_NOMEM:
	case HG_ERR_STORE:
	case HG_ERR_IO:
	case HG_ERR_TIMEOUT: http = 503; break;
	case HG_ERR_INTERNAL: http = 500; break;
	default: http = 400; break; /* the input was wrong */
	}
	hg_reply_error(r, http, hg_status_token(st), "%s",
		       message && *message ? message : hg_strerror(st));
}

void hg_reply_text(struct hg_req *r, int status, const char *type, const char *text)
{
	set_reply(r, status, strdup(text ? text : ""), type);
}

const char *hg_req_arg(struct hg_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

json_t *hg_req_json(struct hg_req *r)
{
	json_error_t e;
	if (!r->len) {
		hg_reply_error(r, 400, "bad_json", "the request needs a JSON body");
		return NULL;
	}
	json_t *j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		hg_reply_error(r, 400, "bad_json", "malformed JSON at line %d column %d: %s", e.line,
			       e.column, e.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		hg_reply_error(r, 400, "bad_json", "the body must be a JSON object");
		return NULL;
	}
	return j;
}

void hg_req_resume(struct hg_req *r)
{
	hg_server *s = r->srv; /* once resumed, r may be answered and freed at once */
	r->work_done = 1;
	MHD_resume_connection(r->conn);
	atomic_fetch_sub(&s->deferred, 1);
}

void hg_req_defer(struct hg_req *r, hg_work_fn fn)
{
	/* Counted before the connection is suspended, and refused once the
	 * server is stopping: hg_server_run stops MHD only when no connection is
	 * (about to be) suspended, which MHD would abort on. */
	atomic_fetch_add(&r->srv->deferred, 1);
	if (atomic_load(&r->srv->stopping)) {
		atomic_fetch_sub(&r->srv->deferred, 1);
		r->retry_after = 1;
		hg_reply_error(r, 503, "not_ready", "shutting down");
		return;
	}
	r->suspended = 1;
	r->work_done = 0;
	if (r->ci)
		r->ci->working = 1;
	MHD_suspend_connection(r->conn);
	if (hg_workers_submit(r->srv->workers, fn, r) != HG_OK) {
		r->retry_after = 1;
		hg_reply_error(r, 503, "busy", "every hashing worker is busy; retry shortly");
		hg_req_resume(r);
	}
}

/* ---- routing ------------------------------------------------------------ */

/* Matches `path` against a pattern; fills params. */
static int match_path(const char *pattern, const char *path, char params[][128])
{
	int np = 0;
	while (*pattern && *path) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			const char *end = strchr(path, '/');
			size_t n = end ? (size_t)(end - path) : strlen(path);
			if (n == 0 || n >= 128 || np >= HG_MAX_PARAMS)
				return 0;
			memcpy(params[np], path, n);
			params[np++][n] = '\0';
			path += n;
			pattern += 2;
		} else if (*pattern++ != *path++) {
			return 0;
		}
	}
	return !*pattern && !*path;
}

/* Finds the route; *path_known is set when the path exists for another
 * method (405 rather than 404). */
static const struct hg_route *route_for(struct hg_req *r, int *path_known)
{
	*path_known = 0;
	for (size_t i = 0; i < hg_nroutes; i++) {
		char params[HG_MAX_PARAMS][128];
		if (!match_path(hg_routes[i].pattern, r->path, params))
			continue;
		*path_known = 1;
		if (strcmp(hg_routes[i].method, r->method) != 0)
			continue;
		memcpy(r->params, params, sizeof params);
		r->route_index = i;
		return &hg_routes[i];
	}
	r->route_index = hg_nroutes;
	return NULL;
}

/* ---- bodies --------------------------------------------------------------- */

static int reserve(struct hg_req *r, size_t more)
{
	long budget = r->srv->cfg.max_inflight_mb << 20;
	long now = atomic_fetch_add(&r->srv->inflight_bytes, (long)more) + (long)more;
	if (now > budget) {
		atomic_fetch_sub(&r->srv->inflight_bytes, (long)more);
		return -1;
	}
	r->reserved += more;
	return 0;
}

/* Appends to the body within max_body; past it, the rest is dropped and
 * the request answered 413 once it is complete. */
static int append(struct hg_req *r, const char *data, size_t n)
{
	size_t max = (size_t)r->srv->cfg.max_body;
	if (r->overflow || n > max - r->len) {
		r->overflow = 1;
		return 0;
	}
	if (r->len + n > r->cap) {
		/* With a Content-Length, one exact allocation (and reservation). */
		size_t cap = r->cap ? r->cap : r->declared > 0 ? (size_t)r->declared : 16384;
		while (cap < r->len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		if (cap > r->reserved && reserve(r, cap - r->reserved))
			return -1;
		char *nb = realloc(r->body, cap);
		if (!nb)
			return -1;
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	return 0;
}

static enum MHD_Result post_field(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *filename, const char *content_type,
				  const char *transfer_encoding, const char *data, uint64_t off,
				  size_t size)
{
	struct hg_req *r = cls;
	(void)kind;
	(void)filename;
	(void)content_type;
	(void)transfer_encoding;
	(void)off;
	if (key && !strcmp(key, "file") && size)
		return append(r, data, size) == 0 ? MHD_YES : MHD_NO;
	return MHD_YES;
}

static int type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	return ct && !strncasecmp(ct, want, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Checks the content type for the route's body kind; replies 415 if wrong. */
static int content_type_ok(struct hg_req *r)
{
	const char *ct = r->content_type;
	switch (r->route->body) {
	case HG_BODY_NONE:
		return 1;
	case HG_BODY_JSON:
		if (type_is(ct, "application/json"))
			return 1;
		hg_reply_error(r, 415, "unsupported_media_type",
			       "send the body as application/json (got '%s')", ct);
		return 0;
	case HG_BODY_UPLOAD:
		if (type_is(ct, "multipart/form-data")) {
			r->multipart = 1;
			return 1;
		}
		if (type_is(ct, "application/octet-stream") || !strncasecmp(ct, "image/", 6) ||
		    !strncasecmp(ct, "video/", 6))
			return 1;
		hg_reply_error(r, 415, "unsupported_media_type",
			       "send the image or video as application/octet-stream, image/*,"
			       " video/* or multipart field \"file\" (got '%s')", ct);
		return 0;
	case HG_BODY_TEXT:
		if (!strncasecmp(ct, "text/", 5) || type_is(ct, "application/x-ndjson") ||
		    type_is(ct, "application/jsonl") || type_is(ct, "application/octet-stream"))
			return 1;
		hg_reply_error(r, 415, "unsupported_media_type",
			       "send the list as text/plain, text/csv or application/x-ndjson"
			       " (got '%s')", ct);
		return 0;
	}
	return 1;
}

/* ---- one request ----------------------------------------------------------- */

static const char *header(struct hg_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Runs when the headers are in: route, key, role, rate limit, body limits.
 * Returns 0 to go on reading the body, -1 when a reply is already set. */
static int begin(struct hg_req *r)
{
	hg_server *s = r->srv;
	int path_known;
	r->route = route_for(r, &path_known);
	if (!r->route) {
		if (path_known)
			hg_reply_error(r, 405, "method_not_allowed", "%s is not allowed on %s",
				       r->method, r->path);
		else
			hg_reply_error(r, 404, "not_found", "no such endpoint: %s", r->path);
		return -1;
	}
	if (r->route->perm && !atomic_load(&s->ready)) {
		r->retry_after = 1;
		hg_reply_error(r, 503, "not_ready", atomic_load(&s->draining) ? "shutting down"
			       : "the index is still loading");
		return -1;
	}
	if (r->route->perm) {
		const char *auth = header(r, MHD_HTTP_HEADER_AUTHORIZATION);
		if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
			hg_reply_error(r, 401, "unauthorized",
				       "send an API key as 'Authorization: Bearer <key>'");
			return -1;
		}
		const char *tok = auth + 7;
		while (*tok == ' ')
			tok++;
		hg_status st = hg_keycache_auth(s->keys, tok, &r->who);
		if (st == HG_ERR_STORE) {
			hg_reply_error(r, 503, "store_error", "cannot check the key right now");
			return -1;
		}
		if (st == HG_ERR_RATE_LIMITED) {
			r->retry_after = 1;
			hg_reply_error(r, 503, "busy", "too many unknown keys; retry shortly");
			return -1;
		}
		if (st != HG_OK) {
			hg_reply_error(r, 401, "unauthorized", "unknown or revoked API key");
			return -1;
		}
		if (!(r->who.perms & r->route->perm)) {
			hg_reply_error(r, 403, "forbidden", "the %s role may not do this",
				       r->who.role);
			return -1;
		}
		double rate = r->who.rate > 0 ? r->who.rate : s->cfg.rate;
		double burst = r->who.burst > 0 ? r->who.burst : s->cfg.burst;
		if (!hg_ratelimit_take(s->rl, r->who.key_id, rate, burst, &r->retry_after)) {
			hg_reply_error(r, 429, "rate_limited",
				       "this key is over its rate limit of %g requests/s", rate);
			return -1;
		}
	}
	const char *ct = header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	snprintf(r->content_type, sizeof r->content_type, "%s", ct ? ct : "");
	const char *cl = header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	r->declared = cl ? atol(cl) : -1;
	if (r->route->body == HG_BODY_NONE)
		return 0;
	if (!content_type_ok(r))
		return -1;
	if (r->declared > s->cfg.max_body) {
		hg_reply_error(r, 413, "too_large", "the body is %ld bytes; the limit is %ld",
			       r->declared, s->cfg.max_body);
		return -1;
	}
	if (r->declared > 0 && reserve(r, (size_t)r->declared)) {
		r->retry_after = 1;
		hg_reply_error(r, 503, "busy", "too many uploads in progress; retry shortly");
		return -1;
	}
	if (r->multipart) {
		r->pp = MHD_create_post_processor(r->conn, 65536, post_field, r);
		if (!r->pp) {
			hg_reply_error(r, 400, "bad_multipart", "malformed multipart/form-data"
				       " (a boundary is required)");
			return -1;
		}
	}
	return 0;
}

static enum MHD_Result send_reply(struct hg_req *r)
{
	if (!r->reply)
		hg_reply_error(r, 500, "internal_error", "the handler gave no reply");
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(r->reply), r->reply,
								    MHD_RESPMEM_MUST_FREE);
	if (!resp)
		return MHD_NO;
	r->reply = NULL; /* owned by the response now */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->reply_type);
	if (r->retry_after > 0 && (r->status == 429 || r->status == 503)) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	/* A body left unread, or a drain in progress: close after replying. */
	if ((r->route && r->route->body != HG_BODY_NONE && !r->started) ||
	    atomic_load(&r->srv->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	r->answered = 1;
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **ctx)
{
	hg_server *s = cls;
	(void)version;
	struct hg_req *r = *ctx;
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		*ctx = r;
		r->srv = s;
		r->conn = conn;
		r->t0 = hg_mono_s();
		atomic_fetch_add(&s->active, 1);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		r->ci = ci ? ci->socket_context : NULL;
		snprintf(r->method, sizeof r->method, "%s", method);
		if (strlen(url) >= sizeof r->path) {
			hg_reply_error(r, 404, "not_found", "no such endpoint");
			return send_reply(r);
		}
		snprintf(r->path, sizeof r->path, "%s", url);
		if (begin(r) != 0)
			return send_reply(r);
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES; /* discard what follows an early reply */
	if (*upload_data_size) {
		r->started = 1;
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->route->body == HG_BODY_NONE) {
			r->overflow = 1; /* a body where none belongs: 413 at the end */
			return MHD_YES;
		}
		int rc = r->pp ? (MHD_post_process(r->pp, upload_data, n) == MHD_YES ? 0 : -1)
			       : append(r, upload_data, n);
		if (rc != 0) {
			/* Out of budget mid-body: cannot reply yet (MHD replies only
			 * once the body is read), so drop the connection. */
			return MHD_NO;
		}
		/* Stop reading a chunked body that has gone far past the limit. */
		if (r->overflow && r->declared < 0 && !r->pp)
			return MHD_NO;
		return MHD_YES;
	}
	if (r->suspended) {
		if (!r->work_done)
			return MHD_YES;
		r->suspended = 0;
		if (r->ci) {
			atomic_store(&r->ci->since_ms, mono_ms()); /* the reply gets a full timeout */
			r->ci->working = 0;
		}
		return send_reply(r);
	}
	/* The whole request is in. */
	r->started = 1;
	if (r->overflow) {
		if (r->route->body == HG_BODY_NONE)
			hg_reply_error(r, 413, "too_large", "this endpoint takes no body");
		else
			hg_reply_error(r, 413, "too_large", "the body is over the limit of %ld bytes",
				       s->cfg.max_body);
		return send_reply(r);
	}
	if (r->multipart && r->len == 0) {
		hg_reply_error(r, 400, "bad_multipart", "no non-empty field named \"file\"");
		return send_reply(r);
	}
	/* Our own time (a large import, say) is not the client's: the reaper
	 * leaves the connection alone while a handler runs. */
	if (r->ci)
		r->ci->working = 1;
	r->route->fn(r);
	if (r->suspended)
		return MHD_YES;
	if (r->ci) {
		atomic_store(&r->ci->since_ms, mono_ms());
		r->ci->working = 0;
	}
	return send_reply(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
			 enum MHD_RequestTerminationCode why)
{
	hg_server *s = cls;
	struct hg_req *r = *ctx;
	(void)conn;
	if (!r)
		return;
	double dt = hg_mono_s() - r->t0;
	int status = r->answered ? r->status : 499;
	hg_metrics_request(s->metrics, r->route_index, status, dt);
	if (!s->cfg.quiet)
		fprintf(stderr, "%s %s %d %.2fms %s%s\n", r->method, r->path, status, dt * 1e3,
			r->who.key_id[0] ? r->who.key_id : "-",
			why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	if (r->ci) {
		atomic_store(&r->ci->since_ms, mono_ms());
		r->ci->working = 0;
	}
	if (r->pp)
		MHD_destroy_post_processor(r->pp);
	if (r->work_free)
		r->work_free(r->work);
	atomic_fetch_sub(&s->inflight_bytes, (long)r->reserved);
	atomic_fetch_sub(&s->active, 1);
	free(r->body);
	free(r->reply);
	free(r);
	*ctx = NULL;
}

/* ---- connections and the reaper ------------------------------------------- */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	hg_server *s = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct hg_conn *c = calloc(1, sizeof *c);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!c)
			return;
		c->fd = ci ? ci->connect_fd : -1;
		atomic_store(&c->since_ms, mono_ms());
		pthread_mutex_lock(&s->conn_lock);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		pthread_mutex_unlock(&s->conn_lock);
		atomic_fetch_add(&s->connections, 1);
		*socket_ctx = c;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_ctx) {
		struct hg_conn *c = *socket_ctx;
		pthread_mutex_lock(&s->conn_lock);
		if (c->prev)
			c->prev->next = c->next;
		else
			s->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		pthread_mutex_unlock(&s->conn_lock);
		atomic_fetch_sub(&s->connections, 1);
		free(c);
		*socket_ctx = NULL;
	}
}

static void prune_if_due(hg_server *s)
{
	int64_t now = hg_now_ms(), day = 86400000LL;
	if (now - s->last_prune < 3600000LL)
		return;
	s->last_prune = now;
	int64_t dec = s->cfg.retention_days ? now - s->cfg.retention_days * day : 0;
	int64_t aud = s->cfg.audit_retention_days ? now - s->cfg.audit_retention_days * day : 0;
	int64_t removed = 0;
	if (hg_svc_prune(s->st, aud, dec, &removed) != HG_OK)
		fprintf(stderr, "hashgate serve: retention: %s\n", hg_svc_store_errmsg(s->st));
}

static void *reaper(void *arg)
{
	hg_server *s = arg;
	while (!atomic_load(&s->reaper_stop)) {
		struct timespec tick = {0, 250000000L};
		nanosleep(&tick, NULL);
		long now = mono_ms(), limit = s->cfg.request_timeout * 1000L;
		pthread_mutex_lock(&s->conn_lock);
		for (struct hg_conn *c = s->conns; c; c = c->next) {
			/* Shutting the socket down (not closing it) makes MHD see
			 * the end of the stream and close the connection itself. */
			if (!atomic_load(&c->working) && c->fd >= 0 &&
			    now - atomic_load(&c->since_ms) > limit)
				shutdown(c->fd, SHUT_RDWR);
		}
		pthread_mutex_unlock(&s->conn_lock);
		hg_keycache_refresh(s->keys);
		prune_if_due(s);
	}
	return NULL;
}

/* ---- the server ------------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	hg_server *s = cls;
	if (s->cfg.quiet)
		return;
	fputs("hashgate serve: microhttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	if (!colon || (size_t)(colon - listen) >= sizeof host)
		return -1;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535)
		return -1;
	memset(ss, 0, sizeof *ss);
	char *h = host;
	if (h[0] == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = '\0';
		h++;
	}
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (!*h || inet_pton(AF_INET, h, &in4->sin_addr) == 1) {
		if (!*h)
			in4->sin_addr.s_addr = htonl(INADDR_ANY);
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof *in4;
		return 0;
	}
	if (!strcmp(h, "localhost")) {
		in4->sin_family = AF_INET;
		in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof *in4;
		return 0;
	}
	if (inet_pton(AF_INET6, h, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof *in6;
		return 0;
	}
	return -1;
}

/* Enough descriptors for the connection cap (the soft limit is often 1024). */
static void raise_fd_limit(long want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t need = (rlim_t)want + 64;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void *loader(void *arg)
{
	hg_server *s = arg;
	char err[512];
	double t0 = hg_mono_s();
	hg_banks *b = NULL;
	if (hg_banks_open(s->cfg.db, &b, err, sizeof err) != HG_OK) {
		fprintf(stderr, "hashgate serve: %s\n", err);
		atomic_store(&s->load_failed, 1);
		hg_server_stop(s);
		return NULL;
	}
	s->banks = b;
	atomic_store(&s->ready, 1);
	if (!s->cfg.quiet)
		fprintf(stderr, "hashgate serve: index ready: %zu entries in %.2f s\n",
			hg_banks_indexed(b), hg_mono_s() - t0);
	return NULL;
}

/* ---- listening and handing out connections ------------------------------------- */

static int open_listener(const char *listen_at, const struct sockaddr_storage *ss, socklen_t len,
			 char *err, size_t errlen)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s (in use, or not an address of this"
			 " machine?)", listen_at, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Accepts until told to stop (accept_stop) and gives each connection to the
 * next daemon, so every HTTP thread serves an equal share of them. Past
 * max-connections a new connection is closed at once. */
static void *acceptor(void *arg)
{
	hg_server *s = arg;
	long next = 0;
	struct pollfd p[2] = {{.fd = s->lsock, .events = POLLIN},
			      {.fd = s->accept_stop[0], .events = POLLIN}};
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		for (;;) {
			struct sockaddr_storage addr;
			socklen_t alen = sizeof addr;
			int fd = accept4(s->lsock, (struct sockaddr *)&addr, &alen,
					 SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd < 0) {
				if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
				    errno == ENOMEM) {
					/* out of descriptors: let connections close first */
					struct timespec t = {0, 10000000L};
					nanosleep(&t, NULL);
				}
				break;
			}
			if (atomic_load(&s->connections) >= s->cfg.max_connections) {
				close(fd);
				continue;
			}
			/* MHD closes the socket itself if it cannot take it */
			MHD_add_connection(s->daemons[next], fd, (struct sockaddr *)&addr, alen);
			next = (next + 1) % s->ndaemons;
		}
	}
	return NULL;
}

/* No new connections from here on; the open ones go on being served. */
static void stop_accepting(hg_server *s)
{
	if (s->acceptor_started) {
		char c = 1;
		ssize_t n = write(s->accept_stop[1], &c, 1);
		(void)n;
		pthread_join(s->acceptor, NULL);
		s->acceptor_started = 0;
	}
	if (s->lsock >= 0) {
		close(s->lsock);
		s->lsock = -1;
	}
}

static void stop_daemons(hg_server *s)
{
	for (long i = 0; i < s->ndaemons; i++)
		MHD_stop_daemon(s->daemons[i]);
	s->ndaemons = 0;
}

hg_status hg_server_new(const struct hg_serve_config *cfg, hg_server **out, char *err,
			size_t errlen)
{
	*out = NULL;
	hg_server *s = calloc(1, sizeof *s);
	if (!s)
		return HG_ERR_NOMEM;
	s->cfg = *cfg;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	s->accept_stop[0] = s->accept_stop[1] = -1;
	s->lsock = -1;
	s->started = hg_mono_s();
	s->last_prune = 0;
	pthread_mutex_init(&s->conn_lock, NULL);
	hg_limits_default(&s->limits);
	s->limits.max_bytes = (uint64_t)cfg->max_body;
	s->limits.max_pixels = (uint64_t)cfg->max_pixels;
	s->limits.max_side = (uint32_t)cfg->max_side;

	const char *names[64];
	for (size_t i = 0; i < hg_nroutes && i < 64; i++)
		names[i] = hg_routes[i].name;
	static const char *route_names[64];
	memcpy(route_names, names, sizeof names);
	hg_status st = hg_svc_store_open(cfg->db, &s->st, err, errlen);
	if (st == HG_OK && (st = hg_journal_new(s->st, cfg->journal_flush_ms, &s->journal)) != HG_OK)
		snprintf(err, errlen, "cannot start the journal writer");
	if (st == HG_OK && (st = hg_keycache_new(s->st, &s->keys)) != HG_OK)
		snprintf(err, errlen, "out of memory");
	if (st == HG_OK && (st = hg_ratelimit_new(&s->rl)) != HG_OK)
		snprintf(err, errlen, "out of memory");
	if (st == HG_OK && (st = hg_metrics_new(hg_nroutes, route_names, &s->metrics)) != HG_OK)
		snprintf(err, errlen, "out of memory");
	hg_video_limits vlimits;
	hg_serve_video_limits(cfg, &vlimits);
	if (st == HG_OK && (st = hg_workers_new(cfg->workers, cfg->queue, &s->limits, &vlimits,
						&s->workers)) != HG_OK)
		snprintf(err, errlen, "cannot start the hashing workers");
	if (st == HG_OK && pipe2(s->stop_pipe, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		st = HG_ERR_IO;
	}
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	if (st == HG_OK && parse_listen(cfg->listen, &ss, &sslen) != 0) {
		snprintf(err, errlen, "--listen takes HOST:PORT (an IP address or localhost), not"
			 " '%s'", cfg->listen);
		st = HG_ERR_INVALID_ARG;
	}
	if (st != HG_OK) {
		hg_server_free(s);
		return st;
	}
	raise_fd_limit(cfg->max_connections);
	s->lsock = open_listener(cfg->listen, &ss, sslen, err, errlen);
	if (s->lsock < 0) {
		hg_server_free(s);
		return HG_ERR_IO;
	}
	struct sockaddr_storage bound;
	socklen_t blen = sizeof bound;
	if (getsockname(s->lsock, (struct sockaddr *)&bound, &blen) == 0)
		s->port = ntohs(bound.ss_family == AF_INET6
					? ((struct sockaddr_in6 *)&bound)->sin6_port
					: ((struct sockaddr_in *)&bound)->sin_port);
	s->daemons = calloc((size_t)cfg->http_threads, sizeof *s->daemons);
	if (!s->daemons) {
		snprintf(err, errlen, "out of memory");
		hg_server_free(s);
		return HG_ERR_NOMEM;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_NO_LISTEN_SOCKET |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	for (; s->ndaemons < cfg->http_threads; s->ndaemons++) {
		struct MHD_Daemon *d = MHD_start_daemon(
			flags, 0, NULL, NULL, on_request, s,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->request_timeout,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->max_header,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
			MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
			MHD_OPTION_END);
		if (!d) {
			snprintf(err, errlen, "cannot start the HTTP threads");
			hg_server_free(s);
			return HG_ERR_INTERNAL;
		}
		s->daemons[s->ndaemons] = d;
	}
	if (pipe2(s->accept_stop, O_CLOEXEC) != 0 ||
	    pthread_create(&s->acceptor, NULL, acceptor, s) != 0) {
		snprintf(err, errlen, "cannot start the acceptor");
		hg_server_free(s);
		return HG_ERR_INTERNAL;
	}
	s->acceptor_started = 1;
	if (pthread_create(&s->reaper, NULL, reaper, s) == 0)
		s->reaper_started = 1;
	/* The index loads after the socket is up: /healthz answers at once and
	 * /readyz (and every /v1 call) says 503 until every bank is in memory. */
	if (pthread_create(&s->loader, NULL, loader, s) != 0) {
		snprintf(err, errlen, "cannot start the index loader");
		hg_server_free(s);
		return HG_ERR_INTERNAL;
	}
	s->loader_started = 1;
	*out = s;
	return HG_OK;
}

int hg_server_port(const hg_server *s)
{
	return s->port;
}

void hg_server_stop(hg_server *s)
{
	char c = 1;
	ssize_t n = write(s->stop_pipe[1], &c, 1);
	(void)n;
}

hg_status hg_server_run(hg_server *s)
{
	char c;
	while (read(s->stop_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	/* Drain: no new connections, /readyz says 503, in-flight requests get
	 * up to drain_timeout to finish, then the journal is flushed. */
	atomic_store(&s->draining, 1);
	atomic_store(&s->ready, 0);
	stop_accepting(s);
	double until = hg_mono_s() + (double)s->cfg.drain_timeout;
	while (atomic_load(&s->active) > 0 && hg_mono_s() < until) {
		struct timespec t = {0, 20000000L};
		nanosleep(&t, NULL);
	}
	long left = atomic_load(&s->active);
	/* A request on the hashing pool holds a suspended connection, and MHD
	 * aborts the process if stopped with one: those are waited for past the
	 * timeout (each is bounded by the image and video limits; a video by
	 * max-video-decode-seconds), then given a moment to send their reply. */
	atomic_store(&s->stopping, 1);
	if (atomic_load(&s->deferred) > 0)
		fprintf(stderr, "hashgate serve: waiting for %ld uploads still being hashed\n",
			atomic_load(&s->deferred));
	while (atomic_load(&s->deferred) > 0) {
		struct timespec t = {0, 20000000L};
		nanosleep(&t, NULL);
	}
	for (int i = 0; i < 50 && atomic_load(&s->active) > 0; i++) {
		struct timespec t = {0, 20000000L};
		nanosleep(&t, NULL);
	}
	stop_daemons(s);
	if (s->loader_started) {
		pthread_join(s->loader, NULL);
		s->loader_started = 0;
	}
	hg_status st = hg_journal_flush(s->journal);
	if (atomic_load(&s->load_failed))
		st = HG_ERR_STORE;
	if (left)
		fprintf(stderr, "hashgate serve: %ld requests still running at the drain timeout\n",
			left);
	return st;
}

void hg_server_free(hg_server *s)
{
	if (!s)
		return;
	stop_accepting(s);
	stop_daemons(s);
	free(s->daemons);
	if (s->loader_started)
		pthread_join(s->loader, NULL);
	if (s->reaper_started) {
		atomic_store(&s->reaper_stop, 1);
		pthread_join(s->reaper, NULL);
	}
	hg_workers_free(s->workers);
	hg_journal_free(s->journal);
	hg_banks_free(s->banks);
	hg_keycache_free(s->keys);
	hg_ratelimit_free(s->rl);
	hg_metrics_free(s->metrics);
	hg_svc_store_free(s->st);
	for (int i = 0; i < 2; i++) {
		if (s->stop_pipe[i] >= 0)
			close(s->stop_pipe[i]);
		if (s->accept_stop[i] >= 0)
			close(s->accept_stop[i]);
	}
	pthread_mutex_destroy(&s->conn_lock);
	free(s);
}
