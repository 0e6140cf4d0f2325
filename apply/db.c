/*
 * db.c — srdf-apply's side of the target connection: the session, the
 * batches of statements, the checkpoint row and the schema cache.
 *
 * The connection is not lib/maria's maria_connect(): it needs the client
 * flags below, which are fixed at connect time, and the server's error
 * number to tell a lost server from a refusal.
 *
 * Statements are text, not prepared: a multi-row INSERT of a thousand
 * rows is one parse and one round trip, where a prepared statement would
 * be a thousand executions or one statement prepared per row count.  The
 * connection has CLIENT_MULTI_STATEMENTS, so a batch of statements (up to
 * BATCH_BYTES, and never more than the server's max_allowed_packet) is
 * one round trip too; the server stops a batch at its first error, which
 * is then reported for the statement that made it.  CLIENT_FOUND_ROWS
 * makes an UPDATE count the rows it matched, so "rows touched" checks
 * are exact.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <errmsg.h>
#include <jansson.h>
#include <mysqld_error.h>

#include "applied.h"
#include "apply.h"
#include "db.h"
#include "recopy.h"
#include "log.h"
#include "maria.h"
#include "sql.h"
#include "sqltext.h"
#include "trigger.h"
#include "xalloc.h"

#define CHECKPOINT_MOVED "srdf: the checkpoint moved"

/* @srdf_apply is for the triggers written by hand that test it, as
 * earlier builds told (srdf-apply(1), "Triggers"); the guard of the
 * source's triggers is the session's row in srdf.apply_sessions. */
static const char session_sql[] =
    "SET NAMES utf8mb4;"
    "SET SESSION time_zone='+00:00', sql_mode='" APPLY_SQL_MODE "', "
    "foreign_key_checks=0, unique_checks=1, autocommit=0, "
    "@srdf_apply=1";

/* The session's row in srdf.apply_sessions, which SQL_TRIGGER_GUARD
 * looks up (lib/sqltext.h): its connection id.  The table is MEMORY, so
 * a server restart, which hands the ids out again from 1, empties it;
 * the rows of this account's sessions that are gone (a srdf-apply killed,
 * a connection lost) go now, so that an id the server hands out again
 * later never finds one.  Rows of another account (a srdf-apply of
 * another source) are left to it: without PROCESS this session sees its
 * own account's sessions only.  One partition, named in the guard. */
static const char register_sql[] =
    "CREATE DATABASE IF NOT EXISTS srdf;"
    "CREATE TABLE IF NOT EXISTS srdf.apply_sessions ("
    "id BIGINT UNSIGNED NOT NULL PRIMARY KEY, "
    "user VARCHAR(128) CHARACTER SET utf8mb4 NOT NULL, "
    "connected_at DATETIME(6) NOT NULL) "
    "ENGINE=MEMORY PARTITION BY KEY (id) (PARTITION p);"
    "DELETE FROM srdf.apply_sessions WHERE user IN (SELECT USER FROM "
    "information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()) AND "
    "(id, user) NOT IN (SELECT ID, USER FROM "
    "information_schema.PROCESSLIST);"
    "REPLACE INTO srdf.apply_sessions SELECT ID, USER, NOW(6) FROM "
    "information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()";

static void
quote_str(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	maria_escape(b, s);
	buf_putc(b, '\'');
}

