/*
 * wagons.c — srdf-rewind --to (srdf-rewind(1)): the target of DIR taken
 * back to the end of an earlier group by undoing the kept wagons, newest
 * group first.
 *
 * The steps, in this order:
 *	1. DIR/lock/srdf-apply, the ledger and its source id, the target's
 *	   named lock of the source (as srdf-apply takes them: the two never
 *	   run at once), the checkpoint;
 *	2. a rewind cut short after a COMMIT made good: wagons above the
 *	   checkpoint back in inbox/new and "received" (settle);
 *	3. the plan (plan_groups): from the checkpoint down to the point,
 *	   group by group, every wagon opened and every refusal checked,
 *	   before anything changes; --dry-run prints it and ends;
 *	4. per batch of up to --batch consecutive whole groups (and
 *	   --merge-bytes of payload): their wagons reversed (reverse.c), newest
 *	   first, and run by srdf-apply's engine in exact mode as one net
 *	   delta (engine_run_many, as srdf-apply merges a backlog), in one
 *	   transaction that moves the checkpoint from the batch's last wagon
 *	   to the wagon before its first (db_commit_at, srdf-apply's own
 *	   UPDATE ... WHERE seq = S); a batch that fails is rolled back and
 *	   undone again one group a commit, so that the failing group is
 *	   named and those before it stay undone; a group cut at a
 *	   transaction boundary is a batch by itself (commit_part); then,
 *	   every SETTLE_EVERY groups, the ledger and the inbox (settle), as
 *	   in 2.
 * The target's checkpoint is the authority at every moment: a crash
 * anywhere leaves a group undone or not, and the next run starts from
 * what the checkpoint says.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <mysqld_error.h>

#include "applier.h"
#include "audit.h"
#include "clock.h"
#include "gtid.h"
#include "keyring.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "opt.h"
#include "rewind.h"
#include "spool.h"
#include "xalloc.h"

/* Groups undone between two writes of the ledger and the inbox. */
#define SETTLE_EVERY 64

#define APPLIED_PART_DDL \
	"ALTER TABLE srdf.applied ADD COLUMN IF NOT EXISTS " \
	"part INT NOT NULL DEFAULT 0"

/* One group to undo: wagons first..last, and the checkpoint it leaves:
 * the wagon before first, its last GTID, position and commit time. */
struct unit {
	uint64_t first, last, group;
	/* A group cut at transaction boundaries (a split group): only the
	 * records from payload offset cut_off up to cut_end (0: its end)
	 * are undone, the transactions after the from_part-th (0: from the
	 * first) up to the cut-th; the checkpoint moves from (last,
	 * from_part) to (to, cut), srdf.applied.part.  All 0: the whole
	 * group, from part 0 to part 0. */
	int cut, from_part;
	size_t cut_off, cut_end;
	size_t bytes; /* the payload bytes of its wagons */
	char first_gtid[WAGON_GTID_LEN], last_gtid[WAGON_GTID_LEN];
	struct rev_plan pl;
	uint64_t to;
	char to_gtid[WAGON_GTID_LEN];
	char *to_pos;
	uint64_t to_ts;
};

/* The point of --to: a GTID, or a source commit time. */
struct point {
	int is_time;
	struct gtid g;
	uint64_t t;
};

static int
parse_point(const char *s, struct point *p)
{
	uint64_t u;
	double t;

	memset(p, 0, sizeof *p);
	if (gtid_parse(s, &p->g) == 0)
		return 0;
	p->is_time = 1;
	if (s[0] == '@' && parse_u64(s + 1, &u) == 0) {
		p->t = u;
		return 0;
	}
	if ((t = clock_iso_parse(s)) >= 0) {
		p->t = (uint64_t)t;
		return 0;
	}
	return -1;
}

/* The wagons of the group above the checkpoint that a rewind cut short
 * after its COMMIT left in inbox/cur or "applied": back to inbox/new
 * and "received" (a line in the audit log each), and last_applied_seq
 * at the checkpoint.  0, or an exit code. */
static int
settle(
    struct applier *a, uint64_t from, uint64_t to, uint64_t cp, const char *why)
{
	char name[WAGON_NAME_LEN], path[PATH_MAX], num[24];
	struct ledger_txn *t;
	char *old[64] = {0};
	uint64_t n = to - from + 1;
	int rc;

	if (n > 64) { /* in slices: one ledger transaction each */
		for (uint64_t s = from; s <= to; s += 64)
			if ((rc = settle(a, s, s + 63 < to ? s + 63 : to, cp,
			         why)) != 0)
				return rc;
		return 0;
	}
	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0)
		goto fail;
	for (uint64_t s = from; s <= to; s++) {
		json_t *w;
		const char *st;

		if ((rc = ledger_wagon_get(t, s, &w)) != 0)
			goto abort;
		if (w == NULL)
			continue;
		st = json_string_value(json_object_get(w, "state"));
		if (st != NULL && strcmp(st, "received") != 0) {
			old[s - from] = xstrdup(st);
			json_object_set_new(
			    w, "state", json_string("received"));
			json_object_set_new(
			    w, "rewound_at", json_real(clock_wall()));
			json_object_del(w, "last_error");
			rc = ledger_wagon_put(t, s, w);
		}
		json_decref(w);
		if (rc != 0)
			goto abort;
	}
	snprintf(num, sizeof num, "%" PRIu64, cp);
	if ((rc = ledger_meta_put(t, "last_applied_seq", num)) != 0)
		goto abort;
	if ((rc = ledger_txn_commit(t)) != 0)
		goto fail;
	for (uint64_t s = from; s <= to; s++) {
		wagon_name(s, name);
		snprintf(path, sizeof path, "%s/cur/%s", a->cf->inbox, name);
		if (access(path, F_OK) == 0 &&
		    spool_move(a->cf->inbox, "cur", "new", name) != 0)
			log_warn(
			    "cannot move %s back to %s/new: %m: srdf-apply "
			    "applies it from cur/ all the same",
			    path, a->cf->inbox);
		if (old[s - from] != NULL)
			audit_wagon(AUDIT_OPERATOR, s, old[s - from],
			    "received", "%s", why);
		free(old[s - from]);
	}
	return 0;
