/*
 * applier.h — srdf-apply's loop: struct applier, the state of one
 * process applying one source's wagons, shared by the files of the loop:
 *	apply.c     main(), the loop (waiting, reconnecting, --keep)
 *	start.c     the start (source, checkpoint, reconcile, --skip)
 *	step.c      one wagon: taken, scheduled, applied, committed
 *	inbox.c     reading wagons from the inbox, moving applied ones
 *	outcome.c   the ledger, the ACKs and the log of each outcome
 *	prefetch.c  the next wagon read by a thread of its own
 *	dispatch.c  --parallel: wagons to par.c's workers and back
 *	merge.c     a backlog's wagons in one transaction
 *	xa.c        XA transactions: prepared rows applied at the XA COMMIT
 *
 * Calling sequence: main() sets up a struct applier and calls run(),
 * which calls step() for each wagon (step() calls start_source() first
 * until the checkpoint is read); step() returns one of the S_* codes
 * below, which run() turns into waiting, reconnecting or exiting.
 *
 * Error handling: the functions returning int return an S_* code (or
 * say otherwise); a wagon's failure is recorded (failed()) and retried
 * per --retry; S_FATAL (the ledger cannot be written) ends run(), and
 * main() exits with its code.  Nothing here exits but main() and what it
 * calls before run() (and an allocation that fails: lib/xalloc.h).
 */
#ifndef SRDF_APPLY_APPLIER_H
#define SRDF_APPLY_APPLIER_H

#include <pthread.h>
#include <signal.h>

#include <jansson.h>

#include "apply.h"
#include "acks.h"
#include "db.h"
#include "engine.h"
#include "par.h"
#include "recopy.h"
#include "purge.h"

/* A deadlock or lock wait timeout is retried at once, this many times,
 * before it counts as a failure of the wagon. */
#define IMMEDIATE_RETRIES 5
/* Between attempts of a wagon the target has no room for, once --retry
 * is spent (or is "none"). */
#define FULL_RETRY_MS 60000LL
/* Reconnecting to the target: from 1 s, doubled, up to this. */
#define MAX_RECONNECT_MS 30000
/* --once waits this long for queued ACKs to go out before it exits. */
#define ACK_DRAIN_MS 5000
/* How long a start waits for the target's apply lock of the source
 * (db_apply_lock): a killed srdf-apply's last statements may run on. */
#define APPLY_LOCK_WAIT_S 600
/* --parallel: connections for srdf-bootstrap's row wagons. */
#define DEFAULT_PARALLEL 2
/* --merge-bytes: a backlog's wagons applied together, up to this many
 * payload bytes (and MERGE_MAX wagons) in one transaction. */
#define DEFAULT_MERGE_BYTES (128ULL << 20)
#define DEFAULT_KEEP_MS (7LL * 86400000)
/* How often the applied wagons' files are looked at for --keep. */
#define PURGE_INTERVAL_MS 60000
#define MERGE_MAX 256

/* Applied wagons reach the ledger in batches while a backlog is applied:
 * at most this many, or this old.  The target's checkpoint is the truth
 * meanwhile (reconcile). */
#define LEDGER_BATCH 64
#define LEDGER_LAG_MS 250

/* S_DELAY: the next wagon waits for --delay (a->delay_due); S_STOP:
 * the --until point is reached (a->stop says where). */
enum { S_PROGRESS, S_IDLE, S_WAIT, S_FAILED, S_GONE, S_FATAL, S_DELAY, S_STOP };

/* Where a wagon goes (sched(), srdf-apply(1), "Parallel apply"). */
enum sched {
	SCHED_ALONE,      /* on the main connection, once the jobs in flight
			   * are done */
	SCHED_NOW,        /* to a worker, now */
	SCHED_LATER,      /* to a worker, once a job in flight is done */
	SCHED_IF_DDL_NEXT /* rows with nothing in flight: to a worker if a
			   * DDL wagon follows (lone_parallel) */
};

/* A committed group the ledger does not know yet. */
struct done {
	uint64_t from, to, first;
	uint64_t rows, ddls, missing;
	uint64_t last_ts; /* source commit time of the last transaction */
	double at;
	char gtid[WAGON_GTID_LEN];
};

