/*
 * srdf-apply — apply the wagons of the target inbox to the target
 * database, in sequence order, each in one transaction together with the
 * checkpoint row, and send the source a signed ACK for each.
 *
 * Design rationale.  The commit point is the target's own transaction:
 * a wagon's changes and the UPDATE of srdf.applied (source id, sequence,
 * last GTID) commit together or not at all, as mysql.gtid_slave_pos does
 * for a native replica (DESIGN.md §5).  The UPDATE names the sequence it
 * moves from, and an IF after it raises an error when it matched no row,
 * so the COMMIT in the same round trip never runs for a checkpoint that
 * somebody else moved.  Everything else follows from that row C, read at
 * every start and after every lost connection; for wagon N:
 *
 *	inbox      N vs C   ledger (DIR/ledger)   meaning
 *	new/N      N > C    received, failed      to apply, in order
 *	new/N      N > C    dead                  stopped here: the operator
 *	new/N      N <= C   received (a crash     applied: at start recorded
 *	                    after the COMMIT)     applied and moved to cur/
 *	cur/N      N <= C   applied, confirmed    done (kept)
 *	cur/N      N > C    applied               the target lost it (a
 *	                                          restored backup): again
 *	bad/N      N <= C   dead, "skipped"       --skip N
 *
 * The ledger and the inbox are written after the COMMIT, so they lag
 * behind the database at worst, and reconcile() brings them level; that
 * is also why applied wagons may reach the ledger in batches while a
 * backlog is applied.  A wagon at or below the checkpoint is never
 * applied again, whatever the ledger or the inbox say.  Wagons are taken
 * strictly in sequence: a missing one is waited for (inotify on
 * inbox/new, never polling), and one that fails stops the stream rather
 * than let later changes overtake it.  A failed wagon is retried per
 * --retry, then dead-lettered; only the operator moves past it (--skip).
 * A group split into chunks is applied in one transaction that commits
 * with its last chunk.
 *
 * ACKs (acks.c) are queued in the ledger in the same transaction that
 * records a wagon's outcome, and delivered in the background of the loop:
 * the target never waits for the source.
 *
 * What it refuses to do: apply a wagon it cannot authenticate, one out of
 * order, or one from another source than the first it saw; skip data by
 * itself.  XA groups are applied at their XA COMMIT (srdf-apply(1), "XA
 * transactions").
 */
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <mysqld_error.h>
#include <sodium.h>

#include "ack.h"
#include "apply.h"
#include "audit.h"
#include "clock.h"
#include "heartbeat.h"
#include "http.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "mdb.h"
#include "opt.h"
#include "purge.h"
#include "spool.h"
#include "wagon.h"
#include "xalloc.h"

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

enum { S_PROGRESS, S_IDLE, S_WAIT, S_FAILED, S_GONE, S_FATAL };

/* A committed group the ledger does not know yet. */
struct done {
	uint64_t from, to, first;
	uint64_t rows, ddls, missing;
	uint64_t last_ts; /* source commit time of the last transaction */
	double at;
	char gtid[WAGON_GTID_LEN];
};

struct applier {
	const struct config *cf;
	/* --keep over inbox/cur (purge.h); below the checkpoint only */
	struct purge purge;
	char curdir[PATH_MAX + 8], purge_why[128];
	long long purge_due;
	struct db db;
	struct ledger *l;	/* NULL in a dry run */
	struct acks *acks;
	char src[33];		/* source id (hex); "" until known */
	int ready;		/* checkpoint read, ledger reconciled */
	int triggers_upgraded;	/* db_triggers_upgrade ran */
	struct checkpoint cp;	/* what the target holds */
	uint64_t next;		/* the sequence to apply next */
	int skip_done;
	/* A chunked group whose transaction is open. */
	int open;
	uint64_t open_group, open_first;
	uint32_t open_chunk;
	char *open_xid;		/* the open group is XA PREPAREd: its id */
	/* The lowest first wagon of an XA transaction prepared on the
	 * source and pending on the target (srdf.xa_pending), 0 none:
	 * --keep purges nothing from there on. */
	uint64_t xa_min;
	/* The wagon that failed, at the head of the stream. */
	uint64_t fail_seq;
	int fail_attempts, dead, immediate;
	long long fail_due;
	int gap_logged;
	int ino, sig[2];
	int fatal;
	struct done *done;	/* committed, not yet in the ledger */
	size_t ndone, capdone;
	long long done_since;
	int crash_after; /* test hook: _exit(137) after this COMMIT */
	int commits;
	uint64_t napplied;
	/* --parallel: srdf-bootstrap's row wagons go to workers (par.c). */
	struct par *par;	/* NULL: every wagon on a->db */
	struct wagon held;	/* loaded, waiting for a worker or for the
				 * workers to finish; records NULL if none */
	uint64_t disp_seq;	/* the last wagon handed to a worker */
	char *disp_bpos;	/* bootstrap_pos once the handed ones commit */
	int par_broken;		/* a worker's wagon failed: drain, then read
				 * the checkpoint again */
	uint64_t par_off_until;	/* wagons up to here go alone */
	uint64_t merge_off_until; /* wagons up to here are not merged */
	/* The next wagon, read and decrypted by a thread of its own while
	 * this one is applied (prefetch_*). */
	pthread_t pf_th;
	pthread_mutex_t pf_mu;
	pthread_cond_t pf_cv;
	int pf_started, pf_quit, pf_busy;
	uint64_t pf_want;	/* the wagon asked for, 0 none */
	struct wagon pf_w;	/* ... read: records NULL if not (yet) */
};

static volatile sig_atomic_t stopping, hup;
static int sig_wfd = -1;

static void
on_signal(int sig)
{
	int e = errno;

	if (sig == SIGHUP)
		hup = 1;
	else
		stopping = 1;
	if (sig_wfd >= 0)
		(void)!write(sig_wfd, "", 1);
	errno = e;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-apply [-v] [--dir dir] --key-file file "
	    "[--defaults-file file]\n"
	    "                  [--defaults-group group] [--ack-to url | "
	    "--ack-pull] "
	    "[--ca-file pem] [--insecure]\n"
	    "                  [--once] [--dry-run] [--create-databases] "
	    "[--skip seq]\n"
	    "                  [--retry delay,...] [--no-bulk-load] "
	    "[--parallel n]\n"
	    "                  [--merge-bytes size] [--keep time] "
	    "[--fire-triggers]\n"
	    "       srdf-apply --help | --version\n");
}

static void
src_hex(const uint8_t id[16], char out[33])
{
	sodium_bin2hex(out, 33, id, 16);
}

/* ---- the inbox --------------------------------------------------------- */

