/*
 * engine.c — one wagon's payload (a consistency group, or one chunk of
 * one: srdf-record(5) lines between group_begin and group_end) to SQL.
 *
 * The net delta.  A group holds whole source transactions, folded by
 * srdf-dedup to one net change per row; the order of the source's
 * statements is gone, so replaying the records one by one could trip
 * over states the source never had (two rows swapping a UNIQUE value, a
 * child inserted before its parent).  What the group does know exactly is
 * which rows existed before it and what each row is after it.  So for
 * each table with a primary key the engine
 *	1. deletes every key that has a before-image (updated or deleted
 *	   rows), in batches: DELETE ... WHERE pk IN (...);
 *	2. inserts every after-image (inserted or updated rows), in
 *	   multi-row INSERTs;
 * all in one transaction with foreign_key_checks=0: after step 1 no row
 * of the group is in the way of another, and after step 2 the tables
 * hold exactly the source's state after the group (srdf-apply(1), "The
 * transaction of a wagon").  The engine folds again as it reads, per
 * (table, key), so an unfolded chunk of a huge transaction, or a key
 * that comes back after a delete, nets out the same way.  Rows of
 * tables without a primary key cannot be folded or found by key: they
 * are applied in their order, one statement each (DELETE/UPDATE ...
 * WHERE every column <=> value LIMIT 1), consecutive inserts merged into
 * one statement.
 *
 * Cascades.  ON DELETE/ON UPDATE CASCADE and SET NULL changes are not in
 * the binlog (srdf(7)): the target must make them itself, and what
 * they do depends on the order of the source's statements (a child
 * inserted and its parent deleted in one group, a parent deleted and
 * inserted again, a key shifted by one statement).  The net delta has
 * lost that order, so a wagon with a row change that sets off such a
 * rule (cascades(): a delete from the parent of an ON DELETE rule, a
 * change of a parent's key or of a column an ON UPDATE rule refers to)
 * is read a second time and applied in source order instead
 * (ordered_row): each row change in turn, under SET STATEMENT
 * foreign_key_checks=1, as a replica replays row events, so that the
 * target's rules do what the source's did.  srdf-dedup leaves such a
 * group unfolded ("cascade" in srdf-record(5)); the first reading sends
 * nothing, so the switch costs only the reading.
 *
 * Moves.  A primary-key change, or a change of a referenced column, of a
 * parent of an ON UPDATE rule is such a change; what remains of the
 * "moves" below (a key change kept as one UPDATE) serves the wagons that
 * are not read in order: srdf-bootstrap's idempotent ones.  When whole
 * (moves_mark: the old key existed and is gone, the new did not and is
 * there; in place: the row is there before and after), the row keeps its
 * key through step 1 and then takes the group's values in every column
 * but the key and the referenced ones (emit_move_preps); after every
 * other row is written, the old key or the referenced values become the
 * new ones by an UPDATE with foreign_key_checks=1; then the row is
 * deleted and written as the group left it.
 *
 * Exact undo.  srdf-rewind(1) runs a group reversed through this engine
 * with db.exact set: a row step 1 deletes must then be, in every
 * column, the before-image the group has for it (the after-image it
 * undoes), not only hold its key: the rows are deleted by all their
 * values, "(row) OR (row) ..." up to ROWS_PER_STMT a statement, which
 * must touch them all (db.c fails the batch otherwise), and a row in
 * source order is found the same way.  DB_EXACT_ROW deletes them one
 * statement each, which names the key of the row that differs: the
 * caller's second try of a group that failed so.  Someone who wrote on
 * the copy since makes the undo fail rather than lose that write unseen.
 * An insert whose key exists fails by itself (a duplicate key); a key
 * that groups folded together put back and remove again is deleted by
 * itself, a statement that must touch no row (exact_absent), so that a
 * row written there fails the undo as the groups one by one would.
 *
 * DDL (ddl.c) runs at its place in the record order; the inserts of a
 * big table may go as one bulk load (load.c); the payload's framing and
 * what a wagon touches are read by peek.c.
 *
 * What it refuses: a record it does not understand (fails the wagon),
 * rows before a DDL in one wagon (they would commit with the DDL, before
 * the checkpoint, and apply twice after a crash).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <mysqld_error.h>
#include <sodium.h>

#include "apply.h"
#include "db.h"
#include "engine.h"
#include "recopy.h"
#include "eng.h"
#include "log.h"
#include "record.h"
#include "scan.h"
#include "sql.h"
#include "sqltext.h"
#include "xalloc.h"

/* The largest arena a connection keeps for its next wagon (bytes). */
#define ARENA_KEEP (64u << 20)

/* A payload the engine cannot read: the wagon fails with the line. */
int
eng_bad(struct eng *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(
	    e->d->err, sizeof e->d->err, "payload line %lu: ", e->line);
	va_start(ap, fmt);
	vsnprintf(e->d->err + n, sizeof e->d->err - (size_t)n, fmt, ap);
	va_end(ap);
	e->d->errnum = 0;
	return DB_FAIL;
}

static uint32_t
fnv(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* ---- tables ------------------------------------------------------------ */

static void
tab_free(struct tab *t)
{
	for (size_t i = 0; i < t->nplans; i++) {
		for (size_t j = 0; j < t->plans[i].n; j++)
			free(t->plans[i].names[j]);
		free(t->plans[i].names);
		free(t->plans[i].flags);
		free(t->plans[i].cols);
	}
	for (size_t i = 0; i < t->npk; i++)
		free(t->pk[i]);
	free(t->pk);
	free(t->pkflags);
	free(t->plans);
	free(t->ent);
	free(t->slot);
	free(t->op);
	free(t->mv);
	buf_free(&t->text);
	buf_free(&t->fix);
	buf_free(&t->cells);
	free(t->db);
	free(t->name);
	free(t->label);
	free(t->qname);
	free(t);
}

static void
tabs_clear(struct eng *e)
{
	for (size_t i = 0; i < e->ntab; i++)
		tab_free(e->tabs[i]);
	e->ntab = 0;
	memset(e->hash, 0, sizeof e->hash);
	e->last = NULL;
	e->arena.len = 0;
}

static unsigned
col_flags(const struct tinfo *ti, const char *name)
{
	for (size_t i = 0; i < ti->ncol; i++)
		if (strcmp(ti->col[i].name, name) == 0)
			return ti->col[i].flags;
	return 0;
}

/* A JSON string span decoded into b as a C string (what
 * json_string_value gives: it ends at the first NUL); NULL when the
 * span is absent or not a string. */
static const char *
span_cstr(struct jspan v, struct buf *b)
{
	struct jstr j;

	if (jspan_str(v, &j) != 0)
		return NULL;
	b->len = 0;
	if (j.esc)
		jstr_decode(&j, b);
	else
		buf_add(b, j.p, j.n);
	buf_putc(b, '\0');
	return b->p;
}

/* Whether key k (an object key: never a NUL in it) is name. */
static int
key_is(struct eng *e, const struct jstr *k, const char *name)
{
	size_t n;
	const char *p = jstr_bytes(k, &e->tmp, &n);

	return strlen(name) == n && memcmp(p, name, n) == 0;
}

/* The names of a "pk" array into t; -1 when it holds a non-string. */
static int
pk_names(struct eng *e, struct tab *t, struct jspan pk)
{
	const char *p = pk.p, *end = pk.p + pk.n, *q;
	size_t n = 0;

	/* Count the elements first: commas at depth 1 outside strings. */
	p = json_ws(p + 1, end);
	if (p < end && *p != ']')
		for (q = p, n = 1; q < end && *q != ']';) {
			q = json_ws(json_skip(q, end), end);
			if (q < end && *q == ',') {
				n++;
				q = json_ws(q + 1, end);
			}
		}
	t->pk = xcalloc(n, sizeof *t->pk);
	t->pkflags = xcalloc(n, sizeof *t->pkflags);
	for (size_t i = 0; i < n; i++) {
		q = json_skip(p, end);
		if (span_cstr((struct jspan){p, (size_t)(q - p)}, &e->tmp) ==
		    NULL)
			return -1;
		p = json_ws(q, end);
		if (p < end && *p == ',')
			p = json_ws(p + 1, end);
		/* A system-versioned table's keys hold ROW END, which
		 * tells the current row from its history: the current
		 * row is found by the rest (versioned_row). */
		if (col_flags(t->ti, e->tmp.p) & (COL_ROW_START | COL_ROW_END))
			continue;
		t->pk[t->npk] = xstrdup(e->tmp.p);
		t->pkflags[t->npk] = col_flags(t->ti, e->tmp.p);
		t->npk++;
	}
	return 0;
}

/* The table of a row record, asking the target about it the first
 * time; NULL with *rc set when it cannot be used. */
static struct tab *
tab_get(struct eng *e, const struct rec *r, int *rc)
{
	const char *db = span_cstr(r->db, &e->sdb);
	const char *name = span_cstr(r->table, &e->stab);
	struct tab *t;
	struct buf b = {0};
	uint32_t h;

	*rc = DB_OK;
	if (db == NULL || name == NULL || r->pk.p == NULL ||
	    r->pk.p[0] != '[') {
		*rc = eng_bad(e, "row record without \"db\", \"table\" or "
		                 "\"pk\"");
		return NULL;
	}
	t = e->last;
	if (t != NULL && strcmp(t->name, name) == 0 && strcmp(t->db, db) == 0)
		return t;
	h = fnv(name, strlen(name)) % TBUCKETS;
	for (t = e->hash[h]; t != NULL; t = t->hnext)
		if (strcmp(t->name, name) == 0 && strcmp(t->db, db) == 0)
			return e->last = t;

	t = xcalloc(1, sizeof *t);
	t->db = xstrdup(db);
	t->name = xstrdup(name);
	buf_printf(&b, "%s.%s", db, name);
	buf_putc(&b, '\0');
	t->label = b.p;
	b = (struct buf){0};
	sql_ident(&b, db);
	buf_putc(&b, '.');
	sql_ident(&b, name);
	buf_putc(&b, '\0');
	t->qname = b.p;
	if ((t->ti = db_table(e->d, db, name, rc)) == NULL) {
		tab_free(t);
		return NULL;
	}
	if (!t->ti->exists) {
		snprintf(e->d->err, sizeof e->d->err,
		    "table %s does not exist "
		    "on the target: create it, or initialise it with "
		    "srdf-bootstrap",
		    t->label);
		e->d->errnum = ER_NO_SUCH_TABLE;
		tab_free(t);
		*rc = DB_FAIL;
		return NULL;
	}
	if (pk_names(e, t, r->pk) != 0) {
		tab_free(t);
		*rc = eng_bad(e, "\"pk\" holds a name that is not a string");
		return NULL;
	}
	/* Its history written as the source's: its rows in their order,
	 * never folded (versioned_add). */
	while (t->ti->versioned && e->d->history && t->npk > 0)
		free(t->pk[--t->npk]);
	e->tabs = xgrow(e->tabs, &e->captab, e->ntab + 1, sizeof *e->tabs);
	e->tabs[e->ntab++] = t;
	t->hnext = e->hash[h];
	e->hash[h] = t;
	return e->last = t;
}

/* An image: its members in record order. */
struct img {
	const struct jmember *m;
	size_t n;
};

/* Whether v, a value's record text, is an empty byte string: "" or
 * {"b64":""} (srdf-record(5)). */
static int
empty_bytes(struct jspan v)
{
	static const char b64[] = "{\"b64\":\"\"}";
	size_t k = 0;

	if (v.n == 2 && v.p[0] == '"' && v.p[1] == '"')
		return 1;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == '\n')
			continue;
		if (k == sizeof b64 - 1 || v.p[i] != b64[k++])
			return 0;
	}
	return k == sizeof b64 - 1;
}

