/*
 * srdf-verify — compare the replicated tables of a source and a target
 * by chunked checksums over primary-key ranges, and name the rows that
 * differ.
 *
 * Design rationale.  This is pt-table-checksum's method without its
 * replication trick: the chunk boundaries are found once, by walking each
 * table's primary key on the source (a boundary every --chunk-rows keys),
 * and the same ranges are then checksummed on both sides: COUNT(*) and
 * the XOR over the rows of a 128-bit row hash (MD5 of the columns as
 * exact bytes: CONCAT_WS('#', CAST(col AS BINARY) ..., ISNULL flags)),
 * FLOAT through DOUBLE, TIMESTAMP in UTC, INET6/UUID as their bytes.  A
 * table without a primary key (a sequence too) has no ranges: CHECKSUM
 * TABLE on both; a system-versioned one, or one with VIRTUAL columns,
 * is one chunk of the row hash.
 * The views, triggers, routines and events of the selection are compared
 * by their definitions in information_schema (compare_objects).
 *
 * The source moves on while the target lags, so a first difference is
 * only a suspicion.  The source's @@gtid_binlog_pos is read before the
 * first checksum; the differing chunks are checked again once the
 * target's checkpoint (srdf.applied, written by srdf-apply) has reached
 * that position, or at once when there is no checkpoint to wait for (a
 * target fed by other means, or idle).  Chunks that still differ are
 * compared row by row, and the keys are reported: missing on the target,
 * extra on the target, changed.
 *
 * What it refuses to do: change either side (it only reads; it needs
 * SELECT), or call a table equal that it could not check: a table
 * missing on one side, a column list that differs, or a query that fails
 * is drift, or an error.
 *
 * Exit status: 0 equal, 1 drift, 64 usage, 69 a server cannot be
 * reached, 77 permission denied, 78 bad configuration.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sysexits.h>

#include <jansson.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "applied.h"
#include "buf.h"
#include "gtid.h"
#include "log.h"
#include "maria.h"
#include "opt.h"
#include "sql.h"
#include "sqltext.h"
#include "xalloc.h"

#define DEFAULT_CHUNK_ROWS 10000
#define DEFAULT_WAIT 60
#define MAX_KEYS_SHOWN 1000 /* per table and kind, in the report */

struct config {
	const char *source, *target, *group;
	const char *databases;
	char **include;
	int ninclude;
	char **exclude;
	int nexclude;
	int json;
	int accounts; /* --accounts */
	uint64_t chunk_rows;
	int wait_s;
	int repair;      /* --repair */
	const char *dir; /* --dir: the source state directory */
};

/* A range of primary keys: lo < key <= hi; lo NULL is -inf, hi NULL +inf. */
struct chunk {
	char **lo, **hi; /* key literals, borrowed from the boundary list */
	uint64_t src_rows, dst_rows;
	char src_sum[40], dst_sum[40];
	int differs;
};

struct vtable {
	struct maria_table m;
	char *key;
	int missing;   /* not on the target */
	char *problem; /* a reason it could not be compared normally */
	char *indexes; /* how the indexes differ, or NULL */
	struct chunk *ch;
	int nch;
	char ***bounds; /* boundary key literals */
	int nbounds;
	size_t capbounds; /* room in bounds */
	struct buf hash;  /* the row hash expression */
	struct buf cols;  /* the column list, to compare definitions */
	int ck;           /* compared by CHECKSUM TABLE */
	uint64_t rows;
	json_t *missing_keys, *extra_keys, *changed_keys;
	int differs;
};

struct verify {
	const struct config *cf;
	MYSQL *src, *dst;
	char *src_pos;
	struct vtable **t;
	int nt;
	size_t capt; /* room in t */
	int err;     /* once a query failed: the exit status */
	json_t *extra_tables;
	int waited;
	char *dst_pos;
	json_t *objects;          /* the views, triggers... that differ */
	size_t nobjects;          /* how many were compared */
	json_t *not_compared;     /* the kinds an account cannot see */
	json_t *accounts;         /* --accounts: those that differ, or NULL */
	size_t naccounts;         /* how many were compared */
	const char *accounts_not; /* why they were not compared, or NULL */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-verify [-v] --source file --target file "
	    "[--defaults-group group]\n"
	    "                   [--databases pattern] [--include pattern]... "
	    "[--exclude pattern]...\n"
	    "                   [--chunk-rows n] [--wait-seconds s] "
	    "[--accounts] [--json]\n"
	    "                   [--repair [--dir dir]]\n"
	    "       srdf-verify --help | --version\n");
}

static MYSQL *
open_side(const struct config *cf, const char *file, const char *what)
{
	int ex;
	MYSQL *my;

	if (access(file, R_OK) != 0)
		die(EX_CONFIG, "cannot read the option file %s: %s", file,
		    strerror(errno));
	if ((my = maria_connect(file, cf->group, what, 0, &ex)) == NULL)
		exit(ex);
	if (mysql_query(my, "SET SESSION time_zone='+00:00', "
	                    "sql_mode='NO_ENGINE_SUBSTITUTION', "
	                    "character_set_results=binary, "
	                    "max_statement_time=0, wait_timeout=86400, "
	                    "group_concat_max_len=1048576") != 0)
		die(maria_exit_for(mysql_errno(my)), "%s: %s", what,
		    mysql_error(my));
	return my;
}

/* A query q on my failed: logged, and its exit status kept in v->err
 * (the first only), which ends the comparison: every query after it is
 * refused, and main exits with it. */
static void
fail_sql(struct verify *v, MYSQL *my, const char *what, const char *q)
{
	if (v->err != 0)
		return;
	log_err("%s: %s (%.200s)", what, mysql_error(my), q);
	v->err = maria_exit_for(mysql_errno(my));
}

/* q's stored result, or NULL after a failure (fail_sql) or once one
 * failed. */
static MYSQL_RES *
query(struct verify *v, MYSQL *my, const char *what, const char *q)
{
	MYSQL_RES *r;

	if (v->err != 0)
		return NULL;
	if (mysql_query(my, q) != 0 || (r = mysql_store_result(my)) == NULL) {
		fail_sql(v, my, what, q);
		return NULL;
	}
	return r;
}

/* ---- GTID positions -------------------------------------------------- */

/* The target's checkpoint (srdf.applied, srdf-apply(1) "Order and the
 * checkpoint"): the GTID positions of its rows, merged (per domain the
 * highest), as text into *pos and parsed into *p.  A row without
 * gtid_pos counts by its last_gtid.  Returns 0; 1 when there is no
 * checkpoint to wait for (no such table, or no position in it: *pos
 * NULL); -1 when it cannot be read or a position is not a GTID position
 * (logged: never counted as reached). */
static int
target_position(struct verify *v, char **pos, struct gtid_pos *p)
{
	struct applied_rows rows = {0};
	struct gtid_pos one = {0};
	struct buf text = {0};
	char err[400];
	int rc = 1;

	*pos = NULL;
	gtid_pos_free(p);
	if (applied_read(v->dst, NULL, &rows, err, sizeof err) != 0) {
		unsigned e = mysql_errno(v->dst);

		if (e == ER_NO_SUCH_TABLE || e == ER_BAD_DB_ERROR)
			return 1;
		log_err("reading srdf.applied on the target: %s", err);
		return -1;
	}
	for (size_t i = 0; i < rows.n && rc >= 0; i++) {
		const char *s = rows.v[i].gtid_pos != NULL
		                    ? rows.v[i].gtid_pos
		                    : rows.v[i].last_gtid;

		if (s == NULL)
			continue;
		buf_printf(&text, "%s%s", text.len ? "," : "", s);
		if (gtid_pos_parse(s, &one) != 0) {
			log_err(
			    "the target's checkpoint (srdf.applied) holds "
			    "'%s', which is not a GTID position: not counted "
			    "as reaching the source's",
			    s);
			rc = -1;
		} else {
			gtid_pos_max(p, &one);
			rc = 0;
		}
	}
	gtid_pos_free(&one);
	applied_free(&rows);
	if (text.len > 0)
		*pos = text.p;
	else
		buf_free(&text);
	return rc;
}

