/*
 * srdf-seal — seal srdf-dedup's consistency groups into wagons in the
 * outbox and record each in the source ledger.
 *
 * Design rationale.  seal is the commit point of the source side
 * (srdf-seal(1) Commit point).  For each group (each chunk of a
 * chunked group) it makes one wagon (lib/wagon.c: zstd, XChaCha20-Poly1305 with the header
 * as associated data, SHA-256), puts it into DIR/outbox/new with
 * spool_put (tmp/, fsync, rename, fsync of new/), and only then records
 * it in ONE ledger write transaction, together with last_sealed_gtid when
 * the chunk is the group's last.  That transaction is the commit point:
 *
 *	outbox           ledger                       state
 *	tmp/NAME         -                            sealing (crash: litter,
 *	                                              spool_init removes it)
 *	new/NAME         no record for seq            stored, uncommitted
 *	                                              (crash: an orphan; the
 *	                                              next start removes it and
 *	                                              seals the group again
 *	                                              under the same seq)
 *	new/NAME         wagons[seq] "sealed",        sealed
 *	                 last_sealed_gtid moved
 *
 * srdf-capture resumes from last_sealed_gtid, so after any crash the
 * groups after it come again and get the same sequence numbers: nothing
 * is lost, nothing is sealed twice, and the sequence has no gap.  The
 * wagon payload is the group's input lines byte for byte, group_begin and
 * group_end included: srdf-cat gives back exactly what seal read.
 *
 * Two threads, for speed only (srdf-seal must keep up with srdf-capture):
 * the reader (main) reads, checks and frames group N+1 while the sealing
 * thread compresses, encrypts, stores and records group N.  The sealing
 * thread takes one group at a time, in input order, and does every step
 * of the table for it before it takes the next, so the table holds as if
 * there were one thread; an error found by the reader waits until the
 * groups before it are committed (or have failed first).
 *
 * What it refuses to do: guess.  Input fails closed: a
 * truncated or malformed line, a record outside a group, a group_end that
 * does not close the open group, or the end of input inside a group stop
 * it with exit 65 and the line, before anything of that group is sealed.
 * It refuses intake (exit 75) when the outbox file system is nearly full,
 * rather than fill it and fail half-way.  It never writes a wagon it has
 * not recorded, nor records one that is not durable in new/.
 */
#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <zstd.h>

#include "audit.h"
#include "buf.h"
#include "heartbeat.h"
#include "keyring.h"
#include "ledger.h"
#include "log.h"
#include "notify.h"
#include "opt.h"
#include "gtid.h"
#include "record.h"
#include "scan.h"
#include "spool.h"
#include "tool.h"
#include "wagon.h"
#include "xalloc.h"

/* Level 1: on sysbench rows it compresses as well as 3 at half the CPU
 * (bench/seal.sh), and seal must keep up with capture. */
#define DEFAULT_LEVEL 1
/* Invariant: intake stops while the outbox has less than
 * max(--min-free, 2 x the wagon in hand) free, so a wagon never fills
 * the disk that the ledger (same DIR) needs for its commit. */
#define DEFAULT_MIN_FREE (64ULL << 20)
#define MAX_REASON 32

struct config {
	const char *dir;
	char outbox[PATH_MAX];
	const char *key_file;
	int level;
	unsigned long long min_free;
};

/* The group (one chunk) being read. */
struct group {
	uint64_t group;
	uint32_t chunk;
	int ddl;            /* holds a "ddl" record: a DDL barrier */
	unsigned long line; /* of its group_begin */
	char first_gtid[WAGON_GTID_LEN];
	struct buf lines; /* the input lines, verbatim */
};

/* A group read in full and checked, handed to the sealing thread. */
struct job {
	struct group *g;
	struct wagon_header h;
	json_t *w;         /* its ledger record, without seq and sizes yet */
	struct buf *wagon; /* its records compressed (wagon_compress) */
};

struct seal {
	const struct config *cf;
	struct keyring *kr; /* the key file, read again on SIGHUP */
	/* Read and written by the sealing thread only, once it runs; the
	 * reader looks at last_seq and nsealed after drain(). */
	struct ledger *l;
	uint8_t source_id[16];
	char source_hex[33];
	int source_new; /* source_id not yet in the ledger */
	uint64_t last_seq;
	uint64_t nsealed;
	/* Two group buffers, each with its wagon: the reader fills and
	 * compresses g[cur] into wagon[cur] while the sealing thread
	 * encrypts, stores and records the other. */
	struct group g[2];
	struct buf wagon[2];
	int cur;
	/* The hand-off, under mu: pending while job is set and not yet
	 * sealed; quit when the input is done. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job job;
	int pending, quit;
	pthread_t sealer;
};

/* SIGTERM: a stop between groups is a stop at a safe point, since the
 * ledger commit is the only commit and a half-read group is read again
 * after restart; inside a group, the group is finished first.  stdin is
 * read through stdio with SA_RESTART (an interrupted read would hand
 * getline(3) half a line), so the process ends where it sees busy fall
 * to 0 after stopping is set: in the handler itself when no group is
 * open, or in the sealing thread after it commits the last one.  busy
 * counts the groups begun and not yet committed (the one being read and
 * the one being sealed); both sides store first and load second, with
 * sequentially consistent atomics, so one of them sees the other.  Only
 * the reader (main) thread takes the signals. */
static atomic_int stopping, busy;
/* SIGHUP: the key file is read again by the reader between two lines,
 * or at once when it waits for input (wait_input). */
static atomic_int hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP) {
		atomic_store(&hup, 1);
		return;
	}
	atomic_store(&stopping, 1);
	if (atomic_load(&busy) == 0)
		_exit(0);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-seal [-v] [--dir dir] --key-file file [--level n] "
	    "[--min-free size]\n"
	    "       srdf-seal --help | --version\n");
}

