/* purge.c — see purge.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "clock.h"
#include "log.h"
#include "purge.h"
#include "wagon.h"

struct scan {
	struct purge *p;
	double cutoff;
	uint64_t seq[PURGE_BATCH];
	const char *state[PURGE_BATCH]; /* into p->states; NULL: marked */
	json_int_t bytes[PURGE_BATCH];
	json_int_t ev_in[PURGE_BATCH], ev_out[PURGE_BATCH];
	json_int_t attempts[PURGE_BATCH];
	uint64_t below;
	double last_ts; /* of the newest purged, when it says */
	char last_gtid[256];
	size_t n;
	int low_fixed;
};

static int
scan_one(uint64_t seq, json_t *w, void *arg)
{
	struct scan *sc = arg;
	const char *st;
	json_t *at;
	size_t i;

	if (seq >= sc->below)
		return 1;
	/* A record marked by an older srdf: its file went, it goes. */
	if (json_object_get(w, "purged_at") != NULL) {
		sc->state[sc->n] = NULL;
		sc->bytes[sc->n] = sc->ev_in[sc->n] = sc->ev_out[sc->n] = 0;
		sc->attempts[sc->n] = 0;
		sc->seq[sc->n++] = seq;
		return sc->n == PURGE_BATCH;
	}
	if (!sc->low_fixed)
		sc->p->low = seq;
	sc->low_fixed = 1;
	st = json_string_value(json_object_get(w, "state"));
	for (i = 0; st != NULL && sc->p->states[i] != NULL; i++)
		if (strcmp(st, sc->p->states[i]) == 0)
			break;
	if (st == NULL || sc->p->states[i] == NULL)
		return 0;
	at = json_object_get(w, sc->p->at);
	if (!json_is_number(at) || json_number_value(at) > sc->cutoff)
		return 0;
	sc->state[sc->n] = sc->p->states[i];
	sc->bytes[sc->n] =
	    json_integer_value(json_object_get(w, "wagon_bytes"));
	sc->ev_in[sc->n] = json_integer_value(json_object_get(w, "events_in"));
	sc->ev_out[sc->n] =
	    json_integer_value(json_object_get(w, "events_out"));
	sc->attempts[sc->n] =
	    json_integer_value(json_object_get(w, "attempts"));
	sc->seq[sc->n++] = seq;
	sc->last_ts = json_number_value(json_object_get(w, "last_ts"));
	snprintf(sc->last_gtid, sizeof sc->last_gtid, "%s",
	    json_string_value(json_object_get(w, "last_gtid"))
	        ? json_string_value(json_object_get(w, "last_gtid"))
	        : "");
	return sc->n == PURGE_BATCH;
}

/* Adds n to the meta counter key (decimal text; absent is 0). */
static int
count_add(struct ledger_txn *t, const char *key, json_int_t n)
{
	char *v = NULL, buf[32];
	long long cur = 0;
	int rc;

	if ((rc = ledger_meta_get(t, key, &v)) != 0)
		return rc;
	if (v != NULL)
		cur = strtoll(v, NULL, 10);
	free(v);
	snprintf(buf, sizeof buf, "%lld", cur + (long long)n);
	return ledger_meta_put(t, key, buf);
}

/* The sums over the records purged that srdf-status's counters need so
 * that they never go down (purge.h): row changes, attempts, retries (the
 * attempts after a wagon's first) and the wagons by state. */
static int
sums_add(struct ledger_txn *t, const struct scan *sc)
{
	json_int_t in = 0, out = 0, att = 0, retries = 0, n;
	char key[64];
	int rc;

	for (size_t i = 0; i < sc->n; i++) {
		in += sc->ev_in[i];
		out += sc->ev_out[i];
		att += sc->attempts[i];
		retries += sc->attempts[i] > 1 ? sc->attempts[i] - 1 : 0;
	}
	if ((rc = count_add(t, "purged_events_in", in)) != 0 ||
	    (rc = count_add(t, "purged_events_out", out)) != 0 ||
	    (rc = count_add(t, "purged_attempts", att)) != 0 ||
	    (rc = count_add(t, "purged_retries", retries)) != 0)
		return rc;
	for (size_t s = 0; sc->p->states[s] != NULL; s++) {
		n = 0;
		for (size_t i = 0; i < sc->n; i++)
			n += sc->state[i] == sc->p->states[s];
		snprintf(key, sizeof key, "purged_wagons_%s", sc->p->states[s]);
		if (n > 0 && (rc = count_add(t, key, n)) != 0)
			return rc;
	}
	return 0;
}

