/*
 * srdf-status — one view of a state directory: wagons by state, spool
 * depth, the last sequence of each stage, the last error, RPO, stale and
 * dead wagons; as a table, one JSON object or node_exporter text.
 *
 * Design rationale.  status is what a person or a monitoring system asks
 * when something looks wrong, so it must never be the thing that makes
 * it worse: it opens the ledger read-only (LEDGER_RDONLY, one read
 * transaction, an MVCC snapshot that never blocks a writer), takes no
 * lock on the directory, never writes a file and never moves a spool
 * item.  It works on either side: a source directory (outbox/, the
 * states sealed, sending, received, failed, confirmed, dead set by
 * srdf-seal, srdf-ship and srdf-ackd) and a target directory (inbox/,
 * received, applied, failed, dead, confirmed set by srdf-recv and
 * srdf-apply).  On the target, --defaults-file adds srdf.applied, the
 * authority on what committed (srdf(7) "Exactly once"), read with one SELECT.
 *
 * RPO is the age of the oldest source commit not yet confirmed: the
 * first commit (first_ts, from srdf-dedup's group_end, kept by
 * srdf-seal) of the oldest wagon not confirmed; when all are confirmed,
 * the last commit (last_ts) of the newest, or less when srdf-capture's
 * heartbeat proves it caught up (caught_up).  A wagon without those
 * times (sealed by an older srdf-seal) gives no RPO rather than a guessed
 * one.
 *
 * Processes: each long-running tool keeps DIR/run/TOOL.heartbeat
 * (heartbeat.h).  A run that ends by itself (--once from cron) and
 * stopped is normal, also when it refused to start (exit 64, 77, 78:
 * noted, not a crash).  What is flagged is a daemon run that stopped,
 * however (its stage is down); a file that says "running" while its pid
 * is gone, or is another program now (/proc/PID/comm): the tool was
 * killed; and a running tool that promised a beat every N s and has been
 * silent for longer than --stale and 3 N: hung.  A file written on
 * another host (a shared directory) is judged by its age alone.
 *
 * Exit status is for cron and monitoring: 0 all well, 1 when a wagon is
 * failed, dead or stale, a process is flagged or the RPO is over
 * --max-rpo (the report is still printed in full), 66 when the
 * directory has no ledger, 69/77 when the target database cannot be read
 * (after the report).  Secrets: nothing from the option file is printed,
 * nor the ACK bodies or attempt answers stored in the ledger.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "applied.h"
#include "clock.h"
#include "ledger.h"
#include "log.h"
#include "opt.h"
#include "maria.h"
#include "scan.h"
#include "selection.h"
#include "wagon.h"
#include "xalloc.h"

#define DEFAULT_STALE 60

enum fmt { FMT_TABLE, FMT_JSON, FMT_PROM };
enum side { SIDE_SOURCE, SIDE_TARGET };

enum {
	ST_SEALED,
	ST_SENDING,
	ST_RECEIVED,
	ST_APPLIED,
	ST_CONFIRMED,
	ST_FAILED,
	ST_DEAD,
	ST_OTHER,
	NSTATES
};
_Static_assert(ST_OTHER == LEDGER_NSTATES, "ST_ follows ledger_states");

enum { SG_SEALED, SG_RECEIVED, SG_APPLIED, SG_CONFIRMED, NSTAGES };
static const char *const stage_names[NSTAGES] = {
    "sealed",
    "received",
    "applied",
    "confirmed",
};

struct config {
	const char *dir;
	const char *defaults_file;
	const char *group;
	const char *key_file; /* --key-file: the ring to judge; NULL none */
	enum fmt fmt;
	int stale;
	double max_rpo; /* seconds; < 0: no threshold */
};

struct stage {
	uint64_t seq; /* 0: none */
	char *gtid;
};

/* One key id that a wagon kept names, or that --key-file's ring holds. */
struct keyuse {
	char id[17];     /* 16 hexadecimal digits */
	uint64_t wagons; /* ledger records kept that name it */
	int ring;        /* its place in the ring, 0 newest; -1 not in it */
};

/* A process's heartbeat file, DIR/run/TOOL.heartbeat (heartbeat.h). */
struct proc {
	char *tool;
	char *host;
	char *state; /* "running", "stopped"; NULL: unreadable file */
	char *gtid;
	char *detail; /* its progress in words, or NULL */
	char *why;    /* why the file is unreadable */
	long pid;
	int exit; /* -1: none */
	int interval;
	double started_at, time, progress_at; /* < 0: absent */
	uint64_t seq;
	int alive;        /* 1 yes, 0 gone, -1 unknown (another host) */
	const char *flag; /* NULL, "dead", "stale", "down", "unreadable" */
	int daemon;       /* the run was meant to go on until stopped */
};

struct status {
	const struct config *cf;
	enum side side;
	double now;
	char *source_id;
	uint64_t count[NSTATES];
	uint64_t bytes[NSTATES];
	uint64_t total, total_bytes;
	uint64_t purged, purged_bytes; /* records removed (purge.h) */
	/* Sums over the records kept, and over those purged (purge.h's
	 * meta counters): what the Prometheus counters add up. */
	uint64_t ev_in, ev_out, attempts, retries;
	uint64_t p_ev_in, p_ev_out, p_attempts, p_retries;
	uint64_t p_confirmed; /* purged wagons that were confirmed */
	double pending_since; /* the oldest wagon waiting; < 0 none */
	char *promoted;       /* the target's meta "promoted" */
	/* and the promotion's facts (srdf-promote(1)), NULL when absent:
	 * promoted_seq, promoted_gtid, promoted_gtid_pos, promoted_pos */
	char *prom[4];
	char *realdir;            /* the state directory, absolute */
	double fs_avail, fs_size; /* its file system; < 0 unknown */
	struct stage last[NSTAGES];
	const char *spool;         /* "outbox" or "inbox" */
	long spool_new, spool_bad; /* -1: no such directory */
	double rpo;                /* < 0: unknown */
	uint64_t rpo_seq;
	uint64_t conf_seq;   /* the newest confirmed record (source) */
	uint64_t unconf_seq; /* the oldest record not confirmed, 0 none */
	int rpo_caught_up;   /* rpo from srdf-capture's heartbeat */
	int rpo_unconfirmed; /* rpo from the oldest wagon not confirmed */
	/* target: the newest applied wagon's last source commit (Unix s)
	 * and when it was applied; < 0 unknown */
	double applied_ts, applied_at;
	/* target: the newest received wagon's last source commit (from
	 * srdf-recv's record), < 0 unknown; srdf-apply's --delay (meta
	 * apply_delay_ms), < 0 unknown; the --until stop it reached (meta
	 * until_stop: a JSON object), NULL for none */
	double received_ts;
	long long delay_ms;
	json_t *until_stop;
	/* source: off-site, the age of the oldest source commit not yet
	 * received by the target (< 0 unknown), its wagon (0: every wagon
	 * sealed is received, and offsite is then the newest one's age);
	 * the oldest wagon not received and the newest received */
	double offsite;
	uint64_t offsite_seq, unrecv_seq, recv_seq;
	char *sealed_pos; /* meta last_sealed_gtid */
	uint64_t stale, stale_first;
	uint64_t err_seq;
	char *err_state, *err_text;
	int err_rank;
	/* srdf.applied on the target, with --defaults-file */
	int db_read;
	uint64_t db_seq;
	int db_part; /* srdf.applied.part */
	char *db_gtid;
	double db_applied_at;
	char *db_error;
	long long xa_pending; /* srdf.xa_pending rows, -1 unknown */
	uint64_t xa_first;    /* the lowest first wagon among them */
	struct proc *proc;
	size_t nproc;
	size_t capproc; /* room in proc */
	size_t flagged;
	/* The keys section: key ids in the order of their oldest wagon
	 * kept, then the ring's keys that no wagon names. */
	struct keyuse *keys;
	size_t nkeys, capkeys, lastkey;
	uint64_t key_unknown; /* records kept that name no key */
	uint64_t acks;        /* target: pending ACKs */
	int nring;            /* keys of --key-file's ring; 0: none read */
	/* source: the tables of srdf-bootstrap's copy dropped from the
	 * selection (selection.h), keyed "db.table"; NULL: none read */
	json_t *dropped;
};

/*
 * The RPO of a source that is caught up.  The newest confirmed wagon's
 * commit time alone would make an idle source's RPO grow for ever, as if
 * commits were missing.  When every sealed wagon is confirmed and a live
 * srdf-capture's last heartbeat (written when the source's binlog dump
 * said it had nothing more) reports exactly the position sealed last,
 * nothing the source had committed at that heartbeat is unconfirmed: the
 * RPO is at most the heartbeat's age.  Anything less certain (capture
 * gone or flagged, a group still in srdf-dedup's window, another
 * position format) keeps the conservative figure.
 */
static void
caught_up(struct status *st)
{
	const struct proc *p;

	if (st->side != SIDE_SOURCE || st->rpo < 0 || st->rpo_unconfirmed ||
	    st->sealed_pos == NULL ||
	    st->last[SG_CONFIRMED].seq != st->last[SG_SEALED].seq)
		return;
	for (p = st->proc; p < st->proc + st->nproc; p++) {
		if (strcmp(p->tool, "srdf-capture") != 0 || p->flag != NULL ||
		    p->alive != 1 || p->state == NULL ||
		    strcmp(p->state, "running") != 0 || p->gtid == NULL ||
		    strcmp(p->gtid, st->sealed_pos) != 0 || p->time < 0)
			continue;
		if (st->now - p->time < st->rpo) {
			st->rpo = st->now - p->time > 0 ? st->now - p->time : 0;
			st->rpo_caught_up = 1;
		}
	}
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-status [-v] [--dir dir] [--json | --prometheus]\n"
	    "                   [--defaults-file file] [--defaults-group group]"
	    "\n"
	    "                   [--stale seconds] [--max-rpo seconds]\n"
	    "                   [--key-file file]\n"
	    "       srdf-status --help | --version\n");
}

static int
state_index(const char *s)
{
	for (int i = 0; i < ST_OTHER; i++)
		if (strcmp(s, ledger_states[i]) == 0)
			return i;
	return ST_OTHER;
}

/* The name of ST_ state i: ledger.h's, or "other". */
static const char *
state_name(int i)
{
	return i < ST_OTHER ? ledger_states[i] : "other";
}

static uint64_t
u64_field(json_t *w, const char *k)
{
	json_t *v = json_object_get(w, k);

	if (json_is_integer(v) && json_integer_value(v) > 0)
		return (uint64_t)json_integer_value(v);
	if (json_is_real(v) && json_real_value(v) > 0)
		return (uint64_t)json_real_value(v);
	return 0;
}

/* A time field as seconds, or -1 when absent. */
static double
time_field(json_t *w, const char *k)
{
	json_t *v = json_object_get(w, k);

	return json_is_number(v) ? json_number_value(v) : -1;
}

static void
set_stage(struct status *st, int sg, uint64_t seq, json_t *w)
{
	const char *g = json_string_value(json_object_get(w, "last_gtid"));

	if (seq < st->last[sg].seq)
		return;
	st->last[sg].seq = seq;
	free(st->last[sg].gtid);
	st->last[sg].gtid = g ? xstrdup(g) : NULL;
}

/* A decimal counter of the meta table into *v (absent: 0). */
static int
meta_u64(struct ledger_txn *t, const char *key, uint64_t *v)
{
	char *s = NULL;
	int rc;

	*v = 0;
	if ((rc = ledger_meta_get(t, key, &s)) == 0 && s != NULL &&
	    parse_u64(s, v) != 0)
		*v = 0;
	free(s);
	return rc;
}