/* The plan (column list) of an image: the table's current one when the
 * names match, else another seen before, else a new one.  An empty
 * GEOMETRY makes a plan of its own, where the column is COL_OMIT. */
static uint32_t
plan_get(struct eng *e, struct tab *t, struct img img)
{
	size_t n = img.n, i;
	struct plan *p;
	struct buf b = {0};

	for (size_t j = 0; j < t->nplans; j++) {
		uint32_t c = (uint32_t)((t->curplan + j) % t->nplans);
		int same = 1;

		p = &t->plans[c];
		if (p->n != n)
			continue;
		for (i = 0; i < n; i++)
			if (!key_is(e, &img.m[i].key, p->names[i]) ||
			    ((p->flags[i] & COL_GEOM) &&
			        !(p->flags[i] & COL_OMIT) !=
			            !empty_bytes(img.m[i].val))) {
				same = 0;
				break;
			}
		if (same)
			return t->curplan = c;
	}
	if ((t->plans = realloc(
	         t->plans, (t->nplans + 1) * sizeof *t->plans)) == NULL)
		die(EX_OSERR, "out of memory");
	p = &t->plans[t->nplans];
	p->n = n;
	p->names = xcalloc(n, sizeof *p->names);
	p->flags = xcalloc(n, sizeof *p->flags);
	buf_putc(&b, '(');
	for (i = 0; i < n; i++) {
		const char *k;

		e->tmp.len = 0;
		jstr_decode(&img.m[i].key, &e->tmp);
		buf_putc(&e->tmp, '\0');
		k = e->tmp.p;
		p->names[i] = xstrdup(k);
		p->flags[i] = col_flags(t->ti, k);
		if ((p->flags[i] & COL_GEOM) && empty_bytes(img.m[i].val))
			p->flags[i] |= COL_OMIT;
		if (!(p->flags[i] & (COL_GENERATED | COL_OMIT))) {
			if (b.len > 1)
				buf_putc(&b, ',');
			sql_ident(&b, k);
		}
	}
	buf_putc(&b, ')');
	buf_putc(&b, '\0');
	p->cols = b.p;
	return t->curplan = (uint32_t)t->nplans++;
}

/* ---- rendering --------------------------------------------------------- */

