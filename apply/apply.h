/*
 * apply.h — srdf-apply's internal interfaces.
 *
 *	apply.c   main(), the wagon loop: order, checkpoint, ledger, spool,
 *	          retries, waiting (inotify), signals
 *	engine.c  one wagon's payload (srdf-record(5) group lines) to SQL:
 *	          the net-delta of its rows, its DDL, in record order
 *	db.c      the target connection: session, statement batches, the
 *	          checkpoint row, the per-table schema cache
 *	acks.c    the queue of ACKs to srdf-ackd (ledger-backed, libcurl multi)
 *	par.c     worker threads applying srdf-bootstrap's row wagons over
 *	          connections of their own (--parallel)
 *
 * Calling sequence (apply.c):
 *	db_connect(&db, cf, dry) ... db_checkpoint_read(&db, src, &cp)
 *	per wagon: engine_run(&db, &w, &res) queues and runs the statements;
 *	  apply.c then moves the checkpoint and commits in the same round
 *	  trip (db_commit_at), or rolls back (db_rollback) on failure.
 *
 * Error handling: db_* and engine_run return one of the DB_* codes below;
 * on DB_FAIL the reason, one line with the server's own error text, is
 * in db->err.  Nothing here exits; only main() does.
 */
#ifndef SRDF_APPLY_H
#define SRDF_APPLY_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "buf.h"
#include "mdb.h"
#include "wagon.h"

#define TOOL "srdf-apply"

/* Statement sizes.  Invariant: ROW_STMT_BYTES <= BATCH_BYTES, and both
 * are cut further to fit the server's max_allowed_packet (db.c). */
#define ROWS_PER_STMT 1000	      /* keys of a DELETE, rows of an INSERT */
#define ROW_STMT_BYTES (4u << 20)     /* text of one multi-row statement */
#define BATCH_BYTES (8u << 20)	      /* statements sent in one round trip */
#define BATCH_STMTS 512		      /* ... and at most this many */
#define BULK_MIN_ROWS 200	      /* inserts of a table worth a bulk insert */

struct config {
	const char *dir;
	char inbox[PATH_MAX - 64]; /* DIR/inbox: room for /new/NAME */
	const char *key_file;
	struct srdf_key *key;
	const char *defaults_file;
	const char *group;	 /* option-file group, "srdf-apply" */
	const char *ack_to;	 /* https://host:port of srdf-ackd, or NULL */
	int ack_pull;		 /* --ack-pull: srdf-ship fetches them
				  * through srdf-recv (recv/acks.h) */
	const char *ca_file;
	int insecure;
	int once;
	int dry_run;
	int create_databases;
	int no_bulk_load;	 /* --no-bulk-load: never a bulk insert */
	int fire_triggers;	 /* --fire-triggers: triggers created as
				  * written, firing on the rows applied */
	unsigned long long merge_bytes; /* --merge-bytes: wagons waiting in
				  * the inbox applied together, up to
				  * this many payload bytes; 0 never */
	long long keep_ms;	 /* --keep: applied wagons' files kept in
				  * inbox/cur this long */
	int parallel;		 /* --parallel: connections for bootstrap
				  * row wagons; 1 applies all on one */
	int has_skip;
	uint64_t skip;
	long long retry_ms[16];	 /* delays between attempts */
	int nretry;
};

enum {
	DB_OK = 0,
	DB_FAIL,  /* the wagon cannot be applied: db->err says why */
	DB_RETRY, /* deadlock or lock wait timeout: roll back, try again now */
	DB_GONE,  /* the connection is lost: reconnect, start from the
	           * checkpoint */
	DB_SPLIT, /* engine_run_many: these wagons must go one by one; roll
	           * back (nothing of them is an error) */
};

/* ---- db.c ------------------------------------------------------------- */


