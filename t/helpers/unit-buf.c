/*
 * unit-buf — TAP unit tests of lib/buf.c, the JSON writer on capture's
 * hot path: every string it writes must read back through jansson to the
 * same bytes, base64 must match libsodium's decoder, and utf8_valid must
 * agree with RFC 3629 (jansson refuses what it should refuse).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"

static int n, failed;

static void
ok(int cond, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, what);
	if (!cond)
		failed++;
}

int
main(void)
{
	static const struct {
		const char *s;
		size_t len;
		int valid;
	} u[] = {
	    {"plain ascii, long enough for the 8-byte path", 45, 1},
	    {"\xc3\xa9", 2, 1},
	    {"\xf0\x9f\x98\x80", 4, 1},
	    {"\xc0\xaf", 2, 0},         /* overlong '/' */
	    {"\xe0\x80\xaf", 3, 0},     /* overlong */
	    {"\xed\xa0\x80", 3, 0},     /* surrogate */
	    {"\xf4\x90\x80\x80", 4, 0}, /* above U+10FFFF */
	    {"abcdefgh\xe9", 9, 0},     /* latin1 after 8 ASCII */
	    {"\xe2\x82", 2, 0},         /* truncated */
	    {"", 0, 1},
	};
	struct buf b = {0};
	unsigned char raw[300], back[300];
	size_t i, blen;
	int good = 1;

	if (sodium_init() < 0)
		return 1;
	printf("1..7\n");
	for (i = 0; i < sizeof u / sizeof *u; i++)
		if (utf8_valid((const unsigned char *)u[i].s, u[i].len) !=
		    u[i].valid) {
			printf("# utf8_valid wrong on vector %zu\n", i);
			good = 0;
		}
	ok(good, "utf8_valid follows RFC 3629");

	/* Every valid string written by buf_json_str parses back exactly. */
	good = 1;
	for (i = 0; i < 2000; i++) {
		size_t len = randombytes_uniform(64), k;
		json_t *j;

		for (k = 0; k < len; k++)
			raw[k] = (unsigned char)randombytes_uniform(128);
		b.len = 0;
		buf_json_str(&b, (const char *)raw, len);
		j = json_loadb(
		    b.p, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (j == NULL || json_string_length(j) != len ||
		    memcmp(json_string_value(j), raw, len) != 0)
			good = 0;
		json_decref(j);
	}
	ok(good,
	    "2000 random ASCII strings (controls, quotes, NUL) round-trip");

	good = 1;
	for (i = 0; i < 300 && good; i++) {
		json_t *j, *v;

		randombytes_buf(raw, i);
		b.len = 0;
		buf_json_b64(&b, raw, i);
		j = json_loadb(b.p, b.len, 0, NULL);
		v = json_object_get(j, "b64");
		if (v == NULL ||
		    sodium_base642bin(back, sizeof back, json_string_value(v),
		        json_string_length(v), NULL, &blen, NULL,
		        sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    blen != i || memcmp(back, raw, i) != 0)
			good = 0;
		json_decref(j);
	}
	ok(good, "base64 of 0..299 random bytes decodes to the same bytes");

	b.len = 0;
	buf_json_u64(&b, 18446744073709551615ULL);
	buf_putc(&b, ' ');
	buf_json_i64(&b, -9007199254740992LL);
	buf_putc(&b, ' ');
	buf_json_i64(&b, 9007199254740991LL);
	buf_putc(&b, '\0');
	ok(strcmp(b.p, "\"18446744073709551615\" \"-9007199254740992\" "
	               "9007199254740991") == 0,
	    "integers at or beyond 2^53 are strings");

	b.len = 0;
	buf_json_str(&b, "\xf0\x9f\x98\x80\"\\\n", 7);
	buf_putc(&b, '\0');
	ok(strcmp(b.p, "\"\xf0\x9f\x98\x80\\\"\\\\\\n\"") == 0,
	    "UTF-8 passes through, quotes, backslash and newline escaped");

	b.len = 0;
	buf_json_float(&b, -FLT_MAX);
	buf_putc(&b, ' ');
	buf_json_float(&b, FLT_TRUE_MIN);
	buf_putc(&b, ' ');
	buf_json_float(&b, -0.0f);
	buf_putc(&b, ' ');
	buf_json_float(&b, 0.1f);
	buf_putc(&b, '\0');
	ok(strcmp(b.p, "-3.4028234e+38 1e-45 -0 0.1") == 0,
	    "FLOAT: shortest digits, FLT_MAX within FLT_MAX");
	good = 1;
	for (uint32_t w = 0, k = 0; k < 200000; k++, w += 21475) {
		float f, g, h;
		double d;

		memcpy(&f, &w, sizeof f);
		if (!isfinite(f))
			continue;
		b.len = 0;
		buf_json_float(&b, f);
		buf_putc(&b, '\0');
		d = strtod(b.p, NULL);
		g = strtof(b.p, NULL);
		h = (float)d;
		if (memcmp(&f, &g, sizeof f) != 0 ||
		    memcmp(&f, &h, sizeof f) != 0 || fabs(d) > FLT_MAX) {
			printf("# %08x: %s\n", (unsigned)w, b.p);
			good = 0;
		}
	}
	ok(good,
	    "FLOAT: 200000 bit patterns read back exactly, within FLT_MAX");
	buf_free(&b);
	return failed ? 1 : 0;
}
