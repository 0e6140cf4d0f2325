/*
 * gtid.c — MariaDB GTID positions, as far as srdf-apply needs them: the
 * window of a resumed srdf-bootstrap (srdf-bootstrap(1), "What srdf-apply
 * does with it").  A position is "domain-server-seq" GTIDs separated by
 * commas, one per domain; GTIDs of one domain are ordered by seq.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "buf.h"
#include "log.h"

struct gtid {
	unsigned long long domain, server, seq;
};

/* Parses one GTID at *s, moving *s past it and a following comma. */
static int
parse_one(const char **s, struct gtid *g)
{
	char *end;

	while (**s == ' ')
		(*s)++;
	g->domain = strtoull(*s, &end, 10);
	if (end == *s || *end != '-')
		return -1;
	*s = end + 1;
	g->server = strtoull(*s, &end, 10);
	if (end == *s || *end != '-')
		return -1;
	*s = end + 1;
	g->seq = strtoull(*s, &end, 10);
	if (end == *s || (*end != '\0' && *end != ','))
		return -1;
	*s = *end == ',' ? end + 1 : end;
	return 0;
}

/* 1 when gtid lies within pos: pos has its domain, at a sequence number
 * at least gtid's.  0 otherwise, and for NULL or malformed input. */
int
gtid_within(const char *gtid, const char *pos)
{
	struct gtid g, p;
	const char *s = gtid;

	if (gtid == NULL || pos == NULL || parse_one(&s, &g) != 0)
		return 0;
	for (s = pos; *s != '\0';)
		if (parse_one(&s, &p) != 0)
			return 0;
		else if (p.domain == g.domain)
			return g.seq <= p.seq;
	return 0;
}

/* Position a with position b laid over it, per domain the higher
 * sequence; malloc'd.  A malformed b leaves a as it is. */
char *
gtid_merge(const char *a, const char *b)
{
	struct gtid v[64], g;
	size_t n = 0, i;
	const char *s;
	struct buf out = {0};

	for (int pass = 0; pass < 2; pass++) {
		for (s = pass ? b : a; s != NULL && *s != '\0';) {
			if (parse_one(&s, &g) != 0)
				break;
			for (i = 0; i < n && v[i].domain != g.domain; i++)
				;
			if (i == n && n < sizeof v / sizeof *v)
				v[n++] = g;
			else if (i < n && g.seq > v[i].seq)
				v[i] = g;
		}
	}
	for (i = 0; i < n; i++)
		buf_printf(&out, "%s%llu-%llu-%llu", i ? "," : "", v[i].domain,
		    v[i].server, v[i].seq);
	buf_putc(&out, '\0');
	return out.p;
}
