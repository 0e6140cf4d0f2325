/* selection.c — the tables dropped from the selection; see selection.h. */
#include <stdlib.h>
#include <string.h>

#include "selection.h"
#include "xalloc.h"

/* The JSON object of meta key into *o (NULL when absent). */
static int
meta_object(struct ledger_txn *t, const char *key, json_t **o)
{
	char *v = NULL;
	int rc;

	*o = NULL;
	if ((rc = ledger_meta_get(t, key, &v)) != 0)
		return rc;
	if (v == NULL)
		return 0;
	*o = json_loads(v, 0, NULL);
	free(v);
	if (!json_is_object(*o)) {
		json_decref(*o);
		*o = NULL;
		return LEDGER_CORRUPT;
	}
	return 0;
}

int
selection_copy(struct ledger_txn *t, json_t **tables, char **first)
{
	json_t *p;
	const char *g;
	int rc;

	*tables = NULL;
	*first = NULL;
	if ((rc = meta_object(t, "bootstrap_progress", &p)) != 0 || p == NULL)
		return rc;
	g = json_string_value(json_object_get(p, "first_gtid"));
	if (g != NULL && json_is_array(json_object_get(p, "tables"))) {
		*first = xstrdup(g);
		*tables = json_incref(json_object_get(p, "tables"));
	}
	json_decref(p);
	return 0;
}

int
selection_dropped(struct ledger_txn *t, const char *first, json_t **dropped)
{
	json_t *d, *tabs;
	const char *copy;
	int rc;

	*dropped = json_object();
	if (first == NULL)
		return 0;
	if ((rc = meta_object(t, "selection_dropped", &d)) != 0 || d == NULL)
		return rc;
	copy = json_string_value(json_object_get(d, "copy"));
	tabs = json_object_get(d, "tables");
	if (copy != NULL && strcmp(copy, first) == 0 && json_is_object(tabs))
		json_object_update(*dropped, tabs);
	json_decref(d);
	return 0;
}

int
selection_drop(struct ledger_txn *t, const char *first, const char *name,
    time_t at, const char *gtid)
{
	json_t *tabs, *d;
	char *s;
	int rc;

	if ((rc = selection_dropped(t, first, &tabs)) != 0) {
		json_decref(tabs);
		return rc;
	}
	json_object_set_new(tabs, name,
	    json_pack("{s:I,s:s}", "at", (json_int_t)at, "gtid", gtid));
	d = json_pack("{s:i,s:s,s:o}", "v", 1, "copy", first, "tables", tabs);
	s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	if (s == NULL)
		return LEDGER_BADREC;
	rc = ledger_meta_put(t, "selection_dropped", s);
	free(s);
	return rc;
}