abort:
	ledger_txn_abort(t);
fail:
	for (uint64_t s = from; s <= to; s++)
		free(old[s - from]);
	log_err("cannot write the ledger in %s: %s; the target is rewound to "
	        "wagon %" PRIu64 ": run srdf-rewind again to bring the ledger "
	        "level",
	    a->cf->dir, ledger_strerror(rc), cp);
	return EX_IOERR;
}

/* Wagons above the checkpoint still in inbox/cur: what a rewind cut
 * short left (settle). */
static int
settle_above(struct applier *a)
{
	char **names;
	size_t k;
	uint64_t lo = 0, hi = 0;
	int rc = 0;

	if (spool_list(a->cf->inbox, "cur", &names, &k) != 0)
		return 0;
	for (size_t i = 0; i < k; i++) {
		uint64_t s = wagon_name_seq(names[i]);

		if (s > a->cp.seq && (lo == 0 || s < lo))
			lo = s;
		if (s > a->cp.seq && s > hi)
			hi = s;
	}
	spool_list_free(names, k);
	if (lo != 0) {
		log_notice("wagons %" PRIu64 "..%" PRIu64
		           " are above the checkpoint (%" PRIu64
		           "): a rewind was cut short after its commit; "
		           "back to %s/new",
		    lo, hi, a->cp.seq, a->cf->inbox);
		rc = settle(a, lo, hi, a->cp.seq,
		    "rewound by srdf-rewind (recorded after a crash)");
	}
	return rc;
}

/* Whether the GTID g is within wagon w's range first..last (its domain,
 * first <= g < last), where no group boundary is. */
static int
inside(const struct inwagon *w, const struct gtid *g)
{
	struct gtid f, l;

	if (gtid_parse(w->h.first_gtid, &f) != 0 ||
	    gtid_parse(w->h.last_gtid, &l) != 0 || f.domain != g->domain ||
	    l.domain != g->domain)
		return 0;
	return f.seq <= g->seq && g->seq < l.seq;
}

/* Refusals of the wagon w (a chunk of the group of unit u): a reason in
 * why, or 0. */
static int
refused(struct applier *a, const struct inwagon *w, const struct unit *u,
    char *why, size_t whylen)
{
	int rc;

	if (w->h.flags & WAGON_F_BOOTSTRAP) {
		snprintf(why, whylen,
		    "it is part of srdf-bootstrap's copy, not a "
		    "change of the source: it cannot be undone");
		return -1;
	}
	if (gtid_within(w->h.first_gtid, a->cp.bootstrap_pos)) {
		snprintf(why, whylen,
		    "it was applied idempotently, within the window "
		    "of srdf-bootstrap's copy (%s): what it changed is not "
		    "known exactly",
		    a->cp.bootstrap_pos);
		return -1;
	}
	if (w->has_ddl) {
		snprintf(why, whylen,
		    "it holds a DDL statement, which has no "
		    "before-image to undo it with");
		return -1;
	}
	if (w->xa != XA_NONE) {
		snprintf(why, whylen,
		    "it holds an XA transaction: XA groups cannot be "
		    "undone");
		return -1;
	}
	for (size_t i = 0; i < u->pl.n; i++) {
		struct tinfo *ti =
		    db_table(&a->db, u->pl.t[i].db, u->pl.t[i].tab, &rc);

		if (ti != NULL && ti->versioned) {
			snprintf(why, whylen,
			    "it changes %s, a system-versioned table, "
			    "whose history an undo cannot take back",
			    u->pl.t[i].name);
			return -1;
		}
	}
	return 0;
}

/* Refusal of wagon seq: logged with what to do; EX_DATAERR. */
static int
refuse(uint64_t seq, const char *why, const char *todo)
{
	log_err("wagon %" PRIu64 ": %s; nothing was rewound%s%s", seq, why,
	    todo ? ": " : "", todo ? todo : "");
	return EX_DATAERR;
}

/* Opens wagon seq (a refusal when it is no longer kept).  0, or an exit
 * code. */
static int
open_wagon(struct applier *a, uint64_t seq, struct inwagon *w)
{
	char err[1024];
	int rc = load_wagon(a, seq, w, err, sizeof err, 0);

	if (rc == 0)
		return 0;
	inwagon_free(w);
	if (rc == 1)
		return refuse(seq,
		    "its file is no longer kept in inbox/cur (purged by "
		    "srdf-apply --keep)",
		    "the point is out of reach of the kept wagons; only a "
		    "backup and srdf-bootstrap reach it (keep wagons longer "
		    "with srdf-apply --keep)");
	log_err("%s; nothing was rewound", err);
	return rc == -2 ? EX_CONFIG : EX_DATAERR;
}

/* The point p inside wagon w (a group of one chunk whose group_end says
 * "split"): the number k of its leading transactions that stay,
 * 1 <= k < n, with the k-th's GTID, commit time and end in *x, and the
 * transactions after it (their number, first and last GTID) in *pl; 0
 * when p is at none of its boundaries (or the group is not split). */
static int
cut_point(const struct inwagon *w, const struct point *p, struct rev_trx *x,
    struct rev_plan *pl)
{
	struct rev_trx *v;
	size_t n;
	int split, k = 0;

