/*
 * srdf-bootstrap — copy the existing databases of a MariaDB source, from
 * one consistent snapshot taken without locks, as srdf-record(5) groups
 * for srdf-seal, and record the snapshot's GTID position so that
 * srdf-capture continues exactly there.
 *
 * Design rationale.
 *
 * One snapshot.  START TRANSACTION WITH CONSISTENT SNAPSHOT, then
 * binlog_snapshot_file/position and BINLOG_GTID_POS() of them: the GTID
 * position G that corresponds exactly to what the snapshot sees (never
 * @@gtid_binlog_pos, read beside it, which races with commits).  Every
 * row group carries gtid_pos G, so srdf-seal's last_sealed_gtid becomes
 * G and srdf-capture reads the binlog from G on: no gap (every commit
 * after G is in the binlog after G), no overlap (every commit up to G is
 * in the copy).  bootstrap_gtid is written to the ledger first, for a
 * capture started early.  Capture's groups are folded and carry no
 * per-row GTID, so every table must be copied at one position: there
 * is no per-table position the target could filter on.
 *
 * Parallel readers (--parallel N).  MariaDB cannot share a snapshot
 * between connections, so N connections start their snapshots at the
 * same instant and are used together only when all report the same
 * binlog_snapshot_file/position: two InnoDB snapshots at one binlog
 * position see the same commits.  Under a write load that may take a few
 * tries; after them, the largest set of connections that agree is used
 * (at worst one).  A reader streams whole tables; the main thread alone
 * writes stdout and the ledger.
 *
 * Metadata locks and DDL.  A snapshot does not isolate DDL.  Each table's
 * definition is hashed (SHOW CREATE TABLE without AUTO_INCREMENT=n)
 * before the snapshot, after it, and before and after the table's copy;
 * a difference, or "Table definition has changed", means a DDL reached
 * the table after G: its rows cannot be read as of G any more.  The
 * other tables go on; then that table is copied again alone at a new
 * snapshot G_T, and its CREATE OR REPLACE names it ("redo") so that
 * srdf-apply skips its changes up to G_T, the DDL among them, which the
 * copy holds (redo_changed).  A table without a primary key, a table
 * gone, or a table of the selection created, dropped or renamed
 * meanwhile (a rename moves rows between names) makes the whole copy
 * start over at a new snapshot instead; after MAX_START_OVERS of either
 * it gives up with 75.  A DDL on a table already read waits for the
 * snapshot's metadata lock until the run ends, as with mariadb-dump
 * --single-transaction.
 *
 * Resume.  Before a group goes to stdout, the ledger records which table
 * and key range it holds (meta "bootstrap_table:DB.TABLE": the last 64
 * chunks with their group numbers and last keys).  srdf-seal records each
 * wagon's group number, so after a kill the groups that really were
 * sealed are known exactly.  A rerun takes a new snapshot G' and copies
 * only what was not sealed, from G': unfinished tables with a primary key
 * go on after their last sealed key, tables not begun are copied whole.
 * Tables done earlier are as of G (or an earlier G'), and capture still
 * starts at G, so on the target the wagons of the window (G, G'] meet
 * rows that already hold some of their effects.  That is correct when
 * srdf-apply applies them idempotently (insert or update: the row
 * becomes the after-image, whatever it was; delete: the row is gone,
 * whether or not it was there): each row ends as its last change in the
 * window made it, and a row with no change in the window was the same at
 * G and G'.  Every bootstrap group says how far that window reaches
 * ("snapshot_gtid": G').  The argument needs (a) a primary key: a table
 * without one is copied first and must be finished at the first
 * snapshot, (b) no DDL in the window on a table copied at G': both are
 * checked; a table with a primary key that a DDL reached is copied again
 * whole at G' as above, anything else starts the copy over, which is
 * always correct.  srdf-apply's side is in srdf-bootstrap(1).
 *
 * Order of the output: databases, tables (CREATE OR REPLACE), routines,
 * views (dependency order), then the rows (tables without a primary key
 * first), then the triggers, last, so that they never fire on the copied
 * rows.
 *
 * What it refuses to do: lock tables (no FLUSH TABLES WITH READ LOCK),
 * copy from a source without a binlog (no position to continue from),
 * resume with another selection than the copy it would continue, or
 * skip a table it cannot read.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <mysqld_error.h>

#include "audit.h"
#include "bootstrap.h"
#include "fault.h"
#include "heartbeat.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "opt.h"
#include "sql.h"
#include "tool.h"
#include "xalloc.h"

#define DEFAULT_CHUNK_ROWS 10000
#define DEFAULT_MAX_LAG_MS 1000 /* --max-lag (resync.c) */
#define DEFAULT_CHUNK_BYTES (32ULL << 20)
#define MAX_PARALLEL 64
#define SNAPSHOT_TRIES 20 /* to get all --parallel snapshots at one position */
#define PLAN_TRIES 5      /* a DDL between the two definition reads */
#define MAX_START_OVERS 5 /* a DDL during the copy: rounds of each kind */
#define RING 64           /* chunks remembered per table */
#define START_OVER (-1)

atomic_int stopping;
static volatile sig_atomic_t signalled;

/* Chunks of small tables gathered into one group (emit_chunk). */
struct rowpack {
	struct buf body;   /* their insert records */
	uint64_t rows;     /* ... how many */
	int g;             /* its group number, 0: none taken yet */
	struct ttable **t; /* the tables whose records go with it */
	int nt, ntables;   /* how many; how many with rows in it */
	size_t cap;
};

struct bootstrap {
	const struct config *cf;
	MYSQL *meta; /* autocommit, utf8mb4 results */
	struct ledger *l;
	json_t *prog;      /* meta "bootstrap_progress" */
	const char *gtid1; /* where capture starts (in prog) */
	char first[48];    /* first_gtid/last_gtid of every group */
	char *snap;        /* this run's snapshot position */
	time_t ts;
	int next_group;
	int force_fresh;
	char *fresh_why;
	/* The tables of copies this run abandoned (a start over), whose
	 * CREATE may have reached the output: "db.table" strings. */
	json_t *abandoned;
	/* The routines and views, and the triggers, as of the snapshot
	 * (objects_read); the triggers go to the ledger with the progress
	 * record that begins the copy (trig_rec, once) and out at its end. */
	struct ddl_list objs, trig;
	json_t *trig_rec;

	struct ttable **t;
	int nt;
	struct reader *rd;
	int nrd;
	struct pipe pipe;

	struct rowpack rp; /* the group of small chunks (emit_chunk) */

	struct buf line;
	double t0, last_report;
	uint64_t rows, bytes, est_rows;
	int tables_done;
	int failed; /* fail() was called: see "Error handling" */
};

static void
on_signal(int sig)
{
	(void)sig;
	signalled = 1;
	atomic_store(&stopping, 1);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-bootstrap [-v] [--defaults-file file] "
	    "[--defaults-group group] [--dir dir]\n"
	    "                      [--databases pattern] [--include pattern]... "
	    "[--exclude pattern]...\n"
	    "                      [--parallel n] [--chunk-rows n] "
	    "[--chunk-bytes size] [--restart]\n"
	    "                      [--skip-routines] [--skip-triggers] "
	    "[--skip-views] [--skip-events]\n"
	    "       srdf-bootstrap [-v] [--defaults-file file] [--dir dir] "
	    "[--chunk-rows n]\n"
	    "                      [--resync-spool n] [--max-lag time] "
	    "--resync db.table | --add pattern\n"
	    "       srdf-bootstrap --help | --version\n");
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A string member of a JSON object, "" when absent. */
static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* ---- errors ------------------------------------------------------------ */

/*
 * Error handling.  Only main() exits.  The main thread's functions
 * return 0 or a sysexits(3) code (srdf-bootstrap(1), EXIT STATUS) with
 * the reason logged at <3> (the line log.h's die writes); the callers
 * return it unchanged up to run() and main().  A reader thread's error
 * is its reader's `failed' (rows.c).  fail() also sets b->failed (and so
 * do the callers of schema.c and maria_connect, which log their own
 * errors), so that main() does not add its signal notice to the
 * message.
 */
#define fail(b, ex, ...) ((b)->failed = 1, log_fail((ex), __VA_ARGS__))

/* ---- output ------------------------------------------------------------ */

static int
out(struct bootstrap *b, const void *p, size_t n)
{
	if (write_all(STDOUT_FILENO, p, n) < 0)
		return fail(b, EX_IOERR, "cannot write records to stdout: %s%s",
		    strerror(errno),
		    errno == EPIPE ? " (the reader of stdout "
		                     "has gone: srdf-seal died?)"
		                   : "");
	return 0;
}

static int
group_begin(struct bootstrap *b, int g, const struct ttable *t)
{
	struct buf *l = &b->line;

	l->len = 0;
	buf_printf(l,
	    "{\"v\":1,\"type\":\"group_begin\",\"group\":%d,"
	    "\"chunk\":1,\"first_gtid\":\"%s\",\"bootstrap\":true",
	    g, b->first);
	if (t != NULL) {
		buf_lit(l, ",\"db\":");
		buf_json_str(l, t->m.db, strlen(t->m.db));
		buf_lit(l, ",\"table\":");
		buf_json_str(l, t->m.name, strlen(t->m.name));
	}
	buf_lit(l, "}\n");
	return out(b, l->p, l->len);
}

/* The group_end of group g (srdf-record(5)); redo: the table this
 * group's CREATE OR REPLACE TABLE copies again, or NULL. */
static int
group_end(struct bootstrap *b, int g, uint64_t events, const char *reason,
    const struct ttable *redo)
{
	struct buf *l = &b->line;

	l->len = 0;
	buf_printf(l,
	    "{\"v\":1,\"type\":\"group_end\",\"group\":%d,\"chunk\":1,"
	    "\"last\":true,\"first_gtid\":\"%s\",\"last_gtid\":\"%s\","
	    "\"gtid_pos\":",
	    g, b->first, b->first);
	buf_json_str(l, b->gtid1, strlen(b->gtid1));
	buf_printf(l,
	    ",\"trx\":0,\"events_in\":%" PRIu64 ",\"events_out\":%" PRIu64
	    ",\"reason\":\"%s\",\"first_ts\":%lld,"
	    "\"last_ts\":%lld,\"bootstrap\":true,\"snapshot_gtid\":",
	    events, events, reason, (long long)b->ts, (long long)b->ts);
	buf_json_str(l, b->snap, strlen(b->snap));
	if (redo != NULL) {
		buf_lit(l, ",\"redo\":{\"db\":");
		buf_json_str(l, redo->m.db, strlen(redo->m.db));
		buf_lit(l, ",\"table\":");
		buf_json_str(l, redo->m.name, strlen(redo->m.name));
		buf_putc(l, '}');
	}
	buf_lit(l, "}\n");
	return out(b, l->p, l->len);
}

/* One group of one "ddl" record: rec, len bytes with its newline. */
static int
write_ddl_record(struct bootstrap *b, const char *rec, size_t len,
    const char *object, const char *name, const struct ttable *redo)
{
	int g = b->next_group++, ex;

	if (signalled)
		return fail(b, EX_TEMPFAIL,
		    "stopped by a signal; run "
		    "srdf-bootstrap again to resume the copy");
	if ((ex = group_begin(b, g, NULL)) != 0 ||
	    (ex = out(b, rec, len)) != 0 ||
	    (ex = group_end(b, g, 1, "ddl", redo)) != 0)
		return ex;
	log_debug("group %d: %s %s", g, object, name);
	return 0;
}

/* ---- packed DDL groups ------------------------------------------------ */

/* Statements of the copy that need no group of their own (the schema,
 * the tables recreated on resume, the triggers) go DDL_PACK to a group,
 * at most DDL_PACK_BYTES of records: a source of 10,000 small tables
 * makes 40 wagons of schema, not 10,000 (srdf-bootstrap(1), "Many
 * small tables").  srdf-apply runs them in order and records how many
 * of a wagon's statements were applied (srdf-apply(1), "DDL"). */
#define DDL_PACK 256
#define DDL_PACK_BYTES (1U << 20)

struct ddlpack {
	struct buf recs; /* the records of the group being filled */
	int n;           /* ... how many */
};