/* What the target knows of one table (db.c's schema cache). */
struct col {
	char *name;
	unsigned flags;
};
#define COL_GENERATED 0x1 /* never written: the server computes it */
#define COL_FLOAT 0x2	  /* FLOAT: compared as CAST(v AS FLOAT) */
#define COL_INT 0x4	  /* integers and BIT: a big value (a JSON string
			   * of digits) is written as a number, which BIT
			   * needs: a quoted one would be its bytes */
/* What a bulk insert may carry (engine.c, "Bulk loads", says why): */
#define COL_BULK 0x8	  /* a string value: integers but BIT, DECIMAL,
			   * CHAR/VARCHAR/TEXT, DATE, DATETIME, TIMESTAMP,
			   * TIME */
#define COL_BULK_NUM 0x10 /* ... also a bare number: integers, DECIMAL,
			   * CHAR/VARCHAR/TEXT */
#define COL_TIMESTAMP 0x20 /* TIMESTAMP: a NULL goes by INSERT */
/* The period of a system-versioned table (GENERATED ALWAYS AS ROW
 * START/END, or the hidden row_start/row_end), also COL_GENERATED: */
#define COL_ROW_START 0x40
#define COL_ROW_END 0x80
/* Referenced by a foreign key whose ON UPDATE rule changes the children
 * (CASCADE, SET NULL): engine.c, "Moves". */
#define COL_REFERENCED 0x100
#define COL_ENUM 0x200	  /* ENUM: "" may be the error value (index 0) */
#define COL_TEXT 0x400	  /* CHAR, VARCHAR, TEXT (JSON too): compared
			   * under a collation, which may not be exact */
#define COL_GEOM 0x800	  /* GEOMETRY and its subtypes: an empty value
			   * has no literal (engine.c, literal()) */
/* In a plan only: the image holds an empty GEOMETRY there, which no
 * literal writes; an INSERT leaves the column out (the lax sql_mode gives
 * it that empty value), a SET leaves it as it is (engine.c, plan_get). */
#define COL_OMIT 0x1000

struct tinfo {
	char *db, *name;
	int exists;
	int cascade;	  /* parent of an ON DELETE CASCADE/SET NULL key */
	int upd_cascade;  /* parent of an ON UPDATE CASCADE/SET NULL key */
	int versioned;	  /* WITH SYSTEM VERSIONING: col[row_end] is ROW END */
	int genexpr;	  /* has generated columns (not periods): written
			   * without strict mode after error 1292 (db.genlax) */
	size_t row_end;
	/* The history row the target's own UPDATE just wrote, which the
	 * source's next record of the table inserts (engine.c,
	 * versioned_add): "(cols) VALUES (...)", malloc'd, or NULL */
	char *vhist;
	size_t vhistlen;
	struct col *col;
	size_t ncol;
	struct tinfo *next;
};

/* One queued statement: where it ends in the batch, what it is. */
struct stmt {
	size_t end;
	const char *kind;     /* "delete", "insert"...: a string constant */
	long long expect;     /* rows it must touch, or -1 */
	char table[2 * 64 * 4 + 2]; /* "db.t" for messages, or "" */
};

/* The session's sql_mode (srdf-apply(1), "The session"): strict, so that
 * a value the target cannot hold is an error, not a truncation; any
 * date the source stored (ALLOW_INVALID_DATES there) accepted; a zero
 * in an AUTO_INCREMENT column kept. */
#define APPLY_SQL_MODE                                                         \
	"NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,STRICT_ALL_TABLES,"      \
	"ALLOW_INVALID_DATES"
/* ... and without strictness, for the one statement that writes a row
 * holding what only a lax source stores: an ENUM's error value "" (index
 * 0), which strict mode refuses ("Data truncated"). */
#define APPLY_LAX_SQL_MODE                                                     \
	"NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,ALLOW_INVALID_DATES"