/* Waits until the target has applied everything the source had when
 * the first checksums began.  Returns 1 when it did (or there is nothing
 * to wait for), 0 after --wait-seconds, or at once when the checkpoint
 * cannot be read or is no GTID position (an error, logged). */
static int
await_target(struct verify *v)
{
	time_t end = time(NULL) + v->cf->wait_s;
	struct gtid_pos want = {0}, have = {0};
	char *pos;
	int rc;

	if (gtid_pos_parse(v->src_pos, &want) != 0) {
		log_err("the source's @@gtid_binlog_pos '%s' is not a GTID "
		        "position: not waiting for the target",
		    v->src_pos);
		return 0;
	}
	for (;;) {
		if ((rc = target_position(v, &pos, &have)) == 1) {
			log_debug("the target has no srdf.applied checkpoint: "
			          "checking again at once");
			break;
		}
		if (rc == 0 && gtid_pos_reached(&have, &want)) {
			log_debug(
			    "the target reached '%s' ('%s')", v->src_pos, pos);
			free(v->dst_pos);
			v->dst_pos = pos;
			v->waited = 1;
			break;
		}
		if (rc < 0 || time(NULL) >= end) {
			if (rc == 0)
				log_warn(
				    "the target did not reach the source's "
				    "GTID position '%s' within %d s (it is "
				    "at '%s'): what differs may be changes "
				    "still on their way",
				    v->src_pos, v->cf->wait_s, pos);
			free(v->dst_pos);
			v->dst_pos = pos;
			rc = -1;
			break;
		}
		free(pos);
		usleep(200000);
	}
	gtid_pos_free(&want);
	gtid_pos_free(&have);
	return rc >= 0;
}

/* ---- tables -------------------------------------------------------------- */

static int
selected(const struct config *cf, const char *db, const char *t)
{
	return maria_selected(cf->databases, cf->include, cf->ninclude,
	    cf->exclude, cf->nexclude, db, t);
}

static const char list_tables[] =
    "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE "
    "TABLE_TYPE IN ('BASE TABLE','SYSTEM VERSIONED','SEQUENCE') "
    "ORDER BY 1, 2";

static void
build_exprs(struct vtable *t)
{
	struct maria_table *m = &t->m;

	buf_lit(&t->hash, "MD5(CONCAT_WS('#'");
	for (int i = 0; i < m->ncols; i++) {
		buf_lit(&t->hash, ",CAST(");
		maria_select_expr(&t->hash, &m->col[i]);
		buf_lit(&t->hash, " AS BINARY)");
		/* An ENUM's error value and a member '' read alike; so do
		 * a SET with and without its member ''. */
		if (m->col[i].kind == MARIA_K_ENUMSET) {
			buf_lit(&t->hash, ",");
			sql_ident(&t->hash, m->col[i].name);
			buf_lit(&t->hash, " + 0");
		}
		buf_printf(&t->cols, "%s%s %s", i ? ", " : "", m->col[i].name,
		    m->col[i].data_type);
	}
	buf_lit(&t->hash, ",CONCAT(");
	for (int i = 0; i < m->ncols; i++) {
		if (i > 0)
			buf_putc(&t->hash, ',');
		buf_lit(&t->hash, "ISNULL(");
		sql_ident(&t->hash, m->col[i].name);
		buf_putc(&t->hash, ')');
	}
	buf_lit(&t->hash, ")))");
}

/* The indexes of db.name as one string, "name [UNIQUE ][type ](col,
 * col(prefix), col DESC); ..." in name order, from
 * information_schema.STATISTICS; an index the optimizer ignores counts
 * like any other.  Appended to b, NUL-terminated. */
static void
index_sig(struct verify *v, MYSQL *my, const char *what, const char *db,
    const char *name, struct buf *b)
{
	struct buf q = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;

	buf_lit(&q,
	    "SELECT INDEX_NAME, NON_UNIQUE, INDEX_TYPE, GROUP_CONCAT("
	    "COLUMN_NAME, IFNULL(CONCAT('(', SUB_PART, ')'), ''), "
	    "IF(COLLATION = 'D', ' DESC', '') ORDER BY SEQ_IN_INDEX "
	    "SEPARATOR ', ') FROM information_schema.STATISTICS WHERE ");
	maria_table_where(&q, db, name);
	buf_lit(&q, " GROUP BY INDEX_NAME, NON_UNIQUE, INDEX_TYPE "
	            "ORDER BY INDEX_NAME");
	buf_putc(&q, '\0');
	if ((r = query(v, my, what, q.p)) == NULL) {
		buf_putc(b, '\0');
		buf_free(&q);
		return;
	}
	while ((row = mysql_fetch_row(r)) != NULL)
		buf_printf(b, "%s%s %s%s (%s)", b->len > 0 ? "; " : "",
		    row[0] ? row[0] : "",
		    row[1] && strcmp(row[1], "0") == 0 ? "UNIQUE " : "",
		    row[2] ? row[2] : "", row[3] ? row[3] : "");
	buf_putc(b, '\0');
	mysql_free_result(r);
	buf_free(&q);
}

/* Table t's definition on the target, dm, against the source's: the
 * columns (a difference is t->problem), then the indexes (t->indexes).
 * dm is freed. */
static void
compare_defs(struct verify *v, struct vtable *t, struct maria_table *dm,
    const char *db, const char *name)
{
	struct vtable tmp = {0};

	tmp.m = *dm;
	build_exprs(&tmp);
	if (strcmp(tmp.cols.p, t->cols.p) != 0) {
		struct buf p = {0};

		buf_printf(&p, "the columns differ: source (%s), target (%s)",
		    t->cols.p, tmp.cols.p);
		buf_putc(&p, '\0');
		t->problem = xstrdup(p.p);
		t->differs = 1;
		buf_free(&p);
	} else {
		struct buf a = {0}, b = {0}, p = {0};

		index_sig(v, v->src, "cannot read the source's indexes", db,
		    name, &a);
		index_sig(v, v->dst, "cannot read the target's indexes", db,
		    name, &b);
		if (strcmp(a.p, b.p) != 0) {
			buf_printf(&p,
			    "the indexes differ: source (%s), "
			    "target (%s)",
			    a.p, b.p);
			buf_putc(&p, '\0');
			t->indexes = xstrdup(p.p);
		}
		buf_free(&a);
		buf_free(&b);
		buf_free(&p);
	}
	buf_free(&tmp.hash);
	buf_free(&tmp.cols);
	maria_table_free(dm);
}