	if (w->chunk != 1 || !w->last)
		return 0;
	rev_trx_list(w->records, w->len, &v, &n, &split);
	for (size_t i = 0; split && i + 1 < n; i++) {
		struct gtid g;

		if (p->is_time ? v[i].ts != 0 && v[i].ts <= p->t
		               : gtid_parse(v[i].gtid, &g) == 0 &&
		                     gtid_cmp(&g, &p->g) == 0)
			k = (int)i + 1;
	}
	if (k > 0) {
		*x = v[k - 1];
		/* what the cut leaves to undo: transactions k+1..n */
		pl->trx = n - (size_t)k;
		snprintf(
		    pl->first_gtid, sizeof pl->first_gtid, "%s", v[k].gtid);
		snprintf(
		    pl->last_gtid, sizeof pl->last_gtid, "%s", v[n - 1].gtid);
	}
	free(v);
	return k;
}

/* The GTID position after the first k transactions of wagon s (w): the
 * position after wagon s - 1 advanced by their GTIDs (lib/gtid), into
 * *pos (malloc'd).  0, or an exit code (wagon s - 1 not kept). */
static int
cut_pos(
    struct applier *a, uint64_t s, const struct inwagon *w, int k, char **pos)
{
	struct gtid_pos gp = {0};
	struct inwagon prev;
	struct rev_trx *v;
	struct buf b = {0};
	size_t n;
	int split, rc;

	if (s > 1) {
		if ((rc = open_wagon(a, s - 1, &prev)) != 0)
			return rc;
		gtid_pos_parse(prev.gtid_pos ? prev.gtid_pos : "", &gp);
		inwagon_free(&prev);
	}
	rev_trx_list(w->records, w->len, &v, &n, &split);
	for (int i = 0; i < k && (size_t)i < n; i++) {
		struct gtid g;

		if (gtid_parse(v[i].gtid, &g) == 0)
			gtid_pos_advance(&gp, &g);
	}
	free(v);
	gtid_pos_format(&gp, &b);
	gtid_pos_free(&gp);
	*pos = b.p != NULL ? b.p : xstrdup("");
	return 0;
}

/* The checkpoint inside wagon s = cp.seq + 1 at part (srdf-apply
 * --until stopped in a split group): its leading transactions, the
 * first unit, undone down to the point when it is among them, else all
 * (the unit's checkpoint then the end of wagon cp.seq, which
 * plan_groups fills in).  0, -1 when nothing is left to plan (the point
 * reached, or nothing to do: *n 0), or an exit code. */
static int
plan_leading(struct applier *a, int part, const struct point *p,
    struct unit **units, size_t *n)
{
	uint64_t s = a->cp.seq + 1;
	struct inwagon w;
	struct rev_trx *v;
	struct buf rev = {0};
	struct unit *u;
	size_t nt, cap = 0;
	char why[1024];
	int split, rc, k = 0;

	if ((rc = open_wagon(a, s, &w)) != 0)
		return rc;
	rev_trx_list(w.records, w.len, &v, &nt, &split);
	if (!split || (size_t)part >= nt) {
		inwagon_free(&w);
		free(v);
		return refuse(s,
		    "srdf.applied.part says the checkpoint is inside it, "
		    "but it is not a split group of that many transactions",
		    "the checkpoint row was written by hand?");
	}
	for (int i = 0; i < part; i++) {
		struct gtid g;

		if (p->is_time ? v[i].ts != 0 && v[i].ts <= p->t
		               : gtid_parse(v[i].gtid, &g) == 0 &&
		                     gtid_cmp(&g, &p->g) == 0)
			k = i + 1;
	}
	if (k == part) { /* at the point already */
		inwagon_free(&w);
		free(v);
		return -1;
	}
	*units = xgrow(*units, &cap, 1, sizeof **units);
	u = &(*units)[(*n)++];
	memset(u, 0, sizeof *u);
	u->first = u->last = s;
	u->group = w.group;
	u->from_part = part;
	u->cut = k;
	u->cut_off = k > 0 ? v[k - 1].end : 0;
	u->cut_end = v[part - 1].end;
	u->to = a->cp.seq;
	rc = rev_payload(w.records + u->cut_off, u->cut_end - u->cut_off, &rev,
	    &u->pl, why, sizeof why);
	buf_free(&rev);
	if (rc == 0)
		rc = refused(a, &w, u, why, sizeof why);
	if (rc != 0) {
		inwagon_free(&w);
		free(v);
		return refuse(s, why, "rewind no further than its group");
	}
	u->pl.trx = (uint64_t)(part - k);
	snprintf(u->first_gtid, sizeof u->first_gtid, "%s", v[k].gtid);
	snprintf(u->last_gtid, sizeof u->last_gtid, "%s", v[part - 1].gtid);
	if (k > 0) {
		snprintf(u->to_gtid, sizeof u->to_gtid, "%s", v[k - 1].gtid);
		u->to_ts = v[k - 1].ts;
		rc = cut_pos(a, s, &w, k, &u->to_pos);
	}
	inwagon_free(&w);
	free(v);
	return rc != 0 ? rc : k > 0 ? -1 : 0;
}

/* The groups from the checkpoint down to the point p, each checked, into
 * *units (newest first).  0 (*n 0: the target is at the point already),
 * or an exit code after a refusal. */
static int
plan_groups(struct applier *a, int part, const struct point *p, const char *to,
    struct unit **units, size_t *n)
{
	struct gtid_pos cpos = {0};
	size_t cap = *n;
	uint64_t s = a->cp.seq;
	struct inwagon w;
	char why[1024];
	int rc;

