/*
 * scanfuzz — test helper: the record scanner (lib/scan.c)
 * against jansson, on random records and random mutations of them.
 *	scanfuzz SEED COUNT
 * For each case: scan_record() must accept exactly the lines that
 * json_loadb(JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL) + record_check()
 * accept with a kind srdf-dedup reads; for an accepted line, every span
 * it returns (db, table, pk, gtid, ts, xa, before, after and each image
 * member) must hold the value jansson read, and jstr_decode() must give
 * jansson's string.  Prints the first disagreement (the line in C
 * escapes) and exits 1; else one summary line, exit 0.
 *
 * It links lib/scan.c through libsrdf.a, so
 * it tests the very code srdf-dedup runs.
 */
#include <sysexits.h>

#include "log.h"
#include "scan.h"

#include <stdio.h>

#include <jansson.h>

#include "record.h"

static uint64_t rng;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

static const char *const tokens[] = {
    "\\u0000",
    "\\ud800",
    "\\udc00",
    "\\ud83d\\ude00",
    "\\ud83d\\u0041",
    "\\u00e9",
    "\\\"",
    "\\\\",
    "\\/",
    "\\b",
    "\\x",
    "\\u12",
    "\xc3\xa9",
    "\xe2\x82\xac",
    "\xf0\x9f\x98\x80",
    "\xc0\x80",
    "\xe0\x80\x80",
    "\xed\xa0\x80",
    "\xf4\x90\x80\x80",
    "\xf5",
    "\xff",
    "\x80",
    "\x7f",
    "\x01",
    "\t",
    "\r",
    " ",
    "1e400",
    "-1e400",
    "1e-400",
    "4.9e-324",
    "-0",
    "01",
    "1.",
    ".5",
    "1e",
    "1e+",
    "-",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "12345678901234567890",
    "true",
    "false",
    "null",
    "tru",
    "nul",
    "{}",
    "[]",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "\"v\":1,",
    "\"type\":\"insert\",",
    "\"type\":\"begin\",",
    ",\"a\":1",
    ",\"v\":1",
    ",\"db\":\"d\"",
    ",\"typ\\u0065\":\"ddl\"",
    "\"v\":1.0",
    "\"v\":\"1\"",
    "{\"b64\":\"AA==\"}",
    ",\"x\":{\"a\":1,\"a\":2}",
    "\"\\u0061\"",
};

static const char *const seeds[] = {
    "{\"v\":1,\"type\":\"begin\",\"gtid\":\"0-1-42\",\"server_id\":1,"
    "\"ts\":1732200000,\"file\":\"bin.000003\",\"pos\":1234}",
    "{\"v\":1,\"type\":\"begin\",\"gtid\":\"0-1-43\",\"ts\":1,\"xa\":"
    "\"X'6162',X'',1\"}",
    "{\"v\":1,\"type\":\"commit\",\"gtid\":\"0-1-42\",\"ts\":1732200000,"
    "\"file\":\"bin.000003\",\"pos\":1890,\"xid\":123}",
    "{\"v\":1,\"type\":\"insert\",\"db\":\"shop\",\"table\":\"orders\","
    "\"pk\":[\"id\"],\"after\":{\"id\":1,\"note\":\"x\",\"n\":null}}",
    "{\"v\":1,\"type\":\"update\",\"db\":\"shop\",\"table\":\"orders\","
    "\"pk\":[\"id\",\"k\"],\"before\":{\"id\":1,\"k\":\"a\\u00e9\\\"\","
    "\"f\":1.5e-3,\"b\":{\"b64\":\"AP8=\"}},\"after\":{\"id\":2,\"k\":"
    "\"\xc3\xa9\",\"f\":-0.0,\"b\":{\"b64\":\"\"},\"j\":\"[1,{}]\"}}",
    "{\"v\":1,\"type\":\"delete\",\"db\":\"s\",\"table\":\"t\",\"pk\":[],"
    "\"before\":{\"a\":\"18446744073709551615\",\"b\":-9223372036854775808,"
    "\"c\":\"\\u0000\\t\\n\"}}",
    "{\"v\":1,\"type\":\"ddl\",\"db\":\"shop\",\"sql\":\"ALTER TABLE orders "
    "ADD c INT\",\"sql_mode\":1411383296,\"charset\":45}",
    "{\"v\":1,\"type\":\"xa_prepare\",\"gtid\":\"0-1-43\",\"xid\":\"X'61'\","
    "\"ts\":1,\"file\":\"f\",\"pos\":2}",
    "{\"v\":1,\"type\":\"xa_end\",\"xid\":\"X'61'\",\"outcome\":\"commit\"}",
    "{\"v\":1,\"type\":\"abort\",\"gtid\":\"0-1-44\",\"reason\":\"reconnect\"}",
    " { \"type\" : \"insert\" , \"v\" : 1 , \"d\\u0062\" : \"x\", \"table\":"
    "\"\\u0074\", \"pk\" : [ \"i\\u0064\" ], \"after\" : { \"id\" : [ 1 , "
    "{ \"a\" : [ ] } ] , \"\\u0069d2\" : true } , \"extra\" : [ null , false"
    " ] }\r",
};

