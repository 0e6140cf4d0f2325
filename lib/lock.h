/*
 * lock.h — one running copy of a tool per state directory
 * (srdf(7)).
 *
 * The lock is a non-blocking flock(2) on DIR/lock/TOOL, a file created
 * with mode 0600 in the directory DIR/lock (0700).  There is one file per
 * tool because several tools share one state directory and run at the
 * same time (srdf-capture | srdf-dedup | srdf-seal, srdf-ship and srdf-ackd
 * all use the source's DIR); what must not happen is two copies of one
 * tool.  LMDB's own files are never locked by us: LMDB does its own
 * locking, and a second open(2) of them breaks its fcntl locks.
 *
 * The kernel drops the lock when the process dies, however it dies: there
 * is no stale lock to clean up and no pid file.  The descriptor is
 * close-on-exec so a program the tool runs does not inherit the lock.
 *
 * Calling sequence: in main(), after options and before the spool and the
 * ledger are opened,
 *	lock_dir_or_die(dir, "srdf-seal");
 * and keep running; the lock lasts until the process exits.  TOOL is the
 * tool's fixed name, not argv[0].
 *
 * Error handling: lock_dir logs nothing; it returns the locked descriptor,
 * or -1 with errno set: EWOULDBLOCK when another process holds the lock,
 * EINVAL for an empty TOOL or one with a '/', ENAMETOOLONG, else the
 * errno of mkdir(2) or open(2).  lock_dir_or_die also takes every right
 * of "others" from DIR (chmod o-rwx, said at notice level; srdf(7)
 * Security), and returns the descriptor or dies: EX_NOPERM when that
 * chmod fails, EX_TEMPFAIL ("another srdf-seal holds DIR/lock/srdf-seal") when
 * the lock is held, EX_CANTCREAT ("cannot lock DIR/lock/srdf-seal:
 * reason") otherwise.
 */
#ifndef SRDF_LOCK_H
#define SRDF_LOCK_H

int lock_dir(const char *dir, const char *tool);
int lock_dir_or_die(const char *dir, const char *tool);

#endif