int
db_connect(struct db *d, const struct config *cf, int dry)
{
	unsigned int ct = 10;
	unsigned long maxp = 1UL << 30;
	unsigned long flags = CLIENT_MULTI_STATEMENTS | CLIENT_FOUND_ROWS;

	d->cf = cf;
	d->dry = dry;
	d->err[0] = '\0';
	d->errnum = 0;
	if ((d->my = mysql_init(NULL)) == NULL)
		die(EX_OSERR, "mysql_init failed");
	if (cf->defaults_file != NULL)
		mysql_optionsv(
		    d->my, MYSQL_READ_DEFAULT_FILE, cf->defaults_file);
	mysql_optionsv(d->my, MYSQL_READ_DEFAULT_GROUP, cf->group);
	mysql_optionsv(d->my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_optionsv(d->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(d->my, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxp);
	if (mysql_real_connect(d->my, NULL, NULL, NULL, NULL, 0, NULL, flags) ==
	    NULL) {
		d->errnum = mysql_errno(d->my);
		snprintf(d->err, sizeof d->err,
		    "cannot connect to the target%s%s: "
		    "%s",
		    cf->defaults_file ? " with " : "",
		    cf->defaults_file ? cf->defaults_file : "",
		    mysql_error(d->my));
		mysql_close(d->my);
		d->my = NULL;
		return maria_exit_for(d->errnum) == EX_NOPERM ? DB_FAIL
		                                              : DB_GONE;
	}
	return db_session(d);
}

void
db_close(struct db *d)
{
	if (d->my != NULL)
		mysql_close(d->my);
	d->my = NULL;
	db_tables_forget(d);
	d->q.len = 0;
	d->nst = 0;
	free(d->bulk_ptr);
	free(d->bulk_len);
	free(d->bulk_ind);
	free(d->bulk_bind);
	d->bulk_ptr = NULL;
	d->bulk_len = NULL;
	d->bulk_ind = NULL;
	d->bulk_bind = NULL;
	d->nbulk = d->nbind = 0;
}

/* Runs q, which returns no rows, and consumes every result. */
static int
simple(struct db *d, const char *kind, const char *q)
{
	int rc;

	if (mysql_query(d->my, q) != 0)
		return db_classify(d, kind, NULL);
	do {
		MYSQL_RES *r = mysql_store_result(d->my);

		if (r != NULL)
			mysql_free_result(r);
	} while ((rc = mysql_next_result(d->my)) == 0);
	return rc > 0 ? db_classify(d, kind, NULL) : DB_OK;
}

/* The first column of the first row of q, malloc'd; NULL for none (or
 * an error: then *rc says which). */
static char *
query_one(struct db *d, const char *kind, const char *q, int *rc)
{
	char *v = maria_query_one(d->my, q);

	/* NULL with no error: an empty result or an SQL NULL */
	*rc = v == NULL && mysql_errno(d->my) != 0 ? db_classify(d, kind, NULL)
	                                           : DB_OK;
	return v;
}

/* Once a process: lets every trigger definer read srdf.apply_sessions,
 * which the guards of the replicated triggers look up with the
 * definer's privileges (srdf-apply(1), "Triggers").  MariaDB 10.11 and
 * later have PUBLIC; an account without the right to grant, or an older
 * server, is told once what the DBA must do, and goes on: a wagon whose
 * trigger cannot read the table fails with the same advice. */
static void
grant_public(struct db *d)
{
	static _Atomic int tried;

	if (atomic_exchange(&tried, 1))
		return;
	if (mysql_query(d->my, "GRANT SELECT ON srdf.apply_sessions TO "
	                       "PUBLIC") != 0)
		log_warn(
		    "cannot GRANT SELECT ON srdf.apply_sessions TO PUBLIC "
		    "(%s): the definers of the replicated triggers need it "
		    "(srdf-apply(1), Triggers); have a DBA grant it, to PUBLIC "
		    "or to each definer",
		    mysql_error(d->my));
}

/* The session settings that exact values need (srdf-apply(1), "The
 * session"): utf8mb4 for the strings of the records, UTC for TIMESTAMP,
 * strict mode so a value the target cannot hold is an error and not a
 * silent truncation, no foreign-key checks inside a group (its changes
 * are a net delta, not the source's order), no autocommit; and the
 * session known to the triggers as srdf-apply's (register_sql), but for
 * a dry run, which writes nothing. */
int
db_session(struct db *d)
{
	unsigned long long maxp;
	char *v;
	int rc;

	if ((rc = simple(d, "session setup", session_sql)) != DB_OK)
		return rc;
	if (d->cf->no_binlog && (rc = simple(d, "session setup",
	                             "SET SESSION sql_log_bin=0")) != DB_OK)
		return rc;
	if (!d->dry && (rc = simple(d,
	                    "registering the session in "
	                    "srdf.apply_sessions",
	                    register_sql)) != DB_OK)
		return rc;
	if (!d->dry)
		grant_public(d);
	if ((v = query_one(d, "session setup", "SELECT @@max_allowed_packet",
	         &rc)) == NULL)
		return rc != DB_OK ? rc : DB_FAIL;
	maxp = strtoull(v, NULL, 10);
	free(v);
	/* srdf-apply(1), "System-versioned tables": older servers lack the
	 * variable, and get the current rows only. */
	if ((v = query_one(d, "session setup",
	         "SELECT @@system_versioning_insert_history", &rc)) != NULL)
		free(v);
	else if (rc != DB_OK && d->errnum != ER_UNKNOWN_SYSTEM_VARIABLE)
		return rc;
	d->history = rc == DB_OK;
	/* Room for the protocol's own bytes. */
	d->max_stmt = maxp > 4096 ? (unsigned long)(maxp - 1024) : 1024;
	return simple(d, "session setup", "COMMIT");
}

/* ---- errors ------------------------------------------------------------ */

static int classify(struct db *d, const char *kind, const char *table,
    unsigned e, const char *m);

int
db_full(const struct db *d)
{
	return d->full &&
	       (d->errnum == ER_RECORD_FILE_FULL || d->errnum == ER_DISK_FULL ||
	           d->errnum == ER_GET_ERRNO || d->errnum == ER_ERROR_ON_WRITE);
}

int
db_classify(struct db *d, const char *kind, const char *table)
{
	return classify(d, kind, table, mysql_errno(d->my), mysql_error(d->my));
}

/* Whether the table labelled label ("db.name") has generated columns. */
static int
genexpr_label(const struct db *d, const char *label)
{
	size_t n;

	for (const struct tinfo *t = d->tabs; t != NULL; t = t->next) {
		n = strlen(t->db);
		if (strncmp(label, t->db, n) == 0 && label[n] == '.' &&
		    strcmp(label + n + 1, t->name) == 0)
			return t->genexpr;
	}
	return 0;
}

/* The server's error text m without the row value it quotes, into out
 * (n bytes): "Duplicate entry '<v>' for key 'k'" and "... value: '<v>'
 * [for column ...]" keep their words and name the key or column, but
 * the value never leaves the target: the error goes to the ledger, the
 * audit log and the ACK.  Returns 1 when something was withheld. */
static int
redact(const char *m, char *out, size_t n)
{
	static const struct {
		const char *lead, *tail; /* tail NULL: up to the last quote */
	} v[] = {{"entry '", "' for key '"}, {"value: '", "' for column "},
	    {"value: '", NULL}, {"value '", "' for column "}};
	const char *start, *end;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		if ((start = strstr(m, v[i].lead)) == NULL)
			continue;
		start += strlen(v[i].lead);
		end =
		    v[i].tail ? strstr(start, v[i].tail) : strrchr(start, '\'');
		if (end == NULL)
			continue;
		snprintf(out, n, "%.*s(value withheld)%s", (int)(start - 1 - m),
		    m, end + 1);
		return 1;
	}
	snprintf(out, n, "%s", m);
	return 0;
}

/* classify's access errors (e, message m) that srdf-apply can explain:
 * 1 with d->err set, or 0. */
static int
denied(struct db *d, const char *kind, const char *table, unsigned e,
    const char *m)
{
	/* A trigger's guard, run with its definer's privileges
	 * (srdf-apply(1), "Triggers"). */
	if (e == ER_TABLEACCESS_DENIED_ERROR &&
	    strstr(m, "`apply_sessions`") != NULL) {
		snprintf(d->err, sizeof d->err,
		    "%s%s%s: %s (error %u): "
		    "a trigger's definer needs SELECT on "
		    "srdf.apply_sessions, where its guard looks for "
		    "srdf-apply's sessions: GRANT SELECT ON "
		    "srdf.apply_sessions TO PUBLIC (MariaDB 10.11 and "
		    "later), or to the definer",
		    kind, table ? " on " : "", table ? table : "", m, e);
		return 1;
	}
	/* engine.c, versioned_add: srdf-apply(1), "System-versioned
	 * tables" */
	if (strncmp(kind, "versioned ", 10) != 0 &&
	    strcmp(kind, "DELETE HISTORY") != 0)
		return 0;
	snprintf(d->err, sizeof d->err,
	    "%s%s%s: %s (error %u): "
	    "writing the source's history of a system-versioned "
	    "table needs the DELETE HISTORY privilege on it and the "
	    "right to set @@timestamp (secure_timestamp=NO, or the "
	    "SUPER privilege with secure_timestamp=SUPER)",
	    kind, table ? " on " : "", table ? table : "", m, e);
	return 1;
}

static int
classify(struct db *d, const char *kind, const char *table, unsigned e,
    const char *m)
{
	char safe[1024];

	snprintf(d->errfull, sizeof d->errfull, "%s", m);
	if (redact(m, safe, sizeof safe))
		log_debug("%s%s%s: error %u in full: %s", kind,
		    table ? " on " : "", table ? table : "", e, m);
	m = safe;
	d->errnum = e;
	d->full = e == ER_RECORD_FILE_FULL || e == ER_DISK_FULL ||
	          ((e == ER_GET_ERRNO || e == ER_ERROR_ON_WRITE) &&
	              strstr(m, "No space left") != NULL);
	if (d->full) {
		snprintf(d->err, sizeof d->err,
		    "%s%s%s: %s (error %u): the "
		    "target is out of space (a full disk or tablespace, or a "
		    "table at its size limit): make room there; the wagon is "
		    "tried again and not given up for this",
		    kind, table ? " on " : "", table ? table : "", m, e);
		return DB_FAIL;
	}
	switch (e) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_COMMANDS_OUT_OF_SYNC:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
	case ER_QUERY_INTERRUPTED:
		snprintf(d->err, sizeof d->err, "lost the target during %s: %s",
		    kind, m);
		return DB_GONE;
	case ER_SIGNAL_EXCEPTION:
		if (strcmp(m, CHECKPOINT_MOVED) != 0)
			break;
		snprintf(d->err, sizeof d->err,
		    "the checkpoint row in "
		    "srdf.applied moved under srdf-apply (another srdf-apply "
		    "applying the same source to this target?): rolled back");
		return DB_GONE;
	case ER_TRUNCATED_WRONG_VALUE:
		/* "Truncated incorrect DOUBLE value": a generated column's
		 * expression over a value a lax source stored (it had a
		 * warning there); once per commit (srdf-apply(1), "The session"). */
		if (d->genlax || table == NULL || !genexpr_label(d, table))
			break;
		d->genlax = 1;
		snprintf(d->err, sizeof d->err,
		    "%s on %s: %s (error %u): a "
		    "generated column's expression, which the source evaluated "
		    "without strict mode; applying the wagon again so",
		    kind, table, m, e);
		return DB_RETRY;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		snprintf(d->err, sizeof d->err, "%s%s%s: %s (error %u)", kind,
		    table ? " on " : "", table ? table : "", m, e);
		return DB_RETRY;
	case ER_NO_SUCH_TABLE:
		snprintf(d->err, sizeof d->err,
		    "%s%s%s: %s (error %u): the "
		    "table does not exist on the target: create it, or "
		    "initialise it with srdf-bootstrap",
		    kind, table ? " on " : "", table ? table : "", m, e);
		return DB_FAIL;
	case ER_SPECIFIC_ACCESS_DENIED_ERROR:
	case ER_TABLEACCESS_DENIED_ERROR:
	case ER_OPTION_PREVENTS_STATEMENT:
		if (!denied(d, kind, table, e, m))
			break;
		return DB_FAIL;
	case ER_BAD_DB_ERROR:
		snprintf(d->err, sizeof d->err,
		    "%s%s%s: %s (error %u): create "
		    "the database on the target, or run srdf-apply with "
		    "--create-databases",
		    kind, table ? " on " : "", table ? table : "", m, e);
		return DB_FAIL;
	}
	snprintf(d->err, sizeof d->err, "%s%s%s: %s (error %u)", kind,
	    table ? " on " : "", table ? table : "", m, e);
	return DB_FAIL;
}

