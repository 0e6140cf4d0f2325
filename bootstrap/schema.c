/*
 * schema.c — srdf-bootstrap's schema objects as "ddl" records: databases
 * (CREATE DATABASE IF NOT EXISTS), stored routines, views and triggers
 * (CREATE OR REPLACE, from SHOW CREATE).  Tables are in bootstrap.c,
 * since their definition is part of the consistency checks.
 *
 * Every statement is made re-runnable (IF NOT EXISTS, OR REPLACE) so a
 * copy that starts over, or an apply that runs it twice, finds it done.
 * Routines and triggers carry the sql_mode they were created with (it
 * changes what their bodies do); tables and views carry TABLE_SQL_MODE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mysqld_error.h>

#include "bootstrap.h"
#include "log.h"
#include "sql.h"
#include "xalloc.h"

/* MariaDB's sql_mode bits in the order of the server's names (the
 * bitmask srdf-capture copies from the binlog's Q_SQL_MODE_CODE). */
static const char *const mode_names[] = {"REAL_AS_FLOAT", "PIPES_AS_CONCAT",
    "ANSI_QUOTES", "IGNORE_SPACE", "IGNORE_BAD_TABLE_OPTIONS",
    "ONLY_FULL_GROUP_BY", "NO_UNSIGNED_SUBTRACTION", "NO_DIR_IN_CREATE",
    "POSTGRESQL", "ORACLE", "MSSQL", "DB2", "MAXDB", "NO_KEY_OPTIONS",
    "NO_TABLE_OPTIONS", "NO_FIELD_OPTIONS", "MYSQL323", "MYSQL40", "ANSI",
    "NO_AUTO_VALUE_ON_ZERO", "NO_BACKSLASH_ESCAPES", "STRICT_TRANS_TABLES",
    "STRICT_ALL_TABLES", "NO_ZERO_IN_DATE", "NO_ZERO_DATE",
    "ALLOW_INVALID_DATES", "ERROR_FOR_DIVISION_BY_ZERO", "TRADITIONAL",
    "NO_AUTO_CREATE_USER", "HIGH_NOT_PRECEDENCE", "NO_ENGINE_SUBSTITUTION",
    "PAD_CHAR_TO_FULL_LENGTH", "EMPTY_STRING_IS_NULL",
    "SIMULTANEOUS_ASSIGNMENT", "TIME_ROUND_FRACTIONAL"};

uint64_t
sql_mode_bits(const char *names)
{
	uint64_t bits = 0;
	const char *p = names, *e;

	while (p != NULL && *p != '\0') {
		size_t n;

		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		for (size_t i = 0; i < sizeof mode_names / sizeof *mode_names;
		     i++)
			if (strlen(mode_names[i]) == n &&
			    strncasecmp(mode_names[i], p, n) == 0)
				bits |= 1ULL << i;
		p = e ? e + 1 : NULL;
	}
	return bits;
}

void
ddl_add(struct ddl_list *l, const char *db, const char *sql, uint64_t sql_mode,
    const char *object, const char *name)
{
	struct ddl *d;

	l->v = xgrow(l->v, &l->cap, (size_t)l->n + 1, sizeof *l->v);
	d = &l->v[l->n++];
	d->db = xstrdup(db);
	d->sql = xstrdup(sql);
	d->name = xstrdup(name);
	d->sql_mode = sql_mode;
	d->object = object;
	d->tz = NULL;
}

void
ddl_list_free(struct ddl_list *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->v[i].db);
		free(l->v[i].sql);
		free(l->v[i].name);
		free(l->v[i].tz);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
	l->cap = 0;
}

/* The "ddl" record: charset 45 (utf8mb4_general_ci) is the connection's
 * collation: every text here was read through utf8mb4. */
void
ddl_record(struct buf *b, const struct ddl *d)
{
	size_t n = strlen(d->sql);
	const char *tz;

	buf_lit(b, "{\"v\":1,\"type\":\"ddl\",\"db\":");
	buf_json_str(b, d->db, strlen(d->db));
	buf_lit(b, ",\"sql\":");
	if (utf8_valid((const unsigned char *)d->sql, n))
		buf_json_str(b, d->sql, n);
	else
		buf_json_b64(b, d->sql, n);
	buf_printf(b, ",\"sql_mode\":%llu,\"charset\":45,\"time_zone\":",
	    (unsigned long long)d->sql_mode);
	tz = d->tz != NULL ? d->tz : "+00:00";
	buf_json_str(b, tz, strlen(tz));
	buf_printf(b, ",\"bootstrap\":true,\"object\":\"%s\"}\n", d->object);
}

