/* xalloc.c — see xalloc.h. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		die(EX_OSERR, "out of memory");
	return p;
}

void *
xgrow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	if ((p = realloc(p, n * size)) == NULL)
		die(EX_OSERR, "out of memory");
	*cap = n;
	return p;
}

char *
xstrdup(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		die(EX_OSERR, "out of memory");
	return d;
}

/* The largest mmap threshold glibc accepts on 64-bit (mallopt(3),
 * DEFAULT_MMAP_THRESHOLD_MAX) and the free memory kept at the heap's top:
 * a merged backlog (srdf-apply --merge-bytes) is at most 256 MiB. */
#define XALLOC_MAP_ABOVE (32 << 20)
#define XALLOC_KEEP (256 << 20)

void
xalloc_big_buffers(void)
{
	/* Advice only: a libc without these keeps its defaults. */
	(void)mallopt(M_MMAP_THRESHOLD, XALLOC_MAP_ABOVE);
	(void)mallopt(M_TRIM_THRESHOLD, XALLOC_KEEP);
}
