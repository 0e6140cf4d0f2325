/*
 * outcome.c — what srdf-apply records of each wagon's outcome, after the
 * target's COMMIT: the ledger (applied, in batches while a backlog is
 * applied; failed, with its attempts and the dead letter), the ACK
 * queued in the same ledger transaction, how far a DDL wagon got (a DDL
 * commits by itself), and the log.  The target's checkpoint stays the
 * truth: the ledger lags behind it at worst (reconcile() in start.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "applier.h"
#include "audit.h"
#include "clock.h"
#include "log.h"
#include "xalloc.h"

json_t *
wrec(struct ledger_txn *t, uint64_t seq, int *rc)
{
	json_t *w = NULL;

	if ((*rc = ledger_wagon_get(t, seq, &w)) != 0)
		return NULL;
	if (w == NULL && (w = json_pack("{s:s}", "state", "received")) == NULL)
		die(EX_OSERR, "out of memory");
	return w;
}

static char *
ack_body(struct applier *a, uint64_t seq, int applied, const char *gtid,
    const char *error, double at)
{
	struct ack k;
	char *s;

	memset(&k, 0, sizeof k);
	memcpy(k.source_id, a->src, sizeof k.source_id);
	k.seq = seq;
	k.applied = applied;
	k.last_gtid = gtid != NULL && *gtid != '\0' ? (char *)gtid : NULL;
	k.time = at;
	k.error = applied ? NULL : (char *)error;
	if ((s = ack_encode(&k)) == NULL)
		die(EX_OSERR, "out of memory");
	return s;
}

int
ledger_fail(struct applier *a, const char *what, int rc)
{
	log_err("cannot record %s in the ledger of %s: %s", what, a->cf->dir,
	    ledger_strerror(rc));
	a->fatal = EX_IOERR;
	return S_FATAL;
}

/* Stores w (with its ACK) and keeps the ACK hint. */
int
put_with_ack(struct applier *a, struct ledger_txn *t, uint64_t seq, json_t *w,
    int applied, const char *gtid, const char *error, double at)
{
	char *body = ack_body(a, seq, applied, gtid, error, at);
	int rc;

	json_object_set_new(w, "ack", json_string(body));
	free(body);
	if ((rc = ledger_wagon_put(t, seq, w)) == 0)
		rc = acks_note(t, seq);
	return rc;
}

/* Wagons from..to are committed: the group's own ones from `first' on,
 * those before it were chunks of an abandoned group.  Noted in memory;
 * flush_applied() records them in the ledger, moves their files to cur/
 * and queues their ACKs, for many wagons in one ledger transaction while
 * a backlog is applied (LEDGER_BATCH, LEDGER_LAG_MS).  A crash before
 * that loses nothing: reconcile() does the same from the checkpoint. */
static void
note_applied(struct applier *a, uint64_t from, uint64_t to, uint64_t first,
    const struct inwagon *wg, uint64_t missing)
{
	struct done *d;

	if (a->cf->dry_run)
		return;
	a->done.v =
	    xgrow(a->done.v, &a->done.cap, a->done.n + 1, sizeof *a->done.v);
	if (a->done.n == 0)
		a->done.since = clock_mono_ms();
	d = &a->done.v[a->done.n++];
	d->from = from;
	d->to = to;
	d->first = first;
	d->rows = wg->rows;
	d->ddls = wg->ddls;
	d->missing = missing;
	d->last_ts = wg->last_ts;
	d->at = clock_wall();
	snprintf(d->gtid, sizeof d->gtid, "%s", wg->last_gtid);
}

int
flush_applied(struct applier *a)
{
	struct ledger_txn *t;
	json_t *w;
	char buf[24];
	int rc = 0;

	if (a->done.n == 0)
		return S_PROGRESS;
	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0)
		return ledger_fail(a, "applied wagons", rc);
	for (size_t i = 0; i < a->done.n && rc == 0; i++) {
		const struct done *d = &a->done.v[i];

		for (uint64_t s = d->from; s <= d->to && rc == 0; s++) {
			if ((w = wrec(t, s, &rc)) == NULL)
				break;
			audit_wagon(0, s,
			    json_string_value(json_object_get(w, "state")),
			    "applied", "GTID %s%s", d->gtid,
			    s < d->first ? ", an abandoned chunk" : "");
			json_object_set_new(w, "state", json_string("applied"));
			json_object_set_new(w, "applied_at", json_real(d->at));
			json_object_del(w, "last_error");
			json_object_del(w, "ddl_inflight");
			json_object_del(w, "ddl_done");
			if (s < d->first) {
				json_object_set_new(
				    w, "abandoned", json_true());
			} else {
				json_int_t n = json_integer_value(
				    json_object_get(w, "attempts"));

				json_object_set_new(
				    w, "attempts", json_integer(n + 1));
			}
			if (s == d->to) {
				json_object_set_new(w, "rows",
				    json_integer((json_int_t)d->rows));
				if (d->ddls > 0)
					json_object_set_new(w, "ddl",
					    json_integer((json_int_t)d->ddls));
				if (d->missing > 0)
					json_object_set_new(w, "missing_rows",
					    json_integer(
					        (json_int_t)d->missing));
				if (d->last_ts > 0)
					json_object_set_new(w, "last_ts",
					    json_integer(
					        (json_int_t)d->last_ts));
			}
			rc = put_with_ack(a, t, s, w, 1, d->gtid, NULL, d->at);
			json_decref(w);
		}
	}
	snprintf(buf, sizeof buf, "%" PRIu64, a->done.v[a->done.n - 1].to);
	if (rc == 0)
		rc = ledger_meta_put(t, "last_applied_seq", buf);
	if (rc != 0) {
		ledger_txn_abort(t);
		return ledger_fail(a, "applied wagons", rc);
	}
	if ((rc = ledger_txn_commit(t)) != 0)
		return ledger_fail(a, "applied wagons", rc);
	for (size_t i = 0; i < a->done.n; i++) {
		move_done(a, a->done.v[i].from, a->done.v[i].to);
		for (uint64_t s = a->done.v[i].from; s <= a->done.v[i].to; s++)
			acks_enqueue(a->acks, s);
	}
	a->done.n = 0;
	return S_PROGRESS;
}

