/* xalloc.c — see xalloc.h. */
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
