/*
 * srdf-ship — carry sealed wagons from the source's outbox to the DR
 * site: HTTPS POST to srdf-recv, or a copy into another spool
 * (--to dir:/path) that srdf-recv --import takes in.
 *
 * Design rationale.  The ledger, not the outbox directory, says what to
 * ship: a wagon is shipped when its record is "sealed" or "sending", in
 * sequence order, and never N+1 before N has been accepted unless
 * --pipeline N lets N wagons travel at once.  Each delivery attempt is
 * one write transaction after the exchange (never around it): the
 * attempt's record (time, HTTP status, answer, latency, error) and the
 * wagon's new state — received on "accepted" or "duplicate", sending
 * with a back-off time on a failure, dead when the receiver refuses the
 * wagon for good or its outbox copy is damaged.  A crash between an answer
 * and its transaction loses nothing: the wagon is still "sending", is
 * sent again and answered "duplicate".
 *
 * Before the first attempt and after every failure ship asks the
 * receiver's health (GET /v1/health) and sends nothing until it says
 * "ready"; a health check that fails counts as a failed attempt of the
 * wagon at the head, so the same back-off applies and the ledger shows
 * why nothing moved.  The back-off schedule (--retry, default 10s, 30s,
 * 2m, 10m, 1h) gives the wait after the 1st, 2nd... consecutive failure,
 * and its last step is waited again for as long as it takes: a failure
 * that may pass never makes a wagon dead (srdf-ship(1), "Back-off and
 * dead letters").  Only a refusal no retry can change (409, 413, a
 * damaged copy) does, and ship stops there and says so (exit 65),
 * because the pipeline never skips data.  A 503 answer (busy, draining, or "signed before I started" from a
 * receiver that just restarted) comes from a receiver that is alive: it
 * is retried on the current step of the schedule without advancing it,
 * so it never makes a wagon dead.  The wait is kept in the ledger
 * (next_attempt_at), so --once from cron honours it across runs.
 *
 * ship does not hash a wagon before sending it: srdf-recv checks every
 * byte, and its answer names the sequence it read from the header, which
 * must be the one shipped (a file holding another wagon never counts as
 * this one).  On "invalid_payload" ship checks its own copy (wagon_peek);
 * a copy damaged in the outbox is moved to outbox/bad and is dead at
 * once — no receiver could take it.  The dir: transport has no receiver
 * to check, so there ship checks every copy before writing it.
 *
 * Waiting is event-driven: inotify on outbox/new and on the ledger's
 * data file wakes ship when srdf-seal adds a wagon or srdf-ackd changes
 * a state; signals come through a signalfd and are looked at between
 * attempts, so SIGTERM finishes the attempt in progress (bounded by
 * --timeout), records it and exits 0.
 *
 * With --ack-pull ship also fetches the target's ACKs from srdf-recv
 * between its rounds and takes them as srdf-ackd would (ship/pull.h), so
 * that the source host opens no port.
 *
 * What it refuses to do: delete or rewrite anything in the outbox (only
 * the purge of confirmed wagons removes one: srdf-ackd's, or with
 * --ack-pull ship's own); skip a wagon; send plain HTTP
 * without --insecure; move a state backwards (a wagon srdf-ackd already
 * confirmed stays confirmed, whatever ship learns afterwards).
 */
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "heartbeat.h"
#include "http.h"
#include "keyring.h"
#include "ledger.h"
#include "log.h"
#include "notify.h"
#include "opt.h"
#include "pull.h"
#include "spool.h"
#include "tool.h"
#include "wagon.h"
#include "xalloc.h"

#define MAX_RETRY 32
#define MAX_PIPELINE 64
/* A re-scan of the ledger at least this often, in case an inotify event
 * was missed (a ledger on a file system without inotify).  Invariant:
 * HEARTBEAT_INTERVAL_MS <= RESCAN_MS, so the heartbeat's wake-ups (which
 * also re-scan) come first. */
#define RESCAN_MS 60000
/* Invariant: far longer than a writer takes from its last write(2) to
 * publishing its LMDB transaction; far shorter than a human notices. */
#define SETTLE_MS 100

struct config {
	const char *dir;
	const char *to;
	const char *dest; /* the path of --to dir:PATH, else NULL */
	int once;
	const char *key_file;
	const char *ca_file;
	int insecure;
	long long retry[MAX_RETRY]; /* ms */
	int nretry;
	unsigned pipeline;
	long long timeout_ms;
	int retry_dead;
	int ack_pull;      /* --ack-pull: ACKs fetched from srdf-recv */
	long long keep_ms; /* --keep, with --ack-pull */
};

/* A wagon to send, from its ledger record. */
struct cand {
	uint64_t seq;
	int sealed;         /* state "sealed": mark it "sending" first */
	long long failures; /* consecutive failed attempts */
	double next_at;     /* not before (Unix seconds) */
	uint8_t *body;
	size_t len;
};

/* The outcome of one attempt.  O_BUSY is a 503 from a receiver that is
 * alive (busy, draining, just restarted): retried on the current step of
 * the schedule, never the attempt that makes a wagon dead. */
/* O_UNBELIEVED: an answer without a good X-Srdf-Answer signature (an
 * impostor, or a receiver under another key): the back-off grows to its
 * last step and stays there, never dead — nobody without the key may
 * decide a wagon's fate. */
enum outcome {
	O_DELIVERED,
	O_RETRY,
	O_BUSY,
	O_REFUSED,
	O_DAMAGED,
	O_UNBELIEVED
};

struct result {
	enum outcome o;
	long status;        /* HTTP status, 0 when none */
	const char *answer; /* the answer's word, or "" */
	double latency_ms;
	char error[512]; /* "" when delivered */
};