/* A string of 0-40 characters, ASCII, UTF-8 and escapes mixed, so
 * that every kind of byte falls at every offset of the 8-byte loop. */
static void
gen_string(struct buf *b)
{
	static const char *const ch[] = {"a", "Z", "~", " ", "\\n", "\\u00e9",
	    "\\\\", "\\\"", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
	    "\x7f", "/"};
	int n = (int)rnd(41);

	buf_putc(b, '"');
	for (int i = 0; i < n; i++)
		buf_puts(b, ch[rnd(4) ? rnd(4) : rnd(sizeof ch / sizeof *ch)]);
	buf_putc(b, '"');
}

/* A random JSON value, sometimes with escapes and white space. */
static void
gen_value(struct buf *b, int depth)
{
	static const char *const atoms[] = {"0", "-1", "12", "3.25", "-4e5",
	    "1E-2", "true", "false", "null", "\"\"", "\"abc\"", "\"\\u00e9t\"",
	    "\"\xe6\x97\xa5\"", "\"\\\\\\\"\"", "9007199254740993"};
	int n;

	switch (depth > 4 ? 0 : rnd(4)) {
	case 1:
		buf_putc(b, '[');
		n = (int)rnd(4);
		for (int i = 0; i < n; i++) {
			if (i)
				buf_puts(b, rnd(3) ? "," : " , ");
			gen_value(b, depth + 1);
		}
		buf_putc(b, ']');
		break;
	case 2:
		buf_putc(b, '{');
		n = (int)rnd(4);
		for (int i = 0; i < n; i++) {
			if (i)
				buf_putc(b, ',');
			buf_printf(b, "\"%c%s\":", 'a' + rnd(5),
			    rnd(4) ? "" : "\\u0062");
			gen_value(b, depth + 1);
		}
		buf_putc(b, '}');
		break;
	case 3:
		gen_string(b);
		break;
	default:
		buf_puts(b, atoms[rnd(sizeof atoms / sizeof *atoms)]);
	}
}

static void
gen_record(struct buf *b)
{
	static const char *const types[] = {"insert", "update", "delete",
	    "begin", "commit", "ddl", "group_begin", "inse\\u0072t"};

	buf_printf(b,
	    "{\"v\":1,\"type\":\"%s\",\"db\":\"d%u\",\"table\":"
	    "\"t\",\"pk\":[\"a\"]",
	    types[rnd(8)], rnd(3));
	for (int i = 0; i < 2; i++) {
		/* narrow images, or wide ones (the hashed duplicate check) */
		int n = rnd(4) ? (int)rnd(5) : 15 + (int)rnd(30);

		buf_printf(b, ",\"%s\":{", i ? "after" : "before");
		for (int j = 0; j < n; j++) {
			if (n < 15)
				buf_printf(
				    b, "%s\"%c\":", j ? "," : "", 'a' + rnd(6));
			else
				buf_printf(b, "%s\"%s%u\":", j ? "," : "",
				    rnd(8) ? "c" : "\\u0063", rnd(200));
			gen_value(b, 2);
		}
		buf_putc(b, '}');
	}
	if (rnd(2)) {
		buf_puts(b, ",\"z\":");
		gen_value(b, 1);
	}
	buf_putc(b, '}');
}

static void
mutate(struct buf *b)
{
	size_t at = b->len ? rnd((uint32_t)b->len + 1) : 0;
	const char *t;
	size_t n;

	switch (rnd(5)) {
	case 0: /* delete a few bytes */
		n = rnd(4) + 1;
		if (at + n > b->len)
			n = b->len - at;
		memmove(b->p + at, b->p + at + n, b->len - at - n);
		b->len -= n;
		break;
	case 1: /* overwrite a byte */
		if (at < b->len)
			b->p[at] = (char)rnd(256);
		break;
	default: /* insert a token */
		t = tokens[rnd(sizeof tokens / sizeof *tokens)];
		n = strlen(t);
		buf_grow(b, n + 1);
		memmove(b->p + at + n, b->p + at, b->len - at);
		memcpy(b->p + at, t, n);
		b->len += n;
	}
}

static void
show(const char *why, const struct buf *b)
{
	fprintf(stderr, "scanfuzz: %s: \"", why);
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->p[i];

		if (c == '"' || c == '\\')
			fprintf(stderr, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x\"\"", c);
	}
	fprintf(stderr, "\"\n");
}

