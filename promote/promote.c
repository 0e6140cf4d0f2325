/*
 * srdf-promote — make the target the new primary: apply what the inbox
 * holds in sequence, say exactly what the target has and what it lacks
 * (the recovery point), set it writable, and make sure srdf-apply never
 * applies another wagon to it.
 *
 * Design rationale.  A failover is the one moment an operator must not
 * have to guess, so promote decides nothing silently.  It applies by
 * running srdf-apply --once (the same binary, found beside this one):
 * there is one apply engine, and the checkpoint row srdf.applied stays
 * the one authority on what committed (srdf(7) "Exactly once").  It then
 * reads the recovery point from that row, its source commit time from the wagon
 * itself (last_ts of its group_end), and what lies beyond it: wagons
 * received but not applied (a gap, a failed or dead wagon, an incomplete
 * group) and, with --source-dir, what the source had sealed.
 *
 * The order of the steps is the safety argument:
 *	1. the srdf-apply lock (DIR/lock/srdf-apply) must be free: a
 *	   running daemon would race the promotion, so promote refuses and
 *	   asks for it to be stopped; --force does not change that;
 *	2. srdf-apply --once applies the contiguous wagons; promote lets go
 *	   of the lock for it and takes it back after, and every fact below
 *	   is read after that, so a daemon started meanwhile is either
 *	   caught by the lock or already reflected in the checkpoint;
 *	3. a gap or a failed wagon before received ones refuses (unless
 *	   --force): the operator may be able to fill it;
 *	4. "promoted" goes into the ledger before the target is writable,
 *	   so no instant exists where the target takes writes and
 *	   srdf-apply would still apply; a crash between 4 and 5 is
 *	   finished by running srdf-promote again (it resumes at step 5);
 *	5. SET GLOBAL read_only=OFF (and super_read_only, where the server
 *	   has it): the RTO ends here; then the events srdf-apply created
 *	   DISABLE ON SLAVE are enabled, now that this is the primary, and
 *	   the triggers it guarded are created again as the source wrote
 *	   them (a guarded trigger fires for every session but
 *	   srdf-apply's, which no longer runs, so neither waits for the
 *	   other);
 *	6. the audit record, then the operator's hook; a failing hook is
 *	   reported and the promotion stands.
 *
 * What it refuses to do: promote while srdf-apply runs; skip a wagon
 * (srdf-apply --skip is the operator's tool for that); promote past a
 * gap or a failed wagon without --force; undo a promotion.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "applied.h"
#include "audit.h"
#include "buf.h"
#include "clock.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "maria.h"
#include "opt.h"
#include "spool.h"
#include "sql.h"
#include "sqltext.h"
#include "trigger.h"
#include "wagon.h"
#include "xalloc.h"

#define TOOL "srdf-promote"
#define APPLY "srdf-apply"

struct config {
	const char *dir;
	const char *key_file;
	const char *defaults_file;
	const char *group;
	const char *source_dir;
	const char *hook;
	int force, dry_run, verbose;
	struct srdf_key *key;
	char inbox[PATH_MAX - 64];
	char apply_bin[PATH_MAX];
};

/* What the target holds, and what lies beyond it. */
struct state {
	char src[33];   /* source id, "" when the ledger has none */
	char *promoted; /* the ledger's "promoted" time, or NULL */
	/* srdf.applied */
	int has_row;
	uint64_t seq;
	char *gtid;
	char *gtid_pos;               /* the source's position after it */
	double applied_at, commit_ts; /* Unix s; < 0 unknown */
	/* The target's own binlog at the promotion: where its changes as
	 * the primary begin (srdf-failback(1)); NULL without log_bin. */
	char *binlog_pos;
	/* inbox/new above the checkpoint */
	uint64_t nnew, lo, hi;   /* count, lowest, highest */
	uint64_t run_end;        /* C+1..run_end present in sequence */
	uint64_t gap_lo, gap_hi; /* the first missing range, 0 none */
	uint64_t block_seq;      /* C+1 when it is failed, dead or stuck */
	char *block_state, *block_error;
	int incomplete;      /* C+1..run_end: a group without its end */
	uint64_t will_reach; /* dry run: where the apply step gets */
	char will_gtid[WAGON_GTID_LEN];
	/* the source ledger, with --source-dir */
	int src_read;
	uint64_t src_seq;
	char *src_gtid;
	double src_ts;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: srdf-promote [-v] [--dir dir] --key-file file "
	    "[--defaults-file file]\n"
	    "                    [--defaults-group group] [--source-dir dir] "
	    "[--hook command]\n"
	    "                    [--force] [--dry-run]\n"
	    "       srdf-promote --help | --version\n");
}

/* ---- the srdf-apply lock ------------------------------------------------ */

/* Takes DIR/lock/srdf-apply into *fd: 0, or an exit status (logged:
 * srdf-apply runs, 75, or the lock cannot be made). */
static int
apply_lock(const struct config *cf, const char *when, int *fd)
{
	if ((*fd = lock_dir(cf->dir, APPLY)) >= 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return log_fail(EX_TEMPFAIL,
		    "srdf-apply is running on %s%s (it "
		    "holds %s/lock/srdf-apply): stop it first (systemctl stop "
		    "srdf-apply), then run srdf-promote again; nothing was "
		    "promoted",
		    cf->dir, when, cf->dir);
	return log_fail(EX_CANTCREAT, "cannot lock %s/lock/srdf-apply: %s",
	    cf->dir, strerror(errno));
}

/* ---- the apply step ---------------------------------------------------- */

/* srdf-apply beside this program (/proc/self/exe), else from PATH. */
static void
find_apply(struct config *cf)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n > 0) {
		self[n] = '\0';
		snprintf(cf->apply_bin, sizeof cf->apply_bin, "%s/" APPLY,
		    dirname(self));
		if (access(cf->apply_bin, X_OK) == 0)
			return;
	}
	snprintf(cf->apply_bin, sizeof cf->apply_bin, APPLY);
}

/* Runs srdf-apply --once on DIR; returns its exit status, or -1 when it
 * could not run or died of a signal (logged). */