/* A C string that is an integer: "-?[0-9]+". */
static int
digits(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Whether number v is a negative zero ("-0", "-0.0e0"). */
static int
neg_zero(struct jspan v)
{
	size_t i;

	if (v.p == NULL || v.n < 2 || v.p[0] != '-')
		return 0;
	for (i = 1; i < v.n && (v.p[i] == '0' || v.p[i] == '.'); i++)
		;
	return i == v.n || v.p[i] == 'e' || v.p[i] == 'E';
}

/* The SQL literal of value v of column col (flags: COL_*); compare is
 * set in a WHERE, where a FLOAT must be compared as a FLOAT. */
static int
literal(struct eng *e, struct tab *t, const char *col, struct jspan v,
    unsigned flags, int compare)
{
	struct buf *b = &e->arena;
	int cast = compare && (flags & COL_FLOAT);

	/* An ENUM's error value, the number 0 (a record of srdf 0.1: ""
	 * into an ENUM that lacks it), which only a lax session may write
	 * (APPLY_LAX_SQL_MODE); a WHERE finds it by "<=> 0". */
	if ((flags & COL_ENUM) &&
	    ((v.n == 2 && v.p[0] == '"' && v.p[1] == '"') ||
	        (v.n == 1 && v.p[0] == '0')))
		e->lax = 1;
	if ((flags & COL_INT) && v.p != NULL && v.p[0] == '"') {
		struct jstr j;

		/* json_string_value(), json_string_length() */
		jspan_str(v, &j);
		e->tmp.len = 0;
		if (j.esc)
			jstr_decode(&j, &e->tmp);
		else
			buf_add(&e->tmp, j.p, j.n);
		buf_putc(&e->tmp, '\0');
		if (digits(e->tmp.p)) {
			buf_add(b, e->tmp.p, e->tmp.len - 1);
			return DB_OK;
		}
	}
	if (cast)
		buf_lit(b, "CAST(");
	/* A FLOAT's -0: the server reads "-0" as the integer 0, and writes
	 * -0.0 only as a negative DOUBLE that the FLOAT rounds to zero. */
	if ((flags & COL_FLOAT) && neg_zero(v))
		buf_lit(b, "-1e-46");
	else if (v.p == NULL || sql_literal_span(b, v, &e->tmp) != 0)
		return eng_bad(e, "%s value for column %s of %s",
		    v.p == NULL ? "no" : "bad", col, t->label);
	/* An empty GEOMETRY has no literal: VALUES and SET leave it out
	 * (COL_OMIT); a WHERE compares it with '' as it is. */
	if (cast)
		buf_lit(b, " AS FLOAT)");
	return DB_OK;
}

/* The value of member name of an image (p == NULL: none). */
static struct jspan
img_get(struct eng *e, struct img img, const char *name)
{
	for (size_t i = 0; i < img.n; i++)
		if (key_is(e, &img.m[i].key, name))
			return img.m[i].val;
	return (struct jspan){0};
}

/* The key of an image: "v" or "(v1,v2)". */
static int
render_key(
    struct eng *e, struct tab *t, struct img img, size_t *off, uint32_t *len)
{
	struct buf *b = &e->arena;
	int rc;

	*off = b->len;
	if (t->npk > 1)
		buf_putc(b, '(');
	for (size_t i = 0; i < t->npk; i++) {
		if (i > 0)
			buf_putc(b, ',');
		if ((rc = literal(e, t, t->pk[i], img_get(e, img, t->pk[i]),
		         t->pkflags[i], 1)) != DB_OK)
			return rc;
	}
	if (t->npk > 1)
		buf_putc(b, ')');
	*len = (uint32_t)(b->len - *off);
	return DB_OK;
}

/* "`k1`=v1,`k2`=v2": the primary key of an image as a SET list. */
static int
render_key_set(
    struct eng *e, struct tab *t, struct img img, size_t *off, uint32_t *len)
{
	struct buf *b = &e->arena;
	int rc;

	*off = b->len;
	for (size_t i = 0; i < t->npk; i++) {
		if (i > 0)
			buf_putc(b, ',');
		sql_ident(b, t->pk[i]);
		buf_putc(b, '=');
		if ((rc = literal(e, t, t->pk[i], img_get(e, img, t->pk[i]),
		         t->pkflags[i], 0)) != DB_OK)
			return rc;
	}
	*len = (uint32_t)(b->len - *off);
	return DB_OK;
}

/* Whether column name is part of t's primary key. */
static int
is_pk(const struct tab *t, const char *name)
{
	for (size_t i = 0; i < t->npk; i++)
		if (strcmp(t->pk[i], name) == 0)
			return 1;
	return 0;
}

/* For an update of a row whose key stays: "`c`=v,..." of the referenced
 * columns (COL_REFERENCED, not of the key) when one of them changes, into
 * the arena; *len 0 when none changes.  engine.c, "Moves". */
static int
render_ref_set(struct eng *e, struct tab *t, uint32_t plan, struct img before,
    struct img after, size_t *off, uint32_t *len)
{
	struct plan *p = &t->plans[plan];
	struct buf *b = &e->arena;
	int changed = 0, rc;

	*off = b->len;
	*len = 0;
	for (size_t i = 0; i < after.n; i++) {
		struct jspan a = after.m[i].val, v;

		if (!(p->flags[i] & COL_REFERENCED) || is_pk(t, p->names[i]))
			continue;
		v = img_get(e, before, p->names[i]);
		changed |=
		    v.p == NULL || v.n != a.n || memcmp(v.p, a.p, a.n) != 0;
		if (b->len > *off)
			buf_putc(b, ',');
		sql_ident(b, p->names[i]);
		buf_putc(b, '=');
		if ((rc = literal(e, t, p->names[i], a, p->flags[i], 0)) !=
		    DB_OK)
			return rc;
	}
	if (changed)
		*len = (uint32_t)(b->len - *off);
	else
		b->len = *off;
	return DB_OK;
}

/* "(v1,v2,...)": the written columns of an image, in plan order. */
static int
render_values(struct eng *e, struct tab *t, uint32_t plan, struct img img,
    size_t *off, uint32_t *len)
{
	struct plan *p = &t->plans[plan];
	struct buf *b = &e->arena;
	int first = 1, rc;

	*off = b->len;
	if (t->ti->genexpr && e->d->genlax)
		e->lax = 1;
	buf_putc(b, '(');
	for (size_t i = 0; i < img.n; i++) {
		if (p->flags[i] & COL_OMIT)
			e->lax = 1;
		if (!(p->flags[i] & (COL_GENERATED | COL_OMIT))) {
			if (!first)
				buf_putc(b, ',');
			first = 0;
			if ((rc = literal(e, t, p->names[i], img.m[i].val,
			         p->flags[i], 0)) != DB_OK)
				return rc;
		}
	}
	buf_putc(b, ')');
	*len = (uint32_t)(b->len - *off);
	return DB_OK;
}

/* "`a`=v1,`b`=v2": the SET list of an image's columns, into the arena,
 * leaving out those with a flag in skip (COL_GENERATED always: the
 * server computes them) and, when nokey, those of the primary key; *len
 * 0 when none is left.  An UPDATE of a table without a key writes them
 * all; a move's prep (engine.c, "Moves") all but the key, the referenced
 * columns and the periods. */
static int
render_set(struct eng *e, struct tab *t, uint32_t plan, struct img img,
    unsigned skip, int nokey, size_t *off, uint32_t *len)
{
	struct plan *p = &t->plans[plan];
	struct buf *b = &e->arena;
	int rc;

	*off = b->len;
	if (t->ti->genexpr && e->d->genlax)
		e->lax = 1;
	for (size_t i = 0; i < img.n; i++) {
		if ((p->flags[i] & (skip | COL_GENERATED | COL_OMIT)) ||
		    (nokey && is_pk(t, p->names[i])))
			continue;
		if (b->len > *off)
			buf_putc(b, ',');
		sql_ident(b, p->names[i]);
		buf_putc(b, '=');
		if ((rc = literal(e, t, p->names[i], img.m[i].val, p->flags[i],
		         0)) != DB_OK)
			return rc;
	}
	*len = (uint32_t)(b->len - *off);
	return DB_OK;
}

/* The longest value (its record text) whose text column is compared
 * twice in a WHERE, under its collation and as bytes: the longest key
 * an InnoDB index holds (3072 bytes).  A longer one is compared as
 * bytes only, so that the statement stays the size it was. */
#define EXACT_TWICE_MAX 3072

/* "`a`<=>v1 AND `b`<=>v2": a row found by all its values.  A text
 * column (COL_TEXT) compares under its collation, where 'x' = 'X ' may
 * hold, so the row is matched byte for byte too: "`c`<=>v AND BINARY
 * `c`<=>v", whose first half still finds it by an index on c. */
static int
render_where(struct eng *e, struct tab *t, uint32_t plan, struct img img,
    size_t *off, uint32_t *len)
{
	struct plan *p = &t->plans[plan];
	struct buf *b = &e->arena;
	size_t at, vlen;
	int rc, text;

	*off = b->len;
	for (size_t i = 0, n = 0; i < img.n; i++) {
		struct jspan v = img.m[i].val;

		/* DELETE and UPDATE see a system-versioned table's current
		 * rows only, whose period is the target's own; a generated
		 * column follows from the others (and on a source where
		 * MariaDB left a STORED one stale, srdf-apply(1) CAVEATS,
		 * the target's holds another value). */
		if (p->flags[i] & (COL_ROW_START | COL_ROW_END | COL_GENERATED))
			continue;
		if (n++ > 0)
			buf_lit(b, " AND ");
		text = (p->flags[i] & COL_TEXT) && v.p != NULL && v.p[0] != 'n';
		if (text && v.n > EXACT_TWICE_MAX)
			buf_lit(b, "BINARY ");
		sql_ident(b, p->names[i]);
		buf_lit(b, "<=>");
		at = b->len;
		if ((rc = literal(e, t, p->names[i], v, p->flags[i], 1)) !=
		    DB_OK)
			return rc;
		if (!text || v.n > EXACT_TWICE_MAX)
			continue;
		vlen = b->len - at;
		buf_lit(b, " AND BINARY ");
		sql_ident(b, p->names[i]);
		buf_lit(b, "<=>");
		buf_grow(b, vlen + 1); /* b->p stays where it is */
		memcpy(b->p + b->len, b->p + at, vlen);
		b->len += vlen;
	}
	*len = (uint32_t)(b->len - *off);
	return DB_OK;
}

/* ---- folding ----------------------------------------------------------- */

/* The entry of the key in the arena at [off, off+len); a new one (which
 * takes over those bytes) when the key is new, else the old one (and the
 * bytes are given back). */
static struct ent *
ent_get(struct eng *e, struct tab *t, size_t off, uint32_t len, int *isnew)
{
	const char *a = e->arena.p;
	size_t mask, i;
	struct ent *x;

	if (2 * (t->nent + 1) > t->nslot) {
		size_t n = t->nslot ? 2 * t->nslot : 64;
		uint32_t *s = xcalloc(n, sizeof *s);

		for (size_t j = 0; j < t->nent; j++) {
			x = &t->ent[j];
			i = fnv(a + x->key, x->keylen) & (n - 1);
			while (s[i] != 0)
				i = (i + 1) & (n - 1);
			s[i] = (uint32_t)(j + 1);
		}
		free(t->slot);
		t->slot = s;
		t->nslot = n;
	}
	mask = t->nslot - 1;
	i = fnv(a + off, len) & mask;
	while (t->slot[i] != 0) {
		x = &t->ent[t->slot[i] - 1];
		if (x->keylen == len && memcmp(a + x->key, a + off, len) == 0) {
			e->arena.len =
			    off; /* the key is known: drop the copy */
			*isnew = 0;
			return x;
		}
		i = (i + 1) & mask;
	}
	t->ent = xgrow(t->ent, &t->capent, t->nent + 1, sizeof *t->ent);
	x = &t->ent[t->nent++];
	memset(x, 0, sizeof *x);
	x->key = off;
	x->keylen = len;
	t->slot[i] = (uint32_t)t->nent;
	*isnew = 1;
	return x;
}

/* The index of the entry of img's key; a key seen first with a
 * before-image existed before the group (its first appearance decides:
 * a key first inserted by the group did not).  -1 with *rc on error. */
static long
keyed(struct eng *e, struct tab *t, struct img img, int before, int *rc)
{
	size_t off;
	uint32_t len;
	int isnew;
	struct ent *x;

	if ((*rc = render_key(e, t, img, &off, &len)) != DB_OK)
		return -1;
	x = ent_get(e, t, off, len, &isnew);
	if (isnew)
		x->before = (uint8_t)before;
	if (isnew && before && e->d->exact) {
		uint32_t plan = plan_get(e, t, img);
		long i = (long)(x - t->ent);

		/* render_where may grow the arena, never t->ent */
		if ((*rc = render_where(e, t, plan, img, &off, &len)) != DB_OK)
			return -1;
		t->ent[i].bw = off;
		t->ent[i].bwlen = len;
	}
	return (long)(x - t->ent);
}

static struct op *
op_add(struct tab *t, int type)
{
	struct op *o;

	t->op = xgrow(t->op, &t->capop, t->nop + 1, sizeof *t->op);
	o = &t->op[t->nop++];
	memset(o, 0, sizeof *o);
	o->type = (uint8_t)type;
	return o;
}

/* Whether an image of system-versioned table t is its current row: its
 * ROW END at the greatest value its type holds (TIMESTAMP(6): 2038 up to
 * MariaDB 11.4, 2106 since 11.5 on 64-bit; BIGINT UNSIGNED: a
 * transaction-precise table), or absent (srdf-bootstrap copies what a
 * SELECT gives: current rows, hidden columns left out).  History rows
 * end at an earlier instant.  MariaDB docs, "System-Versioned Tables". */
static int
versioned_current(struct eng *e, struct tab *t, struct img img)
{
	static const char *const max[] = {"2038-01-19 03:14:07.999999",
	    "2106-02-07 06:28:15.999999", "18446744073709551615"};
	struct jspan v = img_get(e, img, t->ti->col[t->ti->row_end].name);
	struct jstr j;

	if (v.p == NULL)
		return 1;
	if (v.p[0] != '"') /* a bare number */
		return v.n == strlen(max[2]) && memcmp(v.p, max[2], v.n) == 0;
	if (jspan_str(v, &j) != 0 || j.esc)
		return 0;
	for (size_t i = 0; i < sizeof max / sizeof max[0]; i++)
		if (j.n == strlen(max[i]) && memcmp(j.p, max[i], j.n) == 0)
			return 1;
	return 0;
}

/* The change a row record of system-versioned table t makes to its
 * current rows, which is all srdf-apply writes on a target without
 * system_versioning_insert_history (before MariaDB 10.11: the target
 * keeps its own history, stamped as it applies; versioned_add writes
 * the source's elsewhere): -1 for none (a history row written or
 * purged), else T_INSERT, T_UPDATE or T_DELETE.  The source's binlog
 * has an UPDATE as the update of the current row plus the insert of the
 * old version as history, a DELETE as an update that ends the current
 * row, DELETE HISTORY as deletes of history rows. */
static int
versioned_row(
    struct eng *e, struct tab *t, int type, struct img before, struct img after)
{
	int b = type != T_INSERT && versioned_current(e, t, before);
	int a = type != T_DELETE && versioned_current(e, t, after);

	if (b && a)
		return T_UPDATE;
	return b ? T_DELETE : a ? T_INSERT : -1;
}

/* ---- system-versioned tables: the source's history --------------------- */

/*
 * srdf-apply(1), "System-versioned tables".  The source's binlog has an
 * INSERT as the insert of a current row, an UPDATE as the update of the
 * current row (its ROW START the statement's time T) followed by the
 * insert of the old version as history (ROW END T), a DELETE as an
 * update that ends the current row at T, DELETE HISTORY as deletes of
 * history rows.  Each is made on the target so that nothing carries the
 * target's clock:
 *	- an insert, current row or history, by INSERT under
 *	  system_versioning_insert_history=1 with the source's period
 *	  (ROW END left out of a current row: the target's own greatest
 *	  value, which is the source's on the same major version);
 *	- an update of the current row by UPDATE with @@timestamp at T:
 *	  the target then writes the old version as history itself, just as
 *	  the source did, and the source's record of it, next for the table,
 *	  is passed over (ti->vhist; an UPDATE at the row's own ROW START
 *	  writes none, on either side);
 *	- an update that ends the current row by DELETE with @@timestamp at
 *	  its ROW END;
 *	- a delete of history by DELETE HISTORY BEFORE SYSTEM_TIME just
 *	  after its ROW END, the only way a session can delete history.  It
 *	  also deletes every older history row, which the source's DELETE
 *	  HISTORY ... BEFORE SYSTEM_TIME X deleted in the same statement:
 *	  it deletes all history before X, and its records follow.
 * Rows are never folded (srdf-dedup keeps them too): a row updated three
 * times in a group leaves three versions, each with its own period.
 */

/* The name of ti's period column of flag (COL_ROW_START, COL_ROW_END). */
static const char *
period_name(const struct tinfo *ti, unsigned flag)
{
	for (size_t i = 0; i < ti->ncol; i++)
		if (ti->col[i].flags & flag)
			return ti->col[i].name;
	return NULL;
}

/* @@timestamp at period value v, "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC
 * (the records' time zone), as "seconds.micros5" into the arena; -1 when
 * v is no such value.  The server reads @@timestamp as a DOUBLE and
 * truncates it to microseconds: a literal of exactly the microseconds
 * comes out one lower for some values, one half a microsecond more
 * never (MariaDB 10.11, checked over random values). */
static int
stamp(struct eng *e, struct jspan v)
{
	struct jstr j;
	struct tm tm = {0};
	char s[40];
	long us = 0;
	int n = 0, k;

	if (v.p == NULL || v.p[0] != '"' || jspan_str(v, &j) != 0 || j.esc ||
	    j.n >= sizeof s)
		return -1;
	memcpy(s, j.p, j.n);
	s[j.n] = '\0';
	if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 19)
		return -1;
	if (s[19] == '.') {
		for (k = 0; k < 6 && s[20 + k] >= '0' && s[20 + k] <= '9'; k++)
			us = us * 10 + (s[20 + k] - '0');
		if (k == 0 || s[20 + k] != '\0')
			return -1;
		for (; k < 6; k++)
			us *= 10;
	} else if (s[19] != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	buf_printf(&e->arena, "%lld.%06ld5", (long long)timegm(&tm), us);
	return 0;
}

/* Whether an INSERT of the history writes column flags f (a current
 * row: cur): all but the generated columns and an empty GEOMETRY
 * (COL_OMIT), and the period, but for a
 * current row's ROW END. */
static int
history_col(unsigned f, int cur)
{
	if (f & COL_OMIT)
		return 0;
	if (f & COL_ROW_END)
		return !cur;
	return (f & COL_ROW_START) || !(f & COL_GENERATED);
}

/* "(`a`,...,`start`[,`end`]) VALUES (v,...)" of img into the arena, its
 * ROW END replaced by end when given (end.p != NULL). */
static int
history_values(
    struct eng *e, struct tab *t, struct img img, struct jspan end, int cur)
{
	struct buf *b = &e->arena;
	uint32_t plan = plan_get(e, t, img); /* before t->plans is read */
	const struct plan *p = &t->plans[plan];
	size_t n = 0;
	int rc;

	buf_putc(b, '(');
	for (size_t i = 0; i < img.n; i++)
		if (p->flags[i] & COL_OMIT)
			e->lax = 1; /* an empty GEOMETRY: left out */
	for (size_t i = 0; i < img.n; i++)
		if (history_col(p->flags[i], cur)) {
			if (n++ > 0)
				buf_putc(b, ',');
			sql_ident(b, p->names[i]);
		}
	buf_lit(b, ") VALUES (");
	n = 0;
	for (size_t i = 0; i < img.n; i++) {
		struct jspan v = img.m[i].val;

		if (!history_col(p->flags[i], cur))
			continue;
		if (n++ > 0)
			buf_putc(b, ',');
		if ((p->flags[i] & COL_ROW_END) && end.p != NULL)
			v = end;
		if ((rc = literal(e, t, p->names[i], v, p->flags[i], 0)) !=
		    DB_OK)
			return rc;
	}
	buf_putc(b, ')');
	return DB_OK;
}

/* "`a`<=>v AND ... ORDER BY `start`<=>v DESC": the current row of img
 * into the arena, by every column but the period and the generated ones
 * (render_where), the one that started
 * when the source's did first (a table made versioned by ALTER TABLE
 * has each side's own time there); or (set) "`a`=v,...": what an UPDATE
 * writes, the generated columns and the period left out. */
static int
history_cols(struct eng *e, struct tab *t, struct img img, int set)
{
	struct buf *b = &e->arena;
	uint32_t plan = plan_get(e, t, img); /* before t->plans is read */
	const struct plan *p = &t->plans[plan];
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < img.n; i++) {
		if ((p->flags[i] &
		        (COL_ROW_START | COL_ROW_END | COL_GENERATED)) ||
		    (set && (p->flags[i] & COL_OMIT)))
			continue;
		if (n++ > 0)
			buf_puts(b, set ? "," : " AND ");
		sql_ident(b, p->names[i]);
		buf_puts(b, set ? "=" : "<=>");
		if ((rc = literal(e, t, p->names[i], img.m[i].val, p->flags[i],
		         !set)) != DB_OK)
			return rc;
	}
	for (size_t i = 0; i < img.n && !set; i++)
		if (p->flags[i] & COL_ROW_START) {
			buf_lit(b, " ORDER BY ");
			sql_ident(b, p->names[i]);
			buf_lit(b, "<=>");
			if ((rc = literal(e, t, p->names[i], img.m[i].val,
			         p->flags[i], 1)) != DB_OK)
				return rc;
			buf_lit(b, " DESC");
		}
	return DB_OK;
}

