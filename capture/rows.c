/*
 * rows.c — WRITE/UPDATE/DELETE_ROWS events (V1 and V2) to srdf-record(5)
 * lines.  Every column type's row-image pack format is decoded here; the
 * formats are the server's Field::pack() ones: integers little-endian,
 * DECIMAL in the binary "decimal2bin" form, TIME2/DATETIME2/TIMESTAMP2
 * big-endian with 0-3 fraction bytes, strings with 1-4 length bytes.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "binlog.h"

#define FAIL(...) \
	do { \
		snprintf(err, errlen, __VA_ARGS__); \
		return -1; \
	} while (0)

static inline uint64_t
be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

static void
put2(char *o, unsigned v)
{
	o[0] = (char)('0' + v / 10 % 10);
	o[1] = (char)('0' + v % 10);
}

/* Appends ".ffffff" cut to dec digits (dec 0: nothing). */
static void
put_frac(struct buf *b, uint32_t usec, int dec)
{
	char t[8];
	int i;

	if (dec <= 0)
		return;
	t[0] = '.';
	for (i = 6; i >= 1; i--, usec /= 10)
		t[i] = (char)('0' + usec % 10);
	buf_add(b, t, (size_t)dec + 1);
}

static void
put_datetime(struct buf *b, unsigned y, unsigned mo, unsigned d, unsigned h,
    unsigned mi, unsigned s, uint32_t usec, int dec, int with_time)
{
	char t[20];

	put2(t, y / 100);
	put2(t + 2, y % 100);
	t[4] = '-';
	put2(t + 5, mo);
	t[7] = '-';
	put2(t + 8, d);
	t[10] = ' ';
	put2(t + 11, h);
	t[13] = ':';
	put2(t + 14, mi);
	t[16] = ':';
	put2(t + 17, s);
	buf_putc(b, '"');
	buf_add(b, t, with_time ? 19 : 10);
	if (with_time)
		put_frac(b, usec, dec);
	buf_putc(b, '"');
}

/* Bytes of a DECIMAL(prec,scale) in binary form (strings/decimal.c). */
static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

static int
decimal_size(int prec, int scale)
{
	int intg = prec - scale;

	return intg / 9 * 4 + dig2bytes[intg % 9] + scale / 9 * 4 +
	       dig2bytes[scale % 9];
}

/*
 * The binary form stores the integer part then the fraction in groups
 * of 9 decimal digits (4 bytes each, big-endian), leading/trailing
 * partial groups in fewer bytes; the sign flips the top bit, and a
 * negative number has every byte inverted.
 */
static void
put_decimal(struct buf *b, const uint8_t *p, int prec, int scale)
{
	int intg = prec - scale, size = decimal_size(prec, scale);
	int intg0 = intg / 9, intg0x = intg % 9;
	int frac0 = scale / 9, frac0x = scale % 9;
	uint8_t d[40];
	char out[100];
	int neg, i, n = 0, pos = 0, any = 0;

	memcpy(d, p, (size_t)size);
	neg = !(d[0] & 0x80);
	d[0] ^= 0x80;
	if (neg)
		for (i = 0; i < size; i++)
			d[i] = (uint8_t)~d[i];
	if (neg)
		out[n++] = '-';
	if (intg0x) {
		uint32_t v = (uint32_t)be(d, dig2bytes[intg0x]);

		pos += dig2bytes[intg0x];
		if (v) {
			n += sprintf(out + n, "%u", v);
			any = 1;
		}
	}
	for (i = 0; i < intg0; i++, pos += 4) {
		uint32_t v = (uint32_t)be(d + pos, 4);

		if (any)
			n += sprintf(out + n, "%09u", v);
		else if (v) {
			n += sprintf(out + n, "%u", v);
			any = 1;
		}
	}
	if (!any)
		out[n++] = '0';
	if (scale > 0) {
		out[n++] = '.';
		for (i = 0; i < frac0; i++, pos += 4)
			n += sprintf(out + n, "%09u", (uint32_t)be(d + pos, 4));
		if (frac0x)
			n += sprintf(out + n, "%0*u", frac0x,
			    (uint32_t)be(d + pos, dig2bytes[frac0x]));
	}
	/* "-0.00" is how the server never shows zero: drop the sign. */
	if (neg) {
		for (i = 1; i < n && (out[i] == '0' || out[i] == '.'); i++)
			;
		if (i == n) {
			memmove(out, out + 1, (size_t)--n);
		}
	}
	buf_putc(b, '"');
	buf_add(b, out, (size_t)n);
	buf_putc(b, '"');
}

