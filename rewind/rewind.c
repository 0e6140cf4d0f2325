/*
 * srdf-rewind — take the target back to an earlier consistency point by
 * undoing the kept wagons, newest first (--to), or undo the transactions
 * of an srdf-record(5) stream on a server (--records: srdf-failback's
 * lost transactions).
 *
 * Design rationale.  A wagon holds every row's before- and after-image,
 * so its group can be run backwards: reversed (reverse.c) and applied by
 * srdf-apply's own engine, in one transaction with the checkpoint moved
 * back, exactly as srdf-apply moves it forward.  A crash halfway then
 * leaves a state the source had, and the checkpoint says which; a second
 * run goes on from there.  Nothing is guessed: the undo of a row must
 * find the row exactly as the wagon left it, in every column (the
 * engine's exact mode), or it stops, naming the wagon, the table and the
 * key, and rolls that group back.  srdf-rewind holds srdf-apply's lock
 * on DIR and its named lock on the target, so the two never run at once.
 *
 * What it refuses to do (srdf-rewind(1), "Refusals"), before it changes
 * anything: undo a DDL, an XA transaction, a row change that set off a
 * cascade the binlog does not hold, a system-versioned table's rows,
 * srdf-bootstrap's copy; go back past the kept wagons or forward past
 * the checkpoint; cut a group that cannot be split.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "opt.h"
#include "rewind.h"
#include "xalloc.h"

/* The loop files of srdf-apply linked in with its engine read it. */
volatile sig_atomic_t stopping;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-rewind [-v] [--dir dir] --key-file file "
	    "[--defaults-file file]\n"
	    "                   [--defaults-group group] --to gtid|time "
	    "[--batch n]\n"
	    "                   [--merge-bytes size] [--dry-run]\n"
	    "       srdf-rewind [-v] --records file --defaults-file file "
	    "[--defaults-group group]\n"
	    "                   [--batch n] [--dry-run]\n"
	    "       srdf-rewind --help | --version\n");
}

static void
parse_options(struct rwconf *cf, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"batch", required_argument, NULL, 'b'},
	    {"defaults-file", required_argument, NULL, 'F'},
	    {"defaults-group", required_argument, NULL, 'G'},
	    {"dir", required_argument, NULL, 'd'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {"key-file", required_argument, NULL, 'k'},
	    {"merge-bytes", required_argument, NULL, 'M'},
	    {"records", required_argument, NULL, 'R'},
	    {"to", required_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	cf->ap.group = REWIND_TOOL;
	/* The undo checks every row it removes: never a bulk REPLACE. */
	cf->ap.no_bulk_load = 1;
	cf->dir = getenv("SRDF_DIR") ? getenv("SRDF_DIR") : "/var/lib/srdf";
	cf->batch = 1000;
	cf->merge_bytes = 128ULL << 20; /* srdf-apply's --merge-bytes */
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			cf->batch = opt_count(optarg, "--batch", 1, 1000000);
			break;
		case 'F':
			cf->ap.defaults_file = optarg;
			break;
		case 'G':
			cf->ap.group = optarg;
			break;
		case 'd':
			cf->dir = optarg;
			break;
		case 'n':
			cf->dry_run = 1;
			break;
		case 'k':
			cf->key_file = optarg;
			break;
		case 'M':
			cf->merge_bytes =
			    opt_size(optarg, "--merge-bytes", 0, ULLONG_MAX);
			break;
		case 'R':
			cf->records = optarg;
			break;
		case 't':
			cf->to = optarg;
			break;
		case 'v':
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, REWIND_TOOL, usage);
		}
	}
	opt_no_operands(argc, usage);
	if ((cf->to != NULL) == (cf->records != NULL))
		die(EX_USAGE, "say what to undo: --to GTID|TIME (the kept "
		              "wagons of --dir) or --records FILE (a record "
		              "stream), one of the two");
	if (cf->records != NULL && cf->ap.defaults_file == NULL)
		die(EX_USAGE, "--records needs --defaults-file: the server "
		              "the transactions are undone on");
	if (cf->to != NULL && cf->key_file == NULL)
		die(EX_USAGE, "--key-file is required with --to: the key that "
		              "opens the wagons (srdf-keygen(1))");
	cf->ap.dir = cf->dir;
	cf->ap.dry_run = cf->dry_run;
	if (strlen(cf->dir) + sizeof "/inbox" > sizeof cf->ap.inbox)
		die(EX_USAGE, "--dir %s: path too long", cf->dir);
	snprintf(cf->ap.inbox, sizeof cf->ap.inbox, "%s/inbox", cf->dir);
}

int
main(int argc, char **argv)
{
	static struct rwconf cf;
	const char *hook;

	log_init(argv[0]);
	xalloc_big_buffers();
	parse_options(&cf, argc, argv);
	if ((hook = getenv("SRDF_REWIND_CRASH_AFTER_COMMIT")) != NULL &&
	    *hook != '\0')
		cf.crash_after = atoi(hook);
	return cf.records != NULL ? rewind_records(&cf) : rewind_wagons(&cf);
}