static void
load_tables(struct verify *v)
{
	const struct config *cf = v->cf;
	MYSQL_RES *r;
	MYSQL_ROW row;

	if ((r = query(v, v->src, "cannot list the source's tables",
	         list_tables)) == NULL)
		return;
	while ((row = mysql_fetch_row(r)) != NULL) {
		struct vtable *t;
		struct maria_table dm;
		char err[512], key[300];
		unsigned e;

		if (!selected(cf, row[0], row[1]))
			continue;
		t = xcalloc(1, sizeof *t);
		snprintf(key, sizeof key, "%s.%s", row[0], row[1]);
		t->key = xstrdup(key);
		v->t = xgrow(v->t, &v->capt, (size_t)v->nt + 1, sizeof *v->t);
		v->t[v->nt++] = t; /* verify_free's, from here on */
		if (maria_table_load(v->src, row[0], row[1], &t->m, &e, err,
		        sizeof err) != 0) {
			log_err("source: %s", err);
			v->err = e ? maria_exit_for(e) : EX_UNAVAILABLE;
			break;
		}
		build_exprs(t);
		if (maria_table_load(v->dst, row[0], row[1], &dm, &e, err,
		        sizeof err) != 0) {
			if (e != 0) {
				log_err("target: %s", err);
				v->err = maria_exit_for(e);
				break;
			}
			t->missing = 1;
			t->differs = 1;
		} else
			compare_defs(v, t, &dm, row[0], row[1]);
		buf_putc(&t->cols, '\0');
		t->missing_keys = json_array();
		t->extra_keys = json_array();
		t->changed_keys = json_array();
	}
	mysql_free_result(r);
	if (v->err != 0)
		return;

	/* Tables only the target has, in the selection. */
	v->extra_tables = json_array();
	if ((r = query(v, v->dst, "cannot list the target's tables",
	         list_tables)) == NULL)
		return;
	while ((row = mysql_fetch_row(r)) != NULL) {
		char key[300];
		int known = 0;

		if (!selected(cf, row[0], row[1]))
			continue;
		snprintf(key, sizeof key, "%s.%s", row[0], row[1]);
		for (int i = 0; i < v->nt && !known; i++)
			known = strcmp(v->t[i]->key, key) == 0;
		if (!known)
			json_array_append_new(
			    v->extra_tables, json_string(key));
	}
	mysql_free_result(r);
}

static void
table_from(struct buf *q, const struct vtable *t)
{
	buf_lit(q, " FROM ");
	sql_ident(q, t->m.db);
	buf_putc(q, '.');
	sql_ident(q, t->m.name);
}

/* The chunk boundaries: every chunk_rows-th key, walking the primary key
 * on the source. */
static void
find_chunks(struct verify *v, struct vtable *t)
{
	const struct maria_table *m = &t->m;
	struct buf q = {0}, lit = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;
	uint64_t n = 0;

	if (!m->keyset) {
		/* one chunk: the whole table */
		t->ch = xcalloc(1, sizeof *t->ch);
		t->nch = 1;
		return;
	}
	buf_lit(&q, "SELECT ");
	for (int i = 0; i < m->npk; i++) {
		if (i > 0)
			buf_putc(&q, ',');
		maria_select_expr(&q, &m->col[m->pk[i]]);
	}
	table_from(&q, t);
	buf_lit(&q, " ORDER BY ");
	for (int i = 0; i < m->npk; i++) {
		if (i > 0)
			buf_putc(&q, ',');
		sql_ident(&q, m->col[m->pk[i]].name);
	}
	buf_putc(&q, '\0');
	if (v->err != 0 || mysql_query(v->src, q.p) != 0 ||
	    (r = mysql_use_result(v->src)) == NULL) {
		fail_sql(v, v->src, "cannot walk the primary key", q.p);
		buf_free(&q);
		return;
	}
	while ((row = mysql_fetch_row(r)) != NULL) {
		unsigned long *len = mysql_fetch_lengths(r);
		char **b;

		if (++n % v->cf->chunk_rows != 0)
			continue;
		b = xcalloc((size_t)m->npk, sizeof *b);
		for (int i = 0; i < m->npk; i++) {
			lit.len = 0;
			maria_literal(&lit, &m->col[m->pk[i]], row[i], len[i]);
			buf_putc(&lit, '\0');
			b[i] = xstrdup(lit.p);
		}
		t->bounds = xgrow(t->bounds, &t->capbounds,
		    (size_t)t->nbounds + 1, sizeof *t->bounds);
		t->bounds[t->nbounds++] = b;
	}
	if (mysql_errno(v->src) != 0)
		fail_sql(v, v->src, "cannot walk the primary key", q.p);
	mysql_free_result(r);
	if (v->err != 0) {
		buf_free(&q);
		buf_free(&lit);
		return;
	}
	t->nch = t->nbounds + 1;
	t->ch = xcalloc((size_t)t->nch, sizeof *t->ch);
	for (int i = 0; i < t->nch; i++) {
		t->ch[i].lo = i > 0 ? t->bounds[i - 1] : NULL;
		t->ch[i].hi = i < t->nbounds ? t->bounds[i] : NULL;
	}
	buf_free(&q);
	buf_free(&lit);
}

static void
range(struct buf *q, const struct vtable *t, const struct chunk *c)
{
	if (c->lo == NULL && c->hi == NULL)
		return;
	buf_lit(q, " WHERE ");
	if (c->lo != NULL)
		maria_key_cond(q, &t->m, c->lo, ">");
	if (c->lo != NULL && c->hi != NULL)
		buf_lit(q, " AND ");
	if (c->hi != NULL)
		maria_key_cond(q, &t->m, c->hi, "<=");
}

/* Runs q on both servers at once: sent to each (mysql_send_query), then
 * both answers read, so that each side computes while the other does.
 * Dies on an error, naming the side. */
/* q sent to both sides at once, their results into *rs and *rd.  0, or
 * -1 after a failure (fail_sql; nothing left to free). */
static int
query_both(struct verify *v, const char *q, MYSQL_RES **rs, MYSQL_RES **rd)
{
	unsigned long n = (unsigned long)strlen(q);

	*rs = *rd = NULL;
	if (v->err != 0)
		return -1;
	if (mysql_send_query(v->src, q, n) != 0)
		fail_sql(v, v->src, "source", q);
	else if (mysql_send_query(v->dst, q, n) != 0)
		fail_sql(v, v->dst, "target", q);
	else if (mysql_read_query_result(v->src) != 0 ||
	         (*rs = mysql_store_result(v->src)) == NULL)
		fail_sql(v, v->src, "source", q);
	else if (mysql_read_query_result(v->dst) != 0 ||
	         (*rd = mysql_store_result(v->dst)) == NULL)
		fail_sql(v, v->dst, "target", q);
	if (v->err == 0)
		return 0;
	mysql_free_result(*rs);
	*rs = NULL;
	return -1;
}

/* The row count and checksum in one side's answer to chunk_sums' query;
 * frees r. */
static void
sum_of(MYSQL_RES *r, uint64_t *rows, char *sum, size_t sumlen)
{
	MYSQL_ROW row = mysql_fetch_row(r);

	*rows = row && row[0] ? strtoull(row[0], NULL, 10) : 0;
	snprintf(sum, sumlen, "%s/%s", row && row[1] ? row[1] : "0",
	    row && row[2] ? row[2] : "0");
	mysql_free_result(r);
}

/* Chunk c of t on both sides at once: its rows, and the BIT_XOR of its
 * rows' MD5 in two 64-bit halves (the pt-table-checksum method). */
static void
chunk_sums(struct verify *v, const struct vtable *t, struct chunk *c)
{
	struct buf q = {0};
	MYSQL_RES *rs, *rd;

	buf_lit(&q, "SELECT COUNT(*), COALESCE(BIT_XOR(CAST(CONV(LEFT(h,16),"
	            "16,10) AS UNSIGNED)),0), COALESCE(BIT_XOR(CAST(CONV("
	            "RIGHT(h,16),16,10) AS UNSIGNED)),0) FROM (SELECT ");
	buf_add(&q, t->hash.p, t->hash.len);
	buf_lit(&q, " AS h");
	table_from(&q, t);
	range(&q, t, c);
	buf_lit(&q, ") AS x");
	buf_putc(&q, '\0');
	if (query_both(v, q.p, &rs, &rd) != 0) {
		buf_free(&q);
		return;
	}
	sum_of(rs, &c->src_rows, c->src_sum, sizeof c->src_sum);
	sum_of(rd, &c->dst_rows, c->dst_sum, sizeof c->dst_sum);
	buf_free(&q);
}