/* The wagon failed: returns its attempts so far and whether it is dead
 * (never when transient: the target is out of space, db_full, or the
 * wagon met deadlocks or lock wait timeouts past its immediate retries:
 * failures that pass, srdf-apply(1) "Failures, retries, the dead
 * letter"). */
static int
record_failed(struct applier *a, uint64_t seq, const char *msg, int transient,
    int *attempts, int *dead)
{
	struct ledger_txn *t;
	json_t *w;
	int rc;

	if (a->cf->dry_run) {
		*attempts = 1;
		*dead = 1;
		return S_FAILED;
	}
	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0)
		return ledger_fail(a, "a failed wagon", rc);
	if ((w = wrec(t, seq, &rc)) == NULL) {
		ledger_txn_abort(t);
		return ledger_fail(a, "a failed wagon", rc);
	}
	*attempts = (int)json_integer_value(json_object_get(w, "attempts")) + 1;
	*dead = !transient && *attempts > a->cf->nretry;
	audit_wagon(0, seq, json_string_value(json_object_get(w, "state")),
	    *dead ? "dead" : "failed", "attempt %d: %s", *attempts, msg);
	json_object_set_new(w, "state", json_string(*dead ? "dead" : "failed"));
	json_object_set_new(w, "attempts", json_integer(*attempts));
	json_object_set_new(w, "last_error", json_string(msg));
	json_object_set_new(w, "failed_at", json_real(clock_wall()));
	json_object_del(w, "ddl_inflight");
	rc = put_with_ack(a, t, seq, w, 0, NULL, msg, clock_wall());
	json_decref(w);
	if (rc != 0) {
		ledger_txn_abort(t);
		return ledger_fail(a, "a failed wagon", rc);
	}
	if ((rc = ledger_txn_commit(t)) != 0)
		return ledger_fail(a, "a failed wagon", rc);
	acks_enqueue(a->acks, seq);
	return S_FAILED;
}

/* engine.c's callback around each DDL: how far a DDL wagon got, since
 * DDL commits by itself (srdf-apply(1), "DDL"). */
void
ddl_mark(void *arg, struct inwagon *wg, int i, int done)
{
	struct applier *a = arg;
	struct ledger_txn *t;
	json_t *w;
	int rc;

	if (a->cf->dry_run)
		return;
	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0 ||
	    (w = wrec(t, wg->seq, &rc)) == NULL) {
		ledger_txn_abort(t);
		log_err("cannot record DDL progress of wagon %" PRIu64 ": %s",
		    wg->seq, ledger_strerror(rc));
		return;
	}
	if (done) {
		json_object_set_new(w, "ddl_done", json_integer(i + 1));
		json_object_del(w, "ddl_inflight");
	} else
		json_object_set_new(w, "ddl_inflight", json_integer(i + 1));
	rc = ledger_wagon_put(t, wg->seq, w);
	json_decref(w);
	if ((rc = ledger_txn_end(t, rc)) != 0) {
		log_err("cannot record DDL progress of wagon %" PRIu64 ": %s",
		    wg->seq, ledger_strerror(rc));
	}
}

/* A DDL wagon that failed on a worker, the server's error and not a lost
 * connection: its DDL did not run, and when it goes again alone its
 * error is its own, not a crash's (as record_failed does). */
void
ddl_forget_inflight(struct applier *a, uint64_t seq)
{
	struct ledger_txn *t;
	json_t *w;
	int rc;

	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0)
		return;
	if ((w = wrec(t, seq, &rc)) == NULL) {
		ledger_txn_abort(t);
		return;
	}
	json_object_del(w, "ddl_inflight");
	rc = ledger_wagon_put(t, seq, w);
	json_decref(w);
	if (ledger_txn_end(t, rc) != 0)
		log_err("cannot record DDL progress of wagon %" PRIu64, seq);
}