/* versioned_add of an insert: the history row the source's statement
 * wrote (a current one: a), unless it is pend (pendlen bytes), the one
 * the target's own UPDATE wrote; an empty period as a current row
 * deleted at its ROW START.  *op: the op queued last, NULL for none. */
static int
versioned_insert(struct eng *e, struct tab *t, struct img after, int a,
    const char *pend, size_t pendlen, struct op **op)
{
	struct tinfo *ti = t->ti;
	const char *sname = period_name(ti, COL_ROW_START);
	const char *ename = ti->col[ti->row_end].name;
	size_t off = e->arena.len;
	struct jspan s0, s1;
	struct op *o;
	int rc;

	*op = NULL;
	if ((rc = history_values(e, t, after, (struct jspan){0}, a)) != DB_OK)
		return rc;
	/* The history row the target's UPDATE wrote itself. */
	if (pend != NULL && e->arena.len - off == pendlen &&
	    memcmp(e->arena.p + off, pend, pendlen) == 0) {
		e->arena.len = off;
		return DB_OK;
	}
	o = op_add(t, T_VINSERT);
	o->val = off;
	o->vallen = (uint32_t)(e->arena.len - off);
	s0 = img_get(e, after, sname);
	s1 = img_get(e, after, ename);
	if (!a && s0.p != NULL && s0.n == s1.n &&
	    memcmp(s0.p, s1.p, s0.n) == 0) {
		/* An empty period (ROW START = ROW END), which a source's
		 * DELETE of a row at its own ROW START keeps and no INSERT
		 * of history may write (error 1525): the row as current
		 * from that instant, then deleted at it. */
		e->arena.len = off;
		if ((rc = history_values(e, t, after, (struct jspan){0}, 1)) !=
		    DB_OK)
			return rc;
		o->vallen = (uint32_t)(e->arena.len - off);
		o->lax = (uint8_t)e->lax;
		o = op_add(t, T_VDELETE);
		o->ts = e->arena.len;
		if (stamp(e, s0) != 0)
			return eng_bad(
			    e, "no period for a row of %s", t->label);
		o->tslen = (uint32_t)(e->arena.len - o->ts);
		o->where = e->arena.len;
		if ((rc = history_cols(e, t, after, 0)) != DB_OK)
			return rc;
		o->wherelen = (uint32_t)(e->arena.len - o->where);
	}
	*op = o;
	return DB_OK;
}

/* versioned_add of an update or delete of a current row: the row ended
 * (and its new version written: a), and the history an UPDATE after the
 * row's ROW START writes kept in ti->vhist for the source's next record
 * of it.  *op: the op queued. */
static int
versioned_end(struct eng *e, struct tab *t, int type, struct img before,
    struct img after, int a, struct op **op)
{
	struct tinfo *ti = t->ti;
	const char *sname = period_name(ti, COL_ROW_START);
	const char *ename = ti->col[ti->row_end].name;
	struct jspan s0, s1;
	struct op *o;
	int rc;

	/* T: the new version's ROW START, or the ended row's END.  A
	 * current row the source deleted outright was deleted at its own
	 * ROW START (a row a statement wrote and replaced at one instant,
	 * as a multi-row REPLACE can): the target ends it at that instant,
	 * which keeps an empty period as history where the source kept
	 * none (srdf-apply(1), CAVEATS). */
	s1 = type == T_DELETE ? img_get(e, before, sname)
	                      : img_get(e, after, a ? sname : ename);
	*op = o = op_add(t, a ? T_VUPDATE : T_VDELETE);
	o->ts = e->arena.len;
	if (sname == NULL || stamp(e, s1) != 0)
		return eng_bad(e, "no period for the update of %s", t->label);
	o->tslen = (uint32_t)(e->arena.len - o->ts);
	o->where = e->arena.len;
	if ((rc = history_cols(e, t, before, 0)) != DB_OK)
		return rc;
	o->wherelen = (uint32_t)(e->arena.len - o->where);
	if (a) {
		o->val = e->arena.len;
		if ((rc = history_cols(e, t, after, 1)) != DB_OK)
			return rc;
		o->vallen = (uint32_t)(e->arena.len - o->val);
	}
	s0 = img_get(e, before, sname);
	/* An UPDATE after the row's ROW START writes history. */
	if (a && s0.p != NULL &&
	    (s0.n != s1.n || memcmp(s0.p, s1.p, s0.n) < 0)) {
		size_t at = e->arena.len;

		if ((rc = history_values(e, t, before, s1, 0)) != DB_OK)
			return rc;
		ti->vhistlen = e->arena.len - at;
		ti->vhist = xcalloc(1, ti->vhistlen);
		memcpy(ti->vhist, e->arena.p + at, ti->vhistlen);
		e->arena.len = at;
	}
	return DB_OK;
}

/* A change to system-versioned table t as the source made it (see
 * above), queued in t->op in its order. */
static int
versioned_add(
    struct eng *e, struct tab *t, int type, struct img before, struct img after)
{
	struct tinfo *ti = t->ti;
	int b = type != T_INSERT && versioned_current(e, t, before);
	int a = type != T_DELETE && versioned_current(e, t, after);
	const char *ename = ti->col[ti->row_end].name;
	char *pend = ti->vhist;
	size_t pendlen = ti->vhistlen;
	struct op *o = NULL;
	int rc;

	ti->vhist = NULL;
	e->lax = 0;
	if (type == T_INSERT)
		rc = versioned_insert(e, t, after, a, pend, pendlen, &o);
	else if (b)
		rc = versioned_end(e, t, type, before, after, a, &o);
	else if (type == T_DELETE) {
		o = op_add(t, T_VPURGE);
		o->val = e->arena.len;
		rc = literal(
		    e, t, ename, img_get(e, before, ename), COL_ROW_END, 0);
		o->vallen = (uint32_t)(e->arena.len - o->val);
	} else
		rc = eng_bad(e,
		    "a%s %s of %s row of system-versioned %s, "
		    "which no statement makes",
		    type == T_UPDATE ? "n" : "",
		    type == T_UPDATE ? "update" : "delete",
		    b ? "a current" : "a history", t->label);
	if (rc == DB_OK && o != NULL) {
		o->lax = (uint8_t)e->lax;
		e->w->rows++;
	}
	free(pend);
	return rc;
}

