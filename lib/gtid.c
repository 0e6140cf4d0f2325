/* gtid.c — GTID positions; see gtid.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "gtid.h"
#include "log.h"

void
gtid_pos_free(struct gtid_pos *p)
{
	free(p->g);
	p->g = NULL;
	p->n = 0;
}

void
gtid_pos_set(struct gtid_pos *p, const struct gtid *g)
{
	for (int i = 0; i < p->n; i++)
		if (p->g[i].domain == g->domain) {
			p->g[i] = *g;
			return;
		}
	if ((p->g = realloc(p->g, sizeof *p->g * (size_t)(p->n + 1))) == NULL)
		die(EX_OSERR, "out of memory");
	p->g[p->n++] = *g;
}

void
gtid_pos_merge(struct gtid_pos *p, const struct gtid_pos *q)
{
	for (int i = 0; i < q->n; i++)
		gtid_pos_set(p, &q->g[i]);
}

static int
num(const char **s, unsigned long long max, char stop, unsigned long long *v)
{
	char *end;

	if (**s < '0' || **s > '9')
		return -1;
	errno = 0;
	*v = strtoull(*s, &end, 10);
	if (errno != 0 || *v > max)
		return -1;
	if (stop != 0 ? *end != stop : (*end != '\0' && *end != ','))
		return -1;
	*s = stop != 0 ? end + 1 : end;
	return 0;
}

int
gtid_pos_parse(const char *s, struct gtid_pos *p)
{
	unsigned long long d, sv, q;

	gtid_pos_free(p);
	while (*s != '\0') {
		struct gtid g;

		while (*s == ' ')
			s++;
		if (num(&s, UINT32_MAX, '-', &d) < 0 ||
		    num(&s, UINT32_MAX, '-', &sv) < 0 ||
		    num(&s, UINT64_MAX, 0, &q) < 0)
			goto bad;
		g.domain = (uint32_t)d;
		g.server = (uint32_t)sv;
		g.seq = q;
		for (int i = 0; i < p->n; i++)
			if (p->g[i].domain == g.domain)
				goto bad; /* one GTID per domain */
		gtid_pos_set(p, &g);
		if (*s == ',')
			s++;
	}
	return 0;
bad:
	gtid_pos_free(p);
	return -1;
}

void
gtid_pos_format(const struct gtid_pos *p, struct buf *b)
{
	for (int i = 0; i < p->n; i++)
		buf_printf(b, "%s%" PRIu32 "-%" PRIu32 "-%" PRIu64, i ? "," : "",
		    p->g[i].domain, p->g[i].server, p->g[i].seq);
	buf_grow(b, 1);
	b->p[b->len] = '\0';
}
