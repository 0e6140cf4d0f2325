/*
 * db.h — the target connection (db.c): the session, statement batches
 * sent in round trips, bulk inserts, the checkpoint row of srdf.applied
 * and srdf.xa_pending, the per-table schema cache.
 *
 * Calling sequence: db_connect(&db, cf, dry); db_session;
 * db_apply_lock; db_checkpoint_init / db_checkpoint_read; then per
 * wagon statements queued (db_stmt_open ... db_stmt_close, or db_exec,
 * db_bulk), sent by db_flush, and db_commit_at or db_rollback;
 * db_close.
 *
 * Error handling: every int function returns a DB_* code (apply.h); on
 * DB_FAIL the reason, one line with the server's own error text, is in
 * d->err and its error number in d->errnum.  Nothing here exits.
 */
#ifndef SRDF_APPLY_DB_H
#define SRDF_APPLY_DB_H

#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "apply.h"
#include "buf.h"
#include "maria.h"
#include "recopy.h"

/* Statement sizes.  Invariant: ROW_STMT_BYTES <= BATCH_BYTES, and both
 * are cut further to fit the server's max_allowed_packet (db.c). */
#define ROWS_PER_STMT 1000        /* keys of a DELETE, rows of an INSERT */
#define ROW_STMT_BYTES (4u << 20) /* text of one multi-row statement */
#define BATCH_BYTES (8u << 20)    /* statements sent in one round trip */
#define BATCH_STMTS 512           /* ... and at most this many */
#define BULK_MIN_ROWS 200         /* inserts of a table worth a bulk insert */

/* What the target knows of one table (db.c's schema cache). */
struct col {
	char *name;
	unsigned flags;
};
#define COL_GENERATED 0x1 /* never written: the server computes it */
#define COL_FLOAT 0x2     /* FLOAT: compared as CAST(v AS FLOAT) */
#define COL_INT \
	0x4 /* integers and BIT: a big value (a JSON string
			   * of digits) is written as a number, which BIT
			   * needs: a quoted one would be its bytes */
/* What a bulk insert may carry (load.c says why): */
#define COL_BULK \
	0x8 /* a string value: integers but BIT, DECIMAL,
			   * CHAR/VARCHAR/TEXT, DATE, DATETIME, TIMESTAMP,
			   * TIME */
#define COL_BULK_NUM \
	0x10               /* ... also a bare number: integers, DECIMAL,
			   * CHAR/VARCHAR/TEXT */
#define COL_TIMESTAMP 0x20 /* TIMESTAMP: a NULL goes by INSERT */
/* The period of a system-versioned table (GENERATED ALWAYS AS ROW
 * START/END, or the hidden row_start/row_end), also COL_GENERATED: */
#define COL_ROW_START 0x40
#define COL_ROW_END 0x80
/* Referenced by a foreign key whose ON UPDATE rule changes the children
 * (CASCADE, SET NULL): engine.c, "Moves". */
#define COL_REFERENCED 0x100
#define COL_ENUM 0x200 /* ENUM: "" may be the error value (index 0) */
#define COL_TEXT \
	0x400 /* CHAR, VARCHAR, TEXT (JSON too): compared
			   * under a collation, which may not be exact */
#define COL_GEOM \
	0x800 /* GEOMETRY and its subtypes: an empty value
			   * has no literal (engine.c, literal()) */
/* In a plan only: the image holds an empty GEOMETRY there, which no
 * literal writes; an INSERT leaves the column out (the lax sql_mode gives
 * it that empty value), a SET leaves it as it is (engine.c, plan_get). */
#define COL_OMIT 0x1000

struct tinfo {
	char *db, *name;
	int exists;
	int cascade;     /* parent of an ON DELETE CASCADE/SET NULL key */
	int upd_cascade; /* parent of an ON UPDATE CASCADE/SET NULL key */
	int versioned;   /* WITH SYSTEM VERSIONING: col[row_end] is ROW END */
	int genexpr;     /* has generated columns (not periods): written
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
	const char *kind; /* "delete", "insert"...: a string constant */
	long long expect; /* rows it must touch, or -1 */
	char table[2 * 64 * 4 + 2]; /* "db.t" for messages, or "" */
};

/* The session's sql_mode (srdf-apply(1), "The session"): strict, so that
 * a value the target cannot hold is an error, not a truncation; any
 * date the source stored (ALLOW_INVALID_DATES there) accepted; a zero
 * in an AUTO_INCREMENT column kept. */
#define APPLY_SQL_MODE \
	"NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,STRICT_ALL_TABLES," \
	"ALLOW_INVALID_DATES"
