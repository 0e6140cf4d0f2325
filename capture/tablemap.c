/*
 * tablemap.c — TABLE_MAP_EVENT with its optional metadata
 * (binlog_row_metadata=FULL, MariaDB 10.5+): the column types, their
 * per-type metadata, and the names, signedness, charsets, ENUM/SET
 * members and primary key that make a row image self-describing.
 * Layout: MariaDB docs "TABLE_MAP_EVENT"; optional metadata field types
 * 1..11 as in the server's Table_map_log_event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog.h"
#include "log.h"
#include "xalloc.h"

enum {
	OM_SIGNEDNESS = 1,
	OM_DEFAULT_CHARSET,
	OM_COLUMN_CHARSET,
	OM_COLUMN_NAME,
	OM_SET_STR_VALUE,
	OM_ENUM_STR_VALUE,
	OM_GEOMETRY_TYPE,
	OM_SIMPLE_PRIMARY_KEY,
	OM_PRIMARY_KEY_WITH_PREFIX,
	OM_ENUM_AND_SET_DEFAULT_CHARSET,
	OM_ENUM_AND_SET_COLUMN_CHARSET,
};

size_t
lenenc(const uint8_t *p, size_t n, uint64_t *v)
{
	if (n < 1)
		return 0;
	if (p[0] < 251) {
		*v = p[0];
		return 1;
	}
	switch (p[0]) {
	case 252:
		if (n < 3)
			return 0;
		*v = le16(p + 1);
		return 3;
	case 253:
		if (n < 4)
			return 0;
		*v = le24(p + 1);
		return 4;
	case 254:
		if (n < 9)
			return 0;
		*v = le64(p + 1);
		return 9;
	}
	return 0; /* 251 is NULL, 255 undefined: not valid here */
}

static char *
xstrndup(const uint8_t *s, size_t n)
{
	char *p = xcalloc(n + 1, 1);

	memcpy(p, s, n);
	return p;
}

static int
is_numeric(int type)
{
	switch (type) {
	case T_TINY:
	case T_SHORT:
	case T_INT24:
	case T_LONG:
	case T_LONGLONG:
	case T_FLOAT:
	case T_DOUBLE:
	case T_NEWDECIMAL:
	case T_DECIMAL:
	case T_YEAR: /* YEAR is an unsigned tiny integer */
		return 1;
	}
	return 0;
}

/* Columns that carry a charset in DEFAULT_CHARSET/COLUMN_CHARSET, as
 * the server counts them: strings and blobs, GEOMETRY (binary) included;
 * ENUM and SET have fields of their own. */
static int
is_character(int type)
{
	switch (type) {
	case T_STRING:
	case T_VAR_STRING:
	case T_VARCHAR:
	case T_BLOB:
	case T_TINY_BLOB:
	case T_MEDIUM_BLOB:
	case T_LONG_BLOB:
	case T_GEOMETRY:
		return 1;
	}
	return 0;
}

static int
is_enum_set(int type)
{
	return type == T_ENUM || type == T_SET;
}

void
table_free(struct table *t)
{
	uint32_t i, j;

	if (t->col != NULL) {
		for (i = 0; i < t->ncols; i++) {
			free(t->col[i].name);
			for (j = 0; j < t->col[i].nelem; j++)
				free(t->col[i].elem[j]);
			free(t->col[i].elem);
			free(t->col[i].elemlen);
		}
	}
	if (t->cname != NULL)
		for (i = 0; i < t->ncols; i++)
			buf_free(&t->cname[i]);
	free(t->cname);
	free(t->col);
	free(t->pk);
	free(t->db);
	free(t->name);
	buf_free(&t->head);
	memset(t, 0, sizeof *t);
}

#define FAIL(...) \
	do { \
		snprintf(err, errlen, __VA_ARGS__); \
		return -1; \
	} while (0)