/* ---- batches ----------------------------------------------------------- */

void
db_stmt_open(struct db *d)
{
	if (d->q.len > 0)
		buf_lit(&d->q, ";\n");
	d->stmt_start = d->q.len;
}

/* Records the statement that ends at the end of the batch. */
static void
push(struct db *d, const char *kind, const char *table, long long expect)
{
	d->st = xgrow(d->st, &d->capst, d->nst + 1, sizeof *d->st);
	d->st[d->nst].end = d->q.len;
	d->st[d->nst].kind = kind;
	/* A copy: the caller's table names go before the batch is sent. */
	snprintf(d->st[d->nst].table, sizeof d->st[d->nst].table, "%s",
	    table ? table : "");
	d->st[d->nst].expect = expect;
	d->nst++;
}

size_t
db_stmt_len(const struct db *d)
{
	return d->q.len - d->stmt_start;
}

/* Where a multi-row statement ends: ROW_STMT_BYTES, or less when the
 * server's max_allowed_packet is small (half of it: the row that
 * crosses the limit still fits). */
size_t
db_row_limit(const struct db *d)
{
	return ROW_STMT_BYTES < d->max_stmt / 2 ? ROW_STMT_BYTES
	                                        : d->max_stmt / 2;
}

/* Sends the first n queued statements as one round trip (or prints them)
 * and keeps the rest queued. */
