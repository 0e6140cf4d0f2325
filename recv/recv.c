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
 * the disk.  Every answer is one of four words (DESIGN.md §4) with a
 * reason: accepted, duplicate, invalid_payload, rejected; and "busy" for
 * "not now, retry" (503).
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
#include "hauth.h"
#include "heartbeat.h"
#include "http.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "opt.h"
#include "spool.h"
#include "wagon.h"
#include "xalloc.h"

struct config {
	const char *dir;
	const char *key_file;
	const char *listen;
	const char *cert;
	const char *tls_key;
	int insecure;
	const char *import;
	const char *source_id; /* 32 hex digits, or NULL */
	unsigned long long max_body;
	unsigned long long max_memory;
	unsigned long long min_free;
	unsigned max_conn;
	unsigned max_peer_conn;
	unsigned idle_timeout; /* seconds */
	unsigned threads;
	long long grace_ms;
};

enum verdict { V_ACCEPTED, V_DUPLICATE, V_INVALID, V_REJECTED, V_BUSY };

static const char *const vword[] = {
    "accepted", "duplicate", "invalid_payload", "rejected", "busy",
};
static const int vstatus[] = {201, 200, 400, 409, 503};

struct recv {
	const struct config *cf;
	struct srdf_key *key;
	char inbox[PATH_MAX];
	struct ledger *l;
	pthread_mutex_t mu;  /* storing; and source_hex */
	char source_hex[33]; /* pinned source, "" while none */
	_Atomic unsigned long long decoding; /* bytes wagon_open holds */
	struct http_server *http;
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

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
		snprintf(why, wl, "unknown source %s (this receiver takes "
		    "wagons from %s)", src, r->source_hex);
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
		snprintf(why, wl, "this target was promoted at %s "
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
			snprintf(why, wl, "wagon %" PRIu64 " was received "
			    "before (state %s)", h->seq,
			    json_string_value(json_object_get(w, "state")));
			v = V_DUPLICATE;
		} else {
			snprintf(why, wl, "wagon %" PRIu64 " was received "
			    "before with different content (SHA-256 %.16s..., "
			    "this one %.16s...)", h->seq, have ? have : "?",
			    sum);
			v = V_REJECTED;
		}
		json_decref(w);
		return v;
	}
	if (h->seq <= last) {
		snprintf(why, wl, "wagon %" PRIu64 " is at or below the last "
		    "applied sequence %" PRIu64, h->seq, last);
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
    const char *src, const char *sum)
{
	struct ledger_txn *t;
	char kid[17];
	json_t *w, *old = NULL;
	int rc;

	key_id_hex(h->key_id, kid);
	w = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:I, "
	    "s:I, s:s, s:I, s:f}",
	    "state", "received", "source_id", src, "sha256", sum,
	    "wagon_bytes", (json_int_t)len, "raw_bytes",
	    (json_int_t)h->raw_len, "events_in", (json_int_t)h->events_in,
	    "events_out", (json_int_t)h->events_out, "first_gtid",
	    h->first_gtid, "last_gtid", h->last_gtid, "chunk",
	    (json_int_t)h->chunk, "chunks", (json_int_t)h->chunks, "key_id",
	    kid, "flags", (json_int_t)h->flags, "received_at", now_s());
	if (w == NULL)
		return ENOMEM;
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
		    "rejected from now on", src);
	}
	if (rc == 0) {
		audit_source(src);
		audit_wagon(0, h->seq, NULL, "received", "%zu bytes, GTID "
		    "%s..%s", len, h->first_gtid, h->last_gtid);
		heartbeat_beat(h->seq, h->last_gtid);
	}
out:
	json_decref(w);
	return rc;
}

/* ---- receiving one wagon -------------------------------------------------- */

