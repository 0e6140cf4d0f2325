/*
 * srdf-dedup — cut srdf-capture's stream of transactions into
 * consistency groups and fold each group's row changes to their net
 * effect.  srdf-record(5) lines in on stdin, groups out on stdout.
 *
 * Design rationale.  A group ("wagon") is the unit the target applies
 * in one transaction, so it must end where the source really was: it
 * holds whole source transactions, in commit order, and nothing else.
 * Folding is then safe: applied in one transaction, only the group's
 * final state is ever visible on the target, and that is the source's
 * state after the group's last GTID; the states inside the group are
 * never seen, so per row only the first before-image and the last
 * after-image matter.  An applier that deletes every before-image key
 * and then inserts every after-image cannot trip over a UNIQUE key two
 * rows swapped, and foreign keys are checked at the source, not
 * inside a group (srdf-dedup(1) has the folding table and the proof).
 *
 * The window is wall-clock time on this host, from the arrival of a
 * group's first transaction, not the source's timestamps: those have
 * one-second resolution and stop when the source is idle, so a window
 * on them would hold the last transactions of a quiet source for ever.
 * stdin is read with read(2) on its descriptor and waited on with
 * poll(2) and the window's remaining time, so a quiet pipe still seals
 * on time (stdio's buffer would hide data from poll).
 *
 * Lines are read by scan.c, one pass and no allocation per record,
 * because jansson's parser runs at a sixth of srdf-capture's speed; the
 * scanner accepts exactly what lib/record.c accepts, and jansson still
 * words every error.  A record that is not folded with another is
 * written back as its own input bytes; a folded one is assembled from
 * spans of the input, never re-encoded.
 *
 * What it refuses to do: guess.  A malformed, truncated or unknown
 * record stops it with exit 65 and nothing of the open group is
 * written; srdf-capture resumes after the last GTID srdf-seal sealed,
 * so nothing is lost.  It never folds rows of a table without a
 * primary key (no row identity), never folds across a DDL (the images
 * on either side have different shapes) or an XA transaction (prepared
 * rows belong to a branch that commits later, or never): those travel
 * alone and verbatim.  It splits a transaction only when that alone is
 * larger than --max-bytes.  It keeps no state: no files, no ledger; its
 * GTID position holds the domains it has seen since it started.
 */
#include <errno.h>
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

#include <jansson.h>

#include "buf.h"
#include "clock.h"
#include "fault.h"
#include "fold.h"
#include "gtid.h"
#include "log.h"
#include "opt.h"
#include "record.h"
#include "scan.h"
#include "tool.h"
#include "xalloc.h"

#define IN_START (4UL << 20) /* input buffer; grows for longer records */
#define READ_MIN (64UL << 10)

struct config {
	long long window_ms;
	uint64_t max_events;
	unsigned long long max_bytes;
	uint64_t solo_rows; /* 0: off */
	int verify; /* SRDF_DEDUP_VERIFY: jansson re-reads every record */
};

/* A record of the open transaction: its line in trx.arena, its row's
 * keys in trx.keys. */
struct trec {
	enum rec_type type;
	size_t off;
	uint32_t len;
	uint8_t nokey;
	uint8_t order; /* an update or delete of a cascade parent */
	size_t key;
	uint32_t kbn, kan;
};

/* The transaction being read: kept apart from the group until its
 * commit, so an abort or a missing commit just drops it. */
struct trx {
	int open;
	struct gtid gtid;
	uint64_t ts, end_ts;
	unsigned long line; /* of its begin */
	int xa_begin;       /* an XA PREPARE group */
	int xa, ddl;        /* a barrier */
	int range;          /* a resync chunk ("range" record): a barrier */
	struct buf arena, keys;
	struct trec *rec;
	size_t nrec, caprec;
	uint64_t bytes;  /* input bytes, begin to commit */
	uint64_t ebytes; /* those of records a chunk would carry */
	uint64_t rows;
	/* streamed in chunks (larger than --max-bytes) */
	int chunked;
	uint64_t group;
	uint32_t chunk;
};