static int
run_apply(const struct config *cf)
{
	const char *argv[12];
	int n = 0, st;
	pid_t pid;

	argv[n++] = cf->apply_bin;
	argv[n++] = "--once";
	argv[n++] = "--dir";
	argv[n++] = cf->dir;
	argv[n++] = "--key-file";
	argv[n++] = cf->key_file;
	if (cf->defaults_file != NULL) {
		argv[n++] = "--defaults-file";
		argv[n++] = cf->defaults_file;
	}
	if (cf->verbose)
		argv[n++] = "-v";
	argv[n] = NULL;
	fflush(stdout);
	if ((pid = fork()) < 0) {
		log_err(
		    "cannot fork for %s: %s", cf->apply_bin, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execvp(cf->apply_bin, (char *const *)argv);
		log_err("cannot run %s: %s", cf->apply_bin, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			log_err("waitpid: %s", strerror(errno));
			return -1;
		}
	if (WIFSIGNALED(st)) {
		log_err("%s died of signal %d", cf->apply_bin, WTERMSIG(st));
		return -1;
	}
	return WEXITSTATUS(st);
}

/* ---- reading the state -------------------------------------------------- */

static int
open_ledger(const char *dir, unsigned flags, struct ledger **l)
{
	char path[PATH_MAX];
	struct stat sb;
	int rc;

	snprintf(path, sizeof path, "%s/ledger/data.mdb", dir);
	if (stat(path, &sb) != 0)
		return log_fail(EX_NOINPUT,
		    "%s: no ledger (%s: %s): not a state "
		    "directory of srdf",
		    dir, path, strerror(errno));
	if ((rc = ledger_open(dir, flags, l)) != 0)
		return log_fail(EX_NOINPUT, "cannot open the ledger of %s: %s",
		    dir, ledger_strerror(rc));
	return 0;
}

static int
meta(struct ledger_txn *t, const char *dir, const char *key, char **v)
{
	int rc;

	*v = NULL;
	if ((rc = ledger_meta_get(t, key, v)) != 0)
		return log_fail(EX_DATAERR, "%s: reading %s in the ledger: %s",
		    dir, key, ledger_strerror(rc));
	return 0;
}

/* The target ledger's source id and "promoted" mark. */
static int
read_marks(const struct config *cf, struct state *s)
{
	struct ledger *l;
	struct ledger_txn *t;
	char *v;
	int rc, ex;

	if ((ex = open_ledger(cf->dir, LEDGER_RDONLY, &l)) != 0)
		return ex;
	if ((rc = ledger_txn_begin(l, LEDGER_RDONLY, &t)) != 0) {
		ledger_close(l);
		return log_fail(EX_IOERR, "cannot read the ledger of %s: %s",
		    cf->dir, ledger_strerror(rc));
	}
	if ((ex = meta(t, cf->dir, "source_id", &v)) == 0 && v != NULL &&
	    strlen(v) == 32)
		memcpy(s->src, v, 33);
	free(v);
	free(s->promoted);
	free(s->binlog_pos);
	s->binlog_pos = NULL;
	if (ex == 0)
		ex = meta(t, cf->dir, "promoted", &s->promoted);
	if (ex == 0)
		ex = meta(t, cf->dir, "promoted_pos", &s->binlog_pos);
	ledger_txn_abort(t);
	ledger_close(l);
	return ex;
}

/* srdf.applied's row for the source: 0, or an exit status (logged). */
static int
read_checkpoint(MYSQL *my, struct state *s)
{
	struct applied_rows rows = {0};
	char err[400];
	unsigned e;

	if (applied_read(my, s->src, &rows, err, sizeof err) != 0) {
		e = mysql_errno(my);
		if (e == ER_NO_SUCH_TABLE || e == ER_BAD_DB_ERROR)
			return 0; /* nothing ever applied */
		log_err("reading srdf.applied on the target: %s", err);
		return maria_exit_for(e);
	}
	if (rows.n > 0) {
		s->has_row = 1;
		s->seq = rows.v[0].seq;
		s->gtid = xstrdup(rows.v[0].last_gtid);
		if (rows.v[0].gtid_pos != NULL && rows.v[0].gtid_pos[0])
			s->gtid_pos = xstrdup(rows.v[0].gtid_pos);
		s->applied_at = rows.v[0].applied_at;
	}
	applied_free(&rows);
	return 0;
}

/* XA transactions prepared on the source whose XA COMMIT the target
 * never received (srdf-apply(1), "XA transactions"): their rows are not
 * applied, as the source had not committed them when it was lost; the
 * operator is told which.  Nothing when there are none. */
static void
xa_pending(MYSQL *my, const struct state *s)
{
	struct buf q = {0};
	MYSQL_RES *r;
	MYSQL_ROW row;

	buf_lit(&q, "SELECT COUNT(*), GROUP_CONCAT(xid SEPARATOR ' ') FROM "
	            "srdf.xa_pending WHERE source_id='");
	maria_escape(&q, s->src);
	buf_lit(&q, "'");
	buf_putc(&q, '\0');
	if (mysql_query(my, q.p) != 0 || (r = mysql_store_result(my)) == NULL) {
		buf_free(&q);
		return; /* no table: no XA ever prepared */
	}
	buf_free(&q);
	if ((row = mysql_fetch_row(r)) != NULL && row[0] != NULL &&
	    strcmp(row[0], "0") != 0)
		log_warn(
		    "%s XA transaction(s) prepared on the source without "
		    "an XA COMMIT or ROLLBACK received: their rows are not "
		    "applied (srdf.xa_pending): %.300s",
		    row[0], row[1] ? row[1] : "");
	mysql_free_result(r);
}

/* Wagon seq's file, from inbox/cur or inbox/new, read whole into *p
 * (malloc'd, *len bytes).  0, or -1 when there is no readable file. */
static int
read_wagon(const struct config *cf, uint64_t seq, uint8_t **p, size_t *len)
{
	static const char *const subs[] = {"cur", "new"};
	char name[WAGON_NAME_LEN], path[PATH_MAX];
	struct stat sb;
	int fd = -1;

	*p = NULL;
	wagon_name(seq, name);
	for (size_t i = 0; i < 2 && fd < 0; i++) {
		snprintf(
		    path, sizeof path, "%s/%s/%s", cf->inbox, subs[i], name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size <= 0 ||
	    (*p = malloc((size_t)sb.st_size)) == NULL ||
	    read(fd, *p, (size_t)sb.st_size) != sb.st_size) {
		log_debug("wagon %" PRIu64 ": no readable file in %s", seq,
		    cf->inbox);
		if (fd >= 0)
			close(fd);
		free(*p);
		*p = NULL;
		return -1;
	}
	close(fd);
	*len = (size_t)sb.st_size;
	return 0;
}

/* The source commit time of wagon seq: last_ts of the group_end that
 * ends its payload (srdf-dedup(1)), or -1 when the wagon is gone or has
 * none. */
static double
commit_ts(const struct config *cf, uint64_t seq)
{
	char err[512], *rec = NULL, *last;
	struct wagon_header h;
	uint8_t *p;
	size_t len, rlen, opened = 0;
	double ts = -1;
	json_t *j;

	if (read_wagon(cf, seq, &p, &len) != 0)
		return -1;
	if (wagon_open(p, len, cf->key, &h, &rec, &rlen, err, sizeof err) !=
	    0) {
		log_warn("wagon %" PRIu64 ": %s: its commit time is unknown",
		    seq, err);
		goto out;
	}
	opened = rlen;
	while (rlen > 0 && rec[rlen - 1] == '\n')
		rec[--rlen] = '\0';
	last = strrchr(rec, '\n');
	last = last ? last + 1 : rec;
	if ((j = json_loads(last, 0, NULL)) != NULL) {
		json_t *v = json_object_get(j, "last_ts");

		if (json_is_number(v))
			ts = json_number_value(v);
		json_decref(j);
	}
out:
	free(p);
	wagon_records_free(rec, opened);
	return ts;
}

/* Whether wagon seq ends its group (its header's last-chunk flag), and
 * its last GTID: 1, 0 for an earlier chunk, -1 when unreadable. */
static int
ends_group(const struct config *cf, uint64_t seq, char gtid[WAGON_GTID_LEN])
{
	struct wagon_header h;
	char err[512];
	uint8_t *p;
	size_t len;
	int rc;

	if (read_wagon(cf, seq, &p, &len) != 0)
		return -1;
	rc = wagon_peek(p, len, &h, err, sizeof err);
	free(p);
	if (rc != 0)
		return -1;
	snprintf(gtid, WAGON_GTID_LEN, "%s", h.last_gtid);
	return (h.flags & WAGON_F_LAST_CHUNK) != 0;
}

/* inbox/new above the checkpoint, against the target ledger: the run of
 * wagons in sequence after it, the first gap, the wagon that blocks. */
static int
scan_inbox(const struct config *cf, struct state *s)
{
	struct ledger *l;
	struct ledger_txn *t;
	char **names;
	size_t n;
	json_t *w = NULL;
	uint64_t next;
	int rc;

	if (spool_list(cf->inbox, "new", &names, &n) != 0)
		return log_fail(EX_IOERR, "cannot read %s/new", cf->inbox);
	next = s->seq + 1;
	s->run_end = s->seq;
	for (size_t i = 0; i < n; i++) {
		uint64_t q = wagon_name_seq(names[i]);

		if (q == 0 || q <= s->seq)
			continue;
		if (s->nnew++ == 0)
			s->lo = q;
		s->hi = q;
		if (q == next && s->gap_lo == 0)
			s->run_end = next++;
		else if (q > next && s->gap_lo == 0) {
			s->gap_lo = next;
			s->gap_hi = q - 1;
		}
	}
	spool_list_free(names, n);

	if ((rc = open_ledger(cf->dir, LEDGER_RDONLY, &l)) != 0)
		return rc;
	if ((rc = ledger_txn_begin(l, LEDGER_RDONLY, &t)) != 0) {
		ledger_close(l);
		return log_fail(EX_IOERR, "cannot read the ledger of %s: %s",
		    cf->dir, ledger_strerror(rc));
	}
	/* The first wagon after the checkpoint, when it is here. */
	if (s->run_end > s->seq && ledger_wagon_get(t, s->seq + 1, &w) == 0 &&
	    w != NULL) {
		const char *st = json_string_value(json_object_get(w, "state"));
		const char *e =
		    json_string_value(json_object_get(w, "last_error"));

		if (st != NULL &&
		    (strcmp(st, "failed") == 0 || strcmp(st, "dead") == 0)) {
			s->block_seq = s->seq + 1;
			s->block_state = xstrdup(st);
			s->block_error = e ? xstrdup(e) : NULL;
		}
		json_decref(w);
		w = NULL;
	}
	/* The last of the run: a group's end, or chunks waiting for it. */
	s->will_reach = s->seq;
	snprintf(
	    s->will_gtid, sizeof s->will_gtid, "%s", s->gtid ? s->gtid : "");
	for (uint64_t q = s->seq + 1; q <= s->run_end && q > s->seq; q++) {
		char g[WAGON_GTID_LEN] = "";

		if (ends_group(cf, q, g) != 0) { /* or unreadable: apply says */
			s->will_reach = q;
			snprintf(s->will_gtid, sizeof s->will_gtid, "%s", g);
		}
	}
	s->incomplete = s->run_end > s->will_reach;
	ledger_txn_abort(t);
	ledger_close(l);
	return 0;
}

/* What the source had sealed, from its ledger (a drill on one host, or
 * a copy of the source's directory). */
static int
read_source(const struct config *cf, struct state *s)
{
	struct ledger *l;
	struct ledger_txn *t;
	json_t *w = NULL;
	char *v;
	int rc, ex;

	if ((rc = open_ledger(cf->source_dir, LEDGER_RDONLY, &l)) != 0)
		return rc;
	if ((rc = ledger_txn_begin(l, LEDGER_RDONLY, &t)) != 0) {
		ledger_close(l);
		return log_fail(EX_IOERR, "cannot read the ledger of %s: %s",
		    cf->source_dir, ledger_strerror(rc));
	}
	if ((ex = meta(t, cf->source_dir, "source_id", &v)) == 0 &&
	    (rc = ledger_wagon_last_seq(t, &s->src_seq)) != 0)
		ex = log_fail(EX_DATAERR, "%s: reading the wagons: %s",
		    cf->source_dir, ledger_strerror(rc));
	if (ex != 0) {
		free(v);
		ledger_txn_abort(t);
		ledger_close(l);
		return ex;
	}
	if (v != NULL && s->src[0] != '\0' && strcmp(v, s->src) != 0)
		log_warn("--source-dir %s holds source %s, the target applies "
		         "source %s: its figures are not this target's",
		    cf->source_dir, v, s->src);
	free(v);
	s->src_ts = -1;
	if (s->src_seq > 0 && ledger_wagon_get(t, s->src_seq, &w) == 0 &&
	    w != NULL) {
		const char *g =
		    json_string_value(json_object_get(w, "last_gtid"));
		json_t *ts = json_object_get(w, "last_ts");

		s->src_gtid = g ? xstrdup(g) : NULL;
		s->src_ts = json_is_number(ts) ? json_number_value(ts) : -1;
		json_decref(w);
	}
	s->src_read = 1;
	ledger_txn_abort(t);
	ledger_close(l);
	return 0;
}

/* ---- the report --------------------------------------------------------- */

static void
report(const struct config *cf, const struct state *s, double now)
{
	char b[64], c[64];

	if (!s->has_row || s->seq == 0)
		printf("recovery point: none: the target has applied no wagon "
		       "of source %s\n",
		    s->src[0] ? s->src : "(unknown)");
	else {
		printf("recovery point: wagon %" PRIu64 ", GTID %s\n", s->seq,
		    s->gtid ? s->gtid : "(none)");
		if (s->commit_ts > 0)
			printf("source commit time: %s (%.0f s before now)\n",
			    clock_iso(s->commit_ts, 'T', b, sizeof b),
			    now - s->commit_ts);
		else
			printf("source commit time: unknown (wagon %" PRIu64
			       " is not in %s or has no last_ts)\n",
			    s->seq, cf->inbox);
		if (s->applied_at > 0)
			printf("applied at: %s\n",
			    clock_iso(s->applied_at, 'T', c, sizeof c));
	}
	if (s->nnew == 0)
		printf("beyond it in the inbox: nothing\n");
	else
		printf("beyond it in the inbox: %" PRIu64 " wagon%s received "
		       "and not applied, %" PRIu64 "..%" PRIu64 "\n",
		    s->nnew, s->nnew == 1 ? "" : "s", s->lo, s->hi);
	if (s->gap_lo == s->gap_hi && s->gap_lo != 0)
		printf("gap: wagon %" PRIu64 " missing\n", s->gap_lo);
	else if (s->gap_lo != 0)
		printf("gap: wagons %" PRIu64 "..%" PRIu64 " missing\n",
		    s->gap_lo, s->gap_hi);
	if (s->block_seq != 0)
		printf("%s: wagon %" PRIu64 ": %s\n", s->block_state,
		    s->block_seq,
		    s->block_error ? s->block_error
		                   : "no error "
		                     "recorded");
	if (s->incomplete)
		printf("incomplete group: wagons %" PRIu64 "..%" PRIu64 " are "
		       "chunks of a group whose last chunk was not received\n",
		    s->will_reach + 1, s->run_end);
	if (s->src_read) {
		if (s->src_seq <= s->seq)
			printf("source sealed: wagon %" PRIu64
			       ": nothing beyond "
			       "the recovery point\n",
			    s->src_seq);
		else {
			printf("source sealed: wagon %" PRIu64
			       ", GTID %s: %" PRIu64
			       " wagon%s beyond the recovery point",
			    s->src_seq, s->src_gtid ? s->src_gtid : "(none)",
			    s->src_seq - s->seq,
			    s->src_seq - s->seq == 1 ? "" : "s");
			if (s->src_ts > 0 && s->commit_ts > 0)
				printf(", %.0f s of source commits (to %s)",
				    s->src_ts - s->commit_ts,
				    clock_iso(s->src_ts, 'T', b, sizeof b));
			putchar('\n');
		}
	}
}

/* 0 when nothing blocks the promotion; else the exit status, after
 * saying what blocks and what to do. */
static int
blocked(const struct config *cf, const struct state *s)
{
	const char *f = cf->force ? "--force: promoting anyway" : NULL;
	int ex = 0;

	/* A dry run counts what its apply step would apply. */
	if (cf->dry_run ? s->will_reach == 0 : !s->has_row || s->seq == 0) {
		if (f == NULL)
			log_err("the target has applied no wagon of source %s: "
			        "promoting it would start from an empty copy; "
			        "bootstrap it first, or promote it anyway with "
			        "--force",
			    s->src[0] ? s->src : "(unknown)");
		ex = EX_DATAERR;
	}
	if (s->gap_lo != 0) {
		if (f == NULL)
			log_err(
			    "the inbox has a gap: wagon %" PRIu64 "%s is "
			    "missing while %" PRIu64 " was received; wait for "
			    "srdf-ship to deliver it (srdf-status on the "
			    "source), copy it from the source's outbox "
			    "(srdf-ship --to dir:%s/new), or promote without "
			    "it and every wagon after it with --force",
			    s->gap_lo,
			    s->gap_hi > s->gap_lo ? " (and more)" : "", s->hi,
			    cf->inbox);
		else
			log_warn("%s: the wagons from %" PRIu64 " on are given "
			         "up (a gap at %" PRIu64 ")",
			    f, s->seq + 1, s->gap_lo);
		ex = ex ? ex : EX_TEMPFAIL;
	}
	if (s->block_seq != 0 && !cf->dry_run) {
		if (f == NULL)
			log_err(
			    "wagon %" PRIu64 " is %s and blocks the apply: "
			    "%s; fix the cause and run srdf-promote again, skip "
			    "the wagon (srdf-apply --skip %" PRIu64 ": its "
			    "changes will be missing), or promote at wagon %" PRIu64
			    " with --force",
			    s->block_seq, s->block_state,
			    s->block_error ? s->block_error
			                   : "no error recorded",
			    s->block_seq, s->seq);
		else
			log_warn("%s: wagon %" PRIu64 " (%s) and every wagon "
			         "after it are given up",
			    f, s->block_seq, s->block_state);
		ex = EX_DATAERR;
	} else if (!cf->dry_run && s->run_end > s->seq && !s->incomplete) {
		if (f == NULL)
			log_err(
			    "wagon %" PRIu64 " is in the inbox but was not "
			    "applied (see srdf-apply's messages above); run "
			    "srdf-promote again, or promote at wagon %" PRIu64
			    " with --force",
			    s->seq + 1, s->seq);
		ex = EX_DATAERR;
	}
	return cf->force ? 0 : ex;
}

/* ---- the promotion ------------------------------------------------------ */

/* "promoted" (the time), "promoted_seq" and "promoted_gtid" in the
 * target ledger, one transaction: srdf-apply refuses from now on. */
static int
mark_promoted(const struct config *cf, const struct state *s, double now)
{
	struct ledger *l;
	struct ledger_txn *t = NULL;
	char at[64], seq[24];
	int rc;

	clock_iso(now, 'T', at, sizeof at);
	snprintf(seq, sizeof seq, "%" PRIu64, s->seq);
	if ((rc = open_ledger(cf->dir, 0, &l)) != 0)
		return rc;
	if ((rc = ledger_txn_begin(l, 0, &t)) != 0 ||
	    (rc = ledger_meta_put(t, "promoted", at)) != 0 ||
	    (rc = ledger_meta_put(t, "promoted_seq", seq)) != 0 ||
	    (s->gtid != NULL &&
	        (rc = ledger_meta_put(t, "promoted_gtid", s->gtid)) != 0) ||
	    (s->gtid_pos != NULL &&
	        (rc = ledger_meta_put(t, "promoted_gtid_pos", s->gtid_pos)) !=
	            0) ||
	    (s->binlog_pos != NULL && (rc = ledger_meta_put(t, "promoted_pos",
	                                   s->binlog_pos)) != 0) ||
	    (rc = ledger_txn_commit(t)) != 0) {
		if (t != NULL && rc != 0)
			ledger_txn_abort(t);
		ledger_close(l);
		return log_fail(EX_IOERR,
		    "cannot record the promotion in the "
		    "ledger of %s: %s; the target is still read-only",
		    cf->dir, ledger_strerror(rc));
	}
	ledger_close(l);
	return 0;
}

/* SHOW GLOBAL VARIABLES LIKE 'name': its value (malloc'd), or NULL
 * when the server has no such variable. */
static char *
global_var(MYSQL *my, const char *name, int *ex)
{
	char q[128];
	MYSQL_RES *r;
	MYSQL_ROW row;
	char *v = NULL;

	snprintf(q, sizeof q, "SHOW GLOBAL VARIABLES LIKE '%s'", name);
	if (mysql_query(my, q) != 0 || (r = mysql_store_result(my)) == NULL) {
		log_err("reading %s on the target: %s (error %u)", name,
		    mysql_error(my), mysql_errno(my));
		*ex = maria_exit_for(mysql_errno(my));
		return NULL;
	}
	if ((row = mysql_fetch_row(r)) != NULL && row[1] != NULL)
		v = xstrdup(row[1]);
	mysql_free_result(r);
	return v;
}

static int
is_on(const char *v)
{
	return v != NULL && (strcmp(v, "ON") == 0 || strcmp(v, "1") == 0);
}

/* read_only (and super_read_only, which MySQL has and MariaDB has
 * not) OFF; prints before and after.  0, or an exit status. */
static int
set_writable(MYSQL *my, int dry)
{
	static const char *const vars[] = {"super_read_only", "read_only"};
	char *before[2], *after, q[64];
	int ex = 0;

	for (int i = 0; i < 2; i++) {
		before[i] = global_var(my, vars[i], &ex);
		if (ex != 0)
			return ex;
	}
	for (int i = 0; i < 2; i++) {
		if (before[i] == NULL)
			continue;
		if (dry) {
			if (is_on(before[i]))
				printf(
				    "would run: SET GLOBAL %s=OFF (now ON)\n",
				    vars[i]);
			else
				printf("%s: OFF already\n", vars[i]);
			continue;
		}
		if (is_on(before[i])) {
			snprintf(q, sizeof q, "SET GLOBAL %s=OFF", vars[i]);
			if (mysql_query(my, q) != 0) {
				log_err(
				    "%s on the target: %s (error %u); the "
				    "promotion is recorded: run srdf-promote "
				    "again once this is fixed (the user needs "
				    "READ ONLY ADMIN, or SUPER before MariaDB "
				    "10.11)",
				    q, mysql_error(my), mysql_errno(my));
				ex = maria_exit_for(mysql_errno(my));
				break;
			}
		}
		after = global_var(my, vars[i], &ex);
		printf(
		    "%s: %s -> %s\n", vars[i], before[i], after ? after : "?");
		if (ex == 0 && is_on(after)) {
			log_err("%s is still ON on the target", vars[i]);
			ex = EX_UNAVAILABLE;
		}
		free(after);
		if (ex != 0)
			break;
	}
	free(before[0]);
	free(before[1]);
	return ex;
}

/* The events srdf-apply created DISABLE ON SLAVE (srdf-apply(1),
 * "Events"), enabled: ALTER EVENT ... ENABLE each, printed.  0, or an
 * exit status when one cannot be read or enabled (the others still
 * are). */
static int
enable_events(MYSQL *my, int dry)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	struct buf q = {0};
	char *sched;
	int ex = 0, n = 0;

	/* The server shows an account without EVENT no event at all,
	 * and no error either. */
	if (!maria_has_privilege(my, "EVENT")) {
		printf("events: not looked at: the account has no EVENT "
		       "privilege\n");
		log_warn(
		    "the account has no EVENT privilege: the events "
		    "srdf-apply created DISABLE ON SLAVE stay disabled; GRANT "
		    "EVENT and run srdf-promote again, or enable them by hand");
		return 0;
	}
	if (mysql_query(my, "SELECT EVENT_SCHEMA, EVENT_NAME FROM "
	                    "information_schema.EVENTS WHERE STATUS = "
	                    "'SLAVESIDE_DISABLED' ORDER BY 1, 2") != 0 ||
	    (r = mysql_store_result(my)) == NULL) {
		log_err("cannot list the target's events: %s (error %u)",
		    mysql_error(my), mysql_errno(my));
		return maria_exit_for(mysql_errno(my));
	}
	while ((row = mysql_fetch_row(r)) != NULL) {
		n++;
		if (dry) {
			printf("would enable: event %s.%s\n", row[0], row[1]);
			continue;
		}
		q.len = 0;
		buf_lit(&q, "ALTER EVENT ");
		sql_ident(&q, row[0]);
		buf_putc(&q, '.');
		sql_ident(&q, row[1]);
		buf_lit(&q, " ENABLE");
		if (mysql_real_query(my, q.p, q.len) == 0) {
			printf("event %s.%s: enabled\n", row[0], row[1]);
			continue;
		}
		printf("event %s.%s: not enabled: %s\n", row[0], row[1],
		    mysql_error(my));
		log_err("ALTER EVENT %s.%s ENABLE on the target: %s (error "
		        "%u); the promotion stands: enable it by hand, or run "
		        "srdf-promote again once this is fixed (the user needs "
		        "the EVENT privilege)",
		    row[0], row[1], mysql_error(my), mysql_errno(my));
		ex = maria_exit_for(mysql_errno(my));
	}
	mysql_free_result(r);
	buf_free(&q);
	if (n > 0 && (sched = global_var(my, "event_scheduler", &ex)) != NULL) {
		if (!is_on(sched))
			printf("event_scheduler: %s on the target: the events "
			       "run once it is ON\n",
			    sched);
		free(sched);
	}
	return ex;
}

/* One trigger of restore_triggers, printed. */
static void
restored(void *arg, const char *db, const char *name, const char *err)
{
	const int *dry = arg;

	if (*dry)
		printf("would restore: trigger %s.%s\n", db, name);
	else if (err == NULL)
		printf("trigger %s.%s: restored as the source wrote it\n", db,
		    name);
	else {
		printf("trigger %s.%s: not restored: %s\n", db, name, err);
		log_err(
		    "restoring trigger %s.%s on the target: %s; the "
		    "promotion stands: run srdf-promote again once this is "
		    "fixed (the user needs the TRIGGER privilege, and SET USER "
		    "for another definer)",
		    db, name, err);
	}
}

/* The triggers srdf-apply guarded (srdf-apply(1), "Triggers"), created
 * again as the source wrote them, in their place (lib/trigger.h): no
 * session of the new primary is told apart from another any more.
 * Either guard goes, srdf-apply's and that of its earlier builds.  0,
 * or an exit status when one cannot be restored (the others still are;
 * running srdf-promote again does the rest). */
static int
restore_triggers(MYSQL *my, int dry)
{
	static const char *const from[] = {
	    SQL_TRIGGER_GUARD, SQL_TRIGGER_GUARD_V1, NULL};
	int n;

	/* The server shows an account without TRIGGER no trigger, and no
	 * error either. */
	if (!maria_has_privilege(my, "TRIGGER")) {
		printf("triggers: not looked at: the account has no TRIGGER "
		       "privilege\n");
		log_warn(
		    "the account has no TRIGGER privilege: the triggers "
		    "srdf-apply guarded keep their guard; GRANT TRIGGER and "
		    "run srdf-promote again");
		return 0;
	}
	if ((n = trigger_rewrite(my, from, NULL, dry, restored, &dry)) < 0) {
		log_err("cannot restore the target's triggers: %s (error %u); "
		        "the promotion stands: run srdf-promote again",
		    mysql_error(my), mysql_errno(my));
		return maria_exit_for(mysql_errno(my));
	}
	return n > 0 ? EX_UNAVAILABLE : 0;
}

/* Runs the operator's hook with /bin/sh, its stdout on our stderr (our
 * stdout is the report), the recovery point in its environment.
 * Returns its exit status, 128 + N for a signal, -1 when it cannot run. */
static int
run_hook(const struct config *cf, const struct state *s, double rto)
{
	char seq[24], ts[64], r[32];
	pid_t pid;
	int st;

	snprintf(seq, sizeof seq, "%" PRIu64, s->seq);
	if (s->commit_ts > 0)
		clock_iso(s->commit_ts, 'T', ts, sizeof ts);
	else
		ts[0] = '\0';
	snprintf(r, sizeof r, "%.3f", rto);
	fflush(stdout);
	if ((pid = fork()) < 0) {
		log_err("cannot fork for the hook: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		setenv("SRDF_PROMOTE_SEQ", seq, 1);
		setenv("SRDF_PROMOTE_GTID", s->gtid ? s->gtid : "", 1);
		setenv("SRDF_PROMOTE_TIME", ts, 1);
		setenv("SRDF_PROMOTE_SOURCE_ID", s->src, 1);
		setenv("SRDF_PROMOTE_DIR", cf->dir, 1);
		setenv("SRDF_PROMOTE_RTO", r, 1);
		dup2(2, 1);
		execl("/bin/sh", "sh", "-c", cf->hook, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* The promotion's audit line (srdf-audit(5)): item "target", replica ->
 * promoted (promoted -> promoted when it finishes an earlier one), by
 * the operator, the recovery point and what was given up in detail. */
static void
audit_promotion(const struct config *cf, const struct state *s, double rto)
{
	char at[64] = "unknown", beyond[96] = "";

	if (s->commit_ts > 0)
		clock_iso(s->commit_ts, 'T', at, sizeof at);
	if (s->nnew > 0)
		snprintf(beyond, sizeof beyond,
		    ", %" PRIu64 " received wagon%s "
		    "not applied (%" PRIu64 "..%" PRIu64 ")",
		    s->nnew, s->nnew == 1 ? "" : "s", s->lo, s->hi);
	if (s->src[0] != '\0')
		audit_source(s->src);
	audit_event(AUDIT_OPERATOR, "target",
	    s->promoted != NULL ? "promoted" : "replica", "promoted",
	    "recovery point wagon %" PRIu64 ", GTID %s, source commit %s%s, "
	    "RTO %.3f s%s%s%s",
	    s->seq, s->gtid != NULL ? s->gtid : "none", at, beyond, rto,
	    cf->force ? ", forced" : "",
	    s->promoted != NULL ? ", finishing the promotion of " : "",
	    s->promoted != NULL ? s->promoted : "");
}

static void
state_free(struct state *s)
{
	free(s->promoted);
	free(s->gtid);
	free(s->gtid_pos);
	free(s->binlog_pos);
	free(s->block_state);
	free(s->block_error);
	free(s->src_gtid);
}

/* The locks: one srdf-promote (lock_dir_or_die exits when another
 * runs), and srdf-apply's, so that srdf-apply cannot run; the ledger's
 * marks read first.  0, or an exit status (logged). */
static int
take_locks(const struct config *cf, struct state *s, int *fd)
{
	int ex;

	if ((ex = read_marks(cf, s)) != 0)
		return ex;
	lock_dir_or_die(cf->dir, TOOL);
	return apply_lock(cf, "", fd);
}

/* srdf-apply --once over the inbox, unless the target was promoted
 * already or this is a dry run; *fd, srdf-apply's lock, is let go for
 * it and taken again.  0, or an exit status (logged). */
static int
apply_step(const struct config *cf, const struct state *s, int *fd)
{
	int rc, ex;

	if (cf->dry_run)
		printf("dry run: nothing is changed\n");
	if (s->promoted != NULL) {
		log_notice("%s was promoted at %s already: finishing that "
		           "promotion (no wagon is applied)",
		    cf->dir, s->promoted);
		return 0;
	}
	if (cf->dry_run) {
		printf("would run: %s --once --dir %s --key-file %s%s%s\n",
		    cf->apply_bin, cf->dir, cf->key_file,
		    cf->defaults_file ? " --defaults-file " : "",
		    cf->defaults_file ? cf->defaults_file : "");
		return 0;
	}
	close(*fd);
	log_info("applying the inbox: %s --once", cf->apply_bin);
	rc = run_apply(cf);
	if ((ex = apply_lock(cf,
	         " (it started while srdf-promote applied "
	         "the inbox)",
	         fd)) != 0)
		return ex;
	if (rc < 0 || (rc != 0 && rc != EX_DATAERR && rc != EX_TEMPFAIL)) {
		log_err("the apply step failed (%s exited %d): see its "
		        "messages above; nothing was promoted",
		    cf->apply_bin, rc);
		return rc == EX_NOPERM || rc == EX_UNAVAILABLE ||
		               rc == EX_CONFIG
		           ? rc
		           : EX_SOFTWARE;
	}
	return 0;
}

/* The facts, all read after the apply step, into *s; *my, the target,
 * is the caller's to close.  0, or an exit status (logged). */
static int
gather(const struct config *cf, struct state *s, MYSQL **my)
{
	int ex = 0;

	if ((*my = maria_connect(
	         cf->defaults_file, cf->group, "the target", 30, &ex)) == NULL)
		return ex;
	if (s->src[0] == '\0' && (ex = read_marks(cf, s)) != 0)
		return ex;
	if ((ex = read_checkpoint(*my, s)) != 0)
		return ex;
	xa_pending(*my, s);
	if ((ex = scan_inbox(cf, s)) != 0)
		return ex;
	s->commit_ts = s->seq > 0 ? commit_ts(cf, s->seq) : -1;
	if (cf->source_dir != NULL && (ex = read_source(cf, s)) != 0)
		return ex;
	return 0;
}

/* --dry-run, past the checks: what promoting would do. */
static int
dry_run_end(const struct config *cf, const struct state *s, MYSQL *my)
{
	int ex;

	if (s->promoted == NULL)
		printf("would record: promoted in the ledger of %s (then "
		       "srdf-apply refuses)\n",
		    cf->dir);
	ex = set_writable(my, 1);
	if (ex == 0)
		ex = enable_events(my, 1);
	if (ex == 0)
		ex = restore_triggers(my, 1);
	printf("would append: %s/audit.log\n", cf->dir);
	if (cf->hook != NULL)
		printf("would run the hook: %s\n", cf->hook);
	return ex;
}

/* The target's own binlog position, read while it is still read-only
 * and srdf-apply cannot run, into s->binlog_pos: the GTID position after
 * which its binlog holds the new primary's changes only, where
 * srdf-failback(1) starts the reverse replication.  NULL (a warning)
 * when the target has no binlog.  0, or an exit status (logged). */
static int
binlog_start(MYSQL *my, struct state *s)
{
	MYSQL_RES *r;
	MYSQL_ROW row;

	if (mysql_query(
	        my, "SELECT @@GLOBAL.log_bin, @@GLOBAL.gtid_binlog_pos") != 0 ||
	    (r = mysql_store_result(my)) == NULL) {
		log_err(
		    "reading @@gtid_binlog_pos on the target: %s (error %u); "
		    "nothing was promoted",
		    mysql_error(my), mysql_errno(my));
		return maria_exit_for(mysql_errno(my));
	}
	if ((row = mysql_fetch_row(r)) != NULL && row[0] != NULL &&
	    strcmp(row[0], "1") == 0)
		s->binlog_pos = xstrdup(row[1] ? row[1] : "");
	else
		log_warn("the target has no binary log (log_bin=OFF): it can "
		         "be promoted, but it cannot be the source of a "
		         "failback (srdf-failback(1)) until it runs with "
		         "log_bin and the settings srdf-capture(1) checks; "
		         "the old primary then needs srdf-bootstrap");
	mysql_free_result(r);
	return 0;
}

/* The lines a DBA carries to the old primary's host: where the new
 * primary's binlog starts, and the srdf-failback command line. */
static void
report_failback(const struct state *s)
{
	const char *r = s->gtid_pos != NULL ? s->gtid_pos : s->gtid;

	if (s->binlog_pos == NULL) {
		printf("new primary's binlog starts at: unknown (no binary "
		       "log at the promotion, or promoted by an srdf that did "
		       "not record it)\n");
		return;
	}
	printf("new primary's binlog starts at: %s\n",
	    s->binlog_pos[0] ? s->binlog_pos : "(empty)");
	if (r != NULL && s->binlog_pos[0])
		printf("failback: srdf-failback --recovery-point %s "
		       "--promoted-pos %s\n",
		    r, s->binlog_pos);
}

/* The promotion: recorded in the ledger, the target made writable, its
 * events and triggers enabled, the audit line, the hook.  *my is closed.
 * 0, or an exit status (logged). */
static int
promote_now(const struct config *cf, struct state *s, MYSQL **my, double now,
    long long t0)
{
	double rto;
	int ex, rc;

	audit_open(cf->dir);
	if (s->promoted == NULL && ((ex = binlog_start(*my, s)) != 0 ||
	                               (ex = mark_promoted(cf, s, now)) != 0))
		return ex;
	if ((ex = set_writable(*my, 0)) != 0)
		return ex;
	rto = (double)(clock_mono_ms() - t0) / 1000.0;
	ex = enable_events(*my, 0);
	rc = restore_triggers(*my, 0);
	if (ex == 0)
		ex = rc;
	mysql_close(*my);
	*my = NULL;
	audit_promotion(cf, s, rto);
	printf("promoted: %s is writable\n", cf->dir);
	report_failback(s);
	printf("RTO: %.3f s (from the start of srdf-promote to the target "
	       "writable)\n",
	    rto);
	if (cf->hook != NULL) {
		rc = run_hook(cf, s, rto);
		if (rc == 0)
			printf("hook: exited 0\n");
		else {
			printf("hook: exited %d (the promotion stands)\n", rc);
			log_err("the hook failed (exit %d): %s; the target is "
			        "promoted and writable all the same",
			    rc, cf->hook);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return log_fail(
		    EX_IOERR, "writing the report: %s", strerror(errno));
	return ex;
}

/* The steps of srdf-promote(1) after the locks, in order; returns the
 * exit status.  fd: srdf-apply's lock; t0: the start, CLOCK_MONOTONIC
 * ms, where the RTO begins. */
static int
run(const struct config *cf, struct state *s, int *fd, long long t0)
{
	MYSQL *my = NULL;
	double now;
	int ex;

	if ((ex = apply_step(cf, s, fd)) != 0 || (ex = gather(cf, s, &my)) != 0)
		goto out;
	now = clock_wall();
	if (cf->dry_run && s->promoted == NULL && s->will_reach > s->seq)
		printf("would apply: wagons %" PRIu64 "..%" PRIu64 " (recovery "
		       "point then wagon %" PRIu64
		       ", GTID %s, if they apply)\n",
		    s->seq + 1, s->will_reach, s->will_reach, s->will_gtid);
	report(cf, s, now);
	if (s->promoted == NULL && (ex = blocked(cf, s)) != 0) {
		if (cf->dry_run)
			printf("would refuse: exit %d\n", ex);
	} else if (cf->dry_run)
		ex = dry_run_end(cf, s, my);
	else
		ex = promote_now(cf, s, &my, now, t0);
out:
	if (my != NULL)
		mysql_close(my);
	return ex;
}

/* The options into *cf, the key loaded, srdf-apply found; exits on a
 * usage or configuration error, --help, --version. */
static void
parse_options(int argc, char **argv, struct config *cf)
{
	static const struct option opts[] = {
	    {"defaults-file", required_argument, NULL, 'F'},
	    {"defaults-group", required_argument, NULL, 'G'},
	    {"dir", required_argument, NULL, 'd'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"hook", required_argument, NULL, 'H'},
	    {"key-file", required_argument, NULL, 'k'},
	    {"source-dir", required_argument, NULL, 's'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	cf->group = TOOL;
	cf->dir = getenv("SRDF_DIR") ? getenv("SRDF_DIR") : "/var/lib/srdf";
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			cf->defaults_file = optarg;
			break;
		case 'G':
			cf->group = optarg;
			break;
		case 'd':
			cf->dir = optarg;
			break;
		case 'n':
			cf->dry_run = 1;
			break;
		case 'f':
			cf->force = 1;
			break;
		case 'H':
			cf->hook = optarg;
			break;
		case 'k':
			cf->key_file = optarg;
			break;
		case 's':
			cf->source_dir = optarg;
			break;
		case 'v':
			cf->verbose = 1;
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, "srdf-promote", usage);
		}
	}
	opt_no_operands(argc, usage);
	if (cf->key_file == NULL)
		die(EX_USAGE, "--key-file is required: the key that opens the "
		              "wagons (srdf-keygen(1))");
	if (strlen(cf->dir) + sizeof "/inbox" > sizeof cf->inbox)
		die(EX_USAGE, "--dir %s: path too long", cf->dir);
}

int
main(int argc, char **argv)
{
	static struct config cf;
	struct state s = {0};
	long long t0 = clock_mono_ms();
	char err[512];
	int rc, fd = -1;

	log_init(argv[0]);
	parse_options(argc, argv, &cf);
	snprintf(cf.inbox, sizeof cf.inbox, "%s/inbox", cf.dir);
	if ((cf.key = key_load(cf.key_file, err, sizeof err)) == NULL)
		die(EX_CONFIG, "%s", err);
	find_apply(&cf);
	if ((rc = take_locks(&cf, &s, &fd)) == 0)
		rc = run(&cf, &s, &fd, t0);
	if (fd >= 0)
		close(fd);
	state_free(&s);
	key_free(cf.key);
	return rc;
}