/* Maps DIR/inbox/SUB/NAME; 0, 1 when absent, -1 on error (err). */
static int
map_file(const struct config *cf, const char *sub, const char *name,
    uint8_t **p, size_t *len, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	snprintf(path, sizeof path, "%s/%s/%s", cf->inbox, sub, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "cannot open %.600s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat %.600s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%.600s is not a regular file", path);
		close(fd);
		return -1;
	}
	*len = (size_t)st.st_size;
	*p = mmap(NULL, *len ? *len : 1, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (*p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %.600s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Opens wagon seq from inbox/new (or inbox/cur, when the target lost
 * commits that the inbox had seen).  0 with w filled, 1 when it is not
 * there, -1 when it cannot be used (err). */
static int
load_wagon(struct applier *a, uint64_t seq, struct wagon *w, char *err,
    size_t errlen, int warn_cur)
{
	char name[WAGON_NAME_LEN], why[512], hex[33];
	const char *sub = "new";
	uint8_t *p;
	size_t len;
	int rc;

	memset(w, 0, sizeof *w);
	w->seq = seq;
	wagon_name(seq, name);
	if ((rc = map_file(a->cf, sub, name, &p, &len, err, errlen)) == 1) {
		sub = "cur";
		rc = map_file(a->cf, sub, name, &p, &len, err, errlen);
	}
	if (rc != 0)
		return rc;
	rc = wagon_open_tagged(p, len, a->cf->key, &w->h, &w->records,
	    &w->len, why, sizeof why);
	munmap(p, len ? len : 1);
	if (rc != 0) {
		snprintf(err, errlen, "wagon %s/%s: %s", sub, name, why);
		return -1;
	}
	src_hex(w->h.source_id, hex);
	if (w->h.seq != seq) {
		snprintf(err, errlen, "wagon %s/%s holds sequence %" PRIu64,
		    sub, name, w->h.seq);
		return -1;
	}
	if (strcmp(hex, a->src) != 0) {
		snprintf(err, errlen, "wagon %s/%s comes from source %s, but "
		    "this directory applies source %s", sub, name, hex, a->src);
		return -1;
	}
	if (engine_peek(w, why, sizeof why) != 0) {
		snprintf(err, errlen, "wagon %s/%s: %s", sub, name, why);
		return -1;
	}
	if (strcmp(sub, "cur") == 0 && warn_cur)
		log_warn("applying wagon %" PRIu64 " again from %s/cur: the "
		    "target lost transactions it had committed (restored from "
		    "a backup? innodb_flush_log_at_trx_commit not 1?)", seq,
		    a->cf->inbox);
	return 0;
}

/* Wagon seq from the inbox (new/, else cur/), opened and peeked; 0, 1
 * when it is not there, -1 with err. */
static int
load(struct applier *a, uint64_t seq, struct wagon *w, char *err,
    size_t errlen)
{
	return load_wagon(a, seq, w, err, errlen, 1);
}

/* new/NAME -> cur/NAME for the wagons from..to that are there. */
static void
move_done(struct applier *a, uint64_t from, uint64_t to)
{
	char name[WAGON_NAME_LEN], path[PATH_MAX];

	if (a->cf->dry_run)
		return;
	for (uint64_t s = from; s <= to && s != 0; s++) {
		wagon_name(s, name);
		snprintf(path, sizeof path, "%s/new/%s", a->cf->inbox, name);
		if (access(path, F_OK) == 0)
			spool_move(a->cf->inbox, "new", "cur", name);
	}
}

/* 1 when wagon seq was applied here and waits for the ledger flush. */
static int
pending_done(const struct applier *a, uint64_t seq)
{
	for (size_t i = 0; i < a->ndone; i++)
		if (a->done[i].from <= seq && seq <= a->done[i].to)
			return 1;
	return 0;
}

/* Looks at inbox/new when the next wagon is missing: moves wagons at or
 * below the checkpoint to cur/, says once that later ones wait. */
static void
look_inbox(struct applier *a, int waiting)
{
	char **names;
	size_t n, later = 0;

	if (spool_list(a->cf->inbox, "new", &names, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t s = wagon_name_seq(names[i]);

		if (s == 0)
			continue;
		if (s <= a->cp.seq && !a->cf->dry_run) {
			/* Applied by this process, its ledger record not yet
			 * written: move_done moves it after the flush. */
			if (pending_done(a, s))
				continue;
			log_info("wagon %" PRIu64 " is at or below the checkpoint "
			    "(%" PRIu64 "): already applied", s, a->cp.seq);
			spool_move(a->cf->inbox, "new", "cur", names[i]);
		} else if (s > a->next)
			later++;
	}
	spool_list_free(names, n);
	if (!waiting)
		return;
	if (later > 0 && !a->gap_logged)
		log_notice("waiting for wagon %" PRIu64 ": %zu later wagon%s "
		    "in the inbox", a->next, later, later == 1 ? " is" : "s are");
	a->gap_logged = later > 0;
}

/* ---- the ledger -------------------------------------------------------- */

static json_t *
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

static int
ledger_fail(struct applier *a, const char *what, int rc)
{
	log_err("cannot record %s in the ledger of %s: %s", what, a->cf->dir,
	    ledger_strerror(rc));
	a->fatal = EX_IOERR;
	return S_FATAL;
}

/* Stores w (with its ACK) and keeps the ACK hint. */
static int
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
    const struct wagon *wg, uint64_t missing)
{
	struct done *d;

	if (a->cf->dry_run)
		return;
	if (a->ndone == a->capdone) {
		a->capdone = a->capdone ? 2 * a->capdone : LEDGER_BATCH;
		if ((a->done = realloc(a->done, a->capdone * sizeof *a->done)) ==
		    NULL)
			die(EX_OSERR, "out of memory");
	}
	if (a->ndone == 0)
		a->done_since = clock_mono_ms();
	d = &a->done[a->ndone++];
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

static int
flush_applied(struct applier *a)
{
	struct ledger_txn *t;
	json_t *w;
	char buf[24];
	int rc = 0;

	if (a->ndone == 0)
		return S_PROGRESS;
	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0)
		return ledger_fail(a, "applied wagons", rc);
	for (size_t i = 0; i < a->ndone && rc == 0; i++) {
		const struct done *d = &a->done[i];

		for (uint64_t s = d->from; s <= d->to && rc == 0; s++) {
			if ((w = wrec(t, s, &rc)) == NULL)
				break;
			audit_wagon(0, s, json_string_value(json_object_get(w,
			    "state")), "applied", "GTID %s%s", d->gtid,
			    s < d->first ? ", an abandoned chunk" : "");
			json_object_set_new(w, "state", json_string("applied"));
			json_object_set_new(w, "applied_at", json_real(d->at));
			json_object_del(w, "last_error");
			json_object_del(w, "ddl_inflight");
			json_object_del(w, "ddl_done");
			if (s < d->first) {
				json_object_set_new(w, "abandoned", json_true());
			} else {
				json_int_t n = json_integer_value(
				    json_object_get(w, "attempts"));

				json_object_set_new(w, "attempts",
				    json_integer(n + 1));
			}
			if (s == d->to) {
				json_object_set_new(w, "rows",
				    json_integer((json_int_t)d->rows));
				if (d->ddls > 0)
					json_object_set_new(w, "ddl",
					    json_integer((json_int_t)d->ddls));
				if (d->missing > 0)
					json_object_set_new(w, "missing_rows",
					    json_integer((json_int_t)d->missing));
				if (d->last_ts > 0)
					json_object_set_new(w, "last_ts",
					    json_integer((json_int_t)d->last_ts));
			}
			rc = put_with_ack(a, t, s, w, 1, d->gtid, NULL, d->at);
			json_decref(w);
		}
	}
	snprintf(buf, sizeof buf, "%" PRIu64, a->done[a->ndone - 1].to);
	if (rc == 0)
		rc = ledger_meta_put(t, "last_applied_seq", buf);
	if (rc != 0) {
		ledger_txn_abort(t);
		return ledger_fail(a, "applied wagons", rc);
	}
	if ((rc = ledger_txn_commit(t)) != 0)
		return ledger_fail(a, "applied wagons", rc);
	for (size_t i = 0; i < a->ndone; i++) {
		move_done(a, a->done[i].from, a->done[i].to);
		for (uint64_t s = a->done[i].from; s <= a->done[i].to; s++)
			acks_enqueue(a->acks, s);
	}
	a->ndone = 0;
	return S_PROGRESS;
}

/* The wagon failed: returns its attempts so far and whether it is dead
 * (never when transient: the target is out of space, db_full, or the
 * wagon met deadlocks or lock wait timeouts past its immediate retries:
 * failures that pass, srdf-apply(1) "Failures, retries, the dead
 * letter"). */
static int
record_failed(struct applier *a, uint64_t seq, const char *msg,
    int transient, int *attempts, int *dead)
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
static void
ddl_mark(void *arg, struct wagon *wg, int i, int done)
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
	if (rc != 0 || (rc = ledger_txn_commit(t)) != 0) {
		if (rc != 0)
			ledger_txn_abort(t);
		log_err("cannot record DDL progress of wagon %" PRIu64 ": %s",
		    wg->seq, ledger_strerror(rc));
	}
}

/* A DDL wagon that failed on a worker, the server's error and not a lost
 * connection: its DDL did not run, and when it goes again alone its
 * error is its own, not a crash's (as record_failed does). */
static void
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
	if (rc != 0 || ledger_txn_commit(t) != 0) {
		if (rc != 0)
			ledger_txn_abort(t);
		log_err("cannot record DDL progress of wagon %" PRIu64, seq);
	}
}

static void
ddl_progress(struct applier *a, struct wagon *wg)
{
	struct ledger_txn *t;
	json_t *w = NULL;

	if (a->l == NULL || ledger_txn_begin(a->l, LEDGER_RDONLY, &t) != 0)
		return;
	if (ledger_wagon_get(t, wg->seq, &w) == 0 && w != NULL) {
		wg->ddl_done = (int)json_integer_value(
		    json_object_get(w, "ddl_done"));
		wg->ddl_inflight = (int)json_integer_value(
		    json_object_get(w, "ddl_inflight"));
	}
	json_decref(w);
	ledger_txn_abort(t);
}

/* ---- start: source, checkpoint, reconcile, skip ------------------------ */

/* The wagons after the ledger's last applied one (L) and up to the
 * checkpoint that the ledger does not know as applied: arg is
 * {checkpoint, count, seq...}. */
static void
lag_add(uint64_t **v, uint64_t seq)
{
	size_t n = (size_t)(*v)[1];

	for (size_t i = 0; i < n; i++)
		if ((*v)[2 + i] == seq)
			return;
	if ((*v = realloc(*v, (n + 3) * sizeof **v)) == NULL)
		die(EX_OSERR, "out of memory");
	(*v)[2 + n] = seq;
	(*v)[1] = n + 1;
}

static int
collect_lagging(uint64_t seq, json_t *w, void *arg)
{
	uint64_t **v = arg;
	const char *st = json_string_value(json_object_get(w, "state"));

	if (seq > (*v)[0])
		return 1;
	if (st != NULL && (strcmp(st, "received") == 0 ||
	                      strcmp(st, "failed") == 0 ||
	                      strcmp(st, "dead") == 0))
		lag_add(v, seq);
	return 0;
}

