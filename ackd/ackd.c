/*
 * srdf-ackd — take the target's signed ACKs on the source, mark wagons
 * confirmed (or failed), and purge confirmed wagons from the outbox.
 *
 * Design rationale.  "Confirmed" is the only state that lets the source
 * forget a wagon (srdf(7), the four states of a change), and ackd sets it (so does srdf-ship
 * --ack-pull, with the same lib/acktake.c, for ACKs it fetches instead):
 * on POST /v1/acks, an ACK (man/srdf-ack.5) signed with the pre-shared
 * key (hauth.h, replays refused) for this source (the ledger's meta
 * source_id) and a wagon the ledger knows.  Each ACK is one write
 * transaction that re-reads the wagon's record and moves its state:
 *
 *	applied:  any state but confirmed -> confirmed (applied_at,
 *	          confirmed_at, the target's GTID)
 *	failed:   any state but confirmed -> failed (last_error: the
 *	          target's message)
 *
 * An ACK that changes nothing (the same ACK again, or a "failed" for a
 * wagon already confirmed: the target applied it on a later try) is a
 * duplicate, answered 200; a change is answered 201.  ACKs can overtake
 * srdf-ship's own record (the target applied the wagon before ship wrote
 * "received"): ackd moves sending -> confirmed, and ship leaves the
 * state alone afterwards.
 *
 * Purging is a sweep on a timer in the main thread: it removes
 * outbox/new/NAME only for a wagon whose record is "confirmed" with
 * confirmed_at older than --keep, then removes its ledger record, kept
 * in the meta counters (lib/purge.h; never the newest).  Nothing else
 * ever removes an outbox file, and nothing makes a confirmed wagon
 * unconfirmed, so a purged wagon never needs its file again.
 *
 * What it refuses to do: purge a wagon that is not confirmed; take an
 * unsigned or replayed ACK, or one for another source or an unknown
 * wagon; create a ledger record (a wagon it does not know was never
 * sealed here).
 */
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

#include <sodium.h>

#include "ack.h"
#include "acktake.h"
#include "audit.h"
#include "hauth.h"
#include "clock.h"
#include "heartbeat.h"
#include "http.h"
#include "httpd.h"
#include "keyring.h"
#include "ledger.h"
#include "log.h"
#include "notify.h"
#include "opt.h"
#include "purge.h"
#include "tool.h"
#include "wagon.h"

struct config {
	const char *dir;
	const char *key_file;
	struct httpd_cf srv; /* --listen, TLS, connections, --grace */
	int once;
	long long keep_ms;
	long long sweep_ms;
};

struct ackd {
	const struct config *cf;
	struct keyring *kr; /* NULL with --once */
	char outbox[PATH_MAX];
	struct ledger *l;
	struct purge purge; /* the sweep's, over outbox/new */
	char newdir[PATH_MAX + 8], why[128];
	struct http_server *hs; /* while serving, for SIGHUP */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-ackd [-v] --dir dir --key-file file --listen "
	    "addr:port\n"
	    "                 (--cert pem --tls-key pem | --insecure) "
	    "[--keep time]\n"
	    "                 [--sweep-interval time] [--idle-timeout time] "
	    "[--max-connections n] [--max-peer-connections n]\n"
	    "                 [--grace time]\n"
	    "       srdf-ackd [-v] --dir dir --once [--keep time]\n"
	    "       srdf-ackd --help | --version\n");
}

/* ---- ACKs ---------------------------------------------------------------- */

/* Applies a to the ledger (acktake.h): the HTTP status, with *answer. */
static int
take(struct ackd *d, const struct ack *a, const char *peer, json_t **answer)
{
	static const char *const word[] = {
	    "accepted", "duplicate", "rejected", "busy"};
	static const int status[] = {201, 200, 409, 503};
	char why[512];
	int rc = acktake(d->l, a, peer, why, sizeof why);

	if (rc == ACKTAKE_CHANGED)
		heartbeat_beat(a->seq, a->applied ? a->last_gtid : NULL);
	*answer = http_answer(word[rc], "%s", why);
	return status[rc];
}

