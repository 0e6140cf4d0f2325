/*
 * srdf-failback — bring the old primary back as the new primary's target
 * without a full copy: undo on it the transactions the promotion lost,
 * report them, and say how the reverse replication starts.
 *
 * Design rationale.  After srdf-promote(1) made the DR target B the new
 * primary at the recovery point R (the last GTID of the old primary A
 * that B holds), A differs from B's state at the promotion by exactly
 * the transactions in A's binlog beyond R: the ones that never reached
 * B.  Their row images are in that binlog, with before- and
 * after-images (binlog_row_image=FULL), so they can be undone on A from
 * the newest back, and A is then at R, where B's own binlog (from
 * promoted_pos, which srdf-promote records) takes over.  No copy.
 *
 * It has no engine of its own: srdf-capture --from-gtid R --until-end
 * reads the tail (the one binlog decoder), srdf-rewind --records undoes
 * it (the one undo engine, with its row checks and its crash-safe
 * progress), both run as children, found beside this program or in
 * PATH, as srdf-promote runs srdf-apply.  What it adds is the order and
 * the checks around them:
 *	1. A read_only=ON first (set, or refuse): nothing may add to the
 *	   tail while it is read and undone;
 *	2. A's binlog must reach R (else A lacks what B holds: a
 *	   bootstrap is the only way back);
 *	3. the tail read is counted against A's binlog position: as many
 *	   transactions per domain as the sequence numbers say, each beyond
 *	   R, or nothing is undone;
 *	4. the report (JSON lines, one lost transaction each) is written
 *	   and flushed before anything changes;
 *	5. A made a target (not logged): its triggers guarded, so that
 *	   neither the undo nor srdf-apply fires them again, its enabled
 *	   events DISABLE ON SLAVE;
 *	6. srdf-rewind --records; then every row the tail touched is
 *	   checked to hold its value before the tail (or to be absent);
 *	7. a row in srdf.failback (sql_log_bin=0) marks the failback to R
 *	   done, so that a second run, after srdf-apply has started writing
 *	   B's changes on A, never takes those for a lost tail.
 * A run cut short anywhere before 7 is run again from the start: the
 * binlog beyond R is the same (the undo is not logged and A is
 * read-only), and srdf-rewind resumes where it stopped.
 *
 * What it refuses to do: run on a writable server it cannot make
 * read-only; undo a tail that holds DDL or XA (not undoable from row
 * images: srdf-rewind refuses them too); undo when the count does not
 * match the binlog; run a second time for the same recovery point.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "buf.h"
#include "clock.h"
#include "gtid.h"
#include "log.h"
#include "maria.h"
#include "opt.h"
#include "sql.h"
#include "sqltext.h"
#include "trigger.h"
#include "xalloc.h"

#define TOOL "srdf-failback"
#define FAILBACK_SERVER_ID "4202004243" /* srdf-capture's default + 1 */
#define FAILBACK_DB "CREATE DATABASE IF NOT EXISTS srdf"
#define FAILBACK_DDL \
	"CREATE TABLE IF NOT EXISTS srdf.failback (" \
	"recovery_point VARCHAR(1024) CHARACTER SET ascii NOT NULL, " \
	"promoted_pos VARCHAR(1024) CHARACTER SET ascii NOT NULL, " \
	"undone BIGINT UNSIGNED NOT NULL, " \
	"finished_at DATETIME(6) NOT NULL, " \
	"PRIMARY KEY (recovery_point(255))) ENGINE=InnoDB"

struct config {
	const char *defaults_file;
	const char *group;
	const char *recovery_point; /* R: B's last GTID position of A */
	const char *promoted_pos;   /* B's binlog at the promotion */
	const char *report;
	int verbose;
	char records[PATH_MAX]; /* REPORT.records, srdf-capture's output */
	char text[PATH_MAX];    /* REPORT.txt, the report's text form */
	char nodir[PATH_MAX];   /* a --dir for srdf-capture that is none */
	char bindir[PATH_MAX];  /* where this program is */
};

/* The tail: what srdf-capture read beyond R. */
struct tail {
	size_t ntrx;          /* transactions (committed groups) */
	size_t nrows;         /* row changes */
	struct gtid_pos last; /* per domain, the last GTID read */
	json_t *expect; /* "db\ttable\tkey" -> {db, table, pk, row|null} */
	char *refuse;   /* why it cannot be undone, or NULL */
	char first[160], last_one[160]; /* "GTID at TIME" of the ends */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-failback [-v] [--defaults-file file] "
	    "[--defaults-group group]\n"
	    "                     --recovery-point gtid-list --promoted-pos "
	    "gtid-list\n"
	    "                     --report file\n"
	    "       srdf-failback --help | --version\n");
}

/* ---- the children ------------------------------------------------------ */

/* Runs argv[0] (a tool beside this one, else in PATH) with argv, its
 * standard output on out (a file, or -1 for ours); returns its exit
 * status, or -1 when it could not run or died of a signal (logged). */
