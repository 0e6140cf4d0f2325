/*
 * apply.h — what all of srdf-apply's files share: the configuration,
 * the DB_* codes, the wagon in hand (struct inwagon).  Each .c file has
 * its own header for the rest.
 *
 *	applier.h  apply.c (main(), the start and the loop), step.c,
 *	           inbox.c, outcome.c, prefetch.c, dispatch.c, merge.c,
 *	           xa.c: over struct applier
 *	engine.h   engine.c (one wagon's payload, srdf-record(5) group
 *	           lines, to SQL: the net delta of its rows, in record
 *	           order), with ddl.c, load.c, peek.c (insides: eng.h)
 *	recopy.h   recopy.c: the tables srdf-bootstrap copied again
 *	db.h       db.c: the target connection: session, statement
 *	           batches, the checkpoint row, the per-table schema cache
 *	acks.h     acks.c: the queue of ACKs to srdf-ackd
 *	par.h      par.c: worker threads applying wagons over connections
 *	           of their own (--parallel)
 *
 * Calling sequence (apply.c):
 *	db_connect(&db, cf, dry) ... db_checkpoint_read(&db, src, &cp)
 *	per wagon: engine_run(&db, &arena, &w, recopied, mark, arg)
 *	  queues and runs the statements;
 *	  step.c then moves the checkpoint and commits in the same round
 *	  trip (db_commit_at), or rolls back (db_rollback) on failure.
 *
 * Error handling: db_* and engine_run return one of the DB_* codes below;
 * on DB_FAIL the reason, one line with the server's own error text, is
 * in db->err.  Only main(), and what it calls before the loop, exits.
 */
#ifndef SRDF_APPLY_H
#define SRDF_APPLY_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "gtid.h"
#include "wagon.h"

#define TOOL "srdf-apply"

struct config {
	const char *dir;
	char inbox[PATH_MAX - 64]; /* DIR/inbox: room for /new/NAME */
	const char *key_file;
	struct keyring *kr; /* the key file, read again on SIGHUP */
	const char *defaults_file;
	const char *group;  /* option-file group, "srdf-apply" */
	const char *ack_to; /* https://host:port of srdf-ackd, or NULL */
	int ack_pull;       /* --ack-pull: srdf-ship fetches them
				  * through srdf-recv (recv/acks.h) */
	const char *ca_file;
	int insecure;
	int once;
	int dry_run;
	int create_databases;
	int no_bulk_load;  /* --no-bulk-load: never a bulk insert */
	int fire_triggers; /* --fire-triggers: triggers created as
				  * written, firing on the rows applied */
	unsigned long long merge_bytes; /* --merge-bytes: wagons waiting in
				  * the inbox applied together, up to
				  * this many payload bytes; 0 never */
	long long keep_ms;              /* --keep: applied wagons' files kept in
				  * inbox/cur this long */
	int parallel;                   /* --parallel: connections for bootstrap
				  * row wagons; 1 applies all on one */
	int has_skip;
	uint64_t skip;
	long long delay_ms; /* --delay: a wagon waits until its last source
			     * commit is this old; 0 none */
	/* --until / --until-before (srdf-apply(1), "Delayed apply and
	 * stop points"): where to stop, UNTIL_NONE for nowhere */
	int until;
	struct gtid until_gtid; /* UNTIL_GTID, UNTIL_BEFORE */
	uint64_t until_ts;      /* UNTIL_TIME: Unix seconds */
	const char *until_arg;  /* as given, for messages */
	int no_binlog; /* srdf-rewind --records: the session writes nothing
			* to the server's binlog (sql_log_bin=0), its
			* registration in srdf.apply_sessions included */
	long long retry_ms[16]; /* delays between attempts */
	int nretry;
};

enum { UNTIL_NONE, UNTIL_GTID, UNTIL_BEFORE, UNTIL_TIME };

enum {
	DB_OK = 0,
	DB_FAIL,  /* the wagon cannot be applied: db->err says why */
	DB_RETRY, /* deadlock or lock wait timeout: roll back, try again now */
	DB_GONE,  /* the connection is lost: reconnect, start from the
	           * checkpoint */
	DB_SPLIT, /* engine_run_many: these wagons must go one by one; roll
	           * back (nothing of them is an error) */
};

/* What a wagon is to an XA transaction of the source: none; the rows of
 * one that was XA PREPAREd (a group that begins with "xa" or ends with
 * xa_prepare); its XA COMMIT or XA ROLLBACK (xa_end). */
enum { XA_NONE, XA_PREPARED, XA_COMMIT, XA_ROLLBACK };

/* A transaction's end inside a group: its "trx" record (srdf-record(5),
 * srdf-dedup(1) "Groups"), and where the payload goes on after it. */
struct trx_mark {
	char gtid[WAGON_GTID_LEN];
	uint64_t ts;
	size_t end; /* offset of the line after the trx record */
};

/* One wagon in hand. */
struct inwagon {
	uint64_t seq;
	struct wagon_header h;
	char *records; /* the payload, NUL-terminated */
	size_t len;
	/* from the payload */
	uint64_t group;
	uint32_t chunk;
	int last;           /* the group's last chunk */
	int ddl_done;       /* DDL statements applied by earlier attempts */
	int ddl_inflight;   /* 1 + index of a DDL a crash may have cut, or 0 */
	char *gtid_pos;     /* group_end's "gtid_pos", malloc'd or NULL */
	char *snapshot;     /* group_end's "snapshot_gtid" (srdf-bootstrap) */
	int xa;             /* XA_* (engine_peek; the chunks after the first
			     * of a prepared group: apply.c) */
	char *xid;          /* its XA id in SQL form, malloc'd or NULL */
	char *recopy_db;    /* group_end's "redo": the table it creates */
	char *recopy_table; /* again (srdf-bootstrap), malloc'd or NULL */
	uint64_t skipped;   /* row changes skipped (recopy.c) */
	int idem;           /* within the bootstrap window: idempotent */
	char last_gtid[WAGON_GTID_LEN];
	uint64_t last_ts; /* group_end's "last_ts": the source commit time
			     * of its last transaction (Unix s), or 0 */
	uint64_t rows;    /* row changes applied */
	uint64_t ddls;    /* DDL statements run */
	int has_ddl;      /* a "ddl" record in the payload (engine_peek) */
	/* Its transactions (engine_peek): the trx records, in order, ntrx
	 * of them (0: a wagon sealed before srdf-dedup wrote them); split:
	 * group_end's "split", every trx record a boundary; first_ts:
	 * group_end's "first_ts" or 0.  part0: the leading transactions of
	 * the wagon that are not in records any more (cut off: applied
	 * before, srdf.applied.part). */
	struct trx_mark *trx;
	size_t ntrx, captrx;
	int split;
	uint64_t first_ts;
	int part0;
	int has_range; /* a "range" record: srdf-bootstrap --resync's
			   * chunk, applied alone (engine_peek) */
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
typedef void (*ddl_mark_fn)(void *arg, struct inwagon *w, int i, int done);

#endif
