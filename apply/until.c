/*
 * until.c — srdf-apply's stop points (srdf-apply(1), "Delayed apply and
 * stop points"): --until GTID|TIME applies up to and including that
 * transaction, --until-before GTID up to the one before, and stops.
 *
 * Where the point falls, per wagon, goes by its transactions: the "trx"
 * records srdf-dedup writes after each source transaction of a group
 * (srdf-record(5); engine_peek keeps them in w->trx), or, for a wagon
 * sealed before those, the group as one unit, first_gtid..last_gtid.  In
 * source order, the first transaction beyond the point and everything
 * after it stay unapplied.  A point between two wagons stops before the
 * later one.  A point inside a group whose group_end says "split" (every
 * trx record a boundary: srdf-dedup(1) "Groups") cuts it: the
 * transactions before the point are applied as a group of their own and
 * the checkpoint becomes (seq, part k), srdf.applied.part, with the last
 * GTID, GTID position and source commit time of the k-th transaction;
 * srdf-apply started again applies the rest of that wagon (the records
 * after its k-th trx record) as a group, then goes on (until_resume).  A
 * point inside a group that cannot be cut (folded across transactions,
 * a wagon without trx records, a group in chunks) stops before the
 * group, and says which transactions it holds.  Either way the stop is
 * recorded in the ledger (meta until_stop), logged, printed on stdout,
 * and srdf-apply exits 0.
 *
 * Calling sequence (step.c): until_start after the checkpoint is read;
 * per wagon taken, until_resume (a checkpoint inside it), then
 * until_step, and until_reached after a commit.
 *
 * Error handling: S_* codes (applier.h); until_resume returns -1 with
 * err when the wagon cannot be cut where the checkpoint says.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "applier.h"
#include "clock.h"
#include "log.h"
#include "xalloc.h"

static const char *
until_opt(const struct config *cf)
{
	return cf->until == UNTIL_BEFORE ? "until-before" : "until";
}

/* 1 when the transaction (gtid, ts) lies beyond the stop point: not to
 * be applied.  For --until GTID, *exact is set when it is the point. */
static int
beyond(const struct config *cf, const char *gtid, uint64_t ts, int *exact)
{
	struct gtid g;

	*exact = 0;
	if (cf->until == UNTIL_TIME)
		return ts > cf->until_ts;
	if (gtid == NULL || gtid_parse(gtid, &g) != 0 ||
	    g.domain != cf->until_gtid.domain)
		return 0;
	if (cf->until == UNTIL_BEFORE)
		return g.seq >= cf->until_gtid.seq;
	*exact = g.seq == cf->until_gtid.seq;
	return g.seq > cf->until_gtid.seq;
}

/* Where the stop point falls in w: -1 beyond w (apply it whole); k, the
 * transactions of w to apply before it (0: none; w->ntrx, or 1 for a
 * wagon without trx records: all of it, and stop after it).  *holds is
 * set when the point lies inside a unit that cannot be cut here (a
 * wagon without trx records, a group in chunks): stop before it. */
static long
until_at(const struct applier *a, const struct inwagon *w, int *holds)
{
	const struct config *cf = a->cf;
	int exact, whole = w->chunk == 1 && w->last;
	long k = -1;

	*holds = 0;
	if (cf->until == UNTIL_NONE || (w->h.flags & WAGON_F_BOOTSTRAP))
		return -1;
	if (w->ntrx == 0) {
		/* One unit: its first and its last transaction. */
		int first = beyond(cf, w->h.first_gtid,
		        w->first_ts ? w->first_ts : w->last_ts, &exact),
		    lastb = beyond(cf, w->h.last_gtid, w->last_ts, &exact);

		if (first && w->chunk == 1)
			return 0;
		if (first || lastb) {
			*holds = 1;
			return 0;
		}
		return exact && w->last ? 1 : -1;
	}
	for (size_t i = 0; i < w->ntrx && k < 0; i++) {
		if (beyond(cf, w->trx[i].gtid, w->trx[i].ts, &exact))
			k = (long)i;
		else if (exact)
			k = (long)i + 1;
	}
	if (k < 0)
		return -1;
	/* A group in chunks is applied whole or not at all. */
	if (!whole && !(k == 0 && w->chunk == 1) &&
	    !(w->last && k == (long)w->ntrx)) {
		*holds = 1;
		return 0;
	}
	return k;
}

/* The stop recorded (meta until_stop), logged and printed: the
 * checkpoint, what the target holds, and why (msg).  S_STOP. */