struct ship {
	const struct config *cf;
	struct keyring *kr; /* NULL without --key-file */
	char outbox[PATH_MAX];
	struct ledger *l;
	struct http_client_opts co;
	struct http_call calls[MAX_PIPELINE];
	size_t ncalls; /* of calls, initialised */
	CURLM *multi;
	uint64_t low; /* every wagon below is past ship's part */
	int need_health;
	int sigfd, inot;
	unsigned long long delivered, bytes;
	struct pull *pull; /* --ack-pull, else NULL (pull.h) */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-ship [-v] --dir dir --to https://host:port|dir:path "
	    "[--once]\n"
	    "                 [--ack-pull [--keep time]] "
	    "                 [--key-file file] [--ca-file pem] "
	    "[--insecure] [--retry list]\n"
	    "                 [--pipeline n] [--timeout time] "
	    "[--retry-dead]\n"
	    "       srdf-ship --help | --version\n");
}

static int revive(struct ship *s, int all, const char *by);

/* SIGHUP (tool_signal): the key file read again, and the dead wagons
 * sent again as --retry-dead does. */
static void
reload(void *arg)
{
	struct ship *s = arg;
	char err[512];

	if (s->kr != NULL && keyring_reload(s->kr, err, sizeof err) < 0)
		log_err("%s; the keys read before stay in use", err);
	if (revive(s, 1, "SIGHUP") != 0)
		log_err("cannot revive dead wagons (see above)");
}

/* Whether a stop signal came (SIGHUP is handled here: reload). */
static int
stop_pending(struct ship *s)
{
	notify_watchdog();
	return tool_signal(s->sigfd, reload, s) != 0;
}

/* ---- the ledger ---------------------------------------------------------- */

struct scan {
	struct ship *s;
	struct cand *c;
	size_t n, max;
	int low_fixed;
	uint64_t dead; /* first dead wagon met, 0 when none */
	char dead_err[512];
};

static int
scan_one(uint64_t seq, json_t *w, void *arg)
{
	struct scan *sc = arg;
	const char *st = json_string_value(json_object_get(w, "state"));
	struct cand *c;

	if (st == NULL)
		st = "?";
	if (strcmp(st, "sealed") != 0 && strcmp(st, "sending") != 0 &&
	    strcmp(st, "dead") != 0) {
		/* received, applied, confirmed, failed: delivered. */
		if (!sc->low_fixed)
			sc->s->low = seq + 1;
		return 0;
	}
	sc->low_fixed = 1;
	if (strcmp(st, "dead") == 0) {
		sc->dead = seq;
		snprintf(sc->dead_err, sizeof sc->dead_err, "%s",
		    json_is_string(json_object_get(w, "last_error"))
		        ? json_string_value(json_object_get(w, "last_error"))
		        : "?");
		return 1;
	}
	c = &sc->c[sc->n++];
	memset(c, 0, sizeof *c);
	c->seq = seq;
	c->sealed = strcmp(st, "sealed") == 0;
	c->failures = json_integer_value(json_object_get(w, "failures"));
	c->next_at = json_number_value(json_object_get(w, "next_attempt_at"));
	return sc->n == sc->max;
}

/* Fills c with up to max wagons to ship, in sequence order; *dead is the
 * first dead wagon before the end of the list, 0 if none.  -1 on a
 * ledger error. */
static int
scan(struct ship *s, struct cand *c, size_t max, struct scan *sc)
{
	struct ledger_txn *t;
	int rc;

	memset(sc, 0, sizeof *sc);
	sc->s = s;
	sc->c = c;
	sc->max = max;
	if ((rc = ledger_txn_begin(s->l, LEDGER_RDONLY, &t)) == 0) {
		rc = ledger_wagon_foreach(t, s->low, scan_one, sc);
		ledger_txn_abort(t);
	}
	if (rc != 0 && rc != 1) {
		log_err("cannot read the ledger in %s: %s", s->cf->dir,
		    ledger_strerror(rc));
		return -1;
	}
	return 0;
}

static int
is_state(json_t *w, const char *st)
{
	const char *v = json_string_value(json_object_get(w, "state"));

	return v != NULL && strcmp(v, st) == 0;
}

/* sealed -> sending, unless someone moved it meanwhile. */
static int
mark_sending(struct ship *s, uint64_t seq)
{
	struct ledger_txn *t;
	json_t *w = NULL;
	int rc;

	if ((rc = ledger_txn_begin(s->l, 0, &t)) != 0 ||
	    (rc = ledger_wagon_get(t, seq, &w)) != 0)
		goto fail;
	if (w != NULL && is_state(w, "sealed")) {
		json_object_set_new(w, "state", json_string("sending"));
		json_object_set_new(w, "sending_at", json_real(clock_wall()));
		if ((rc = ledger_wagon_put(t, seq, w)) != 0)
			goto fail;
		json_decref(w);
		if ((rc = ledger_txn_commit(t)) != 0) {
			t = NULL;
			goto fail;
		}
		audit_wagon(0, seq, "sealed", "sending", "to %s", s->cf->to);
		return 0;
	}
	json_decref(w);
	ledger_txn_abort(t);
	return 0;
fail:
	json_decref(w);
	ledger_txn_abort(t);
	log_err("cannot mark wagon %" PRIu64 " sending in the ledger in %s: "
	        "%s",
	    seq, s->cf->dir, ledger_strerror(rc));
	return -1;
}

/* The smallest power of two above n (n >= 0). */
static long long
pow2_above(long long n)
{
	long long p = 1;

	while (p <= n)
		p <<= 1;
	return p;
}