/* Target: srdf-apply's --delay and the --until stop point it reached
 * (meta apply_delay_ms, until_stop; srdf-apply(1)). */
static int
apply_run(struct status *st, struct ledger_txn *t)
{
	char *v = NULL;
	int rc;

	if ((rc = ledger_meta_get(t, "apply_delay_ms", &v)) != 0)
		return rc;
	if (v != NULL && *v != '\0')
		st->delay_ms = atoll(v);
	free(v);
	v = NULL;
	if ((rc = ledger_meta_get(t, "until_stop", &v)) != 0)
		return rc;
	if (v != NULL && *v != '\0')
		st->until_stop = json_loads(v, 0, NULL);
	free(v);
	return 0;
}

/* The newest purged wagon (purge.h) went through every stage that
 * purged it (the source purges confirmed wagons, the target applied
 * ones): when no record kept is further, the stages and the source's
 * RPO come from it. */
static int
purged_newest(struct status *st, struct ledger_txn *t)
{
	char *ts = NULL, *g = NULL;
	uint64_t seq;
	int rc, last = st->side == SIDE_SOURCE ? SG_CONFIRMED : SG_APPLIED;
	json_t *w;

	if ((rc = meta_u64(t, "purged_seq", &seq)) != 0 || seq == 0 ||
	    (rc = ledger_meta_get(t, "purged_last_ts", &ts)) != 0 ||
	    (rc = ledger_meta_get(t, "purged_last_gtid", &g)) != 0)
		goto out;
	w = json_pack("{s:s}", "last_gtid", g && strcmp(g, "-") != 0 ? g : "");
	for (int sg = st->side == SIDE_SOURCE ? SG_SEALED : SG_RECEIVED;
	     sg <= last; sg++)
		if (st->last[sg].seq < seq)
			set_stage(st, sg, seq, w);
	json_decref(w);
	if (st->side == SIDE_SOURCE && !st->rpo_unconfirmed &&
	    st->rpo_seq < seq && ts != NULL && atof(ts) > 0) {
		st->rpo = st->now - atof(ts);
		st->rpo_seq = seq;
	}
out:
	free(ts);
	free(g);
	return rc;
}

/* What the walk counts of one record: bytes, row changes, attempts and
 * since, the time it entered its stage (source: sealed_at; target:
 * received_at), or -1. */
struct counted {
	uint64_t bytes, ev_in, ev_out, attempts;
	double since;
};

/* One record counted, in state s.  The stages and the newest confirmed
 * record go by sequence only; finish_stages reads what they need of
 * those few records after the walk. */
static void
count_record(struct status *st, uint64_t seq, int s, const struct counted *r)
{
	int src = st->side == SIDE_SOURCE;
	int sg[4], n = 0;
	double since = r->since;

	st->count[s]++;
	st->bytes[s] += r->bytes;
	st->total++;
	st->total_bytes += r->bytes;
	st->ev_in += r->ev_in;
	st->ev_out += r->ev_out;
	st->attempts += r->attempts;
	st->retries += r->attempts > 1 ? r->attempts - 1 : 0;
	if (src)
		sg[n++] = SG_SEALED;
	if (!src || s == ST_RECEIVED || s == ST_FAILED || s == ST_APPLIED ||
	    s == ST_CONFIRMED)
		sg[n++] = SG_RECEIVED;
	if (s == ST_APPLIED || s == ST_CONFIRMED)
		sg[n++] = SG_APPLIED;
	if (s == ST_CONFIRMED) {
		sg[n++] = SG_CONFIRMED;
		if (src)
			st->conf_seq = seq;
	} else if (src && (st->unconf_seq == 0 || seq < st->unconf_seq))
		st->unconf_seq = seq;
	/* Off-site: stored by srdf-recv (received; failed and confirmed
	 * came back from the target, which had it). */
	if (src && (s == ST_SEALED || s == ST_SENDING || s == ST_DEAD)) {
		if (st->unrecv_seq == 0 || seq < st->unrecv_seq)
			st->unrecv_seq = seq;
	} else if (src && seq > st->recv_seq)
		st->recv_seq = seq;
	for (int i = 0; i < n; i++)
		if (seq >= st->last[sg[i]].seq) {
			st->last[sg[i]].seq = seq;
			free(st->last[sg[i]].gtid);
			st->last[sg[i]].gtid = NULL;
		}
	/* Pending: sealed on the source and not received, or received on
	 * the target and not applied; stale after --stale s. */
	if (((src && (s == ST_SEALED || s == ST_SENDING)) ||
	        (!src && s == ST_RECEIVED)) &&
	    since > 0) {
		if (st->pending_since < 0 || since < st->pending_since)
			st->pending_since = since;
		if (st->now - since > st->cf->stale && st->stale++ == 0)
			st->stale_first = seq;
	}
}

/* The source's off-site figure (srdf-status(1)): the first commit of
 * the oldest wagon not received by the target, or when every wagon is,
 * the last commit of the newest (never more than the RPO, which counts
 * fewer wagons as safe). */
static int
offsite(struct status *st, struct ledger_txn *t)
{
	uint64_t seq = st->unrecv_seq ? st->unrecv_seq : st->recv_seq;
	json_t *w;
	double ts;
	int rc;

	if (seq == 0)
		return 0;
	if ((rc = ledger_wagon_get(t, seq, &w)) != 0)
		return rc;
	ts = time_field(w, st->unrecv_seq ? "first_ts" : "last_ts");
	if (w != NULL && ts > 0) {
		st->offsite = st->now - ts > 0 ? st->now - ts : 0;
		st->offsite_seq = st->unrecv_seq;
	}
	json_decref(w);
	return 0;
}

/* After the walk: each stage's GTID, and the source's RPO from the
 * newest confirmed wagon's last transaction time. */
static int
finish_stages(struct status *st, struct ledger_txn *t)
{
	json_t *w;
	double ts;
	int rc;

	for (int sg = 0; sg < NSTAGES; sg++) {
		if (st->last[sg].seq == 0)
			continue;
		if ((rc = ledger_wagon_get(t, st->last[sg].seq, &w)) != 0)
			return rc;
		if (w != NULL)
			set_stage(st, sg, st->last[sg].seq, w);
		json_decref(w);
	}
	if (st->side == SIDE_TARGET && st->last[SG_APPLIED].seq != 0) {
		if ((rc = ledger_wagon_get(t, st->last[SG_APPLIED].seq, &w)) !=
		    0)
			return rc;
		if (w != NULL) {
			st->applied_ts = time_field(w, "last_ts");
			st->applied_at = time_field(w, "applied_at");
		}
		json_decref(w);
	}
	if (st->side == SIDE_TARGET && st->last[SG_RECEIVED].seq != 0) {
		if ((rc = ledger_wagon_get(t, st->last[SG_RECEIVED].seq, &w)) !=
		    0)
			return rc;
		if (w != NULL)
			st->received_ts = time_field(w, "last_ts");
		json_decref(w);
	}
	if (st->side == SIDE_SOURCE && (rc = offsite(st, t)) != 0)
		return rc;
	/* What a disaster now would lose begins with the first commit of
	 * the oldest wagon not confirmed (first_ts; binlog timestamps are
	 * whole seconds, so this errs by less than one, high). */
	if (st->side == SIDE_SOURCE && st->unconf_seq != 0) {
		if ((rc = ledger_wagon_get(t, st->unconf_seq, &w)) != 0)
			return rc;
		if (w != NULL && (ts = time_field(w, "first_ts")) > 0) {
			st->rpo = st->now - ts > 0 ? st->now - ts : 0;
			st->rpo_seq = st->unconf_seq;
			st->rpo_unconfirmed = 1;
		}
		json_decref(w);
		if (st->rpo_unconfirmed)
			return 0;
	}
	if (st->conf_seq == 0)
		return 0;
	if ((rc = ledger_wagon_get(t, st->conf_seq, &w)) != 0)
		return rc;
	if (w != NULL && (ts = time_field(w, "last_ts")) > 0) {
		st->rpo = st->now - ts;
		st->rpo_seq = st->conf_seq;
	} else {
		st->rpo = -1;
		st->rpo_seq = 0;
	}
	json_decref(w);
	return 0;
}

/* ---- keys -------------------------------------------------------------
 *
 * Which keys of a key ring the kept wagons still need (srdf-keygen(1)
 * KEY ROTATION): a key may leave the ring once no wagon kept on either
 * side was sealed with it and no pending ACK will be signed with it.
 * Each wagon record names its key ("key_id", 16 hexadecimal digits:
 * srdf-seal(1) and srdf-recv(1) FILES).  The spools hold the files of
 * those records only (purge.h unlinks a file before it removes its
 * record, and a start removes an orphan), so the records kept are what
 * is counted; one written by an older srdf names no key and is counted
 * apart, as unknown.  An ACK body names no key (srdf-ack(5)): a pending
 * ACK, a target record holding "ack" (apply/acks.c, recv/acks.c), is
 * signed when it is sent, with the newest key the sender then holds,
 * which is the key file's newest once the tools read it again (KEY
 * ROTATION step 2).  So with --key-file the pending ACKs count against
 * the ring's newest key, which is never retirable; without, they are a
 * count with no key id.
 */

/* The entry of key id (16 hexadecimal digits and a NUL), added with no
 * wagon when it is new.  Consecutive wagons mostly share a key: the last
 * one found is tried first. */
static struct keyuse *
key_entry(struct status *st, const char *id)
{
	struct keyuse *k;

	if (st->lastkey < st->nkeys &&
	    strcmp(st->keys[st->lastkey].id, id) == 0)
		return &st->keys[st->lastkey];
	for (st->lastkey = 0; st->lastkey < st->nkeys; st->lastkey++)
		if (strcmp(st->keys[st->lastkey].id, id) == 0)
			return &st->keys[st->lastkey];
	st->keys =
	    xgrow(st->keys, &st->capkeys, st->nkeys + 1, sizeof *st->keys);
	k = &st->keys[st->nkeys++];
	memset(k, 0, sizeof *k);
	memcpy(k->id, id, sizeof k->id);
	k->ring = -1;
	return k;
}

/* One record kept: its "key_id" (n bytes at id, without the quotes; id
 * NULL when absent or not a string) and whether it holds a pending ACK
 * (the target's "ack"). */
static void
key_record(struct status *st, const char *id, size_t n, int ack)
{
	char hex[17];
	size_t i;

	if (st->side == SIDE_TARGET && ack)
		st->acks++;
	for (i = 0; id != NULL && i < n && i < 16; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		        (id[i] >= 'a' && id[i] <= 'f')))
			break;
	if (id == NULL || n != 16 || i != 16) {
		st->key_unknown++;
		return;
	}
	memcpy(hex, id, 16);
	hex[16] = '\0';
	key_entry(st, hex)->wagons++;
}

/* Whether key k may be retired now: with --key-file, an older key of the
 * ring that no wagon kept names (the pending ACKs count against the
 * newest, see above). */
static int
key_retirable(const struct status *st, const struct keyuse *k)
{
	return st->nring > 0 && k->ring > 0 && k->wagons == 0;
}

/* The pending ACKs that use key k: all of them for the ring's newest,
 * none for the others; -1 when unknown (no --key-file).  0 on the
 * source, whose ledger holds none. */
static long long
key_acks(const struct status *st, const struct keyuse *k)
{
	if (st->side == SIDE_SOURCE)
		return 0;
	if (st->nring == 0)
		return -1;
	return k->ring == 0 ? (long long)st->acks : 0;
}