/* Whether a record of len bytes starts a new group after n records of
 * bytes bytes. */
static int
pack_full(int n, size_t bytes, size_t len)
{
	return n > 0 && (n >= DDL_PACK || bytes + len > DDL_PACK_BYTES);
}

/* The groups that records of lens[0..n) make, packed. */
static int
pack_groups(const size_t *lens, int n)
{
	size_t bytes = 0;
	int groups = 0, k = 0;

	for (int i = 0; i < n; i++) {
		if (k == 0 || pack_full(k, bytes, lens[i])) {
			groups++;
			k = 0;
			bytes = 0;
		}
		k++;
		bytes += lens[i];
	}
	return groups;
}

/* The group being filled, written (nothing when empty). */
static int
pack_flush(struct bootstrap *b, struct ddlpack *p)
{
	int g, ex;

	if (p->n == 0)
		return 0;
	if (signalled)
		return fail(b, EX_TEMPFAIL,
		    "stopped by a signal; run "
		    "srdf-bootstrap again to resume the copy");
	g = b->next_group++;
	if ((ex = group_begin(b, g, NULL)) != 0 ||
	    (ex = out(b, p->recs.p, p->recs.len)) != 0 ||
	    (ex = group_end(b, g, (uint64_t)p->n, "ddl", NULL)) != 0)
		return ex;
	log_debug("group %d: %d statements of schema", g, p->n);
	p->recs.len = 0;
	p->n = 0;
	return 0;
}

/* Record rec (len bytes with its newline) into the group being filled,
 * which is written first when rec would not fit. */
static int
pack_add(struct bootstrap *b, struct ddlpack *p, const char *rec, size_t len)
{
	int ex;

	if (pack_full(p->n, p->recs.len, len) && (ex = pack_flush(b, p)) != 0)
		return ex;
	buf_add(&p->recs, rec, len);
	p->n++;
	return 0;
}

/* The "ddl" records of l, one per statement, into recs (l->n of them,
 * the caller's to free with recs_free) and their lengths into lens. */
static void
ddl_records(const struct ddl_list *l, struct buf **recs, size_t **lens)
{
	*recs = xcalloc((size_t)l->n + 1, sizeof **recs);
	*lens = xcalloc((size_t)l->n + 1, sizeof **lens);
	for (int i = 0; i < l->n; i++) {
		ddl_record(&(*recs)[i], &l->v[i]);
		(*lens)[i] = (*recs)[i].len;
	}
}

static void
recs_free(struct buf *recs, size_t *lens, int n)
{
	for (int i = 0; i < n; i++)
		buf_free(&recs[i]);
	free(recs);
	free(lens);
}

/* The records recs[0..n), packed into groups. */
static int
write_packed(struct bootstrap *b, const struct buf *recs, int n)
{
	struct ddlpack p = {0};
	int ex = 0;

	for (int i = 0; i < n && ex == 0; i++)
		ex = pack_add(b, &p, recs[i].p, recs[i].len);
	if (ex == 0)
		ex = pack_flush(b, &p);
	buf_free(&p.recs);
	return ex;
}

static int
write_ddl(struct bootstrap *b, const struct ddl *d, const struct ttable *redo)
{
	struct buf r = {0};
	int ex;

	ddl_record(&r, d);
	ex = write_ddl_record(b, r.p, r.len, d->object, d->name, redo);
	buf_free(&r);
	return ex;
}

/* ---- ledger ------------------------------------------------------------- */

/* The ledger's error rc while doing what: EX_IOERR. */
static int
ledger_fail(struct bootstrap *b, const char *what, int rc)
{
	return fail(b, EX_IOERR, "cannot %s in the ledger: %s", what,
	    ledger_strerror(rc));
}

/* The JSON object of meta key into *j (the caller's reference; NULL
 * when the key is absent). */
static int
meta_json(struct bootstrap *b, const char *key, json_t **j)
{
	struct ledger_txn *t = NULL;
	char *v = NULL;
	int rc;

	*j = NULL;
	if ((rc = ledger_txn_begin(b->l, LEDGER_RDONLY, &t)) != 0 ||
	    (rc = ledger_meta_get(t, key, &v)) != 0) {
		if (t != NULL)
			ledger_txn_abort(t);
		return ledger_fail(b, "read the progress", rc);
	}
	ledger_txn_abort(t);
	if (v != NULL) {
		*j = json_loads(v, 0, NULL);
		free(v);
		if (!json_is_object(*j)) {
			json_decref(*j);
			*j = NULL;
			return fail(b, EX_DATAERR,
			    "the ledger's %s is not a "
			    "JSON object; use --restart to copy afresh",
			    key);
		}
	}
	return 0;
}

static int
meta_put_json(
    struct bootstrap *b, struct ledger_txn *t, const char *key, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	int rc;

	if (s == NULL)
		return fail(b, EX_OSERR, "out of memory");
	rc = ledger_meta_put(t, key, s);
	free(s);
	if (rc != 0)
		return ledger_fail(b, "record the progress", rc);
	return 0;
}

static void
table_key(char *k, size_t n, const struct ttable *t)
{
	snprintf(k, n, "bootstrap_table:%s", t->key);
}

/* The records of the progress record's keys into transaction x. */
static int
save_progress(struct bootstrap *b, struct ledger_txn *x)
{
	int rc, ex;

	if ((ex = meta_put_json(b, x, "bootstrap_progress", b->prog)) != 0)
		return ex;
	if ((rc = ledger_meta_put(x, "bootstrap_gtid", b->gtid1)) != 0)
		return ledger_fail(b, "record bootstrap_gtid", rc);
	if (b->trig_rec != NULL)
		return meta_put_json(b, x, "bootstrap_triggers", b->trig_rec);
	return 0;
}

/* Stores t's record, and the progress record when prog. */
static int
save(struct bootstrap *b, struct ttable **t, int nt, int prog)
{
	struct ledger_txn *x;
	char key[700];
	int rc, ex = 0;

	if ((rc = ledger_txn_begin(b->l, 0, &x)) != 0)
		return ledger_fail(b, "record the progress", rc);
	for (int i = 0; i < nt && ex == 0; i++) {
		table_key(key, sizeof key, t[i]);
		ex = meta_put_json(b, x, key, t[i]->prog);
	}
	if (ex == 0 && prog)
		ex = save_progress(b, x);
	if (ex != 0) {
		ledger_txn_abort(x);
		return ex;
	}
	if ((rc = ledger_txn_commit(x)) != 0)
		return ledger_fail(b, "record the progress", rc);
	if (prog && b->trig_rec != NULL) {
		json_decref(b->trig_rec);
		b->trig_rec = NULL;
	}
	return 0;
}

/* The groups srdf-seal sealed since the copy began: seal records each
 * wagon's group number.  Sets *sealed to the highest group of ours, in
 * unbroken order from 1; returns 1 when a wagon that is not ours follows
 * them (a capture pipeline sealed meanwhile), else 0. */
struct scan {
	const char *first;
	int64_t sealed;
	int foreign;
	uint64_t from; /* the first sequence looked at */
	int purged;    /* the records from there on are gone: confirmed
			 * long enough ago, srdf-ackd removed them */
};

static int
scan_wagon(uint64_t seq, json_t *w, void *arg)
{
	struct scan *s = arg;
	const char *reason = json_string_value(json_object_get(w, "reason"));
	const char *first = json_string_value(json_object_get(w, "first_gtid"));
	json_int_t g = json_integer_value(json_object_get(w, "group"));

	int ours;

	if (seq > s->from && s->sealed == 0 && !s->foreign)
		s->purged = 1;
	s->from = UINT64_MAX;
	ours = reason != NULL && first != NULL &&
	       (strcmp(reason, "bootstrap") == 0 || strcmp(reason, "ddl") == 0);
	if (ours && strcmp(first, s->first) == 0 && g == 1) {
		s->sealed = 1; /* the numbering begins (again): a copy that
				* started over in the same process */
		return 0;
	}
	if (ours && s->sealed == 0)
		return 0; /* an abandoned run's groups, sealed late */
	if (!ours || strcmp(first, s->first) != 0 || g != s->sealed + 1) {
		s->foreign = 1;
		return 1;
	}
	s->sealed = g;
	return 0;
}

/* The groups sealed after wagon base into *sealed (struct scan). */
static int
sealed_groups(struct bootstrap *b, uint64_t base, const char *first,
    int64_t *sealed, int *foreign, int *purged)
{
	struct ledger_txn *t;
	struct scan s = {first, 0, 0, base + 1, 0};
	int rc;

	if ((rc = ledger_txn_begin(b->l, LEDGER_RDONLY, &t)) != 0)
		return ledger_fail(b, "read the wagons", rc);
	rc = ledger_wagon_foreach(t, base + 1, scan_wagon, &s);
	ledger_txn_abort(t);
	if (rc != 0 && rc != 1)
		return ledger_fail(b, "read the wagons", rc);
	*sealed = s.sealed;
	*foreign = s.foreign;
	*purged = s.purged;
	return 0;
}

/* The sequence of the ledger's last wagon into *seq (0: none). */
static int
last_seq(struct bootstrap *b, uint64_t *seq)
{
	struct ledger_txn *t = NULL;
	int rc;

	*seq = 0;
	if ((rc = ledger_txn_begin(b->l, LEDGER_RDONLY, &t)) != 0 ||
	    (rc = ledger_wagon_last_seq(t, seq)) != 0) {
		if (t != NULL)
			ledger_txn_abort(t);
		return ledger_fail(b, "read the wagons", rc);
	}
	ledger_txn_abort(t);
	return 0;
}

/* ---- connections ------------------------------------------------------ */

/* Query q on my: 0, or the exit code for the server's error. */
static int
exec(struct bootstrap *b, MYSQL *my, const char *q)
{
	if (mysql_query(my, q) != 0)
		return fail(b, maria_exit_for(mysql_errno(my)), "%s: %s", q,
		    mysql_error(my));
	return 0;
}

/* A connection to the source into *my: 0, or maria_connect's exit code
 * (the reason logged). */
static int
source_connect(struct bootstrap *b, MYSQL **my)
{
	int ex;

	if ((*my = maria_connect(b->cf->defaults_file, b->cf->group,
	         "the source", 0, &ex)) == NULL) {
		b->failed = 1; /* maria_connect logged why */
		return ex;
	}
	return 0;
}

/* The session of a reader into *my: a REPEATABLE READ snapshot (the
 * only level at which WITH CONSISTENT SNAPSHOT means anything), exact
 * bytes, UTC, and patience while stdout's reader is slow. */
static int
reader_connect(struct bootstrap *b, MYSQL **my)
{
	int ex;

	if ((ex = source_connect(b, my)) != 0 ||
	    (ex = exec(b, *my,
	         "SET SESSION TRANSACTION ISOLATION LEVEL "
	         "REPEATABLE READ")) != 0 ||
	    (ex = exec(b, *my,
	         "SET SESSION time_zone='+00:00', "
	         "sql_mode='NO_ENGINE_SUBSTITUTION', "
	         "character_set_results=binary, "
	         "net_write_timeout=3600, net_read_timeout=3600, "
	         "wait_timeout=604800, "
	         "max_statement_time=0")) != 0)
		return ex;
	return 0;
}

struct snapshot {
	MYSQL *my;
	pthread_barrier_t *bar;
	char file[256];
	unsigned long long pos;
	int ok;
};

static void *
snapshot_take(void *arg)
{
	struct snapshot *s = arg;
	MYSQL_RES *r;
	MYSQL_ROW row;

	s->ok = 0;
	if (s->bar != NULL)
		pthread_barrier_wait(s->bar);
	if (mysql_query(s->my, "START TRANSACTION WITH CONSISTENT SNAPSHOT") !=
	    0)
		return NULL;
	if (mysql_query(s->my, "SHOW STATUS LIKE 'binlog_snapshot_%'") != 0 ||
	    (r = mysql_store_result(s->my)) == NULL)
		return NULL;
	while ((row = mysql_fetch_row(r)) != NULL) {
		if (row[0] == NULL || row[1] == NULL)
			continue;
		if (strcasecmp(row[0], "Binlog_snapshot_file") == 0)
			snprintf(s->file, sizeof s->file, "%s", row[1]);
		else if (strcasecmp(row[0], "Binlog_snapshot_position") == 0) {
			s->pos = strtoull(row[1], NULL, 10);
			s->ok++;
		}
	}
	mysql_free_result(r);
	s->ok = s->ok == 1 && s->file[0] != '\0';
	return NULL;
}