static int
until_stop(struct applier *a, const char *msg)
{
	const struct config *cf = a->cf;
	struct ledger_txn *t;
	json_t *j;
	char *s;
	int rc;

	j = json_pack("{s:I, s:i, s:s, s:s, s:s, s:s, s:f}", "seq",
	    (json_int_t)a->cp.seq, "part", a->cp.part, "gtid",
	    a->cp.last_gtid[0] ? a->cp.last_gtid : "-", "option", until_opt(cf),
	    "point", cf->until_arg, "why", msg, "at", clock_wall());
	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL)
		die(EX_OSERR, "out of memory");
	json_decref(j);
	if (a->l != NULL) {
		if ((rc = ledger_txn_begin(a->l, 0, &t)) == 0) {
			if ((rc = ledger_meta_put(t, "until_stop", s)) != 0)
				ledger_txn_abort(t);
			else
				rc = ledger_txn_commit(t);
		}
		if (rc != 0) {
			free(s);
			return ledger_fail(a, "the stop point", rc);
		}
	}
	free(s);
	log_notice("stopped at --%s %s: checkpoint wagon %" PRIu64
	           ", part %d, GTID %s: %s",
	    until_opt(cf), cf->until_arg, a->cp.seq, a->cp.part,
	    a->cp.last_gtid[0] ? a->cp.last_gtid : "-", msg);
	printf("stopped at --%s %s: checkpoint wagon %" PRIu64
	       ", part %d, GTID %s: %s\n",
	    until_opt(cf), cf->until_arg, a->cp.seq, a->cp.part,
	    a->cp.last_gtid[0] ? a->cp.last_gtid : "-", msg);
	fflush(stdout);
	return S_STOP;
}

int
until_start(struct applier *a)
{
	const struct config *cf = a->cf;
	char msg[512];

	if (cf->until == UNTIL_TIME && a->cp.source_ts > cf->until_ts) {
		log_err(
		    "--until %s: the target applied transactions committed "
		    "after it already (checkpoint wagon %" PRIu64
		    ", part %d, GTID %s, source commit %" PRIu64 "): "
		    "srdf-apply only goes forward; srdf-rewind(1) takes the "
		    "target back",
		    cf->until_arg, a->cp.seq, a->cp.part,
		    a->cp.last_gtid[0] ? a->cp.last_gtid : "-",
		    a->cp.source_ts);
		a->fatal = EX_USAGE;
		return S_FATAL;
	}
	if (cf->until == UNTIL_NONE || cf->until == UNTIL_TIME ||
	    !gtid_within(cf->until_arg, a->cp.gtid_pos))
		return S_PROGRESS;
	if (cf->until == UNTIL_GTID &&
	    strcmp(a->cp.last_gtid, cf->until_arg) == 0) {
		snprintf(msg, sizeof msg,
		    "the target is there already, nothing "
		    "applied");
		return until_stop(a, msg);
	}
	log_err("--%s %s: the target applied that transaction already "
	        "(checkpoint wagon %" PRIu64 ", part %d, GTID position %s): "
	        "srdf-apply only goes forward; srdf-rewind(1) takes the "
	        "target back",
	    until_opt(cf), cf->until_arg, a->cp.seq, a->cp.part,
	    a->cp.gtid_pos ? a->cp.gtid_pos : "-");
	a->fatal = EX_USAGE;
	return S_FATAL;
}

/* w's payload cut: the group_begin, then the records after its skip-th
 * trx record, up to and including its (skip + keep)-th (keep SIZE_MAX:
 * up to the end, the group_end included), then, when cut short, a
 * group_end of its own (last, the last kept transaction's commit time,
 * split).  Peeked again: w->trx and the rest describe what is left. */