/* The first column of the first row of r as text ("NULL" for none);
 * frees r. */
static void
first_of(MYSQL_RES *r, unsigned col, char *out, size_t len)
{
	MYSQL_ROW row = mysql_fetch_row(r);

	snprintf(out, len, "%s", row && row[col] ? row[col] : "NULL");
	mysql_free_result(r);
}

/* A table compared whole (c its one chunk), on both sides at once:
 * CHECKSUM TABLE ... EXTENDED, then its rows. */
static void
table_sums(struct verify *v, const struct vtable *t, struct chunk *c)
{
	struct buf q = {0};
	MYSQL_RES *rs, *rd;
	char n[32];

	buf_lit(&q, "CHECKSUM TABLE ");
	sql_ident(&q, t->m.db);
	buf_putc(&q, '.');
	sql_ident(&q, t->m.name);
	buf_lit(&q, " EXTENDED");
	buf_putc(&q, '\0');
	if (query_both(v, q.p, &rs, &rd) != 0) {
		buf_free(&q);
		return;
	}
	first_of(rs, 1, c->src_sum, sizeof c->src_sum);
	first_of(rd, 1, c->dst_sum, sizeof c->dst_sum);
	q.len = 0;
	buf_lit(&q, "SELECT COUNT(*)");
	table_from(&q, t);
	buf_putc(&q, '\0');
	if (query_both(v, q.p, &rs, &rd) != 0) {
		buf_free(&q);
		return;
	}
	first_of(rs, 0, n, sizeof n);
	c->src_rows = strtoull(n, NULL, 10);
	first_of(rd, 0, n, sizeof n);
	c->dst_rows = strtoull(n, NULL, 10);
	buf_free(&q);
}

/* Checks the chunks of t (all, or only those marked differing). */
static void
check(struct verify *v, struct vtable *t, int only_differing)
{
	if (t->missing || t->problem != NULL)
		return;
	t->differs = 0;
	for (int i = 0; i < t->nch; i++) {
		struct chunk *c = &t->ch[i];

		if (only_differing && !c->differs)
			continue;
		if (t->ck)
			table_sums(v, t, c);
		else
			chunk_sums(v, t, c);
		c->differs = c->src_rows != c->dst_rows ||
		             strcmp(c->src_sum, c->dst_sum) != 0;
		t->differs |= c->differs;
	}
	if (!only_differing) {
		t->rows = 0;
		for (int i = 0; i < t->nch; i++)
			t->rows += t->ch[i].src_rows;
	}
}

/* ---- row by row ------------------------------------------------------ */

struct krow {
	char *key; /* length-prefixed raw key bytes */
	size_t keylen;
	json_t *show; /* {"col": "value", ...} */
	char hash[33];
};

static int
krow_cmp(const void *a, const void *b)
{
	const struct krow *x = a, *y = b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

/* A key value for people: text when it is valid UTF-8 text, else hex. */
static json_t *
show_value(const struct maria_col *c, const char *v, unsigned long n)
{
	struct buf b = {0};
	json_t *j;

	if (v == NULL)
		return json_null();
	if (c->kind == MARIA_K_BIT) {
		uint64_t u = 0;

		for (unsigned long i = 0; i < n; i++)
			u = u << 8 | (unsigned char)v[i];
		return json_integer((json_int_t)u);
	}
	if ((c->kind == MARIA_K_INT || c->kind == MARIA_K_UINT ||
	        c->kind == MARIA_K_YEAR) &&
	    n < 16)
		return json_integer((json_int_t)strtoll(v, NULL, 10));
	if (c->kind != MARIA_K_BYTES && c->kind != MARIA_K_FIXBIN &&
	    utf8_valid((const unsigned char *)v, n) &&
	    (j = json_stringn(v, n)) != NULL)
		return j;
	buf_lit(&b, "0x");
	for (unsigned long i = 0; i < n; i++)
		buf_printf(&b, "%02x", (unsigned char)v[i]);
	j = json_stringn(b.p, b.len);
	buf_free(&b);
	return j;
}

static struct krow *
chunk_rows(struct verify *vf, MYSQL *my, const char *what,
    const struct vtable *t, const struct chunk *c, size_t *n)
{
	const struct maria_table *m = &t->m;
	struct buf q = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;
	struct krow *v = NULL;
	size_t k = 0, cap = 0;

	buf_lit(&q, "SELECT ");
	for (int i = 0; i < m->npk; i++) {
		maria_select_expr(&q, &m->col[m->pk[i]]);
		buf_putc(&q, ',');
	}
	buf_add(&q, t->hash.p, t->hash.len);
	table_from(&q, t);
	range(&q, t, c);
	buf_putc(&q, '\0');
	*n = 0;
	if (vf->err != 0 || mysql_query(my, q.p) != 0 ||
	    (r = mysql_use_result(my)) == NULL) {
		fail_sql(vf, my, what, q.p);
		buf_free(&q);
		return NULL;
	}
	while ((row = mysql_fetch_row(r)) != NULL) {
		unsigned long *len = mysql_fetch_lengths(r);
		struct buf key = {0};

		v = xgrow(v, &cap, k + 1, sizeof *v);
		v[k].show = json_object();
		for (int i = 0; i < m->npk; i++) {
			buf_printf(&key, "%lu:", len[i]);
			buf_add(&key, row[i], len[i]);
			json_object_set_new(v[k].show, m->col[m->pk[i]].name,
			    show_value(&m->col[m->pk[i]], row[i], len[i]));
		}
		v[k].key = key.p;
		v[k].keylen = key.len;
		snprintf(v[k].hash, sizeof v[k].hash, "%s",
		    row[m->npk] ? row[m->npk] : "");
		k++;
	}
	if (mysql_errno(my) != 0)
		fail_sql(vf, my, what, q.p);
	mysql_free_result(r);
	buf_free(&q);
	if (k > 1) /* v is NULL for none: qsort's argument must not be */
		qsort(v, k, sizeof *v, krow_cmp);
	*n = k;
	return v;
}

static void
add_key(json_t *a, json_t *show)
{
	if (json_array_size(a) < MAX_KEYS_SHOWN)
		json_array_append(a, show);
}

static void
compare_rows(struct verify *v, struct vtable *t, const struct chunk *c)
{
	size_t ns, nd, i = 0, j = 0;
	struct krow *s = chunk_rows(v, v->src, "source", t, c, &ns);
	struct krow *d = chunk_rows(v, v->dst, "target", t, c, &nd);

	while (i < ns || j < nd) {
		int cmp = i == ns ? 1 : j == nd ? -1 : krow_cmp(&s[i], &d[j]);

		if (cmp < 0)
			add_key(t->missing_keys, s[i++].show);
		else if (cmp > 0)
			add_key(t->extra_keys, d[j++].show);
		else {
			if (strcmp(s[i].hash, d[j].hash) != 0)
				add_key(t->changed_keys, s[i].show);
			i++;
			j++;
		}
	}
	for (i = 0; i < ns; i++) {
		free(s[i].key);
		json_decref(s[i].show);
	}
	for (j = 0; j < nd; j++) {
		free(d[j].key);
		json_decref(d[j].show);
	}
	free(s);
	free(d);
}

/* ---- views, triggers, routines, events ------------------------------- */

/* One schema object, as information_schema shows it. */
struct obj {
	char *kind, *db, *name; /* kind: "view", "trigger", "procedure"... */
	char *head;             /* what defines it besides its body */
	char *body;             /* NULL: the account cannot see it */
};

/* A kind of object: who may see them all, and the query that lists
 * them: kind, database, name, the table whose selection decides (NULL:
 * the database's does), head, body.  Events are compared without their
 * STATUS, which srdf-apply sets to SLAVESIDE_DISABLED on the target
 * (srdf-apply(1), "Events"); a trigger's body without the guard
 * srdf-apply wraps it in (sql_trigger_unguarded). */
static const struct objkind {
	const char *what, *priv, *q;
} objkinds[] = {
    {"views", "SHOW VIEW",
        "SELECT 'view', TABLE_SCHEMA, TABLE_NAME, TABLE_NAME, CONCAT_WS(' ', "
        "CHECK_OPTION, SECURITY_TYPE, ALGORITHM), VIEW_DEFINITION FROM "
        "information_schema.VIEWS"},
    {"triggers", "TRIGGER",
        "SELECT 'trigger', TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE, "
        "CONCAT_WS(' ', ACTION_TIMING, EVENT_MANIPULATION, 'ON', "
        "EVENT_OBJECT_TABLE, 'ORDER', ACTION_ORDER), ACTION_STATEMENT FROM "
        "information_schema.TRIGGERS"},
    {"routines", NULL,
        "SELECT LOWER(ROUTINE_TYPE), ROUTINE_SCHEMA, ROUTINE_NAME, NULL, "
        "CONCAT_WS(' ', DTD_IDENTIFIER, IS_DETERMINISTIC, SQL_DATA_ACCESS, "
        "SECURITY_TYPE), ROUTINE_DEFINITION FROM information_schema.ROUTINES"},
    {"events", "EVENT",
        "SELECT 'event', EVENT_SCHEMA, EVENT_NAME, NULL, CONCAT_WS(' ', "
        "EVENT_TYPE, EXECUTE_AT, INTERVAL_VALUE, INTERVAL_FIELD, "
        "ON_COMPLETION), EVENT_DEFINITION FROM information_schema.EVENTS"},
};

static int
obj_cmp(const void *a, const void *b)
{
	const struct obj *x = a, *y = b;
	int c;

	if ((c = strcmp(x->kind, y->kind)) != 0 ||
	    (c = strcmp(x->db, y->db)) != 0)
		return c;
	return strcmp(x->name, y->name);
}

/* A body as compared: srdf-apply's trigger guard taken off, or that of
 * its earlier builds (on either side: a promoted target becomes a
 * source), trailing blanks and semicolons dropped. */
static char *
obj_body(const char *kind, const char *s)
{
	const char *in = s;
	size_t n = strlen(s);
	char *b;

	if (strcmp(kind, "trigger") == 0 &&
	    !sql_trigger_unguarded(s, n, SQL_TRIGGER_GUARD, &in, &n))
		sql_trigger_unguarded(s, n, SQL_TRIGGER_GUARD_V1, &in, &n);
	while (n > 0 &&
	       (in[n - 1] == ';' || in[n - 1] == ' ' || in[n - 1] == '\t' ||
	           in[n - 1] == '\n' || in[n - 1] == '\r'))
		n--;
	b = xcalloc(n + 1, 1);
	memcpy(b, in, n);
	b[n] = '\0';
	return b;
}

/* The selected objects of kind k on one side, sorted; *n of them. */
static struct obj *
objects_of(struct verify *v, MYSQL *my, const char *side,
    const struct objkind *k, size_t *n)
{
	const struct config *cf = v->cf;
	MYSQL_RES *r = query(v, my, side, k->q);
	MYSQL_ROW row;
	struct obj *o;

	*n = 0;
	if (r == NULL)
		return xcalloc(1, sizeof *o);
	o = xcalloc(mysql_num_rows(r) + 1, sizeof *o);
	while ((row = mysql_fetch_row(r)) != NULL) {
		struct obj *x;

		if (row[3] != NULL
		        ? !selected(cf, row[1], row[3])
		        : !maria_db_selected(cf->databases, cf->include,
		              cf->ninclude, cf->exclude, cf->nexclude, row[1]))
			continue;
		x = &o[(*n)++];
		x->kind = xstrdup(row[0]);
		x->db = xstrdup(row[1]);
		x->name = xstrdup(row[2]);
		x->head = xstrdup(row[4] ? row[4] : "");
		x->body = row[5] != NULL ? obj_body(row[0], row[5]) : NULL;
	}
	mysql_free_result(r);
	qsort(o, *n, sizeof *o, obj_cmp);
	return o;
}

static void
objects_free(struct obj *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(o[i].kind);
		free(o[i].db);
		free(o[i].name);
		free(o[i].head);
		free(o[i].body);
	}
	free(o);
}

