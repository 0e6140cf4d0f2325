/* scan.c — srdf-dedup's record scanner; see scan.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "log.h"
#include "xalloc.h"
#include "scan.h"

/* jansson's JSON_PARSER_MAX_DEPTH: a value nested deeper is an error. */
#define MAX_DEPTH 2048
#define ONES 0x0101010101010101ULL

/* Bytes inside a string: 0 plain, 1 quote, 2 backslash, 3 control,
 * 4 start of a multi-byte UTF-8 sequence (or not UTF-8). */
static const uint8_t strclass[256] = {
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
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
    0,
    0,
    0,
    0,
    0,
    2,
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
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
    4,
};

#define KIND(s) \
	{ \
		s, sizeof(s) - 1 \
	}
static const struct {
	const char *name;
	size_t len;
} kinds[] = {KIND("begin"), KIND("commit"), KIND("abort"), KIND("insert"),
    KIND("update"), KIND("delete"), KIND("ddl"), KIND("xa_prepare"),
    KIND("xa_end"), KIND("trx"), KIND("range")};

const char *
json_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at q; -1 if q[0..4) is not that (or runs past e). */
static long
hex4(const unsigned char *q, const unsigned char *e)
{
	long v = 0;

	if (e - q < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(q[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* The first byte at or after q (before end) that is not plain ASCII: a
 * byte below 0x20, a quote, a backslash or one with the high bit set;
 * end if none is.  The hot loop: sixteen bytes at a time with SSE2
 * (every x86-64 has it), then eight (as a signed byte, one with the high
 * bit set is below 0x20 too). */
static inline __attribute__((always_inline)) const unsigned char *
plain_run(const unsigned char *q, const unsigned char *end)
{
#ifdef __SSE2__
	while (end - q >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)q);
		int m = _mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
		        _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
		    _mm_cmplt_epi8(x, _mm_set1_epi8(0x20))));

		if (m != 0)
			return q + __builtin_ctz((unsigned)m);
		q += 16;
	}
#endif
	while (end - q >= 8) {
		uint64_t w, m;

		memcpy(&w, q, 8);
		m = ((w - ONES * 0x20) | ((w ^ ONES * '"') - ONES) |
		        ((w ^ ONES * '\\') - ONES) | w) &
		    ONES * 0x80;
		if (m != 0)
			break;
		q += 8;
	}
	while (q < end && strclass[*q] == 0)
		q++;
	return q;
}

/* The escape after the backslash at q[-1]: returns the byte after it, or
 * NULL when it is not a JSON escape (a lone or misordered surrogate
 * included; \u0000 too in a key). */
static const unsigned char *
escape(const unsigned char *q, const unsigned char *end, int key)
{
	long v, v2;

	if (q >= end)
		return NULL;
	switch (*q) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		return q + 1;
	case 'u':
		if ((v = hex4(q + 1, end)) < 0)
			return NULL;
		q += 5;
		if (v >= 0xD800 && v <= 0xDBFF) {
			if (end - q < 2 || q[0] != '\\' || q[1] != 'u')
				return NULL;
			v2 = hex4(q + 2, end);
			if (v2 < 0xDC00 || v2 > 0xDFFF)
				return NULL;
			q += 6;
		} else if (v >= 0xDC00 && v <= 0xDFFF)
			return NULL;
		else if (v == 0 && key)
			return NULL;
		return q;
	default:
		return NULL;
	}
}

/* The UTF-8 sequence whose lead byte (0x80 or above) is at q: returns the
 * byte after it, or NULL when it is not valid (RFC 3629, as jansson's
 * utf8_check_full). */
static const unsigned char *
utf8_seq(const unsigned char *q, const unsigned char *end)
{
	unsigned c = q[0];
	int n;

	if (c >= 0xC2 && c <= 0xDF)
		n = 1;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 2;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 3;
	else
		return NULL;
	if (end - q <= n)
		return NULL;
	for (int i = 1; i <= n; i++)
		if ((q[i] & 0xC0) != 0x80)
			return NULL;
	if ((c == 0xE0 && q[1] < 0xA0) || (c == 0xED && q[1] > 0x9F) ||
	    (c == 0xF0 && q[1] < 0x90) || (c == 0xF4 && q[1] > 0x8F))
		return NULL;
	return q + n + 1;
}

