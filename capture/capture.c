/*
 * srdf-capture — read a MariaDB source's binlog as a replica and write
 * srdf-record(5) lines on stdout.
 *
 * Design rationale.  capture is the only tool that talks the replication
 * protocol.  It registers like a replica (Connector/C's mariadb_rpl API:
 * mariadb_rpl_init/optionsv/open send COM_BINLOG_DUMP in GTID mode) and
 * then reads the event packets itself with mysql_net_read_packet(): the
 * library's event parser mis-decodes several column types and rotate
 * events after the first file, so every byte of every event is decoded
 * here (binlog.h), CRC32 included.  It needs no information_schema
 * look-ups for tables — binlog_row_metadata=FULL makes each TABLE_MAP
 * self-describing — so DDL cannot race with it.
 *
 * What it refuses to do: guess.  A statement-format DML event, an INCIDENT
 * event, a CRC mismatch, an event it cannot decode stop it with exit 65
 * and the binlog coordinates; a purged start position stops it with 66
 * and points to srdf-bootstrap.  It never writes a state directory: the
 * resume point is srdf-seal's last sealed GTID, so what was in flight in
 * the pipe when something died is simply read again (srdf(7) "Exactly once").
 * The one exception is --drop-from-selection, recorded in the ledger
 * before anything is read (selection_check): the selection must agree
 * with the tables srdf-bootstrap copied, or a table it leaves out would
 * stay stale on the target, so a filter that does not is refused at
 * start unless the operator dropped the table on purpose.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include <mariadb_rpl.h>
#include <zlib.h>

#include <jansson.h>

#include "binlog.h"
#include "buf.h"
#include "fault.h"
#include "gtid.h"
#include "heartbeat.h"
#include "ledger.h"
#include "log.h"
#include "opt.h"
#include "maria.h"
#include "selection.h"
#include "sqltext.h"
#include "tool.h"
#include "xalloc.h"

#define DEFAULT_SERVER_ID 4202004242u
#define FLUSH_BYTES (256 * 1024)
#define MAX_BACKOFF 30

struct config {
	const char *defaults_file;
	const char *group;
	const char *dir;
	const char *from_gtid;
	const char *start_gtid; /* when the ledger has no position yet */
	int until_end;
	uint32_t server_id;
	int heartbeat;    /* seconds */
	int read_timeout; /* seconds; invariant: > heartbeat */
	char **include;
	int ninclude;
	char **exclude;
	int nexclude;
	char **drop; /* --drop-from-selection */
	int ndrop;
};

/* Tables by TABLE_MAP id: a small chained hash. */
#define TBUCKETS 256
struct tentry {
	struct table t;
	uint8_t *raw; /* the TABLE_MAP body it was parsed from */
	size_t rawlen;
	struct tentry *next;
};

struct capture {
	const struct config *cf;
	MYSQL *my;
	MARIADB_RPL *rpl;
	struct charsets cs;
	/* The parents of cascading foreign keys (see "Cascading foreign
	 * keys"); fk_unknown: they could not be read, every table counts. */
	struct maria_fk_parents fk;
	int fk_unknown;
	/* The source's tables at that reading (db, name; no rules): a table
	 * of the binlog that is not among them (renamed or dropped since)
	 * may have been a parent then, so it counts as one. */
	struct maria_fk_parents known;
	struct tentry *tab[TBUCKETS];

	char file[512]; /* binlog file being read */
	uint64_t pos;   /* end of the last event in it */
	int crc;        /* events carry a CRC32 */
	int phl[256];   /* post-header length per event type */

	/* The group (transaction) being read. */
	int in_group;
	uint32_t gts; /* its GTID event's timestamp and position */
	uint64_t gstart;
	struct gtid cur;
	uint8_t gflags;
	char xid[512]; /* XA xid as the server prints it */
	/* The group's savepoints, when the binlog carries them: where each
	 * began in out, which is not flushed while one is set (see
	 * "Savepoints" in srdf-capture(1)). */
	struct savepoint {
		char name[256];
		size_t off;
	} * sp;
	size_t nsp, spcap;

	struct gtid_pos state; /* resume position: one GTID per domain */

	/* The resync chunks the open group's srdf.resync rows name, as
	 * "db\0table\0file\0" triples (see "Resync chunks"). */
	struct buf resync;
	size_t nresync;
	/* Patterns srdf-bootstrap --add put into the selection: captured
	 * whatever --include and --exclude say ("Tables added online"). */
	char **added;
	size_t nadded, capadded;

	struct buf out;
	struct buf scratch;
	uint64_t ntrx, nrows, nddl, nevents;
	int failed; /* fail() was called: see "Error handling" */
};

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: srdf-capture [-v] [--defaults-file file] "
	           "[--defaults-group group] [--dir dir]\n"
	           "                    [--from-gtid gtid-list] [--start-gtid "
	           "gtid-list] [--until-end]\n"
	           "                    [--server-id n] "
	           "[--include pattern]... [--exclude pattern]...\n"
	           "                    [--heartbeat seconds] [--read-timeout "
	           "seconds]\n"
	           "                    [--drop-from-selection pattern]...\n"
	           "       srdf-capture --help | --version\n");
}

/* ---- errors -------------------------------------------------------- */

/*
 * Error handling.  Only main() exits.  A function that meets an error
 * while the binlog is read (a corrupt or unknown event, stdout gone, a
 * source that does not qualify) logs it at <3>, the line log.h's die
 * writes, and returns its sysexits(3) code; the callers return it
 * unchanged up to run() and main(), which exits with it.  Such an error
 * also sets c->failed: what is buffered for stdout is then dropped and
 * main() writes no last heartbeat beat, as when the process died there.
 * srdf-capture(1), EXIT STATUS, lists the codes.
 */
#define fail(c, ex, ...) ((c)->failed = 1, log_fail((ex), __VA_ARGS__))

/* ---- GTID positions ------------------------------------------------ */

static void
gtid_state_str(const struct capture *c, struct buf *b)
{
	b->len = 0;
	gtid_pos_format(&c->state, b);
}

/* ---- output -------------------------------------------------------- */

/* The heartbeat, with the GTID position read so far as progress.  Called
 * where the output is flushed: at the source's heartbeats and when the
 * stream pauses or a lot is buffered, never per event. */
static void
beat(const struct capture *c)
{
	struct buf pos = {0};

	gtid_state_str(c, &pos);
	heartbeat_beat(0, pos.p);
	buf_free(&pos);
}

/* Writes what is buffered to stdout: 0, or EX_IOERR (fail()). */
static int
flush_out(struct capture *c)
{
	if (heartbeat_due())
		beat(c);
	if (c->out.len == 0)
		return 0;
	if (write_all(STDOUT_FILENO, c->out.p, c->out.len) < 0) {
		if (errno == EPIPE)
			return fail(c, EX_IOERR,
			    "cannot write records: the reader of "
			    "stdout has gone (%s)",
			    strerror(errno));
		return fail(c, EX_IOERR, "cannot write records to stdout: %s",
		    strerror(errno));
	}
	c->out.len = 0;
	return 0;
}

/* Flush at a group end when a lot is buffered or the server has nothing
 * more for us right now (so a follower's latency stays low). */
static int
maybe_flush(struct capture *c)
{
	struct pollfd pfd;

	if (c->out.len >= FLUSH_BYTES)
		return flush_out(c);
	pfd.fd = (int)mysql_get_socket(c->my);
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) == 0)
		return flush_out(c);
	return 0;
}

static void
put_coords(struct buf *b, const struct capture *c, uint64_t pos)
{
	buf_lit(b, ",\"file\":");
	buf_json_str(b, c->file, strlen(c->file));
	buf_lit(b, ",\"pos\":");
	buf_u64(b, pos);
}

static void
put_gtid(struct buf *b, const struct gtid *g)
{
	buf_printf(b, "\"%" PRIu32 "-%" PRIu32 "-%" PRIu64 "\"", g->domain,
	    g->server, g->seq);
}

static void
emit_begin(struct capture *c, uint32_t ts, uint64_t start)
{
	struct buf *b = &c->out;

	buf_lit(b, "{\"v\":1,\"type\":\"begin\",\"gtid\":");
	put_gtid(b, &c->cur);
	buf_printf(
	    b, ",\"server_id\":%" PRIu32 ",\"ts\":%" PRIu32, c->cur.server, ts);
	put_coords(b, c, start);
	if (c->gflags & GTID_FL_PREPARED_XA) {
		buf_lit(b, ",\"xa\":");
		buf_json_str(b, c->xid, strlen(c->xid));
	}
	buf_lit(b, "}\n");
}

/* Ends the group: "commit" (or "xa_prepare"), then the resume position
 * moves past it.  0, or flush_out's error. */
static int
emit_end(
    struct capture *c, const char *type, uint32_t ts, uint64_t xid, int has_xid)
{
	struct buf *b = &c->out;

	buf_printf(b, "{\"v\":1,\"type\":\"%s\",\"gtid\":", type);
	put_gtid(b, &c->cur);
	buf_printf(b, ",\"ts\":%" PRIu32, ts);
	put_coords(b, c, c->pos);
	if (has_xid)
		buf_printf(b, ",\"xid\":%" PRIu64, xid);
	if (strcmp(type, "xa_prepare") == 0) {
		buf_lit(b, ",\"xa\":");
		buf_json_str(b, c->xid, strlen(c->xid));
	}
	buf_lit(b, "}\n");
	c->in_group = 0;
	c->nsp = 0;
	c->ntrx++;
	gtid_pos_set(&c->state, &c->cur);
	return maybe_flush(c);
}

static void
emit_abort(struct capture *c, const char *reason)
{
	struct buf *b = &c->out;

	buf_lit(b, "{\"v\":1,\"type\":\"abort\",\"gtid\":");
	put_gtid(b, &c->cur);
	buf_printf(b, ",\"reason\":\"%s\"}\n", reason);
	c->in_group = 0;
	c->nsp = 0;
}

/* ---- filters ------------------------------------------------------- */

/* Whether db.tbl matches a pattern srdf-bootstrap --add added (dbonly:
 * whether db matches a pattern's database part). */
static int
added_match(const struct capture *c, const char *db, const char *tbl)
{
	char name[600], pat[600], *dot;

	if (maria_system_schema(db))
		return 0;
	snprintf(name, sizeof name, "%s.%s", db, tbl != NULL ? tbl : "");
	for (size_t i = 0; i < c->nadded; i++) {
		if (tbl != NULL) {
			if (fnmatch(c->added[i], name, 0) == 0)
				return 1;
			continue;
		}
		snprintf(pat, sizeof pat, "%s", c->added[i]);
		if ((dot = strchr(pat, '.')) != NULL)
			*dot = '\0';
		if (fnmatch(pat, db, 0) == 0)
			return 1;
	}
	return 0;
}