/* Chunks: a group whose transaction is open. */
struct open_group {
	int open;
	uint64_t group, first;
	uint32_t chunk;
	char *xid; /* the open group is XA PREPAREd: its id */
};

/* Retries: the wagon that failed, at the head of the stream. */
struct failing {
	uint64_t seq;
	int attempts, dead;
	int immediate; /* deadlocks retried at once in a row */
	long long due; /* its next attempt (clock_mono_ms) */
};

/* Ledger batching: committed groups the ledger does not know yet. */
struct done_list {
	struct done *v;
	size_t n, cap;
	long long since;
};

/* --parallel: srdf-bootstrap's row wagons go to workers (par.c). */
struct dispatch {
	struct par *p;       /* NULL: every wagon on a->db */
	struct inwagon held; /* loaded, waiting for a worker or for the
				 * workers to finish; records NULL if none */
	uint64_t seq;        /* the last wagon handed to a worker */
	char *bpos;          /* bootstrap_pos once the handed ones commit */
	int broken;          /* a worker's wagon failed: drain, then read
				 * the checkpoint again */
	uint64_t off_until;  /* wagons up to here go alone */
	uint64_t merge_off_until; /* wagons up to here are not merged */
};

/* The next wagon, read and decrypted by a thread of its own while this
 * one is applied (prefetch_*). */
struct prefetch {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started, quit, busy;
	uint64_t want;    /* the wagon asked for, 0 none */
	struct inwagon w; /* ... read: records NULL if not (yet) */
};

/* --keep over inbox/cur (purge.h); below the checkpoint only. */
struct keep {
	struct purge p;
	char curdir[PATH_MAX + 8], why[128];
	long long due;
};

struct applier {
	const struct config *cf;
	struct db db;
	struct buf arena; /* the engine's, between wagons (engine_run) */
	struct ledger *l; /* NULL in a dry run */
	struct acks *acks;
	/* The checkpoint */
	char src[33];          /* source id (hex); "" until known */
	int ready;             /* checkpoint read, ledger reconciled */
	int triggers_upgraded; /* db_triggers_upgrade ran */
	struct checkpoint cp;  /* what the target holds */
	uint64_t next;         /* the sequence to apply next */
	int skip_done;
	struct open_group og;
	/* XA: the lowest first wagon of an XA transaction prepared on the
	 * source and pending on the target (srdf.xa_pending), 0 none:
	 * --keep purges nothing from there on. */
	uint64_t xa_min;
	struct failing fail;
	struct done_list done;
	struct dispatch par;
	struct prefetch pf;
	struct keep keep;
	/* Waiting */
	int gap_logged;
	int ino, sig[2];
	int fatal;
	int crash_after; /* test hook: _exit(137) after this COMMIT */
	int commits;
	uint64_t napplied;
	/* --delay: when the wagon held back is due (clock_mono_ms), and
	 * the last wagon said to wait (said once) */
	long long delay_due;
	uint64_t delay_said;
	/* --until: the wagon after whose commit the stop point is reached
	 * (until_step), 0 none */
	uint64_t until_after;
	int until_checked; /* until_start ran */
};

/* Set by SIGTERM and SIGINT (apply.c): the loop ends. */
extern volatile sig_atomic_t stopping;

/* step.c: one wagon; an S_* code. */
int step(struct applier *a);

/* inbox.c: load_wagon opens wagon seq (inbox/new, else inbox/cur),
 * opened with the key and peeked (engine_peek), into *w, which the
 * caller frees (inwagon_free): 0, 1 when it is not there, -1 with err,
 * -2 with err when it is sealed under a key id the key file lacks even
 * read again (keyring_find: a transient failure, retried);
 * load does so and logs a gap once.  map_file maps DIR/inbox/SUB/NAME:
 * 0, 1 when missing, -1 with err.  move_done moves the files of wagons
 * from..to to inbox/cur; look_inbox says what is missing. */
int load(struct applier *a, uint64_t seq, struct inwagon *w, char *err,
    size_t errlen);
int load_wagon(struct applier *a, uint64_t seq, struct inwagon *w, char *err,
    size_t errlen, int warn_cur);
