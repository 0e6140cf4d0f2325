/*
 * ledger.h — the LMDB ledger of one state directory (srdf(7) "Exactly
 * once", srdf-status(1)).
 *
 * The environment is DIR/ledger/ (data.mdb, lock.mdb), map size
 * LEDGER_MAPSIZE, with three named databases:
 *
 *	meta      string key -> string value.  Keys: "format", the
 *	          ledger's format version, "1" (LEDGER_FORMAT; written by
 *	          the first writer that opens a ledger without it, which an
 *	          srdf before 0.2 made: that is format 1 too); "source_id";
 *	          "last_sealed_gtid" (a MariaDB GTID position, "0-1-42" or
 *	          "0-1-42,1-2-7"), where srdf-capture resumes;
 *	          "bootstrap_gtid", the snapshot position of srdf-bootstrap;
 *	          on a target, "last_applied_seq" (srdf-apply) and
 *	          "promoted" (ISO 8601 UTC time), "promoted_seq",
 *	          "promoted_gtid", set once by srdf-promote: srdf-apply
 *	          refuses to run on a ledger that has "promoted".
 *	wagons    u64 sequence, big-endian (cursor order is sequence order)
 *	          -> JSON object: state, attempts, last_error, raw_bytes,
 *	          wagon_bytes, events_in, events_out, first_gtid, last_gtid,
 *	          chunk, chunks, and sealed_at, received_at, applied_at,
 *	          confirmed_at as Unix seconds with a fraction.
 *	attempts  u64 sequence || u32 attempt number, big-endian -> JSON
 *	          object: time, http_status, answer, latency_ms, error.
 *
 * Wagon states: one tool moves a wagon from one state to the next, in one
 * write transaction; the record is created by the first tool.
 *
 *   source ledger
 *	(none)    -> sealed     srdf-seal, in the transaction that also
 *	                        advances last_sealed_gtid
 *	sealed    -> sending    srdf-ship, on the first delivery attempt
 *	sending   -> sending    srdf-ship, on a failed attempt (attempts,
 *	                        last_error; one "attempts" record each)
 *	sending   -> received   srdf-ship, on "accepted" or "duplicate"
 *	sending   -> dead       srdf-ship, when the retry policy is spent,
 *	                        the receiver refuses the wagon for good
 *	                        (409, 413) or the outbox copy is damaged
 *	dead      -> sending    srdf-ship --retry-dead (the operator)
 *	received  -> confirmed  srdf-ackd, on a signed ACK "applied"; the
 *	                        outbox copy and the record may then be
 *	                        purged (lib/purge.h)
 *	received  -> failed     srdf-ackd, on a signed ACK "failed"
 *	failed    -> confirmed  srdf-ackd, when the retried apply succeeds
 *	An ACK can overtake srdf-ship's own record: srdf-ackd moves any
 *	state but confirmed (sealed, sending, dead too) on an ACK, and
 *	srdf-ship only ever moves sealed and sending wagons, so it never
 *	undoes that.  Nothing leaves confirmed.  The target's dead letters
 *	stay in the target ledger: the ACK has no "dead" (srdf-ack(5)).
 *
 *   target ledger
 *	(none)    -> received   srdf-recv, after the wagon is in inbox/new
 *	received  -> applied    srdf-apply, after its target transaction
 *	                        committed (srdf.applied is the authority)
 *	received  -> failed     srdf-apply, on an SQL error (last_error)
 *	failed    -> applied    srdf-apply, on a successful retry
 *	failed    -> dead       srdf-apply, when the retry policy is spent
 *	applied   -> confirmed  srdf-apply, once srdf-ackd took the ACK
 *
 * Only "confirmed" lets the source forget a wagon's file; the ledger
 * record stays.  "dead" waits for the operator.  Sequences start at 1.
 * Each transition is also one line of DIR/audit.log, written by the tool
 * that makes it (audit.h, srdf-audit(5)); the ledger is the authority.
 *
 * Calling sequence (lmdb.h Caveats): one ledger per process, opened after
 * any fork(); write transactions short, never around network or database
 * I/O; MDB_NOSYNC is never used, so a commit is durable when it returns.
 *	ledger_open(dir, 0, &l);
 *	ledger_txn_begin(l, 0, &t);
 *	ledger_wagon_put(t, seq, w); ledger_meta_put(t, "last_sealed_gtid", g);
 *	ledger_txn_commit(t);        -- both or neither
 *	ledger_close(l);
 * Readers pass LEDGER_RDONLY to ledger_txn_begin (and to ledger_open when
 * they never write) and end with ledger_txn_abort.  Every data function
 * works in the transaction it is given.  ledger_txn_commit and
 * ledger_txn_abort free the transaction, even when the commit fails.
 *
 * ledger_wagon_put stores w (not consumed; the caller keeps its
 * reference).  ledger_wagon_get returns a new reference.
 * ledger_wagon_last_seq sets *seq to the highest sequence, 0 when there
 * is none.  ledger_wagon_foreach calls fn for each wagon from sequence
 * `from' on, in sequence order, with a borrowed w (json_incref to keep
 * it); a nonzero return from fn stops the walk and is returned.
 * ledger_wagon_foreach_raw walks the same way without building a tree:
 * fn gets each record's JSON text (len bytes, not NUL-terminated, valid
 * only during the call) and judges it itself (LEDGER_CORRUPT, say).
 * ledger_wagon_del removes wagon seq's record and its attempts (none is
 * no error).
 * ledger_attempt_add stores attempt number `attempt' (from 1, as counted
 * in the wagon's "attempts") and never replaces one: MDB_KEYEXIST.
 *
 * Error handling: 0 on success, else an LMDB return code (MDB_*, or an
 * errno value), LEDGER_CORRUPT (a stored record is not a JSON object) or
 * LEDGER_BADREC (a wagon without a valid "state", an attempt that is not
 * a JSON object, an empty meta key).  ledger_strerror(rc) describes any
 * of them.  Nothing is logged: the caller says what it was doing.  Absent
 * items are not errors: ledger_meta_get sets *val to NULL and
 * ledger_wagon_get sets *w to NULL.
 */
