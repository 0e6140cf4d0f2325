/*
 * peek.c — a wagon's payload read before it is applied (engine_peek):
 * its group and chunk, group_end's fields (last, gtid_pos,
 * snapshot_gtid, "redo", last_ts), whether it holds DDL, its XA
 * transaction, and the tables it touches, which the scheduler of
 * --parallel and the merging of a backlog go by (dispatch.c, merge.c).  Also
 * the payload's framing, shared with the engine (srdf-record(5)).
 *
 * Rows are not parsed here: the table of a row record is read off its
 * line as srdf-capture writes it, and a line that begins as the one
 * before it is of the same table.  Whatever it cannot read that way
 * makes the wagon touch every table (tabs_all).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng.h"
#include "log.h"
#include "opt.h"
#include "engine.h"
#include "record.h"
#include "sqltext.h"
#include "xalloc.h"

/* The next line of the payload: [*p, returned end), *p moved past its
 * newline; NULL at the end.  *trunc is set for a last line without its
 * newline. */
const char *
eng_next_line(const char **p, const char *end, const char **line, int *trunc)
{
	const char *nl;

	*trunc = 0;
	if (*p >= end)
		return NULL;
	*line = *p;
	if ((nl = memchr(*p, '\n', (size_t)(end - *p))) == NULL) {
		*trunc = 1;
		*p = end;
		return end;
	}
	*p = nl + 1;
	return nl;
}

json_t *
eng_parse(
    struct eng *e, const char *s, const char *z, const char **type, int *rc)
{
	json_error_t je;
	char why[256];
	json_t *rec;

