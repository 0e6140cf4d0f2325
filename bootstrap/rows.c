/*
 * rows.c — srdf-bootstrap's readers: stream a table from the consistent
 * snapshot and encode its rows as srdf-record(5) "insert" records, cut
 * into chunks of --chunk-rows rows in primary-key order.
 *
 * Values are read through the text protocol with
 * character_set_results=binary (the exact bytes of every string, in its
 * column's character set) and time_zone='+00:00' (TIMESTAMP in UTC), and
 * re-encoded exactly as srdf-capture encodes the binlog's row images:
 * the proof is a test that compares both encodings of the same rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>
#include <sodium.h>

#include "bootstrap.h"
#include "log.h"
#include "sql.h"
#include "xalloc.h"

static void
put_text(struct buf *b, int cls, const char *s, unsigned long n)
{
	unsigned long i = 0;

	if (cls == MARIA_CS_UTF8 && utf8_valid((const unsigned char *)s, n)) {
		buf_json_str(b, s, n);
		return;
	}
	if (cls == MARIA_CS_ASCII) {
		while (i < n && (unsigned char)s[i] < 0x80)
			i++;
		if (i == n) {
			buf_json_str(b, s, n);
			return;
		}
	}
	buf_json_b64(b, s, n);
}

/* Whether c is an ENUM, or a SET with a member '' (whose bit the text
 * does not show): selected as "number:bytes" (table_set_query). */
static int
is_enum(const struct maria_col *c)
{
	return c->kind == MARIA_K_ENUMSET &&
	       (strcmp(c->data_type, "enum") == 0 || c->empty_member);
}

/* One value v[0..n) (NUL-terminated by the client library) of column c
 * as srdf-record(5) JSON; an ENUM's as table_set_query selects it,
 * "index:bytes". */
static void
put_value(
    struct buf *b, const struct maria_col *c, const char *v, unsigned long n)
{
	uint64_t u = 0;

	if (v == NULL) {
		buf_lit(b, "null");
		return;
	}
	switch (c->kind) {
	case MARIA_K_INT:
	case MARIA_K_UINT:
		/* Fifteen digits are below 2^53: a JSON integer as is. */
		if (!c->zerofill && n <= 15 && n > 0)
			buf_add(b, v, n);
		else if (c->kind == MARIA_K_UINT)
			buf_json_u64(b, strtoull(v, NULL, 10));
		else
			buf_json_i64(b, strtoll(v, NULL, 10));
		break;
	case MARIA_K_YEAR:
		buf_u64(b, strtoull(v, NULL, 10)); /* "0000" is 0 */
		break;
	case MARIA_K_BIT:
		for (unsigned long i = 0; i < n; i++)
			u = u << 8 | (unsigned char)v[i];
		buf_json_u64(b, u);
		break;
	case MARIA_K_DECIMAL:
		/* ZEROFILL pads the integer part; the record never does. */
		while (c->zerofill && n > 1 && v[0] == '0' && v[1] != '.') {
			v++;
			n--;
		}
		buf_putc(b, '"');
		buf_add(b, v, n);
		buf_putc(b, '"');
		break;
	case MARIA_K_FLOAT:
		buf_json_float(b, (float)strtod(v, NULL));
		break;
	case MARIA_K_DOUBLE:
		buf_printf(b, "%.17g", strtod(v, NULL));
		break;
	case MARIA_K_TEMPORAL:
		buf_json_str(b, v, n);
		break;
	case MARIA_K_TEXT:
	case MARIA_K_ENUMSET:
		if (is_enum(c)) {
			const char *sep = memchr(v, ':', n);

			if (sep == NULL ||
			    (sep - v == 1 && v[0] == '0' &&
			        strcmp(c->data_type, "enum") == 0)) {
				buf_putc(b, '0'); /* the error value */
				break;
			}
			if (strcmp(c->data_type, "set") == 0) {
				/* the bitmap, exact (srdf-record(5)) */
				buf_add(b, v, (size_t)(sep - v));
				break;
			}
			n -= (unsigned long)(sep + 1 - v);
			v = sep + 1;
		}
		put_text(b, c->cls, v, n);
		break;
	case MARIA_K_BYTES:
		if (c->padlen > n && c->padlen <= 255) {
			/* BINARY(n) keeps its 0x00 padding (srdf-record(5)) */
			char pad[256];

			memcpy(pad, v, n);
			memset(pad + n, 0, c->padlen - n);
			buf_json_b64(b, pad, c->padlen);
		} else
			buf_json_b64(b, v, n);
		break;
	default: /* MARIA_K_FIXBIN */
		buf_json_b64(b, v, n);
	}
}

