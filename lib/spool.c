/* spool.c — Maildir-like spools; see spool.h for the state table. */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "spool.h"

static const char *const subdirs[] = {"tmp", "new", "cur", "bad"};

/* Formats DIR/SUB/NAME (DIR/SUB when name is NULL) into buf[PATH_MAX]. */
static int
mkpath(char *buf, const char *dir, const char *sub, const char *name)
{
	int n;

	if (name != NULL)
		n = snprintf(buf, PATH_MAX, "%s/%s/%s", dir, sub, name);
	else
		n = snprintf(buf, PATH_MAX, "%s/%s", dir, sub);
	if (n < 0 || n >= PATH_MAX) {
		errno = ENAMETOOLONG;
		log_err("cannot use %s/%s/%s: %s", dir, sub, name ? name : "",
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
check_name(const char *name)
{
	if (*name == '\0' || *name == '.' || strchr(name, '/') != NULL) {
		errno = EINVAL;
		log_err("bad spool item name \"%s\"", name);
		return -1;
	}
	return 0;
}

/* fsync(2) the directory holding path, so a rename into it is durable. */
static int
sync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, e;

	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if ((fd = f_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)) < 0) {
		log_err("cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	if (f_fsync(fd) != 0) {
		e = errno;
		log_err("cannot fsync %s: %s", dir, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

int
spool_init(const char *dir)
{
	char path[PATH_MAX], item[PATH_MAX];
	struct dirent *de;
	DIR *d;
	size_t i;
	int rc = 0;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_err("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		if (mkpath(path, dir, subdirs[i], NULL) != 0)
			return -1;
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			log_err("cannot create %s: %s", path, strerror(errno));
			return -1;
		}
	}
	/* Whatever is in tmp/ was being written when a process died: the
	 * writer never reported it stored, so it is safe to remove. */
	if (mkpath(path, dir, "tmp", NULL) != 0)
		return -1;
	if ((d = opendir(path)) == NULL) {
		log_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (errno = 0, (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (mkpath(item, dir, "tmp", de->d_name) != 0) {
			rc = -1;
			break;
		}
		if (unlink(item) != 0) {
			log_err("cannot remove %s: %s", item, strerror(errno));
			rc = -1;
			break;
		}
		log_notice("removed %s left by a crash", item);
	}
	if (rc == 0 && errno != 0) {
		log_err("cannot read %s: %s", path, strerror(errno));
		rc = -1;
	}
	closedir(d);
	return rc;
}

/* Starts DIR/tmp/NAME, to be renamed to DIR/SUB/NAME by spool_commit. */
static int
open_in(
    struct spool_file *f, const char *dir, const char *sub, const char *name)
{
	f->fd = -1;
	f->tmp[0] = '\0';
	if (check_name(name) != 0 || mkpath(f->dst, dir, sub, name) != 0 ||
	    mkpath(f->tmp, dir, "tmp", name) != 0) {
		f->tmp[0] = '\0';
		return -1;
	}
	f->fd = f_open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		log_err("cannot create %s: %s", f->tmp, strerror(errno));
		f->tmp[0] = '\0';
		return -1;
	}
	return 0;
}

int
spool_open(struct spool_file *f, const char *dir, const char *name)
{
	return open_in(f, dir, "new", name);
}

int
spool_write(struct spool_file *f, const void *buf, size_t len)
{
	if (write_all(f->fd, buf, len) != 0) {
		log_err("cannot write %s: %s", f->tmp, strerror(errno));
		return -1;
	}
	return 0;
}

int
spool_commit(struct spool_file *f)
{
	int fd = f->fd, e;

	f->fd = -1;
	if (f_fsync(fd) != 0) {
		e = errno;
		log_err("cannot fsync %s: %s", f->tmp, strerror(e));
		close(fd);
		goto fail;
	}
	/* close(2) can report a delayed write error (NFS, quota). */
	if (close(fd) != 0) {
		e = errno;
		log_err("cannot close %s: %s", f->tmp, strerror(e));
		goto fail;
	}
	if (f_rename(f->tmp, f->dst) != 0) {
		e = errno;
		log_err(
		    "cannot rename %s to %s: %s", f->tmp, f->dst, strerror(e));
		goto fail;
	}
	f->tmp[0] = '\0';
	if (sync_dir_of(f->dst) != 0) {
		/* Not known to be durable: take it back out of sight (best
		 * effort) so the failure the caller sees is the whole truth. */
		e = errno;
		unlink(f->dst);
		errno = e;
		return -1;
	}
	return 0;
fail:
	unlink(f->tmp);
	f->tmp[0] = '\0';
	errno = e;
	return -1;
}

void
spool_abort(struct spool_file *f)
{
	int e = errno;

	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp[0] != '\0')
		unlink(f->tmp);
	f->fd = -1;
	f->tmp[0] = '\0';
	errno = e;
}

int
spool_put(const char *dir, const char *name, const void *buf, size_t len)
{
	struct spool_file f;

	if (spool_open(&f, dir, name) != 0)
		return -1;
	if (spool_write(&f, buf, len) != 0) {
		spool_abort(&f);
		return -1;
	}
	return spool_commit(&f);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
spool_list(const char *dir, const char *sub, char ***names, size_t *n)
{
	char path[PATH_MAX];
	char **v = NULL, **nv;
	size_t len = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int e;

	if (mkpath(path, dir, sub, NULL) != 0)
		return -1;
	if ((d = opendir(path)) == NULL) {
		log_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (errno = 0, (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (len == cap) {
			cap = cap ? 2 * cap : 64;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				goto fail;
			v = nv;
		}
		if ((v[len] = strdup(de->d_name)) == NULL)
			goto fail;
		len++;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	if (len > 0)
		qsort(v, len, sizeof *v, cmp_names);
	*names = v;
	*n = len;
	return 0;
fail:
	e = errno;
	log_err("cannot list %s: %s", path, strerror(e));
	closedir(d);
	spool_list_free(v, len);
	errno = e;
	return -1;
}

void
spool_list_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Renames DIR/FROM/NAME to DIR/TO/TONAME and makes it durable. */
static int
move_as(const char *dir, const char *from, const char *name, const char *to,
    const char *toname)
{
	char src[PATH_MAX], dst[PATH_MAX];

	if (check_name(name) != 0 || mkpath(src, dir, from, name) != 0 ||
	    mkpath(dst, dir, to, toname) != 0)
		return -1;
	if (f_rename(src, dst) != 0) {
		log_err(
		    "cannot rename %s to %s: %s", src, dst, strerror(errno));
		return -1;
	}
	return sync_dir_of(dst);
}

int
spool_move(const char *dir, const char *from, const char *to, const char *name)
{
	return move_as(dir, from, name, to, name);
}

/* 1 when DIR/SUB/NAME exists, 0 when not, -1 on error. */
static int
exists(const char *dir, const char *sub, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (mkpath(path, dir, sub, name) != 0)
		return -1;
	if (lstat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	log_err("cannot stat %s: %s", path, strerror(errno));
	return -1;
}

int
spool_bad(
    const char *dir, const char *sub, const char *name, const char *reason)
{
	char bname[NAME_MAX + 1], rname[NAME_MAX + 1];
	struct spool_file f;
	unsigned i;
	int n, r;

	if (check_name(name) != 0)
		return -1;
	/* An item marked bad twice keeps both copies: NAME, NAME.1, ... */
	for (i = 0;; i++) {
		n = i == 0 ? snprintf(bname, sizeof bname, "%s", name)
		           : snprintf(bname, sizeof bname, "%s.%u", name, i);
		if (n < 0 || n >= (int)sizeof bname ||
		    snprintf(rname, sizeof rname, "%s.reason", bname) >=
		        (int)sizeof rname) {
			errno = ENAMETOOLONG;
			log_err("cannot use %s/bad/%s: %s", dir, name,
			    strerror(errno));
			return -1;
		}
		if ((r = exists(dir, "bad", bname)) == 0)
			r = exists(dir, "bad", rname);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
	}
	/* The reason first: an item in bad/ always has its reason. */
	if (open_in(&f, dir, "bad", rname) != 0)
		return -1;
	if (spool_write(&f, reason, strlen(reason)) != 0 ||
	    spool_write(&f, "\n", 1) != 0) {
		spool_abort(&f);
		return -1;
	}
	if (spool_commit(&f) != 0 || move_as(dir, sub, name, "bad", bname) != 0)
		return -1;
	log_warn("moved %s/%s/%s to %s/bad/%s: %s", dir, sub, name, dir, bname,
	    reason);
	return 0;
}

int
spool_free_ok(const char *dir, unsigned long long min_free)
{
	struct statvfs st;

	if (statvfs(dir, &st) != 0) {
		log_err("cannot statvfs %s: %s", dir, strerror(errno));
		return -1;
	}
	return (unsigned long long)st.f_bavail * st.f_frsize >= min_free;
}