/* Apply a list of charsets to the columns selected by pick(). */
static int
set_charsets(struct table *t, const uint8_t *p, size_t n, int deflt,
    int (*pick)(int), const struct charsets *cs)
{
	uint64_t v, idx;
	size_t k, used = 0;
	uint32_t i, nth = 0;

	if (deflt) {
		if ((k = lenenc(p, n, &v)) == 0)
			return -1;
		used = k;
		for (i = 0; i < t->ncols; i++)
			if (pick(t->col[i].type))
				t->col[i].charset = (uint32_t)v;
		while (used < n) {
			if ((k = lenenc(p + used, n - used, &idx)) == 0)
				return -1;
			used += k;
			if ((k = lenenc(p + used, n - used, &v)) == 0)
				return -1;
			used += k;
			nth = 0;
			for (i = 0; i < t->ncols; i++)
				if (pick(t->col[i].type) && nth++ == idx)
					t->col[i].charset = (uint32_t)v;
		}
	} else {
		for (i = 0; i < t->ncols && used < n; i++) {
			if (!pick(t->col[i].type))
				continue;
			if ((k = lenenc(p + used, n - used, &v)) == 0)
				return -1;
			used += k;
			t->col[i].charset = (uint32_t)v;
		}
	}
	(void)cs;
	return 0;
}

static int
set_members(struct table *t, const uint8_t *p, size_t n, int type)
{
	uint64_t cnt, len;
	size_t k, used = 0;
	uint32_t i, j;

	for (i = 0; i < t->ncols && used < n; i++) {
		struct column *c = &t->col[i];

		if (c->type != type)
			continue;
		if ((k = lenenc(p + used, n - used, &cnt)) == 0 || cnt > 65536)
			return -1;
		used += k;
		c->nelem = (uint32_t)cnt;
		c->elem = xcalloc(cnt, sizeof *c->elem);
		c->elemlen = xcalloc(cnt, sizeof *c->elemlen);
		for (j = 0; j < cnt; j++) {
			if ((k = lenenc(p + used, n - used, &len)) == 0 ||
			    len > n - used - k)
				return -1;
			used += k;
			c->elem[j] = xstrndup(p + used, len);
			c->elemlen[j] = (uint32_t)len;
			used += len;
		}
	}
	return 0;
}

int
tablemap_parse(const uint8_t *p, size_t n, int phl, const struct charsets *cs,
    struct table *t, char *err, size_t errlen)
{
	const uint8_t *end = p + n, *types, *meta;
	uint64_t ncols, mlen, v;
	size_t k, dl, tl;
	uint32_t i, numeric = 0;

	if (phl != 6 && phl != 8)
		FAIL("unexpected TABLE_MAP post-header length %d", phl);
	if (n < (size_t)phl + 2)
		FAIL("TABLE_MAP event too short (%zu bytes)", n);
	t->id = phl == 6 ? le32(p) : le48(p);
	p += phl;
	dl = *p++;
	if ((size_t)(end - p) < dl + 2)
		FAIL("TABLE_MAP database name overruns the event");
	t->db = xstrndup(p, dl);
	p += dl + 1;
	tl = *p++;
	if ((size_t)(end - p) < tl + 2)
		FAIL("TABLE_MAP table name overruns the event");
	t->name = xstrndup(p, tl);
	p += tl + 1;
	if ((k = lenenc(p, (size_t)(end - p), &ncols)) == 0 || ncols > 4096 ||
	    ncols > (uint64_t)(end - p - k))
		FAIL("TABLE_MAP column count is corrupt");
	p += k;
	t->ncols = (uint32_t)ncols;
	types = p;
	p += ncols;
	if ((k = lenenc(p, (size_t)(end - p), &mlen)) == 0 ||
	    mlen > (uint64_t)(end - p - k))
		FAIL("TABLE_MAP metadata length is corrupt");
	p += k;
	meta = p;
	p += mlen;
	if ((size_t)(end - p) < (ncols + 7) / 8)
		FAIL("TABLE_MAP null bitmap overruns the event");
	p += (ncols + 7) / 8;

