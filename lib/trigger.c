/*
 * trigger.c — srdf-apply's triggers written again in place; see
 * trigger.h.
 *
 * A trigger is read back with SHOW CREATE TRIGGER in its own character
 * set (character_set_results set to its character_set_client), so that
 * its bytes go back to the server as they came, under its own sql_mode,
 * character set and collation.  The server keeps no FOLLOWS or PRECEDES
 * in the statement (it keeps the text up to FOR EACH ROW and from the
 * end of the clause on), and CREATE OR REPLACE puts a trigger last among
 * those of its table, time and event: the neighbour named keeps its
 * place, and so one statement takes each trigger from before to after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>

#include "buf.h"
#include "maria.h"
#include "sql.h"
#include "sqltext.h"
#include "trigger.h"
#include "xalloc.h"

/* The session settings a trigger changes, to be set back. */
struct saved {
	char *mode, *client, *results, *coll;
};

static int
lost(MYSQL *my)
{
	unsigned e = mysql_errno(my);

	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	       e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	       e == CR_COMMANDS_OUT_OF_SYNC;
}

/* Runs q (n bytes), which returns no rows; 0 or -1. */
static int
run(MYSQL *my, const char *q, size_t n)
{
	MYSQL_RES *r;

	if (mysql_real_query(my, q, n) != 0)
		return -1;
	if ((r = mysql_store_result(my)) != NULL)
		mysql_free_result(r);
	return mysql_errno(my) != 0 ? -1 : 0;
}

static void
lit(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	maria_escape(b, s);
	buf_putc(b, '\'');
}

static int
save(MYSQL *my, struct saved *s)
{
	MYSQL_RES *r;
	MYSQL_ROW row;

	if (mysql_query(my, "SELECT @@SESSION.sql_mode, "
	                    "@@SESSION.character_set_client, "
	                    "@@SESSION.character_set_results, "
	                    "@@SESSION.collation_connection") != 0 ||
	    (r = mysql_store_result(my)) == NULL)
		return -1;
	if ((row = mysql_fetch_row(r)) == NULL || row[0] == NULL ||
	    row[1] == NULL || row[3] == NULL) {
		mysql_free_result(r);
		return -1;
	}
	s->mode = xstrdup(row[0]);
	s->client = xstrdup(row[1]);
	s->results = row[2] != NULL ? xstrdup(row[2]) : NULL;
	s->coll = xstrdup(row[3]);
	mysql_free_result(r);
	return 0;
}

static int
restore(MYSQL *my, const struct saved *s)
{
	struct buf q = {0};
	int rc;

	buf_lit(&q, "SET SESSION sql_mode=");
	lit(&q, s->mode);
	buf_lit(&q, ", character_set_client=");
	lit(&q, s->client);
	buf_lit(&q, ", character_set_results=");
	if (s->results != NULL)
		lit(&q, s->results);
	else
		buf_lit(&q, "NULL");
	buf_lit(&q, ", collation_connection=");
	lit(&q, s->coll);
	rc = run(my, q.p, q.len);
	buf_free(&q);
	return rc;
}

/* The body inside one of the guards of from: 1 with *inner, *n set.
 * With from NULL, the whole body of a trigger that to does not guard
 * yet. */
static int
guarded(const char *body, size_t len, const char *const *from, const char *to,
    const char **inner, size_t *n)
{
	if (from == NULL) {
		if (to == NULL ||
		    sql_trigger_unguarded(body, len, to, inner, n))
			return 0;
		*inner = body;
		*n = len;
		return 1;
	}
	for (; *from != NULL; from++)
		if (sql_trigger_unguarded(body, len, *from, inner, n))
			return 1;
	return 0;
}

/* The trigger before (FOLLOWS) or after (PRECEDES) the one at `order'
 * among those of its table, time and event, in the character set of
 * the session's results, into *clause; nothing when it is alone.  row:
 * TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING,
 * EVENT_MANIPULATION, ACTION_ORDER of the listing. */
static int
neighbour(MYSQL *my, MYSQL_ROW row, struct buf *clause)
{
	struct buf q = {0};
	MYSQL_RES *r;
	MYSQL_ROW nb;
	long order = strtol(row[5], NULL, 10);
	char *before = NULL, *after = NULL;

	buf_lit(&q, "SELECT TRIGGER_NAME, ACTION_ORDER FROM "
	            "information_schema.TRIGGERS WHERE TRIGGER_SCHEMA=");
	lit(&q, row[0]);
	buf_lit(&q, " AND EVENT_OBJECT_TABLE=");
	lit(&q, row[2]);
	buf_lit(&q, " AND ACTION_TIMING=");
	lit(&q, row[3]);
	buf_lit(&q, " AND EVENT_MANIPULATION=");
	lit(&q, row[4]);
	if (mysql_real_query(my, q.p, q.len) != 0 ||
	    (r = mysql_store_result(my)) == NULL) {
		buf_free(&q);
		return -1;
	}
	buf_free(&q);
	while ((nb = mysql_fetch_row(r)) != NULL) {
		long o;

		if (nb[0] == NULL || nb[1] == NULL)
			continue;
		o = strtol(nb[1], NULL, 10);
		if (o == order - 1 && before == NULL)
			before = xstrdup(nb[0]);
		else if (o == order + 1 && after == NULL)
			after = xstrdup(nb[0]);
	}
	mysql_free_result(r);
	if (before != NULL) {
		buf_lit(clause, " FOLLOWS ");
		sql_ident(clause, before);
	} else if (after != NULL) {
		buf_lit(clause, " PRECEDES ");
		sql_ident(clause, after);
	}
	free(before);
	free(after);
	return 0;
}