/* A database is copied (CREATE DATABASE, routines, events) when it
 * passes the selection as srdf-capture filters a DDL by its database
 * (maria_db_selected). */
int
db_selected(const struct config *cf, const char *db)
{
	return maria_db_selected(cf->databases, cf->include, cf->ninclude,
	    cf->exclude, cf->nexclude, db);
}

static int
query(MYSQL *my, const char *q, MYSQL_RES **r)
{
	if (mysql_query(my, q) != 0 || (*r = mysql_store_result(my)) == NULL) {
		unsigned e = mysql_errno(my);

		log_err("%s: %s", q, mysql_error(my));
		return maria_exit_for(e);
	}
	return 0;
}

/* Inserts `words' after the leading "CREATE " of s. */
static char *
after_create(const char *s, const char *words)
{
	struct buf b = {0};
	char *out;

	if (strncasecmp(s, "CREATE ", 7) != 0)
		return xstrdup(s);
	buf_lit(&b, "CREATE ");
	buf_puts(&b, words);
	buf_putc(&b, ' ');
	buf_puts(&b, s + 7);
	buf_putc(&b, '\0');
	out = xstrdup(b.p);
	buf_free(&b);
	return out;
}

/* SHOW CREATE kind db.name, added to l as object: CREATE OR REPLACE, the
 * sql_mode of column 1, the text of column col and, unless tzcol is 0,
 * the time zone of column tzcol.  Returns 0; 1 when the server shows no
 * text (the account may not see it); or an exit status. */
static int
show_create(MYSQL *my, const char *kind, const char *db, const char *name,
    unsigned col, unsigned tzcol, const char *object, struct ddl_list *l)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	struct buf q = {0};
	char what[300], *sql;
	int ex;

	buf_printf(&q, "SHOW CREATE %s ", kind);
	sql_ident(&q, db);
	buf_putc(&q, '.');
	sql_ident(&q, name);
	buf_putc(&q, '\0');
	ex = query(my, q.p, &r);
	buf_free(&q);
	if (ex != 0)
		return ex;
	if ((row = mysql_fetch_row(r)) == NULL || mysql_num_fields(r) <= col ||
	    row[col] == NULL) {
		mysql_free_result(r);
		return 1;
	}
	snprintf(what, sizeof what, "%s.%s", db, name);
	sql = after_create(row[col], "OR REPLACE");
	ddl_add(l, db, sql, sql_mode_bits(row[1] ? row[1] : ""), object, what);
	if (tzcol > 0 && row[tzcol] != NULL)
		l->v[l->n - 1].tz = xstrdup(row[tzcol]);
	free(sql);
	mysql_free_result(r);
	return 0;
}

int
schema_databases(MYSQL *my, const struct config *cf, struct ddl_list *l)
{
	MYSQL_RES *r, *r2;
	MYSQL_ROW row, row2;
	struct buf q = {0};
	int ex;

	if ((ex = query(my,
	         "SELECT SCHEMA_NAME FROM information_schema."
	         "SCHEMATA ORDER BY SCHEMA_NAME",
	         &r)) != 0)
		return ex;
	while ((row = mysql_fetch_row(r)) != NULL) {
		if (!db_selected(cf, row[0]))
			continue;
		q.len = 0;
		buf_lit(&q, "SHOW CREATE DATABASE ");
		sql_ident(&q, row[0]);
		buf_putc(&q, '\0');
		if ((ex = query(my, q.p, &r2)) != 0)
			break;
		if ((row2 = mysql_fetch_row(r2)) != NULL && row2[1] != NULL) {
			q.len = 0;
			if (strncasecmp(row2[1], "CREATE DATABASE ", 16) == 0) {
				buf_lit(&q, "CREATE DATABASE IF NOT EXISTS ");
				buf_puts(&q, row2[1] + 16);
			} else
				buf_puts(&q, row2[1]);
			buf_putc(&q, '\0');
			ddl_add(l, "", q.p, TABLE_SQL_MODE, "database", row[0]);
		}
		mysql_free_result(r2);
	}
	mysql_free_result(r);
	buf_free(&q);
	return ex;
}