/* The newest wagon purged, for srdf-status's last stages and RPO:
 * meta purged_seq, purged_last_ts, purged_last_gtid. */
static int
newest_put(struct ledger_txn *t, const struct scan *sc)
{
	char buf[32], *v = NULL;
	uint64_t seq = 0;
	int rc;

	for (size_t i = 0; i < sc->n; i++)
		if (sc->state[i] != NULL && sc->seq[i] > seq)
			seq = sc->seq[i];
	if (seq == 0 || (rc = ledger_meta_get(t, "purged_seq", &v)) != 0)
		return seq == 0 ? 0 : rc;
	/* A later sweep may purge an older wagon (kept longer, confirmed
	 * later): the mark only moves up. */
	if (v != NULL && strtoull(v, NULL, 10) >= seq) {
		free(v);
		return 0;
	}
	free(v);
	snprintf(buf, sizeof buf, "%" PRIu64, seq);
	if ((rc = ledger_meta_put(t, "purged_seq", buf)) != 0)
		return rc;
	snprintf(buf, sizeof buf, "%.6f", sc->last_ts);
	if ((rc = ledger_meta_put(t, "purged_last_ts", buf)) != 0)
		return rc;
	return ledger_meta_put(
	    t, "purged_last_gtid", sc->last_gtid[0] ? sc->last_gtid : "-");
}

long
purge_sweep(struct purge *p)
{
	struct scan *sc;
	struct ledger_txn *t = NULL;
	char name[WAGON_NAME_LEN], path[PATH_MAX + 64];
	json_int_t bytes = 0;
	uint64_t last;
	size_t i;
	int rc, fd;
	long n = -1;

	if ((sc = calloc(1, sizeof *sc)) == NULL)
		return -1;
	sc->p = p;
	sc->cutoff = clock_wall() - (double)p->keep_ms / 1000.0;
	/* The newest record always stays: the next sequence is read from
	 * it (srdf-seal, srdf-recv). */
	if ((rc = ledger_txn_begin(p->l, LEDGER_RDONLY, &t)) == 0) {
		if ((rc = ledger_wagon_last_seq(t, &last)) == 0) {
			sc->below = p->below < last ? p->below : last;
			rc = ledger_wagon_foreach(t, p->low, scan_one, sc);
		}
		ledger_txn_abort(t);
		t = NULL;
	}
	if (rc != 0 && rc != 1)
		goto fail;
	if (sc->n == 0) {
		free(sc);
		return 0;
	}
	for (i = 0; i < sc->n; i++) {
		wagon_name(sc->seq[i], name);
		snprintf(path, sizeof path, "%s/%s", p->dir, name);
		if (unlink(path) != 0 && errno != ENOENT) {
			log_err("cannot remove %s: %s", path, strerror(errno));
			sc->n = i;
			break;
		}
	}
	if ((fd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd) != 0)
			log_warn(
			    "cannot fsync %s: %s", p->dir, strerror(errno));
		close(fd);
	}
	t = NULL;
	if ((rc = ledger_txn_begin(p->l, 0, &t)) != 0 ||
	    (rc = count_add(t, "purged_wagons", (json_int_t)sc->n)) != 0)
		goto fail;
	for (i = 0; i < sc->n; i++) {
		bytes += sc->bytes[i];
		if ((rc = ledger_wagon_del(t, sc->seq[i])) != 0)
			goto fail;
	}
	if ((rc = count_add(t, "purged_bytes", bytes)) != 0 ||
	    (rc = sums_add(t, sc)) != 0 || (rc = newest_put(t, sc)) != 0)
		goto fail;
	rc = ledger_txn_commit(t);
	t = NULL;
	if (rc != 0)
		goto fail;
	for (i = 0; i < sc->n; i++)
		if (sc->state[i] != NULL)
			audit_wagon(0, sc->seq[i], sc->state[i], sc->state[i],
			    "%s", p->why);
	if (sc->n > 0)
		log_info("purged %zu wagons from %s (%" PRIu64 "..%" PRIu64
		         "): %s",
		    sc->n, p->dir, sc->seq[0], sc->seq[sc->n - 1], p->why);
	n = (long)sc->n;
	free(sc);
	return n;
fail:
	ledger_txn_abort(t);
	log_err("purge of %s: ledger: %s", p->dir, ledger_strerror(rc));
	free(sc);
	return -1;
}
