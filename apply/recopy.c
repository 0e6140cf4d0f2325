/*
 * recopy.c — the tables srdf-bootstrap copied again after a DDL reached
 * them during its copy (srdf-bootstrap(1), "DDL during the copy";
 * srdf-apply(1), "Tables copied again").
 *
 * Such a table T was copied at a later snapshot G_T than the others,
 * with its definition after the DDL.  srdf-capture starts at the first
 * snapshot G, so the wagons of (G, G_T] carry T's changes that the copy
 * already holds, the DDL among them, and rows in T's old shape before
 * it.  A wagon whose last transaction lies within G_T therefore skips
 * T: its row changes, and a DDL that touches only such tables.  A wagon
 * further on is applied whole (within srdf-bootstrap's window it is
 * idempotent, so the changes the copy holds already do no harm).
 *
 * The list lives in srdf.applied.redo_tables as JSON, an array of
 * [db, table, G_T], written in the transaction of the wagon that
 * creates the table again, so it is there exactly when the copy is.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "apply.h"
#include "recopy.h"
#include "log.h"
#include "xalloc.h"

void
recopy_free(struct recopy_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].db);
		free(l->v[i].table);
		free(l->v[i].pos);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
recopy_add(
    struct recopy_list *l, const char *db, const char *table, const char *pos)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].db, db) == 0 &&
		    strcmp(l->v[i].table, table) == 0) {
			char *p = gtid_merge(l->v[i].pos, pos);

			free(l->v[i].pos);
			l->v[i].pos = p;
			return;
		}
	if ((l->v = realloc(l->v, (l->n + 1) * sizeof *l->v)) == NULL)
		die(EX_OSERR, "out of memory");
	l->v[l->n].db = xstrdup(db);
	l->v[l->n].table = xstrdup(table);
	l->v[l->n].pos = xstrdup(pos);
	l->n++;
}

int
recopy_parse(const char *text, struct recopy_list *l)
{
	json_t *a, *e;
	size_t i;
	int rc = 0;

	recopy_free(l);
	if (text == NULL || *text == '\0')
		return 0;
	if ((a = json_loads(text, 0, NULL)) == NULL || !json_is_array(a)) {
		json_decref(a);
		return -1;
	}
	json_array_foreach(a, i, e)
	{
		const char *db = json_string_value(json_array_get(e, 0));
		const char *t = json_string_value(json_array_get(e, 1));
		const char *p = json_string_value(json_array_get(e, 2));

		if (db == NULL || t == NULL || !gtid_pos_valid(p)) {
			rc = -1;
			break;
		}
		recopy_add(l, db, t, p);
	}
	json_decref(a);
	if (rc != 0)
		recopy_free(l);
	return rc;
}

char *
recopy_format(const struct recopy_list *l)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a,
		    json_pack("[sss]", l->v[i].db, l->v[i].table, l->v[i].pos));
	if ((s = json_dumps(a, JSON_COMPACT)) == NULL)
		die(EX_OSERR, "out of memory");
	json_decref(a);
	return s;
}

void
recopy_copy(struct recopy_list *to, const struct recopy_list *from)
{
	recopy_free(to);
	for (size_t i = 0; i < from->n; i++)
		recopy_add(to, from->v[i].db, from->v[i].table, from->v[i].pos);
}

/* Whether w is capture's: srdf-bootstrap's own wagons (its rows, and
 * its DDL, whose group_end has a snapshot_gtid) are the copy. */
static int
captured(const struct inwagon *w)
{
	return !(w->h.flags & WAGON_F_BOOTSTRAP) && w->snapshot == NULL;
}

size_t
recopy_prune(struct recopy_list *l, const struct inwagon *w)
{
	size_t n = 0, j = 0;

	if (!captured(w))
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		if (!gtid_within(w->h.first_gtid, l->v[i].pos)) {
			free(l->v[i].db);
			free(l->v[i].table);
			free(l->v[i].pos);
			n++;
		} else
			l->v[j++] = l->v[i];
	}
	l->n = j;
	return n;
}

int
recopy_due(const struct recopy_list *l, const struct inwagon *w)
{
	if (!captured(w))
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (gtid_within(w->h.last_gtid, l->v[i].pos))
			return 1;
	return 0;
}

const struct recopy_entry *
recopy_find(const struct recopy_list *l, const struct inwagon *w,
    const char *db, const char *table, int icase)
{
	if (l == NULL || !captured(w) || db == NULL || table == NULL)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		const struct recopy_entry *e = &l->v[i];

		if ((icase ? strcasecmp(e->db, db) == 0 &&
		                 strcasecmp(e->table, table) == 0
		           : strcmp(e->db, db) == 0 &&
		                 strcmp(e->table, table) == 0) &&
		    gtid_within(w->h.last_gtid, e->pos))
			return e;
	}
	return NULL;
}
