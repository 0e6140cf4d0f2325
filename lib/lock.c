/* lock.c — flock on DIR/lock/TOOL; see lock.h. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "lock.h"
#include "log.h"

int
lock_dir(const char *dir, const char *tool)
{
	char path[PATH_MAX];
	size_t dlen = strlen(dir) + sizeof "/lock" - 1;
	int n, fd, e;

	if (*tool == '\0' || strchr(tool, '/') != NULL) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(path, sizeof path, "%s/lock/%s", dir, tool);
	if (n < 0 || (size_t)n >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	path[dlen] = '\0';
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -1;
	path[dlen] = '/';
	if ((fd = f_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
lock_dir_or_die(const char *dir, const char *tool)
{
	struct stat st;
	int fd;

	if ((fd = lock_dir(dir, tool)) >= 0) {
		/* The state directory holds the ledger, spools and logs:
		 * nothing in it is for every user of the host. */
		if (stat(dir, &st) == 0 && (st.st_mode & 007) != 0) {
			if (chmod(dir, st.st_mode & 0770) != 0)
				die(EX_NOPERM,
				    "%s has mode %04o, open to every "
				    "user of this host, and cannot be made "
				    "%04o: %s; chmod o-rwx it",
				    dir, (unsigned)(st.st_mode & 07777),
				    (unsigned)(st.st_mode & 0770),
				    strerror(errno));
			log_notice("%s had mode %04o, open to every user of "
			           "this host: now %04o",
			    dir, (unsigned)(st.st_mode & 07777),
			    (unsigned)(st.st_mode & 0770));
		}
		return fd;
	}
	if (errno == EWOULDBLOCK)
		die(EX_TEMPFAIL, "another %s holds %s/lock/%s", tool, dir,
		    tool);
	die(EX_CANTCREAT, "cannot lock %s/lock/%s: %s", dir, tool,
	    strerror(errno));
}