static int
send(struct db *d, size_t n)
{
	size_t len = d->st[n - 1].end, i;
	long long got;
	int rc, differs = 0;

	if (d->dry) {
		fwrite(d->q.p, 1, len, stdout);
		fputs(";\n", stdout);
		rc = DB_OK;
		goto keep;
	}
	rc = mysql_real_query(d->my, d->q.p, len) != 0;
	for (i = 0; i < n; i++) {
		MYSQL_RES *r;

		if (rc != 0 && differs) {
			/* srdf-rewind: the row that differed first is the
			 * cause (a key it left in place, say, taken again) */
			rc = DB_OK;
			break;
		}
		if (rc != 0) {
			rc = db_classify(d, d->st[i].kind,
			    *d->st[i].table ? d->st[i].table : NULL);
			break;
		}
		if ((r = mysql_store_result(d->my)) != NULL)
			mysql_free_result(r);
		got = (long long)mysql_affected_rows(d->my);
		if (d->exact && d->st[i].expect >= 0 &&
		    got != d->st[i].expect && !differs) {
			/* srdf-rewind: the first row not as the undo needs it;
			 * the rest of the batch ran and is rolled back. */
			differs = 1;
			snprintf(d->err, sizeof d->err,
			    "%s on %s touched %lld of %lld rows", d->st[i].kind,
			    d->st[i].table, got, d->st[i].expect);
		} else if (d->st[i].expect >= 0 && got < d->st[i].expect) {
			log_warn("%s on %s touched %lld of %lld rows: the "
			         "target differs from the source",
			    d->st[i].kind, d->st[i].table, got,
			    d->st[i].expect);
			d->missing += (uint64_t)(d->st[i].expect - got);
		}
		rc = mysql_next_result(d->my);
		if (rc == -1) {
			rc = i + 1 == n ? DB_OK : DB_GONE;
			if (rc != DB_OK)
				snprintf(d->err, sizeof d->err,
				    "the server "
				    "answered %zu of %zu statements",
				    i + 1, n);
			break;
		}
		if (i + 1 == n) {
			/* More results than statements: not ours. */
			while (mysql_next_result(d->my) == 0)
				;
			snprintf(d->err, sizeof d->err,
			    "the server answered "
			    "more results than the %zu statements sent",
			    n);
			rc = DB_GONE;
		}
	}
	if (rc == DB_OK && differs) {
		d->mismatch = 1;
		d->errnum = 0;
		rc = DB_FAIL;
	}
	if (rc != DB_OK) {
		/* The server skipped the rest of the batch: nothing of it may
		 * go out again with the next one. */
		d->q.len = 0;
		d->nst = 0;
		d->stmt_start = 0;
		return rc;
	}
keep:
	/* Keep the statements after the first n. */
	if (n < d->nst) {
		size_t skip = len + 2; /* ";\n" */

		memmove(d->q.p, d->q.p + skip, d->q.len - skip);
		d->q.len -= skip;
		for (i = n; i < d->nst; i++) {
			d->st[i - n] = d->st[i];
			d->st[i - n].end -= skip;
		}
		d->stmt_start =
		    d->stmt_start >= skip ? d->stmt_start - skip : 0;
		d->nst -= n;
	} else {
		d->q.len = 0;
		d->nst = 0;
		d->stmt_start = 0;
	}
	return DB_OK;
}

int
db_stmt_close(
    struct db *d, const char *kind, const char *table, long long expect)
{
	size_t limit = BATCH_BYTES < d->max_stmt ? BATCH_BYTES : d->max_stmt;
	size_t len = db_stmt_len(d);

	if (len > d->max_stmt) {
		snprintf(d->err, sizeof d->err,
		    "%s%s%s: a statement of %zu "
		    "bytes is longer than the target's max_allowed_packet "
		    "(%lu): raise max_allowed_packet on the target",
		    kind, table ? " on " : "", table ? table : "", len,
		    d->max_stmt + 1024);
		d->errnum = 0;
		return DB_FAIL;
	}
	push(d, kind, table, expect);
	/* Over the limit: send what was queued before this statement, and
	 * this one too when it alone reaches the limit. */
	if (d->q.len > limit && d->nst > 1) {
		int rc = send(d, d->nst - 1);

		if (rc != DB_OK)
			return rc;
	}
	if (d->q.len >= limit || d->nst >= BATCH_STMTS)
		return send(d, d->nst);
	return DB_OK;
}

int
db_flush(struct db *d)
{
	return d->nst > 0 ? send(d, d->nst) : DB_OK;
}

/* One statement now, after whatever is queued. */
int
db_exec(struct db *d, const char *kind, const char *sql, size_t len)
{
	int rc;

	if ((rc = db_flush(d)) != DB_OK)
		return rc;
	db_stmt_open(d);
	buf_add(&d->q, sql, len);
	if ((rc = db_stmt_close(d, kind, NULL, -1)) != DB_OK)
		return rc;
	return db_flush(d);
}

void
db_rollback(struct db *d)
{
	d->q.len = 0;
	d->nst = 0;
	d->stmt_start = 0;
	if (d->dry)
		fputs("ROLLBACK;\n", stdout);
	else if (d->my != NULL && mysql_query(d->my, "ROLLBACK") != 0)
		log_debug("ROLLBACK failed: %s", mysql_error(d->my));
}

/* ---- the checkpoint row ------------------------------------------------ */

int
db_checkpoint_read(struct db *d, const char *src, struct checkpoint *cp)
{
	struct buf q = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;
	int rc = DB_OK;

	checkpoint_free(cp);
	buf_lit(&q, "SELECT seq, last_gtid, gtid_pos, bootstrap_pos, "
	            "redo_tables FROM srdf.applied WHERE source_id=");
	quote_str(&q, src);
	buf_putc(&q, '\0');
	if (mysql_query(d->my, q.p) != 0 ||
	    (r = mysql_store_result(d->my)) == NULL) {
		unsigned e = mysql_errno(d->my);

		buf_free(&q);
		/* A dry run on a target srdf never wrote: nothing applied. */
		if (d->dry && (e == ER_NO_SUCH_TABLE || e == ER_BAD_DB_ERROR))
			return DB_OK;
		return db_classify(d, "reading the checkpoint", "srdf.applied");
	}
	buf_free(&q);
	if ((row = mysql_fetch_row(r)) != NULL) {
		cp->seq = strtoull(row[0], NULL, 10);
		if (row[1] != NULL)
			snprintf(
			    cp->last_gtid, sizeof cp->last_gtid, "%s", row[1]);
		cp->gtid_pos = xstrdup(row[2]);
		cp->bootstrap_pos = xstrdup(row[3]);
		if (cp->bootstrap_pos != NULL &&
		    !gtid_pos_valid(cp->bootstrap_pos)) {
			log_warn("srdf.applied.bootstrap_pos is not a GTID "
			         "position, ignored: %.200s",
			    cp->bootstrap_pos);
			free(cp->bootstrap_pos);
			cp->bootstrap_pos = NULL;
		}
		if (recopy_parse(row[4], &cp->recopied) != 0)
			log_warn(
			    "srdf.applied.redo_tables is not what srdf-apply "
			    "writes, ignored: %.200s",
			    row[4]);
	}
	mysql_free_result(r);
	/* End the read's transaction: the next one must see new data. */
	if (mysql_query(d->my, "COMMIT") != 0)
		rc = db_classify(d, "reading the checkpoint", "srdf.applied");
	return rc;
}

