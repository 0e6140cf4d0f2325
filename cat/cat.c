/*
 * srdf-cat — verify wagons and print their records or their headers.
 *
 * Design rationale.  The operator's and the tests' window into a wagon
 * (srdf-wagon(5)).  Every byte is verified by the same code that srdf-recv
 * and srdf-apply use (lib/wagon.c): with a key, wagon_open checks length,
 * checksum, header, key id, authentication and decompression before a
 * single record is printed; with --header alone, wagon_peek checks all but
 * the key's part.  The records come out exactly as srdf-seal read them,
 * group_begin and group_end included, so
 *	srdf-cat --key-file K W | srdf-seal --dir D2 --key-file K
 * seals them again, and jq(1) reads them as any pipe of the pipeline.
 *
 * What it refuses to do: print anything of a wagon that failed a check.
 * A bad wagon is one line on stderr, "srdf-cat: FILE: reason", and the
 * next operand is read; the exit status says that something was bad.
 * It never changes a spool: moving damaged wagons to bad/ is the business
 * of the tool that owns the spool.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "fault.h"
#include "file.h"
#include "log.h"
#include "opt.h"
#include "spool.h"
#include "wagon.h"
#include "xalloc.h"

struct config {
	const struct srdf_key *key; /* NULL: --header without --key-file */
	int header;
};

/* The worst outcome so far decides the exit status. */
struct status {
	int bad;      /* a wagon failed a check: 65 */
	int unopened; /* an operand could not be read: 66 */
	int ex;       /* standard output failed (74) or memory ran out
	               * (71): the run stops, with this status */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: srdf-cat --key-file file [--header] wagon|dir ...\n"
	           "       srdf-cat --header wagon|dir ...\n"
	           "       srdf-cat --help | --version\n");
}

/* Writes to standard output, unless an earlier write failed; a failure
 * is logged and ends the run with EX_IOERR (st->ex). */
static void
out(struct status *st, const void *p, size_t len)
{
	if (st->ex != 0)
		return;
	if (write_all(STDOUT_FILENO, p, len) != 0) {
		log_err("cannot write to standard output: %s", strerror(errno));
		st->ex = EX_IOERR;
	}
}

/* buf holds 2 n + 1 bytes. */
static char *
hex(const uint8_t *p, size_t n, char *buf)
{
	return sodium_bin2hex(buf, 2 * n + 1, p, n);
}

static void
print_header(const char *path, const struct wagon_header *h,
    const uint8_t *file, size_t len, int authenticated, struct status *st)
{
	char buf[2 * WAGON_SUM_LEN + 1], when[64]; /* the longest hex field */
	struct tm tm;
	time_t sec = (time_t)(h->created_us / 1000000);
	json_t *j = json_object();
	char *s;

	gmtime_r(&sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof when - strlen(when),
	    ".%06" PRIu64 "Z", h->created_us % 1000000);

	json_object_set_new(j, "file", json_string(path));
	json_object_set_new(j, "version", json_integer(h->version));
	json_object_set_new(j, "source_id",
	    json_string(hex(h->source_id, sizeof h->source_id, buf)));
	json_object_set_new(j, "seq", json_integer((json_int_t)h->seq));
	json_object_set_new(j, "chunk", json_integer(h->chunk));
	json_object_set_new(j, "chunks", json_integer(h->chunks));
	json_object_set_new(
	    j, "last", json_boolean(h->flags & WAGON_F_LAST_CHUNK));
	json_object_set_new(j, "ddl", json_boolean(h->flags & WAGON_F_DDL));
	json_object_set_new(
	    j, "bootstrap", json_boolean(h->flags & WAGON_F_BOOTSTRAP));
	json_object_set_new(j, "flags", json_integer(h->flags));
	json_object_set_new(j, "first_gtid", json_string(h->first_gtid));
	json_object_set_new(j, "last_gtid", json_string(h->last_gtid));
	json_object_set_new(
	    j, "events_in", json_integer((json_int_t)h->events_in));
	json_object_set_new(
	    j, "events_out", json_integer((json_int_t)h->events_out));
	json_object_set_new(j, "raw_len", json_integer((json_int_t)h->raw_len));
	json_object_set_new(
	    j, "comp_len", json_integer((json_int_t)h->comp_len));
	json_object_set_new(j, "wagon_bytes", json_integer((json_int_t)len));
	json_object_set_new(j, "codec",
	    json_string(h->codec == WAGON_CODEC_ZSTD ? "zstd" : "?"));
	json_object_set_new(j, "cipher",
	    json_string(h->cipher == WAGON_CIPHER_XCHACHA20POLY1305
	                    ? "xchacha20poly1305-ietf"
	                    : "?"));
	json_object_set_new(
	    j, "key_id", json_string(hex(h->key_id, sizeof h->key_id, buf)));
	json_object_set_new(
	    j, "nonce", json_string(hex(h->nonce, sizeof h->nonce, buf)));
	json_object_set_new(j, "created", json_string(when));
	json_object_set_new(
	    j, "created_us", json_integer((json_int_t)h->created_us));
	json_object_set_new(j, "sha256",
	    json_string(hex(file + len - WAGON_SUM_LEN, WAGON_SUM_LEN, buf)));
	json_object_set_new(j, "verified",
	    json_string(authenticated ? "authenticated" : "checksum"));
	if ((s = json_dumps(j, JSON_COMPACT)) == NULL) {
		log_err("out of memory");
		st->ex = EX_OSERR;
	} else {
		out(st, s, strlen(s));
		out(st, "\n", 1);
		free(s);
	}
	json_decref(j);
}