static int
visit(uint64_t seq, json_t *w, void *arg)
{
	struct status *st = arg;
	const char *state = json_string_value(json_object_get(w, "state"));
	const char *err = json_string_value(json_object_get(w, "last_error"));
	const char *kid = json_string_value(json_object_get(w, "key_id"));
	int s = state_index(state ? state : "");
	struct counted r = {
	    u64_field(w, "wagon_bytes"),
	    u64_field(w, "events_in"),
	    u64_field(w, "events_out"),
	    u64_field(w, "attempts"),
	    time_field(
	        w, st->side == SIDE_SOURCE ? "sealed_at" : "received_at"),
	};

	count_record(st, seq, s, &r);
	key_record(st, kid, kid ? strlen(kid) : 0,
	    json_is_string(json_object_get(w, "ack")));
	/* The last error: a failed or dead wagon's before any other's, the
	 * newest of equal rank. */
	if (err != NULL && *err != '\0') {
		int rank = s == ST_FAILED || s == ST_DEAD ? 2 : 1;

		if (rank >= st->err_rank) {
			st->err_rank = rank;
			st->err_seq = seq;
			free(st->err_state);
			free(st->err_text);
			st->err_state = xstrdup(state ? state : "?");
			st->err_text = xstrdup(err);
		}
	}
	return 0;
}

/* The members of a ledger record that the walk needs, as spans of its
 * JSON text: ledger.c stores json_dumps() of an object, so a one-pass
 * look at its top-level members suffices.  0, or -1 when the text is
 * not such an object (then jansson reads it, and says what is wrong). */
struct fields {
	struct jspan state, bytes, err, sealed_at, received_at;
	struct jspan ev_in, ev_out, attempts;
	struct jspan key_id, ack;
};

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int
raw_fields(const char *p, size_t n, struct fields *f)
{
	const char *e = p + n, *k, *v;
	size_t kn;

	memset(f, 0, sizeof *f);
	p = skip_ws(p, e);
	if (p >= e || *p != '{')
		return -1;
	p = skip_ws(p + 1, e);
	if (p < e && *p == '}')
		return 0;
	for (;;) {
		if (p >= e || *p != '"')
			return -1;
		for (k = ++p; p < e && *p != '"'; p++)
			if (*p == '\\')
				return -1; /* no escape in the keys it writes */
		if (p >= e)
			return -1;
		kn = (size_t)(p - k);
		p = skip_ws(p + 1, e);
		if (p >= e || *p != ':')
			return -1;
		if ((v = skip_ws(p + 1, e)) >= e || (p = json_skip(v, e)) > e)
			return -1;
#define FIELD(name, m) \
	if (kn == sizeof name - 1 && memcmp(k, name, kn) == 0) \
		f->m = (struct jspan){v, (size_t)(p - v)};
		FIELD("state", state)
		else FIELD("wagon_bytes", bytes) else FIELD(
		    "last_error", err) else FIELD("sealed_at",
		    sealed_at) else FIELD("received_at",
		    received_at) else FIELD("events_in",
		    ev_in) else FIELD("events_out",
		    ev_out) else FIELD("attempts",
		    attempts) else FIELD("key_id", key_id) else FIELD("ack",
		    ack)
#undef FIELD
		    p = skip_ws(p, e);
		if (p < e && *p == ',')
			p = skip_ws(p + 1, e);
		else if (p < e && *p == '}')
			return skip_ws(p + 1, e) == e ? 0 : -1;
		else
			return -1;
	}
}

/* A number span (a JSON integer or real) as a double; -1 when it is
 * absent or not a number. */
static double
span_num(struct jspan v)
{
	char b[64], *end;
	double d;

	if (v.p == NULL || v.n == 0 || v.n >= sizeof b ||
	    !((*v.p >= '0' && *v.p <= '9') || *v.p == '-'))
		return -1;
	memcpy(b, v.p, v.n);
	b[v.n] = '\0';
	d = strtod(b, &end);
	return *end == '\0' ? d : -1;
}

/* A count span as u64_field reads it: 0 when absent or not above 0. */
static uint64_t
span_count(struct jspan v)
{
	double d = span_num(v);

	return d > 0 ? (uint64_t)d : 0;
}

/* The walk (ledger_wagon_foreach_raw): most records are counted from
 * their text; one that carries an error, or that the quick look does not
 * read, goes through jansson and visit(). */
static int
visit_raw(uint64_t seq, const char *p, size_t n, void *arg)
{
	struct status *st = arg;
	struct fields f;
	char state[16];
	struct counted r;
	json_t *w;
	int rc;

	if (raw_fields(p, n, &f) != 0 || f.state.p == NULL || f.state.n < 2 ||
	    f.state.n - 2 >= sizeof state || f.state.p[0] != '"' ||
	    memchr(f.state.p, '\\', f.state.n) ||
	    (f.err.p != NULL && !(f.err.n == 2 && f.err.p[0] == '"') &&
	        !(f.err.n == 4 && memcmp(f.err.p, "null", 4) == 0))) {
		if ((w = json_loadb(p, n, 0, NULL)) == NULL ||
		    !json_is_object(w)) {
			json_decref(w);
			return LEDGER_CORRUPT;
		}
		rc = visit(seq, w, arg);
		json_decref(w);
		return rc;
	}
	memcpy(state, f.state.p + 1, f.state.n - 2);
	state[f.state.n - 2] = '\0';
	r.bytes = span_count(f.bytes);
	r.ev_in = span_count(f.ev_in);
	r.ev_out = span_count(f.ev_out);
	r.attempts = span_count(f.attempts);
	r.since =
	    span_num(st->side == SIDE_SOURCE ? f.sealed_at : f.received_at);
	count_record(st, seq, state_index(state), &r);
	if (f.key_id.n >= 2 && f.key_id.p[0] == '"')
		key_record(st, f.key_id.p + 1, f.key_id.n - 2,
		    f.ack.n > 0 && f.ack.p[0] == '"');
	else
		key_record(st, NULL, 0, f.ack.n > 0 && f.ack.p[0] == '"');
	return 0;
}

/* Files in DIR/SPOOL/SUB that are items (no dot files, no .reason). */
static long
count_items(const char *dir, const char *spool, const char *sub)
{
	char path[4096];
	DIR *d;
	struct dirent *e;
	long n = 0;
	size_t len;

	snprintf(path, sizeof path, "%s/%s/%s", dir, spool, sub);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		len = strlen(e->d_name);
		if (len > 7 && strcmp(e->d_name + len - 7, ".reason") == 0)
			continue;
		n++;
	}
	closedir(d);
	return n;
}

