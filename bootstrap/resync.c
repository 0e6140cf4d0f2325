/*
 * resync.c — srdf-bootstrap --resync db.table: one table copied again
 * into a running pipeline, while srdf-capture goes on (srdf-bootstrap(1),
 * "Copying a table again online").
 *
 * The table is read in primary-key chunks, each in a short transaction
 * of its own on the source:
 *	SELECT ... WHERE key > last ORDER BY key LIMIT n LOCK IN SHARE MODE
 *	(the rows into a chunk file DIR/resync/NAME, fsync'd, renamed)
 *	UPDATE srdf.resync SET file=NAME, last key, ... (the watermark)
 *	COMMIT
 * The locking read (REPEATABLE READ: next-key locks, the gaps too) keeps
 * every other transaction off the range (last, key of the chunk's last
 * row] until the COMMIT, so the chunk is exactly the range's state at
 * the watermark's place in the binlog.  srdf-capture writes the chunk
 * file's records into that transaction's group (capture.c, "Resync
 * chunks"): a "range" record, which makes srdf-apply delete the
 * target's rows of the range, then the chunk's rows as inserts, inside
 * the wagon's transaction and checkpoint like any change.  No snapshot
 * is held for the whole table; a chunk's locks last as long as its read.
 *
 * Crash safety: the source's srdf.resync row is the truth of how far
 * the copy is, as it commits with the watermark.  A chunk file is
 * written before the COMMIT under a name no other attempt uses, so a
 * COMMIT that did not happen leaves an orphan (removed at the end), and
 * one that did finds its file.  A run resumes after the last committed
 * key.  Chunk files are removed once the ledger's last_sealed_gtid covers
 * their watermark's GTID (srdf-capture restarts from there and will not
 * read them again); at most --resync-spool files wait, so the copy goes
 * at the pipeline's pace and the disk holds a bounded amount.
 *
 * --resync-after/--resync-upto (srdf-verify --repair) copy one key range
 * only: its bounds are taken from the source's nearest rows (bound_row),
 * and its last chunk's range ends at the upper bound instead of +inf.
 *
 * --add pattern (add_tables, "Adding tables online" there): a first
 * watermark (the job's row, db "", state "schema") names a file of DDL
 * records, written while a read of each table holds its metadata lock;
 * once it is sealed, the pattern goes into the ledger's selection_added
 * (srdf-capture reads it at start) and a second watermark (state
 * "including") makes the running capture take the tables from there
 * on; then each table is copied as by --resync.
 *
 * Calling sequence: resync_table() or add_tables() from main(), after
 * the state directory is locked and the source connected.
 *
 * Error handling: returns an exit status (sysexits) after logging why;
 * a deadlock or lock wait timeout on a chunk tries it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <dirent.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <mysqld_error.h>
#include <sodium.h>

#include "bootstrap.h"
#include "audit.h"
#include "clock.h"
#include "fault.h"
#include "gtid.h"
#include "heartbeat.h"
#include "ledger.h"
#include "log.h"
#include "sql.h"
#include "xalloc.h"

#define CHUNK_TRIES 20

/* A chunk whose file waits for its watermark to be sealed. */
struct pending {
	char *file;
	char *gtid;
};

struct resync {
	const struct config *cf;
	struct ledger *l;
	MYSQL *my;
	struct ttable t;
	char dir[4096];
	char prefix[64]; /* of its chunk files: "r<hash>-" */
	char *qdb, *qtb; /* db and table as SQL string literals */
	uint64_t chunk, rows, bytes, est_rows;
	uint64_t run_rows, run_bytes; /* this run's, for its rates */
	struct buf lo;       /* the last key copied as a key image, or empty */
	json_t *lits;        /* ... as SQL literals (array), or NULL */
	char **upto;         /* --resync-upto: the range's last key, literals */
	struct buf upto_img; /* ... as a key image */
	struct pending *pend;
	size_t npend, cappend;
	double t0, last_report, last_wait_note;
	/* --max-lag (pace): the first wagon the last walk found not
	 * confirmed, whether ACKs were ever seen, the seconds paused. */
	uint64_t unconf_from;
	int acks_seen, pace_noted;
	double paused, last_pace_note;
	/* No primary key that orders ranges: the table in one chunk whose
	 * range is the whole table, up to --chunk-bytes. */
	int whole;
	/* Not InnoDB: a locking read holds off no writer until the
	 * watermark commits, so each chunk is read under LOCK TABLES READ
	 * (chunk_begin, chunk_end). */
	int locked;
	char *qname;      /* `db`.`table` */
	const char *name; /* db.table as given */
	int engine_noted; /* load_table said it is not InnoDB */
	char *def;        /* its definition's hash (table_def) as read by
	                   * def_check under a chunk's lock, NULL before */
};

/* A chunk's read begins: a transaction whose locking read keeps writers
 * off the range (InnoDB), or LOCK TABLES READ on the table, srdf.resync
 * WRITE for the watermark (another engine: no writer until UNLOCK
 * TABLES, after the watermark's autocommitted UPDATE).  0, 1 to try
 * again (a lock wait timeout), or an exit status. */
static int chunk_begin(struct resync *r);

/* Ends it: ok, the watermark commits (COMMIT, or UNLOCK TABLES after the
 * UPDATE that autocommitted); else it is rolled back.  0, or -1 when the
 * COMMIT failed (mysql_errno says why). */
static int chunk_end(struct resync *r, int ok);

static int load_table(struct resync *r, const char *name);
static void unload_table(struct resync *r);