/* What an attempt did to a wagon that is still ship's (sealed or
 * sending): its record w moves to received, sending (retried after
 * *wait seconds) or dead (srdf-ship(1) DELIVERY).  *failures is its
 * consecutive failures, updated; *quiet is set when the failure is not
 * worth a line (at the last step, said at attempts 2^k only). */
static void
move_state(const struct config *cf, json_t *w, const struct result *r,
    double now, json_int_t attempts, json_int_t *failures, double *wait,
    int *quiet)
{
	switch (r->o) {
	case O_DELIVERED:
		json_object_set_new(w, "state", json_string("received"));
		json_object_set_new(w, "received_at", json_real(now));
		json_object_set_new(w, "failures", json_integer(0));
		json_object_del(w, "next_attempt_at");
		json_object_set_new(w, "last_error", json_null());
		break;
	case O_BUSY:
		*wait =
		    (double)cf->retry[*failures < cf->nretry ? *failures
		                                             : cf->nretry - 1] /
		    1000.0;
		json_object_set_new(w, "state", json_string("sending"));
		json_object_set_new(w, "last_error", json_string(r->error));
		json_object_set_new(
		    w, "next_attempt_at", json_real(now + *wait));
		break;
	case O_RETRY:
	case O_UNBELIEVED:
		/* srdf-ship(1): a failure that may pass never makes a wagon
		 * dead; the back-off stays at its last step. */
		if (*failures < cf->nretry)
			(*failures)++;
		*wait = (double)cf->retry[*failures - 1] / 1000.0;
		json_object_set_new(w, "failures", json_integer(*failures));
		json_object_set_new(w, "last_error", json_string(r->error));
		json_object_set_new(w, "state", json_string("sending"));
		json_object_set_new(
		    w, "next_attempt_at", json_real(now + *wait));
		*quiet = *failures == (json_int_t)cf->nretry &&
		         attempts > (json_int_t)cf->nretry + 1 &&
		         (attempts & (attempts - 1)) != 0;
		break;
	case O_REFUSED:
	case O_DAMAGED:
		json_object_set_new(w, "state", json_string("dead"));
		json_object_set_new(w, "dead_cause",
		    json_string(r->o == O_REFUSED ? "refused" : "damaged"));
		json_object_set_new(w, "dead_at", json_real(now));
		json_object_set_new(w, "last_error", json_string(r->error));
		json_object_del(w, "next_attempt_at");
		break;
	}
}

/* The audit line, heartbeat and log line of an attempt recorded: wagon
 * seq (record w, state before: from; moved: ship changed it) at attempt
 * number attempts.  failures, wait and quiet as move_state left them. */
static void
say_attempt(const struct ship *s, uint64_t seq, const struct result *r,
    size_t len, json_t *w, const char *from, int moved, json_int_t attempts,
    json_int_t failures, double wait, int quiet)
{
	if (moved && r->o == O_DELIVERED)
		audit_wagon(0, seq, from, "received",
		    "attempt %lld: %s, HTTP "
		    "%ld, %.1f ms",
		    (long long)attempts, r->answer, r->status, r->latency_ms);
	else if (moved && !quiet)
		audit_wagon(0, seq, from,
		    is_state(w, "dead") ? "dead" : "sending",
		    "attempt %lld failed: %s%s", (long long)attempts, r->error,
		    is_state(w, "dead") ? "" : "; retried later");
	if (moved && r->o == O_DELIVERED)
		heartbeat_beat(seq, NULL);
	if (!moved)
		log_info("wagon %" PRIu64 ": attempt %lld: %s, but it is "
		         "%s already",
		    seq, (long long)attempts,
		    r->o == O_DELIVERED ? r->answer : r->error, from);
	else if (r->o == O_DELIVERED)
		log_info("wagon %" PRIu64 ": received (%s, %zu bytes, "
		         "%.1f ms, attempt %lld)",
		    seq, r->answer, len, r->latency_ms, (long long)attempts);
	else if (is_state(w, "dead"))
		log_err("wagon %" PRIu64 ": dead after attempt %lld: %s", seq,
		    (long long)attempts, r->error);
	else if (quiet)
		log_debug("wagon %" PRIu64 ": attempt %lld failed: %s; next in "
		          "%.3g s",
		    seq, (long long)attempts, r->error, wait);
	else if (failures == (json_int_t)s->cf->nretry && r->o != O_BUSY)
		log_warn("wagon %" PRIu64 ": attempt %lld failed: %s; retried "
		         "every %.3g s until it goes, whatever it takes (said "
		         "again at attempt %lld)",
		    seq, (long long)attempts, r->error, wait,
		    pow2_above(attempts));
	else
		log_warn("wagon %" PRIu64 ": attempt %lld failed: %s; next in "
		         "%.3g s",
		    seq, (long long)attempts, r->error, wait);
}

/* One attempt's record, and the wagon's state after it, in one
 * transaction.  -1 on a ledger error. */
static int
record(struct ship *s, uint64_t seq, const struct result *r, size_t len)
{
	struct ledger_txn *t;
	json_t *w = NULL, *a;
	const char *st;
	json_int_t attempts, failures;
	int quiet = 0;
	double now = clock_wall(), wait = 0;
	char from[16];
	int rc, moved = 0;

