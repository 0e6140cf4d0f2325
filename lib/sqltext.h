/*
 * sqltext.h — reading the first words of an SQL statement, enough to
 * classify it (srdf-capture: DDL or statement-based DML; srdf-apply: a
 * CREATE/DROP DATABASE that must run without USE).  Not a parser.
 *
 * sql_skip_blank: returns the first byte at or after s (before end) that
 * is not a blank or a comment ("/ * ... * /", "#..." to the end of the
 * line); executable comments ("/ *! ..." and MariaDB's "/ *M! ...")
 * are not skipped.
 * sql_word: after blanks and comments, if the text starts with w
 * (case-insensitive) as a whole word, advances *s past it and returns 1;
 * else returns 0 (*s may have moved past blanks and comments only).
 *
 * sql_ddl_tables: the table a DDL statement (len bytes, default database
 * db or NULL) adds to without changing a row, when it is CREATE TABLE
 * [IF NOT EXISTS] t or CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX [IF NOT
 * EXISTS] i [USING x] ON t, and none of the words REFERENCES, FOREIGN,
 * SELECT, LIKE, RENAME, EXCHANGE, TRIGGER, VIEW is anywhere in it (they
 * may name other tables).  The name is appended to out as
 * "db\037table\0", lowercased; returns 1, or -1 (out as it was) for any
 * other statement (CREATE OR REPLACE TABLE drops one: -1 too).
 * srdf-apply(1), "Parallel apply", runs such a statement ahead of the
 * wagons before it.
 *
 * sql_renames_table: 1 when a DDL statement (len bytes) renames a
 * table: RENAME anywhere in it as a word, not followed by COLUMN, INDEX
 * or KEY (RENAME TABLE, ALTER TABLE's RENAME TO/AS); else 0.  (MariaDB
 * Knowledge Base, "RENAME TABLE", "ALTER TABLE".)  sql_ddl_table_of
 * refuses such a statement; srdf-apply(1), "DDL", takes one that finds
 * its table gone after a crash for applied.
 *
 * sql_ddl_table_of: the one table a DDL statement changes, when it is
 * ALTER [ONLINE] [IGNORE] TABLE t, TRUNCATE [TABLE] t, CREATE [OR
 * REPLACE] TABLE t, CREATE [...] INDEX i ON t, DROP INDEX i ON t, DROP
 * TABLE t, or OPTIMIZE/ANALYZE/REPAIR TABLE t, of one table, with no
 * EXCHANGE and no RENAME other than RENAME COLUMN/INDEX/KEY in it
 * (other tables it names, as REFERENCES or SELECT do, are only read).
 * Appends "db\037table\0" (lowercased) to out and returns 1, or -1 (out
 * as it was).  srdf-apply(1), "Tables copied again", skips such a DDL.
 *
 * sql_dml_table: the one table a DML statement (len bytes, default
 * database db or NULL) writes, when it is INSERT or REPLACE [INTO] t,
 * UPDATE t [[AS] a] SET, or DELETE [HISTORY] FROM t [[AS] a] followed by
 * its end, WHERE, ORDER, LIMIT, RETURNING or BEFORE (MariaDB Knowledge
 * Base, "INSERT", "UPDATE", "DELETE"): not a multi-table UPDATE or
 * DELETE, nor a WITH.  Appends "db\037table\0", as written (no case
 * folding), to out and returns 1, or -1 (out as it was).  srdf-capture
 * passes over such a statement on a table it does not capture.
 *
 * sql_trigger_guard: when sql (len bytes) is CREATE [OR REPLACE]
 * [DEFINER = user] TRIGGER ... FOR EACH ROW [{FOLLOWS | PRECEDES} name]
 * body (MariaDB Knowledge Base, "CREATE TRIGGER"), appends to out the
 * same statement with the body run only where cond (SQL text) holds,
 * "IF cond THEN body\n; END IF", and returns 1.  Returns 0 (out as it
 * was) when the body already begins "IF cond THEN", -2 for a CREATE
 * TRIGGER it cannot read through to its body (an executable comment, an
 * unterminated quote, no FOR EACH ROW, no body), -1 for any other
 * statement (or one whose head is an executable comment).  srdf-apply(1),
 * "Triggers".
 *
 * sql_trigger_parts: where the parts of that CREATE TRIGGER statement
 * lie, as byte offsets into sql: tp->head just after CREATE [OR
 * REPLACE], tp->row just after FOR EACH ROW, the body from tp->body to
 * tp->body_end (trailing blanks and semicolons left out).  Returns 1, or
 * -2 and -1 as sql_trigger_guard does.  lib/trigger.c writes a trigger
 * again with another body so.
 *
 * sql_trigger_unguarded: the body of a trigger as written, from its
 * ACTION_STATEMENT (information_schema.TRIGGERS) body (len bytes): when
 * that is "IF cond THEN inner\n; END IF", as sql_trigger_guard made it,
 * sets *inner and *n to inner and returns 1; else returns 0.
 * srdf-verify compares the source's triggers with the target's so.
 *
 * sql_event_replica: when sql (len bytes) is CREATE [OR REPLACE]
 * [DEFINER = user] EVENT ... DO body that would run the event, or ALTER
 * [DEFINER = user] EVENT ... ENABLE ... (MariaDB Knowledge Base, "CREATE
 * EVENT", "ALTER EVENT"), appends to out the same statement with its
 * status DISABLE ON SLAVE instead (ENABLE replaced, or the clause added
 * before COMMENT or DO), what a MariaDB replica makes of it, and returns
 * 1.  Returns 0 (out as it was) when the statement leaves the status as
 * it was or disables the event, -2 for a CREATE EVENT it cannot read
 * through to DO, -1 for any other statement.  srdf-apply(1), "Events".
 */