	t->col = xcalloc(ncols, sizeof *t->col);
	for (i = 0; i < ncols; i++) {
		struct column *c = &t->col[i];
		const uint8_t *m = meta;
		int mused = 0;

		c->type = types[i];
		switch (c->type) {
		case T_FLOAT:
		case T_DOUBLE:
		case T_BLOB:
		case T_GEOMETRY:
		case T_TIMESTAMP2:
		case T_DATETIME2:
		case T_TIME2:
		case T_TINY_BLOB:
		case T_MEDIUM_BLOB:
		case T_LONG_BLOB:
		case T_BLOB_COMPRESSED:
			mused = 1;
			if (m + 1 > meta + mlen)
				break;
			c->meta = m[0];
			break;
		case T_VARCHAR:
		case T_VAR_STRING:
		case T_VARCHAR_COMPRESSED:
			mused = 2;
			if (m + 2 > meta + mlen)
				break;
			c->meta = (uint16_t)le16(m);
			break;
		case T_BIT:
			mused = 2;
			if (m + 2 > meta + mlen)
				break;
			c->meta = (uint16_t)(m[1] * 8 + m[0]);
			break;
		case T_NEWDECIMAL:
			mused = 2;
			if (m + 2 > meta + mlen)
				break;
			c->prec = m[0];
			c->scale = m[1];
			break;
		case T_STRING:
		case T_ENUM:
		case T_SET:
			mused = 2;
			if (m + 2 > meta + mlen)
				break;
			if ((m[0] & 0x30) != 0x30) {
				c->meta =
				    (uint16_t)(m[1] |
				               (((m[0] & 0x30) ^ 0x30) << 4));
				c->type = (uint8_t)(m[0] | 0x30);
			} else {
				c->type = m[0];
				c->meta = m[1];
			}
			break;
		case T_TINY:
		case T_SHORT:
		case T_INT24:
		case T_LONG:
		case T_LONGLONG:
		case T_YEAR:
		case T_DATE:
		case T_NEWDATE:
		case T_TIME:
		case T_DATETIME:
		case T_TIMESTAMP:
		case T_NULL:
			break;
		default:
			FAIL("column %u of %s.%s has column type %u, which "
			     "srdf-capture cannot decode",
			    i + 1, t->db, t->name, types[i]);
		}
		if (m + mused > meta + mlen)
			FAIL("TABLE_MAP metadata of %s.%s is too short", t->db,
			    t->name);
		meta += mused;
		if (c->type == T_BLOB_COMPRESSED ||
		    c->type == T_VARCHAR_COMPRESSED)
			FAIL(
			    "column %u of %s.%s uses COMPRESSED column storage, "
			    "which srdf-capture does not decode yet; drop the "
			    "COMPRESSED attribute or exclude the table",
			    i + 1, t->db, t->name);
	}