static int
cut(struct inwagon *w, size_t skip, size_t keep, char *err, size_t errlen)
{
	const char *nl = memchr(w->records, '\n', w->len);
	size_t head, from, to;
	struct buf b = {0};
	char why[512];

	if (nl == NULL) {
		snprintf(err, errlen, "wagon %" PRIu64 ": no group_begin line",
		    w->seq);
		return -1;
	}
	head = (size_t)(nl - w->records) + 1;
	from = skip > 0 ? w->trx[skip - 1].end : head;
	to = keep == SIZE_MAX ? w->len : w->trx[skip + keep - 1].end;
	/* Sized once: no copy of the plaintext left behind by a realloc. */
	buf_grow(&b, head + (to - from) + 256);
	buf_add(&b, w->records, head);
	buf_add(&b, w->records + from, to - from);
	if (keep != SIZE_MAX)
		buf_printf(&b,
		    "{\"v\":1,\"type\":\"group_end\",\"group\":%" PRIu64
		    ",\"chunk\":1,\"last\":true,\"last_ts\":%" PRIu64
		    ",\"split\":true}\n",
		    w->group, w->trx[skip + keep - 1].ts);
	buf_putc(&b, '\0');
	wagon_records_free(w->records, w->len);
	w->records = b.p;
	w->len = b.len - 1;
	if (engine_peek(w, why, sizeof why) != 0) {
		snprintf(err, errlen,
		    "wagon %" PRIu64 " cut at a transaction: %s", w->seq, why);
		return -1;
	}
	return 0;
}

/* Whether w's group may be cut between its transactions. */
static int
splittable(const struct inwagon *w)
{
	return w->split && w->ntrx > 0 && w->chunk == 1 && w->last &&
	       w->xa == XA_NONE && !w->has_ddl;
}

int
until_resume(struct applier *a, struct inwagon *w, char *err, size_t errlen)
{
	size_t need;

	if (w->seq != a->cp.seq + 1 || a->cp.part <= w->part0)
		return 0;
	need = (size_t)(a->cp.part - w->part0);
	if (!splittable(w) || need >= w->ntrx) {
		snprintf(err, errlen,
		    "the checkpoint says the first %d transactions of wagon "
		    "%" PRIu64 " are applied (srdf.applied.part), but its "
		    "group %s: srdf-apply cannot go on from there",
		    a->cp.part, w->seq,
		    !splittable(w) ? "cannot be cut between its transactions"
		                   : "has no more than that");
		return -1;
	}
	if (cut(w, need, SIZE_MAX, err, errlen) != 0)
		return -1;
	w->part0 = a->cp.part;
	log_notice("wagon %" PRIu64 ": its first %d transaction%s were applied "
	           "before (a stop point, srdf.applied.part): applying the "
	           "other %zu",
	    w->seq, a->cp.part, a->cp.part == 1 ? "" : "s", w->ntrx);
	return 0;
}

/* The transactions w holds, for a message: "N transactions, GTID
 * first..last" or what is known of them. */
static void
held(const struct inwagon *w, char *b, size_t len)
{
	if (w->ntrx > 0)
		snprintf(b, len, "%zu transaction%s, GTID %s..%s", w->ntrx,
		    w->ntrx == 1 ? "" : "s", w->trx[0].gtid,
		    w->trx[w->ntrx - 1].gtid);
	else
		snprintf(b, len,
		    "GTID %s..%s (how many transactions is not "
		    "recorded: sealed before srdf-dedup wrote trx records)",
		    w->h.first_gtid, w->h.last_gtid);
}

/* Applies the first k transactions of w (splittable) as a group of
 * their own and moves the checkpoint to (seq, part0 + k).  An S_* code:
 * S_PROGRESS when done. */
static int
apply_prefix(struct applier *a, struct inwagon *w, size_t k)
{
	char err[1024], *pos, *next;
	struct trx_mark last;
	int rc, part = w->part0 + (int)k;

	/* The GTID position before it, as the target holds it. */
	if ((rc = db_checkpoint_read(&a->db, a->src, &a->cp)) != DB_OK) {
		log_warn("reading the checkpoint: %s", a->db.err);
		return rc == DB_GONE ? S_GONE : failed(a, w->seq, a->db.err, 1);
	}
	pos = a->cp.gtid_pos != NULL ? xstrdup(a->cp.gtid_pos) : NULL;
	for (size_t i = 0; i < k; i++) {
		next = gtid_merge(pos, w->trx[i].gtid);
		free(pos);
		pos = next;
	}
	last = w->trx[k - 1];
	if (cut(w, 0, k, err, sizeof err) != 0) {
		free(pos);
		return failed(a, w->seq, err, 0);
	}
	snprintf(w->last_gtid, sizeof w->last_gtid, "%s", last.gtid);
	w->last_ts = last.ts;
	free(w->gtid_pos);
	w->gtid_pos = pos;
	rc = engine_run(&a->db, &a->arena, w, NULL, ddl_mark, a);
	if (rc == DB_OK)
		rc = db_commit_part(&a->db, a->src, a->cp.seq, a->cp.part,
		    a->cp.seq, part, w->last_gtid, w->gtid_pos, NULL, NULL,
		    w->last_ts);
	if (rc != DB_OK) {
		db_rollback(&a->db);
		a->next = a->cp.seq + 1;
		if (rc == DB_GONE) {
			log_warn("wagon %" PRIu64 ": %s", w->seq, a->db.err);
			return S_GONE;
		}
		return failed(a, w->seq, a->db.err, rc == DB_RETRY);
	}
	/* The test hook of committed() (outcome.c): a crash right after
	 * the COMMIT, before the stop is recorded. */
	if (a->crash_after > 0 && ++a->commits == a->crash_after) {
		log_notice("SRDF_APPLY_CRASH_AFTER_COMMIT: exiting after the "
		           "COMMIT of part %d of wagon %" PRIu64,
		    part, w->seq);
		_exit(137);
	}
	a->cp.part = part;
	snprintf(a->cp.last_gtid, sizeof a->cp.last_gtid, "%s", last.gtid);
	free(a->cp.gtid_pos);
	a->cp.gtid_pos = w->gtid_pos != NULL ? xstrdup(w->gtid_pos) : NULL;
	log_info("wagon %" PRIu64 ": its first %d transaction%s applied, "
	         "%" PRIu64 " row changes, up to GTID %s (checkpoint part %d)",
	    w->seq, part, part == 1 ? "" : "s", w->rows, last.gtid, part);
	return S_PROGRESS;
}

