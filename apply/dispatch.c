/*
 * dispatch.c — --parallel (srdf-apply(1), "Parallel apply"): which
 * wagons go to the worker connections of par.c (sched), handing them
 * over (dispatch) and taking the finished ones back in sequence order
 * (par_take), their outcome recorded as the main connection's are.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "applier.h"
#include "heartbeat.h"
#include "log.h"
#include "xalloc.h"

/* Whether w lies within srdf-bootstrap's window (applied idempotently,
 * so alone). */
static int
in_window(const struct applier *a, const struct inwagon *w)
{
	return !(w->h.flags & WAGON_F_BOOTSTRAP) &&
	       (gtid_within(w->h.first_gtid, a->cp.bootstrap_pos) ||
	           (a->par.p != NULL && par_inflight(a->par.p) > 0 &&
	               a->par.bpos != NULL &&
	               gtid_within(w->h.first_gtid, a->par.bpos)));
}

/* srdf-apply(1), "Parallel apply": where wagon w goes (enum sched).
 * srdf-bootstrap's row wagons always go to workers; other wagons of rows
 * and DDL wagons when the tables they touch are known, whole groups,
 * outside the bootstrap window, while no wagon is failing; a wagon of
 * rows never beside one in flight that touches one of its tables. */
static enum sched
sched(struct applier *a, const struct inwagon *w)
{
	struct par_job dummy;
	int boot_rows, inflight, rows;

	if (a->cf->parallel < 2 || a->cf->dry_run || a->par.broken ||
	    a->og.open || a->fail.seq != 0 || w->seq <= a->par.off_until ||
	    w->chunk != 1 || !w->last || !until_free(a, w))
		return SCHED_ALONE;
	boot_rows = (w->h.flags & WAGON_F_BOOTSTRAP) && !w->has_ddl;
	inflight = a->par.p != NULL && par_inflight(a->par.p) > 0;
	if (!boot_rows &&
	    (w->tabs_all || in_window(a, w) ||
	        (w->snapshot != NULL && !(w->h.flags & WAGON_F_BOOTSTRAP))))
		return SCHED_ALONE;
	if (!inflight)
		return boot_rows || w->has_ddl
		           ? (boot_rows ? SCHED_NOW : SCHED_ALONE)
		           : SCHED_IF_DDL_NEXT;
	if ((rows = par_deps(a->par.p, w, &dummy)) < 0)
		return SCHED_ALONE;
	if (!w->has_ddl && rows > 0 && !boot_rows)
		return SCHED_ALONE;
	if (par_full(a->par.p) || (!w->has_ddl && par_rows_inflight(a->par.p) >=
	                                              (size_t)a->cf->parallel))
		return SCHED_LATER;
	return SCHED_NOW;
}

/* A wagon of rows with no job in flight goes to a worker when the next
 * wagon is a DDL wagon already in the inbox: what follows that DDL may
 * then run beside it (a table loaded, its index built, the next table
 * created and loaded).  The next wagon is kept in a->par.held. */
static enum sched
lone_parallel(struct applier *a, const struct inwagon *w)
{
	char err[1024];
	struct inwagon x;
	int rc;

	if (a->par.held.records == NULL || a->par.held.seq != w->seq + 1) {
		inwagon_free(&a->par.held);
		if ((rc = prefetched(a, w->seq + 1, &x)) != 0)
			rc = load(a, w->seq + 1, &x, err, sizeof err);
		if (rc != 0) {
			inwagon_free(&x);
			return SCHED_ALONE;
		}
		a->par.held = x;
	}
	return a->par.held.has_ddl && !a->par.held.tabs_all ? SCHED_NOW
	                                                    : SCHED_ALONE;
}

/* Takes the oldest finished job, waiting for it (the heartbeat and the
 * ACKs go on meanwhile).  A failed one breaks the run: the rest are
 * drained without being counted, and once none is left the checkpoint
 * is read again (start_source), since it is the truth of what committed;
 * the failed wagon then goes alone, with the usual retries. */