static int
table_captured(const struct capture *c, const char *db, const char *tbl)
{
	const struct config *cf = c->cf;

	return maria_selected(NULL, cf->include, cf->ninclude, cf->exclude,
	           cf->nexclude, db, tbl) ||
	       added_match(c, db, tbl);
}

/* A DDL is filtered by its default database (maria_db_selected): it passes
 * an --include whose database part matches, and is stopped by an
 * --exclude of the form "db.*". */
static int
ddl_captured(const struct capture *c, const char *db)
{
	const struct config *cf = c->cf;

	return maria_db_selected(NULL, cf->include, cf->ninclude, cf->exclude,
	           cf->nexclude, db) ||
	       added_match(c, db, NULL);
}

/* Pattern p added to the selection (once); the tables already mapped
 * are judged again. */
static void
add_pattern(struct capture *c, const char *p)
{
	for (size_t i = 0; i < c->nadded; i++)
		if (strcmp(c->added[i], p) == 0)
			return;
	c->added =
	    xgrow(c->added, &c->capadded, c->nadded + 1, sizeof *c->added);
	c->added[c->nadded++] = xstrdup(p);
	for (size_t b = 0; b < TBUCKETS; b++)
		for (struct tentry *e = c->tab[b]; e != NULL; e = e->next)
			e->t.captured = table_captured(c, e->t.db, e->t.name);
}

/* ---- statements in QUERY events ------------------------------------ */

enum stmt {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_IGNORE,
	S_XA_COMMIT,
	S_XA_ROLLBACK,
	S_DML,
	S_SKIP,
	S_DDL,
	S_SAVEPOINT,
	S_ROLLBACK_TO,
	S_RELEASE
};

static enum stmt
classify(const char *q, size_t n)
{
	const char *end = q + n, *s = q;

	if (sql_word(&s, end, "BEGIN"))
		return S_BEGIN;
	s = q;
	if (sql_word(&s, end, "COMMIT"))
		return S_COMMIT;
	s = q;
	if (sql_word(&s, end, "ROLLBACK")) {
		sql_word(&s, end, "WORK");
		return sql_word(&s, end, "TO") ? S_ROLLBACK_TO : S_ROLLBACK;
	}
	s = q;
	if (sql_word(&s, end, "SAVEPOINT"))
		return S_SAVEPOINT;
	s = q;
	if (sql_word(&s, end, "RELEASE"))
		return S_RELEASE;
	s = q;
	if (sql_word(&s, end, "XA")) {
		if (sql_word(&s, end, "COMMIT"))
			return S_XA_COMMIT;
		if (sql_word(&s, end, "ROLLBACK"))
			return S_XA_ROLLBACK;
		return S_IGNORE; /* XA START / XA END */
	}
	static const char *const dml[] = {"INSERT", "UPDATE", "DELETE",
	    "REPLACE", "LOAD", "CALL", "DO", "SELECT", "HANDLER", "WITH"};
	for (size_t i = 0; i < sizeof dml / sizeof *dml; i++) {
		s = q;
		if (sql_word(&s, end, dml[i]))
			return S_DML;
	}
	static const char *const skip[] = {"GRANT", "REVOKE", "FLUSH",
	    "ANALYZE", "OPTIMIZE", "REPAIR", "SET", "INSTALL", "UNINSTALL",
	    "CHECKSUM", "CHECK"};
	for (size_t i = 0; i < sizeof skip / sizeof *skip; i++) {
		s = q;
		if (sql_word(&s, end, skip[i]))
			return S_SKIP;
	}
	/* CREATE/ALTER/DROP/RENAME USER and ROLE are account management. */
	s = q;
	if (sql_word(&s, end, "CREATE") ||
	    (s = q, sql_word(&s, end, "ALTER")) ||
	    (s = q, sql_word(&s, end, "DROP")) ||
	    (s = q, sql_word(&s, end, "RENAME"))) {
		const char *t = s;

		if (!(sql_word(&t, end, "OR") && sql_word(&t, end, "REPLACE")))
			t = s;
		if (sql_word(&t, end, "USER") || sql_word(&t, end, "ROLE"))
			return S_SKIP;
	}
	return S_DDL;
}

/*
 * The database a DDL acts on: the qualifier of its first object name
 * (CREATE TABLE shop.t, DROP DATABASE shop, RENAME TABLE shop.a TO ...),
 * else the statement's default database.  Enough to keep srdf's and the
 * system schemas out and to apply --include/--exclude; statements it
 * cannot read (CREATE DEFINER=... VIEW) fall back to the default.
 */
static void
ddl_db(const char *q, size_t n, const char *deflt, char *out, size_t outlen)
{
	static const char *const verbs[] = {
	    "CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"};
	static const char *const noise[] = {"OR", "REPLACE", "TEMPORARY",
	    "ONLINE", "IGNORE", "IF", "NOT", "EXISTS"};
	static const char *const kinds[] = {"TABLE", "DATABASE", "SCHEMA",
	    "VIEW", "SEQUENCE", "PROCEDURE", "FUNCTION", "EVENT", "TRIGGER"};
	const char *end = q + n, *s = q, *id;
	size_t i, len;
	int isdb = 0, found = 0;

	snprintf(out, outlen, "%s", deflt);
	for (i = 0; i < sizeof verbs / sizeof *verbs && !found; i++) {
		s = q;
		found = sql_word(&s, end, verbs[i]);
	}
	if (!found)
		return;
	for (i = 0; i < sizeof noise / sizeof *noise; i++)
		if (sql_word(&s, end, noise[i]))
			i = (size_t)-1; /* start over: words come in any order */
	for (i = 0, found = 0; i < sizeof kinds / sizeof *kinds && !found; i++)
		if ((found = sql_word(&s, end, kinds[i])))
			isdb = i == 1 || i == 2;
	if (!found)
		return;
	for (i = 0; i < sizeof noise / sizeof *noise; i++)
		if (sql_word(&s, end, noise[i]))
			i = (size_t)-1;
	s = sql_skip_blank(s, end);
	if (s < end && *s == '`') {
		id = ++s;
		while (s < end && *s != '`')
			s++;
		len = (size_t)(s - id);
		if (s < end)
			s++;
	} else {
		id = s;
		while (s < end &&
		       (isalnum((unsigned char)*s) || *s == '_' || *s == '$'))
			s++;
		len = (size_t)(s - id);
	}
	if (len == 0 || len >= outlen)
		return;
	if (isdb || (s < end && *s == '.'))
		snprintf(out, outlen, "%.*s", (int)len, id);
}

/* ---- events -------------------------------------------------------- */

static struct tentry *
table_find(struct capture *c, uint64_t id)
{
	struct tentry *e;

	for (e = c->tab[id % TBUCKETS]; e != NULL; e = e->next)
		if (e->t.id == id)
			return e;
	return NULL;
}

static void
tables_clear(struct capture *c)
{
	for (int i = 0; i < TBUCKETS; i++) {
		struct tentry *e = c->tab[i], *n;

		for (; e != NULL; e = n) {
			n = e->next;
			table_free(&e->t);
			free(e->raw);
			free(e);
		}
		c->tab[i] = NULL;
	}
}

/*
 * Cascading foreign keys.  InnoDB makes the changes of an ON DELETE or ON
 * UPDATE rule of CASCADE or SET NULL inside the statement, and they never
 * reach the binlog: the target must make them again, from its own
 * constraints, by deleting or changing the parent row in the source's
 * order.  Folding a group that deletes or changes such a parent would
 * lose that order, so the rows of these tables say "cascade" and
 * srdf-dedup leaves such a group unfolded (srdf-capture(1), "Cascading
 * foreign keys").  TABLE_MAP does not name foreign keys: the source's
 * information_schema does, read at each connection and after each DDL
 * that may add one.  The set only grows while capture runs: a table
 * marked too many costs folding, one marked too few would let a group
 * fold what it must not; when it cannot be read, every table counts.
 */
/* Orders c->known as maria_fk_parent matches: names without case. */
static int
known_cmp(const void *a, const void *b)
{
	const struct maria_fk_parent *x = a, *y = b;
	int d = strcasecmp(x->db, y->db);

	return d != 0 ? d : strcasecmp(x->name, y->name);
}

static int
cascade_parent(const struct capture *c, const char *db, const char *table)
{
	struct maria_fk_parent k = {(char *)db, (char *)table, 0, 0};

	/* c->known is sorted (known_tables): a source of many tables costs
	 * a search, not a scan, for each of them at every reload. */
	return c->fk_unknown || maria_fk_parent(&c->fk, db, table) != NULL ||
	       c->known.n == 0 ||
	       bsearch(&k, c->known.p, c->known.n, sizeof *c->known.p,
	           known_cmp) == NULL;
}

/* The source's tables now, into c->known (emptied first); 0, or -1 with
 * the error on my. */
static int
known_tables(struct capture *c, MYSQL *my)
{
	static const char q[] = "SELECT TABLE_SCHEMA, TABLE_NAME FROM "
	                        "information_schema.TABLES WHERE TABLE_TYPE <> "
	                        "'VIEW'";
	MYSQL_RES *r;
	MYSQL_ROW row;

	if (mysql_real_query(my, q, sizeof q - 1) != 0 ||
	    (r = mysql_store_result(my)) == NULL)
		return -1;
	maria_fk_parents_free(&c->known);
	while ((row = mysql_fetch_row(r)) != NULL) {
		struct maria_fk_parent *k;

		if (row[0] == NULL || row[1] == NULL)
			continue;
		c->known.p = xgrow(c->known.p, &c->known.cap, c->known.n + 1,
		    sizeof *c->known.p);
		k = &c->known.p[c->known.n++];
		k->db = xstrdup(row[0]);
		k->name = xstrdup(row[1]);
		k->on_delete = k->on_update = 0;
	}
	mysql_free_result(r);
	if (c->known.n > 1)
		qsort(c->known.p, c->known.n, sizeof *c->known.p, known_cmp);
	return 0;
}

/* Whether a DDL's text may make a table the parent of a cascading key,
 * give a parent another name, or make a table: it names FOREIGN,
 * REFERENCES, RENAME or CREATE (a word inside a name or a string only
 * costs a reading). */
static int
cascade_ddl(const char *sql, size_t n)
{
	static const char *const words[] = {
	    "FOREIGN", "REFERENCES", "RENAME", "CREATE"};

	for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
		size_t k = strlen(words[w]);

		for (size_t i = 0; i + k <= n; i++)
			if (strncasecmp(sql + i, words[w], k) == 0)
				return 1;
	}
	return 0;
}

/* Reads the parents on my (0), or says why not and counts every table
 * as one until a later reading succeeds (-1); then the tables mapped
 * already take the set, since a parent's TABLE_MAP stays the same when a
 * child's DDL makes it one. */
