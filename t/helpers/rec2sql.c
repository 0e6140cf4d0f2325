/*
 * rec2sql — test helper: srdf-record(5) lines on stdin to SQL on stdout,
 * one statement per row change, each source transaction in its own
 * START TRANSACTION ... COMMIT.  It is the simplest possible applier, so
 * the capture tests can prove the records lossless by replaying them into
 * a real server and comparing CHECKSUM TABLE; srdf-apply is the real one.
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
		json_array_foreach(pk, i, v) {
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
	json_object_foreach(img, k, v) {
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

int
main(int argc, char **argv)
{
	struct record_reader r;
	struct buf b = {0};
	json_t *rec, *v, *img;
	const char *type, *k;
	int rc;

	log_init(argv[0]);
	(void)argc;
	puts("SET time_zone='+00:00', sql_mode='NO_AUTO_VALUE_ON_ZERO,"
	     "NO_ENGINE_SUBSTITUTION', foreign_key_checks=0, NAMES utf8mb4;");
	record_reader_init(&r, stdin, "stdin");
	while ((rc = record_next(&r, &rec)) == 1) {
		type = json_string_value(json_object_get(rec, "type"));
		b.len = 0;
		if (strcmp(type, "begin") == 0)
			buf_lit(&b, "START TRANSACTION;\n");
		else if (strcmp(type, "commit") == 0)
			buf_lit(&b, "COMMIT;\n");
		else if (strcmp(type, "abort") == 0)
			buf_lit(&b, "ROLLBACK;\n");
		else if (strcmp(type, "ddl") == 0) {
			const char *db = json_string_value(json_object_get(rec, "db"));

			const char *q = json_string_value(json_object_get(rec, "sql"));

			/* CREATE/DROP DATABASE name their database as default */
			if (db && *db && strncasecmp(q, "create database", 15) != 0 &&
			    strncasecmp(q, "drop database", 13) != 0 &&
			    strncasecmp(q, "create schema", 13) != 0 &&
			    strncasecmp(q, "drop schema", 11) != 0) {
				buf_lit(&b, "USE ");
				sql_ident(&b, db);
				buf_lit(&b, ";\n");
			}
			buf_printf(&b, "%s;\n", q);
		} else if (strcmp(type, "insert") == 0) {
			int first = 1;

			img = json_object_get(rec, "after");
			buf_lit(&b, "INSERT INTO ");
			table(&b, rec);
			buf_lit(&b, " SET ");
			json_object_foreach(img, k, v) {
				if (!first)
					buf_putc(&b, ',');
				first = 0;
				sql_ident(&b, k);
				buf_putc(&b, '=');
				if (sql_literal(&b, v) < 0)
					die(EX_DATAERR, "bad value for %s", k);
			}
			buf_lit(&b, ";\n");
		} else if (strcmp(type, "update") == 0) {
			int first = 1;

			img = json_object_get(rec, "after");
			buf_lit(&b, "UPDATE ");
			table(&b, rec);
			buf_lit(&b, " SET ");
			json_object_foreach(img, k, v) {
				if (!first)
					buf_putc(&b, ',');
				first = 0;
				sql_ident(&b, k);
				buf_putc(&b, '=');
				if (sql_literal(&b, v) < 0)
					die(EX_DATAERR, "bad value for %s", k);
			}
			where(&b, rec, json_object_get(rec, "before"));
			buf_lit(&b, ";\n");
		} else if (strcmp(type, "delete") == 0) {
			buf_lit(&b, "DELETE FROM ");
			table(&b, rec);
			where(&b, rec, json_object_get(rec, "before"));
			buf_lit(&b, ";\n");
		}
		fwrite(b.p, 1, b.len, stdout);
		if (strcmp(type, "commit") == 0 || strcmp(type, "abort") == 0)
			fflush(stdout); /* a follower sees each transaction */
		json_decref(rec);
	}
	if (rc < 0)
		die(EX_DATAERR, "%s", r.err);
	record_reader_free(&r);
	buf_free(&b);
	return 0;
}