/* One change of versioned_add's, queued as its statement. */
static int
versioned_emit(struct eng *e, struct tab *t, const struct op *o)
{
	static const char *const kind[] = {[T_VINSERT] = "versioned insert",
	    [T_VUPDATE] = "versioned update",
	    [T_VDELETE] = "versioned delete",
	    [T_VPURGE] = "DELETE HISTORY"};
	struct db *d = e->d;
	struct buf *q = &d->q;
	const char *a = e->arena.p;

	db_stmt_open(d);
	if (o->type == T_VPURGE) {
		buf_lit(q, "DELETE HISTORY FROM ");
		buf_puts(q, t->qname);
		buf_lit(q, " BEFORE SYSTEM_TIME CAST(");
		buf_add(q, a + o->val, o->vallen);
		buf_lit(q, " AS DATETIME(6)) + INTERVAL 1 MICROSECOND");
		return db_stmt_close(d, kind[o->type], t->label, -1);
	}
	buf_lit(q, "SET STATEMENT ");
	if (o->type == T_VINSERT)
		buf_lit(q, "system_versioning_insert_history=1");
	else {
		buf_lit(q, "timestamp=");
		buf_add(q, a + o->ts, o->tslen);
	}
	if (o->lax)
		buf_lit(q, ",sql_mode='" APPLY_LAX_SQL_MODE "'");
	buf_lit(q, " FOR ");
	if (o->type == T_VINSERT) {
		buf_puts(
		    q, e->w->idem ? "INSERT IGNORE INTO " : "INSERT INTO ");
		buf_puts(q, t->qname);
		buf_putc(q, ' ');
		buf_add(q, a + o->val, o->vallen);
		return db_stmt_close(d, kind[o->type], t->label, -1);
	}
	if (o->type == T_VUPDATE) {
		buf_lit(q, "UPDATE ");
		buf_puts(q, t->qname);
		buf_lit(q, " SET ");
		buf_add(q, a + o->val, o->vallen);
	} else {
		buf_lit(q, "DELETE FROM ");
		buf_puts(q, t->qname);
	}
	buf_lit(q, " WHERE ");
	buf_add(q, a + o->where, o->wherelen);
	buf_lit(q, " LIMIT 1");
	return db_stmt_close(d, kind[o->type], t->label, e->w->idem ? -1 : 1);
}

/* Notes an update of a parent of an ON UPDATE rule that the children
 * must follow (see "Moves"): the key changed (from != to), or a
 * referenced column changed in place (from == to: the last such update
 * of the key is the one written). */
static int
add_move(struct eng *e, struct tab *t, uint32_t from, uint32_t to,
    struct img before, struct img after)
{
	struct move *m = NULL;
	size_t set;
	uint32_t len;
	int rc;

	if (from != to)
		rc = render_key_set(e, t, after, &set, &len);
	else
		rc = render_ref_set(
		    e, t, plan_get(e, t, after), before, after, &set, &len);
	if (rc != DB_OK || len == 0)
		return rc;
	for (size_t i = t->nmv; from == to && i-- > 0;)
		if (t->mv[i].from == from && t->mv[i].to == to) {
			m = &t->mv[i];
			break;
		}
	if (m == NULL) {
		t->mv = xgrow(t->mv, &t->capmv, t->nmv + 1, sizeof *t->mv);
		m = &t->mv[t->nmv++];
		m->from = from;
		m->to = to;
		m->prelen = 0;
		t->ent[to].mvto = (uint32_t)t->nmv;
	}
	m->set = set;
	m->setlen = len;
	return DB_OK;
}

/* ---- source order ------------------------------------------------------ */

static void pk_columns(struct buf *q, const struct tab *t);

/* Whether a row change makes the target's own cascades act: a delete
 * from the parent of an ON DELETE rule, a change of the key or of a
 * referenced column of the parent of an ON UPDATE rule (or of the key of
 * any parent).  Then the wagon goes in source order (see "Cascades"). */
static int
cascades(
    struct eng *e, struct tab *t, int type, struct img before, struct img after)
{
	const struct tinfo *ti = t->ti;
	const struct plan *p;
	uint32_t plan;

	if (!ti->cascade && !ti->upd_cascade)
		return 0;
	if (type == T_DELETE)
		return ti->cascade;
	if (type == T_INSERT)
		return 0;
	if (t->npk == 0)
		return ti->upd_cascade;
	plan = plan_get(e, t, after); /* it may move t->plans */
	p = &t->plans[plan];
	for (size_t i = 0; i < after.n; i++) {
		struct jspan a = after.m[i].val, b;

		if (!is_pk(t, p->names[i]) && !(p->flags[i] & COL_REFERENCED))
			continue;
		b = img_get(e, before, p->names[i]);
		if (b.p == NULL || b.n != a.n || memcmp(b.p, a.p, a.n) != 0)
			return 1;
	}
	return 0;
}

/* "SET STATEMENT foreign_key_checks=1 FOR " (=0 when nofk: the source's
 * session had them off), with the lax sql_mode (lax_prefix) when lax. */
static void
ordered_prefix(struct buf *q, int nofk, int lax)
{
	buf_lit(q, "SET STATEMENT foreign_key_checks=");
	buf_putc(q, nofk ? '0' : '1');
	if (lax)
		buf_lit(q, ", sql_mode='" APPLY_LAX_SQL_MODE "'");
	buf_lit(q, " FOR ");
}

/* Sends the INSERT kept open by ordered_row, if any. */
static int
ordered_close(struct eng *e)
{
	long long n = e->on;

	if (n == 0)
		return DB_OK;
	e->on = 0;
	return db_stmt_close(
	    e->d, "insert", e->otab->label, e->w->idem ? -1 : n);
}

/* One row change in source order, with foreign_key_checks=1 so that the
 * target's ON DELETE and ON UPDATE rules do what the source's did, as a
 * replica replaying the row events does (0 when nofk, as the source's
 * session had it: the row event's flag, "fk_checks" in srdf-record(5)):
 * an INSERT (consecutive rows of one table and plan in one statement),
 * an UPDATE of every written column or a DELETE, of the row found by its
 * key (or, without one, by all its values, LIMIT 1), which must be
 * there.  In srdf-bootstrap's window (an idempotent wagon) the row
 * becomes what the change made it, whatever the target holds: REPLACE
 * for an insert, an UPDATE then a REPLACE of the after-image, a DELETE
 * of the row if it is there; only a delete or update of a cascade
 * parent checks foreign keys (so that it cascades), the rest do not, as
 * the window's rows may be ahead of or behind each other. */
static int
ordered_row(struct eng *e, struct tab *t, int type, struct img before,
    struct img after, int nofk)
{
	struct db *d = e->d;
	struct buf *q = &d->q;
	size_t mark = e->arena.len, off, woff = 0;
	uint32_t len, wlen = 0, plan;
	int rc, lax, idem = e->w->idem;

	if (idem &&
	    (type == T_INSERT || !(t->ti->cascade || t->ti->upd_cascade)))
		nofk = 1;
	if (type == T_INSERT) {
		plan = plan_get(e, t, after);
		e->lax = 0;
		if ((rc = render_values(e, t, plan, after, &off, &len)) !=
		    DB_OK)
			return rc;
		lax = e->lax;
		if (e->on > 0 &&
		    (e->otab != t || e->oplan != plan || lax ||
		        e->onofk != nofk || e->on == ROWS_PER_STMT ||
		        db_stmt_len(d) >= db_row_limit(d)) &&
		    (rc = ordered_close(e)) != DB_OK)
			return rc;
		if (e->on == 0) {
			db_stmt_open(d);
			ordered_prefix(q, nofk, lax);
			buf_puts(q, idem && t->npk > 0 ? "REPLACE INTO "
			                               : "INSERT INTO ");
			buf_puts(q, t->qname);
			buf_putc(q, ' ');
			buf_puts(q, t->plans[plan].cols);
			buf_lit(q, " VALUES ");
			e->otab = t;
			e->oplan = plan;
			e->onofk = nofk;
		} else
			buf_putc(q, ',');
		buf_add(q, e->arena.p + off, len);
		e->on++;
		e->arena.len = mark;
		return lax ? ordered_close(e) : DB_OK;
	}
	if ((rc = ordered_close(e)) != DB_OK)
		return rc;
	plan = plan_get(e, t, before);
	rc = t->npk > 0 && !d->exact
	         ? render_key(e, t, before, &woff, &wlen)
	         : render_where(e, t, plan, before, &woff, &wlen);
	e->lax = 0;
	if (rc == DB_OK && type == T_UPDATE)
		rc = render_set(
		    e, t, plan_get(e, t, after), after, 0, 0, &off, &len);
	if (rc != DB_OK)
		return rc;
	db_stmt_open(d);
	ordered_prefix(q, nofk, e->lax);
	if (type == T_UPDATE) {
		buf_lit(q, "UPDATE ");
		buf_puts(q, t->qname);
		buf_lit(q, " SET ");
		buf_add(q, e->arena.p + off, len);
	} else {
		buf_lit(q, "DELETE FROM ");
		buf_puts(q, t->qname);
	}
	buf_lit(q, " WHERE ");
	if (t->npk > 0 && !d->exact) {
		pk_columns(q, t);
		buf_putc(q, '=');
	}
	buf_add(q, e->arena.p + woff, wlen);
	if (t->npk == 0 || d->exact)
		buf_lit(q, " LIMIT 1");
	rc = db_stmt_close(
	    d, type == T_UPDATE ? "update" : "delete", t->label, idem ? -1 : 1);
	if (rc == DB_OK && idem && type == T_UPDATE && t->npk > 0) {
		plan = plan_get(e, t, after);
		e->lax = 0;
		if ((rc = render_values(e, t, plan, after, &off, &len)) !=
		    DB_OK)
			return rc;
		db_stmt_open(d);
		ordered_prefix(q, 1, e->lax);
		buf_lit(q, "REPLACE INTO ");
		buf_puts(q, t->qname);
		buf_putc(q, ' ');
		buf_puts(q, t->plans[plan].cols);
		buf_lit(q, " VALUES ");
		buf_add(q, e->arena.p + off, len);
		rc = db_stmt_close(d, "insert", t->label, -1);
	}
	e->arena.len = mark;
	return rc;
}

/* A row change of t, a table without a primary key: one op, in order. */
static int
keyless_row(
    struct eng *e, struct tab *t, int type, struct img before, struct img after)
{
	struct op *o;
	int rc;

	o = op_add(t, type);
	if (type == T_INSERT) {
		o->plan = plan_get(e, t, after);
		e->lax = 0;
		rc = render_values(e, t, o->plan, after, &o->val, &o->vallen);
		o->lax = (uint8_t)e->lax;
		return rc;
	}
	o->plan = plan_get(e, t, before);
	if ((rc = render_where(
	         e, t, o->plan, before, &o->where, &o->wherelen)) != DB_OK)
		return rc;
	if (type == T_DELETE)
		return DB_OK;
	o->plan = plan_get(e, t, after);
	e->lax = 0;
	rc = render_set(e, t, o->plan, after, 0, 0, &o->val, &o->vallen);
	o->lax = (uint8_t)e->lax;
	return rc;
}

/* A row change of t, a table with a primary key: folded into the
 * entries of its keys (a move when the key of a parent of an ON UPDATE
 * rule changes). */
static int
keyed_row(
    struct eng *e, struct tab *t, int type, struct img before, struct img after)
{
	long xb, xa;
	int rc;