/* s as a '...' SQL string literal. */
static void
sqlstr(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	maria_escape(b, s);
	buf_putc(b, '\'');
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
q_err(struct resync *r, const char *what)
{
	log_err("%s.%s: cannot %s: %s", r->t.m.db, r->t.m.name, what,
	    mysql_error(r->my));
	return maria_exit_for(mysql_errno(r->my));
}

static int
q(struct resync *r, const char *sql, const char *what)
{
	if (mysql_query(r->my, sql) != 0)
		return q_err(r, what);
	return 0;
}

/* The ledger's last_sealed_gtid (malloc'd), or NULL. */
static char *
sealed_pos(struct resync *r)
{
	struct ledger_txn *x = NULL;
	char *v = NULL;

	if (ledger_txn_begin(r->l, LEDGER_RDONLY, &x) != 0)
		return NULL;
	if (ledger_meta_get(x, "last_sealed_gtid", &v) != 0)
		v = NULL;
	ledger_txn_abort(x);
	return v;
}

/* The chunk files whose watermark is sealed, removed.  Their number
 * left waiting. */
static size_t
reap(struct resync *r)
{
	char *pos = sealed_pos(r), path[4200];
	size_t j = 0;

	for (size_t i = 0; i < r->npend; i++) {
		struct pending *p = &r->pend[i];

		if (pos != NULL && gtid_within(p->gtid, pos)) {
			snprintf(path, sizeof path, "%s/%s", r->dir, p->file);
			if (unlink(path) != 0 && errno != ENOENT)
				log_warn("cannot remove %s: %s", path,
				    strerror(errno));
			free(p->file);
			free(p->gtid);
		} else
			r->pend[j++] = *p;
	}
	r->npend = j;
	free(pos);
	return j;
}

static void
report(struct resync *r, int final)
{
	double t = mono(), el = t - r->t0, rate;
	char eta[64] = "", line[HEARTBEAT_DETAIL_MAX];

	if (!final && t - r->last_report < 1.0)
		return;
	r->last_report = t;
	rate = el > 0 ? (double)r->run_rows / el : 0;
	if (!final && rate > 0 && r->est_rows > r->rows)
		snprintf(eta, sizeof eta, ", ETA %.0f s",
		    ceil((double)(r->est_rows - r->rows) / rate));
	snprintf(line, sizeof line,
	    "%s%s.%s: %" PRIu64 " rows of ~%" PRIu64 " (%.0f%%) in %" PRIu64
	    " chunks, %.1f MB, %.0f rows/s, %.1f MB/s%s",
	    final ? "resync copied " : "resync ", r->t.m.db, r->t.m.name,
	    r->rows, r->est_rows > r->rows ? r->est_rows : r->rows,
	    r->est_rows
	        ? 100.0 * (double)r->rows /
	              (double)(r->est_rows > r->rows ? r->est_rows : r->rows)
	        : 100.0,
	    r->chunk, (double)r->bytes / 1e6, rate,
	    el > 0 ? (double)r->run_bytes / el / 1e6 : 0, eta);
	log_info("%s", line);
	/* srdf-status: the same words, and the time paced (--max-lag) */
	if (r->paused >= 1)
		snprintf(line + strlen(line), sizeof line - strlen(line),
		    ", %.0f s paused for the lag", r->paused);
	heartbeat_detail(line);
}

/* Waits while more than max chunk files wait for their watermark to be
 * sealed (max 0: until none does).  0, or EX_TEMPFAIL when stopped. */
static int
wait_sealed(struct resync *r, size_t max)
{
	while (reap(r) > max) {
		if (atomic_load(&stopping))
			return EX_TEMPFAIL;
		if (mono() - r->last_wait_note >= 10) {
			if (r->last_wait_note > 0)
				log_notice("%s.%s: %zu resync chunks wait for "
				           "srdf-capture and srdf-seal "
				           "(--dir %s) to seal them: are they "
				           "running?",
				    r->t.m.db, r->t.m.name, r->npend,
				    r->cf->dir);
			r->last_wait_note = mono();
		}
		usleep(50 * 1000);
	}
	return 0;
}

/* The oldest wagon of the source's ledger that srdf-ackd has not
 * confirmed, as pace() walks to it. */
struct unconf {
	uint64_t seq; /* 0: none */
	double sealed_at;
	char state[16];
	int confirmed; /* a confirmed wagon came before it */
};

static int
unconf_visit(uint64_t seq, json_t *w, void *arg)
{
	struct unconf *u = arg;
	const char *st = json_string_value(json_object_get(w, "state"));

	if (st != NULL && strcmp(st, "confirmed") == 0) {
		u->confirmed = 1;
		return 0;
	}
	u->seq = seq;
	u->sealed_at = json_number_value(json_object_get(w, "sealed_at"));
	snprintf(u->state, sizeof u->state, "%s", st != NULL ? st : "?");
	return 1; /* found: the walk stops */
}

/* How far behind the target is, as the source can tell: the seconds
 * since the oldest wagon not confirmed was sealed (0 when none waits),
 * into *u; -1 when nothing says ACKs come back (no wagon ever confirmed
 * nor purged), or the ledger cannot be read.  Wagons never leave
 * confirmed (ledger.h), so each walk starts where the last one stopped. */
static double
backlog(struct resync *r, struct unconf *u)
{
	struct ledger_txn *x = NULL;
	char *purged = NULL;
	int rc;

	memset(u, 0, sizeof *u);
	if (ledger_txn_begin(r->l, LEDGER_RDONLY, &x) != 0)
		return -1;
	rc = ledger_wagon_foreach(x, r->unconf_from, unconf_visit, u);
	if (!r->acks_seen && ledger_meta_get(x, "purged_seq", &purged) == 0 &&
	    purged != NULL)
		r->acks_seen = 1;
	free(purged);
	ledger_txn_abort(x);
	if (rc != 0 && rc != 1)
		return -1;
	if (u->confirmed)
		r->acks_seen = 1;
	if (u->seq != 0)
		r->unconf_from = u->seq;
	if (!r->acks_seen)
		return -1;
	if (u->seq == 0 || u->sealed_at <= 0)
		return 0;
	return clock_wall() - u->sealed_at > 0 ? clock_wall() - u->sealed_at
	                                       : 0;
}

/* --max-lag: waits before a chunk while the pipeline is further behind
 * than that (srdf-bootstrap(1), "Copying a table again online": the copy
 * takes the pipeline's spare capacity, not the live changes' place).  0,
 * or EX_TEMPFAIL when stopped. */
static int
pace(struct resync *r)
{
	struct unconf u;
	double lag, t0 = 0;

	if (r->cf->max_lag_ms <= 0)
		return 0;
	while ((lag = backlog(r, &u)) * 1000 > (double)r->cf->max_lag_ms) {
		if (atomic_load(&stopping))
			return EX_TEMPFAIL;
		if (t0 == 0)
			t0 = mono();
		if (mono() - r->last_pace_note >= 10) {
			char line[HEARTBEAT_DETAIL_MAX];

			snprintf(line, sizeof line,
			    "%s.%s: the copy waits: wagon %" PRIu64
			    " (%s), sealed %.1f s ago, is not confirmed yet "
			    "(--max-lag %.1f s)",
			    r->t.m.db, r->t.m.name, u.seq, u.state, lag,
			    (double)r->cf->max_lag_ms / 1000);
			log_notice("%s", line);
			heartbeat_detail(line);
			r->last_pace_note = mono();
		}
		usleep(20 * 1000);
	}
	if (t0 > 0)
		r->paused += mono() - t0;
	if (lag < 0 && !r->pace_noted) {
		log_notice("%s.%s: no wagon of %s was ever confirmed by "
		           "srdf-ackd: the copy is not paced by the "
		           "pipeline's lag (--max-lag)",
		    r->t.m.db, r->t.m.name, r->cf->dir);
		r->pace_noted = 1;
	}
	return 0;
}

/* Writes the chunk file name (range record head, then body) whole and
 * durably: a temporary name, fsync, rename, fsync of the directory. */
static int
write_chunk(struct resync *r, const char *name, const struct buf *body)
{
	char tmp[4200], path[4200];
	int fd, dfd, rc = 0;

	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", r->dir, name);
	snprintf(path, sizeof path, "%s/%s", r->dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0) {
		log_err("cannot create %s: %s", tmp, strerror(errno));
		return EX_CANTCREAT;
	}
	if (write_all(fd, body->p, body->len) != 0 || fsync(fd) != 0) {
		log_err("cannot write %s: %s", tmp, strerror(errno));
		rc = EX_IOERR;
	}
	if (close(fd) != 0 && rc == 0) {
		log_err("cannot write %s: %s", tmp, strerror(errno));
		rc = EX_IOERR;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		log_err("cannot rename %s: %s", tmp, strerror(errno));
		rc = EX_IOERR;
	}
	if (rc == 0 && (dfd = open(r->dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		if (fsync(dfd) != 0) {
			log_err("cannot sync %s: %s", r->dir, strerror(errno));
			rc = EX_IOERR;
		}
		close(dfd);
	}
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* Every file of this table's resync in the spool, removed (the end:
 * the last watermark is sealed, so every earlier one is too). */
static void
remove_all(struct resync *r)
{
	DIR *d = opendir(r->dir);
	struct dirent *e;
	char path[4400];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, r->prefix, strlen(r->prefix)) == 0 ||
		    (e->d_name[0] == '.' && strncmp(e->d_name + 1, r->prefix,
		                                strlen(r->prefix)) == 0)) {
			snprintf(path, sizeof path, "%s/%s", r->dir, e->d_name);
			unlink(path);
		}
	closedir(d);
}

/* The copy's session: REPEATABLE READ (the chunks' next-key locks), UTC,
 * bytes as stored, short lock waits (a chunk is tried again), no
 * statement or idle timeout.  0, or an exit status. */
static int
session_setup(struct resync *r)
{
	int ex;

	if ((ex = q(r,
	         "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
	         "set REPEATABLE READ")) != 0)
		return ex;
	return q(r,
	    "SET SESSION time_zone='+00:00', "
	    "sql_mode='NO_ENGINE_SUBSTITUTION', "
	    "character_set_results=binary, innodb_lock_wait_timeout=5, "
	    "wait_timeout=604800, max_statement_time=0",
	    "set the session");
}

static int
chunk_begin(struct resync *r)
{
	struct buf s = {0};
	int ex = 0;

	if (!r->locked)
		return q(r, "START TRANSACTION", "start a transaction");
	buf_printf(&s, "LOCK TABLES %s READ, srdf.resync WRITE", r->qname);
	buf_putc(&s, '\0');
	if (mysql_query(r->my, s.p) != 0) {
		unsigned e = mysql_errno(r->my);

		if (e == ER_LOCK_WAIT_TIMEOUT || e == ER_LOCK_DEADLOCK)
			ex = 1;
		else {
			log_err("%s.%s: cannot LOCK TABLES ... READ (a table "
			        "not in InnoDB is copied online under a table "
			        "read lock, so the account needs the LOCK "
			        "TABLES privilege on its database and on "
			        "srdf): %s",
			    r->t.m.db, r->t.m.name, mysql_error(r->my));
			ex = maria_exit_for(e);
		}
	}
	buf_free(&s);
	return ex;
}

static int
chunk_end(struct resync *r, int ok)
{
	int rc = 0;

	if (ok && mysql_query(r->my, "COMMIT") != 0)
		rc = -1;
	if (!ok || rc != 0)
		mysql_query(r->my, "ROLLBACK");
	if (r->locked)
		mysql_query(r->my, "UNLOCK TABLES");
	return rc;
}

/* Under the chunk's lock (chunk_begin), whose metadata lock keeps DDL
 * off the table until the watermark commits: the table's definition is
 * the one the chunk reads by, so the chunk's rows have the columns the
 * target's table has at the watermark.  A DDL since (srdf-capture
 * carries it before the watermark): the table is read again, and a new
 * primary key starts the copy over from the first key.  The first check
 * reads the table again too (load_table ran before the lock).  0, 2 to
 * try the chunk again (it was ended), or an exit status. */
static int
def_check(struct resync *r)
{
	struct buf s = {0};
	char **oldpk = NULL, *h;
	int ex = 0, oldn = r->t.m.npk, samepk;
	unsigned e;

	buf_printf(&s, "SELECT 1 FROM %s LIMIT 0", r->qname);
	buf_putc(&s, '\0');
	if (mysql_query(r->my, s.p) != 0) {
		buf_free(&s);
		ex = q_err(r, "read the table");
		chunk_end(r, 0);
		return ex;
	}
	buf_free(&s);
	mysql_free_result(mysql_store_result(r->my));
	if ((h = table_def(r->my, r->t.m.db, r->t.m.name, NULL, &e)) == NULL) {
		ex = q_err(r, "read the table's definition");
		chunk_end(r, 0);
		return ex;
	}
	if (r->def != NULL && strcmp(h, r->def) == 0) {
		free(h);
		return 0;
	}
	chunk_end(r, 0);
	if (r->def != NULL)
		log_notice("%s: its definition changed during the copy (a "
		           "DDL): the copy goes on with the new one",
		    r->name);
	oldpk = xcalloc((size_t)oldn + 1, sizeof *oldpk);
	for (int i = 0; i < oldn; i++)
		oldpk[i] = xstrdup(r->t.m.col[r->t.m.pk[i]].name);
	unload_table(r);
	if ((ex = load_table(r, r->name)) == 0) {
		samepk = r->t.m.npk == oldn;
		for (int i = 0; samepk && i < oldn; i++)
			samepk = strcmp(oldpk[i],
			             r->t.m.col[r->t.m.pk[i]].name) == 0;
		if (!samepk && (r->lo.len > 0 || r->lits != NULL)) {
			log_notice("%s: its primary key changed: the copy "
			           "starts over from the first key",
			    r->name);
			r->lo.len = 0;
			json_decref(r->lits);
			r->lits = NULL;
		}
		r->def = h;
		h = NULL;
		ex = 2;
	}
	for (int i = 0; i < oldn; i++)
		free(oldpk[i]);
	free(oldpk);
	free(h);
	return ex;
}

/* The watermark table, srdf.resync, created when missing. */
static int
watermark_table(struct resync *r)
{
	int ex;

	if ((ex = q(r, "CREATE DATABASE IF NOT EXISTS srdf",
	         "create the database srdf")) != 0 ||
	    (ex = q(r,
	         "CREATE TABLE IF NOT EXISTS srdf.resync ("
	         "db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, "
	         "state VARCHAR(16) NOT NULL, "
	         "chunk BIGINT UNSIGNED NOT NULL DEFAULT 0, "
	         "file VARCHAR(255) NULL, "
	         "last_key LONGTEXT NULL, last_lits LONGTEXT NULL, "
	         "rows_copied BIGINT UNSIGNED NOT NULL DEFAULT 0, "
	         "bytes_copied BIGINT UNSIGNED NOT NULL DEFAULT 0, "
	         "started DATETIME(6) NULL, "
	         "PRIMARY KEY (db, tbl)) ENGINE=InnoDB",
	         "create srdf.resync")) != 0)
		return ex;
	return 0;
}

/* This table's row in srdf.resync: a copy in progress is resumed after
 * its last key, any other started afresh. */
static int
watermark_open(struct resync *r)
{
	struct buf s = {0};
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ex;

	if ((ex = watermark_table(r)) != 0)
		return ex;
	buf_printf(&s,
	    "SELECT state, chunk, last_key, last_lits, rows_copied, "
	    "bytes_copied FROM srdf.resync WHERE db=%s AND tbl=%s",
	    r->qdb, r->qtb);
	buf_putc(&s, '\0');
	if (mysql_query(r->my, s.p) != 0 ||
	    (res = mysql_store_result(r->my)) == NULL) {
		buf_free(&s);
		return q_err(r, "read srdf.resync");
	}
	row = mysql_fetch_row(res);
	if (row != NULL && row[0] != NULL && strcmp(row[0], "copying") == 0) {
		r->chunk = strtoull(row[1], NULL, 10);
		if (row[2] != NULL && row[3] != NULL) {
			buf_puts(&r->lo, row[2]);
			r->lits = json_loads(row[3], 0, NULL);
			if (!json_is_array(r->lits) ||
			    json_array_size(r->lits) != (size_t)r->t.m.npk) {
				mysql_free_result(res);
				buf_free(&s);
				log_err("srdf.resync's last key of %s.%s is "
				        "damaged; delete its row there to copy "
				        "the table again from its start",
				    r->t.m.db, r->t.m.name);
				return EX_DATAERR;
			}
		}
		r->rows = strtoull(row[4], NULL, 10);
		r->bytes = strtoull(row[5], NULL, 10);
		log_notice("%s.%s: resuming the resync after chunk %" PRIu64
		           " (%" PRIu64 " rows copied)",
		    r->t.m.db, r->t.m.name, r->chunk, r->rows);
		audit_event(0, "resync", "copying", "copying",
		    "%s.%s resumed after chunk %" PRIu64, r->t.m.db,
		    r->t.m.name, r->chunk);
		mysql_free_result(res);
		buf_free(&s);
		return 0;
	}
	mysql_free_result(res);
	s.len = 0;
	buf_printf(&s,
	    "REPLACE INTO srdf.resync (db, tbl, state, started) "
	    "VALUES (%s, %s, 'copying', UTC_TIMESTAMP(6))",
	    r->qdb, r->qtb);
	buf_putc(&s, '\0');
	ex = q(r, s.p, "start its row of srdf.resync");
	buf_free(&s);
	if (ex == 0)
		audit_event(0, "resync", NULL, "copying", "%s.%s", r->t.m.db,
		    r->t.m.name);
	return ex;
}

/* A JSON array of npk SQL literals (a key of the table), as strings
 * (malloc'd, NULL-terminated array), or NULL when text is not one. */
static char **
lits_parse(const char *text, int npk)
{
	json_t *a = json_loads(text, 0, NULL), *e;
	char **l;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) != (size_t)npk) {
		json_decref(a);
		return NULL;
	}
	l = xcalloc((size_t)npk + 1, sizeof *l);
	json_array_foreach(a, i, e)
	{
		if (!json_is_string(e)) {
			for (size_t k = 0; k < i; k++)
				free(l[k]);
			free(l);
			json_decref(a);
			return NULL;
		}
		l[i] = xstrdup(json_string_value(e));
	}
	json_decref(a);
	return l;
}

