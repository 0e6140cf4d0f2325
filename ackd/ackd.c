/*
 * srdf-ackd — take the target's signed ACKs on the source, mark wagons
 * confirmed (or failed), and purge confirmed wagons from the outbox.
 *
 * Design rationale.  "Confirmed" is the only state that lets the source
 * forget a wagon (srdf(7)), and ackd sets it (so does srdf-ship
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
#include "heartbeat.h"
#include "http.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "opt.h"
#include "purge.h"
#include "wagon.h"


struct config {
	const char *dir;
	const char *key_file;
	const char *listen;
	const char *cert;
	const char *tls_key;
	int insecure;
	int once;
	long long keep_ms;
	long long sweep_ms;
	unsigned max_conn;
	unsigned max_peer_conn;
	unsigned idle_timeout; /* seconds */
	long long grace_ms;
};

struct ackd {
	const struct config *cf;
	struct srdf_key *key;
	char outbox[PATH_MAX];
	struct ledger *l;
	struct purge purge; /* the sweep's, over outbox/new */
	char newdir[PATH_MAX + 8], why[128];
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

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- ACKs ---------------------------------------------------------------- */

/* Applies a to the ledger (acktake.h): the HTTP status, with *answer. */
static int
take(struct ackd *d, const struct ack *a, const char *peer, json_t **answer)
{
	static const char *const word[] = {"accepted", "duplicate",
	    "rejected", "busy"};
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

	if (ack_decode((const char *)req->body, req->len, &a, err,
	        sizeof err) != 0) {
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

static int
run(struct ackd *d, struct http_server *hs, int sigfd)
{
	struct pollfd p = {sigfd, POLLIN, 0};
	struct signalfd_siginfo si;
	double next, left;
	long n;

	for (;;) {
		/* A full batch means more is due now. */
		do
			n = sweep(d);
		while (n == PURGE_BATCH && poll(&p, 1, 0) == 0);
		/* Awake for the heartbeat's promise (heartbeat.h). */
		for (next = now_s() + (double)d->cf->sweep_ms / 1000;
		     (left = next - now_s()) > 0;) {
			heartbeat_beat(0, NULL);
			if (poll(&p, 1, left * 1000 > HEARTBEAT_INTERVAL_MS ?
			    HEARTBEAT_INTERVAL_MS : (int)(left * 1000) + 1) > 0)
				goto stop;
		}
	}
stop:
	if (read(sigfd, &si, sizeof si) != sizeof si)
		si.ssi_signo = SIGTERM;
	log_notice("%s: draining (%u requests in flight)",
	    strsignal((int)si.ssi_signo), http_in_flight(hs));
	http_drain_wait(hs, d->cf->grace_ms, sigfd);
	return 0;
}

static long long
duration_arg(const char *s, const char *opt, long long min_ms)
{
	long long v;

	if (parse_duration_ms(s, &v) != 0 || v < min_ms)
		die(EX_USAGE, "bad %s %s (a duration such as 500ms, 30s, 10m, "
		    "1h, 7d; at least %lld ms)", opt, s, min_ms);
	return v;
}

int
main(int argc, char **argv)
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
	static const struct http_route routes[] = {
	    {"POST", "/v1/acks", post_ack},
	    {"GET", "/v1/health", health},
	};
	struct config cf = {0};
	struct ackd d = {0};
	struct http_server_opts ho = {0};
	struct http_server *hs;
	struct hauth_cache *cache;
	struct stat st;
	sigset_t mask;
	char err[512], url[300], path[PATH_MAX + 8];
	int ch, sigfd, rc;
	long n;

	log_init(argv[0]);
	cf.dir = getenv("SRDF_DIR") ? getenv("SRDF_DIR") : "/var/lib/srdf";
	cf.keep_ms = 7LL * 86400000;
	cf.sweep_ms = 600000;
	cf.max_conn = 128;
	cf.max_peer_conn = 16;
	cf.idle_timeout = 30;
	cf.grace_ms = 10000;
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cf.cert = optarg; break;
		case 'd': cf.dir = optarg; break;
		case 'e': cf.keep_ms = duration_arg(optarg, "--keep", 0); break;
		case 'g': cf.grace_ms = duration_arg(optarg, "--grace", 0); break;
		case 'I':
			cf.idle_timeout = (unsigned)(duration_arg(optarg,
			    "--idle-timeout", 1000) / 1000);
			break;
		case 'k': cf.insecure = 1; break;
		case 'K': cf.key_file = optarg; break;
		case 'l': cf.listen = optarg; break;
		case 'P':
			cf.max_peer_conn = opt_count(optarg,
			    "--max-peer-connections", 1, 10000);
			break;
		case 'C':
			cf.max_conn = opt_count(optarg, "--max-connections", 1,
			    10000);
			break;
		case 'o': cf.once = 1; break;
		case 's':
			cf.sweep_ms = duration_arg(optarg, "--sweep-interval",
			    10);
			break;
		case 't': cf.tls_key = optarg; break;
		case 'v': log_set_verbose(1); break;
		default:
			opt_std(ch, "srdf-ackd", usage);
		}
	}
	opt_no_operands(argc, usage);
	if (!cf.once) {
		if (cf.key_file == NULL || cf.listen == NULL)
			die(EX_USAGE, "--key-file and --listen are required "
			    "(or --once for one sweep)");
		if (cf.insecure == (cf.cert != NULL))
			die(EX_USAGE, "give --cert and --tls-key for HTTPS, or "
			    "--insecure for plain HTTP (one of the two)");
		if ((cf.cert == NULL) != (cf.tls_key == NULL))
			die(EX_USAGE, "--cert and --tls-key go together");
	}

