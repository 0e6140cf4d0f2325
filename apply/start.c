/*
 * start.c — srdf-apply's start, again after every lost connection
 * (start_source): the source id (from the ledger or the first wagon),
 * the target's apply lock of the source, the checkpoint row, and the
 * ledger and the inbox reconciled with it (reconcile: applied wagons the
 * ledger missed recorded, their files moved to inbox/cur); --skip.
 * apply.c's rationale has the table of states they are derived from.
 */
#include <sys/mman.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "applier.h"
#include "audit.h"
#include "clock.h"
#include "heartbeat.h"
#include "log.h"
#include "opt.h"
#include "spool.h"
#include "xalloc.h"

/* The wagons after the ledger's last applied one (L) and up to the
 * checkpoint that the ledger does not know as applied: arg is
 * {checkpoint, count, seq...}. */
static void
lag_add(uint64_t **v, uint64_t seq)
{
	size_t n = (size_t)(*v)[1];

	for (size_t i = 0; i < n; i++)
		if ((*v)[2 + i] == seq)
			return;
	if ((*v = realloc(*v, (n + 3) * sizeof **v)) == NULL)
		die(EX_OSERR, "out of memory");
	(*v)[2 + n] = seq;
	(*v)[1] = n + 1;
}

static int
collect_lagging(uint64_t seq, json_t *w, void *arg)
{
	uint64_t **v = arg;
	const char *st = json_string_value(json_object_get(w, "state"));

	if (seq > (*v)[0])
		return 1;
	if (st != NULL &&
	    (strcmp(st, "received") == 0 || strcmp(st, "failed") == 0 ||
	        strcmp(st, "dead") == 0))
		lag_add(v, seq);
	return 0;
}

/* Brings the ledger and the inbox level with the checkpoint. */
static int
reconcile(struct applier *a)
{
	struct ledger_txn *t = NULL;
	uint64_t L = 0, *lag;
	char *v = NULL, buf[24];
	size_t n;
	int rc;

	if (a->cf->dry_run)
		return S_PROGRESS;
	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0 ||
	    (rc = ledger_meta_get(t, "last_applied_seq", &v)) != 0) {
		ledger_txn_abort(t);
		return ledger_fail(a, "the checkpoint", rc);
	}
	if (v != NULL && parse_u64(v, &L) != 0)
		L = 0;
	free(v);
	lag = xcalloc(2, sizeof *lag);
	lag[0] = a->cp.seq;
	if (L < a->cp.seq &&
	    (rc = ledger_wagon_foreach(t, L + 1, collect_lagging, &lag)) != 0 &&
	    rc != 1) {
		free(lag);
		ledger_txn_abort(t);
		return ledger_fail(a, "the checkpoint", rc);
	}
	/* ... and those still in new/: a crash came after their COMMIT and
	 * before the ledger (the move to cur/ comes last). */
	if (L < a->cp.seq) {
		char **names;
		size_t k;

		if (spool_list(a->cf->inbox, "new", &names, &k) == 0) {
			for (size_t i = 0; i < k; i++) {
				uint64_t s = wagon_name_seq(names[i]);

				if (s > L && s <= a->cp.seq)
					lag_add(&lag, s);
			}
			spool_list_free(names, k);
		}
	}
	n = (size_t)lag[1];
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *w = wrec(t, lag[2 + i], &rc);

		if (w == NULL)
			break;
		audit_wagon(0, lag[2 + i],
		    json_string_value(json_object_get(w, "state")), "applied",
		    "committed before a crash");
		json_object_set_new(w, "state", json_string("applied"));
		json_object_set_new(w, "applied_at", json_real(clock_wall()));
		json_object_del(w, "last_error");
		rc = put_with_ack(a, t, lag[2 + i], w, 1,
		    lag[2 + i] == a->cp.seq ? a->cp.last_gtid : NULL, NULL,
		    clock_wall());
		json_decref(w);
	}
	if (L > a->cp.seq)
		log_warn("the target's checkpoint is at wagon %" PRIu64 ", the "
		         "ledger says %" PRIu64
		         " were applied: the target lost "
		         "commits; applying again from %" PRIu64,
		    a->cp.seq, L, a->cp.seq + 1);
	snprintf(buf, sizeof buf, "%" PRIu64, a->cp.seq);
	if (rc == 0 && L != a->cp.seq)
		rc = ledger_meta_put(t, "last_applied_seq", buf);
	if ((rc = ledger_txn_end(t, rc)) != 0) {
		free(lag);
		return ledger_fail(a, "the checkpoint", rc);
	}
	if (n > 0)
		log_notice("recorded %zu wagon%s up to %" PRIu64 " as applied: "
		           "the target committed them before a crash",
		    n, n == 1 ? "" : "s", a->cp.seq);
	for (size_t i = 0; i < n; i++)
		acks_enqueue(a->acks, lag[2 + i]);
	free(lag);
	look_inbox(a, 0);
	return S_PROGRESS;
}

