/* sql.c — record values to SQL literals; see sql.h. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sql.h"

void
sql_ident(struct buf *b, const char *name)
{
	buf_putc(b, '`');
	for (; *name; name++) {
		if (*name == '`')
			buf_putc(b, '`');
		buf_putc(b, *name);
	}
	buf_putc(b, '`');
}

/* Runs of bytes that need no escape are copied whole: the escaped ones
 * are rare in real values, and a byte at a time was a tenth of
 * srdf-apply's CPU. */
static void
quote(struct buf *b, const char *s, size_t n)
{
	size_t i = 0, run;

	buf_putc(b, '\'');
	while (i < n) {
		for (run = i; run < n; run++) {
			unsigned char c = (unsigned char)s[run];

			if (c == '\0' || c == '\'' || c == '\\' || c == '\n' ||
			    c == '\r' || c == '\032')
				break;
		}
		buf_add(b, s + i, run - i);
		if ((i = run) == n)
			break;
		switch (s[i++]) {
		case '\0':
			buf_lit(b, "\\0");
			break;
		case '\'':
			buf_lit(b, "\\'");
			break;
		case '\\':
			buf_lit(b, "\\\\");
			break;
		case '\n':
			buf_lit(b, "\\n");
			break;
		case '\r':
			buf_lit(b, "\\r");
			break;
		default:
			buf_lit(b, "\\Z");
			break;
		}
	}
	buf_putc(b, '\'');
}

/* A binary string: _binary'...' with quote()'s escapes, about as long as
 * the bytes (X'...' took twice as many, and a row had to fit in the
 * target's max_allowed_packet at that size); '' for none.  The _binary
 * introducer keeps the bytes as they are, whatever the connection's
 * character set: every byte quote() escapes is ASCII, which no
 * multi-byte sequence of a client character set srdf uses (utf8mb4)
 * contains. */
static void
bytes_literal(struct buf *b, const unsigned char *p, size_t n)
{
	if (n > 0)
		buf_lit(b, "_binary");
	quote(b, (const char *)p, n);
}

/* The {"b64": "..."} of a binary value (srdf-record(5)): in, inlen
 * bytes of base64 (RFC 4648, padded), decoded and appended as
 * bytes_literal.  Returns 0, or -1 (not base64, out of memory) with
 * nothing appended. */
static int
b64_literal(struct buf *b, const char *in, size_t inlen)
{
	unsigned char *bin;
	size_t outlen;

	if ((bin = malloc(inlen / 4 * 3 + 3)) == NULL)
		return -1;
	if (sodium_base642bin(bin, inlen / 4 * 3 + 3, in, inlen, NULL, &outlen,
	        NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(bin);
		return -1;
	}
	bytes_literal(b, bin, outlen);
	free(bin);
	return 0;
}

int
sql_literal(struct buf *b, json_t *v)
{

	switch (json_typeof(v)) {
	case JSON_NULL:
		buf_lit(b, "NULL");
		return 0;
	case JSON_INTEGER:
		buf_i64(b, (int64_t)json_integer_value(v));
		return 0;
	case JSON_REAL:
		buf_printf(b, "%.17g", json_real_value(v));
		return 0;
	case JSON_STRING:
		quote(b, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_OBJECT: {
		json_t *s = json_object_get(v, "b64");
		const char *in;
		size_t inlen;

		if (!json_is_string(s) || json_object_size(v) != 1)
			return -1;
		in = json_string_value(s);
		inlen = json_string_length(s);
		return b64_literal(b, in, inlen);
	}
	default:
		return -1;
	}
}

/* A JSON integer's text as sql_literal writes the integer: jansson reads
 * it with strtoll, so "-0" is 0 and leading digits are all there is. */
static void
span_int(struct buf *b, const char *p, size_t n, struct buf *tmp)
{
	tmp->len = 0;
	buf_add(tmp, p, n);
	buf_putc(tmp, '\0');
	buf_i64(b, (int64_t)strtoll(tmp->p, NULL, 10));
}

int
sql_literal_span(struct buf *b, struct jspan v, struct buf *tmp)
{
	struct jstr s;

	if (v.p == NULL || v.n == 0)
		return -1;
	switch (v.p[0]) {
	case 'n':
		buf_lit(b, "NULL");
		return 0;
	case '"':
		if (jspan_str(v, &s) != 0)
			return -1;
		if (!s.esc) {
			quote(b, s.p, s.n);
			return 0;
		}
		tmp->len = 0;
		jstr_decode(&s, tmp);
		quote(b, tmp->p, tmp->len);
		return 0;
	case '{': {
		const char *p = v.p, *e = v.p + v.n, *q;
		const char *in;
		size_t inlen;
		struct jstr k;

		p = json_ws(p + 1, e);
		if (p >= e || *p != '"')
			return -1;
		q = json_skip(p, e);
		if (jspan_str((struct jspan){p, (size_t)(q - p)}, &k) != 0)
			return -1;
		if (k.esc) {
			tmp->len = 0;
			jstr_decode(&k, tmp);
			if (tmp->len != 3 || memcmp(tmp->p, "b64", 3) != 0)
				return -1;
		} else if (k.n != 3 || memcmp(k.p, "b64", 3) != 0)
			return -1;
		p = json_ws(q, e);
		if (p >= e || *p != ':')
			return -1;
		p = json_ws(p + 1, e);
		if (p >= e || *p != '"')
			return -1;
		q = json_skip(p, e);
		if (jspan_str((struct jspan){p, (size_t)(q - p)}, &s) != 0)
			return -1;
		p = json_ws(q, e);
		if (p >= e || *p != '}' || json_ws(p + 1, e) != e)
			return -1;
		in = jstr_bytes(&s, tmp, &inlen);
		return b64_literal(b, in, inlen);
	}
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		if (memchr(v.p, '.', v.n) == NULL &&
		    memchr(v.p, 'e', v.n) == NULL &&
		    memchr(v.p, 'E', v.n) == NULL) {
			span_int(b, v.p, v.n, tmp);
			return 0;
		}
		tmp->len = 0;
		buf_add(tmp, v.p, v.n);
		buf_putc(tmp, '\0');
		buf_printf(b, "%.17g", strtod(tmp->p, NULL));
		return 0;
	default:
		return -1;
	}
}
