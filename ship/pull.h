/*
 * pull.h — srdf-ship --ack-pull: the ACKs fetched from srdf-recv over
 * the connection ship opens anyway, so that the source host makes only
 * outbound connections (srdf-ship(1), "Pulled ACKs"; srdf-ack(5)).
 *
 * A fetch is GET /v1/acks/pending (recv/acks.h); each ACK of the signed
 * answer is decoded (ack_decode, ack.h) and taken into the source
 * ledger by acktake (acktake.h), exactly as srdf-ackd takes a pushed
 * one; those taken or found taken already are confirmed to the receiver
 * with POST /v1/acks/taken, which then forgets them.  The answer's
 * signature (hauth.h X-Srdf-Answer: the pre-shared key, bound to the
 * fresh nonce of this request) is what makes an ACK authentic and new:
 * an answer recorded and played back, or made without the key, is not
 * believed (http_call_run fails) and nothing is taken.  An ACK refused
 * (another source, a wagon this ledger never had) stays on the target,
 * is asked for again, and is said again at most every PULL_REFUSED_MS.
 * Confirmed wagons older than keep_ms are purged from the outbox and
 * the ledger (purge.h) after each fetch that confirmed one and at least
 * every PULL_SWEEP_MS, as srdf-ackd sweeps.
 *
 * When: every PULL_BUSY_MS while the ledger has a wagon that is neither
 * confirmed nor dead (looked at on every pull_tick, so that a wagon
 * just shipped shortens a longer wait), every PULL_IDLE_MS otherwise,
 * at once again when
 * the answer said "more"; after a failure (no answer, one not believed,
 * 5xx) the wait doubles from PULL_BUSY_MS up to PULL_BACKOFF_MAX_MS.
 *
 * Calling sequence (ship's main thread, between its shipping rounds):
 *	p = pull_new(l, call, to, keep_ms, outbox_new);
 *	pull_tick(p);        fetches if due
 *	wait at most pull_wait_ms(p) ms (-1: no fetch pending)
 *	pull_drain(p);       --once: fetch (unless pull_tick did, and
 *	                     well) until nothing more, then sweep all
 *	pull_free(p);
 * call is a struct http_call of lib/http.h set up for srdf-recv (it is
 * used with http_call_run only while no transfer of it is running);
 * l, call, to and outbox_new are borrowed and must outlive p.  Every
 * function takes a NULL p and then does nothing.  pull_tick and
 * pull_drain return 0, or -1 after logging a ledger error that stops
 * ship (EX_SOFTWARE); a failed fetch is no error (it is retried).
 */
#ifndef SRDF_SHIP_PULL_H
#define SRDF_SHIP_PULL_H

#include "http.h"
#include "ledger.h"

/* Invariant: PULL_BUSY_MS <= PULL_BACKOFF_MAX_MS <= PULL_IDLE_MS
 * <= PULL_SWEEP_MS. */
#define PULL_BUSY_MS 1000
#define PULL_BACKOFF_MAX_MS 30000
#define PULL_IDLE_MS 60000
#define PULL_SWEEP_MS 600000
#define PULL_REFUSED_MS 600000

struct pull;

struct pull *pull_new(struct ledger *l, struct http_call *call, const char *to,
    long long keep_ms, const char *outbox_new);
int pull_tick(struct pull *p);
long long pull_wait_ms(const struct pull *p);
int pull_drain(struct pull *p);
void pull_free(struct pull *p);

#endif