/* ---- input ---------------------------------------------------------- */

/* A JSON non-negative integer, or the decimal digits as a string
 * (srdf-record(5) writes |v| >= 2^53 so), up to INT64_MAX: 0, else -1. */
static int
get_u64(json_t *rec, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(rec, key);

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && parse_u64(json_string_value(v), out) == 0 &&
	    *out <= INT64_MAX)
		return 0;
	return -1;
}

/* A GTID string field (one domain-server-seq, lib/gtid.h) that fits
 * max - 1 bytes: the string, else NULL.  Digits, '-' and ',' only (no
 * space, which gtid_parse would let by), then strictly parsed: "0-1" or
 * a number out of range is refused. */
static const char *
get_gtid(json_t *rec, const char *key, size_t max)
{
	const char *s = json_string_value(json_object_get(rec, key));
	struct gtid g;
	size_t n;

	if (s == NULL || *s == '\0')
		return NULL;
	n = strspn(s, "0123456789-,");
	if (s[n] != '\0' || n >= max || gtid_parse(s, &g) != 0)
		return NULL;
	return s;
}

/* A GTID position string field (one GTID per domain, comma-separated,
 * lib/gtid.h), not empty: the string, else NULL.  Same characters as
 * get_gtid, then gtid_pos_valid. */
static const char *
get_pos(json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	if (s == NULL || *s == '\0')
		return NULL;
	if (s[strspn(s, "0123456789-,")] != '\0' || !gtid_pos_valid(s))
		return NULL;
	return s;
}

static void drain(struct seal *s);

/* Refuses the input at r's line: returns EX_DATAERR after logging why.
 * The groups before it are sealed first, as if they had been sealed one
 * by one: a failure there is the first error, and it wins (the sealing
 * thread ends the process). */
static int __attribute__((format(printf, 4, 5))) bad_input(struct seal *s,
    const struct record_reader *r, const struct group *g, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	drain(s);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (g != NULL)
		log_err("%s:%lu: %s; nothing sealed from group %" PRIu64
		        " chunk %" PRIu32 " (begun on line %lu)",
		    r->name, r->line, msg, g->group, g->chunk, g->line);
	else
		log_err("%s:%lu: %s", r->name, r->line, msg);
	return EX_DATAERR;
}

static int
begin_group(struct seal *s, const struct record_reader *r, json_t *rec)
{
	struct group *g = &s->g[s->cur];
	uint64_t chunk;
	const char *first;

	if (get_u64(rec, "group", &g->group) != 0)
		return bad_input(
		    s, r, NULL, "group_begin without a valid \"group\"");
	if (get_u64(rec, "chunk", &chunk) != 0 || chunk == 0 ||
	    chunk > UINT32_MAX)
		return bad_input(s, r, NULL,
		    "group_begin without a valid \"chunk\" "
		    "(1 or more)");
	g->chunk = (uint32_t)chunk;
	g->line = r->line;
	g->ddl = 0;
	g->first_gtid[0] = '\0';
	if (json_object_get(rec, "first_gtid") != NULL) {
		if ((first = get_gtid(rec, "first_gtid", WAGON_GTID_LEN)) ==
		    NULL)
			return bad_input(s, r, NULL,
			    "group_begin with a bad "
			    "\"first_gtid\"");
		snprintf(g->first_gtid, sizeof g->first_gtid, "%s", first);
	}
	g->lines.len = 0;
	return 0;
}

/* A group_end record's fields, checked by end_group; the strings are
 * the record's. */
struct group_end {
	const char *first, *last, *reason;
	const char *pos; /* the GTID position to resume from, or NULL */
	uint64_t trx, ein, eout;
	int last_chunk;
};

/* Checks the group_end rec against the open group into *e.  Returns 0,
 * or EX_DATAERR after logging why (bad_input). */
static int
end_group(struct seal *s, const struct record_reader *r, json_t *rec,
    struct group_end *e)
{
	const struct group *g = &s->g[s->cur];
	uint64_t group, chunk, trx, ein, eout;
	const char *first, *last, *pos, *reason;
	json_t *lastv = json_object_get(rec, "last");
	int last_chunk;

