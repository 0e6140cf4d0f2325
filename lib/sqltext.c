/* sqltext.c — first words of SQL statements; see sqltext.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sqltext.h"

const char *
sql_skip_blank(const char *s, const char *end)
{
	for (;;) {
		while (s < end &&
		       (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
			s++;
		/* "/ *!...", "/ *M!...": executable comments, which the
		 * server runs (MariaDB Knowledge Base, "Comment Syntax") */
		if (end - s >= 2 && s[0] == '/' && s[1] == '*' &&
		    !(end - s >= 3 && s[2] == '!') &&
		    !(end - s >= 4 && s[2] == 'M' && s[3] == '!')) {
			const char *c = s + 2;

			while (c + 1 < end && !(c[0] == '*' && c[1] == '/'))
				c++;
			s = c + 2 <= end ? c + 2 : end;
			continue;
		}
		if (s < end && *s == '#') {
			while (s < end && *s != '\n')
				s++;
			continue;
		}
		return s;
	}
}

int
sql_word(const char **s, const char *end, const char *w)
{
	size_t n = strlen(w);
	char c;

	*s = sql_skip_blank(*s, end);
	if ((size_t)(end - *s) < n || strncasecmp(*s, w, n) != 0)
		return 0;
	if ((size_t)(end - *s) > n) {
		c = (*s)[n];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_')
			return 0;
	}
	*s += n;
	return 1;
}

/* A byte of a bare identifier or word: [A-Za-z0-9_$] and bytes >= 0x80. */
static int
word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
}

/* An identifier at *s (after blanks): `quoted` (`` inside is one `) or
 * bare ([A-Za-z0-9_$] and bytes >= 0x80), appended to out, lowercased
 * unless asis; 0, or -1 when there is none.  A NUL byte, which no
 * MariaDB identifier holds, ends none: the name would be cut short in
 * the "db\037table\0" lists. */
static int
ident_as(const char **s, const char *end, struct buf *out, int asis)
{
	const char *p = sql_skip_blank(*s, end);
	size_t n0 = out->len;
	char c;

	if (p < end && *p == '`') {
		for (p++;; p++) {
			if (p >= end || *p == '\0')
				return -1;
			if (*p == '`') {
				if (p + 1 < end && p[1] == '`')
					p++;
				else
					break;
			}
			c = *p;
			buf_add(out, &c, 1);
		}
		p++;
	} else {
		while (p < end && word_byte((unsigned char)*p)) {
			buf_add(out, p, 1);
			p++;
		}
	}
	if (out->len == n0)
		return -1;
	for (size_t i = n0; i < out->len && !asis; i++)
		if (out->p[i] >= 'A' && out->p[i] <= 'Z')
			out->p[i] = (char)(out->p[i] - 'A' + 'a');
	*s = p;
	return 0;
}

static int
ident(const char **s, const char *end, struct buf *out)
{
	return ident_as(s, end, out, 0);
}

/* A table name, `db`.`t` or t (then in db), to out as "db\037t\0",
 * lowercased unless asis. */
static int
table_name_as(
    const char **s, const char *end, const char *db, struct buf *out, int asis)
{
	struct buf a = {0};
	const char *p;
	int rc = -1;

	if (ident_as(s, end, &a, asis) != 0)
		goto out;
	p = sql_skip_blank(*s, end);
	if (p < end && *p == '.') {
		p++;
		buf_add(out, a.p, a.len);
		a.len = 0;
		if (ident_as(&p, end, &a, asis) != 0)
			goto out;
		*s = p;
	} else {
		if (db == NULL || *db == '\0')
			goto out;
		for (const char *c = db; *c; c++) {
			char l = *c >= 'A' && *c <= 'Z' && !asis
			             ? (char)(*c - 'A' + 'a')
			             : *c;
			buf_add(out, &l, 1);
		}
	}
	buf_add(out, "\037", 1);
	buf_add(out, a.p, a.len);
	buf_add(out, "", 1);
	rc = 0;
out:
	free(a.p);
	return rc;
}

static int
table_name(const char **s, const char *end, const char *db, struct buf *out)
{
	return table_name_as(s, end, db, out, 0);
}

