/*
 * srdf-recv — take wagons in at the DR site: an HTTPS server whose
 * POST /v1/wagons stores each valid wagon durably in DIR/inbox.
 *
 * Design rationale.  recv is the only door into the target's inbox, so
 * it checks everything before a wagon goes in: the request's signature
 * (hauth.h, replays refused), the wagon's checksum and header
 * (wagon_peek), its key id and source, and its authentication tag
 * (wagon_open_peeked decrypts and decompresses it, without hashing it a
 * second time; the plaintext is thrown away at once — recv never writes
 * or logs it).  Only then is it written with
 * spool_put (file fsync'd, renamed, directory fsync'd), recorded in the
 * target ledger, and answered "accepted": an answer never runs ahead of
 * the disk.  Every answer is one of four words (srdf-recv(1) ANSWERS)
 * with a reason: accepted, duplicate, invalid_payload, rejected; and
 * "busy" for "not now, retry" (503).
 *
 * The ledger, not the inbox, remembers what was received: srdf-apply
 * moves files away, but the record of sequence N (its SHA-256, its
 * source) stays, so a re-sent N is a duplicate and a different N is
 * rejected forever after.  The first wagon accepted pins the source id
 * (meta "source_id") unless --source-id pinned it first.  Storing is
 * serialized by one mutex: two copies of N arriving at once cannot both
 * be stored; checking and decrypting run in parallel on the server's
 * threads.
 *
 * Memory and time are bounded: a body needs Content-Length and is
 * refused before it is read when over --max-body, or when all bodies in
 * flight would pass --max-memory; connections are limited in number and
 * closed when idle.  At start, a wagon that is in inbox/new but not in
 * the ledger (a crash between the two) is recorded, or moved to bad/ if
 * its checksum fails.
 *
 * --import DIR takes wagons from another spool's new/ (srdf-ship --to
 * dir:, a mounted volume, an rsync target) under the same checks, moving
 * each to DIR/cur (stored or duplicate) or DIR/bad (refused, with the
 * reason).  Alone it does one pass and exits; with --listen it watches
 * DIR/new (inotify) while serving.
 *
 * What it refuses to do: store anything it has not opened with the key;
 * answer "accepted" before fsync; decide duplicates by file name alone;
 * speak plain HTTP unless told --insecure.
 */
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "acks.h"
#include "audit.h"
#include "clock.h"
#include "file.h"
#include "hauth.h"
#include "heartbeat.h"
#include "http.h"
#include "httpd.h"
#include "keyring.h"
#include "ledger.h"
#include "log.h"
#include "notify.h"
#include "opt.h"
#include "spool.h"
#include "tool.h"
#include "wagon.h"
#include "xalloc.h"

struct config {
	const char *dir;
	const char *key_file;
	struct httpd_cf srv; /* --listen, TLS, connections, --grace */
	const char *import;
	const char *source_id; /* 32 hex digits, or NULL */
	unsigned long long max_body;
	unsigned long long max_memory;
	unsigned long long min_free;
	unsigned threads;
};

enum verdict { V_ACCEPTED, V_DUPLICATE, V_INVALID, V_REJECTED, V_BUSY };

static const char *const vword[] = {
    "accepted",
    "duplicate",
    "invalid_payload",
    "rejected",
    "busy",
};
static const int vstatus[] = {201, 200, 400, 409, 503};

struct recv {
	const struct config *cf;
	struct keyring *kr;
	char inbox[PATH_MAX];
	struct ledger *l;
	pthread_mutex_t mu;                  /* storing; and source_hex */
	char source_hex[33];                 /* pinned source, "" while none */
	_Atomic unsigned long long decoding; /* bytes wagon_open holds */
	int sigfd;
	struct http_server *hs; /* while serving, for SIGHUP */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-recv [-v] --dir dir --key-file file --listen "
	    "addr:port\n"
	    "                 (--cert pem --tls-key pem | --insecure) "
	    "[--import dir]\n"
	    "                 [--idle-timeout time] [--max-body size] "
	    "[--max-connections n] [--max-peer-connections n]\n"
	    "                 [--max-memory size] [--min-free size] "
	    "[--source-id hex]\n"
	    "                 [--threads n] [--grace time]\n"
	    "       srdf-recv [-v] --dir dir --key-file file --import dir "
	    "[--max-body size]\n"
	    "       srdf-recv --help | --version\n");
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, p, n);
}

/* ---- the ledger ---------------------------------------------------------- */

/* What the ledger already says about h: -1 nothing (go on), else the
 * verdict with its reason.  Caller holds r->mu. */
