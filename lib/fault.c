/* fault.c — SRDF_FAULT hooks beside open/write/fsync/rename; see fault.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "opt.h"

enum op { OP_OPEN, OP_WRITE, OP_FSYNC, OP_RENAME, NOP };

static const char *const opname[NOP] = {"open", "write", "fsync", "rename"};

static const struct {
	const char *name;
	int err;
} errnames[] = {
    {"EACCES", EACCES},
    {"EDQUOT", EDQUOT},
    {"EINTR", EINTR},
    {"EIO", EIO},
    {"EMFILE", EMFILE},
    {"ENOSPC", ENOSPC},
    {"EROFS", EROFS},
    {"EXDEV", EXDEV},
};

/* Invariant: MAXSPEC is more than any test needs; more is a bad spec. */
#define MAXSPEC 8

static struct spec {
	enum op op;
	uint64_t nth;
	int err;
} specs[MAXSPEC];
static int nspecs;
static _Atomic uint64_t calls[NOP];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int
parse_spec(char *tok, struct spec *sp)
{
	char *n, *e;
	size_t i;

	if ((n = strchr(tok, ':')) == NULL)
		return -1;
	*n++ = '\0';
	if ((e = strchr(n, ':')) != NULL)
		*e++ = '\0';
	for (i = 0; i < NOP && strcmp(tok, opname[i]) != 0; i++)
		;
	if (i == NOP)
		return -1;
	sp->op = (enum op)i;
	if (parse_u64(n, &sp->nth) != 0 || sp->nth == 0)
		return -1;
	if (e == NULL) {
		sp->err = EIO;
		return 0;
	}
	for (i = 0; i < sizeof errnames / sizeof errnames[0]; i++)
		if (strcmp(e, errnames[i].name) == 0) {
			sp->err = errnames[i].err;
			return 0;
		}
	return -1;
}

static void
parse_env(void)
{
	const char *env = getenv("SRDF_FAULT");
	char *copy, *tok, *save;

	if (env == NULL || *env == '\0')
		return;
	if ((copy = strdup(env)) == NULL)
		die(EX_OSERR, "SRDF_FAULT: %s", strerror(errno));
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (nspecs == MAXSPEC || parse_spec(tok, &specs[nspecs]) != 0)
			die(EX_USAGE,
			    "bad SRDF_FAULT \"%s\" (want OP:N[:ERRNO])", env);
		nspecs++;
	}
	free(copy);
}

/* Returns the errno to fail this call with, or 0 to make the real call. */
static int
fault(enum op op)
{
	uint64_t n;
	int i;

	pthread_once(&once, parse_env);
	if (nspecs == 0)
		return 0;
	n = atomic_fetch_add(&calls[op], 1) + 1;
	for (i = 0; i < nspecs; i++)
		if (specs[i].op == op && specs[i].nth == n)
			return specs[i].err;
	return 0;
}

int
f_open(const char *path, int flags, mode_t mode)
{
	int err = fault(OP_OPEN);

	if (err != 0) {
		errno = err;
		return -1;
	}
	return open(path, flags, mode);
}

ssize_t
f_write(int fd, const void *buf, size_t len)
{
	int err = fault(OP_WRITE);

	if (err != 0) {
		errno = err;
		return -1;
	}
	return write(fd, buf, len);
}

int
f_fsync(int fd)
{
	int err = fault(OP_FSYNC);

	if (err != 0) {
		errno = err;
		return -1;
	}
	return fsync(fd);
}

int
f_rename(const char *from, const char *to)
{
	int err = fault(OP_RENAME);

	if (err != 0) {
		errno = err;
		return -1;
	}
	return rename(from, to);
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = f_write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
