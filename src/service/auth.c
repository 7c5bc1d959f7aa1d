/*
 * auth.c — API keys and roles.
 *
 * A token is "hgk_<key id>_<secret>": the id (public, shown in logs and the
 * audit trail as the actor) finds the record, the SHA-256 of the whole token
 * must equal the stored hash. Only the hash is stored. Plain SHA-256 is
 * enough here because the secret is 128 random bits, not a password: there is
 * nothing to brute-force that a slow KDF would protect.
 *
 * The cache keeps records for a few seconds so a request costs one SHA-256
 * and a table lookup, and a revocation takes effect within KEY_TTL_S. Keys
 * in use are re-read in the background (hg_keycache_refresh, from the
 * server's housekeeping thread) once they are KEY_REFRESH_S old, so a
 * request never waits for the store on a key it already knows: the store
 * connection is shared with the journal writer, whose commits (and fsync)
 * would otherwise stall every request that found its key expired.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/service.h"

#define KEY_TTL_S 5.0
#define KEY_REFRESH_S 2.0
#define REFRESH_MAX 256 /* keys re-read per refresh call */
#define CACHE_MAX 4096
/* Store lookups for keys not in the cache, per second (and burst): a flood
 * of made-up key ids must not turn into a flood of database queries. */
#define MISS_RATE 200.0
#define MISS_BURST 400.0

static const struct {
	const char *role;
	unsigned perms;
} roles[] = {
	{"checker", HG_PERM_CHECK},
	{"curator", HG_PERM_CHECK | HG_PERM_BANK_READ | HG_PERM_BANK_WRITE | HG_PERM_ENTRY_READ},
	{"reviewer", HG_PERM_CHECK | HG_PERM_BANK_READ | HG_PERM_REVIEW | HG_PERM_DECISIONS},
	{"admin", HG_PERM_CHECK | HG_PERM_BANK_READ | HG_PERM_BANK_WRITE | HG_PERM_ENTRY_READ |
			  HG_PERM_REVIEW | HG_PERM_DECISIONS},
};

unsigned hg_role_perms(const char *role)
{
	for (size_t i = 0; role && i < sizeof roles / sizeof roles[0]; i++)
		if (!strcmp(role, roles[i].role))
			return roles[i].perms;
	return 0;
}

hg_status hg_key_create(hg_svc_store *st, const char *tenant, const char *role, double rate,
			double burst, char *key_id, char *token, size_t cap)
{
	if (!hg_valid_name(tenant) || !hg_role_perms(role) || rate < 0 || burst < 0 || cap < 96)
		return HG_ERR_INVALID_ARG;
	struct hg_key_rec k = {.rate = rate, .burst = burst, .created_at = hg_now_ms()};
	char secret[HG_SVC_ID_MAX];
	if (hg_random_id("k", k.id, sizeof k.id) || hg_random_id("", secret, sizeof secret))
		return HG_ERR_INTERNAL;
	k.id[13] = '\0'; /* "k" + 12 hex: short enough to read in a log */
	snprintf(token, cap, "hgk_%s_%s", k.id, secret);
	hg_sha256_hex(token, strlen(token), k.hash);
	snprintf(k.tenant, sizeof k.tenant, "%s", tenant);
	snprintf(k.role, sizeof k.role, "%s", role);
	hg_status rc = hg_svc_key_insert(st, &k);
	OPENSSL_cleanse(secret, sizeof secret);
	if (rc != HG_OK) {
		OPENSSL_cleanse(token, cap);
		return rc;
	}
	snprintf(key_id, HG_SVC_ID_MAX, "%s", k.id);
	return HG_OK;
}

struct entry {
	struct hg_key_rec rec;
	int present;
	double fetched;
	atomic_int used; /* since the last refresh (set under the read lock) */
};

struct hg_keycache {
	hg_svc_store *st;
	pthread_rwlock_t lock;
	struct entry *e;
	size_t n, cap;
	pthread_mutex_t miss_lock;
	double miss_tokens, miss_last;
};

/* Takes a token from the cache-miss bucket; 0 when it is empty. */
static int miss_allowed(hg_keycache *kc)
{
	pthread_mutex_lock(&kc->miss_lock);
	double now = hg_mono_s();
	kc->miss_tokens += (now - kc->miss_last) * MISS_RATE;
	if (kc->miss_tokens > MISS_BURST)
		kc->miss_tokens = MISS_BURST;
	kc->miss_last = now;
	int ok = kc->miss_tokens >= 1;
	if (ok)
		kc->miss_tokens -= 1;
	pthread_mutex_unlock(&kc->miss_lock);
	return ok;
}

hg_status hg_keycache_new(hg_svc_store *st, hg_keycache **out)
{
	hg_keycache *kc = calloc(1, sizeof *kc);
	if (!kc)
		return HG_ERR_NOMEM;
	kc->st = st;
	pthread_rwlock_init(&kc->lock, NULL);
	pthread_mutex_init(&kc->miss_lock, NULL);
	kc->miss_tokens = MISS_BURST;
	kc->miss_last = hg_mono_s();
	*out = kc;
	return HG_OK;
}

void hg_keycache_free(hg_keycache *kc)
{
	if (!kc)
		return;
	pthread_rwlock_destroy(&kc->lock);
	pthread_mutex_destroy(&kc->miss_lock);
	free(kc->e);
	free(kc);
}

