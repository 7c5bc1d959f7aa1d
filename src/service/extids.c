/*
 * extids.c — index id -> external id, an open-addressing table (linear
 * probing, power-of-two size, at most 3/4 full, backward-shift deletion so no
 * tombstones pile up as entries come and go) under a read-write lock. Reads
 * happen on every check that matched; writes only when a bank changes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "service/extids.h"

struct slot {
	uint64_t id; /* 0 = empty (index ids are never 0: entry ids start at 1) */
	char *ext;
};

struct hg_extids {
	pthread_rwlock_t lock;
	struct slot *s;
	size_t cap, n; /* cap: 0 or a power of two */
};

static size_t home(uint64_t id, size_t cap)
{
	id ^= id >> 33; /* spread slot and entry bits (splitmix64 finaliser) */
	id *= UINT64_C(0xff51afd7ed558ccd);
	id ^= id >> 33;
	return (size_t)id & (cap - 1);
}

hg_status hg_extids_new(hg_extids **out)
{
	*out = calloc(1, sizeof **out);
	if (!*out)
		return HG_ERR_NOMEM;
	pthread_rwlock_init(&(*out)->lock, NULL);
	return HG_OK;
}

void hg_extids_free(hg_extids *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->cap; i++)
		free(x->s[i].ext);
	free(x->s);
	pthread_rwlock_destroy(&x->lock);
	free(x);
}

/* The slot holding id, or the empty slot where it would go. */
static struct slot *probe(struct slot *s, size_t cap, uint64_t id)
{
	size_t i = home(id, cap);
	while (s[i].id && s[i].id != id)
		i = (i + 1) & (cap - 1);
	return &s[i];
}

static int grow(hg_extids *x)
{
	size_t cap = x->cap ? x->cap * 2 : 1024;
	struct slot *s = calloc(cap, sizeof *s);
	if (!s)
		return -1;
	for (size_t i = 0; i < x->cap; i++)
		if (x->s[i].id)
			*probe(s, cap, x->s[i].id) = x->s[i];
	free(x->s);
	x->s = s;
	x->cap = cap;
	return 0;
}

/* Empties slot i and moves later members of its run back so every id stays
 * reachable from its home slot. */
static void erase(hg_extids *x, size_t i)
{
	free(x->s[i].ext);
	x->s[i] = (struct slot){0, NULL};
	x->n--;
	for (size_t j = (i + 1) & (x->cap - 1); x->s[j].id; j = (j + 1) & (x->cap - 1)) {
		size_t h = home(x->s[j].id, x->cap);
		/* j's entry may move to the hole at i when its home is not in (i, j] */
		if (((j - h) & (x->cap - 1)) >= ((j - i) & (x->cap - 1))) {
			x->s[i] = x->s[j];
			x->s[j] = (struct slot){0, NULL};
			i = j;
		}
	}
}

hg_status hg_extids_set(hg_extids *x, uint64_t id, const char *ext)
{
	if (!id)
		return HG_ERR_INVALID_ARG;
	hg_status st = HG_OK;
	pthread_rwlock_wrlock(&x->lock);
	if (!ext || !*ext) {
		if (x->cap) {
			struct slot *p = probe(x->s, x->cap, id);
			if (p->id)
				erase(x, (size_t)(p - x->s));
		}
	} else {
		char *copy = strdup(ext);
		if (!copy || ((x->n + 1) * 4 > x->cap * 3 && grow(x) != 0)) {
			free(copy);
			st = HG_ERR_NOMEM;
		} else {
			struct slot *p = probe(x->s, x->cap, id);
			if (p->id) {
				free(p->ext);
			} else {
				p->id = id;
				x->n++;
			}
			p->ext = copy;
		}
	}
	pthread_rwlock_unlock(&x->lock);
	return st;
}

int hg_extids_get(hg_extids *x, uint64_t id, char *out, size_t cap)
{
	int found = 0;
	if (cap)
		out[0] = '\0';
	pthread_rwlock_rdlock(&x->lock);
	if (x->cap && id) {
		const struct slot *p = probe(x->s, x->cap, id);
		if (p->id && cap) {
			size_t n = strlen(p->ext);
			if (n >= cap)
				n = cap - 1;
			memcpy(out, p->ext, n);
			out[n] = '\0';
			found = 1;
		}
	}
	pthread_rwlock_unlock(&x->lock);
	return found;
}

size_t hg_extids_count(hg_extids *x)
{
	pthread_rwlock_rdlock(&x->lock);
	size_t n = x->n;
	pthread_rwlock_unlock(&x->lock);
	return n;
}