/* Compares the views, triggers, routines and events of the selection
 * on both sides: each must be on both, with the same head and body (a
 * body one account cannot see is not compared).  A kind an account
 * cannot see whole (no SHOW VIEW, TRIGGER, EVENT privilege) is not
 * compared, with a warning.  Sets v->objects to those that differ. */
static void
compare_objects(struct verify *v)
{
	json_decref(v->objects);
	json_decref(v->not_compared);
	v->objects = json_array();
	v->not_compared = json_array();
	v->nobjects = 0;
	for (size_t k = 0; k < sizeof objkinds / sizeof *objkinds; k++) {
		const struct objkind *ok = &objkinds[k];
		struct obj *a, *b;
		size_t na, nb, i = 0, j = 0;

		if (ok->priv != NULL &&
		    (!maria_has_privilege(v->src, ok->priv) ||
		        !maria_has_privilege(v->dst, ok->priv))) {
			log_warn("%s not compared: the %s account has no %s "
			         "privilege",
			    ok->what,
			    !maria_has_privilege(v->src, ok->priv) ? "source"
			                                           : "target",
			    ok->priv);
			json_array_append_new(
			    v->not_compared, json_string(ok->what));
			continue;
		}
		a = objects_of(
		    v, v->src, "cannot list the source's objects", ok, &na);
		b = objects_of(
		    v, v->dst, "cannot list the target's objects", ok, &nb);
		while (i < na || j < nb) {
			int c = i == na   ? 1
			        : j == nb ? -1
			                  : obj_cmp(&a[i], &b[j]);
			const struct obj *x = c <= 0 ? &a[i] : &b[j];
			const char *st = NULL;

			if (c < 0)
				st = "missing";
			else if (c > 0)
				st = "extra";
			else if (strcmp(a[i].head, b[j].head) != 0 ||
			         (a[i].body != NULL && b[j].body != NULL &&
			             strcmp(a[i].body, b[j].body) != 0))
				st = "definition";
			v->nobjects++;
			if (st != NULL)
				json_array_append_new(v->objects,
				    json_pack("{s:s,s:s,s:s,s:s}", "type",
				        x->kind, "db", x->db, "name", x->name,
				        "status", st));
			i += c <= 0;
			j += c >= 0;
		}
		objects_free(a, na);
		objects_free(b, nb);
	}
}

/* ---- accounts ---------------------------------------------------------- */

/* One account: "'user'@'host'" and what SHOW GRANTS says of it (its
 * password hash included), NULL when that cannot be read. */
struct acct {
	char *name, *grants;
};

static int
acct_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct acct *)a)->name, ((const struct acct *)b)->name);
}

/* The accounts and roles of one side, sorted; *n of them, or NULL (with
 * *why) when the account cannot read mysql.global_priv. */