static int
known(struct recv *r, const struct wagon_header *h, const char *src,
    const char *sum, char *why, size_t wl)
{
	struct ledger_txn *t;
	const char *have;
	char *applied = NULL, *promoted = NULL;
	uint64_t last = 0;
	json_t *w = NULL;
	int rc, v = -1;

	if (r->source_hex[0] != '\0' && strcmp(src, r->source_hex) != 0) {
		snprintf(why, wl,
		    "unknown source %s (this receiver takes "
		    "wagons from %s)",
		    src, r->source_hex);
		return V_REJECTED;
	}
	if ((rc = ledger_txn_begin(r->l, LEDGER_RDONLY, &t)) != 0 ||
	    (rc = ledger_wagon_get(t, h->seq, &w)) != 0 ||
	    (rc = ledger_meta_get(t, "last_applied_seq", &applied)) != 0 ||
	    (rc = ledger_meta_get(t, "promoted", &promoted)) != 0) {
		ledger_txn_abort(t);
		json_decref(w);
		free(applied);
		log_err("cannot read the ledger in %s: %s", r->cf->dir,
		    ledger_strerror(rc));
		snprintf(why, wl, "cannot read the ledger");
		return V_BUSY;
	}
	ledger_txn_abort(t);
	/* After a failover this host is the production database: the old
	 * source must not go on filling its inbox (srdf-promote(1)). */
	if (promoted != NULL) {
		snprintf(why, wl,
		    "this target was promoted at %s "
		    "(srdf-promote): it takes no more wagons; stop srdf-ship "
		    "on the old source, or point it at a new DR site",
		    promoted);
		free(promoted);
		free(applied);
		json_decref(w);
		return V_REJECTED;
	}
	if (applied != NULL && parse_u64(applied, &last) != 0)
		last = 0;
	free(applied);
	if (w != NULL) {
		have = json_string_value(json_object_get(w, "sha256"));
		if (have != NULL && strcmp(have, sum) == 0) {
			snprintf(why, wl,
			    "wagon %" PRIu64 " was received "
			    "before (state %s)",
			    h->seq,
			    json_string_value(json_object_get(w, "state")));
			v = V_DUPLICATE;
		} else {
			snprintf(why, wl,
			    "wagon %" PRIu64 " was received "
			    "before with different content (SHA-256 %.16s..., "
			    "this one %.16s...)",
			    h->seq, have ? have : "?", sum);
			v = V_REJECTED;
		}
		json_decref(w);
		return v;
	}
	if (h->seq <= last) {
		snprintf(why, wl,
		    "wagon %" PRIu64 " is at or below the last "
		    "applied sequence %" PRIu64,
		    h->seq, last);
		return V_DUPLICATE;
	}
	return -1;
}

/* Records h as received (and pins its source).  Caller holds r->mu.
 * srdf-apply watches inbox/new, so it may apply the wagon between
 * spool_put and this commit and record it first (applied, or confirmed,
 * or failed): then its record keeps its state and fields and only gains
 * the ones it lacks (sha256, wagon_bytes, ...).  Overwriting it would put
 * an applied wagon back to "received" for good. */
static int
record(struct recv *r, const struct wagon_header *h, size_t len,
    const char *src, const char *sum, const uint64_t ts[2])
{
	struct ledger_txn *t;
	char kid[17];
	json_t *w, *old = NULL;
	int rc;

	key_id_hex(h->key_id, kid);
	w = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:I, "
	              "s:I, s:s, s:I, s:f}",
	    "state", "received", "source_id", src, "sha256", sum, "wagon_bytes",
	    (json_int_t)len, "raw_bytes", (json_int_t)h->raw_len, "events_in",
	    (json_int_t)h->events_in, "events_out", (json_int_t)h->events_out,
	    "first_gtid", h->first_gtid, "last_gtid", h->last_gtid, "chunk",
	    (json_int_t)h->chunk, "chunks", (json_int_t)h->chunks, "key_id",
	    kid, "flags", (json_int_t)h->flags, "received_at", clock_wall());
	if (w == NULL)
		return ENOMEM;
	/* The source commit times srdf-status shows of what is received
	 * (srdf-status(1)); the group_end's, when it has them. */
	if (ts[0] > 0)
		json_object_set_new(
		    w, "first_ts", json_integer((json_int_t)ts[0]));
	if (ts[1] > 0)
		json_object_set_new(
		    w, "last_ts", json_integer((json_int_t)ts[1]));
	if ((rc = ledger_txn_begin(r->l, 0, &t)) != 0)
		goto out;
	if ((rc = ledger_wagon_get(t, h->seq, &old)) != 0) {
		ledger_txn_abort(t);
		goto out;
	}
	if (old != NULL) {
		if (json_object_update_missing(old, w) != 0) {
			json_decref(old);
			ledger_txn_abort(t);
			rc = ENOMEM;
			goto out;
		}
		json_decref(w);
		w = old;
	}
	if ((r->source_hex[0] == '\0' &&
	        (rc = ledger_meta_put(t, "source_id", src)) != 0) ||
	    (rc = ledger_wagon_put(t, h->seq, w)) != 0) {
		ledger_txn_abort(t);
		goto out;
	}
	if ((rc = ledger_txn_commit(t)) == 0 && r->source_hex[0] == '\0') {
		memcpy(r->source_hex, src, 33);
		log_notice("source %s pinned: wagons from other sources are "
		           "rejected from now on",
		    src);
	}
	if (rc == 0) {
		audit_source(src);
		audit_wagon(0, h->seq, NULL, "received",
		    "%zu bytes, GTID "
		    "%s..%s",
		    len, h->first_gtid, h->last_gtid);
		heartbeat_beat(h->seq, h->last_gtid);
	}