static int
cascade_read(struct capture *c, MYSQL *my, const char *when)
{
	int rc = 0;

	if (my == NULL || maria_fk_parents(my, &c->fk) != 0 ||
	    known_tables(c, my) != 0) {
		log_warn("cannot read the source's foreign keys %s%s%s: every "
		         "group is written unfolded until they can be read",
		    when, my != NULL ? ": " : "",
		    my != NULL ? mysql_error(my) : "");
		c->fk_unknown = 1;
		rc = -1;
	} else
		c->fk_unknown = 0;
	for (int i = 0; i < TBUCKETS; i++)
		for (struct tentry *e = c->tab[i]; e != NULL; e = e->next)
			e->t.cascade = cascade_parent(c, e->t.db, e->t.name);
	return rc;
}

/* After a DDL that may add a cascading key: read again, on a connection
 * of its own (the dump's is busy). */
static void
cascade_reload(struct capture *c)
{
	int ex;
	MYSQL *my = maria_connect(c->cf->defaults_file, c->cf->group,
	    "the source", (unsigned)c->cf->read_timeout, &ex);

	cascade_read(c, my, "after a DDL");
	if (my != NULL)
		mysql_close(my);
}

/* Where an error happened, for messages. */
static const char *
at(const struct capture *c, uint64_t start)
{
	static char s[600];

	snprintf(s, sizeof s, "binlog %s at position %" PRIu64, c->file, start);
	return s;
}

/* The event handlers below return 0, or an exit code through fail(). */
static int
on_table_map(struct capture *c, const uint8_t *p, size_t n, uint64_t start)
{
	char err[512];
	uint64_t id;
	struct tentry *e, **pp;
	int phl = c->phl[EV_TABLE_MAP] ? c->phl[EV_TABLE_MAP] : 8;

	if (n < (size_t)phl)
		return fail(c, EX_DATAERR, "TABLE_MAP event too short, %s",
		    at(c, start));
	id = phl == 6 ? le32(p) : le48(p);
	e = table_find(c, id);
	/* The same table is mapped again in every transaction: reuse the
	 * parsed form while the bytes are identical. */
	if (e != NULL && e->rawlen == n && memcmp(e->raw, p, n) == 0)
		return 0;
	if (e == NULL) {
		e = xcalloc(1, sizeof *e);
		e->next = c->tab[id % TBUCKETS];
		c->tab[id % TBUCKETS] = e;
	} else {
		table_free(&e->t);
		free(e->raw);
	}
	e->raw = xcalloc(n, 1);
	memcpy(e->raw, p, n);
	e->rawlen = n;
	if (tablemap_parse(p, n, phl, &c->cs, &e->t, err, sizeof err) < 0) {
		/* Unlink so nothing uses a half-parsed table. */
		for (pp = &c->tab[id % TBUCKETS]; *pp != e; pp = &(*pp)->next)
			;
		*pp = e->next;
		table_free(&e->t);
		free(e->raw);
		free(e);
		return fail(c, EX_DATAERR, "%s, %s", err, at(c, start));
	}
	e->t.captured = table_captured(c, e->t.db, e->t.name);
	e->t.resync =
	    strcmp(e->t.db, "srdf") == 0 && strcmp(e->t.name, "resync") == 0;
	e->t.cascade = cascade_parent(c, e->t.db, e->t.name);
	if (e->t.captured && e->t.ncols > 0 && e->t.col[0].name[0] == '@')
		log_warn("%s.%s has no column names in its TABLE_MAP (%s): "
		         "was binlog_row_metadata FULL when it was written?",
		    e->t.db, e->t.name, at(c, start));
	return 0;
}

/* A compressed ROWS event p (n bytes; post-header phl, v2: version 2,
 * kind 0 write, 1 update, 2 delete) of table t: its records, from the
 * event with its rows uncompressed.  Compression starts after the column
 * bitmaps. */
static int
rows_compressed(struct capture *c, struct table *t, const uint8_t *p, size_t n,
    int phl, int v2, int kind, uint64_t start)
{
	const uint8_t *q = p + phl, *end = p + n;
	struct buf whole = {0};
	char err[512];
	uint64_t w;
	size_t k, head;
	int rc;

	if (v2 && phl == 8) {
		if (end - q < 2)
			return fail(c, EX_DATAERR,
			    "corrupt compressed ROWS "
			    "event, %s",
			    at(c, start));
		q += le16(q);
	}
	if ((k = lenenc(q, (size_t)(end - q), &w)) == 0)
		return fail(c, EX_DATAERR, "corrupt compressed ROWS event, %s",
		    at(c, start));
	q += k + (w + 7) / 8 * (kind == 1 ? 2 : 1);
	if (q > end)
		return fail(c, EX_DATAERR, "corrupt compressed ROWS event, %s",
		    at(c, start));
	head = (size_t)(q - p);
	c->scratch.len = 0;
	if (binlog_uncompress(q, (size_t)(end - q), &c->scratch) < 0)
		return fail(c, EX_DATAERR, "cannot uncompress ROWS event, %s",
		    at(c, start));
	buf_add(&whole, p, head);
	buf_add(&whole, c->scratch.p, c->scratch.len);
	rc = rows_emit((uint8_t *)whole.p, whole.len, v2 && phl == 10, kind, t,
	    &c->out, err, sizeof err);
	buf_free(&whole);
	if (rc < 0)
		return fail(c, EX_DATAERR, "%s, %s", err, at(c, start));
	return 0;
}

/* ---- resync chunks ------------------------------------------------- */

/*
 * Resync chunks (srdf-bootstrap(1), "Copying a table again online").
 * srdf-bootstrap --resync reads one key range of a table with a locking
 * read (LOCK IN SHARE MODE: no other transaction can change the range
 * until it commits), writes the rows to a chunk file under DIR/resync/,
 * and in the same transaction updates its row of srdf.resync, naming the
 * file.  The range is therefore exactly as that transaction's place in
 * the binlog leaves it: every change to it before is in the chunk, every
 * change after comes after it.  capture writes the chunk file's records
 * (a "range" record and the rows' inserts, srdf-record(5)) into that
 * transaction's group, before its commit, so the chunk travels in the
 * change stream at the watermark, through dedup (a group of its own),
 * seal and apply like any change.  A restart reads the binlog again
 * from the last sealed GTID and finds the same file: srdf-bootstrap
 * removes a chunk file only once a wagon beyond its watermark is sealed.
 */

/* srdf.resync's rows of one ROWS event: the chunk files they name are
 * kept for the group's end.  0, or an exit code through fail(). */
static int
on_resync_rows(struct capture *c, struct table *t, const uint8_t *p, size_t n,
    int phl, int v2, int compressed, int kind, uint64_t start)
{
	struct buf rows = {0};
	char err[512];
	const char *s, *nl;
	int rc;

	if (compressed)
		return fail(c, EX_DATAERR,
		    "srdf.resync's row event is compressed, which "
		    "srdf-capture does not read for it, %s",
		    at(c, start));
	rc = rows_emit(p, n, v2 && phl == 10, kind, t, &rows, err, sizeof err);
	if (rc < 0) {
		buf_free(&rows);
		return fail(c, EX_DATAERR, "%s, %s", err, at(c, start));
	}
	for (s = rows.p; s != NULL && s < rows.p + rows.len; s = nl + 1) {
		json_t *rec, *a;
		const char *db, *tb, *file, *state;

		nl = memchr(s, '\n', (size_t)(rows.p + rows.len - s));
		if (nl == NULL)
			break;
		rec = json_loadb(s, (size_t)(nl - s), 0, NULL);
		a = json_object_get(rec, "after");
		db = json_string_value(json_object_get(a, "db"));
		tb = json_string_value(json_object_get(a, "tbl"));
		file = json_string_value(json_object_get(a, "file"));
		state = json_string_value(json_object_get(a, "state"));
		if (rec == NULL || db == NULL || tb == NULL) {
			json_decref(rec);
			buf_free(&rows);
			return fail(c, EX_DATAERR,
			    "srdf.resync's row is not srdf-bootstrap's "
			    "(db, tbl, file), %s",
			    at(c, start));
		}
		/* srdf-bootstrap --add's row (db ""): from here on, its
		 * pattern tbl is captured. */
		if (*db == '\0' && state != NULL &&
		    strcmp(state, "including") == 0) {
			log_notice("%s is in the selection from GTID %" PRIu32
			           "-%" PRIu32 "-%" PRIu64
			           " on (srdf-bootstrap --add)",
			    tb, c->cur.domain, c->cur.server, c->cur.seq);
			add_pattern(c, tb);
		}
		if (file != NULL && *file != '\0') {
			buf_add(&c->resync, db, strlen(db) + 1);
			buf_add(&c->resync, tb, strlen(tb) + 1);
			buf_add(&c->resync, file, strlen(file) + 1);
			c->nresync++;
		}
		json_decref(rec);
	}
	buf_free(&rows);
	return 0;
}

/* The chunk files the open group named, their records into the group
 * (before its commit).  0, or an exit code through fail(). */
static int
resync_emit(struct capture *c)
{
	const char *p = c->resync.p;

	for (size_t i = 0; i < c->nresync; i++) {
		const char *db = p, *tb = db + strlen(db) + 1,
		           *file = tb + strlen(tb) + 1;
		char path[4096], blk[65536];
		ssize_t got;
		int fd, ex;
		char lastc = '\n';

		p = file + strlen(file) + 1;
		if (strchr(file, '/') != NULL || file[0] == '.')
			return fail(c, EX_DATAERR,
			    "srdf.resync names the chunk file '%s', "
			    "which is not a file name, at GTID %" PRIu32
			    "-%" PRIu32 "-%" PRIu64,
			    file, c->cur.domain, c->cur.server, c->cur.seq);
		if (*db != '\0' && !table_captured(c, db, tb)) {
			log_warn("a resync chunk of %s.%s at GTID %" PRIu32
			         "-%" PRIu32 "-%" PRIu64 " is left out: "
			         "srdf-capture's filters do not capture the "
			         "table",
			    db, tb, c->cur.domain, c->cur.server, c->cur.seq);
			continue;
		}
		snprintf(path, sizeof path, "%s/resync/%s", c->cf->dir, file);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return fail(c, EX_DATAERR,
			    "cannot open the resync chunk of %s.%s that "
			    "GTID %" PRIu32 "-%" PRIu32 "-%" PRIu64
			    " names, %s: %s; srdf-bootstrap removes one only "
			    "once a wagon beyond it is sealed: was capture "
			    "started before the last sealed GTID?  Run "
			    "srdf-bootstrap --resync %s.%s again after it",
			    db, tb, c->cur.domain, c->cur.server, c->cur.seq,
			    path, strerror(errno), db, tb);
		while ((got = read(fd, blk, sizeof blk)) > 0) {
			buf_add(&c->out, blk, (size_t)got);
			lastc = blk[got - 1];
			if (c->out.len >= 4 * FLUSH_BYTES &&
			    (ex = flush_out(c)) != 0) {
				close(fd);
				return ex;
			}
		}
		close(fd);
		if (got < 0 || lastc != '\n')
			return fail(c, EX_DATAERR,
			    "cannot read the resync chunk %s%s%s", path,
			    got < 0 ? ": " : " (its last line is cut)",
			    got < 0 ? strerror(errno) : "");
		log_debug("resync chunk %s of %s.%s written at GTID %" PRIu32
		          "-%" PRIu32 "-%" PRIu64,
		    file, db, tb, c->cur.domain, c->cur.server, c->cur.seq);
	}
	c->resync.len = 0;
	c->nresync = 0;
	return 0;
}

