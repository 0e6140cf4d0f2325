/*
 * unit-gtid.c — unit tests of lib/gtid.c, srdf's one parser of MariaDB
 * GTID positions: strict parsing that fails closed, positions of more
 * domains than any fixed table would hold, and the operations the tools
 * use (covers/reached, advance/max, merge, compare, the text forms).
 * Run by t/0006-lib-gtid.t; prints TAP.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gtid.h"
#include "log.h"

static int ntests, nfailed;

static void __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	if (!cond)
		nfailed++;
	printf("%sok %d - ", cond ? "" : "not ", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* The text form of position s after a parse, or "ERROR". */
static char *
roundtrip(const char *s)
{
	struct gtid_pos p = {0};
	struct buf b = {0};

	if (gtid_pos_parse(s, &p) != 0)
		return strdup("ERROR");
	gtid_pos_format(&p, &b);
	gtid_pos_free(&p);
	return b.p;
}

static void
test_parse(void)
{
	static const char *const bad[] = {"x", "0", "0-1", "0-1-", "-1-2-3",
	    "0-1--1", "0-1-+1", "0-1-1x", "0-1-1,", ",0-1-1", "0-1-1,,1-1-1",
	    "0-1-1;1-1-1", "0-1-1 ", "0-1-1,0-2-2", "4294967296-1-1",
	    "0-4294967296-1", "0-1-18446744073709551616",
	    "0-1-99999999999999999999", "0 -1-1", "0-1-1\n"};
	static const struct {
		const char *in, *out;
	} good[] = {{"", ""}, {"0-1-100", "0-1-100"},
	    {"0-1-100,1-2-7", "0-1-100,1-2-7"},
	    {"0-1-100, 1-2-7", "0-1-100,1-2-7"},
	    {"4294967295-4294967295-18446744073709551615",
	        "4294967295-4294967295-18446744073709551615"},
	    {"007-1-2", "7-1-2"}};
	struct gtid g;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char *r = roundtrip(bad[i]);

		ok(strcmp(r, "ERROR") == 0, "'%s' is not a position (%s)",
		    bad[i], r);
		free(r);
	}
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		char *r = roundtrip(good[i].in);

		ok(strcmp(r, good[i].out) == 0, "'%s' reads as '%s' (%s)",
		    good[i].in, good[i].out, r);
		free(r);
	}
	ok(gtid_parse("3-4-5", &g) == 0 && g.domain == 3 && g.server == 4 &&
	        g.seq == 5,
	    "gtid_parse: one GTID");
	ok(gtid_parse("3-4-5,6-7-8", &g) != 0 && gtid_parse("", &g) != 0 &&
	        gtid_parse(NULL, &g) != 0 && gtid_parse(" 3-4-5", &g) != 0,
	    "gtid_parse: a position, nothing or a space is not one GTID");
	ok(gtid_pos_valid("0-1-1,2-2-2") && !gtid_pos_valid("0-1-1,") &&
	        !gtid_pos_valid(NULL),
	    "gtid_pos_valid");
}

static void
test_many_domains(void)
{
	struct buf in = {0}, out = {0};
	struct gtid_pos p = {0};
	struct gtid g = {199, 1, 5};
	char *m;

	for (int d = 0; d < 200; d++)
		buf_printf(&in, "%s%d-1-%d", d ? "," : "", d, d + 1);
	buf_putc(&in, '\0');
	ok(gtid_pos_parse(in.p, &p) == 0 && p.n == 200,
	    "200 domains parse, none dropped (%d)", p.n);
	gtid_pos_format(&p, &out);
	ok(strcmp(out.p, in.p) == 0, "200 domains format as they came");
	ok(gtid_pos_covers(&p, &g) &&
	        !gtid_pos_covers(&p, &(struct gtid){199, 1, 201}),
	    "domain 199 covered up to 200");
	m = gtid_merge("0-1-1", in.p);
	ok(m != NULL && strcmp(m, in.p) == 0, "gtid_merge keeps 200 domains");
	free(m);
	ok(gtid_within("150-9-151", in.p) && !gtid_within("150-9-152", in.p),
	    "gtid_within on domain 150 of 200");
	gtid_pos_free(&p);
	buf_free(&in);
	buf_free(&out);
}

