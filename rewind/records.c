/*
 * records.c — srdf-rewind --records FILE (srdf-rewind(1), "Undoing a
 * record stream"): the transactions of an srdf-record(5) stream, as
 * srdf-capture writes them (begin ... commit each), undone on the server
 * of --defaults-file, newest first, with sql_log_bin=0 so that the undo
 * stays out of that server's binlog.
 *
 * Each transaction is undone in one server transaction that also counts
 * it in srdf.rewound (one row per stream: its id is a hash of the
 * stream's GTIDs, "done" the transactions undone from its end): a crash
 * leaves whole transactions undone and the count with them, and a second
 * run goes on from there; a run after the last does nothing.  The UPDATE
 * of the count names the count it moves from, so two runs at once cannot
 * both undo one transaction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "db.h"
#include "engine.h"
#include "file.h"
#include "log.h"
#include "maria.h"
#include "rewind.h"
#include "scan.h"
#include "xalloc.h"

#define REWOUND_DB "CREATE DATABASE IF NOT EXISTS srdf"
#define REWOUND_DDL \
	"CREATE TABLE IF NOT EXISTS srdf.rewound (" \
	"id CHAR(64) CHARACTER SET ascii PRIMARY KEY, " \
	"done INT UNSIGNED NOT NULL, total INT UNSIGNED NOT NULL, " \
	"first_gtid VARCHAR(64), last_gtid VARCHAR(64), " \
	"rewound_at DATETIME(6) NOT NULL) ENGINE=InnoDB"

/* One transaction of the stream: bytes [off, end) of the file. */
struct trx {
	size_t off, end;
	char gtid[64];
};

/* The transactions of the stream p (len bytes) into *v; 0, or -1 with
 * why (a record outside begin ... commit, a line that is no record). */
static int
split(const char *p, size_t len, struct trx **v, size_t *n, char *why,
    size_t whylen)
{
	struct scanner sc = {0};
	struct buf tmp = {0};
	const char *end = p + len, *s, *nl;
	size_t cap = 0;
	unsigned long line = 0;
	int open = 0, rc = 0;

	*v = NULL;
	*n = 0;
	for (s = p; s < end && rc == 0; s = nl + 1) {
		struct rec r;
		struct jstr j;

		line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if (nl == s)
			continue;
		if (scan_record(&sc, s, (size_t)(nl - s), &r) != 0) {
			snprintf(why, whylen,
			    "line %lu is no srdf-record(5) record", line);
			rc = -1;
			break;
		}
		switch (r.type) {
		case R_BEGIN:
			if (open) {
				snprintf(why, whylen,
				    "line %lu: a begin inside "
				    "the transaction of line %lu's begin",
				    line, line);
				rc = -1;
				break;
			}
			*v = xgrow(*v, &cap, *n + 1, sizeof **v);
			memset(&(*v)[*n], 0, sizeof **v);
			(*v)[*n].off = (size_t)(s - p);
			if (jspan_str(r.gtid, &j) == 0) {
				tmp.len = 0;
				jstr_decode(&j, &tmp);
				snprintf((*v)[*n].gtid, sizeof(*v)[*n].gtid,
				    "%.*s", (int)tmp.len, tmp.p);
			}
			open = 1;
			break;
		case R_COMMIT:
		case R_XA_PREPARE:
			if (!open) {
				snprintf(why, whylen,
				    "line %lu: a %s without its begin", line,
				    rec_type_name(r.type));
				rc = -1;
				break;
			}
			(*v)[(*n)++].end = (size_t)(nl - p);
			open = 0;
			break;
		case R_ABORT: /* the writer withdrew it: it comes again */
			open = 0;
			break;
		default:
			if (!open) {
				snprintf(why, whylen,
				    "line %lu: a %s record outside begin ... "
				    "commit",
				    line, rec_type_name(r.type));
				rc = -1;
			}
			break;
		}
	}
	/* A transaction without its commit (the stream cut) did not
	 * commit on the source: nothing to undo. */
	scanner_free(&sc);
	buf_free(&tmp);
	return rc;
}