static int
on_rows(struct capture *c, int type, const uint8_t *p, size_t n, uint64_t start)
{
	char err[512];
	struct tentry *e;
	int kind, v2, compressed = 0, phl, ex;
	uint64_t id;

	switch (type) {
	case EV_WRITE_ROWS_COMPRESSED_V1:
	case EV_UPDATE_ROWS_COMPRESSED_V1:
	case EV_DELETE_ROWS_COMPRESSED_V1:
		compressed = 1;
		kind = type - EV_WRITE_ROWS_COMPRESSED_V1;
		v2 = 0;
		break;
	case EV_WRITE_ROWS_COMPRESSED:
	case EV_UPDATE_ROWS_COMPRESSED:
	case EV_DELETE_ROWS_COMPRESSED:
		compressed = 1;
		kind = type - EV_WRITE_ROWS_COMPRESSED;
		v2 = 1;
		break;
	case EV_WRITE_ROWS_V1:
	case EV_UPDATE_ROWS_V1:
	case EV_DELETE_ROWS_V1:
		kind = type - EV_WRITE_ROWS_V1;
		v2 = 0;
		break;
	default:
		kind = type - EV_WRITE_ROWS;
		v2 = 1;
	}
	phl = c->phl[type] ? c->phl[type] : (v2 ? 10 : 8);
	if (n < (size_t)phl)
		return fail(
		    c, EX_DATAERR, "ROWS event too short, %s", at(c, start));
	id = le48(p);
	if (!c->in_group)
		return fail(c, EX_DATAERR,
		    "row event outside a transaction, %s", at(c, start));
	if ((e = table_find(c, id)) == NULL)
		return fail(c, EX_DATAERR,
		    "row event for table id %" PRIu64 " that no "
		    "TABLE_MAP announced, %s",
		    id, at(c, start));
	if (e->t.resync && kind != 2)
		return on_resync_rows(
		    c, &e->t, p, n, phl, v2, compressed, kind, start);
	if (!e->t.captured)
		return 0;
	if (compressed) {
		if ((ex = rows_compressed(
		         c, &e->t, p, n, phl, v2, kind, start)) != 0)
			return ex;
	} else if (rows_emit(p, n, phl == 10, kind, &e->t, &c->out, err,
	               sizeof err) < 0)
		return fail(c, EX_DATAERR, "%s, %s", err, at(c, start));
	c->nrows++;
	/* A huge transaction must not grow memory without bound, unless a
	 * savepoint may still withdraw what follows it. */
	if (c->nsp == 0 && c->out.len >= 4 * FLUSH_BYTES)
		return flush_out(c);
	return 0;
}

int
binlog_uncompress(const uint8_t *p, size_t n, struct buf *out)
{
	unsigned lenlen;
	uLongf want = 0, got;

	if (n < 2 || !(p[0] & 0x80))
		return -1;
	lenlen = p[0] & 7;
	if (lenlen < 1 || lenlen > 4 || n < 1 + lenlen)
		return -1;
	for (unsigned i = 0; i < lenlen; i++)
		want = want << 8 | p[1 + i];
	if (want > (1u << 30))
		return -1;
	out->len = 0;
	buf_grow(out, want + 1);
	got = want;
	if (uncompress((Bytef *)out->p, &got, p + 1 + lenlen,
	        (uLong)(n - 1 - lenlen)) != Z_OK ||
	    got != want)
		return -1;
	out->len = got;
	return 0;
}

/* Query status variables: only sql_mode, the charset and the time zone
 * (tz, tzsize bytes: "" when the event has none, that is the session's
 * was the server's default) are kept.  MariaDB Knowledge Base,
 * "QUERY_EVENT": status variables. */
static void
query_status(const uint8_t *s, size_t n, uint64_t *sql_mode, uint32_t *cset,
    char *tz, size_t tzsize)
{
	const uint8_t *end = s + n;

	while (s < end) {
		int code = *s++;

		switch (code) {
		case 0:
			s += 4;
			break; /* FLAGS2 */
		case 1:        /* SQL_MODE */
			if (end - s >= 8)
				*sql_mode = le64(s);
			s += 8;
			break;
		case 2:
			s += 1 + (s < end ? s[0] : 0) + 1;
			break;
		case 3:
			s += 4;
			break;
		case 4: /* CHARSET */
			if (end - s >= 6)
				*cset = le16(s);
			s += 6;
			break;
		case 5: /* TIME_ZONE */
			if (s < end && (size_t)(end - s) > s[0] &&
			    s[0] < tzsize) {
				memcpy(tz, s + 1, s[0]);
				tz[s[0]] = '\0';
			}
			s += 1 + (s < end ? s[0] : 0);
			break;
		case 6:
			s += 1 + (s < end ? s[0] : 0);
			break;
		case 7:
		case 8:
			s += 2;
			break;
		case 9:
			s += 8;
			break;
		case 10:
			s += 4;
			break;
		case 11:
			s += 1 + (s < end ? s[0] : 0);
			s += 1 + (s < end ? s[0] : 0);
			break;
		case 12: {
			int cnt = s < end ? *s++ : 0;

			if (cnt == 254)
				break;
			while (cnt-- > 0 && s < end) {
				while (s < end && *s)
					s++;
				s++;
			}
			break;
		}
		case 13:
			s += 3;
			break;
		case 16:
		case 19:
		case 20:
			s += 1;
			break;
		case 17:
			s += 8;
			break;
		case 18:
			s += 2;
			break;
		case 128:
			s += 3;
			break;
		case 129:
			s += 8;
			break;
		default:
			return; /* unknown: the rest cannot be parsed */
		}
	}
}

/* ---- savepoints ---------------------------------------------------- */

/* The savepoint name after "SAVEPOINT", "ROLLBACK [WORK] TO [SAVEPOINT]"
 * or "RELEASE SAVEPOINT" in sql (len bytes), as MariaDB logs it
 * (`name`, quotes doubled inside) or bare, into name (size bytes,
 * ASCII lowercased: MariaDB compares savepoint names without case).
 * Returns 0, or -1 when there is none or it does not fit. */
static int
savepoint_name(const char *sql, size_t len, char *name, size_t size)
{
	const char *s = sql, *end = sql + len;
	size_t n = 0;

	if (sql_word(&s, end, "ROLLBACK")) {
		sql_word(&s, end, "WORK");
		sql_word(&s, end, "TO");
	} else {
		s = sql;
		sql_word(&s, end, "RELEASE");
	}
	sql_word(&s, end, "SAVEPOINT");
	s = sql_skip_blank(s, end);
	if (s < end && *s == '`') {
		for (s++; s < end; s++) {
			if (*s == '`' && (++s == end || *s != '`'))
				break;
			if (n + 1 >= size)
				return -1;
			name[n++] = (char)tolower((unsigned char)*s);
		}
	} else {
		for (; s < end && *s != ' ' && *s != ';' && *s != '\t' &&
		       *s != '\n';
		     s++) {
			if (n + 1 >= size)
				return -1;
			name[n++] = (char)tolower((unsigned char)*s);
		}
	}
	name[n] = '\0';
	return n ? 0 : -1;
}

