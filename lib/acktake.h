/*
 * acktake.h — what the source does with one ACK (man/srdf-ack.5): the
 * state transition of its wagon in the source ledger, shared by
 * srdf-ackd (ACKs pushed to it by srdf-apply --ack-to) and srdf-ship
 * --ack-pull (ACKs fetched from srdf-recv), so that both do exactly the
 * same thing (srdf-ack(5), "Meaning"; srdf-ackd(1)).
 *
 * An ACK is taken when its source_id is the ledger's meta "source_id"
 * and the ledger holds its wagon; in one write transaction that
 * re-reads the record:
 *	applied:  any state but confirmed -> confirmed (applied_at,
 *	          confirmed_at, applied_gtid; last_error null)
 *	failed:   any state but confirmed -> failed (failed_at,
 *	          last_error: the target's message, apply_failures + 1)
 * Nothing changes, and the answer is ACKTAKE_DUPLICATE, for a wagon
 * confirmed already, a "failed" ACK whose message is the record's
 * last_error already, and a wagon not in the ledger below its newest
 * record (only the purge sweep, lib/purge.h, removes records, of
 * confirmed wagons, never the newest: it was confirmed, then purged).
 * A change is one audit line (audit_wagon, "ACK from PEER: ...", audit.h)
 * and one log line.
 *
 * Calling sequence: audit_open and audit_source_of before, then for
 * each decoded ACK (ack_decode, ack.h):
 *	rc = acktake(l, &a, peer, why, sizeof why);
 * peer names where the ACK came from, for the log and the audit trail.
 *
 * Returns ACKTAKE_CHANGED (the wagon moved), ACKTAKE_DUPLICATE,
 * ACKTAKE_REJECTED (another source, or a wagon this ledger never had:
 * logged at warning) or ACKTAKE_BUSY (a ledger error, logged; nothing
 * changed, try again).  why gets the reason (wl bytes at most, cut
 * if longer) in all four cases.
 */
#ifndef SRDF_ACKTAKE_H
#define SRDF_ACKTAKE_H

#include <stddef.h>

#include "ack.h"
#include "ledger.h"

enum {
	ACKTAKE_CHANGED,
	ACKTAKE_DUPLICATE,
	ACKTAKE_REJECTED,
	ACKTAKE_BUSY,
};

int acktake(struct ledger *l, const struct ack *a, const char *peer, char *why,
    size_t wl);

#endif