	a = json_pack("{s:f, s:s, s:i, s:s, s:f, s:s?}", "time", now, "to",
	    s->cf->to, "http_status", (int)r->status, "answer", r->answer,
	    "latency_ms",
	    (double)(long long)(r->latency_ms * 1000 + 0.5) / 1000, "error",
	    r->o == O_DELIVERED ? NULL : r->error);
	if (a == NULL)
		a = json_pack(
		    "{s:f, s:s}", "time", now, "error", "(not representable)");
	if ((rc = ledger_txn_begin(s->l, 0, &t)) != 0 ||
	    (rc = ledger_wagon_get(t, seq, &w)) != 0)
		goto fail;
	if (w == NULL) {
		rc = LEDGER_BADREC;
		goto fail;
	}
	attempts = json_integer_value(json_object_get(w, "attempts")) + 1;
	failures = json_integer_value(json_object_get(w, "failures"));
	if ((rc = ledger_attempt_add(t, seq, (uint32_t)attempts, a)) != 0)
		goto fail;
	json_object_set_new(w, "attempts", json_integer(attempts));
	st = json_string_value(json_object_get(w, "state"));
	snprintf(from, sizeof from, "%s", st);
	/* Only ship's own states move; srdf-ackd may have been faster. */
	if (strcmp(st, "sealed") == 0 || strcmp(st, "sending") == 0) {
		moved = 1;
		move_state(
		    s->cf, w, r, now, attempts, &failures, &wait, &quiet);
	}
	if (json_object_get(w, "last_error") == NULL)
		json_object_set_new(w, "last_error", json_null());
	if ((rc = ledger_wagon_put(t, seq, w)) != 0)
		goto fail;
	rc = ledger_txn_commit(t);
	t = NULL;
	if (rc != 0)
		goto fail;
	say_attempt(
	    s, seq, r, len, w, from, moved, attempts, failures, wait, quiet);
	json_decref(w);
	json_decref(a);
	return 0;
fail:
	json_decref(w);
	json_decref(a);
	ledger_txn_abort(t);
	log_err("cannot record an attempt of wagon %" PRIu64 " in the ledger "
	        "in %s: %s",
	    seq, s->cf->dir, ledger_strerror(rc));
	return -1;
}

/* dead -> sending, failures forgotten: the operator's --retry-dead or
 * SIGHUP (all; by says which), or at every start the wagons an earlier
 * srdf-ship made dead when its retry policy was spent (all 0): a failure
 * that may pass no longer makes a wagon dead (srdf-ship(1), "Back-off
 * and dead letters"). */
struct revival {
	json_t *list;
	int all;
};

static int
revive_one(uint64_t seq, json_t *w, void *arg)
{
	struct revival *rv = arg;
	const char *cause = json_string_value(json_object_get(w, "dead_cause"));

	if (is_state(w, "dead") &&
	    (rv->all || (cause != NULL && strcmp(cause, "retries spent") == 0)))
		json_array_append_new(rv->list, json_integer((json_int_t)seq));
	return 0;
}

static int
revive(struct ship *s, int all, const char *by)
{
	struct ledger_txn *t;
	struct revival rv = {json_array(), all};
	json_t *list = rv.list, *w = NULL, *v;
	const char *why =
	    all ? by
	        : "dead after a transient "
	          "failure by an earlier srdf-ship; such failures are retried for "
	          "ever now";
	size_t i;
	int rc;

	if ((rc = ledger_txn_begin(s->l, 0, &t)) != 0 ||
	    (rc = ledger_wagon_foreach(t, 0, revive_one, &rv)) != 0)
		goto fail;
	json_array_foreach(list, i, v)
	{
		uint64_t seq = (uint64_t)json_integer_value(v);

		if ((rc = ledger_wagon_get(t, seq, &w)) != 0 || w == NULL)
			goto fail;
		json_object_set_new(w, "state", json_string("sending"));
		json_object_set_new(w, "failures", json_integer(0));
		json_object_set_new(w, "revived_at", json_real(clock_wall()));
		json_object_del(w, "next_attempt_at");
		json_object_del(w, "dead_cause");
		if ((rc = ledger_wagon_put(t, seq, w)) != 0)
			goto fail;
		json_decref(w);
		w = NULL;
		log_notice("wagon %" PRIu64 ": dead -> sending (%s)", seq, why);
	}
	rc = ledger_txn_commit(t);
	t = NULL;
	if (rc != 0)
		goto fail;
	json_array_foreach(list, i, v) audit_wagon(all ? AUDIT_OPERATOR : 0,
	    (uint64_t)json_integer_value(v), "dead", "sending",
	    all ? (strcmp(by, "SIGHUP") == 0 ? "srdf-ship: SIGHUP"
	                                     : "srdf-ship --retry-dead")
	        : "srdf-ship: dead after a "
	          "transient failure by an earlier srdf-ship");
	json_decref(list);
	return 0;
fail:
	json_decref(w);
	json_decref(list);
	ledger_txn_abort(t);
	log_err("cannot revive dead wagons in the ledger in %s: %s", s->cf->dir,
	    ledger_strerror(rc));
	return -1;
}

/* ---- the outbox ------------------------------------------------------------ */

/* Checks the wagon in c->body: its checksum and header, and that it is
 * wagon c->seq.  A damaged one is moved to outbox/bad and r says why. */
static int
check(struct ship *s, struct cand *c, struct result *r)
{
	char name[WAGON_NAME_LEN], err[256];
	struct wagon_header h;
	int rc;

	wagon_name(c->seq, name);
	rc = wagon_peek(c->body, c->len, &h, err, sizeof err);
	if (rc == 0 && h.seq != c->seq) {
		snprintf(err, sizeof err,
		    "holds wagon %" PRIu64 ", not %" PRIu64, h.seq, c->seq);
		rc = -1;
	}
	if (rc == 0)
		return 0;
	r->o = O_DAMAGED;
	snprintf(r->error, sizeof r->error, "outbox/new/%s is damaged: %s",
	    name, err);
	spool_bad(s->outbox, "new", name, err);
	return -1;
}

/* Reads outbox/new/NAME of c; on failure fills r (O_DAMAGED when it is
 * missing, O_RETRY for an I/O error that may pass). */