/* The newest savepoint of the group named name, or -1. */
static long
savepoint_find(const struct capture *c, const char *name)
{
	for (size_t i = c->nsp; i-- > 0;)
		if (strcmp(c->sp[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* A SAVEPOINT, ROLLBACK TO SAVEPOINT or RELEASE SAVEPOINT the binlog
 * carries inside the group being read (kind S_SAVEPOINT, S_ROLLBACK_TO,
 * S_RELEASE).  MariaDB logs them only in a transaction that also changed
 * a non-transactional table, and then keeps the rows it rolled back in
 * the binlog, between the two (the replica's ROLLBACK TO undoes them):
 * a rollback to a savepoint withdraws the records written since it.
 * Returns 0, or EX_DATAERR (fail()) for a rollback to a savepoint the
 * group never set. */
static int
on_savepoint(struct capture *c, enum stmt kind, const char *sql, size_t len,
    uint64_t start)
{
	char name[256];
	long i;

	if (!c->in_group)
		return 0;
	if (savepoint_name(sql, len, name, sizeof name) < 0)
		return fail(c, EX_DATAERR,
		    "cannot read the savepoint name in \"%.*s\", "
		    "%s",
		    (int)(len > 80 ? 80 : len), sql, at(c, start));
	i = savepoint_find(c, name);
	switch (kind) {
	case S_SAVEPOINT:
		/* SQL: a savepoint of the same name is replaced. */
		if (i >= 0) {
			memmove(c->sp + i, c->sp + i + 1,
			    (c->nsp - (size_t)i - 1) * sizeof *c->sp);
			c->nsp--;
		}
		c->sp = xgrow(c->sp, &c->spcap, c->nsp + 1, sizeof *c->sp);
		snprintf(c->sp[c->nsp].name, sizeof c->sp->name, "%s", name);
		c->sp[c->nsp++].off = c->out.len;
		break;
	case S_ROLLBACK_TO:
		if (i < 0)
			return fail(c, EX_DATAERR,
			    "ROLLBACK TO SAVEPOINT `%s` without its "
			    "SAVEPOINT in the group %" PRIu32 "-%" PRIu32
			    "-%" PRIu64 ", %s",
			    name, c->cur.domain, c->cur.server, c->cur.seq,
			    at(c, start));
		/* Savepoints set after it are gone; it stays. */
		c->out.len = c->sp[i].off;
		c->nsp = (size_t)i + 1;
		break;
	default: /* S_RELEASE: it and the later ones are gone */
		if (i >= 0)
			c->nsp = (size_t)i;
		break;
	}
	return 0;
}

/* A QUERY event's parts (MariaDB Knowledge Base, "QUERY_EVENT"): the
 * status variables kept (query_status), the default database, and the
 * statement, which points into the event or, for a compressed one, into
 * c->scratch. */
struct query {
	uint64_t sql_mode;
	uint32_t cset;
	char tz[256];
	char db[256];
	size_t dblen;
	const char *sql;
	size_t sqllen;
};

/* Splits QUERY event p (n bytes, of type EV_QUERY or EV_QUERY_COMPRESSED)
 * into *q. */
static int
query_parse(struct capture *c, int type, const uint8_t *p, size_t n,
    uint64_t start, struct query *q)
{
	const uint8_t *s, *end = p + n;
	size_t stlen;

	if (n < 13)
		return fail(
		    c, EX_DATAERR, "QUERY event too short, %s", at(c, start));
	memset(q, 0, sizeof *q);
	q->dblen = p[8];
	stlen = le16(p + 11);
	s = p + 13;
	if ((size_t)(end - s) < stlen + q->dblen + 1)
		return fail(
		    c, EX_DATAERR, "QUERY event is corrupt, %s", at(c, start));
	query_status(s, stlen, &q->sql_mode, &q->cset, q->tz, sizeof q->tz);
	s += stlen;
	memcpy(q->db, s, q->dblen);
	q->db[q->dblen] = '\0';
	s += q->dblen + 1;
	q->sql = (const char *)s;
	q->sqllen = (size_t)(end - s);
	if (type == EV_QUERY_COMPRESSED) {
		if (binlog_uncompress(s, q->sqllen, &c->scratch) < 0)
			return fail(c, EX_DATAERR,
			    "cannot uncompress QUERY "
			    "event, %s",
			    at(c, start));
		q->sql = c->scratch.p;
		q->sqllen = c->scratch.len;
	}
	return 0;
}

/* A statement of a group of its own (a DDL, a statement passed over)
 * ends the group. */
static int
end_standalone(struct capture *c, uint32_t ts)
{
	if (c->gflags & GTID_FL_STANDALONE && c->in_group)
		return emit_end(c, "commit", ts, 0, 0);
	return 0;
}

/* ROLLBACK: a group the source rolled back (logged because it changed a
 * non-transactional table too, whose rows are in a group of their own):
 * its rows are withdrawn, and an empty group carries the position past
 * its GTID, so that the target reaches the source's position. */
static int
on_rollback(struct capture *c, uint32_t ts)
{
	int ex = 0;

	if (c->in_group) {
		emit_abort(c, "rollback");
		emit_begin(c, c->gts, c->gstart);
		c->in_group = 1;
		ex = emit_end(c, "commit", ts, 0, 0);
	}
	gtid_pos_set(&c->state, &c->cur);
	return ex;
}

/* "XA COMMIT <xid> [ONE PHASE]" or "XA ROLLBACK <xid>" (kind): an
 * "xa_end" record with the xid text. */
static int
on_xa_end(struct capture *c, const struct query *q, enum stmt kind, uint32_t ts)
{
	const char *s = q->sql, *e = q->sql + q->sqllen, *x;
	struct buf *b = &c->out;

	sql_word(&s, e, "XA");
	if (!sql_word(&s, e, "COMMIT"))
		sql_word(&s, e, "ROLLBACK");
	s = sql_skip_blank(s, e);
	x = s;
	while (e > x && (e[-1] == ' ' || e[-1] == ';'))
		e--;
	if (e - x > 9 && strncasecmp(e - 9, "ONE PHASE", 9) == 0)
		e -= 9;
	while (e > x && e[-1] == ' ')
		e--;
	buf_lit(b, "{\"v\":1,\"type\":\"xa_end\",\"xa\":");
	buf_json_str(b, x, (size_t)(e - x));
	buf_printf(b, ",\"outcome\":\"%s\"}\n",
	    kind == S_XA_COMMIT ? "commit" : "rollback");
	if (c->gflags & GTID_FL_STANDALONE)
		return emit_end(c, "commit", ts, 0, 0);
	return 0;
}

/* A statement-format DML: refused (EX_DATAERR), unless it is on a table
 * that is not captured, which is passed over as its rows would be (a
 * table versioned by transaction id has its changes logged so). */
static int
on_dml(struct capture *c, const struct query *q, uint32_t ts, uint64_t start)
{
	struct buf tn = {0};
	char *sep;
	int left_out = 0;

	if (sql_dml_table(q->sql, q->sqllen, q->db, &tn) == 1 &&
	    (sep = strchr(tn.p, '\037')) != NULL) {
		*sep = '\0';
		left_out = !table_captured(c, tn.p, sep + 1);
	}
	buf_free(&tn);
	if (left_out) {
		log_debug("not captured (a statement on a table left out): "
		          "%.*s",
		    (int)(q->sqllen > 80 ? 80 : q->sqllen), q->sql);
		return end_standalone(c, ts);
	}
	return fail(c, EX_DATAERR,
	    "statement-based event at %s (GTID %" PRIu32 "-%" PRIu32 "-%" PRIu64
	    "): \"%.*s\"; srdf needs row events: "
	    "set binlog_format=ROW globally and in every session, then "
	    "re-bootstrap the affected tables with srdf-bootstrap (a "
	    "table MariaDB always logs so, one versioned by transaction "
	    "id, must be left out with --exclude)",
	    at(c, start), c->cur.domain, c->cur.server, c->cur.seq,
	    (int)(q->sqllen > 120 ? 120 : q->sqllen), q->sql);
}

/* A DDL: a "ddl" record when its database is captured; the foreign keys
 * are read again when it may add a cascading one. */
static int
on_ddl(struct capture *c, const struct query *q, uint32_t ts)
{
	char target[256];
	struct buf *b = &c->out;

	ddl_db(q->sql, q->sqllen, q->db, target, sizeof target);
	if (cascade_ddl(q->sql, q->sqllen))
		cascade_reload(c);
	if (ddl_captured(c, target)) {
		buf_lit(b, "{\"v\":1,\"type\":\"ddl\",\"db\":");
		buf_json_str(b, q->db, q->dblen);
		buf_lit(b, ",\"sql\":");
		if (utf8_valid((const uint8_t *)q->sql, q->sqllen))
			buf_json_str(b, q->sql, q->sqllen);
		else
			buf_json_b64(b, q->sql, q->sqllen);
		buf_printf(b, ",\"sql_mode\":%" PRIu64 ",\"charset\":%" PRIu32,
		    q->sql_mode, q->cset);
		if (q->tz[0] != '\0') {
			buf_lit(b, ",\"time_zone\":");
			buf_json_str(b, q->tz, strlen(q->tz));
		}
		buf_lit(b, "}\n");
		c->nddl++;
	}
	return end_standalone(c, ts);
}

/* A QUERY event: transaction control, savepoints, XA, DDL; DML in
 * statement format is refused. */
static int
on_query(struct capture *c, int type, const uint8_t *p, size_t n, uint32_t ts,
    uint64_t start)
{
	struct query q;
	enum stmt kind;
	int ex;

	if ((ex = query_parse(c, type, p, n, start, &q)) != 0)
		return ex;
	switch (kind = classify(q.sql, q.sqllen)) {
	case S_BEGIN:
	case S_IGNORE:
		return 0;
	case S_SAVEPOINT:
	case S_ROLLBACK_TO:
	case S_RELEASE:
		return on_savepoint(c, kind, q.sql, q.sqllen, start);
	case S_COMMIT:
		return c->in_group ? emit_end(c, "commit", ts, 0, 0) : 0;
	case S_ROLLBACK:
		return on_rollback(c, ts);
	case S_XA_COMMIT:
	case S_XA_ROLLBACK:
		return on_xa_end(c, &q, kind, ts);
	case S_DML:
		return on_dml(c, &q, ts, start);
	case S_SKIP:
		log_debug("not captured: %.*s",
		    (int)(q.sqllen > 80 ? 80 : q.sqllen), q.sql);
		return end_standalone(c, ts);
	case S_DDL:
		return on_ddl(c, &q, ts);
	}
	return 0;
}

static void
format_xid(char *out, size_t len, uint32_t fmt, const uint8_t *d, unsigned gl,
    unsigned bl)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	unsigned i;

	o += (size_t)snprintf(out + o, len - o, "X'");
	for (i = 0; i < gl && o + 4 < len; i++) {
		out[o++] = hex[d[i] >> 4];
		out[o++] = hex[d[i] & 15];
	}
	o += (size_t)snprintf(out + o, len - o, "',X'");
	for (i = 0; i < bl && o + 4 < len; i++) {
		out[o++] = hex[d[gl + i] >> 4];
		out[o++] = hex[d[gl + i] & 15];
	}
	snprintf(out + o, len - o, "',%" PRIu32, fmt);
}

/* GTID: a group begins. */
static int
on_gtid(struct capture *c, const uint8_t *p, size_t n, uint32_t server,
    uint32_t ts, uint64_t start)
{
	const uint8_t *q;

	if (n < 13)
		return fail(
		    c, EX_DATAERR, "GTID event too short, %s", at(c, start));
	if (c->in_group)
		emit_abort(c, "incomplete");
	c->cur.seq = le64(p);
	c->cur.domain = le32(p + 8);
	c->cur.server = server;
	c->gflags = p[12];
	c->xid[0] = '\0';
	q = p + 13;
	if (c->gflags & GTID_FL_GROUP_COMMIT_ID)
		q += 8;
	if (c->gflags & (GTID_FL_PREPARED_XA | GTID_FL_COMPLETED_XA)) {
		if ((size_t)(p + n - q) < 6 ||
		    (size_t)(p + n - q) < 6u + q[4] + q[5])
			return fail(c, EX_DATAERR,
			    "GTID event XID is corrupt, %s", at(c, start));
		format_xid(c->xid, sizeof c->xid, le32(q), q + 6, q[4], q[5]);
	}
	c->in_group = 1;
	c->resync.len = 0;
	c->nresync = 0;
	c->gts = ts;
	c->gstart = start;
	emit_begin(c, ts, start);
	return 0;
}

/* An event as handle_event reads it: its common header (MariaDB
 * Knowledge Base, "Binlog Event Header") and its body. */
struct event {
	uint32_t ts, server, logpos;
	uint16_t flags;
	int type;
	const uint8_t *p; /* the body, after the header */
	size_t n;         /* its length, without a CRC32 */
	uint64_t start;   /* where the event begins in c->file */
};

/* Reads the header of event ev (len bytes) into *e and checks its CRC32
 * (an artificial ROTATE's is checked by on_rotate). */
static int
event_header(struct capture *c, const uint8_t *ev, size_t len, struct event *e)
{
	uint32_t evlen;

	if (len < EV_HEADER_LEN)
		return fail(c, EX_PROTOCOL,
		    "short event packet (%zu bytes) "
		    "after %s:%" PRIu64,
		    len, c->file, c->pos);
	e->ts = le32(ev);
	e->type = ev[4];
	e->server = le32(ev + 5);
	evlen = le32(ev + 9);
	e->logpos = le32(ev + 13);
	e->flags = (uint16_t)le16(ev + 17);
	if (evlen != len)
		return fail(c, EX_PROTOCOL,
		    "event length %" PRIu32 " but "
		    "packet of %zu bytes after %s:%" PRIu64,
		    evlen, len, c->file, c->pos);
	e->start = e->logpos >= evlen ? e->logpos - evlen : c->pos;
	if (e->type == EV_FORMAT_DESCRIPTION && len >= EV_HEADER_LEN + 57 + 5)
		c->crc = ev[len - 5] == 1;
	e->n = len - EV_HEADER_LEN;
	if (c->crc && !(e->type == EV_ROTATE && e->ts == 0)) {
		if (e->n < 4)
			return fail(c, EX_DATAERR,
			    "event without room for its "
			    "CRC32, %s",
			    at(c, e->start));
		if ((uint32_t)crc32(0, ev, (uInt)(len - 4)) !=
		    le32(ev + len - 4))
			return fail(c, EX_DATAERR,
			    "CRC32 mismatch in a %d event "
			    "at %s: the binlog or the network corrupted it; "
			    "check the source's binlog with mariadb-binlog",
			    e->type, at(c, e->start));
		e->n -= 4;
	}
	e->p = ev + EV_HEADER_LEN;
	return 0;
}

/* ROTATE: the next binlog file and position. */
static int
on_rotate(struct capture *c, const uint8_t *ev, size_t len, struct event *e)
{
	if (e->n >= 8 && e->ts == 0 && c->crc) {
		/* An artificial rotate may carry a CRC too. */
		if (e->n >= 12 && (uint32_t)crc32(0, ev, (uInt)(len - 4)) ==
		                      le32(ev + len - 4))
			e->n -= 4;
	}
	if (e->n < 8 || e->n - 8 >= sizeof c->file)
		return fail(
		    c, EX_PROTOCOL, "malformed ROTATE event after %s", c->file);
	memcpy(c->file, e->p + 8, e->n - 8);
	c->file[e->n - 8] = '\0';
	c->pos = le64(e->p);
	log_debug("rotate to %s:%" PRIu64, c->file, c->pos);
	return 0;
}

/* FORMAT_DESCRIPTION: the post-header lengths, one per event type from 1
 * on; the tables mapped before are forgotten. */
static int
on_format_description(struct capture *c, const struct event *e)
{
	if (e->n < 57)
		return fail(c, EX_PROTOCOL,
		    "malformed FORMAT_DESCRIPTION "
		    "event");
	memset(c->phl, 0, sizeof c->phl);
	for (size_t i = 0; 57 + i < e->n - 1 && i < 255; i++)
		c->phl[i + 1] = e->p[57 + i];
	tables_clear(c);
	if (c->in_group) /* the server restarted mid-group */
		emit_abort(c, "incomplete");
	return 0;
}

/* XA_PREPARE ends the group: a one-phase XA COMMIT commits it. */
static int
on_xa_prepare(struct capture *c, const struct event *e)
{
	if (!c->in_group)
		return 0;
	if (e->n >= 1 && e->p[0])
		return emit_end(c, "commit", e->ts, 0, 0); /* one phase */
	return emit_end(c, "xa_prepare", e->ts, 0, 0);
}

/* One event (len bytes from ev, the packet without its 0x00 byte);
 * c->pos moves past it. */
static int
handle_event(struct capture *c, const uint8_t *ev, size_t len)
{
	struct event e = {0};
	int ex = 0;

	if ((ex = event_header(c, ev, len, &e)) != 0)
		return ex;
	c->nevents++;
	switch (e.type) {
	case EV_ROTATE:
		return on_rotate(c, ev, len, &e);
	case EV_FORMAT_DESCRIPTION:
		ex = on_format_description(c, &e);
		break;
	case EV_GTID:
		ex = on_gtid(c, e.p, e.n, e.server, e.ts, e.start);
		break;
	case EV_QUERY:
	case EV_QUERY_COMPRESSED:
		ex = on_query(c, e.type, e.p, e.n, e.ts, e.start);
		break;
	case EV_TABLE_MAP:
		ex = on_table_map(c, e.p, e.n, e.start);
		break;
	case EV_WRITE_ROWS_V1:
	case EV_UPDATE_ROWS_V1:
	case EV_DELETE_ROWS_V1:
	case EV_WRITE_ROWS:
	case EV_UPDATE_ROWS:
	case EV_DELETE_ROWS:
	case EV_WRITE_ROWS_COMPRESSED_V1:
	case EV_UPDATE_ROWS_COMPRESSED_V1:
	case EV_DELETE_ROWS_COMPRESSED_V1:
	case EV_WRITE_ROWS_COMPRESSED:
	case EV_UPDATE_ROWS_COMPRESSED:
	case EV_DELETE_ROWS_COMPRESSED:
		ex = on_rows(c, e.type, e.p, e.n, e.start);
		break;
	case EV_XID:
		if (e.logpos)
			c->pos = e.logpos;
		if (!c->in_group)
			return 0;
		if (c->nresync > 0 && (ex = resync_emit(c)) != 0)
			return ex;
		return emit_end(
		    c, "commit", e.ts, e.n >= 8 ? le64(e.p) : 0, e.n >= 8);
	case EV_XA_PREPARE:
		if (e.logpos)
			c->pos = e.logpos;
		return on_xa_prepare(c, &e);
	case EV_HEARTBEAT:
		return c->nsp == 0 ? flush_out(c) : 0;
	case EV_INCIDENT:
		return fail(c, EX_DATAERR,
		    "the source logged an INCIDENT event "
		    "at %s: changes may be missing from its binlog; compare "
		    "with srdf-verify and re-bootstrap the affected tables",
		    at(c, e.start));
	case EV_STOP:
	case EV_INTVAR:
	case EV_RAND:
	case EV_USER_VAR:
	case EV_ANNOTATE_ROWS:
	case EV_BINLOG_CHECKPOINT:
	case EV_GTID_LIST:
	case EV_START_ENCRYPTION:
		break;
	default:
		if (!(e.flags & 0x80)) /* LOG_EVENT_IGNORABLE_F */
			return fail(c, EX_DATAERR,
			    "unknown event type %d at %s", e.type,
			    at(c, e.start));
	}
	if (ex != 0)
		return ex;
	if (e.logpos)
		c->pos = e.logpos;
	return 0;
}

/* ---- connection ---------------------------------------------------- */

static int
sql_exec(MYSQL *my, const char *q)
{
	if (mysql_query(my, q) != 0) {
		log_err("query failed: %s: %s", q, mysql_error(my));
		return -1;
	}
	return 0;
}

/* Refuses a source that cannot feed srdf (EX_CONFIG, fail()); warns on
 * short retention. */
static int
check_source(struct capture *c)
{
	MYSQL *my = c->my;
	static const struct {
		const char *var, *want, *fix;
	} need[] = {
	    {"@@log_bin", "1", "start the server with log_bin (log-bin=NAME)"},
	    {"@@global.binlog_format", "ROW",
	        "SET GLOBAL binlog_format=ROW and binlog_format=ROW in my.cnf"},
	    {"@@global.binlog_row_image", "FULL",
	        "SET GLOBAL binlog_row_image=FULL and in my.cnf"},
	    {"@@global.binlog_row_metadata", "FULL",
	        "SET GLOBAL binlog_row_metadata=FULL and in my.cnf (MariaDB "
	        "10.5 or later)"},
	};
	char *v;

	for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
		char q[128];

		snprintf(q, sizeof q, "SELECT %s", need[i].var);
		v = maria_query_one(my, q);
		if (v == NULL)
			return fail(c, EX_CONFIG,
			    "the source has no %s (%s): MariaDB 10.5 "
			    "or later is needed",
			    need[i].var + 2, mysql_error(my));
		if (strcasecmp(v, need[i].want) != 0) {
			int ex = fail(c, EX_CONFIG,
			    "the source has %s=%s, srdf needs %s: %s",
			    need[i].var + (need[i].var[2] == 'g' ? 9 : 2), v,
			    need[i].want, need[i].fix);

			free(v);
			return ex;
		}
		free(v);
	}
	if ((v = maria_query_one(
	         my, "SELECT @@global.binlog_expire_logs_seconds")) != NULL) {
		long s = atol(v);

		if (s > 0 && s < 86400)
			log_warn(
			    "binlog retention is %ld s "
			    "(binlog_expire_logs_seconds): if srdf falls "
			    "that far behind the binlog it needs is purged; "
			    "keep at least a day",
			    s);
		free(v);
	}
	return 0;
}

static int
charset_class(const char *name)
{
	static const char *const wide[] = {
	    "ucs2", "utf16", "utf16le", "utf32", "filename"};

	if (strcmp(name, "utf8mb4") == 0 || strcmp(name, "utf8mb3") == 0 ||
	    strcmp(name, "utf8") == 0)
		return CS_UTF8;
	if (strcmp(name, "binary") == 0)
		return CS_BINARY;
	for (size_t i = 0; i < sizeof wide / sizeof *wide; i++)
		if (strcmp(name, wide[i]) == 0)
			return CS_OTHER;
	return CS_ASCII;
}

static void
load_charsets(struct capture *c)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	const char *q[] = {
	    "SELECT ID, CHARACTER_SET_NAME FROM "
	    "information_schema.COLLATION_CHARACTER_SET_APPLICABILITY",
	    "SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS"};

	c->cs.n = 65536;
	c->cs.cls = xcalloc(c->cs.n, 1);
	for (size_t i = 0; i < 2; i++) {
		if (mysql_query(c->my, q[i]) != 0 ||
		    (r = mysql_store_result(c->my)) == NULL)
			continue;
		while ((row = mysql_fetch_row(r)) != NULL) {
			unsigned long id;

			if (row[0] == NULL || row[1] == NULL)
				continue;
			id = strtoul(row[0], NULL, 10);
			if (id >= c->cs.n)
				continue;
			c->cs.cls[id] = charset_class(row[1]);
		}
		mysql_free_result(r);
	}
	c->cs.cls[63] = CS_BINARY;
}

/* Connects, checks and starts COM_BINLOG_DUMP at the resume position.
 * Returns 0, or an exit code (with the reason logged). */
static int
start_dump(struct capture *c, int first)
{
	const struct config *cf = c->cf;
	struct buf q = {0}, pos = {0};
	int ex = EX_UNAVAILABLE;
	uint16_t flags = cf->until_end ? MARIADB_RPL_BINLOG_DUMP_NON_BLOCK : 0;

	if ((c->my = maria_connect(cf->defaults_file, cf->group, "the source",
	         (unsigned)cf->read_timeout, &ex)) == NULL)
		return ex;
	if ((ex = check_source(c)) != 0)
		return ex;
	/* Never a reason to stop: a lost connection fails the dump next. */
	cascade_read(c, c->my, "at connection");
	if (first)
		load_charsets(c);
	gtid_state_str(c, &pos);
	buf_printf(&q,
	    "SET @master_binlog_checksum=@@global.binlog_checksum, "
	    "@mariadb_slave_capability=4, "
	    "@master_heartbeat_period=%lld, "
	    "@slave_connect_state='%s'",
	    (long long)cf->heartbeat * 1000000000LL, pos.p);
	if (sql_exec(c->my, q.p) < 0) {
		buf_free(&q);
		buf_free(&pos);
		return EX_UNAVAILABLE;
	}
	buf_free(&q);
	c->crc = 0;
	{
		char *v =
		    maria_query_one(c->my, "SELECT @@global.binlog_checksum");

		c->crc = v != NULL && strcasecmp(v, "CRC32") == 0;
		free(v);
	}
	if ((c->rpl = mariadb_rpl_init(c->my)) == NULL)
		return fail(c, EX_SOFTWARE, "mariadb_rpl_init failed: %s",
		    mysql_error(c->my));
	mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_SERVER_ID, cf->server_id);
	mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_FLAGS, (unsigned)flags);
	mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_FILENAME, "", (size_t)0);
	mariadb_rpl_optionsv(c->rpl, MARIADB_RPL_START, (unsigned long)4);
	if (mariadb_rpl_open(c->rpl) != 0) {
		log_err("cannot start the binlog dump: %s", mysql_error(c->my));
		buf_free(&pos);
		return maria_exit_for(mysql_errno(c->my));
	}
	log_info("reading the binlog as replica %" PRIu32 " from GTID "
	         "position '%s'%s",
	    cf->server_id, pos.p, cf->until_end ? " to its current end" : "");
	buf_free(&pos);
	return 0;
}

