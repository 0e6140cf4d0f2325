/*
 * unit-lib.c — unit tests of lib/ (fault, lock, spool, ledger, opt) that
 * need no database; run by t/0001-lib-units.t in a scratch directory.
 *
 * Prints TAP.  SRDF_FAULT is read once per process, so each fault
 * scenario runs in a fresh copy of this program: "unit-lib CASE" runs one
 * case from the table below and exits 0 when the library behaved as
 * expected.  The TAP helpers live here, not in a tap.h: .gitignore keeps
 * only *.c in t/helpers/.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "fault.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "opt.h"
#include "spool.h"
#include "sqltext.h"

static int ntests, nfailed;

static void __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	if (!cond)
		nfailed++;
	printf("%sok %d - ", cond ? "" : "not ", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Runs "unit-lib CASE" with SRDF_FAULT=fault; returns its exit status. */
static int
run_case(const char *fault, const char *name)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		setenv("SRDF_FAULT", fault, 1);
		execl("/proc/self/exe", "unit-lib", name, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *
slurp(const char *path)
{
	static char buf[4096];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		return NULL;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* Runs opt_duration (kind 'd') or opt_size ('s') on s, lo..hi in a child
 * whose stderr goes to the file "opt.err"; returns its exit status, the
 * value (as a count) written to "opt.out" when it returns. */
static int
opt_child(int kind, const char *s, long long lo, long long hi)
{
	pid_t pid;
	int st, fd;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		fd = open("opt.err", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		if (kind == 'd')
			printf("%lld\n", opt_duration(s, "--grace", lo, hi));
		else
			printf("%llu\n",
			    opt_size(s, "--max-body", (unsigned long long)lo,
			        hi < 0 ? ULLONG_MAX : (unsigned long long)hi));
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The die() form the option parsers share: "bad OPT S (want ...)". */
static void
test_opt_die(void)
{
	static const struct {
		int kind;
		const char *s;
		long long lo, hi;
		const char *err; /* NULL: accepted */
	} c[] = {
	    {'d', "5x", 0, LLONG_MAX, "bad --grace 5x (want at least 0ms)"},
	    {'d', "500ms", 1000, LLONG_MAX,
	        "bad --grace 500ms (want at least 1s)"},
	    {'d', "8d", 1, 7LL * 86400000, "bad --grace 8d (want 1ms to 7d)"},
	    {'d', "3h", 60000, 7200000, "bad --grace 3h (want 1m to 2h)"},
	    {'d', "7d", 1, 7LL * 86400000, NULL},
	    {'s', "10", 1024, 2LL << 30, "bad --max-body 10 (want 1K to 2G)"},
	    {'s', "1X", 0, -1, "bad --max-body 1X (want at least 0)"},
	    {'s', "3M", 1536, 3 << 20, NULL},
	};
	const char *e;
	size_t i;
	int rc;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		rc = opt_child(c[i].kind, c[i].s, c[i].lo, c[i].hi);
		e = slurp("opt.err");
		if (c[i].err == NULL)
			ok(rc == 0 && e != NULL && *e == '\0',
			    "opt: %s accepted", c[i].s);
		else
			ok(rc == 64 && e != NULL && strstr(e, c[i].err) != NULL,
			    "opt: %s dies 64 with \"%s\"", c[i].s, c[i].err);
	}
}

/* Number of items in DIR/SUB, or -1. */
static long
count(const char *dir, const char *sub)
{
	char **v;
	size_t n;

	if (spool_list(dir, sub, &v, &n) != 0)
		return -1;
	spool_list_free(v, n);
	return (long)n;
}

static int
mode_is(const char *path, mode_t mode)
{
	struct stat st;

	return stat(path, &st) == 0 && (st.st_mode & 0777) == mode;
}

/* ---- child cases: exit status 0 means "as expected" ---- */

static int
case_fault_open(void)
{
	int fd1 = f_open("f.open", O_WRONLY | O_CREAT, 0600), e = errno;
	int fd2 = f_open("f.open", O_WRONLY | O_CREAT, 0600);

	return !(fd1 == -1 && e == EACCES && fd2 >= 0);
}

static int
case_fault_write(void)
{
	int fd = open("f.write", O_WRONLY | O_CREAT | O_TRUNC, 0600), e;
	ssize_t a, b, c;

	a = f_write(fd, "a", 1);
	b = f_write(fd, "b", 1);
	e = errno;
	c = f_write(fd, "c", 1);
	close(fd);
	return !(a == 1 && b == -1 && e == ENOSPC && c == 1 &&
	         strcmp(slurp("f.write"), "ac") == 0);
}

static int
case_fault_fsync(void)
{
	int fd = open("f.fsync", O_WRONLY | O_CREAT, 0600), r[4], e = 0, i;

	for (i = 0; i < 4; i++) {
		r[i] = f_fsync(fd);
		if (i == 2)
			e = errno;
	}
	close(fd);
	return !(r[0] == 0 && r[1] == 0 && r[2] == -1 && e == EIO && r[3] == 0);
}

static int
case_fault_rename(void)
{
	int fd = open("f.rename", O_WRONLY | O_CREAT, 0600), a, b, e;

	close(fd);
	a = f_rename("f.rename", "f.renamed");
	e = errno;
	b = f_rename("f.rename", "f.renamed");
	return !(
	    a == -1 && e == EIO && b == 0 && access("f.renamed", F_OK) == 0);
}

static int
case_fault_eintr(void)
{
	int fd = open("f.eintr", O_WRONLY | O_CREAT | O_TRUNC, 0600), r;

	r = write_all(fd, "hello", 5);
	close(fd);
	return !(r == 0 && strcmp(slurp("f.eintr"), "hello") == 0);
}

static int
case_fault_bad(void)
{
	f_fsync(-1);
	return 0; /* not reached: a bad SRDF_FAULT dies with EX_USAGE */
}

static int
case_lock_held(void)
{
	int fd = lock_dir("st", "srdf-test");

	return !(fd == -1 && errno == EWOULDBLOCK);
}

static int
case_lock_free(void)
{
	return !(lock_dir("st", "srdf-test") >= 0);
}

static int
case_lock_other(void)
{
	return !(lock_dir("st", "srdf-other") >= 0);
}

static int
case_lock_die(void)
{
	lock_dir_or_die("st", "srdf-test");
	return 0;
}

/* A put that meets the fault in SRDF_FAULT fails and leaves nothing in
 * tmp/ or new/; the spool directory is named after the case. */
static int
spool_fault(const char *dir)
{
	if (spool_init(dir) != 0)
		return 2;
	return !(spool_put(dir, "00000000000000000001.w", "data", 4) == -1 &&
	         count(dir, "new") == 0 && count(dir, "tmp") == 0);
}

static int
case_spool_fsync_file(void)
{
	return spool_fault("sp-fsync-file");
}

static int
case_spool_fsync_dir(void)
{
	return spool_fault("sp-fsync-dir");
}

static int
case_spool_rename(void)
{
	return spool_fault("sp-rename");
}

static int
case_spool_write(void)
{
	return spool_fault("sp-write");
}

static int
case_spool_open(void)
{
	return spool_fault("sp-open");
}

static const struct {
	const char *name;
	int (*fn)(void);
} cases[] = {
    {"fault-open", case_fault_open},
    {"fault-write", case_fault_write},
    {"fault-fsync", case_fault_fsync},
    {"fault-rename", case_fault_rename},
    {"fault-eintr", case_fault_eintr},
    {"fault-bad", case_fault_bad},
    {"lock-held", case_lock_held},
    {"lock-free", case_lock_free},
    {"lock-other", case_lock_other},
    {"lock-die", case_lock_die},
    {"sp-fsync-file", case_spool_fsync_file},
    {"sp-fsync-dir", case_spool_fsync_dir},
    {"sp-rename", case_spool_rename},
    {"sp-write", case_spool_write},
    {"sp-open", case_spool_open},
};

/* ---- tests run in this process ---- */

static void
test_fault(void)
{
	int fd = f_open("f.plain", O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ok(fd >= 0 && write_all(fd, "xyz", 3) == 0 && f_fsync(fd) == 0 &&
	        close(fd) == 0 && f_rename("f.plain", "f.plain2") == 0 &&
	        strcmp(slurp("f.plain2"), "xyz") == 0,
	    "fault: without SRDF_FAULT every call goes through");
	ok(run_case("open:1:EACCES", "fault-open") == 0,
	    "fault: open:1:EACCES fails the 1st open only");
	ok(run_case("write:2:ENOSPC", "fault-write") == 0,
	    "fault: write:2:ENOSPC fails the 2nd write only");
	ok(run_case("fsync:3", "fault-fsync") == 0,
	    "fault: fsync:3 fails the 3rd fsync with EIO");
	ok(run_case("rename:1", "fault-rename") == 0,
	    "fault: rename:1 fails the 1st rename");
	ok(run_case("write:1:EINTR", "fault-eintr") == 0,
	    "fault: write_all retries after EINTR");
	ok(run_case("fsync:9,rename:1", "fault-rename") == 0,
	    "fault: a list of specs is honoured");
	ok(run_case("fsync:0", "fault-bad") == EX_USAGE &&
	        run_case("fsync", "fault-bad") == EX_USAGE &&
	        run_case("sync:1", "fault-bad") == EX_USAGE &&
	        run_case("write:1:EWHAT", "fault-bad") == EX_USAGE,
	    "fault: a malformed SRDF_FAULT dies with EX_USAGE");
}

static void
test_lock(void)
{
	int fd;

	if (mkdir("st", 0700) != 0)
		perror("mkdir st");
	fd = lock_dir("st", "srdf-test");
	ok(fd >= 0 && mode_is("st/lock", 0700) &&
	        mode_is("st/lock/srdf-test", 0600),
	    "lock: DIR/lock/TOOL taken, modes 0700 and 0600");
	ok(run_case("", "lock-held") == 0,
	    "lock: a second process gets EWOULDBLOCK");
	ok(run_case("", "lock-die") == EX_TEMPFAIL,
	    "lock: lock_dir_or_die exits EX_TEMPFAIL when held");
	ok(run_case("", "lock-other") == 0,
	    "lock: another tool locks the same DIR");
	close(fd);
	ok(run_case("", "lock-free") == 0,
	    "lock: released when the holder closes it");
	ok(lock_dir("st", "a/b") == -1 && errno == EINVAL,
	    "lock: a tool name with '/' is refused");
}

static void
test_spool(void)
{
	struct spool_file f, g;
	char **v;
	size_t n;
	int fd;

	ok(spool_init("sp") == 0 && mode_is("sp", 0700) &&
	        mode_is("sp/tmp", 0700) && mode_is("sp/new", 0700) &&
	        mode_is("sp/cur", 0700) && mode_is("sp/bad", 0700),
	    "spool: init makes tmp new cur bad, mode 0700");
	fd = open("sp/tmp/litter", O_WRONLY | O_CREAT, 0600);
	close(fd);
	ok(spool_init("sp") == 0 && count("sp", "tmp") == 0,
	    "spool: init removes tmp/ litter");

	ok(spool_put("sp", "00000000000000000010.w", "ten", 3) == 0 &&
	        spool_put("sp", "00000000000000000002.w", "two", 3) == 0 &&
	        spool_put("sp", "00000000000000000009.w", "nine", 4) == 0,
	    "spool: put three items");
	ok(strcmp(slurp("sp/new/00000000000000000010.w"), "ten") == 0 &&
	        count("sp", "tmp") == 0,
	    "spool: put item complete in new/, tmp/ empty");
	ok(spool_list("sp", "new", &v, &n) == 0 && n == 3 &&
	        strcmp(v[0], "00000000000000000002.w") == 0 &&
	        strcmp(v[1], "00000000000000000009.w") == 0 &&
	        strcmp(v[2], "00000000000000000010.w") == 0,
	    "spool: list in name order");
	spool_list_free(v, n);
	ok(spool_put("sp", "00000000000000000002.w", "TWO", 3) == 0 &&
	        strcmp(slurp("sp/new/00000000000000000002.w"), "TWO") == 0,
	    "spool: put of a name in new/ replaces it");
	ok(spool_put("sp", "../x", "x", 1) == -1 && errno == EINVAL &&
	        spool_put("sp", ".x", "x", 1) == -1 &&
	        spool_put("sp", "", "x", 1) == -1,
	    "spool: bad names refused");

	ok(spool_move("sp", "new", "cur", "00000000000000000002.w") == 0 &&
	        count("sp", "new") == 2 &&
	        strcmp(slurp("sp/cur/00000000000000000002.w"), "TWO") == 0,
	    "spool: move new -> cur");
	ok(spool_move("sp", "new", "cur", "00000000000000000002.w") == -1 &&
	        errno == ENOENT,
	    "spool: a second claim of the same item fails with ENOENT");

	ok(spool_bad("sp", "cur", "00000000000000000002.w", "bad checksum") ==
	            0 &&
	        count("sp", "cur") == 0 &&
	        strcmp(slurp("sp/bad/00000000000000000002.w"), "TWO") == 0 &&
	        strcmp(slurp("sp/bad/00000000000000000002.w.reason"),
	            "bad checksum\n") == 0,
	    "spool: bad moves the item and writes NAME.reason");
	ok(spool_put("sp", "00000000000000000002.w", "2nd", 3) == 0 &&
	        spool_bad("sp", "new", "00000000000000000002.w", "again") ==
	            0 &&
	        strcmp(slurp("sp/bad/00000000000000000002.w"), "TWO") == 0 &&
	        strcmp(slurp("sp/bad/00000000000000000002.w.1"), "2nd") == 0 &&
	        strcmp(slurp("sp/bad/00000000000000000002.w.1.reason"),
	            "again\n") == 0,
	    "spool: a second bad copy of a name keeps the first");

	ok(spool_open(&f, "sp", "big") == 0 &&
	        spool_write(&f, "part1,", 6) == 0 &&
	        access("sp/new/big", F_OK) != 0 &&
	        spool_write(&f, "part2", 5) == 0 && spool_commit(&f) == 0 &&
	        strcmp(slurp("sp/new/big"), "part1,part2") == 0 &&
	        count("sp", "tmp") == 0,
	    "spool: streaming put appears in new/ only at commit");
	spool_abort(&f); /* after commit: does nothing */
	ok(spool_open(&f, "sp", "gone") == 0 && spool_write(&f, "x", 1) == 0 &&
	        (spool_abort(&f), 1) && access("sp/new/gone", F_OK) != 0 &&
	        count("sp", "tmp") == 0,
	    "spool: abort leaves nothing");
	ok(spool_open(&f, "sp", "twice") == 0 &&
	        spool_open(&g, "sp", "twice") == -1 && errno == EEXIST,
	    "spool: tmp/ file created with O_EXCL");
	spool_abort(&g);
	spool_abort(&f);

	ok(run_case("fsync:1", "sp-fsync-file") == 0,
	    "spool: failed file fsync leaves nothing in new/ or tmp/");
	ok(run_case("fsync:2", "sp-fsync-dir") == 0,
	    "spool: failed directory fsync leaves nothing in new/ or tmp/");
	ok(run_case("rename:1", "sp-rename") == 0,
	    "spool: failed rename leaves nothing in new/ or tmp/");
	ok(run_case("write:1:ENOSPC", "sp-write") == 0,
	    "spool: failed write leaves nothing in new/ or tmp/");
	ok(run_case("open:1:EMFILE", "sp-open") == 0,
	    "spool: failed open leaves nothing in new/ or tmp/");

	ok(spool_free_ok("sp", 0) == 1 && spool_free_ok("sp", ULLONG_MAX) == 0,
	    "spool: free_ok compares statvfs with the minimum");
	ok(spool_list("nowhere", "new", &v, &n) == -1 && errno == ENOENT,
	    "spool: list of a missing spool fails with ENOENT");
}

static json_t *
wagon(const char *state, const char *last_gtid)
{
	return json_pack("{s:s, s:i, s:s, s:f}", "state", state, "attempts", 0,
	    "last_gtid", last_gtid, "sealed_at", 1732200000.25);
}

static int
collect(uint64_t seq, json_t *w, void *arg)
{
	char *s = arg;
	size_t n = strlen(s);

	snprintf(s + n, 256 - n, "%llu,", (unsigned long long)seq);
	return strcmp(json_string_value(json_object_get(w, "state")), "dead") ==
	               0
	           ? 42
	           : 0;
}

/* Overwrites wagon 7 with bytes that are not JSON, through raw LMDB
 * (the ledger is closed: one environment per process). */
static int
corrupt_wagon7(void)
{
	unsigned char key[8] = {0, 0, 0, 0, 0, 0, 0, 7};
	MDB_val k = {sizeof key, key}, v = {3, "{x,"};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	return mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
	       mdb_env_set_mapsize(env, LEDGER_MAPSIZE) ||
	       mdb_env_open(env, "lg/ledger", 0, 0600) ||
	       mdb_txn_begin(env, NULL, 0, &txn) ||
	       mdb_dbi_open(txn, "wagons", 0, &dbi) ||
	       mdb_put(txn, dbi, &k, &v, 0) || mdb_txn_commit(txn) ||
	       (mdb_env_close(env), 0);
}

/* Puts meta "format" back to LEDGER_FORMAT with LMDB itself, since
 * ledger_open refuses the ledger as it is. */
static int
ledger_open_raw_format_reset(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = {6, "format"},
	        v = {sizeof LEDGER_FORMAT - 1, LEDGER_FORMAT};
	char path[256];
	int rc;

	snprintf(path, sizeof path, "%s/ledger", dir);
	if ((rc = mdb_env_create(&env)) != 0)
		return rc;
	mdb_env_set_maxdbs(env, 8);
	if ((rc = mdb_env_open(env, path, 0, 0600)) == 0 &&
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
		if ((rc = mdb_dbi_open(txn, "meta", 0, &meta)) == 0 &&
		    (rc = mdb_put(txn, meta, &k, &v, 0)) == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return rc;
}

static void
test_ledger(void)
{
	static const uint64_t seqs[] = {256, 1, 65536, 2, 7};
	struct ledger *l;
	struct ledger_txn *t;
	json_t *w, *a;
	char *val, order[256];
	uint64_t last;
	size_t i;
	int rc;

	ok(ledger_open("nowhere", LEDGER_RDONLY, &l) == ENOENT && l == NULL,
	    "ledger: read-only open of a missing ledger is ENOENT");
	if (mkdir("lg", 0700) != 0)
		perror("mkdir lg");
	rc = ledger_open("lg", 0, &l);
	ok(rc == 0 && mode_is("lg/ledger", 0700) &&
	        access("lg/ledger/data.mdb", F_OK) == 0,
	    "ledger: open creates DIR/ledger/ (%s)", ledger_strerror(rc));
	if (rc != 0)
		return;

	ok(ledger_txn_begin(l, LEDGER_RDONLY, &t) == 0 &&
	        ledger_meta_get(t, "format", &val) == 0 && val != NULL &&
	        strcmp(val, LEDGER_FORMAT) == 0,
	    "ledger: a new ledger records its format, " LEDGER_FORMAT);
	free(val);
	ledger_txn_abort(t);
	ok(ledger_txn_begin(l, 0, &t) == 0 &&
	        ledger_meta_put(t, "format", "2") == 0 &&
	        ledger_txn_commit(t) == 0,
	    "ledger: (setup) a format this srdf does not know");
	ledger_close(l);
	rc = ledger_open("lg", 0, &l);
	ok(rc == LEDGER_NEWER && l == NULL &&
	        strstr(ledger_strerror(rc), "upgrade srdf") != NULL,
	    "ledger: a newer format is refused: %s", ledger_strerror(rc));
	rc = ledger_open("lg", LEDGER_RDONLY, &l);
	ok(rc == LEDGER_NEWER && l == NULL, "ledger: read-only too");
	ok(ledger_open_raw_format_reset("lg") == 0,
	    "ledger: (setup) its format put back to " LEDGER_FORMAT);
	if (ledger_open("lg", 0, &l) != 0)
		return;
	ok(ledger_txn_begin(l, 0, &t) == 0 &&
	        ledger_meta_put(t, "source_id", "src1") == 0 &&
	        ledger_txn_commit(t) == 0,
	    "ledger: meta put");
	ok(ledger_txn_begin(l, LEDGER_RDONLY, &t) == 0 &&
	        ledger_meta_get(t, "source_id", &val) == 0 && val != NULL &&
	        strcmp(val, "src1") == 0,
	    "ledger: meta get");
	free(val);
	ok(ledger_meta_get(t, "bootstrap_gtid", &val) == 0 && val == NULL,
	    "ledger: absent meta key is NULL, not an error");
	ok(ledger_meta_put(t, "x", "y") != 0,
	    "ledger: no write in a read-only transaction");
	ledger_txn_abort(t);

	w = wagon("sealed", "0-1-42");
	ok(ledger_txn_begin(l, 0, &t) == 0 && ledger_wagon_put(t, 1, w) == 0 &&
	        ledger_meta_put(t, "last_sealed_gtid", "0-1-42") == 0 &&
	        ledger_txn_commit(t) == 0,
	    "ledger: wagon 1 and last_sealed_gtid in one transaction");
	json_decref(w);

	w = wagon("sealed", "0-1-50,1-2-7");
	ok(ledger_txn_begin(l, 0, &t) == 0 && ledger_wagon_put(t, 2, w) == 0 &&
	        ledger_meta_put(t, "last_sealed_gtid", "0-1-50,1-2-7") == 0,
	    "ledger: wagon 2 and last_sealed_gtid written");
	ledger_txn_abort(t);
	json_decref(w);

	ledger_close(l);
	rc = ledger_open("lg", LEDGER_RDONLY, &l);
	ok(rc == 0 && ledger_txn_begin(l, LEDGER_RDONLY, &t) == 0 &&
	        ledger_meta_get(t, "last_sealed_gtid", &val) == 0 &&
	        val != NULL && strcmp(val, "0-1-42") == 0 &&
	        ledger_wagon_get(t, 1, &w) == 0 && w != NULL &&
	        strcmp(json_string_value(json_object_get(w, "last_gtid")),
	            "0-1-42") == 0 &&
	        json_real_value(json_object_get(w, "sealed_at")) ==
	            1732200000.25,
	    "ledger: committed wagon and meta survive a reopen");
	free(val);
	json_decref(w);
	ok(ledger_wagon_get(t, 2, &w) == 0 && w == NULL,
	    "ledger: aborted transaction left no wagon 2");
	ledger_txn_abort(t);
	ok(ledger_txn_begin(l, 0, &t) != 0,
	    "ledger: read-only ledger refuses a write transaction");
	ledger_close(l);

	if (ledger_open("lg", 0, &l) != 0)
		return;
	ok(ledger_txn_begin(l, 0, &t) == 0, "ledger: write transaction");
	for (i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
		w = wagon(seqs[i] == 65536 ? "dead" : "sending", "0-1-1");
		ledger_wagon_put(t, seqs[i], w);
		json_decref(w);
	}
	w = json_pack("{s:s}", "state", "shipped");
	ok(ledger_wagon_put(t, 3, w) == LEDGER_BADREC,
	    "ledger: wagon with an unknown state refused");
	json_decref(w);
	a = json_pack("{s:f, s:i, s:s, s:i, s:n}", "time", 1732200001.5,
	    "http_status", 503, "answer", "", "latency_ms", 12, "error");
	ok(ledger_attempt_add(t, 7, 1, a) == 0 &&
	        ledger_attempt_add(t, 7, 2, a) == 0 &&
	        ledger_attempt_add(t, 7, 1, a) == MDB_KEYEXIST,
	    "ledger: attempts added, never replaced");
	json_decref(a);
	ok(ledger_txn_commit(t) == 0, "ledger: commit");

	ok(ledger_txn_begin(l, LEDGER_RDONLY, &t) == 0 &&
	        ledger_wagon_last_seq(t, &last) == 0 && last == 65536,
	    "ledger: last sequence is 65536");
	order[0] = '\0';
	ok(ledger_wagon_foreach(t, 0, collect, order) == 42 &&
	        strcmp(order, "1,2,7,256,65536,") == 0,
	    "ledger: foreach in sequence order, stopped by fn (%s)", order);
	order[0] = '\0';
	ok(ledger_wagon_foreach(t, 3, collect, order) == 42 &&
	        strcmp(order, "7,256,65536,") == 0,
	    "ledger: foreach from a sequence (%s)", order);
	ledger_txn_abort(t);
	ledger_close(l);

	ok(corrupt_wagon7() == 0 && ledger_open("lg", 0, &l) == 0 &&
	        ledger_txn_begin(l, LEDGER_RDONLY, &t) == 0 &&
	        ledger_wagon_get(t, 7, &w) == LEDGER_CORRUPT && w == NULL &&
	        ledger_wagon_foreach(t, 0, collect, order) == LEDGER_CORRUPT,
	    "ledger: a record that is not JSON is LEDGER_CORRUPT");
	ledger_txn_abort(t);
	ledger_close(l);

	if (mkdir("empty", 0700) != 0)
		perror("mkdir empty");
	ok(ledger_open("empty", 0, &l) == 0 &&
	        ledger_txn_begin(l, LEDGER_RDONLY, &t) == 0 &&
	        ledger_wagon_last_seq(t, &last) == 0 && last == 0,
	    "ledger: last sequence of an empty ledger is 0");
	ledger_txn_abort(t);
	ledger_close(l);
	ok(strcmp(ledger_strerror(LEDGER_CORRUPT), ledger_strerror(0)) != 0 &&
	        strcmp(ledger_strerror(ENOENT), strerror(ENOENT)) == 0,
	    "ledger: ledger_strerror covers own, LMDB and errno codes");
}

static void
test_opt(void)
{
	static const struct {
		const char *s;
		int rc;
		long long ms;
	} dur[] = {
	    {"250ms", 0, 250},
	    {"1s", 0, 1000},
	    {"2m", 0, 120000},
	    {"1h", 0, 3600000},
	    {"30", 0, 30000},
	    {"0", 0, 0},
	    {"9223372036854775807ms", 0, 9223372036854775807LL},
	    {"9223372036854775808ms", -1, ERANGE},
	    {"9223372036854775s", 0, 9223372036854775000LL},
	    {"9223372036854776s", -1, ERANGE},
	    {"99999999999999999999", -1, ERANGE},
	    {"", -1, EINVAL},
	    {"-1s", -1, EINVAL},
	    {"+1s", -1, EINVAL},
	    {" 1s", -1, EINVAL},
	    {"1s ", -1, EINVAL},
	    {"1.5s", -1, EINVAL},
	    {"1d", 0, 86400000},
	    {"106751991168d", -1, ERANGE},
	    {"106751991167d", 0, 9223372036828800000LL},
	    {"1D", -1, EINVAL},
	    {"1S", -1, EINVAL},
	    {"s", -1, EINVAL},
	    {"1mss", -1, EINVAL},
	};
	static const struct {
		const char *s;
		int rc;
		unsigned long long v;
	} size[] = {
	    {"64K", 0, 65536},
	    {"4M", 0, 4194304},
	    {"1G", 0, 1073741824},
	    {"1g", 0, 1073741824},
	    {"123", 0, 123},
	    {"18446744073709551615", 0, 18446744073709551615ULL},
	    {"17179869183G", 0, 17179869183ULL << 30},
	    {"17179869184G", -1, ERANGE},
	    {"18446744073709551616", -1, ERANGE},
	    {"", -1, EINVAL},
	    {"K", -1, EINVAL},
	    {"-1", -1, EINVAL},
	    {"1KB", -1, EINVAL},
	    {"1T", -1, EINVAL},
	    {"1 K", -1, EINVAL},
	};
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} u64[] = {
	    {"0", 0, 0},
	    {"42", 0, 42},
	    {"007", 0, 7},
	    {"18446744073709551615", 0, UINT64_MAX},
	    {"18446744073709551616", -1, ERANGE},
	    {"-0", -1, EINVAL},
	    {"0x10", -1, EINVAL},
	    {"1e3", -1, EINVAL},
	    {" 1", -1, EINVAL},
	    {"", -1, EINVAL},
	};
	long long ms;
	unsigned long long b;
	uint64_t v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof dur / sizeof dur[0]; i++) {
		ms = -7;
		errno = 0;
		rc = parse_duration_ms(dur[i].s, &ms);
		ok(rc == dur[i].rc &&
		        (rc == 0 ? ms == dur[i].ms
		                 : errno == dur[i].ms && ms == -7),
		    "opt: duration \"%s\"", dur[i].s);
	}
	for (i = 0; i < sizeof size / sizeof size[0]; i++) {
		b = 7;
		errno = 0;
		rc = parse_size(size[i].s, &b);
		ok(rc == size[i].rc &&
		        (rc == 0 ? b == size[i].v
		                 : errno == (int)size[i].v && b == 7),
		    "opt: size \"%s\"", size[i].s);
	}
	for (i = 0; i < sizeof u64 / sizeof u64[0]; i++) {
		v = 7;
		errno = 0;
		rc = parse_u64(u64[i].s, &v);
		ok(rc == u64[i].rc &&
		        (rc == 0 ? v == u64[i].v
		                 : errno == (int)u64[i].v && v == 7),
		    "opt: u64 \"%s\"", u64[i].s);
	}
}

/* sql_ddl_tables: the table of a CREATE TABLE / CREATE INDEX, -1 for
 * anything that may touch more, or change a row. */
static void
test_ddl_tables(void)
{
	static const struct {
		const char *sql, *db, *want; /* want NULL: -1 */
	} c[] = {
	    {"CREATE TABLE sbtest1(\t id INT PRIMARY KEY)", "sbtest",
	        "sbtest\037sbtest1"},
	    {"create table if not exists `My``Db`.`T 1` (a int)", "x",
	        "my`db\037t 1"},
	    {"CREATE TABLE Shop.Orders (id INT)", NULL, "shop\037orders"},
	    {"CREATE INDEX k_1 ON sbtest1(k)", "sbtest", "sbtest\037sbtest1"},
	    {"CREATE UNIQUE INDEX IF NOT EXISTS u USING BTREE ON d.t (a)", NULL,
	        "d\037t"},
	    {"/* c */ CREATE FULLTEXT INDEX f ON `t` (b)", "db", "db\037t"},
	    {"CREATE TABLE t (a INT)", NULL, NULL},
	    {"CREATE OR REPLACE TABLE t (a INT)", "d", NULL},
	    {"CREATE TABLE c (p INT REFERENCES p (id))", "d", NULL},
	    {"CREATE TABLE c (p INT, FOREIGN KEY (p) REFERENCES p (id))", "d",
	        NULL},
	    {"CREATE TABLE t2 LIKE t1", "d", NULL},
	    {"CREATE TABLE t2 AS SELECT * FROM t1", "d", NULL},
	    {"CREATE TEMPORARY TABLE t (a INT)", "d", NULL},
	    {"ALTER TABLE t ADD COLUMN x INT", "d", NULL},
	    {"DROP TABLE t", "d", NULL},
	    {"TRUNCATE t", "d", NULL},
	    {"CREATE VIEW v AS SELECT 1", "d", NULL},
	    {"CREATE DATABASE d", "d", NULL},
	    /* MariaDB's executable comments run: not comments here */
	    {"CREATE /*M! OR REPLACE */ TABLE t (a INT)", "d", NULL},
	    {"CREATE /*M!100100 OR REPLACE */ TABLE t (a INT)", "d", NULL},
	    {"CREATE /*! OR REPLACE */ TABLE t (a INT)", "d", NULL},
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct buf out = {0};
		int n =
		    sql_ddl_tables(c[i].sql, strlen(c[i].sql), c[i].db, &out);

		if (c[i].want == NULL)
			ok(n == -1 && out.len == 0, "sql_ddl_tables(%s): -1",
			    c[i].sql);
		else
			ok(n == 1 && out.len == strlen(c[i].want) + 1 &&
			        memcmp(out.p, c[i].want, out.len) == 0,
			    "sql_ddl_tables(%s): %s", c[i].sql, c[i].want);
		free(out.p);
	}
}

/* sql_ddl_table_of: the one table a DDL changes, -1 when it may rename
 * one or change several. */
static void
test_ddl_table_of(void)
{
	static const struct {
		const char *sql, *db, *want; /* want NULL: -1 */
	} c[] = {
	    {"ALTER TABLE small ADD COLUMN w INT DEFAULT 7", "d", "d\037small"},
	    {"alter online ignore table if exists `D`.`T``x` drop column a",
	        "z", "d\037t`x"},
	    {"ALTER TABLE t RENAME COLUMN a TO b, RENAME INDEX k TO j", "d",
	        "d\037t"},
	    {"ALTER TABLE c ADD FOREIGN KEY (p) REFERENCES p (id)", "d",
	        "d\037c"},
	    {"TRUNCATE TABLE d.t", NULL, "d\037t"},
	    {"truncate t", "d", "d\037t"},
	    {"OPTIMIZE NO_WRITE_TO_BINLOG TABLE t", "d", "d\037t"},
	    {"DROP TABLE IF EXISTS `t` /* generated by server */", "d",
	        "d\037t"},
	    {"DROP INDEX k ON t", "d", "d\037t"},
	    {"CREATE OR REPLACE TABLE t (a INT)", "d", "d\037t"},
	    {"CREATE TABLE t2 AS SELECT * FROM t1", "d", "d\037t2"},
	    {"CREATE UNIQUE INDEX u ON d.t (a)", NULL, "d\037t"},
	    {"ALTER TABLE t RENAME TO u", "d", NULL},
	    {"ALTER TABLE t ADD x INT, RENAME AS u", "d", NULL},
	    {"RENAME TABLE t TO u", "d", NULL},
	    {"DROP TABLE a, b", "d", NULL},
	    {"ALTER TABLE t EXCHANGE PARTITION p WITH TABLE u", "d", NULL},
	    {"ALTER TABLE t ADD COLUMN x INT", NULL, NULL},
	    {"CREATE TEMPORARY TABLE t (a INT)", "d", NULL},
	    {"CREATE VIEW v AS SELECT 1", "d", NULL},
	    {"DROP DATABASE d", "d", NULL},
	    {"INSERT INTO t VALUES (1)", "d", NULL},
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct buf out = {0};
		int n =
		    sql_ddl_table_of(c[i].sql, strlen(c[i].sql), c[i].db, &out);

		if (c[i].want == NULL)
			ok(n == -1 && out.len == 0, "sql_ddl_table_of(%s): -1",
			    c[i].sql);
		else
			ok(n == 1 && out.len == strlen(c[i].want) + 1 &&
			        memcmp(out.p, c[i].want, out.len) == 0,
			    "sql_ddl_table_of(%s): %s", c[i].sql, c[i].want);
		free(out.p);
	}
}

/* sql_renames_table: whether a DDL renames a table (srdf-apply's
 * recovery of a DDL a crash cut, and sql_ddl_table_of). */
static void
test_renames_table(void)
{
	static const struct {
		const char *sql;
		int want;
	} c[] = {
	    {"RENAME TABLE t TO u", 1},
	    {"  rename table a to b, c to d", 1},
	    {"ALTER TABLE t RENAME TO u", 1},
	    {"ALTER TABLE t ADD x INT,\tRENAME AS u", 1},
	    {"ALTER TABLE t RENAME COLUMN a TO b", 0},
	    {"ALTER TABLE t RENAME INDEX k TO j, RENAME KEY l TO m", 0},
	    {"ALTER TABLE renamed ADD COLUMN renames INT", 0},
	    {"CREATE TABLE t (a INT)", 0},
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		ok(sql_renames_table(c[i].sql, strlen(c[i].sql)) == c[i].want,
		    "sql_renames_table(%s): %d", c[i].sql, c[i].want);
}

/* sql_trigger_guard: the body of a CREATE TRIGGER run only without
 * @srdf_apply; -1 for what it does not read, 0 when guarded already. */
static void
test_trigger_guard(void)
{
	static const char g[] = "@srdf_apply IS NULL";
	static const struct {
		const char *sql, *want; /* want NULL: -1; "-2": -2; "": 0 */
	} c[] = {
	    {"CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON t1 "
	     "FOR EACH ROW SET NEW.v = NEW.v * 10",
	        "CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON t1 "
	        "FOR EACH ROW IF @srdf_apply IS NULL THEN SET NEW.v = NEW.v * 10"
	        "\n; END IF"},
	    {"CREATE OR REPLACE DEFINER='u'@'%' TRIGGER `for each row` AFTER "
	     "UPDATE ON `d`.`t` FOR EACH ROW FOLLOWS other\nBEGIN\n  INSERT "
	     "INTO log VALUES ('for each row;'); END;\n",
	        "CREATE OR REPLACE DEFINER='u'@'%' TRIGGER `for each row` AFTER "
	        "UPDATE ON `d`.`t` FOR EACH ROW FOLLOWS other\nIF @srdf_apply IS "
	        "NULL THEN BEGIN\n  INSERT INTO log VALUES ('for each row;'); "
	        "END\n; END IF"},
	    {"create definer=current_user() trigger if not exists x before "
	     "delete on t for each row precedes `y` set @a=1 -- note",
	        "create definer=current_user() trigger if not exists x before "
	        "delete on t for each row precedes `y` IF @srdf_apply IS NULL "
	        "THEN set @a=1 -- note\n; END IF"},
	    {"CREATE DEFINER=root@localhost TRIGGER a.b BEFORE INSERT ON t "
	     "FOR EACH ROW lbl: BEGIN END lbl",
	        "CREATE DEFINER=root@localhost TRIGGER a.b BEFORE INSERT ON t "
	        "FOR EACH ROW IF @srdf_apply IS NULL THEN lbl: BEGIN END lbl"
	        "\n; END IF"},
	    /* a body right after ROW: not "ROWIF" (found by t/fuzz/ddl) */
	    {"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW`l`: BEGIN "
	     "END l",
	        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW IF "
	        "@srdf_apply IS NULL THEN `l`: BEGIN END l\n; END IF"},
	    {"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW "
	     "if @srdf_apply is null then set new.a = 1\n; end if",
	        ""},
	    {"CREATE TABLE t (a INT)", NULL},
	    {"CREATE OR REPLACE VIEW v AS SELECT 1", NULL},
	    {"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 "
	     "TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET NEW.a=1 */",
	        NULL},
	    {"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW ;", "-2"},
	    {"CREATE TRIGGER `tr BEFORE INSERT ON t FOR EACH ROW SET @a = 1",
	        "-2"},
	    {"CREATE TRIGGER tr BEFORE INSERT ON t /*!FOR EACH ROW */ SET @a=1",
	        "-2"},
	    {"DROP TRIGGER tr", NULL},
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct buf out = {0};
		int n = sql_trigger_guard(c[i].sql, strlen(c[i].sql), g, &out);

		if (c[i].want == NULL)
			ok(n == -1 && out.len == 0,
			    "sql_trigger_guard, case "
			    "%zu: -1",
			    i + 1);
		else if (strcmp(c[i].want, "-2") == 0)
			ok(n == -2 && out.len == 0,
			    "sql_trigger_guard, case "
			    "%zu: -2",
			    i + 1);
		else if (*c[i].want == '\0')
			ok(n == 0 && out.len == 0,
			    "sql_trigger_guard, case "
			    "%zu: guarded already",
			    i + 1);
		else
			ok(n == 1 && out.len == strlen(c[i].want) &&
			        memcmp(out.p, c[i].want, out.len) == 0,
			    "sql_trigger_guard, case %zu: the body guarded",
			    i + 1);
		free(out.p);
	}
}

/* sql_dml_table: the one table a DML statement writes, as written. */
static void
test_dml_table(void)
{
	static const struct {
		const char *sql, *want; /* NULL: -1 */
	} c[] = {
	    {"INSERT INTO tt (id,v) VALUES (1,'a')", "v\037tt"},
	    {"insert low_priority ignore `My`.`T``x` SELECT * FROM u",
	        "My\037T`x"},
	    {"REPLACE Db.T VALUES (1)", "Db\037T"},
	    {"/* c */ UPDATE IGNORE tt SET v = 2 WHERE id = 1", "v\037tt"},
	    {"UPDATE tt AS a SET a.v = 2", "v\037tt"},
	    {"UPDATE tt a SET a.v = 2", "v\037tt"},
	    {"DELETE FROM tt WHERE id = 1", "v\037tt"},
	    {"DELETE QUICK FROM d.tt", "d\037tt"},
	    {"DELETE FROM tt;", "v\037tt"},
	    {"DELETE FROM tt a ORDER BY id LIMIT 1", "v\037tt"},
	    {"DELETE HISTORY FROM tt BEFORE SYSTEM_TIME NOW()", "v\037tt"},
	    {"UPDATE t1, t2 SET t1.a = t2.a", NULL},
	    {"UPDATE t1 JOIN t2 ON t1.id = t2.id SET t1.a = 1", NULL},
	    {"UPDATE t1 a JOIN t2 b ON a.id = b.id SET a.x = 1", NULL},
	    {"DELETE FROM t1 USING t1 JOIN t2", NULL},
	    {"DELETE t1 FROM t1 JOIN t2 ON t1.a = t2.a", NULL},
	    {"DELETE t1, t2 FROM t1, t2", NULL},
	    {"WITH x AS (SELECT 1) UPDATE t SET a = 1", NULL},
	    {"SELECT 1", NULL},
	    {"INSERT INTO", NULL},
	    {"UPDATE a /*M!, b */ SET a.x = 1", NULL},
	    {"UPDATE a /*!, b */ SET a.x = 1", NULL},
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct buf out = {0};
		int n = sql_dml_table(c[i].sql, strlen(c[i].sql), "v", &out);

		if (c[i].want == NULL)
			ok(n == -1 && out.len == 0, "sql_dml_table(%s): -1",
			    c[i].sql);
		else
			ok(n == 1 && out.len == strlen(c[i].want) + 1 &&
			        memcmp(out.p, c[i].want, out.len) == 0,
			    "sql_dml_table(%s)", c[i].sql);
		free(out.p);
	}
}

/* sql_trigger_unguarded: the body inside the guard sql_trigger_guard
 * writes, as information_schema.TRIGGERS shows it; 0 for any other.
 * The guard of srdf-apply's earlier builds (V1) is read the same way. */
static void
test_trigger_unguarded(void)
{
	static const char g[] = "IF " SQL_TRIGGER_GUARD " THEN ";
	static const char create[] =
	    "CREATE TRIGGER t BEFORE INSERT ON t "
	    "FOR EACH ROW SET NEW.a = 1;"; /* the body at 49 */
	static const struct {
		const char *body, *want; /* want NULL: 0 */
		int v1;                  /* SQL_TRIGGER_GUARD_V1 */
	} c[] = {
	    {"IF @srdf_apply IS NULL THEN SET NEW.v = NEW.v * 10\n; END IF",
	        "SET NEW.v = NEW.v * 10", 1},
	    {"IF @srdf_apply IS NULL THEN BEGIN\n  INSERT INTO log VALUES "
	     "('x;'); END\n; END IF",
	        "BEGIN\n  INSERT INTO log VALUES "
	        "('x;'); END",
	        1},
	    {"SET NEW.v = NEW.v * 10", NULL, 1},
	    {"IF @srdf_apply IS NULL THEN SET @a = 1", NULL, 1},
	    {"IF @other IS NULL THEN SET @a = 1\n; END IF", NULL, 1},
	    {"IF @srdf_apply IS NULL THEN\n; END IF", NULL, 1},
	    {"", NULL, 1},
	    {"IF @srdf_apply IS NULL THEN SET @a = 1\n; END IF", NULL, 0},
	    {"IF NOT EXISTS (SELECT 1 FROM srdf.apply_sessions PARTITION (p) "
	     "WHERE id = CONNECTION_ID()) THEN SET @a = 1\n; END IF",
	        "SET @a = 1", 0},
	    {"IF NOT EXISTS (SELECT 1 FROM srdf.apply_sessions WHERE id = "
	     "CONNECTION_ID()) THEN SET @a = 1\n; END IF",
	        NULL, 0},
	};
	struct buf out = {0};
	const char *in = NULL;
	size_t n = 0;

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		int r = sql_trigger_unguarded(c[i].body, strlen(c[i].body),
		    c[i].v1 ? SQL_TRIGGER_GUARD_V1 : SQL_TRIGGER_GUARD, &in,
		    &n);

		if (c[i].want == NULL)
			ok(r == 0, "sql_trigger_unguarded, case %zu: 0", i + 1);
		else
			ok(r == 1 && n == strlen(c[i].want) &&
			        memcmp(in, c[i].want, n) == 0,
			    "sql_trigger_unguarded, case %zu: the body", i + 1);
	}
	/* What sql_trigger_guard writes with SQL_TRIGGER_GUARD, read back. */
	sql_trigger_guard(create, strlen(create), SQL_TRIGGER_GUARD, &out);
	ok(out.len > 49 + strlen(g) && memcmp(out.p + 49, g, strlen(g)) == 0 &&
	        sql_trigger_unguarded(out.p + 49, out.len - 49,
	            SQL_TRIGGER_GUARD, &in, &n) == 1 &&
	        n == 13 && memcmp(in, "SET NEW.a = 1", 13) == 0,
	    "sql_trigger_unguarded reads what sql_trigger_guard writes");
	free(out.p);
}

/* sql_trigger_parts: CREATE [OR REPLACE] as far as the head goes, FOR
 * EACH ROW, and the body without FOLLOWS or PRECEDES, trailing blanks
 * and semicolons. */
static void
test_trigger_parts(void)
{
	static const struct {
		const char *sql;
		int rc;
		const char *head, *row, *body; /* what follows each offset */
	} c[] = {
	    {"CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON "
	     "t1 FOR EACH ROW SET NEW.v = 1",
	        1, " DEFINER=`root`@`localhost` TRIGGER", " SET NEW.v",
	        "SET NEW"},
	    {"create or replace trigger x after update on t for each row "
	     "follows `y` begin end ;\n",
	        1, " trigger x", " follows", "begin end"},
	    {"CREATE TABLE t (a INT)", -1, NULL, NULL, NULL},
	    {"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW ;", -2, NULL,
	        NULL, NULL},
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct sql_trigger tp = {0};
		const char *s = c[i].sql;
		int r = sql_trigger_parts(s, strlen(s), &tp);

		if (c[i].rc != 1) {
			ok(r == c[i].rc, "sql_trigger_parts, case %zu: %d",
			    i + 1, c[i].rc);
			continue;
		}
		ok(r == 1 &&
		        strncmp(s + tp.head, c[i].head, strlen(c[i].head)) ==
		            0 &&
		        strncmp(s + tp.row, c[i].row, strlen(c[i].row)) == 0 &&
		        strncmp(s + tp.body, c[i].body, strlen(c[i].body)) ==
		            0 &&
		        (s[tp.body_end] == '\0' || s[tp.body_end] == ' '),
		    "sql_trigger_parts, case %zu", i + 1);
	}
}

/* sql_event_replica: an event that would run becomes DISABLE ON SLAVE;
 * 0 when the status is left as it was or disabled, -1 for what is no
 * event statement, -2 for a CREATE EVENT without DO. */
static void
test_event_replica(void)
{
	static const struct {
		const char *sql, *want; /* NULL: -1; "-2": -2; "": 0 */
	} c[] = {
	    {"CREATE DEFINER=`root`@`localhost` EVENT ev1 ON SCHEDULE EVERY 1 "
	     "HOUR COMMENT 'x' DO INSERT INTO c VALUES (1)",
	        "CREATE DEFINER=`root`@`localhost` EVENT ev1 ON SCHEDULE EVERY 1 "
	        "HOUR DISABLE ON SLAVE COMMENT 'x' DO INSERT INTO c VALUES (1)"},
	    {"CREATE EVENT e ON SCHEDULE AT '2030-01-01 00:00:00' DO "
	     "UPDATE t SET s = 'ENABLE'",
	        "CREATE EVENT e ON SCHEDULE AT '2030-01-01 00:00:00' DISABLE ON "
	        "SLAVE DO UPDATE t SET s = 'ENABLE'"},
	    {"CREATE OR REPLACE DEFINER=`u`@`%` EVENT `e` ON SCHEDULE EVERY 1 "
	     "HOUR STARTS '2026-12-05 13:17:15' ON COMPLETION NOT PRESERVE "
	     "ENABLE COMMENT 'do it' DO BEGIN DO 1; END",
	        "CREATE OR REPLACE DEFINER=`u`@`%` EVENT `e` ON SCHEDULE EVERY 1 "
	        "HOUR STARTS '2026-12-05 13:17:15' ON COMPLETION NOT PRESERVE "
	        "DISABLE ON SLAVE COMMENT 'do it' DO BEGIN DO 1; END"},
	    {"ALTER EVENT ev1 RENAME TO ev2 ENABLE",
	        "ALTER EVENT ev1 RENAME TO ev2 DISABLE ON SLAVE"},
	    {"alter definer=current_user event d.e enable do set @a = 1",
	        "alter definer=current_user event d.e DISABLE ON SLAVE do set "
	        "@a = 1"},
	    {"CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE ON SLAVE DO DO 1",
	        ""},
	    {"CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE DO DO 1", ""},
	    {"ALTER EVENT ev1 DISABLE", ""},
	    {"ALTER EVENT ev1 ON SCHEDULE EVERY 2 HOUR", ""},
	    {"CREATE EVENT e ON SCHEDULE EVERY 1 DAY", "-2"},
	    {"CREATE TABLE event (a INT)", NULL},
	    {"DROP EVENT e", NULL},
	    {"CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 1",
	        NULL},
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct buf out = {0};
		int n = sql_event_replica(c[i].sql, strlen(c[i].sql), &out);

		if (c[i].want == NULL)
			ok(n == -1 && out.len == 0,
			    "sql_event_replica, case "
			    "%zu: -1",
			    i + 1);
		else if (strcmp(c[i].want, "-2") == 0)
			ok(n == -2 && out.len == 0,
			    "sql_event_replica, case "
			    "%zu: -2",
			    i + 1);
		else if (*c[i].want == '\0')
			ok(n == 0 && out.len == 0,
			    "sql_event_replica, case "
			    "%zu: as written",
			    i + 1);
		else
			ok(n == 1 && out.len == strlen(c[i].want) &&
			        memcmp(out.p, c[i].want, out.len) == 0,
			    "sql_event_replica, case %zu: DISABLE ON SLAVE (%.*s)",
			    i + 1, (int)out.len, out.p ? out.p : "");
		free(out.p);
	}
}

int
main(int argc, char **argv)
{
	size_t i;

	log_init("unit-lib");
	if (argc == 2) {
		for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
			if (strcmp(argv[1], cases[i].name) == 0)
				return cases[i].fn();
		fprintf(stderr, "unit-lib: no case %s\n", argv[1]);
		return 127;
	}
	unsetenv("SRDF_FAULT");
	test_opt();
	test_opt_die();
	test_fault();
	test_lock();
	test_spool();
	test_ledger();
	test_ddl_tables();
	test_ddl_table_of();
	test_renames_table();
	test_dml_table();
	test_trigger_guard();
	test_trigger_parts();
	test_trigger_unguarded();
	test_event_replica();
	printf("1..%d\n", ntests);
	return nfailed != 0;
}
