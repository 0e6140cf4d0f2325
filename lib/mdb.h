/*
 * mdb.h — MariaDB connections from option files, and the selection of
 * replicated tables, for the tools that run SQL against the source or
 * the target (srdf-bootstrap, srdf-verify).
 *
 * mdb_connect opens a connection the ecosystem's way (DESIGN.md §7): the
 * option file `defaults_file' (when not NULL), its [client] group and the
 * group `group' (e.g. "srdf-bootstrap"), character set utf8mb4.  `what'
 * names the server in messages ("the source", "the target").
 *
 * mdb_system_schema: 1 for the schemas srdf never replicates (mysql,
 * information_schema, performance_schema, sys, srdf).
 *
 * mdb_selected: 1 when db.table passes the selection: not a system
 * schema; the database matches one of the comma-separated fnmatch(3)
 * patterns of `databases' (all databases when NULL); "db.table" matches
 * an --include pattern (all when there is none) and no --exclude
 * pattern.  The same rules as srdf-capture's --include/--exclude.
 * mdb_db_selected: 1 when database db passes it as a whole, as
 * srdf-capture filters a DDL by its database: selected by `databases',
 * an include whose database part matches db (any, when none is given),
 * and no exclude "db.*" that matches.  For the objects of a database
 * (routines, events), and the database itself.
 *
 * mdb_has_privilege: 1 when the connected session holds privilege priv
 * ("TRIGGER", "EVENT", "SHOW VIEW"), or ALL PRIVILEGES, globally or on
 * some schema or table, itself or through its enabled role, read from
 * SHOW GRANTS (MariaDB Knowledge Base, "SHOW GRANTS": the current role's
 * grants are listed with the user's); 0 otherwise or when they cannot be
 * read.  Without TRIGGER or EVENT the server hides those objects without
 * an error.
 *
 * mdb_charset_class: the class of a character set name for the record
 * encoding (srdf-record(5)): MDB_CS_UTF8 (utf8mb4, utf8mb3: text when
 * valid UTF-8), MDB_CS_BINARY, MDB_CS_OTHER (ucs2, utf16, utf32: always
 * base64), MDB_CS_ASCII (latin1 and the other ASCII-compatible sets:
 * text when every byte is below 0x80).  The same classes as
 * srdf-capture.
 *
 * mdb_fk_parents adds to l the tables that are the parent of a foreign
 * key whose ON DELETE or ON UPDATE rule changes the children (CASCADE,
 * SET NULL; SET DEFAULT, which InnoDB parses and ignores, counts too),
 * read at once for every schema from
 * information_schema.REFERENTIAL_CONSTRAINTS, which can be searched only
 * by the child (asked per parent, each question opens every table of
 * the server): a table already in l gets the rules or'ed in.  0, or -1
 * with the error on my.  mdb_fk_parent finds db.name in l, without case
 * (a table too many only costs its reader speed: lower_case_table_names),
 * or NULL; mdb_fk_parents_free empties l.  srdf-capture marks these
 * tables' rows, srdf-apply applies their cascading changes in order
 * (srdf-capture(1), srdf-apply(1), "Cascades").
 *
 * Calling sequence: my = mdb_connect(...); mdb_query_one(my, q) ...;
 * mysql_close(my).
 *
 * Error handling: mdb_connect logs the server's reason and returns NULL
 * with *ex set to EX_NOPERM (access denied) or EX_UNAVAILABLE;
 * mdb_exit_for maps any server error number the same way.
 * mdb_query_one returns the first column of the first row (malloc'd),
 * or NULL on an error, an empty result or an SQL NULL, logging nothing.
 */
#ifndef SRDF_MDB_H
#define SRDF_MDB_H

#include <mysql.h>

#include "buf.h"

enum { MDB_CS_OTHER, MDB_CS_UTF8, MDB_CS_BINARY, MDB_CS_ASCII };