struct dedup {
	const struct config *cf;

	/* input: unread bytes are in[inpos..inlen), scanned for a newline
	 * up to scan */
	char *in;
	size_t inpos, inlen, incap, scan;
	unsigned long line;
	struct scanner sc;
	struct rec r;

	struct trx t;

	/* the open group */
	struct fold fold;
	uint64_t ntrx, events_in, bytes;
	struct gtid first, last;
	uint64_t first_ts, last_ts;
	long long deadline; /* CLOCK_MONOTONIC, ms */

	struct gtid_pos pos; /* one GTID per domain seen, after the sealed
			      * groups */

	uint64_t groupno;
	int err; /* once input or output failed: the exit status (logged) */
	struct buf out, tmp;
	uint64_t tot_groups, tot_trx, tot_in, tot_out, dropped;
};

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-dedup [-v] [--window duration] [--max-events n] "
	    "[--max-bytes size] [--solo-rows n]\n"
	    "       srdf-dedup --help | --version\n");
}

/* Bad input: one line naming it, then exit 65 (run() returns -1). */
static int bad(struct dedup *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
bad(struct dedup *d, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_err("stdin:%lu: %s", d->line, msg);
	return -1;
}

static const char *
type_name(enum rec_type t)
{
	static const char *const n[] = {"begin", "commit", "abort", "insert",
	    "update", "delete", "ddl", "xa_prepare", "xa_end", "trx", "range"};

	return n[t];
}

/* ---- GTIDs --------------------------------------------------------- */

/* A "gtid" member: domain-server-seq (lib/gtid.h). */
static int
parse_gtid(struct dedup *d, struct jspan v, struct gtid *g)
{
	struct jstr j;

	if (jspan_str(v, &j) != 0)
		return -1;
	d->tmp.len = 0;
	jstr_decode(&j, &d->tmp);
	buf_putc(&d->tmp, '\0');
	/* A NUL inside the string is not part of a GTID either. */
	if (strlen(d->tmp.p) != d->tmp.len - 1)
		return -1;
	return gtid_parse(d->tmp.p, g);
}

/* A "ts" member: absent is 0, else a non-negative integer. */
static int
parse_ts(struct jspan v, uint64_t *ts)
{
	char t[24];

	*ts = 0;
	if (v.p == NULL)
		return 0;
	if (v.n >= sizeof t)
		return -1;
	memcpy(t, v.p, v.n);
	t[v.n] = '\0';
	return parse_u64(t, ts);
}

static void
put_gtid(struct buf *b, const struct gtid *g)
{
	buf_putc(b, '"');
	gtid_format(g, b);
	buf_putc(b, '"');
}

/* ---- output -------------------------------------------------------- */

/* Writes the output buffer to stdout.  A failed write is logged once
 * and ends the run (d->err); what follows it is discarded. */
static void
flush_out(struct dedup *d)
{
	if (d->err == 0 && write_all(STDOUT_FILENO, d->out.p, d->out.len) < 0) {
		if (errno == EPIPE)
			log_err("cannot write groups: the reader of stdout "
			        "has gone (%s)",
			    strerror(errno));
		else
			log_err("cannot write groups to stdout: %s",
			    strerror(errno));
		d->err = EX_IOERR;
	}
	d->out.len = 0;
}

static void
put_group_begin(
    struct buf *b, uint64_t group, uint32_t chunk, const struct gtid *first)
{
	buf_lit(b, "{\"v\":1,\"type\":\"group_begin\",\"group\":");
	buf_u64(b, group);
	buf_lit(b, ",\"chunk\":");
	buf_u64(b, chunk);
	buf_lit(b, ",\"first_gtid\":");
	put_gtid(b, first);
	buf_lit(b, "}\n");
}

struct gend {
	uint64_t group;
	uint32_t chunk;
	int last;  /* the group's last chunk: a consistent point */
	int split; /* its trx records are transaction boundaries */
	const struct gtid *first, *lastg;
	uint64_t trx, in, out;
	const char *reason;
	uint64_t first_ts, last_ts;
};

static void
put_group_end(struct dedup *d, const struct gend *g)
{
	struct buf *b = &d->out;

	buf_lit(b, "{\"v\":1,\"type\":\"group_end\",\"group\":");
	buf_u64(b, g->group);
	buf_lit(b, ",\"chunk\":");
	buf_u64(b, g->chunk);
	if (g->last)
		buf_lit(b, ",\"last\":true,\"first_gtid\":");
	else
		buf_lit(b, ",\"last\":false,\"first_gtid\":");
	put_gtid(b, g->first);
	if (g->last) {
		buf_lit(b, ",\"last_gtid\":");
		put_gtid(b, g->lastg);
		buf_lit(b, ",\"gtid_pos\":\"");
		gtid_pos_format(&d->pos, b);
		buf_putc(b, '"');
	}
	buf_lit(b, ",\"trx\":");
	buf_u64(b, g->trx);
	if (g->split)
		buf_lit(b, ",\"split\":true");
	buf_lit(b, ",\"events_in\":");
	buf_u64(b, g->in);
	buf_lit(b, ",\"events_out\":");
	buf_u64(b, g->out);
	buf_lit(b, ",\"reason\":\"");
	buf_puts(b, g->reason);
	buf_lit(b, "\",\"first_ts\":");
	buf_u64(b, g->first_ts);
	buf_lit(b, ",\"last_ts\":");
	buf_u64(b, g->last_ts);
	buf_lit(b, "}\n");
}

/* A transaction's trx record (srdf-record(5)), without its newline. */
static void
put_trx(struct buf *b, const struct gtid *g, uint64_t ts)
{
	buf_lit(b, "{\"v\":1,\"type\":\"trx\",\"gtid\":");
	put_gtid(b, g);
	buf_lit(b, ",\"ts\":");
	buf_u64(b, ts);
	buf_putc(b, '}');
}

static void
group_written(struct dedup *d, const struct gend *g)
{
	log_debug("group %" PRIu64 " chunk %" PRIu32 "%s: %" PRIu64
	          " transactions, %" PRIu64 " row changes in, %" PRIu64
	          " out, sealed by %s",
	    g->group, g->chunk, g->last ? "" : " (more chunks)", g->trx, g->in,
	    g->out, g->reason);
	if (g->last)
		d->tot_groups++;
	d->tot_trx += g->trx;
	d->tot_in += g->in;
	d->tot_out += g->out;
}

/* Seals the open group, if it holds a transaction. */
static void
seal(struct dedup *d, const char *reason)
{
	struct gend g = {0};

	if (d->ntrx == 0)
		return;
	g.group = ++d->groupno;
	g.chunk = 1;
	g.last = 1;
	g.first = &d->first;
	g.lastg = &d->last;
	g.trx = d->ntrx;
	g.in = d->events_in;
	g.reason = reason;
	g.first_ts = d->first_ts;
	g.last_ts = d->last_ts;
	d->out.len = 0;
	put_group_begin(&d->out, g.group, 1, &d->first);
	g.out = fold_emit(&d->fold, &d->out);
	g.split = fold_split(&d->fold);
	put_group_end(d, &g);
	flush_out(d);
	group_written(d, &g);
	fold_reset(&d->fold);
	d->ntrx = d->events_in = d->bytes = 0;
}

/* ---- transactions -------------------------------------------------- */

static void
trx_reset(struct trx *t)
{
	t->open = t->xa_begin = t->xa = t->ddl = t->range = t->chunked = 0;
	t->arena.len = t->keys.len = 0;
	t->nrec = 0;
	t->bytes = t->ebytes = t->rows = 0;
	t->chunk = 0;
	t->group = 0;
}

static void
drop_trx(struct dedup *d, const char *why)
{
	struct trx *t = &d->t;

	log_warn("dropped the incomplete transaction %" PRIu32 "-%" PRIu32
	         "-%" PRIu64 " (begin at stdin:%lu): %s%s",
	    t->gtid.domain, t->gtid.server, t->gtid.seq, t->line, why,
	    t->chunked ? "; its chunks written so far end without the last "
	                 "one, and a consumer rolls them back"
	               : "");
	d->dropped++;
	trx_reset(t);
}

static int
emittable(const struct trx *t, const struct trec *r)
{
	return t->xa_begin || (r->type != R_BEGIN && r->type != R_COMMIT &&
	                          r->type != R_XA_PREPARE);
}

static int
is_row(enum rec_type t)
{
	return t == R_INSERT || t == R_UPDATE || t == R_DELETE;
}

/* One chunk of a large transaction: its records [from, to), verbatim. */
static void
emit_chunk(struct dedup *d, size_t from, size_t to, int last)
{
	struct trx *t = &d->t;
	struct gend g = {0};
	uint64_t rows = 0;

	if (++t->chunk == 1)
		t->group = ++d->groupno;
	d->out.len = 0;
	put_group_begin(&d->out, t->group, t->chunk, &t->gtid);
	for (size_t i = from; i < to; i++) {
		const struct trec *r = &t->rec[i];

		if (!emittable(t, r))
			continue;
		buf_add(&d->out, t->arena.p + r->off, r->len);
		buf_putc(&d->out, '\n');
		rows += is_row(r->type);
	}
	if (last) {
		put_trx(&d->out, &t->gtid, t->end_ts);
		buf_putc(&d->out, '\n');
	}
	g.group = t->group;
	g.chunk = t->chunk;
	g.last = last;
	g.split = last;
	g.first = &t->gtid;
	g.lastg = &t->gtid;
	g.trx = last ? 1 : 0;
	g.in = g.out = rows;
	g.reason = "max-bytes";
	g.first_ts = t->ts;
	g.last_ts = last ? t->end_ts : t->ts;
	put_group_end(d, &g);
	flush_out(d);
	group_written(d, &g);
}

/*
 * Writes the open transaction's chunks that are full: a chunk is the
 * longest run of records whose bytes stay within --max-bytes (a record
 * larger than that is a chunk of its own).  The rest waits for more
 * records, so a non-final flush always keeps at least one and the final
 * chunk is never empty.  Memory: --max-bytes and one record.
 */
static void
chunk_flush(struct dedup *d, int final)
{
	struct trx *t = &d->t;
	unsigned long long max = d->cf->max_bytes, sum;
	size_t i = 0, j, cut;

	for (;;) {
		sum = 0;
		for (j = i; j < t->nrec; j++) {
			if (!emittable(t, &t->rec[j]))
				continue;
			if (sum > 0 && sum + t->rec[j].len + 1 > max)
				break;
			sum += t->rec[j].len + 1;
		}
		if (j == t->nrec) {
			if (final) {
				emit_chunk(d, i, j, 1);
				i = j;
			}
			break;
		}
		emit_chunk(d, i, j, 0);
		i = j;
	}
	if (i == 0)
		return;
	cut = i < t->nrec ? t->rec[i].off : t->arena.len;
	memmove(t->arena.p, t->arena.p + cut, t->arena.len - cut);
	t->arena.len -= cut;
	memmove(t->rec, t->rec + i, (t->nrec - i) * sizeof *t->rec);
	t->nrec -= i;
	for (j = 0; j < t->nrec; j++)
		t->rec[j].off -= cut;
}

/*
 * True when the open transaction has outgrown --max-bytes: the bytes of
 * the records a chunk would carry, the same measure as chunk_flush's, so
 * a streamed transaction is always two chunks or more and a group with
 * chunk 1 and "last":true is always folded.
 */
static int
too_large(const struct dedup *d)
{
	return d->t.ebytes > d->cf->max_bytes;
}

static void
push_rec(struct trx *t, enum rec_type type, const char *p, size_t n)
{
	struct trec *r;

	t->rec = xgrow(t->rec, &t->caprec, t->nrec + 1, sizeof *t->rec);
	r = &t->rec[t->nrec++];
	memset(r, 0, sizeof *r);
	r->type = type;
	r->off = t->arena.len;
	r->len = (uint32_t)n;
	buf_add(&t->arena, p, n);
	t->bytes += n + 1;
	if (emittable(t, r))
		t->ebytes += n + 1;
}

static int
begin_trx(struct dedup *d, const char *p, size_t n)
{
	struct trx *t = &d->t;

	if (parse_gtid(d, d->r.gtid, &t->gtid) != 0)
		return bad(d, "begin record without a \"gtid\" "
		              "(domain-server-sequence)");
	if (parse_ts(d->r.ts, &t->ts) != 0)
		return bad(d, "begin record whose \"ts\" is not a number of "
		              "seconds");
	t->end_ts = t->ts;
	t->open = 1;
	t->line = d->line;
	t->xa_begin = t->xa = d->r.xa.p != NULL;
	push_rec(t, R_BEGIN, p, n);
	return 0;
}

/* A row, ddl or xa_end record inside the open transaction. */
static int
add_record(struct dedup *d, const char *p, size_t n)
{
	struct trx *t = &d->t;
	size_t k = t->keys.len, kbn = 0, kan = 0;
	char err[300];
	int keyed = 0;

	if (is_row(d->r.type)) {
		keyed = row_keys(
		    &d->fold, &d->r, &t->keys, &kbn, &kan, err, sizeof err);
		if (keyed < 0)
			return bad(d, "%s", err);
		t->rows++;
	} else if (d->r.type == R_DDL) {
		t->ddl = 1;
	} else if (d->r.type == R_RANGE) {
		/* srdf-bootstrap --resync's chunk: the range's state at the
		 * watermark, never folded with changes around it. */
		t->range = 1;
	} else {
		t->xa = 1;
	}
	push_rec(t, d->r.type, p, n);
	t->rec[t->nrec - 1].nokey = keyed == 0;
	t->rec[t->nrec - 1].order = d->r.type != R_INSERT &&
	                            is_row(d->r.type) && d->r.cascade.n == 4 &&
	                            memcmp(d->r.cascade.p, "true", 4) == 0;
	t->rec[t->nrec - 1].key = k;
	t->rec[t->nrec - 1].kbn = (uint32_t)kbn;
	t->rec[t->nrec - 1].kan = (uint32_t)kan;
	if (!t->chunked && too_large(d)) {
		seal(d, "max-bytes");
		t->chunked = 1;
	}
	if (t->chunked) {
		t->keys.len = 0; /* streamed unfolded: keys were a check */
		chunk_flush(d, 0);
	}
	return 0;
}

/* The barrier transaction (DDL or XA) as a group of its own. */
static void
emit_barrier(struct dedup *d, const char *reason)
{
	struct trx *t = &d->t;
	struct gend g = {0};

	g.group = ++d->groupno;
	g.chunk = 1;
	g.last = 1;
	g.first = g.lastg = &t->gtid;
	g.trx = 1;
	g.split = 1;
	g.in = g.out = t->rows;
	g.reason = reason;
	g.first_ts = t->ts;
	g.last_ts = t->end_ts;
	d->out.len = 0;
	put_group_begin(&d->out, g.group, 1, &t->gtid);
	for (size_t i = 0; i < t->nrec; i++) {
		const struct trec *r = &t->rec[i];

		if (t->xa || (r->type != R_BEGIN && r->type != R_COMMIT)) {
			buf_add(&d->out, t->arena.p + r->off, r->len);
			buf_putc(&d->out, '\n');
		}
	}
	put_trx(&d->out, &t->gtid, t->end_ts);
	buf_putc(&d->out, '\n');
	put_group_end(d, &g);
	flush_out(d);
	group_written(d, &g);
}

static int
end_trx(struct dedup *d, const char *p, size_t n)
{
	struct trx *t = &d->t;
	struct gtid g;
	long long now;
	int solo;

	if (parse_gtid(d, d->r.gtid, &g) != 0)
		return bad(d,
		    "%s record without a \"gtid\" "
		    "(domain-server-sequence)",
		    type_name(d->r.type));
	if (g.domain != t->gtid.domain || g.server != t->gtid.server ||
	    g.seq != t->gtid.seq)
		return bad(d,
		    "%s of GTID %" PRIu32 "-%" PRIu32 "-%" PRIu64
		    " ends the transaction of GTID %" PRIu32 "-%" PRIu32
		    "-%" PRIu64 " (begin at line %lu)",
		    type_name(d->r.type), g.domain, g.server, g.seq,
		    t->gtid.domain, t->gtid.server, t->gtid.seq, t->line);
	if (parse_ts(d->r.ts, &t->end_ts) != 0)
		return bad(d,
		    "%s record whose \"ts\" is not a number of "
		    "seconds",
		    type_name(d->r.type));
	if (d->r.ts.p == NULL)
		t->end_ts = t->ts;
	if (d->r.type == R_XA_PREPARE)
		t->xa = 1;
	push_rec(t, d->r.type, p, n);

	if (!t->chunked && too_large(d)) {
		seal(d, "max-bytes");
		t->chunked = 1;
	}
	if (t->chunked) {
		gtid_pos_set(&d->pos, &t->gtid);
		chunk_flush(d, 1);
		trx_reset(t);
		return 0;
	}
	if (t->xa || t->ddl || t->range) {
		const char *reason = t->xa ? "xa" : t->ddl ? "ddl" : "resync";

		seal(d, reason);
		gtid_pos_set(&d->pos, &t->gtid);
		emit_barrier(d, reason);
		trx_reset(t);
		return 0;
	}

	solo = d->cf->solo_rows > 0 && t->rows >= d->cf->solo_rows;
	if (solo)
		seal(d, "solo");
	now = clock_mono_ms();
	if (d->ntrx == 0) {
		d->first = t->gtid;
		d->first_ts = t->ts;
		d->deadline = now + d->cf->window_ms;
	}
	for (size_t i = 0; i < t->nrec; i++) {
		const struct trec *r = &t->rec[i];

		if (is_row(r->type))
			fold_row(&d->fold, r->type, t->arena.p + r->off, r->len,
			    r->nokey, t->keys.p + r->key, r->kbn,
			    t->keys.p + r->key + r->kbn, r->kan);
		if (r->order)
			d->fold.ordered = 1;
	}
	d->tmp.len = 0;
	put_trx(&d->tmp, &t->gtid, t->end_ts);
	fold_trx(&d->fold, d->tmp.p, d->tmp.len);
	d->ntrx++;
	d->events_in += t->rows;
	d->bytes += t->bytes;
	d->last = t->gtid;
	d->last_ts = t->end_ts;
	gtid_pos_set(&d->pos, &t->gtid);
	trx_reset(t);
	if (solo)
		seal(d, "solo");
	else if (d->events_in >= d->cf->max_events)
		seal(d, "max-events");
	else if (d->bytes >= d->cf->max_bytes)
		seal(d, "max-bytes");
	else if (now >= d->deadline)
		seal(d, "window");
	return 0;
}

/* ---- input --------------------------------------------------------- */

/* The scanner refused the line: jansson and record_check() word it, so
 * the message is the one lib/record.c gives. */
static int
bad_record(struct dedup *d, const char *p, size_t n)
{
	json_error_t je;
	const char *type;
	char why[256];
	json_t *j;

	j = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (j == NULL) {
		log_err("stdin:%lu:%d: malformed record: %s", d->line,
		    je.column, je.text);
		return -1;
	}
	if ((type = record_check(j, why, sizeof why)) == NULL) {
		json_decref(j);
		return bad(d, "%s", why);
	}
	json_decref(j);
	if (strcmp(type, "group_begin") == 0 || strcmp(type, "group_end") == 0)
		return bad(d,
		    "a %s record: srdf-dedup reads srdf-capture's "
		    "transactions, not consistency groups",
		    type);
	if (memchr(p, '\0', n) != NULL)
		return bad(d, "malformed record: a NUL byte (which JSON only "
		              "allows escaped, as \\u0000)");
	log_err("stdin:%lu: internal error: the record scanner refused a "
	        "record that jansson accepts",
	    d->line);
	d->err = EX_SOFTWARE;
	return -1;
}

static int
verify_record(struct dedup *d, const char *p, size_t n)
{
	json_error_t je;
	char why[256];
	json_t *j;

	j = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (j == NULL || record_check(j, why, sizeof why) == NULL) {
		log_err("stdin:%lu: internal error: the record scanner "
		        "accepted a record that jansson refuses (%s)",
		    d->line, j == NULL ? je.text : why);
		json_decref(j);
		d->err = EX_SOFTWARE;
		return -1;
	}
	json_decref(j);
	return 0;
}

static int
on_line(struct dedup *d, const char *p, size_t n)
{
	struct trx *t = &d->t;

	d->line++;
	if (scan_record(&d->sc, p, n, &d->r) != 0)
		return bad_record(d, p, n);
	if (d->cf->verify && verify_record(d, p, n) != 0)
		return -1;
	switch (d->r.type) {
	case R_BEGIN:
		if (t->open)
			drop_trx(d, "a begin came before its commit");
		return begin_trx(d, p, n);
	case R_ABORT:
		if (t->open)
			drop_trx(
			    d, "srdf-capture aborted it and sends it again");
		return 0;
	case R_TRX:
		return bad(d, "a trx record: srdf-dedup reads srdf-capture's "
		              "transactions, not consistency groups");
	case R_COMMIT:
	case R_XA_PREPARE:
		if (!t->open)
			return bad(d, "%s record outside a transaction",
			    type_name(d->r.type));
		return end_trx(d, p, n);
	default:
		if (!t->open)
			return bad(d, "%s record outside a transaction",
			    type_name(d->r.type));
		return add_record(d, p, n);
	}
}

/* Handles every complete line in the input buffer. */
static int
lines(struct dedup *d)
{
	char *nl;
	size_t n;

	while (!stopping) {
		nl = d->scan < d->inlen
		         ? memchr(d->in + d->scan, '\n', d->inlen - d->scan)
		         : NULL;
		if (nl == NULL) {
			d->scan = d->inlen;
			if (d->inlen - d->inpos >= RECORD_MAX) {
				d->line++;
				return bad(d,
				    "record longer than the limit of "
				    "%lu bytes",
				    RECORD_MAX);
			}
			break;
		}
		n = (size_t)(nl - (d->in + d->inpos));
		if (n + 1 > RECORD_MAX) {
			d->line++;
			return bad(d,
			    "record of %zu bytes is longer than the "
			    "limit",
			    n + 1);
		}
		if (on_line(d, d->in + d->inpos, n) < 0)
			return -1;
		d->inpos = d->scan = (size_t)(nl - d->in) + 1;
	}
	if (d->inpos == d->inlen)
		d->inpos = d->inlen = d->scan = 0;
	return 0;
}

/* Reads more of stdin: 1 data, 0 end of input, -1 interrupted. */
static int
read_more(struct dedup *d)
{
	ssize_t n;

	if (d->incap - d->inlen < READ_MIN && d->inpos > 0) {
		memmove(d->in, d->in + d->inpos, d->inlen - d->inpos);
		d->inlen -= d->inpos;
		d->scan -= d->inpos;
		d->inpos = 0;
	}
	if (d->incap - d->inlen < READ_MIN) {
		size_t cap = d->incap ? d->incap * 2 : IN_START;

		d->in = xgrow(d->in, &d->incap, cap, 1);
	}
	n = read(STDIN_FILENO, d->in + d->inlen, d->incap - d->inlen);
	if (n < 0) {
		if (errno == EINTR)
			return -1;
		log_err("cannot read stdin: %s", strerror(errno));
		d->err = EX_IOERR;
		return 0;
	}
	d->inlen += (size_t)n;
	return n > 0;
}

static int
run(struct dedup *d)
{
	struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
	int rc;

	for (;;) {
		if (lines(d) < 0)
			return d->err != 0 ? d->err : EX_DATAERR;
		if (d->err != 0)
			return d->err;
		if (stopping)
			break;
		if (d->ntrx > 0) {
			long long left = d->deadline - clock_mono_ms();

			if (left <= 0) {
				seal(d, "window");
				continue;
			}
			rc =
			    poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
			if (rc == 0 && d->deadline <= clock_mono_ms())
				seal(d, "window");
			if (rc <= 0)
				continue; /* timeout, or EINTR */
		}
		if ((rc = read_more(d)) == 0 && d->err != 0)
			return d->err;
		if (rc == 0)
			break;
	}
	if (!stopping && d->inpos < d->inlen) {
		d->line++;
		bad(d, "truncated record (%zu bytes without the final newline)",
		    d->inlen - d->inpos);
		return EX_DATAERR;
	}
	if (d->t.open)
		drop_trx(d, stopping ? "stopped by a signal"
		                     : "the input "
		                       "ended before its commit");
	seal(d, "eof");
	return d->err;
}

/* ---- main ---------------------------------------------------------- */

/* The options and SRDF_DEDUP_VERIFY into *cf; exits on a usage error,
 * --help, --version. */
static void
parse_options(int argc, char **argv, struct config *cf)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"max-bytes", required_argument, NULL, 'b'},
	    {"max-events", required_argument, NULL, 'e'},
	    {"solo-rows", required_argument, NULL, 's'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"window", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	const char *env;
	int ch;

	cf->window_ms = 1000;
	cf->max_events = 100000;
	cf->max_bytes = 16ULL << 20;
	cf->solo_rows = 1000;
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			cf->max_bytes =
			    opt_size(optarg, "--max-bytes", 1, ULLONG_MAX);
			break;
		case 'e':
			cf->max_events =
			    opt_count(optarg, "--max-events", 1, UINT_MAX);
			break;
		case 's':
			cf->solo_rows =
			    opt_count(optarg, "--solo-rows", 0, UINT_MAX);
			break;
		case 'w':
			cf->window_ms =
			    opt_duration(optarg, "--window", 0, LLONG_MAX);
			break;
		case 'v':
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, "srdf-dedup", usage);
		}
	}
	opt_no_operands(argc, usage);
	env = getenv("SRDF_DEDUP_VERIFY");
	cf->verify = env != NULL && *env != '\0' && strcmp(env, "0") != 0;
}

static void
dedup_free(struct dedup *d)
{
	fold_free(&d->fold);
	scanner_free(&d->sc);
	free(d->in);
	gtid_pos_free(&d->pos);
	free(d->t.rec);
	buf_free(&d->t.arena);
	buf_free(&d->t.keys);
	buf_free(&d->out);
	buf_free(&d->tmp);
}

int
main(int argc, char **argv)
{
	struct config cf = {0};
	struct dedup d = {0};
	int rc;

	log_init(argv[0]);
	xalloc_big_buffers();
	parse_options(argc, argv, &cf);
	/* SIGTERM and SIGINT end the run at a group boundary (on_signal);
	 * a reader of stdout that goes is a write error, not a signal. */
	tool_catch(on_signal);
	d.cf = &cf;
	rc = run(&d);
	if (rc == 0)
		log_info("end of input: %" PRIu64 " groups, %" PRIu64
		         " transactions, %" PRIu64 " row changes in, %" PRIu64
		         " out%s",
		    d.tot_groups, d.tot_trx, d.tot_in, d.tot_out,
		    d.dropped ? ", incomplete transactions dropped" : "");
	dedup_free(&d);
	return rc;
}