	rec = json_loadb(
	    s, (size_t)(z - s), JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (rec == NULL) {
		*rc = eng_bad(e, "malformed record: %s", je.text);
		return NULL;
	}
	if ((*type = record_check(rec, why, sizeof why)) == NULL) {
		json_decref(rec);
		*rc = eng_bad(e, "%s", why);
		return NULL;
	}
	return rec;
}

/* 1 when the record s..z is a "ddl" one (a row whose value holds the
 * word is not). */
static int
is_ddl(struct eng *e, const char *s, const char *z)
{
	const char *type;
	json_t *rec;
	int rc, yes;

	if ((rec = eng_parse(e, s, z, &type, &rc)) == NULL)
		return 0; /* engine_run says what is wrong with it */
	yes = strcmp(type, "ddl") == 0;
	json_decref(rec);
	return yes;
}

static void add_table(struct inwagon *w, const char *name, size_t len);

/* 1 when the record s..z is a "range" one (srdf-bootstrap --resync's
 * chunk), whose table goes into w's tables; it keeps the wagon from
 * going beside others on another connection (merge.c merges it, in
 * order: engine.c run_range_at). */
static int
is_range(struct eng *e, const char *s, const char *z)
{
	const char *type, *db, *t;
	json_t *rec;
	int rc, yes;

	if ((rec = eng_parse(e, s, z, &type, &rc)) == NULL)
		return 0; /* engine_run says what is wrong with it */
	if ((yes = strcmp(type, "range") == 0)) {
		db = json_string_value(json_object_get(rec, "db"));
		t = json_string_value(json_object_get(rec, "table"));
		e->w->has_range = 1;
		e->w->tabs_all = 1;
		if (db != NULL && t != NULL) {
			e->tmp.len = 0;
			buf_puts(&e->tmp, db);
			buf_add(&e->tmp, "\037", 1);
			buf_puts(&e->tmp, t);
			for (size_t i = 0; i < e->tmp.len; i++)
				if (e->tmp.p[i] >= 'A' && e->tmp.p[i] <= 'Z')
					e->tmp.p[i] =
					    (char)(e->tmp.p[i] - 'A' + 'a');
			add_table(e->w, e->tmp.p, e->tmp.len);
		}
	}
	json_decref(rec);
	return yes;
}

/* 1 for a record that touches no table: begin, commit, group_end,
 * heartbeat and the like, as srdf-capture writes them. */
static int
other_record(const char *s, const char *z)
{
	static const char *const types[] = {"begin\"", "commit\"",
	    "group_end\"", "heartbeat\"", "gtid\"", "trx\"", NULL};
	static const char head[] = "{\"v\":1,\"type\":\"";

	if ((size_t)(z - s) < sizeof head + 10 ||
	    memcmp(s, head, sizeof head - 1) != 0)
		return 0;
	s += sizeof head - 1;
	for (const char *const *t = types; *t; t++)
		if ((size_t)(z - s) > strlen(*t) &&
		    memcmp(s, *t, strlen(*t)) == 0)
			return 1;
	return 0;
}

int
inwagon_has_table(const struct inwagon *w, const char *name, size_t len)
{
	for (size_t o = 0; o < w->tabs.len; o += strlen(w->tabs.p + o) + 1)
		if (strlen(w->tabs.p + o) == len &&
		    memcmp(w->tabs.p + o, name, len) == 0)
			return 1;
	return 0;
}

/* Name (len bytes, lowercased) added to w's tables unless there. */
static void
add_table(struct inwagon *w, const char *name, size_t len)
{
	if (inwagon_has_table(w, name, len))
		return;
	buf_add(&w->tabs, name, len);
	buf_add(&w->tabs, "", 1);
	w->ntabs++;
}

/* The table of a row record as srdf-capture and srdf-bootstrap write it,
 * {"v":1,"type":"insert","db":"D","table":"T",... (no escape in D or T),
 * into w's tables; 0, or -1 when the line is not of that shape. */
static int
row_table(struct inwagon *w, const char *s, const char *z, struct buf *tmp)
{
	static const char head[] = "{\"v\":1,\"type\":\"";
	const char *p = s + sizeof head - 1, *d, *t, *e;

	if ((size_t)(z - s) < sizeof head + 30 ||
	    memcmp(s, head, sizeof head - 1) != 0)
		return -1;
	if (memcmp(p, "insert\"", 7) != 0 && memcmp(p, "update\"", 7) != 0 &&
	    memcmp(p, "delete\"", 7) != 0)
		return -1;
	p += 7;
	if ((size_t)(z - p) < 8 || memcmp(p, ",\"db\":\"", 7) != 0)
		return -1;
	d = p + 7;
	if ((e = memchr(d, '"', (size_t)(z - d))) == NULL ||
	    memchr(d, '\\', (size_t)(e - d)) != NULL || (size_t)(z - e) < 11 ||
	    memcmp(e, "\",\"table\":\"", 11) != 0)
		return -1;
	tmp->len = 0;
	buf_add(tmp, d, (size_t)(e - d));
	buf_add(tmp, "\037", 1);
	t = e + 11;
	if ((e = memchr(t, '"', (size_t)(z - t))) == NULL ||
	    memchr(t, '\\', (size_t)(e - t)) != NULL)
		return -1;
	buf_add(tmp, t, (size_t)(e - t));
	for (size_t i = 0; i < tmp->len; i++)
		if (tmp->p[i] >= 'A' && tmp->p[i] <= 'Z')
			tmp->p[i] = (char)(tmp->p[i] - 'A' + 'a');
	add_table(w, tmp->p, tmp->len);
	return 0;
}

/* The tables of a "ddl" record s..z into w's, or w->tabs_all. */
static void
ddl_tables(struct eng *e, const char *s, const char *z)
{
	struct inwagon *w = e->w;
	const char *type, *sql, *db;
	struct buf names = {0};
	json_t *rec, *j;
	int rc, n;

	if ((rec = eng_parse(e, s, z, &type, &rc)) == NULL) {
		w->tabs_all = 1;
		return;
	}
	j = json_object_get(rec, "sql");
	db = json_string_value(json_object_get(rec, "db"));
	if (!json_is_string(j) || (sql = json_string_value(j)) == NULL ||
	    (n = sql_ddl_tables(sql, json_string_length(j), db, &names)) < 0)
		w->tabs_all = 1;
	else
		for (size_t o = 0; o < names.len; o += strlen(names.p + o) + 1)
			add_table(w, names.p + o, strlen(names.p + o));
	free(names.p);
	json_decref(rec);
}

static int
get_u64(json_t *rec, const char *key, uint64_t *v)
{
	json_t *j = json_object_get(rec, key);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

/* An XA record s..z ("begin" with "xa", xa_prepare, xa_end;
 * srdf-record(5)) into e->w's xa and xid: 1 when it is one, 0 when not,
 * -1 (bad) when it is malformed. */
static int
xa_record(struct eng *e, const char *s, const char *z)
{
	struct inwagon *w = e->w;
	const char *type, *xid, *outcome;
	json_t *rec;
	int rc, kind;

	if ((rec = eng_parse(e, s, z, &type, &rc)) == NULL)
		return -1;
	xid = json_string_value(json_object_get(rec, "xa"));
	outcome = json_string_value(json_object_get(rec, "outcome"));
	if (strcmp(type, "xa_end") == 0)
		kind = outcome != NULL && strcmp(outcome, "commit") == 0
		           ? XA_COMMIT
		       : outcome != NULL && strcmp(outcome, "rollback") == 0
		           ? XA_ROLLBACK
		           : -1;
	else if ((strcmp(type, "begin") == 0 && xid != NULL) ||
	         strcmp(type, "xa_prepare") == 0)
		kind = XA_PREPARED;
	else {
		json_decref(rec);
		return 0;
	}
	if (kind < 0 || xid == NULL || strlen(xid) > 300 ||
	    (w->xa != XA_NONE && (w->xa != kind || strcmp(w->xid, xid) != 0))) {
		json_decref(rec);
		eng_bad(e,
		    "%s: an XA record without its \"xa\" id or outcome, or "
		    "of another XA transaction than the group's",
		    type);
		return -1;
	}
	if (w->xa == XA_NONE) {
		w->xa = kind;
		w->xid = xstrdup(xid);
	}
	w->tabs_all = 1; /* alone, never merged */
	json_decref(rec);
	return 1;
}

/* A "trx" record s..z (srdf-record(5)) into e->w's transactions: 1 when
 * it is one, 0 when not, -1 (bad) when it is malformed. */
static int
trx_record(struct eng *e, const char *s, const char *z)
{
	struct inwagon *w = e->w;
	const char *type, *g;
	struct gtid gt;
	struct rec r;
	struct jstr j;
	json_t *rec, *ts;
	char t[24];
	int rc;

	/* One a source transaction, as many as the rows: read by the
	 * scanner, without a tree (jansson words the error of a line the
	 * scanner refuses). */
	if (scan_record(&e->sc, s, (size_t)(z - s), &r) == 0) {
		uint64_t v = 0;
		int ok;

		if (r.type != R_TRX)
			return 0;
		ok = jspan_str(r.gtid, &j) == 0 && !j.esc &&
		     j.n < sizeof w->trx->gtid && r.ts.n < sizeof t;
		if (ok) {
			memcpy(t, r.ts.p != NULL ? r.ts.p : "0",
			    r.ts.p != NULL ? r.ts.n : 1);
			t[r.ts.p != NULL ? r.ts.n : 1] = '\0';
			w->trx = xgrow(
			    w->trx, &w->captrx, w->ntrx + 1, sizeof *w->trx);
			memcpy(w->trx[w->ntrx].gtid, j.p, j.n);
			w->trx[w->ntrx].gtid[j.n] = '\0';
			ok = gtid_parse(w->trx[w->ntrx].gtid, &gt) == 0 &&
			     parse_u64(t, &v) == 0;
		}
		if (!ok) {
			eng_bad(e, "a \"trx\" record without its GTID or "
			           "with a bad \"ts\"");
			return -1;
		}
		w->trx[w->ntrx].ts = v;
		w->trx[w->ntrx].end = (size_t)(z - w->records) + 1;
		w->ntrx++;
		return 1;
	}
	if ((rec = eng_parse(e, s, z, &type, &rc)) == NULL)
		return -1;
	if (strcmp(type, "trx") != 0) {
		json_decref(rec);
		return 0;
	}
	g = json_string_value(json_object_get(rec, "gtid"));
	ts = json_object_get(rec, "ts");
	if (g == NULL || gtid_parse(g, &gt) != 0 ||
	    strlen(g) >= sizeof w->trx->gtid ||
	    (ts != NULL && !json_is_integer(ts))) {
		json_decref(rec);
		eng_bad(e, "a \"trx\" record without its GTID or with a bad "
		           "\"ts\"");
		return -1;
	}
	w->trx = xgrow(w->trx, &w->captrx, w->ntrx + 1, sizeof *w->trx);
	snprintf(w->trx[w->ntrx].gtid, sizeof w->trx->gtid, "%s", g);
	w->trx[w->ntrx].ts = ts != NULL && json_integer_value(ts) > 0
	                         ? (uint64_t)json_integer_value(ts)
	                         : 0;
	w->trx[w->ntrx].end = (size_t)(z - w->records) + 1;
	w->ntrx++;
	json_decref(rec);
	return 1;
}

/* What engine_peek sets, back to nothing. */
static void
peek_reset(struct inwagon *w)
{
	free(w->gtid_pos);
	free(w->snapshot);
	free(w->recopy_db);
	free(w->recopy_table);
	free(w->xid);
	w->gtid_pos = NULL;
	w->snapshot = NULL;
	w->recopy_db = w->recopy_table = w->xid = NULL;
	w->xa = XA_NONE;
	w->last_ts = 0;
	w->first_ts = 0;
	free(w->trx);
	w->trx = NULL;
	w->ntrx = w->captrx = 0;
	w->split = 0;
}

/* The group_begin s..z: the group, and the chunk the header says.  DB_OK
 * or eng_bad's DB_FAIL. */
static int
peek_begin(struct eng *e, const char *s, const char *z)
{
	struct inwagon *w = e->w;
	const char *type;
	uint64_t chunk;
	json_t *rec;
	int rc;

	if ((rec = eng_parse(e, s, z, &type, &rc)) == NULL)
		return rc;
	if (strcmp(type, "group_begin") != 0 ||
	    get_u64(rec, "group", &w->group) != 0 ||
	    get_u64(rec, "chunk", &chunk) != 0 || chunk != w->h.chunk) {
		json_decref(rec);
		return eng_bad(e,
		    "the payload does not begin with the "
		    "group_begin of chunk %" PRIu32,
		    w->h.chunk);
	}
	json_decref(rec);
	w->chunk = (uint32_t)chunk;
	w->has_ddl = 0;
	w->has_range = 0;
	w->tabs.len = 0;
	w->ntabs = 0;
	w->tabs_all = 0;
	return DB_OK;
}

/* The lines after group_begin, from *p: the tables, the DDL, the XA
 * records; the last line in *last..*lastz (NULL for none).  DB_OK or
 * eng_bad's DB_FAIL. */
static int
peek_lines(struct eng *e, const char **p, const char *end, const char **last,
    const char **lastz)
{
	struct inwagon *w = e->w;
	const char *s, *z;
	size_t rowhead = 0;
	int trunc, rc;

	while ((z = eng_next_line(p, end, &s, &trunc)) != NULL) {
		e->line++;
		if (trunc)
			return eng_bad(e, "truncated record");
		/* The rows' tables: a line like the one before it is of the
		 * same table (and a row, so not a "ddl" record). */
		if (*last != NULL && !w->tabs_all && rowhead > 0 &&
		    (size_t)(z - s) > rowhead &&
		    memcmp(s, *last, rowhead) == 0) {
			*last = s;
			*lastz = z;
			continue;
		}
		rowhead = 0;
		/* A transaction's end (a row's value holding the word is
		 * not one: trx_record reads the record's type). */
		if (memmem(s, (size_t)(z - s), "\"trx\"", 5) != NULL &&
		    (rc = trx_record(e, s, z)) != 0) {
			if (rc < 0)
				return DB_FAIL;
			*last = s;
			*lastz = z;
			continue;
		}
		/* Any "ddl" record, however it is spaced, names its type
		 * before a row could: a line without the word has none. */
		if (memmem(s, (size_t)(z - s), "\"range\"", 7) != NULL &&
		    is_range(e, s, z)) {
			/* w->tabs_all: the wagon goes alone */
		} else if (memmem(s, (size_t)(z - s), "\"ddl\"", 5) != NULL &&
		           is_ddl(e, s, z)) {
			w->has_ddl = 1;
			ddl_tables(e, s, z);
		} else if (memmem(s, (size_t)(z - s), "\"xa", 3) != NULL &&
		           (rc = xa_record(e, s, z)) != 0) {
			if (rc < 0)
				return DB_FAIL;
		} else if (!w->tabs_all && row_table(w, s, z, &e->tmp) == 0) {
			/* up to the table's closing quote */
			const char *q =
			    memmem(s, (size_t)(z - s), "\",\"table\":\"", 11);

			q = memchr(q + 11, '"', (size_t)(z - q - 11));
			rowhead = (size_t)(q - s) + 1;
		} else if (!w->tabs_all && !other_record(s, z))
			w->tabs_all = 1;
		*last = s;
		*lastz = z;
	}
	return DB_OK;
}

/* The group_end s..z (the last line; s NULL for none): last, last_ts,
 * gtid_pos, and srdf-bootstrap's snapshot_gtid and "redo".  DB_OK or
 * eng_bad's DB_FAIL. */
static int
peek_end(struct eng *e, const char *s, const char *z)
{
	struct inwagon *w = e->w;
	const char *type;
	json_t *rec, *j;
	int rc;

	if (s == NULL)
		return eng_bad(e, "the payload has no group_end");
	if ((rec = eng_parse(e, s, z, &type, &rc)) == NULL)
		return rc;
	j = json_object_get(rec, "last");
	if (strcmp(type, "group_end") != 0 || !json_is_boolean(j)) {
		json_decref(rec);
		return eng_bad(e, "the payload does not end with a group_end");
	}
	w->last = json_is_true(j);
	if (json_is_integer(j = json_object_get(rec, "last_ts")) &&
	    json_integer_value(j) > 0)
		w->last_ts = (uint64_t)json_integer_value(j);
	if (json_is_integer(j = json_object_get(rec, "first_ts")) &&
	    json_integer_value(j) > 0)
		w->first_ts = (uint64_t)json_integer_value(j);
	w->split = json_is_true(json_object_get(rec, "split"));
	if (w->last != !!(w->h.flags & WAGON_F_LAST_CHUNK)) {
		json_decref(rec);
		return eng_bad(e,
		    "group_end says last=%s, the header the "
		    "opposite",
		    w->last ? "true" : "false");
	}
	if ((j = json_object_get(rec, "gtid_pos")) != NULL && json_is_string(j))
		w->gtid_pos = xstrdup(json_string_value(j));
	if (json_is_true(json_object_get(rec, "bootstrap")) &&
	    (j = json_object_get(rec, "snapshot_gtid")) != NULL &&
	    json_is_string(j))
		w->snapshot = xstrdup(json_string_value(j));
	if (w->snapshot != NULL && !gtid_pos_valid(w->snapshot)) {
		json_decref(rec);
		return eng_bad(e,
		    "group_end's \"snapshot_gtid\" is not a GTID "
		    "position: %.200s",
		    w->snapshot);
	}
	if (w->snapshot != NULL && (j = json_object_get(rec, "redo")) != NULL) {
		const char *rdb = json_string_value(json_object_get(j, "db"));
		const char *rt = json_string_value(json_object_get(j, "table"));

		if (rdb == NULL || rt == NULL) {
			json_decref(rec);
			return eng_bad(e, "group_end's \"redo\" is not "
			                  "{\"db\": ..., \"table\": ...}");
		}
		w->recopy_db = xstrdup(rdb);
		w->recopy_table = xstrdup(rt);
	}
	snprintf(w->last_gtid, sizeof w->last_gtid, "%s", w->h.last_gtid);
	json_decref(rec);
	return DB_OK;
}

int
engine_peek(struct inwagon *w, char *err, size_t errlen)
{
	const char *p = w->records, *end = w->records + w->len, *s, *z;
	const char *last = NULL, *lastz = NULL;
	struct db dummy = {0};
	struct eng e = {.d = &dummy, .w = w, .line = 1};
	int trunc, rc;

	peek_reset(w);
	if ((z = eng_next_line(&p, end, &s, &trunc)) == NULL || trunc) {
		snprintf(err, errlen, "payload line 1: %s",
		    z == NULL ? "empty payload" : "truncated record");
		return -1;
	}
	if ((rc = peek_begin(&e, s, z)) == DB_OK &&
	    (rc = peek_lines(&e, &p, end, &last, &lastz)) == DB_OK) {
		buf_free(&e.tmp);
		rc = peek_end(&e, last, lastz);
	}
	buf_free(&e.tmp);
	scanner_free(&e.sc);
	if (rc != DB_OK) {
		snprintf(err, errlen, "%s", dummy.err);
		return -1;
	}
	return 0;
}

void
inwagon_free(struct inwagon *w)
{
	buf_free(&w->tabs);
	w->ntabs = 0;
	wagon_records_free(w->records, w->len); /* wipes the plaintext */
	free(w->gtid_pos);
	free(w->snapshot);
	free(w->recopy_db);
	free(w->recopy_table);
	free(w->xid);
	free(w->trx);
	w->trx = NULL;
	w->ntrx = w->captrx = 0;
	w->records = NULL;
	w->gtid_pos = NULL;
	w->snapshot = NULL;
	w->recopy_db = w->recopy_table = w->xid = NULL;
}