/* The stream's id in srdf.rewound: a hash of its GTIDs, in hex. */
static void
stream_id(const struct trx *v, size_t n, char out[65])
{
	crypto_generichash_state st;
	unsigned char h[32];

	crypto_generichash_init(&st, NULL, 0, sizeof h);
	for (size_t i = 0; i < n; i++)
		crypto_generichash_update(&st, (const unsigned char *)v[i].gtid,
		    strlen(v[i].gtid) + 1);
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(out, 65, h, sizeof h);
}

static void
quote(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	maria_escape(b, s);
	buf_putc(b, '\'');
}

/* The count of undone transactions of stream id (0 for none): DB_*. */
static int
read_done(struct db *d, const char *id, uint64_t *done)
{
	struct buf q = {0};
	char *v;

	buf_lit(&q, "SELECT done FROM srdf.rewound WHERE id=");
	quote(&q, id);
	buf_putc(&q, '\0');
	v = maria_query_one(d->my, q.p);
	buf_free(&q);
	if (v == NULL && mysql_errno(d->my) != 0)
		return db_classify(d, "reading srdf.rewound", "srdf.rewound");
	*done = v != NULL ? strtoull(v, NULL, 10) : 0;
	free(v);
	return db_exec(d, "commit", "COMMIT", 6);
}

/* Transactions k .. k+m-1 of the undo (from 1, newest first: x = v[n-k]
 * is the k-th) undone in the open server transaction, each through the
 * engine in turn, the count moved from k-1 to k+m-1, committed.  DB_*. */
static int
undo_run(struct db *d, struct buf *arena, const char *p, const struct trx *v,
    size_t n, const char *id, uint64_t k, uint64_t m)
{
	struct buf *rev = xcalloc(m, sizeof *rev);
	struct inwagon *w = xcalloc(m, sizeof *w),
	               **ws = xcalloc(m, sizeof *ws);
	char why[512];
	int rc = DB_OK;

	for (uint64_t j = 0; j < m && rc == DB_OK; j++) {
		const struct trx *x = &v[n - (k + j)];

		w[j] = (struct inwagon){
		    .seq = k + j, .chunk = 1, .last = 1, .xa = XA_NONE};
		ws[j] = &w[j];
		if (rev_payload(p + x->off, x->end - x->off, &rev[j], NULL, why,
		        sizeof why) != 0) {
			snprintf(d->err, sizeof d->err, "%s", why);
			rc = DB_FAIL;
			break;
		}
		w[j].records = rev[j].p;
		w[j].len = rev[j].len;
	}
	/* The batch as one net delta, folded across its transactions, as
	 * srdf-apply merges a backlog: each row removed is still checked
	 * against the image the newest undone change left. */
	if (rc == DB_OK)
		rc = engine_run_many(d, arena, ws, m, NULL, NULL, NULL);
	/* A cascade parent among them (nothing was sent yet): each
	 * transaction in turn, all of them, in the one transaction. */
	if (rc == DB_SPLIT) {
		rc = DB_OK;
		for (uint64_t j = 0; j < m && rc == DB_OK; j++)
			rc = engine_run(d, arena, ws[j], NULL, NULL, NULL);
	}
	for (uint64_t j = 0; j < m; j++)
		buf_free(&rev[j]);
	free(rev);
	free(w);
	free(ws);
	/* Every row checked before the COMMIT is sent: the server runs a
	 * batch to its end, a COMMIT in it too, whatever a statement
	 * touched. */
	if (rc != DB_OK || (rc = db_flush(d)) != DB_OK)
		return rc;
	k += m - 1;
	db_stmt_open(d);
	if (k == m) {
		buf_lit(&d->q, "INSERT INTO srdf.rewound (id, done, total, "
		               "first_gtid, last_gtid, rewound_at) VALUES (");
		quote(&d->q, id);
		buf_printf(&d->q, ", %" PRIu64 ", %zu, ", k, n);
		quote(&d->q, v[0].gtid);
		buf_lit(&d->q, ", ");
		quote(&d->q, v[n - 1].gtid);
		buf_lit(&d->q, ", NOW(6))");
	} else {
		buf_printf(&d->q,
		    "UPDATE srdf.rewound SET done=%" PRIu64
		    ", rewound_at=NOW(6) WHERE id=",
		    k);
		quote(&d->q, id);
		buf_printf(&d->q, " AND done=%" PRIu64, k - m);
	}
	if ((rc = db_stmt_close(d, "progress", "srdf.rewound", 1)) != DB_OK)
		return rc;
	db_stmt_open(d);
	buf_lit(&d->q, "COMMIT");
	if ((rc = db_stmt_close(d, "commit", NULL, -1)) != DB_OK)
		return rc;
	return db_flush(d);
}