static void
lits_free(char **l)
{
	for (size_t i = 0; l != NULL && l[i] != NULL; i++)
		free(l[i]);
	free(l);
}

/* The key of the table's row nearest to lits (op "<=": the last at or
 * before it, ">=": the first at or after it), as literals (*out, JSON
 * array) and key image (img); 1 when there is no such row, 0, or an
 * exit status.  A bound of --resync-after/--resync-upto that names no
 * row any more widens the range to the next row's key, which copies a
 * little more and is as correct. */
static int
bound_row(struct resync *r, char **lits, const char *op, struct buf *img,
    json_t **out)
{
	struct ttable *t = &r->t;
	struct buf q = {0};
	const char *ob;
	MYSQL_RES *res;
	MYSQL_ROW row;
	int found = 0;

	t->after = t->upto = NULL;
	table_set_query(t);
	ob = strstr(t->query.p, " ORDER BY ");
	buf_add(&q, t->query.p,
	    ob != NULL ? (size_t)(ob - t->query.p) : t->query.len);
	buf_lit(&q, " WHERE ");
	maria_key_cond(&q, &t->m, lits, op);
	buf_lit(&q, " ORDER BY ");
	for (int i = 0; i < t->m.npk; i++) {
		if (i > 0)
			buf_putc(&q, ',');
		sql_ident(&q, t->m.col[t->m.pk[i]].name);
		if (op[0] == '<')
			buf_lit(&q, " DESC");
	}
	buf_lit(&q, " LIMIT 1");
	if (mysql_real_query(r->my, q.p, q.len) != 0 ||
	    (res = mysql_store_result(r->my)) == NULL) {
		buf_free(&q);
		return q_err(r, "find a bound's row");
	}
	buf_free(&q);
	if ((row = mysql_fetch_row(res)) != NULL) {
		unsigned long *len = mysql_fetch_lengths(res);
		char **l = key_literals(&t->m, row, len);

		img->len = 0;
		row_key_image(img, t, row, len);
		*out = json_array();
		for (int i = 0; i < t->m.npk; i++) {
			json_array_append_new(*out, json_string(l[i]));
			free(l[i]);
		}
		free(l);
		found = 1;
	}
	mysql_free_result(res);
	return found ? 0 : 1;
}

