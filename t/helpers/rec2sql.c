/*
 * rec2sql — test helper: srdf-record(5) lines on stdin to SQL on stdout,
 * one statement per row change, each source transaction in its own
 * START TRANSACTION ... COMMIT.  It is the simplest possible applier, so
 * the capture tests can prove the records lossless by replaying them into
 * a real server and comparing CHECKSUM TABLE; srdf-apply is the real one.
 *
 * It also applies consistency groups (srdf-dedup's output): a group is
 * one target transaction, START TRANSACTION at group_begin chunk 1,
 * COMMIT at the group_end with "last":true (a chunk 1 while a chunked
 * group is open rolls the open one back).  A whole folded group is
 * applied as a net delta, the strategy that makes the folded form safe
 * with secondary UNIQUE keys (two rows swapping a value): first DELETE
 * every row of a table with a primary key that has a before-image
 * (update, delete), then INSERT every after-image (insert, update);
 * rows of tables without a primary key are applied in their order.  A
 * group folds each row to one record, so every key occurs once and the
 * delta is exact.  The chunks of a streamed transaction are not folded:
 * their rows, a DDL group's records and those of an XA group are
 * applied in order; framing records inside a group (begin, commit,
 * xa_prepare, xa_end) are skipped — XA is not modelled here.  The
 * session runs with foreign_key_checks=0, so the order inside a group
 * does not matter for foreign keys.
 *
 * With --split, a group whose group_end says "split":true is applied as
 * its pieces between trx records, each a net delta in a transaction of
 * its own: what srdf-apply --until and srdf-rewind rely on when they
 * cut a group at a transaction boundary (srdf-dedup(1), "Transaction
 * boundaries").  The number of cuts made goes to stderr.
 * Exit 65 on a malformed record.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "buf.h"
#include "log.h"
#include "record.h"
#include "sql.h"

static void
where(struct buf *b, json_t *rec, json_t *img)
{
	json_t *pk = json_object_get(rec, "pk"), *v;
	const char *k;
	size_t i;
	int first = 1;

	buf_lit(b, " WHERE ");
	if (json_array_size(pk) > 0) {
		json_array_foreach(pk, i, v)
		{
			k = json_string_value(v);
			if (!first)
				buf_lit(b, " AND ");
			first = 0;
			sql_ident(b, k);
			buf_lit(b, "<=>");
			if (sql_literal(b, json_object_get(img, k)) < 0)
				die(EX_DATAERR, "bad value for %s", k);
		}
		return;
	}
	json_object_foreach(img, k, v)
	{
		if (!first)
			buf_lit(b, " AND ");
		first = 0;
		sql_ident(b, k);
		buf_lit(b, "<=>");
		if (sql_literal(b, v) < 0)
			die(EX_DATAERR, "bad value for %s", k);
	}
	buf_lit(b, " LIMIT 1");
}

static void
table(struct buf *b, json_t *rec)
{
	sql_ident(b, json_string_value(json_object_get(rec, "db")));
	buf_putc(b, '.');
	sql_ident(b, json_string_value(json_object_get(rec, "table")));
}

/* Deletes the row of a before-image by its primary key. */
static void
del_row(struct buf *b, json_t *rec)
{
	buf_lit(b, "DELETE FROM ");
	table(b, rec);
	where(b, rec, json_object_get(rec, "before"));
	buf_lit(b, ";\n");
}

static void
set_list(struct buf *b, json_t *img)
{
	json_t *v;
	const char *k;
	int first = 1;

	json_object_foreach(img, k, v)
	{
		if (!first)
			buf_putc(b, ',');
		first = 0;
		sql_ident(b, k);
		buf_putc(b, '=');
		if (sql_literal(b, v) < 0)
			die(EX_DATAERR, "bad value for %s", k);
	}
}

static void
ins_row(struct buf *b, json_t *rec)
{
	buf_lit(b, "INSERT INTO ");
	table(b, rec);
	buf_lit(b, " SET ");
	set_list(b, json_object_get(rec, "after"));
	buf_lit(b, ";\n");
}

/* The statement of one row or DDL record, as the source ran it. */
static void
stmt(struct buf *b, json_t *rec, const char *type)
{
	if (strcmp(type, "ddl") == 0) {
		const char *db = json_string_value(json_object_get(rec, "db"));
		const char *q = json_string_value(json_object_get(rec, "sql"));

		/* CREATE/DROP DATABASE name their database as default */
		if (db && *db && strncasecmp(q, "create database", 15) != 0 &&
		    strncasecmp(q, "drop database", 13) != 0 &&
		    strncasecmp(q, "create schema", 13) != 0 &&
		    strncasecmp(q, "drop schema", 11) != 0) {
			buf_lit(b, "USE ");
			sql_ident(b, db);
			buf_lit(b, ";\n");
		}
		buf_printf(b, "%s;\n", q);
	} else if (strcmp(type, "insert") == 0) {
		ins_row(b, rec);
	} else if (strcmp(type, "update") == 0) {
		buf_lit(b, "UPDATE ");
		table(b, rec);
		buf_lit(b, " SET ");
		set_list(b, json_object_get(rec, "after"));
		where(b, rec, json_object_get(rec, "before"));
		buf_lit(b, ";\n");
	} else if (strcmp(type, "delete") == 0) {
		del_row(b, rec);
	}
}

static int
keyed(json_t *rec)
{
	return json_array_size(json_object_get(rec, "pk")) > 0;
}

/* The records of one group chunk, applied at its group_end. */
struct chunk {
	json_t **rec;
	size_t n, cap;
	int rows_only; /* nothing but row records */
};