	if (get_u64(rec, "group", &group) != 0 || group != g->group ||
	    get_u64(rec, "chunk", &chunk) != 0 || chunk != g->chunk)
		return bad_input(
		    s, r, g, "group_end does not close the open group");
	if (!json_is_boolean(lastv))
		return bad_input(
		    s, r, g, "group_end without a boolean \"last\"");
	/* A chunk before the last lies inside one transaction: srdf-dedup
	 * gives it no last_gtid and no gtid_pos (it is no point to resume
	 * from); its wagon header names first_gtid twice. */
	last_chunk = json_is_true(lastv);
	if ((first = get_gtid(rec, "first_gtid", WAGON_GTID_LEN)) != NULL &&
	    !last_chunk && json_object_get(rec, "last_gtid") == NULL)
		last = first;
	else
		last = get_gtid(rec, "last_gtid", WAGON_GTID_LEN);
	if (first == NULL || last == NULL)
		return bad_input(s, r, g,
		    "group_end without a valid \"first_gtid\" and "
		    "\"last_gtid\" (domain-server-seq, at most %d characters)",
		    WAGON_GTID_LEN - 1);
	if (g->first_gtid[0] != '\0' && strcmp(first, g->first_gtid) != 0)
		return bad_input(s, r, g,
		    "group_end first_gtid %s differs from "
		    "group_begin's %s",
		    first, g->first_gtid);
	if (!last_chunk && json_object_get(rec, "gtid_pos") == NULL)
		pos = NULL;
	else if ((pos = get_pos(rec, "gtid_pos")) == NULL)
		return bad_input(s, r, g,
		    "group_end without a valid "
		    "\"gtid_pos\" (a GTID position: domain-server-seq, one "
		    "per domain)");
	if (get_u64(rec, "trx", &trx) != 0 ||
	    get_u64(rec, "events_in", &ein) != 0 ||
	    get_u64(rec, "events_out", &eout) != 0)
		return bad_input(s, r, g,
		    "group_end without valid \"trx\", "
		    "\"events_in\" and \"events_out\"");
	reason = json_string_value(json_object_get(rec, "reason"));
	if (reason == NULL || *reason == '\0' || strlen(reason) > MAX_REASON)
		return bad_input(
		    s, r, g, "group_end without a valid \"reason\"");
	*e = (struct group_end){.first = first,
	    .last = last,
	    .pos = pos,
	    .reason = reason,
	    .trx = trx,
	    .ein = ein,
	    .eout = eout,
	    .last_chunk = last_chunk};
	return 0;
}

/* The header fields and the ledger record's input part of the open
 * group, closed by the group_end rec (e: its fields, checked). */
static void
describe(const struct seal *s, json_t *rec, const struct group_end *e,
    struct wagon_header *h, json_t *w)
{
	const struct group *g = &s->g[s->cur];

	memset(h, 0, sizeof *h);
	memcpy(h->source_id, s->source_id, sizeof h->source_id);
	h->chunk = g->chunk;
	if (e->last_chunk) {
		h->flags |= WAGON_F_LAST_CHUNK;
		h->chunks = g->chunk;
	}
	/* By content, not by reason: dedup's reason says why a group was
	 * closed, and the group before a DDL is closed by it too. */
	if (g->ddl)
		h->flags |= WAGON_F_DDL;
	if (strcmp(e->reason, "bootstrap") == 0)
		h->flags |= WAGON_F_BOOTSTRAP;
	snprintf(h->first_gtid, sizeof h->first_gtid, "%s", e->first);
	snprintf(h->last_gtid, sizeof h->last_gtid, "%s", e->last);
	h->events_in = e->ein;
	h->events_out = e->eout;

	json_object_set_new(w, "state", json_string("sealed"));
	json_object_set_new(w, "group", json_integer((json_int_t)g->group));
	json_object_set_new(w, "chunk", json_integer(g->chunk));
	json_object_set_new(w, "chunks", json_integer(h->chunks));
	json_object_set_new(w, "last", json_boolean(e->last_chunk));
	json_object_set_new(w, "first_gtid", json_string(e->first));
	json_object_set_new(w, "last_gtid", json_string(e->last));
	json_object_set_new(
	    w, "gtid_pos", e->pos ? json_string(e->pos) : json_null());
	json_object_set_new(w, "trx", json_integer((json_int_t)e->trx));
	json_object_set_new(w, "events_in", json_integer((json_int_t)e->ein));
	json_object_set_new(w, "events_out", json_integer((json_int_t)e->eout));
	json_object_set_new(w, "reason", json_string(e->reason));
	/* Copies: w goes to the sealing thread, rec stays here. */
	json_object_set_new(
	    w, "first_ts", json_deep_copy(json_object_get(rec, "first_ts")));
	json_object_set_new(
	    w, "last_ts", json_deep_copy(json_object_get(rec, "last_ts")));
}

/* ---- sealing -------------------------------------------------------- */

static const char *
mib(unsigned long long n, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f MiB", (double)n / (1 << 20));
	return buf;
}

/* Whether the outbox has need bytes free (spool_free_ok, --min-free):
 * 0, or EX_IOERR when that cannot be checked, or EX_TEMPFAIL when it
 * has not, after logging why and what was not sealed: group g, or
 * nothing when g is NULL. */
static int
check_free(const char *outbox, unsigned long long need, const struct group *g)
{
	char free_s[32], lost[64];
	int ok;

	if ((ok = spool_free_ok(outbox, need)) < 0)
		return log_fail(
		    EX_IOERR, "cannot check the free space of %s", outbox);
	if (ok > 0)
		return 0;
	if (g != NULL)
		snprintf(lost, sizeof lost, "group %" PRIu64 " was not sealed",
		    g->group);
	else
		snprintf(lost, sizeof lost, "nothing was sealed");
	return log_fail(EX_TEMPFAIL,
	    "%s has less than %s free: free space there "
	    "(srdf-ackd purges confirmed wagons), then start srdf-seal "
	    "again; %s",
	    outbox, mib(need, free_s, sizeof free_s), lost);
}

