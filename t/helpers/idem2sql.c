/*
 * idem2sql — test helper: srdf-record(5) lines on stdin to SQL on stdout,
 * like rec2sql, with srdf-apply's rule for the window of a resumed
 * srdf-bootstrap (srdf-bootstrap(1), "Resuming"):
 *
 *	idem2sql POSITION
 *
 * Every source transaction whose GTID lies within POSITION (the
 * bootstrap's last "snapshot_gtid": per domain, a sequence number at most
 * POSITION's) is applied idempotently: an insert or update makes the row
 * its after-image whatever was there (REPLACE; an update that moves the
 * primary key first deletes the old key), a delete removes the row if it
 * is there.  Later transactions are applied as rec2sql applies them, so a
 * duplicate key after the window is still an error.  Tables without a
 * primary key are never idempotent: their rows are plain INSERTs.
 * Exit 65 on a malformed record, 64 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "buf.h"
#include "log.h"
#include "record.h"
#include "sql.h"

/* 1 when GTID g (d-s-n) is within position pos. */
static int
within(const char *g, const char *pos)
{
	unsigned long d, s, pd, ps;
	unsigned long long n, pn;
	const char *p = pos;

	if (g == NULL || sscanf(g, "%lu-%lu-%llu", &d, &s, &n) != 3)
		return 0;
	while (p != NULL && *p) {
		while (*p == ',' || *p == ' ')
			p++;
		if (sscanf(p, "%lu-%lu-%llu", &pd, &ps, &pn) == 3 && pd == d)
			return n <= pn;
		p = strchr(p, ',');
	}
	return 0;
}

static void
table(struct buf *b, json_t *rec)
{
	sql_ident(b, json_string_value(json_object_get(rec, "db")));
	buf_putc(b, '.');
	sql_ident(b, json_string_value(json_object_get(rec, "table")));
}

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
set(struct buf *b, json_t *img)
{
	const char *k;
	json_t *v;
	int first = 1;

	buf_lit(b, " SET ");
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

static int
same_key(json_t *rec)
{
	json_t *pk = json_object_get(rec, "pk"), *v;
	json_t *bf = json_object_get(rec, "before"),
	       *af = json_object_get(rec, "after");
	size_t i;

	json_array_foreach(pk, i, v)
	{
		const char *k = json_string_value(v);

		if (!json_equal(json_object_get(bf, k), json_object_get(af, k)))
			return 0;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	struct record_reader r;
	struct buf b = {0};
	json_t *rec;
	const char *type, *pos;
	int rc, idem = 0;

	log_init(argv[0]);
	if (argc != 2)
		die(EX_USAGE, "usage: idem2sql POSITION");
	pos = argv[1];
	puts("SET time_zone='+00:00', sql_mode='NO_AUTO_VALUE_ON_ZERO,"
	     "NO_ENGINE_SUBSTITUTION', foreign_key_checks=0, NAMES utf8mb4;");
	record_reader_init(&r, stdin, "stdin");
	while ((rc = record_next(&r, &rec)) == 1) {
		int haspk;

		type = json_string_value(json_object_get(rec, "type"));
		haspk = json_array_size(json_object_get(rec, "pk")) > 0;
		b.len = 0;
		if (strcmp(type, "begin") == 0) {
			idem = within(
			    json_string_value(json_object_get(rec, "gtid")),
			    pos);
			buf_lit(&b, "START TRANSACTION;\n");
		} else if (strcmp(type, "commit") == 0)
			buf_lit(&b, "COMMIT;\n");
		else if (strcmp(type, "abort") == 0)
			buf_lit(&b, "ROLLBACK;\n");
		else if (strcmp(type, "ddl") == 0) {
			const char *db =
			    json_string_value(json_object_get(rec, "db"));

			if (db != NULL && *db != '\0') {
				buf_lit(&b, "USE ");
				sql_ident(&b, db);
				buf_lit(&b, ";\n");
			}
			buf_printf(&b, "%s;\n",
			    json_string_value(json_object_get(rec, "sql")));
		} else if (strcmp(type, "insert") == 0) {
			buf_puts(&b,
			    idem && haspk ? "REPLACE INTO " : "INSERT INTO ");
			table(&b, rec);
			set(&b, json_object_get(rec, "after"));
			buf_lit(&b, ";\n");
		} else if (strcmp(type, "update") == 0 && idem && haspk) {
			if (!same_key(rec)) {
				buf_lit(&b, "DELETE FROM ");
				table(&b, rec);
				where(&b, rec, json_object_get(rec, "before"));
				buf_lit(&b, ";\n");
			}
			buf_lit(&b, "REPLACE INTO ");
			table(&b, rec);
			set(&b, json_object_get(rec, "after"));
			buf_lit(&b, ";\n");
		} else if (strcmp(type, "update") == 0) {
			buf_lit(&b, "UPDATE ");
			table(&b, rec);
			set(&b, json_object_get(rec, "after"));
			where(&b, rec, json_object_get(rec, "before"));
			buf_lit(&b, ";\n");
		} else if (strcmp(type, "delete") == 0) {
			buf_lit(&b, "DELETE FROM ");
			table(&b, rec);
			where(&b, rec, json_object_get(rec, "before"));
			buf_lit(&b, ";\n");
		}
		fwrite(b.p, 1, b.len, stdout);
		json_decref(rec);
	}
	if (rc < 0)
		die(EX_DATAERR, "%s", r.err);
	record_reader_free(&r);
	buf_free(&b);
	return 0;
}
