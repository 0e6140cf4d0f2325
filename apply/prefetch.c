/*
 * prefetch.c — the next wagon read and decrypted by a thread of its own
 * while this one is applied: prefetch(a, seq) asks for it, prefetched()
 * takes it (waiting while it is read), prefetch_stop() ends the thread.
 * The thread only reads the inbox (load_wagon, no ledger, no database).
 */
#include <pthread.h>
#include <string.h>

#include "applier.h"

static void *
prefetch_main(void *arg)
{
	struct applier *a = arg;
	struct inwagon w;
	char err[1024];
	sigset_t all;
	uint64_t seq;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&a->pf.mu);
	for (;;) {
		while (!a->pf.quit && a->pf.want == 0)
			pthread_cond_wait(&a->pf.cv, &a->pf.mu);
		if (a->pf.quit)
			break;
		seq = a->pf.want;
		a->pf.want = 0;
		a->pf.busy = 1;
		pthread_mutex_unlock(&a->pf.mu);
		/* Only a wagon that opens is kept: one that is missing or
		 * bad is read again, and reported, by the main thread. */
		if (load(a, seq, &w, err, sizeof err) != 0)
			inwagon_free(&w);
		pthread_mutex_lock(&a->pf.mu);
		inwagon_free(&a->pf.w);
		a->pf.w = w;
		a->pf.busy = 0;
		pthread_cond_broadcast(&a->pf.cv);
	}
	pthread_mutex_unlock(&a->pf.mu);
	return NULL;
}

/* Asks the reading thread for wagon seq (started on first use). */
void
prefetch(struct applier *a, uint64_t seq)
{
	if (!a->pf.started) {
		json_object_seed(0);
		pthread_mutex_init(&a->pf.mu, NULL);
		pthread_cond_init(&a->pf.cv, NULL);
		if (pthread_create(&a->pf.th, NULL, prefetch_main, a) != 0)
			return; /* then every wagon is read when it is due */
		a->pf.started = 1;
	}
	pthread_mutex_lock(&a->pf.mu);
	/* Read already (a wagon held back for --delay is taken again at
	 * every turn): not read again. */
	if (a->pf.busy || a->pf.w.records == NULL || a->pf.w.seq != seq) {
		a->pf.want = seq;
		pthread_cond_signal(&a->pf.cv);
	}
	pthread_mutex_unlock(&a->pf.mu);
}

/* Wagon seq from the reading thread into w (0), or 1 when it has not
 * got it: it then reads nothing more until asked again. */
int
prefetched(struct applier *a, uint64_t seq, struct inwagon *w)
{
	int rc = 1;

	if (!a->pf.started)
		return 1;
	pthread_mutex_lock(&a->pf.mu);
	if (a->pf.want == seq)
		a->pf.want = 0;
	while (a->pf.busy)
		pthread_cond_wait(&a->pf.cv, &a->pf.mu);
	if (a->pf.w.records != NULL && a->pf.w.seq == seq) {
		*w = a->pf.w;
		memset(&a->pf.w, 0, sizeof a->pf.w);
		rc = 0;
	}
	a->pf.want = 0;
	inwagon_free(&a->pf.w);
	pthread_mutex_unlock(&a->pf.mu);
	return rc;
}

void
prefetch_stop(struct applier *a)
{
	if (!a->pf.started)
		return;
	pthread_mutex_lock(&a->pf.mu);
	a->pf.quit = 1;
	pthread_cond_signal(&a->pf.cv);
	pthread_mutex_unlock(&a->pf.mu);
	pthread_join(a->pf.th, NULL);
	inwagon_free(&a->pf.w);
	a->pf.started = 0;
}
