/*
 * engine.h — a wagon's payload to SQL (engine.c with ddl.c, load.c,
 * peek.c; their insides in eng.h).
 *
 * Calling sequence: engine_peek(w) when the wagon is loaded (its group,
 * chunk, tables, XA, group_end's fields); engine_run (or engine_run_many
 * for a backlog) in the open transaction; the caller commits with the
 * checkpoint (db_commit_at); inwagon_free.
 *
 * Error handling: engine_peek returns -1 with err for a payload it
 * cannot read; engine_run returns a DB_* code, the reason in d->err on
 * DB_FAIL.  Nothing here exits.
 */
#ifndef SRDF_APPLY_ENGINE_H
#define SRDF_APPLY_ENGINE_H

#include <stddef.h>

#include "apply.h"
#include "db.h"
#include "recopy.h"

/* engine_peek (peek.c) reads w's payload: 0, or -1 with err. */
int engine_peek(struct inwagon *w, char *err, size_t errlen);
/* inwagon_has_table: whether name (len bytes, "db\037table" lowercased) is
 * among w's tables (engine_peek's list; tabs_all is the caller's). */
int inwagon_has_table(const struct inwagon *w, const char *name, size_t len);
/* engine_run applies w's payload in the open transaction on d: its rows
 * queued, its DDL run (mark called around each).  kept: the engine's
 * arena kept between the wagons of d's connection, so that the next one
 * reuses memory already mapped (up to 64 MiB; the caller's, one per
 * connection, freed with buf_free), or NULL for none.  recopied: the tables
 * srdf-bootstrap copied again whose changes in w are skipped (recopy.c,
 * recopy_due), or NULL.  Returns DB_*, the reason in d->err on DB_FAIL. */
int engine_run(struct db *d, struct buf *kept, struct inwagon *w,
    const struct recopy_list *recopied, ddl_mark_fn mark, void *arg);
/* engine_run_many runs the payloads of ws[0..n-1] (consecutive whole
 * groups without DDL, in sequence order) as one net delta, folded across
 * them, in the open transaction; the caller commits it with the last
 * one's checkpoint (srdf-apply(1), "Applying a backlog").  Returns DB_*
 * as engine_run, or DB_SPLIT, before any statement, when n > 1 and a
 * table they touch is the parent of a cascading foreign key: folding a
 * parent's delete and re-insert across groups would lose the cascade.
 * Each wagon's rows count lands in its own ws[i]->rows. */
int engine_run_many(struct db *d, struct buf *kept, struct inwagon **ws,
    size_t n, const struct recopy_list *recopied, ddl_mark_fn mark, void *arg);
/* inwagon_free frees what load() and engine_peek allocated in w (records,
 * gtid_pos, snapshot) and leaves them NULL; w itself is the caller's. */
void inwagon_free(struct inwagon *w);

#endif