/*
 * The resume position after a group: the stored last_sealed_gtid with
 * the group's gtid_pos merged in domain by domain (srdf-dedup names only
 * the domains it has seen since it started).  *out is NUL-terminated.
 */
static int
merged_position(struct ledger_txn *t, const char *pos, struct buf *out)
{
	struct gtid_pos stored = {0}, group = {0};
	char *old = NULL;
	int rc;

	if ((rc = ledger_meta_get(t, "last_sealed_gtid", &old)) != 0)
		return rc;
	if (old != NULL && gtid_pos_parse(old, &stored) != 0)
		log_warn("the ledger's last_sealed_gtid '%s' is not a GTID "
		         "position; replacing it",
		    old);
	free(old);
	if (gtid_pos_parse(pos, &group) != 0) {
		gtid_pos_free(&stored);
		return LEDGER_BADREC;
	}
	gtid_pos_merge(&stored, &group);
	out->len = 0;
	gtid_pos_format(&stored, out);
	gtid_pos_free(&stored);
	gtid_pos_free(&group);
	return 0;
}

/* Encrypts the job's compressed records into wagon seq (wagon_finish)
 * and stores it in outbox/new as name, when the outbox has room for it
 * twice over and --min-free.  Returns 0, or an exit status after logging
 * why: nothing is then in new/. */
static int
store_wagon(struct seal *s, struct job *j, uint64_t seq, const char *name)
{
	const struct config *cf = s->cf;
	const struct group *g = j->g;
	struct buf *wagon = j->wagon;
	unsigned long long need;
	int ok;

	j->h.seq = seq;
	if (wagon_finish(&j->h, g->lines.len, keyring_key(s->kr), wagon) != 0) {
		log_err("cannot seal group %" PRIu64 " chunk %" PRIu32
		        " as wagon %" PRIu64 ": %s",
		    g->group, g->chunk, seq, strerror(errno));
		return EX_SOFTWARE;
	}
	need = 2ULL * wagon->len;
	if (need < cf->min_free)
		need = cf->min_free;
	if ((ok = check_free(cf->outbox, need, g)) != 0)
		return ok;
	if (spool_put(cf->outbox, name, wagon->p, wagon->len) != 0) {
		ok =
		    errno == ENOSPC || errno == EDQUOT ? EX_TEMPFAIL : EX_IOERR;
		log_err("cannot store wagon %" PRIu64 " in %s/new: nothing "
		        "sealed from group %" PRIu64 " chunk %" PRIu32 "; the "
		        "ledger is unchanged",
		    seq, cf->outbox, g->group, g->chunk);
		return ok;
	}
	return 0;
}

/* The commit point: the wagon record w of seq and, on a group's last
 * chunk, the resume position, both or neither.  Returns 0; EX_SOFTWARE
 * after logging why when another writer moved the ledger; or -1 with
 * the ledger's error in *lrc. */
static int
commit_wagon(struct seal *s, const struct wagon_header *h, uint64_t seq,
    json_t *w, int *lrc)
{
	const char *pos = json_string_value(json_object_get(w, "gtid_pos"));
	struct buf merged = {0};
	struct ledger_txn *t;
	uint64_t cur;
	int rc;

	if ((rc = ledger_txn_begin(s->l, 0, &t)) != 0)
		goto fail;
	if ((rc = ledger_wagon_last_seq(t, &cur)) != 0)
		goto abort;
	if (cur != s->last_seq) {
		ledger_txn_abort(t);
		log_err("the ledger's last wagon is %" PRIu64 ", srdf-seal "
		        "expected %" PRIu64 ": another writer? wagon %" PRIu64
		        " stays in %s/new uncommitted",
		    cur, s->last_seq, seq, s->cf->outbox);
		return EX_SOFTWARE;
	}
	if (h->flags & WAGON_F_LAST_CHUNK &&
	    (rc = merged_position(t, pos, &merged)) != 0)
		goto abort;
	if ((s->source_new &&
	        (rc = ledger_meta_put(t, "source_id", s->source_hex)) != 0) ||
	    (rc = ledger_wagon_put(t, seq, w)) != 0 ||
	    (h->flags & WAGON_F_LAST_CHUNK &&
	        (rc = ledger_meta_put(t, "last_sealed_gtid", merged.p)) != 0))
		goto abort;
	buf_free(&merged);
	if ((rc = ledger_txn_commit(t)) != 0)
		goto fail;
	return 0;
abort:
	ledger_txn_abort(t);
	buf_free(&merged);
fail:
	*lrc = rc;
	return -1;
}

/* Seals the job as wagon last_seq + 1: outbox, then ledger.  Returns 0,
 * or an exit status after logging why: the wagon is then neither in
 * new/ nor in the ledger (but for "another writer"). */