/*
 * A table's columns as both tools read them.  mdb_table_load fills t
 * from information_schema (COLUMNS in ordinal order, the PRIMARY KEY from
 * STATISTICS) on a connection whose results are utf8mb4 or binary.  A
 * system-versioned table's period columns are left out of both (MariaDB
 * docs, "System-Versioned Tables": a SELECT sees the current rows; ROW
 * END is part of every unique key).  Each
 * column gets a kind that says how its value is read losslessly through
 * the text protocol with character_set_results=binary and time_zone
 * '+00:00' (mdb_select_expr: FLOAT through CAST AS DOUBLE, INET6/UUID/
 * INET4 through CAST AS BINARY(n), everything else as stored).
 *
 * keyset is 1 when the primary key can drive ordered ranges
 * ("pk > last ORDER BY pk"): every key column is whole (no prefix) and
 * of a kind whose SQL comparison orders like ORDER BY (not ENUM/SET).
 *
 * mdb_literal appends the SQL literal of one key value v[0..n) as read
 * through mdb_select_expr: digits for numbers, 'text' for temporal
 * values, _charset X'..' for character columns (so the column's own
 * collation compares), X'..' for binary ones, CAST(X'..' AS UUID) for
 * the fixed binary types.  mdb_key_cond appends the row-comparison
 * "(k1,k2,..) OP (lit1,lit2,..)" for OP ">" or "<=", spelled out as ORs
 * of ANDs so the range optimizer uses the primary key.
 *
 * Returns 0, or -1 with the reason in err (no such table, a query
 * failed: err holds the server's message and *myerr its number).
 */
enum mdb_kind {
	MDB_K_INT, MDB_K_UINT, MDB_K_YEAR, MDB_K_BIT, MDB_K_DECIMAL,
	MDB_K_FLOAT, MDB_K_DOUBLE, MDB_K_TEMPORAL, MDB_K_TEXT, MDB_K_BYTES,
	MDB_K_FIXBIN, MDB_K_ENUMSET,
};

struct mdb_col {
	char *name;
	char *data_type; /* information_schema DATA_TYPE, lower case */
	char *charset;	 /* CHARACTER_SET_NAME, NULL for binary types */
	int kind;	 /* enum mdb_kind */
	int cls;	 /* MDB_CS_* of charset */
	int zerofill;
	unsigned padlen; /* BINARY(n): n, else 0 */
	unsigned fixlen; /* MDB_K_FIXBIN: 16 (INET6, UUID) or 4 (INET4) */
	unsigned sub_part; /* key prefix length, 0 when whole */
	int empty_member;  /* ENUM or SET with a member '' */
};

struct mdb_table {
	char *db, *name;
	int ncols;
	struct mdb_col *col;
	int npk;
	int *pk; /* column indexes in key order */
	int keyset;
	int versioned; /* WITH SYSTEM VERSIONING: its period columns (ROW
			* START, ROW END) are not in col, nor in pk */
	int nvirtual;  /* VIRTUAL generated columns (in col) */
};

int mdb_table_load(MYSQL *my, const char *db, const char *name,
    struct mdb_table *t, unsigned *myerr, char *err, size_t errlen);
void mdb_table_free(struct mdb_table *t);
void mdb_select_expr(struct buf *b, const struct mdb_col *c);
void mdb_literal(struct buf *b, const struct mdb_col *c, const char *v,
    unsigned long n);
void mdb_key_cond(struct buf *b, const struct mdb_table *t,
    char *const *lits, const char *op);

/* mdb_escape appends s as the inside of a '...' string literal;
 * mdb_table_where "TABLE_SCHEMA='db' AND TABLE_NAME='name'", the
 * condition that finds one table in information_schema (and lets the
 * server open that table alone). */
void mdb_escape(struct buf *b, const char *s);
void mdb_table_where(struct buf *b, const char *db, const char *name);

MYSQL *mdb_connect(const char *defaults_file, const char *group,
    const char *what, unsigned read_timeout, int *ex);
int mdb_exit_for(unsigned err);
char *mdb_query_one(MYSQL *my, const char *q);
int mdb_has_privilege(MYSQL *my, const char *priv);

struct mdb_fk_parent {
	char *db, *name;
	int on_delete, on_update; /* the rule of some child changes it */
};
struct mdb_fk_parents {
	struct mdb_fk_parent *p;
	size_t n, cap;
};
int mdb_fk_parents(MYSQL *my, struct mdb_fk_parents *l);
const struct mdb_fk_parent *mdb_fk_parent(const struct mdb_fk_parents *l,
    const char *db, const char *name);
void mdb_fk_parents_free(struct mdb_fk_parents *l);

int mdb_system_schema(const char *db);
int mdb_selected(const char *databases, char *const *include, int ninclude,
    char *const *exclude, int nexclude, const char *db, const char *table);
int mdb_db_selected(const char *databases, char *const *include,
    int ninclude, char *const *exclude, int nexclude, const char *db);

int mdb_charset_class(const char *name);

#endif