static int
load(struct ship *s, struct cand *c, struct result *r)
{
	char name[WAGON_NAME_LEN], path[PATH_MAX + 64];
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd;

	wagon_name(c->seq, name);
	snprintf(path, sizeof path, "%s/new/%s", s->outbox, name);
	memset(r, 0, sizeof *r);
	r->answer = "";
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		r->o = errno == ENOENT ? O_DAMAGED : O_RETRY;
		snprintf(r->error, sizeof r->error,
		    "cannot open outbox/new/%s: "
		    "%s",
		    name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (c->body = malloc((size_t)st.st_size + 1)) == NULL) {
		r->o = O_RETRY;
		snprintf(r->error, sizeof r->error, "cannot read outbox/new/%s",
		    name);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size &&
	       (n = read(fd, c->body + got, (size_t)st.st_size - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r->o = O_RETRY;
			snprintf(r->error, sizeof r->error,
			    "cannot read "
			    "outbox/new/%s: %s",
			    name, strerror(errno));
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	c->len = got;
	return 0;
}

/* ---- delivery -------------------------------------------------------------- */

/* Sorts an answer to wagon seq (0: the health check) into an outcome
 * (srdf-ship(1), ANSWERS). */
static void
classify(const struct http_call *c, uint64_t seq, struct result *r)
{
	json_t *as;

	memset(r, 0, sizeof *r);
	r->status = c->status;
	r->answer = c->answer_status ? c->answer_status : "";
	r->latency_ms = c->latency_ms;
	if (c->error[0] != '\0') {
		r->o = c->unsigned_status != 0 ? O_UNBELIEVED : O_RETRY;
		snprintf(r->error, sizeof r->error, "%s", c->error);
		return;
	}
	if ((c->status == 201 && strcmp(r->answer, "accepted") == 0) ||
	    (c->status == 200 && strcmp(r->answer, "duplicate") == 0)) {
		/* The receiver names the sequence it read in the header: a
		 * file that holds another wagon must not count as this one. */
		as = c->answer ? json_object_get(c->answer, "seq") : NULL;
		if (seq != 0 && (!json_is_integer(as) ||
		                    (uint64_t)json_integer_value(as) != seq)) {
			r->o = O_DAMAGED;
			snprintf(r->error, sizeof r->error,
			    "the receiver took "
			    "outbox/new's file of wagon %" PRIu64 " as wagon "
			    "%lld",
			    seq,
			    json_is_integer(as)
			        ? (long long)json_integer_value(as)
			        : -1LL);
			return;
		}
		r->o = O_DELIVERED;
		return;
	}
	/* Refusals that no retry can change; a receiver that says "not
	 * now"; everything else. */
	r->o = c->status == 409 || c->status == 413 ? O_REFUSED
	       : c->status == 503                   ? O_BUSY
	                                            : O_RETRY;
	snprintf(r->error, sizeof r->error, "HTTP %ld %s: %s", c->status,
	    *r->answer ? r->answer : "(no srdf answer)",
	    *c->reason ? c->reason : "-");
}

static int
health_http(struct ship *s, struct result *r)
{
	struct http_call *c = &s->calls[0];

	http_call_run(c, "GET", "/v1/health", NULL, 0, NULL);
	classify(c, 0, r);
	if (c->error[0] == '\0' && c->status == 200 &&
	    strcmp(r->answer, "ready") == 0)
		return 0;
	r->o = c->error[0] == '\0' && c->status == 503 ? O_BUSY
	       : c->unsigned_status != 0               ? O_UNBELIEVED
	                                               : O_RETRY;
	if (c->error[0] == '\0')
		snprintf(r->error, sizeof r->error, "health: HTTP %ld %s: %s",
		    c->status, *r->answer ? r->answer : "(no srdf answer)",
		    *c->reason ? c->reason : "-");
	else
		snprintf(r->error, sizeof r->error, "health: %s", c->error);
	r->answer = "health";
	return -1;
}

static int
health_dir(struct ship *s, struct result *r)
{
	char path[PATH_MAX + 8];
	struct stat st;

	memset(r, 0, sizeof *r);
	r->answer = "health";
	r->o = O_RETRY;
	snprintf(path, sizeof path, "%s/new", s->cf->dest);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    access(path, W_OK) != 0) {
		snprintf(r->error, sizeof r->error,
		    "health: %.300s is not a "
		    "writable directory: %s",
		    path, strerror(errno));
		return -1;
	}
	if (spool_free_ok(s->cf->dest, 64ULL << 20) == 0) {
		snprintf(r->error, sizeof r->error,
		    "health: less than 64 MiB "
		    "free in %.300s",
		    s->cf->dest);
		return -1;
	}
	return 0;
}

static void
deliver_dir(struct ship *s, struct cand *c, struct result *r)
{
	char name[WAGON_NAME_LEN];
	double t0 = clock_wall();

	memset(r, 0, sizeof *r);
	wagon_name(c->seq, name);
	if (spool_put(s->cf->dest, name, c->body, c->len) != 0) {
		r->o = O_RETRY;
		r->answer = "";
		snprintf(r->error, sizeof r->error,
		    "cannot store %s in %.300s: %s", name, s->cf->dest,
		    strerror(errno));
	} else {
		r->o = O_DELIVERED;
		r->answer = "accepted";
	}
	r->latency_ms = (clock_wall() - t0) * 1000;
}

/* Sends c[0..n) at once over HTTP, recording each as it completes.
 * Returns the number of failed attempts, or -1 on a ledger error. */
static int
deliver_http(struct ship *s, struct cand *c, size_t n)
{
	struct result r;
	CURLMsg *m;
	size_t i;
	int running, left, failed = 0, fatal = 0;
	void *priv;

	for (i = 0; i < n; i++) {
		http_call_setup(&s->calls[i], "POST", "/v1/wagons", c[i].body,
		    c[i].len, "application/octet-stream");
		curl_easy_setopt(
		    s->calls[i].easy, CURLOPT_PRIVATE, (void *)&c[i]);
		curl_multi_add_handle(s->multi, s->calls[i].easy);
	}
	do {
		if (curl_multi_perform(s->multi, &running) != CURLM_OK)
			running = 0;
		while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(
			    m->easy_handle, CURLINFO_PRIVATE, &priv);
			i = (size_t)((struct cand *)priv - c);
			http_call_done(&s->calls[i], m->data.result);
			curl_multi_remove_handle(s->multi, m->easy_handle);
			classify(&s->calls[i], c[i].seq, &r);
			/* "invalid_payload": the outbox copy may be damaged;
			 * only now is its checksum worth computing here. */
			if (r.o == O_RETRY && r.status == 400)
				(void)check(s, &c[i], &r);
			if (r.o != O_DELIVERED)
				failed++;
			else {
				s->delivered++;
				s->bytes += c[i].len;
			}
			if (record(s, c[i].seq, &r, c[i].len) != 0)
				fatal = 1;
		}
		notify_watchdog();
		if (running > 0)
			curl_multi_poll(
			    s->multi, NULL, 0, (int)notify_wait_ms(1000), NULL);
		heartbeat_beat(0, NULL);
	} while (running > 0);
	return fatal ? -1 : failed;
}

/* One round: health if due, then the ready wagons.  -1 on a ledger
 * error. */
static int
round_trip(struct ship *s, struct cand *c, size_t n)
{
	struct result r;
	size_t i, k = 0;
	int failed = 0, rc;

	if (s->need_health) {
		rc = s->cf->dest ? health_dir(s, &r) : health_http(s, &r);
		if (rc != 0)
			return record(s, c[0].seq, &r, 0);
		s->need_health = 0;
	}
	/* Mark, load and check; a damaged wagon is recorded dead here. */
	for (i = 0; i < n; i++) {
		if (c[i].sealed && mark_sending(s, c[i].seq) != 0)
			return -1;
		if (load(s, &c[i], &r) != 0) {
			if (record(s, c[i].seq, &r, 0) != 0)
				return -1;
			failed++;
			/* Nothing after it may go first, pipelined or not. */
			break;
		}
		k++;
	}
	if (s->cf->dest != NULL) {
		for (i = 0; i < k; i++) {
			/* No receiver checks a copy: check it here. */
			if (check(s, &c[i], &r) != 0) {
				if (record(s, c[i].seq, &r, c[i].len) != 0)
					return -1;
				failed++;
				break;
			}
			deliver_dir(s, &c[i], &r);
			if (record(s, c[i].seq, &r, c[i].len) != 0)
				return -1;
			if (r.o != O_DELIVERED) {
				failed++;
				break;
			}
			s->delivered++;
			s->bytes += c[i].len;
		}
	} else if (k > 0) {
		if ((rc = deliver_http(s, c, k)) < 0)
			return -1;
		failed += rc;
	}
	if (failed > 0)
		s->need_health = 1;
	return 0;
}

/* ---- waiting ----------------------------------------------------------------- */

/* Waits for a new wagon, a ledger change, a signal or timeout_ms (-1:
 * RESCAN_MS).  Returns WAKE_SIGNAL when a stop signal is pending, else
 * WAKE_EVENT when inotify spoke, else 0. */
enum { WAKE_SIGNAL = 1, WAKE_EVENT = 2 };

static int
wait_event(struct ship *s, long long timeout_ms)
{
	struct pollfd p[2] = {{s->sigfd, POLLIN, 0}, {s->inot, POLLIN, 0}};
	char ev[4096];

	if (timeout_ms < 0 || timeout_ms > RESCAN_MS)
		timeout_ms = RESCAN_MS;
	if (s->pull != NULL && pull_wait_ms(s->pull) < timeout_ms)
		timeout_ms = pull_wait_ms(s->pull);
	/* Awake for the heartbeat's promise (heartbeat.h). */
	if (timeout_ms > HEARTBEAT_INTERVAL_MS)
		timeout_ms = HEARTBEAT_INTERVAL_MS;
	notify_watchdog();
	if (poll(p, 2, (int)notify_wait_ms(timeout_ms)) < 0 && errno != EINTR)
		log_warn("poll: %s", strerror(errno));
	/* Drain before the next scan: a change after it wakes us again. */
	while (read(s->inot, ev, sizeof ev) > 0)
		;
	if ((p[0].revents & POLLIN) && stop_pending(s))
		return WAKE_SIGNAL;
	/* A SIGHUP may have revived wagons: scan again at once. */
	return (p[0].revents & POLLIN) || (p[1].revents & POLLIN) ? WAKE_EVENT
	                                                          : 0;
}

static void
free_bodies(struct cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].body);
		c[i].body = NULL;
	}
}