/* One chunk: read, written to its file, watermarked, committed.  *last
 * set when it was the table's last.  0, 1 to try it again (deadlock,
 * lock wait timeout), 2 to try it again at once (the table's definition
 * changed: def_check), or an exit status. */
static int
one_chunk(struct resync *r, int *last, struct buf *body, struct buf *sql)
{
	struct ttable *t = &r->t;
	char name[128] = "", **after = NULL;
	struct buf hi = {0};
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned long *len = NULL;
	uint64_t n = 0, limit = r->cf->chunk_rows;
	json_t *lits = NULL;
	char *g, *litstr = NULL;
	unsigned e;
	int ex = 0, cut = 0;

	if ((ex = chunk_begin(r)) != 0 || (ex = def_check(r)) != 0)
		return ex;
	/* The SELECT after the last key. */
	if (r->lits != NULL) {
		size_t i;
		json_t *v;

		after = xcalloc((size_t)t->m.npk, sizeof *after);
		json_array_foreach(r->lits, i, v) after[i] =
		    (char *)json_string_value(v);
	}
	t->after = after;
	t->upto = r->upto;
	table_set_query(t);
	t->after = t->upto = NULL;
	free(after);
	sql->len = 0;
	buf_add(sql, t->query.p, t->query.len);
	if (!r->whole)
		buf_printf(sql, " LIMIT %" PRIu64, limit);
	if (!r->locked)
		buf_lit(sql, " LOCK IN SHARE MODE");
	log_debug("%s.%s: chunk %" PRIu64 ": %.*s", t->m.db, t->m.name,
	    r->chunk + 1, (int)sql->len, sql->p);
	/* Rows are read as they come: a chunk also ends at --chunk-bytes,
	 * after its row that reaches them (its range ends there; the
	 * locks taken on the rows after it do no harm). */
	if (mysql_real_query(r->my, sql->p, sql->len) != 0 ||
	    (res = mysql_use_result(r->my)) == NULL)
		goto sqlerr;
	body->len = 0;
	while ((row = mysql_fetch_row(res)) != NULL) {
		len = mysql_fetch_lengths(res);
		row_record(body, t, row, len);
		n++;
		if (r->whole && body->len > r->cf->chunk_bytes) {
			mysql_free_result(res);
			chunk_end(r, 0);
			log_err("%s.%s has no primary key that orders key "
			        "ranges, so it is copied in one chunk, and it "
			        "holds more than --chunk-bytes (%llu bytes "
			        "after %" PRIu64 " rows): add a primary key, "
			        "or give a --chunk-bytes it fits in (the chunk "
			        "is held in memory on both sides and is one "
			        "wagon)",
			    t->m.db, t->m.name, r->cf->chunk_bytes, n);
			return EX_DATAERR;
		}
		if (r->whole)
			continue;
		if (n == limit || body->len >= r->cf->chunk_bytes) {
			char **l = key_literals(&t->m, row, len);

			row_key_image(&hi, t, row, len);
			lits = json_array();
			for (int i = 0; i < t->m.npk; i++) {
				json_array_append_new(lits, json_string(l[i]));
			}
			/* The range's last key (--resync-upto): nothing
			 * follows, this chunk is the last. */
			cut = 1;
			if (r->upto != NULL) {
				int same = 1;

				for (int i = 0; i < t->m.npk; i++)
					same &= strcmp(l[i], r->upto[i]) == 0;
				cut = !same;
			}
			for (int i = 0; i < t->m.npk; i++)
				free(l[i]);
			free(l);
			break;
		}
	}
	if (!cut && mysql_errno(r->my) != 0) {
		mysql_free_result(res);
		goto sqlerr;
	}
	mysql_free_result(res); /* reads what is left: locked already */
	*last = !cut;
	{
		struct buf rec = {0};

		buf_lit(&rec, "{\"v\":1,\"type\":\"range\",\"db\":");
		buf_json_str(&rec, t->m.db, strlen(t->m.db));
		buf_lit(&rec, ",\"table\":");
		buf_json_str(&rec, t->m.name, strlen(t->m.name));
		buf_lit(&rec, ",\"pk\":[");
		for (int i = 0; i < t->m.npk; i++) {
			const char *c = t->m.col[t->m.pk[i]].name;

			if (i > 0)
				buf_putc(&rec, ',');
			buf_json_str(&rec, c, strlen(c));
		}
		buf_lit(&rec, "],\"lo\":");
		if (r->lo.len > 0)
			buf_add(&rec, r->lo.p, r->lo.len);
		else
			buf_lit(&rec, "null");
		buf_lit(&rec, ",\"hi\":");
		if (!*last)
			buf_add(&rec, hi.p, hi.len);
		else if (r->upto != NULL)
			buf_add(&rec, r->upto_img.p, r->upto_img.len);
		else
			buf_lit(&rec, "null");
		buf_lit(&rec, "}\n");
		if (body->len > 0) /* an empty table's: body->p may be NULL */
			buf_add(&rec, body->p, body->len);
		buf_free(body);
		*body = rec;
	}
	snprintf(name, sizeof name, "%s%" PRIu64 "-%ld.chunk", r->prefix,
	    r->chunk + 1, (long)getpid());
	if ((ex = write_chunk(r, name, body)) != 0) {
		chunk_end(r, 0);
		goto out;
	}
	sql->len = 0;
	buf_printf(sql,
	    "UPDATE srdf.resync SET state='%s', chunk=%" PRIu64
	    ", file='%s', last_key=",
	    *last ? "done" : "copying", r->chunk + 1, name);
	if (*last)
		buf_lit(sql, "NULL, last_lits=NULL");
	else {
		litstr = json_dumps(lits, JSON_COMPACT);
		buf_putc(&hi, '\0');
		hi.len--;
		sqlstr(sql, hi.p);
		buf_lit(sql, ", last_lits=");
		sqlstr(sql, litstr);
	}
	buf_printf(sql,
	    ", rows_copied=rows_copied+%" PRIu64
	    ", bytes_copied=bytes_copied+%zu WHERE db=%s AND tbl=%s",
	    n, body->len, r->qdb, r->qtb);
	if (mysql_real_query(r->my, sql->p, sql->len) != 0 ||
	    chunk_end(r, 1) != 0)
		goto sqlerr;
	/* Committed: the watermark is in the binlog. */
	if ((g = maria_query_one(r->my, "SELECT @@last_gtid")) == NULL ||
	    !gtid_pos_valid(g)) {
		free(g);
		ex = q_err(r, "read the watermark's GTID (@@last_gtid)");
		goto out;
	}
	r->pend = xgrow(r->pend, &r->cappend, r->npend + 1, sizeof *r->pend);
	r->pend[r->npend].file = xstrdup(name);
	r->pend[r->npend].gtid = g;
	r->npend++;
	r->chunk++;
	heartbeat_beat(r->chunk, g); /* srdf-status: chunks, watermark */
	r->rows += n;
	r->run_rows += n;
	r->bytes += body->len;
	r->run_bytes += body->len;
	r->lo.len = 0;
	if (!*last)
		buf_add(&r->lo, hi.p, hi.len);
	json_decref(r->lits);
	r->lits = lits;
	lits = NULL;
	goto out;
sqlerr:
	e = mysql_errno(r->my);
	if (e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT) {
		log_debug("%s.%s: chunk %" PRIu64 " tried again: %s", t->m.db,
		    t->m.name, r->chunk + 1, mysql_error(r->my));
		chunk_end(r, 0);
		ex = 1;
	} else {
		ex = q_err(r, "copy a chunk");
		chunk_end(r, 0);
	}
	if (name[0] != '\0' && ex != 0) {
		char path[4200];

		snprintf(path, sizeof path, "%s/%s", r->dir, name);
		unlink(path);
	}
out:
	json_decref(lits);
	free(litstr);
	buf_free(&hi);
	return ex;
}