static void
put_text(struct buf *b, const struct column *c, const uint8_t *s, size_t n)
{
	size_t i = 0;

	if (c->text == CS_UTF8 && utf8_valid(s, n)) {
		buf_json_str(b, (const char *)s, n);
		return;
	}
	if (c->text == CS_ASCII) {
		while (i < n && s[i] < 0x80)
			i++;
		if (i == n) {
			buf_json_str(b, (const char *)s, n);
			return;
		}
	}
	buf_json_b64(b, s, n);
}

/*
 * Decodes the value of column c at p (at most n bytes), appends its
 * JSON form to b and returns the bytes consumed, or 0 on a malformed or
 * unsupported value.
 */
static size_t
value(struct buf *b, const struct column *c, const uint8_t *p, size_t n)
{
	uint64_t u;
	size_t len, lb;

#define NEED(k) \
	do { \
		if ((size_t)(k) > n) \
			return 0; \
	} while (0)

	switch (c->type) {
	case T_TINY:
		NEED(1);
		if (c->unsig)
			buf_u64(b, p[0]);
		else
			buf_i64(b, (int8_t)p[0]);
		return 1;
	case T_SHORT:
		NEED(2);
		if (c->unsig)
			buf_u64(b, le16(p));
		else
			buf_i64(b, (int16_t)le16(p));
		return 2;
	case T_INT24:
		NEED(3);
		u = le24(p);
		if (c->unsig)
			buf_u64(b, u);
		else
			buf_i64(b, (int32_t)(u << 8) >> 8);
		return 3;
	case T_LONG:
		NEED(4);
		if (c->unsig)
			buf_u64(b, le32(p));
		else
			buf_i64(b, (int32_t)le32(p));
		return 4;
	case T_LONGLONG:
		NEED(8);
		if (c->unsig)
			buf_json_u64(b, le64(p));
		else
			buf_json_i64(b, (int64_t)le64(p));
		return 8;
	case T_FLOAT: {
		float f;
		uint32_t w;

		NEED(4);
		w = le32(p);
		memcpy(&f, &w, 4);
		if (!isfinite(f))
			return 0;
		buf_json_float(b, f);
		return 4;
	}
	case T_DOUBLE: {
		double d;

		NEED(8);
		u = le64(p);
		memcpy(&d, &u, 8);
		if (!isfinite(d))
			return 0;
		buf_printf(b, "%.17g", d);
		return 8;
	}
	case T_NEWDECIMAL:
		len = (size_t)decimal_size(c->prec, c->scale);
		if (c->prec == 0 || c->prec > 65 || c->scale > 38 ||
		    c->scale > c->prec || len > 40)
			return 0;
		NEED(len);
		put_decimal(b, p, c->prec, c->scale);
		return len;
	case T_YEAR:
		NEED(1);
		buf_u64(b, p[0] ? 1900u + p[0] : 0);
		return 1;
	case T_DATE:
	case T_NEWDATE:
		NEED(3);
		u = le24(p);
		put_datetime(b, (unsigned)(u >> 9), (unsigned)(u >> 5 & 15),
		    (unsigned)(u & 31), 0, 0, 0, 0, 0, 0);
		return 3;
	case T_TIME: { /* old format: HHMMSS as a signed 3-byte integer */
		int32_t v;
		char t[16];

		NEED(3);
		v = (int32_t)(le24(p) << 8) >> 8;
		snprintf(t, sizeof t, "%s%02u:%02u:%02u", v < 0 ? "-" : "",
		    (unsigned)(v < 0 ? -v : v) / 10000,
		    (unsigned)(v < 0 ? -v : v) / 100 % 100,
		    (unsigned)(v < 0 ? -v : v) % 100);
		buf_putc(b, '"');
		buf_puts(b, t);
		buf_putc(b, '"');
		return 3;
	}
	case T_TIME2: {
		int dec = c->meta, fb = (dec + 1) / 2;
		int64_t packed, ip;
		uint32_t frac = 0;
		uint64_t hms;
		char t[16];
		int neg;

		if (dec > 6)
			return 0;
		NEED(3 + fb);
		ip = (int64_t)be(p, 3) - 0x800000;
		switch (fb) {
		case 0:
			packed = ip * ((int64_t)1 << 24);
			break;
		case 1: {
			int32_t f = p[3];

			if (ip < 0 && f) {
				ip++;
				f -= 0x100;
			}
			packed = ip * ((int64_t)1 << 24) + f * 10000;
			break;
		}
		case 2: {
			int32_t f = (int32_t)be(p + 3, 2);

			if (ip < 0 && f) {
				ip++;
				f -= 0x10000;
			}
			packed = ip * ((int64_t)1 << 24) + f * 100;
			break;
		}
		default:
			packed = (int64_t)be(p, 6) - 0x800000000000LL;
		}
		neg = packed < 0;
		if (neg)
			packed = -packed;
		hms = (uint64_t)packed >> 24;
		frac = (uint32_t)(packed % (1 << 24));
		snprintf(t, sizeof t, "%s%02u:%02u:%02u", neg ? "-" : "",
		    (unsigned)(hms >> 12 & 0x3ff), (unsigned)(hms >> 6 & 63),
		    (unsigned)(hms & 63));
		buf_putc(b, '"');
		buf_puts(b, t);
		put_frac(b, frac, dec);
		buf_putc(b, '"');
		return 3 + (size_t)fb;
	}
	case T_DATETIME: { /* old format: YYYYMMDDhhmmss in 8 bytes */
		uint64_t v;

		NEED(8);
		v = le64(p);
		put_datetime(b, (unsigned)(v / 10000000000ULL),
		    (unsigned)(v / 100000000 % 100),
		    (unsigned)(v / 1000000 % 100), (unsigned)(v / 10000 % 100),
		    (unsigned)(v / 100 % 100), (unsigned)(v % 100), 0, 0, 1);
		return 8;
	}
	case T_DATETIME2: {
		int dec = c->meta, fb = (dec + 1) / 2;
		uint64_t ymdhms, ymd, ym, hms;
		uint32_t frac = 0;

		if (dec > 6)
			return 0;
		NEED(5 + fb);
		ymdhms = be(p, 5) - 0x8000000000ULL;
		if (fb == 1)
			frac = p[5] * 10000u;
		else if (fb == 2)
			frac = (uint32_t)be(p + 5, 2) * 100u;
		else if (fb == 3)
			frac = (uint32_t)be(p + 5, 3);
		ymd = ymdhms >> 17;
		ym = ymd >> 5;
		hms = ymdhms % (1 << 17);
		put_datetime(b, (unsigned)(ym / 13), (unsigned)(ym % 13),
		    (unsigned)(ymd % 32), (unsigned)(hms >> 12),
		    (unsigned)(hms >> 6 & 63), (unsigned)(hms & 63), frac, dec,
		    1);
		return 5 + (size_t)fb;
	}
	case T_TIMESTAMP:
	case T_TIMESTAMP2: {
		int dec = c->type == T_TIMESTAMP2 ? c->meta : 0;
		int fb = (dec + 1) / 2;
		uint32_t frac = 0;
		time_t sec;
		struct tm tm;

		if (dec > 6)
			return 0;
		NEED(4 + fb);
		sec = c->type == T_TIMESTAMP2 ? (time_t)be(p, 4) : le32(p);
		if (fb == 1)
			frac = p[4] * 10000u;
		else if (fb == 2)
			frac = (uint32_t)be(p + 4, 2) * 100u;
		else if (fb == 3)
			frac = (uint32_t)be(p + 4, 3);
		if (sec == 0 && frac == 0)
			put_datetime(b, 0, 0, 0, 0, 0, 0, 0, dec, 1);
		else {
			gmtime_r(&sec, &tm);
			put_datetime(b, (unsigned)tm.tm_year + 1900,
			    (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday,
			    (unsigned)tm.tm_hour, (unsigned)tm.tm_min,
			    (unsigned)tm.tm_sec, frac, dec, 1);
		}
		return 4 + (size_t)fb;
	}
	case T_BIT:
		len = ((size_t)c->meta + 7) / 8;
		if (len == 0 || len > 8)
			return 0;
		NEED(len);
		buf_json_u64(b, be(p, (int)len));
		return len;
	case T_ENUM: {
		uint32_t idx;

		len = c->meta;
		if (len != 1 && len != 2)
			return 0;
		NEED(len);
		idx = len == 1 ? p[0] : le16(p);
		if (idx == 0) /* the error value: 0, never "" */
			buf_lit(b, "0");
		else if (idx <= c->nelem)
			put_text(b, c, (const uint8_t *)c->elem[idx - 1],
			    c->elemlen[idx - 1]);
		else
			return 0;
		return len;
	}
	case T_SET: {
		struct buf s = {0};
		uint32_t i;

		len = c->meta;
		if (len < 1 || len > 8)
			return 0;
		NEED(len);
		u = 0;
		for (i = 0; i < len; i++)
			u |= (uint64_t)p[i] << (8 * i);
		/* A member '' that is set leaves no trace in the text:
		 * the bitmap as a number then (srdf-record(5)). */
		for (i = 0; i < c->nelem && i < 64; i++)
			if (c->elemlen[i] == 0 && (u & (1ULL << i))) {
				buf_json_u64(b, u);
				return len;
			}
		for (i = 0; i < c->nelem && i < 64; i++) {
			if (!(u & (1ULL << i)))
				continue;
			if (s.len > 0)
				buf_putc(&s, ',');
			buf_add(&s, c->elem[i], c->elemlen[i]);
		}
		if (s.len == 0)
			buf_lit(b, "\"\"");
		else
			put_text(b, c, (const uint8_t *)s.p, s.len);
		buf_free(&s);
		return len;
	}
	case T_STRING: {
		uint8_t pad[1024];

		lb = c->meta > 255 ? 2 : 1;
		NEED(lb);
		len = lb == 1 ? p[0] : le16(p);
		NEED(lb + len);
		if (c->binary && len < c->meta && c->meta <= sizeof pad) {
			/* BINARY(n): the server strips trailing 0x00 */
			memcpy(pad, p + lb, len);
			memset(pad + len, 0, c->meta - len);
			buf_json_b64(b, pad, c->meta);
		} else if (c->binary)
			buf_json_b64(b, p + lb, len);
		else
			put_text(b, c, p + lb, len);
		return lb + len;
	}
	case T_VARCHAR:
	case T_VAR_STRING:
		lb = c->meta > 255 ? 2 : 1;
		NEED(lb);
		len = lb == 1 ? p[0] : le16(p);
		NEED(lb + len);
		if (c->binary)
			buf_json_b64(b, p + lb, len);
		else
			put_text(b, c, p + lb, len);
		return lb + len;
	case T_BLOB:
	case T_TINY_BLOB:
	case T_MEDIUM_BLOB:
	case T_LONG_BLOB:
	case T_GEOMETRY:
		lb = c->meta;
		if (lb < 1 || lb > 4)
			return 0;
		NEED(lb);
		len = lb == 1   ? p[0]
		      : lb == 2 ? le16(p)
		      : lb == 3 ? le24(p)
		                : le32(p);
		NEED(lb + len);
		if (c->binary || c->type == T_GEOMETRY)
			buf_json_b64(b, p + lb, len);
		else
			put_text(b, c, p + lb, len);
		return lb + len;
	}
	return 0;
#undef NEED
}

static int
bit(const uint8_t *map, uint32_t i)
{
	return map[i / 8] >> (i % 8) & 1;
}

/* One row image: null bitmap over the present columns, then values. */
static size_t
image(struct buf *b, const struct table *t, const uint8_t *present,
    uint32_t npresent, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	size_t nb = (npresent + 7) / 8, used = nb, k;
	uint32_t i, j = 0;
	int first = 1;

	if (n < nb) {
		snprintf(err, errlen, "row image of %s.%s is truncated", t->db,
		    t->name);
		return 0;
	}
	buf_putc(b, '{');
	for (i = 0; i < t->ncols; i++) {
		if (!bit(present, i))
			continue;
		if (!first)
			buf_putc(b, ',');
		first = 0;
		buf_add(b, t->cname[i].p, t->cname[i].len);
		if (bit(p, j++)) {
			buf_lit(b, "null");
			continue;
		}
		k = value(b, &t->col[i], p + used, n - used);
		if (k == 0) {
			snprintf(err, errlen,
			    "cannot decode column %s (type %u) of %s.%s",
			    t->col[i].name, t->col[i].type, t->db, t->name);
			return 0;
		}
		used += k;
	}
	buf_putc(b, '}');
	return used;
}

static const char *const kind_name[] = {"insert", "update", "delete"};

int
rows_emit(const uint8_t *p, size_t n, int v2, int kind, const struct table *t,
    struct buf *out, char *err, size_t errlen)
{
	const uint8_t *end = p + n, *before_map, *after_map;
	uint64_t width;
	uint32_t i, nbefore = 0, nafter = 0;
	size_t k, mapl;
	int rows = 0, nofk;

	/* post-header: table id (6) and flags (2), then the V2 extra data */
	if (n < 8)
		FAIL("ROWS event too short");
	nofk = (le16(p + 6) & ROWS_NO_FOREIGN_KEY_CHECKS) != 0;
	p += 8;
	if (v2) {
		if (end - p < 2 || le16(p) < 2 || le16(p) > (size_t)(end - p))
			FAIL("ROWS event extra data is corrupt");
		p += le16(p);
	}
	if ((k = lenenc(p, (size_t)(end - p), &width)) == 0 ||
	    width != t->ncols)
		FAIL("ROWS event for %s.%s has %llu columns, its TABLE_MAP %u",
		    t->db, t->name, (unsigned long long)width, t->ncols);
	p += k;
	mapl = (width + 7) / 8;
	if ((size_t)(end - p) < mapl * (kind == 1 ? 2 : 1))
		FAIL("ROWS event column bitmaps are truncated");
	before_map = after_map = p;
	p += mapl;
	if (kind == 1) {
		after_map = p;
		p += mapl;
	}
	for (i = 0; i < width; i++) {
		nbefore += bit(before_map, i);
		nafter += bit(after_map, i);
	}
	if (nbefore != width || nafter != width)
		FAIL("row event for %s.%s does not carry every column: the "
		     "session that wrote it had binlog_row_image other than "
		     "FULL; set binlog_row_image=FULL globally and in every "
		     "session",
		    t->db, t->name);
	while (p < end) {
		size_t start = out->len;

		buf_lit(out, "{\"v\":1,\"type\":\"");
		buf_puts(out, kind_name[kind]);
		buf_lit(out, "\",");
		buf_add(out, t->head.p, t->head.len);
		if (t->cascade)
			buf_lit(out, ",\"cascade\":true");
		if (nofk)
			buf_lit(out, ",\"fk_checks\":false");
		if (kind == 0)
			buf_lit(out, ",\"after\":");
		else
			buf_lit(out, ",\"before\":");
		if ((k = image(out, t, before_map, nbefore, p,
		         (size_t)(end - p), err, errlen)) == 0) {
			out->len = start;
			return -1;
		}
		p += k;
		if (kind == 1) {
			buf_lit(out, ",\"after\":");
			if ((k = image(out, t, after_map, nafter, p,
			         (size_t)(end - p), err, errlen)) == 0) {
				out->len = start;
				return -1;
			}
			p += k;
		}
		buf_lit(out, "}\n");
		rows++;
	}
	return rows;
}