void
table_prepare(struct ttable *t)
{
	struct maria_table *m = &t->m;

	buf_lit(&t->head, "{\"v\":1,\"type\":\"insert\",\"db\":");
	buf_json_str(&t->head, m->db, strlen(m->db));
	buf_lit(&t->head, ",\"table\":");
	buf_json_str(&t->head, m->name, strlen(m->name));
	buf_lit(&t->head, ",\"pk\":[");
	for (int i = 0; i < m->npk; i++) {
		const char *n = m->col[m->pk[i]].name;

		if (i > 0)
			buf_putc(&t->head, ',');
		buf_json_str(&t->head, n, strlen(n));
	}
	buf_lit(&t->head, "],\"after\":{");
	t->jname = xcalloc((size_t)m->ncols, sizeof *t->jname);
	for (int i = 0; i < m->ncols; i++) {
		const char *n = m->col[i].name;

		if (i > 0)
			buf_putc(&t->jname[i], ',');
		buf_json_str(&t->jname[i], n, strlen(n));
		buf_putc(&t->jname[i], ':');
	}
}

/* The SELECT of the rows still to copy: after t->after in key order. */
void
table_set_query(struct ttable *t)
{
	struct maria_table *m = &t->m;

	t->query.len = 0;
	buf_lit(&t->query, "SELECT ");
	for (int i = 0; i < m->ncols; i++) {
		if (i > 0)
			buf_putc(&t->query, ',');
		if (is_enum(&m->col[i])) {
			/* "index:bytes": the error value (index 0) reads as
			 * '' like a member '' would (put_value) */
			buf_lit(&t->query, "CONCAT(CAST(");
			sql_ident(&t->query, m->col[i].name);
			buf_lit(&t->query, " + 0 AS BINARY),':',CAST(");
			sql_ident(&t->query, m->col[i].name);
			buf_lit(&t->query, " AS BINARY))");
		} else
			maria_select_expr(&t->query, &m->col[i]);
	}
	buf_lit(&t->query, " FROM ");
	sql_ident(&t->query, m->db);
	buf_putc(&t->query, '.');
	sql_ident(&t->query, m->name);
	if (m->versioned) { /* its history too (bootstrap.c, period_columns) */
		buf_lit(&t->query, " FOR SYSTEM_TIME ALL ORDER BY ");
		sql_ident(&t->query, m->col[m->ncols - 2].name);
		buf_lit(&t->query, " = ");
		sql_ident(&t->query, m->col[m->ncols - 1].name);
		buf_lit(&t->query, " DESC");
	}
	if (m->keyset) {
		if (t->after != NULL) {
			buf_lit(&t->query, " WHERE ");
			maria_key_cond(&t->query, m, t->after, ">");
		}
		if (t->upto != NULL) {
			buf_puts(
			    &t->query, t->after != NULL ? " AND " : " WHERE ");
			maria_key_cond(&t->query, m, t->upto, "<=");
		}
		buf_lit(&t->query, " ORDER BY ");
		for (int i = 0; i < m->npk; i++) {
			if (i > 0)
				buf_putc(&t->query, ',');
			sql_ident(&t->query, m->col[m->pk[i]].name);
		}
	}
	buf_putc(&t->query, '\0');
	t->query.len--;
}

/* SHOW CREATE TABLE and the hash that stands for the definition: the
 * text without its AUTO_INCREMENT=n table option, which every insert
 * moves.  Returns the hash (32 hex digits, malloc'd) and the text in
 * *create (when create is not NULL), or NULL with the server's error
 * number in *myerr. */
