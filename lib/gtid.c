/* gtid.c — GTIDs and GTID positions; see gtid.h. */
#include <inttypes.h>
#include <stdlib.h>

#include "gtid.h"
#include "xalloc.h"

void
gtid_pos_free(struct gtid_pos *p)
{
	free(p->g);
	p->g = NULL;
	p->n = 0;
	p->cap = 0;
}

const struct gtid *
gtid_pos_find(const struct gtid_pos *p, uint32_t domain)
{
	for (int i = 0; i < p->n; i++)
		if (p->g[i].domain == domain)
			return &p->g[i];
	return NULL;
}

void
gtid_pos_set(struct gtid_pos *p, const struct gtid *g)
{
	for (int i = 0; i < p->n; i++)
		if (p->g[i].domain == g->domain) {
			p->g[i] = *g;
			return;
		}
	p->g = xgrow(p->g, &p->cap, (size_t)p->n + 1, sizeof *p->g);
	p->g[p->n++] = *g;
}

void
gtid_pos_advance(struct gtid_pos *p, const struct gtid *g)
{
	const struct gtid *have = gtid_pos_find(p, g->domain);

	if (have == NULL || g->seq > have->seq)
		gtid_pos_set(p, g);
}

void
gtid_pos_merge(struct gtid_pos *p, const struct gtid_pos *q)
{
	for (int i = 0; i < q->n; i++)
		gtid_pos_set(p, &q->g[i]);
}

void
gtid_pos_max(struct gtid_pos *p, const struct gtid_pos *q)
{
	for (int i = 0; i < q->n; i++)
		gtid_pos_advance(p, &q->g[i]);
}

int
gtid_cmp(const struct gtid *a, const struct gtid *b)
{
	if (a->domain != b->domain)
		return a->domain < b->domain ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

int
gtid_pos_covers(const struct gtid_pos *p, const struct gtid *g)
{
	const struct gtid *have = gtid_pos_find(p, g->domain);

	return have != NULL && have->seq >= g->seq;
}

int
gtid_pos_reached(const struct gtid_pos *have, const struct gtid_pos *want)
{
	for (int i = 0; i < want->n; i++)
		if (!gtid_pos_covers(have, &want->g[i]))
			return 0;
	return 1;
}

/* A decimal number at *s, at most max: digits only (no sign, no space),
 * without overflow.  Moves *s past it. */
static int
num(const char **s, uint64_t max, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (max - (uint64_t)(*p - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*s = p;
	*v = x;
	return 0;
}

/* One GTID at *s, moving *s past it (to whatever follows). */
static int
parse_at(const char **s, struct gtid *g)
{
	uint64_t d, sv, q;

	if (num(s, UINT32_MAX, &d) < 0 || *(*s)++ != '-' ||
	    num(s, UINT32_MAX, &sv) < 0 || *(*s)++ != '-' ||
	    num(s, UINT64_MAX, &q) < 0)
		return -1;
	g->domain = (uint32_t)d;
	g->server = (uint32_t)sv;
	g->seq = q;
	return 0;
}

int
gtid_parse(const char *s, struct gtid *g)
{
	if (s == NULL || parse_at(&s, g) < 0 || *s != '\0')
		return -1;
	return 0;
}

int
gtid_pos_parse(const char *s, struct gtid_pos *p)
{
	gtid_pos_free(p);
	if (s == NULL)
		return -1;
	while (*s != '\0') {
		struct gtid g;

		while (*s == ' ')
			s++;
		if (parse_at(&s, &g) < 0 || gtid_pos_find(p, g.domain) != NULL)
			goto bad; /* one GTID per domain */
		gtid_pos_set(p, &g);
		if (*s == '\0')
			break;
		/* A comma, and another GTID after it (none: a trailing
		 * comma is an element missing). */
		if (*s++ != ',' || *s == '\0')
			goto bad;
	}
	return 0;
bad:
	gtid_pos_free(p);
	return -1;
}

void
gtid_format(const struct gtid *g, struct buf *b)
{
	buf_printf(b, "%" PRIu32 "-%" PRIu32 "-%" PRIu64, g->domain, g->server,
	    g->seq);
	buf_grow(b, 1);
	b->p[b->len] = '\0';
}

void
gtid_pos_format(const struct gtid_pos *p, struct buf *b)
{
	for (int i = 0; i < p->n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		gtid_format(&p->g[i], b);
	}
	buf_grow(b, 1);
	b->p[b->len] = '\0';
}

int
gtid_pos_valid(const char *s)
{
	struct gtid_pos p = {0};
	int ok = gtid_pos_parse(s, &p) == 0;

	gtid_pos_free(&p);
	return ok;
}

int
gtid_within(const char *gtid, const char *pos)
{
	struct gtid g;
	struct gtid_pos p = {0};
	int in;

	if (gtid == NULL || pos == NULL || gtid_parse(gtid, &g) < 0 ||
	    gtid_pos_parse(pos, &p) < 0)
		return 0;
	in = gtid_pos_covers(&p, &g);
	gtid_pos_free(&p);
	return in;
}

char *
gtid_merge(const char *a, const char *b)
{
	struct gtid_pos p = {0}, q = {0};
	struct buf out = {0};

	if (gtid_pos_parse(a != NULL ? a : "", &p) < 0 ||
	    gtid_pos_parse(b != NULL ? b : "", &q) < 0) {
		gtid_pos_free(&p);
		return NULL;
	}
	gtid_pos_max(&p, &q);
	gtid_pos_format(&p, &out);
	gtid_pos_free(&p);
	gtid_pos_free(&q);
	return out.p;
}
