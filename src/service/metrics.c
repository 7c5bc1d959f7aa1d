/*
 * metrics.c — counters for /metrics in the Prometheus text format: requests
 * by route and status, a latency histogram per route, verdicts, and matches
 * by tenant, bank and action. Request counters are lock-free atomics (they
 * are bumped on every request); the match table takes a lock, but only when
 * something matched.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/service.h"

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				0.05,   0.1,   0.25,   0.5,   1,    2.5, 5, 10};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])
static const int codes[] = {200, 201, 204, 400, 401, 403, 404, 405, 409,
			    413, 415, 429, 431, 500, 503};
#define NCODES (sizeof codes / sizeof codes[0])
static const char *const verdicts[] = {"allow", "review", "block"};

struct route_stats {
	atomic_ulong count[NCODES + 1]; /* last: any other status */
	atomic_ulong bucket[NBOUNDS + 1];
	atomic_ulong sum_us;
	atomic_ulong total;
};

struct match_row {
	char tenant[HG_SVC_TENANT_MAX], bank[64], action[16];
	unsigned long n;
};

struct hg_metrics {
	size_t nroutes;
	const char *const *names;
	struct route_stats *r; /* nroutes + 1: the last is "unmatched" */
	atomic_ulong verdict[3];
	pthread_mutex_t lock;
	struct match_row *m;
	size_t nm, capm;
};

hg_status hg_metrics_new(size_t nroutes, const char *const *route_names, hg_metrics **out)
{
	hg_metrics *m = calloc(1, sizeof *m);
	if (!m || !(m->r = calloc(nroutes + 1, sizeof *m->r))) {
		free(m);
		return HG_ERR_NOMEM;
	}
	m->nroutes = nroutes;
	m->names = route_names;
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return HG_OK;
}

void hg_metrics_free(hg_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->r);
	free(m->m);
	free(m);
}

void hg_metrics_request(hg_metrics *m, size_t route, int status, double seconds)
{
	struct route_stats *r = &m->r[route < m->nroutes ? route : m->nroutes];
	size_t c = 0;
	while (c < NCODES && codes[c] != status)
		c++;
	atomic_fetch_add_explicit(&r->count[c], 1, memory_order_relaxed);
	size_t b = 0;
	while (b < NBOUNDS && seconds > bounds[b])
		b++;
	atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, (unsigned long)(seconds * 1e6), memory_order_relaxed);
	atomic_fetch_add_explicit(&r->total, 1, memory_order_relaxed);
}

void hg_metrics_verdict(hg_metrics *m, const char *verdict)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(verdict, verdicts[i]))
			atomic_fetch_add_explicit(&m->verdict[i], 1, memory_order_relaxed);
}

void hg_metrics_match(hg_metrics *m, const char *tenant, const char *bank, const char *action)
{
	pthread_mutex_lock(&m->lock);
	size_t i = 0;
	for (; i < m->nm; i++)
		if (!strcmp(m->m[i].tenant, tenant) && !strcmp(m->m[i].bank, bank) &&
		    !strcmp(m->m[i].action, action))
			break;
	if (i == m->nm && m->nm < 10000) {
		if (m->nm == m->capm) {
			size_t cap = m->capm ? m->capm * 2 : 16;
			struct match_row *nm = realloc(m->m, cap * sizeof *nm);
			if (!nm) {
				pthread_mutex_unlock(&m->lock);
				return;
			}
			m->m = nm;
			m->capm = cap;
		}
		struct match_row *row = &m->m[m->nm++];
		memset(row, 0, sizeof *row);
		snprintf(row->tenant, sizeof row->tenant, "%s", tenant);
		snprintf(row->bank, sizeof row->bank, "%s", bank);
		snprintf(row->action, sizeof row->action, "%s", action);
	}
	if (i < m->nm)
		m->m[i].n++;
	pthread_mutex_unlock(&m->lock);
}

struct buf {
	char *s;
	size_t n, cap;
	int failed;
};

__attribute__((format(printf, 2, 3))) static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		size_t room = b->cap - b->n;
		va_start(ap, fmt);
		int k = b->s ? vsnprintf(b->s + b->n, room, fmt, ap) : -1;
		va_end(ap);
		if (k >= 0 && (size_t)k < room) {
			b->n += (size_t)k;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 8192;
		if (k >= 0 && cap < b->n + (size_t)k + 1)
			cap = b->n + (size_t)k + 1;
		char *ns = realloc(b->s, cap);
		if (!ns) {
			b->failed = 1;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
}

char *hg_metrics_render(hg_metrics *m, const char *gauges)
{
	struct buf b = {0};
	put(&b, "# HELP hashgate_http_requests_total HTTP requests by route and status.\n"
		"# TYPE hashgate_http_requests_total counter\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		const char *name = i < m->nroutes ? m->names[i] : "unmatched";
		for (size_t c = 0; c <= NCODES; c++) {
			unsigned long v = atomic_load(&m->r[i].count[c]);
			if (!v)
				continue;
			if (c < NCODES)
				put(&b, "hashgate_http_requests_total{route=\"%s\",code=\"%d\"} %lu\n", name,
				    codes[c], v);
			else
				put(&b, "hashgate_http_requests_total{route=\"%s\",code=\"other\"} %lu\n",
				    name, v);
		}
	}
	put(&b, "# HELP hashgate_http_request_duration_seconds Time from request headers to"
		" response, by route.\n# TYPE hashgate_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		const char *name = i < m->nroutes ? m->names[i] : "unmatched";
		unsigned long total = atomic_load(&m->r[i].total), cum = 0;
		if (!total)
			continue;
		for (size_t k = 0; k <= NBOUNDS; k++) {
			cum += atomic_load(&m->r[i].bucket[k]);
			if (k < NBOUNDS)
				put(&b, "hashgate_http_request_duration_seconds_bucket{route=\"%s\","
					"le=\"%g\"} %lu\n", name, bounds[k], cum);
			else
				put(&b, "hashgate_http_request_duration_seconds_bucket{route=\"%s\","
					"le=\"+Inf\"} %lu\n", name, cum);
		}
		put(&b, "hashgate_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
		    (double)atomic_load(&m->r[i].sum_us) / 1e6);
		put(&b, "hashgate_http_request_duration_seconds_count{route=\"%s\"} %lu\n", name,
		    cum);
	}
	put(&b, "# HELP hashgate_decisions_total Check verdicts.\n"
		"# TYPE hashgate_decisions_total counter\n");
	for (int i = 0; i < 3; i++)
		put(&b, "hashgate_decisions_total{verdict=\"%s\"} %lu\n", verdicts[i],
		    atomic_load(&m->verdict[i]));
	put(&b, "# HELP hashgate_matches_total Matched entries by tenant, bank and action.\n"
		"# TYPE hashgate_matches_total counter\n");
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nm; i++)
		put(&b, "hashgate_matches_total{tenant=\"%s\",bank=\"%s\",action=\"%s\"} %lu\n",
		    m->m[i].tenant, m->m[i].bank, m->m[i].action, m->m[i].n);
	pthread_mutex_unlock(&m->lock);
	if (gauges)
		put(&b, "%s", gauges);
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
