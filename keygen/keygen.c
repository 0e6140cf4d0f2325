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
	const char *out; /* -o FILE, or NULL for stdout */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: srdf-keygen [-o file]\n"
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
		log_err("standard output is a file group or others can read "
		    "(mode %04o), which one of them may have opened already: "
		    "the key is not written there; use srdf-keygen -o FILE "
		    "(or umask 077 first)", (unsigned)(st.st_mode & 07777));
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

/* Creates -o FILE (never over an existing one): its descriptor, or -1
 * after logging why. */
static int
create_out(const char *path)
{
	int fd = f_open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);

	if (fd < 0 && errno == EEXIST)
		log_err("%s exists: srdf-keygen never overwrites a key file",
		    path);
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
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct config cf = {0};
	int ch;

	log_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			cf.out = optarg;
			break;
		default:
			opt_std(ch, "srdf-keygen", usage);
		}
	}
	opt_no_operands(argc, usage);
	return run(&cf);
}