	d.cf = &cf;
	if (cf.key_file != NULL &&
	    (d.key = key_load(cf.key_file, err, sizeof err)) == NULL)
		die(EX_CONFIG, "%s", err);
	if (snprintf(d.outbox, sizeof d.outbox, "%s/outbox", cf.dir) >=
	    (int)sizeof d.outbox)
		die(EX_USAGE, "--dir %s is too long", cf.dir);
	lock_dir_or_die(cf.dir, "srdf-ackd");
	snprintf(path, sizeof path, "%s/new", d.outbox);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		die(EX_NOINPUT, "no outbox %s: run srdf-seal --dir %s first",
		    path, cf.dir);
	if ((rc = ledger_open(cf.dir, 0, &d.l)) != 0)
		die(EX_NOINPUT, "cannot open the ledger in %s: %s", cf.dir,
		    ledger_strerror(rc));
	audit_open(cf.dir);
	audit_source_of(d.l);
	snprintf(d.newdir, sizeof d.newdir, "%s/new", d.outbox);
	snprintf(d.why, sizeof d.why, "outbox copy purged (confirmed more "
	    "than --keep %lld s ago)", cf.keep_ms / 1000);
	d.purge = (struct purge){.l = d.l, .dir = d.newdir, .states = confirmed,
	    .at = "confirmed_at", .below = UINT64_MAX, .keep_ms = cf.keep_ms,
	    .why = d.why};
	heartbeat_start(cf.dir, "srdf-ackd", cf.once ? 0 : HEARTBEAT_INTERVAL,
	    !cf.once);
	if (cf.once) {
		do
			n = sweep(&d);
		while (n == PURGE_BATCH);
		rc = n < 0 ? EX_SOFTWARE : 0;
		heartbeat_stop(rc);
		ledger_close(d.l);
		key_free(d.key);
		return rc;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
		die(EX_OSERR, "signalfd: %s", strerror(errno));
	if ((cache = hauth_cache_new()) == NULL)
		die(EX_OSERR, "out of memory");
	ho.listen = cf.listen;
	ho.cert = cf.cert;
	ho.tls_key = cf.tls_key;
	ho.max_body = 65536;
	ho.max_memory = 4 << 20;
	ho.max_conn = cf.max_conn;
	ho.max_peer_conn = cf.max_peer_conn;
	ho.idle_timeout = cf.idle_timeout;
	ho.threads = 2;
	ho.key = d.key;
	ho.to = HAUTH_TO_ACKD;
	ho.cache = cache;
	ho.routes = routes;
	ho.nroutes = sizeof routes / sizeof routes[0];
	ho.arg = &d;
	if ((hs = http_start(&ho, err, sizeof err)) == NULL)
		die(EX_CONFIG, "%s", err);
	http_url(hs, url, sizeof url);
	log_notice("listening on %s: ACKs for %s, keeping confirmed wagons "
	    "%lld s", url, cf.dir, cf.keep_ms / 1000);
	rc = run(&d, hs, sigfd);
	http_stop(hs);
	heartbeat_stop(rc);
	log_notice("stopped");
	hauth_cache_free(cache);
	ledger_close(d.l);
	key_free(d.key);
	return rc;
}
