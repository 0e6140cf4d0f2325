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
#include "log.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
state_of(json_t *w)
{
	const char *s = json_string_value(json_object_get(w, "state"));

	return s ? s : "?";
}

int
acktake(struct ledger *l, const struct ack *a, const char *peer, char *why,
    size_t wl)
{
	struct ledger_txn *t;
	char *sid = NULL, from[32];
	const char *old;
	json_t *w = NULL;
	uint64_t last = 0;
	int rc, res;

	if ((rc = ledger_txn_begin(l, 0, &t)) != 0 ||
	    (rc = ledger_meta_get(t, "source_id", &sid)) != 0 ||
	    (rc = ledger_wagon_get(t, a->seq, &w)) != 0)
		goto fail;
	if (sid == NULL || strcmp(sid, a->source_id) != 0) {
		log_warn("ACK of wagon %" PRIu64 " from %s: rejected: source "
		         "%s is not this source (%s)",
		    a->seq, peer, a->source_id, sid ? sid : "none yet");
		snprintf(why, wl, "ACK for source %s; this is source %s",
		    a->source_id, sid ? sid : "(none yet)");
		res = ACKTAKE_REJECTED;
		goto abort;
	}
	if (w == NULL && (rc = ledger_wagon_last_seq(t, &last)) != 0)
		goto fail;
	if (w == NULL && a->seq < last) {
		/* Only the sweep removes records, of confirmed wagons, and
		 * never the newest: this one was confirmed, then purged. */
		log_info("ACK of wagon %" PRIu64
		         " from %s: duplicate: confirmed "
		         "and purged already",
		    a->seq, peer);
		snprintf(why, wl,
		    "wagon %" PRIu64 " is confirmed and purged "
		    "already",
		    a->seq);
		res = ACKTAKE_DUPLICATE;
		goto abort;
	}
	if (w == NULL) {
		log_warn("ACK of wagon %" PRIu64 " from %s: rejected: no such "
		         "wagon in the ledger",
		    a->seq, peer);
		snprintf(why, wl,
		    "wagon %" PRIu64 " is not in this source's "
		    "ledger",
		    a->seq);
		res = ACKTAKE_REJECTED;
		goto abort;
	}
	old = state_of(w);
	snprintf(from, sizeof from, "%s", old);
	if (strcmp(old, "confirmed") == 0 ||
	    (!a->applied && strcmp(old, "failed") == 0 &&
	        json_is_string(json_object_get(w, "last_error")) &&
	        strcmp(json_string_value(json_object_get(w, "last_error")),
	            a->error) == 0)) {
		log_info("ACK of wagon %" PRIu64 " from %s: duplicate: %s "
		         "already",
		    a->seq, peer, old);
		snprintf(
		    why, wl, "wagon %" PRIu64 " is %s already", a->seq, old);
		res = ACKTAKE_DUPLICATE;
		goto abort;
	}
	if (a->applied) {
		json_object_set_new(w, "state", json_string("confirmed"));
		json_object_set_new(w, "applied_at", json_real(a->time));
		json_object_set_new(w, "confirmed_at", json_real(now_s()));
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
	if ((rc = ledger_wagon_put(t, a->seq, w)) != 0)
		goto fail;
	rc = ledger_txn_commit(t);
	t = NULL;
	if (rc != 0)
		goto fail;
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
