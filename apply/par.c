/*
 * par.c — wagons applied over several target connections at once.
 *
 * srdf-bootstrap's row wagons (srdf-bootstrap(1)) each insert one primary
 * key range of one table, and no two touch the same row; they are the
 * bulk of an initial copy.  srdf-apply(1), "Parallel apply", hands such
 * wagons to these workers, each a thread with its own connection, while
 * the main thread loads the next ones.  Every worker runs its wagon's
 * rows at once, but sends the checkpoint UPDATE and COMMIT (db_commit_at)
 * only when the wagon before it has committed: the wagons commit one
 * after the other, in sequence order, and when one fails those after it
 * roll back.  (The UPDATE names the sequence it moves from, as on one
 * connection: a wagon that would commit out of order fails instead.)
 *
 * Jobs are collected in the order they were submitted.  Nothing here
 * decides what a failure means: dispatch.c drains the workers and applies
 * the failed wagon again alone.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "apply.h"
#include "db.h"
#include "engine.h"
#include "par.h"
#include "clock.h"
#include "log.h"
#include "xalloc.h"

struct worker {
	struct par *p;
	pthread_t th;
	struct db db;
	struct buf arena; /* the engine's, between wagons (engine_run) */
	int connected;
	int id;              /* 1.., for messages */
	struct par_job *job; /* the job it runs, or NULL when idle */
	unsigned gen;        /* p->gen its schema cache is of */
};

struct par {
	const struct config *cf;
	char src[33];
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	int quit;
	struct worker *w;
	int n;
	/* Submitted jobs, oldest first: a ring of n. */
	struct par_job **ring;
	size_t head, count;
	struct par_job **queue; /* submitted, not yet taken by a worker */
	size_t qhead, qcount;
	uint64_t last_ok; /* the last wagon committed, in order */
	uint64_t failed;  /* the first wagon that failed, or 0: those
				 * after it roll back */
	uint64_t *execd;  /* [seq % (2n)] = seq once its DDL ran */
	unsigned gen;     /* DDL run so far: schema caches older are
				 * forgotten */
};

/* Whether what j waits for is done (p->mu held). */
static int
deps_met(const struct par *p, const struct par_job *j)
{
	if (p->last_ok < j->wait_commit)
		return 0;
	for (int i = 0; i < j->nwait_exec; i++) {
		uint64_t x = j->wait_exec[i];

		if (p->last_ok < x && p->execd[x % (2 * (size_t)p->n)] != x)
			return 0;
	}
	return 1;
}

/* A lock wait longer than this on a worker's connection fails the wagon,
 * which then goes again alone: two wagons that wait for each other (one
 * for a row lock, the other for its turn to commit) are a deadlock the
 * server cannot see. */
#define WORKER_LOCK_WAIT \
	"SET SESSION innodb_lock_wait_timeout = 10, " \
	"lock_wait_timeout = 10"

/* One wagon on the worker's connection: its rows, then the checkpoint
 * and COMMIT in one round trip.  Sets job->rc and job->err. */
static void
run_job(struct worker *wk, struct par_job *j)
{
	struct par *p = wk->p;
	struct db *d = &wk->db;
	unsigned gen;
	int rc;

	if (!wk->connected) {
		rc = db_connect(d, p->cf, 0);
		if (rc != DB_OK) {
			snprintf(j->err, sizeof j->err, "%s", d->err);
			db_close(d);
			buf_free(&wk->arena);
			j->rc = rc;
			return;
		}
		wk->connected = 1;
		rc = db_exec(d, "session", WORKER_LOCK_WAIT,
		    sizeof WORKER_LOCK_WAIT - 1);
		if (rc != DB_OK)
			goto out;
	}
	/* Its turn to start: once what it depends on is done. */
	pthread_mutex_lock(&p->mu);
	while (!deps_met(p, j) && (p->failed == 0 || p->failed > j->w.seq))
		pthread_cond_wait(&p->done, &p->mu);
	gen = p->gen;
	if (!deps_met(p, j)) {
		pthread_mutex_unlock(&p->mu);
		snprintf(d->err, sizeof d->err,
		    "not run: a wagon before it "
		    "failed");
		rc = DB_FAIL;
		pthread_mutex_lock(&p->mu);
		if (p->failed == 0 || p->failed > j->w.seq)
			p->failed = j->w.seq;
		pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->mu);
		goto out;
	}
	pthread_mutex_unlock(&p->mu);
	if (wk->gen != gen) { /* a DDL ran on another connection */
		db_tables_forget(d);
		wk->gen = gen;
	}
	rc = engine_run(d, &wk->arena, &j->w, NULL, j->mark, j->mark_arg);
	if (rc == DB_OK && j->w.has_ddl) {
		pthread_mutex_lock(&p->mu);
		p->execd[j->w.seq % (2 * (size_t)p->n)] = j->w.seq;
		wk->gen = ++p->gen;
		pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
	if (rc == DB_OK)
		rc = db_flush(d);
	/* Its turn to commit: once the wagon before it has. */
	pthread_mutex_lock(&p->mu);
	while (rc == DB_OK && p->last_ok != j->from &&
	       (p->failed == 0 || p->failed > j->w.seq))
		pthread_cond_wait(&p->done, &p->mu);
	if (rc == DB_OK && p->last_ok != j->from) {
		snprintf(d->err, sizeof d->err,
		    "not committed: a wagon before "
		    "it failed");
		rc = DB_FAIL;
	}
	pthread_mutex_unlock(&p->mu);
	if (rc == DB_OK)
		rc = db_commit_at(d, p->src, j->from, j->w.seq, j->w.last_gtid,
		    j->w.gtid_pos, j->bootstrap_pos, NULL, j->w.last_ts);
	pthread_mutex_lock(&p->mu);
	if (rc == DB_OK)
		p->last_ok = j->w.seq;
	else if (p->failed == 0 || p->failed > j->w.seq)
		p->failed = j->w.seq;
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->mu);
out:
	j->missing = d->missing;
	j->rc = rc;
	if (rc == DB_OK)
		return;
	snprintf(j->err, sizeof j->err, "%s", d->err);
	if (rc == DB_GONE) {
		db_close(d);
		buf_free(&wk->arena);
		wk->connected = 0;
	} else
		db_rollback(d);
}