/* 1 when any of the words is anywhere in the text, as a whole word. */
static int
has_word(const char *sql, const char *end, const char *const *words)
{
	for (const char *p = sql; p < end; p++) {
		if (p > sql &&
		    ((p[-1] >= 'a' && p[-1] <= 'z') ||
		        (p[-1] >= 'A' && p[-1] <= 'Z') || p[-1] == '_' ||
		        (p[-1] >= '0' && p[-1] <= '9')))
			continue;
		for (const char *const *w = words; *w; w++) {
			const char *q = p;

			if (sql_word(&q, end, *w) &&
			    q - p == (ptrdiff_t)strlen(*w))
				return 1;
		}
	}
	return 0;
}

/* After CREATE: [UNIQUE|FULLTEXT|SPATIAL] INDEX [IF NOT EXISTS] i
 * [USING x] ON, the index's name into junk; 0, or -1 when the text is
 * not that. */
static int
index_on(const char **s, const char *end, struct buf *junk)
{
	(void)(sql_word(s, end, "UNIQUE") || sql_word(s, end, "FULLTEXT") ||
	       sql_word(s, end, "SPATIAL"));
	if (!sql_word(s, end, "INDEX"))
		return -1;
	if (sql_word(s, end, "IF") &&
	    !(sql_word(s, end, "NOT") && sql_word(s, end, "EXISTS")))
		return -1;
	if (ident(s, end, junk) != 0)
		return -1;
	if (sql_word(s, end, "USING") && ident(s, end, junk) != 0)
		return -1;
	return sql_word(s, end, "ON") ? 0 : -1;
}

/* After CREATE [OR REPLACE]: TABLE [IF NOT EXISTS], or an index
 * (index_on, its name into junk); 0, or -1 when the text is neither. */
static int
create_target(const char **s, const char *end, struct buf *junk)
{
	if (!sql_word(s, end, "TABLE"))
		return index_on(s, end, junk);
	if (sql_word(s, end, "IF") &&
	    !(sql_word(s, end, "NOT") && sql_word(s, end, "EXISTS")))
		return -1;
	return 0;
}

int
sql_ddl_tables(const char *sql, size_t len, const char *db, struct buf *out)
{
	static const char *const unsure[] = {"REFERENCES", "FOREIGN", "SELECT",
	    "LIKE", "RENAME", "EXCHANGE", "TRIGGER", "VIEW", NULL};
	const char *s = sql, *end = sql + len;
	struct buf junk = {0};
	size_t n0 = out->len;
	int rc = -1;

	if (has_word(sql, end, unsure) || !sql_word(&s, end, "CREATE"))
		return -1;
	if (create_target(&s, end, &junk) != 0)
		goto out;
	if (table_name(&s, end, db, out) == 0)
		rc = 1;
out:
	free(junk.p);
	if (rc < 0)
		out->len = n0;
	return rc;
}

/* sql_renames_table over sql..end (sqltext.h). */
static int
renames_table(const char *sql, const char *end)
{
	for (const char *p = sql; p < end; p++) {
		const char *q = p;

		if ((*p != 'R' && *p != 'r') ||
		    (p > sql &&
		        ((p[-1] >= 'a' && p[-1] <= 'z') ||
		            (p[-1] >= 'A' && p[-1] <= 'Z') || p[-1] == '_' ||
		            (p[-1] >= '0' && p[-1] <= '9'))) ||
		    !sql_word(&q, end, "RENAME"))
			continue;
		if (!sql_word(&q, end, "COLUMN") &&
		    !sql_word(&q, end, "INDEX") && !sql_word(&q, end, "KEY"))
			return 1;
	}
	return 0;
}

int
sql_renames_table(const char *sql, size_t len)
{
	return renames_table(sql, sql + len);
}