static void
stop_dump(struct capture *c)
{
	if (c->rpl != NULL) {
		/* mariadb_rpl_close() frees the handle, not the connection. */
		mariadb_rpl_close(c->rpl);
		c->rpl = NULL;
	}
	if (c->my != NULL) {
		mysql_close(c->my);
		c->my = NULL;
	}
}

/* The dump's error: map the server's word to an exit code; a negative
 * one means "temporary, reconnect". */
static int
dump_error(struct capture *c)
{
	unsigned e = mysql_errno(c->my);
	const char *m = mysql_error(c->my);
	struct buf pos = {0};
	int ex;

	gtid_state_str(c, &pos);
	if (e == ER_SPECIFIC_ACCESS_DENIED_ERROR ||
	    e == ER_ACCESS_DENIED_ERROR) {
		log_err(
		    "the source refused the binlog dump: %s; grant the "
		    "capture user REPLICATION SLAVE (GRANT REPLICATION SLAVE, "
		    "BINLOG MONITOR, SELECT ON *.* TO ...)",
		    m);
		ex = EX_NOPERM;
	} else if (e == 1236 &&
	           (strstr(m, "purged") || strstr(m, "Could not "
	                                             "find GTID state"))) {
		log_err(
		    "the binlog holding GTID position '%s' is gone from the "
		    "source (%s); the changes after it cannot be read: "
		    "re-initialise the target with srdf-bootstrap",
		    pos.p, m);
		ex = EX_NOINPUT;
	} else if (e == 1236) {
		log_err(
		    "the source cannot serve GTID position '%s': %s", pos.p, m);
		ex = EX_DATAERR;
	} else {
		/* Lost connection, server shutdown, killed thread: the
		 * source comes back, so the caller retries. */
		log_warn("lost the binlog stream after %s:%" PRIu64 ": %s",
		    c->file, c->pos, m);
		buf_free(&pos);
		return -EX_UNAVAILABLE;
	}
	buf_free(&pos);
	return ex;
}

