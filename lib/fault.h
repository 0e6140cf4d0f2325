/*
 * fault.h — fault injection beside the system calls that matter, and
 * write_all().
 *
 * The tools call f_open, f_write, f_fsync and f_rename where they would
 * call open(2), write(2), fsync(2) and rename(2).  With SRDF_FAULT unset
 * they are those calls plus one predicted branch.  A test sets
 *
 *	SRDF_FAULT="OP:N[:ERRNO][,OP:N[:ERRNO]...]"
 *
 * OP is open, write, fsync or rename; the Nth call (from 1) of OP in this
 * process fails with ERRNO (EIO when left out) instead of reaching the
 * kernel; every other call goes through.  ERRNO is one of EACCES, EDQUOT,
 * EINTR, EIO, EMFILE, ENOSPC, EROFS, EXDEV.  Examples: "fsync:3" fails the
 * third fsync with EIO; "write:2:ENOSPC,rename:1" fails the second write
 * and the first rename.  Calls are counted per process: a forked child
 * goes on counting from the parent's number.
 *
 * Calling sequence: nothing to set up; SRDF_FAULT is read at the first
 * call of any f_* function.
 *
 * Error handling: the wrappers return what the system call returns, with
 * errno set.  A malformed SRDF_FAULT is a broken test, never a silent "no
 * fault": the process dies with EX_USAGE naming it.  write_all returns 0
 * when all len bytes are written, else -1 with errno set; it retries short
 * writes and EINTR itself.
 */
#ifndef SRDF_FAULT_H
#define SRDF_FAULT_H

#include <sys/types.h>
#include <stddef.h>

int f_open(const char *path, int flags, mode_t mode);
ssize_t f_write(int fd, const void *buf, size_t len);
int f_fsync(int fd);
int f_rename(const char *from, const char *to);

int write_all(int fd, const void *buf, size_t len);

#endif