#ifndef SRDF_LEDGER_H
#define SRDF_LEDGER_H

#include <stdint.h>

#include <jansson.h>

/* Address space, not disk: the file grows as records come.  A record
 * takes about 800 bytes, so this holds some 20 million wagons: the
 * purged ones' records go (purge.h), and a week of --keep at ten wagons
 * a second is 6 million. */
#define LEDGER_MAPSIZE ((size_t)16 << 30)

#define LEDGER_RDONLY 0x1

/* Below LMDB's range, MDB_KEYEXIST (-30799) .. MDB_LAST_ERRCODE. */
#define LEDGER_CORRUPT (-31001)
#define LEDGER_BADREC (-31002)
/* ledger_open: the ledger's "format" is not LEDGER_FORMAT: a newer srdf
 * wrote it (srdf-deploy(7), "Upgrading srdf"). */
#define LEDGER_NEWER (-31003)
#define LEDGER_FORMAT "1"

/* The wagon states of the table above, in the order of the lifecycle:
 * ledger_states[0] is "sealed", [LEDGER_NSTATES - 1] "dead"; the only
 * values ledger_wagon_put takes for "state". */
#define LEDGER_NSTATES 7
extern const char *const ledger_states[LEDGER_NSTATES];

struct ledger;
struct ledger_txn;

int ledger_open(const char *dir, unsigned flags, struct ledger **out);
void ledger_close(struct ledger *l);
const char *ledger_strerror(int rc);

int ledger_txn_begin(struct ledger *l, unsigned flags, struct ledger_txn **out);
int ledger_txn_commit(struct ledger_txn *t);
void ledger_txn_abort(struct ledger_txn *t);
/* ledger_txn_end ends t: commits it when rc is 0, else aborts it (t may
 * be NULL then).  Returns rc, or the commit's error; t is freed either
 * way, so the caller's "rc = put(...); rc = ledger_txn_end(t, rc)" never
 * touches t after a failed commit. */
int ledger_txn_end(struct ledger_txn *t, int rc);

int ledger_meta_get(struct ledger_txn *t, const char *key, char **val);
int ledger_meta_put(struct ledger_txn *t, const char *key, const char *val);

int ledger_wagon_get(struct ledger_txn *t, uint64_t seq, json_t **w);
int ledger_wagon_put(struct ledger_txn *t, uint64_t seq, json_t *w);
int ledger_wagon_del(struct ledger_txn *t, uint64_t seq);
int ledger_wagon_last_seq(struct ledger_txn *t, uint64_t *seq);
int ledger_wagon_foreach(struct ledger_txn *t, uint64_t from,
    int (*fn)(uint64_t seq, json_t *w, void *arg), void *arg);
int ledger_wagon_foreach_raw(struct ledger_txn *t, uint64_t from,
    int (*fn)(uint64_t seq, const char *json, size_t len, void *arg),
    void *arg);

int ledger_attempt_add(
    struct ledger_txn *t, uint64_t seq, uint32_t attempt, json_t *a);

#endif