/* Brings the ledger and the inbox level with the checkpoint. */
static int
reconcile(struct applier *a)
{
	struct ledger_txn *t;
	uint64_t L = 0, *lag;
	char *v = NULL, buf[24];
	size_t n;
	int rc;

	if (a->cf->dry_run)
		return S_PROGRESS;
	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0 ||
	    (rc = ledger_meta_get(t, "last_applied_seq", &v)) != 0) {
		ledger_txn_abort(t);
		return ledger_fail(a, "the checkpoint", rc);
	}
	if (v != NULL && parse_u64(v, &L) != 0)
		L = 0;
	free(v);
	if ((lag = calloc(2, sizeof *lag)) == NULL)
		die(EX_OSERR, "out of memory");
	lag[0] = a->cp.seq;
	if (L < a->cp.seq &&
	    (rc = ledger_wagon_foreach(t, L + 1, collect_lagging, &lag)) != 0 &&
	    rc != 1) {
		free(lag);
		ledger_txn_abort(t);
		return ledger_fail(a, "the checkpoint", rc);
	}
	/* ... and those still in new/: a crash came after their COMMIT and
	 * before the ledger (the move to cur/ comes last). */
	if (L < a->cp.seq) {
		char **names;
		size_t k;

		if (spool_list(a->cf->inbox, "new", &names, &k) == 0) {
			for (size_t i = 0; i < k; i++) {
				uint64_t s = wagon_name_seq(names[i]);

				if (s > L && s <= a->cp.seq)
					lag_add(&lag, s);
			}
			spool_list_free(names, k);
		}
	}
	n = (size_t)lag[1];
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *w = wrec(t, lag[2 + i], &rc);

		if (w == NULL)
			break;
		audit_wagon(0, lag[2 + i], json_string_value(json_object_get(w,
		    "state")), "applied", "committed before a crash");
		json_object_set_new(w, "state", json_string("applied"));
		json_object_set_new(w, "applied_at", json_real(clock_wall()));
		json_object_del(w, "last_error");
		rc = put_with_ack(a, t, lag[2 + i], w, 1,
		    lag[2 + i] == a->cp.seq ? a->cp.last_gtid : NULL, NULL,
		    clock_wall());
		json_decref(w);
	}
	if (L > a->cp.seq)
		log_warn("the target's checkpoint is at wagon %" PRIu64 ", the "
		    "ledger says %" PRIu64 " were applied: the target lost "
		    "commits; applying again from %" PRIu64, a->cp.seq, L,
		    a->cp.seq + 1);
	snprintf(buf, sizeof buf, "%" PRIu64, a->cp.seq);
	if (rc == 0 && L != a->cp.seq)
		rc = ledger_meta_put(t, "last_applied_seq", buf);
	if (rc != 0 || (rc = ledger_txn_commit(t)) != 0) {
		if (rc != 0)
			ledger_txn_abort(t);
		free(lag);
		return ledger_fail(a, "the checkpoint", rc);
	}
	if (n > 0)
		log_notice("recorded %zu wagon%s up to %" PRIu64 " as applied: "
		    "the target committed them before a crash", n,
		    n == 1 ? "" : "s", a->cp.seq);
	for (size_t i = 0; i < n; i++)
		acks_enqueue(a->acks, lag[2 + i]);
	free(lag);
	look_inbox(a, 0);
	return S_PROGRESS;
}

/* --skip SEQ: the checkpoint moves past wagon SEQ, which is not applied. */
static int
skip(struct applier *a)
{
	uint64_t s = a->cf->skip;
	char name[WAGON_NAME_LEN], path[PATH_MAX], msg[256];
	struct ledger_txn *t;
	json_t *w;
	int rc;

	a->skip_done = 1;
	if (flush_applied(a) == S_FATAL)
		return S_FATAL;
	if (s <= a->cp.seq) {
		log_notice("--skip %" PRIu64 ": the checkpoint is already at "
		    "%" PRIu64 ": nothing to skip", s, a->cp.seq);
		return S_PROGRESS;
	}
	if (s != a->cp.seq + 1) {
		log_err("--skip %" PRIu64 ": only the next wagon, %" PRIu64 ", "
		    "can be skipped (the checkpoint is at %" PRIu64 ")", s,
		    a->cp.seq + 1, a->cp.seq);
		a->fatal = EX_USAGE;
		return S_FATAL;
	}
	snprintf(msg, sizeof msg, "skipped by the operator (srdf-apply --skip "
	    "%" PRIu64 "): not applied", s);
	if (a->cf->dry_run) {
		printf("-- wagon %" PRIu64 ": skipped (--skip)\n", s);
		db_commit_at(&a->db, a->src, a->cp.seq, s, NULL, NULL, NULL,
		    NULL, 0);
		a->cp.seq = s;
		a->next = s + 1;
		return S_PROGRESS;
	}
	if ((rc = db_commit_at(&a->db, a->src, a->cp.seq, s, NULL, NULL,
	         NULL, NULL, 0)) != DB_OK) {
		db_rollback(&a->db);
		log_err("--skip %" PRIu64 ": %s", s, a->db.err);
		if (rc == DB_GONE)
			return S_GONE;
		a->fatal = EX_UNAVAILABLE;
		return S_FATAL;
	}
	a->cp.seq = s;
	a->next = s + 1;
	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0 ||
	    (w = wrec(t, s, &rc)) == NULL) {
		ledger_txn_abort(t);
		return ledger_fail(a, "the skipped wagon", rc);
	}
	audit_wagon(AUDIT_OPERATOR, s, json_string_value(json_object_get(w,
	    "state")), "dead", "%s", msg);
	json_object_set_new(w, "state", json_string("dead"));
	json_object_set_new(w, "skipped", json_true());
	json_object_set_new(w, "skipped_at", json_real(clock_wall()));
	rc = put_with_ack(a, t, s, w, 0, NULL, msg, clock_wall());
	json_decref(w);
	snprintf(name, sizeof name, "%" PRIu64, s);
	if (rc == 0)
		rc = ledger_meta_put(t, "last_applied_seq", name);
	if (rc != 0 || (rc = ledger_txn_commit(t)) != 0) {
		if (rc != 0)
			ledger_txn_abort(t);
		return ledger_fail(a, "the skipped wagon", rc);
	}
	acks_enqueue(a->acks, s);
	wagon_name(s, name);
	snprintf(path, sizeof path, "%s/new/%s", a->cf->inbox, name);
	if (access(path, F_OK) == 0)
		spool_bad(a->cf->inbox, "new", name, msg);
	log_warn("skipped wagon %" PRIu64 " at the operator's request: its "
	    "changes are NOT on the target", s);
	if (a->fail_seq == s)
		a->fail_seq = 0;
	return S_PROGRESS;
}

/* Between the seconds of the apply lock's wait: ACKs go on, the
 * heartbeat says the process lives, a signal ends the wait. */
static int
lock_waiting(void *arg)
{
	struct applier *a = arg;

	acks_pump(a->acks);
	heartbeat_beat(0, NULL);
	return stopping;
}

/* At start and after every reconnection: the source id (the ledger's,
 * or the first wagon's, once), the checkpoint, reconcile, --skip. */
static int
start_source(struct applier *a)
{
	char **names, err[512];
	size_t n;
	int rc;

	if (a->src[0] == '\0' && a->l != NULL) {
		struct ledger_txn *t;
		char *v = NULL;

		if (ledger_txn_begin(a->l, LEDGER_RDONLY, &t) == 0) {
			if (ledger_meta_get(t, "source_id", &v) == 0 &&
			    v != NULL && strlen(v) == 32)
				memcpy(a->src, v, 33);
			free(v);
			ledger_txn_abort(t);
		}
	}
	if (a->src[0] == '\0') {
		if (spool_list(a->cf->inbox, "new", &names, &n) != 0) {
			a->fatal = EX_IOERR;
			return S_FATAL;
		}
		for (size_t i = 0; i < n && a->src[0] == '\0'; i++) {
			struct wagon_header h;
			uint8_t *p;
			size_t len;

			if (wagon_name_seq(names[i]) == 0 ||
			    map_file(a->cf, "new", names[i], &p, &len, err,
			        sizeof err) != 0)
				continue;
			if (wagon_peek(p, len, &h, err, sizeof err) == 0)
				src_hex(h.source_id, a->src);
			munmap(p, len ? len : 1);
		}
		spool_list_free(names, n);
		if (a->src[0] == '\0')
			return S_IDLE;
		if (a->l != NULL) {
			struct ledger_txn *t;

			if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0 ||
			    (rc = ledger_meta_put(t, "source_id", a->src)) != 0 ||
			    (rc = ledger_txn_commit(t)) != 0) {
				ledger_txn_abort(t);
				return ledger_fail(a, "the source id", rc);
			}
		}
		audit_source(a->src);
		log_info("applying the wagons of source %s", a->src);
	}
	if ((rc = db_apply_lock(&a->db, a->src, APPLY_LOCK_WAIT_S,
	         lock_waiting, a)) != DB_OK ||
	    (rc = db_checkpoint_init(&a->db, a->src, &a->cp)) != DB_OK) {
		if (stopping)
			return S_IDLE;
		log_err("%s", a->db.err);
		if (rc == DB_GONE)
			return S_GONE;
		a->fatal = mdb_exit_for(a->db.errnum);
		return S_FATAL;
	}
	if (!a->triggers_upgraded) {
		if ((rc = db_triggers_upgrade(&a->db)) == DB_GONE) {
			log_err("%s", a->db.err);
			return S_GONE;
		}
		if (rc != DB_OK)
			log_warn("%s: triggers that an earlier srdf-apply "
			    "guarded with @srdf_apply keep that guard, which "
			    "any session can set", a->db.err);
		a->triggers_upgraded = 1;
	}
	a->next = a->cp.seq + 1;
	a->open = 0;
	if ((rc = db_xa_min(&a->db, a->src, &a->xa_min)) != DB_OK) {
		log_err("%s", a->db.err);
		if (rc == DB_GONE)
			return S_GONE;
		a->fatal = mdb_exit_for(a->db.errnum);
		return S_FATAL;
	}
	if ((rc = reconcile(a)) != S_PROGRESS)
		return rc;
	if (a->cf->has_skip && !a->skip_done &&
	    (rc = skip(a)) != S_PROGRESS)
		return rc;
	log_info("target checkpoint: wagon %" PRIu64 "%s%s", a->cp.seq,
	    a->cp.last_gtid[0] ? ", GTID " : "", a->cp.last_gtid);
	a->ready = 1;
	return S_PROGRESS;
}

/* ---- one wagon --------------------------------------------------------- */

