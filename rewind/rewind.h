/*
 * rewind.h — what srdf-rewind's files share (srdf-rewind(1)):
 *	rewind.c   main(): options, the two modes
 *	reverse.c  a group or a transaction turned around: its row records
 *	           in reverse order, insert<->delete, update's images
 *	           swapped; what it holds, per table (the plan)
 *	wagons.c   --to: the kept wagons of DIR undone, newest group first,
 *	           a batch of groups a transaction with the checkpoint
 *	           moved back
 *	records.c  --records: the transactions of an srdf-record(5) stream
 *	           undone, newest first, with a progress row
 * Both modes run the reversed rows through srdf-apply's engine
 * (apply/engine.h) with db.exact set: a row the undo removes must be, in
 * every column, the image it undoes.
 *
 * Calling sequence: main() parses the options into struct rwconf and
 * calls rewind_wagons or rewind_records, which return an exit code
 * (sysexits.h); rev_* are theirs.
 *
 * Error handling: refusals and failures are logged (log_err) by the
 * function that meets them and become an exit code; nothing but main()
 * and what it calls before the work exits.
 */
#ifndef SRDF_REWIND_H
#define SRDF_REWIND_H

#include <stddef.h>
#include <stdint.h>

#include "apply.h"
#include "buf.h"
#include "scan.h"

#define REWIND_TOOL "srdf-rewind"

struct rwconf {
	struct config ap; /* what the apply engine reads: defaults file,
			   * group, no bulk load */
	const char *dir;
	const char *key_file;
	const char *to;      /* --to GTID|TIME */
	const char *records; /* --records FILE */
	int dry_run;
	unsigned batch; /* --batch: transactions of --records, or groups of
			 * --to, a commit */
	unsigned long long merge_bytes; /* --merge-bytes: with --to, the
					 * payload bytes of the groups of
					 * one commit at most */
	int crash_after; /* SRDF_REWIND_CRASH_AFTER_COMMIT: _exit(137)
			  * after this many commits (tests) */
};

/* Row changes of one table in an undo: what the undo does (inserts are
 * the rows it puts back). */
struct rev_table {
	char *name;     /* "db.table", for people */
	char *db, *tab; /* its two names */
	uint64_t ins, upd, del;
};

/* What a reversed group or transaction holds. */
struct rev_plan {
	struct rev_table *t;
	size_t n, cap;
	uint64_t rows, trx;
	uint64_t first_ts; /* the earliest source commit time, 0 unknown */
	char first_gtid[WAGON_GTID_LEN], last_gtid[WAGON_GTID_LEN];
};

/* rev_payload: the row records of payload p (len bytes: srdf-record(5)
 * lines, a group or one transaction) reversed into out, after one
 * empty line (where the engine expects the group_begin it skips), and
 * counted into pl when it is not NULL.  Returns 0, or -1 with why set to
 * the refusal: a DDL, an XA transaction, a row of a cascade parent
 * deleted or updated ("cascade":true), a line that is no record. */
int rev_payload(const char *p, size_t len, struct buf *out, struct rev_plan *pl,
    char *why, size_t whylen);
/* One trx record of a group (srdf-record(5)): the transaction's GTID,
 * its commit time, and the payload offset just past its line. */
struct rev_trx {
	char gtid[WAGON_GTID_LEN];
	uint64_t ts;
	size_t end;
};

/* rev_trx_list: the trx records of payload p (len bytes) in order into
 * *v (n of them, malloc'd, the caller frees), *split set when its
 * group_end says "split":true (srdf-dedup(1): each is a boundary where
 * the group can be cut). */
void rev_trx_list(
    const char *p, size_t len, struct rev_trx **v, size_t *n, int *split);
/* rev_plan_print: pl's tables, one line each, on stdout, indented;
 * rev_plan_free: its memory. */
void rev_plan_print(const struct rev_plan *pl);
void rev_plan_free(struct rev_plan *pl);

int rewind_wagons(struct rwconf *cf);
int rewind_records(struct rwconf *cf);

#endif