/* --skip SEQ: the checkpoint moves past wagon SEQ, which is not applied. */
static int
skip(struct applier *a)
{
	uint64_t s = a->cf->skip;
	char name[WAGON_NAME_LEN], path[PATH_MAX], msg[256];
	struct ledger_txn *t = NULL;
	json_t *w;
	int rc;

	a->skip_done = 1;
	if (flush_applied(a) == S_FATAL)
		return S_FATAL;
	if (s <= a->cp.seq) {
		log_notice("--skip %" PRIu64 ": the checkpoint is already at "
		           "%" PRIu64 ": nothing to skip",
		    s, a->cp.seq);
		return S_PROGRESS;
	}
	if (s != a->cp.seq + 1) {
		log_err("--skip %" PRIu64 ": only the next wagon, %" PRIu64 ", "
		        "can be skipped (the checkpoint is at %" PRIu64 ")",
		    s, a->cp.seq + 1, a->cp.seq);
		a->fatal = EX_USAGE;
		return S_FATAL;
	}
	snprintf(msg, sizeof msg,
	    "skipped by the operator (srdf-apply --skip "
	    "%" PRIu64 "): not applied",
	    s);
	if (a->cf->dry_run) {
		printf("-- wagon %" PRIu64 ": skipped (--skip)\n", s);
		db_commit_at(
		    &a->db, a->src, a->cp.seq, s, NULL, NULL, NULL, NULL, 0);
		a->cp.seq = s;
		a->next = s + 1;
		return S_PROGRESS;
	}
	if ((rc = db_commit_part(&a->db, a->src, a->cp.seq, a->cp.part, s, 0,
	         NULL, NULL, NULL, NULL, 0)) != DB_OK) {
		db_rollback(&a->db);
		log_err("--skip %" PRIu64 ": %s", s, a->db.err);
		if (rc == DB_GONE)
			return S_GONE;
		a->fatal = EX_UNAVAILABLE;
		return S_FATAL;
	}
	a->cp.seq = s;
	a->cp.part = 0;
	a->next = s + 1;
	if ((rc = ledger_txn_begin(a->l, 0, &t)) != 0 ||
	    (w = wrec(t, s, &rc)) == NULL) {
		ledger_txn_abort(t);
		return ledger_fail(a, "the skipped wagon", rc);
	}
	audit_wagon(AUDIT_OPERATOR, s,
	    json_string_value(json_object_get(w, "state")), "dead", "%s", msg);
	json_object_set_new(w, "state", json_string("dead"));
	json_object_set_new(w, "skipped", json_true());
	json_object_set_new(w, "skipped_at", json_real(clock_wall()));
	rc = put_with_ack(a, t, s, w, 0, NULL, msg, clock_wall());
	json_decref(w);
	snprintf(name, sizeof name, "%" PRIu64, s);
	if (rc == 0)
		rc = ledger_meta_put(t, "last_applied_seq", name);
	if ((rc = ledger_txn_end(t, rc)) != 0)
		return ledger_fail(a, "the skipped wagon", rc);
	acks_enqueue(a->acks, s);
	wagon_name(s, name);
	snprintf(path, sizeof path, "%s/new/%s", a->cf->inbox, name);
	if (access(path, F_OK) == 0)
		spool_bad(a->cf->inbox, "new", name, msg);
	log_warn("skipped wagon %" PRIu64 " at the operator's request: its "
	         "changes are NOT on the target",
	    s);
	if (a->fail.seq == s)
		a->fail.seq = 0;
	return S_PROGRESS;
}

