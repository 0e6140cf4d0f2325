/*
 * applied.h — the one reader of srdf.applied, srdf-apply's checkpoint
 * table in the target database: one row per source, its columns as
 * srdf-apply(1) "Order and the checkpoint" lists them.  srdf-apply
 * creates and writes the table (apply/db.c); srdf-status, srdf-promote
 * and srdf-verify read it through this.
 *
 * APPLIED_TABLE is the table's name; APPLIED_COLUMNS the columns the
 * reader selects, in struct applied's order; APPLIED_DDL the statements
 * (';'-separated, for a multi-statement connection) that create the table
 * and add the columns later versions brought, which srdf-apply runs
 * (apply/db.c).
 *
 * applied_read(my, source, out, err, errlen): the rows of srdf.applied on
 * the connection my into *out (replacing its contents): with source (32
 * hex characters) only that source's row; with source NULL every row,
 * the most recently applied first.  Returns 0 (out->n may be 0: no row),
 * or -1 after a failed query, the table or its database missing
 * included: err then holds "<server's message> (error <n>)" and
 * mysql_errno(my) still gives the error number (ER_NO_SUCH_TABLE,
 * ER_BAD_DB_ERROR: nothing was ever applied there).  A table an older
 * srdf-apply created, without the column part, is read as part 0.
 * applied_free(out): frees the rows; out is then empty.
 * Memory: the strings of a row belong to *out; allocation failure dies
 * (lib/xalloc.h).
 */
#ifndef SRDF_APPLIED_H
#define SRDF_APPLIED_H

#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#define APPLIED_TABLE "srdf.applied"
#define APPLIED_COLUMNS_V1 \
	"source_id, seq, last_gtid, gtid_pos, UNIX_TIMESTAMP(applied_at)"
#define APPLIED_COLUMNS \
	"source_id, seq, last_gtid, gtid_pos, UNIX_TIMESTAMP(applied_at), " \
	"part"
#define APPLIED_DDL \
	"CREATE TABLE IF NOT EXISTS " APPLIED_TABLE " (" \
	"source_id CHAR(32) CHARACTER SET ascii PRIMARY KEY, " \
	"seq BIGINT UNSIGNED NOT NULL, " \
	"last_gtid VARCHAR(64), " \
	"gtid_pos VARCHAR(1024), " \
	"applied_at DATETIME(6) NOT NULL, " \
	"bootstrap_pos VARCHAR(1024), redo_tables TEXT) " \
	"ENGINE=InnoDB;" \
	"ALTER TABLE " APPLIED_TABLE " ADD COLUMN IF NOT EXISTS " \
	"redo_tables TEXT;" \
	"ALTER TABLE " APPLIED_TABLE " ADD COLUMN IF NOT EXISTS " \
	"source_commit_at DATETIME(6);" \
	"ALTER TABLE " APPLIED_TABLE " ADD COLUMN IF NOT EXISTS " \
	"part INT NOT NULL DEFAULT 0;"

struct applied {
	char source_id[33]; /* hex, "" when the row's is not 32 characters */
	uint64_t seq;       /* the last wagon applied */
	char *last_gtid;    /* its last source GTID, or NULL */
	char *gtid_pos;     /* the source's GTID position after it, or NULL */
	double applied_at;  /* when, Unix seconds; < 0 unknown */
	int part; /* leading transactions of wagon seq + 1 applied (a stop
		   * point inside a split group); 0 on a table without the
		   * column (an older srdf-apply's) */
};

struct applied_rows {
	struct applied *v;
	size_t n;
};

int applied_read(MYSQL *my, const char *source, struct applied_rows *out,
    char *err, size_t errlen);
void applied_free(struct applied_rows *out);

#endif