int
schema_routines(MYSQL *my, const struct config *cf, struct ddl_list *l)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	int ex;

	if (cf->skip_routines)
		return 0;
	if ((ex = query(my,
	         "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE "
	         "FROM information_schema.ROUTINES WHERE ROUTINE_TYPE "
	         "IN ('PROCEDURE','FUNCTION') ORDER BY 1, 3, 2",
	         &r)) != 0)
		return ex;
	while ((row = mysql_fetch_row(r)) != NULL) {
		if (!db_selected(cf, row[0]))
			continue;
		if ((ex = show_create(my, row[2], row[0], row[1], 2, 0,
		         "routine", l)) == 1) {
			log_err("cannot read the %s %s.%s: the source account "
			        "needs SELECT on mysql.proc (or SHOW CREATE "
			        "ROUTINE); or use --skip-routines",
			    row[2], row[0], row[1]);
			ex = EX_NOPERM;
		}
		if (ex != 0)
			break;
	}
	mysql_free_result(r);
	return ex;
}

/* Views read so far: their DDL, and each one's quoted `db`.`name`
 * (qname[i] for v.v[i]) to find it in another's text. */
struct views {
	struct ddl_list v;
	char **qname;
	size_t qcap;
};

/* Appends "`db`.`name`" to q. */
static void
quoted_name(struct buf *q, const char *db, const char *name)
{
	sql_ident(q, db);
	buf_putc(q, '.');
	sql_ident(q, name);
}

/* SHOW CREATE VIEW db.view into vs (q for the query text): 0, or the exit
 * status after logging the server's reason. */
static int
read_view(MYSQL *my, const char *db, const char *view, struct buf *q,
    struct views *vs)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	char name[300], *sql;

	q->len = 0;
	buf_lit(q, "SHOW CREATE VIEW ");
	quoted_name(q, db, view);
	buf_putc(q, '\0');
	snprintf(name, sizeof name, "%s.%s", db, view);
	if (mysql_query(my, q->p) != 0 ||
	    (r = mysql_store_result(my)) == NULL) {
		unsigned e = mysql_errno(my);

		log_err("cannot read the view %s: %s%s", name, mysql_error(my),
		    maria_exit_for(e) == EX_NOPERM
		        ? " (grant the source account SHOW VIEW, or "
		          "use --skip-views)"
		        : "");
		return maria_exit_for(e);
	}
	if ((row = mysql_fetch_row(r)) != NULL && row[1] != NULL) {
		sql = after_create(row[1], "OR REPLACE");
		ddl_add(&vs->v, db, sql, TABLE_SQL_MODE, "view", name);
		free(sql);
		vs->qname = xgrow(
		    vs->qname, &vs->qcap, (size_t)vs->v.n, sizeof *vs->qname);
		q->len = 0;
		quoted_name(q, db, view);
		buf_putc(q, '\0');
		vs->qname[vs->v.n - 1] = xstrdup(q->p);
	}
	mysql_free_result(r);
	return 0;
}

/* The views of vs onto l, each after every other view its text names (a
 * cycle cannot be: the rest then in their order). */
static void
order_views(const struct views *vs, struct ddl_list *l)
{
	const struct ddl_list *v = &vs->v;
	int *emitted = xcalloc((size_t)v->n, sizeof *emitted), left;

	for (left = v->n; left > 0;) {
		int progress = 0;

		for (int i = 0; i < v->n; i++) {
			int ready = !emitted[i];

			for (int j = 0; j < v->n && ready; j++)
				if (j != i && !emitted[j] &&
				    strstr(v->v[i].sql, vs->qname[j]) != NULL)
					ready = 0;
			if (!ready)
				continue;
			ddl_add(l, v->v[i].db, v->v[i].sql, v->v[i].sql_mode,
			    "view", v->v[i].name);
			emitted[i] = 1;
			left--;
			progress = 1;
		}
		if (!progress) /* a cycle cannot be: emit the rest */
			for (int i = 0; i < v->n; i++)
				if (!emitted[i]) {
					ddl_add(l, v->v[i].db, v->v[i].sql,
					    v->v[i].sql_mode, "view",
					    v->v[i].name);
					emitted[i] = 1;
					left--;
				}
	}
	free(emitted);
}