int
db_apply_lock(struct db *d, const char *src, int wait_s,
    int (*waiting)(void *arg), void *arg)
{
	char q[256], *v;
	long long holder, me;
	int rc, got = 0, waited;

	if (d->dry)
		return DB_OK;
	snprintf(q, sizeof q,
	    "SELECT CONCAT(IFNULL(IS_USED_LOCK('srdf_apply_%s'), "
	    "0), ' ', CONNECTION_ID())",
	    src);
	if ((v = query_one(d, "the apply lock", q, &rc)) == NULL)
		return rc != DB_OK ? rc : DB_FAIL;
	holder = me = 0;
	(void)sscanf(v, "%lld %lld", &holder, &me);
	free(v);
	if (holder != 0 && holder == me)
		return DB_OK;
	if (holder != 0)
		log_notice(
		    "connection %lld on the target holds the apply lock of "
		    "source %s: a srdf-apply killed while the server ran its "
		    "last statements, whose session ends with them (or one "
		    "running elsewhere); waiting up to %d s",
		    holder, src, wait_s);
	/* A second at a time: the caller's heartbeat and signals go on. */
	snprintf(q, sizeof q, "SELECT GET_LOCK('srdf_apply_%s', %d)", src,
	    wait_s > 0 ? 1 : 0);
	for (waited = 0;; waited++) {
		if ((v = query_one(d, "the apply lock", q, &rc)) == NULL)
			return rc != DB_OK ? rc : DB_FAIL;
		got = strcmp(v, "1") == 0;
		free(v);
		if (got || waited + 1 >= wait_s)
			break;
		if (waiting != NULL && waiting(arg) != 0) {
			snprintf(d->err, sizeof d->err,
			    "stopped while waiting "
			    "for the apply lock of source %s on the target",
			    src);
			d->errnum = 0;
			return DB_FAIL;
		}
	}
	if (!got) {
		snprintf(d->err, sizeof d->err,
		    "another session holds the "
		    "apply lock of source %s on the target (GET_LOCK("
		    "'srdf_apply_%s')) after %d s: is a srdf-apply of this "
		    "source running elsewhere against this target?",
		    src, src, wait_s);
		d->errnum = 0;
		return DB_FAIL;
	}
	return DB_OK;
}

/* The checkpoint table, and this source's row in it (sequence 0 until a
 * wagon is applied), so that every wagon's transaction can move it with
 * a conditional UPDATE. */
int
db_checkpoint_init(struct db *d, const char *src, struct checkpoint *cp)
{
	struct buf q = {0};
	int rc;

	if (!d->dry) {
		buf_lit(&q,
		    "CREATE DATABASE IF NOT EXISTS srdf;" APPLIED_DDL
		    "CREATE TABLE IF NOT EXISTS srdf.xa_pending ("
		    "source_id CHAR(32) CHARACTER SET ascii, "
		    "xid VARCHAR(300) CHARACTER SET ascii COLLATE ascii_bin, "
		    "first_seq BIGINT UNSIGNED NOT NULL, "
		    "last_seq BIGINT UNSIGNED NOT NULL, "
		    "prepared_at DATETIME(6) NOT NULL, "
		    "PRIMARY KEY (source_id, xid)) ENGINE=InnoDB;"
		    "INSERT IGNORE INTO " APPLIED_TABLE " (source_id, seq, "
		    "applied_at) VALUES (");
		quote_str(&q, src);
		buf_lit(&q, ", 0, NOW(6));COMMIT");
		buf_putc(&q, '\0');
		rc = simple(d, "creating srdf.applied", q.p);
		buf_free(&q);
		if (rc != DB_OK)
			return rc;
	}
	return db_checkpoint_read(d, src, cp);
}

static void
upgraded(void *arg, const char *db, const char *name, const char *err)
{
	if (err == NULL)
		log_notice(
		    "trigger %s.%s: the guard @srdf_apply IS NULL, "
		    "which any session can set, replaced by srdf-apply's "
		    "sessions in srdf.apply_sessions",
		    db, name);
	else
		log_warn("trigger %s.%s keeps the guard @srdf_apply IS NULL, "
		         "which any session can set, until the next start: %s",
		    db, name, err);
}

int
db_triggers_upgrade(struct db *d)
{
	static const char *const from[] = {SQL_TRIGGER_GUARD_V1, NULL};

	if (d->dry)
		return DB_OK;
	if (trigger_rewrite(d->my, from, SQL_TRIGGER_GUARD, 0, upgraded, NULL) <
	    0)
		return db_classify(d, "the triggers' guard", NULL);
	return DB_OK;
}

/* Moves the checkpoint from `from' to `to' and commits, in the round trip
 * of whatever is queued: the UPDATE names the sequence it moves from, and
 * when it matched no row (another writer moved it) the IF raises an
 * error, the server skips the rest of the batch and nothing commits. */
void
checkpoint_free(struct checkpoint *cp)
{
	free(cp->gtid_pos);
	free(cp->bootstrap_pos);
	recopy_free(&cp->recopied);
	memset(cp, 0, sizeof *cp);
}

int
db_commit_at(struct db *d, const char *src, uint64_t from, uint64_t to,
    const char *last_gtid, const char *gtid_pos, const char *bootstrap_pos,
    const char *redo_tables, uint64_t source_ts)
{
	struct buf *b = &d->q;
	int rc;

	db_stmt_open(d);
	buf_printf(b, "UPDATE srdf.applied SET seq=%" PRIu64, to);
	if (last_gtid != NULL && *last_gtid != '\0') {
		buf_lit(b, ", last_gtid=");
		quote_str(b, last_gtid);
	}
	if (gtid_pos != NULL && *gtid_pos != '\0') {
		buf_lit(b, ", gtid_pos=");
		quote_str(b, gtid_pos);
	}
	if (bootstrap_pos != NULL) {
		buf_lit(b, ", bootstrap_pos=");
		quote_str(b, bootstrap_pos);
	}
	if (redo_tables != NULL) {
		buf_lit(b, ", redo_tables=");
		quote_str(b, redo_tables);
	}
	/* The session's time zone is UTC (session_sql). */
	if (source_ts != 0)
		buf_printf(b, ", source_commit_at=FROM_UNIXTIME(%" PRIu64 ")",
		    source_ts);
	buf_lit(b, ", applied_at=NOW(6) WHERE source_id=");
	quote_str(b, src);
	buf_printf(b, " AND seq=%" PRIu64, from);
	push(d, "checkpoint", "srdf.applied", -1);
	/* Not in a dry run: mariadb(1) would cut the IF at its ';'. */
	if (!d->dry) {
		db_stmt_open(d);
		buf_lit(b, "IF ROW_COUNT() <> 1 THEN SIGNAL SQLSTATE '45000' "
		           "SET MESSAGE_TEXT = '" CHECKPOINT_MOVED "'; END IF");
		push(d, "checkpoint", "srdf.applied", -1);
	}
	db_stmt_open(d);
	buf_lit(b, "COMMIT");
	push(d, "commit", NULL, -1);
	if ((rc = db_flush(d)) == DB_OK)
		d->genlax = 0;
	return rc;
}