/* One trigger of the listing (row) written again; 0, 1 when it is no
 * longer guarded (nothing done), or -1 with why in err. */
static int
rewrite(MYSQL *my, MYSQL_ROW row, const char *const *from, const char *to,
    char *err, size_t errlen)
{
	struct buf q = {0}, create = {0};
	struct sql_trigger tp;
	MYSQL_RES *r = NULL;
	MYSQL_ROW sc;
	unsigned long *len;
	const char *inner, *stmt;
	size_t n;
	int rc = -1;

	buf_lit(&q, "USE ");
	sql_ident(&q, row[0]);
	if (run(my, q.p, q.len) != 0)
		goto server;
	/* Its statement in its own character set. */
	q.len = 0;
	buf_lit(&q, "SET SESSION character_set_results=");
	lit(&q, row[6]);
	if (run(my, q.p, q.len) != 0)
		goto server;
	q.len = 0;
	buf_lit(&q, "SHOW CREATE TRIGGER ");
	sql_ident(&q, row[0]);
	buf_putc(&q, '.');
	sql_ident(&q, row[1]);
	if (mysql_real_query(my, q.p, q.len) != 0 ||
	    (r = mysql_store_result(my)) == NULL)
		goto server;
	if ((sc = mysql_fetch_row(r)) == NULL || mysql_num_fields(r) < 5 ||
	    sc[1] == NULL || sc[2] == NULL || sc[3] == NULL || sc[4] == NULL) {
		snprintf(err, errlen, "SHOW CREATE TRIGGER shows no statement");
		goto out;
	}
	len = mysql_fetch_lengths(r);
	stmt = sc[2];
	if (sql_trigger_parts(stmt, len[2], &tp) != 1) {
		snprintf(
		    err, errlen, "its statement cannot be read: %.200s", stmt);
		goto out;
	}
	if (!guarded(
	        stmt + tp.body, tp.body_end - tp.body, from, to, &inner, &n)) {
		rc = 1; /* written again since the listing */
		goto out;
	}
	buf_lit(&create, "CREATE OR REPLACE");
	buf_add(&create, stmt + tp.head, tp.row - tp.head);
	if (neighbour(my, row, &create) != 0)
		goto server;
	/* What the server keeps of the statement ends at FOR EACH ROW and
	 * goes on after the clause: the blanks before the body as they
	 * were. */
	buf_add(&create, stmt + tp.row, tp.body - tp.row);
	if (to != NULL) {
		buf_lit(&create, "IF ");
		buf_puts(&create, to);
		buf_lit(&create, " THEN ");
	}
	buf_add(&create, inner, n);
	if (to != NULL)
		buf_lit(&create, "\n; END IF");
	q.len = 0;
	buf_lit(&q, "SET SESSION sql_mode=");
	lit(&q, sc[1]);
	buf_lit(&q, ", character_set_client=");
	lit(&q, sc[3]);
	buf_lit(&q, ", collation_connection=");
	lit(&q, sc[4]);
	if (run(my, q.p, q.len) != 0 || run(my, create.p, create.len) != 0)
		goto server;
	rc = 0;
	goto out;
server:
	snprintf(
	    err, errlen, "%s (error %u)", mysql_error(my), mysql_errno(my));
out:
	if (r != NULL)
		mysql_free_result(r);
	buf_free(&q);
	buf_free(&create);
	return rc;
}

int
trigger_rewrite(MYSQL *my, const char *const *from, const char *to, int dry,
    trigger_done_fn *done, void *arg)
{
	struct saved s = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;
	char err[512];
	const char *inner;
	size_t n;
	int failed = 0, rc;

	if (mysql_query(my,
	        from == NULL
	            ? "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, "
	              "EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, "
	              "ACTION_ORDER, CHARACTER_SET_CLIENT, ACTION_STATEMENT "
	              "FROM information_schema.TRIGGERS ORDER BY 1, 3, 4, 5, 6"
	            : "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, "
	              "EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, "
	              "ACTION_ORDER, CHARACTER_SET_CLIENT, ACTION_STATEMENT "
	              "FROM information_schema.TRIGGERS WHERE ACTION_STATEMENT "
	              "LIKE 'IF %' ORDER BY 1, 3, 4, 5, 6") != 0 ||
	    (r = mysql_store_result(my)) == NULL)
		return -1;
	if (save(my, &s) != 0) {
		mysql_free_result(r);
		return -1;
	}
	while ((row = mysql_fetch_row(r)) != NULL) {
		unsigned long *len = mysql_fetch_lengths(r);

		if (row[0] == NULL || row[1] == NULL || row[2] == NULL ||
		    row[3] == NULL || row[4] == NULL || row[5] == NULL ||
		    row[6] == NULL || row[7] == NULL ||
		    !guarded(row[7], len[7], from, to, &inner, &n))
			continue;
		if (dry) {
			done(arg, row[0], row[1], NULL);
			continue;
		}
		rc = rewrite(my, row, from, to, err, sizeof err);
		if (lost(my) || restore(my, &s) != 0) {
			failed = -1;
			break;
		}
		if (rc == 1)
			continue;
		done(arg, row[0], row[1], rc == 0 ? NULL : err);
		if (rc != 0)
			failed++;
	}
	mysql_free_result(r);
	free(s.mode);
	free(s.client);
	free(s.results);
	free(s.coll);
	return failed;
}