	xb = xa = -1;
	if (type != T_INSERT && (xb = keyed(e, t, before, 1, &rc)) < 0)
		return rc;
	/* The after key: the same entry, or for a primary-key change a new
	 * one (a delete of the old key and an insert of the new). */
	if (type != T_DELETE && (xa = keyed(e, t, after, 0, &rc)) < 0)
		return rc;
	if (xb >= 0 && xb != xa)
		t->ent[xb].after = 0;
	if (xb >= 0 && xa >= 0 && t->ti->upd_cascade &&
	    (rc = add_move(e, t, (uint32_t)xb, (uint32_t)xa, before, after)) !=
	        DB_OK)
		return rc;
	if (xa < 0)
		return DB_OK;
	t->ent[xa].plan = plan_get(e, t, after);
	t->ent[xa].after = 1;
	e->lax = 0;
	if (t->ent[xa].mvto > 0) {
		struct move *m = &t->mv[t->ent[xa].mvto - 1];

		if ((rc = render_set(e, t, t->ent[xa].plan, after,
		         COL_REFERENCED | COL_ROW_START | COL_ROW_END, 1,
		         &m->pre, &m->prelen)) != DB_OK)
			return rc;
	}
	rc = render_values(
	    e, t, t->ent[xa].plan, after, &t->ent[xa].val, &t->ent[xa].vallen);
	t->ent[xa].lax = (uint8_t)e->lax;
	return rc;
}

/* A row record r of the payload (type T_*) into the engine: skipped for
 * a table copied again, as history for a system-versioned one, in source
 * order, or folded.  ENG_REORDER when it sets off a cascade. */
static int
add_row(struct eng *e, int type, const struct rec *r)
{
	struct img before = {r->mem[IMG_BEFORE], r->nmem[IMG_BEFORE]};
	struct img after = {r->mem[IMG_AFTER], r->nmem[IMG_AFTER]};
	int isb =
	    r->img[IMG_BEFORE].p != NULL && r->img[IMG_BEFORE].p[0] == '{';
	int isa = r->img[IMG_AFTER].p != NULL && r->img[IMG_AFTER].p[0] == '{';
	struct tab *t;
	int rc;

	if ((type != T_DELETE && !isa) || (type != T_INSERT && !isb))
		return eng_bad(e, "%s record without its %s image",
		    type == T_INSERT   ? "insert"
		    : type == T_UPDATE ? "update"
		                       : "delete",
		    type == T_INSERT ? "after" : "before");
	/* A table srdf-bootstrap copied again after this wagon (recopy.c). */
	if (e->recopied != NULL && e->recopied->n > 0 &&
	    recopy_find(e->recopied, e->w, span_cstr(r->db, &e->sdb),
	        span_cstr(r->table, &e->stab), 0) != NULL) {
		e->w->skipped++;
		return DB_OK;
	}
	if ((t = tab_get(e, r, &rc)) == NULL)
		return rc;
	if (t->ti->versioned && e->d->history && !e->ordered)
		return versioned_add(e, t, type, before, after);
	if (t->ti->versioned && e->d->history) {
		/* In source order: its statements now, in their place. */
		size_t n0 = t->nop;

		if ((rc = versioned_add(e, t, type, before, after)) != DB_OK ||
		    (rc = ordered_close(e)) != DB_OK)
			return rc;
		for (size_t i = n0; i < t->nop && rc == DB_OK; i++)
			rc = versioned_emit(e, t, &t->op[i]);
		t->nop = n0;
		return rc;
	}
	if (t->ti->versioned &&
	    (type = versioned_row(e, t, type, before, after)) < 0)
		return DB_OK;
	e->w->rows++;
	if (e->ordered)
		return ordered_row(e, t, type, before, after,
		    r->fk_checks.n == 5 &&
		        memcmp(r->fk_checks.p, "false", 5) == 0);
	if (cascades(e, t, type, before, after))
		return ENG_REORDER;
	if (t->npk == 0)
		return keyless_row(e, t, type, before, after);
	return keyed_row(e, t, type, before, after);
}

/* ---- statements -------------------------------------------------------- */

/* Opens a statement that writes a row holding an ENUM's error value:
 * strict mode off for it alone (APPLY_LAX_SQL_MODE). */
void
lax_prefix(struct buf *q)
{
	buf_lit(q, "SET STATEMENT sql_mode='" APPLY_LAX_SQL_MODE "' FOR ");
}

/* The primary key's columns as a key literal (render_key) is compared
 * with: "`k`" or "(`k1`,`k2`)". */
static void
pk_columns(struct buf *q, const struct tab *t)
{
	if (t->npk > 1)
		buf_putc(q, '(');
	for (size_t k = 0; k < t->npk; k++) {
		if (k > 0)
			buf_putc(q, ',');
		sql_ident(q, t->pk[k]);
	}
	if (t->npk > 1)
		buf_putc(q, ')');
}

/* One row of t deleted by all its values, the first before-image of
 * x (see "Exact undo"): it must touch exactly that row. */
static int
exact_delete(struct eng *e, struct tab *t, const struct ent *x)
{
	struct db *d = e->d;
	struct buf *q = &d->q;
	char label[sizeof d->st[0].table];

	db_stmt_open(d);
	buf_lit(q, "DELETE FROM ");
	buf_puts(q, t->qname);
	buf_lit(q, " WHERE ");
	buf_add(q, e->arena.p + x->bw, x->bwlen);
	snprintf(label, sizeof label, "%s key %.*s", t->label, (int)x->keylen,
	    e->arena.p + x->key);
	return db_stmt_close(d, "delete", label, 1);
}

/* An exact undo (see "Exact undo") of groups folded together: the keys
 * they put back and remove again (the row neither before nor after
 * them) must be free on the target, as the groups one by one would find
 * them (their insert would meet a duplicate key): a row there was
 * written on the copy.  Each is deleted, a statement of up to
 * ROWS_PER_STMT keys that must touch none (db.c fails the batch
 * otherwise), or with DB_EXACT_ROW one a statement, which names it.
 * Returns a DB_* code. */
static int
exact_absent(struct eng *e, struct tab *t)
{
	struct db *d = e->d;
	struct buf *q = &d->q;
	char label[sizeof d->st[0].table];
	long long n = 0;
	int rc;

	for (size_t i = 0; i < t->nent; i++) {
		const struct ent *x = &t->ent[i];

		if (x->before || x->after || x->move)
			continue;
		if (n == 0) {
			db_stmt_open(d);
			buf_lit(q, "DELETE FROM ");
			buf_puts(q, t->qname);
			buf_lit(q, " WHERE ");
			pk_columns(q, t);
			buf_lit(q, " IN (");
		} else
			buf_putc(q, ',');
		buf_add(q, e->arena.p + x->key, x->keylen);
		if (d->exact == DB_EXACT_ROW) {
			buf_putc(q, ')');
			snprintf(label, sizeof label, "%s key %.*s", t->label,
			    (int)x->keylen, e->arena.p + x->key);
			if ((rc = db_stmt_close(d, "delete", label, 0)) !=
			    DB_OK)
				return rc;
			continue;
		}
		if (++n == ROWS_PER_STMT || db_stmt_len(d) >= db_row_limit(d)) {
			buf_putc(q, ')');
			if ((rc = db_stmt_close(d, "delete", t->label, 0)) !=
			    DB_OK)
				return rc;
			n = 0;
		}
	}
	if (n > 0) {
		buf_putc(q, ')');
		return db_stmt_close(d, "delete", t->label, 0);
	}
	return DB_OK;
}

/* Deletes the keys of t that existed before the group; phase 0 all but
 * the cascading deletes and those a bulk REPLACE replaces, phase 1 the
 * cascading ones, phase 2 those of the REPLACE (when it did not run);
 * never the keys of a move, whose new keys phase 3 deletes (emit_moves).
 * Returns a DB_* code. */
static int
emit_deletes(struct eng *e, struct tab *t, int phase)
{
	struct db *d = e->d;
	struct buf *q = &d->q;
	long long n = 0, xn = 0;
	int rc, cascade = t->ti->cascade;

	for (size_t i = 0; i < t->nent; i++) {
		struct ent *x = &t->ent[i];
		int deferred = cascade && !x->after;
		int want = phase == 0   ? !deferred && !(t->bulk && x->after)
		           : phase == 1 ? deferred
		                        : x->after;

		if (phase == 3) {
			if (x->move != MOVE_TO)
				continue;
		} else if (!x->before || !want || x->move)
			continue;
		if (d->exact == DB_EXACT_ROW && x->bwlen > 0) {
			if ((rc = exact_delete(e, t, x)) != DB_OK)
				return rc;
			continue;
		}
		if (d->exact && x->bwlen > 0) {
			/* "(row) OR (row) ...": all must be found */
			if (xn == 0) {
				db_stmt_open(d);
				buf_lit(q, "DELETE FROM ");
				buf_puts(q, t->qname);
				buf_lit(q, " WHERE (");
			} else
				buf_lit(q, ") OR (");
			buf_add(q, e->arena.p + x->bw, x->bwlen);
			if (++xn == ROWS_PER_STMT ||
			    db_stmt_len(d) >= db_row_limit(d)) {
				buf_putc(q, ')');
				if ((rc = db_stmt_close(
				         d, "delete", t->label, xn)) != DB_OK)
					return rc;
				xn = 0;
			}
			continue;
		}
		if (n == 0) {
			db_stmt_open(d);
			buf_lit(q, "DELETE FROM ");
			buf_puts(q, t->qname);
			buf_lit(q, " WHERE ");
			pk_columns(q, t);
			buf_lit(q, " IN (");
		} else
			buf_putc(q, ',');
		buf_add(q, e->arena.p + x->key, x->keylen);
		if (++n == ROWS_PER_STMT || db_stmt_len(d) >= db_row_limit(d)) {
			buf_putc(q, ')');
			if ((rc = db_stmt_close(d, "delete", t->label,
			         e->w->idem ? -1 : n)) != DB_OK)
				return rc;
			n = 0;
		}
	}
	if (xn > 0) {
		buf_putc(q, ')');
		if ((rc = db_stmt_close(d, "delete", t->label, xn)) != DB_OK)
			return rc;
	}
	if (n > 0) {
		buf_putc(q, ')');
		return db_stmt_close(
		    d, "delete", t->label, e->w->idem ? -1 : n);
	}
	return DB_OK;
}