static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	struct par *p = wk->p;
	struct par_job *j;
	sigset_t all;

	/* Signals are the main thread's (its self-pipe wakes it). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && p->qcount == 0)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->quit)
			break;
		j = p->queue[p->qhead];
		p->qhead = (p->qhead + 1) % (size_t)p->n;
		p->qcount--;
		wk->job = j;
		pthread_mutex_unlock(&p->mu);

		j->t0 = clock_mono_ms();
		run_job(wk, j);
		j->worker = wk->id;

		pthread_mutex_lock(&p->mu);
		wk->job = NULL;
		j->finished = 1;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	db_close(&wk->db);
	buf_free(&wk->arena);
	free(wk->db.q.p);
	free(wk->db.st);
	return NULL;
}

struct par *
par_new(const struct config *cf, int n)
{
	struct par *p;

	p = xcalloc(1, sizeof *p);
	p->w = xcalloc((size_t)n, sizeof *p->w);
	p->ring = xcalloc((size_t)n, sizeof *p->ring);
	p->queue = xcalloc((size_t)n, sizeof *p->queue);
	p->execd = xcalloc(2 * (size_t)n, sizeof *p->execd);
	p->cf = cf;
	p->n = n;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	for (int i = 0; i < n; i++) {
		p->w[i].p = p;
		p->w[i].id = i + 1;
		if (pthread_create(&p->w[i].th, NULL, worker_main, &p->w[i]) !=
		    0)
			die(EX_OSERR, "cannot start apply worker %d", i + 1);
	}
	return p;
}

void
par_free(struct par *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->w[i].th, NULL);
	for (size_t i = 0; i < p->count; i++) {
		struct par_job *j = p->ring[(p->head + i) % (size_t)p->n];

		par_job_free(j);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p->queue);
	free(p->execd);
	free(p->ring);
	free(p->w);
	free(p);
}

size_t
par_inflight(const struct par *p)
{
	return p->count;
}

int
par_full(const struct par *p)
{
	return p->count == (size_t)p->n;
}

/* 1 when the wagons share a table (either touching every table). */
static int
overlap(const struct inwagon *a, const struct inwagon *b)
{
	if (a->tabs_all || b->tabs_all)
		return 1;
	for (size_t i = 0, n; i < a->tabs.len; i += n + 1) {
		n = strlen(a->tabs.p + i);
		if (inwagon_has_table(b, a->tabs.p + i, n))
			return 1;
	}
	return 0;
}

int
par_deps(struct par *p, const struct inwagon *w, struct par_job *j)
{
	int rows = 0;

	j->wait_commit = 0;
	j->nwait_exec = 0;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->count; i++) {
		struct par_job *o = p->ring[(p->head + i) % (size_t)p->n];

		if (o->finished && o->rc == DB_OK)
			continue;
		/* srdf-bootstrap's row wagons never share a row */
		if (o->rows_job && (o->w.h.flags & WAGON_F_BOOTSTRAP) &&
		    (w->h.flags & WAGON_F_BOOTSTRAP) && !w->has_ddl)
			continue;
		if (!overlap(&o->w, w))
			continue;
		if (o->w.tabs_all) {
			rows = -1;
			break;
		}
		if (o->rows_job) {
			rows++;
			if (o->w.seq > j->wait_commit)
				j->wait_commit = o->w.seq;
		} else if (j->nwait_exec < PAR_EXEC_DEPS)
			j->wait_exec[j->nwait_exec++] = o->w.seq;
		else if (o->w.seq > j->wait_commit)
			j->wait_commit = o->w.seq;
	}
	pthread_mutex_unlock(&p->mu);
	return rows;
}

size_t
par_rows_inflight(struct par *p)
{
	size_t n = 0;

	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->count; i++)
		if (p->ring[(p->head + i) % (size_t)p->n]->rows_job)
			n++;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
par_submit(struct par *p, const char *src, struct par_job *j)
{
	pthread_mutex_lock(&p->mu);
	snprintf(p->src, sizeof p->src, "%s", src);
	if (p->count == 0) { /* a new run, from a committed checkpoint */
		p->last_ok = j->from;
		p->failed = 0;
	}
	p->ring[(p->head + p->count) % (size_t)p->n] = j;
	p->count++;
	p->queue[(p->qhead + p->qcount) % (size_t)p->n] = j;
	p->qcount++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

struct par_job *
par_collect(struct par *p, long timeout_ms)
{
	struct par_job *j = NULL;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	while (p->count > 0 && !p->ring[p->head]->finished)
		if (pthread_cond_timedwait(&p->done, &p->mu, &ts) != 0)
			break;
	if (p->count > 0 && p->ring[p->head]->finished) {
		j = p->ring[p->head];
		p->head = (p->head + 1) % (size_t)p->n;
		p->count--;
	}
	pthread_mutex_unlock(&p->mu);
	return j;
}

void
par_job_free(struct par_job *j)
{
	if (j == NULL)
		return;
	inwagon_free(&j->w);
	free(j->bootstrap_pos);
	free(j);
}