	*units = NULL;
	*n = 0;
	if (!p->is_time && (gtid_pos_parse(a->cp.gtid_pos, &cpos) != 0 ||
	                       !gtid_pos_covers(&cpos, &p->g))) {
		log_err("--to %s is beyond the checkpoint (wagon %" PRIu64
		        ", GTID %s, position %s): nothing to undo; to go "
		        "forward to it use srdf-apply --until",
		    to, a->cp.seq, a->cp.last_gtid,
		    a->cp.gtid_pos ? a->cp.gtid_pos : "none");
		gtid_pos_free(&cpos);
		return EX_DATAERR;
	}
	gtid_pos_free(&cpos);
	if (part > 0 && (rc = plan_leading(a, part, p, units, n)) != 0)
		return rc < 0 ? 0 : rc;
	if (s == 0) {
		log_err("the target has applied no wagon: nothing to rewind");
		return EX_DATAERR;
	}
	for (;;) {
		struct unit *u;
		uint64_t last = s;
		struct gtid lg;
		struct rev_trx x;
		struct rev_plan cutpl = {0};
		int k;

		if ((rc = open_wagon(a, s, &w)) != 0)
			return rc;
		/* The point: the end of this group? */
		if ((!p->is_time && gtid_parse(w.last_gtid, &lg) == 0 &&
		        gtid_cmp(&lg, &p->g) == 0) ||
		    (p->is_time && w.last_ts != 0 && w.last_ts <= p->t)) {
			if (*n > 0) {
				u = &(*units)[*n - 1];
				u->to = s;
				snprintf(u->to_gtid, sizeof u->to_gtid, "%s",
				    w.last_gtid);
				u->to_pos =
				    w.gtid_pos ? xstrdup(w.gtid_pos) : NULL;
				u->to_ts = w.last_ts;
				if (p->is_time && u->pl.first_ts != 0 &&
				    u->pl.first_ts <= p->t) {
					inwagon_free(&w);
					snprintf(why, sizeof why,
					    "--to %s is inside its group "
					    "%" PRIu64 " (GTID %s..%s), "
					    "whose transactions cannot be told "
					    "apart",
					    to, u->group, u->first_gtid,
					    u->last_gtid);
					return refuse(u->last, why,
					    "rewind to before the group "
					    "(--to the GTID it starts after, "
					    "below) or keep it");
				}
			}
			inwagon_free(&w);
			return 0;
		}
		/* The point inside a split group: cut it there. */
		if ((p->is_time || inside(&w, &p->g)) &&
		    (k = cut_point(&w, p, &x, &cutpl)) > 0) {
			struct buf rev = {0};

			if (*n > 0) {
				u = &(*units)[*n - 1];
				u->to = s;
				snprintf(u->to_gtid, sizeof u->to_gtid, "%s",
				    w.last_gtid);
				u->to_pos =
				    w.gtid_pos ? xstrdup(w.gtid_pos) : NULL;
				u->to_ts = w.last_ts;
			}
			*units = xgrow(*units, &cap, *n + 1, sizeof **units);
			u = &(*units)[(*n)++];
			memset(u, 0, sizeof *u);
			u->first = u->last = s;
			u->group = w.group;
			u->cut = k;
			u->cut_off = x.end;
			snprintf(u->last_gtid, sizeof u->last_gtid, "%s",
			    w.last_gtid);
			rc = rev_payload(w.records + x.end, w.len - x.end, &rev,
			    &u->pl, why, sizeof why);
			buf_free(&rev);
			u->pl.trx = cutpl.trx;
			snprintf(u->pl.first_gtid, sizeof u->pl.first_gtid,
			    "%s", cutpl.first_gtid);
			if (rc == 0)
				rc = refused(a, &w, u, why, sizeof why);
			if (rc != 0) {
				inwagon_free(&w);
				return refuse(s, why,
				    "rewind no further than the group "
				    "after it");
			}
			snprintf(u->first_gtid, sizeof u->first_gtid, "%s",
			    cutpl.first_gtid);
			u->to = s - 1;
			snprintf(u->to_gtid, sizeof u->to_gtid, "%s", x.gtid);
			u->to_ts = x.ts;
			rc = cut_pos(a, s, &w, k, &u->to_pos);
			inwagon_free(&w);
			return rc;
		}
		if (!p->is_time && inside(&w, &p->g)) {
			snprintf(why, sizeof why,
			    "--to %s is inside its group %" PRIu64
			    " (GTID %s..%s), whose transactions cannot be "
			    "told apart",
			    to, w.group, w.h.first_gtid, w.last_gtid);
			inwagon_free(&w);
			return refuse(s, why,
			    "rewind to before the group (--to the last "
			    "GTID of the wagon before it) or keep it (--to "
			    "its last GTID)");
		}
		if (!w.last) {
			inwagon_free(&w);
			return refuse(s,
			    "the checkpoint is inside its group (a chunk "
			    "that is not the last)",
			    "let srdf-apply finish the group first");
		}
		if (*n > 0) {
			u = &(*units)[*n - 1];
			u->to = s;
			snprintf(
			    u->to_gtid, sizeof u->to_gtid, "%s", w.last_gtid);
			u->to_pos = w.gtid_pos ? xstrdup(w.gtid_pos) : NULL;
			u->to_ts = w.last_ts;
		}
		*units = xgrow(*units, &cap, *n + 1, sizeof **units);
		u = &(*units)[(*n)++];
		memset(u, 0, sizeof *u);
		u->last = last;
		u->group = w.group;
		snprintf(u->last_gtid, sizeof u->last_gtid, "%s", w.last_gtid);
		/* Its chunks, from the last down to the first. */
		for (;;) {
			struct buf rev = {0};

			rc = rev_payload(
			    w.records, w.len, &rev, &u->pl, why, sizeof why);
			buf_free(&rev);
			if (rc == 0)
				rc = refused(a, &w, u, why, sizeof why);
			if (rc != 0) {
				inwagon_free(&w);
				return refuse(s, why,
				    "rewind no further than the group "
				    "after it, or copy the tables again "
				    "with srdf-bootstrap");
			}
			snprintf(u->first_gtid, sizeof u->first_gtid, "%s",
			    w.h.first_gtid);
			u->bytes += w.len;
			if (w.chunk <= 1 || s <= 1)
				break;
			inwagon_free(&w);
			if ((rc = open_wagon(a, --s, &w)) != 0)
				return rc;
		}
		inwagon_free(&w);
		u->first = s;
		if (s <= 1) {
			log_err("--to %s is before the first wagon this target "
			        "applied: nothing was rewound: only a backup "
			        "and srdf-bootstrap reach it",
			    to);
			return EX_DATAERR;
		}
		s--;
	}
}