static int
is_dir(const char *dir, const char *sub)
{
	char path[4096];
	struct stat sb;

	snprintf(path, sizeof path, "%s/%s", dir, sub);
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The sums over the purged records (purge.h).  srdf-ackd purges only
 * confirmed wagons, so on the source the ones an older srdf purged
 * without counting their state were confirmed too; on the target they
 * may have been applied only, and are not counted as confirmed. */
static int
purged_sums(struct status *st, struct ledger_txn *t)
{
	uint64_t conf, appl;
	int rc;

	if ((rc = meta_u64(t, "purged_events_in", &st->p_ev_in)) != 0 ||
	    (rc = meta_u64(t, "purged_events_out", &st->p_ev_out)) != 0 ||
	    (rc = meta_u64(t, "purged_attempts", &st->p_attempts)) != 0 ||
	    (rc = meta_u64(t, "purged_retries", &st->p_retries)) != 0 ||
	    (rc = meta_u64(t, "purged_wagons_confirmed", &conf)) != 0 ||
	    (rc = meta_u64(t, "purged_wagons_applied", &appl)) != 0)
		return rc;
	st->p_confirmed = conf;
	if (st->side == SIDE_SOURCE && st->purged > conf + appl)
		st->p_confirmed = st->purged - appl;
	return 0;
}

/* The state directory as a label (absolute, so that two `--dir .` differ)
 * and its file system's space, from statvfs(2). */
static void
read_fs(struct status *st)
{
	char buf[PATH_MAX];
	struct statvfs vf;

	st->realdir = xstrdup(realpath(st->cf->dir, buf) ? buf : st->cf->dir);
	st->fs_avail = st->fs_size = -1;
	if (statvfs(st->cf->dir, &vf) == 0) {
		st->fs_avail = (double)vf.f_bavail * (double)vf.f_frsize;
		st->fs_size = (double)vf.f_blocks * (double)vf.f_frsize;
	}
}

/* The side of directory dir: the spool it holds, else the ledger's own
 * marks (last_sealed_gtid is the source's, last_applied_seq the
 * target's). */
static int
which_side(const char *dir, struct ledger_txn *t)
{
	char *v = NULL;
	int side;

	if (is_dir(dir, "outbox"))
		return SIDE_SOURCE;
	if (is_dir(dir, "inbox"))
		return SIDE_TARGET;
	side = ledger_meta_get(t, "last_applied_seq", &v) == 0 && v != NULL
	           ? SIDE_TARGET
	           : SIDE_SOURCE;
	free(v);
	return side;
}

/* What the ledger says, in the read transaction t; 0, or an exit
 * status (logged). */
/* The promotion's meta keys, in struct status's prom[] order. */
static const char *const prom_meta[4] = {
    "promoted_seq", "promoted_gtid", "promoted_gtid_pos", "promoted_pos"};

static int
read_ledger_txn(struct status *st, struct ledger_txn *t)
{
	const char *dir = st->cf->dir;
	int rc;

	if ((rc = ledger_meta_get(t, "source_id", &st->source_id)) != 0)
		return log_fail(EX_DATAERR, "%s: reading source_id: %s", dir,
		    ledger_strerror(rc));
	st->side = which_side(dir, t);
	if (st->side == SIDE_SOURCE &&
	    (rc = ledger_meta_get(t, "last_sealed_gtid", &st->sealed_pos)) != 0)
		return log_fail(EX_DATAERR, "%s: reading last_sealed_gtid: %s",
		    dir, ledger_strerror(rc));
	if (st->side == SIDE_SOURCE) {
		json_t *tables = NULL;
		char *first = NULL;

		rc = selection_copy(t, &tables, &first);
		if (rc == 0)
			rc = selection_dropped(t, first, &st->dropped);
		json_decref(tables);
		free(first);
		if (rc != 0)
			return log_fail(EX_DATAERR,
			    "%s: reading the tables dropped from the "
			    "selection: %s",
			    dir, ledger_strerror(rc));
	}
	st->spool = st->side == SIDE_SOURCE ? "outbox" : "inbox";
	st->spool_new = count_items(dir, st->spool, "new");
	st->spool_bad = count_items(dir, st->spool, "bad");
	if ((rc = meta_u64(t, "purged_wagons", &st->purged)) != 0 ||
	    (rc = meta_u64(t, "purged_bytes", &st->purged_bytes)) != 0 ||
	    (rc = purged_sums(st, t)) != 0)
		return log_fail(EX_DATAERR,
		    "%s: reading the purge counters: %s", dir,
		    ledger_strerror(rc));
	if (st->side == SIDE_TARGET &&
	    (rc = ledger_meta_get(t, "promoted", &st->promoted)) != 0)
		return log_fail(EX_DATAERR, "%s: reading promoted: %s", dir,
		    ledger_strerror(rc));
	if (st->side == SIDE_TARGET && (rc = apply_run(st, t)) != 0)
		return log_fail(EX_DATAERR, "%s: reading srdf-apply's run: %s",
		    dir, ledger_strerror(rc));
	for (int i = 0; st->promoted != NULL && i < 4; i++)
		if ((rc = ledger_meta_get(t, prom_meta[i], &st->prom[i])) != 0)
			return log_fail(EX_DATAERR, "%s: reading %s: %s", dir,
			    prom_meta[i], ledger_strerror(rc));
	st->total = st->purged;
	st->total_bytes = st->purged_bytes;
	if ((rc = ledger_wagon_foreach_raw(t, 0, visit_raw, st)) != 0 ||
	    (rc = finish_stages(st, t)) != 0)
		return log_fail(EX_DATAERR, "%s: reading the wagons: %s", dir,
		    ledger_strerror(rc));
	if ((rc = purged_newest(st, t)) != 0)
		return log_fail(EX_DATAERR, "%s: reading the purge marks: %s",
		    dir, ledger_strerror(rc));
	return 0;
}

/* The ledger of the state directory; 0, or an exit status (logged). */
static int
read_ledger(struct status *st)
{
	const char *dir = st->cf->dir;
	struct ledger *l;
	struct ledger_txn *t;
	char path[4096];
	struct stat sb;
	int rc, ex;

	snprintf(path, sizeof path, "%s/ledger/data.mdb", dir);
	if (stat(path, &sb) != 0)
		return log_fail(EX_NOINPUT,
		    "%s: no ledger (%s/ledger/data.mdb: "
		    "%s): not a state directory of srdf",
		    dir, dir, strerror(errno));
	if ((rc = ledger_open(dir, LEDGER_RDONLY, &l)) != 0)
		return log_fail(EX_NOINPUT, "cannot open the ledger of %s: %s",
		    dir, ledger_strerror(rc));
	if ((rc = ledger_txn_begin(l, LEDGER_RDONLY, &t)) != 0) {
		ledger_close(l);
		return log_fail(EX_IOERR, "cannot read the ledger of %s: %s",
		    dir, ledger_strerror(rc));
	}
	ex = read_ledger_txn(st, t);
	ledger_txn_abort(t);
	ledger_close(l);
	return ex;
}

/* --key-file's ring: each key's place in it, the keys no wagon names
 * added oldest first.  Only the ids are kept; the keys are wiped at once
 * (key_free).  0, or EX_CONFIG (logged) when key_load refuses the file. */
static int
read_key_file(struct status *st)
{
	const struct srdf_key *k;
	struct srdf_key *ring;
	char err[512], ids[KEY_RING_MAX][17];
	int n = 0;

	if ((ring = key_load(st->cf->key_file, err, sizeof err)) == NULL)
		return log_fail(EX_CONFIG, "%s", err);
	for (k = ring; k != NULL && n < KEY_RING_MAX; k = k->older)
		key_id_hex(k->id, ids[n++]);
	key_free(ring);
	for (int i = n - 1; i >= 0; i--)
		key_entry(st, ids[i])->ring = i;
	st->nring = n;
	return 0;
}

/* ---- processes -------------------------------------------------------- */

/* 1 when process pid runs TOOL on this host, 0 when it is gone (or the
 * pid now belongs to another program), -1 when that cannot be told. */
static int
pid_alive(long pid, const char *tool)
{
	char path[64], comm[64];
	FILE *f;
	size_t n;

	if (pid <= 0)
		return 0;
	if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
		return errno == ESRCH ? 0 : -1;
	/* The kernel keeps the first 15 bytes of the name. */
	snprintf(path, sizeof path, "/proc/%ld/comm", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	n = fread(comm, 1, sizeof comm - 1, f);
	fclose(f);
	while (n > 0 && comm[n - 1] == '\n')
		n--;
	comm[n] = '\0';
	return n > 0 && strncmp(comm, tool, n) == 0 ? 1 : 0;
}

/* The exit statuses of a run that refused to start (sysexits(3)):
 * usage, configuration, permission; not a crash. */
static int
refused(int ex)
{
	return ex == EX_USAGE || ex == EX_CONFIG || ex == EX_NOPERM;
}

static const char *
exit_words(int ex)
{
	static char buf[64];

	switch (ex) {
	case 0:
		return "exit 0, a clean stop";
	case EX_USAGE:
		return "exit 64: a usage error";
	case EX_DATAERR:
		return "exit 65: a data error";
	case EX_NOINPUT:
		return "exit 66: an input is missing";
	case EX_UNAVAILABLE:
		return "exit 69: a service is unavailable";
	case EX_SOFTWARE:
		return "exit 70: an internal error";
	case EX_OSERR:
		return "exit 71: an operating-system error";
	case EX_CANTCREAT:
		return "exit 73: cannot create a file";
	case EX_IOERR:
		return "exit 74: an I/O error";
	case EX_TEMPFAIL:
		return "exit 75: a temporary failure";
	case EX_NOPERM:
		return "exit 77: no permission";
	case EX_CONFIG:
		return "exit 78: a configuration error";
	}
	snprintf(buf, sizeof buf, "exit %d", ex);
	return buf;
}

static char *
jdup(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? xstrdup(v) : NULL;
}

static void
read_proc(struct status *st, struct proc *p, const char *path)
{
	char host[256] = "", *name;
	json_error_t je;
	json_t *o, *v;
	double age;

	p->exit = -1;
	p->started_at = p->time = p->progress_at = -1;
	if ((o = json_load_file(path, 0, &je)) == NULL || !json_is_object(o) ||
	    !json_is_string(json_object_get(o, "state"))) {
		p->why = xstrdup(o ? "not a heartbeat object" : je.text);
		p->flag = "unreadable";
		json_decref(o);
		return;
	}
	name = p->tool;
	p->tool = json_is_string(json_object_get(o, "tool"))
	              ? jdup(o, "tool")
	              : xstrdup(name ? name : "?");
	free(name);
	p->host = jdup(o, "host");
	p->state = jdup(o, "state");
	p->gtid = jdup(o, "gtid");
	p->detail = jdup(o, "detail");
	p->pid = (long)json_integer_value(json_object_get(o, "pid"));
	if (json_is_integer(v = json_object_get(o, "exit")))
		p->exit = (int)json_integer_value(v);
	p->interval = (int)json_integer_value(json_object_get(o, "interval"));
	p->started_at = time_field(o, "started_at");
	p->time = time_field(o, "time");
	p->progress_at = time_field(o, "progress_at");
	p->seq = u64_field(o, "seq");
	p->daemon = json_is_true(json_object_get(o, "daemon"));
	json_decref(o);

	gethostname(host, sizeof host - 1);
	if (p->host != NULL && strcmp(p->host, host) != 0)
		p->alive = -1;
	else
		p->alive = pid_alive(p->pid, p->tool);
	if (strcmp(p->state, "running") != 0) {
		/* A daemon that ended, however it ended, leaves its stage
		 * down until it runs again; a --once run that ended is the
		 * normal case (cron). */
		if (p->daemon)
			p->flag = "down";
		return;
	}
	age = p->time >= 0 ? st->now - p->time : 1e12;
	if (p->alive == 0)
		p->flag = "dead";
	else if (p->interval > 0 && age > st->cf->stale &&
	         age > 3.0 * p->interval)
		p->flag = "stale";
}

/* The pipeline's order first, then by name. */
static int
tool_rank(const char *t)
{
	static const char *const order[] = {
	    "srdf-bootstrap",
	    "srdf-capture",
	    "srdf-seal",
	    "srdf-ship",
	    "srdf-ackd",
	    "srdf-recv",
	    "srdf-apply",
	};

	for (size_t i = 0; i < sizeof order / sizeof *order; i++)
		if (strcmp(t, order[i]) == 0)
			return (int)i;
	return (int)(sizeof order / sizeof *order);
}

static int
proc_cmp(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;
	int d = tool_rank(x->tool) - tool_rank(y->tool);

	return d != 0 ? d : strcmp(x->tool, y->tool);
}

/* The DIR/run/TOOL.heartbeat files; none (or no run/) is a directory
 * where no long-running tool ran yet, not an error. */
static void
read_procs(struct status *st)
{
	static const char ext[] = ".heartbeat";
	char dir[4096], path[4096 + 256];
	struct dirent *e;
	struct proc *p;
	size_t len;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/run", st->cf->dir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len <= sizeof ext - 1 ||
		    strcmp(e->d_name + len - (sizeof ext - 1), ext) != 0)
			continue;
		st->proc = xgrow(
		    st->proc, &st->capproc, st->nproc + 1, sizeof *st->proc);
		p = &st->proc[st->nproc++];
		memset(p, 0, sizeof *p);
		p->tool = strndup(e->d_name, len - (sizeof ext - 1));
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		read_proc(st, p, path);
		if (p->flag != NULL)
			st->flagged++;
	}
	closedir(d);
	if (st->nproc > 1)
		qsort(st->proc, st->nproc, sizeof *st->proc, proc_cmp);
}

/* srdf.applied on the target; 0, or the exit status after a failure
 * (st->db_error says why). */
static int
read_target_db(struct status *st)
{
	struct buf q = {0};
	MYSQL *my;
	MYSQL_RES *r;
	MYSQL_ROW row;
	struct applied_rows rows = {0};
	char err[512], err1[400];
	int ex = 0;

	if ((my = maria_connect(st->cf->defaults_file, st->cf->group,
	         "the target", 10, &ex)) == NULL) {
		st->db_error = xstrdup("cannot connect to the target");
		return ex;
	}
	if (applied_read(my, st->source_id, &rows, err1, sizeof err1) != 0) {
		snprintf(err, sizeof err, "reading srdf.applied: %s", err1);
		log_err("%s", err);
		st->db_error = xstrdup(err);
		ex = maria_exit_for(mysql_errno(my));
		goto out;
	}
	if (rows.n > 0) {
		st->db_read = 1;
		st->db_seq = rows.v[0].seq;
		st->db_part = rows.v[0].part;
		st->db_gtid = xstrdup(rows.v[0].last_gtid);
		st->db_applied_at = rows.v[0].applied_at;
	} else {
		st->db_error = xstrdup("srdf.applied has no row for this "
		                       "source");
	}
	applied_free(&rows);
	/* XA transactions prepared on the source whose rows wait for their
	 * XA COMMIT (srdf-apply(1)); no such table: none ever. */
	buf_puts(&q, "SELECT COUNT(*), IFNULL(MIN(first_seq), 0) FROM "
	             "srdf.xa_pending");
	if (st->source_id != NULL) {
		buf_puts(&q, " WHERE source_id='");
		maria_escape(&q, st->source_id);
		buf_puts(&q, "'");
	}
	buf_putc(&q, '\0');
	if (mysql_query(my, q.p) == 0 && (r = mysql_store_result(my)) != NULL) {
		if ((row = mysql_fetch_row(r)) != NULL && row[0] && row[1]) {
			st->xa_pending = strtoll(row[0], NULL, 10);
			st->xa_first = strtoull(row[1], NULL, 10);
		}
		mysql_free_result(r);
	} else if (mysql_errno(my) == ER_NO_SUCH_TABLE)
		st->xa_pending = 0;
out:
	buf_free(&q);
	mysql_close(my);
	return ex;
}

/* ---- output --------------------------------------------------------- */

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
jseq(uint64_t seq)
{
	return seq ? json_integer((json_int_t)seq) : json_null();
}

/* print_json's parts: the wagons, the spool and the last of each stage
 * into o; one process; the target's database. */
static void
json_counts(const struct status *st, json_t *o)
{
	json_t *w = json_object(), *last = json_object(), *sp;

	for (int i = 0; i < NSTATES; i++) {
		if (i == ST_OTHER && st->count[i] == 0)
			continue;
		json_object_set_new(w, state_name(i),
		    json_pack("{s:I, s:I}", "count", (json_int_t)st->count[i],
		        "bytes", (json_int_t)st->bytes[i]));
	}
	json_object_set_new(w, "purged",
	    json_pack("{s:I, s:I}", "count", (json_int_t)st->purged, "bytes",
	        (json_int_t)st->purged_bytes));
	json_object_set_new(w, "total",
	    json_pack("{s:I, s:I}", "count", (json_int_t)st->total, "bytes",
	        (json_int_t)st->total_bytes));
	json_object_set_new(o, "wagons", w);
	sp = json_object();
	json_object_set_new(sp, "name", json_string(st->spool));
	json_object_set_new(sp, "new",
	    st->spool_new < 0 ? json_null() : json_integer(st->spool_new));
	json_object_set_new(sp, "bad",
	    st->spool_bad < 0 ? json_null() : json_integer(st->spool_bad));
	json_object_set_new(o, "spool", sp);
	for (int i = 0; i < NSTAGES; i++)
		json_object_set_new(last, stage_names[i],
		    st->last[i].seq ? json_pack("{s:I, s:o}", "seq",
		                          (json_int_t)st->last[i].seq, "gtid",
		                          jstr(st->last[i].gtid))
		                    : json_null());
	json_object_set_new(o, "last", last);
}