static int
seal_group(struct seal *s, struct job *j)
{
	const struct config *cf = s->cf;
	const struct group *g = j->g;
	const struct wagon_header *h = &j->h;
	json_t *w = j->w;
	const char *pos = json_string_value(json_object_get(w, "gtid_pos"));
	char name[WAGON_NAME_LEN], path[PATH_MAX], kid[17];
	uint64_t seq = s->last_seq + 1;
	int rc, lrc = 0;

	wagon_name(seq, name);
	if ((rc = store_wagon(s, j, seq, name)) != 0)
		return rc;
	json_object_set_new(w, "seq", json_integer((json_int_t)seq));
	json_object_set_new(w, "file", json_string(name));
	json_object_set_new(
	    w, "raw_bytes", json_integer((json_int_t)h->raw_len));
	json_object_set_new(
	    w, "wagon_bytes", json_integer((json_int_t)j->wagon->len));
	json_object_set_new(w, "attempts", json_integer(0));
	json_object_set_new(
	    w, "sealed_at", json_real((double)h->created_us / 1e6));
	/* The key it was sealed with (wagon_finish set the header's): what
	 * srdf-status counts before a key of the ring may be retired
	 * (srdf-keygen(1) KEY ROTATION). */
	key_id_hex(h->key_id, kid);
	json_object_set_new(w, "key_id", json_string(kid));
	if ((rc = commit_wagon(s, h, seq, w, &lrc)) > 0)
		return rc;
	if (rc < 0) {
		/* Not recorded: take the file back out of new/ (best
		 * effort; the next start removes an orphan anyway) so
		 * srdf-ship cannot see it. */
		if (snprintf(path, sizeof path, "%s/new/%s", cf->outbox, name) <
		    (int)sizeof path)
			unlink(path);
		log_err("cannot record wagon %" PRIu64 " in the ledger of %s: "
		        "%s; removed it from the outbox, nothing sealed from "
		        "group %" PRIu64,
		    seq, cf->dir, ledger_strerror(lrc), g->group);
		return EX_IOERR;
	}
	s->source_new = 0;
	s->last_seq = seq;
	s->nsealed++;
	audit_wagon(0, seq, NULL, "sealed",
	    "group %" PRIu64 " chunk %" PRIu32 ", GTID %s..%s", g->group,
	    g->chunk, h->first_gtid, h->last_gtid);
	heartbeat_beat(seq, h->last_gtid);
	log_info("sealed wagon %" PRIu64 " (group %" PRIu64 " chunk %" PRIu32
	         "%s): %" PRIu64 " events -> %" PRIu64 ", %" PRIu64
	         " -> %zu bytes"
	         ", GTID %s..%s%s%s",
	    seq, g->group, g->chunk,
	    h->flags & WAGON_F_LAST_CHUNK ? ", last" : "", h->events_in,
	    h->events_out, h->raw_len, j->wagon->len, h->first_gtid,
	    h->last_gtid, h->flags & WAGON_F_LAST_CHUNK ? ", position " : "",
	    h->flags & WAGON_F_LAST_CHUNK ? pos : "");
	return 0;
}

/* ---- the sealing thread -------------------------------------------- */

/*
 * One thread seals (XChaCha20-Poly1305, SHA-256), stores and records the
 * groups, strictly in their order, one at a time: the same steps, in the
 * same order, as when the reader sealed them itself, so the state table
 * at the top holds unchanged and a wagon is in new/ only while the ledger
 * is at its sequence - 1.  What overlaps is the reading, checking and
 * compressing (zstd, the largest cost) of group N+1 with the encryption,
 * checksum, fsyncs and ledger commit of group N: the two halves cost
 * about the same CPU, and the fsyncs no longer stall the reader.  An
 * error of seal_group ends the process here, with its exit status (and
 * the heartbeat's "stopped"), at once: the reader may be blocked on
 * stdin for as long as the source is idle, and cannot be told.  The
 * reader drains the thread before it reports an error of its own, so
 * the first error in input order is the one reported.
 */
static void *
sealer(void *arg)
{
	struct seal *s = arg;
	uint64_t last;
	int rc;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->pending && !s->quit)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->pending)
			break;
		pthread_mutex_unlock(&s->mu);
		if ((rc = seal_group(s, &s->job)) != 0) {
			heartbeat_stop(rc);
			exit(rc);
		}
		json_decref(s->job.w);
		last = s->last_seq;
		/* The group is committed: a stop asked for meanwhile, with
		 * no group open, ends the process here (see on_signal). */
		if (atomic_fetch_sub(&busy, 1) == 1 && atomic_load(&stopping)) {
			log_notice(
			    "stopped by a signal after wagon %" PRIu64, last);
			_exit(0);
		}
		pthread_mutex_lock(&s->mu);
		s->pending = 0;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Waits until the sealing thread has committed every group handed to it
 * (or died). */
static void
drain(struct seal *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->pending)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

/* Hands the group just read (g[cur], its header and ledger record) to
 * the sealing thread once it is free, and turns to the other buffer. */
static void
submit(struct seal *s, const struct wagon_header *h, json_t *w)
{
	drain(s);
	pthread_mutex_lock(&s->mu);
	s->job.g = &s->g[s->cur];
	s->job.h = *h;
	s->job.w = w;
	s->job.wagon = &s->wagon[s->cur];
	s->pending = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	s->cur ^= 1;
}

