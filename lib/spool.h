/*
 * spool.h — Maildir-like spools: the outbox and the inbox (srdf-wagon(5)
 * FILES, maildir(5)).
 *
 * A spool DIR holds four directories (mode 0700); item NAME is in exactly
 * one of them, and every move is one rename(2):
 *
 *	tmp/NAME   being written; never read.  A crash leaves it: litter that
 *	           spool_init removes at the next start.
 *	new/NAME   complete and durable (file fsync'd, then new/ fsync'd after
 *	           the rename): a reader never sees a partial item.
 *	cur/NAME   claimed by the consuming tool (spool_move new -> cur).
 *	bad/NAME   damaged, with bad/NAME.reason beside it; never dropped and
 *	           never in the stage's way.
 *
 * Names sort in sequence order under ls(1) and spool_list (strcmp order):
 * the tools use fixed-width decimal names such as 00000000000000000042.w.
 * A name is one path component, not starting with '.'.
 *
 * Putting a NAME that is already in new/ replaces it atomically (a reader
 * sees the old or the new item, never a mix): srdf-seal relies on this to
 * re-seal a wagon whose ledger record a crash lost.  Keeping names unique
 * otherwise is the caller's business.
 *
 * Calling sequence:
 *	spool_init(dir) once at start, after lock_dir;
 *	spool_put(dir, name, buf, len), or for big items
 *	    spool_open(&f, dir, name); spool_write(&f, ...)...;
 *	    spool_commit(&f) or spool_abort(&f);
 *	spool_list(dir, "new", &names, &n) ... spool_list_free(names, n);
 *	spool_move(dir, "new", "cur", name) to claim;
 *	spool_bad(dir, "cur", name, reason) for a damaged item;
 *	spool_free_ok(dir, min_free) before accepting intake.
 * After a failed spool_write call spool_abort.  spool_commit always ends
 * the item: on failure nothing is left in tmp/ or new/, and a spool_abort
 * after it does nothing.  All system calls that write go through lib/fault.
 *
 * Error handling: -1 with errno set, after one log_err line naming the
 * path and strerror, e.g. "cannot fsync out/tmp/x: Input/output error".
 * EINVAL for a bad name.  spool_free_ok returns 1 when at least min_free
 * bytes are available to unprivileged users, 0 when not (not logged: the
 * caller says what it refuses), -1 on error.
 */
#ifndef SRDF_SPOOL_H
#define SRDF_SPOOL_H

#include <limits.h>
#include <stddef.h>

struct spool_file {
	int fd;
	char tmp[PATH_MAX]; /* DIR/tmp/NAME, "" once the item is ended */
	char dst[PATH_MAX]; /* DIR/new/NAME */
};

int spool_init(const char *dir);
int spool_put(const char *dir, const char *name, const void *buf, size_t len);

int spool_open(struct spool_file *f, const char *dir, const char *name);
int spool_write(struct spool_file *f, const void *buf, size_t len);
int spool_commit(struct spool_file *f);
void spool_abort(struct spool_file *f);

int spool_list(const char *dir, const char *sub, char ***names, size_t *n);
void spool_list_free(char **names, size_t n);
int spool_move(
    const char *dir, const char *from, const char *to, const char *name);
int spool_bad(
    const char *dir, const char *sub, const char *name, const char *reason);
int spool_free_ok(const char *dir, unsigned long long min_free);

#endif