static int
run(struct ship *s)
{
	struct cand c[MAX_PIPELINE];
	struct scan sc;
	size_t k;
	double now, earliest;
	int rc, wake = 0;

	for (;;) {
		heartbeat_beat(0, NULL);
		if (stop_pending(s))
			return 0;
		if (pull_tick(s->pull) != 0)
			return EX_SOFTWARE;
		if (scan(s, c, s->cf->pipeline, &sc) != 0)
			return EX_SOFTWARE;
		if (sc.n == 0 && sc.dead != 0) {
			log_err(
			    "wagon %" PRIu64 " is dead (%s): nothing after "
			    "it is shipped; fix the cause, then run srdf-ship "
			    "--retry-dead",
			    sc.dead, sc.dead_err);
			return EX_DATAERR;
		}
		if (sc.n == 0) {
			if (s->cf->once) {
				if (pull_drain(s->pull) != 0)
					return EX_SOFTWARE;
				log_info("nothing left to ship: %llu wagons, "
				         "%llu bytes delivered",
				    s->delivered, s->bytes);
				return 0;
			}
			/* The ledger's last write (its meta page) wakes us a
			 * moment before LMDB publishes the transaction to
			 * readers, in the lock file, which inotify does not
			 * see: after an event that showed nothing, look once
			 * more SETTLE_MS later. */
			wake =
			    wait_event(s, wake == WAKE_EVENT ? SETTLE_MS : -1);
			if (wake == WAKE_SIGNAL)
				return 0;
			continue;
		}
		/* The ready ones, in order: pipelining never jumps a wagon
		 * that is waiting out its back-off. */
		now = clock_wall();
		for (k = 0; k < sc.n && c[k].next_at <= now; k++)
			;
		if (k == 0) {
			earliest = c[0].next_at;
			if (s->cf->once) {
				log_notice(
				    "wagon %" PRIu64 " waits until %.3f "
				    "(back-off, %.1f s from now); try again "
				    "then",
				    c[0].seq, earliest, earliest - now);
				return EX_TEMPFAIL;
			}
			wake = wait_event(
			    s, (long long)((earliest - now) * 1000) + 1);
			if (wake == WAKE_SIGNAL)
				return 0;
			continue;
		}
		wake = 0;
		rc = round_trip(s, c, k);
		free_bodies(c, sc.n);
		if (rc != 0)
			return EX_SOFTWARE;
	}
}