static json_t *
json_proc(const struct status *st, const struct proc *p)
{
	json_t *po = json_object();

	json_object_set_new(po, "tool", jstr(p->tool));
	json_object_set_new(po, "host", jstr(p->host));
	json_object_set_new(
	    po, "pid", p->pid > 0 ? json_integer(p->pid) : json_null());
	json_object_set_new(po, "state", jstr(p->state));
	json_object_set_new(
	    po, "exit", p->exit >= 0 ? json_integer(p->exit) : json_null());
	json_object_set_new(po, "alive",
	    p->state == NULL || p->alive < 0 ? json_null()
	                                     : json_boolean(p->alive));
	json_object_set_new(po, "started_at",
	    p->started_at >= 0 ? json_real(p->started_at) : json_null());
	json_object_set_new(po, "heartbeat_at",
	    p->time >= 0 ? json_real(p->time) : json_null());
	json_object_set_new(po, "heartbeat_age_seconds",
	    p->time >= 0 ? json_real(st->now - p->time) : json_null());
	json_object_set_new(po, "interval_seconds", json_integer(p->interval));
	json_object_set_new(po, "seq", jseq(p->seq));
	json_object_set_new(po, "gtid", jstr(p->gtid));
	json_object_set_new(po, "progress_at",
	    p->progress_at >= 0 ? json_real(p->progress_at) : json_null());
	json_object_set_new(po, "detail", jstr(p->detail));
	json_object_set_new(po, "flag", jstr(p->flag));
	json_object_set_new(po, "daemon", json_boolean(p->daemon));
	if (p->why != NULL)
		json_object_set_new(po, "error", json_string(p->why));
	return po;
}

static json_t *
json_db(const struct status *st)
{
	json_t *db;

	db = json_object();
	if (st->db_read) {
		json_object_set_new(
		    db, "seq", json_integer((json_int_t)st->db_seq));
		json_object_set_new(db, "part", json_integer(st->db_part));
		json_object_set_new(db, "last_gtid", jstr(st->db_gtid));
		json_object_set_new(db, "applied_at",
		    st->db_applied_at >= 0 ? json_real(st->db_applied_at)
		                           : json_null());
	}
	if (st->xa_pending >= 0) {
		json_object_set_new(
		    db, "xa_pending", json_integer((json_int_t)st->xa_pending));
		if (st->xa_pending > 0)
			json_object_set_new(db, "xa_pending_first_seq",
			    json_integer((json_int_t)st->xa_first));
	}
	if (st->db_error)
		json_object_set_new(db, "error", json_string(st->db_error));
	return db;
}

/* The keys section (see ---- keys): per key id its wagons kept, pending
 * ACKs (null: unknown), and with --key-file its place in the ring and
 * whether it is retirable (null without). */
static json_t *
json_keys(const struct status *st)
{
	json_t *o = json_object(), *ids = json_object(), *ret = json_array();
	const struct keyuse *k;
	const char *newest = NULL;
	long long a;

	for (k = st->keys; k < st->keys + st->nkeys; k++) {
		a = key_acks(st, k);
		json_object_set_new(ids, k->id,
		    json_pack("{s:I, s:o, s:o, s:o, s:o}", "wagons",
		        (json_int_t)k->wagons, "pending_acks",
		        a < 0 ? json_null() : json_integer((json_int_t)a),
		        "in_key_file",
		        st->nring ? json_boolean(k->ring >= 0) : json_null(),
		        "newest",
		        st->nring ? json_boolean(k->ring == 0) : json_null(),
		        "retirable",
		        st->nring ? json_boolean(key_retirable(st, k))
		                  : json_null()));
		if (k->ring == 0)
			newest = k->id;
		if (key_retirable(st, k))
			json_array_append_new(ret, json_string(k->id));
	}
	json_object_set_new(o, "key_file", jstr(st->cf->key_file));
	json_object_set_new(o, "newest", jstr(newest));
	json_object_set_new(o, "ids", ids);
	json_object_set_new(
	    o, "unknown_wagons", json_integer((json_int_t)st->key_unknown));
	json_object_set_new(o, "pending_acks",
	    st->side == SIDE_TARGET ? json_integer((json_int_t)st->acks)
	                            : json_null());
	if (st->nring == 0) {
		json_decref(ret);
		ret = json_null();
	}
	json_object_set_new(o, "retirable", ret);
	return o;
}

/* {seq, gtid, source_commit_at} of stage sg, or null. */
static json_t *
upto_json(const struct status *st, int sg, double ts)
{
	if (st->last[sg].seq == 0)
		return json_null();
	return json_pack("{s:I, s:o, s:o}", "seq", (json_int_t)st->last[sg].seq,
	    "gtid", jstr(st->last[sg].gtid), "source_commit_at",
	    ts > 0 ? json_real(ts) : json_null());
}

static void
print_json(const struct status *st)
{
	json_t *o = json_object(), *stale, *e = json_null(), *procs;
	char *s;

	json_object_set_new(o, "dir", json_string(st->cf->dir));
	json_object_set_new(o, "side",
	    json_string(st->side == SIDE_SOURCE ? "source" : "target"));
	json_object_set_new(o, "source_id", jstr(st->source_id));
	json_object_set_new(o, "now", json_real(st->now));
	json_counts(st, o);
	json_object_set_new(
	    o, "rpo_seconds", st->rpo >= 0 ? json_real(st->rpo) : json_null());
	json_object_set_new(o, "rpo_seq", jseq(st->rpo_seq));
	json_object_set_new(
	    o, "rpo_caught_up", json_boolean(st->rpo_caught_up));
	json_object_set_new(
	    o, "rpo_unconfirmed", json_boolean(st->rpo_unconfirmed));
	if (st->side == SIDE_TARGET)
		json_object_set_new(o, "apply_lag",
		    st->applied_ts > 0 && st->applied_at > 0
		        ? json_pack("{s:I, s:f, s:f, s:f}", "seq",
		              (json_int_t)st->last[SG_APPLIED].seq,
		              "source_commit_at", st->applied_ts, "lag_seconds",
		              st->applied_at - st->applied_ts > 0
		                  ? st->applied_at - st->applied_ts
		                  : 0.0,
		              "source_commit_age_seconds",
		              st->now - st->applied_ts)
		        : json_null());
	if (st->side == SIDE_SOURCE) {
		json_object_set_new(o, "offsite_seconds",
		    st->offsite >= 0 ? json_real(st->offsite) : json_null());
		json_object_set_new(o, "offsite_seq", jseq(st->offsite_seq));
	} else {
		json_object_set_new(o, "received_upto",
		    upto_json(st, SG_RECEIVED, st->received_ts));
		json_object_set_new(o, "applied_upto",
		    upto_json(st, SG_APPLIED, st->applied_ts));
		json_object_set_new(o, "apply_delay_seconds",
		    st->delay_ms >= 0 ? json_real((double)st->delay_ms / 1000)
		                      : json_null());
		json_object_set_new(o, "until_stop",
		    st->until_stop ? json_incref(st->until_stop) : json_null());
	}
	stale = json_pack("{s:I, s:o, s:i}", "count", (json_int_t)st->stale,
	    "first_seq", jseq(st->stale_first), "threshold_seconds",
	    st->cf->stale);
	json_object_set_new(o, "stale", stale);
	json_object_set_new(
	    o, "failed", json_integer((json_int_t)st->count[ST_FAILED]));
	json_object_set_new(
	    o, "dead", json_integer((json_int_t)st->count[ST_DEAD]));
	if (st->err_seq)
		e = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)st->err_seq,
		    "state", st->err_state, "error", st->err_text);
	json_object_set_new(o, "last_error", e);
	procs = json_array();
	for (size_t i = 0; i < st->nproc; i++)
		json_array_append_new(procs, json_proc(st, &st->proc[i]));
	json_object_set_new(o, "processes", procs);
	json_object_set_new(
	    o, "flagged_processes", json_integer((json_int_t)st->flagged));
	if (st->cf->defaults_file != NULL && st->side == SIDE_TARGET)
		json_object_set_new(o, "target_db", json_db(st));
	if (st->side == SIDE_TARGET)
		json_object_set_new(o, "promoted",
		    st->promoted == NULL
		        ? json_null()
		        : json_pack("{s:s, s:o, s:o, s:o, s:o}", "at",
		              st->promoted, "seq", jstr(st->prom[0]), "gtid",
		              jstr(st->prom[1]), "gtid_pos", jstr(st->prom[2]),
		              "binlog_pos", jstr(st->prom[3])));
	json_object_set_new(o, "keys", json_keys(st));
	if (st->side == SIDE_SOURCE)
		json_object_set_new(o, "dropped_from_selection",
		    st->dropped != NULL ? json_incref(st->dropped)
		                        : json_object());
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	puts(s);
	free(s);
	json_decref(o);
}

/* ---- Prometheus ------------------------------------------------------
 *
 * The text format (0.0.4) of the node_exporter textfile collector.
 * Several state directories on one host (two pipelines, or a source and
 * a target) may write files into one collector directory, which
 * node_exporter merges into one scrape: so every series carries
 * source_id, side and state_dir, and a name's HELP, TYPE and label names
 * never depend on the side or the directory, as a family merged from
 * several files must agree.  Counters end in _total and never go down:
 * each adds up the records kept and the sums purge.h keeps in the meta
 * table of the records purged.  Ages are gauges in seconds.
 */

