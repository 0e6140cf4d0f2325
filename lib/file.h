/*
 * file.h — a whole file read into memory: a wagon handed to srdf-cat, an
 * item of a spool's new/ (recv's import).
 *
 * file_read(path, nofollow, max, &len, &step): opens path read-only
 * (O_NOFOLLOW too when nofollow; O_NONBLOCK always, so that a FIFO put in
 * its place cannot hang the reader: it is refused as not a regular file),
 * and reads the whole of it, which must be a regular file of at most max
 * bytes.  Returns a malloc'd buffer of *len bytes with a NUL after them
 * (the caller frees it), or NULL with errno set and *step naming what
 * failed:
 *	FILE_OPEN   open(2)'s errno;
 *	FILE_STAT   fstat(2)'s errno, or not a regular file: EISDIR for a
 *	            directory, EINVAL for anything else;
 *	FILE_SIZE   EFBIG: larger than max, *len then its size;
 *	FILE_ALLOC  ENOMEM;
 *	FILE_READ   read(2)'s errno.
 * A file that shrinks while read ends early: *len is what was read.
 * Logs nothing: each caller words its own message.
 */
#ifndef SRDF_FILE_H
#define SRDF_FILE_H

#include <stddef.h>
#include <stdint.h>

enum file_step { FILE_OPEN, FILE_STAT, FILE_SIZE, FILE_ALLOC, FILE_READ };

uint8_t *file_read(const char *path, int nofollow, unsigned long long max,
    size_t *len, enum file_step *step);

#endif
