/*
 * ratelimit.c — a token bucket per API key. Buckets live in an open-hashed
 * table keyed by key id, one lock per shard so two keys rarely contend; the
 * number of buckets is bounded by the number of keys that authenticated.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "service/service.h"

#define SHARDS 16

struct bucket {
	char id[HG_SVC_ID_MAX];
	double tokens, last;
	struct bucket *next;
};

struct shard {
	pthread_mutex_t lock;
	struct bucket *head;
};

struct hg_ratelimit {
	struct shard shard[SHARDS];
};

hg_status hg_ratelimit_new(hg_ratelimit **out)
{
	hg_ratelimit *rl = calloc(1, sizeof *rl);
	if (!rl)
		return HG_ERR_NOMEM;
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_init(&rl->shard[i].lock, NULL);
	*out = rl;
	return HG_OK;
}

void hg_ratelimit_free(hg_ratelimit *rl)
{
	if (!rl)
		return;
	for (int i = 0; i < SHARDS; i++) {
		for (struct bucket *b = rl->shard[i].head, *n; b; b = n) {
			n = b->next;
			free(b);
		}
		pthread_mutex_destroy(&rl->shard[i].lock);
	}
	free(rl);
}

static unsigned hash_id(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int hg_ratelimit_take(hg_ratelimit *rl, const char *key_id, double rate, double burst,
		      int *retry_after)
{
	if (rate <= 0)
		return 1; /* unlimited */
	if (burst < 1)
		burst = 1;
	struct shard *sh = &rl->shard[hash_id(key_id) % SHARDS];
	double now = hg_mono_s();
	int ok = 1;
	pthread_mutex_lock(&sh->lock);
	struct bucket *b = sh->head;
	while (b && strcmp(b->id, key_id) != 0)
		b = b->next;
	if (!b && (b = calloc(1, sizeof *b)) != NULL) {
		strncpy(b->id, key_id, sizeof b->id - 1);
		b->tokens = burst;
		b->last = now;
		b->next = sh->head;
		sh->head = b;
	}
	if (b) {
		b->tokens = fmin(burst, b->tokens + (now - b->last) * rate);
		b->last = now;
		if (b->tokens >= 1) {
			b->tokens -= 1;
		} else {
			ok = 0;
			*retry_after = (int)ceil((1 - b->tokens) / rate);
			if (*retry_after < 1)
				*retry_after = 1;
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return ok;
}
