/*
 * maria.h — MariaDB connections from option files, and the selection of
 * replicated tables, for the tools that run SQL against the source or
 * the target (srdf-bootstrap, srdf-verify).
 *
 * maria_connect opens a connection the ecosystem's way (srdf(7) "State
 * directories and option files"): the option file `defaults_file' (when not
 * NULL), its [client] group and the group `group' (e.g. "srdf-bootstrap"),
 * character set utf8mb4.  `what' names the server in messages ("the source",
 * "the target").
 *
 * maria_system_schema: 1 for the schemas srdf never replicates (mysql,
 * information_schema, performance_schema, sys, srdf).
 *
 * maria_selected: 1 when db.table passes the selection: not a system
 * schema; the database matches one of the comma-separated fnmatch(3)
 * patterns of `databases' (all databases when NULL); "db.table" matches
 * an --include pattern (all when there is none) and no --exclude
 * pattern.  The same rules as srdf-capture's --include/--exclude.
 * maria_db_selected: 1 when database db passes it as a whole, as
 * srdf-capture filters a DDL by its database: selected by `databases',
 * an include whose database part matches db (any, when none is given),
 * and no exclude "db.*" that matches.  For the objects of a database
 * (routines, events), and the database itself.
 *
 * maria_has_privilege: 1 when the connected session holds privilege priv
 * ("TRIGGER", "EVENT", "SHOW VIEW"), or ALL PRIVILEGES, globally or on
 * some schema or table, itself or through its enabled role, read from
 * SHOW GRANTS (MariaDB Knowledge Base, "SHOW GRANTS": the current role's
 * grants are listed with the user's); 0 otherwise or when they cannot be
 * read.  Without TRIGGER or EVENT the server hides those objects without
 * an error.
 *
 * maria_charset_class: the class of a character set name for the record
 * encoding (srdf-record(5)): MARIA_CS_UTF8 (utf8mb4, utf8mb3: text when
 * valid UTF-8), MARIA_CS_BINARY, MARIA_CS_OTHER (ucs2, utf16, utf32: always
 * base64), MARIA_CS_ASCII (latin1 and the other ASCII-compatible sets:
 * text when every byte is below 0x80).  The same classes as
 * srdf-capture.
 *
 * maria_fk_parents adds to l the tables that are the parent of a foreign
 * key whose ON DELETE or ON UPDATE rule changes the children (CASCADE,
 * SET NULL; SET DEFAULT, which InnoDB parses and ignores, counts too),
 * read at once for every schema from
 * information_schema.REFERENTIAL_CONSTRAINTS, which can be searched only
 * by the child (asked per parent, each question opens every table of
 * the server): a table already in l gets the rules or'ed in.  0, or -1
 * with the error on my.  maria_fk_parent finds db.name in l, without case
 * (a table too many only costs its reader speed: lower_case_table_names),
 * or NULL; maria_fk_parents_free empties l.  srdf-capture marks these
 * tables' rows, srdf-apply applies their cascading changes in order
 * (srdf-capture(1), srdf-apply(1), "Cascades").
 *
 * Calling sequence: my = maria_connect(...); maria_query_one(my, q) ...;
 * mysql_close(my).
 *
 * Error handling: maria_connect logs the server's reason and returns NULL
 * with *ex set to EX_NOPERM (access denied) or EX_UNAVAILABLE;
 * maria_exit_for maps any server error number the same way.
 * maria_query_one returns the first column of the first row (malloc'd),
 * or NULL on an error, an empty result or an SQL NULL, logging nothing.
 */
#ifndef SRDF_MARIA_H
#define SRDF_MARIA_H

#include <mysql.h>

#include "buf.h"

enum { MARIA_CS_OTHER, MARIA_CS_UTF8, MARIA_CS_BINARY, MARIA_CS_ASCII };

/*
 * A table's columns as both tools read them.  maria_table_load fills t
 * from information_schema (COLUMNS in ordinal order, the PRIMARY KEY from
 * STATISTICS) on a connection whose results are utf8mb4 or binary.  A
 * system-versioned table's period columns are left out of both (MariaDB
 * docs, "System-Versioned Tables": a SELECT sees the current rows; ROW
 * END is part of every unique key).  Each
 * column gets a kind that says how its value is read losslessly through
 * the text protocol with character_set_results=binary and time_zone
 * '+00:00' (maria_select_expr: FLOAT through CAST AS DOUBLE, INET6/UUID/
 * INET4 through CAST AS BINARY(n), everything else as stored).
 *
 * keyset is 1 when the primary key can drive ordered ranges
 * ("pk > last ORDER BY pk"): every key column is whole (no prefix) and
 * of a kind whose SQL comparison orders like ORDER BY (not ENUM/SET).
 *
 * maria_literal appends the SQL literal of one key value v[0..n) as read
 * through maria_select_expr: digits for numbers, 'text' for temporal
 * values, _charset X'..' for character columns (so the column's own
 * collation compares), X'..' for binary ones, CAST(X'..' AS UUID) for
 * the fixed binary types.  maria_key_cond appends the row-comparison
 * "(k1,k2,..) OP (lit1,lit2,..)" for OP ">" or "<=", spelled out as ORs
 * of ANDs so the range optimizer uses the primary key.
 *
 * Returns 0, or -1 with the reason in err (no such table, a query
 * failed: err holds the server's message and *myerr its number).
 */