static int
run_tool(const struct config *cf, const char *const *argv, int out)
{
	char path[PATH_MAX + 32];
	pid_t pid;
	int st;

	snprintf(path, sizeof path, "%s/%s", cf->bindir, argv[0]);
	if (access(path, X_OK) != 0)
		snprintf(path, sizeof path, "%s", argv[0]);
	fflush(stdout);
	if ((pid = fork()) < 0) {
		log_err("cannot fork for %s: %s", argv[0], strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (out >= 0 && dup2(out, 1) < 0)
			_exit(126);
		execvp(path, (char *const *)argv);
		log_err("cannot run %s: %s (install it beside %s or in PATH)",
		    path, strerror(errno), TOOL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			log_err("waitpid: %s", strerror(errno));
			return -1;
		}
	if (WIFSIGNALED(st)) {
		log_err("%s died of signal %d", argv[0], WTERMSIG(st));
		return -1;
	}
	return WEXITSTATUS(st);
}

/* ---- the old primary --------------------------------------------------- */

static int
query(MYSQL *my, const char *q, const char *what)
{
	if (mysql_query(my, q) == 0)
		return 0;
	log_err("%s on the old primary: %s (error %u)", what, mysql_error(my),
	    mysql_errno(my));
	return maria_exit_for(mysql_errno(my));
}

/* The failback to R recorded done in srdf.failback: 1 with its time in
 * at, 0 when not, -1 on an error (logged, *ex set). */
static int
done_before(MYSQL *my, const struct config *cf, char *at, size_t len, int *ex)
{
	struct buf q = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;
	int found = 0;

	buf_lit(&q, "SELECT finished_at FROM srdf.failback WHERE "
	            "recovery_point='");
	maria_escape(&q, cf->recovery_point);
	buf_lit(&q, "'");
	buf_putc(&q, '\0');
	if (mysql_query(my, q.p) != 0) {
		buf_free(&q);
		if (mysql_errno(my) == ER_NO_SUCH_TABLE ||
		    mysql_errno(my) == ER_BAD_DB_ERROR)
			return 0;
		*ex = maria_exit_for(mysql_errno(my));
		log_err("reading srdf.failback on the old primary: %s (error "
		        "%u)",
		    mysql_error(my), mysql_errno(my));
		return -1;
	}
	buf_free(&q);
	if ((r = mysql_store_result(my)) == NULL)
		return 0;
	if ((row = mysql_fetch_row(r)) != NULL && row[0] != NULL) {
		snprintf(at, len, "%s", row[0]);
		found = 1;
	}
	mysql_free_result(r);
	return found;
}

/* read_only=ON on the old primary (set when OFF), printed.  0, or an
 * exit status (logged). */
static int
make_read_only(MYSQL *my)
{
	char *before, *after;
	int ex;

	if ((before = maria_query_one(my, "SELECT @@GLOBAL.read_only")) == NULL)
		return query(my, "SELECT @@read_only", "reading read_only");
	if (strcmp(before, "1") != 0 &&
	    (ex = query(my, "SET GLOBAL read_only=ON",
	         "SET GLOBAL read_only=ON (the user needs READ ONLY ADMIN, "
	         "or SUPER before MariaDB 10.11); nothing was changed")) != 0) {
		free(before);
		return ex;
	}
	after = maria_query_one(my, "SELECT @@GLOBAL.read_only");
	printf("read_only: %s -> %s\n", strcmp(before, "1") ? "OFF" : "ON",
	    after != NULL && strcmp(after, "1") == 0 ? "ON" : "OFF");
	ex = after != NULL && strcmp(after, "1") == 0 ? 0 : EX_UNAVAILABLE;
	if (ex != 0)
		log_err("the old primary is still writable: refusing to read "
		        "and undo a tail that its applications can extend");
	free(before);
	free(after);
	return ex;
}

/* The old primary's binlog position into *pos, checked against R: the
 * binlog must hold it.  0, or an exit status (logged). */
static int
binlog_end(MYSQL *my, const struct config *cf, struct gtid_pos *pos)
{
	struct gtid_pos r = {0};
	char *on, *v;
	int ex = 0;

	on = maria_query_one(my, "SELECT @@GLOBAL.log_bin");
	v = maria_query_one(my, "SELECT @@GLOBAL.gtid_binlog_pos");
	if (on == NULL || v == NULL)
		ex =
		    query(my, "SELECT @@gtid_binlog_pos", "reading the binlog");
	else if (strcmp(on, "1") != 0)
		ex = log_fail(EX_CONFIG,
		    "the old primary has no binary log (log_bin=OFF): its lost "
		    "transactions cannot be read; copy it again with "
		    "srdf-bootstrap instead");
	else if (gtid_pos_parse(v, pos) != 0)
		ex = log_fail(EX_DATAERR,
		    "the old primary's @@gtid_binlog_pos '%s' is not a GTID "
		    "position",
		    v);
	else {
		gtid_pos_parse(cf->recovery_point, &r);
		for (int i = 0; i < pos->n && ex == 0; i++)
			if (gtid_pos_find(&r, pos->g[i].domain) == NULL)
				ex = log_fail(EX_DATAERR,
				    "the old primary's binlog has domain %" PRIu32
				    ", the recovery point %s names none: "
				    "srdf-capture would read that domain from "
				    "its first binlog and every transaction of "
				    "it would be undone; give the recovery point "
				    "with every domain (the new primary's "
				    "srdf.applied.gtid_pos, with the domains "
				    "its bootstrap_pos adds)",
				    pos->g[i].domain, cf->recovery_point);
		if (ex == 0 && !gtid_pos_reached(pos, &r))
			ex = log_fail(EX_DATAERR,
			    "the old primary's binlog ends at %s, before the "
			    "recovery point %s: it lacks transactions the new "
			    "primary holds (its binlog lost them in the crash?); "
			    "it cannot be failed back, copy it again with "
			    "srdf-bootstrap",
			    v, cf->recovery_point);
		else if (ex == 0)
			printf("old primary's binlog ends at: %s\n", v);
	}
	gtid_pos_free(&r);
	free(on);
	free(v);
	return ex;
}

/* ---- the tail ---------------------------------------------------------- */

/* The key of a row for the expectations: db, table and its key columns'
 * values (all of them for a table without a primary key). */
static char *
row_key(json_t *rec, json_t *img)
{
	json_t *pk = json_object_get(rec, "pk"), *k;
	struct buf b = {0};
	size_t i;
	json_t *c;
	char *s;

	if (json_array_size(pk) == 0)
		k = json_incref(img);
	else {
		k = json_object();
		json_array_foreach(pk, i, c)
		{
			const char *n = json_string_value(c);

			if (n != NULL)
				json_object_set(k, n, json_object_get(img, n));
		}
	}
	s = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(k);
	buf_puts(&b, json_string_value(json_object_get(rec, "db")));
	buf_putc(&b, '\t');
	buf_puts(&b, json_string_value(json_object_get(rec, "table")));
	buf_putc(&b, '\t');
	buf_puts(&b, s ? s : "");
	buf_putc(&b, '\0');
	free(s);
	return b.p;
}

/* What row img (NULL: no row) of rec's table must be once the tail is
 * undone, when no earlier change of the tail said so already. */
static void
expect(struct tail *t, json_t *rec, json_t *img, json_t *want)
{
	char *k;

	if (!json_is_object(img))
		return;
	k = row_key(rec, img);
	if (json_object_get(t->expect, k) == NULL)
		json_object_set_new(t->expect, k,
		    json_pack("{s:O, s:O, s:O, s:O}", "db",
		        json_object_get(rec, "db"), "table",
		        json_object_get(rec, "table"), "pk",
		        json_object_get(rec, "pk"), "row",
		        want ? want : json_null()));
	free(k);
}

/* One record of the open transaction *trx (begin's facts, "changes"):
 * op first, then the record's own fields but its version and type. */
static void
add_change(struct tail *t, json_t *trx, json_t *rec, const char *type)
{
	json_t *c = json_pack("{s:s}", "op", type), *v;
	json_t *before = json_object_get(rec, "before");
	json_t *after = json_object_get(rec, "after");
	const char *k;

	json_object_foreach(rec, k, v)
	{
		if (strcmp(k, "v") != 0 && strcmp(k, "type") != 0)
			json_object_set(c, k, v);
	}
	json_array_append_new(json_object_get(trx, "changes"), c);
	if (strcmp(type, "ddl") == 0) {
		if (t->refuse == NULL)
			t->refuse = xstrdup(
			    json_string_value(json_object_get(trx, "gtid")));
		return;
	}
	t->nrows++;
	/* Undone newest first, the tail leaves each row as the first
	 * change found it: its before-image, or no row at all. */
	expect(t, rec, before, before);
	expect(t, rec, after, NULL);
}

/* v as compact JSON on f, or "-" when absent. */
static void
put_json(FILE *f, json_t *v)
{
	if (v == NULL)
		fputs("-", f);
	else
		json_dumpf(
		    v, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

/* One lost transaction: its JSON line in the report, its text form in
 * the text report (a line for it, one per change). */
static int
emit(struct tail *t, FILE *rep, FILE *txt, json_t *trx)
{
	json_t *ch = json_object_get(trx, "changes"), *c;
	size_t i;

	if (json_dumpf(trx, rep, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
	    fputc('\n', rep) == EOF)
		return -1;
	fprintf(txt,
	    "transaction %s, committed %s, server %" JSON_INTEGER_FORMAT
	    ", %zu change%s\n",
	    json_string_value(json_object_get(trx, "gtid")),
	    json_string_value(json_object_get(trx, "time")),
	    json_integer_value(json_object_get(trx, "server_id")),
	    json_array_size(ch), json_array_size(ch) == 1 ? "" : "s");
	json_array_foreach(ch, i, c)
	{
		const char *op = json_string_value(json_object_get(c, "op"));

		fprintf(txt, "  %s %s.%s", op,
		    json_string_value(json_object_get(c, "db")),
		    json_string_value(json_object_get(c, "table")));
		if (strcmp(op, "ddl") == 0) {
			fprintf(txt, ": %s\n",
			    json_string_value(json_object_get(c, "sql")));
			continue;
		}
		fputs("\n    before: ", txt);
		put_json(txt, json_object_get(c, "before"));
		fputs("\n    after:  ", txt);
		put_json(txt, json_object_get(c, "after"));
		fputc('\n', txt);
	}
	if (ferror(txt))
		return -1;
	snprintf(t->ntrx ? t->last_one : t->first, sizeof t->first,
	    "%s (committed %s)",
	    json_string_value(json_object_get(trx, "gtid")),
	    json_string_value(json_object_get(trx, "time")));
	if (t->ntrx == 0)
		memcpy(t->last_one, t->first, sizeof t->first);
	t->ntrx++;
	return 0;
}

/* Reads the records srdf-capture wrote (cf->records) into the report
 * (JSON lines) and *t.  0, or an exit status (logged). */
static int
read_tail(const struct config *cf, struct tail *t)
{
	FILE *in, *rep, *txt;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lno = 0;
	json_t *trx = NULL;
	int ex = 0;

	if ((in = fopen(cf->records, "r")) == NULL)
		return log_fail(EX_IOERR, "cannot read %s: %s", cf->records,
		    strerror(errno));
	if ((rep = fopen(cf->report, "w")) == NULL ||
	    (txt = fopen(cf->text, "w")) == NULL) {
		ex = log_fail(EX_CANTCREAT, "cannot write the report %s: %s",
		    rep ? cf->text : cf->report, strerror(errno));
		if (rep != NULL)
			fclose(rep);
		fclose(in);
		return ex;
	}
	t->expect = json_object();
	while (ex == 0 && (n = getline(&line, &cap, in)) > 0) {
		json_error_t je;
		json_t *rec;
		const char *type;

		lno++;
		if ((rec = json_loads(line, 0, &je)) == NULL ||
		    (type = json_string_value(json_object_get(rec, "type"))) ==
		        NULL) {
			ex = log_fail(EX_DATAERR, "%s:%ld: not a record: %s",
			    cf->records, lno, je.text);
			json_decref(rec);
			break;
		}
		if (strcmp(type, "begin") == 0) {
			char at[64];

			json_decref(trx);
			clock_iso(json_number_value(json_object_get(rec, "ts")),
			    'T', at, sizeof at);
			trx = json_pack("{s:O, s:s, s:O, s:O, s:[]}", "gtid",
			    json_object_get(rec, "gtid"), "time", at,
			    "server_id", json_object_get(rec, "server_id"),
			    "ts", json_object_get(rec, "ts"), "changes");
			if (json_object_get(rec, "xa") != NULL &&
			    t->refuse == NULL)
				t->refuse = xstrdup(json_string_value(
				    json_object_get(rec, "gtid")));
		} else if (trx == NULL)
			ex = log_fail(EX_DATAERR,
			    "%s:%ld: a %s record outside a transaction",
			    cf->records, lno, type);
		else if (strcmp(type, "commit") == 0 ||
		         strcmp(type, "xa_prepare") == 0) {
			struct gtid g;

			if (gtid_parse(
			        json_string_value(json_object_get(trx, "gtid")),
			        &g) != 0)
				ex = log_fail(EX_DATAERR, "%s:%ld: a bad GTID",
				    cf->records, lno);
			else if (emit(t, rep, txt, trx) != 0)
				ex = log_fail(EX_IOERR, "writing %s: %s",
				    cf->report, strerror(errno));
			else
				gtid_pos_set(&t->last, &g);
			json_decref(trx);
			trx = NULL;
		} else if (strcmp(type, "abort") == 0) {
			json_decref(trx); /* withdrawn: its GTID comes again */
			trx = NULL;
		} else if (strcmp(type, "insert") == 0 ||
		           strcmp(type, "update") == 0 ||
		           strcmp(type, "delete") == 0 ||
		           strcmp(type, "ddl") == 0)
			add_change(t, trx, rec, type);
		else if (strcmp(type, "xa_end") == 0 && t->refuse == NULL)
			t->refuse = xstrdup(
			    json_string_value(json_object_get(trx, "gtid")));
		json_decref(rec);
	}
	json_decref(trx);
	free(line);
	fclose(in);
	if ((fflush(rep) != 0 || fsync(fileno(rep)) != 0 || fclose(rep) != 0) &&
	    ex == 0)
		ex = log_fail(
		    EX_IOERR, "writing %s: %s", cf->report, strerror(errno));
	if ((fflush(txt) != 0 || fsync(fileno(txt)) != 0 || fclose(txt) != 0) &&
	    ex == 0)
		ex = log_fail(
		    EX_IOERR, "writing %s: %s", cf->text, strerror(errno));
	return ex;
}

/* The tail read against the binlog: per domain, as many transactions as
 * the sequence numbers from R to the binlog's end, and the last one the
 * binlog's.  0, or EX_DATAERR (logged). */
static int
count_tail(
    const struct config *cf, const struct tail *t, const struct gtid_pos *end)
{
	struct gtid_pos r = {0};
	uint64_t want = 0;
	int ex = 0;

	gtid_pos_parse(cf->recovery_point, &r);
	for (int i = 0; i < end->n; i++) {
		const struct gtid *from = gtid_pos_find(&r, end->g[i].domain);
		const struct gtid *got =
		    gtid_pos_find(&t->last, end->g[i].domain);
		uint64_t lo = from ? from->seq : 0;

		want += end->g[i].seq - lo;
		if (end->g[i].seq > lo &&
		    (got == NULL || got->seq != end->g[i].seq)) {
			ex = log_fail(EX_DATAERR,
			    "the old primary's binlog ends at %" PRIu32
			    "-%" PRIu32 "-%" PRIu64 " in domain %" PRIu32
			    ", srdf-capture read up to %s there: nothing is "
			    "undone; is another session writing (read_only)?",
			    end->g[i].domain, end->g[i].server, end->g[i].seq,
			    end->g[i].domain, got ? "another GTID" : "nothing");
			break;
		}
	}
	printf("lost transactions: %zu (the binlog beyond the recovery "
	       "point: %" PRIu64 "), %zu row changes\n",
	    t->ntrx, want, t->nrows);
	if (t->ntrx > 0)
		printf("lost: from %s to %s\n", t->first, t->last_one);
	if (ex == 0 && want != t->ntrx)
		ex = log_fail(EX_DATAERR,
		    "srdf-capture read %zu transactions beyond %s, the old "
		    "primary's binlog position says %" PRIu64
		    ": nothing is undone (a transaction not logged as row "
		    "events? see %s)",
		    t->ntrx, cf->recovery_point, want, cf->records);
	gtid_pos_free(&r);
	return ex;
}

/* ---- the check --------------------------------------------------------- */

/* One row of the expectations checked on the old primary: 0 when it
 * holds what it held before the tail, 1 when not, -1 on an error. */
static int
check_row(MYSQL *my, json_t *e, struct buf *q)
{
	json_t *row = json_object_get(e, "row");
	json_t *pk = json_object_get(e, "pk");
	const char *col;
	json_t *v;
	MYSQL_RES *r;
	char *cnt;
	int first = 1, bad;

	/* A keyless row the tail inserted: a copy of it may have been
	 * there before; nothing to check. */
	if (json_is_null(row) && json_array_size(pk) == 0)
		return 0;
	q->len = 0;
	buf_lit(q, "SELECT COUNT(*) FROM ");
	sql_ident(q, json_string_value(json_object_get(e, "db")));
	buf_putc(q, '.');
	sql_ident(q, json_string_value(json_object_get(e, "table")));
	buf_lit(q, " WHERE ");
	if (json_is_null(row)) {
		/* The key of the row the tail created must be free. */
		size_t i;
		json_t *c;

		row = json_object_get(e, "key");
		json_array_foreach(pk, i, c)
		{
			buf_puts(q, first ? "" : " AND ");
			sql_ident(q, json_string_value(c));
			buf_lit(q, " <=> ");
			if (sql_literal(q, json_object_get(
			                       row, json_string_value(c))) != 0)
				return -1;
			first = 0;
		}
	} else
		json_object_foreach(row, col, v)
		{
			buf_puts(q, first ? "" : " AND ");
			sql_ident(q, col);
			buf_lit(q, " <=> ");
			if (sql_literal(q, v) != 0)
				return -1;
			first = 0;
		}
	buf_putc(q, '\0');
	if (mysql_query(my, q->p) != 0 || (r = mysql_store_result(my)) == NULL)
		return -1;
	cnt = NULL;
	{
		MYSQL_ROW rw = mysql_fetch_row(r);

		cnt = rw && rw[0] ? xstrdup(rw[0]) : xstrdup("?");
	}
	mysql_free_result(r);
	bad = json_is_null(json_object_get(e, "row")) ? strcmp(cnt, "0") != 0
	                                              : strcmp(cnt, "0") == 0;
	free(cnt);
	return bad;
}

/* Every row the tail touched, checked to hold its value from before the
 * tail (or to be absent).  0, or an exit status (logged). */
static int
verify(MYSQL *my, struct tail *t)
{
	struct buf q = {0};
	const char *k;
	json_t *e;
	size_t ok = 0, bad = 0;
	int ex;

	if ((ex = query(my, "SET SESSION time_zone='+00:00'",
	         "setting the session's time zone")) != 0)
		return ex;
	json_object_foreach(t->expect, k, e)
	{
		int rc;

		/* The key to look for when the row must be absent: its
		 * image's key columns are in the map's key, kept here. */
		if (json_is_null(json_object_get(e, "row"))) {
			const char *j = strrchr(k, '\t');

			json_object_set_new(e, "key",
			    json_loads(
			        j ? j + 1 : "{}", JSON_DECODE_ANY, NULL));
		}
		if ((rc = check_row(my, e, &q)) < 0) {
			buf_free(&q);
			log_err("checking %s on the old primary: %s (error %u)",
			    k, mysql_error(my), mysql_errno(my));
			return mysql_errno(my) ? maria_exit_for(mysql_errno(my))
			                       : EX_SOFTWARE;
		}
		if (rc == 0) {
			ok++;
			continue;
		}
		if (bad++ < 10)
			log_err("row %s of %s.%s is not as before the lost "
			        "transactions (%s)",
			    strrchr(k, '\t') + 1,
			    json_string_value(json_object_get(e, "db")),
			    json_string_value(json_object_get(e, "table")),
			    json_is_null(json_object_get(e, "row"))
			        ? "it should be absent"
			        : "it should hold its before-image");
	}
	buf_free(&q);
	printf("verified: %zu row%s as at the recovery point%s\n", ok,
	    ok == 1 ? "" : "s", bad ? ", some NOT" : "");
	if (bad)
		return log_fail(EX_SOFTWARE,
		    "%zu row%s of the old primary differ from the new "
		    "primary's state at the promotion: do not start the "
		    "reverse replication; compare with srdf-verify",
		    bad, bad == 1 ? "" : "s");
	return 0;
}

/* ---- the steps --------------------------------------------------------- */

static int
read_binlog(const struct config *cf)
{
	const char *argv[16];
	int n = 0, fd, rc;

	argv[n++] = "srdf-capture";
	if (cf->defaults_file != NULL) {
		argv[n++] = "--defaults-file";
		argv[n++] = cf->defaults_file;
	}
	argv[n++] = "--dir";
	argv[n++] = cf->nodir;
	argv[n++] = "--from-gtid";
	argv[n++] = cf->recovery_point;
	argv[n++] = "--until-end";
	/* Not the id of the old primary's own srdf-capture, which a
	 * restarted source host may run again: the server would cut one
	 * of the two off. */
	argv[n++] = "--server-id";
	argv[n++] = FAILBACK_SERVER_ID;
	if (cf->verbose)
		argv[n++] = "-v";
	argv[n] = NULL;
	if ((fd = open(cf->records, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	         0600)) < 0)
		return log_fail(EX_CANTCREAT, "cannot create %s: %s",
		    cf->records, strerror(errno));
	log_info("reading the old primary's binlog beyond %s: srdf-capture "
	         "--from-gtid %s --until-end > %s",
	    cf->recovery_point, cf->recovery_point, cf->records);
	rc = run_tool(cf, argv, fd);
	if (fsync(fd) != 0 && rc == 0)
		rc = EX_IOERR;
	close(fd);
	if (rc != 0)
		return log_fail(rc > 0 ? rc : EX_SOFTWARE,
		    "srdf-capture could not read the old primary's binlog "
		    "beyond %s (exit %d, its message above): nothing was "
		    "undone",
		    cf->recovery_point, rc);
	return 0;
}

static int
rewind_tail(const struct config *cf)
{
	const char *argv[8];
	int n = 0, rc;

	argv[n++] = "srdf-rewind";
	argv[n++] = "--records";
	argv[n++] = cf->records;
	if (cf->defaults_file != NULL) {
		argv[n++] = "--defaults-file";
		argv[n++] = cf->defaults_file;
	}
	if (cf->verbose)
		argv[n++] = "-v";
	argv[n] = NULL;
	rc = run_tool(cf, argv, -1);
	if (rc != 0)
		return log_fail(rc > 0 ? rc : EX_SOFTWARE,
		    "srdf-rewind --records %s failed (exit %d, its message "
		    "above): the old primary is not at the recovery point; fix "
		    "the cause and run srdf-failback again",
		    cf->records, rc);
	return 0;
}

/* One trigger of guard_triggers, printed. */
static void
guarded_one(void *arg, const char *db, const char *name, const char *err)
{
	int *failed = arg;

	if (err == NULL) {
		printf("trigger %s.%s: guarded (srdf-apply's rows do not fire "
		       "it)\n",
		    db, name);
		return;
	}
	printf("trigger %s.%s: not guarded: %s\n", db, name, err);
	log_err("guarding trigger %s.%s on the old primary: %s; it would "
	        "fire for the rows srdf-apply writes: fix this and run "
	        "srdf-failback again",
	    db, name, err);
	(*failed)++;
}

/* The old primary made a target as srdf-apply(1) keeps one, not
 * logged: its triggers guarded ("Triggers"), its enabled events
 * DISABLE ON SLAVE ("Events"), which srdf-promote undoes when it is
 * promoted again.  0, or an exit status (logged). */
static int
make_target(MYSQL *my)
{
	static const char *const q =
	    "SELECT EVENT_SCHEMA, EVENT_NAME FROM information_schema.EVENTS "
	    "WHERE STATUS = 'ENABLED' ORDER BY 1, 2";
	struct buf a = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;
	int failed = 0, ex;

	if ((ex = query(my, "SET SESSION sql_log_bin=0",
	         "SET sql_log_bin=0 (the user needs BINLOG ADMIN or SUPER)")) !=
	    0)
		return ex;
	if (!maria_has_privilege(my, "TRIGGER"))
		log_warn("the account has no TRIGGER privilege: the old "
		         "primary's triggers are not looked at, and would fire "
		         "for the rows srdf-apply writes");
	else if (trigger_rewrite(
	             my, NULL, SQL_TRIGGER_GUARD, 0, guarded_one, &failed) < 0)
		return query(my, "SELECT 1 FROM information_schema.TRIGGERS",
		    "guarding the triggers");
	if (failed)
		return EX_UNAVAILABLE;
	if (!maria_has_privilege(my, "EVENT")) {
		log_warn(
		    "the account has no EVENT privilege: the old "
		    "primary's enabled events are not looked at, and would "
		    "run beside the changes that srdf-apply applies");
		return 0;
	}
	if ((ex = query(my, q, "listing the events")) != 0)
		return ex;
	if ((r = mysql_store_result(my)) == NULL)
		return 0;
	while (ex == 0 && (row = mysql_fetch_row(r)) != NULL) {
		a.len = 0;
		buf_lit(&a, "ALTER EVENT ");
		sql_ident(&a, row[0]);
		buf_putc(&a, '.');
		sql_ident(&a, row[1]);
		buf_lit(&a, " DISABLE ON SLAVE");
		buf_putc(&a, '\0');
		if ((ex = query(my, a.p, "disabling an event")) == 0)
			printf("event %s.%s: DISABLE ON SLAVE (srdf-promote "
			       "enables it)\n",
			    row[0], row[1]);
	}
	mysql_free_result(r);
	buf_free(&a);
	return ex;
}

/* The failback to R marked done on the old primary, not logged. */
static int
mark_done(MYSQL *my, const struct config *cf, size_t undone)
{
	struct buf q = {0};
	char n[24];
	int ex;

	if ((ex = query(
	         my, "SET SESSION sql_log_bin=0", "SET sql_log_bin=0")) != 0 ||
	    (ex = query(my, FAILBACK_DB, "creating srdf.failback")) != 0 ||
	    (ex = query(my, FAILBACK_DDL, "creating srdf.failback")) != 0)
		return ex;
	snprintf(n, sizeof n, "%zu", undone);
	buf_lit(&q, "INSERT INTO srdf.failback VALUES ('");
	maria_escape(&q, cf->recovery_point);
	buf_lit(&q, "', '");
	maria_escape(&q, cf->promoted_pos);
	buf_lit(&q, "', ");
	buf_puts(&q, n);
	buf_lit(&q, ", UTC_TIMESTAMP(6))");
	buf_putc(&q, '\0');
	ex = query(my, q.p, "recording the failback in srdf.failback");
	buf_free(&q);
	return ex;
}

/* The reverse replication, as commands to run on each host. */
static void
print_next(const struct config *cf)
{
	printf(
	    "next, on the new primary's host (a new state directory; no "
	    "bootstrap):\n"
	    "  srdf-capture --defaults-file /etc/srdf/source.cnf --dir "
	    "/var/lib/srdf-back --start-gtid %s | srdf-dedup | srdf-seal "
	    "--dir /var/lib/srdf-back --key-file /etc/srdf/key\n"
	    "  srdf-ship --dir /var/lib/srdf-back --to https://OLD-PRIMARY:8443 "
	    "--key-file /etc/srdf/key --ca-file ca.pem --ack-pull\n"
	    "next, on this host, the old primary (a new state directory; it "
	    "stays read_only):\n"
	    "  srdf-recv --dir /var/lib/srdf-back --key-file /etc/srdf/key "
	    "--listen 0.0.0.0:8443 --cert cert.pem --tls-key key.pem\n"
	    "  srdf-apply --dir /var/lib/srdf-back --key-file /etc/srdf/key "
	    "--defaults-file %s --ack-pull\n",
	    cf->promoted_pos,
	    cf->defaults_file ? cf->defaults_file : "/etc/srdf/target.cnf");
}

static int
run(const struct config *cf)
{
	struct tail t = {0};
	struct gtid_pos end = {0};
	char at[64];
	long long ms[4];
	MYSQL *my;
	int ex = 0, rc;

	if ((my = maria_connect(cf->defaults_file, cf->group, "the old primary",
	         60, &ex)) == NULL)
		return ex;
	if ((rc = done_before(my, cf, at, sizeof at, &ex)) != 0) {
		if (rc > 0) {
			printf("failed back to %s at %s already: nothing to "
			       "do\n",
			    cf->recovery_point, at);
			log_notice("the failback to %s finished at %s "
			           "(srdf.failback): a second one would take "
			           "the changes applied since for a lost tail",
			    cf->recovery_point, at);
			print_next(cf);
		}
		goto out;
	}
	printf("recovery point: %s\n", cf->recovery_point);
	printf("new primary's binlog starts at: %s\n", cf->promoted_pos);
	ms[0] = clock_mono_ms();
	if ((ex = make_read_only(my)) != 0 ||
	    (ex = binlog_end(my, cf, &end)) != 0 ||
	    (ex = read_binlog(cf)) != 0 || (ex = read_tail(cf, &t)) != 0)
		goto out;
	ms[1] = clock_mono_ms();
	printf("report: %s (one JSON line per lost transaction), %s (the "
	       "same as text)\n",
	    cf->report, cf->text);
	if ((ex = count_tail(cf, &t, &end)) != 0)
		goto out;
	if (t.refuse != NULL) {
		ex = log_fail(EX_DATAERR,
		    "transaction %s beyond the recovery point holds DDL or an "
		    "XA transaction, which cannot be undone from row images: "
		    "nothing was undone; copy the old primary again with "
		    "srdf-bootstrap (the report lists what it loses)",
		    t.refuse);
		goto out;
	}
	/* Guarded before the undo: srdf-rewind's sessions are srdf-apply's
	 * (srdf.apply_sessions), and a trigger must not fire again for the
	 * rows it puts back; what the triggers wrote is in the tail. */
	if ((ex = make_target(my)) != 0)
		goto out;
	if (t.ntrx == 0)
		printf("undone: nothing (the old primary is at the recovery "
		       "point)\n");
	else if ((ex = rewind_tail(cf)) != 0)
		goto out;
	else
		printf("undone: %zu transactions, %zu row changes, newest "
		       "first\n",
		    t.ntrx, t.nrows);
	ms[2] = clock_mono_ms();
	if ((ex = verify(my, &t)) != 0)
		goto out;
	ms[3] = clock_mono_ms();
	if ((ex = mark_done(my, cf, t.ntrx)) != 0)
		goto out;
	printf("time: %.3f s: reading and reporting %.3f s, undoing %.3f s, "
	       "checking %.3f s\n",
	    (double)(clock_mono_ms() - ms[0]) / 1e3,
	    (double)(ms[1] - ms[0]) / 1e3, (double)(ms[2] - ms[1]) / 1e3,
	    (double)(ms[3] - ms[2]) / 1e3);
	printf("failed back: the old primary is at %s, read-only, ready to "
	       "apply the new primary's changes from %s\n",
	    cf->recovery_point, cf->promoted_pos);
	print_next(cf);
	if (fflush(stdout) != 0 || ferror(stdout))
		ex = log_fail(
		    EX_IOERR, "writing the report: %s", strerror(errno));
out:
	mysql_close(my);
	json_decref(t.expect);
	free(t.refuse);
	gtid_pos_free(&t.last);
	gtid_pos_free(&end);
	return ex;
}

/* The options into *cf; exits on a usage error, --help, --version. */
static void
parse_options(int argc, char **argv, struct config *cf)
{
	static const struct option opts[] = {
	    {"defaults-file", required_argument, NULL, 'F'},
	    {"defaults-group", required_argument, NULL, 'G'},
	    {"help", no_argument, NULL, 'h'},
	    {"promoted-pos", required_argument, NULL, 'p'},
	    {"recovery-point", required_argument, NULL, 'r'},
	    {"report", required_argument, NULL, 'o'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	char self[PATH_MAX];
	ssize_t n;
	int ch;

	cf->group = TOOL;
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			cf->defaults_file = optarg;
			break;
		case 'G':
			cf->group = optarg;
			break;
		case 'p':
			cf->promoted_pos = optarg;
			break;
		case 'r':
			cf->recovery_point = optarg;
			break;
		case 'o':
			cf->report = optarg;
			break;
		case 'v':
			cf->verbose = 1;
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, TOOL, usage);
		}
	}
	opt_no_operands(argc, usage);
	if (cf->recovery_point == NULL || cf->promoted_pos == NULL)
		die(EX_USAGE, "--recovery-point and --promoted-pos are "
		              "required: srdf-promote printed them on the new "
		              "primary's host (its line \"failback:\"), and "
		              "srdf-status shows them there");
	if (!gtid_pos_valid(cf->recovery_point) || !cf->recovery_point[0])
		die(EX_USAGE,
		    "bad --recovery-point %s (want a GTID position: "
		    "domain-server-seq, comma-separated)",
		    cf->recovery_point);
	if (!gtid_pos_valid(cf->promoted_pos) || !cf->promoted_pos[0])
		die(EX_USAGE,
		    "bad --promoted-pos %s (want a GTID position: "
		    "domain-server-seq, comma-separated)",
		    cf->promoted_pos);
	if (cf->report == NULL)
		die(EX_USAGE, "--report is required: the file that lists the "
		              "lost transactions");
	if (strlen(cf->report) + sizeof ".records" > sizeof cf->records)
		die(EX_USAGE, "--report %s: path too long", cf->report);
	snprintf(cf->records, sizeof cf->records, "%s.records", cf->report);
	snprintf(cf->text, sizeof cf->text, "%s.txt", cf->report);
	snprintf(cf->nodir, sizeof cf->nodir, "%s.nodir", cf->report);
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		snprintf(cf->bindir, sizeof cf->bindir, "%s", dirname(self));
	}
}

int
main(int argc, char **argv)
{
	static struct config cf;

	log_init(argv[0]);
	parse_options(argc, argv, &cf);
	return run(&cf);
}