/* ---- XA transactions prepared on the source ----------------------------- */

int
db_xa_get(struct db *d, const char *src, const char *xid, uint64_t *first,
    uint64_t *last)
{
	struct buf q = {0};
	char *v;
	int rc;

	*first = *last = 0;
	if (d->dry)
		return DB_OK;
	buf_lit(&q, "SELECT CONCAT(first_seq, ' ', last_seq) FROM "
	            "srdf.xa_pending WHERE source_id=");
	quote_str(&q, src);
	buf_lit(&q, " AND xid=");
	quote_str(&q, xid);
	buf_putc(&q, '\0');
	v = query_one(d, "srdf.xa_pending", q.p, &rc);
	buf_free(&q);
	if (v != NULL && sscanf(v, "%" SCNu64 " %" SCNu64, first, last) != 2)
		*first = *last = 0;
	free(v);
	return rc;
}

int
db_xa_min(struct db *d, const char *src, uint64_t *first)
{
	struct buf q = {0};
	char *v;
	int rc;

	*first = 0;
	if (d->dry)
		return DB_OK;
	buf_lit(&q, "SELECT MIN(first_seq) FROM srdf.xa_pending WHERE "
	            "source_id=");
	quote_str(&q, src);
	buf_putc(&q, '\0');
	v = query_one(d, "srdf.xa_pending", q.p, &rc);
	buf_free(&q);
	if (v != NULL)
		*first = strtoull(v, NULL, 10);
	free(v);
	/* End the read's transaction: the next one must see new data. */
	if (rc == DB_OK && mysql_query(d->my, "COMMIT") != 0)
		rc = db_classify(d, "srdf.xa_pending", NULL);
	return rc;
}

int
db_xa_put(struct db *d, const char *src, const char *xid, uint64_t first,
    uint64_t last)
{
	struct buf q = {0};
	int rc;

	buf_lit(&q, "INSERT INTO srdf.xa_pending (source_id, xid, first_seq, "
	            "last_seq, prepared_at) VALUES (");
	quote_str(&q, src);
	buf_putc(&q, ',');
	quote_str(&q, xid);
	buf_printf(&q,
	    ", %" PRIu64 ", %" PRIu64 ", NOW(6)) ON DUPLICATE KEY "
	    "UPDATE first_seq=VALUES(first_seq), "
	    "last_seq=VALUES(last_seq), prepared_at=NOW(6)",
	    first, last);
	rc = db_exec(d, "srdf.xa_pending", q.p, q.len);
	buf_free(&q);
	return rc;
}

int
db_xa_del(struct db *d, const char *src, const char *xid)
{
	struct buf q = {0};
	int rc;

	buf_lit(&q, "DELETE FROM srdf.xa_pending WHERE source_id=");
	quote_str(&q, src);
	buf_lit(&q, " AND xid=");
	quote_str(&q, xid);
	rc = db_exec(d, "srdf.xa_pending", q.p, q.len);
	buf_free(&q);
	return rc;
}

/* ---- schema cache ------------------------------------------------------ */

void
db_tables_forget(struct db *d)
{
	struct tinfo *t, *n;

	for (t = d->tabs; t != NULL; t = n) {
		n = t->next;
		for (size_t i = 0; i < t->ncol; i++)
			free(t->col[i].name);
		free(t->col);
		free(t->vhist);
		free(t->db);
		free(t->name);
		free(t);
	}
	d->tabs = NULL;
	maria_fk_parents_free(&d->fk);
	d->fk_known = 0;
}

/* Reads, once per schema cache, which tables are the parent of a
 * foreign key whose ON DELETE or ON UPDATE rule changes its children
 * (maria_fk_parents: for all schemas in one question).  0, or -1 with the
 * connection's error. */
static int
fk_parents(struct db *d)
{
	if (d->fk_known)
		return 0;
	if (maria_fk_parents(d->my, &d->fk) != 0)
		return -1;
	d->fk_known = 1;
	return 0;
}

/* The COL_BULK* flags of a DATA_TYPE: the types whose values a bulk
 * insert's string parameters store exactly as INSERT's literals do
 * (load.c). */
static unsigned
bulk_flags(const char *type)
{
	static const char *const num[] = {"tinyint", "smallint", "mediumint",
	    "int", "bigint", "decimal", "char", "varchar", "tinytext", "text",
	    "mediumtext", "longtext"};
	static const char *const str[] = {
	    "date", "datetime", "timestamp", "time"};

	for (size_t i = 0; i < sizeof num / sizeof num[0]; i++)
		if (strcmp(type, num[i]) == 0)
			return COL_BULK | COL_BULK_NUM;
	for (size_t i = 0; i < sizeof str / sizeof str[0]; i++)
		if (strcmp(type, str[i]) == 0)
			return COL_BULK | (i == 2 ? COL_TIMESTAMP : 0);
	return 0;
}

/* Whether DATA_TYPE type is GEOMETRY or one of its subtypes. */
static int
geometry_type(const char *type)
{
	static const char *const geo[] = {"geometry", "point", "linestring",
	    "polygon", "multipoint", "multilinestring", "multipolygon",
	    "geometrycollection"};

	for (size_t i = 0; i < sizeof geo / sizeof geo[0]; i++)
		if (strcmp(type, geo[i]) == 0)
			return 1;
	return 0;
}

/* The period columns of system-versioned table t: declared ones are
 * in information_schema.COLUMNS (GENERATION_EXPRESSION "ROW START",
 * "ROW END"); a table made WITH SYSTEM VERSIONING alone has hidden
 * ones, which information_schema does not list and row events name
 * row_start and row_end (MariaDB docs, "System-Versioned Tables").
 * Adds those two to t->col (room for them is allocated) and sets
 * t->row_end. */
static void
period_columns(struct tinfo *t)
{
	static const char *const hidden[] = {"row_start", "row_end"};

	for (size_t i = 0; i < t->ncol; i++)
		if (t->col[i].flags & COL_ROW_END)
			return;
	for (size_t i = 0; i < 2; i++) {
		struct col *c = &t->col[t->ncol++];

		c->name = xstrdup(hidden[i]);
		c->flags =
		    COL_GENERATED | (i == 0 ? COL_ROW_START : COL_ROW_END);
	}
	t->row_end = t->ncol - 1;
}