static void
cat_wagon(const struct config *cf, const char *path, struct status *st)
{
	struct wagon_header h;
	char err[256], *rec = NULL;
	enum file_step step;
	size_t len, rlen;
	uint8_t *file;
	int rc;

	if ((file = file_read(path, 0, SIZE_MAX, &len, &step)) == NULL) {
		log_err("%s: cannot read: %s", path, strerror(errno));
		st->unopened = 1;
		return;
	}
	if (cf->key != NULL)
		rc = wagon_open(
		    file, len, cf->key, &h, &rec, &rlen, err, sizeof err);
	else
		rc = wagon_peek(file, len, &h, err, sizeof err);
	if (rc != 0) {
		log_err("%s: %s", path, err);
		st->bad = 1;
	} else if (cf->header) {
		print_header(path, &h, file, len, cf->key != NULL, st);
	} else {
		out(st, rec, rlen);
	}
	if (rc == 0 && cf->key != NULL)
		wagon_records_free(rec, rlen);
	free(file);
}

static int
is_wagon_name(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return de->d_name[0] != '.' && n > 6 &&
	       strcmp(de->d_name + n - 6, ".wagon") == 0;
}

/* A spool (DIR/new holds its wagons) or a directory of *.wagon files,
 * in name order, which is sequence order. */
static void
cat_dir(const struct config *cf, const char *dir, struct status *st)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent **de;
	struct stat sb;
	char **names;
	size_t n, i;
	int k, j;

	if (snprintf(sub, sizeof sub, "%s/new", dir) < (int)sizeof sub &&
	    stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		if (spool_list(dir, "new", &names, &n) != 0) {
			st->unopened = 1;
			return;
		}
		for (i = 0; i < n && st->ex == 0; i++)
			if (snprintf(path, sizeof path, "%s/%s", sub,
			        names[i]) < (int)sizeof path)
				cat_wagon(cf, path, st);
		spool_list_free(names, n);
		return;
	}
	/* scandir sorts with strcoll: srdf-cat never calls setlocale, so
	 * that is strcmp order, as spool_list's. */
	if ((k = scandir(dir, &de, is_wagon_name, alphasort)) < 0) {
		log_err("%s: cannot list: %s", dir, strerror(errno));
		st->unopened = 1;
		return;
	}
	for (j = 0; j < k; j++) {
		if (st->ex == 0 && snprintf(path, sizeof path, "%s/%s", dir,
		                       de[j]->d_name) < (int)sizeof path)
			cat_wagon(cf, path, st);
		free(de[j]);
	}
	free(de);
}

static int
run(const struct config *cf, char **operands, int n)
{
	struct status st = {0};
	struct stat sb;
	int i;

	for (i = 0; i < n && st.ex == 0; i++) {
		if (stat(operands[i], &sb) != 0) {
			log_err("%s: cannot open: %s", operands[i],
			    strerror(errno));
			st.unopened = 1;
		} else if (S_ISDIR(sb.st_mode))
			cat_dir(cf, operands[i], &st);
		else
			cat_wagon(cf, operands[i], &st);
	}
	if (st.ex != 0)
		return st.ex;
	return st.unopened ? EX_NOINPUT : st.bad ? EX_DATAERR : 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"header", no_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {"key-file", required_argument, NULL, 'k'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct config cf = {0};
	const char *key_file = NULL;
	struct srdf_key *key = NULL;
	char err[512];
	int ch, rc;

	log_init(argv[0]);
	xalloc_big_buffers();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			cf.header = 1;
			break;
		case 'k':
			key_file = optarg;
			break;
		default:
			opt_std(ch, "srdf-cat", usage);
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (key_file == NULL && !cf.header)
		die(EX_USAGE, "no --key-file: the records are encrypted (the "
		              "headers are not: --header)");
	if (key_file != NULL) {
		if ((key = key_load(key_file, err, sizeof err)) == NULL)
			die(EX_CONFIG, "%s", err);
		cf.key = key;
	}
	rc = run(&cf, argv + optind, argc - optind);
	key_free(key);
	return rc;
}