out:
	json_decref(w);
	return rc;
}

/* ---- receiving one wagon -------------------------------------------------- */

/* The unsigned integer member key ("\"last_ts\":") of the line s..e,
 * 0 when absent. */
static uint64_t
member_u64(const char *s, const char *e, const char *key)
{
	size_t n = strlen(key);
	const char *p = memmem(s, (size_t)(e - s), key, n);
	uint64_t v = 0;

	if (p == NULL)
		return 0;
	for (p += n; p < e && *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return v;
}

/* The source commit times of a payload's group_end (its last line,
 * srdf-record(5)): ts[0] first_ts, ts[1] last_ts, 0 when absent.  Read
 * in place, with no parser's copy: nothing of the plaintext but the two
 * numbers outlives wagon_records_free (t/4009). */
static void
end_times(const char *records, size_t len, uint64_t ts[2])
{
	static const char head[] = "{\"v\":1,\"type\":\"group_end\"";
	const char *e = records + len, *s;

	ts[0] = ts[1] = 0;
	while (e > records && e[-1] == '\n')
		e--;
	for (s = e; s > records && s[-1] != '\n'; s--)
		;
	if ((size_t)(e - s) < sizeof head ||
	    memcmp(s, head, sizeof head - 1) != 0)
		return;
	ts[0] = member_u64(s, e, "\"first_ts\":");
	ts[1] = member_u64(s, e, "\"last_ts\":");
}

/* Opens the wagon (h: its header, peeked) with the key, outside the
 * lock, and keeps nothing of it but the source commit times of its
 * group_end (end_times: ts).  What opening takes (ciphertext copy
 * and plaintext) is counted against --max-memory, like the bodies: a
 * wagon that compresses well may be much larger open than sent.
 * Returns -1 when it opened, else the verdict with why. */
static int
authenticate(struct recv *r, const struct srdf_key *key, const uint8_t *body,
    size_t len, const struct wagon_header *h, uint64_t ts[2], char *why,
    size_t wl)
{
	unsigned long long need = h->comp_len + h->raw_len + 1, cur;
	char err[256], *records = NULL;
	size_t rlen;
	int rc;

	if (need > r->cf->max_memory) {
		snprintf(why, wl,
		    "opening it takes %llu bytes, over "
		    "--max-memory %llu",
		    need, r->cf->max_memory);
		return V_REJECTED;
	}
	cur = atomic_load(&r->decoding);
	do {
		if (cur + need > r->cf->max_memory) {
			snprintf(why, wl,
			    "too many bytes being opened "
			    "(--max-memory); try again later");
			return V_BUSY;
		}
	} while (!atomic_compare_exchange_weak(&r->decoding, &cur, cur + need));
	rc = wagon_open_peeked(
	    body, len, key, h, &records, &rlen, err, sizeof err);
	if (rc == 0)
		end_times(records, rlen, ts);
	wagon_records_free(records, rlen);
	atomic_fetch_sub(&r->decoding, need);
	if (rc == 0)
		return -1;
	snprintf(why, wl, "%s", err);
	return rc == WAGON_ENOMEM ? V_BUSY
	       : rc == WAGON_EKEY ? V_REJECTED
	                          : V_INVALID;
}

/* Stores the authenticated wagon in inbox/new and records it, under
 * r->mu, unless another thread stored it meanwhile (src, sum: its
 * source and checksum in hex).  Returns the verdict, with why. */
static enum verdict
store(struct recv *r, const uint8_t *body, size_t len,
    const struct wagon_header *h, const char *src, const char *sum,
    const uint64_t ts[2], char *why, size_t wl)
{
	char name[WAGON_NAME_LEN];
	int rc, v, ok;

	pthread_mutex_lock(&r->mu);
	/* Again: another thread may have stored it meanwhile. */
	if ((v = known(r, h, src, sum, why, wl)) >= 0)
		goto out;
	v = V_BUSY;
	ok = spool_free_ok(r->inbox, r->cf->min_free + len);
	if (ok <= 0) {
		snprintf(why, wl,
		    ok < 0 ? "cannot check the free space of %s"
		           : "the disk of %s is nearly full (--min-free)",
		    r->inbox);
		goto out;
	}
	wagon_name(h->seq, name);
	if (spool_put(r->inbox, name, body, len) != 0) {
		snprintf(why, wl, "cannot store it: %s", strerror(errno));
		goto out;
	}
	if ((rc = record(r, h, len, src, sum, ts)) != 0) {
		/* Stored but not recorded: the sender will retry, and the
		 * retry stores it again (spool_put replaces) and records it. */
		log_err("cannot record wagon %" PRIu64 " in the ledger in %s: "
		        "%s",
		    h->seq, r->cf->dir, ledger_strerror(rc));
		snprintf(why, wl, "cannot record it in the ledger");
		goto out;
	}
	snprintf(why, wl, "stored as inbox/new/%s", name);
	v = V_ACCEPTED;
out:
	pthread_mutex_unlock(&r->mu);
	return (enum verdict)v;
}

/*
 * The checks, in order (each answer in srdf-recv(1)):
 *	checksum and header (wagon_peek)          -> invalid_payload
 *	key id not in the key file (keyring_find)  -> busy
 *	pinned source                              -> rejected
 *	ledger: same sequence, same SHA-256        -> duplicate
 *	        same sequence, other content       -> rejected
 *	        at or below last_applied_seq       -> duplicate
 *	AEAD tag, decompression (wagon_open_peeked) -> invalid_payload
 *	free space, spool_put, ledger commit       -> busy on failure
 *	                                           -> accepted
 * head_sum is the checksum of body when the HTTP server computed it with
 * the signature's hash (http_req.head_sum), NULL to compute it here.
 */
static enum verdict
receive(struct recv *r, const uint8_t *body, size_t len,
    const uint8_t *head_sum, uint64_t *seq, char *why, size_t wl)
{
	struct wagon_header h;
	const struct srdf_key *key;
	char err[256], src[33], sum[65], kh[17], kw[17];
	uint64_t ts[2] = {0, 0};
	int rc, v;

	*seq = 0;
	rc = head_sum != NULL
	         ? wagon_peek_summed(body, len, head_sum, &h, err, sizeof err)
	         : wagon_peek(body, len, &h, err, sizeof err);
	if (rc != 0) {
		snprintf(why, wl, "%s", err);
		return rc == WAGON_ENOMEM ? V_BUSY : V_INVALID;
	}
	*seq = h.seq;
	hex(h.source_id, 16, src);
	hex(body + len - WAGON_SUM_LEN, WAGON_SUM_LEN, sum);
	/* A key id the ring lacks even after reading the key file again
	 * is a rotation half done (srdf-keygen(1) KEY ROTATION): the
	 * sender retries until this host holds the key. */
	if ((key = keyring_find(r->kr, h.key_id)) == NULL) {
		key_id_hex(h.key_id, kh);
		key_id_hex(keyring_key(r->kr)->id, kw);
		snprintf(why, wl,
		    "sealed under key id %s, which the key file %s does not "
		    "hold (newest here: %s); retry once this host holds it: "
		    "see srdf-keygen(1) KEY ROTATION",
		    kh, keyring_path(r->kr), kw);
		return V_BUSY;
	}
	pthread_mutex_lock(&r->mu);
	v = known(r, &h, src, sum, why, wl);
	pthread_mutex_unlock(&r->mu);
	if (v >= 0)
		return (enum verdict)v;
	if ((v = authenticate(r, key, body, len, &h, ts, why, wl)) >= 0)
		return (enum verdict)v;
	return store(r, body, len, &h, src, sum, ts, why, wl);
}

static void
log_verdict(
    enum verdict v, uint64_t seq, const char *from, size_t len, const char *why)
{
	char s[32] = "?";

	if (seq != 0)
		snprintf(s, sizeof s, "%" PRIu64, seq);
	switch (v) {
	case V_ACCEPTED:
	case V_DUPLICATE:
		log_info("wagon %s from %s: %s (%zu bytes): %s", s, from,
		    vword[v], len, why);
		break;
	case V_BUSY:
		log_notice("wagon %s from %s: busy: %s", s, from, why);
		break;
	default:
		log_warn("wagon %s from %s: %s: %s", s, from, vword[v], why);
	}
}

/* ---- HTTP ------------------------------------------------------------------ */

static int
post_wagon(void *arg, const struct http_req *req, json_t **answer)
{
	struct recv *r = arg;
	char why[512];
	enum verdict v;
	uint64_t seq;

	v = receive(
	    r, req->body, req->len, req->head_sum, &seq, why, sizeof why);
	log_verdict(v, seq, req->peer, req->len, why);
	*answer = http_answer(vword[v], "%s", why);
	if (seq != 0)
		json_object_set_new(
		    *answer, "seq", json_integer((json_int_t)seq));
	return vstatus[v];
}

static int
get_acks(void *arg, const struct http_req *req, json_t **answer)
{
	return recv_acks_pending(((struct recv *)arg)->l, req, answer);
}

static int
post_taken(void *arg, const struct http_req *req, json_t **answer)
{
	return recv_acks_taken(((struct recv *)arg)->l, req, answer);
}

/* Entries of dir, or -1. */
static long
count_dir(const char *dir)
{
	struct dirent *de;
	long n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
health(void *arg, const struct http_req *req, json_t **answer)
{
	struct recv *r = arg;
	struct ledger_txn *t;
	char path[PATH_MAX + 8], *applied = NULL;
	const char *status = "ready", *reason = "ready to receive";
	uint64_t last = 0, app = 0;
	int rc, ok;

	snprintf(path, sizeof path, "%s/new", r->inbox);
	if ((rc = ledger_txn_begin(r->l, LEDGER_RDONLY, &t)) == 0) {
		if ((rc = ledger_wagon_last_seq(t, &last)) == 0)
			rc = ledger_meta_get(t, "last_applied_seq", &applied);
		ledger_txn_abort(t);
	}
	if (applied != NULL && parse_u64(applied, &app) != 0)
		app = 0;
	free(applied);
	ok = spool_free_ok(r->inbox, r->cf->min_free + r->cf->max_body);
	if (http_draining(req->server)) {
		status = "draining";
		reason = "stopping";
	} else if (rc != 0) {
		status = "busy";
		reason = "cannot read the ledger";
	} else if (ok <= 0) {
		status = "busy";
		reason = "the disk is nearly full (--min-free)";
	} else if (http_memory_used(req->server) + r->cf->max_body >
	           r->cf->max_memory) {
		status = "busy";
		reason = "too many bytes in flight (--max-memory)";
	}
	pthread_mutex_lock(&r->mu);
	*answer = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "status", status,
	    "reason", reason, "inbox_depth", (json_int_t)count_dir(path),
	    "last_received_seq", (json_int_t)last, "last_applied_seq",
	    (json_int_t)app, "source_id", r->source_hex);
	pthread_mutex_unlock(&r->mu);
	return strcmp(status, "ready") == 0 ? 200 : 503;
}

/* ---- import -------------------------------------------------------------- */

/* Reads DIR/new/NAME whole (lib/file.h: a FIFO or a link put there is
 * refused, not followed or waited on); NULL with why and errno (ENOENT:
 * taken away meanwhile). */
static uint8_t *
read_item(const char *dir, const char *name, unsigned long long max,
    size_t *len, char *why, size_t wl)
{
	char path[PATH_MAX];
	enum file_step step;
	uint8_t *p;
	int e;

	snprintf(path, sizeof path, "%s/new/%s", dir, name);
	if ((p = file_read(path, 1, max, len, &step)) != NULL)
		return p;
	e = errno;
	if (step == FILE_OPEN)
		snprintf(why, wl, "cannot open %.300s: %s", path, strerror(e));
	else if (step == FILE_STAT)
		snprintf(why, wl, "%.300s is not a regular file", path);
	else if (step == FILE_SIZE)
		snprintf(why, wl,
		    "%lld bytes is over the limit of %llu "
		    "(--max-body)",
		    (long long)*len, max);
	else if (step == FILE_ALLOC)
		snprintf(why, wl, "out of memory");
	else
		snprintf(why, wl, "cannot read %.300s: %s", path, strerror(e));
	errno = e;
	return NULL;
}

/* SIGHUP (tool_signal): the key file read again, and the TLS
 * certificate and key (httpd_sighup). */
static void
reload(void *arg)
{
	struct recv *r = arg;

	httpd_sighup(r->kr, r->hs, &r->cf->srv);
}

static int
stop_requested(struct recv *r, int sigfd)
{
	notify_watchdog();
	return tool_signal(sigfd, reload, r) != 0;
}

/* One pass over IMPORT/new: 0 when every item was stored or a duplicate,
 * EX_DATAERR when some were refused (moved to bad/), EX_TEMPFAIL when
 * the pass stopped at a busy answer or a stop signal. */
static int
import_pass(struct recv *r, int sigfd)
{
	const char *dir = r->cf->import;
	char **names, why[512], from[PATH_MAX + 16];
	size_t n, i, len;
	uint8_t *body;
	uint64_t seq;
	enum verdict v;
	int ex = 0;

	if (spool_list(dir, "new", &names, &n) != 0)
		return EX_TEMPFAIL;
	for (i = 0; i < n; i++) {
		if (stop_requested(r, sigfd)) {
			ex = EX_TEMPFAIL;
			break;
		}
		snprintf(from, sizeof from, "%s/new/%s", dir, names[i]);
		len = 0;
		errno = 0;
		body = read_item(
		    dir, names[i], r->cf->max_body, &len, why, sizeof why);
		if (body == NULL && errno == ENOENT)
			continue; /* taken away meanwhile */
		if (body == NULL) {
			v = V_REJECTED;
			seq = 0;
		} else {
			v = receive(r, body, len, NULL, &seq, why, sizeof why);
			free(body);
		}
		log_verdict(v, seq, from, len, why);
		if (v == V_BUSY) {
			ex = EX_TEMPFAIL;
			break;
		}
		if (v == V_ACCEPTED || v == V_DUPLICATE) {
			if (spool_move(dir, "new", "cur", names[i]) != 0) {
				ex = EX_TEMPFAIL;
				break;
			}
		} else {
			if (spool_bad(dir, "new", names[i], why) != 0) {
				ex = EX_TEMPFAIL;
				break;
			}
			ex = EX_DATAERR;
		}
	}
	spool_list_free(names, n);
	return ex;
}

/* ---- start ------------------------------------------------------------------ */

/* 0 when s is 32 lowercase hex digits (a source id). */
static int
bad_source_id(const char *s)
{
	return strlen(s) != 32 || strspn(s, "0123456789abcdef") != 32;
}

/* Pins the ledger to --source-id, or takes the source it is pinned to
 * into r->source_hex ("" while none).  Returns 0, or an exit status after
 * logging why. */
static int
pin_source(struct recv *r)
{
	struct ledger_txn *t;
	char *have = NULL;
	const char *want = r->cf->source_id;
	int rc, ex = 0;

	if ((rc = ledger_txn_begin(r->l, 0, &t)) != 0 ||
	    (rc = ledger_meta_get(t, "source_id", &have)) != 0) {
		ledger_txn_abort(t);
		log_err("cannot read the ledger in %s: %s", r->cf->dir,
		    ledger_strerror(rc));
		return EX_CANTCREAT;
	}
	if (have != NULL && want != NULL && strcmp(have, want) != 0) {
		log_err("--source-id %s, but %s has received wagons from "
		        "source %s",
		    want, r->cf->dir, have);
		ex = EX_CONFIG;
	} else if (have == NULL && want != NULL) {
		if ((rc = ledger_meta_put(t, "source_id", want)) != 0)
			ledger_txn_abort(t);
		else
			rc = ledger_txn_commit(t);
		t = NULL;
		if (rc != 0) {
			log_err("cannot write the ledger in %s: %s", r->cf->dir,
			    ledger_strerror(rc));
			ex = EX_CANTCREAT;
		}
	}
	ledger_txn_abort(t);
	snprintf(r->source_hex, sizeof r->source_hex, "%s",
	    have   ? have
	    : want ? want
	           : "");
	free(have);
	return ex;
}

/* Records what inbox/new holds and the ledger does not (a crash between
 * spool_put and the ledger commit); moves damaged files to bad/.
 * Returns 0, or EX_CANTCREAT after logging why. */
static int
recover(struct recv *r)
{
	struct wagon_header h;
	struct ledger_txn *t;
	char **names, why[256], src[33], sum[65], name[WAGON_NAME_LEN];
	size_t n, i, len;
	uint8_t *body;
	uint64_t seq;
	json_t *w;
	int rc, ex = 0;

	if (spool_list(r->inbox, "new", &names, &n) != 0) {
		log_err("cannot list %s/new", r->inbox);
		return EX_CANTCREAT;
	}
	for (i = 0; i < n && ex == 0; i++) {
		if (strlen(names[i]) != 26 ||
		    strcmp(names[i] + 20, ".wagon") != 0)
			continue;
		names[i][20] = '\0';
		rc = parse_u64(names[i], &seq);
		names[i][20] = '.';
		if (rc != 0)
			continue;
		if ((rc = ledger_txn_begin(r->l, LEDGER_RDONLY, &t)) != 0 ||
		    (rc = ledger_wagon_get(t, seq, &w)) != 0) {
			ledger_txn_abort(t);
			log_err("cannot read the ledger in %s: %s", r->cf->dir,
			    ledger_strerror(rc));
			ex = EX_CANTCREAT;
			break;
		}
		ledger_txn_abort(t);
		if (w != NULL) {
			json_decref(w);
			continue;
		}
		if ((body = read_item(r->inbox, names[i], SIZE_MAX, &len, why,
		         sizeof why)) == NULL) {
			log_warn("%s", why);
			continue;
		}
		rc = wagon_peek(body, len, &h, why, sizeof why);
		if (rc == 0)
			wagon_name(h.seq, name);
		if (rc == 0 && strcmp(name, names[i]) != 0) {
			snprintf(
			    why, sizeof why, "holds wagon %" PRIu64, h.seq);
			rc = -1;
		}
		if (rc != 0) {
			spool_bad(r->inbox, "new", names[i], why);
		} else {
			hex(h.source_id, 16, src);
			hex(body + len - WAGON_SUM_LEN, WAGON_SUM_LEN, sum);
			/* (not opened again: no commit times) */
			if ((rc = record(r, &h, len, src, sum,
			         (const uint64_t[2]){0, 0})) != 0) {
				log_err("cannot write the ledger in %s: %s",
				    r->cf->dir, ledger_strerror(rc));
				ex = EX_CANTCREAT;
			} else
				log_notice("recorded wagon %" PRIu64 ", stored "
				           "before a crash",
				    h.seq);
		}
		free(body);
	}
	spool_list_free(names, n);
	return ex;
}

/* Watches DIR/new of --import (an inotify descriptor), or -1 after
 * logging why. */
static int
watch_import(const char *dir)
{
	char path[PATH_MAX + 8];
	int in;

	snprintf(path, sizeof path, "%s/new", dir);
	if ((in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
	    inotify_add_watch(in, path, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		log_err("cannot watch %s: %s", path, strerror(errno));
		if (in >= 0)
			close(in);
		return -1;
	}
	return in;
}

/* The main loop (http_serve's wait): returns 0 when a stop signal came
 * (SIGHUP reads the key file again: tool_signal), pings the watchdog
 * (notify.h), and imports what
 * arrives in the import directory when watched; EX_OSERR after logging
 * why when it cannot watch or poll. */
static int
run(void *arg, int sigfd, struct http_server *hs)
{
	struct recv *r = arg;
	struct pollfd pfd[2];
	char evbuf[4096];
	int in = -1, nfd = 1, rc = 0;

	r->hs = hs;
	pfd[0] = (struct pollfd){sigfd, POLLIN, 0};
	if (r->cf->import != NULL) {
		if ((in = watch_import(r->cf->import)) < 0)
			return EX_OSERR;
		pfd[nfd++] = (struct pollfd){in, POLLIN, 0};
		import_pass(r, sigfd);
	}
	for (;;) {
		heartbeat_beat(0, NULL);
		notify_watchdog();
		if (poll(pfd, (nfds_t)nfd,
		        (int)notify_wait_ms(HEARTBEAT_INTERVAL_MS)) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			rc = EX_OSERR;
			break;
		}
		if ((pfd[0].revents & POLLIN) && stop_requested(r, sigfd))
			break;
		if (nfd > 1 && (pfd[1].revents & POLLIN)) {
			while (read(in, evbuf, sizeof evbuf) > 0)
				;
			import_pass(r, sigfd);
		}
	}
	if (in >= 0)
		close(in);
	return rc;
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
	    {"import", required_argument, NULL, 'i'},
	    {"insecure", no_argument, NULL, 'k'},
	    {"key-file", required_argument, NULL, 'K'},
	    {"listen", required_argument, NULL, 'l'},
	    {"max-body", required_argument, NULL, 'B'},
	    {"max-connections", required_argument, NULL, 'C'},
	    {"max-peer-connections", required_argument, NULL, 'P'},
	    {"max-memory", required_argument, NULL, 'M'},
	    {"min-free", required_argument, NULL, 'F'},
	    {"source-id", required_argument, NULL, 's'},
	    {"threads", required_argument, NULL, 'T'},
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
		case 'i':
			cf->import = optarg;
			break;
		case 'K':
			cf->key_file = optarg;
			break;
		case 'B':
			cf->max_body = opt_size(
			    optarg, "--max-body", 1024, WAGON_RAW_MAX * 2);
			break;
		case 'M':
			cf->max_memory =
			    opt_size(optarg, "--max-memory", 0, ULLONG_MAX);
			break;
		case 'F':
			cf->min_free =
			    opt_size(optarg, "--min-free", 0, ULLONG_MAX);
			break;
		case 's':
			cf->source_id = optarg;
			break;
		case 'T':
			cf->threads = opt_count(optarg, "--threads", 1, 64);
			break;
		case 'v':
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, "srdf-recv", usage);
		}
	}
	opt_no_operands(argc, usage);
}

