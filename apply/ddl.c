/*
 * ddl.c — a "ddl" record of a wagon run on the target, and what a crash
 * in the middle of one leaves (srdf-apply(1), "DDL").
 *
 * DDL runs at its place in the record order, after the rows before it
 * (there are none in a well-formed group: a DDL is a barrier) and before
 * the rows after it (CREATE TABLE ... SELECT logs its rows after the
 * CREATE), with the statement's default database, sql_mode and
 * character set.
 *
 * A DDL commits by itself, before the checkpoint: the ledger remembers
 * which DDL of a wagon was running (ddl_mark_fn), and when the wagon is
 * tried again after a crash an error that says the statement already
 * took effect (already_applied; a rename, sql_renames_table, whose
 * old name is gone) counts
 * as done.  DDL of a table srdf-bootstrap copied again after it is
 * skipped (recopy.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>
#include <sodium.h>

#include "eng.h"
#include "log.h"
#include "sql.h"
#include "sqltext.h"
#include "xalloc.h"

/* Replayable DDL (replayable()) recorded as done every this many. */
#define REPLAY_MARK 64

/* What a replica makes of a DDL (srdf-apply(1), "Triggers", "Events"):
 * a trigger leaves the rows srdf-apply writes alone, since the source's
 * trigger did its work there and its rows are in the wagons; an event
 * does not run on the target (DISABLE ON SLAVE) until srdf-promote(1)
 * enables it, since the source's runs arrive as their changes.  Returns
 * 1 with the statement to run in *out, 0 to run it as written. */
static int
replica_ddl(struct db *d, const struct inwagon *w, const char *sql, size_t len,
    const char *what, struct buf *out)
{
	int g;

	if ((g = sql_event_replica(sql, len, out)) == 1) {
		log_debug("wagon %" PRIu64 ": %s: DISABLE ON SLAVE on the "
		          "target",
		    w->seq, what);
		return 1;
	} else if (g == -2)
		log_warn("wagon %" PRIu64 ": %s: srdf-apply cannot read the "
		         "event's statement to disable it: created as written, "
		         "it runs on the target too when event_scheduler is ON",
		    w->seq, what);
	if (g != -1 || d->cf->fire_triggers)
		return 0;
	if ((g = sql_trigger_guard(sql, len, SQL_TRIGGER_GUARD, out)) == 1) {
		log_debug("wagon %" PRIu64 ": %s: its body runs only outside "
		          "srdf-apply's sessions (srdf.apply_sessions)",
		    w->seq, what);
		return 1;
	} else if (g == -2)
		log_warn(
		    "wagon %" PRIu64 ": %s: srdf-apply cannot find the "
		    "trigger's body to guard it: created as written, it fires "
		    "on the rows srdf-apply writes too",
		    w->seq, what);
	return 0;
}

/* CREATE or DROP DATABASE (SCHEMA): the event names the database itself
 * as the default one, which may not exist (yet, or any more). */
static int
database_stmt(const char *sql, size_t len)
{
	const char *s = sql, *end = sql + len;

	if (!sql_word(&s, end, "CREATE") &&
	    !(s = sql, sql_word(&s, end, "DROP")))
		return 0;
	if (sql_word(&s, end, "OR"))
		sql_word(&s, end, "REPLACE");
	return sql_word(&s, end, "DATABASE") || sql_word(&s, end, "SCHEMA");
}

/* Errors a DDL gives when it was already applied: the table, database,
 * column or index exists, or is gone. */
static int
already_applied(unsigned e)
{
	return e == ER_TABLE_EXISTS_ERROR || e == ER_DB_CREATE_EXISTS ||
	       e == ER_BAD_TABLE_ERROR || e == ER_DB_DROP_EXISTS ||
	       e == ER_DUP_FIELDNAME || e == ER_CANT_DROP_FIELD_OR_KEY ||
	       e == ER_DUP_KEYNAME || e == ER_TRG_ALREADY_EXISTS ||
	       e == ER_TRG_DOES_NOT_EXIST || e == ER_SP_ALREADY_EXISTS ||
	       e == ER_SP_DOES_NOT_EXIST || e == ER_EVENT_ALREADY_EXISTS ||
	       e == ER_EVENT_DOES_NOT_EXIST || e == ER_UNKNOWN_SEQUENCES ||
	       e == ER_UNKNOWN_VIEW;
}