/*
 * A string whose opening quote is at p[-1].  Returns the byte after the
 * closing quote, or NULL.  A key may not hold U+0000 (jansson: "NUL byte
 * in object key not supported").
 */
static const char *
scan_str(const char *p, const char *e, struct jstr *out, int key)
{
	const unsigned char *q = (const unsigned char *)p;
	const unsigned char *end = (const unsigned char *)e;
	uint8_t esc = 0;

	for (;;) {
		if ((q = plain_run(q, end)) >= end)
			return NULL;
		switch (strclass[*q]) {
		case 1:
			goto done;
		case 2:
			esc = 1;
			q = escape(q + 1, end, key);
			break;
		case 3:
			return NULL;
		default:
			q = utf8_seq(q, end);
		}
		if (q == NULL)
			return NULL;
	}
done:
	if ((size_t)((const char *)q - p) > UINT32_MAX)
		return NULL;
	out->p = p;
	out->n = (uint32_t)((const char *)q - p);
	out->esc = esc;
	return (const char *)q + 1;
}

static int
isdig(int c)
{
	return c >= '0' && c <= '9';
}

/* A number at p, with jansson's limits: integers within 64 signed bits,
 * reals whose strtod() does not overflow. */
static const char *
scan_number(const char *p, const char *e)
{
	const char *s = p, *d;
	int real = 0, exp = 0;
	size_t nd;

	if (*p == '-')
		p++;
	d = p;
	if (p >= e)
		return NULL;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < e && isdig(*p))
			p++;
	else
		return NULL;
	nd = (size_t)(p - d);
	if (p < e && *p == '.') {
		if (++p >= e || !isdig(*p))
			return NULL;
		while (p < e && isdig(*p))
			p++;
		real = 1;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		if (++p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || !isdig(*p))
			return NULL;
		while (p < e && isdig(*p))
			p++;
		real = exp = 1;
	}
	if (!real) {
		if (nd > 19)
			return NULL;
		if (nd == 19 && memcmp(d,
		                    *s == '-' ? "9223372036854775808"
		                              : "9223372036854775807",
		                    19) > 0)
			return NULL;
	} else if (exp || p - s > 300) {
		char small[64], *t = small;
		size_t n = (size_t)(p - s);
		double x;

		if (n >= sizeof small)
			t = xcalloc(n + 1, 1);
		memcpy(t, s, n);
		t[n] = '\0';
		errno = 0;
		x = strtod(t, NULL);
		if (t != small)
			free(t);
		if ((x == HUGE_VAL || x == -HUGE_VAL) && errno == ERANGE)
			return NULL;
	}
	return p;
}

static int
jstr_same(struct scanner *s, const struct jstr *a, const struct jstr *b)
{
	if (!a->esc && !b->esc)
		return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
	s->t1.len = s->t2.len = 0;
	jstr_decode(a, &s->t1);
	jstr_decode(b, &s->t2);
	return s->t1.len == s->t2.len &&
	       memcmp(s->t1.p, s->t2.p, s->t1.len) == 0;
}