static int
is_trx(json_t *rec)
{
	return strcmp(json_string_value(json_object_get(rec, "type")), "trx") ==
	       0;
}

/* The records [from, to) of c, trx records skipped. */
static void
range_apply(
    struct buf *b, struct chunk *c, size_t from, size_t to, int net_delta)
{
	const char *type;
	size_t i;

	if (!net_delta) {
		for (i = from; i < to; i++)
			if (!is_trx(c->rec[i]))
				stmt(b, c->rec[i],
				    json_string_value(
				        json_object_get(c->rec[i], "type")));
		return;
	}
	for (i = from; i < to; i++) {
		type = json_string_value(json_object_get(c->rec[i], "type"));
		if (!is_trx(c->rec[i]) && keyed(c->rec[i]) &&
		    strcmp(type, "insert") != 0)
			del_row(b, c->rec[i]);
	}
	for (i = from; i < to; i++) {
		type = json_string_value(json_object_get(c->rec[i], "type"));
		if (!is_trx(c->rec[i]) && keyed(c->rec[i]) &&
		    strcmp(type, "delete") != 0)
			ins_row(b, c->rec[i]);
	}
	for (i = from; i < to; i++)
		if (!is_trx(c->rec[i]) && !keyed(c->rec[i]))
			stmt(b, c->rec[i],
			    json_string_value(
			        json_object_get(c->rec[i], "type")));
}

static unsigned long cuts;

/* The chunk; with split, each piece up to a trx record committed on its
 * own. */
static void
chunk_apply(struct buf *b, struct chunk *c, int net_delta, int split)
{
	size_t from = 0;

	if (split)
		for (size_t i = 0; i + 1 < c->n; i++)
			if (is_trx(c->rec[i])) {
				range_apply(b, c, from, i + 1, net_delta);
				buf_lit(b, "COMMIT;\nSTART TRANSACTION;\n");
				from = i + 1;
				cuts++;
			}
	range_apply(b, c, from, c->n, net_delta);
}

static void
chunk_clear(struct chunk *c)
{
	for (size_t i = 0; i < c->n; i++)
		json_decref(c->rec[i]);
	c->n = 0;
	c->rows_only = 1;
}

int
main(int argc, char **argv)
{
	struct record_reader r;
	struct buf b = {0};
	struct chunk c = {0};
	json_t *rec;
	const char *type;
	int rc, in_group = 0, open_txn = 0, flush, split;

	log_init(argv[0]);
	split = argc > 1 && strcmp(argv[1], "--split") == 0;
	c.rows_only = 1;
	puts("SET time_zone='+00:00', sql_mode='NO_AUTO_VALUE_ON_ZERO,"
	     "NO_ENGINE_SUBSTITUTION', foreign_key_checks=0, NAMES utf8mb4;");
	record_reader_init(&r, stdin, "stdin");
	while ((rc = record_next(&r, &rec)) == 1) {
		type = json_string_value(json_object_get(rec, "type"));
		b.len = 0;
		flush = 0;
		if (strcmp(type, "group_begin") == 0) {
			if (json_integer_value(json_object_get(rec, "chunk")) ==
			    1) {
				if (open_txn)
					buf_lit(&b, "ROLLBACK;\n");
				buf_lit(&b, "START TRANSACTION;\n");
				open_txn = 1;
			}
			in_group = 1;
			chunk_clear(&c);
			json_decref(rec);
		} else if (strcmp(type, "group_end") == 0) {
			int last = json_is_true(json_object_get(rec, "last"));
			int one = last && json_integer_value(json_object_get(
			                      rec, "chunk")) == 1;

			chunk_apply(&b, &c, one && c.rows_only,
			    split && one &&
			        json_is_true(json_object_get(rec, "split")));
			chunk_clear(&c);
			if (last) {
				buf_lit(&b, "COMMIT;\n");
				open_txn = 0;
			}
			in_group = 0;
			flush = 1;
			json_decref(rec);
		} else if (in_group) {
			if (strcmp(type, "insert") == 0 ||
			    strcmp(type, "update") == 0 ||
			    strcmp(type, "delete") == 0 ||
			    strcmp(type, "ddl") == 0 ||
			    strcmp(type, "trx") == 0) {
				c.rec =
				    realloc(c.rec, sizeof *c.rec * (c.n + 1));
				if (c.rec == NULL)
					die(EX_OSERR, "out of memory");
				c.rec[c.n++] = rec;
				if (strcmp(type, "ddl") == 0)
					c.rows_only = 0;
			} else {
				c.rows_only = 0; /* an XA group: in order */
				json_decref(rec);
			}
		} else {
			if (strcmp(type, "begin") == 0)
				buf_lit(&b, "START TRANSACTION;\n");
			else if (strcmp(type, "commit") == 0)
				buf_lit(&b, "COMMIT;\n");
			else if (strcmp(type, "abort") == 0)
				buf_lit(&b, "ROLLBACK;\n");
			else
				stmt(&b, rec, type);
			flush = strcmp(type, "commit") == 0 ||
			        strcmp(type, "abort") == 0;
			json_decref(rec);
		}
		fwrite(b.p, 1, b.len, stdout);
		if (flush)
			fflush(stdout); /* a follower sees each transaction */
	}
	if (rc < 0)
		die(EX_DATAERR, "%s", r.err);
	if (split)
		fprintf(stderr, "rec2sql: %lu cuts\n", cuts);
	chunk_clear(&c);
	free(c.rec);
	record_reader_free(&r);
	buf_free(&b);
	return 0;
}