/* ... and without strictness, for the one statement that writes a row
 * holding what only a lax source stores: an ENUM's error value "" (index
 * 0), which strict mode refuses ("Data truncated"). */
#define APPLY_LAX_SQL_MODE \
	"NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,ALLOW_INVALID_DATES"

enum { DB_EXACT_BATCH = 1, DB_EXACT_ROW = 2 };

struct db {
	const struct config *cf;
	MYSQL *my;
	int dry;                /* print the statements, run nothing */
	unsigned long max_stmt; /* longest statement the server accepts */
	struct buf q;           /* the batch: statements separated by ';' */
	struct stmt *st;
	size_t nst, capst;
	size_t stmt_start;  /* offset where the open statement begins */
	struct tinfo *tabs; /* schema cache, cleared after DDL */
	/* The parents of foreign keys whose ON DELETE or ON UPDATE rule
	 * changes the children (db_table's cascade flags): read for all
	 * schemas at once, when the first table is asked about after a
	 * DDL, cleared with tabs. */
	struct maria_fk_parents fk;
	int fk_known;
	uint64_t missing; /* rows that were not where expected */
	unsigned errnum;  /* the server's error number of a DB_FAIL */
	int full;         /* ... and says the target is out of space */
	int bulk_refused; /* the target refused array binding: kept
				 * over reconnects, said once */
	/* db_bulk's arrays, grown as needed, freed by db_close */
	char **bulk_ptr, *bulk_ind;
	unsigned long *bulk_len;
	MYSQL_BIND *bulk_bind;
	size_t nbulk, nbind;
	/* The target writes a system-versioned table's history as the
	 * source's (system_versioning_insert_history, MariaDB 10.11 and
	 * later): srdf-apply(1), "System-versioned tables" */
	int history;
	/* Set by error 1292 (a generated column's expression a lax source
	 * evaluated with a warning) on a table with generated columns:
	 * the wagon is tried again at once, the rows of such tables written
	 * without strict mode; cleared at the next commit. */
	int genlax;
	/* srdf-rewind(1): every row a statement must touch (expect >= 0)
	 * is touched, or the batch fails (DB_FAIL, mismatch set); the
	 * engine deletes a keyed row by all its values, not its key alone
	 * (engine.c, "Exact undo"): DB_EXACT_BATCH many rows a statement,
	 * DB_EXACT_ROW one, so that a failure names its key; 0 off. */
	int exact;
	int mismatch;
	/* The server's last error text in full, the row values it quotes
	 * included (d->err withholds them): for srdf-rewind's refusal,
	 * which names the key on the operator's terminal. */
	char errfull[1024];
	char err[2048];
};

struct checkpoint {
	uint64_t seq;
	char last_gtid[WAGON_GTID_LEN];
	char *gtid_pos;      /* malloc'd, may be NULL */
	char *bootstrap_pos; /* the highest snapshot_gtid of srdf-bootstrap's
			      * wagons applied: the idempotent window */
	struct recopy_list recopied; /* srdf.applied.redo_tables */
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
int db_checkpoint_init(
    struct db *d, const char *source_hex, struct checkpoint *cp);
/* db_triggers_upgrade: the triggers that earlier builds guarded with
 * @srdf_apply, which any session can set, get the guard of
 * srdf.apply_sessions instead, in their place (lib/trigger.h), each
 * logged (srdf-apply(1), "Triggers").  DB_OK also when some could not
 * be written (a warning each: they are tried at the next start);
 * DB_GONE, or DB_FAIL with d->err when the triggers cannot be listed.
 * Nothing in a dry run. */
int db_triggers_upgrade(struct db *d);
int db_checkpoint_read(
    struct db *d, const char *source_hex, struct checkpoint *cp);
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
int db_stmt_close(
    struct db *d, const char *kind, const char *table, long long expect);
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
    const struct bulk_cell *cells, size_t ncol, size_t nrows, const char *data,
    long long expect, const char *table, int *loaded);
int db_exec(struct db *d, const char *kind, const char *sql, size_t len);

struct tinfo *db_table(struct db *d, const char *db, const char *name, int *rc);
void db_tables_forget(struct db *d);
int db_create_database(struct db *d, const char *name);
int db_classify(struct db *d, const char *kind, const char *table);
/* Whether the error of the last DB_FAIL says the target is out of space
 * (a full disk or tablespace, a table at its size limit: ER_RECORD_FILE_FULL,
 * ER_DISK_FULL, or an engine's ENOSPC): not the wagon's fault, so it is
 * retried but never dead-lettered for it. */
int db_full(const struct db *d);

#endif
