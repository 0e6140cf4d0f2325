/*
 * sql — libFuzzer harness of SQL rendering: srdf-apply's engine
 * (apply/engine.c) turning one wagon's payload into the statements it
 * sends, with lib/sql.c writing every identifier and literal.
 *
 * Input: a wagon's payload, srdf-record(5) lines from group_begin to
 * group_end.  It goes through engine_peek and engine_run as srdf-apply
 * --dry-run runs them: no server, the statements printed (here into a
 * memory file).  The one question the engine asks the target, what a
 * table is (db_table), is answered by fuzz_table below for any name
 * (the linker's --wrap), from the name: a table whose name holds "v"
 * is system-versioned, "c" the parent of an ON DELETE CASCADE key, "u"
 * of an ON UPDATE one, "missing" does not exist; each has the columns
 * of cols[] with their flags, plus the period's when versioned.  A
 * database whose name holds "h" makes the target write history
 * (system_versioning_insert_history).  Wagons within srdf-bootstrap's
 * window (group_end "bootstrap") are applied idempotently, as apply.c
 * does.
 *
 * Beyond not crashing: when the payload holds no DDL (whose text the
 * engine passes through as written), every quote the statements open
 * they close, and no comment starts outside quotes: a value or a name,
 * whatever its bytes, stays a value or a name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "apply.h"
#include "db.h"
#include "engine.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
struct tinfo *__wrap_db_table(
    struct db *d, const char *db, const char *name, int *rc);

static const struct {
	const char *name;
	unsigned flags;
} cols[] = {
    {"id", COL_INT | COL_BULK | COL_BULK_NUM | COL_REFERENCED},
    {"k", COL_INT | COL_BULK | COL_BULK_NUM},
    {"v", COL_TEXT | COL_BULK | COL_BULK_NUM},
    {"txt", COL_TEXT | COL_BULK | COL_BULK_NUM},
    {"u", COL_INT | COL_BULK | COL_BULK_NUM},
    {"b", 0},
    {"n", COL_BULK},
    {"f", COL_FLOAT},
    {"e", COL_ENUM},
    {"g", COL_GEOM},
    {"ts", COL_TIMESTAMP | COL_BULK},
    {"gen", COL_GENERATED},
};

static struct config cf;
static struct db d;
static int out_fd = -1;

static char *
dup_or_die(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

struct tinfo *
__wrap_db_table(struct db *dd, const char *db, const char *name, int *rc)
{
	struct tinfo *t;
	size_t n = sizeof cols / sizeof *cols;

	*rc = DB_OK;
	for (t = dd->tabs; t != NULL; t = t->next)
		if (strcmp(t->name, name) == 0 && strcmp(t->db, db) == 0)
			return t;
	if ((t = calloc(1, sizeof *t)) == NULL ||
	    (t->col = calloc(n + 2, sizeof *t->col)) == NULL)
		abort();
	t->db = dup_or_die(db);
	t->name = dup_or_die(name);
	t->exists = strstr(name, "missing") == NULL;
	t->cascade = strchr(name, 'c') != NULL;
	t->upd_cascade = strchr(name, 'u') != NULL;
	t->versioned = strchr(name, 'v') != NULL;
	t->genexpr = 1;
	for (size_t i = 0; i < n; i++) {
		t->col[t->ncol].name = dup_or_die(cols[i].name);
		t->col[t->ncol++].flags = cols[i].flags;
	}
	if (t->versioned) {
		t->col[t->ncol].name = dup_or_die("row_start");
		t->col[t->ncol++].flags = COL_GENERATED | COL_ROW_START;
		t->row_end = t->ncol;
		t->col[t->ncol].name = dup_or_die("row_end");
		t->col[t->ncol++].flags = COL_GENERATED | COL_ROW_END;
	}
	dd->history = strchr(db, 'h') != NULL;
	t->next = dd->tabs;
	dd->tabs = t;
	return t;
}

static void
mark(void *arg, struct inwagon *w, int i, int done)
{
}

/* Every quote closed, no comment outside quotes (see the top). */
static void
check_quotes(const char *s, size_t n)
{
	char q = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (q != 0) {
			if (c == '\\' && q != '`')
				i++;
			else if (c == q)
				q = 0;
			continue;
		}
		if (c == '\'' || c == '"' || c == '`')
			q = c;
		else if (c == '#' ||
		         (c == '/' && i + 1 < n && s[i + 1] == '*') ||
		         (c == '-' && i + 2 < n && s[i + 1] == '-' &&
		             (s[i + 2] == ' ' || s[i + 2] == '\n')))
			abort();
	}
	if (q != 0)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The dry run's statements go to stdout: into a memory file. */
	if ((out_fd = memfd_create("fuzz-sql", 0)) < 0)
		abort();
	cf.group = "srdf-apply";
	d.cf = &cf;
	d.dry = 1;
	d.max_stmt = 1UL << 24;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inwagon w = {0};
	char err[512];
	off_t len;

	w.seq = 1;
	w.h.chunk = 1;
	w.h.flags = WAGON_F_LAST_CHUNK;
	w.records = fuzz_cstr(data, size);
	w.len = size;
	if (engine_peek(&w, err, sizeof err) != 0) {
		/* a chunk before the last */
		w.h.flags = 0;
		if (engine_peek(&w, err, sizeof err) != 0) {
			inwagon_free(&w);
			return 0;
		}
	}
	w.idem = w.snapshot != NULL;
	/* (again each time: libFuzzer's -close_fd_mask points it at
	 * /dev/null after LLVMFuzzerInitialize) */
	fflush(stdout);
	if (dup2(out_fd, STDOUT_FILENO) < 0 || ftruncate(out_fd, 0) != 0 ||
	    lseek(out_fd, 0, SEEK_SET) != 0)
		abort();
	if (engine_run(&d, NULL, &w, NULL, mark, NULL) == DB_OK)
		db_flush(&d);
	fflush(stdout);
	if (!w.has_ddl && (len = lseek(out_fd, 0, SEEK_CUR)) > 0) {
		char *text =
		    mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, out_fd, 0);

		if (text == MAP_FAILED)
			abort();
		check_quotes(text, (size_t)len);
		munmap(text, (size_t)len);
	}
	db_rollback(&d);
	db_close(&d);
	inwagon_free(&w);
	return 0;
}
