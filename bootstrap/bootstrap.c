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
#include "xalloc.h"

#define DEFAULT_CHUNK_ROWS 10000
#define DEFAULT_CHUNK_BYTES (32ULL << 20)
#define MAX_PARALLEL 64
#define SNAPSHOT_TRIES 20   /* to get all --parallel snapshots at one position */
#define PLAN_TRIES 5	    /* a DDL between the two definition reads */
#define MAX_START_OVERS 5   /* a DDL during the copy: rounds of each kind */
#define RING 64		    /* chunks remembered per table */
#define START_OVER (-1)

atomic_int stopping;
static volatile sig_atomic_t signalled;

struct bootstrap {
	const struct config *cf;
	MYSQL *meta;	     /* autocommit, utf8mb4 results */
	struct ledger *l;
	json_t *prog;	     /* meta "bootstrap_progress" */
	const char *gtid1;   /* where capture starts (in prog) */
	char first[48];	     /* first_gtid/last_gtid of every group */
	char *snap;	     /* this run's snapshot position */
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

	struct buf line;
	double t0, last_report;
	uint64_t rows, bytes, est_rows;
	int tables_done;
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

/* ---- output ------------------------------------------------------------ */

static void
out(const void *p, size_t n)
{
	if (write_all(STDOUT_FILENO, p, n) < 0)
		die(EX_IOERR, "cannot write records to stdout: %s%s",
		    strerror(errno), errno == EPIPE ? " (the reader of stdout "
						      "has gone: srdf-seal died?)"
						    : "");
}

static void
group_begin(struct bootstrap *b, int g, const struct ttable *t)
{
	struct buf *l = &b->line;

	l->len = 0;
	buf_printf(l, "{\"v\":1,\"type\":\"group_begin\",\"group\":%d,"
		      "\"chunk\":1,\"first_gtid\":\"%s\",\"bootstrap\":true",
	    g, b->first);
	if (t != NULL) {
		buf_lit(l, ",\"db\":");
		buf_json_str(l, t->m.db, strlen(t->m.db));
		buf_lit(l, ",\"table\":");
		buf_json_str(l, t->m.name, strlen(t->m.name));
	}
	buf_lit(l, "}\n");
	out(l->p, l->len);
}

/* The group_end of group g (srdf-record(5)); redo: the table this
 * group's CREATE OR REPLACE TABLE copies again, or NULL. */
static void
group_end(struct bootstrap *b, int g, uint64_t events, const char *reason,
    const struct ttable *redo)
{
	struct buf *l = &b->line;

	l->len = 0;
	buf_printf(l, "{\"v\":1,\"type\":\"group_end\",\"group\":%d,\"chunk\":1,"
		      "\"last\":true,\"first_gtid\":\"%s\",\"last_gtid\":\"%s\","
		      "\"gtid_pos\":",
	    g, b->first, b->first);
	buf_json_str(l, b->gtid1, strlen(b->gtid1));
	buf_printf(l, ",\"trx\":0,\"events_in\":%" PRIu64 ",\"events_out\":%"
		      PRIu64 ",\"reason\":\"%s\",\"first_ts\":%lld,"
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
	out(l->p, l->len);
}

/* One group of one "ddl" record: rec, len bytes with its newline. */
static void
write_ddl_record(struct bootstrap *b, const char *rec, size_t len,
    const char *object, const char *name, const struct ttable *redo)
{
	int g = b->next_group++;

	if (signalled)
		die(EX_TEMPFAIL, "stopped by a signal; run srdf-bootstrap again "
		    "to resume the copy");
	group_begin(b, g, NULL);
	out(rec, len);
	group_end(b, g, 1, "ddl", redo);
	log_debug("group %d: %s %s", g, object, name);
}

static void
write_ddl(struct bootstrap *b, const struct ddl *d, const struct ttable *redo)
{
	struct buf r = {0};

	ddl_record(&r, d);
	write_ddl_record(b, r.p, r.len, d->object, d->name, redo);
	buf_free(&r);
}

/* ---- ledger ------------------------------------------------------------- */

static void
ledger_fail(const char *what, int rc)
{
	die(EX_IOERR, "cannot %s in the ledger: %s", what, ledger_strerror(rc));
}

static json_t *
meta_json(struct bootstrap *b, const char *key)
{
	struct ledger_txn *t;
	char *v = NULL;
	json_t *j = NULL;
	int rc;

	if ((rc = ledger_txn_begin(b->l, LEDGER_RDONLY, &t)) != 0 ||
	    (rc = ledger_meta_get(t, key, &v)) != 0)
		ledger_fail("read the progress", rc);
	ledger_txn_abort(t);
	if (v != NULL) {
		j = json_loads(v, 0, NULL);
		if (!json_is_object(j))
			die(EX_DATAERR, "the ledger's %s is not a JSON object; "
			    "use --restart to copy afresh", key);
		free(v);
	}
	return j;
}

static void
meta_put_json(struct ledger_txn *t, const char *key, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	int rc;

	if (s == NULL)
		die(EX_OSERR, "out of memory");
	if ((rc = ledger_meta_put(t, key, s)) != 0)
		ledger_fail("record the progress", rc);
	free(s);
}

static void
table_key(char *k, size_t n, const struct ttable *t)
{
	snprintf(k, n, "bootstrap_table:%s", t->key);
}

/* Stores t's record, and the progress record when prog. */
static void
save(struct bootstrap *b, struct ttable **t, int nt, int prog)
{
	struct ledger_txn *x;
	char key[700];
	int rc;

	if ((rc = ledger_txn_begin(b->l, 0, &x)) != 0)
		ledger_fail("record the progress", rc);
	for (int i = 0; i < nt; i++) {
		table_key(key, sizeof key, t[i]);
		meta_put_json(x, key, t[i]->prog);
	}
	if (prog) {
		meta_put_json(x, "bootstrap_progress", b->prog);
		if ((rc = ledger_meta_put(x, "bootstrap_gtid", b->gtid1)) != 0)
			ledger_fail("record bootstrap_gtid", rc);
		if (b->trig_rec != NULL)
			meta_put_json(x, "bootstrap_triggers", b->trig_rec);
	}
	if ((rc = ledger_txn_commit(x)) != 0)
		ledger_fail("record the progress", rc);
	if (prog && b->trig_rec != NULL) {
		json_decref(b->trig_rec);
		b->trig_rec = NULL;
	}
}

/* The groups srdf-seal sealed since the copy began: seal records each
 * wagon's group number.  Sets *sealed to the highest group of ours, in
 * unbroken order from 1; returns 1 when a wagon that is not ours follows
 * them (a capture pipeline sealed meanwhile), else 0. */
struct scan {
	const char *first;
	int64_t sealed;
	int foreign;
	uint64_t from;	/* the first sequence looked at */
	int purged;	/* the records from there on are gone: confirmed
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

static int64_t
sealed_groups(struct bootstrap *b, uint64_t base, const char *first,
    int *foreign, int *purged)
{
	struct ledger_txn *t;
	struct scan s = {first, 0, 0, base + 1, 0};
	int rc;

	if ((rc = ledger_txn_begin(b->l, LEDGER_RDONLY, &t)) != 0)
		ledger_fail("read the wagons", rc);
	rc = ledger_wagon_foreach(t, base + 1, scan_wagon, &s);
	ledger_txn_abort(t);
	if (rc != 0 && rc != 1)
		ledger_fail("read the wagons", rc);
	*foreign = s.foreign;
	*purged = s.purged;
	return s.sealed;
}

static uint64_t
last_seq(struct bootstrap *b)
{
	struct ledger_txn *t;
	uint64_t seq = 0;
	int rc;

	if ((rc = ledger_txn_begin(b->l, LEDGER_RDONLY, &t)) != 0 ||
	    (rc = ledger_wagon_last_seq(t, &seq)) != 0)
		ledger_fail("read the wagons", rc);
	ledger_txn_abort(t);
	return seq;
}

/* ---- connections ------------------------------------------------------ */

static MYSQL *
connect_or_die(const struct config *cf)
{
	int ex;
	MYSQL *my = mdb_connect(cf->defaults_file, cf->group, "the source", 0,
	    &ex);

	if (my == NULL)
		exit(ex);
	return my;
}

static void
exec_or_die(MYSQL *my, const char *q)
{
	if (mysql_query(my, q) != 0)
		die(mdb_exit_for(mysql_errno(my)), "%s: %s", q, mysql_error(my));
}

/* The session of a reader: a REPEATABLE READ snapshot (the only level at
 * which WITH CONSISTENT SNAPSHOT means anything), exact bytes, UTC, and
 * patience while stdout's reader is slow. */
static MYSQL *
reader_connect(const struct config *cf)
{
	MYSQL *my = connect_or_die(cf);

	exec_or_die(my, "SET SESSION TRANSACTION ISOLATION LEVEL "
			"REPEATABLE READ");
	exec_or_die(my, "SET SESSION time_zone='+00:00', "
			"sql_mode='NO_ENGINE_SUBSTITUTION', "
			"character_set_results=binary, net_write_timeout=3600, "
			"net_read_timeout=3600, wait_timeout=604800, "
			"max_statement_time=0");
	return my;
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
	if (mysql_query(s->my, "START TRANSACTION WITH CONSISTENT SNAPSHOT") != 0)
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
		log_warn("%lu XA transaction%s prepared on the source at the "
		    "snapshot (%s%s): one prepared before GTID position '%s' "
		    "is not in the copy, and its XA COMMIT will stop "
		    "srdf-apply; if so, commit or roll it back on the source "
		    "and run "
		    "srdf-bootstrap --restart", n, n == 1 ? " is" : "s are",
		    l.p, l.len > 200 ? "; ..." : "", pos);
	}
	buf_free(&l);
}

/* Opens the readers, all in one consistent snapshot; sets b->snap. */
static void
snapshots(struct bootstrap *b)
{
	const struct config *cf = b->cf;
	int n = cf->parallel, best = 0, bestn = 0;
	struct snapshot *s = calloc((size_t)n, sizeof *s);
	pthread_t *tid = calloc((size_t)n, sizeof *tid);
	pthread_barrier_t bar;
	struct buf q = {0};
	char *g;

	if (s == NULL || tid == NULL)
		die(EX_OSERR, "out of memory");
	for (int i = 0; i < n; i++)
		s[i].my = reader_connect(cf);
	for (int attempt = 1;; attempt++) {
		if (n == 1)
			snapshot_take(&s[0]);
		else {
			pthread_barrier_init(&bar, NULL, (unsigned)n);
			for (int i = 0; i < n; i++) {
				s[i].bar = &bar;
				if (pthread_create(&tid[i], NULL, snapshot_take,
					&s[i]) != 0)
					die(EX_OSERR, "cannot start a thread");
			}
			for (int i = 0; i < n; i++)
				pthread_join(tid[i], NULL);
			pthread_barrier_destroy(&bar);
		}
		best = -1;
		bestn = 0;
		for (int i = 0; i < n; i++) {
			int k = 0;

			for (int j = 0; j < n; j++)
				k += same_pos(&s[i], &s[j]);
			if (k > bestn) {
				bestn = k;
				best = i;
			}
		}
		if (best < 0)
			die(EX_UNAVAILABLE, "cannot start a consistent snapshot "
			    "on the source: %s", mysql_error(s[0].my));
		if (bestn == n || attempt >= SNAPSHOT_TRIES)
			break;
		for (int i = 0; i < n; i++)
			mysql_query(s[i].my, "ROLLBACK");
	}
	if (bestn < n)
		log_notice("%d of %d connections share one snapshot after %d "
			   "tries (the source commits between them): copying "
			   "with %d reader%s",
		    bestn, n, SNAPSHOT_TRIES, bestn, bestn == 1 ? "" : "s");
	b->nrd = 0;
	if ((b->rd = calloc((size_t)bestn, sizeof *b->rd)) == NULL)
		die(EX_OSERR, "out of memory");
	for (int i = 0; i < n; i++) {
		if (same_pos(&s[i], &s[best])) {
			b->rd[b->nrd].cf = cf;
			b->rd[b->nrd++].my = s[i].my;
		} else
			mysql_close(s[i].my);
	}
	buf_lit(&q, "SELECT BINLOG_GTID_POS('");
	mdb_escape(&q, s[best].file);
	buf_printf(&q, "', %llu)", s[best].pos);
	buf_putc(&q, '\0');
	g = mdb_query_one(b->rd[0].my, q.p);
	if (g == NULL)
		die(EX_UNAVAILABLE, "%s: %s", q.p, mysql_error(b->rd[0].my));
	if (*g == '\0')
		die(EX_CONFIG, "the source's binlog holds no GTID at %s:%llu "
		    "yet, so there is no position for srdf-capture to "
		    "continue from: commit one transaction on the source and "
		    "run srdf-bootstrap again", s[best].file, s[best].pos);
	free(b->snap);
	b->snap = g;
	b->ts = time(NULL);
	log_info("snapshot at %s:%llu, GTID position '%s'%s", s[best].file,
	    s[best].pos, g, b->nrd > 1 ? ", shared by every reader" : "");
	xa_prepared(b->rd[0].my, g);
	buf_free(&q);
	free(s);
	free(tid);
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
	mdb_table_free(&t->m);
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
	mdb_table_where(&q, db, name);
	buf_putc(&q, '\0');
	v = mdb_query_one(my, q.p);
	yes = v != NULL && strcmp(v, "bigint") == 0;
	free(v);
	buf_free(&q);
	return yes;
}

static void
plan_list_into(struct bootstrap *b, struct ttable ***v, int *n)
{
	const struct config *cf = b->cf;
	MYSQL_RES *r;
	MYSQL_ROW row;

	if (mysql_query(b->meta, "SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE, "
				 "TABLE_ROWS, DATA_LENGTH, TABLE_TYPE FROM "
				 "information_schema.TABLES WHERE TABLE_TYPE IN "
				 "('BASE TABLE','SEQUENCE','SYSTEM VERSIONED') "
				 "ORDER BY TABLE_TYPE <> 'SEQUENCE', 1, 2") != 0 ||
	    (r = mysql_store_result(b->meta)) == NULL)
		die(mdb_exit_for(mysql_errno(b->meta)), "cannot list the "
		    "source's tables: %s", mysql_error(b->meta));
	while ((row = mysql_fetch_row(r)) != NULL) {
		struct ttable *t;
		char key[300];
		unsigned e;

		if (!mdb_selected(cf->databases, cf->include, cf->ninclude,
			cf->exclude, cf->nexclude, row[0], row[1]))
			continue;
		if (row[2] != NULL && strcasecmp(row[2], "InnoDB") != 0)
			log_warn("%s.%s uses %s, not InnoDB: the snapshot does "
				 "not cover it, its rows are copied as they are "
				 "when read", row[0], row[1], row[2]);
		if (row[5] != NULL && strcmp(row[5], "SYSTEM VERSIONED") == 0 &&
		    versioned_by_trx(b->meta, row[0], row[1]))
			log_warn("%s.%s is system-versioned by transaction "
				 "id: MariaDB writes its changes to the binlog "
				 "as statements, which srdf-capture refuses; "
				 "leave it out with --exclude '%s.%s' here and "
				 "for srdf-capture", row[0], row[1], row[0],
			    row[1]);
		if ((t = calloc(1, sizeof *t)) == NULL)
			die(EX_OSERR, "out of memory");
		snprintf(key, sizeof key, "%s.%s", row[0], row[1]);
		t->key = xstrdup(key);
		t->m.db = xstrdup(row[0]);
		t->m.name = xstrdup(row[1]);
		t->est_rows = row[3] ? strtoull(row[3], NULL, 10) : 0;
		t->est_bytes = row[4] ? strtoull(row[4], NULL, 10) : 0;
		{
			char *h = table_def(b->meta, row[0], row[1], &t->create,
			    &e);

			if (h == NULL) {
				if (e == ER_NO_SUCH_TABLE) { /* dropped now */
					free(t->key);
					free(t->m.db);
					free(t->m.name);
					free(t);
					continue;
				}
				die(mdb_exit_for(e), "cannot read the definition "
				    "of %s: %s", key, mysql_error(b->meta));
			}
			snprintf(t->def, sizeof t->def, "%s", h);
			free(h);
		}
		if ((*v = realloc(*v, sizeof **v * (size_t)(*n + 1))) == NULL)
			die(EX_OSERR, "out of memory");
		(*v)[(*n)++] = t;
	}
	mysql_free_result(r);
}

static void
plan_list(struct bootstrap *b)
{
	plan_list_into(b, &b->t, &b->nt);
}

/* The period columns of system-versioned table m, which mdb_table_load
 * leaves out, put back at the end: the copy is of its history too (FOR
 * SYSTEM_TIME ALL, rows.c), each row with its period, which srdf-apply
 * writes as the source's (srdf-apply(1), "System-versioned tables").
 * ROW END also ends the primary key, as MariaDB makes it; a table made
 * WITH SYSTEM VERSIONING alone has them hidden, as row_start and
 * row_end. */
static void
period_columns(struct bootstrap *b, struct mdb_table *m)
{
	static const char *const gen[] = {"ROW START", "ROW END"};
	static const char *const hidden[] = {"row_start", "row_end"};

	if ((m->col = realloc(m->col, (size_t)(m->ncols + 2) * sizeof *m->col)) ==
	    NULL)
		die(EX_OSERR, "out of memory");
	for (int i = 0; i < 2; i++) {
		struct mdb_col *c = &m->col[m->ncols];
		struct buf q = {0};
		char *v;

		buf_printf(&q, "SELECT COLUMN_NAME FROM information_schema."
			       "COLUMNS WHERE GENERATION_EXPRESSION = '%s' AND ",
		    gen[i]);
		mdb_table_where(&q, m->db, m->name);
		buf_putc(&q, '\0');
		v = mdb_query_one(b->meta, q.p);
		buf_free(&q);
		memset(c, 0, sizeof *c);
		c->name = v != NULL ? v : xstrdup(hidden[i]);
		c->data_type = xstrdup("timestamp");
		c->kind = MDB_K_TEMPORAL;
		if (i == 1 && m->npk > 0) /* pk: room for it (mdb.c) */
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
 * record head and SELECT; dies when they cannot be read. */
static void
table_columns(struct bootstrap *b, struct ttable *t, char *db, char *name)
{
	char err[512];
	unsigned e;

	if (mdb_table_load(b->meta, db, name, &t->m, &e, err, sizeof err) != 0)
		die(e ? mdb_exit_for(e) : EX_UNAVAILABLE, "%s", err);
	if (t->m.versioned)
		period_columns(b, &t->m);
	free(db);
	free(name);
	table_prepare(t);
}

/* The selection's routines and views into *o, the triggers of its
 * tables (b->t) into *trg; dies when they cannot be read. */
static void
objects_read(struct bootstrap *b, struct ddl_list *o, struct ddl_list *trg)
{
	int ex;

	if ((ex = schema_routines(b->meta, b->cf, o)) != 0 ||
	    (ex = schema_views(b->meta, b->cf, o)) != 0 ||
	    (ex = schema_events(b->meta, b->cf, o)) != 0 ||
	    (ex = schema_triggers(b->meta, b->cf, b->t, b->nt, trg)) != 0)
		exit(ex);
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

/* After the snapshot: the tables are the plan's, and every definition
 * is what it was before it (no DDL slipped in between), then the columns
 * are read.  Returns 0, or -1 when a table moved (take the snapshot
 * again). */
static int
plan_confirm(struct bootstrap *b)
{
	struct ttable **now = NULL;
	int nnow = 0, same;

	/* A table created between the listing and the snapshot is not in
	 * the plan while its CREATE is before the snapshot's position:
	 * nothing would bring it to the target. */
	plan_list_into(b, &now, &nnow);
	same = same_tables(b, now, nnow);
	for (int i = 0; i < nnow; i++)
		table_free(now[i]);
	free(now);
	if (!same) {
		log_notice("a table of the selection was created, dropped or "
			   "renamed while the snapshot was taken; taking it "
			   "again");
		return -1;
	}
	for (int i = 0; i < b->nt; i++) {
		struct ttable *t = b->t[i];
		char *h, *db = t->m.db, *name = t->m.name;
		unsigned e;

		h = table_def(b->meta, db, name, NULL, &e);
		if (h == NULL || strcmp(h, t->def) != 0) {
			log_notice("%s changed while the snapshot was taken; "
				   "taking it again", t->key);
			free(h);
			return -1;
		}
		free(h);
		t->m.db = NULL;
		t->m.name = NULL;
		table_columns(b, t, db, name);
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

static void
set_fresh(struct bootstrap *b, const char *fmt, ...)
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
	json_array_foreach(names, i, v) {
		if (!json_is_string(v) || plan_find(b, json_string_value(v)) ==
		    NULL)
			return 0;
	}
	return 1;
}

/* Decides, table by table, what a resumed copy still has to do, from
 * the old records and `sealed'.  Calls set_fresh when it cannot go on.
 * A table with a primary key whose definition changed since (a DDL
 * after the snapshot it was read at), or whose CREATE OR REPLACE of a
 * copy again was not sealed, is copied again whole at the new snapshot
 * (redo_changed), when the tables are those of the copy by name. */
static void
resume_plan(struct bootstrap *b, json_t *old, int64_t sealed)
{
	json_t *names = json_object_get(old, "tables"), *v;
	int same = same_names(b, names);
	size_t i;

	json_array_foreach(names, i, v) {
		const char *key = json_string_value(v);
		struct ttable *t = key ? plan_find(b, key) : NULL;
		json_t *rec, *chunks, *c, *keep;
		char k[700];
		json_int_t first, done;
		size_t j;

		if (key == NULL)
			continue;
		snprintf(k, sizeof k, "bootstrap_table:%s", key);
		if ((rec = meta_json(b, k)) == NULL) {
			set_fresh(b, "the ledger has no record for %s", key);
			return;
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
			continue;
		}
		if (t == NULL) {
			set_fresh(b, "%s is gone, before it was copied", key);
			json_decref(rec);
			return;
		}
		if ((strcmp(jstr(rec, "def"), t->def) != 0 ||
		    json_integer_value(json_object_get(rec, "redo_group")) >
		        sealed) && t->m.npk > 0 && same) {
			log_notice("%s is copied again whole at the new "
				   "snapshot (%s)", key, strcmp(jstr(rec, "def"),
				       t->def) != 0 ? "a DDL reached it since "
				   "the copy began" : "its copy again had only "
				   "begun");
			json_decref(rec);
			t->prog = new_table_record(t);
			t->recreate = t->redo = 1;
			continue;
		}
		if (strcmp(jstr(rec, "def"), t->def) != 0) {
			set_fresh(b, "the definition of %s changed since the "
				     "copy began", key);
			json_decref(rec);
			return;
		}
		if (t->m.npk == 0) {
			set_fresh(b, "%s has no primary key and was not "
				     "finished: its rows can only be copied at "
				     "the first snapshot", key);
			json_decref(rec);
			return;
		}
		/* Keep the chunks that were sealed, go on after the last. */
		chunks = json_object_get(rec, "chunks");
		keep = json_array();
		json_array_foreach(chunks, j, c) {
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
			json_t *lastc = json_array_get(keep,
			    json_array_size(keep) - 1);
			json_t *lits = json_array_get(lastc, 3);

			if (json_array_size(lits) != (size_t)t->m.npk) {
				t->recreate = 1;
				json_object_set_new(rec, "first_group",
				    json_integer(0));
				json_array_clear(keep);
			} else {
				t->after = calloc((size_t)t->m.npk,
				    sizeof *t->after);
				if (t->after == NULL)
					die(EX_OSERR, "out of memory");
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
		json_object_set_new(rec, "bytes",
		    json_integer((json_int_t)t->bytes));
	}
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
	    b->est_rows ? 100.0 * (double)b->rows /
			(double)(b->est_rows > b->rows ? b->est_rows : b->rows)
			: 100.0,
	    (double)b->bytes / 1e6, rate, mbs, eta);
}

/* Records c in its table's ledger record, then writes it as a group. */
static void
emit_chunk(struct bootstrap *b, struct chunk *c)
{
	struct ttable *t = c->t;
	json_t *rec = t->prog, *chunks = json_object_get(rec, "chunks");
	int g = 0;

	if (c->rows > 0) {
		json_t *lits = json_array();

		g = b->next_group++;
		t->rows += c->rows;
		t->run_rows += c->rows;
		t->bytes += c->body.len;
		if (c->lits != NULL)
			for (int i = 0; i < t->m.npk; i++)
				json_array_append_new(lits,
				    json_string(c->lits[i]));
		json_array_append_new(chunks, json_pack("[i,I,I,o]", g,
		    (json_int_t)t->rows, (json_int_t)t->bytes, lits));
		while (json_array_size(chunks) > RING)
			json_array_remove(chunks, 0);
		if (json_integer_value(json_object_get(rec, "first_group")) == 0)
			json_object_set_new(rec, "first_group", json_integer(g));
		t->last_group = g;
	}
	json_object_set_new(rec, "rows", json_integer((json_int_t)t->rows));
	json_object_set_new(rec, "bytes", json_integer((json_int_t)t->bytes));
	if (c->last) {
		json_object_set_new(rec, "state", json_string("done"));
		json_object_set_new(rec, "done_group",
		    json_integer(t->last_group));
	} else
		json_object_set_new(rec, "state", json_string("copying"));
	save(b, &t, 1, 0);
	if (c->rows > 0) {
		group_begin(b, g, t);
		out(c->body.p, c->body.len);
		group_end(b, g, c->rows, "bootstrap", NULL);
		b->rows += c->rows;
		b->bytes += c->body.len;
	}
	if (c->last) {
		t->done = 1;
		b->tables_done++;
		log_info("copied %s: %" PRIu64 " rows in this run, %" PRIu64
			 " in all", t->key, t->run_rows, t->rows);
	}
	report(b, 0);
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

/* Copies every table not done, with the readers.  Returns 0 (tables a
 * DDL reached are left changed, for redo_changed), START_OVER after a
 * DDL that the copy cannot survive, or an exit code. */
static int
copy_rows(struct bootstrap *b)
{
	struct pipe *p = &b->pipe;
	int ex = 0, changed = 0;

	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->max = 2 * b->nrd + 2;
	if ((p->todo = calloc((size_t)b->nt + 1, sizeof *p->todo)) == NULL)
		die(EX_OSERR, "out of memory");
	b->est_rows = 0;
	for (int i = 0; i < b->nt; i++) {
		struct ttable *t = b->t[i];

		if (t->done) {
			b->tables_done++;
			continue;
		}
		table_set_query(t);
		p->todo[p->ntodo++] = t;
		b->est_rows += t->est_rows > t->rows ? t->est_rows - t->rows : 0;
	}
	qsort(p->todo, (size_t)p->ntodo, sizeof *p->todo, by_order);
	p->readers = b->nrd;
	for (int i = 0; i < b->nrd; i++) {
		b->rd[i].p = p;
		if (pthread_create(&b->rd[i].tid, NULL, reader_main, &b->rd[i]) !=
		    0)
			die(EX_OSERR, "cannot start a reader thread");
	}
	for (;;) {
		struct chunk *c = NULL;
		struct timespec ts;

		pthread_mutex_lock(&p->mu);
		while (p->head == NULL && p->readers > 0 &&
		    !atomic_load(&stopping)) {
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
			break;
		}
		if ((c = p->head) != NULL) {
			p->head = c->next;
			if (p->head == NULL)
				p->tail = NULL;
			p->n--;
			pthread_cond_broadcast(&p->cv);
		}
		pthread_mutex_unlock(&p->mu);
		if (c == NULL)
			break; /* no reader left, nothing queued */
		emit_chunk(b, c);
		chunk_free(c);
	}
	for (int i = 0; i < b->nrd; i++) {
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
	for (int i = 0; i < b->nt; i++)
		changed |= b->t[i]->changed &&
		    (b->t[i]->whole || b->t[i]->m.npk == 0);
	if (ex != 0)
		return ex;
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
static void
redo_ddl(struct bootstrap *b, struct ttable *t)
{
	struct ddl_list l = {0};
	struct buf s = {0};

	buf_lit(&s, "CREATE OR REPLACE TABLE ");
	buf_puts(&s, t->create + (strncmp(t->create, "CREATE TABLE ", 13) == 0 ?
	    13 : 0));
	buf_putc(&s, '\0');
	ddl_add(&l, t->m.db, s.p, TABLE_SQL_MODE, "table", t->key);
	json_object_set_new(t->prog, "redo_group", json_integer(b->next_group));
	save(b, &t, 1, 0);
	write_ddl(b, &l.v[0], t);
	ddl_list_free(&l);
	buf_free(&s);
}

/* Whether the tables listed now (v, n) are the plan's, by name. */
static int
same_tables(struct bootstrap *b, struct ttable **v, int n)
{
	if (n != b->nt)
		return 0;
	for (int i = 0; i < n; i++)
		if (plan_find(b, v[i]->key) == NULL)
			return 0;
	return 1;
}

/* After the new snapshot: each table to copy again still has the
 * definition read before it; then its columns are read.  0, or -1 when
 * one moved again (take the snapshot again). */
static int
redo_confirm(struct bootstrap *b)
{
	for (int i = 0; i < b->nt; i++) {
		struct ttable *t = b->t[i];
		char *h, *db, *name;
		unsigned e;

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
		mdb_table_free(&t->m);
		table_columns(b, t, db, name);
	}
	return 0;
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
		struct ttable **now = NULL;
		int nnow = 0, n = 0, tries, ex;

		for (int i = 0; i < b->nt; i++)
			n += b->t[i]->changed;
		if (n == 0)
			return 0;
		if (round > MAX_START_OVERS)
			die(EX_TEMPFAIL, "a DDL reached the tables copied again "
			    "%d times; run srdf-bootstrap again when the schema "
			    "is quiet (it resumes the copy)", MAX_START_OVERS);
		for (tries = 1;; tries++) {
			int same;

			plan_list_into(b, &now, &nnow);
			same = same_tables(b, now, nnow);
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
			now = NULL;
			nnow = 0;
			if (!same) {
				log_notice("a table of the selection was created, "
					   "dropped or renamed while the copy "
					   "ran: the copy starts over");
				return START_OVER;
			}
			snapshots(b);
			if (redo_confirm(b) == 0)
				break;
			if (tries == PLAN_TRIES)
				die(EX_TEMPFAIL, "the tables to copy again keep "
				    "changing (DDL); run srdf-bootstrap again "
				    "when the schema is quiet (it resumes)");
		}
		for (int i = 0; i < b->nt; i++)
			if (b->t[i]->changed && b->t[i]->m.npk == 0) {
				log_notice("%s has no primary key now: the copy "
					   "starts over", b->t[i]->key);
				close_readers(b);
				return START_OVER;
			}
		json_object_set_new(b->prog, "snapshot_gtid",
		    json_string(b->snap));
		save(b, NULL, 0, 1);
		for (int i = 0; i < b->nt; i++) {
			struct ttable *t = b->t[i];

			if (!t->changed)
				continue;
			table_reset(t);
			t->prog = new_table_record(t);
			log_notice("%s is copied again, alone, at the snapshot "
				   "'%s' (a DDL reached it during its copy)",
			    t->key, b->snap);
			audit_event(0, "bootstrap", "copying", "copying", "%s "
			    "copied again at snapshot GTID %s after a DDL",
			    t->key, b->snap);
			redo_ddl(b, t);
		}
		b->tables_done = 0; /* copy_rows counts the done ones */
		ex = copy_rows(b);
		close_readers(b);
		if (ex != 0)
			return ex;
	}
}

/* ---- one run --------------------------------------------------------------- */

/* Reads the progress; returns 1 when the copy recorded there is
 * complete and sealed, so there is nothing to do. */
static int
load_old(struct bootstrap *b, json_t **old, int64_t *sealed)
{
	int foreign = 0, purged = 0;
	const char *first, *sel;
	char *mine;

	*old = b->force_fresh ? NULL : meta_json(b, "bootstrap_progress");
	*sealed = 0;
	if (*old == NULL)
		return 0;
	first = json_string_value(json_object_get(*old, "first_gtid"));
	sel = json_string_value(json_object_get(*old, "selection"));
	mine = selection(b->cf);
	if (sel == NULL || strcmp(sel, mine) != 0)
		die(EX_USAGE, "%s/ledger holds a copy with another selection "
		    "(%s); run with the same options to resume it, or add "
		    "--restart to copy afresh", b->cf->dir, sel ? sel : "?");
	free(mine);
	*sealed = sealed_groups(b, (uint64_t)json_integer_value(
	    json_object_get(*old, "base_seq")), first ? first : "", &foreign,
	    &purged);
	/* A copy done whose wagons were purged since was sealed whole. */
	if (strcmp(jstr(*old, "state"), "done") == 0 && (purged ||
	    *sealed >= json_integer_value(json_object_get(*old, "last_group"))))
		return 1;
	if (foreign)
		set_fresh(b, "wagons that are not the copy's were sealed after "
			     "it (srdf-capture ran?)");
	else if (*sealed < json_integer_value(json_object_get(*old,
			       "ddl_groups")))
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
		    (int)(comma ? (size_t)(comma - g) : sizeof b->first - 1), g);
	}
}

static void
emit_schema(struct bootstrap *b, json_t *old)
{
	struct ddl_list l = {0};
	struct buf s = {0};
	json_t *names = json_array();
	int ex, n;

	/* Tables of an abandoned copy (a run's before, or this run's before
	 * it started over) that are not copied now: drop them on the
	 * target, they would be stale. */
	for (int k = 0; k < 2; k++) {
		json_t *v, *tables = k == 0 ? json_object_get(old, "tables")
					    : b->abandoned;
		size_t i;

		json_array_foreach(tables, i, v) {
			const char *key = json_string_value(v), *dot;

			if (key == NULL || plan_find(b, key) != NULL ||
			    (dot = strchr(key, '.')) == NULL)
				continue;
			s.len = 0;
			buf_lit(&s, "DROP TABLE IF EXISTS ");
			{
				char db[300];

				snprintf(db, sizeof db, "%.*s", (int)(dot - key),
				    key);
				sql_ident(&s, db);
			}
			buf_putc(&s, '.');
			sql_ident(&s, dot + 1);
			buf_putc(&s, '\0');
			ddl_add(&l, "", s.p, TABLE_SQL_MODE, "table", key);
		}
	}
	if ((ex = schema_databases(b->meta, b->cf, &l)) != 0)
		exit(ex);
	for (int i = 0; i < b->nt; i++) {
		struct ttable *t = b->t[i];

		s.len = 0;
		if (strncmp(t->create, "CREATE TABLE ", 13) == 0) {
			buf_lit(&s, "CREATE OR REPLACE TABLE ");
			buf_puts(&s, t->create + 13);
		} else
			buf_puts(&s, t->create);
		buf_putc(&s, '\0');
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
	/* The triggers as of the snapshot, kept for the end of the copy
	 * (and a resumed run's): srdf-capture replays those created or
	 * dropped after it. */
	json_decref(b->trig_rec);
	b->trig_rec = json_pack("{s:i,s:[]}", "v", 1, "triggers");
	for (int i = 0; i < b->trig.n; i++) {
		const struct ddl *d = &b->trig.v[i];
		json_t *x;

		s.len = 0;
		ddl_record(&s, d);
		if ((x = json_pack("{s:s,s:s%}", "name", d->name, "record", s.p,
		    s.len)) == NULL || json_array_append_new(json_object_get(
		    b->trig_rec, "triggers"), x) != 0)
			die(EX_SOFTWARE, "cannot keep trigger %s in the ledger "
			    "(its name is not UTF-8?)", d->name);
	}

	n = l.n;
	json_decref(b->prog);
	{
		char *sel = selection(b->cf);

		b->prog = json_pack("{s:i,s:s,s:s,s:s,s:I,s:i,s:i,s:i,s:s,s:o,"
				    "s:I}",
		    "v", 1, "state", "copying", "first_gtid", b->snap,
		    "snapshot_gtid", b->snap, "base_seq",
		    (json_int_t)last_seq(b), "ddl_groups", n, "last_group", 0,
		    "runs", 1, "selection", sel, "tables", names, "started",
		    (json_int_t)time(NULL));
		free(sel);
	}
	b->gtid1 = json_string_value(json_object_get(b->prog, "first_gtid"));
	set_first(b);
	save(b, b->t, b->nt, 1);
	audit_event(0, "bootstrap", NULL, "copying", "snapshot GTID %s, %d "
	    "tables", b->snap, b->nt);
	b->next_group = 1;
	for (int i = 0; i < l.n; i++)
		write_ddl(b, &l.v[i], NULL);
	log_info("schema: %d statements (databases, tables, routines, views, "
		 "events)",
	    l.n);
	ddl_list_free(&l);
	buf_free(&s);
}

static int
run(struct bootstrap *b)
{
	json_t *old = NULL;
	int64_t sealed = 0;
	int ex, tries;

	free(b->fresh_why);
	b->fresh_why = NULL;
	if (load_old(b, &old, &sealed)) {
		log_notice("the copy in %s is complete (snapshot '%s'): "
			   "nothing to do; --restart copies afresh",
		    b->cf->dir, json_string_value(json_object_get(old,
				    "snapshot_gtid")));
		json_decref(old);
		return 0;
	}
	for (tries = 1;; tries++) {
		struct ddl_list o = {0}, trg = {0};

		plan_list(b);
		objects_read(b, &o, &trg);
		snapshots(b);
		ddl_list_free(&b->objs);
		ddl_list_free(&b->trig);
		if (plan_confirm(b) == 0) {
			objects_read(b, &b->objs, &b->trig);
			if (ddl_list_same(&o, &b->objs) &&
			    ddl_list_same(&trg, &b->trig)) {
				ddl_list_free(&o);
				ddl_list_free(&trg);
				break;
			}
			log_notice("a routine, view, event or trigger "
				   "changed while the snapshot was taken; "
				   "taking it again");
		}
		ddl_list_free(&o);
		ddl_list_free(&trg);
		close_readers(b);
		plan_free(b);
		if (tries == PLAN_TRIES)
			die(EX_TEMPFAIL, "the source's tables keep changing "
			    "(DDL) while the snapshot is taken; try later");
	}
	if (b->nt == 0)
		log_warn("no table of the source matches the selection");
	if (old != NULL && b->fresh_why == NULL)
		resume_plan(b, old, sealed);
	if (old == NULL || b->fresh_why != NULL) {
		if (b->fresh_why != NULL)
			log_notice("the copy in progress cannot be resumed (%s): "
				   "copying everything again at the new "
				   "snapshot", b->fresh_why);
		for (int i = 0; i < b->nt; i++)
			table_reset(b->t[i]);
		emit_schema(b, old);
	} else {
		json_t *names = json_object_get(old, "tables");
		struct ddl_list l = {0};
		struct buf s = {0};

		json_decref(b->prog);
		b->prog = json_incref(old);
		b->gtid1 = json_string_value(json_object_get(b->prog,
		    "first_gtid"));
		json_object_set_new(b->prog, "snapshot_gtid",
		    json_string(b->snap));
		json_object_set_new(b->prog, "state", json_string("copying"));
		json_object_set_new(b->prog, "runs", json_integer(
		    json_integer_value(json_object_get(b->prog, "runs")) + 1));
		/* Tables created meanwhile are not copied: srdf-capture
		 * replays their CREATE and rows from the first snapshot. */
		for (int i = 0; i < b->nt; i++) {
			struct ttable *t = b->t[i];
			int known = 0;
			json_t *v;
			size_t k;

			json_array_foreach(names, k, v) {
				const char *n = json_string_value(v);

				known |= n != NULL && strcmp(n, t->key) == 0;
			}
			if (!known) {
				log_info("%s is new since the copy began: "
					 "srdf-capture brings it", t->key);
				t->done = 1;
				t->prog = new_table_record(t);
				continue;
			}
			if (t->recreate && !t->redo) {
				s.len = 0;
				buf_lit(&s, "CREATE OR REPLACE TABLE ");
				buf_puts(&s, t->create + (strncmp(t->create,
				    "CREATE TABLE ", 13) == 0 ? 13 : 0));
				buf_putc(&s, '\0');
				ddl_add(&l, t->m.db, s.p, TABLE_SQL_MODE, "table",
				    t->key);
			}
		}
		b->next_group = (int)sealed + 1;
		set_first(b);
		save(b, b->t, b->nt, 1);
		audit_event(0, "bootstrap", "copying", "copying", "resumed at "
		    "snapshot GTID %s; the copy began at %s", b->snap, b->gtid1);
		for (int i = 0; i < l.n; i++)
			write_ddl(b, &l.v[i], NULL);
		for (int i = 0; i < b->nt; i++)
			if (b->t[i]->redo)
				redo_ddl(b, b->t[i]);
		ddl_list_free(&l);
		buf_free(&s);
		log_notice("resuming the copy begun at GTID position '%s' "
			   "(run %lld): %lld groups were sealed",
		    b->gtid1, (long long)json_integer_value(json_object_get(
				  b->prog, "runs")),
		    (long long)sealed);
	}
	json_decref(old);

	ex = copy_rows(b);
	close_readers(b);
	if (ex == 0)
		ex = redo_changed(b);
	if (ex != 0)
		return ex;

	{
		/* The triggers as of the first snapshot, which srdf-capture
		 * continues from; a copy begun by srdf-bootstrap 0.1.0 before
		 * the ledger kept them reads them now. */
		json_t *tr = meta_json(b, "bootstrap_triggers"), *v;
		json_t *a = json_object_get(tr, "triggers");
		struct ddl_list l = {0};
		size_t i, n;

		if (tr == NULL) {
			if ((ex = schema_triggers(b->meta, b->cf, b->t, b->nt,
			    &l)) != 0)
				return ex;
			log_info("the ledger holds no triggers of the copy's "
				 "snapshot (a copy begun by an older "
				 "srdf-bootstrap): reading them now");
		} else if (!json_is_array(a))
			die(EX_DATAERR, "the ledger's bootstrap_triggers has no "
			    "list of triggers; use --restart to copy afresh");
		n = tr != NULL ? json_array_size(a) : (size_t)l.n;
		json_object_set_new(b->prog, "last_group",
		    json_integer(b->next_group + (json_int_t)n - 1));
		json_object_set_new(b->prog, "state", json_string("done"));
		save(b, NULL, 0, 1);
		audit_event(0, "bootstrap", "copying", "done", "%" PRIu64 " rows "
		    "in %d tables; srdf-capture continues from %s", b->rows,
		    b->nt, b->gtid1);
		for (int k = 0; k < l.n; k++)
			write_ddl(b, &l.v[k], NULL);
		json_array_foreach(a, i, v) {
			const char *name = jstr(v, "name");
			json_t *rec = json_object_get(v, "record");

			if (!json_is_string(rec))
				die(EX_DATAERR, "the ledger's bootstrap_triggers: "
				    "trigger %s has no record; use --restart "
				    "to copy afresh", name);
			write_ddl_record(b, json_string_value(rec),
			    json_string_length(rec), "trigger", name, NULL);
		}
		if (n > 0)
			log_info("triggers: %zu", n);
		ddl_list_free(&l);
		json_decref(tr);
	}
	report(b, 1);
	log_notice("the copy is complete; srdf-capture continues from GTID "
		   "position '%s'", b->gtid1);
	return 0;
}

/* ---- main -------------------------------------------------------------- */

static long
num_arg(const char *s, const char *opt, long lo, long hi)
{
	uint64_t v;

	if (parse_u64(s, &v) != 0 || v < (uint64_t)lo || v > (uint64_t)hi)
		die(EX_USAGE, "%s wants a number from %ld to %ld, not '%s'", opt,
		    lo, hi, s);
	return (long)v;
}

int
main(int argc, char **argv)
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
	    {"parallel", required_argument, NULL, 'p'},
	    {"restart", no_argument, NULL, 'R'},
	    {"skip-events", no_argument, NULL, 'e'},
	    {"skip-routines", no_argument, NULL, 'r'},
	    {"skip-triggers", no_argument, NULL, 't'},
	    {"skip-views", no_argument, NULL, 'w'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct config cf = {0};
	struct bootstrap b = {0};
	struct sigaction sa;
	char *v;
	int ch, rc, overs;

	log_init(argv[0]);
	xalloc_big_buffers();
	cf.group = "srdf-bootstrap";
	cf.dir = getenv("SRDF_DIR") ? getenv("SRDF_DIR") : "/var/lib/srdf";
	cf.parallel = 1;
	cf.chunk_rows = DEFAULT_CHUNK_ROWS;
	cf.chunk_bytes = DEFAULT_CHUNK_BYTES;
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'B':
			if (parse_size(optarg, &cf.chunk_bytes) != 0 ||
			    cf.chunk_bytes < 4096)
				die(EX_USAGE, "bad --chunk-bytes %s (a size of "
				    "4K or more)", optarg);
			break;
		case 'c':
			cf.chunk_rows = (uint64_t)num_arg(optarg, "--chunk-rows",
			    1, 100000000);
			break;
		case 'D': cf.databases = optarg; break;
		case 'F': cf.defaults_file = optarg; break;
		case 'G': cf.group = optarg; break;
		case 'd': cf.dir = optarg; break;
		case 'i':
			if ((cf.include = realloc(cf.include, sizeof *cf.include *
			     (size_t)(cf.ninclude + 1))) == NULL)
				die(EX_OSERR, "out of memory");
			cf.include[cf.ninclude++] = optarg;
			break;
		case 'x':
			if ((cf.exclude = realloc(cf.exclude, sizeof *cf.exclude *
			     (size_t)(cf.nexclude + 1))) == NULL)
				die(EX_OSERR, "out of memory");
			cf.exclude[cf.nexclude++] = optarg;
			break;
		case 'p':
			cf.parallel = (int)num_arg(optarg, "--parallel", 1,
			    MAX_PARALLEL);
			break;
		case 'R': cf.restart = 1; break;
		case 'r': cf.skip_routines = 1; break;
		case 't': cf.skip_triggers = 1; break;
		case 'w': cf.skip_views = 1; break;
		case 'e': cf.skip_events = 1; break;
		case 'v': log_set_verbose(1); break;
		default:
			opt_std(ch, "srdf-bootstrap", usage);
		}
	}
	opt_no_operands(argc, usage);
	if (isatty(STDOUT_FILENO))
		die(EX_USAGE, "stdout is a terminal: pipe the records into "
		    "srdf-seal (srdf-bootstrap ... | srdf-seal --dir DIR "
		    "--key-file KEY)");

	if (mkdir(cf.dir, 0700) != 0 && errno != EEXIST)
		die(EX_CANTCREAT, "cannot create %s: %s", cf.dir, strerror(errno));
	lock_dir_or_die(cf.dir, "srdf-bootstrap");
	if ((rc = ledger_open(cf.dir, 0, &b.l)) != 0)
		die(EX_CANTCREAT, "cannot open the ledger in %s: %s", cf.dir,
		    ledger_strerror(rc));
	audit_open(cf.dir);
	audit_source_of(b.l);
	heartbeat_start(cf.dir, "srdf-bootstrap", 0, 0);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	b.cf = &cf;
	b.meta = connect_or_die(&cf);
	/* UTC, as the readers: SHOW CREATE TABLE writes a TIMESTAMP
	 * default in the session's time zone, which the "ddl" records
	 * name (schema.c, ddl_record). */
	exec_or_die(b.meta, "SET SESSION wait_timeout=604800, "
			    "max_statement_time=0, time_zone='+00:00'");
	if ((v = mdb_query_one(b.meta, "SELECT @@log_bin")) == NULL ||
	    strcmp(v, "1") != 0)
		die(EX_CONFIG, "the source has no binlog (log_bin): there is no "
		    "position srdf-capture could continue from");
	free(v);
	if ((rc = schema_check_triggers(b.meta, &cf)) != 0) {
		heartbeat_stop(rc);
		mysql_close(b.meta);
		ledger_close(b.l);
		free(cf.include);
		free(cf.exclude);
		return rc;
	}
	b.force_fresh = cf.restart;
	b.t0 = now();
	for (overs = 0;; overs++) {
		rc = run(&b);
		if (rc != START_OVER)
			break;
		if (overs + 1 >= MAX_START_OVERS)
			die(EX_TEMPFAIL, "a DDL reached a table during the copy "
			    "%d times; run srdf-bootstrap again when the "
			    "schema is quiet", MAX_START_OVERS);
		log_notice("a DDL reached a table during its copy: the copy "
			   "starts over at a new snapshot");
		if (b.abandoned == NULL)
			b.abandoned = json_array();
		for (int i = 0; i < b.nt; i++)
			json_array_append_new(b.abandoned,
			    json_string(b.t[i]->key));
		plan_free(&b);
		atomic_store(&stopping, 0);
		b.force_fresh = 1;
		b.rows = b.bytes = 0;
		b.tables_done = 0;
	}
	heartbeat_stop(rc);
	if (rc == EX_TEMPFAIL && signalled)
		log_notice("stopped by a signal; run srdf-bootstrap again to "
			   "resume the copy");
	plan_free(&b);
	close_readers(&b);
	mysql_close(b.meta);
	json_decref(b.prog);
	json_decref(b.trig_rec);
	json_decref(b.abandoned);
	ddl_list_free(&b.objs);
	ddl_list_free(&b.trig);
	free(b.snap);
	free(b.fresh_why);
	buf_free(&b.line);
	ledger_close(b.l);
	free(cf.include);
	free(cf.exclude);
	return rc;
}