static void
units_free(struct unit *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rev_plan_free(&u[i].pl);
		free(u[i].to_pos);
	}
	free(u);
}

static const char *where(char *b, size_t n, uint64_t seq, int part);

static void
print_plan(const struct applier *a, int part, const struct unit *u, size_t n)
{
	char w1[64], w2[64];

	printf("checkpoint: %s (GTID %s); back to %s (GTID %s), %zu group%s "
	       "undone, newest first:\n",
	    where(w1, sizeof w1, a->cp.seq, part), a->cp.last_gtid,
	    where(w2, sizeof w2, u[n - 1].to, u[n - 1].cut), u[n - 1].to_gtid,
	    n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		printf("  wagon%s %" PRIu64, u[i].first == u[i].last ? "" : "s",
		    u[i].first);
		if (u[i].first != u[i].last)
			printf("..%" PRIu64, u[i].last);
		printf(": group %" PRIu64 ", %" PRIu64
		       " transaction%s (GTID %s..%s), %" PRIu64
		       " row change%s\n",
		    u[i].group, u[i].pl.trx, u[i].pl.trx == 1 ? "" : "s",
		    u[i].first_gtid, u[i].last_gtid, u[i].pl.rows,
		    u[i].pl.rows == 1 ? "" : "s");
		if (u[i].from_part > 0)
			printf("    the first %d transactions of the group, "
			       "which srdf-apply --until applied, undone down "
			       "to part %d\n",
			    u[i].from_part, u[i].cut);
		else if (u[i].cut > 0)
			printf("    the transactions after the first %d "
			       "(GTID %s) undone: the checkpoint stays inside "
			       "the group, srdf.applied.part %d\n",
			    u[i].cut, u[i].to_gtid, u[i].cut);
		rev_plan_print(&u[i].pl);
	}
}

/* The checkpoint of a cut group u moved from (u->last, part 0), or
 * (u->last - 1, u->from_part) for the leading transactions of wagon
 * u->last that srdf-apply --until applied, to (u->to, part u->cut), its last GTID, position and commit time those
 * of the cut-th transaction, and COMMIT: srdf-apply's own UPDATE
 * (db_commit_at) with srdf.applied.part (srdf-apply(1), "Order and the
 * checkpoint"), whose IF stops the batch before the COMMIT when the row
 * moved.  DB_*. */
static int
commit_part(struct applier *a, const struct unit *u)
{
	struct db *d = &a->db;
	struct buf *b = &d->q;
	int rc;

	db_stmt_open(d);
	buf_printf(b, "UPDATE srdf.applied SET seq=%" PRIu64 ", part=%d", u->to,
	    u->cut);
	buf_lit(b, ", last_gtid='");
	maria_escape(b, u->to_gtid);
	buf_lit(b, "', gtid_pos='");
	maria_escape(b, u->to_pos ? u->to_pos : "");
	buf_putc(b, '\'');
	if (u->to_ts != 0)
		buf_printf(b, ", source_commit_at=FROM_UNIXTIME(%" PRIu64 ")",
		    u->to_ts);
	buf_printf(b,
	    ", applied_at=NOW(6) WHERE source_id='%s' AND seq=%" PRIu64
	    " AND part=%d",
	    a->src, u->from_part ? u->last - 1 : u->last, u->from_part);
	if ((rc = db_stmt_close(d, "checkpoint", "srdf.applied", -1)) != DB_OK)
		return rc;
	db_stmt_open(d);
	buf_lit(b, "IF ROW_COUNT() <> 1 THEN SIGNAL SQLSTATE '45000' "
	           "SET MESSAGE_TEXT = 'srdf: the checkpoint moved'; END IF");
	if ((rc = db_stmt_close(d, "checkpoint", "srdf.applied", -1)) != DB_OK)
		return rc;
	db_stmt_open(d);
	buf_lit(b, "COMMIT");
	if ((rc = db_stmt_close(d, "commit", NULL, -1)) != DB_OK)
		return rc;
	return db_flush(d);
}

/* The m consecutive groups u[0..m-1] (newest first: u[j].to is
 * u[j + 1].last) undone on the target in one transaction with the
 * checkpoint moved back from u[0].last to u[m - 1].to.  One group (m 1) is run wagon by wagon, as
 * its chunks come; more (whole groups only, never a cut one) as one net
 * delta folded across them (engine_run_many), each row removed still
 * checked against the image the newest undone change left.  DB_*, the
 * reason in a->db.err. */