static void
test_ops(void)
{
	struct gtid_pos a = {0}, b = {0};
	struct buf out = {0};
	char *m;

	gtid_pos_parse("0-1-10,1-1-5", &a);
	gtid_pos_parse("0-2-8,1-2-9,2-2-1", &b);
	ok(!gtid_pos_reached(&a, &b) && !gtid_pos_reached(&b, &a),
	    "reached: neither position holds the other");
	gtid_pos_max(&a, &b);
	gtid_pos_format(&a, &out);
	ok(strcmp(out.p, "0-1-10,1-2-9,2-2-1") == 0,
	    "max: per domain the higher sequence number (%s)", out.p);
	ok(gtid_pos_reached(&a, &b), "reached after max");
	gtid_pos_parse("", &b);
	ok(gtid_pos_reached(&b, &b) && gtid_pos_reached(&a, &b),
	    "the empty position is reached by anything");
	gtid_pos_parse("0-1-3", &b);
	gtid_pos_merge(&a, &b);
	out.len = 0;
	gtid_pos_format(&a, &out);
	ok(strcmp(out.p, "0-1-3,1-2-9,2-2-1") == 0,
	    "merge: the group's domains override (%s)", out.p);
	gtid_pos_advance(&a, &(struct gtid){0, 5, 2});
	gtid_pos_advance(&a, &(struct gtid){7, 5, 2});
	out.len = 0;
	gtid_pos_format(&a, &out);
	ok(strcmp(out.p, "0-1-3,1-2-9,2-2-1,7-5-2") == 0,
	    "advance: never backwards, new domains added (%s)", out.p);
	ok(gtid_cmp(&(struct gtid){0, 1, 5}, &(struct gtid){0, 2, 6}) < 0 &&
	        gtid_cmp(&(struct gtid){0, 1, 5}, &(struct gtid){0, 2, 5}) ==
	            0 &&
	        gtid_cmp(&(struct gtid){1, 1, 1}, &(struct gtid){0, 1, 9}) > 0,
	    "compare: by domain, then sequence number; the server aside");
	ok(gtid_within("0-1-3", "0-1-3") && !gtid_within("0-1-4", "0-1-3") &&
	        !gtid_within("1-1-1", "0-1-3") && !gtid_within(NULL, "0-1-3") &&
	        !gtid_within("0-1-1", NULL),
	    "gtid_within: same domain, sequence at most the position's");
	ok(!gtid_within("0-1-1", "0-1--1") && !gtid_within("0-1-1", "0-1-9x") &&
	        !gtid_within("0-1-1", "garbage,0-1-9") &&
	        !gtid_within("0-1-1x", "0-1-9"),
	    "gtid_within: malformed input is never within");
	m = gtid_merge("0-1-5,1-1-1", "1-2-4,0-2-3");
	ok(m != NULL && strcmp(m, "0-1-5,1-2-4") == 0, "gtid_merge (%s)", m);
	free(m);
	m = gtid_merge(NULL, "0-1-5");
	ok(m != NULL && strcmp(m, "0-1-5") == 0, "gtid_merge from NULL");
	free(m);
	ok(gtid_merge("0-1-5", "0-1-x") == NULL &&
	        gtid_merge("0-1-5,", "0-1-6") == NULL,
	    "gtid_merge: malformed input gives NULL, not a partial position");
	gtid_pos_free(&a);
	gtid_pos_free(&b);
	buf_free(&out);
}

int
main(void)
{
	log_init("unit-gtid");
	test_parse();
	test_many_domains();
	test_ops();
	printf("1..%d\n", ntests);
	return nfailed != 0;
}
