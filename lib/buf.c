/* buf.c — growable buffer and JSON appenders; see buf.h. */
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "log.h"

void
buf_grow(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	while (cap - b->len < need) {
		if (cap > SIZE_MAX / 2)
			die(EX_OSERR, "buffer of %zu bytes is too large",
			    b->len);
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL)
		die(EX_OSERR, "cannot allocate %zu bytes", cap);
	b->p = p;
	b->cap = cap;
}

void
buf_free_wiped(struct buf *b)
{
	if (b->p != NULL)
		sodium_memzero(b->p, b->cap);
	buf_free(b);
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p ? b->p + b->len : NULL, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		die(EX_SOFTWARE, "vsnprintf failed");
	if ((size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void
buf_u64(struct buf *b, uint64_t v)
{
	char t[24];
	int i = sizeof t;

	do
		t[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	buf_add(b, t + i, sizeof t - (size_t)i);
}

void
buf_i64(struct buf *b, int64_t v)
{
	if (v < 0) {
		buf_putc(b, '-');
		buf_u64(b, (uint64_t)0 - (uint64_t)v);
	} else
		buf_u64(b, (uint64_t)v);
}

#define JSON_SAFE_INT ((uint64_t)1 << 53)

void
buf_json_u64(struct buf *b, uint64_t v)
{
	if (v >= JSON_SAFE_INT) {
		buf_putc(b, '"');
		buf_u64(b, v);
		buf_putc(b, '"');
	} else
		buf_u64(b, v);
}

void
buf_json_i64(struct buf *b, int64_t v)
{
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	if (mag >= JSON_SAFE_INT) {
		buf_putc(b, '"');
		buf_i64(b, v);
		buf_putc(b, '"');
	} else
		buf_i64(b, v);
}

/* Whether decimal s reads back as exactly f (bit for bit) by strtof and
 * by strtod then (float), and is within FLT_MAX read as a double.
 * *range is set when only the last fails. */
static int
float_reads(const char *s, float f, int *range)
{
	double d = strtod(s, NULL);
	float g = strtof(s, NULL), h = (float)d;

	*range = 0;
	if (memcmp(&g, &f, sizeof f) != 0 || memcmp(&h, &f, sizeof f) != 0)
		return 0;
	if (d > FLT_MAX || d < -FLT_MAX) {
		*range = 1;
		return 0;
	}
	return 1;
}

/* Decimal s ("-d.ddde+xx" or "-ddd.dd") one unit of its last digit
 * nearer zero, in place; 0 when that would take its first digit to 0. */
static int
toward_zero(char *s)
{
	char *first = s + (*s == '-'), *e = strchr(s, 'e'), *p;

	p = (e != NULL ? e : s + strlen(s)) - 1;
	for (; p >= first; p--) {
		if (*p == '.')
			continue;
		if (*p < '0' || *p > '9')
			return 0;
		if (*p != '0')
			break;
		*p = '9';
	}
	if (p < first || (p == first && *p == '1'))
		return 0;
	--*p;
	return 1;
}

void
buf_json_float(struct buf *b, float f)
{
	char s[40];
	int range;

	/* FLT_DECIMAL_DIG (9) digits always read back as f. */
	for (int prec = 1; prec <= 9; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, (double)f);
		if (float_reads(s, f, &range) ||
		    (range && toward_zero(s) && float_reads(s, f, &range))) {
			buf_puts(b, s);
			return;
		}
	}
	/* Not reached for a finite f: its double's shortest digits read
	 * back as that double, which is f. */
	buf_printf(b, "%.17g", (double)f);
}

/* 1 for the bytes JSON requires escaped: controls, '"' and '\\'. */
static const unsigned char json_esc[256] = {
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ['\\'] = 1,
};

void
buf_json_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	if (b->cap - b->len < n + 3)
		buf_grow(b, n + 3);
	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!json_esc[c])
			continue;
		buf_add(b, s + run, i - run);
		run = i + 1;
		buf_putc(b, '\\');
		switch (c) {
		case '"':
		case '\\':
			buf_putc(b, (char)c);
			break;
		case '\n':
			buf_putc(b, 'n');
			break;
		case '\t':
			buf_putc(b, 't');
			break;
		case '\r':
			buf_putc(b, 'r');
			break;
		default:
			buf_add(b, "u00", 3);
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
	buf_add(b, s + run, n - run);
	buf_putc(b, '"');
}

void
buf_json_b64(struct buf *b, const void *src, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = src;
	size_t need = (n + 2) / 3 * 4 + 12;
	char *o;

	if (b->cap - b->len < need)
		buf_grow(b, need);
	buf_add(b, "{\"b64\":\"", 8);
	o = b->p + b->len;
	for (; n >= 3; n -= 3, s += 3) {
		*o++ = tab[s[0] >> 2];
		*o++ = tab[(s[0] & 3) << 4 | s[1] >> 4];
		*o++ = tab[(s[1] & 15) << 2 | s[2] >> 6];
		*o++ = tab[s[2] & 63];
	}
	if (n > 0) {
		*o++ = tab[s[0] >> 2];
		if (n == 1) {
			*o++ = tab[(s[0] & 3) << 4];
			*o++ = '=';
		} else {
			*o++ = tab[(s[0] & 3) << 4 | s[1] >> 4];
			*o++ = tab[(s[1] & 15) << 2];
		}
		*o++ = '=';
	}
	b->len = (size_t)(o - b->p);
	buf_add(b, "\"}", 2);
}

int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		uint64_t w;

		/* Plain ASCII, eight bytes at a time. */
		if (i + 8 <= n) {
			memcpy(&w, s + i, 8);
			if ((w & 0x8080808080808080ULL) == 0) {
				i += 8;
				continue;
			}
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			if (i + 1 >= n || (s[i + 1] & 0xc0) != 0x80)
				return 0;
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			if (i + 2 >= n || (s[i + 1] & 0xc0) != 0x80 ||
			    (s[i + 2] & 0xc0) != 0x80)
				return 0;
			if (c == 0xe0 && s[i + 1] < 0xa0)
				return 0; /* overlong */
			if (c == 0xed && s[i + 1] >= 0xa0)
				return 0; /* surrogate */
			i += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			if (i + 3 >= n || (s[i + 1] & 0xc0) != 0x80 ||
			    (s[i + 2] & 0xc0) != 0x80 ||
			    (s[i + 3] & 0xc0) != 0x80)
				return 0;
			if (c == 0xf0 && s[i + 1] < 0x90)
				return 0;
			if (c == 0xf4 && s[i + 1] >= 0x90)
				return 0;
			i += 4;
		} else
			return 0;
	}
	return 1;
}