struct db {
	const struct config *cf;
	MYSQL *my;
	int dry;		/* print the statements, run nothing */
	unsigned long max_stmt; /* longest statement the server accepts */
	struct buf q;		/* the batch: statements separated by ';' */
	struct stmt *st;
	size_t nst, capst;
	size_t stmt_start;	/* offset where the open statement begins */
	struct tinfo *tabs;	/* schema cache, cleared after DDL */
	/* The parents of foreign keys whose ON DELETE or ON UPDATE rule
	 * changes the children (db_table's cascade flags): read for all
	 * schemas at once, when the first table is asked about after a
	 * DDL, cleared with tabs. */
	struct mdb_fk_parents fk;
	int fk_known;
	uint64_t missing;	/* rows that were not where expected */
	unsigned errnum;	/* the server's error number of a DB_FAIL */
	int full;		/* ... and says the target is out of space */
	int bulk_refused;	/* the target refused array binding: kept
				 * over reconnects, said once */
	/* db_bulk's arrays, grown as needed, freed by db_close */
	char **bulk_ptr, *bulk_ind;
	unsigned long *bulk_len;
	MYSQL_BIND *bulk_bind;
	size_t nbulk, nbind;
	/* The engine's arena between wagons (engine_run_many), so that a
	 * connection's next wagon reuses memory already mapped; freed by
	 * db_close */
	struct buf arena;
	/* The tables copied again whose older changes the engine skips
	 * (redo.c); NULL on a worker's connection, which never gets a
	 * wagon of srdf-bootstrap's window. */
	const struct redo_list *redo;
	/* The target writes a system-versioned table's history as the
	 * source's (system_versioning_insert_history, MariaDB 10.11 and
	 * later): srdf-apply(1), "System-versioned tables" */
	int history;
	/* Set by error 1292 (a generated column's expression a lax source
	 * evaluated with a warning) on a table with generated columns:
	 * the wagon is tried again at once, the rows of such tables written
	 * without strict mode; cleared at the next commit. */
	int genlax;
	char err[2048];
};

/* srdf.applied.redo_tables (redo.c): the tables srdf-bootstrap copied
 * again at a later snapshot pos, whose changes in wagons up to pos are
 * in that copy. */
struct redo_entry {
	char *db, *table, *pos;
};
struct redo_list {
	struct redo_entry *v;
	size_t n;
};

struct checkpoint {
	uint64_t seq;
	char last_gtid[WAGON_GTID_LEN];
	char *gtid_pos;	     /* malloc'd, may be NULL */
	char *bootstrap_pos; /* the highest snapshot_gtid of srdf-bootstrap's
			      * wagons applied: the idempotent window */
	struct redo_list redo; /* srdf.applied.redo_tables */
};

int db_connect(struct db *d, const struct config *cf, int dry);
void db_close(struct db *d);
int db_session(struct db *d);
/* db_apply_lock: this connection takes the target's named lock of source
 * src (GET_LOCK('srdf_apply_<src>'), held until it disconnects), waiting
 * up to wait_s seconds, before the checkpoint is read: a killed
 * srdf-apply's session may still be running the statements it sent, its
 * COMMIT included, and its checkpoint must be read after they end
 * (srdf-apply(1), "Order and the checkpoint").  It waits a second at a
 * time and calls waiting(arg) in between (NULL: nothing): the caller
 * keeps its heartbeat, and a nonzero return ends the wait.  DB_OK when
 * held (also when this connection held it already), DB_FAIL with d->err
 * when another session still holds it or waiting() ended the wait, or
 * DB_GONE.  Nothing in a dry run. */
int db_apply_lock(struct db *d, const char *src, int wait_s,
    int (*waiting)(void *arg), void *arg);
int db_checkpoint_init(struct db *d, const char *source_hex,
    struct checkpoint *cp);
/* db_triggers_upgrade: the triggers that earlier builds guarded with
 * @srdf_apply, which any session can set, get the guard of
 * srdf.apply_sessions instead, in their place (lib/trigger.h), each
 * logged (srdf-apply(1), "Triggers").  DB_OK also when some could not
 * be written (a warning each: they are tried at the next start);
 * DB_GONE, or DB_FAIL with d->err when the triggers cannot be listed.
 * Nothing in a dry run. */
int db_triggers_upgrade(struct db *d);
int db_checkpoint_read(struct db *d, const char *source_hex,
    struct checkpoint *cp);