/* Between the seconds of the apply lock's wait: ACKs go on, the
 * heartbeat says the process lives, a signal ends the wait. */
static int
lock_waiting(void *arg)
{
	struct applier *a = arg;

	acks_pump(a->acks);
	heartbeat_beat(0, NULL);
	return stopping;
}

/* At start and after every reconnection: the source id (the ledger's,
 * or the first wagon's, once), the checkpoint, reconcile, --skip. */
int
start_source(struct applier *a)
{
	char **names, err[512];
	size_t n;
	int rc;

	if (a->src[0] == '\0' && a->l != NULL) {
		struct ledger_txn *t = NULL;
		char *v = NULL;

		if (ledger_txn_begin(a->l, LEDGER_RDONLY, &t) == 0) {
			if (ledger_meta_get(t, "source_id", &v) == 0 &&
			    v != NULL && strlen(v) == 32)
				memcpy(a->src, v, 33);
			free(v);
			ledger_txn_abort(t);
		}
	}
	if (a->src[0] == '\0') {
		if (spool_list(a->cf->inbox, "new", &names, &n) != 0) {
			a->fatal = EX_IOERR;
			return S_FATAL;
		}
		for (size_t i = 0; i < n && a->src[0] == '\0'; i++) {
			struct wagon_header h;
			uint8_t *p;
			size_t len;

			if (wagon_name_seq(names[i]) == 0 ||
			    map_file(a->cf, "new", names[i], &p, &len, err,
			        sizeof err) != 0)
				continue;
			if (wagon_peek(p, len, &h, err, sizeof err) == 0)
				src_hex(h.source_id, a->src);
			munmap(p, len ? len : 1);
		}
		spool_list_free(names, n);
		if (a->src[0] == '\0')
			return S_IDLE;
		if (a->l != NULL) {
			struct ledger_txn *t = NULL;

			if ((rc = ledger_txn_begin(a->l, 0, &t)) == 0)
				rc = ledger_txn_end(
				    t, ledger_meta_put(t, "source_id", a->src));
			if (rc != 0)
				return ledger_fail(a, "the source id", rc);
		}
		audit_source(a->src);
		log_info("applying the wagons of source %s", a->src);
	}
	if ((rc = db_apply_lock(&a->db, a->src, APPLY_LOCK_WAIT_S, lock_waiting,
	         a)) != DB_OK ||
	    (rc = db_checkpoint_init(&a->db, a->src, &a->cp)) != DB_OK) {
		if (stopping)
			return S_IDLE;
		log_err("%s", a->db.err);
		if (rc == DB_GONE)
			return S_GONE;
		a->fatal = maria_exit_for(a->db.errnum);
		return S_FATAL;
	}
	if (!a->triggers_upgraded) {
		if ((rc = db_triggers_upgrade(&a->db)) == DB_GONE) {
			log_err("%s", a->db.err);
			return S_GONE;
		}
		if (rc != DB_OK)
			log_warn(
			    "%s: triggers that an earlier srdf-apply "
			    "guarded with @srdf_apply keep that guard, which "
			    "any session can set",
			    a->db.err);
		a->triggers_upgraded = 1;
	}
	a->next = a->cp.seq + 1;
	a->og.open = 0;
	if ((rc = db_xa_min(&a->db, a->src, &a->xa_min)) != DB_OK) {
		log_err("%s", a->db.err);
		if (rc == DB_GONE)
			return S_GONE;
		a->fatal = maria_exit_for(a->db.errnum);
		return S_FATAL;
	}
	if ((rc = reconcile(a)) != S_PROGRESS)
		return rc;
	if (a->cf->has_skip && !a->skip_done && (rc = skip(a)) != S_PROGRESS)
		return rc;
	log_info("target checkpoint: wagon %" PRIu64 "%s%s", a->cp.seq,
	    a->cp.last_gtid[0] ? ", GTID " : "", a->cp.last_gtid);
	if (a->cp.part > 0)
		log_info("target checkpoint: and the first %d transaction%s of "
		         "wagon %" PRIu64 " (a stop point, srdf.applied.part)",
		    a->cp.part, a->cp.part == 1 ? "" : "s", a->cp.seq + 1);
	a->ready = 1;
	if (!a->until_checked) {
		a->until_checked = 1;
		return until_start(a);
	}
	return S_PROGRESS;
}
