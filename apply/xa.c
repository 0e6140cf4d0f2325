/*
 * xa.c — XA transactions of the source (srdf-apply(1), "XA
 * transactions").
 */
#include <inttypes.h>
#include <stdio.h>

#include "applier.h"
#include "log.h"

/* srdf-apply(1), "XA transactions".  MariaDB logs an XA transaction's
 * rows when it is prepared, and its XA COMMIT or XA ROLLBACK later, as
 * groups of their own.  The source holds the prepared rows' locks until
 * the outcome, so nothing else changes them in between: applying them
 * with the XA COMMIT's wagon gives the target what the source shows.
 * The prepared group (wagons first..w) only records its wagons in
 * srdf.xa_pending; the XA COMMIT runs them from the inbox and removes
 * the row; the XA ROLLBACK removes it.  Each in the transaction of the
 * checkpoint.  A DB_* code, with a->db.err on DB_FAIL. */
int
apply_xa(struct applier *a, struct inwagon *w, uint64_t first,
    const struct recopy_list *recopied)
{
	uint64_t p0, p1;
	int rc;

	if (w->xa == XA_PREPARED) {
		if (!w->last)
			return DB_OK;
		if (first == w->seq)
			log_notice(
			    "wagon %" PRIu64 ": XA transaction %s was "
			    "prepared on the source: its rows wait for its XA "
			    "COMMIT",
			    w->seq, w->xid);
		else
			log_notice(
			    "wagons %" PRIu64 "..%" PRIu64 ": XA "
			    "transaction %s was prepared on the source: its "
			    "rows wait for its XA COMMIT",
			    first, w->seq, w->xid);
		return db_xa_put(&a->db, a->src, w->xid, first, w->seq);
	}
	if (a->cf->dry_run) {
		printf("-- XA %s %s: %s\n",
		    w->xa == XA_COMMIT ? "COMMIT" : "ROLLBACK", w->xid,
		    w->xa == XA_COMMIT
		        ? "the rows of its "
		          "prepared wagons (srdf.xa_pending) are applied here"
		        : "its prepared rows are dropped");
		return DB_OK;
	}
	if ((rc = db_xa_get(&a->db, a->src, w->xid, &p0, &p1)) != DB_OK)
		return rc;
	if (w->xa == XA_ROLLBACK) {
		log_notice("wagon %" PRIu64
		           ": XA ROLLBACK %s on the source: %s",
		    w->seq, w->xid,
		    p0 ? "its prepared rows are dropped"
		       : "nothing of it was pending");
		return p0 ? db_xa_del(&a->db, a->src, w->xid) : DB_OK;
	}
	if (p0 == 0) {
		snprintf(a->db.err, sizeof a->db.err,
		    "XA COMMIT %s: its "
		    "prepared rows are not pending on the target "
		    "(srdf.xa_pending): it was prepared before the GTID "
		    "position srdf-capture started from, or its wagon was "
		    "skipped; the target lacks them (copy them by hand, then "
		    "--skip this wagon)",
		    w->xid);
		a->db.errnum = 0;
		return DB_FAIL;
	}
	for (uint64_t s = p0; s <= p1 && rc == DB_OK; s++) {
		struct inwagon pw;
		char err[1024];

		if (load_wagon(a, s, &pw, err, sizeof err, 0) != 0) {
			snprintf(a->db.err, sizeof a->db.err,
			    "XA COMMIT %s: "
			    "wagon %" PRIu64 " of its prepared rows cannot be "
			    "read: %s",
			    w->xid, s, err);
			a->db.errnum = 0;
			inwagon_free(&pw);
			return DB_FAIL;
		}
		pw.xa = XA_PREPARED;
		pw.idem = w->idem;
		if ((rc = engine_run(&a->db, &a->arena, &pw, recopied, NULL,
		         NULL)) == DB_OK)
			rc = db_flush(&a->db);
		w->rows += pw.rows;
		inwagon_free(&pw);
	}
	if (rc == DB_OK)
		rc = db_xa_del(&a->db, a->src, w->xid);
	if (rc == DB_OK)
		log_notice(
		    "wagon %" PRIu64 ": XA COMMIT %s: the %" PRIu64 " row "
		    "change(s) prepared in wagon%s %" PRIu64 "%s applied",
		    w->seq, w->xid, w->rows, p0 == p1 ? "" : "s", p0,
		    p0 == p1 ? "" : " and after");
	return rc;
}