static int
undo_units(struct applier *a, const struct unit *u, size_t m)
{
	uint64_t hi = u[0].last, lo = u[m - 1].first, nw = hi - lo + 1;
	const struct unit *z = &u[m - 1];
	struct buf *rev = xcalloc(nw, sizeof *rev);
	struct inwagon *fw = xcalloc(nw, sizeof *fw),
	               **ws = xcalloc(nw, sizeof *ws);
	char why[1024];
	int rc = DB_OK;

	for (uint64_t j = 0; j < nw && rc == DB_OK; j++) {
		uint64_t s = hi - j;
		struct inwagon w;
		char err[1024];

		if (load_wagon(a, s, &w, err, sizeof err, 0) != 0) {
			snprintf(a->db.err, sizeof a->db.err, "%s", err);
			inwagon_free(&w);
			rc = DB_FAIL;
			break;
		}
		if (rev_payload(w.records + u->cut_off,
		        (u->cut_end ? u->cut_end : w.len) - u->cut_off, &rev[j],
		        NULL, why, sizeof why) != 0) {
			snprintf(a->db.err, sizeof a->db.err, "%s", why);
			rc = DB_FAIL;
		}
		inwagon_free(&w);
		fw[j] = (struct inwagon){
		    .seq = s, .chunk = 1, .last = 1, .xa = XA_NONE};
		fw[j].records = rev[j].p;
		fw[j].len = rev[j].len;
		ws[j] = &fw[j];
		/* One group: each wagon run as it is reversed. */
		if (rc == DB_OK && m == 1)
			rc = engine_run(
			    &a->db, &a->arena, ws[j], NULL, NULL, NULL);
		if (m == 1)
			buf_free(&rev[j]);
	}
	if (rc == DB_OK && m > 1) {
		rc = engine_run_many(
		    &a->db, &a->arena, ws, (size_t)nw, NULL, NULL, NULL);
		/* (a cascade parent among them: nothing was sent yet; the
		 * wagons one after the other, still one transaction) */
		if (rc == DB_SPLIT) {
			log_info("wagons %" PRIu64 "..%" PRIu64
			         ": a table of theirs is the parent of a "
			         "cascading foreign key: not folded, undone "
			         "one after the other in the one transaction",
			    lo, hi);
			rc = DB_OK;
			for (uint64_t j = 0; j < nw && rc == DB_OK; j++)
				rc = engine_run(
				    &a->db, &a->arena, ws[j], NULL, NULL, NULL);
		}
	}
	for (uint64_t j = 0; j < nw; j++)
		buf_free(&rev[j]);
	free(rev);
	free(fw);
	free(ws);
	/* Every row checked before the COMMIT is sent (records.c). */
	if (rc == DB_OK)
		rc = db_flush(&a->db);
	if (rc == DB_OK && m == 1 && (u->cut > 0 || u->from_part > 0))
		rc = commit_part(a, u);
	else if (rc == DB_OK)
		rc = db_commit_at(&a->db, a->src, u[0].last, z->to, z->to_gtid,
		    z->to_pos, NULL, NULL, z->to_ts);
	return rc;
}

/* How many groups from u[i] on (of n) go in one transaction: up to
 * batch whole groups of at most bytes payload bytes together (always
 * one at least); a group cut at a transaction boundary goes alone. */
static size_t
batch_of(const struct unit *u, size_t n, size_t i, unsigned batch,
    unsigned long long bytes)
{
	unsigned long long sum = u[i].bytes;
	size_t m = 1;

	if (u[i].cut > 0 || u[i].from_part > 0)
		return 1;
	while (i + m < n && m < batch && u[i + m].cut == 0 &&
	       u[i + m].from_part == 0 && sum + u[i + m].bytes <= bytes)
		sum += u[i + m++].bytes;
	return m;
}

/* srdf.applied.part into *part (srdf-apply --until inside a split group):
 * the leading transactions of the wagon after the checkpoint applied.  A
 * table without the column (an older srdf-apply's) is part 0.  0, or an
 * exit code. */
static int
checkpoint_part(struct applier *a, int *part)
{
	char q[160], *v;

	snprintf(q, sizeof q,
	    "SELECT part FROM srdf.applied WHERE source_id='%s'", a->src);
	v = maria_query_one(a->db.my, q);
	if (v == NULL && mysql_errno(a->db.my) != 0 &&
	    mysql_errno(a->db.my) != ER_BAD_FIELD_ERROR) {
		log_err("reading srdf.applied.part: %s", mysql_error(a->db.my));
		return EX_UNAVAILABLE;
	}
	*part = v != NULL ? atoi(v) : 0;
	free(v);
	mysql_query(a->db.my, "COMMIT");
	return 0;
}

/* Step 1: the locks, the ledger, the source id, the checkpoint.  0, or
 * an exit code. */
static int
open_target(struct rwconf *cf, struct applier *a, int *part)
{
	char path[PATH_MAX], err[512], *v = NULL, *promoted = NULL;
	struct ledger_txn *t;
	int rc;

	if ((cf->ap.kr = keyring_open(cf->key_file, err, sizeof err)) == NULL) {
		log_err("%s", err);
		return EX_CONFIG;
	}
	if (!cf->dry_run && lock_dir(cf->dir, "srdf-apply") < 0) {
		if (errno == EWOULDBLOCK) {
			log_err("srdf-apply is running on %s (it holds "
			        "%s/lock/srdf-apply): stop it first",
			    cf->dir, cf->dir);
			return EX_TEMPFAIL;
		}
		log_err("cannot lock %s/lock/srdf-apply: %m", cf->dir);
		return EX_CANTCREAT;
	}
	snprintf(path, sizeof path, "%s/ledger/data.mdb", cf->dir);
	if (access(path, F_OK) != 0) {
		log_err("no ledger in %s: nothing was applied there", cf->dir);
		return EX_NOINPUT;
	}
	if ((rc = ledger_open(
	         cf->dir, cf->dry_run ? LEDGER_RDONLY : 0, &a->l)) != 0) {
		log_err("cannot open the ledger in %s: %s", cf->dir,
		    ledger_strerror(rc));
		return EX_NOINPUT;
	}
	if ((rc = ledger_txn_begin(a->l, LEDGER_RDONLY, &t)) == 0) {
		if ((rc = ledger_meta_get(t, "source_id", &v)) == 0)
			rc = ledger_meta_get(t, "promoted", &promoted);
		ledger_txn_abort(t);
	}
	if (rc != 0 || v == NULL || strlen(v) != 32) {
		log_err("no source id in the ledger of %s: nothing was "
		        "applied there",
		    cf->dir);
		free(v);
		free(promoted);
		return EX_NOINPUT;
	}
	snprintf(a->src, sizeof a->src, "%s", v);
	free(v);
	if (promoted != NULL) {
		log_err("the target of %s was promoted at %s (srdf-promote): "
		        "it is a primary now, and its own writes are in no "
		        "wagon; nothing was rewound",
		    cf->dir, promoted);
		free(promoted);
		return EX_DATAERR;
	}
	if (!cf->dry_run) {
		audit_open(cf->dir);
		audit_source(a->src);
	}
	if ((rc = db_connect(&a->db, &cf->ap, cf->dry_run)) != DB_OK) {
		log_err("%s", a->db.err);
		return rc == DB_FAIL ? maria_exit_for(a->db.errnum)
		                     : EX_UNAVAILABLE;
	}
	if ((rc = db_apply_lock(&a->db, a->src, 5, NULL, NULL)) != DB_OK) {
		log_err("%s; nothing was rewound: stop srdf-apply first",
		    a->db.err);
		return rc == DB_GONE ? EX_UNAVAILABLE : EX_TEMPFAIL;
	}
	if ((rc = db_checkpoint_read(&a->db, a->src, &a->cp)) != DB_OK) {
		log_err("%s", a->db.err);
		return rc == DB_GONE ? EX_UNAVAILABLE
		                     : maria_exit_for(a->db.errnum);
	}
	return checkpoint_part(a, part);
}

