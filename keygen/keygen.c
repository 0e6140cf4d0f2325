/*
 * srdf-keygen — make a new 256-bit pre-shared key and its key id.
 *
 * Design rationale.  A key is 32 random bytes from libsodium
 * (randombytes_buf, the kernel's getrandom); its id is the first 8 bytes
 * of BLAKE2b-256 of the key, derived rather than chosen so that one id
 * never names two keys (srdf-wagon(5) headers carry the id, srdf-recv
 * chooses the key by it).  The key file format is one line, written by
 * key_format and read by key_load (lib/key.c), so the two cannot drift.
 *
 * What it refuses to do: leave the key readable by others, even for a
 * moment.  With -o the file is created with O_EXCL and mode 0600 (never
 * over an existing key: losing a key loses every wagon sealed with it);
 * standard output that is a regular file group or others can read is
 * refused (the shell made it so, and someone may hold it open already),
 * any other regular file is fchmod()ed to 0600 before the key is
 * written.  The key goes to that one place: never to stderr,
 * a log line or argv.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fault.h"
#include "log.h"
#include "opt.h"
#include "wagon.h"

struct config {
	const char *out;    /* -o FILE, or NULL for stdout */
	const char *rotate; /* --rotate FILE: add a new newest key */
	const char *retire; /* --retire KEYID (of the file given last) */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: srdf-keygen [-o file]\n"
	           "       srdf-keygen --rotate file\n"
	           "       srdf-keygen --retire keyid file\n"
	           "       srdf-keygen --help | --version\n");
}

/* Writes line to fd, a fresh key file (path, or NULL for standard
 * output), and closes it.  Returns 0, or an exit status after logging
 * why and removing the file. */
static int
write_key(int fd, const char *path, const char *line)
{
	const char *name = path ? path : "standard output";
	struct stat st;
	int e;

	if (fstat(fd, &st) != 0) {
		log_err("cannot stat %s: %s", name, strerror(errno));
		return EX_IOERR;
	}
	/* A file the shell made for "srdf-keygen >file" under umask 022
	 * was readable by others from its creation on: one of them may
	 * hold it open already, and fchmod cannot take that back. */
	if (path == NULL && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
		log_err(
		    "standard output is a file group or others can read "
		    "(mode %04o), which one of them may have opened already: "
		    "the key is not written there; use srdf-keygen -o FILE "
		    "(or umask 077 first)",
		    (unsigned)(st.st_mode & 07777));
		return EX_CANTCREAT;
	}
	/* Before the first byte: a file that others can read must not
	 * hold the key even for a moment. */
	if (S_ISREG(st.st_mode) && fchmod(fd, 0600) != 0) {
		log_err("cannot make %s mode 0600: %s", name, strerror(errno));
		return EX_CANTCREAT;
	}
	if (write_all(fd, line, KEY_LINE_LEN) != 0 ||
	    (S_ISREG(st.st_mode) && f_fsync(fd) != 0) || close(fd) != 0) {
		e = errno;
		if (path != NULL)
			unlink(path);
		log_err("cannot write the key to %s: %s", name, strerror(e));
		return EX_IOERR;
	}
	return 0;
}

/*
 * The key ring of a key file (srdf-keygen(1) ROTATION): --rotate adds a
 * new key as the newest (last line), --retire takes one out.  The file
 * is replaced whole, the way a spool file is written: FILE.new (O_EXCL,
 * mode 0600, the old file's owner and group), fsync, rename over FILE,
 * fsync of the directory; a crash leaves the old ring or the new one,
 * never half of one.  The keys go from key_load's memory to a wiped
 * buffer to the file, never elsewhere.
 */

/* The ring's lines, oldest first, into buf (KEY_RING_MAX + 1 lines);
 * without the key whose id is skip (NULL: none); their bytes. */
static size_t
ring_lines(const struct srdf_key *ring, const uint8_t *skip, char *buf)
{
	const struct srdf_key *k[KEY_RING_MAX];
	size_t n = 0, len = 0;

	for (; ring != NULL && n < KEY_RING_MAX; ring = ring->older)
		k[n++] = ring;
	while (n-- > 0)
		if (skip == NULL || memcmp(k[n]->id, skip, 8) != 0) {
			key_format(k[n], buf + len);
			len += KEY_LINE_LEN;
		}
	return len;
}

/* Replaces path (whose stat is st) by the len bytes of buf; 0, or -1
 * with the reason in err. */
static int
replace_file(const char *path, const struct stat *st, const char *buf,
    size_t len, char *err, size_t errlen)
{
	char tmp[4096], dir[4096], *slash;
	int fd, dfd, e;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.new", path) >= sizeof tmp) {
		snprintf(err, errlen, "%s: name too long", path);
		return -1;
	}
	fd = f_open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s%s", tmp,
		    strerror(errno),
		    errno == EEXIST
		        ? " (left by an "
		          "interrupted srdf-keygen? check it and remove it)"
		        : "");
		return -1;
	}
	if ((fchown(fd, st->st_uid, st->st_gid) != 0 && errno != EPERM) ||
	    write_all(fd, buf, len) != 0 || f_fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(e));
		return -1;
	}
	if (close(fd) != 0 || f_rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		snprintf(
		    err, errlen, "cannot replace %s: %s", path, strerror(e));
		return -1;
	}
	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir] = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		f_fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* --rotate and --retire: the exit status; the reason said on error. */