/*
 * The checks, in order (each answer in srdf-recv(1)):
 *	checksum and header (wagon_peek)          -> invalid_payload
 *	key id, pinned source                      -> rejected
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
	char err[256], src[33], sum[65], name[WAGON_NAME_LEN], kh[17], kw[17];
	char *records = NULL;
	unsigned long long need, cur;
	size_t rlen;
	int rc, v, ok;

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
	if (memcmp(h.key_id, r->key->id, sizeof r->key->id) != 0) {
		key_id_hex(h.key_id, kh);
		key_id_hex(r->key->id, kw);
		snprintf(why, wl, "sealed under unknown key id %s (this "
		    "receiver holds %s)", kh, kw);
		return V_REJECTED;
	}
	pthread_mutex_lock(&r->mu);
	v = known(r, &h, src, sum, why, wl);
	pthread_mutex_unlock(&r->mu);
	if (v >= 0)
		return (enum verdict)v;

	/* Open it with the key, outside the lock; keep nothing of it.  What
	 * opening takes (ciphertext copy and plaintext) is counted against
	 * --max-memory, like the bodies: a wagon that compresses well may
	 * be much larger open than sent. */
	need = h.comp_len + h.raw_len + 1;
	if (need > r->cf->max_memory) {
		snprintf(why, wl, "opening it takes %llu bytes, over "
		    "--max-memory %llu", need, r->cf->max_memory);
		return V_REJECTED;
	}
	cur = atomic_load(&r->decoding);
	do {
		if (cur + need > r->cf->max_memory) {
			snprintf(why, wl, "too many bytes being opened "
			    "(--max-memory); try again later");
			return V_BUSY;
		}
	} while (!atomic_compare_exchange_weak(&r->decoding, &cur,
	    cur + need));
	rc = wagon_open_peeked(body, len, r->key, &h, &records, &rlen, err,
	    sizeof err);
	wagon_records_free(records, rlen);
	atomic_fetch_sub(&r->decoding, need);
	if (rc != 0) {
		snprintf(why, wl, "%s", err);
		return rc == WAGON_ENOMEM ? V_BUSY
		    : rc == WAGON_EKEY    ? V_REJECTED
		                          : V_INVALID;
	}

	pthread_mutex_lock(&r->mu);
	/* Again: another thread may have stored it meanwhile. */
	if ((v = known(r, &h, src, sum, why, wl)) >= 0)
		goto out;
	v = V_BUSY;
	ok = spool_free_ok(r->inbox, r->cf->min_free + len);
	if (ok <= 0) {
		snprintf(why, wl, ok < 0 ? "cannot check the free space of %s"
		    : "the disk of %s is nearly full (--min-free)", r->inbox);
		goto out;
	}
	wagon_name(h.seq, name);
	if (spool_put(r->inbox, name, body, len) != 0) {
		snprintf(why, wl, "cannot store it: %s", strerror(errno));
		goto out;
	}
	if ((rc = record(r, &h, len, src, sum)) != 0) {
		/* Stored but not recorded: the sender will retry, and the
		 * retry stores it again (spool_put replaces) and records it. */
		log_err("cannot record wagon %" PRIu64 " in the ledger in %s: "
		    "%s", h.seq, r->cf->dir, ledger_strerror(rc));
		snprintf(why, wl, "cannot record it in the ledger");
		goto out;
	}
	snprintf(why, wl, "stored as inbox/new/%s", name);
	v = V_ACCEPTED;
out:
	pthread_mutex_unlock(&r->mu);
	return (enum verdict)v;
}

static void
log_verdict(enum verdict v, uint64_t seq, const char *from, size_t len,
    const char *why)
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

	v = receive(r, req->body, req->len, req->head_sum, &seq, why,
	    sizeof why);
	log_verdict(v, seq, req->peer, req->len, why);
	*answer = http_answer(vword[v], "%s", why);
	if (seq != 0)
		json_object_set_new(*answer, "seq", json_integer((json_int_t)seq));
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