/* Marks COL_REFERENCED the columns of t that a foreign key with an ON
 * UPDATE rule that changes the children refers to
 * (information_schema.KEY_COLUMN_USAGE, REFERENTIAL_CONSTRAINTS).  0, or
 * -1 with the connection's error. */
static int
referenced_columns(struct db *d, struct tinfo *t)
{
	struct buf q = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;

	buf_lit(&q, "SELECT DISTINCT k.REFERENCED_COLUMN_NAME FROM "
	            "information_schema.KEY_COLUMN_USAGE k JOIN "
	            "information_schema.REFERENTIAL_CONSTRAINTS c ON "
	            "c.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND "
	            "c.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND "
	            "c.TABLE_NAME = k.TABLE_NAME WHERE c.UPDATE_RULE IN "
	            "('CASCADE','SET NULL','SET DEFAULT') AND "
	            "k.REFERENCED_TABLE_SCHEMA=");
	quote_str(&q, t->db);
	buf_lit(&q, " AND k.REFERENCED_TABLE_NAME=");
	quote_str(&q, t->name);
	if (mysql_real_query(d->my, q.p, q.len) != 0 ||
	    (r = mysql_store_result(d->my)) == NULL) {
		buf_free(&q);
		return -1;
	}
	while ((row = mysql_fetch_row(r)) != NULL)
		for (size_t i = 0; i < t->ncol && row[0] != NULL; i++)
			if (strcmp(t->col[i].name, row[0]) == 0)
				t->col[i].flags |= COL_REFERENCED;
	mysql_free_result(r);
	buf_free(&q);
	return 0;
}

/* What the target says about db.name: its columns (generated, FLOAT,
 * period), whether it exists, is system-versioned, whether deleting
 * from it or changing a key of it cascades.  Asked once per table until
 * the next DDL. */
struct tinfo *
db_table(struct db *d, const char *db, const char *name, int *rc)
{
	struct tinfo *t;
	const struct maria_fk_parent *fk;
	struct buf q = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;

	*rc = DB_OK;
	for (t = d->tabs; t != NULL; t = t->next)
		if (strcmp(t->name, name) == 0 && strcmp(t->db, db) == 0)
			return t;
	t = xcalloc(1, sizeof *t);
	t->db = xstrdup(db);
	t->name = xstrdup(name);

	buf_lit(&q, "SELECT COLUMN_NAME, IS_GENERATED, DATA_TYPE, "
	            "GENERATION_EXPRESSION FROM information_schema.COLUMNS "
	            "WHERE ");
	maria_table_where(&q, db, name);
	buf_lit(&q, " ORDER BY ORDINAL_POSITION;"
	            "SELECT COUNT(*) FROM information_schema.TABLES "
	            "WHERE TABLE_TYPE='SYSTEM VERSIONED' AND ");
	maria_table_where(&q, db, name);
	if (fk_parents(d) != 0)
		goto fail;
	if (mysql_real_query(d->my, q.p, q.len) != 0 ||
	    (r = mysql_store_result(d->my)) == NULL)
		goto fail;
	/* + 2: the hidden period columns of a system-versioned table */
	t->col = xcalloc(mysql_num_rows(r) + 3, sizeof *t->col);
	while ((row = mysql_fetch_row(r)) != NULL) {
		struct col *c = &t->col[t->ncol++];

		c->name = xstrdup(row[0] ? row[0] : "");
		if (row[1] != NULL && strcmp(row[1], "ALWAYS") == 0)
			c->flags |= COL_GENERATED;
		if (c->flags & COL_GENERATED &&
		    (row[3] == NULL || (strcmp(row[3], "ROW START") != 0 &&
		                           strcmp(row[3], "ROW END") != 0)))
			t->genexpr = 1;
		if (row[3] != NULL && strcmp(row[3], "ROW START") == 0)
			c->flags |= COL_ROW_START;
		if (row[3] != NULL && strcmp(row[3], "ROW END") == 0) {
			c->flags |= COL_ROW_END;
			t->row_end = t->ncol - 1;
		}
		if (row[2] != NULL && strcmp(row[2], "float") == 0)
			c->flags |= COL_FLOAT;
		if (row[2] != NULL && (strcmp(row[2], "bigint") == 0 ||
		                          strcmp(row[2], "bit") == 0))
			c->flags |= COL_INT;
		if (row[2] != NULL && strcmp(row[2], "enum") == 0)
			c->flags |= COL_ENUM;
		if (row[2] != NULL && (strcmp(row[2], "char") == 0 ||
		                          strcmp(row[2], "varchar") == 0 ||
		                          strstr(row[2], "text") != NULL))
			c->flags |= COL_TEXT;
		if (row[2] != NULL && geometry_type(row[2]))
			c->flags |= COL_GEOM;
		if (row[2] != NULL)
			c->flags |= bulk_flags(row[2]);
	}
	mysql_free_result(r);
	t->exists = t->ncol > 0;
	if (mysql_next_result(d->my) != 0 ||
	    (r = mysql_store_result(d->my)) == NULL)
		goto fail;
	if ((row = mysql_fetch_row(r)) != NULL && row[0] != NULL)
		t->versioned = atoi(row[0]) > 0;
	mysql_free_result(r);
	if (t->versioned)
		period_columns(t);
	if ((fk = maria_fk_parent(&d->fk, db, name)) != NULL) {
		t->cascade = fk->on_delete;
		t->upd_cascade = fk->on_update;
	}
	while (mysql_next_result(d->my) == 0)
		;
	if (t->upd_cascade && referenced_columns(d, t) != 0)
		goto fail;
	buf_free(&q);
	t->next = d->tabs;
	d->tabs = t;
	return t;
fail:
	*rc = db_classify(d, "reading information_schema", NULL);
	buf_free(&q);
	free(t->db);
	free(t->name);
	for (size_t i = 0; i < t->ncol; i++)
		free(t->col[i].name);
	free(t->col);
	free(t);
	return NULL;
}

int
db_create_database(struct db *d, const char *name)
{
	struct buf q = {0};
	int rc;

	buf_lit(&q, "CREATE DATABASE IF NOT EXISTS ");
	sql_ident(&q, name);
	log_notice(
	    "creating database %s on the target (--create-databases)", name);
	rc = db_exec(d, "create database", q.p, q.len);
	buf_free(&q);
	return rc;
}

/* ---- bulk loads -------------------------------------------------------- */

