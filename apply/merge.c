/*
 * merge.c — a backlog (srdf-apply(1), "Applying a backlog"): the whole
 * groups of rows waiting in the inbox after a wagon applied with it as
 * one net delta in one transaction, committed with the last one's
 * checkpoint; on a failure they go one by one.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "applier.h"
#include "clock.h"
#include "log.h"
#include "xalloc.h"

/* srdf-apply(1), "Applying a backlog": a whole group of rows only, not
 * srdf-bootstrap's nor within its window, while nothing is failing. */
static int
merge_ok(const struct applier *a, const struct inwagon *w)
{
	return a->cf->merge_bytes > 0 && !a->cf->dry_run && !a->og.open &&
	       a->fail.seq == 0 && w->seq > a->par.merge_off_until &&
	       w->chunk == 1 && w->last && !w->has_ddl && w->snapshot == NULL &&
	       w->xa == XA_NONE && !(w->h.flags & WAGON_F_BOOTSTRAP) &&
	       !gtid_within(w->h.first_gtid, a->cp.bootstrap_pos) &&
	       until_free(a, w);
}

/* The wagons after w that are in the inbox already and may go with it,
 * into more[] (at most MERGE_MAX - 1); the first that may not is kept
 * in a->par.held.  A wagon missing or unreadable ends the run: its turn
 * comes next, alone, and reports it.  Returns how many. */
static size_t
gather(struct applier *a, const struct inwagon *w, struct inwagon *more)
{
	unsigned long long bytes = w->len;
	char err[1024];
	size_t n = 0;
	uint64_t seq = w->seq + 1;
	int rc;

	while (n < MERGE_MAX - 1) {
		struct inwagon x;

		if (a->par.held.records != NULL && a->par.held.seq == seq) {
			x = a->par.held;
			memset(&a->par.held, 0, sizeof a->par.held);
			rc = 0;
		} else if ((rc = prefetched(a, seq, &x)) != 0)
			rc = load(a, seq, &x, err, sizeof err);
		if (rc != 0) {
			inwagon_free(&x);
			break;
		}
		/* --delay: a wagon not yet due ends the run (its turn holds
		 * it back); so does one a --until point falls in or right
		 * after (merge_ok: until_free). */
		if (!merge_ok(a, &x) || bytes + x.len > a->cf->merge_bytes ||
		    delay_left_ms(a, &x) > 0) {
			a->par.held = x;
			break;
		}
		bytes += x.len;
		more[n++] = x;
		seq++;
	}
	if (a->par.held.records == NULL)
		prefetch(a, seq);
	return n;
}

/* w and more[0..n-1] in one transaction with the last one's checkpoint.
 * A failure of any kind but a lost connection rolls back and applies
 * them one by one (a->par.merge_off_until), w first, so that a failing wagon
 * is told apart, retried and reported on its own. */
static int
apply_merged(struct applier *a, struct inwagon *w, struct inwagon *more,
    size_t n, long long t0)
{
	struct inwagon *ws[MERGE_MAX], *z = &more[n - 1];
	uint64_t rows = 0;
	int rc;

	ws[0] = w;
	for (size_t i = 0; i < n; i++)
		ws[i + 1] = &more[i];
	rc = engine_run_many(&a->db, &a->arena, ws, n + 1, NULL, ddl_mark, a);
	if (rc == DB_OK)
		rc = db_commit_at(&a->db, a->src, a->cp.seq, z->seq,
		    z->last_gtid, z->gtid_pos, NULL, NULL, z->last_ts);
	if (rc != DB_OK) {
		db_rollback(&a->db);
		a->next = a->cp.seq + 1;
		for (size_t i = 0; i < n; i++)
			inwagon_free(&more[i]);
		if (rc == DB_GONE) {
			inwagon_free(w);
			log_warn("wagons %" PRIu64 "..%" PRIu64 ": %s", w->seq,
			    z->seq, a->db.err);
			return S_GONE;
		}
		log_notice("wagons %" PRIu64 "..%" PRIu64
		           " in one transaction: "
		           "%s; applying them one by one",
		    w->seq, z->seq,
		    rc == DB_SPLIT ? "a table of theirs is the parent of a "
		                     "cascading foreign key"
		                   : a->db.err);
		a->par.merge_off_until = z->seq;
		inwagon_free(&a->par.held);
		a->par.held = *w;
		return S_PROGRESS;
	}
	a->fail.immediate = 0;
	for (size_t i = 0; i <= n; i++)
		rows += ws[i]->rows;
	log_info("wagons %" PRIu64 "..%" PRIu64 " applied in one transaction "
	         "(a backlog, its row changes folded together): %" PRIu64
	         " row "
	         "changes, %lld ms",
	    w->seq, z->seq, rows, clock_mono_ms() - t0);
	rc = S_PROGRESS;
	for (size_t i = 0; i <= n && rc != S_FATAL; i++) {
		a->next = ws[i]->seq + 1;
		rc = committed(a, ws[i]->seq, ws[i]->seq, ws[i],
		    i == n ? a->db.missing : 0, t0, 0);
	}
	for (size_t i = 0; i <= n; i++)
		inwagon_free(ws[i]);
	return rc;
}

/* A backlog: the wagons waiting after w go with it.  An S_* code, or -1
 * when none may (w is then applied alone). */
int
merged(struct applier *a, struct inwagon *w, long long t0)
{
	struct inwagon *more;
	size_t n;
	int rc = -1;

	if (!merge_ok(a, w))
		return -1;
	more = xcalloc(MERGE_MAX, sizeof *more);
	if ((n = gather(a, w, more)) > 0)
		rc = apply_merged(a, w, more, n, t0);
	free(more);
	return rc;
}