/* The usage errors options cannot show one by one: 0, or -1 with the
 * message in why. */
static int
check_options(const struct config *cf, char *why, size_t len)
{
	const char *e = NULL;

	if (cf->key_file == NULL)
		e = "--key-file is required";
	else if (cf->srv.listen == NULL && cf->import == NULL)
		e = "give --listen, --import, or both";
	else if ((e = httpd_check(&cf->srv)) != NULL)
		;
	else if (cf->max_memory < cf->max_body)
		e = "--max-memory must be at least --max-body, or no wagon of "
		    "the largest size could ever be taken in";
	else if (cf->source_id != NULL && bad_source_id(cf->source_id)) {
		snprintf(why, len,
		    "--source-id %s is not 32 lowercase hex "
		    "digits",
		    cf->source_id);
		return -1;
	}
	if (e == NULL)
		return 0;
	snprintf(why, len, "%s", e);
	return -1;
}

/* Creates --import's new/, cur/ and bad/ when missing.  Returns 0, or
 * EX_CANTCREAT after logging why. */
static int
import_dirs(const char *dir)
{
	static const char *const sub[] = {"new", "cur", "bad"};
	char p[PATH_MAX + 8];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, sub[i]);
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			log_err("cannot create %s: %s", p, strerror(errno));
			return EX_CANTCREAT;
		}
	}
	return 0;
}

