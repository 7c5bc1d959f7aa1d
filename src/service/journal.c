/*
 * journal.c — the audit trail: a writer thread commits decisions, review
 * items and audit records to the store in batches, and the hash chain that
 * makes any edited or deleted record detectable.
 *
 * Why a writer thread: a check must answer in about a millisecond, and one
 * transaction per request would cap the gate at the store's commit rate.
 * Requests queue their record (bounded: a full queue blocks the request
 * rather than growing memory or dropping a record) and the writer commits up
 * to BATCH_MAX at a time, at least every flush_ms. A change that others
 * act on at once (bank edits, review items, review decisions) waits for its
 * commit (`sync`). A crash can lose at most the last flush_ms of decision
 * records, never a bank change.
 *
 * The chain: record n's hash = SHA-256("hashgate-audit-v1" || prev_hash ||
 * seq || ts || actor || tenant || action || object || detail), each field
 * written as "<decimal length>:<bytes>\n" so no two records serialise alike.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/service.h"

#define QUEUE_MAX 65536
#define BATCH_MAX 2048

static void field(EVP_MD_CTX *c, const char *s, size_t n)
{
	char len[24];
	int k = snprintf(len, sizeof len, "%zu:", n);
	EVP_DigestUpdate(c, len, (size_t)k);
	EVP_DigestUpdate(c, s, n);
	EVP_DigestUpdate(c, "\n", 1);
}

static void field_str(EVP_MD_CTX *c, const char *s)
{
	field(c, s ? s : "", s ? strlen(s) : 0);
}

static void field_num(EVP_MD_CTX *c, int64_t v)
{
	char b[24];
	int k = snprintf(b, sizeof b, "%lld", (long long)v);
	field(c, b, (size_t)k);
}

void hg_audit_chain(struct hg_audit_rec *rec, const char *prev_hash)
{
	unsigned char md[32];
	unsigned int n = 0;
	snprintf(rec->prev_hash, sizeof rec->prev_hash, "%s", prev_hash ? prev_hash : "");
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c) {
		rec->hash[0] = '\0'; /* an empty hash never verifies: loud, not silent */
		return;
	}
	EVP_DigestInit_ex(c, hg_sha256_md(), NULL);
	field_str(c, "hashgate-audit-v1");
	field_str(c, rec->prev_hash);
	field_num(c, rec->seq);
	field_num(c, rec->ts);
	field_str(c, rec->actor);
	field_str(c, rec->tenant);
	field_str(c, rec->action);
	field_str(c, rec->object);
	field_str(c, rec->detail);
	EVP_DigestFinal_ex(c, md, &n);
	EVP_MD_CTX_free(c);
	hg_hex_encode(md, 32, rec->hash);
}

struct verify {
	int64_t expect, count, bad;
	char prev[HG_SVC_HASH_HEX];
	char why[256];
};

static int verify_rec(void *ctx, const struct hg_audit_rec *r)
{
	struct verify *v = ctx;
	v->count++;
	if (r->seq != v->expect) {
		v->bad = v->expect;
		if (r->seq > v->expect)
			snprintf(v->why, sizeof v->why, "record %lld is missing (the next one is %lld)",
				 (long long)v->expect, (long long)r->seq);
		else
			snprintf(v->why, sizeof v->why, "record %lld is out of order", (long long)r->seq);
		return 1;
	}
	struct hg_audit_rec copy = *r;
	hg_audit_chain(&copy, r->prev_hash);
	if (strcmp(r->prev_hash, v->prev) != 0) {
		v->bad = r->seq;
		snprintf(v->why, sizeof v->why,
			 "record %lld does not follow record %lld (prev_hash differs)",
			 (long long)r->seq, (long long)r->seq - 1);
		return 1;
	}
	if (strcmp(copy.hash, r->hash) != 0) {
		v->bad = r->seq;
		snprintf(v->why, sizeof v->why, "record %lld was modified (its hash does not match"
			 " its contents)", (long long)r->seq);
		return 1;
	}
	snprintf(v->prev, sizeof v->prev, "%s", r->hash);
	v->expect++;
	return 0;
}

int hg_audit_verify(hg_svc_store *st, int64_t *records, int64_t *bad_seq, char *why,
		    size_t whylen)
{
	struct hg_audit_head h;
	*records = 0;
	*bad_seq = 0;
	why[0] = '\0';
	if (hg_svc_audit_head(st, &h) != HG_OK)
		return -1;
	struct verify v = {.expect = h.first_seq ? h.first_seq : 1};
	snprintf(v.prev, sizeof v.prev, "%s", h.anchor);
	if (hg_svc_audit_scan(st, verify_rec, &v) != HG_OK)
		return -1;
	*records = v.count;
	if (!v.bad) {
		int64_t last = v.expect - 1;
		if (last < h.last_seq) {
			v.bad = last + 1;
			snprintf(v.why, sizeof v.why, "record %lld is missing (the log ends at %lld,"
				 " the head says %lld)", (long long)(last + 1), (long long)last,
				 (long long)h.last_seq);
		} else if (h.last_seq && strcmp(v.prev, h.last_hash) != 0) {
			v.bad = h.last_seq;
			snprintf(v.why, sizeof v.why, "record %lld does not match the head hash",
				 (long long)h.last_seq);
		} else if (last > h.last_seq) {
			v.bad = h.last_seq + 1;
			snprintf(v.why, sizeof v.why, "record %lld is past the head (%lld)",
				 (long long)(h.last_seq + 1), (long long)h.last_seq);
		}
	}
	if (!v.bad)
		return 0;
	*bad_seq = v.bad;
	snprintf(why, whylen, "%s", v.why);
	return 1;
}

