/*
 * step.c — one turn of srdf-apply's loop (step): the next wagon taken,
 * sent where it goes (a worker, a backlog merged, alone), applied in the
 * transaction of its group and committed with the checkpoint when it is
 * the group's last chunk, or its failure counted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applier.h"
#include "clock.h"
#include "log.h"
#include "xalloc.h"

/* The next wagon into *w: the one held back, the one read ahead, or
 * from the inbox; the one after it is then read ahead.  0, 1 when it is
 * not there yet, -1 with err when it cannot be read (load()). */
static int
take(struct applier *a, uint64_t seq, struct inwagon *w, char *err,
    size_t errlen)
{
	int rc;

	if (a->par.held.records != NULL && a->par.held.seq == seq) {
		*w = a->par.held;
		memset(&a->par.held, 0, sizeof a->par.held);
		rc = 0;
	} else {
		inwagon_free(&a->par.held);
		if ((rc = prefetched(a, seq, w)) != 0)
			rc = load(a, seq, w, err, errlen);
	}
	/* The next one is read while this one is applied. */
	if (rc == 0)
		prefetch(a, seq + 1);
	return rc;
}

long long
delay_left_ms(const struct applier *a, const struct inwagon *w)
{
	long long now, due;

	if (a->cf->delay_ms <= 0 || w->last_ts == 0 ||
	    (w->h.flags & WAGON_F_BOOTSTRAP))
		return 0;
	/* Binlog times are whole seconds: the commit came at last_ts or
	 * up to a second later, so it is surely that old one second on. */
	now = (long long)(clock_wall() * 1000.0);
	due = ((long long)w->last_ts + 1) * 1000 + a->cf->delay_ms;
	return now >= due ? 0 : due - now;
}

/* --delay: w, taken, waits when its last source commit is not yet
 * cf->delay_ms old.  It is then held (a->par.held, taken again at the
 * next turn) once the workers' jobs before it are done, a->delay_due
 * says when, and S_DELAY is returned (S_FATAL from par_drain); else 0. */
static int
delayed(struct applier *a, struct inwagon *w)
{
	long long left = delay_left_ms(a, w);
	int rc = S_DELAY;

	if (left == 0)
		return 0;
	if (a->par.p != NULL && par_inflight(a->par.p) > 0 &&
	    par_drain(a) == S_FATAL)
		rc = S_FATAL;
	if (a->delay_said != w->seq) {
		log_info("wagon %" PRIu64 " (GTID %s, last source commit "
		         "%" PRIu64 " s ago) waits %lld s more for --delay "
		         "%lld s",
		    w->seq, w->h.last_gtid,
		    (uint64_t)clock_wall() > w->last_ts
		        ? (uint64_t)clock_wall() - w->last_ts
		        : 0,
		    (left + 999) / 1000, a->cf->delay_ms / 1000);
		a->delay_said = w->seq;
	}
	inwagon_free(&a->par.held);
	a->par.held = *w;
	memset(w, 0, sizeof *w);
	a->delay_due = clock_mono_ms() + left;
	return rc;
}

/* Chunks: a group's transaction stays open until its last one.  Sets
 * *first, the group's first wagon, and returns 0; -1 with err when w is
 * not the chunk that may come now (the open transaction rolled back). */
static int
chunk_begin(struct applier *a, struct inwagon *w, uint64_t *first, char *err,
    size_t errlen)
{
	if (w->chunk == 1) {
		if (a->og.open) {
			log_warn("group %" PRIu64
			         " was abandoned upstream after "
			         "chunk %" PRIu32 " (wagons %" PRIu64
			         "..%" PRIu64 "): "
			         "rolled back; its changes come again in later "
			         "wagons",
			    a->og.group, a->og.chunk, a->og.first, w->seq - 1);
			db_rollback(&a->db);
			a->og.open = 0;
		}
		*first = w->seq;
	} else if (!a->og.open || a->og.group != w->group ||
	           w->chunk != a->og.chunk + 1) {
		if (a->og.open) {
			snprintf(err, errlen,
			    "chunk %" PRIu32 " of group "
			    "%" PRIu64 " while chunk %" PRIu32
			    " of group %" PRIu64 " is open",
			    w->chunk, w->group, a->og.chunk, a->og.group);
			db_rollback(&a->db);
			a->og.open = 0;
			a->next = a->cp.seq + 1;
		} else
			snprintf(err, errlen,
			    "chunk %" PRIu32 " of group "
			    "%" PRIu64 " without the chunks before it (was one "
			    "skipped? skip the rest of the group too)",
			    w->chunk, w->group);
		return -1;
	} else
		*first = a->og.first;
	/* The chunks between the first and the last of an XA PREPARE
	 * group carry no XA record of their own. */
	if (w->chunk > 1 && a->og.xid != NULL && w->xa == XA_NONE) {
		w->xa = XA_PREPARED;
		w->xid = xstrdup(a->og.xid);
	}
	return 0;
}