/* Whether db_bulk() may be tried: not in a dry run (it prints SQL for
 * mariadb(1)), not after --no-bulk-load, not once the target refused
 * array binding. */
int
db_bulk_enabled(const struct db *d)
{
	return !d->dry && !d->cf->no_bulk_load && !d->bulk_refused;
}

/* Rows per execution: the parameters of one travel in one packet. */
#define BULK_ROWS_MAX 20000

/* Executes the prepared st for rows [from, to) of cells (row-major, ncol
 * per row) over data: column-wise arrays, MYSQL_TYPE_STRING, NULL by
 * indicator (MariaDB Connector/C, "Bulk operations": STMT_ATTR_ARRAY_SIZE).
 * Adds the rows it wrote to *got.  0, or -1 with the statement's error. */
static int
bulk_exec(struct db *d, MYSQL_STMT *st, const struct bulk_cell *cells,
    size_t ncol, const char *data, size_t from, size_t to,
    unsigned long long *got)
{
	size_t n = to - from;
	MYSQL_BIND *b;
	char **ptr, *ind;
	unsigned long *len;
	unsigned int size = (unsigned int)n;

	/* The arrays stay with the connection: a wagon's loads reuse them. */
	if (d->nbulk < ncol * n || d->nbind < ncol) {
		if (d->nbulk < ncol * n)
			d->nbulk = ncol * n;
		if (d->nbind < ncol)
			d->nbind = ncol;
		free(d->bulk_ptr);
		free(d->bulk_len);
		free(d->bulk_ind);
		free(d->bulk_bind);
		d->bulk_ptr = xcalloc(d->nbulk, sizeof *d->bulk_ptr);
		d->bulk_len = xcalloc(d->nbulk, sizeof *d->bulk_len);
		d->bulk_ind = xcalloc(d->nbulk, 1);
		d->bulk_bind = xcalloc(d->nbind, sizeof *d->bulk_bind);
	}
	b = d->bulk_bind;
	ptr = d->bulk_ptr;
	len = d->bulk_len;
	ind = d->bulk_ind;
	memset(b, 0, ncol * sizeof *b);

	for (size_t c = 0; c < ncol; c++) {
		for (size_t r = 0; r < n; r++) {
			const struct bulk_cell *x =
			    &cells[(from + r) * ncol + c];

			if (x->null)
				ind[c * n + r] = STMT_INDICATOR_NULL;
			else {
				ptr[c * n + r] = (char *)data + x->off;
				len[c * n + r] = x->len;
				ind[c * n + r] = STMT_INDICATOR_NONE;
			}
		}
		b[c].buffer_type = MYSQL_TYPE_STRING;
		b[c].buffer = ptr + c * n;
		b[c].length = len + c * n;
		b[c].u.indicator = ind + c * n;
	}
	if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &size) != 0 ||
	    mysql_stmt_bind_param(st, b) != 0 || mysql_stmt_execute(st) != 0)
		return -1;
	*got += mysql_stmt_affected_rows(st);
	return 0;
}

/* Whether error e says the target (or the client library) cannot run
 * an array-bound statement at all. */
static int
bulk_unsupported(unsigned e)
{
	return e == ER_UNKNOWN_COM_ERROR || e == ER_NOT_SUPPORTED_YET ||
	       e == ER_MAX_PREPARED_STMT_COUNT_REACHED ||
	       (e >= 2000 && e < 3000 && e != CR_SERVER_GONE_ERROR &&
	           e != CR_SERVER_LOST);
}

int
db_bulk(struct db *d, const char *sql, size_t sqllen,
    const struct bulk_cell *cells, size_t ncol, size_t nrows, const char *data,
    long long expect, const char *table, int *loaded)
{
	static const char undo[] = "ROLLBACK TO SAVEPOINT srdf_bulk";
	unsigned long long got = 0;
	unsigned warnings = 0;
	MYSQL_STMT *st;
	size_t from, to, bytes;
	int rc;

	*loaded = 0;
	db_stmt_open(d);
	buf_lit(&d->q, "SAVEPOINT srdf_bulk");
	if ((rc = db_stmt_close(d, "savepoint", NULL, -1)) != DB_OK ||
	    (rc = db_flush(d)) != DB_OK)
		return rc;
	if ((st = mysql_stmt_init(d->my)) == NULL)
		die(EX_OSERR, "out of memory");
	rc = mysql_stmt_prepare(st, sql, sqllen);
	/* Chunks of rows whose bytes fit a packet, with room for the
	 * lengths and indicators. */
	for (from = 0; rc == 0 && from < nrows; from = to) {
		bytes = 0;
		for (to = from; to < nrows && to - from < BULK_ROWS_MAX; to++) {
			size_t rb = 0;

			for (size_t c = 0; c < ncol; c++)
				rb += cells[to * ncol + c].len + 10;
			if (to > from && bytes + rb > d->max_stmt / 2)
				break;
			bytes += rb;
		}
		rc = bulk_exec(d, st, cells, ncol, data, from, to, &got);
		warnings += mysql_stmt_warning_count(st);
	}
	if (rc != 0) {
		unsigned e = mysql_stmt_errno(st);
		char m[512];

		snprintf(m, sizeof m, "%s", mysql_stmt_error(st));
		mysql_stmt_close(st);
		rc = classify(d, "bulk insert", table, e, m);
		if (rc == DB_GONE || rc == DB_RETRY)
			return rc;
		if (bulk_unsupported(e)) {
			log_notice(
			    "the target refuses array-bound prepared "
			    "statements (%s): loading with multi-row INSERT "
			    "instead",
			    m);
			d->bulk_refused = 1;
		} else
			log_debug("bulk insert on %s: %s: done with INSERT "
			          "instead",
			    table, m);
		d->err[0] = '\0';
		d->errnum = 0;
		return db_exec(d, "savepoint", undo, sizeof undo - 1);
	}
	mysql_stmt_close(st);
	if (got == (unsigned long long)expect && warnings == 0) {
		*loaded = 1;
		return DB_OK;
	}
	/* A REPLACE that wrote another count than the caller's found the
	 * target other than the group's before-images say; a warning is
	 * a value not stored as given.  Either way undone, and left to
	 * DELETE and INSERT, whose errors and warnings are the ones to
	 * report. */
	log_debug("bulk insert on %s: %llu of %lld rows, %u warnings: done "
	          "with INSERT instead",
	    table, got, expect, warnings);
	return db_exec(d, "savepoint", undo, sizeof undo - 1);
}