/* db_commit_at queues the checkpoint UPDATE (seq from -> to, and each
 * of last_gtid, gtid_pos, bootstrap_pos, redo_tables that is not NULL,
 * and source_commit_at from source_ts, the last transaction's source
 * commit time in Unix seconds, when not 0) and COMMIT, and sends what is
 * queued. */
int db_commit_at(struct db *d, const char *source_hex, uint64_t from,
    uint64_t to, const char *last_gtid, const char *gtid_pos,
    const char *bootstrap_pos, const char *redo_tables, uint64_t source_ts);
void checkpoint_free(struct checkpoint *cp);
/* srdf.xa_pending: the XA transactions prepared on the source whose
 * rows wait, in wagons first..last of the inbox, for their XA COMMIT
 * (srdf-apply(1), "XA transactions").  db_xa_get sets *first and *last
 * of xid (0 when it has no row); db_xa_min sets *first to the lowest
 * first_seq of any (0 for none) and ends its read; db_xa_put records
 * xid and db_xa_del removes it, in the open transaction.  Each returns
 * a DB_* code; a dry run reads nothing. */
int db_xa_get(struct db *d, const char *source_hex, const char *xid,
    uint64_t *first, uint64_t *last);
int db_xa_min(struct db *d, const char *source_hex, uint64_t *first);
int db_xa_put(struct db *d, const char *source_hex, const char *xid,
    uint64_t first, uint64_t last);
int db_xa_del(struct db *d, const char *source_hex, const char *xid);
void db_rollback(struct db *d);

/* Statement building: the text goes straight into d->q. */
void db_stmt_open(struct db *d);
int db_stmt_close(struct db *d, const char *kind, const char *table,
    long long expect);
size_t db_stmt_len(const struct db *d);
size_t db_row_limit(const struct db *d);
int db_flush(struct db *d);
int db_bulk_enabled(const struct db *d);
/* One value of a bulk insert: bytes off..off+len of the caller's data,
 * or NULL. */
struct bulk_cell {
	size_t off;
	unsigned long len;
	int null;
};
/* db_bulk runs sql, an INSERT or REPLACE of ncol placeholders, once per
 * row of cells (nrows x ncol, row-major) with the values as strings, in
 * array-bound executions (COM_STMT_BULK_EXECUTE, MariaDB 10.2 and
 * later), after a SAVEPOINT.  *loaded = 1 when the server wrote exactly
 * `expect' rows with no warning; otherwise it is rolled back to the
 * savepoint, *loaded = 0, and the caller goes by INSERT.  Returns DB_OK
 * (either way), or DB_GONE/DB_RETRY/DB_FAIL of the savepoint's round
 * trips. */
int db_bulk(struct db *d, const char *sql, size_t sqllen,
    const struct bulk_cell *cells, size_t ncol, size_t nrows,
    const char *data, long long expect, const char *table, int *loaded);
int db_exec(struct db *d, const char *kind, const char *sql, size_t len);

struct tinfo *db_table(struct db *d, const char *db, const char *name,
    int *rc);
void db_tables_forget(struct db *d);
int db_create_database(struct db *d, const char *name);
int db_classify(struct db *d, const char *kind, const char *table);
/* Whether the error of the last DB_FAIL says the target is out of space
 * (a full disk or tablespace, a table at its size limit: ER_RECORD_FILE_FULL,
 * ER_DISK_FULL, or an engine's ENOSPC): not the wagon's fault, so it is
 * retried but never dead-lettered for it. */
int db_full(const struct db *d);

/* ---- engine.c --------------------------------------------------------- */

/* What a wagon is to an XA transaction of the source: none; the rows of
 * one that was XA PREPAREd (a group that begins with "xa" or ends with
 * xa_prepare); its XA COMMIT or XA ROLLBACK (xa_end). */
enum { XA_NONE, XA_PREPARED, XA_COMMIT, XA_ROLLBACK };