/* Reads the binlog from c->state until stopped (or its end, with
 * --until-end), reconnecting after a lost connection.  Returns 0, or
 * an exit code with the reason logged (c->failed set when fail() gave
 * it). */
static int
run(struct capture *c)
{
	int backoff = 1, first = 1, rc, ex;

	for (;;) {
		if ((rc = start_dump(c, first)) != 0) {
			if (first || rc != EX_UNAVAILABLE || c->cf->until_end)
				return rc;
			goto retry;
		}
		first = 0;
		for (;;) {
			unsigned long len = mysql_net_read_packet(c->my);
			const uint8_t *pk = c->my->net.read_pos;

			if (len == packet_error) {
				if (stopping && !c->in_group)
					goto done;
				rc = dump_error(c);
				if (rc > 0)
					return rc;
				rc = -rc;
				break;
			}
			if (len < 9 && pk[0] == 0xfe)
				goto done; /* EOF: end of binlog (non-block) */
			if (pk[0] != 0)
				return fail(c, EX_PROTOCOL,
				    "unexpected packet "
				    "0x%02x from the source after %s:%" PRIu64,
				    pk[0], c->file, c->pos);
			if ((ex = handle_event(c, pk + 1, len - 1)) != 0)
				return ex;
			if (stopping && !c->in_group)
				goto done;
			backoff = 1;
		}
		stop_dump(c);
		if (c->in_group)
			emit_abort(c, "reconnect");
		if ((ex = flush_out(c)) != 0)
			return ex;
		if (c->cf->until_end || stopping)
			return stopping ? 0 : rc;
	retry:
		log_warn("reconnecting to the source in %d s", backoff);
		sleep((unsigned)backoff);
		if (stopping)
			return 0;
		backoff = backoff * 2 > MAX_BACKOFF ? MAX_BACKOFF : backoff * 2;
	}
done:
	if (c->in_group)
		emit_abort(c, "incomplete");
	if ((ex = flush_out(c)) != 0)
		return ex;
	stop_dump(c);
	{
		struct buf pos = {0};

		gtid_state_str(c, &pos);
		log_info(
		    "stopped at %s:%" PRIu64 ", GTID position '%s': %" PRIu64
		    " transactions, %" PRIu64 " row events, %" PRIu64 " DDL",
		    c->file, c->pos, pos.p, c->ntrx, c->nrows, c->nddl);
		buf_free(&pos);
	}
	return 0;
}

/* ---- main ---------------------------------------------------------- */

/* The GTID position to start from, into *pos (the caller frees it; NULL
 * when there is none): --from-gtid, else the ledger's last_sealed_gtid,
 * else its bootstrap_gtid, else --start-gtid.  0, or EX_NOINPUT with the
 * reason logged. */
static int
start_position(const struct config *cf, char **pos, char **added)
{
	struct ledger *l;
	char *v = NULL;
	struct ledger_txn *t;
	char path[4096];
	int rc;

	*pos = NULL;
	*added = NULL;
	if (cf->from_gtid != NULL) {
		*pos = xstrdup(cf->from_gtid);
		return 0;
	}
	snprintf(path, sizeof path, "%s/ledger", cf->dir);
	if (access(path, F_OK) != 0)
		goto start;
	/* A ledger srdf-seal is creating this moment (a new state
	 * directory, started beside us) has no tables yet: no position. */
	if ((rc = ledger_open(cf->dir, LEDGER_RDONLY, &l)) == MDB_NOTFOUND ||
	    rc == ENOENT)
		goto start;
	if (rc != 0) {
		log_err("cannot open the ledger in %s: %s", cf->dir,
		    ledger_strerror(rc));
		return EX_NOINPUT;
	}
	if ((rc = ledger_txn_begin(l, LEDGER_RDONLY, &t)) != 0) {
		log_err("cannot read the ledger in %s: %s", cf->dir,
		    ledger_strerror(rc));
		ledger_close(l);
		return EX_NOINPUT;
	}
	if ((rc = ledger_meta_get(t, "last_sealed_gtid", &v)) == 0 && v == NULL)
		rc = ledger_meta_get(t, "bootstrap_gtid", &v);
	if (rc == 0)
		rc = ledger_meta_get(t, "selection_added", added);
	ledger_txn_abort(t);
	ledger_close(l);
	if (rc != 0) {
		log_err("cannot read the start GTID from the ledger in %s: %s",
		    cf->dir, ledger_strerror(rc));
		return EX_NOINPUT;
	}
	if (v != NULL) {
		log_info("starting after the GTID position '%s' recorded in "
		         "%s/ledger",
		    v, cf->dir);
		*pos = v;
		return 0;
	}
start:
	if (cf->start_gtid != NULL) {
		log_info("starting after --start-gtid '%s': %s/ledger has no "
		         "position yet",
		    cf->start_gtid, cf->dir);
		*pos = xstrdup(cf->start_gtid);
	}
	return 0;
}

/* ---- the selection of the copy ------------------------------------ */

/* Whether copied table name ("db.table") passes --include/--exclude or
 * a pattern srdf-bootstrap --add put into the selection. */
static int
name_captured(const struct capture *c, const char *name)
{
	const char *dot = strchr(name, '.');
	char db[300];

	if (dot == NULL || (size_t)(dot - name) >= sizeof db)
		return 1; /* not a name of ours: nothing to judge */
	snprintf(db, sizeof db, "%.*s", (int)(dot - name), name);
	return table_captured(c, db, dot + 1);
}

/* The tables of copies[] that --drop-from-selection patterns name,
 * recorded as dropped from copy `first' at position pos in t (not those
 * dropped before); dies with EX_USAGE on a pattern that names a table
 * the filters keep, or none of the copy. */
static int
drop_tables(const struct capture *c, struct ledger_txn *t, json_t *tables,
    const char *first, json_t *dropped, const char *pos)
{
	const struct config *cf = c->cf;
	json_t *v;
	size_t i;
	int rc;

	for (int k = 0; k < cf->ndrop; k++) {
		int matched = 0;

		json_array_foreach(tables, i, v)
		{
			const char *name = json_string_value(v);

			if (name == NULL || fnmatch(cf->drop[k], name, 0) != 0)
				continue;
			if (name_captured(c, name))
				die(EX_USAGE,
				    "--drop-from-selection %s names %s, which "
				    "--include and --exclude keep: only a "
				    "table they leave out can be dropped from "
				    "the selection",
				    cf->drop[k], name);
			matched++;
			if (json_object_get(dropped, name) != NULL)
				continue;
			if ((rc = selection_drop(
			         t, first, name, time(NULL), pos)) != 0)
				return rc;
			log_notice(
			    "%s is dropped from the selection: "
			    "srdf-capture leaves it out after GTID "
			    "position '%s', and the target keeps its copy "
			    "as of then, no longer kept in step "
			    "(srdf-status lists it)",
			    name, pos);
		}
		if (matched == 0)
			die(EX_USAGE,
			    "--drop-from-selection %s: no table of the copy "
			    "recorded in %s/ledger matches it",
			    cf->drop[k], cf->dir);
	}
	return 0;
}