static struct acct *
accounts_of(MYSQL *my, size_t *n, const char **why)
{
	MYSQL_RES *r, *g;
	MYSQL_ROW row;
	struct acct *a;
	struct buf q = {0};

	*n = 0;
	if (mysql_query(my, "SELECT CONCAT(QUOTE(User), '@', QUOTE(Host)) "
	                    "FROM mysql.global_priv") != 0 ||
	    (r = mysql_store_result(my)) == NULL) {
		*why = "cannot read mysql.global_priv (grant SELECT ON mysql.* "
		       "to both accounts)";
		return NULL;
	}
	a = xcalloc(mysql_num_rows(r) + 1, sizeof *a);
	while ((row = mysql_fetch_row(r)) != NULL) {
		struct acct *x = &a[(*n)++];

		x->name = xstrdup(row[0] ? row[0] : "");
		q.len = 0;
		buf_lit(&q, "SHOW GRANTS FOR ");
		buf_puts(&q, x->name);
		buf_putc(&q, '\0');
		if (mysql_query(my, q.p) == 0 &&
		    (g = mysql_store_result(my)) != NULL) {
			struct buf all = {0};
			MYSQL_ROW l;

			while ((l = mysql_fetch_row(g)) != NULL) {
				buf_puts(&all, l[0] ? l[0] : "");
				buf_putc(&all, '\n');
			}
			buf_putc(&all, '\0');
			x->grants = all.p;
			mysql_free_result(g);
		}
	}
	mysql_free_result(r);
	buf_free(&q);
	qsort(a, *n, sizeof *a, acct_cmp);
	return a;
}

static void
accounts_free(struct acct *a, size_t n)
{
	for (size_t i = 0; a != NULL && i < n; i++) {
		free(a[i].name);
		free(a[i].grants);
	}
	free(a);
}

/* --accounts: the accounts and roles of the two servers, which srdf does
 * not replicate (srdf-promote(1), CAVEATS): each must be on both, with
 * the same grants and password (SHOW GRANTS).  Sets v->accounts to those
 * that differ; they are reported, not counted as drift. */
static void
compare_accounts(struct verify *v)
{
	struct acct *a, *b;
	size_t na = 0, nb = 0, i = 0, j = 0;
	const char *why = NULL;

	a = accounts_of(v->src, &na, &why);
	b = a != NULL ? accounts_of(v->dst, &nb, &why) : NULL;
	if (a == NULL || b == NULL) {
		v->accounts_not = why;
		log_warn("accounts not compared: the %s account %s",
		    a == NULL ? "source" : "target", why);
		accounts_free(a, na);
		return;
	}
	v->accounts = json_array();
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : acct_cmp(&a[i], &b[j]);
		const struct acct *x = c <= 0 ? &a[i] : &b[j];
		const char *st = NULL;

		if (c < 0)
			st = "missing";
		else if (c > 0)
			st = "extra";
		else if ((a[i].grants == NULL) != (b[j].grants == NULL) ||
		         (a[i].grants != NULL &&
		             strcmp(a[i].grants, b[j].grants) != 0))
			st = "grants"; /* unreadable on both: not compared */
		v->naccounts++;
		if (st != NULL)
			json_array_append_new(
			    v->accounts, json_pack("{s:s,s:s}", "account",
			                     x->name, "status", st));
		i += c <= 0;
		j += c >= 0;
	}
	accounts_free(a, na);
	accounts_free(b, nb);
}

/* ---- report -------------------------------------------------------------- */

static const char *
status(const struct vtable *t)
{
	if (t->missing)
		return "missing";
	if (t->problem)
		return "definition";
	return t->differs ? "drift" : t->indexes ? "definition" : "equal";
}

static json_t *
bound_json(const struct vtable *t, char **lits)
{
	json_t *o;

	if (lits == NULL)
		return json_null();
	o = json_object();
	for (int i = 0; i < t->m.npk; i++)
		json_object_set_new(
		    o, t->m.col[t->m.pk[i]].name, json_string(lits[i]));
	return o;
}

static int
report_json(struct verify *v, int drift)
{
	json_t *doc = json_object(), *tabs = json_array();
	char *s;

	for (int i = 0; i < v->nt; i++) {
		struct vtable *t = v->t[i];
		json_t *o = json_object(), *chunks = json_array();
		int ndiff = 0;

		for (int k = 0; k < t->nch; k++) {
			struct chunk *c = &t->ch[k];

			if (!c->differs)
				continue;
			ndiff++;
			json_array_append_new(chunks,
			    json_pack("{s:i,s:o,s:o,s:{s:I,s:s},s:{s:I,s:s}}",
			        "chunk", k + 1, "lower", bound_json(t, c->lo),
			        "upper", bound_json(t, c->hi), "source", "rows",
			        (json_int_t)c->src_rows, "checksum", c->src_sum,
			        "target", "rows", (json_int_t)c->dst_rows,
			        "checksum", c->dst_sum));
		}
		json_object_set_new(o, "db", json_string(t->m.db));
		json_object_set_new(o, "table", json_string(t->m.name));
		json_object_set_new(o, "status", json_string(status(t)));
		json_object_set_new(o, "method",
		    json_string(t->ck ? "checksum-table" : "chunks"));
		json_object_set_new(
		    o, "rows", json_integer((json_int_t)t->rows));
		json_object_set_new(o, "chunks", json_integer(t->nch));
		json_object_set_new(o, "differing_chunks", chunks);
		json_object_set_new(
		    o, "missing_on_target", json_incref(t->missing_keys));
		json_object_set_new(
		    o, "extra_on_target", json_incref(t->extra_keys));
		json_object_set_new(o, "changed", json_incref(t->changed_keys));
		if (t->problem)
			json_object_set_new(
			    o, "problem", json_string(t->problem));
		if (t->indexes)
			json_object_set_new(
			    o, "indexes", json_string(t->indexes));
		if (t->m.npk == 0 && t->differs)
			json_object_set_new(o, "problem",
			    json_string(
			        "no primary key: the differing rows cannot be "
			        "named"));
		(void)ndiff;
		json_array_append_new(tabs, o);
	}
	json_object_set_new(doc, "equal", json_boolean(!drift));
	json_object_set_new(doc, "source_gtid", json_string(v->src_pos));
	json_object_set_new(doc, "target_gtid",
	    v->dst_pos ? json_string(v->dst_pos) : json_null());
	json_object_set_new(doc, "tables", tabs);
	json_object_set_new(
	    doc, "extra_tables_on_target", json_incref(v->extra_tables));
	json_object_set_new(
	    doc, "objects_compared", json_integer((json_int_t)v->nobjects));
	json_object_set_new(doc, "objects", json_incref(v->objects));
	json_object_set_new(
	    doc, "objects_not_compared", json_incref(v->not_compared));
	if (v->cf->accounts) {
		json_object_set_new(doc, "accounts_compared",
		    v->accounts ? json_integer((json_int_t)v->naccounts)
		                : json_null());
		json_object_set_new(doc, "accounts",
		    v->accounts ? json_incref(v->accounts) : json_null());
	}
	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s == NULL)
		die(EX_OSERR, "out of memory");
	puts(s);
	free(s);
	json_decref(doc);
	return 0;
}

static void
print_keys(const char *label, json_t *a)
{
	size_t i;
	json_t *k;
	char *s;

	if (json_array_size(a) == 0)
		return;
	printf("    %s:", label);
	json_array_foreach(a, i, k)
	{
		const char *name;
		json_t *val;
		int first = 1;

		if (i >= 20) {
			printf(" ... (%zu in all)", json_array_size(a));
			break;
		}
		printf(" ");
		if (json_object_size(k) > 1)
			printf("(");
		json_object_foreach(k, name, val)
		{
			s = json_dumps(val, JSON_ENCODE_ANY);
			printf("%s%s=%s", first ? "" : ",", name, s ? s : "?");
			free(s);
			first = 0;
		}
		if (json_object_size(k) > 1)
			printf(")");
	}
	printf("\n");
}

/* Prints name left-aligned in a column of width characters: padded by
 * UTF-8 characters, not bytes, so that a name like `dé`.`日本` lines up
 * with the others (a wide character counts as one). */
static void
print_name(const char *name, int width)
{
	int n = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		n += (*p & 0xC0) != 0x80;
	fputs(name, stdout);
	for (; n < width; n++)
		putchar(' ');
}