/* The span's value equals jansson's v (NULL: the span must be absent). */
static int
same_value(struct jspan s, json_t *v)
{
	json_error_t je;
	json_t *w;
	int eq;

	if (s.p == NULL || v == NULL)
		return s.p == NULL && v == NULL;
	w = json_loadb(s.p, s.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	eq = w != NULL && json_equal(w, v);
	json_decref(w);
	return eq;
}

static int
check_spans(struct scanner *s, const struct rec *r, json_t *j)
{
	static const char *const names[] = {
	    "db", "table", "pk", "gtid", "ts", "xa", "before", "after"};
	const struct jspan sp[] = {r->db, r->table, r->pk, r->gtid, r->ts,
	    r->xa, r->img[0], r->img[1]};
	struct buf k = {0};

	for (size_t i = 0; i < sizeof sp / sizeof *sp; i++)
		if (!same_value(sp[i], json_object_get(j, names[i])))
			return -1;
	for (int i = 0; i < 2; i++) {
		json_t *img = json_object_get(j, i ? "after" : "before");

		if (!json_is_object(img))
			continue;
		if (r->nmem[i] != json_object_size(img))
			return -1;
		for (size_t m = 0; m < r->nmem[i]; m++) {
			json_t *v;

			k.len = 0;
			jstr_decode(&r->mem[i][m].key, &k);
			buf_putc(&k, '\0');
			v = json_object_get(img, k.p);
			if (v == NULL || !same_value(r->mem[i][m].val, v))
				return -1;
			if (json_is_string(v)) {
				struct jstr js;

				if (jspan_str(r->mem[i][m].val, &js) != 0)
					return -1;
				k.len = 0;
				jstr_decode(&js, &k);
				if (k.len != json_string_length(v) ||
				    memcmp(k.p, json_string_value(v), k.len) !=
				        0)
					return -1;
			}
		}
	}
	(void)s;
	buf_free(&k);
	return 0;
}

static int
dedup_kind(const char *t)
{
	static const char *const k[] = {"begin", "commit", "abort", "insert",
	    "update", "delete", "ddl", "xa_prepare", "xa_end", "range"};

	for (size_t i = 0; i < sizeof k / sizeof *k; i++)
		if (strcmp(t, k[i]) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct scanner s = {0};
	struct buf b = {0};
	struct rec r;
	unsigned long long count, i, acc = 0;
	char why[256];

	log_init(argv[0]);
	if (argc != 3)
		die(EX_USAGE, "usage: scanfuzz SEED COUNT");
	rng = strtoull(argv[1], NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
	count = strtoull(argv[2], NULL, 10);
	for (i = 0; i < count; i++) {
		json_error_t je;
		json_t *j;
		const char *type;
		int ok_scan, ok_ref;

		b.len = 0;
		if (i % 1000 == 999) {
			/* nesting around jansson's depth limit */
			int d = 2045 + (int)rnd(6);

			buf_puts(&b, "{\"v\":1,\"type\":\"ddl\",\"x\":");
			for (int k = 2; k < d; k++)
				buf_putc(&b, '[');
			buf_putc(&b, '1');
			for (int k = 2; k < d; k++)
				buf_putc(&b, ']');
			buf_putc(&b, '}');
		} else if (rnd(2))
			buf_puts(&b, seeds[rnd(sizeof seeds / sizeof *seeds)]);
		else
			gen_record(&b);
		for (int m = (int)rnd(4); m > 0; m--)
			mutate(&b);
		ok_scan = scan_record(&s, b.p ? b.p : "", b.len, &r) == 0;
		j = json_loadb(b.p ? b.p : "", b.len,
		    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
		type = j ? record_check(j, why, sizeof why) : NULL;
		/* A raw NUL: the scanner refuses it where jansson 2.14
		 * may skip it (scan.h). */
		ok_ref = type != NULL && dedup_kind(type) &&
		         memchr(b.p ? b.p : "", '\0', b.len) == NULL;
		if (ok_scan != ok_ref) {
			show(ok_scan ? "scanner accepts, jansson refuses"
			             : "scanner refuses, jansson accepts",
			    &b);
			return 1;
		}
		if (ok_scan) {
			acc++;
			if (strcmp(type, rec_type_name(r.type)) != 0 ||
			    check_spans(&s, &r, j) != 0) {
				show("spans differ from jansson's values", &b);
				return 1;
			}
		}
		json_decref(j);
	}
	printf("scanfuzz: %llu cases, %llu accepted, %llu refused, no "
	       "disagreement\n",
	    count, acc, count - acc);
	scanner_free(&s);
	buf_free(&b);
	return 0;
}