int
sql_ddl_table_of(const char *sql, size_t len, const char *db, struct buf *out)
{
	static const char *const unsure[] = {"EXCHANGE", NULL};
	const char *s = sql, *end = sql + len, *p;
	struct buf junk = {0};
	size_t n0 = out->len;
	int rc = -1;

	if (has_word(sql, end, unsure) || renames_table(sql, end))
		return -1;
	if (sql_word(&s, end, "ALTER")) {
		(void)sql_word(&s, end, "ONLINE");
		(void)sql_word(&s, end, "IGNORE");
		if (!sql_word(&s, end, "TABLE"))
			goto out;
		if (sql_word(&s, end, "IF") && !sql_word(&s, end, "EXISTS"))
			goto out;
	} else if (sql_word(&s, end, "TRUNCATE")) {
		(void)sql_word(&s, end, "TABLE");
	} else if (sql_word(&s, end, "OPTIMIZE") ||
	           sql_word(&s, end, "ANALYZE") ||
	           sql_word(&s, end, "REPAIR")) {
		(void)(sql_word(&s, end, "NO_WRITE_TO_BINLOG") ||
		       sql_word(&s, end, "LOCAL"));
		if (!sql_word(&s, end, "TABLE"))
			goto out;
	} else if (sql_word(&s, end, "DROP")) {
		if (sql_word(&s, end, "INDEX")) {
			if (sql_word(&s, end, "IF") &&
			    !sql_word(&s, end, "EXISTS"))
				goto out;
			if (ident(&s, end, &junk) != 0 ||
			    !sql_word(&s, end, "ON"))
				goto out;
		} else {
			if (!sql_word(&s, end, "TABLE"))
				goto out;
			if (sql_word(&s, end, "IF") &&
			    !sql_word(&s, end, "EXISTS"))
				goto out;
		}
	} else if (sql_word(&s, end, "CREATE")) {
		if (sql_word(&s, end, "OR") && !sql_word(&s, end, "REPLACE"))
			goto out;
		if (create_target(&s, end, &junk) != 0)
			goto out;
	} else
		goto out;
	if (table_name(&s, end, db, out) != 0)
		goto out;
	/* One table: a list (DROP TABLE a, b; OPTIMIZE TABLE a, b) is not. */
	p = sql_skip_blank(s, end);
	if (p < end && *p == ',')
		goto out;
	rc = 1;
out:
	free(junk.p);
	if (rc < 0)
		out->len = n0;
	return rc;
}

/* ---- DML written as a statement ---------------------------------------- */

/* Whether what follows the table of a single-table UPDATE is SET, or of
 * a DELETE the end, WHERE, ORDER, LIMIT, RETURNING or (DELETE HISTORY)
 * BEFORE: no join, no USING. */
static int
dml_tail(const char **s, const char *end, int update)
{
	const char *p;

	if (update)
		return sql_word(s, end, "SET");
	p = sql_skip_blank(*s, end);
	return p == end || *p == ';' || sql_word(s, end, "WHERE") ||
	       sql_word(s, end, "ORDER") || sql_word(s, end, "LIMIT") ||
	       sql_word(s, end, "RETURNING") || sql_word(s, end, "BEFORE");
}

int
sql_dml_table(const char *sql, size_t len, const char *db, struct buf *out)
{
	const char *s = sql, *end = sql + len, *p;
	struct buf junk = {0};
	size_t n0 = out->len;
	int rc = -1, update = 0, del = 0;

	if (sql_word(&s, end, "INSERT") || sql_word(&s, end, "REPLACE")) {
		(void)(sql_word(&s, end, "LOW_PRIORITY") ||
		       sql_word(&s, end, "DELAYED") ||
		       sql_word(&s, end, "HIGH_PRIORITY"));
		(void)sql_word(&s, end, "IGNORE");
		(void)sql_word(&s, end, "INTO");
	} else if (sql_word(&s, end, "UPDATE")) {
		(void)sql_word(&s, end, "LOW_PRIORITY");
		(void)sql_word(&s, end, "IGNORE");
		update = 1;
	} else if (sql_word(&s, end, "DELETE")) {
		if (!sql_word(&s, end, "HISTORY")) {
			(void)sql_word(&s, end, "LOW_PRIORITY");
			(void)sql_word(&s, end, "QUICK");
			(void)sql_word(&s, end, "IGNORE");
		}
		if (!sql_word(&s, end, "FROM"))
			goto out;
		del = 1;
	} else
		goto out;
	if (table_name_as(&s, end, db, out, 1) != 0)
		goto out;
	p = sql_skip_blank(s, end);
	if (p < end && *p == ',')
		goto out;
	if ((update || del) && !dml_tail(&s, end, update)) {
		(void)sql_word(&s, end, "AS");
		if (ident(&s, end, &junk) != 0 || !dml_tail(&s, end, update))
			goto out;
	}
	rc = 1;
out:
	free(junk.p);
	if (rc < 0)
		out->len = n0;
	return rc;
}