static int
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
		    "policy allows %d): %s", seq, attempts, a->cf->nretry + 1,
		    msg);
	a->fail_seq = seq;
	a->fail_attempts = attempts;
	a->dead = dead;
	if (dead && !a->cf->dry_run)
		log_err("wagon %" PRIu64 " is dead-lettered: srdf-apply stops "
		    "here rather than skip it; fix the cause and send SIGHUP "
		    "(or restart), or skip it with --skip %" PRIu64 " (its "
		    "changes will then be missing on the target)", seq, seq);
	else if (!dead) {
		/* Out of space, locks: past the schedule, its last wait
		 * (or a minute) again and again. */
		if (attempts <= a->cf->nretry)
			delay = a->cf->retry_ms[attempts - 1];
		else if (a->cf->nretry > 0)
			delay = a->cf->retry_ms[a->cf->nretry - 1];
		else
			delay = FULL_RETRY_MS;
		a->fail_due = clock_mono_ms() + delay;
		if (!a->cf->once)
			log_notice("retrying wagon %" PRIu64 " in %lld s", seq,
			    delay / 1000);
	}
	return S_FAILED;
}

/* Wagons up to seq are committed on the target (the chunks of its group
 * from `first' on): the applier's view, the ledger (in batches, see
 * note_applied), the log.  worker: the parallel connection, or 0. */
static int
committed(struct applier *a, uint64_t seq, uint64_t first,
    const struct wagon *w, uint64_t missing, long long t0, int worker)
{
	uint64_t from;
	int rc;

	/* A crash from here on leaves the ledger behind the checkpoint:
	 * reconcile() repairs that at the next start. */
	if (a->crash_after > 0 && ++a->commits == a->crash_after) {
		log_notice("SRDF_APPLY_CRASH_AFTER_COMMIT: exiting after the "
		    "COMMIT of wagon %" PRIu64, seq);
		_exit(137);
	}
	from = a->cp.seq + 1;
	a->cp.seq = seq;
	snprintf(a->cp.last_gtid, sizeof a->cp.last_gtid, "%s", w->last_gtid);
	a->open = 0;
	if (a->fail_seq != 0 && a->fail_seq <= seq) {
		log_notice("wagon %" PRIu64 " applied after %d failed "
		    "attempt%s", a->fail_seq, a->fail_attempts,
		    a->fail_attempts == 1 ? "" : "s");
		a->fail_seq = 0;
		a->dead = 0;
	}
	a->napplied += seq - from + 1;
	note_applied(a, from, seq, first, w, missing);
	rc = S_PROGRESS;
	if (a->ndone >= LEDGER_BATCH || clock_mono_ms() - a->done_since >= LEDGER_LAG_MS)
		rc = flush_applied(a);
	if (worker > 0)
		log_info("applied wagon %" PRIu64 " on connection %d: %" PRIu64
		    " row change%s, GTID %s, %lld ms", seq, worker, w->rows,
		    w->rows == 1 ? "" : "s", w->last_gtid,
		    clock_mono_ms() - t0);
	else
		log_info("%s wagon %" PRIu64 "%s: %s%" PRIu64 " row change%s, "
		    "GTID %s, %lld ms", a->cf->dry_run ? "printed" : "applied",
		    seq, first < seq ? " (last chunk)" : "",
		    w->ddls ? "DDL and " : "", w->rows, w->rows == 1 ? "" : "s",
		    w->last_gtid, clock_mono_ms() - t0);
	return rc;
}

/* ---- parallel apply (par.c) ------------------------------------------- */

/* ---- reading ahead ----------------------------------------------------- */

static void *
prefetch_main(void *arg)
{
	struct applier *a = arg;
	struct wagon w;
	char err[1024];
	sigset_t all;
	uint64_t seq;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&a->pf_mu);
	for (;;) {
		while (!a->pf_quit && a->pf_want == 0)
			pthread_cond_wait(&a->pf_cv, &a->pf_mu);
		if (a->pf_quit)
			break;
		seq = a->pf_want;
		a->pf_want = 0;
		a->pf_busy = 1;
		pthread_mutex_unlock(&a->pf_mu);
		/* Only a wagon that opens is kept: one that is missing or
		 * bad is read again, and reported, by the main thread. */
		if (load(a, seq, &w, err, sizeof err) != 0)
			wagon_free(&w);
		pthread_mutex_lock(&a->pf_mu);
		wagon_free(&a->pf_w);
		a->pf_w = w;
		a->pf_busy = 0;
		pthread_cond_broadcast(&a->pf_cv);
	}
	pthread_mutex_unlock(&a->pf_mu);
	return NULL;
}

/* Asks the reading thread for wagon seq (started on first use). */
static void
prefetch(struct applier *a, uint64_t seq)
{
	if (!a->pf_started) {
		json_object_seed(0);
		pthread_mutex_init(&a->pf_mu, NULL);
		pthread_cond_init(&a->pf_cv, NULL);
		if (pthread_create(&a->pf_th, NULL, prefetch_main, a) != 0)
			return; /* then every wagon is read when it is due */
		a->pf_started = 1;
	}
	pthread_mutex_lock(&a->pf_mu);
	a->pf_want = seq;
	pthread_cond_signal(&a->pf_cv);
	pthread_mutex_unlock(&a->pf_mu);
}

/* Wagon seq from the reading thread into w (0), or 1 when it has not
 * got it: it then reads nothing more until asked again. */
static int
prefetched(struct applier *a, uint64_t seq, struct wagon *w)
{
	int rc = 1;

	if (!a->pf_started)
		return 1;
	pthread_mutex_lock(&a->pf_mu);
	if (a->pf_want == seq)
		a->pf_want = 0;
	while (a->pf_busy)
		pthread_cond_wait(&a->pf_cv, &a->pf_mu);
	if (a->pf_w.records != NULL && a->pf_w.seq == seq) {
		*w = a->pf_w;
		memset(&a->pf_w, 0, sizeof a->pf_w);
		rc = 0;
	}
	a->pf_want = 0;
	wagon_free(&a->pf_w);
	pthread_mutex_unlock(&a->pf_mu);
	return rc;
}

static void
prefetch_stop(struct applier *a)
{
	if (!a->pf_started)
		return;
	pthread_mutex_lock(&a->pf_mu);
	a->pf_quit = 1;
	pthread_cond_signal(&a->pf_cv);
	pthread_mutex_unlock(&a->pf_mu);
	pthread_join(a->pf_th, NULL);
	wagon_free(&a->pf_w);
	a->pf_started = 0;
}

/* Whether w lies within srdf-bootstrap's window (applied idempotently,
 * so alone). */
static int
in_window(const struct applier *a, const struct wagon *w)
{
	return !(w->h.flags & WAGON_F_BOOTSTRAP) &&
	    (gtid_within(w->h.first_gtid, a->cp.bootstrap_pos) ||
	    (a->par != NULL && par_inflight(a->par) > 0 && a->disp_bpos != NULL &&
	    gtid_within(w->h.first_gtid, a->disp_bpos)));
}

/* srdf-apply(1), "Parallel apply": where wagon w goes.
 *	0  alone, on the main connection, once the jobs in flight are done;
 *	1  to a worker, now;
 *	2  to a worker, once a job in flight is done;
 *	3  rows with nothing in flight: to a worker if a DDL wagon follows
 *	   (lone_parallel).
 * srdf-bootstrap's row wagons always go to workers; other wagons of rows
 * and DDL wagons when the tables they touch are known, whole groups,
 * outside the bootstrap window, while no wagon is failing; a wagon of
 * rows never beside one in flight that touches one of its tables. */
static int
sched(struct applier *a, const struct wagon *w)
{
	struct par_job dummy;
	int boot_rows, inflight, rows;

	if (a->cf->parallel < 2 || a->cf->dry_run || a->par_broken ||
	    a->open || a->fail_seq != 0 || w->seq <= a->par_off_until ||
	    w->chunk != 1 || !w->last)
		return 0;
	boot_rows = (w->h.flags & WAGON_F_BOOTSTRAP) && !w->has_ddl;
	inflight = a->par != NULL && par_inflight(a->par) > 0;
	if (!boot_rows && (w->tabs_all || in_window(a, w) ||
	    (w->snapshot != NULL && !(w->h.flags & WAGON_F_BOOTSTRAP))))
		return 0;
	if (!inflight)
		return boot_rows || w->has_ddl ? (boot_rows ? 1 : 0) : 3;
	if ((rows = par_deps(a->par, w, &dummy)) < 0)
		return 0;
	if (!w->has_ddl && rows > 0 && !boot_rows)
		return 0;
	if (par_full(a->par) || (!w->has_ddl &&
	    par_rows_inflight(a->par) >= (size_t)a->cf->parallel))
		return 2;
	return 1;
}

/* A wagon of rows with no job in flight goes to a worker when the next
 * wagon is a DDL wagon already in the inbox: what follows that DDL may
 * then run beside it (a table loaded, its index built, the next table
 * created and loaded).  The next wagon is kept in a->held. */
static int
lone_parallel(struct applier *a, const struct wagon *w)
{
	char err[1024];
	struct wagon x;
	int rc;

	if (a->held.records == NULL || a->held.seq != w->seq + 1) {
		wagon_free(&a->held);
		if ((rc = prefetched(a, w->seq + 1, &x)) != 0)
			rc = load(a, w->seq + 1, &x, err, sizeof err);
		if (rc != 0) {
			wagon_free(&x);
			return 0;
		}
		a->held = x;
	}
	return a->held.has_ddl && !a->held.tabs_all;
}