void look_inbox(struct applier *a, int waiting);
int map_file(const struct config *cf, const char *sub, const char *name,
    uint8_t **p, size_t *len, char *err, size_t errlen);
void move_done(struct applier *a, uint64_t from, uint64_t to);
void src_hex(const uint8_t id[16], char out[33]);

/* outcome.c: committed and failed record a wagon's outcome (ledger,
 * ACK, log) and return an S_* code (S_FATAL: the ledger cannot be
 * written); flush_applied writes the batch of applied ones (S_*);
 * ledger_fail logs a ledger error rc and returns S_FATAL; wrec gives
 * the ledger record of seq (a new one when none; NULL with *rc on an
 * error); put_with_ack writes it with its ACK queued (S_*).  ddl_mark
 * is the ddl_mark_fn (apply.h) of the main connection: ddl_progress
 * reads, ddl_forget_inflight clears what it wrote. */
int committed(struct applier *a, uint64_t seq, uint64_t first,
    const struct inwagon *w, uint64_t missing, long long t0, int worker);
void ddl_forget_inflight(struct applier *a, uint64_t seq);
void ddl_progress(struct applier *a, struct inwagon *wg);
int failed(struct applier *a, uint64_t seq, const char *msg, int transient);
int flush_applied(struct applier *a);
int ledger_fail(struct applier *a, const char *what, int rc);
int put_with_ack(struct applier *a, struct ledger_txn *t, uint64_t seq,
    json_t *w, int applied, const char *gtid, const char *error, double at);
json_t *wrec(struct ledger_txn *t, uint64_t seq, int *rc);
void ddl_mark(void *arg, struct inwagon *wg, int i, int done);

/* prefetch.c: prefetch asks the thread for wagon seq (starting it);
 * prefetched takes it into *w: 0, or 1 when it has not got it (the
 * caller loads it itself); prefetch_stop joins the thread. */
void prefetch(struct applier *a, uint64_t seq);
void prefetch_stop(struct applier *a);
int prefetched(struct applier *a, uint64_t seq, struct inwagon *w);

/* dispatch.c: to_worker says whether wagon w goes to a worker now;
 * dispatch hands it over, beside_workers places a wagon (rc: load()'s)
 * while jobs are in flight, par_drain waits for them all: S_* codes. */
int beside_workers(struct applier *a, struct inwagon *w, int rc);
int dispatch(struct applier *a, struct inwagon *w);
int par_drain(struct applier *a);
int to_worker(struct applier *a, const struct inwagon *w);

/* step.c: delay_left_ms says how long wagon w still waits for --delay
 * (0: it is due, also without --delay, for srdf-bootstrap's wagons and
 * for a wagon without a source commit time). */
long long delay_left_ms(const struct applier *a, const struct inwagon *w);

/* until.c: --until and --until-before (S_* codes, S_STOP: stopped, the
 * stop recorded).  until_start checks the checkpoint against the point
 * once it is read; until_resume cuts off the transactions of w that a
 * checkpoint inside it (srdf.applied.part) says are applied (0, or -1
 * with err); until_step decides for w, taken: -1 to apply it as usual,
 * or an S_* code when it stopped there (w freed), having applied the
 * transactions of w before the point when its group can be cut;
 * until_reached, after a commit, stops when the point was the last
 * transaction of the wagon committed; until_free says whether w may be
 * merged with others or go to a worker. */
int until_start(struct applier *a);
int until_resume(
    struct applier *a, struct inwagon *w, char *err, size_t errlen);
int until_step(struct applier *a, struct inwagon *w);
int until_reached(struct applier *a);
int until_free(const struct applier *a, const struct inwagon *w);

/* merge.c: w and the wagons after it applied together; an S_* code,
 * or -1 when w goes alone. */
int merged(struct applier *a, struct inwagon *w, long long t0);

/* xa.c: the XA record of w (the group's first wagon first); a DB_*
 * code, the reason in a->db.err. */
int apply_xa(struct applier *a, struct inwagon *w, uint64_t first,
    const struct recopy_list *recopied);

/* start.c: start_source reads the source id, the checkpoint, and
 * reconciles the ledger and the inbox with it (--skip too); S_*. */
int start_source(struct applier *a);

#endif