#ifndef SRDF_SQLTEXT_H
#define SRDF_SQLTEXT_H

#include <stddef.h>

#include "buf.h"

/* The condition srdf-apply's triggers test before their body runs
 * (srdf-apply(1), "Triggers"): the session is not one of srdf-apply's,
 * which alone have their connection id in srdf.apply_sessions, a table
 * only srdf's account writes.  A temporary table of that name, which a
 * session with CREATE TEMPORARY TABLES could fill with its own id, is
 * never partitioned: PARTITION (p) makes reading it an error (1747)
 * instead of a way around the trigger.  One primary-key look-up a row. */
#define SQL_TRIGGER_GUARD \
	"NOT EXISTS (SELECT 1 FROM srdf.apply_sessions " \
	"PARTITION (p) WHERE id = CONNECTION_ID())"
/* The guard earlier builds of srdf-apply wrote, which any session passes
 * by setting @srdf_apply: srdf-apply replaces it with SQL_TRIGGER_GUARD
 * (lib/trigger.h), srdf-promote takes either off. */
#define SQL_TRIGGER_GUARD_V1 "@srdf_apply IS NULL"

/* sql_trigger_parts's answer. */
struct sql_trigger {
	size_t head, row, body, body_end;
};

const char *sql_skip_blank(const char *s, const char *end);
int sql_word(const char **s, const char *end, const char *w);
int sql_ddl_tables(
    const char *sql, size_t len, const char *db, struct buf *out);
int sql_dml_table(const char *sql, size_t len, const char *db, struct buf *out);
int sql_trigger_guard(
    const char *sql, size_t len, const char *cond, struct buf *out);
int sql_trigger_parts(const char *sql, size_t len, struct sql_trigger *tp);
int sql_trigger_unguarded(const char *body, size_t len, const char *cond,
    const char **inner, size_t *n);
int sql_event_replica(const char *sql, size_t len, struct buf *out);
int sql_renames_table(const char *sql, size_t len);
int sql_ddl_table_of(
    const char *sql, size_t len, const char *db, struct buf *out);

#endif