/* ---- options ------------------------------------------------------------------ */

static void
parse_retry(struct config *cf, const char *arg)
{
	char *copy = xstrdup(arg), *tok, *save;

	cf->nretry = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (cf->nretry == MAX_RETRY)
			die(EX_USAGE, "--retry: at most %d steps", MAX_RETRY);
		cf->retry[cf->nretry++] = opt_duration(
		    tok, "--retry step", 1, 7LL * 24 * 3600 * 1000);
	}
	free(copy);
	if (cf->nretry == 0)
		die(EX_USAGE, "--retry needs at least one step");
}

static void
parse_options(int argc, char **argv, struct config *cf)
{
	static const struct option opts[] = {
	    {"ack-pull", no_argument, NULL, 'A'},
	    {"ca-file", required_argument, NULL, 'C'},
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"insecure", no_argument, NULL, 'k'},
	    {"keep", required_argument, NULL, 'e'},
	    {"key-file", required_argument, NULL, 'K'},
	    {"once", no_argument, NULL, 'o'},
	    {"pipeline", required_argument, NULL, 'p'},
	    {"retry", required_argument, NULL, 'r'},
	    {"retry-dead", no_argument, NULL, 'R'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"to", required_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'A':
			cf->ack_pull = 1;
			break;
		case 'C':
			cf->ca_file = optarg;
			break;
		case 'd':
			cf->dir = optarg;
			break;
		case 'e':
			cf->keep_ms =
			    opt_duration(optarg, "--keep", 0, LLONG_MAX);
			break;
		case 'k':
			cf->insecure = 1;
			break;
		case 'K':
			cf->key_file = optarg;
			break;
		case 'o':
			cf->once = 1;
			break;
		case 'p':
			cf->pipeline =
			    opt_count(optarg, "--pipeline", 1, MAX_PIPELINE);
			break;
		case 'r':
			parse_retry(cf, optarg);
			break;
		case 'R':
			cf->retry_dead = 1;
			break;
		case 'T':
			cf->timeout_ms =
			    opt_duration(optarg, "--timeout", 1000, LLONG_MAX);
			break;
		case 't':
			cf->to = optarg;
			break;
		case 'v':
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, "srdf-ship", usage);
		}
	}
	opt_no_operands(argc, usage);
}

/* --to and what it needs (man/srdf-ship.1 OPTIONS); sets cf->dest for
 * dir:PATH.  Returns 0, or -1 with the usage error in why. */
static int
check_to(struct config *cf, char *why, size_t len)
{
	char err[512];

	if (cf->to == NULL)
		snprintf(why, len,
		    "--to is required (https://host:port or "
		    "dir:/path)");
	else if (strncmp(cf->to, "dir:", 4) == 0) {
		cf->dest = cf->to + 4;
		if (*cf->dest == '\0')
			snprintf(why, len, "--to dir: needs a path");
		else if (cf->pipeline > 1)
			snprintf(why, len,
			    "--pipeline is for HTTP; dir: copies "
			    "one wagon at a time");
		else if (cf->ack_pull)
			snprintf(why, len,
			    "--ack-pull fetches ACKs from "
			    "srdf-recv over HTTP; with --to dir: run srdf-ackd");
		else
			return 0;
	} else if (http_base_check(cf->to, cf->insecure, err, sizeof err) != 0)
		snprintf(why, len, "--to: %s", err);
	else if (cf->key_file == NULL)
		snprintf(why, len,
		    "--key-file is required with --to %s "
		    "(requests are signed)",
		    cf->to);
	else
		return 0;
	return -1;
}

/* --to dir:PATH, a directory that must exist (a mounted volume), set up
 * as a spool.  Returns 0, or EX_CANTCREAT after logging why. */
