/*
 * load.c — the inserts of a table as one bulk load (db_bulk), when that
 * writes exactly what the INSERTs would (engine.c's step 2;
 * srdf-apply(1), "Bulk loads").
 *
 * Bulk loads.  Step 2 of a table with at least BULK_MIN_ROWS after-images
 * goes to the server as one prepared INSERT executed over arrays of
 * values (db_bulk: COM_STMT_BULK_EXECUTE, "array binding" in MariaDB
 * Connector/C), which spares the server the SQL parser and the client
 * the quoting: a fifth of the server's CPU on sysbench rows, and a
 * table lock-free insert that two connections can run side by side
 * (--parallel).  Only where the result is provably the row INSERT would
 * write:
 *	- every value is sent as a string parameter whose bytes are those of
 *	  the very literal the INSERT would send, unquoted (quote()'s
 *	  escapes \0 \' \\ \n \r \Z undone); a string parameter reaches
 *	  Field::store(bytes, utf8mb4) as the quoted literal does
 *	  (utf8mb4 is the connection's character set); NULL is the NULL
 *	  indicator;
 *	- every written column is of a type in COL_BULK (db.c: integers
 *	  but BIT, whose bytes a string would be; DECIMAL; CHAR, VARCHAR,
 *	  TEXT, which are never binary; DATE, DATETIME, TIMESTAMP, TIME);
 *	  binary strings, BLOB, BIT, FLOAT, DOUBLE, ENUM, SET, YEAR,
 *	  GEOMETRY, INET and the rest go by INSERT;
 *	- a bare number only for integer, DECIMAL and string columns, and
 *	  only without an exponent (a DOUBLE literal in SQL), since a number
 *	  into a date is stored from the integer, not the text;
 *	  _binary'...' (the bytes of a binary or non-UTF-8 value) never; a
 *	  NULL never into a TIMESTAMP (explicit_defaults_for_timestamp
 *	  decides what it becomes: left to INSERT);
 *	- the insert runs after a SAVEPOINT and counts only when it wrote
 *	  every row with no warning; otherwise (an error of strict mode, a
 *	  duplicate key, a count that is not the expected one) it is rolled
 *	  back to the savepoint and the same rows go by INSERT, which fails
 *	  (or not) exactly as it always did, with its own message.  A target
 *	  that refuses array binding or prepared statements at all is said
 *	  once and then left alone.
 * Anything else, idempotent wagons (REPLACE) and dry runs go by INSERT.
 *
 * Updated rows in a bulk load.  A key with both images (updated) is then
 * not deleted in step 1: the load is a bulk REPLACE, which
 * costs the server a third less than the DELETE and the insert.  It
 * gives the same rows.  Suppose, as steps 1 and 2 do, that the target
 * holds the source's rows before the group.  Step 1 still deletes every
 * key with a before-image and no after-image.  REPLACE writes each
 * after-image X, first deleting every row that holds one of X's unique
 * values (primary or secondary).  Such a row R is X's own old version,
 * or a row whose after-image the load writes later (a swap: it is
 * written then), never anything else: not a row without an after-image
 * (deleted in step 1), not a row the group leaves alone nor one whose
 * after-image is already written (either would hold a value of X in
 * the source's state after the group, where all of them coexist).  So
 * the rows deleted are exactly the old versions of the updated keys,
 * each once, and the table ends with every after-image: what the
 * DELETE and INSERT give.  The server reports one row per after-image
 * plus one per deleted row, nafter + nupd; the load counts only at that
 * count, so a target that breaks the supposition (a row missing, a
 * target-only row in the way) is rolled back to the savepoint and done
 * by DELETE and INSERT, which warn and fail as before.  (Two such
 * differences that cancel out in the count are not told apart: the
 * load then makes the group's rows the source's where DELETE and INSERT
 * would have failed on the row in the way.)  foreign_key_checks=0
 * holds: REPLACE's deletes cascade no more than step 1's DELETE does.
 * Triggers: the deleted rows fire their DELETE triggers as in step 1
 * (REPLACE deletes, it only updates in place a table without DELETE
 * triggers), every after-image its INSERT triggers.
 */
#include <string.h>

#include "eng.h"
#include "log.h"

/* One value of a bulk insert for the SQL literal at *p (as literal()
 * wrote it, in a values list, in e->arena) of a column with flags f: its
 * cell goes to t->cells and *p is moved past it.  A value that needs no
 * decoding is not copied: its cell is its bytes in the arena.  An
 * escaped string is decoded into t->text, its cell's index noted in
 * t->fix; bulk_text moves those into the arena at the end.  -1 when a
 * bulk insert could not carry the value exactly (see "Bulk loads" above). */
