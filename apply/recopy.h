/*
 * recopy.h — the tables srdf-bootstrap copied again (recopy.c, srdf-apply(1),
 * "Tables copied again"), kept in srdf.applied.redo_tables.
 *
 * Calling sequence: recopy_parse when the checkpoint is read; per wagon
 * recopy_copy, recopy_prune, recopy_add, recopy_format for the next
 * checkpoint, and recopy_due then recopy_find (the engine) for what it
 * skips; recopy_free.
 *
 * Error handling: recopy_parse returns -1 for text it cannot read; the
 * rest cannot fail (allocation dies: lib/xalloc.h).
 */
#ifndef SRDF_APPLY_RECOPY_H
#define SRDF_APPLY_RECOPY_H

#include <stddef.h>

#include "apply.h"

/* srdf.applied.redo_tables (recopy.c): the tables srdf-bootstrap copied
 * again at a later snapshot pos, whose changes in wagons up to pos are
 * in that copy. */
struct recopy_entry {
	char *db, *table, *pos;
};
struct recopy_list {
	struct recopy_entry *v;
	size_t n;
};

/* recopy_parse reads srdf.applied.redo_tables (JSON [[db, table, pos],
 * ...]; NULL or empty: none) into l, replacing what l held: 0, or -1
 * when malformed (l left empty).  recopy_format is the reverse (malloc'd).
 * recopy_add adds table db.table at position pos (merged with its entry
 * when it has one); recopy_copy replaces to by a copy of from; recopy_free
 * empties l.  For a wagon w of capture's (not srdf-bootstrap's):
 * recopy_prune drops the entries w begins beyond (w and every wagon after
 * it lie beyond their position) and returns how many; recopy_due tells
 * whether w's last GTID lies within an entry's position (it may have
 * changes to skip); recopy_find gives the entry that says w must skip
 * db.table (names compared exactly, or ignoring case when icase), or
 * NULL.  See recopy.c and srdf-apply(1), "Tables copied again". */
int recopy_parse(const char *text, struct recopy_list *l);
char *recopy_format(const struct recopy_list *l);
void recopy_add(
    struct recopy_list *l, const char *db, const char *table, const char *pos);
void recopy_copy(struct recopy_list *to, const struct recopy_list *from);
void recopy_free(struct recopy_list *l);
size_t recopy_prune(struct recopy_list *l, const struct inwagon *w);
int recopy_due(const struct recopy_list *l, const struct inwagon *w);
const struct recopy_entry *recopy_find(const struct recopy_list *l,
    const struct inwagon *w, const char *db, const char *table, int icase);

#endif