static int
emit_inserts(struct eng *e, struct tab *t, int moved)
{
	struct db *d = e->d;
	struct buf *q = &d->q;
	uint32_t plan = 0;
	long long n = 0;
	int rc, loaded, lax = 0;

	if (t->bulk && !moved) {
		loaded = 0;
		if (db_bulk_enabled(d) &&
		    ((rc = emit_load(e, t, &loaded)) != DB_OK || loaded))
			return rc;
		/* Not loaded: the keys it would have replaced go first. */
		if ((rc = emit_deletes(e, t, 2)) != DB_OK)
			return rc;
	}

	for (size_t i = 0; i < t->nent; i++) {
		struct ent *x = &t->ent[i];

		if (!x->after || (x->move == MOVE_TO) != moved)
			continue;
		if (n > 0 && (x->plan != plan || x->lax != lax)) {
			if ((rc = db_stmt_close(d, "insert", t->label, -1)) !=
			    DB_OK)
				return rc;
			n = 0;
		}
		if (n == 0) {
			plan = x->plan;
			lax = x->lax;
			db_stmt_open(d);
			if (x->lax)
				lax_prefix(q);
			if (e->w->idem)
				buf_lit(q, "REPLACE INTO ");
			else
				buf_lit(q, "INSERT INTO ");
			buf_puts(q, t->qname);
			buf_putc(q, ' ');
			buf_puts(q, t->plans[plan].cols);
			buf_lit(q, " VALUES ");
		} else
			buf_putc(q, ',');
		buf_add(q, e->arena.p + x->val, x->vallen);
		if (++n == ROWS_PER_STMT || db_stmt_len(d) >= db_row_limit(d)) {
			if ((rc = db_stmt_close(d, "insert", t->label, -1)) !=
			    DB_OK)
				return rc;
			n = 0;
		}
	}
	return n > 0 ? db_stmt_close(d, "insert", t->label, -1) : DB_OK;
}

/* Rows of a table without a primary key, in order; runs of inserts
 * become one statement. */
static int
emit_ops(struct eng *e, struct tab *t)
{
	struct db *d = e->d;
	struct buf *q = &d->q;
	long long n = 0;
	uint32_t plan = 0;
	int rc;

	for (size_t i = 0; i < t->nop; i++) {
		struct op *o = &t->op[i];

		if (n > 0 && (o->type != T_INSERT || o->plan != plan ||
		                 n == ROWS_PER_STMT || o->lax ||
		                 db_stmt_len(d) >= db_row_limit(d))) {
			if ((rc = db_stmt_close(d, "insert", t->label, -1)) !=
			    DB_OK)
				return rc;
			n = 0;
		}
		switch (o->type) {
		case T_VINSERT:
		case T_VUPDATE:
		case T_VDELETE:
		case T_VPURGE:
			if ((rc = versioned_emit(e, t, o)) != DB_OK)
				return rc;
			continue;
		case T_INSERT:
			if (n++ == 0) {
				plan = o->plan;
				db_stmt_open(d);
				if (o->lax) {
					lax_prefix(q);
					n = ROWS_PER_STMT; /* alone */
				}
				buf_lit(q, "INSERT INTO ");
				buf_puts(q, t->qname);
				buf_putc(q, ' ');
				buf_puts(q, t->plans[plan].cols);
				buf_lit(q, " VALUES ");
			} else
				buf_putc(q, ',');
			buf_add(q, e->arena.p + o->val, o->vallen);
			continue;
		case T_UPDATE:
			db_stmt_open(d);
			if (o->lax)
				lax_prefix(q);
			buf_lit(q, "UPDATE ");
			buf_puts(q, t->qname);
			buf_lit(q, " SET ");
			buf_add(q, e->arena.p + o->val, o->vallen);
			break;
		default:
			db_stmt_open(d);
			buf_lit(q, "DELETE FROM ");
			buf_puts(q, t->qname);
			break;
		}
		buf_lit(q, " WHERE ");
		buf_add(q, e->arena.p + o->where, o->wherelen);
		buf_lit(q, " LIMIT 1");
		if ((rc = db_stmt_close(d,
		         o->type == T_UPDATE ? "update" : "delete", t->label,
		         1)) != DB_OK)
			return rc;
	}
	return n > 0 ? db_stmt_close(d, "insert", t->label, -1) : DB_OK;
}

int
eng_stmt(struct db *d, const char *kind, const char *sql)
{
	db_stmt_open(d);
	buf_puts(&d->q, sql);
	return db_stmt_close(d, kind, NULL, -1);
}

/* ---- moves ------------------------------------------------------------- */

/* The moves of t that are whole (see "Moves"): the old key existed before
 * the group and is gone after it, the new one did not and is there after
 * it, or (in place) the row is there before and after; neither entry in
 * another move.  Marks their entries; their count. */
static size_t
moves_mark(struct tab *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nmv; i++) {
		struct ent *a = &t->ent[t->mv[i].from],
		           *b = &t->ent[t->mv[i].to];

		if (a == b ? !a->before || !a->after || a->move
		           : !a->before || a->after || b->before || !b->after ||
		                 a->move || b->move) {
			t->mv[i].setlen = 0;
			continue;
		}
		a->move = MOVE_FROM;
		b->move = MOVE_TO;
		n++;
	}
	return t->nmoved = n;
}

/* "UPDATE t SET <the arena's set, len bytes> WHERE <key> = <m's old key>",
 * queued; expect: the rows it must change, or -1 for no check. */
static int
move_update(struct eng *e, struct tab *t, const struct move *m, size_t set,
    uint32_t len, long long expect)
{
	struct db *d = e->d;
	struct buf *q = &d->q;
	const struct ent *a = &t->ent[m->from];

	db_stmt_open(d);
	if (t->ent[m->to].lax)
		lax_prefix(q);
	buf_lit(q, "UPDATE ");
	buf_puts(q, t->qname);
	buf_lit(q, " SET ");
	buf_add(q, e->arena.p + set, len);
	buf_lit(q, " WHERE ");
	pk_columns(q, t);
	buf_putc(q, '=');
	buf_add(q, e->arena.p + a->key, a->keylen);
	return db_stmt_close(d, "update", t->label, expect);
}

/* Before step 2 (see "Moves"): the rows of t's moves, still at their old
 * key or referenced values, given the group's values in every other
 * column, so that a row step 2 writes with a unique value one of them
 * held before the group does not find it still there.  What a move's row
 * ends as is written again by emit_moves.  foreign_key_checks=0 holds:
 * no referenced column changes here. */
static int
emit_move_preps(struct eng *e, struct tab *t)
{
	int rc;

	for (size_t i = 0; i < t->nmv; i++) {
		const struct move *m = &t->mv[i];

		if (m->setlen > 0 && m->prelen > 0 &&
		    (rc = move_update(e, t, m, m->pre, m->prelen, -1)) != DB_OK)
			return rc;
	}
	return DB_OK;
}

/* The moves of t, after the other rows are in place: each old key (or
 * referenced value) changed to the new one by an UPDATE with
 * foreign_key_checks=1, so that the target's ON UPDATE rule changes the
 * children as the source's did; then the rows of the new keys are
 * written as the group left them. */
static int
emit_moves(struct eng *e, struct tab *t)
{
	struct db *d = e->d;
	int rc;

	if ((rc = eng_stmt(d, "session", "SET SESSION foreign_key_checks=1")) !=
	    DB_OK)
		return rc;
	for (size_t i = 0; i < t->nmv; i++) {
		const struct move *m = &t->mv[i];

		if (m->setlen > 0 &&
		    (rc = move_update(e, t, m, m->set, m->setlen,
		         e->w->idem ? -1 : 1)) != DB_OK)
			return rc;
	}
	if ((rc = eng_stmt(d, "session", "SET SESSION foreign_key_checks=0")) !=
	        DB_OK ||
	    (rc = emit_deletes(e, t, 3)) != DB_OK)
		return rc;
	return emit_inserts(e, t, 1);
}

/* The net delta of the rows read so far, queued (and sent as batches
 * fill); the tables are forgotten afterwards. */
static int
flush_rows(struct eng *e)
{
	int rc = DB_OK, cascades = 0;
	size_t i;

	/* Groups folded together: a cascade parent's delete and re-insert
	 * would net out to an update, and the target would not cascade;
	 * a move followed by a change of either key would not be one. */
	for (i = 0; i < e->ntab && e->merged; i++)
		if (e->tabs[i]->npk > 0 && e->tabs[i]->nent > 0 &&
		    (e->tabs[i]->ti->cascade || e->tabs[i]->ti->upd_cascade)) {
			tabs_clear(e);
			return DB_SPLIT;
		}
	for (i = 0; i < e->ntab; i++) {
		if (e->tabs[i]->nmv > 0)
			moves_mark(e->tabs[i]);
		bulk_plan(e, e->tabs[i]);
	}
	for (i = 0; i < e->ntab && rc == DB_OK; i++)
		if (e->tabs[i]->npk > 0)
			rc = emit_deletes(e, e->tabs[i], 0);
	for (i = 0; i < e->ntab && rc == DB_OK && e->d->exact; i++)
		if (e->tabs[i]->npk > 0)
			rc = exact_absent(e, e->tabs[i]);
	for (i = 0; i < e->ntab && rc == DB_OK; i++)
		if (e->tabs[i]->nmoved > 0)
			rc = emit_move_preps(e, e->tabs[i]);
	for (i = 0; i < e->ntab && rc == DB_OK; i++)
		if (e->tabs[i]->npk > 0)
			rc = emit_inserts(e, e->tabs[i], 0);
	for (i = 0; i < e->ntab && rc == DB_OK; i++)
		if (e->tabs[i]->npk == 0)
			rc = emit_ops(e, e->tabs[i]);
	for (i = 0; i < e->ntab && rc == DB_OK; i++)
		if (e->tabs[i]->nmoved > 0)
			rc = emit_moves(e, e->tabs[i]);
	for (i = 0; i < e->ntab && rc == DB_OK; i++) {
		struct tab *t = e->tabs[i];

		if (t->npk == 0 || !t->ti->cascade)
			continue;
		for (size_t k = 0; k < t->nent && !cascades; k++)
			if (t->ent[k].before && !t->ent[k].after) {
				cascades = 1;
				rc = eng_stmt(e->d, "session",
				    "SET SESSION foreign_key_checks=1");
			}
		if (rc == DB_OK)
			rc = emit_deletes(e, t, 1);
	}
	if (cascades && rc == DB_OK)
		rc = eng_stmt(
		    e->d, "session", "SET SESSION foreign_key_checks=0");
	tabs_clear(e);
	return rc;
}

/* "(k1 OP1 v1 OR (k1 = v1 AND (k2 OP v2)))": the primary key of t against
 * the key literals lits[i] (offsets into e->arena, lens), lexicographic,
 * OP ">" or "<=" for the last column and the strict one before it. */