/* The table to copy again, db.table, with its columns; r->whole when
 * it has no primary key that can be read in key ranges. */
static int
load_table(struct resync *r, const char *name)
{
	const char *dot = strchr(name, '.');
	char err[512], *db, *tb, *est;
	struct buf s = {0};
	unsigned e;

	if (dot == NULL || dot == name || dot[1] == '\0') {
		log_err("--resync %s: give the table as db.table", name);
		return EX_USAGE;
	}
	db = xstrdup(name);
	db[dot - name] = '\0';
	tb = xstrdup(dot + 1);
	if (!maria_selected(r->cf->databases, r->cf->include, r->cf->ninclude,
	        r->cf->exclude, r->cf->nexclude, db, tb)) {
		log_err("--resync %s: the table is not in the selection "
		        "(--databases, --include, --exclude, or a system "
		        "schema)",
		    name);
		free(db);
		free(tb);
		return EX_USAGE;
	}
	if (maria_table_load(r->my, db, tb, &r->t.m, &e, err, sizeof err) !=
	    0) {
		log_err("--resync %s: %s", name, err);
		free(db);
		free(tb);
		return e ? maria_exit_for(e) : EX_UNAVAILABLE;
	}
	free(db);
	free(tb);
	if (r->t.m.versioned) {
		log_err("--resync %s: the table is system-versioned (its "
		        "history cannot be copied again online): copy it "
		        "with a whole srdf-bootstrap --restart",
		    name);
		return EX_USAGE;
	}
	r->whole = r->t.m.npk == 0 || !r->t.m.keyset;
	if (r->whole &&
	    (r->cf->resync_after != NULL || r->cf->resync_upto != NULL)) {
		log_err("--resync %s: the table has no primary key that "
		        "orders key ranges: it is copied whole, not "
		        "--resync-after or --resync-upto a key",
		    name);
		return EX_USAGE;
	}
	table_prepare(&r->t);
	sqlstr(&s, r->t.m.db);
	buf_putc(&s, '\0');
	r->qdb = xstrdup(s.p);
	s.len = 0;
	sqlstr(&s, r->t.m.name);
	buf_putc(&s, '\0');
	r->qtb = xstrdup(s.p);
	s.len = 0;
	buf_printf(&s,
	    "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE "
	    "TABLE_SCHEMA=%s AND TABLE_NAME=%s",
	    r->qdb, r->qtb);
	buf_putc(&s, '\0');
	est = maria_query_one(r->my, s.p);
	r->est_rows = est != NULL ? strtoull(est, NULL, 10) : 0;
	free(est);
	s.len = 0;
	buf_printf(&s,
	    "SELECT ENGINE FROM information_schema.TABLES WHERE "
	    "TABLE_SCHEMA=%s AND TABLE_NAME=%s",
	    r->qdb, r->qtb);
	buf_putc(&s, '\0');
	est = maria_query_one(r->my, s.p);
	r->locked = est == NULL || strcasecmp(est, "InnoDB") != 0;
	if (r->locked && !r->engine_noted++)
		log_notice("%s is %s, not InnoDB: each chunk is read under "
		           "LOCK TABLES ... READ, which holds its writers "
		           "off until the chunk's watermark commits",
		    name, est != NULL ? est : "of an unknown engine");
	free(est);
	s.len = 0;
	sql_ident(&s, r->t.m.db);
	buf_putc(&s, '.');
	sql_ident(&s, r->t.m.name);
	buf_putc(&s, '\0');
	r->qname = xstrdup(s.p);
	buf_free(&s);
	return 0;
}