/* ---- the writer ---------------------------------------------------------- */

struct item {
	struct item *next;
	uint64_t ticket;
	int64_t ts;
	struct hg_decision_rec d;
	int has_decision;
	char *review_id, *review_vpdq;
	char *actor, *tenant, *action, *object, *detail;
	char text[]; /* every string above, in one allocation with the item */
};

struct hg_journal {
	hg_svc_store *st;
	long flush_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, done, room;
	struct item *head, *tail;
	long queued, failures;
	uint64_t next_ticket, committed;
	int stop, flush_now, stop_retries;
	hg_status last_error;
};

static void item_free(struct item *it)
{
	free(it);
}

/* Copies the strings of one item next to it: one malloc and one free per
 * record instead of sixteen (the request threads make them, the writer
 * frees them, so fewer and equal-sized blocks also fragment less). */
struct packer {
	char *p;
	size_t need;
};

static const char *pack(struct packer *k, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	if (!k->p) {
		k->need += n;
		return NULL;
	}
	char *out = memcpy(k->p, s, n);
	k->p += n;
	return out;
}

/* Two passes over the same calls: the first sizes, the second copies. */
static void pack_item(struct item *it, struct packer *k, const struct hg_journal_item *in)
{
	if (in->decision.id) {
		it->d.id = pack(k, in->decision.id);
		it->d.tenant = pack(k, in->decision.tenant);
		it->d.key_id = pack(k, in->decision.key_id);
		it->d.verdict = pack(k, in->decision.verdict);
		it->d.pdq = pack(k, in->decision.pdq);
		it->d.md5 = pack(k, in->decision.md5);
		it->d.sha1 = pack(k, in->decision.sha1);
		it->d.sha256 = pack(k, in->decision.sha256);
		it->d.matches = pack(k, in->decision.matches ? in->decision.matches : "[]");
	}
	it->review_id = (char *)pack(k, in->review_id);
	it->review_vpdq = (char *)pack(k, in->review_vpdq);
	it->actor = (char *)pack(k, in->actor ? in->actor : "");
	it->tenant = (char *)pack(k, in->tenant ? in->tenant : "");
	it->action = (char *)pack(k, in->action ? in->action : "");
	it->object = (char *)pack(k, in->object ? in->object : "");
	it->detail = (char *)pack(k, in->detail ? in->detail : "{}");
}

/* Commits `list` (n items) in one transaction. */
static hg_status commit(hg_journal *j, struct item *list, size_t n)
{
	struct hg_decision_rec *dec = calloc(n, sizeof *dec);
	struct hg_review_rec *rev = calloc(n, sizeof *rev);
	struct hg_audit_rec *aud = calloc(n, sizeof *aud);
	hg_status rc = HG_ERR_NOMEM;
	if (dec && rev && aud) {
		struct hg_journal_batch b = {dec, 0, rev, 0, aud, 0};
		for (struct item *it = list; it; it = it->next) {
			if (it->has_decision)
				dec[b.ndecisions++] = it->d;
			if (it->review_id)
				rev[b.nreviews++] = (struct hg_review_rec){
					.id = it->review_id, .decision_id = it->d.id,
					.tenant = it->tenant, .created_at = it->d.ts,
					.pdq = it->d.pdq, .matches = it->d.matches,
					.vpdq = it->review_vpdq};
			aud[b.naudit++] = (struct hg_audit_rec){
				.ts = it->ts, .actor = it->actor,
				.tenant = it->tenant, .action = it->action, .object = it->object,
				.detail = it->detail};
		}
		rc = hg_svc_journal_commit(j->st, &b, hg_audit_chain);
	}
	free(dec);
	free(rev);
	free(aud);
	return rc;
}