/* A failed undo of group u (rc, a->db.err): logged with what to do;
 * an exit code. */
static int
undo_failed(struct applier *a, const struct unit *u, int rc)
{
	int differs = a->db.mismatch || a->db.errnum == ER_DUP_ENTRY;

	db_rollback(&a->db);
	if (differs) {
		log_err("wagon %" PRIu64 " (group %" PRIu64 ", GTID %s..%s): "
		        "%s%s%s: the target's row is not the one the wagon "
		        "left: someone wrote on the copy since it was "
		        "applied; nothing of the group was undone, the target "
		        "is at wagon %" PRIu64 " (GTID %s): reconcile the row "
		        "(srdf-cat shows the wagon's images), then run "
		        "srdf-rewind again",
		    u->last, u->group, u->first_gtid, u->last_gtid, a->db.err,
		    a->db.errnum == ER_DUP_ENTRY ? ": " : "",
		    a->db.errnum == ER_DUP_ENTRY ? a->db.errfull : "", u->last,
		    u->last_gtid);
		return EX_DATAERR;
	}
	log_err("wagon %" PRIu64 " (group %" PRIu64 "): %s; the target is at "
	        "wagon %" PRIu64 " (GTID %s): run srdf-rewind again",
	    u->last, u->group, a->db.err, u->last, u->last_gtid);
	return rc == DB_GONE   ? EX_UNAVAILABLE
	       : rc == DB_FAIL ? maria_exit_for(a->db.errnum)
	                       : EX_TEMPFAIL;
}

/* The rewind recorded: the ledger's meta last_rewind, an audit line. */
static void
record_rewind(struct applier *a, const char *to, uint64_t from_seq,
    int from_part, const char *from_gtid, const struct unit *end, uint64_t rows,
    size_t n)
{
	char w1[64], w2[64];

	struct ledger_txn *t;
	char at[CLOCK_ISO_LEN];
	json_t *j;
	char *s;
	int rc;

	clock_iso(clock_wall(), 'T', at, sizeof at);
	j = json_pack("{s:s,s:s,s:I,s:i,s:s,s:I,s:i,s:s,s:I,s:I}", "at", at,
	    "to", to, "from_seq", (json_int_t)from_seq, "from_part", from_part,
	    "from_gtid", from_gtid, "to_seq", (json_int_t)end->to, "to_part",
	    end->cut, "to_gtid", end->to_gtid, "groups", (json_int_t)n, "rows",
	    (json_int_t)rows);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0 ||
	    (rc = ledger_meta_put(t, "last_rewind", s)) != 0 ||
	    (rc = ledger_txn_commit(t)) != 0)
		log_warn("cannot record the rewind in the ledger of %s: %s",
		    a->cf->dir, ledger_strerror(rc));
	free(s);
	audit_event(AUDIT_OPERATOR, "target", "applied", "rewound",
	    "--to %s: from %s (GTID %s) to %s (GTID %s), %zu group%s, %" PRIu64
	    " row changes undone",
	    to, where(w1, sizeof w1, from_seq, from_part), from_gtid,
	    where(w2, sizeof w2, end->to, end->cut), end->to_gtid, n,
	    n == 1 ? "" : "s", rows);
}

/* "wagon S", or "wagon S part K" inside a split group, into b. */
static const char *
where(char *b, size_t n, uint64_t seq, int part)
{
	if (part > 0)
		snprintf(b, n, "wagon %" PRIu64 " part %d", seq, part);
	else
		snprintf(b, n, "wagon %" PRIu64, seq);
	return b;
}

/* "F" or "F..L" into b. */
static const char *
span(char *b, size_t n, uint64_t first, uint64_t last)
{
	if (first == last)
		snprintf(b, n, "%" PRIu64, first);
	else
		snprintf(b, n, "%" PRIu64 "..%" PRIu64, first, last);
	return b;
}