enum maria_kind {
	MARIA_K_INT,
	MARIA_K_UINT,
	MARIA_K_YEAR,
	MARIA_K_BIT,
	MARIA_K_DECIMAL,
	MARIA_K_FLOAT,
	MARIA_K_DOUBLE,
	MARIA_K_TEMPORAL,
	MARIA_K_TEXT,
	MARIA_K_BYTES,
	MARIA_K_FIXBIN,
	MARIA_K_ENUMSET,
};

struct maria_col {
	char *name;
	char *data_type; /* information_schema DATA_TYPE, lower case */
	char *charset;   /* CHARACTER_SET_NAME, NULL for binary types */
	int kind;        /* enum maria_kind */
	int cls;         /* MARIA_CS_* of charset */
	int zerofill;
	unsigned padlen;   /* BINARY(n): n, else 0 */
	unsigned fixlen;   /* MARIA_K_FIXBIN: 16 (INET6, UUID) or 4 (INET4) */
	unsigned sub_part; /* key prefix length, 0 when whole */
	int empty_member;  /* ENUM or SET with a member '' */
};

struct maria_table {
	char *db, *name;
	int ncols;
	struct maria_col *col;
	int npk;
	int *pk; /* column indexes in key order */
	int keyset;
	int versioned; /* WITH SYSTEM VERSIONING: its period columns (ROW
			* START, ROW END) are not in col, nor in pk */
	int nvirtual;  /* VIRTUAL generated columns (in col) */
};

int maria_table_load(MYSQL *my, const char *db, const char *name,
    struct maria_table *t, unsigned *myerr, char *err, size_t errlen);
/* maria_table_load of the n tables names[i] of database db into *ts[i],
 * with three queries for them all (information_schema by schema), not
 * three per table: for a database of many small tables.  Every name
 * must be a table of db with distinct names; on an error none is
 * loaded (each *ts[i] freed). */
int maria_tables_load(MYSQL *my, const char *db, char *const *names,
    struct maria_table **ts, int n, unsigned *myerr, char *err, size_t errlen);
void maria_table_free(struct maria_table *t);
void maria_select_expr(struct buf *b, const struct maria_col *c);
void maria_literal(
    struct buf *b, const struct maria_col *c, const char *v, unsigned long n);
void maria_key_cond(struct buf *b, const struct maria_table *t,
    char *const *lits, const char *op);

/* maria_escape appends s as the inside of a '...' string literal;
 * maria_table_where "TABLE_SCHEMA='db' AND TABLE_NAME='name'", the
 * condition that finds one table in information_schema (and lets the
 * server open that table alone). */
void maria_escape(struct buf *b, const char *s);
void maria_table_where(struct buf *b, const char *db, const char *name);

MYSQL *maria_connect(const char *defaults_file, const char *group,
    const char *what, unsigned read_timeout, int *ex);
int maria_exit_for(unsigned err);
char *maria_query_one(MYSQL *my, const char *q);
int maria_has_privilege(MYSQL *my, const char *priv);

struct maria_fk_parent {
	char *db, *name;
	int on_delete, on_update; /* the rule of some child changes it */
};
struct maria_fk_parents {
	struct maria_fk_parent *p;
	size_t n, cap;
};
int maria_fk_parents(MYSQL *my, struct maria_fk_parents *l);
const struct maria_fk_parent *maria_fk_parent(
    const struct maria_fk_parents *l, const char *db, const char *name);
void maria_fk_parents_free(struct maria_fk_parents *l);

int maria_system_schema(const char *db);
int maria_selected(const char *databases, char *const *include, int ninclude,
    char *const *exclude, int nexclude, const char *db, const char *table);
int maria_db_selected(const char *databases, char *const *include, int ninclude,
    char *const *exclude, int nexclude, const char *db);

int maria_charset_class(const char *name);

#endif