static int
same_pos(const struct snapshot *a, const struct snapshot *b)
{
	return a->ok && b->ok && a->pos == b->pos &&
	       strcmp(a->file, b->file) == 0;
}

static void
close_readers(struct bootstrap *b)
{
	for (int i = 0; i < b->nrd; i++)
		if (b->rd[i].my != NULL) {
			mysql_close(b->rd[i].my);
			b->rd[i].my = NULL;
		}
	free(b->rd);
	b->rd = NULL;
	b->nrd = 0;
}

/* Warns of the XA transactions prepared on the source (XA RECOVER) when
 * the snapshot at GTID position pos was taken: one prepared before it is
 * neither in the copy (a snapshot does not see it) nor after pos in the
 * binlog, so its XA COMMIT would fail srdf-apply (srdf-apply(1),
 * CAVEATS).  XA RECOVER cannot tell when each was prepared. */
static void
xa_prepared(MYSQL *my, const char *pos)
{
	struct buf l = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;
	unsigned long n;

	if (mysql_query(my, "XA RECOVER FORMAT='SQL'") != 0 ||
	    (r = mysql_store_result(my)) == NULL)
		return; /* an older server, or no right to ask */
	n = (unsigned long)mysql_num_rows(r);
	while ((row = mysql_fetch_row(r)) != NULL && l.len < 200) {
		if (l.len > 0)
			buf_lit(&l, "; ");
		buf_puts(&l, row[3] ? row[3] : ""); /* XID in SQL form */
	}
	mysql_free_result(r);
	if (n > 0) {
		buf_putc(&l, '\0');
		log_warn(
		    "%lu XA transaction%s prepared on the source at the "
		    "snapshot (%s%s): one prepared before GTID position '%s' "
		    "is not in the copy, and its XA COMMIT will stop "
		    "srdf-apply; if so, commit or roll it back on the source "
		    "and run "
		    "srdf-bootstrap --restart",
		    n, n == 1 ? " is" : "s are", l.p,
		    l.len > 200 ? "; ..." : "", pos);
	}
	buf_free(&l);
}

/* Starts a snapshot on each of the n connections s at one instant (a
 * barrier) and returns the index of one of the largest set that agree
 * on the binlog position, with its size in *bestn; -1 when none started
 * one; -2 when a thread could not be started (fail(), EX_OSERR): the
 * threads started then wait at the barrier until the process exits, so
 * s and the barrier are left allocated. */
static int
snapshot_round(
    struct bootstrap *b, struct snapshot *s, pthread_t *tid, int n, int *bestn)
{
	pthread_barrier_t *bar;
	int best = -1;

	if (n == 1)
		snapshot_take(&s[0]);
	else {
		bar = xcalloc(1, sizeof *bar);
		pthread_barrier_init(bar, NULL, (unsigned)n);
		for (int i = 0; i < n; i++) {
			s[i].bar = bar;
			if (pthread_create(
			        &tid[i], NULL, snapshot_take, &s[i]) != 0) {
				fail(b, EX_OSERR, "cannot start a thread");
				return -2;
			}
		}
		for (int i = 0; i < n; i++)
			pthread_join(tid[i], NULL);
		pthread_barrier_destroy(bar);
		free(bar);
	}
	*bestn = 0;
	for (int i = 0; i < n; i++) {
		int k = 0;

		for (int j = 0; j < n; j++)
			k += same_pos(&s[i], &s[j]);
		if (k > *bestn) {
			*bestn = k;
			best = i;
		}
	}
	return best;
}

/* The GTID position of snapshot s into b->snap (with b->ts), asked on
 * b->rd[0]. */
static int
snapshot_gtid(struct bootstrap *b, const struct snapshot *s)
{
	struct buf q = {0};
	char *g;
	int ex = 0;

	buf_lit(&q, "SELECT BINLOG_GTID_POS('");
	maria_escape(&q, s->file);
	buf_printf(&q, "', %llu)", s->pos);
	buf_putc(&q, '\0');
	g = maria_query_one(b->rd[0].my, q.p);
	if (g == NULL)
		ex = fail(
		    b, EX_UNAVAILABLE, "%s: %s", q.p, mysql_error(b->rd[0].my));
	else if (*g == '\0')
		ex = fail(b, EX_CONFIG,
		    "the source's binlog holds no GTID at "
		    "%s:%llu yet, so there is no position for srdf-capture to "
		    "continue from: commit one transaction on the source and "
		    "run srdf-bootstrap again",
		    s->file, s->pos);
	buf_free(&q);
	if (ex != 0) {
		free(g);
		return ex;
	}
	free(b->snap);
	b->snap = g;
	b->ts = time(NULL);
	log_info("snapshot at %s:%llu, GTID position '%s'%s", s->file, s->pos,
	    g, b->nrd > 1 ? ", shared by every reader" : "");
	xa_prepared(b->rd[0].my, g);
	return 0;
}

/* Opens the readers, all in one consistent snapshot; sets b->snap. */
static int
snapshots(struct bootstrap *b)
{
	const struct config *cf = b->cf;
	int n = cf->parallel, best = 0, bestn = 0, ex = 0;
	struct snapshot *s = xcalloc((size_t)n, sizeof *s);
	pthread_t *tid = xcalloc((size_t)n, sizeof *tid);

	for (int i = 0; i < n && ex == 0; i++)
		ex = reader_connect(b, &s[i].my);
	for (int attempt = 1; ex == 0; attempt++) {
		if ((best = snapshot_round(b, s, tid, n, &bestn)) == -2)
			return EX_OSERR; /* s, tid stay: see snapshot_round */
		if (best < 0)
			ex = fail(b, EX_UNAVAILABLE,
			    "cannot start a consistent "
			    "snapshot on the source: %s",
			    mysql_error(s[0].my));
		else if (bestn == n || attempt >= SNAPSHOT_TRIES)
			break;
		else
			for (int i = 0; i < n; i++)
				mysql_query(s[i].my, "ROLLBACK");
	}
	if (ex != 0) {
		for (int i = 0; i < n; i++)
			if (s[i].my != NULL)
				mysql_close(s[i].my);
		free(s);
		free(tid);
		return ex;
	}
	if (bestn < n)
		log_notice("%d of %d connections share one snapshot after %d "
		           "tries (the source commits between them): copying "
		           "with %d reader%s",
		    bestn, n, SNAPSHOT_TRIES, bestn, bestn == 1 ? "" : "s");
	b->nrd = 0;
	b->rd = xcalloc((size_t)bestn, sizeof *b->rd);
	for (int i = 0; i < n; i++) {
		if (same_pos(&s[i], &s[best])) {
			b->rd[b->nrd].cf = cf;
			b->rd[b->nrd++].my = s[i].my;
		} else
			mysql_close(s[i].my);
	}
	ex = snapshot_gtid(b, &s[best]);
	free(s);
	free(tid);
	return ex;
}

/* ---- the plan ---------------------------------------------------------- */

static void
table_free(struct ttable *t)
{
	if (t->after != NULL)
		for (int i = 0; i < t->m.npk; i++)
			free(t->after[i]);
	free(t->after);
	if (t->jname != NULL)
		for (int j = 0; j < t->m.ncols; j++)
			buf_free(&t->jname[j]);
	free(t->jname);
	maria_table_free(&t->m);
	free(t->key);
	free(t->create);
	buf_free(&t->head);
	buf_free(&t->query);
	json_decref(t->prog);
	free(t);
}

/* Forgets what was copied of t: it is copied whole next. */
static void
table_reset(struct ttable *t)
{
	json_decref(t->prog);
	t->prog = NULL;
	t->done = 0;
	t->rows = t->bytes = t->run_rows = 0;
	t->recreate = t->redo = 0;
	t->changed = t->whole = 0;
	t->last_group = 0;
	if (t->after != NULL) {
		for (int k = 0; k < t->m.npk; k++)
			free(t->after[k]);
		free(t->after);
		t->after = NULL;
	}
}

static void
plan_free(struct bootstrap *b)
{
	for (int i = 0; i < b->nt; i++)
		table_free(b->t[i]);
	free(b->t);
	b->t = NULL;
	b->nt = 0;
}

/* The selected base tables with their definitions (not yet columns),
 * appended to *v (*n of them).  A SEQUENCE is one of them, listed first
 * since a table's DEFAULT NEXTVAL(s) needs s to exist: SHOW CREATE TABLE
 * gives it as CREATE TABLE ... SEQUENCE=1, which creates it, and its one
 * row without a key, inserted, sets its state, as srdf-capture writes
 * every change of it. */
/* Whether system-versioned table db.name keeps its history by
 * transaction id: its ROW END column is a BIGINT UNSIGNED (MariaDB docs,
 * "System-Versioned Tables", transaction-precise history).  Asked of
 * the one table, as information_schema answers fast only so. */
static int
versioned_by_trx(MYSQL *my, const char *db, const char *name)
{
	struct buf q = {0};
	char *v;
	int yes;

	buf_lit(&q, "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE "
	            "GENERATION_EXPRESSION = 'ROW END' AND ");
	maria_table_where(&q, db, name);
	buf_putc(&q, '\0');
	v = maria_query_one(my, q.p);
	yes = v != NULL && strcmp(v, "bigint") == 0;
	free(v);
	buf_free(&q);
	return yes;
}

static int
plan_list_into(struct bootstrap *b, struct ttable ***v, int *n)
{
	const struct config *cf = b->cf;
	MYSQL_RES *r;
	MYSQL_ROW row;
	size_t cap = (size_t)*n; /* *v holds exactly *n */
	int ex;

	if (mysql_query(b->meta,
	        "SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE, "
	        "TABLE_ROWS, DATA_LENGTH, TABLE_TYPE FROM "
	        "information_schema.TABLES WHERE TABLE_TYPE IN "
	        "('BASE TABLE','SEQUENCE','SYSTEM VERSIONED') "
	        "ORDER BY TABLE_TYPE <> 'SEQUENCE', 1, 2") != 0 ||
	    (r = mysql_store_result(b->meta)) == NULL)
		return fail(b, maria_exit_for(mysql_errno(b->meta)),
		    "cannot "
		    "list the source's tables: %s",
		    mysql_error(b->meta));
	while ((row = mysql_fetch_row(r)) != NULL) {
		struct ttable *t;
		char key[300];
		unsigned e;

		if (!maria_selected(cf->databases, cf->include, cf->ninclude,
		        cf->exclude, cf->nexclude, row[0], row[1]))
			continue;
		if (row[2] != NULL && strcasecmp(row[2], "InnoDB") != 0)
			log_warn(
			    "%s.%s uses %s, not InnoDB: the snapshot does "
			    "not cover it, its rows are copied as they are "
			    "when read",
			    row[0], row[1], row[2]);
		if (row[5] != NULL && strcmp(row[5], "SYSTEM VERSIONED") == 0 &&
		    versioned_by_trx(b->meta, row[0], row[1]))
			log_warn("%s.%s is system-versioned by transaction "
			         "id: MariaDB writes its changes to the binlog "
			         "as statements, which srdf-capture refuses; "
			         "leave it out with --exclude '%s.%s' here and "
			         "for srdf-capture",
			    row[0], row[1], row[0], row[1]);
		t = xcalloc(1, sizeof *t);
		snprintf(key, sizeof key, "%s.%s", row[0], row[1]);
		t->key = xstrdup(key);
		t->m.db = xstrdup(row[0]);
		t->m.name = xstrdup(row[1]);
		t->est_rows = row[3] ? strtoull(row[3], NULL, 10) : 0;
		t->est_bytes = row[4] ? strtoull(row[4], NULL, 10) : 0;
		{
			char *h =
			    table_def(b->meta, row[0], row[1], &t->create, &e);

			if (h == NULL) {
				if (e == ER_NO_SUCH_TABLE) { /* dropped now */
					free(t->key);
					free(t->m.db);
					free(t->m.name);
					free(t);
					continue;
				}
				ex = fail(b, maria_exit_for(e),
				    "cannot read the "
				    "definition of %s: %s",
				    key, mysql_error(b->meta));
				free(t->key);
				free(t->m.db);
				free(t->m.name);
				free(t);
				mysql_free_result(r);
				return ex;
			}
			snprintf(t->def, sizeof t->def, "%s", h);
			free(h);
		}
		*v = xgrow(*v, &cap, (size_t)*n + 1, sizeof **v);
		(*v)[(*n)++] = t;
	}
	mysql_free_result(r);
	return 0;
}