static int
open_dest(const char *dest)
{
	struct stat st;

	if (stat(dest, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_err("--to dir:%s is not a directory (a mounted volume "
		        "must be mounted)",
		    dest);
		return EX_CANTCREAT;
	}
	if (spool_init(dest) != 0) {
		log_err("cannot set up the spool %s", dest);
		return EX_CANTCREAT;
	}
	return 0;
}

/* Key, CA file, lock, outbox, --to dir: spool, ledger, audit,
 * heartbeat, revival of dead wagons: the state main() needs before
 * shipping (man/srdf-ship.1 FILES).  Returns 0, or an exit status after
 * logging why (the prelude of tool.h dies as it says). */
static int
open_state(struct ship *s, const struct config *cf)
{
	int rc;

	s->cf = cf;
	if (cf->key_file != NULL &&
	    (rc = tool_keyring(cf->key_file, &s->kr)) != 0)
		return rc;
	if (cf->ca_file != NULL && access(cf->ca_file, R_OK) != 0) {
		log_err("cannot read --ca-file %s: %s", cf->ca_file,
		    strerror(errno));
		return EX_CONFIG;
	}
	tool_path(s->outbox, sizeof s->outbox, cf->dir, "outbox");
	tool_lock(cf->dir, "srdf-ship", 0);
	/* The outbox is srdf-seal's: ship only reads it (no spool_init,
	 * which would clear seal's tmp/). */
	tool_outbox(s->outbox, sizeof s->outbox, cf->dir);
	if (cf->dest != NULL && (rc = open_dest(cf->dest)) != 0)
		return rc;
	if ((rc = tool_ledger(cf->dir, 0, &s->l, EX_NOINPUT)) != 0)
		return rc;
	audit_open(cf->dir);
	audit_source_of(s->l);
	heartbeat_start(cf->dir, "srdf-ship", HEARTBEAT_INTERVAL, !cf->once);
	if (revive(s, cf->retry_dead, "--retry-dead") != 0) {
		log_err("cannot revive dead wagons (see above)");
		return EX_SOFTWARE;
	}
	return 0;
}

/* The events the main loop waits on: signals, new wagons in the
 * outbox, and ledger writes (srdf-ackd's).  Returns 0, or EX_OSERR
 * after logging why. */
static int
open_events(struct ship *s)
{
	char path[PATH_MAX + 32];

	s->sigfd = tool_signals(SFD_NONBLOCK);
	snprintf(path, sizeof path, "%s/new", s->outbox);
	if ((s->inot = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
	    inotify_add_watch(s->inot, path, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
		goto fail;
	snprintf(path, sizeof path, "%s/ledger/data.mdb", s->cf->dir);
	if (inotify_add_watch(s->inot, path, IN_MODIFY) < 0)
		goto fail;
	return 0;
fail:
	log_err("cannot watch %s: %s", path, strerror(errno));
	return EX_OSERR;
}

/* libcurl, and one connection per --pipeline slot for HTTP.  Returns 0,
 * or EX_OSERR after logging why. */
static int
open_http(struct ship *s)
{
	const struct config *cf = s->cf;
	char err[512];
	size_t i;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_err("cannot start libcurl");
		return EX_OSERR;
	}
	s->co = (struct http_client_opts){.base = cf->to,
	    .ca_file = cf->ca_file,
	    .insecure = cf->insecure,
	    .timeout_ms = cf->timeout_ms,
	    .ring = s->kr,
	    .to = HAUTH_TO_RECV};
	if (cf->dest != NULL)
		return 0;
	if ((s->multi = curl_multi_init()) == NULL) {
		log_err("cannot start libcurl");
		return EX_OSERR;
	}
	curl_multi_setopt(
	    s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)cf->pipeline);
	for (i = 0; i < cf->pipeline; i++, s->ncalls++)
		if (http_call_init(&s->calls[i], &s->co, err, sizeof err) !=
		    0) {
			log_err("%s", err);
			return EX_OSERR;
		}
	return 0;
}

static void
close_http(struct ship *s)
{
	size_t i;

	for (i = 0; i < s->ncalls; i++)
		http_call_cleanup(&s->calls[i]);
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	curl_global_cleanup();
}

int
main(int argc, char **argv)
{
	struct config cf = {
	    .pipeline = 1, .timeout_ms = 60000, .keep_ms = 7LL * 86400000};
	struct ship s = {.sigfd = -1, .inot = -1};
	char why[PATH_MAX + 128], pulled[PATH_MAX + 32];
	int rc;

	log_init(argv[0]);
	xalloc_big_buffers();
	cf.dir = tool_dir_default();
	parse_retry(&cf, "10s,30s,2m,10m,1h");
	parse_options(argc, argv, &cf);
	if (check_to(&cf, why, sizeof why) != 0)
		die(EX_USAGE, "%s", why);

	if ((rc = open_state(&s, &cf)) == 0 && (rc = open_events(&s)) == 0 &&
	    (rc = open_http(&s)) == 0) {
		if (cf.ack_pull) {
			snprintf(pulled, sizeof pulled, "%s/new", s.outbox);
			s.pull = pull_new(s.l, &s.calls[0], cf.to, cf.keep_ms,
			    pulled); /* pulled outlives s.pull */
		}
		s.low = 1;
		s.need_health = 1;
		log_notice("shipping %s to %s%s%s", s.outbox, cf.to,
		    cf.once ? " (once)" : "",
		    cf.ack_pull ? ", fetching its "
		                  "ACKs (--ack-pull)"
		                : "");
		notify_ready("shipping %s to %s", s.outbox, cf.to);
		rc = run(&s);
	}
	heartbeat_stop(rc);
	if (rc == 0 && !cf.once)
		log_notice("stopped: %llu wagons, %llu bytes delivered",
		    s.delivered, s.bytes);
	pull_free(s.pull);
	close_http(&s);
	if (s.l != NULL)
		ledger_close(s.l);
	keyring_close(s.kr);
	return rc;
}