/* Returns 0, or EX_OSERR after logging why. */
static int
sealer_start(struct seal *s)
{
	sigset_t mask, old;
	int e;

	if ((e = pthread_mutex_init(&s->mu, NULL)) != 0 ||
	    (e = pthread_cond_init(&s->cv, NULL)) != 0) {
		log_err("cannot start the sealing thread: %s", strerror(e));
		return EX_OSERR;
	}
	/* The signals go to the reader (on_signal), never to the sealer. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	e = pthread_create(&s->sealer, NULL, sealer, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		log_err("cannot start the sealing thread: %s", strerror(e));
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		return EX_OSERR;
	}
	return 0;
}

static void
sealer_stop(struct seal *s)
{
	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->sealer, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

/* ---- reading -------------------------------------------------------- */

/* How srdf-dedup starts a framing line; others are row or DDL records. */
#define GROUP_PREFIX "{\"v\":1,\"type\":\"group_"

/* stdin's buffer: a pipe hands over up to 64 KiB a read, a file more. */
#define INPUT_BUF (1 << 20)

/* One input line r holds: its type, and for a framing line (or one the
 * scanner refuses) its tree in *rec (else NULL).  Returns 0, or -1 with
 * r->err set (record_parse). */
static int
classify(struct record_reader *r, struct scanner *sc, json_t **rec,
    const char **type)
{
	struct rec sr;

	/* Row records are most of the input: the scanner checks them
	 * without building a tree; jansson reads the framing lines (and
	 * words the error of a line the scanner refuses). */
	*rec = NULL;
	if (r->len > sizeof GROUP_PREFIX &&
	    memcmp(r->buf, GROUP_PREFIX, sizeof GROUP_PREFIX - 1) != 0 &&
	    scan_record(sc, r->buf, r->len - 1, &sr) == 0) {
		*type = rec_type_name(sr.type);
		return 0;
	}
	if (record_parse(r, rec) != 0)
		return -1;
	*type = json_string_value(json_object_get(*rec, "type"));
	return 0;
}

/* The group_end rec closes the open group: checked, compressed (zstd
 * here, on the reader's CPU, while the sealing thread encrypts and
 * stores the group before), and handed to the sealing thread.  Returns
 * 0, or an exit status after logging why. */
static int
close_group(struct seal *s, const struct record_reader *r, json_t *rec)
{
	struct group *g = &s->g[s->cur];
	struct wagon_header h;
	struct group_end e = {0};
	json_t *w;
	int rc;

	if ((w = json_object()) == NULL) {
		log_err("out of memory");
		return EX_OSERR;
	}
	if ((rc = end_group(s, r, rec, &e)) != 0) {
		json_decref(w);
		return rc;
	}
	describe(s, rec, &e, &h, w);
	if (wagon_compress(g->lines.p, g->lines.len, s->cf->level,
	        &s->wagon[s->cur]) != 0) {
		rc = errno;
		json_decref(w);
		drain(s);
		log_err("cannot compress group %" PRIu64 " chunk %" PRIu32
		        ": %s",
		    g->group, g->chunk, strerror(rc));
		return EX_SOFTWARE;
	}
	/* busy stays counted: the group goes on being sealed. */
	submit(s, &h, w);
	return 0;
}

/* Takes one input line of type (rec: its tree or NULL) into the open
 * group, opening or closing it; *in_group says whether one is open.
 * Returns 0, or an exit status after logging why. */
static int
take_line(struct seal *s, const struct record_reader *r, json_t *rec,
    const char *type, int *in_group)
{
	struct group *g = &s->g[s->cur];
	int rc;

	if (!*in_group) {
		if (strcmp(type, "group_begin") != 0)
			return bad_input(s, r, NULL,
			    "a \"%s\" record outside a group: "
			    "srdf-seal reads srdf-dedup's groups",
			    type);
		atomic_fetch_add(&busy, 1);
		if ((rc = begin_group(s, r, rec)) != 0)
			return rc;
		*in_group = 1;
	} else if (strcmp(type, "group_begin") == 0)
		return bad_input(s, r, g, "group_begin inside the open group");
	if (g->lines.len + r->len > WAGON_RAW_MAX)
		return bad_input(s, r, g,
		    "the group is larger than a wagon holds "
		    "(%" PRIu64 " bytes): lower srdf-dedup "
		    "--max-bytes",
		    WAGON_RAW_MAX);
	buf_add(&g->lines, r->buf, r->len);
	if (strcmp(type, "ddl") == 0)
		g->ddl = 1;
	if (strcmp(type, "group_end") == 0) {
		if ((rc = close_group(s, r, rec)) != 0)
			return rc;
		*in_group = 0;
	}
	return 0;
}

/* The end of the input (rc of record_read_line: 0 at its end, -1 on an
 * error), the sealing thread drained.  Returns 0 or an exit status after
 * logging why. */
static int
end_of_input(
    struct seal *s, const struct record_reader *r, int rc, int in_group)
{
	const struct group *g = &s->g[s->cur];

	if (rc < 0 && ferror(stdin)) {
		log_err("%s", r->err);
		return EX_IOERR;
	}
	if (rc == 0 && in_group && atomic_load(&stopping)) {
		/* Upstream stopped too: the group comes again after the
		 * restart, from last_sealed_gtid. */
		log_notice("stopped by a signal inside group %" PRIu64
		           " chunk %" PRIu32
		           ", not sealed; it is read again after the restart",
		    g->group, g->chunk);
		return 0;
	}
	if (rc < 0) {
		log_err("%s%s", r->err,
		    in_group ? "; nothing sealed from the open group" : "");
		return EX_DATAERR;
	}
	if (in_group) {
		log_err("stdin: end of input inside group %" PRIu64
		        " chunk %" PRIu32 " (begun on line %lu): group %" PRIu64
		        " truncated, nothing sealed from it",
		    g->group, g->chunk, g->line, g->group);
		return EX_DATAERR;
	}
	log_info("end of input; wagons sealed: %" PRIu64
	         ", the last is %" PRIu64,
	    s->nsealed, s->last_seq);
	return 0;
}

/* SIGHUP, in the reader: the next wagons are sealed with the newest key
 * of the key file (srdf-keygen(1) KEY ROTATION). */
static void
reload(struct seal *s)
{
	char err[512];

	log_notice("SIGHUP: reloading");
	notify_reloading();
	if (keyring_reload(s->kr, err, sizeof err) < 0)
		log_err("%s; the keys read before stay in use", err);
	notify_ready(NULL);
}

/* Before each line: pings the watchdog (notify.h), takes a SIGHUP, and
 * when stdin's buffer is empty (glibc's FILE read pointers) waits for
 * input in ppoll(2), which a signal always interrupts (signal(7)), with
 * SIGHUP blocked but there: a seal idle for lack of input stays alive
 * for the watchdog and reloads its key at once. */
static void
wait_input(struct seal *s)
{
	struct pollfd p = {STDIN_FILENO, POLLIN, 0};
	struct timespec ts, *tp;
	sigset_t hupset, old;
	long long ms;

	sigemptyset(&hupset);
	sigaddset(&hupset, SIGHUP);
	for (;;) {
		notify_watchdog();
		if (atomic_exchange(&hup, 0))
			reload(s);
		if (stdin->_IO_read_ptr < stdin->_IO_read_end ||
		    atomic_load(&stopping))
			return;
		pthread_sigmask(SIG_BLOCK, &hupset, &old);
		if (atomic_load(&hup)) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			continue;
		}
		ms = notify_wait_ms(-1);
		ts = (struct timespec){ms / 1000, ms % 1000 * 1000000};
		tp = ms < 0 ? NULL : &ts;
		if (ppoll(&p, 1, tp, &old) > 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			return;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
}

/* Reads groups on stdin and hands them to the sealing thread until the
 * end of the input or a signal.  Returns 0, or an exit status after
 * logging why. */
static int
run(struct seal *s)
{
	struct record_reader r;
	struct scanner sc = {0};
	const char *type;
	int in_group = 0, rc, ex = 0;
	json_t *rec;

	setvbuf(stdin, NULL, _IOFBF, INPUT_BUF);
	record_reader_init(&r, stdin, "stdin");
	if ((ex = sealer_start(s)) != 0)
		goto out;
	while ((wait_input(s), rc = record_read_line(&r)) == 1) {
		if (classify(&r, &sc, &rec, &type) != 0) {
			rc = -1;
			break;
		}
		ex = take_line(s, &r, rec, type, &in_group);
		json_decref(rec);
		if (ex != 0)
			break;
		if (atomic_load(&stopping) && !in_group) {
			notify_stopping();
			drain(s);
			log_notice("stopped by a signal after wagon %" PRIu64,
			    s->last_seq);
			break;
		}
	}
	drain(s);
	if (rc != 1)
		ex = end_of_input(s, &r, rc, in_group);
	/* An error is on its way to main(): a signal now must not end
	 * the process with 0 (on_signal). */
	if (ex != 0)
		atomic_fetch_add(&busy, 1);
	sealer_stop(s);
out:
	record_reader_free(&r);
	scanner_free(&sc);
	return ex;
}

/* ---- start ---------------------------------------------------------- */

/* The source id and the last sequence; a new source id when the ledger
 * has none (stored with the first wagon).  Returns 0, or an exit status
 * after logging why. */
static int
read_ledger(struct seal *s)
{
	struct ledger_txn *t;
	char *id = NULL;
	size_t n;
	int rc;

	if ((rc = ledger_txn_begin(s->l, LEDGER_RDONLY, &t)) != 0 ||
	    (rc = ledger_meta_get(t, "source_id", &id)) != 0 ||
	    (rc = ledger_wagon_last_seq(t, &s->last_seq)) != 0) {
		ledger_txn_abort(t);
		log_err("cannot read the ledger of %s: %s", s->cf->dir,
		    ledger_strerror(rc));
		return EX_IOERR;
	}
	ledger_txn_abort(t);
	if (id == NULL) {
		randombytes_buf(s->source_id, sizeof s->source_id);
		sodium_bin2hex(s->source_hex, sizeof s->source_hex,
		    s->source_id, sizeof s->source_id);
		s->source_new = 1;
		return 0;
	}
	if (strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32 ||
	    sodium_hex2bin(s->source_id, sizeof s->source_id, id, 32, NULL, &n,
	        NULL) != 0 ||
	    n != sizeof s->source_id) {
		log_err("the ledger of %s holds a bad source_id \"%.40s\""
		        " (32 hex digits expected)",
		    s->cf->dir, id);
		free(id);
		return EX_SOFTWARE;
	}
	memcpy(s->source_hex, id, 33);
	free(id);
	return 0;
}

/* A wagon in new/ just beyond the ledger's last sequence was stored by a
 * run that died before its ledger commit: remove it before srdf-ship sees
 * it; the group comes again and is sealed under the same sequence.  One
 * run leaves at most one such wagon: one further on means the ledger is
 * not this outbox's, and nothing is removed.  Returns 0, or an exit
 * status after logging why. */
static int
remove_orphans(const struct seal *s)
{
	char path[PATH_MAX], **names;
	const char *orphan = NULL;
	uint64_t seq;
	size_t n, i;
	int k, ex = 0;

	if (spool_list(s->cf->outbox, "new", &names, &n) != 0) {
		log_err("cannot list %s/new", s->cf->outbox);
		return EX_IOERR;
	}
	for (i = 0; i < n && ex == 0; i++) {
		if ((seq = wagon_name_seq(names[i])) <= s->last_seq)
			continue;
		if (seq != s->last_seq + 1) {
			log_err("%s/new/%s is beyond the ledger's last wagon, "
			        "%" PRIu64
			        ": the ledger in %s does not belong to "
			        "this outbox; nothing removed",
			    s->cf->outbox, names[i], s->last_seq, s->cf->dir);
			ex = EX_SOFTWARE;
		}
		orphan = names[i];
	}
	if (ex == 0 && orphan != NULL) {
		k = snprintf(
		    path, sizeof path, "%s/new/%s", s->cf->outbox, orphan);
		if (k < 0 || k >= (int)sizeof path) {
			log_err(
			    "%s/new/%s: path too long", s->cf->outbox, orphan);
			ex = EX_SOFTWARE;
		} else if (unlink(path) != 0) {
			log_err("cannot remove %s: %s", path, strerror(errno));
			ex = EX_IOERR;
		} else
			log_notice(
			    "removed %s: stored by a run that died "
			    "before its ledger commit; it is sealed again",
			    path);
	}
	spool_list_free(names, n);
	return ex;
}

static void
parse_options(int argc, char **argv, struct config *cf)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"key-file", required_argument, NULL, 'k'},
	    {"level", required_argument, NULL, 'l'},
	    {"min-free", required_argument, NULL, 'm'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			cf->dir = optarg;
			break;
		case 'k':
			cf->key_file = optarg;
			break;
		case 'l':
			cf->level = (int)opt_count(
			    optarg, "--level", 1, (unsigned)ZSTD_maxCLevel());
			break;
		case 'm':
			cf->min_free =
			    opt_size(optarg, "--min-free", 0, ULLONG_MAX);
			break;
		case 'v':
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, "srdf-seal", usage);
		}
	}
	opt_no_operands(argc, usage);
}