/* Takes the oldest finished job, waiting for it (the heartbeat and the
 * ACKs go on meanwhile).  A failed one breaks the run: the rest are
 * drained without being counted, and once none is left the checkpoint
 * is read again (start_source), since it is the truth of what committed;
 * the failed wagon then goes alone, with the usual retries. */
static int
par_take(struct applier *a)
{
	struct par_job *j;
	int rc = S_PROGRESS;

	while ((j = par_collect(a->par, HEARTBEAT_INTERVAL_MS)) == NULL) {
		if (par_inflight(a->par) == 0)
			return S_PROGRESS;
		heartbeat_beat(a->cp.seq, a->cp.last_gtid[0] ? a->cp.last_gtid
		    : NULL);
		acks_pump(a->acks);
	}
	if (j->rc == DB_OK && j->w.has_ddl) /* a DDL ran on a worker */
		db_tables_forget(&a->db);
	if (j->rc == DB_OK && !a->par_broken) {
		if (j->bootstrap_pos != NULL) {
			free(a->cp.bootstrap_pos);
			a->cp.bootstrap_pos = j->bootstrap_pos;
			j->bootstrap_pos = NULL;
		}
		rc = committed(a, j->w.seq, j->w.seq, &j->w, j->missing, j->t0,
		    j->worker);
	} else if (!a->par_broken) {
		log_notice("wagon %" PRIu64 " failed on parallel connection %d: "
		    "%s; it is applied again alone", j->w.seq, j->worker,
		    j->err);
		if (j->w.has_ddl && j->rc != DB_GONE)
			ddl_forget_inflight(a, j->w.seq);
		a->par_broken = 1;
		a->par_off_until = a->disp_seq;
	}
	par_job_free(j);
	if (a->par_broken && par_inflight(a->par) == 0) {
		a->par_broken = 0;
		a->ready = 0;
		if (rc != S_FATAL)
			rc = flush_applied(a);
	}
	return rc;
}

static int
par_drain(struct applier *a)
{
	int rc = S_PROGRESS;

	while (a->par != NULL && par_inflight(a->par) > 0)
		if (par_take(a) == S_FATAL)
			rc = S_FATAL;
	return rc;
}

/* Hands wagon w (its buffers too) to a worker; one is free. */
static int
dispatch(struct applier *a, struct wagon *w)
{
	struct par_job *j = xcalloc(1, sizeof *j);

	/* The workers start with the first such wagon and stop with the
	 * first wagon that goes alone: a daemon that applies what capture
	 * reads runs no thread of them. */
	if (a->par == NULL) /* and two for DDL wagons waiting their turn */
		a->par = par_new(a->cf, a->cf->parallel + 2);
	if (par_inflight(a->par) == 0) {
		a->disp_seq = a->cp.seq;
		free(a->disp_bpos);
		a->disp_bpos = a->cp.bootstrap_pos != NULL ?
		    xstrdup(a->cp.bootstrap_pos) : NULL;
	}
	par_deps(a->par, w, j);
	j->rows_job = !w->has_ddl;
	if (w->has_ddl) {
		j->mark = ddl_mark;
		j->mark_arg = a;
		ddl_progress(a, w);
	}
	j->w = *w;
	j->from = a->disp_seq;
	if (w->snapshot != NULL) {
		j->bootstrap_pos = gtid_merge(a->disp_bpos, w->snapshot);
		free(a->disp_bpos);
		a->disp_bpos = j->bootstrap_pos != NULL ?
		    xstrdup(j->bootstrap_pos) : NULL;
	}
	a->disp_seq = w->seq;
	a->next = w->seq + 1;
	par_submit(a->par, a->src, j);
	return S_PROGRESS;
}

/* ---- applying a backlog: wagons merged ------------------------------- */

/* srdf-apply(1), "Applying a backlog": a whole group of rows only, not
 * srdf-bootstrap's nor within its window, while nothing is failing. */
static int
merge_ok(const struct applier *a, const struct wagon *w)
{
	return a->cf->merge_bytes > 0 && !a->cf->dry_run && !a->open &&
	    a->fail_seq == 0 && w->seq > a->merge_off_until &&
	    w->chunk == 1 && w->last && !w->has_ddl && w->snapshot == NULL &&
	    w->xa == XA_NONE &&
	    !(w->h.flags & WAGON_F_BOOTSTRAP) &&
	    !gtid_within(w->h.first_gtid, a->cp.bootstrap_pos);
}

/* The wagons after w that are in the inbox already and may go with it,
 * into more[] (at most MERGE_MAX - 1); the first that may not is kept
 * in a->held.  A wagon missing or unreadable ends the run: its turn
 * comes next, alone, and reports it.  Returns how many. */
static size_t
gather(struct applier *a, const struct wagon *w, struct wagon *more)
{
	unsigned long long bytes = w->len;
	char err[1024];
	size_t n = 0;
	uint64_t seq = w->seq + 1;
	int rc;

	while (n < MERGE_MAX - 1) {
		struct wagon x;

		if (a->held.records != NULL && a->held.seq == seq) {
			x = a->held;
			memset(&a->held, 0, sizeof a->held);
			rc = 0;
		} else if ((rc = prefetched(a, seq, &x)) != 0)
			rc = load(a, seq, &x, err, sizeof err);
		if (rc != 0) {
			wagon_free(&x);
			break;
		}
		if (!merge_ok(a, &x) || bytes + x.len > a->cf->merge_bytes) {
			a->held = x;
			break;
		}
		bytes += x.len;
		more[n++] = x;
		seq++;
	}
	if (a->held.records == NULL)
		prefetch(a, seq);
	return n;
}

/* w and more[0..n-1] in one transaction with the last one's checkpoint.
 * A failure of any kind but a lost connection rolls back and applies
 * them one by one (a->merge_off_until), w first, so that a failing wagon
 * is told apart, retried and reported on its own. */
static int
apply_merged(struct applier *a, struct wagon *w, struct wagon *more, size_t n,
    long long t0)
{
	struct wagon *ws[MERGE_MAX], *z = &more[n - 1];
	uint64_t rows = 0;
	int rc;

	ws[0] = w;
	for (size_t i = 0; i < n; i++)
		ws[i + 1] = &more[i];
	rc = engine_run_many(&a->db, ws, n + 1, ddl_mark, a);
	if (rc == DB_OK)
		rc = db_commit_at(&a->db, a->src, a->cp.seq, z->seq,
		    z->last_gtid, z->gtid_pos, NULL, NULL, z->last_ts);
	if (rc != DB_OK) {
		db_rollback(&a->db);
		a->next = a->cp.seq + 1;
		for (size_t i = 0; i < n; i++)
			wagon_free(&more[i]);
		if (rc == DB_GONE) {
			wagon_free(w);
			log_warn("wagons %" PRIu64 "..%" PRIu64 ": %s", w->seq,
			    z->seq, a->db.err);
			return S_GONE;
		}
		log_notice("wagons %" PRIu64 "..%" PRIu64 " in one transaction: "
		    "%s; applying them one by one", w->seq, z->seq,
		    rc == DB_SPLIT ? "a table of theirs is the parent of a "
		    "cascading foreign key" : a->db.err);
		a->merge_off_until = z->seq;
		wagon_free(&a->held);
		a->held = *w;
		return S_PROGRESS;
	}
	a->immediate = 0;
	for (size_t i = 0; i <= n; i++)
		rows += ws[i]->rows;
	log_info("wagons %" PRIu64 "..%" PRIu64 " applied in one transaction "
	    "(a backlog, its row changes folded together): %" PRIu64 " row "
	    "changes, %lld ms", w->seq, z->seq, rows, clock_mono_ms() - t0);
	rc = S_PROGRESS;
	for (size_t i = 0; i <= n && rc != S_FATAL; i++) {
		a->next = ws[i]->seq + 1;
		rc = committed(a, ws[i]->seq, ws[i]->seq, ws[i],
		    i == n ? a->db.missing : 0, t0, 0);
	}
	for (size_t i = 0; i <= n; i++)
		wagon_free(ws[i]);
	return rc;
}

/* srdf-apply(1), "XA transactions".  MariaDB logs an XA transaction's
 * rows when it is prepared, and its XA COMMIT or XA ROLLBACK later, as
 * groups of their own.  The source holds the prepared rows' locks until
 * the outcome, so nothing else changes them in between: applying them
 * with the XA COMMIT's wagon gives the target what the source shows.
 * The prepared group (wagons first..w) only records its wagons in
 * srdf.xa_pending; the XA COMMIT runs them from the inbox and removes
 * the row; the XA ROLLBACK removes it.  Each in the transaction of the
 * checkpoint.  A DB_* code, with a->db.err on DB_FAIL. */
