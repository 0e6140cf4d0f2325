/*
 * srdf-apply — apply the wagons of the target inbox to the target
 * database, in sequence order, each in one transaction together with the
 * checkpoint row, and send the source a signed ACK for each.
 *
 * Design rationale.  The commit point is the target's own transaction:
 * a wagon's changes and the UPDATE of srdf.applied (source id, sequence,
 * last GTID) commit together or not at all, as mysql.gtid_slave_pos does
 * for a native replica (srdf-apply(1), "Order and the checkpoint").  The
 * UPDATE names the sequence it moves from, and an IF after it raises an
 * error when it matched no row, so the COMMIT in the same round trip
 * never runs for a checkpoint that somebody else moved.  Everything
 * else follows from that row C, read at every start and after every
 * lost connection; for wagon N:
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
 * This file holds main() and the loop; the start (reconcile, --skip) is
 * start.c's, one wagon's turn step.c's, and applier.h lists the rest.
 *
 * What it refuses to do: apply a wagon it cannot authenticate, one out of
 * order, or one from another source than the first it saw; skip data by
 * itself.  XA groups are applied at their XA COMMIT (srdf-apply(1), "XA
 * transactions").
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "applier.h"
#include "audit.h"
#include "clock.h"
#include "heartbeat.h"
#include "http.h"
#include "keyring.h"
#include "lock.h"
#include "log.h"
#include "notify.h"
#include "opt.h"
#include "xalloc.h"

volatile sig_atomic_t stopping;
static volatile sig_atomic_t hup;
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
	    "                  [--delay time] [--until gtid|time | "
	    "--until-before gtid]\n"
	    "       srdf-apply --help | --version\n");
}

/* ---- the loop ---------------------------------------------------------- */

static void
drain(int fd)
{
	char b[4096];

	while (read(fd, b, sizeof b) > 0)
		;
}

/* Every wait of the loop: the watchdog is pinged (notify.h) before, and
 * the wait ends in time for the next ping. */
static void
wait_events(struct applier *a, long timeout_ms)
{
	notify_watchdog();
	acks_wait(a->acks, a->ino, a->sig[0], (long)notify_wait_ms(timeout_ms));
	drain(a->ino);
	drain(a->sig[0]);
}