static void *writer(void *arg)
{
	hg_journal *j = arg;
	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (!j->head && !j->stop) {
			pthread_cond_wait(&j->wake, &j->lock);
		}
		if (!j->head && j->stop)
			break;
		/* Let a batch gather unless someone waits or we are stopping. */
		if (!j->flush_now && !j->stop && j->queued < BATCH_MAX) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += j->flush_ms * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&j->wake, &j->lock, &until);
		}
		j->flush_now = 0;
		/* Detach the batch while holding the lock: producers append to
		 * the tail meanwhile, which must never be the batch's last item. */
		struct item *list = j->head, *last = list;
		size_t n = 1;
		while (last->next && n < BATCH_MAX) {
			last = last->next;
			n++;
		}
		j->head = last->next;
		if (!j->head)
			j->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&j->lock);
		hg_status rc = commit(j, list, n);
		pthread_mutex_lock(&j->lock);
		if (rc != HG_OK && j->stop && ++j->stop_retries > 25) {
			/* Stopping and the store has been failing for 5 s: say
			 * exactly what is lost rather than hang the shutdown. */
			fprintf(stderr, "hashgate serve: journal: store unavailable at shutdown; %zu"
				" records (tickets %llu..%llu) NOT written: %s\n", n,
				(unsigned long long)list->ticket, (unsigned long long)last->ticket,
				hg_svc_store_errmsg(j->st));
			rc = HG_OK;
		}
		if (rc != HG_OK) {
			/* Put the batch back in front and retry: an audit trail with
			 * holes is worse than a gate that slows down. */
			last->next = j->head;
			j->head = list;
			if (!j->tail)
				j->tail = last;
			j->failures++;
			j->last_error = rc;
			fprintf(stderr, "hashgate serve: journal commit failed: %s\n",
				hg_svc_store_errmsg(j->st));
			pthread_mutex_unlock(&j->lock);
			struct timespec pause = {0, 200000000L};
			nanosleep(&pause, NULL);
			pthread_mutex_lock(&j->lock);
			continue;
		}
		j->committed = last->ticket;
		j->queued -= (long)n;
		pthread_cond_broadcast(&j->done);
		pthread_cond_broadcast(&j->room);
		pthread_mutex_unlock(&j->lock);
		for (struct item *it = list, *nx; it; it = nx) {
			nx = it->next;
			item_free(it);
		}
		pthread_mutex_lock(&j->lock);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

hg_status hg_journal_new(hg_svc_store *st, long flush_ms, hg_journal **out)
{
	*out = NULL;
	hg_journal *j = calloc(1, sizeof *j);
	if (!j)
		return HG_ERR_NOMEM;
	j->st = st;
	j->flush_ms = flush_ms > 0 ? flush_ms : 1;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->wake, NULL);
	pthread_cond_init(&j->done, NULL);
	pthread_cond_init(&j->room, NULL);
	if (pthread_create(&j->thread, NULL, writer, j) != 0) {
		free(j);
		return HG_ERR_INTERNAL;
	}
	*out = j;
	return HG_OK;
}

void hg_journal_free(hg_journal *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	j->stop = 1;
	pthread_cond_broadcast(&j->wake);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->thread, NULL);
	for (struct item *it = j->head, *nx; it; it = nx) {
		nx = it->next;
		item_free(it);
	}
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->wake);
	pthread_cond_destroy(&j->done);
	pthread_cond_destroy(&j->room);
	free(j);
}

/* Waits until `ticket` is committed, at most 10 s. */
static hg_status wait_for(hg_journal *j, uint64_t ticket)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	hg_status rc = HG_OK;
	j->flush_now = 1;
	pthread_cond_broadcast(&j->wake);
	while (j->committed < ticket) {
		if (pthread_cond_timedwait(&j->done, &j->lock, &until) != 0 &&
		    j->committed < ticket) {
			rc = j->last_error ? j->last_error : HG_ERR_TIMEOUT;
			break;
		}
	}
	return rc;
}

hg_status hg_journal_add(hg_journal *j, const struct hg_journal_item *in, int sync)
{
	struct item sizing = {0};
	struct packer k = {NULL, 0};
	pack_item(&sizing, &k, in);
	struct item *it = malloc(sizeof *it + k.need);
	if (!it)
		return HG_ERR_NOMEM;
	memset(it, 0, sizeof *it);
	k.p = it->text;
	if (in->decision.id) {
		it->has_decision = 1;
		it->d = in->decision;
	}
	pack_item(it, &k, in);
	it->ts = in->decision.id ? in->decision.ts : hg_now_ms();
	pthread_mutex_lock(&j->lock);
	while (j->queued >= QUEUE_MAX && !j->stop)
		pthread_cond_wait(&j->room, &j->lock);
	it->ticket = ++j->next_ticket;
	if (j->tail)
		j->tail->next = it;
	else
		j->head = it;
	j->tail = it;
	j->queued++;
	hg_status rc = HG_OK;
	if (sync)
		rc = wait_for(j, it->ticket);
	else if (j->queued == 1 || j->queued >= BATCH_MAX)
		pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->lock);
	return rc;
}

hg_status hg_journal_flush(hg_journal *j)
{
	pthread_mutex_lock(&j->lock);
	hg_status rc = wait_for(j, j->next_ticket);
	pthread_mutex_unlock(&j->lock);
	return rc;
}

void hg_journal_stats(hg_journal *j, long *queued, long *failures)
{
	pthread_mutex_lock(&j->lock);
	*queued = j->queued;
	*failures = j->failures;
	pthread_mutex_unlock(&j->lock);
}