static int
apply_xa(struct applier *a, struct wagon *w, uint64_t first)
{
	uint64_t p0, p1;
	int rc;

	if (w->xa == XA_PREPARED) {
		if (!w->last)
			return DB_OK;
		if (first == w->seq)
			log_notice("wagon %" PRIu64 ": XA transaction %s was "
			    "prepared on the source: its rows wait for its XA "
			    "COMMIT", w->seq, w->xid);
		else
			log_notice("wagons %" PRIu64 "..%" PRIu64 ": XA "
			    "transaction %s was prepared on the source: its "
			    "rows wait for its XA COMMIT", first, w->seq, w->xid);
		return db_xa_put(&a->db, a->src, w->xid, first, w->seq);
	}
	if (a->cf->dry_run) {
		printf("-- XA %s %s: %s\n", w->xa == XA_COMMIT ? "COMMIT" :
		    "ROLLBACK", w->xid, w->xa == XA_COMMIT ? "the rows of its "
		    "prepared wagons (srdf.xa_pending) are applied here" :
		    "its prepared rows are dropped");
		return DB_OK;
	}
	if ((rc = db_xa_get(&a->db, a->src, w->xid, &p0, &p1)) != DB_OK)
		return rc;
	if (w->xa == XA_ROLLBACK) {
		log_notice("wagon %" PRIu64 ": XA ROLLBACK %s on the source: %s",
		    w->seq, w->xid, p0 ? "its prepared rows are dropped" :
		    "nothing of it was pending");
		return p0 ? db_xa_del(&a->db, a->src, w->xid) : DB_OK;
	}
	if (p0 == 0) {
		snprintf(a->db.err, sizeof a->db.err, "XA COMMIT %s: its "
		    "prepared rows are not pending on the target "
		    "(srdf.xa_pending): it was prepared before the GTID "
		    "position srdf-capture started from, or its wagon was "
		    "skipped; the target lacks them (copy them by hand, then "
		    "--skip this wagon)", w->xid);
		a->db.errnum = 0;
		return DB_FAIL;
	}
	for (uint64_t s = p0; s <= p1 && rc == DB_OK; s++) {
		struct wagon pw;
		char err[1024];

		if (load_wagon(a, s, &pw, err, sizeof err, 0) != 0) {
			snprintf(a->db.err, sizeof a->db.err, "XA COMMIT %s: "
			    "wagon %" PRIu64 " of its prepared rows cannot be "
			    "read: %s", w->xid, s, err);
			a->db.errnum = 0;
			wagon_free(&pw);
			return DB_FAIL;
		}
		pw.xa = XA_PREPARED;
		pw.idem = w->idem;
		if ((rc = engine_run(&a->db, &pw, NULL, NULL)) == DB_OK)
			rc = db_flush(&a->db);
		w->rows += pw.rows;
		wagon_free(&pw);
	}
	if (rc == DB_OK)
		rc = db_xa_del(&a->db, a->src, w->xid);
	if (rc == DB_OK)
		log_notice("wagon %" PRIu64 ": XA COMMIT %s: the %" PRIu64 " row "
		    "change(s) prepared in wagon%s %" PRIu64 "%s applied",
		    w->seq, w->xid, w->rows, p0 == p1 ? "" : "s", p0,
		    p0 == p1 ? "" : " and after");
	return rc;
}

static int
step(struct applier *a)
{
	struct wagon w;
	uint64_t seq = a->next, first;
	long long t0 = clock_mono_ms();
	char err[1024], *newpos = NULL, *newredo = NULL;
	struct redo_list redo = {0};
	int rc;

	if (!a->ready && (rc = start_source(a)) != S_PROGRESS)
		return rc;
	seq = a->next;
	if (!a->open && a->fail_seq != 0 && (a->dead || t0 < a->fail_due))
		return S_WAIT;
	if (a->held.records != NULL && a->held.seq == seq) {
		w = a->held;
		memset(&a->held, 0, sizeof a->held);
		rc = 0;
	} else {
		wagon_free(&a->held);
		if ((rc = prefetched(a, seq, &w)) != 0)
			rc = load(a, seq, &w, err, sizeof err);
	}
	/* The next one is read while this one is applied. */
	if (rc == 0)
		prefetch(a, seq + 1);
	if (a->par != NULL && par_inflight(a->par) > 0) {
		/* A wagon that goes alone waits for all those before it;
		 * one that goes in parallel, for a free worker. */
		int k = rc == 0 ? sched(a, &w) : 0;

		if (k == 1)
			return dispatch(a, &w);
		if (rc == 0)
			a->held = w;
		else
			wagon_free(&w);
		return k == 2 ? par_take(a) : par_drain(a);
	}
	if (rc == 1) {
		wagon_free(&w);
		look_inbox(a, 1);
		return S_IDLE;
	}
	a->gap_logged = 0;
	if (rc == 0) {
		int k = sched(a, &w);

		if (k == 3)
			k = lone_parallel(a, &w);
		if (k == 1)
			return dispatch(a, &w);
	}
	if (a->par != NULL) {
		par_free(a->par);
		a->par = NULL;
	}
	if (rc < 0) {
		wagon_free(&w);
		if (a->open) {
			db_rollback(&a->db);
			a->open = 0;
			a->next = a->cp.seq + 1;
		}
		return failed(a, seq, err, 0);
	}

	/* A backlog: the wagons waiting after this one go with it. */
	if (merge_ok(a, &w)) {
		struct wagon *more = xcalloc(MERGE_MAX, sizeof *more);
		size_t n = gather(a, &w, more);

		if (n > 0) {
			rc = apply_merged(a, &w, more, n, t0);
			free(more);
			return rc;
		}
		free(more);
	}

	/* Chunks: a group's transaction stays open until its last one. */
	if (w.chunk == 1) {
		if (a->open) {
			log_warn("group %" PRIu64 " was abandoned upstream after "
			    "chunk %" PRIu32 " (wagons %" PRIu64 "..%" PRIu64 "): "
			    "rolled back; its changes come again in later "
			    "wagons", a->open_group, a->open_chunk,
			    a->open_first, seq - 1);
			db_rollback(&a->db);
			a->open = 0;
		}
		first = seq;
	} else if (!a->open || a->open_group != w.group ||
	           w.chunk != a->open_chunk + 1) {
		if (a->open) {
			snprintf(err, sizeof err, "chunk %" PRIu32 " of group "
			    "%" PRIu64 " while chunk %" PRIu32 " of group %"
			    PRIu64 " is open", w.chunk, w.group, a->open_chunk,
			    a->open_group);
			db_rollback(&a->db);
			a->open = 0;
			a->next = a->cp.seq + 1;
		} else
			snprintf(err, sizeof err, "chunk %" PRIu32 " of group "
			    "%" PRIu64 " without the chunks before it (was one "
			    "skipped? skip the rest of the group too)", w.chunk,
			    w.group);
		wagon_free(&w);
		return failed(a, seq, err, 0);
	} else
		first = a->open_first;
	/* The chunks between the first and the last of an XA PREPARE
	 * group carry no XA record of their own. */
	if (w.chunk > 1 && a->open_xid != NULL && w.xa == XA_NONE) {
		w.xa = XA_PREPARED;
		w.xid = xstrdup(a->open_xid);
	}

	if (a->cf->dry_run)
		printf("-- wagon %" PRIu64 ": group %" PRIu64 " chunk %" PRIu32
		    "%s, GTID %s..%s\n", seq, w.group, w.chunk,
		    w.last ? " (last)" : "", w.h.first_gtid, w.h.last_gtid);
	ddl_progress(a, &w);
	/* srdf-bootstrap(1), "What srdf-apply does with it": changes the
	 * copy may already hold are applied idempotently. */
	w.idem = !(w.h.flags & WAGON_F_BOOTSTRAP) &&
	    gtid_within(w.h.first_gtid, a->cp.bootstrap_pos);
	/* (A DDL wagon has no rows to be idempotent about: not said.) */
	if (w.idem && w.chunk == 1 && !w.has_ddl)
		log_info("wagon %" PRIu64 " (GTID %s) is within the window of "
		    "srdf-bootstrap's copy (%s): applied idempotently", seq,
		    w.h.first_gtid, a->cp.bootstrap_pos);
	if (w.snapshot != NULL)
		newpos = gtid_merge(a->cp.bootstrap_pos, w.snapshot);
	/* Tables copied again (redo.c): this wagon's copy adds one; those
	 * it begins beyond are done with.  Only a wagon within one's
	 * position has changes to skip (the others: not a look per row). */
	redo_copy(&redo, &a->cp.redo);
	if (redo_prune(&redo, &w) > 0 || w.redo_db != NULL) {
		if (w.redo_db != NULL) /* with a snapshot_gtid: engine_peek */
			redo_add(&redo, w.redo_db, w.redo_table, w.snapshot);
		newredo = redo_format(&redo);
	}
	a->db.redo = redo_due(&a->cp.redo, &w) ? &a->cp.redo : NULL;
	if (w.xa != XA_NONE)
		rc = apply_xa(a, &w, first);
	else
		rc = engine_run(&a->db, &w, ddl_mark, a);
	a->db.redo = NULL;
	if (rc == DB_OK && w.last) {
		rc = db_commit_at(&a->db, a->src, a->cp.seq, seq, w.last_gtid,
		    w.gtid_pos, newpos, newredo, w.last_ts);
	} else if (rc == DB_OK)
		rc = db_flush(&a->db);
	if (rc == DB_OK && w.last && newpos != NULL) {
		free(a->cp.bootstrap_pos);
		a->cp.bootstrap_pos = newpos;
		newpos = NULL;
	}
	if (rc == DB_OK && w.last && newredo != NULL) {
		redo_free(&a->cp.redo);
		a->cp.redo = redo;
		memset(&redo, 0, sizeof redo);
	}
	if (rc == DB_OK && w.skipped > 0)
		log_notice("wagon %" PRIu64 ": %" PRIu64 " row change(s) skipped: "
		    "srdf-bootstrap copied their table again after them",
		    seq, w.skipped);
	redo_free(&redo);
	free(newredo);
	free(newpos);

	if (rc != DB_OK) {
		db_rollback(&a->db);
		a->open = 0;
		a->next = a->cp.seq + 1;
		wagon_free(&w);
		switch (rc) {
		case DB_GONE:
			log_warn("wagon %" PRIu64 ": %s", seq, a->db.err);
			return S_GONE;
		case DB_RETRY:
			if (++a->immediate <= IMMEDIATE_RETRIES) {
				log_notice("wagon %" PRIu64 ": %s; trying again "
				    "now", seq, a->db.err);
				return S_PROGRESS;
			}
			a->immediate = 0;
			return failed(a, seq, a->db.err, 1);
		default:
			a->immediate = 0;
			return failed(a, seq, a->db.err, db_full(&a->db));
		}
	}
	a->immediate = 0;
	if (!w.last) {
		if (w.chunk == 1) {
			a->open_first = seq;
			free(a->open_xid);
			a->open_xid = w.xa == XA_PREPARED ? xstrdup(w.xid) : NULL;
		}
		a->open = 1;
		a->open_group = w.group;
		a->open_chunk = w.chunk;
		a->next = seq + 1;
		log_info("wagon %" PRIu64 ": chunk %" PRIu32 " of group %" PRIu64
		    " applied, %" PRIu64 " row changes; the group commits with "
		    "its last chunk", seq, w.chunk, w.group, w.rows);
		wagon_free(&w);
		return S_PROGRESS;
	}

	a->next = seq + 1;
	free(a->open_xid);
	a->open_xid = NULL;
	if (w.xa == XA_PREPARED && (a->xa_min == 0 || first < a->xa_min))
		a->xa_min = first;
	if ((w.xa == XA_COMMIT || w.xa == XA_ROLLBACK) &&
	    db_xa_min(&a->db, a->src, &a->xa_min) != DB_OK)
		log_warn("reading srdf.xa_pending: %s", a->db.err);
	rc = committed(a, seq, first, &w, a->db.missing, t0, 0);
	wagon_free(&w);
	return rc;
}