/* Reads DIR/new/NAME whole; NULL with why. */
static uint8_t *
read_item(const char *dir, const char *name, unsigned long long max,
    size_t *len, char *why, size_t wl)
{
	char path[PATH_MAX];
	struct stat st;
	uint8_t *p;
	ssize_t n;
	size_t got = 0;
	int fd;

	snprintf(path, sizeof path, "%s/new/%s", dir, name);
	/* O_NONBLOCK: a FIFO put there must not hang the import (it is
	 * refused below, as not a regular file). */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) < 0) {
		int e = errno;
		snprintf(why, wl, "cannot open %.300s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, wl, "%.300s is not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((unsigned long long)st.st_size > max) {
		snprintf(why, wl, "%lld bytes is over the limit of %llu "
		    "(--max-body)", (long long)st.st_size, max);
		close(fd);
		return NULL;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(why, wl, "out of memory");
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, p + got, (size_t)st.st_size - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, wl, "cannot read %.300s: %s", path,
			    strerror(errno));
			free(p);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return p;
}

static int
stop_requested(int sigfd)
{
	struct pollfd pfd = {sigfd, POLLIN, 0};

	return poll(&pfd, 1, 0) > 0;
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
		if (stop_requested(sigfd)) {
			ex = EX_TEMPFAIL;
			break;
		}
		snprintf(from, sizeof from, "%s/new/%s", dir, names[i]);
		len = 0;
		errno = 0;
		body = read_item(dir, names[i], r->cf->max_body, &len, why,
		    sizeof why);
		if (body == NULL && errno == ENOENT)
			continue; /* taken away meanwhile */
		if (body == NULL) {
			v = V_REJECTED;
			seq = 0;
		} else {
			v = receive(r, body, len, NULL, &seq, why,
			    sizeof why);
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

static void
pin_source(struct recv *r)
{
	struct ledger_txn *t;
	char *have = NULL;
	const char *want = r->cf->source_id;
	size_t i;
	int rc;

	if (want != NULL) {
		for (i = 0; i < 32; i++)
			if (!((want[i] >= '0' && want[i] <= '9') ||
			        (want[i] >= 'a' && want[i] <= 'f')))
				break;
		if (i != 32 || want[32] != '\0')
			die(EX_USAGE, "--source-id %s is not 32 lowercase hex "
			    "digits", want);
	}
	if ((rc = ledger_txn_begin(r->l, 0, &t)) != 0 ||
	    (rc = ledger_meta_get(t, "source_id", &have)) != 0)
		die(EX_CANTCREAT, "cannot read the ledger in %s: %s",
		    r->cf->dir, ledger_strerror(rc));
	if (have != NULL && want != NULL && strcmp(have, want) != 0)
		die(EX_CONFIG, "--source-id %s, but %s has received wagons "
		    "from source %s", want, r->cf->dir, have);
	if (have == NULL && want != NULL &&
	    ((rc = ledger_meta_put(t, "source_id", want)) != 0 ||
	        (rc = ledger_txn_commit(t)) != 0))
		die(EX_CANTCREAT, "cannot write the ledger in %s: %s",
		    r->cf->dir, ledger_strerror(rc));
	if (have != NULL || want == NULL)
		ledger_txn_abort(t);
	snprintf(r->source_hex, sizeof r->source_hex, "%s",
	    have ? have : want ? want : "");
	free(have);
}

/* Records what inbox/new holds and the ledger does not (a crash between
 * spool_put and the ledger commit); moves damaged files to bad/. */
static void
recover(struct recv *r)
{
	struct wagon_header h;
	struct ledger_txn *t;
	char **names, why[256], src[33], sum[65], name[WAGON_NAME_LEN];
	size_t n, i, len;
	uint8_t *body;
	uint64_t seq;
	json_t *w;
	int rc;

	if (spool_list(r->inbox, "new", &names, &n) != 0)
		die(EX_CANTCREAT, "cannot list %s/new", r->inbox);
	for (i = 0; i < n; i++) {
		if (strlen(names[i]) != 26 ||
		    strcmp(names[i] + 20, ".wagon") != 0)
			continue;
		names[i][20] = '\0';
		rc = parse_u64(names[i], &seq);
		names[i][20] = '.';
		if (rc != 0)
			continue;
		if ((rc = ledger_txn_begin(r->l, LEDGER_RDONLY, &t)) != 0 ||
		    (rc = ledger_wagon_get(t, seq, &w)) != 0)
			die(EX_CANTCREAT, "cannot read the ledger in %s: %s",
			    r->cf->dir, ledger_strerror(rc));
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
			snprintf(why, sizeof why, "holds wagon %" PRIu64,
			    h.seq);
			rc = -1;
		}
		if (rc != 0) {
			spool_bad(r->inbox, "new", names[i], why);
		} else {
			hex(h.source_id, 16, src);
			hex(body + len - WAGON_SUM_LEN, WAGON_SUM_LEN, sum);
			if ((rc = record(r, &h, len, src, sum)) != 0)
				die(EX_CANTCREAT, "cannot write the ledger in "
				    "%s: %s", r->cf->dir, ledger_strerror(rc));
			log_notice("recorded wagon %" PRIu64 ", stored before "
			    "a crash", h.seq);
		}
		free(body);
	}
	spool_list_free(names, n);
}

static unsigned long long
size_arg(const char *s, const char *opt)
{
	unsigned long long v;

	if (parse_size(s, &v) != 0)
		die(EX_USAGE, "bad %s %s: %s", opt, s, strerror(errno));
	return v;
}

static long long
duration_arg(const char *s, const char *opt, long long min_ms)
{
	long long v;

	if (parse_duration_ms(s, &v) != 0)
		die(EX_USAGE, "bad %s %s: %s", opt, s, strerror(errno));
	if (v < min_ms)
		die(EX_USAGE, "%s %s is below %lld ms", opt, s, min_ms);
	return v;
}

/* The main loop: signals, and the import directory when watched. */
static int
run(struct recv *r, int sigfd)
{
	struct pollfd pfd[2];
	char evbuf[4096], path[PATH_MAX + 8];
	struct signalfd_siginfo si;
	int in = -1, nfd = 1;

	pfd[0] = (struct pollfd){sigfd, POLLIN, 0};
	if (r->cf->import != NULL) {
		snprintf(path, sizeof path, "%s/new", r->cf->import);
		if ((in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
		    inotify_add_watch(in, path, IN_MOVED_TO | IN_CLOSE_WRITE) <
		        0)
			die(EX_OSERR, "cannot watch %s: %s", path,
			    strerror(errno));
		pfd[nfd++] = (struct pollfd){in, POLLIN, 0};
		import_pass(r, sigfd);
	}
	for (;;) {
		heartbeat_beat(0, NULL);
		if (poll(pfd, (nfds_t)nfd, HEARTBEAT_INTERVAL_MS) < 0) {
			if (errno == EINTR)
				continue;
			die(EX_OSERR, "poll: %s", strerror(errno));
		}
		if (pfd[0].revents & POLLIN)
			break;
		if (nfd > 1 && (pfd[1].revents & POLLIN)) {
			while (read(in, evbuf, sizeof evbuf) > 0)
				;
			import_pass(r, sigfd);
		}
	}
	if (read(sigfd, &si, sizeof si) != sizeof si)
		si.ssi_signo = SIGTERM;
	log_notice("%s: draining (%u requests in flight)",
	    strsignal((int)si.ssi_signo), http_in_flight(r->http));
	/* Requests already being handled finish (a wagon being stored is
	 * stored and answered); a second signal or --grace cuts it short. */
	http_drain_wait(r->http, r->cf->grace_ms, sigfd);
	if (in >= 0)
		close(in);
	return 0;
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
	static const struct http_route routes[] = {
	    {"POST", "/v1/wagons", post_wagon},
	    {"GET", "/v1/health", health},
	    {"GET", "/v1/acks/pending", get_acks},
	    {"POST", "/v1/acks/taken", post_taken},
	};
	struct config cf = {0};
	struct recv r = {0};
	struct http_server_opts ho = {0};
	struct hauth_cache *cache;
	sigset_t mask;
	char err[512], url[300];
	int ch, sigfd, ex;

	log_init(argv[0]);
	xalloc_big_buffers();
	cf.dir = getenv("SRDF_DIR") ? getenv("SRDF_DIR") : "/var/lib/srdf";
	cf.max_body = 64ULL << 20;
	cf.max_memory = 256ULL << 20;
	cf.min_free = 256ULL << 20;
	cf.max_conn = 256;
	cf.max_peer_conn = 72; /* ship --pipeline 64, health, spare */
	cf.idle_timeout = 30;
	cf.threads = 4;
	cf.grace_ms = 10000;
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cf.cert = optarg; break;
		case 'd': cf.dir = optarg; break;
		case 'g': cf.grace_ms = duration_arg(optarg, "--grace", 0); break;
		case 'I':
			cf.idle_timeout = (unsigned)(duration_arg(optarg,
			    "--idle-timeout", 1000) / 1000);
			break;
		case 'i': cf.import = optarg; break;
		case 'k': cf.insecure = 1; break;
		case 'K': cf.key_file = optarg; break;
		case 'l': cf.listen = optarg; break;
		case 'B': cf.max_body = size_arg(optarg, "--max-body"); break;
		case 'P':
			cf.max_peer_conn = opt_count(optarg,
			    "--max-peer-connections", 1, 10000);
			break;
		case 'C':
			cf.max_conn = opt_count(optarg, "--max-connections", 1,
			    10000);
			break;
		case 'M': cf.max_memory = size_arg(optarg, "--max-memory"); break;
		case 'F': cf.min_free = size_arg(optarg, "--min-free"); break;
		case 's': cf.source_id = optarg; break;
		case 'T': cf.threads = opt_count(optarg, "--threads", 1, 64); break;
		case 't': cf.tls_key = optarg; break;
		case 'v': log_set_verbose(1); break;
		default:
			opt_std(ch, "srdf-recv", usage);
		}
	}
	opt_no_operands(argc, usage);
	if (cf.key_file == NULL)
		die(EX_USAGE, "--key-file is required");
	if (cf.listen == NULL && cf.import == NULL)
		die(EX_USAGE, "give --listen, --import, or both");
	if (cf.listen != NULL && cf.insecure == (cf.cert != NULL))
		die(EX_USAGE, "give --cert and --tls-key for HTTPS, or "
		    "--insecure for plain HTTP (one of the two)");
	if ((cf.cert == NULL) != (cf.tls_key == NULL))
		die(EX_USAGE, "--cert and --tls-key go together");
	if (cf.max_body < 1024 || cf.max_body > WAGON_RAW_MAX * 2)
		die(EX_USAGE, "--max-body must be from 1K to 2G");
	if (cf.max_memory < cf.max_body)
		die(EX_USAGE, "--max-memory must be at least --max-body, or no "
		    "wagon of the largest size could ever be taken in");

	r.cf = &cf;
	if ((r.key = key_load(cf.key_file, err, sizeof err)) == NULL)
		die(EX_CONFIG, "%s", err);
	if (snprintf(r.inbox, sizeof r.inbox, "%s/inbox", cf.dir) >=
	    (int)sizeof r.inbox)
		die(EX_USAGE, "--dir %s is too long", cf.dir);
	if (mkdir(cf.dir, 0700) != 0 && errno != EEXIST)
		die(EX_CANTCREAT, "cannot create %s: %s", cf.dir,
		    strerror(errno));
	lock_dir_or_die(cf.dir, "srdf-recv");
	if (spool_init(r.inbox) != 0)
		die(EX_CANTCREAT, "cannot set up the inbox %s", r.inbox);
	if ((ex = ledger_open(cf.dir, 0, &r.l)) != 0)
		die(EX_CANTCREAT, "cannot open the ledger in %s: %s", cf.dir,
		    ledger_strerror(ex));
	pthread_mutex_init(&r.mu, NULL);
	pin_source(&r);
	audit_open(cf.dir);
	audit_source(r.source_hex[0] ? r.source_hex : NULL);
	heartbeat_start(cf.dir, "srdf-recv", cf.listen ? HEARTBEAT_INTERVAL :
	    0, cf.listen != NULL);
	recover(&r);
	if (cf.import != NULL) {
		char p[PATH_MAX + 8];
		const char *sub[] = {"new", "cur", "bad"};
		for (size_t i = 0; i < 3; i++) {
			snprintf(p, sizeof p, "%s/%s", cf.import, sub[i]);
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				die(EX_CANTCREAT, "cannot create %s: %s", p,
				    strerror(errno));
		}
	}

	/* Signals arrive through a descriptor, and only where the main
	 * loop reads it: the server's threads inherit the blocked mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
		die(EX_OSERR, "signalfd: %s", strerror(errno));

	if (cf.listen == NULL) {
		ex = import_pass(&r, sigfd);
		heartbeat_stop(ex);
		ledger_close(r.l);
		key_free(r.key);
		return ex;
	}
	if ((cache = hauth_cache_new()) == NULL)
		die(EX_OSERR, "out of memory");
	ho.listen = cf.listen;
	ho.cert = cf.cert;
	ho.tls_key = cf.tls_key;
	ho.max_body = cf.max_body;
	ho.max_memory = cf.max_memory;
	ho.max_conn = cf.max_conn;
	ho.max_peer_conn = cf.max_peer_conn;
	ho.idle_timeout = cf.idle_timeout;
	ho.threads = cf.threads;
	ho.key = r.key;
	ho.to = HAUTH_TO_RECV;
	ho.cache = cache;
	ho.routes = routes;
	ho.nroutes = sizeof routes / sizeof routes[0];
	ho.arg = &r;
	if ((r.http = http_start(&ho, err, sizeof err)) == NULL)
		die(EX_CONFIG, "%s", err);
	http_url(r.http, url, sizeof url);
	log_notice("listening on %s: inbox %s, source %s, max body %llu",
	    url, r.inbox, r.source_hex[0] ? r.source_hex : "not pinned yet",
	    cf.max_body);
	ex = run(&r, sigfd);
	http_stop(r.http);
	heartbeat_stop(ex);
	log_notice("stopped");
	hauth_cache_free(cache);
	ledger_close(r.l);
	key_free(r.key);
	return ex;
}
