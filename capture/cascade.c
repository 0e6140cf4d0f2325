/*
 * cascade.c — which source tables are the parent of a cascading foreign
 * key, so that their row records can say so ("cascade": srdf-record(5)).
 *
 * Why.  InnoDB makes the changes of ON DELETE/ON UPDATE CASCADE and SET
 * NULL inside the statement, and they never reach the binlog: the target
 * must make them again, from its own constraints, by deleting or
 * changing the parent row in the source's order.  Folding a group that
 * deletes or changes such a parent would lose that order (a child
 * inserted and its parent deleted in one group keeps its insert and
 * loses the delete that orphaned it), so srdf-dedup leaves such a group
 * unfolded and srdf-apply replays it in order.  The binlog's TABLE_MAP
 * does not name foreign keys: the source's information_schema does.
 *
 * The set only grows while capture runs: it is read at each connection
 * and again after each DDL that may add one (a statement that names
 * FOREIGN, REFERENCES or RENAME), and a table once a parent stays one.
 * A table marked too many costs only folding; one marked too few would
 * let a group fold what it must not.  When the set cannot be read after
 * a DDL, every table counts as a parent until it can (cascade_unknown).
 *
 * Error handling: cascade_load returns -1 with the server's error left on
 * the connection; the rest cannot fail but by running out of memory
 * (exit EX_OSERR).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mysql.h>

#include "binlog.h"
#include "log.h"
#include "xalloc.h"

/* Parents of a foreign key whose ON DELETE or ON UPDATE rule changes the
 * children (InnoDB has no SET DEFAULT, which MariaDB parses and ignores;
 * it is listed for a server that would honour it). */
static const char parents_sql[] =
    "SELECT DISTINCT UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME FROM "
    "information_schema.REFERENTIAL_CONSTRAINTS WHERE "
    "DELETE_RULE IN ('CASCADE','SET NULL','SET DEFAULT') OR "
    "UPDATE_RULE IN ('CASCADE','SET NULL','SET DEFAULT')";

/* Whether db.table is in the set: without case, since a table too many
 * is only folded less (lower_case_table_names). */
static int
listed(const struct cascade_set *s, const char *db, const char *table)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcasecmp(s->db[i], db) == 0 &&
		    strcasecmp(s->table[i], table) == 0)
			return 1;
	return 0;
}

int
cascade_has(const struct cascade_set *s, const char *db, const char *table)
{
	return s->unknown || listed(s, db, table);
}

int
cascade_load(MYSQL *my, struct cascade_set *s)
{
	MYSQL_RES *r;
	MYSQL_ROW row;

	if (mysql_real_query(my, parents_sql, sizeof parents_sql - 1) != 0 ||
	    (r = mysql_store_result(my)) == NULL)
		return -1;
	while ((row = mysql_fetch_row(r)) != NULL) {
		if (row[0] == NULL || row[1] == NULL ||
		    listed(s, row[0], row[1]))
			continue;
		s->db = xgrow(s->db, &s->capdb, s->n + 1, sizeof *s->db);
		s->table = xgrow(s->table, &s->captable, s->n + 1,
		    sizeof *s->table);
		s->db[s->n] = xstrdup(row[0]);
		s->table[s->n] = xstrdup(row[1]);
		log_debug("%s.%s is the parent of a cascading foreign key: "
			  "its groups are not folded", row[0], row[1]);
		s->n++;
	}
	mysql_free_result(r);
	s->unknown = 0;
	return 0;
}

int
cascade_ddl_may_add(const char *sql, size_t n)
{
	static const char *const words[] = {"FOREIGN", "REFERENCES", "RENAME"};

	for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
		size_t k = strlen(words[w]);

		for (size_t i = 0; i + k <= n; i++)
			if (strncasecmp(sql + i, words[w], k) == 0)
				return 1;
	}
	return 0;
}

void
cascade_free(struct cascade_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->db[i]);
		free(s->table[i]);
	}
	free(s->db);
	free(s->table);
	memset(s, 0, sizeof *s);
}