/* One wagon in hand. */
struct wagon {
	uint64_t seq;
	struct wagon_header h;
	char *records;	    /* the payload, NUL-terminated */
	size_t len;
	/* from the payload */
	uint64_t group;
	uint32_t chunk;
	int last;	    /* the group's last chunk */
	int ddl_done;	    /* DDL statements applied by earlier attempts */
	int ddl_inflight;   /* 1 + index of a DDL a crash may have cut, or 0 */
	char *gtid_pos;	    /* group_end's "gtid_pos", malloc'd or NULL */
	char *snapshot;	    /* group_end's "snapshot_gtid" (srdf-bootstrap) */
	int xa;		    /* XA_* (engine_peek; the chunks after the first
			     * of a prepared group: apply.c) */
	char *xid;	    /* its XA id in SQL form, malloc'd or NULL */
	char *redo_db;	    /* group_end's "redo": the table it creates */
	char *redo_table;   /* again (srdf-bootstrap), malloc'd or NULL */
	uint64_t skipped;   /* row changes skipped (redo.c) */
	int idem;	    /* within the bootstrap window: idempotent */
	char last_gtid[WAGON_GTID_LEN];
	uint64_t last_ts;   /* group_end's "last_ts": the source commit time
			     * of its last transaction (Unix s), or 0 */
	uint64_t rows;	    /* row changes applied */
	uint64_t ddls;	    /* DDL statements run */
	int has_ddl;	    /* a "ddl" record in the payload (engine_peek) */
	/* The tables it touches (engine_peek): "db\037table\0" each,
	 * lowercased, ntabs of them; tabs_all when it cannot tell (a
	 * record it does not know, a DDL sql_ddl_tables cannot read). */
	struct buf tabs;
	size_t ntabs;
	int tabs_all;
};

/* Called by engine_run before each DDL (index i from 0) and after it
 * (done = i + 1): the ledger remembers how far a DDL wagon got, since
 * DDL commits by itself. */
typedef void (*ddl_mark_fn)(void *arg, struct wagon *w, int i, int done);

int engine_peek(struct wagon *w, char *err, size_t errlen);
/* wagon_has_table: whether name (len bytes, "db\037table" lowercased) is
 * among w's tables (engine_peek's list; tabs_all is the caller's). */
int wagon_has_table(const struct wagon *w, const char *name, size_t len);
int gtid_within(const char *gtid, const char *pos);
char *gtid_merge(const char *a, const char *b);

/* ---- redo.c ----------------------------------------------------------- */

/* redo_parse reads srdf.applied.redo_tables (JSON [[db, table, pos],
 * ...]; NULL or empty: none) into l, replacing what l held: 0, or -1
 * when malformed (l left empty).  redo_format is the reverse (malloc'd).
 * redo_add adds table db.table at position pos (merged with its entry
 * when it has one); redo_copy replaces to by a copy of from; redo_free
 * empties l.  For a wagon w of capture's (not srdf-bootstrap's):
 * redo_prune drops the entries w begins beyond (w and every wagon after
 * it lie beyond their position) and returns how many; redo_due tells
 * whether w's last GTID lies within an entry's position (it may have
 * changes to skip); redo_find gives the entry that says w must skip
 * db.table (names compared exactly, or ignoring case when icase), or
 * NULL.  See redo.c and srdf-apply(1), "Tables copied again". */
int redo_parse(const char *text, struct redo_list *l);
char *redo_format(const struct redo_list *l);
void redo_add(struct redo_list *l, const char *db, const char *table,
    const char *pos);
void redo_copy(struct redo_list *to, const struct redo_list *from);
void redo_free(struct redo_list *l);
size_t redo_prune(struct redo_list *l, const struct wagon *w);
int redo_due(const struct redo_list *l, const struct wagon *w);
const struct redo_entry *redo_find(const struct redo_list *l,
    const struct wagon *w, const char *db, const char *table, int icase);