static int
post_ack(void *arg, const struct http_req *req, json_t **answer)
{
	struct ackd *d = arg;
	struct ack a;
	char err[256];
	int status;

	if (ack_decode(
	        (const char *)req->body, req->len, &a, err, sizeof err) != 0) {
		log_warn("ACK from %s: invalid_payload: %s", req->peer, err);
		*answer = http_answer("invalid_payload", "%s", err);
		return 400;
	}
	status = take(d, &a, req->peer, answer);
	json_object_set_new(*answer, "seq", json_integer((json_int_t)a.seq));
	ack_free(&a);
	return status;
}

static int
health(void *arg, const struct http_req *req, json_t **answer)
{
	if (http_draining(req->server)) {
		*answer = http_answer("draining", "stopping");
		return 503;
	}
	*answer = http_answer("ready", "ready for ACKs");
	return 200;
}

/* ---- the sweep ------------------------------------------------------------- */

static const char *const confirmed[] = {"confirmed", NULL};

/* Removes the files of confirmed wagons older than --keep (purge.h).
 * Returns the number purged, or -1. */
static long
sweep(struct ackd *d)
{
	return purge_sweep(&d->purge);
}

/* ---- main ------------------------------------------------------------------- */

/* SIGHUP (tool_signal): the key file read again, and the TLS
 * certificate and key (httpd_sighup). */
static void
reload(void *arg)
{
	struct ackd *d = arg;

	httpd_sighup(d->kr, d->hs, &d->cf->srv);
}

/* The main loop (http_serve's wait): sweeps every --sweep-interval
 * until a stop signal came (SIGHUP reads the key file again:
 * tool_signal), and pings the watchdog (notify.h). */
static int
run(void *arg, int sigfd, struct http_server *hs)
{
	struct ackd *d = arg;
	struct pollfd p = {sigfd, POLLIN, 0};
	double next, left;
	long n;

	d->hs = hs;
	for (;;) {
		/* A full batch means more is due now. */
		do {
			n = sweep(d);
			notify_watchdog();
		} while (
		    n == PURGE_BATCH && tool_signal(sigfd, reload, d) == 0);
		/* Awake for the heartbeat's promise (heartbeat.h). */
		for (next = clock_wall() + (double)d->cf->sweep_ms / 1000;
		     (left = next - clock_wall()) > 0;) {
			heartbeat_beat(0, NULL);
			notify_watchdog();
			if (poll(&p, 1,
			        (int)notify_wait_ms(
			            left * 1000 > HEARTBEAT_INTERVAL_MS
			                ? HEARTBEAT_INTERVAL_MS
			                : (int)(left * 1000) + 1)) > 0 &&
			    tool_signal(sigfd, reload, d) != 0)
				return 0;
		}
	}
}

static void
parse_options(int argc, char **argv, struct config *cf)
{
	static const struct option opts[] = {
	    {"cert", required_argument, NULL, 'c'},
	    {"dir", required_argument, NULL, 'd'},
	    {"grace", required_argument, NULL, 'g'},
	    {"help", no_argument, NULL, 'h'},
	    {"idle-timeout", required_argument, NULL, 'I'},
	    {"insecure", no_argument, NULL, 'k'},
	    {"keep", required_argument, NULL, 'e'},
	    {"key-file", required_argument, NULL, 'K'},
	    {"listen", required_argument, NULL, 'l'},
	    {"max-connections", required_argument, NULL, 'C'},
	    {"max-peer-connections", required_argument, NULL, 'P'},
	    {"once", no_argument, NULL, 'o'},
	    {"sweep-interval", required_argument, NULL, 's'},
	    {"tls-key", required_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		if (httpd_option(ch, optarg, &cf->srv))
			continue;
		switch (ch) {
		case 'd':
			cf->dir = optarg;
			break;
		case 'e':
			cf->keep_ms =
			    opt_duration(optarg, "--keep", 0, LLONG_MAX);
			break;
		case 'K':
			cf->key_file = optarg;
			break;
		case 'o':
			cf->once = 1;
			break;
		case 's':
			cf->sweep_ms = opt_duration(
			    optarg, "--sweep-interval", 10, LLONG_MAX);
			break;
		case 'v':
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, "srdf-ackd", usage);
		}
	}
	opt_no_operands(argc, usage);
}