/* The period columns of system-versioned table m, which maria_table_load
 * leaves out, put back at the end: the copy is of its history too (FOR
 * SYSTEM_TIME ALL, rows.c), each row with its period, which srdf-apply
 * writes as the source's (srdf-apply(1), "System-versioned tables").
 * ROW END also ends the primary key, as MariaDB makes it; a table made
 * WITH SYSTEM VERSIONING alone has them hidden, as row_start and
 * row_end. */
static void
period_columns(struct bootstrap *b, struct maria_table *m)
{
	static const char *const gen[] = {"ROW START", "ROW END"};
	static const char *const hidden[] = {"row_start", "row_end"};
	size_t cap = (size_t)m->ncols; /* m->col holds exactly ncols */

	m->col = xgrow(m->col, &cap, cap + 2, sizeof *m->col);
	for (int i = 0; i < 2; i++) {
		struct maria_col *c = &m->col[m->ncols];
		struct buf q = {0};
		char *v;

		buf_printf(&q,
		    "SELECT COLUMN_NAME FROM information_schema."
		    "COLUMNS WHERE GENERATION_EXPRESSION = '%s' AND ",
		    gen[i]);
		maria_table_where(&q, m->db, m->name);
		buf_putc(&q, '\0');
		v = maria_query_one(b->meta, q.p);
		buf_free(&q);
		memset(c, 0, sizeof *c);
		c->name = v != NULL ? v : xstrdup(hidden[i]);
		c->data_type = xstrdup("timestamp");
		c->kind = MARIA_K_TEMPORAL;
		if (i == 1 && m->npk > 0) /* pk: room for it (maria.c) */
			m->pk[m->npk++] = m->ncols;
		m->ncols++;
	}
	/* Copied whole, its rows with an empty period first (rows.c,
	 * table_set_query), not in key ranges: srdf-apply writes such a row
	 * as current for an instant, which must not meet a current row
	 * holding the same UNIQUE value (srdf-apply(1), "System-versioned
	 * tables"). */
	m->keyset = 0;
}

/* t's columns, read now, for table db.name (both freed here), and its
 * record head and SELECT. */
static int
table_columns(struct bootstrap *b, struct ttable *t, char *db, char *name)
{
	char err[512];
	unsigned e;

	if (maria_table_load(b->meta, db, name, &t->m, &e, err, sizeof err) !=
	    0) {
		free(db);
		free(name);
		return fail(
		    b, e ? maria_exit_for(e) : EX_UNAVAILABLE, "%s", err);
	}
	if (t->m.versioned)
		period_columns(b, &t->m);
	free(db);
	free(name);
	table_prepare(t);
	return 0;
}

/* From this many tables of one database on, their columns are read
 * with three queries for them all (maria_tables_load), not three each:
 * a source of many small tables (srdf-bootstrap(1), "Many small
 * tables"). */
#define BY_SCHEMA 8

/* table_columns for the n tables v, all of one database. */
static int
schema_columns(struct bootstrap *b, struct ttable **v, int n)
{
	struct maria_table **ms = xcalloc((size_t)n, sizeof *ms);
	char **names = xcalloc((size_t)n, sizeof *names), *db, err[512];
	unsigned e;
	int rc;

	db = v[0]->m.db;
	for (int i = 0; i < n; i++) {
		names[i] = v[i]->m.name;
		ms[i] = &v[i]->m;
		if (i > 0)
			free(v[i]->m.db);
		v[i]->m.db = v[i]->m.name = NULL;
	}
	/* each m is filled afresh (its own db and name), or left empty */
	rc = maria_tables_load(b->meta, db, names, ms, n, &e, err, sizeof err);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(db);
	free(names);
	free(ms);
	if (rc != 0)
		return fail(
		    b, e ? maria_exit_for(e) : EX_UNAVAILABLE, "%s", err);
	for (int i = 0; i < n; i++) {
		if (v[i]->m.versioned)
			period_columns(b, &v[i]->m);
		table_prepare(v[i]);
	}
	return 0;
}

/* The selection's routines and views into *o, the triggers of its
 * tables (b->t) into *trg; schema.c logs why they cannot be read. */
static int
objects_read(struct bootstrap *b, struct ddl_list *o, struct ddl_list *trg)
{
	int ex;

	if ((ex = schema_routines(b->meta, b->cf, o)) != 0 ||
	    (ex = schema_views(b->meta, b->cf, o)) != 0 ||
	    (ex = schema_events(b->meta, b->cf, o)) != 0 ||
	    (ex = schema_triggers(b->meta, b->cf, b->t, b->nt, trg)) != 0)
		b->failed = 1;
	return ex;
}

static int
ddl_list_same(const struct ddl_list *a, const struct ddl_list *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name) != 0 ||
		    strcmp(a->v[i].sql, b->v[i].sql) != 0 ||
		    strcmp(a->v[i].tz ? a->v[i].tz : "",
		        b->v[i].tz ? b->v[i].tz : "") != 0 ||
		    a->v[i].sql_mode != b->v[i].sql_mode)
			return 0;
	return 1;
}

static int same_tables(struct bootstrap *b, struct ttable **v, int n);
static struct ttable *plan_find_at(struct bootstrap *b, const char *key, int i);

/* After the snapshot: the tables are the plan's, and every definition
 * is what it was before it (no DDL slipped in between), then the columns
 * are read.  Returns 0, -1 when a table moved (take the snapshot
 * again), or an exit code. */
static int
plan_confirm(struct bootstrap *b)
{
	struct ttable **now = NULL;
	int nnow = 0, same, ex;

	/* A table created between the listing and the snapshot is not in
	 * the plan while its CREATE is before the snapshot's position:
	 * nothing would bring it to the target. */
	ex = plan_list_into(b, &now, &nnow);
	same = ex == 0 && same_tables(b, now, nnow);
	/* The definitions were read again by that listing, after the
	 * snapshot: each must be what it was before it. */
	for (int i = 0; same && i < nnow; i++) {
		struct ttable *t = plan_find_at(b, now[i]->key, i);

		if (strcmp(now[i]->def, t->def) != 0) {
			log_notice("%s changed while the snapshot was taken; "
			           "taking it again",
			    t->key);
			same = -1;
		}
	}
	for (int i = 0; i < nnow; i++)
		table_free(now[i]);
	free(now);
	if (ex != 0)
		return ex;
	if (same == -1)
		return -1;
	if (!same) {
		log_notice("a table of the selection was created, dropped or "
		           "renamed while the snapshot was taken; taking it "
		           "again");
		return -1;
	}
	for (int i = 0, k; i < b->nt; i = k) {
		struct ttable *t = b->t[i];
		char *db = t->m.db, *name = t->m.name;

		/* the tables of one database listed together (by_schema) */
		for (k = i + 1; k < b->nt && strcmp(b->t[k]->m.db, db) == 0;
		     k++)
			;
		if (k - i >= BY_SCHEMA) {
			if ((ex = schema_columns(b, b->t + i, k - i)) != 0)
				return ex;
			continue;
		}
		k = i + 1;
		t->m.db = NULL;
		t->m.name = NULL;
		if ((ex = table_columns(b, t, db, name)) != 0)
			return ex;
	}
	return 0;
}

static struct ttable *
plan_find(struct bootstrap *b, const char *key)
{
	for (int i = 0; i < b->nt; i++)
		if (strcmp(b->t[i]->key, key) == 0)
			return b->t[i];
	return NULL;
}

/* plan_find, looking first at position i: a listing in the plan's
 * order (plan_list_into) finds every table there, without a search
 * through 10,000 of them for each. */
static struct ttable *
plan_find_at(struct bootstrap *b, const char *key, int i)
{
	if (i >= 0 && i < b->nt && strcmp(b->t[i]->key, key) == 0)
		return b->t[i];
	return plan_find(b, key);
}

/* The selection as one string: a resumed copy must have the same. */
static char *
selection(const struct config *cf)
{
	struct buf s = {0};
	char *v;

	buf_printf(&s, "databases=%s", cf->databases ? cf->databases : "*");
	for (int i = 0; i < cf->ninclude; i++)
		buf_printf(&s, " include=%s", cf->include[i]);
	for (int i = 0; i < cf->nexclude; i++)
		buf_printf(&s, " exclude=%s", cf->exclude[i]);
	if (cf->skip_routines)
		buf_lit(&s, " skip-routines");
	if (cf->skip_views)
		buf_lit(&s, " skip-views");
	if (cf->skip_triggers)
		buf_lit(&s, " skip-triggers");
	if (cf->skip_events)
		buf_lit(&s, " skip-events");
	buf_putc(&s, '\0');
	v = xstrdup(s.p);
	buf_free(&s);
	return v;
}

static json_t *
new_table_record(const struct ttable *t)
{
	return json_pack("{s:s,s:b,s:b,s:s,s:I,s:I,s:i,s:i,s:[]}", "def",
	    t->def, "pk", t->m.npk > 0, "keyset", t->m.keyset, "state",
	    "pending", "rows", (json_int_t)0, "bytes", (json_int_t)0,
	    "first_group", 0, "done_group", 0, "chunks");
}

/* ---- resume -------------------------------------------------------------- */