/* What load_table allocated, freed; r->t zeroed. */
static void
unload_table(struct resync *r)
{
	free(r->qdb);
	free(r->qtb);
	free(r->qname);
	free(r->def);
	r->qdb = r->qtb = r->qname = r->def = NULL;
	buf_free(&r->t.head);
	if (r->t.jname != NULL)
		for (int i = 0; i < r->t.m.ncols; i++)
			buf_free(&r->t.jname[i]);
	free(r->t.jname);
	buf_free(&r->t.query);
	maria_table_free(&r->t.m);
	memset(&r->t, 0, sizeof r->t);
}

int
resync_table(
    const struct config *cf, struct ledger *l, MYSQL *my, const char *name)
{
	struct resync r = {.cf = cf, .l = l, .my = my, .name = name};
	struct buf body = {0}, sql = {0};
	unsigned char h[8];
	char hex[17];
	int ex, last = 0, tries = 0;

	r.t0 = r.last_report = mono();
	if ((ex = load_table(&r, name)) != 0)
		goto out;
	crypto_generichash(
	    h, sizeof h, (const unsigned char *)name, strlen(name), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	snprintf(r.prefix, sizeof r.prefix, "r%s-", hex);
	snprintf(r.dir, sizeof r.dir, "%s/resync", cf->dir);
	if (mkdir(r.dir, 0700) != 0 && errno != EEXIST) {
		log_err("cannot create %s: %s", r.dir, strerror(errno));
		ex = EX_CANTCREAT;
		goto out;
	}
	if ((ex = session_setup(&r)) != 0 || (ex = watermark_open(&r)) != 0)
		goto out;
	/* A key range only (srdf-verify --repair): after one key, up to
	 * another, each widened to the nearest row of the source. */
	if (cf->resync_after != NULL && r.chunk == 0 && r.lits == NULL) {
		char **kl = lits_parse(cf->resync_after, r.t.m.npk);

		if (kl == NULL) {
			log_err("--resync-after %s: not a JSON array of %d SQL "
			        "literals",
			    cf->resync_after, r.t.m.npk);
			ex = EX_USAGE;
			goto out;
		}
		ex = bound_row(&r, kl, "<=", &r.lo, &r.lits);
		lits_free(kl);
		if (ex > 1)
			goto out;
		ex = 0;
	}
	if (cf->resync_upto != NULL) {
		char **kl = lits_parse(cf->resync_upto, r.t.m.npk);
		json_t *j = NULL;

		if (kl == NULL) {
			log_err("--resync-upto %s: not a JSON array of %d SQL "
			        "literals",
			    cf->resync_upto, r.t.m.npk);
			ex = EX_USAGE;
			goto out;
		}
		ex = bound_row(&r, kl, ">=", &r.upto_img, &j);
		lits_free(kl);
		if (ex > 1)
			goto out;
		if (ex == 0) {
			char *txt = json_dumps(j, JSON_COMPACT);

			r.upto = lits_parse(txt, r.t.m.npk);
			free(txt);
		}
		json_decref(j);
		ex = 0;
	}
	while (!last) {
		if (atomic_load(&stopping)) {
			ex = EX_TEMPFAIL;
			goto out;
		}
		if ((ex = wait_sealed(&r, (size_t)cf->resync_spool)) != 0 ||
		    (ex = pace(&r)) != 0)
			goto out;
		ex = one_chunk(&r, &last, &body, &sql);
		if (ex == 2)
			continue; /* a new definition: the chunk again */
		if (ex == 1 && ++tries < CHUNK_TRIES) {
			usleep((useconds_t)(10000 * tries));
			continue;
		}
		if (ex == 1) {
			log_err("%s: a chunk met a deadlock or a lock wait "
			        "timeout %d times; run srdf-bootstrap --resync "
			        "%s again (it resumes)",
			    name, CHUNK_TRIES, name);
			ex = EX_TEMPFAIL;
		}
		if (ex != 0)
			goto out;
		tries = 0;
		report(&r, 0);
	}
	report(&r, 1);
	if (r.paused >= 0.05)
		log_info("%s: paused %.1f s of it for the pipeline's lag "
		         "(--max-lag %.1f s)",
		    name, r.paused, (double)cf->max_lag_ms / 1000);
	log_info("%s: waiting for the last chunk to be sealed", name);
	if ((ex = wait_sealed(&r, 0)) != 0)
		goto out;
	remove_all(&r);
	audit_event(0, "resync", "copying", "done",
	    "%s.%s: %" PRIu64 " rows in %" PRIu64 " chunks", r.t.m.db,
	    r.t.m.name, r.rows, r.chunk);
out:
	for (size_t i = 0; i < r.npend; i++) {
		free(r.pend[i].file);
		free(r.pend[i].gtid);
	}
	free(r.pend);
	json_decref(r.lits);
	buf_free(&r.lo);
	lits_free(r.upto);
	buf_free(&r.upto_img);
	buf_free(&body);
	buf_free(&sql);
	unload_table(&r);
	if (ex == EX_TEMPFAIL && atomic_load(&stopping))
		log_notice("stopped; run srdf-bootstrap --resync %s again to "
		           "resume",
		    name);
	return ex;
}

/* ---- --add ------------------------------------------------------------ */

/* Waits until the ledger's last_sealed_gtid covers gtid.  0, or
 * EX_TEMPFAIL when stopped. */
static int
wait_gtid_sealed(const struct config *cf, struct ledger *l, const char *gtid)
{
	struct resync r = {.cf = cf, .l = l};
	double note = mono();

	for (;;) {
		char *pos = sealed_pos(&r);
		int ok = pos != NULL && gtid_within(gtid, pos);

		free(pos);
		if (ok)
			return 0;
		if (atomic_load(&stopping))
			return EX_TEMPFAIL;
		if (mono() - note >= 10) {
			log_notice("waiting for srdf-capture and srdf-seal "
			           "(--dir %s) to seal GTID %s: are they "
			           "running?",
			    cf->dir, gtid);
			note = mono();
		}
		usleep(50 * 1000);
	}
}

/* pattern into the ledger's selection_added (JSON array), which
 * srdf-capture reads at its start. */
static int
ledger_add_pattern(struct ledger *l, const char *pattern)
{
	struct ledger_txn *x = NULL;
	char *v = NULL, *out;
	json_t *a = NULL, *e;
	size_t i;
	int rc, have = 0;

	if ((rc = ledger_txn_begin(l, 0, &x)) != 0 ||
	    (rc = ledger_meta_get(x, "selection_added", &v)) != 0)
		goto fail;
	a = v != NULL ? json_loads(v, 0, NULL) : json_array();
	free(v);
	if (!json_is_array(a)) {
		json_decref(a);
		a = json_array();
	}
	json_array_foreach(
	    a, i, e) if (json_is_string(e) &&
	                 strcmp(json_string_value(e), pattern) == 0) have = 1;
	if (!have)
		json_array_append_new(a, json_string(pattern));
	out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	rc = ledger_meta_put(x, "selection_added", out);
	free(out);
	if (rc != 0)
		goto fail;
	rc = ledger_txn_commit(x);
	x = NULL;
	if (rc != 0)
		goto fail;
	return 0;
fail:
	if (x != NULL)
		ledger_txn_abort(x);
	log_err("cannot record the selection in the ledger of the state "
	        "directory: %s",
	    ledger_strerror(rc));
	return EX_IOERR;
}

struct addtab {
	char *db, *name, *key, *def;
};

/* The base tables pattern matches, none system-versioned, or none. */
static int
add_list(MYSQL *my, const char *pattern, struct addtab **v, size_t *n)
{
	char *const pats[1] = {(char *)pattern};
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t cap = 0;
	int bad = 0;

	*v = NULL;
	*n = 0;
	if (mysql_query(my, "SELECT TABLE_SCHEMA, TABLE_NAME FROM "
	                    "information_schema.TABLES WHERE TABLE_TYPE IN "
	                    "('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY 1, "
	                    "2") != 0 ||
	    (res = mysql_store_result(my)) == NULL) {
		log_err("cannot list the source's tables: %s", mysql_error(my));
		return maria_exit_for(mysql_errno(my));
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		struct maria_table m = {0};
		char err[512], key[300];
		unsigned e;

		if (!maria_selected(NULL, pats, 1, NULL, 0, row[0], row[1]))
			continue;
		snprintf(key, sizeof key, "%s.%s", row[0], row[1]);
		if (maria_table_load(
		        my, row[0], row[1], &m, &e, err, sizeof err) != 0) {
			log_err("--add %s: %s cannot be read: %s", pattern, key,
			    err);
			bad = 1;
		} else if (m.versioned) {
			log_err("--add %s: %s is system-versioned (its history "
			        "cannot be copied online): leave it out of the "
			        "pattern",
			    pattern, key);
			bad = 1;
		}
		maria_table_free(&m);
		*v = xgrow(*v, &cap, *n + 1, sizeof **v);
		(*v)[*n].db = xstrdup(row[0]);
		(*v)[*n].name = xstrdup(row[1]);
		(*v)[*n].key = xstrdup(key);
		(*v)[*n].def = NULL;
		(*n)++;
	}
	mysql_free_result(res);
	if (bad)
		return EX_USAGE;
	if (*n == 0) {
		log_err("--add %s: no table of the source matches", pattern);
		return EX_USAGE;
	}
	return 0;
}

/* The transaction that puts the tables' schema into the stream (W0):
 * their metadata locked by a read, CREATE DATABASE IF NOT EXISTS and
 * CREATE OR REPLACE TABLE into a chunk file named by the job's row
 * (state "schema").  Its GTID into *gtid (malloc'd). */
static int
add_schema(const struct config *cf, MYSQL *my, const char *pattern,
    const char *qpat, struct addtab *v, size_t n, char **gtid)
{
	char *const pats[1] = {(char *)pattern};
	struct config dcf = {.include = (char **)pats,
	    .ninclude = 1,
	    .skip_routines = cf->skip_routines,
	    .skip_views = cf->skip_views,
	    .skip_events = cf->skip_events,
	    .skip_triggers = cf->skip_triggers};
	struct ttable *tv, **tp;
	struct ddl_list l = {0};
	struct buf body = {0}, s = {0};
	struct resync r = {.cf = cf, .my = my};
	char name[128];
	int ex = 0;

	snprintf(r.dir, sizeof r.dir, "%s/resync", cf->dir);
	r.t.m.db = "";
	r.t.m.name = (char *)pattern;
	if ((ex = q(&r, "START TRANSACTION", "start a transaction")) != 0)
		return ex;
	tv = xcalloc(n, sizeof *tv);
	tp = xcalloc(n, sizeof *tp);
	for (size_t i = 0; i < n && ex == 0; i++) {
		s.len = 0;
		buf_lit(&s, "SELECT 1 FROM ");
		sql_ident(&s, v[i].db);
		buf_putc(&s, '.');
		sql_ident(&s, v[i].name);
		buf_lit(&s, " LIMIT 0");
		buf_putc(&s, '\0');
		if (mysql_query(my, s.p) != 0)
			ex = q_err(&r, "lock a table's definition");
		else
			mysql_free_result(mysql_store_result(my));
	}
	if (ex == 0)
		ex = schema_databases(my, &dcf, &l);
	for (size_t i = 0; i < n && ex == 0; i++) {
		char *create = NULL, *h;
		unsigned e;

		free(v[i].def);
		if ((h = table_def(my, v[i].db, v[i].name, &create, &e)) ==
		    NULL) {
			ex = q_err(&r, "read a table's definition");
			break;
		}
		v[i].def = h;
		s.len = 0;
		buf_lit(&s, "CREATE OR REPLACE TABLE ");
		buf_puts(&s,
		    create +
		        (strncmp(create, "CREATE TABLE ", 13) == 0 ? 13 : 0));
		buf_putc(&s, '\0');
		ddl_add(&l, v[i].db, s.p, TABLE_SQL_MODE, "table", v[i].key);
		free(create);
	}
	/* The objects of what the pattern selects, after the tables, as
	 * srdf-bootstrap's own copy has them (schema.c): srdf-capture
	 * follows their DDL from the watermark on. */
	for (size_t i = 0; i < n; i++) {
		tv[i].m.db = v[i].db;
		tv[i].m.name = v[i].name;
		tp[i] = &tv[i];
	}
	if (ex == 0 && (ex = schema_routines(my, &dcf, &l)) == 0 &&
	    (ex = schema_views(my, &dcf, &l)) == 0 &&
	    (ex = schema_events(my, &dcf, &l)) == 0)
		ex = schema_triggers(my, &dcf, tp, (int)n, &l);
	if (ex != 0)
		mysql_query(my, "ROLLBACK");
	for (int i = 0; i < l.n && ex == 0; i++)
		ddl_record(&body, &l.v[i]);
	snprintf(name, sizeof name, "a%08x-%ld.ddl", (unsigned)(mono() * 1000),
	    (long)getpid());
	if (ex == 0)
		ex = write_chunk(&r, name, &body);
	if (ex == 0) {
		s.len = 0;
		buf_printf(&s,
		    "REPLACE INTO srdf.resync (db, tbl, state, file, "
		    "started) VALUES ('', %s, 'schema', '%s', "
		    "UTC_TIMESTAMP(6))",
		    qpat, name);
		buf_putc(&s, '\0');
		if (mysql_query(my, s.p) != 0 || mysql_query(my, "COMMIT") != 0)
			ex = q_err(&r, "write the schema's watermark");
	}
	if (ex != 0)
		mysql_query(my, "ROLLBACK");
	else if ((*gtid = maria_query_one(my, "SELECT @@last_gtid")) == NULL)
		ex = q_err(&r, "read the watermark's GTID (@@last_gtid)");
	ddl_list_free(&l);
	free(tv);
	free(tp);
	buf_free(&body);
	buf_free(&s);
	return ex;
}

/* Whether a table's definition moved since add_schema read it. */
static int
add_changed(MYSQL *my, const struct addtab *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned e;
		char *h = table_def(my, v[i].db, v[i].name, NULL, &e);
		int same =
		    h != NULL && v[i].def != NULL && strcmp(h, v[i].def) == 0;

		free(h);
		if (!same) {
			log_notice("%s changed while it was added: its schema "
			           "goes into the stream again",
			    v[i].key);
			return 1;
		}
	}
	return 0;
}

