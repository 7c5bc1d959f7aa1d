/*
 * workers.c — the bounded pool that decodes and hashes uploads. Each thread
 * owns one hg_hasher (its scratch grows to the largest image and is reused)
 * and one hg_video_hasher (videos: the same pool, so a flood of videos
 * queues behind the same bound as images),
 * the queue has a fixed capacity: when every worker is busy and the queue is
 * full, a new upload is refused with "busy" instead of piling up in memory.
 */
#include <stdlib.h>

#include "service/service.h"

struct job {
	hg_work_fn fn;
	void *arg;
};

struct hg_workers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *ring;
	long cap, head, count;
	int stop;
	long nthreads;
	pthread_t *threads;
	hg_limits limits;
	hg_video_limits video_limits;
};

static void *run(void *arg)
{
	hg_workers *w = arg;
	struct hg_work_ctx ctx = {NULL, NULL};
	if (hg_hasher_new(&w->limits, &ctx.hasher) != HG_OK)
		ctx.hasher = NULL;
	if (hg_video_hasher_new(&w->video_limits, &ctx.video) != HG_OK)
		ctx.video = NULL;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->count && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->count)
			break;
		struct job j = w->ring[w->head];
		w->head = (w->head + 1) % w->cap;
		w->count--;
		pthread_mutex_unlock(&w->lock);
		/* A NULL hasher tells the job that hashing is impossible. */
		j.fn(j.arg, &ctx);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	hg_hasher_free(ctx.hasher);
	hg_video_hasher_free(ctx.video);
	return NULL;
}

hg_status hg_workers_new(long threads, long queue, const hg_limits *limits,
			 const hg_video_limits *video_limits, hg_workers **out)
{
	*out = NULL;
	if (threads < 1 || queue < 1)
		return HG_ERR_INVALID_ARG;
	hg_workers *w = calloc(1, sizeof *w);
	if (!w)
		return HG_ERR_NOMEM;
	w->ring = calloc((size_t)queue, sizeof *w->ring);
	w->threads = calloc((size_t)threads, sizeof *w->threads);
	if (!w->ring || !w->threads) {
		free(w->ring);
		free(w->threads);
		free(w);
		return HG_ERR_NOMEM;
	}
	w->cap = queue;
	w->limits = *limits;
	w->video_limits = *video_limits;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	for (; w->nthreads < threads; w->nthreads++)
		if (pthread_create(&w->threads[w->nthreads], NULL, run, w) != 0)
			break;
	if (!w->nthreads) {
		hg_workers_free(w);
		return HG_ERR_INTERNAL;
	}
	*out = w;
	return HG_OK;
}

void hg_workers_free(hg_workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (long i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->ring);
	free(w->threads);
	free(w);
}

hg_status hg_workers_submit(hg_workers *w, hg_work_fn fn, void *arg)
{
	hg_status rc = HG_OK;
	pthread_mutex_lock(&w->lock);
	if (w->count == w->cap || w->stop) {
		rc = HG_ERR_RATE_LIMITED;
	} else {
		w->ring[(w->head + w->count) % w->cap] = (struct job){fn, arg};
		w->count++;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

long hg_workers_queued(hg_workers *w)
{
	pthread_mutex_lock(&w->lock);
	long n = w->count;
	pthread_mutex_unlock(&w->lock);
	return n;
}