static uint32_t
hash_bytes(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

/* 1 if two of the keys from s->keys[base] on are equal. */
static int
duplicates(struct scanner *s, size_t base)
{
	size_t n = s->nkeys - base, mask, i, j;
	struct jstr *k;

	if (n < 2)
		return 0;
	k = s->keys + base; /* not before: keys is NULL until one is read */
	if (n <= 16) {
		for (i = 1; i < n; i++)
			for (j = 0; j < i; j++)
				if (k[i].esc || k[j].esc
				        ? jstr_same(s, &k[i], &k[j])
				        : k[i].n == k[j].n &&
				              (k[i].n == 0 ||
				                  (k[i].p[0] == k[j].p[0] &&
				                      memcmp(k[i].p, k[j].p,
				                          k[i].n) == 0)))
					return 1;
		return 0;
	}
	s->ht = xgrow(s->ht, &s->htcap, 4 * n, sizeof *s->ht);
	for (mask = 1; mask < 2 * n; mask <<= 1)
		;
	memset(s->ht, 0, mask * sizeof *s->ht);
	mask--;
	for (i = 0; i < n; i++) {
		uint32_t h;

		if (k[i].esc) {
			s->t1.len = 0;
			jstr_decode(&k[i], &s->t1);
			h = hash_bytes(s->t1.p, s->t1.len);
		} else
			h = hash_bytes(k[i].p, k[i].n);
		for (j = h & mask; s->ht[j] != 0; j = (j + 1) & mask)
			if (jstr_same(s, &k[s->ht[j] - 1], &k[i]))
				return 1;
		s->ht[j] = (uint32_t)i + 1;
	}
	return 0;
}

static const char *scan_value(
    struct scanner *, const char *, const char *, int);

/* An object at p ('{'); with img >= 0 its members are kept in
 * s->mem[img]. */
static const char *
scan_object(struct scanner *s, const char *p, const char *e, int depth, int img,
    size_t *nmem)
{
	size_t base = s->nkeys;
	struct jstr k;
	const char *v;

	p = json_ws(p + 1, e);
	if (p < e && *p == '}')
		return p + 1;
	for (;;) {
		if (p >= e || *p != '"')
			return NULL;
		if ((p = scan_str(p + 1, e, &k, 1)) == NULL)
			return NULL;
		s->keys =
		    xgrow(s->keys, &s->capkeys, s->nkeys + 1, sizeof *s->keys);
		s->keys[s->nkeys++] = k;
		p = json_ws(p, e);
		if (p >= e || *p != ':')
			return NULL;
		p = json_ws(p + 1, e);
		if (p >= e)
			return NULL;
		v = p;
		if ((p = scan_value(s, p, e, depth + 1)) == NULL)
			return NULL;
		if (img >= 0) {
			s->mem[img] = xgrow(s->mem[img], &s->capmem[img],
			    *nmem + 1, sizeof *s->mem[img]);
			s->mem[img][*nmem].key = k;
			s->mem[img][*nmem].val.p = v;
			s->mem[img][*nmem].val.n = (size_t)(p - v);
			(*nmem)++;
		}
		p = json_ws(p, e);
		if (p < e && *p == ',') {
			p = json_ws(p + 1, e);
			continue;
		}
		if (p < e && *p == '}')
			break;
		return NULL;
	}
	if (duplicates(s, base))
		return NULL;
	s->nkeys = base;
	return p + 1;
}

static const char *
scan_array(struct scanner *s, const char *p, const char *e, int depth)
{
	p = json_ws(p + 1, e);
	if (p < e && *p == ']')
		return p + 1;
	for (;;) {
		if (p >= e)
			return NULL;
		if ((p = scan_value(s, p, e, depth + 1)) == NULL)
			return NULL;
		p = json_ws(p, e);
		if (p < e && *p == ',') {
			p = json_ws(p + 1, e);
			continue;
		}
		if (p < e && *p == ']')
			return p + 1;
		return NULL;
	}
}

static const char *
scan_value(struct scanner *s, const char *p, const char *e, int depth)
{
	struct jstr j;

	if (depth > MAX_DEPTH)
		return NULL;
	switch (*p) {
	case '"':
		return scan_str(p + 1, e, &j, 0);
	case '{':
		return scan_object(s, p, e, depth, -1, NULL);
	case '[':
		return scan_array(s, p, e, depth);
	case 't':
		return e - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return e - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return e - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		if (*p == '-' || isdig(*p))
			return scan_number(p, e);
		return NULL;
	}
}

/* Which top-level member a key names. */
enum {
	K_OTHER,
	K_V,
	K_TYPE,
	K_DB,
	K_TABLE,
	K_PK,
	K_BEFORE,
	K_AFTER,
	K_GTID,
	K_TS,
	K_XA,
	K_CASCADE,
	K_FK_CHECKS
};

static int
top_key(struct scanner *s, const struct jstr *k)
{
	size_t n;
	const char *p = jstr_bytes(k, &s->t1, &n);

#define IS(lit) (n == sizeof(lit) - 1 && memcmp(p, lit, n) == 0)
	switch (n > 0 ? p[0] : 0) {
	case 'v':
		return IS("v") ? K_V : K_OTHER;
	case 't':
		return IS("type")    ? K_TYPE
		       : IS("table") ? K_TABLE
		       : IS("ts")    ? K_TS
		                     : K_OTHER;
	case 'd':
		return IS("db") ? K_DB : K_OTHER;
	case 'f':
		return IS("fk_checks") ? K_FK_CHECKS : K_OTHER;
	case 'c':
		return IS("cascade") ? K_CASCADE : K_OTHER;
	case 'p':
		return IS("pk") ? K_PK : K_OTHER;
	case 'b':
		return IS("before") ? K_BEFORE : K_OTHER;
	case 'a':
		return IS("after") ? K_AFTER : K_OTHER;
	case 'g':
		return IS("gtid") ? K_GTID : K_OTHER;
	case 'x':
		return IS("xa") ? K_XA : K_OTHER;
	default:
		return K_OTHER;
	}
#undef IS
}

/* Where a top-level member's value goes: r's span for the key id, ver
 * and type for "v" and "type", NULL for a key scan_record keeps not. */
static inline struct jspan *
member_span(struct rec *r, int id, struct jspan *ver, struct jspan *type)
{
	switch (id) {
	case K_V:
		return ver;
	case K_TYPE:
		return type;
	case K_DB:
		return &r->db;
	case K_TABLE:
		return &r->table;
	case K_PK:
		return &r->pk;
	case K_BEFORE:
		return &r->img[IMG_BEFORE];
	case K_AFTER:
		return &r->img[IMG_AFTER];
	case K_GTID:
		return &r->gtid;
	case K_TS:
		return &r->ts;
	case K_XA:
		return &r->xa;
	case K_CASCADE:
		return &r->cascade;
	case K_FK_CHECKS:
		return &r->fk_checks;
	default:
		return NULL;
	}
}

/* As record_check(): "v" the integer 1, "type" a known kind, which
 * becomes r->type; then r's member arrays of the images (nmem members
 * each).  0, or -1. */
static int
record_kind(struct scanner *s, struct jspan ver, struct jspan type,
    const size_t nmem[2], struct rec *r)
{
	struct jstr t;

	if (ver.n != 1 || ver.p[0] != '1')
		return -1;
	if (type.p == NULL || jspan_str(type, &t) != 0)
		return -1;
	if (t.esc) {
		/* record_check() compares C strings: "insert\u0000x" is an
		 * insert there, so here too. */
		s->t1.len = 0;
		jstr_decode(&t, &s->t1);
		t.p = s->t1.p;
		t.n = (uint32_t)strnlen(s->t1.p, s->t1.len);
		t.esc = 0;
	}
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (t.n == kinds[i].len &&
		    memcmp(t.p, kinds[i].name, t.n) == 0) {
			r->type = (enum rec_type)i;
			for (int j = 0; j < 2; j++) {
				r->mem[j] = r->img[j].p && r->img[j].p[0] == '{'
				                ? s->mem[j]
				                : NULL;
				r->nmem[j] = r->mem[j] ? nmem[j] : 0;
			}
			return 0;
		}
	return -1;
}

int
scan_record(struct scanner *s, const char *p, size_t n, struct rec *r)
{
	const char *e = p + n, *v;
	struct jspan ver = {0}, type = {0}, *dst;
	struct jstr k;
	size_t nmem[2] = {0, 0};
	unsigned seen = 0;
	int id, img;

	memset(r, 0, sizeof *r);
	s->nkeys = 0;
	p = json_ws(p, e);
	if (p >= e || *p != '{')
		return -1;
	p = json_ws(p + 1, e);
	if (p < e && *p == '}')
		return -1; /* no "v" */
	for (;;) {
		if (p >= e || *p != '"')
			return -1;
		if ((p = scan_str(p + 1, e, &k, 1)) == NULL)
			return -1;
		/* Duplicates: of a known key by the bit mask, of others
		 * (which never equal a known key) on the key stack. */
		if ((id = top_key(s, &k)) == K_OTHER) {
			s->keys = xgrow(s->keys, &s->capkeys, s->nkeys + 1,
			    sizeof *s->keys);
			s->keys[s->nkeys++] = k;
		} else if (seen & 1U << id) {
			return -1;
		} else
			seen |= 1U << id;
		p = json_ws(p, e);
		if (p >= e || *p != ':')
			return -1;
		p = json_ws(p + 1, e);
		if (p >= e)
			return -1;
		v = p;
		img = id == K_BEFORE  ? IMG_BEFORE
		      : id == K_AFTER ? IMG_AFTER
		                      : -1;
		if (img >= 0 && *p == '{') {
			nmem[img] = 0;
			p = scan_object(s, p, e, 2, img, &nmem[img]);
		} else
			p = scan_value(s, p, e, 2);
		if (p == NULL)
			return -1;
		if ((dst = member_span(r, id, &ver, &type)) != NULL) {
			dst->p = v;
			dst->n = (size_t)(p - v);
		}
		p = json_ws(p, e);
		if (p < e && *p == ',') {
			p = json_ws(p + 1, e);
			continue;
		}
		if (p < e && *p == '}')
			break;
		return -1;
	}
	if (duplicates(s, 0) || json_ws(p + 1, e) != e)
		return -1;
	return record_kind(s, ver, type, nmem, r);
}

void
scanner_free(struct scanner *s)
{
	free(s->keys);
	free(s->mem[0]);
	free(s->mem[1]);
	free(s->ht);
	buf_free(&s->t1);
	buf_free(&s->t2);
	memset(s, 0, sizeof *s);
}

static void
put_utf8(struct buf *b, unsigned long c)
{
	char u[4];

	if (c < 0x80) {
		buf_putc(b, (char)c);
	} else if (c < 0x800) {
		u[0] = (char)(0xC0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3F));
		buf_add(b, u, 2);
	} else if (c < 0x10000) {
		u[0] = (char)(0xE0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3F));
		u[2] = (char)(0x80 | (c & 0x3F));
		buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xF0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3F));
		u[2] = (char)(0x80 | (c >> 6 & 0x3F));
		u[3] = (char)(0x80 | (c & 0x3F));
		buf_add(b, u, 4);
	}
}

