/*
 * acks.h — the queue of ACKs to srdf-ackd (acks.c): ledger-backed,
 * delivered by libcurl multi in the background of the loop.
 *
 * Calling sequence: acks_new (after the ledger is open); acks_note in
 * the ledger transaction that records a wagon's outcome, acks_enqueue
 * after it commits; acks_pump and acks_wait in the loop; acks_drain
 * before exit; acks_free.  A NULL struct acks (a dry run) does nothing.
 *
 * Error handling: acks_new dies when the queue cannot be read; delivery
 * failures are retried with backoff, never returned.
 */
#ifndef SRDF_APPLY_ACKS_H
#define SRDF_APPLY_ACKS_H

#include <stddef.h>
#include <stdint.h>

#include "apply.h"

struct ledger;
struct ledger_txn;
struct acks;

struct acks *acks_new(const struct config *cf, struct ledger *l);
void acks_free(struct acks *a);
int acks_enqueue(struct acks *a, uint64_t seq);
int acks_note(struct ledger_txn *t, uint64_t seq);
void acks_pump(struct acks *a);
long acks_timeout_ms(const struct acks *a);
size_t acks_pending(const struct acks *a);
int acks_wait(struct acks *a, int fd1, int fd2, long timeout_ms);
size_t acks_drain(struct acks *a, long ms);

#endif