/* Lock, outbox, ledger (the next sequence), orphans, audit, heartbeat,
 * and the outbox's free space: the state main() needs before sealing
 * (man/srdf-seal.1 FILES).  Returns 0, or an exit status after logging
 * why (the lock dies as lock.h says). */
static int
open_state(struct seal *s, const struct config *cf)
{
	int rc;

	s->cf = cf;
	tool_lock(cf->dir, "srdf-seal", 1);
	if (spool_init(cf->outbox) != 0) {
		log_err("cannot set up the outbox %s", cf->outbox);
		return EX_CANTCREAT;
	}
	if ((rc = tool_ledger(cf->dir, 0, &s->l, EX_CANTCREAT)) != 0)
		return rc;
	if ((rc = read_ledger(s)) != 0 || (rc = remove_orphans(s)) != 0)
		return rc;
	audit_open(cf->dir);
	audit_source(s->source_hex);
	heartbeat_start(cf->dir, "srdf-seal", 0, 0);
	if ((rc = check_free(cf->outbox, cf->min_free, NULL)) != 0)
		return rc;
	return 0;
}

int
main(int argc, char **argv)
{
	struct config cf = {
	    .level = DEFAULT_LEVEL, .min_free = DEFAULT_MIN_FREE};
	struct seal s = {0};
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	char err[512];
	int rc;

	log_init(argv[0]);
	xalloc_big_buffers();
	cf.dir = tool_dir_default();
	parse_options(argc, argv, &cf);
	if (cf.key_file == NULL)
		die(EX_USAGE, "no --key-file: wagons are always encrypted");
	tool_path(cf.outbox, sizeof cf.outbox, cf.dir, "outbox");
	if ((s.kr = keyring_open(cf.key_file, err, sizeof err)) == NULL)
		die(EX_CONFIG, "%s", err);

	if ((rc = open_state(&s, &cf)) == 0) {
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		notify_ready("reading groups on stdin, the next wagon is "
		             "%" PRIu64,
		    s.last_seq + 1);
		log_info("ready: reading groups on stdin, the next wagon is "
		         "%" PRIu64 " in %s/new",
		    s.last_seq + 1, cf.outbox);
		rc = run(&s);
	}
	heartbeat_stop(rc);
	if (s.l != NULL)
		ledger_close(s.l);
	keyring_close(s.kr);
	/* The records in clear, and a wagon that failed before it was
	 * encrypted. */
	buf_free_wiped(&s.g[0].lines);
	buf_free_wiped(&s.g[1].lines);
	buf_free_wiped(&s.wagon[0]);
	buf_free_wiped(&s.wagon[1]);
	return rc;
}