static int
par_take(struct applier *a)
{
	struct par_job *j;
	int rc = S_PROGRESS;

	while ((j = par_collect(a->par.p, HEARTBEAT_INTERVAL_MS)) == NULL) {
		if (par_inflight(a->par.p) == 0)
			return S_PROGRESS;
		heartbeat_beat(
		    a->cp.seq, a->cp.last_gtid[0] ? a->cp.last_gtid : NULL);
		acks_pump(a->acks);
	}
	if (j->rc == DB_OK && j->w.has_ddl) /* a DDL ran on a worker */
		db_tables_forget(&a->db);
	if (j->rc == DB_OK && !a->par.broken) {
		if (j->bootstrap_pos != NULL) {
			free(a->cp.bootstrap_pos);
			a->cp.bootstrap_pos = j->bootstrap_pos;
			j->bootstrap_pos = NULL;
		}
		rc = committed(
		    a, j->w.seq, j->w.seq, &j->w, j->missing, j->t0, j->worker);
	} else if (!a->par.broken) {
		log_notice("wagon %" PRIu64
		           " failed on parallel connection %d: "
		           "%s; it is applied again alone",
		    j->w.seq, j->worker, j->err);
		if (j->w.has_ddl && j->rc != DB_GONE)
			ddl_forget_inflight(a, j->w.seq);
		a->par.broken = 1;
		a->par.off_until = a->par.seq;
	}
	par_job_free(j);
	if (a->par.broken && par_inflight(a->par.p) == 0) {
		a->par.broken = 0;
		a->ready = 0;
		if (rc != S_FATAL)
			rc = flush_applied(a);
	}
	return rc;
}

int
par_drain(struct applier *a)
{
	int rc = S_PROGRESS;

	while (a->par.p != NULL && par_inflight(a->par.p) > 0)
		if (par_take(a) == S_FATAL)
			rc = S_FATAL;
	return rc;
}

/* Hands wagon w (its buffers too) to a worker; one is free. */
int
dispatch(struct applier *a, struct inwagon *w)
{
	struct par_job *j = xcalloc(1, sizeof *j);

	/* The workers start with the first such wagon and stop with the
	 * first wagon that goes alone: a daemon that applies what capture
	 * reads runs no thread of them. */
	if (a->par.p == NULL) /* and two for DDL wagons waiting their turn */
		a->par.p = par_new(a->cf, a->cf->parallel + 2);
	if (par_inflight(a->par.p) == 0) {
		a->par.seq = a->cp.seq;
		free(a->par.bpos);
		a->par.bpos = a->cp.bootstrap_pos != NULL
		                  ? xstrdup(a->cp.bootstrap_pos)
		                  : NULL;
	}
	par_deps(a->par.p, w, j);
	j->rows_job = !w->has_ddl;
	if (w->has_ddl) {
		j->mark = ddl_mark;
		j->mark_arg = a;
		ddl_progress(a, w);
	}
	j->w = *w;
	j->from = a->par.seq;
	if (w->snapshot != NULL) {
		j->bootstrap_pos = gtid_merge(a->par.bpos, w->snapshot);
		free(a->par.bpos);
		a->par.bpos =
		    j->bootstrap_pos != NULL ? xstrdup(j->bootstrap_pos) : NULL;
	}
	a->par.seq = w->seq;
	a->next = w->seq + 1;
	par_submit(a->par.p, a->src, j);
	return S_PROGRESS;
}

/* Wagon w (taken: rc of take()) while jobs are in flight on the workers:
 * one that goes alone waits for all those before it; one that goes in
 * parallel, for a free worker. */
int
beside_workers(struct applier *a, struct inwagon *w, int rc)
{
	enum sched k = rc == 0 ? sched(a, w) : SCHED_ALONE;

	if (k == SCHED_NOW)
		return dispatch(a, w);
	if (rc == 0)
		a->par.held = *w;
	else
		inwagon_free(w);
	return k == SCHED_LATER ? par_take(a) : par_drain(a);
}

/* Nothing in flight: whether w goes to a worker. */
int
to_worker(struct applier *a, const struct inwagon *w)
{
	enum sched k = sched(a, w);

	if (k == SCHED_IF_DDL_NEXT)
		k = lone_parallel(a, w);
	return k == SCHED_NOW;
}
