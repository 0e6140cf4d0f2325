/*
 * unit-sql — TAP unit tests of lib/sql.c: sql_literal_span, which
 * srdf-apply uses on the scanner's spans, must write exactly what
 * sql_literal writes for the value jansson parses from the same text.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "scan.h"
#include "sql.h"

static int n, failed;
static unsigned long agree, total;

static void
ok(int cond, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, what);
	if (!cond)
		failed++;
}

/* Both writers on one JSON text; 1 when they agree. */
static int
same(const char *text, size_t len)
{
	struct buf a = {0}, b = {0}, tmp = {0};
	json_error_t je;
	json_t *v =
	    json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	int ra, rb, r;

	total++;
	if (v == NULL) {
		printf("# jansson refuses %.*s: %s\n", (int)len, text, je.text);
		return 0;
	}
	ra = sql_literal(&a, v);
	rb = sql_literal_span(&b, (struct jspan){text, len}, &tmp);
	r = ra == rb &&
	    (ra != 0 || (a.len == b.len && memcmp(a.p, b.p, a.len) == 0));
	if (!r)
		printf("# %.*s: sql_literal %d \"%.*s\", sql_literal_span %d "
		       "\"%.*s\"\n",
		    (int)len, text, ra, (int)a.len, a.p ? a.p : "", rb,
		    (int)b.len, b.p ? b.p : "");
	agree += r;
	json_decref(v);
	buf_free(&a);
	buf_free(&b);
	buf_free(&tmp);
	return r;
}

static int
same_s(const char *text)
{
	return same(text, strlen(text));
}

/* The text jansson writes for v. */
static int
same_json(json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	int r = s != NULL && same_s(s);

	free(s);
	json_decref(v);
	return r;
}

static uint64_t rs = 88172645463325252ull;

static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

int
main(void)
{
	static const char *edge[] = {
	    "null",
	    "true",
	    "false",
	    "[]",
	    "[1]",
	    "{}",
	    "0",
	    "-0",
	    "1",
	    "-1",
	    "9007199254740992",
	    "-9007199254740992",
	    "9007199254740993",
	    "-9007199254740993",
	    "9223372036854775807",
	    "-9223372036854775808",
	    "0.1",
	    "-0.0",
	    "-0e0",
	    "1e-320",
	    "4.9e-324",
	    "2.2250738585072014e-308",
	    "3.4028234663852886e38",
	    "1.7976931348623157e308",
	    "1E2",
	    "1e+2",
	    "-1.5E-7",
	    "123.456e3",
	    "0.30000000000000004",
	    "100000000000000000000.0",
	    "\"\"",
	    "\"a\"",
	    "\"it's\"",
	    "\"back\\\\slash\"",
	    "\"q\\\"uote\"",
	    "\"nul\\u0000byte\"",
	    "\"\\n\\r\\t\\b\\f\\/\"",
	    "\"\\u001a\"",
	    "\"\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80\"",
	    "\"\\u00e9\\ud83d\\ude00\"",
	    "\"12345678901234567890123456789012345678901234567890\"",
	    "\"-00012\"",
	    "\"'\\\\'\\u0000\\u001a\\r\\n\"",
	    "{\"b64\":\"\"}",
	    "{\"b64\":\"AA==\"}",
	    "{\"b64\":\"AAEC/w==\"}",
	    "{\"b64\":\"3q2+7w==\"}",
	    "{ \"b64\" : \"3q2+7w==\" }",
	    "{\"b\\u0036\\u0034\":\"AA==\"}",
	    "{\"b64\":\"A\\u0041==\"}",
	    "{\"b64\":\"AA=\"}",
	    "{\"b64\":\"!!!!\"}",
	    "{\"b64\":1}",
	    "{\"b64\":null}",
	    "{\"b64\":\"AA==\",\"x\":1}",
	    "{\"c64\":\"AA==\"}",
	    "{\"b64\":\"AA\\u0000==\"}",
	};
	char text[512];
	int all;

	if (sodium_init() < 0)
		return 1;
	printf("1..7\n");

	all = 1;
	for (size_t i = 0; i < sizeof edge / sizeof *edge; i++)
		all &= same_s(edge[i]);
	ok(all, "edge values: null, integers at +-2^53 and +-2^63, reals, "
	        "strings with escapes and NUL, b64 (empty, bad, escaped)");

	all = 1;
	for (int i = 0; i < 300; i++) {
		int64_t v = (int64_t)rnd();

		v >>= rnd() % 64;
		snprintf(text, sizeof text, "%lld", (long long)v);
		all &= same_s(text);
		all &= same_json(json_integer(v));
	}
	ok(all, "300 random integers");

	all = 1;
	for (int i = 0; i < 300; i++) {
		uint64_t bits = rnd();
		double d;

		memcpy(&d, &bits, sizeof d);
		if (!isfinite(d))
			continue;
		all &= same_json(json_real(d));
		snprintf(text, sizeof text, "%.*e", (int)(rnd() % 20), d);
		all &= same_s(text);
		snprintf(
		    text, sizeof text, "%.3f", (double)(int64_t)rnd() / 1e6);
		all &= same_s(text);
	}
	ok(all, "random reals, shortest and cut texts");

	all = 1;
	for (int i = 0; i < 300; i++) {
		char s[64];
		size_t len = rnd() % sizeof s;

		for (size_t k = 0; k < len; k++) {
			static const char pick[] = "a0'\"\\\n\r\032\t\x01 Z`";

			s[k] = (char)(rnd() % 4 == 0
			                  ? '\0'
			                  : pick[rnd() % (sizeof pick - 1)]);
		}
		all &= same_json(json_stringn(s, len));
	}
	ok(all, "300 random strings of quotes, backslashes, NUL, controls");

	all = 1;
	for (int i = 0; i < 100; i++) {
		char s[40];
		size_t len = rnd() % sizeof s;

		for (size_t k = 0; k < len; k++)
			s[k] = (char)('0' + rnd() % 10);
		all &= same_json(json_stringn(s, len));
		snprintf(text, sizeof text, "\"%.*s\"", (int)len, s);
		all &= same_s(text);
	}
	ok(all, "big strings of digits");

	all = 1;
	for (int i = 0; i < 200; i++) {
		unsigned char bin[48];
		char b64[80];
		size_t len = rnd() % sizeof bin;

		for (size_t k = 0; k < len; k++)
			bin[k] = (unsigned char)rnd();
		sodium_bin2base64(
		    b64, sizeof b64, bin, len, sodium_base64_VARIANT_ORIGINAL);
		snprintf(text, sizeof text, "{\"b64\":\"%s\"}", b64);
		all &= same_s(text);
		all &= same_json(json_pack("{s:s}", "b64", b64));
	}
	ok(all, "200 random b64 values, empty included");

	ok(agree == total, "sql_literal_span agrees with sql_literal");
	printf("# %lu of %lu values agree\n", agree, total);
	return failed != 0;
}