/* ---- the loop ---------------------------------------------------------- */

static void
drain(int fd)
{
	char b[4096];

	while (read(fd, b, sizeof b) > 0)
		;
}

static void
wait_events(struct applier *a, long timeout_ms)
{
	acks_wait(a->acks, a->ino, a->sig[0], timeout_ms);
	drain(a->ino);
	drain(a->sig[0]);
}

/* Connects, retrying with backoff unless --once; 0 or an exit code. */
static int
connect_target(struct applier *a)
{
	long long backoff = 1000, tries = 0;
	int rc;

	for (;;) {
		tries++;
		rc = db_connect(&a->db, a->cf, a->cf->dry_run);
		if (rc == DB_OK)
			break;
		db_close(&a->db);
		if (rc == DB_FAIL) { /* refused: waiting will not help */
			log_err("%s", a->db.err);
			return mdb_exit_for(a->db.errnum);
		}
		if (a->cf->once) {
			log_err("%s", a->db.err);
			return EX_UNAVAILABLE;
		}
		/* For as long as it takes; said at tries 1, 2, 4, 8... */
		if ((tries & (tries - 1)) == 0)
			log_warn("%s; trying again in %lld s, for as long as it "
			    "takes (attempt %lld; said again at attempt %lld)",
			    a->db.err, backoff / 1000, tries, 2 * tries);
		else
			log_debug("%s; trying again in %lld s (attempt %lld)",
			    a->db.err, backoff / 1000, tries);
		for (long long until = clock_mono_ms() + backoff;
		     !stopping && clock_mono_ms() < until;) {
			acks_pump(a->acks);
			heartbeat_beat(0, NULL);
			wait_events(a, until - clock_mono_ms() > HEARTBEAT_INTERVAL_MS ?
			    HEARTBEAT_INTERVAL_MS : (long)(until - clock_mono_ms()));
		}
		if (stopping)
			return 0;
		backoff = backoff * 2 > MAX_RECONNECT_MS ? MAX_RECONNECT_MS
		                                         : backoff * 2;
	}
	/* What the target holds now is the truth: a COMMIT whose answer
	 * was lost may or may not have happened.  step() reads the
	 * checkpoint again before anything else. */
	a->ready = 0;
	a->open = 0;
	return 0;
}

/* The files of wagons applied more than --keep ago leave inbox/cur;
 * the checkpoint's own stays (srdf-promote reads it).  At most every
 * PURGE_INTERVAL_MS unless a batch was full; all that is due with
 * --once (now set). */
/* What --keep purges: with --ack-to or --ack-pull, only wagons whose
 * ACK the source took (an ACK still owed is sent from the record); without, applied is
 * as far as a wagon goes. */
static const char *const applied_states[] = {"applied", "confirmed", NULL};
static const char *const confirmed_states[] = {"confirmed", NULL};

static void
purge_applied(struct applier *a, int now)
{
	long n;

	if (a->cf->dry_run || a->l == NULL || !a->ready ||
	    (!now && clock_mono_ms() < a->purge_due))
		return;
	a->purge.below = a->cp.seq;
	if (a->xa_min != 0 && a->xa_min < a->purge.below)
		a->purge.below = a->xa_min; /* an XA COMMIT will read them */
	do
		n = purge_sweep(&a->purge);
	while (now && n == PURGE_BATCH && !stopping);
	a->purge_due = clock_mono_ms() +
	    (n == PURGE_BATCH ? 0 : PURGE_INTERVAL_MS);
}

static int
run(struct applier *a)
{
	int rc, ex = 0;

	if ((ex = connect_target(a)) != 0 || stopping)
		return ex;
	log_info("%s: applying the wagons %s %s", a->cf->dry_run ? "dry run"
	    : "started", a->cf->once ? "ready in" : "as they come into",
	    a->cf->inbox);
	for (;;) {
		heartbeat_beat(a->cp.seq, a->cp.last_gtid[0] ? a->cp.last_gtid
		    : NULL);
		if (stopping) {
			/* What the workers have begun commits or fails. */
			if (par_drain(a) == S_FATAL)
				ex = a->fatal;
			break;
		}
		if (hup) {
			hup = 0;
			if (a->fail_seq != 0) {
				log_notice("SIGHUP: trying wagon %" PRIu64
				    " again", a->fail_seq);
				a->fail_due = 0;
				a->dead = 0;
			}
		}
		acks_pump(a->acks);
		rc = step(a);
		/* The ledger catches up whenever the loop is not applying. */
		if (rc != S_PROGRESS && rc != S_FATAL &&
		    flush_applied(a) == S_FATAL)
			rc = S_FATAL;
		switch (rc) {
		case S_PROGRESS:
			continue;
		case S_FATAL:
			ex = a->fatal;
			goto out;
		case S_GONE:
			db_close(&a->db);
			if (a->cf->once) {
				ex = EX_UNAVAILABLE;
				goto out;
			}
			if ((ex = connect_target(a)) != 0)
				goto out;
			continue;
		case S_FAILED:
			if (a->cf->once) {
				ex = a->dead ? EX_DATAERR : EX_TEMPFAIL;
				goto out;
			}
			continue;
		case S_IDLE:
			purge_applied(a, a->cf->once);
			if (a->cf->once)
				goto out;
			wait_events(a, HEARTBEAT_INTERVAL_MS);
			continue;
		case S_WAIT:
			wait_events(a, a->dead || a->fail_due - clock_mono_ms() >
			    HEARTBEAT_INTERVAL_MS ? HEARTBEAT_INTERVAL_MS
			    : a->fail_due > clock_mono_ms() ? (long)(a->fail_due - clock_mono_ms())
			    : 0);
			continue;
		}
	}
out:
	if (par_drain(a) == S_FATAL && ex == 0)
		ex = a->fatal;
	if (flush_applied(a) == S_FATAL && ex == 0)
		ex = a->fatal;
	if (a->open) {
		log_notice("group %" PRIu64 ": chunks 1..%" PRIu32 " were applied "
		    "but not committed: rolled back until the rest of the group "
		    "is here", a->open_group, a->open_chunk);
		db_rollback(&a->db);
		a->open = 0;
	}
	if (a->cf->once && !stopping && ex != EX_IOERR)
		acks_drain(a->acks, ACK_DRAIN_MS);
	if (!a->cf->dry_run)
		log_info("%s: %" PRIu64 " wagon%s applied, checkpoint %" PRIu64
		    ", %zu ACK%s queued", stopping ? "stopped" : "done",
		    a->napplied, a->napplied == 1 ? "" : "s", a->cp.seq,
		    acks_pending(a->acks), acks_pending(a->acks) == 1 ? "" : "s");
	return ex;
}

/* ---- main -------------------------------------------------------------- */