int
until_step(struct applier *a, struct inwagon *w)
{
	char msg[1024], what[512], name[WAGON_NAME_LEN];
	int holds, rc;
	long k = until_at(a, w, &holds);
	size_t n = w->ntrx > 0 ? w->ntrx : 1;

	a->until_after = 0;
	if (k < 0)
		return -1;
	if (!holds && (size_t)k == n) {
		a->until_after = w->seq; /* apply it, then stop */
		return -1;
	}
	if (a->par.p != NULL && par_inflight(a->par.p) > 0 &&
	    par_drain(a) == S_FATAL) {
		inwagon_free(w);
		return S_FATAL;
	}
	if (flush_applied(a) == S_FATAL) {
		inwagon_free(w);
		return S_FATAL;
	}
	if (a->og.open) { /* chunks of this group: not without the rest */
		db_rollback(&a->db);
		a->og.open = 0;
	}
	held(w, what, sizeof what);
	wagon_name(w->seq, name);
	if (k == 0 && !holds) {
		snprintf(msg, sizeof msg,
		    "wagon %" PRIu64 " (%s) is beyond the point, not applied",
		    w->seq, what);
	} else if (!holds && splittable(w) &&
	           !gtid_within(w->h.first_gtid, a->cp.bootstrap_pos) &&
	           !recopy_due(&a->cp.recopied, w)) {
		if ((rc = apply_prefix(a, w, (size_t)k)) != S_PROGRESS) {
			inwagon_free(w);
			return rc;
		}
		snprintf(msg, sizeof msg,
		    "the first %d transaction%s of wagon %" PRIu64
		    " applied, the rest not (srdf.applied.part %d)",
		    a->cp.part, a->cp.part == 1 ? "" : "s", w->seq, a->cp.part);
	} else {
		snprintf(msg, sizeof msg,
		    "wagon %" PRIu64 " holds the point inside a group that "
		    "cannot be cut there (%s), so none of it is applied: %s; "
		    "srdf-cat %s/inbox/new/%s shows them",
		    w->seq,
		    w->chunk != 1 || !w->last ? "a group in chunks"
		    : w->ntrx == 0            ? "no trx records"
		    : !splittable(w)          ? "folded across its transactions"
		                     : "within srdf-bootstrap's window or copy",
		    what, a->cf->dir, name);
	}
	inwagon_free(w);
	return until_stop(a, msg);
}

int
until_reached(struct applier *a)
{
	char msg[256];

	if (a->until_after == 0 || a->cp.seq < a->until_after)
		return S_PROGRESS;
	if (flush_applied(a) == S_FATAL)
		return S_FATAL;
	snprintf(msg, sizeof msg,
	    "wagon %" PRIu64 " applied up to the point, the "
	    "last transaction it holds",
	    a->until_after);
	a->until_after = 0;
	return until_stop(a, msg);
}

/* Whether wagon w may be merged with others or given to a worker: not
 * one the stop point falls in or right after, nor one cut. */
int
until_free(const struct applier *a, const struct inwagon *w)
{
	int holds;

	return w->part0 == 0 && a->cp.part == 0 && until_at(a, w, &holds) < 0;
}