char *
table_def(
    MYSQL *my, const char *db, const char *name, char **create, unsigned *myerr)
{
	struct buf q = {0}, s = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;
	unsigned long *len;
	unsigned char h[16];
	char *hex;

	*myerr = 0;
	buf_lit(&q, "SHOW CREATE TABLE ");
	sql_ident(&q, db);
	buf_putc(&q, '.');
	sql_ident(&q, name);
	if (mysql_real_query(my, q.p, q.len) != 0 ||
	    (r = mysql_store_result(my)) == NULL) {
		*myerr = mysql_errno(my);
		if (*myerr == 0)
			*myerr = ER_NO_SUCH_TABLE;
		buf_free(&q);
		return NULL;
	}
	buf_free(&q);
	if ((row = mysql_fetch_row(r)) == NULL || mysql_num_fields(r) < 2 ||
	    row[1] == NULL) {
		mysql_free_result(r);
		*myerr = ER_NO_SUCH_TABLE;
		return NULL;
	}
	len = mysql_fetch_lengths(r);
	for (unsigned long i = 0; i < len[1];) {
		static const char ai[] = " AUTO_INCREMENT=";

		if (len[1] - i > sizeof ai - 1 &&
		    memcmp(row[1] + i, ai, sizeof ai - 1) == 0) {
			i += sizeof ai - 1;
			while (
			    i < len[1] && row[1][i] >= '0' && row[1][i] <= '9')
				i++;
			continue;
		}
		buf_putc(&s, row[1][i++]);
	}
	crypto_generichash(
	    h, sizeof h, (const unsigned char *)s.p, s.len, NULL, 0);
	hex = xcalloc(2 * sizeof h + 1, 1);
	sodium_bin2hex(hex, 2 * sizeof h + 1, h, sizeof h);
	if (create != NULL) {
		*create = xcalloc(len[1] + 1, 1);
		memcpy(*create, row[1], len[1]);
		(*create)[len[1]] = '\0';
	}
	buf_free(&s);
	mysql_free_result(r);
	return hex;
}

void
chunk_free(struct chunk *c)
{
	if (c == NULL)
		return;
	buf_free(&c->body);
	if (c->lits != NULL)
		for (int i = 0; i < c->t->m.npk; i++)
			free(c->lits[i]);
	free(c->lits);
	free(c);
}

/* Hands c to the main thread; waits while the pipe is full.  Returns -1
 * (c freed) when everything is stopping. */