/* A label value: \, " and newline escaped. */
static void
prom_label(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

static void
prom_head(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* NAME{source_id="..",side="..",state_dir="..",K="V"...} VALUE; the
 * extra labels as key, value pairs ending with NULL. */
static void
prom_vseries(
    const struct status *st, const char *name, const char *value, va_list ap)
{
	const char *k;

	printf("%s{source_id=\"", name);
	prom_label(st->source_id ? st->source_id : "");
	printf("\",side=\"%s\",state_dir=\"",
	    st->side == SIDE_SOURCE ? "source" : "target");
	prom_label(st->realdir);
	putchar('"');
	while ((k = va_arg(ap, const char *)) != NULL) {
		printf(",%s=\"", k);
		prom_label(va_arg(ap, const char *));
		putchar('"');
	}
	printf("} %s\n", value);
}

static void prom_u(const struct status *, const char *, uint64_t, ...)
    __attribute__((sentinel));
static void prom_f(const struct status *, const char *, double, ...)
    __attribute__((sentinel));

static void
prom_u(const struct status *st, const char *name, uint64_t v, ...)
{
	char b[32];
	va_list ap;

	snprintf(b, sizeof b, "%" PRIu64, v);
	va_start(ap, v);
	prom_vseries(st, name, b, ap);
	va_end(ap);
}

static void
prom_f(const struct status *st, const char *name, double v, ...)
{
	char b[64];
	va_list ap;

	snprintf(b, sizeof b, "%.3f", v);
	va_start(ap, v);
	prom_vseries(st, name, b, ap);
	va_end(ap);
}

/* A process's one state for srdf_process_state: its flag, else what its
 * file says. */
static const char *const proc_states[] = {
    "running",
    "stopped",
    "down",
    "dead",
    "stale",
    "unreadable",
};

static const char *
proc_state(const struct proc *p)
{
	if (p->flag != NULL)
		return p->flag;
	return p->state != NULL && strcmp(p->state, "running") == 0 ? "running"
	                                                            : "stopped";
}

/* The six counters named for each side's stages, source then target
 * (prom_side). */
static const struct {
	const char *name, *help;
} side_ctr[2][6] = {
    {
        {"srdf_wagons_sealed_total", "Wagons sealed (source)."},
        {"srdf_sealed_bytes_total", "Bytes of the wagons sealed (source)."},
        {"srdf_wagons_shipped_total",
            "Wagons delivered to the target (source)."},
        {"srdf_shipped_bytes_total",
            "Bytes of the wagons delivered to the target (source)."},
        {"srdf_ship_attempts_total",
            "Delivery attempts of srdf-ship (source)."},
        {"srdf_ship_retries_total",
            "Delivery attempts after a wagon's first, each one after "
            "a failed attempt (source)."},
    },
    {
        {"srdf_wagons_received_total", "Wagons received (target)."},
        {"srdf_received_bytes_total", "Bytes of the wagons received (target)."},
        {"srdf_wagons_applied_total",
            "Wagons applied to the target database (target)."},
        {"srdf_applied_bytes_total", "Bytes of the wagons applied (target)."},
        {"srdf_apply_attempts_total", "Apply attempts of srdf-apply (target)."},
        {"srdf_apply_retries_total",
            "Apply attempts after a wagon's first, each one after a "
            "failed attempt (target)."},
    },
};

/* The side's six counters: wagons and bytes sealed or received, past
 * the delivery or the apply (n wagons, b bytes), attempts and retries. */
static void
prom_side(const struct status *st, uint64_t n, uint64_t b)
{
	const uint64_t v[6] = {st->total, st->total_bytes, n, b,
	    st->attempts + st->p_attempts, st->retries + st->p_retries};
	int side = st->side == SIDE_SOURCE ? 0 : 1;

	for (size_t i = 0; i < 6; i++) {
		prom_head(
		    side_ctr[side][i].name, "counter", side_ctr[side][i].help);
		prom_u(st, side_ctr[side][i].name, v[i], NULL);
	}
}

/* The counters: wagons, bytes, row changes and attempts through each
 * stage of the side, the records kept plus the ones purged. */
static void
prom_counters(const struct status *st)
{
	int src = st->side == SIDE_SOURCE;
	/* Past the delivery (source) or the apply (target); a purged wagon
	 * always is (srdf-ackd purges confirmed wagons, srdf-apply applied
	 * ones). */
	static const int past_src[] = {ST_RECEIVED, ST_FAILED, ST_CONFIRMED};
	static const int past_dst[] = {ST_APPLIED, ST_CONFIRMED};
	const int *past = src ? past_src : past_dst;
	size_t npast = src ? 3 : 2;
	uint64_t n = st->purged, b = st->purged_bytes;

	for (size_t i = 0; i < npast; i++) {
		n += st->count[past[i]];
		b += st->bytes[past[i]];
	}
	prom_side(st, n, b);
	prom_head("srdf_wagons_confirmed_total", "counter",
	    "Wagons whose ACK of their apply the source took.");
	prom_u(st, "srdf_wagons_confirmed_total",
	    st->count[ST_CONFIRMED] + st->p_confirmed, NULL);
	prom_head("srdf_wagons_purged_total", "counter",
	    "Wagons whose file and ledger record were removed after --keep.");
	prom_u(st, "srdf_wagons_purged_total", st->purged, NULL);
	prom_head("srdf_purged_bytes_total", "counter",
	    "Bytes of the wagons purged.");
	prom_u(st, "srdf_purged_bytes_total", st->purged_bytes, NULL);
	prom_head("srdf_row_changes_in_total", "counter",
	    "Row changes captured into the wagons sealed (source) or "
	    "received (target), before srdf-dedup folded them.");
	prom_u(st, "srdf_row_changes_in_total", st->ev_in + st->p_ev_in, NULL);
	prom_head("srdf_row_changes_out_total", "counter",
	    "Row changes in the wagons sealed (source) or received "
	    "(target), after srdf-dedup folded them.");
	prom_u(
	    st, "srdf_row_changes_out_total", st->ev_out + st->p_ev_out, NULL);
}

static void
prom_procs(const struct status *st)
{
	const struct proc *p;
	size_t i;

	if (st->nproc == 0)
		return;
	prom_head("srdf_process_up", "gauge",
	    "1 while the tool's process "
	    "runs: its heartbeat file says running and its pid is alive.");
	for (p = st->proc; p < st->proc + st->nproc; p++)
		prom_u(st, "srdf_process_up",
		    p->state != NULL && strcmp(p->state, "running") == 0 &&
		        p->alive != 0,
		    "tool", p->tool, NULL);
	prom_head("srdf_process_state", "gauge",
	    "1 for the state of the "
	    "tool's process, 0 for the others: running, stopped (a run that "
	    "ends by itself, ended), down (a daemon stopped), dead (killed), "
	    "stale (hung), unreadable.");
	for (p = st->proc; p < st->proc + st->nproc; p++)
		for (i = 0; i < sizeof proc_states / sizeof *proc_states; i++)
			prom_u(st, "srdf_process_state",
			    strcmp(proc_state(p), proc_states[i]) == 0, "tool",
			    p->tool, "state", proc_states[i], NULL);
	prom_head("srdf_process_flagged", "gauge",
	    "1 when the process is "
	    "down, dead, stale or its heartbeat file unreadable.");
	for (p = st->proc; p < st->proc + st->nproc; p++)
		prom_u(st, "srdf_process_flagged", p->flag != NULL, "tool",
		    p->tool, NULL);
	prom_head("srdf_process_heartbeat_age_seconds", "gauge",
	    "Seconds since the process's last heartbeat.");
	for (p = st->proc; p < st->proc + st->nproc; p++)
		if (p->time >= 0)
			prom_f(st, "srdf_process_heartbeat_age_seconds",
			    st->now - p->time, "tool", p->tool, NULL);
	prom_head("srdf_process_start_time_seconds", "gauge",
	    "When the process started (Unix time).");
	for (p = st->proc; p < st->proc + st->nproc; p++)
		if (p->started_at >= 0)
			prom_f(st, "srdf_process_start_time_seconds",
			    p->started_at, "tool", p->tool, NULL);
	prom_head("srdf_process_progress_sequence", "gauge",
	    "The newest wagon the process handled.");
	for (p = st->proc; p < st->proc + st->nproc; p++)
		if (p->seq > 0)
			prom_u(st, "srdf_process_progress_sequence", p->seq,
			    "tool", p->tool, NULL);
}

/* print_prom's parts: the wagons and spools; RPO, lag and the wagons
 * in trouble; the file system and the promotion; the target's
 * database. */
static void
prom_wagons(const struct status *st)
{
	prom_head("srdf_wagons", "gauge",
	    "Wagons whose ledger record is kept, by state.");
	for (int i = 0; i < ST_OTHER; i++)
		prom_u(st, "srdf_wagons", st->count[i], "state", state_name(i),
		    NULL);
	prom_head("srdf_wagon_bytes", "gauge",
	    "Bytes of the wagons whose ledger record is kept, by state.");
	for (int i = 0; i < ST_OTHER; i++)
		prom_u(st, "srdf_wagon_bytes", st->bytes[i], "state",
		    state_name(i), NULL);
	prom_head(
	    "srdf_spool_depth", "gauge", "Items in the spool's new/ and bad/.");
	if (st->spool_new >= 0)
		prom_u(st, "srdf_spool_depth", (uint64_t)st->spool_new, "spool",
		    st->spool, "subdir", "new", NULL);
	if (st->spool_bad >= 0)
		prom_u(st, "srdf_spool_depth", (uint64_t)st->spool_bad, "spool",
		    st->spool, "subdir", "bad", NULL);
	prom_head("srdf_last_sequence", "gauge",
	    "The newest wagon sequence that reached each stage; 0: none.");
	for (int i = 0; i < NSTAGES; i++)
		prom_u(st, "srdf_last_sequence", st->last[i].seq, "stage",
		    stage_names[i], NULL);
}

static void
prom_lag(const struct status *st)
{
	if (st->rpo >= 0) {
		prom_head("srdf_rpo_seconds", "gauge",
		    "Recovery point "
		    "(source): seconds since the oldest source commit not yet "
		    "confirmed, or less when caught up.");
		prom_f(st, "srdf_rpo_seconds", st->rpo, NULL);
	}
	if (st->side == SIDE_SOURCE && st->offsite >= 0) {
		prom_head("srdf_offsite_seconds", "gauge",
		    "Source: seconds since the oldest source commit not yet "
		    "received by the target (stored at the DR site).");
		prom_f(st, "srdf_offsite_seconds", st->offsite, NULL);
	}
	if (st->side == SIDE_TARGET && st->delay_ms >= 0) {
		prom_head("srdf_apply_delay_seconds", "gauge",
		    "Target: srdf-apply's --delay, how old a wagon's last "
		    "source commit must be before it is applied.");
		prom_f(st, "srdf_apply_delay_seconds",
		    (double)st->delay_ms / 1000, NULL);
	}
	if (st->side == SIDE_TARGET && st->applied_ts > 0 &&
	    st->applied_at > 0) {
		prom_head("srdf_apply_lag_seconds", "gauge",
		    "Target: how long "
		    "after its last source commit the newest applied wagon "
		    "was applied.");
		prom_f(st, "srdf_apply_lag_seconds",
		    st->applied_at - st->applied_ts > 0
		        ? st->applied_at - st->applied_ts
		        : 0.0,
		    NULL);
		prom_head("srdf_applied_source_commit_timestamp_seconds",
		    "gauge",
		    "Target: the source commit time of the last "
		    "transaction applied (Unix seconds).");
		prom_f(st, "srdf_applied_source_commit_timestamp_seconds",
		    st->applied_ts, NULL);
	}
	prom_head("srdf_failed_wagons", "gauge", "Wagons in state failed.");
	prom_u(st, "srdf_failed_wagons", st->count[ST_FAILED], NULL);
	prom_head("srdf_dead_wagons", "gauge", "Wagons in state dead.");
	prom_u(st, "srdf_dead_wagons", st->count[ST_DEAD], NULL);
	prom_head("srdf_stale_wagons", "gauge",
	    "Wagons waiting longer than "
	    "--stale: sealed and not received (source), received and not "
	    "applied (target).");
	prom_u(st, "srdf_stale_wagons", st->stale, NULL);
	prom_head("srdf_oldest_pending_wagon_age_seconds", "gauge",
	    "Seconds the oldest wagon sealed and not received (source), "
	    "received and not applied (target) has waited; 0: none.");
	prom_f(st, "srdf_oldest_pending_wagon_age_seconds",
	    st->pending_since >= 0 && st->now > st->pending_since
	        ? st->now - st->pending_since
	        : 0,
	    NULL);
}

static void
prom_fs(const struct status *st)
{
	double t;

	if (st->fs_avail >= 0) {
		prom_head("srdf_filesystem_avail_bytes", "gauge",
		    "Bytes "
		    "free to unprivileged users on the state directory's file "
		    "system.");
		prom_u(st, "srdf_filesystem_avail_bytes",
		    (uint64_t)st->fs_avail, NULL);
		prom_head("srdf_filesystem_size_bytes", "gauge",
		    "Size of the state directory's file system in bytes.");
		prom_u(st, "srdf_filesystem_size_bytes", (uint64_t)st->fs_size,
		    NULL);
	}
	if (st->side == SIDE_TARGET) {
		prom_head("srdf_promoted", "gauge",
		    "1 when srdf-promote made "
		    "the target writable (target).");
		prom_u(st, "srdf_promoted", st->promoted != NULL, NULL);
		if ((t = clock_iso_parse(st->promoted)) >= 0) {
			prom_head("srdf_promoted_timestamp_seconds", "gauge",
			    "When srdf-promote promoted the target (Unix "
			    "time).");
			prom_u(st, "srdf_promoted_timestamp_seconds",
			    (uint64_t)t, NULL);
		}
	}
}

static void
prom_db(const struct status *st)
{
	if (st->db_read) {
		prom_head("srdf_target_applied_sequence", "gauge",
		    "The sequence in the target's srdf.applied.");
		prom_u(st, "srdf_target_applied_sequence", st->db_seq, NULL);
		if (st->db_applied_at >= 0) {
			prom_head("srdf_target_applied_timestamp_seconds",
			    "gauge",
			    "When srdf.applied last moved (Unix "
			    "time).");
			prom_f(st, "srdf_target_applied_timestamp_seconds",
			    st->db_applied_at, NULL);
		}
	}
	if (st->xa_pending >= 0) {
		prom_head("srdf_target_xa_pending", "gauge",
		    "XA transactions prepared on the source whose rows wait "
		    "on the target for their XA COMMIT.");
		prom_u(st, "srdf_target_xa_pending", (uint64_t)st->xa_pending,
		    NULL);
	}
}

/* The keys section: the wagons kept per key id (key_id "unknown": the
 * records that name none), the target's pending ACKs, and with
 * --key-file which keys of the ring are retirable. */
static void
prom_keys(const struct status *st)
{
	const struct keyuse *k;

	prom_head("srdf_key_wagons", "gauge",
	    "Wagons kept (ledger records not purged) per key id that sealed "
	    "them; key_id \"unknown\": records that name none.");
	for (k = st->keys; k < st->keys + st->nkeys; k++)
		prom_u(st, "srdf_key_wagons", k->wagons, "key_id", k->id, NULL);
	if (st->key_unknown > 0 || st->nkeys == 0)
		prom_u(st, "srdf_key_wagons", st->key_unknown, "key_id",
		    "unknown", NULL);
	if (st->nring > 0) {
		prom_head("srdf_key_retirable", "gauge",
		    "With --key-file, per key of the ring: 1 when no wagon "
		    "kept and no pending ACK uses it and it is not the "
		    "newest.");
		for (k = st->keys; k < st->keys + st->nkeys; k++)
			if (k->ring >= 0)
				prom_u(st, "srdf_key_retirable",
				    (uint64_t)key_retirable(st, k), "key_id",
				    k->id, NULL);
	}
	if (st->side == SIDE_TARGET) {
		prom_head("srdf_pending_acks", "gauge",
		    "Target: ACKs queued in the ledger and not yet taken by "
		    "the source.");
		prom_u(st, "srdf_pending_acks", st->acks, NULL);
	}
}

static void
print_prom(const struct status *st)
{
	prom_head("srdf_info", "gauge",
	    "Always 1: the state directory's "
	    "source id, side and path, and the srdf version.");
	prom_u(st, "srdf_info", 1, "version", SRDF_VERSION, NULL);
	prom_head("srdf_status_timestamp_seconds", "gauge",
	    "When srdf-status made this report (Unix time).");
	prom_f(st, "srdf_status_timestamp_seconds", st->now, NULL);
	prom_counters(st);
	prom_wagons(st);
	prom_lag(st);
	prom_fs(st);
	prom_procs(st);
	prom_db(st);
	if (st->side == SIDE_SOURCE) {
		prom_head("srdf_selection_dropped_tables", "gauge",
		    "Tables of srdf-bootstrap's copy that srdf-capture no "
		    "longer keeps in step (--drop-from-selection).");
		prom_u(st, "srdf_selection_dropped_tables",
		    (uint64_t)json_object_size(st->dropped), NULL);
	}
	prom_keys(st);
}

/* print_table's parts, in their order: the counts, RPO or lag, the
 * errors, the processes and what is wrong with them, the target. */
static void
table_counts(const struct status *st)
{
	printf("%s: %s ledger, source id %s\n", st->cf->dir,
	    st->side == SIDE_SOURCE ? "source" : "target",
	    st->source_id ? st->source_id : "(none)");
	printf("  %-10s %10s %14s\n", "state", "wagons", "bytes");
	for (int i = 0; i < NSTATES; i++) {
		if (i == ST_OTHER && st->count[i] == 0)
			continue;
		printf("  %-10s %10" PRIu64 " %14" PRIu64 "\n", state_name(i),
		    st->count[i], st->bytes[i]);
	}
	printf("  %-10s %10" PRIu64 " %14" PRIu64 "\n", "purged", st->purged,
	    st->purged_bytes);
	printf("  %-10s %10" PRIu64 " %14" PRIu64 "\n", "total", st->total,
	    st->total_bytes);
	/* The outbox keeps a wagon until srdf-ackd purges it, confirmed and
	 * older than --keep; the inbox's new/ holds what waits to apply. */
	if (st->spool_new >= 0)
		printf("%s/new: %ld wagon(s) %s", st->spool, st->spool_new,
		    st->side == SIDE_SOURCE ? "kept" : "waiting");
	else
		printf("%s/new: absent", st->spool);
	if (st->spool_bad > 0)
		printf(", %ld in %s/bad", st->spool_bad, st->spool);
	putchar('\n');
	for (int i = 0; i < NSTAGES; i++) {
		if (st->last[i].seq == 0)
			printf("last %-10s -\n", stage_names[i]);
		else
			printf("last %-10s %" PRIu64 " (%s)\n", stage_names[i],
			    st->last[i].seq,
			    st->last[i].gtid ? st->last[i].gtid : "no GTID");
	}
}

/* "received up to" (wagon, GTID, source commit time) and "applied up
 * to", the apply delay and the --until stop of a target. */
static void
upto(const struct status *st, const char *what, int sg, double ts)
{
	char tb[64];

	if (st->last[sg].seq == 0)
		return;
	printf("%s up to: wagon %" PRIu64 ", GTID %s", what, st->last[sg].seq,
	    st->last[sg].gtid ? st->last[sg].gtid : "-");
	if (ts > 0)
		printf(", source commit %s (%.0f s ago)",
		    clock_iso(ts, 'T', tb, sizeof tb), st->now - ts);
	putchar('\n');
}

static void
table_upto(const struct status *st)
{
	json_t *u = st->until_stop;

	upto(st, "received", SG_RECEIVED, st->received_ts);
	upto(st, "applied", SG_APPLIED, st->applied_ts);
	if (st->delay_ms > 0)
		printf("apply delay: --delay %lld s (srdf-apply applies a "
		       "wagon once its last source commit is that old)\n",
		    st->delay_ms / 1000);
	if (u != NULL)
		printf("stopped at wagon %" PRIu64 " part %" PRIu64
		       ", GTID %s (--%s %s): %s\n",
		    (uint64_t)json_integer_value(json_object_get(u, "seq")),
		    (uint64_t)json_integer_value(json_object_get(u, "part")),
		    json_string_value(json_object_get(u, "gtid"))
		        ? json_string_value(json_object_get(u, "gtid"))
		        : "-",
		    json_string_value(json_object_get(u, "option"))
		        ? json_string_value(json_object_get(u, "option"))
		        : "until",
		    json_string_value(json_object_get(u, "point"))
		        ? json_string_value(json_object_get(u, "point"))
		        : "?",
		    json_string_value(json_object_get(u, "why"))
		        ? json_string_value(json_object_get(u, "why"))
		        : "");
}

static void
table_lag(const struct status *st)
{
	if (st->side == SIDE_SOURCE) {
		if (st->rpo >= 0 && st->rpo_caught_up)
			printf("rpo: %.0f s (caught up: every wagon confirmed, "
			       "srdf-capture at the sealed position)\n",
			    st->rpo);
		else if (st->rpo >= 0 && st->rpo_unconfirmed)
			printf("rpo: %.0f s (the first commit of wagon %" PRIu64
			       ", the oldest not confirmed)\n",
			    st->rpo, st->rpo_seq);
		else if (st->rpo >= 0)
			printf("rpo: %.0f s (wagon %" PRIu64 ")\n", st->rpo,
			    st->rpo_seq);
		else
			printf("rpo: unknown (no confirmed wagon with a "
			       "commit time)\n");
		if (st->stale > 0)
			printf("STALE: %" PRIu64 " wagon(s) sealed more than "
			       "%d s ago and not received, the first %" PRIu64
			       "\n",
			    st->stale, st->cf->stale, st->stale_first);
		if (st->offsite >= 0 && st->offsite_seq != 0)
			printf("off-site: %.0f s (the first commit of wagon "
			       "%" PRIu64 ", the oldest not received)\n",
			    st->offsite, st->offsite_seq);
		else if (st->offsite >= 0)
			printf("off-site: %.0f s (every wagon received; the "
			       "last commit of the newest)\n",
			    st->offsite);
		if (st->cf->max_rpo >= 0 && st->rpo > st->cf->max_rpo)
			printf("RPO: %.0f s, over --max-rpo %.0f s\n", st->rpo,
			    st->cf->max_rpo);
	} else {
		table_upto(st);
		if (st->applied_ts > 0 && st->applied_at > 0) {
			double lag = st->applied_at - st->applied_ts;

			printf(
			    "apply lag: %.0f s (wagon %" PRIu64 ", applied "
			    "that long after its last source commit, which is "
			    "%.0f s old)\n",
			    lag > 0 ? lag : 0.0, st->last[SG_APPLIED].seq,
			    st->now - st->applied_ts);
		}
		if (st->stale > 0)
			printf(
			    "STALE: %" PRIu64 " wagon(s) received more "
			    "than %d s ago and not applied, the first %" PRIu64
			    "\n",
			    st->stale, st->cf->stale, st->stale_first);
	}
	if (st->count[ST_FAILED] > 0)
		printf("FAILED: %" PRIu64 " wagon(s)\n", st->count[ST_FAILED]);
	if (st->count[ST_DEAD] > 0)
		printf("DEAD: %" PRIu64 " wagon(s), waiting for the operator\n",
		    st->count[ST_DEAD]);
	if (st->err_seq)
		printf("last error: wagon %" PRIu64 " (%s): %s\n", st->err_seq,
		    st->err_state, st->err_text);
}

static void
table_procs(const struct status *st)
{
	if (st->nproc > 0)
		printf("  %-15s %8s %-10s %9s  %s\n", "process", "pid", "state",
		    "heartbeat", "progress");
	for (const struct proc *p = st->proc; p < st->proc + st->nproc; p++) {
		char ps[32], hb[32], pr[300], sb[32];

		snprintf(ps, sizeof ps, p->pid > 0 ? "%ld" : "-", p->pid);
		snprintf(hb, sizeof hb, p->time >= 0 ? "%.1f s" : "-",
		    st->now - p->time);
		if (p->state == NULL)
			snprintf(sb, sizeof sb, "UNREADABLE");
		else if (p->flag != NULL)
			snprintf(sb, sizeof sb, "%s",
			    strcmp(p->flag, "dead") == 0   ? "DEAD"
			    : strcmp(p->flag, "down") == 0 ? "DOWN"
			                                   : "STALE");
		else if (p->exit >= 0)
			snprintf(sb, sizeof sb, "%s(%d)", p->state, p->exit);
		else
			snprintf(sb, sizeof sb, "%s", p->state);
		pr[0] = '\0';
		if (p->seq > 0)
			snprintf(pr, sizeof pr, "wagon %" PRIu64 ", ", p->seq);
		if (p->gtid != NULL)
			snprintf(pr + strlen(pr), sizeof pr - strlen(pr),
			    "GTID %s, ", p->gtid);
		if (pr[0] != '\0')
			pr[strlen(pr) - 2] = '\0';
		else
			snprintf(pr, sizeof pr, "-");
		printf("  %-15s %8s %-10s %9s  %s\n", p->tool, ps, sb, hb, pr);
		if (p->detail != NULL && p->detail[0] != '\0')
			printf("  %-15s %8s %-10s %9s  %s\n", "", "", "", "",
			    p->detail);
	}
}

static void
table_flags(const struct status *st)
{
	for (const struct proc *p = st->proc; p < st->proc + st->nproc; p++) {
		if (p->flag == NULL)
			continue;
		if (strcmp(p->flag, "dead") == 0)
			printf(
			    "DEAD: %s (pid %ld) ended without a clean stop "
			    "(killed or died on an error; see its log), last "
			    "heartbeat %.0f s ago\n",
			    p->tool, p->pid, st->now - p->time);
		else if (strcmp(p->flag, "stale") == 0)
			printf(
			    "STALE: %s (pid %ld) runs but its last heartbeat "
			    "is %.0f s old (promised every %d s): hung or "
			    "blocked\n",
			    p->tool, p->pid, st->now - p->time, p->interval);
		else if (strcmp(p->flag, "down") == 0)
			printf("DOWN: %s, which ran as a daemon, %s %.0f s ago "
			       "(%s); its stage does nothing until it runs "
			       "again\n",
			    p->tool,
			    refused(p->exit) ? "refused "
			                       "to start"
			                     : "stopped",
			    st->now - p->time, exit_words(p->exit));
		else
			printf("UNREADABLE: %s/run/%s.heartbeat: %s\n",
			    st->cf->dir, p->tool, p->why ? p->why : "?");
	}
	for (const struct proc *p = st->proc; p < st->proc + st->nproc; p++)
		if (p->flag == NULL && p->state != NULL && p->exit != 0 &&
		    p->exit >= 0)
			printf("note: the last run of %s %s %.0f s ago (%s)\n",
			    p->tool,
			    refused(p->exit) ? "refused to start" : "ended",
			    st->now - p->time, exit_words(p->exit));
}

static void
table_db(const struct status *st)
{
	char tb[64];

	if (st->db_read) {
		printf("target srdf.applied: %" PRIu64 " (%s) at %s%s\n",
		    st->db_seq, st->db_gtid ? st->db_gtid : "no GTID",
		    st->db_applied_at >= 0
		        ? clock_iso(st->db_applied_at, ' ', tb, sizeof tb)
		        : "?",
		    st->db_part > 0 ? ", and part of the next wagon" : "");
		if (st->db_read && st->db_part > 0)
			printf("target srdf.applied part: %d (the first %d "
			       "transaction%s of wagon %" PRIu64 " applied)\n",
			    st->db_part, st->db_part,
			    st->db_part == 1 ? "" : "s", st->db_seq + 1);
	} else if (st->db_error)
		printf("target srdf.applied: %s\n", st->db_error);
	if (st->xa_pending > 0)
		printf(
		    "target XA pending: %lld prepared on the source, waiting "
		    "for their XA COMMIT (srdf.xa_pending; from wagon %" PRIu64
		    ")\n",
		    st->xa_pending, st->xa_first);
}

/* The keys section: one line per key id, its wagons kept, on the target
 * its pending ACKs ("-": unknown without --key-file), and with
 * --key-file what may be done with it. */
static void
table_keys(const struct status *st)
{
	const struct keyuse *k;
	const char *what;
	char acks[32];
	long long a;
	int tgt = st->side == SIDE_TARGET;

	if (st->nring > 0)
		printf("keys: wagons kept per key id; the ring of %s has %d\n",
		    st->cf->key_file, st->nring);
	else
		printf("keys: wagons kept per key id\n");
	if (st->nkeys == 0 && st->key_unknown == 0) {
		printf("  none kept\n");
		return;
	}
	printf("  %-18s %10s%s\n", "key id", "wagons",
	    tgt ? "  pending ACKs" : "");
	for (k = st->keys; k < st->keys + st->nkeys; k++) {
		a = key_acks(st, k);
		snprintf(acks, sizeof acks, a < 0 ? "-" : "%lld", a);
		if (st->nring == 0)
			what = "";
		else if (k->ring < 0)
			what = "NOT IN THE KEY FILE";
		else if (k->ring == 0)
			what = "newest";
		else if (key_retirable(st, k))
			what = "retirable";
		else
			what = "in use";
		printf("  %-18s %10" PRIu64, k->id, k->wagons);
		if (tgt)
			printf(" %13s", acks);
		printf("%s%s\n", *what ? "  " : "", what);
	}
	if (st->key_unknown > 0)
		printf("  %-18s %10" PRIu64 "  records that name no key "
		       "(an older srdf); srdf-cat --header shows it\n",
		    "unknown", st->key_unknown);
	if (tgt && st->acks > 0 && st->nring == 0)
		printf("pending ACKs: %" PRIu64 ", signed when sent with the "
		       "newest key (--key-file names it)\n",
		    st->acks);
}

/* The tables of the copy that srdf-capture no longer keeps in step
 * (srdf-capture(1) --drop-from-selection). */
static void
table_dropped(const struct status *st)
{
	const char *name;
	json_t *v;
	char tb[64];

	if (json_object_size(st->dropped) == 0)
		return;
	printf("tables no longer kept in step (dropped from the selection; "
	       "the target keeps a copy as of the GTID position shown):\n");
	json_object_foreach(st->dropped, name, v)
	{
		printf("  %s  since '%s' (%s)\n", name,
		    json_string_value(json_object_get(v, "gtid")),
		    clock_iso(
		        (double)json_integer_value(json_object_get(v, "at")),
		        ' ', tb, sizeof tb));
	}
}

/* A promoted target: the recovery point, and where its own binlog
 * starts, the facts srdf-failback(1) takes. */
static void
table_promoted(const struct status *st)
{
	const char *r = st->prom[2] ? st->prom[2] : st->prom[1];

	if (st->promoted == NULL)
		return;
	printf("promoted at %s: recovery point wagon %s, GTID %s\n",
	    st->promoted, st->prom[0] ? st->prom[0] : "?",
	    st->prom[1] ? st->prom[1] : "?");
	printf("new primary's binlog starts at: %s\n",
	    st->prom[3] ? st->prom[3] : "unknown (not recorded)");
	if (r != NULL && st->prom[3] != NULL && st->prom[3][0])
		printf("failback: srdf-failback --recovery-point %s "
		       "--promoted-pos %s\n",
		    r, st->prom[3]);
}

static void
print_table(const struct status *st)
{
	table_counts(st);
	table_lag(st);
	table_procs(st);
	table_flags(st);
	table_dropped(st);
	table_db(st);
	table_promoted(st);
	table_keys(st);
}

/* Frees what read_ledger, read_procs and read_target_db allocated. */
static void
status_free(struct status *st)
{
	free(st->source_id);
	free(st->sealed_pos);
	free(st->promoted);
	json_decref(st->until_stop);
	for (int i = 0; i < 4; i++)
		free(st->prom[i]);
	free(st->realdir);
	free(st->err_state);
	free(st->err_text);
	free(st->db_gtid);
	free(st->db_error);
	for (int i = 0; i < NSTAGES; i++)
		free(st->last[i].gtid);
	for (size_t i = 0; i < st->nproc; i++) {
		free(st->proc[i].tool);
		free(st->proc[i].host);
		free(st->proc[i].state);
		free(st->proc[i].gtid);
		free(st->proc[i].detail);
		free(st->proc[i].why);
	}
	free(st->proc);
	free(st->keys);
	json_decref(st->dropped);
}

/* The options into *cf; exits on a usage error, --help, --version. */
static void
parse_options(int argc, char **argv, struct config *cf)
{
	static const struct option opts[] = {
	    {"defaults-file", required_argument, NULL, 'F'},
	    {"defaults-group", required_argument, NULL, 'G'},
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"key-file", required_argument, NULL, 'k'},
	    {"max-rpo", required_argument, NULL, 'r'},
	    {"prometheus", no_argument, NULL, 'p'},
	    {"stale", required_argument, NULL, 's'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch, nfmt = 0;

	cf->dir = getenv("SRDF_DIR") ? getenv("SRDF_DIR") : "/var/lib/srdf";
	cf->group = "srdf-status";
	cf->stale = DEFAULT_STALE;
	cf->max_rpo = -1;
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			cf->defaults_file = optarg;
			break;
		case 'G':
			cf->group = optarg;
			break;
		case 'd':
			cf->dir = optarg;
			break;
		case 'j':
			cf->fmt = FMT_JSON;
			nfmt++;
			break;
		case 'k':
			cf->key_file = optarg;
			break;
		case 'p':
			cf->fmt = FMT_PROM;
			nfmt++;
			break;
		case 'r':
			cf->max_rpo =
			    (int)opt_count(optarg, "--max-rpo", 0, 86400 * 365);
			break;
		case 's':
			cf->stale =
			    (int)opt_count(optarg, "--stale", 1, 86400 * 365);
			break;
		case 'v':
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, "srdf-status", usage);
		}
	}
	opt_no_operands(argc, usage);
	if (nfmt > 1)
		die(EX_USAGE, "--json and --prometheus exclude each other");
}