static void
report_text(struct verify *v, int drift)
{
	size_t i;
	json_t *e;

	printf("%-40s %12s %8s  %s\n", "table", "rows", "chunks", "status");
	for (int k = 0; k < v->nt; k++) {
		struct vtable *t = v->t[k];
		int nd = 0;

		for (int c = 0; c < t->nch; c++)
			nd += t->ch[c].differs;
		print_name(t->key, 40);
		printf(" %12" PRIu64 " %8d  %s", t->rows, t->nch,
		    t->missing   ? "MISSING on the target"
		    : t->problem ? "DEFINITION differs"
		    : t->differs ? "DRIFT"
		    : t->indexes ? "DEFINITION differs"
		                 : "equal");
		if (t->differs && !t->missing && !t->problem)
			printf(" (%d of %d chunk%s%s)", nd, t->nch,
			    t->nch == 1 ? "" : "s",
			    t->ck ? ", CHECKSUM TABLE: no primary key" : "");
		printf("\n");
		if (t->problem)
			printf("    %s\n", t->problem);
		if (t->indexes)
			printf("    %s\n", t->indexes);
		print_keys("missing on the target", t->missing_keys);
		print_keys("extra on the target", t->extra_keys);
		print_keys("changed", t->changed_keys);
	}
	json_array_foreach(v->extra_tables, i, e)
	{
		print_name(json_string_value(e), 40);
		printf(" %12s %8s  %s\n", "-", "-", "EXTRA on the target");
	}
	json_array_foreach(v->objects, i, e)
	{
		const char *st =
		    json_string_value(json_object_get(e, "status"));
		char name[300];

		snprintf(name, sizeof name, "%s %s.%s",
		    json_string_value(json_object_get(e, "type")),
		    json_string_value(json_object_get(e, "db")),
		    json_string_value(json_object_get(e, "name")));
		print_name(name, 40);
		printf(" %12s %8s  %s\n", "-", "-",
		    strcmp(st, "missing") == 0 ? "MISSING on the target"
		    : strcmp(st, "extra") == 0 ? "EXTRA on the target"
		                               : "DEFINITION differs");
	}
	printf("views, triggers, routines, events: %zu compared, %zu "
	       "differ%s\n",
	    v->nobjects, json_array_size(v->objects),
	    json_array_size(v->not_compared) > 0 ? " (some kinds not "
	                                           "compared: see the warnings)"
	                                         : "");
	if (v->cf->accounts && v->accounts == NULL)
		printf("accounts: not compared: %s\n", v->accounts_not);
	else if (v->cf->accounts) {
		json_array_foreach(v->accounts, i, e)
		{
			const char *st =
			    json_string_value(json_object_get(e, "status"));
			char name[300];

			snprintf(name, sizeof name, "account %s",
			    json_string_value(json_object_get(e, "account")));
			print_name(name, 40);
			printf(" %12s %8s  %s\n", "-", "-",
			    strcmp(st, "missing") == 0 ? "MISSING on the target"
			    : strcmp(st, "extra") == 0
			        ? "EXTRA on the target"
			        : "GRANTS or password differ");
		}
		printf("accounts and roles: %zu compared, %zu differ (not "
		       "replicated; not counted as drift)\n",
		    v->naccounts, json_array_size(v->accounts));
	}
	printf("%s: source at GTID position '%s'%s%s%s\n",
	    drift ? "DRIFT" : "equal", v->src_pos,
	    v->dst_pos ? ", target at '" : "", v->dst_pos ? v->dst_pos : "",
	    v->dst_pos ? "'" : "");
}

/* ---- main ------------------------------------------------------------- */

/* The options into *cf; exits on a usage error, --help, --version. */
static void
parse_options(int argc, char **argv, struct config *cf)
{
	static const struct option opts[] = {
	    {"accounts", no_argument, NULL, 'A'},
	    {"chunk-rows", required_argument, NULL, 'c'},
	    {"databases", required_argument, NULL, 'D'},
	    {"defaults-group", required_argument, NULL, 'G'},
	    {"exclude", required_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {"include", required_argument, NULL, 'i'},
	    {"json", no_argument, NULL, 'j'},
	    {"source", required_argument, NULL, 's'},
	    {"target", required_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"wait-seconds", required_argument, NULL, 'w'},
	    {"repair", no_argument, NULL, 'R'},
	    {"dir", required_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	size_t capi = 0, capx = 0;
	int ch;

	cf->group = "srdf-verify";
	cf->dir = getenv("SRDF_DIR") ? getenv("SRDF_DIR") : "/var/lib/srdf";
	cf->chunk_rows = DEFAULT_CHUNK_ROWS;
	cf->wait_s = DEFAULT_WAIT;
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cf->chunk_rows =
			    opt_count(optarg, "--chunk-rows", 1, 100000000);
			break;
		case 'A':
			cf->accounts = 1;
			break;
		case 'R':
			cf->repair = 1;
			break;
		case 'd':
			cf->dir = optarg;
			break;
		case 'D':
			cf->databases = optarg;
			break;
		case 'G':
			cf->group = optarg;
			break;
		case 'i':
			cf->include = xgrow(cf->include, &capi,
			    (size_t)cf->ninclude + 1, sizeof *cf->include);
			cf->include[cf->ninclude++] = optarg;
			break;
		case 'x':
			cf->exclude = xgrow(cf->exclude, &capx,
			    (size_t)cf->nexclude + 1, sizeof *cf->exclude);
			cf->exclude[cf->nexclude++] = optarg;
			break;
		case 'j':
			cf->json = 1;
			break;
		case 's':
			cf->source = optarg;
			break;
		case 't':
			cf->target = optarg;
			break;
		case 'v':
			log_set_verbose(1);
			break;
		case 'w':
			cf->wait_s =
			    (int)opt_count(optarg, "--wait-seconds", 0, 86400);
			break;
		default:
			opt_std(ch, "srdf-verify", usage);
		}
	}
	if (optind != argc || cf->source == NULL || cf->target == NULL) {
		if (optind == argc)
			log_err("--source and --target are required");
		usage(stderr);
		exit(EX_USAGE);
	}
}

/* Both sides open, the source's position read, the tables listed. */
static void
setup(struct verify *v, const struct config *cf)
{
	v->cf = cf;
	v->src = open_side(cf, cf->source, "the source");
	v->dst = open_side(cf, cf->target, "the target");
	if ((v->src_pos = maria_query_one(
	         v->src, "SELECT @@gtid_binlog_pos")) == NULL)
		v->src_pos = xstrdup("");
	load_tables(v);
}

/* The first checksums of every table; returns how many differ. */
static int
first_pass(struct verify *v)
{
	int suspects = 0;

	for (int i = 0; i < v->nt && v->err == 0; i++) {
		struct vtable *t = v->t[i];

		if (t->missing || t->problem)
			continue;
		/* CHECKSUM TABLE of a system-versioned table covers its
		 * history and periods, each side's own, and that of a table
		 * with VIRTUAL columns is not stable (MariaDB 10.11 sums
		 * their stale record bytes): their rows are hashed as one
		 * chunk instead. */
		t->ck = t->m.npk == 0 && !t->m.versioned && t->m.nvirtual == 0;
		if (t->m.npk == 0) {
			t->ch = xcalloc(1, sizeof *t->ch);
			t->nch = 1;
		} else
			find_chunks(v, t);
		check(v, t, 0);
		suspects += t->differs;
		log_debug("%s: %d chunk(s), %s", t->key, t->nch,
		    t->differs ? "differs" : "equal");
	}
	return suspects;
}

/* What differed, once the target has caught up: checked again, and the
 * rows of the chunks that still differ compared. */
static void
second_pass(struct verify *v)
{
	await_target(v);
	if (json_array_size(v->objects) > 0)
		compare_objects(v);
	for (int i = 0; i < v->nt && v->err == 0; i++) {
		struct vtable *t = v->t[i];

		if (!t->differs || t->missing || t->problem)
			continue;
		check(v, t, 1);
		if (t->differs && t->m.npk > 0)
			for (int k = 0; k < t->nch; k++)
				if (t->ch[k].differs)
					compare_rows(v, t, &t->ch[k]);
	}
}

/* The comparison and its report on stdout; returns the exit status: 1
 * drift, 0 equal, or that of a query that failed (v->err, no report),
 * EX_IOERR when the report cannot be written (both logged). */
static int report_out(struct verify *v, int drift);

static int
run(struct verify *v, int report)
{
	int drift = 0, suspects;

	if (v->err != 0) /* in setup */
		return v->err;
	suspects = first_pass(v);
	if (v->err == 0)
		compare_objects(v);
	if (v->err == 0 && (suspects > 0 || json_array_size(v->objects) > 0))
		second_pass(v);
	if (v->err == 0 && v->cf->accounts)
		compare_accounts(v);
	if (v->err != 0)
		return v->err;
	for (int i = 0; i < v->nt; i++)
		drift |= v->t[i]->differs || v->t[i]->indexes != NULL;
	drift |= json_array_size(v->extra_tables) > 0;
	drift |= json_array_size(v->objects) > 0;
	return report ? report_out(v, drift) : drift;
}

/* The report of drift (1 or 0) on stdout; returns drift, or EX_IOERR
 * when it cannot be written (logged). */
static int
report_out(struct verify *v, int drift)
{
	if (v->cf->json)
		report_json(v, drift);
	else
		report_text(v, drift);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_err("cannot write the report: %s", strerror(errno));
		return EX_IOERR;
	}
	return drift;
}