/* ---- CREATE TRIGGER ---------------------------------------------------- */

/* Blanks and comments, "-- " ones too. */
static const char *
skip_all_blank(const char *s, const char *end)
{
	for (;;) {
		s = sql_skip_blank(s, end);
		if (end - s < 3 || s[0] != '-' || s[1] != '-' ||
		    (s[2] != ' ' && s[2] != '\t' && s[2] != '\n' &&
		        s[2] != '\r'))
			return s;
		while (s < end && *s != '\n')
			s++;
	}
}

/* One token at *s, after blanks and comments: a quoted identifier or
 * string, a word, or one other byte; *s is moved past it.  Returns its
 * start, or NULL at the end, at an executable comment or for a quote
 * that does not end. */
static const char *
token(const char **s, const char *end)
{
	const char *p = skip_all_blank(*s, end), *t = p;

	if (p >= end ||
	    (end - p >= 3 && p[0] == '/' && p[1] == '*' && p[2] == '!'))
		return NULL;
	if (*p == '`' || *p == '\'' || *p == '"') {
		char q = *p++;

		for (;; p++) {
			if (p >= end)
				return NULL;
			if (*p == '\\' && q != '`' && p + 1 < end)
				p++;
			else if (*p == q && p + 1 < end && p[1] == q)
				p++;
			else if (*p == q)
				break;
		}
		p++;
	} else if (word_byte((unsigned char)*p)) {
		while (p < end && word_byte((unsigned char)*p))
			p++;
	} else
		p++;
	*s = p;
	return t;
}

static int
is_word(const char *t, const char *z, const char *w)
{
	size_t n = strlen(w);

	return t != NULL && (size_t)(z - t) == n && strncasecmp(t, w, n) == 0;
}

/* "= user" of DEFINER: CURRENT_USER or CURRENT_ROLE [()], or a name
 * [@ host]. */
static int
definer(const char **s, const char *end)
{
	const char *t, *p;

	if ((t = token(s, end)) == NULL || *t != '=' ||
	    (t = token(s, end)) == NULL)
		return -1;
	p = *s;
	if (is_word(t, *s, "CURRENT_USER") || is_word(t, *s, "CURRENT_ROLE")) {
		if ((t = token(&p, end)) != NULL && *t == '(' &&
		    (t = token(&p, end)) != NULL && *t == ')')
			*s = p;
		return 0;
	}
	if ((t = token(&p, end)) != NULL && *t == '@') {
		if (token(&p, end) == NULL)
			return -1;
		*s = p;
	}
	return 0;
}

int
sql_trigger_parts(const char *sql, size_t len, struct sql_trigger *tp)
{
	const char *s = sql, *end = sql + len, *t, *p, *body, *z;
	const char *w[3] = {NULL, NULL, NULL}, *wz[3] = {NULL, NULL, NULL};
	size_t n;

	if (!sql_word(&s, end, "CREATE"))
		return -1;
	tp->head = (size_t)(s - sql);
	if (sql_word(&s, end, "OR")) {
		if (!sql_word(&s, end, "REPLACE"))
			return -1;
		tp->head = (size_t)(s - sql);
	}
	if (sql_word(&s, end, "DEFINER") && definer(&s, end) != 0)
		return -1;
	if (!sql_word(&s, end, "TRIGGER"))
		return -1;
	/* The name, the time, the event and the table, up to FOR EACH ROW. */
	for (n = 0;; n++) {
		if (n > 64 || (t = token(&s, end)) == NULL)
			return -2;
		w[0] = w[1], wz[0] = wz[1];
		w[1] = w[2], wz[1] = wz[2];
		w[2] = t, wz[2] = s;
		if (is_word(w[0], wz[0], "FOR") &&
		    is_word(w[1], wz[1], "EACH") && is_word(w[2], wz[2], "ROW"))
			break;
	}
	tp->row = (size_t)(s - sql);
	p = s;
	if ((t = token(&p, end)) != NULL &&
	    (is_word(t, p, "FOLLOWS") || is_word(t, p, "PRECEDES"))) {
		if (token(&p, end) == NULL)
			return -2;
		s = p;
	}
	body = skip_all_blank(s, end);
	for (z = end;
	     z > body && (z[-1] == ';' || z[-1] == ' ' || z[-1] == '\t' ||
	                     z[-1] == '\n' || z[-1] == '\r');
	     z--)
		;
	if (body == z)
		return -2;
	tp->body = (size_t)(body - sql);
	tp->body_end = (size_t)(z - sql);
	return 1;
}