static int
bulk_field(struct eng *e, struct tab *t, const char **p, unsigned f)
{
	struct bulk_cell c = {.off = 0};
	const char *s = *p, *run;
	size_t i;

	if (strncmp(s, "NULL", 4) == 0) {
		if (f & COL_TIMESTAMP)
			return -1;
		c.null = 1;
		*p = s + 4;
	} else if (*s == '\'') {
		for (run = ++s; *s != '\'' && *s != '\\'; s++)
			;
		if (*s == '\'') {
			c.off = (size_t)(run - e->arena.p);
			c.len = (unsigned long)(s - run);
		} else {
			/* quote()'s escapes (lib/sql.c): \0 \' \\ \n \r \Z */
			c.off = t->text.len;
			for (s = run;;) {
				for (run = s; *s != '\'' && *s != '\\'; s++)
					;
				buf_add(&t->text, run, (size_t)(s - run));
				if (*s == '\'')
					break;
				switch (*++s) {
				case '0':
					buf_putc(&t->text, '\0');
					break;
				case 'n':
					buf_putc(&t->text, '\n');
					break;
				case 'r':
					buf_putc(&t->text, '\r');
					break;
				case 'Z':
					buf_putc(&t->text, '\032');
					break;
				default:
					buf_putc(&t->text, *s);
					break;
				}
				s++;
			}
			c.len = (unsigned long)(t->text.len - c.off);
			i = t->cells.len / sizeof c;
			buf_add(&t->fix, &i, sizeof i);
		}
		*p = s + 1;
	} else {
		if (!(f & COL_BULK_NUM) ||
		    (*s != '-' && (*s < '0' || *s > '9')))
			return -1; /* X'...', or a number where a date goes */
		for (; *s != ',' && *s != ')'; s++)
			if (*s != '-' && *s != '.' && (*s < '0' || *s > '9'))
				return -1; /* an exponent, inf, nan */
		c.off = (size_t)(*p - e->arena.p);
		c.len = (unsigned long)(s - *p);
		*p = s;
	}
	buf_add(&t->cells, &c, sizeof c);
	return 0;
}

/* The after-images of t as the values of a bulk insert: t->cells, over
 * the bytes of e->arena; -1 when some row cannot go that way. */
static int
bulk_text(struct eng *e, struct tab *t, uint32_t plan, long long *rows)
{
	const struct plan *p = &t->plans[plan];
	struct bulk_cell *c;
	const size_t *fix;
	size_t base, nfix;

	for (size_t i = 0; i < p->n; i++)
		if (!(p->flags[i] & COL_GENERATED) &&
		    !(p->flags[i] & COL_BULK)) {
			log_debug(
			    "%s: column %s: by INSERT", t->label, p->names[i]);
			return -1;
		}
	t->text.len = 0;
	t->cells.len = 0;
	t->fix.len = 0;
	buf_grow(&t->cells, (size_t)t->nafter * p->n * sizeof *c);
	*rows = 0;
	for (size_t i = 0; i < t->nent; i++) {
		const struct ent *x = &t->ent[i];
		const char *s = e->arena.p + x->val + 1; /* past '(' */
		int first = 1;

		if (!x->after)
			continue;
		if (x->plan != plan)
			return -1;
		for (size_t k = 0; k < p->n; k++) {
			if (p->flags[k] & COL_GENERATED)
				continue;
			if (!first && *s++ != ',')
				return -1;
			first = 0;
			if (bulk_field(e, t, &s, p->flags[k]) != 0) {
				log_debug("%s: column %s: %.20s: by INSERT",
				    t->label, p->names[k], s);
				return -1;
			}
		}
		if (*s != ')')
			return -1;
		++*rows;
	}
	/* The decoded strings join the arena, past everything the
	 * statements use. */
	if ((nfix = t->fix.len / sizeof *fix) > 0) {
		base = e->arena.len;
		buf_add(&e->arena, t->text.p, t->text.len);
		c = (struct bulk_cell *)t->cells.p;
		fix = (const size_t *)t->fix.p;
		for (size_t i = 0; i < nfix; i++)
			c[fix[i]].off += base;
	}
	return 0;
}

/* Whether t's after-images go by bulk load: sets t->bulk and the rest
 * when they are enough and exact that way. */
void
bulk_plan(struct eng *e, struct tab *t)
{
	long long n = 0;

	t->bulk = 0;
	t->nafter = t->nupd = 0;
	if (t->npk == 0 || e->w->idem || !db_bulk_enabled(e->d) ||
	    t->nmoved > 0)
		return;
	for (size_t i = 0; i < t->nent; i++)
		if (t->ent[i].after) {
			if (t->nafter++ == 0)
				t->bulkplan = t->ent[i].plan;
			t->nupd += t->ent[i].before;
		}
	if (t->nafter < BULK_MIN_ROWS ||
	    bulk_text(e, t, t->bulkplan, &n) != 0 || n != t->nafter)
		return;
	t->bulk = 1;
}

/* The inserts of t as one bulk insert (bulk_plan said so); *loaded
 * says whether it was done.  The keys that existed before, not deleted
 * (emit_deletes), are replaced: REPLACE then writes each of them twice
 * (deleted, inserted) and every new key once, which is what db_bulk
 * checks. */
int
emit_load(struct eng *e, struct tab *t, int *loaded)
{
	const struct plan *p = &t->plans[t->bulkplan];
	struct buf sql = {0};
	size_t ncol = 0;
	int rc;

	if (t->ti->genexpr && e->d->genlax)
		lax_prefix(&sql);
	buf_puts(&sql, t->nupd > 0 ? "REPLACE INTO " : "INSERT INTO ");
	buf_puts(&sql, t->qname);
	buf_putc(&sql, ' ');
	buf_puts(&sql, p->cols);
	buf_lit(&sql, " VALUES (");
	for (size_t k = 0; k < p->n; k++) {
		if (p->flags[k] & COL_GENERATED)
			continue;
		if (ncol++ > 0)
			buf_putc(&sql, ',');
		buf_putc(&sql, '?');
	}
	buf_putc(&sql, ')');
	rc = db_bulk(e->d, sql.p, sql.len, (const struct bulk_cell *)t->cells.p,
	    ncol, (size_t)t->nafter, e->arena.p, t->nafter + t->nupd, t->label,
	    loaded);
	buf_free(&sql);
	return rc;
}
