/*
 * xalloc.h — allocation that cannot fail: a tool that cannot allocate
 * cannot go on, so these die(EX_OSERR, "out of memory") instead of
 * returning NULL (the same policy as buf.h).
 *
 * xcalloc(n, size): zeroed memory for n objects (n 0 gives one, so the
 * result is never NULL); the caller frees it.  xgrow(p, &cap, need,
 * size): array p of *cap objects of size bytes, grown (doubling, from 16)
 * to hold at least need of them; returns the array, which may have
 * moved, and updates *cap; new room is not zeroed.  xstrdup(s): a copy of
 * s the caller frees, or NULL for s NULL.
 *
 * xalloc_big_buffers(): tells malloc that this process allocates and
 * frees buffers of megabytes over and over (a wagon's payload, a bulk
 * insert's arrays, the client library's packets), so that it keeps
 * them in its heap instead of mapping and unmapping each one: without
 * it every such buffer costs a page fault per 4 KiB touched (srdf-apply
 * spent half its CPU time there).  Memory freed stays with the process
 * up to XALLOC_KEEP bytes.  Call once, first thing in main.
 */
#ifndef SRDF_XALLOC_H
#define SRDF_XALLOC_H

#include <stddef.h>

void *xcalloc(size_t n, size_t size);
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
void xalloc_big_buffers(void);

#endif
