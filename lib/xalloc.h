/*
 * xalloc.h — allocation that cannot fail: a tool that cannot allocate
 * cannot go on, so these die(EX_OSERR, "out of memory") instead of
 * returning NULL (the same policy as buf.h).
 *
 * xcalloc(n, size): zeroed memory for n objects (n 0 gives one, so the
 * result is never NULL); the caller frees it.  xstrdup(s): a copy of s
 * the caller frees, or NULL for s NULL.
 */
#ifndef SRDF_XALLOC_H
#define SRDF_XALLOC_H

#include <stddef.h>

void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);

#endif
