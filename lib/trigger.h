/*
 * trigger.h — the triggers srdf-apply guarded on the target
 * (srdf-apply(1), "Triggers"), created again in their place with another
 * body: srdf-apply gives those of the guard its earlier builds wrote its
 * own, srdf-promote(1) gives every one back the body the source wrote,
 * srdf-failback(1) guards every trigger of the old primary.
 *
 * trigger_rewrite: every trigger the session sees
 * (information_schema.TRIGGERS: those of the tables on which it has the
 * TRIGGER privilege) whose body is "IF g THEN inner\n; END IF", as
 * sql_trigger_guard wrote it, for a guard g of from (a list ended by
 * NULL), is created again: CREATE OR REPLACE, FOLLOWS the trigger before
 * it in the action order (or PRECEDES the one after it), so that it
 * keeps its place, with its definer, sql_mode, character set and
 * collation, and the body inner, or "IF to THEN inner\n; END IF" when to
 * is not NULL.  With from NULL, every trigger whose body to does not
 * guard yet is created again with its whole body guarded by to
 * (srdf-failback(1): the old primary becomes a target).  Each trigger is one statement: a run cut short leaves
 * each trigger either as it was or done, and the next run does the rest.
 * With dry set nothing is changed.  done(arg, db, name, err) is called
 * for each trigger, err NULL when it was (dry: would be) written again,
 * else why not.  The session's sql_mode, character sets and collation
 * are set back after each trigger; its default database is left at the
 * last trigger's.
 *
 * Calling sequence: n = trigger_rewrite(my, from, to, dry, done, arg),
 * on a connection whose character set is utf8mb4.
 *
 * Error handling: returns the number of triggers that could not be
 * written (each reported through done), or -1 when the triggers cannot
 * be listed or the connection is lost, with the server's error on my.
 */
#ifndef SRDF_TRIGGER_H
#define SRDF_TRIGGER_H

#include <mysql.h>

typedef void trigger_done_fn(
    void *arg, const char *db, const char *name, const char *err);

int trigger_rewrite(MYSQL *my, const char *const *from, const char *to, int dry,
    trigger_done_fn *done, void *arg);

#endif
