/*
 * purge.h — removing the wagons that are done with, after they have been
 * kept a while: srdf-ackd's confirmed wagons from the outbox
 * (outbox/new), srdf-apply's applied ones from the inbox (inbox/cur).
 * Their files go, and so do their ledger records (and delivery
 * attempts), so that neither the spool nor the ledger grows without
 * bound; the ledger's meta keeps the counts, "purged_wagons" and
 * "purged_bytes" (decimal text), for srdf-status (srdf.7, FILES), and
 * the sums over the purged records that its Prometheus counters add to
 * the records kept so that a purge never lowers them: "purged_events_in",
 * "purged_events_out", "purged_attempts", "purged_retries" (the attempts
 * after each wagon's first) and "purged_wagons_STATE" per state purged
 * (a ledger purged by an older srdf lacks them for those wagons).
 *
 * A wagon is purged when its ledger record's "state" is one of states,
 * its time field at (Unix seconds) is keep_ms or more in the past, and
 * its sequence is below below and below the ledger's newest record,
 * which always stays (srdf-seal and srdf-recv number from it).  A record
 * an older srdf marked "purged_at" goes too.  The file dir/NAME
 * (wagon_name) is unlinked (one already gone is fine), dir is fsync'd,
 * then the records go and the counters grow in one ledger transaction,
 * then one audit line each (audit_wagon, reason why, state unchanged).
 *
 * Calling sequence: fill a struct purge (low 0 at first: the scan starts
 * there and purge_sweep moves it to the first record kept), then call
 * purge_sweep(&p) as often as wanted.  It does at most PURGE_BATCH
 * wagons a call and returns how many it purged (PURGE_BATCH: call again,
 * more are due), or -1 after logging a ledger or unlink error (what was
 * purged before it stays purged; the next call goes on).
 */
#ifndef SRDF_PURGE_H
#define SRDF_PURGE_H

#include <stdint.h>

#include "ledger.h"

#define PURGE_BATCH 4096

struct purge {
	struct ledger *l;
	const char *dir;           /* where the wagon files are */
	const char *const *states; /* NULL-terminated: the states purgeable */
	const char *at;            /* the record's field of the time to age */
	uint64_t below;            /* only sequences below this */
	long long keep_ms;
	const char *why; /* the audit reason */
	uint64_t low;    /* no record below is kept (internal) */
};

long purge_sweep(struct purge *p);

#endif