static int
push(struct pipe *p, struct chunk *c)
{
	pthread_mutex_lock(&p->mu);
	while (p->n >= p->max && !atomic_load(&stopping))
		pthread_cond_wait(&p->cv, &p->mu);
	if (atomic_load(&stopping)) {
		pthread_mutex_unlock(&p->mu);
		chunk_free(c);
		return -1;
	}
	c->next = NULL;
	if (p->tail)
		p->tail->next = c;
	else
		p->head = c;
	p->tail = c;
	p->n++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

static struct ttable *
next_table(struct pipe *p)
{
	struct ttable *t = NULL;

	pthread_mutex_lock(&p->mu);
	if (p->next < p->ntodo && !atomic_load(&stopping))
		t = p->todo[p->next++];
	pthread_mutex_unlock(&p->mu);
	return t;
}

static struct chunk *
chunk_new(struct ttable *t)
{
	struct chunk *c = xcalloc(1, sizeof *c);

	c->t = t;
	return c;
}

void
row_record(struct buf *b, const struct ttable *t, MYSQL_ROW row,
    const unsigned long *len)
{
	buf_add(b, t->head.p, t->head.len);
	for (int i = 0; i < t->m.ncols; i++) {
		buf_add(b, t->jname[i].p, t->jname[i].len);
		put_value(b, &t->m.col[i], row[i], len[i]);
	}
	buf_lit(b, "}}\n");
}

void
row_key_image(struct buf *b, const struct ttable *t, MYSQL_ROW row,
    const unsigned long *len)
{
	const struct maria_table *m = &t->m;

	buf_putc(b, '{');
	for (int i = 0; i < m->npk; i++) {
		int k = m->pk[i];

		if (i > 0)
			buf_putc(b, ',');
		buf_json_str(b, m->col[k].name, strlen(m->col[k].name));
		buf_putc(b, ':');
		put_value(b, &m->col[k], row[k], len[k]);
	}
	buf_putc(b, '}');
}

char **
key_literals(const struct maria_table *m, MYSQL_ROW row, unsigned long *len)
{
	char **l = xcalloc((size_t)m->npk, sizeof *l);
	struct buf b = {0};

	for (int i = 0; i < m->npk; i++) {
		int k = m->pk[i];

		b.len = 0;
		maria_literal(&b, &m->col[k], row[k], len[k]);
		buf_putc(&b, '\0');
		l[i] = xstrdup(b.p);
	}
	buf_free(&b);
	return l;
}

/* A DDL reached the table: its rows cannot be read as of the snapshot
 * any more.  The main thread copies it again alone after the others
 * (bootstrap.c, redo_changed); a table without a primary key, or when
 * whole (the table is gone, or the snapshot ended), the whole copy
 * starts over, so the readers stop now. */
static void
table_changed(struct ttable *t, const char *why, int whole)
{
	log_warn("%s.%s changed during its copy (%s)", t->m.db, t->m.name, why);
	t->changed = 1;
	t->whole = whole;
	if (whole || t->m.npk == 0)
		atomic_store(&stopping, 1);
}

static int
same_def(struct reader *r, struct ttable *t, const char *when)
{
	unsigned e;
	char *h = table_def(r->my, t->m.db, t->m.name, NULL, &e), why[128];

	if (h == NULL && e != ER_NO_SUCH_TABLE) {
		log_err("cannot read the definition of %s.%s: %s", t->m.db,
		    t->m.name, mysql_error(r->my));
		r->failed = maria_exit_for(e);
		atomic_store(&stopping, 1);
		return 0;
	}
	if (h == NULL || strcmp(h, t->def) != 0) {
		snprintf(why, sizeof why, "%s %s",
		    h ? "definition differs" : "table gone", when);
		table_changed(t, why, h == NULL);
		free(h);
		return 0;
	}
	free(h);
	return 1;
}

static void
copy_table(struct reader *r, struct ttable *t)
{
	const struct maria_table *m = &t->m;
	MYSQL_RES *res;
	MYSQL_ROW row;
	struct chunk *c;
	unsigned e;

	if (!same_def(r, t, "before its copy"))
		return;
	log_debug("copying %s.%s: %s", m->db, m->name, t->query.p);
	if (mysql_real_query(r->my, t->query.p, t->query.len) != 0 ||
	    (res = mysql_use_result(r->my)) == NULL)
		goto sqlerr;
	c = chunk_new(t);
	while ((row = mysql_fetch_row(res)) != NULL) {
		unsigned long *len = mysql_fetch_lengths(res);
		struct buf *b = &c->body;

		buf_add(b, t->head.p, t->head.len);
		for (int i = 0; i < m->ncols; i++) {
			buf_add(b, t->jname[i].p, t->jname[i].len);
			put_value(b, &m->col[i], row[i], len[i]);
		}
		buf_lit(b, "}}\n");
		c->rows++;
		if (c->rows >= r->cf->chunk_rows ||
		    b->len >= r->cf->chunk_bytes) {
			if (m->keyset)
				c->lits = key_literals(m, row, len);
			r->rows += c->rows;
			if (push(r->p, c) < 0) {
				/* Stopping: drop the rest of the result
				 * without reading it. */
				mariadb_cancel(r->my);
				mysql_free_result(res);
				return;
			}
			c = chunk_new(t);
		}
	}
	if ((e = mysql_errno(r->my)) != 0) {
		chunk_free(c);
		mysql_free_result(res);
		goto sqlerr;
	}
	mysql_free_result(res);
	r->rows += c->rows;
	c->last = 1;
	if (push(r->p, c) < 0)
		return;
	same_def(r, t, "after its copy");
	return;
sqlerr:
	e = mysql_errno(r->my);
	if (e == ER_TABLE_DEF_CHANGED || e == ER_NO_SUCH_TABLE) {
		char why[600], *in;

		snprintf(why, sizeof why, "%s", mysql_error(r->my));
		/* The reader goes on with other tables only inside its
		 * snapshot: should the error have ended the transaction,
		 * what it read next would not be as of the snapshot. */
		in = e == ER_NO_SUCH_TABLE
		         ? NULL
		         : maria_query_one(r->my, "SELECT @@in_transaction");
		table_changed(t, why, in == NULL || strcmp(in, "1") != 0);
		free(in);
		return;
	}
	if (atomic_load(&stopping))
		return;
	log_err("cannot read %s.%s: %s", m->db, m->name, mysql_error(r->my));
	r->failed = maria_exit_for(e);
	atomic_store(&stopping, 1);
}

void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct ttable *t;

	while ((t = next_table(r->p)) != NULL)
		copy_table(r, t);
	pthread_mutex_lock(&r->p->mu);
	r->p->readers--;
	pthread_cond_broadcast(&r->p->cv);
	pthread_mutex_unlock(&r->p->mu);
	return NULL;
}
