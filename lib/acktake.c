/*
 * acktake.c — one ACK's state transition in the source ledger
 * (acktake.h), for srdf-ackd and srdf-ship --ack-pull.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "acktake.h"
#include "audit.h"
#include "clock.h"
#include "log.h"

static const char *
state_of(json_t *w)
{
	const char *s = json_string_value(json_object_get(w, "state"));

	return s ? s : "?";
}

/* -1 when the ACK a (from peer) moves wagon w's record; else what it is,
 * with why set and a line logged: ACKTAKE_REJECTED for another source
 * (sid: this one, NULL while none) or an unknown wagon,
 * ACKTAKE_DUPLICATE for one that changes nothing.  last: the ledger's
 * last sequence, read when w is NULL. */
static int
refusal(const struct ack *a, const char *peer, const char *sid, json_t *w,
    uint64_t last, char *why, size_t wl)
{
	const char *old, *err;

	if (sid == NULL || strcmp(sid, a->source_id) != 0) {
		log_warn("ACK of wagon %" PRIu64 " from %s: rejected: source "
		         "%s is not this source (%s)",
		    a->seq, peer, a->source_id, sid ? sid : "none yet");
		snprintf(why, wl, "ACK for source %s; this is source %s",
		    a->source_id, sid ? sid : "(none yet)");
		return ACKTAKE_REJECTED;
	}
	if (w == NULL && a->seq < last) {
		/* Only the sweep removes records, of confirmed wagons, and
		 * never the newest: this one was confirmed, then purged. */
		log_info("ACK of wagon %" PRIu64 " from %s: duplicate: "
		         "confirmed and purged already",
		    a->seq, peer);
		snprintf(why, wl,
		    "wagon %" PRIu64 " is confirmed and purged "
		    "already",
		    a->seq);
		return ACKTAKE_DUPLICATE;
	}
	if (w == NULL) {
		log_warn("ACK of wagon %" PRIu64 " from %s: rejected: no such "
		         "wagon in the ledger",
		    a->seq, peer);
		snprintf(why, wl,
		    "wagon %" PRIu64 " is not in this source's "
		    "ledger",
		    a->seq);
		return ACKTAKE_REJECTED;
	}
	old = state_of(w);
	err = json_string_value(json_object_get(w, "last_error"));
	if (strcmp(old, "confirmed") == 0 ||
	    (!a->applied && strcmp(old, "failed") == 0 && err != NULL &&
	        strcmp(err, a->error) == 0)) {
		log_info("ACK of wagon %" PRIu64 " from %s: duplicate: %s "
		         "already",
		    a->seq, peer, old);
		snprintf(
		    why, wl, "wagon %" PRIu64 " is %s already", a->seq, old);
		return ACKTAKE_DUPLICATE;
	}
	return -1;
}

/* Moves wagon record w as the ACK a says (acktake.h). */
static void
move_state(json_t *w, const struct ack *a)
{
	if (a->applied) {
		json_object_set_new(w, "state", json_string("confirmed"));
		json_object_set_new(w, "applied_at", json_real(a->time));
		json_object_set_new(w, "confirmed_at", json_real(clock_wall()));
		json_object_set_new(w, "applied_gtid",
		    a->last_gtid ? json_string(a->last_gtid) : json_null());
		json_object_set_new(w, "last_error", json_null());
	} else {
		json_object_set_new(w, "state", json_string("failed"));
		json_object_set_new(w, "failed_at", json_real(a->time));
		json_object_set_new(w, "last_error", json_string(a->error));
		json_object_set_new(w, "apply_failures",
		    json_integer(json_integer_value(
		                     json_object_get(w, "apply_failures")) +
		                 1));
	}
}

/* The audit line and log line of the ACK a (from peer) taken for source
 * sid: wagon a->seq moved from state from. */
static void
say_ack(
    const struct ack *a, const char *peer, const char *sid, const char *from)
{
	audit_source(sid);
	if (a->applied)
		audit_wagon(0, a->seq, from, "confirmed",
		    "ACK from %s: applied "
		    "on the target, GTID %s",
		    peer, a->last_gtid ? a->last_gtid : "-");
	else
		audit_wagon(0, a->seq, from, "failed", "ACK from %s: %s", peer,
		    a->error);
	if (a->applied)
		log_info("wagon %" PRIu64 ": %s -> confirmed (applied on the "
		         "target, GTID %s)",
		    a->seq, from, a->last_gtid ? a->last_gtid : "-");
	else
		log_warn("wagon %" PRIu64 ": %s -> failed on the target: %s",
		    a->seq, from, a->error);
}

int
acktake(struct ledger *l, const struct ack *a, const char *peer, char *why,
    size_t wl)
{
	struct ledger_txn *t;
	char *sid = NULL, from[32];
	json_t *w = NULL;
	uint64_t last = 0;
	int rc, res;

	if ((rc = ledger_txn_begin(l, 0, &t)) != 0 ||
	    (rc = ledger_meta_get(t, "source_id", &sid)) != 0 ||
	    (rc = ledger_wagon_get(t, a->seq, &w)) != 0)
		goto fail;
	if (w == NULL && sid != NULL && strcmp(sid, a->source_id) == 0 &&
	    (rc = ledger_wagon_last_seq(t, &last)) != 0)
		goto fail;
	if ((res = refusal(a, peer, sid, w, last, why, wl)) >= 0)
		goto abort;
	snprintf(from, sizeof from, "%s", state_of(w));
	move_state(w, a);
	if ((rc = ledger_wagon_put(t, a->seq, w)) != 0)
		goto fail;
	rc = ledger_txn_commit(t);
	t = NULL;
	if (rc != 0)
		goto fail;
	say_ack(a, peer, sid, from);
	snprintf(why, wl, "wagon %" PRIu64 ": %s -> %s", a->seq, from,
	    a->applied ? "confirmed" : "failed");
	json_decref(w);
	free(sid);
	return ACKTAKE_CHANGED;
fail:
	log_err("cannot record the ACK of wagon %" PRIu64 " in the source "
	        "ledger: %s",
	    a->seq, ledger_strerror(rc));
	snprintf(why, wl, "cannot record it in the ledger");
	res = ACKTAKE_BUSY;
abort:
	ledger_txn_abort(t);
	json_decref(w);
	free(sid);
	return res;
}