static void
range_cond(struct eng *e, struct tab *t, const size_t *lits,
    const uint32_t *lens, const char *op)
{
	struct buf *q = &e->d->q;
	const char *strict = op[0] == '>' ? ">" : "<";

	buf_putc(q, '(');
	for (size_t i = 0; i < t->npk; i++) {
		if (i > 0)
			buf_lit(q, " AND (");
		sql_ident(q, t->pk[i]);
		buf_printf(q, " %s ", i == t->npk - 1 ? op : strict);
		buf_add(q, e->arena.p + lits[i], lens[i]);
		if (i < t->npk - 1) {
			buf_lit(q, " OR (");
			sql_ident(q, t->pk[i]);
			buf_lit(q, " = ");
			buf_add(q, e->arena.p + lits[i], lens[i]);
		}
	}
	for (size_t i = 0; i < t->npk; i++)
		buf_putc(q, ')');
	for (size_t i = 1; i < t->npk; i++)
		buf_putc(q, ')');
}

/* The key image bound ({"k": v, ...}) of a "range" record as literals
 * into e->arena: lits[i], lens[i] per primary-key column of t. */
static int
range_bound(
    struct eng *e, struct tab *t, json_t *bound, size_t *lits, uint32_t *lens)
{
	for (size_t i = 0; i < t->npk; i++) {
		json_t *v = json_object_get(bound, t->pk[i]);
		char *text;
		int rc;

		if (v == NULL || json_is_null(v))
			return eng_bad(e,
			    "range record of %s without its key "
			    "column %s",
			    t->label, t->pk[i]);
		if ((text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) ==
		    NULL)
			return eng_bad(e, "out of memory");
		lits[i] = e->arena.len;
		rc = literal(e, t, t->pk[i], (struct jspan){text, strlen(text)},
		    t->pkflags[i], 1);
		free(text);
		if (rc != DB_OK)
			return rc;
		lens[i] = (uint32_t)(e->arena.len - lits[i]);
	}
	return DB_OK;
}

/* A "range" record (srdf-record(5)): srdf-bootstrap --resync's chunk
 * holds every row of its table's key range (lo, hi] as the source had
 * them at the chunk's watermark, so the target's rows in the range go
 * first, by one DELETE in the wagon's transaction; the chunk's inserts
 * that follow then fill the range.  lo or hi null: the range is open on
 * that side (both, for a table without a primary key: all its rows). */
static int
run_range(struct eng *e, const struct rec *r, const char *s, const char *z)
{
	size_t lo[64], hi[64];
	uint32_t lolen[64], hilen[64];
	const char *type;
	json_t *rec, *jlo, *jhi;
	struct tab *t;
	int rc;

	if ((t = tab_get(e, r, &rc)) == NULL)
		return rc;
	if (t->npk > 64)
		return eng_bad(e,
		    "a range record of %s, whose primary key "
		    "has more than 64 columns",
		    t->label);
	if ((rec = eng_parse(e, s, z, &type, &rc)) == NULL)
		return rc;
	jlo = json_object_get(rec, "lo");
	jhi = json_object_get(rec, "hi");
	if ((jlo != NULL && !json_is_object(jlo) && !json_is_null(jlo)) ||
	    (jhi != NULL && !json_is_object(jhi) && !json_is_null(jhi))) {
		json_decref(rec);
		return eng_bad(e, "range record whose \"lo\" or \"hi\" is "
		                  "not a key image or null");
	}
	/* A table without a primary key is copied whole: both open. */
	if (t->npk == 0 && (json_is_object(jlo) || json_is_object(jhi))) {
		json_decref(rec);
		return eng_bad(e,
		    "a range record of %s with key bounds, a table "
		    "without a primary key on the target",
		    t->label);
	}
	rc = DB_OK;
	if (json_is_object(jlo))
		rc = range_bound(e, t, jlo, lo, lolen);
	if (rc == DB_OK && json_is_object(jhi))
		rc = range_bound(e, t, jhi, hi, hilen);
	if (rc == DB_OK) {
		db_stmt_open(e->d);
		buf_lit(&e->d->q, "DELETE FROM ");
		buf_puts(&e->d->q, t->qname);
		if (json_is_object(jlo) || json_is_object(jhi))
			buf_lit(&e->d->q, " WHERE ");
		if (json_is_object(jlo))
			range_cond(e, t, lo, lolen, ">");
		if (json_is_object(jlo) && json_is_object(jhi))
			buf_lit(&e->d->q, " AND ");
		if (json_is_object(jhi))
			range_cond(e, t, hi, hilen, "<=");
		rc = db_stmt_close(e->d, "delete", t->label, -1);
	}
	json_decref(rec);
	return rc;
}

/* A range record where it comes: first in its group (own: rows of this
 * wagon came before it), after the rows of the wagons merged before
 * this one (queued: rows came), which go to the target first so that
 * the range's DELETE comes after them, as on the source. */
static int
run_range_at(struct eng *e, const struct rec *r, const char *s, const char *z,
    int own, int queued)
{
	int rc;

	if (own)
		return eng_bad(e, "a range record after row changes in one "
		                  "group");
	if (queued && (rc = flush_rows(e)) != DB_OK)
		return rc;
	return run_range(e, r, s, z);
}

/* One wagon's payload, after its group_begin, up to its group_end, into
 * e (the rows are queued, the DDL run).  *rows: whether rows came. */
static int
run_payload(struct eng *e, ddl_mark_fn mark, void *arg, int *rows)
{
	struct inwagon *w = e->w;
	const char *p = w->records, *end = w->records + w->len, *s, *z;
	const char *type;
	json_t *rec;
	int trunc, rc = DB_OK, ddl = 0, own = 0;

	/* group_begin: engine_peek read it */
	eng_next_line(&p, end, &s, &trunc);
	e->line = 1;
	while (
	    rc == DB_OK && (z = eng_next_line(&p, end, &s, &trunc)) != NULL) {
		struct rec r;

		e->line++;
		/* Row records, nearly all of a payload, by the scanner; the
		 * rest (and the words of an error) by jansson. */
		if (scan_record(&e->sc, s, (size_t)(z - s), &r) == 0) {
			switch (r.type) {
			case R_INSERT:
				rc = add_row(e, T_INSERT, &r);
				*rows = own = 1;
				continue;
			case R_UPDATE:
				rc = add_row(e, T_UPDATE, &r);
				*rows = own = 1;
				continue;
			case R_DELETE:
				rc = add_row(e, T_DELETE, &r);
				*rows = own = 1;
				continue;
			case R_RANGE:
				rc = run_range_at(e, &r, s, z, own, *rows);
				continue;
			case R_COMMIT:
			case R_TRX: /* a boundary; the caller cut there */
				continue;
			case R_BEGIN:
				if (r.xa.p == NULL)
					continue;
				break;
			default:
				break;
			}
		}
		if ((rec = eng_parse(e, s, z, &type, &rc)) == NULL)
			break;
		if (strcmp(type, "insert") == 0 ||
		    strcmp(type, "update") == 0 ||
		    strcmp(type, "delete") == 0) {
			/* jansson takes what the scanner refused: a NUL byte
			 * after a number or a literal. */
			rc = eng_bad(e, "malformed record: a NUL byte in it");
		} else if (strcmp(type, "ddl") == 0) {
			if (*rows)
				rc = eng_bad(e,
				    "a DDL after row changes in one "
				    "group: they would commit with it, before "
				    "the checkpoint");
			else if (mark == NULL)
				rc = eng_bad(e, "a DDL in a wagon applied on a "
				                "parallel connection");
			else
				rc = run_ddl(e, rec, ddl++, mark, arg);
		} else if (strcmp(type, "group_end") == 0) {
			json_decref(rec);
			break;
		} else if ((strcmp(type, "begin") == 0 &&
		               json_object_get(rec, "xa") != NULL) ||
		           strcmp(type, "xa_prepare") == 0 ||
		           strcmp(type, "xa_end") == 0) {
			/* xa.c runs an XA PREPARE group's rows with its
			 * XA COMMIT, never otherwise */
			if (w->xa == XA_NONE)
				rc = eng_bad(e,
				    "an XA record in a wagon that was "
				    "not read as XA");
		} else if (strcmp(type, "begin") != 0 &&
		           strcmp(type, "commit") != 0 &&
		           strcmp(type, "trx") != 0) {
			rc = eng_bad(e, "a \"%s\" record inside a group", type);
		}
		json_decref(rec);
	}
	return rc;
}

int
engine_run_many(struct db *d, struct buf *kept, struct inwagon **ws, size_t n,
    const struct recopy_list *recopied, ddl_mark_fn mark, void *arg)
{
	struct eng e = {
	    .d = d, .w = ws[0], .merged = n > 1, .recopied = recopied};
	int rc = DB_OK, rows = 0;
	size_t len = 0;

	/* The arena holds less than the payloads (keys and after-images
	 * as SQL text): sized once, it is never copied as it fills. */
	if (kept != NULL) {
		e.arena = *kept;
		*kept = (struct buf){0};
	}
	e.arena.len = 0;
	for (size_t i = 0; i < n; i++)
		len += ws[i]->len;
	buf_grow(&e.arena, len + 1);
	if (ws[0]->chunk == 1) {
		d->missing = 0;
		/* (a wagon tried again: its records come again) */
		for (struct tinfo *ti = d->tabs; ti != NULL; ti = ti->next) {
			free(ti->vhist);
			ti->vhist = NULL;
		}
	}
	for (size_t i = 0; i < n && rc == DB_OK; i++) {
		e.w = ws[i];
		db_tables_prefetch(d, ws[i]);
		rc = run_payload(&e, mark, arg, &rows);
	}
	if (rc == ENG_REORDER && n > 1) {
		rc = DB_SPLIT;
	} else if (rc == ENG_REORDER) {
		/* Nothing was sent yet (rows are sent by flush_rows): read
		 * the payload again, in order. */
		tabs_clear(&e);
		e.arena.len = 0;
		e.ordered = 1;
		ws[0]->rows = ws[0]->skipped = 0;
		rows = 0;
		if ((rc = run_payload(&e, mark, arg, &rows)) == DB_OK)
			rc = ordered_close(&e);
		if (rc == DB_OK)
			log_debug("wagon %" PRIu64 ": applied in source order: "
			          "it deletes or changes the parent of a "
			          "cascading foreign key",
			    ws[0]->seq);
	} else if (rc == DB_OK)
		rc = flush_rows(&e);
	tabs_clear(&e);
	free(e.tabs);
	if (kept != NULL && e.arena.cap <= ARENA_KEEP)
		*kept = e.arena;
	else
		buf_free(&e.arena);
	scanner_free(&e.sc);
	buf_free(&e.tmp);
	buf_free(&e.sdb);
	buf_free(&e.stab);
	return rc;
}

int
engine_run(struct db *d, struct buf *kept, struct inwagon *w,
    const struct recopy_list *recopied, ddl_mark_fn mark, void *arg)
{
	return engine_run_many(d, kept, &w, 1, recopied, mark, arg);
}