int
rewind_records(struct rwconf *cf)
{
	struct db d = {0};
	struct buf arena = {0};
	struct trx *v = NULL;
	struct rev_plan pl = {0};
	enum file_step step;
	size_t len, n = 0;
	uint64_t done = 0, k, m, commits = 0, slow = 0;
	char why[512], id[65];
	uint8_t *p;
	int rc, ex = 0;

	if ((p = file_read(cf->records, 0, 1ULL << 40, &len, &step)) == NULL) {
		log_err("cannot read %s: %m", cf->records);
		return EX_NOINPUT;
	}
	if (split((const char *)p, len, &v, &n, why, sizeof why) != 0) {
		log_err("%s: %s: nothing was undone", cf->records, why);
		ex = EX_DATAERR;
		goto out;
	}
	/* Every refusal before the first change. */
	for (size_t i = 0; i < n; i++) {
		struct buf rev = {0};

		if (rev_payload((const char *)p + v[i].off, v[i].end - v[i].off,
		        &rev, &pl, why, sizeof why) != 0) {
			log_err("%s: transaction %s cannot be undone: %s; "
			        "nothing was undone (reconcile it by hand, or "
			        "copy the server again with srdf-bootstrap)",
			    cf->records, v[i].gtid, why);
			buf_free(&rev);
			ex = EX_DATAERR;
			goto out;
		}
		buf_free(&rev);
	}
	stream_id(v, n, id);
	if (cf->dry_run) {
		printf("%s: %zu transaction%s (GTID %s..%s), %" PRIu64
		       " row change%s, undone newest first:\n",
		    cf->records, n, n == 1 ? "" : "s", n ? v[0].gtid : "-",
		    n ? v[n - 1].gtid : "-", pl.rows, pl.rows == 1 ? "" : "s");
		rev_plan_print(&pl);
		goto out;
	}
	if (n == 0) {
		log_notice("%s holds no committed transaction: nothing to undo",
		    cf->records);
		goto out;
	}
	cf->ap.no_binlog = 1;
	if ((rc = db_connect(&d, &cf->ap, 0)) != DB_OK) {
		log_err("%s", d.err);
		ex = rc == DB_FAIL ? maria_exit_for(d.errnum) : EX_UNAVAILABLE;
		goto out;
	}
	if ((rc = db_exec(&d, "creating srdf.rewound", REWOUND_DB,
	         sizeof REWOUND_DB - 1)) != DB_OK ||
	    (rc = db_exec(&d, "creating srdf.rewound", REWOUND_DDL,
	         sizeof REWOUND_DDL - 1)) != DB_OK ||
	    (rc = read_done(&d, id, &done)) != DB_OK) {
		log_err("%s", d.err);
		ex = rc == DB_GONE ? EX_UNAVAILABLE : maria_exit_for(d.errnum);
		goto out;
	}
	/* A system-versioned table's history cannot be taken back. */
	for (size_t i = 0; i < pl.n; i++) {
		struct tinfo *ti = db_table(&d, pl.t[i].db, pl.t[i].tab, &rc);

		if (ti != NULL && ti->versioned) {
			log_err("%s: its transactions change %s, a "
			        "system-versioned table, whose history an undo "
			        "cannot take back; nothing was undone",
			    cf->records, pl.t[i].name);
			ex = EX_DATAERR;
			goto out;
		}
	}
	if (done >= n) {
		log_notice("%s: all %zu transactions are undone already "
		           "(srdf.rewound): nothing to do",
		    cf->records, n);
		goto out;
	}
	if (done > 0)
		log_notice("%s: %" PRIu64 " of %zu transactions were undone by "
		           "an earlier run: going on from there",
		    cf->records, done, n);
	for (k = done + 1; k <= n; k += m) {
		const struct trx *x = &v[n - k];

		/* Up to --batch transactions a commit; a batch that fails is
		 * undone again one transaction a commit, so that the one that
		 * fails is named and those before it stay undone. */
		m = n - k + 1 < cf->batch ? n - k + 1 : cf->batch;
		d.mismatch = 0;
		d.exact = DB_EXACT_BATCH;
		if (m > 1 && k > slow) {
			if ((rc = undo_run(&d, &arena, (const char *)p, v, n,
			         id, k, m)) == DB_OK) {
				log_info("transactions %s..%s undone (%" PRIu64
				         " to %" PRIu64 " of %zu)",
				    x->gtid, v[n - (k + m - 1)].gtid, k,
				    k + m - 1, n);
				if (cf->crash_after > 0 &&
				    (uint64_t)cf->crash_after == ++commits)
					_exit(137);
				continue;
			}
			db_rollback(&d);
			if (rc == DB_GONE && !d.mismatch)
				goto failed;
			d.mismatch = 0;
			slow = k + m - 1;
		}
		m = 1;
		if ((rc = undo_run(&d, &arena, (const char *)p, v, n, id, k,
		         1)) != DB_OK &&
		    d.mismatch) {
			/* again a row a statement, to name the key */
			db_rollback(&d);
			d.mismatch = 0;
			d.exact = DB_EXACT_ROW;
			rc = undo_run(
			    &d, &arena, (const char *)p, v, n, id, k, 1);
		}
	failed:
		if (rc != DB_OK) {
			db_rollback(&d);
			if (d.mismatch || d.errnum == 1062)
				log_err(
				    "transaction %s of %s: %s%s%s: the "
				    "row on the server is not the one the "
				    "transaction left (written since?); "
				    "nothing of it was undone; %" PRIu64
				    " of %zu transactions are (srdf.rewound): "
				    "reconcile the row, then run srdf-rewind "
				    "again",
				    x->gtid, cf->records, d.err,
				    d.errnum == 1062 ? ": " : "",
				    d.errnum == 1062 ? d.errfull : "", k - 1,
				    n);
			else
				log_err("transaction %s of %s: %s; %" PRIu64
				        " of %zu transactions are undone: run "
				        "srdf-rewind again",
				    x->gtid, cf->records, d.err, k - 1, n);
			ex = d.mismatch || d.errnum == 1062 ? EX_DATAERR
			     : rc == DB_GONE                ? EX_UNAVAILABLE
			                                    : EX_SOFTWARE;
			goto out;
		}
		log_info("transaction %s undone (%" PRIu64 " of %zu)", x->gtid,
		    k, n);
		if (cf->crash_after > 0 &&
		    (uint64_t)cf->crash_after == ++commits)
			_exit(137);
	}
	log_notice("%s: %zu transaction%s undone: the server is as it was "
	           "before %s",
	    cf->records, n, n == 1 ? "" : "s", v[0].gtid);
out:
	rev_plan_free(&pl);
	buf_free(&arena);
	db_close(&d);
	free(d.q.p);
	free(d.st);
	free(v);
	free(p);
	return ex;
}
