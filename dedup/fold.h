/*
 * fold.h — the rows of one consistency group, folded per row to their
 * net effect (srdf-record(5), "Consistency groups"; srdf-dedup(1)).
 *
 * A row is (database, table, primary-key values).  Its key is those
 * decoded and canonical (row_keys): string escapes decoded, numbers by
 * value, so two spellings of one row are one key.  Per key the group
 * keeps the first record that touched it and the last one, whether the
 * row existed before the group (the first change is an update or
 * delete) and whether it exists after it (the last one is an insert or
 * update).  A key seen once is written back as its input line, byte for
 * byte; a folded key is written as one record assembled from the spans
 * of the first record's "before" and the last one's "after" — values
 * are never re-encoded.  Rows of tables without a primary key, and of
 * system-versioned tables (whose every version is a row of its own),
 * are never folded and keep their place.  Output order: a key at its first
 * appearance.
 *
 * Calling sequence: struct fold f = {0}; per committed transaction,
 * fold_row() for each row record in order, then fold_trx() with its trx
 * record; fold_emit() writes the group's records; fold_split() says
 * whether its trx records are boundaries; fold_reset() starts the next
 * group; fold_free().
 * Memory: the group's row lines (bounded by --max-bytes), a slot and
 * its key per distinct row, an index twice the slots.
 *
 * Error handling: row_keys returns -1 with the reason in err (bad input);
 * the rest cannot fail except by running out of memory (EX_OSERR).
 */
#ifndef SRDF_DEDUP_FOLD_H
#define SRDF_DEDUP_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "scan.h"

struct fold_ent;
struct fold_slot;
struct fold_idx;

struct fold {
	struct buf arena; /* the input lines of the group's rows */
	struct buf keys;  /* the slots' keys */
	struct fold_ent *ents;
	size_t nents, capents;
	struct fold_slot *slots;
	size_t nslots, capslots;
	struct fold_idx *idx;
	size_t idxcap; /* a power of two, or 0 */
	uint32_t gen;  /* index entries of older groups are stale */
	struct scanner sc;
	struct rec r1, r2;
	struct jstr *pk;
	size_t npk, cappk;
	struct buf tmp;
	/* The group deletes or changes a row of a cascade parent: written
	 * unfolded, every row in its order (fold_emit).  Set by the caller. */
	int ordered;
	size_t *lines; /* with ordered: each row's arena offset and length */
	size_t nlines, caplines;
	/* Transaction boundaries: trx is the group's transaction being
	 * added (from 0, one more after each fold_trx); crossed once a row
	 * is changed by two of them; nmarks the trx records added. */
	uint32_t trx;
	int crossed;
	size_t nmarks;
	/* The system-versioned tables seen (versioned() in fold.c), kept
	 * over groups: a length, then a key's "d" and "t" fields */
	struct buf vers;
};

/*
 * The keys of row record r: the key of its before-image (update,
 * delete) and then that of its after-image (insert, update) are
 * appended to keys, their lengths in *kbn and *kan (0: not made).  Also
 * checks the record's shape: "db" and "table" strings, "pk" an array of
 * strings, the images it needs objects holding every primary-key
 * column.  Returns 1, 0 when the table has no primary key or is
 * system-versioned (no key made), or -1 with the reason in err.
 */
int row_keys(struct fold *f, const struct rec *r, struct buf *keys, size_t *kbn,
    size_t *kan, char *err, size_t errlen);

/*
 * Adds one row record (its input line without the newline) to the group.
 * kb/ka: the keys of its before and after images (kbn/kan bytes), as
 * row_keys made them; nokey for a table without a primary key.
 */
void fold_row(struct fold *f, enum rec_type type, const char *line, size_t n,
    int nokey, const char *kb, size_t kbn, const char *ka, size_t kan);

/*
 * Ends the transaction whose rows fold_row() added last: its trx record
 * (line, n bytes without the newline; srdf-record(5)) is written by
 * fold_emit after them.
 */
void fold_trx(struct fold *f, const char *line, size_t n);

/*
 * 1 when every trx record of the group is a transaction boundary in
 * fold_emit's output: no row was changed by two of its transactions
 * (then each row stands among its own transaction's), or the group is
 * written unfolded in source order (ordered); 0 when a row folded
 * across transactions (srdf-dedup(1), "Transaction boundaries").
 */
int fold_split(const struct fold *f);

/* Appends the group's folded records, and its trx records, to out;
 * returns how many row records. */
uint64_t fold_emit(struct fold *f, struct buf *out);

void fold_reset(struct fold *f);
void fold_free(struct fold *f);

#endif
