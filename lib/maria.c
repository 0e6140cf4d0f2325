/* maria.c — MariaDB connections and the table selection; see maria.h. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mysqld_error.h>

#include "log.h"
#include "maria.h"
#include "sql.h"
#include "xalloc.h"

int
maria_exit_for(unsigned e)
{
	switch (e) {
	case ER_ACCESS_DENIED_ERROR:
	case ER_DBACCESS_DENIED_ERROR:
	case ER_SPECIFIC_ACCESS_DENIED_ERROR:
	case ER_TABLEACCESS_DENIED_ERROR:
	case ER_COLUMNACCESS_DENIED_ERROR:
	case ER_PROCACCESS_DENIED_ERROR:
		return EX_NOPERM;
	}
	return EX_UNAVAILABLE;
}

MYSQL *
maria_connect(const char *defaults_file, const char *group, const char *what,
    unsigned read_timeout, int *ex)
{
	MYSQL *my = mysql_init(NULL);
	unsigned ct = 10;

	if (my == NULL)
		die(EX_OSERR, "mysql_init failed");
	if (defaults_file != NULL)
		mysql_optionsv(my, MYSQL_READ_DEFAULT_FILE, defaults_file);
	mysql_optionsv(my, MYSQL_READ_DEFAULT_GROUP, group);
	if (read_timeout > 0)
		mysql_optionsv(my, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
	mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(my, NULL, NULL, NULL, NULL, 0, NULL, 0) ==
	    NULL) {
		unsigned e = mysql_errno(my);

		*ex = maria_exit_for(e);
		log_err("cannot connect to %s%s%s: %s%s", what,
		    defaults_file ? " with " : "",
		    defaults_file ? defaults_file : "", mysql_error(my),
		    e == ER_ACCESS_DENIED_ERROR
		        ? " (check user and password in the option file)"
		        : "");
		mysql_close(my);
		return NULL;
	}
	return my;
}

char *
maria_query_one(MYSQL *my, const char *q)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	char *v = NULL;

	if (mysql_query(my, q) != 0 || (r = mysql_store_result(my)) == NULL)
		return NULL;
	if ((row = mysql_fetch_row(r)) != NULL)
		v = xstrdup(row[0]);
	mysql_free_result(r);
	return v;
}

int
maria_system_schema(const char *db)
{
	static const char *const sys[] = {
	    "mysql", "information_schema", "performance_schema", "sys", "srdf"};

	for (size_t i = 0; i < sizeof sys / sizeof *sys; i++)
		if (strcmp(db, sys[i]) == 0)
			return 1;
	return 0;
}

/* 1 when s matches one of the comma-separated patterns of list. */
static int
match_list(const char *list, const char *s)
{
	char pat[600];
	const char *p = list, *e;

	for (;;) {
		e = strchr(p, ',');
		snprintf(pat, sizeof pat, "%.*s",
		    (int)(e ? (size_t)(e - p) : strlen(p)), p);
		if (*pat != '\0' && fnmatch(pat, s, 0) == 0)
			return 1;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

int
maria_selected(const char *databases, char *const *include, int ninclude,
    char *const *exclude, int nexclude, const char *db, const char *table)
{
	char name[600];
	int i, in = ninclude == 0;

	if (maria_system_schema(db))
		return 0;
	if (databases != NULL && !match_list(databases, db))
		return 0;
	snprintf(name, sizeof name, "%s.%s", db, table);
	for (i = 0; i < ninclude && !in; i++)
		in = fnmatch(include[i], name, 0) == 0;
	for (i = 0; i < nexclude && in; i++)
		in = fnmatch(exclude[i], name, 0) != 0;
	return in;
}

int
maria_db_selected(const char *databases, char *const *include, int ninclude,
    char *const *exclude, int nexclude, const char *db)
{
	char pat[600], *dot;
	int i, in = ninclude == 0;

	if (!maria_selected(databases, NULL, 0, NULL, 0, db, ""))
		return 0;
	for (i = 0; i < ninclude && !in; i++) {
		snprintf(pat, sizeof pat, "%s", include[i]);
		if ((dot = strchr(pat, '.')) != NULL)
			*dot = '\0';
		in = fnmatch(pat, db, 0) == 0;
	}
	for (i = 0; i < nexclude && in; i++) {
		snprintf(pat, sizeof pat, "%s", exclude[i]);
		if ((dot = strchr(pat, '.')) == NULL || strcmp(dot, ".*") != 0)
			continue;
		*dot = '\0';
		in = fnmatch(pat, db, 0) != 0;
	}
	return in;
}

int
maria_charset_class(const char *name)
{
	static const char *const wide[] = {
	    "ucs2", "utf16", "utf16le", "utf32", "filename"};

	if (name == NULL || strcmp(name, "binary") == 0)
		return MARIA_CS_BINARY;
	if (strcmp(name, "utf8mb4") == 0 || strcmp(name, "utf8mb3") == 0 ||
	    strcmp(name, "utf8") == 0)
		return MARIA_CS_UTF8;
	for (size_t i = 0; i < sizeof wide / sizeof *wide; i++)
		if (strcmp(name, wide[i]) == 0)
			return MARIA_CS_OTHER;
	return MARIA_CS_ASCII;
}

/* ---- table metadata ------------------------------------------------ */

void
maria_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
}

void
maria_table_where(struct buf *b, const char *db, const char *name)
{
	buf_lit(b, "TABLE_SCHEMA='");
	maria_escape(b, db);
	buf_lit(b, "' AND TABLE_NAME='");
	maria_escape(b, name);
	buf_putc(b, '\'');
}

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

static void
col_kind(struct maria_col *c, const char *coltype, const char *octets)
{
	static const char *const ints[] = {
	    "tinyint", "smallint", "mediumint", "int", "bigint", NULL};
	static const char *const temporal[] = {
	    "date", "datetime", "timestamp", "time", NULL};
	static const char *const text[] = {"char", "varchar", "tinytext",
	    "text", "mediumtext", "longtext", "json", NULL};
	static const char *const bytes[] = {"binary", "varbinary", "tinyblob",
	    "blob", "mediumblob", "longblob", "geometry", "point", "linestring",
	    "polygon", "multipoint", "multilinestring", "multipolygon",
	    "geometrycollection", NULL};
	const char *dt = c->data_type;

	c->zerofill = strstr(coltype, "zerofill") != NULL;
	c->cls = maria_charset_class(c->charset);
	if (in_list(dt, ints))
		c->kind =
		    strstr(coltype, "unsigned") ? MARIA_K_UINT : MARIA_K_INT;
	else if (strcmp(dt, "year") == 0)
		c->kind = MARIA_K_YEAR;
	else if (strcmp(dt, "bit") == 0)
		c->kind = MARIA_K_BIT;
	else if (strcmp(dt, "decimal") == 0)
		c->kind = MARIA_K_DECIMAL;
	else if (strcmp(dt, "float") == 0)
		c->kind = MARIA_K_FLOAT;
	else if (strcmp(dt, "double") == 0)
		c->kind = MARIA_K_DOUBLE;
	else if (in_list(dt, temporal))
		c->kind = MARIA_K_TEMPORAL;
	else if (strcmp(dt, "enum") == 0 || strcmp(dt, "set") == 0) {
		c->kind = MARIA_K_ENUMSET;
		/* COLUMN_TYPE "set('','x')": a member '' (quotes inside
		 * a member are doubled, so '' stands alone there) */
		c->empty_member = strstr(coltype, "(''") != NULL ||
		                  strstr(coltype, ",''") != NULL;
	} else if (strcmp(dt, "inet6") == 0 || strcmp(dt, "uuid") == 0) {
		c->kind = MARIA_K_FIXBIN;
		c->fixlen = 16;
	} else if (strcmp(dt, "inet4") == 0) {
		c->kind = MARIA_K_FIXBIN;
		c->fixlen = 4;
	} else if (in_list(dt, text) && c->charset != NULL)
		c->kind = MARIA_K_TEXT;
	else if (in_list(dt, bytes) || c->charset == NULL)
		c->kind = MARIA_K_BYTES;
	else
		c->kind = MARIA_K_TEXT;
	if (c->kind == MARIA_K_TEXT && c->cls == MARIA_CS_BINARY)
		c->kind = MARIA_K_BYTES;
	if (c->kind == MARIA_K_BYTES && strcmp(dt, "binary") == 0 && octets)
		c->padlen = (unsigned)strtoul(octets, NULL, 10);
}

/* What a step of maria_table_load returns: done, a failed query (the
 * error is on the connection), or another failure (in err). */
enum { LOAD_OK = 0, LOAD_SQL = -1, LOAD_ERR = -2 };

/* Runs head, maria_table_where(db, name), then tail (q holds the text):
 * the stored result, or NULL after a failed query (the error on my). */
static MYSQL_RES *
table_query(MYSQL *my, struct buf *q, const char *head, const char *db,
    const char *name, const char *tail)
{
	q->len = 0;
	buf_add(q, head, strlen(head));
	maria_table_where(q, db, name);
	buf_add(q, tail, strlen(tail));
	buf_putc(q, '\0');
	if (mysql_query(my, q->p) != 0)
		return NULL;
	return mysql_store_result(my);
}

/* One row of the COLUMNS query (COLUMNS_SELECT) into t, whose t->col
 * has room for it. */
static void
column_row(struct maria_table *t, MYSQL_ROW row)
{
	struct maria_col *c;
	char *p;

	if (row[5] != NULL && strcmp(row[5], "1") == 0) {
		t->versioned = 1;
		return;
	}
	if (row[6] != NULL && strcmp(row[6], "1") == 0)
		t->nvirtual++;
	c = &t->col[t->ncols++];
	c->name = xstrdup(row[0]);
	c->data_type = xstrdup(row[1] ? row[1] : "");
	for (p = c->data_type; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	c->charset = xstrdup(row[2]);
	col_kind(c, row[3] ? row[3] : "", row[4]);
}

#define COLUMNS_SELECT \
	"COLUMN_NAME, DATA_TYPE, CHARACTER_SET_NAME, " \
	"COLUMN_TYPE, CHARACTER_OCTET_LENGTH, GENERATION_EXPRESSION " \
	"IN ('ROW START','ROW END'), EXTRA LIKE 'VIRTUAL%'"

/* The columns of db.name into t->col (the query text built in q). */
static int
load_columns(MYSQL *my, const char *db, const char *name, struct maria_table *t,
    struct buf *q, char *err, size_t errlen)
{
	MYSQL_RES *r;
	MYSQL_ROW row;

	/* A system-versioned table's period columns are left out: their
	 * values are each side's own (the target stamps the rows as it
	 * writes them), and a SELECT gives current rows only. */
	if ((r = table_query(my, q,
	         "SELECT " COLUMNS_SELECT " FROM "
	         "information_schema.COLUMNS WHERE ",
	         db, name, " ORDER BY ORDINAL_POSITION")) == NULL)
		return LOAD_SQL;
	if (mysql_num_rows(r) == 0) {
		snprintf(err, errlen, "no table %s.%s", db, name);
		mysql_free_result(r);
		return LOAD_ERR;
	}
	t->col = xcalloc(mysql_num_rows(r), sizeof *t->col);
	while ((row = mysql_fetch_row(r)) != NULL)
		column_row(t, row);
	mysql_free_result(r);
	return LOAD_OK;
}

/* t->versioned for a table WITH SYSTEM VERSIONING alone (hidden period
 * columns, which load_columns does not see). */
static int
load_versioned(MYSQL *my, const char *db, const char *name,
    struct maria_table *t, struct buf *q)
{
	MYSQL_RES *r;
	MYSQL_ROW row;

	if ((r = table_query(my, q,
	         "SELECT COUNT(*) FROM information_schema.TABLES "
	         "WHERE TABLE_TYPE='SYSTEM VERSIONED' AND ",
	         db, name, "")) == NULL)
		return LOAD_SQL;
	row = mysql_fetch_row(r);
	t->versioned =
	    row != NULL && row[0] != NULL && strcmp(row[0], "0") != 0;
	mysql_free_result(r);
	return LOAD_OK;
}

/* One row (COLUMN_NAME, SUB_PART) of the primary key of t, in key
 * order, into t->pk (room for it) and t->keyset (1 before the first). */
static int
pk_row(struct maria_table *t, MYSQL_ROW row, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < t->ncols; i++)
		if (strcmp(t->col[i].name, row[0]) == 0)
			break;
	/* ROW END is in every unique key of a versioned table */
	if (i == t->ncols && t->versioned)
		return LOAD_OK;
	if (i == t->ncols) {
		snprintf(err, errlen,
		    "%s.%s: primary key column %s "
		    "is not among the columns (changed meanwhile?)",
		    t->db, t->name, row[0]);
		return LOAD_ERR;
	}
	t->pk[t->npk++] = i;
	if (row[1] != NULL) {
		t->col[i].sub_part = (unsigned)strtoul(row[1], NULL, 10);
		t->keyset = 0;
	}
	if (t->col[i].kind == MARIA_K_ENUMSET)
		t->keyset = 0;
	return LOAD_OK;
}

/* The primary key of db.name into t->pk, t->npk and t->keyset (the
 * columns loaded first). */
static int
load_pk(MYSQL *my, const char *db, const char *name, struct maria_table *t,
    struct buf *q, char *err, size_t errlen)
{
	MYSQL_RES *r;
	MYSQL_ROW row;

	if ((r = table_query(my, q,
	         "SELECT COLUMN_NAME, SUB_PART FROM information_schema."
	         "STATISTICS WHERE ",
	         db, name,
	         " AND INDEX_NAME='PRIMARY' ORDER BY SEQ_IN_INDEX")) == NULL)
		return LOAD_SQL;
	t->pk = xcalloc(mysql_num_rows(r) + 1, sizeof *t->pk);
	t->keyset = 1;
	while ((row = mysql_fetch_row(r)) != NULL)
		if (pk_row(t, row, err, errlen) != LOAD_OK) {
			mysql_free_result(r);
			return LOAD_ERR;
		}
	if (t->npk == 0)
		t->keyset = 0;
	mysql_free_result(r);
	return LOAD_OK;
}

int
maria_table_load(MYSQL *my, const char *db, const char *name,
    struct maria_table *t, unsigned *myerr, char *err, size_t errlen)
{
	struct buf q = {0};
	int rc;

	memset(t, 0, sizeof *t);
	t->db = xstrdup(db);
	t->name = xstrdup(name);
	*myerr = 0;
	if ((rc = load_columns(my, db, name, t, &q, err, errlen)) == LOAD_OK &&
	    (t->versioned ||
	        (rc = load_versioned(my, db, name, t, &q)) == LOAD_OK))
		rc = load_pk(my, db, name, t, &q, err, errlen);
	buf_free(&q);
	if (rc == LOAD_OK)
		return 0;
	if (rc == LOAD_SQL) {
		*myerr = mysql_errno(my);
		snprintf(err, errlen, "cannot read the columns of %s.%s: %s",
		    db, name, mysql_error(my));
	}
	maria_table_free(t);
	return -1;
}

/* The index of name in the n tables ts, sorted by name (by_name), or
 * -1. */
static int
find_table(struct maria_table **ts, int n, const char *name)
{
	int lo = 0, hi = n - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2, c = strcmp(ts[mid]->name, name);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp((*(struct maria_table *const *)a)->name,
	    (*(struct maria_table *const *)b)->name);
}

/* Query q (the '\0' after it) on my: the stored result, or NULL. */
static MYSQL_RES *
run_query(MYSQL *my, struct buf *q)
{
	buf_putc(q, '\0');
	if (mysql_query(my, q->p) != 0)
		return NULL;
	return mysql_store_result(my);
}

/* The three queries of maria_tables_load, rows dispatched to ts (sorted
 * by name). */
static int
load_many(MYSQL *my, const char *db, struct maria_table **ts, int n,
    struct buf *q, char *err, size_t errlen)
{
	size_t *cap = xcalloc((size_t)n, sizeof *cap);
	MYSQL_RES *r;
	MYSQL_ROW row;
	int i, rc = LOAD_OK;

	q->len = 0;
	buf_lit(q, "SELECT TABLE_NAME, " COLUMNS_SELECT
	           " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='");
	maria_escape(q, db);
	buf_lit(q, "' ORDER BY ORDINAL_POSITION");
	if ((r = run_query(my, q)) == NULL) {
		free(cap);
		return LOAD_SQL;
	}
	while ((row = mysql_fetch_row(r)) != NULL) {
		struct maria_table *t;

		if (row[0] == NULL || (i = find_table(ts, n, row[0])) < 0)
			continue;
		t = ts[i];
		t->col = xgrow(
		    t->col, &cap[i], (size_t)t->ncols + 1, sizeof *t->col);
		memset(&t->col[t->ncols], 0, sizeof *t->col);
		column_row(t, row + 1);
	}
	mysql_free_result(r);
	free(cap);
	for (i = 0; i < n; i++)
		if (ts[i]->ncols == 0 && !ts[i]->versioned) {
			snprintf(
			    err, errlen, "no table %s.%s", db, ts[i]->name);
			return LOAD_ERR;
		}
	q->len = 0;
	buf_lit(q, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
	           "TABLE_TYPE='SYSTEM VERSIONED' AND TABLE_SCHEMA='");
	maria_escape(q, db);
	buf_putc(q, '\'');
	if ((r = run_query(my, q)) == NULL)
		return LOAD_SQL;
	while ((row = mysql_fetch_row(r)) != NULL)
		if (row[0] != NULL && (i = find_table(ts, n, row[0])) >= 0)
			ts[i]->versioned = 1;
	mysql_free_result(r);
	q->len = 0;
	buf_lit(q, "SELECT TABLE_NAME, COLUMN_NAME, SUB_PART FROM "
	           "information_schema.STATISTICS WHERE INDEX_NAME='PRIMARY' "
	           "AND TABLE_SCHEMA='");
	maria_escape(q, db);
	buf_lit(q, "' ORDER BY SEQ_IN_INDEX");
	if ((r = run_query(my, q)) == NULL)
		return LOAD_SQL;
	for (i = 0; i < n; i++) {
		ts[i]->pk =
		    xcalloc((size_t)ts[i]->ncols + 3, sizeof *ts[i]->pk);
		ts[i]->keyset = 1;
	}
	while (rc == LOAD_OK && (row = mysql_fetch_row(r)) != NULL) {
		if (row[0] == NULL || (i = find_table(ts, n, row[0])) < 0)
			continue;
		if (ts[i]->npk >= ts[i]->ncols + 2) {
			snprintf(err, errlen,
			    "%s.%s: more primary key columns than "
			    "columns (changed meanwhile?)",
			    db, ts[i]->name);
			rc = LOAD_ERR;
		} else
			rc = pk_row(ts[i], row + 1, err, errlen);
	}
	mysql_free_result(r);
	for (i = 0; i < n; i++)
		if (ts[i]->npk == 0)
			ts[i]->keyset = 0;
	return rc;
}

int
maria_tables_load(MYSQL *my, const char *db, char *const *names,
    struct maria_table **ts, int n, unsigned *myerr, char *err, size_t errlen)
{
	struct maria_table **sorted = xcalloc((size_t)n + 1, sizeof *sorted);
	struct buf q = {0};
	int rc;

	for (int i = 0; i < n; i++) {
		memset(ts[i], 0, sizeof *ts[i]);
		ts[i]->db = xstrdup(db);
		ts[i]->name = xstrdup(names[i]);
		sorted[i] = ts[i];
	}
	qsort(sorted, (size_t)n, sizeof *sorted, by_name);
	*myerr = 0;
	rc = load_many(my, db, sorted, n, &q, err, errlen);
	buf_free(&q);
	free(sorted);
	if (rc == LOAD_OK)
		return 0;
	if (rc == LOAD_SQL) {
		*myerr = mysql_errno(my);
		snprintf(err, errlen,
		    "cannot read the columns of the tables of %s: %s", db,
		    mysql_error(my));
	}
	for (int i = 0; i < n; i++)
		maria_table_free(ts[i]);
	return -1;
}

void
maria_table_free(struct maria_table *t)
{
	for (int i = 0; i < t->ncols && t->col != NULL; i++) {
		free(t->col[i].name);
		free(t->col[i].data_type);
		free(t->col[i].charset);
	}
	free(t->col);
	free(t->pk);
	free(t->db);
	free(t->name);
	memset(t, 0, sizeof *t);
}

void
maria_select_expr(struct buf *b, const struct maria_col *c)
{
	switch (c->kind) {
	case MARIA_K_FLOAT:
		/* The server prints FLOAT with 6 digits; as a DOUBLE (exact)
		 * it prints the shortest text that reads back the same. */
		buf_lit(b, "CAST(");
		sql_ident(b, c->name);
		buf_lit(b, " AS DOUBLE)");
		break;
	case MARIA_K_FIXBIN:
		/* INET6, UUID, INET4 print as text; their bytes are what
		 * the binlog holds. */
		buf_lit(b, "CAST(");
		sql_ident(b, c->name);
		buf_printf(b, " AS BINARY(%u))", c->fixlen);
		break;
	default:
		sql_ident(b, c->name);
	}
}

static void
hex(struct buf *b, const char *v, unsigned long n)
{
	static const char digits[] = "0123456789ABCDEF";

	for (unsigned long i = 0; i < n; i++) {
		buf_putc(b, digits[(unsigned char)v[i] >> 4]);
		buf_putc(b, digits[(unsigned char)v[i] & 15]);
	}
}

void
maria_literal(
    struct buf *b, const struct maria_col *c, const char *v, unsigned long n)
{
	uint64_t u = 0;

	if (v == NULL) {
		buf_lit(b, "NULL");
		return;
	}
	switch (c->kind) {
	case MARIA_K_INT:
	case MARIA_K_UINT:
	case MARIA_K_YEAR:
	case MARIA_K_DECIMAL:
	case MARIA_K_FLOAT:
	case MARIA_K_DOUBLE:
		buf_add(b, v, n);
		break;
	case MARIA_K_BIT:
		for (unsigned long i = 0; i < n; i++)
			u = u << 8 | (unsigned char)v[i];
		buf_u64(b, u);
		break;
	case MARIA_K_TEMPORAL:
		buf_putc(b, '\'');
		buf_add(b, v, n);
		buf_putc(b, '\'');
		break;
	case MARIA_K_TEXT:
	case MARIA_K_ENUMSET:
		buf_putc(b, '_');
		buf_puts(b, c->charset);
		buf_lit(b, " X'");
		hex(b, v, n);
		buf_putc(b, '\'');
		break;
	case MARIA_K_FIXBIN:
		buf_lit(b, "CAST(X'");
		hex(b, v, n);
		buf_printf(b, "' AS %s)", c->data_type);
		break;
	default:
		buf_lit(b, "X'");
		hex(b, v, n);
		buf_putc(b, '\'');
	}
}

/* (k1, k2, .., kn) OP (l1, .., ln) for OP ">" or "<=", lexicographic:
 * k1 < l1 OR (k1 = l1 AND (k2 ...)), innermost k_n OP l_n. */
void
maria_key_cond(struct buf *b, const struct maria_table *t, char *const *lits,
    const char *op)
{
	const char *strict = op[0] == '>' ? ">" : "<";

	buf_putc(b, '('); /* closed below with the 2 (n - 1) opened inside */
	for (int i = 0; i < t->npk; i++) {
		const char *name = t->col[t->pk[i]].name;

		if (i > 0)
			buf_lit(b, " AND (");
		sql_ident(b, name);
		buf_printf(b, " %s ", i == t->npk - 1 ? op : strict);
		buf_puts(b, lits[i]);
		if (i < t->npk - 1) {
			buf_lit(b, " OR (");
			sql_ident(b, name);
			buf_lit(b, " = ");
			buf_puts(b, lits[i]);
		}
	}
	for (int i = 0; i < t->npk; i++)
		buf_putc(b, ')');
	for (int i = 1; i < t->npk; i++)
		buf_putc(b, ')');
}

/* Whether the privilege list of one SHOW GRANTS line, "GRANT list ON
 * ...", names priv, or ALL PRIVILEGES, as a whole item. */
static int
grant_names(const char *line, const char *priv)
{
	const char *p, *end, *on;
	size_t n = strlen(priv);

	if (strncmp(line, "GRANT ", 6) != 0 ||
	    (on = strstr(line, " ON ")) == NULL)
		return 0;
	for (p = line + 6; p < on; p = end + 1) {
		while (*p == ' ')
			p++;
		if ((end = strchr(p, ',')) == NULL || end > on)
			end = on;
		if (((size_t)(end - p) == n && strncasecmp(p, priv, n) == 0) ||
		    ((size_t)(end - p) == 14 &&
		        strncasecmp(p, "ALL PRIVILEGES", 14) == 0))
			return 1;
	}
	return 0;
}

const struct maria_fk_parent *
maria_fk_parent(
    const struct maria_fk_parents *l, const char *db, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->p[i].name, name) == 0 &&
		    strcasecmp(l->p[i].db, db) == 0)
			return &l->p[i];
	return NULL;
}