/* SIGHUP: the key file read again (srdf-keygen(1) KEY ROTATION). */
static void
reload(struct applier *a)
{
	char err[512];

	log_notice("SIGHUP: reloading");
	notify_reloading();
	if (keyring_reload(a->cf->kr, err, sizeof err) < 0)
		log_err("%s; the keys read before stay in use", err);
	notify_ready(NULL);
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
		buf_free(&a->arena);
		if (rc == DB_FAIL) { /* refused: waiting will not help */
			log_err("%s", a->db.err);
			return maria_exit_for(a->db.errnum);
		}
		if (a->cf->once) {
			log_err("%s", a->db.err);
			return EX_UNAVAILABLE;
		}
		/* For as long as it takes; said at tries 1, 2, 4, 8... */
		if ((tries & (tries - 1)) == 0)
			log_warn(
			    "%s; trying again in %lld s, for as long as it "
			    "takes (attempt %lld; said again at attempt %lld)",
			    a->db.err, backoff / 1000, tries, 2 * tries);
		else
			log_debug("%s; trying again in %lld s (attempt %lld)",
			    a->db.err, backoff / 1000, tries);
		for (long long until = clock_mono_ms() + backoff;
		     !stopping && clock_mono_ms() < until;) {
			acks_pump(a->acks);
			heartbeat_beat(0, NULL);
			wait_events(
			    a, until - clock_mono_ms() > HEARTBEAT_INTERVAL_MS
			           ? HEARTBEAT_INTERVAL_MS
			           : (long)(until - clock_mono_ms()));
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
	a->og.open = 0;
	return 0;
}

/* The files of wagons applied more than --keep ago leave inbox/cur;
 * the checkpoint's own stays (srdf-promote reads it).  At most every
 * PURGE_INTERVAL_MS unless a batch was full; all that is due with
 * --once (now set). */
/* What --keep purges: with --ack-to or --ack-pull, only wagons whose
 * ACK the source took (an ACK still owed is sent from the record);
 * without, applied is as far as a wagon goes. */
static const char *const applied_states[] = {"applied", "confirmed", NULL};
static const char *const confirmed_states[] = {"confirmed", NULL};

static void
purge_applied(struct applier *a, int now)
{
	long n;

	if (a->cf->dry_run || a->l == NULL || !a->ready ||
	    (!now && clock_mono_ms() < a->keep.due))
		return;
	a->keep.p.below = a->cp.seq;
	if (a->xa_min != 0 && a->xa_min < a->keep.p.below)
		a->keep.p.below = a->xa_min; /* an XA COMMIT will read them */
	do
		n = purge_sweep(&a->keep.p);
	while (now && n == PURGE_BATCH && !stopping);
	a->keep.due =
	    clock_mono_ms() + (n == PURGE_BATCH ? 0 : PURGE_INTERVAL_MS);
}

static int
run(struct applier *a)
{
	int rc, ex = 0, stopped = 0;

	if ((ex = connect_target(a)) != 0 || stopping)
		return ex;
	log_info("%s: applying the wagons %s %s",
	    a->cf->dry_run ? "dry run" : "started",
	    a->cf->once ? "ready in" : "as they come into", a->cf->inbox);
	notify_ready("applying the wagons of %s", a->cf->inbox);
	for (;;) {
		heartbeat_beat(
		    a->cp.seq, a->cp.last_gtid[0] ? a->cp.last_gtid : NULL);
		notify_watchdog();
		if (stopping) {
			notify_stopping();
			/* What the workers have begun commits or fails. */
			if (par_drain(a) == S_FATAL)
				ex = a->fatal;
			break;
		}
		if (hup) {
			hup = 0;
			reload(a);
			if (a->fail.seq != 0) {
				log_notice("SIGHUP: trying wagon %" PRIu64
				           " again",
				    a->fail.seq);
				a->fail.due = 0;
				a->fail.dead = 0;
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
			buf_free(&a->arena);
			if (a->cf->once) {
				ex = EX_UNAVAILABLE;
				goto out;
			}
			if ((ex = connect_target(a)) != 0)
				goto out;
			continue;
		case S_FAILED:
			if (a->cf->once) {
				ex = a->fail.dead ? EX_DATAERR : EX_TEMPFAIL;
				goto out;
			}
			continue;
		case S_IDLE:
			purge_applied(a, a->cf->once);
			if (a->cf->once)
				goto out;
			wait_events(a, HEARTBEAT_INTERVAL_MS);
			continue;
		case S_DELAY:
			purge_applied(a, 0);
			if (a->cf->once)
				goto out;
			{
				long long left = a->delay_due - clock_mono_ms();

				wait_events(a, left > HEARTBEAT_INTERVAL_MS
				                   ? HEARTBEAT_INTERVAL_MS
				               : left > 0 ? (long)left
				                          : 0);
			}
			continue;
		case S_STOP:
			stopped = 1;
			goto out;
		case S_WAIT:
			wait_events(
			    a, a->fail.dead || a->fail.due - clock_mono_ms() >
			                           HEARTBEAT_INTERVAL_MS
			           ? HEARTBEAT_INTERVAL_MS
			       : a->fail.due > clock_mono_ms()
			           ? (long)(a->fail.due - clock_mono_ms())
			           : 0);
			continue;
		}
	}
out:
	if (par_drain(a) == S_FATAL && ex == 0)
		ex = a->fatal;
	if (flush_applied(a) == S_FATAL && ex == 0)
		ex = a->fatal;
	if (a->og.open) {
		log_notice(
		    "group %" PRIu64 ": chunks 1..%" PRIu32 " were applied "
		    "but not committed: rolled back until the rest of the group "
		    "is here",
		    a->og.group, a->og.chunk);
		db_rollback(&a->db);
		a->og.open = 0;
	}
	if ((a->cf->once || stopped) && !stopping && ex != EX_IOERR)
		acks_drain(a->acks, ACK_DRAIN_MS);
	if (!a->cf->dry_run)
		log_info("%s: %" PRIu64 " wagon%s applied, checkpoint %" PRIu64
		         ", %zu ACK%s queued",
		    stopping ? "stopped" : "done", a->napplied,
		    a->napplied == 1 ? "" : "s", a->cp.seq,
		    acks_pending(a->acks),
		    acks_pending(a->acks) == 1 ? "" : "s");
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
	s = xstrdup(arg);
	for (tok = strtok_r(s, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (cf->nretry ==
		    (int)(sizeof cf->retry_ms / sizeof *cf->retry_ms))
			die(EX_USAGE, "--retry: at most %zu delays",
			    sizeof cf->retry_ms / sizeof *cf->retry_ms);
		if (parse_duration_ms(tok, &cf->retry_ms[cf->nretry]) != 0)
			die(EX_USAGE,
			    "--retry: bad delay '%s' (e.g. 10s, 2m, "
			    "1h; or 'none')",
			    tok);
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
		die(EX_CONFIG,
		    "the target of %s was promoted at %s "
		    "(srdf-promote): it is no longer a replica and takes no "
		    "more wagons; to replicate to it again, start over with a "
		    "new state directory and srdf-bootstrap",
		    dir, at);
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

/* The options that only set a field of *cf: 1 when ch is one of them,
 * else 0. */
static int
flag_option(struct config *cf, int ch, char *arg)
{
	switch (ch) {
	case 'A':
		cf->ack_pull = 1;
		break;
	case 'a':
		cf->ack_to = arg;
		break;
	case 'C':
		cf->ca_file = arg;
		break;
	case 'c':
		cf->create_databases = 1;
		break;
	case 'F':
		cf->defaults_file = arg;
		break;
	case 'G':
		cf->group = arg;
		break;
	case 'd':
		cf->dir = arg;
		break;
	case 'n':
		cf->dry_run = 1;
		break;
	case 'I':
		cf->insecure = 1;
		break;
	case 'k':
		cf->key_file = arg;
		break;
	case 'B':
		cf->no_bulk_load = 1;
		break;
	case 'T':
		cf->fire_triggers = 1;
		break;
	case 'o':
		cf->once = 1;
		break;
	default:
		return 0;
	}
	return 1;
}

static void check_options(struct config *cf);

/* --until GTID|TIME, --until-before GTID (before set) into cf: TIME is
 * ISO 8601 UTC, 2026-12-07T16:00:00Z, or @ and Unix seconds.  Dies on a
 * bad value or a second stop point. */
static void
parse_until(struct config *cf, int before, const char *arg)
{
	const char *opt = before ? "--until-before" : "--until";
	struct tm tm;
	const char *e;
	uint64_t u;

	if (cf->until != UNTIL_NONE)
		die(EX_USAGE,
		    "%s %s: one stop point only (--until or "
		    "--until-before, once)",
		    opt, arg);
	cf->until_arg = arg;
	if (gtid_parse(arg, &cf->until_gtid) == 0) {
		cf->until = before ? UNTIL_BEFORE : UNTIL_GTID;
		return;
	}
	if (before)
		die(EX_USAGE,
		    "bad --until-before %s (want a GTID such as 0-1-105)", arg);
	if (arg[0] == '@' && parse_u64(arg + 1, &u) == 0) {
		cf->until = UNTIL_TIME;
		cf->until_ts = u;
		return;
	}
	memset(&tm, 0, sizeof tm);
	e = strptime(arg, "%Y-%m-%dT%H:%M:%S", &tm);
	if (e == NULL || strcmp(e, "Z") != 0)
		die(EX_USAGE,
		    "bad --until %s (want a GTID such as 0-1-105, a UTC time "
		    "such as 2026-12-07T16:00:00Z, or @ and Unix seconds)",
		    arg);
	cf->until = UNTIL_TIME;
	cf->until_ts = (uint64_t)timegm(&tm);
}

/* Options and operands into *cf, a configuration from then on read
 * only; the key is loaded.  Dies on a usage or configuration error. */
static void
parse_options(struct config *cf, int argc, char **argv)
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
	    {"delay", required_argument, NULL, 'D'},
	    {"until", required_argument, NULL, 'U'},
	    {"until-before", required_argument, NULL, 'b'},
	    {"parallel", required_argument, NULL, 'P'},
	    {"retry", required_argument, NULL, 'r'},
	    {"skip", required_argument, NULL, 's'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	cf->parallel = DEFAULT_PARALLEL;
	cf->merge_bytes = DEFAULT_MERGE_BYTES;
	cf->keep_ms = DEFAULT_KEEP_MS;
	cf->group = TOOL;
	cf->dir = getenv("SRDF_DIR") ? getenv("SRDF_DIR") : "/var/lib/srdf";
	parse_retry(cf, "10s,30s,2m,10m,1h");
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		if (flag_option(cf, ch, optarg))
			continue;
		switch (ch) {
		case 'K':
			cf->keep_ms =
			    opt_duration(optarg, "--keep", 0, LLONG_MAX);
			break;
		case 'D':
			cf->delay_ms = opt_duration(
			    optarg, "--delay", 0, 366LL * 86400000);
			break;
		case 'U':
		case 'b':
			parse_until(cf, ch == 'b', optarg);
			break;
		case 'M':
			cf->merge_bytes =
			    opt_size(optarg, "--merge-bytes", 0, ULLONG_MAX);
			break;
		case 'P':
			cf->parallel =
			    (int)opt_count(optarg, "--parallel", 1, 64);
			break;
		case 'r':
			parse_retry(cf, optarg);
			break;
		case 's':
			if (parse_u64(optarg, &cf->skip) != 0 || cf->skip == 0)
				die(EX_USAGE,
				    "bad --skip %s (want a wagon sequence "
				    "number, 1 or more)",
				    optarg);
			cf->has_skip = 1;
			break;
		case 'v':
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, "srdf-apply", usage);
		}
	}
	opt_no_operands(argc, usage);
	check_options(cf);
}

/* What the options say together, and the key file opened.  Dies on a
 * usage or configuration error. */
static void
check_options(struct config *cf)
{
	char err[512];

	if (cf->key_file == NULL)
		die(EX_USAGE, "--key-file is required: the key that opens the "
		              "wagons (srdf-keygen(1))");
	if (cf->dry_run)
		cf->once = 1;
	if (cf->until != UNTIL_NONE && cf->dry_run)
		die(EX_USAGE,
		    "--%s and --dry-run: a stop point cuts wagons "
		    "and moves the checkpoint; a dry run cannot",
		    cf->until == UNTIL_BEFORE ? "until-before" : "until");
	if (cf->ack_to != NULL && cf->ack_pull)
		die(EX_USAGE,
		    "--ack-to sends the ACKs, --ack-pull leaves them "
		    "for srdf-ship --ack-pull to fetch: one of the two");
	if (cf->ack_to != NULL &&
	    http_base_check(cf->ack_to, cf->insecure, err, sizeof err) != 0)
		die(EX_USAGE, "--ack-to: %s", err);
	if (strlen(cf->dir) + sizeof "/inbox" > sizeof cf->inbox)
		die(EX_USAGE, "--dir %s: path too long", cf->dir);
	snprintf(cf->inbox, sizeof cf->inbox, "%s/inbox", cf->dir);
	if ((cf->kr = keyring_open(cf->key_file, err, sizeof err)) == NULL)
		die(EX_CONFIG, "%s", err);
}

/* The state directory: its lock, the inbox, the ledger, the audit log,
 * the heartbeat and --keep.  A dry run writes nothing: no lock, no
 * ledger, no spool moves; it reads the ledger when there is one.  Dies
 * when they cannot be had. */
static void
open_state(struct applier *a)
{
	const struct config *cf = a->cf;
	char path[PATH_MAX];
	int rc;

	if (!cf->dry_run) {
		if (mkdir(cf->dir, 0700) != 0 && errno != EEXIST)
			die(EX_CANTCREAT, "cannot create %s: %s", cf->dir,
			    strerror(errno));
		lock_dir_or_die(cf->dir, TOOL);
		make_inbox(cf->inbox);
		if ((rc = ledger_open(cf->dir, 0, &a->l)) != 0)
			die(EX_CANTCREAT, "cannot open the ledger in %s: %s",
			    cf->dir, ledger_strerror(rc));
		audit_open(cf->dir);
		audit_source_of(a->l);
		heartbeat_start(cf->dir, TOOL, HEARTBEAT_INTERVAL, !cf->once);
		snprintf(
		    a->keep.curdir, sizeof a->keep.curdir, "%s/cur", cf->inbox);
		snprintf(a->keep.why, sizeof a->keep.why,
		    "inbox copy purged "
		    "(applied more than --keep %lld s ago)",
		    cf->keep_ms / 1000);
		a->keep.p = (struct purge){.l = a->l,
		    .dir = a->keep.curdir,
		    .states = cf->ack_to != NULL || cf->ack_pull
		                  ? confirmed_states
		                  : applied_states,
		    .at = "applied_at",
		    .keep_ms = cf->keep_ms,
		    .why = a->keep.why};
		return;
	}
	snprintf(path, sizeof path, "%s/ledger/data.mdb", cf->dir);
	if (access(path, F_OK) == 0 &&
	    (rc = ledger_open(cf->dir, LEDGER_RDONLY, &a->l)) != 0)
		die(EX_NOINPUT, "cannot open the ledger in %s: %s", cf->dir,
		    ledger_strerror(rc));
	snprintf(path, sizeof path, "%s/new", cf->inbox);
	if (access(path, F_OK) != 0)
		die(EX_NOINPUT, "no inbox in %s: %s", cf->dir, strerror(errno));
}

/* What srdf-status shows of this run (srdf-status(1)): meta
 * "apply_delay_ms", the --delay in force; "until_stop", a stop point
 * this run has not reached (one reached is written by step.c), cleared.
 * Dies when the ledger cannot be written. */
static void
note_run(struct applier *a)
{
	struct ledger_txn *t;
	char v[32];
	int rc;

	if (a->l == NULL || a->cf->dry_run)
		return;
	snprintf(v, sizeof v, "%lld", a->cf->delay_ms);
	if ((rc = ledger_txn_begin(a->l, 0, &t)) == 0) {
		if ((rc = ledger_meta_put(t, "apply_delay_ms", v)) != 0 ||
		    (rc = ledger_meta_put(t, "until_stop", "")) != 0)
			ledger_txn_abort(t);
		else
			rc = ledger_txn_commit(t);
	}
	if (rc != 0)
		die(EX_IOERR, "cannot write the ledger in %s: %s", a->cf->dir,
		    ledger_strerror(rc));
}

/* Readiness: the self-pipe of the signals and the inotify watch of
 * inbox/new that the loop waits on, the signal handlers.  Dies when
 * they cannot be had. */
static void
watch_events(struct applier *a)
{
	struct sigaction sa;
	char path[PATH_MAX];

	if (pipe2(a->sig, O_NONBLOCK | O_CLOEXEC) != 0)
		die(EX_OSERR, "pipe: %s", strerror(errno));
	sig_wfd = a->sig[1];
	if ((a->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		die(EX_OSERR, "inotify_init1: %s", strerror(errno));
	snprintf(path, sizeof path, "%s/new", a->cf->inbox);
	if (inotify_add_watch(a->ino, path, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
		die(EX_OSERR, "cannot watch %s: %s", path, strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* After run(): everything a started, let go; rc, run()'s exit code,
 * becomes EX_USAGE for a --skip that found nothing to skip. */
static int
finish(struct applier *a, int rc)
{
	prefetch_stop(a);
	par_free(a->par.p);
	inwagon_free(&a->par.held);
	free(a->par.bpos);
	if (rc == 0 && a->cf->has_skip && !a->skip_done && !stopping) {
		log_err("--skip %" PRIu64 ": no wagon and no source id in %s "
		        "yet: nothing to skip",
		    a->cf->skip, a->cf->dir);
		rc = EX_USAGE;
	}
	heartbeat_stop(rc);
	db_close(&a->db);
	buf_free(&a->arena);
	free(a->db.q.p);
	free(a->db.st);
	checkpoint_free(&a->cp);
	free(a->og.xid);
	free(a->done.v);
	acks_free(a->acks);
	ledger_close(a->l);
	curl_global_cleanup();
	close(a->ino);
	close(a->sig[0]);
	close(a->sig[1]);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct config cf;
	struct applier a;
	const char *hook;
	int rc;

	log_init(argv[0]);
	xalloc_big_buffers();
	parse_options(&cf, argc, argv);
	memset(&a, 0, sizeof a);
	a.cf = &cf;
	a.ino = a.sig[0] = a.sig[1] = -1;
	if ((hook = getenv("SRDF_APPLY_CRASH_AFTER_COMMIT")) != NULL &&
	    *hook != '\0')
		a.crash_after = atoi(hook);
	open_state(&a);
	refuse_promoted(a.l, cf.dir);
	note_run(&a);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die(EX_OSERR, "cannot start libcurl");
	/* A dry run sends no ACK (a.acks NULL: acks.c does nothing). */
	if (!cf.dry_run)
		a.acks = acks_new(&cf, a.l);
	watch_events(&a);
	/* Before any thread: what libmariadb and jansson set up once. */
	if (cf.parallel > 1 && !cf.dry_run) {
		mysql_library_init(0, NULL, NULL);
		json_object_seed(0);
	}
	rc = finish(&a, run(&a));
	keyring_close(cf.kr);
	return rc;
}