static int
run_ring(const struct config *cf)
{
	char buf[(KEY_RING_MAX + 1) * KEY_LINE_LEN + 1], err[8400], id[17];
	char ids[KEY_RING_MAX * 18];
	const char *path = cf->rotate;
	struct srdf_key *ring, *key = NULL;
	uint8_t skip[8];
	struct stat st;
	size_t len;
	int rc = EX_DATAERR;

	if ((ring = key_load(path, err, sizeof err)) == NULL) {
		log_err("%s", err);
		return EX_DATAERR;
	}
	if (stat(path, &st) != 0) {
		log_err("cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (cf->retire != NULL) {
		if (strlen(cf->retire) != 16 ||
		    sodium_hex2bin(skip, 8, cf->retire, 16, NULL, NULL, NULL) !=
		        0 ||
		    key_find(ring, skip) == NULL) {
			key_ring_ids(ring, ids, sizeof ids);
			log_err("%s holds no key id %s (it holds %s)", path,
			    cf->retire, ids);
			goto out;
		}
		if (memcmp(ring->id, skip, 8) == 0) {
			log_err("key id %s is the newest key of %s: it seals "
			        "and signs; add a newer one first (--rotate)",
			    cf->retire, path);
			goto out;
		}
		len = ring_lines(ring, skip, buf);
	} else {
		if (ring_lines(ring, NULL, buf) >=
		    KEY_RING_MAX * KEY_LINE_LEN) {
			log_err(
			    "%s holds %d keys already: retire the oldest "
			    "first (--retire KEYID, once srdf-status says no "
			    "wagon or ACK uses it)",
			    path, KEY_RING_MAX);
			goto out;
		}
		if ((key = key_new()) == NULL) {
			rc = EX_OSERR;
			log_err("libsodium cannot start");
			goto out;
		}
		len = ring_lines(ring, NULL, buf);
		key_format(key, buf + len);
		len += KEY_LINE_LEN;
		key_id_hex(key->id, id);
	}
	if (replace_file(path, &st, buf, len, err, sizeof err) != 0) {
		log_err("%s", err);
		rc = EX_IOERR;
		goto out;
	}
	if (cf->retire != NULL)
		log_info("retired key id %s from %s", cf->retire, path);
	else
		log_info("added key id %s to %s as the newest key", id, path);
	rc = 0;
out:
	sodium_memzero(buf, sizeof buf);
	key_free(key);
	key_free(ring);
	return rc;
}

/* Creates -o FILE (never over an existing one): its descriptor, or -1
 * after logging why. */
static int
create_out(const char *path)
{
	int fd = f_open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 && errno == EEXIST)
		log_err(
		    "%s exists: srdf-keygen never overwrites a key file", path);
	else if (fd < 0)
		log_err("cannot create %s: %s", path, strerror(errno));
	return fd;
}

/* Makes a key and writes its line: 0, or an exit status after logging
 * why. */
static int
run(const struct config *cf)
{
	struct srdf_key *key;
	char line[KEY_LINE_LEN + 1], id[17];
	int fd = STDOUT_FILENO, rc;

	if (cf->out != NULL && (fd = create_out(cf->out)) < 0)
		return EX_CANTCREAT;
	if ((key = key_new()) == NULL) {
		if (cf->out != NULL)
			unlink(cf->out);
		log_err("libsodium cannot start");
		return EX_OSERR;
	}
	key_format(key, line);
	key_id_hex(key->id, id);
	key_free(key);
	rc = write_key(fd, cf->out, line);
	sodium_memzero(line, sizeof line);
	if (rc == 0 && cf->out != NULL)
		log_info("wrote key id %s to %s", id, cf->out);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"output", required_argument, NULL, 'o'},
	    {"retire", required_argument, NULL, 'R'},
	    {"rotate", no_argument, NULL, 'r'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct config cf = {0};
	int ch, rotate = 0;

	log_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			cf.out = optarg;
			break;
		case 'r':
			rotate = 1;
			break;
		case 'R':
			cf.retire = optarg;
			break;
		default:
			opt_std(ch, "srdf-keygen", usage);
		}
	}
	if (rotate || cf.retire != NULL) {
		if (rotate + (cf.retire != NULL) + (cf.out != NULL) != 1 ||
		    argc - optind != 1) {
			usage(stderr);
			return EX_USAGE;
		}
		cf.rotate = argv[optind];
		return run_ring(&cf);
	}
	opt_no_operands(argc, usage);
	return run(&cf);
}
