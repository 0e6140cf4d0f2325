/*
 * reverse.c — a consistency group, or one source transaction, turned
 * around (srdf-rewind(1), "The undo"): its row records in reverse order,
 * an insert become the delete of its after-image, a delete the insert of
 * its before-image, an update with its two images swapped.  Applied as a
 * group by srdf-apply's engine, that takes the rows from the state after
 * the group to the state before it: the engine deletes the rows of the
 * (new) before-images and inserts the (new) after-images, and with
 * db.exact each row it deletes must equal its image in every column.
 *
 * The records are rewritten from the spans the scanner gives (lib/scan.h),
 * never parsed to values and printed again: every value keeps its exact
 * text (a FLOAT's -0, a big integer's digits).
 *
 * What it refuses: a DDL (no before-image of a schema), an XA
 * transaction (prepared rows are not committed ones), a delete or update
 * of a row of a cascade parent ("cascade":true: the children's changes
 * are not in the binlog, so their undo is unknown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rewind.h"
#include "xalloc.h"

/* "db.table" of row record r into tmp, NUL-terminated. */
static void
table_name(const struct rec *r, struct buf *tmp)
{
	struct jstr j;

	tmp->len = 0;
	if (jspan_str(r->db, &j) == 0)
		jstr_decode(&j, tmp);
	buf_putc(tmp, '.');
	if (jspan_str(r->table, &j) == 0)
		jstr_decode(&j, tmp);
	buf_putc(tmp, '\0');
}

/* The table of row record r in pl. */
static struct rev_table *
plan_table(struct rev_plan *pl, const struct rec *r, struct buf *tmp)
{
	table_name(r, tmp);
	for (size_t i = 0; i < pl->n; i++)
		if (strcmp(pl->t[i].name, tmp->p) == 0)
			return &pl->t[i];
	pl->t = xgrow(pl->t, &pl->cap, pl->n + 1, sizeof *pl->t);
	memset(&pl->t[pl->n], 0, sizeof pl->t[pl->n]);
	pl->t[pl->n].name = xstrdup(tmp->p);
	{
		struct jstr j;
		struct buf b = {0};

		if (jspan_str(r->db, &j) == 0)
			jstr_decode(&j, &b);
		buf_putc(&b, '\0');
		pl->t[pl->n].db = b.p;
		b = (struct buf){0};
		if (jspan_str(r->table, &j) == 0)
			jstr_decode(&j, &b);
		buf_putc(&b, '\0');
		pl->t[pl->n].tab = b.p;
	}
	return &pl->t[pl->n++];
}

static void
span_gtid(struct jspan g, char *out, size_t n, struct buf *tmp)
{
	struct jstr j;

	if (g.p == NULL || jspan_str(g, &j) != 0)
		return;
	tmp->len = 0;
	jstr_decode(&j, tmp);
	snprintf(out, n, "%.*s", (int)tmp->len, tmp->p);
}

/* One row record r, reversed, onto out. */
static void
put_reversed(struct buf *out, const struct rec *r)
{
	static const char *const name[] = {[R_INSERT] = "delete",
	    [R_UPDATE] = "update",
	    [R_DELETE] = "insert"};

	buf_lit(out, "{\"v\":1,\"type\":\"");
	buf_puts(out, name[r->type]);
	buf_lit(out, "\",\"db\":");
	buf_add(out, r->db.p, r->db.n);
	buf_lit(out, ",\"table\":");
	buf_add(out, r->table.p, r->table.n);
	buf_lit(out, ",\"pk\":");
	buf_add(out, r->pk.p, r->pk.n);
	if (r->type != R_DELETE) {
		buf_lit(out, ",\"before\":");
		buf_add(out, r->img[IMG_AFTER].p, r->img[IMG_AFTER].n);
	}
	if (r->type != R_INSERT) {
		buf_lit(out, ",\"after\":");
		buf_add(out, r->img[IMG_BEFORE].p, r->img[IMG_BEFORE].n);
	}
	if (r->fk_checks.p != NULL)
		buf_lit(out, ",\"fk_checks\":false");
	buf_lit(out, "}\n");
}