static struct entry *find(hg_keycache *kc, const char *id)
{
	for (size_t i = 0; i < kc->n; i++)
		if (!strcmp(kc->e[i].rec.id, id))
			return &kc->e[i];
	return NULL;
}

/* Copies the cached record for id into *out; 1 fresh hit, 0 miss or stale. */
static int lookup(hg_keycache *kc, const char *id, struct entry *out)
{
	int hit = 0;
	pthread_rwlock_rdlock(&kc->lock);
	struct entry *e = find(kc, id);
	if (e && hg_mono_s() - e->fetched < KEY_TTL_S) {
		out->rec = e->rec;
		out->present = e->present;
		out->fetched = e->fetched;
		atomic_store_explicit(&e->used, 1, memory_order_relaxed);
		hit = 1;
	}
	pthread_rwlock_unlock(&kc->lock);
	return hit;
}

static void remember(hg_keycache *kc, const struct entry *in)
{
	pthread_rwlock_wrlock(&kc->lock);
	struct entry *e = find(kc, in->rec.id);
	if (!e) {
		if (kc->n >= CACHE_MAX)
			kc->n = 0; /* a flood of unknown ids: start over, stay bounded */
		if (kc->n == kc->cap) {
			size_t cap = kc->cap ? kc->cap * 2 : 64;
			struct entry *ne = realloc(kc->e, cap * sizeof *ne);
			if (!ne) {
				pthread_rwlock_unlock(&kc->lock);
				return;
			}
			kc->e = ne;
			kc->cap = cap;
		}
		e = &kc->e[kc->n++];
		atomic_init(&e->used, 0);
	}
	e->rec = in->rec;
	e->present = in->present;
	e->fetched = in->fetched;
	pthread_rwlock_unlock(&kc->lock);
}

/* Reads one key from the store into a cache entry; 0, or -1 when the store
 * could not be asked. */
static int fetch(hg_keycache *kc, const char *kid, struct entry *e)
{
	memset(&e->rec, 0, sizeof e->rec);
	hg_status rc = hg_svc_key_get(kc->st, kid, &e->rec);
	if (rc != HG_OK && rc != HG_ERR_NOT_FOUND)
		return -1;
	if (rc == HG_ERR_NOT_FOUND)
		snprintf(e->rec.id, sizeof e->rec.id, "%.*s", (int)sizeof e->rec.id - 1, kid);
	e->present = rc == HG_OK;
	e->fetched = hg_mono_s();
	return 0;
}

void hg_keycache_refresh(hg_keycache *kc)
{
	char ids[REFRESH_MAX][HG_SVC_ID_MAX];
	size_t n = 0;
	double now = hg_mono_s();
	pthread_rwlock_rdlock(&kc->lock);
	for (size_t i = 0; i < kc->n && n < REFRESH_MAX; i++) {
		struct entry *e = &kc->e[i];
		if (e->present && now - e->fetched >= KEY_REFRESH_S &&
		    atomic_exchange_explicit(&e->used, 0, memory_order_relaxed))
			memcpy(ids[n++], e->rec.id, HG_SVC_ID_MAX);
	}
	pthread_rwlock_unlock(&kc->lock);
	for (size_t i = 0; i < n; i++) {
		struct entry e;
		if (fetch(kc, ids[i], &e) == 0)
			remember(kc, &e);
	}
}

hg_status hg_keycache_auth(hg_keycache *kc, const char *token, struct hg_caller *who)
{
	memset(who, 0, sizeof *who);
	/* hgk_<id>_<secret>: the id is "k" + 12 hex digits. */
	if (!token || strncmp(token, "hgk_", 4) != 0 || strlen(token) > 200)
		return HG_ERR_DENIED;
	const char *id = token + 4, *sep = strchr(id, '_');
	if (!sep || sep - id >= HG_SVC_ID_MAX || sep == id)
		return HG_ERR_DENIED;
	char kid[HG_SVC_ID_MAX];
	memcpy(kid, id, (size_t)(sep - id));
	kid[sep - id] = '\0';
	/* Ids are "k" + 12 hex digits (hg_key_create): anything else is not a
	 * key and costs no lookup. */
	if (strlen(kid) != 13 || kid[0] != 'k' || strspn(kid + 1, "0123456789abcdef") != 12)
		return HG_ERR_DENIED;

	struct entry e;
	if (!lookup(kc, kid, &e)) {
		if (!miss_allowed(kc))
			return HG_ERR_RATE_LIMITED;
		if (fetch(kc, kid, &e) != 0)
			return HG_ERR_STORE;
		remember(kc, &e);
	}
	if (!e.present || e.rec.revoked_at)
		return HG_ERR_DENIED;
	char hash[65];
	hg_sha256_hex(token, strlen(token), hash);
	if (strlen(e.rec.hash) != 64 || CRYPTO_memcmp(hash, e.rec.hash, 64) != 0)
		return HG_ERR_DENIED;
	snprintf(who->key_id, sizeof who->key_id, "%s", e.rec.id);
	snprintf(who->tenant, sizeof who->tenant, "%s", e.rec.tenant);
	snprintf(who->role, sizeof who->role, "%s", e.rec.role);
	who->perms = hg_role_perms(e.rec.role);
	who->rate = e.rec.rate;
	who->burst = e.rec.burst;
	return who->perms ? HG_OK : HG_ERR_DENIED;
}