/* Views, each after the views it reads: SHOW CREATE VIEW names every
 * table and view it uses as `db`.`name`. */
int
schema_views(MYSQL *my, const struct config *cf, struct ddl_list *l)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	struct buf q = {0};
	struct views vs = {0};
	int ex;

	if (cf->skip_views)
		return 0;
	if ((ex = query(my,
	         "SELECT TABLE_SCHEMA, TABLE_NAME FROM "
	         "information_schema.TABLES WHERE TABLE_TYPE='VIEW' "
	         "ORDER BY 1, 2",
	         &r)) != 0)
		return ex;
	while ((row = mysql_fetch_row(r)) != NULL) {
		if (!maria_selected(cf->databases, cf->include, cf->ninclude,
		        cf->exclude, cf->nexclude, row[0], row[1]))
			continue;
		if ((ex = read_view(my, row[0], row[1], &q, &vs)) != 0)
			break;
	}
	mysql_free_result(r);
	if (ex == 0 && vs.v.n > 0)
		order_views(&vs, l);
	for (int i = 0; i < vs.v.n; i++)
		free(vs.qname[i]);
	free(vs.qname);
	ddl_list_free(&vs.v);
	buf_free(&q);
	return ex;
}

/* The events of the selected databases, from SHOW CREATE EVENT, each
 * with its own time zone (the text's STARTS, ENDS and AT are in it);
 * srdf-apply creates them DISABLE ON SLAVE, srdf-promote enables them.
 * Without the EVENT privilege the account sees none: said, and none is
 * copied. */
int
schema_events(MYSQL *my, const struct config *cf, struct ddl_list *l)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	int ex;

	if (cf->skip_events)
		return 0;
	if (!maria_has_privilege(my, "EVENT")) {
		log_warn("the source account has no EVENT privilege, so it "
		         "cannot see the events: they are not copied (GRANT "
		         "EVENT ON *.* or on the copied databases, or "
		         "--skip-events to say so)");
		return 0;
	}
	if ((ex = query(my,
	         "SELECT EVENT_SCHEMA, EVENT_NAME FROM "
	         "information_schema.EVENTS ORDER BY 1, 2",
	         &r)) != 0)
		return ex;
	while ((row = mysql_fetch_row(r)) != NULL) {
		if (!db_selected(cf, row[0]))
			continue;
		if ((ex = show_create(
		         my, "EVENT", row[0], row[1], 3, 2, "event", l)) == 1) {
			log_err("cannot read the event %s.%s: the source "
			        "account needs the EVENT privilege on %s; or "
			        "use --skip-events",
			    row[0], row[1], row[0]);
			ex = EX_NOPERM;
		}
		if (ex != 0)
			break;
	}
	mysql_free_result(r);
	return ex;
}

/* The account needs the TRIGGER privilege to see triggers at all:
 * without it information_schema.TRIGGERS is silently empty.  Checked
 * before anything is copied. */
int
schema_check_triggers(MYSQL *my, const struct config *cf)
{
	if (cf->skip_triggers || maria_has_privilege(my, "TRIGGER"))
		return 0;
	log_err("the source account has no TRIGGER privilege, so it cannot "
	        "see the triggers: GRANT TRIGGER ON *.* (or on the copied "
	        "databases), or use --skip-triggers");
	return EX_NOPERM;
}

/* The triggers of the copied tables, in their action order. */
int
schema_triggers(MYSQL *my, const struct config *cf, struct ttable **tables,
    int ntables, struct ddl_list *l)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	int ex;

	if (cf->skip_triggers)
		return 0;
	if ((ex = query(my,
	         "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, "
	         "EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE FROM "
	         "information_schema.TRIGGERS ORDER BY "
	         "EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, "
	         "EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER",
	         &r)) != 0)
		return ex;
	while ((row = mysql_fetch_row(r)) != NULL) {
		int i;

		for (i = 0; i < ntables; i++)
			if (strcmp(tables[i]->m.db, row[2]) == 0 &&
			    strcmp(tables[i]->m.name, row[3]) == 0)
				break;
		/* 1: gone since it was listed, or not to be seen */
		if (i < ntables && (ex = show_create(my, "TRIGGER", row[0],
		                        row[1], 2, 0, "trigger", l)) > 1)
			break;
		ex = 0;
	}
	mysql_free_result(r);
	return ex;
}