/* Key, lock, inbox, ledger, pinned source, audit, heartbeat, recovery:
 * the state main() needs before serving (man/srdf-recv.1 FILES).
 * Returns 0, or an exit status after logging why (the prelude of tool.h
 * dies as it says). */
static int
open_state(struct recv *r, const struct config *cf)
{
	int ex;

	r->cf = cf;
	if ((ex = tool_keyring(cf->key_file, &r->kr)) != 0)
		return ex;
	tool_path(r->inbox, sizeof r->inbox, cf->dir, "inbox");
	tool_lock(cf->dir, "srdf-recv", 1);
	if (spool_init(r->inbox) != 0) {
		log_err("cannot set up the inbox %s", r->inbox);
		return EX_CANTCREAT;
	}
	if ((ex = tool_ledger(cf->dir, 0, &r->l, EX_CANTCREAT)) != 0)
		return ex;
	pthread_mutex_init(&r->mu, NULL);
	if ((ex = pin_source(r)) != 0)
		return ex;
	audit_open(cf->dir);
	audit_source(r->source_hex[0] ? r->source_hex : NULL);
	heartbeat_start(cf->dir, "srdf-recv",
	    cf->srv.listen ? HEARTBEAT_INTERVAL : 0, cf->srv.listen != NULL);
	if ((ex = recover(r)) != 0)
		return ex;
	return cf->import != NULL ? import_dirs(cf->import) : 0;
}