int
sql_trigger_guard(
    const char *sql, size_t len, const char *cond, struct buf *out)
{
	const char *end = sql + len, *p, *body;
	struct sql_trigger tp;
	int rc;

	if ((rc = sql_trigger_parts(sql, len, &tp)) != 1)
		return rc;
	p = body = sql + tp.body;
	if (sql_word(&p, end, "IF")) {
		size_t c = strlen(cond);

		p = skip_all_blank(p, end);
		if ((size_t)(end - p) >= c && strncasecmp(p, cond, c) == 0 &&
		    (p += c, sql_word(&p, end, "THEN")))
			return 0;
	}
	buf_add(out, sql, tp.body);
	/* "FOR EACH ROW`label`: BEGIN ...": not "ROWIF". */
	if (tp.body > 0 && word_byte((unsigned char)sql[tp.body - 1]))
		buf_putc(out, ' ');
	buf_lit(out, "IF ");
	buf_puts(out, cond);
	buf_lit(out, " THEN ");
	buf_add(out, body, tp.body_end - tp.body);
	buf_lit(out, "\n; END IF");
	return 1;
}

int
sql_trigger_unguarded(const char *body, size_t len, const char *cond,
    const char **inner, size_t *n)
{
	static const char head[] = "IF ", mid[] = " THEN ",
	                  tail[] = "\n; END IF";
	size_t c = strlen(cond), h = sizeof head - 1 + c + sizeof mid - 1;

	if (len < h + sizeof tail - 1 ||
	    memcmp(body, head, sizeof head - 1) != 0 ||
	    memcmp(body + sizeof head - 1, cond, c) != 0 ||
	    memcmp(body + sizeof head - 1 + c, mid, sizeof mid - 1) != 0 ||
	    memcmp(body + len - (sizeof tail - 1), tail, sizeof tail - 1) != 0)
		return 0;
	*inner = body + h;
	*n = len - h - (sizeof tail - 1);
	return 1;
}

/* ---- CREATE and ALTER EVENT -------------------------------------------- */

int
sql_event_replica(const char *sql, size_t len, struct buf *out)
{
	const char *s = sql, *end = sql + len, *t, *p, *at = NULL;
	const char *st = NULL, *stz = NULL; /* the ENABLE to replace */
	int create, disabled = 0;
	size_t n;

	if ((create = sql_word(&s, end, "CREATE")) == 0 &&
	    !sql_word(&s, end, "ALTER"))
		return -1;
	if (create && sql_word(&s, end, "OR") && !sql_word(&s, end, "REPLACE"))
		return -1;
	if (sql_word(&s, end, "DEFINER") && definer(&s, end) != 0)
		return -1;
	if (!sql_word(&s, end, "EVENT"))
		return -1;
	/* Up to the body: the schedule, ON COMPLETION, RENAME TO, the
	 * status, COMMENT. */
	for (n = 0;; n++) {
		p = s;
		if ((t = token(&s, end)) == NULL) {
			if (create || skip_all_blank(p, end) < end)
				return -2; /* a CREATE has a body */
			break;
		}
		if (n > 4096)
			return -2;
		if (is_word(t, s, "DO") && n > 0) {
			if (at == NULL)
				at = t;
			break;
		}
		if (is_word(t, s, "COMMENT") && at == NULL)
			at = t;
		if (is_word(t, s, "ENABLE")) {
			st = t;
			stz = s;
		} else if (is_word(t, s, "DISABLE"))
			disabled = 1;
	}
	if (st == NULL && (disabled || !create))
		return 0; /* disabled at the source, or no status given */
	if (st != NULL) {
		buf_add(out, sql, (size_t)(st - sql));
		buf_lit(out, "DISABLE ON SLAVE");
		buf_add(out, stz, (size_t)(end - stz));
	} else {
		buf_add(out, sql, (size_t)(at - sql));
		buf_lit(out, "DISABLE ON SLAVE ");
		buf_add(out, at, (size_t)(end - at));
	}
	return 1;
}
