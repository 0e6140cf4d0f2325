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

static void
quote(struct buf *b, const char *s, size_t n)
{
	buf_putc(b, '\'');
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '\0': buf_lit(b, "\\0"); break;
		case '\'': buf_lit(b, "\\'"); break;
		case '\\': buf_lit(b, "\\\\"); break;
		case '\n': buf_lit(b, "\\n"); break;
		case '\r': buf_lit(b, "\\r"); break;
		case '\032': buf_lit(b, "\\Z"); break;
		default: buf_putc(b, s[i]);
		}
	}
	buf_putc(b, '\'');
}

int
sql_literal(struct buf *b, json_t *v)
{
	static const char hex[] = "0123456789abcdef";

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
		size_t inlen, outlen;
		unsigned char *bin;

		if (!json_is_string(s) || json_object_size(v) != 1)
			return -1;
		in = json_string_value(s);
		inlen = json_string_length(s);
		if ((bin = malloc(inlen / 4 * 3 + 3)) == NULL)
			return -1;
		if (sodium_base642bin(bin, inlen / 4 * 3 + 3, in, inlen, NULL,
			&outlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
			free(bin);
			return -1;
		}
		if (outlen == 0)
			buf_lit(b, "''");
		else {
			buf_lit(b, "X'");
			for (size_t i = 0; i < outlen; i++) {
				buf_putc(b, hex[bin[i] >> 4]);
				buf_putc(b, hex[bin[i] & 15]);
			}
			buf_putc(b, '\'');
		}
		free(bin);
		return 0;
	}
	default:
		return -1;
	}
}
