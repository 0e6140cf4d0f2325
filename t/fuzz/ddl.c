/*
 * ddl — libFuzzer harness of the DDL classifier, lib/sqltext.c: the
 * first words of a statement from the binlog (srdf-capture) or from a
 * wagon's "ddl" record (srdf-apply), read without a parser.
 *
 * Input: the statement's text, any bytes.  Every classifier of
 * sqltext.h reads it, with and without a default database.  Beyond not
 * crashing or reading past its end (the text is copied to a buffer of
 * its exact length, so AddressSanitizer sees the first byte over):
 * a refusal leaves the output as it was; a table name comes as one
 * "db\037table\0", neither part empty, no NUL inside (a \037 inside a
 * quoted name is MariaDB's to allow, and the lists' to live with); sql_trigger_guard's statement is guarded once, so
 * guarding it again changes nothing; sql_event_replica's statement
 * says DISABLE ON SLAVE; sql_trigger_unguarded's body lies within the
 * text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sqltext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* out, of len bytes before the call, holds nothing new (rc -1), or one
 * "db\037table\0" after them (rc 1). */
static void
check_name(int rc, const struct buf *out, size_t before)
{
	const char *p = out->p + before, *sep;
	size_t n = out->len - before;

	if (rc == -1 || rc == 0) {
		if (n != 0)
			abort();
		return;
	}
	/* The separator is sought after the first byte: a quoted db may
	 * begin with \037 itself. */
	if (rc != 1 || n < 3 || p[n - 1] != '\0' ||
	    (sep = memchr(p + 1, '\037', n - 1)) == NULL ||
	    sep + 2 > p + n - 1 || strlen(p) != n - 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const dbs[] = {NULL, "shop"};
	char *sql = malloc(size ? size : 1);
	const char *end = sql + size, *s, *inner;
	struct buf out = {0}, again = {0};
	size_t n, before;
	int rc;

	if (sql == NULL)
		abort();
	memcpy(sql, data, size);

	s = sql_skip_blank(sql, end);
	if (s < sql || s > end)
		abort();
	s = sql;
	if (sql_word(&s, end, "CREATE") && (s <= sql || s > end))
		abort();

	buf_lit(&out, "x"); /* a refusal must leave what was there */
	for (size_t i = 0; i < 2; i++) {
		before = out.len;
		rc = sql_ddl_tables(sql, size, dbs[i], &out);
		check_name(rc, &out, before);
		out.len = before;
		rc = sql_ddl_table_of(sql, size, dbs[i], &out);
		check_name(rc, &out, before);
		out.len = before;
		rc = sql_dml_table(sql, size, dbs[i], &out);
		check_name(rc, &out, before);
		out.len = before;
	}

	rc = sql_trigger_guard(sql, size, SQL_TRIGGER_GUARD, &out);
	if (rc < -2 || rc > 1 || (rc != 1 && out.len != 1))
		abort();
	if (rc == 1) {
		const char *g = out.p + 1;

		n = out.len - 1;
		/* Guarded once: the guard is there, and not twice. */
		if (sql_trigger_guard(g, n, SQL_TRIGGER_GUARD, &again) != 0 ||
		    again.len != 0)
			abort();
	}
	out.len = 1;
	if (sql_trigger_unguarded(sql, size, SQL_TRIGGER_GUARD, &inner, &n) ==
	        1 &&
	    (inner < sql || inner + n > end))
		abort();

	rc = sql_event_replica(sql, size, &out);
	if (rc < -2 || rc > 1 || (rc != 1 && out.len != 1))
		abort();
	if (rc == 1 &&
	    (out.len - 1 < size + 10 ||
	        memmem(out.p + 1, out.len - 1, "DISABLE ON SLAVE", 16) == NULL))
		abort();

	buf_free(&out);
	buf_free(&again);
	free(sql);
	return 0;
}