/* The usage errors options cannot show one by one; NULL if none. */
static const char *
check_options(const struct config *cf)
{
	if (cf->once)
		return NULL;
	if (cf->key_file == NULL || cf->srv.listen == NULL)
		return "--key-file and --listen are required (or --once for "
		       "one sweep)";
	return httpd_check(&cf->srv);
}

/* Key, lock, outbox, ledger, audit, the sweep, heartbeat: the state
 * main() needs before serving (man/srdf-ackd.1 FILES).  Returns 0, or an
 * exit status after logging why (the prelude of tool.h dies as it
 * says). */
static int
open_state(struct ackd *d, const struct config *cf)
{
	int rc;

	d->cf = cf;
	if (cf->key_file != NULL &&
	    (rc = tool_keyring(cf->key_file, &d->kr)) != 0)
		return rc;
	tool_path(d->outbox, sizeof d->outbox, cf->dir, "outbox");
	tool_lock(cf->dir, "srdf-ackd", 0);
	tool_outbox(d->outbox, sizeof d->outbox, cf->dir);
	if ((rc = tool_ledger(cf->dir, 0, &d->l, EX_NOINPUT)) != 0)
		return rc;
	audit_open(cf->dir);
	audit_source_of(d->l);
	snprintf(d->newdir, sizeof d->newdir, "%s/new", d->outbox);
	snprintf(d->why, sizeof d->why,
	    "outbox copy purged (confirmed more "
	    "than --keep %lld s ago)",
	    cf->keep_ms / 1000);
	d->purge = (struct purge){.l = d->l,
	    .dir = d->newdir,
	    .states = confirmed,
	    .at = "confirmed_at",
	    .below = UINT64_MAX,
	    .keep_ms = cf->keep_ms,
	    .why = d->why};
	heartbeat_start(
	    cf->dir, "srdf-ackd", cf->once ? 0 : HEARTBEAT_INTERVAL, !cf->once);
	return 0;
}

/* --once: sweeps until nothing is due; the exit status. */
static int
sweep_all(struct ackd *d)
{
	long n;

	do
		n = sweep(d);
	while (n == PURGE_BATCH);
	return n < 0 ? EX_SOFTWARE : 0;
}

/* Serves until a signal; the exit status, or -1 with err set. */
static int
serve(struct ackd *d, char *err, size_t errlen)
{
	static const struct http_route routes[] = {
	    {"POST", "/v1/acks", post_ack},
	    {"GET", "/v1/health", health},
	};
	struct http_server_opts ho = {.max_body = 65536,
	    .max_memory = 4 << 20,
	    .threads = 2,
	    .ring = d->kr,
	    .to = HAUTH_TO_ACKD,
	    .routes = routes,
	    .nroutes = sizeof routes / sizeof routes[0],
	    .arg = d};
	char what[PATH_MAX + 80];

	snprintf(what, sizeof what,
	    "ACKs for %s, keeping confirmed wagons "
	    "%lld s",
	    d->cf->dir, d->cf->keep_ms / 1000);
	return http_serve(
	    &d->cf->srv, &ho, tool_signals(0), run, d, what, err, errlen);
}

int
main(int argc, char **argv)
{
	struct config cf = {.keep_ms = 7LL * 86400000,
	    .sweep_ms = 600000,
	    .srv = {.max_conn = 128,
	        .max_peer_conn = 16,
	        .idle_timeout = 30,
	        .grace_ms = 10000}};
	struct ackd d = {0};
	const char *why;
	char err[512];
	int rc;

	log_init(argv[0]);
	cf.dir = tool_dir_default();
	parse_options(argc, argv, &cf);
	if ((why = check_options(&cf)) != NULL)
		die(EX_USAGE, "%s", why);

	if ((rc = open_state(&d, &cf)) != 0 || cf.once) {
		if (rc == 0)
			rc = sweep_all(&d);
		heartbeat_stop(rc);
	} else {
		if ((rc = serve(&d, err, sizeof err)) < 0)
			die(EX_CONFIG, "%s", err);
		heartbeat_stop(rc);
		log_notice("stopped");
	}
	ledger_close(d.l);
	keyring_close(d.kr);
	return rc;
}