/* Serves until a signal; the exit status, or -1 with err set. */
static int
serve(struct recv *r, char *err, size_t errlen)
{
	static const struct http_route routes[] = {
	    {"POST", "/v1/wagons", post_wagon},
	    {"GET", "/v1/health", health},
	    {"GET", "/v1/acks/pending", get_acks},
	    {"POST", "/v1/acks/taken", post_taken},
	};
	struct http_server_opts ho = {.max_body = r->cf->max_body,
	    .max_memory = r->cf->max_memory,
	    .threads = r->cf->threads,
	    .ring = r->kr,
	    .to = HAUTH_TO_RECV,
	    .routes = routes,
	    .nroutes = sizeof routes / sizeof routes[0],
	    .arg = r};
	char what[PATH_MAX + 128];

	snprintf(what, sizeof what, "inbox %s, source %s, max body %llu",
	    r->inbox, r->source_hex[0] ? r->source_hex : "not pinned yet",
	    r->cf->max_body);
	return http_serve(
	    &r->cf->srv, &ho, r->sigfd, run, r, what, err, errlen);
}

int
main(int argc, char **argv)
{
	struct config cf = {.max_body = 64ULL << 20,
	    .max_memory = 256ULL << 20,
	    .min_free = 256ULL << 20,
	    .threads = 4,
	    /* ship --pipeline 64, health, spare */
	    .srv = {.max_conn = 256,
	        .max_peer_conn = 72,
	        .idle_timeout = 30,
	        .grace_ms = 10000}};
	struct recv r = {0};
	char err[512];
	int ex;

	log_init(argv[0]);
	xalloc_big_buffers();
	cf.dir = tool_dir_default();
	parse_options(argc, argv, &cf);
	if (check_options(&cf, err, sizeof err) != 0)
		die(EX_USAGE, "%s", err);

	if ((ex = open_state(&r, &cf)) != 0)
		heartbeat_stop(ex);
	else if (cf.srv.listen == NULL) {
		ex = import_pass(&r, tool_signals(0));
		notify_stopping();
		heartbeat_stop(ex);
	} else {
		r.sigfd = tool_signals(0);
		if ((ex = serve(&r, err, sizeof err)) < 0)
			die(EX_CONFIG, "%s", err);
		heartbeat_stop(ex);
		log_notice("stopped");
	}
	ledger_close(r.l);
	keyring_close(r.kr);
	return ex;
}