int engine_run(struct db *d, struct wagon *w, ddl_mark_fn mark, void *arg);
/* engine_run_many runs the payloads of ws[0..n-1] (consecutive whole
 * groups without DDL, in sequence order) as one net delta, folded across
 * them, in the open transaction; the caller commits it with the last
 * one's checkpoint (srdf-apply(1), "Applying a backlog").  Returns DB_*
 * as engine_run, or DB_SPLIT, before any statement, when n > 1 and a
 * table they touch is the parent of a cascading foreign key: folding a
 * parent's delete and re-insert across groups would lose the cascade.
 * Each wagon's rows count lands in its own ws[i]->rows. */
int engine_run_many(struct db *d, struct wagon **ws, size_t n,
    ddl_mark_fn mark, void *arg);
/* wagon_free frees what load() and engine_peek allocated in w (records,
 * gtid_pos, snapshot) and leaves them NULL; w itself is the caller's. */
void wagon_free(struct wagon *w);

/* ---- par.c ------------------------------------------------------------ */

/* One wagon for a worker: filled by apply.c, which keeps ownership of
 * the struct while it is submitted; w (its buffers) and bootstrap_pos
 * (malloc'd or NULL) go with it to par_job_free. */
#define PAR_EXEC_DEPS 4
struct par_job {
	struct wagon w;
	uint64_t from;		/* the checkpoint it moves from */
	char *bootstrap_pos;	/* srdf.applied.bootstrap_pos to set, or NULL */
	/* What must be done before it starts (par_deps): the wagons up to
	 * wait_commit committed, and the DDL of wait_exec[] run. */
	uint64_t wait_commit;
	uint64_t wait_exec[PAR_EXEC_DEPS];
	int nwait_exec;
	int rows_job;		/* a wagon of rows, not of DDL */
	ddl_mark_fn mark;	/* for its DDL (engine_run) */
	void *mark_arg;
	/* set by the worker */
	int finished;
	int rc;			/* DB_*: DB_OK means committed */
	int worker;		/* 1.. */
	uint64_t missing;
	long long t0;		/* clock_mono_ms() when the worker took it */
	char err[2048];
};
struct par;

/* par_new starts n worker threads (each connects on its first job, with
 * cf's options); dies when threads cannot start.  par_free stops them,
 * closes their connections and frees the jobs not collected. */
struct par *par_new(const struct config *cf, int n);
void par_free(struct par *p);
/* par_submit queues job j (no more than n in flight: see par_full) for
 * source src (32 hex digits).  par_collect returns the oldest submitted
 * job once it has finished, waiting at most timeout_ms; NULL when it has
 * not (or none is in flight).  The caller frees it (par_job_free). */
void par_submit(struct par *p, const char *src, struct par_job *j);
struct par_job *par_collect(struct par *p, long timeout_ms);
size_t par_inflight(const struct par *p);
int par_full(const struct par *p);
/* par_deps: what wagon w must wait for among the jobs in flight that
 * touch a table of its (srdf-apply(1), "Parallel apply"), into j's
 * wait_commit and wait_exec: a job of rows, its commit; a job of DDL,
 * that its DDL has run.  Returns how many jobs of rows in flight touch
 * a table of w's (bootstrap row wagons never count against each other),
 * or -1 when one in flight touches every table (tabs_all). */
int par_deps(struct par *p, const struct wagon *w, struct par_job *j);
/* The jobs of rows in flight. */
size_t par_rows_inflight(struct par *p);
void par_job_free(struct par_job *j);

/* ---- acks.c ----------------------------------------------------------- */

struct ledger;
struct ledger_txn;
struct acks;

struct acks *acks_new(const struct config *cf, struct ledger *l);
void acks_free(struct acks *a);
int acks_enqueue(struct acks *a, uint64_t seq);
int acks_note(struct ledger_txn *t, uint64_t seq);
void acks_pump(struct acks *a);
long acks_timeout_ms(const struct acks *a);
size_t acks_pending(const struct acks *a);
int acks_wait(struct acks *a, int fd1, int fd2, long timeout_ms);
size_t acks_drain(struct acks *a, long ms);

#endif
