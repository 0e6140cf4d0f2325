/* file.c — a whole file read into memory; see file.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "file.h"

static uint8_t *
failed(int fd, enum file_step *step, enum file_step at, int e)
{
	close(fd);
	*step = at;
	errno = e;
	return NULL;
}

uint8_t *
file_read(const char *path, int nofollow, unsigned long long max, size_t *len,
    enum file_step *step)
{
	struct stat st;
	uint8_t *p;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	                         (nofollow ? O_NOFOLLOW : 0))) < 0) {
		*step = FILE_OPEN;
		return NULL;
	}
	if (fstat(fd, &st) != 0)
		return failed(fd, step, FILE_STAT, errno);
	if (!S_ISREG(st.st_mode))
		return failed(
		    fd, step, FILE_STAT, S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
	if ((unsigned long long)st.st_size > max) {
		*len = (size_t)st.st_size;
		return failed(fd, step, FILE_SIZE, EFBIG);
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL)
		return failed(fd, step, FILE_ALLOC, ENOMEM);
	while (got < (size_t)st.st_size &&
	       (n = read(fd, p + got, (size_t)st.st_size - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(p);
			return failed(fd, step, FILE_READ, e);
		}
		got += (size_t)n;
	}
	close(fd);
	p[got] = '\0';
	*len = got;
	return p;
}