/* A view, routine, trigger or event of srdf-bootstrap: the target may
 * refuse it (a definer or a table it lacks) without stopping the
 * stream. */
static int
refusable(json_t *rec)
{
	const char *o = json_string_value(json_object_get(rec, "object"));

	return o != NULL && json_is_true(json_object_get(rec, "bootstrap")) &&
	       (strcmp(o, "view") == 0 || strcmp(o, "routine") == 0 ||
	           strcmp(o, "trigger") == 0 || strcmp(o, "event") == 0);
}

/* The database an "Unknown database 'x'" message names. */
static int
unknown_db(const char *msg, char *out, size_t outlen)
{
	const char *a = strchr(msg, '\''), *z = strrchr(msg, '\'');

	if (a == NULL || z == NULL || z <= a + 1 || (size_t)(z - a) > outlen)
		return -1;
	snprintf(out, outlen, "%.*s", (int)(z - a - 1), a + 1);
	return 0;
}

/* A "ddl" record in hand: its statement, as run and (when run in a
 * replica's form, replica_ddl) as written. */
struct ddl {
	const char *sql, *asis;
	size_t len, asis_len;
	const char *db; /* its default database, or NULL */
	int nodb;       /* ... which the target lacks */
	char what[160]; /* "ddl \"...\"", for messages */
};

/* The statement of record rec into x: its "sql", a string or
 * {"b64": ...} (decoded into *bin, the caller's to free).  DB_OK, or
 * eng_bad's DB_FAIL. */