/* Up to 10 of the names in a, comma-separated, into b. */
static void
some_names(struct buf *b, json_t *a)
{
	json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
	{
		if (i == 10) {
			buf_lit(b, ", ...");
			break;
		}
		if (i > 0)
			buf_lit(b, ", ");
		buf_puts(b, json_string_value(v));
	}
	buf_putc(b, '\0');
}

/* srdf-capture(1), "The selection of the copy": every table that
 * srdf-bootstrap copied (the ledger's bootstrap_progress) passes
 * --include and --exclude, unless it was dropped from the selection
 * (--drop-from-selection, recorded now); a dropped one passes them no
 * more.  pos: the start position.  0, or the exit status (logged). */
static int
selection_check(const struct capture *c, const char *pos)
{
	const struct config *cf = c->cf;
	struct ledger *l;
	struct ledger_txn *t = NULL;
	json_t *tables = NULL, *dropped = NULL, *stale, *back, *v;
	char *first = NULL, path[4096];
	struct buf b = {0};
	size_t i;
	int rc;

	snprintf(path, sizeof path, "%s/ledger", cf->dir);
	if (access(path, F_OK) != 0) {
		if (cf->ndrop > 0)
			die(EX_USAGE,
			    "--drop-from-selection: %s holds no ledger, so "
			    "no copy of srdf-bootstrap to drop tables from",
			    cf->dir);
		return 0;
	}
	/* A ledger srdf-seal is creating this moment (a new state
	 * directory, started beside us) holds no copy to judge. */
	rc = ledger_open(cf->dir, cf->ndrop > 0 ? 0 : LEDGER_RDONLY, &l);
	if ((rc == MDB_NOTFOUND || rc == ENOENT) && cf->ndrop == 0)
		return 0;
	if (rc != 0)
		return log_fail(EX_NOINPUT, "cannot open the ledger in %s: %s",
		    cf->dir, ledger_strerror(rc));
	if ((rc = ledger_txn_begin(l, cf->ndrop > 0 ? 0 : LEDGER_RDONLY, &t)) !=
	        0 ||
	    (rc = selection_copy(t, &tables, &first)) != 0 ||
	    (rc = selection_dropped(t, first, &dropped)) != 0)
		goto fail;
	if (cf->ndrop > 0 && tables == NULL)
		die(EX_USAGE,
		    "--drop-from-selection: %s/ledger holds no copy of "
		    "srdf-bootstrap to drop tables from",
		    cf->dir);
	if (cf->ndrop > 0) {
		if ((rc = drop_tables(c, t, tables, first, dropped, pos)) != 0)
			goto fail;
		rc = ledger_txn_commit(t);
		t = NULL;
		json_decref(dropped);
		dropped = NULL;
		if (rc != 0 ||
		    (rc = ledger_txn_begin(l, LEDGER_RDONLY, &t)) != 0 ||
		    (rc = selection_dropped(t, first, &dropped)) != 0)
			goto fail;
	}
	if (t != NULL)
		ledger_txn_abort(t);
	ledger_close(l);
	stale = json_array();
	back = json_array();
	json_array_foreach(tables, i, v)
	{
		const char *name = json_string_value(v);
		int in, gone;

		if (name == NULL)
			continue;
		in = name_captured(c, name);
		gone = json_object_get(dropped, name) != NULL;
		if (!in && !gone)
			json_array_append(stale, v);
		else if (in && gone)
			json_array_append(back, v);
	}
	rc = 0;
	if (json_array_size(stale) == 1) {
		const char *name = json_string_value(json_array_get(stale, 0));

		rc = log_fail(EX_CONFIG,
		    "--include/--exclude leave out %s, which srdf-bootstrap "
		    "copied to the target (%s/ledger): its copy there would "
		    "stay as it is for ever, stale; give srdf-capture the "
		    "selection of the copy, or add --drop-from-selection %s "
		    "to stop keeping it in step (srdf-status then lists it)",
		    name, cf->dir, name);
	} else if (json_array_size(stale) > 1) {
		some_names(&b, stale);
		rc = log_fail(EX_CONFIG,
		    "--include/--exclude leave out %zu tables that "
		    "srdf-bootstrap copied to the target (%s/ledger): %s; their "
		    "copies there would stay as they are for ever, stale; give "
		    "srdf-capture the selection of the copy, or add "
		    "--drop-from-selection for them to stop keeping them in "
		    "step (srdf-status then lists them)",
		    json_array_size(stale), cf->dir, b.p);
	} else if (json_array_size(back) > 0) {
		const char *name = json_string_value(json_array_get(back, 0));
		json_t *d = json_object_get(dropped, name);

		rc = log_fail(EX_CONFIG,
		    "--include/--exclude select %s, which was dropped from the "
		    "selection after GTID position '%s' (--drop-from-selection): "
		    "the target's copy of it missed the changes since; leave "
		    "it out (--exclude %s), or copy it again with "
		    "srdf-bootstrap",
		    name, json_string_value(json_object_get(d, "gtid")), name);
	}
	buf_free(&b);
	json_decref(stale);
	json_decref(back);
	json_decref(tables);
	json_decref(dropped);
	free(first);
	return rc;
fail:
	if (t != NULL)
		ledger_txn_abort(t);
	ledger_close(l);
	json_decref(tables);
	json_decref(dropped);
	free(first);
	return log_fail(EX_NOINPUT,
	    "cannot read the selection of the copy in %s/ledger: %s", cf->dir,
	    ledger_strerror(rc));
}

/* Options and operands into *cf (srdf-capture(1), OPTIONS); dies with
 * EX_USAGE on a bad one. */
static void
parse_options(int argc, char **argv, struct config *cf)
{
	static const struct option opts[] = {
	    {"defaults-file", required_argument, NULL, 'F'},
	    {"defaults-group", required_argument, NULL, 'G'},
	    {"dir", required_argument, NULL, 'd'},
	    {"drop-from-selection", required_argument, NULL, 'D'},
	    {"exclude", required_argument, NULL, 'x'},
	    {"from-gtid", required_argument, NULL, 'g'},
	    {"heartbeat", required_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {"include", required_argument, NULL, 'i'},
	    {"read-timeout", required_argument, NULL, 'T'},
	    {"server-id", required_argument, NULL, 's'},
	    {"start-gtid", required_argument, NULL, 'S'},
	    {"until-end", no_argument, NULL, 'u'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	size_t incap = 0, excap = 0, dropcap = 0;
	int ch;

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
		case 'g':
			cf->from_gtid = optarg;
			break;
		case 'S':
			cf->start_gtid = optarg;
			break;
		case 'H':
			cf->heartbeat =
			    (int)opt_count(optarg, "--heartbeat", 1, 3600);
			break;
		case 'T':
			cf->read_timeout =
			    (int)opt_count(optarg, "--read-timeout", 2, 86400);
			break;
		case 'i':
			cf->include = xgrow(cf->include, &incap,
			    (size_t)cf->ninclude + 1, sizeof *cf->include);
			cf->include[cf->ninclude++] = optarg;
			break;
		case 'D':
			cf->drop = xgrow(cf->drop, &dropcap,
			    (size_t)cf->ndrop + 1, sizeof *cf->drop);
			cf->drop[cf->ndrop++] = optarg;
			break;
		case 'x':
			cf->exclude = xgrow(cf->exclude, &excap,
			    (size_t)cf->nexclude + 1, sizeof *cf->exclude);
			cf->exclude[cf->nexclude++] = optarg;
			break;
		case 's':
			cf->server_id = (uint32_t)strtoul(optarg, NULL, 10);
			if (cf->server_id == 0)
				die(EX_USAGE, "--server-id must be a non-zero "
				              "number unique in the topology");
			break;
		case 'u':
			cf->until_end = 1;
			break;
		case 'v':
			log_set_verbose(1);
			break;
		default:
			opt_std(ch, "srdf-capture", usage);
		}
	}
	opt_no_operands(argc, usage);
}

static void
capture_free(struct capture *c)
{
	stop_dump(c);
	tables_clear(c);
	free(c->cs.cls);
	gtid_pos_free(&c->state);
	buf_free(&c->out);
	buf_free(&c->scratch);
	buf_free(&c->resync);
	for (size_t i = 0; i < c->nadded; i++)
		free(c->added[i]);
	free(c->added);
	free(c->sp);
	maria_fk_parents_free(&c->known);
	maria_fk_parents_free(&c->fk);
}

int
main(int argc, char **argv)
{
	struct config cf = {0};
	struct capture c = {0};
	char *startpos, *added;
	int rc;

	log_init(argv[0]);
	cf.group = "srdf-capture";
	cf.dir = getenv("SRDF_DIR") ? getenv("SRDF_DIR") : "/var/lib/srdf";
	cf.server_id = DEFAULT_SERVER_ID;
	cf.heartbeat = 5;
	parse_options(argc, argv, &cf);
	if (cf.read_timeout == 0)
		cf.read_timeout = 3 * cf.heartbeat;
	if (cf.read_timeout <= cf.heartbeat)
		die(EX_USAGE,
		    "--read-timeout (%d s) must exceed --heartbeat "
		    "(%d s), or every quiet moment looks like a dead source",
		    cf.read_timeout, cf.heartbeat);

	if ((rc = start_position(&cf, &startpos, &added)) != 0)
		return rc;
	if (startpos == NULL)
		die(EX_USAGE,
		    "no start position: give --from-gtid or --start-gtid, "
		    "or run srdf-bootstrap (or srdf-seal) with --dir %s first",
		    cf.dir);
	if (gtid_pos_parse(startpos, &c.state) != 0)
		die(EX_USAGE,
		    "'%s' is not a GTID position (domain-server-"
		    "sequence, comma-separated, one per domain)",
		    startpos);

	tool_catch(on_signal); /* reads return EINTR */
	c.cf = &cf;
	if (added != NULL) {
		/* srdf-bootstrap --add's patterns, sealed before the start */
		json_t *a = json_loads(added, 0, NULL), *p;
		size_t i;

		if (!json_is_array(a))
			die(EX_DATAERR,
			    "the ledger's selection_added in %s is not a "
			    "JSON array of patterns",
			    cf.dir);
		json_array_foreach(a, i, p) if (json_is_string(p))
		    add_pattern(&c, json_string_value(p));
		json_decref(a);
		free(added);
	}
	strcpy(c.file, "(start)");
	/* Beats come with the source's (--heartbeat); a --from-gtid run
	 * without a state directory has no heartbeat file. */
	if (access(cf.dir, F_OK) == 0)
		heartbeat_start(
		    cf.dir, "srdf-capture", cf.heartbeat, !cf.until_end);
	if ((rc = selection_check(&c, startpos)) == 0)
		rc = run(&c);
	else
		c.failed = 1; /* selection_check logged why */
	free(startpos);
	if (!c.failed)
		beat(&c);
	heartbeat_stop(rc);
	capture_free(&c);
	free(cf.include);
	free(cf.exclude);
	free(cf.drop);
	return rc;
}