/* ---- --repair ---------------------------------------------------------- */

/* The path of srdf-bootstrap: beside this program, else on PATH. */
static const char *
bootstrap_path(char *buf, size_t n)
{
	ssize_t k = readlink("/proc/self/exe", buf, n - 32);
	char *slash;

	if (k > 0) {
		buf[k] = '\0';
		if ((slash = strrchr(buf, '/')) != NULL) {
			strcpy(slash + 1, "srdf-bootstrap");
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return "srdf-bootstrap";
}

/* key literals lits (npk of them) as a JSON array text (malloc'd). */
static char *
lits_json(const struct vtable *t, char **lits)
{
	json_t *a = json_array();
	char *s;

	for (int i = 0; i < t->m.npk; i++)
		json_array_append_new(a, json_string(lits[i]));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* srdf-bootstrap --resync of t's range c (all of t when c is NULL or
 * unbounded): 0, or its exit status (-1: it could not be run). */
static int
repair_range(struct verify *v, const struct vtable *t, const struct chunk *c)
{
	char path[4096], *after = NULL, *upto = NULL;
	const char *argv[20];
	int n = 0, st = 0;
	pid_t pid;

	argv[n++] = bootstrap_path(path, sizeof path);
	argv[n++] = "--defaults-file";
	argv[n++] = v->cf->source;
	argv[n++] = "--defaults-group";
	argv[n++] = v->cf->group;
	argv[n++] = "--dir";
	argv[n++] = v->cf->dir;
	argv[n++] = "--resync";
	argv[n++] = t->key;
	if (c != NULL && c->lo != NULL) {
		after = lits_json(t, c->lo);
		argv[n++] = "--resync-after";
		argv[n++] = after;
	}
	if (c != NULL && c->hi != NULL) {
		upto = lits_json(t, c->hi);
		argv[n++] = "--resync-upto";
		argv[n++] = upto;
	}
	argv[n] = NULL;
	log_info("repairing %s%s%s%s%s", t->key, after ? " after " : "",
	    after ? after : "", upto ? " up to " : "", upto ? upto : "");
	fflush(NULL);
	if ((pid = fork()) < 0) {
		log_err("cannot start %s: %s", argv[0], strerror(errno));
		st = -1;
	} else if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		log_err("cannot run %s: %s", argv[0], strerror(errno));
		_exit(EX_UNAVAILABLE);
	} else if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st)) {
		log_err("%s did not end normally", argv[0]);
		st = -1;
	} else
		st = WEXITSTATUS(st);
	free(after);
	free(upto);
	return st;
}

/* The chunks that still differ, copied again through the pipeline by
 * srdf-bootstrap --resync, one key range each (srdf-verify(1),
 * "Repair").  Returns how many were, or -1 when one could not be (the
 * rest are not tried); *left counts what cannot be repaired so. */
static int
repair(struct verify *v, int *left)
{
	int n = 0;

	*left = 0;
	for (int i = 0; i < v->nt; i++) {
		struct vtable *t = v->t[i];

		if (!t->differs)
			continue;
		if (t->missing || t->problem || t->m.versioned) {
			log_warn(
			    "%s cannot be repaired online (%s): copy it with "
			    "srdf-bootstrap --restart, or put it right by "
			    "hand",
			    t->key,
			    t->missing   ? "missing on the target"
			    : t->problem ? t->problem
			                 : "system-versioned");
			(*left)++;
			continue;
		}
		/* No key ranges (no primary key, or compared whole): the
		 * table again, whole, in one chunk. */
		if (t->m.npk == 0 || !t->m.keyset) {
			int st;

			if ((st = repair_range(v, t, NULL)) != 0) {
				log_err("srdf-bootstrap --resync %s failed "
				        "(%d): the repair stops",
				    t->key, st);
				return -1;
			}
			n++;
			continue;
		}
		for (int k = 0; k < t->nch; k++) {
			int st;

			if (!t->ch[k].differs)
				continue;
			if ((st = repair_range(v, t, &t->ch[k])) != 0) {
				log_err("srdf-bootstrap --resync %s failed "
				        "(%d): the repair stops",
				    t->key, st);
				return -1;
			}
			n++;
		}
	}
	return n;
}

static void
vtable_free(struct vtable *t)
{
	for (int b = 0; b < t->nbounds; b++) {
		for (int k = 0; k < t->m.npk; k++)
			free(t->bounds[b][k]);
		free(t->bounds[b]);
	}
	free(t->bounds);
	free(t->ch);
	buf_free(&t->hash);
	buf_free(&t->cols);
	json_decref(t->missing_keys);
	json_decref(t->extra_keys);
	json_decref(t->changed_keys);
	maria_table_free(&t->m);
	free(t->key);
	free(t->problem);
	free(t->indexes);
	free(t);
}

static void
verify_free(struct verify *v)
{
	for (int i = 0; i < v->nt; i++)
		vtable_free(v->t[i]);
	free(v->t);
	json_decref(v->extra_tables);
	json_decref(v->objects);
	json_decref(v->not_compared);
	json_decref(v->accounts);
	free(v->src_pos);
	free(v->dst_pos);
	mysql_close(v->src);
	mysql_close(v->dst);
}

int
main(int argc, char **argv)
{
	struct config cf = {0};
	struct verify v = {0};
	int ex;

	log_init(argv[0]);
	parse_options(argc, argv, &cf);
	setup(&v, &cf);
	ex = run(&v, 1);
	if (cf.repair && ex == 1) {
		int left, n = repair(&v, &left);

		if (n > 0) {
			log_info("%d chunk(s) copied again through the "
			         "pipeline%s; comparing again",
			    n, left ? " (some tables cannot be)" : "");
			verify_free(&v);
			memset(&v, 0, sizeof v);
			setup(&v, &cf);
			ex = run(&v, 1);
		}
	}
	verify_free(&v);
	free(cf.include);
	free(cf.exclude);
	return ex;
}