const char *
jstr_bytes(const struct jstr *j, struct buf *tmp, size_t *n)
{
	if (!j->esc) {
		*n = j->n;
		return j->p;
	}
	tmp->len = 0;
	jstr_decode(j, tmp);
	*n = tmp->len;
	return tmp->p;
}

void
jstr_decode(const struct jstr *j, struct buf *b)
{
	const unsigned char *q = (const unsigned char *)j->p;
	const unsigned char *e = q + j->n, *r;
	long v, v2;

	if (!j->esc) {
		buf_add(b, j->p, j->n);
		return;
	}
	while (q < e) {
		if ((r = memchr(q, '\\', (size_t)(e - q))) == NULL)
			r = e;
		buf_add(b, q, (size_t)(r - q));
		if ((q = r) >= e)
			break;
		switch (q[1]) {
		case 'b':
			buf_putc(b, '\b');
			break;
		case 'f':
			buf_putc(b, '\f');
			break;
		case 'n':
			buf_putc(b, '\n');
			break;
		case 'r':
			buf_putc(b, '\r');
			break;
		case 't':
			buf_putc(b, '\t');
			break;
		case 'u':
			v = hex4(q + 2, e);
			if (v >= 0xD800 && v <= 0xDBFF) {
				v2 = hex4(q + 8, e);
				v = ((v - 0xD800) << 10) + (v2 - 0xDC00) +
				    0x10000;
				q += 6;
			}
			put_utf8(b, (unsigned long)v);
			q += 4;
			break;
		default:
			buf_putc(b, (char)q[1]); /* " \ / */
		}
		q += 2;
	}
}

int
jspan_str(struct jspan v, struct jstr *out)
{
	if (v.p == NULL || v.n < 2 || v.p[0] != '"')
		return -1;
	out->p = v.p + 1;
	out->n = (uint32_t)(v.n - 2);
	out->esc = memchr(out->p, '\\', out->n) != NULL;
	return 0;
}

const char *
json_skip(const char *p, const char *e)
{
	int depth = 0;

	do {
		switch (*p) {
		case '"':
			for (p++; p < e && *p != '"'; p++)
				if (*p == '\\')
					p++;
			p++;
			break;
		case '{':
		case '[':
			depth++;
			p++;
			break;
		case '}':
		case ']':
			depth--;
			p++;
			break;
		default:
			p++;
			while (p < e && depth == 0 &&
			       (isdig(*p) || *p == '.' || *p == 'e' ||
			           *p == 'E' || *p == '+' || *p == '-' ||
			           (*p >= 'a' && *p <= 'z')))
				p++;
		}
	} while (depth > 0 && p < e);
	return p;
}

const char *
rec_type_name(enum rec_type t)
{
	return kinds[t].name;
}