	/* Optional metadata: type, length, value triplets to the end. */
	while (p < end) {
		int ot = *p++;
		size_t rest;

		if ((k = lenenc(p, (size_t)(end - p), &v)) == 0 ||
		    v > (uint64_t)(end - p - k))
			FAIL("TABLE_MAP optional metadata of %s.%s is corrupt",
			    t->db, t->name);
		p += k;
		rest = (size_t)v;
		switch (ot) {
		case OM_SIGNEDNESS:
			for (i = 0; i < ncols; i++) {
				if (!is_numeric(t->col[i].type))
					continue;
				if (numeric / 8 < rest &&
				    (p[numeric / 8] & (0x80 >> numeric % 8)))
					t->col[i].unsig = 1;
				numeric++;
			}
			break;
		case OM_DEFAULT_CHARSET:
		case OM_COLUMN_CHARSET:
			if (set_charsets(t, p, rest, ot == OM_DEFAULT_CHARSET,
			        is_character, cs) < 0)
				FAIL("TABLE_MAP charsets of %s.%s are corrupt",
				    t->db, t->name);
			break;
		case OM_ENUM_AND_SET_DEFAULT_CHARSET:
		case OM_ENUM_AND_SET_COLUMN_CHARSET:
			if (set_charsets(t, p, rest,
			        ot == OM_ENUM_AND_SET_DEFAULT_CHARSET,
			        is_enum_set, cs) < 0)
				FAIL("TABLE_MAP ENUM/SET charsets of %s.%s are "
				     "corrupt",
				    t->db, t->name);
			break;
		case OM_COLUMN_NAME: {
			size_t used = 0;

			for (i = 0; i < ncols && used < rest; i++) {
				if ((k = lenenc(p + used, rest - used, &v)) ==
				        0 ||
				    v > rest - used - k)
					FAIL(
					    "TABLE_MAP column names of %s.%s are "
					    "corrupt",
					    t->db, t->name);
				used += k;
				t->col[i].name = xstrndup(p + used, v);
				used += v;
			}
			break;
		}
		case OM_SET_STR_VALUE:
		case OM_ENUM_STR_VALUE:
			if (set_members(t, p, rest,
			        ot == OM_SET_STR_VALUE ? T_SET : T_ENUM) < 0)
				FAIL("TABLE_MAP ENUM/SET values of %s.%s are "
				     "corrupt",
				    t->db, t->name);
			break;
		case OM_SIMPLE_PRIMARY_KEY:
		case OM_PRIMARY_KEY_WITH_PREFIX: {
			size_t used = 0;

			t->pk = xcalloc(ncols, sizeof *t->pk);
			while (used < rest && t->npk < ncols) {
				if ((k = lenenc(p + used, rest - used, &v)) ==
				        0 ||
				    v >= ncols)
					FAIL(
					    "TABLE_MAP primary key of %s.%s is "
					    "corrupt",
					    t->db, t->name);
				used += k;
				t->pk[t->npk++] = (uint32_t)v;
				if (ot == OM_PRIMARY_KEY_WITH_PREFIX) {
					if ((k = lenenc(p + used, rest - used,
					         &v)) == 0)
						FAIL("TABLE_MAP key prefix of "
						     "%s.%s is corrupt",
						    t->db, t->name);
					used += k;
				}
			}
			break;
		}
		default:
			break; /* GEOMETRY_TYPE and later additions */
		}
		p += rest;
	}

	/* Resolve each column's text class and name; precompute the JSON
	 * fragments the row writer copies for every row. */
	t->cname = xcalloc(ncols, sizeof *t->cname);
	for (i = 0; i < ncols; i++) {
		struct column *c = &t->col[i];
		char tmp[16];

		if (c->charset && c->charset < cs->n) {
			c->text = cs->cls[c->charset];
			c->binary = cs->cls[c->charset] == CS_BINARY;
		} else if (c->charset == 63)
			c->binary = 1;
		if (c->type == T_GEOMETRY)
			c->binary = 1;
		log_debug("%s.%s column %u: type %u meta %u charset %u%s",
		    t->db, t->name, i + 1, c->type, c->meta, c->charset,
		    c->unsig ? " unsigned" : "");
		if (c->name == NULL) {
			snprintf(tmp, sizeof tmp, "@%u", i + 1);
			c->name = xstrdup(tmp);
		}
		buf_json_str(&t->cname[i], c->name, strlen(c->name));
		buf_putc(&t->cname[i], ':');
	}
	buf_puts(&t->head, "\"db\":");
	buf_json_str(&t->head, t->db, strlen(t->db));
	buf_puts(&t->head, ",\"table\":");
	buf_json_str(&t->head, t->name, strlen(t->name));
	buf_puts(&t->head, ",\"pk\":[");
	for (i = 0; i < t->npk; i++) {
		const char *nm = t->col[t->pk[i]].name;

		if (i > 0)
			buf_putc(&t->head, ',');
		buf_json_str(&t->head, nm, strlen(nm));
	}
	buf_putc(&t->head, ']');
	return 0;
}