/* Everything the report shows, into *st: the ledger, the file system,
 * the processes, the target's checkpoint.  0, or an exit status: for the
 * ledger, fatal (logged); for the target database, the report goes on
 * (st->db_error). */
static int
gather(struct status *st, const struct config *cf, int *db_ex)
{
	int ex;

	st->cf = cf;
	st->now = clock_wall();
	st->rpo = -1;
	st->applied_ts = st->applied_at = -1;
	st->received_ts = st->offsite = -1;
	st->delay_ms = -1;
	st->xa_pending = -1;
	st->pending_since = -1;
	if ((ex = read_ledger(st)) != 0 ||
	    (cf->key_file != NULL && (ex = read_key_file(st)) != 0))
		return ex;
	read_fs(st);
	read_procs(st);
	caught_up(st);
	if (cf->defaults_file != NULL) {
		if (st->side == SIDE_TARGET)
			*db_ex = read_target_db(st);
		else
			log_warn("%s is a source directory: --defaults-file "
			         "is for the target's srdf.applied, ignored",
			    cf->dir);
	}
	return 0;
}

/* The report on stdout; 0, or -1 when it cannot be written (errno). */
static int
report(const struct status *st)
{
	switch (st->cf->fmt) {
	case FMT_JSON:
		print_json(st);
		break;
	case FMT_PROM:
		print_prom(st);
		break;
	default:
		print_table(st);
		break;
	}
	return fflush(stdout) != 0 || ferror(stdout) ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct config cf = {0};
	struct status st = {0};
	int ex, db_ex = 0;

	log_init(argv[0]);
	parse_options(argc, argv, &cf);
	if ((ex = gather(&st, &cf, &db_ex)) != 0) {
		status_free(&st);
		return ex;
	}
	if (report(&st) != 0)
		die(EX_IOERR, "writing the report: %s", strerror(errno));
	if ((ex = db_ex) == 0)
		ex = st.count[ST_FAILED] + st.count[ST_DEAD] > 0 ||
		             st.flagged > 0 || st.stale > 0 ||
		             (st.cf->max_rpo >= 0 && st.rpo > st.cf->max_rpo)
		         ? 1
		         : 0;
	status_free(&st);
	return ex;
}