/* A transaction's commit time ts (a JSON number span) into pl. */
static void
plan_ts(struct rev_plan *pl, struct jspan ts)
{
	unsigned long long v;

	if (pl == NULL || ts.p == NULL || sscanf(ts.p, "%llu", &v) != 1 ||
	    v == 0)
		return;
	if (pl->first_ts == 0 || v < pl->first_ts)
		pl->first_ts = v;
}

/* A line the scanner does not take (a record kind it does not know, as
 * "group_begin"): a group_end's transactions into *gtrx, its GTIDs and
 * first commit into pl.  0, or -1 when the line is no JSON object with
 * a "type". */
static int
other_line(const char *s, size_t len, struct rev_plan *pl, long long *gtrx)
{
	json_t *rec = json_loadb(s, len, JSON_ALLOW_NUL, NULL);
	const char *t = json_string_value(json_object_get(rec, "type"));
	const char *g;
	json_int_t v;

	if (t == NULL) {
		json_decref(rec);
		return -1;
	}
	if (strcmp(t, "group_end") == 0 && pl != NULL) {
		if (json_is_integer(json_object_get(rec, "trx")))
			*gtrx +=
			    json_integer_value(json_object_get(rec, "trx"));
		if ((g = json_string_value(
		         json_object_get(rec, "first_gtid"))) != NULL &&
		    pl->first_gtid[0] == '\0')
			snprintf(
			    pl->first_gtid, sizeof pl->first_gtid, "%s", g);
		if ((g = json_string_value(
		         json_object_get(rec, "last_gtid"))) != NULL)
			snprintf(pl->last_gtid, sizeof pl->last_gtid, "%s", g);
		v = json_integer_value(json_object_get(rec, "first_ts"));
		if (v > 0 && (pl->first_ts == 0 || (uint64_t)v < pl->first_ts))
			pl->first_ts = (uint64_t)v;
	}
	json_decref(rec);
	return 0;
}

int
rev_payload(const char *p, size_t len, struct buf *out, struct rev_plan *pl,
    char *why, size_t whylen)
{
	struct scanner sc = {0};
	struct buf tmp = {0};
	const char *end = p + len, *s, *nl;
	size_t *rows = NULL, nrows = 0, caprows = 0;
	unsigned long line = 0;
	long long gtrx = -1, nbegin = 0;
	int rc = 0;

	/* The row records' offsets, in order. */
	for (s = p; s < end && rc == 0; s = nl + 1) {
		struct rec r;

		line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if (nl == s)
			continue;
		if (scan_record(&sc, s, (size_t)(nl - s), &r) != 0) {
			if (gtrx < 0)
				gtrx = 0;
			if (other_line(s, (size_t)(nl - s), pl, &gtrx) != 0) {
				snprintf(why, whylen,
				    "line %lu is no srdf-record(5) record",
				    line);
				rc = -1;
			}
			/* group_begin, group_end, trx: no change */
			continue;
		}
		switch (r.type) {
		case R_INSERT:
		case R_UPDATE:
		case R_DELETE:
			if (r.cascade.p != NULL && r.type != R_INSERT) {
				table_name(&r, &tmp);
				snprintf(why, whylen,
				    "it %s a row of %s, the parent of a "
				    "foreign key with ON DELETE or ON UPDATE "
				    "CASCADE or SET NULL (\"cascade\":true): "
				    "the changes that made to the children are "
				    "not in the binlog, so they cannot be "
				    "undone",
				    r.type == R_DELETE ? "deletes" : "updates",
				    tmp.p);
				rc = -1;
				break;
			}
			rows = xgrow(rows, &caprows, nrows + 1, sizeof *rows);
			rows[nrows++] = (size_t)(s - p);
			if (pl != NULL) {
				struct rev_table *t = plan_table(pl, &r, &tmp);

				if (r.type == R_INSERT)
					t->del++;
				else if (r.type == R_DELETE)
					t->ins++;
				else
					t->upd++;
				pl->rows++;
			}
			break;
		case R_BEGIN:
			if (r.xa.p != NULL) {
				snprintf(why, whylen,
				    "it holds an XA transaction: "
				    "its rows were prepared, not committed, "
				    "and cannot be undone");
				rc = -1;
				break;
			}
			if (pl != NULL) {
				if (pl->first_gtid[0] == '\0')
					span_gtid(r.gtid, pl->first_gtid,
					    sizeof pl->first_gtid, &tmp);
				span_gtid(r.gtid, pl->last_gtid,
				    sizeof pl->last_gtid, &tmp);
			}
			nbegin++;
			plan_ts(pl, r.ts);
			break;
		case R_COMMIT:
			plan_ts(pl, r.ts);
			break;
		case R_DDL:
			snprintf(why, whylen,
			    "it holds a DDL statement, which has no "
			    "before-image to undo it with");
			rc = -1;
			break;
		case R_XA_PREPARE:
		case R_XA_END:
			snprintf(why, whylen,
			    "it holds an XA transaction: XA groups "
			    "cannot be undone");
			rc = -1;
			break;
		case R_RANGE:
			snprintf(why, whylen,
			    "it holds a key range copied again by "
			    "srdf-bootstrap --resync or --add: the target's "
			    "rows it replaced are not in the wagon, so it "
			    "cannot be undone");
			rc = -1;
			break;
		default:
			break;
		}
	}
	/* A wagon's group_end counts its transactions, which a folded
	 * group no longer frames. */
	if (pl != NULL)
		pl->trx += (uint64_t)(gtrx > nbegin ? gtrx : nbegin);
	if (rc == 0) {
		buf_putc(out, '\n');
		for (size_t i = nrows; i-- > 0;) {
			struct rec r;

			s = p + rows[i];
			nl = memchr(s, '\n', (size_t)(end - s));
			if (nl == NULL)
				nl = end;
			scan_record(&sc, s, (size_t)(nl - s), &r);
			put_reversed(out, &r);
		}
	}
	free(rows);
	buf_free(&tmp);
	scanner_free(&sc);
	return rc;
}