int
rewind_wagons(struct rwconf *cf)
{
	static struct applier a;
	struct unit *u = NULL;
	struct point p;
	char from_gtid[WAGON_GTID_LEN], why[160], w1[64], w2[64];
	uint64_t from_seq, rows = 0, top = 0, commits = 0;
	long long t0;
	size_t n = 0, i, m = 1, slow = 0;
	int ex, part = 0;

	if (parse_point(cf->to, &p) != 0) {
		log_err("bad --to %s (want a GTID such as 0-1-42, an ISO 8601 "
		        "UTC time such as 2026-12-07T14:03:00Z, or "
		        "@unix-seconds)",
		    cf->to);
		return EX_USAGE;
	}
	a.cf = &cf->ap;
	cf->ap.key_file = cf->key_file;
	if ((ex = open_target(cf, &a, &part)) != 0)
		goto out;
	if (!cf->dry_run && (ex = settle_above(&a)) != 0)
		goto out;
	if ((ex = plan_groups(&a, part, &p, cf->to, &u, &n)) != 0)
		goto out;
	if (n == 0) {
		log_notice("the target is at --to %s already (wagon %" PRIu64
		           ", GTID %s): nothing to do",
		    cf->to, a.cp.seq, a.cp.last_gtid);
		goto out;
	}
	if (cf->dry_run) {
		print_plan(&a, part, u, n);
		goto out;
	}
	from_seq = a.cp.seq;
	snprintf(from_gtid, sizeof from_gtid, "%s", a.cp.last_gtid);
	snprintf(why, sizeof why, "rewound by srdf-rewind --to %.100s", cf->to);
	/* srdf.applied.part, as srdf-apply adds it, for a cut group (a DDL:
	 * it commits by itself, before the first group's transaction). */
	if ((u[n - 1].cut > 0 || u[0].from_part > 0) &&
	    db_exec(&a.db, "adding srdf.applied.part", APPLIED_PART_DDL,
	        sizeof APPLIED_PART_DDL - 1) != DB_OK) {
		log_err("%s; nothing was rewound", a.db.err);
		ex = EX_UNAVAILABLE;
		goto out;
	}
	t0 = clock_mono_ms();
	for (i = 0; i < n; i += m) {
		const struct unit *z;
		uint64_t r;
		size_t j;
		int rc = DB_OK;

		/* Up to --batch groups a commit; a batch that fails is undone
		 * again one group a commit (up to its end, slow), so that the
		 * group that fails is named and those before it stay undone
		 * (records.c does the same). */
		m = i < slow ? 1
		             : batch_of(u, n, i, cf->batch, cf->merge_bytes);
		a.db.mismatch = 0;
		a.db.exact = DB_EXACT_BATCH;
		if (m > 1 && (rc = undo_units(&a, &u[i], m)) != DB_OK) {
			db_rollback(&a.db);
			if (rc == DB_GONE && !a.db.mismatch) {
				ex = undo_failed(&a, &u[i], rc);
				break;
			}
			log_notice("wagons %" PRIu64 "..%" PRIu64
			           " (%zu groups) in one transaction: %s; "
			           "undoing them one group a commit",
			    u[i + m - 1].first, u[i].last, m, a.db.err);
			a.db.mismatch = 0;
			slow = i + m;
			m = 1;
		}
		if (m == 1 && (rc = undo_units(&a, &u[i], 1)) != DB_OK &&
		    a.db.mismatch) {
			/* Again a row a statement: the key of the row that
			 * differs (engine.c, "Exact undo"). */
			db_rollback(&a.db);
			a.db.mismatch = 0;
			a.db.exact = DB_EXACT_ROW;
			rc = undo_units(&a, &u[i], 1);
		}
		if (rc != DB_OK) {
			ex = undo_failed(&a, &u[i], rc);
			break;
		}
		for (j = i, r = 0; j < i + m; j++)
			r += u[j].pl.rows;
		rows += r;
		z = &u[i + m - 1];
		if (m == 1)
			log_info("wagon%s %s undone (group %" PRIu64
			         ", %" PRIu64 " row changes): the target is at "
			         "%s (GTID %s)",
			    z->first == z->last ? "" : "s",
			    span(w1, sizeof w1, z->first, z->last), z->group, r,
			    where(w2, sizeof w2, z->to, z->cut), z->to_gtid);
		else
			log_info("wagons %s undone in one transaction (%zu "
			         "groups, %" PRIu64 "..%" PRIu64 ", %" PRIu64
			         " row changes): the target is at %s (GTID %s)",
			    span(w1, sizeof w1, z->first, u[i].last), m,
			    z->group, u[i].group, r,
			    where(w2, sizeof w2, z->to, z->cut), z->to_gtid);
		a.cp.seq = z->to;
		if (cf->crash_after > 0 &&
		    (uint64_t)cf->crash_after == ++commits)
			_exit(137);
		/* The ledger and the inbox follow every SETTLE_EVERY groups,
		 * at the first commit after (one LMDB commit, fsync'd, each
		 * time): a crash before leaves them behind the checkpoint,
		 * which the next run (settle_above) and srdf-apply's start
		 * make good. */
		if (top == 0)
			top = u[i].last;
		if ((i + m) / SETTLE_EVERY != i / SETTLE_EVERY || i + m == n) {
			ex = settle(&a, z->first, top, z->to, why);
			top = 0;
			if (ex != 0) {
				i += m;
				break;
			}
		}
	}
	if (top != 0 && i > 0 &&
	    settle(&a, u[i - 1].first, top, u[i - 1].to, why) != 0 && ex == 0)
		ex = EX_IOERR;
	if (i > 0) {
		long long ms = clock_mono_ms() - t0;

		record_rewind(
		    &a, cf->to, from_seq, part, from_gtid, &u[i - 1], rows, i);
		log_notice(
		    "rewound from %s (GTID %s) to %s (GTID %s): %zu "
		    "group%s, %" PRIu64 " row changes undone in %.3f s "
		    "(%.0f row changes/s); srdf-apply applies them again "
		    "when started",
		    where(w1, sizeof w1, from_seq, part), from_gtid,
		    where(w2, sizeof w2, u[i - 1].to, u[i - 1].cut),
		    u[i - 1].to_gtid, i, i == 1 ? "" : "s", rows, ms / 1000.0,
		    ms > 0 ? rows * 1000.0 / ms : 0.0);
	}
out:
	units_free(u, n);
	db_close(&a.db);
	buf_free(&a.arena);
	free(a.db.q.p);
	free(a.db.st);
	checkpoint_free(&a.cp);
	ledger_close(a.l);
	keyring_close(cf->ap.kr);
	return ex;
}