static int
ddl_text(struct eng *e, json_t *rec, unsigned char **bin, struct ddl *x)
{
	json_t *jsql = json_object_get(rec, "sql");

	if (json_is_string(jsql)) {
		x->sql = json_string_value(jsql);
		x->len = json_string_length(jsql);
	} else if (json_is_object(jsql) &&
	           json_is_string(json_object_get(jsql, "b64"))) {
		const char *s = json_string_value(json_object_get(jsql, "b64"));
		size_t n = strlen(s);

		*bin = xcalloc(n / 4 * 3 + 3, 1);
		if (sodium_base642bin(*bin, n / 4 * 3 + 3, s, n, NULL, &x->len,
		        NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
			free(*bin);
			*bin = NULL;
			return eng_bad(
			    e, "ddl record whose \"sql\" is bad base64");
		}
		x->sql = (const char *)*bin;
	} else
		return eng_bad(e, "ddl record without \"sql\"");
	snprintf(x->what, sizeof x->what, "ddl \"%.*s%s\"",
	    x->len > 100 ? 100 : (int)x->len, x->sql,
	    x->len > 100 ? "..." : "");
	for (char *c = x->what; *c; c++)
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
	return DB_OK;
}

/* Whether x is a DDL of one table that srdf-bootstrap copied again
 * after it: the copy has its effect (recopy.c); said. */
static int
recopied_ddl(struct eng *e, const struct ddl *x)
{
	const struct recopy_entry *r = NULL;
	struct buf q = {0};
	char *sep;

	if (e->recopied == NULL || e->recopied->n == 0)
		return 0;
	if (sql_ddl_table_of(x->sql, x->len, x->db, &q) == 1 &&
	    (sep = strchr(q.p, '\037')) != NULL) {
		*sep = '\0';
		r = recopy_find(e->recopied, e->w, q.p, sep + 1, 1);
	}
	buf_free(&q);
	if (r == NULL)
		return 0;
	log_notice("wagon %" PRIu64 ": %s skipped: srdf-bootstrap copied "
	           "%s.%s again after it, at GTID position %s",
	    e->w->seq, x->what, r->db, r->table, r->pos);
	return 1;
}

/* USE x's default database (created with --create-databases); one the
 * target lacks sets x->nodb, since the statement may not need it. */
static int
ddl_use(struct db *d, struct ddl *x)
{
	struct buf q = {0};
	int rc;

	if (x->db == NULL || *x->db == '\0' || database_stmt(x->sql, x->len))
		return DB_OK;
	buf_lit(&q, "USE ");
	sql_ident(&q, x->db);
	rc = db_exec(d, "use", q.p, q.len);
	if (rc == DB_FAIL && d->errnum == ER_BAD_DB_ERROR &&
	    d->cf->create_databases) {
		if ((rc = db_create_database(d, x->db)) == DB_OK)
			rc = db_exec(d, "use", q.p, q.len);
	} else if (rc == DB_FAIL && d->errnum == ER_BAD_DB_ERROR) {
		x->nodb = 1;
		rc = DB_OK;
	}
	buf_free(&q);
	return rc;
}

/* The statement's sql_mode, character set and time zone (rec's), for
 * the session. */
static int
ddl_session(struct db *d, json_t *rec)
{
	json_t *jmode = json_object_get(rec, "sql_mode");
	json_t *jcs = json_object_get(rec, "charset");
	json_t *jtz = json_object_get(rec, "time_zone");
	struct buf q = {0};
	int rc;

	buf_printf(&q, "SET SESSION sql_mode=%" JSON_INTEGER_FORMAT,
	    json_is_integer(jmode) ? json_integer_value(jmode) : 0);
	if (json_is_integer(jcs) && json_integer_value(jcs) > 0)
		buf_printf(&q,
		    ", character_set_client=%" JSON_INTEGER_FORMAT
		    ", collation_connection=%" JSON_INTEGER_FORMAT,
		    json_integer_value(jcs), json_integer_value(jcs));
	/* The statement's time zone (a TIMESTAMP default, an event's
	 * schedule); without one the source's was its default, and so is
	 * the target's, as for a MariaDB replica. */
	buf_lit(&q, ", time_zone=");
	if (json_is_string(jtz))
		sql_literal(&q, jtz);
	else
		buf_lit(&q, "DEFAULT");
	rc = db_exec(d, "session", q.p, q.len);
	buf_free(&q);
	return rc;
}

/* Whether rec, statement x, is one srdf-bootstrap wrote that gives the
 * same result when run again: CREATE OR REPLACE, CREATE DATABASE IF
 * NOT EXISTS, DROP ... IF EXISTS.  Its progress need not be recorded
 * before and after each one (srdf-apply(1), "DDL"). */
static int
replayable(json_t *rec, const struct ddl *x)
{
	const char *s = x->sql, *end = x->sql + x->len;

	if (!json_is_true(json_object_get(rec, "bootstrap")))
		return 0;
	if (sql_word(&s, end, "DROP")) {
		if (!sql_word(&s, end, "TABLE") && !sql_word(&s, end, "VIEW"))
			return 0;
		return sql_word(&s, end, "IF") && sql_word(&s, end, "EXISTS");
	}
	if (!sql_word(&s, end, "CREATE"))
		return 0;
	if (sql_word(&s, end, "OR"))
		return sql_word(&s, end, "REPLACE");
	return (sql_word(&s, end, "DATABASE") || sql_word(&s, end, "SCHEMA")) &&
	       sql_word(&s, end, "IF") && sql_word(&s, end, "NOT") &&
	       sql_word(&s, end, "EXISTS");
}

/* Runs x, the idx-th DDL of e->w (record rec): as written when the
 * target refuses its replica's form; again after creating a database it
 * names that the target lacks (--create-databases); an error that says
 * a DDL a crash cut took effect already, or that the target refuses
 * srdf-bootstrap's view, routine, trigger or event, is no failure. */
static int
ddl_exec(struct eng *e, json_t *rec, int idx, struct ddl *x)
{
	struct db *d = e->d;
	struct inwagon *w = e->w;
	char name[256];
	int rc, tries = 0;

	for (;;) {
		rc = db_exec(d, x->what, x->sql, x->len);
		if (rc == DB_FAIL && x->asis != NULL &&
		    d->errnum == ER_PARSE_ERROR) {
			/* Not a body IF can hold (another sql_mode's
			 * syntax), or no DISABLE ON SLAVE where it went:
			 * as written, and said. */
			log_warn("wagon %" PRIu64 ": %s: the target refuses "
			         "it as a replica's (%s): run as written; a "
			         "trigger then fires on the rows srdf-apply "
			         "writes, an event runs",
			    w->seq, x->what, mysql_error(d->my));
			x->sql = x->asis;
			x->len = x->asis_len;
			x->asis = NULL;
			continue;
		}
		if (rc != DB_FAIL)
			return rc;
		if (d->errnum == ER_BAD_DB_ERROR && d->cf->create_databases &&
		    tries++ < 4 &&
		    unknown_db(mysql_error(d->my), name, sizeof name) == 0) {
			if ((rc = db_create_database(d, name)) != DB_OK)
				return rc;
			continue;
		}
		break;
	}
	if (w->ddl_inflight == idx + 1 &&
	    (already_applied(d->errnum) ||
	        (d->errnum == ER_NO_SUCH_TABLE &&
	            sql_renames_table(x->sql, x->len)))) {
		log_notice("wagon %" PRIu64 ": %s was already applied before a "
		           "crash (%s): taken as applied",
		    w->seq, x->what, mysql_error(d->my));
		rc = DB_OK;
	} else if (refusable(rec) && d->errnum != 0) {
		log_warn(
		    "wagon %" PRIu64 ": %s: %s; the %s is skipped: "
		    "srdf-bootstrap copies these as far as the target accepts "
		    "them",
		    w->seq, x->what, mysql_error(d->my),
		    json_string_value(json_object_get(rec, "object")));
		rc = DB_OK;
	} else if (x->nodb && (d->errnum == ER_NO_DB_ERROR ||
	                          d->errnum == ER_BAD_DB_ERROR)) {
		snprintf(d->err, sizeof d->err,
		    "%s: database %s, the "
		    "statement's default database, does not exist on the "
		    "target: create it, or run srdf-apply with "
		    "--create-databases",
		    x->what, x->db);
	}
	return rc;
}

/* Back to the session's own settings after a DDL that ended with rc,
 * whatever happened; the schema cache forgotten.  rc, or the error of
 * the way back. */
static int
ddl_restore(struct db *d, int rc)
{
	if (rc != DB_GONE) {
		int rc2 = eng_stmt(d, "session", "SET NAMES utf8mb4");

		if (rc2 == DB_OK)
			rc2 = eng_stmt(d, "session",
			    "SET SESSION sql_mode='" APPLY_SQL_MODE
			    "', time_zone='+00:00'");
		if (rc2 == DB_OK)
			rc2 = db_flush(d);
		if (rc2 == DB_GONE || (rc == DB_OK && rc2 != DB_OK))
			rc = rc2;
	}
	/* The schema changed: what the cache knew may be wrong now. */
	db_tables_forget(d);
	return rc;
}

int
run_ddl(struct eng *e, json_t *rec, int idx, ddl_mark_fn mark, void *arg)
{
	struct db *d = e->d;
	struct inwagon *w = e->w;
	struct ddl x = {.db = json_string_value(json_object_get(rec, "db"))};
	struct buf guarded = {0};
	unsigned char *bin = NULL;
	int rc, again;

	if (idx < w->ddl_done) {
		log_notice("wagon %" PRIu64
		           ": DDL %d was applied by an earlier "
		           "attempt",
		    w->seq, idx + 1);
		return DB_OK;
	}
	if ((rc = ddl_text(e, rec, &bin, &x)) != DB_OK)
		return rc;
	if (recopied_ddl(e, &x)) {
		free(bin);
		return DB_OK;
	}
	if (replica_ddl(d, w, x.sql, x.len, x.what, &guarded)) {
		x.asis = x.sql;
		x.asis_len = x.len;
		x.sql = guarded.p;
		x.len = guarded.len;
	}
	/* A statement that gives the same result run again is recorded as
	 * done every REPLAY_MARK of them: after a crash, those since run
	 * again, in order, before anything that comes after them. */
	again = replayable(rec, &x);
	if (mark != NULL && !again)
		mark(arg, w, idx, 0);
	if ((rc = db_flush(d)) == DB_OK && (rc = ddl_use(d, &x)) == DB_OK &&
	    (rc = ddl_session(d, rec)) == DB_OK &&
	    (rc = ddl_exec(e, rec, idx, &x)) == DB_OK) {
		w->ddls++;
		if (mark != NULL && (!again || (idx + 1) % REPLAY_MARK == 0))
			mark(arg, w, idx, 1);
	}
	rc = ddl_restore(d, rc);
	free(bin);
	buf_free(&guarded);
	return rc;
}