void
ddl_progress(struct applier *a, struct inwagon *wg)
{
	struct ledger_txn *t;
	json_t *w = NULL;

	if (a->l == NULL || ledger_txn_begin(a->l, LEDGER_RDONLY, &t) != 0)
		return;
	if (ledger_wagon_get(t, wg->seq, &w) == 0 && w != NULL) {
		wg->ddl_done =
		    (int)json_integer_value(json_object_get(w, "ddl_done"));
		wg->ddl_inflight =
		    (int)json_integer_value(json_object_get(w, "ddl_inflight"));
	}
	json_decref(w);
	ledger_txn_abort(t);
}

int
failed(struct applier *a, uint64_t seq, const char *msg, int transient)
{
	int attempts, dead, rc;
	long long delay;

	if (flush_applied(a) == S_FATAL)
		return S_FATAL;
	rc = record_failed(a, seq, msg, transient, &attempts, &dead);
	if (rc == S_FATAL)
		return rc;
	if (attempts <= a->cf->nretry + 1)
		log_err("wagon %" PRIu64 " failed (attempt %d of %d): %s", seq,
		    attempts, a->cf->nretry + 1, msg);
	else
		log_err("wagon %" PRIu64 " failed again (attempt %d, the retry "
		        "policy allows %d): %s",
		    seq, attempts, a->cf->nretry + 1, msg);
	a->fail.seq = seq;
	a->fail.attempts = attempts;
	a->fail.dead = dead;
	if (dead && !a->cf->dry_run)
		log_err(
		    "wagon %" PRIu64 " is dead-lettered: srdf-apply stops "
		    "here rather than skip it; fix the cause and send SIGHUP "
		    "(or restart), or skip it with --skip %" PRIu64 " (its "
		    "changes will then be missing on the target)",
		    seq, seq);
	else if (!dead) {
		/* Out of space, locks: past the schedule, its last wait
		 * (or a minute) again and again. */
		if (attempts <= a->cf->nretry)
			delay = a->cf->retry_ms[attempts - 1];
		else if (a->cf->nretry > 0)
			delay = a->cf->retry_ms[a->cf->nretry - 1];
		else
			delay = FULL_RETRY_MS;
		a->fail.due = clock_mono_ms() + delay;
		if (!a->cf->once)
			log_notice("retrying wagon %" PRIu64 " in %lld s", seq,
			    delay / 1000);
	}
	return S_FAILED;
}

/* Wagons up to seq are committed on the target (the chunks of its group
 * from `first' on): the applier's view, the ledger (in batches, see
 * note_applied), the log.  worker: the parallel connection, or 0. */
int
committed(struct applier *a, uint64_t seq, uint64_t first,
    const struct inwagon *w, uint64_t missing, long long t0, int worker)
{
	uint64_t from;
	int rc;

	/* A crash from here on leaves the ledger behind the checkpoint:
	 * reconcile() repairs that at the next start. */
	if (a->crash_after > 0 && ++a->commits == a->crash_after) {
		log_notice("SRDF_APPLY_CRASH_AFTER_COMMIT: exiting after the "
		           "COMMIT of wagon %" PRIu64,
		    seq);
		_exit(137);
	}
	from = a->cp.seq + 1;
	a->cp.seq = seq;
	a->cp.part = 0;
	snprintf(a->cp.last_gtid, sizeof a->cp.last_gtid, "%s", w->last_gtid);
	a->og.open = 0;
	if (a->fail.seq != 0 && a->fail.seq <= seq) {
		log_notice("wagon %" PRIu64 " applied after %d failed "
		           "attempt%s",
		    a->fail.seq, a->fail.attempts,
		    a->fail.attempts == 1 ? "" : "s");
		a->fail.seq = 0;
		a->fail.dead = 0;
	}
	a->napplied += seq - from + 1;
	note_applied(a, from, seq, first, w, missing);
	rc = S_PROGRESS;
	if (a->done.n >= LEDGER_BATCH ||
	    clock_mono_ms() - a->done.since >= LEDGER_LAG_MS)
		rc = flush_applied(a);
	if (worker > 0)
		log_info("applied wagon %" PRIu64 " on connection %d: %" PRIu64
		         " row change%s, GTID %s, %lld ms",
		    seq, worker, w->rows, w->rows == 1 ? "" : "s", w->last_gtid,
		    clock_mono_ms() - t0);
	else
		log_info("%s wagon %" PRIu64 "%s: %s%" PRIu64 " row change%s, "
		         "GTID %s, %lld ms",
		    a->cf->dry_run ? "printed" : "applied", seq,
		    first < seq ? " (last chunk)" : "",
		    w->ddls ? "DDL and " : "", w->rows, w->rows == 1 ? "" : "s",
		    w->last_gtid, clock_mono_ms() - t0);
	return rc;
}