void
rev_plan_print(const struct rev_plan *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		printf("    %s: %llu row%s put back, %llu changed back, "
		       "%llu removed\n",
		    pl->t[i].name, (unsigned long long)pl->t[i].ins,
		    pl->t[i].ins == 1 ? "" : "s",
		    (unsigned long long)pl->t[i].upd,
		    (unsigned long long)pl->t[i].del);
}

void
rev_plan_free(struct rev_plan *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->t[i].name);
		free(pl->t[i].db);
		free(pl->t[i].tab);
	}
	free(pl->t);
	memset(pl, 0, sizeof *pl);
}

void
rev_trx_list(
    const char *p, size_t len, struct rev_trx **v, size_t *n, int *split)
{
	struct scanner sc = {0};
	struct buf tmp = {0};
	const char *end = p + len, *s, *nl;
	size_t cap = 0;

	*v = NULL;
	*n = 0;
	*split = 0;
	for (s = p; s < end; s = nl + 1) {
		struct rec r;
		unsigned long long ts = 0;

		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if (nl == s)
			continue;
		if (scan_record(&sc, s, (size_t)(nl - s), &r) == 0) {
			if (r.type != R_TRX)
				continue;
			*v = xgrow(*v, &cap, *n + 1, sizeof **v);
			memset(&(*v)[*n], 0, sizeof **v);
			span_gtid(
			    r.gtid, (*v)[*n].gtid, sizeof(*v)[*n].gtid, &tmp);
			if (r.ts.p != NULL && sscanf(r.ts.p, "%llu", &ts) == 1)
				(*v)[*n].ts = ts;
			(*v)[*n].end = (size_t)(nl - p) + (nl < end);
			(*n)++;
			continue;
		}
		{
			json_t *rec = json_loadb(
			    s, (size_t)(nl - s), JSON_ALLOW_NUL, NULL);
			const char *t =
			    json_string_value(json_object_get(rec, "type"));

			if (t != NULL && strcmp(t, "group_end") == 0)
				*split =
				    json_is_true(json_object_get(rec, "split"));
			json_decref(rec);
		}
	}
	buf_free(&tmp);
	scanner_free(&sc);
}