static void
parse_retry(struct config *cf, const char *arg)
{
	char *s, *tok, *save = NULL;

	cf->nretry = 0;
	if (strcmp(arg, "none") == 0)
		return;
	if ((s = strdup(arg)) == NULL)
		die(EX_OSERR, "out of memory");
	for (tok = strtok_r(s, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (cf->nretry == (int)(sizeof cf->retry_ms / sizeof
		                       *cf->retry_ms))
			die(EX_USAGE, "--retry: at most %zu delays",
			    sizeof cf->retry_ms / sizeof *cf->retry_ms);
		if (parse_duration_ms(tok, &cf->retry_ms[cf->nretry]) != 0)
			die(EX_USAGE, "--retry: bad delay '%s' (e.g. 10s, 2m, "
			    "1h; or 'none')", tok);
		cf->nretry++;
	}
	free(s);
	if (cf->nretry == 0)
		die(EX_USAGE, "--retry needs delays such as 10s,30s,2m, or "
		    "'none'");
}

/* A promoted target (srdf-promote(1)) takes writes of its own: applying
 * more wagons would mix them with the old source's.  Dies. */
static void
refuse_promoted(struct ledger *l, const char *dir)
{
	struct ledger_txn *t;
	char *at = NULL;

	if (l == NULL || ledger_txn_begin(l, LEDGER_RDONLY, &t) != 0)
		return;
	if (ledger_meta_get(t, "promoted", &at) != 0)
		at = NULL;
	ledger_txn_abort(t);
	if (at != NULL)
		die(EX_CONFIG, "the target of %s was promoted at %s "
		    "(srdf-promote): it is no longer a replica and takes no "
		    "more wagons; to replicate to it again, start over with a "
		    "new state directory and srdf-bootstrap", dir, at);
}

static void
make_inbox(const char *inbox)
{
	static const char *const sub[] = {"", "/tmp", "/new", "/cur", "/bad"};
	char path[PATH_MAX];

	/* Not spool_init(): emptying tmp/ is for its writer, srdf-recv,
	 * which may be writing there right now. */
	for (size_t i = 0; i < sizeof sub / sizeof *sub; i++) {
		snprintf(path, sizeof path, "%s%s", inbox, sub[i]);
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			die(EX_CANTCREAT, "cannot create %s: %s", path,
			    strerror(errno));
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"ack-pull", no_argument, NULL, 'A'},
	    {"ack-to", required_argument, NULL, 'a'},
	    {"ca-file", required_argument, NULL, 'C'},
	    {"create-databases", no_argument, NULL, 'c'},
	    {"defaults-file", required_argument, NULL, 'F'},
	    {"defaults-group", required_argument, NULL, 'G'},
	    {"dir", required_argument, NULL, 'd'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"fire-triggers", no_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {"insecure", no_argument, NULL, 'I'},
	    {"key-file", required_argument, NULL, 'k'},
	    {"no-bulk-load", no_argument, NULL, 'B'},
	    {"once", no_argument, NULL, 'o'},
	    {"merge-bytes", required_argument, NULL, 'M'},
	    {"keep", required_argument, NULL, 'K'},
	    {"parallel", required_argument, NULL, 'P'},
	    {"retry", required_argument, NULL, 'r'},
	    {"skip", required_argument, NULL, 's'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	static struct config cf;
	struct applier a;
	struct sigaction sa;
	char err[512], path[PATH_MAX];
	const char *hook;
	uint64_t n;
	int ch, rc;

	log_init(argv[0]);
	xalloc_big_buffers();
	cf.parallel = DEFAULT_PARALLEL;
	cf.merge_bytes = DEFAULT_MERGE_BYTES;
	cf.keep_ms = DEFAULT_KEEP_MS;
	cf.group = TOOL;
	cf.dir = getenv("SRDF_DIR") ? getenv("SRDF_DIR") : "/var/lib/srdf";
	parse_retry(&cf, "10s,30s,2m,10m,1h");
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'A': cf.ack_pull = 1; break;
		case 'a': cf.ack_to = optarg; break;
		case 'C': cf.ca_file = optarg; break;
		case 'c': cf.create_databases = 1; break;
		case 'F': cf.defaults_file = optarg; break;
		case 'G': cf.group = optarg; break;
		case 'd': cf.dir = optarg; break;
		case 'n': cf.dry_run = 1; break;
		case 'I': cf.insecure = 1; break;
		case 'k': cf.key_file = optarg; break;
		case 'B': cf.no_bulk_load = 1; break;
		case 'T': cf.fire_triggers = 1; break;
		case 'o': cf.once = 1; break;
		case 'K':
			if (parse_duration_ms(optarg, &cf.keep_ms) != 0)
				die(EX_USAGE, "--keep wants a duration such as "
				    "7d, 12h or 0, not '%s'", optarg);
			break;
		case 'M':
			if (parse_size(optarg, &cf.merge_bytes) != 0)
				die(EX_USAGE, "--merge-bytes wants a size "
				    "(e.g. 128M, or 0 for never), not '%s'",
				    optarg);
			break;
		case 'P':
			if (parse_u64(optarg, &n) != 0 || n < 1 || n > 64)
				die(EX_USAGE, "--parallel wants 1 to 64 "
				    "connections, not '%s'", optarg);
			cf.parallel = (int)n;
			break;
		case 'r': parse_retry(&cf, optarg); break;
		case 's':
			if (parse_u64(optarg, &cf.skip) != 0 || cf.skip == 0)
				die(EX_USAGE, "--skip wants a wagon sequence "
				    "number, not '%s'", optarg);
			cf.has_skip = 1;
			break;
		case 'v': log_set_verbose(1); break;
		default:
			opt_std(ch, "srdf-apply", usage);
		}
	}
	opt_no_operands(argc, usage);
	if (cf.key_file == NULL)
		die(EX_USAGE, "--key-file is required: the key that opens the "
		    "wagons (srdf-keygen(1))");
	if (cf.dry_run)
		cf.once = 1;
	if (cf.ack_to != NULL && cf.ack_pull)
		die(EX_USAGE, "--ack-to sends the ACKs, --ack-pull leaves them "
		    "for srdf-ship --ack-pull to fetch: one of the two");
	if (cf.ack_to != NULL &&
	    http_base_check(cf.ack_to, cf.insecure, err, sizeof err) != 0)
		die(EX_USAGE, "--ack-to: %s", err);
	if (strlen(cf.dir) + sizeof "/inbox" > sizeof cf.inbox)
		die(EX_USAGE, "--dir %s: path too long", cf.dir);
	snprintf(cf.inbox, sizeof cf.inbox, "%s/inbox", cf.dir);
	if ((cf.key = key_load(cf.key_file, err, sizeof err)) == NULL)
		die(EX_CONFIG, "%s", err);

	memset(&a, 0, sizeof a);
	a.cf = &cf;
	a.ino = a.sig[0] = a.sig[1] = -1;
	if ((hook = getenv("SRDF_APPLY_CRASH_AFTER_COMMIT")) != NULL &&
	    *hook != '\0')
		a.crash_after = atoi(hook);

	/* A dry run writes nothing: no lock, no ledger, no spool moves. */
	if (!cf.dry_run) {
		if (mkdir(cf.dir, 0700) != 0 && errno != EEXIST)
			die(EX_CANTCREAT, "cannot create %s: %s", cf.dir,
			    strerror(errno));
		lock_dir_or_die(cf.dir, TOOL);
		make_inbox(cf.inbox);
		if ((rc = ledger_open(cf.dir, 0, &a.l)) != 0)
			die(EX_CANTCREAT, "cannot open the ledger in %s: %s",
			    cf.dir, ledger_strerror(rc));
		audit_open(cf.dir);
		audit_source_of(a.l);
		heartbeat_start(cf.dir, TOOL, HEARTBEAT_INTERVAL, !cf.once);
		snprintf(a.curdir, sizeof a.curdir, "%s/cur", cf.inbox);
		snprintf(a.purge_why, sizeof a.purge_why, "inbox copy purged "
		    "(applied more than --keep %lld s ago)", cf.keep_ms / 1000);
		a.purge = (struct purge){.l = a.l, .dir = a.curdir,
		    .states = cf.ack_to != NULL || cf.ack_pull ? confirmed_states :
		    applied_states, .at = "applied_at",
		    .keep_ms = cf.keep_ms, .why = a.purge_why};
	} else {
		snprintf(path, sizeof path, "%s/ledger/data.mdb", cf.dir);
		if (access(path, F_OK) == 0 &&
		    (rc = ledger_open(cf.dir, LEDGER_RDONLY, &a.l)) != 0)
			die(EX_NOINPUT, "cannot open the ledger in %s: %s",
			    cf.dir, ledger_strerror(rc));
		snprintf(path, sizeof path, "%s/new", cf.inbox);
		if (access(path, F_OK) != 0)
			die(EX_NOINPUT, "no inbox in %s: %s", cf.dir,
			    strerror(errno));
	}
	refuse_promoted(a.l, cf.dir);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die(EX_OSERR, "cannot start libcurl");
	/* A dry run sends no ACK (a.acks NULL: acks.c does nothing). */
	if (!cf.dry_run)
		a.acks = acks_new(&cf, a.l);

	if (pipe2(a.sig, O_NONBLOCK | O_CLOEXEC) != 0)
		die(EX_OSERR, "pipe: %s", strerror(errno));
	sig_wfd = a.sig[1];
	if ((a.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		die(EX_OSERR, "inotify_init1: %s", strerror(errno));
	snprintf(path, sizeof path, "%s/new", cf.inbox);
	if (inotify_add_watch(a.ino, path, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
		die(EX_OSERR, "cannot watch %s: %s", path, strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Before any thread: what libmariadb and jansson set up once. */
	if (cf.parallel > 1 && !cf.dry_run) {
		mysql_library_init(0, NULL, NULL);
		json_object_seed(0);
	}
	rc = run(&a);
	prefetch_stop(&a);
	par_free(a.par);
	wagon_free(&a.held);
	free(a.disp_bpos);
	if (rc == 0 && cf.has_skip && !a.skip_done && !stopping) {
		log_err("--skip %" PRIu64 ": no wagon and no source id in %s "
		    "yet: nothing to skip", cf.skip, cf.dir);
		rc = EX_USAGE;
	}
	heartbeat_stop(rc);
	db_close(&a.db);
	free(a.db.q.p);
	free(a.db.st);
	checkpoint_free(&a.cp);
	free(a.open_xid);
	free(a.done);
	acks_free(a.acks);
	ledger_close(a.l);
	curl_global_cleanup();
	close(a.ino);
	close(a.sig[0]);
	close(a.sig[1]);
	key_free(cf.key);
	return rc;
}