int
add_tables(
    const struct config *cf, struct ledger *l, MYSQL *my, const char *pattern)
{
	struct resync r = {.cf = cf, .l = l, .my = my};
	struct addtab *v = NULL;
	struct buf s = {0};
	char *state = NULL, *gtid = NULL;
	size_t n = 0;
	int ex, rounds = 0;

	r.t.m.db = "";
	r.t.m.name = (char *)pattern;
	snprintf(r.dir, sizeof r.dir, "%s/resync", cf->dir);
	if (mkdir(r.dir, 0700) != 0 && errno != EEXIST) {
		log_err("cannot create %s: %s", r.dir, strerror(errno));
		return EX_CANTCREAT;
	}
	if ((ex = add_list(my, pattern, &v, &n)) != 0 ||
	    (ex = schema_check_triggers(my, cf)) != 0)
		goto out;
	if ((ex = session_setup(&r)) != 0 || (ex = watermark_table(&r)) != 0)
		goto out;
	sqlstr(&s, pattern);
	buf_putc(&s, '\0');
	{
		struct buf w = {0};

		buf_printf(&w,
		    "SELECT state FROM srdf.resync WHERE db = '' "
		    "AND tbl = %s",
		    s.p);
		buf_putc(&w, '\0');
		state = maria_query_one(my, w.p);
		buf_free(&w);
	}
	if (state != NULL && strcmp(state, "including") == 0) {
		log_notice("--add %s: resuming: its tables are in the "
		           "selection, their rows are being copied",
		    pattern);
	} else {
		/* The schema (W0), sealed; the pattern into the ledger; then
		 * the watermark from which capture takes the tables' changes
		 * (W1), once no DDL moved them in between. */
		do {
			if (++rounds > 5) {
				log_err(
				    "--add %s: a DDL kept changing its tables; "
				    "run it again when the schema is quiet",
				    pattern);
				ex = EX_TEMPFAIL;
				goto out;
			}
			free(gtid);
			gtid = NULL;
			if ((ex = add_schema(
			         cf, my, pattern, s.p, v, n, &gtid)) != 0 ||
			    (ex = wait_gtid_sealed(cf, l, gtid)) != 0)
				goto out;
		} while (add_changed(my, v, n));
		if ((ex = ledger_add_pattern(l, pattern)) != 0)
			goto out;
		{
			struct buf w = {0};

			buf_printf(&w,
			    "UPDATE srdf.resync SET state = 'including', "
			    "file = NULL WHERE db = '' AND tbl = %s",
			    s.p);
			buf_putc(&w, '\0');
			ex = q(&r, w.p, "write the selection's watermark");
			buf_free(&w);
			if (ex != 0)
				goto out;
		}
		audit_event(0, "selection", NULL, "added", "%s: %zu tables",
		    pattern, n);
		log_info("--add %s: %zu tables in the selection; copying their "
		         "rows",
		    pattern, n);
	}
	for (size_t i = 0; i < n; i++)
		if ((ex = resync_table(cf, l, my, v[i].key)) != 0)
			goto out;
	{
		struct buf w = {0};

		buf_printf(&w,
		    "UPDATE srdf.resync SET state = 'done' WHERE db = '' "
		    "AND tbl = %s",
		    s.p);
		buf_putc(&w, '\0');
		ex = q(&r, w.p, "end the --add");
		buf_free(&w);
	}
	if (ex == 0) {
		/* the schema's file too: its watermark is long sealed */
		DIR *d = opendir(r.dir);
		struct dirent *e;
		char path[4400];

		while (d != NULL && (e = readdir(d)) != NULL)
			if (e->d_name[0] == 'a' &&
			    strstr(e->d_name, ".ddl") != NULL) {
				snprintf(path, sizeof path, "%s/%s", r.dir,
				    e->d_name);
				unlink(path);
			}
		if (d != NULL)
			closedir(d);
		log_info("--add %s: done, %zu tables", pattern, n);
	}
out:
	for (size_t i = 0; i < n; i++) {
		free(v[i].db);
		free(v[i].name);
		free(v[i].key);
		free(v[i].def);
	}
	free(v);
	free(state);
	free(gtid);
	buf_free(&s);
	return ex;
}