/* Applies w on the main connection in the open transaction, and commits
 * it with the checkpoint when it is its group's last chunk.  A DB_* code,
 * with a->db.err. */
static int
apply_one(struct applier *a, struct inwagon *w, uint64_t first)
{
	char *newpos = NULL, *newrecopied = NULL;
	struct recopy_list recopied = {0};
	const struct recopy_list *skip;
	int rc;

	if (a->cf->dry_run)
		printf("-- wagon %" PRIu64 ": group %" PRIu64 " chunk %" PRIu32
		       "%s, GTID %s..%s\n",
		    w->seq, w->group, w->chunk, w->last ? " (last)" : "",
		    w->h.first_gtid, w->h.last_gtid);
	ddl_progress(a, w);
	/* srdf-bootstrap(1), "What srdf-apply does with it": changes the
	 * copy may already hold are applied idempotently. */
	w->idem = !(w->h.flags & WAGON_F_BOOTSTRAP) &&
	          gtid_within(w->h.first_gtid, a->cp.bootstrap_pos);
	/* (A DDL wagon has no rows to be idempotent about: not said.) */
	if (w->idem && w->chunk == 1 && !w->has_ddl)
		log_info("wagon %" PRIu64 " (GTID %s) is within the window of "
		         "srdf-bootstrap's copy (%s): applied idempotently",
		    w->seq, w->h.first_gtid, a->cp.bootstrap_pos);
	if (w->snapshot != NULL)
		newpos = gtid_merge(a->cp.bootstrap_pos, w->snapshot);
	/* Tables copied again (recopy.c): this wagon's copy adds one; those
	 * it begins beyond are done with.  Only a wagon within one's
	 * position has changes to skip (the others: not a look per row). */
	recopy_copy(&recopied, &a->cp.recopied);
	if (recopy_prune(&recopied, w) > 0 || w->recopy_db != NULL) {
		if (w->recopy_db !=
		    NULL) /* with a snapshot_gtid: engine_peek */
			recopy_add(&recopied, w->recopy_db, w->recopy_table,
			    w->snapshot);
		newrecopied = recopy_format(&recopied);
	}
	skip = recopy_due(&a->cp.recopied, w) ? &a->cp.recopied : NULL;
	if (w->xa != XA_NONE)
		rc = apply_xa(a, w, first, skip);
	else
		rc = engine_run(&a->db, &a->arena, w, skip, ddl_mark, a);
	if (rc == DB_OK && w->last) {
		rc = db_commit_part(&a->db, a->src, a->cp.seq, a->cp.part,
		    w->seq, 0, w->last_gtid, w->gtid_pos, newpos, newrecopied,
		    w->last_ts);
	} else if (rc == DB_OK)
		rc = db_flush(&a->db);
	if (rc == DB_OK && w->last && newpos != NULL) {
		free(a->cp.bootstrap_pos);
		a->cp.bootstrap_pos = newpos;
		newpos = NULL;
	}
	if (rc == DB_OK && w->last && newrecopied != NULL) {
		recopy_free(&a->cp.recopied);
		a->cp.recopied = recopied;
		memset(&recopied, 0, sizeof recopied);
	}
	if (rc == DB_OK && w->skipped > 0)
		log_notice("wagon %" PRIu64 ": %" PRIu64
		           " row change(s) skipped: "
		           "srdf-bootstrap copied their table again after them",
		    w->seq, w->skipped);
	recopy_free(&recopied);
	free(newrecopied);
	free(newpos);
	return rc;
}

/* apply_one's failure rc (DB_*) of wagon seq: rolled back, retried now
 * (a deadlock), or counted as a failure.  An S_* code. */