int
maria_fk_parents(MYSQL *my, struct maria_fk_parents *l)
{
	static const char q[] =
	    "SELECT UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME, "
	    "MAX(DELETE_RULE IN ('CASCADE','SET NULL','SET DEFAULT')), "
	    "MAX(UPDATE_RULE IN ('CASCADE','SET NULL','SET DEFAULT')) FROM "
	    "information_schema.REFERENTIAL_CONSTRAINTS GROUP BY 1, 2 "
	    "HAVING MAX(DELETE_RULE IN ('CASCADE','SET NULL','SET DEFAULT')) "
	    "OR MAX(UPDATE_RULE IN ('CASCADE','SET NULL','SET DEFAULT'))";
	MYSQL_RES *r;
	MYSQL_ROW row;

	if (mysql_real_query(my, q, sizeof q - 1) != 0 ||
	    (r = mysql_store_result(my)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(r)) != NULL) {
		struct maria_fk_parent *f;

		if (row[0] == NULL || row[1] == NULL)
			continue;
		if ((f = (struct maria_fk_parent *)maria_fk_parent(
		         l, row[0], row[1])) == NULL) {
			l->p = xgrow(l->p, &l->cap, l->n + 1, sizeof *l->p);
			f = &l->p[l->n++];
			f->db = xstrdup(row[0]);
			f->name = xstrdup(row[1]);
			f->on_delete = f->on_update = 0;
		}
		f->on_delete |= row[2] != NULL && atoi(row[2]) > 0;
		f->on_update |= row[3] != NULL && atoi(row[3]) > 0;
	}
	mysql_free_result(r);
	return 0;
}

void
maria_fk_parents_free(struct maria_fk_parents *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->p[i].db);
		free(l->p[i].name);
	}
	free(l->p);
	memset(l, 0, sizeof *l);
}

int
maria_has_privilege(MYSQL *my, const char *priv)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	int yes = 0;

	if (mysql_query(my, "SHOW GRANTS") != 0 ||
	    (r = mysql_store_result(my)) == NULL)
		return 0;
	while (!yes && (row = mysql_fetch_row(r)) != NULL)
		yes = row[0] != NULL && grant_names(row[0], priv);
	mysql_free_result(r);
	return yes;
}