static void set_fresh(struct bootstrap *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_fresh(struct bootstrap *b, const char *fmt, ...)
{
	va_list ap;
	char msg[600];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (b->fresh_why == NULL)
		b->fresh_why = xstrdup(msg);
}

/* Whether the plan's tables are, by name, those of the copy begun
 * (names). */
static int
same_names(struct bootstrap *b, json_t *names)
{
	json_t *v;
	size_t i;

	if (json_array_size(names) != (size_t)b->nt)
		return 0;
	json_array_foreach(names, i, v)
	{
		if (!json_is_string(v) ||
		    plan_find(b, json_string_value(v)) == NULL)
			return 0;
	}
	return 1;
}

/* The part of table t's record rec that was sealed (its chunks up to
 * group `sealed'): the copy goes on after the last key of it, or starts
 * t over (whole, or replacing what the target has). */
static void
resume_chunks(struct ttable *t, json_t *rec, json_int_t first, int64_t sealed)
{
	json_t *chunks = json_object_get(rec, "chunks"), *c, *keep;
	size_t j;

	keep = json_array();
	json_array_foreach(chunks, j, c)
	{
		if (json_integer_value(json_array_get(c, 0)) <= sealed)
			json_array_append(keep, c);
	}
	t->prog = rec;
	if (first == 0 || first > sealed) {
		/* nothing of it sealed: copy it whole */
		json_object_set_new(rec, "first_group", json_integer(0));
		json_array_clear(keep);
	} else if (json_array_size(keep) == 0 || !t->m.keyset) {
		/* sealed in part, and where it ended is unknown (or
		 * cannot be expressed): replace what the target has */
		t->recreate = 1;
		json_object_set_new(rec, "first_group", json_integer(0));
		json_array_clear(keep);
	} else {
		json_t *lastc = json_array_get(keep, json_array_size(keep) - 1);
		json_t *lits = json_array_get(lastc, 3);

		if (json_array_size(lits) != (size_t)t->m.npk) {
			t->recreate = 1;
			json_object_set_new(
			    rec, "first_group", json_integer(0));
			json_array_clear(keep);
		} else {
			t->after = xcalloc((size_t)t->m.npk, sizeof *t->after);
			for (int p = 0; p < t->m.npk; p++) {
				const char *l = json_string_value(
				    json_array_get(lits, (size_t)p));

				t->after[p] = xstrdup(l ? l : "NULL");
			}
			t->rows = (uint64_t)json_integer_value(
			    json_array_get(lastc, 1));
			t->bytes = (uint64_t)json_integer_value(
			    json_array_get(lastc, 2));
		}
	}
	json_object_set_new(rec, "chunks", keep);
	json_object_set_new(rec, "state", json_string("pending"));
	json_object_set_new(rec, "done_group", json_integer(0));
	json_object_set_new(rec, "rows", json_integer((json_int_t)t->rows));
	json_object_set_new(rec, "bytes", json_integer((json_int_t)t->bytes));
}

/* What is left to do of the table of the copy begun named key (t, the
 * plan's table of that name, or NULL); same: the plan's tables are the
 * copy's by name.  Calls set_fresh when the copy cannot go on. */
static int
resume_table(struct bootstrap *b, const char *key, struct ttable *t, int same,
    int64_t sealed)
{
	json_t *rec;
	char k[700];
	json_int_t first, done;
	int ex;

	snprintf(k, sizeof k, "bootstrap_table:%s", key);
	if ((ex = meta_json(b, k, &rec)) != 0)
		return ex;
	if (rec == NULL) {
		set_fresh(b, "the ledger has no record for %s", key);
		return 0;
	}
	done = json_integer_value(json_object_get(rec, "done_group"));
	first = json_integer_value(json_object_get(rec, "first_group"));
	if (strcmp(jstr(rec, "state"), "done") == 0 && done <= sealed) {
		if (t != NULL) {
			t->done = 1;
			t->rows = (uint64_t)json_integer_value(
			    json_object_get(rec, "rows"));
			t->prog = rec;
		} else
			json_decref(rec);
		return 0;
	}
	if (t == NULL) {
		set_fresh(b, "%s is gone, before it was copied", key);
		json_decref(rec);
		return 0;
	}
	if ((strcmp(jstr(rec, "def"), t->def) != 0 ||
	        json_integer_value(json_object_get(rec, "redo_group")) >
	            sealed) &&
	    t->m.npk > 0 && same) {
		log_notice("%s is copied again whole at the new snapshot (%s)",
		    key,
		    strcmp(jstr(rec, "def"), t->def) != 0
		        ? "a DDL reached it since the copy began"
		        : "its copy again had only begun");
		json_decref(rec);
		t->prog = new_table_record(t);
		t->recreate = t->redo = 1;
		return 0;
	}
	if (strcmp(jstr(rec, "def"), t->def) != 0) {
		set_fresh(b,
		    "the definition of %s changed since the copy "
		    "began",
		    key);
		json_decref(rec);
		return 0;
	}
	if (t->m.npk == 0) {
		set_fresh(b,
		    "%s has no primary key and was not finished: its "
		    "rows can only be copied at the first snapshot",
		    key);
		json_decref(rec);
		return 0;
	}
	resume_chunks(t, rec, first, sealed);
	return 0;
}

/* Decides, table by table, what a resumed copy still has to do, from
 * the old records and `sealed'.  Calls set_fresh when it cannot go on.
 * A table with a primary key whose definition changed since (a DDL
 * after the snapshot it was read at), or whose CREATE OR REPLACE of a
 * copy again was not sealed, is copied again whole at the new snapshot
 * (redo_changed), when the tables are those of the copy by name. */
static int
resume_plan(struct bootstrap *b, json_t *old, int64_t sealed)
{
	json_t *names = json_object_get(old, "tables"), *v;
	int same = same_names(b, names), ex;
	size_t i;

	json_array_foreach(names, i, v)
	{
		const char *key = json_string_value(v);

		if (key == NULL)
			continue;
		if ((ex = resume_table(
		         b, key, plan_find(b, key), same, sealed)) != 0)
			return ex;
		if (b->fresh_why != NULL)
			return 0;
	}
	return 0;
}

/* ---- the copy ------------------------------------------------------------- */

static const char *
human(double v, char *buf, size_t n)
{
	if (v >= 1e9)
		snprintf(buf, n, "%.1f G", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, n, "%.1f M", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, n, "%.0f k", v / 1e3);
	else
		snprintf(buf, n, "%.0f", v);
	return buf;
}

static void
report(struct bootstrap *b, int final)
{
	double t = now(), el = t - b->t0, rate, mbs;
	char r1[32], r2[32], eta[64] = "";

	if (!final && t - b->last_report < 1.0)
		return;
	b->last_report = t;
	rate = el > 0 ? (double)b->rows / el : 0;
	mbs = el > 0 ? (double)b->bytes / el / 1e6 : 0;
	if (!final && rate > 0 && b->est_rows > b->rows)
		snprintf(eta, sizeof eta, ", ETA %.0f s",
		    ceil((double)(b->est_rows - b->rows) / rate));
	log_info("%s%d/%d tables, %s rows of ~%s (%.0f%%), %.1f MB, "
	         "%.0f rows/s, %.1f MB/s%s",
	    final ? "copied " : "", b->tables_done, b->nt,
	    human((double)b->rows, r1, sizeof r1),
	    human((double)(b->est_rows > b->rows ? b->est_rows : b->rows), r2,
	        sizeof r2),
	    b->est_rows
	        ? 100.0 * (double)b->rows /
	              (double)(b->est_rows > b->rows ? b->est_rows : b->rows)
	        : 100.0,
	    (double)b->bytes / 1e6, rate, mbs, eta);
}

/* The rows of small tables share a group (srdf-bootstrap(1), "Many
 * small tables"): the chunks smaller than --chunk-rows and
 * --chunk-bytes are gathered in b->rp until the next would make it
 * larger than one chunk, then the ledger records of every table in it
 * go in one transaction, and only then the group to stdout, as for a
 * chunk alone.  A full chunk still goes out by itself. */
static int
pack_rows_flush(struct bootstrap *b)
{
	struct rowpack *rp = &b->rp;
	int ex;

	if (rp->nt == 0)
		return 0;
	if ((ex = save(b, rp->t, rp->nt, 0)) != 0)
		return ex;
	if (rp->rows > 0) {
		if ((ex = group_begin(
		         b, rp->g, rp->ntables == 1 ? rp->t[0] : NULL)) != 0 ||
		    (ex = out(b, rp->body.p, rp->body.len)) != 0 ||
		    (ex = group_end(b, rp->g, rp->rows, "bootstrap", NULL)) !=
		        0)
			return ex;
		log_debug("group %d: %" PRIu64 " rows of %d table%s", rp->g,
		    rp->rows, rp->ntables, rp->ntables == 1 ? "" : "s");
	}
	rp->body.len = 0;
	rp->rows = 0;
	rp->nt = rp->ntables = 0;
	rp->g = 0;
	return 0;
}

/* Whether chunk c goes out in a group of its own: it is a full one. */
static int
chunk_alone(const struct bootstrap *b, const struct chunk *c)
{
	return c->rows >= b->cf->chunk_rows ||
	       c->body.len >= b->cf->chunk_bytes;
}

/* Records c in its table's ledger record, then writes it as a group, or
 * adds it to the group of small chunks (pack_rows_flush). */
static int
emit_chunk(struct bootstrap *b, struct chunk *c)
{
	struct ttable *t = c->t;
	struct rowpack *rp = &b->rp;
	json_t *rec = t->prog, *chunks = json_object_get(rec, "chunks");
	int g = 0, ex, alone = chunk_alone(b, c);

	if (c->rows > 0 &&
	    (alone || rp->rows + c->rows > b->cf->chunk_rows ||
	        rp->body.len + c->body.len > b->cf->chunk_bytes) &&
	    (ex = pack_rows_flush(b)) != 0)
		return ex;
	if (c->rows > 0) {
		json_t *lits = json_array();

		if (alone)
			g = b->next_group++;
		else {
			if (rp->g == 0)
				rp->g = b->next_group++;
			g = rp->g;
		}
		t->rows += c->rows;
		t->run_rows += c->rows;
		t->bytes += c->body.len;
		if (c->lits != NULL)
			for (int i = 0; i < t->m.npk; i++)
				json_array_append_new(
				    lits, json_string(c->lits[i]));
		json_array_append_new(
		    chunks, json_pack("[i,I,I,o]", g, (json_int_t)t->rows,
		                (json_int_t)t->bytes, lits));
		while (json_array_size(chunks) > RING)
			json_array_remove(chunks, 0);
		if (json_integer_value(json_object_get(rec, "first_group")) ==
		    0)
			json_object_set_new(
			    rec, "first_group", json_integer(g));
		t->last_group = g;
	}
	json_object_set_new(rec, "rows", json_integer((json_int_t)t->rows));
	json_object_set_new(rec, "bytes", json_integer((json_int_t)t->bytes));
	if (c->last) {
		json_object_set_new(rec, "state", json_string("done"));
		json_object_set_new(
		    rec, "done_group", json_integer(t->last_group));
	} else
		json_object_set_new(rec, "state", json_string("copying"));
	if (alone || (c->rows == 0 && rp->nt == 0)) {
		/* by itself, as every chunk was */
		if ((ex = save(b, &t, 1, 0)) != 0)
			return ex;
		if (c->rows > 0 &&
		    ((ex = group_begin(b, g, t)) != 0 ||
		        (ex = out(b, c->body.p, c->body.len)) != 0 ||
		        (ex = group_end(b, g, c->rows, "bootstrap", NULL)) !=
		            0))
			return ex;
	} else {
		/* the group of small chunks: t's record is saved with it */
		if (rp->nt == 0 || rp->t[rp->nt - 1] != t) {
			rp->t = xgrow(
			    rp->t, &rp->cap, (size_t)rp->nt + 1, sizeof *rp->t);
			rp->t[rp->nt++] = t;
			if (c->rows > 0)
				rp->ntables++;
		}
		if (c->body.len > 0)
			buf_add(&rp->body, c->body.p, c->body.len);
		rp->rows += c->rows;
	}
	if (c->rows > 0) {
		b->rows += c->rows;
		b->bytes += c->body.len;
	}
	if (c->last) {
		t->done = 1;
		b->tables_done++;
		log_info("copied %s: %" PRIu64 " rows in this run, %" PRIu64
		         " in all",
		    t->key, t->run_rows, t->rows);
	}
	report(b, 0);
	return 0;
}

static int
by_order(const void *x, const void *y)
{
	const struct ttable *a = *(struct ttable *const *)x;
	const struct ttable *c = *(struct ttable *const *)y;

	/* no primary key first (they must finish at the first snapshot),
	 * then the largest first (so parallel readers end together) */
	if ((a->m.npk == 0) != (c->m.npk == 0))
		return a->m.npk == 0 ? -1 : 1;
	if (a->est_bytes != c->est_bytes)
		return a->est_bytes > c->est_bytes ? -1 : 1;
	return strcmp(a->key, c->key);
}

/* The pipe of a copy: its queue of the tables not done, largest first
 * (by_order). */
static void
pipe_open(struct bootstrap *b)
{
	struct pipe *p = &b->pipe;

	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->max = 2 * b->nrd + 2;
	p->todo = xcalloc((size_t)b->nt + 1, sizeof *p->todo);
	b->est_rows = 0;
	for (int i = 0; i < b->nt; i++) {
		struct ttable *t = b->t[i];

		if (t->done) {
			b->tables_done++;
			continue;
		}
		table_set_query(t);
		p->todo[p->ntodo++] = t;
		b->est_rows +=
		    t->est_rows > t->rows ? t->est_rows - t->rows : 0;
	}
	qsort(p->todo, (size_t)p->ntodo, sizeof *p->todo, by_order);
}

/* Tells the readers to stop: an error of the main thread. */
static void
pipe_stop(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	atomic_store(&stopping, 1);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Waits for the nrd readers started, then frees the pipe; returns the
 * first reader's error, or 0. */
static int
pipe_close(struct bootstrap *b, int nrd)
{
	struct pipe *p = &b->pipe;
	int ex = 0;

	for (int i = 0; i < nrd; i++) {
		pthread_join(b->rd[i].tid, NULL);
		if (b->rd[i].failed && ex == 0)
			ex = b->rd[i].failed;
	}
	while (p->head != NULL) {
		struct chunk *c = p->head;

		p->head = c->next;
		chunk_free(c);
	}
	free(p->todo);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	return ex;
}

/* The next chunk from the readers, or NULL when they are done or
 * stopping; reports the progress while it waits. */
static struct chunk *
pipe_next(struct bootstrap *b)
{
	struct pipe *p = &b->pipe;
	struct chunk *c = NULL;
	struct timespec ts;

	pthread_mutex_lock(&p->mu);
	while (p->head == NULL && p->readers > 0 && !atomic_load(&stopping)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		if (p->head == NULL) {
			pthread_mutex_unlock(&p->mu);
			report(b, 0);
			pthread_mutex_lock(&p->mu);
		}
	}
	if (atomic_load(&stopping)) {
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		return NULL;
	}
	if ((c = p->head) != NULL) {
		p->head = c->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->n--;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return c; /* NULL: no reader left, nothing queued */
}

/* Copies every table not done, with the readers.  Returns 0 (tables a
 * DDL reached are left changed, for redo_changed), START_OVER after a
 * DDL that the copy cannot survive, or an exit code. */
static int
copy_rows(struct bootstrap *b)
{
	struct pipe *p = &b->pipe;
	struct chunk *c;
	int ex = 0, rex, changed = 0, started;

	pipe_open(b);
	p->readers = b->nrd;
	for (started = 0; started < b->nrd; started++) {
		b->rd[started].p = p;
		if (pthread_create(&b->rd[started].tid, NULL, reader_main,
		        &b->rd[started]) != 0) {
			ex = fail(b, EX_OSERR, "cannot start a reader thread");
			pipe_stop(p);
			break;
		}
	}
	while (ex == 0 && (c = pipe_next(b)) != NULL) {
		if ((ex = emit_chunk(b, c)) != 0)
			pipe_stop(p);
		chunk_free(c);
	}
	if (ex == 0 && (ex = pack_rows_flush(b)) != 0)
		pipe_stop(p);
	rex = pipe_close(b, started);
	if (ex != 0)
		return ex;
	if (rex != 0)
		return rex;
	for (int i = 0; i < b->nt; i++)
		changed |=
		    b->t[i]->changed && (b->t[i]->whole || b->t[i]->m.npk == 0);
	if (signalled)
		return EX_TEMPFAIL;
	if (changed)
		return START_OVER;
	return 0;
}

/* ---- a table copied again ---------------------------------------------- */

/* The group that copies t again: CREATE OR REPLACE TABLE with its
 * definition now, naming t as redone (srdf-record(5), group_end
 * "redo").  Its number goes to t's ledger record first ("redo_group"):
 * a resumed copy that finds it not sealed sends it again. */
static int
redo_ddl(struct bootstrap *b, struct ttable *t)
{
	struct ddl_list l = {0};
	struct buf s = {0};
	int ex;

	buf_lit(&s, "CREATE OR REPLACE TABLE ");
	buf_puts(
	    &s, t->create +
	            (strncmp(t->create, "CREATE TABLE ", 13) == 0 ? 13 : 0));
	buf_putc(&s, '\0');
	ddl_add(&l, t->m.db, s.p, TABLE_SQL_MODE, "table", t->key);
	json_object_set_new(t->prog, "redo_group", json_integer(b->next_group));
	if ((ex = save(b, &t, 1, 0)) == 0)
		ex = write_ddl(b, &l.v[0], t);
	ddl_list_free(&l);
	buf_free(&s);
	return ex;
}

/* Whether the tables listed now (v, n) are the plan's, by name. */
static int
same_tables(struct bootstrap *b, struct ttable **v, int n)
{
	if (n != b->nt)
		return 0;
	for (int i = 0; i < n; i++)
		if (plan_find_at(b, v[i]->key, i) == NULL)
			return 0;
	return 1;
}

/* After the new snapshot: each table to copy again still has the
 * definition read before it; then its columns are read.  0, -1 when
 * one moved again (take the snapshot again), or an exit code. */
static int
redo_confirm(struct bootstrap *b)
{
	for (int i = 0; i < b->nt; i++) {
		struct ttable *t = b->t[i];
		char *h, *db, *name;
		unsigned e;
		int ex;

		if (!t->changed)
			continue;
		h = table_def(b->meta, t->m.db, t->m.name, NULL, &e);
		if (h == NULL || strcmp(h, t->def) != 0) {
			free(h);
			return -1;
		}
		free(h);
		buf_free(&t->head);
		buf_free(&t->query);
		if (t->jname != NULL)
			for (int j = 0; j < t->m.ncols; j++)
				buf_free(&t->jname[j]);
		free(t->jname);
		t->jname = NULL;
		db = xstrdup(t->m.db);
		name = xstrdup(t->m.name);
		maria_table_free(&t->m);
		if ((ex = table_columns(b, t, db, name)) != 0)
			return ex;
	}
	return 0;
}

/* The tables to copy again (changed) take their definitions now, then a
 * new snapshot is taken, until they hold still across it.  Returns 0,
 * START_OVER when the plan's tables are not those of the source any
 * more, or an exit code. */
static int
redo_snapshot(struct bootstrap *b)
{
	for (int tries = 1;; tries++) {
		struct ttable **now = NULL;
		int nnow = 0, same, ex;

		ex = plan_list_into(b, &now, &nnow);
		same = ex == 0 && same_tables(b, now, nnow);
		for (int i = 0; same && i < nnow; i++) {
			struct ttable *t = plan_find(b, now[i]->key);

			if (!t->changed)
				continue;
			free(t->create);
			t->create = now[i]->create;
			now[i]->create = NULL;
			memcpy(t->def, now[i]->def, sizeof t->def);
		}
		for (int i = 0; i < nnow; i++)
			table_free(now[i]);
		free(now);
		if (ex != 0)
			return ex;
		if (!same) {
			log_notice("a table of the selection was created, "
			           "dropped or renamed while the copy ran: the "
			           "copy starts over");
			return START_OVER;
		}
		if ((ex = snapshots(b)) != 0)
			return ex;
		if ((ex = redo_confirm(b)) >= 0)
			return ex;
		if (tries == PLAN_TRIES)
			return fail(b, EX_TEMPFAIL,
			    "the tables to copy "
			    "again keep changing (DDL); run srdf-bootstrap "
			    "again when the schema is quiet (it resumes)");
	}
}

/* One round of redo_changed, at the snapshot redo_snapshot took: the
 * tables to copy again are written, CREATE OR REPLACE first. */
static int
redo_round(struct bootstrap *b)
{
	int ex;

	for (int i = 0; i < b->nt; i++)
		if (b->t[i]->changed && b->t[i]->m.npk == 0) {
			log_notice("%s has no primary key now: the copy "
			           "starts over",
			    b->t[i]->key);
			close_readers(b);
			return START_OVER;
		}
	json_object_set_new(b->prog, "snapshot_gtid", json_string(b->snap));
	if ((ex = save(b, NULL, 0, 1)) != 0)
		return ex;
	for (int i = 0; i < b->nt; i++) {
		struct ttable *t = b->t[i];

		if (!t->changed)
			continue;
		table_reset(t);
		t->prog = new_table_record(t);
		log_notice("%s is copied again, alone, at the snapshot '%s' (a "
		           "DDL reached it during its copy)",
		    t->key, b->snap);
		audit_event(0, "bootstrap", "copying", "copying",
		    "%s copied "
		    "again at snapshot GTID %s after a DDL",
		    t->key, b->snap);
		if ((ex = redo_ddl(b, t)) != 0)
			return ex;
	}
	b->tables_done = 0; /* copy_rows counts the done ones */
	ex = copy_rows(b);
	close_readers(b);
	return ex;
}

/* srdf-bootstrap(1), "DDL during the copy".  A table that a DDL reached
 * while it waited for its turn (or while it was read) cannot be read as
 * of the snapshot G any more.  Once the other tables are copied, it is
 * copied again, alone, at a new snapshot G_T taken after the DDL: a
 * CREATE OR REPLACE TABLE with its definition now, in a group naming it
 * ("redo"), then its rows, whose groups carry snapshot_gtid G_T.
 * srdf-capture still starts at G; srdf-apply skips that table's changes
 * in the wagons up to G_T, the DDL among them (the copy holds their
 * effects, in the new shape), and applies the rest of the window up to
 * G_T idempotently, as for a resumed copy.  The tables must be those of
 * the plan, by name: a table created, dropped or renamed meanwhile may
 * be part of a rename that moved rows between names, which no per-table
 * position can sort out, so the whole copy starts over instead.  Rounds
 * repeat while DDL keeps coming, up to MAX_START_OVERS.  Returns 0,
 * START_OVER, or an exit code. */
static int
redo_changed(struct bootstrap *b)
{
	for (int round = 1;; round++) {
		int n = 0, ex;

		for (int i = 0; i < b->nt; i++)
			n += b->t[i]->changed;
		if (n == 0)
			return 0;
		if (round > MAX_START_OVERS)
			return fail(b, EX_TEMPFAIL,
			    "a DDL reached the tables "
			    "copied again %d times; run srdf-bootstrap again "
			    "when the schema is quiet (it resumes the copy)",
			    MAX_START_OVERS);
		if ((ex = redo_snapshot(b)) != 0 || (ex = redo_round(b)) != 0)
			return ex;
	}
}

/* ---- one run --------------------------------------------------------------- */

/* Reads the progress into *old (the caller's reference; NULL when there
 * is none or --restart) and the groups sealed of it into *sealed;
 * *complete: the copy recorded there is complete and sealed, so there
 * is nothing to do. */
static int
load_old(struct bootstrap *b, json_t **old, int64_t *sealed, int *complete)
{
	int foreign = 0, purged = 0, ex;
	const char *first, *sel;
	char *mine;

	*old = NULL;
	*sealed = 0;
	*complete = 0;
	if (!b->force_fresh &&
	    (ex = meta_json(b, "bootstrap_progress", old)) != 0)
		return ex;
	if (*old == NULL)
		return 0;
	first = json_string_value(json_object_get(*old, "first_gtid"));
	sel = json_string_value(json_object_get(*old, "selection"));
	mine = selection(b->cf);
	if (sel == NULL || strcmp(sel, mine) != 0) {
		free(mine);
		return fail(b, EX_USAGE,
		    "%s/ledger holds a copy with another "
		    "selection (%s); run with the same options to resume it; "
		    "to add databases or tables to the running pipeline, "
		    "copy them online with srdf-bootstrap --add 'db.*' "
		    "(srdf-bootstrap(1), Adding tables online); --restart "
		    "copies everything afresh",
		    b->cf->dir, sel ? sel : "?");
	}
	free(mine);
	if ((ex = sealed_groups(b,
	         (uint64_t)json_integer_value(
	             json_object_get(*old, "base_seq")),
	         first ? first : "", sealed, &foreign, &purged)) != 0)
		return ex;
	/* A copy done whose wagons were purged since was sealed whole. */
	if (strcmp(jstr(*old, "state"), "done") == 0 &&
	    (purged || *sealed >= json_integer_value(
	                              json_object_get(*old, "last_group")))) {
		*complete = 1;
		return 0;
	}
	if (foreign)
		set_fresh(b, "wagons that are not the copy's were sealed after "
		             "it (srdf-capture ran?)");
	else if (*sealed <
	         json_integer_value(json_object_get(*old, "ddl_groups")))
		set_fresh(b, "its schema was not all sealed");
	return 0;
}

static void
set_first(struct bootstrap *b)
{
	const char *g = b->gtid1, *comma;

	if (strlen(g) < sizeof b->first)
		snprintf(b->first, sizeof b->first, "%s", g);
	else {
		comma = strchr(g, ',');
		snprintf(b->first, sizeof b->first, "%.*s",
		    (int)(comma ? (size_t)(comma - g) : sizeof b->first - 1),
		    g);
	}
}

/* "CREATE OR REPLACE TABLE" and the rest of CREATE TABLE statement
 * create (a SEQUENCE's CREATE stays as it is) into s, cleared first,
 * with its '\0'. */
static void
create_or_replace(struct buf *s, const char *create)
{
	s->len = 0;
	if (strncmp(create, "CREATE TABLE ", 13) == 0) {
		buf_lit(s, "CREATE OR REPLACE TABLE ");
		buf_puts(s, create + 13);
	} else
		buf_puts(s, create);
	buf_putc(s, '\0');
}

/* Tables of an abandoned copy (a run's before, old, or this run's before
 * it started over) that are not copied now, into l: drop them on the
 * target, they would be stale. */
static void
schema_drops(struct bootstrap *b, json_t *old, struct ddl_list *l)
{
	struct buf s = {0};

	for (int k = 0; k < 2; k++) {
		json_t *v, *tables = k == 0 ? json_object_get(old, "tables")
		                            : b->abandoned;
		size_t i;

		json_array_foreach(tables, i, v)
		{
			const char *key = json_string_value(v), *dot;
			char db[300];

			if (key == NULL || plan_find(b, key) != NULL ||
			    (dot = strchr(key, '.')) == NULL)
				continue;
			s.len = 0;
			buf_lit(&s, "DROP TABLE IF EXISTS ");
			snprintf(db, sizeof db, "%.*s", (int)(dot - key), key);
			sql_ident(&s, db);
			buf_putc(&s, '.');
			sql_ident(&s, dot + 1);
			buf_putc(&s, '\0');
			ddl_add(l, "", s.p, TABLE_SQL_MODE, "table", key);
		}
	}
	buf_free(&s);
}

/* The triggers as of the snapshot into b->trig_rec, kept for the end of
 * the copy (and a resumed run's): srdf-capture replays those created or
 * dropped after it. */
static int
keep_triggers(struct bootstrap *b)
{
	struct buf s = {0};
	int ex = 0;

	json_decref(b->trig_rec);
	b->trig_rec = json_pack("{s:i,s:[]}", "v", 1, "triggers");
	for (int i = 0; i < b->trig.n && ex == 0; i++) {
		const struct ddl *d = &b->trig.v[i];
		json_t *x;

		s.len = 0;
		ddl_record(&s, d);
		if ((x = json_pack("{s:s,s:s%}", "name", d->name, "record", s.p,
		         s.len)) == NULL ||
		    json_array_append_new(
		        json_object_get(b->trig_rec, "triggers"), x) != 0)
			ex = fail(b, EX_SOFTWARE,
			    "cannot keep trigger %s in "
			    "the ledger (its name is not UTF-8?)",
			    d->name);
	}
	buf_free(&s);
	return ex;
}

/* The progress record of a copy that begins at b->snap with ngroups
 * groups of schema and the tables names (taken). */
static int
new_progress(struct bootstrap *b, int ngroups, json_t *names)
{
	uint64_t base;
	char *sel;
	int ex;

	if ((ex = last_seq(b, &base)) != 0) {
		json_decref(names);
		return ex;
	}
	sel = selection(b->cf);
	json_decref(b->prog);
	b->prog = json_pack("{s:i,s:s,s:s,s:s,s:I,s:i,s:i,s:i,s:s,s:o,s:I}",
	    "v", 1, "state", "copying", "first_gtid", b->snap, "snapshot_gtid",
	    b->snap, "base_seq", (json_int_t)base, "ddl_groups", ngroups,
	    "last_group", 0, "runs", 1, "selection", sel, "tables", names,
	    "started", (json_int_t)time(NULL));
	free(sel);
	b->gtid1 = json_string_value(json_object_get(b->prog, "first_gtid"));
	set_first(b);
	return 0;
}

/* A copy from the start: the schema's groups (databases, tables,
 * routines, views, events), after the progress that names them. */
static int
emit_schema(struct bootstrap *b, json_t *old)
{
	struct ddl_list l = {0};
	struct buf s = {0}, *recs = NULL;
	size_t *lens = NULL;
	json_t *names = json_array();
	int ex, groups;

	schema_drops(b, old, &l);
	if ((ex = schema_databases(b->meta, b->cf, &l)) != 0) {
		b->failed = 1; /* schema.c logged why */
		goto out;
	}
	for (int i = 0; i < b->nt; i++) {
		struct ttable *t = b->t[i];

		create_or_replace(&s, t->create);
		ddl_add(&l, t->m.db, s.p, TABLE_SQL_MODE, "table", t->key);
		json_array_append_new(names, json_string(t->key));
		t->prog = new_table_record(t);
	}
	for (int i = 0; i < b->objs.n; i++) {
		const struct ddl *d = &b->objs.v[i];

		ddl_add(&l, d->db, d->sql, d->sql_mode, d->object, d->name);
		if (d->tz != NULL)
			l.v[l.n - 1].tz = xstrdup(d->tz);
	}
	if ((ex = keep_triggers(b)) != 0)
		goto out;
	ddl_records(&l, &recs, &lens);
	groups = pack_groups(lens, l.n);
	ex = new_progress(b, groups, names);
	names = NULL;
	if (ex != 0 || (ex = save(b, b->t, b->nt, 1)) != 0)
		goto out;
	audit_event(0, "bootstrap", NULL, "copying",
	    "snapshot GTID %s, %d "
	    "tables",
	    b->snap, b->nt);
	b->next_group = 1;
	ex = write_packed(b, recs, l.n);
	if (ex == 0)
		log_info("schema: %d statements (databases, tables, routines, "
		         "views, events) in %d group%s",
		    l.n, groups, groups == 1 ? "" : "s");
out:
	if (recs != NULL)
		recs_free(recs, lens, l.n);
	json_decref(names);
	ddl_list_free(&l);
	buf_free(&s);
	return ex;
}

/* The plan (b->t), its routines, views, events and triggers, and the
 * readers in one snapshot, taken again while a DDL moves them. */
static int
take_snapshot(struct bootstrap *b)
{
	for (int tries = 1;; tries++) {
		struct ddl_list o = {0}, trg = {0};
		int ex, same = 0;

		if ((ex = plan_list_into(b, &b->t, &b->nt)) != 0 ||
		    (ex = objects_read(b, &o, &trg)) != 0 ||
		    (ex = snapshots(b)) != 0)
			goto fail;
		ddl_list_free(&b->objs);
		ddl_list_free(&b->trig);
		if ((ex = plan_confirm(b)) > 0)
			goto fail;
		if (ex == 0) {
			if ((ex = objects_read(b, &b->objs, &b->trig)) != 0)
				goto fail;
			same = ddl_list_same(&o, &b->objs) &&
			       ddl_list_same(&trg, &b->trig);
			if (!same)
				log_notice("a routine, view, event or trigger "
				           "changed while the snapshot was "
				           "taken; taking it again");
		}
		ddl_list_free(&o);
		ddl_list_free(&trg);
		if (same)
			return 0;
		close_readers(b);
		plan_free(b);
		if (tries == PLAN_TRIES)
			return fail(b, EX_TEMPFAIL,
			    "the source's tables keep "
			    "changing (DDL) while the snapshot is taken; try "
			    "later");
		continue;
	fail:
		ddl_list_free(&o);
		ddl_list_free(&trg);
		return ex;
	}
}

/* Whether the copy begun (its tables, names) has table key. */
static int
named(json_t *names, const char *key)
{
	json_t *v;
	size_t k;

	json_array_foreach(names, k, v)
	{
		const char *n = json_string_value(v);

		if (n != NULL && strcmp(n, key) == 0)
			return 1;
	}
	return 0;
}

/* The CREATE OR REPLACE TABLE of the tables a resumed copy copies whole
 * again into l; the tables created since the copy began are left to
 * srdf-capture, which replays their CREATE and rows from the first
 * snapshot. */
static void
resume_creates(struct bootstrap *b, json_t *names, struct ddl_list *l)
{
	struct buf s = {0};

	for (int i = 0; i < b->nt; i++) {
		struct ttable *t = b->t[i];

		if (!named(names, t->key)) {
			log_info("%s is new since the copy began: srdf-capture "
			         "brings it",
			    t->key);
			t->done = 1;
			t->prog = new_table_record(t);
			continue;
		}
		if (t->recreate && !t->redo) {
			s.len = 0;
			buf_lit(&s, "CREATE OR REPLACE TABLE ");
			buf_puts(&s, t->create + (strncmp(t->create,
			                              "CREATE TABLE ", 13) == 0
			                                 ? 13
			                                 : 0));
			buf_putc(&s, '\0');
			ddl_add(
			    l, t->m.db, s.p, TABLE_SQL_MODE, "table", t->key);
		}
	}
	buf_free(&s);
}

/* A copy resumed from its progress old, of which `sealed' groups were
 * sealed: the tables to replace or copy again get their CREATE first. */
static int
resume_copy(struct bootstrap *b, json_t *old, int64_t sealed)
{
	struct ddl_list l = {0};
	int ex;

	json_decref(b->prog);
	b->prog = json_incref(old);
	b->gtid1 = json_string_value(json_object_get(b->prog, "first_gtid"));
	json_object_set_new(b->prog, "snapshot_gtid", json_string(b->snap));
	json_object_set_new(b->prog, "state", json_string("copying"));
	json_object_set_new(b->prog, "runs",
	    json_integer(
	        json_integer_value(json_object_get(b->prog, "runs")) + 1));
	resume_creates(b, json_object_get(old, "tables"), &l);
	b->next_group = (int)sealed + 1;
	set_first(b);
	if ((ex = save(b, b->t, b->nt, 1)) == 0) {
		audit_event(0, "bootstrap", "copying", "copying",
		    "resumed at "
		    "snapshot GTID %s; the copy began at %s",
		    b->snap, b->gtid1);
		struct buf *recs;
		size_t *lens;

		ddl_records(&l, &recs, &lens);
		ex = write_packed(b, recs, l.n);
		recs_free(recs, lens, l.n);
		for (int i = 0; i < b->nt && ex == 0; i++)
			if (b->t[i]->redo)
				ex = redo_ddl(b, b->t[i]);
	}
	ddl_list_free(&l);
	if (ex == 0)
		log_notice("resuming the copy begun at GTID position '%s' "
		           "(run %lld): %lld groups were sealed",
		    b->gtid1,
		    (long long)json_integer_value(
		        json_object_get(b->prog, "runs")),
		    (long long)sealed);
	return ex;
}

/* The triggers kept in the ledger (tr, or read now into l when it has
 * none), after the progress says the copy is done. */
static int
emit_triggers(struct bootstrap *b, json_t *tr, struct ddl_list *l)
{
	json_t *a = json_object_get(tr, "triggers"), *v;
	struct buf *recs;
	size_t i, n, *lens;
	int ex;

	if (tr == NULL) {
		if ((ex = schema_triggers(b->meta, b->cf, b->t, b->nt, l)) !=
		    0) {
			b->failed = 1; /* schema.c logged why */
			return ex;
		}
		log_info("the ledger holds no triggers of the copy's snapshot "
		         "(a copy begun by an older srdf-bootstrap): reading "
		         "them now");
	} else if (!json_is_array(a))
		return fail(b, EX_DATAERR,
		    "the ledger's bootstrap_triggers has "
		    "no list of triggers; use --restart to copy afresh");
	if (tr != NULL) {
		n = json_array_size(a);
		recs = xcalloc(n + 1, sizeof *recs);
		lens = xcalloc(n + 1, sizeof *lens);
		json_array_foreach(a, i, v)
		{
			json_t *rec = json_object_get(v, "record");

			if (!json_is_string(rec)) {
				recs_free(recs, lens, (int)n);
				return fail(b, EX_DATAERR,
				    "the ledger's "
				    "bootstrap_triggers: trigger %s has no "
				    "record; use --restart to copy afresh",
				    jstr(v, "name"));
			}
			buf_add(&recs[i], json_string_value(rec),
			    json_string_length(rec));
			lens[i] = recs[i].len;
		}
	} else {
		n = (size_t)l->n;
		ddl_records(l, &recs, &lens);
	}
	json_object_set_new(b->prog, "last_group",
	    json_integer(
	        b->next_group + (json_int_t)pack_groups(lens, (int)n) - 1));
	json_object_set_new(b->prog, "state", json_string("done"));
	if ((ex = save(b, NULL, 0, 1)) != 0) {
		recs_free(recs, lens, (int)n);
		return ex;
	}
	audit_event(0, "bootstrap", "copying", "done",
	    "%" PRIu64 " rows in %d "
	    "tables; srdf-capture continues from %s",
	    b->rows, b->nt, b->gtid1);
	ex = write_packed(b, recs, (int)n);
	recs_free(recs, lens, (int)n);
	if (ex == 0 && n > 0)
		log_info("triggers: %zu", n);
	return ex;
}

/* The end of the copy: the triggers as of the first snapshot, which
 * srdf-capture continues from; a copy begun by srdf-bootstrap 0.1.0
 * before the ledger kept them reads them now. */
static int
finish(struct bootstrap *b)
{
	struct ddl_list l = {0};
	json_t *tr;
	int ex;

	if ((ex = meta_json(b, "bootstrap_triggers", &tr)) != 0)
		return ex;
	ex = emit_triggers(b, tr, &l);
	ddl_list_free(&l);
	json_decref(tr);
	if (ex != 0)
		return ex;
	report(b, 1);
	log_notice("the copy is complete; srdf-capture continues from GTID "
	           "position '%s'",
	    b->gtid1);
	return 0;
}

/* One attempt at the copy: returns 0, START_OVER, or an exit code. */
static int
run(struct bootstrap *b)
{
	json_t *old = NULL;
	int64_t sealed = 0;
	int ex, complete;

	free(b->fresh_why);
	b->fresh_why = NULL;
	if ((ex = load_old(b, &old, &sealed, &complete)) != 0 || complete) {
		if (complete)
			log_notice(
			    "the copy in %s is complete (snapshot '%s'): "
			    "nothing to do; --restart copies afresh",
			    b->cf->dir,
			    json_string_value(
			        json_object_get(old, "snapshot_gtid")));
		json_decref(old);
		return ex;
	}
	if ((ex = take_snapshot(b)) != 0) {
		json_decref(old);
		return ex;
	}
	if (b->nt == 0)
		log_warn("no table of the source matches the selection");
	if (old != NULL && b->fresh_why == NULL)
		ex = resume_plan(b, old, sealed);
	if (ex == 0 && (old == NULL || b->fresh_why != NULL)) {
		if (b->fresh_why != NULL)
			log_notice(
			    "the copy in progress cannot be resumed (%s): "
			    "copying everything again at the new "
			    "snapshot",
			    b->fresh_why);
		for (int i = 0; i < b->nt; i++)
			table_reset(b->t[i]);
		ex = emit_schema(b, old);
	} else if (ex == 0)
		ex = resume_copy(b, old, sealed);
	json_decref(old);
	if (ex != 0)
		return ex;
	ex = copy_rows(b);
	close_readers(b);
	if (ex == 0)
		ex = redo_changed(b);
	if (ex != 0)
		return ex;
	return finish(b);
}

/* ---- main -------------------------------------------------------------- */

/* Options and operands into *cf (srdf-bootstrap(1), OPTIONS); dies with
 * EX_USAGE on a bad one. */
static void
parse_options(int argc, char **argv, struct config *cf)
{
	static const struct option opts[] = {
	    {"chunk-bytes", required_argument, NULL, 'B'},
	    {"chunk-rows", required_argument, NULL, 'c'},
	    {"databases", required_argument, NULL, 'D'},
	    {"defaults-file", required_argument, NULL, 'F'},
	    {"defaults-group", required_argument, NULL, 'G'},
	    {"dir", required_argument, NULL, 'd'},
	    {"exclude", required_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {"include", required_argument, NULL, 'i'},
	    {"max-lag", required_argument, NULL, 'L'},
	    {"parallel", required_argument, NULL, 'p'},
	    {"restart", no_argument, NULL, 'R'},
	    {"resync", required_argument, NULL, 'Y'},
	    {"add", required_argument, NULL, 'A'},
	    {"resync-spool", required_argument, NULL, 'S'},
	    {"resync-after", required_argument, NULL, 'a'},
	    {"resync-upto", required_argument, NULL, 'u'},
	    {"skip-events", no_argument, NULL, 'e'},
	    {"skip-routines", no_argument, NULL, 'r'},
	    {"skip-triggers", no_argument, NULL, 't'},
	    {"skip-views", no_argument, NULL, 'w'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	size_t incap = 0, excap = 0;
	int ch;

	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'B':
			cf->chunk_bytes_set = 1;
			if (parse_size(optarg, &cf->chunk_bytes) != 0 ||
			    cf->chunk_bytes < 4096)
				die(EX_USAGE,
				    "bad --chunk-bytes %s (a size of "
				    "4K or more)",
				    optarg);
			break;
		case 'c':
			cf->chunk_rows_set = 1;
			cf->chunk_rows =
			    opt_count(optarg, "--chunk-rows", 1, 100000000);
			break;
		case 'D':
			cf->databases = optarg;
			break;
		case 'F':
			cf->defaults_file = optarg;
			break;
		case 'G':
			cf->group = optarg;
			break;
		case 'd':
			cf->dir = optarg;
			break;
		case 'i':
			cf->include = xgrow(cf->include, &incap,
			    (size_t)cf->ninclude + 1, sizeof *cf->include);
			cf->include[cf->ninclude++] = optarg;
			break;
		case 'x':
			cf->exclude = xgrow(cf->exclude, &excap,
			    (size_t)cf->nexclude + 1, sizeof *cf->exclude);
			cf->exclude[cf->nexclude++] = optarg;
			break;
		case 'p':
			cf->parallel = (int)opt_count(
			    optarg, "--parallel", 1, MAX_PARALLEL);
			break;
		case 'R':
			cf->restart = 1;
			break;
		case 'Y':
			cf->resync = optarg;
			break;
		case 'A':
			cf->add = optarg;
			break;
		case 'a':
			cf->resync_after = optarg;
			break;
		case 'u':
			cf->resync_upto = optarg;
			break;
		case 'L':
			cf->max_lag_ms =
			    opt_duration(optarg, "--max-lag", 0, LLONG_MAX);
			break;
		case 'S':
			cf->resync_spool =
			    (int)opt_count(optarg, "--resync-spool", 1, 1000);
			break;
		case 'r':
			cf->skip_routines = 1;
			break;
		case 't':
			cf->skip_triggers = 1;
			break;
		case 'w':
			cf->skip_views = 1;
			break;
		case 'e':
			cf->skip_events = 1;
			break;
		case 'v':
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, "srdf-bootstrap", usage);
		}
	}
	opt_no_operands(argc, usage);
}

/* The state directory: created, locked, its ledger opened into b->l,
 * the audit log and the heartbeat started.  Dies (setup: main only). */
static void
open_dir_or_die(const struct config *cf, struct bootstrap *b)
{
	int rc;

	if (mkdir(cf->dir, 0700) != 0 && errno != EEXIST)
		die(EX_CANTCREAT, "cannot create %s: %s", cf->dir,
		    strerror(errno));
	lock_dir_or_die(cf->dir, "srdf-bootstrap");
	if ((rc = ledger_open(cf->dir, 0, &b->l)) != 0)
		die(EX_CANTCREAT, "cannot open the ledger in %s: %s", cf->dir,
		    ledger_strerror(rc));
	audit_open(cf->dir);
	audit_source_of(b->l);
	heartbeat_start(cf->dir, "srdf-bootstrap", 0, 0);
}

/* The main connection, b->meta, to a source that can be copied. */
static int
source_open(struct bootstrap *b)
{
	char *v;
	int ex;

	if ((ex = source_connect(b, &b->meta)) != 0)
		return ex;
	/* UTC, as the readers: SHOW CREATE TABLE writes a TIMESTAMP
	 * default in the session's time zone, which the "ddl" records
	 * name (schema.c, ddl_record). */
	if ((ex = exec(b, b->meta,
	         "SET SESSION wait_timeout=604800, "
	         "max_statement_time=0, "
	         "time_zone='+00:00'")) != 0)
		return ex;
	v = maria_query_one(b->meta, "SELECT @@log_bin");
	if (v == NULL || strcmp(v, "1") != 0) {
		free(v);
		return fail(b, EX_CONFIG,
		    "the source has no binlog (log_bin): "
		    "there is no position srdf-capture could continue from");
	}
	free(v);
	if ((ex = schema_check_triggers(b->meta, b->cf)) != 0)
		b->failed = 1; /* schema.c logged why */
	return ex;
}

/* run(), again at a new snapshot after a DDL it cannot survive, up to
 * MAX_START_OVERS times. */
static int
copy(struct bootstrap *b)
{
	int rc;

	for (int overs = 0;; overs++) {
		if ((rc = run(b)) != START_OVER)
			return rc;
		if (overs + 1 >= MAX_START_OVERS)
			return fail(b, EX_TEMPFAIL,
			    "a DDL reached a table during "
			    "the copy %d times; run srdf-bootstrap again when "
			    "the schema is quiet",
			    MAX_START_OVERS);
		log_notice("a DDL reached a table during its copy: the copy "
		           "starts over at a new snapshot");
		if (b->abandoned == NULL)
			b->abandoned = json_array();
		for (int i = 0; i < b->nt; i++)
			json_array_append_new(
			    b->abandoned, json_string(b->t[i]->key));
		plan_free(b);
		atomic_store(&stopping, 0);
		b->force_fresh = 1;
		b->rows = b->bytes = 0;
		b->tables_done = 0;
	}
}

static void
bootstrap_free(struct bootstrap *b)
{
	plan_free(b);
	close_readers(b);
	if (b->meta != NULL)
		mysql_close(b->meta);
	json_decref(b->prog);
	json_decref(b->trig_rec);
	json_decref(b->abandoned);
	ddl_list_free(&b->objs);
	ddl_list_free(&b->trig);
	free(b->snap);
	free(b->fresh_why);
	buf_free(&b->line);
	buf_free(&b->rp.body);
	free(b->rp.t);
	ledger_close(b->l);
}

int
main(int argc, char **argv)
{
	struct config cf = {0};
	struct bootstrap b = {0};
	int rc;

	log_init(argv[0]);
	xalloc_big_buffers();
	cf.group = "srdf-bootstrap";
	cf.dir = getenv("SRDF_DIR") ? getenv("SRDF_DIR") : "/var/lib/srdf";
	cf.parallel = 1;
	cf.chunk_rows = DEFAULT_CHUNK_ROWS;
	cf.chunk_bytes = DEFAULT_CHUNK_BYTES;
	cf.resync_spool = 8;
	cf.max_lag_ms = DEFAULT_MAX_LAG_MS;
	parse_options(argc, argv, &cf);
	if ((cf.resync != NULL || cf.add != NULL) && cf.restart)
		die(EX_USAGE,
		    "--%s and --restart do not go together: "
		    "--%s copies into a running pipeline, --restart "
		    "everything afresh",
		    cf.resync ? "resync" : "add", cf.resync ? "resync" : "add");
	if ((cf.resync_after != NULL || cf.resync_upto != NULL) &&
	    cf.resync == NULL)
		die(EX_USAGE,
		    "--resync-after and --resync-upto go with --resync");
	if (cf.resync != NULL && cf.add != NULL)
		die(EX_USAGE, "--resync and --add do not go together: run one, "
		              "then the other");
	if ((cf.resync != NULL || cf.add != NULL) && !cf.chunk_rows_set)
		cf.chunk_rows = 1000; /* short locks (resync.c) */
	if ((cf.resync != NULL || cf.add != NULL) && !cf.chunk_bytes_set)
		cf.chunk_bytes = 4ULL << 20;
	if (cf.resync == NULL && cf.add == NULL && isatty(STDOUT_FILENO))
		die(EX_USAGE,
		    "stdout is a terminal: pipe the records into "
		    "srdf-seal (srdf-bootstrap ... | srdf-seal --dir DIR "
		    "--key-file KEY)");

	b.cf = &cf;
	open_dir_or_die(&cf, &b);
	tool_catch(on_signal);
	if (cf.resync != NULL || cf.add != NULL) {
		if ((rc = source_connect(&b, &b.meta)) == 0)
			rc = cf.resync != NULL
			         ? resync_table(&cf, b.l, b.meta, cf.resync)
			         : add_tables(&cf, b.l, b.meta, cf.add);
	} else if ((rc = source_open(&b)) == 0) {
		b.force_fresh = cf.restart;
		b.t0 = now();
		rc = copy(&b);
	}
	heartbeat_stop(rc);
	if (rc == EX_TEMPFAIL && signalled && !b.failed)
		log_notice("stopped by a signal; run srdf-bootstrap again to "
		           "resume the copy");
	bootstrap_free(&b);
	free(cf.include);
	free(cf.exclude);
	return rc;
}