static int
apply_failed(struct applier *a, uint64_t seq, int rc)
{
	db_rollback(&a->db);
	a->og.open = 0;
	a->next = a->cp.seq + 1;
	switch (rc) {
	case DB_GONE:
		log_warn("wagon %" PRIu64 ": %s", seq, a->db.err);
		return S_GONE;
	case DB_RETRY:
		if (++a->fail.immediate <= IMMEDIATE_RETRIES) {
			log_notice("wagon %" PRIu64 ": %s; trying again "
			           "now",
			    seq, a->db.err);
			return S_PROGRESS;
		}
		a->fail.immediate = 0;
		return failed(a, seq, a->db.err, 1);
	default:
		a->fail.immediate = 0;
		return failed(a, seq, a->db.err, db_full(&a->db));
	}
}

/* w applied: a chunk leaves its group's transaction open; a last chunk
 * committed it.  An S_* code. */
static int
applied(
    struct applier *a, const struct inwagon *w, uint64_t first, long long t0)
{
	a->fail.immediate = 0;
	if (!w->last) {
		if (w->chunk == 1) {
			a->og.first = w->seq;
			free(a->og.xid);
			a->og.xid =
			    w->xa == XA_PREPARED ? xstrdup(w->xid) : NULL;
		}
		a->og.open = 1;
		a->og.group = w->group;
		a->og.chunk = w->chunk;
		a->next = w->seq + 1;
		log_info("wagon %" PRIu64 ": chunk %" PRIu32
		         " of group %" PRIu64 " applied, %" PRIu64
		         " row changes; the group commits with "
		         "its last chunk",
		    w->seq, w->chunk, w->group, w->rows);
		return S_PROGRESS;
	}
	a->next = w->seq + 1;
	free(a->og.xid);
	a->og.xid = NULL;
	if (w->xa == XA_PREPARED && (a->xa_min == 0 || first < a->xa_min))
		a->xa_min = first;
	if ((w->xa == XA_COMMIT || w->xa == XA_ROLLBACK) &&
	    db_xa_min(&a->db, a->src, &a->xa_min) != DB_OK)
		log_warn("reading srdf.xa_pending: %s", a->db.err);
	return committed(a, w->seq, first, w, a->db.missing, t0, 0);
}

/* The per-wagon state machine: the next wagon is taken, scheduled (a
 * worker, merged with a backlog, or alone), applied and committed, or
 * its failure counted.  An S_* code. */
int
step(struct applier *a)
{
	struct inwagon w;
	uint64_t seq, first;
	long long t0 = clock_mono_ms();
	char err[1024];
	int rc;

	if (!a->ready && (rc = start_source(a)) != S_PROGRESS)
		return rc;
	seq = a->next;
	if (!a->og.open && a->fail.seq != 0 &&
	    (a->fail.dead || t0 < a->fail.due))
		return S_WAIT;
	rc = take(a, seq, &w, err, sizeof err);
	/* A checkpoint inside it (a stop point): what is left of it. */
	if (rc == 0 && until_resume(a, &w, err, sizeof err) != 0) {
		inwagon_free(&w);
		return failed(a, seq, err, 0);
	}
	if (rc == 0 && (rc = delayed(a, &w)) != 0)
		return rc;
	if (rc == 0 && a->cf->until != UNTIL_NONE) {
		int u = until_step(a, &w);

		if (u >= 0)
			return u;
	}
	if (a->par.p != NULL && par_inflight(a->par.p) > 0)
		return beside_workers(a, &w, rc);
	if (rc == 1) {
		inwagon_free(&w);
		look_inbox(a, 1);
		return S_IDLE;
	}
	a->gap_logged = 0;
	if (rc == 0 && to_worker(a, &w))
		return dispatch(a, &w);
	if (a->par.p != NULL) {
		par_free(a->par.p);
		a->par.p = NULL;
	}
	if (rc < 0) {
		inwagon_free(&w);
		if (a->og.open) {
			db_rollback(&a->db);
			a->og.open = 0;
			a->next = a->cp.seq + 1;
		}
		return failed(a, seq, err, rc == -2);
	}
	if ((rc = merged(a, &w, t0)) >= 0)
		return rc;
	if (chunk_begin(a, &w, &first, err, sizeof err) != 0) {
		inwagon_free(&w);
		return failed(a, seq, err, 0);
	}
	if ((rc = apply_one(a, &w, first)) != DB_OK) {
		inwagon_free(&w);
		return apply_failed(a, seq, rc);
	}
	rc = applied(a, &w, first, t0);
	inwagon_free(&w);
	if (rc == S_PROGRESS)
		rc = until_reached(a);
	return rc;
}
