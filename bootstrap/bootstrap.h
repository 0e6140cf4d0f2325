/*
 * bootstrap.h — srdf-bootstrap's parts: the plan (bootstrap.c), the row
 * readers (rows.c) and the schema objects (schema.c).
 *
 * Threads: the main thread plans, writes stdout and the ledger (it is
 * the only one that does); --parallel readers each hold one connection
 * inside the shared consistent snapshot, take tables from the plan's
 * queue and hand encoded chunks to the main thread through a bounded
 * queue (struct pipe).  Everything else is read-only once the readers
 * start.
 */
#ifndef SRDF_BOOTSTRAP_H
#define SRDF_BOOTSTRAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>
#include <mysql.h>

#include "buf.h"
#include "maria.h"

struct config {
	const char *defaults_file;
	const char *group;
	const char *dir;
	const char *databases;
	char **include;
	int ninclude;
	char **exclude;
	int nexclude;
	int parallel;
	uint64_t chunk_rows;
	int chunk_rows_set;  /* --chunk-rows was given */
	int chunk_bytes_set; /* --chunk-bytes was given */
	unsigned long long chunk_bytes;
	int restart;
	int skip_views, skip_triggers, skip_routines, skip_events;
	const char *resync; /* --resync db.table (resync.c) */
	const char *add;    /* --add pattern (resync.c) */
	const char *resync_after, *resync_upto; /* JSON arrays of key
						 * literals, or NULL */
	int resync_spool;     /* chunk files waiting to be sealed, at most */
	long long max_lag_ms; /* --max-lag: pause the online copy while the
	                       * oldest wagon not confirmed is older; 0 off */
};

/* One table of the plan. */
struct ttable {
	struct maria_table m;
	char *key;    /* "db.table", the ledger key's suffix */
	char *create; /* SHOW CREATE TABLE as read for the plan */
	char def[33]; /* hash of it without AUTO_INCREMENT=n */
	uint64_t est_rows, est_bytes;
	struct buf
	    head; /* {"v":1,"type":"insert","db":..,"pk":[..],"after":{ */
	struct buf *jname; /* per column: "name": */
	struct buf query;  /* SELECT ... FROM `db`.`t` [WHERE ...] [ORDER BY] */

	/* Main thread only. */
	json_t *prog;   /* its ledger record (see bootstrap.c) */
	int done;       /* every row emitted */
	int recreate;   /* emit CREATE OR REPLACE TABLE again first */
	char **after;   /* resume after this key (literals), or NULL */
	char **upto;    /* and read up to this one, or NULL (resync.c) */
	uint64_t rows;  /* rows emitted, all runs */
	uint64_t bytes; /* record bytes emitted, all runs */
	uint64_t run_rows;
	int last_group; /* group of its last chunk, 0 for none */
	int redo;       /* its CREATE OR REPLACE names it as copied again
			  * ("redo"): srdf-apply skips its older changes */
	int changed;    /* its definition moved: set by a reader */
	int whole;      /* and the whole copy must start over (the table
			  * is gone, or the reader's snapshot ended) */
};

/* A chunk: up to --chunk-rows rows of one table, one group of output. */
struct chunk {
	struct ttable *t;
	struct buf body; /* the insert records */
	uint64_t rows;
	char **lits; /* key literals of its last row (keyset tables) */
	int last;    /* the table's last chunk (may hold no row) */
	struct chunk *next;
};

/* Readers to the main thread: a bounded FIFO of chunks. */
struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *head, *tail;
	int n, max;
	int readers;          /* still running */
	struct ttable **todo; /* tables still to copy, in order */
	int ntodo, next;
};

extern atomic_int stopping; /* a signal, an error or a DDL: stop reading */

/* rows.c */
struct reader {
	const struct config *cf;
	MYSQL *my; /* inside the snapshot */
	struct pipe *p;
	pthread_t tid;
	int failed; /* exit code, 0 if none */
	unsigned long long rows;
};
void table_prepare(struct ttable *t);
/* row_record appends row (lengths len, as the SELECT of table_set_query
 * returns it) as t's "insert" record line; row_key_image its primary key
 * as a key image {"k":v,...} (srdf-record(5) values); key_literals the
 * key's SQL literals (npk strings, malloc'd), which maria_key_cond
 * takes. */
void row_record(struct buf *b, const struct ttable *t, MYSQL_ROW row,
    const unsigned long *len);
void row_key_image(struct buf *b, const struct ttable *t, MYSQL_ROW row,
    const unsigned long *len);
char **key_literals(
    const struct maria_table *m, MYSQL_ROW row, unsigned long *len);
void table_set_query(struct ttable *t);
void *reader_main(void *arg);
void chunk_free(struct chunk *c);
char *table_def(MYSQL *my, const char *db, const char *name, char **create,
    unsigned *myerr);

/* resync.c: --resync db.table copied again online into the running
 * pipeline, through l (the ledger of cf->dir) and my (a connection to
 * the source).  Returns 0 once every chunk is sealed, or an exit status
 * after logging why (srdf-bootstrap(1), EXIT STATUS). */
struct ledger;
int resync_table(
    const struct config *cf, struct ledger *l, MYSQL *my, const char *name);
/* add_tables: --add pattern, the base tables it matches put into the
 * selection of the running pipeline (srdf-bootstrap(1), "Adding tables
 * online"): their schema into the stream, the pattern into the ledger's
 * selection_added and srdf-capture's filters, then their rows as by
 * resync_table.  Returns 0 once done, or an exit status after logging
 * why. */
int add_tables(
    const struct config *cf, struct ledger *l, MYSQL *my, const char *pattern);

/* schema.c: DDL records, one per group. */
struct ddl {
	char *db;
	char *sql;
	uint64_t sql_mode;
	const char *object; /* database, table, routine, view, trigger,
			     * event */
	char *name;         /* db.name, for messages */
	char *tz;           /* the time zone of its text, NULL: +00:00 (the
			     * session's); an event's own */
};
struct ddl_list {
	struct ddl *v;
	int n;
	size_t cap; /* room in v (xgrow) */
};
void ddl_add(struct ddl_list *l, const char *db, const char *sql,
    uint64_t sql_mode, const char *object, const char *name);
void ddl_list_free(struct ddl_list *l);
void ddl_record(struct buf *b, const struct ddl *d);
int schema_databases(MYSQL *my, const struct config *cf, struct ddl_list *l);
int schema_routines(MYSQL *my, const struct config *cf, struct ddl_list *l);
int schema_views(MYSQL *my, const struct config *cf, struct ddl_list *l);
int schema_events(MYSQL *my, const struct config *cf, struct ddl_list *l);
int schema_check_triggers(MYSQL *my, const struct config *cf);
int schema_triggers(MYSQL *my, const struct config *cf, struct ttable **tables,
    int ntables, struct ddl_list *l);
uint64_t sql_mode_bits(const char *names);
int db_selected(const struct config *cf, const char *db);

/* The sql_mode of the CREATE TABLE and CREATE VIEW records:
 * NO_AUTO_VALUE_ON_ZERO | NO_ENGINE_SUBSTITUTION, mariadb-dump's choice
 * (no strict mode, so zero-date defaults load; no engine substitution,
 * so a missing engine is an error on the target, not a surprise). */
#define TABLE_SQL_MODE ((1ULL << 19) | (1ULL << 30))

#endif
